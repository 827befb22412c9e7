/*
 * test_scn_workload.c: the scenario's "workload" object (scn_workload_parse):
 * full examples parsed into the right spec, each bad field reported with its
 * JSON path, unknown keys rejected.
 */
#include "scn_workload.h"
#include "ss_error.h"

#include "ss_test.h"

/* JSON written with single quotes for readability. */
static cJSON *json(const char *single_quoted)
{
    char *text = g_strdup(single_quoted);
    g_strdelimit(text, "'", '"');
    cJSON *j = cJSON_Parse(text);
    if (!j)
        fprintf(stderr, "\n  bad test JSON: %s\n", text);
    g_free(text);
    return j;
}

typedef struct {
    WlSpec spec;
    gboolean is_trace;
    char *trace_path;
    WlTraceOptions opts;
} Parsed;

static gboolean parse(const char *text, const char *base_dir, Parsed *p, GError **error)
{
    cJSON *j = json(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    wl_spec_init(&p->spec);
    gboolean ok = scn_workload_parse(j, "s.json", base_dir, &p->spec, &p->is_trace,
                                     &p->trace_path, &p->opts, error);
    cJSON_Delete(j);
    return ok;
}

static void parsed_clear(Parsed *p)
{
    wl_spec_clear(&p->spec);
    g_free(p->trace_path);
    p->trace_path = NULL;
}

static const char *full_example =
    "{'num_requests': 2000, 'duration_s': 0,"
    " 'arrival': {'process': 'poisson', 'rate': 12.0},"
    " 'classes': ["
    "  {'name': 'chat', 'share': 0.8,"
    "   'input':  {'dist': 'lognormal', 'mean': 800, 'stddev': 600, 'min': 4, 'max': 8000},"
    "   'output': {'dist': 'lognormal', 'mean': 250, 'stddev': 200, 'min': 1, 'max': 2000},"
    "   'prefix': {'groups': 4, 'tokens': 1500}},"
    "  {'name': 'code', 'share': 0.2,"
    "   'input':  {'dist': 'empirical', 'path': '../data/traces/azure-2023-code.csv',"
    "              'column': 'num_prefill_tokens'},"
    "   'output': {'dist': 'constant', 'value': 30}}]}";

static void test_full_example(void)
{
    char *base = g_build_filename(ss_test_source_dir(), "scenarios", NULL);
    Parsed p;
    GError *error = NULL;
    gboolean ok = parse(full_example, base, &p, &error);
    if (!ok)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_TRUE_FATAL(ok);
    CU_ASSERT_FALSE(p.is_trace);
    CU_ASSERT_PTR_NULL(p.trace_path);
    const WlSpec *s = &p.spec;
    CU_ASSERT_EQUAL(s->num_requests, 2000);
    CU_ASSERT_DOUBLE_EQUAL(s->duration_s, 0, 0);
    CU_ASSERT_EQUAL(s->arrival.kind, WL_ARRIVAL_POISSON);
    CU_ASSERT_DOUBLE_EQUAL(s->arrival.rate, 12.0, 0);
    CU_ASSERT_EQUAL_FATAL(s->num_classes, 2);
    const WlClassSpec *chat = &s->classes[0];
    CU_ASSERT_STRING_EQUAL(chat->name, "chat");
    CU_ASSERT_DOUBLE_EQUAL(chat->share, 0.8, 0);
    CU_ASSERT_EQUAL(chat->input.kind, WL_DIST_LOGNORMAL);
    CU_ASSERT_DOUBLE_EQUAL(chat->input.mean, 800, 0);
    CU_ASSERT_DOUBLE_EQUAL(chat->input.stddev, 600, 0);
    CU_ASSERT_DOUBLE_EQUAL(chat->input.min, 4, 0);
    CU_ASSERT_DOUBLE_EQUAL(chat->input.max, 8000, 0);
    CU_ASSERT_EQUAL(chat->output.kind, WL_DIST_LOGNORMAL);
    CU_ASSERT_DOUBLE_EQUAL(chat->output.mean, 250, 0);
    CU_ASSERT_DOUBLE_EQUAL(chat->output.max, 2000, 0);
    CU_ASSERT_EQUAL(chat->prefix_groups, 4);
    CU_ASSERT_EQUAL(chat->prefix_tokens, 1500);
    const WlClassSpec *code = &s->classes[1];
    CU_ASSERT_STRING_EQUAL(code->name, "code");
    CU_ASSERT_DOUBLE_EQUAL(code->share, 0.2, 0);
    CU_ASSERT_EQUAL(code->input.kind, WL_DIST_EMPIRICAL);
    char *expected_path = g_build_filename(base, "../data/traces/azure-2023-code.csv", NULL);
    CU_ASSERT_STRING_EQUAL(code->input.path, expected_path);
    CU_ASSERT_STRING_EQUAL(code->input.column, "num_prefill_tokens");
    CU_ASSERT_EQUAL(code->output.kind, WL_DIST_CONSTANT);
    CU_ASSERT_DOUBLE_EQUAL(code->output.value, 30, 0);
    CU_ASSERT_EQUAL(code->prefix_groups, 0);

    /* The parsed spec runs: prefixes on chat, 30-token outputs on code. */
    WlSource *src = wl_source_new_synthetic(s, 1, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    CU_ASSERT_STRING_EQUAL(wl_source_describe(src), "poisson 12 req/s, 2 classes, 2000 requests");
    WlRequest r;
    guint n = 0;
    while (wl_source_next(src, &r, &error) == 1) {
        n++;
        if (r.class_id == 0) {
            CU_ASSERT(r.prefix_group >= 1 && r.prefix_group <= 4);
            CU_ASSERT(r.input_tokens >= 1504 && r.input_tokens <= 9500);
        } else {
            CU_ASSERT_EQUAL(r.output_tokens, 30);
            CU_ASSERT_EQUAL(r.prefix_group, 0);
        }
    }
    CU_ASSERT_EQUAL(n, 2000);
    wl_source_free(src);
    g_free(expected_path);
    parsed_clear(&p);
    g_free(base);
}

static void test_other_shapes(void)
{
    Parsed p;
    GError *error = NULL;
    /* A single class at the top level. */
    CU_ASSERT_TRUE_FATAL(parse("{'num_requests': 10, 'arrival': {'process': 'constant', 'rate': 2},"
                               " 'input': {'dist': 'uniform', 'min': 1, 'max': 9},"
                               " 'output': {'dist': 'normal', 'mean': 50, 'stddev': 5, 'min': 2},"
                               " 'prefix': {'groups': 2, 'tokens': 16}}",
                               NULL, &p, &error));
    CU_ASSERT_EQUAL_FATAL(p.spec.num_classes, 1);
    CU_ASSERT_STRING_EQUAL(p.spec.classes[0].name, "default");
    CU_ASSERT_DOUBLE_EQUAL(p.spec.classes[0].share, 1.0, 0);
    CU_ASSERT_EQUAL(p.spec.classes[0].input.kind, WL_DIST_UNIFORM);
    CU_ASSERT_DOUBLE_EQUAL(p.spec.classes[0].input.max, 9, 0);
    CU_ASSERT_EQUAL(p.spec.classes[0].output.kind, WL_DIST_NORMAL);
    CU_ASSERT_DOUBLE_EQUAL(p.spec.classes[0].output.min, 2, 0);
    CU_ASSERT_EQUAL(p.spec.classes[0].prefix_groups, 2);
    CU_ASSERT_EQUAL(p.spec.arrival.kind, WL_ARRIVAL_CONSTANT);
    parsed_clear(&p);
    /* Gamma and piecewise, a duration, a default share. */
    CU_ASSERT_TRUE_FATAL(parse("{'duration_s': 3600, 'arrival': {'process': 'gamma', 'rate': 12, 'cv': 3},"
                               " 'classes': [{'name': 'a', 'input': {'dist': 'constant', 'value': 5},"
                               " 'output': {'dist': 'constant', 'value': 5}}]}",
                               NULL, &p, &error));
    CU_ASSERT_EQUAL(p.spec.arrival.kind, WL_ARRIVAL_GAMMA);
    CU_ASSERT_DOUBLE_EQUAL(p.spec.arrival.cv, 3, 0);
    CU_ASSERT_DOUBLE_EQUAL(p.spec.duration_s, 3600, 0);
    CU_ASSERT_EQUAL(p.spec.num_requests, 0);
    CU_ASSERT_DOUBLE_EQUAL(p.spec.classes[0].share, 1.0, 0);
    parsed_clear(&p);
    CU_ASSERT_TRUE_FATAL(parse("{'num_requests': 5, 'arrival': {'process': 'piecewise',"
                               " 'points': [[0, 5], [600, 20], [1200, 5]]},"
                               " 'input': {'dist': 'constant', 'value': 5},"
                               " 'output': {'dist': 'constant', 'value': 5}}",
                               NULL, &p, &error));
    CU_ASSERT_EQUAL(p.spec.arrival.kind, WL_ARRIVAL_PIECEWISE);
    CU_ASSERT_EQUAL_FATAL(p.spec.arrival.num_points, 3);
    CU_ASSERT_DOUBLE_EQUAL(p.spec.arrival.times_s[1], 600, 0);
    CU_ASSERT_DOUBLE_EQUAL(p.spec.arrival.rates[1], 20, 0);
    parsed_clear(&p);
    /* A trace, its path resolved against the scenario's folder. */
    CU_ASSERT_TRUE_FATAL(parse("{'trace': {'path': '../data/traces/azure-2023-conv.csv', 'format': 'auto',"
                               " 'time_scale': 1.0, 'rate': 0, 'limit': 0, 'skip': 0,"
                               " 'skip_bad_rows': false}}",
                               "/x/scenarios", &p, &error));
    CU_ASSERT_TRUE(p.is_trace);
    CU_ASSERT_STRING_EQUAL(p.trace_path, "/x/scenarios/../data/traces/azure-2023-conv.csv");
    CU_ASSERT_EQUAL(p.opts.format, WL_TRACE_AUTO);
    CU_ASSERT_DOUBLE_EQUAL(p.opts.time_scale, 1.0, 0);
    CU_ASSERT_FALSE(p.opts.skip_bad_rows);
    parsed_clear(&p);
    CU_ASSERT_TRUE_FATAL(parse("{'trace': {'path': '/abs/t.csv', 'format': 'azure', 'rate': 4.5,"
                               " 'limit': 100, 'skip': 7, 'skip_bad_rows': true}}",
                               "/x", &p, &error));
    CU_ASSERT_STRING_EQUAL(p.trace_path, "/abs/t.csv");
    CU_ASSERT_EQUAL(p.opts.format, WL_TRACE_AZURE);
    CU_ASSERT_DOUBLE_EQUAL(p.opts.rate, 4.5, 0);
    CU_ASSERT_EQUAL(p.opts.limit, 100);
    CU_ASSERT_EQUAL(p.opts.skip, 7);
    CU_ASSERT_TRUE(p.opts.skip_bad_rows);
    parsed_clear(&p);
}

/* A valid base with one field replaced: {A} is the arrival, {C} the classes. */
static void expect_error(const char *text, const char *message)
{
    Parsed p;
    GError *error = NULL;
    gboolean ok = parse(text, NULL, &p, &error);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT_EQUAL(error->code, 3);
    if (strcmp(error->message, message) != 0)
        fprintf(stderr, "\n  got      %s\n  expected %s\n", error->message, message);
    CU_ASSERT_STRING_EQUAL(error->message, message);
    /* On failure nothing is left to free. */
    CU_ASSERT_EQUAL(p.spec.num_classes, 0);
    CU_ASSERT_PTR_NULL(p.spec.classes);
    CU_ASSERT_PTR_NULL(p.trace_path);
    g_error_free(error);
    parsed_clear(&p);
}

#define IN "'input': {'dist': 'constant', 'value': 5}"
#define OUT "'output': {'dist': 'constant', 'value': 5}"
#define POISSON "'arrival': {'process': 'poisson', 'rate': 1}"

static void test_bad_fields(void)
{
    expect_error("{'num_requests': 2000, " POISSON ", 'classes': [{'name': 'chat', 'share': 0.8,"
                 " 'input': {'dist': 'lognormal', 'mean': -3, 'stddev': 1}, " OUT "}]}",
                 "s.json: workload.classes[0].input.mean: expected a positive number, got -3");
    expect_error("{'num_requests': 1, 'arrival': {'process': 'poisson', 'rate': 'fast'}, " IN ", " OUT "}",
                 "s.json: workload.arrival.rate: expected a number, got \"fast\"");
    expect_error("{'num_requests': 1, 'arrival': {'process': 'weibull', 'rate': 1}, " IN ", " OUT "}",
                 "s.json: workload.arrival.process: expected one of poisson, gamma, constant, "
                 "piecewise, got \"weibull\"");
    expect_error("{'num_requests': 1, 'arrival': {'process': 'gamma', 'rate': 1, 'cv': 0}, " IN ", " OUT "}",
                 "s.json: workload.arrival.cv: expected a positive number, got 0");
    expect_error("{'num_requests': 1, 'arrival': {'process': 'piecewise', 'points': [[0, 5], [600, 20],"
                 " [500, 5]]}, " IN ", " OUT "}",
                 "s.json: workload.arrival.points[2][0]: expected a time after 600, got 500");
    expect_error("{'num_requests': 1, 'arrival': {'process': 'piecewise', 'points': [[0, 5], [600]]}, "
                 IN ", " OUT "}",
                 "s.json: workload.arrival.points[1]: expected [time_s, rate] (two numbers), got [600]");
    expect_error("{'num_requests': 1, 'arrival': {'process': 'piecewise', 'points': [[1, 5]]}, " IN ", " OUT "}",
                 "s.json: workload.arrival.points[0][0]: expected 0 (the first point starts at time "
                 "0), got 1");
    expect_error("{'num_requests': 1, " POISSON ", 'classes': [{'name': 'chat', " IN ", " OUT "},"
                 " {'name': 'chat', " IN ", " OUT "}]}",
                 "s.json: workload.classes[1].name: expected a name not used by another class, got "
                 "'chat' (also classes[0])");
    expect_error("{'num_requests': 1, " POISSON ", " IN ", 'output': {'dist': 'uniform', 'min': 10, 'max': 5}}",
                 "s.json: workload.output.max: expected an integer from 10 (min) to 1000000000, got 5");
    expect_error("{'num_requests': 1, " POISSON ", 'classes': [{'name': 'a', " IN ", " OUT ","
                 " 'prefix': {'groups': 2.5, 'tokens': 10}}]}",
                 "s.json: workload.classes[0].prefix.groups: expected an integer from 0 to 1000000, "
                 "got 2.5");
    expect_error("{'num_requests': 1, " POISSON ", 'classes': [{'name': 'a', " IN ", " OUT ","
                 " 'prefix': {'groups': 0, 'tokens': 10}}]}",
                 "s.json: workload.classes[0].prefix.groups: expected a positive integer when "
                 "prefix.tokens is set, got 0");
    expect_error("{'num_requests': 1, " POISSON ", 'classes': [{'name': 'a', 'share': -1, " IN ", " OUT "}]}",
                 "s.json: workload.classes[0].share: expected a positive number, got -1");
    expect_error("{'num_requests': 1, " POISSON ", 'classes': [{'name': 'a', " IN ","
                 " 'output': {'dist': 'lognormall', 'mean': 5, 'stddev': 1}}]}",
                 "s.json: workload.classes[0].output.dist: expected one of constant, uniform, "
                 "normal, lognormal, empirical, got \"lognormall\"");
    expect_error("{'num_requests': 1, " POISSON ", 'classes': [{'name': 'a', " OUT "}]}",
                 "s.json: workload.classes[0].input: expected a length distribution, got nothing");
    expect_error("{'num_requests': 1, " POISSON ", 'classes': [{" IN ", " OUT "}]}",
                 "s.json: workload.classes[0].name: expected a non-empty string, got nothing");
    expect_error("{'num_requests': 1, " IN ", " OUT "}",
                 "s.json: workload.arrival: expected an arrival process, got nothing");
    expect_error("{" POISSON ", " IN ", " OUT "}",
                 "s.json: workload: expected num_requests or duration_s (when to stop), got neither");
    expect_error("{'num_requests': -5, " POISSON ", " IN ", " OUT "}",
                 "s.json: workload.num_requests: expected an integer from 0 to 9223372036854775807, "
                 "got -5");
    expect_error("{'num_requests': 0, 'duration_s': 0, " POISSON ", " IN ", " OUT "}",
                 "s.json: workload.num_requests: expected a positive integer (or a positive "
                 "workload.duration_s), got 0");
    expect_error("{'num_requests': 1, " POISSON ", " IN ", 'classes': [{'name': 'a', " IN ", " OUT "}]}",
                 "s.json: workload.input: expected no top-level input with workload.classes (give "
                 "it to each class)");
    expect_error("{'num_requests': 1, " POISSON ", 'classes': []}",
                 "s.json: workload.classes: expected an array of 1 to 65536 classes, got []");
    expect_error("{'num_requests': 1, " POISSON ", 'input': {'dist': 'empirical', 'column': 'x'}, " OUT "}",
                 "s.json: workload.input.path: expected a non-empty string, got nothing");
    expect_error("[1]", "s.json: workload: expected an object, got [1]");
    expect_error("{'num_requests': 1, 'arrival': 5, " IN ", " OUT "}",
                 "s.json: workload.arrival: expected an object, got 5");
}

static void test_unknown_keys(void)
{
    expect_error("{'num_requests': 1, 'arival': {}, " IN ", " OUT "}",
                 "s.json: workload.arival: unknown key (expected one of: num_requests, duration_s, "
                 "arrival, classes, input, output, prefix, session, priority, lora)");
    expect_error("{'num_requests': 1, 'arrival': {'process': 'poisson', 'rate': 1, 'cv': 2}, " IN ", " OUT "}",
                 "s.json: workload.arrival.cv: unknown key (expected for process \"poisson\" one "
                 "of: process, rate)");
    expect_error("{'num_requests': 1, " POISSON ", 'classes': [{'name': 'a', 'shares': 1, " IN ", " OUT "}]}",
                 "s.json: workload.classes[0].shares: unknown key (expected one of: name, share, "
                 "input, output, prefix, session, priority, lora)");
    expect_error("{'num_requests': 1, " POISSON ", 'input': {'dist': 'normal', 'mean': 5, 'stdev': 1}, " OUT "}",
                 "s.json: workload.input.stdev: unknown key (expected for dist \"normal\" one of: "
                 "dist, mean, stddev, min, max)");
    expect_error("{'num_requests': 1, " POISSON ", " IN ", " OUT ", 'prefix': {'groups': 1, 'token': 5}}",
                 "s.json: workload.prefix.token: unknown key (expected one of: groups, tokens)");
    expect_error("{'num_requests': 1, 'num_requests': 2, " POISSON ", " IN ", " OUT "}",
                 "s.json: workload.num_requests: expected each key once, got it twice");
    /* Traces. */
    expect_error("{'trace': {'path': 't.csv', 'sclae': 2}}",
                 "s.json: workload.trace.sclae: unknown key (expected one of: path, format, "
                 "time_scale, rate, limit, skip, skip_bad_rows, time_format, columns, sort)");
    expect_error("{'trace': {'path': 't.csv'}, 'num_requests': 5}",
                 "s.json: workload.num_requests: unknown key with workload.trace (a trace gives "
                 "the arrivals and lengths; expected only \"trace\")");
    expect_error("{'trace': {'path': 't.csv', 'format': 'csv'}}",
                 "s.json: workload.trace.format: expected one of auto, servesim, azure, vidur, vllm-bench, "
                 "got \"csv\"");
    expect_error("{'trace': {'path': 't.csv', 'time_scale': 0}}",
                 "s.json: workload.trace.time_scale: expected a positive number, got 0");
    expect_error("{'trace': {'path': 't.csv', 'rate': 2, 'time_scale': 3}}",
                 "s.json: workload.trace.rate: expected 0 when time_scale is not 1 (a rate fixes "
                 "the time scale), got 2 with time_scale 3");
    expect_error("{'trace': {'path': 't.csv', 'skip_bad_rows': 'yes'}}",
                 "s.json: workload.trace.skip_bad_rows: expected true or false, got \"yes\"");
    expect_error("{'trace': {'path': 't.csv', 'limit': 1.5}}",
                 "s.json: workload.trace.limit: expected an integer from 0 to 9223372036854775807, "
                 "got 1.5");
    expect_error("{'trace': {'format': 'azure'}}",
                 "s.json: workload.trace.path: expected a non-empty string, got nothing");
}

#define SESSION_DISTS "'turns': {'dist': 'uniform', 'min': 1, 'max': 4}, 'new_tokens': {'dist': 'constant', 'value': 50}"

/* A multi-turn class: its session object, read and checked. */
static void test_sessions(void)
{
    Parsed p;
    GError *error = NULL;
    CU_ASSERT_TRUE_FATAL(parse("{'num_requests': 10, " POISSON ", 'classes': [{'name': 'chat', " IN ", " OUT ","
                               " 'session': {" SESSION_DISTS ", 'think_s': {'dist': 'lognormal', 'mean': 20,"
                               " 'stddev': 10, 'max': 120}, 'answer_tokens_per_s': 40, 'max_input_tokens': 8000}}]}",
                               NULL, &p, &error));
    const WlClassSpec *c = &p.spec.classes[0];
    CU_ASSERT_TRUE(c->multi_turn);
    CU_ASSERT_EQUAL(c->session.turns.kind, WL_DIST_UNIFORM);
    CU_ASSERT_DOUBLE_EQUAL(c->session.turns.max, 4, 0);
    CU_ASSERT_DOUBLE_EQUAL(c->session.new_tokens.value, 50, 0);
    CU_ASSERT_EQUAL(c->session.think_s.kind, WL_DIST_LOGNORMAL);
    CU_ASSERT_DOUBLE_EQUAL(c->session.think_s.max, 120, 0);
    CU_ASSERT_DOUBLE_EQUAL(c->session.answer_tokens_per_s, 40, 0);
    CU_ASSERT_EQUAL(c->session.max_input_tokens, 8000);
    /* a copy owns its own session distributions */
    WlSpec copy;
    wl_spec_copy(&copy, &p.spec);
    CU_ASSERT_TRUE(copy.classes[0].multi_turn);
    CU_ASSERT_DOUBLE_EQUAL(copy.classes[0].session.think_s.mean, 20, 0);
    wl_spec_clear(&copy);
    parsed_clear(&p);
    /* top level, answer time and cap left out: 0 */
    CU_ASSERT_TRUE_FATAL(parse("{'num_requests': 10, " POISSON ", " IN ", " OUT ","
                               " 'session': {" SESSION_DISTS ", 'think_s': {'dist': 'constant', 'value': 0}}}",
                               NULL, &p, &error));
    CU_ASSERT_TRUE(p.spec.classes[0].multi_turn);
    CU_ASSERT_DOUBLE_EQUAL(p.spec.classes[0].session.answer_tokens_per_s, 0, 0);
    CU_ASSERT_EQUAL(p.spec.classes[0].session.max_input_tokens, 0);
    parsed_clear(&p);

    expect_error("{'num_requests': 1, " POISSON ", " IN ", " OUT ", 'session': {" SESSION_DISTS "}}",
                 "s.json: workload.session.think_s: expected a seconds distribution, got nothing");
    expect_error("{'num_requests': 1, " POISSON ", " IN ", " OUT ", 'session': {'turns': {'dist': 'constant',"
                 " 'value': 2}, 'think_s': {'dist': 'constant', 'value': 1}}}",
                 "s.json: workload.session.new_tokens: expected a count distribution, got nothing");
    expect_error("{'num_requests': 1, " POISSON ", " IN ", " OUT ", 'session': {" SESSION_DISTS ","
                 " 'think_s': {'dist': 'constant', 'value': 1}, 'think': 3}}",
                 "s.json: workload.session.think: unknown key (expected one of: turns, new_tokens, think_s, "
                 "answer_tokens_per_s, max_input_tokens)");
    expect_error("{'num_requests': 1, " POISSON ", " IN ", " OUT ", 'session': {" SESSION_DISTS ","
                 " 'think_s': {'dist': 'uniform', 'min': 2, 'max': 1}}}",
                 "s.json: workload.session.think_s.max: expected a number of seconds from 2 (min) to 1e+09, got 1");
    expect_error("{'num_requests': 1, " POISSON ", " IN ", " OUT ", 'session': {" SESSION_DISTS ","
                 " 'think_s': {'dist': 'empirical', 'path': 't.csv', 'column': 'x'}}}",
                 "s.json: workload.session.think_s.dist: expected one of constant, uniform, normal, lognormal "
                 "(seconds), got empirical");
    expect_error("{'num_requests': 1, " POISSON ", " IN ", " OUT ", 'session': {" SESSION_DISTS ","
                 " 'think_s': {'dist': 'constant', 'value': 1}, 'max_input_tokens': -1}}",
                 "s.json: workload.session.max_input_tokens: expected an integer from 0 to 1000000000, got -1");
    expect_error("{'num_requests': 1, " POISSON ", 'classes': [{'name': 'a', " IN ", " OUT "}], 'session': {}}",
                 "s.json: workload.session: expected no top-level session with workload.classes (give it to "
                 "each class)");
    expect_error("{'num_requests': 1, " POISSON ", " IN ", " OUT ", 'session': 3}",
                 "s.json: workload.session: expected an object, got 3");
}

static const SsTestCase cases[] = {
    {"the full example", test_full_example},
    {"single class, gamma, piecewise, traces", test_other_shapes},
    {"bad fields name their path", test_bad_fields},
    {"unknown keys are rejected", test_unknown_keys},
    {"multi-turn sessions", test_sessions},
    {NULL, NULL},
};

static const SsTestSuite suites[] = {
    {"scn_workload_parse", cases},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ss_test_main(argc, argv, suites);
}
