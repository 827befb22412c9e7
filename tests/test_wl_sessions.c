/*
 * test_wl_sessions.c: multi-turn sessions in the workload module. Traces:
 * the session_id and session_prefix_tokens columns, the derived prefix, the
 * branches of departing turns, skipped rows, two passes. Synthetic
 * multi-turn classes: each turn continues the last (prompt, output, new
 * tokens), the arrival rule, max_input_tokens and the stop rules, seeds and
 * the independence of classes, and the checks of a session spec.
 */
#include <math.h>

#include "ss_test.h"
#include "wl.h"

#define REQ(a, i) (&g_array_index((a), WlRequest, (i)))

static GArray *drain_source(WlSource *src)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(WlRequest));
    GError *error = NULL;
    WlRequest r;
    int got;
    while ((got = wl_source_next(src, &r, &error)) == 1)
        g_array_append_val(out, r);
    if (got < 0)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_EQUAL(got, 0);
    g_clear_error(&error);
    return out;
}

static GArray *drain_trace(const char *text, const WlTraceOptions *o, uint64_t *skipped)
{
    char *path = ss_test_write_file("sessions.csv", text);
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, o, &error);
    if (!src)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    GArray *r = drain_source(src);
    if (skipped)
        *skipped = wl_source_rows_skipped(src);
    wl_source_free(src);
    g_free(path);
    return r;
}

static void assert_turn(const WlRequest *r, uint64_t session, uint32_t prefix, uint32_t branch,
                        uint32_t prefix_branch)
{
    if (r->session_id != session || r->session_prefix_tokens != prefix || r->session_branch != branch ||
        r->session_prefix_branch != prefix_branch)
        fprintf(stderr, "\n  request %" G_GUINT64_FORMAT ": session %" G_GUINT64_FORMAT " prefix %u branch %u/%u, "
                "expected %" G_GUINT64_FORMAT " %u %u/%u\n",
                r->id, r->session_id, r->session_prefix_tokens, r->session_branch, r->session_prefix_branch,
                session, prefix, branch, prefix_branch);
    CU_ASSERT_EQUAL(r->session_id, session);
    CU_ASSERT_EQUAL(r->session_prefix_tokens, prefix);
    CU_ASSERT_EQUAL(r->session_branch, branch);
    CU_ASSERT_EQUAL(r->session_prefix_branch, prefix_branch);
}

/* ----------------------------------------------------------- traces -- */

/* Without a session_prefix_tokens column the prefix is derived: the
 * previous turn's input + output when the new prompt is at least that long,
 * else 0 (and a new branch). Ids are numbered in order of first appearance,
 * compared after trimming blanks; an empty id is no session. */
static void test_trace_derived_prefix(void)
{
    GArray *r = drain_trace("arrival_time_s,input_tokens,output_tokens,session_id\n"
                            "0,100,40,conv-a\n"       /* a1 */
                            "1,50,5,\n"               /* no session */
                            "2,80,10, conv-b \n"      /* b1 */
                            "3,150,20,conv-a\n"       /* a2: 150 >= 140: prefix 140 */
                            "4,140,5,\"conv-b\"\n"    /* b2: 140 >= 90 */
                            "5,170,9,conv-a\n"        /* a3: 170 = 150 + 20: prefix 170 */
                            "6,100,9,conv-a\n",       /* a4: 100 < 179: not a continuation */
                            NULL, NULL);
    CU_ASSERT_EQUAL_FATAL(r->len, 7);
    assert_turn(REQ(r, 0), 1, 0, 0, 0);
    assert_turn(REQ(r, 1), 0, 0, 0, 0);
    assert_turn(REQ(r, 2), 2, 0, 0, 0);
    assert_turn(REQ(r, 3), 1, 140, 0, 0);
    assert_turn(REQ(r, 4), 2, 90, 0, 0);
    assert_turn(REQ(r, 5), 1, 170, 0, 0);
    assert_turn(REQ(r, 6), 1, 0, 1, 0);
    g_array_free(r, TRUE);
}

/* Given prefixes: a turn that keeps all of the previous tokens with KV
 * (prefix >= input + output - 1) continues the branch; any other starts the
 * session's next branch. An empty field means derived. */
static void test_trace_given_prefix_branches(void)
{
    GArray *r = drain_trace("arrival_time_s,input_tokens,output_tokens,session_id,session_prefix_tokens\n"
                            "0,100,40,s,\n"      /* branch 0 */
                            "1,300,50,s,100\n"   /* keeps the prompt only: branch 1, from 0 */
                            "2,400,5,s,350\n"    /* all of it: branch 1 */
                            "3,410,5,s,404\n"    /* 404 = 400 + 5 - 1: all the tokens with KV: branch 1 */
                            "4,380,5,s,250\n"    /* departs at 250: branch 2, from 1 */
                            "5,900,5,s,\n"       /* derived: 380 + 5, branch 2 */
                            "6,10,5,t,0\n"       /* a first turn may say 0 */
                            "7,20,5,t,0\n",      /* 0: not a continuation, branch 1 */
                            NULL, NULL);
    CU_ASSERT_EQUAL_FATAL(r->len, 8);
    assert_turn(REQ(r, 0), 1, 0, 0, 0);
    assert_turn(REQ(r, 1), 1, 100, 1, 0);
    assert_turn(REQ(r, 2), 1, 350, 1, 1);
    assert_turn(REQ(r, 3), 1, 404, 1, 1);
    assert_turn(REQ(r, 4), 1, 250, 2, 1);
    assert_turn(REQ(r, 5), 1, 385, 2, 2);
    assert_turn(REQ(r, 6), 2, 0, 0, 0);
    assert_turn(REQ(r, 7), 2, 0, 1, 0);
    g_array_free(r, TRUE);
}

/* With skip_bad_rows, bad rows are skipped and counted; the session's next
 * good turn had its previous turn unread, so it is not a continuation
 * (prefix 0, a new branch), whatever prefix it gives; the turn after it is
 * checked against it. With `skip`, a session's first turn read may carry a
 * prefix (its earlier turns were not read): it counts as 0. */
static void test_trace_skipped_rows(void)
{
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.skip_bad_rows = TRUE;
    uint64_t skipped = 0;
    GArray *r = drain_trace("arrival_time_s,input_tokens,output_tokens,session_id,session_prefix_tokens\n"
                            "0,100,40,s,\n"
                            "1,300,50,s,141\n"   /* > 140: refused */
                            "2,300,50,s,-1\n"    /* not a count */
                            "3,300,50,s,400\n"   /* > input */
                            "4,200,10,s,150\n"   /* after skipped rows: prefix 0, branch 1 */
                            "5,240,10,s,\n"      /* derived against row 5: 210, branch 1 */
                            "6,30,5,u,7\n"       /* a first turn with a prefix: refused */
                            "7,40,5,u,\n"        /* u's next turn: its first read */
                            "8,10,5,v,3\n",      /* refused too */
                            &o, &skipped);
    CU_ASSERT_EQUAL(skipped, 5);
    CU_ASSERT_EQUAL_FATAL(r->len, 4);
    assert_turn(REQ(r, 0), 1, 0, 0, 0);
    assert_turn(REQ(r, 1), 1, 0, 1, 0);
    assert_turn(REQ(r, 2), 1, 210, 1, 1);
    assert_turn(REQ(r, 3), 2, 0, 0, 0);
    g_array_free(r, TRUE);

    wl_trace_options_init(&o);
    o.skip = 1;
    r = drain_trace("arrival_time_s,input_tokens,output_tokens,session_id,session_prefix_tokens\n"
                    "0,100,40,s,\n"
                    "1,300,50,s,140\n"  /* the first turn read: 140 counts as 0 */
                    "2,400,5,s,350\n",
                    &o, NULL);
    CU_ASSERT_EQUAL_FATAL(r->len, 2);
    assert_turn(REQ(r, 0), 1, 0, 0, 0);
    assert_turn(REQ(r, 1), 1, 350, 0, 0);
    g_array_free(r, TRUE);
}

/* With a rate (two passes) and a class column the same turns come out. */
static void test_trace_two_passes(void)
{
    const char *text = "arrival_time_s,input_tokens,output_tokens,class,session_id\n"
                       "0,100,40,chat,x\n"
                       "1,100,40,chat,y\n"
                       "2,150,5,code,x\n"
                       "4,150,5,chat,y\n";
    GArray *one = drain_trace(text, NULL, NULL);
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.rate = 2.0;
    GArray *two = drain_trace(text, &o, NULL);
    CU_ASSERT_EQUAL_FATAL(one->len, 4);
    CU_ASSERT_EQUAL_FATAL(two->len, 4);
    for (guint i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(REQ(one, i)->session_id, REQ(two, i)->session_id);
        CU_ASSERT_EQUAL(REQ(one, i)->session_prefix_tokens, REQ(two, i)->session_prefix_tokens);
    }
    assert_turn(REQ(two, 2), 1, 140, 0, 0);
    assert_turn(REQ(two, 3), 2, 140, 0, 0);
    g_array_free(one, TRUE);
    g_array_free(two, TRUE);
}

/* The measured multi-turn runs carry derived sessions
 * (scripts/derive-validation-sessions.py): every later turn keeps the
 * previous prompt only (the answer in it is the recorded one), so each
 * starts a branch. */
static void test_validation_sessions(void)
{
    const struct {
        const char *name;
        guint sessions, later;
        guint64 prefix_tokens;
    } runs[] = {
        {"lss-rtx4090-llama3.1-8b-mns256", 29, 30, 18865},
        {"lss-rtxpro6000-qwen3-32b-tp2", 29, 30, 19310},
    };
    for (gsize k = 0; k < G_N_ELEMENTS(runs); k++) {
        char *path = g_build_filename(ss_test_data_dir(), "validation", runs[k].name, "requests.csv", NULL);
        GError *error = NULL;
        WlSource *src = wl_source_new_trace(path, NULL, &error);
        CU_ASSERT_PTR_NOT_NULL_FATAL(src);
        GArray *r = drain_source(src);
        guint later = 0;
        guint64 max_session = 0, prefix_tokens = 0;
        for (guint i = 0; i < r->len; i++) {
            const WlRequest *q = REQ(r, i);
            max_session = MAX(max_session, q->session_id);
            if (q->session_prefix_tokens > 0) {
                later++;
                prefix_tokens += q->session_prefix_tokens;
                CU_ASSERT_NOT_EQUAL(q->session_branch, q->session_prefix_branch);
            }
        }
        CU_ASSERT_EQUAL(r->len, 300);
        CU_ASSERT_EQUAL(max_session, runs[k].sessions);
        CU_ASSERT_EQUAL(later, runs[k].later);
        CU_ASSERT_EQUAL(prefix_tokens, runs[k].prefix_tokens);
        g_array_free(r, TRUE);
        wl_source_free(src);
        g_free(path);
    }
}

/* -------------------------------------------------------- synthetic -- */

static void set_const(WlDistSpec *d, double v)
{
    memset(d, 0, sizeof *d);
    d->kind = WL_DIST_CONSTANT;
    d->value = v;
}

static void set_uniform(WlDistSpec *d, double lo, double hi)
{
    memset(d, 0, sizeof *d);
    d->kind = WL_DIST_UNIFORM;
    d->min = lo;
    d->max = hi;
}

/* One multi-turn class "chat" (lognormal prompts and outputs, 3 system
 * prompts of 64 tokens, 1-6 turns, 1-200 new tokens, think 5 s, answers
 * at 50 tokens/s), Poisson at `rate` sessions/s. */
static void spec_chat(WlSpec *s, double rate, uint64_t num_requests)
{
    wl_spec_init(s);
    s->arrival.kind = WL_ARRIVAL_POISSON;
    s->arrival.rate = rate;
    s->num_requests = num_requests;
    s->num_classes = 1;
    s->classes = g_new0(WlClassSpec, 1);
    WlClassSpec *c = &s->classes[0];
    c->name = g_strdup("chat");
    c->share = 1;
    c->input.kind = WL_DIST_LOGNORMAL;
    c->input.mean = 300;
    c->input.stddev = 200;
    c->output.kind = WL_DIST_LOGNORMAL;
    c->output.mean = 150;
    c->output.stddev = 100;
    c->prefix_groups = 3;
    c->prefix_tokens = 64;
    c->multi_turn = TRUE;
    set_uniform(&c->session.turns, 1, 6);
    set_uniform(&c->session.new_tokens, 1, 200);
    set_const(&c->session.think_s, 5);
    c->session.answer_tokens_per_s = 50;
}

static GArray *drain_spec(const WlSpec *s, guint64 seed)
{
    GError *error = NULL;
    WlSource *src = wl_source_new_synthetic(s, seed, &error);
    if (!src)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    GArray *r = drain_source(src);
    wl_source_free(src);
    return r;
}

/* Each later turn continues the last: prompt = previous prompt + previous
 * output + new tokens (1-200), session prefix = previous prompt + output,
 * branch 0, the same system prompt and class; it arrives exactly 5 s +
 * output / 50 s after the previous turn; sessions are numbered in order of
 * their first turn and have 1 to 6 turns. */
static void test_synthetic_turns(void)
{
    WlSpec s;
    spec_chat(&s, 2, 3000);
    GArray *r = drain_spec(&s, 11);
    CU_ASSERT_EQUAL_FATAL(r->len, 3000);
    GHashTable *last = g_hash_table_new(g_int64_hash, g_int64_equal); /* session -> index of last turn */
    GHashTable *turns = g_hash_table_new(g_int64_hash, g_int64_equal);
    uint64_t max_session = 0, later = 0;
    for (guint i = 0; i < r->len; i++) {
        const WlRequest *q = REQ(r, i);
        CU_ASSERT_EQUAL(q->id, i);
        CU_ASSERT_FATAL(q->session_id >= 1);
        if (i > 0)
            CU_ASSERT(q->arrival >= REQ(r, i - 1)->arrival);
        CU_ASSERT_EQUAL(q->session_branch, 0);
        CU_ASSERT_EQUAL(q->session_prefix_branch, 0);
        gpointer prev_idx = g_hash_table_lookup(last, &REQ(r, i)->session_id);
        if (!prev_idx) {
            CU_ASSERT_EQUAL(q->session_id, max_session + 1); /* numbered in order of first turns */
            max_session = q->session_id;
            CU_ASSERT_EQUAL(q->session_prefix_tokens, 0);
            CU_ASSERT(q->prefix_group >= 1 && q->prefix_group <= 3);
            CU_ASSERT_EQUAL(q->shared_prefix_tokens, 64);
        } else {
            const WlRequest *p = REQ(r, GPOINTER_TO_UINT(prev_idx) - 1);
            uint32_t prefix = p->input_tokens + p->output_tokens;
            CU_ASSERT_EQUAL(q->session_prefix_tokens, prefix);
            CU_ASSERT(q->input_tokens >= prefix + 1 && q->input_tokens <= prefix + 200);
            CU_ASSERT_EQUAL(q->prefix_group, p->prefix_group);
            CU_ASSERT_EQUAL(q->shared_prefix_tokens, 64);
            CU_ASSERT_EQUAL(q->class_id, p->class_id);
            CU_ASSERT_EQUAL(q->arrival - p->arrival, sim_time_from_seconds(5.0 + p->output_tokens / 50.0));
            later++;
        }
        g_hash_table_insert(last, &REQ(r, i)->session_id, GUINT_TO_POINTER(i + 1));
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(turns, &REQ(r, i)->session_id)) + 1;
        CU_ASSERT(n <= 6);
        g_hash_table_insert(turns, &REQ(r, i)->session_id, GUINT_TO_POINTER(n));
    }
    /* 1-6 turns, 3.5 on average: most requests are later turns */
    CU_ASSERT(later > r->len / 2);
    CU_ASSERT(max_session > 3000 / 6);
    g_hash_table_destroy(last);
    g_hash_table_destroy(turns);
    g_array_free(r, TRUE);
    wl_spec_clear(&s);
}

/* max_input_tokens ends a session before a longer prompt; duration_s ends
 * it at the workload's end; num_requests cuts the last sessions. */
static void test_synthetic_limits(void)
{
    WlSpec s;
    spec_chat(&s, 1, 0);
    s.duration_s = 400;
    set_uniform(&s.classes[0].session.turns, 20, 20);
    s.classes[0].session.max_input_tokens = 1500;
    GArray *r = drain_spec(&s, 5);
    CU_ASSERT(r->len > 100);
    guint max_turns = 0;
    GHashTable *turns = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint i = 0; i < r->len; i++) {
        const WlRequest *q = REQ(r, i);
        CU_ASSERT(q->arrival < sim_time_from_seconds(400));
        if (q->session_prefix_tokens > 0) /* a first turn may be longer: its own draw */
            CU_ASSERT(q->input_tokens <= 1500);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(turns, &REQ(r, i)->session_id)) + 1;
        g_hash_table_insert(turns, &REQ(r, i)->session_id, GUINT_TO_POINTER(n));
        max_turns = MAX(max_turns, n);
    }
    CU_ASSERT(max_turns > 1 && max_turns < 20); /* 20 turns never fit in 1500 tokens */
    g_hash_table_destroy(turns);
    g_array_free(r, TRUE);
    wl_spec_clear(&s);
}

static gboolean same_turns(const GArray *a, const GArray *b)
{
    if (a->len != b->len)
        return FALSE;
    for (guint i = 0; i < a->len; i++) {
        const WlRequest *x = REQ(a, i), *y = REQ(b, i);
        if (x->arrival != y->arrival || x->input_tokens != y->input_tokens ||
            x->output_tokens != y->output_tokens || x->prefix_group != y->prefix_group ||
            x->session_id != y->session_id || x->session_prefix_tokens != y->session_prefix_tokens)
            return FALSE;
    }
    return TRUE;
}

/* The same seed gives the same turns; another seed others. A second class
 * (single requests) at the same rate of its own leaves the multi-turn
 * class's turns unchanged. */
static void test_synthetic_determinism_and_independence(void)
{
    WlSpec s;
    spec_chat(&s, 3, 2000);
    GArray *a = drain_spec(&s, 42), *b = drain_spec(&s, 42), *c = drain_spec(&s, 43);
    CU_ASSERT(same_turns(a, b));
    CU_ASSERT_FALSE(same_turns(a, c));

    WlSpec two;
    spec_chat(&two, 6, 4000); /* share 1 of 2: chat keeps 3 sessions/s */
    two.classes = g_renew(WlClassSpec, two.classes, 2);
    two.num_classes = 2;
    WlClassSpec *other = &two.classes[1];
    memset(other, 0, sizeof *other);
    other->name = g_strdup("batch");
    other->share = 1;
    set_const(&other->input, 1000);
    set_const(&other->output, 10);
    GArray *mixed = drain_spec(&two, 42);
    GArray *chat = g_array_new(FALSE, FALSE, sizeof(WlRequest));
    for (guint i = 0; i < mixed->len; i++)
        if (REQ(mixed, i)->class_id == 0)
            g_array_append_val(chat, *REQ(mixed, i));
    CU_ASSERT(chat->len > 1000);
    GArray *prefix = g_array_new(FALSE, FALSE, sizeof(WlRequest));
    g_array_append_vals(prefix, a->data, MIN(a->len, chat->len));
    g_array_set_size(chat, prefix->len);
    CU_ASSERT(same_turns(prefix, chat));
    g_array_free(prefix, TRUE);
    g_array_free(chat, TRUE);
    g_array_free(mixed, TRUE);
    wl_spec_clear(&two);
    g_array_free(a, TRUE);
    g_array_free(b, TRUE);
    g_array_free(c, TRUE);
    wl_spec_clear(&s);
}

static void test_synthetic_describe(void)
{
    WlSpec s;
    spec_chat(&s, 2, 10);
    GError *error = NULL;
    WlSource *src = wl_source_new_synthetic(&s, 1, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    CU_ASSERT_STRING_EQUAL(wl_source_describe(src),
                           "poisson 2 req/s, 1 class (1 multi-turn: the rate starts its sessions), 10 requests");
    CU_ASSERT_DOUBLE_EQUAL(wl_source_offered_rate(src), 0.0, 0); /* unknown: depends on the turns */
    wl_source_free(src);
    wl_spec_clear(&s);
}

static void expect_invalid(const WlSpec *s, const char *message)
{
    GError *error = NULL;
    CU_ASSERT_FALSE(wl_spec_validate(s, "s.json", &error));
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    if (strcmp(error->message, message) != 0)
        fprintf(stderr, "\n  got      %s\n  expected %s\n", error->message, message);
    CU_ASSERT_STRING_EQUAL(error->message, message);
    g_error_free(error);
}

static void test_session_spec_checks(void)
{
    WlSpec s;
    spec_chat(&s, 2, 10);
    WlSessionSpec *ss = &s.classes[0].session;
    set_uniform(&ss->turns, 0, 3);
    expect_invalid(&s, "s.json: workload.classes[0].session.turns.min: expected an integer from 1 to "
                       "1000000000, got 0");
    set_uniform(&ss->turns, 1, 3);
    set_const(&ss->new_tokens, 0);
    expect_invalid(&s, "s.json: workload.classes[0].session.new_tokens.value: expected a number from 1 to "
                       "1000000000, got 0");
    set_const(&ss->new_tokens, 10);
    set_const(&ss->think_s, -1);
    expect_invalid(&s, "s.json: workload.classes[0].session.think_s.value: expected a number of seconds "
                       "from 0 to 1e+09, got -1");
    set_uniform(&ss->think_s, 3, 2.5);
    expect_invalid(&s, "s.json: workload.classes[0].session.think_s.max: expected a number of seconds from 3 "
                       "(min) to 1e+09, got 2.5");
    ss->think_s.kind = WL_DIST_EMPIRICAL;
    expect_invalid(&s, "s.json: workload.classes[0].session.think_s.dist: expected one of constant, uniform, "
                       "normal, lognormal (seconds), got empirical");
    set_uniform(&ss->think_s, 0, 0.5); /* fractions of seconds are fine */
    ss->answer_tokens_per_s = -2;
    expect_invalid(&s, "s.json: workload.classes[0].session.answer_tokens_per_s: expected a non-negative "
                       "number (0: no time for the answer), got -2");
    ss->answer_tokens_per_s = 0;
    GError *error = NULL;
    CU_ASSERT(wl_spec_validate(&s, "s.json", &error));
    g_clear_error(&error);
    wl_spec_clear(&s);
}

static const SsTestCase trace_cases[] = {
    {"derived session prefixes and ids", test_trace_derived_prefix},
    {"given prefixes and branches", test_trace_given_prefix_branches},
    {"skipped rows change nothing", test_trace_skipped_rows},
    {"two passes give the same turns", test_trace_two_passes},
    {"the measured multi-turn runs", test_validation_sessions},
    {NULL, NULL},
};

static const SsTestCase synthetic_cases[] = {
    {"each turn continues the last, arrival rule", test_synthetic_turns},
    {"max_input_tokens and the stop rules", test_synthetic_limits},
    {"seeds and independent classes", test_synthetic_determinism_and_independence},
    {"description and offered rate", test_synthetic_describe},
    {"session spec checks", test_session_spec_checks},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {
        {"trace sessions", trace_cases},
        {"synthetic sessions", synthetic_cases},
        {NULL, NULL},
    };
    return ss_test_main(argc, argv, suites);
}
