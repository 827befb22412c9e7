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
 * Cost of lat_step_model_seconds: no allocation; the parts that depend only
 * on the (padded) token count and on the sampled count are cached per count,
 * decode attention is one grid lookup, prefill attention one curve lookup
 * per chunk.
 */
#include <math.h>
#include <string.h>

#include "lat.h"
#include "lat_kernels.h"
#include "lat_mfu.h"
#include "ss_error.h"

#define MAX_GEMMS 12
#define MAX_DONORS 16
#define CACHE_LIMIT (1u << 20)

typedef struct {
    const char *name;
    double count;     /* instances per step (layers holding it) */
    LatGemmCurve c;
} Gemm;

typedef enum { GRAPH_NONE = 0, GRAPH_PIECEWISE, GRAPH_FULL } GraphMode;

struct LatStepModel {
    const LatModelDesc *model;
    const LatHardware *hw;
    guint tp;
    LatParams p;
    LatBackend backend;
    LatRoof roof;
    gboolean any_table;           /* some kernel is timed from a table */
    gboolean any_estimated;       /* some kernel is not */
    const LatHardware *donors[MAX_DONORS];
    guint ndonors;

    Gemm gemms[MAX_GEMMS];
    guint ngemm;
    Gemm lm_head;
    double layers;

    /* MoE */
    double moe_layers, E, topk;
    Gemm expert_up, expert_down;  /* one expert */

    /* elementwise bytes per token of one layer, and kernels per layer */
    double elem_dense_bytes[3];   /* norms (x2 kernels), rotary, KV write: per token */
    double elem_act_dense;        /* SiLU-and-mul of a dense layer, per token */
    double elem_act_moe;          /* of a MoE layer (top-k experts), per token */
    double elem_permute_moe;      /* gather + scatter of a MoE layer, per token */
    double kernels_per_layer;     /* for launches outside CUDA graphs */

    LatAttn attn;
    double attn_layers;
    double swa_layers;            /* of attn_layers: sliding-window layers */
    double full_layers;           /* attn_layers - swa_layers */
    double window;                /* tokens; 0 with no sliding layers */

    /* engine options (NULL / 0 when off) */
    struct LatStepModel *draft;   /* speculative decoding: the drafter's step model (owned) */
    double spec_k;                /* num_speculative_tokens */
    double lora_rank;             /* max_lora_rank (0: LoRA off) */
    double lora_adapter_bytes;    /* one adapter at max rank on this GPU */
    gboolean offload;             /* KV loads from the host tier are timed */
    gboolean options_on;          /* a drafter, LoRA or offload: options_time() has terms to add */
    double host_bps;              /* host link, bytes/s after host_link_efficiency */

    LatComm comm;
    double ar_per_step, ar_bytes_per_token;

    guint ncap;
    guint *cap;                   /* CUDA-graph capture sizes, ascending */

    guint cache_len;
    double *mcache;               /* GPU time of the token-count parts, per padded count */
    double *lmcache;
};

/* ---------------------------------------------------------------- setup -- */

static guint div_up(guint a, guint b) { return (a + b - 1) / b; }

static gboolean check_params(const LatParams *p, GError **error)
{
    struct {
        const char *name;
        double v, lo, hi;
        gboolean lo_open;
    } checks[] = {
        {"step_overhead_us", p->step_overhead_us, 0, 1e7, FALSE},
        {"tracing_overhead_us", p->tracing_overhead_us, 0, 1e7, FALSE},
        {"launch_us", p->launch_us, 0, 1e4, FALSE},
        {"cudagraph_max_size", p->cudagraph_max_size, 0, 1 << 20, FALSE},
        {"compute_scale", p->compute_scale, 0, 10, TRUE},
        {"bw_scale", p->bw_scale, 0, 10, TRUE},
        {"bw_efficiency", p->bw_efficiency, 0, 1, TRUE},
        {"elementwise_efficiency", p->elementwise_efficiency, 0, 1, TRUE},
        {"kernel_floor_us", p->kernel_floor_us, 0, 1e4, FALSE},
        {"link_efficiency", p->link_efficiency, 0, 1, TRUE},
        {"allreduce_latency_us", p->allreduce_latency_us, 0, 1e6, FALSE},
        {"pcie_link_efficiency", p->pcie_link_efficiency, 0, 1, TRUE},
        {"pcie_allreduce_latency_us", p->pcie_allreduce_latency_us, 0, 1e6, FALSE},
        {"custom_allreduce_max_mib", p->custom_allreduce_max_mib, 0, 1e6, FALSE},
        {"moe_grouped_efficiency", p->moe_grouped_efficiency, 0, 1, TRUE},
        {"moe_imbalance", p->moe_imbalance, 1, 100, FALSE},
        {"output_fraction", p->output_fraction, 0, 1, FALSE},
        {"v1_mfu", p->v1_mfu, 0, 1, TRUE},
        {"woq_compute_efficiency", p->woq_compute_efficiency, 0, 1, TRUE},
        {"host_link_gbs", p->host_link_gbs, 0, 1e5, FALSE},
        {"host_link_efficiency", p->host_link_efficiency, 0, 1, TRUE},
        {"lora_load_us", p->lora_load_us, 0, 1e9, FALSE},
    };
    for (guint i = 0; i < G_N_ELEMENTS(checks); i++) {
        double v = checks[i].v;
        gboolean ok = isfinite(v) && v <= checks[i].hi && (checks[i].lo_open ? v > checks[i].lo : v >= checks[i].lo);
        if (!ok) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "latency parameter '%s': expected %s %g and %g, got %g",
                        checks[i].name, checks[i].lo_open ? "more than" : "between", checks[i].lo, checks[i].hi, v);
            return FALSE;
        }
    }
    return TRUE;
}

static void gemm_add(LatStepModel *sm, const LatMfuDb *const *dbs, const char *name, guint k, guint n, double count,
                     gboolean sixteen_bit)
{
    if (count <= 0 || k == 0 || n == 0)
        return;
    g_assert(sm->ngemm < MAX_GEMMS); /* at most 9 are added below */
    Gemm *g = &sm->gemms[sm->ngemm++];
    g->name = name;
    g->count = count;
    lat_gemm_curve_init_format(&g->c, k, n, lat_gemm_format(sm->model, sixteen_bit), sm->model->act_bytes, sm->hw,
                               &sm->roof, sm->donors, dbs, sm->ndonors, &sm->p);
    sm->any_table = sm->any_table || !g->c.estimated;
    sm->any_estimated = sm->any_estimated || g->c.estimated;
}

/* vLLM's default capture sizes: 1, 2, 4, then every 8 up to 248, then every
 * 16 from 256, up to the largest (vllm/config/vllm.py). */
static void capture_sizes(LatStepModel *sm)
{
    guint max = (guint)sm->p.cudagraph_max_size;
    if (max == 0)
        max = 512;
    GArray *a = g_array_new(FALSE, FALSE, sizeof(guint));
    static const guint small[] = {1, 2, 4};
    for (guint i = 0; i < 3; i++)
        if (small[i] <= max)
            g_array_append_val(a, small[i]);
    for (guint s = 8; s < 256 && s <= max; s += 8)
        g_array_append_val(a, s);
    for (guint s = 256; s <= max; s += 16)
        g_array_append_val(a, s);
    sm->ncap = a->len;
    sm->cap = (guint *)g_array_free(a, FALSE);
}

LatStepModel *lat_step_model_new(const LatModelDesc *model, const LatHardware *hw, guint tp,
                                 const LatTableSource *sources, guint num_sources, const LatParams *params,
                                 guint max_batched_tokens, GError **error)
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
    sm->backend = params->backend;
    const LatMfuDb *dbs[MAX_DONORS];
    if (sm->backend != LAT_BACKEND_ROOFLINE_V1)
        for (guint i = 0; i < num_sources && sm->ndonors < MAX_DONORS; i++)
            if (sources[i].db && sources[i].hw) {
                sm->donors[sm->ndonors] = sources[i].hw;
                dbs[sm->ndonors++] = sources[i].db;
            }
    if (sm->backend == LAT_BACKEND_AUTO)
        sm->backend = sm->ndonors ? LAT_BACKEND_ROOFLINE_V2 : LAT_BACKEND_ROOFLINE_V1;
    lat_roof_init(&sm->roof, hw, params->compute_scale, params->bw_scale);

    double L = m->num_layers;
    sm->layers = L;
    guint d = m->hidden_size;
    guint h_gpu = m->num_heads / tp;
    guint kv_gpu = div_up(m->num_kv_heads, tp);

    /* attention projections */
    if (m->kv_lora_rank > 0) {
        guint qk = m->qk_nope_head_dim + m->qk_rope_head_dim;
        if (m->q_lora_rank > 0) {
            gemm_add(sm, dbs, "q_a", d, m->q_lora_rank, L, FALSE); /* replicated */
            gemm_add(sm, dbs, "q_b", m->q_lora_rank, h_gpu * qk, L, FALSE);
        } else {
            gemm_add(sm, dbs, "q", d, h_gpu * qk, L, FALSE);
        }
        gemm_add(sm, dbs, "kv_a", d, m->kv_lora_rank + m->qk_rope_head_dim, L, FALSE); /* replicated */
        gemm_add(sm, dbs, "kv_b", m->kv_lora_rank, h_gpu * (m->qk_nope_head_dim + m->v_head_dim), L, FALSE);
        gemm_add(sm, dbs, "o", h_gpu * m->v_head_dim, d, L, FALSE);
    } else {
        gemm_add(sm, dbs, "qkv", d, (h_gpu + 2 * kv_gpu) * m->head_dim, L, FALSE);
        gemm_add(sm, dbs, "o", h_gpu * m->head_dim, d, L, FALSE);
    }
    /* dense MLP layers */
    double dense = m->num_dense_layers;
    guint ff = div_up(m->intermediate_size, tp);
    if (dense > 0) {
        gemm_add(sm, dbs, "gate_up", d, 2 * ff, dense, FALSE);
        gemm_add(sm, dbs, "down", ff, d, dense, FALSE);
    }
    /* MoE layers: router, shared experts, routed experts */
    sm->moe_layers = m->num_experts > 0 ? (double)(m->num_layers - m->num_dense_layers) : 0;
    guint de = 0;
    if (sm->moe_layers > 0) {
        gemm_add(sm, dbs, "router", d, m->num_experts, sm->moe_layers, TRUE); /* replicated, 16-bit */
        guint shared = m->num_shared_experts * m->shared_expert_intermediate_size;
        if (shared > 0) {
            guint sh = div_up(shared, tp);
            gemm_add(sm, dbs, "shared_gate_up", d, 2 * sh, sm->moe_layers, FALSE);
            gemm_add(sm, dbs, "shared_down", sh, d, sm->moe_layers, FALSE);
        }
        sm->E = m->num_experts;
        sm->topk = m->experts_per_token;
        de = div_up(m->moe_intermediate_size, tp);
        sm->expert_up.name = "expert_gate_up";
        sm->expert_up.count = sm->moe_layers;
        lat_gemm_curve_init_format(&sm->expert_up.c, d, 2 * de, lat_gemm_format(m, FALSE), m->act_bytes, hw,
                                   &sm->roof, sm->donors, dbs, sm->ndonors, &sm->p);
        sm->expert_down.name = "expert_down";
        sm->expert_down.count = sm->moe_layers;
        lat_gemm_curve_init_format(&sm->expert_down.c, de, d, lat_gemm_format(m, FALSE), m->act_bytes, hw,
                                   &sm->roof, sm->donors, dbs, sm->ndonors, &sm->p);
        sm->any_estimated = sm->any_estimated || sm->expert_up.c.estimated;
    }
    /* a draft head's fc projection of 2 or 3 hidden states (16-bit) */
    if (m->draft_fc_inputs > 0)
        gemm_add(sm, dbs, "fc", m->draft_fc_inputs * d, d, 1, TRUE);
    /* LM head: vocabulary-parallel, 16-bit weights */
    sm->lm_head.name = "lm_head";
    sm->lm_head.count = 1;
    lat_gemm_curve_init(&sm->lm_head.c, d, div_up(m->vocab_size, tp), FALSE, m->act_bytes, hw, &sm->roof, sm->donors,
                        dbs, sm->ndonors, &sm->p);

    /* attention core */
    sm->attn_layers = m->num_layers - m->num_linear_attn_layers;
    if (m->num_sliding_layers > 0 && m->sliding_window > 0) {
        sm->swa_layers = MIN((double)m->num_sliding_layers, sm->attn_layers);
        sm->window = m->sliding_window;
    }
    sm->full_layers = sm->attn_layers - sm->swa_layers;
    lat_attn_init(&sm->attn, m, tp, sm->donors, dbs, sm->ndonors);
    sm->any_estimated = sm->any_estimated || !sm->attn.prefill || !sm->attn.decode;

    /* elementwise kernels (bytes per token of one layer) */
    double b = m->act_bytes;
    double rot_heads = m->kv_lora_rank > 0 ? (double)h_gpu + 1 : (double)h_gpu + kv_gpu;
    double rot_dim = m->kv_lora_rank > 0 ? m->qk_rope_head_dim : m->head_dim;
    sm->elem_dense_bytes[0] = 4.0 * d * b;                  /* one fused add + RMSNorm (two per layer) */
    sm->elem_dense_bytes[1] = 2.0 * rot_heads * rot_dim * b; /* rotary on q and k: read + write */
    sm->elem_dense_bytes[2] = 2.0 * sm->attn.kv_bytes_token; /* KV write: read k, v; write the cache */
    sm->elem_act_dense = 3.0 * ff * b;
    sm->elem_act_moe = 3.0 * sm->topk * de * b;
    sm->elem_permute_moe = 2.0 * sm->topk * d * b;
    sm->kernels_per_layer = 4 /* GEMMs */ + 5 /* elementwise */ + 1 /* attention */ + (tp > 1 ? 2 : 0) +
                            (sm->moe_layers > 0 ? 4 : 0);

    /* all-reduce after attention and after the MLP of every layer */
    lat_comm_init(&sm->comm, hw, tp, sm->donors, dbs, sm->ndonors);
    sm->ar_per_step = tp > 1 ? 2.0 * L : 0.0;
    sm->ar_bytes_per_token = (double)d * m->act_bytes;

    double host_gbs = params->host_link_gbs > 0 ? params->host_link_gbs
                      : hw->host_link_gbs > 0   ? hw->host_link_gbs
                                                : 32.0; /* PCIe Gen4 x16 when the hardware entry does not say */
    sm->host_bps = host_gbs * 1e9 * params->host_link_efficiency;

    capture_sizes(sm);
    sm->cache_len = MIN(MAX(max_batched_tokens, sm->cap[sm->ncap - 1]), CACHE_LIMIT) + 1;
    sm->mcache = g_new(double, sm->cache_len);
    sm->lmcache = g_new(double, sm->cache_len);
    for (guint i = 0; i < sm->cache_len; i++)
        sm->mcache[i] = sm->lmcache[i] = -1.0;
    return sm;
}

void lat_step_model_free(LatStepModel *sm)
{
    if (!sm)
        return;
    for (guint i = 0; i < sm->ngemm; i++)
        lat_gemm_curve_clear(&sm->gemms[i].c);
    lat_gemm_curve_clear(&sm->lm_head.c);
    if (sm->moe_layers > 0) {
        lat_gemm_curve_clear(&sm->expert_up.c);
        lat_gemm_curve_clear(&sm->expert_down.c);
    }
    lat_attn_clear(&sm->attn);
    lat_step_model_free(sm->draft);
    g_free(sm->cap);
    g_free(sm->mcache);
    g_free(sm->lmcache);
    g_free(sm);
}

/* ------------------------------------------------------ engine options -- */

void lat_step_model_set_draft(LatStepModel *sm, LatStepModel *draft, guint num_speculative_tokens)
{
    if (sm->draft != draft)
        lat_step_model_free(sm->draft);
    sm->draft = draft;
    sm->options_on = sm->draft != NULL || sm->lora_rank > 0 || sm->offload;
    sm->spec_k = num_speculative_tokens;
}

double lat_lora_adapter_bytes(const LatModelDesc *m, guint tp, guint rank)
{
    if (tp == 0)
        tp = 1;
    double d = m->hidden_size, h = (double)m->num_heads / tp, kv = (double)div_up(m->num_kv_heads, tp);
    double dh = m->kv_lora_rank > 0 ? m->qk_nope_head_dim + m->qk_rope_head_dim : m->head_dim;
    /* each slice of a fused projection has its own A (k x r): q, k, v; gate, up */
    double qkv = 3.0 * d + (h + 2.0 * kv) * dh;
    double o = h * (m->kv_lora_rank > 0 ? m->v_head_dim : m->head_dim) + d;
    double ff = ceil((double)m->intermediate_size / tp);
    double mlp = m->num_dense_layers * ((2.0 * d + 2.0 * ff) + (ff + d));
    return ((double)m->num_layers * (qkv + o) + mlp) * rank * 2.0;
}

void lat_step_model_set_lora(LatStepModel *sm, guint max_lora_rank)
{
    sm->lora_rank = max_lora_rank;
    sm->options_on = sm->draft != NULL || sm->lora_rank > 0 || sm->offload;
    sm->lora_adapter_bytes = lat_lora_adapter_bytes(sm->model, sm->tp, max_lora_rank);
}

void lat_step_model_set_offload(LatStepModel *sm, gboolean on)
{
    sm->offload = on;
    sm->options_on = sm->draft != NULL || sm->lora_rank > 0 || sm->offload;
}

double lat_step_model_host_bps(const LatStepModel *sm)
{
    return sm->host_bps;
}

LatBackend lat_step_model_backend(const LatStepModel *sm) { return sm->backend; }

gboolean lat_step_model_estimated(const LatStepModel *sm) { return sm->any_estimated || !sm->any_table; }

gboolean lat_step_model_measured_gpu(const LatStepModel *sm)
{
    return sm->ndonors > 0 && sm->donors[0] == sm->hw && !lat_step_model_estimated(sm);
}

const char *lat_step_model_table_gpu(const LatStepModel *sm) { return sm->ndonors ? sm->donors[0]->name : NULL; }

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
        out[i] = (LatGemmInfo){g->name, g->c.k, g->c.n, g->count, g->c.weight_bytes,
                               g->c.curve ? lat_mfu_curve_file(g->c.curve) : NULL, g->c.exact};
    }
    return n;
}

/* ------------------------------------------------------------ the terms -- */

typedef struct {
    double seconds, flops, bytes;
    double compute_s, memory_s;
} Acc;

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

static gboolean gemm_compute_bound(const LatStepModel *sm, const LatGemmCurve *c, double m)
{
    return lat_gemm_flops(c, m) / c->peak >= lat_gemm_bytes(c, m) / sm->roof.bw;
}

static double gemm_time(const LatStepModel *sm, const Gemm *g, double m, Acc *acc, char *src, gsize len)
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
static double moe_time(const LatStepModel *sm, double tokens, Acc *acc, char *src, gsize len)
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

static double elementwise_time(const LatStepModel *sm, double m, Acc *acc)
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

static double allreduce_time(const LatStepModel *sm, double tokens, char *src, gsize len)
{
    if (sm->ar_per_step <= 0 || tokens <= 0)
        return 0.0;
    return sm->ar_per_step * lat_comm_allreduce_time(&sm->comm, &sm->p, tokens * sm->ar_bytes_per_token, src, len);
}

/* Everything that depends only on the step's (padded) token count. */
static double m_time(const LatStepModel *sm, double m)
{
    double t = 0;
    for (guint i = 0; i < sm->ngemm; i++)
        t += gemm_time(sm, &sm->gemms[i], m, NULL, NULL, 0);
    t += moe_time(sm, m, NULL, NULL, 0);
    t += elementwise_time(sm, m, NULL);
    t += allreduce_time(sm, m, NULL, 0);
    return t;
}

/* LM head and sampler for s sampled tokens (the logits of the whole
 * vocabulary are gathered and read in 32-bit floats, then probabilities written). */
static double lm_time(const LatStepModel *sm, double s, Acc *acc, char *src, gsize len)
{
    if (s <= 0)
        return 0.0;
    double t = gemm_time(sm, &sm->lm_head, s, acc, src, len);
    double sb = s * sm->model->vocab_size * 8.0;
    double ts = lat_elementwise_time(&sm->roof, &sm->p, sb);
    acc_add(acc, ts, 0, sb, FALSE);
    return t + ts;
}

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
            *c = m_time(sm, mp);
        return *c;
    }
    return m_time(sm, mp);
}

static inline double lm_time_cached(LatStepModel *sm, uint32_t s)
{
    if (s == 0)
        return 0.0;
    if (s < sm->cache_len) {
        double *c = &sm->lmcache[s];
        if (*c < 0)
            *c = lm_time(sm, s, NULL, NULL, 0);
        return *c;
    }
    return lm_time(sm, s, NULL, NULL, 0);
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

/* One prefill chunk, all layers. */
static double prefill_attn(const LatStepModel *sm, const BatchEntry *e, char *src, gsize len, double *flops,
                           double *bytes)
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
static double lora_time(const LatStepModel *sm, const BatchDesc *b, Acc *acc)
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

static double lora_load_time(const LatStepModel *sm, const BatchDesc *b)
{
    return b->lora_loads * sm->lora_adapter_bytes / sm->host_bps + b->lora_disk_loads * sm->p.lora_load_us * 1e-6;
}

/* KV copied from host memory this step, all layers of this GPU. */
static double kv_load_time(const LatStepModel *sm, const BatchDesc *b, double *bytes)
{
    double by = (double)b->kv_load_tokens * sm->attn.kv_bytes_token * sm->attn_layers;
    if (bytes)
        *bytes = by;
    return by / sm->host_bps;
}

/* The options' terms over the forward pass's GPU time. */
static G_NO_INLINE double options_time(LatStepModel *sm, const BatchDesc *b, double gpu, double sampled_kv)
{
    if (G_UNLIKELY(sm->draft != NULL))
        gpu += draft_time(sm, b, sampled_kv, NULL);
    if (G_UNLIKELY(b->lora_tokens > 0 && sm->lora_rank > 0))
        gpu += lora_time(sm, b, NULL);
    if (G_UNLIKELY(b->lora_loads + b->lora_disk_loads > 0 && sm->lora_rank > 0))
        gpu += lora_load_time(sm, b);
    if (G_UNLIKELY(b->kv_load_tokens > 0 && sm->offload))
        gpu = MAX(gpu, kv_load_time(sm, b, NULL)); /* overlapped with compute, layer by layer */
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
    g_assert(out->num_components < LAT_MAX_COMPONENTS); /* at most 10 are added */
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
        double t = gemm_time(sm, g, m, &one, src, sizeof src);
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
        double t = lora_time(sm, b, &a);
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
        double t = lora_load_time(sm, b);
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
        double t = kv_load_time(sm, b, &by);
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
        double t = moe_time(sm, m, &e, src, sizeof src);
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
    gpu += elementwise_time(sm, m, &el);
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
        double t = allreduce_time(sm, m, src, sizeof src);
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
        double t = lm_time(sm, b->num_sampled + b->spec_tokens, &l, src, sizeof src);
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
