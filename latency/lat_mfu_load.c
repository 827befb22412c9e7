/*
 * lat_mfu_load.c: the measured MFU tables of one GPU (data/mfu/.../<gpu>/)
 * loaded into a LatMfuDb, and freed (lat_mfu.c has the lookups).
 *
 * Files (read by lat_mfu_table.c; columns mapped and rows parsed here):
 *   gemm/<gpu>/data.csv                    m,k,n,latency_us,mfu
 *   mha/prefill/<gpu>/<n_h>-<n_kv>-<d_h>.csv       dtype,seq_len,latency_us,mfu
 *   mha/decode/<gpu>/<n_h>-<n_kv>-<d_h>[-tp<N>].csv dtype,kv_dtype,batch_size,kv_len,latency_us,mfu
 *   mla/prefill/<gpu>/<n_h>-<nope>-<rope>.csv, mla/decode/<gpu>/<n_h>-<kv_lora>-<rope>.csv
 *   grouped_gemm/{prefill,decode}/<gpu>/data.csv   num_experts,...,up_proj_us,up_mfu,down_proj_us,down_mfu
 * A file may lack its header row (then the columns are in the order above).
 * Rows of another dtype or kv_dtype than bf16 are skipped (the KV cache is
 * bf16); repeated keys keep the first row; dsa/ and gdn/ are not read.
 *
 * Cost: linear in the rows (a few thousand).
 */
#include <math.h>
#include <string.h>

#include "lat_internal.h"
#include "lat_mfu_internal.h"
#include "ss_error.h"

/* ------------------------------------------------------------------ free -- */

static void curve_free(gpointer p)
{
    LatMfuCurve *c = p;
    if (!c)
        return;
    g_free(c->file);
    g_free(c->file2);
    g_free(c->label);
    g_free(c->pts);
    g_free(c);
}

static void grid_free(gpointer p)
{
    LatMfuGrid *g = p;
    if (!g)
        return;
    g_free(g->file);
    g_free(g->batch);
    g_free(g->kv);
    g_free(g->rate);
    g_free(g->rate_mono);
    g_free(g->line);
    g_free(g);
}

static void grouped_free(gpointer p)
{
    GroupedCfg *g = p;
    if (!g)
        return;
    curve_free(g->up);
    curve_free(g->down);
    g_free(g);
}

void lat_mfu_db_free(LatMfuDb *db)
{
    if (!db)
        return;
    g_free(db->gpu);
    g_ptr_array_free(db->gemm, TRUE);
    g_ptr_array_free(db->gemm_bf16, TRUE);
    g_ptr_array_free(db->allreduce, TRUE);
    g_free(db->allreduce_file);
    g_ptr_array_free(db->attn_prefill, TRUE);
    g_ptr_array_free(db->attn_decode, TRUE);
    g_ptr_array_free(db->grouped, TRUE);
    g_free(db);
}

/* ------------------------------------------------------------ columns -- */

/* Maps the columns (by header name, or in spec order when the file has no
 * header row: a first record that names `key`) and parses every row with
 * checked conversions. Returns an array of ParsedRow; `rows` must outlive it. */
static GArray *parse_rows(const char *path, GPtrArray *rows, const ColSpec *spec, guint ncol, const char *key,
                          GError **error)
{
    guint idx[MAX_COLS];
    guint first = 0, width = ncol;
    /* ncol is the length of one of this file's static column specs, not
     * anything read: a bug check, unreachable from input */
    g_assert(ncol <= MAX_COLS);
    if (rows->len == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: the file is empty", path);
        return NULL;
    }
    const CsvRow *head = g_ptr_array_index(rows, 0);
    gboolean has_header = FALSE;
    for (guint f = 0; f < head->nfields; f++)
        if (strcmp(head->fields[f], key) == 0)
            has_header = TRUE;
    if (has_header) {
        first = 1;
        width = head->nfields;
        for (guint c = 0; c < ncol; c++) {
            idx[c] = G_MAXUINT;
            for (guint f = 0; f < head->nfields; f++)
                if (strcmp(head->fields[f], spec[c].name) == 0)
                    idx[c] = f;
            if (idx[c] == G_MAXUINT) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s:%u: missing column '%s'", path, head->line,
                            spec[c].name);
                return NULL;
            }
        }
    } else {
        for (guint c = 0; c < ncol; c++)
            idx[c] = c;
    }
    GArray *out = g_array_new(FALSE, TRUE, sizeof(ParsedRow));
    for (guint r = first; r < rows->len; r++) {
        const CsvRow *row = g_ptr_array_index(rows, r);
        if (row->nfields != width) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s:%u: expected %u fields, got %u", path, row->line,
                        width, row->nfields);
            goto fail;
        }
        ParsedRow pr = {.line = row->line};
        for (guint c = 0; c < ncol; c++) {
            const char *f = row->fields[idx[c]];
            guint64 u = 0;
            double d = 0;
            const char *want = NULL;
            pr.s[c] = f;
            switch (spec[c].kind) {
            case COL_STR:
                if (!*f)
                    want = "a non-empty value";
                break;
            case COL_UINT:
                if (!lat_parse_uint64(f, &u) || u == 0 || u > G_MAXUINT32)
                    want = "a positive integer";
                pr.v[c] = (double)u;
                break;
            case COL_LATENCY:
                if (!lat_parse_double(f, &d) || !(d > 0))
                    want = "a positive number of microseconds";
                pr.v[c] = d;
                break;
            case COL_MFU:
                if (!lat_parse_double(f, &d) || d < 0 || d > 1.0)
                    want = "a fraction between 0 and 1";
                pr.v[c] = d;
                break;
            }
            if (want) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s:%u:%u: column '%s': expected %s, got '%s'",
                            path, row->line, idx[c] + 1, spec[c].name, want, f);
                goto fail;
            }
        }
        g_array_append_val(out, pr);
    }
    return out;
fail:
    g_array_free(out, TRUE);
    return NULL;
}

/* Loads a CSV and parses its rows; *rows_out keeps the strings alive. */
static GArray *load_table(const char *path, const ColSpec *spec, guint ncol, const char *key, GPtrArray **rows_out,
                          GError **error)
{
    GPtrArray *rows = lat_mfu_csv_read(path, error);
    if (!rows)
        return NULL;
    GArray *parsed = parse_rows(path, rows, spec, ncol, key, error);
    if (!parsed) {
        g_ptr_array_free(rows, TRUE);
        return NULL;
    }
    *rows_out = rows;
    return parsed;
}

/* ------------------------------------------------------------ GEMM table -- */

static gint curve_shape_cmp(gconstpointer a, gconstpointer b)
{
    const LatMfuCurve *p = *(LatMfuCurve *const *)a, *q = *(LatMfuCurve *const *)b;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

static gboolean load_gemm(GPtrArray *into, const char *path, const char *rel, GError **error)
{
    static const ColSpec spec[] = {{"m", COL_UINT}, {"k", COL_UINT}, {"n", COL_UINT}, {"latency_us", COL_LATENCY},
                                   {"mfu", COL_MFU}};
    GPtrArray *rows = NULL;
    GArray *pr = load_table(path, spec, G_N_ELEMENTS(spec), "m", &rows, error);
    if (!pr)
        return FALSE;
    GHashTable *by_shape = g_hash_table_new(g_int64_hash, g_int64_equal);
    GPtrArray *pts_of = g_ptr_array_new(); /* GArray* per curve, parallel to curves */
    GPtrArray *curves = g_ptr_array_new();
    GArray *keys = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_array_set_size(keys, pr->len);
    double *rate = g_new0(double, pr->len);
    gboolean *keep = g_new0(gboolean, pr->len);
    for (guint i = 0; i < pr->len; i++) {
        ParsedRow *r = &g_array_index(pr, ParsedRow, i);
        rate[i] = lat_flops_gemm(r->v[0], r->v[1], r->v[2]) / (r->v[3] * 1e-6);
        keep[i] = r->v[4] > 0.0; /* rounded to zero: missing */
    }
    lat_mfu_drop_inconsistent(pr, 4, rate, keep);
    for (guint i = 0; i < pr->len; i++) {
        ParsedRow *r = &g_array_index(pr, ParsedRow, i);
        guint k = (guint)r->v[1], n = (guint)r->v[2];
        gint64 *key = &g_array_index(keys, gint64, i);
        *key = ((gint64)k << 32) | n;
        gpointer pos = g_hash_table_lookup(by_shape, key);
        guint ci;
        if (!pos) {
            LatMfuCurve *c = g_new0(LatMfuCurve, 1);
            c->file = g_strdup(rel);
            c->label = g_strdup_printf("k=%u n=%u", k, n);
            c->time_power = 1;
            c->a = k;
            c->b = n;
            g_ptr_array_add(curves, c);
            g_ptr_array_add(pts_of, g_array_new(FALSE, FALSE, sizeof(CurvePoint)));
            ci = curves->len - 1;
            g_hash_table_insert(by_shape, key, GUINT_TO_POINTER(ci + 1));
        } else {
            ci = GPOINTER_TO_UINT(pos) - 1;
        }
        if (!keep[i])
            continue;
        CurvePoint p = {r->v[0], rate[i], r->v[3], r->v[4], r->line, 0, 0};
        g_array_append_val(g_ptr_array_index(pts_of, ci), p);
    }
    for (guint i = 0; i < curves->len; i++) {
        LatMfuCurve *c = g_ptr_array_index(curves, i);
        GArray *pts = g_ptr_array_index(pts_of, i);
        lat_mfu_curve_finish(c, pts);
        g_array_free(pts, TRUE);
        if (c->npts == 0)
            curve_free(c);
        else
            g_ptr_array_add(into, c);
    }
    g_ptr_array_sort(into, curve_shape_cmp);
    g_ptr_array_free(pts_of, TRUE);
    g_ptr_array_free(curves, TRUE);
    g_hash_table_destroy(by_shape);
    g_array_free(keys, TRUE);
    g_free(rate);
    g_free(keep);
    g_array_free(pr, TRUE);
    g_ptr_array_free(rows, TRUE);
    return TRUE;
}

/* ---------------------------------------------------- attention tables -- */

/* "<a>-<b>-<c>[-tp<N>].csv" */
static gboolean parse_shape_name(const char *base, guint dims[3], guint *tp)
{
    if (!g_str_has_suffix(base, ".csv"))
        return FALSE;
    char *stem = g_strndup(base, strlen(base) - 4);
    char **parts = g_strsplit(stem, "-", -1);
    guint n = g_strv_length(parts);
    gboolean ok = (n == 3 || n == 4);
    *tp = 0;
    for (guint i = 0; ok && i < 3; i++) {
        guint64 v = 0;
        ok = lat_parse_uint64(parts[i], &v) && v > 0 && v < 1u << 20;
        dims[i] = (guint)v;
    }
    if (ok && n == 4) {
        guint64 v = 0;
        ok = g_str_has_prefix(parts[3], "tp") && lat_parse_uint64(parts[3] + 2, &v) && v > 0 && v < 1024;
        *tp = (guint)v;
    }
    g_strfreev(parts);
    g_free(stem);
    return ok;
}

static gboolean load_prefill(LatMfuDb *db, LatAttnKind kind, const char *path, const char *rel, const guint dims[3],
                             GError **error)
{
    static const ColSpec spec[] = {{"dtype", COL_STR}, {"seq_len", COL_UINT}, {"latency_us", COL_LATENCY},
                                   {"mfu", COL_MFU}};
    GPtrArray *rows = NULL;
    GArray *pr = load_table(path, spec, G_N_ELEMENTS(spec), "seq_len", &rows, error);
    if (!pr)
        return FALSE;
    LatMfuCurve *c = g_new0(LatMfuCurve, 1);
    c->file = g_strdup(rel);
    c->label = g_strdup_printf("%u-%u-%u", dims[0], dims[1], dims[2]);
    c->a = dims[0];
    c->b = dims[1];
    c->c = dims[2];
    c->kind = kind;
    c->time_power = 2;
    GArray *pts = g_array_new(FALSE, FALSE, sizeof(CurvePoint));
    double *rate = g_new0(double, pr->len);
    gboolean *keep = g_new0(gboolean, pr->len);
    for (guint i = 0; i < pr->len; i++) {
        ParsedRow *r = &g_array_index(pr, ParsedRow, i);
        double s = r->v[1];
        double flops = kind == LAT_ATTN_MLA
                           ? lat_flops_attn_prefill(kind, dims[0], dims[1] + dims[2], dims[1], s, 0)
                           : lat_flops_attn_prefill(kind, dims[0], dims[2], dims[2], s, 0);
        rate[i] = flops / (r->v[2] * 1e-6);
        keep[i] = g_ascii_strcasecmp(r->s[0], "bf16") == 0 && r->v[3] > 0.0;
    }
    lat_mfu_drop_inconsistent(pr, 3, rate, keep);
    for (guint i = 0; i < pr->len; i++) {
        ParsedRow *r = &g_array_index(pr, ParsedRow, i);
        if (!keep[i])
            continue;
        CurvePoint p = {r->v[1], rate[i], r->v[2], r->v[3], r->line, 0, 0};
        g_array_append_val(pts, p);
    }
    g_free(rate);
    g_free(keep);
    lat_mfu_curve_finish(c, pts);
    g_array_free(pts, TRUE);
    g_array_free(pr, TRUE);
    g_ptr_array_free(rows, TRUE);
    if (c->npts == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: no usable bf16 row (every mfu is 0 or dtype differs)",
                    path);
        curve_free(c);
        return FALSE;
    }
    g_ptr_array_add(db->attn_prefill, c);
    return TRUE;
}

static guint axis_index(const double *axis, guint n, double v)
{
    for (guint i = 0; i < n; i++)
        if (axis[i] == v)
            return i;
    return G_MAXUINT;
}

/* Fills the cells of a grid that the file does not have (line == 0). */
static void grid_fill(LatMfuGrid *g)
{
    guint nb = g->nb, nk = g->nk;
    gboolean *row_has = g_new0(gboolean, nb);
    for (guint i = 0; i < nb; i++) {
        for (guint j = 0; j < nk; j++)
            if (g->line[i * nk + j])
                row_has[i] = TRUE;
        if (!row_has[i])
            continue;
        for (guint j = 0; j < nk; j++) {
            if (g->line[i * nk + j])
                continue;
            gint l = (gint)j - 1, r = (gint)j + 1;
            while (l >= 0 && !g->line[i * nk + (guint)l])
                l--;
            while (r < (gint)nk && !g->line[i * nk + (guint)r])
                r++;
            double v;
            if (l >= 0 && r < (gint)nk) {
                double w = (g->kv[j] - g->kv[l]) / (g->kv[r] - g->kv[l]);
                v = g->rate[i * nk + (guint)l] * (1 - w) + g->rate[i * nk + (guint)r] * w;
            } else {
                v = l >= 0 ? g->rate[i * nk + (guint)l] : g->rate[i * nk + (guint)r];
            }
            g->rate[i * nk + j] = v;
        }
    }
    for (guint i = 0; i < nb; i++) {
        if (row_has[i])
            continue;
        gint l = (gint)i - 1, r = (gint)i + 1;
        while (l >= 0 && !row_has[l])
            l--;
        while (r < (gint)nb && !row_has[r])
            r++;
        for (guint j = 0; j < nk; j++) {
            double v;
            if (l >= 0 && r < (gint)nb) {
                double w = (g->batch[i] - g->batch[l]) / (g->batch[r] - g->batch[l]);
                v = g->rate[(guint)l * nk + j] * (1 - w) + g->rate[(guint)r * nk + j] * w;
            } else {
                v = l >= 0 ? g->rate[(guint)l * nk + j] : g->rate[(guint)r * nk + j];
            }
            g->rate[i * nk + j] = v;
        }
    }
    g_free(row_has);
}

/* The monotone envelope of a grid: a cell's time becomes the smallest time
 * of the cells with at least its batch and its kv_len (a smaller problem can
 * run as a larger one), so warm-up outliers such as H100 64-8-128-tp1 batch
 * 1 kv 1024 (40.8 µs, against 24.3 µs at kv 4096) no longer make less work
 * slower. Bilinear interpolation of the resulting rates is non-decreasing
 * along both axes. */
static void grid_envelope(LatMfuGrid *g)
{
    guint nk = g->nk;
    double *m = g_new(double, (gsize)g->nb * nk);
    g->rate_mono = g_new(double, (gsize)g->nb * nk);
    for (guint i = g->nb; i-- > 0;)
        for (guint j = nk; j-- > 0;) {
            /* batch·kv / rate is the cell's latency up to one constant factor */
            double t = g->batch[i] * g->kv[j] / g->rate[i * nk + j];
            if (i + 1 < g->nb)
                t = MIN(t, m[(i + 1) * nk + j]);
            if (j + 1 < nk)
                t = MIN(t, m[i * nk + j + 1]);
            m[i * nk + j] = t;
            g->rate_mono[i * nk + j] = g->batch[i] * g->kv[j] / t;
        }
    g_free(m);
}

static gboolean load_decode(LatMfuDb *db, LatAttnKind kind, const char *path, const char *rel, const guint dims[3],
                            guint tp, GError **error)
{
    static const ColSpec spec[] = {{"dtype", COL_STR},    {"kv_dtype", COL_STR},      {"batch_size", COL_UINT},
                                   {"kv_len", COL_UINT},  {"latency_us", COL_LATENCY}, {"mfu", COL_MFU}};
    GPtrArray *rows = NULL;
    GArray *pr = load_table(path, spec, G_N_ELEMENTS(spec), "batch_size", &rows, error);
    if (!pr)
        return FALSE;
    LatMfuGrid *g = g_new0(LatMfuGrid, 1);
    g->file = g_strdup(rel);
    g->kind = kind;
    g->n_h_name = dims[0];
    g->n_kv_name = dims[1];
    g->d_h = dims[2];
    g->tp = tp;
    if (kind == LAT_ATTN_MHA && tp > 0) {
        g->n_h_gpu = dims[0] / tp;
        g->n_kv_gpu = MAX(1u, dims[1] / tp);
    } else {
        g->n_h_gpu = dims[0] / MAX(tp, 1u);
        g->n_kv_gpu = dims[1];
    }
    GArray *bs = g_array_new(FALSE, FALSE, sizeof(double)), *ks = g_array_new(FALSE, FALSE, sizeof(double));
    GArray *use = g_array_new(FALSE, FALSE, sizeof(guint));
    double *rate = g_new0(double, pr->len);
    gboolean *keep = g_new0(gboolean, pr->len);
    for (guint i = 0; i < pr->len; i++) {
        ParsedRow *r = &g_array_index(pr, ParsedRow, i);
        double flops = lat_flops_attn_decode(kind, g->n_h_gpu, kind == LAT_ATTN_MLA ? dims[1] : dims[2],
                                             kind == LAT_ATTN_MLA ? dims[2] : 0, r->v[2] * r->v[3]);
        rate[i] = flops / (r->v[4] * 1e-6);
        keep[i] = g_ascii_strcasecmp(r->s[0], "bf16") == 0 && g_ascii_strcasecmp(r->s[1], "bf16") == 0 &&
                  r->v[5] > 0.0;
    }
    lat_mfu_drop_inconsistent(pr, 5, rate, keep);
    for (guint i = 0; i < pr->len; i++) {
        ParsedRow *r = &g_array_index(pr, ParsedRow, i);
        if (!keep[i])
            continue;
        g_array_append_val(use, i);
        if (axis_index((double *)(void *)bs->data, bs->len, r->v[2]) == G_MAXUINT)
            g_array_append_val(bs, r->v[2]);
        if (axis_index((double *)(void *)ks->data, ks->len, r->v[3]) == G_MAXUINT)
            g_array_append_val(ks, r->v[3]);
    }
    gboolean ok = use->len > 0;
    if (!ok)
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: no usable bf16 row (every mfu is 0 or dtype differs)",
                    path);
    g_array_sort(bs, lat_mfu_dbl_cmp);
    g_array_sort(ks, lat_mfu_dbl_cmp);
    g->nb = bs->len;
    g->nk = ks->len;
    g->batch = (double *)(void *)g_array_free(bs, FALSE);
    g->kv = (double *)(void *)g_array_free(ks, FALSE);
    g->rate = g_new0(double, (gsize)g->nb * g->nk);
    g->line = g_new0(guint, (gsize)g->nb * g->nk);
    for (guint u = 0; ok && u < use->len; u++) {
        guint i = g_array_index(use, guint, u);
        ParsedRow *r = &g_array_index(pr, ParsedRow, i);
        guint bi = axis_index(g->batch, g->nb, r->v[2]), ki = axis_index(g->kv, g->nk, r->v[3]);
        guint cell = bi * g->nk + ki;
        if (g->line[cell])
            continue; /* repeated key: keep the first row */
        g->rate[cell] = rate[i];
        g->line[cell] = r->line;
    }
    g_free(rate);
    g_free(keep);
    g_array_free(use, TRUE);
    g_array_free(pr, TRUE);
    g_ptr_array_free(rows, TRUE);
    if (!ok) {
        grid_free(g);
        return FALSE;
    }
    grid_fill(g);
    grid_envelope(g);
    g_ptr_array_add(db->attn_decode, g);
    return TRUE;
}

static gint name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every <shape>.csv of one attention folder (absent folder: none). */
static gboolean load_attn_dir(LatMfuDb *db, const char *data_dir, const char *sub, LatAttnKind kind, gboolean decode,
                              GError **error)
{
    char *dir = g_build_filename(data_dir, "mfu", sub, db->gpu, NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    gboolean ok = TRUE;
    if (!d) {
        g_free(dir);
        return TRUE;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while ((n = g_dir_read_name(d)))
        if (g_str_has_suffix(n, ".csv"))
            g_ptr_array_add(names, g_strdup(n));
    g_dir_close(d);
    g_ptr_array_sort(names, name_cmp); /* deterministic: nearest-shape ties go to the first name */
    for (guint i = 0; ok && i < names->len; i++) {
        const char *base = g_ptr_array_index(names, i);
        char *path = g_build_filename(dir, base, NULL);
        char *rel = g_build_filename(sub, db->gpu, base, NULL);
        guint dims[3], tp = 0;
        if (!parse_shape_name(base, dims, &tp) || (!decode && tp != 0)) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: file name: expected %s.csv", path,
                        decode ? "<n_h>-<n_kv>-<d_h>[-tp<N>]" : "<n_h>-<n_kv>-<d_h>");
            ok = FALSE;
        } else if (decode && tp > 0 && (dims[0] % tp != 0)) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: file name: tp%u does not divide %u heads", path, tp,
                        dims[0]);
            ok = FALSE;
        } else {
            ok = decode ? load_decode(db, kind, path, rel, dims, tp, error)
                        : load_prefill(db, kind, path, rel, dims, error);
        }
        g_free(path);
        g_free(rel);
    }
    g_ptr_array_free(names, TRUE);
    g_free(dir);
    return ok;
}

/* ------------------------------------------------------ grouped GEMM -- */

static gboolean load_grouped(LatMfuDb *db, const char *path, const char *rel, gboolean decode, GError **error)
{
    static const ColSpec prefill_spec[] = {
        {"num_experts", COL_UINT},    {"num_gpus", COL_UINT},    {"num_local_experts", COL_UINT},
        {"topk", COL_UINT},           {"hidden_size", COL_UINT}, {"intermediate_size", COL_UINT},
        {"seq_len_per_gpu", COL_UINT}, {"up_proj_us", COL_LATENCY}, {"up_mfu", COL_MFU},
        {"down_proj_us", COL_LATENCY}, {"down_mfu", COL_MFU}};
    ColSpec spec[G_N_ELEMENTS(prefill_spec)];
    memcpy(spec, prefill_spec, sizeof spec);
    if (decode)
        spec[6].name = "batch_size_per_gpu";
    GPtrArray *rows = NULL;
    GArray *pr = load_table(path, spec, G_N_ELEMENTS(spec), "num_experts", &rows, error);
    if (!pr)
        return FALSE;
    for (guint i = 0; i < pr->len; i++) {
        ParsedRow *r = &g_array_index(pr, ParsedRow, i);
        guint E = (guint)r->v[0], gpus = (guint)r->v[1], topk = (guint)r->v[3], h = (guint)r->v[4],
              inter = (guint)r->v[5];
        GroupedCfg *cfg = NULL;
        for (guint j = 0; j < db->grouped->len && !cfg; j++) {
            GroupedCfg *c = g_ptr_array_index(db->grouped, j);
            if (c->num_experts == E && c->num_gpus == gpus && c->topk == topk && c->hidden == h && c->inter == inter)
                cfg = c;
        }
        if (!cfg) {
            cfg = g_new0(GroupedCfg, 1);
            cfg->num_experts = E;
            cfg->num_gpus = gpus;
            cfg->topk = topk;
            cfg->hidden = h;
            cfg->inter = inter;
            char *label = g_strdup_printf("E=%u gpus=%u topk=%u h=%u i=%u", E, gpus, topk, h, inter);
            cfg->up = g_new0(LatMfuCurve, 1);
            cfg->down = g_new0(LatMfuCurve, 1);
            cfg->up->label = g_strdup_printf("%s up", label);
            cfg->down->label = g_strdup_printf("%s down", label);
            cfg->up->file = g_strdup(rel);
            cfg->down->file = g_strdup(rel);
            cfg->up->time_power = cfg->down->time_power = 1;
            g_free(label);
            g_ptr_array_add(db->grouped, cfg);
        }
        double x = r->v[6];
        double flops_up = 2.0 * x * topk * h * 2.0 * inter, flops_down = 2.0 * x * topk * inter * h;
        LatMfuCurve *cs[2] = {cfg->up, cfg->down};
        double fl[2] = {flops_up, flops_down}, lat[2] = {r->v[7], r->v[9]}, mfu[2] = {r->v[8], r->v[10]};
        for (guint k = 0; k < 2; k++) {
            if (mfu[k] == 0.0)
                continue;
            gboolean dup = FALSE;
            for (guint q = 0; q < cs[k]->npts; q++)
                dup = dup || cs[k]->pts[q].x == x;
            if (dup)
                continue;
            guint ix = 0;
            if (strcmp(cs[k]->file, rel) != 0) {
                if (!cs[k]->file2)
                    cs[k]->file2 = g_strdup(rel);
                ix = 1;
            }
            cs[k]->pts = g_renew(CurvePoint, cs[k]->pts, cs[k]->npts + 1);
            cs[k]->pts[cs[k]->npts++] = (CurvePoint){x, fl[k] / (lat[k] * 1e-6), lat[k], mfu[k], r->line, ix, 0};
        }
    }
    g_array_free(pr, TRUE);
    g_ptr_array_free(rows, TRUE);
    return TRUE;
}

static void grouped_finish(LatMfuDb *db)
{
    for (guint j = 0; j < db->grouped->len; j++) {
        GroupedCfg *c = g_ptr_array_index(db->grouped, j);
        LatMfuCurve *cs[2] = {c->up, c->down};
        for (guint k = 0; k < 2; k++) {
            GArray *pts = g_array_new(FALSE, FALSE, sizeof(CurvePoint));
            if (cs[k]->npts)
                g_array_append_vals(pts, cs[k]->pts, cs[k]->npts);
            g_free(cs[k]->pts);
            cs[k]->pts = NULL;
            lat_mfu_curve_finish(cs[k], pts);
            g_array_free(pts, TRUE);
        }
    }
}

/* ------------------------------------------------------ all-reduce table -- */

static void comm_curve_free(gpointer p)
{
    CommCurve *c = p;
    g_free(c->bytes);
    g_free(c->us);
    g_free(c->us_mono);
    g_free(c->line);
    g_free(c);
}

typedef struct {
    double bytes, us;
    guint line;
} CommPoint;

static gint comm_point_cmp(gconstpointer a, gconstpointer b)
{
    const CommPoint *p = a, *q = b;
    if (p->bytes != q->bytes)
        return p->bytes < q->bytes ? -1 : 1;
    return (p->line > q->line) - (p->line < q->line);
}

/* comm/allreduce/<gpu>.csv: num_gpus,size_bytes,latency_us (one node). One
 * curve per GPU count, sorted by size, repeated sizes keep the first row;
 * the monotone envelope lowers a row to the smallest time of the larger
 * messages (a smaller message can always be sent as a larger one). */
static gboolean load_allreduce(LatMfuDb *db, const char *path, GError **error)
{
    static const ColSpec spec[] = {{"num_gpus", COL_UINT}, {"size_bytes", COL_UINT}, {"latency_us", COL_LATENCY}};
    GPtrArray *rows = NULL;
    GArray *pr = load_table(path, spec, G_N_ELEMENTS(spec), "num_gpus", &rows, error);
    if (!pr)
        return FALSE;
    GHashTable *by_n = g_hash_table_new(g_direct_hash, g_direct_equal); /* n -> GArray* */
    GPtrArray *order = g_ptr_array_new();
    for (guint i = 0; i < pr->len; i++) {
        ParsedRow *r = &g_array_index(pr, ParsedRow, i);
        guint n = (guint)r->v[0];
        GArray *a = g_hash_table_lookup(by_n, GUINT_TO_POINTER(n));
        if (!a) {
            a = g_array_new(FALSE, FALSE, sizeof(CommPoint));
            g_hash_table_insert(by_n, GUINT_TO_POINTER(n), a);
            g_ptr_array_add(order, GUINT_TO_POINTER(n));
        }
        CommPoint p = {r->v[1], r->v[2], r->line};
        g_array_append_val(a, p);
    }
    for (guint i = 0; i < order->len; i++) {
        guint n = GPOINTER_TO_UINT(g_ptr_array_index(order, i));
        GArray *a = g_hash_table_lookup(by_n, GUINT_TO_POINTER(n));
        g_array_sort(a, comm_point_cmp);
        CommCurve *c = g_new0(CommCurve, 1);
        c->num_gpus = n;
        c->bytes = g_new(double, a->len);
        c->us = g_new(double, a->len);
        c->us_mono = g_new(double, a->len);
        c->line = g_new(guint, a->len);
        for (guint j = 0; j < a->len; j++) {
            const CommPoint *p = &g_array_index(a, CommPoint, j);
            if (c->n && c->bytes[c->n - 1] == p->bytes)
                continue;
            c->bytes[c->n] = p->bytes;
            c->us[c->n] = p->us;
            c->line[c->n] = p->line;
            c->n++;
        }
        double best = INFINITY;
        for (guint j = c->n; j-- > 0;) {
            best = MIN(best, c->us[j]);
            c->us_mono[j] = best;
        }
        g_ptr_array_add(db->allreduce, c);
        g_array_free(a, TRUE);
    }
    g_ptr_array_free(order, TRUE);
    g_hash_table_destroy(by_n);
    g_array_free(pr, TRUE);
    g_ptr_array_free(rows, TRUE);
    return TRUE;
}

/* ---------------------------------------------------------------- load -- */

LatMfuDb *lat_mfu_db_load(const char *data_dir, const char *gpu, GError **error)
{
    g_return_val_if_fail(gpu != NULL, NULL);
    if (!data_dir)
        data_dir = ".";
    LatMfuDb *db = g_new0(LatMfuDb, 1);
    db->gpu = g_strdup(gpu);
    db->gemm = g_ptr_array_new_with_free_func(curve_free);
    db->gemm_bf16 = g_ptr_array_new_with_free_func(curve_free);
    db->allreduce = g_ptr_array_new_with_free_func(comm_curve_free);
    db->attn_prefill = g_ptr_array_new_with_free_func(curve_free);
    db->attn_decode = g_ptr_array_new_with_free_func(grid_free);
    db->grouped = g_ptr_array_new_with_free_func(grouped_free);

    if (strchr(gpu, '/') || strchr(gpu, '.') || !*gpu) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "MFU tables '%s': expected a folder name such as 'h100'", gpu);
        goto fail;
    }
    static const char *const gemm_dirs[2] = {"gemm", "gemm_bf16"};
    gboolean ok = TRUE;
    for (guint k = 0; k < 2 && ok; k++) {
        char *gemm = g_build_filename(data_dir, "mfu", gemm_dirs[k], gpu, "data.csv", NULL);
        char *gemm_rel = g_build_filename(gemm_dirs[k], gpu, "data.csv", NULL);
        ok = !g_file_test(gemm, G_FILE_TEST_EXISTS) ||
             load_gemm(k ? db->gemm_bf16 : db->gemm, gemm, gemm_rel, error);
        g_free(gemm);
        g_free(gemm_rel);
    }
    if (!ok)
        goto fail;
    char *ar = g_build_filename(data_dir, "comm", "allreduce", NULL);
    char *ar_file = g_strdup_printf("%s.csv", gpu);
    char *ar_path = g_build_filename(ar, ar_file, NULL);
    if (g_file_test(ar_path, G_FILE_TEST_EXISTS)) {
        db->allreduce_file = g_build_filename("comm", "allreduce", ar_file, NULL);
        ok = load_allreduce(db, ar_path, error);
    }
    g_free(ar);
    g_free(ar_file);
    g_free(ar_path);
    if (!ok)
        goto fail;
    if (!load_attn_dir(db, data_dir, "mha/prefill", LAT_ATTN_MHA, FALSE, error) ||
        !load_attn_dir(db, data_dir, "mha/decode", LAT_ATTN_MHA, TRUE, error) ||
        !load_attn_dir(db, data_dir, "mla/prefill", LAT_ATTN_MLA, FALSE, error) ||
        !load_attn_dir(db, data_dir, "mla/decode", LAT_ATTN_MLA, TRUE, error))
        goto fail;
    static const char *const gg[2] = {"prefill", "decode"};
    for (guint k = 0; k < 2; k++) {
        char *p = g_build_filename(data_dir, "mfu", "grouped_gemm", gg[k], gpu, "data.csv", NULL);
        char *rel = g_build_filename("grouped_gemm", gg[k], gpu, "data.csv", NULL);
        ok = !g_file_test(p, G_FILE_TEST_EXISTS) || load_grouped(db, p, rel, k == 1, error);
        g_free(p);
        g_free(rel);
        if (!ok)
            goto fail;
    }
    grouped_finish(db);
    if (db->gemm->len + db->gemm_bf16->len + db->attn_prefill->len + db->attn_decode->len + db->grouped->len +
            db->allreduce->len ==
        0) {
        char *root = g_build_filename(data_dir, "mfu", NULL);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "no MFU tables for GPU '%s' under %s", gpu, root);
        g_free(root);
        goto fail;
    }
    return db;
fail:
    lat_mfu_db_free(db);
    return NULL;
}
