/*
 * pl_report.c: the capacity plan as documents (see pl_plan.h and
 * docs/planning-report.md): report.html, report.md and plan.json.
 *
 * The HTML report is one self-contained file for people who decide what to
 * buy: inline CSS and inline SVG charts (rp_svg.c), no script, no font or
 * image to fetch, no link leaving the page. It opens with the recommendation
 * and what was simulated, defines its terms, ranks every candidate (the
 * infeasible ones last, with their error), draws the cost of each candidate
 * at the target load, then gives each candidate's latency and throughput
 * curves against the offered load with the SLO thresholds and the
 * sustainable rate marked. report.md says the same with tables in place of
 * charts; plan.json (schema "servesim.plan/2", via cJSON) holds every field
 * of the PlPlanResult.
 *
 * Every document is a function of the PlPlanResult alone: no clock, no host,
 * no locale (numbers go through g_ascii_formatd), no hash-table order, so the
 * same result gives the same bytes. Every string from the result is escaped
 * for the document it goes into; non-finite numbers print as "–" (HTML and
 * Markdown) or null (JSON). Cost: linear in candidates x curve points.
 */
#include "pl_plan.h"
#include "scn_json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "rp_svg.h"

/* Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
#define COLOR_P50 "#0072b2"
#define COLOR_P99 "#d55e00"
#define COLOR_EXTRA "#cc79a7"
#define COLOR_ACHIEVED "#009e73"
#define COLOR_TOKENS "#0072b2"
#define COLOR_SLO "#b42318"

#define NUM_BUF 64

/* ------------------------------------------------------------ shared -- */

/* The report's view of a result: candidate order and display names. */
typedef struct {
    const PlPlanResult *r;
    guint *order;                  /* candidate indices: ranked, then unranked, then infeasible */
    char **names;                  /* display name of each candidate (plan order) */
    const PlCandidateResult *best; /* the recommendation, NULL when none */
    guint num_feasible;
    guint num_slos;                /* r->num_slos, at most the 8 values a load point holds */
} Report;

static guint order_group(const PlCandidateResult *c)
{
    if (c->feasible && c->rank > 0)
        return 0;
    return c->feasible ? 1 : 2;
}

/* TRUE when candidate a goes before candidate b in the ranked lists. */
static gboolean goes_before(const PlPlanResult *r, guint a, guint b)
{
    const PlCandidateResult *x = &r->candidates[a], *y = &r->candidates[b];
    guint gx = order_group(x), gy = order_group(y);
    if (gx != gy)
        return gx < gy;
    if (gx == 0 && x->rank != y->rank)
        return x->rank < y->rank;
    return a < b;
}

static void report_init(Report *rp, const PlPlanResult *r)
{
    memset(rp, 0, sizeof *rp);
    rp->r = r;
    rp->num_slos = MIN(r->num_slos, G_N_ELEMENTS(((PlLoadPoint *)NULL)->slo_values));
    rp->order = g_new0(guint, MAX(r->num_candidates, 1));
    rp->names = g_new0(char *, r->num_candidates + 1);
    for (guint i = 0; i < r->num_candidates; i++) {
        const PlCandidateResult *c = &r->candidates[i];
        rp->names[i] = c->name && *c->name ? g_strdup(c->name) : g_strdup_printf("candidate %u", i + 1);
        rp->num_feasible += c->feasible ? 1 : 0;
        /* insertion sort: stable, and the lists are short */
        guint k = i;
        while (k > 0 && goes_before(r, i, rp->order[k - 1])) {
            rp->order[k] = rp->order[k - 1];
            k--;
        }
        rp->order[k] = i;
    }
    if (r->recommended >= 0 && (guint)r->recommended < r->num_candidates)
        rp->best = &r->candidates[r->recommended];
}

static void report_clear(Report *rp)
{
    g_strfreev(rp->names);
    g_free(rp->order);
}

static guint cand_index(const Report *rp, const PlCandidateResult *c)
{
    return (guint)(c - rp->r->candidates);
}

static const char *cand_name(const Report *rp, const PlCandidateResult *c)
{
    return rp->names[cand_index(rp, c)];
}

/* The feasible candidate ranked right after the recommendation, or NULL. */
static const PlCandidateResult *runner_up(const Report *rp)
{
    for (guint k = 0; k < rp->r->num_candidates; k++) {
        const PlCandidateResult *c = &rp->r->candidates[rp->order[k]];
        if (c != rp->best && c->feasible && c->rank > 0)
            return c;
    }
    return NULL;
}

static const char *str_or(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

static const char *metric_label(PlSloMetric m)
{
    static const char *const labels[] = {"TTFT", "TPOT", "ITL", "E2E", "queueing delay"};
    return (guint)m < G_N_ELEMENTS(labels) ? labels[m] : "?";
}

static const char *stat_label(PlStat s)
{
    static const char *const labels[] = {"mean", "p50", "p90", "p95", "p99", "max"};
    return (guint)s < G_N_ELEMENTS(labels) ? labels[s] : "?";
}

/* "p99 TTFT" (g_free) */
static char *slo_short(const PlSlo *s)
{
    return g_strdup_printf("%s %s", stat_label(s->stat), metric_label(s->metric));
}

/* The SLO's own label, or "p99 TTFT <= 2000 ms" (g_free). */
static char *slo_text(const PlSlo *s)
{
    if (s->label && *s->label)
        return g_strdup(s->label);
    char b[G_ASCII_DTOSTR_BUF_SIZE]; /* worded like the planner's labels: "%g", no grouping */
    return g_strdup_printf("%s %s <= %s ms", stat_label(s->stat), metric_label(s->metric),
                           g_ascii_formatd(b, sizeof b, "%g", s->max_ms));
}

/* Is this SLO's statistic one of the plotted and tabulated p50/p99 TTFT/TPOT? */
static gboolean slo_is_plotted(const PlSlo *s)
{
    return (s->metric == PL_SLO_TTFT || s->metric == PL_SLO_TPOT) && (s->stat == PL_STAT_P50 || s->stat == PL_STAT_P99);
}

static gboolean sustained(const PlLoadPoint *p)
{
    return p->meets_slos && p->stable;
}

/* "yes", or "no: p99 TTFT, queue grows" (g_free). */
static char *point_status(const Report *rp, const PlLoadPoint *p)
{
    if (sustained(p))
        return g_strdup("yes");
    GString *s = g_string_new("no: ");
    gboolean any = FALSE;
    if (!p->meets_slos) {
        for (guint k = 0; k < rp->num_slos; k++) {
            const PlSlo *slo = &rp->r->slos[k];
            if (p->slo_values[k] <= slo->max_ms)
                continue;
            char *n = slo_short(slo);
            g_string_append_printf(s, "%s%s", any ? ", " : "", n);
            g_free(n);
            any = TRUE;
        }
        if (!any) {
            g_string_append(s, "an SLO");
            any = TRUE;
        }
    }
    if (!p->stable)
        g_string_append_printf(s, "%squeue grows", any ? ", " : "");
    return g_string_free(s, FALSE);
}

static char *fmt_sig(char *b, double v)
{
    return rp_svg_format_sig(b, NUM_BUF, v);
}

/* "$1,234.56"; below $1, three significant digits ("$0.0412"). */
static char *fmt_fixed3(char *b, double v)
{
    return g_ascii_formatd(b, NUM_BUF, "%.3f", v);
}

static char *fmt_money(char *b, double v)
{
    char t[NUM_BUF];
    if (!isfinite(v))
        return rp_svg_format(b, NUM_BUF, v, 0, FALSE);
    if (fabs(v) < 1 && v != 0)
        rp_svg_format_sig(t, sizeof t, v);
    else
        rp_svg_format(t, sizeof t, v, 2, TRUE);
    g_snprintf(b, NUM_BUF, "$%s", t);
    return b;
}

/* Tokens per second: whole numbers from 100 up. */
static char *fmt_tokens(char *b, double v)
{
    if (isfinite(v) && fabs(v) >= 100)
        return rp_svg_format(b, NUM_BUF, v, 0, TRUE);
    return fmt_sig(b, v);
}

/* The sustainable rate with ">= " when it is a lower bound. */
static char *fmt_max_rate(char *b, const PlCandidateResult *c, const char *ge)
{
    char t[NUM_BUF];
    g_snprintf(b, NUM_BUF, "%s%s", c->max_rate_is_bound ? ge : "", fmt_sig(t, c->max_rate));
    return b;
}

/* Distinct models of the candidates, in plan order (g_free). */
static char *models_text(const Report *rp)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < rp->r->num_candidates; i++) {
        const char *m = rp->r->candidates[i].model;
        if (!m || !*m)
            continue;
        gboolean seen = FALSE;
        for (guint k = 0; k < i && !seen; k++)
            seen = g_strcmp0(rp->r->candidates[k].model, m) == 0;
        if (!seen)
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", m);
    }
    if (!s->len)
        g_string_append(s, "not recorded");
    return g_string_free(s, FALSE);
}

static guint total_evaluations(const Report *rp)
{
    guint n = 0;
    for (guint i = 0; i < rp->r->num_candidates; i++)
        n += rp->r->candidates[i].evaluations + rp->r->candidates[i].fleet_evaluations;
    return n;
}

/* The sentences shared by both documents, as plain text (g_free each). */

static char *target_text(const Report *rp)
{
    const PlPlanResult *r = rp->r;
    char b1[NUM_BUF], b2[NUM_BUF], b3[NUM_BUF];
    if (r->mean_output_tokens > 0 && isfinite(r->target_rate))
        return g_strdup_printf("%s requests/s in total (about %s output tokens/s: %s output tokens per request on "
                               "average)",
                               fmt_sig(b1, r->target_rate), fmt_tokens(b2, r->target_rate * r->mean_output_tokens),
                               fmt_sig(b3, r->mean_output_tokens));
    return g_strdup_printf("%s requests/s in total", fmt_sig(b1, r->target_rate));
}

static char *slos_text(const Report *rp)
{
    GString *s = g_string_new(NULL);
    for (guint k = 0; k < rp->r->num_slos; k++) {
        char *t = slo_text(&rp->r->slos[k]);
        g_string_append_printf(s, "%s%s", k ? "; " : "", t);
        g_free(t);
    }
    char b[NUM_BUF], b2[NUM_BUF];
    g_string_append_printf(s,
                           "%sand the queue must not grow (queueing delay growing by at most %s ms over a run and "
                           "at most %s%% of the elapsed time)",
                           s->len ? "; " : "", fmt_sig(b, rp->r->max_queue_growth_ms),
                           fmt_sig(b2, 100 * rp->r->max_queue_growth_rate));
    return g_string_free(s, FALSE);
}

static char *method_text(const Report *rp)
{
    const PlPlanResult *r = rp->r;
    char b1[NUM_BUF], b2[NUM_BUF], b3[NUM_BUF];
    return g_strdup_printf(
        "servesim simulated one replica of each candidate (a discrete-event model of a vLLM V1 server: scheduler, "
        "KV cache and step latency) at a series of offered request rates, %u requests per simulation, "
        "seed %" G_GUINT64_FORMAT ". The sustainable rate was found by bisection on the offered rate until the "
        "bracket (highest rate sustained, lowest rate not sustained) was within %s%% of its upper end; a rate "
        "counts as sustained when every SLO holds and the queueing delay grows by at most %s ms and %s%% of the "
        "elapsed time. Then whole fleets of that replica behind the %s router were simulated at the target load "
        "(%u requests per replica), from the count that dividing the target by one replica's rate gives, down or "
        "up to the smallest count that sustains it by the same rule. %u simulations in total.",
        r->num_requests, r->seed, fmt_sig(b1, r->tolerance * 100), fmt_sig(b2, r->max_queue_growth_ms),
        fmt_sig(b3, 100 * r->max_queue_growth_rate), str_or(r->router, "chosen"), r->num_requests,
        total_evaluations(rp));
}

/* "3 replicas x TP 4 = 12 GPUs" with the given times sign (g_free). */
/* Where a candidate's step times come from, for a person. */
static char *step_times_text(const PlCandidateResult *c)
{
    const char *basis = c->latency_basis;
    if (!basis || !*basis)
        return g_strdup("not recorded (the engine was not built)");
    if (c->latency_measured)
        return g_strdup_printf("from kernel tables measured on %s", str_or(c->hardware, "its GPU"));
    return g_strdup_printf("%s: an estimate (no kernel tables measured on %s); measure, or fit its constants to "
                           "your own runs with servesim calibrate, before relying on it",
                           basis, str_or(c->hardware, "its GPU"));
}

/* The summary's account of the step times over the candidates. */
static char *step_times_summary(const Report *rp)
{
    const PlPlanResult *r = rp->r;
    guint measured = 0, unknown = 0;
    GString *est = g_string_new(NULL);
    for (guint i = 0; i < r->num_candidates; i++) {
        const PlCandidateResult *c = &r->candidates[i];
        if (!c->latency_basis || !*c->latency_basis)
            unknown++;
        else if (c->latency_measured)
            measured++;
        else
            g_string_append_printf(est, "%s%s (%s)", est->len ? ", " : "", cand_name(rp, c), c->latency_basis);
    }
    GString *t = g_string_new(NULL);
    g_string_append_printf(t, "%u candidate%s from kernel tables measured on their GPU", measured,
                           measured == 1 ? "" : "s");
    if (est->len)
        g_string_append_printf(t, "; estimates for %s", est->str);
    if (unknown)
        g_string_append_printf(t, "; %u not simulated (the engine could not be built)", unknown);
    g_string_free(est, TRUE);
    return g_string_free(t, FALSE);
}

static char *replicas_text(const PlCandidateResult *c, const char *times)
{
    if (c->disaggregated)
        return g_strdup_printf("%u prefill %s TP %u (%s) + %u decode %s TP %u (%s) = %u GPU%s", c->prefill_replicas,
                               times, c->prefill_tp, str_or(c->prefill_hardware, "?"), c->decode_replicas, times,
                               c->decode_tp, str_or(c->decode_hardware, "?"), c->gpus, c->gpus == 1 ? "" : "s");
    return g_strdup_printf("%u replica%s %s TP %u = %u GPU%s", c->replicas, c->replicas == 1 ? "" : "s", times,
                           c->tensor_parallel_size, c->gpus, c->gpus == 1 ? "" : "s");
}

/* What one replica sustains and carries at the target load (g_free). */
static char *capacity_text(const Report *rp, const PlCandidateResult *c)
{
    char b1[NUM_BUF], b2[NUM_BUF], b3[NUM_BUF], b4[NUM_BUF];
    double per_replica = c->replicas ? rp->r->target_rate / c->replicas : NAN;
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "One replica sustains %s requests/s within the SLOs", fmt_max_rate(b1, c, "at least "));
    if (c->max_rate_is_bound)
        g_string_append(s, " (the search reached its upper rate limit)");
    g_string_append_printf(s, "; binding constraint: %s.", str_or(c->binding, "not recorded"));
    if (isfinite(per_replica) && c->max_rate > 0)
        g_string_append_printf(s, " At the target load each of the %u replicas carries %s requests/s (%s%% of what it "
                                  "sustains) and produces about %s output tokens/s.",
                               c->replicas, fmt_sig(b2, per_replica), fmt_sig(b3, 100 * per_replica / c->max_rate),
                               fmt_tokens(b4, c->output_tokens_per_s_at_target));
    return g_string_free(s, FALSE);
}

typedef struct {
    const char *term;
    const char *text;
} Term;

static const Term terms[] = {
    {"Offered load", "requests per second arriving at one replica; the charts' x axis."},
    {"Sustainable rate", "the highest offered load one replica carries while every SLO holds and its queue does not "
                         "grow without bound; \"≥\" marks a lower bound (the search stopped at its upper limit)."},
    {"Binding constraint", "what fails first just above the sustainable rate: an SLO, or queue growth (the server "
                           "cannot keep up)."},
    {"Replica", "one copy of the model served by TP GPUs with tensor parallelism (TP); replicas share the load "
                "behind a router. Replicas = the smallest fleet that, simulated at the target load with that "
                "router, meets the SLOs without a growing queue; GPUs = replicas × TP."},
    {"By division", "the target load divided by one replica's sustainable rate, rounded up: the count a perfect "
                    "router splitting the traffic into equal smooth shares would need. The simulated fleet can need "
                    "more (bursts, uneven routing, stale load signals) or fewer (a round-robin share of a Poisson "
                    "stream is smoother than the stream itself)."},
    {"Imbalance", "max / mean requests per replica in the simulated fleet (1 = perfectly even)."},
    {"Cost", "$/hour = GPUs × price per GPU-hour; $ per million output tokens = $/hour divided by the output tokens "
             "produced in an hour at the target load."},
    {"TTFT, TPOT", "time to first token (arrival to first output token); time per output token after the first. "
                   "p50 is the median, p99 the value 99% of requests stay under."},
};

/* --------------------------------------------------------------- HTML -- */

static const char css[] =
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:#f4f6f8;color:#1d2329;"
    "font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}\n"
    "main{max-width:1320px;margin:0 auto;padding:24px 32px 48px}\n"
    "h1{font-size:27px;margin:0 0 4px}\n"
    "h2{font-size:20px;margin:34px 0 12px;padding-bottom:4px;border-bottom:1px solid #cfd6dd}\n"
    "h3{font-size:18px;margin:0 0 6px}\n"
    ".lead{color:#4a5561;margin:0 0 18px}\n"
    ".summary{background:#fff;border:1px solid #c9d3dd;border-left:6px solid #1a7f37;border-radius:6px;"
    "padding:14px 22px 18px}\n"
    ".summary.none{border-left-color:#b42318}\n"
    ".summary h2{border:0;margin:0 0 6px;padding:0}\n"
    ".rec{font-size:19px;margin:0 0 8px}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:5px 18px;margin:12px 0 0}\n"
    "dl.facts dt{font-weight:600;color:#4a5561}\n"
    "dl.facts dd{margin:0}\n"
    "dl.terms{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}\n"
    "dl.terms dt{font-weight:600}\n"
    "dl.terms dd{margin:0}\n"
    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse;background:#fff;width:100%;font-size:13.5px}\n"
    "th,td{border:1px solid #d3d9df;padding:5px 8px;text-align:left;vertical-align:top}\n"
    "th{background:#e9edf1;font-weight:600}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.n{white-space:nowrap}\n"
    "td.verdict{min-width:320px}\n"
    "tr.best td{background:#e8f5eb}\n"
    "tr.infeasible td{background:#faf6f5;color:#5b4a45}\n"
    ".badge{display:inline-block;font-size:12px;font-weight:700;padding:0 7px;border-radius:3px;"
    "background:#1a7f37;color:#fff;white-space:nowrap}\n"
    ".badge.bad{background:#b42318}\n"
    ".err{color:#9d1c12}\n"
    ".muted{color:#5b6670}\n"
    ".cand{background:#fff;border:1px solid #d3d9df;border-radius:6px;padding:16px 22px;margin:18px 0}\n"
    ".cand.recommended{border-left:6px solid #1a7f37}\n"
    ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px;margin-top:14px}\n"
    ".charts svg{width:100%;height:auto;border:1px solid #e3e7eb;border-radius:4px}\n"
    ".costchart svg{max-width:100%;height:auto;border:1px solid #e3e7eb;border-radius:4px}\n"
    "details{margin-top:12px}\n"
    "summary{cursor:pointer;color:#24527a}\n"
    "a{color:#24527a}\n"
    "footer{margin-top:36px;color:#5b6670;font-size:13px}\n";

static void esc(GString *o, const char *text)
{
    rp_svg_escape(o, text);
}

/* Appends printf-formatted text, escaped. */
G_GNUC_PRINTF(2, 3) static void escf(GString *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    rp_svg_escape(o, t);
    g_free(t);
}

/* <tag attrs>escaped text</tag> */
static void elem(GString *o, const char *tag, const char *attrs, const char *text)
{
    g_string_append_printf(o, "<%s%s%s>", tag, attrs ? " " : "", attrs ? attrs : "");
    esc(o, text);
    g_string_append_printf(o, "</%s>", tag);
}

/* <dt>term</dt><dd>escaped text</dd> */
static void fact(GString *o, const char *term, const char *text)
{
    elem(o, "dt", NULL, term);
    elem(o, "dd", NULL, text);
    g_string_append_c(o, '\n');
}

static void html_head(GString *o, const Report *rp)
{
    const PlPlanResult *r = rp->r;
    g_string_append(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<meta name=\"color-scheme\" content=\"light\">\n"
                       /* the browser itself refuses any load: the report needs none */
                       "<meta http-equiv=\"Content-Security-Policy\" "
                       "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<title>");
    escf(o, "Capacity plan: %s", str_or(r->name, "unnamed plan"));
    g_string_append_printf(o, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<header>\n<h1>", css);
    escf(o, "Capacity plan: %s", str_or(r->name, "unnamed plan"));
    g_string_append(o, "</h1>\n");
    if (r->description && *r->description) {
        elem(o, "p", "class=\"lead\"", r->description);
        g_string_append_c(o, '\n');
    }
    g_string_append(o, "</header>\n");
}

static void html_summary(GString *o, const Report *rp)
{
    const PlPlanResult *r = rp->r;
    const PlCandidateResult *c = rp->best;
    char b1[NUM_BUF], b2[NUM_BUF];
    g_string_append_printf(o, "<section class=\"summary%s\" aria-labelledby=\"recommendation\">\n"
                              "<h2 id=\"recommendation\">Recommendation</h2>\n",
                           c ? "" : " none");
    if (c) {
        char *reps = replicas_text(c, "×");
        g_string_append(o, "<p class=\"rec\"><span class=\"badge\">★ recommended</span> Deploy <strong>");
        esc(o, cand_name(rp, c));
        g_string_append(o, "</strong>: <strong>");
        esc(o, reps);
        g_string_append(o, "</strong> of ");
        esc(o, str_or(c->hardware, "unknown hardware"));
        g_string_append(o, ", <strong>");
        escf(o, "%s per hour", fmt_money(b1, c->cost_per_hour));
        g_string_append(o, "</strong>, <strong>");
        escf(o, "%s per million output tokens", fmt_money(b2, c->cost_per_million_output_tokens));
        g_string_append(o, "</strong>.</p>\n");
        g_free(reps);
        char *cap = capacity_text(rp, c);
        elem(o, "p", NULL, cap);
        g_free(cap);
        g_string_append_c(o, '\n');
        if (c->verdict) {
            g_string_append(o, "<p><strong>Why this one:</strong> ");
            esc(o, c->verdict);
            g_string_append(o, "</p>\n");
        }
        const PlCandidateResult *next = runner_up(rp);
        if (next) {
            g_string_append(o, "<p><strong>Runner-up:</strong> ");
            esc(o, cand_name(rp, next));
            g_string_append(o, ": ");
            esc(o, str_or(next->verdict, ""));
            g_string_append(o, "</p>\n");
        }
    } else {
        g_string_append(o, "<p class=\"rec\"><span class=\"badge bad\">✗ no recommendation</span> ");
        escf(o,
             "None of the %u candidates sustains the SLOs at any simulated load, so none can be recommended for the "
             "target load. Each candidate's reason is in the table below.",
             r->num_candidates);
        g_string_append(o, "</p>\n");
    }
    g_string_append(o, "<dl class=\"facts\">\n");
    char *t = target_text(rp);
    fact(o, "Target load", t);
    g_free(t);
    t = slos_text(rp);
    fact(o, "SLOs", t);
    g_free(t);
    fact(o, "Workload", str_or(r->workload, "not recorded"));
    t = models_text(rp);
    fact(o, "Model", t);
    g_free(t);
    t = g_strdup_printf("%u evaluated, %u feasible", r->num_candidates, rp->num_feasible);
    fact(o, "Candidates", t);
    g_free(t);
    t = step_times_summary(rp);
    fact(o, "Step times", t);
    g_free(t);
    t = method_text(rp);
    fact(o, "How it was computed", t);
    g_free(t);
    g_string_append(o, "</dl>\n</section>\n");
}

static void html_terms(GString *o)
{
    g_string_append(o, "<section aria-labelledby=\"terms\">\n<h2 id=\"terms\">How to read this report</h2>\n"
                       "<dl class=\"terms\">\n");
    for (guint i = 0; i < G_N_ELEMENTS(terms); i++) {
        elem(o, "dt", NULL, terms[i].term);
        elem(o, "dd", NULL, terms[i].text);
        g_string_append_c(o, '\n');
    }
    g_string_append(o, "</dl>\n</section>\n");
}

static void td(GString *o, gboolean numeric, const char *text)
{
    elem(o, "td", numeric ? "class=\"n\"" : NULL, text);
}

static void td_uint(GString *o, guint v)
{
    char b[NUM_BUF];
    g_snprintf(b, sizeof b, "%u", v);
    td(o, TRUE, b);
}

/* The text of the verdict cell of an infeasible candidate (g_free). */
static char *infeasible_text(const PlCandidateResult *c)
{
    const char *why = c->error ? c->error : c->verdict ? c->verdict : "sustains no load";
    if (c->error && c->verdict && !strstr(c->verdict, c->error))
        return g_strdup_printf("%s (%s)", c->error, c->verdict);
    return g_strdup(why);
}

static void html_table(GString *o, const Report *rp)
{
    const PlPlanResult *r = rp->r;
    char b[NUM_BUF];
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
        esc(o, cand_name(rp, c));
        g_string_append(o, "</a>");
        if (best)
            g_string_append(o, " <span class=\"badge\">★ recommended</span>");
        else if (!c->feasible)
            g_string_append(o, " <span class=\"badge bad\">✗ infeasible</span>");
        g_string_append(o, "</td>");
        td(o, FALSE, str_or(c->hardware, "–"));
        if (c->disaggregated) {
            char *tp = g_strdup_printf("%u + %u", c->prefill_tp, c->decode_tp);
            td(o, TRUE, tp);
            g_free(tp);
        } else {
            td_uint(o, c->tensor_parallel_size);
        }
        td(o, FALSE, str_or(c->model, "–"));
        if (c->feasible) {
            td(o, TRUE, fmt_max_rate(b, c, "≥ "));
            td(o, FALSE, str_or(c->binding, "–"));
            char *reps = pl_candidate_replicas_text(c);
            td(o, TRUE, reps);
            g_free(reps);
            td_uint(o, c->replicas_by_division);
            td(o, TRUE, pl_candidate_fleet(c) ? fmt_fixed3(b, pl_candidate_fleet(c)->imbalance) : "–");
            td_uint(o, c->gpus);
            td(o, TRUE, fmt_money(b, c->price_per_gpu_hour));
            td(o, TRUE, fmt_money(b, c->cost_per_hour));
            td(o, TRUE, fmt_money(b, c->cost_per_million_output_tokens));
            elem(o, "td", "class=\"verdict\"", str_or(c->verdict, ""));
        } else {
            td(o, TRUE, "–");
            td(o, FALSE, str_or(c->binding, "–"));
            td(o, TRUE, "–");
            td(o, TRUE, c->replicas_by_division ? g_ascii_formatd(b, NUM_BUF, "%.0f", (double)c->replicas_by_division) : "–");
            td(o, TRUE, "–");
            td(o, TRUE, "–");
            td(o, TRUE, fmt_money(b, c->price_per_gpu_hour));
            td(o, TRUE, "–");
            td(o, TRUE, "–");
            char *why = infeasible_text(c);
            g_string_append(o, "<td class=\"verdict err\"><strong>Infeasible:</strong> ");
            esc(o, why);
            g_string_append(o, "</td>");
            g_free(why);
        }
        g_string_append(o, "</tr>\n");
    }
    if (r->num_candidates == 0)
        g_string_append(o, "<tr><td colspan=\"15\">No candidates were given.</td></tr>\n");
    g_string_append(o, "</tbody>\n</table></div>\n</section>\n");
}

static void html_cost_chart(GString *o, const Report *rp)
{
    const PlPlanResult *r = rp->r;
    char b1[NUM_BUF], b2[NUM_BUF];
    RpSvgBar *bars = g_new0(RpSvgBar, MAX(r->num_candidates, 1));
    char **texts = g_new0(char *, 2 * r->num_candidates + 1);
    for (guint k = 0; k < r->num_candidates; k++) {
        const PlCandidateResult *c = &r->candidates[rp->order[k]];
        RpSvgBar *bar = &bars[k];
        bar->label = cand_name(rp, c);
        bar->highlight = c == rp->best;
        if (c->feasible) {
            bar->value = c->cost_per_hour;
            texts[2 * k] = g_strdup_printf("%s/h · %u GPUs · %s/M tok%s", fmt_money(b1, c->cost_per_hour), c->gpus,
                                           fmt_money(b2, c->cost_per_million_output_tokens),
                                           bar->highlight ? " · ★ recommended" : "");
        } else {
            bar->value = NAN;
            char *why = infeasible_text(c);
            texts[2 * k] = g_strdup_printf("✗ infeasible: %s", why);
            g_free(why);
        }
        bar->text = texts[2 * k];
        texts[2 * k + 1] = g_strdup_printf("%s: %s", bar->label, bar->text);
        bar->tip = texts[2 * k + 1];
    }
    g_string_append(o, "<section aria-labelledby=\"cost\">\n<h2 id=\"cost\">Cost at the target load</h2>\n");
    g_string_append(o, "<p class=\"muted\">");
    escf(o,
         "What each candidate costs to carry %s requests/s with enough replicas; shorter is cheaper. Infeasible "
         "candidates have no bar.",
         fmt_sig(b1, r->target_rate));
    g_string_append(o, "</p>\n<div class=\"costchart\">\n");
    char *title = g_strdup_printf("Cost per hour at the target load (%s requests/s)", fmt_sig(b1, r->target_rate));
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
static char *point_tip(const Report *rp, const PlLoadPoint *p, const char *what, double v, const char *unit)
{
    char b1[NUM_BUF], b2[NUM_BUF];
    char *st = point_status(rp, p);
    char *tip = g_strdup_printf("%s requests/s offered: %s %s %s; sustained: %s", fmt_sig(b1, p->rate), what,
                                fmt_sig(b2, v), unit, st);
    g_free(st);
    return tip;
}

static void chart_marker(const PlCandidateResult *c, RpSvgChart *ch)
{
    char b[NUM_BUF];
    if (!c->feasible || !(c->max_rate > 0))
        return;
    char *legend = c->max_rate_is_bound
                       ? g_strdup_printf("sustainable rate ≥ %s req/s (search limit)", fmt_sig(b, c->max_rate))
                       : g_strdup_printf("sustainable rate %s req/s", fmt_sig(b, c->max_rate));
    char *label = g_strdup_printf("max %s%s", c->max_rate_is_bound ? "≥ " : "", fmt_sig(b, c->max_rate));
    /* a lower bound says nothing about the loads above it: no shade */
    rp_svg_chart_set_vline(ch, c->max_rate, legend, label, c->max_rate_is_bound ? NULL : "above it: not sustained");
    g_free(legend);
    g_free(label);
}

#define FAIL_LEGEND "hollow marker: an SLO fails or the queue grows"

/* TTFT (metric PL_SLO_TTFT) or TPOT latency chart of one candidate. */
static void latency_chart(GString *o, const Report *rp, const PlCandidateResult *c, PlSloMetric metric)
{
    const PlPlanResult *r = rp->r;
    const char *m = metric_label(metric);
    const char *long_name = metric == PL_SLO_TTFT ? "Time to first token" : "Time per output token";
    char b1[NUM_BUF], b2[NUM_BUF], b3[NUM_BUF], b4[NUM_BUF];
    char *title = g_strdup_printf("%s (%s) against load", long_name, m);
    const PlLoadPoint *first = &c->curve[0], *last = &c->curve[c->num_curve - 1];
    double v_first = metric == PL_SLO_TTFT ? first->ttft_p99_ms : first->tpot_p99_ms;
    double v_last = metric == PL_SLO_TTFT ? last->ttft_p99_ms : last->tpot_p99_ms;
    GString *desc = g_string_new(NULL);
    g_string_append_printf(desc, "Line chart of %s: p99 %s goes from %s ms at %s requests/s to %s ms at %s requests/s.",
                           cand_name(rp, c), m, fmt_sig(b1, v_first), fmt_sig(b2, first->rate), fmt_sig(b3, v_last),
                           fmt_sig(b4, last->rate));
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
        rp_svg_chart_add_point(ch, s50, p->rate, v50, sustained(p), t50);
        rp_svg_chart_add_point(ch, s99, p->rate, v99, sustained(p), t99);
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
        char *text = slo_text(slo);
        char *legend = g_strdup_printf("SLO: %s", text);
        char *sname = slo_short(slo);
        char *short_label = g_strdup_printf("SLO %s %s ms", stat_label(slo->stat), fmt_sig(b1, slo->max_ms));
        rp_svg_chart_add_hline(ch, slo->max_ms, legend, short_label, COLOR_SLO);
        g_string_append_printf(desc, " Dashed line: SLO %s.", text);
        if (!slo_is_plotted(slo)) {
            char *sn = g_strdup_printf("%s (SLO statistic)", sname);
            guint se = rp_svg_chart_add_series(ch, sn, COLOR_EXTRA, extra_marks[extra++ % 2]);
            for (guint i = 0; i < c->num_curve; i++) {
                const PlLoadPoint *p = &c->curve[i];
                char *tip = point_tip(rp, p, sname, p->slo_values[k], "ms");
                rp_svg_chart_add_point(ch, se, p->rate, p->slo_values[k], sustained(p), tip);
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
                               fmt_max_rate(b1, c, "at least "));
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
static void throughput_charts(GString *o, const Report *rp, const PlCandidateResult *c)
{
    char b1[NUM_BUF], b2[NUM_BUF], b3[NUM_BUF];
    const PlLoadPoint *last = &c->curve[c->num_curve - 1];
    const char *xlabel = "offered load per replica (requests/s)";

    RpSvgChart *ch = rp_svg_chart_new("Achieved against offered request rate", NULL, xlabel, "achieved requests/s",
                                      FALSE);
    guint s = rp_svg_chart_add_series(ch, "achieved request rate", COLOR_ACHIEVED, RP_SVG_MARK_CIRCLE);
    for (guint i = 0; i < c->num_curve; i++) {
        const PlLoadPoint *p = &c->curve[i];
        char *tip = point_tip(rp, p, "achieved", p->achieved_rate, "requests/s");
        rp_svg_chart_add_point(ch, s, p->rate, p->achieved_rate, sustained(p), tip);
        g_free(tip);
    }
    rp_svg_chart_set_diagonal(ch, "y = x: every offered request is served");
    chart_marker(c, ch);
    rp_svg_chart_set_fail_legend(ch, FAIL_LEGEND);
    char *desc = g_strdup_printf("Line chart of %s: achieved against offered request rate, with the line y = x. At "
                                 "the highest offered load, %s requests/s, %s requests/s complete.",
                                 cand_name(rp, c), fmt_sig(b1, last->rate), fmt_sig(b2, last->achieved_rate));
    rp_svg_chart_set_desc(ch, desc);
    rp_svg_chart_render(ch, o);
    rp_svg_chart_free(ch);
    g_free(desc);

    ch = rp_svg_chart_new("Output throughput against load", NULL, xlabel, "output tokens/s", FALSE);
    s = rp_svg_chart_add_series(ch, "output tokens/s", COLOR_TOKENS, RP_SVG_MARK_DIAMOND);
    for (guint i = 0; i < c->num_curve; i++) {
        const PlLoadPoint *p = &c->curve[i];
        char *tip = point_tip(rp, p, "output", p->output_tokens_per_s, "tokens/s");
        rp_svg_chart_add_point(ch, s, p->rate, p->output_tokens_per_s, sustained(p), tip);
        g_free(tip);
    }
    chart_marker(c, ch);
    rp_svg_chart_set_fail_legend(ch, FAIL_LEGEND);
    desc = g_strdup_printf("Line chart of %s: output tokens per second against offered request rate; %s tokens/s at "
                           "%s requests/s.",
                           cand_name(rp, c), fmt_tokens(b3, last->output_tokens_per_s), fmt_sig(b1, last->rate));
    rp_svg_chart_set_desc(ch, desc);
    rp_svg_chart_render(ch, o);
    rp_svg_chart_free(ch);
    g_free(desc);
}

/* The curve table: header cells and one row of cells per load point (g_free'd strings). */
static void curve_header(const Report *rp, GPtrArray *cells)
{
    static const char *const fixed[] = {"Offered (req/s)",  "Achieved (req/s)", "Output tok/s",
                                        "TTFT p50 (ms)",    "TTFT p99 (ms)",    "TPOT p50 (ms)",
                                        "TPOT p99 (ms)"};
    for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(cells, g_strdup(fixed[i]));
    for (guint k = 0; k < rp->num_slos; k++) {
        const PlSlo *slo = &rp->r->slos[k];
        if (!slo_is_plotted(slo))
            g_ptr_array_add(cells, g_strdup_printf("%s %s (ms)", metric_label(slo->metric), stat_label(slo->stat)));
    }
    g_ptr_array_add(cells, g_strdup("Queue growth (ms)"));
    g_ptr_array_add(cells, g_strdup("SLOs met, stable"));
}

static void curve_row(const Report *rp, const PlLoadPoint *p, GPtrArray *cells)
{
    char b[NUM_BUF];
    g_ptr_array_add(cells, g_strdup(fmt_sig(b, p->rate)));
    g_ptr_array_add(cells, g_strdup(fmt_sig(b, p->achieved_rate)));
    g_ptr_array_add(cells, g_strdup(fmt_tokens(b, p->output_tokens_per_s)));
    g_ptr_array_add(cells, g_strdup(fmt_sig(b, p->ttft_p50_ms)));
    g_ptr_array_add(cells, g_strdup(fmt_sig(b, p->ttft_p99_ms)));
    g_ptr_array_add(cells, g_strdup(fmt_sig(b, p->tpot_p50_ms)));
    g_ptr_array_add(cells, g_strdup(fmt_sig(b, p->tpot_p99_ms)));
    for (guint k = 0; k < rp->num_slos; k++)
        if (!slo_is_plotted(&rp->r->slos[k]))
            g_ptr_array_add(cells, g_strdup(fmt_sig(b, p->slo_values[k])));
    g_ptr_array_add(cells, g_strdup(fmt_sig(b, p->queue_growth_ms)));
    g_ptr_array_add(cells, point_status(rp, p));
}

static void html_curve_table(GString *o, const Report *rp, const PlCandidateResult *c)
{
    GPtrArray *cells = g_ptr_array_new_with_free_func(g_free);
    curve_header(rp, cells);
    guint ncols = cells->len;
    g_string_append(o, "<details>\n<summary>");
    escf(o, "The %u load levels behind these charts, as a table", c->num_curve);
    g_string_append(o, "</summary>\n<div class=\"scroll\"><table>\n<thead><tr>");
    for (guint i = 0; i < ncols; i++)
        elem(o, "th", i + 1 < ncols ? "scope=\"col\" class=\"n\"" : "scope=\"col\"", g_ptr_array_index(cells, i));
    g_string_append(o, "</tr></thead>\n<tbody>\n");
    for (guint i = 0; i < c->num_curve; i++) {
        g_ptr_array_set_size(cells, 0);
        curve_row(rp, &c->curve[i], cells);
        g_string_append(o, "<tr>");
        for (guint k = 0; k < cells->len; k++)
            td(o, k + 1 < cells->len, g_ptr_array_index(cells, k));
        g_string_append(o, "</tr>\n");
    }
    g_string_append(o, "</tbody>\n</table></div>\n</details>\n");
    g_ptr_array_free(cells, TRUE);
}

/* "behind round-robin: 3 replicas miss p99 TPOT (52.1 ms), 4 meet (p99 TTFT 812 ms, p99 TPOT 41.0 ms,
 * imbalance 1.01); dividing by one replica's rate: 4" (g_free). */
static char *trials_text(const Report *rp, const PlCandidateResult *c)
{
    char b1[NUM_BUF], b2[NUM_BUF], b3[NUM_BUF], b4[NUM_BUF];
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "behind %s, at %s requests/s:", str_or(c->router, "the router"),
                           fmt_sig(b1, rp->r->target_rate));
    for (guint i = 0; i < c->num_trials; i++) {
        const PlFleetTrial *t = &c->trials[i];
        gboolean ok = t->meets_slos && t->stable;
        gboolean one = t->replicas == 1;
        if (c->disaggregated)
            g_string_append_printf(s, "%s %u prefill + %u decode replicas ($%s/hour) %s (p99 TTFT %s ms, p99 TPOT "
                                      "%s ms, imbalance %s)",
                                   i ? ";" : "", t->prefill_replicas, t->decode_replicas,
                                   fmt_sig(b3, t->cost_per_hour),
                                   ok ? "sustain it" : !t->meets_slos ? "miss an SLO" : "let the queue grow",
                                   fmt_sig(b1, t->ttft_p99_ms), fmt_sig(b2, t->tpot_p99_ms),
                                   fmt_fixed3(b4, t->imbalance));
        else
        g_string_append_printf(s, "%s %u replica%s %s (p99 TTFT %s ms, p99 TPOT %s ms, imbalance %s)",
                               i ? ";" : "", t->replicas, one ? "" : "s",
                               ok ? (one ? "sustains it" : "sustain it")
                                  : !t->meets_slos ? (one ? "misses an SLO" : "miss an SLO")
                                                   : (one ? "lets the queue grow" : "let the queue grow"),
                               fmt_sig(b1, t->ttft_p99_ms), fmt_sig(b2, t->tpot_p99_ms), fmt_fixed3(b3, t->imbalance));
    }
    if (c->disaggregated)
        g_string_append_printf(s, "; dividing by one prefill and decode pair's rate gives %u of each",
                               c->replicas_by_division);
    else
        g_string_append_printf(s, "; dividing by one replica's rate gives %u", c->replicas_by_division);
    return g_string_free(s, FALSE);
}

/* The facts of one candidate, as (term, text) pairs into `out` (g_free'd texts). */
static void candidate_facts(const Report *rp, const PlCandidateResult *c, GPtrArray *out)
{
    char b1[NUM_BUF], b2[NUM_BUF], b3[NUM_BUF], b4[NUM_BUF];
    g_ptr_array_add(out, g_strdup("Hardware"));
    g_ptr_array_add(out, g_strdup_printf("%s, tensor parallelism (TP) %u, %s per GPU-hour", str_or(c->hardware, "–"),
                                         c->tensor_parallel_size, fmt_money(b1, c->price_per_gpu_hour)));
    g_ptr_array_add(out, g_strdup("Model"));
    g_ptr_array_add(out, g_strdup(str_or(c->model, "–")));
    g_ptr_array_add(out, g_strdup("Step times"));
    g_ptr_array_add(out, step_times_text(c));
    g_ptr_array_add(out, g_strdup("Engine settings"));
    if (c->max_num_seqs || c->max_num_batched_tokens)
        g_ptr_array_add(out, g_strdup_printf("max_num_seqs %u, max_num_batched_tokens %u", c->max_num_seqs,
                                             c->max_num_batched_tokens));
    else
        g_ptr_array_add(out, g_strdup("not known (the engine was not built)"));
    if (!c->feasible) {
        g_ptr_array_add(out, g_strdup("Why infeasible"));
        g_ptr_array_add(out, infeasible_text(c));
        if (c->binding) {
            g_ptr_array_add(out, g_strdup("Failing constraint"));
            g_ptr_array_add(out, g_strdup(c->binding));
        }
        g_ptr_array_add(out, g_strdup("Simulations"));
        g_ptr_array_add(out, g_strdup_printf("%u", c->evaluations));
        return;
    }
    g_ptr_array_add(out, g_strdup("Sustainable rate"));
    if (c->max_rate_is_bound || !isfinite(c->max_rate_upper))
        g_ptr_array_add(out, g_strdup_printf("%s requests/s per replica%s; %u simulation%s",
                                             fmt_max_rate(b1, c, "at least "),
                                             c->max_rate_is_bound ? " (the search's upper limit)" : "", c->evaluations,
                                             c->evaluations == 1 ? "" : "s"));
    else
        g_ptr_array_add(out, g_strdup_printf("%s requests/s per replica (not sustained at %s requests/s); %u "
                                             "simulation%s",
                                             fmt_sig(b1, c->max_rate), fmt_sig(b2, c->max_rate_upper), c->evaluations,
                                             c->evaluations == 1 ? "" : "s"));
    g_ptr_array_add(out, g_strdup("Binding constraint"));
    g_ptr_array_add(out, g_strdup(str_or(c->binding, "not recorded")));
    g_ptr_array_add(out, g_strdup("Fleet search"));
    g_ptr_array_add(out, trials_text(rp, c));
    g_ptr_array_add(out, g_strdup("At the target load"));
    char *reps = replicas_text(c, "×");
    double per_replica = c->replicas ? rp->r->target_rate / c->replicas : NAN;
    g_ptr_array_add(out, g_strdup_printf("%s, %s per hour, %s per million output tokens; each replica carries %s "
                                         "requests/s and %s output tokens/s",
                                         reps, fmt_money(b1, c->cost_per_hour),
                                         fmt_money(b2, c->cost_per_million_output_tokens), fmt_sig(b3, per_replica),
                                         fmt_tokens(b4, c->output_tokens_per_s_at_target)));
    g_free(reps);
}

static char *rank_heading(const Report *rp, const PlCandidateResult *c)
{
    if (c->feasible && c->rank > 0)
        return g_strdup_printf("%u. %s", c->rank, cand_name(rp, c));
    return g_strdup(cand_name(rp, c));
}

static void html_candidate(GString *o, const Report *rp, guint idx)
{
    const PlCandidateResult *c = &rp->r->candidates[idx];
    gboolean best = c == rp->best;
    g_string_append_printf(o, "<article class=\"cand%s\" id=\"cand-%u\" aria-labelledby=\"cand-%u-h\">\n",
                           best ? " recommended" : "", idx, idx);
    g_string_append_printf(o, "<h3 id=\"cand-%u-h\">", idx);
    char *h = rank_heading(rp, c);
    esc(o, h);
    g_free(h);
    if (best)
        g_string_append(o, " <span class=\"badge\">★ recommended</span>");
    else if (!c->feasible)
        g_string_append(o, " <span class=\"badge bad\">✗ infeasible</span>");
    g_string_append(o, "</h3>\n");
    if (c->feasible && c->verdict) {
        elem(o, "p", NULL, c->verdict);
        g_string_append_c(o, '\n');
    }
    GPtrArray *facts = g_ptr_array_new_with_free_func(g_free);
    candidate_facts(rp, c, facts);
    g_string_append(o, "<dl class=\"facts\">\n");
    for (guint i = 0; i + 1 < facts->len; i += 2)
        fact(o, g_ptr_array_index(facts, i), g_ptr_array_index(facts, i + 1));
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
    Report rp;
    report_init(&rp, r);
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
                       "(check it against real runs with <code>servesim validate</code>).</footer>\n"
                       "</main>\n</body>\n</html>\n");
    report_clear(&rp);
    return g_string_free(o, FALSE);
}

/* ----------------------------------------------------------- Markdown -- */

/* Appends text safe inside a Markdown paragraph or table cell: a backslash
 * before what could start markup (emphasis, code, links, table cells, raw
 * HTML "<x" or "</", entities "&x", a heading or quote at the start of a
 * line), newlines and control characters as spaces. Plain "<=" stays. */
static void md(GString *o, const char *text)
{
    if (!text)
        return;
    char *valid = g_utf8_make_valid(text, -1);
    unsigned char prev = ' ';
    for (const char *p = valid; *p; prev = (unsigned char)*p++) {
        unsigned char ch = (unsigned char)*p, next = (unsigned char)p[1];
        gboolean line_start = o->len == 0 || o->str[o->len - 1] == '\n';
        gboolean escape = strchr("\\`*[]|~", ch) != NULL;
        if (ch == '_') /* intraword underscores ("max_num_seqs") are no emphasis */
            escape = !g_ascii_isalnum(prev) || !g_ascii_isalnum(next);
        if (ch == '<')
            escape = g_ascii_isalpha(next) || next == '/' || next == '!' || next == '?';
        if (ch == '&')
            escape = g_ascii_isalnum(next) || next == '#';
        if (ch == '#' || ch == '>' || ch == '+' || ch == '-')
            escape = line_start;
        if (escape)
            g_string_append_c(o, '\\');
        g_string_append_c(o, ch < 0x20 || ch == 0x7f ? ' ' : (char)ch);
    }
    g_free(valid);
}

G_GNUC_PRINTF(2, 3) static void mdf(GString *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    md(o, t);
    g_free(t);
}

static void md_row(GString *o, GPtrArray *cells)
{
    g_string_append(o, "|");
    for (guint i = 0; i < cells->len; i++) {
        g_string_append_c(o, ' ');
        md(o, g_ptr_array_index(cells, i));
        g_string_append(o, " |");
    }
    g_string_append_c(o, '\n');
}

static void md_rule(GString *o, guint ncols, guint text_cols_from)
{
    g_string_append(o, "|");
    for (guint i = 0; i < ncols; i++)
        g_string_append(o, i >= text_cols_from ? "---|" : "---:|");
    g_string_append_c(o, '\n');
}

static void md_bullet(GString *o, const char *term, const char *text)
{
    g_string_append(o, "- **");
    md(o, term);
    g_string_append(o, ":** ");
    md(o, text);
    g_string_append_c(o, '\n');
}

static void md_table(GString *o, const Report *rp)
{
    const PlPlanResult *r = rp->r;
    char b[NUM_BUF];
    g_string_append(o, "| Rank | Candidate | Hardware | TP | Model | Max sustainable rate per replica (req/s) | "
                       "Binding constraint | Replicas | By division | Imbalance | GPUs | $/GPU-hour | $/hour | "
                       "$/M output tokens | Verdict |\n"
                       "|---:|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (guint k = 0; k < r->num_candidates; k++) {
        const PlCandidateResult *c = &r->candidates[rp->order[k]];
        gboolean best = c == rp->best;
        if (c->feasible && c->rank > 0)
            g_string_append_printf(o, "| %u | ", c->rank);
        else
            g_string_append(o, "| – | ");
        if (best)
            g_string_append(o, "**");
        md(o, cand_name(rp, c));
        g_string_append(o, best ? "** (recommended) | " : c->feasible ? " | " : " (infeasible) | ");
        md(o, str_or(c->hardware, "–"));
        if (c->disaggregated)
            g_string_append_printf(o, " | %u + %u | ", c->prefill_tp, c->decode_tp);
        else
            g_string_append_printf(o, " | %u | ", c->tensor_parallel_size);
        md(o, str_or(c->model, "–"));
        g_string_append(o, " | ");
        if (c->feasible) {
            md(o, fmt_max_rate(b, c, "≥ "));
            g_string_append(o, " | ");
            md(o, str_or(c->binding, "–"));
            char *reps = pl_candidate_replicas_text(c);
            g_string_append_printf(o, " | %s | %u | %s | %u | ", reps, c->replicas_by_division,
                                   pl_candidate_fleet(c) ? fmt_fixed3(b, pl_candidate_fleet(c)->imbalance) : "–",
                                   c->gpus);
            g_free(reps);
            md(o, fmt_money(b, c->price_per_gpu_hour));
            g_string_append(o, " | ");
            md(o, fmt_money(b, c->cost_per_hour));
            g_string_append(o, " | ");
            md(o, fmt_money(b, c->cost_per_million_output_tokens));
            g_string_append(o, " | ");
            md(o, str_or(c->verdict, ""));
        } else {
            g_string_append(o, "– | ");
            md(o, str_or(c->binding, "–"));
            g_string_append(o, " | – | – | – | – | ");
            md(o, fmt_money(b, c->price_per_gpu_hour));
            g_string_append(o, " | – | – | **Infeasible:** ");
            char *why = infeasible_text(c);
            md(o, why);
            g_free(why);
        }
        g_string_append(o, " |\n");
    }
    if (r->num_candidates == 0)
        g_string_append(o, "\nNo candidates were given.\n");
}

static void md_candidate(GString *o, const Report *rp, guint idx)
{
    const PlCandidateResult *c = &rp->r->candidates[idx];
    g_string_append(o, "\n### ");
    char *h = rank_heading(rp, c);
    md(o, h);
    g_free(h);
    g_string_append(o, c == rp->best ? " (recommended)\n\n" : c->feasible ? "\n\n" : " (infeasible)\n\n");
    if (c->feasible && c->verdict) {
        md(o, c->verdict);
        g_string_append(o, "\n\n");
    }
    GPtrArray *cells = g_ptr_array_new_with_free_func(g_free);
    candidate_facts(rp, c, cells);
    for (guint i = 0; i + 1 < cells->len; i += 2)
        md_bullet(o, g_ptr_array_index(cells, i), g_ptr_array_index(cells, i + 1));
    if (c->num_curve == 0 || !c->curve) {
        g_string_append(o, "\nNo load levels were simulated for the curves of this candidate.\n");
    } else {
        g_string_append(o, "\nLoad levels simulated (one replica):\n\n");
        g_ptr_array_set_size(cells, 0);
        curve_header(rp, cells);
        guint ncols = cells->len;
        md_row(o, cells);
        md_rule(o, ncols, ncols - 1);
        for (guint i = 0; i < c->num_curve; i++) {
            g_ptr_array_set_size(cells, 0);
            curve_row(rp, &c->curve[i], cells);
            md_row(o, cells);
        }
    }
    g_ptr_array_free(cells, TRUE);
}

char *pl_report_markdown(const PlPlanResult *r)
{
    g_return_val_if_fail(r != NULL, NULL); /* a contract: pl_plan_run never returns NULL */
    Report rp;
    report_init(&rp, r);
    const PlCandidateResult *c = rp.best;
    char b1[NUM_BUF], b2[NUM_BUF];
    GString *o = g_string_sized_new(16 * 1024);
    g_string_append(o, "# ");
    mdf(o, "Capacity plan: %s", str_or(r->name, "unnamed plan"));
    g_string_append(o, "\n\n");
    if (r->description && *r->description) {
        md(o, r->description);
        g_string_append(o, "\n\n");
    }
    g_string_append(o, "## Recommendation\n\n");
    if (c) {
        char *reps = replicas_text(c, "×");
        g_string_append(o, "**Deploy ");
        md(o, cand_name(&rp, c));
        g_string_append(o, "**: ");
        mdf(o, "%s of %s, %s per hour, %s per million output tokens.", reps, str_or(c->hardware, "unknown hardware"),
            fmt_money(b1, c->cost_per_hour), fmt_money(b2, c->cost_per_million_output_tokens));
        g_free(reps);
        g_string_append(o, "\n\n");
        char *cap = capacity_text(&rp, c);
        md(o, cap);
        g_free(cap);
        g_string_append(o, "\n\n");
        if (c->verdict) {
            g_string_append(o, "**Why this one:** ");
            md(o, c->verdict);
            g_string_append(o, "\n\n");
        }
        const PlCandidateResult *next = runner_up(&rp);
        if (next) {
            g_string_append(o, "**Runner-up:** ");
            md(o, cand_name(&rp, next));
            g_string_append(o, ": ");
            md(o, str_or(next->verdict, ""));
            g_string_append(o, "\n\n");
        }
    } else {
        g_string_append(o, "**No recommendation.** ");
        mdf(o,
            "None of the %u candidates sustains the SLOs at any simulated load, so none can be recommended for the "
            "target load. Each candidate's reason is in the table below.",
            r->num_candidates);
        g_string_append(o, "\n\n");
    }
    char *t = target_text(&rp);
    md_bullet(o, "Target load", t);
    g_free(t);
    t = slos_text(&rp);
    md_bullet(o, "SLOs", t);
    g_free(t);
    md_bullet(o, "Workload", str_or(r->workload, "not recorded"));
    t = models_text(&rp);
    md_bullet(o, "Model", t);
    g_free(t);
    t = g_strdup_printf("%u evaluated, %u feasible", r->num_candidates, rp.num_feasible);
    md_bullet(o, "Candidates", t);
    g_free(t);
    t = step_times_summary(&rp);
    md_bullet(o, "Step times", t);
    g_free(t);
    t = method_text(&rp);
    md_bullet(o, "How it was computed", t);
    g_free(t);

    g_string_append(o, "\n## How to read this report\n\n");
    for (guint i = 0; i < G_N_ELEMENTS(terms); i++)
        md_bullet(o, terms[i].term, terms[i].text);

    g_string_append(o, "\n## Candidates, ranked by cost at the target load\n\n");
    md_table(o, &rp);

    g_string_append(o, "\n## Candidates in detail\n\nEach table lists the load levels simulated for one replica: "
                       "offered and achieved request rate, output tokens/s, TTFT and TPOT percentiles, the "
                       "statistics of the other SLOs, queue growth, and whether the level is sustained.\n");
    for (guint k = 0; k < r->num_candidates; k++)
        md_candidate(o, &rp, rp.order[k]);
    pl_report_scale_markdown(o, r);
    g_string_append(o, "\n---\n\nGenerated by servesim's capacity planner. Every figure is simulated, not measured "
                       "(check the latency model against real runs with `servesim validate`).\n");
    report_clear(&rp);
    return g_string_free(o, FALSE);
}

/* --------------------------------------------------------------- JSON -- */

static void json_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void json_str(cJSON *o, const char *key, const char *s)
{
    if (!s) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    char *valid = g_utf8_make_valid(s, -1);
    cJSON_AddStringToObject(o, key, valid);
    g_free(valid);
}

static const char *json_metric(PlSloMetric m)
{
    static const char *const names[] = {"ttft", "tpot", "itl", "e2e", "queue"};
    return (guint)m < G_N_ELEMENTS(names) ? names[m] : "unknown";
}

static cJSON *json_point(const Report *rp, const PlLoadPoint *p)
{
    cJSON *o = cJSON_CreateObject();
    json_num(o, "rate", p->rate);
    json_num(o, "achieved_rate", p->achieved_rate);
    json_num(o, "output_tokens_per_s", p->output_tokens_per_s);
    json_num(o, "ttft_p50_ms", p->ttft_p50_ms);
    json_num(o, "ttft_p99_ms", p->ttft_p99_ms);
    json_num(o, "tpot_p50_ms", p->tpot_p50_ms);
    json_num(o, "tpot_p99_ms", p->tpot_p99_ms);
    cJSON *vals = cJSON_AddArrayToObject(o, "slo_values");
    for (guint k = 0; k < rp->num_slos; k++)
        cJSON_AddItemToArray(vals,
                             isfinite(p->slo_values[k]) ? cJSON_CreateNumber(p->slo_values[k]) : cJSON_CreateNull());
    json_num(o, "queue_growth_ms", p->queue_growth_ms);
    json_num(o, "queue_growth_rate", p->queue_growth_rate);
    cJSON_AddBoolToObject(o, "meets_slos", p->meets_slos);
    cJSON_AddBoolToObject(o, "stable", p->stable);
    cJSON_AddBoolToObject(o, "sustained", sustained(p));
    return o;
}

static cJSON *json_candidate(const Report *rp, guint idx)
{
    const PlCandidateResult *c = &rp->r->candidates[idx];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", idx);
    json_str(o, "name", c->name);
    json_str(o, "hardware", c->hardware);
    json_str(o, "latency_basis", c->latency_basis);
    json_str(o, "model", c->model);
    cJSON_AddNumberToObject(o, "tensor_parallel_size", c->tensor_parallel_size);
    cJSON_AddNumberToObject(o, "max_num_seqs", c->max_num_seqs);
    cJSON_AddNumberToObject(o, "max_num_batched_tokens", c->max_num_batched_tokens);
    json_num(o, "price_per_gpu_hour", c->price_per_gpu_hour);
    cJSON_AddBoolToObject(o, "feasible", c->feasible);
    json_str(o, "error", c->error);
    cJSON_AddNumberToObject(o, "rank", c->rank);
    cJSON_AddBoolToObject(o, "recommended", c == rp->best);
    json_num(o, "max_rate", c->max_rate);
    json_num(o, "max_rate_upper", c->max_rate_upper);
    cJSON_AddBoolToObject(o, "max_rate_is_bound", c->max_rate_is_bound);
    json_str(o, "binding", c->binding);
    cJSON_AddNumberToObject(o, "evaluations", c->evaluations);
    cJSON_AddNumberToObject(o, "replicas", c->replicas);
    cJSON_AddNumberToObject(o, "replicas_by_division", c->replicas_by_division);
    if (c->disaggregated) {
        cJSON *d = cJSON_AddObjectToObject(o, "disaggregated");
        json_str(d, "prefill_hardware", c->prefill_hardware);
        cJSON_AddNumberToObject(d, "prefill_tensor_parallel_size", c->prefill_tp);
        json_num(d, "prefill_price_per_gpu_hour", c->prefill_price);
        cJSON_AddNumberToObject(d, "prefill_replicas", c->prefill_replicas);
        json_str(d, "decode_hardware", c->decode_hardware);
        cJSON_AddNumberToObject(d, "decode_tensor_parallel_size", c->decode_tp);
        json_num(d, "decode_price_per_gpu_hour", c->decode_price);
        cJSON_AddNumberToObject(d, "decode_replicas", c->decode_replicas);
    }
    json_str(o, "router", c->router);
    cJSON_AddNumberToObject(o, "fleet_evaluations", c->fleet_evaluations);
    cJSON *trials = cJSON_AddArrayToObject(o, "fleets");
    for (guint i = 0; i < c->num_trials; i++) {
        const PlFleetTrial *t = &c->trials[i];
        cJSON *to = cJSON_CreateObject();
        cJSON_AddNumberToObject(to, "replicas", t->replicas);
        if (c->disaggregated) {
            cJSON_AddNumberToObject(to, "prefill_replicas", t->prefill_replicas);
            cJSON_AddNumberToObject(to, "decode_replicas", t->decode_replicas);
            json_num(to, "cost_per_hour", t->cost_per_hour);
        }
        cJSON_AddNumberToObject(to, "num_requests", t->num_requests);
        cJSON_AddBoolToObject(to, "sustained", t->meets_slos && t->stable);
        cJSON_AddBoolToObject(to, "meets_slos", t->meets_slos);
        cJSON_AddBoolToObject(to, "stable", t->stable);
        json_num(to, "achieved_rate", t->achieved_rate);
        json_num(to, "ttft_p99_ms", t->ttft_p99_ms);
        json_num(to, "tpot_p99_ms", t->tpot_p99_ms);
        json_num(to, "queue_growth_ms", t->queue_growth_ms);
        json_num(to, "imbalance", t->imbalance);
        json_num(to, "jain_index", t->jain_index);
        json_num(to, "prefix_hit_rate", t->prefix_hit_rate);
        cJSON *sv = cJSON_AddArrayToObject(to, "slo_values");
        for (guint k = 0; k < rp->r->num_slos; k++)
            cJSON_AddItemToArray(sv, cJSON_CreateNumber(t->slo_values[k]));
        cJSON_AddItemToArray(trials, to);
    }
    cJSON_AddNumberToObject(o, "gpus", c->gpus);
    json_num(o, "cost_per_hour", c->cost_per_hour);
    json_num(o, "cost_per_million_output_tokens", c->cost_per_million_output_tokens);
    json_num(o, "output_tokens_per_s_at_target", c->output_tokens_per_s_at_target);
    json_str(o, "verdict", c->verdict);
    cJSON *curve = cJSON_AddArrayToObject(o, "curve");
    for (guint i = 0; c->curve && i < c->num_curve; i++)
        cJSON_AddItemToArray(curve, json_point(rp, &c->curve[i]));
    return o;
}

char *pl_report_json(const PlPlanResult *r)
{
    g_return_val_if_fail(r != NULL, NULL); /* a contract: pl_plan_run never returns NULL */
    Report rp;
    report_init(&rp, r);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "servesim.plan/2");
    json_str(root, "name", r->name);
    json_str(root, "description", r->description);
    json_str(root, "workload", r->workload);
    json_num(root, "mean_output_tokens", r->mean_output_tokens);
    json_num(root, "target_rate", r->target_rate);
    json_num(root, "tolerance", r->tolerance);
    json_num(root, "max_queue_growth_ms", r->max_queue_growth_ms);
    json_num(root, "max_queue_growth_rate", r->max_queue_growth_rate);
    cJSON_AddNumberToObject(root, "num_requests", r->num_requests);
    cJSON_AddNumberToObject(root, "max_replicas", r->max_replicas);
    json_str(root, "router", r->router);
    /* exact, even above 2^53 */
    char seed[32];
    g_snprintf(seed, sizeof seed, "%" G_GUINT64_FORMAT, r->seed);
    cJSON_AddRawToObject(root, "seed", seed);
    cJSON *slos = cJSON_AddArrayToObject(root, "slos");
    for (guint k = 0; k < r->num_slos; k++) {
        const PlSlo *s = &r->slos[k];
        cJSON *so = cJSON_CreateObject();
        cJSON_AddStringToObject(so, "metric", json_metric(s->metric));
        cJSON_AddStringToObject(so, "stat", stat_label(s->stat));
        json_num(so, "max_ms", s->max_ms);
        char *label = slo_text(s);
        json_str(so, "label", label);
        g_free(label);
        cJSON_AddItemToArray(slos, so);
    }
    if (rp.best) {
        cJSON_AddNumberToObject(root, "recommended", r->recommended);
        json_str(root, "recommended_name", rp.best->name);
    } else {
        cJSON_AddNullToObject(root, "recommended");
        cJSON_AddNullToObject(root, "recommended_name");
    }
    cJSON *ranking = cJSON_AddArrayToObject(root, "ranking");
    for (guint k = 0; k < r->num_candidates; k++)
        cJSON_AddItemToArray(ranking, cJSON_CreateNumber(rp.order[k]));
    cJSON *cands = cJSON_AddArrayToObject(root, "candidates");
    for (guint i = 0; i < r->num_candidates; i++)
        cJSON_AddItemToArray(cands, json_candidate(&rp, i));
    pl_report_scale_json(root, r);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    report_clear(&rp);
    char *out = g_strdup_printf("%s\n", text);
    cJSON_free(text);
    return out;
}

/* -------------------------------------------------------------- files -- */

gboolean pl_report_write(const PlPlanResult *r, const char *dir, GError **error)
{
    g_return_val_if_fail(r != NULL && dir != NULL, FALSE); /* a contract on the caller, not input */
    static const struct {
        const char *name;
        char *(*render)(const PlPlanResult *r);
    } docs[] = {{"report.html", pl_report_html}, {"report.md", pl_report_markdown}, {"plan.json", pl_report_json}};
    gboolean ok = FALSE;
    char *path = NULL, *text = NULL;
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s: cannot create the report directory: %s",
                    dir, g_strerror(e));
        goto out;
    }
    for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
        path = g_build_filename(dir, docs[i].name, NULL);
        text = docs[i].render(r);
        if (!scn_write_file(path, text, error))
            goto out;
        g_clear_pointer(&path, g_free);
        g_clear_pointer(&text, g_free);
    }
    ok = TRUE;
out:
    g_free(path);
    g_free(text);
    return ok;
}
