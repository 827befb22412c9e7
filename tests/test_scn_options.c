/*
 * test_scn_options.c: the engine options through scenarios and the command
 * line as a user meets them (docs/options/):
 *   - every option read from a scenario file, a flag and a sweep axis, and
 *     built into the memory plan, scheduler and step model (KV blocks by
 *     hand, sliding groups, the host tier's blocks, LoRA slots, the drafter;
 *     vLLM's async-scheduling default per speculative method);
 *   - bad values with clear messages and exit code 2 (flags) or 3 (files):
 *     k <= 0, an unknown method or quantization, an adapter beyond
 *     max_lora_rank, a priority under FCFS, an adapter without --enable-lora;
 *   - the same bytes twice with speculation (seeded), and per-class metrics
 *     under priority scheduling;
 *   - sweep and plan take the option fields; validate takes them from an
 *     experiment's engine object.
 */
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib/gstdio.h>

#include "scn.h"
#include "ss_error.h"
#include "ss_test.h"
#include "val_bench.h"
#include "val_validate.h"

static ScnCache *cache;

static ScnScenario *parse(const char *json)
{
    GError *error = NULL;
    ScnScenario *s = scn_scenario_parse(json, "s.json", ".", &error);
    if (error)
        fprintf(stderr, "\n  %s\n", error->message);
    g_assert_no_error(error);
    return s;
}

static gboolean build(const ScnScenario *s, ScnBuilt *b, GError **error)
{
    if (!cache)
        cache = scn_cache_new(ss_test_data_dir());
    return scn_build(s, cache, b, error);
}

static void test_read_and_build(void)
{
    ScnScenario *s = parse("{\"engine\": {\"quantization\": \"fp8\", \"kv_cache_dtype\": \"fp8\", \"max_num_seqs\": 256,"
                           " \"scheduling_policy\": \"priority\", \"speculative_config\": {\"method\": \"eagle3\","
                           " \"num_speculative_tokens\": 3, \"synthetic_acceptance_length\": 2.5},"
                           " \"kv_offloading_size\": 40, \"enable_lora\": true, \"max_loras\": 4,"
                           " \"max_lora_rank\": 32, \"lora_modules\": [\"sql\", {\"name\": \"chat\", \"rank\": 8}]}}");
    const ScnOptions *o = &s->options;
    CU_ASSERT_STRING_EQUAL(o->quantization, "fp8");
    CU_ASSERT_STRING_EQUAL(o->kv_cache_dtype, "fp8");
    CU_ASSERT_EQUAL(o->scheduling_policy, SCHED_POLICY_PRIORITY);
    CU_ASSERT(o->speculative && strcmp(o->spec_method, "eagle3") == 0 && o->num_speculative_tokens == 3);
    CU_ASSERT_EQUAL(o->num_lora_modules, 2);
    CU_ASSERT_EQUAL(o->lora_modules[1].rank, 8);
    ScnBuilt b;
    GError *error = NULL;
    CU_ASSERT_FATAL(build(s, &b, &error));
    CU_ASSERT(b.model->fp8_weights && b.model->kv_bytes == 1.0);
    CU_ASSERT_PTR_NOT_NULL(b.draft_model);
    /* one block: 16 tokens x K, V x (32 + the head's 1) layers x 8 x 128 x 1 byte */
    CU_ASSERT_DOUBLE_EQUAL(b.memory.block_bytes, 16.0 * 2 * 33 * 8 * 128, 0);
    CU_ASSERT_EQUAL(b.sched.num_gpu_blocks, (guint)b.memory.num_blocks);
    CU_ASSERT_DOUBLE_EQUAL(b.memory.extra_weight_bytes, 4 * lat_lora_adapter_bytes(b.model, 1, 32), 1.0);
    CU_ASSERT_EQUAL(b.sched.policy, SCHED_POLICY_PRIORITY);
    CU_ASSERT_EQUAL(b.sched.num_spec_tokens, 3);
    CU_ASSERT_EQUAL(b.sched.num_lookahead_tokens, 3);
    CU_ASSERT_DOUBLE_EQUAL(b.sched.spec_accept[0], 1.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(b.sched.spec_accept[1], 0.5, 1e-12);
    /* 40 GiB over one GPU in blocks of 1.08 MB */
    CU_ASSERT_EQUAL(b.sched.cpu_blocks, (guint)floor(40.0 * 1073741824.0 / b.memory.block_bytes));
    CU_ASSERT_EQUAL(b.sched.max_loras, 4);
    CU_ASSERT_EQUAL(b.sched.max_cpu_loras, 4);
    CU_ASSERT(b.latency.async_scheduling); /* EAGLE keeps async scheduling */
    scn_built_clear(&b);
    /* a copy is a deep copy */
    ScnScenario *c = scn_scenario_copy(s);
    scn_scenario_free(s);
    CU_ASSERT_STRING_EQUAL(c->options.lora_modules[0].name, "sql");
    scn_scenario_free(c);

    /* vLLM turns async scheduling off for ngram and draft-model speculation */
    s = parse("{\"engine\": {\"speculative_config\": {\"method\": \"ngram\", \"num_speculative_tokens\": 4,"
              " \"prompt_lookup_max\": 4, \"acceptance_rate\": 0.5}}}");
    CU_ASSERT_FATAL(build(s, &b, &error));
    CU_ASSERT_FALSE(b.latency.async_scheduling);
    CU_ASSERT_PTR_NULL(b.draft_model); /* ngram drafts on the CPU */
    CU_ASSERT_EQUAL(b.sched.num_lookahead_tokens, 0);
    scn_built_clear(&b);
    scn_scenario_free(s);
    s = parse("{\"engine\": {\"speculative_config\": {\"method\": \"draft_model\", \"model\": \"qwen2.5-1.5b-instruct\","
              " \"num_speculative_tokens\": 4, \"acceptance_rate\": 0.6}}, \"model\": \"qwen2.5-7b-instruct\"}");
    CU_ASSERT_FATAL(build(s, &b, &error));
    CU_ASSERT_FALSE(b.latency.async_scheduling);
    CU_ASSERT_STRING_EQUAL(b.draft_model->name, "qwen2.5-1.5b-instruct");
    CU_ASSERT_DOUBLE_EQUAL(b.memory.draft_weight_bytes, lat_model_weight_bytes_per_gpu(b.draft_model, 1), 1.0);
    scn_built_clear(&b);
    scn_scenario_free(s);

    /* sliding windows: Gemma-3's hybrid groups reach the scheduler */
    s = parse("{\"model\": \"gemma-3-27b-it\", \"engine\": {\"max_model_len\": 16384}}");
    CU_ASSERT_FATAL(build(s, &b, &error));
    CU_ASSERT_EQUAL(b.sched.kv_groups_sliding, 6);
    CU_ASSERT_EQUAL(b.sched.sliding_window, 1024);
    scn_built_clear(&b);
    scn_scenario_free(s);
    s = parse("{\"model\": \"gemma-3-27b-it\", \"engine\": {\"max_model_len\": 32768}}");
    /* 2048 full-group blocks and 6 x 577 sliding ones (the window and a step of 8192 tokens) of 7189 */
    CU_ASSERT_FATAL(build(s, &b, &error));
    scn_built_clear(&b);
    scn_scenario_free(s);
    s = parse("{\"model\": \"gemma-3-27b-it\", \"engine\": {\"max_model_len\": 32768, "
              "\"disable_hybrid_kv_cache_manager\": true}}");
    CU_ASSERT_FALSE(build(s, &b, &error)); /* all 62 layers in every block: 32k tokens do not fit */
    CU_ASSERT(error && strstr(error->message, "max_model_len 32768"));
    g_clear_error(&error);
    scn_scenario_free(s);
    s = parse("{\"model\": \"gemma-3-27b-it\", \"engine\": {\"disable_sliding_window\": true}}");
    CU_ASSERT_FATAL(build(s, &b, &error));
    CU_ASSERT_EQUAL(b.sched.max_model_len, 1024); /* vLLM caps it at the window */
    CU_ASSERT_EQUAL(b.sched.kv_groups_sliding, 0);
    scn_built_clear(&b);
    scn_scenario_free(s);
}

/* A fleet pool's engine override may set options: each pool serves the
 * model its own way (weights, KV bytes, blocks). */
static void test_pool_options(void)
{
    ScnScenario *s = parse("{\"fleet\": {\"pools\": ["
                           "{\"name\": \"bf16\", \"count\": 1},"
                           "{\"name\": \"fp8\", \"count\": 2, \"engine\": {\"quantization\": \"fp8\","
                           " \"kv_cache_dtype\": \"fp8\"}}]}}");
    ScnBuilt b;
    GError *error = NULL;
    CU_ASSERT_FATAL(build(s, &b, &error));
    CU_ASSERT_EQUAL_FATAL(b.num_pools, 2);
    CU_ASSERT_FALSE(b.pools[0].model->fp8_weights);
    CU_ASSERT(b.pools[1].model->fp8_weights && b.pools[1].model->kv_bytes == 1.0);
    CU_ASSERT_PTR_EQUAL(b.model, b.pools[0].model);
    /* FP8 weights free memory and FP8 KV halves a block: more than twice the blocks */
    CU_ASSERT(b.pools[1].sched.num_gpu_blocks > 2 * b.pools[0].sched.num_gpu_blocks);
    CU_ASSERT_DOUBLE_EQUAL(b.pools[1].memory.block_bytes, b.pools[0].memory.block_bytes / 2, 0);
    scn_built_clear(&b);
    scn_scenario_free(s);
    /* a bad option in a pool names the pool */
    s = parse("{\"fleet\": {\"pools\": [{\"name\": \"a\", \"count\": 1},"
              "{\"name\": \"q\", \"count\": 1, \"engine\": {\"quantization\": \"compressed-tensors\"}}]}}");
    CU_ASSERT_FALSE(build(s, &b, &error));
    CU_ASSERT(error && strstr(error->message, "fleet.pools[1] (q)") && strstr(error->message, "compressed-tensors"));
    g_clear_error(&error);
    scn_scenario_free(s);
}

static void expect_error(const char *json, int code, const char *needle)
{
    GError *error = NULL;
    ScnScenario *s = scn_scenario_parse(json, "s.json", ".", &error);
    if (s) { /* some errors come when the scenario is built */
        ScnBuilt b;
        CU_ASSERT_FALSE(build(s, &b, &error));
        scn_scenario_free(s);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    if (!strstr(error->message, needle) || error->code != code)
        fprintf(stderr, "\n  expected code %d with \"%s\", got %d: %s\n", code, needle, error->code, error->message);
    CU_ASSERT(strstr(error->message, needle) != NULL);
    CU_ASSERT_EQUAL(error->code, code);
    g_error_free(error);
}

static void test_file_errors(void)
{
    expect_error("{\"engine\": {\"quantization\": \"int3\"}}", SS_ERROR_INPUT, "engine.quantization: expected one of fp8");
    expect_error("{\"engine\": {\"kv_cache_dtype\": \"fp4\"}}", SS_ERROR_INPUT, "engine.kv_cache_dtype");
    expect_error("{\"engine\": {\"speculative_config\": {\"method\": \"eagle\", \"num_speculative_tokens\": 0, "
                 "\"acceptance_rate\": 0.5}}}",
                 SS_ERROR_INPUT, "num_speculative_tokens");
    expect_error("{\"engine\": {\"speculative_config\": {\"method\": \"lookahead\", \"num_speculative_tokens\": 2, "
                 "\"acceptance_rate\": 0.5}}}",
                 SS_ERROR_INPUT, "expected ngram, eagle, eagle3, mtp or draft_model");
    expect_error("{\"engine\": {\"speculative_config\": {\"method\": \"medusa\", \"num_speculative_tokens\": 2, "
                 "\"acceptance_rate\": 0.5}}}",
                 SS_ERROR_INPUT, "not modelled");
    expect_error("{\"engine\": {\"speculative_config\": {\"method\": \"eagle\", \"num_speculative_tokens\": 2}}}",
                 SS_ERROR_INPUT, "exactly one acceptance model");
    expect_error("{\"engine\": {\"speculative_config\": {\"method\": \"eagle\", \"num_speculative_tokens\": 2, "
                 "\"synthetic_acceptance_length\": 3.5}}}",
                 SS_ERROR_INPUT, "at most num_speculative_tokens + 1");
    expect_error("{\"engine\": {\"speculative_config\": {\"method\": \"eagle\", \"num_speculative_tokens\": 2, "
                 "\"synthetic_acceptance_rates\": [0.5]}}}",
                 SS_ERROR_INPUT, "expected 2 probabilities");
    expect_error("{\"engine\": {\"speculative_config\": {\"method\": \"eagle\", \"num_speculative_tokens\": 2, "
                 "\"acceptance_rate\": 0.5, \"speculative_tokens\": 3}}}",
                 SS_ERROR_INPUT, "unknown key 'speculative_tokens'");
    expect_error("{\"engine\": {\"num_speculative_tokens\": 3}}", SS_ERROR_INPUT, "has none");
    expect_error("{\"engine\": {\"max_lora_rank\": 48}}", SS_ERROR_INPUT, "320, 512, got 48");
    expect_error("{\"engine\": {\"scheduling_policy\": \"lifo\"}}", SS_ERROR_INPUT, "fcfs, priority");
    expect_error("{\"engine\": {\"kv_offloading_backend\": \"disk\"}}", SS_ERROR_INPUT, "native, lmcache");
    expect_error("{\"engine\": {\"lora_modules\": [\"a\", \"a\"]}}", SS_ERROR_INPUT, "given twice");
    /* when built: */
    expect_error("{\"engine\": {\"enable_lora\": true, \"max_lora_rank\": 16, \"lora_modules\": [{\"name\": \"big\", "
                 "\"rank\": 64}]}}",
                 SS_ERROR_USAGE, "adapter 'big' has rank 64, more than --max-lora-rank 16");
    expect_error("{\"engine\": {\"max_loras\": 4}}", SS_ERROR_USAGE, "need --enable-lora");
    expect_error("{\"engine\": {\"kv_offloading_size\": 10, \"enable_prefix_caching\": false}}", SS_ERROR_USAGE,
                 "turn prefix caching on");
    expect_error("{\"model\": \"glm-5.2-fp8\", \"engine\": {\"quantization\": \"awq\"}}", SS_ERROR_USAGE,
                 "quantized with 'fp8'");
    expect_error("{\"engine\": {\"speculative_config\": {\"method\": \"draft_model\", \"model\": \"no-such-model\", "
                 "\"num_speculative_tokens\": 2, \"acceptance_rate\": 0.5}}}",
                 SS_ERROR_USAGE, "unknown model 'no-such-model'");
    expect_error("{\"engine\": {\"tensor_parallel_size\": 2, \"speculative_config\": {\"method\": \"draft_model\", "
                 "\"model\": \"qwen2.5-1.5b-instruct\", \"draft_tensor_parallel_size\": 4, \"num_speculative_tokens\": "
                 "2, \"acceptance_rate\": 0.5}}}",
                 SS_ERROR_USAGE, "expected 1 or the target's 2");
}

/* Runs servesim; returns stdout; the exit code must be `code`. */
static char *run(int code, char **err, const char *const *args)
{
    char *out = NULL, *e = NULL;
    int rc = ss_test_run_servesim(args, &out, &e);
    if (rc != code)
        fprintf(stderr, "\n  servesim %s: exit %d, expected %d; stderr: %s\n", args[1] ? args[1] : args[0], rc, code,
                e);
    CU_ASSERT_EQUAL(rc, code);
    if (err)
        *err = e;
    else
        g_free(e);
    return out;
}

static void test_flag_errors(void)
{
    static const struct {
        const char *flag, *value, *needle;
    } cases[] = {
        {"--quantization", "int3", "quantization"},
        {"--kv-cache-dtype", "fp4", "kv_cache_dtype"},
        {"--speculative-config", "{\"method\": \"eagle\", \"num_speculative_tokens\": -1, \"acceptance_rate\": 0.5}",
         "num_speculative_tokens"},
        {"--speculative-config", "{\"method\": \"foo\", \"num_speculative_tokens\": 2, \"acceptance_rate\": 0.5}",
         "expected ngram"},
        {"--speculative-config", "eagle", "expected a JSON object"},
        {"--max-lora-rank", "17", "got 17"},
        {"--scheduling-policy", "random", "fcfs, priority"},
        {"--kv-offloading-size", "big", "expected a number"},
        {"--lora-modules", "sql", "expected NAME=RANK"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *args[] = {"run", "--num-requests", "10", cases[i].flag, cases[i].value, "--quiet", NULL};
        char *err = NULL;
        g_free(run(2, &err, args));
        SS_ASSERT_CONTAINS(err, cases[i].needle);
        g_free(err);
    }
    const char *rank[] = {"run", "--num-requests", "10", "--enable-lora", "--lora-modules", "sql=64", "--quiet", NULL};
    char *err = NULL;
    g_free(run(2, &err, rank));
    SS_ASSERT_CONTAINS(err, "adapter 'sql' has rank 64");
    g_free(err);
    const char *step[] = {"step", "--model", "llama-3.1-8b", "--decode", "8x100", "--quantization", "gguf", NULL};
    g_free(run(2, &err, step));
    SS_ASSERT_CONTAINS(err, "quantization");
    g_free(err);
}

/* Workload data an option must accept: exit 3 with the request named. */
static void test_workload_errors(void)
{
    char *dir = ss_test_tmpdir();
    char *trace = g_build_filename(dir, "t.csv", NULL);
    CU_ASSERT_FATAL(g_file_set_contents(trace,
                                        "arrival_time_s,input_tokens,output_tokens,priority,lora\n"
                                        "0.0,100,10,0,\n0.1,100,10,2,\n",
                                        -1, NULL));
    const char *a1[] = {"replay", trace, "--quiet", NULL};
    char *err = NULL;
    g_free(run(3, &err, a1));
    SS_ASSERT_CONTAINS(err, "request 1 has priority 2, but the scheduling policy is fcfs");
    g_free(err);
    const char *a2[] = {"replay", trace, "--scheduling-policy", "priority", "--quiet", NULL};
    g_free(run(0, NULL, a2));
    CU_ASSERT_FATAL(g_file_set_contents(trace,
                                        "arrival_time_s,input_tokens,output_tokens,priority,lora\n"
                                        "0.0,100,10,0,sql\n0.1,100,10,x,\n",
                                        -1, NULL));
    const char *a3[] = {"replay", trace, "--quiet", NULL};
    g_free(run(3, &err, a3));
    SS_ASSERT_CONTAINS(err, "names LoRA adapter 'sql', but the server does not serve LoRA adapters");
    g_free(err);
    const char *a4[] = {"replay", trace, "--enable-lora", "--quiet", NULL};
    g_free(run(3, &err, a4));
    SS_ASSERT_CONTAINS(err, "t.csv:3:4: column 'priority': expected an integer");
    g_free(err);
    g_free(trace);
    g_free(dir);
}

static cJSON *run_json(const char *const *extra)
{
    char *dir = ss_test_tmpdir();
    char *out = g_build_filename(dir, "o.json", NULL);
    const char *args[24] = {"run", "--quiet", "--output-json", out};
    guint n = 4;
    for (const char *const *e = extra; *e && n < 23; e++)
        args[n++] = *e;
    args[n] = NULL;
    g_free(run(0, NULL, args));
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(out, &text, NULL, NULL));
    cJSON *j = cJSON_Parse(text);
    g_free(text);
    g_free(out);
    g_free(dir);
    return j;
}

static double num(const cJSON *root, const char *a, const char *b, const char *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c)
        v = cJSON_GetObjectItemCaseSensitive(v, c);
    CU_ASSERT_FATAL(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void test_runs(void)
{
    /* FP8 KV: twice the blocks of the default run, to the block */
    const char *base[] = {"--num-requests", "300", NULL};
    const char *f8[] = {"--num-requests", "300", "--kv-cache-dtype", "fp8", NULL};
    cJSON *a = run_json(base), *b = run_json(f8);
    double na = num(a, "scenario", "engine", "num_gpu_blocks"), nb = num(b, "scenario", "engine", "num_gpu_blocks");
    CU_ASSERT(nb == 2 * na || nb == 2 * na + 1);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(a, "options")); /* options off: nothing added */
    cJSON_Delete(a);
    cJSON_Delete(b);
    /* speculation: seeded, so the same bytes twice; its statistics are reported */
    const char *sp[] = {"--num-requests", "300", "--speculative-config",
                        "{\"method\": \"eagle3\", \"num_speculative_tokens\": 4, \"acceptance_rate\": 0.75}", NULL};
    a = run_json(sp);
    b = run_json(sp);
    char *ta = cJSON_Print(a), *tb = cJSON_Print(b);
    CU_ASSERT_STRING_EQUAL(ta, tb);
    double len = num(a, "options", "mean_acceptance_length", NULL);
    double want = 1 + 0.75 + 0.5625 + 0.421875 + 0.31640625;
    fprintf(stderr, "\n  simulated mean acceptance length %.4f, model %.4f", len, want);
    CU_ASSERT(fabs(len - want) < 0.05);
    g_free(ta);
    g_free(tb);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_priority_classes(void)
{
    char *path = ss_test_write_file(
        "prio.json",
        "{\"engine\": {\"scheduling_policy\": \"priority\", \"num_gpu_blocks_override\": 2500},"
        " \"workload\": {\"num_requests\": 1500, \"arrival\": {\"process\": \"poisson\", \"rate\": 30},"
        " \"classes\": [{\"name\": \"interactive\", \"share\": 0.3, \"priority\": 0,"
        " \"input\": {\"dist\": \"constant\", \"value\": 1000}, \"output\": {\"dist\": \"constant\", \"value\": 200}},"
        " {\"name\": \"batch\", \"share\": 0.7, \"priority\": 10,"
        " \"input\": {\"dist\": \"constant\", \"value\": 1000}, \"output\": {\"dist\": \"constant\", \"value\": 200}}]}}");
    const char *args[] = {path, NULL};
    cJSON *j = run_json(args);
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(j, "classes");
    double hi = num(cJSON_GetArrayItem(classes, 0), "ttft_ms", "p90", NULL);
    double lo = num(cJSON_GetArrayItem(classes, 1), "ttft_ms", "p90", NULL);
    fprintf(stderr, "\n  p90 TTFT: interactive (priority 0) %.0f ms, batch (priority 10) %.0f ms", hi, lo);
    CU_ASSERT(hi * 10 < lo);
    CU_ASSERT(num(j, "preemptions", NULL, NULL) > 0);
    cJSON_Delete(j);
    g_free(path);
}

static void test_sweep_and_plan(void)
{
    char *sweep = ss_test_write_file(
        "sweep.json", "{\"name\": \"opts\", \"base\": {\"seed\": 3, \"workload\": {\"num_requests\": 150, \"arrival\": "
                      "{\"process\": \"poisson\", \"rate\": 8}, \"classes\": [{\"name\": \"c\", \"share\": 1, \"input\": "
                      "{\"dist\": \"constant\", \"value\": 500}, \"output\": {\"dist\": \"constant\", \"value\": 100}}]}, "
                      "\"engine\": {\"speculative_config\": {\"method\": \"eagle\", \"num_speculative_tokens\": 2, "
                      "\"synthetic_acceptance_length\": 2.0}}}, \"axes\": {\"quantization\": [null, \"fp8\", \"awq\"], "
                      "\"kv_cache_dtype\": [\"auto\", \"fp8\"], \"num_speculative_tokens\": [1, 3]}}");
    char *dir = ss_test_tmpdir();
    char *out = g_build_filename(dir, "grid.csv", NULL);
    const char *args[] = {"sweep", sweep, "--output", out, "--quiet", "--jobs", "2", NULL};
    g_free(run(0, NULL, args));
    char *csv = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(out, &csv, NULL, NULL));
    char **lines = g_strsplit(csv, "\n", -1);
    guint rows = 0, ok = 0;
    for (char **l = lines + 1; *l && **l; l++, rows++)
        ok += strstr(*l, ",ok,") != NULL;
    CU_ASSERT_EQUAL(rows, 12);
    CU_ASSERT_EQUAL(ok, 12);
    g_strfreev(lines);
    g_free(csv);

    char *plan = ss_test_write_file(
        "plan.json",
        "{\"name\": \"p\", \"base\": {\"workload\": {\"num_requests\": 200, \"arrival\": {\"process\": \"poisson\", "
        "\"rate\": 4}, \"classes\": [{\"name\": \"c\", \"share\": 1, \"input\": {\"dist\": \"constant\", \"value\": "
        "800}, \"output\": {\"dist\": \"constant\", \"value\": 150}}]}}, \"target_rate\": 20, \"slos\": [{\"metric\": "
        "\"tpot\", \"percentile\": \"p99\", \"max_ms\": 40}], \"candidates\": [{\"name\": \"bf16\"}, {\"name\": "
        "\"fp8\", \"quantization\": \"fp8\", \"kv_cache_dtype\": \"fp8\"}], \"prices\": {\"H100-SXM\": 3}, \"search\": "
        "{\"min_rate\": 0.5, \"max_rate\": 100, \"tolerance\": 0.1, \"num_requests\": 200, \"curve_points\": 2}}");
    char *pdir = g_build_filename(dir, "plan", NULL);
    const char *pargs[] = {"plan", plan, "--output-dir", pdir, "--quiet", NULL};
    char *err = NULL;
    g_free(run(0, &err, pargs));
    g_free(err);
    char *md_path = g_build_filename(pdir, "plan.json", NULL);
    char *md = NULL;
    if (g_file_get_contents(md_path, &md, NULL, NULL)) {
        SS_ASSERT_CONTAINS(md, "fp8");
    } else {
        CU_FAIL("the plan wrote no plan.json");
    }
    g_free(md);
    g_free(md_path);
    g_free(pdir);
    g_free(plan);
    g_free(out);
    g_free(dir);
    g_free(sweep);
}

/* An experiment's engine object carries the options into validate. */
static void test_validate_options(void)
{
    char *src = g_build_filename(ss_test_data_dir(), "validation", "blis-h100-llama2-7b-train", NULL);
    char *dir = ss_test_tmpdir();
    char *exp = g_build_filename(dir, "exp", NULL);
    g_mkdir(exp, 0755);
    char *json_path = g_build_filename(src, "experiment.json", NULL);
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(json_path, &text, NULL, NULL));
    cJSON *root = cJSON_Parse(text);
    g_free(text);
    cJSON *eng = cJSON_GetObjectItemCaseSensitive(root, "engine");
    cJSON_AddStringToObject(eng, "kv_cache_dtype", "fp8");
    cJSON *points = cJSON_GetObjectItemCaseSensitive(root, "points");
    while (cJSON_GetArraySize(points) > 1)
        cJSON_DeleteItemFromArray(points, 1);
    const char *req = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(points, 0), "requests")->valuestring;
    char *req_src = g_build_filename(src, req, NULL), *req_dst = g_build_filename(exp, req, NULL);
    char *csv = NULL;
    gsize len = 0;
    CU_ASSERT_FATAL(g_file_get_contents(req_src, &csv, &len, NULL));
    CU_ASSERT_FATAL(g_file_set_contents(req_dst, csv, (gssize)len, NULL));
    char *out = cJSON_Print(root);
    char *dst = g_build_filename(exp, "experiment.json", NULL);
    CU_ASSERT_FATAL(g_file_set_contents(dst, out, -1, NULL));
    GError *error = NULL;
    ValExperiment *e = val_experiment_load(exp, &error);
    g_assert_no_error(error);
    CU_ASSERT_STRING_EQUAL(e->options.kv_cache_dtype, "fp8");
    val_experiment_free(e);
    const char *args[] = {"validate", exp, "--json", NULL};
    char *vout = run(0, NULL, args);
    SS_ASSERT_CONTAINS(vout, "\"num_gpu_blocks\":\t7438"); /* the logged count is still given */
    g_free(vout);
    /* a bad option in an experiment: exit 3 naming the file */
    cJSON_AddStringToObject(eng, "quantization", "int2");
    g_free(out);
    out = cJSON_Print(root);
    CU_ASSERT_FATAL(g_file_set_contents(dst, out, -1, NULL));
    char *err = NULL;
    g_free(run(3, &err, args));
    SS_ASSERT_CONTAINS(err, "engine.quantization");
    g_free(err);
    cJSON_Delete(root);
    g_free(csv);
    g_free(req_src);
    g_free(req_dst);
    g_free(out);
    g_free(dst);
    g_free(json_path);
    g_free(exp);
    g_free(dir);
    g_free(src);
}

/* A vllm bench result's deployment takes the option flags, and its points run with them. */
static void test_validate_bench_options(void)
{
    char *path = g_build_filename(ss_test_data_dir(), "examples", "vllm-bench-llama2-7b-h100.json", NULL);
    ScnScenario *s = scn_scenario_new_default();
    GError *error = NULL;
    CU_ASSERT_TRUE(scn_scenario_set(s, "kv_cache_dtype", "\"fp8\"", "test", &error));
    g_assert_no_error(error);
    ValExperiment *e = val_bench_load(path, s, &error);
    g_assert_no_error(error);
    CU_ASSERT_FATAL(e != NULL);
    CU_ASSERT_STRING_EQUAL(e->options.kv_cache_dtype, "fp8");
    val_experiment_free(e);
    scn_scenario_free(s);
    const char *plain[] = {"validate", path, "--json", NULL};
    const char *spec[] = {"validate", path, "--json", "--speculative-config",
                          "{\"method\":\"ngram\",\"num_speculative_tokens\":3,\"acceptance_rate\":0.6}", NULL};
    char *a = run(0, NULL, plain), *b = run(0, NULL, spec);
    CU_ASSERT_STRING_NOT_EQUAL(a, b); /* the drafts change every simulated latency */
    g_free(a);
    g_free(b);
    /* an experiment folder's options are its experiment.json's: a flag is refused */
    char *dir = g_build_filename(ss_test_data_dir(), "validation", "blis-h100-llama2-7b-train", NULL);
    const char *folder[] = {"validate", dir, "--kv-cache-dtype", "fp8", NULL};
    char *err = NULL;
    g_free(run(2, &err, folder));
    SS_ASSERT_CONTAINS(err, "--kv-cache-dtype does not apply to");
    g_free(err);
    g_free(dir);
    g_free(path);
}

/* The weighted router's LoRA affinity scorer (llm-d's lora-affinity-scorer):
 * with many adapters and few GPU slots, sending requests to replicas that
 * hold their adapter cuts adapter loads; a bad weight is refused; off by
 * default (the same run as without the key). */
static uint64_t lora_loads(const char *weight)
{
    char *json = g_strdup_printf(
        "{\"engine\": {\"enable_lora\": true, \"max_loras\": 4, \"max_cpu_loras\": 64},"
        " \"workload\": {\"num_requests\": 1500, \"arrival\": {\"process\": \"poisson\", \"rate\": 30},"
        " \"input\": {\"dist\": \"constant\", \"value\": 1000}, \"output\": {\"dist\": \"constant\", \"value\": 200},"
        " \"lora\": {\"adapters\": 50, \"zipf\": 1}},"
        " \"fleet\": {\"replicas\": 4, \"router\": {\"policy\": \"weighted\"%s}}}",
        weight);
    ScnScenario *s = parse(json);
    g_free(json);
    if (!cache)
        cache = scn_cache_new(ss_test_data_dir());
    GError *error = NULL;
    ClResult *r = scn_run_fleet(s, cache, NULL, NULL, &error);
    g_assert_no_error(error);
    const SimSummary *sum = r->summary;
    CU_ASSERT_EQUAL(sum->all.arrived, sum->all.completed + sum->all.rejected + sum->all.in_flight);
    uint64_t loads = sum->options.lora_loads;
    cl_result_free(r);
    scn_scenario_free(s);
    return loads;
}

static void test_lora_affinity_router(void)
{
    uint64_t off = lora_loads("");
    uint64_t zero = lora_loads(", \"weights\": {\"lora\": 0}");
    uint64_t on = lora_loads(", \"weights\": {\"lora\": 2}");
    CU_ASSERT_EQUAL(off, zero);
    CU_ASSERT(off > 0);
    CU_ASSERT(on < off * 0.85); /* measured: 1584 -> 1138 on 6,000 requests */
    GError *error = NULL;
    ScnScenario *s = scn_scenario_parse("{\"fleet\": {\"router\": {\"weights\": {\"lora\": -1}}}}", "s.json", ".",
                                        &error);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(error && strstr(error->message, "lora"));
    g_clear_error(&error);
    scn_scenario_free(s);
}

static const SsTestCase cases[] = {
    {"options read from a scenario and built", test_read_and_build},
    {"options in a fleet pool's engine override", test_pool_options},
    {"bad option values in a file (3) or at build (2)", test_file_errors},
    {"bad option flags exit 2", test_flag_errors},
    {"workload data the options must accept", test_workload_errors},
    {"runs: FP8 KV blocks, seeded speculation", test_runs},
    {"priority classes", test_priority_classes},
    {"sweep axes and plan candidates with options", test_sweep_and_plan},
    {"validate reads an experiment's options", test_validate_options},
    {"validate: a bench result takes the option flags", test_validate_bench_options},
    {"the weighted router's LoRA affinity scorer", test_lora_affinity_router},
    {NULL, NULL}};

static const SsTestSuite suites[] = {{"scenario options", cases}, {NULL, NULL}};

int main(int argc, char **argv)
{
    int rc = ss_test_main(argc, argv, suites);
    scn_cache_free(cache);
    return rc;
}
