/*
 * wl_synthetic.c: synthetic request sources.
 *
 * Model: each class is its own arrival process at share x rate (shares
 * normalised), and the workload is their superposition: the source keeps the
 * next arrival of every class and yields the earliest, ties going to the
 * lower class index, so the merged order is total and deterministic. For
 * Poisson classes the superposition is exactly a Poisson process at the total
 * rate; for Gamma and constant classes it is the sum of independent renewal
 * processes (each class bursty at its own CV), which is what a mix of
 * independent clients produces.
 *
 * Arrival processes (per class):
 * - Poisson: exponential gaps; first arrival one gap after 0.
 * - Gamma: gaps Gamma(shape 1/cv^2, scale 1/(rate*shape)): mean 1/rate,
 *   coefficient of variation cv; first arrival one gap after 0.
 * - constant: arrivals at k/rate, k = 0, 1, ... (computed from k, so no drift).
 * - piecewise: a non-homogeneous Poisson process with a piecewise-constant
 *   rate, exact by inversion of the integrated rate: the n-th arrival is at
 *   Lambda^-1(E1 + ... + En) with Ei standard exponential. A zero rate gives
 *   no arrival in its interval; a zero last rate ends the class.
 * Times accumulate in double seconds and become SimTime through
 * sim_time_from_seconds(), the project's single rounding point. A class
 * whose next arrival falls after SIM_TIME_LIMIT (a low rate and many
 * requests) holds it back as "beyond": when it would be the next request,
 * the source fails with the request's time and the limit instead of clamping
 * it (arrivals at or after duration_s, which is within the limit, simply end
 * the class).
 *
 * Lengths: constant; uniform integers in [min, max]; normal and lognormal
 * from the mean and standard deviation of the distribution itself (for the
 * lognormal, sigma^2 = ln(1 + sd^2/mean^2), mu = ln(mean) - sigma^2/2);
 * empirical (a CSV column sampled uniformly). Draws are rounded to the
 * nearest integer and clamped to [max(min, 1), max] (max 0: no upper bound).
 * With a shared prefix the prompt is L + a draw, and the group is uniform
 * among the class's N groups, whose ids are 1 + (groups of earlier classes)
 * + index, unique over the workload.
 *
 * Multi-turn classes: the class's arrival process starts sessions; the
 * first turn is drawn as a single request would be (plus a turn count), and
 * each later turn (prompt = previous prompt + previous output + new user
 * tokens, session prefix = previous prompt + output, always on branch 0)
 * waits in a min-heap keyed by (arrival, class, session id) until it is the
 * earliest pending arrival. Turn k+1 arrives output_k / answer_tokens_per_s
 * + a think-time draw after turn k's arrival (the gap through
 * sim_time_from_seconds, added to the integer arrival). Ties: a waiting turn
 * goes before a session start of the same class at the same nanosecond.
 *
 * Randomness: four GRand per class (arrivals, input, output, prefix), seeded
 * from (seed, "class/<name>/<consumer>"), and three more for multi-turn
 * classes (turns, think, new_tokens), so changing or adding another class
 * never changes this class's draws.
 *
 * Cost: O(classes) per request (a linear scan for the earliest class; classes
 * are few), plus O(1) amortised for piecewise segment search, plus O(log
 * open sessions) per turn. Memory: O(classes x points) plus the empirical
 * columns plus the open sessions. Limits: at most WL_MAX_CLASSES classes;
 * the stop rule counts requests (turns) over all classes, and cuts the
 * sessions still open.
 */
#include "wl_internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    WlDistKind kind;
    double value;          /* CONSTANT */
    double mean, stddev;   /* NORMAL */
    double mu, sigma;      /* LOGNORMAL: of the underlying normal */
    guint32 lo, hi;        /* clamp bounds, tokens (UNIFORM: the range) */
    guint32 *values;       /* EMPIRICAL, owned */
    guint num_values;
} Sampler;

/* A distribution of seconds: no rounding, clamped to [lo, hi]. */
typedef struct {
    WlDistKind kind;
    double value, mean, stddev, mu, sigma;
    double lo, hi;         /* hi: INFINITY for no bound (UNIFORM: the range) */
} SecondsSampler;

typedef struct {
    GRand *rng_arrival, *rng_input, *rng_output, *rng_prefix;
    Sampler input, output;
    gboolean multi_turn;
    GRand *rng_turns, *rng_think, *rng_new;
    Sampler turns, new_tokens;
    SecondsSampler think;
    double answer_tokens_per_s;
    guint32 max_input;     /* 0: no limit */
    guint32 prefix_base;   /* group id of this class's group 0 */
    guint32 prefix_groups;
    guint32 prefix_tokens;
    double rate;           /* requests/s of this class */
    double gamma_shape, gamma_scale_s;
    double t_s;            /* POISSON, GAMMA: time of the pending arrival */
    guint64 k;             /* CONSTANT: index of the next arrival */
    double *rates;         /* PIECEWISE: this class's rate in each interval, owned */
    double *cum;           /* PIECEWISE: integrated rate at each point, owned */
    guint seg;             /* PIECEWISE: interval of the pending arrival */
    double target;         /* PIECEWISE: integrated rate of the pending arrival */
    SimTime pending;       /* arrival time of the pending request */
    double pending_s;      /* the same in seconds, for messages */
    gboolean beyond;       /* the pending arrival is after SIM_TIME_LIMIT (pending: SIM_TIME_MAX) */
    gboolean done;         /* no more arrivals */
    int priority;          /* of every request */
    guint lora_n;          /* adapters (0: none) */
    guint32 *lora_ids;     /* owned: the source's ids of its adapters */
    double *lora_cum;      /* owned: cumulative Zipf weights (NULL: uniform) */
    GRand *rng_lora;
} ClassState;

/* An open session of a multi-turn class: its next turn waits in the heap. */
typedef struct {
    SimTime next;          /* arrival of its next turn */
    guint class_id;
    uint64_t id;           /* session id, >= 1 */
    guint32 turns_left;    /* turns still to come, the next included */
    guint32 input, output; /* of its last turn */
    guint32 group, shared;
    guint32 lora_id;       /* every turn's adapter */
} Session;

typedef struct {
    WlArrivalKind kind;
    guint num_points;
    double *times_s;       /* PIECEWISE, owned */
    guint num_classes;
    ClassState *classes;   /* owned */
    uint64_t num_requests; /* 0: no count limit */
    uint64_t emitted;
    gboolean has_end;
    SimTime end;           /* arrivals at or after this are not generated */
    GPtrArray *open;       /* Session *, a binary min-heap on (next, class_id, id) */
    uint64_t sessions;     /* sessions started */
} Synthetic;

static guint32 clamp_round(const Sampler *s, double x)
{
    if (!(x >= s->lo)) /* also NaN */
        return s->lo;
    if (x >= s->hi)
        return s->hi;
    double r = floor(x + 0.5);
    return r > s->hi ? s->hi : (guint32)r;
}

static guint32 sample(const Sampler *s, GRand *r)
{
    switch (s->kind) {
    case WL_DIST_CONSTANT:
        return (guint32)llround(s->value);
    case WL_DIST_UNIFORM:
        return s->lo + (guint32)g_rand_int_range(r, 0, (gint32)(s->hi - s->lo + 1));
    case WL_DIST_NORMAL:
        return clamp_round(s, s->mean + s->stddev * wl_rand_normal(r));
    case WL_DIST_LOGNORMAL:
        return clamp_round(s, exp(s->mu + s->sigma * wl_rand_normal(r)));
    case WL_DIST_EMPIRICAL:
        return clamp_round(s, s->values[g_rand_int_range(r, 0, (gint32)s->num_values)]);
    }
    /* every kind is a case above; wl_dist_spec_validate rejects any other
     * value before a sampler exists: unreachable from input */
    g_assert_not_reached();
}

static gboolean sampler_init(Sampler *s, const WlDistSpec *d, GError **error)
{
    memset(s, 0, sizeof *s);
    s->kind = d->kind;
    s->value = d->value;
    s->mean = d->mean;
    s->stddev = d->stddev;
    double lo = ceil(d->min);
    s->lo = lo > 1.0 ? (guint32)lo : 1;
    s->hi = d->max > 0.0 ? (guint32)floor(d->max) : WL_MAX_TOKENS;
    if (s->hi < s->lo)
        s->hi = s->lo;
    if (d->kind == WL_DIST_UNIFORM) {
        s->lo = (guint32)d->min;
        s->hi = (guint32)d->max;
    } else if (d->kind == WL_DIST_LOGNORMAL) {
        double ratio = d->stddev / d->mean;
        s->sigma = sqrt(log1p(ratio * ratio));
        s->mu = log(d->mean) - 0.5 * s->sigma * s->sigma;
    } else if (d->kind == WL_DIST_EMPIRICAL) {
        GArray *values = wl_csv_read_column(d->path, d->column, error);
        if (!values)
            return FALSE;
        if (values->len > (guint)G_MAXINT32) {
            wl_set_error(error, "%s: column '%s': expected at most %d values, got %u", d->path,
                         d->column, G_MAXINT32, values->len);
            g_array_free(values, TRUE);
            return FALSE;
        }
        s->num_values = values->len;
        s->values = (guint32 *)(void *)g_array_free(values, FALSE);
    }
    return TRUE;
}

static void seconds_init(SecondsSampler *s, const WlDistSpec *d)
{
    memset(s, 0, sizeof *s);
    s->kind = d->kind;
    s->value = d->value;
    s->mean = d->mean;
    s->stddev = d->stddev;
    s->lo = d->min;
    s->hi = d->max > 0.0 ? d->max : INFINITY;
    if (d->kind == WL_DIST_LOGNORMAL) {
        double ratio = d->stddev / d->mean;
        s->sigma = sqrt(log1p(ratio * ratio));
        s->mu = log(d->mean) - 0.5 * s->sigma * s->sigma;
    }
}

static double seconds_clamp(const SecondsSampler *s, double x)
{
    if (!(x >= s->lo)) /* also NaN */
        return s->lo;
    return x > s->hi ? s->hi : x;
}

static double sample_seconds(const SecondsSampler *s, GRand *r)
{
    switch (s->kind) {
    case WL_DIST_CONSTANT:
        return s->value;
    case WL_DIST_UNIFORM:
        return s->lo + (s->hi - s->lo) * g_rand_double(r);
    case WL_DIST_NORMAL:
        return seconds_clamp(s, s->mean + s->stddev * wl_rand_normal(r));
    case WL_DIST_LOGNORMAL:
        return seconds_clamp(s, exp(s->mu + s->sigma * wl_rand_normal(r)));
    case WL_DIST_EMPIRICAL:
        break; /* refused by wl_seconds_dist_spec_validate */
    }
    /* every other kind is refused by wl_seconds_dist_spec_validate before a
     * sampler exists: unreachable from input */
    g_assert_not_reached();
}

/* Heap order of open sessions: (next arrival, class, session id). */
static gboolean session_before(const Session *a, const Session *b)
{
    if (a->next != b->next)
        return a->next < b->next;
    if (a->class_id != b->class_id)
        return a->class_id < b->class_id;
    return a->id < b->id;
}

static void heap_push(GPtrArray *h, Session *s)
{
    g_ptr_array_add(h, s);
    guint i = h->len - 1;
    while (i > 0) {
        guint parent = (i - 1) / 2;
        Session *p = g_ptr_array_index(h, parent);
        if (!session_before(s, p))
            break;
        h->pdata[i] = p;
        i = parent;
    }
    h->pdata[i] = s;
}

static Session *heap_pop(GPtrArray *h)
{
    Session *top = g_ptr_array_index(h, 0);
    Session *last = g_ptr_array_steal_index_fast(h, h->len - 1);
    if (h->len == 0)
        return top;
    guint i = 0, n = h->len;
    for (;;) {
        guint c = 2 * i + 1;
        if (c >= n)
            break;
        Session *child = g_ptr_array_index(h, c);
        if (c + 1 < n && session_before(g_ptr_array_index(h, c + 1), child))
            child = g_ptr_array_index(h, ++c);
        if (!session_before(child, last))
            break;
        h->pdata[i] = child;
        i = c;
    }
    h->pdata[i] = last;
    return top;
}

/* Schedules a session's next turn after the turn that arrived at `now`,
 * or ends the session (no turn left, or past the end of the workload). */
static void session_schedule(Synthetic *syn, ClassState *c, Session *ss, SimTime now)
{
    if (ss->turns_left == 0) {
        g_free(ss);
        return;
    }
    double gap_s = sample_seconds(&c->think, c->rng_think);
    if (c->answer_tokens_per_s > 0.0)
        gap_s += ss->output / c->answer_tokens_per_s;
    SimTime gap = sim_time_from_seconds(gap_s);
    if (!sim_time_add_checked(now, gap, SIM_TIME_LIMIT, &ss->next)) { /* after the simulated-time limit */
        g_free(ss);
        return;
    }
    if (syn->has_end && ss->next >= syn->end) {
        g_free(ss);
        return;
    }
    heap_push(syn->open, ss);
}

/* Computes the class's next pending arrival (or marks it done). */
static void advance(Synthetic *syn, ClassState *c)
{
    double t_s = 0.0;
    switch (syn->kind) {
    case WL_ARRIVAL_POISSON:
        c->t_s += wl_rand_exponential(c->rng_arrival) / c->rate;
        t_s = c->t_s;
        break;
    case WL_ARRIVAL_GAMMA:
        c->t_s += wl_rand_gamma(c->rng_arrival, c->gamma_shape) * c->gamma_scale_s;
        t_s = c->t_s;
        break;
    case WL_ARRIVAL_CONSTANT:
        t_s = (double)c->k / c->rate;
        c->k++;
        break;
    case WL_ARRIVAL_PIECEWISE: {
        guint n = syn->num_points;
        c->target += wl_rand_exponential(c->rng_arrival);
        while (c->seg + 1 < n && c->cum[c->seg + 1] <= c->target)
            c->seg++;
        if (c->rates[c->seg] <= 0.0) { /* the last interval, with rate 0 */
            c->done = TRUE;
            return;
        }
        t_s = syn->times_s[c->seg] + (c->target - c->cum[c->seg]) / c->rates[c->seg];
        break;
    }
    }
    c->pending_s = t_s;
    if (!sim_time_from_seconds_checked(t_s, &c->pending)) {
        c->pending = SIM_TIME_MAX; /* every arrival within the limit comes first */
        c->beyond = TRUE;
    }
    if (syn->has_end && c->pending >= syn->end)
        c->done = TRUE; /* end is within the limit: also ends a class that went beyond it */
}

/* The next turn of an open session (popped from the heap), or FALSE when
 * the session ends here instead (its prompt would pass max_input_tokens). */
static gboolean next_turn(Synthetic *syn, WlRequest *out)
{
    Session *ss = heap_pop(syn->open);
    ClassState *c = &syn->classes[ss->class_id];
    guint64 prefix = (guint64)ss->input + ss->output;
    guint64 prompt = prefix + sample(&c->new_tokens, c->rng_new);
    if (prompt > WL_MAX_TOKENS || (c->max_input > 0 && prompt > c->max_input)) {
        g_free(ss);
        return FALSE;
    }
    memset(out, 0, sizeof *out);
    out->arrival = ss->next;
    out->class_id = (uint16_t)ss->class_id;
    out->input_tokens = (uint32_t)prompt;
    out->output_tokens = sample(&c->output, c->rng_output);
    out->prefix_group = ss->group;
    out->shared_prefix_tokens = ss->shared;
    out->session_id = ss->id;
    out->session_prefix_tokens = (uint32_t)prefix; /* branch 0: every turn continues the last */
    out->priority = c->priority;
    out->lora_id = ss->lora_id;
    ss->turns_left--;
    ss->input = out->input_tokens;
    ss->output = out->output_tokens;
    session_schedule(syn, c, ss, out->arrival);
    return TRUE;
}

/* The adapter of a new request (or session) of class c. */
static guint32 draw_adapter(ClassState *c)
{
    if (c->lora_n == 0)
        return 0;
    if (!c->lora_cum)
        return c->lora_ids[g_rand_int_range(c->rng_lora, 0, (gint32)c->lora_n)];
    double u = g_rand_double(c->rng_lora) * c->lora_cum[c->lora_n - 1];
    guint lo = 0, hi = c->lora_n - 1;
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        if (c->lora_cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return c->lora_ids[lo];
}

static int synthetic_next(WlSource *src, WlRequest *out, GError **error)
{
    Synthetic *syn = src->impl;
    for (;;) {
        if (syn->num_requests > 0 && syn->emitted >= syn->num_requests)
            return 0;
        ClassState *best = NULL;
        guint best_id = 0;
        for (guint i = 0; i < syn->num_classes; i++) {
            ClassState *c = &syn->classes[i];
            if (!c->done && (!best || c->pending < best->pending)) {
                best = c;
                best_id = i;
            }
        }
        if (syn->open->len > 0) {
            const Session *top = g_ptr_array_index(syn->open, 0);
            if (!best || top->next < best->pending ||
                (top->next == best->pending && top->class_id <= best_id)) {
                if (next_turn(syn, out))
                    break;
                continue;
            }
        }
        if (!best)
            return 0;
        if (best->beyond) {
            wl_set_error(error,
                         "workload: request %" G_GUINT64_FORMAT " (class '%s') would arrive at %g s, after the "
                         "simulated-time limit of %g s (about 126 years): the arrival rate is too low for the "
                         "number of requests (lower num_requests, raise the rate or set duration_s)",
                         src->next_id, (const char *)g_ptr_array_index(src->class_names, best_id),
                         best->pending_s, SIM_TIME_LIMIT_S);
            return -1;
        }
        memset(out, 0, sizeof *out);
        out->arrival = best->pending;
        out->class_id = (uint16_t)best_id;
        guint32 input = sample(&best->input, best->rng_input);
        out->output_tokens = sample(&best->output, best->rng_output);
        if (best->prefix_groups > 0) {
            guint32 g = (guint32)g_rand_int_range(best->rng_prefix, 0, (gint32)best->prefix_groups);
            out->prefix_group = best->prefix_base + g;
            out->shared_prefix_tokens = best->prefix_tokens;
            input += best->prefix_tokens;
        }
        out->input_tokens = input;
        out->priority = best->priority;
        out->lora_id = draw_adapter(best);
        if (best->multi_turn) {
            Session *ss = g_new0(Session, 1);
            ss->class_id = best_id;
            ss->id = ++syn->sessions;
            ss->turns_left = sample(&best->turns, best->rng_turns) - 1;
            ss->input = out->input_tokens;
            ss->output = out->output_tokens;
            ss->group = out->prefix_group;
            ss->shared = out->shared_prefix_tokens;
            ss->lora_id = out->lora_id;
            out->session_id = ss->id;
            session_schedule(syn, best, ss, out->arrival);
        }
        advance(syn, best);
        break;
    }
    syn->emitted++;
    return 1;
}

static void synthetic_finalize(void *impl)
{
    Synthetic *syn = impl;
    if (!syn)
        return;
    for (guint i = 0; i < syn->num_classes; i++) {
        ClassState *c = &syn->classes[i];
        if (c->rng_arrival)
            g_rand_free(c->rng_arrival);
        if (c->rng_input)
            g_rand_free(c->rng_input);
        if (c->rng_output)
            g_rand_free(c->rng_output);
        if (c->rng_prefix)
            g_rand_free(c->rng_prefix);
        if (c->rng_turns)
            g_rand_free(c->rng_turns);
        if (c->rng_lora)
            g_rand_free(c->rng_lora);
        g_free(c->lora_ids);
        g_free(c->lora_cum);
        if (c->rng_think)
            g_rand_free(c->rng_think);
        if (c->rng_new)
            g_rand_free(c->rng_new);
        g_free(c->turns.values);
        g_free(c->new_tokens.values);
        g_free(c->input.values);
        g_free(c->output.values);
        g_free(c->rates);
        g_free(c->cum);
    }
    g_free(syn->classes);
    g_free(syn->times_s);
    if (syn->open)
        g_ptr_array_free(syn->open, TRUE);
    g_free(syn);
}

static const WlSourceOps synthetic_ops = {synthetic_next, synthetic_finalize};

/* The mean rate of a piecewise workload over the time it runs: until the
 * duration, or until the expected count reaches num_requests, or until the
 * rate drops to zero for good, whichever is first. */
static double piecewise_mean_rate(const WlSpec *spec)
{
    const WlArrivalSpec *a = &spec->arrival;
    guint n = a->num_points;
    double *cum = g_new(double, n);
    cum[0] = 0.0;
    for (guint i = 1; i < n; i++)
        cum[i] = cum[i - 1] + a->rates[i - 1] * (a->times_s[i] - a->times_s[i - 1]);
    double t_end = INFINITY;
    if (a->rates[n - 1] == 0.0) { /* ends where the last positive interval ends */
        guint last = 0;
        for (guint i = 0; i < n; i++)
            if (a->rates[i] > 0.0)
                last = i;
        t_end = a->times_s[last + 1];
    }
    if (spec->num_requests > 0) {
        double target = (double)spec->num_requests;
        for (guint i = 0; i < n; i++) {
            double seg_end = i + 1 < n ? cum[i + 1] : INFINITY;
            if (target <= seg_end && a->rates[i] > 0.0) {
                double t = a->times_s[i] + (target - cum[i]) / a->rates[i];
                t_end = MIN(t_end, t);
                break;
            }
        }
    }
    if (spec->duration_s > 0.0)
        t_end = MIN(t_end, spec->duration_s);
    double rate = 0.0;
    if (isfinite(t_end) && t_end > 0.0) {
        guint i = 0;
        while (i + 1 < n && a->times_s[i + 1] <= t_end)
            i++;
        rate = (cum[i] + a->rates[i] * (t_end - a->times_s[i])) / t_end;
    }
    g_free(cum);
    return rate;
}

static char *describe(const WlSpec *spec, double offered, guint multi_turn)
{
    GString *s = g_string_new(NULL);
    const WlArrivalSpec *a = &spec->arrival;
    switch (a->kind) {
    case WL_ARRIVAL_POISSON:
        g_string_append_printf(s, "poisson %g req/s", a->rate);
        break;
    case WL_ARRIVAL_GAMMA:
        g_string_append_printf(s, "gamma %g req/s cv %g", a->rate, a->cv);
        break;
    case WL_ARRIVAL_CONSTANT:
        g_string_append_printf(s, "constant %g req/s", a->rate);
        break;
    case WL_ARRIVAL_PIECEWISE:
        g_string_append_printf(s, "piecewise %u point%s, mean %.4g req/s", a->num_points,
                               a->num_points == 1 ? "" : "s", offered);
        break;
    }
    g_string_append_printf(s, ", %u class%s", spec->num_classes, spec->num_classes == 1 ? "" : "es");
    if (multi_turn > 0)
        g_string_append_printf(s, " (%u multi-turn: the rate starts %s sessions)", multi_turn,
                               multi_turn == 1 ? "its" : "their");
    if (spec->num_requests > 0)
        g_string_append_printf(s, ", %" G_GUINT64_FORMAT " requests", spec->num_requests);
    if (spec->duration_s > 0.0)
        g_string_append_printf(s, "%s %g s", spec->num_requests > 0 ? " or" : ",",
                               spec->duration_s);
    return g_string_free(s, FALSE);
}

static GRand *class_rand(guint64 seed, const char *name, const char *consumer)
{
    char *key = g_strdup_printf("class/%s/%s", name, consumer);
    GRand *r = wl_rand_new_for(seed, key);
    g_free(key);
    return r;
}

WlSource *wl_source_new_synthetic(const WlSpec *spec, guint64 seed, GError **error)
{
    if (!wl_spec_validate(spec, NULL, error))
        return NULL;
    Synthetic *syn = g_new0(Synthetic, 1);
    syn->open = g_ptr_array_new_with_free_func(g_free);
    WlSource *src = wl_source_alloc(&synthetic_ops, syn);
    guint multi_turn = 0;
    const WlArrivalSpec *a = &spec->arrival;
    syn->kind = a->kind;
    syn->num_requests = spec->num_requests;
    if (spec->duration_s > 0.0) {
        syn->has_end = TRUE;
        syn->end = sim_time_from_seconds(spec->duration_s);
    }
    if (a->kind == WL_ARRIVAL_PIECEWISE) {
        syn->num_points = a->num_points;
        syn->times_s = g_memdup2(a->times_s, a->num_points * sizeof(double));
    }
    double share_sum = 0.0;
    for (guint i = 0; i < spec->num_classes; i++)
        share_sum += spec->classes[i].share;
    syn->num_classes = spec->num_classes;
    syn->classes = g_new0(ClassState, spec->num_classes);
    guint32 prefix_base = 1;
    for (guint i = 0; i < spec->num_classes; i++) {
        const WlClassSpec *cs = &spec->classes[i];
        ClassState *c = &syn->classes[i];
        double share = cs->share / share_sum;
        wl_source_intern_class(src, cs->name); /* names are unique: id == i */
        c->rng_arrival = class_rand(seed, cs->name, "arrivals");
        c->rng_input = class_rand(seed, cs->name, "input");
        c->rng_output = class_rand(seed, cs->name, "output");
        c->rng_prefix = class_rand(seed, cs->name, "prefix");
        if (!sampler_init(&c->input, &cs->input, error) ||
            !sampler_init(&c->output, &cs->output, error))
            goto fail;
        if (cs->multi_turn) {
            c->multi_turn = TRUE;
            c->rng_turns = class_rand(seed, cs->name, "turns");
            c->rng_think = class_rand(seed, cs->name, "think");
            c->rng_new = class_rand(seed, cs->name, "new_tokens");
            if (!sampler_init(&c->turns, &cs->session.turns, error) ||
                !sampler_init(&c->new_tokens, &cs->session.new_tokens, error))
                goto fail;
            seconds_init(&c->think, &cs->session.think_s);
            c->answer_tokens_per_s = cs->session.answer_tokens_per_s;
            c->max_input = cs->session.max_input_tokens;
            multi_turn++;
        }
        c->priority = cs->priority;
        if (cs->lora_adapters > 0) {
            const char *base = cs->lora_name ? cs->lora_name : cs->name;
            c->lora_n = cs->lora_adapters;
            c->lora_ids = g_new(guint32, c->lora_n);
            for (guint k = 0; k < c->lora_n; k++) {
                char *name = c->lora_n == 1 ? g_strdup(base) : g_strdup_printf("%s-%u", base, k + 1);
                c->lora_ids[k] = wl_source_intern_adapter(src, name);
                g_free(name);
                if (c->lora_ids[k] == 0) {
                    wl_set_error(error, "workload.classes[%u].lora.adapters: more than %u adapters in all", i,
                                 WL_MAX_ADAPTERS);
                    goto fail;
                }
            }
            if (cs->lora_zipf > 0.0) {
                c->lora_cum = g_new(double, c->lora_n);
                double sum = 0.0;
                for (guint k = 0; k < c->lora_n; k++)
                    c->lora_cum[k] = sum += pow(k + 1.0, -cs->lora_zipf);
            }
            c->rng_lora = class_rand(seed, cs->name, "lora");
        }
        c->prefix_base = prefix_base;
        c->prefix_groups = cs->prefix_groups;
        c->prefix_tokens = cs->prefix_groups > 0 ? cs->prefix_tokens : 0;
        prefix_base += cs->prefix_groups;
        c->rate = share * a->rate;
        if (a->kind == WL_ARRIVAL_GAMMA) {
            c->gamma_shape = 1.0 / (a->cv * a->cv);
            c->gamma_scale_s = 1.0 / (c->rate * c->gamma_shape);
        } else if (a->kind == WL_ARRIVAL_PIECEWISE) {
            guint n = a->num_points;
            c->rates = g_new(double, n);
            c->cum = g_new(double, n);
            for (guint p = 0; p < n; p++) {
                c->rates[p] = share * a->rates[p];
                c->cum[p] = p == 0 ? 0.0
                                   : c->cum[p - 1] + c->rates[p - 1] *
                                                         (a->times_s[p] - a->times_s[p - 1]);
            }
        }
        advance(syn, c);
    }
    src->offered_rate = a->kind == WL_ARRIVAL_PIECEWISE ? piecewise_mean_rate(spec) : a->rate;
    src->description = describe(spec, src->offered_rate, multi_turn);
    if (multi_turn > 0) /* the rate starts sessions: the request rate depends on their turns */
        src->offered_rate = 0.0;
    return src;
fail:
    wl_source_free(src);
    return NULL;
}
