/*
 * test_cli_outputs.c: what a new user reads: list --json and --names, the
 * sweep page (--html, --output-dir) with every string escaped, plan
 * candidate names that carry every differing setting, plan --set, the run
 * summary's words (busy, GiB), engine flags in each --help, the manual page
 * listing every flag, and the data folder search.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "ss_test.h"

static char *read_text(const char *path)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        fprintf(stderr, "\n  cannot read %s\n", path);
    return text;
}

static guint count(const char *hay, const char *needle)
{
    guint n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_list(void)
{
    char *out = NULL;
    const char *m[] = {"list", "models", "--json", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(m, &out, NULL), 0);
    cJSON *root = cJSON_Parse(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(root, "schema")->valuestring, "servesim.models/1");
    cJSON *models = cJSON_GetObjectItem(root, "models");
    CU_ASSERT(cJSON_GetArraySize(models) >= 30);
    gboolean found = FALSE;
    for (cJSON *it = models->child; it; it = it->next) {
        if (strcmp(cJSON_GetObjectItem(it, "name")->valuestring, "llama-3.1-8b-instruct") != 0)
            continue;
        found = TRUE;
        CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(it, "hf_id")->valuestring, "meta-llama/Llama-3.1-8B-Instruct");
        CU_ASSERT_EQUAL(cJSON_GetObjectItem(it, "num_layers")->valueint, 32);
        CU_ASSERT_EQUAL(cJSON_GetObjectItem(it, "max_position_embeddings")->valueint, 131072);
    }
    CU_ASSERT(found);
    cJSON_Delete(root);
    g_free(out);
    const char *h[] = {"list", "hardware", "--json", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(h, &out, NULL), 0);
    root = cJSON_Parse(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "hardware"), 0);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(first, "name")->valuestring, "H100-SXM");
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(first, "mem_gib")->valuedouble, 79.2, 1e-9); /* GiB, as the runtime sees it */
    cJSON_Delete(root);
    g_free(out);
    const char *t[] = {"list", "hardware", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(t, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "mem GiB");
    CU_ASSERT_PTR_NULL(strstr(out, "mem GB"));
    g_free(out);
    const char *n[] = {"list", "models", "--names", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(n, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "\nllama-3.1-8b-instruct\nmeta-llama/Llama-3.1-8B-Instruct\n");
    g_free(out);
    const char *both[] = {"list", "models", "--names", "--json", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(both, NULL, NULL), 2);
}

/* A sweep over rate and max_num_seqs whose name and description need escaping. */
static const char sweep_json[] =
    "{\"name\": \"<b>rates</b> & \\\"seqs\\\"\", \"description\": \"<script>alert('x')</script>\",\n"
    " \"base\": {\"model\": \"qwen2.5-1.5b-instruct\", \"workload\": {\"num_requests\": 80, \"arrival\": "
    "{\"process\": \"poisson\", \"rate\": 5}, \"classes\": [{\"name\": \"c\", \"share\": 1, \"input\": "
    "{\"dist\": \"constant\", \"value\": 300}, \"output\": {\"dist\": \"constant\", \"value\": 30}}]}},\n"
    " \"axes\": {\"rate\": [5, 20, 60], \"max_num_seqs\": [4, 64]}}";

static void test_sweep_page(void)
{
    char *path = ss_test_write_file("sw.json", sweep_json);
    char *dir = ss_test_tmpdir();
    char *odir = g_build_filename(dir, "out", "sweep", NULL);
    char *html = g_build_filename(dir, "page.html", NULL);
    char *err = NULL, *out = NULL;
    const char *args[] = {"sweep", path, "--output-dir", odir, "--html", html, "-j2", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(out, ""); /* the rows went to the folder */
    SS_ASSERT_CONTAINS(err, "/report.html");
    char *files[] = {"report.html", "sweep.csv", "sweep.json"};
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        char *f = g_build_filename(odir, files[i], NULL);
        CU_ASSERT(g_file_test(f, G_FILE_TEST_IS_REGULAR));
        g_free(f);
    }
    char *rep_path = g_build_filename(odir, "report.html", NULL);
    char *page = read_text(rep_path), *page2 = read_text(html);
    CU_ASSERT_PTR_NOT_NULL_FATAL(page);
    CU_ASSERT_STRING_EQUAL(page, page2);
    /* escaped, never raw */
    CU_ASSERT_PTR_NULL(strstr(page, "<script>"));
    CU_ASSERT_PTR_NULL(strstr(page, "<b>rates"));
    SS_ASSERT_CONTAINS(page, "<title>Sweep: &lt;b&gt;rates&lt;/b&gt; &amp; &quot;seqs&quot;</title>");
    SS_ASSERT_CONTAINS(page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    /* rate is the x axis; max_num_seqs makes two settings, one line each */
    SS_ASSERT_CONTAINS(page, "swept: rate (the x axis)");
    SS_ASSERT_CONTAINS(page, "p99 TTFT against throughput");
    SS_ASSERT_CONTAINS(page, "max_num_seqs=4");
    SS_ASSERT_CONTAINS(page, "max_num_seqs=64");
    CU_ASSERT_EQUAL(count(page, "<svg"), 8);
    CU_ASSERT_EQUAL(count(page, "<tr><td class=\"n\">"), 6); /* a row per point */
    CU_ASSERT_PTR_NULL(strstr(page, "Estimates:")); /* every point measured */
    /* the same rows draw the same page */
    const char *again[] = {"sweep", path, "--html", html, "-j1", "-q", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(again, NULL, NULL), 0);
    char *page3 = read_text(html);
    CU_ASSERT_STRING_EQUAL(page, page3);
    g_free(page);
    g_free(page2);
    g_free(page3);
    g_free(rep_path);
    g_free(out);
    g_free(err);
    /* no numeric axis: bars */
    char *cat = ss_test_write_file("cat.json", "{\"base\": {\"model\": \"qwen2.5-1.5b-instruct\"}, "
                                               "\"axes\": {\"hardware\": [\"H100-SXM\", \"L40S\"], "
                                               "\"num_requests\": [30]}}");
    const char *bars[] = {"sweep", cat, "--html", html, "-q", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(bars, NULL, NULL), 0);
    page = read_text(html);
    SS_ASSERT_CONTAINS(page, "hardware=L40S");
    CU_ASSERT_EQUAL(count(page, "<svg"), 4);
    /* the step times of each point named, the L40S's an estimate */
    SS_ASSERT_CONTAINS(page, "<dt>step times</dt><dd>roofline-v2, kernel tables measured on the GPU (1 point); "
                             "roofline-v2, transferred from H100-SXM: an estimate (1 point)</dd>");
    SS_ASSERT_CONTAINS(page, "<p class=\"warn\"><strong>Estimates:</strong>");
    SS_ASSERT_CONTAINS(page, "<td class=\"n\">transferred from H100-SXM (an estimate)</td>");
    g_free(page);
    g_free(cat);
    g_free(html);
    g_free(odir);
    g_free(dir);
    g_free(path);
}

static const char plan_json[] =
    "{\"base\": {\"model\": \"qwen2.5-1.5b-instruct\", \"workload\": {\"num_requests\": 100, \"arrival\": "
    "{\"process\": \"poisson\", \"rate\": 5}, \"classes\": [{\"name\": \"c\", \"share\": 1, \"input\": {\"dist\": "
    "\"constant\", \"value\": 500}, \"output\": {\"dist\": \"constant\", \"value\": 50}}]}},\n"
    " \"target_rate\": 10, \"slos\": [{\"metric\": \"ttft\", \"percentile\": \"p99\", \"max_ms\": 3000}],\n"
    " \"candidates\": {\"grid\": {\"hardware\": [\"H100-SXM\", \"L40S\"], \"max_num_seqs\": [8, 64]}},\n"
    " \"prices\": {\"H100-SXM\": 3, \"L40S\": 1},\n"
    " \"search\": {\"num_requests\": 100, \"max_rate\": 100, \"tolerance\": 0.1, \"curve_points\": 2}}";

static void test_plan_names_and_set(void)
{
    char *path = ss_test_write_file("plan.json", plan_json);
    char *dir = ss_test_tmpdir();
    char *out = NULL, *err = NULL;
    const char *args[] = {"plan", path, "-o", dir, "-j2", "--set", "target_rate=25", "--set",
                          "search.num_requests=120", "--set", "max_model_len=4096", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, &out, &err), 0);
    /* the grid's settings that differ are in every name; none is cut */
    SS_ASSERT_CONTAINS(out, "H100-SXM TP1 max_num_seqs=8 ");
    SS_ASSERT_CONTAINS(out, "H100-SXM TP1 max_num_seqs=64 ");
    SS_ASSERT_CONTAINS(out, "L40S TP1 max_num_seqs=8 ");
    SS_ASSERT_CONTAINS(out, "plan plan: 25 requests/s");
    char *pj = g_build_filename(dir, "plan.json", NULL);
    char *text = read_text(pj);
    cJSON *root = cJSON_Parse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(root, "target_rate")->valuedouble, 25);
    cJSON_Delete(root);
    g_free(text);
    g_free(pj);
    g_free(out);
    g_free(err);
    /* bad overrides */
    const char *bad1[] = {"plan", path, "--set", "nonsense=1", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(bad1, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "--set nonsense: unknown key");
    g_free(err);
    const char *bad2[] = {"plan", path, "--set", "target_rate", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(bad2, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "--set 'target_rate': expected KEY=VALUE");
    g_free(err);
    const char *bad3[] = {"plan", path, "--set", "search.tolerance=7", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(bad3, NULL, &err), 3);
    SS_ASSERT_CONTAINS(err, "plan.json (with --set): search.tolerance: expected a number > 0 and <= 0.5, got 7");
    g_free(err);
    const char *bad4[] = {"plan", path, "--set", "slos[3].max_ms=10", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(bad4, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "--set slos[3].max_ms: [3]: no such entry (the list has 1)");
    g_free(err);
    /* two candidates with the same explicit name */
    char *dup = ss_test_write_file("dup.json", "{\"base\": {}, \"target_rate\": 1, \"slos\": [{\"metric\": \"ttft\", "
                                               "\"max_ms\": 1000}], \"candidates\": [{\"name\": \"a\"}, "
                                               "{\"name\": \"a\", \"max_num_seqs\": 8}], \"prices\": "
                                               "{\"H100-SXM\": 1}}");
    const char *d[] = {"plan", dup, NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(d, NULL, &err), 3);
    SS_ASSERT_CONTAINS(err, "candidates[1].name: \"a\" is already the name of candidates[0]");
    g_free(err);
    g_free(dup);
    g_free(dir);
    g_free(path);
}

static void test_summary_and_help(void)
{
    char *out = NULL;
    const char *args[] = {"run", "--num-requests", "50", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "a step was running");
    SS_ASSERT_CONTAINS(out, "not GPU utilisation");
    SS_ASSERT_CONTAINS(out, "of the token budget");
    SS_ASSERT_CONTAINS(out, "GiB of weights");
    CU_ASSERT_PTR_NULL(strstr(out, " GB"));
    g_free(out);
    /* engine flags in the main --help of each command that takes them */
    const char *cmds[] = {"run", "replay", "validate"};
    for (gsize i = 0; i < G_N_ELEMENTS(cmds); i++) {
        const char *h[] = {cmds[i], "--help", NULL};
        CU_ASSERT_EQUAL(ss_test_run_servesim(h, &out, NULL), 0);
        SS_ASSERT_CONTAINS(out, "--max-num-seqs=N");
        SS_ASSERT_CONTAINS(out, "--latency-model=NAME");
        SS_ASSERT_CONTAINS(out, "--latency-param=NAME=VALUE");
        SS_ASSERT_CONTAINS(out, "roofline-v2, roofline-v1 or auto");
        g_free(out);
    }
}

/* Every long flag of every command's --help is in the manual page. */
static void test_man_page_lists_every_flag(void)
{
    char *man_path = g_build_filename(ss_test_source_dir(), "docs", "servesim.1", NULL);
    char *src = read_text(man_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    /* roff to plain text, enough to find flags: "\-" is "-", "\fB" etc. go */
    GString *man = g_string_new(NULL);
    for (const char *p = src; *p; p++) {
        if (p[0] == '\\' && p[1] == '-') {
            g_string_append_c(man, '-');
            p++;
        } else if (p[0] == '\\' && p[1] == 'f' && p[2]) {
            p += 2;
        } else {
            g_string_append_c(man, *p);
        }
    }
    const char *cmds[] = {"run", "replay", "step", "validate", "calibrate", "sweep", "merge", "plan", "list"};
    guint flags = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(cmds); i++) {
        char *out = NULL;
        const char *h[] = {cmds[i], "--help", NULL};
        CU_ASSERT_EQUAL(ss_test_run_servesim(h, &out, NULL), 0);
        char *cmd_line = g_strdup_printf("servesim %s", cmds[i]);
        SS_ASSERT_CONTAINS(man->str, cmd_line);
        g_free(cmd_line);
        char **lines = g_strsplit(out, "\n", -1);
        for (char **l = lines; *l; l++) {
            const char *start = *l + strspn(*l, " ");
            char *dd = strstr(*l, "--");
            if (!dd || start[0] != '-') /* only option lines: "  -j, --jobs=N ..." */
                continue;
            gsize n = strspn(dd + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
            char *flag = g_strndup(dd, n + 2);
            if (strcmp(flag, "--help") != 0) {
                if (!strstr(man->str, flag))
                    fprintf(stderr, "\n  docs/servesim.1 lacks %s of servesim %s\n", flag, cmds[i]);
                CU_ASSERT_PTR_NOT_NULL(strstr(man->str, flag));
                flags++;
            }
            g_free(flag);
        }
        g_strfreev(lines);
        g_free(out);
    }
    CU_ASSERT(flags > 80);
    const char *sections[] = {"EXIT STATUS", "ENVIRONMENT", "FILE FORMATS", "SERVESIM_DATA"};
    for (gsize i = 0; i < G_N_ELEMENTS(sections); i++)
        SS_ASSERT_CONTAINS(man->str, sections[i]);
    g_string_free(man, TRUE);
    g_free(src);
    g_free(man_path);
}

static void test_data_folder(void)
{
    char *err = NULL;
    char *dir = ss_test_tmpdir();
    const char *bad[] = {"list", "models", "--data-dir", dir, NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(bad, NULL, &err), 3);
    SS_ASSERT_CONTAINS(err, "not a servesim data folder (no hardware.json in it)");
    g_free(err);
    /* $SERVESIM_DATA names the folder (the build tree's binary has none next to it) */
    char *out = NULL;
    g_setenv("SERVESIM_DATA", ss_test_data_dir(), TRUE);
    const char *ok[] = {"list", "models", "--names", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(ok, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "qwen3-8b");
    g_free(out);
    g_unsetenv("SERVESIM_DATA");
    g_free(dir);
}

static const SsTestCase cases[] = {
    {"list --json and --names", test_list},
    {"sweep --html and --output-dir", test_sweep_page},
    {"plan names and --set", test_plan_names_and_set},
    {"summary words and --help", test_summary_and_help},
    {"the manual page lists every flag", test_man_page_lists_every_flag},
    {"data folder", test_data_folder},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"cli_outputs", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
