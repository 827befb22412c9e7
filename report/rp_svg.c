/*
 * rp_svg.c: the pieces every chart of rp_svg.h is drawn with: text escaped
 * for HTML and SVG, numbers formatted without locale (labels with grouped
 * thousands, coordinates with one decimal), "nice" 1-2-5 and logarithmic
 * ticks, axes that map data values to user units, the <svg>, <line> and
 * <text> elements, and the x axis drawn under a plot (rp_svg_internal.h).
 * The chart kinds that use them are rp_svg_chart.c (line charts) and
 * rp_svg_bar.c (bar charts).
 *
 * Every coordinate is a finite number printed with g_ascii_formatd, so the
 * same input gives the same bytes. Text widths are estimated from the number
 * of characters (the fonts are the reader's own: no web fonts), generously
 * enough that labels do not collide at the sizes used here.
 */
#include "rp_svg_internal.h"

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

double rp_svg_text_width(const char *text, double px)
{
    return text ? (double)g_utf8_strlen(text, -1) * px * 0.56 : 0;
}

char *rp_svg_truncate_text(const char *text, glong max_chars)
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

/* ------------------------------------------------------ coordinates -- */

void rp_svg_append_num(GString *out, double v)
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

void rp_svg_attr_num(GString *out, const char *name, double v)
{
    g_string_append_printf(out, " %s=\"", name);
    rp_svg_append_num(out, v);
    g_string_append_c(out, '"');
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

char *rp_svg_tick_label(char *buf, gsize size, double v, double step)
{
    int decimals = step > 0 ? rp_svg_step_decimals(step) : rp_svg_step_decimals(v);
    return rp_svg_format(buf, size, v, decimals, TRUE);
}

/* ------------------------------------------------------------- axes -- */

double rp_svg_axis_map(const RpSvgAxis *a, double v)
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

gboolean rp_svg_axis_usable(const RpSvgAxis *a, double v)
{
    return isfinite(v) && (!a->log || v > 0);
}

void rp_svg_axis_linear(RpSvgAxis *a, double lo, double hi, guint target)
{
    a->log = FALSE;
    a->num_ticks = rp_svg_nice_ticks(MIN(lo, 0), hi, target, a->ticks, &a->step);
    a->lo = a->ticks[0];
    a->hi = a->ticks[a->num_ticks - 1];
}

void rp_svg_axis_log(RpSvgAxis *a, double lo, double hi)
{
    a->log = TRUE;
    a->step = 0;
    a->num_ticks = rp_svg_log_ticks(lo, hi, a->ticks);
    a->lo = a->ticks[0];
    a->hi = a->ticks[a->num_ticks - 1];
}

/* --------------------------------------------------------- elements -- */

void rp_svg_line(GString *out, double x1, double y1, double x2, double y2, const char *stroke, double width,
                 const char *dash)
{
    g_string_append(out, "<line");
    rp_svg_attr_num(out, "x1", x1);
    rp_svg_attr_num(out, "y1", y1);
    rp_svg_attr_num(out, "x2", x2);
    rp_svg_attr_num(out, "y2", y2);
    g_string_append_printf(out, " stroke=\"%s\"", stroke);
    rp_svg_attr_num(out, "stroke-width", width);
    if (dash)
        g_string_append_printf(out, " stroke-dasharray=\"%s\"", dash);
    g_string_append(out, "/>\n");
}

void rp_svg_text(GString *out, double x, double y, const char *anchor, const char *extra, const char *text)
{
    g_string_append(out, "<text");
    rp_svg_attr_num(out, "x", x);
    rp_svg_attr_num(out, "y", y);
    if (anchor)
        g_string_append_printf(out, " text-anchor=\"%s\"", anchor);
    if (extra)
        g_string_append_printf(out, " %s", extra);
    g_string_append_c(out, '>');
    rp_svg_escape(out, text);
    g_string_append(out, "</text>\n");
}

void rp_svg_open(GString *out, double w, double h, const char *title, const char *desc)
{
    g_string_append(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 ");
    rp_svg_append_num(out, w);
    g_string_append_c(out, ' ');
    rp_svg_append_num(out, h);
    g_string_append_c(out, '"');
    rp_svg_attr_num(out, "width", w);
    rp_svg_attr_num(out, "height", h);
    g_string_append(out, " font-family=\"Helvetica, Arial, sans-serif\"");
    rp_svg_attr_num(out, "font-size", RP_SVG_FONT_PX);
    g_string_append(out, ">\n<title>");
    rp_svg_escape(out, title);
    g_string_append(out, "</title>\n");
    if (desc) {
        g_string_append(out, "<desc>");
        rp_svg_escape(out, desc);
        g_string_append(out, "</desc>\n");
    }
    g_string_append(out, "<rect x=\"0\" y=\"0\"");
    rp_svg_attr_num(out, "width", w);
    rp_svg_attr_num(out, "height", h);
    g_string_append(out, " fill=\"#ffffff\"/>\n");
    rp_svg_text(out, 12, 22, NULL, "font-size=\"14\" font-weight=\"bold\" fill=\"#1d2329\"", title);
}

void rp_svg_x_axis(GString *out, const RpSvgAxis *ax, double top, double bottom, const char *grid, const char *label)
{
    char buf[64];
    for (guint i = 0; i < ax->num_ticks; i++) {
        double x = rp_svg_axis_map(ax, ax->ticks[i]);
        rp_svg_line(out, x, top, x, bottom, grid, 1, NULL);
        rp_svg_line(out, x, bottom, x, bottom + 5, "#444444", 1, NULL);
        rp_svg_text(out, x, bottom + 18, "middle", "fill=\"#333333\"",
                    rp_svg_tick_label(buf, sizeof buf, ax->ticks[i], ax->step));
    }
    rp_svg_line(out, ax->p0, top, ax->p0, bottom, "#444444", 1, NULL);
    rp_svg_line(out, ax->p0, bottom, ax->p1, bottom, "#444444", 1, NULL);
    rp_svg_text(out, (ax->p0 + ax->p1) / 2, bottom + 38, "middle", "fill=\"#1d2329\"", label);
}
