/*
 * lat_quant.c: a model as vLLM serves it, when the engine options change
 * what was read from its config.json: --quantization (the weight format of
 * every GEMM), --kv-cache-dtype (bytes per KV element), --disable-sliding-
 * window, and the draft heads of speculative decoding (EAGLE, EAGLE-3, MTP)
 * built from their target's shape.
 *
 * Weight formats (docs/options/quantization.md):
 *   16-bit       BF16/FP16 GEMMs: the BF16 tables (gemm_bf16/<gpu>).
 *   FP8          W8A8: DeepGEMM's FP8 tables at the FP8 peak on GPUs with FP8
 *                tensor cores; elsewhere weight-only (W8A16, as vLLM's FP8
 *                Marlin kernel runs on Ampere).
 *   weight-only  integer weights (AWQ, GPTQ; 4 or 8 bits with a 16-bit scale
 *                per group, AWQ with a zero point per group too) dequantized
 *                to 16 bits inside the GEMM: vLLM's Marlin kernels
 *                (awq_marlin, gptq_marlin, which vLLM picks for AWQ/GPTQ
 *                checkpoints on compute capability >= 8.0). Timed from the
 *                BF16 tables by the roofline rule with the quantized weight
 *                bytes and woq_compute_efficiency of the BF16 peak.
 * The embedding, LM head and MoE router stay 16-bit, as in the checkpoints.
 *
 * Cost: O(1) per call; nothing here is on a hot path.
 */
#include <string.h>

#include "lat.h"
#include "ss_error.h"

typedef enum { FMT_FP8 = 0, FMT_WOQ, FMT_CHECKPOINT } QuantFormat;

static const struct {
    const char *name;
    QuantFormat fmt;
    const char *checkpoint; /* the quant_method of a checkpoint it serves (NULL: any 16-bit one too) */
    gboolean zeros;         /* weight-only: a zero point per group (AWQ) */
} methods[] = {
    {"fp8", FMT_FP8, "fp8", FALSE},
    {"fbgemm_fp8", FMT_FP8, "fbgemm_fp8", FALSE},
    {"modelopt", FMT_FP8, "modelopt", FALSE},
    {"awq", FMT_WOQ, "awq", TRUE},
    {"awq_marlin", FMT_WOQ, "awq", TRUE},
    {"gptq", FMT_WOQ, "gptq", FALSE},
    {"gptq_marlin", FMT_WOQ, "gptq", FALSE},
    {"compressed-tensors", FMT_CHECKPOINT, "compressed-tensors", FALSE},
};

const char *const *lat_quantization_names(void)
{
    static const char *names[G_N_ELEMENTS(methods) + 1];
    static gsize init = 0;
    if (g_once_init_enter(&init)) {
        for (gsize i = 0; i < G_N_ELEMENTS(methods); i++)
            names[i] = methods[i].name;
        names[G_N_ELEMENTS(methods)] = NULL;
        g_once_init_leave(&init, 1);
    }
    return names;
}

static char *known_methods(void)
{
    return g_strjoinv(", ", (char **)lat_quantization_names());
}

gboolean lat_model_apply_quantization(LatModelDesc *m, const char *method, GError **error)
{
    g_return_val_if_fail(m && method, FALSE);
    gsize i = 0;
    while (i < G_N_ELEMENTS(methods) && g_ascii_strcasecmp(methods[i].name, method) != 0)
        i++;
    if (i == G_N_ELEMENTS(methods)) {
        char *known = known_methods();
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "--quantization '%s': not a method servesim models (known: %s; a checkpoint's own "
                    "quantization_config applies without the flag)",
                    method, known);
        g_free(known);
        return FALSE;
    }
    const char *ckpt = m->quant_method;
    if (ckpt) {
        /* vLLM: the flag must name the checkpoint's method, or its Marlin variant */
        if (g_ascii_strcasecmp(ckpt, methods[i].checkpoint) != 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "--quantization '%s': the checkpoint of model '%s' is quantized with '%s' "
                        "(quantization_config in %s); vLLM refuses a different method",
                        method, m->name, ckpt, m->config_path ? m->config_path : "its config.json");
            return FALSE;
        }
        /* its format was read from the checkpoint */
    } else {
        switch (methods[i].fmt) {
        case FMT_FP8: /* online: vLLM quantizes a 16-bit checkpoint at load time */
            m->fp8_weights = TRUE;
            m->weight_only = FALSE;
            m->weight_bytes = 1.0;
            m->weight_bits = 8;
            m->quant_group_size = 0;
            break;
        case FMT_WOQ: { /* timed as the model's AWQ/GPTQ checkpoint: 4-bit, group 128 */
            m->fp8_weights = FALSE;
            m->weight_only = TRUE;
            m->weight_bits = 4;
            m->quant_group_size = 128;
            m->weight_bytes = 0.5 + 2.0 / 128.0 + (methods[i].zeros ? 0.5 / 128.0 : 0.0);
            break;
        }
        case FMT_CHECKPOINT:
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "--quantization '%s': model '%s' has no quantization_config; compressed-tensors "
                        "formats are read from a quantized checkpoint's config.json",
                        method, m->name);
            return FALSE;
        }
    }
    g_free(m->quantization);
    m->quantization = g_ascii_strdown(methods[i].name, -1);
    return TRUE;
}

const char *lat_model_weight_format(const LatModelDesc *m, char *buf, gsize len)
{
    if (m->fp8_weights) {
        g_strlcpy(buf, "FP8 W8A8 (FP8 tensor cores; weight-only W8A16 on GPUs without them)", len);
    } else if (m->weight_only) {
        if (m->quant_group_size)
            g_snprintf(buf, len, "%u-bit weight-only, group %u, %.3f bytes/weight (Marlin W%uA16)", m->weight_bits,
                       m->quant_group_size, m->weight_bytes, m->weight_bits);
        else
            g_snprintf(buf, len, "%u-bit weight-only, per channel (Marlin W%uA16)", m->weight_bits, m->weight_bits);
    } else {
        g_strlcpy(buf, "16-bit", len);
    }
    return buf;
}

gboolean lat_model_apply_kv_cache_dtype(LatModelDesc *m, const char *dtype, GError **error)
{
    g_return_val_if_fail(m && dtype, FALSE);
    static const struct {
        const char *name;
        double bytes;
    } dtypes[] = {{"auto", 2.0},  {"bfloat16", 2.0}, {"float16", 2.0},
                  {"fp8", 1.0},   {"fp8_e4m3", 1.0}, {"fp8_e5m2", 1.0}};
    for (gsize i = 0; i < G_N_ELEMENTS(dtypes); i++) {
        if (strcmp(dtypes[i].name, dtype) != 0)
            continue;
        m->kv_bytes = dtypes[i].bytes;
        g_free(m->kv_cache_dtype);
        m->kv_cache_dtype = i == 0 ? NULL : g_strdup(dtype);
        return TRUE;
    }
    g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                "--kv-cache-dtype '%s': expected auto, bfloat16, float16, fp8, fp8_e4m3 or fp8_e5m2 (other vLLM "
                "cache types are not modelled)",
                dtype);
    return FALSE;
}

void lat_model_disable_sliding_window(LatModelDesc *m)
{
    m->num_sliding_layers = 0; /* sliding_window stays: the cap of max_model_len */
}

LatModelDesc *lat_model_draft_head(const LatModelDesc *target, LatDraftHead kind, guint draft_vocab)
{
    LatModelDesc *d = lat_model_desc_copy(target);
    char *name = g_strdup_printf("%s-%s", target->name,
                                 kind == LAT_DRAFT_EAGLE ? "eagle" : kind == LAT_DRAFT_EAGLE3 ? "eagle3" : "mtp");
    g_free(d->name);
    d->name = name;
    gboolean moe_layer = kind == LAT_DRAFT_MTP && target->num_experts > 0 &&
                         target->num_dense_layers < target->num_layers;
    d->num_layers = 1;
    d->num_dense_layers = moe_layer ? 0 : 1;
    if (!moe_layer) {
        d->num_experts = d->experts_per_token = 0;
        d->num_shared_experts = d->shared_expert_intermediate_size = 0;
        d->moe_intermediate_size = 0;
        if (d->intermediate_size == 0)
            d->intermediate_size = target->moe_intermediate_size;
    }
    d->num_linear_attn_layers = 0;
    d->num_sliding_layers = 0;
    d->sliding_window = 0;
    d->draft_fc_inputs = kind == LAT_DRAFT_EAGLE3 ? 3 : 2;
    if (kind != LAT_DRAFT_MTP) {
        /* EAGLE heads are published in 16 bits whatever the target's format */
        d->fp8_weights = d->weight_only = FALSE;
        d->weight_bytes = 2.0;
        d->weight_bits = 16;
        d->quant_group_size = 0;
        g_free(d->quantization);
        d->quantization = NULL;
    }
    /* tie_word_embeddings marks "shares the target's LM head" for a head */
    d->tie_word_embeddings = TRUE;
    if (kind == LAT_DRAFT_EAGLE3) {
        d->vocab_size = draft_vocab ? draft_vocab : 32000;
        d->tie_word_embeddings = FALSE;
    } else if (draft_vocab) {
        d->vocab_size = draft_vocab;
        d->tie_word_embeddings = draft_vocab == target->vocab_size;
    }
    return d;
}
