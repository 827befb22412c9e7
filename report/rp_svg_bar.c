/*
 * rp_svg_bar.c: the horizontal bar chart of rp_svg.h (rp_svg_bar_chart):
 * one row per bar in the caller's order, the label left of the bar (cut with
 * an ellipsis when too long), a text after it, and an x axis of nice ticks
 * from 0. A row without a bar (no value) shows its text in italics in place
 * of the bar. Ticks, axes, text and the elements come from rp_svg.c.
 *
 * Cost: O(bars + ticks).
 */
#include <math.h>

#include "rp_svg_internal.h"

void rp_svg_bar_chart(GString *out, const char *title, const char *desc, const char *x_label, const RpSvgBar *bars,
                      guint n, double width)
{
    const double row_h = 30, bar_h = 18, top = 40;
    double max_label = 0, max_text = 0, vmax = 0;
    for (guint i = 0; i < n; i++) {
        max_label = MAX(max_label, rp_svg_text_width(bars[i].label, RP_SVG_FONT_PX));
        if (isfinite(bars[i].value) && bars[i].value >= 0) {
            vmax = MAX(vmax, bars[i].value);
            max_text = MAX(max_text, rp_svg_text_width(bars[i].text, RP_SVG_FONT_PX));
        }
    }
    width = MAX(width, 480);
    double label_w = CLAMP(max_label + 20, 120, 300);
    double text_w = CLAMP(max_text + 14, 90, width * 0.4);
    RpSvgAxis ax = {0};
    ax.p0 = label_w;
    ax.p1 = width - text_w;
    rp_svg_axis_linear(&ax, 0, vmax, 6);
    const double bottom = top + row_h * MAX(n, 1);
    const double height = bottom + 50;

    rp_svg_open(out, width, height, title, desc);
    rp_svg_x_axis(out, &ax, top, bottom, "#e3e7eb", x_label);
    if (n == 0)
        rp_svg_text(out, ax.p0 + 8, top + row_h / 2 + 4, NULL, "fill=\"#5b6670\"", "no candidates");

    glong label_chars = (glong)((label_w - 20) / (RP_SVG_FONT_PX * 0.56));
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
        char *label = rp_svg_truncate_text(b->label, label_chars);
        rp_svg_text(out, label_w - 10, yc + 4, "end",
                b->highlight ? "font-weight=\"bold\" fill=\"#1d2329\"" : "fill=\"#1d2329\"", label);
        g_free(label);
        if (isfinite(b->value) && b->value >= 0) {
            double x1 = rp_svg_axis_map(&ax, b->value);
            g_string_append(out, "<rect");
            rp_svg_attr_num(out, "x", ax.p0);
            rp_svg_attr_num(out, "y", yc - bar_h / 2);
            rp_svg_attr_num(out, "width", MAX(x1 - ax.p0, 1));
            rp_svg_attr_num(out, "height", bar_h);
            g_string_append_printf(out, " fill=\"%s\"/>\n", b->highlight ? "#1a7f37" : "#5b8db8");
            rp_svg_text(out, MAX(x1, ax.p0 + 1) + 6, yc + 4, NULL,
                    b->highlight ? "font-weight=\"bold\" fill=\"#1d2329\"" : "fill=\"#1d2329\"", b->text);
        } else {
            glong chars = (glong)((width - ax.p0 - 16) / (RP_SVG_FONT_PX * 0.56));
            char *t = rp_svg_truncate_text(b->text, chars);
            rp_svg_text(out, ax.p0 + 8, yc + 4, NULL, "font-style=\"italic\" fill=\"#8a3b12\"", t);
            g_free(t);
        }
        g_string_append(out, "</g>\n");
    }
    g_string_append(out, "</svg>\n");
}
