/*
 * rp_svg.h: small inline SVG charts for reports a person reads (the capacity
 * plan's report, plan/pl_report_html.c, the sweep's, sweep/sw_report.c,
 * and any other).
 *
 * Two kinds of chart, written as text into a GString:
 *   - a line chart: series of (x, y) points with markers (filled when the
 *     point "passes", hollow when it fails), dashed horizontal threshold
 *     lines, an optional vertical marker with the region to its right shaded,
 *     an optional y = x line, "nice" 1-2-5 ticks, and a logarithmic y axis
 *     when the data span more than two decades (said on the axis label);
 *   - a horizontal bar chart with a text after each bar.
 * Every string is escaped; every coordinate is a finite number printed with
 * g_ascii_formatd (no locale), so the same input gives the same bytes. A
 * chart has a <title> and a <desc> for screen readers, a legend that names
 * each mark by shape and dash as well as colour, and a <title> on each
 * marker (the tooltip a browser shows). No scripts, fonts or links.
 *
 * Cost: O(points + ticks) per chart.
 */
#ifndef RP_SVG_H
#define RP_SVG_H

#include <glib.h>

/* ------------------------------------------------------------- text -- */

/* Appends `text` escaped for HTML and SVG text and attribute values
 * (& < > " ' become entities; other control characters than tab and newline
 * become spaces; invalid UTF-8 is repaired). NULL appends nothing. */
void rp_svg_escape(GString *out, const char *text);

/* Formats `v` with `decimals` digits after the point, without locale, with a
 * comma between thousands when `group` is TRUE; "-0" is printed as "0".
 * Non-finite values give "–". Returns `buf` (size >= 64). */
char *rp_svg_format(char *buf, gsize size, double v, int decimals, gboolean group);

/* Formats `v` with about three significant digits and no trailing zeros
 * ("0.123", "12.3", "5", "123", "12,345"), grouped. Non-finite values give
 * "–". Returns `buf` (size >= 64). */
char *rp_svg_format_sig(char *buf, gsize size, double v);

/* ------------------------------------------------------------ ticks -- */

#define RP_SVG_MAX_TICKS 64

/* "Nice" ticks (steps of 1, 2 or 5 times a power of ten) covering [lo, hi]
 * with about `target` intervals. Writes the ticks into `ticks` (at most
 * RP_SVG_MAX_TICKS), the step into *step and returns their number (>= 2).
 * lo > hi is a bug; lo == hi is widened. Non-finite bounds give [0, 1]. */
guint rp_svg_nice_ticks(double lo, double hi, guint target, double *ticks, double *step);

/* Ticks of a log axis covering [lo, hi] (0 < lo <= hi): 1, 2 and 5 times
 * powers of ten when the range spans at most three decades, powers of ten
 * otherwise. The first and last ticks are the axis bounds. Returns their
 * number (>= 2). */
guint rp_svg_log_ticks(double lo, double hi, double *ticks);

/* The number of decimals a tick label of step `step` needs (0 for >= 1). */
int rp_svg_step_decimals(double step);

/* ------------------------------------------------------- line chart -- */

typedef enum {
    RP_SVG_MARK_CIRCLE = 0,
    RP_SVG_MARK_SQUARE,
    RP_SVG_MARK_DIAMOND,
    RP_SVG_MARK_TRIANGLE,
    RP_SVG_MARK_NONE,    /* a line without markers (dense series, e.g. over time) */
} RpSvgMarker;

typedef struct RpSvgChart RpSvgChart;

/* A new empty chart. Strings are copied. `y_log_allowed`: the y axis turns
 * logarithmic when the positive data span more than two decades. */
RpSvgChart *rp_svg_chart_new(const char *title, const char *desc, const char *x_label, const char *y_label,
                             gboolean y_log_allowed);
void rp_svg_chart_free(RpSvgChart *c);
/* Replaces the chart's <desc> text (what a screen reader says about it). */
void rp_svg_chart_set_desc(RpSvgChart *c, const char *desc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RpSvgChart, rp_svg_chart_free)

/* Adds a series drawn as a line with markers; returns its index. `color` is
 * a CSS colour literal such as "#0072b2" (not escaped: pass constants). */
guint rp_svg_chart_add_series(RpSvgChart *c, const char *name, const char *color, RpSvgMarker marker);
/* Adds a point to series `series`; `pass` FALSE draws a hollow marker.
 * `tip` (may be NULL) is the marker's tooltip. Non-finite x or y (or y <= 0
 * on a log axis) is skipped and breaks the line. */
void rp_svg_chart_add_point(RpSvgChart *c, guint series, double x, double y, gboolean pass, const char *tip);
/* Names the hollow-marker legend entry (default: none shown). */
void rp_svg_chart_set_fail_legend(RpSvgChart *c, const char *text);
/* A dashed horizontal line at y (a threshold), named in the legend and
 * labelled at the right end with `short_label`. Non-finite y is ignored. */
void rp_svg_chart_add_hline(RpSvgChart *c, double y, const char *legend, const char *short_label, const char *color);
/* A vertical marker at x, labelled at its top, named in the legend; the
 * region to its right is shaded and named `shade_legend` (NULL: no shade).
 * Non-finite x is ignored. */
void rp_svg_chart_set_vline(RpSvgChart *c, double x, const char *legend, const char *short_label,
                            const char *shade_legend);
/* Draws the line y = x (dotted grey) and names it in the legend. */
void rp_svg_chart_set_diagonal(RpSvgChart *c, const char *legend);
/* The largest value the y axis needs to show (a percentage: 100): the
 * headroom above the data stops there instead of running to the next nice
 * bound. Ignored when a value lies above it or on a logarithmic axis. */
void rp_svg_chart_set_y_ceiling(RpSvgChart *c, double y);

/* Appends the chart as one <svg> element (width 620 user units). */
void rp_svg_chart_render(const RpSvgChart *c, GString *out);

/* -------------------------------------------------------- bar chart -- */

typedef struct {
    const char *label;      /* left of the bar */
    double value;           /* bar length; NAN or < 0: no bar */
    const char *text;       /* after the bar (or in place of it) */
    const char *tip;        /* tooltip, may be NULL */
    gboolean highlight;     /* drawn darker, label in bold */
} RpSvgBar;

/* Appends a horizontal bar chart (one row per bar, in the given order) with
 * an x axis of nice ticks from 0, `width` user units wide. */
void rp_svg_bar_chart(GString *out, const char *title, const char *desc, const char *x_label, const RpSvgBar *bars,
                      guint n, double width);

#endif /* RP_SVG_H */
