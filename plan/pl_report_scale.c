/*
 * pl_report_scale.c: the plan report's section on the autoscale comparison
 * (PlScaleResult, pl_scale.c): in report.html a table of the static and the
 * autoscaled fleet (replicas, GPU-hours, cost, SLO attainment, the SLO
 * statistics over the whole workload) and charts of replicas, arrivals and
 * SLO attainment over time (rp_scaling.c); in report.md the table; in
 * plan.json an "autoscale" object with the series. Nothing when the plan
 * has no "autoscale" section. Like the rest of the report, a function of
 * the result alone (same result, same bytes). Declared in
 * pl_report_internal.h; the documents call it last.
 */
#include <math.h>
#include <string.h>

#include "pl_report_internal.h"
#include "rp_html.h"
#include "rp_scaling.h"

static char *num(char *b, double v, int decimals)
{
    return rp_svg_format(b, 64, v, decimals, TRUE);
}

static char *slo_text(const PlScaleResult *s)
{
    GString *t = g_string_new(NULL);
    if (s->slo_ttft_ms > 0)
        g_string_append_printf(t, "TTFT <= %g ms", s->slo_ttft_ms);
    if (s->slo_tpot_ms > 0)
        g_string_append_printf(t, "%sTPOT <= %g ms", t->len ? " and " : "", s->slo_tpot_ms);
    if (!t->len)
        g_string_append(t, "no TTFT or TPOT bound");
    return g_string_free(t, FALSE);
}

/* "saves 38% of the GPU-hours" or "costs 12% more". */
static char *saving_text(const PlScaleResult *s)
{
    if (!s->static_replicas || !(s->static_gpu_hours > 0))
        return g_strdup("no static fleet within the search's limit meets the SLOs");
    double d = 1.0 - s->auto_gpu_hours / s->static_gpu_hours;
    if (d >= 0)
        return g_strdup_printf("autoscaling saves %.0f%% of the static fleet's GPU-hours", 100 * d);
    return g_strdup_printf("autoscaling costs %.0f%% more GPU-hours than the static fleet", -100 * d);
}

static void row(GString *o, const char *what, const char *a, const char *b)
{
    g_string_append(o, "<tr><th scope=\"row\">");
    rp_html_escape(o, what);
    g_string_append(o, "</th><td class=\"n\">");
    rp_html_escape(o, a);
    g_string_append(o, "</td><td class=\"n\">");
    rp_html_escape(o, b);
    g_string_append(o, "</td></tr>\n");
}

void pl_report_scale_html(GString *o, const PlPlanResult *r)
{
    const PlScaleResult *s = r->scale;
    if (!s)
        return;
    char b1[64], b2[64];
    g_string_append(o, "<section aria-labelledby=\"autoscale\">\n<h2 id=\"autoscale\">Autoscaling against a static "
                       "fleet</h2>\n");
    if (s->error) {
        g_string_append(o, "<p class=\"err\">Not compared: ");
        rp_html_escape(o, s->error);
        g_string_append(o, "</p>\n</section>\n");
        return;
    }
    char *slo = slo_text(s), *saving = saving_text(s);
    GString *p = g_string_new(NULL);
    g_string_append_printf(p, "%s on %s (%s s simulated). The static fleet is the fewest replicas that meet every SLO "
                              "of the plan over the whole workload; the autoscaled one starts at %u and follows "
                              "the %s metric (target %g per replica, between %u and %u replicas; a new replica "
                              "serves %s s after it is started). SLO attainment: the share of requests with %s%s. "
                              "%s.",
                           s->candidate, s->workload, num(b1, s->duration_s, 0), s->policy.min_replicas,
                           cl_scale_metric_name(s->policy.metric), s->policy.target, s->policy.min_replicas,
                           s->policy.max_replicas, num(b2, s->provision_s, 0), slo,
                           s->per_window ? "; meeting the SLOs also asks for the attainment goal in every window" : "",
                           saving);
    g_string_append(o, "<p>");
    rp_html_escape(o, p->str);
    g_string_append(o, "</p>\n<div class=\"scroll\"><table>\n<thead><tr><th scope=\"col\"></th>"
                       "<th scope=\"col\" class=\"n\">Static</th><th scope=\"col\" class=\"n\">Autoscaled</th>"
                       "</tr></thead>\n<tbody>\n");
    char a[96], b[96];
    g_snprintf(a, sizeof a, "%u", s->static_replicas);
    g_snprintf(b, sizeof b, "%u to %u (mean %s)", s->auto_min, s->auto_max, num(b1, s->auto_mean, 2));
    row(o, "Replicas", s->static_replicas ? a : "–", b);
    row(o, "GPU-hours", num(b1, s->static_gpu_hours, 2), num(b2, s->auto_gpu_hours, 2));
    g_snprintf(a, sizeof a, "$%s", num(b1, s->static_cost, 2));
    g_snprintf(b, sizeof b, "$%s", num(b2, s->auto_cost, 2));
    row(o, "Cost", a, b);
    g_snprintf(a, sizeof a, "%s%%", num(b1, 100 * s->static_attainment, 2));
    g_snprintf(b, sizeof b, "%s%%", num(b2, 100 * s->auto_attainment, 2));
    row(o, "SLO attainment", a, b);
    for (guint k = 0; k < r->num_slos && k < 8; k++) {
        g_snprintf(a, sizeof a, "%s ms", num(b1, s->static_slo_values[k], 1));
        g_snprintf(b, sizeof b, "%s ms", num(b2, s->auto_slo_values[k], 1));
        row(o, r->slos[k].label, s->static_replicas ? a : "–", b);
    }
    g_snprintf(b, sizeof b, "%u up, %u down", s->scale_ups, s->scale_downs);
    row(o, "Scale events", "–", b);
    row(o, "Meets every SLO", s->static_replicas ? "yes" : "–", s->auto_meets_slos ? "yes" : "no");
    g_string_append(o, "</tbody>\n</table></div>\n");
    if (s->num_tried > 1) {
        GString *t = g_string_new("Targets tried (requests/s per serving replica): ");
        for (guint k = 0; k < s->num_tried; k++)
            g_string_append_printf(t, "%s%s: %s GPU-hours, %s%% within the SLO%s", k ? "; " : "",
                                   num(b1, s->tried_target[k], 2), num(b2, s->tried_gpu_hours[k], 1),
                                   rp_svg_format_sig(a, sizeof a, 100 * s->tried_attainment[k]),
                                   s->tried_meets[k] ? "" : " (misses an SLO)");
        g_string_append(t, ". The table shows the cheapest that meets every SLO.");
        g_string_append(o, "<p class=\"muted\">");
        rp_html_escape(o, t->str);
        g_string_append(o, "</p>\n");
        g_string_free(t, TRUE);
    }
    const char *names[] = {"autoscaled", NULL};
    RpScaling d = {.num_windows = s->num_windows, .window_s = s->window_s, .num_pools = 1, .pool_names = names,
                   .serving = s->serving_auto, .arrived = s->arrived, .met = s->met_auto,
                   .met_static = s->static_replicas ? s->met_static : NULL, .has_slo = TRUE, .slo_text = slo,
                   .static_replicas = s->static_replicas ? (double)s->static_replicas : NAN,
                   .attainment_goal = s->attainment_goal > 0 ? s->attainment_goal : NAN};
    rp_scaling_charts(o, &d);
    g_string_append(o, "</section>\n");
    g_string_free(p, TRUE);
    g_free(slo);
    g_free(saving);
}

void pl_report_scale_markdown(GString *o, const PlPlanResult *r)
{
    const PlScaleResult *s = r->scale;
    if (!s)
        return;
    char b1[64], b2[64];
    g_string_append(o, "\n## Autoscaling against a static fleet\n\n");
    if (s->error) {
        g_string_append_printf(o, "Not compared: %s\n", s->error);
        return;
    }
    char *slo = slo_text(s), *saving = saving_text(s);
    g_string_append_printf(o, "%s on %s. SLO attainment: the share of requests with %s%s. %s.\n\n", s->candidate,
                           s->workload, slo,
                           s->per_window ? "; meeting the SLOs also asks for the attainment goal in every window" : "",
                           saving);
    g_string_append(o, "| | Static | Autoscaled |\n|---|---:|---:|\n");
    g_string_append_printf(o, "| Replicas | %u | %u to %u (mean %s) |\n", s->static_replicas, s->auto_min, s->auto_max,
                           num(b1, s->auto_mean, 2));
    g_string_append_printf(o, "| GPU-hours | %s | %s |\n", num(b1, s->static_gpu_hours, 2),
                           num(b2, s->auto_gpu_hours, 2));
    g_string_append_printf(o, "| Cost | $%s | $%s |\n", num(b1, s->static_cost, 2), num(b2, s->auto_cost, 2));
    g_string_append_printf(o, "| SLO attainment | %s%% | %s%% |\n", num(b1, 100 * s->static_attainment, 2),
                           num(b2, 100 * s->auto_attainment, 2));
    for (guint k = 0; k < r->num_slos && k < 8; k++)
        g_string_append_printf(o, "| %s | %s ms | %s ms |\n", r->slos[k].label, num(b1, s->static_slo_values[k], 1),
                               num(b2, s->auto_slo_values[k], 1));
    g_string_append_printf(o, "| Scale events | – | %u up, %u down |\n", s->scale_ups, s->scale_downs);
    if (s->num_tried > 1) {
        g_string_append(o, "\nTargets tried (requests/s per serving replica; the table shows the cheapest meeting "
                           "every SLO):\n\n| target | GPU-hours | SLO attainment | meets every SLO |\n|---:|---:|---:|---|\n");
        for (guint k = 0; k < s->num_tried; k++)
        {
            char b3[64];
            g_string_append_printf(o, "| %s | %s | %s%% | %s |\n", num(b1, s->tried_target[k], 2),
                                   num(b2, s->tried_gpu_hours[k], 1),
                                   rp_svg_format(b3, sizeof b3, 100 * s->tried_attainment[k], 2, TRUE),
                                   s->tried_meets[k] ? "yes" : "no");
        }
    }
    g_free(slo);
    g_free(saving);
}

void pl_report_scale_json(cJSON *root, const PlPlanResult *r)
{
    const PlScaleResult *s = r->scale;
    if (!s)
        return;
    cJSON *o = cJSON_AddObjectToObject(root, "autoscale");
    if (s->error) {
        cJSON_AddStringToObject(o, "error", s->error);
        return;
    }
    cJSON_AddStringToObject(o, "candidate", s->candidate);
    cJSON_AddStringToObject(o, "workload", s->workload);
    pl_json_num(o, "duration_s", s->duration_s);
    pl_json_num(o, "slo_ttft_ms", s->slo_ttft_ms);
    pl_json_num(o, "slo_tpot_ms", s->slo_tpot_ms);
    pl_json_num(o, "attainment_goal", s->attainment_goal);
    cJSON_AddStringToObject(o, "criterion", s->per_window ? "window" : "run");
    cJSON *st = cJSON_AddObjectToObject(o, "static");
    cJSON_AddNumberToObject(st, "replicas", s->static_replicas);
    cJSON_AddNumberToObject(st, "trials", s->static_trials);
    pl_json_num(st, "gpu_hours", s->static_gpu_hours);
    pl_json_num(st, "cost", s->static_cost);
    pl_json_num(st, "slo_attainment", s->static_attainment);
    cJSON *sv = cJSON_AddArrayToObject(st, "slo_values");
    for (guint k = 0; k < r->num_slos && k < 8; k++)
        cJSON_AddItemToArray(sv, cJSON_CreateNumber(s->static_slo_values[k]));
    cJSON *au = cJSON_AddObjectToObject(o, "autoscaled");
    cJSON_AddStringToObject(au, "metric", cl_scale_metric_name(s->policy.metric));
    pl_json_num(au, "target", s->policy.target);
    cJSON_AddNumberToObject(au, "min_replicas", s->policy.min_replicas);
    cJSON_AddNumberToObject(au, "max_replicas", s->policy.max_replicas);
    pl_json_num(au, "provision_s", s->provision_s);
    cJSON_AddNumberToObject(au, "replicas_min", s->auto_min);
    cJSON_AddNumberToObject(au, "replicas_max", s->auto_max);
    pl_json_num(au, "replicas_mean", s->auto_mean);
    cJSON_AddNumberToObject(au, "scale_ups", s->scale_ups);
    cJSON_AddNumberToObject(au, "scale_downs", s->scale_downs);
    pl_json_num(au, "gpu_hours", s->auto_gpu_hours);
    pl_json_num(au, "cost", s->auto_cost);
    pl_json_num(au, "slo_attainment", s->auto_attainment);
    cJSON_AddBoolToObject(au, "meets_slos", s->auto_meets_slos);
    cJSON *tried = cJSON_AddArrayToObject(au, "targets_tried");
    for (guint k = 0; k < s->num_tried; k++) {
        cJSON *t = cJSON_CreateObject();
        pl_json_num(t, "target", s->tried_target[k]);
        pl_json_num(t, "gpu_hours", s->tried_gpu_hours[k]);
        pl_json_num(t, "slo_attainment", s->tried_attainment[k]);
        cJSON_AddBoolToObject(t, "meets_slos", s->tried_meets[k]);
        cJSON_AddItemToArray(tried, t);
    }
    cJSON *av = cJSON_AddArrayToObject(au, "slo_values");
    for (guint k = 0; k < r->num_slos && k < 8; k++)
        cJSON_AddItemToArray(av, cJSON_CreateNumber(s->auto_slo_values[k]));
    pl_json_num(o, "window_s", s->window_s);
    cJSON *arr = cJSON_AddArrayToObject(o, "arrived");
    cJSON *ms = cJSON_AddArrayToObject(o, "met_static");
    cJSON *ma = cJSON_AddArrayToObject(o, "met_autoscaled");
    cJSON *sa = cJSON_AddArrayToObject(o, "serving_autoscaled");
    for (guint k = 0; k < s->num_windows; k++) {
        cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)s->arrived[k]));
        cJSON_AddItemToArray(ms, cJSON_CreateNumber((double)s->met_static[k]));
        cJSON_AddItemToArray(ma, cJSON_CreateNumber((double)s->met_auto[k]));
        cJSON_AddItemToArray(sa, cJSON_CreateNumber(s->serving_auto[k]));
    }
}
