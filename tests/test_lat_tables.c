/*
 * test_lat_tables.c: the MFU database against the measured rows.
 *
 * Reference-model tests: every row of every shipped table (GEMM, prefill and
 * decode attention, MLA, grouped GEMM) is read here independently with
 * libcsv, and the model's time for that single kernel (FLOPs by the table's
 * convention divided by the looked-up rate) must equal the row's latency_us.
 * A second check recomputes the time from the row's rounded mfu column and
 * the datasheet peak, which proves the FLOP conventions (halved causal
 * prefill, per-GPU decode heads) are the tables'. Then the loader's
 * tolerances and errors: header-less files, zero-MFU rows, sparse grids,
 * malformed rows with file:line:column.
 */
#include <csv.h>
#include <glib/gstdio.h>
#include <math.h>

#include "lat.h"
#include "lat_mfu.h"
#include "ss_error.h"
#include "ss_test.h"

/* ------------------------------------------------ independent CSV reader -- */

typedef struct {
    GPtrArray *rows; /* GStrv */
    GPtrArray *cur;
} Rd;

static void rd_field(void *s, size_t len, void *data)
{
    Rd *r = data;
    g_ptr_array_add(r->cur, g_strndup(s, len));
}

static void rd_row(int c, void *data)
{
    (void)c;
    Rd *r = data;
    g_ptr_array_add(r->cur, NULL);
    g_ptr_array_add(r->rows, g_ptr_array_free(r->cur, FALSE));
    r->cur = g_ptr_array_new();
}

/* All records of a CSV file, header included when present. */
static GPtrArray *read_csv(const char *path)
{
    char *text = NULL;
    gsize len = 0;
    g_assert(g_file_get_contents(path, &text, &len, NULL));
    struct csv_parser p;
    csv_init(&p, 0);
    Rd r = {g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev), g_ptr_array_new()};
    csv_parse(&p, text, len, rd_field, rd_row, &r);
    csv_fini(&p, rd_field, rd_row, &r);
    csv_free(&p);
    g_ptr_array_free(r.cur, TRUE);
    g_free(text);
    return r.rows;
}

static double num(const char *s) { return g_ascii_strtod(s, NULL); }

/* Half a unit of the last decimal written: the rounding of an mfu column. */
static double rounding_of(const char *s)
{
    const char *dot = strchr(s, '.');
    guint n = 0;
    for (const char *p = dot ? dot + 1 : s + strlen(s); g_ascii_isdigit(*p); p++)
        n++;
    return 0.5 * pow(10.0, -(double)MAX(n, 1u));
}

/* Rows whose latency and mfu columns disagree beyond rounding + 5% are
 * treated as missing by the loader (seen across all files). */
static guint inconsistent_rows;

static char *data_path(const char *rel) { return g_build_filename(ss_test_data_dir(), "mfu", rel, NULL); }

static LatMfuDb *load_db(const char *gpu)
{
    GError *error = NULL;
    LatMfuDb *db = lat_mfu_db_load(ss_test_data_dir(), gpu, &error);
    if (!db)
        fprintf(stderr, "\n  %s\n", error->message);
    g_clear_error(&error);
    return db;
}

/* |a - b| <= rel * |b| */
static gboolean near(double a, double b, double rel) { return fabs(a - b) <= rel * fabs(b); }

static const double FP8_PEAK[] = {1978.9e12, 1979.0e12, 296.0e12};  /* h100, h800, h20 (hardware.json) */
static const double BF16_PEAK[] = {989.4e12, 989.0e12, 148.0e12};
static const char *const GPUS[] = {"h100", "h800", "h20"};

/* --------------------------------------------------------------- GEMM -- */

static void test_gemm_rows_reproduced(void)
{
    guint checked = 0;
    for (guint g = 0; g < 3; g++) {
        LatMfuDb *db = load_db(GPUS[g]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(db);
        char *rel = g_build_filename("gemm", GPUS[g], "data.csv", NULL);
        char *path = data_path(rel);
        GPtrArray *rows = read_csv(path);
        for (guint i = 1; i < rows->len; i++) {
            char **f = g_ptr_array_index(rows, i);
            double m = num(f[0]), k = num(f[1]), n = num(f[2]), lat = num(f[3]) * 1e-6, mfu = num(f[4]);
            gboolean exact = FALSE;
            const LatMfuCurve *c = lat_mfu_gemm_curve(db, (guint)k, (guint)n, &exact);
            CU_ASSERT_FATAL(c != NULL && exact);
            double t = lat_flops_gemm(m, k, n) / lat_mfu_curve_rate(c, m, NULL, 0);
            gboolean ok = near(t, lat, 1e-9);
            if (!ok)
                fprintf(stderr, "\n  %s line %u: model %.6g s, row %.6g s\n", rel, i + 1, t, lat);
            CU_ASSERT(ok);
            /* The file's own (rounded) MFU against the FP8 peak gives the same time. */
            double t_file = lat_flops_gemm(m, k, n) / (FP8_PEAK[g] * mfu);
            CU_ASSERT(fabs(t_file - lat) <= lat * (rounding_of(f[4]) / mfu + 0.002));
            checked++;
        }
        g_ptr_array_free(rows, TRUE);
        g_free(path);
        g_free(rel);
        lat_mfu_db_free(db);
    }
    CU_ASSERT(checked == 112 + 110 + 402);
}

/* ------------------------------------------------ attention: prefill -- */

/* Calls fn on every csv of data/mfu/<sub>/<gpu>/. */
static guint for_files(const char *sub, const char *gpu, void (*fn)(const char *rel, const char *base, gpointer),
                       gpointer data)
{
    char *rel_dir = g_build_filename(sub, gpu, NULL);
    char *dir = data_path(rel_dir);
    GDir *d = g_dir_open(dir, 0, NULL);
    guint n = 0;
    const char *base;
    while (d && (base = g_dir_read_name(d))) {
        if (!g_str_has_suffix(base, ".csv"))
            continue;
        char *rel = g_build_filename(rel_dir, base, NULL);
        fn(rel, base, data);
        g_free(rel);
        n++;
    }
    if (d)
        g_dir_close(d);
    g_free(dir);
    g_free(rel_dir);
    return n;
}

typedef struct {
    LatMfuDb *db;
    guint gpu;
    LatAttnKind kind;
    guint rows;
} AttnCtx;

static void shape_of(const char *base, guint dims[3], guint *tp)
{
    char *stem = g_strndup(base, strlen(base) - 4);
    char **parts = g_strsplit(stem, "-", -1);
    for (guint i = 0; i < 3; i++)
        dims[i] = (guint)num(parts[i]);
    *tp = parts[3] ? (guint)num(parts[3] + 2) : 1;
    g_strfreev(parts);
    g_free(stem);
}

static void check_prefill_file(const char *rel, const char *base, gpointer data)
{
    AttnCtx *ctx = data;
    guint dims[3], tp;
    shape_of(base, dims, &tp);
    gboolean exact = FALSE;
    const LatMfuCurve *c = lat_mfu_attn_prefill_curve(ctx->db, ctx->kind, dims[0], dims[1], dims[2], 1, &exact);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT(exact);
    CU_ASSERT_STRING_EQUAL(lat_mfu_curve_file(c), rel);
    char *path = data_path(rel);
    GPtrArray *rows = read_csv(path);
    for (guint i = 1; i < rows->len; i++) {
        char **f = g_ptr_array_index(rows, i);
        double s = num(f[1]), lat = num(f[2]) * 1e-6, mfu = num(f[3]);
        /* t = S new tokens, p = 0: FLOPs 4·n_h·d_h·S²/2 (MLA: 2·n_h·(d_qk+d_v)·S²/2) */
        double flops = ctx->kind == LAT_ATTN_MLA
                           ? lat_flops_attn_prefill(LAT_ATTN_MLA, dims[0], dims[1] + dims[2], dims[1], s, 0)
                           : lat_flops_attn_prefill(LAT_ATTN_MHA, dims[0], dims[2], dims[2], s, 0);
        double t = flops / lat_mfu_curve_rate(c, s, NULL, 0);
        CU_ASSERT(near(t, lat, 1e-9));
        double t_file = flops / (BF16_PEAK[ctx->gpu] * mfu); /* BF16 peak, halved causal FLOPs */
        gboolean ok = fabs(t_file - lat) <= lat * (rounding_of(f[3]) / mfu + 0.003);
        if (!ok)
            fprintf(stderr, "\n  %s line %u: from mfu %.6g s, measured %.6g s\n", rel, i + 1, t_file, lat);
        CU_ASSERT(ok);
        ctx->rows++;
    }
    g_ptr_array_free(rows, TRUE);
    g_free(path);
}

static void test_prefill_rows_reproduced(void)
{
    guint files = 0, rows = 0;
    for (guint g = 0; g < 3; g++) {
        AttnCtx ctx = {load_db(GPUS[g]), g, LAT_ATTN_MHA, 0};
        CU_ASSERT_PTR_NOT_NULL_FATAL(ctx.db);
        files += for_files("mha/prefill", GPUS[g], check_prefill_file, &ctx);
        ctx.kind = LAT_ATTN_MLA;
        files += for_files("mla/prefill", GPUS[g], check_prefill_file, &ctx);
        rows += ctx.rows;
        lat_mfu_db_free(ctx.db);
    }
    CU_ASSERT_EQUAL(files, 12);
    CU_ASSERT_EQUAL(rows, 60);
}

/* ------------------------------------------------- attention: decode -- */

static void check_decode_file(const char *rel, const char *base, gpointer data)
{
    AttnCtx *ctx = data;
    guint dims[3], tp;
    shape_of(base, dims, &tp);
    gboolean exact = FALSE;
    const LatMfuGrid *g = lat_mfu_attn_decode_grid(ctx->db, ctx->kind, dims[0], dims[1], dims[2], tp, &exact);
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT(exact);
    CU_ASSERT_STRING_EQUAL(lat_mfu_grid_file(g), rel);
    guint h_gpu, kv_gpu, dh;
    lat_mfu_grid_heads(g, &h_gpu, &kv_gpu, &dh);
    CU_ASSERT_EQUAL(h_gpu, dims[0] / tp); /* per-GPU heads: the file's (tp-named) or the name's */
    char *path = data_path(rel);
    GPtrArray *rows = read_csv(path);
    char **head = g_ptr_array_index(rows, 0);
    guint first = strcmp(head[0], "dtype") == 0 ? 1 : 0; /* 64-2-128.csv on H20 has no header */
    for (guint i = first; i < rows->len; i++) {
        char **f = g_ptr_array_index(rows, i);
        if (strcmp(f[1], "bf16") != 0)
            continue; /* fp8 KV rows: not used (the KV cache is bf16) */
        double b = num(f[2]), kv = num(f[3]), lat = num(f[4]) * 1e-6, mfu = num(f[5]);
        if (mfu == 0.0)
            continue; /* rounded to zero: treated as missing (test_zero_rows_are_missing) */
        double flops = lat_flops_attn_decode(ctx->kind, h_gpu, ctx->kind == LAT_ATTN_MLA ? dims[1] : dims[2],
                                             ctx->kind == LAT_ATTN_MLA ? dims[2] : 0, b * kv);
        double t = flops / lat_mfu_grid_rate(g, b, kv, NULL, 0);
        /* Per-GPU heads with the BF16 peak reproduce the rounded mfu column:
         * the file already holds the per-GPU efficiency (no TP scaling). */
        double t_file = flops / (BF16_PEAK[ctx->gpu] * mfu);
        double round_rel = rounding_of(f[5]) / mfu;
        if (fabs(t_file - lat) > lat * (round_rel + 0.05)) {
            /* latency_us and mfu disagree: the row is treated as missing */
            fprintf(stderr, "\n  (inconsistent row, treated as missing: %s line %u)\n", rel, i + 1);
            CU_ASSERT(!near(t, lat, 0.05));
            inconsistent_rows++;
            continue;
        }
        gboolean ok = near(t, lat, 1e-9);
        if (!ok)
            fprintf(stderr, "\n  %s line %u: model %.6g s, row %.6g s\n", rel, i + 1, t, lat);
        CU_ASSERT(ok);
        ok = fabs(t_file - lat) <= lat * (round_rel + 0.01);
        if (!ok)
            fprintf(stderr, "\n  %s line %u: from mfu %.6g s, measured %.6g s\n", rel, i + 1, t_file, lat);
        CU_ASSERT(ok);
        ctx->rows++;
    }
    g_ptr_array_free(rows, TRUE);
    g_free(path);
}

static void test_decode_rows_reproduced(void)
{
    guint files = 0, rows = 0;
    for (guint g = 0; g < 3; g++) {
        AttnCtx ctx = {load_db(GPUS[g]), g, LAT_ATTN_MHA, 0};
        CU_ASSERT_PTR_NOT_NULL_FATAL(ctx.db);
        files += for_files("mha/decode", GPUS[g], check_decode_file, &ctx);
        ctx.kind = LAT_ATTN_MLA;
        files += for_files("mla/decode", GPUS[g], check_decode_file, &ctx);
        rows += ctx.rows;
        lat_mfu_db_free(ctx.db);
    }
    CU_ASSERT_EQUAL(files, 36);
    CU_ASSERT_EQUAL(rows, 1475); /* bf16 rows with a non-zero mfu, less the inconsistent one */
    /* One row in all the decode tables: mha/decode/h20/32-4-128.csv line 25
     * (batch 64, kv 8192: 639.371 µs, about the time of kv 16384, while its
     * mfu 0.165 matches its neighbours). */
    CU_ASSERT_EQUAL(inconsistent_rows, 1);
}

/* ------------------------------------------------------ grouped GEMM -- */

static void check_grouped(LatMfuDb *db, const char *rel, GHashTable *seen, guint *count, guint *dups)
{
    char *path = data_path(rel);
    GPtrArray *rows = read_csv(path);
    for (guint i = 1; i < rows->len; i++) {
        char **f = g_ptr_array_index(rows, i);
        /* The decode and prefill tables of one configuration form one curve
         * over tokens per GPU; where both measured the same x, the prefill
         * table's row (read first) is kept. */
        char *key = g_strjoin(",", f[0], f[1], f[3], f[4], f[5], f[6], NULL);
        if (g_hash_table_contains(seen, key)) {
            (*dups)++;
            g_free(key);
            continue;
        }
        g_hash_table_add(seen, key);
        guint E = (guint)num(f[0]), gpus = (guint)num(f[1]), topk = (guint)num(f[3]), h = (guint)num(f[4]),
              inter = (guint)num(f[5]);
        double x = num(f[6]);
        LatMfuGrouped gg;
        CU_ASSERT_FATAL(lat_mfu_grouped_gemm(db, E, topk, h, inter, gpus, &gg));
        CU_ASSERT(gg.exact);
        /* One GPU of an expert-parallel group: x tokens, each to top-k experts. */
        double f_up = 2.0 * x * topk * h * 2.0 * inter, f_down = 2.0 * x * topk * inter * h;
        double t_up = f_up / lat_mfu_curve_rate(gg.up, x, NULL, 0);
        double t_down = f_down / lat_mfu_curve_rate(gg.down, x, NULL, 0);
        gboolean ok = near(t_up, num(f[8]) * 1e-6, 1e-9) &&
                      near(t_down, num(f[10]) * 1e-6, 1e-9);
        if (!ok)
            fprintf(stderr, "\n  %s line %u: up %.6g/%.6g down %.6g/%.6g\n", rel, i + 1, t_up, num(f[8]) * 1e-6,
                    t_down, num(f[10]) * 1e-6);
        CU_ASSERT(ok);
        (*count)++;
    }
    g_ptr_array_free(rows, TRUE);
    g_free(path);
}

static void test_grouped_rows_reproduced(void)
{
    guint count = 0, dups = 0;
    const char *gpus[] = {"h800", "h20"};
    for (guint g = 0; g < 2; g++) {
        LatMfuDb *db = load_db(gpus[g]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(db);
        GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        char *p = g_build_filename("grouped_gemm", "prefill", gpus[g], "data.csv", NULL);
        char *d = g_build_filename("grouped_gemm", "decode", gpus[g], "data.csv", NULL);
        check_grouped(db, p, seen, &count, &dups);
        check_grouped(db, d, seen, &count, &dups);
        g_hash_table_destroy(seen);
        g_free(p);
        g_free(d);
        lat_mfu_db_free(db);
    }
    CU_ASSERT_EQUAL(count + dups, 24 + 47 + 160 + 266);
    CU_ASSERT_EQUAL(dups, 2); /* h20, 512 experts on 4 and 8 GPUs at 1024 tokens */
}

/* -------------------------------------------------------- lookup rules -- */

static void test_interpolation_and_clamping(void)
{
    LatMfuDb *db = load_db("h100");
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    gboolean exact;
    const LatMfuCurve *c = lat_mfu_gemm_curve(db, 4096, 6144, &exact);
    CU_ASSERT(exact);
    /* rows: m=1024 25.754..., m=4096 167.988 µs (4096,6144 at line 64/66) */
    double r1024 = lat_mfu_curve_rate(c, 1024, NULL, 0), r4096 = lat_mfu_curve_rate(c, 4096, NULL, 0);
    double mid = lat_mfu_curve_rate(c, 2560, NULL, 0);
    CU_ASSERT(near(mid, 0.5 * (r1024 + r4096), 1e-12)); /* linear in m */
    /* Clamped at both ends: below the first row and above the last. */
    CU_ASSERT(near(lat_mfu_curve_rate(c, 1, NULL, 0), lat_mfu_curve_rate(c, 8, NULL, 0), 1e-12));
    CU_ASSERT(near(lat_mfu_curve_rate(c, 1e6, NULL, 0), lat_mfu_curve_rate(c, 131072, NULL, 0), 1e-12));
    char src[200];
    lat_mfu_curve_rate(c, 2560, src, sizeof src);
    SS_ASSERT_CONTAINS(src, "gemm/h100/data.csv");
    SS_ASSERT_CONTAINS(src, "lines 65-66");
    lat_mfu_curve_rate(c, 3, src, sizeof src);
    SS_ASSERT_CONTAINS(src, "clamped");

    /* A shape the table lacks takes the nearest one and says so. */
    const LatMfuCurve *near_c = lat_mfu_gemm_curve(db, 4096, 28672, &exact);
    CU_ASSERT(!exact);
    guint k, n;
    lat_mfu_curve_shape(near_c, &k, &n, NULL);
    CU_ASSERT_EQUAL(k, 4096);
    CU_ASSERT_EQUAL(n, 11008);

    /* Nearest attention shape: 40 heads / 8 KV heads has no file on H100;
     * the nearest per-GPU heads with d_h 128 is 32-8-128. */
    const LatMfuCurve *p = lat_mfu_attn_prefill_curve(db, LAT_ATTN_MHA, 40, 8, 128, 1, &exact);
    CU_ASSERT(!exact);
    CU_ASSERT_STRING_EQUAL(lat_mfu_curve_file(p), "mha/prefill/h100/32-8-128.csv");
    /* No MLA tables on H100. */
    CU_ASSERT_PTR_NULL(lat_mfu_attn_decode_grid(db, LAT_ATTN_MLA, 128, 512, 64, 1, &exact));

    guint ng, np, nd, ngg;
    lat_mfu_db_counts(db, &ng, &np, &nd, &ngg);
    CU_ASSERT_EQUAL(ng, 8);
    CU_ASSERT_EQUAL(np, 6);
    CU_ASSERT_EQUAL(nd, 18);
    CU_ASSERT_EQUAL(ngg, 0);
    lat_mfu_db_free(db);
}

static void test_zero_rows_are_missing(void)
{
    LatMfuDb *db = load_db("h100");
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    gboolean exact;
    const LatMfuGrid *g = lat_mfu_attn_decode_grid(db, LAT_ATTN_MHA, 32, 8, 128, 1, &exact);
    CU_ASSERT_FATAL(g != NULL);
    /* 32-8-128-tp1.csv line 2: batch 1, kv 1024, 39.718 µs, mfu 0.0: missing.
     * The cell is filled from its row (kv 4096 is the nearest cell), so the
     * kernel is not timed at 39.7 µs, and never at an MFU of zero. */
    double r = lat_mfu_grid_rate(g, 1, 1024, NULL, 0);
    CU_ASSERT(r > 0);
    CU_ASSERT(near(r, lat_mfu_grid_rate(g, 1, 4096, NULL, 0), 1e-12));
    double t = lat_flops_attn_decode(LAT_ATTN_MHA, 32, 128, 0, 1024) / r;
    CU_ASSERT(t < 39.718e-6 * 0.5);
    char src[200];
    lat_mfu_grid_rate(g, 1, 1024, src, sizeof src);
    SS_ASSERT_CONTAINS(src, "filled");
    lat_mfu_db_free(db);
}

static void test_sparse_corners_interpolated(void)
{
    LatMfuDb *db = load_db("h100");
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    gboolean exact;
    const LatMfuGrid *g = lat_mfu_attn_decode_grid(db, LAT_ATTN_MHA, 32, 8, 128, 1, &exact);
    CU_ASSERT_FATAL(g != NULL);
    /* batch 512 stops at kv 8192 and batch 256 at 16384: the corner
     * (512, 32768) is beyond the row's last cell, so it holds that cell's
     * rate; it is never zero. */
    double corner = lat_mfu_grid_rate(g, 512, 32768, NULL, 0);
    CU_ASSERT(corner > 0);
    CU_ASSERT(near(corner, lat_mfu_grid_rate(g, 512, 8192, NULL, 0), 1e-12));
    /* Between existing and filled cells the rate stays between its corners. */
    double in = lat_mfu_grid_rate(g, 384, 12000, NULL, 0);
    double lo = fmin(fmin(lat_mfu_grid_rate(g, 256, 8192, NULL, 0), lat_mfu_grid_rate(g, 256, 16384, NULL, 0)),
                     fmin(lat_mfu_grid_rate(g, 512, 8192, NULL, 0), lat_mfu_grid_rate(g, 512, 16384, NULL, 0)));
    CU_ASSERT(in >= lo * (1 - 1e-12));
    /* Bilinear: the middle of a full cell is the mean of its four corners. */
    double m = lat_mfu_grid_rate(g, 24, 6144, NULL, 0);
    double mean = 0.25 * (lat_mfu_grid_rate(g, 16, 4096, NULL, 0) + lat_mfu_grid_rate(g, 16, 8192, NULL, 0) +
                          lat_mfu_grid_rate(g, 32, 4096, NULL, 0) + lat_mfu_grid_rate(g, 32, 8192, NULL, 0));
    CU_ASSERT(near(m, mean, 1e-12));
    lat_mfu_db_free(db);
}

static void test_headerless_decode_file(void)
{
    /* The shipped H20 file has no header row and is read in column order. */
    LatMfuDb *db = load_db("h20");
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    gboolean exact;
    const LatMfuGrid *g = lat_mfu_attn_decode_grid(db, LAT_ATTN_MHA, 64, 2, 128, 1, &exact);
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT(exact);
    CU_ASSERT_STRING_EQUAL(lat_mfu_grid_file(g), "mha/decode/h20/64-2-128.csv");
    /* line 1: bf16,bf16,1,1024,25.4893,0.009 */
    double t = lat_flops_attn_decode(LAT_ATTN_MHA, 64, 128, 0, 1024) / lat_mfu_grid_rate(g, 1, 1024, NULL, 0);
    CU_ASSERT(near(t, 25.4893e-6, 1e-9));
    lat_mfu_db_free(db);

    /* And a written one, in a data directory of its own. */
    char *dir = ss_test_tmpdir();
    char *sub = g_build_filename(dir, "mfu", "mha", "decode", "x", NULL);
    g_mkdir_with_parents(sub, 0755);
    char *file = g_build_filename(sub, "8-1-128.csv", NULL);
    g_file_set_contents(file, "bf16,bf16,1,1024,10.0,0.003\nbf16,bf16,2,1024,11.0,0.006\n", -1, NULL);
    GError *error = NULL;
    db = lat_mfu_db_load(dir, "x", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    g = lat_mfu_attn_decode_grid(db, LAT_ATTN_MHA, 8, 1, 128, 1, &exact);
    CU_ASSERT_FATAL(g != NULL);
    t = lat_flops_attn_decode(LAT_ATTN_MHA, 8, 128, 0, 2 * 1024) / lat_mfu_grid_rate(g, 2, 1024, NULL, 0);
    CU_ASSERT(near(t, 11.0e-6, 1e-9));
    lat_mfu_db_free(db);
    g_free(file);
    g_free(sub);
    g_free(dir);
}

/* Writes one table into a fresh data dir; returns the data dir. */
static char *write_table(const char *rel, const char *text)
{
    char *dir = ss_test_tmpdir();
    char *path = g_build_filename(dir, "mfu", rel, NULL);
    char *parent = g_path_get_dirname(path);
    g_mkdir_with_parents(parent, 0755);
    g_file_set_contents(path, text, -1, NULL);
    g_free(parent);
    g_free(path);
    return dir;
}

static void expect_load_error(const char *rel, const char *text, const char *needle)
{
    char *dir = write_table(rel, text);
    GError *error = NULL;
    LatMfuDb *db = lat_mfu_db_load(dir, "x", &error);
    CU_ASSERT_PTR_NULL(db);
    CU_ASSERT_FATAL(error != NULL);
    CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_INPUT));
    SS_ASSERT_CONTAINS(error->message, needle);
    g_clear_error(&error);
    lat_mfu_db_free(db);
    g_free(dir);
}

static void test_malformed_rows(void)
{
    expect_load_error("gemm/x/data.csv", "m,k,n,latency_us,mfu\n8,2048,6144,8.988,0.011\n16,2048,abc,8.816,0.023\n",
                      "data.csv:3:3: column 'n': expected a positive integer, got 'abc'");
    expect_load_error("gemm/x/data.csv", "m,k,n,latency_us,mfu\n8,2048,6144,-1,0.011\n",
                      "data.csv:2:4: column 'latency_us': expected a positive number of microseconds, got '-1'");
    expect_load_error("gemm/x/data.csv", "m,k,n,latency_us,mfu\n8,2048,6144,8.9,0.011\n16,2048,6144,8.8\n",
                      "data.csv:3: expected 5 fields, got 4");
    expect_load_error("gemm/x/data.csv", "m,k,latency_us,mfu\n8,2048,8.9,0.011\n", "data.csv:1: missing column 'n'");
    expect_load_error("mha/prefill/x/32-8-128.csv", "dtype,seq_len,latency_us,mfu\nbf16,1024,38.1,1.7\n",
                      "32-8-128.csv:2:4: column 'mfu': expected a fraction between 0 and 1, got '1.7'");
    expect_load_error("mha/decode/x/32-8-128-tp2.csv",
                      "dtype,kv_dtype,batch_size,kv_len,latency_us,mfu\nbf16,bf16,0,1024,3,0.1\n",
                      "32-8-128-tp2.csv:2:3: column 'batch_size': expected a positive integer, got '0'");
    expect_load_error("mha/decode/x/32-8.csv", "dtype,kv_dtype,batch_size,kv_len,latency_us,mfu\n",
                      "file name: expected <n_h>-<n_kv>-<d_h>[-tp<N>].csv");
    expect_load_error("mha/prefill/x/32-8-128.csv", "dtype,seq_len,latency_us,mfu\nbf16,1024,\"38.1,0.2\n",
                      "malformed CSV");
    expect_load_error("mha/prefill/x/32-8-128.csv", "dtype,seq_len,latency_us,mfu\nbf16,10\"24,38.1,0.2\n",
                      "32-8-128.csv:2: malformed CSV");
    expect_load_error("grouped_gemm/prefill/x/data.csv",
                      "num_experts,num_gpus,num_local_experts,topk,hidden_size,intermediate_size,seq_len_per_gpu,"
                      "tokens_per_expert,up_proj_us,up_mfu,down_proj_us,down_mfu\n"
                      "96,1,96,8,2048,1560,1024,85,637.06,0.618,x,0.545\n",
                      "data.csv:2:11: column 'down_proj_us': expected a positive number of microseconds, got 'x'");
    /* A GPU folder with no tables at all. */
    GError *error = NULL;
    LatMfuDb *db = lat_mfu_db_load(ss_test_data_dir(), "l40s", &error);
    CU_ASSERT_PTR_NULL(db);
    CU_ASSERT(error && strstr(error->message, "no MFU tables for GPU 'l40s'"));
    g_clear_error(&error);
}

static void test_experts_hit(void)
{
    /* E·(1 − ((E−k)/E)^T): Mixtral E=8, k=2. */
    CU_ASSERT(near(lat_moe_experts_hit(8, 2, 1), 2.0, 1e-12));
    CU_ASSERT(near(lat_moe_experts_hit(8, 2, 2), 8.0 * (1 - 0.75 * 0.75), 1e-12));
    double prev = 0;
    for (int t = 1; t <= 4096; t *= 2) {
        double h = lat_moe_experts_hit(128, 8, t);
        CU_ASSERT(h > prev || near(h, 128, 1e-9));
        CU_ASSERT(h <= 128.0);
        prev = h;
    }
    CU_ASSERT(near(lat_moe_experts_hit(128, 8, 4096), 128.0, 1e-9));
    CU_ASSERT_EQUAL(lat_moe_experts_hit(128, 8, 0), 0.0);
}

static const SsTestCase table_cases[] = {
    {"gemm_rows_reproduced", test_gemm_rows_reproduced},
    {"prefill_rows_reproduced", test_prefill_rows_reproduced},
    {"decode_rows_reproduced", test_decode_rows_reproduced},
    {"grouped_gemm_rows_reproduced", test_grouped_rows_reproduced},
    {NULL, NULL}};

static const SsTestCase lookup_cases[] = {
    {"interpolation_and_clamping", test_interpolation_and_clamping},
    {"zero_rows_are_missing", test_zero_rows_are_missing},
    {"sparse_corners_interpolated", test_sparse_corners_interpolated},
    {"headerless_decode_file", test_headerless_decode_file},
    {"malformed_rows", test_malformed_rows},
    {"experts_hit", test_experts_hit},
    {NULL, NULL}};

static const SsTestSuite suites[] = {{"rows", table_cases}, {"lookups", lookup_cases}, {NULL, NULL}};

int main(int argc, char **argv) { return ss_test_main(argc, argv, suites); }
