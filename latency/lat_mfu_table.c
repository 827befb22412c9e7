/*
 * lat_mfu_table.c: what every MFU table shares (lat_mfu_internal.h): CSV
 * input (read with libcsv; fields are copied out in the callbacks, each
 * record keeps its line for messages), the filter of rows whose latency_us
 * and mfu disagree, and the sort and monotone envelope of a curve's points.
 */
#include <csv.h>
#include <math.h>
#include <string.h>

#include "lat_internal.h"
#include "lat_mfu_internal.h"
#include "ss_error.h"

/* ----------------------------------------------------------- CSV input -- */

typedef struct {
    GPtrArray *rows; /* CsvRow* */
    GPtrArray *cur;  /* char* of the record being read */
    guint line;      /* physical line being fed to the parser */
    guint cur_line;  /* line where the current record started */
} CsvCtx;

static void csv_row_free(gpointer p)
{
    CsvRow *r = p;
    if (!r)
        return;
    g_strfreev(r->fields);
    g_free(r);
}

static void on_field(void *s, size_t len, void *data)
{
    CsvCtx *ctx = data;
    if (ctx->cur->len == 0)
        ctx->cur_line = ctx->line;
    g_ptr_array_add(ctx->cur, s ? g_strndup(s, len) : g_strdup("")); /* copied out */
}

static void on_row(int c, void *data)
{
    (void)c;
    CsvCtx *ctx = data;
    CsvRow *r = g_new0(CsvRow, 1);
    r->line = ctx->cur->len ? ctx->cur_line : ctx->line;
    r->nfields = ctx->cur->len;
    g_ptr_array_add(ctx->cur, NULL);
    r->fields = (char **)g_ptr_array_free(ctx->cur, FALSE); /* keeps the strings */
    ctx->cur = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(ctx->rows, r);
}

GPtrArray *lat_mfu_csv_read(const char *path, GError **error)
{
    char *text = lat_read_text_file(path, error);
    if (!text)
        return NULL;
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        g_free(text);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: cannot start the CSV parser", path);
        return NULL;
    }
    CsvCtx ctx = {g_ptr_array_new_with_free_func(csv_row_free), g_ptr_array_new_with_free_func(g_free), 1, 1};
    gboolean ok = TRUE;
    const char *s = text;
    while (*s && ok) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);
        if (csv_parse(&p, s, len, on_field, on_row, &ctx) != len)
            ok = FALSE;
        else {
            s += len;
            if (nl)
                ctx.line++;
        }
    }
    if (ok && csv_fini(&p, on_field, on_row, &ctx) != 0)
        ok = FALSE;
    if (!ok)
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s:%u: malformed CSV (%s)", path, ctx.line,
                    csv_strerror(csv_error(&p)));
    csv_free(&p);
    g_ptr_array_free(ctx.cur, TRUE); /* an unfinished record's fields, if any */
    g_free(text);
    if (!ok) {
        g_ptr_array_free(ctx.rows, TRUE);
        return NULL;
    }
    return ctx.rows;
}

/* -------------------------------------------------------------- checks -- */

gint lat_mfu_dbl_cmp(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Digits after the decimal point as written ("0.165" -> 3, "1e-3" -> 3). */
static guint decimals_of(const char *s)
{
    const char *dot = strchr(s, '.');
    guint n = 0;
    if (dot)
        for (const char *p = dot + 1; g_ascii_isdigit(*p); p++)
            n++;
    const char *e = strpbrk(s, "eE");
    if (e) {
        guint64 x = 0;
        if (e[1] == '-' && lat_parse_uint64(e + 2, &x) && x < 30)
            n += (guint)x;
    }
    return MAX(n, 1u);
}

/* Rows whose latency_us and mfu disagree (lat_mfu_internal.h). */
guint lat_mfu_drop_inconsistent(const GArray *pr, guint mfu_col, const double *rate, gboolean *keep)
{
    GArray *peaks = g_array_new(FALSE, FALSE, sizeof(double));
    for (guint i = 0; i < pr->len; i++) {
        const ParsedRow *r = &g_array_index(pr, ParsedRow, i);
        if (keep[i] && r->v[mfu_col] > 0) {
            double pk = rate[i] / r->v[mfu_col];
            g_array_append_val(peaks, pk);
        }
    }
    guint dropped = 0;
    if (peaks->len >= 3) {
        g_array_sort(peaks, lat_mfu_dbl_cmp);
        double peak = g_array_index(peaks, double, peaks->len / 2);
        for (guint i = 0; i < pr->len; i++) {
            const ParsedRow *r = &g_array_index(pr, ParsedRow, i);
            if (!keep[i])
                continue;
            double file = r->v[mfu_col], derived = rate[i] / peak;
            double tol = 0.5 * pow(10.0, -(double)decimals_of(r->s[mfu_col])) + 0.05 * file;
            if (fabs(derived - file) > tol) {
                keep[i] = FALSE;
                dropped++;
            }
        }
    }
    g_array_free(peaks, TRUE);
    return dropped;
}

static gint point_cmp(gconstpointer a, gconstpointer b)
{
    const CurvePoint *p = a, *q = b;
    return (p->x > q->x) - (p->x < q->x);
}

/* Sorts a curve's points by x and drops repeated x (keeps the first row),
 * then computes the monotone envelope: a smaller problem can always be run
 * as a larger one, so a row's time per unit of shape, x^p / rate, is lowered
 * to the smallest time of the rows with a larger x (warm-up and launch
 * jitter make some small rows slower than larger ones, e.g. H100 GEMM
 * 2048x6144: m=8 8.988 µs, m=16 8.816 µs; H800 7168x1536: m=16 16.4 µs,
 * m=64 10.9 µs). Linear interpolation of the envelope's rates between points
 * is then non-decreasing in time. */
void lat_mfu_curve_finish(LatMfuCurve *c, GArray *pts)
{
    g_array_sort(pts, point_cmp); /* stable enough: ties resolved below by line */
    GArray *uniq = g_array_new(FALSE, FALSE, sizeof(CurvePoint));
    for (guint i = 0; i < pts->len; i++) {
        CurvePoint *p = &g_array_index(pts, CurvePoint, i);
        if (uniq->len) {
            CurvePoint *last = &g_array_index(uniq, CurvePoint, uniq->len - 1);
            if (last->x == p->x) {
                if (p->line < last->line)
                    *last = *p;
                continue;
            }
        }
        g_array_append_val(uniq, *p);
    }
    c->npts = uniq->len;
    c->pts = (CurvePoint *)g_array_free(uniq, FALSE);
    double best = INFINITY;
    for (guint i = c->npts; i-- > 0;) {
        CurvePoint *p = &c->pts[i];
        double unit = pow(p->x, (double)MAX(c->time_power, 1u)) / p->rate;
        best = MIN(best, unit);
        p->rate_mono = pow(p->x, (double)MAX(c->time_power, 1u)) / best;
    }
}
