/*
 * scn_report.c: a run's aggregates as JSON (schema "servesim.run/1",
 * docs/output.md) and as a summary a person reads.
 *
 * Both are functions of the scenario and the simulated results only (no
 * wall-clock time, no host names), so the same inputs and seed give the same
 * bytes.
 */
#include "scn.h"

#include <cjson/cJSON.h>
#include <string.h>

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

char *scn_report_json(const ScnScenario *s, const ScnBuilt *b, const SimSummary *sum)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "servesim.run/1");

    cJSON *sc = cJSON_AddObjectToObject(root, "scenario");
    cJSON_AddStringToObject(sc, "name", s->name ? s->name : "");
    cJSON_AddStringToObject(sc, "model", b->model->name);
    cJSON_AddStringToObject(sc, "hardware", b->hw->name);
    cJSON_AddNumberToObject(sc, "tensor_parallel_size", s->tensor_parallel_size);
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
    cJSON_AddNumberToObject(eng, "gpu_memory_utilization", s->gpu_memory_utilization);
    cJSON_AddNumberToObject(eng, "long_prefill_token_threshold", b->sched.long_prefill_token_threshold);
    cJSON_AddBoolToObject(eng, "enable_prefix_caching", b->sched.enable_prefix_caching);

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

void scn_report_text(FILE *out, const ScnScenario *s, const ScnBuilt *b, const SimSummary *sum)
{
    const SimClassSummary *a = &sum->all;
    char basis[96];
    gboolean measured = scn_latency_basis(b, basis, sizeof basis);
    fprintf(out, "scenario   %s: %s on %u x %s (TP %u), %s step model (%s%s)\n", s->name ? s->name : "",
            b->model->name, s->tensor_parallel_size, b->hw->name, s->tensor_parallel_size,
            lat_backend_name(lat_step_model_backend(b->step)), measured ? "tables measured on this GPU" : basis,
            measured ? "" : ": an estimate");
    fprintf(out, "vLLM       %s: %s scheduling, CUDA graphs %s%s%s%s\n", s->vllm_version ? s->vllm_version : "?",
            b->latency.async_scheduling ? "async" : "synchronous", b->latency.enforce_eager ? "off" : "on",
            b->sched.reserve_full_isl ? ", admission reserves the whole prompt" : "",
            b->latency.otlp_tracing ? ", OpenTelemetry tracing" : "",
            s->hardware_profile ? ", calibrated profile" : "");
    fprintf(out, "engine     max_num_seqs %u, max_num_batched_tokens %u, max_model_len %u, block_size %u,\n"
                 "           %u KV blocks (%s), prefix caching %s, long-prefill threshold %u\n",
            b->sched.max_num_seqs, b->sched.max_num_batched_tokens, b->sched.max_model_len, b->sched.block_size,
            b->sched.num_gpu_blocks, b->blocks_overridden ? "given" : "estimated from memory",
            b->sched.enable_prefix_caching ? "on" : "off", b->sched.long_prefill_token_threshold);
    fprintf(out, "memory     per GPU: %.1f GiB usable, %.1f GiB of weights, %.1f GiB of activations, %.1f GiB of KV "
                 "cache (%.2f MiB per block)%s\n",
            b->memory.usable_bytes / GIB, b->memory.weight_bytes / GIB, b->memory.activation_bytes / GIB,
            (double)b->sched.num_gpu_blocks * b->memory.block_bytes / GIB, b->memory.block_bytes / MIB,
            b->blocks_overridden ? " (blocks given)" : "");
    fprintf(out, "workload   %s, seed %" G_GUINT64_FORMAT "\n", wl_source_describe(b->source), s->seed);
    fprintf(out, "\nrequests   %" G_GUINT64_FORMAT " arrived, %" G_GUINT64_FORMAT " completed, %" G_GUINT64_FORMAT
                 " rejected, %" G_GUINT64_FORMAT " in flight",
            a->arrived, a->completed, a->rejected, a->in_flight);
    if (sum->rows_skipped)
        fprintf(out, ", %" G_GUINT64_FORMAT " bad rows skipped", sum->rows_skipped);
    fputc('\n', out);
    if (a->rejected)
        fprintf(out, "           rejected: %" G_GUINT64_FORMAT " longer than max_model_len, %" G_GUINT64_FORMAT
                     " needing more KV blocks than exist\n",
                sum->rejected_too_long, sum->rejected_no_blocks);
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
    fprintf(out, "batches    %" G_GUINT64_FORMAT " steps, mean %.1f requests and %.1f tokens per step (%.1f%% of the "
                 "token budget)\n",
            sum->steps, sum->batch_size_mean, sum->batch_tokens_mean,
            b->sched.max_num_batched_tokens ? 100 * sum->batch_tokens_mean / b->sched.max_num_batched_tokens : 0.0);
    fprintf(out, "           a step was running %.1f%% of the time (busy: any step in progress, however small; "
                 "not GPU utilisation)\n",
            100 * sum->busy_fraction);
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
}
