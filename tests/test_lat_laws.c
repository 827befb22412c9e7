/*
 * test_lat_laws.c: the laws every step-time model must obey, checked on every
 * GPU of data/hardware.json (with its own tables or another GPU's
 * transferred), for dense (GQA and MHA), MoE and MLA models, under
 * synchronous and async scheduling, with and without CUDA graphs, on random
 * batches (seeded):
 *   - adding work never makes a step faster: one more decode request, more KV
 *     for a decode, more new or cached tokens for a prefill chunk, one more
 *     chunk;
 *   - a GPU with more bandwidth and the same compute is never slower; nor one
 *     with more compute and the same bandwidth;
 * and the two cases that broke these laws before: Llama-3.1-8B, 256 decodes
 * of 1,024 tokens on an H200 and an A100 with and without a 2-token chunk,
 * and H200 against H100; and the attention of 2,048 new tokens after 30,000
 * cached ones, which must be timed by its real shape.
 * The engine options (docs/options/) obey the same laws on every GPU:
 * adding work never makes a step faster with FP8 or 4-bit weights, an FP8
 * KV cache, sliding-window layers (Gemma-3) or a drafter; verifying more
 * draft tokens, more LoRA tokens, adapters or adapter loads, more KV loaded
 * from host memory never make a step faster; an FP8 KV cache is never
 * slower than a 16-bit one on a decode step, nor a sliding window than full
 * attention.
 */
#include "lat_env.h"

typedef struct {
    guint32 t[48], p[48];
    guint n;
} Spec;

static double time_of(LatStepModel *sm, const Spec *s)
{
    BatchDesc b = {0};
    g_assert(batch_desc_reserve(&b, 64));
    for (guint i = 0; i < s->n; i++)
        batch_desc_push(&b, s->t[i], s->p[i], true);
    double t = lat_step_model_seconds(sm, &b);
    LatBreakdown br;
    lat_step_model_breakdown(sm, &b, &br);
    if (fabs(br.total_seconds - t) > 1e-12 * t) {
        fprintf(stderr, "\n  breakdown %.15g != seconds %.15g\n", br.total_seconds, t);
        CU_FAIL("breakdown and seconds differ");
    }
    batch_desc_release(&b);
    return t;
}

static void random_spec(GRand *r, Spec *s)
{
    memset(s, 0, sizeof *s);
    guint decodes = (guint)g_rand_int_range(r, 0, 40);
    for (guint i = 0; i < decodes; i++) {
        s->t[s->n] = 1;
        s->p[s->n++] = (guint32)g_rand_int_range(r, 0, 6000);
    }
    guint chunks = (guint)g_rand_int_range(r, decodes ? 0 : 1, 3);
    for (guint i = 0; i < chunks; i++) {
        s->t[s->n] = (guint32)g_rand_int_range(r, 2, 2048);
        s->p[s->n++] = g_rand_boolean(r) ? 0 : (guint32)g_rand_int_range(r, 0, 8000);
    }
}

/* One perturbation that adds work; FALSE when it does not apply. */
static gboolean add_work(GRand *r, const Spec *in, Spec *out, const char **what)
{
    *out = *in;
    switch (g_rand_int_range(r, 0, 5)) {
    case 0:
        if (out->n >= 48)
            return FALSE;
        out->t[out->n] = 1;
        out->p[out->n++] = (guint32)g_rand_int_range(r, 0, 6000);
        *what = "one more decode";
        return TRUE;
    case 1:
        if (out->n >= 48)
            return FALSE;
        out->t[out->n] = (guint32)g_rand_int_range(r, 2, 512);
        out->p[out->n++] = (guint32)g_rand_int_range(r, 0, 4000);
        *what = "one more prefill chunk";
        return TRUE;
    default:
        break;
    }
    if (out->n == 0)
        return FALSE;
    guint i = (guint)g_rand_int_range(r, 0, (gint32)out->n);
    if (g_rand_boolean(r)) {
        out->p[i] += (guint32)g_rand_int_range(r, 1, 1000);
        *what = out->t[i] == 1 ? "more KV for a decode" : "more cached tokens for a chunk";
    } else {
        if (out->t[i] == 1)
            return FALSE; /* a decode stays a decode */
        out->t[i] += (guint32)g_rand_int_range(r, 1, 600);
        *what = "more new tokens for a chunk";
    }
    return TRUE;
}

static const char *const models[] = {"llama-3.1-8b", "llama-2-7b-hf", "mixtral-8x7b-v0.1", "deepseek-v2-lite",
                                     "qwen3-30b-a3b"};

typedef void (*Prepare)(LatEnv *e, guint tp);

static void check_adding_work_with(const char *model, const char *gpu, guint tp, gboolean async, gboolean eager,
                                   guint32 seed, Prepare prep, guint *checked, guint *bad)
{
    LatEnv e;
    lat_env_open(&e, model, gpu, tp, LAT_BACKEND_AUTO);
    e.params.async_scheduling = async;
    e.params.enforce_eager = eager;
    e.params.cudagraph_max_size = 256;
    lat_env_rebuild(&e, tp);
    if (prep)
        prep(&e, tp);
    GRand *r = g_rand_new_with_seed(seed);
    for (int k = 0; k < 60; k++) {
        Spec a, b;
        const char *what = NULL;
        random_spec(r, &a);
        if (!add_work(r, &a, &b, &what))
            continue;
        double ta = time_of(e.sm, &a), tb = time_of(e.sm, &b);
        (*checked)++;
        if (tb < ta * (1 - 1e-12)) {
            (*bad)++;
            if (*bad <= 5)
                fprintf(stderr, "\n  %s on %s TP%u (%s%s): %s made the step faster: %.6g -> %.6g ms", model, gpu, tp,
                        async ? "async" : "sync", eager ? ", eager" : "", what, ta * 1e3, tb * 1e3);
        }
    }
    g_rand_free(r);
    lat_env_close(&e);
}

static void check_adding_work(const char *model, const char *gpu, guint tp, gboolean async, gboolean eager,
                              guint32 seed, guint *checked, guint *bad)
{
    check_adding_work_with(model, gpu, tp, async, eager, seed, NULL, checked, bad);
}

static void test_adding_work_never_faster(void)
{
    GError *error = NULL;
    LatHardwareTable *t = lat_hardware_table_load(ss_test_data_dir(), NULL, &error);
    g_assert_no_error(error);
    guint checked = 0, bad = 0;
    for (guint g = 0; g < lat_hardware_table_size(t); g++) {
        const char *gpu = lat_hardware_table_get(t, g)->name;
        for (guint m = 0; m < G_N_ELEMENTS(models); m++) {
            guint tp = m == 2 ? 2 : 1;
            check_adding_work(models[m], gpu, tp, g % 2 == 0, FALSE, 1000 * g + m, &checked, &bad);
            check_adding_work(models[m], gpu, tp, g % 2 == 1, m == 0, 2000 * g + m, &checked, &bad);
        }
    }
    fprintf(stderr, "\n  %u perturbations checked on %u GPUs", checked, lat_hardware_table_size(t));
    CU_ASSERT(checked > 500);
    CU_ASSERT_EQUAL(bad, 0);
    lat_hardware_table_free(t);
}

/* A copy of `gpu` with its bandwidth (or peaks) times `scale`, timed with
 * the same donors: never slower. */
static void check_faster_gpu(const char *model, const char *gpu, guint tp, gboolean bandwidth, guint *bad)
{
    LatEnv base, fast;
    lat_env_open(&base, model, gpu, tp, LAT_BACKEND_AUTO);
    lat_env_open(&fast, model, gpu, tp, LAT_BACKEND_AUTO);
    fast.custom = *fast.hw;
    if (bandwidth) {
        fast.custom.mem_bw_tbs *= 1.43;
    } else {
        fast.custom.bf16_tflops *= 1.5;
        fast.custom.fp8_tflops *= 1.5;
    }
    const LatHardware *orig = fast.hw;
    fast.hw = &fast.custom;
    lat_step_model_free(fast.sm);
    fast.sm = NULL;
    for (guint i = 0; i < fast.nsrc; i++)
        lat_mfu_db_free(fast.dbs[i]);
    lat_env_build(&fast, tp, LAT_BACKEND_AUTO, orig);
    GRand *r = g_rand_new_with_seed(77);
    for (int k = 0; k < 40; k++) {
        Spec s;
        random_spec(r, &s);
        double a = time_of(base.sm, &s), b = time_of(fast.sm, &s);
        if (b > a * (1 + 1e-12)) {
            (*bad)++;
            if (*bad <= 5)
                fprintf(stderr, "\n  %s on %s with more %s: %.6g -> %.6g ms", model, gpu,
                        bandwidth ? "bandwidth" : "compute", a * 1e3, b * 1e3);
        }
    }
    g_rand_free(r);
    lat_env_close(&base);
    lat_env_close(&fast);
}

static void test_faster_gpu_never_slower(void)
{
    GError *error = NULL;
    LatHardwareTable *t = lat_hardware_table_load(ss_test_data_dir(), NULL, &error);
    g_assert_no_error(error);
    guint bad = 0;
    for (guint g = 0; g < lat_hardware_table_size(t); g++) {
        const char *gpu = lat_hardware_table_get(t, g)->name;
        check_faster_gpu("llama-3.1-8b", gpu, 1, TRUE, &bad);
        check_faster_gpu("llama-3.1-8b", gpu, 1, FALSE, &bad);
        check_faster_gpu("mixtral-8x7b-v0.1", gpu, 2, TRUE, &bad);
    }
    CU_ASSERT_EQUAL(bad, 0);
    lat_hardware_table_free(t);
}

static double decodes_with_chunk(LatEnv *e, guint32 n, guint32 kv, guint32 chunk)
{
    Spec s = {0};
    for (guint i = 0; i < n && i < 47; i++) {
        s.t[s.n] = 1;
        s.p[s.n++] = kv - 1;
    }
    BatchDesc b = {0};
    g_assert(batch_desc_reserve(&b, n + 1));
    lat_env_decodes(&b, n, kv);
    if (chunk)
        batch_desc_push(&b, chunk, 0, false);
    double t = lat_step_model_seconds(e->sm, &b);
    batch_desc_release(&b);
    return t;
}

/* The cases of the issue that found the phase switch: a 2-token chunk used to
 * make 256 decodes faster on GPUs without tables (H200 23.5 -> 15.9 ms,
 * A100 65.1 -> 41.2 ms), and the H200 was slower than the H100. */
static void test_known_cases(void)
{
    const char *gpus[] = {"H200-SXM", "A100-SXM-80GB", "B200", "L40S", "H100-SXM"};
    double h100 = 0, h200 = 0;
    for (guint g = 0; g < G_N_ELEMENTS(gpus); g++) {
        LatEnv e;
        lat_env_open(&e, "llama-3.1-8b", gpus[g], 1, LAT_BACKEND_AUTO);
        double plain = decodes_with_chunk(&e, 256, 1024, 0);
        double chunk = decodes_with_chunk(&e, 256, 1024, 2);
        fprintf(stderr, "\n  %s: 256 x 1024 decodes %.2f ms, + a 2-token chunk %.2f ms", gpus[g], plain * 1e3,
                chunk * 1e3);
        CU_ASSERT(chunk >= plain);
        if (strcmp(gpus[g], "H100-SXM") == 0)
            h100 = plain;
        if (strcmp(gpus[g], "H200-SXM") == 0)
            h200 = plain;
        lat_env_close(&e);
    }
    CU_ASSERT(h200 < h100);
}

/* 2,048 new tokens after 30,000 cached: the attention is timed at the
 * efficiency of a prefill of equal causal work, sqrt(t^2 + 2tp) = 11,276
 * tokens, not at a 2,048-token prompt's (92 ms before). */
static void test_cached_prefix_attention(void)
{
    LatEnv e;
    lat_env_open(&e, "llama-3.1-8b", "H100-SXM", 1, LAT_BACKEND_AUTO);
    BatchDesc b = {0};
    g_assert(batch_desc_reserve(&b, 1));
    batch_desc_push(&b, 2048, 30000, true);
    LatBreakdown br;
    lat_step_model_breakdown(e.sm, &b, &br);
    const LatComponent *a = lat_env_comp(&br, "attention_prefill");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    double flops = 32 * lat_flops_attn_prefill(LAT_ATTN_MHA, 32, 128, 128, 2048, 30000);
    CU_ASSERT(fabs(a->flops - flops) <= 1e-9 * flops);
    fprintf(stderr, "\n  attention of 2048 after 30000 cached: %.1f ms (%.0f TFLOP/s)", a->seconds * 1e3,
            a->flops / a->seconds / 1e12);
    CU_ASSERT(a->seconds > 0.035 && a->seconds < 0.060);
    /* its efficiency is the table's at the equal-work length, more than a 2k prompt's */
    BatchDesc short_b = {0};
    g_assert(batch_desc_reserve(&short_b, 1));
    batch_desc_push(&short_b, 2048, 0, true);
    LatBreakdown brs;
    lat_step_model_breakdown(e.sm, &short_b, &brs);
    const LatComponent *s = lat_env_comp(&brs, "attention_prefill");
    CU_ASSERT(a->flops / a->seconds > 1.2 * s->flops / s->seconds);
    batch_desc_release(&b);
    batch_desc_release(&short_b);
    lat_env_close(&e);
}


/* ----------------------------------------------------- engine options -- */

static void prep_fp8(LatEnv *e, guint tp)
{
    g_assert(lat_model_apply_quantization(e->model, "fp8", NULL));
    lat_env_rebuild(e, tp);
}

static void prep_awq(LatEnv *e, guint tp)
{
    g_assert(lat_model_apply_quantization(e->model, "awq", NULL));
    lat_env_rebuild(e, tp);
}

static void prep_kv_fp8(LatEnv *e, guint tp)
{
    g_assert(lat_model_apply_kv_cache_dtype(e->model, "fp8", NULL));
    lat_env_rebuild(e, tp);
}

/* An EAGLE-3 head drafting 3 tokens. */
static void prep_eagle3(LatEnv *e, guint tp)
{
    GError *error = NULL;
    e->draft = lat_model_draft_head(e->model, LAT_DRAFT_EAGLE3, 0);
    LatStepModel *d = lat_step_model_new(e->draft, e->hw, tp, e->src, e->nsrc, &e->params, 16384, &error);
    g_assert_no_error(error);
    lat_step_model_set_draft(e->sm, d, 3);
}

static void test_options_adding_work_never_faster(void)
{
    GError *error = NULL;
    LatHardwareTable *t = lat_hardware_table_load(ss_test_data_dir(), NULL, &error);
    g_assert_no_error(error);
    static const struct {
        const char *model;
        guint tp;
        Prepare prep;
    } cases[] = {
        {"llama-3.1-8b", 1, prep_fp8},    {"llama-3.1-8b", 1, prep_awq},   {"llama-3.1-8b", 1, prep_kv_fp8},
        {"llama-3.1-8b", 1, prep_eagle3}, {"mixtral-8x7b-v0.1", 2, prep_awq}, {"gemma-3-27b-it", 1, NULL},
        {"qwen3-30b-a3b", 1, prep_fp8},
    };
    guint checked = 0, bad = 0;
    for (guint g = 0; g < lat_hardware_table_size(t); g++) {
        const char *gpu = lat_hardware_table_get(t, g)->name;
        for (guint c = 0; c < G_N_ELEMENTS(cases); c++)
            check_adding_work_with(cases[c].model, gpu, cases[c].tp, (g + c) % 2 == 0, FALSE, 3000 * g + c, cases[c].prep,
                                   &checked, &bad);
    }
    fprintf(stderr, "\n  %u perturbations checked with the options on", checked);
    CU_ASSERT(checked > 1000);
    CU_ASSERT_EQUAL(bad, 0);
    lat_hardware_table_free(t);
}

/* A step of `s` whose decodes verify spec_k drafts each, with LoRA and KV
 * loads as given; also checks that the breakdown sums to the same time. */
static double time_options(LatStepModel *sm, const Spec *s, guint spec_k, double lora_share, guint adapters,
                           guint loads, guint64 kv_load)
{
    BatchDesc b = {0};
    g_assert(batch_desc_reserve(&b, 64));
    for (guint i = 0; i < s->n; i++) {
        if (s->t[i] == 1 && spec_k)
            batch_desc_push_spec(&b, spec_k, s->p[i]);
        else
            batch_desc_push(&b, s->t[i], s->p[i], true);
    }
    b.lora_tokens = (uint64_t)(lora_share * b.total_tokens);
    b.lora_adapters = b.lora_tokens ? adapters : 0;
    b.lora_loads = b.lora_disk_loads = b.lora_tokens ? loads : 0;
    b.kv_load_tokens = kv_load;
    double t = lat_step_model_seconds(sm, &b);
    LatBreakdown br;
    lat_step_model_breakdown(sm, &b, &br);
    if (fabs(br.total_seconds - t) > 1e-12 * t) {
        fprintf(stderr, "\n  breakdown %.15g != seconds %.15g\n", br.total_seconds, t);
        CU_FAIL("breakdown and seconds differ");
    }
    batch_desc_release(&b);
    return t;
}

/* More draft tokens verified, more LoRA tokens, adapters or loads, more KV
 * loaded from host memory: never a faster step (every GPU). */
static void test_option_terms_never_faster(void)
{
    GError *error = NULL;
    LatHardwareTable *t = lat_hardware_table_load(ss_test_data_dir(), NULL, &error);
    g_assert_no_error(error);
    guint checked = 0, bad = 0;
    for (guint g = 0; g < lat_hardware_table_size(t); g++) {
        const char *gpu = lat_hardware_table_get(t, g)->name;
        LatEnv e;
        lat_env_open(&e, "llama-3.1-8b", gpu, 1, LAT_BACKEND_AUTO);
        prep_eagle3(&e, 1);
        lat_step_model_set_lora(e.sm, 16);
        lat_step_model_set_offload(e.sm, TRUE);
        GRand *r = g_rand_new_with_seed(500 + g);
        for (int k = 0; k < 30; k++) {
            Spec s;
            random_spec(r, &s);
            double prev = 0;
            const char *what[] = {"spec 0", "spec 1", "spec 2", "spec 4", "lora half", "lora all", "4 adapters",
                                  "1 load", "2 loads", "kv 1000", "kv 100000"};
            double v[11] = {
                time_options(e.sm, &s, 0, 0, 0, 0, 0),      time_options(e.sm, &s, 1, 0, 0, 0, 0),
                time_options(e.sm, &s, 2, 0, 0, 0, 0),      time_options(e.sm, &s, 4, 0, 0, 0, 0),
                time_options(e.sm, &s, 4, 0.5, 1, 0, 0),    time_options(e.sm, &s, 4, 1.0, 1, 0, 0),
                time_options(e.sm, &s, 4, 1.0, 4, 0, 0),    time_options(e.sm, &s, 4, 1.0, 4, 1, 0),
                time_options(e.sm, &s, 4, 1.0, 4, 2, 0),    time_options(e.sm, &s, 4, 1.0, 4, 2, 1000),
                time_options(e.sm, &s, 4, 1.0, 4, 2, 100000),
            };
            for (guint i = 0; i < G_N_ELEMENTS(v); i++) {
                checked++;
                if (v[i] < prev * (1 - 1e-12)) {
                    bad++;
                    if (bad <= 5)
                        fprintf(stderr, "\n  %s: %s made the step faster: %.6g -> %.6g ms", gpu, what[i], prev * 1e3,
                                v[i] * 1e3);
                }
                prev = v[i];
            }
        }
        g_rand_free(r);
        lat_env_close(&e);
    }
    CU_ASSERT(checked > 1000);
    CU_ASSERT_EQUAL(bad, 0);
    lat_hardware_table_free(t);
}

/* An FP8 KV cache never makes a step slower than a 16-bit one (it halves
 * KV bytes and changes no FLOP); decode steps, memory-bound, get faster; a
 * sliding window never makes a step slower than full attention. */
static void test_fp8_kv_and_window_not_slower(void)
{
    GError *error = NULL;
    LatHardwareTable *t = lat_hardware_table_load(ss_test_data_dir(), NULL, &error);
    g_assert_no_error(error);
    guint bad = 0, faster = 0, decode_steps = 0;
    for (guint g = 0; g < lat_hardware_table_size(t); g++) {
        const char *gpu = lat_hardware_table_get(t, g)->name;
        LatEnv bf, f8, win, full;
        lat_env_open(&bf, "llama-3.1-8b", gpu, 1, LAT_BACKEND_AUTO);
        lat_env_open(&f8, "llama-3.1-8b", gpu, 1, LAT_BACKEND_AUTO);
        prep_kv_fp8(&f8, 1);
        lat_env_open(&win, "gemma-3-27b-it", gpu, 1, LAT_BACKEND_AUTO);
        lat_env_open(&full, "gemma-3-27b-it", gpu, 1, LAT_BACKEND_AUTO);
        lat_model_disable_sliding_window(full.model);
        lat_env_rebuild(&full, 1);
        GRand *r = g_rand_new_with_seed(900 + g);
        for (int k = 0; k < 40; k++) {
            Spec s;
            random_spec(r, &s);
            double a = time_of(bf.sm, &s), b = time_of(f8.sm, &s);
            if (b > a * (1 + 1e-12)) {
                bad++;
                fprintf(stderr, "\n  %s: FP8 KV slower: %.6g -> %.6g ms", gpu, a * 1e3, b * 1e3);
            }
            gboolean decode_only = TRUE;
            for (guint i = 0; i < s.n; i++)
                decode_only = decode_only && s.t[i] == 1;
            if (decode_only && s.n > 8) {
                decode_steps++;
                faster += b < a;
            }
            double w = time_of(win.sm, &s), f = time_of(full.sm, &s);
            if (w > f * (1 + 1e-12)) {
                bad++;
                fprintf(stderr, "\n  %s: the window is slower than full attention: %.6g -> %.6g ms", gpu, f * 1e3,
                        w * 1e3);
            }
        }
        g_rand_free(r);
        lat_env_close(&bf);
        lat_env_close(&f8);
        lat_env_close(&win);
        lat_env_close(&full);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(decode_steps > 10);
    CU_ASSERT_EQUAL(faster, decode_steps); /* the KV stream is part of every decode step */
    lat_hardware_table_free(t);
}

static const SsTestCase law_cases[] = {
    {"adding work never makes a step faster (every GPU, random batches)", test_adding_work_never_faster},
    {"more bandwidth or compute is never slower (every GPU)", test_faster_gpu_never_slower},
    {"known cases: 2-token chunk on H200/A100, H200 vs H100", test_known_cases},
    {"attention after a long cached prefix by its real shape", test_cached_prefix_attention},
    {"options: adding work never makes a step faster (quantized, FP8 KV, window, draft)",
     test_options_adding_work_never_faster},
    {"options: more drafts, LoRA or KV loads never make a step faster", test_option_terms_never_faster},
    {"options: FP8 KV and sliding windows never slower", test_fp8_kv_and_window_not_slower},
    {NULL, NULL}};

static const SsTestSuite suites[] = {{"laws", law_cases}, {NULL, NULL}};

int main(int argc, char **argv) { return ss_test_main(argc, argv, suites); }
