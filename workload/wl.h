/*
 * wl.h: request sources. A source yields requests in arrival order, one at a
 * time, so a simulation holds only the requests in flight whatever the size
 * of its input.
 *
 * Two kinds of source:
 * - synthetic (WlSpec): one or more request classes, each with its share of
 *   the arrival rate, its prompt and output length distributions, an optional
 *   shared prefix (N distinct system prompts of L tokens) and an SLO class
 *   name. Arrival processes: Poisson, Gamma (bursty, coefficient of
 *   variation), constant rate, piecewise-constant rate.
 * - trace (WlTraceOptions): a CSV file streamed with libcsv; servesim's own
 *   columns, the Azure LLM inference trace, or Vidur-style columns, recognised
 *   by the header.
 *
 * Randomness: every consumer (each class's arrivals, input lengths, output
 * lengths, prefix choice) owns a GRand seeded from (seed, consumer name), so
 * changing one class never reshuffles another.
 */
#ifndef WL_H
#define WL_H

#include <glib.h>

#include "ss_types.h"

/* One request as a source yields it. */
typedef struct {
    uint64_t id;                   /* 0, 1, 2, ... in arrival order */
    SimTime arrival;               /* simulated time of arrival, ns, non-decreasing */
    uint32_t input_tokens;         /* prompt length, >= 1 */
    uint32_t output_tokens;        /* tokens to generate, >= 1 */
    uint32_t prefix_group;         /* 0: none; otherwise a group id >= 1 */
    uint32_t shared_prefix_tokens; /* first tokens of the prompt shared by the group (<= input_tokens) */
    uint16_t class_id;             /* index into the source's class names */
} WlRequest;

typedef struct WlSource WlSource;

/* Next request. Returns 1 and fills *out, 0 at the end of the source, -1 on
 * bad input (error set, SS_ERROR_INPUT, with file:line:column). */
int wl_source_next(WlSource *src, WlRequest *out, GError **error);
/* Number of request classes (>= 1) and their names (borrowed). */
guint wl_source_num_classes(const WlSource *src);
const char *wl_source_class_name(const WlSource *src, guint class_id);
/* Rows skipped as bad (trace sources with skip_bad_rows), 0 otherwise. */
uint64_t wl_source_rows_skipped(const WlSource *src);
/* The mean arrival rate the source was asked for (requests/s), or 0 when
 * unknown before the end (a trace without --rate). */
double wl_source_offered_rate(const WlSource *src);
/* A one-line human description, e.g. "poisson 12 req/s, 2 classes". Borrowed. */
const char *wl_source_describe(const WlSource *src);
void wl_source_free(WlSource *src);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WlSource, wl_source_free)

/* ------------------------------------------------------------ synthetic -- */

typedef enum {
    WL_ARRIVAL_POISSON = 0,
    WL_ARRIVAL_GAMMA,      /* gamma inter-arrival times with coefficient of variation cv */
    WL_ARRIVAL_CONSTANT,   /* exactly 1/rate apart */
    WL_ARRIVAL_PIECEWISE,  /* Poisson with a piecewise-constant rate */
} WlArrivalKind;

typedef struct {
    WlArrivalKind kind;
    double rate;          /* requests/s (POISSON, GAMMA, CONSTANT) */
    double cv;            /* GAMMA: coefficient of variation of inter-arrival times (> 0) */
    /* PIECEWISE: rate points[i] holds from times_s[i] to times_s[i+1]; the
     * last one holds until the end; times_s[0] == 0, increasing. */
    guint num_points;
    double *times_s;      /* owned */
    double *rates;        /* owned, requests/s, >= 0, not all 0 */
} WlArrivalSpec;

typedef enum {
    WL_DIST_CONSTANT = 0,
    WL_DIST_UNIFORM,    /* integers in [min, max] */
    WL_DIST_NORMAL,     /* mean, stddev, clamped to [min, max] */
    WL_DIST_LOGNORMAL,  /* mean, stddev of the lognormal itself, clamped to [min, max] */
    WL_DIST_EMPIRICAL,  /* values of one CSV column, sampled uniformly, clamped to [min, max] */
} WlDistKind;

typedef struct {
    WlDistKind kind;
    double value;         /* CONSTANT */
    double mean, stddev;  /* NORMAL, LOGNORMAL */
    double min, max;      /* bounds (UNIFORM range; clamp for the others); max 0 = no upper clamp */
    char *path;           /* EMPIRICAL: CSV file (owned) */
    char *column;         /* EMPIRICAL: column name (owned) */
} WlDistSpec;

typedef struct {
    char *name;             /* class and SLO class name (owned), e.g. "chat" */
    double share;           /* share of the total rate; shares are normalised */
    WlDistSpec input;       /* prompt tokens after the shared prefix */
    WlDistSpec output;      /* output tokens */
    guint prefix_groups;    /* N distinct shared prefixes (0: none) */
    guint prefix_tokens;    /* L tokens each; the prompt is L + a draw of `input` */
} WlClassSpec;

typedef struct {
    WlArrivalSpec arrival;  /* of the whole workload; each class gets share * rate */
    guint num_classes;
    WlClassSpec *classes;   /* owned */
    uint64_t num_requests;  /* stop after this many (>= 1) */
    double duration_s;      /* or stop after this much simulated time (0: no limit) */
} WlSpec;

void wl_spec_init(WlSpec *spec);
void wl_spec_clear(WlSpec *spec);   /* frees what it owns; the struct is reusable */
void wl_dist_spec_clear(WlDistSpec *d);
/* Checks a spec: positive rates, valid bounds, shares > 0, ... Error messages
 * name the field path (e.g. "workload.classes[1].input.stddev") with `origin`
 * (a file name) in front. */
gboolean wl_spec_validate(const WlSpec *spec, const char *origin, GError **error);

/* A synthetic source. The spec is copied; empirical CSV columns are read
 * now (errors with file:line:column). */
WlSource *wl_source_new_synthetic(const WlSpec *spec, guint64 seed, GError **error);

/* --------------------------------------------------------------- traces -- */

typedef enum {
    WL_TRACE_AUTO = 0,
    WL_TRACE_NATIVE,  /* arrival_time_s,input_tokens,output_tokens[,prefix_group,shared_prefix_tokens,class] */
    WL_TRACE_AZURE,   /* TIMESTAMP,ContextTokens,GeneratedTokens (absolute timestamps) */
    WL_TRACE_VIDUR,   /* arrived_at,num_prefill_tokens,num_decode_tokens */
} WlTraceFormat;

typedef struct {
    WlTraceFormat format; /* AUTO: recognised by the header */
    double time_scale;    /* arrival times are multiplied by this (> 0; default 1) */
    double rate;          /* > 0: rescale arrivals so the mean rate is this (needs a first pass) */
    uint64_t limit;       /* 0: all rows; otherwise at most this many requests */
    uint64_t skip;        /* drop the first N data rows */
    gboolean skip_bad_rows; /* count and skip malformed rows instead of failing */
} WlTraceOptions;

void wl_trace_options_init(WlTraceOptions *o);

WlSource *wl_source_new_trace(const char *path, const WlTraceOptions *opts, GError **error);

#endif /* WL_H */
