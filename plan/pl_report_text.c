/*
 * pl_report_text.c: what the plan's documents say in common (see
 * pl_report_internal.h): the report's view of a result (candidate order,
 * display names, the recommendation), labels, number formats, and the
 * sentences and facts that report.html (pl_report_html.c) and report.md
 * (pl_report_md.c) both carry, as plain text for each to escape its own way.
 *
 * Numbers go through rp_svg_format and g_ascii_formatd (no locale); nothing
 * depends on the clock, the host or a hash table's order, so the same
 * result gives the same text. Non-finite numbers print as "–".
 */
#include <math.h>
#include <string.h>

#include "pl_report_internal.h"
#include "rp_svg.h"

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

void pl_report_init(PlReport *rp, const PlPlanResult *r)
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

void pl_report_clear(PlReport *rp)
{
    g_strfreev(rp->names);
    g_free(rp->order);
}

static guint cand_index(const PlReport *rp, const PlCandidateResult *c)
{
    return (guint)(c - rp->r->candidates);
}

const char *pl_report_name(const PlReport *rp, const PlCandidateResult *c)
{
    return rp->names[cand_index(rp, c)];
}

/* The feasible candidate ranked right after the recommendation, or NULL. */
const PlCandidateResult *pl_report_runner_up(const PlReport *rp)
{
    for (guint k = 0; k < rp->r->num_candidates; k++) {
        const PlCandidateResult *c = &rp->r->candidates[rp->order[k]];
        if (c != rp->best && c->feasible && c->rank > 0)
            return c;
    }
    return NULL;
}

const char *pl_str_or(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

/* "p99 TTFT" (g_free) */
char *pl_slo_short(const PlSlo *s)
{
    return g_strdup_printf("%s %s", pl_stat_name(s->stat), pl_slo_metric_label(s->metric));
}

/* The SLO's own label, or "p99 TTFT <= 2000 ms" (g_free). */
char *pl_slo_text(const PlSlo *s)
{
    if (s->label && *s->label)
        return g_strdup(s->label);
    char b[G_ASCII_DTOSTR_BUF_SIZE]; /* worded like the planner's labels: "%g", no grouping */
    return g_strdup_printf("%s %s <= %s ms", pl_stat_name(s->stat), pl_slo_metric_label(s->metric),
                           g_ascii_formatd(b, sizeof b, "%g", s->max_ms));
}

/* Is this SLO's statistic one of the plotted and tabulated p50/p99 TTFT/TPOT? */
gboolean pl_slo_is_plotted(const PlSlo *s)
{
    return (s->metric == PL_SLO_TTFT || s->metric == PL_SLO_TPOT) && (s->stat == PL_STAT_P50 || s->stat == PL_STAT_P99);
}

/* "yes", or "no: p99 TTFT, queue grows" (g_free). */
char *pl_point_status(const PlReport *rp, const PlLoadPoint *p)
{
    if (pl_load_point_sustained(p))
        return g_strdup("yes");
    GString *s = g_string_new("no: ");
    gboolean any = FALSE;
    if (!p->meets_slos) {
        for (guint k = 0; k < rp->num_slos; k++) {
            const PlSlo *slo = &rp->r->slos[k];
            if (p->slo_values[k] <= slo->max_ms)
                continue;
            char *n = pl_slo_short(slo);
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

char *pl_fmt_sig(char *b, double v)
{
    return rp_svg_format_sig(b, PL_NUM_BUF, v);
}

char *pl_fmt_fixed3(char *b, double v)
{
    return g_ascii_formatd(b, PL_NUM_BUF, "%.3f", v);
}

/* "$1,234.56"; below $1, three significant digits ("$0.0412"). */
char *pl_fmt_money(char *b, double v)
{
    char t[PL_NUM_BUF];
    if (!isfinite(v))
        return rp_svg_format(b, PL_NUM_BUF, v, 0, FALSE);
    if (fabs(v) < 1 && v != 0)
        rp_svg_format_sig(t, sizeof t, v);
    else
        rp_svg_format(t, sizeof t, v, 2, TRUE);
    g_snprintf(b, PL_NUM_BUF, "$%s", t);
    return b;
}

/* Tokens per second: whole numbers from 100 up. */
char *pl_fmt_tokens(char *b, double v)
{
    if (isfinite(v) && fabs(v) >= 100)
        return rp_svg_format(b, PL_NUM_BUF, v, 0, TRUE);
    return pl_fmt_sig(b, v);
}

/* The sustainable rate with ">= " when it is a lower bound. */
char *pl_fmt_max_rate(char *b, const PlCandidateResult *c, const char *ge)
{
    char t[PL_NUM_BUF];
    g_snprintf(b, PL_NUM_BUF, "%s%s", c->max_rate_is_bound ? ge : "", pl_fmt_sig(t, c->max_rate));
    return b;
}

/* Distinct models of the candidates, in plan order (g_free). */
char *pl_text_models(const PlReport *rp)
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

static guint total_evaluations(const PlReport *rp)
{
    guint n = 0;
    for (guint i = 0; i < rp->r->num_candidates; i++)
        n += rp->r->candidates[i].evaluations + rp->r->candidates[i].fleet_evaluations;
    return n;
}

/* The sentences shared by both documents, as plain text (g_free each). */

char *pl_text_target(const PlReport *rp)
{
    const PlPlanResult *r = rp->r;
    char b1[PL_NUM_BUF], b2[PL_NUM_BUF], b3[PL_NUM_BUF];
    if (r->mean_output_tokens > 0 && isfinite(r->target_rate))
        return g_strdup_printf("%s requests/s in total (about %s output tokens/s: %s output tokens per request on "
                               "average)",
                               pl_fmt_sig(b1, r->target_rate), pl_fmt_tokens(b2, r->target_rate * r->mean_output_tokens),
                               pl_fmt_sig(b3, r->mean_output_tokens));
    return g_strdup_printf("%s requests/s in total", pl_fmt_sig(b1, r->target_rate));
}

char *pl_text_slos(const PlReport *rp)
{
    GString *s = g_string_new(NULL);
    for (guint k = 0; k < rp->r->num_slos; k++) {
        char *t = pl_slo_text(&rp->r->slos[k]);
        g_string_append_printf(s, "%s%s", k ? "; " : "", t);
        g_free(t);
    }
    char b[PL_NUM_BUF], b2[PL_NUM_BUF];
    g_string_append_printf(s,
                           "%sand the queue must not grow (queueing delay growing by at most %s ms over a run and "
                           "at most %s%% of the elapsed time)",
                           s->len ? "; " : "", pl_fmt_sig(b, rp->r->max_queue_growth_ms),
                           pl_fmt_sig(b2, 100 * rp->r->max_queue_growth_rate));
    return g_string_free(s, FALSE);
}

char *pl_text_method(const PlReport *rp)
{
    const PlPlanResult *r = rp->r;
    char b1[PL_NUM_BUF], b2[PL_NUM_BUF], b3[PL_NUM_BUF];
    return g_strdup_printf(
        "servesim simulated one replica of each candidate (a discrete-event model of a vLLM V1 server: scheduler, "
        "KV cache and step latency) at a series of offered request rates, %u requests per simulation, "
        "seed %" G_GUINT64_FORMAT ". The sustainable rate was found by bisection on the offered rate until the "
        "bracket (highest rate sustained, lowest rate not sustained) was within %s%% of its upper end; a rate "
        "counts as sustained when every SLO holds and the queueing delay grows by at most %s ms and %s%% of the "
        "elapsed time. Then whole fleets of that replica behind the %s router were simulated at the target load "
        "(%u requests per replica), from the count that dividing the target by one replica's rate gives, down or "
        "up to the smallest count that sustains it by the same rule. %u simulations in total.",
        r->num_requests, r->seed, pl_fmt_sig(b1, r->tolerance * 100), pl_fmt_sig(b2, r->max_queue_growth_ms),
        pl_fmt_sig(b3, 100 * r->max_queue_growth_rate), pl_str_or(r->router, "chosen"), r->num_requests,
        total_evaluations(rp));
}

/* Where a candidate's step times come from, for a person. */
char *pl_text_step_times(const PlCandidateResult *c)
{
    const char *basis = c->latency_basis;
    if (!basis || !*basis)
        return g_strdup("not recorded (the engine was not built)");
    if (c->latency_measured)
        return g_strdup_printf("from kernel tables measured on %s", pl_str_or(c->hardware, "its GPU"));
    return g_strdup_printf("%s: an estimate (no kernel tables measured on %s); measure, or fit its constants to "
                           "your own runs with servesim calibrate, before relying on it",
                           basis, pl_str_or(c->hardware, "its GPU"));
}

/* The summary's account of the step times over the candidates. */
char *pl_text_step_times_summary(const PlReport *rp)
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
            g_string_append_printf(est, "%s%s (%s)", est->len ? ", " : "", pl_report_name(rp, c), c->latency_basis);
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

char *pl_text_replicas(const PlCandidateResult *c, const char *times)
{
    if (c->disaggregated)
        return g_strdup_printf("%u prefill %s TP %u (%s) + %u decode %s TP %u (%s) = %u GPU%s", c->prefill_replicas,
                               times, c->prefill_tp, pl_str_or(c->prefill_hardware, "?"), c->decode_replicas, times,
                               c->decode_tp, pl_str_or(c->decode_hardware, "?"), c->gpus, c->gpus == 1 ? "" : "s");
    return g_strdup_printf("%u replica%s %s TP %u = %u GPU%s", c->replicas, c->replicas == 1 ? "" : "s", times,
                           c->tensor_parallel_size, c->gpus, c->gpus == 1 ? "" : "s");
}

/* What one replica sustains and carries at the target load (g_free). */
char *pl_text_capacity(const PlReport *rp, const PlCandidateResult *c)
{
    char b1[PL_NUM_BUF], b2[PL_NUM_BUF], b3[PL_NUM_BUF], b4[PL_NUM_BUF];
    double per_replica = c->replicas ? rp->r->target_rate / c->replicas : NAN;
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "One replica sustains %s requests/s within the SLOs", pl_fmt_max_rate(b1, c, "at least "));
    if (c->max_rate_is_bound)
        g_string_append(s, " (the search reached its upper rate limit)");
    g_string_append_printf(s, "; binding constraint: %s.", pl_str_or(c->binding, "not recorded"));
    if (isfinite(per_replica) && c->max_rate > 0)
        g_string_append_printf(s, " At the target load each of the %u replicas carries %s requests/s (%s%% of what it "
                                  "sustains) and produces about %s output tokens/s.",
                               c->replicas, pl_fmt_sig(b2, per_replica), pl_fmt_sig(b3, 100 * per_replica / c->max_rate),
                               pl_fmt_tokens(b4, c->output_tokens_per_s_at_target));
    return g_string_free(s, FALSE);
}

const PlReportTerm pl_report_terms[PL_REPORT_NUM_TERMS] = {
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

/* The text of the verdict cell of an infeasible candidate (g_free). */
char *pl_text_infeasible(const PlCandidateResult *c)
{
    const char *why = c->error ? c->error : c->verdict ? c->verdict : "sustains no load";
    if (c->error && c->verdict && !strstr(c->verdict, c->error))
        return g_strdup_printf("%s (%s)", c->error, c->verdict);
    return g_strdup(why);
}

/* The curve table: header cells and one row of cells per load point (g_free'd strings). */
void pl_curve_header(const PlReport *rp, GPtrArray *cells)
{
    static const char *const fixed[] = {"Offered (req/s)",  "Achieved (req/s)", "Output tok/s",
                                        "TTFT p50 (ms)",    "TTFT p99 (ms)",    "TPOT p50 (ms)",
                                        "TPOT p99 (ms)"};
    for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(cells, g_strdup(fixed[i]));
    for (guint k = 0; k < rp->num_slos; k++) {
        const PlSlo *slo = &rp->r->slos[k];
        if (!pl_slo_is_plotted(slo))
            g_ptr_array_add(cells, g_strdup_printf("%s %s (ms)", pl_slo_metric_label(slo->metric), pl_stat_name(slo->stat)));
    }
    g_ptr_array_add(cells, g_strdup("Queue growth (ms)"));
    g_ptr_array_add(cells, g_strdup("SLOs met, stable"));
}

void pl_curve_row(const PlReport *rp, const PlLoadPoint *p, GPtrArray *cells)
{
    char b[PL_NUM_BUF];
    g_ptr_array_add(cells, g_strdup(pl_fmt_sig(b, p->rate)));
    g_ptr_array_add(cells, g_strdup(pl_fmt_sig(b, p->achieved_rate)));
    g_ptr_array_add(cells, g_strdup(pl_fmt_tokens(b, p->output_tokens_per_s)));
    g_ptr_array_add(cells, g_strdup(pl_fmt_sig(b, p->ttft_p50_ms)));
    g_ptr_array_add(cells, g_strdup(pl_fmt_sig(b, p->ttft_p99_ms)));
    g_ptr_array_add(cells, g_strdup(pl_fmt_sig(b, p->tpot_p50_ms)));
    g_ptr_array_add(cells, g_strdup(pl_fmt_sig(b, p->tpot_p99_ms)));
    for (guint k = 0; k < rp->num_slos; k++)
        if (!pl_slo_is_plotted(&rp->r->slos[k]))
            g_ptr_array_add(cells, g_strdup(pl_fmt_sig(b, p->slo_values[k])));
    g_ptr_array_add(cells, g_strdup(pl_fmt_sig(b, p->queue_growth_ms)));
    g_ptr_array_add(cells, pl_point_status(rp, p));
}

/* "behind round-robin: 3 replicas miss p99 TPOT (52.1 ms), 4 meet (p99 TTFT 812 ms, p99 TPOT 41.0 ms,
 * imbalance 1.01); dividing by one replica's rate: 4" (g_free). */
static char *trials_text(const PlReport *rp, const PlCandidateResult *c)
{
    char b1[PL_NUM_BUF], b2[PL_NUM_BUF], b3[PL_NUM_BUF], b4[PL_NUM_BUF];
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "behind %s, at %s requests/s:", pl_str_or(c->router, "the router"),
                           pl_fmt_sig(b1, rp->r->target_rate));
    for (guint i = 0; i < c->num_trials; i++) {
        const PlFleetTrial *t = &c->trials[i];
        gboolean ok = t->meets_slos && t->stable;
        gboolean one = t->replicas == 1;
        if (c->disaggregated)
            g_string_append_printf(s, "%s %u prefill + %u decode replicas ($%s/hour) %s (p99 TTFT %s ms, p99 TPOT "
                                      "%s ms, imbalance %s)",
                                   i ? ";" : "", t->prefill_replicas, t->decode_replicas,
                                   pl_fmt_sig(b3, t->cost_per_hour),
                                   ok ? "sustain it" : !t->meets_slos ? "miss an SLO" : "let the queue grow",
                                   pl_fmt_sig(b1, t->ttft_p99_ms), pl_fmt_sig(b2, t->tpot_p99_ms),
                                   pl_fmt_fixed3(b4, t->imbalance));
        else
        g_string_append_printf(s, "%s %u replica%s %s (p99 TTFT %s ms, p99 TPOT %s ms, imbalance %s)",
                               i ? ";" : "", t->replicas, one ? "" : "s",
                               ok ? (one ? "sustains it" : "sustain it")
                                  : !t->meets_slos ? (one ? "misses an SLO" : "miss an SLO")
                                                   : (one ? "lets the queue grow" : "let the queue grow"),
                               pl_fmt_sig(b1, t->ttft_p99_ms), pl_fmt_sig(b2, t->tpot_p99_ms), pl_fmt_fixed3(b3, t->imbalance));
    }
    if (c->disaggregated)
        g_string_append_printf(s, "; dividing by one prefill and decode pair's rate gives %u of each",
                               c->replicas_by_division);
    else
        g_string_append_printf(s, "; dividing by one replica's rate gives %u", c->replicas_by_division);
    return g_string_free(s, FALSE);
}

/* The facts of one candidate, as (term, text) pairs into `out` (g_free'd texts). */
void pl_candidate_facts(const PlReport *rp, const PlCandidateResult *c, GPtrArray *out)
{
    char b1[PL_NUM_BUF], b2[PL_NUM_BUF], b3[PL_NUM_BUF], b4[PL_NUM_BUF];
    g_ptr_array_add(out, g_strdup("Hardware"));
    g_ptr_array_add(out, g_strdup_printf("%s, tensor parallelism (TP) %u, %s per GPU-hour", pl_str_or(c->hardware, "–"),
                                         c->tensor_parallel_size, pl_fmt_money(b1, c->price_per_gpu_hour)));
    g_ptr_array_add(out, g_strdup("Model"));
    g_ptr_array_add(out, g_strdup(pl_str_or(c->model, "–")));
    g_ptr_array_add(out, g_strdup("Step times"));
    g_ptr_array_add(out, pl_text_step_times(c));
    g_ptr_array_add(out, g_strdup("Engine settings"));
    if (c->max_num_seqs || c->max_num_batched_tokens)
        g_ptr_array_add(out, g_strdup_printf("max_num_seqs %u, max_num_batched_tokens %u", c->max_num_seqs,
                                             c->max_num_batched_tokens));
    else
        g_ptr_array_add(out, g_strdup("not known (the engine was not built)"));
    if (!c->feasible) {
        g_ptr_array_add(out, g_strdup("Why infeasible"));
        g_ptr_array_add(out, pl_text_infeasible(c));
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
                                             pl_fmt_max_rate(b1, c, "at least "),
                                             c->max_rate_is_bound ? " (the search's upper limit)" : "", c->evaluations,
                                             c->evaluations == 1 ? "" : "s"));
    else
        g_ptr_array_add(out, g_strdup_printf("%s requests/s per replica (not sustained at %s requests/s); %u "
                                             "simulation%s",
                                             pl_fmt_sig(b1, c->max_rate), pl_fmt_sig(b2, c->max_rate_upper), c->evaluations,
                                             c->evaluations == 1 ? "" : "s"));
    g_ptr_array_add(out, g_strdup("Binding constraint"));
    g_ptr_array_add(out, g_strdup(pl_str_or(c->binding, "not recorded")));
    g_ptr_array_add(out, g_strdup("Fleet search"));
    g_ptr_array_add(out, trials_text(rp, c));
    g_ptr_array_add(out, g_strdup("At the target load"));
    char *reps = pl_text_replicas(c, "×");
    double per_replica = c->replicas ? rp->r->target_rate / c->replicas : NAN;
    g_ptr_array_add(out, g_strdup_printf("%s, %s per hour, %s per million output tokens; each replica carries %s "
                                         "requests/s and %s output tokens/s",
                                         reps, pl_fmt_money(b1, c->cost_per_hour),
                                         pl_fmt_money(b2, c->cost_per_million_output_tokens), pl_fmt_sig(b3, per_replica),
                                         pl_fmt_tokens(b4, c->output_tokens_per_s_at_target)));
    g_free(reps);
}

char *pl_text_rank_heading(const PlReport *rp, const PlCandidateResult *c)
{
    if (c->feasible && c->rank > 0)
        return g_strdup_printf("%u. %s", c->rank, pl_report_name(rp, c));
    return g_strdup(pl_report_name(rp, c));
}

/* The facts under the recommendation, as (term, text) pairs into `out`
 * (g_free'd texts). */
void pl_summary_facts(const PlReport *rp, GPtrArray *out)
{
    const PlPlanResult *r = rp->r;
    g_ptr_array_add(out, g_strdup("Target load"));
    g_ptr_array_add(out, pl_text_target(rp));
    g_ptr_array_add(out, g_strdup("SLOs"));
    g_ptr_array_add(out, pl_text_slos(rp));
    g_ptr_array_add(out, g_strdup("Workload"));
    g_ptr_array_add(out, g_strdup(pl_str_or(r->workload, "not recorded")));
    g_ptr_array_add(out, g_strdup("Model"));
    g_ptr_array_add(out, pl_text_models(rp));
    g_ptr_array_add(out, g_strdup("Candidates"));
    g_ptr_array_add(out, g_strdup_printf("%u evaluated, %u feasible", r->num_candidates, rp->num_feasible));
    g_ptr_array_add(out, g_strdup("Step times"));
    g_ptr_array_add(out, pl_text_step_times_summary(rp));
    g_ptr_array_add(out, g_strdup("How it was computed"));
    g_ptr_array_add(out, pl_text_method(rp));
}

char *pl_text_no_recommendation(const PlReport *rp)
{
    return g_strdup_printf("None of the %u candidates sustains the SLOs at any simulated load, so none can be "
                           "recommended for the target load. Each candidate's reason is in the table below.",
                           rp->r->num_candidates);
}
