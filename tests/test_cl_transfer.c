/*
 * test_cl_transfer.c: the network of KV transfers (cl_transfer.c) against
 * times worked out by hand:
 * - a transfer alone takes latency + descriptors x cost + bytes / rate;
 * - two transfers into one receiving NIC, started together, each take twice
 *   the time of one alone (the bandwidth is divided between them);
 * - one that starts halfway through another slows it down from then on, and
 *   speeds up when the other ends (re-timing; stale events are ignored);
 * - transfers on different NICs do not slow each other, unless they share
 *   a fabric;
 * - the bytes each link carried add up to the bytes moved;
 * - link classes and their defaults, and the spec's range checks.
 */
#include <math.h>
#include <string.h>

#include "cl_internal.h"
#include "sim_queue.h"
#include "ss_test.h"

/* Runs a network's events to completion; end[id] receives each transfer's
 * end. Starts listed as (time, src, dst, bytes, descriptors) are applied
 * when the clock reaches them. */
typedef struct {
    SimTime at;
    guint src, dst;
    double bytes;
    uint64_t desc;
} Start;

static void run(ClNet *net, const Start *starts, guint n, SimTime *end)
{
    SimQueue *q = sim_queue_new();
    for (guint i = 0; i < n; i++)
        sim_queue_push(q, starts[i].at, 1, i);
    uint32_t ids[16];
    SimEvent ev;
    while (sim_queue_pop(q, &ev)) {
        if (ev.kind == 1) {
            const Start *s = &starts[ev.data];
            ids[ev.data] = cl_net_start(net, ev.time, s->src, s->dst, s->bytes, s->desc, 0);
        } else if (cl_net_handle(net, ev.time, (uint32_t)ev.data, (uint32_t)(ev.data >> 32))) {
            for (guint i = 0; i < n; i++)
                if (ids[i] == (uint32_t)ev.data)
                    end[i] = ev.time;
        }
        guint ne;
        const ClNetEvent *e = cl_net_events(net, &ne);
        for (guint k = 0; k < ne; k++)
            sim_queue_push(q, e[k].time, 2, (uint64_t)e[k].id | ((uint64_t)e[k].version << 32));
    }
    CU_ASSERT_EQUAL(cl_net_active(net), 0);
    sim_queue_free(q);
}

/* 8 Gb/s at efficiency 1 is 1 byte per ns: times are bytes. */
static ClNet *net_of(double gbps, double fabric, double latency_ms, double desc_us, guint n)
{
    ClTransferSpec t;
    cl_transfer_spec_init(&t);
    t.bandwidth_gbps = gbps;
    t.efficiency = 1;
    t.fabric_gbps = fabric;
    t.latency_ms = latency_ms;
    t.per_descriptor_us = desc_us;
    ClTransferSpec r;
    cl_transfer_spec_resolve(&t, &r);
    return cl_net_new(&r, n);
}

static void test_alone(void)
{
    ClNet *net = net_of(8, 0, 0.5, 3.5, 2);
    Start s[] = {{1000, 0, 1, 1e6, 100}};
    SimTime end[1] = {0};
    run(net, s, 1, end);
    /* 0.5 ms + 100 x 3.5 us + 1e6 bytes at 1 byte/ns */
    CU_ASSERT_EQUAL(end[0], 1000 + 500000 + 350000 + 1000000);
    double sent, received;
    cl_net_endpoint_bytes(net, 0, &sent, &received);
    CU_ASSERT_DOUBLE_EQUAL(sent, 1e6, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(received, 0, 1e-9);
    cl_net_endpoint_bytes(net, 1, &sent, &received);
    CU_ASSERT_DOUBLE_EQUAL(received, 1e6, 1e-3);
    cl_net_free(net);
}

static void test_two_share_a_link(void)
{
    /* one alone */
    ClNet *net = net_of(8, 0, 0, 0, 3);
    Start one[] = {{0, 0, 2, 4e6, 0}};
    SimTime end1[1];
    run(net, one, 1, end1);
    cl_net_free(net);
    /* two from different senders into one receiver, together */
    net = net_of(8, 0, 0, 0, 3);
    Start two[] = {{0, 0, 2, 4e6, 0}, {0, 1, 2, 4e6, 0}};
    SimTime end2[2];
    run(net, two, 2, end2);
    CU_ASSERT_EQUAL(end1[0], 4000000);
    CU_ASSERT_EQUAL(end2[0], 8000000);
    CU_ASSERT_EQUAL(end2[1], 8000000);
    CU_ASSERT_DOUBLE_EQUAL((double)end2[0] / end1[0], 2.0, 1e-9);
    cl_net_free(net);
    /* two from one sender to different receivers: its NIC is shared too */
    net = net_of(8, 0, 0, 0, 3);
    Start fan[] = {{0, 0, 1, 4e6, 0}, {0, 0, 2, 4e6, 0}};
    run(net, fan, 2, end2);
    CU_ASSERT_EQUAL(end2[0], 8000000);
    CU_ASSERT_EQUAL(end2[1], 8000000);
    cl_net_free(net);
}

static void test_retiming(void)
{
    /* X = 4e6 bytes at 1 byte/ns; the second starts at X/2: the first has
     * X/2 left at half the rate (ends at 1.5 X), the second then has X/2
     * left alone (ends at 2 X) */
    ClNet *net = net_of(8, 0, 0, 0, 3);
    Start s[] = {{0, 0, 2, 4e6, 0}, {2000000, 1, 2, 4e6, 0}};
    SimTime end[2];
    run(net, s, 2, end);
    CU_ASSERT_EQUAL(end[0], 6000000);
    CU_ASSERT_EQUAL(end[1], 8000000);
    cl_net_free(net);
}

static void test_disjoint_and_fabric(void)
{
    ClNet *net = net_of(8, 0, 0, 0, 4);
    Start s[] = {{0, 0, 1, 4e6, 0}, {0, 2, 3, 4e6, 0}};
    SimTime end[2];
    run(net, s, 2, end);
    CU_ASSERT_EQUAL(end[0], 4000000); /* non-blocking: no sharing */
    CU_ASSERT_EQUAL(end[1], 4000000);
    cl_net_free(net);
    /* a fabric of the NICs' bandwidth: the two share it */
    net = net_of(8, 8, 0, 0, 4);
    run(net, s, 2, end);
    CU_ASSERT_EQUAL(end[0], 8000000);
    CU_ASSERT_EQUAL(end[1], 8000000);
    CU_ASSERT_DOUBLE_EQUAL(cl_net_fabric_bytes(net), 8e6, 1e-2);
    cl_net_free(net);
}

static void test_many_conserve_bytes(void)
{
    ClNet *net = net_of(100, 150, 0.1, 2, 6);
    Start s[8];
    double total = 0;
    for (guint i = 0; i < 8; i++) {
        s[i] = (Start){(SimTime)i * 137000, i % 3, 3 + i % 3, 1e6 * (1 + i), 10 * i};
        total += s[i].bytes;
    }
    SimTime end[8];
    run(net, s, 8, end);
    double sent = 0, received = 0;
    for (guint e = 0; e < 6; e++) {
        double a, b;
        cl_net_endpoint_bytes(net, e, &a, &b);
        sent += a;
        received += b;
    }
    CU_ASSERT_DOUBLE_EQUAL(sent, total, 1.0);
    CU_ASSERT_DOUBLE_EQUAL(received, total, 1.0);
    for (guint i = 0; i < 8; i++) {
        /* never faster than alone on its link */
        SimTime alone = (SimTime)(0.1e6 + 10 * i * 2e3 + s[i].bytes / (100.0 / 8.0));
        CU_ASSERT(end[i] >= s[i].at + alone - 1);
    }
    cl_net_free(net);
}

static void test_classes_and_checks(void)
{
    ClLinkClass c;
    CU_ASSERT(cl_link_class_from_name("rdma-200", &c) && c == CL_LINK_RDMA_200);
    CU_ASSERT(cl_link_class_from_name("NVLink", &c) && c == CL_LINK_NVLINK);
    CU_ASSERT(!cl_link_class_from_name("carrier-pigeon", &c));
    for (guint i = 0; i < CL_LINK_N; i++) {
        ClTransferSpec t, r;
        cl_transfer_spec_init(&t);
        t.link = (ClLinkClass)i;
        cl_transfer_spec_resolve(&t, &r);
        CU_ASSERT(r.bandwidth_gbps > 0 && r.efficiency > 0 && r.efficiency <= 1 && r.latency_ms >= 0 &&
                  r.per_descriptor_us >= 0);
        CU_ASSERT(cl_transfer_spec_validate(&t, "t", "transfer", NULL));
    }
    ClTransferSpec t;
    cl_transfer_spec_init(&t);
    t.bandwidth_gbps = 0;
    GError *error = NULL;
    CU_ASSERT(!cl_transfer_spec_validate(&t, "s.json", "fleet.disaggregation.transfer", &error));
    SS_ASSERT_CONTAINS(error ? error->message : NULL, "bandwidth_gbps");
    g_clear_error(&error);
    cl_transfer_spec_init(&t);
    t.efficiency = 1.5;
    CU_ASSERT(!cl_transfer_spec_validate(&t, "s.json", "x", &error));
    g_clear_error(&error);
}

static const SsTestCase cases[] = {
    {"a transfer alone: latency + descriptors + bytes / rate", test_alone},
    {"two transfers on one link take twice as long", test_two_share_a_link},
    {"re-timing when a transfer starts and ends", test_retiming},
    {"disjoint NICs do not share; a fabric does", test_disjoint_and_fabric},
    {"bytes carried add up; never faster than alone", test_many_conserve_bytes},
    {"link classes and range checks", test_classes_and_checks},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const SsTestSuite suites[] = {{"cl_transfer", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
