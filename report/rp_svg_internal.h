/*
 * rp_svg_internal.h: what the chart kinds of rp_svg.h share, internal to
 * report/: coordinates printed without locale, estimated text widths, axes
 * that map data values to user units, the <svg>, <line> and <text>
 * elements every chart is written with and the x axis under a plot
 * (rp_svg.c). The line chart is rp_svg_chart.c, the bar chart rp_svg_bar.c.
 */
#ifndef RP_SVG_INTERNAL_H
#define RP_SVG_INTERNAL_H

#include "rp_svg.h"

/* The charts' font size in user units (the <svg> element's font-size). */
#define RP_SVG_FONT_PX 12.0

/* ------------------------------------------------------ coordinates -- */

/* Appends a coordinate: one decimal, no locale, no "-0"; a non-finite value
 * (a bug in the caller) is printed as 0. */
void rp_svg_append_num(GString *out, double v);
/* Appends name="value" with a numeric value, preceded by a space. */
void rp_svg_attr_num(GString *out, const char *name, double v);

/* ------------------------------------------------------------- text -- */

/* Estimated width of `text` in user units at font size `px` (0 for NULL). */
double rp_svg_text_width(const char *text, double px);
/* `text` cut to at most `max_chars` characters, with an ellipsis; invalid
 * UTF-8 repaired; NULL gives "". The caller frees the result (g_free). */
char *rp_svg_truncate_text(const char *text, glong max_chars);
/* The label of a tick at value v on an axis of step `step` (log axes: 0),
 * written into `buf` (size >= 64); returns `buf`. */
char *rp_svg_tick_label(char *buf, gsize size, double v, double step);

/* ------------------------------------------------------------- axes -- */

/* An axis: data value -> user units. The caller sets p0 and p1, then
 * rp_svg_axis_linear or rp_svg_axis_log sets the rest. */
typedef struct {
    gboolean log;
    double lo, hi;         /* domain */
    double p0, p1;         /* range in user units (p0 maps lo) */
    double ticks[RP_SVG_MAX_TICKS];
    guint num_ticks;
    double step;           /* 0 on a log axis */
} RpSvgAxis;

/* The user-unit position of `v` (p0 when it cannot be placed). */
double rp_svg_axis_map(const RpSvgAxis *a, double v);
/* Whether `v` can be drawn on the axis: finite, and positive on a log axis. */
gboolean rp_svg_axis_usable(const RpSvgAxis *a, double v);
/* Linear axis over [min(lo, 0), hi] with nice ticks (about `target`
 * intervals); the domain is the first and last tick. */
void rp_svg_axis_linear(RpSvgAxis *a, double lo, double hi, guint target);
/* Logarithmic axis around [lo, hi] (rp_svg_log_ticks). */
void rp_svg_axis_log(RpSvgAxis *a, double lo, double hi);

/* --------------------------------------------------------- elements -- */

/* A <line>; `stroke` and `dash` (NULL: solid) are literal attribute values. */
void rp_svg_line(GString *out, double x1, double y1, double x2, double y2, const char *stroke, double width,
                 const char *dash);
/* <text> with escaped content; `anchor` (may be NULL) is the text-anchor,
 * `extra` (may be NULL) holds further literal attributes. */
void rp_svg_text(GString *out, double x, double y, const char *anchor, const char *extra, const char *text);
/* Opens an <svg> element w by h user units with its <title>, <desc> (NULL:
 * none), white background and the title written at the top left. The caller
 * closes it with "</svg>\n". */
void rp_svg_open(GString *out, double w, double h, const char *title, const char *desc);
/* A horizontal axis along the bottom of a plot from `top` to `bottom`, from
 * ax->p0 to ax->p1: per tick a vertical grid line in `grid` (a literal
 * colour), a tick mark and its label; the plot's left and bottom edges; and
 * `label` (escaped) centred below. */
void rp_svg_x_axis(GString *out, const RpSvgAxis *ax, double top, double bottom, const char *grid,
                   const char *label);

#endif /* RP_SVG_INTERNAL_H */
