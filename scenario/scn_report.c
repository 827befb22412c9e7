/*
 * scn_report.c: a run's aggregates as JSON (schema "servesim.run/1" for one
 * replica; "servesim.run/2" for a fleet: the same fields fleet-wide, plus
 * "fleet" and "replicas"; docs/output.md) and as a summary a person reads
 * (for a fleet, with the router, the load imbalance and a per-replica table).
 *
 * Both are functions of the scenario and the simulated results only (no
 * wall-clock time, no host names), so the same inputs and seed give the same
 * bytes.
 */
#include "scn.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "scn_fleet.h"

#define GIB 1073741824.0
#define MIB 1048576.0

static void add_stats(cJSON *obj, const char *name, const SimStats *st)
{
    cJSON *o = cJSON_AddObjectToObject(obj, name);
    cJSON_AddNumberToObject(o, "count", (double)st->count);
    cJSON_AddNumberToObject(o, "mean", st->mean);
    cJSON_AddNumberToObject(o, "p50", st->p50);
    cJSON_AddNumberToObject(o, "p90", st->p90);
    cJSON_AddNumberToObject(o, "p95", st->p95);
    cJSON_AddNumberToObject(o, "p99", st->p99);
    cJSON_AddNumberToObject(o, "max", st->max);
}

static void add_class(cJSON *o, const SimClassSummary *c)
{
    cJSON_AddNumberToObject(o, "arrived", (double)c->arrived);
    cJSON_AddNumberToObject(o, "completed", (double)c->completed);
    cJSON_AddNumberToObject(o, "rejected", (double)c->rejected);
    cJSON_AddNumberToObject(o, "in_flight", (double)c->in_flight);
    cJSON_AddNumberToObject(o, "preempted_requests", (double)c->preempted_requests);
    cJSON_AddNumberToObject(o, "requests_per_s", c->requests_per_s);
    cJSON_AddNumberToObject(o, "input_tokens_per_s", c->input_tokens_per_s);
    cJSON_AddNumberToObject(o, "output_tokens_per_s", c->output_tokens_per_s);
    add_stats(o, "ttft_ms", &c->ttft_ms);
    add_stats(o, "tpot_ms", &c->tpot_ms);
    add_stats(o, "itl_ms", &c->itl_ms);
    add_stats(o, "e2e_ms", &c->e2e_ms);
    add_stats(o, "queue_ms", &c->queue_ms);
}

/* Which options some pool runs with (a fleet's pools may set their own). */
typedef struct {
    gboolean spec, offload, lora, other;
} PoolOptions;

static PoolOptions pool_options(const ScnBuilt *b)
{
    PoolOptions po = {FALSE, FALSE, FALSE, FALSE};
    for (guint i = 0; i < b->num_pools; i++) {
        const ScnBuiltPool *p = &b->pools[i];
        po.spec |= p->sched.num_spec_tokens > 0;
        po.offload |= p->sched.cpu_blocks > 0;
        po.lora |= p->sched.max_loras > 0;
        po.other |= p->served_model != NULL || p->sched.policy != SCHED_POLICY_FCFS;
    }
    return po;
}

/* Whether the report has the options: any is on (in the scenario or a
 * pool), or a sliding window binds (shorter than max_model_len). */
static gboolean options_shown(const ScnScenario *s, const ScnBuilt *b)
{
    PoolOptions po = pool_options(b);
    return scn_options_any(&s->options) || po.spec || po.offload || po.lora || po.other ||
           (b->model->num_sliding_layers && b->model->sliding_window < b->sched.max_model_len);
}

/* The engine options in effect and what they did (docs/options/), when shown. */
static void add_options(cJSON *eng, cJSON *root, const ScnScenario *s, const ScnBuilt *b, const SimSummary *sum)
{
    const ScnOptions *o = &s->options;
    cJSON *oj = cJSON_AddObjectToObject(eng, "options");
    char buf[128];
    if (o->quantization)
        cJSON_AddStringToObject(oj, "quantization", o->quantization);
    cJSON_AddStringToObject(oj, "weight_format", lat_model_weight_format(b->model, buf, sizeof buf));
    cJSON_AddStringToObject(oj, "kv_cache_dtype", o->kv_cache_dtype ? o->kv_cache_dtype : "auto");
    cJSON_AddStringToObject(oj, "scheduling_policy", o->scheduling_policy == SCHED_POLICY_PRIORITY ? "priority" : "fcfs");
    if (b->model->num_sliding_layers)
        cJSON_AddNumberToObject(oj, "sliding_window", b->model->sliding_window);
    cJSON_AddNumberToObject(oj, "kv_groups_sliding", b->sched.kv_groups_sliding);
    if (o->speculative) {
        cJSON *sp = cJSON_AddObjectToObject(oj, "speculative_config");
        cJSON_AddStringToObject(sp, "method", o->spec_method);
        cJSON_AddNumberToObject(sp, "num_speculative_tokens", o->num_speculative_tokens);
        cJSON_AddNumberToObject(sp, "expected_acceptance_length",
                                sched_spec_mean_length(b->sched.spec_accept, b->sched.num_spec_tokens));
        if (b->draft_model)
            cJSON_AddStringToObject(sp, "draft", b->draft_model->name);
    }
    if (o->kv_offloading_size > 0) {
        cJSON_AddNumberToObject(oj, "kv_offloading_size_gib", o->kv_offloading_size);
        cJSON_AddStringToObject(oj, "kv_offloading_backend", o->kv_offloading_backend ? o->kv_offloading_backend : "native");
        cJSON_AddNumberToObject(oj, "cpu_blocks", b->sched.cpu_blocks);
    }
    if (o->enable_lora) {
        cJSON_AddNumberToObject(oj, "max_loras", b->sched.max_loras);
        cJSON_AddNumberToObject(oj, "max_cpu_loras", b->sched.max_cpu_loras);
        cJSON_AddNumberToObject(oj, "lora_slot_bytes", b->memory.extra_weight_bytes);
    }
    const SchedOptionStats *st = &sum->options;
    PoolOptions po = pool_options(b);
    cJSON *r = cJSON_AddObjectToObject(root, "options");
    if (po.spec) {
        cJSON_AddNumberToObject(r, "spec_drafted_tokens", (double)st->spec_drafted);
        cJSON_AddNumberToObject(r, "spec_accepted_tokens", (double)st->spec_accepted);
        cJSON_AddNumberToObject(r, "spec_verifications", (double)st->spec_verifications);
        cJSON_AddNumberToObject(r, "mean_acceptance_length",
                                st->spec_verifications ? 1.0 + (double)st->spec_accepted / st->spec_verifications : 0);
    }
    if (po.offload) {
        cJSON_AddNumberToObject(r, "offload_hit_tokens", (double)st->offload_hit_tokens);
        cJSON_AddNumberToObject(r, "offload_stored_blocks", (double)st->offload_stores);
    }
    if (po.lora) {
        cJSON_AddNumberToObject(r, "lora_loads", (double)st->lora_loads);
        cJSON_AddNumberToObject(r, "lora_disk_loads", (double)st->lora_disk_loads);
    }
}

static void add_p50_p99(cJSON *obj, const char *name, const SimStats *st)
{
    cJSON *o = cJSON_AddObjectToObject(obj, name);
    cJSON_AddNumberToObject(o, "count", (double)st->count);
    cJSON_AddNumberToObject(o, "p50", st->p50);
    cJSON_AddNumberToObject(o, "p99", st->p99);
}

/* "fleet" and "replicas" of servesim.run/2. */
static void add_fleet(cJSON *root, const ScnScenario *s, const ScnBuilt *b, const SimSummary *sum,
                      const ClResult *fr)
{
    cJSON *fl = cJSON_AddObjectToObject(root, "fleet");
    cJSON_AddNumberToObject(fl, "replicas", fr->num_replicas);
    cJSON *router = cJSON_AddObjectToObject(fl, "router");
    cJSON_AddStringToObject(router, "policy", cl_router_policy_name(fr->policy));
    cJSON_AddNumberToObject(router, "snapshot_interval_ms", fr->snapshot_interval_ms);
    cJSON_AddNumberToObject(router, "latency_ms", fr->router_latency_ms);
    if (fr->policy == CL_ROUTER_WEIGHTED) {
        cJSON *w = cJSON_AddObjectToObject(router, "weights");
        cJSON_AddNumberToObject(w, "prefix", s->fleet.router.prefix_weight);
        cJSON_AddNumberToObject(w, "queue", s->fleet.router.queue_weight);
        cJSON_AddNumberToObject(w, "kv", s->fleet.router.kv_weight);
    }
    const ClAdmissionSpec *a = &s->fleet.admission;
    cJSON *adm = cJSON_AddObjectToObject(fl, "admission");
    cJSON_AddNumberToObject(adm, "max_waiting_per_replica", a->max_waiting_per_replica);
    cJSON_AddNumberToObject(adm, "max_waiting", a->max_waiting);
    cJSON_AddNumberToObject(adm, "rate_limit", a->rate_limit);
    cJSON_AddNumberToObject(adm, "burst", a->burst);
    cJSON *rej = cJSON_AddObjectToObject(fl, "rejected_admission");
    for (guint k = 0; k < CL_REJECT_N; k++)
        cJSON_AddNumberToObject(rej, cl_reject_reason_name((ClRejectReason)k), (double)fr->rejected[k]);
    cJSON_AddNumberToObject(fl, "imbalance", fr->imbalance);
    cJSON_AddNumberToObject(fl, "jain_index", fr->jain_index);
    cJSON_AddNumberToObject(fl, "prefix_hit_rate", fr->prefix_hit_rate);
    cJSON *pools = cJSON_AddArrayToObject(fl, "pools");
    for (guint i = 0; i < b->num_pools; i++) {
        const ScnBuiltPool *p = &b->pools[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", p->name);
        cJSON_AddStringToObject(o, "hardware", p->hw->name);
        cJSON_AddNumberToObject(o, "tensor_parallel_size", p->tensor_parallel_size);
        cJSON_AddNumberToObject(o, "count", p->count);
        cJSON_AddStringToObject(o, "latency_model", lat_backend_name(lat_step_model_backend(p->step)));
        char pool_basis[96];
        ScnBuilt one = {.step = p->step};
        scn_latency_basis(&one, pool_basis, sizeof pool_basis);
        cJSON_AddStringToObject(o, "latency_basis", pool_basis);
        cJSON_AddBoolToObject(o, "async_scheduling", p->latency.async_scheduling);
        cJSON_AddNumberToObject(o, "max_num_seqs", p->sched.max_num_seqs);
        cJSON_AddNumberToObject(o, "max_num_batched_tokens", p->sched.max_num_batched_tokens);
        cJSON_AddNumberToObject(o, "max_model_len", p->sched.max_model_len);
        cJSON_AddNumberToObject(o, "num_gpu_blocks", p->sched.num_gpu_blocks);
        cJSON_AddBoolToObject(o, "enable_prefix_caching", p->sched.enable_prefix_caching);
        cJSON_AddItemToArray(pools, o);
    }
    cJSON *reps = cJSON_AddArrayToObject(root, "replicas");
    for (guint r = 0; r < sum->num_replicas; r++) {
        const SimReplicaSummary *rs = &sum->replicas[r];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "replica", rs->index);
        cJSON_AddStringToObject(o, "pool", b->pools[fr->replica_pool[r]].name);
        cJSON_AddNumberToObject(o, "arrived", (double)rs->arrived);
        cJSON_AddNumberToObject(o, "completed", (double)rs->completed);
        cJSON_AddNumberToObject(o, "rejected", (double)rs->rejected);
        cJSON_AddNumberToObject(o, "in_flight", (double)rs->in_flight);
        cJSON_AddNumberToObject(o, "requests_per_s", rs->requests_per_s);
        cJSON_AddNumberToObject(o, "output_tokens_per_s", rs->output_tokens_per_s);
        add_p50_p99(o, "ttft_ms", &rs->ttft_ms);
        add_p50_p99(o, "tpot_ms", &rs->tpot_ms);
        cJSON_AddNumberToObject(o, "kv_usage_mean", rs->kv_usage_mean);
        cJSON_AddNumberToObject(o, "kv_usage_peak", rs->kv_usage_peak);
        cJSON_AddNumberToObject(o, "busy_fraction", rs->busy_fraction);
        cJSON_AddNumberToObject(o, "preemptions", (double)rs->preemptions);
        cJSON_AddNumberToObject(o, "prefix_hit_tokens", (double)rs->prefix_hit_tokens);
        cJSON_AddNumberToObject(o, "prefix_hit_rate", rs->prefix_hit_rate);
        cJSON_AddNumberToObject(o, "steps", (double)rs->steps);
        if (fr->pd)
            cJSON_AddNumberToObject(o, "handed_off", (double)rs->handed_off);
        cJSON_AddItemToArray(reps, o);
    }
    scn_report_json_pd(fl, b, fr);
}

char *scn_report_json(const ScnScenario *s, const ScnBuilt *b, const SimSummary *sum, const ClResult *fleet)
{
    gboolean is_fleet = fleet && scn_built_is_fleet(s, b);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", is_fleet ? "servesim.run/2" : "servesim.run/1");

    cJSON *sc = cJSON_AddObjectToObject(root, "scenario");
    cJSON_AddStringToObject(sc, "name", s->name ? s->name : "");
    cJSON_AddStringToObject(sc, "model", b->model->name);
    cJSON_AddStringToObject(sc, "hardware", b->hw->name);
    cJSON_AddNumberToObject(sc, "tensor_parallel_size", b->pools[0].tensor_parallel_size);
    cJSON_AddStringToObject(sc, "latency_model", lat_backend_name(lat_step_model_backend(b->step)));
    char basis[96];
    scn_latency_basis(b, basis, sizeof basis);
    cJSON_AddStringToObject(sc, "latency_basis", basis);
    if (s->hardware_profile)
        cJSON_AddStringToObject(sc, "hardware_profile", s->hardware_profile);
    cJSON_AddStringToObject(sc, "workload", wl_source_describe(b->source));
    cJSON_AddNumberToObject(sc, "seed", (double)s->seed);
    cJSON *eng = cJSON_AddObjectToObject(sc, "engine");
    cJSON_AddNumberToObject(eng, "max_num_seqs", b->sched.max_num_seqs);
    cJSON_AddNumberToObject(eng, "max_num_batched_tokens", b->sched.max_num_batched_tokens);
    cJSON_AddNumberToObject(eng, "max_model_len", b->sched.max_model_len);
    cJSON_AddNumberToObject(eng, "block_size", b->sched.block_size);
    cJSON_AddStringToObject(eng, "vllm_version", s->vllm_version ? s->vllm_version : "");
    cJSON_AddBoolToObject(eng, "async_scheduling", b->latency.async_scheduling);
    cJSON_AddBoolToObject(eng, "scheduler_reserve_full_isl", b->sched.reserve_full_isl);
    cJSON_AddBoolToObject(eng, "enforce_eager", b->latency.enforce_eager);
    cJSON_AddBoolToObject(eng, "otlp_tracing", b->latency.otlp_tracing);
    cJSON_AddNumberToObject(eng, "num_gpu_blocks", b->sched.num_gpu_blocks);
    cJSON_AddBoolToObject(eng, "num_gpu_blocks_overridden", b->blocks_overridden);
    cJSON_AddNumberToObject(eng, "gpu_memory_utilization", b->pools[0].gpu_memory_utilization);
    cJSON_AddNumberToObject(eng, "long_prefill_token_threshold", b->sched.long_prefill_token_threshold);
    cJSON_AddBoolToObject(eng, "enable_prefix_caching", b->sched.enable_prefix_caching);
    if (options_shown(s, b))
        add_options(eng, root, s, b, sum);

    const SimClassSummary *a = &sum->all;
    cJSON_AddNumberToObject(root, "arrived", (double)a->arrived);
    cJSON_AddNumberToObject(root, "completed", (double)a->completed);
    cJSON_AddNumberToObject(root, "rejected", (double)a->rejected);
    cJSON_AddNumberToObject(root, "in_flight", (double)a->in_flight);
    cJSON_AddNumberToObject(root, "rejected_too_long", (double)sum->rejected_too_long);
    cJSON_AddNumberToObject(root, "rejected_no_blocks", (double)sum->rejected_no_blocks);
    cJSON_AddNumberToObject(root, "rows_skipped", (double)sum->rows_skipped);
    cJSON_AddNumberToObject(root, "preemptions", (double)sum->preemptions);
    cJSON_AddNumberToObject(root, "preempted_requests", (double)a->preempted_requests);
    cJSON_AddNumberToObject(root, "duration_s", sum->duration_s);
    cJSON_AddNumberToObject(root, "requests_per_s", a->requests_per_s);
    cJSON_AddNumberToObject(root, "input_tokens_per_s", a->input_tokens_per_s);
    cJSON_AddNumberToObject(root, "output_tokens_per_s", a->output_tokens_per_s);
    cJSON_AddNumberToObject(root, "offered_rate", sum->offered_rate);
    cJSON_AddNumberToObject(root, "achieved_rate", sum->achieved_rate);
    add_stats(root, "ttft_ms", &a->ttft_ms);
    add_stats(root, "tpot_ms", &a->tpot_ms);
    add_stats(root, "itl_ms", &a->itl_ms);
    add_stats(root, "e2e_ms", &a->e2e_ms);
    add_stats(root, "queue_ms", &a->queue_ms);
    cJSON_AddNumberToObject(root, "kv_usage_mean", sum->kv_usage_mean);
    cJSON_AddNumberToObject(root, "kv_usage_peak", sum->kv_usage_peak);
    cJSON_AddNumberToObject(root, "batch_size_mean", sum->batch_size_mean);
    cJSON_AddNumberToObject(root, "batch_tokens_mean", sum->batch_tokens_mean);
    cJSON_AddNumberToObject(root, "busy_fraction", sum->busy_fraction);
    cJSON_AddNumberToObject(root, "queue_growth_ms", sum->queue_growth_ms);
    cJSON_AddNumberToObject(root, "queue_growth_rate", sum->queue_growth_rate);
    cJSON_AddNumberToObject(root, "steps", (double)sum->steps);
    cJSON_AddNumberToObject(root, "prefix_hit_tokens", (double)sum->prefix_hit_tokens);
    cJSON_AddNumberToObject(root, "first_arrival_s", sum->first_arrival_s);
    cJSON_AddNumberToObject(root, "end_s", sum->end_s);
    cJSON_AddBoolToObject(root, "stopped_at_limit", sum->stopped_at_limit);

    cJSON *classes = cJSON_AddArrayToObject(root, "classes");
    for (guint i = 0; i < sum->num_classes; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", sum->classes[i].name);
        add_class(o, &sum->classes[i]);
        cJSON_AddItemToArray(classes, o);
    }
    if (is_fleet) {
        cJSON_AddNumberToObject(root, "rejected_admission", (double)sum->rejected_admission);
        cJSON_AddNumberToObject(root, "prefix_query_tokens", (double)sum->prefix_query_tokens);
        add_fleet(root, s, b, sum, fleet);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char *out = g_strdup_printf("%s\n", text);
    cJSON_free(text);
    return out;
}

static void stats_row(FILE *out, const char *name, const SimStats *st)
{
    if (st->count == 0) {
        fprintf(out, "  %-8s %10s\n", name, "-");
        return;
    }
    fprintf(out, "  %-8s %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f\n", name, st->mean, st->p50, st->p90, st->p95,
            st->p99, st->max);
}

static void latency_table(FILE *out, const SimClassSummary *c)
{
    fprintf(out, "  %-8s %10s %10s %10s %10s %10s %10s\n", "(ms)", "mean", "p50", "p90", "p95", "p99", "max");
    stats_row(out, "TTFT", &c->ttft_ms);
    stats_row(out, "TPOT", &c->tpot_ms);
    stats_row(out, "ITL", &c->itl_ms);
    stats_row(out, "E2E", &c->e2e_ms);
    stats_row(out, "queue", &c->queue_ms);
}

/* The router and admission lines of a fleet. */
static void fleet_header(FILE *out, const ScnScenario *s, const ClResult *fr)
{
    fprintf(out, "router     %s", cl_router_policy_name(fr->policy));
    if (fr->policy == CL_ROUTER_WEIGHTED)
        fprintf(out, " (weights: prefix %g, queue %g, kv %g)", s->fleet.router.prefix_weight,
                s->fleet.router.queue_weight, s->fleet.router.kv_weight);
    if (fr->snapshot_interval_ms > 0)
        fprintf(out, ", replica signals every %g ms", fr->snapshot_interval_ms);
    if (fr->router_latency_ms > 0)
        fprintf(out, ", %g ms router latency", fr->router_latency_ms);
    fputc('\n', out);
    const ClAdmissionSpec *a = &s->fleet.admission;
    if (a->max_waiting_per_replica || a->max_waiting || a->rate_limit > 0) {
        fprintf(out, "admission ");
        const char *sep = " ";
        if (a->rate_limit > 0) {
            fprintf(out, "%stoken bucket %g req/s (burst %g)", sep, a->rate_limit,
                    a->burst > 0 ? a->burst : MAX(1.0, a->rate_limit));
            sep = ", ";
        }
        if (a->max_waiting) {
            fprintf(out, "%sat most %u waiting in the fleet", sep, a->max_waiting);
            sep = ", ";
        }
        if (a->max_waiting_per_replica)
            fprintf(out, "%sat most %u waiting per replica", sep, a->max_waiting_per_replica);
        fputc('\n', out);
    }
}

static void fleet_table(FILE *out, const ScnBuilt *b, const SimSummary *sum, const ClResult *fr)
{
    fprintf(out, "\nfleet      imbalance %.3f (max / mean requests per replica), Jain's fairness %.4f; "
                 "prefix-cache hit rate %.1f%%\n",
            fr->imbalance, fr->jain_index, 100 * fr->prefix_hit_rate);
    if (sum->rejected_admission)
        fprintf(out, "           rejected at the router: %" G_GUINT64_FORMAT " rate limit, %" G_GUINT64_FORMAT
                     " fleet queue full, %" G_GUINT64_FORMAT " replica queues full\n",
                fr->rejected[CL_REJECT_RATE_LIMIT], fr->rejected[CL_REJECT_FLEET_QUEUE],
                fr->rejected[CL_REJECT_REPLICA_QUEUE]);
    fprintf(out, "\n  %-7s %-10s %9s %8s %10s %9s %9s %9s %9s %7s %7s %7s %8s\n", "replica", "pool", "requests",
            "req/s", "out tok/s", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99", "KV mean", "KV peak", "hit",
            "preempt");
    for (guint r = 0; r < sum->num_replicas; r++) {
        const SimReplicaSummary *rs = &sum->replicas[r];
        fprintf(out, "  %-7u %-10.10s %9" G_GUINT64_FORMAT " %8.3f %10.1f %9.2f %9.2f %9.2f %9.2f %6.1f%% %6.1f%% "
                     "%6.1f%% %8" G_GUINT64_FORMAT "\n",
                rs->index, b->pools[fr->replica_pool[r]].name, rs->arrived, rs->requests_per_s,
                rs->output_tokens_per_s, rs->ttft_ms.p50, rs->ttft_ms.p99, rs->tpot_ms.p50, rs->tpot_ms.p99,
                100 * rs->kv_usage_mean, 100 * rs->kv_usage_peak, 100 * rs->prefix_hit_rate, rs->preemptions);
    }
}

void scn_report_text(FILE *out, const ScnScenario *s, const ScnBuilt *b, const SimSummary *sum,
                     const ClResult *fleet)
{
    gboolean is_fleet = fleet && scn_built_is_fleet(s, b);
    const SimClassSummary *a = &sum->all;
    char basis[96];
    gboolean measured = scn_latency_basis(b, basis, sizeof basis);
    if (!is_fleet || b->num_pools == 1) {
        fprintf(out, "scenario   %s: %s on ", s->name ? s->name : "", b->model->name);
        if (b->num_replicas > 1)
            fprintf(out, "%u replicas of ", b->num_replicas);
        fprintf(out, "%u x %s (TP %u), %s step model (%s%s)\n", b->pools[0].tensor_parallel_size, b->hw->name,
                b->pools[0].tensor_parallel_size, lat_backend_name(lat_step_model_backend(b->step)),
                measured ? "tables measured on this GPU" : basis, measured ? "" : ": an estimate");
    } else {
        fprintf(out, "scenario   %s: %s on %u replicas in %u pools\n", s->name ? s->name : "", b->model->name,
                b->num_replicas, b->num_pools);
    }
    fprintf(out, "vLLM       %s: %s scheduling, CUDA graphs %s%s%s%s\n", s->vllm_version ? s->vllm_version : "?",
            b->latency.async_scheduling ? "async" : "synchronous", b->latency.enforce_eager ? "off" : "on",
            b->sched.reserve_full_isl ? ", admission reserves the whole prompt" : "",
            b->latency.otlp_tracing ? ", OpenTelemetry tracing" : "",
            s->hardware_profile ? ", calibrated profile" : "");
    if (!is_fleet || b->num_pools == 1) {
        fprintf(out, "engine     max_num_seqs %u, max_num_batched_tokens %u, max_model_len %u, block_size %u,\n"
                     "           %u KV blocks (%s), prefix caching %s, long-prefill threshold %u\n",
                b->sched.max_num_seqs, b->sched.max_num_batched_tokens, b->sched.max_model_len, b->sched.block_size,
                b->sched.num_gpu_blocks, b->blocks_overridden ? "given" : "estimated from memory",
                b->sched.enable_prefix_caching ? "on" : "off", b->sched.long_prefill_token_threshold);
        fprintf(out,
                "memory     per GPU: %.1f GiB usable, %.1f GiB of weights, %.1f GiB of activations, %.1f GiB of KV "
                "cache (%.2f MiB per block)%s\n",
                b->memory.usable_bytes / GIB, b->memory.weight_bytes / GIB, b->memory.activation_bytes / GIB,
                (double)b->sched.num_gpu_blocks * b->memory.block_bytes / GIB, b->memory.block_bytes / MIB,
                b->blocks_overridden ? " (blocks given)" : "");
    } else {
        for (guint i = 0; i < b->num_pools; i++) {
            const ScnBuiltPool *p = &b->pools[i];
            ScnBuilt one = {.step = p->step};
            gboolean pm = scn_latency_basis(&one, basis, sizeof basis);
            fprintf(out, "%s %s: %u x (%u x %s, TP %u), %s step model (%s%s), %s scheduling;\n"
                         "           max_num_seqs %u, max_num_batched_tokens %u, %u KV blocks (%s), prefix caching "
                         "%s\n",
                    i ? "          " : "pools     ", p->name, p->count, p->tensor_parallel_size, p->hw->name,
                    p->tensor_parallel_size, lat_backend_name(lat_step_model_backend(p->step)),
                    pm ? "tables measured on this GPU" : basis, pm ? "" : ": an estimate",
                    p->latency.async_scheduling ? "async" : "synchronous", p->sched.max_num_seqs,
                    p->sched.max_num_batched_tokens, p->sched.num_gpu_blocks,
                    p->blocks_overridden ? "given" : "estimated from memory",
                    p->sched.enable_prefix_caching ? "on" : "off");
        }
    }
    if (options_shown(s, b)) {
        char **lines = scn_options_describe(&s->options);
        char buf[128];
        fprintf(out, "options    weights %s", lat_model_weight_format(b->model, buf, sizeof buf));
        for (char **l = lines; *l; l++)
            fprintf(out, ";\n           %s", *l);
        if (b->sched.kv_groups_sliding)
            fprintf(out, ";\n           hybrid KV cache: 1 full-attention group and %u sliding-window groups of %u "
                         "layers (window %u tokens)",
                    b->sched.kv_groups_sliding, b->memory.group_layers, b->model->sliding_window);
        fputc('\n', out);
        g_strfreev(lines);
    }
    if (is_fleet)
        fleet_header(out, s, fleet);
    fprintf(out, "workload   %s, seed %" G_GUINT64_FORMAT "\n", wl_source_describe(b->source), s->seed);
    fprintf(out, "\nrequests   %" G_GUINT64_FORMAT " arrived, %" G_GUINT64_FORMAT " completed, %" G_GUINT64_FORMAT
                 " rejected, %" G_GUINT64_FORMAT " in flight",
            a->arrived, a->completed, a->rejected, a->in_flight);
    if (sum->rows_skipped)
        fprintf(out, ", %" G_GUINT64_FORMAT " bad rows skipped", sum->rows_skipped);
    fputc('\n', out);
    if (a->rejected && !sum->rejected_admission)
        fprintf(out, "           rejected: %" G_GUINT64_FORMAT " longer than max_model_len, %" G_GUINT64_FORMAT
                     " needing more KV blocks than exist\n",
                sum->rejected_too_long, sum->rejected_no_blocks);
    else if (a->rejected)
        fprintf(out, "           rejected: %" G_GUINT64_FORMAT " by the router's admission, %" G_GUINT64_FORMAT
                     " longer than max_model_len, %" G_GUINT64_FORMAT " needing more KV blocks than exist\n",
                sum->rejected_admission, sum->rejected_too_long, sum->rejected_no_blocks);
    fprintf(out, "           %" G_GUINT64_FORMAT " preemptions (%" G_GUINT64_FORMAT " requests preempted)\n",
            sum->preemptions, a->preempted_requests);
    if (sum->stopped_at_limit)
        fprintf(out, "           stopped at the time limit (%.1f s) with requests in flight\n", sum->end_s);
    fprintf(out, "duration   %.2f s simulated; offered %.3f req/s, achieved %.3f req/s\n", sum->duration_s,
            sum->offered_rate, sum->achieved_rate);
    fprintf(out, "throughput %.3f req/s, %.1f input tok/s, %.1f output tok/s\n", a->requests_per_s,
            a->input_tokens_per_s, a->output_tokens_per_s);
    fprintf(out, "KV cache   usage mean %.1f%%, peak %.1f%%; prefix-cache hits %" G_GUINT64_FORMAT " tokens\n",
            100 * sum->kv_usage_mean, 100 * sum->kv_usage_peak, sum->prefix_hit_tokens);
    /* the token budget is one when every pool has the same */
    guint budget = b->sched.max_num_batched_tokens;
    for (guint i = 1; i < b->num_pools; i++)
        if (b->pools[i].sched.max_num_batched_tokens != budget)
            budget = 0;
    if (budget)
        fprintf(out,
                "batches    %" G_GUINT64_FORMAT " steps, mean %.1f requests and %.1f tokens per step (%.1f%% of the "
                "token budget)\n",
                sum->steps, sum->batch_size_mean, sum->batch_tokens_mean, 100 * sum->batch_tokens_mean / budget);
    else
        fprintf(out, "batches    %" G_GUINT64_FORMAT " steps, mean %.1f requests and %.1f tokens per step\n", sum->steps,
                sum->batch_size_mean, sum->batch_tokens_mean);
    fprintf(out, "           %sa step was running %.1f%% of the time%s (busy: any step in progress, however small; "
                 "not GPU utilisation)\n",
            is_fleet ? "on a replica, " : "", 100 * sum->busy_fraction, is_fleet ? " on average" : "");
    const SchedOptionStats *st = &sum->options;
    PoolOptions po = pool_options(b);
    if (po.spec && st->spec_verifications) {
        fprintf(out, "speculate  %" G_GUINT64_FORMAT " verifications, %.1f%% of %" G_GUINT64_FORMAT
                     " drafts accepted, mean acceptance length %.3f",
                st->spec_verifications, 100.0 * st->spec_accepted / MAX(st->spec_drafted, 1), st->spec_drafted,
                1.0 + (double)st->spec_accepted / st->spec_verifications);
        if (b->num_pools == 1)
            fprintf(out, " (the model's %.3f)", sched_spec_mean_length(b->sched.spec_accept, b->sched.num_spec_tokens));
        fputc('\n', out);
    }
    if (po.offload)
        fprintf(out, "offload    %" G_GUINT64_FORMAT " prompt tokens loaded from host memory, %" G_GUINT64_FORMAT
                     " blocks stored\n",
                st->offload_hit_tokens, st->offload_stores);
    if (po.lora)
        fprintf(out, "LoRA       %" G_GUINT64_FORMAT " adapter loads into GPU slots, %" G_GUINT64_FORMAT " from disk\n",
                st->lora_loads, st->lora_disk_loads);
    fprintf(out, "\nlatency of completed requests\n");
    latency_table(out, a);
    if (sum->num_classes > 1) {
        for (guint i = 0; i < sum->num_classes; i++) {
            const SimClassSummary *c = &sum->classes[i];
            fprintf(out, "\nclass %s: %" G_GUINT64_FORMAT " arrived, %" G_GUINT64_FORMAT " completed, %" G_GUINT64_FORMAT
                         " rejected; %.3f req/s, %.1f output tok/s\n",
                    c->name, c->arrived, c->completed, c->rejected, c->requests_per_s, c->output_tokens_per_s);
            latency_table(out, c);
        }
    }
    if (is_fleet) {
        fleet_table(out, b, sum, fleet);
        scn_report_text_pd(out, s, b, fleet);
    }
}
