/*
 * sw_report.c: a sweep's rows as a page a person reads (report.html): what
 * was swept, charts of the swept metrics, and every row.
 *
 * The charts (rp_svg.h, inline SVG) come from the table alone, so a merged
 * table draws the same page as an unsharded run:
 *   - the x axis is the swept field "rate" when there is one, else the
 *     numeric field with the most distinct values; every other swept field
 *     that takes more than one value makes the settings, one line (series)
 *     per combination of their values;
 *   - throughput-latency curves: p99 TTFT, p99 TPOT and p99 E2E against the
 *     output tokens/s achieved, one line per setting, points in load order;
 *   - per-setting lines: output tokens/s, p50 and p99 TTFT and TPOT against
 *     the x axis;
 *   - without a numeric field, horizontal bars per point instead.
 * Rows with status "error" are not drawn; the table lists them with their
 * message. Every string from the table (field names, values, errors, the
 * sweep's name) is escaped; the page's head and shared style come from
 * rp_html.c; numbers go through rp_svg_format (no locale), so
 * the same table gives the same bytes. Cost: O(rows x columns).
 */
#include "sw_sweep.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "rp_html.h"
#include "rp_svg.h"
#include "scn_json.h"
#include "ss_error.h"

/* Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
static const char *const colors[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                     "#e69f00", "#56b4e9", "#000000", "#f0e442"};

static const char css[] =
    RP_HTML_CSS_PAGE
    RP_HTML_CSS_LEAD
    ".warn{background:#fff8e6;border:1px solid #e0b252;border-radius:6px;padding:10px 16px;margin:12px 0}\n"
    RP_HTML_CSS_FACTS
    RP_HTML_CSS_TABLE
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tr.err td{background:#faf6f5;color:#5b4a45}\n"
    RP_HTML_CSS_ERR
    RP_HTML_CSS_CHARTS
    ".charts svg{width:100%;height:auto;border:1px solid #e3e7eb;border-radius:4px;background:#fff}\n"
    RP_HTML_CSS_FOOTER;

/* The table's view: which columns are swept fields, the x axis, the
 * settings. */
typedef struct {
    const SwSweepTable *t;
    guint nparams;          /* columns 1 .. nparams are swept fields */
    int status_col;
    int x_param;            /* column of the x axis, -1: none */
    GPtrArray *settings;    /* char*: distinct setting keys, in first-row order */
    guint *row_setting;     /* per row: index into settings */
} View;

static const char *cell(const View *v, guint row, const char *column)
{
    int c = sw_sweep_table_find_column(v->t, column);
    return c >= 0 ? sw_sweep_table_cell(v->t, row, (guint)c) : "";
}

static double number(const char *text)
{
    if (!text || !*text)
        return NAN;
    char *end = NULL;
    double v = g_ascii_strtod(text, &end);
    return end && *end == '\0' && isfinite(v) ? v : NAN;
}

static double cell_number(const View *v, guint row, const char *column)
{
    return number(cell(v, row, column));
}

static gboolean row_ok(const View *v, guint row)
{
    return v->status_col >= 0 && strcmp(sw_sweep_table_cell(v->t, row, (guint)v->status_col), "ok") == 0;
}

/* A swept field is numeric when every row's value is a number. */
static guint distinct_numbers(const View *v, guint col)
{
    GArray *seen = g_array_new(FALSE, FALSE, sizeof(double));
    guint n = sw_sweep_table_num_rows(v->t);
    for (guint r = 0; r < n; r++) {
        double x = number(sw_sweep_table_cell(v->t, r, col));
        if (isnan(x)) {
            g_array_free(seen, TRUE);
            return 0;
        }
        gboolean dup = FALSE;
        for (guint i = 0; i < seen->len && !dup; i++)
            dup = g_array_index(seen, double, i) == x;
        if (!dup)
            g_array_append_val(seen, x);
    }
    guint k = seen->len;
    g_array_free(seen, TRUE);
    return k;
}

static void view_init(View *v, const SwSweepTable *t)
{
    memset(v, 0, sizeof *v);
    v->t = t;
    v->status_col = sw_sweep_table_find_column(t, "status");
    v->nparams = v->status_col > 1 ? (guint)v->status_col - 1 : 0;
    v->x_param = -1;
    guint best = 1;
    for (guint c = 1; c <= v->nparams; c++) {
        const char *name = sw_sweep_table_column(t, c);
        guint k = distinct_numbers(v, c);
        if (k < 2)
            continue;
        gboolean is_rate = strcmp(name, "rate") == 0 || g_str_has_suffix(name, ".rate");
        if (is_rate) {
            v->x_param = (int)c;
            break;
        }
        if (k > best) {
            best = k;
            v->x_param = (int)c;
        }
    }
    guint n = sw_sweep_table_num_rows(t);
    /* a field with one value in every row tells the settings nothing */
    gboolean *varies = g_new0(gboolean, v->nparams + 2);
    for (guint c = 1; c <= v->nparams; c++)
        for (guint r = 1; r < n && !varies[c]; r++)
            varies[c] = strcmp(sw_sweep_table_cell(t, r, c), sw_sweep_table_cell(t, 0, c)) != 0;
    v->settings = g_ptr_array_new_with_free_func(g_free);
    v->row_setting = g_new0(guint, MAX(n, 1));
    for (guint r = 0; r < n; r++) {
        GString *key = g_string_new(NULL);
        for (guint c = 1; c <= v->nparams; c++) {
            if ((int)c == v->x_param || !varies[c])
                continue;
            g_string_append_printf(key, "%s%s=%s", key->len ? ", " : "", sw_sweep_table_column(t, c),
                                   sw_sweep_table_cell(t, r, c));
        }
        if (key->len == 0)
            g_string_append(key, "all points");
        guint idx = v->settings->len;
        for (guint i = 0; i < v->settings->len; i++)
            if (strcmp(g_ptr_array_index(v->settings, i), key->str) == 0)
                idx = i;
        if (idx == v->settings->len)
            g_ptr_array_add(v->settings, g_strdup(key->str));
        v->row_setting[r] = idx;
        g_string_free(key, TRUE);
    }
    g_free(varies);
}

static void view_clear(View *v)
{
    g_ptr_array_free(v->settings, TRUE);
    g_free(v->row_setting);
}

/* Rows of setting `s` that ran, in increasing load (then point order). */
static GArray *setting_rows(const View *v, guint s)
{
    GArray *rows = g_array_new(FALSE, FALSE, sizeof(guint));
    guint n = sw_sweep_table_num_rows(v->t);
    for (guint r = 0; r < n; r++)
        if (v->row_setting[r] == s && row_ok(v, r))
            g_array_append_val(rows, r);
    if (v->x_param >= 0) { /* insertion sort by the x axis: stable, short lists */
        for (guint i = 1; i < rows->len; i++) {
            guint r = g_array_index(rows, guint, i);
            double x = number(sw_sweep_table_cell(v->t, r, (guint)v->x_param));
            guint j = i;
            while (j > 0 && number(sw_sweep_table_cell(v->t, g_array_index(rows, guint, j - 1), (guint)v->x_param)) > x) {
                g_array_index(rows, guint, j) = g_array_index(rows, guint, j - 1);
                j--;
            }
            g_array_index(rows, guint, j) = r;
        }
    }
    return rows;
}

/* One chart: y_col against x_col (NULL: the x axis), a line per setting. */
static void line_chart(GString *o, const View *v, const char *title, const char *x_col, const char *x_label,
                       const char *y_col, const char *y_label)
{
    const char *xc = x_col ? x_col : sw_sweep_table_column(v->t, (guint)v->x_param);
    char *desc = g_strdup_printf("%s, one line per setting (%u settings)", title, v->settings->len);
    RpSvgChart *ch = rp_svg_chart_new(title, desc, x_label, y_label, TRUE);
    g_free(desc);
    for (guint s = 0; s < v->settings->len; s++) {
        guint series = rp_svg_chart_add_series(ch, g_ptr_array_index(v->settings, s),
                                               colors[s % G_N_ELEMENTS(colors)],
                                               (RpSvgMarker)((s / G_N_ELEMENTS(colors)) % 4));
        GArray *rows = setting_rows(v, s);
        for (guint i = 0; i < rows->len; i++) {
            guint r = g_array_index(rows, guint, i);
            char xb[64], yb[64];
            double x = cell_number(v, r, xc), y = cell_number(v, r, y_col);
            char *tip = g_strdup_printf("point %s, %s: %s = %s, %s = %s", cell(v, r, "point"),
                                        (const char *)g_ptr_array_index(v->settings, s), xc,
                                        rp_svg_format_sig(xb, sizeof xb, x), y_col, rp_svg_format_sig(yb, sizeof yb, y));
            rp_svg_chart_add_point(ch, series, x, y, TRUE, tip);
            g_free(tip);
        }
        g_array_free(rows, TRUE);
    }
    rp_svg_chart_render(ch, o);
    g_string_append_c(o, '\n');
    rp_svg_chart_free(ch);
}

/* Without a numeric x axis: a bar per point that ran. */
static void bar_chart(GString *o, const View *v, const char *title, const char *col, const char *x_label)
{
    guint n = sw_sweep_table_num_rows(v->t);
    RpSvgBar *bars = g_new0(RpSvgBar, MAX(n, 1));
    char **texts = g_new0(char *, MAX(n, 1));
    guint k = 0;
    for (guint r = 0; r < n; r++) {
        if (!row_ok(v, r))
            continue;
        char b[64];
        double y = cell_number(v, r, col);
        texts[k] = g_strdup(rp_svg_format_sig(b, sizeof b, y));
        bars[k] = (RpSvgBar){.label = g_ptr_array_index(v->settings, v->row_setting[r]), .value = y,
                             .text = texts[k], .tip = NULL, .highlight = FALSE};
        k++;
    }
    rp_svg_bar_chart(o, title, title, x_label, bars, k, 620);
    g_string_append_c(o, '\n');
    for (guint i = 0; i < k; i++)
        g_free(texts[i]);
    g_free(texts);
    g_free(bars);
}

/* The metric columns shown in the table (when the table has them). */
static const struct {
    const char *column;
    const char *label;
} shown[] = {
    {"completed", "completed"},           {"rejected", "rejected"},
    {"preemptions", "preemptions"},       {"requests_per_s", "req/s"},
    {"output_tokens_per_s", "output tok/s"}, {"ttft_p50_ms", "TTFT p50 (ms)"},
    {"ttft_p99_ms", "TTFT p99 (ms)"},     {"tpot_p50_ms", "TPOT p50 (ms)"},
    {"tpot_p99_ms", "TPOT p99 (ms)"},     {"e2e_p99_ms", "E2E p99 (ms)"},
    {"kv_usage_peak", "KV peak"},         {"num_gpu_blocks", "KV blocks"},
    {"latency_basis", "step times"},
};

/* "measured" for step times from the GPU's own kernel tables; anything else
 * ("transferred from H100-SXM", "estimated") is an estimate. */
static gboolean basis_is_estimate(const char *basis)
{
    return basis && *basis && strcmp(basis, "measured") != 0;
}

/* The header's account of the step times: each step model and basis with
 * its number of points, and a warning when any point's are estimates. */
static void step_time_facts(GString *o, const View *v, gboolean *any_estimate)
{
    const SwSweepTable *t = v->t;
    *any_estimate = FALSE;
    if (sw_sweep_table_find_column(t, "latency_basis") < 0)
        return;
    GHashTable *counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *order = g_ptr_array_new();
    guint n = sw_sweep_table_num_rows(t);
    for (guint r = 0; r < n; r++) {
        if (!row_ok(v, r))
            continue;
        const char *basis = cell(v, r, "latency_basis");
        const char *backend = sw_sweep_table_find_column(t, "latency_backend") >= 0 ? cell(v, r, "latency_backend") : "";
        *any_estimate = *any_estimate || basis_is_estimate(basis);
        char *key = g_strdup_printf("%s%s%s", backend, *backend ? ", " : "",
                                    strcmp(basis, "measured") == 0 ? "kernel tables measured on the GPU"
                                    : basis_is_estimate(basis)      ? basis
                                                                    : "not recorded");
        if (basis_is_estimate(basis)) {
            char *k = g_strdup_printf("%s: an estimate", key);
            g_free(key);
            key = k;
        }
        gpointer old = NULL;
        if (g_hash_table_lookup_extended(counts, key, NULL, &old)) {
            g_hash_table_insert(counts, key, GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
        } else {
            g_hash_table_insert(counts, key, GUINT_TO_POINTER(1));
            g_ptr_array_add(order, key);
        }
    }
    GString *text = g_string_new(NULL);
    for (guint i = 0; i < order->len; i++) {
        const char *key = g_ptr_array_index(order, i);
        guint c = GPOINTER_TO_UINT(g_hash_table_lookup(counts, key));
        g_string_append_printf(text, "%s%s (%u point%s)", i ? "; " : "", key, c, c == 1 ? "" : "s");
    }
    if (text->len)
        rp_html_fact(o, "step times", text->str);
    g_string_free(text, TRUE);
    g_ptr_array_free(order, TRUE);
    g_hash_table_destroy(counts);
}

static void rows_table(GString *o, const View *v)
{
    const SwSweepTable *t = v->t;
    g_string_append(o, "<div class=\"scroll\"><table>\n<thead><tr><th class=\"n\">point</th>");
    for (guint c = 1; c <= v->nparams; c++) {
        g_string_append(o, "<th>");
        rp_html_escape(o, sw_sweep_table_column(t, c));
        g_string_append(o, "</th>");
    }
    g_string_append(o, "<th>status</th>");
    for (gsize i = 0; i < G_N_ELEMENTS(shown); i++)
        if (sw_sweep_table_find_column(t, shown[i].column) >= 0)
            g_string_append_printf(o, "<th class=\"n\">%s</th>", shown[i].label);
    g_string_append(o, "</tr></thead>\n<tbody>\n");
    guint n = sw_sweep_table_num_rows(t);
    for (guint r = 0; r < n; r++) {
        gboolean ok = row_ok(v, r);
        g_string_append_printf(o, "<tr%s><td class=\"n\">", ok ? "" : " class=\"err\"");
        rp_html_escape(o, cell(v, r, "point"));
        g_string_append(o, "</td>");
        for (guint c = 1; c <= v->nparams; c++) {
            g_string_append(o, "<td>");
            rp_html_escape(o, sw_sweep_table_cell(t, r, c));
            g_string_append(o, "</td>");
        }
        if (!ok) {
            guint span = 0;
            for (gsize i = 0; i < G_N_ELEMENTS(shown); i++)
                span += sw_sweep_table_find_column(t, shown[i].column) >= 0 ? 1 : 0;
            g_string_append(o, "<td>");
            rp_html_escape(o, v->status_col >= 0 ? sw_sweep_table_cell(t, r, (guint)v->status_col) : "");
            g_string_append_printf(o, "</td><td colspan=\"%u\" class=\"err\">", MAX(span, 1u));
            rp_html_escape(o, cell(v, r, "error"));
            g_string_append(o, "</td></tr>\n");
            continue;
        }
        g_string_append(o, "<td>ok</td>");
        for (gsize i = 0; i < G_N_ELEMENTS(shown); i++) {
            if (sw_sweep_table_find_column(t, shown[i].column) < 0)
                continue;
            char b[64];
            double x = cell_number(v, r, shown[i].column);
            g_string_append(o, "<td class=\"n\">");
            if (strcmp(shown[i].column, "latency_basis") == 0) {
                const char *basis = cell(v, r, shown[i].column);
                rp_html_escape(o, basis);
                if (basis_is_estimate(basis))
                    g_string_append(o, " (an estimate)");
            } else if (isnan(x))
                rp_html_escape(o, cell(v, r, shown[i].column));
            else if (g_str_has_prefix(shown[i].column, "kv_usage")) {
                rp_html_escape(o, rp_svg_format(b, sizeof b, 100 * x, 1, FALSE));
                g_string_append(o, "%");
            } else
                rp_html_escape(o, rp_svg_format_sig(b, sizeof b, x));
            g_string_append(o, "</td>");
        }
        g_string_append(o, "</tr>\n");
    }
    g_string_append(o, "</tbody></table></div>\n");
}

char *sw_sweep_table_html(const SwSweepTable *t, const char *name, const char *description)
{
    View v;
    view_init(&v, t);
    GString *o = g_string_new(NULL);
    const char *title = name && *name ? name : "sweep";
    char *page_title = g_strdup_printf("Sweep: %s", title);
    rp_html_open(o, page_title, description, css);
    g_free(page_title);
    guint n = sw_sweep_table_num_rows(t), errors = sw_sweep_table_num_errors(t);
    g_string_append(o, "<dl class=\"facts\">\n");
    char *text = g_strdup_printf("%u (%u ran, %u could not run)", n, n - errors, errors);
    rp_html_fact(o, "points", text);
    g_free(text);
    for (guint c = 1; c <= v.nparams; c++) {
        GString *vals = g_string_new(NULL);
        GPtrArray *seen = g_ptr_array_new();
        for (guint r = 0; r < n; r++) {
            const char *x = sw_sweep_table_cell(t, r, c);
            gboolean dup = FALSE;
            for (guint i = 0; i < seen->len && !dup; i++)
                dup = strcmp(g_ptr_array_index(seen, i), x) == 0;
            if (!dup) {
                g_ptr_array_add(seen, (gpointer)x);
                g_string_append_printf(vals, "%s%s", vals->len ? ", " : "", x);
            }
        }
        char *term = g_strdup_printf("swept: %s%s", sw_sweep_table_column(t, c),
                                     (int)c == v.x_param ? " (the x axis)" : "");
        rp_html_fact(o, term, vals->str);
        g_free(term);
        g_ptr_array_free(seen, TRUE);
        g_string_free(vals, TRUE);
    }
    gboolean any_estimate = FALSE;
    step_time_facts(o, &v, &any_estimate);
    int id = sw_sweep_table_find_column(t, "sweep_id");
    if (id >= 0 && n > 0)
        rp_html_fact(o, "sweep id", sw_sweep_table_cell(t, 0, (guint)id));
    g_string_append(o, "</dl>\n");
    if (any_estimate)
        g_string_append(o, "<p class=\"warn\"><strong>Estimates:</strong> no kernel tables were measured on the GPU "
                           "of some points (\"step times\" in the table below): their step times are transferred "
                           "from another GPU's tables by the roofline rule or estimated, and their numbers are only "
                           "as good as that estimate. Measure, or fit the GPU's constants to your own runs with "
                           "servesim calibrate, before relying on them.</p>\n");
    g_string_append(o, "</header>\n");

    gboolean have_stats = sw_sweep_table_find_column(t, "ttft_p99_ms") >= 0;
    if (have_stats && n > errors) {
        g_string_append(o, "<h2>Throughput and latency</h2>\n<p>Each line is one setting (the swept fields other "
                           "than the x axis); its points follow the x axis (the rate when it is swept). p99 is the "
                           "value 99% of completed requests stay under.</p>\n<div class=\"charts\">\n");
        if (v.x_param >= 0) {
            const char *xname = sw_sweep_table_column(t, (guint)v.x_param);
            line_chart(o, &v, "p99 TTFT against throughput", "output_tokens_per_s", "output tokens/s",
                       "ttft_p99_ms", "p99 TTFT (ms)");
            line_chart(o, &v, "p99 TPOT against throughput", "output_tokens_per_s", "output tokens/s",
                       "tpot_p99_ms", "p99 TPOT (ms)");
            line_chart(o, &v, "p99 end-to-end latency against throughput", "output_tokens_per_s", "output tokens/s",
                       "e2e_p99_ms", "p99 E2E (ms)");
            g_string_append(o, "</div>\n<h2>Per setting</h2>\n<div class=\"charts\">\n");
            line_chart(o, &v, "Output throughput", NULL, xname, "output_tokens_per_s", "output tokens/s");
            line_chart(o, &v, "p50 TTFT", NULL, xname, "ttft_p50_ms", "p50 TTFT (ms)");
            line_chart(o, &v, "p99 TTFT", NULL, xname, "ttft_p99_ms", "p99 TTFT (ms)");
            line_chart(o, &v, "p50 TPOT", NULL, xname, "tpot_p50_ms", "p50 TPOT (ms)");
            line_chart(o, &v, "p99 TPOT", NULL, xname, "tpot_p99_ms", "p99 TPOT (ms)");
        } else {
            bar_chart(o, &v, "Output throughput", "output_tokens_per_s", "output tokens/s");
            bar_chart(o, &v, "p99 TTFT", "ttft_p99_ms", "ms");
            bar_chart(o, &v, "p99 TPOT", "tpot_p99_ms", "ms");
            bar_chart(o, &v, "p99 end-to-end latency", "e2e_p99_ms", "ms");
        }
        g_string_append(o, "</div>\n");
    }
    g_string_append(o, "<h2>Every point</h2>\n");
    rows_table(o, &v);
    g_string_append(o, "<footer>Written by servesim sweep. The same rows give the same page (sweep slices merged "
                       "with servesim merge too).</footer>\n");
    rp_html_close(o);
    view_clear(&v);
    return g_string_free(o, FALSE);
}

gboolean sw_sweep_write_output_dir(const SwSweepTable *t, const char *name, const char *description,
                                   const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        int e = errno;
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: cannot create the output folder: %s", dir, g_strerror(e));
        return FALSE;
    }
    static const char *const files[] = {"report.html", "sweep.csv", "sweep.json"};
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        char *text = i == 0 ? sw_sweep_table_html(t, name, description)
                     : i == 1 ? sw_sweep_table_csv(t)
                              : sw_sweep_table_json(t);
        char *path = g_build_filename(dir, files[i], NULL);
        gboolean ok = scn_write_file(path, text, error);
        g_free(path);
        g_free(text);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}
