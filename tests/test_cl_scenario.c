/*
 * test_cl_scenario.c: fleets in scenario files and flags: what is accepted,
 * the single fields sweeps and plans set, and bad input (unknown router,
 * negative weight, zero replicas, a pool with an unknown GPU, ...) getting
 * a message that names the field and exit code 2 (usage) or 3 (data).
 */
#include <string.h>

#include "scn.h"
#include "ss_test.h"

static ScnScenario *parse(const char *json, GError **error)
{
    return scn_scenario_parse(json, "f.json", ss_test_source_dir(), error);
}

static void test_fleet_fields_parse(void)
{
    GError *error = NULL;
    ScnScenario *s = parse("{\"fleet\": {\"pools\": [{\"name\": \"h\", \"hardware\": \"H100-SXM\", \"count\": 3},"
                           " {\"name\": \"a\", \"hardware\": \"A100-SXM-80GB\", \"count\": 2,"
                           "  \"engine\": {\"tensor_parallel_size\": 2, \"max_num_seqs\": 128},"
                           "  \"latency\": {\"step_overhead_us\": 900}}],"
                           " \"router\": {\"policy\": \"llm-d\", \"snapshot_interval_ms\": 25, \"latency_ms\": 2,"
                           "  \"weights\": {\"prefix\": 5, \"queue\": 1, \"kv\": 0},"
                           "  \"prefix\": {\"block_size\": 32, \"max_blocks\": 64, \"capacity_blocks\": 1000}},"
                           " \"admission\": {\"max_waiting_per_replica\": 50, \"max_waiting\": 300,"
                           "  \"rate_limit\": 80, \"burst\": 20}}}",
                           &error);
    if (!s)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    const ScnFleet *f = &s->fleet;
    CU_ASSERT_EQUAL(f->num_pools, 2);
    CU_ASSERT_STRING_EQUAL(f->pools[1].name, "a");
    CU_ASSERT_EQUAL(f->pools[1].count, 2);
    CU_ASSERT_EQUAL(f->router.policy, CL_ROUTER_WEIGHTED);
    CU_ASSERT_DOUBLE_EQUAL(f->router.snapshot_interval_ms, 25, 0);
    CU_ASSERT_DOUBLE_EQUAL(f->router.prefix_weight, 5, 0);
    CU_ASSERT_DOUBLE_EQUAL(f->router.kv_weight, 0, 0);
    CU_ASSERT_EQUAL(f->router.prefix_block_size, 32);
    CU_ASSERT_EQUAL(f->admission.max_waiting, 300);
    CU_ASSERT_DOUBLE_EQUAL(f->admission.burst, 20, 0);
    /* a copy is deep and builds the pools with their own settings */
    ScnScenario *c = scn_scenario_copy(s);
    scn_scenario_free(s);
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    ScnBuilt b;
    CU_ASSERT_FATAL(scn_build(c, cache, &b, &error));
    CU_ASSERT_EQUAL(b.num_pools, 2);
    CU_ASSERT_EQUAL(b.num_replicas, 5);
    CU_ASSERT_EQUAL(b.pools[0].tensor_parallel_size, 1);
    CU_ASSERT_EQUAL(b.pools[1].tensor_parallel_size, 2);
    CU_ASSERT_EQUAL(b.pools[1].sched.max_num_seqs, 128);
    CU_ASSERT_STRING_EQUAL(b.pools[1].hw->name, "A100-SXM-80GB");
    CU_ASSERT(scn_built_is_fleet(c, &b));
    scn_built_clear(&b);
    scn_scenario_free(c);
}

static void test_single_fields(void)
{
    GError *error = NULL;
    ScnScenario *s = scn_scenario_new_default();
    CU_ASSERT_STRING_EQUAL(scn_scenario_field_canonical("fleet.router.weights.prefix"), "prefix_weight");
    CU_ASSERT_STRING_EQUAL(scn_scenario_field_canonical("data_parallel_size"), "replicas");
    CU_ASSERT_STRING_EQUAL(scn_scenario_field_canonical("fleet.router.policy"), "router");
    CU_ASSERT_STRING_EQUAL(scn_scenario_field_canonical("fleet.admission.burst"), "rate_limit_burst");
    CU_ASSERT(scn_scenario_set(s, "replicas", "6", "t", &error));
    CU_ASSERT(scn_scenario_set(s, "router", "\"prefix-affinity\"", "t", &error));
    CU_ASSERT(scn_scenario_set(s, "fleet.router.weights.queue", "0.5", "t", &error));
    CU_ASSERT(scn_scenario_set(s, "snapshot_interval_ms", "0", "t", &error));
    CU_ASSERT(scn_scenario_set(s, "sticky_sessions", "true", "t", &error));
    CU_ASSERT(s->fleet.router.sticky_sessions);
    CU_ASSERT_EQUAL(s->fleet.replicas, 6);
    CU_ASSERT_EQUAL(s->fleet.router.policy, CL_ROUTER_PREFIX_AFFINITY);
    CU_ASSERT_DOUBLE_EQUAL(s->fleet.router.queue_weight, 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(s->fleet.router.snapshot_interval_ms, 0, 0);
    /* the whole fleet replaced */
    CU_ASSERT(scn_scenario_set(s, "fleet", "{\"pools\": [{\"count\": 2}]}", "t", &error));
    CU_ASSERT_EQUAL(s->fleet.num_pools, 1);
    CU_ASSERT_EQUAL(s->fleet.router.policy, CL_ROUTER_ROUND_ROBIN);
    CU_ASSERT_STRING_EQUAL(s->fleet.pools[0].name, "pool0");
    /* replicas of a one-pool fleet set its count */
    CU_ASSERT(scn_scenario_set(s, "replicas", "9", "t", &error));
    CU_ASSERT_EQUAL(s->fleet.pools[0].count, 9);
    /* every fleet field is listed for sweeps */
    gboolean found = FALSE;
    for (const char *const *f = scn_scenario_fields(); *f; f++)
        found = found || strcmp(*f, "kv_weight") == 0;
    CU_ASSERT(found);
    scn_scenario_free(s);
}

/* Bad fleets in a file: exit 3, the field named. */
static void test_bad_scenarios(void)
{
    static const struct {
        const char *json;
        const char *message;
        int code;
    } cases[] = {
        {"{\"fleet\": {\"router\": \"least-loded\"}}", "fleet.router: unknown router \"least-loded\"", 3},
        {"{\"fleet\": {\"router\": {\"policy\": \"magic\"}}}", "fleet.router.policy: unknown router", 3},
        {"{\"fleet\": {\"router\": {\"policy\": \"weighted\", \"weights\": {\"queue\": -1}}}}",
         "fleet.router.weights.queue: expected", 3},
        {"{\"fleet\": {\"replicas\": 0}}", "fleet.replicas: expected", 3},
        {"{\"fleet\": {\"replicas\": 2, \"pools\": [{\"count\": 1}]}}", "not both", 3},
        {"{\"fleet\": {\"pools\": [{\"hardware\": \"H100-SXM\"}]}}", "fleet.pools[0].count: missing", 3},
        {"{\"fleet\": {\"pools\": [{\"count\": 0}]}}", "fleet.pools[0].count: expected", 3},
        {"{\"fleet\": {\"pools\": []}}", "fleet.pools: expected a non-empty list", 3},
        {"{\"fleet\": {\"pools\": [{\"count\": 1, \"engine\": {\"max_num_seqz\": 3}}]}}",
         "fleet.pools[0].engine.max_num_seqz: unknown field (did you mean 'max_num_seqs'?)", 3},
        {"{\"fleet\": {\"pools\": [{\"name\": \"x\", \"count\": 1}, {\"name\": \"x\", \"count\": 1}]}}",
         "fleet.pools[1].name: \"x\" names pool 0 too", 3},
        {"{\"fleet\": {\"routr\": \"random\"}}", "fleet.routr: unknown field (did you mean 'router'?)", 3},
        {"{\"fleet\": {\"router\": {\"policy\": \"weighted\", \"weights\": {\"prefix\": 0, \"queue\": 0, "
         "\"kv\": 0}}}}", "at least one", 3},
        {"{\"fleet\": {\"router\": {\"load_factor\": 1}}}", "fleet.router.load_factor: expected", 3},
        {"{\"fleet\": {\"admission\": {\"rate_limit\": -5}}}", "fleet.admission.rate_limit: expected", 3},
        {"{\"fleet\": {\"router\": {\"hash_key\": \"user\"}}}",
         "fleet.router.hash_key: expected \"session\" or \"prefix\", got \"user\"", 3},
        {"{\"fleet\": {\"router\": {\"sticky_sessions\": 1}}}", "fleet.router.sticky_sessions: expected", 3},
        /* found when the pool is built: an unknown GPU is a usage error naming the pool */
        {"{\"fleet\": {\"pools\": [{\"count\": 1}, {\"name\": \"b200x\", \"hardware\": \"B900-SXM\", \"count\": 2}]}}",
         "fleet.pools[1] (b200x): ", 2},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *path = ss_test_write_file("bad.json", cases[i].json);
        const char *args[] = {"run", path, "--quiet", "--num-requests", "5", NULL};
        char *err = NULL;
        int rc = ss_test_run_servesim(args, NULL, &err);
        if (rc != cases[i].code)
            fprintf(stderr, "\n  case %u: exit %d, expected %d: %s\n", i, rc, cases[i].code, err);
        CU_ASSERT_EQUAL(rc, cases[i].code);
        SS_ASSERT_CONTAINS(err, cases[i].message);
        CU_ASSERT(strstr(err, "assert") == NULL && strstr(err, "CRITICAL") == NULL);
        g_free(err);
        g_free(path);
    }
}

/* Bad fleet flags: exit 2. */
static void test_bad_flags(void)
{
    static const struct {
        const char *flag, *value, *message;
    } cases[] = {
        {"--router", "fastest", "unknown router \"fastest\""},
        {"--data-parallel-size", "0", "fleet.replicas: expected"},
        {"--data-parallel-size", "two", "--data-parallel-size: expected a number, got 'two'"},
        {"--scorer-weight", "prefix=-2", "fleet.router.weights.prefix: expected"},
        {"--scorer-weight", "latency=1", "--scorer-weight: expected prefix=W, queue=W, kv=W or lora=W"},
        {"--snapshot-interval-ms", "-5", "fleet.router.snapshot_interval_ms: expected"},
        {"--rate-limit", "-1", "fleet.admission.rate_limit: expected"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *args[] = {"run", "--quiet", "--num-requests", "5", cases[i].flag, cases[i].value, NULL};
        char *err = NULL;
        int rc = ss_test_run_servesim(args, NULL, &err);
        if (rc != 2)
            fprintf(stderr, "\n  %s %s: exit %d: %s\n", cases[i].flag, cases[i].value, rc, err);
        CU_ASSERT_EQUAL(rc, 2);
        SS_ASSERT_CONTAINS(err, cases[i].message);
        g_free(err);
    }
    /* and the flags that work, from the README */
    const char *ok[] = {"run", "--num-requests", "200", "--rate", "30", "--data-parallel-size", "4", "--router",
                        "prefix-affinity", "--scorer-weight", "queue=1", NULL};
    char *out = NULL;
    CU_ASSERT_EQUAL(ss_test_run_servesim(ok, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "on 4 replicas of");
    SS_ASSERT_CONTAINS(out, "router     prefix-affinity");
    g_free(out);
    const char *pools[] = {"run", "scenarios/fleet-heterogeneous.json", "--num-requests", "300", NULL};
    char *path = g_build_filename(ss_test_source_dir(), pools[1], NULL);
    pools[1] = path;
    CU_ASSERT_EQUAL(ss_test_run_servesim(pools, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "on 6 replicas in 2 pools");
    SS_ASSERT_CONTAINS(out, "a100: 2 x (2 x A100-SXM-80GB, TP 2)");
    g_free(out);
    g_free(path);
}

static const SsTestCase cases[] = {
    {"fleet, pools, router and admission parse and build", test_fleet_fields_parse},
    {"single fields for flags and sweeps", test_single_fields},
    {"bad fleets in files: exit 3 (2 for an unknown GPU)", test_bad_scenarios},
    {"bad fleet flags: exit 2", test_bad_flags},
    {NULL, NULL},
};

static const SsTestSuite suites[] = {
    {"fleet scenarios", cases},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ss_test_main(argc, argv, suites);
}
