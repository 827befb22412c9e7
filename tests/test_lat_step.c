/*
 * test_lat_step.c: the step-time model, term by term.
 *
 * The review's fixes (GEMM m is tokens, causal attention FLOPs halved once,
 * no 1.8 divisor, per-request attention, one forward pass for mixed steps);
 * measured rows reproduced on their own GPU (a BF16 GEMM row, a prefill
 * attention row, the decode table through its fit); the transfer rule
 * (H200 from H100 tables: memory-bound parts scale with bandwidth,
 * compute-bound ones do not); per-GPU TP shapes and all-reduces (custom below
 * 8 MiB, measured NCCL above); MoE grouped experts; CPU and GPU combined
 * synchronously or asynchronously; CUDA-graph padding and eager launches;
 * roofline v1; the errors. The laws (monotonicity on every GPU) are in
 * test_lat_laws.c.
 */
#include "lat_env.h"
#include "lat_kernels.h"
#include "ss_error.h"

static gboolean near(double a, double b, double rel) { return fabs(a - b) <= rel * fabs(b); }

static double run_batch(LatEnv *e, BatchDesc *b, LatBreakdown *br)
{
    double s = lat_step_model_seconds(e->sm, b);
    lat_step_model_breakdown(e->sm, b, br);
    CU_ASSERT(near(br->total_seconds, s, 1e-12));
    return s;
}

static double prefill_only(LatEnv *e, guint32 t, guint32 p, LatBreakdown *br)
{
    BatchDesc b = {0};
    g_assert(batch_desc_reserve(&b, 1));
    batch_desc_push(&b, t, p, true);
    double s = run_batch(e, &b, br);
    batch_desc_release(&b);
    return s;
}

static double decode_only(LatEnv *e, guint32 n, guint32 kv, LatBreakdown *br)
{
    BatchDesc b = {0};
    g_assert(batch_desc_reserve(&b, n));
    lat_env_decodes(&b, n, kv);
    double s = run_batch(e, &b, br);
    batch_desc_release(&b);
    return s;
}

/* ------------------------------------------------------- review fixes -- */

static void test_gemm_m_is_tokens(void)
{
    LatEnv e;
    lat_env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    LatBreakdown a, b;
    prefill_only(&e, 1024, 0, &a);
    prefill_only(&e, 2048, 0, &b);
    double per_token = 2.0 * 32 * (4096.0 * 6144 + 4096.0 * 4096 + 4096.0 * 28672 + 14336.0 * 4096);
    CU_ASSERT(near(lat_env_comp(&b, "projections")->flops, 2048 * per_token, 1e-12));
    CU_ASSERT(near(lat_env_comp(&b, "projections")->flops, 2 * lat_env_comp(&a, "projections")->flops, 1e-12));
    CU_ASSERT(strstr(b.lookups[0].what, "qkv m=2048 ") != NULL);
    lat_env_close(&e);
}

static void test_attention_per_request_and_causal(void)
{
    LatEnv e;
    lat_env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    /* one chunk of 1000 vs ten of 100: same projections, a tenth of the attention FLOPs */
    BatchDesc one = {0}, ten = {0};
    g_assert(batch_desc_reserve(&one, 1) && batch_desc_reserve(&ten, 10));
    batch_desc_push(&one, 1000, 0, true);
    for (int i = 0; i < 10; i++)
        batch_desc_push(&ten, 100, 0, true);
    LatBreakdown b1, b10;
    run_batch(&e, &one, &b1);
    run_batch(&e, &ten, &b10);
    CU_ASSERT(near(lat_env_comp(&b1, "projections")->flops, lat_env_comp(&b10, "projections")->flops, 1e-12));
    CU_ASSERT(near(lat_env_comp(&b10, "attention_prefill")->flops, lat_env_comp(&b1, "attention_prefill")->flops / 10,
                   1e-12));
    /* 4 n_h d_h (t p + t^2 / 2), per layer */
    LatBreakdown br;
    prefill_only(&e, 512, 1536, &br);
    double expect = 32 * 4.0 * 32 * 128 * (512.0 * 1536 + 0.5 * 512 * 512);
    CU_ASSERT(near(lat_env_comp(&br, "attention_prefill")->flops, expect, 1e-12));
    batch_desc_release(&one);
    batch_desc_release(&ten);
    lat_env_close(&e);
}

/* On its own GPU at a measured row, a kernel takes the row's latency: no 1.8
 * divisor, no other factor. H100 prefill attention 32-8-128 S=4096 is
 * 217.585 us per layer (mfu 0.638); H100 BF16 GEMM 512 x 4096 x 12288 (the
 * Llama-2-7B qkv) is 90 us. */
static void test_measured_rows(void)
{
    LatEnv e;
    lat_env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    LatBreakdown br;
    prefill_only(&e, 4096, 0, &br);
    CU_ASSERT(near(lat_env_comp(&br, "attention_prefill")->seconds / 32, 217.585e-6, 1e-6));
    lat_env_close(&e);

    lat_env_open(&e, "llama-2-7b-hf", "H100-SXM", 1, LAT_BACKEND_AUTO);
    LatGemmInfo g[8];
    guint n = lat_step_model_gemms(e.sm, g, 8);
    CU_ASSERT(n >= 4 && strcmp(g[0].name, "qkv") == 0 && g[0].k == 4096 && g[0].n == 12288 && g[0].exact_shape);
    CU_ASSERT(g[0].table && strstr(g[0].table, "gemm_bf16/h100"));
    LatRoof roof;
    lat_roof_init(&roof, e.hw, 1, 1);
    LatGemmCurve c;
    const LatHardware *d[1] = {e.hw};
    const LatMfuDb *dbs[1] = {e.dbs[0]};
    lat_gemm_curve_init(&c, 4096, 12288, FALSE, 2.0, e.hw, &roof, d, dbs, 1, &e.params);
    CU_ASSERT(near(lat_gemm_curve_time(&c, 512, NULL, 0), 90e-6, 1e-9));
    CU_ASSERT(near(lat_gemm_curve_time(&c, 4096, NULL, 0), 588.5e-6, 1e-9));
    /* beyond the table the last row's fraction of the roofline holds: twice the rows, twice the time */
    CU_ASSERT(near(lat_gemm_curve_time(&c, 8192, NULL, 0), 2 * 588.5e-6, 1e-3));
    lat_gemm_curve_clear(&c);
    lat_env_close(&e);
}

/* The H200 has the H100's peak and 4.8 / 3.35 of its bandwidth: from the same
 * tables, a memory-bound GEMM is that much faster, a compute-bound one the same. */
static void test_transfer_rule(void)
{
    LatEnv h100, h200;
    lat_env_open(&h100, "llama-2-7b-hf", "H100-SXM", 1, LAT_BACKEND_AUTO);
    lat_env_open(&h200, "llama-2-7b-hf", "H200-SXM", 1, LAT_BACKEND_AUTO);
    CU_ASSERT_FALSE(lat_step_model_measured_gpu(h200.sm));
    CU_ASSERT_STRING_EQUAL(lat_step_model_table_gpu(h200.sm), "H100-SXM");
    CU_ASSERT_TRUE(lat_step_model_measured_gpu(h100.sm));
    LatRoof r1, r2;
    lat_roof_init(&r1, h100.hw, 1, 1);
    lat_roof_init(&r2, h200.hw, 1, 1);
    const LatHardware *d[1] = {h100.hw};
    const LatMfuDb *dbs[1] = {h100.dbs[0]};
    LatGemmCurve a, b;
    lat_gemm_curve_init(&a, 4096, 12288, FALSE, 2.0, h100.hw, &r1, d, dbs, 1, &h100.params);
    lat_gemm_curve_init(&b, 4096, 12288, FALSE, 2.0, h200.hw, &r2, d, dbs, 1, &h100.params);
    CU_ASSERT(near(lat_gemm_curve_time(&b, 1, NULL, 0) / lat_gemm_curve_time(&a, 1, NULL, 0), 3.35 / 4.8, 1e-6));
    CU_ASSERT(near(lat_gemm_curve_time(&b, 4096, NULL, 0), lat_gemm_curve_time(&a, 4096, NULL, 0), 1e-9));
    lat_gemm_curve_clear(&a);
    lat_gemm_curve_clear(&b);
    /* and a whole decode step is faster */
    LatBreakdown x, y;
    CU_ASSERT(decode_only(&h200, 64, 2048, &y) < decode_only(&h100, 64, 2048, &x));
    SS_ASSERT_CONTAINS(lat_env_comp(&y, "projections")->source, "transferred by the roofline rule");
    lat_env_close(&h100);
    lat_env_close(&h200);
}

/* The decode table read as alpha(batch) + beta x KV tokens stays close to
 * the measured cells of large batches. */
static void test_decode_fit(void)
{
    LatEnv e;
    lat_env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    struct {
        guint b, kv;
        double us;
    } rows[] = {{32, 1024, 56.4}, {64, 1024, 105.6}};
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        LatBreakdown br;
        decode_only(&e, rows[i].b, rows[i].kv, &br);
        double per_layer = lat_env_comp(&br, "attention_decode")->seconds / 32;
        fprintf(stderr, "\n  decode %u x %u: %.1f us per layer (table %.1f)", rows[i].b, rows[i].kv, per_layer * 1e6,
                rows[i].us);
        CU_ASSERT(near(per_layer, rows[i].us * 1e-6, 0.25));
    }
    lat_env_close(&e);
}

/* ----------------------------------------------------- shapes and TP -- */

static void test_tp_shapes_and_allreduce(void)
{
    LatEnv e1, e2;
    lat_env_open(&e1, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    lat_env_open(&e2, "llama-3.1-8b", "H100-SXM", 2, LAT_BACKEND_AUTO);
    LatGemmInfo g1[16], g2[16];
    guint n1 = lat_step_model_gemms(e1.sm, g1, 16), n2 = lat_step_model_gemms(e2.sm, g2, 16);
    CU_ASSERT_EQUAL_FATAL(n1, 5);
    CU_ASSERT_EQUAL_FATAL(n2, 5);
    const char *names[] = {"qkv", "o", "gate_up", "down", "lm_head"};
    guint k1[] = {4096, 4096, 4096, 14336, 4096}, nn1[] = {6144, 4096, 28672, 4096, 128256};
    guint k2[] = {4096, 2048, 4096, 7168, 4096}, nn2[] = {3072, 4096, 14336, 4096, 64128};
    for (guint i = 0; i < 5; i++) {
        CU_ASSERT_STRING_EQUAL(g1[i].name, names[i]);
        CU_ASSERT_EQUAL(g1[i].k, k1[i]);
        CU_ASSERT_EQUAL(g1[i].n, nn1[i]);
        CU_ASSERT_EQUAL(g2[i].k, k2[i]);
        CU_ASSERT_EQUAL(g2[i].n, nn2[i]);
    }
    /* two all-reduces per layer at TP2, of m x d x 2 bytes: custom all-reduce below 8 MiB */
    LatBreakdown br;
    decode_only(&e2, 8, 1024, &br);
    const LatComponent *ar = lat_env_comp(&br, "allreduce");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    CU_ASSERT_EQUAL(ar->bound, LAT_BOUND_COMMUNICATION);
    double one = (8.0 * 4096 * 2) / (450e9 * e2.params.link_efficiency) + e2.params.allreduce_latency_us * 1e-6;
    CU_ASSERT(near(ar->seconds, 64 * one, 1e-9));
    /* above 8 MiB: NCCL, measured, never below the custom all-reduce's formula */
    prefill_only(&e2, 2048, 0, &br); /* 2048 x 4096 x 2 = 16 MiB */
    ar = lat_env_comp(&br, "allreduce");
    SS_ASSERT_CONTAINS(ar->source, "NCCL, measured: comm/allreduce/h100.csv");
    double custom = (2048.0 * 4096 * 2) / (450e9 * e2.params.link_efficiency) + e2.params.allreduce_latency_us * 1e-6;
    CU_ASSERT(ar->seconds >= 64 * custom * (1 - 1e-12));
    decode_only(&e1, 8, 1024, &br);
    CU_ASSERT_PTR_NULL(lat_env_comp(&br, "allreduce"));
    lat_env_close(&e1);
    lat_env_close(&e2);
}

/* ---------------------------------------------------------------- MoE -- */

static void test_moe_experts(void)
{
    LatEnv e;
    lat_env_open(&e, "mixtral-8x7b-v0.1", "H100-SXM", 2, LAT_BACKEND_AUTO);
    /* one expert per GPU: d x 2 d_ff/tp + d_ff/tp x d weights, 2 bytes */
    double expert = (4096.0 * 2 * 7168 + 7168.0 * 4096) * 2;
    double prev = 0, prev_t = 0;
    for (guint32 n = 1; n <= 64; n *= 2) {
        LatBreakdown br;
        decode_only(&e, n, 512, &br);
        const LatComponent *c = lat_env_comp(&br, "moe_experts");
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        double hit = lat_moe_experts_hit(8, 2, br.padded_tokens);
        /* the bytes of the experts hit, per MoE layer (plus activations) */
        CU_ASSERT(c->bytes >= 32 * hit * expert && c->bytes < 32 * hit * expert * 1.02);
        CU_ASSERT(c->bytes >= prev && c->seconds >= prev_t);
        prev = c->bytes;
        prev_t = c->seconds;
    }
    /* decode reads every expert's weights: memory-bound, close to bytes / bandwidth */
    LatBreakdown br;
    decode_only(&e, 64, 512, &br);
    const LatComponent *c = lat_env_comp(&br, "moe_experts");
    CU_ASSERT_EQUAL(c->bound, LAT_BOUND_MEMORY);
    CU_ASSERT(c->seconds > c->bytes / 3.35e12 && c->seconds < 1.4 * c->bytes / 3.35e12);
    /* a long prefill is compute-bound, slower than the same GEMMs dense by 1 / moe_grouped_efficiency */
    prefill_only(&e, 4096, 0, &br);
    CU_ASSERT_EQUAL(lat_env_comp(&br, "moe_experts")->bound, LAT_BOUND_COMPUTE);
    lat_env_close(&e);
}

/* ------------------------------------------------- CPU, graphs, async -- */

static void test_cpu_gpu_and_graphs(void)
{
    LatEnv e;
    lat_env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    e.params.cudagraph_max_size = 512;
    e.params.async_scheduling = FALSE;
    lat_env_rebuild(&e, 1);
    LatBreakdown br;
    double sync = decode_only(&e, 13, 1000, &br);
    CU_ASSERT_STRING_EQUAL(br.cuda_graph, "full");
    CU_ASSERT_EQUAL(br.padded_tokens, 16); /* 13 decodes run as the 16-token graph */
    /* synchronous: CPU work then the GPU step (the graph launch overlaps the GPU) */
    CU_ASSERT(near(sync, br.gpu_seconds + lat_env_comp_s(&br, "cpu"), 1e-12));
    CU_ASSERT(near(lat_env_comp_s(&br, "cpu"), e.params.step_overhead_us * 1e-6, 1e-12));
    e.params.async_scheduling = TRUE;
    lat_env_rebuild(&e, 1);
    double async = decode_only(&e, 13, 1000, &br);
    CU_ASSERT(near(async, MAX(br.gpu_seconds, br.cpu_seconds), 1e-12));
    CU_ASSERT(async < sync);
    /* a mixed step: piecewise graphs, attention launched eagerly per layer */
    BatchDesc b = {0};
    g_assert(batch_desc_reserve(&b, 9));
    lat_env_decodes(&b, 8, 1000);
    batch_desc_push(&b, 100, 0, true);
    run_batch(&e, &b, &br);
    CU_ASSERT_STRING_EQUAL(br.cuda_graph, "piecewise");
    CU_ASSERT_EQUAL(br.padded_tokens, 112);
    CU_ASSERT(near(lat_env_comp_s(&br, "launches"), (2 * 32 + 1) * e.params.launch_us * 1e-6, 1e-12));
    batch_desc_release(&b);
    /* beyond the largest capture size, and with enforce_eager: no graph, every kernel launched */
    prefill_only(&e, 600, 0, &br);
    CU_ASSERT_STRING_EQUAL(br.cuda_graph, "none");
    CU_ASSERT_EQUAL(br.padded_tokens, 600);
    e.params.enforce_eager = TRUE;
    lat_env_rebuild(&e, 1);
    decode_only(&e, 13, 1000, &br);
    CU_ASSERT_STRING_EQUAL(br.cuda_graph, "none");
    CU_ASSERT(lat_env_comp_s(&br, "launches") > 300 * e.params.launch_us * 1e-6);
    /* OpenTelemetry tracing adds its CPU time */
    e.params.enforce_eager = FALSE;
    e.params.otlp_tracing = TRUE;
    lat_env_rebuild(&e, 1);
    decode_only(&e, 13, 1000, &br);
    CU_ASSERT(near(lat_env_comp_s(&br, "cpu"), (e.params.step_overhead_us + e.params.tracing_overhead_us) * 1e-6,
                   1e-12));
    lat_env_close(&e);
}

/* ---------------------------------------------------- v1 and errors -- */

static void test_roofline_v1(void)
{
    LatEnv e;
    lat_env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_ROOFLINE_V1);
    CU_ASSERT_EQUAL(lat_step_model_backend(e.sm), LAT_BACKEND_ROOFLINE_V1);
    CU_ASSERT_TRUE(lat_step_model_estimated(e.sm));
    LatBreakdown br;
    prefill_only(&e, 4096, 0, &br);
    const LatComponent *p = lat_env_comp(&br, "projections");
    CU_ASSERT_TRUE(p->estimated);
    CU_ASSERT(near(p->seconds, p->flops / (989.4e12 * e.params.v1_mfu), 1e-9));
    CU_ASSERT_TRUE(br.estimated);
    lat_env_close(&e);
}

static void test_errors(void)
{
    GError *error = NULL;
    g_autoptr(LatModelDesc) m = lat_model_desc_load("llama-3.1-8b", ss_test_data_dir(), &error);
    g_autoptr(LatHardwareTable) t = lat_hardware_table_load(ss_test_data_dir(), NULL, &error);
    const LatHardware *hw = lat_hardware_table_find(t, "H100-SXM", &error);
    LatParams p;
    lat_params_default(&p);
    LatStepModel *sm = lat_step_model_new(m, hw, 3, NULL, 0, &p, 1024, &error);
    CU_ASSERT_PTR_NULL(sm);
    CU_ASSERT(error && g_error_matches(error, SS_ERROR, SS_ERROR_INPUT));
    SS_ASSERT_CONTAINS(error ? error->message : "", "tensor-parallel size 3 does not divide its 32 attention heads");
    g_clear_error(&error);
    p.bw_efficiency = 1.5;
    sm = lat_step_model_new(m, hw, 1, NULL, 0, &p, 1024, &error);
    CU_ASSERT_PTR_NULL(sm);
    CU_ASSERT(error && g_error_matches(error, SS_ERROR, SS_ERROR_USAGE));
    SS_ASSERT_CONTAINS(error ? error->message : "", "'bw_efficiency'");
    g_clear_error(&error);
    lat_params_default(&p);
    p.moe_imbalance = 0.5;
    sm = lat_step_model_new(m, hw, 1, NULL, 0, &p, 1024, &error);
    CU_ASSERT_PTR_NULL(sm);
    SS_ASSERT_CONTAINS(error ? error->message : "", "'moe_imbalance'");
    g_clear_error(&error);
    lat_params_default(&p);
    g_autoptr(LatModelDesc) hy = lat_model_desc_load("qwen3-next-80b-a3b", ss_test_data_dir(), &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hy);
    sm = lat_step_model_new(hy, hw, 1, NULL, 0, &p, 1024, &error);
    CU_ASSERT_PTR_NULL(sm);
    SS_ASSERT_CONTAINS(error ? error->message : "", "linear-attention");
    g_clear_error(&error);
    CU_ASSERT_FALSE(lat_params_set(&p, "async_scheduling=1", &error)); /* an engine setting, not a constant */
    g_clear_error(&error);
    CU_ASSERT_FALSE(lat_params_set(&p, "bw_scale=-1", &error));
    g_clear_error(&error);
    CU_ASSERT_TRUE(lat_params_set(&p, "compute_scale=1.2", &error) && p.compute_scale == 1.2);
    double v = 0;
    CU_ASSERT_TRUE(lat_params_get(&p, "compute_scale", &v) && v == 1.2);
    CU_ASSERT_FALSE(lat_params_get(&p, "nonsense", &v));
    /* an empty step takes no time */
    LatEnv e;
    lat_env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    BatchDesc empty = {0};
    CU_ASSERT_EQUAL(lat_step_model_seconds(e.sm, &empty), 0.0);
    lat_env_close(&e);
}

/* A profile sets constants, refuses another GPU's, and reports bad files. */
static void test_profiles(void)
{
    char *ok = ss_test_write_file("h100.json", "{\"schema\": \"servesim.hardware_profile/1\", \"hardware\": "
                                               "\"H100-SXM\", \"params\": {\"bw_scale\": 1.05, \"step_overhead_us\": 700}}");
    LatParams p;
    lat_params_default(&p);
    GError *error = NULL;
    CU_ASSERT_TRUE(lat_params_apply_profile(&p, ok, "h100-sxm", &error));
    CU_ASSERT_EQUAL(p.bw_scale, 1.05);
    CU_ASSERT_EQUAL(p.step_overhead_us, 700);
    CU_ASSERT_FALSE(lat_params_apply_profile(&p, ok, "A100-SXM-80GB", &error));
    CU_ASSERT(error && g_error_matches(error, SS_ERROR, SS_ERROR_USAGE));
    g_clear_error(&error);
    char *bad = ss_test_write_file("bad.json", "{\"schema\": \"servesim.hardware_profile/1\", \"hardware\": "
                                                "\"H100-SXM\", \"params\": {\"warp_factor\": 9}}");
    lat_params_default(&p);
    CU_ASSERT_FALSE(lat_params_apply_profile(&p, bad, NULL, &error));
    SS_ASSERT_CONTAINS(error ? error->message : "", "params.warp_factor");
    CU_ASSERT_EQUAL(p.step_overhead_us, 950); /* unchanged on error */
    g_clear_error(&error);
    g_free(ok);
    g_free(bad);
}

static const SsTestCase cases[] = {
    {"GEMM m is the step's tokens", test_gemm_m_is_tokens},
    {"attention per request, causal FLOPs", test_attention_per_request_and_causal},
    {"measured rows reproduced on their GPU (no 1.8)", test_measured_rows},
    {"transfer rule: H200 from H100 tables", test_transfer_rule},
    {"decode table as batch latency + per-token cost", test_decode_fit},
    {"TP shapes and all-reduces", test_tp_shapes_and_allreduce},
    {"MoE grouped experts", test_moe_experts},
    {"CPU and GPU, async, CUDA graphs, tracing", test_cpu_gpu_and_graphs},
    {"roofline v1", test_roofline_v1},
    {"errors", test_errors},
    {"hardware profiles", test_profiles},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"step", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
