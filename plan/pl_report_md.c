/*
 * pl_report_md.c: the capacity plan as report.md (see pl_plan.h and
 * docs/planning-report.md): what report.html says (pl_report_html.c), with
 * tables in place of charts: the recommendation and what was simulated, the
 * terms, the ranked candidates, each candidate's facts and load levels, and
 * the autoscale comparison (pl_report_scale.c) when the plan has one.
 *
 * The text comes from pl_report_text.c; every string from the result is
 * escaped for Markdown (md()). Cost: linear in candidates x curve points.
 */
#include <stdarg.h>
#include <string.h>

#include "pl_report_internal.h"

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

static void md_table(GString *o, const PlReport *rp)
{
    const PlPlanResult *r = rp->r;
    char b[PL_NUM_BUF];
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
        md(o, pl_report_name(rp, c));
        g_string_append(o, best ? "** (recommended) | " : c->feasible ? " | " : " (infeasible) | ");
        md(o, pl_str_or(c->hardware, "–"));
        if (c->disaggregated)
            g_string_append_printf(o, " | %u + %u | ", c->prefill_tp, c->decode_tp);
        else
            g_string_append_printf(o, " | %u | ", c->tensor_parallel_size);
        md(o, pl_str_or(c->model, "–"));
        g_string_append(o, " | ");
        if (c->feasible) {
            md(o, pl_fmt_max_rate(b, c, "≥ "));
            g_string_append(o, " | ");
            md(o, pl_str_or(c->binding, "–"));
            char *reps = pl_candidate_replicas_text(c);
            g_string_append_printf(o, " | %s | %u | %s | %u | ", reps, c->replicas_by_division,
                                   pl_candidate_fleet(c) ? pl_fmt_fixed3(b, pl_candidate_fleet(c)->imbalance) : "–",
                                   c->gpus);
            g_free(reps);
            md(o, pl_fmt_money(b, c->price_per_gpu_hour));
            g_string_append(o, " | ");
            md(o, pl_fmt_money(b, c->cost_per_hour));
            g_string_append(o, " | ");
            md(o, pl_fmt_money(b, c->cost_per_million_output_tokens));
            g_string_append(o, " | ");
            md(o, pl_str_or(c->verdict, ""));
        } else {
            g_string_append(o, "– | ");
            md(o, pl_str_or(c->binding, "–"));
            g_string_append(o, " | – | – | – | – | ");
            md(o, pl_fmt_money(b, c->price_per_gpu_hour));
            g_string_append(o, " | – | – | **Infeasible:** ");
            char *why = pl_text_infeasible(c);
            md(o, why);
            g_free(why);
        }
        g_string_append(o, " |\n");
    }
    if (r->num_candidates == 0)
        g_string_append(o, "\nNo candidates were given.\n");
}

static void md_candidate(GString *o, const PlReport *rp, guint idx)
{
    const PlCandidateResult *c = &rp->r->candidates[idx];
    g_string_append(o, "\n### ");
    char *h = pl_text_rank_heading(rp, c);
    md(o, h);
    g_free(h);
    g_string_append(o, c == rp->best ? " (recommended)\n\n" : c->feasible ? "\n\n" : " (infeasible)\n\n");
    if (c->feasible && c->verdict) {
        md(o, c->verdict);
        g_string_append(o, "\n\n");
    }
    GPtrArray *cells = g_ptr_array_new_with_free_func(g_free);
    pl_candidate_facts(rp, c, cells);
    for (guint i = 0; i + 1 < cells->len; i += 2)
        md_bullet(o, g_ptr_array_index(cells, i), g_ptr_array_index(cells, i + 1));
    if (c->num_curve == 0 || !c->curve) {
        g_string_append(o, "\nNo load levels were simulated for the curves of this candidate.\n");
    } else {
        g_string_append(o, "\nLoad levels simulated (one replica):\n\n");
        g_ptr_array_set_size(cells, 0);
        pl_curve_header(rp, cells);
        guint ncols = cells->len;
        md_row(o, cells);
        md_rule(o, ncols, ncols - 1);
        for (guint i = 0; i < c->num_curve; i++) {
            g_ptr_array_set_size(cells, 0);
            pl_curve_row(rp, &c->curve[i], cells);
            md_row(o, cells);
        }
    }
    g_ptr_array_free(cells, TRUE);
}

char *pl_report_markdown(const PlPlanResult *r)
{
    g_return_val_if_fail(r != NULL, NULL); /* a contract: pl_plan_run never returns NULL */
    PlReport rp;
    pl_report_init(&rp, r);
    const PlCandidateResult *c = rp.best;
    char b1[PL_NUM_BUF], b2[PL_NUM_BUF];
    GString *o = g_string_sized_new(16 * 1024);
    g_string_append(o, "# ");
    mdf(o, "Capacity plan: %s", pl_str_or(r->name, "unnamed plan"));
    g_string_append(o, "\n\n");
    if (r->description && *r->description) {
        md(o, r->description);
        g_string_append(o, "\n\n");
    }
    g_string_append(o, "## Recommendation\n\n");
    if (c) {
        char *reps = pl_text_replicas(c, "×");
        g_string_append(o, "**Deploy ");
        md(o, pl_report_name(&rp, c));
        g_string_append(o, "**: ");
        mdf(o, "%s of %s, %s per hour, %s per million output tokens.", reps, pl_str_or(c->hardware, "unknown hardware"),
            pl_fmt_money(b1, c->cost_per_hour), pl_fmt_money(b2, c->cost_per_million_output_tokens));
        g_free(reps);
        g_string_append(o, "\n\n");
        char *cap = pl_text_capacity(&rp, c);
        md(o, cap);
        g_free(cap);
        g_string_append(o, "\n\n");
        if (c->verdict) {
            g_string_append(o, "**Why this one:** ");
            md(o, c->verdict);
            g_string_append(o, "\n\n");
        }
        const PlCandidateResult *next = pl_report_runner_up(&rp);
        if (next) {
            g_string_append(o, "**Runner-up:** ");
            md(o, pl_report_name(&rp, next));
            g_string_append(o, ": ");
            md(o, pl_str_or(next->verdict, ""));
            g_string_append(o, "\n\n");
        }
    } else {
        g_string_append(o, "**No recommendation.** ");
        char *none = pl_text_no_recommendation(&rp);
        md(o, none);
        g_free(none);
        g_string_append(o, "\n\n");
    }
    GPtrArray *facts = g_ptr_array_new_with_free_func(g_free);
    pl_summary_facts(&rp, facts);
    for (guint i = 0; i + 1 < facts->len; i += 2)
        md_bullet(o, g_ptr_array_index(facts, i), g_ptr_array_index(facts, i + 1));
    g_ptr_array_free(facts, TRUE);

    g_string_append(o, "\n## How to read this report\n\n");
    for (guint i = 0; i < PL_REPORT_NUM_TERMS; i++)
        md_bullet(o, pl_report_terms[i].term, pl_report_terms[i].text);

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
    pl_report_clear(&rp);
    return g_string_free(o, FALSE);
}
