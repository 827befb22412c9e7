/*
 * fuzz_simulate.c: parse, then simulate. The input is a scenario (JSON),
 * optionally followed by a line "%%" and a CSV file that the scenario's
 * trace and empirical length distributions read (whatever paths they name).
 *
 * The work is bounded (at most FZ_REQUESTS requests, max_model_len at most
 * FZ_MAX_MODEL_LEN tokens, at most FZ_MAX_BLOCKS KV blocks and FZ_MAX_SEQS
 * sequences, at most FZ_MAX_POOLS pools of FZ_MAX_REPLICAS replicas, models
 * and draft models by name only, a host KV tier of at most FZ_MAX_OFFLOAD_GIB,
 * at most FZ_MAX_LORAS adapters and adapter slots) so that an input runs in about a second at most under the
 * sanitizers; simulated time is not capped: rates, time scales, trace times and
 * max_time_s reach the engine as written. Every output is written (to
 * /dev/null), with a time series by intervals when the last input byte is
 * odd. After every step the harness checks the invariants: the scheduler's
 * own (KV blocks, token counts; every 16th step), time never runs backwards and stays within
 * SIM_TIME_HORIZON, arrived = completed + handed off + rejected + running +
 * waiting (with those waiting for their KV); fleets may be disaggregated
 * and autoscaled (at most FZ_MAX_REPLICAS slots per pool); and
 * at the end the summary's accounting.
 */
#include <stdio.h>
#include <string.h>

#include "fz_common.h"
#include "scn.h"

#define FZ_REQUESTS 32
#define FZ_MAX_MODEL_LEN 2048u
#define FZ_MAX_BLOCKS 8192u
#define FZ_MAX_SEQS 1024u
#define FZ_MAX_REPLICAS 4u /* per pool; at most FZ_MAX_POOLS pools */
#define FZ_MAX_POOLS 3u
#define FZ_MAX_OFFLOAD_GIB 64.0
#define FZ_MAX_LORAS 64u

typedef struct {
    SimTime last_end[FZ_MAX_POOLS * FZ_MAX_REPLICAS];
    uint64_t steps;
} HookState;

static void check_step(const SimStepInfo *info, void *user)
{
    HookState *st = user;
    char *why = NULL;
    /* the scheduler's own check is O(blocks): every 16th step */
    if (st->steps++ % 16 == 0 && !sched_check_invariants(info->sched, &why))
        fz_fail("scheduler invariant: %s", why);
    if (info->replica >= G_N_ELEMENTS(st->last_end))
        fz_fail("replica %u of at most %u", info->replica, (guint)G_N_ELEMENTS(st->last_end));
    SimTime *last = &st->last_end[info->replica];
    if (info->start > info->end || info->end < *last || info->end > SIM_TIME_HORIZON)
        fz_fail("time: step %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT, info->start,
                info->end, *last);
    *last = info->end;
    uint64_t in_flight = (uint64_t)sched_num_running(info->sched) + sched_num_waiting(info->sched) + info->deferred +
                         info->remote_waiting;
    if (info->arrived != info->completed + info->handed_off + info->rejected + in_flight)
        fz_fail("accounting: %" G_GUINT64_FORMAT " arrived, %" G_GUINT64_FORMAT " completed, %" G_GUINT64_FORMAT
                " handed off, %" G_GUINT64_FORMAT " rejected, %" G_GUINT64_FORMAT " in flight",
                info->arrived, info->completed, info->handed_off, info->rejected, in_flight);
}

/* An autoscaled pool has a slot per replica it may reach: at most
 * FZ_MAX_REPLICAS (the bounds keep their order; the count is checked
 * against them as written). */
static void bound_autoscale(ClAutoscaleSpec *a)
{
    a->max_replicas = MIN(a->max_replicas, FZ_MAX_REPLICAS);
    a->min_replicas = MIN(a->min_replicas, a->max_replicas);
}

/* Bounds the work of a scenario (see the top of the file). */
static void bound(ScnScenario *s, const char *csv_path)
{
    if (strchr(s->model, '/') || g_str_has_suffix(s->model, ".json") || s->model[0] == '.') {
        g_free(s->model);
        s->model = g_strdup("llama-3.1-8b");
    }
    ScnOptions *o = &s->options;
    if (o->spec_model && (strchr(o->spec_model, '/') || g_str_has_suffix(o->spec_model, ".json") ||
                          o->spec_model[0] == '.')) {
        g_free(o->spec_model);
        o->spec_model = g_strdup("qwen2.5-1.5b-instruct");
    }
    o->kv_offloading_size = MIN(o->kv_offloading_size, FZ_MAX_OFFLOAD_GIB);
    o->max_loras = MIN(o->max_loras, FZ_MAX_LORAS);
    o->max_cpu_loras = MIN(o->max_cpu_loras, FZ_MAX_LORAS);
    if (s->max_model_len == 0 || s->max_model_len > FZ_MAX_MODEL_LEN)
        s->max_model_len = FZ_MAX_MODEL_LEN;
    if (s->num_gpu_blocks_override > FZ_MAX_BLOCKS)
        s->num_gpu_blocks_override = FZ_MAX_BLOCKS;
    if (s->max_num_seqs == 0 || s->max_num_seqs > FZ_MAX_SEQS)
        s->max_num_seqs = FZ_MAX_SEQS;
    s->fleet.replicas = CLAMP(s->fleet.replicas, 1, FZ_MAX_REPLICAS);
    bound_autoscale(&s->fleet.autoscale);
    for (guint i = FZ_MAX_POOLS; i < s->fleet.num_pools; i++) { /* pools past the bound are dropped */
        g_free(s->fleet.pools[i].name);
        g_free(s->fleet.pools[i].hardware);
        g_free(s->fleet.pools[i].overrides);
    }
    s->fleet.num_pools = MIN(s->fleet.num_pools, FZ_MAX_POOLS);
    for (guint i = 0; i < s->fleet.num_pools; i++) {
        s->fleet.pools[i].count = CLAMP(s->fleet.pools[i].count, 1, FZ_MAX_REPLICAS);
        bound_autoscale(&s->fleet.pools[i].autoscale);
        /* a pool's own engine settings could lift max_model_len and the block
         * count past the bounds above: each pool is the scenario on its GPU */
        g_clear_pointer(&s->fleet.pools[i].overrides, g_free);
    }
    if (s->is_trace) {
        g_free(s->trace_path);
        s->trace_path = g_strdup(csv_path);
        if (s->trace.limit == 0 || s->trace.limit > FZ_REQUESTS)
            s->trace.limit = FZ_REQUESTS;
        return;
    }
    if (s->workload.num_requests == 0 || s->workload.num_requests > FZ_REQUESTS)
        s->workload.num_requests = FZ_REQUESTS;
    for (guint i = 0; i < s->workload.num_classes; i++) {
        s->workload.classes[i].lora_adapters = MIN(s->workload.classes[i].lora_adapters, FZ_MAX_LORAS);
        WlDistSpec *d[2] = {&s->workload.classes[i].input, &s->workload.classes[i].output};
        for (int k = 0; k < 2; k++)
            if (d[k]->kind == WL_DIST_EMPIRICAL) {
                g_free(d[k]->path);
                d[k]->path = g_strdup(csv_path);
            }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ScnCache *cache;
    static FILE *sink;
    if (!cache) {
        cache = scn_cache_new(fz_data_dir());
        sink = fopen("/dev/null", "w");
    }
    char *text = fz_text(data, size);
    char *sep = strstr(text, "\n%%\n");
    const char *csv = "";
    if (sep) {
        *sep = '\0';
        csv = sep + 4;
    }
    const char *csv_path = fz_write("sim.csv", (const uint8_t *)csv, strlen(csv));
    GError *error = NULL;
    ScnScenario *s = scn_scenario_parse(text, "fuzz.json", fz_dir(), &error);
    if (!s) {
        fz_check_error(error);
        g_free(text);
        return 0;
    }
    bound(s, csv_path);
    ScnBuilt b;
    if (!scn_build(s, cache, &b, &error)) {
        fz_check_error(error);
        goto out;
    }
    gboolean big = FALSE;
    for (guint i = 0; i < b.num_pools; i++)
        big = big || b.pools[i].sched.num_gpu_blocks > FZ_MAX_BLOCKS;
    if (big) { /* an estimate too large for quick runs */
        scn_built_clear(&b);
        s->num_gpu_blocks_override = FZ_MAX_BLOCKS;
        if (!scn_build(s, cache, &b, &error)) {
            fz_check_error(error);
            goto out;
        }
    }
    HookState st = {0};
    ClPoolSpec pools[FZ_MAX_POOLS];
    ClPdSpec pd;
    ClConfig cfg;
    scn_built_cluster_config(s, &b, pools, &pd, &cfg); /* as scn_run_fleet: roles, KV sizes, autoscaling */
    cfg.transfers_csv = sink;
    cfg.scaling_csv = sink;
    cfg.routing_csv = sink;
    cfg.step_hook = check_step;
    cfg.hook_user = &st;
    cfg.outputs.requests_csv = sink;
    cfg.outputs.timeseries_csv = sink;
    cfg.outputs.timeseries_interval_s = size && (data[size - 1] & 1) ? SIM_OUTPUT_INTERVAL_MIN_S * data[size - 1] : 0;
    cfg.outputs.itl_csv = sink;
    ClResult *res = cl_run(&cfg, &error);
    if (!res) {
        fz_check_error(error);
    } else {
        const SimSummary *sum = res->summary;
        const SimClassSummary *a = &sum->all;
        if (a->arrived != a->completed + a->rejected + a->in_flight)
            fz_fail("summary accounting: %" G_GUINT64_FORMAT " != %" G_GUINT64_FORMAT " + %" G_GUINT64_FORMAT
                    " + %" G_GUINT64_FORMAT, a->arrived, a->completed, a->rejected, a->in_flight);
        if (a->in_flight > 0 && !sum->stopped_at_limit)
            fz_fail("%" G_GUINT64_FORMAT " requests in flight without a time limit", a->in_flight);
        cl_result_free(res);
    }
    scn_built_clear(&b);
out:
    scn_scenario_free(s);
    g_free(text);
    return 0;
}
