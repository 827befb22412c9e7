/*
 * rp_svg.c: inline SVG line and bar charts for the planning report (see
 * rp_svg.h).
 *
 * A line chart is kept as plain arrays (series of points, threshold lines,
 * one vertical marker) until rp_svg_chart_render lays it out: the x axis runs
 * from 0 to a nice bound above every x (and the marker); the y axis from 0
 * (or the smallest value when one is negative) to a nice bound above every y
 * and threshold, or logarithmically between 1-2-5 values around the positive
 * data when they span more than two decades and the chart allows it. The
 * legend is laid out in rows under the plot before the <svg> element is
 * opened, because its height depends on how the entries wrap.
 *
 * Text widths are estimated from the number of characters (the fonts are the
 * reader's own: no web fonts), generously enough that labels do not collide
 * at the sizes used here.
 */
#include "rp_svg.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------- text -- */

void rp_svg_escape(GString *out, const char *text)
{
    if (!text)
        return;
    char *valid = g_utf8_make_valid(text, -1);
    for (const char *p = valid; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        switch (ch) {
        case '&':
            g_string_append(out, "&amp;");
            break;
        case '<':
            g_string_append(out, "&lt;");
            break;
        case '>':
            g_string_append(out, "&gt;");
            break;
        case '"':
            g_string_append(out, "&quot;");
            break;
        case '\'':
            g_string_append(out, "&#39;");
            break;
        default:
            if ((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7f)
                g_string_append_c(out, ' ');
            else
                g_string_append_c(out, (char)ch);
        }
    }
    g_free(valid);
}

/* Inserts a comma between groups of three digits of the integer part. */
static void group_digits(char *buf, gsize size)
{
    gsize start = buf[0] == '-' ? 1 : 0;
    gsize end = start;
    while (g_ascii_isdigit(buf[end]))
        end++;
    gsize digits = end - start;
    if (digits <= 3)
        return;
    gsize len = strlen(buf);
    char tmp[128];
    if (len + digits / 3 + 1 > MIN(size, sizeof tmp))
        return;
    gsize o = 0;
    for (gsize i = 0; i < start; i++)
        tmp[o++] = buf[i];
    for (gsize i = start; i < end; i++) {
        tmp[o++] = buf[i];
        gsize left = end - i - 1;
        if (left > 0 && left % 3 == 0)
            tmp[o++] = ',';
    }
    for (gsize i = end; i <= len; i++) /* with the NUL */
        tmp[o++] = buf[i];
    memcpy(buf, tmp, o);
}

char *rp_svg_format(char *buf, gsize size, double v, int decimals, gboolean group)
{
    /* a contract on the caller's buffer (every caller passes a fixed array of
     * at least 64 bytes), not on input */
    g_return_val_if_fail(buf && size >= 64, buf);
    if (!isfinite(v)) {
        g_strlcpy(buf, "\xe2\x80\x93", size); /* en dash */
        return buf;
    }
    if (fabs(v) >= 1e15) {
        g_ascii_formatd(buf, (int)size, "%.3g", v);
        return buf;
    }
    char fmt[16];
    g_snprintf(fmt, sizeof fmt, "%%.%df", CLAMP(decimals, 0, 12));
    g_ascii_formatd(buf, (int)size, fmt, v);
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
        memmove(buf, buf + 1, strlen(buf)); /* "-0.00" -> "0.00" */
    if (group)
        group_digits(buf, size);
    return buf;
}

char *rp_svg_format_sig(char *buf, gsize size, double v)
{
    double a = fabs(v);
    int decimals;
    if (!isfinite(v) || a >= 100 || a == 0)
        decimals = 0;
    else if (a >= 10)
        decimals = 1;
    else if (a >= 1)
        decimals = 2;
    else
        decimals = MIN(2 - (int)floor(log10(a)), 12);
    rp_svg_format(buf, size, v, decimals, TRUE);
    if (decimals > 0 && strchr(buf, '.')) { /* "5.00" -> "5", "12.50" -> "12.5" */
        char *e = buf + strlen(buf);
        while (e[-1] == '0')
            *--e = '\0';
        if (e[-1] == '.')
            *--e = '\0';
    }
    return buf;
}

/* A coordinate: one decimal, no locale, no "-0". */
static void append_num(GString *out, double v)
{
    char buf[64];
    if (!isfinite(v))
        v = 0; /* callers only pass finite values; never print NaN */
    v = round(v * 10.0) / 10.0;
    if (v == 0)
        v = 0; /* -0 */
    if (v == floor(v) && fabs(v) < 1e9)
        g_ascii_formatd(buf, sizeof buf, "%.0f", v);
    else
        g_ascii_formatd(buf, sizeof buf, "%.1f", v);
    g_string_append(out, buf);
}

/* name="value" with a numeric value, preceded by a space. */
static void attr_num(GString *out, const char *name, double v)
{
    g_string_append_printf(out, " %s=\"", name);
    append_num(out, v);
    g_string_append_c(out, '"');
}

/* Estimated width of `text` in user units at font size `px`. */
static double text_width(const char *text, double px)
{
    return text ? (double)g_utf8_strlen(text, -1) * px * 0.56 : 0;
}

/* `text` cut to at most `max_chars` characters, with an ellipsis (g_free). */
static char *truncate_text(const char *text, glong max_chars)
{
    if (!text)
        return g_strdup("");
    char *valid = g_utf8_make_valid(text, -1);
    glong n = g_utf8_strlen(valid, -1);
    if (n <= max_chars || max_chars < 2)
        return valid;
    char *head = g_utf8_substring(valid, 0, max_chars - 1);
    char *out = g_strconcat(head, "\xe2\x80\xa6", NULL);
    g_free(head);
    g_free(valid);
    return out;
}

/* ------------------------------------------------------------ ticks -- */

int rp_svg_step_decimals(double step)
{
    if (!(step > 0) || !isfinite(step) || step >= 1)
        return 0;
    return MIN((int)ceil(-log10(step) - 1e-9), 12);
}

guint rp_svg_nice_ticks(double lo, double hi, guint target, double *ticks, double *step)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi == lo) {
        double d = lo == 0 ? 1 : fabs(lo) * 0.1;
        if (lo != 0)
            lo -= d;
        hi += d;
    }
    target = CLAMP(target, 1, 20);
    double raw = (hi - lo) / target;
    if (!isfinite(raw) || !(raw > 0)) {
        lo = 0;
        hi = 1;
        raw = 1.0 / target;
    }
    double mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    double st = (r <= 1 + 1e-9 ? 1 : r <= 2 + 1e-9 ? 2 : r <= 5 + 1e-9 ? 5 : 10) * mag;
    double first = floor(lo / st + 1e-9) * st;
    double last = ceil(hi / st - 1e-9) * st;
    double count = round((last - first) / st) + 1;
    while (count > RP_SVG_MAX_TICKS) { /* cannot happen with target <= 20, kept as a guard */
        st *= 2;
        first = floor(lo / st + 1e-9) * st;
        last = ceil(hi / st - 1e-9) * st;
        count = round((last - first) / st) + 1;
    }
    guint n = MAX((guint)count, 2);
    for (guint i = 0; i < n; i++) {
        double t = first + st * i;
        ticks[i] = fabs(t) < st * 1e-9 ? 0 : t;
    }
    if (step)
        *step = st;
    return n;
}

guint rp_svg_log_ticks(double lo, double hi, double *ticks)
{
    if (!(lo > 0) || !isfinite(lo) || !isfinite(hi) || hi < lo) {
        lo = 1;
        hi = 10;
    }
    int e0 = (int)floor(log10(lo) + 1e-9);
    int e1 = (int)ceil(log10(hi) - 1e-9);
    if (e1 <= e0)
        e1 = e0 + 1;
    guint n = 0;
    if (e1 - e0 > 3) {
        int every = (e1 - e0) / (RP_SVG_MAX_TICKS - 1) + 1;
        for (int e = e0; e < e1 + every && n < RP_SVG_MAX_TICKS; e += every)
            ticks[n++] = pow(10, e);
        return n;
    }
    static const double mant[] = {1, 2, 5};
    double cand[16];
    guint nc = 0;
    for (int e = e0; e <= e1; e++)
        for (guint m = 0; m < G_N_ELEMENTS(mant) && nc < G_N_ELEMENTS(cand); m++) {
            cand[nc++] = mant[m] * pow(10, e);
            if (e == e1)
                break; /* 10^e1 is the last one needed */
        }
    guint first = 0, last = nc - 1;
    for (guint i = 0; i < nc; i++)
        if (cand[i] <= lo * (1 + 1e-9))
            first = i;
    for (guint i = nc; i-- > 0;)
        if (cand[i] >= hi * (1 - 1e-9))
            last = i;
    if (last <= first)
        last = MIN(first + 1, nc - 1);
    for (guint i = first; i <= last; i++)
        ticks[n++] = cand[i];
    return n;
}

/* The label of a tick at value v on an axis of step `step` (log axes: 0). */
static char *tick_label(char *buf, gsize size, double v, double step)
{
    int decimals = step > 0 ? rp_svg_step_decimals(step) : rp_svg_step_decimals(v);
    return rp_svg_format(buf, size, v, decimals, TRUE);
}

/* ------------------------------------------------------- line chart -- */

#define CHART_W 620.0
#define CHART_ML 76.0  /* left margin: tick labels and the rotated axis label */
#define CHART_MR 20.0
#define CHART_MT 40.0  /* title above the plot */
#define CHART_PH 230.0 /* plot height */
#define FONT_PX 12.0
#define LEGEND_ROW 19.0

typedef struct {
    double x, y;
    gboolean pass;
    char *tip;
} Point;

typedef struct {
    char *name;
    char *color;
    RpSvgMarker marker;
    GArray *points; /* Point */
} Series;

typedef struct {
    double y;
    char *legend, *short_label, *color;
} HLine;

struct RpSvgChart {
    char *title, *desc, *x_label, *y_label;
    gboolean y_log_allowed;
    GPtrArray *series; /* Series* */
    GArray *hlines;    /* HLine */
    char *fail_legend;
    gboolean has_vline;
    double vline_x;
    char *vline_legend, *vline_label, *shade_legend;
    char *diagonal_legend; /* NULL: no diagonal */
    double y_ceiling;      /* > 0: the headroom stops there */
};

static void series_free(gpointer p)
{
    Series *s = p;
    for (guint i = 0; i < s->points->len; i++)
        g_free(g_array_index(s->points, Point, i).tip);
    g_array_free(s->points, TRUE);
    g_free(s->name);
    g_free(s->color);
    g_free(s);
}

RpSvgChart *rp_svg_chart_new(const char *title, const char *desc, const char *x_label, const char *y_label,
                             gboolean y_log_allowed)
{
    RpSvgChart *c = g_new0(RpSvgChart, 1);
    c->title = g_strdup(title);
    c->desc = g_strdup(desc);
    c->x_label = g_strdup(x_label);
    c->y_label = g_strdup(y_label);
    c->y_log_allowed = y_log_allowed;
    c->series = g_ptr_array_new_with_free_func(series_free);
    c->hlines = g_array_new(FALSE, TRUE, sizeof(HLine));
    return c;
}

void rp_svg_chart_free(RpSvgChart *c)
{
    if (!c)
        return;
    for (guint i = 0; i < c->hlines->len; i++) {
        HLine *h = &g_array_index(c->hlines, HLine, i);
        g_free(h->legend);
        g_free(h->short_label);
        g_free(h->color);
    }
    g_array_free(c->hlines, TRUE);
    g_ptr_array_free(c->series, TRUE);
    g_free(c->title);
    g_free(c->desc);
    g_free(c->x_label);
    g_free(c->y_label);
    g_free(c->fail_legend);
    g_free(c->vline_legend);
    g_free(c->vline_label);
    g_free(c->shade_legend);
    g_free(c->diagonal_legend);
    g_free(c);
}

void rp_svg_chart_set_desc(RpSvgChart *c, const char *desc)
{
    g_free(c->desc);
    c->desc = g_strdup(desc);
}

guint rp_svg_chart_add_series(RpSvgChart *c, const char *name, const char *color, RpSvgMarker marker)
{
    Series *s = g_new0(Series, 1);
    s->name = g_strdup(name);
    s->color = g_strdup(color);
    s->marker = marker;
    s->points = g_array_new(FALSE, TRUE, sizeof(Point));
    g_ptr_array_add(c->series, s);
    return c->series->len - 1;
}

void rp_svg_chart_add_point(RpSvgChart *c, guint series, double x, double y, gboolean pass, const char *tip)
{
    /* callers pass an index rp_svg_chart_add_series returned: not input */
    g_return_if_fail(series < c->series->len);
    Series *s = g_ptr_array_index(c->series, series);
    Point p = {x, y, pass, g_strdup(tip)};
    g_array_append_val(s->points, p);
}

void rp_svg_chart_set_fail_legend(RpSvgChart *c, const char *text)
{
    g_free(c->fail_legend);
    c->fail_legend = g_strdup(text);
}

void rp_svg_chart_add_hline(RpSvgChart *c, double y, const char *legend, const char *short_label, const char *color)
{
    if (!isfinite(y))
        return;
    HLine h = {y, g_strdup(legend), g_strdup(short_label), g_strdup(color)};
    g_array_append_val(c->hlines, h);
}

void rp_svg_chart_set_vline(RpSvgChart *c, double x, const char *legend, const char *short_label,
                            const char *shade_legend)
{
    if (!isfinite(x))
        return;
    c->has_vline = TRUE;
    c->vline_x = x;
    g_free(c->vline_legend);
    g_free(c->vline_label);
    g_free(c->shade_legend);
    c->vline_legend = g_strdup(legend);
    c->vline_label = g_strdup(short_label);
    c->shade_legend = g_strdup(shade_legend);
}

void rp_svg_chart_set_diagonal(RpSvgChart *c, const char *legend)
{
    g_free(c->diagonal_legend);
    c->diagonal_legend = g_strdup(legend ? legend : "y = x");
}

void rp_svg_chart_set_y_ceiling(RpSvgChart *c, double y)
{
    c->y_ceiling = isfinite(y) && y > 0 ? y : 0;
}

/* An axis: data value -> user units. */
typedef struct {
    gboolean log;
    double lo, hi;         /* domain */
    double p0, p1;         /* range in user units (p0 maps lo) */
    double ticks[RP_SVG_MAX_TICKS];
    guint num_ticks;
    double step;           /* 0 on a log axis */
} Axis;

static double axis_map(const Axis *a, double v)
{
    double t;
    if (a->log)
        t = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    else
        t = (v - a->lo) / (a->hi - a->lo);
    if (!isfinite(t))
        t = 0;
    return a->p0 + t * (a->p1 - a->p0);
}

static gboolean usable(const Axis *a, double v)
{
    return isfinite(v) && (!a->log || v > 0);
}

/* Linear axis over [min(lo, 0), hi] with nice ticks. */
static void axis_linear(Axis *a, double lo, double hi, guint target)
{
    a->log = FALSE;
    a->num_ticks = rp_svg_nice_ticks(MIN(lo, 0), hi, target, a->ticks, &a->step);
    a->lo = a->ticks[0];
    a->hi = a->ticks[a->num_ticks - 1];
}

static void axis_log(Axis *a, double lo, double hi)
{
    a->log = TRUE;
    a->step = 0;
    a->num_ticks = rp_svg_log_ticks(lo, hi, a->ticks);
    a->lo = a->ticks[0];
    a->hi = a->ticks[a->num_ticks - 1];
}

typedef enum { LEG_SERIES, LEG_FAIL, LEG_HLINE, LEG_VLINE, LEG_SHADE, LEG_DIAG } LegendKind;

typedef struct {
    LegendKind kind;
    const char *text;
    const char *color;
    RpSvgMarker marker;
    double x, y; /* swatch origin: left end, baseline row centre */
} LegendItem;

static void marker_shape(GString *out, RpSvgMarker m, double x, double y, const char *color, gboolean filled,
                         const char *tip)
{
    const char *fill = filled ? color : "#ffffff";
    switch (m) {
    case RP_SVG_MARK_SQUARE:
        g_string_append(out, "<rect");
        attr_num(out, "x", x - 3.8);
        attr_num(out, "y", y - 3.8);
        attr_num(out, "width", 7.6);
        attr_num(out, "height", 7.6);
        break;
    case RP_SVG_MARK_DIAMOND:
    case RP_SVG_MARK_TRIANGLE:
        g_string_append(out, "<polygon points=\"");
        if (m == RP_SVG_MARK_DIAMOND) {
            double pts[8] = {x, y - 5.2, x + 5.2, y, x, y + 5.2, x - 5.2, y};
            for (int i = 0; i < 8; i += 2) {
                append_num(out, pts[i]);
                g_string_append_c(out, ',');
                append_num(out, pts[i + 1]);
                g_string_append(out, i < 6 ? " " : "\"");
            }
        } else {
            double pts[6] = {x, y - 5.2, x + 5, y + 3.8, x - 5, y + 3.8};
            for (int i = 0; i < 6; i += 2) {
                append_num(out, pts[i]);
                g_string_append_c(out, ',');
                append_num(out, pts[i + 1]);
                g_string_append(out, i < 4 ? " " : "\"");
            }
        }
        break;
    case RP_SVG_MARK_CIRCLE:
    default:
        g_string_append(out, "<circle");
        attr_num(out, "cx", x);
        attr_num(out, "cy", y);
        attr_num(out, "r", 4.2);
        break;
    }
    g_string_append_printf(out, " fill=\"%s\" stroke=\"%s\" stroke-width=\"1.6\"", fill, color);
    if (tip) {
        g_string_append(out, "><title>");
        rp_svg_escape(out, tip);
        g_string_append(out, "</title>");
        switch (m) {
        case RP_SVG_MARK_SQUARE:
            g_string_append(out, "</rect>\n");
            break;
        case RP_SVG_MARK_DIAMOND:
        case RP_SVG_MARK_TRIANGLE:
            g_string_append(out, "</polygon>\n");
            break;
        default:
            g_string_append(out, "</circle>\n");
        }
    } else {
        g_string_append(out, "/>\n");
    }
}

static void line(GString *out, double x1, double y1, double x2, double y2, const char *stroke, double width,
                 const char *dash)
{
    g_string_append(out, "<line");
    attr_num(out, "x1", x1);
    attr_num(out, "y1", y1);
    attr_num(out, "x2", x2);
    attr_num(out, "y2", y2);
    g_string_append_printf(out, " stroke=\"%s\"", stroke);
    attr_num(out, "stroke-width", width);
    if (dash)
        g_string_append_printf(out, " stroke-dasharray=\"%s\"", dash);
    g_string_append(out, "/>\n");
}

/* <text> with escaped content; `extra` holds further literal attributes. */
static void text_at(GString *out, double x, double y, const char *anchor, const char *extra, const char *text)
{
    g_string_append(out, "<text");
    attr_num(out, "x", x);
    attr_num(out, "y", y);
    if (anchor)
        g_string_append_printf(out, " text-anchor=\"%s\"", anchor);
    if (extra)
        g_string_append_printf(out, " %s", extra);
    g_string_append_c(out, '>');
    rp_svg_escape(out, text);
    g_string_append(out, "</text>\n");
}

static void svg_open(GString *out, double w, double h, const char *title, const char *desc)
{
    g_string_append(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 ");
    append_num(out, w);
    g_string_append_c(out, ' ');
    append_num(out, h);
    g_string_append_c(out, '"');
    attr_num(out, "width", w);
    attr_num(out, "height", h);
    g_string_append(out, " font-family=\"Helvetica, Arial, sans-serif\"");
    attr_num(out, "font-size", FONT_PX);
    g_string_append(out, ">\n<title>");
    rp_svg_escape(out, title);
    g_string_append(out, "</title>\n");
    if (desc) {
        g_string_append(out, "<desc>");
        rp_svg_escape(out, desc);
        g_string_append(out, "</desc>\n");
    }
    g_string_append(out, "<rect x=\"0\" y=\"0\"");
    attr_num(out, "width", w);
    attr_num(out, "height", h);
    g_string_append(out, " fill=\"#ffffff\"/>\n");
    text_at(out, 12, 22, NULL, "font-size=\"14\" font-weight=\"bold\" fill=\"#1d2329\"", title);
}

#define HALO "stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\""

void rp_svg_chart_render(const RpSvgChart *c, GString *out)
{
    /* ---- domains */
    double xmax = 0, ymin = 0, ymax = 0, ypos_min = INFINITY, ypos_max = 0;
    gboolean any_fail = FALSE;
    for (guint s = 0; s < c->series->len; s++) {
        const Series *se = g_ptr_array_index(c->series, s);
        for (guint i = 0; i < se->points->len; i++) {
            const Point *p = &g_array_index(se->points, Point, i);
            if (!isfinite(p->x) || !isfinite(p->y))
                continue;
            xmax = MAX(xmax, p->x);
            ymin = MIN(ymin, p->y);
            ymax = MAX(ymax, p->y);
            if (p->y > 0) {
                ypos_min = MIN(ypos_min, p->y);
                ypos_max = MAX(ypos_max, p->y);
            }
            any_fail |= !p->pass;
        }
    }
    for (guint i = 0; i < c->hlines->len; i++) {
        double y = g_array_index(c->hlines, HLine, i).y;
        ymin = MIN(ymin, y);
        ymax = MAX(ymax, y);
        if (y > 0) {
            ypos_min = MIN(ypos_min, y);
            ypos_max = MAX(ypos_max, y);
        }
    }
    if (c->has_vline)
        xmax = MAX(xmax, c->vline_x);

    Axis ax = {0}, ay = {0};
    ax.p0 = CHART_ML;
    ax.p1 = CHART_W - CHART_MR;
    axis_linear(&ax, 0, xmax, 6);
    ay.p0 = CHART_MT + CHART_PH;
    ay.p1 = CHART_MT;
    if (c->y_log_allowed && ymin >= 0 && ypos_max > 0 && ypos_max / ypos_min > 100)
        axis_log(&ay, ypos_min, ypos_max);
    else { /* 4% headroom: a threshold at the maximum stays off the frame */
        double hi = ymax + 0.04 * (ymax - ymin);
        if (c->y_ceiling > 0 && ymax <= c->y_ceiling && hi > c->y_ceiling)
            hi = c->y_ceiling;
        axis_linear(&ay, ymin, hi, 5);
    }
    const double left = ax.p0, right = ax.p1, top = ay.p1, bottom = ay.p0;

    /* ---- legend layout */
    LegendItem items[64];
    guint ni = 0;
    for (guint s = 0; s < c->series->len && ni < 48; s++) {
        const Series *se = g_ptr_array_index(c->series, s);
        items[ni++] = (LegendItem){LEG_SERIES, se->name, se->color, se->marker, 0, 0};
    }
    if (any_fail && c->fail_legend)
        items[ni++] = (LegendItem){LEG_FAIL, c->fail_legend, "#555555", RP_SVG_MARK_CIRCLE, 0, 0};
    for (guint i = 0; i < c->hlines->len && ni < 60; i++) {
        const HLine *h = &g_array_index(c->hlines, HLine, i);
        items[ni++] = (LegendItem){LEG_HLINE, h->legend, h->color, 0, 0, 0};
    }
    if (c->has_vline) {
        items[ni++] = (LegendItem){LEG_VLINE, c->vline_legend, "#333333", 0, 0, 0};
        if (c->shade_legend)
            items[ni++] = (LegendItem){LEG_SHADE, c->shade_legend, "#000000", 0, 0, 0};
    }
    if (c->diagonal_legend)
        items[ni++] = (LegendItem){LEG_DIAG, c->diagonal_legend, "#777777", 0, 0, 0};
    const double legend_top = bottom + 58;
    double lx = 12, ly = legend_top;
    for (guint i = 0; i < ni; i++) {
        double w = 30 + text_width(items[i].text, 11.5) + 18;
        if (lx > 12 && lx + w > CHART_W - 8) {
            lx = 12;
            ly += LEGEND_ROW;
        }
        items[i].x = lx;
        items[i].y = ly;
        lx += w;
    }
    const double height = (ni ? ly + 12 : bottom + 48);

    /* ---- frame, grid, axes */
    svg_open(out, CHART_W, height, c->title, c->desc);
    char buf[64];
    for (guint i = 0; i < ay.num_ticks; i++) {
        double y = axis_map(&ay, ay.ticks[i]);
        line(out, left, y, right, y, "#e3e7eb", 1, NULL);
        text_at(out, left - 7, y + 4, "end", "fill=\"#333333\"", tick_label(buf, sizeof buf, ay.ticks[i], ay.step));
    }
    for (guint i = 0; i < ax.num_ticks; i++) {
        double x = axis_map(&ax, ax.ticks[i]);
        line(out, x, top, x, bottom, "#eef0f3", 1, NULL);
        line(out, x, bottom, x, bottom + 5, "#444444", 1, NULL);
        text_at(out, x, bottom + 18, "middle", "fill=\"#333333\"", tick_label(buf, sizeof buf, ax.ticks[i], ax.step));
    }
    line(out, left, top, left, bottom, "#444444", 1, NULL);
    line(out, left, bottom, right, bottom, "#444444", 1, NULL);
    text_at(out, (left + right) / 2, bottom + 38, "middle", "fill=\"#1d2329\"", c->x_label);
    {
        char *ylab = ay.log ? g_strdup_printf("%s, log scale", c->y_label ? c->y_label : "") : g_strdup(c->y_label);
        g_string_append(out, "<text");
        attr_num(out, "x", 0);
        attr_num(out, "y", 0);
        g_string_append(out, " text-anchor=\"middle\" fill=\"#1d2329\" transform=\"translate(");
        append_num(out, 16);
        g_string_append_c(out, ' ');
        append_num(out, (top + bottom) / 2);
        g_string_append(out, ") rotate(-90)\">");
        rp_svg_escape(out, ylab);
        g_string_append(out, "</text>\n");
        g_free(ylab);
    }

    /* ---- the region above the vertical marker, thresholds, y = x */
    if (c->has_vline) {
        double x = axis_map(&ax, c->vline_x);
        if (c->shade_legend && right - x > 0.5) {
            g_string_append(out, "<rect");
            attr_num(out, "x", x);
            attr_num(out, "y", top);
            attr_num(out, "width", right - x);
            attr_num(out, "height", bottom - top);
            g_string_append(out, " fill=\"#000000\" fill-opacity=\"0.06\"/>\n");
        }
    }
    if (c->diagonal_legend) {
        double m = MIN(ax.hi, ay.hi);
        if (m > 0 && !ay.log)
            line(out, axis_map(&ax, 0), axis_map(&ay, 0), axis_map(&ax, m), axis_map(&ay, m), "#777777", 1.5, "2 3");
    }
    for (guint i = 0; i < c->hlines->len; i++) {
        const HLine *h = &g_array_index(c->hlines, HLine, i);
        if (!usable(&ay, h->y))
            continue;
        double y = axis_map(&ay, h->y);
        line(out, left, y, right, y, h->color, 1.8, "8 4");
        /* at the left end: latency is lowest at low load, so the label stays clear of the curves */
        char *attrs = g_strdup_printf("fill=\"%s\" font-weight=\"bold\" " HALO, h->color);
        text_at(out, left + 6, y - 5, "start", attrs, h->short_label);
        g_free(attrs);
    }
    if (c->has_vline) {
        double x = axis_map(&ax, c->vline_x);
        line(out, x, top, x, bottom, "#333333", 1.6, "6 3 2 3");
        gboolean room_right = right - x > text_width(c->vline_label, FONT_PX) + 8;
        text_at(out, room_right ? x + 4 : x - 4, top + 13, room_right ? "start" : "end",
                "fill=\"#1d2329\" " HALO, c->vline_label);
    }

    /* ---- series: lines first, then markers on top */
    for (guint s = 0; s < c->series->len; s++) {
        const Series *se = g_ptr_array_index(c->series, s);
        gboolean open = FALSE;
        for (guint i = 0; i < se->points->len; i++) {
            const Point *p = &g_array_index(se->points, Point, i);
            if (!usable(&ax, p->x) || !usable(&ay, p->y)) {
                if (open)
                    g_string_append_printf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", se->color);
                open = FALSE;
                continue;
            }
            g_string_append(out, open ? " " : "<polyline points=\"");
            append_num(out, axis_map(&ax, p->x));
            g_string_append_c(out, ',');
            append_num(out, axis_map(&ay, p->y));
            open = TRUE;
        }
        if (open)
            g_string_append_printf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", se->color);
    }
    for (guint s = 0; s < c->series->len; s++) {
        const Series *se = g_ptr_array_index(c->series, s);
        for (guint i = 0; i < se->points->len; i++) {
            const Point *p = &g_array_index(se->points, Point, i);
            if (se->marker != RP_SVG_MARK_NONE && usable(&ax, p->x) && usable(&ay, p->y))
                marker_shape(out, se->marker, axis_map(&ax, p->x), axis_map(&ay, p->y), se->color, p->pass,
                             p->tip);
        }
    }

    /* ---- legend */
    for (guint i = 0; i < ni; i++) {
        const LegendItem *it = &items[i];
        double x = it->x, y = it->y;
        switch (it->kind) {
        case LEG_SERIES:
            line(out, x, y, x + 24, y, it->color, 2, NULL);
            if (it->marker != RP_SVG_MARK_NONE)
                marker_shape(out, it->marker, x + 12, y, it->color, TRUE, NULL);
            break;
        case LEG_FAIL:
            marker_shape(out, RP_SVG_MARK_CIRCLE, x + 12, y, it->color, FALSE, NULL);
            break;
        case LEG_HLINE:
            line(out, x, y, x + 24, y, it->color, 1.8, "8 4");
            break;
        case LEG_VLINE:
            line(out, x + 12, y - 7, x + 12, y + 7, it->color, 1.6, "6 3 2 3");
            break;
        case LEG_SHADE:
            g_string_append(out, "<rect");
            attr_num(out, "x", x + 2);
            attr_num(out, "y", y - 7);
            attr_num(out, "width", 20);
            attr_num(out, "height", 14);
            g_string_append(out, " fill=\"#000000\" fill-opacity=\"0.09\" stroke=\"#bbbbbb\"/>\n");
            break;
        case LEG_DIAG:
            line(out, x, y + 6, x + 24, y - 6, it->color, 1.5, "2 3");
            break;
        }
        text_at(out, x + 30, y + 4, NULL, "font-size=\"11.5\" fill=\"#1d2329\"", it->text);
    }
    g_string_append(out, "</svg>\n");
}

/* -------------------------------------------------------- bar chart -- */

void rp_svg_bar_chart(GString *out, const char *title, const char *desc, const char *x_label, const RpSvgBar *bars,
                      guint n, double width)
{
    const double row_h = 30, bar_h = 18, top = 40;
    double max_label = 0, max_text = 0, vmax = 0;
    for (guint i = 0; i < n; i++) {
        max_label = MAX(max_label, text_width(bars[i].label, FONT_PX));
        if (isfinite(bars[i].value) && bars[i].value >= 0) {
            vmax = MAX(vmax, bars[i].value);
            max_text = MAX(max_text, text_width(bars[i].text, FONT_PX));
        }
    }
    width = MAX(width, 480);
    double label_w = CLAMP(max_label + 20, 120, 300);
    double text_w = CLAMP(max_text + 14, 90, width * 0.4);
    Axis ax = {0};
    ax.p0 = label_w;
    ax.p1 = width - text_w;
    axis_linear(&ax, 0, vmax, 6);
    const double bottom = top + row_h * MAX(n, 1);
    const double height = bottom + 50;

    svg_open(out, width, height, title, desc);
    char buf[64];
    for (guint i = 0; i < ax.num_ticks; i++) {
        double x = axis_map(&ax, ax.ticks[i]);
        line(out, x, top, x, bottom, "#e3e7eb", 1, NULL);
        line(out, x, bottom, x, bottom + 5, "#444444", 1, NULL);
        text_at(out, x, bottom + 18, "middle", "fill=\"#333333\"", tick_label(buf, sizeof buf, ax.ticks[i], ax.step));
    }
    line(out, ax.p0, top, ax.p0, bottom, "#444444", 1, NULL);
    line(out, ax.p0, bottom, ax.p1, bottom, "#444444", 1, NULL);
    text_at(out, (ax.p0 + ax.p1) / 2, bottom + 38, "middle", "fill=\"#1d2329\"", x_label);
    if (n == 0)
        text_at(out, ax.p0 + 8, top + row_h / 2 + 4, NULL, "fill=\"#5b6670\"", "no candidates");

    glong label_chars = (glong)((label_w - 20) / (FONT_PX * 0.56));
    for (guint i = 0; i < n; i++) {
        const RpSvgBar *b = &bars[i];
        double yc = top + row_h * i + row_h / 2;
        g_string_append(out, "<g>");
        if (b->tip) {
            g_string_append(out, "<title>");
            rp_svg_escape(out, b->tip);
            g_string_append(out, "</title>");
        }
        g_string_append_c(out, '\n');
        char *label = truncate_text(b->label, label_chars);
        text_at(out, label_w - 10, yc + 4, "end",
                b->highlight ? "font-weight=\"bold\" fill=\"#1d2329\"" : "fill=\"#1d2329\"", label);
        g_free(label);
        if (isfinite(b->value) && b->value >= 0) {
            double x1 = axis_map(&ax, b->value);
            g_string_append(out, "<rect");
            attr_num(out, "x", ax.p0);
            attr_num(out, "y", yc - bar_h / 2);
            attr_num(out, "width", MAX(x1 - ax.p0, 1));
            attr_num(out, "height", bar_h);
            g_string_append_printf(out, " fill=\"%s\"/>\n", b->highlight ? "#1a7f37" : "#5b8db8");
            text_at(out, MAX(x1, ax.p0 + 1) + 6, yc + 4, NULL,
                    b->highlight ? "font-weight=\"bold\" fill=\"#1d2329\"" : "fill=\"#1d2329\"", b->text);
        } else {
            glong chars = (glong)((width - ax.p0 - 16) / (FONT_PX * 0.56));
            char *t = truncate_text(b->text, chars);
            text_at(out, ax.p0 + 8, yc + 4, NULL, "font-style=\"italic\" fill=\"#8a3b12\"", t);
            g_free(t);
        }
        g_string_append(out, "</g>\n");
    }
    g_string_append(out, "</svg>\n");
}
