/*
 * lat_model.c: a model's shape read from its Hugging Face config.json.
 *
 * What it models: the numbers the step-time and memory models need, for the
 * config families vLLM serves: dense decoders (Llama, Qwen, Mistral, Yi),
 * GQA, mixtures of experts (Mixtral's num_local_experts, Qwen-MoE's
 * num_experts with mlp_only_layers / decoder_sparse_step and
 * shared_expert_intermediate_size, DeepSeek's n_routed_experts or
 * num_routed_experts with shared experts, first_k_dense_replace and
 * moe_layer_freq, Llama-4's interleave_moe_layer_step with its shared
 * expert), multi-head latent attention (DeepSeek), quantized weights
 * (quantization_config: quant_method "fp8", AWQ and GPTQ with their bits
 * and group size, compressed-tensors with float or integer weights),
 * sliding-window layers (sliding_window with layer_types,
 * sliding_window_pattern, Gemma-2's alternation, Qwen's
 * use_sliding_window / max_window_layers, or every layer as in Mistral
 * v0.1), and configs nested under "text_config" (Llama-4, Qwen3.5, Gemma-3).
 * Hybrid linear-attention models load (their layer counts are recorded) but
 * are not timed.
 *
 * Cost: one JSON parse per load; the accessors are O(1). The cJSON document
 * never leaves lat_model_desc_load (fields are copied out).
 * Limits: biases, norms and rotary tables are not counted in the weights per
 * GPU (they are below 0.1% of any shipped model); chunked local attention
 * (Llama-4) is timed as full attention.
 */
#include <math.h>
#include <string.h>

#include "lat.h"
#include "lat_internal.h"
#include "ss_error.h"

static gint cmp_str_ptr(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

void lat_model_desc_free(LatModelDesc *m)
{
    if (!m)
        return;
    g_free(m->name);
    g_free(m->config_path);
    g_free(m->architecture);
    g_free(m->model_type);
    g_free(m->dtype);
    g_free(m->quant_method);
    g_free(m->quantization);
    g_free(m->kv_cache_dtype);
    g_free(m);
}

LatModelDesc *lat_model_desc_copy(const LatModelDesc *src)
{
    LatModelDesc *m = g_new(LatModelDesc, 1);
    *m = *src;
    m->name = g_strdup(src->name);
    m->config_path = g_strdup(src->config_path);
    m->architecture = g_strdup(src->architecture);
    m->model_type = g_strdup(src->model_type);
    m->dtype = g_strdup(src->dtype);
    m->quant_method = g_strdup(src->quant_method);
    m->quantization = g_strdup(src->quantization);
    m->kv_cache_dtype = g_strdup(src->kv_cache_dtype);
    return m;
}

char **lat_model_list(const char *data_dir)
{
    GPtrArray *names = g_ptr_array_new();
    char *dir = g_build_filename(data_dir ? data_dir : ".", "models", NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d) {
        const char *n;
        while ((n = g_dir_read_name(d))) {
            char *cfg = g_build_filename(dir, n, "config.json", NULL);
            if (g_file_test(cfg, G_FILE_TEST_IS_REGULAR))
                g_ptr_array_add(names, g_strdup(n));
            g_free(cfg);
        }
        g_dir_close(d);
    }
    g_free(dir);
    g_ptr_array_sort(names, cmp_str_ptr);
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(names, FALSE);
}

/* The first present of several alternative integer fields. */
static gboolean uint_alt(const cJSON *obj, const char *const *fields, const char *where, guint *out,
                         gboolean *present, GError **error)
{
    *present = FALSE;
    for (const char *const *f = fields; *f; f++) {
        gboolean here = FALSE;
        if (!lat_json_uint(obj, *f, where, FALSE, TRUE, out, &here, error))
            return FALSE;
        if (here) {
            *present = TRUE;
            return TRUE;
        }
    }
    return TRUE;
}

/* An integer weight-only format: `bits` per weight, one 16-bit scale per
 * `group` weights (0: per channel, negligible), and with `zeros` a
 * zero point of `bits` per group too. */
static void set_weight_only(LatModelDesc *m, guint bits, guint group, gboolean zeros)
{
    m->weight_only = TRUE;
    m->fp8_weights = FALSE;
    m->weight_bits = bits;
    m->quant_group_size = group;
    double per_weight = bits / 8.0;
    if (group > 0)
        per_weight += 2.0 / group + (zeros ? bits / 8.0 / group : 0.0);
    m->weight_bytes = per_weight;
}

/* The group size of a format: "group_size" (-1: per channel). */
static gboolean read_group_size(const cJSON *q, const char *field, const char *where, guint *out, GError **error)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(q, field);
    if (!g || cJSON_IsNull(g))
        return TRUE;
    if (!cJSON_IsNumber(g) || g->valuedouble != floor(g->valuedouble) || g->valuedouble < -1 ||
        g->valuedouble == 0 || g->valuedouble > 1e6) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: field 'quantization_config.%s': expected a positive integer or -1 (per channel)", where,
                    field);
        return FALSE;
    }
    *out = g->valuedouble < 0 ? 0 : (guint)g->valuedouble;
    return TRUE;
}

/* Reads quantization_config: FP8 weights (1 byte, FP8 tensor cores) or
 * integer weight-only formats (bits / 8 bytes per weight, plus their group
 * scales and zero points). */
static gboolean read_quantization(const cJSON *q, const char *where, LatModelDesc *m, GError **error)
{
    char *method = NULL;
    if (!lat_json_string(q, "quant_method", where, TRUE, &method, error))
        return FALSE;
    m->quant_method = method;
    if (g_ascii_strcasecmp(method, "fp8") == 0 || g_ascii_strcasecmp(method, "fbgemm_fp8") == 0) {
        m->fp8_weights = TRUE;
        m->weight_bytes = 1.0;
        m->weight_bits = 8;
        return TRUE;
    }
    if (g_ascii_strcasecmp(method, "compressed-tensors") == 0) {
        const cJSON *groups = cJSON_GetObjectItemCaseSensitive(q, "config_groups");
        const cJSON *g;
        cJSON_ArrayForEach(g, groups)
        {
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(g, "weights");
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(w, "type");
            const cJSON *bits = cJSON_GetObjectItemCaseSensitive(w, "num_bits");
            if (!cJSON_IsNumber(bits) || bits->valuedouble < 1 || bits->valuedouble > 16)
                continue;
            if (cJSON_IsString(type) && strcmp(type->valuestring, "float") == 0 && bits->valuedouble == 8) {
                m->fp8_weights = TRUE;
                m->weight_bytes = 1.0;
                m->weight_bits = 8;
                return TRUE;
            }
            const cJSON *acts = cJSON_GetObjectItemCaseSensitive(g, "input_activations");
            const cJSON *abits = cJSON_GetObjectItemCaseSensitive(acts, "num_bits");
            if (bits->valuedouble == 8 && cJSON_IsNumber(abits) && abits->valuedouble == 8) {
                /* INT8 W8A8: integer tensor cores at the FP8 rate on Hopper and Ada */
                m->fp8_weights = TRUE;
                m->weight_bytes = 1.0;
                m->weight_bits = 8;
                return TRUE;
            }
            guint group = 0;
            if (!read_group_size(w, "group_size", where, &group, error))
                return FALSE;
            const cJSON *sym = cJSON_GetObjectItemCaseSensitive(w, "symmetric");
            set_weight_only(m, (guint)bits->valuedouble, group, cJSON_IsFalse(sym));
            return TRUE;
        }
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: field 'quantization_config.config_groups': expected a group with "
                    "'weights': {'num_bits': ..., 'type': ...}",
                    where);
        return FALSE;
    }
    if (g_ascii_strcasecmp(method, "awq") == 0 || g_ascii_strcasecmp(method, "gptq") == 0) {
        guint bits = 4;
        gboolean have_bits = FALSE;
        if (!lat_json_uint(q, "bits", where, FALSE, FALSE, &bits, &have_bits, error))
            return FALSE;
        if (!have_bits && !lat_json_uint(q, "w_bit", where, FALSE, FALSE, &bits, NULL, error))
            return FALSE;
        if (bits > 16) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: field 'quantization_config.bits': expected at most 16, got %u", where, bits);
            return FALSE;
        }
        guint group = 128;
        if (!read_group_size(q, "group_size", where, &group, error) ||
            !read_group_size(q, "q_group_size", where, &group, error))
            return FALSE;
        gboolean awq = g_ascii_strcasecmp(method, "awq") == 0;
        gboolean zeros = awq;
        if (awq && !lat_json_bool(q, "zero_point", where, &zeros, error))
            return FALSE;
        if (!awq) {
            gboolean sym = TRUE;
            if (!lat_json_bool(q, "sym", where, &sym, error))
                return FALSE;
            zeros = !sym;
        }
        set_weight_only(m, bits, group, zeros);
        return TRUE;
    }
    g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                "%s: field 'quantization_config.quant_method': expected 'fp8', 'compressed-tensors', "
                "'awq' or 'gptq', got '%s'",
                where, method);
    return FALSE;
}

/* Which layers hold experts, by family; fills num_dense_layers. */
static gboolean count_moe_layers(const cJSON *tc, const char *where, LatModelDesc *m, gboolean llama4,
                                 GError **error)
{
    guint L = m->num_layers, moe = 0;
    if (llama4) {
        guint step = 1;
        if (!lat_json_uint(tc, "interleave_moe_layer_step", where, FALSE, FALSE, &step, NULL, error))
            return FALSE;
        for (guint i = 0; i < L; i++)
            moe += ((i + 1) % step == 0);
    } else if (cJSON_GetObjectItemCaseSensitive(tc, "first_k_dense_replace") ||
               cJSON_GetObjectItemCaseSensitive(tc, "moe_layer_freq")) {
        guint first_dense = 0, freq = 1;
        if (!lat_json_uint(tc, "first_k_dense_replace", where, FALSE, TRUE, &first_dense, NULL, error) ||
            !lat_json_uint(tc, "moe_layer_freq", where, FALSE, FALSE, &freq, NULL, error))
            return FALSE;
        for (guint i = 0; i < L; i++)
            moe += (i >= first_dense && i % freq == 0);
    } else {
        guint step = 1;
        if (!lat_json_uint(tc, "decoder_sparse_step", where, FALSE, FALSE, &step, NULL, error))
            return FALSE;
        const cJSON *only = cJSON_GetObjectItemCaseSensitive(tc, "mlp_only_layers");
        if (only && !cJSON_IsNull(only) && !cJSON_IsArray(only)) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: field 'mlp_only_layers': expected an array of layer indices", where);
            return FALSE;
        }
        for (guint i = 0; i < L; i++) {
            gboolean dense_only = FALSE;
            const cJSON *v;
            cJSON_ArrayForEach(v, only)
            {
                if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble)) {
                    g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                                "%s: field 'mlp_only_layers': expected non-negative layer indices", where);
                    return FALSE;
                }
                if ((guint)v->valuedouble == i)
                    dense_only = TRUE;
            }
            moe += (!dense_only && (i + 1) % step == 0);
        }
    }
    m->num_dense_layers = L - moe;
    if (moe == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: the model declares %u experts but no layer holds them (check "
                    "'first_k_dense_replace', 'moe_layer_freq', 'decoder_sparse_step', 'mlp_only_layers')",
                    where, m->num_experts);
        return FALSE;
    }
    return TRUE;
}

static gboolean read_text_fields(const cJSON *root, const cJSON *tc, const char *where, LatModelDesc *m,
                                 GError **error)
{
    if (!lat_json_uint(tc, "num_hidden_layers", where, TRUE, FALSE, &m->num_layers, NULL, error) ||
        !lat_json_uint(tc, "hidden_size", where, TRUE, FALSE, &m->hidden_size, NULL, error) ||
        !lat_json_uint(tc, "num_attention_heads", where, TRUE, FALSE, &m->num_heads, NULL, error))
        return FALSE;

    gboolean have = FALSE;
    if (!lat_json_uint(tc, "vocab_size", where, FALSE, FALSE, &m->vocab_size, &have, error))
        return FALSE;
    if (!have && tc != root && !lat_json_uint(root, "vocab_size", where, FALSE, FALSE, &m->vocab_size, &have, error))
        return FALSE;
    if (!have) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: field 'vocab_size': expected a positive integer, but it is missing", where);
        return FALSE;
    }

    m->num_kv_heads = m->num_heads;
    if (!lat_json_uint(tc, "num_key_value_heads", where, FALSE, FALSE, &m->num_kv_heads, NULL, error))
        return FALSE;
    if (m->num_kv_heads > m->num_heads || m->num_heads % m->num_kv_heads != 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: field 'num_key_value_heads': expected a divisor of num_attention_heads (%u), got %u",
                    where, m->num_heads, m->num_kv_heads);
        return FALSE;
    }

    if (!lat_json_uint(tc, "head_dim", where, FALSE, FALSE, &m->head_dim, &have, error))
        return FALSE;
    if (!have) {
        if (m->hidden_size % m->num_heads != 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: field 'head_dim': missing, and hidden_size (%u) is not a multiple of "
                        "num_attention_heads (%u)",
                        where, m->hidden_size, m->num_heads);
            return FALSE;
        }
        m->head_dim = m->hidden_size / m->num_heads;
    }

    if (!lat_json_uint(tc, "max_position_embeddings", where, FALSE, TRUE, &m->max_position_embeddings, NULL,
                       error))
        return FALSE;
    m->tie_word_embeddings = FALSE;
    if (tc != root && !lat_json_bool(root, "tie_word_embeddings", where, &m->tie_word_embeddings, error))
        return FALSE;
    if (!lat_json_bool(tc, "tie_word_embeddings", where, &m->tie_word_embeddings, error))
        return FALSE;

    const char *dtype_fields[] = {"torch_dtype", "dtype"};
    const cJSON *objs[] = {tc, root};
    for (guint o = 0; o < 2 && !m->dtype; o++)
        for (guint f = 0; f < 2 && !m->dtype; f++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(objs[o], dtype_fields[f]);
            if (cJSON_IsString(v))
                m->dtype = g_strdup(v->valuestring);
        }
    if (!lat_json_string(tc, "model_type", where, FALSE, &m->model_type, error))
        return FALSE;
    return TRUE;
}

static gboolean read_moe(const cJSON *tc, const char *where, LatModelDesc *m, gboolean have_ff, GError **error)
{
    static const char *const expert_fields[] = {"num_local_experts", "num_experts", "n_routed_experts",
                                                "num_routed_experts", NULL};
    gboolean have = FALSE;
    if (!uint_alt(tc, expert_fields, where, &m->num_experts, &have, error))
        return FALSE;
    if (!have || m->num_experts == 0) {
        m->num_experts = 0;
        m->num_dense_layers = m->num_layers;
        return TRUE;
    }
    if (!lat_json_uint(tc, "num_experts_per_tok", where, TRUE, FALSE, &m->experts_per_token, NULL, error))
        return FALSE;
    if (m->experts_per_token > m->num_experts) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: field 'num_experts_per_tok': expected at most the %u experts, got %u", where,
                    m->num_experts, m->experts_per_token);
        return FALSE;
    }
    gboolean llama4 = cJSON_GetObjectItemCaseSensitive(tc, "intermediate_size_mlp") != NULL;
    gboolean have_moe_ff = FALSE;
    if (!lat_json_uint(tc, "moe_intermediate_size", where, FALSE, FALSE, &m->moe_intermediate_size,
                       &have_moe_ff, error))
        return FALSE;
    if (!have_moe_ff) {
        if (!have_ff) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: field 'moe_intermediate_size': expected a positive integer (or "
                        "'intermediate_size'), but both are missing",
                        where);
            return FALSE;
        }
        m->moe_intermediate_size = m->intermediate_size; /* Mixtral, Llama-4 */
    }
    if (llama4) {
        /* Llama-4: intermediate_size is one expert's (and the shared
         * expert's); intermediate_size_mlp is the dense layers'. */
        if (!lat_json_uint(tc, "intermediate_size_mlp", where, TRUE, FALSE, &m->intermediate_size, NULL, error))
            return FALSE;
        m->num_shared_experts = 1;
        m->shared_expert_intermediate_size = m->moe_intermediate_size;
    }
    static const char *const shared_fields[] = {"n_shared_experts", "num_shared_experts", NULL};
    guint nshared = 0;
    if (!uint_alt(tc, shared_fields, where, &nshared, &have, error))
        return FALSE;
    if (have && nshared > 0) {
        m->num_shared_experts = nshared;
        m->shared_expert_intermediate_size = m->moe_intermediate_size;
    }
    guint shared_ff = 0;
    if (!lat_json_uint(tc, "shared_expert_intermediate_size", where, FALSE, TRUE, &shared_ff, &have, error))
        return FALSE;
    if (have && shared_ff > 0) {
        m->num_shared_experts = 1;
        m->shared_expert_intermediate_size = shared_ff;
    }
    if (!count_moe_layers(tc, where, m, llama4, error))
        return FALSE;
    if (m->num_dense_layers > 0 && m->intermediate_size == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: field 'intermediate_size': expected a positive integer (the model has %u dense "
                    "layers), but it is missing",
                    where, m->num_dense_layers);
        return FALSE;
    }
    return TRUE;
}

static gboolean read_mla(const cJSON *tc, const char *where, LatModelDesc *m, GError **error)
{
    gboolean have = FALSE;
    if (!lat_json_uint(tc, "kv_lora_rank", where, FALSE, FALSE, &m->kv_lora_rank, &have, error))
        return FALSE;
    if (!have)
        return TRUE;
    if (!lat_json_uint(tc, "qk_rope_head_dim", where, TRUE, FALSE, &m->qk_rope_head_dim, NULL, error) ||
        !lat_json_uint(tc, "qk_nope_head_dim", where, TRUE, FALSE, &m->qk_nope_head_dim, NULL, error) ||
        !lat_json_uint(tc, "v_head_dim", where, TRUE, FALSE, &m->v_head_dim, NULL, error) ||
        !lat_json_uint(tc, "q_lora_rank", where, FALSE, TRUE, &m->q_lora_rank, NULL, error))
        return FALSE;
    m->head_dim = m->qk_nope_head_dim + m->qk_rope_head_dim; /* of Q·K */
    m->num_kv_heads = m->num_heads; /* MLA expands the latent to every head */
    return TRUE;
}

/* Which layers attend to a sliding window (vLLM reads the same fields). */
static gboolean read_sliding(const cJSON *tc, const char *where, LatModelDesc *m, GError **error)
{
    guint window = 0;
    gboolean have = FALSE;
    if (!lat_json_uint(tc, "sliding_window", where, FALSE, FALSE, &window, &have, error))
        return FALSE;
    gboolean use = TRUE;
    if (!lat_json_bool(tc, "use_sliding_window", where, &use, error))
        return FALSE;
    if (!have || !use || window == 0 || (m->max_position_embeddings && window >= m->max_position_embeddings))
        return TRUE;
    guint L = m->num_layers, n = 0;
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(tc, "layer_types");
    guint pattern = 0, max_window_layers = 0;
    gboolean have_mwl = FALSE;
    if (!lat_json_uint(tc, "sliding_window_pattern", where, FALSE, FALSE, &pattern, NULL, error) ||
        !lat_json_uint(tc, "max_window_layers", where, FALSE, TRUE, &max_window_layers, &have_mwl, error))
        return FALSE;
    if (cJSON_IsArray(types)) {
        const cJSON *v;
        cJSON_ArrayForEach(v, types)
        {
            if (cJSON_IsString(v) && strcmp(v->valuestring, "sliding_attention") == 0)
                n++;
        }
    } else if (pattern > 0) { /* Gemma-3: every pattern-th layer is global */
        for (guint i = 0; i < L; i++)
            n += (i + 1) % pattern != 0;
    } else if (m->model_type && strcmp(m->model_type, "gemma2") == 0) { /* even layers are local */
        n = (L + 1) / 2;
    } else if (have_mwl && cJSON_GetObjectItemCaseSensitive(tc, "use_sliding_window")) {
        n = max_window_layers < L ? L - max_window_layers : 0; /* Qwen2: layers from max_window_layers on */
    } else {
        n = L; /* Mistral v0.1: every layer */
    }
    if (n > L)
        n = L;
    m->sliding_window = n ? window : 0;
    m->num_sliding_layers = n;
    return TRUE;
}

static gboolean read_hybrid(const cJSON *tc, const char *where, LatModelDesc *m, GError **error)
{
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(tc, "layer_types");
    if (cJSON_IsArray(types)) {
        const cJSON *v;
        cJSON_ArrayForEach(v, types)
        {
            if (cJSON_IsString(v) && strcmp(v->valuestring, "linear_attention") == 0)
                m->num_linear_attn_layers++;
        }
    } else {
        guint interval = 0;
        gboolean have = FALSE;
        if (!lat_json_uint(tc, "full_attention_interval", where, FALSE, FALSE, &interval, &have, error))
            return FALSE;
        if (have && interval > 1)
            m->num_linear_attn_layers = m->num_layers - m->num_layers / interval;
    }
    if (m->num_linear_attn_layers >= m->num_layers)
        m->num_linear_attn_layers = m->num_layers - 1;
    return TRUE;
}

LatModelDesc *lat_model_desc_load(const char *name_or_path, const char *data_dir, GError **error)
{
    char *path = NULL, *name = NULL;
    cJSON *root = NULL;
    LatModelDesc *m = NULL;

    g_return_val_if_fail(name_or_path != NULL, NULL);
    if (!lat_model_resolve(name_or_path, data_dir, &path, &name, error))
        goto fail;
    root = lat_read_json_file(path, error);
    if (!root)
        goto fail;
    if (!cJSON_IsObject(root)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: expected a JSON object at the top level", path);
        goto fail;
    }

    m = g_new0(LatModelDesc, 1);
    m->name = g_steal_pointer(&name);
    m->config_path = g_strdup(path);
    m->weight_bytes = 2.0;
    m->weight_bits = 16;
    m->kv_bytes = 2.0;
    m->act_bytes = 2.0;

    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    if (cJSON_IsArray(arch) && cJSON_IsString(cJSON_GetArrayItem(arch, 0)))
        m->architecture = g_strdup(cJSON_GetArrayItem(arch, 0)->valuestring);

    const cJSON *tc = root;
    char *where = g_strdup(path);
    const cJSON *nested = cJSON_GetObjectItemCaseSensitive(root, "text_config");
    if (cJSON_IsObject(nested)) {
        tc = nested;
        g_free(where);
        where = g_strdup_printf("%s: text_config", path);
    }
    gboolean ok = read_text_fields(root, tc, where, m, error);
    gboolean have_ff = FALSE;
    ok = ok && lat_json_uint(tc, "intermediate_size", where, FALSE, FALSE, &m->intermediate_size, &have_ff, error);
    ok = ok && read_moe(tc, where, m, have_ff, error);
    if (ok && m->num_experts == 0 && !have_ff) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: field 'intermediate_size': expected a positive integer, but it is missing", where);
        ok = FALSE;
    }
    ok = ok && read_mla(tc, where, m, error);
    ok = ok && read_hybrid(tc, where, m, error);
    ok = ok && read_sliding(tc, where, m, error);
    g_free(where);
    if (!ok)
        goto fail;

    const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "quantization_config");
    if (!cJSON_IsObject(q))
        q = cJSON_GetObjectItemCaseSensitive(tc, "quantization_config");
    if (cJSON_IsObject(q) && !read_quantization(q, path, m, error))
        goto fail;

    cJSON_Delete(root);
    g_free(path);
    return m;

fail:
    cJSON_Delete(root);
    g_free(path);
    g_free(name);
    lat_model_desc_free(m);
    return NULL;
}

/* ------------------------------------------------------------- counts -- */

static gboolean is_mla(const LatModelDesc *m) { return m->kv_lora_rank > 0; }

/* KV heads held by one GPU: sharded when tp divides them, else replicated
 * so that each GPU has one (vLLM's rule). */
static double kv_heads_per_gpu(const LatModelDesc *m, guint tp)
{
    return (double)((m->num_kv_heads + tp - 1) / tp);
}

/* Attention weights of one layer on one GPU (tp = 1: the whole layer). */
static double attn_params_per_gpu(const LatModelDesc *m, guint tp)
{
    double d = m->hidden_size, h = (double)m->num_heads / tp;
    if (is_mla(m)) {
        double qk = m->qk_nope_head_dim + m->qk_rope_head_dim;
        double q = m->q_lora_rank ? d * m->q_lora_rank /* replicated */ + m->q_lora_rank * h * qk : d * h * qk;
        double kv_a = d * (m->kv_lora_rank + m->qk_rope_head_dim); /* replicated */
        double kv_b = m->kv_lora_rank * h * (m->qk_nope_head_dim + m->v_head_dim);
        double o = h * m->v_head_dim * d;
        return q + kv_a + kv_b + o;
    }
    double dh = m->head_dim;
    return d * h * dh + 2.0 * d * kv_heads_per_gpu(m, tp) * dh + h * dh * d;
}

/* MLP (dense, or routed + shared experts + router) of one layer per GPU. */
static double mlp_params_per_gpu(const LatModelDesc *m, guint tp, gboolean moe_layer)
{
    double d = m->hidden_size;
    if (!moe_layer)
        return 3.0 * d * m->intermediate_size / tp;
    double experts = (double)m->num_experts * 3.0 * d * m->moe_intermediate_size / tp;
    double shared = 3.0 * d * (double)m->num_shared_experts * m->shared_expert_intermediate_size / tp;
    double router = d * m->num_experts; /* replicated */
    return experts + shared + router;
}

double lat_model_num_params(const LatModelDesc *m)
{
    double d = m->hidden_size;
    double emb = (double)m->vocab_size * d * (m->tie_word_embeddings ? 1.0 : 2.0);
    guint moe_layers = m->num_layers - m->num_dense_layers;
    double layers = (double)m->num_layers * attn_params_per_gpu(m, 1) +
                    (double)m->num_dense_layers * mlp_params_per_gpu(m, 1, FALSE) +
                    (double)moe_layers * mlp_params_per_gpu(m, 1, TRUE);
    double norms = (2.0 * m->num_layers + 1.0) * d;
    return emb + layers + norms;
}

double lat_model_weight_bytes_per_gpu(const LatModelDesc *m, guint tp)
{
    if (tp == 0)
        tp = 1;
    guint moe_layers = m->num_layers - m->num_dense_layers;
    double layers = (double)m->num_layers * attn_params_per_gpu(m, tp) +
                    (double)m->num_dense_layers * mlp_params_per_gpu(m, tp, FALSE) +
                    (double)moe_layers * mlp_params_per_gpu(m, tp, TRUE);
    /* Embedding and LM head are sharded by vocabulary and stay 16-bit in
     * FP8 checkpoints (DeepSeek, Llama-4 FP8, Qwen3.5 FP8 keep them bf16). */
    double vocab_per_gpu = ceil((double)m->vocab_size / tp);
    double emb = vocab_per_gpu * m->hidden_size * (m->tie_word_embeddings ? 1.0 : 2.0) * m->act_bytes;
    if (m->draft_fc_inputs > 0) {
        /* a draft head: its layers, its 16-bit fc projection, and an LM
         * head of its own when its vocabulary differs (EAGLE-3); it shares
         * the target's embedding (and LM head otherwise) */
        double fc = (double)m->draft_fc_inputs * m->hidden_size * m->hidden_size * m->act_bytes;
        double head = m->tie_word_embeddings ? 0.0 : vocab_per_gpu * m->hidden_size * m->act_bytes;
        return layers * m->weight_bytes + fc + head;
    }
    return layers * m->weight_bytes + emb;
}

double lat_model_kv_bytes_per_token(const LatModelDesc *m, guint tp)
{
    if (tp == 0)
        tp = 1;
    double attn_layers = (double)(m->num_layers - m->num_linear_attn_layers);
    if (is_mla(m))
        return attn_layers * (m->kv_lora_rank + m->qk_rope_head_dim) * m->kv_bytes;
    return 2.0 * attn_layers * kv_heads_per_gpu(m, tp) * m->head_dim * m->kv_bytes;
}
