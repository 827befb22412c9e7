/*
 * test_wl_options.c: what the workload gives the engine options: a class's
 * priority and LoRA adapters (uniform or Zipf popularity, one adapter per
 * session), the trace columns priority and lora, and their errors.
 */
#include <math.h>
#include <string.h>

#include "ss_error.h"
#include "ss_test.h"
#include "wl.h"

static void one_class(WlSpec *spec, guint adapters, double zipf, gboolean sessions)
{
    wl_spec_init(spec);
    spec->arrival.kind = WL_ARRIVAL_POISSON;
    spec->arrival.rate = 10;
    spec->num_requests = 20000;
    spec->num_classes = 1;
    spec->classes = g_new0(WlClassSpec, 1);
    WlClassSpec *c = &spec->classes[0];
    c->name = g_strdup("tenant");
    c->share = 1;
    c->input.kind = WL_DIST_CONSTANT;
    c->input.value = 100;
    c->output.kind = WL_DIST_CONSTANT;
    c->output.value = 10;
    c->priority = -3;
    c->lora_adapters = adapters;
    c->lora_zipf = zipf;
    if (sessions) {
        c->multi_turn = TRUE;
        c->session.turns.kind = WL_DIST_CONSTANT;
        c->session.turns.value = 4;
        c->session.new_tokens.kind = WL_DIST_CONSTANT;
        c->session.new_tokens.value = 20;
        c->session.think_s.kind = WL_DIST_CONSTANT;
        c->session.think_s.value = 1;
    }
}

static void test_class_adapters(void)
{
    WlSpec spec;
    one_class(&spec, 10, 1.0, FALSE);
    GError *error = NULL;
    WlSource *src = wl_source_new_synthetic(&spec, 5, &error);
    g_assert_no_error(error);
    CU_ASSERT_EQUAL(wl_source_num_adapters(src), 10);
    CU_ASSERT_STRING_EQUAL(wl_source_adapter_name(src, 1), "tenant-1");
    CU_ASSERT_STRING_EQUAL(wl_source_adapter_name(src, 10), "tenant-10");
    guint counts[11] = {0};
    WlRequest r;
    guint n = 0;
    while (wl_source_next(src, &r, &error) == 1) {
        CU_ASSERT(r.lora_id >= 1 && r.lora_id <= 10);
        CU_ASSERT_EQUAL(r.priority, -3);
        counts[r.lora_id]++;
        n++;
    }
    /* Zipf(1): adapter i has weight 1/i of H(10) = 2.929 */
    double h = 0;
    for (int i = 1; i <= 10; i++)
        h += 1.0 / i;
    for (int i = 1; i <= 10; i++) {
        double p = 1.0 / i / h, got = (double)counts[i] / n;
        CU_ASSERT(fabs(got - p) < 4 * sqrt(p * (1 - p) / n) + 1e-9);
    }
    wl_source_free(src);
    wl_spec_clear(&spec);

    /* uniform, and one adapter per session (every turn keeps it) */
    one_class(&spec, 4, 0.0, TRUE);
    src = wl_source_new_synthetic(&spec, 5, &error);
    g_assert_no_error(error);
    GHashTable *of = g_hash_table_new(g_int64_hash, g_int64_equal);
    guint64 *keys = g_new(guint64, 20000);
    guint k = 0, mismatched = 0;
    while (wl_source_next(src, &r, &error) == 1) {
        keys[k] = r.session_id;
        gpointer seen = g_hash_table_lookup(of, &keys[k]);
        if (seen)
            mismatched += GPOINTER_TO_UINT(seen) != r.lora_id;
        else
            g_hash_table_insert(of, &keys[k], GUINT_TO_POINTER(r.lora_id));
        k++;
    }
    CU_ASSERT_EQUAL(mismatched, 0);
    CU_ASSERT(g_hash_table_size(of) > 1000);
    g_hash_table_destroy(of);
    g_free(keys);
    wl_source_free(src);
    wl_spec_clear(&spec);

    /* errors */
    one_class(&spec, 2, -1.0, FALSE);
    CU_ASSERT_FALSE(wl_spec_validate(&spec, "w.json", &error));
    CU_ASSERT(error && strstr(error->message, "lora.zipf"));
    g_clear_error(&error);
    wl_spec_clear(&spec);
}

static void test_trace_columns(void)
{
    char *path = ss_test_write_file("t.csv", "arrival_time_s,input_tokens,output_tokens,priority,lora,class\n"
                                             "0,100,10,-1,sql,a\n"
                                             "0.5,100,10,,,a\n"
                                             "1,100,10,7, chat ,b\n"
                                             "2,100,10,0,sql,b\n");
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, NULL, &error);
    g_assert_no_error(error);
    WlRequest r;
    int32_t prio[4];
    uint32_t lora[4];
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL_FATAL(wl_source_next(src, &r, &error), 1);
        prio[i] = r.priority;
        lora[i] = r.lora_id;
    }
    CU_ASSERT_EQUAL(prio[0], -1);
    CU_ASSERT_EQUAL(prio[1], 0);
    CU_ASSERT_EQUAL(prio[2], 7);
    CU_ASSERT_EQUAL(lora[0], 1);
    CU_ASSERT_EQUAL(lora[1], 0);
    CU_ASSERT_EQUAL(lora[2], 2);
    CU_ASSERT_EQUAL(lora[3], 1);
    CU_ASSERT_EQUAL(wl_source_num_adapters(src), 2);
    CU_ASSERT_STRING_EQUAL(wl_source_adapter_name(src, 2), "chat"); /* trimmed */
    wl_source_free(src);
    g_free(path);
    path = ss_test_write_file("bad.csv", "arrival_time_s,input_tokens,output_tokens,priority\n0,100,10,1.5\n");
    src = wl_source_new_trace(path, NULL, &error); /* the first row is read at once (its time format) */
    CU_ASSERT_PTR_NULL(src);
    CU_ASSERT(error && strstr(error->message, "bad.csv:2:4: column 'priority': expected an integer"));
    g_clear_error(&error);
    wl_source_free(src);
    g_free(path);
    /* a renamed column, read after a sort */
    path = ss_test_write_file("mapped.csv", "t,in,out,prio,adapter\n1,100,10,3,b\n0,100,10,-2,a\n");
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.sort = TRUE;
    CU_ASSERT_TRUE_FATAL(wl_trace_columns_parse("arrival=t,input=in,output=out,priority=prio,lora=adapter",
                                                &o.columns, &error));
    src = wl_source_new_trace(path, &o, &error);
    g_assert_no_error(error);
    CU_ASSERT_EQUAL_FATAL(wl_source_next(src, &r, &error), 1);
    CU_ASSERT_EQUAL(r.priority, -2);
    CU_ASSERT_STRING_EQUAL(wl_source_adapter_name(src, r.lora_id), "a");
    CU_ASSERT_EQUAL_FATAL(wl_source_next(src, &r, &error), 1);
    CU_ASSERT_EQUAL(r.priority, 3);
    CU_ASSERT_STRING_EQUAL(wl_source_adapter_name(src, r.lora_id), "b");
    wl_source_free(src);
    g_free(path);
}

static const SsTestCase cases[] = {
    {"class priority and LoRA adapters (Zipf, uniform, per session)", test_class_adapters},
    {"trace columns priority and lora", test_trace_columns},
    {NULL, NULL}};

static const SsTestSuite suites[] = {{"workload options", cases}, {NULL, NULL}};

int main(int argc, char **argv) { return ss_test_main(argc, argv, suites); }
