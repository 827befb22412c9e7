/*
 * lat_step_setup.c: building the step-time model (lat_step.c describes it):
 * the parameters checked, the GEMMs of a layer with their measured curves
 * (or a donor GPU's, or the roofline), the elementwise bytes, attention and
 * all-reduce of one GPU of the TP group, vLLM's CUDA-graph capture sizes and
 * the per-count caches; then the engine options set on a built model
 * (drafter, LoRA, CPU offload) and the model's accessors.
 */
#include <math.h>
#include <string.h>

#include "lat_step_internal.h"
#include "ss_error.h"

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
    g_assert(sm->ngemm < MAX_GEMMS); /* at most 11 are added below: 5 attention, 2 dense MLP, 3 MoE, 1 fc */
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
