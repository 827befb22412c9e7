/*
 * sim_internal.h: the structures the replica engine, the recorder and the
 * summary share inside sim/ (sim_engine.c, sim_recorder.c, sim_summary.c).
 * Nothing outside sim/ includes it.
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include "sim_engine.h"

/* A request in flight on a replica, aligned to a cache line: the engine's
 * per-step fields come first, then the scheduler's request, whose per-step
 * fields lead it (sched.h), so a step touches one line per request. */
typedef struct SimReq {
    /* every step: */
    _Alignas(64) SimTime last_token;
    SimTime itl_max;
    uint16_t class_id;
    uint8_t was_scheduled;
    uint8_t handed_early;   /* a prefill-only request whose KV streams out during its last step:
                               handed off from that step's start (no longer in flight here) */
    uint32_t kv_tag;        /* the fleet's name for a request of a KV transfer (SimKvHooks); 0: none
                               (in what was padding before sr) */
    SchedRequest sr;        /* SIM_REQ() maps a SchedRequest* back to its SimReq */
    /* once: */
    SimTime first_token;
    SimTime arrival;        /* at the front door of the run */
    SimTime first_sched;
    struct SimReq *next_free;
} SimReq;
G_STATIC_ASSERT(sizeof(SimReq) == 192);

#define SIM_REQ(sched_request) ((SimReq *)(void *)((char *)(sched_request) - offsetof(SimReq, sr)))

/* What a completed request leaves behind for the percentiles: 40 bytes,
 * the memory that grows with the requests of a run. */
typedef struct {
    SimTime arrival, queue, ttft, e2e; /* ns */
    uint32_t output;                   /* tokens (TPOT needs them) */
    uint16_t class_id;
    uint16_t replica;                  /* fleets have at most SIM_MAX_REPLICAS */
} SimRecord;
G_STATIC_ASSERT(sizeof(SimRecord) == 40);

typedef struct {
    uint64_t arrived, completed, rejected;
    uint64_t preempted_requests, input_tokens, output_tokens;
    SimHist *itl;
} SimClassAcc;

struct SimRecorder {
    SimOutputs out;
    SimTime ts_interval;        /* 0: a time-series row per step */
    guint num_classes;
    const char *const *class_names;
    SimClassAcc *classes;
    SimHist *itl_all;
    uint64_t *itl_runs;         /* per class: tokens of this step whose ITL is its duration */
    GArray *records;            /* SimRecord of completed requests, in completion order */
};

/* The replica's counters the summary reads. */
typedef struct {
    uint64_t arrived, completed, rejected, rejected_too_long, rejected_no_blocks;
    uint64_t handed_off;        /* prefill-only requests whose prefill ended (their KV went elsewhere) */
    uint64_t steps, sum_batch_reqs, sum_batch_tokens;
    double kv_area;             /* used blocks x ns */
    uint32_t kv_peak;
    SimTime busy_ns;
} SimReplicaCounters;

const SimReplicaCounters *sim_replica_counters(const SimReplica *r);
/* The request records of a replica's queues, for the summary. */
const SimReq *sim_replica_waiting_req(const SimReplica *r, uint32_t i);
const SimReq *sim_replica_running_req(const SimReplica *r, uint32_t i);
const SimReq *sim_replica_deferred_req(const SimReplica *r, uint32_t i);
/* Requests waiting for their remote KV (in flight on this replica). */
const SimReq *sim_replica_remote_req(const SimReplica *r, uint32_t i);

/* Row writers (sim_recorder.c). */
void sim_recorder_request_row(SimRecorder *rec, const SimReq *q, const char *status, gboolean done, int replica);
/* Records a completed request (its record and class counters). */
void sim_recorder_complete(SimRecorder *rec, const SimReq *q, guint replica);
/* A replica turned a request away: class counter. */
void sim_recorder_replica_reject(SimRecorder *rec, guint class_id);
/* The class index of a workload request (0 when out of range). */
guint sim_recorder_class(const SimRecorder *rec, const WlRequest *w);

#endif /* SIM_INTERNAL_H */
