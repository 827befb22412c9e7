/*
 * pl_report_internal.h: what the plan's documents share, internal to plan/.
 * The documents are report.html (pl_report_html.c), report.md
 * (pl_report_md.c) and plan.json (pl_report_json.c), each with its part on
 * the autoscale comparison (pl_report_scale.c); pl_report.c writes them.
 * The text they have in common (ordering, labels, number formats, the
 * summary's sentences and each candidate's facts) is in pl_report_text.c,
 * as plain text: each document escapes it its own way.
 *
 * Every document is a function of the PlPlanResult alone: no clock, no host,
 * no locale, no hash-table order, so the same result gives the same bytes.
 */
#ifndef PL_REPORT_INTERNAL_H
#define PL_REPORT_INTERNAL_H

#include <cjson/cJSON.h>

#include "pl_plan_internal.h"

/* The size of the buffers the pl_fmt_* functions write into. */
#define PL_NUM_BUF 64

/* The report's view of a result: candidate order and display names. */
typedef struct {
    const PlPlanResult *r;
    guint *order;                  /* candidate indices: ranked, then unranked, then infeasible */
    char **names;                  /* display name of each candidate (plan order) */
    const PlCandidateResult *best; /* the recommendation, NULL when none */
    guint num_feasible;
    guint num_slos;                /* r->num_slos, at most the 8 values a load point holds */
} PlReport;

void pl_report_init(PlReport *rp, const PlPlanResult *r);
void pl_report_clear(PlReport *rp);
/* The display name of a candidate of rp->r (its name, or "candidate N"). */
const char *pl_report_name(const PlReport *rp, const PlCandidateResult *c);
/* The feasible candidate ranked right after the recommendation, or NULL. */
const PlCandidateResult *pl_report_runner_up(const PlReport *rp);

/* ------------------------------------------------------------- labels -- */

/* `s` when neither NULL nor empty, else `fallback`. */
const char *pl_str_or(const char *s, const char *fallback);
/* "p99 TTFT" (g_free). */
char *pl_slo_short(const PlSlo *s);
/* The SLO's own label, or "p99 TTFT <= 2000 ms" (g_free). */
char *pl_slo_text(const PlSlo *s);
/* Whether the SLO's statistic is one of the plotted p50/p99 TTFT/TPOT. */
gboolean pl_slo_is_plotted(const PlSlo *s);
/* "yes", or "no: p99 TTFT, queue grows" (g_free). */
char *pl_point_status(const PlReport *rp, const PlLoadPoint *p);

/* ------------------------------------------------------------ numbers -- */

/* Each writes into `b` (PL_NUM_BUF bytes) and returns it; non-finite
 * values give "–". */
char *pl_fmt_sig(char *b, double v);                 /* about three significant digits */
char *pl_fmt_fixed3(char *b, double v);              /* three decimals */
char *pl_fmt_money(char *b, double v);               /* "$1,234.56", below $1 "$0.0412" */
char *pl_fmt_tokens(char *b, double v);              /* whole numbers from 100 up */
/* The sustainable rate, after `ge` when it is a lower bound. */
char *pl_fmt_max_rate(char *b, const PlCandidateResult *c, const char *ge);

/* ---------------------------------------------------------- sentences -- */

/* Plain text for both documents (g_free each). */
char *pl_text_models(const PlReport *rp);           /* distinct models, plan order */
char *pl_text_target(const PlReport *rp);           /* the target load */
char *pl_text_slos(const PlReport *rp);             /* the SLOs and the queue rule */
char *pl_text_method(const PlReport *rp);           /* how it was computed */
char *pl_text_step_times(const PlCandidateResult *c);   /* where its step times come from */
char *pl_text_step_times_summary(const PlReport *rp);   /* the same over the candidates */
/* "3 replicas × TP 4 = 12 GPUs" with `times` as the sign. */
char *pl_text_replicas(const PlCandidateResult *c, const char *times);
/* What one replica sustains and carries at the target load. */
char *pl_text_capacity(const PlReport *rp, const PlCandidateResult *c);
/* The verdict of an infeasible candidate. */
char *pl_text_infeasible(const PlCandidateResult *c);
/* "2. name" for a ranked candidate, else its name. */
char *pl_text_rank_heading(const PlReport *rp, const PlCandidateResult *c);
/* Why there is no recommendation. */
char *pl_text_no_recommendation(const PlReport *rp);

/* The facts under the recommendation and those of one candidate, as
 * (term, text) pairs appended to `out` (a GPtrArray freeing with g_free). */
void pl_summary_facts(const PlReport *rp, GPtrArray *out);
void pl_candidate_facts(const PlReport *rp, const PlCandidateResult *c, GPtrArray *out);

/* The table of a candidate's load levels: the header cells, then the cells
 * of one row (appended to `cells`, g_free'd strings). */
void pl_curve_header(const PlReport *rp, GPtrArray *cells);
void pl_curve_row(const PlReport *rp, const PlLoadPoint *p, GPtrArray *cells);

/* "How to read this report": the terms both documents define. */
typedef struct {
    const char *term;
    const char *text;
} PlReportTerm;
#define PL_REPORT_NUM_TERMS 8
extern const PlReportTerm pl_report_terms[PL_REPORT_NUM_TERMS];

/* --------------------------------------------------------------- JSON -- */

/* Adds `v` under `key`, or null when it is not finite. */
void pl_json_num(cJSON *o, const char *key, double v);

/* ------------------------------------------------ autoscale section -- */

/* The autoscale comparison's parts of the three documents
 * (pl_report_scale.c); nothing when the plan has no "autoscale" section. */
void pl_report_scale_html(GString *o, const PlPlanResult *r);
void pl_report_scale_markdown(GString *o, const PlPlanResult *r);
void pl_report_scale_json(cJSON *root, const PlPlanResult *r);

#endif /* PL_REPORT_INTERNAL_H */
