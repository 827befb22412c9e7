/*
 * test_lat_step.c: the step-time models (roofline v2 and v1).
 *
 * One test per fix of the review the model grew from (token counts, halved
 * causal FLOPs, no 1.8 divisor, MFU keyed by new tokens with interpolation,
 * one forward pass for mixed batches, per-GPU TP shapes, per-TP decode tables
 * without double scaling, memory floors), sweeps that more work never takes
 * less time, TP and MoE scaling, two step times computed here by hand from
 * the table rows (Llama-3.1-8B prefill on one H100, Mixtral-8x7B decode on
 * two), the fallbacks, the errors, and a microbenchmark of the hot path.
 */
#include <math.h>
#include <time.h>

#include "lat.h"
#include "lat_mfu.h"
#include "ss_error.h"
#include "ss_test.h"

/* ------------------------------------------------------------ fixtures -- */

typedef struct {
    LatModelDesc *model;
    LatHardwareTable *hwt;
    const LatHardware *hw;
    LatMfuDb *db;
    LatStepModel *sm;
    LatParams params;
} Env;

static void env_open(Env *e, const char *model, const char *gpu, guint tp, LatBackend backend)
{
    GError *error = NULL;
    memset(e, 0, sizeof *e);
    e->model = lat_model_desc_load(model, ss_test_data_dir(), &error);
    g_assert_no_error(error);
    e->hwt = lat_hardware_table_load(ss_test_data_dir(), NULL, &error);
    g_assert_no_error(error);
    e->hw = lat_hardware_table_find(e->hwt, gpu, &error);
    g_assert_no_error(error);
    if (e->hw->mfu_tables && backend != LAT_BACKEND_ROOFLINE_V1) {
        e->db = lat_mfu_db_load(ss_test_data_dir(), e->hw->mfu_tables, &error);
        g_assert_no_error(error);
    }
    lat_params_default(&e->params);
    e->params.backend = backend;
    e->sm = lat_step_model_new(e->model, e->hw, tp, e->db, &e->params, 16384, &error);
    g_assert_no_error(error);
}

static void env_close(Env *e)
{
    lat_step_model_free(e->sm);
    lat_mfu_db_free(e->db);
    lat_hardware_table_free(e->hwt);
    lat_model_desc_free(e->model);
}

typedef struct {
    BatchDesc b;
} Batch;

static void batch_init(Batch *x)
{
    memset(x, 0, sizeof *x);
    g_assert(batch_desc_reserve(&x->b, 4096));
}

static void add_prefill(Batch *x, guint32 t, guint32 p) { batch_desc_push(&x->b, t, p, true); }

/* n decodes, each attending to kv tokens (kv - 1 cached + the new one). */
static void add_decodes(Batch *x, guint32 n, guint32 kv)
{
    for (guint32 i = 0; i < n; i++)
        batch_desc_push(&x->b, 1, kv - 1, true);
}

static const LatComponent *comp(const LatBreakdown *br, const char *name)
{
    for (guint i = 0; i < br->num_components; i++)
        if (strcmp(br->components[i].name, name) == 0)
            return &br->components[i];
    return NULL;
}

static double comp_s(const LatBreakdown *br, const char *name)
{
    const LatComponent *c = comp(br, name);
    return c ? c->seconds : 0.0;
}

static gboolean near(double a, double b, double rel) { return fabs(a - b) <= rel * fabs(b); }

/* Seconds of one batch, checked against its breakdown. */
static double step(Env *e, Batch *x, LatBreakdown *br)
{
    double s = lat_step_model_seconds(e->sm, &x->b);
    LatBreakdown local;
    LatBreakdown *out = br ? br : &local;
    lat_step_model_breakdown(e->sm, &x->b, out);
    if (!near(out->total_seconds, s, 1e-12))
        fprintf(stderr, "\n  breakdown %.15g != seconds %.15g\n", out->total_seconds, s);
    CU_ASSERT(near(out->total_seconds, s, 1e-12));
    return s;
}

static double prefill_only(Env *e, guint32 t, guint32 p, LatBreakdown *br)
{
    Batch x;
    batch_init(&x);
    add_prefill(&x, t, p);
    double s = step(e, &x, br);
    batch_desc_release(&x.b);
    return s;
}

static double decode_only(Env *e, guint32 n, guint32 kv, LatBreakdown *br)
{
    Batch x;
    batch_init(&x);
    add_decodes(&x, n, kv);
    double s = step(e, &x, br);
    batch_desc_release(&x.b);
    return s;
}

/* ------------------------------------------------------- review fixes -- */

/* Fix 1 (and 4): a GEMM's m is the step's token count, never a request count. */
static void test_fix1_gemm_m_is_tokens(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    LatBreakdown a, b;
    prefill_only(&e, 1024, 0, &a);
    prefill_only(&e, 2048, 0, &b);
    /* Doubling the chunk doubles m: projection FLOPs double exactly. */
    CU_ASSERT(near(comp(&b, "projections")->flops, 2.0 * comp(&a, "projections")->flops, 1e-12));
    /* The lookups name m = the tokens of the step. */
    CU_ASSERT(strstr(b.lookups[0].what, "qkv m=2048 ") != NULL);
    /* 2·m·k·n summed over the four GEMMs of 32 layers at m = 2048. */
    double per_token = 2.0 * (4096.0 * 6144 + 4096.0 * 4096 + 4096.0 * 28672 + 14336.0 * 4096) * 32;
    CU_ASSERT(near(comp(&b, "projections")->flops, 2048 * per_token, 1e-12));
    env_close(&e);
}

static void test_fix4_tokens_not_requests(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    Batch one, ten;
    batch_init(&one);
    batch_init(&ten);
    add_prefill(&one, 1000, 0);
    for (int i = 0; i < 10; i++)
        add_prefill(&ten, 100, 0);
    LatBreakdown b1, b10;
    step(&e, &one, &b1);
    step(&e, &ten, &b10);
    /* Same 1000 tokens in one pass: the projections are identical... */
    CU_ASSERT(near(comp_s(&b1, "projections"), comp_s(&b10, "projections"), 1e-12));
    /* ...and each request's attention is its own: 10 · (100²/2) vs 1000²/2. */
    CU_ASSERT(near(comp(&b10, "attention_prefill")->flops, comp(&b1, "attention_prefill")->flops / 10.0, 1e-12));
    batch_desc_release(&one.b);
    batch_desc_release(&ten.b);
    env_close(&e);
}

/* Fix 2: attention-core FLOPs 4·n_h·d_h·(t·p + t²/2): half the dense count
 * for p = 0, no softmax term. */
static void test_fix2_causal_flops(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    LatBreakdown br;
    prefill_only(&e, 4096, 0, &br);
    double dense = 4.0 * 32 * 128 * 4096.0 * 4096.0 * 32; /* S_q · S_kv, all 32 layers */
    CU_ASSERT(near(comp(&br, "attention_prefill")->flops, 0.5 * dense, 1e-12));
    prefill_only(&e, 1024, 3072, &br);
    /* t = 1024 after p = 3072: t·p + t²/2 */
    double expect = 4.0 * 32 * 128 * (1024.0 * 3072 + 0.5 * 1024.0 * 1024) * 32;
    CU_ASSERT(near(comp(&br, "attention_prefill")->flops, expect, 1e-12));
    /* Decode: R_mask = 1 over every cached token: 4·n_h·d_h·Σkv. */
    decode_only(&e, 8, 2048, &br);
    CU_ASSERT(near(comp(&br, "attention_decode")->flops, 4.0 * 32 * 128 * 8 * 2048 * 32, 1e-12));
    env_close(&e);
}

/* Fix 3: no 1.8 divisor. The kernel time equals FLOPs / (peak · MFU): the
 * H100 32-8-128 row at S = 4096 (217.585 µs, mfu 0.638) is reproduced;
 * FLOPs/1.8 on the full count would predict 1.11x of it. */
static void test_fix3_no_1_8(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    LatBreakdown br;
    prefill_only(&e, 4096, 0, &br);
    double per_layer = comp_s(&br, "attention_prefill") / 32.0;
    CU_ASSERT(near(per_layer, 217.585e-6, 1e-9));
    double flops = 4.0 * 32 * 128 * 4096.0 * 4096.0 / 2.0; /* per layer, causal */
    double from_mfu = flops / (989.4e12 * 0.638);
    CU_ASSERT(near(per_layer, from_mfu, 0.0008 / 0.638 + 0.001));
    double with_1_8 = (2.0 * flops) / 1.8 / (989.4e12 * 0.638); /* the seed's formula */
    CU_ASSERT(near(with_1_8 / 217.585e-6, 1.111, 0.005));
    CU_ASSERT(!near(per_layer, with_1_8, 0.05));
    env_close(&e);
}

/* Fix 5: the prefill-attention MFU is keyed by the step's new tokens and
 * interpolated between rows (no jump at a row boundary). */
static void test_fix5_mfu_by_new_tokens(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    LatBreakdown a, b;
    prefill_only(&e, 1024, 0, &a);
    prefill_only(&e, 1024, 8192, &b);
    /* Same new tokens, different history: the same achieved rate (MFU). */
    const LatComponent *ca = comp(&a, "attention_prefill"), *cb = comp(&b, "attention_prefill");
    CU_ASSERT(near(ca->flops / ca->seconds, cb->flops / cb->seconds, 1e-12));
    /* Across the 4096 row boundary the time moves smoothly. */
    double prev = 0;
    for (guint32 t = 4000; t <= 4200; t++) {
        LatBreakdown br;
        prefill_only(&e, t, 0, &br);
        double s = comp_s(&br, "attention_prefill");
        if (prev > 0)
            CU_ASSERT(s > prev && s < prev * 1.002);
        prev = s;
    }
    /* At t = 4095 the MFU is the interpolated one (about 0.638), not the
     * floor row's (0.228 at 1024): a floor lookup would be 2.8x slower. */
    LatBreakdown br;
    prefill_only(&e, 4095, 0, &br);
    const LatComponent *c = comp(&br, "attention_prefill");
    double mfu = c->flops / c->seconds / 989.4e12;
    CU_ASSERT(mfu > 0.63 && mfu < 0.64);
    env_close(&e);
}

/* One forward pass: a mixed step is not the sum of separate passes. */
static void test_one_forward_pass(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    Batch mixed;
    batch_init(&mixed);
    add_prefill(&mixed, 2048, 0);
    add_decodes(&mixed, 64, 1024);
    LatBreakdown bm, bp, bd, bsame;
    double tm = step(&e, &mixed, &bm);
    double tp = prefill_only(&e, 2048, 0, &bp);
    double td = decode_only(&e, 64, 1024, &bd);
    prefill_only(&e, 2048 + 64, 0, &bsame);
    /* The projections see m = 2112 tokens at once. */
    CU_ASSERT(near(comp_s(&bm, "projections"), comp_s(&bsame, "projections"), 1e-12));
    /* Weights are read once and the overhead paid once: cheaper than two passes. */
    CU_ASSERT(tm < tp + td - e.params.step_overhead_us * 1e-6);
    /* Attention parts are the separate ones. */
    CU_ASSERT(near(comp_s(&bm, "attention_prefill"), comp_s(&bp, "attention_prefill"), 1e-12));
    CU_ASSERT(near(comp_s(&bm, "attention_decode"), comp_s(&bd, "attention_decode"), 1e-12));
    batch_desc_release(&mixed.b);
    env_close(&e);
}

/* TP: column-parallel n/tp (qkv, gate_up, LM head), row-parallel k/tp (o, down). */
static void test_tp_per_gpu_shapes(void)
{
    Env e1, e2;
    env_open(&e1, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    env_open(&e2, "llama-3.1-8b", "H100-SXM", 2, LAT_BACKEND_AUTO);
    LatGemmInfo g1[16], g2[16];
    guint n1 = lat_step_model_gemms(e1.sm, g1, 16), n2 = lat_step_model_gemms(e2.sm, g2, 16);
    CU_ASSERT_EQUAL_FATAL(n1, 5);
    CU_ASSERT_EQUAL_FATAL(n2, 5);
    const char *names[] = {"qkv", "o", "gate_up", "down", "lm_head"};
    guint k1[] = {4096, 4096, 4096, 14336, 4096}, nn1[] = {6144, 4096, 28672, 4096, 128256};
    guint k2[] = {4096, 2048, 4096, 7168, 4096}, nn2[] = {3072, 4096, 14336, 4096, 64128};
    for (guint i = 0; i < 5; i++) {
        CU_ASSERT_STRING_EQUAL(g1[i].name, names[i]);
        CU_ASSERT_STRING_EQUAL(g2[i].name, names[i]);
        CU_ASSERT_EQUAL(g1[i].k, k1[i]);
        CU_ASSERT_EQUAL(g1[i].n, nn1[i]);
        CU_ASSERT_EQUAL(g2[i].k, k2[i]);
        CU_ASSERT_EQUAL(g2[i].n, nn2[i]);
    }
    CU_ASSERT_TRUE(g1[0].exact_shape); /* 4096 x 6144 is in the H100 table */
    CU_ASSERT_FALSE(g2[0].exact_shape);
    /* Two all-reduces per layer at TP2 only. */
    LatBreakdown br;
    decode_only(&e2, 8, 1024, &br);
    const LatComponent *ar = comp(&br, "allreduce");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    CU_ASSERT_EQUAL(ar->bound, LAT_BOUND_COMMUNICATION);
    /* 64 all-reduces of 8 · 4096 · 2 bytes, ring 2(tp-1)/tp over 450 GB/s x eff, + latency */
    double one = 2.0 * 1 / 2 * (8.0 * 4096 * 2) / (450e9 * e2.params.link_efficiency) +
                 e2.params.allreduce_latency_us * 1e-6;
    CU_ASSERT(near(ar->seconds, 64 * one, 1e-12));
    decode_only(&e1, 8, 1024, &br);
    CU_ASSERT_PTR_NULL(comp(&br, "allreduce"));
    env_close(&e1);
    env_close(&e2);
}

/* The decode table of the TP degree holds the per-GPU efficiency: divide
 * the FLOPs by tp, take that file's row, and scale nothing again. */
static void test_decode_table_per_tp(void)
{
    const double row_us[] = {99.491, 57.689, 38.672}; /* 32-8-128-tp{1,2,4}.csv, batch 16, kv 4096 */
    const guint tps[] = {1, 2, 4};
    for (guint i = 0; i < 3; i++) {
        Env e;
        env_open(&e, "llama-3.1-8b", "H100-SXM", tps[i], LAT_BACKEND_AUTO);
        LatBreakdown br;
        decode_only(&e, 16, 4096, &br);
        const LatComponent *c = comp(&br, "attention_decode");
        char want[64];
        g_snprintf(want, sizeof want, "32-8-128-tp%u.csv", tps[i]);
        SS_ASSERT_CONTAINS(c->source, want);
        /* per layer: the row itself (its KV read at BW·eff is below it) */
        CU_ASSERT(near(c->seconds / 32.0, row_us[i] * 1e-6, 1e-9));
        CU_ASSERT(near(c->flops, 4.0 * (32.0 / tps[i]) * 128 * 16 * 4096 * 32, 1e-12));
        env_close(&e);
    }
}

/* Memory floors: a decode of one request is bound by reading the weights. */
static void test_memory_floor_batch1(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    LatBreakdown br;
    double t = decode_only(&e, 1, 1024, &br);
    const LatComponent *p = comp(&br, "projections"), *lm = comp(&br, "lm_head");
    CU_ASSERT_EQUAL(p->bound, LAT_BOUND_MEMORY);
    CU_ASSERT_EQUAL(lm->bound, LAT_BOUND_MEMORY);
    double bw = 3.35e12 * e.params.bw_efficiency;
    /* Every weight but the input embedding (a gather) is read once. */
    double read = lat_model_weight_bytes_per_gpu(e.model, 1) - 128256.0 * 4096 * 2;
    CU_ASSERT(near(p->bytes + lm->bytes, read, 1e-12));
    CU_ASSERT(near(p->seconds + lm->seconds, read / bw, 1e-12));
    double floor = read / bw + e.params.step_overhead_us * 1e-6;
    CU_ASSERT(t >= floor && t < 1.05 * floor);
    env_close(&e);
}

/* ---------------------------------------------------- scaling, sweeps -- */

static void test_monotonic_sweeps(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    double prev = 0;
    guint bad = 0;
    for (guint32 t = 2; t <= 16384; t += (t < 1024 ? 1 : 7)) {
        Batch x;
        batch_init(&x);
        add_prefill(&x, t, 0);
        double s = lat_step_model_seconds(e.sm, &x.b);
        bad += s < prev;
        prev = s;
        batch_desc_release(&x.b);
    }
    CU_ASSERT_EQUAL(bad, 0);
    prev = 0;
    for (guint32 n = 1; n <= 512; n++) {
        Batch x;
        batch_init(&x);
        add_decodes(&x, n, 2048);
        double s = lat_step_model_seconds(e.sm, &x.b);
        bad += s < prev;
        prev = s;
        batch_desc_release(&x.b);
    }
    CU_ASSERT_EQUAL(bad, 0);
    const guint32 batches[] = {1, 8, 64};
    for (guint i = 0; i < 3; i++) {
        prev = 0;
        for (guint32 kv = 1; kv <= 131072; kv += 1 + kv / 64) {
            Batch x;
            batch_init(&x);
            add_decodes(&x, batches[i], kv);
            double s = lat_step_model_seconds(e.sm, &x.b);
            bad += s < prev;
            prev = s;
            batch_desc_release(&x.b);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    prev = 0;
    for (guint32 p = 0; p <= 65536; p += 97) {
        Batch x;
        batch_init(&x);
        add_prefill(&x, 512, p);
        double s = lat_step_model_seconds(e.sm, &x.b);
        bad += s < prev;
        prev = s;
        batch_desc_release(&x.b);
    }
    CU_ASSERT_EQUAL(bad, 0);
    env_close(&e);

    /* An MoE: more decodes never take less time. */
    env_open(&e, "mixtral-8x7b-v0.1", "H100-SXM", 2, LAT_BACKEND_AUTO);
    prev = 0;
    for (guint32 n = 1; n <= 512; n++) {
        double s = decode_only(&e, n, 1024, NULL);
        bad += s < prev;
        prev = s;
    }
    CU_ASSERT_EQUAL(bad, 0);
    env_close(&e);
}

static void test_tp2_faster_not_2x(void)
{
    Env e1, e2;
    env_open(&e1, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    env_open(&e2, "llama-3.1-8b", "H100-SXM", 2, LAT_BACKEND_AUTO);
    const guint32 ns[] = {1, 32, 128};
    for (guint i = 0; i < 3; i++) {
        double t1 = decode_only(&e1, ns[i], 2048, NULL), t2 = decode_only(&e2, ns[i], 2048, NULL);
        CU_ASSERT(t2 < t1);
        CU_ASSERT(t2 > 0.5 * t1); /* overhead, all-reduces, replicated KV reads */
    }
    env_close(&e1);
    env_close(&e2);
}

static void test_moe_expert_weights(void)
{
    Env e;
    env_open(&e, "mixtral-8x7b-v0.1", "H100-SXM", 2, LAT_BACKEND_AUTO);
    /* one expert on one GPU: 3 · 4096 · (14336/2) weights of 2 bytes, 32 layers */
    double expert = 3.0 * 4096 * 7168 * 2 * 32;
    double prev = 0;
    for (guint32 n = 1; n <= 256; n *= 2) {
        LatBreakdown br;
        decode_only(&e, n, 1024, &br);
        double bytes = comp(&br, "moe_experts")->bytes;
        CU_ASSERT(near(bytes, expert * lat_moe_experts_hit(8, 2, n), 1e-12));
        CU_ASSERT(bytes > prev || near(bytes, 8 * expert, 1e-9));
        CU_ASSERT(bytes <= 8 * expert * (1 + 1e-12));
        prev = bytes;
    }
    CU_ASSERT(near(prev, 8 * expert, 1e-9)); /* saturated at E */
    /* One token reads exactly its top-2 experts. */
    LatBreakdown br;
    decode_only(&e, 1, 1024, &br);
    CU_ASSERT(near(comp(&br, "moe_experts")->bytes, 2 * expert, 1e-12));
    env_close(&e);
}

/* ----------------------------------------------------- hand computation -- */

/* Llama-3.1-8B (d 4096, 32 heads, 8 KV heads, d_h 128, d_ff 14336, V
 * 128256, 32 layers, bf16) on one H100-SXM: one prefill chunk of 4096 new
 * tokens that samples one token. A BF16 GEMM is timed from the FP8 table:
 * rate = rate_row · (bf16 peak / fp8 peak) · bf16_fp8_mfu_ratio, where
 * rate_row = 2·m'·k'·n' / latency_row of the nearest (k', n') shape, looked
 * up at m · n / n' when the GEMM is wider than that shape (same output tiles). */
static void test_hand_llama31_8b_prefill(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    const double conv = 989.4 / 1978.9 * e.params.bf16_fp8_mfu_ratio; /* BF16 on the FP8 table */
    const double bw = 3.35e12 * e.params.bw_efficiency;
    /* qkv 4096 x (32+2·8)·128 = 6144: exact shape, row m=4096 (line 66) 167.988 µs */
    double qkv = 167.988e-6 / conv;
    /* o 4096 x 4096: nearest 4096 x 6144 (|ln 4096/6144| = 0.41), narrower: same row, 4096/6144 of the work */
    double o = 167.988e-6 * (4096.0 / 6144.0) / conv;
    /* gate_up 4096 x 28672: nearest 4096 x 11008, 2.605 times wider: looked up
     * at m = 4096 · 28672 / 11008 = 10669, between the rows m=8192 (line 81,
     * 578.224 µs) and m=16384 (line 82, 1153.0 µs), linear in the rate */
    double r8k = 2.0 * 8192 * 4096 * 11008 / 578.224e-6, r16k = 2.0 * 16384 * 4096 * 11008 / 1153.0e-6;
    double x = 4096.0 * 28672 / 11008;
    double gate_up = 2.0 * 4096 * 4096 * 28672 / ((r8k + (r16k - r8k) * (x - 8192) / 8192) * conv);
    /* down 14336 x 4096: nearest 8192 x 6144, narrower: row m=4096 (line 94) 321.058 µs */
    double down = 321.058e-6 * (14336.0 * 4096.0) / (8192.0 * 6144.0) / conv;
    /* Each is compute-bound: the weights (at most 235 MB) take under 84 µs to read. */
    CU_ASSERT(4096.0 * 28672 * 2 / bw < gate_up);
    /* attention: mha/prefill/h100/32-8-128.csv, S = 4096 (line 3): 217.585 µs */
    double attn = 217.585e-6;
    /* LM head 4096 x 128256 at m = 1: reading 1.05 GB of weights dominates */
    double lm_memory = 4096.0 * 128256 * 2 / bw;
    double expect = 32 * (qkv + o + gate_up + down + attn) + lm_memory + e.params.step_overhead_us * 1e-6;

    LatBreakdown br;
    double t = prefill_only(&e, 4096, 0, &br);
    CU_ASSERT(near(comp_s(&br, "projections"), 32 * (qkv + o + gate_up + down), 1e-9));
    CU_ASSERT(near(comp_s(&br, "attention_prefill"), 32 * attn, 1e-9));
    CU_ASSERT(near(comp_s(&br, "lm_head"), lm_memory, 1e-9));
    CU_ASSERT_EQUAL(comp(&br, "lm_head")->bound, LAT_BOUND_MEMORY);
    CU_ASSERT(near(t, expect, 1e-9));
    CU_ASSERT(t > 0.092 && t < 0.093); /* about 92.6 ms */
    env_close(&e);
}

/* Mixtral-8x7B (8 experts, top-2, d 4096, d_ff 14336, 32 heads, 8 KV, V
 * 32000, 32 layers, bf16) on two H100-SXM: 16 decodes at KV length 4096.
 * At m = 16 every BF16 GEMM is bound by reading its weights: the FP8 table's
 * rows there are flat (weight- and launch-bound), so the compute efficiency
 * is held at the first row where time grows with m (m = 256..512), which
 * makes compute far shorter than the 2-byte weight reads. */
static void test_hand_mixtral_decode(void)
{
    Env e;
    env_open(&e, "mixtral-8x7b-v0.1", "H100-SXM", 2, LAT_BACKEND_AUTO);
    const double bw = 3.35e12 * e.params.bw_efficiency;
    /* per GPU: qkv 4096 x (16+2·4)·128 = 3072, o 2048 x 4096, router 4096 x 8 (replicated) */
    double qkv = 4096.0 * 3072 * 2 / bw;
    double o = 2048.0 * 4096 * 2 / bw;
    double router = 4096.0 * 8 * 2 / bw;
    /* routed experts: E(1 - ((E-k)/E)^T) = 8(1 - 0.75^16) experts hit, each
     * gate_up 4096 x 2·7168 and down 7168 x 4096 per GPU (d_ff 14336 / 2) */
    double hit = 8.0 * (1.0 - pow(0.75, 16));
    double experts = hit * 3.0 * 4096 * 7168 * 2 / bw;
    /* decode attention: mha/decode/h100/32-8-128-tp2.csv batch 16, kv 4096
     * (line 10) 57.689 µs per layer; its KV (67 MB per GPU) takes 24 µs. */
    double attn = fmax(57.689e-6, 2.0 * 4 * 128 * 2 * 4096 * 16 / bw);
    /* two all-reduces per layer of 16 · 4096 · 2 bytes over NVLink */
    double ar = 64 * (2.0 * 1 / 2 * (16.0 * 4096 * 2) / (450e9 * e.params.link_efficiency) +
                      e.params.allreduce_latency_us * 1e-6);
    /* LM head 4096 x 16000 per GPU */
    double lm = 4096.0 * 16000 * 2 / bw;
    double expect = 32 * (qkv + o + router + experts + attn) + ar + lm + e.params.step_overhead_us * 1e-6;

    LatBreakdown br;
    double t = decode_only(&e, 16, 4096, &br);
    CU_ASSERT(near(comp_s(&br, "projections"), 32 * (qkv + o + router), 1e-9));
    CU_ASSERT_EQUAL(comp(&br, "projections")->bound, LAT_BOUND_MEMORY);
    CU_ASSERT(near(comp_s(&br, "moe_experts"), 32 * experts, 1e-9));
    CU_ASSERT_EQUAL(comp(&br, "moe_experts")->bound, LAT_BOUND_MEMORY);
    CU_ASSERT(near(comp_s(&br, "attention_decode"), 32 * attn, 1e-9));
    CU_ASSERT(near(comp_s(&br, "allreduce"), ar, 1e-9));
    CU_ASSERT(near(comp_s(&br, "lm_head"), lm, 1e-9));
    CU_ASSERT(near(t, expect, 1e-9));
    CU_ASSERT(t > 0.0195 && t < 0.0202); /* about 19.85 ms */
    env_close(&e);
}

/* A BF16 decode step grows smoothly with the batch: no step where the FP8
 * table's rows begin (m = 8), at most the growth of the work. */
static void test_bf16_decode_smooth(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    double prev = 0;
    for (guint b = 1; b <= 512; b++) {
        LatBreakdown br;
        double t = decode_only(&e, b, 1024, &br);
        CU_ASSERT_FATAL(t >= prev);
        if (b > 1)
            CU_ASSERT_FATAL(t <= prev * (double)b / (b - 1) + 1e-12);
        prev = t;
    }
    env_close(&e);
}

/* ---------------------------------------------------------- backends -- */

static void test_roofline_v1(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_ROOFLINE_V1);
    CU_ASSERT_EQUAL(lat_step_model_backend(e.sm), LAT_BACKEND_ROOFLINE_V1);
    LatBreakdown br;
    prefill_only(&e, 4096, 0, &br);
    /* Same FLOPs, one constant MFU: each GEMM max(2mkn / (peak·0.62), bytes / BW_eff). */
    const double peak = 989.4e12 * e.params.v1_mfu_prefill, bw = 3.35e12 * e.params.bw_efficiency;
    const double kn[4][2] = {{4096, 6144}, {4096, 4096}, {4096, 28672}, {14336, 4096}};
    double proj = 0;
    for (guint i = 0; i < 4; i++)
        proj += 32 * fmax(2.0 * 4096 * kn[i][0] * kn[i][1] / peak, kn[i][0] * kn[i][1] * 2 / bw);
    CU_ASSERT(near(comp_s(&br, "projections"), proj, 1e-12));
    double attn = 32 * (4.0 * 32 * 128 * 4096.0 * 4096 / 2) / peak;
    CU_ASSERT(near(comp_s(&br, "attention_prefill"), attn, 1e-12));
    CU_ASSERT_TRUE(comp(&br, "projections")->estimated);
    SS_ASSERT_CONTAINS(comp(&br, "projections")->source, "roofline-v1");
    /* v1 and v2 agree within 20% on a big prefill (both compute-bound near 0.6). */
    Env e2;
    env_open(&e2, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    double t1 = prefill_only(&e, 4096, 0, NULL), t2 = prefill_only(&e2, 4096, 0, NULL);
    CU_ASSERT(near(t1, t2, 0.2));
    env_close(&e2);
    env_close(&e);
}

static void test_fallbacks(void)
{
    /* A GPU without tables: AUTO resolves to v1. */
    Env e;
    env_open(&e, "llama-3.1-8b", "A100-SXM-80GB", 1, LAT_BACKEND_AUTO);
    CU_ASSERT_EQUAL(lat_step_model_backend(e.sm), LAT_BACKEND_ROOFLINE_V1);
    env_close(&e);
    /* v2 asked on it: every MFU part is the v1 estimate, marked with the reason. */
    env_open(&e, "llama-3.1-8b", "A100-SXM-80GB", 1, LAT_BACKEND_ROOFLINE_V2);
    CU_ASSERT_EQUAL(lat_step_model_backend(e.sm), LAT_BACKEND_ROOFLINE_V2);
    LatBreakdown br;
    Batch x;
    batch_init(&x);
    add_prefill(&x, 1000, 0);
    add_decodes(&x, 10, 500);
    step(&e, &x, &br);
    for (guint i = 0; i < br.num_components; i++) {
        const LatComponent *c = &br.components[i];
        if (c->bound == LAT_BOUND_FIXED)
            continue;
        CU_ASSERT_TRUE(c->estimated);
        SS_ASSERT_CONTAINS(c->source, "no MFU tables");
    }
    batch_desc_release(&x.b);
    env_close(&e);
    /* MLA has no table on H100: attention estimated, projections measured. */
    env_open(&e, "deepseek-v2-lite", "H100-SXM", 1, LAT_BACKEND_AUTO);
    batch_init(&x);
    add_prefill(&x, 1000, 0);
    add_decodes(&x, 10, 500);
    step(&e, &x, &br);
    CU_ASSERT_TRUE(comp(&br, "attention_prefill")->estimated);
    CU_ASSERT_TRUE(comp(&br, "attention_decode")->estimated);
    CU_ASSERT_FALSE(comp(&br, "projections")->estimated);
    SS_ASSERT_CONTAINS(comp(&br, "attention_decode")->source, "no decode-attention table");
    batch_desc_release(&x.b);
    env_close(&e);
    /* On H800 the MLA and grouped-GEMM tables serve DeepSeek-V3. */
    env_open(&e, "deepseek-v3", "H800-SXM", 8, LAT_BACKEND_AUTO);
    batch_init(&x);
    add_decodes(&x, 64, 4096);
    step(&e, &x, &br);
    CU_ASSERT_FALSE(comp(&br, "attention_decode")->estimated);
    SS_ASSERT_CONTAINS(comp(&br, "attention_decode")->source, "mla/decode/h800/128-512-64.csv");
    SS_ASSERT_CONTAINS(comp(&br, "moe_experts")->source, "grouped_gemm/decode/h800/data.csv");
    batch_desc_release(&x.b);
    env_close(&e);
}

static void test_errors(void)
{
    GError *error = NULL;
    g_autoptr(LatModelDesc) m = lat_model_desc_load("llama-3.1-8b", ss_test_data_dir(), &error);
    g_autoptr(LatHardwareTable) t = lat_hardware_table_load(ss_test_data_dir(), NULL, &error);
    const LatHardware *hw = lat_hardware_table_find(t, "H100-SXM", &error);
    LatParams p;
    lat_params_default(&p);
    LatStepModel *sm = lat_step_model_new(m, hw, 3, NULL, &p, 1024, &error);
    CU_ASSERT_PTR_NULL(sm);
    CU_ASSERT(error && g_error_matches(error, SS_ERROR, SS_ERROR_INPUT));
    SS_ASSERT_CONTAINS(error->message, "tensor-parallel size 3 does not divide its 32 attention heads");
    g_clear_error(&error);
    p.bw_efficiency = 1.5;
    sm = lat_step_model_new(m, hw, 1, NULL, &p, 1024, &error);
    CU_ASSERT_PTR_NULL(sm);
    CU_ASSERT(error && g_error_matches(error, SS_ERROR, SS_ERROR_USAGE));
    SS_ASSERT_CONTAINS(error->message, "'bw_efficiency'");
    g_clear_error(&error);
    lat_params_default(&p);
    g_autoptr(LatModelDesc) hy = lat_model_desc_load("qwen3-next-80b-a3b", ss_test_data_dir(), &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hy);
    sm = lat_step_model_new(hy, hw, 1, NULL, &p, 1024, &error);
    CU_ASSERT_PTR_NULL(sm);
    SS_ASSERT_CONTAINS(error ? error->message : "", "linear-attention");
    g_clear_error(&error);
    /* An empty step takes no time. */
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    BatchDesc empty = {0};
    CU_ASSERT_EQUAL(lat_step_model_seconds(e.sm, &empty), 0.0);
    env_close(&e);
    CU_ASSERT(lat_backend_parse("roofline-v2", &p.backend) && p.backend == LAT_BACKEND_ROOFLINE_V2);
    CU_ASSERT_FALSE(lat_backend_parse("v3", &p.backend));
}

static void test_breakdown_matches_seconds(void)
{
    const char *models[] = {"llama-3.1-8b", "mixtral-8x7b-v0.1", "qwen3-30b-a3b", "codellama-34b-instruct-hf"};
    const guint tps[] = {1, 2, 1, 4};
    GRand *rng = g_rand_new_with_seed(7);
    for (guint mi = 0; mi < G_N_ELEMENTS(models); mi++) {
        Env e;
        env_open(&e, models[mi], "H100-SXM", tps[mi], LAT_BACKEND_AUTO);
        for (int round = 0; round < 50; round++) {
            Batch x;
            batch_init(&x);
            guint np = (guint)g_rand_int_range(rng, 0, 4), nd = (guint)g_rand_int_range(rng, 0, 300);
            for (guint i = 0; i < np; i++)
                batch_desc_push(&x.b, (guint32)g_rand_int_range(rng, 2, 3000), (guint32)g_rand_int_range(rng, 0, 20000),
                                g_rand_boolean(rng));
            for (guint i = 0; i < nd; i++)
                batch_desc_push(&x.b, 1, (guint32)g_rand_int_range(rng, 0, 30000), true);
            if (x.b.num_entries)
                step(&e, &x, NULL); /* asserts breakdown == seconds */
            /* twice: the cached path gives the same value */
            double a = lat_step_model_seconds(e.sm, &x.b), b = lat_step_model_seconds(e.sm, &x.b);
            CU_ASSERT_EQUAL(a, b);
            batch_desc_release(&x.b);
        }
        env_close(&e);
    }
    g_rand_free(rng);
}

/* ------------------------------------------------------------- speed -- */

static double ns_per_step(LatStepModel *sm, const BatchDesc *b, long iters)
{
    volatile double sink = 0;
    for (long i = 0; i < 1000; i++)
        sink += lat_step_model_seconds(sm, b);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < iters; i++)
        sink += lat_step_model_seconds(sm, b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    (void)sink;
    return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / iters;
}

static void test_speed(void)
{
    Env e;
    env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    Batch dec, mix_first, mix_last;
    batch_init(&dec);
    batch_init(&mix_first);
    batch_init(&mix_last);
    add_decodes(&dec, 256, 2048);
    add_prefill(&mix_first, 512, 1024);
    add_decodes(&mix_first, 200, 2048);
    add_decodes(&mix_last, 200, 2048);
    add_prefill(&mix_last, 512, 1024);
    double a = ns_per_step(e.sm, &dec.b, 2000000);
    double b = ns_per_step(e.sm, &mix_first.b, 2000000);
    double c = ns_per_step(e.sm, &mix_last.b, 1000000);
    printf("\n  lat_step_model_seconds: %.1f ns (256 decodes), %.1f ns (prefill + 200 decodes), "
           "%.1f ns (200 decodes + prefill, scanned)\n  ",
           a, b, c);
    /* generous bounds: sanitizer builds are several times slower */
    CU_ASSERT(a < 2000);
    CU_ASSERT(b < 4000);
    batch_desc_release(&dec.b);
    batch_desc_release(&mix_first.b);
    batch_desc_release(&mix_last.b);
    env_close(&e);
}

static const SsTestCase fix_cases[] = {{"fix1_gemm_m_is_tokens", test_fix1_gemm_m_is_tokens},
                                       {"fix2_causal_flops", test_fix2_causal_flops},
                                       {"fix3_no_1_8", test_fix3_no_1_8},
                                       {"fix4_tokens_not_requests", test_fix4_tokens_not_requests},
                                       {"fix5_mfu_by_new_tokens", test_fix5_mfu_by_new_tokens},
                                       {"one_forward_pass", test_one_forward_pass},
                                       {"tp_per_gpu_shapes", test_tp_per_gpu_shapes},
                                       {"decode_table_per_tp", test_decode_table_per_tp},
                                       {"memory_floor_batch1", test_memory_floor_batch1},
                                       {NULL, NULL}};

static const SsTestCase scaling_cases[] = {{"monotonic_sweeps", test_monotonic_sweeps},
                                           {"tp2_faster_not_2x", test_tp2_faster_not_2x},
                                           {"moe_expert_weights", test_moe_expert_weights},
                                           {NULL, NULL}};

static const SsTestCase hand_cases[] = {{"llama31_8b_prefill", test_hand_llama31_8b_prefill},
                                        {"mixtral_decode_tp2", test_hand_mixtral_decode},
    {"bf16_decode_smooth", test_bf16_decode_smooth},
                                        {NULL, NULL}};

static const SsTestCase backend_cases[] = {{"roofline_v1", test_roofline_v1},
                                           {"fallbacks", test_fallbacks},
                                           {"errors", test_errors},
                                           {"breakdown_matches_seconds", test_breakdown_matches_seconds},
                                           {"speed", test_speed},
                                           {NULL, NULL}};

static const SsTestSuite suites[] = {{"review_fixes", fix_cases},
                                     {"scaling", scaling_cases},
                                     {"hand_computed", hand_cases},
                                     {"backends", backend_cases},
                                     {NULL, NULL}};

int main(int argc, char **argv) { return ss_test_main(argc, argv, suites); }
