/*
 * sim_summary.c: the summary of a run (SimSummary, sim_engine.h) from its
 * recorder, its replicas and what the front door saw.
 *
 * Fleet-wide figures are those of one server generalised: counts and tokens
 * are sums over replicas; latency percentiles are over every completed
 * request of the run (one pass over the recorder's records per metric, by
 * selection: expected O(n)); KV usage is the time-weighted used blocks over
 * the usable blocks of all replicas; busy is the mean share of the duration
 * the replicas spent in steps. With one replica every figure is computed
 * exactly as a single server's always was (same operations, same order), so
 * its output is byte-identical.
 *
 * Per-replica figures (SimReplicaSummary) take the replica's records: the
 * records are bucketed by replica once (a counting sort of their indices),
 * so the cost stays O(records) whatever the number of replicas.
 */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

typedef enum { REC_TTFT, REC_E2E, REC_QUEUE, REC_TPOT } RecMetric;

static inline gboolean record_value(const SimRecord *r, RecMetric m, double *v)
{
    switch (m) {
    case REC_TTFT:
        *v = sim_time_to_ms(r->ttft);
        return TRUE;
    case REC_E2E:
        *v = sim_time_to_ms(r->e2e);
        return TRUE;
    case REC_QUEUE:
        *v = sim_time_to_ms(r->queue);
        return TRUE;
    case REC_TPOT:
        if (r->output > 1) {
            *v = sim_time_to_ms(r->e2e - r->ttft) / (r->output - 1);
            return TRUE;
        }
        return FALSE;
    }
    return FALSE;
}

/* The values (ms) of one metric over the completed requests of a class
 * (cls < 0: all); TPOT only for requests of more than one output token.
 * Returns how many were written to buf. */
static size_t collect(const SimRecorder *rec, int cls, RecMetric m, double *buf)
{
    const SimRecord *r = (const SimRecord *)rec->records->data;
    size_t n = 0;
    for (size_t i = 0; i < rec->records->len; i++) {
        if (cls >= 0 && r[i].class_id != (uint16_t)cls)
            continue;
        if (record_value(&r[i], m, &buf[n]))
            n++;
    }
    return n;
}

static void class_stats(const SimRecorder *rec, int cls, double duration_s, SimClassSummary *out, double *buf)
{
    sim_stats_compute(buf, collect(rec, cls, REC_TTFT, buf), &out->ttft_ms);
    sim_stats_compute(buf, collect(rec, cls, REC_E2E, buf), &out->e2e_ms);
    sim_stats_compute(buf, collect(rec, cls, REC_QUEUE, buf), &out->queue_ms);
    sim_stats_compute(buf, collect(rec, cls, REC_TPOT, buf), &out->tpot_ms);
    if (duration_s > 0) {
        out->requests_per_s = out->completed / duration_s;
        out->input_tokens_per_s = out->input_tokens / duration_s;
        out->output_tokens_per_s = out->output_tokens / duration_s;
    }
}

/* Compares the queueing delay of late arrivals with that of earlier ones
 * (the first quarter is left out as warm-up). Requests still waiting at a
 * time limit, on a replica or between the router and one, count with the
 * delay they have had so far. */
static double queue_growth_ms(const SimRecorder *rec, SimReplica *const *reps, guint n, const SimFrontDoor *fd)
{
    if (!fd->any_arrival || fd->last_arrival <= fd->first_arrival)
        return 0;
    double span = (double)(fd->last_arrival - fd->first_arrival);
    double sum[4] = {0}, cnt[4] = {0};
    const SimRecord *r = (const SimRecord *)rec->records->data;
    for (guint i = 0; i < rec->records->len; i++) {
        int q = (int)(4.0 * (double)(r[i].arrival - fd->first_arrival) / span);
        q = CLAMP(q, 0, 3);
        sum[q] += sim_time_to_ms(r[i].queue);
        cnt[q]++;
    }
    for (guint k = 0; k < n; k++) {
        for (uint32_t i = 0; i < sim_replica_num_waiting(reps[k]); i++) {
            const SimReq *q = sim_replica_waiting_req(reps[k], i);
            if (q->was_scheduled)
                continue;
            int b = CLAMP((int)(4.0 * (double)(q->arrival - fd->first_arrival) / span), 0, 3);
            sum[b] += sim_time_to_ms(fd->now - q->arrival);
            cnt[b]++;
        }
    }
    for (guint i = 0; i < fd->num_in_transit; i++) {
        const WlRequest *w = &fd->in_transit[i];
        int b = CLAMP((int)(4.0 * (double)(w->arrival - fd->first_arrival) / span), 0, 3);
        sum[b] += sim_time_to_ms(fd->now - w->arrival);
        cnt[b]++;
    }
    if (cnt[1] == 0 || cnt[3] == 0)
        return 0;
    return sum[3] / cnt[3] - sum[1] / cnt[1];
}

/* Per-replica latency statistics: the records bucketed by replica (the
 * replicas given may be some of a fleet's slots: pos maps a slot's index to
 * its place in `out`, or G_MAXUINT). `buf` holds at least as many doubles
 * as there are records. */
static void replica_latencies(const SimRecorder *rec, SimReplicaSummary *out, guint n, const guint *pos,
                              guint npos, double *buf)
{
    const SimRecord *r = (const SimRecord *)rec->records->data;
    guint len = rec->records->len;
    guint *start = g_new0(guint, n + 1);
#define REC_POS(i) (r[i].replica < npos ? pos[r[i].replica] : G_MAXUINT)
    for (guint i = 0; i < len; i++)
        if (REC_POS(i) < n)
            start[REC_POS(i) + 1]++;
    for (guint k = 0; k < n; k++)
        start[k + 1] += start[k];
    guint *order = g_new(guint, MAX(len, 1));
    guint *fill = g_memdup2(start, (n + 1) * sizeof *start);
    for (guint i = 0; i < len; i++)
        if (REC_POS(i) < n)
            order[fill[REC_POS(i)]++] = i;
#undef REC_POS
    for (guint k = 0; k < n; k++) {
        size_t m = 0;
        for (guint j = start[k]; j < start[k + 1]; j++) {
            buf[m++] = sim_time_to_ms(r[order[j]].ttft);
            out[k].output_tokens += r[order[j]].output;
        }
        sim_stats_compute(buf, m, &out[k].ttft_ms);
        m = 0;
        for (guint j = start[k]; j < start[k + 1]; j++)
            if (record_value(&r[order[j]], REC_TPOT, &buf[m]))
                m++;
        sim_stats_compute(buf, m, &out[k].tpot_ms);
    }
    g_free(fill);
    g_free(order);
    g_free(start);
}

SimSummary *sim_summarise(SimRecorder *rec, SimReplica *const *reps, guint n, const SimFrontDoor *fd)
{
    g_return_val_if_fail(n >= 1, NULL); /* a contract: a fleet has at least one replica */
    SimSummary *s = g_new0(SimSummary, 1);
    s->num_classes = rec->num_classes;
    s->classes = g_new0(SimClassSummary, rec->num_classes);

    uint64_t busy_ns = 0, sum_batch_reqs = 0, sum_batch_tokens = 0;
    uint64_t usable_total = 0;
    double kv_area = 0, kv_peak = 0;
    for (guint k = 0; k < n; k++) {
        const SimReplicaCounters *c = sim_replica_counters(reps[k]);
        const SchedScheduler *sc = sim_replica_scheduler(reps[k]);
        s->preemptions += sched_num_preemptions(sc);
        s->rejected_too_long += c->rejected_too_long;
        s->rejected_no_blocks += c->rejected_no_blocks;
        s->steps += c->steps;
        s->prefix_hit_tokens += sched_prefix_hit_tokens(sc);
        s->prefix_query_tokens += sched_prefix_query_tokens(sc);
        SchedOptionStats os;
        sched_option_stats(sc, &os);
        s->options.spec_drafted += os.spec_drafted;
        s->options.spec_accepted += os.spec_accepted;
        s->options.spec_verifications += os.spec_verifications;
        s->options.offload_hit_tokens += os.offload_hit_tokens;
        s->options.offload_stores += os.offload_stores;
        s->options.lora_loads += os.lora_loads;
        s->options.lora_disk_loads += os.lora_disk_loads;
        busy_ns += c->busy_ns;
        sum_batch_reqs += c->sum_batch_reqs;
        sum_batch_tokens += c->sum_batch_tokens;
        uint32_t usable = sim_replica_kv_blocks(reps[k]);
        usable_total += usable;
        kv_area += c->kv_area;
        double peak = (double)c->kv_peak / usable;
        if (peak > kv_peak)
            kv_peak = peak;
    }
    s->rejected_admission = fd->rejected_admission;
    s->rows_skipped = fd->rows_skipped;
    s->num_gpu_blocks = sim_replica_sched_config(reps[0])->num_gpu_blocks;
    s->stopped_at_limit = fd->stopped;
    s->first_arrival_s = fd->any_arrival ? sim_time_to_seconds(fd->first_arrival) : 0;
    s->last_arrival_s = fd->any_arrival ? sim_time_to_seconds(fd->last_arrival) : 0;
    s->end_s = sim_time_to_seconds(fd->now);
    SimTime span = fd->any_arrival && fd->now > fd->first_arrival ? fd->now - fd->first_arrival : 0;
    s->duration_s = sim_time_to_seconds(span);
    if (fd->any_arrival && fd->last_arrival > fd->first_arrival)
        s->offered_rate = (double)(fd->arrived - 1) / sim_time_to_seconds(fd->last_arrival - fd->first_arrival);
    uint64_t completed = rec->records->len;
    s->achieved_rate = s->duration_s > 0 ? completed / s->duration_s : 0;
    s->kv_usage_mean = span ? kv_area / ((double)usable_total * (double)span) : 0;
    s->kv_usage_peak = kv_peak;
    s->batch_size_mean = s->steps ? (double)sum_batch_reqs / s->steps : 0;
    s->batch_tokens_mean = s->steps ? (double)sum_batch_tokens / s->steps : 0;
    s->busy_fraction = span ? (double)busy_ns / ((double)span * n) : 0;
    s->queue_growth_ms = queue_growth_ms(rec, reps, n, fd);
    if (fd->any_arrival && fd->last_arrival > fd->first_arrival)
        s->queue_growth_rate = s->queue_growth_ms / (sim_time_to_ms(fd->last_arrival - fd->first_arrival) / 2.0);

    /* requests still in flight (only when a time limit stopped the run) */
    uint64_t *in_flight = g_new0(uint64_t, rec->num_classes);
    for (guint k = 0; k < n; k++) {
        for (uint32_t i = 0; i < sim_replica_num_running(reps[k]); i++)
            if (!sim_replica_running_req(reps[k], i)->handed_early)
                in_flight[sim_replica_running_req(reps[k], i)->class_id]++;
        for (uint32_t i = 0; i < sim_replica_num_waiting(reps[k]); i++)
            in_flight[sim_replica_waiting_req(reps[k], i)->class_id]++;
        for (uint32_t i = 0; i < sim_replica_num_deferred(reps[k]); i++)
            in_flight[sim_replica_deferred_req(reps[k], i)->class_id]++;
        for (uint32_t i = 0; i < sim_replica_num_remote_waiting(reps[k]); i++)
            in_flight[sim_replica_remote_req(reps[k], i)->class_id]++;
    }
    for (guint i = 0; i < fd->num_in_transit; i++)
        in_flight[sim_recorder_class(rec, &fd->in_transit[i])]++;

    double *buf = g_new(double, MAX(rec->records->len, 1));
    SimClassSummary *all = &s->all;
    all->name = g_strdup("all");
    for (guint c = 0; c < rec->num_classes; c++) {
        SimClassSummary *cs = &s->classes[c];
        SimClassAcc *a = &rec->classes[c];
        cs->name = g_strdup(rec->class_names && rec->class_names[c] ? rec->class_names[c] : "");
        cs->arrived = a->arrived;
        cs->completed = a->completed;
        cs->rejected = a->rejected;
        cs->in_flight = in_flight[c];
        cs->preempted_requests = a->preempted_requests;
        cs->input_tokens = a->input_tokens;
        cs->output_tokens = a->output_tokens;
        if (rec->num_classes > 1) {
            class_stats(rec, (int)c, s->duration_s, cs, buf);
            sim_hist_stats(a->itl, 1e-6, &cs->itl_ms);
        }
        all->arrived += a->arrived;
        all->completed += a->completed;
        all->rejected += a->rejected;
        all->in_flight += in_flight[c];
        all->preempted_requests += a->preempted_requests;
        all->input_tokens += a->input_tokens;
        all->output_tokens += a->output_tokens;
    }
    class_stats(rec, -1, s->duration_s, all, buf);
    sim_hist_stats(rec->itl_all, 1e-6, &all->itl_ms);
    if (rec->num_classes == 1) { /* the one class is everything */
        SimClassSummary *cs = &s->classes[0];
        cs->ttft_ms = all->ttft_ms;
        cs->tpot_ms = all->tpot_ms;
        cs->itl_ms = all->itl_ms;
        cs->e2e_ms = all->e2e_ms;
        cs->queue_ms = all->queue_ms;
        cs->requests_per_s = all->requests_per_s;
        cs->input_tokens_per_s = all->input_tokens_per_s;
        cs->output_tokens_per_s = all->output_tokens_per_s;
    }
    g_free(in_flight);

    /* per replica */
    s->num_replicas = n;
    s->replicas = g_new0(SimReplicaSummary, n);
    if (n > 1) {
        guint npos = 0;
        for (guint k = 0; k < n; k++)
            npos = MAX(npos, sim_replica_index(reps[k]) + 1);
        guint *pos = g_new(guint, npos);
        for (guint k = 0; k < npos; k++)
            pos[k] = G_MAXUINT;
        for (guint k = 0; k < n; k++)
            pos[sim_replica_index(reps[k])] = k;
        replica_latencies(rec, s->replicas, n, pos, npos, buf);
        g_free(pos);
    } else { /* one replica: its figures are the run's */
        s->replicas[0].ttft_ms = all->ttft_ms;
        s->replicas[0].tpot_ms = all->tpot_ms;
        s->replicas[0].output_tokens = all->output_tokens;
    }
    for (guint k = 0; k < n; k++) {
        SimReplicaSummary *rs = &s->replicas[k];
        const SimReplicaCounters *c = sim_replica_counters(reps[k]);
        const SchedScheduler *sc = sim_replica_scheduler(reps[k]);
        rs->index = sim_replica_index(reps[k]);
        rs->arrived = c->arrived;
        rs->completed = c->completed;
        rs->rejected = c->rejected;
        rs->handed_off = c->handed_off;
        rs->in_flight = sim_replica_in_flight(reps[k]);
        if (s->duration_s > 0) {
            rs->requests_per_s = rs->completed / s->duration_s;
            rs->output_tokens_per_s = rs->output_tokens / s->duration_s;
        }
        uint32_t usable = sim_replica_kv_blocks(reps[k]);
        rs->kv_usage_mean = span ? c->kv_area / ((double)usable * (double)span) : 0;
        rs->kv_usage_peak = (double)c->kv_peak / usable;
        rs->busy_fraction = span ? (double)c->busy_ns / (double)span : 0;
        rs->preemptions = sched_num_preemptions(sc);
        rs->prefix_hit_tokens = sched_prefix_hit_tokens(sc);
        rs->prefix_query_tokens = sched_prefix_query_tokens(sc);
        rs->prefix_hit_rate =
            rs->prefix_query_tokens ? (double)rs->prefix_hit_tokens / (double)rs->prefix_query_tokens : 0;
        rs->steps = c->steps;
        rs->num_gpu_blocks = sim_replica_sched_config(reps[k])->num_gpu_blocks;
    }
    g_free(buf);
    return s;
}

void sim_summary_free(SimSummary *s)
{
    if (!s)
        return;
    g_free(s->all.name);
    for (guint c = 0; c < s->num_classes; c++)
        g_free(s->classes[c].name);
    g_free(s->classes);
    g_free(s->replicas);
    g_free(s);
}
