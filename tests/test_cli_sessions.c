/*
 * test_cli_sessions.c: multi-turn sessions as a user meets them: a trace
 * with session columns replayed (each turn's cached tokens worked out by
 * hand), a multi-turn scenario whose output is byte-identical for the same
 * seed, and a bad session row stopping the run with its message.
 */
#include <string.h>

#include "ss_test.h"

static char *read_file(const char *path)
{
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* The cached_tokens column (7th) of each row of a per-request CSV. */
static GArray *cached_column(const char *csv)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(guint));
    char **lines = g_strsplit(csv, "\n", -1);
    for (guint i = 1; lines[i] && *lines[i]; i++) {
        char **f = g_strsplit(lines[i], ",", -1);
        CU_ASSERT_FATAL(g_strv_length(f) >= 7);
        guint v = (guint)g_ascii_strtoull(f[6], NULL, 10);
        g_array_append_val(out, v);
        g_strfreev(f);
    }
    g_strfreev(lines);
    return out;
}

/* Block size 16, far apart so each turn runs alone. a1: 100 + 40: KV for
 * 139 tokens, 8 full blocks. a2 (170, derived prefix 140): 128 cached. b1:
 * another session, nothing. a3 (200 + 20, derived prefix 190): a2 had KV
 * for 189 tokens: 176. a4 keeps only a3's prompt (given prefix 200 < 220)
 * and so departs: blocks 0-11 (192 tokens) hit; a3's block 12 is full
 * (tokens 192-207, some generated) and must not. A request without a
 * session: nothing. */
static void test_replay_hits(void)
{
    char *dir = ss_test_tmpdir();
    char *trace = g_build_filename(dir, "turns.csv", NULL);
    char *out = g_build_filename(dir, "requests.csv", NULL);
    CU_ASSERT_FATAL(g_file_set_contents(trace,
                                        "arrival_time_s,input_tokens,output_tokens,session_id,session_prefix_tokens\n"
                                        "0,100,40,a,\n"
                                        "30,170,20,a,\n"
                                        "60,170,20,b,\n"
                                        "90,200,20,a,\n"
                                        "120,400,5,a,200\n"
                                        "150,400,5,,\n",
                                        -1, NULL));
    const char *args[] = {"replay", trace, "--output-requests", out, "--quiet", NULL};
    char *err = NULL;
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, NULL, &err), 0);
    char *csv = read_file(out);
    GArray *cached = cached_column(csv);
    const guint want[] = {0, 128, 0, 176, 192, 0};
    CU_ASSERT_EQUAL_FATAL(cached->len, G_N_ELEMENTS(want));
    for (guint i = 0; i < cached->len; i++) {
        if (g_array_index(cached, guint, i) != want[i])
            fprintf(stderr, "\n  request %u: cached %u, expected %u\n", i, g_array_index(cached, guint, i), want[i]);
        CU_ASSERT_EQUAL(g_array_index(cached, guint, i), want[i]);
    }
    g_array_free(cached, TRUE);
    g_free(csv);
    g_free(err);
    g_free(out);
    g_free(trace);
    g_free(dir);
}

static const char *multi_turn_scenario =
    "{\"name\": \"chat sessions\", \"seed\": 9,\n"
    " \"engine\": {\"num_gpu_blocks_override\": 20000, \"max_num_seqs\": 64},\n"
    " \"workload\": {\"num_requests\": 600, \"arrival\": {\"process\": \"poisson\", \"rate\": 3},\n"
    "  \"classes\": [{\"name\": \"chat\",\n"
    "    \"input\": {\"dist\": \"lognormal\", \"mean\": 600, \"stddev\": 400, \"min\": 4, \"max\": 6000},\n"
    "    \"output\": {\"dist\": \"lognormal\", \"mean\": 200, \"stddev\": 150, \"min\": 1, \"max\": 1500},\n"
    "    \"prefix\": {\"groups\": 2, \"tokens\": 256},\n"
    "    \"session\": {\"turns\": {\"dist\": \"uniform\", \"min\": 1, \"max\": 8},\n"
    "                \"new_tokens\": {\"dist\": \"lognormal\", \"mean\": 100, \"stddev\": 80, \"min\": 1},\n"
    "                \"think_s\": {\"dist\": \"lognormal\", \"mean\": 8, \"stddev\": 6, \"max\": 120},\n"
    "                \"answer_tokens_per_s\": 80, \"max_input_tokens\": 12000}}]}}\n";

/* The same seed gives the same bytes (stdout, JSON, per-request rows);
 * later turns hit their sessions' blocks. */
static void test_scenario_byte_identical(void)
{
    char *dir = ss_test_tmpdir();
    char *scenario = g_build_filename(dir, "mt.json", NULL);
    CU_ASSERT_FATAL(g_file_set_contents(scenario, multi_turn_scenario, -1, NULL));
    char *json[3], *rows[3], *outs[3];
    for (int run = 0; run < 3; run++) {
        json[run] = g_strdup_printf("%s/%d.json", dir, run);
        rows[run] = g_strdup_printf("%s/%d.csv", dir, run);
        const char *args[] = {"run", scenario, "--output-json", json[run], "--output-requests", rows[run],
                              run == 2 ? "--seed" : NULL, "10", NULL};
        CU_ASSERT_EQUAL(ss_test_run_servesim(args, &outs[run], NULL), 0);
    }
    CU_ASSERT_STRING_EQUAL(outs[0], outs[1]);
    SS_ASSERT_CONTAINS(outs[0], "multi-turn");
    char *a = read_file(json[0]), *b = read_file(json[1]), *c = read_file(json[2]);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, c);
    g_free(a);
    g_free(b);
    g_free(c);
    a = read_file(rows[0]);
    b = read_file(rows[1]);
    CU_ASSERT_STRING_EQUAL(a, b);
    GArray *cached = cached_column(a);
    CU_ASSERT_EQUAL(cached->len, 600);
    guint beyond_system_prompt = 0;
    for (guint i = 0; i < cached->len; i++)
        beyond_system_prompt += g_array_index(cached, guint, i) > 256;
    CU_ASSERT(beyond_system_prompt > 300); /* later turns hit more than the shared system prompt */
    g_array_free(cached, TRUE);
    g_free(a);
    g_free(b);
    for (int run = 0; run < 3; run++) {
        g_free(json[run]);
        g_free(rows[run]);
        g_free(outs[run]);
    }
    g_free(scenario);
    g_free(dir);
}

static void test_bad_session_row(void)
{
    char *dir = ss_test_tmpdir();
    char *trace = g_build_filename(dir, "bad.csv", NULL);
    CU_ASSERT_FATAL(g_file_set_contents(trace,
                                        "arrival_time_s,input_tokens,output_tokens,session_id,session_prefix_tokens\n"
                                        "0,100,40,a,\n"
                                        "1,300,10,a,150\n",
                                        -1, NULL));
    const char *args[] = {"replay", trace, NULL};
    char *err = NULL;
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, NULL, &err), 3);
    char *expected = g_strdup_printf("%s:3:5: column 'session_prefix_tokens': expected at most the previous "
                                     "turn's input_tokens + output_tokens (100 + 40 = 140, line 2), got '150'",
                                     trace);
    SS_ASSERT_CONTAINS(err, expected);
    g_free(expected);
    g_free(err);
    g_free(trace);
    g_free(dir);
}

static const SsTestCase cases[] = {
    {"a replayed trace hits what each turn may hit", test_replay_hits},
    {"a multi-turn scenario, byte-identical for a seed", test_scenario_byte_identical},
    {"a bad session row stops the run", test_bad_session_row},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"sessions from the command line", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
