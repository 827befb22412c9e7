/*
 * lat_step.c: the step-time model: one vLLM V1 step (one forward pass over
 * every scheduled token, prefill chunks and decodes together) on one GPU of
 * a tensor-parallel group, with the CPU work around it.
 *
 * GPU time, the sum of (docs/latency.md gives each term and its source)
 *   projections      per layer, m = every token of the step: fused qkv and
 *                    gate_up (column-parallel, n/tp), o and down (row-
 *                    parallel, k/tp), MLA projections, router, shared experts
 *   moe_experts      routed experts as one grouped GEMM over the experts hit,
 *                    E·(1 − (1 − k/E)^T) of E, with T·k/hit tokens each
 *   elementwise      per layer: two fused add+RMSNorm, rotary, KV-cache
 *                    write, SiLU-and-mul (and MoE routing and permutes)
 *   attention_prefill per chunk, by its real shape (new after cached tokens)
 *   attention_decode one batched kernel for all decodes
 *   allreduce        tp > 1: two per layer of m·d activations
 *   lm_head          once for the requests that sample, with the sampler
 * each kernel timed by lat_kernels.c from measured tables (this GPU's, or
 * another's transferred by the roofline rule), roofline v1 where none.
 * CUDA graphs: a step of at most the largest capture size runs padded to the
 * next capture size (a full graph for pure decode, piecewise with eager
 * attention for mixed steps); larger steps and --enforce-eager run eagerly,
 * and every kernel launched outside a graph costs launch_us of CPU.
 * The engine options (docs/options/) change the kernels, not a factor:
 *   quantization   the GEMMs' weight format (FP8 tables, or BF16 tables with
 *                  the weight bytes of a weight-only format: lat_kernels.c);
 *   FP8 KV cache   half the KV bytes of attention and of the KV write;
 *   sliding window the sliding layers' attention bounded by the window;
 *   speculation    decodes verify 1 + k tokens (projections and LM head over
 *                  every verified token, attention with k more queries), and
 *   draft          the drafter's passes (a draft model's or head's own step);
 *   lora           the shrink and expand kernels of every adapted projection,
 *                  and adapters copied into GPU slots;
 *   kv_load        KV blocks copied from host memory, overlapped with compute.
 * Each is skipped by one test when off (a batch without spec tokens, LoRA
 * tokens or loaded KV; a model without sliding layers).
 * CPU time: step_overhead_us (+ tracing_overhead_us with OpenTelemetry
 * tracing) + launches. A step takes CPU + GPU (synchronous scheduling, vLLM
 * before 0.14) or max(CPU, GPU) (async scheduling: the CPU work of a step
 * overlaps the GPU work of the previous one).
 *
 * Monotone by construction: every kernel time is non-decreasing in its work
 * (tokens, requests, KV length) and non-increasing in the GPU's peak and
 * bandwidth; padding only rounds up. tests/test_lat_laws.c checks it on
 * every GPU.
 *
 * Files: lat_step_setup.c builds the model, lat_step_terms.c holds the
 * GPU-time terms, lat_step_internal.h the state; this file assembles a
 * step's time (the hot path, kept in one file so that it inlines as one
 * unit) and its breakdown.
 *
 * Cost of lat_step_model_seconds: no allocation; the parts that depend only
 * on the (padded) token count and on the sampled count are cached per count,
 * decode attention is one grid lookup, prefill attention one curve lookup
 * per chunk.
 */
#include <math.h>
#include <string.h>

#include "lat_step_internal.h"

/* ------------------------------------------------- padding and CPU time -- */

/* The token count a step runs at, and how: padded to the next CUDA-graph
 * capture size when it has one (full graph for pure decode, piecewise
 * otherwise), unpadded and eager when it is larger or graphs are off. */
static double padded_count(const LatStepModel *sm, uint64_t m, gboolean pure_decode, GraphMode *mode)
{
    if (sm->p.enforce_eager || m > sm->cap[sm->ncap - 1]) {
        *mode = GRAPH_NONE;
        return (double)m;
    }
    guint lo = 0, hi = sm->ncap - 1;
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        if (sm->cap[mid] >= m)
            hi = mid;
        else
            lo = mid + 1;
    }
    *mode = pure_decode ? GRAPH_FULL : GRAPH_PIECEWISE;
    return (double)sm->cap[lo];
}

static double padded(const LatStepModel *sm, const BatchDesc *b, GraphMode *mode)
{
    return padded_count(sm, b->total_tokens, b->num_prefill == 0, mode);
}

/* Kernel launches the CPU issues in this step. */
static double launches(const LatStepModel *sm, GraphMode mode)
{
    switch (mode) {
    case GRAPH_FULL:
        return 1.0;
    case GRAPH_PIECEWISE: /* one graph per piece and attention eagerly between them */
        return 2.0 * sm->attn_layers + 1.0;
    case GRAPH_NONE:
        break;
    }
    return sm->kernels_per_layer * sm->layers + 4.0;
}

static double cpu_seconds(const LatStepModel *sm)
{
    return (sm->p.step_overhead_us + (sm->p.otlp_tracing ? sm->p.tracing_overhead_us : 0.0)) * 1e-6;
}

static double combine(const LatStepModel *sm, double gpu, double launch_cpu)
{
    double cpu = cpu_seconds(sm);
    if (sm->p.async_scheduling)
        return MAX(gpu, cpu + launch_cpu);
    return cpu + MAX(gpu, launch_cpu);
}

/* ------------------------------------------------------------ hot path -- */

/* When a sampled token leaves the engine, after the step's end: with async
 * scheduling the engine processes a step's outputs once its GPU work is
 * done, in output_fraction of its CPU time; synchronous scheduling does it
 * within the step. */
static double delivery_delay(const LatStepModel *sm, double gpu, double launch_cpu, double step)
{
    if (!sm->p.async_scheduling)
        return 0.0;
    double out = sm->p.output_fraction * (cpu_seconds(sm) + launch_cpu);
    return MAX(0.0, MAX(gpu, launch_cpu) + out - step);
}

double lat_step_model_seconds(LatStepModel *sm, const BatchDesc *b)
{
    return lat_step_model_seconds_delay(sm, b, NULL);
}

/* The parts that depend only on a token count, cached per count. */
static inline double m_time_cached(LatStepModel *sm, double mp)
{
    uint64_t mi = (uint64_t)mp;
    if (mi < sm->cache_len) {
        double *c = &sm->mcache[mi];
        if (*c < 0)
            *c = lat_step_m_time(sm, mp);
        return *c;
    }
    return lat_step_m_time(sm, mp);
}

static inline double lm_time_cached(LatStepModel *sm, uint32_t s)
{
    if (s == 0)
        return 0.0;
    if (s < sm->cache_len) {
        double *c = &sm->lmcache[s];
        if (*c < 0)
            *c = lat_step_lm_time(sm, s, NULL, NULL, 0);
        return *c;
    }
    return lat_step_lm_time(sm, s, NULL, NULL, 0);
}

/* Sum over the decodes of their KV within the window. */
static double window_kv(const LatStepModel *sm, const BatchDesc *b)
{
    double sum = 0;
    uint32_t left = b->num_decode;
    for (uint32_t i = 0; left > 0 && i < b->num_entries; i++) {
        const BatchEntry *e = &b->entries[i];
        if (batch_entry_is_decode(e)) {
            sum += MIN((double)e->cached_tokens + e->new_tokens, sm->window);
            left--;
        }
    }
    return sum;
}

/* Attention of every decode of the step (and the draft tokens they verify),
 * all layers; sliding layers read the window only. */
static inline double decode_attn(const LatStepModel *sm, const BatchDesc *b, char *src, gsize len, double *flops,
                          double *bytes)
{
    double spec = b->spec_tokens;
    if (G_LIKELY(spec == 0 && sm->swa_layers <= 0 && !src && !flops && !bytes)) /* the hot path */
        return sm->attn_layers * lat_attn_decode_time(&sm->attn, &sm->roof, &sm->p, b->num_decode,
                                                      (double)b->decode_kv_tokens, b->decode_kv_max, NULL, 0, NULL,
                                                      NULL);
    if (sm->swa_layers <= 0) {
        double f = 0, by = 0;
        double t = sm->attn_layers * lat_attn_decode_time_spec(&sm->attn, &sm->roof, &sm->p, b->num_decode,
                                                               (double)b->decode_kv_tokens, spec, src, len, &f, &by);
        if (flops)
            *flops = sm->attn_layers * f;
        if (bytes)
            *bytes = sm->attn_layers * by;
        return t;
    }
    double f1 = 0, b1 = 0, f2 = 0, b2 = 0;
    double t = sm->full_layers * lat_attn_decode_time_spec(&sm->attn, &sm->roof, &sm->p, b->num_decode,
                                                           (double)b->decode_kv_tokens, spec, NULL, 0, &f1, &b1);
    t += sm->swa_layers * lat_attn_decode_time_spec(&sm->attn, &sm->roof, &sm->p, b->num_decode, window_kv(sm, b),
                                                    spec, src, len, &f2, &b2);
    if (src) {
        gsize l = strlen(src);
        g_snprintf(src + l, len - l, "; %g of %g layers read a %g-token window", sm->swa_layers, sm->attn_layers,
                   sm->window);
    }
    if (flops)
        *flops = sm->full_layers * f1 + sm->swa_layers * f2;
    if (bytes)
        *bytes = sm->full_layers * b1 + sm->swa_layers * b2;
    return t;
}

/* One prefill chunk, all layers (out of line: at most a few per step, and
 * the per-step path stays small). */
static G_NO_INLINE double prefill_attn(const LatStepModel *sm, const BatchEntry *e, char *src, gsize len,
                                       double *flops, double *bytes)
{
    if (sm->swa_layers <= 0) {
        double f = 0, by = 0;
        double t = sm->attn_layers * lat_attn_prefill_time(&sm->attn, &sm->roof, &sm->p, e->new_tokens,
                                                           e->cached_tokens, src, len, &f, &by);
        if (flops)
            *flops = f;
        if (bytes)
            *bytes = by;
        return t;
    }
    double f1 = 0, b1 = 0, f2 = 0, b2 = 0;
    double t = sm->full_layers * lat_attn_prefill_time(&sm->attn, &sm->roof, &sm->p, e->new_tokens,
                                                       e->cached_tokens, NULL, 0, &f1, &b1);
    t += sm->swa_layers * lat_attn_prefill_time_window(&sm->attn, &sm->roof, &sm->p, e->new_tokens,
                                                       e->cached_tokens, sm->window, src, len, &f2, &b2);
    /* per layer, weighted, so that callers multiply by attn_layers as before */
    if (flops)
        *flops = (sm->full_layers * f1 + sm->swa_layers * f2) / sm->attn_layers;
    if (bytes)
        *bytes = (sm->full_layers * b1 + sm->swa_layers * b2) / sm->attn_layers;
    return t;
}

/* The GPU time of a step's forward pass: every kernel of the batch with
 * `lm_rows` rows of logits. *sampled_kv (may be NULL) gets the KV length
 * summed over the requests that sample (what a drafter's later passes
 * attend to). */
static G_ALWAYS_INLINE inline double gpu_core(LatStepModel *sm, const BatchDesc *b, uint32_t lm_rows, GraphMode *mode,
                                              double *sampled_kv)
{
    double mp = padded(sm, b, mode);
    double gpu = m_time_cached(sm, mp);
    gpu += lm_time_cached(sm, lm_rows);
    if (b->num_decode > 0)
        gpu += decode_attn(sm, b, NULL, 0, NULL, NULL);
    uint32_t left = b->num_prefill;
    if (G_LIKELY(b->spec_tokens == 0 && !sampled_kv)) { /* without drafts a decode is one token */
        for (uint32_t i = 0; left > 0 && i < b->num_entries; i++) {
            const BatchEntry *e = &b->entries[i];
            if (e->new_tokens > 1) {
                gpu += prefill_attn(sm, e, NULL, 0, NULL, NULL);
                left--;
            }
        }
        return gpu;
    }
    double skv = (double)b->decode_kv_tokens;
    for (uint32_t i = 0; left > 0 && i < b->num_entries; i++) {
        const BatchEntry *e = &b->entries[i];
        if (!batch_entry_is_decode(e)) {
            gpu += prefill_attn(sm, e, NULL, 0, NULL, NULL);
            if (e->emits_token)
                skv += (double)e->cached_tokens + e->new_tokens;
            left--;
        }
    }
    if (sampled_kv)
        *sampled_kv = skv;
    return gpu;
}

/* The drafter of speculative decoding (docs/options/speculative-decoding.md):
 * one pass of the draft over every token of the step (it reads the target's
 * hidden states of all of them, and fills its own KV), then k - 1 passes of
 * one token per request that sampled, each a pure decode of the draft. */
static double draft_time(LatStepModel *sm, const BatchDesc *b, double sampled_kv, double *passes_time)
{
    LatStepModel *d = sm->draft;
    GraphMode mode;
    double first = gpu_core(d, b, b->num_sampled, &mode, NULL);
    double rest = 0;
    double n = b->num_sampled;
    if (n > 0 && sm->spec_k > 1) {
        double mp = padded_count(d, b->num_sampled, TRUE, &mode);
        double per = m_time_cached(d, mp) + lm_time_cached(d, b->num_sampled);
        for (double i = 1; i < sm->spec_k; i++)
            rest += per + d->attn_layers * lat_attn_decode_time(&d->attn, &d->roof, &d->p, n, sampled_kv + i * n, 0,
                                                                NULL, 0, NULL, NULL);
    }
    if (passes_time)
        *passes_time = rest;
    return first + rest;
}

/* The options' terms over the forward pass's GPU time. */
static G_NO_INLINE double options_time(LatStepModel *sm, const BatchDesc *b, double gpu, double sampled_kv)
{
    if (G_UNLIKELY(sm->draft != NULL))
        gpu += draft_time(sm, b, sampled_kv, NULL);
    if (G_UNLIKELY(b->lora_tokens > 0 && sm->lora_rank > 0))
        gpu += lat_step_lora_time(sm, b, NULL);
    if (G_UNLIKELY(b->lora_loads + b->lora_disk_loads > 0 && sm->lora_rank > 0))
        gpu += lat_step_lora_load_time(sm, b);
    if (G_UNLIKELY(b->kv_load_tokens > 0 && sm->offload))
        gpu = MAX(gpu, lat_step_kv_load_time(sm, b, NULL)); /* overlapped with compute, layer by layer */
    return gpu;
}

double lat_step_model_seconds_delay(LatStepModel *sm, const BatchDesc *b, double *delay)
{
    if (delay)
        *delay = 0.0;
    if (b->num_entries == 0)
        return 0.0;
    GraphMode mode;
    double skv = 0;
    double gpu;
    if (G_LIKELY(!sm->options_on)) { /* no engine option that adds a term */
        gpu = gpu_core(sm, b, b->num_sampled + b->spec_tokens, &mode, NULL);
    } else {
        gpu = gpu_core(sm, b, b->num_sampled + b->spec_tokens, &mode, sm->draft ? &skv : NULL);
        gpu = options_time(sm, b, gpu, skv);
    }
    double launch_cpu = launches(sm, mode) * sm->p.launch_us * 1e-6;
    double step = combine(sm, gpu, launch_cpu);
    if (delay)
        *delay = delivery_delay(sm, gpu, launch_cpu, step);
    return step;
}

/* ------------------------------------------------------------ breakdown -- */

static LatComponent *component(LatBreakdown *out, const char *name)
{
    g_assert(out->num_components < LAT_MAX_COMPONENTS); /* at most 13 are added: 7 terms, 4 options', cpu, launches */
    LatComponent *c = &out->components[out->num_components++];
    memset(c, 0, sizeof *c);
    c->name = name;
    return c;
}

static void component_from(LatComponent *c, const Acc *a)
{
    c->seconds = a->seconds;
    c->flops = a->flops;
    c->bytes = a->bytes;
    c->bound = a->compute_s >= a->memory_s ? LAT_BOUND_COMPUTE : LAT_BOUND_MEMORY;
}

static LatLookup *lookup(LatBreakdown *out, const char *comp)
{
    if (out->num_lookups >= LAT_MAX_LOOKUPS)
        return NULL;
    LatLookup *l = &out->lookups[out->num_lookups++];
    memset(l, 0, sizeof *l);
    l->component = comp;
    return l;
}

/* "measured on H100-SXM" / "transferred from H100-SXM" for a donor. */
static void donor_note(const LatStepModel *sm, const LatHardware *donor, char *buf, gsize len)
{
    if (!donor)
        g_strlcpy(buf, "", len);
    else if (donor == sm->hw)
        g_snprintf(buf, len, "; measured on %s", donor->name);
    else
        g_snprintf(buf, len, "; measured on %s, transferred by the roofline rule", donor->name);
}

static void gemm_component(const LatStepModel *sm, LatBreakdown *out, const char *name, const Gemm *const *gs,
                           guint n, double m)
{
    Acc a = {0};
    gboolean est = FALSE;
    const LatHardware *donor = NULL;
    for (guint i = 0; i < n; i++) {
        const Gemm *g = gs[i];
        char src[200] = "";
        Acc one = {0};
        double t = lat_step_gemm_time(sm, g, m, &one, src, sizeof src);
        acc_add(&a, one.seconds, one.flops, one.bytes, one.compute_s >= one.memory_s);
        est = est || g->c.estimated;
        if (!donor && !g->c.estimated)
            donor = g->c.donor;
        LatLookup *l = lookup(out, name);
        if (l) {
            char note[96];
            donor_note(sm, g->c.donor, note, sizeof note);
            g_snprintf(l->what, sizeof l->what, "%s m=%g k=%u n=%u x%g", g->name, m, g->c.k, g->c.n, g->count);
            g_snprintf(l->source, sizeof l->source, "%s%s", src, note);
            l->seconds = t;
            l->estimated = g->c.estimated;
        }
    }
    LatComponent *c = component(out, name);
    component_from(c, &a);
    c->estimated = est;
    if (est)
        g_strlcpy(c->source, "estimated: no GEMM table on any GPU (roofline-v1 constants)", sizeof c->source);
    else if (n > 0) {
        char note[96];
        donor_note(sm, donor, note, sizeof note);
        g_snprintf(c->source, sizeof c->source, "%s (%u GEMMs, see --verbose)%s", lat_mfu_curve_file(gs[0]->c.curve),
                   n, note);
    }
}

/* The options' components (the same terms as options_time); returns the GPU time. */
static double options_breakdown(LatStepModel *sm, const BatchDesc *b, LatBreakdown *out, double gpu)
{
    LatComponent *c;
    if (sm->draft) {
        GraphMode mode;
        double skv = 0, rest = 0;
        gpu_core(sm, b, 0, &mode, &skv);
        double t = draft_time(sm, b, skv, &rest);
        gpu += t;
        c = component(out, "draft");
        c->seconds = t;
        c->bound = LAT_BOUND_COMPUTE;
        c->estimated = lat_step_model_estimated(sm->draft);
        g_snprintf(c->source, sizeof c->source,
                   "%s (%u layer%s): one pass over the step's %" G_GUINT64_FORMAT " tokens (%.3f ms) + %g passes of %u "
                   "(%.3f ms)",
                   sm->draft->model->name, sm->draft->model->num_layers, sm->draft->model->num_layers == 1 ? "" : "s",
                   (guint64)b->total_tokens, (t - rest) * 1e3, b->num_sampled ? MAX(sm->spec_k - 1, 0) : 0,
                   b->num_sampled, rest * 1e3);
    }
    if (b->lora_tokens > 0 && sm->lora_rank > 0) {
        Acc a = {0};
        double t = lat_step_lora_time(sm, b, &a);
        gpu += t;
        c = component(out, "lora");
        component_from(c, &a);
        c->bound = LAT_BOUND_MEMORY;
        c->estimated = TRUE;
        g_snprintf(c->source, sizeof c->source,
                   "shrink + expand of each adapted projection: %" G_GUINT64_FORMAT " tokens, %u adapter%s, rank %g; "
                   "%g us + roofline-v1 per kernel",
                   (guint64)b->lora_tokens, b->lora_adapters, b->lora_adapters == 1 ? "" : "s", sm->lora_rank,
                   sm->p.kernel_floor_us);
    }
    if (b->lora_loads + b->lora_disk_loads > 0 && sm->lora_rank > 0) {
        double t = lat_step_lora_load_time(sm, b);
        gpu += t;
        c = component(out, "lora_load");
        c->seconds = t;
        c->bytes = b->lora_loads * sm->lora_adapter_bytes;
        c->bound = LAT_BOUND_COMMUNICATION;
        g_snprintf(c->source, sizeof c->source,
                   "%u adapter%s of %.1f MB into GPU slots at %.1f GB/s; %u read from disk (lora_load_us = %g)",
                   b->lora_loads, b->lora_loads == 1 ? "" : "s", sm->lora_adapter_bytes / 1e6, sm->host_bps / 1e9,
                   b->lora_disk_loads, sm->p.lora_load_us);
    }
    if (b->kv_load_tokens > 0 && sm->offload) {
        double by = 0;
        double t = lat_step_kv_load_time(sm, b, &by);
        c = component(out, "kv_load");
        c->seconds = MAX(0.0, t - gpu);
        c->bytes = by;
        c->bound = LAT_BOUND_COMMUNICATION;
        g_snprintf(c->source, sizeof c->source,
                   "%" G_GUINT64_FORMAT " KV tokens (%.1f MB) from host memory at %.1f GB/s: %.3f ms, overlapped with "
                   "the step's compute (only its excess shows)",
                   (guint64)b->kv_load_tokens, by / 1e6, sm->host_bps / 1e9, t * 1e3);
        gpu = MAX(gpu, t);
    }
    return gpu;
}

void lat_step_model_breakdown(LatStepModel *sm, const BatchDesc *b, LatBreakdown *out)
{
    memset(out, 0, sizeof *out);
    out->backend = sm->backend;
    out->async_scheduling = sm->p.async_scheduling;
    if (b->num_entries == 0)
        return;
    GraphMode mode;
    double m = padded(sm, b, &mode);
    out->padded_tokens = m;
    out->cuda_graph = mode == GRAPH_FULL ? "full" : mode == GRAPH_PIECEWISE ? "piecewise" : "none";
    double gpu = 0;

    const Gemm *gs[MAX_GEMMS];
    for (guint i = 0; i < sm->ngemm; i++)
        gs[i] = &sm->gemms[i];
    gemm_component(sm, out, "projections", gs, sm->ngemm, m);
    gpu += out->components[out->num_components - 1].seconds;

    if (sm->moe_layers > 0) {
        Acc e = {0};
        char src[200] = "";
        double t = lat_step_moe_time(sm, m, &e, src, sizeof src);
        LatComponent *c = component(out, "moe_experts");
        component_from(c, &e);
        c->estimated = sm->expert_up.c.estimated;
        char note[96];
        donor_note(sm, sm->expert_up.c.donor, note, sizeof note);
        g_snprintf(c->source, sizeof c->source, "%s%s", src, note);
        LatLookup *l = lookup(out, "moe_experts");
        if (l) {
            g_snprintf(l->what, sizeof l->what, "experts T=%g hit=%.2f of %g", m,
                       lat_moe_experts_hit(sm->E, sm->topk, m), sm->E);
            g_strlcpy(l->source, c->source, sizeof l->source);
            l->seconds = t;
            l->estimated = c->estimated;
        }
        gpu += t;
    }

    Acc el = {0};
    gpu += lat_step_elementwise_time(sm, m, &el);
    LatComponent *c = component(out, "elementwise");
    component_from(c, &el);
    g_snprintf(c->source, sizeof c->source,
               "norms, rotary, KV write, activation: %g us + bytes / (bandwidth x %.2f) per kernel",
               sm->p.kernel_floor_us, sm->p.elementwise_efficiency);

    if (b->num_prefill > 0) {
        Acc p = {0};
        guint shown = 0;
        char first_src[200] = "";
        for (uint32_t i = 0; i < b->num_entries; i++) {
            const BatchEntry *en = &b->entries[i];
            if (batch_entry_is_decode(en))
                continue;
            char src[200] = "";
            double f = 0, by = 0;
            double t = prefill_attn(sm, en, src, sizeof src, &f, &by);
            acc_add(&p, t, sm->attn_layers * f, sm->attn_layers * by, TRUE);
            if (!first_src[0])
                g_strlcpy(first_src, src, sizeof first_src);
            LatLookup *l = shown < 8 ? lookup(out, "attention_prefill") : NULL;
            if (l) {
                shown++;
                g_snprintf(l->what, sizeof l->what, "prefill t=%u p=%u", en->new_tokens, en->cached_tokens);
                g_strlcpy(l->source, src, sizeof l->source);
                l->seconds = t;
                l->estimated = sm->attn.prefill == NULL;
            }
        }
        gpu += p.seconds;
        c = component(out, "attention_prefill");
        component_from(c, &p);
        c->bound = LAT_BOUND_COMPUTE;
        c->estimated = sm->attn.prefill == NULL;
        if (sm->attn.prefill) {
            char note[96];
            donor_note(sm, sm->attn.prefill_donor, note, sizeof note);
            g_snprintf(c->source, sizeof c->source, "%s%s, keyed by sqrt(t^2 + 2tp)%s",
                       lat_mfu_curve_file(sm->attn.prefill), sm->attn.prefill_exact ? "" : " (nearest shape)", note);
        } else {
            g_strlcpy(c->source, first_src, sizeof c->source);
        }
    }
    if (b->num_decode > 0) {
        char src[200] = "";
        double f = 0, by = 0;
        double t = decode_attn(sm, b, src, sizeof src, &f, &by);
        gpu += t;
        c = component(out, "attention_decode");
        c->seconds = t;
        c->flops = f;
        c->bytes = by;
        c->bound = f / sm->roof.peak_bf16 >= by / sm->roof.bw ? LAT_BOUND_COMPUTE : LAT_BOUND_MEMORY;
        c->estimated = sm->attn.decode == NULL;
        if (sm->attn.decode) {
            char note[96];
            donor_note(sm, sm->attn.decode_donor, note, sizeof note);
            char extra[96] = "";
            if (b->spec_tokens)
                g_snprintf(extra, sizeof extra, ", + %u draft tokens verified", b->spec_tokens);
            if (sm->swa_layers > 0) {
                gsize l = strlen(extra);
                g_snprintf(extra + l, sizeof extra - l, "; %g sliding layers read %g tokens", sm->swa_layers,
                           sm->window);
            }
            g_snprintf(c->source, sizeof c->source, "%s%s, batch %u x mean kv %.0f%s%s",
                       lat_mfu_grid_file(sm->attn.decode), sm->attn.decode_exact ? "" : " (nearest shape)",
                       b->num_decode, (double)b->decode_kv_tokens / b->num_decode, extra, note);
        } else {
            g_strlcpy(c->source, src, sizeof c->source);
        }
        LatLookup *l = lookup(out, "attention_decode");
        if (l) {
            g_snprintf(l->what, sizeof l->what, "decode batch=%u sum_kv=%" G_GUINT64_FORMAT, b->num_decode,
                       (guint64)b->decode_kv_tokens);
            g_strlcpy(l->source, src, sizeof l->source);
            l->seconds = t;
            l->estimated = c->estimated;
        }
    }
    if (sm->ar_per_step > 0) {
        char src[200] = "";
        double t = lat_step_allreduce_time(sm, m, src, sizeof src);
        gpu += t;
        c = component(out, "allreduce");
        c->seconds = t;
        c->bytes = sm->ar_per_step * m * sm->ar_bytes_per_token;
        c->bound = LAT_BOUND_COMMUNICATION;
        g_snprintf(c->source, sizeof c->source, "%g x %g bytes: %s", sm->ar_per_step, m * sm->ar_bytes_per_token, src);
    }
    if (b->num_sampled > 0) {
        Acc l = {0};
        char src[200] = "";
        double t = lat_step_lm_time(sm, b->num_sampled + b->spec_tokens, &l, src, sizeof src);
        gpu += t;
        c = component(out, "lm_head");
        component_from(c, &l);
        c->estimated = sm->lm_head.c.estimated;
        char note[96];
        donor_note(sm, sm->lm_head.c.donor, note, sizeof note);
        g_snprintf(c->source, sizeof c->source, "%s%s; + sampler", src, note);
        LatLookup *lk = lookup(out, "lm_head");
        if (lk) {
            g_snprintf(lk->what, sizeof lk->what, "lm_head m=%u k=%u n=%u", b->num_sampled + b->spec_tokens,
                       sm->lm_head.c.k, sm->lm_head.c.n);
            g_strlcpy(lk->source, src, sizeof lk->source);
            lk->seconds = t;
            lk->estimated = c->estimated;
        }
    }
    gpu = options_breakdown(sm, b, out, gpu);
    double launch_cpu = launches(sm, mode) * sm->p.launch_us * 1e-6;
    out->gpu_seconds = gpu;
    out->cpu_seconds = cpu_seconds(sm) + launch_cpu;
    c = component(out, "cpu");
    c->seconds = cpu_seconds(sm);
    c->bound = LAT_BOUND_FIXED;
    g_snprintf(c->source, sizeof c->source, "step_overhead_us = %g%s", sm->p.step_overhead_us,
               sm->p.otlp_tracing ? " + tracing_overhead_us (OpenTelemetry tracing)" : "");
    if (launch_cpu > 0) {
        c = component(out, "launches");
        c->seconds = launch_cpu;
        c->bound = LAT_BOUND_FIXED;
        g_snprintf(c->source, sizeof c->source, "%g kernel launches x %g us (CUDA graph: %s)", launches(sm, mode),
                   sm->p.launch_us, out->cuda_graph);
    }
    out->total_seconds = combine(sm, gpu, launch_cpu);
    out->delivery_delay_seconds = delivery_delay(sm, gpu, launch_cpu, out->total_seconds);
    for (guint i = 0; i < out->num_components; i++)
        out->estimated = out->estimated || out->components[i].estimated;
}
