/*
 * lat_step_terms.c: the GPU-time terms of a step (lat_step.c describes the
 * model, docs/latency.md each term's source): the layer GEMMs, the routed
 * experts as grouped GEMMs, the elementwise kernels, the all-reduces, the LM
 * head and sampler, and the engine options' LoRA kernels, adapter loads and
 * KV loads from host memory. Each can fill an Acc (FLOPs, bytes, compute- or
 * memory-bound) and a source sentence for the breakdown; the hot path calls
 * the token-count terms once per count (lat_step.c caches them).
 */
#include <math.h>
#include <string.h>

#include "lat_step_internal.h"

/* ------------------------------------------------------------ the terms -- */

static gboolean gemm_compute_bound(const LatStepModel *sm, const LatGemmCurve *c, double m)
{
    return lat_gemm_flops(c, m) / c->peak >= lat_gemm_bytes(c, m) / sm->roof.bw;
}

double lat_step_gemm_time(const LatStepModel *sm, const Gemm *g, double m, Acc *acc, char *src, gsize len)
{
    if (m <= 0)
        return 0.0;
    double t = g->count * lat_gemm_curve_time(&g->c, m, src, len);
    acc_add(acc, t, g->count * lat_gemm_flops(&g->c, m), g->count * lat_gemm_bytes(&g->c, m),
            gemm_compute_bound(sm, &g->c, m));
    return t;
}

/* Routed experts of all MoE layers at `tokens` tokens: one grouped GEMM per
 * projection over the experts hit, each with tokens·k/hit rows. A grouped
 * kernel has one launch (one kernel floor, not one per expert) and reaches
 * moe_grouped_efficiency of a dense GEMM where compute-bound (DeepGEMM's
 * grouped vs dense FP8 tables on H800: 0.91 at >= 1024 tokens per expert);
 * moe_imbalance (>= 1) stretches the compute-bound part for routing skew. */
double lat_step_moe_time(const LatStepModel *sm, double tokens, Acc *acc, char *src, gsize len)
{
    if (sm->moe_layers <= 0 || tokens <= 0)
        return 0.0;
    double hit = lat_moe_experts_hit(sm->E, sm->topk, tokens);
    double me = tokens * sm->topk / MAX(hit, 1e-9);
    const LatGemmCurve *up = &sm->expert_up.c, *down = &sm->expert_down.c;
    double t1 = lat_gemm_curve_time(up, me, src, len) + lat_gemm_curve_time(down, me, NULL, 0);
    double floor = MIN(2.0 * sm->p.kernel_floor_us * 1e-6, 0.5 * t1);
    double f = lat_gemm_flops(up, me) + lat_gemm_flops(down, me);
    double by = lat_gemm_bytes(up, me) + lat_gemm_bytes(down, me);
    double rc = f / up->peak, rm = by / sm->roof.bw;
    double compute_share = rc / MAX(rc, rm); /* 1 when compute-bound on this GPU */
    double stretch = 1.0 + (sm->p.moe_imbalance / sm->p.moe_grouped_efficiency - 1.0) * compute_share;
    double one_layer = (hit * (t1 - floor) + floor) * stretch;
    double t = sm->moe_layers * one_layer;
    acc_add(acc, t, sm->moe_layers * hit * f, sm->moe_layers * hit * by, rc >= rm);
    if (src) {
        gsize l = strlen(src);
        g_snprintf(src + l, len - l, "; grouped over %.2f of %g experts, %.1f tokens each", hit, sm->E, me);
    }
    return t;
}

double lat_step_elementwise_time(const LatStepModel *sm, double m, Acc *acc)
{
    if (m <= 0)
        return 0.0;
    const LatRoof *r = &sm->roof;
    double per_layer = 2.0 * lat_elementwise_time(r, &sm->p, m * sm->elem_dense_bytes[0]) +
                       lat_elementwise_time(r, &sm->p, m * sm->elem_dense_bytes[1]) +
                       lat_elementwise_time(r, &sm->p, m * sm->elem_dense_bytes[2]);
    double bytes = m * (2.0 * sm->elem_dense_bytes[0] + sm->elem_dense_bytes[1] + sm->elem_dense_bytes[2]);
    double t = sm->layers * per_layer;
    double dense = sm->model->num_dense_layers;
    t += dense * lat_elementwise_time(r, &sm->p, m * sm->elem_act_dense);
    double all_bytes = sm->layers * bytes + dense * m * sm->elem_act_dense;
    if (sm->moe_layers > 0) {
        t += sm->moe_layers * (lat_elementwise_time(r, &sm->p, m * sm->elem_act_moe) +
                               2.0 * lat_elementwise_time(r, &sm->p, m * sm->elem_permute_moe / 2.0));
        all_bytes += sm->moe_layers * m * (sm->elem_act_moe + sm->elem_permute_moe);
    }
    acc_add(acc, t, 0, all_bytes, FALSE);
    return t;
}

double lat_step_allreduce_time(const LatStepModel *sm, double tokens, char *src, gsize len)
{
    if (sm->ar_per_step <= 0 || tokens <= 0)
        return 0.0;
    return sm->ar_per_step * lat_comm_allreduce_time(&sm->comm, &sm->p, tokens * sm->ar_bytes_per_token, src, len);
}

/* Everything that depends only on the step's (padded) token count. */
double lat_step_m_time(const LatStepModel *sm, double m)
{
    double t = 0;
    for (guint i = 0; i < sm->ngemm; i++)
        t += lat_step_gemm_time(sm, &sm->gemms[i], m, NULL, NULL, 0);
    t += lat_step_moe_time(sm, m, NULL, NULL, 0);
    t += lat_step_elementwise_time(sm, m, NULL);
    t += lat_step_allreduce_time(sm, m, NULL, 0);
    return t;
}

/* LM head and sampler for s sampled tokens (the logits of the whole
 * vocabulary are gathered and read in 32-bit floats, then probabilities written). */
double lat_step_lm_time(const LatStepModel *sm, double s, Acc *acc, char *src, gsize len)
{
    if (s <= 0)
        return 0.0;
    double t = lat_step_gemm_time(sm, &sm->lm_head, s, acc, src, len);
    double sb = s * sm->model->vocab_size * 8.0;
    double ts = lat_elementwise_time(&sm->roof, &sm->p, sb);
    acc_add(acc, ts, 0, sb, FALSE);
    return t + ts;
}

/* ------------------------------------------------------ engine options -- */

/* The name, k + n and slices of a GEMM LoRA adapts (qkv and gate_up carry
 * 3 and 2 adapters side by side); FALSE for those it does not. */
static gboolean lora_slices(const Gemm *g, double *slices)
{
    if (strcmp(g->name, "router") == 0 || strcmp(g->name, "fc") == 0)
        return FALSE;
    *slices = strcmp(g->name, "qkv") == 0 ? 3.0 : strstr(g->name, "gate_up") ? 2.0 : 1.0;
    return TRUE;
}

/* One memory- or compute-bound kernel without a table. */
static double plain_kernel(const LatStepModel *sm, double flops, double bytes)
{
    return sm->p.kernel_floor_us * 1e-6 +
           MAX(flops / (sm->roof.peak_bf16 * sm->p.v1_mfu), bytes / (sm->roof.bw * sm->p.bw_efficiency));
}

/* LoRA's shrink (x . A, k -> rank) and expand (. B, rank -> n, added to
 * the output) of every adapted projection, over the step's LoRA tokens, at
 * max_lora_rank; each reads the active adapters' weights. */
double lat_step_lora_time(const LatStepModel *sm, const BatchDesc *b, Acc *acc)
{
    double m = (double)b->lora_tokens, A = b->lora_adapters, R = sm->lora_rank, ab = sm->model->act_bytes;
    double t = 0;
    for (guint i = 0; i < sm->ngemm; i++) {
        const Gemm *g = &sm->gemms[i];
        double sl;
        if (!lora_slices(g, &sl))
            continue;
        double k = g->c.k, n = g->c.n;
        double f1 = 2.0 * m * k * R * sl, b1 = m * k * ab + A * sl * R * k * 2.0 + m * sl * R * 4.0;
        double f2 = 2.0 * m * R * n, b2 = m * sl * R * 4.0 + A * R * n * 2.0 + 2.0 * m * n * ab;
        double one = plain_kernel(sm, f1, b1) + plain_kernel(sm, f2, b2);
        t += g->count * one;
        acc_add(acc, g->count * one, g->count * (f1 + f2), g->count * (b1 + b2), FALSE);
    }
    return t;
}

double lat_step_lora_load_time(const LatStepModel *sm, const BatchDesc *b)
{
    return b->lora_loads * sm->lora_adapter_bytes / sm->host_bps + b->lora_disk_loads * sm->p.lora_load_us * 1e-6;
}

/* KV copied from host memory this step, all layers of this GPU. */
double lat_step_kv_load_time(const LatStepModel *sm, const BatchDesc *b, double *bytes)
{
    double by = (double)b->kv_load_tokens * sm->attn.kv_bytes_token * sm->attn_layers;
    if (bytes)
        *bytes = by;
    return by / sm->host_bps;
}
