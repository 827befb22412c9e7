/*
 * test_lat_model.c: model descriptions from config.json and the GPU table.
 *
 * Parameter counts are checked against the publishers' totals (Llama-3.1-8B
 * 8,030,261,248; Mixtral-8x7B 46,702,792,704), each config family's fields
 * (GQA, explicit head_dim, text_config nesting, MoE variants, MLA, FP8) are
 * read into the right places, and every kind of bad input gives its message:
 * missing file, malformed JSON with line:column, missing field, zero and
 * negative counts, unknown model and hardware names.
 */
#include <math.h>

#include "lat.h"
#include "ss_error.h"
#include "ss_test.h"

static LatModelDesc *load(const char *name)
{
    GError *error = NULL;
    LatModelDesc *m = lat_model_desc_load(name, ss_test_data_dir(), &error);
    if (!m)
        fprintf(stderr, "\n  %s: %s\n", name, error->message);
    g_clear_error(&error);
    return m;
}

static gboolean near(double a, double b, double rel) { return fabs(a - b) <= rel * fabs(b); }

static void test_dense_gqa(void)
{
    g_autoptr(LatModelDesc) m = load("llama-3.1-8b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(m->name, "llama-3.1-8b");
    CU_ASSERT_STRING_EQUAL(m->architecture, "LlamaForCausalLM");
    CU_ASSERT_EQUAL(m->num_layers, 32);
    CU_ASSERT_EQUAL(m->hidden_size, 4096);
    CU_ASSERT_EQUAL(m->num_heads, 32);
    CU_ASSERT_EQUAL(m->num_kv_heads, 8);
    CU_ASSERT_EQUAL(m->head_dim, 128); /* hidden / heads */
    CU_ASSERT_EQUAL(m->intermediate_size, 14336);
    CU_ASSERT_EQUAL(m->vocab_size, 128256);
    CU_ASSERT_EQUAL(m->max_position_embeddings, 131072);
    CU_ASSERT_FALSE(m->tie_word_embeddings);
    CU_ASSERT_EQUAL(m->num_experts, 0);
    CU_ASSERT_EQUAL(m->num_dense_layers, 32);
    CU_ASSERT_FALSE(m->fp8_weights);
    CU_ASSERT_EQUAL(m->weight_bytes, 2.0);
    /* Meta's published count: 8,030,261,248 (norms included). */
    CU_ASSERT_EQUAL(lat_model_num_params(m), 8030261248.0);
    /* Weights per GPU: everything but the 65 norm vectors, 2 bytes each. */
    CU_ASSERT_EQUAL(lat_model_weight_bytes_per_gpu(m, 1), 2.0 * (8030261248.0 - 65 * 4096));
    /* TP2 halves every sharded matrix, embeddings and LM head included. */
    CU_ASSERT(near(lat_model_weight_bytes_per_gpu(m, 2), 0.5 * lat_model_weight_bytes_per_gpu(m, 1), 1e-12));
    /* KV: 2 · 32 layers · 8 heads · 128 · 2 bytes = 131072 per token. */
    CU_ASSERT_EQUAL(lat_model_kv_bytes_per_token(m, 1), 131072.0);
    CU_ASSERT_EQUAL(lat_model_kv_bytes_per_token(m, 2), 65536.0);
    /* tp 16 > 8 KV heads: each GPU keeps one replicated head. */
    CU_ASSERT_EQUAL(lat_model_kv_bytes_per_token(m, 16), 16384.0);
}

static void test_head_dim_and_ties(void)
{
    g_autoptr(LatModelDesc) nemo = load("mistral-nemo-instruct-2407");
    CU_ASSERT_PTR_NOT_NULL_FATAL(nemo);
    CU_ASSERT_EQUAL(nemo->head_dim, 128); /* explicit: 5120/32 would be 160 */
    g_autoptr(LatModelDesc) q = load("qwen2.5-1.5b-instruct");
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT_TRUE(q->tie_word_embeddings);
    /* Tied: the embedding counts once. 28 layers x (attention 5,505,024 +
     * MLP 41,287,680) + 151936 x 1536 + 57 norms x 1536 (biases left out). */
    double expect = 28.0 * (5505024.0 + 41287680.0) + 151936.0 * 1536 + 57.0 * 1536;
    CU_ASSERT_EQUAL(lat_model_num_params(q), expect);
}

static void test_moe_families(void)
{
    g_autoptr(LatModelDesc) mx = load("mixtral-8x7b-v0.1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mx);
    CU_ASSERT_EQUAL(mx->num_experts, 8);
    CU_ASSERT_EQUAL(mx->experts_per_token, 2);
    CU_ASSERT_EQUAL(mx->moe_intermediate_size, 14336);
    CU_ASSERT_EQUAL(mx->num_dense_layers, 0);
    CU_ASSERT_EQUAL(mx->num_shared_experts, 0);
    CU_ASSERT_EQUAL(lat_model_num_params(mx), 46702792704.0); /* Mistral's published count */

    g_autoptr(LatModelDesc) q = load("qwen3-30b-a3b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT_EQUAL(q->num_experts, 128);
    CU_ASSERT_EQUAL(q->experts_per_token, 8);
    CU_ASSERT_EQUAL(q->moe_intermediate_size, 768);
    CU_ASSERT_EQUAL(q->head_dim, 128);
    CU_ASSERT_EQUAL(q->num_dense_layers, 0); /* mlp_only_layers [], decoder_sparse_step 1 */
    /* Published: 30,532,122,624; the 48 x 256 q/k-norm weights are not counted. */
    CU_ASSERT_EQUAL(lat_model_num_params(q), 30532122624.0 - 48 * 256);

    g_autoptr(LatModelDesc) ds = load("deepseek-v3");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ds);
    CU_ASSERT_EQUAL(ds->num_experts, 256); /* num_routed_experts */
    CU_ASSERT_EQUAL(ds->num_shared_experts, 1);
    CU_ASSERT_EQUAL(ds->shared_expert_intermediate_size, 2048);
    CU_ASSERT_EQUAL(ds->num_dense_layers, 3); /* first_k_dense_replace */
    CU_ASSERT_EQUAL(ds->kv_lora_rank, 512);
    CU_ASSERT_EQUAL(ds->q_lora_rank, 1536);
    CU_ASSERT_EQUAL(ds->qk_rope_head_dim, 64);
    CU_ASSERT_TRUE(ds->fp8_weights);
    CU_ASSERT_EQUAL(ds->weight_bytes, 1.0);
    /* 671B without the multi-token-prediction layer. */
    CU_ASSERT(near(lat_model_num_params(ds), 671.0e9, 0.005));
    /* MLA caches the latent and the rope key, not per-head K and V, and
     * every TP rank holds all of it: 61 · (512 + 64) · 2 bytes. */
    CU_ASSERT_EQUAL(lat_model_kv_bytes_per_token(ds, 1), 61.0 * 576 * 2);
    CU_ASSERT_EQUAL(lat_model_kv_bytes_per_token(ds, 8), 61.0 * 576 * 2);

    g_autoptr(LatModelDesc) ds32 = load("deepseek-v3.2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ds32);
    CU_ASSERT_EQUAL(ds32->num_experts, 256); /* n_routed_experts */
    CU_ASSERT_EQUAL(ds32->num_shared_experts, 1);

    g_autoptr(LatModelDesc) lite = load("deepseek-v2-lite");
    CU_ASSERT_PTR_NOT_NULL_FATAL(lite);
    CU_ASSERT_EQUAL(lite->q_lora_rank, 0); /* null */
    CU_ASSERT_EQUAL(lite->num_shared_experts, 2);
    CU_ASSERT_EQUAL(lite->num_dense_layers, 1);
    CU_ASSERT(near(lat_model_num_params(lite), 15.7e9, 0.01)); /* DeepSeek: 15.7B */
}

static void test_text_config_and_fp8(void)
{
    g_autoptr(LatModelDesc) l4 = load("llama-4-scout-17b-16e-instruct");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l4);
    CU_ASSERT_STRING_EQUAL(l4->architecture, "Llama4ForConditionalGeneration");
    CU_ASSERT_EQUAL(l4->num_layers, 48);
    CU_ASSERT_EQUAL(l4->hidden_size, 5120);
    CU_ASSERT_EQUAL(l4->num_heads, 40);
    CU_ASSERT_EQUAL(l4->num_kv_heads, 8);
    CU_ASSERT_EQUAL(l4->vocab_size, 202048);
    CU_ASSERT_EQUAL(l4->num_experts, 16);
    CU_ASSERT_EQUAL(l4->experts_per_token, 1);
    CU_ASSERT_EQUAL(l4->moe_intermediate_size, 8192);
    CU_ASSERT_EQUAL(l4->intermediate_size, 16384); /* intermediate_size_mlp */
    CU_ASSERT_EQUAL(l4->num_shared_experts, 1);
    CU_ASSERT_EQUAL(l4->num_dense_layers, 0);
    CU_ASSERT_FALSE(l4->fp8_weights);
    /* 17B active of about 108B in the text model. */
    CU_ASSERT(near(lat_model_num_params(l4), 107.8e9, 0.01));

    g_autoptr(LatModelDesc) l4f = load("llama-4-scout-17b-16e-instruct-fp8-dynamic");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l4f);
    CU_ASSERT_TRUE(l4f->fp8_weights); /* compressed-tensors, float 8-bit weights */
    CU_ASSERT_EQUAL(l4f->weight_bytes, 1.0);
    CU_ASSERT_STRING_EQUAL(l4f->quant_method, "compressed-tensors");
    CU_ASSERT(lat_model_weight_bytes_per_gpu(l4f, 1) < 0.55 * lat_model_weight_bytes_per_gpu(l4, 1));

    g_autoptr(LatModelDesc) hy = load("qwen3.5-35b-a3b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(hy);
    CU_ASSERT_EQUAL(hy->num_layers, 40);
    CU_ASSERT_EQUAL(hy->num_linear_attn_layers, 30); /* 3 of every 4 */
    CU_ASSERT_EQUAL(hy->shared_expert_intermediate_size, 512);
}

static void test_every_shipped_model_loads(void)
{
    char **names = lat_model_list(ss_test_data_dir());
    guint n = 0;
    for (char **p = names; *p; p++, n++) {
        g_autoptr(LatModelDesc) m = load(*p);
        CU_ASSERT_PTR_NOT_NULL(m);
        if (m)
            CU_ASSERT(lat_model_num_params(m) > 1e9);
    }
    CU_ASSERT_EQUAL(n, 31);
    CU_ASSERT_STRING_EQUAL(names[0], "codellama-34b-instruct-hf"); /* sorted */
    g_strfreev(names);
}

/* ------------------------------------------------------------- errors -- */

static const char *LLAMA_TEXT = "{\n"
                                "  \"architectures\": [\"LlamaForCausalLM\"],\n"
                                "  \"hidden_size\": 4096,\n"
                                "  \"intermediate_size\": 14336,\n"
                                "  \"num_attention_heads\": 32,\n"
                                "  \"num_hidden_layers\": %s,\n"
                                "  \"num_key_value_heads\": 8,\n"
                                "  \"vocab_size\": 128256\n"
                                "}\n";

static GError *load_error_of(const char *text)
{
    char *path = ss_test_write_file("config.json", text);
    GError *error = NULL;
    LatModelDesc *m = lat_model_desc_load(path, ss_test_data_dir(), &error);
    CU_ASSERT_PTR_NULL(m);
    lat_model_desc_free(m);
    g_free(path);
    return error;
}

static void test_missing_file(void)
{
    GError *error = NULL;
    LatModelDesc *m = lat_model_desc_load("/nonexistent/dir/config.json", NULL, &error);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_FATAL(error != NULL);
    CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_INPUT));
    SS_ASSERT_CONTAINS(error->message, "/nonexistent/dir/config.json: no such file or folder");
    g_clear_error(&error);
}

static void test_malformed_json(void)
{
    GError *error = load_error_of("{\n  \"hidden_size\": 4096,\n  \"num_hidden_layers\": ,\n}\n");
    CU_ASSERT_FATAL(error != NULL);
    CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_INPUT));
    /* line 3, column 24: the comma where a value belongs */
    SS_ASSERT_CONTAINS(error->message, "config.json:3:24: malformed JSON");
    g_clear_error(&error);
    error = load_error_of("{\n  \"hidden_size\": 4096\n");
    CU_ASSERT_FATAL(error != NULL);
    SS_ASSERT_CONTAINS(error->message, "config.json:3:");
    g_clear_error(&error);
}

static void test_missing_and_bad_fields(void)
{
    char *text = g_strdup_printf(LLAMA_TEXT, "32");
    char *no_layers = g_strdup(text);
    char *at = strstr(no_layers, "  \"num_hidden_layers\": 32,\n");
    memmove(at, at + strlen("  \"num_hidden_layers\": 32,\n"), strlen(at + strlen("  \"num_hidden_layers\": 32,\n")) + 1);
    GError *error = load_error_of(no_layers);
    CU_ASSERT_FATAL(error != NULL);
    SS_ASSERT_CONTAINS(error->message,
                       "config.json: field 'num_hidden_layers': expected a positive integer, but it is missing");
    g_clear_error(&error);

    const char *bad[][2] = {{"0", "got 0"}, {"-3", "got -3"}, {"2.5", "got 2.5"}, {"\"32\"", "got '32'"}};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *t = g_strdup_printf(LLAMA_TEXT, bad[i][0]);
        error = load_error_of(t);
        CU_ASSERT_FATAL(error != NULL);
        CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_INPUT));
        SS_ASSERT_CONTAINS(error->message, "field 'num_hidden_layers': expected a positive integer");
        SS_ASSERT_CONTAINS(error->message, bad[i][1]);
        g_clear_error(&error);
        g_free(t);
    }
    /* KV heads must divide the heads. */
    char *kv = g_strdup(text);
    char *p = strstr(kv, "\"num_key_value_heads\": 8");
    p[strlen("\"num_key_value_heads\": ")] = '6';
    error = load_error_of(kv);
    CU_ASSERT_FATAL(error != NULL);
    SS_ASSERT_CONTAINS(error->message, "field 'num_key_value_heads': expected a divisor of num_attention_heads (32), got 6");
    g_clear_error(&error);
    /* A good file loads from a path, named by its folder. */
    char *path = ss_test_write_file("config.json", text);
    error = NULL;
    g_autoptr(LatModelDesc) m = lat_model_desc_load(path, NULL, &error);
    CU_ASSERT_PTR_NOT_NULL(m);
    g_free(path);
    g_free(kv);
    g_free(no_layers);
    g_free(text);
}

static void test_unknown_model(void)
{
    GError *error = NULL;
    LatModelDesc *m = lat_model_desc_load("llama-9", ss_test_data_dir(), &error);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_FATAL(error != NULL);
    CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_USAGE));
    SS_ASSERT_CONTAINS(error->message, "unknown model 'llama-9'");
    /* the nearest bundled names, with their Hugging Face ids */
    SS_ASSERT_CONTAINS(error->message, "nearest: llama-3.1-8b (meta-llama/Llama-3.1-8B)");
    SS_ASSERT_CONTAINS(error->message, "servesim list models");
    g_clear_error(&error);
}

static void test_hardware_table(void)
{
    GError *error = NULL;
    g_autoptr(LatHardwareTable) t = lat_hardware_table_load(ss_test_data_dir(), NULL, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(lat_hardware_table_size(t), 10);
    const LatHardware *h = lat_hardware_table_find(t, "h100-sxm", &error); /* case-insensitive */
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(h->name, "H100-SXM");
    CU_ASSERT_EQUAL(h->bf16_tflops, 989.4);
    CU_ASSERT_EQUAL(h->fp8_tflops, 1978.9);
    CU_ASSERT_EQUAL(h->mem_bw_tbs, 3.35);
    CU_ASSERT_EQUAL(h->link_gbs_per_dir, 450);
    CU_ASSERT_STRING_EQUAL(h->mfu_tables, "h100");
    const LatHardware *a = lat_hardware_table_find(t, "A100-SXM-80GB", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->fp8_tflops, 0.0); /* null: no FP8 */
    CU_ASSERT_STRING_EQUAL(a->mfu_tables, "a100"); /* BF16 GEMMs measured on A100 */
    CU_ASSERT_EQUAL(a->compute_capability, 8.0);
    CU_ASSERT_STRING_EQUAL(a->architecture, "ampere");
    /* donors: its own tables first; a GPU without tables takes the nearest
     * compute capability (the RTX 4090, Ada 8.9, takes Hopper 9.0 before Ampere) */
    const LatHardware *d[8];
    guint nd = lat_hardware_table_donors(t, a, d, 8);
    CU_ASSERT(nd >= 2 && d[0] == a);
    const LatHardware *ada = lat_hardware_table_find(t, "RTX4090", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ada);
    nd = lat_hardware_table_donors(t, ada, d, 8);
    CU_ASSERT(nd >= 2 && d[0]->compute_capability == 9.0);
    CU_ASSERT_EQUAL(d[nd - 1]->compute_capability, 8.0);
    const LatHardware *h200 = lat_hardware_table_find(t, "H200-SXM", &error);
    nd = lat_hardware_table_donors(t, h200, d, 8);
    CU_ASSERT(nd >= 1 && strcmp(d[0]->name, "H100-SXM") == 0); /* Hopper, nearest ridge, first in the file */

    CU_ASSERT_PTR_NULL(lat_hardware_table_find(t, "TPUv5", &error));
    CU_ASSERT_FATAL(error != NULL);
    CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_USAGE));
    SS_ASSERT_CONTAINS(error->message, "unknown hardware 'TPUv5'");
    SS_ASSERT_CONTAINS(error->message, "H100-SXM, H100-PCIe");
    g_clear_error(&error);

    /* A bad entry names the file, the entry and the field. */
    char *path = ss_test_write_file(
        "hardware.json",
        "{\"gpus\": [{\"name\": \"X\", \"bf16_tflops\": 100, \"mem_bw_tbs\": -1, \"mem_gb\": 80, \"link_gbs_per_dir\": 1}]}");
    LatHardwareTable *bad = lat_hardware_table_load(NULL, path, &error);
    CU_ASSERT_PTR_NULL(bad);
    CU_ASSERT_FATAL(error != NULL);
    SS_ASSERT_CONTAINS(error->message, "gpus[0] ('X'): field 'mem_bw_tbs': expected a positive number, got -1");
    g_clear_error(&error);
    g_free(path);
}

static const SsTestCase model_cases[] = {{"dense_gqa", test_dense_gqa},
                                         {"head_dim_and_ties", test_head_dim_and_ties},
                                         {"moe_families", test_moe_families},
                                         {"text_config_and_fp8", test_text_config_and_fp8},
                                         {"every_shipped_model_loads", test_every_shipped_model_loads},
                                         {NULL, NULL}};

static const SsTestCase error_cases[] = {{"missing_file", test_missing_file},
                                         {"malformed_json", test_malformed_json},
                                         {"missing_and_bad_fields", test_missing_and_bad_fields},
                                         {"unknown_model", test_unknown_model},
                                         {"hardware_table", test_hardware_table},
                                         {NULL, NULL}};

static const SsTestSuite suites[] = {{"model", model_cases}, {"errors", error_cases}, {NULL, NULL}};

int main(int argc, char **argv) { return ss_test_main(argc, argv, suites); }
