/*
 * test_report_escape.c: a capacity plan whose every user-provided string is
 * markup (plan name and description, candidate names, the trace's folder and
 * file names, which reach the report through the workload description and
 * through an infeasible candidate's error) renders as text: report.html
 * holds no element the user wrote (no <script>, no <img>), report.md
 * escapes it, plan.json keeps it as a JSON string. The whole command path is
 * tested, from the plan file to the three files.
 */
#include <cjson/cJSON.h>

#include "ss_test.h"

#define SCRIPT "<script>alert('x')</script>"
#define IMG "<img src=x onerror=alert(1)>"

static char *read_text(const char *path)
{
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* Whether `html` has an element named `tag` (case-insensitive "<tag"). */
static gboolean has_element(const char *html, const char *tag)
{
    char *lower = g_ascii_strdown(html, -1);
    char *needle = g_strdup_printf("<%s", tag);
    gboolean found = strstr(lower, needle) != NULL;
    g_free(needle);
    g_free(lower);
    return found;
}

static void test_markup_in_every_string(void)
{
    char *root = ss_test_tmpdir();
    char *folder = g_build_filename(root, "<script>alert(1)", NULL);
    CU_ASSERT_EQUAL_FATAL(g_mkdir_with_parents(folder, 0755), 0);
    char *trace = g_build_filename(folder, IMG ".csv", NULL);
    GString *rows = g_string_new("arrival_time_s,input_tokens,output_tokens\n");
    for (int i = 0; i < 120; i++)
        g_string_append_printf(rows, "%.2f,%d,%d\n", i * 0.2, 200 + 13 * (i % 7), 20 + 3 * (i % 5));
    CU_ASSERT_FATAL(g_file_set_contents(trace, rows->str, -1, NULL));
    g_string_free(rows, TRUE);

    cJSON *plan = cJSON_CreateObject();
    cJSON_AddStringToObject(plan, "name", "plan " SCRIPT);
    cJSON_AddStringToObject(plan, "description", "for " IMG " & <b>bold</b> \"quoted\"");
    cJSON *base = cJSON_AddObjectToObject(plan, "base");
    cJSON_AddStringToObject(base, "model", "llama-3.1-8b");
    cJSON *t = cJSON_AddObjectToObject(cJSON_AddObjectToObject(base, "workload"), "trace");
    cJSON_AddStringToObject(t, "path", trace);
    cJSON_AddNumberToObject(t, "rate", 2);
    cJSON_AddNumberToObject(plan, "target_rate", 4);
    cJSON *slo = cJSON_CreateObject();
    cJSON_AddStringToObject(slo, "metric", "ttft");
    cJSON_AddNumberToObject(slo, "max_ms", 2000);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(plan, "slos"), slo);
    cJSON *cands = cJSON_AddArrayToObject(plan, "candidates");
    cJSON *c1 = cJSON_CreateObject();
    cJSON_AddStringToObject(c1, "name", "winner " SCRIPT);
    cJSON_AddItemToArray(cands, c1);
    cJSON *c2 = cJSON_CreateObject(); /* infeasible: its error names a file with markup */
    cJSON_AddStringToObject(c2, "name", IMG);
    char *missing = g_build_filename(folder, SCRIPT ".csv", NULL);
    cJSON *w2 = cJSON_AddObjectToObject(cJSON_AddObjectToObject(c2, "workload"), "trace");
    cJSON_AddStringToObject(w2, "path", missing);
    cJSON_AddItemToArray(cands, c2);
    cJSON *prices = cJSON_AddObjectToObject(plan, "prices");
    cJSON_AddNumberToObject(prices, "H100-SXM", 2.5);
    cJSON *search = cJSON_AddObjectToObject(plan, "search");
    cJSON_AddNumberToObject(search, "num_requests", 60);
    cJSON_AddNumberToObject(search, "max_rate", 50);
    cJSON_AddNumberToObject(search, "curve_points", 3);
    char *text = cJSON_Print(plan);
    cJSON_Delete(plan);
    char *plan_path = g_build_filename(root, "plan.json", NULL);
    CU_ASSERT_FATAL(g_file_set_contents(plan_path, text, -1, NULL));
    cJSON_free(text);

    char *out_dir = g_build_filename(root, "out", NULL);
    const char *args[] = {"plan", plan_path, "--output-dir", out_dir, "--quiet", "--jobs", "1", NULL};
    char *err = NULL;
    int rc = ss_test_run_servesim(args, NULL, &err);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    g_free(err);

    char *html_path = g_build_filename(out_dir, "report.html", NULL);
    char *html = read_text(html_path);
    CU_ASSERT(!has_element(html, "script"));
    CU_ASSERT(!has_element(html, "img"));
    CU_ASSERT(!has_element(html, "b>"));
    /* every string is there, as text */
    SS_ASSERT_CONTAINS(html, "plan &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    SS_ASSERT_CONTAINS(html, "for &lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot;");
    SS_ASSERT_CONTAINS(html, "winner &lt;script&gt;");
    SS_ASSERT_CONTAINS(html, "&lt;script&gt;alert(1)/&lt;img src=x onerror=alert(1)&gt;.csv"); /* the trace */
    SS_ASSERT_CONTAINS(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;.csv: cannot open"); /* the error */

    char *md_path = g_build_filename(out_dir, "report.md", NULL);
    char *md = read_text(md_path);
    for (const char *p = md; (p = strstr(p, "<script")) != NULL; p++)
        CU_ASSERT(p > md && p[-1] == '\\'); /* "\<script": text, not raw HTML */
    for (const char *p = md; (p = strstr(p, "<img")) != NULL; p++)
        CU_ASSERT(p > md && p[-1] == '\\');
    SS_ASSERT_CONTAINS(md, "winner \\<script>");

    char *json_path = g_build_filename(out_dir, "plan.json", NULL);
    char *json = read_text(json_path);
    cJSON *doc = cJSON_Parse(json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(doc, "name")->valuestring, "plan " SCRIPT);
    cJSON_Delete(doc);

    g_free(json);
    g_free(json_path);
    g_free(md);
    g_free(md_path);
    g_free(html);
    g_free(html_path);
    g_free(out_dir);
    g_free(plan_path);
    g_free(missing);
    g_free(trace);
    g_free(folder);
    g_free(root);
}

static const SsTestCase cases[] = {
    {"markup in every user string renders as text", test_markup_in_every_string},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"report escaping", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
