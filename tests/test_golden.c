/*
 * test_golden.c: golden scenarios. Each scenarios/golden/NAME.json is run by
 * the servesim binary and the metrics listed in NAME.expected.json must match
 * (counts exactly, other numbers within a relative 1e-6): a change of
 * behaviour anywhere (scheduler, step time, workload, metrics) shows here.
 *
 * When a change is meant to move these numbers, regenerate them and say why
 * in the commit:
 *   SERVESIM_UPDATE_GOLDEN=1 build/tests/test_golden
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "ss_test.h"

/* The metrics a golden file pins (dotted paths into the run's JSON). */
static const char *const golden_metrics[] = {
    "arrived", "completed", "rejected", "rejected_too_long", "rejected_no_blocks", "preemptions",
    "preempted_requests", "steps", "prefix_hit_tokens", "scenario.engine.num_gpu_blocks",
    "ttft_ms.mean", "ttft_ms.p50", "ttft_ms.p99", "tpot_ms.mean", "tpot_ms.p90", "itl_ms.p50",
    "e2e_ms.mean", "e2e_ms.p90", "queue_ms.mean", "output_tokens_per_s", "duration_s",
    "kv_usage_mean", "kv_usage_peak", "batch_size_mean", NULL,
};

static const cJSON *dotted(const cJSON *root, const char *path)
{
    char **parts = g_strsplit(path, ".", -1);
    const cJSON *v = root;
    for (char **p = parts; *p && v; p++)
        v = cJSON_GetObjectItemCaseSensitive(v, *p);
    g_strfreev(parts);
    return v;
}

static cJSON *run_json(const char *scenario)
{
    char *dir = ss_test_tmpdir();
    char *out = g_build_filename(dir, "out.json", NULL);
    const char *args[] = {"run", scenario, "--quiet", "--output-json", out, NULL};
    char *err = NULL;
    int rc = ss_test_run_servesim(args, NULL, &err);
    if (rc != 0)
        fprintf(stderr, "\n  %s: exit %d: %s\n", scenario, rc, err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(out, &text, NULL, NULL));
    cJSON *root = cJSON_Parse(text);
    g_free(text);
    g_free(err);
    g_free(out);
    g_free(dir);
    return root;
}

static void check_one(const char *scenario, const char *expected_path, gboolean update)
{
    cJSON *got = run_json(scenario);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    if (update) {
        cJSON *exp = cJSON_CreateObject();
        char *base = g_path_get_basename(scenario);
        cJSON_AddStringToObject(exp, "scenario", base);
        g_free(base);
        cJSON *m = cJSON_AddObjectToObject(exp, "metrics");
        for (const char *const *k = golden_metrics; *k; k++) {
            const cJSON *v = dotted(got, *k);
            CU_ASSERT_FATAL(cJSON_IsNumber(v));
            cJSON_AddNumberToObject(m, *k, v->valuedouble);
        }
        char *text = cJSON_Print(exp);
        char *with_nl = g_strdup_printf("%s\n", text);
        CU_ASSERT(g_file_set_contents(expected_path, with_nl, -1, NULL));
        fprintf(stderr, "\n  updated %s\n", expected_path);
        g_free(with_nl);
        cJSON_free(text);
        cJSON_Delete(exp);
        cJSON_Delete(got);
        return;
    }
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(expected_path, &text, NULL, NULL));
    cJSON *exp = cJSON_Parse(text);
    g_free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(exp);
    const cJSON *metrics = cJSON_GetObjectItem(exp, "metrics");
    CU_ASSERT_FATAL(cJSON_GetArraySize(metrics) >= 20);
    for (const cJSON *e = metrics->child; e; e = e->next) {
        const cJSON *v = dotted(got, e->string);
        CU_ASSERT_FATAL(cJSON_IsNumber(v));
        double want = e->valuedouble, have = v->valuedouble;
        gboolean ok = fabs(have - want) <= 1e-6 * fmax(fabs(want), 1e-9);
        if (!ok)
            fprintf(stderr, "\n  %s: %s = %.10g, expected %.10g\n", scenario, e->string, have, want);
        CU_ASSERT(ok);
    }
    cJSON_Delete(exp);
    cJSON_Delete(got);
}

static void test_golden_scenarios(void)
{
    gboolean update = g_getenv("SERVESIM_UPDATE_GOLDEN") != NULL;
    char *dir = g_build_filename(ss_test_source_dir(), "scenarios", "golden", NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)))
        if (g_str_has_suffix(name, ".json") && !g_str_has_suffix(name, ".expected.json"))
            g_ptr_array_add(names, g_strdup(name));
    g_dir_close(d);
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    CU_ASSERT(names->len >= 4);
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        char *scenario = g_build_filename(dir, n, NULL);
        char *stem = g_strndup(n, strlen(n) - 5);
        char *expected = g_strdup_printf("%s/%s.expected.json", dir, stem);
        check_one(scenario, expected, update);
        g_free(expected);
        g_free(stem);
        g_free(scenario);
    }
    g_ptr_array_free(names, TRUE);
    g_free(dir);
}

static const SsTestCase cases[] = {
    {"golden scenarios reproduce their metrics", test_golden_scenarios},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"golden", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
