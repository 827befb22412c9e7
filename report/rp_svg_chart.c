/*
 * rp_svg_chart.c: the line chart of rp_svg.h (RpSvgChart): what a caller
 * adds to it and how it is laid out and written.
 *
 * A line chart is kept as plain arrays (series of points, threshold lines,
 * one vertical marker) until rp_svg_chart_render lays it out: the x axis runs
 * from 0 to a nice bound above every x (and the marker); the y axis from 0
 * (or the smallest value when one is negative) to a nice bound above every y
 * and threshold, or logarithmically between 1-2-5 values around the positive
 * data when they span more than two decades and the chart allows it. The
 * legend is laid out in rows under the plot before the <svg> element is
 * opened, because its height depends on how the entries wrap. Ticks, axes,
 * text and the elements themselves come from rp_svg.c.
 *
 * Cost: O(points + ticks) per chart.
 */
#include <math.h>

#include "rp_svg_internal.h"

#define CHART_W 620.0
#define CHART_ML 76.0  /* left margin: tick labels and the rotated axis label */
#define CHART_MR 20.0
#define CHART_MT 40.0  /* title above the plot */
#define CHART_PH 230.0 /* plot height */
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

/* ----------------------------------------------------------- render -- */

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
        rp_svg_attr_num(out, "x", x - 3.8);
        rp_svg_attr_num(out, "y", y - 3.8);
        rp_svg_attr_num(out, "width", 7.6);
        rp_svg_attr_num(out, "height", 7.6);
        break;
    case RP_SVG_MARK_DIAMOND:
    case RP_SVG_MARK_TRIANGLE:
        g_string_append(out, "<polygon points=\"");
        if (m == RP_SVG_MARK_DIAMOND) {
            double pts[8] = {x, y - 5.2, x + 5.2, y, x, y + 5.2, x - 5.2, y};
            for (int i = 0; i < 8; i += 2) {
                rp_svg_append_num(out, pts[i]);
                g_string_append_c(out, ',');
                rp_svg_append_num(out, pts[i + 1]);
                g_string_append(out, i < 6 ? " " : "\"");
            }
        } else {
            double pts[6] = {x, y - 5.2, x + 5, y + 3.8, x - 5, y + 3.8};
            for (int i = 0; i < 6; i += 2) {
                rp_svg_append_num(out, pts[i]);
                g_string_append_c(out, ',');
                rp_svg_append_num(out, pts[i + 1]);
                g_string_append(out, i < 4 ? " " : "\"");
            }
        }
        break;
    case RP_SVG_MARK_CIRCLE:
    default:
        g_string_append(out, "<circle");
        rp_svg_attr_num(out, "cx", x);
        rp_svg_attr_num(out, "cy", y);
        rp_svg_attr_num(out, "r", 4.2);
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

    RpSvgAxis ax = {0}, ay = {0};
    ax.p0 = CHART_ML;
    ax.p1 = CHART_W - CHART_MR;
    rp_svg_axis_linear(&ax, 0, xmax, 6);
    ay.p0 = CHART_MT + CHART_PH;
    ay.p1 = CHART_MT;
    if (c->y_log_allowed && ymin >= 0 && ypos_max > 0 && ypos_max / ypos_min > 100)
        rp_svg_axis_log(&ay, ypos_min, ypos_max);
    else { /* 4% headroom: a threshold at the maximum stays off the frame */
        double hi = ymax + 0.04 * (ymax - ymin);
        if (c->y_ceiling > 0 && ymax <= c->y_ceiling && hi > c->y_ceiling)
            hi = c->y_ceiling;
        rp_svg_axis_linear(&ay, ymin, hi, 5);
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
        double w = 30 + rp_svg_text_width(items[i].text, 11.5) + 18;
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
    rp_svg_open(out, CHART_W, height, c->title, c->desc);
    char buf[64];
    for (guint i = 0; i < ay.num_ticks; i++) {
        double y = rp_svg_axis_map(&ay, ay.ticks[i]);
        rp_svg_line(out, left, y, right, y, "#e3e7eb", 1, NULL);
        rp_svg_text(out, left - 7, y + 4, "end", "fill=\"#333333\"",
                    rp_svg_tick_label(buf, sizeof buf, ay.ticks[i], ay.step));
    }
    rp_svg_x_axis(out, &ax, top, bottom, "#eef0f3", c->x_label);
    {
        char *ylab = ay.log ? g_strdup_printf("%s, log scale", c->y_label ? c->y_label : "") : g_strdup(c->y_label);
        g_string_append(out, "<text");
        rp_svg_attr_num(out, "x", 0);
        rp_svg_attr_num(out, "y", 0);
        g_string_append(out, " text-anchor=\"middle\" fill=\"#1d2329\" transform=\"translate(");
        rp_svg_append_num(out, 16);
        g_string_append_c(out, ' ');
        rp_svg_append_num(out, (top + bottom) / 2);
        g_string_append(out, ") rotate(-90)\">");
        rp_svg_escape(out, ylab);
        g_string_append(out, "</text>\n");
        g_free(ylab);
    }

    /* ---- the region above the vertical marker, thresholds, y = x */
    if (c->has_vline) {
        double x = rp_svg_axis_map(&ax, c->vline_x);
        if (c->shade_legend && right - x > 0.5) {
            g_string_append(out, "<rect");
            rp_svg_attr_num(out, "x", x);
            rp_svg_attr_num(out, "y", top);
            rp_svg_attr_num(out, "width", right - x);
            rp_svg_attr_num(out, "height", bottom - top);
            g_string_append(out, " fill=\"#000000\" fill-opacity=\"0.06\"/>\n");
        }
    }
    if (c->diagonal_legend) {
        double m = MIN(ax.hi, ay.hi);
        if (m > 0 && !ay.log)
            rp_svg_line(out, rp_svg_axis_map(&ax, 0), rp_svg_axis_map(&ay, 0), rp_svg_axis_map(&ax, m),
                        rp_svg_axis_map(&ay, m), "#777777", 1.5, "2 3");
    }
    for (guint i = 0; i < c->hlines->len; i++) {
        const HLine *h = &g_array_index(c->hlines, HLine, i);
        if (!rp_svg_axis_usable(&ay, h->y))
            continue;
        double y = rp_svg_axis_map(&ay, h->y);
        rp_svg_line(out, left, y, right, y, h->color, 1.8, "8 4");
        /* at the left end: latency is lowest at low load, so the label stays clear of the curves */
        char *attrs = g_strdup_printf("fill=\"%s\" font-weight=\"bold\" " HALO, h->color);
        rp_svg_text(out, left + 6, y - 5, "start", attrs, h->short_label);
        g_free(attrs);
    }
    if (c->has_vline) {
        double x = rp_svg_axis_map(&ax, c->vline_x);
        rp_svg_line(out, x, top, x, bottom, "#333333", 1.6, "6 3 2 3");
        gboolean room_right = right - x > rp_svg_text_width(c->vline_label, RP_SVG_FONT_PX) + 8;
        rp_svg_text(out, room_right ? x + 4 : x - 4, top + 13, room_right ? "start" : "end",
                "fill=\"#1d2329\" " HALO, c->vline_label);
    }

    /* ---- series: lines first, then markers on top */
    for (guint s = 0; s < c->series->len; s++) {
        const Series *se = g_ptr_array_index(c->series, s);
        gboolean open = FALSE;
        for (guint i = 0; i < se->points->len; i++) {
            const Point *p = &g_array_index(se->points, Point, i);
            if (!rp_svg_axis_usable(&ax, p->x) || !rp_svg_axis_usable(&ay, p->y)) {
                if (open)
                    g_string_append_printf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", se->color);
                open = FALSE;
                continue;
            }
            g_string_append(out, open ? " " : "<polyline points=\"");
            rp_svg_append_num(out, rp_svg_axis_map(&ax, p->x));
            g_string_append_c(out, ',');
            rp_svg_append_num(out, rp_svg_axis_map(&ay, p->y));
            open = TRUE;
        }
        if (open)
            g_string_append_printf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", se->color);
    }
    for (guint s = 0; s < c->series->len; s++) {
        const Series *se = g_ptr_array_index(c->series, s);
        for (guint i = 0; i < se->points->len; i++) {
            const Point *p = &g_array_index(se->points, Point, i);
            if (se->marker != RP_SVG_MARK_NONE && rp_svg_axis_usable(&ax, p->x) && rp_svg_axis_usable(&ay, p->y))
                marker_shape(out, se->marker, rp_svg_axis_map(&ax, p->x), rp_svg_axis_map(&ay, p->y), se->color,
                             p->pass, p->tip);
        }
    }

    /* ---- legend */
    for (guint i = 0; i < ni; i++) {
        const LegendItem *it = &items[i];
        double x = it->x, y = it->y;
        switch (it->kind) {
        case LEG_SERIES:
            rp_svg_line(out, x, y, x + 24, y, it->color, 2, NULL);
            if (it->marker != RP_SVG_MARK_NONE)
                marker_shape(out, it->marker, x + 12, y, it->color, TRUE, NULL);
            break;
        case LEG_FAIL:
            marker_shape(out, RP_SVG_MARK_CIRCLE, x + 12, y, it->color, FALSE, NULL);
            break;
        case LEG_HLINE:
            rp_svg_line(out, x, y, x + 24, y, it->color, 1.8, "8 4");
            break;
        case LEG_VLINE:
            rp_svg_line(out, x + 12, y - 7, x + 12, y + 7, it->color, 1.6, "6 3 2 3");
            break;
        case LEG_SHADE:
            g_string_append(out, "<rect");
            rp_svg_attr_num(out, "x", x + 2);
            rp_svg_attr_num(out, "y", y - 7);
            rp_svg_attr_num(out, "width", 20);
            rp_svg_attr_num(out, "height", 14);
            g_string_append(out, " fill=\"#000000\" fill-opacity=\"0.09\" stroke=\"#bbbbbb\"/>\n");
            break;
        case LEG_DIAG:
            rp_svg_line(out, x, y + 6, x + 24, y - 6, it->color, 1.5, "2 3");
            break;
        }
        rp_svg_text(out, x + 30, y + 4, NULL, "font-size=\"11.5\" fill=\"#1d2329\"", it->text);
    }
    g_string_append(out, "</svg>\n");
}
