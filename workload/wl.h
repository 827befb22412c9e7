/*
 * wl.h: request sources. A source yields requests in arrival order, one at a
 * time, so a simulation holds only the requests in flight whatever the size
 * of its input.
 *
 * Two kinds of source:
 * - synthetic (WlSpec): one or more request classes, each with its share of
 *   the arrival rate, its prompt and output length distributions, an optional
 *   shared prefix (N distinct system prompts of L tokens), optional
 *   multi-turn sessions, and an SLO class name. Arrival processes: Poisson,
 *   Gamma (bursty, coefficient of variation), constant rate,
 *   piecewise-constant rate.
 * - trace (WlTraceOptions): a CSV file streamed with libcsv; servesim's own
 *   columns (with optional sessions), the Azure LLM inference trace, or
 *   Vidur-style columns, recognised by the header, or any columns through a
 *   mapping; arrival times in relative seconds or milliseconds, Unix epoch
 *   units or ISO-8601; or the per-request results of `vllm bench serve`
 *   (JSON).
 *
 * Randomness: every consumer (each class's arrivals, input lengths, output
 * lengths, prefix choice) owns a GRand seeded from (seed, consumer name), so
 * changing one class never reshuffles another.
 *
 * Cost: a synthetic source takes O(classes) per request and O(classes) memory
 * (plus empirical columns); a trace source O(row length) per request and
 * memory independent of the number of rows (about 2 million rows/s on one
 * core; docs/workloads.md), plus one small entry per session when the trace
 * has a session_id column; multi-turn synthetic classes hold their open
 * sessions. Limits: lengths up to WL_MAX_TOKENS, at most
 * WL_MAX_CLASSES classes; a source is used by one thread at a time (separate
 * sources are independent, so parallel runs each make their own).
 */
#ifndef WL_H
#define WL_H

#include <glib.h>

#include "ss_types.h"

/* Bounds of the module's inputs. */
#define WL_MAX_TOKENS 1000000000u /* largest length a distribution may give or clamp to */
#define WL_MAX_CLASSES 65536u     /* class ids fit in uint16_t */
#define WL_MAX_CV 100.0           /* gamma arrivals: beyond, gaps underflow to 0 or overflow */

/* One request as a source yields it. */
typedef struct {
    uint64_t id;                   /* 0, 1, 2, ... in arrival order */
    SimTime arrival;               /* simulated time of arrival, ns, non-decreasing, <= SIM_TIME_LIMIT */
    uint32_t input_tokens;         /* prompt length, >= 1 */
    uint32_t output_tokens;        /* tokens to generate, >= 1 */
    uint32_t prefix_group;         /* 0: none; otherwise a group id >= 1 */
    uint32_t shared_prefix_tokens; /* first tokens of the prompt shared by the group (<= input_tokens) */
    uint16_t class_id;             /* index into the source's class names */
    int32_t priority;              /* --scheduling-policy priority: lower is served first (0 default) */
    uint32_t lora_id;              /* LoRA adapter, an index + 1 into the source's adapter names (0: none) */
    /* Multi-turn sessions (docs/workloads.md): turns of one conversation
     * share a session id; a turn's first session_prefix_tokens prompt tokens
     * (<= input_tokens) are the previous turn's prompt then output. The
     * source names the content of each turn by a branch of its session:
     * session_branch for the turn's own tokens, session_prefix_branch for
     * its prefix (the previous turn's branch). A turn continuing all of the
     * previous turn's tokens (prefix >= its input + output - 1) keeps the
     * branch; any other turn starts a new one (0, 1, 2, ... per session), so
     * that its tokens past the prefix are never taken for the previous
     * turn's (scheduler/sched.h). */
    uint64_t session_id;           /* 0: none; otherwise >= 1, unique per conversation */
    uint32_t session_prefix_tokens;
    uint32_t session_branch;
    uint32_t session_prefix_branch;
} WlRequest;

typedef struct WlSource WlSource;

/* Next request. Returns 1 and fills *out, 0 at the end of the source, -1 on
 * bad input (error set, SS_ERROR_INPUT, with file:line:column). After -1 the
 * source is finished: later calls return -1 again. */
int wl_source_next(WlSource *src, WlRequest *out, GError **error);
/* Number of request classes (>= 1) and their names (borrowed, valid until
 * the source is freed; class_id < the number of classes). Known in full when
 * the source is made, for traces too (a class column is read by a first
 * pass). */
guint wl_source_num_classes(const WlSource *src);
const char *wl_source_class_name(const WlSource *src, guint class_id);
/* LoRA adapters the requests name so far (ids 1..n) and their names
 * (borrowed); a synthetic source knows them all when made, a trace as its
 * rows name them (column 'lora'). */
guint wl_source_num_adapters(const WlSource *src);
const char *wl_source_adapter_name(const WlSource *src, guint lora_id);

/* Rows skipped as bad (trace sources with skip_bad_rows), 0 otherwise. */
uint64_t wl_source_rows_skipped(const WlSource *src);
/* The mean arrival rate the source was asked for (requests/s), or 0 when
 * unknown before the end (a trace without --rate). */
double wl_source_offered_rate(const WlSource *src);
/* A one-line human description, e.g. "poisson 12 req/s, 2 classes". Borrowed. */
const char *wl_source_describe(const WlSource *src);
/* Calls `fn` every `every` requests the source yields (for a progress
 * line), with the count so far and the last arrival. `fn` NULL removes it. */
typedef void (*WlProgressFunc)(uint64_t yielded, SimTime last_arrival, void *user);
void wl_source_set_progress(WlSource *src, WlProgressFunc fn, void *user, uint64_t every);
/* Frees a source and closes its file. Accepts NULL. */
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
    double rate;          /* requests/s (POISSON, GAMMA, CONSTANT), SIM_RATE_MIN..SIM_RATE_MAX */
    double cv;            /* GAMMA: coefficient of variation of inter-arrival times (0, WL_MAX_CV] */
    /* PIECEWISE: rate points[i] holds from times_s[i] to times_s[i+1]; the
     * last one holds until the end; times_s[0] == 0, increasing. */
    guint num_points;
    double *times_s;      /* owned, up to SIM_TIME_LIMIT_S */
    double *rates;        /* owned, requests/s: 0 or SIM_RATE_MIN..SIM_RATE_MAX, not all 0 */
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
    double min, max;      /* tokens: UNIFORM range; for the others draws are rounded, then
                           * clamped to [max(min, 1), max]; max 0 = no upper clamp */
    char *path;           /* EMPIRICAL: CSV file (owned) */
    char *column;         /* EMPIRICAL: column name (owned) */
} WlDistSpec;

/* Multi-turn sessions of a class: its arrival process starts sessions; a
 * session has `turns` turns; turn k+1's prompt is turn k's prompt, then
 * turn k's output, then a draw of `new_tokens`; it arrives after turn k's
 * arrival by output_k / answer_tokens_per_s (the time the user watches the
 * answer stream; 0: none) plus a draw of `think_s`. A session ends before a
 * prompt longer than max_input_tokens (0: no limit) and at the workload's
 * end. Open loop: the source never learns when a turn really finished
 * (docs/workloads.md states the consequences). */
typedef struct {
    WlDistSpec turns;           /* turns per session, integers >= 1 */
    WlDistSpec new_tokens;      /* user tokens each later turn adds, >= 1 */
    WlDistSpec think_s;         /* seconds (wl_seconds_dist_spec_validate); no empirical */
    double answer_tokens_per_s; /* >= 0 */
    guint max_input_tokens;     /* 0: no limit */
} WlSessionSpec;

typedef struct {
    char *name;             /* class and SLO class name (owned), e.g. "chat" */
    double share;           /* share of the total rate; shares are normalised */
    WlDistSpec input;       /* prompt tokens after the shared prefix */
    WlDistSpec output;      /* output tokens */
    guint prefix_groups;    /* N distinct shared prefixes (0: none) */
    guint prefix_tokens;    /* L tokens each; the prompt is L + a draw of `input` */
    gboolean multi_turn;    /* requests come in sessions (`session`); else one by one */
    WlSessionSpec session;  /* owned (its distributions' paths) */
    int priority;           /* every request's priority (--scheduling-policy priority; lower first) */
    /* LoRA: each request (each session, for multi-turn classes) names one of
     * lora_adapters adapters (0: the base model), "<lora_name>-<i>" (or
     * lora_name alone for one adapter; NULL: the class name), drawn with
     * Zipf weights 1/i^lora_zipf (0: uniform). */
    guint lora_adapters;
    char *lora_name;        /* owned */
    double lora_zipf;
} WlClassSpec;

typedef struct {
    WlArrivalSpec arrival;  /* of the whole workload; each class gets share * rate */
    guint num_classes;
    WlClassSpec *classes;   /* owned */
    uint64_t num_requests;  /* stop after this many (0: no count limit; then duration_s > 0) */
    double duration_s;      /* or stop before this much simulated time (0: no limit; at most
                             * SIM_TIME_LIMIT_S) */
} WlSpec;

/* Zeroes a spec (no classes, no points): fill it, then wl_spec_validate. */
void wl_spec_init(WlSpec *spec);
void wl_spec_clear(WlSpec *spec);   /* frees what it owns; the struct is reusable */
/* Frees a distribution's path and column and zeroes it. */
void wl_dist_spec_clear(WlDistSpec *d);
/* Checks a spec: positive rates, valid bounds, shares > 0, ... Error messages
 * name the field path (e.g. "workload.classes[1].input.stddev") with `origin`
 * (a file name) in front. */
gboolean wl_spec_validate(const WlSpec *spec, const char *origin, GError **error);
/* The parts of wl_spec_validate, for callers that build a spec piece by piece
 * (the scenario parser): `path` is the JSON path of the piece, e.g.
 * "workload.arrival", "workload.classes[0].input", "workload.classes[0]"
 * (a class: its share, prefix, both distributions and its sessions). Same
 * rules, same messages; they never read files (an empirical CSV is read by
 * wl_source_new_synthetic). */
gboolean wl_arrival_spec_validate(const WlArrivalSpec *arrival, const char *origin,
                                  const char *path, GError **error);
gboolean wl_dist_spec_validate(const WlDistSpec *dist, const char *origin, const char *path,
                               GError **error);
/* The same for a distribution of seconds (think times): constant value >= 0;
 * uniform 0 <= min <= max (any reals); normal and lognormal mean > 0,
 * stddev >= 0, optional min >= 0 and max (0: none) clamping the draw; no
 * empirical. */
gboolean wl_seconds_dist_spec_validate(const WlDistSpec *dist, const char *origin,
                                       const char *path, GError **error);
gboolean wl_class_spec_validate(const WlClassSpec *cls, const char *origin, const char *path,
                                GError **error);
/* A deep copy of `src` into `dst` (whose previous contents are NOT freed:
 * pass an initialised or cleared spec). */
void wl_spec_copy(WlSpec *dst, const WlSpec *src);
/* Multiplies every arrival rate (rate, and each piecewise rate) by
 * `factor` (> 0): the load knob of sweeps and capacity searches. */
void wl_spec_scale_rate(WlSpec *spec, double factor);

/* A synthetic source. The spec is validated and copied (the caller keeps
 * it); empirical CSV columns are read now (errors with file:line:column).
 * Same spec and seed: the same requests, always. NULL + error
 * (SS_ERROR_INPUT) on an invalid spec or an unreadable column. A request
 * that would arrive after SIM_TIME_LIMIT (a low rate with many requests) is
 * an error of wl_source_next naming the request, its time and the limit. */
WlSource *wl_source_new_synthetic(const WlSpec *spec, guint64 seed, GError **error);

/* --------------------------------------------------------------- traces -- */

typedef enum {
    WL_TRACE_AUTO = 0,
    WL_TRACE_NATIVE,  /* arrival_time_s,input_tokens,output_tokens[,prefix_group,shared_prefix_tokens,
                         class,session_id,session_prefix_tokens,priority,lora] */
    WL_TRACE_AZURE,   /* TIMESTAMP,ContextTokens,GeneratedTokens (absolute timestamps) */
    WL_TRACE_VIDUR,   /* arrived_at,num_prefill_tokens,num_decode_tokens */
    WL_TRACE_VLLM_BENCH, /* a `vllm bench serve --save-result` JSON file (wl_bench.c) */
} WlTraceFormat;

/* How a trace writes its arrival times (wl_time.c). Relative formats keep
 * their origin (a first request at 5 s arrives at 5 s); absolute ones are
 * rebased to the first request. AUTO decides on the first data row:
 * ISO-8601 text, else a number < 1e8 is seconds, < 1e11 epoch seconds,
 * < 1e14 epoch ms, < 1e17 epoch us, else epoch ns. */
typedef enum {
    WL_TIME_AUTO = 0,
    WL_TIME_SECONDS,      /* relative seconds */
    WL_TIME_MILLISECONDS, /* relative milliseconds */
    WL_TIME_EPOCH_S,      /* Unix epoch seconds (absolute) */
    WL_TIME_EPOCH_MS,
    WL_TIME_EPOCH_US,
    WL_TIME_EPOCH_NS,
    WL_TIME_ISO8601,      /* "2023-11-16 18:15:46.68" ('T' allowed, zone optional; absolute) */
} WlTimeFormat;

/* What a trace column means to servesim (wl_trace_columns.c). */
typedef enum {
    WL_ROLE_ARRIVAL = 0,
    WL_ROLE_INPUT,
    WL_ROLE_OUTPUT,
    WL_ROLE_PREFIX_GROUP,
    WL_ROLE_SHARED_PREFIX,
    WL_ROLE_CLASS,
    WL_ROLE_SESSION_ID,
    WL_ROLE_SESSION_PREFIX,
    WL_ROLE_PRIORITY,
    WL_ROLE_LORA,
    WL_TRACE_NUM_ROLES
} WlTraceRole;

#define WL_COLUMN_NAME_MAX 64u

/* A column mapping: names[role] is the trace's column for that role, ""
 * for the format's own name. Plain data: copy by value. */
typedef struct {
    char names[WL_TRACE_NUM_ROLES][WL_COLUMN_NAME_MAX];
} WlTraceColumns;

typedef struct {
    WlTraceFormat format; /* AUTO: recognised by the header (or a JSON file's content) */
    double time_scale;    /* arrival times are multiplied by this (SIM_TIME_SCALE_MIN..MAX; default 1) */
    double rate;          /* > 0: rescale arrivals so the mean rate is this (needs a first pass);
                           * SIM_RATE_MIN..SIM_RATE_MAX */
    uint64_t limit;       /* 0: all rows; otherwise at most this many requests */
    uint64_t skip;        /* drop the first N data rows */
    gboolean skip_bad_rows; /* count and skip malformed rows instead of failing */
    WlTimeFormat time_format; /* AUTO: by the first row */
    gboolean sort;        /* read every row, then replay them in time order (memory: all rows) */
    WlTraceColumns columns; /* renamed columns (all "" by default) */
    guint64 seed;         /* a vllm bench result without send times: seed of the drawn schedule */
} WlTraceOptions;

/* Defaults: AUTO format, time_scale 1, everything else 0/FALSE. */
void wl_trace_options_init(WlTraceOptions *o);
/* Checks options: time_scale and rate (0 or a rate) within the bounds of
 * ss_types.h, and not both a rate and a time_scale other than 1. `origin` and `path` prefix the message
 * as in wl_spec_validate (both may be NULL: then the field names alone). */
gboolean wl_trace_options_validate(const WlTraceOptions *o, const char *origin, const char *path,
                                   GError **error);
/* "auto", "servesim", "azure", "vidur", "vllm-bench". Static string. */
const char *wl_trace_format_name(WlTraceFormat format);
/* The format named `name` ("auto", "servesim" or "native", "azure", "vidur",
 * "vllm-bench"); FALSE when there is none. */
gboolean wl_trace_format_from_name(const char *name, WlTraceFormat *out);
/* "auto", "seconds", "milliseconds", "epoch-s", "epoch-ms", "epoch-us",
 * "epoch-ns", "iso8601". Static string. */
const char *wl_time_format_name(WlTimeFormat format);
/* The time format named `name` (the names above in any case, or s, ms,
 * epoch, unix, unix-ms, iso, iso-8601, timestamp); FALSE when none. */
gboolean wl_time_format_from_name(const char *name, WlTimeFormat *out);
/* Parses "ROLE=COLUMN,..." (roles: arrival, input, output, prefix_group,
 * shared_prefix_tokens, class, session_id, session_prefix_tokens); errors
 * (SS_ERROR_INPUT) quote the text. */
gboolean wl_trace_columns_parse(const char *text, WlTraceColumns *out, GError **error);
/* "arrival=timestamp,input=prompt_len" (g_free); "" for no mapping. */
char *wl_trace_columns_format(const WlTraceColumns *c);
gboolean wl_trace_columns_any(const WlTraceColumns *c);
const char *wl_trace_role_name(WlTraceRole role);

/* A trace source streaming `path` (shown in messages as given). The header
 * is read now; when opts->rate > 0 or the file has a class column, a first
 * streaming pass counts the rows, measures their time span and names the
 * classes (constant memory), so that errors of any row may come from here.
 * With opts->sort every row is read now and kept (memory grows with the
 * rows). A file whose first non-blank byte is '{' (or format VLLM_BENCH) is
 * a `vllm bench serve` result, read whole (wl_bench.c). `opts` may be NULL
 * (defaults). NULL + error (SS_ERROR_INPUT) on a missing file, an
 * unrecognised header or bad options. */
WlSource *wl_source_new_trace(const char *path, const WlTraceOptions *opts, GError **error);
/* The format of a trace source (never AUTO), or AUTO for a synthetic one. */
WlTraceFormat wl_source_trace_format(const WlSource *src);

/* ----------------------------------------------------- vllm bench serve -- */

/* A `vllm bench serve --save-result` file as read (wl_bench.c lists the
 * fields). Per-request arrays exist only with --save-detailed (n > 0). */
typedef struct {
    char *path;
    char *model_id;          /* "model_id", NULL when absent */
    guint completed, failed; /* requests */
    double request_rate;     /* requests/s; INFINITY for "inf" */
    double burstiness;       /* gamma shape of the send gaps (1: Poisson) */
    guint max_concurrency;   /* 0: none */
    int ramp_up;             /* 0 none, 1 linear, 2 exponential */
    double ramp_start_rps, ramp_end_rps;
    double mean_input_tokens, mean_output_tokens; /* aggregate-only files */
    guint n;                 /* entries of the per-request arrays, 0 when absent */
    guint32 *input_tokens;   /* [n] */
    guint32 *output_tokens;  /* [n], 0 for a failed request */
    gboolean *ok;            /* [n]: succeeded (no error text, some output) */
    double *start_s;         /* [n] send times (any origin), NULL when absent */
    double *ttft_s;          /* [n], NULL when absent */
    double *e2e_s;           /* [n]: "latencies", else ttft + sum of itls; NULL when absent */
    GHashTable *numbers;     /* every top-level number by name (lookups only) */
    GHashTable *strings;     /* every top-level string by name (lookups only) */
} WlBenchResult;

/* Reads a result file. Errors (SS_ERROR_INPUT) name the file and the field
 * ("r.json: output_lens[3]: expected a whole number >= 0, got -1"). */
WlBenchResult *wl_bench_result_load(const char *path, GError **error);
void wl_bench_result_free(WlBenchResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WlBenchResult, wl_bench_result_free)
/* A top-level number (NAN when absent) or string (NULL when absent). */
double wl_bench_result_number(const WlBenchResult *r, const char *key);
const char *wl_bench_result_string(const WlBenchResult *r, const char *key);
/* The successful requests: those the source yields. */
guint wl_bench_result_num_ok(const WlBenchResult *r);

#endif /* WL_H */
