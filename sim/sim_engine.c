/*
 * sim_engine.c: the engine of one replica (see sim_engine.h).
 *
 * A replica has at most one pending event, the end of its running step; the
 * fleet layer keeps those of all replicas on one clock. Adding a request
 * queues it (or rejects it when it can never fit); waking an idle replica
 * forms a step with the scheduler and times it with the step model; ending
 * the step applies it (tokens sampled, requests finished, metrics recorded)
 * and starts the next one if there is work. A step's duration is rounded to
 * nanoseconds by sim_time_from_seconds(), the project's single rounding
 * point, and is at least 1 ns so that time always moves forward. A step
 * lasts at most SIM_TIME_LIMIT and ends within SIM_TIME_HORIZON (checked:
 * an error otherwise, ss_types.h), so a replica's clock never wraps.
 *
 * Requests in flight live in a pool of records recycled through a free list;
 * a completed request leaves a record in the recorder and, when asked, a
 * row of the per-request CSV. Cost per step: the scheduler's O(batch) and
 * O(1) per sampled token; no allocation once the pool has grown.
 *
 * KV transfers add a test per admitted and per finished request (a flag of
 * the request) and, on a replica that takes part in them, a report of the
 * requests that got their blocks to load after each batch is formed.
 */
#include <math.h>
#include <string.h>

#include "sim_internal.h"
#include "ss_error.h"

#define REQ_CHUNK 1024

struct SimReplica {
    SimReplicaConfig cfg;
    SimRecorder *rec;
    SchedScheduler *sched;
    guint index;

    GPtrArray *chunks;      /* SimReq blocks of REQ_CHUNK */
    SimReq *free_list;
    GPtrArray *deferred;    /* async scheduling: SimReq* arrived during the running step */
    GPtrArray *deferred_kv; /* async scheduling: SimReq* whose KV arrived during the running step */
    uint32_t holds_running; /* prefill-only requests added and not yet handed off (layer-wise reports) */
    uint32_t early_running; /* of them, handed off at their last step's start (layer-wise) */

    gboolean busy;
    SimTime step_start;
    SimTime step_delay;     /* its tokens leave the engine this long after the step ends */
    SimTime step_end;       /* SIM_TIME_MAX when idle */

    SimReplicaCounters n;

    /* time series by interval */
    uint64_t ts_steps, ts_tokens, ts_arrived, ts_completed, ts_preempted;
    uint32_t ts_kv_max;
};

/* ------------------------------------------------------------ requests -- */

static SimReq *req_alloc(SimReplica *r)
{
    if (!r->free_list) {
        SimReq *chunk = g_aligned_alloc0(REQ_CHUNK, sizeof(SimReq), _Alignof(SimReq));
        g_ptr_array_add(r->chunks, chunk);
        for (int i = REQ_CHUNK - 1; i >= 0; i--) {
            chunk[i].next_free = r->free_list;
            r->free_list = &chunk[i];
        }
    }
    SimReq *q = r->free_list;
    r->free_list = q->next_free;
    return q;
}

static void req_recycle(SimReplica *r, SimReq *q)
{
    sched_request_recycle(r->sched, &q->sr);
    q->next_free = r->free_list;
    r->free_list = q;
}

/* ----------------------------------------------------------- lifecycle -- */

SimReplica *sim_replica_new(const SimReplicaConfig *cfg, GError **error)
{
    /* a contract on the caller (the fleet passes built objects and checks the count): not input */
    g_return_val_if_fail(cfg && cfg->latency && cfg->recorder && cfg->index < SIM_MAX_REPLICAS, NULL);
    SchedScheduler *sched = sched_new(&cfg->sched, error);
    if (!sched)
        return NULL;
    SimReplica *r = g_new0(SimReplica, 1);
    r->cfg = *cfg;
    r->rec = cfg->recorder;
    r->sched = sched;
    r->index = cfg->index;
    r->chunks = g_ptr_array_new();
    r->deferred = g_ptr_array_new();
    r->deferred_kv = g_ptr_array_new();
    r->step_end = SIM_TIME_MAX;
    return r;
}

void sim_replica_free(SimReplica *r)
{
    if (!r)
        return;
    sched_free(r->sched);
    /* release the block arrays of requests still in flight */
    for (guint i = 0; i < r->chunks->len; i++) {
        SimReq *chunk = g_ptr_array_index(r->chunks, i);
        for (int k = 0; k < REQ_CHUNK; k++)
            sched_request_release(&chunk[k].sr);
        g_aligned_free(chunk);
    }
    g_ptr_array_free(r->chunks, TRUE);
    g_ptr_array_free(r->deferred, TRUE);
    g_ptr_array_free(r->deferred_kv, TRUE);
    g_free(r);
}

/* ------------------------------------------------------------- arrival -- */

/* Adds a request that samples `output` tokens here, with the scheduler's
 * KV flags; returns its record, or NULL when it was rejected (*fit says why). */
static SimReq *add_request(SimReplica *r, const WlRequest *w, uint32_t output, uint8_t kv_flags, uint32_t tag,
                           SchedFit *fit_out)
{
    r->n.arrived++;
    r->ts_arrived++;
    guint cls = sim_recorder_class(r->rec, w);

    SimReq *q = req_alloc(r);
    memset(q, 0, sizeof *q);
    sched_request_init(&q->sr, w->id, w->input_tokens, output, w->prefix_group, w->shared_prefix_tokens);
    sched_request_set_session(&q->sr, w->session_id, w->session_prefix_tokens, w->session_branch,
                              w->session_prefix_branch);
    q->sr.priority = w->priority;
    q->sr.lora_id = w->lora_id;
    q->sr.user = q;
    q->sr.kv_flags = kv_flags;
    q->kv_tag = tag;
    q->arrival = w->arrival;
    q->class_id = (uint16_t)cls;

    SchedFit fit = sched_check_fit(r->sched, w->input_tokens, output);
    *fit_out = fit;
    if (fit != SCHED_FITS) {
        r->n.rejected++;
        sim_recorder_replica_reject(r->rec, cls);
        if (fit == SCHED_REJECT_TOO_LONG)
            r->n.rejected_too_long++;
        else
            r->n.rejected_no_blocks++;
        sim_recorder_request_row(r->rec, q,
                                 fit == SCHED_REJECT_TOO_LONG ? "rejected_too_long" : "rejected_no_blocks", FALSE,
                                 (int)r->index);
        req_recycle(r, q);
        return NULL;
    }
    if (r->cfg.async_scheduling && r->busy)
        g_ptr_array_add(r->deferred, q); /* the next batch is already formed */
    else
        sched_add_request(r->sched, &q->sr);
    return q;
}

SchedFit sim_replica_add(SimReplica *r, const WlRequest *w, SimTime now)
{
    (void)now;
    SchedFit fit;
    add_request(r, w, w->output_tokens, 0, 0, &fit);
    return fit;
}

SchedFit sim_replica_add_prefill(SimReplica *r, const WlRequest *w, SimTime now, uint32_t tag)
{
    (void)now;
    SchedFit fit;
    if (add_request(r, w, 1, SCHED_KV_HOLD, tag, &fit))
        r->holds_running++;
    return fit;
}

SchedFit sim_replica_add_remote(SimReplica *r, const WlRequest *w, SimTime now, uint32_t tag, SimTime first_sched)
{
    (void)now;
    SchedFit fit;
    SimReq *q = add_request(r, w, w->output_tokens, SCHED_KV_REMOTE, tag, &fit);
    if (q) {
        q->was_scheduled = TRUE; /* its service began with its prefill, elsewhere */
        q->first_sched = first_sched;
    }
    return fit;
}

void sim_replica_kv_arrived(SimReplica *r, SimKvRef *ref, SimTime now)
{
    (void)now;
    if (r->cfg.async_scheduling && r->busy)
        g_ptr_array_add(r->deferred_kv, ref); /* seen once the step's outputs are processed: after the next batch */
    else
        sched_remote_kv_ready(r->sched, &ref->sr);
}

void sim_replica_release_held(SimReplica *r, SimKvRef *ref)
{
    sched_release_held(r->sched, &ref->sr);
    req_recycle(r, ref);
}

void sim_replica_restart(SimReplica *r)
{
    /* the autoscaler restarts only a replica that drained (cl_autoscale.c):
     * a bug check, unreachable from input */
    g_assert(!r->busy && sim_replica_in_flight(r) == 0 && sched_num_held(r->sched) == 0);
    sched_reset_cache(r->sched);
}

/* Async scheduling: requests that arrived while the last step ran join the
 * waiting queue once the batch that follows it has been formed. */
static void release_deferred(SimReplica *r)
{
    for (guint i = 0; i < r->deferred->len; i++)
        sched_add_request(r->sched, &((SimReq *)g_ptr_array_index(r->deferred, i))->sr);
    g_ptr_array_set_size(r->deferred, 0);
    for (guint i = 0; i < r->deferred_kv->len; i++)
        sched_remote_kv_ready(r->sched, &((SimReq *)g_ptr_array_index(r->deferred_kv, i))->sr);
    g_ptr_array_set_size(r->deferred_kv, 0);
}

/* Tells the fleet which requests of the batch just formed got their blocks
 * and wait for their KV. */
static void report_remote(SimReplica *r, const SchedStep *st, SimTime now)
{
    const SimKvHooks *kv = r->cfg.kv;
    for (uint32_t i = 0; i < st->num_remote_admitted; i++) {
        SimReq *q = SIM_REQ(st->remote_admitted[i]);
        if (kv && kv->allocated)
            kv->allocated(kv->user, r, q, q->kv_tag, sched_request_remote_tokens(&q->sr), now);
    }
}

/* --------------------------------------------------------------- steps -- */

static gboolean start_step(SimReplica *r, SimTime now, GError **error)
{
    const SchedStep *st = sched_schedule(r->sched);
    if (G_UNLIKELY(st->num_remote_admitted))
        report_remote(r, st, now);
    if (r->deferred->len > 0 || r->deferred_kv->len > 0) {
        /* The step just formed was scheduled while the previous one ran (async
         * scheduling); the requests that arrived meanwhile wait for the next.
         * With nothing else to run, vLLM schedules them at once. */
        release_deferred(r);
        if (st->num_reqs == 0) {
            st = sched_schedule(r->sched);
            if (G_UNLIKELY(st->num_remote_admitted))
                report_remote(r, st, now);
        }
    }
    if (st->num_reqs == 0) {
        /* requests waiting for blocks that loading or held requests occupy
         * wait for the transfers, which the fleet ends */
        if (sched_num_running(r->sched) + sched_num_waiting(r->sched) > 0 &&
            sched_num_remote_waiting(r->sched) + sched_num_held(r->sched) == 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_SIM,
                        "replica %u: the scheduler made no progress at %.6f s with %u running and %u waiting",
                        r->index, sim_time_to_seconds(now), sched_num_running(r->sched),
                        sched_num_waiting(r->sched));
            return FALSE;
        }
        return TRUE; /* idle */
    }
    /* admitted requests come after the running ones */
    for (uint32_t i = st->num_reqs - st->num_admitted; i < st->num_reqs; i++) {
        SimReq *q = SIM_REQ(st->reqs[i]);
        if (!q->was_scheduled) {
            q->was_scheduled = TRUE;
            q->first_sched = now;
        }
    }
    /* the step's end is checked, never wrapped: a step model that gives a
     * non-finite, negative or absurd duration (latency constants far out of
     * range) is an error, as is a clock past SIM_TIME_HORIZON; so is a token
     * delivery delay past SIM_TIME_LIMIT (tokens leave at end + delay) */
    double delay_s = 0;
    double seconds = lat_step_model_seconds_delay(r->cfg.latency, &st->batch, &delay_s);
    SimTime dur = 0, end = 0, delay = 0;
    if (!sim_time_from_seconds_checked(seconds, &dur) ||
        !sim_time_add_checked(now, MAX(dur, 1), SIM_TIME_HORIZON, &end) ||
        !sim_time_from_seconds_checked(delay_s, &delay)) {
        g_set_error(error, SS_ERROR, SS_ERROR_SIM,
                    "replica %u: the step model gave a step of %g s (its tokens out %g s after it) at %.6f s of "
                    "simulated time (%u requests, %" G_GUINT64_FORMAT " tokens): expected finite durations from 0 "
                    "to %g s ending before %g s (check the latency constants)",
                    r->index, seconds, delay_s, sim_time_to_seconds(now), st->num_reqs, st->batch.total_tokens,
                    SIM_TIME_LIMIT_S, sim_time_to_seconds(SIM_TIME_HORIZON));
        return FALSE;
    }
    if (dur == 0)
        dur = 1; /* time always moves forward */
    r->step_delay = delay; /* end + delay <= SIM_TIME_HORIZON + SIM_TIME_LIMIT: no wrap */
    r->busy = TRUE;
    r->step_start = now;
    r->step_end = end;
    if (G_UNLIKELY(r->holds_running) && r->cfg.kv && r->cfg.kv->layerwise && r->cfg.kv->last_prefill_step) {
        /* layer-wise streaming: the KV of a prompt that ends in this step leaves as its layers are computed */
        for (uint32_t i = 0; i < st->num_reqs; i++) {
            SimReq *q = SIM_REQ(st->reqs[i]);
            if ((q->sr.kv_flags & SCHED_KV_HOLD) && st->batch.entries[i].emits_token && !q->handed_early) {
                q->handed_early = 1;
                r->early_running++;
                r->n.handed_off++;
                r->cfg.kv->last_prefill_step(r->cfg.kv->user, r, q, q->kv_tag, now, r->step_end);
            }
        }
    }
    uint32_t used = sched_kv_pool_num_used(sched_kv_pool(r->sched));
    r->n.kv_area += (double)used * (double)dur;
    if (used > r->n.kv_peak)
        r->n.kv_peak = used;
    if (used > r->ts_kv_max)
        r->ts_kv_max = used;
    return TRUE;
}

gboolean sim_replica_wake(SimReplica *r, SimTime now, GError **error)
{
    if (r->busy)
        return TRUE;
    return start_step(r, now, error);
}

SimTime sim_replica_next_event(const SimReplica *r)
{
    return r->step_end;
}

static void finish_request(SimReplica *r, SimReq *q)
{
    if (G_UNLIKELY(q->sr.kv_flags & SCHED_KV_HOLD)) {
        /* a prefill-only request: handed off, its blocks held for the transfer */
        if (q->handed_early)
            r->early_running--; /* counted when its last step started */
        else
            r->n.handed_off++;
        r->holds_running--;
        const SimKvHooks *kv = r->cfg.kv;
        if (kv && kv->prefilled)
            kv->prefilled(kv->user, r, q, q->kv_tag, q->first_sched, r->step_end, r->step_end + r->step_delay);
        return;
    }
    r->n.completed++;
    r->ts_completed++;
    sim_recorder_complete(r->rec, q, r->index);
    if (G_UNLIKELY(q->kv_tag) && r->cfg.kv && r->cfg.kv->completed)
        r->cfg.kv->completed(r->cfg.kv->user, r, q->kv_tag, q->first_token, q->last_token);
    req_recycle(r, q);
}

gboolean sim_replica_end_step(SimReplica *r, GError **error)
{
    g_assert(r->busy); /* the fleet layer ends only running steps */
    SimRecorder *rec = r->rec;
    const SimOutputs *out = &rec->out;
    const SchedStep *st = sched_last_step(r->sched);
    SimTime now = r->step_end;
    SimTime dur = now - r->step_start;
    r->busy = FALSE;
    r->n.busy_ns += dur;
    r->n.steps++;
    r->ts_steps++;
    r->n.sum_batch_reqs += st->num_reqs;
    r->n.sum_batch_tokens += st->batch.total_tokens;
    r->ts_tokens += st->batch.total_tokens;
    r->ts_preempted += st->num_preempted;

    if (out->timeseries_csv && !rec->ts_interval) {
        uint32_t used = sched_kv_pool_num_used(sched_kv_pool(r->sched));
        uint32_t usable = sched_kv_pool_num_blocks(sched_kv_pool(r->sched));
        fprintf(out->timeseries_csv,
                "%.6f,%.6f,%u,%u,%u,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%u,%u,%.6f,%u",
                sim_time_to_seconds(r->step_start), sim_time_to_ms(dur), sched_num_running(r->sched),
                sched_num_waiting(r->sched) + r->deferred->len, st->num_reqs, st->batch.total_tokens,
                st->batch.prefill_tokens,
                st->batch.num_decode, used, (double)used / usable, st->num_preempted);
        if (out->replica_column)
            fprintf(out->timeseries_csv, ",%u\n", r->index);
        else
            fputc('\n', out->timeseries_csv);
    }

    sched_finish_step(r->sched);
    /* A step's tokens leave the engine step_delay after its end (async
     * scheduling: once its outputs are processed); TTFT, ITL and E2E are
     * measured there. Most tokens of a step come after a token of the
     * previous step: their ITL is this step's duration. They are counted per
     * class and added to the histograms once per step. */
    SimTime tok = now + r->step_delay;
    uint64_t *runs = rec->itl_runs;
    memset(runs, 0, rec->num_classes * sizeof *runs);
    uint64_t runs0 = 0; /* class 0's, in a register (most runs have one class) */
    FILE *const itl_csv = out->itl_csv;
    for (uint32_t i = 0; i < st->num_reqs; i++) {
        SimReq *q = SIM_REQ(st->reqs[i]);
        uint8_t fl = q->sr.step_flags;
        if (!(fl & SCHED_EMITTED))
            continue;
        if (fl & SCHED_FIRST) {
            q->first_token = tok;
        } else {
            SimTime itl = tok - q->last_token;
            if (itl > q->itl_max)
                q->itl_max = itl;
            if (itl == dur) {
                if (q->class_id == 0)
                    runs0++;
                else
                    runs[q->class_id]++;
            } else {
                sim_hist_add(rec->itl_all, itl);
                sim_hist_add(rec->classes[q->class_id].itl, itl);
            }
            if (itl_csv)
                fprintf(itl_csv, "%" G_GUINT64_FORMAT ",%u,%.6f,%.6f\n", q->sr.id, q->sr.num_output,
                        sim_time_to_seconds(tok), sim_time_to_ms(itl));
        }
        q->last_token = tok;
        if (fl & SCHED_FINISHED_NOW)
            finish_request(r, q);
    }
    runs[0] += runs0;
    uint64_t total_runs = 0;
    for (guint c = 0; c < rec->num_classes; c++) {
        sim_hist_add_n(rec->classes[c].itl, dur, runs[c]);
        total_runs += runs[c];
    }
    sim_hist_add_n(rec->itl_all, dur, total_runs);
    r->step_end = SIM_TIME_MAX;
    if (r->cfg.step_hook) {
        SimStepInfo info = {.start = r->step_start, .end = now, .step = st, .sched = r->sched,
                            .arrived = r->n.arrived, .completed = r->n.completed, .rejected = r->n.rejected,
                            .deferred = r->deferred->len, .handed_off = r->n.handed_off,
                            .remote_waiting = sched_num_remote_waiting(r->sched), .replica = r->index};
        r->cfg.step_hook(&info, r->cfg.hook_user);
    }
    return start_step(r, now, error);
}

/* ---------------------------------------------------------- time series -- */

void sim_replica_flush_interval(SimReplica *r, SimTime start)
{
    const SimOutputs *out = &r->rec->out;
    FILE *f = out->timeseries_csv;
    uint32_t usable = sched_kv_pool_num_blocks(sched_kv_pool(r->sched));
    fprintf(f, "%.6f,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
               ",%" G_GUINT64_FORMAT ",%u,%u,%u,%.6f",
            sim_time_to_seconds(start), r->ts_steps, r->ts_arrived, r->ts_completed, r->ts_preempted, r->ts_tokens,
            sched_num_running(r->sched), sched_num_waiting(r->sched) + r->deferred->len, r->ts_kv_max,
            (double)r->ts_kv_max / usable);
    if (out->replica_column)
        fprintf(f, ",%u\n", r->index);
    else
        fputc('\n', f);
    r->ts_steps = r->ts_tokens = r->ts_arrived = r->ts_completed = r->ts_preempted = 0;
    r->ts_kv_max = sched_kv_pool_num_used(sched_kv_pool(r->sched));
}

gboolean sim_replica_interval_active(const SimReplica *r)
{
    return r->ts_steps + r->ts_arrived + r->ts_completed > 0;
}

void sim_replica_write_in_flight_rows(SimReplica *r)
{
    for (uint32_t i = 0; i < sched_num_running(r->sched); i++)
        if (!SIM_REQ(sched_running_at(r->sched, i))->handed_early) /* the decode replica has its row */
            sim_recorder_request_row(r->rec, SIM_REQ(sched_running_at(r->sched, i)), "running", FALSE,
                                     (int)r->index);
    for (uint32_t i = 0; i < sched_num_waiting(r->sched); i++)
        sim_recorder_request_row(r->rec, SIM_REQ(sched_waiting_at(r->sched, i)), "waiting", FALSE, (int)r->index);
    for (guint i = 0; i < r->deferred->len; i++)
        sim_recorder_request_row(r->rec, g_ptr_array_index(r->deferred, i), "waiting", FALSE, (int)r->index);
    for (uint32_t i = 0; i < sched_num_remote_waiting(r->sched); i++)
        sim_recorder_request_row(r->rec, SIM_REQ(sched_remote_at(r->sched, i)), "kv_transfer", FALSE, (int)r->index);
}

/* --------------------------------------------------------------- views -- */

guint sim_replica_index(const SimReplica *r) { return r->index; }
const SchedScheduler *sim_replica_scheduler(const SimReplica *r) { return r->sched; }
const SchedConfig *sim_replica_sched_config(const SimReplica *r) { return &r->cfg.sched; }
uint64_t sim_replica_arrived(const SimReplica *r) { return r->n.arrived; }
uint64_t sim_replica_completed(const SimReplica *r) { return r->n.completed; }
uint64_t sim_replica_rejected(const SimReplica *r) { return r->n.rejected; }
uint64_t sim_replica_handed_off(const SimReplica *r) { return r->n.handed_off; }
uint32_t sim_replica_num_remote_waiting(const SimReplica *r) { return sched_num_remote_waiting(r->sched); }
uint32_t sim_replica_num_held(const SimReplica *r) { return sched_num_held(r->sched); }
uint32_t sim_replica_num_waiting(const SimReplica *r) { return sched_num_waiting(r->sched); }
uint32_t sim_replica_num_running(const SimReplica *r) { return sched_num_running(r->sched); }
gboolean sim_replica_busy(const SimReplica *r) { return r->busy; }
const SimReplicaCounters *sim_replica_counters(const SimReplica *r) { return &r->n; }

uint32_t sim_replica_num_deferred(const SimReplica *r) { return r->deferred->len; }
SimTime sim_replica_busy_ns(const SimReplica *r) { return r->n.busy_ns; }

uint32_t sim_replica_in_flight(const SimReplica *r)
{
    return sched_num_running(r->sched) - r->early_running + sched_num_waiting(r->sched) + r->deferred->len +
           sched_num_remote_waiting(r->sched);
}

const SimReq *sim_replica_remote_req(const SimReplica *r, uint32_t i)
{
    SchedRequest *s = sched_remote_at(r->sched, i);
    return s ? SIM_REQ(s) : NULL;
}

const SimReq *sim_replica_deferred_req(const SimReplica *r, uint32_t i)
{
    return i < r->deferred->len ? g_ptr_array_index(r->deferred, i) : NULL;
}

uint32_t sim_replica_kv_used(const SimReplica *r)
{
    return sched_kv_pool_num_used(sched_kv_pool(r->sched));
}

uint32_t sim_replica_kv_blocks(const SimReplica *r)
{
    return sched_kv_pool_num_blocks(sched_kv_pool(r->sched));
}

double sim_replica_lora_affinity(const SimReplica *r, uint32_t lora_id)
{
    if (sched_lora_resident(r->sched, lora_id))
        return 1.0;
    return sched_lora_free_slot(r->sched) ? 0.8 : 0.0;
}

uint32_t sim_replica_kv_cached(const SimReplica *r)
{
    return sched_kv_pool_num_cached_free(sched_kv_pool(r->sched));
}

const SimReq *sim_replica_waiting_req(const SimReplica *r, uint32_t i)
{
    SchedRequest *s = sched_waiting_at(r->sched, i);
    return s ? SIM_REQ(s) : NULL;
}

const SimReq *sim_replica_running_req(const SimReplica *r, uint32_t i)
{
    SchedRequest *s = sched_running_at(r->sched, i);
    return s ? SIM_REQ(s) : NULL;
}
