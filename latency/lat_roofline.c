/*
 * lat_roofline.c: the step-time models, roofline v2 (measured MFU tables)
 * and roofline v1 (one constant MFU per phase).
 *
 * What it models: one vLLM V1 step is one forward pass over every scheduled
 * token (prefill chunks and decodes together), on one GPU of a
 * tensor-parallel group. Its time is the sum of
 *   projections      per layer, once per step with m = all tokens of the step:
 *                    fused qkv and gate_up (column-parallel, n/tp), o and down
 *                    (row-parallel, k/tp), MLA projections, router and shared
 *                    experts; each GEMM max(2mkn / (peak·MFU), k·n·b_w / BW_eff)
 *   moe_experts      routed experts: grouped-GEMM table (else GEMM table at the
 *                    tokens per active expert), at least the weights of the
 *                    E·(1 − ((E−k)/E)^T) experts hit
 *   attention_prefill per prefill chunk (t new after p cached):
 *                    4·n_h·d_h·(t·p + t²/2) / (peak_bf16·MFU(t)), at least its
 *                    KV bytes / BW_eff
 *   attention_decode one batched kernel for all decodes: 4·n_h·d_h·Σkv /
 *                    (peak_bf16·MFU(num_decode, mean kv)), at least Σkv KV bytes
 *   allreduce        tp > 1: 2 per layer of m·d·b_act bytes, ring
 *                    2(tp−1)/tp·bytes / (link·eff) + latency
 *   lm_head          once, m = requests sampling a token, k = d, n = V/tp
 *   overhead         step_overhead_us
 * with per-GPU heads (n_h/tp) everywhere. docs/latency.md gives each term's
 * source. Roofline v1 uses the same FLOPs and bytes with a constant MFU:
 * v1_mfu_prefill for steps holding a prefill chunk (and prefill attention),
 * v1_mfu_decode otherwise (and decode attention). Under v2, a part without a
 * table (GPUs without tables, MLA on H100) takes the v1 estimate and is
 * marked estimated.
 *
 * Cost of lat_step_model_seconds: no allocation; the m-dependent parts
 * (projections, experts, all-reduce) and the LM head are cached per token
 * count in arrays sized by max_batched_tokens and filled lazily, so a step
 * costs two array reads, O(1) for all decodes (BatchDesc totals) and one
 * curve interpolation per prefill chunk. The breakdown recomputes every
 * component without the caches (same functions, same result).
 */
#include <math.h>
#include <string.h>

#include "lat.h"
#include "lat_mfu.h"
#include "ss_error.h"

#define MAX_GEMMS 12
#define CACHE_LIMIT (1u << 20) /* token counts cached per array at most */

typedef struct {
    const char *name;
    guint k, n;               /* per-GPU shape */
    double count;             /* instances per step */
    double weight_bytes;      /* per element */
    double peak;              /* FLOP/s of the precision it computes in */
    const LatMfuCurve *curve; /* NULL: v1 estimate */
    gboolean exact;
    double rate_scale;        /* peak / FP8 peak of the table */
    double eff_scale;         /* bf16_fp8_mfu_ratio when the GEMM is not FP8, else 1 */
    double m_compute;         /* below this m the FP8 table kernel is weight-read bound */
    double m_scale;           /* n / n of the table's shape when wider (same output tiles) */
} Gemm;

typedef struct {
    double seconds, flops, bytes;
    double compute_s, memory_s; /* seconds of the parts bound by each */
} Acc;

struct LatStepModel {
    const LatModelDesc *model;
    const LatHardware *hw;
    const LatMfuDb *mfu;
    guint tp;
    LatParams p;
    LatBackend backend;

    double bw;        /* achievable HBM bytes/s: datasheet × bw_efficiency */
    double peak_bf16; /* FLOP/s */
    double peak_gemm; /* FLOP/s of the decoder's linear layers (FP8 or BF16) */
    double peak_fp8;  /* FLOP/s, the GEMM tables' denominator */

    Gemm gemms[MAX_GEMMS];
    guint ngemm;
    Gemm lm_head;

    /* attention */
    LatAttnKind kind;
    double attn_layers, n_h_gpu, d_qk, d_v, dec_dh, dec_rope;
    double kv_bytes_token_layer; /* per GPU */
    const LatMfuCurve *prefill_curve;
    gboolean prefill_exact;
    const LatMfuGrid *decode_grid;
    gboolean decode_exact;

    /* MoE routed experts */
    double moe_layers, E, topk, d, de_gpu;
    Gemm expert_up, expert_down; /* one expert's GEMMs (GEMM-table fallback) */
    LatMfuGrouped grouped;
    gboolean have_grouped;

    /* all-reduce */
    double ar_per_step, ar_bytes_per_token;
    double ar_link_eff, ar_latency_us; /* of the interconnect's class */
    gboolean ar_pcie;

    /* caches, -1 = not computed; [phase]: 0 decode-only step, 1 with prefill */
    gboolean phase_matters;
    guint cache_len;
    double *mcache[2];
    double *lmcache[2];
};

/* --------------------------------------------------------------- setup -- */

static void gemm_init(LatStepModel *sm, Gemm *g, const char *name, guint k, guint n, double count,
                      gboolean bf16_weights)
{
    memset(g, 0, sizeof *g);
    g->name = name;
    g->k = k;
    g->n = n;
    g->count = count;
    g->weight_bytes = bf16_weights ? sm->model->act_bytes : sm->model->weight_bytes;
    g->peak = bf16_weights ? sm->peak_bf16 : sm->peak_gemm;
    g->rate_scale = sm->peak_fp8 > 0 ? g->peak / sm->peak_fp8 : 0;
    g->eff_scale = 1.0;
    g->m_scale = 1.0;
    if (sm->backend == LAT_BACKEND_ROOFLINE_V2 && sm->mfu && sm->peak_fp8 > 0)
        g->curve = lat_mfu_gemm_curve(sm->mfu, k, n, &g->exact);
    if (g->curve && !g->exact) {
        /* A GEMM wider than the nearest measured shape has n / n_t times the
         * output tiles at the same m: it fills the GPU like the measured
         * shape at m * n / n_t rows, so it is looked up there. */
        guint tk, tn, unused;
        lat_mfu_curve_shape(g->curve, &tk, &tn, &unused);
        if (tn > 0 && n > tn)
            g->m_scale = (double)n / tn;
    }
    if (g->curve && g->peak != sm->peak_fp8) {
        /* A BF16 GEMM timed from the FP8 kernel's table. Where that kernel
         * is compute-bound its MFU is a compute efficiency, which BF16
         * kernels reach bf16_fp8_mfu_ratio times over. At small m the FP8
         * kernel's time is flat (bound by reading its 1-byte weights and by
         * launch latency), so there its MFU says nothing about compute: the
         * compute efficiency is held at its value at the first m where the
         * measured time grows with m (doubling m multiplies it by >= 1.6).
         * The BF16 time is then max(compute, 2-byte weights / bandwidth),
         * with no step where the table's rows begin. */
        g->eff_scale = sm->p.bf16_fp8_mfu_ratio;
        g->m_compute = 131072;
        for (double mm = 8; mm < 131072; mm *= 2) {
            double t1 = mm / lat_mfu_curve_rate(g->curve, mm * g->m_scale, NULL, 0);
            double t2 = 2 * mm / lat_mfu_curve_rate(g->curve, 2 * mm * g->m_scale, NULL, 0);
            if (t2 >= 1.6 * t1) {
                g->m_compute = mm;
                break;
            }
        }
    }
}

static guint div_up(guint a, guint b) { return (a + b - 1) / b; }

static void add_gemm(LatStepModel *sm, const char *name, guint k, guint n, double count, gboolean bf16)
{
    if (count <= 0 || k == 0 || n == 0)
        return;
    g_assert(sm->ngemm < MAX_GEMMS);
    gemm_init(sm, &sm->gemms[sm->ngemm++], name, k, n, count, bf16);
}

static gboolean check_params(const LatParams *p, GError **error)
{
    struct {
        const char *name;
        double v;
        double lo, hi;
        gboolean lo_open;
    } checks[] = {
        {"step_overhead_us", p->step_overhead_us, 0, 1e7, FALSE},
        {"bw_efficiency", p->bw_efficiency, 0, 1, TRUE},
        {"link_efficiency", p->link_efficiency, 0, 1, TRUE},
        {"allreduce_latency_us", p->allreduce_latency_us, 0, 1e6, FALSE},
        {"pcie_link_efficiency", p->pcie_link_efficiency, 0, 1, TRUE},
        {"pcie_allreduce_latency_us", p->pcie_allreduce_latency_us, 0, 1e6, FALSE},
        {"bf16_fp8_mfu_ratio", p->bf16_fp8_mfu_ratio, 0, 2, TRUE},
        {"v1_mfu_prefill", p->v1_mfu_prefill, 0, 1, TRUE},
        {"v1_mfu_decode", p->v1_mfu_decode, 0, 1, TRUE},
    };
    for (guint i = 0; i < G_N_ELEMENTS(checks); i++) {
        double v = checks[i].v;
        gboolean ok = isfinite(v) && v <= checks[i].hi && (checks[i].lo_open ? v > checks[i].lo : v >= checks[i].lo);
        if (!ok) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "latency parameter '%s': expected %s %g and %g, got %g",
                        checks[i].name, checks[i].lo_open ? "more than" : "between", checks[i].lo, checks[i].hi,
                        v);
            return FALSE;
        }
    }
    return TRUE;
}

LatStepModel *lat_step_model_new(const LatModelDesc *model, const LatHardware *hw, guint tp, const LatMfuDb *mfu,
                                 const LatParams *params, guint max_batched_tokens, GError **error)
{
    g_return_val_if_fail(model && hw, NULL);
    LatParams defaults;
    if (!params) {
        lat_params_default(&defaults);
        params = &defaults;
    }
    if (!check_params(params, error))
        return NULL;
    if (tp == 0 || max_batched_tokens == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "tensor-parallel size and max batched tokens must be positive (got %u and %u)", tp,
                    max_batched_tokens);
        return NULL;
    }
    const LatModelDesc *m = model;
    if (m->num_linear_attn_layers > 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "model '%s' has %u linear-attention (Gated DeltaNet) layers: the step-time models do not "
                    "time them",
                    m->name, m->num_linear_attn_layers);
        return NULL;
    }
    if (m->num_heads % tp != 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "model '%s': tensor-parallel size %u does not divide its %u attention heads", m->name, tp,
                    m->num_heads);
        return NULL;
    }
    if (m->kv_lora_rank == 0 && m->num_kv_heads % tp != 0 && tp % m->num_kv_heads != 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "model '%s': tensor-parallel size %u neither divides nor is a multiple of its %u KV heads",
                    m->name, tp, m->num_kv_heads);
        return NULL;
    }

    LatStepModel *sm = g_new0(LatStepModel, 1);
    sm->model = m;
    sm->hw = hw;
    sm->tp = tp;
    sm->p = *params;
    sm->mfu = mfu;
    sm->backend = params->backend;
    if (sm->backend == LAT_BACKEND_AUTO)
        sm->backend = mfu ? LAT_BACKEND_ROOFLINE_V2 : LAT_BACKEND_ROOFLINE_V1;
    gboolean v2 = sm->backend == LAT_BACKEND_ROOFLINE_V2 && mfu;

    sm->bw = hw->mem_bw_tbs * 1e12 * params->bw_efficiency;
    sm->peak_bf16 = hw->bf16_tflops * 1e12;
    sm->peak_fp8 = hw->fp8_tflops * 1e12;
    sm->peak_gemm = (m->fp8_weights && hw->fp8_tflops > 0) ? sm->peak_fp8 : sm->peak_bf16;

    double L = m->num_layers;
    guint d = m->hidden_size;
    guint h_gpu = m->num_heads / tp;
    guint kv_gpu = div_up(m->num_kv_heads, tp);
    sm->d = d;

    /* Attention projections. */
    if (m->kv_lora_rank > 0) {
        guint qk = m->qk_nope_head_dim + m->qk_rope_head_dim;
        if (m->q_lora_rank > 0) {
            add_gemm(sm, "q_a", d, m->q_lora_rank, L, FALSE); /* replicated */
            add_gemm(sm, "q_b", m->q_lora_rank, h_gpu * qk, L, FALSE);
        } else {
            add_gemm(sm, "q", d, h_gpu * qk, L, FALSE);
        }
        add_gemm(sm, "kv_a", d, m->kv_lora_rank + m->qk_rope_head_dim, L, FALSE); /* replicated */
        add_gemm(sm, "kv_b", m->kv_lora_rank, h_gpu * (m->qk_nope_head_dim + m->v_head_dim), L, FALSE);
        add_gemm(sm, "o", h_gpu * m->v_head_dim, d, L, FALSE);
    } else {
        add_gemm(sm, "qkv", d, (h_gpu + 2 * kv_gpu) * m->head_dim, L, FALSE);
        add_gemm(sm, "o", h_gpu * m->head_dim, d, L, FALSE);
    }
    /* Dense MLP layers. */
    double dense = m->num_dense_layers;
    if (dense > 0) {
        guint ff = div_up(m->intermediate_size, tp);
        add_gemm(sm, "gate_up", d, 2 * ff, dense, FALSE);
        add_gemm(sm, "down", ff, d, dense, FALSE);
    }
    /* MoE layers: router, shared experts, routed experts. */
    sm->moe_layers = m->num_experts > 0 ? (double)(m->num_layers - m->num_dense_layers) : 0;
    if (sm->moe_layers > 0) {
        add_gemm(sm, "router", d, m->num_experts, sm->moe_layers, TRUE); /* replicated, 16-bit */
        guint shared = m->num_shared_experts * m->shared_expert_intermediate_size;
        if (shared > 0) {
            guint sh = div_up(shared, tp);
            add_gemm(sm, "shared_gate_up", d, 2 * sh, sm->moe_layers, FALSE);
            add_gemm(sm, "shared_down", sh, d, sm->moe_layers, FALSE);
        }
        sm->E = m->num_experts;
        sm->topk = m->experts_per_token;
        sm->de_gpu = div_up(m->moe_intermediate_size, tp);
        gemm_init(sm, &sm->expert_up, "expert_gate_up", d, 2 * (guint)sm->de_gpu, sm->moe_layers, FALSE);
        gemm_init(sm, &sm->expert_down, "expert_down", (guint)sm->de_gpu, d, sm->moe_layers, FALSE);
        if (v2)
            sm->have_grouped = lat_mfu_grouped_gemm(mfu, m->num_experts, m->experts_per_token, d,
                                                    m->moe_intermediate_size, tp, &sm->grouped);
    }
    /* LM head: vocabulary-parallel, 16-bit weights. */
    gemm_init(sm, &sm->lm_head, "lm_head", d, div_up(m->vocab_size, tp), 1, TRUE);

    /* Attention core. */
    sm->attn_layers = m->num_layers - m->num_linear_attn_layers;
    sm->n_h_gpu = h_gpu;
    if (m->kv_lora_rank > 0) {
        sm->kind = LAT_ATTN_MLA;
        sm->d_qk = m->qk_nope_head_dim + m->qk_rope_head_dim;
        sm->d_v = m->v_head_dim;
        sm->dec_dh = m->kv_lora_rank;
        sm->dec_rope = m->qk_rope_head_dim;
        sm->kv_bytes_token_layer = (m->kv_lora_rank + m->qk_rope_head_dim) * m->kv_bytes;
        if (v2) {
            sm->prefill_curve = lat_mfu_attn_prefill_curve(mfu, LAT_ATTN_MLA, m->num_heads, m->qk_nope_head_dim,
                                                           m->qk_rope_head_dim, tp, &sm->prefill_exact);
            sm->decode_grid = lat_mfu_attn_decode_grid(mfu, LAT_ATTN_MLA, m->num_heads, m->kv_lora_rank,
                                                       m->qk_rope_head_dim, tp, &sm->decode_exact);
        }
    } else {
        sm->kind = LAT_ATTN_MHA;
        sm->d_qk = sm->d_v = sm->dec_dh = m->head_dim;
        sm->dec_rope = 0;
        sm->kv_bytes_token_layer = 2.0 * kv_gpu * m->head_dim * m->kv_bytes;
        if (v2) {
            sm->prefill_curve = lat_mfu_attn_prefill_curve(mfu, LAT_ATTN_MHA, m->num_heads, m->num_kv_heads,
                                                           m->head_dim, tp, &sm->prefill_exact);
            sm->decode_grid = lat_mfu_attn_decode_grid(mfu, LAT_ATTN_MHA, m->num_heads, m->num_kv_heads,
                                                       m->head_dim, tp, &sm->decode_exact);
        }
    }

    /* All-reduce after attention and after the MLP of every layer. */
    sm->ar_per_step = tp > 1 ? 2.0 * L : 0.0;
    sm->ar_bytes_per_token = (double)d * m->act_bytes;
    sm->ar_pcie = hw->interconnect && g_ascii_strncasecmp(hw->interconnect, "PCIe", 4) == 0;
    sm->ar_link_eff = sm->ar_pcie ? params->pcie_link_efficiency : params->link_efficiency;
    sm->ar_latency_us = sm->ar_pcie ? params->pcie_allreduce_latency_us : params->allreduce_latency_us;

    /* The GEMM parts depend on the phase only when some of them are v1. */
    gboolean any_v1 = sm->lm_head.curve == NULL;
    for (guint i = 0; i < sm->ngemm; i++)
        any_v1 = any_v1 || sm->gemms[i].curve == NULL;
    if (sm->moe_layers > 0 && !sm->have_grouped && !sm->expert_up.curve)
        any_v1 = TRUE;
    sm->phase_matters = any_v1;

    sm->cache_len = MIN(max_batched_tokens, CACHE_LIMIT) + 1;
    for (guint ph = 0; ph < 2; ph++) {
        sm->mcache[ph] = g_new(double, sm->cache_len);
        sm->lmcache[ph] = g_new(double, sm->cache_len);
        for (guint i = 0; i < sm->cache_len; i++)
            sm->mcache[ph][i] = sm->lmcache[ph][i] = -1.0;
    }
    return sm;
}

void lat_step_model_free(LatStepModel *sm)
{
    if (!sm)
        return;
    for (guint ph = 0; ph < 2; ph++) {
        g_free(sm->mcache[ph]);
        g_free(sm->lmcache[ph]);
    }
    g_free(sm);
}

LatBackend lat_step_model_backend(const LatStepModel *sm) { return sm->backend; }

guint lat_step_model_gemms(const LatStepModel *sm, LatGemmInfo *out, guint max)
{
    const Gemm *all[MAX_GEMMS + 3];
    guint n = 0;
    for (guint i = 0; i < sm->ngemm; i++)
        all[n++] = &sm->gemms[i];
    if (sm->moe_layers > 0) {
        all[n++] = &sm->expert_up;
        all[n++] = &sm->expert_down;
    }
    all[n++] = &sm->lm_head;
    for (guint i = 0; i < n && i < max; i++) {
        const Gemm *g = all[i];
        out[i] = (LatGemmInfo){g->name, g->k, g->n, g->count, g->weight_bytes,
                               g->curve ? lat_mfu_curve_file(g->curve) : NULL, g->exact};
    }
    return n;
}

/* ----------------------------------------------------------- the terms -- */

static double v1_mfu(const LatStepModel *sm, int phase)
{
    return phase ? sm->p.v1_mfu_prefill : sm->p.v1_mfu_decode;
}

static void acc_add(Acc *a, double seconds, double flops, double bytes, gboolean compute_bound)
{
    if (!a)
        return;
    a->seconds += seconds;
    a->flops += flops;
    a->bytes += bytes;
    if (compute_bound)
        a->compute_s += seconds;
    else
        a->memory_s += seconds;
}

/* The FLOP rate of a GEMM of m rows from its table curve: the wider-shape
 * and BF16 conversions of gemm_init applied (see there). */
static double gemm_table_rate(const Gemm *g, double m, char *src, gsize src_len)
{
    double x = (m < g->m_compute ? g->m_compute : m) * g->m_scale;
    double rate = lat_mfu_curve_rate_monotone(g->curve, x, src, src_len) * g->rate_scale * g->eff_scale;
    if (src && m < g->m_compute) {
        gsize l = strlen(src);
        g_snprintf(src + l, src_len - l, "; compute efficiency held at m=%g (FP8 rows below are weight-read bound)",
                   g->m_compute);
    }
    if (src && g->m_scale != 1.0) {
        gsize l = strlen(src);
        g_snprintf(src + l, src_len - l, "; looked up at m x %.3g (wider than the table's shape)", g->m_scale);
    }
    return rate;
}

/* All instances of one GEMM at m rows. */
static double gemm_time(const LatStepModel *sm, const Gemm *g, double m, int phase, Acc *acc, char *src,
                        gsize src_len)
{
    if (m <= 0)
        return 0.0;
    double flops = lat_flops_gemm(m, g->k, g->n);
    double bytes = (double)g->k * g->n * g->weight_bytes;
    double rate;
    if (g->curve) {
        rate = gemm_table_rate(g, m, src, src_len);
        if (src && !g->exact) {
            gsize l = strlen(src);
            g_snprintf(src + l, src_len - l, "; nearest shape to k=%u n=%u", g->k, g->n);
        }
    } else {
        rate = g->peak * v1_mfu(sm, phase);
        if (src)
            g_snprintf(src, src_len, "estimated: %s MFU %.2f (%s)", sm->mfu && sm->backend == LAT_BACKEND_ROOFLINE_V2
                                                                        ? "no GEMM table,"
                                                                        : "roofline v1,",
                       v1_mfu(sm, phase), phase ? "v1_mfu_prefill" : "v1_mfu_decode");
    }
    double tc = flops / rate, tm = bytes / sm->bw;
    double t = g->count * MAX(tc, tm);
    acc_add(acc, t, g->count * flops, g->count * bytes, tc >= tm);
    return t;
}

/* Routed experts of all MoE layers at `tokens` tokens. */
static double moe_time(const LatStepModel *sm, double tokens, int phase, Acc *acc, char *src, gsize src_len,
                       gboolean *estimated)
{
    if (sm->moe_layers <= 0 || tokens <= 0)
        return 0.0;
    double hit = lat_moe_experts_hit(sm->E, sm->topk, tokens);
    double d = sm->d, de = sm->de_gpu;
    double f_up = 2.0 * tokens * sm->topk * d * 2.0 * de, f_down = 2.0 * tokens * sm->topk * de * d;
    double bytes = hit * 3.0 * d * de * sm->model->weight_bytes;
    double t_up, t_down;
    gboolean est = FALSE;
    if (sm->have_grouped) {
        double x = tokens * sm->grouped.tokens_scale;
        double scale = sm->expert_up.rate_scale * sm->expert_up.eff_scale;
        char s1[200] = "";
        t_up = f_up / (lat_mfu_curve_rate_monotone(sm->grouped.up, x, src ? s1 : NULL, sizeof s1) * scale);
        t_down = f_down / (lat_mfu_curve_rate_monotone(sm->grouped.down, x, NULL, 0) * scale);
        if (src)
            g_snprintf(src, src_len, "%s%s", s1, sm->grouped.exact ? "" : "; measured without TP, FLOPs / tp");
    } else if (sm->expert_up.curve) {
        double m_e = tokens * sm->topk / MAX(hit, 1e-9); /* tokens per active expert */
        char s1[200] = "";
        t_up = f_up / gemm_table_rate(&sm->expert_up, m_e, src ? s1 : NULL, sizeof s1);
        t_down = f_down / gemm_table_rate(&sm->expert_down, m_e, NULL, 0);
        if (src)
            g_snprintf(src, src_len, "no grouped-GEMM table: GEMM per expert, m=%.1f tokens/expert: %s", m_e, s1);
    } else {
        double rate = sm->expert_up.peak * v1_mfu(sm, phase);
        t_up = f_up / rate;
        t_down = f_down / rate;
        est = TRUE;
        if (src)
            g_snprintf(src, src_len, "estimated: MFU %.2f (%s)", v1_mfu(sm, phase),
                       phase ? "v1_mfu_prefill" : "v1_mfu_decode");
    }
    if (estimated)
        *estimated = est;
    double tc = t_up + t_down, tm = bytes / sm->bw;
    double t = sm->moe_layers * MAX(tc, tm);
    acc_add(acc, t, sm->moe_layers * (f_up + f_down), sm->moe_layers * bytes, tc >= tm);
    return t;
}

static double allreduce_time(const LatStepModel *sm, double tokens)
{
    if (sm->ar_per_step <= 0 || tokens <= 0)
        return 0.0;
    double bytes = tokens * sm->ar_bytes_per_token;
    double one = 2.0 * (sm->tp - 1) / sm->tp * bytes / (sm->hw->link_gbs_per_dir * 1e9 * sm->ar_link_eff) +
                 sm->ar_latency_us * 1e-6;
    return sm->ar_per_step * one;
}

/* Everything that depends only on the step's token count. */
static double m_time(const LatStepModel *sm, double m, int phase)
{
    double t = 0;
    for (guint i = 0; i < sm->ngemm; i++)
        t += gemm_time(sm, &sm->gemms[i], m, phase, NULL, NULL, 0);
    t += moe_time(sm, m, phase, NULL, NULL, 0, NULL);
    t += allreduce_time(sm, m);
    return t;
}

static double prefill_attn_time(const LatStepModel *sm, double t, double p, Acc *acc, char *src, gsize src_len)
{
    double flops = lat_flops_attn_prefill(sm->kind, sm->n_h_gpu, sm->d_qk, sm->d_v, t, p);
    double rate = sm->prefill_curve ? lat_mfu_curve_rate_monotone(sm->prefill_curve, t, src, src_len)
                                    : sm->peak_bf16 * sm->p.v1_mfu_prefill;
    double bytes = sm->kv_bytes_token_layer * (p + t);
    double tc = flops / rate, tm = bytes / sm->bw;
    double time = sm->attn_layers * MAX(tc, tm);
    acc_add(acc, time, sm->attn_layers * flops, sm->attn_layers * bytes, tc >= tm);
    return time;
}

static double decode_attn_time(const LatStepModel *sm, double num_decode, double sum_kv, Acc *acc, char *src,
                               gsize src_len)
{
    if (num_decode <= 0)
        return 0.0;
    double flops = lat_flops_attn_decode(sm->kind, sm->n_h_gpu, sm->dec_dh, sm->dec_rope, sum_kv);
    double rate = sm->decode_grid ? lat_mfu_grid_rate_monotone(sm->decode_grid, num_decode, sum_kv / num_decode, src, src_len)
                                  : sm->peak_bf16 * sm->p.v1_mfu_decode;
    double bytes = sm->kv_bytes_token_layer * sum_kv;
    double tc = flops / rate, tm = bytes / sm->bw;
    double time = sm->attn_layers * MAX(tc, tm);
    acc_add(acc, time, sm->attn_layers * flops, sm->attn_layers * bytes, tc >= tm);
    return time;
}

/* ------------------------------------------------------------ hot path -- */

double lat_step_model_seconds(LatStepModel *sm, const BatchDesc *b)
{
    if (b->num_entries == 0)
        return 0.0;
    int phase = sm->phase_matters && b->num_prefill > 0;
    double t = sm->p.step_overhead_us * 1e-6;

    uint64_t m = b->total_tokens;
    if (m < sm->cache_len) {
        double *c = &sm->mcache[phase][m];
        if (*c < 0)
            *c = m_time(sm, (double)m, phase);
        t += *c;
    } else {
        t += m_time(sm, (double)m, phase);
    }

    uint32_t s = b->num_sampled;
    if (s > 0) {
        if (s < sm->cache_len) {
            double *c = &sm->lmcache[phase][s];
            if (*c < 0)
                *c = gemm_time(sm, &sm->lm_head, s, phase, NULL, NULL, 0);
            t += *c;
        } else {
            t += gemm_time(sm, &sm->lm_head, s, phase, NULL, NULL, 0);
        }
    }

    if (b->num_decode > 0)
        t += decode_attn_time(sm, b->num_decode, (double)b->decode_kv_tokens, NULL, NULL, 0);

    uint32_t left = b->num_prefill;
    for (uint32_t i = 0; left > 0 && i < b->num_entries; i++) {
        const BatchEntry *e = &b->entries[i];
        if (e->new_tokens > 1) {
            t += prefill_attn_time(sm, e->new_tokens, e->cached_tokens, NULL, NULL, 0);
            left--;
        }
    }
    return t;
}

/* ------------------------------------------------------------ breakdown -- */

static LatComponent *component(LatBreakdown *out, const char *name)
{
    g_assert(out->num_components < LAT_MAX_COMPONENTS);
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

static const char *estimate_reason(const LatStepModel *sm, const char *what)
{
    if (sm->backend == LAT_BACKEND_ROOFLINE_V1)
        return "roofline-v1 backend: constant MFU";
    if (!sm->mfu)
        return "no MFU tables for this GPU: roofline-v1 estimate";
    return what;
}

void lat_step_model_breakdown(LatStepModel *sm, const BatchDesc *b, LatBreakdown *out)
{
    memset(out, 0, sizeof *out);
    out->backend = sm->backend;
    if (b->num_entries == 0)
        return;
    int phase = sm->phase_matters && b->num_prefill > 0;
    double m = (double)b->total_tokens;

    /* projections */
    Acc a = {0};
    gboolean est = FALSE;
    for (guint i = 0; i < sm->ngemm; i++) {
        const Gemm *g = &sm->gemms[i];
        LatLookup *l = lookup(out, "projections");
        char src[200] = "";
        Acc one = {0};
        double t = gemm_time(sm, g, m, phase, &one, src, sizeof src);
        acc_add(&a, one.seconds, one.flops, one.bytes, one.compute_s >= one.memory_s);
        est = est || !g->curve;
        if (l) {
            g_snprintf(l->what, sizeof l->what, "%s m=%g k=%u n=%u x%g", g->name, m, g->k, g->n, g->count);
            g_strlcpy(l->source, src, sizeof l->source);
            l->seconds = t;
            l->estimated = !g->curve;
        }
    }
    LatComponent *c = component(out, "projections");
    component_from(c, &a);
    c->estimated = est;
    if (est)
        g_strlcpy(c->source, estimate_reason(sm, "no GEMM table: roofline-v1 estimate"), sizeof c->source);
    else
        g_snprintf(c->source, sizeof c->source, "%s (%u GEMMs, see --verbose)", lat_mfu_curve_file(sm->gemms[0].curve),
                   sm->ngemm);

    /* routed experts */
    if (sm->moe_layers > 0) {
        Acc e = {0};
        char src[200] = "";
        gboolean mest = FALSE;
        double t = moe_time(sm, m, phase, &e, src, sizeof src, &mest);
        c = component(out, "moe_experts");
        component_from(c, &e);
        c->estimated = mest;
        g_strlcpy(c->source, mest ? estimate_reason(sm, src) : src, sizeof c->source);
        LatLookup *l = lookup(out, "moe_experts");
        if (l) {
            g_snprintf(l->what, sizeof l->what, "experts T=%g hit=%.2f of %g", m,
                       lat_moe_experts_hit(sm->E, sm->topk, m), sm->E);
            g_strlcpy(l->source, src, sizeof l->source);
            l->seconds = t;
            l->estimated = mest;
        }
    }

    /* attention */
    if (b->num_prefill > 0) {
        Acc p = {0};
        guint shown = 0;
        for (uint32_t i = 0; i < b->num_entries; i++) {
            const BatchEntry *en = &b->entries[i];
            if (en->new_tokens <= 1)
                continue;
            char src[200] = "";
            Acc one = {0};
            double t = prefill_attn_time(sm, en->new_tokens, en->cached_tokens, &one, src, sizeof src);
            acc_add(&p, one.seconds, one.flops, one.bytes, one.compute_s >= one.memory_s);
            LatLookup *l = shown < 8 ? lookup(out, "attention_prefill") : NULL;
            if (l) {
                shown++;
                g_snprintf(l->what, sizeof l->what, "prefill t=%u p=%u", en->new_tokens, en->cached_tokens);
                if (sm->prefill_curve)
                    g_snprintf(l->source, sizeof l->source, "%s%s", src,
                               sm->prefill_exact ? "" : "; nearest shape");
                else
                    g_strlcpy(l->source, estimate_reason(sm, "no prefill-attention table for this shape"),
                              sizeof l->source);
                l->seconds = t;
                l->estimated = sm->prefill_curve == NULL;
            }
        }
        c = component(out, "attention_prefill");
        component_from(c, &p);
        c->estimated = sm->prefill_curve == NULL;
        if (sm->prefill_curve)
            g_snprintf(c->source, sizeof c->source, "%s%s, MFU keyed by new tokens", lat_mfu_curve_file(sm->prefill_curve),
                       sm->prefill_exact ? "" : " (nearest shape)");
        else
            g_strlcpy(c->source, estimate_reason(sm, "no prefill-attention table: roofline-v1 estimate"),
                      sizeof c->source);
    }
    if (b->num_decode > 0) {
        Acc dcc = {0};
        char src[200] = "";
        double t = decode_attn_time(sm, b->num_decode, (double)b->decode_kv_tokens, &dcc, src, sizeof src);
        c = component(out, "attention_decode");
        component_from(c, &dcc);
        c->estimated = sm->decode_grid == NULL;
        if (sm->decode_grid)
            g_snprintf(c->source, sizeof c->source, "%s%s, batch %u x mean kv %.0f", lat_mfu_grid_file(sm->decode_grid),
                       sm->decode_exact ? "" : " (nearest shape)", b->num_decode,
                       (double)b->decode_kv_tokens / b->num_decode);
        else
            g_strlcpy(c->source, estimate_reason(sm, "no decode-attention table: roofline-v1 estimate"),
                      sizeof c->source);
        LatLookup *l = lookup(out, "attention_decode");
        if (l) {
            g_snprintf(l->what, sizeof l->what, "decode batch=%u sum_kv=%" G_GUINT64_FORMAT, b->num_decode,
                       (guint64)b->decode_kv_tokens);
            g_strlcpy(l->source, sm->decode_grid ? src : c->source, sizeof l->source);
            l->seconds = t;
            l->estimated = c->estimated;
        }
    }

    /* all-reduce */
    if (sm->ar_per_step > 0) {
        c = component(out, "allreduce");
        c->seconds = allreduce_time(sm, m);
        c->bytes = sm->ar_per_step * m * sm->ar_bytes_per_token;
        c->bound = LAT_BOUND_COMMUNICATION;
        g_snprintf(c->source, sizeof c->source, "%g ring all-reduces of %g bytes over %s %g GB/s x %.2f + %g us",
                   sm->ar_per_step, m * sm->ar_bytes_per_token, sm->ar_pcie ? "PCIe" : "NVLink",
                   sm->hw->link_gbs_per_dir, sm->ar_link_eff, sm->ar_latency_us);
    }

    /* LM head */
    if (b->num_sampled > 0) {
        Acc l = {0};
        char src[200] = "";
        double t = gemm_time(sm, &sm->lm_head, b->num_sampled, phase, &l, src, sizeof src);
        c = component(out, "lm_head");
        component_from(c, &l);
        c->estimated = sm->lm_head.curve == NULL;
        g_strlcpy(c->source, c->estimated ? estimate_reason(sm, src) : src, sizeof c->source);
        LatLookup *lk = lookup(out, "lm_head");
        if (lk) {
            g_snprintf(lk->what, sizeof lk->what, "lm_head m=%u k=%u n=%u", b->num_sampled, sm->lm_head.k,
                       sm->lm_head.n);
            g_strlcpy(lk->source, src, sizeof lk->source);
            lk->seconds = t;
            lk->estimated = c->estimated;
        }
    }

    c = component(out, "overhead");
    c->seconds = sm->p.step_overhead_us * 1e-6;
    c->bound = LAT_BOUND_FIXED;
    g_snprintf(c->source, sizeof c->source, "step_overhead_us = %g", sm->p.step_overhead_us);

    double total = 0;
    for (guint i = 0; i < out->num_components; i++)
        total += out->components[i].seconds;
    out->total_seconds = total;
}
