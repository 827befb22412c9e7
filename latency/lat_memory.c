/*
 * lat_memory.c: how many KV-cache blocks vLLM allocates on one GPU.
 *
 * What it models: vLLM V1's memory profiling at start-up,
 *   kv_bytes = total · gpu_memory_utilization − weights − activations,
 *   num_gpu_blocks = floor(kv_bytes / block_bytes),
 * estimated without a GPU:
 *   total        memory the CUDA runtime reports: mem_runtime_gib when the
 *                hardware entry gives it, else mem_gb read as GiB minus the
 *                driver/ECC reserve: ×0.99 for parts of 40 GB or more (an
 *                "80 GB" H100 reports 79.2 GiB = 85.0e9 bytes), ×0.9996 below
 *                (a 24 GB RTX 4090 reports 23.99 GiB);
 *   weights      lat_model_weight_bytes_per_gpu (sharded by tp);
 *   activations  the peak of vLLM's profiling run: max_num_batched_tokens ×
 *                (2·d + 3·d_ff/tp) × b_act (the hidden state and residual,
 *                the gate/up output and the activated half of the widest MLP)
 *                + LAT_MEM_LOGIT_COPIES × max_num_seqs × V × 4 bytes (the
 *                sampler's dummy run holds about that many fp32 arrays of
 *                logits) + LAT_MEM_RUNTIME_BYTES (non-torch growth: cuBLAS
 *                and NCCL workspaces);
 *   block_bytes  block_size × lat_model_kv_bytes_per_token (2·L·n_kv/tp·d_h·b_kv).
 * The three constants were calibrated on the block counts three real
 * servers logged (docs/latency.md gives the residuals: within 0.25%).
 * The engine options (lat_memory_plan_ex, docs/options/) add:
 *   quantization  the model's weight bytes (lat_model_weight_bytes_per_gpu);
 *   FP8 KV cache  b_kv = 1 in block_bytes;
 *   speculation   the draft's weights, and its KV layers in every block (vLLM
 *                 puts the drafter's attention layers in the same KV cache);
 *   LoRA          max_loras adapter slots at max_lora_rank, with the weights;
 *   sliding       vLLM's hybrid KV cache manager: the attention layers split
 *   windows       into groups of g = min(full, sliding) layers (the draft's
 *                 counted as full), a block holds block_size tokens of one
 *                 group: block_bytes = block_size × g × (KV of one layer),
 *                 ceil(full/g) full groups and ceil(sliding/g) sliding ones
 *                 (docs/options/sliding-window.md; vLLM's
 *                 docs/design/hybrid_kv_cache_manager.md). A model whose
 *                 every layer slides is allocated as one full group.
 *
 * Cost: O(1). Limits: CUDA-graph memory (counted by vLLM from v0.21 on) and
 * per-TP communication buffers are not in the estimate; hybrid
 * linear-attention models are refused.
 */
#include <math.h>

#include "lat.h"
#include "ss_error.h"

#define GIB 1073741824.0
#define LAT_MEM_LOGIT_COPIES 11.0     /* fp32 copies of max_num_seqs × vocab at the sampler peak */
#define LAT_MEM_RUNTIME_BYTES 50.0e6  /* non-torch memory growth during profiling */
#define LAT_MEM_ACT_SCALE 1.0         /* multiplies the MLP activation estimate */

static double runtime_total_bytes(const LatHardware *hw)
{
    if (hw->mem_runtime_gib > 0)
        return hw->mem_runtime_gib * GIB;
    double keep = hw->mem_gb >= 40.0 ? 0.99 : 0.9996;
    return hw->mem_gb * keep * GIB;
}

/* Width per token of the widest MLP's live activations on one GPU. */
static double mlp_width_per_gpu(const LatModelDesc *m, guint tp)
{
    double dense = m->num_dense_layers > 0 ? 3.0 * m->intermediate_size / tp : 0.0;
    double moe = 0.0;
    if (m->num_experts > 0 && m->num_dense_layers < m->num_layers)
        moe = (double)m->experts_per_token * 3.0 * m->moe_intermediate_size / tp +
              3.0 * (double)m->num_shared_experts * m->shared_expert_intermediate_size / tp;
    return MAX(dense, moe);
}

/* KV bytes of one token of one attention layer on one GPU. */
static double kv_layer_bytes(const LatModelDesc *m, guint tp)
{
    double layers = (double)(m->num_layers - m->num_linear_attn_layers);
    return layers > 0 ? lat_model_kv_bytes_per_token(m, tp) / layers : 0.0;
}

gboolean lat_memory_plan(const LatModelDesc *m, const LatHardware *hw, guint tp, double gpu_memory_utilization,
                         guint block_size, guint max_num_batched_tokens, guint max_num_seqs, LatMemoryPlan *out,
                         GError **error)
{
    LatMemoryInput in = {.model = m,
                         .hw = hw,
                         .tp = tp,
                         .gpu_memory_utilization = gpu_memory_utilization,
                         .block_size = block_size,
                         .max_num_batched_tokens = max_num_batched_tokens,
                         .max_num_seqs = max_num_seqs,
                         .hybrid_kv = TRUE};
    return lat_memory_plan_ex(&in, out, error);
}

gboolean lat_memory_plan_ex(const LatMemoryInput *in, LatMemoryPlan *out, GError **error)
{
    g_return_val_if_fail(in && in->model && in->hw && out, FALSE);
    const LatModelDesc *m = in->model;
    const LatHardware *hw = in->hw;
    guint tp = in->tp, block_size = in->block_size;
    double gpu_memory_utilization = in->gpu_memory_utilization;
    *out = (LatMemoryPlan){0};
    if (tp == 0 || block_size == 0 || in->max_num_batched_tokens == 0 || in->max_num_seqs == 0 ||
        !(gpu_memory_utilization > 0.0 && gpu_memory_utilization <= 1.0)) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "memory plan: expected tp, block size, max-num-batched-tokens and max-num-seqs above 0 and "
                    "gpu-memory-utilization in (0, 1] (got %u, %u, %u, %u, %g)",
                    tp, block_size, in->max_num_batched_tokens, in->max_num_seqs, gpu_memory_utilization);
        return FALSE;
    }
    if (m->num_linear_attn_layers > 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "model '%s' has %u linear-attention layers: its KV memory is not modelled", m->name,
                    m->num_linear_attn_layers);
        return FALSE;
    }
    guint draft_tp = in->draft_tp ? in->draft_tp : tp;
    out->total_bytes = runtime_total_bytes(hw);
    out->usable_bytes = out->total_bytes * gpu_memory_utilization;
    out->draft_weight_bytes = in->draft ? lat_model_weight_bytes_per_gpu(in->draft, draft_tp) : 0.0;
    out->extra_weight_bytes = in->extra_weight_bytes;
    out->weight_bytes = lat_model_weight_bytes_per_gpu(m, tp) + out->draft_weight_bytes + out->extra_weight_bytes;
    double act = LAT_MEM_ACT_SCALE * in->max_num_batched_tokens *
                 (2.0 * m->hidden_size + mlp_width_per_gpu(m, tp)) * m->act_bytes;
    double logits = LAT_MEM_LOGIT_COPIES * in->max_num_seqs * (double)m->vocab_size * 4.0;
    out->activation_bytes = act + logits + LAT_MEM_RUNTIME_BYTES;
    out->kv_bytes = out->usable_bytes - out->weight_bytes - out->activation_bytes;

    guint attn = m->num_layers - m->num_linear_attn_layers;
    guint sliding = MIN(m->num_sliding_layers, attn);
    double layer = kv_layer_bytes(m, tp);
    double draft_kv = in->draft ? lat_model_kv_bytes_per_token(in->draft, draft_tp) : 0.0;
    out->groups_full = 1;
    if (!in->hybrid_kv || sliding == 0 || (sliding == attn && !in->draft) || layer <= 0) {
        out->group_layers = attn + (in->draft ? in->draft->num_layers : 0);
        out->block_bytes = (lat_model_kv_bytes_per_token(m, tp) + draft_kv) * block_size;
    } else {
        /* the draft's layers join the full-attention ones, at the target's per-layer size */
        guint draft_layers = in->draft ? (guint)MAX(1.0, round(draft_kv / layer)) : 0;
        guint full = attn - sliding + draft_layers;
        guint g = MIN(full, sliding);
        out->group_layers = g;
        out->groups_full = (full + g - 1) / g;
        out->groups_sliding = (sliding + g - 1) / g;
        out->block_bytes = (double)block_size * g * layer;
    }
    out->num_blocks = out->kv_bytes > 0 ? (gint64)floor(out->kv_bytes / out->block_bytes) : 0;
    if (out->kv_bytes <= 0 || out->num_blocks < 1) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "model '%s' does not fit on %s at tensor-parallel size %u: weights need %.1f GiB per GPU%s and "
                    "activations about %.1f GiB, but usable memory is %.1f GiB (gpu-memory-utilization %.2f of "
                    "%.1f GiB)%s",
                    m->name, hw->name, tp, out->weight_bytes / GIB,
                    out->draft_weight_bytes + out->extra_weight_bytes > 0 ? " (draft and LoRA slots included)" : "",
                    out->activation_bytes / GIB, out->usable_bytes / GIB, gpu_memory_utilization,
                    out->total_bytes / GIB, out->kv_bytes > 0 ? ", leaving less than one KV block" : "");
        return FALSE;
    }
    return TRUE;
}
