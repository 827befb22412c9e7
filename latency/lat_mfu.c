/*
 * lat_mfu.c: the lookups into the measured MFU tables of one GPU.
 *
 * What it models: how fast the kernels an LLM step runs actually are, as
 * measured on the GPU: GEMMs per (k, n) shape over m, prefill attention per
 * head shape over sequence length, decode attention per head shape (and TP
 * degree) over batch x kv_len, grouped GEMMs of MoE layers over tokens per
 * GPU. Each row becomes an achieved FLOP rate (FLOPs / latency_us), see
 * lat_mfu.h for the conventions, the interpolation and the fill rules.
 *
 * The tables are loaded by lat_mfu_load.c (which files, columns and rows)
 * with lat_mfu_table.c; this file holds the FLOP counts, the resolution of
 * a shape to its curve or grid, the interpolated rates the step model asks
 * for, and the accessors of lat_mfu.h.
 *
 * Cost: a lookup is a scan of at most a dozen axis values; nothing
 * allocates.
 */
#include "lat_mfu.h"

#include <math.h>
#include <string.h>

#include "lat_mfu_internal.h"

/* --------------------------------------------------------- FLOP counts -- */

double lat_flops_gemm(double m, double k, double n) { return 2.0 * m * k * n; }

double lat_flops_attn_prefill(LatAttnKind kind, double n_h, double d_qk, double d_v, double t, double p)
{
    double area = t * p + 0.5 * t * t; /* causal: the new x new part counts half */
    if (kind == LAT_ATTN_MLA)
        return 2.0 * n_h * (d_qk + d_v) * area;
    return 4.0 * n_h * d_qk * area;
}

double lat_flops_attn_decode(LatAttnKind kind, double n_h, double d_h, double rope, double sum_kv)
{
    if (kind == LAT_ATTN_MLA)
        return 2.0 * n_h * (2.0 * d_h + rope) * sum_kv;
    return 4.0 * n_h * d_h * sum_kv;
}

double lat_moe_experts_hit(double num_experts, double topk, double tokens)
{
    if (num_experts <= 0 || tokens <= 0)
        return 0.0;
    if (topk >= num_experts)
        return num_experts;
    return num_experts * (1.0 - pow((num_experts - topk) / num_experts, tokens));
}

/* ------------------------------------------------------ all-reduce table -- */

double lat_mfu_allreduce_us(const LatMfuDb *db, guint num_gpus, double bytes, double *table_max_bytes)
{
    if (table_max_bytes)
        *table_max_bytes = 0;
    for (guint i = 0; db && i < db->allreduce->len; i++) {
        const CommCurve *c = g_ptr_array_index(db->allreduce, i);
        if (c->num_gpus != num_gpus || c->n == 0)
            continue;
        if (table_max_bytes)
            *table_max_bytes = c->bytes[c->n - 1];
        if (bytes <= c->bytes[0])
            return c->us_mono[0];
        if (bytes >= c->bytes[c->n - 1]) /* beyond the table: its last bandwidth */
            return c->us_mono[c->n - 1] * bytes / c->bytes[c->n - 1];
        guint lo = 0, hi = c->n - 1;
        while (hi - lo > 1) {
            guint mid = (lo + hi) / 2;
            if (c->bytes[mid] <= bytes)
                lo = mid;
            else
                hi = mid;
        }
        double w = (bytes - c->bytes[lo]) / (c->bytes[hi] - c->bytes[lo]);
        return c->us_mono[lo] * (1.0 - w) + c->us_mono[hi] * w;
    }
    return -1.0;
}

const char *lat_mfu_allreduce_file(const LatMfuDb *db) { return db ? db->allreduce_file : NULL; }

/* ----------------------------------------------------------- resolution -- */

const LatMfuCurve *lat_mfu_gemm_curve(const LatMfuDb *db, guint k, guint n, gboolean *exact)
{
    return lat_mfu_gemm_curve_prec(db, LAT_PREC_FP8, k, n, exact);
}

const LatMfuCurve *lat_mfu_gemm_curve_prec(const LatMfuDb *db, LatPrecision prec, guint k, guint n, gboolean *exact)
{
    const LatMfuCurve *best = NULL;
    double best_d = INFINITY;
    const GPtrArray *all = db ? (prec == LAT_PREC_BF16 ? db->gemm_bf16 : db->gemm) : NULL;
    for (guint i = 0; all && i < all->len; i++) {
        const LatMfuCurve *c = g_ptr_array_index(all, i);
        double d = fabs(log((double)k / c->a)) + fabs(log((double)n / c->b));
        if (d < best_d - 1e-12) {
            best_d = d;
            best = c;
        }
    }
    if (exact)
        *exact = best && best->a == k && best->b == n;
    return best;
}

static double heads_distance(double a_h, double a_kv, double b_h, double b_kv)
{
    return fabs(a_h - b_h) + fabs(a_kv - b_kv);
}

const LatMfuCurve *lat_mfu_attn_prefill_curve(const LatMfuDb *db, LatAttnKind kind, guint n_h, guint n_kv,
                                              guint d_h, guint tp, gboolean *exact)
{
    if (exact)
        *exact = FALSE;
    if (!db || tp == 0)
        return NULL;
    guint h_gpu = n_h / tp;
    guint kv_gpu = kind == LAT_ATTN_MHA ? MAX(1u, n_kv / tp) : n_kv;
    const LatMfuCurve *own = NULL, *best = NULL;
    double best_d = INFINITY;
    for (guint i = 0; i < db->attn_prefill->len; i++) {
        const LatMfuCurve *c = g_ptr_array_index(db->attn_prefill, i);
        if (c->kind != kind || c->c != d_h || (kind == LAT_ATTN_MLA && c->b != n_kv))
            continue;
        if (c->a == h_gpu && c->b == kv_gpu) {
            if (exact)
                *exact = TRUE;
            return c;
        }
        if (c->a == n_h && c->b == n_kv)
            own = c;
        double d = heads_distance(h_gpu, kind == LAT_ATTN_MHA ? kv_gpu : 0, c->a, kind == LAT_ATTN_MHA ? c->b : 0);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return own ? own : best;
}

const LatMfuGrid *lat_mfu_attn_decode_grid(const LatMfuDb *db, LatAttnKind kind, guint n_h, guint n_kv,
                                           guint d_h, guint tp, gboolean *exact)
{
    if (exact)
        *exact = FALSE;
    if (!db || tp == 0)
        return NULL;
    guint h_gpu = n_h / tp;
    guint kv_gpu = kind == LAT_ATTN_MHA ? MAX(1u, n_kv / tp) : n_kv;
    const LatMfuGrid *same_heads = NULL, *best = NULL;
    double best_d = INFINITY;
    for (guint i = 0; i < db->attn_decode->len; i++) {
        const LatMfuGrid *g = g_ptr_array_index(db->attn_decode, i);
        if (g->kind != kind || g->d_h != d_h || (kind == LAT_ATTN_MLA && g->n_kv_name != n_kv))
            continue;
        if (g->tp == tp && g->n_h_name == n_h && g->n_kv_name == n_kv) {
            if (exact)
                *exact = TRUE;
            return g;
        }
        if (!same_heads && g->n_h_gpu == h_gpu && (kind == LAT_ATTN_MLA || g->n_kv_gpu == kv_gpu))
            same_heads = g;
        double d = heads_distance(h_gpu, kind == LAT_ATTN_MHA ? kv_gpu : 0, g->n_h_gpu,
                                  kind == LAT_ATTN_MHA ? g->n_kv_gpu : 0);
        if (d < best_d) {
            best_d = d;
            best = g;
        }
    }
    if (same_heads) {
        if (exact)
            *exact = TRUE;
        return same_heads;
    }
    return best;
}

gboolean lat_mfu_grouped_gemm(const LatMfuDb *db, guint num_experts, guint topk, guint hidden, guint intermediate,
                              guint tp, LatMfuGrouped *out)
{
    memset(out, 0, sizeof *out);
    const GroupedCfg *ep = NULL, *one = NULL;
    for (guint i = 0; db && i < db->grouped->len; i++) {
        const GroupedCfg *c = g_ptr_array_index(db->grouped, i);
        if (c->num_experts != num_experts || c->topk != topk || c->hidden != hidden || c->inter != intermediate ||
            c->up->npts == 0 || c->down->npts == 0)
            continue;
        if (c->num_gpus == tp)
            ep = c;
        if (c->num_gpus == 1)
            one = c;
    }
    if (ep) {
        /* num_gpus == tp: E/tp experts of full width per GPU, T/tp tokens per
         * GPU: the same FLOPs, tokens per expert and weight bytes per GPU as
         * tensor-parallel experts of width intermediate/tp. */
        out->up = ep->up;
        out->down = ep->down;
        out->tokens_scale = 1.0 / tp;
        out->flops_scale = 1.0 / tp;
        out->exact = TRUE;
        return TRUE;
    }
    if (one) {
        out->up = one->up;
        out->down = one->down;
        out->tokens_scale = 1.0;
        out->flops_scale = 1.0 / tp;
        out->exact = (tp == 1);
        return TRUE;
    }
    return FALSE;
}

/* -------------------------------------------------------------- lookups -- */

static const char *point_file(const LatMfuCurve *c, const CurvePoint *p)
{
    return p->file_ix && c->file2 ? c->file2 : c->file;
}

static double curve_rate(const LatMfuCurve *c, double x, gboolean mono, char *src, gsize src_len)
{
    const CurvePoint *p = c->pts;
    guint n = c->npts;
    if (n == 1 || x <= p[0].x) {
        if (src)
            g_snprintf(src, src_len, "%s %s line %u (x=%g%s)", point_file(c, &p[0]), c->label, p[0].line, p[0].x,
                       x < p[0].x ? ", clamped" : "");
        return mono ? p[0].rate_mono : p[0].rate; /* the first point is its own envelope */
    }
    if (x >= p[n - 1].x) {
        if (src)
            g_snprintf(src, src_len, "%s %s line %u (x=%g%s)", point_file(c, &p[n - 1]), c->label, p[n - 1].line,
                       p[n - 1].x, x > p[n - 1].x ? ", clamped" : "");
        if (mono && src && p[n - 1].rate_mono > p[n - 1].rate)
            g_strlcat(src, ", lowered to the monotone envelope", src_len);
        return mono ? p[n - 1].rate_mono : p[n - 1].rate;
    }
    guint i = 0;
    while (i + 2 < n && p[i + 1].x <= x)
        i++;
    double w = (x - p[i].x) / (p[i + 1].x - p[i].x);
    if (src) {
        if (w == 0.0)
            g_snprintf(src, src_len, "%s %s line %u (x=%g)", point_file(c, &p[i]), c->label, p[i].line, p[i].x);
        else if (p[i].file_ix == p[i + 1].file_ix)
            g_snprintf(src, src_len, "%s %s lines %u-%u (x=%g..%g)", point_file(c, &p[i]), c->label, p[i].line,
                       p[i + 1].line, p[i].x, p[i + 1].x);
        else
            g_snprintf(src, src_len, "%s line %u + %s line %u, %s (x=%g..%g)", point_file(c, &p[i]), p[i].line,
                       point_file(c, &p[i + 1]), p[i + 1].line, c->label, p[i].x, p[i + 1].x);
    }
    if (mono) {
        if (src && (p[i].rate_mono > p[i].rate || (w > 0 && p[i + 1].rate_mono > p[i + 1].rate)))
            g_strlcat(src, ", lowered to the monotone envelope", src_len);
        return p[i].rate_mono * (1.0 - w) + p[i + 1].rate_mono * w;
    }
    return p[i].rate * (1.0 - w) + p[i + 1].rate * w;
}

double lat_mfu_curve_rate(const LatMfuCurve *c, double x, char *src, gsize src_len)
{
    return curve_rate(c, x, FALSE, src, src_len);
}

double lat_mfu_curve_rate_monotone(const LatMfuCurve *c, double x, char *src, gsize src_len)
{
    return curve_rate(c, x, TRUE, src, src_len);
}

/* Bracketing indices and weight on a sorted axis, clamped. */
static void axis_bracket(const double *a, guint n, double v, guint *lo, guint *hi, double *w)
{
    if (n == 1 || v <= a[0]) {
        *lo = *hi = 0;
        *w = 0;
        return;
    }
    if (v >= a[n - 1]) {
        *lo = *hi = n - 1;
        *w = 0;
        return;
    }
    guint i = 0;
    while (i + 2 < n && a[i + 1] <= v)
        i++;
    *lo = i;
    *hi = i + 1;
    *w = (v - a[i]) / (a[i + 1] - a[i]);
}

static double grid_rate(const LatMfuGrid *g, double batch, double kv_len, gboolean mono, char *src, gsize src_len)
{
    guint b0, b1, k0, k1;
    double wb, wk;
    axis_bracket(g->batch, g->nb, batch, &b0, &b1, &wb);
    axis_bracket(g->kv, g->nk, kv_len, &k0, &k1, &wk);
    guint nk = g->nk;
    const double *rt = mono ? g->rate_mono : g->rate;
    double r = rt[b0 * nk + k0] * (1 - wb) * (1 - wk) + rt[b0 * nk + k1] * (1 - wb) * wk +
               rt[b1 * nk + k0] * wb * (1 - wk) + rt[b1 * nk + k1] * wb * wk;
    if (src) {
        char lines[80] = "";
        guint cells[4] = {b0 * nk + k0, b0 * nk + k1, b1 * nk + k0, b1 * nk + k1};
        double weights[4] = {(1 - wb) * (1 - wk), (1 - wb) * wk, wb * (1 - wk), wb * wk};
        gsize at = 0;
        gboolean lowered = FALSE;
        for (guint i = 0; i < 4; i++) {
            if (weights[i] == 0.0)
                continue;
            lowered = lowered || (mono && g->rate_mono[cells[i]] > g->rate[cells[i]]);
            gboolean seen = FALSE;
            for (guint j = 0; j < i; j++)
                seen = seen || cells[j] == cells[i];
            if (seen || at >= sizeof lines - 12)
                continue;
            if (g->line[cells[i]])
                at += (gsize)g_snprintf(lines + at, sizeof lines - at, "%s%u", at ? "," : "", g->line[cells[i]]);
            else
                at += (gsize)g_snprintf(lines + at, sizeof lines - at, "%sfilled", at ? "," : "");
        }
        char bs[40], ks[40];
        if (wb > 0)
            g_snprintf(bs, sizeof bs, "%g..%g", g->batch[b0], g->batch[b1]);
        else
            g_snprintf(bs, sizeof bs, "%g", g->batch[b0]);
        if (wk > 0)
            g_snprintf(ks, sizeof ks, "%g..%g", g->kv[k0], g->kv[k1]);
        else
            g_snprintf(ks, sizeof ks, "%g", g->kv[k0]);
        g_snprintf(src, src_len, "%s %s %s (batch %s x kv %s%s%s)", g->file, strchr(lines, ',') ? "lines" : "line",
                   lines, bs, ks,
                   (batch < g->batch[0] || batch > g->batch[g->nb - 1] || kv_len < g->kv[0] ||
                    kv_len > g->kv[g->nk - 1])
                       ? ", clamped"
                       : "",
                   lowered ? ", lowered to the monotone envelope" : "");
    }
    return r;
}

double lat_mfu_grid_rate(const LatMfuGrid *g, double batch, double kv_len, char *src, gsize src_len)
{
    return grid_rate(g, batch, kv_len, FALSE, src, src_len);
}

double lat_mfu_grid_rate_monotone(const LatMfuGrid *g, double batch, double kv_len, char *src, gsize src_len)
{
    return grid_rate(g, batch, kv_len, TRUE, src, src_len);
}

const char *lat_mfu_curve_file(const LatMfuCurve *c) { return c->file; }

void lat_mfu_curve_shape(const LatMfuCurve *c, guint *a, guint *b, guint *c3)
{
    if (a)
        *a = c->a;
    if (b)
        *b = c->b;
    if (c3)
        *c3 = c->c;
}

const char *lat_mfu_grid_file(const LatMfuGrid *g) { return g->file; }

const double *lat_mfu_grid_batches(const LatMfuGrid *g, guint *n)
{
    *n = g->nb;
    return g->batch;
}

const double *lat_mfu_grid_kv_lengths(const LatMfuGrid *g, guint *n)
{
    *n = g->nk;
    return g->kv;
}

void lat_mfu_grid_heads(const LatMfuGrid *g, guint *n_h_gpu, guint *n_kv_gpu, guint *d_h)
{
    if (n_h_gpu)
        *n_h_gpu = g->n_h_gpu;
    if (n_kv_gpu)
        *n_kv_gpu = g->n_kv_gpu;
    if (d_h)
        *d_h = g->d_h;
}

const char *lat_mfu_db_gpu(const LatMfuDb *db) { return db->gpu; }

guint lat_mfu_curve_num_points(const LatMfuCurve *c) { return c->npts; }

double lat_mfu_curve_point_x(const LatMfuCurve *c, guint i) { return c->pts[i].x; }

double lat_mfu_curve_point_rate_monotone(const LatMfuCurve *c, guint i) { return c->pts[i].rate_mono; }

guint lat_mfu_db_num_gemm_shapes(const LatMfuDb *db, LatPrecision prec)
{
    return prec == LAT_PREC_BF16 ? db->gemm_bf16->len : db->gemm->len;
}

gboolean lat_mfu_db_has_allreduce(const LatMfuDb *db, guint num_gpus)
{
    for (guint i = 0; db && i < db->allreduce->len; i++)
        if (((const CommCurve *)g_ptr_array_index(db->allreduce, i))->num_gpus == num_gpus)
            return TRUE;
    return FALSE;
}

void lat_mfu_db_counts(const LatMfuDb *db, guint *gemm_shapes, guint *prefill, guint *decode, guint *grouped)
{
    if (gemm_shapes)
        *gemm_shapes = db->gemm->len;
    if (prefill)
        *prefill = db->attn_prefill->len;
    if (decode)
        *decode = db->attn_decode->len;
    if (grouped)
        *grouped = db->grouped->len;
}
