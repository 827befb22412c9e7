/*
 * test_pl_report.c: the planning report's three documents from hand-built
 * PlPlanResult values (no simulation): report.html is well-formed (a small
 * checker below: balanced tags, escaped text, one <svg> per chart with
 * xmlns, viewBox, a <title> and finite numeric coordinates), makes no network
 * reference, leads with the recommendation and names every candidate;
 * plan.json parses and round-trips; report.md has the table rows;
 * pl_report_write writes the three files; the same result gives the same
 * bytes; degenerate results (nothing feasible, one-point and empty curves,
 * no candidates, NaN values) render without NaN. Also the chart helpers:
 * nice ticks, log ticks, number formatting and escaping.
 *
 * With SERVESIM_REPORT_OUT=DIR in the environment the realistic report is
 * also written to DIR (scripts/screenshot-report.sh uses it).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "pl_plan.h"
#include "rp_svg.h"
#include "ss_test.h"

/* ----------------------------------------------------- the test plan -- */

static const double fractions[8] = {0.25, 0.4, 0.55, 0.7, 0.85, 1.0, 1.1, 1.25};

/* A load curve shaped like a real one: latency rises towards the knee at
 * `max_rate`, the queue grows past it. `binding_metric`: which SLO fails
 * first above the knee (PL_SLO_TTFT or PL_SLO_TPOT). */
static void fill_curve(PlCandidateResult *c, double max_rate, double ttft0, double tpot0, PlSloMetric binding_metric,
                       gboolean bound)
{
    c->num_curve = G_N_ELEMENTS(fractions);
    c->curve = g_new0(PlLoadPoint, c->num_curve);
    for (guint i = 0; i < c->num_curve; i++) {
        PlLoadPoint *p = &c->curve[i];
        double f = fractions[i];
        double u = MIN(f * 0.85, 0.97); /* utilisation */
        gboolean over = bound ? f > 1.1 : f > 1.0;
        gboolean grows = over && (binding_metric == PL_SLO_TTFT || f > 1.2); /* the queue grows */
        p->rate = max_rate * f;
        p->achieved_rate = grows ? max_rate * 1.03 * 0.998 : p->rate * 0.998;
        p->output_tokens_per_s = p->achieved_rate * 256;
        p->ttft_p50_ms = ttft0 / (1 - u);
        p->ttft_p99_ms = ttft0 * 4 / (1 - u);
        p->tpot_p50_ms = tpot0 * (1 + 0.5 * u);
        p->tpot_p99_ms = tpot0 * (1.3 + 0.9 * u);
        p->queue_growth_ms = grows ? 14000 * (f - 1) : 2.0 * i;
        if (over && binding_metric == PL_SLO_TPOT)
            p->tpot_p99_ms = 50 * (1.02 + 0.8 * (f - 1));
        if (grows) {
            p->ttft_p99_ms = 2000 * (1 + 60 * (f - 1));
            p->ttft_p50_ms = 0.45 * p->ttft_p99_ms;
        }
        p->slo_values[0] = p->ttft_p99_ms;
        p->slo_values[1] = p->tpot_p99_ms;
        p->slo_values[2] = p->ttft_p99_ms + 255 * p->tpot_p50_ms; /* p90 E2E, roughly */
        p->meets_slos = p->slo_values[0] <= 2000 && p->slo_values[1] <= 50 && p->slo_values[2] <= 30000;
        p->stable = !grows;
    }
}

static void set_cost(const PlPlanResult *r, PlCandidateResult *c)
{
    c->replicas = MAX((guint)ceil(r->target_rate / c->max_rate - 1e-9), 1);
    /* the fleet search: one fleet below the division misses, the division's sustains */
    c->replicas_by_division = c->replicas;
    c->router = g_strdup("round-robin");
    c->num_trials = 2;
    c->trials = g_new0(PlFleetTrial, 2);
    c->trials[0] = (PlFleetTrial){.replicas = c->replicas - 1, .meets_slos = FALSE, .stable = TRUE,
                                  .ttft_p99_ms = 2400, .tpot_p99_ms = 38.5, .imbalance = 1.05};
    c->trials[1] = (PlFleetTrial){.replicas = c->replicas, .meets_slos = TRUE, .stable = TRUE,
                                  .ttft_p99_ms = 1200, .tpot_p99_ms = 31.25, .imbalance = 1.02};
    c->chosen_trial = 1;
    c->fleet_evaluations = 2;
    c->gpus = c->replicas * c->tensor_parallel_size;
    c->cost_per_hour = c->gpus * c->price_per_gpu_hour;
    c->cost_per_million_output_tokens = c->cost_per_hour / (r->target_rate * r->mean_output_tokens * 3600) * 1e6;
    c->output_tokens_per_s_at_target = r->target_rate / c->replicas * r->mean_output_tokens;
}

static void set_candidate(PlCandidateResult *c, const char *name, const char *hw, guint tp, double price)
{
    c->name = g_strdup(name);
    c->hardware = g_strdup(hw);
    c->model = g_strdup("llama-3.1-8b");
    c->tensor_parallel_size = tp;
    c->max_num_seqs = 256;
    c->max_num_batched_tokens = 8192;
    c->price_per_gpu_hour = price;
    /* the H100 has kernel tables of its own; the others are timed from its */
    c->latency_measured = strcmp(hw, "H100-SXM") == 0;
    c->latency_basis = g_strdup(c->latency_measured ? "measured" : "transferred from H100-SXM");
}

/* The texts of a test plan: the test's own need escaping; the demo's (for
 * the screenshot in docs/) read like a real plan. */
typedef struct {
    const char *name, *description, *best, *infeasible, *error;
} Texts;

static const Texts test_texts = {
    "chat-8b: A&B <x> \"rollout\" 'Q3'",
    "Which GPUs should serve the 8B chat model for the Q3 launch? <b>not bold</b>",
    "A&B <x>",
    "A100-40GB TP1 \"small\"",
    "model does not fit: weights 16.1 GB + KV cache > 40 GB x 0.9 <gpu_memory_utilization>",
};

static const Texts demo_texts = {
    "chat-8b launch",
    "Which GPUs should serve the 8B chat model at 40 requests/s, and what will it cost?",
    "H100-SXM TP2",
    "A100-40GB TP1",
    "model does not fit: 40 GB x 0.9 leaves no memory for the KV cache after 16.1 GB of weights",
};

/* 3 feasible candidates (one with a rate that is only a lower bound), one
 * infeasible. */
static PlPlanResult *make_result_with(const Texts *t)
{
    PlPlanResult *r = g_new0(PlPlanResult, 1);
    r->name = g_strdup(t->name);
    r->description = g_strdup(t->description);
    r->workload = g_strdup("poisson arrivals; prompts lognormal (mean 1024 tokens), outputs lognormal (mean 256 "
                           "tokens); 2000 requests");
    r->mean_output_tokens = 256;
    r->target_rate = 40;
    r->num_slos = 3;
    r->slos = g_new0(PlSlo, 3);
    r->slos[0] = (PlSlo){PL_SLO_TTFT, PL_STAT_P99, 2000, g_strdup("p99 TTFT <= 2000 ms")};
    r->slos[1] = (PlSlo){PL_SLO_TPOT, PL_STAT_P99, 50, g_strdup("p99 TPOT <= 50 ms")};
    r->slos[2] = (PlSlo){PL_SLO_E2E, PL_STAT_P90, 30000, g_strdup("p90 E2E <= 30000 ms")};
    r->tolerance = 0.05;
    r->max_queue_growth_ms = 500;
    r->max_queue_growth_rate = 0.02;
    r->num_requests = 2000;
    r->seed = 42;
    r->num_candidates = 4;
    r->candidates = g_new0(PlCandidateResult, 4);

    PlCandidateResult *c = &r->candidates[0];
    set_candidate(c, "H100-SXM TP1", "H100-SXM", 1, 2.49);
    c->feasible = TRUE;
    c->max_rate = 9.8;
    c->max_rate_upper = 10.3;
    c->binding = g_strdup("p99 TTFT <= 2000 ms");
    c->evaluations = 9;
    set_cost(r, c);
    fill_curve(c, c->max_rate, 60, 14, PL_SLO_TTFT, FALSE);
    c->rank = 2;

    c = &r->candidates[1];
    set_candidate(c, t->best, "H100-SXM", 2, 2.49);
    c->feasible = TRUE;
    c->max_rate = 22.5;
    c->max_rate_upper = 23.6;
    c->binding = g_strdup("p99 TPOT <= 50 ms");
    c->evaluations = 8;
    set_cost(r, c);
    fill_curve(c, c->max_rate, 45, 24, PL_SLO_TPOT, FALSE);
    c->rank = 1;

    c = &r->candidates[2];
    set_candidate(c, "H200 TP8", "H200", 8, 3.8);
    c->feasible = TRUE;
    c->max_rate = 50;
    c->max_rate_upper = NAN;
    c->max_rate_is_bound = TRUE;
    c->binding = g_strdup("none below the search limit (50 requests/s)");
    c->evaluations = 1;
    set_cost(r, c);
    fill_curve(c, c->max_rate, 30, 8, PL_SLO_TTFT, TRUE);
    c->rank = 3;

    c = &r->candidates[3];
    set_candidate(c, t->infeasible, "A100-40GB", 1, 1.29);
    c->max_num_seqs = 0;
    c->max_num_batched_tokens = 0;
    c->feasible = FALSE;
    c->error = g_strdup(t->error);
    c->rank = 0;

    /* verdicts as the planner words them */
    const PlCandidateResult *best = &r->candidates[1];
    r->recommended = 1;
    for (guint i = 0; i < r->num_candidates; i++) {
        c = &r->candidates[i];
        if (!c->feasible)
            c->verdict = g_strdup_printf("infeasible: %s", c->error);
        else if (c == best)
            c->verdict = g_strdup_printf("recommended: the lowest cost for %g requests/s, $%.2f/hour for %u GPUs "
                                         "(%u replicas x TP%u); one replica sustains %.3g requests/s, limited by %s",
                                         r->target_rate, c->cost_per_hour, c->gpus, c->replicas,
                                         c->tensor_parallel_size, c->max_rate, c->binding);
        else
            c->verdict = g_strdup_printf("costs $%.2f/hour more than %s: one replica sustains %s%.3g requests/s "
                                         "(limited by %s), so it needs %u replica%s = %u GPUs",
                                         c->cost_per_hour - best->cost_per_hour, best->name,
                                         c->max_rate_is_bound ? ">= " : "", c->max_rate, c->binding, c->replicas,
                                         c->replicas == 1 ? "" : "s", c->gpus);
    }
    return r;
}

static PlPlanResult *make_result(void)
{
    return make_result_with(&test_texts);
}

/* ------------------------------------------------------ HTML checker -- */

static gboolean is_void_element(const char *name)
{
    static const char *const v[] = {"meta", "br", "hr", "img", "link", "input", "wbr", NULL};
    for (guint i = 0; v[i]; i++)
        if (strcmp(name, v[i]) == 0)
            return TRUE;
    return FALSE;
}

/* Every token of a numeric attribute (numbers separated by spaces or commas) is finite. */
static gboolean numbers_ok(const char *value, guint *count)
{
    const char *p = value;
    guint n = 0;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        char *end = NULL;
        double v = g_ascii_strtod(p, &end);
        if (end == p || !isfinite(v))
            return FALSE;
        p = end;
        if (*p && *p != ' ' && *p != ',')
            return FALSE;
        n++;
    }
    if (count)
        *count = n;
    return n > 0;
}

static gboolean is_numeric_attr(const char *name)
{
    static const char *const v[] = {"x",      "y",      "x1", "y1",        "x2",           "y2",
                                    "cx",     "cy",     "r",  "width",     "height",       "stroke-width",
                                    "points", "font-size", "fill-opacity", NULL};
    for (guint i = 0; v[i]; i++)
        if (strcmp(name, v[i]) == 0)
            return TRUE;
    return FALSE;
}

typedef struct {
    guint svgs;          /* <svg> elements */
    guint svg_titles;    /* of which the first child is <title> */
    guint texts;         /* <text> elements */
    char *error;         /* the first problem, NULL when none */
} HtmlCheck;

#define FAIL(...)                                                                                                  \
    do {                                                                                                           \
        if (!chk->error)                                                                                           \
            chk->error = g_strdup_printf(__VA_ARGS__);                                                             \
        goto done;                                                                                                 \
    } while (0)

/* Checks the HTML the report emits: balanced tags, quoted attributes without
 * '<', no raw '<' or '>' in text, entities well-formed, <svg> with xmlns,
 * viewBox and a <title> first, finite numeric attributes, no <script>. */
static void check_html(const char *html, HtmlCheck *chk)
{
    memset(chk, 0, sizeof *chk);
    GPtrArray *stack = g_ptr_array_new_with_free_func(g_free);
    const char *p = html;
    gboolean expect_title = FALSE;
    while (*p) {
        if (*p == '>')
            FAIL("unescaped '>' in text at offset %ld", (long)(p - html));
        if (*p == '&') {
            const char *q = p + 1;
            if (*q == '#') {
                q++;
                while (g_ascii_isdigit(*q))
                    q++;
            } else {
                while (g_ascii_isalpha(*q))
                    q++;
            }
            if (*q != ';' || q == p + 1)
                FAIL("bad entity at offset %ld: %.20s", (long)(p - html), p);
            p = q + 1;
            continue;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        if (g_str_has_prefix(p, "<!DOCTYPE html>")) {
            p += strlen("<!DOCTYPE html>");
            continue;
        }
        gboolean closing = p[1] == '/';
        const char *q = p + 1 + closing;
        if (!g_ascii_isalpha(*q))
            FAIL("unescaped '<' in text at offset %ld: %.30s", (long)(p - html), p);
        const char *ns = q;
        while (g_ascii_isalnum(*q) || *q == '-')
            q++;
        char *name = g_strndup(ns, (gsize)(q - ns));
        gboolean self_close = FALSE, has_xmlns = FALSE, has_viewbox = FALSE;
        for (;;) {
            while (*q == ' ' || *q == '\n')
                q++;
            if (*q == '>')
                break;
            if (q[0] == '/' && q[1] == '>') {
                self_close = TRUE;
                q++;
                break;
            }
            const char *as = q;
            while (g_ascii_isalnum(*q) || *q == '-' || *q == ':')
                q++;
            if (q == as) {
                g_free(name);
                FAIL("bad attribute in <%.40s", p + 1);
            }
            char *attr = g_strndup(as, (gsize)(q - as));
            char *value = NULL;
            if (*q == '=') {
                if (q[1] != '"') {
                    g_free(name);
                    g_free(attr);
                    FAIL("unquoted attribute value at offset %ld", (long)(q - html));
                }
                const char *vs = q + 2;
                const char *ve = strchr(vs, '"');
                if (!ve) {
                    g_free(name);
                    g_free(attr);
                    FAIL("unterminated attribute value at offset %ld", (long)(q - html));
                }
                value = g_strndup(vs, (gsize)(ve - vs));
                q = ve + 1;
            }
            gboolean bad = value && (strchr(value, '<') || strchr(value, '>'));
            if (value && strcmp(name, "svg") != 0 && is_numeric_attr(attr) && !numbers_ok(value, NULL))
                bad = TRUE;
            if (strcmp(name, "svg") == 0 && value) {
                guint n = 0;
                if (strcmp(attr, "xmlns") == 0)
                    has_xmlns = strcmp(value, "http://www.w3.org/2000/svg") == 0;
                if (strcmp(attr, "viewBox") == 0)
                    has_viewbox = numbers_ok(value, &n) && n == 4;
                if ((strcmp(attr, "width") == 0 || strcmp(attr, "height") == 0) && !numbers_ok(value, NULL))
                    bad = TRUE;
            }
            if (strcmp(attr, "transform") == 0 && value) {
                char *low = g_ascii_strdown(value, -1);
                bad |= strstr(low, "nan") || strstr(low, "inf");
                g_free(low);
            }
            if (bad) {
                if (!chk->error)
                    chk->error = g_strdup_printf("bad value of %s on <%s>: \"%s\"", attr, name, value ? value : "");
                g_free(attr);
                g_free(value);
                g_free(name);
                goto done;
            }
            g_free(attr);
            g_free(value);
        }
        p = q + 1;
        if (strcmp(name, "script") == 0) {
            g_free(name);
            FAIL("<script> in the report");
        }
        if (closing) {
            if (stack->len == 0 || strcmp(g_ptr_array_index(stack, stack->len - 1), name) != 0) {
                char *msg = g_strdup_printf("</%s> at offset %ld closes <%s>", name, (long)(ns - html),
                                            stack->len ? (char *)g_ptr_array_index(stack, stack->len - 1) : "nothing");
                g_free(name);
                if (!chk->error)
                    chk->error = msg;
                else
                    g_free(msg);
                goto done;
            }
            g_ptr_array_set_size(stack, stack->len - 1);
            g_free(name);
            continue;
        }
        if (expect_title) {
            chk->svg_titles += strcmp(name, "title") == 0;
            expect_title = FALSE;
        }
        if (strcmp(name, "svg") == 0) {
            chk->svgs++;
            expect_title = TRUE;
            if (!has_xmlns || !has_viewbox) {
                g_free(name);
                FAIL("<svg> %u without xmlns or a 4-number viewBox", chk->svgs);
            }
        }
        chk->texts += strcmp(name, "text") == 0;
        if (strcmp(name, "style") == 0) { /* raw text up to </style> */
            const char *end = strstr(p, "</style>");
            if (!end) {
                g_free(name);
                FAIL("unterminated <style>");
            }
            p = end;
        }
        if (self_close || is_void_element(name))
            g_free(name);
        else
            g_ptr_array_add(stack, name);
    }
    if (stack->len)
        FAIL("unclosed <%s>", (char *)g_ptr_array_index(stack, stack->len - 1));
done:
    g_ptr_array_free(stack, TRUE);
}

static guint count(const char *hay, const char *needle)
{
    guint n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Asserts the checker passes, no network reference, no NaN/inf anywhere
 * numeric, and `svgs` charts. */
static void assert_html_ok(const char *html, guint svgs)
{
    HtmlCheck chk;
    check_html(html, &chk);
    if (chk.error)
        fprintf(stderr, "\n  HTML check: %s\n", chk.error);
    CU_ASSERT_PTR_NULL(chk.error);
    g_free(chk.error);
    CU_ASSERT_EQUAL(chk.svgs, svgs);
    CU_ASSERT_EQUAL(chk.svg_titles, svgs);
    /* no network: the only URL is the SVG namespace, once per chart */
    CU_ASSERT_EQUAL(count(html, "http://") + count(html, "https://"), svgs);
    CU_ASSERT_EQUAL(count(html, "xmlns=\"http://www.w3.org/2000/svg\""), svgs);
    CU_ASSERT_PTR_NULL(strstr(html, "src="));
    CU_ASSERT_PTR_NULL(strstr(html, "url("));
    CU_ASSERT_PTR_NULL(strstr(html, "@import"));
    CU_ASSERT_PTR_NULL(strstr(html, "<link"));
    CU_ASSERT_PTR_NULL(strstr(html, "<script"));
    /* no NaN or inf printed anywhere */
    CU_ASSERT_PTR_NULL(strstr(html, "nan"));
    CU_ASSERT_PTR_NULL(strstr(html, "NaN"));
    CU_ASSERT_PTR_NULL(strstr(html, "=\"inf\""));
    CU_ASSERT_PTR_NULL(strstr(html, "=\"-inf\""));
    CU_ASSERT_PTR_NULL(strstr(html, " inf "));
    CU_ASSERT(g_utf8_validate(html, -1, NULL));
}

/* ---------------------------------------------------------------- tests -- */

static void test_html(void)
{
    PlPlanResult *r = make_result();
    char *html = pl_report_html(r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    assert_html_ok(html, 1 + 4 * 3); /* the cost chart, 4 per candidate with a curve */

    /* the recommendation first, with replicas x TP = GPUs and both costs */
    SS_ASSERT_CONTAINS(html,
                       "<title>Capacity plan: chat-8b: A&amp;B &lt;x&gt; &quot;rollout&quot; &#39;Q3&#39;</title>");
    SS_ASSERT_CONTAINS(html, "Deploy <strong>A&amp;B &lt;x&gt;</strong>: <strong>2 replicas × TP 2 = 4 GPUs</strong>");
    SS_ASSERT_CONTAINS(html, "$9.96 per hour");
    SS_ASSERT_CONTAINS(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                             "style-src 'unsafe-inline'\">");
    SS_ASSERT_CONTAINS(html, "$0.27 per million output tokens");
    const char *rec = strstr(html, "Deploy <strong>");
    const char *table = strstr(html, "Candidates, ranked");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
    CU_ASSERT_PTR_NOT_NULL_FATAL(table);
    CU_ASSERT(rec < table);
    /* what was simulated */
    SS_ASSERT_CONTAINS(html, "40 requests/s in total");
    SS_ASSERT_CONTAINS(html, "p99 TTFT &lt;= 2000 ms; p99 TPOT &lt;= 50 ms; p90 E2E &lt;= 30000 ms");
    SS_ASSERT_CONTAINS(html, "poisson arrivals");
    SS_ASSERT_CONTAINS(html, "within 5% of its upper end");
    SS_ASSERT_CONTAINS(html, "2000 requests per simulation, seed 42");
    SS_ASSERT_CONTAINS(html, "llama-3.1-8b");
    SS_ASSERT_CONTAINS(html, "&lt;b&gt;not bold&lt;/b&gt;");
    CU_ASSERT_PTR_NULL(strstr(html, "A&B <x>"));
    /* where each candidate's step times come from, estimates named */
    SS_ASSERT_CONTAINS(html, "<dt>Step times</dt><dd>from kernel tables measured on H100-SXM</dd>");
    SS_ASSERT_CONTAINS(html, "<dt>Step times</dt><dd>transferred from H100-SXM: an estimate (no kernel tables "
                             "measured on H200)");
    SS_ASSERT_CONTAINS(html, "estimates for H200 TP8 (transferred from H100-SXM)");
    /* terms defined */
    SS_ASSERT_CONTAINS(html, "<dt>Sustainable rate</dt>");
    SS_ASSERT_CONTAINS(html, "<dt>Binding constraint</dt>");
    SS_ASSERT_CONTAINS(html, "<dt>Replica</dt>");
    /* every candidate, ranked, the infeasible one last with its error */
    const char *names[] = {"A&amp;B &lt;x&gt;", "H100-SXM TP1", "H200 TP8", "A100-40GB TP1 &quot;small&quot;"};
    const char *prev = table;
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        char *link = g_strdup_printf("\">%s</a>", names[i]);
        const char *at = strstr(table, link);
        if (!at)
            fprintf(stderr, "\n  missing ranked row %s\n", names[i]);
        CU_ASSERT_FATAL(at != NULL);
        CU_ASSERT(at > prev);
        prev = at;
        g_free(link);
    }
    SS_ASSERT_CONTAINS(html, "<strong>Infeasible:</strong> model does not fit: weights 16.1 GB + KV cache &gt; 40 GB "
                             "x 0.9 &lt;gpu_memory_utilization&gt;");
    SS_ASSERT_CONTAINS(html, "<td class=\"n\">≥ 50</td>");   /* a lower bound */
    SS_ASSERT_CONTAINS(html, "<td class=\"n\">22.5</td>");
    SS_ASSERT_CONTAINS(html, "<td class=\"n\">$2.49</td>");
    /* charts: SLO thresholds dashed, the sustainable rate marked, failing points hollow, log latency */
    SS_ASSERT_CONTAINS(html, "SLO: p99 TTFT &lt;= 2000 ms");
    SS_ASSERT_CONTAINS(html, "stroke-dasharray=\"8 4\"");
    SS_ASSERT_CONTAINS(html, "sustainable rate 22.5 req/s");
    SS_ASSERT_CONTAINS(html, "sustainable rate ≥ 50 req/s (search limit)");
    SS_ASSERT_CONTAINS(html, "fill=\"#ffffff\" stroke=\"#d55e00\"");
    SS_ASSERT_CONTAINS(html, "TTFT (ms), log scale");
    SS_ASSERT_CONTAINS(html, "y = x: every offered request is served");
    SS_ASSERT_CONTAINS(html, "p90 E2E");
    SS_ASSERT_CONTAINS(html, "Cost per hour at the target load");
    SS_ASSERT_CONTAINS(html, "✗ infeasible: model does not fit");
    g_free(html);
    pl_plan_result_free(r);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    CU_ASSERT(cJSON_IsNumber(v));
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    CU_ASSERT(cJSON_IsString(v));
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void test_json(void)
{
    PlPlanResult *r = make_result();
    r->seed = G_GUINT64_CONSTANT(18446744073709551557); /* above 2^53: printed exactly */
    char *json = pl_report_json(r);
    cJSON *root = cJSON_Parse(json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_STRING_EQUAL(str(root, "schema"), "servesim.plan/2");
    CU_ASSERT_STRING_EQUAL(str(root, "name"), r->name);
    CU_ASSERT_STRING_EQUAL(str(root, "workload"), r->workload);
    CU_ASSERT_EQUAL(num(root, "target_rate"), 40);
    CU_ASSERT_EQUAL(num(root, "tolerance"), 0.05);
    CU_ASSERT_EQUAL(num(root, "num_requests"), 2000);
    SS_ASSERT_CONTAINS(json, "\"seed\":\t18446744073709551557");
    CU_ASSERT_EQUAL(num(root, "recommended"), 1);
    CU_ASSERT_STRING_EQUAL(str(root, "recommended_name"), "A&B <x>");
    const cJSON *slos = cJSON_GetObjectItem(root, "slos");
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(slos), 3);
    CU_ASSERT_STRING_EQUAL(str(cJSON_GetArrayItem(slos, 0), "metric"), "ttft");
    CU_ASSERT_STRING_EQUAL(str(cJSON_GetArrayItem(slos, 2), "stat"), "p90");
    CU_ASSERT_EQUAL(num(cJSON_GetArrayItem(slos, 1), "max_ms"), 50);
    const cJSON *ranking = cJSON_GetObjectItem(root, "ranking");
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(ranking), 4);
    CU_ASSERT_EQUAL(cJSON_GetArrayItem(ranking, 0)->valuedouble, 1);
    CU_ASSERT_EQUAL(cJSON_GetArrayItem(ranking, 3)->valuedouble, 3);
    const cJSON *cands = cJSON_GetObjectItem(root, "candidates");
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(cands), 4);
    for (guint i = 0; i < 4; i++) {
        const cJSON *c = cJSON_GetArrayItem(cands, (int)i);
        const PlCandidateResult *e = &r->candidates[i];
        CU_ASSERT_STRING_EQUAL(str(c, "name"), e->name);
        CU_ASSERT_STRING_EQUAL(str(c, "hardware"), e->hardware);
        CU_ASSERT_EQUAL(num(c, "tensor_parallel_size"), e->tensor_parallel_size);
        CU_ASSERT_EQUAL(cJSON_IsTrue(cJSON_GetObjectItem(c, "feasible")), e->feasible);
        CU_ASSERT_EQUAL(num(c, "rank"), e->rank);
        CU_ASSERT_EQUAL(num(c, "replicas"), e->replicas);
        CU_ASSERT_EQUAL(num(c, "replicas_by_division"), e->replicas_by_division);
        const cJSON *fleets = cJSON_GetObjectItem(c, "fleets");
        CU_ASSERT_EQUAL(cJSON_GetArraySize(fleets), (int)e->num_trials);
        if (e->num_trials == 2) {
            CU_ASSERT_EQUAL(num(cJSON_GetArrayItem(fleets, 1), "replicas"), e->replicas);
            CU_ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(fleets, 1), "sustained")));
            CU_ASSERT(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(fleets, 0), "sustained")));
            CU_ASSERT_STRING_EQUAL(str(c, "router"), "round-robin");
        }
        CU_ASSERT_EQUAL(num(c, "gpus"), e->gpus);
        CU_ASSERT_EQUAL(num(c, "price_per_gpu_hour"), e->price_per_gpu_hour);
        CU_ASSERT_EQUAL(num(c, "evaluations"), e->evaluations);
        CU_ASSERT_STRING_EQUAL(str(c, "verdict"), e->verdict);
        const cJSON *curve = cJSON_GetObjectItem(c, "curve");
        CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(curve), (int)e->num_curve);
        for (guint k = 0; k < e->num_curve; k++) {
            const cJSON *p = cJSON_GetArrayItem(curve, (int)k);
            CU_ASSERT_DOUBLE_EQUAL(num(p, "rate"), e->curve[k].rate, 1e-12 * e->curve[k].rate);
            CU_ASSERT_DOUBLE_EQUAL(num(p, "ttft_p99_ms"), e->curve[k].ttft_p99_ms, 1e-9);
            CU_ASSERT_DOUBLE_EQUAL(num(p, "tpot_p50_ms"), e->curve[k].tpot_p50_ms, 1e-9);
            CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(p, "slo_values")), 3);
            CU_ASSERT_EQUAL(cJSON_IsTrue(cJSON_GetObjectItem(p, "meets_slos")), e->curve[k].meets_slos);
            CU_ASSERT_EQUAL(cJSON_IsTrue(cJSON_GetObjectItem(p, "stable")), e->curve[k].stable);
        }
    }
    const cJSON *c1 = cJSON_GetArrayItem(cands, 1);
    CU_ASSERT_DOUBLE_EQUAL(num(c1, "cost_per_million_output_tokens"), r->candidates[1].cost_per_million_output_tokens,
                           1e-12);
    CU_ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(c1, "recommended")));
    const cJSON *c2 = cJSON_GetArrayItem(cands, 2);
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(c2, "max_rate_upper"))); /* NaN -> null */
    CU_ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(c2, "max_rate_is_bound")));
    const cJSON *c3 = cJSON_GetArrayItem(cands, 3);
    CU_ASSERT_STRING_EQUAL(str(c3, "error"), r->candidates[3].error);
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(c1, "error")));
    CU_ASSERT_PTR_NULL(strstr(json, "nan"));
    cJSON_Delete(root);
    g_free(json);
    pl_plan_result_free(r);
}

static void test_markdown(void)
{
    PlPlanResult *r = make_result();
    char *mdtext = pl_report_markdown(r);
    SS_ASSERT_CONTAINS(mdtext, "# Capacity plan: chat-8b: A\\&B \\<x> \"rollout\" 'Q3'\n");
    SS_ASSERT_CONTAINS(mdtext, "**Deploy A\\&B \\<x>**: 2 replicas × TP 2 = 4 GPUs of H100-SXM, $9.96 per hour");
    SS_ASSERT_CONTAINS(mdtext, "| Rank | Candidate | Hardware | TP | Model | Max sustainable rate per replica");
    SS_ASSERT_CONTAINS(mdtext, "| 1 | **A\\&B \\<x>** (recommended) | H100-SXM | 2 | llama-3.1-8b | 22.5 | p99 TPOT "
                               "<= 50 ms | 2 | 2 | 1.020 | 4 | $2.49 | $9.96 | $0.27 | recommended:");
    SS_ASSERT_CONTAINS(mdtext, "| 2 | H100-SXM TP1 | H100-SXM | 1 | llama-3.1-8b | 9.8 | p99 TTFT <= 2000 ms | 5 | 5 "
                               "| 1.020 | 5 | $2.49 | $12.45 |");
    SS_ASSERT_CONTAINS(mdtext, "behind round-robin, at 40 requests/s: 4 replicas miss an SLO (p99 TTFT 2,400 ms, p99 "
                               "TPOT 38.5 ms, imbalance 1.050); 5 replicas sustain it");
    SS_ASSERT_CONTAINS(mdtext, "at 40 requests/s: 1 replica misses an SLO");
    SS_ASSERT_CONTAINS(mdtext, "| 3 | H200 TP8 | H200 | 8 | llama-3.1-8b | ≥ 50 |");
    SS_ASSERT_CONTAINS(mdtext, "| – | A100-40GB TP1 \"small\" (infeasible) | A100-40GB | 1 | llama-3.1-8b | – |");
    SS_ASSERT_CONTAINS(mdtext, "**Infeasible:** model does not fit");
    SS_ASSERT_CONTAINS(mdtext, "| Offered (req/s) | Achieved (req/s) | Output tok/s | TTFT p50 (ms) | TTFT p99 (ms) | "
                               "TPOT p50 (ms) | TPOT p99 (ms) | E2E p90 (ms) | Queue growth (ms) | SLOs met, stable |");
    SS_ASSERT_CONTAINS(mdtext, "| no: p99 TTFT, p90 E2E, queue grows |");
    SS_ASSERT_CONTAINS(mdtext, "- **Target load:** 40 requests/s in total");
    SS_ASSERT_CONTAINS(mdtext, "- **Binding constraint:**");
    /* one curve table per candidate with a curve: 8 rows each */
    CU_ASSERT_EQUAL(count(mdtext, "| yes |"), 6 + 6 + 7);
    CU_ASSERT_PTR_NULL(strstr(mdtext, "nan"));
    g_free(mdtext);
    pl_plan_result_free(r);
}

static char *read_text(const char *path)
{
    char *text = NULL;
    CU_ASSERT(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static void test_write(void)
{
    PlPlanResult *r = make_result();
    char *tmp = ss_test_tmpdir();
    char *dir = g_build_filename(tmp, "nested", "report", NULL);
    GError *error = NULL;
    CU_ASSERT(pl_report_write(r, dir, &error));
    CU_ASSERT_PTR_NULL(error);
    const char *files[] = {"report.html", "report.md", "plan.json"};
    char *(*render[])(const PlPlanResult *) = {pl_report_html, pl_report_markdown, pl_report_json};
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        char *path = g_build_filename(dir, files[i], NULL);
        char *text = read_text(path);
        char *expected = render[i](r);
        CU_ASSERT(text && strcmp(text, expected) == 0);
        g_free(text);
        g_free(expected);
        g_free(path);
    }
    /* a file where the directory should be: an error naming it */
    char *blocker = g_build_filename(tmp, "file", NULL);
    CU_ASSERT(g_file_set_contents(blocker, "x", -1, NULL));
    char *bad = g_build_filename(blocker, "report", NULL);
    CU_ASSERT_FALSE(pl_report_write(r, bad, &error));
    CU_ASSERT_PTR_NOT_NULL(error);
    if (error)
        SS_ASSERT_CONTAINS(error->message, bad);
    g_clear_error(&error);
    g_free(bad);
    g_free(blocker);

    /* the demo report, for scripts/screenshot-report.sh */
    const char *out = g_getenv("SERVESIM_REPORT_OUT");
    if (out && *out) {
        PlPlanResult *demo = make_result_with(&demo_texts);
        CU_ASSERT(pl_report_write(demo, out, &error));
        if (error)
            fprintf(stderr, "\n  %s\n", error->message);
        g_clear_error(&error);
        pl_plan_result_free(demo);
    }
    g_free(dir);
    g_free(tmp);
    pl_plan_result_free(r);
}

static void test_deterministic(void)
{
    PlPlanResult *a = make_result(), *b = make_result();
    char *(*render[])(const PlPlanResult *) = {pl_report_html, pl_report_markdown, pl_report_json};
    for (guint i = 0; i < G_N_ELEMENTS(render); i++) {
        char *x = render[i](a), *y = render[i](b), *z = render[i](a);
        CU_ASSERT_STRING_EQUAL(x, y);
        CU_ASSERT_STRING_EQUAL(x, z);
        g_free(x);
        g_free(y);
        g_free(z);
    }
    pl_plan_result_free(a);
    pl_plan_result_free(b);
}

/* Nothing feasible: the report says so; nothing is NaN. */
static void test_none_feasible(void)
{
    PlPlanResult *r = make_result();
    for (guint i = 0; i < r->num_candidates; i++) {
        PlCandidateResult *c = &r->candidates[i];
        c->feasible = FALSE;
        c->rank = 0;
        c->replicas = c->gpus = 0;
        c->cost_per_hour = c->cost_per_million_output_tokens = NAN;
        c->max_rate = 0;
        c->max_rate_upper = NAN;
        g_free(c->error);
        c->error = g_strdup_printf("does not meet the SLOs even at 0.1 requests/s (%s)", "p99 TTFT <= 2000 ms");
        g_free(c->verdict);
        c->verdict = g_strdup_printf("infeasible: %s", c->error);
        if (i == 1) { /* no curve at all */
            g_clear_pointer(&c->curve, g_free);
            c->num_curve = 0;
        }
    }
    r->recommended = -1;
    char *html = pl_report_html(r);
    assert_html_ok(html, 1 + 4 * 2);
    SS_ASSERT_CONTAINS(html, "no recommendation");
    SS_ASSERT_CONTAINS(html, "None of the 4 candidates sustains the SLOs");
    SS_ASSERT_CONTAINS(html, "does not meet the SLOs even at 0.1 requests/s");
    CU_ASSERT_PTR_NULL(strstr(html, "Deploy "));
    char *mdtext = pl_report_markdown(r);
    SS_ASSERT_CONTAINS(mdtext, "**No recommendation.**");
    CU_ASSERT_PTR_NULL(strstr(mdtext, "nan"));
    char *json = pl_report_json(r);
    cJSON *root = cJSON_Parse(json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(root, "recommended")));
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "candidates"), 0),
                                               "cost_per_hour")));
    cJSON_Delete(root);
    g_free(json);
    g_free(mdtext);
    g_free(html);
    pl_plan_result_free(r);
}

/* One-point and empty curves, NaN latencies, one candidate, no SLOs, NULL strings. */
static void test_degenerate_curves(void)
{
    PlPlanResult *r = make_result();
    PlCandidateResult *c = &r->candidates[0];
    c->num_curve = 1; /* one point */
    c = &r->candidates[2];
    g_clear_pointer(&c->curve, g_free); /* feasible, no curve */
    c->num_curve = 0;
    c = &r->candidates[1]; /* NaN and zero values: no completion at some levels */
    c->curve[0].tpot_p50_ms = c->curve[0].tpot_p99_ms = NAN;
    c->curve[1].ttft_p50_ms = 0;
    c->curve[2].output_tokens_per_s = INFINITY;
    c->curve[3].slo_values[2] = NAN;
    char *html = pl_report_html(r);
    assert_html_ok(html, 1 + 4 * 2);
    SS_ASSERT_CONTAINS(html, "No load levels were simulated for the curves of this candidate");
    char *mdtext = pl_report_markdown(r);
    CU_ASSERT_PTR_NULL(strstr(mdtext, "nan"));
    CU_ASSERT_PTR_NULL(strstr(mdtext, "inf |"));
    char *json = pl_report_json(r);
    cJSON *root = cJSON_Parse(json);
    CU_ASSERT_PTR_NOT_NULL(root);
    cJSON_Delete(root);
    g_free(json);
    g_free(mdtext);
    g_free(html);
    pl_plan_result_free(r);

    /* the smallest result: no SLOs, no candidates, no strings */
    r = g_new0(PlPlanResult, 1);
    r->recommended = -1;
    html = pl_report_html(r);
    assert_html_ok(html, 1);
    SS_ASSERT_CONTAINS(html, "No candidates were given.");
    mdtext = pl_report_markdown(r);
    json = pl_report_json(r);
    root = cJSON_Parse(json);
    CU_ASSERT_PTR_NOT_NULL(root);
    cJSON_Delete(root);
    g_free(json);
    g_free(mdtext);
    g_free(html);
    pl_plan_result_free(r);

    /* a single feasible candidate whose one point has every value equal */
    r = g_new0(PlPlanResult, 1);
    r->name = g_strdup("one");
    r->target_rate = 1;
    r->recommended = 0;
    r->num_candidates = 1;
    r->candidates = g_new0(PlCandidateResult, 1);
    c = &r->candidates[0];
    c->feasible = TRUE;
    c->rank = 1;
    c->tensor_parallel_size = 1;
    c->max_rate = 1;
    c->replicas = c->gpus = 1;
    c->num_curve = 1;
    c->curve = g_new0(PlLoadPoint, 1);
    c->curve[0] = (PlLoadPoint){.rate = 1, .achieved_rate = 1, .meets_slos = TRUE, .stable = TRUE};
    html = pl_report_html(r);
    assert_html_ok(html, 1 + 4);
    SS_ASSERT_CONTAINS(html, "Deploy <strong>candidate 1</strong>");
    g_free(html);
    pl_plan_result_free(r);
}

/* An SLO on a statistic the charts do not draw (p90 TTFT): drawn as its own series. */
static void test_other_statistic(void)
{
    PlPlanResult *r = make_result();
    r->slos[2].metric = PL_SLO_TTFT;
    r->slos[2].max_ms = 1500;
    g_free(r->slos[2].label);
    r->slos[2].label = NULL; /* the report words it */
    char *html = pl_report_html(r);
    assert_html_ok(html, 1 + 4 * 3);
    SS_ASSERT_CONTAINS(html, "p90 TTFT (SLO statistic)");
    SS_ASSERT_CONTAINS(html, "SLO: p90 TTFT &lt;= 1500 ms");
    SS_ASSERT_CONTAINS(html, "SLO p90 1,500 ms");
    char *mdtext = pl_report_markdown(r);
    SS_ASSERT_CONTAINS(mdtext, "| TTFT p90 (ms) |");
    g_free(mdtext);
    g_free(html);
    pl_plan_result_free(r);
}

static void test_chart_helpers(void)
{
    double t[RP_SVG_MAX_TICKS], step = 0;
    guint n = rp_svg_nice_ticks(0, 9.3, 5, t, &step);
    CU_ASSERT_EQUAL(n, 6);
    CU_ASSERT_EQUAL(step, 2);
    CU_ASSERT_EQUAL(t[5], 10);
    n = rp_svg_nice_ticks(0, 0.37, 5, t, &step);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_DOUBLE_EQUAL(step, 0.1, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(t[4], 0.4, 1e-12);
    CU_ASSERT_EQUAL(rp_svg_step_decimals(step), 1);
    n = rp_svg_nice_ticks(0, 56000, 5, t, &step);
    CU_ASSERT_EQUAL(step, 20000);
    CU_ASSERT_EQUAL(t[n - 1], 60000);
    n = rp_svg_nice_ticks(3, 3, 5, t, &step); /* empty range: widened */
    CU_ASSERT(n >= 2 && t[0] <= 3 && t[n - 1] >= 3 && t[n - 1] > t[0]);
    n = rp_svg_nice_ticks(NAN, INFINITY, 5, t, &step);
    CU_ASSERT(n >= 2 && t[0] == 0 && t[n - 1] == 1);
    n = rp_svg_log_ticks(30, 60000, t); /* more than three decades: powers of ten */
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_EQUAL(t[0], 10);
    CU_ASSERT_EQUAL(t[4], 100000);
    n = rp_svg_log_ticks(80, 3000, t); /* 1-2-5 */
    CU_ASSERT_EQUAL(n, 7);
    CU_ASSERT_EQUAL(t[0], 50);
    CU_ASSERT_EQUAL(t[1], 100);
    CU_ASSERT_EQUAL(t[6], 5000);

    char b[64];
    CU_ASSERT_STRING_EQUAL(rp_svg_format(b, sizeof b, 1234567.891, 2, TRUE), "1,234,567.89");
    CU_ASSERT_STRING_EQUAL(rp_svg_format(b, sizeof b, -1234.5, 0, TRUE), "-1,234");
    CU_ASSERT_STRING_EQUAL(rp_svg_format(b, sizeof b, -0.0001, 2, TRUE), "0.00");
    CU_ASSERT_STRING_EQUAL(rp_svg_format(b, sizeof b, 999, 0, TRUE), "999");
    CU_ASSERT_STRING_EQUAL(rp_svg_format(b, sizeof b, NAN, 2, TRUE), "–");
    CU_ASSERT_STRING_EQUAL(rp_svg_format_sig(b, sizeof b, 5.0), "5");
    CU_ASSERT_STRING_EQUAL(rp_svg_format_sig(b, sizeof b, 12.345), "12.3");
    CU_ASSERT_STRING_EQUAL(rp_svg_format_sig(b, sizeof b, 0.01234), "0.0123");
    CU_ASSERT_STRING_EQUAL(rp_svg_format_sig(b, sizeof b, 12345.6), "12,346");
    CU_ASSERT_STRING_EQUAL(rp_svg_format_sig(b, sizeof b, 0), "0");
    CU_ASSERT_STRING_EQUAL(rp_svg_format_sig(b, sizeof b, INFINITY), "–");

    GString *s = g_string_new(NULL);
    rp_svg_escape(s, "A&B <x> \"q\" 'y'\x01z");
    CU_ASSERT_STRING_EQUAL(s->str, "A&amp;B &lt;x&gt; &quot;q&quot; &#39;y&#39; z");
    g_string_truncate(s, 0);
    rp_svg_escape(s, "bad \xff utf8");
    CU_ASSERT(g_utf8_validate(s->str, -1, NULL));
    g_string_free(s, TRUE);

    /* a chart on its own: a log axis when the data span more than two decades */
    RpSvgChart *ch = rp_svg_chart_new("t", "d", "x", "y (ms)", TRUE);
    guint se = rp_svg_chart_add_series(ch, "s", "#000000", RP_SVG_MARK_TRIANGLE);
    rp_svg_chart_add_point(ch, se, 1, 10, TRUE, NULL);
    rp_svg_chart_add_point(ch, se, 2, 5000, FALSE, "<tip>");
    rp_svg_chart_add_hline(ch, NAN, "ignored", "ignored", "#ff0000");
    rp_svg_chart_set_fail_legend(ch, "hollow: fails");
    GString *out = g_string_new(NULL);
    rp_svg_chart_render(ch, out);
    SS_ASSERT_CONTAINS(out->str, "y (ms), log scale");
    SS_ASSERT_CONTAINS(out->str, "<title>&lt;tip&gt;</title>");
    SS_ASSERT_CONTAINS(out->str, "hollow: fails");
    CU_ASSERT_PTR_NULL(strstr(out->str, "ignored"));
    assert_html_ok(out->str, 1);
    g_string_free(out, TRUE);
    rp_svg_chart_free(ch);

    /* a percentage up to 100: the headroom runs to the next nice bound
     * (150) unless the chart has a ceiling at 100 */
    for (int cap = 0; cap < 2; cap++) {
        ch = rp_svg_chart_new("p", "d", "x", "%", FALSE);
        if (cap)
            rp_svg_chart_set_y_ceiling(ch, 100);
        se = rp_svg_chart_add_series(ch, "s", "#000000", RP_SVG_MARK_CIRCLE);
        rp_svg_chart_add_point(ch, se, 1, 80, TRUE, NULL);
        rp_svg_chart_add_point(ch, se, 2, 100, TRUE, NULL);
        out = g_string_new(NULL);
        rp_svg_chart_render(ch, out);
        SS_ASSERT_CONTAINS(out->str, ">100</text>");
        CU_ASSERT_EQUAL(strstr(out->str, ">150</text>") != NULL, !cap);
        g_string_free(out, TRUE);
        rp_svg_chart_free(ch);
    }
    /* a value above the ceiling keeps its headroom */
    ch = rp_svg_chart_new("p", "d", "x", "%", FALSE);
    rp_svg_chart_set_y_ceiling(ch, 100);
    se = rp_svg_chart_add_series(ch, "s", "#000000", RP_SVG_MARK_CIRCLE);
    rp_svg_chart_add_point(ch, se, 1, 120, TRUE, NULL);
    out = g_string_new(NULL);
    rp_svg_chart_render(ch, out);
    SS_ASSERT_CONTAINS(out->str, ">150</text>");
    g_string_free(out, TRUE);
    rp_svg_chart_free(ch);
}

static const SsTestCase cases[] = {
    {"HTML: well-formed, self-contained, recommendation first, every candidate", test_html},
    {"plan.json: schema and round trip", test_json},
    {"report.md: the tables", test_markdown},
    {"pl_report_write: three files, errors", test_write},
    {"the same result gives the same bytes", test_deterministic},
    {"no feasible candidate", test_none_feasible},
    {"one-point and empty curves, NaN values, empty plan", test_degenerate_curves},
    {"an SLO on a statistic the charts do not draw", test_other_statistic},
    {"chart helpers: ticks, formatting, escaping", test_chart_helpers},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"planning report", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
