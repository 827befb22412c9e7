/*
 * test_sched_options.c: the engine options in the scheduler (docs/options/),
 * on cases worked out by hand and on random workloads:
 *   - priority: the waiting queue by (priority, arrival); every preemption
 *     takes the running request of the lowest priority (largest value, then
 *     latest arrival), unscheduled from the step when it was scheduled;
 *   - speculative decoding: a decode carries 1 + k tokens within the budget,
 *     the accepted drafts follow the acceptance model (statistics of a
 *     seeded draw; vLLM's minimum-variance schedule for a mean length),
 *     rejected drafts give their KV back, outputs stop at max_tokens;
 *   - sliding windows: a request holds the blocks of its window only, in
 *     every sliding group (the blocks a sequence needs, by hand);
 *   - CPU offload: a prefix evicted from the GPU is loaded from the host
 *     tier; LMCache hits come in whole 256-token chunks;
 *   - LoRA: never more than max_loras adapters in a step, a request of
 *     another adapter waits while later ones of resident adapters run;
 *   - every option on at once: the scheduler's invariants after every step.
 */
#include <math.h>
#include <string.h>

#include "sched.h"
#include "sched_kv.h"
#include "sched_options.h"
#include "ss_error.h"
#include "ss_test.h"

#define MAXR 4096

typedef struct {
    SchedScheduler *s;
    SchedRequest *reqs;
    uint32_t n;
} Fixture;

static SchedConfig base_config(uint32_t mns, uint32_t mnbt, uint32_t blocks, uint32_t bs)
{
    SchedConfig c = {.max_num_seqs = mns,
                     .max_num_batched_tokens = mnbt,
                     .max_model_len = 100000,
                     .block_size = bs,
                     .num_gpu_blocks = blocks,
                     .enable_prefix_caching = TRUE};
    return c;
}

static void fx_init(Fixture *f, const SchedConfig *c)
{
    memset(f, 0, sizeof *f);
    GError *error = NULL;
    f->s = sched_new(c, &error);
    g_assert_no_error(error);
    f->reqs = g_new0(SchedRequest, MAXR);
}

static SchedRequest *fx_add(Fixture *f, uint32_t prompt, uint32_t output, int32_t priority, uint32_t lora)
{
    g_assert(f->n < MAXR);
    SchedRequest *r = &f->reqs[f->n];
    sched_request_init(r, f->n, prompt, output, 0, 0);
    r->priority = priority;
    r->lora_id = lora;
    f->n++;
    sched_add_request(f->s, r);
    return r;
}

static void fx_free(Fixture *f)
{
    for (uint32_t i = 0; i < f->n; i++)
        sched_request_release(&f->reqs[i]);
    sched_free(f->s);
    g_free(f->reqs);
}

static void assert_invariants(SchedScheduler *s)
{
    char *why = NULL;
    gboolean ok = sched_check_invariants(s, &why);
    if (!ok)
        fprintf(stderr, "\n  invariant broken: %s\n", why);
    CU_ASSERT(ok);
    g_free(why);
}

/* The batch's entries are those of the step's requests, in order. */
static void assert_batch_matches(const SchedStep *st)
{
    CU_ASSERT_EQUAL(st->batch.num_entries, st->num_reqs);
    uint64_t total = 0;
    for (uint32_t i = 0; i < st->num_reqs && i < st->batch.num_entries; i++) {
        CU_ASSERT_EQUAL(st->batch.entries[i].new_tokens, st->reqs[i]->scheduled_tokens);
        total += st->batch.entries[i].new_tokens;
    }
    CU_ASSERT_EQUAL(total, st->batch.total_tokens);
}

static gboolean in_step(const SchedStep *st, const SchedRequest *r)
{
    for (uint32_t i = 0; i < st->num_reqs; i++)
        if (st->reqs[i] == r)
            return TRUE;
    return FALSE;
}

/* ----------------------------------------------------------- priority -- */

static gint cmp_prio(gconstpointer a, gconstpointer b)
{
    const SchedRequest *x = *(SchedRequest *const *)a, *y = *(SchedRequest *const *)b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

/* The heap against a sorted reference: 400 requests of random priorities
 * (many ties), admitted one at a time, leave in (priority, arrival) order. */
static void test_priority_heap_reference(void)
{
    SchedConfig c = base_config(1, 10000, 100000, 16);
    c.policy = SCHED_POLICY_PRIORITY;
    Fixture f;
    fx_init(&f, &c);
    GRand *rng = g_rand_new_with_seed(7);
    GPtrArray *ref = g_ptr_array_new();
    for (int i = 0; i < 400; i++)
        g_ptr_array_add(ref, fx_add(&f, 8, 1, g_rand_int_range(rng, -20, 20), 0));
    g_ptr_array_sort(ref, cmp_prio);
    guint next = 0;
    for (int k = 0; k < 1000 && next < ref->len; k++) {
        const SchedStep *st = sched_schedule(f.s);
        for (uint32_t i = st->num_reqs - st->num_admitted; i < st->num_reqs; i++)
            CU_ASSERT_PTR_EQUAL(st->reqs[i], g_ptr_array_index(ref, next++));
        sched_finish_step(f.s);
        assert_invariants(f.s);
    }
    CU_ASSERT_EQUAL(next, 400);
    g_ptr_array_free(ref, TRUE);
    g_rand_free(rng);
    fx_free(&f);
}

static void test_priority_order(void)
{
    SchedConfig c = base_config(2, 10000, 1000, 16);
    c.policy = SCHED_POLICY_PRIORITY;
    Fixture f;
    fx_init(&f, &c);
    fx_add(&f, 10, 3, 5, 0);  /* 0 */
    fx_add(&f, 10, 3, 1, 0);  /* 1 */
    fx_add(&f, 10, 3, 3, 0);  /* 2 */
    fx_add(&f, 10, 3, 1, 0);  /* 3: the same priority as 1, later */
    fx_add(&f, 10, 3, -2, 0); /* 4: negative priorities come first */
    const SchedStep *st = sched_schedule(f.s);
    CU_ASSERT_EQUAL_FATAL(st->num_reqs, 2);
    CU_ASSERT_EQUAL(st->reqs[0]->id, 4);
    CU_ASSERT_EQUAL(st->reqs[1]->id, 1);
    /* the rest leave the queue in order: 3 (1), 2 (3), 0 (5) */
    uint32_t order[5], n = 0;
    order[n++] = 4;
    order[n++] = 1;
    for (int k = 0; k < 50 && n < 5; k++) {
        sched_finish_step(f.s);
        st = sched_schedule(f.s);
        for (uint32_t i = st->num_reqs - st->num_admitted; i < st->num_reqs; i++)
            order[n++] = (uint32_t)st->reqs[i]->id;
        assert_invariants(f.s);
    }
    CU_ASSERT_EQUAL_FATAL(n, 5);
    CU_ASSERT_EQUAL(order[2], 3);
    CU_ASSERT_EQUAL(order[3], 2);
    CU_ASSERT_EQUAL(order[4], 0);
    fx_free(&f);
}

/* Runs a KV-starved workload; at every preemption the victim must be the
 * running request of the largest (priority, arrival) among those running
 * before the step, and it must not be in the step. */
static void check_preemption_order(gboolean priority)
{
    SchedConfig c = base_config(16, 256, 40, 16);
    c.policy = priority ? SCHED_POLICY_PRIORITY : SCHED_POLICY_FCFS;
    Fixture f;
    fx_init(&f, &c);
    GRand *r = g_rand_new_with_seed(7);
    uint32_t preemptions = 0, unscheduled = 0;
    for (int k = 0; k < 2000; k++) {
        if (k % 3 == 0 && f.n < 300)
            fx_add(&f, (uint32_t)g_rand_int_range(r, 20, 120), (uint32_t)g_rand_int_range(r, 20, 200),
                   priority ? g_rand_int_range(r, 0, 5) : 0, 0);
        /* the running set before the step, in admission order */
        SchedRequest *before[32];
        uint32_t nb = sched_num_running(f.s);
        for (uint32_t i = 0; i < nb; i++)
            before[i] = sched_running_at(f.s, i);
        const SchedStep *st = sched_schedule(f.s);
        assert_batch_matches(st);
        if (st->num_preempted > 0) {
            /* the victims are the first num_preempted requests by the rule, from the end */
            SchedRequest *left[32];
            uint32_t nl = nb;
            memcpy(left, before, nb * sizeof *before);
            for (uint32_t v = 0; v < st->num_preempted && nl > 0; v++) {
                uint32_t want = nl - 1;
                if (priority)
                    for (uint32_t i = 0; i < nl; i++)
                        if (left[i]->priority > left[want]->priority ||
                            (left[i]->priority == left[want]->priority && left[i]->id > left[want]->id))
                            want = i;
                SchedRequest *victim = left[want];
                CU_ASSERT(victim->status == SCHED_PREEMPTED);
                CU_ASSERT_FALSE(in_step(st, victim));
                if (victim->status != SCHED_PREEMPTED && preemptions < 3)
                    fprintf(stderr, "\n  expected request %" G_GUINT64_FORMAT " (priority %d) to be preempted",
                            victim->id, victim->priority);
                if (want < nl - 1)
                    unscheduled++;
                memmove(left + want, left + want + 1, (nl - want - 1) * sizeof *left);
                nl--;
                preemptions++;
            }
        }
        sched_finish_step(f.s);
        assert_invariants(f.s);
    }
    fprintf(stderr, "\n  %s: %u preemptions checked (%u victims not at the tail)", priority ? "priority" : "fcfs",
            preemptions, unscheduled);
    CU_ASSERT(preemptions > 20);
    if (priority)
        CU_ASSERT(unscheduled > 0);
    g_rand_free(r);
    fx_free(&f);
}

static void test_priority_preemption(void)
{
    check_preemption_order(TRUE);
    check_preemption_order(FALSE);
}

/* -------------------------------------------------------------- spec -- */

static SchedConfig spec_config(uint32_t k, const double *rates)
{
    SchedConfig c = base_config(64, 2048, 4000, 16);
    c.num_spec_tokens = k;
    c.num_lookahead_tokens = k;
    c.spec_seed = 42;
    memcpy(c.spec_accept, rates, k * sizeof *rates);
    return c;
}

static void test_spec_step_by_hand(void)
{
    static const double rates[] = {0.8, 0.5, 0.2};
    SchedConfig c = spec_config(3, rates);
    Fixture f;
    fx_init(&f, &c);
    SchedRequest *r = fx_add(&f, 20, 100, 0, 0);
    const SchedStep *st = sched_schedule(f.s); /* the prompt */
    CU_ASSERT_EQUAL(st->batch.total_tokens, 20);
    CU_ASSERT_EQUAL(st->batch.spec_tokens, 0);
    sched_finish_step(f.s);
    CU_ASSERT_EQUAL(r->num_output, 1);
    CU_ASSERT_EQUAL(r->spec_pending, 3); /* drafted for the next step */
    uint32_t draws = 0;
    while (r->status != SCHED_FINISHED) {
        uint32_t out = r->num_output;
        st = sched_schedule(f.s);
        CU_ASSERT_EQUAL(st->num_reqs, 1);
        CU_ASSERT_EQUAL(st->batch.entries[0].new_tokens, 4); /* its last token and 3 drafts */
        CU_ASSERT_EQUAL(st->batch.entries[0].spec_tokens, 3);
        CU_ASSERT_EQUAL(st->batch.num_decode, 1);
        CU_ASSERT_EQUAL(st->batch.spec_tokens, 3);
        /* KV slots for the drafts and the lookahead: 4 + 3 past the cached tokens */
        CU_ASSERT(r->num_blocks * 16 >= r->num_computed + 3);
        sched_finish_step(f.s);
        uint32_t a = sched_spec_draw(&c, r->id, out, 3); /* drawn at its output count */
        uint32_t want = MIN(out + 1 + a, 100u);
        CU_ASSERT_EQUAL(r->num_output, want);
        if (r->status != SCHED_FINISHED)
            CU_ASSERT_EQUAL(r->num_computed, sched_request_num_tokens(r) - 1); /* rejected drafts' KV given back */
        assert_invariants(f.s);
        draws++;
    }
    CU_ASSERT_EQUAL(r->num_output, 100); /* never past max_tokens */
    SchedOptionStats stats;
    sched_option_stats(f.s, &stats);
    CU_ASSERT_EQUAL(stats.spec_verifications, draws);
    CU_ASSERT_EQUAL(stats.spec_drafted, 3 * draws);
    fx_free(&f);
}

static void test_spec_budget(void)
{
    static const double rates[] = {1.0, 1.0, 1.0};
    SchedConfig c = spec_config(3, rates);
    c.max_num_batched_tokens = 10;
    c.max_num_seqs = 4;
    Fixture f;
    fx_init(&f, &c);
    for (int i = 0; i < 4; i++)
        fx_add(&f, 2, 50, 0, 0);
    const SchedStep *st = sched_schedule(f.s); /* the four prompts, 8 tokens */
    CU_ASSERT_EQUAL(st->batch.total_tokens, 8);
    sched_finish_step(f.s);
    st = sched_schedule(f.s);
    /* vLLM V1 counts the drafts in the token budget: 4 + 4 + 2 tokens */
    CU_ASSERT_EQUAL_FATAL(st->num_reqs, 3);
    CU_ASSERT_EQUAL(st->batch.total_tokens, 10);
    CU_ASSERT_EQUAL(st->batch.entries[0].spec_tokens, 3);
    CU_ASSERT_EQUAL(st->batch.entries[1].spec_tokens, 3);
    CU_ASSERT_EQUAL(st->batch.entries[2].new_tokens, 2);
    CU_ASSERT_EQUAL(st->batch.entries[2].spec_tokens, 1); /* the drafts that fit */
    CU_ASSERT_EQUAL(st->batch.spec_tokens, 7);
    CU_ASSERT_EQUAL(st->batch.num_decode, 3);
    CU_ASSERT_EQUAL(st->batch.num_sampled, 3);
    sched_finish_step(f.s);
    CU_ASSERT_EQUAL(f.reqs[2].num_output, 1 + 2); /* all accepted: 1 draft and the bonus token */
    CU_ASSERT_EQUAL(f.reqs[0].num_output, 1 + 4);
    assert_invariants(f.s);
    fx_free(&f);
}

static void test_acceptance_model(void)
{
    GError *error = NULL;
    double rates[SCHED_MAX_SPEC_TOKENS];
    /* vLLM's minimum-variance schedule for a mean length of 2.6 with k = 4 */
    CU_ASSERT(sched_spec_rates_from_length(2.6, 4, rates, &error));
    CU_ASSERT_DOUBLE_EQUAL(rates[0], 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(rates[1], 0.6, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(rates[2], 0.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(sched_spec_mean_length(rates, 4), 2.6, 1e-12);
    CU_ASSERT_FALSE(sched_spec_rates_from_length(5.5, 4, rates, &error)); /* more than k + 1 */
    CU_ASSERT(error && error->code == SS_ERROR_USAGE);
    g_clear_error(&error);
    CU_ASSERT(sched_spec_rates_from_conditional(0.7, 3, rates, &error));
    CU_ASSERT_DOUBLE_EQUAL(rates[2], 0.343, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(sched_spec_mean_length(rates, 3), 1 + 0.7 + 0.49 + 0.343, 1e-12);
    double up[] = {0.5, 0.6};
    CU_ASSERT_FALSE(sched_spec_rates_check(up, 2, &error));
    CU_ASSERT(error && strstr(error->message, "non-increasing"));
    g_clear_error(&error);

    /* the draws: P(a >= i) = rates[i-1] within 4 standard errors over 200,000 draws */
    static const double r[] = {0.85, 0.6, 0.4, 0.1};
    SchedConfig c = {.num_spec_tokens = 4, .spec_seed = 1234};
    memcpy(c.spec_accept, r, sizeof r);
    const guint n = 200000;
    guint at_least[5] = {0};
    double sum = 0;
    for (guint i = 0; i < n; i++) {
        uint32_t a = sched_spec_draw(&c, i / 50, i % 50, 4);
        CU_ASSERT(a <= 4);
        sum += a;
        for (uint32_t j = 1; j <= a; j++)
            at_least[j]++;
    }
    for (guint j = 1; j <= 4; j++) {
        double p = (double)at_least[j] / n, se = sqrt(r[j - 1] * (1 - r[j - 1]) / n);
        fprintf(stderr, "\n  P(a >= %u) = %.4f, model %.2f", j, p, r[j - 1]);
        CU_ASSERT(fabs(p - r[j - 1]) < 4 * se + 1e-9);
    }
    CU_ASSERT(fabs(sum / n - (0.85 + 0.6 + 0.4 + 0.1)) < 0.01);
    /* fewer drafts than k: the count never exceeds them */
    for (guint i = 0; i < 1000; i++)
        CU_ASSERT(sched_spec_draw(&c, 7, i, 2) <= 2);
    /* seeded and pure: the same arguments give the same count, another seed others */
    guint same = 0, differ = 0;
    SchedConfig c2 = c;
    c2.spec_seed = 99;
    for (guint i = 0; i < 1000; i++) {
        same += sched_spec_draw(&c, 3, i, 4) == sched_spec_draw(&c, 3, i, 4);
        differ += sched_spec_draw(&c, 3, i, 4) != sched_spec_draw(&c2, 3, i, 4);
    }
    CU_ASSERT_EQUAL(same, 1000);
    CU_ASSERT(differ > 300);
}

/* A workload's mean acceptance length matches the model's. */
static void test_spec_workload_statistics(void)
{
    static const double rates[] = {0.9, 0.7, 0.5, 0.3};
    SchedConfig c = spec_config(4, rates);
    c.max_model_len = 4096;
    Fixture f;
    fx_init(&f, &c);
    for (int i = 0; i < 400; i++)
        fx_add(&f, 100, 300, 0, 0);
    for (int k = 0; k < 20000 && (sched_num_running(f.s) || sched_num_waiting(f.s)); k++) {
        sched_schedule(f.s);
        sched_finish_step(f.s);
    }
    SchedOptionStats st;
    sched_option_stats(f.s, &st);
    double length = 1.0 + (double)st.spec_accepted / st.spec_verifications;
    fprintf(stderr, "\n  %" G_GUINT64_FORMAT " verifications: mean acceptance length %.4f, model %.4f",
            st.spec_verifications, length, sched_spec_mean_length(rates, 4));
    CU_ASSERT(st.spec_verifications > 20000);
    CU_ASSERT(fabs(length - 3.4) < 0.03);
    for (uint32_t i = 0; i < f.n; i++)
        CU_ASSERT_EQUAL(f.reqs[i].num_output, 300);
    fx_free(&f);
}

/* ------------------------------------------------------------ window -- */

static void test_blocks_for_tokens(void)
{
    SchedConfig c = {.block_size = 16, .kv_groups_sliding = 6, .sliding_window = 1024,
                     .max_num_batched_tokens = 2048, .max_model_len = 32768};
    /* a sliding group holds the window and a step's tokens: ceil((1023 + 2048) / 16) + 1 = 193 blocks */
    CU_ASSERT_EQUAL(sched_window_cap_blocks(&c), 193);
    CU_ASSERT_EQUAL(sched_blocks_for_tokens(&c, 8192), 512 + 6 * 193);
    CU_ASSERT_EQUAL(sched_blocks_for_tokens(&c, 100), 7 + 6 * 7);
    c.max_model_len = 1500; /* min(3071, 1500) tokens: ceil(1500 / 16) + 1 = 95 */
    CU_ASSERT_EQUAL(sched_window_cap_blocks(&c), 95);
    CU_ASSERT_EQUAL(sched_blocks_for_tokens(&c, 1500), 94 + 6 * 94);
    c.kv_groups_sliding = 0;
    CU_ASSERT_EQUAL(sched_blocks_for_tokens(&c, 8192), 512);
    CU_ASSERT_EQUAL(sched_window_first(&(SchedConfig){.block_size = 16, .sliding_window = 64}, 63), 0);
    CU_ASSERT_EQUAL(sched_window_first(&(SchedConfig){.block_size = 16, .sliding_window = 64}, 79), 1);
}

static void test_window_bounded(void)
{
    SchedConfig c = base_config(8, 64, 400, 16);
    c.kv_groups_sliding = 2;
    c.sliding_window = 64;
    Fixture f;
    fx_init(&f, &c);
    SchedRequest *r = fx_add(&f, 500, 300, 0, 0);
    uint32_t max_rows = 0, steps = 0;
    while (r->status != SCHED_FINISHED) {
        const SchedStep *st = sched_schedule(f.s);
        /* rows held: the window behind the computed tokens and this step's tokens */
        uint32_t computed_before = r->num_computed - r->scheduled_tokens;
        uint32_t first = sched_window_first(&c, computed_before);
        uint32_t end = (r->num_computed + 15) / 16;
        CU_ASSERT_PTR_NOT_NULL_FATAL(r->window);
        CU_ASSERT_EQUAL(r->window->first, first);
        CU_ASSERT_EQUAL(r->window->rows, end - first);
        CU_ASSERT(r->window->rows <= (64 - 1 + st->batch.total_tokens + 15) / 16 + 1);
        /* the pool: the full group's blocks plus the rows of both sliding groups */
        CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(f.s)), r->num_blocks + 2 * r->window->rows);
        max_rows = MAX(max_rows, r->window->rows);
        sched_finish_step(f.s);
        assert_invariants(f.s);
        steps++;
    }
    /* 800 tokens with a 64-token window: at most (63 + 64) / 16 + 1 rows in a prefill chunk */
    CU_ASSERT(max_rows <= 9);
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(f.s)), 0);
    fprintf(stderr, "\n  %u steps, at most %u sliding rows held (%u blocks of 2 groups) for 800 tokens", steps,
            max_rows, 2 * max_rows);
    fx_free(&f);
}

/* A long prompt is admitted under scheduler_reserve_full_isl when its full
 * group and the sliding groups' capped window fit, not its whole length in
 * every group (vLLM's admission cap). */
static void test_window_admission_cap(void)
{
    SchedConfig c = base_config(8, 256, 0, 16);
    c.kv_groups_sliding = 2;
    c.sliding_window = 64;
    c.reserve_full_isl = TRUE;
    /* 4000 tokens: 250 full blocks; each sliding group at most ceil((63 + 256) / 16) + 1 = 21 */
    c.num_gpu_blocks = 250 + 2 * 21 + 1;
    CU_ASSERT_EQUAL(sched_blocks_for_tokens(&c, 4000), 292);
    Fixture f;
    fx_init(&f, &c);
    SchedRequest *r = fx_add(&f, 4000, 10, 0, 0);
    const SchedStep *st = sched_schedule(f.s);
    CU_ASSERT_EQUAL(st->num_reqs, 1); /* not 250 x 3 blocks */
    sched_finish_step(f.s);
    for (int k = 0; k < 1000 && r->status != SCHED_FINISHED; k++) {
        sched_schedule(f.s);
        sched_finish_step(f.s);
        assert_invariants(f.s);
    }
    CU_ASSERT_EQUAL(r->status, SCHED_FINISHED);
    CU_ASSERT_EQUAL(r->num_preemptions, 0);
    fx_free(&f);
}

/* ----------------------------------------------------------- offload -- */

static void run_until_done(Fixture *f)
{
    for (int k = 0; k < 100000 && (sched_num_running(f->s) || sched_num_waiting(f->s)); k++) {
        sched_schedule(f->s);
        sched_finish_step(f->s);
        assert_invariants(f->s);
    }
}

static void check_offload(uint32_t chunk, uint32_t prompt, uint32_t want_loaded)
{
    SchedConfig c = base_config(4, 4096, 60, 16);
    c.cpu_blocks = 2000;
    c.cpu_hit_tokens = chunk;
    Fixture f;
    fx_init(&f, &c);
    SchedRequest *a = &f.reqs[f.n];
    sched_request_init(a, f.n++, prompt, 4, 1, 512); /* a 512-token system prompt, group 1 */
    sched_add_request(f.s, a);
    run_until_done(&f);
    /* other requests evict the group's blocks from the 59-block GPU pool */
    for (int i = 0; i < 6; i++)
        fx_add(&f, 700, 4, 0, 0);
    run_until_done(&f);
    SchedRequest *b = &f.reqs[f.n];
    sched_request_init(b, f.n++, prompt, 4, 1, 512);
    sched_add_request(f.s, b);
    const SchedStep *st = sched_schedule(f.s);
    CU_ASSERT_EQUAL(st->num_reqs, 1);
    CU_ASSERT_EQUAL(b->num_cached_tokens, want_loaded); /* no GPU hit: all loaded */
    CU_ASSERT_EQUAL(st->batch.kv_load_tokens, want_loaded);
    CU_ASSERT_EQUAL(st->batch.total_tokens, prompt - want_loaded);
    sched_finish_step(f.s);
    run_until_done(&f);
    SchedOptionStats stats;
    sched_option_stats(f.s, &stats);
    CU_ASSERT_EQUAL(stats.offload_hit_tokens, want_loaded);
    CU_ASSERT(stats.offload_stores > 32);
    fx_free(&f);
}

static void test_offload(void)
{
    check_offload(0, 600, 512);    /* native: the 32 blocks of the group prefix */
    check_offload(256, 600, 512);  /* LMCache: two whole chunks */
    check_offload(256, 500, 256);  /* LMCache: 31 blocks hold 1 whole chunk (the last token is never a hit) */
}

static void test_cpu_tier_lru(void)
{
    SchedCpuTier *t = sched_cpu_tier_new(3);
    CU_ASSERT(sched_cpu_tier_store(t, 11));
    CU_ASSERT(sched_cpu_tier_store(t, 12));
    CU_ASSERT(sched_cpu_tier_store(t, 13));
    CU_ASSERT_FALSE(sched_cpu_tier_store(t, 11)); /* present: now the most recent */
    CU_ASSERT(sched_cpu_tier_store(t, 14));       /* evicts 12, the least recent */
    CU_ASSERT(sched_cpu_tier_contains(t, 11) && sched_cpu_tier_contains(t, 13) && sched_cpu_tier_contains(t, 14));
    CU_ASSERT_FALSE(sched_cpu_tier_contains(t, 12));
    sched_cpu_tier_touch(t, 13);
    CU_ASSERT(sched_cpu_tier_store(t, 15)); /* evicts 11 */
    CU_ASSERT_FALSE(sched_cpu_tier_contains(t, 11));
    CU_ASSERT_EQUAL(sched_cpu_tier_size(t), 3);
    /* a reference model over many keys */
    SchedCpuTier *big = sched_cpu_tier_new(100);
    GRand *r = g_rand_new_with_seed(3);
    guint64 order[100];
    guint n = 0;
    for (int k = 0; k < 20000; k++) {
        guint64 key = (guint64)g_rand_int_range(r, 1, 300);
        gboolean fresh = sched_cpu_tier_store(big, key);
        guint at = n;
        for (guint i = 0; i < n; i++)
            if (order[i] == key)
                at = i;
        CU_ASSERT_EQUAL(fresh, at == n);
        if (at < n)
            memmove(order + at, order + at + 1, (n - at - 1) * sizeof *order), n--;
        else if (n == 100)
            memmove(order, order + 1, 99 * sizeof *order), n--;
        order[n++] = key;
    }
    for (guint i = 0; i < n; i++)
        CU_ASSERT(sched_cpu_tier_contains(big, order[i]));
    g_rand_free(r);
    sched_cpu_tier_free(big);
    sched_cpu_tier_free(t);
}

/* -------------------------------------------------------------- lora -- */

static void test_lora_limits(void)
{
    SchedConfig c = base_config(16, 8192, 2000, 16);
    c.max_loras = 2;
    c.max_cpu_loras = 3;
    Fixture f;
    fx_init(&f, &c);
    fx_add(&f, 100, 20, 0, 1); /* 0 */
    fx_add(&f, 100, 20, 0, 2); /* 1 */
    fx_add(&f, 100, 20, 0, 3); /* 2: a third adapter waits */
    fx_add(&f, 100, 20, 0, 1); /* 3: adapter 1 runs past it */
    fx_add(&f, 100, 20, 0, 0); /* 4: the base model always may */
    const SchedStep *st = sched_schedule(f.s);
    CU_ASSERT_EQUAL_FATAL(st->num_reqs, 4);
    CU_ASSERT_EQUAL(st->reqs[0]->id, 0);
    CU_ASSERT_EQUAL(st->reqs[1]->id, 1);
    CU_ASSERT_EQUAL(st->reqs[2]->id, 3);
    CU_ASSERT_EQUAL(st->reqs[3]->id, 4);
    CU_ASSERT_EQUAL(st->batch.lora_adapters, 2);
    CU_ASSERT_EQUAL(st->batch.lora_tokens, 300);
    CU_ASSERT_EQUAL(st->batch.lora_loads, 2);
    CU_ASSERT_EQUAL(st->batch.lora_disk_loads, 2);
    CU_ASSERT_EQUAL(sched_waiting_at(f.s, 0)->id, 2); /* kept at the head */
    CU_ASSERT(sched_lora_resident(f.s, 1) && sched_lora_resident(f.s, 2));
    CU_ASSERT_FALSE(sched_lora_resident(f.s, 3));
    sched_finish_step(f.s);
    /* while 0, 1 and 3 run, adapter 3 waits; when they finish it loads */
    uint32_t waited = 0;
    while (f.reqs[2].status == SCHED_WAITING) {
        st = sched_schedule(f.s);
        CU_ASSERT(st->batch.lora_adapters <= 2);
        waited++;
        sched_finish_step(f.s);
        assert_invariants(f.s);
    }
    CU_ASSERT_EQUAL(waited, 20);
    CU_ASSERT_EQUAL(st->batch.lora_loads, 1);
    CU_ASSERT(sched_lora_resident(f.s, 3));
    fx_free(&f);
}

/* -------------------------------------------------------- everything -- */

static void test_random_all_options(void)
{
    static const double rates[] = {0.8, 0.6, 0.4};
    SchedConfig c = spec_config(3, rates);
    c.policy = SCHED_POLICY_PRIORITY;
    c.max_num_seqs = 24;
    c.max_num_batched_tokens = 512;
    c.num_gpu_blocks = 300;
    c.kv_groups_sliding = 2;
    c.sliding_window = 128;
    c.cpu_blocks = 500;
    c.max_loras = 3;
    c.max_cpu_loras = 5;
    c.long_prefill_token_threshold = 200;
    c.reserve_full_isl = TRUE;
    c.max_model_len = 3000;
    Fixture f;
    fx_init(&f, &c);
    GRand *r = g_rand_new_with_seed(99);
    uint64_t tokens = 0;
    uint32_t preempted = 0;
    for (int k = 0; k < 6000; k++) {
        if (g_rand_int_range(r, 0, 3) == 0 && f.n < MAXR) {
            SchedRequest *q = &f.reqs[f.n];
            uint32_t prompt = (uint32_t)g_rand_int_range(r, 10, 900), out = (uint32_t)g_rand_int_range(r, 1, 300);
            if (sched_check_fit(f.s, prompt, out) != SCHED_FITS)
                continue;
            guint g = (guint)g_rand_int_range(r, 0, 4);
            sched_request_init(q, f.n++, prompt, out, g, g ? MIN(prompt, 256u) : 0);
            q->priority = g_rand_int_range(r, 0, 3);
            q->lora_id = (uint32_t)g_rand_int_range(r, 0, 7);
            sched_add_request(f.s, q);
        }
        const SchedStep *st = sched_schedule(f.s);
        assert_batch_matches(st);
        CU_ASSERT(st->batch.total_tokens <= c.max_num_batched_tokens);
        CU_ASSERT(st->batch.lora_adapters <= c.max_loras);
        tokens += st->batch.total_tokens;
        preempted += st->num_preempted;
        sched_finish_step(f.s);
        assert_invariants(f.s);
    }
    SchedOptionStats s;
    sched_option_stats(f.s, &s);
    fprintf(stderr, "\n  %u requests, %" G_GUINT64_FORMAT " tokens, %u preemptions, %" G_GUINT64_FORMAT
                    " verifications, %" G_GUINT64_FORMAT " tokens loaded from the host tier, %" G_GUINT64_FORMAT
                    " adapter loads",
            f.n, tokens, preempted, s.spec_verifications, s.offload_hit_tokens, s.lora_loads);
    CU_ASSERT(preempted > 0 && s.spec_verifications > 0 && s.offload_hit_tokens > 0 && s.lora_loads > 0);
    g_rand_free(r);
    fx_free(&f);
}

static void test_config_errors(void)
{
    GError *error = NULL;
    SchedConfig c = base_config(8, 64, 100, 16);
    c.num_spec_tokens = 40;
    CU_ASSERT_PTR_NULL(sched_new(&c, &error));
    CU_ASSERT(error && error->code == SS_ERROR_USAGE && strstr(error->message, "num_speculative_tokens"));
    g_clear_error(&error);
    c = base_config(8, 64, 100, 16);
    c.max_loras = 4;
    c.max_cpu_loras = 2;
    CU_ASSERT_PTR_NULL(sched_new(&c, &error));
    CU_ASSERT(error && strstr(error->message, "--max-cpu-loras"));
    g_clear_error(&error);
    c = base_config(8, 64, 100, 16);
    c.num_spec_tokens = 2;
    c.spec_accept[0] = 0.5;
    c.spec_accept[1] = 0.9;
    CU_ASSERT_PTR_NULL(sched_new(&c, &error));
    CU_ASSERT(error && strstr(error->message, "non-increasing"));
    g_clear_error(&error);
    /* a host tier beyond the block bound is an error, not a huge allocation */
    c = base_config(8, 64, 100, 16);
    c.cpu_blocks = SCHED_MAX_BLOCKS + 1;
    CU_ASSERT_PTR_NULL(sched_new(&c, &error));
    CU_ASSERT(error && error->code == SS_ERROR_USAGE && strstr(error->message, "host KV tier"));
    g_clear_error(&error);
}

static const SsTestCase cases[] = {
    {"priority: waiting order by (priority, arrival)", test_priority_order},
    {"priority: the heap against a sorted reference", test_priority_heap_reference},
    {"priority: preemption takes the lowest priority, unscheduled from the step", test_priority_preemption},
    {"speculative decoding step by step", test_spec_step_by_hand},
    {"speculative tokens count in the token budget", test_spec_budget},
    {"acceptance model: schedules, draws, determinism", test_acceptance_model},
    {"a workload's mean acceptance length is the model's", test_spec_workload_statistics},
    {"blocks of a sequence with sliding groups, by hand", test_blocks_for_tokens},
    {"sliding windows bound the KV a request holds", test_window_bounded},
    {"a long prompt with sliding windows: the admission cap", test_window_admission_cap},
    {"CPU offload: an evicted prefix is loaded from the host tier", test_offload},
    {"host tier LRU against a reference", test_cpu_tier_lru},
    {"LoRA: at most max_loras adapters per step, others wait", test_lora_limits},
    {"every option at once: invariants after every step", test_random_all_options},
    {"bad option settings are errors", test_config_errors},
    {NULL, NULL}};

static const SsTestSuite suites[] = {{"options", cases}, {NULL, NULL}};

int main(int argc, char **argv) { return ss_test_main(argc, argv, suites); }
