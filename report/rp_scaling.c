/*
 * rp_scaling.c: charts of a fleet over time (rp_scaling.h): the replicas
 * serving per pool, the arrival rate and the share of requests served
 * within the SLO, per window of a run; as SVG charts for a report, or as a
 * self-contained HTML page (servesim run --output-scaling-html).
 *
 * Hours on the x axis once the run is longer than two hours, minutes once
 * longer than two minutes, seconds otherwise. Lines without markers: a day
 * has hundreds of windows. Cost: O(windows x pools).
 */
#include "rp_scaling.h"

#include <math.h>

static const char *const pool_colors[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"};

static double time_unit(const RpScaling *d, const char **label)
{
    double span = d->num_windows * d->window_s;
    if (span > 7200) {
        *label = "time since the first arrival (h)";
        return 3600;
    }
    if (span > 120) {
        *label = "time since the first arrival (min)";
        return 60;
    }
    *label = "time since the first arrival (s)";
    return 1;
}

void rp_scaling_charts(GString *out, const RpScaling *d)
{
    if (d->num_windows == 0)
        return;
    const char *xlabel;
    double unit = time_unit(d, &xlabel);
    char buf[64], buf2[64];

    /* replicas */
    GString *desc = g_string_new("Line chart of the replicas serving in each window (time-weighted mean)");
    RpSvgChart *ch = rp_svg_chart_new("Replicas serving over time", NULL, xlabel, "replicas", FALSE);
    for (guint p = 0; p < d->num_pools; p++) {
        char *name = g_strdup_printf("%s%s", d->pool_names[p], d->num_pools > 1 ? " (serving)" : " serving");
        guint s = rp_svg_chart_add_series(ch, name, pool_colors[p % G_N_ELEMENTS(pool_colors)], RP_SVG_MARK_NONE);
        double lo = INFINITY, hi = 0;
        for (guint k = 0; k < d->num_windows; k++) {
            double v = d->serving[k * d->num_pools + p];
            rp_svg_chart_add_point(ch, s, (k + 0.5) * d->window_s / unit, v, TRUE, NULL);
            lo = MIN(lo, v);
            hi = MAX(hi, v);
        }
        g_string_append_printf(desc, "; %s from %s to %s", d->pool_names[p], rp_svg_format_sig(buf, sizeof buf, lo),
                               rp_svg_format_sig(buf2, sizeof buf2, hi));
        g_free(name);
    }
    if (isfinite(d->static_replicas) && d->static_replicas > 0) {
        char *legend = g_strdup_printf("static fleet: %s replicas", rp_svg_format_sig(buf, sizeof buf, d->static_replicas));
        rp_svg_chart_add_hline(ch, d->static_replicas, legend, "static", "#555555");
        g_string_append_printf(desc, "; dashed line: the static fleet of %s replicas", buf);
        g_free(legend);
    }
    g_string_append(desc, ".");
    rp_svg_chart_set_desc(ch, desc->str);
    rp_svg_chart_render(ch, out);
    rp_svg_chart_free(ch);
    g_string_free(desc, TRUE);

    /* load */
    ch = rp_svg_chart_new("Arrival rate over time", "Line chart of the requests arriving per second in each window.",
                          xlabel, "requests/s", FALSE);
    guint s = rp_svg_chart_add_series(ch, "arrivals", "#555555", RP_SVG_MARK_NONE);
    for (guint k = 0; k < d->num_windows; k++)
        rp_svg_chart_add_point(ch, s, (k + 0.5) * d->window_s / unit, (double)d->arrived[k] / d->window_s, TRUE,
                               NULL);
    rp_svg_chart_render(ch, out);
    rp_svg_chart_free(ch);

    /* attainment */
    if (!d->has_slo)
        return;
    desc = g_string_new(NULL);
    g_string_append_printf(desc, "Line chart of the share of the requests arriving in each window that completed "
                                 "within %s.", d->slo_text ? d->slo_text : "the SLO");
    ch = rp_svg_chart_new("SLO attainment over time", desc->str, xlabel, "requests within the SLO (%)", FALSE);
    rp_svg_chart_set_y_ceiling(ch, 100);
    guint names = 0;
    for (guint v = 0; v < 2; v++) {
        const uint64_t *met = v == 0 ? d->met : d->met_static;
        if (!met)
            continue;
        s = rp_svg_chart_add_series(ch, v == 0 ? (d->met_static ? "autoscaled" : "attainment") : "static fleet",
                                    v == 0 ? "#0072b2" : "#999999", RP_SVG_MARK_NONE);
        for (guint k = 0; k < d->num_windows; k++)
            if (d->arrived[k])
                rp_svg_chart_add_point(ch, s, (k + 0.5) * d->window_s / unit,
                                       100.0 * (double)met[k] / (double)d->arrived[k], TRUE, NULL);
        names++;
    }
    if (isfinite(d->attainment_goal) && d->attainment_goal > 0) {
        char *legend = g_strdup_printf("goal %s%%", rp_svg_format_sig(buf, sizeof buf, 100 * d->attainment_goal));
        rp_svg_chart_add_hline(ch, 100 * d->attainment_goal, legend, "goal", "#d55e00");
        g_free(legend);
    }
    rp_svg_chart_render(ch, out);
    rp_svg_chart_free(ch);
    g_string_free(desc, TRUE);
}

char *rp_scaling_html(const RpScaling *d, const char *title, const char *summary)
{
    GString *o = g_string_new("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    rp_svg_escape(o, title);
    g_string_append(o, "</title>\n<style>body{font-family:system-ui,sans-serif;max-width:680px;margin:2em auto;"
                       "color:#1d2329}svg{display:block;margin:1.5em 0}</style>\n</head>\n<body>\n<h1>");
    rp_svg_escape(o, title);
    g_string_append(o, "</h1>\n");
    if (summary) {
        g_string_append(o, "<p>");
        rp_svg_escape(o, summary);
        g_string_append(o, "</p>\n");
    }
    rp_scaling_charts(o, d);
    g_string_append(o, "</body>\n</html>\n");
    return g_string_free(o, FALSE);
}
