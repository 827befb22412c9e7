/*
 * pl_report_html.c: the capacity plan as report.html (see pl_plan.h and
 * docs/planning-report.md), one self-contained file for people who decide
 * what to buy: inline CSS and inline SVG charts (rp_svg.h), no script, no
 * font or image to fetch, no link leaving the page (rp_html.c writes its
 * head). It opens with the recommendation and what was simulated, defines
 * its terms, ranks every candidate (the infeasible ones last, with their
 * error), draws the cost of each candidate at the target load, then gives
 * each candidate's latency and throughput curves against the offered load
 * with the SLO thresholds and the sustainable rate marked, and the
 * autoscale comparison (pl_report_scale.c) when the plan has one.
 *
 * The text comes from pl_report_text.c; every string from the result is
 * escaped. Cost: linear in candidates x curve points.
 */
#include <math.h>

#include "pl_report_internal.h"
#include "rp_html.h"
#include "rp_svg.h"

/* Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
#define COLOR_P50 "#0072b2"
#define COLOR_P99 "#d55e00"
#define COLOR_EXTRA "#cc79a7"
#define COLOR_ACHIEVED "#009e73"
#define COLOR_TOKENS "#0072b2"
#define COLOR_SLO "#b42318"

static const char css[] =
    RP_HTML_CSS_PAGE
    "h3{font-size:18px;margin:0 0 6px}\n"
    RP_HTML_CSS_LEAD
    ".summary{background:#fff;border:1px solid #c9d3dd;border-left:6px solid #1a7f37;border-radius:6px;"
    "padding:14px 22px 18px}\n"
    ".summary.none{border-left-color:#b42318}\n"
    ".summary h2{border:0;margin:0 0 6px;padding:0}\n"
    ".rec{font-size:19px;margin:0 0 8px}\n"
    RP_HTML_CSS_FACTS
    "dl.terms{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}\n"
    "dl.terms dt{font-weight:600}\n"
    "dl.terms dd{margin:0}\n"
    RP_HTML_CSS_TABLE
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.n{white-space:nowrap}\n"
    "td.verdict{min-width:320px}\n"
    "tr.best td{background:#e8f5eb}\n"
    "tr.infeasible td{background:#faf6f5;color:#5b4a45}\n"
    ".badge{display:inline-block;font-size:12px;font-weight:700;padding:0 7px;border-radius:3px;"
    "background:#1a7f37;color:#fff;white-space:nowrap}\n"
    ".badge.bad{background:#b42318}\n"
    RP_HTML_CSS_ERR
    ".muted{color:#5b6670}\n"
    ".cand{background:#fff;border:1px solid #d3d9df;border-radius:6px;padding:16px 22px;margin:18px 0}\n"
    ".cand.recommended{border-left:6px solid #1a7f37}\n"
    RP_HTML_CSS_CHARTS
    ".charts svg{width:100%;height:auto;border:1px solid #e3e7eb;border-radius:4px}\n"
    ".costchart svg{max-width:100%;height:auto;border:1px solid #e3e7eb;border-radius:4px}\n"
    "details{margin-top:12px}\n"
    "summary{cursor:pointer;color:#24527a}\n"
    "a{color:#24527a}\n"
    RP_HTML_CSS_FOOTER;

static void html_head(GString *o, const PlReport *rp)
{
    const PlPlanResult *r = rp->r;
    char *title = g_strdup_printf("Capacity plan: %s", pl_str_or(r->name, "unnamed plan"));
    rp_html_open(o, title, r->description, css);
    g_free(title);
    g_string_append(o, "</header>\n");
}

static void html_summary(GString *o, const PlReport *rp)
{
    const PlCandidateResult *c = rp->best;
    char b1[PL_NUM_BUF], b2[PL_NUM_BUF];
    g_string_append_printf(o, "<section class=\"summary%s\" aria-labelledby=\"recommendation\">\n"
                              "<h2 id=\"recommendation\">Recommendation</h2>\n",
                           c ? "" : " none");
    if (c) {
        char *reps = pl_text_replicas(c, "×");
        g_string_append(o, "<p class=\"rec\"><span class=\"badge\">★ recommended</span> Deploy <strong>");
        rp_html_escape(o, pl_report_name(rp, c));
        g_string_append(o, "</strong>: <strong>");
        rp_html_escape(o, reps);
        g_string_append(o, "</strong> of ");
        rp_html_escape(o, pl_str_or(c->hardware, "unknown hardware"));
        g_string_append(o, ", <strong>");
        rp_html_escapef(o, "%s per hour", pl_fmt_money(b1, c->cost_per_hour));
        g_string_append(o, "</strong>, <strong>");
        rp_html_escapef(o, "%s per million output tokens", pl_fmt_money(b2, c->cost_per_million_output_tokens));
        g_string_append(o, "</strong>.</p>\n");
        g_free(reps);
        char *cap = pl_text_capacity(rp, c);
        rp_html_elem(o, "p", NULL, cap);
        g_free(cap);
        g_string_append_c(o, '\n');
        if (c->verdict) {
            g_string_append(o, "<p><strong>Why this one:</strong> ");
            rp_html_escape(o, c->verdict);
            g_string_append(o, "</p>\n");
        }
        const PlCandidateResult *next = pl_report_runner_up(rp);
        if (next) {
            g_string_append(o, "<p><strong>Runner-up:</strong> ");
            rp_html_escape(o, pl_report_name(rp, next));
            g_string_append(o, ": ");
            rp_html_escape(o, pl_str_or(next->verdict, ""));
            g_string_append(o, "</p>\n");
        }
    } else {
        g_string_append(o, "<p class=\"rec\"><span class=\"badge bad\">✗ no recommendation</span> ");
        char *none = pl_text_no_recommendation(rp);
        rp_html_escape(o, none);
        g_free(none);
        g_string_append(o, "</p>\n");
    }
    g_string_append(o, "<dl class=\"facts\">\n");
    GPtrArray *facts = g_ptr_array_new_with_free_func(g_free);
    pl_summary_facts(rp, facts);
    for (guint i = 0; i + 1 < facts->len; i += 2)
        rp_html_fact(o, g_ptr_array_index(facts, i), g_ptr_array_index(facts, i + 1));
    g_ptr_array_free(facts, TRUE);
    g_string_append(o, "</dl>\n</section>\n");
}

static void html_terms(GString *o)
{
    g_string_append(o, "<section aria-labelledby=\"terms\">\n<h2 id=\"terms\">How to read this report</h2>\n"
                       "<dl class=\"terms\">\n");
    for (guint i = 0; i < PL_REPORT_NUM_TERMS; i++) {
        rp_html_fact(o, pl_report_terms[i].term, pl_report_terms[i].text);
    }
    g_string_append(o, "</dl>\n</section>\n");
}

static void td(GString *o, gboolean numeric, const char *text)
{
    rp_html_elem(o, "td", numeric ? "class=\"n\"" : NULL, text);
}

static void td_uint(GString *o, guint v)
{
    char b[PL_NUM_BUF];
    g_snprintf(b, sizeof b, "%u", v);
    td(o, TRUE, b);
}


static void html_table(GString *o, const PlReport *rp)
{
    const PlPlanResult *r = rp->r;
    char b[PL_NUM_BUF];
    g_string_append(o, "<section aria-labelledby=\"ranking\">\n<h2 id=\"ranking\">Candidates, ranked by cost at the "
                       "target load</h2>\n<div class=\"scroll\"><table>\n<thead><tr>"
                       "<th scope=\"col\" class=\"n\">Rank</th><th scope=\"col\">Candidate</th>"
                       "<th scope=\"col\">Hardware</th><th scope=\"col\" class=\"n\">TP</th>"
                       "<th scope=\"col\">Model</th>"
                       "<th scope=\"col\" class=\"n\">Max sustainable rate per replica (req/s)</th>"
                       "<th scope=\"col\">Binding constraint</th><th scope=\"col\" class=\"n\">Replicas</th>"
                       "<th scope=\"col\" class=\"n\">By division</th><th scope=\"col\" class=\"n\">Imbalance</th>"
                       "<th scope=\"col\" class=\"n\">GPUs</th><th scope=\"col\" class=\"n\">$/GPU-hour</th>"
                       "<th scope=\"col\" class=\"n\">$/hour</th><th scope=\"col\" class=\"n\">$/M output tokens</th>"
                       "<th scope=\"col\">Verdict</th></tr></thead>\n<tbody>\n");
    for (guint k = 0; k < r->num_candidates; k++) {
        const PlCandidateResult *c = &r->candidates[rp->order[k]];
        gboolean best = c == rp->best;
        g_string_append_printf(o, "<tr%s>", best ? " class=\"best\"" : c->feasible ? "" : " class=\"infeasible\"");
        if (c->feasible && c->rank > 0)
            td_uint(o, c->rank);
        else
            td(o, TRUE, "–");
        g_string_append_printf(o, "<td><a href=\"#cand-%u\">", rp->order[k]);
        rp_html_escape(o, pl_report_name(rp, c));
        g_string_append(o, "</a>");
        if (best)
            g_string_append(o, " <span class=\"badge\">★ recommended</span>");
        else if (!c->feasible)
            g_string_append(o, " <span class=\"badge bad\">✗ infeasible</span>");
        g_string_append(o, "</td>");
        td(o, FALSE, pl_str_or(c->hardware, "–"));
        if (c->disaggregated) {
            char *tp = g_strdup_printf("%u + %u", c->prefill_tp, c->decode_tp);
            td(o, TRUE, tp);
            g_free(tp);
        } else {
            td_uint(o, c->tensor_parallel_size);
        }
        td(o, FALSE, pl_str_or(c->model, "–"));
        if (c->feasible) {
            td(o, TRUE, pl_fmt_max_rate(b, c, "≥ "));
            td(o, FALSE, pl_str_or(c->binding, "–"));
            char *reps = pl_candidate_replicas_text(c);
            td(o, TRUE, reps);
            g_free(reps);
            td_uint(o, c->replicas_by_division);
            td(o, TRUE, pl_candidate_fleet(c) ? pl_fmt_fixed3(b, pl_candidate_fleet(c)->imbalance) : "–");
            td_uint(o, c->gpus);
            td(o, TRUE, pl_fmt_money(b, c->price_per_gpu_hour));
            td(o, TRUE, pl_fmt_money(b, c->cost_per_hour));
            td(o, TRUE, pl_fmt_money(b, c->cost_per_million_output_tokens));
            rp_html_elem(o, "td", "class=\"verdict\"", pl_str_or(c->verdict, ""));
        } else {
            td(o, TRUE, "–");
            td(o, FALSE, pl_str_or(c->binding, "–"));
            td(o, TRUE, "–");
            td(o, TRUE, c->replicas_by_division ? g_ascii_formatd(b, PL_NUM_BUF, "%.0f", (double)c->replicas_by_division) : "–");
            td(o, TRUE, "–");
            td(o, TRUE, "–");
            td(o, TRUE, pl_fmt_money(b, c->price_per_gpu_hour));
            td(o, TRUE, "–");
            td(o, TRUE, "–");
            char *why = pl_text_infeasible(c);
            g_string_append(o, "<td class=\"verdict err\"><strong>Infeasible:</strong> ");
            rp_html_escape(o, why);
            g_string_append(o, "</td>");
            g_free(why);
        }
        g_string_append(o, "</tr>\n");
    }
    if (r->num_candidates == 0)
        g_string_append(o, "<tr><td colspan=\"15\">No candidates were given.</td></tr>\n");
    g_string_append(o, "</tbody>\n</table></div>\n</section>\n");
}

static void html_cost_chart(GString *o, const PlReport *rp)
{
    const PlPlanResult *r = rp->r;
    char b1[PL_NUM_BUF], b2[PL_NUM_BUF];
    RpSvgBar *bars = g_new0(RpSvgBar, MAX(r->num_candidates, 1));
    char **texts = g_new0(char *, 2 * r->num_candidates + 1);
    for (guint k = 0; k < r->num_candidates; k++) {
        const PlCandidateResult *c = &r->candidates[rp->order[k]];
        RpSvgBar *bar = &bars[k];
        bar->label = pl_report_name(rp, c);
        bar->highlight = c == rp->best;
        if (c->feasible) {
            bar->value = c->cost_per_hour;
            texts[2 * k] = g_strdup_printf("%s/h · %u GPUs · %s/M tok%s", pl_fmt_money(b1, c->cost_per_hour), c->gpus,
                                           pl_fmt_money(b2, c->cost_per_million_output_tokens),
                                           bar->highlight ? " · ★ recommended" : "");
        } else {
            bar->value = NAN;
            char *why = pl_text_infeasible(c);
            texts[2 * k] = g_strdup_printf("✗ infeasible: %s", why);
            g_free(why);
        }
        bar->text = texts[2 * k];
        texts[2 * k + 1] = g_strdup_printf("%s: %s", bar->label, bar->text);
        bar->tip = texts[2 * k + 1];
    }
    g_string_append(o, "<section aria-labelledby=\"cost\">\n<h2 id=\"cost\">Cost at the target load</h2>\n");
    g_string_append(o, "<p class=\"muted\">");
    rp_html_escapef(o,
         "What each candidate costs to carry %s requests/s with enough replicas; shorter is cheaper. Infeasible "
         "candidates have no bar.",
         pl_fmt_sig(b1, r->target_rate));
    g_string_append(o, "</p>\n<div class=\"costchart\">\n");
    char *title = g_strdup_printf("Cost per hour at the target load (%s requests/s)", pl_fmt_sig(b1, r->target_rate));
    char *desc = g_strdup_printf("Horizontal bars, one per candidate in rank order: dollars per hour for all "
                                 "replicas the target load needs; %u of %u candidates are feasible.",
                                 rp->num_feasible, r->num_candidates);
    rp_svg_bar_chart(o, title, desc, "$ per hour, all replicas", bars, r->num_candidates, 1250);
    g_string_append(o, "</div>\n</section>\n");
    g_free(title);
    g_free(desc);
    g_strfreev(texts);
    g_free(bars);
}

/* The tooltip of a load point in a chart (g_free). */
static char *point_tip(const PlReport *rp, const PlLoadPoint *p, const char *what, double v, const char *unit)
{
    char b1[PL_NUM_BUF], b2[PL_NUM_BUF];
    char *st = pl_point_status(rp, p);
    char *tip = g_strdup_printf("%s requests/s offered: %s %s %s; sustained: %s", pl_fmt_sig(b1, p->rate), what,
                                pl_fmt_sig(b2, v), unit, st);
    g_free(st);
    return tip;
}

static void chart_marker(const PlCandidateResult *c, RpSvgChart *ch)
{
    char b[PL_NUM_BUF];
    if (!c->feasible || !(c->max_rate > 0))
        return;
    char *legend = c->max_rate_is_bound
                       ? g_strdup_printf("sustainable rate ≥ %s req/s (search limit)", pl_fmt_sig(b, c->max_rate))
                       : g_strdup_printf("sustainable rate %s req/s", pl_fmt_sig(b, c->max_rate));
    char *label = g_strdup_printf("max %s%s", c->max_rate_is_bound ? "≥ " : "", pl_fmt_sig(b, c->max_rate));
    /* a lower bound says nothing about the loads above it: no shade */
    rp_svg_chart_set_vline(ch, c->max_rate, legend, label, c->max_rate_is_bound ? NULL : "above it: not sustained");
    g_free(legend);
    g_free(label);
}

#define FAIL_LEGEND "hollow marker: an SLO fails or the queue grows"

/* TTFT (metric PL_SLO_TTFT) or TPOT latency chart of one candidate. */
static void latency_chart(GString *o, const PlReport *rp, const PlCandidateResult *c, PlSloMetric metric)
{
    const PlPlanResult *r = rp->r;
    const char *m = pl_slo_metric_label(metric);
    const char *long_name = metric == PL_SLO_TTFT ? "Time to first token" : "Time per output token";
    char b1[PL_NUM_BUF], b2[PL_NUM_BUF], b3[PL_NUM_BUF], b4[PL_NUM_BUF];
    char *title = g_strdup_printf("%s (%s) against load", long_name, m);
    const PlLoadPoint *first = &c->curve[0], *last = &c->curve[c->num_curve - 1];
    double v_first = metric == PL_SLO_TTFT ? first->ttft_p99_ms : first->tpot_p99_ms;
    double v_last = metric == PL_SLO_TTFT ? last->ttft_p99_ms : last->tpot_p99_ms;
    GString *desc = g_string_new(NULL);
    g_string_append_printf(desc, "Line chart of %s: p99 %s goes from %s ms at %s requests/s to %s ms at %s requests/s.",
                           pl_report_name(rp, c), m, pl_fmt_sig(b1, v_first), pl_fmt_sig(b2, first->rate), pl_fmt_sig(b3, v_last),
                           pl_fmt_sig(b4, last->rate));
    char *ylabel = g_strdup_printf("%s (ms)", m);
    RpSvgChart *ch = rp_svg_chart_new(title, NULL, "offered load per replica (requests/s)", ylabel, TRUE);
    char *name50 = g_strdup_printf("p50 %s", m), *name99 = g_strdup_printf("p99 %s", m);
    guint s50 = rp_svg_chart_add_series(ch, name50, COLOR_P50, RP_SVG_MARK_CIRCLE);
    guint s99 = rp_svg_chart_add_series(ch, name99, COLOR_P99, RP_SVG_MARK_SQUARE);
    for (guint i = 0; i < c->num_curve; i++) {
        const PlLoadPoint *p = &c->curve[i];
        double v50 = metric == PL_SLO_TTFT ? p->ttft_p50_ms : p->tpot_p50_ms;
        double v99 = metric == PL_SLO_TTFT ? p->ttft_p99_ms : p->tpot_p99_ms;
        char *t50 = point_tip(rp, p, name50, v50, "ms"), *t99 = point_tip(rp, p, name99, v99, "ms");
        rp_svg_chart_add_point(ch, s50, p->rate, v50, pl_load_point_sustained(p), t50);
        rp_svg_chart_add_point(ch, s99, p->rate, v99, pl_load_point_sustained(p), t99);
        g_free(t50);
        g_free(t99);
    }
    /* SLOs on this metric: a threshold each, and their statistic when it is not p50/p99 */
    static const RpSvgMarker extra_marks[] = {RP_SVG_MARK_DIAMOND, RP_SVG_MARK_TRIANGLE};
    guint extra = 0;
    for (guint k = 0; k < rp->num_slos; k++) {
        const PlSlo *slo = &r->slos[k];
        if (slo->metric != metric)
            continue;
        char *text = pl_slo_text(slo);
        char *legend = g_strdup_printf("SLO: %s", text);
        char *sname = pl_slo_short(slo);
        char *short_label = g_strdup_printf("SLO %s %s ms", pl_stat_name(slo->stat), pl_fmt_sig(b1, slo->max_ms));
        rp_svg_chart_add_hline(ch, slo->max_ms, legend, short_label, COLOR_SLO);
        g_string_append_printf(desc, " Dashed line: SLO %s.", text);
        if (!pl_slo_is_plotted(slo)) {
            char *sn = g_strdup_printf("%s (SLO statistic)", sname);
            guint se = rp_svg_chart_add_series(ch, sn, COLOR_EXTRA, extra_marks[extra++ % 2]);
            for (guint i = 0; i < c->num_curve; i++) {
                const PlLoadPoint *p = &c->curve[i];
                char *tip = point_tip(rp, p, sname, p->slo_values[k], "ms");
                rp_svg_chart_add_point(ch, se, p->rate, p->slo_values[k], pl_load_point_sustained(p), tip);
                g_free(tip);
            }
            g_free(sn);
        }
        g_free(text);
        g_free(legend);
        g_free(sname);
        g_free(short_label);
    }
    chart_marker(c, ch);
    if (c->feasible && c->max_rate > 0)
        g_string_append_printf(desc, " Vertical line: sustainable rate %s requests/s.",
                               pl_fmt_max_rate(b1, c, "at least "));
    g_string_append(desc, " Hollow markers: load levels not sustained.");
    rp_svg_chart_set_fail_legend(ch, FAIL_LEGEND);
    rp_svg_chart_set_desc(ch, desc->str);
    rp_svg_chart_render(ch, o);
    rp_svg_chart_free(ch);
    g_string_free(desc, TRUE);
    g_free(title);
    g_free(ylabel);
    g_free(name50);
    g_free(name99);
}

/* The achieved-rate and output-throughput charts of one candidate. */
static void throughput_charts(GString *o, const PlReport *rp, const PlCandidateResult *c)
{
    char b1[PL_NUM_BUF], b2[PL_NUM_BUF], b3[PL_NUM_BUF];
    const PlLoadPoint *last = &c->curve[c->num_curve - 1];
    const char *xlabel = "offered load per replica (requests/s)";

    RpSvgChart *ch = rp_svg_chart_new("Achieved against offered request rate", NULL, xlabel, "achieved requests/s",
                                      FALSE);
    guint s = rp_svg_chart_add_series(ch, "achieved request rate", COLOR_ACHIEVED, RP_SVG_MARK_CIRCLE);
    for (guint i = 0; i < c->num_curve; i++) {
        const PlLoadPoint *p = &c->curve[i];
        char *tip = point_tip(rp, p, "achieved", p->achieved_rate, "requests/s");
        rp_svg_chart_add_point(ch, s, p->rate, p->achieved_rate, pl_load_point_sustained(p), tip);
        g_free(tip);
    }
    rp_svg_chart_set_diagonal(ch, "y = x: every offered request is served");
    chart_marker(c, ch);
    rp_svg_chart_set_fail_legend(ch, FAIL_LEGEND);
    char *desc = g_strdup_printf("Line chart of %s: achieved against offered request rate, with the line y = x. At "
                                 "the highest offered load, %s requests/s, %s requests/s complete.",
                                 pl_report_name(rp, c), pl_fmt_sig(b1, last->rate), pl_fmt_sig(b2, last->achieved_rate));
    rp_svg_chart_set_desc(ch, desc);
    rp_svg_chart_render(ch, o);
    rp_svg_chart_free(ch);
    g_free(desc);

    ch = rp_svg_chart_new("Output throughput against load", NULL, xlabel, "output tokens/s", FALSE);
    s = rp_svg_chart_add_series(ch, "output tokens/s", COLOR_TOKENS, RP_SVG_MARK_DIAMOND);
    for (guint i = 0; i < c->num_curve; i++) {
        const PlLoadPoint *p = &c->curve[i];
        char *tip = point_tip(rp, p, "output", p->output_tokens_per_s, "tokens/s");
        rp_svg_chart_add_point(ch, s, p->rate, p->output_tokens_per_s, pl_load_point_sustained(p), tip);
        g_free(tip);
    }
    chart_marker(c, ch);
    rp_svg_chart_set_fail_legend(ch, FAIL_LEGEND);
    desc = g_strdup_printf("Line chart of %s: output tokens per second against offered request rate; %s tokens/s at "
                           "%s requests/s.",
                           pl_report_name(rp, c), pl_fmt_tokens(b3, last->output_tokens_per_s), pl_fmt_sig(b1, last->rate));
    rp_svg_chart_set_desc(ch, desc);
    rp_svg_chart_render(ch, o);
    rp_svg_chart_free(ch);
    g_free(desc);
}


static void html_curve_table(GString *o, const PlReport *rp, const PlCandidateResult *c)
{
    GPtrArray *cells = g_ptr_array_new_with_free_func(g_free);
    pl_curve_header(rp, cells);
    guint ncols = cells->len;
    g_string_append(o, "<details>\n<summary>");
    rp_html_escapef(o, "The %u load levels behind these charts, as a table", c->num_curve);
    g_string_append(o, "</summary>\n<div class=\"scroll\"><table>\n<thead><tr>");
    for (guint i = 0; i < ncols; i++)
        rp_html_elem(o, "th", i + 1 < ncols ? "scope=\"col\" class=\"n\"" : "scope=\"col\"", g_ptr_array_index(cells, i));
    g_string_append(o, "</tr></thead>\n<tbody>\n");
    for (guint i = 0; i < c->num_curve; i++) {
        g_ptr_array_set_size(cells, 0);
        pl_curve_row(rp, &c->curve[i], cells);
        g_string_append(o, "<tr>");
        for (guint k = 0; k < cells->len; k++)
            td(o, k + 1 < cells->len, g_ptr_array_index(cells, k));
        g_string_append(o, "</tr>\n");
    }
    g_string_append(o, "</tbody>\n</table></div>\n</details>\n");
    g_ptr_array_free(cells, TRUE);
}


static void html_candidate(GString *o, const PlReport *rp, guint idx)
{
    const PlCandidateResult *c = &rp->r->candidates[idx];
    gboolean best = c == rp->best;
    g_string_append_printf(o, "<article class=\"cand%s\" id=\"cand-%u\" aria-labelledby=\"cand-%u-h\">\n",
                           best ? " recommended" : "", idx, idx);
    g_string_append_printf(o, "<h3 id=\"cand-%u-h\">", idx);
    char *h = pl_text_rank_heading(rp, c);
    rp_html_escape(o, h);
    g_free(h);
    if (best)
        g_string_append(o, " <span class=\"badge\">★ recommended</span>");
    else if (!c->feasible)
        g_string_append(o, " <span class=\"badge bad\">✗ infeasible</span>");
    g_string_append(o, "</h3>\n");
    if (c->feasible && c->verdict) {
        rp_html_elem(o, "p", NULL, c->verdict);
        g_string_append_c(o, '\n');
    }
    GPtrArray *facts = g_ptr_array_new_with_free_func(g_free);
    pl_candidate_facts(rp, c, facts);
    g_string_append(o, "<dl class=\"facts\">\n");
    for (guint i = 0; i + 1 < facts->len; i += 2)
        rp_html_fact(o, g_ptr_array_index(facts, i), g_ptr_array_index(facts, i + 1));
    g_string_append(o, "</dl>\n");
    g_ptr_array_free(facts, TRUE);
    if (c->num_curve == 0 || !c->curve) {
        g_string_append(o, "<p class=\"muted\">No load levels were simulated for the curves of this candidate, so "
                           "it has no charts.</p>\n");
    } else {
        g_string_append(o, "<div class=\"charts\">\n");
        latency_chart(o, rp, c, PL_SLO_TTFT);
        latency_chart(o, rp, c, PL_SLO_TPOT);
        throughput_charts(o, rp, c);
        g_string_append(o, "</div>\n");
        html_curve_table(o, rp, c);
    }
    g_string_append(o, "</article>\n");
}

char *pl_report_html(const PlPlanResult *r)
{
    g_return_val_if_fail(r != NULL, NULL); /* a contract: pl_plan_run never returns NULL */
    PlReport rp;
    pl_report_init(&rp, r);
    GString *o = g_string_sized_new(64 * 1024);
    html_head(o, &rp);
    html_summary(o, &rp);
    html_terms(o);
    html_table(o, &rp);
    html_cost_chart(o, &rp);
    g_string_append(o, "<section aria-labelledby=\"details\">\n<h2 id=\"details\">Candidates in detail</h2>\n"
                       "<p class=\"muted\">For each candidate, latency and throughput of one replica against the "
                       "offered load. Filled markers are load levels it sustains; hollow markers fail an SLO or let "
                       "the queue grow. Dashed red lines are SLO thresholds; the dash-dotted vertical line is the "
                       "sustainable rate, and the shaded region beyond it is not sustained. Latency axes turn "
                       "logarithmic (and say so) when values span more than two decades. Hover a marker for its "
                       "values.</p>\n");
    for (guint k = 0; k < r->num_candidates; k++)
        html_candidate(o, &rp, rp.order[k]);
    g_string_append(o, "</section>\n");
    pl_report_scale_html(o, r);
    g_string_append(o, "<footer>Generated by servesim's capacity planner. Every figure is simulated, not "
                       "measured: it is as good as the latency model of the hardware and model "
                       "(check it against real runs with <code>servesim validate</code>).</footer>\n");
    rp_html_close(o);
    pl_report_clear(&rp);
    return g_string_free(o, FALSE);
}
