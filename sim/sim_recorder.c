/*
 * sim_recorder.c: the metrics sink of a run, shared by its replicas (see
 * sim_engine.h): per-class counters, the records of completed requests, the
 * inter-token latency histograms, and the per-request CSV rows.
 *
 * Records are appended in completion order (one GArray for the whole run,
 * each tagged with its replica), so the fleet-wide percentiles need no
 * merge and a replica's are a filter of the same array. The recorder is
 * used by one thread; replicas of one run call it in event order, which is
 * why its rows come out in the same order on every run.
 */
#include <string.h>

#include "sim_internal.h"

SimRecorder *sim_recorder_new(guint num_classes, const char *const *class_names, const SimOutputs *out)
{
    SimRecorder *rec = g_new0(SimRecorder, 1);
    if (out)
        rec->out = *out;
    rec->num_classes = MAX(num_classes, 1);
    rec->class_names = class_names;
    rec->classes = g_new0(SimClassAcc, rec->num_classes);
    for (guint c = 0; c < rec->num_classes; c++)
        rec->classes[c].itl = sim_hist_new();
    rec->itl_all = sim_hist_new();
    rec->itl_runs = g_new0(uint64_t, rec->num_classes);
    rec->records = g_array_new(FALSE, FALSE, sizeof(SimRecord));
    if (rec->out.timeseries_interval_s > 0)
        rec->ts_interval = MAX(sim_time_from_seconds(rec->out.timeseries_interval_s), 1);
    return rec;
}

void sim_recorder_free(SimRecorder *rec)
{
    if (!rec)
        return;
    for (guint c = 0; c < rec->num_classes; c++)
        sim_hist_free(rec->classes[c].itl);
    g_free(rec->classes);
    sim_hist_free(rec->itl_all);
    g_free(rec->itl_runs);
    g_array_free(rec->records, TRUE);
    g_free(rec);
}

SimTime sim_recorder_interval(const SimRecorder *rec)
{
    return rec->ts_interval;
}

uint64_t sim_recorder_num_completed(const SimRecorder *rec)
{
    return rec->records->len;
}

gboolean sim_recorder_completed_at(const SimRecorder *rec, uint64_t i, SimTime *arrival, SimTime *ttft,
                                   SimTime *e2e, uint32_t *output, guint *replica)
{
    if (i >= rec->records->len)
        return FALSE;
    const SimRecord *r = &g_array_index(rec->records, SimRecord, i);
    *arrival = r->arrival;
    *ttft = r->ttft;
    *e2e = r->e2e;
    *output = r->output;
    *replica = r->replica;
    return TRUE;
}

guint sim_recorder_class(const SimRecorder *rec, const WlRequest *w)
{
    return w->class_id < rec->num_classes ? w->class_id : 0;
}

static const char *class_name(const SimRecorder *rec, guint c)
{
    return rec->class_names && rec->class_names[c] ? rec->class_names[c] : "";
}

const char *sim_requests_csv_header(gboolean replica_column)
{
    return replica_column ? "id,class,status,arrival_s,input_tokens,output_tokens,cached_tokens,preemptions,"
                            "queue_ms,ttft_ms,tpot_ms,e2e_ms,itl_max_ms,replica"
                          : "id,class,status,arrival_s,input_tokens,output_tokens,cached_tokens,preemptions,"
                            "queue_ms,ttft_ms,tpot_ms,e2e_ms,itl_max_ms";
}

void sim_recorder_write_headers(SimRecorder *rec)
{
    const SimOutputs *o = &rec->out;
    if (o->requests_csv)
        fprintf(o->requests_csv, "%s\n", sim_requests_csv_header(o->replica_column));
    if (o->timeseries_csv) {
        if (rec->ts_interval)
            fputs("time_s,steps,arrived,completed,preemptions,batch_tokens,running,waiting,"
                  "kv_blocks_used_max,kv_usage_max",
                  o->timeseries_csv);
        else
            fputs("time_s,duration_ms,running,waiting,scheduled,batch_tokens,prefill_tokens,"
                  "decode_requests,kv_blocks_used,kv_usage,preemptions",
                  o->timeseries_csv);
        fputs(o->replica_column ? ",replica\n" : "\n", o->timeseries_csv);
    }
    if (o->itl_csv)
        fputs("id,token,time_s,itl_ms\n", o->itl_csv);
}

/* ------------------------------------------------------------- CSV rows -- */

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

void sim_recorder_request_row(SimRecorder *rec, const SimReq *q, const char *status, gboolean done, int replica)
{
    FILE *f = rec->out.requests_csv;
    if (!f)
        return;
    fprintf(f, "%" G_GUINT64_FORMAT ",", q->sr.id);
    csv_field(f, class_name(rec, q->class_id));
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
    if (rec->out.replica_column) {
        fputc(',', f);
        if (replica >= 0)
            fprintf(f, "%d", replica);
    }
    fputc('\n', f);
}

void sim_recorder_unserved_row(SimRecorder *rec, const WlRequest *w, const char *status)
{
    if (!rec->out.requests_csv)
        return;
    SimReq q;
    memset(&q, 0, sizeof q);
    sched_request_init(&q.sr, w->id, w->input_tokens, w->output_tokens, w->prefix_group, w->shared_prefix_tokens);
    q.arrival = w->arrival;
    q.class_id = (uint16_t)sim_recorder_class(rec, w);
    sim_recorder_request_row(rec, &q, status, FALSE, -1);
}

/* -------------------------------------------------------------- counters -- */

void sim_recorder_arrival(SimRecorder *rec, const WlRequest *w)
{
    rec->classes[sim_recorder_class(rec, w)].arrived++;
}

void sim_recorder_reject(SimRecorder *rec, const WlRequest *w, const char *status)
{
    rec->classes[sim_recorder_class(rec, w)].rejected++;
    sim_recorder_unserved_row(rec, w, status);
}

void sim_recorder_replica_reject(SimRecorder *rec, guint class_id)
{
    rec->classes[class_id].rejected++;
}

void sim_recorder_complete(SimRecorder *rec, const SimReq *q, guint replica)
{
    SimClassAcc *c = &rec->classes[q->class_id];
    c->completed++;
    c->input_tokens += q->sr.prompt_tokens;
    c->output_tokens += q->sr.max_output_tokens;
    if (q->sr.num_preemptions)
        c->preempted_requests++;
    SimRecord r = {
        .arrival = q->arrival,
        .queue = q->first_sched - q->arrival,
        .ttft = q->first_token - q->arrival,
        .e2e = q->last_token - q->arrival,
        .output = q->sr.max_output_tokens,
        .class_id = q->class_id,
        .replica = (uint16_t)replica,
    };
    g_array_append_val(rec->records, r);
    sim_recorder_request_row(rec, q, "completed", TRUE, (int)replica);
}
