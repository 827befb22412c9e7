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

gboolean lat_memory_plan(const LatModelDesc *m, const LatHardware *hw, guint tp, double gpu_memory_utilization,
                         guint block_size, guint max_num_batched_tokens, guint max_num_seqs, LatMemoryPlan *out,
                         GError **error)
{
    g_return_val_if_fail(m && hw && out, FALSE);
    *out = (LatMemoryPlan){0};
    if (tp == 0 || block_size == 0 || max_num_batched_tokens == 0 || max_num_seqs == 0 ||
        !(gpu_memory_utilization > 0.0 && gpu_memory_utilization <= 1.0)) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "memory plan: expected tp, block size, max-num-batched-tokens and max-num-seqs above 0 and "
                    "gpu-memory-utilization in (0, 1] (got %u, %u, %u, %u, %g)",
                    tp, block_size, max_num_batched_tokens, max_num_seqs, gpu_memory_utilization);
        return FALSE;
    }
    if (m->num_linear_attn_layers > 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "model '%s' has %u linear-attention layers: its KV memory is not modelled", m->name,
                    m->num_linear_attn_layers);
        return FALSE;
    }
    out->total_bytes = runtime_total_bytes(hw);
    out->usable_bytes = out->total_bytes * gpu_memory_utilization;
    out->weight_bytes = lat_model_weight_bytes_per_gpu(m, tp);
    double act = LAT_MEM_ACT_SCALE * max_num_batched_tokens * (2.0 * m->hidden_size + mlp_width_per_gpu(m, tp)) *
                 m->act_bytes;
    double logits = LAT_MEM_LOGIT_COPIES * max_num_seqs * (double)m->vocab_size * 4.0;
    out->activation_bytes = act + logits + LAT_MEM_RUNTIME_BYTES;
    out->kv_bytes = out->usable_bytes - out->weight_bytes - out->activation_bytes;
    out->block_bytes = lat_model_kv_bytes_per_token(m, tp) * block_size;
    out->num_blocks = out->kv_bytes > 0 ? (gint64)floor(out->kv_bytes / out->block_bytes) : 0;
    if (out->kv_bytes <= 0 || out->num_blocks < 1) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "model '%s' does not fit on %s at tensor-parallel size %u: weights need %.1f GiB per GPU and "
                    "activations about %.1f GiB, but usable memory is %.1f GiB (gpu-memory-utilization %.2f of "
                    "%.1f GiB)%s",
                    m->name, hw->name, tp, out->weight_bytes / GIB, out->activation_bytes / GIB,
                    out->usable_bytes / GIB, gpu_memory_utilization, out->total_bytes / GIB,
                    out->kv_bytes > 0 ? ", leaving less than one KV block" : "");
        return FALSE;
    }
    return TRUE;
}
