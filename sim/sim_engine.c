/*
 * sim_engine.c: the event loop of one server instance (see sim_engine.h).
 *
 * Loop: pop the earliest event; an ARRIVAL admits the pending request (and
 * every other request of the source with the same arrival time), reads the
 * next one and schedules its arrival; if the server is idle a step starts at
 * once. A STEP_END applies the step (tokens sampled, requests finished,
 * metrics recorded) and starts the next step if there is work. A step's
 * duration comes from the latency model and is rounded to nanoseconds by
 * sim_time_from_seconds(), the project's single rounding point.
 *
 * Requests in flight live in a pool of records recycled through a free list;
 * a completed request leaves a 40-byte SimRecord for the exact percentiles
 * and, when asked, a row of the per-request CSV.
 */
#include "sim_engine.h"

#include <math.h>
#include <string.h>

#include "sim_queue.h"
#include "ss_error.h"

enum { EV_ARRIVAL = 1, EV_STEP_END = 2 };

typedef struct SimReq {
    SchedRequest sr;        /* first member: a SchedRequest* is a SimReq* */
    SimTime arrival;
    SimTime first_sched;
    SimTime first_token;
    SimTime last_token;
    SimTime itl_max;
    uint16_t class_id;
    gboolean was_scheduled;
    struct SimReq *next_free;
} SimReq;

typedef struct {
    SimTime arrival, queue, ttft, e2e; /* ns */
    uint32_t input, output;
    uint16_t class_id;
    uint16_t preemptions;              /* saturated at 65535 */
} SimRecord;

typedef struct {
    uint64_t arrived, completed, rejected;
    uint64_t preempted_requests, input_tokens, output_tokens;
    SimHist *itl;
} ClassAcc;

typedef struct {
    const SimConfig *cfg;
    SchedScheduler *sched;
    SimQueue *queue;
    SimTime now;

    GPtrArray *chunks;      /* SimReq blocks of REQ_CHUNK */
    SimReq *free_list;

    WlRequest pending;      /* the next request of the source */
    gboolean has_pending;

    gboolean busy;
    SimTime step_start;
    GPtrArray *deferred;    /* async scheduling: SimReq* arrived during the running step */

    GArray *records;        /* SimRecord of completed requests */
    guint num_classes;
    ClassAcc *classes;
    SimHist *itl_all;
    uint64_t *itl_runs;     /* per class: tokens of this step whose ITL is its duration */

    uint64_t arrived, completed, rejected, rejected_too_long, rejected_no_blocks;
    uint64_t steps, sum_batch_reqs, sum_batch_tokens;
    double kv_area;         /* used blocks x ns */
    uint32_t kv_peak;
    SimTime busy_ns;
    SimTime first_arrival, last_arrival;
    gboolean any_arrival;

    /* time series by interval */
    SimTime ts_interval, ts_next;
    uint64_t ts_steps, ts_tokens, ts_arrived, ts_completed, ts_preempted;
    uint32_t ts_kv_max;
} Engine;

#define REQ_CHUNK 1024

const char *sim_requests_csv_header(void)
{
    return "id,class,status,arrival_s,input_tokens,output_tokens,cached_tokens,preemptions,"
           "queue_ms,ttft_ms,tpot_ms,e2e_ms,itl_max_ms";
}

/* ----------------------------------------------------------- CSV output -- */

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void write_request_row(Engine *e, const SimReq *q, const char *status, gboolean done)
{
    FILE *f = e->cfg->requests_csv;
    if (!f)
        return;
    fprintf(f, "%" G_GUINT64_FORMAT ",", q->sr.id);
    csv_field(f, wl_source_class_name(e->cfg->source, q->class_id));
    fprintf(f, ",%s,%.6f,%u,%u,%u,%u,", status, sim_time_to_seconds(q->arrival), q->sr.prompt_tokens,
            q->sr.max_output_tokens, q->sr.num_cached_tokens, q->sr.num_preemptions);
    if (q->sr.ever_scheduled)
        fprintf(f, "%.6f", sim_time_to_ms(q->first_sched - q->arrival));
    fputc(',', f);
    if (q->sr.num_output > 0)
        fprintf(f, "%.6f", sim_time_to_ms(q->first_token - q->arrival));
    fputc(',', f);
    if (done && q->sr.max_output_tokens > 1)
        fprintf(f, "%.6f", sim_time_to_ms(q->last_token - q->first_token) / (q->sr.max_output_tokens - 1));
    fputc(',', f);
    if (done)
        fprintf(f, "%.6f", sim_time_to_ms(q->last_token - q->arrival));
    fputc(',', f);
    if (q->sr.num_output > 1)
        fprintf(f, "%.6f", sim_time_to_ms(q->itl_max));
    fputc('\n', f);
}

static void write_timeseries_header(Engine *e)
{
    FILE *f = e->cfg->timeseries_csv;
    if (!f)
        return;
    if (e->ts_interval)
        fputs("time_s,steps,arrived,completed,preemptions,batch_tokens,running,waiting,"
              "kv_blocks_used_max,kv_usage_max\n",
              f);
    else
        fputs("time_s,duration_ms,running,waiting,scheduled,batch_tokens,prefill_tokens,"
              "decode_requests,kv_blocks_used,kv_usage,preemptions\n",
              f);
}

static void flush_interval(Engine *e)
{
    FILE *f = e->cfg->timeseries_csv;
    uint32_t usable = sched_kv_pool_num_blocks(sched_kv_pool(e->sched));
    fprintf(f, "%.6f,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
               ",%" G_GUINT64_FORMAT ",%u,%u,%u,%.6f\n",
            sim_time_to_seconds(e->ts_next - e->ts_interval), e->ts_steps, e->ts_arrived, e->ts_completed,
            e->ts_preempted, e->ts_tokens, sched_num_running(e->sched), sched_num_waiting(e->sched) + e->deferred->len,
            e->ts_kv_max, (double)e->ts_kv_max / usable);
    e->ts_steps = e->ts_tokens = e->ts_arrived = e->ts_completed = e->ts_preempted = 0;
    e->ts_kv_max = sched_kv_pool_num_used(sched_kv_pool(e->sched));
    e->ts_next += e->ts_interval;
}

/* Emits the interval rows whose end is at or before `t`. */
static void advance_intervals(Engine *e, SimTime t)
{
    if (!e->cfg->timeseries_csv || !e->ts_interval || !e->any_arrival)
        return;
    while (e->ts_next <= t)
        flush_interval(e);
}

/* ------------------------------------------------------------ requests -- */

static SimReq *req_alloc(Engine *e)
{
    if (!e->free_list) {
        SimReq *chunk = g_new0(SimReq, REQ_CHUNK);
        g_ptr_array_add(e->chunks, chunk);
        for (int i = REQ_CHUNK - 1; i >= 0; i--) {
            chunk[i].next_free = e->free_list;
            e->free_list = &chunk[i];
        }
    }
    SimReq *q = e->free_list;
    e->free_list = q->next_free;
    return q;
}

static void req_recycle(Engine *e, SimReq *q)
{
    sched_request_release(&q->sr);
    q->next_free = e->free_list;
    e->free_list = q;
}

static void admit(Engine *e, const WlRequest *w)
{
    if (!e->any_arrival) {
        e->any_arrival = TRUE;
        e->first_arrival = w->arrival;
        e->ts_next = w->arrival + e->ts_interval;
    }
    advance_intervals(e, w->arrival);
    e->last_arrival = w->arrival;
    e->arrived++;
    e->ts_arrived++;
    guint cls = w->class_id < e->num_classes ? w->class_id : 0;
    e->classes[cls].arrived++;

    SimReq *q = req_alloc(e);
    memset(q, 0, sizeof *q);
    sched_request_init(&q->sr, w->id, w->input_tokens, w->output_tokens, w->prefix_group,
                       w->shared_prefix_tokens);
    sched_request_set_session(&q->sr, w->session_id, w->session_prefix_tokens, w->session_branch,
                              w->session_prefix_branch);
    q->sr.user = q;
    q->arrival = w->arrival;
    q->class_id = (uint16_t)cls;

    SchedFit fit = sched_check_fit(e->sched, w->input_tokens, w->output_tokens);
    if (fit != SCHED_FITS) {
        e->rejected++;
        e->classes[cls].rejected++;
        if (fit == SCHED_REJECT_TOO_LONG)
            e->rejected_too_long++;
        else
            e->rejected_no_blocks++;
        write_request_row(e, q, fit == SCHED_REJECT_TOO_LONG ? "rejected_too_long" : "rejected_no_blocks",
                          FALSE);
        req_recycle(e, q);
        return;
    }
    if (e->cfg->async_scheduling && e->busy)
        g_ptr_array_add(e->deferred, q); /* the next batch is already formed */
    else
        sched_add_request(e->sched, &q->sr);
}

/* Async scheduling: requests that arrived while the last step ran join the
 * waiting queue once the batch that follows it has been formed. */
static void release_deferred(Engine *e)
{
    for (guint i = 0; i < e->deferred->len; i++)
        sched_add_request(e->sched, &((SimReq *)g_ptr_array_index(e->deferred, i))->sr);
    g_ptr_array_set_size(e->deferred, 0);
}

/* Reads the source's next request into e->pending. */
static gboolean pull(Engine *e, GError **error)
{
    int rc = wl_source_next(e->cfg->source, &e->pending, error);
    if (rc < 0)
        return FALSE;
    e->has_pending = rc > 0;
    if (e->has_pending && e->pending.arrival < e->now) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "request %" G_GUINT64_FORMAT " arrives at %.9f s, before the previous one (%.9f s)",
                    e->pending.id, sim_time_to_seconds(e->pending.arrival), sim_time_to_seconds(e->now));
        return FALSE;
    }
    if (e->has_pending && (e->pending.input_tokens == 0 || e->pending.output_tokens == 0)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "request %" G_GUINT64_FORMAT " has %u input and %u output tokens; both must be >= 1",
                    e->pending.id, e->pending.input_tokens, e->pending.output_tokens);
        return FALSE;
    }
    return TRUE;
}

/* --------------------------------------------------------------- steps -- */

static gboolean start_step(Engine *e, GError **error)
{
    const SchedStep *st = sched_schedule(e->sched);
    if (e->deferred->len > 0) {
        /* The step just formed was scheduled while the previous one ran (async
         * scheduling); the requests that arrived meanwhile wait for the next.
         * With nothing else to run, vLLM schedules them at once. */
        release_deferred(e);
        if (st->num_reqs == 0)
            st = sched_schedule(e->sched);
    }
    if (st->num_reqs == 0) {
        if (sched_num_running(e->sched) + sched_num_waiting(e->sched) > 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_SIM,
                        "the scheduler made no progress at %.6f s with %u running and %u waiting",
                        sim_time_to_seconds(e->now), sched_num_running(e->sched), sched_num_waiting(e->sched));
            return FALSE;
        }
        return TRUE; /* idle */
    }
    /* admitted requests come after the running ones */
    for (uint32_t i = st->num_reqs - st->num_admitted; i < st->num_reqs; i++) {
        SimReq *q = st->reqs[i]->user;
        if (!q->was_scheduled) {
            q->was_scheduled = TRUE;
            q->first_sched = e->now;
        }
    }
    SimTime dur = sim_time_from_seconds(lat_step_model_seconds(e->cfg->latency, &st->batch));
    if (dur == 0)
        dur = 1; /* time always moves forward */
    e->busy = TRUE;
    e->step_start = e->now;
    uint32_t used = sched_kv_pool_num_used(sched_kv_pool(e->sched));
    e->kv_area += (double)used * (double)dur;
    if (used > e->kv_peak)
        e->kv_peak = used;
    if (used > e->ts_kv_max)
        e->ts_kv_max = used;
    sim_queue_push(e->queue, e->now + dur, EV_STEP_END, 0);
    return TRUE;
}

static void finish_request(Engine *e, SimReq *q)
{
    e->completed++;
    e->ts_completed++;
    ClassAcc *c = &e->classes[q->class_id];
    c->completed++;
    c->input_tokens += q->sr.prompt_tokens;
    c->output_tokens += q->sr.max_output_tokens;
    if (q->sr.num_preemptions)
        c->preempted_requests++;
    SimRecord rec = {
        .arrival = q->arrival,
        .queue = q->first_sched - q->arrival,
        .ttft = q->first_token - q->arrival,
        .e2e = q->last_token - q->arrival,
        .input = q->sr.prompt_tokens,
        .output = q->sr.max_output_tokens,
        .class_id = q->class_id,
        .preemptions = (uint16_t)MIN(q->sr.num_preemptions, 65535u),
    };
    g_array_append_val(e->records, rec);
    write_request_row(e, q, "completed", TRUE);
    req_recycle(e, q);
}

static gboolean handle_step_end(Engine *e, GError **error)
{
    const SchedStep *st = sched_last_step(e->sched);
    SimTime dur = e->now - e->step_start;
    e->busy = FALSE;
    e->busy_ns += dur;
    e->steps++;
    e->ts_steps++;
    e->sum_batch_reqs += st->num_reqs;
    e->sum_batch_tokens += st->batch.total_tokens;
    e->ts_tokens += st->batch.total_tokens;
    e->ts_preempted += st->num_preempted;

    if (e->cfg->timeseries_csv && !e->ts_interval) {
        uint32_t used = sched_kv_pool_num_used(sched_kv_pool(e->sched));
        uint32_t usable = sched_kv_pool_num_blocks(sched_kv_pool(e->sched));
        fprintf(e->cfg->timeseries_csv, "%.6f,%.6f,%u,%u,%u,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%u,%u,%.6f,%u\n",
                sim_time_to_seconds(e->step_start), sim_time_to_ms(dur), sched_num_running(e->sched),
                sched_num_waiting(e->sched) + e->deferred->len, st->num_reqs, st->batch.total_tokens, st->batch.prefill_tokens,
                st->batch.num_decode, used, (double)used / usable, st->num_preempted);
    }

    sched_finish_step(e->sched);
    /* Most tokens of a step come after a token of the previous step: their
     * ITL is this step's duration. They are counted per class and added to
     * the histograms once per step. */
    uint64_t *runs = e->itl_runs;
    memset(runs, 0, e->num_classes * sizeof *runs);
    for (uint32_t i = 0; i < st->num_reqs; i++) {
        SimReq *q = st->reqs[i]->user;
        uint8_t fl = q->sr.step_flags;
        if (!(fl & SCHED_EMITTED))
            continue;
        if (fl & SCHED_FIRST) {
            q->first_token = e->now;
        } else {
            SimTime itl = e->now - q->last_token;
            if (itl > q->itl_max)
                q->itl_max = itl;
            if (itl == dur) {
                runs[q->class_id]++;
            } else {
                sim_hist_add(e->itl_all, itl);
                sim_hist_add(e->classes[q->class_id].itl, itl);
            }
            if (e->cfg->itl_csv)
                fprintf(e->cfg->itl_csv, "%" G_GUINT64_FORMAT ",%u,%.6f,%.6f\n", q->sr.id, q->sr.num_output,
                        sim_time_to_seconds(e->now), sim_time_to_ms(itl));
        }
        q->last_token = e->now;
        if (fl & SCHED_FINISHED_NOW)
            finish_request(e, q);
    }
    uint64_t total_runs = 0;
    for (guint c = 0; c < e->num_classes; c++) {
        sim_hist_add_n(e->classes[c].itl, dur, runs[c]);
        total_runs += runs[c];
    }
    sim_hist_add_n(e->itl_all, dur, total_runs);
    if (e->cfg->step_hook) {
        SimStepInfo info = {.start = e->step_start, .end = e->now, .step = st, .sched = e->sched,
                            .arrived = e->arrived, .completed = e->completed, .rejected = e->rejected,
                            .deferred = e->deferred->len};
        e->cfg->step_hook(&info, e->cfg->hook_user);
    }
    return start_step(e, error);
}

/* -------------------------------------------------------------- summary -- */

typedef enum { REC_TTFT, REC_E2E, REC_QUEUE, REC_TPOT } RecMetric;

/* The values (ms) of one metric over the completed requests of a class
 * (cls < 0: all); TPOT only for requests of more than one output token.
 * Returns how many were written to buf. */
static size_t collect(const Engine *e, int cls, RecMetric m, double *buf)
{
    const SimRecord *r = (const SimRecord *)e->records->data;
    size_t n = 0;
    for (size_t i = 0; i < e->records->len; i++) {
        if (cls >= 0 && r[i].class_id != (uint16_t)cls)
            continue;
        switch (m) {
        case REC_TTFT:
            buf[n++] = sim_time_to_ms(r[i].ttft);
            break;
        case REC_E2E:
            buf[n++] = sim_time_to_ms(r[i].e2e);
            break;
        case REC_QUEUE:
            buf[n++] = sim_time_to_ms(r[i].queue);
            break;
        case REC_TPOT:
            if (r[i].output > 1)
                buf[n++] = sim_time_to_ms(r[i].e2e - r[i].ttft) / (r[i].output - 1);
            break;
        }
    }
    return n;
}

static void class_stats(Engine *e, int cls, double duration_s, SimClassSummary *out, double *buf)
{
    sim_stats_compute(buf, collect(e, cls, REC_TTFT, buf), &out->ttft_ms);
    sim_stats_compute(buf, collect(e, cls, REC_E2E, buf), &out->e2e_ms);
    sim_stats_compute(buf, collect(e, cls, REC_QUEUE, buf), &out->queue_ms);
    sim_stats_compute(buf, collect(e, cls, REC_TPOT, buf), &out->tpot_ms);
    if (duration_s > 0) {
        out->requests_per_s = out->completed / duration_s;
        out->input_tokens_per_s = out->input_tokens / duration_s;
        out->output_tokens_per_s = out->output_tokens / duration_s;
    }
}

/* Compares the queueing delay of late arrivals with that of earlier ones
 * (the first quarter is left out as warm-up). Requests still waiting at a
 * time limit count with the delay they have had so far. */
static double queue_growth_ms(Engine *e)
{
    if (!e->any_arrival || e->last_arrival <= e->first_arrival)
        return 0;
    double span = (double)(e->last_arrival - e->first_arrival);
    double sum[4] = {0}, n[4] = {0};
    const SimRecord *r = (const SimRecord *)e->records->data;
    for (guint i = 0; i < e->records->len; i++) {
        int q = (int)(4.0 * (double)(r[i].arrival - e->first_arrival) / span);
        q = CLAMP(q, 0, 3);
        sum[q] += sim_time_to_ms(r[i].queue);
        n[q]++;
    }
    for (uint32_t i = 0; i < sched_num_waiting(e->sched); i++) {
        const SimReq *q = sched_waiting_at(e->sched, i)->user;
        if (q->was_scheduled)
            continue;
        int k = CLAMP((int)(4.0 * (double)(q->arrival - e->first_arrival) / span), 0, 3);
        sum[k] += sim_time_to_ms(e->now - q->arrival);
        n[k]++;
    }
    if (n[1] == 0 || n[3] == 0)
        return 0;
    return sum[3] / n[3] - sum[1] / n[1];
}

static SimSummary *summarise(Engine *e, gboolean stopped)
{
    SimSummary *s = g_new0(SimSummary, 1);
    s->num_classes = e->num_classes;
    s->classes = g_new0(SimClassSummary, e->num_classes);
    s->preemptions = sched_num_preemptions(e->sched);
    s->rejected_too_long = e->rejected_too_long;
    s->rejected_no_blocks = e->rejected_no_blocks;
    s->rows_skipped = wl_source_rows_skipped(e->cfg->source);
    s->steps = e->steps;
    s->prefix_hit_tokens = sched_prefix_hit_tokens(e->sched);
    s->num_gpu_blocks = e->cfg->sched.num_gpu_blocks;
    s->stopped_at_limit = stopped;
    s->first_arrival_s = e->any_arrival ? sim_time_to_seconds(e->first_arrival) : 0;
    s->last_arrival_s = e->any_arrival ? sim_time_to_seconds(e->last_arrival) : 0;
    s->end_s = sim_time_to_seconds(e->now);
    SimTime span = e->any_arrival && e->now > e->first_arrival ? e->now - e->first_arrival : 0;
    s->duration_s = sim_time_to_seconds(span);
    if (e->any_arrival && e->last_arrival > e->first_arrival)
        s->offered_rate = (double)(e->arrived - 1) / sim_time_to_seconds(e->last_arrival - e->first_arrival);
    s->achieved_rate = s->duration_s > 0 ? e->completed / s->duration_s : 0;
    uint32_t usable = sched_kv_pool_num_blocks(sched_kv_pool(e->sched));
    s->kv_usage_mean = span ? e->kv_area / ((double)usable * (double)span) : 0;
    s->kv_usage_peak = (double)e->kv_peak / usable;
    s->batch_size_mean = e->steps ? (double)e->sum_batch_reqs / e->steps : 0;
    s->batch_tokens_mean = e->steps ? (double)e->sum_batch_tokens / e->steps : 0;
    s->busy_fraction = span ? (double)e->busy_ns / span : 0;
    s->queue_growth_ms = queue_growth_ms(e);
    if (e->any_arrival && e->last_arrival > e->first_arrival)
        s->queue_growth_rate = s->queue_growth_ms / (sim_time_to_ms(e->last_arrival - e->first_arrival) / 2.0);

    /* requests still in flight (only when a time limit stopped the run) */
    uint64_t *in_flight = g_new0(uint64_t, e->num_classes);
    for (uint32_t i = 0; i < sched_num_running(e->sched); i++)
        in_flight[((SimReq *)sched_running_at(e->sched, i)->user)->class_id]++;
    for (uint32_t i = 0; i < sched_num_waiting(e->sched); i++)
        in_flight[((SimReq *)sched_waiting_at(e->sched, i)->user)->class_id]++;
    for (guint i = 0; i < e->deferred->len; i++)
        in_flight[((SimReq *)g_ptr_array_index(e->deferred, i))->class_id]++;

    double *buf = g_new(double, MAX(e->records->len, 1));
    SimClassSummary *all = &s->all;
    all->name = g_strdup("all");
    for (guint c = 0; c < e->num_classes; c++) {
        SimClassSummary *cs = &s->classes[c];
        ClassAcc *a = &e->classes[c];
        cs->name = g_strdup(wl_source_class_name(e->cfg->source, c));
        cs->arrived = a->arrived;
        cs->completed = a->completed;
        cs->rejected = a->rejected;
        cs->in_flight = in_flight[c];
        cs->preempted_requests = a->preempted_requests;
        cs->input_tokens = a->input_tokens;
        cs->output_tokens = a->output_tokens;
        if (e->num_classes > 1) {
            class_stats(e, (int)c, s->duration_s, cs, buf);
            sim_hist_stats(a->itl, 1e-6, &cs->itl_ms);
        }
        all->arrived += a->arrived;
        all->completed += a->completed;
        all->rejected += a->rejected;
        all->in_flight += in_flight[c];
        all->preempted_requests += a->preempted_requests;
        all->input_tokens += a->input_tokens;
        all->output_tokens += a->output_tokens;
    }
    class_stats(e, -1, s->duration_s, all, buf);
    sim_hist_stats(e->itl_all, 1e-6, &all->itl_ms);
    if (e->num_classes == 1) { /* the one class is everything */
        SimClassSummary *cs = &s->classes[0];
        cs->ttft_ms = all->ttft_ms;
        cs->tpot_ms = all->tpot_ms;
        cs->itl_ms = all->itl_ms;
        cs->e2e_ms = all->e2e_ms;
        cs->queue_ms = all->queue_ms;
        cs->requests_per_s = all->requests_per_s;
        cs->input_tokens_per_s = all->input_tokens_per_s;
        cs->output_tokens_per_s = all->output_tokens_per_s;
    }
    g_free(buf);
    g_free(in_flight);
    return s;
}

void sim_summary_free(SimSummary *s)
{
    if (!s)
        return;
    g_free(s->all.name);
    for (guint c = 0; c < s->num_classes; c++)
        g_free(s->classes[c].name);
    g_free(s->classes);
    g_free(s);
}

/* ----------------------------------------------------------------- run -- */

static void engine_clear(Engine *e)
{
    sched_free(e->sched);
    sim_queue_free(e->queue);
    if (e->chunks) {
        /* release the block arrays of requests still in flight */
        for (guint i = 0; i < e->chunks->len; i++) {
            SimReq *chunk = g_ptr_array_index(e->chunks, i);
            for (int k = 0; k < REQ_CHUNK; k++)
                g_free(chunk[k].sr.blocks);
            g_free(chunk);
        }
        g_ptr_array_free(e->chunks, TRUE);
    }
    if (e->deferred)
        g_ptr_array_free(e->deferred, TRUE);
    if (e->records)
        g_array_free(e->records, TRUE);
    for (guint c = 0; c < e->num_classes; c++)
        sim_hist_free(e->classes[c].itl);
    g_free(e->classes);
    g_free(e->itl_runs);
    sim_hist_free(e->itl_all);
}

SimSummary *sim_run(const SimConfig *cfg, GError **error)
{
    g_return_val_if_fail(cfg && cfg->latency && cfg->source, NULL);
    Engine e = {0};
    e.cfg = cfg;
    e.sched = sched_new(&cfg->sched, error);
    if (!e.sched)
        return NULL;
    e.queue = sim_queue_new();
    e.chunks = g_ptr_array_new();
    e.deferred = g_ptr_array_new();
    e.records = g_array_new(FALSE, FALSE, sizeof(SimRecord));
    e.num_classes = MAX(wl_source_num_classes(cfg->source), 1);
    e.classes = g_new0(ClassAcc, e.num_classes);
    for (guint c = 0; c < e.num_classes; c++)
        e.classes[c].itl = sim_hist_new();
    e.itl_all = sim_hist_new();
    e.itl_runs = g_new0(uint64_t, e.num_classes);
    if (cfg->timeseries_interval_s > 0)
        e.ts_interval = MAX(sim_time_from_seconds(cfg->timeseries_interval_s), 1);

    if (cfg->requests_csv)
        fprintf(cfg->requests_csv, "%s\n", sim_requests_csv_header());
    write_timeseries_header(&e);

    SimSummary *result = NULL;
    gboolean stopped = FALSE;
    if (!pull(&e, error))
        goto out;
    if (e.has_pending)
        sim_queue_push(e.queue, e.pending.arrival, EV_ARRIVAL, 0);

    SimEvent ev;
    while (sim_queue_pop(e.queue, &ev)) {
        if (cfg->max_time && ev.time > cfg->max_time) {
            stopped = TRUE;
            advance_intervals(&e, cfg->max_time);
            e.now = cfg->max_time;
            break;
        }
        g_assert(ev.time >= e.now); /* time never runs backwards */
        e.now = ev.time;
        if (ev.kind == EV_ARRIVAL) {
            do {
                admit(&e, &e.pending);
                if (!pull(&e, error))
                    goto out;
            } while (e.has_pending && e.pending.arrival == e.now);
            if (e.has_pending)
                sim_queue_push(e.queue, e.pending.arrival, EV_ARRIVAL, 0);
            if (!e.busy && !start_step(&e, error))
                goto out;
        } else {
            advance_intervals(&e, e.now);
            if (!handle_step_end(&e, error))
                goto out;
        }
    }
    if (cfg->timeseries_csv && e.ts_interval && e.any_arrival && e.ts_steps + e.ts_arrived + e.ts_completed > 0)
        flush_interval(&e);
    /* rows for the requests a time limit left in flight */
    for (uint32_t i = 0; i < sched_num_running(e.sched); i++)
        write_request_row(&e, sched_running_at(e.sched, i)->user, "running", FALSE);
    for (uint32_t i = 0; i < sched_num_waiting(e.sched); i++)
        write_request_row(&e, sched_waiting_at(e.sched, i)->user, "waiting", FALSE);
    for (guint i = 0; i < e.deferred->len; i++)
        write_request_row(&e, g_ptr_array_index(e.deferred, i), "waiting", FALSE);
    result = summarise(&e, stopped);
out:
    engine_clear(&e);
    return result;
}
