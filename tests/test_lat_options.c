/*
 * test_lat_options.c: the engine options in the latency module, against
 * hand calculations (docs/options/):
 *   - weights: FP8 and AWQ bytes per GPU of Llama-3.1-8B, a checkpoint's
 *     quantization_config (AWQ group scales and zero points), vLLM's rule for
 *     a --quantization that disagrees with the checkpoint;
 *   - KV: FP8 halves the block bytes (twice the blocks, to the block);
 *     Gemma-3-27B's hybrid groups (10 layers a group, 1 full + 6 sliding);
 *     an EAGLE-3 head's weights and its KV layer; LoRA slots;
 *   - kernels: 4-bit weight-only GEMMs stream 3.8x fewer bytes where
 *     memory-bound and run at woq_compute_efficiency where compute-bound;
 *     FP8 GEMMs use the FP8 tables on H100 and the weight-only path on A100;
 *     a windowed prefill equals full attention inside the window and its
 *     pairs follow the formula; verifying drafts adds query FLOPs, not KV.
 */
#include "lat_env.h"
#include "lat_kernels.h"
#include "ss_error.h"

/* Llama-3.1-8B: 32 layers, d 4096, 32 heads, 8 KV heads, d_h 128, d_ff
 * 14336, vocabulary 128256, untied. */
#define L8_LAYER_PARAMS (4096.0 * 4096 * 2 + 2.0 * 4096 * 1024 + 3.0 * 4096 * 14336)
#define L8_EMB_BYTES (128256.0 * 4096 * 2 * 2)

static LatModelDesc *load(const char *name)
{
    GError *error = NULL;
    LatModelDesc *m = lat_model_desc_load(name, ss_test_data_dir(), &error);
    g_assert_no_error(error);
    return m;
}

static const LatHardware *gpu(LatHardwareTable **t, const char *name)
{
    GError *error = NULL;
    *t = lat_hardware_table_load(ss_test_data_dir(), NULL, &error);
    g_assert_no_error(error);
    const LatHardware *hw = lat_hardware_table_find(*t, name, &error);
    g_assert_no_error(error);
    return hw;
}

static void test_weight_bytes(void)
{
    g_autoptr(LatModelDesc) bf = load("llama-3.1-8b");
    double layers = 32 * L8_LAYER_PARAMS;
    CU_ASSERT_DOUBLE_EQUAL(lat_model_weight_bytes_per_gpu(bf, 1), layers * 2 + L8_EMB_BYTES, 1.0);

    g_autoptr(LatModelDesc) f8 = lat_model_desc_copy(bf);
    GError *error = NULL;
    CU_ASSERT(lat_model_apply_quantization(f8, "fp8", &error));
    g_assert_no_error(error);
    CU_ASSERT(f8->fp8_weights);
    CU_ASSERT_DOUBLE_EQUAL(lat_model_weight_bytes_per_gpu(f8, 1), layers * 1 + L8_EMB_BYTES, 1.0);

    /* AWQ: 4 bits + a 16-bit scale and a 4-bit zero point per group of 128 */
    g_autoptr(LatModelDesc) awq = lat_model_desc_copy(bf);
    CU_ASSERT(lat_model_apply_quantization(awq, "awq_marlin", &error));
    CU_ASSERT(awq->weight_only);
    CU_ASSERT_DOUBLE_EQUAL(awq->weight_bytes, 0.5 + 2.0 / 128 + 0.5 / 128, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(lat_model_weight_bytes_per_gpu(awq, 1), layers * 0.51953125 + L8_EMB_BYTES, 1.0);
    /* GPTQ, symmetric: no zero points */
    g_autoptr(LatModelDesc) gptq = lat_model_desc_copy(bf);
    CU_ASSERT(lat_model_apply_quantization(gptq, "gptq", &error));
    CU_ASSERT_DOUBLE_EQUAL(gptq->weight_bytes, 0.5 + 2.0 / 128, 1e-12);
    /* sharded by 2: half the layers, the vocabulary split */
    CU_ASSERT_DOUBLE_EQUAL(lat_model_weight_bytes_per_gpu(awq, 2), layers / 2 * 0.51953125 + L8_EMB_BYTES / 2, 1.0);
}

static void test_checkpoint_quantization(void)
{
    char *path = ss_test_write_file(
        "config.json",
        "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 4096, \"intermediate_size\": 14336,"
        " \"num_attention_heads\": 32, \"num_hidden_layers\": 32, \"num_key_value_heads\": 8, \"vocab_size\": 128256,"
        " \"quantization_config\": {\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 64, \"zero_point\": true,"
        " \"version\": \"gemm\"}}");
    GError *error = NULL;
    LatModelDesc *m = lat_model_desc_load(path, NULL, &error);
    g_assert_no_error(error);
    CU_ASSERT(m->weight_only);
    CU_ASSERT_EQUAL(m->weight_bits, 4);
    CU_ASSERT_EQUAL(m->quant_group_size, 64);
    CU_ASSERT_DOUBLE_EQUAL(m->weight_bytes, 0.5 + 2.0 / 64 + 0.5 / 64, 1e-12);
    /* vLLM: the Marlin variant of the checkpoint's method is accepted, another method is not */
    CU_ASSERT(lat_model_apply_quantization(m, "awq_marlin", &error));
    CU_ASSERT_STRING_EQUAL(m->quantization, "awq_marlin");
    CU_ASSERT_FALSE(lat_model_apply_quantization(m, "fp8", &error));
    CU_ASSERT(error && error->code == SS_ERROR_USAGE && strstr(error->message, "quantized with 'awq'"));
    g_clear_error(&error);
    CU_ASSERT_FALSE(lat_model_apply_quantization(m, "int3", &error));
    CU_ASSERT(error && strstr(error->message, "known: fp8"));
    g_clear_error(&error);
    CU_ASSERT_FALSE(lat_model_apply_kv_cache_dtype(m, "int4", &error));
    CU_ASSERT(error && error->code == SS_ERROR_USAGE);
    g_clear_error(&error);
    lat_model_desc_free(m);
    g_free(path);
}

static gboolean plan_of(const LatModelDesc *m, const LatModelDesc *draft, double extra, gboolean hybrid,
                        LatMemoryPlan *out)
{
    LatHardwareTable *t;
    const LatHardware *hw = gpu(&t, "H100-SXM");
    LatMemoryInput in = {.model = m,
                         .hw = hw,
                         .tp = 1,
                         .gpu_memory_utilization = 0.9,
                         .block_size = 16,
                         .max_num_batched_tokens = 8192,
                         .max_num_seqs = 256,
                         .draft = draft,
                         .extra_weight_bytes = extra,
                         .hybrid_kv = hybrid};
    GError *error = NULL;
    gboolean ok = lat_memory_plan_ex(&in, out, &error);
    g_assert_no_error(error);
    lat_hardware_table_free(t);
    return ok;
}

static void test_kv_blocks(void)
{
    g_autoptr(LatModelDesc) bf = load("llama-3.1-8b");
    g_autoptr(LatModelDesc) f8 = lat_model_desc_copy(bf);
    CU_ASSERT(lat_model_apply_kv_cache_dtype(f8, "fp8", NULL));
    LatMemoryPlan a, b;
    CU_ASSERT_FATAL(plan_of(bf, NULL, 0, TRUE, &a) && plan_of(f8, NULL, 0, TRUE, &b));
    /* 16 tokens x K and V x 32 layers x 8 heads x 128 x 2 (1) bytes */
    CU_ASSERT_DOUBLE_EQUAL(a.block_bytes, 16.0 * 2 * 32 * 8 * 128 * 2, 0);
    CU_ASSERT_DOUBLE_EQUAL(b.block_bytes, 16.0 * 2 * 32 * 8 * 128 * 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(b.kv_bytes, a.kv_bytes, 1.0);
    CU_ASSERT(b.num_blocks == 2 * a.num_blocks || b.num_blocks == 2 * a.num_blocks + 1);
    CU_ASSERT_EQUAL(b.num_blocks, (gint64)floor(b.kv_bytes / 1048576.0));
    /* the same through lat_memory_plan for a model without options */
    LatMemoryPlan c;
    LatHardwareTable *t;
    const LatHardware *hw = gpu(&t, "H100-SXM");
    CU_ASSERT(lat_memory_plan(bf, hw, 1, 0.9, 16, 8192, 256, &c, NULL));
    CU_ASSERT_EQUAL(c.num_blocks, a.num_blocks);
    lat_hardware_table_free(t);
}

static void test_hybrid_groups(void)
{
    g_autoptr(LatModelDesc) g3 = load("gemma-3-27b-it");
    CU_ASSERT_EQUAL(g3->num_layers, 62);
    CU_ASSERT_EQUAL(g3->num_sliding_layers, 52); /* every 6th layer is global */
    CU_ASSERT_EQUAL(g3->sliding_window, 1024);
    LatMemoryPlan hy, flat;
    CU_ASSERT_FATAL(plan_of(g3, NULL, 0, TRUE, &hy) && plan_of(g3, NULL, 0, FALSE, &flat));
    /* vLLM's docs/design/hybrid_kv_cache_manager.md: groups of min(10, 52) = 10 layers */
    CU_ASSERT_EQUAL(hy.group_layers, 10);
    CU_ASSERT_EQUAL(hy.groups_full, 1);
    CU_ASSERT_EQUAL(hy.groups_sliding, 6);
    double layer = 2.0 * 16 * 128 * 2; /* K and V, 16 KV heads x 128, 2 bytes */
    CU_ASSERT_DOUBLE_EQUAL(hy.block_bytes, 16 * 10 * layer, 0);
    CU_ASSERT_DOUBLE_EQUAL(flat.block_bytes, 16 * 62 * layer, 0);
    CU_ASSERT_EQUAL(hy.num_blocks, (gint64)floor(hy.kv_bytes / (16 * 10 * layer)));
    /* one 8192-token sequence holds 512 full-group blocks and, in each of the
     * 6 sliding groups, the 65 blocks a 1024-token window can straddle
     * (902 blocks: test_sched_options checks the count); the hybrid layout
     * holds long sequences about 5x denser */
    double hybrid_tokens = hy.num_blocks / (902.0 / 8192);
    double flat_tokens = flat.num_blocks * 16.0;
    fprintf(stderr, "\n  Gemma-3-27B on H100: %.0f tokens of 8k sequences (hybrid) vs %.0f (flat): x%.2f",
            hybrid_tokens, flat_tokens, hybrid_tokens / flat_tokens);
    /* by hand: 62 layers per token flat; 10 full layers per token plus 6 groups
     * x 10 layers x 65 blocks x 16 tokens per 8192-token sequence */
    CU_ASSERT_DOUBLE_EQUAL(hybrid_tokens / flat_tokens, 62.0 / (10.0 + 60.0 * 65 * 16 / 8192), 0.01 * 3.52);
    /* --disable-sliding-window: every layer attends to everything */
    g_autoptr(LatModelDesc) off = lat_model_desc_copy(g3);
    lat_model_disable_sliding_window(off);
    LatMemoryPlan o;
    CU_ASSERT_FATAL(plan_of(off, NULL, 0, TRUE, &o));
    CU_ASSERT_EQUAL(o.groups_sliding, 0);
    CU_ASSERT_DOUBLE_EQUAL(o.block_bytes, flat.block_bytes, 0);
}

static void test_draft_and_lora_memory(void)
{
    g_autoptr(LatModelDesc) m = load("llama-3.1-8b");
    g_autoptr(LatModelDesc) head = lat_model_draft_head(m, LAT_DRAFT_EAGLE3, 0);
    CU_ASSERT_EQUAL(head->num_layers, 1);
    CU_ASSERT_EQUAL(head->vocab_size, 32000);
    /* one layer, the fc of 3 hidden states, its own 32000-token LM head, 16-bit */
    double head_bytes = L8_LAYER_PARAMS * 2 + 3.0 * 4096 * 4096 * 2 + 32000.0 * 4096 * 2;
    CU_ASSERT_DOUBLE_EQUAL(lat_model_weight_bytes_per_gpu(head, 1), head_bytes, 1.0);
    LatMemoryPlan base, spec, lora;
    CU_ASSERT_FATAL(plan_of(m, NULL, 0, TRUE, &base) && plan_of(m, head, 0, TRUE, &spec));
    CU_ASSERT_DOUBLE_EQUAL(spec.draft_weight_bytes, head_bytes, 1.0);
    CU_ASSERT_DOUBLE_EQUAL(spec.weight_bytes, base.weight_bytes + head_bytes, 1.0);
    CU_ASSERT_DOUBLE_EQUAL(spec.block_bytes, 16.0 * 2 * 33 * 8 * 128 * 2, 0); /* its KV layer joins every block */
    CU_ASSERT_EQUAL(spec.num_blocks, (gint64)floor((base.kv_bytes - head_bytes) / spec.block_bytes));
    /* an EAGLE-1 head shares the target's LM head */
    g_autoptr(LatModelDesc) e1 = lat_model_draft_head(m, LAT_DRAFT_EAGLE, 0);
    CU_ASSERT_DOUBLE_EQUAL(lat_model_weight_bytes_per_gpu(e1, 1), L8_LAYER_PARAMS * 2 + 2.0 * 4096 * 4096 * 2, 1.0);
    /* LoRA at rank 16, every projection: A and B of q, k, v, o, gate, up, down */
    double per_layer = (3.0 * 4096 + 6144) + (4096 + 4096) + (2.0 * 4096 + 2 * 14336) + (14336 + 4096);
    double adapter = 32 * per_layer * 16 * 2;
    CU_ASSERT_DOUBLE_EQUAL(lat_lora_adapter_bytes(m, 1, 16), adapter, 1.0);
    CU_ASSERT_DOUBLE_EQUAL(adapter, 83886080.0, 1.0);
    CU_ASSERT_FATAL(plan_of(m, NULL, 4 * adapter, TRUE, &lora));
    CU_ASSERT_DOUBLE_EQUAL(lora.weight_bytes, base.weight_bytes + 4 * adapter, 1.0);
    CU_ASSERT_EQUAL(lora.num_blocks, (gint64)floor((base.kv_bytes - 4 * adapter) / base.block_bytes));
}

static void test_quantized_gemms(void)
{
    LatEnv e;
    lat_env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    LatRoof roof;
    lat_roof_init(&roof, e.hw, 1, 1);
    const LatHardware *d[] = {e.hw};
    const LatMfuDb *dbs[] = {e.dbs[0]};
    LatGemmCurve bf, awq, f8, a100;
    LatGemmFormat f16 = {2.0, FALSE, FALSE}, w4 = {0.51953125, FALSE, TRUE}, w8 = {1.0, TRUE, FALSE};
    lat_gemm_curve_init_format(&bf, 4096, 14336 * 2, f16, 2.0, e.hw, &roof, d, dbs, 1, &e.params);
    lat_gemm_curve_init_format(&awq, 4096, 14336 * 2, w4, 2.0, e.hw, &roof, d, dbs, 1, &e.params);
    lat_gemm_curve_init_format(&f8, 4096, 14336 * 2, w8, 2.0, e.hw, &roof, d, dbs, 1, &e.params);
    CU_ASSERT_EQUAL(f8.prec, LAT_PREC_FP8); /* the FP8 tables on H100 */
    CU_ASSERT_FALSE(f8.weight_only);
    CU_ASSERT(awq.weight_only && awq.prec == LAT_PREC_BF16);
    /* memory-bound (a decode of 8 tokens): the time follows the weight bytes */
    double r8 = lat_gemm_curve_time(&bf, 8, NULL, 0) / lat_gemm_curve_time(&awq, 8, NULL, 0);
    fprintf(stderr, "\n  gate_up of Llama-3.1-8B on H100, m=8: 4-bit weight-only is x%.2f faster; m=8192: x%.3f", r8,
            lat_gemm_curve_time(&bf, 8192, NULL, 0) / lat_gemm_curve_time(&awq, 8192, NULL, 0));
    CU_ASSERT(r8 > 3.3 && r8 < 3.9);
    /* compute-bound (a prefill of 8192 tokens): woq_compute_efficiency of the 16-bit kernel */
    double rc = lat_gemm_curve_time(&awq, 8192, NULL, 0) / lat_gemm_curve_time(&bf, 8192, NULL, 0);
    CU_ASSERT_DOUBLE_EQUAL(rc, 1.0 / e.params.woq_compute_efficiency, 0.02);
    /* FP8 on A100 (no FP8 tensor cores): weight-only W8A16 from the BF16 tables */
    LatHardwareTable *t;
    const LatHardware *hw = gpu(&t, "A100-SXM-80GB");
    LatRoof ra;
    lat_roof_init(&ra, hw, 1, 1);
    lat_gemm_curve_init_format(&a100, 4096, 14336 * 2, w8, 2.0, hw, &ra, d, dbs, 1, &e.params);
    CU_ASSERT(a100.weight_only && a100.prec == LAT_PREC_BF16);
    CU_ASSERT_DOUBLE_EQUAL(a100.weight_bytes, 1.0, 0);
    lat_gemm_curve_clear(&bf);
    lat_gemm_curve_clear(&awq);
    lat_gemm_curve_clear(&f8);
    lat_gemm_curve_clear(&a100);
    lat_hardware_table_free(t);
    lat_env_close(&e);
}

static void test_windowed_attention(void)
{
    /* pairs: t·p + t²/2 inside the window; beyond it each query misses x - w keys */
    CU_ASSERT_DOUBLE_EQUAL(lat_attn_pairs(512, 256, 1024), 512.0 * 256 + 0.5 * 512 * 512, 0);
    CU_ASSERT_DOUBLE_EQUAL(lat_attn_pairs(512, 256, 0), 512.0 * 256 + 0.5 * 512 * 512, 0);
    /* t = 1000 after 2000 cached, window 1024: every query sees 1024 keys */
    CU_ASSERT_DOUBLE_EQUAL(lat_attn_pairs(1000, 2000, 1024), 1000.0 * 1024, 1e-6);
    LatEnv e;
    lat_env_open(&e, "gemma-3-27b-it", "H100-SXM", 1, LAT_BACKEND_AUTO);
    LatRoof roof;
    lat_roof_init(&roof, e.hw, 1, 1);
    LatAttn a;
    const LatHardware *d[] = {e.hw};
    const LatMfuDb *dbs[] = {e.dbs[0]};
    lat_attn_init(&a, e.model, 1, d, dbs, 1);
    double f1, b1, f2, b2;
    double full = lat_attn_prefill_time(&a, &roof, &e.params, 512, 256, NULL, 0, &f1, &b1);
    double win = lat_attn_prefill_time_window(&a, &roof, &e.params, 512, 256, 1024, NULL, 0, &f2, &b2);
    CU_ASSERT_DOUBLE_EQUAL(win, full, 0); /* inside the window: the same kernel */
    full = lat_attn_prefill_time(&a, &roof, &e.params, 2048, 30000, NULL, 0, &f1, &b1);
    win = lat_attn_prefill_time_window(&a, &roof, &e.params, 2048, 30000, 1024, NULL, 0, &f2, &b2);
    CU_ASSERT_DOUBLE_EQUAL(f2 / f1, 2048.0 * 1024 / (2048.0 * 30000 + 0.5 * 2048 * 2048), 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(b2, a.kv_bytes_token * (2048 + 1023), 1e-3);
    CU_ASSERT(win < full / 10);
    /* verifying 3 drafts per decode: 4x the query FLOPs, the same KV bytes */
    double fd, bd, fs, bs;
    double t0 = lat_attn_decode_time_spec(&a, &roof, &e.params, 64, 64 * 1024.0, 0, NULL, 0, &fd, &bd);
    double t3 = lat_attn_decode_time_spec(&a, &roof, &e.params, 64, 64 * 1024.0, 3 * 64, NULL, 0, &fs, &bs);
    CU_ASSERT_DOUBLE_EQUAL(fs, 4 * fd, 1e-6 * fd);
    CU_ASSERT_DOUBLE_EQUAL(bs, bd, 0);
    CU_ASSERT(t3 >= t0);
    CU_ASSERT_DOUBLE_EQUAL(lat_attn_decode_time(&a, &roof, &e.params, 64, 64 * 1024.0, 0, NULL, 0, NULL, NULL), t0, 0);
    lat_attn_clear(&a);
    lat_env_close(&e);
}

/* The options off change nothing: the same model with speculation off, no
 * LoRA tokens and no KV loads times a step exactly as before. */
static void test_off_is_free(void)
{
    LatEnv e;
    lat_env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    BatchDesc b = {0};
    g_assert(batch_desc_reserve(&b, 70));
    lat_env_decodes(&b, 64, 2048);
    batch_desc_push(&b, 700, 1000, true);
    double before = lat_step_model_seconds(e.sm, &b);
    lat_step_model_set_lora(e.sm, 64);
    lat_step_model_set_offload(e.sm, TRUE);
    CU_ASSERT_DOUBLE_EQUAL(lat_step_model_seconds(e.sm, &b), before, 0);
    b.lora_tokens = 100;
    b.lora_adapters = 2;
    double with_lora = lat_step_model_seconds(e.sm, &b);
    CU_ASSERT(with_lora > before);
    batch_desc_release(&b);
    lat_env_close(&e);
}

static double component_ms(const LatBreakdown *bd, const char *name)
{
    for (guint i = 0; i < bd->num_components; i++)
        if (strcmp(bd->components[i].name, name) == 0)
            return bd->components[i].seconds * 1e3;
    return -1;
}

/* The host link's terms by hand: KV loads overlapped with compute, LoRA
 * adapter copies and disk reads added. */
static void test_host_link_terms(void)
{
    LatEnv e;
    lat_env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    lat_step_model_set_offload(e.sm, TRUE);
    lat_step_model_set_lora(e.sm, 16);
    /* PCIe Gen5 x16: 64 GB/s per direction x host_link_efficiency 0.80 */
    CU_ASSERT_DOUBLE_EQUAL(lat_step_model_host_bps(e.sm), 64e9 * 0.80, 1.0);
    BatchDesc b = {0};
    g_assert(batch_desc_reserve(&b, 4));
    batch_desc_push(&b, 512, 7680, true);
    double compute = lat_step_model_seconds(e.sm, &b);
    LatBreakdown bd;
    lat_step_model_breakdown(e.sm, &b, &bd);
    double gpu_compute = bd.gpu_seconds;
    /* 7680 tokens x K and V x 32 layers x 8 heads x 128 x 2 bytes over 51.2 GB/s */
    b.kv_load_tokens = 7680;
    double load = 7680.0 * 2 * 32 * 8 * 128 * 2 / 51.2e9;
    CU_ASSERT_DOUBLE_EQUAL(load, 0.019661, 1e-6);
    CU_ASSERT(load > gpu_compute); /* this step is bound by the link (18.5 ms of compute) */
    double with_load = lat_step_model_seconds(e.sm, &b);
    lat_step_model_breakdown(e.sm, &b, &bd);
    CU_ASSERT_DOUBLE_EQUAL(bd.gpu_seconds, load, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(component_ms(&bd, "kv_load"), (load - gpu_compute) * 1e3, 1e-6); /* only its excess */
    CU_ASSERT_DOUBLE_EQUAL(bd.total_seconds, with_load, 1e-12);
    CU_ASSERT(with_load > compute);
    /* a small load hides behind compute */
    b.kv_load_tokens = 512;
    CU_ASSERT_DOUBLE_EQUAL(lat_step_model_seconds(e.sm, &b), compute, 1e-12);
    b.kv_load_tokens = 0;
    /* one adapter copied into a GPU slot: 83,886,080 bytes over the link; one read from disk: lora_load_us */
    b.lora_tokens = 512;
    b.lora_adapters = 1;
    double lora = lat_step_model_seconds(e.sm, &b);
    b.lora_loads = 1;
    CU_ASSERT_DOUBLE_EQUAL(lat_step_model_seconds(e.sm, &b) - lora, 83886080.0 / 51.2e9, 1e-9);
    b.lora_disk_loads = 1;
    CU_ASSERT_DOUBLE_EQUAL(lat_step_model_seconds(e.sm, &b) - lora, 83886080.0 / 51.2e9 + 0.025, 1e-9);
    batch_desc_release(&b);
    lat_env_close(&e);
}

static const SsTestCase cases[] = {
    {"weight bytes: FP8, AWQ, GPTQ by hand", test_weight_bytes},
    {"a checkpoint's quantization_config and vLLM's rule for --quantization", test_checkpoint_quantization},
    {"FP8 KV: half the block bytes, twice the blocks", test_kv_blocks},
    {"Gemma-3's hybrid KV groups by hand", test_hybrid_groups},
    {"draft head and LoRA slots in the memory plan", test_draft_and_lora_memory},
    {"quantized GEMMs: weight bytes where memory-bound, efficiency where compute-bound", test_quantized_gemms},
    {"windowed prefill and draft verification in attention", test_windowed_attention},
    {"options off cost nothing", test_off_is_free},
    {"host link terms by hand: KV loads, adapter copies and disk reads", test_host_link_terms},
    {NULL, NULL}};

static const SsTestSuite suites[] = {{"options", cases}, {NULL, NULL}};

int main(int argc, char **argv) { return ss_test_main(argc, argv, suites); }
