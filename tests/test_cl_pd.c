/*
 * test_cl_pd.c: disaggregated prefill and decode in whole fleets.
 *
 * - 2 prefill + 2 decode replicas run; every request completes on a decode
 *   replica after a transfer;
 * - a lone transfer takes exactly the model's time (latency + descriptors +
 *   bytes / bandwidth), so TTFT rises with the KV of a request and falls
 *   with the link's bandwidth;
 * - two transfers into one decode replica at once take twice as long as one;
 * - causality: a decode replica never schedules a request before its KV has
 *   arrived; the prefill replica holds the request's blocks from the end of
 *   its prefill until its transfer ends, and not after;
 * - conservation after every step (per replica: arrived = completed + handed
 *   off + rejected + in flight; KV blocks used + free = total, the
 *   scheduler's invariants) and at the end fleet-wide, also when a time
 *   limit stops the run between stages;
 * - the deciders (prompt length, prefix miss), layer-wise streaming;
 * - the same scenario twice gives the same bytes;
 * - the engine options (priority, FP8 KV, speculation, CPU offload, LoRA)
 *   on a disaggregated fleet;
 * - bad configurations get clear errors.
 */
#include <math.h>
#include <string.h>

#include "scn.h"
#include "ss_error.h"
#include "ss_test.h"

static ScnScenario *scenario_from(const char *json)
{
    GError *error = NULL;
    ScnScenario *s = scn_scenario_parse(json, "test.json", ss_test_source_dir(), &error);
    if (!s)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    return s;
}

/* A fleet of `np` prefill and `nd` decode replicas of Llama-3.1-8B on H100
 * with `fleet_extra` (JSON members after the pools) and `workload`. */
static char *pd_json(guint np, guint nd, const char *fleet_extra, const char *workload, const char *top)
{
    return g_strdup_printf("{\"model\": \"llama-3.1-8b\", \"hardware\": \"H100-SXM\", %s"
                           " \"fleet\": {\"pools\": [{\"name\": \"p\", \"role\": \"prefill\", \"count\": %u},"
                           " {\"name\": \"d\", \"role\": \"decode\", \"count\": %u}]%s%s},"
                           " \"workload\": %s}",
                           top ? top : "", np, nd, fleet_extra ? ", " : "", fleet_extra ? fleet_extra : "", workload);
}

/* --------------------------------------------------------------- hooks -- */

typedef struct {
    guint num_prefill;           /* replicas below this index are prefill replicas */
    uint64_t steps, failures;
    SimTime *last_end;
    GHashTable *decode_first;    /* request id -> first step start on a decode replica (ns) */
    GArray *held;                /* (time, replica, id) of each held request at each prefill step end */
} Hooks;

typedef struct {
    SimTime t;
    guint replica;
    uint64_t id;
} Held;

static void step_hook(const SimStepInfo *info, void *user)
{
    Hooks *h = user;
    h->steps++;
    char *why = NULL;
    if (!sched_check_invariants(info->sched, &why)) {
        if (h->failures++ < 3)
            fprintf(stderr, "\n  replica %u: %s\n", info->replica, why);
    }
    g_free(why);
    const SchedKvPool *pool = sched_kv_pool(info->sched);
    if (sched_kv_pool_num_used(pool) + sched_kv_pool_num_free(pool) != sched_kv_pool_num_blocks(pool))
        h->failures++;
    if (info->start < h->last_end[info->replica] || info->end <= info->start)
        h->failures++; /* time never runs backwards on a replica */
    h->last_end[info->replica] = info->end;
    uint64_t in_flight = sched_num_running(info->sched) + sched_num_waiting(info->sched) + info->deferred +
                         info->remote_waiting;
    if (info->arrived != info->completed + info->handed_off + info->rejected + in_flight) {
        if (h->failures++ < 3)
            fprintf(stderr, "\n  replica %u: arrived %" G_GUINT64_FORMAT " != completed %" G_GUINT64_FORMAT
                            " + handed off %" G_GUINT64_FORMAT " + rejected %" G_GUINT64_FORMAT " + in flight %"
                            G_GUINT64_FORMAT "\n",
                    info->replica, info->arrived, info->completed, info->handed_off, info->rejected, in_flight);
    }
    if (info->replica >= h->num_prefill) {
        for (uint32_t i = 0; i < info->step->num_reqs; i++) {
            gint64 id = (gint64)info->step->reqs[i]->id;
            if (!g_hash_table_contains(h->decode_first, &id))
                g_hash_table_insert(h->decode_first, g_memdup2(&id, sizeof id), g_memdup2(&info->start, sizeof(SimTime)));
        }
    } else if (h->held) {
        for (uint32_t i = 0; i < sched_num_held(info->sched); i++) {
            Held x = {info->end, info->replica, sched_held_at(info->sched, i)->id};
            g_array_append_val(h->held, x);
        }
    }
}

static void hooks_init(Hooks *h, guint num_prefill, guint n)
{
    memset(h, 0, sizeof *h);
    h->num_prefill = num_prefill;
    h->last_end = g_new0(SimTime, n);
    h->decode_first = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    h->held = g_array_new(FALSE, FALSE, sizeof(Held));
}

static void hooks_clear(Hooks *h)
{
    g_free(h->last_end);
    g_hash_table_destroy(h->decode_first);
    g_array_free(h->held, TRUE);
}

/* Runs a scenario with the hooks (h may be NULL) and the transfers CSV
 * written to `transfers` (may be NULL). */
static ClResult *run(const ScnScenario *s, ScnCache *cache, Hooks *h, const char *transfers, const char *requests)
{
    ScnOutputs out = {.step_hook = h ? step_hook : NULL, .hook_user = h, .transfers_csv = transfers,
                      .requests_csv = requests};
    GError *error = NULL;
    ClResult *res = scn_run_fleet(s, cache, &out, NULL, &error);
    if (!res)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    return res;
}

static void check_conservation(const ClResult *res)
{
    const SimSummary *s = res->summary;
    const SimClassSummary *a = &s->all;
    CU_ASSERT_EQUAL(a->arrived, a->completed + a->rejected + a->in_flight);
    uint64_t completed = 0;
    for (guint r = 0; r < s->num_replicas; r++) {
        const SimReplicaSummary *rs = &s->replicas[r];
        CU_ASSERT_EQUAL(rs->arrived, rs->completed + rs->handed_off + rs->rejected + rs->in_flight);
        completed += rs->completed;
    }
    CU_ASSERT_EQUAL(completed, a->completed);
    if (res->pools) {
        uint64_t pc = 0;
        for (guint p = 0; p < res->num_pools; p++)
            pc += res->pools[p].completed;
        CU_ASSERT_EQUAL(pc, a->completed);
    }
}

/* ------------------------------------------------------------- tests -- */

static const char *const chat =
    "{\"num_requests\": 600, \"arrival\": {\"process\": \"poisson\", \"rate\": 25},"
    " \"classes\": [{\"name\": \"chat\", \"share\": 1,"
    " \"input\": {\"dist\": \"lognormal\", \"mean\": 1500, \"stddev\": 1200, \"min\": 1, \"max\": 12000},"
    " \"output\": {\"dist\": \"lognormal\", \"mean\": 150, \"stddev\": 120, \"min\": 1, \"max\": 1000}}]}";

static void test_runs_and_conserves(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *json = pd_json(2, 2, "\"router\": \"least-outstanding\"", chat, NULL);
    ScnScenario *s = scenario_from(json);
    Hooks h;
    hooks_init(&h, 2, 4);
    ClResult *res = run(s, cache, &h, NULL, NULL);
    CU_ASSERT_EQUAL(h.failures, 0);
    CU_ASSERT(h.steps > 500);
    const SimSummary *sum = res->summary;
    CU_ASSERT_EQUAL(sum->all.completed, 600);
    CU_ASSERT_EQUAL(sum->all.in_flight, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res->pd);
    CU_ASSERT_EQUAL(res->pd->disaggregated, 600);
    CU_ASSERT_EQUAL(res->pd->transfers, 600);
    CU_ASSERT_EQUAL(res->pd->whole, 0);
    /* prefill replicas hand off, decode replicas complete */
    CU_ASSERT_EQUAL(sum->replicas[0].completed + sum->replicas[1].completed, 0);
    CU_ASSERT_EQUAL(sum->replicas[0].handed_off + sum->replicas[1].handed_off, 600);
    CU_ASSERT_EQUAL(sum->replicas[2].completed + sum->replicas[3].completed, 600);
    CU_ASSERT(res->pd->transfer_ms.mean > 0 && res->pd->kv_wait_ms.mean >= res->pd->transfer_ms.mean);
    check_conservation(res);
    cl_result_free(res);
    hooks_clear(&h);
    scn_scenario_free(s);
    g_free(json);
}

/* One request at a time (constant arrivals far apart): no contention. */
static char *lone_json(guint prompt, double gbps, const char *extra)
{
    char *work = g_strdup_printf("{\"num_requests\": 6, \"arrival\": {\"process\": \"constant\", \"rate\": 0.5},"
                                 " \"input\": {\"dist\": \"constant\", \"value\": %u},"
                                 " \"output\": {\"dist\": \"constant\", \"value\": 4}}",
                                 prompt);
    char *fl = g_strdup_printf("\"disaggregation\": {\"transfer\": {\"link\": \"rdma-400\", \"bandwidth_gbps\": %g,"
                               " \"efficiency\": 1, \"latency_ms\": 0.5, \"per_descriptor_us\": 3.5%s}}",
                               gbps, extra ? extra : "");
    char *json = pd_json(1, 1, fl, work, NULL);
    g_free(work);
    g_free(fl);
    return json;
}

static void test_transfer_time_ttft(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    /* Llama-3.1-8B at TP 1: 32 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes = 131072 bytes per token */
    const double per_token = 131072;
    guint prompts[] = {512, 2048, 8192};
    double ttft[3], overhead[3];
    for (guint i = 0; i < 3; i++) {
        char *json = lone_json(prompts[i], 100, NULL);
        ScnScenario *s = scenario_from(json);
        ClResult *res = run(s, cache, NULL, NULL, NULL);
        double bytes = prompts[i] * per_token;
        double desc = ceil(prompts[i] / 16.0) * 32 * 2;
        double want = 0.5 + desc * 3.5e-3 + bytes * 8 / 100e9 * 1e3;
        CU_ASSERT_EQUAL(res->pd->transfers, 6);
        CU_ASSERT_DOUBLE_EQUAL(res->pd->transfer_mb.mean, bytes / 1e6, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(res->pd->transfer_ms.max, want, 2e-6);
        CU_ASSERT_DOUBLE_EQUAL(res->pd->transfer_ms.mean, want, 2e-6);
        ttft[i] = res->summary->all.ttft_ms.mean;
        /* the same requests on one co-located replica: what disaggregation adds to TTFT */
        ScnScenario *co = scn_scenario_copy(s);
        GError *error = NULL;
        CU_ASSERT(scn_scenario_set(co, "fleet", "{\"replicas\": 1}", "test", &error));
        ClResult *cres = run(co, cache, NULL, NULL, NULL);
        overhead[i] = ttft[i] - cres->summary->all.ttft_ms.mean;
        CU_ASSERT(overhead[i] > want); /* the transfer, and more (handoff, one more step) */
        cl_result_free(cres);
        scn_scenario_free(co);
        cl_result_free(res);
        scn_scenario_free(s);
        g_free(json);
    }
    CU_ASSERT(ttft[0] < ttft[1] && ttft[1] < ttft[2]);
    CU_ASSERT(overhead[0] < overhead[1] && overhead[1] < overhead[2]);
    /* TTFT falls with the link's bandwidth */
    double gbps[] = {25, 100, 400}, t[3];
    for (guint i = 0; i < 3; i++) {
        char *json = lone_json(4096, gbps[i], NULL);
        ScnScenario *s = scenario_from(json);
        ClResult *res = run(s, cache, NULL, NULL, NULL);
        t[i] = res->summary->all.ttft_ms.mean;
        double want = 0.5 + ceil(4096 / 16.0) * 64 * 3.5e-3 + 4096 * per_token * 8 / (gbps[i] * 1e9) * 1e3;
        CU_ASSERT_DOUBLE_EQUAL(res->pd->transfer_ms.mean, want, 2e-6);
        cl_result_free(res);
        scn_scenario_free(s);
        g_free(json);
    }
    CU_ASSERT(t[0] > t[1] && t[1] > t[2]);
    /* the data part alone: 4096 tokens at 25 Gb/s take 4 x longer than at 100 */
    CU_ASSERT(t[0] - t[1] > 3 * 4096 * per_token * 8 / 100e9 * 1e3 * 0.99);
}

static void test_two_transfers_twice_as_long(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    double ms[2];
    for (guint pairs = 1; pairs <= 2; pairs++) {
        /* `pairs` identical requests at once to `pairs` prefill replicas, one decode replica */
        char *work = g_strdup_printf("{\"num_requests\": %u, \"arrival\": {\"process\": \"constant\", \"rate\": 1e9},"
                                     " \"input\": {\"dist\": \"constant\", \"value\": 6000},"
                                     " \"output\": {\"dist\": \"constant\", \"value\": 2}}",
                                     pairs);
        const char *fl = "\"router\": \"round-robin\", \"disaggregation\": {\"transfer\": {\"link\": \"rdma-200\","
                         " \"latency_ms\": 0, \"per_descriptor_us\": 0}}";
        char *json = pd_json(pairs, 1, fl, work, NULL);
        ScnScenario *s = scenario_from(json);
        ClResult *res = run(s, cache, NULL, NULL, NULL);
        CU_ASSERT_EQUAL(res->pd->transfers, pairs);
        ms[pairs - 1] = res->pd->transfer_ms.mean;
        if (pairs == 2) /* both together: equal times */
            CU_ASSERT_DOUBLE_EQUAL(res->pd->transfer_ms.max, res->pd->transfer_ms.p50, 1e-6);
        cl_result_free(res);
        scn_scenario_free(s);
        g_free(json);
        g_free(work);
    }
    CU_ASSERT(ms[0] > 1);
    CU_ASSERT_DOUBLE_EQUAL(ms[1] / ms[0], 2.0, 0.01);
}

/* Rows of the transfers CSV by request id: prefill end, transfer end, first token (ns). */
typedef struct {
    SimTime prefill_end, xfer_end, first_token;
    guint prefill_replica;
    guint prompt;
} Row;

static GHashTable *read_transfers(const char *path)
{
    GPtrArray *rows = ss_test_read_csv(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
    GHashTable *t = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    char **head = g_ptr_array_index(rows, 0);
    int col[16];
    const char *want[] = {"id", "prefill_replica", "prefill_end_s", "transfer_end_s", "first_token_s", "prompt_tokens"};
    for (guint k = 0; k < G_N_ELEMENTS(want); k++) {
        col[k] = -1;
        for (int c = 0; head[c]; c++)
            if (strcmp(head[c], want[k]) == 0)
                col[k] = c;
        CU_ASSERT_FATAL(col[k] >= 0);
    }
    for (guint i = 1; i < rows->len; i++) {
        char **r = g_ptr_array_index(rows, i);
        gint64 id = g_ascii_strtoll(r[col[0]], NULL, 10);
        Row x = {.prefill_replica = (guint)g_ascii_strtoull(r[col[1]], NULL, 10),
                 .prefill_end = sim_time_from_seconds(g_ascii_strtod(r[col[2]], NULL)),
                 .xfer_end = sim_time_from_seconds(g_ascii_strtod(r[col[3]], NULL)),
                 .first_token = sim_time_from_seconds(g_ascii_strtod(r[col[4]], NULL)),
                 .prompt = (guint)g_ascii_strtoull(r[col[5]], NULL, 10)};
        g_hash_table_insert(t, g_memdup2(&id, sizeof id), g_memdup2(&x, sizeof x));
    }
    g_ptr_array_unref(rows);
    return t;
}

static void test_causality_and_held_blocks(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *dir = ss_test_tmpdir();
    char *path = g_build_filename(dir, "transfers.csv", NULL);
    /* synchronous scheduling: the times in the CSV are the steps' own (microsecond rounding aside) */
    for (int async = 0; async <= 1; async++) {
        char *top = g_strdup_printf("\"engine\": {\"async_scheduling\": %s},", async ? "true" : "false");
        char *json = pd_json(2, 2, "\"router\": \"round-robin\", \"disaggregation\": {\"transfer\": \"tcp-25\"}",
                             chat, top);
        ScnScenario *s = scenario_from(json);
        Hooks h;
        hooks_init(&h, 2, 4);
        ClResult *res = run(s, cache, &h, path, NULL);
        CU_ASSERT_EQUAL(h.failures, 0);
        check_conservation(res);
        GHashTable *rows = read_transfers(path);
        CU_ASSERT_EQUAL(g_hash_table_size(rows), 600);
        const SimTime us = 1000; /* the CSV's rounding */
        /* a decode replica schedules a request only after its KV arrived */
        GHashTableIter it;
        gpointer k, v;
        guint checked = 0, early = 0;
        g_hash_table_iter_init(&it, h.decode_first);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            const Row *r = g_hash_table_lookup(rows, k);
            CU_ASSERT_PTR_NOT_NULL_FATAL(r);
            SimTime first = *(SimTime *)v;
            early += first + us < r->xfer_end;
            checked++;
            CU_ASSERT(r->first_token > r->xfer_end);
            CU_ASSERT(r->xfer_end > r->prefill_end);
        }
        CU_ASSERT_EQUAL(checked, 600);
        CU_ASSERT_EQUAL(early, 0);
        /* the prefill replica holds a request's blocks from the end of its
         * prefill until its transfer ends, and not after */
        GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
        guint late = 0;
        for (guint i = 0; i < h.held->len; i++) {
            const Held *x = &g_array_index(h.held, Held, i);
            gint64 id = (gint64)x->id;
            const Row *r = g_hash_table_lookup(rows, &id);
            CU_ASSERT_PTR_NOT_NULL_FATAL(r);
            CU_ASSERT_EQUAL(x->replica, r->prefill_replica);
            late += x->t > r->xfer_end + us || x->t + us < r->prefill_end;
            g_hash_table_add(seen, GINT_TO_POINTER((gint)(i < G_MAXINT ? 1 : 0)));
        }
        CU_ASSERT_EQUAL(late, 0);
        CU_ASSERT(h.held->len > 600); /* held across several prefill steps on average (a slow link) */
        /* and every prefill step end between a request's prefill end and its transfer end saw it held */
        guint missing = 0, windows = 0;
        GHashTable *held_at = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (guint i = 0; i < h.held->len; i++) {
            const Held *x = &g_array_index(h.held, Held, i);
            g_hash_table_add(held_at, g_strdup_printf("%" G_GUINT64_FORMAT "/%u/%" G_GUINT64_FORMAT, x->t, x->replica,
                                                      x->id));
        }
        /* the prefill steps' end times, per replica */
        GArray *ends[2] = {g_array_new(FALSE, FALSE, sizeof(SimTime)), g_array_new(FALSE, FALSE, sizeof(SimTime))};
        for (guint i = 0; i < h.held->len; i++) {
            const Held *x = &g_array_index(h.held, Held, i);
            if (ends[x->replica]->len == 0 || g_array_index(ends[x->replica], SimTime, ends[x->replica]->len - 1) != x->t)
                g_array_append_val(ends[x->replica], x->t);
        }
        g_hash_table_iter_init(&it, rows);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            const Row *r = v;
            GArray *e = ends[r->prefill_replica];
            for (guint j = 0; j < e->len; j++) {
                SimTime t = g_array_index(e, SimTime, j);
                if (t <= r->prefill_end + us || t + us >= r->xfer_end)
                    continue; /* the boundaries are within the CSV's rounding */
                windows++;
                char *key = g_strdup_printf("%" G_GUINT64_FORMAT "/%u/%" G_GUINT64_FORMAT, t, r->prefill_replica,
                                            (guint64) * (gint64 *)k);
                missing += !g_hash_table_contains(held_at, key);
                g_free(key);
            }
        }
        CU_ASSERT(windows > 0);
        CU_ASSERT_EQUAL(missing, 0);
        g_array_free(ends[0], TRUE);
        g_array_free(ends[1], TRUE);
        g_hash_table_destroy(held_at);
        g_hash_table_destroy(seen);
        g_hash_table_destroy(rows);
        cl_result_free(res);
        hooks_clear(&h);
        scn_scenario_free(s);
        g_free(json);
        g_free(top);
    }
    g_free(path);
    g_free(dir);
}

static void test_time_limit(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    /* stopped at many points: requests are on prefill replicas, between
     * stages, in transit, loading and decoding */
    for (int k = 0; k < 6; k++) {
        char *top = g_strdup_printf("\"max_time_s\": %g,", 3.0 + 2.3 * k);
        const char *fl = k % 2 ? "\"router\": {\"policy\": \"least-outstanding\", \"latency_ms\": 2},"
                                 " \"disaggregation\": {\"decode_pick\": \"handoff\", \"transfer\": \"tcp-25\"}"
                               : "\"router\": \"round-robin\", \"disaggregation\": {\"transfer\": {\"link\": \"rdma-200\","
                                 " \"layerwise\": true}}";
        char *json = pd_json(2, 3, fl, chat, top);
        ScnScenario *s = scenario_from(json);
        Hooks h;
        hooks_init(&h, 2, 5);
        char *dir = ss_test_tmpdir();
        char *req = g_build_filename(dir, "requests.csv", NULL);
        ClResult *res = run(s, cache, &h, NULL, req);
        CU_ASSERT_EQUAL(h.failures, 0);
        CU_ASSERT(res->summary->stopped_at_limit);
        CU_ASSERT(res->summary->all.in_flight > 0);
        check_conservation(res);
        /* one row per request that arrived */
        GPtrArray *rows = ss_test_read_csv(req);
        CU_ASSERT_EQUAL(rows->len - 1, res->summary->all.arrived);
        g_ptr_array_unref(rows);
        cl_result_free(res);
        hooks_clear(&h);
        scn_scenario_free(s);
        g_free(json);
        g_free(top);
        g_free(req);
        g_free(dir);
    }
}

static void test_deciders(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *dir = ss_test_tmpdir();
    char *path = g_build_filename(dir, "t.csv", NULL);
    const char *work = "{\"num_requests\": 400, \"arrival\": {\"process\": \"poisson\", \"rate\": 10},"
                       " \"input\": {\"dist\": \"uniform\", \"min\": 100, \"max\": 3000},"
                       " \"output\": {\"dist\": \"constant\", \"value\": 20}}";
    char *json = pd_json(1, 2, "\"disaggregation\": {\"decider\": \"prompt-length\", \"threshold_tokens\": 1000}",
                         work, NULL);
    ScnScenario *s = scenario_from(json);
    ClResult *res = run(s, cache, NULL, path, NULL);
    CU_ASSERT(res->pd->whole > 50 && res->pd->disaggregated > 50);
    CU_ASSERT_EQUAL(res->pd->whole + res->pd->disaggregated, 400);
    GHashTable *rows = read_transfers(path);
    CU_ASSERT_EQUAL(g_hash_table_size(rows), res->pd->disaggregated);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, rows);
    while (g_hash_table_iter_next(&it, &k, &v))
        CU_ASSERT(((Row *)v)->prompt >= 1000);
    check_conservation(res);
    g_hash_table_destroy(rows);
    cl_result_free(res);
    scn_scenario_free(s);
    g_free(json);
    /* prefix miss: prompts of a 2048-token shared prefix and 200 tokens of their
     * own; once a decode replica holds the prefix (as the router knows), only
     * 200 tokens are missed there: the first requests are disaggregated */
    const char *shared = "{\"num_requests\": 300, \"arrival\": {\"process\": \"poisson\", \"rate\": 10},"
                         " \"input\": {\"dist\": \"constant\", \"value\": 200},"
                         " \"output\": {\"dist\": \"constant\", \"value\": 20},"
                         " \"prefix\": {\"groups\": 1, \"tokens\": 2048}}";
    json = pd_json(1, 2, "\"router\": \"prefix-affinity\", \"disaggregation\": {\"decider\": \"prefix-miss\","
                         " \"threshold_tokens\": 512}", shared, NULL);
    s = scenario_from(json);
    res = run(s, cache, NULL, NULL, NULL);
    CU_ASSERT(res->pd->disaggregated >= 1 && res->pd->disaggregated <= 4);
    CU_ASSERT_EQUAL(res->pd->whole + res->pd->disaggregated, 300);
    check_conservation(res);
    cl_result_free(res);
    scn_scenario_free(s);
    g_free(json);
    g_free(path);
    g_free(dir);
}

static void test_layerwise(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *dir = ss_test_tmpdir();
    char *path = g_build_filename(dir, "t.csv", NULL);
    double ttft[2];
    for (int lw = 0; lw <= 1; lw++) {
        char *json = lone_json(8000, 50, lw ? ", \"layerwise\": true" : NULL);
        ScnScenario *s = scenario_from(json);
        Hooks h;
        hooks_init(&h, 1, 2);
        ClResult *res = run(s, cache, &h, path, NULL);
        CU_ASSERT_EQUAL(h.failures, 0);
        ttft[lw] = res->summary->all.ttft_ms.mean;
        GHashTable *rows = read_transfers(path);
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, rows);
        while (g_hash_table_iter_next(&it, &k, &v)) /* the last layer is sent after the prefill ends */
            CU_ASSERT(((Row *)v)->xfer_end > ((Row *)v)->prefill_end);
        check_conservation(res);
        g_hash_table_destroy(rows);
        cl_result_free(res);
        hooks_clear(&h);
        scn_scenario_free(s);
        g_free(json);
    }
    CU_ASSERT(ttft[1] < ttft[0]);
    g_free(path);
    g_free(dir);
}

static char *read_all(const char *path)
{
    char *text = NULL;
    g_file_get_contents(path, &text, NULL, NULL);
    return text;
}

static void test_deterministic(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *json = pd_json(2, 2, "\"router\": \"weighted\", \"disaggregation\": {\"decider\": \"prompt-length\","
                               " \"threshold_tokens\": 800, \"transfer\": {\"link\": \"rdma-200\", \"fabric_gbps\": 300}}",
                         chat, NULL);
    ScnScenario *s = scenario_from(json);
    char *dir = ss_test_tmpdir();
    char *texts[2][2];
    for (int i = 0; i < 2; i++) {
        char *t = g_strdup_printf("%s/t%d.csv", dir, i), *r = g_strdup_printf("%s/r%d.csv", dir, i);
        ClResult *res = run(s, cache, NULL, t, r);
        cl_result_free(res);
        texts[i][0] = read_all(t);
        texts[i][1] = read_all(r);
        g_free(t);
        g_free(r);
    }
    CU_ASSERT_STRING_EQUAL(texts[0][0], texts[1][0]);
    CU_ASSERT_STRING_EQUAL(texts[0][1], texts[1][1]);
    CU_ASSERT(strlen(texts[0][0]) > 1000);
    for (int i = 0; i < 2; i++)
        g_free(texts[i][0]), g_free(texts[i][1]);
    scn_scenario_free(s);
    g_free(json);
    g_free(dir);
}

/* The error of a scenario (parse or build). */
static char *error_of(const char *json)
{
    GError *error = NULL;
    ScnScenario *s = scn_scenario_parse(json, "bad.json", ss_test_source_dir(), &error);
    if (s) {
        g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
        ScnBuilt b;
        if (scn_build(s, cache, &b, &error))
            scn_built_clear(&b);
        scn_scenario_free(s);
    }
    char *msg = error ? g_strdup(error->message) : NULL;
    if (error)
        CU_ASSERT(error->code == SS_ERROR_INPUT || error->code == SS_ERROR_USAGE);
    g_clear_error(&error);
    return msg;
}

static void test_errors(void)
{
    const char *work = "\"workload\": {\"num_requests\": 10, \"arrival\": {\"process\": \"poisson\", \"rate\": 1},"
                       " \"input\": {\"dist\": \"constant\", \"value\": 100},"
                       " \"output\": {\"dist\": \"constant\", \"value\": 10}}";
    struct {
        const char *json, *want;
    } cases[] = {
        {"{\"fleet\": {\"pools\": [{\"name\": \"d\", \"role\": \"decode\", \"count\": 2}]}, %s}",
         "role decode but no pool has the role prefill"},
        {"{\"fleet\": {\"pools\": [{\"name\": \"p\", \"role\": \"prefill\", \"count\": 2},"
         " {\"name\": \"b\", \"count\": 1}]}, %s}",
         "role prefill but no pool has the role decode"},
        {"{\"fleet\": {\"pools\": [{\"role\": \"prefill\", \"count\": 1}, {\"role\": \"decode\", \"count\": 1}],"
         " \"disaggregation\": {\"transfer\": {\"bandwidth_gbps\": 0}}}, %s}",
         "fleet.disaggregation.transfer.bandwidth_gbps: expected a number >= 0.01"},
        {"{\"fleet\": {\"pools\": [{\"role\": \"prefill\", \"count\": 1}, {\"role\": \"decode\", \"count\": 1}],"
         " \"disaggregation\": {\"decider\": \"never\"}}, %s}",
         "\"never\" sends nothing"},
        {"{\"fleet\": {\"replicas\": 2, \"disaggregation\": {\"decider\": \"always\"}}, %s}",
         "no prefill and decode pools"},
        {"{\"fleet\": {\"pools\": [{\"role\": \"prefill\", \"count\": 1}, {\"role\": \"decode\", \"count\": 1}],"
         " \"disaggregation\": {\"transfer\": {\"link\": \"smoke-signals\"}}}, %s}",
         "fleet.disaggregation.transfer.link: expected one of nvlink"},
        {"{\"fleet\": {\"pools\": [{\"role\": \"prefil\", \"count\": 1}]}, %s}", "fleet.pools[0].role: expected one of"},
        {"{\"fleet\": {\"pools\": [{\"role\": \"prefill\", \"count\": 1}, {\"role\": \"decode\", \"count\": 1}],"
         " \"disaggregation\": {\"threshold\": 5}}, %s}",
         "fleet.disaggregation.threshold: unknown field"},
        {"{\"fleet\": {\"replicas\": 2, \"autoscale\": {\"min_replicas\": 4, \"max_replicas\": 2}}, %s}",
         "min_replicas (4) must be at most max_replicas (2)"},
        {"{\"fleet\": {\"replicas\": 9, \"autoscale\": {\"min_replicas\": 1, \"max_replicas\": 4}}, %s}",
         "must be within min_replicas (1) and max_replicas (4)"},
        {"{\"fleet\": {\"replicas\": 1, \"autoscale\": {\"min_replicas\": 0}}, %s}",
         "fleet.autoscale.min_replicas: expected at least 1"},
        {"{\"fleet\": {\"replicas\": 1, \"autoscale\": {\"metric\": \"vibes\"}}, %s}",
         "fleet.autoscale.metric: expected one of waiting"},
        {"{\"fleet\": {\"replicas\": 1, \"autoscale\": {\"metric\": \"kv\", \"target\": 3}}, %s}",
         "share of the KV cache"},
        {"{\"fleet\": {\"replicas\": 1, \"autoscale\": {\"up_threshold\": 1, \"down_threshold\": 1}}, %s}",
         "0 < down_threshold <= 1 <= up_threshold"},
        {"{\"fleet\": {\"pools\": [{\"count\": 1}], \"autoscale\": {}}, %s}", "give each pool its own"},
        {"{\"fleet\": {\"slo\": {\"ttft_ms\": -1}}, %s}", "fleet.slo.ttft_ms: expected a number >= 0"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *json = g_strdup_printf(cases[i].json, work);
        char *msg = error_of(json);
        if (!msg || !strstr(msg, cases[i].want))
            fprintf(stderr, "\n  case %u: want \"%s\", got \"%s\"\n", i, cases[i].want, msg ? msg : "(no error)");
        CU_ASSERT(msg && strstr(msg, cases[i].want));
        g_free(msg);
        g_free(json);
    }
}

static void test_flags_make_pools(void)
{
    /* --prefill-replicas / --decode-replicas turn one deployment into a P/D fleet */
    ScnScenario *s = scn_scenario_new_default();
    GError *error = NULL;
    CU_ASSERT(scn_scenario_set(s, "prefill_replicas", "3", "--prefill-replicas", &error));
    CU_ASSERT(scn_scenario_set(s, "decode_replicas", "2", "--decode-replicas", &error));
    CU_ASSERT(scn_scenario_set(s, "kv_link", "\"nvlink\"", "--kv-link", &error));
    CU_ASSERT(scn_scenario_set(s, "kv_bandwidth_gbps", "1000", "--kv-bandwidth-gbps", &error));
    CU_ASSERT_EQUAL(s->fleet.num_pools, 2);
    CU_ASSERT_EQUAL(s->fleet.pools[0].role, CL_ROLE_PREFILL);
    CU_ASSERT_EQUAL(s->fleet.pools[0].count, 3);
    CU_ASSERT_EQUAL(s->fleet.pools[1].role, CL_ROLE_DECODE);
    CU_ASSERT_EQUAL(s->fleet.pools[1].count, 2);
    CU_ASSERT_EQUAL(s->fleet.pd.transfer.link, CL_LINK_NVLINK);
    CU_ASSERT_DOUBLE_EQUAL(s->fleet.pd.transfer.bandwidth_gbps, 1000, 1e-9);
    CU_ASSERT(!scn_scenario_set(s, "prefill_replicas", "0", "--prefill-replicas", &error));
    SS_ASSERT_CONTAINS(error ? error->message : NULL, "expected a positive integer");
    g_clear_error(&error);
    scn_scenario_free(s);
}

/* The engine options on a disaggregated fleet: priority scheduling, FP8
 * KV (half the bytes per token: half the transfer), speculative decoding,
 * CPU offload and LoRA adapters, all at once under the invariants; a model
 * with sliding-window layers is refused. */
static void test_engine_options(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    const char *work = "{\"num_requests\": 300, \"arrival\": {\"process\": \"poisson\", \"rate\": 20},"
                       " \"classes\": [{\"name\": \"hi\", \"share\": 1, \"priority\": 0, \"lora\": {\"adapters\": 6},"
                       " \"input\": {\"dist\": \"lognormal\", \"mean\": 1500, \"stddev\": 1000, \"min\": 1, \"max\": 8000},"
                       " \"output\": {\"dist\": \"lognormal\", \"mean\": 100, \"stddev\": 80, \"min\": 1, \"max\": 600}},"
                       " {\"name\": \"lo\", \"share\": 1, \"priority\": 5,"
                       " \"input\": {\"dist\": \"constant\", \"value\": 700},"
                       " \"output\": {\"dist\": \"constant\", \"value\": 50}}]}";
    const char *top = "\"engine\": {\"scheduling_policy\": \"priority\", \"kv_cache_dtype\": \"%s\","
                      " \"speculative_config\": {\"method\": \"eagle3\", \"num_speculative_tokens\": 2,"
                      " \"synthetic_acceptance_length\": 2}, \"kv_offloading_size\": 8, \"enable_lora\": true,"
                      " \"max_loras\": 2, \"max_lora_rank\": 16, \"lora_modules\": [{\"name\": \"hi\", \"rank\": 16}]},";
    double bytes[2] = {0, 0};
    for (int fp8 = 0; fp8 < 2; fp8++) {
        char *engine = g_strdup_printf(top, fp8 ? "fp8" : "auto");
        char *json = pd_json(1, 2, "\"router\": \"least-outstanding\"", work, engine);
        ScnScenario *s = scenario_from(json);
        Hooks h;
        hooks_init(&h, 1, 3);
        ClResult *res = run(s, cache, &h, NULL, NULL);
        CU_ASSERT_EQUAL(h.failures, 0);
        CU_ASSERT_EQUAL(res->summary->all.completed + res->summary->all.rejected, 300);
        CU_ASSERT(res->summary->all.completed > 250);
        CU_ASSERT_PTR_NOT_NULL_FATAL(res->pd);
        CU_ASSERT_EQUAL(res->pd->transfers, res->summary->all.completed);
        bytes[fp8] = (double)res->pd->bytes;
        check_conservation(res);
        cl_result_free(res);
        hooks_clear(&h);
        scn_scenario_free(s);
        g_free(json);
        g_free(engine);
    }
    /* the same requests, half the KV bytes per token */
    CU_ASSERT_DOUBLE_EQUAL(bytes[1] / bytes[0], 0.5, 0.01);

    char *json = g_strdup_printf("{\"model\": \"gemma-3-27b-it\", \"hardware\": \"H100-SXM\","
                                 " \"engine\": {\"max_model_len\": 16384},"
                                 " \"fleet\": {\"pools\": [{\"name\": \"p\", \"role\": \"prefill\", \"count\": 1},"
                                 " {\"name\": \"d\", \"role\": \"decode\", \"count\": 1}]}, \"workload\": %s}",
                                 chat);
    ScnScenario *s = scenario_from(json);
    GError *error = NULL;
    ClResult *res = scn_run_fleet(s, cache, NULL, NULL, &error);
    CU_ASSERT_PTR_NULL(res);
    SS_ASSERT_CONTAINS(error ? error->message : NULL, "sliding-window layers are not modelled");
    g_clear_error(&error);
    cl_result_free(res);
    scn_scenario_free(s);
    g_free(json);
}

static const SsTestCase cases[] = {
    {"2 prefill + 2 decode run and conserve requests", test_runs_and_conserves},
    {"transfer time by the model; TTFT vs KV size and bandwidth", test_transfer_time_ttft},
    {"two transfers into one replica take twice as long", test_two_transfers_twice_as_long},
    {"causality; prefill blocks held until the transfer ends", test_causality_and_held_blocks},
    {"a time limit between stages conserves requests", test_time_limit},
    {"deciders: prompt length, prefix miss", test_deciders},
    {"layer-wise streaming", test_layerwise},
    {"the same bytes twice", test_deterministic},
    {"bad configurations", test_errors},
    {"flags make prefill and decode pools", test_flags_make_pools},
    {"engine options on a disaggregated fleet; sliding windows refused", test_engine_options},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const SsTestSuite suites[] = {{"cl_pd", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
