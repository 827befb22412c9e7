/*
 * ss_types.h: the leaf of the dependency graph.
 *
 * Simulated time and the batch description: the one interface between the
 * scheduler (which forms a step) and the latency models (which time it).
 * Nothing here depends on any other servesim module, on GLib, or on a file
 * format; every module may include it.
 *
 * Time is an integer count of nanoseconds. Latency models compute in double
 * seconds; sim_time_from_seconds() is the single place where a double becomes
 * simulated time (round half away from zero, negative clamps to 0).
 *
 * Limits, in one place. Every input that becomes simulated time (arrival
 * times of traces and generators, rates, time scales, max_time, durations,
 * output intervals) is checked against the bounds below where it is read, with
 * an error naming the value and the bound, so that no time an input gives is
 * ever clamped or wrapped:
 * - SIM_TIME_LIMIT (4e9 s, about 126.8 years): the latest simulated time an
 *   input may produce (an arrival, a time limit, a duration). Large enough for
 *   absolute Unix-epoch seconds up to the year 2096.
 * - SIM_TIME_HORIZON (2 x SIM_TIME_LIMIT): the latest time the clock of a
 *   simulation may reach (the last arrival plus the time to serve what is
 *   queued). The sum of two times within the horizon fits in uint64_t, and
 *   every time within it fits in int64_t, so differences and sums of checked
 *   times never wrap.
 * - rates (requests/s) from SIM_RATE_MIN (one request per SIM_TIME_LIMIT) to
 *   SIM_RATE_MAX (one per nanosecond, the clock's resolution);
 * - time scales (factors on trace times) from SIM_TIME_SCALE_MIN to
 *   SIM_TIME_SCALE_MAX;
 * - output intervals (time series) of at least SIM_OUTPUT_INTERVAL_MIN_S.
 * Arithmetic on times that may come from input goes through the helpers at
 * the end of this section: saturating (never wraps) or checked (says so).
 */
#ifndef SS_TYPES_H
#define SS_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t SimTime; /* nanoseconds of simulated time */

#define SIM_TIME_NS ((SimTime)1)
#define SIM_TIME_US ((SimTime)1000)
#define SIM_TIME_MS ((SimTime)1000000)
#define SIM_TIME_S ((SimTime)1000000000)
#define SIM_TIME_MAX UINT64_MAX

#define SIM_TIME_LIMIT_S 4e9                                  /* seconds */
#define SIM_TIME_LIMIT ((SimTime)4000000000 * SIM_TIME_S)     /* 4e18 ns */
#define SIM_TIME_HORIZON (2 * SIM_TIME_LIMIT)                 /* 8e18 ns < INT64_MAX */
#define SIM_RATE_MIN (1.0 / SIM_TIME_LIMIT_S)                 /* 2.5e-10 requests/s */
#define SIM_RATE_MAX 1e9                                      /* requests/s */
#define SIM_TIME_SCALE_MIN 1e-9
#define SIM_TIME_SCALE_MAX 1e9
#define SIM_OUTPUT_INTERVAL_MIN_S 1e-3                        /* 1 ms */

/* Converts seconds to simulated time: the one rounding point of the project.
 * Rounds to the nearest nanosecond; negative or NaN input gives 0, input
 * beyond the range of SimTime gives SIM_TIME_MAX (saturates, never wraps). */
SimTime sim_time_from_seconds(double seconds);

/* The checked form for inputs: TRUE and *out when `seconds` is a finite
 * number from 0 to SIM_TIME_LIMIT_S; FALSE (and *out untouched) otherwise, so
 * the caller reports the value against the limit. */
bool sim_time_from_seconds_checked(double seconds, SimTime *out);

/* Whether seconds is finite and in [0, SIM_TIME_LIMIT_S]. */
static inline bool sim_seconds_in_range(double seconds)
{
    return seconds >= 0.0 && seconds <= SIM_TIME_LIMIT_S; /* false for NaN */
}

/* Whether a rate (requests/s) is finite and in [SIM_RATE_MIN, SIM_RATE_MAX]. */
static inline bool sim_rate_in_range(double rate)
{
    return rate >= SIM_RATE_MIN && rate <= SIM_RATE_MAX;
}

/* Whether a time scale is finite and in [SIM_TIME_SCALE_MIN, SIM_TIME_SCALE_MAX]. */
static inline bool sim_time_scale_in_range(double scale)
{
    return scale >= SIM_TIME_SCALE_MIN && scale <= SIM_TIME_SCALE_MAX;
}

/* a + b, saturating at SIM_TIME_MAX (never wraps). */
static inline SimTime sim_time_add_sat(SimTime a, SimTime b)
{
    return a > SIM_TIME_MAX - b ? SIM_TIME_MAX : a + b;
}

/* a - b, saturating at 0 (never wraps). */
static inline SimTime sim_time_sub_sat(SimTime a, SimTime b)
{
    return a > b ? a - b : 0;
}

/* a + b into *out when the sum is at most `limit`; FALSE otherwise (*out
 * untouched). */
static inline bool sim_time_add_checked(SimTime a, SimTime b, SimTime limit, SimTime *out)
{
    if (a > limit || b > limit - a)
        return false;
    *out = a + b;
    return true;
}

/* Simulated time as seconds (exact for times below 2^53 ns, about 104 days). */
static inline double sim_time_to_seconds(SimTime t) { return (double)t / 1e9; }
static inline double sim_time_to_ms(SimTime t) { return (double)t / 1e6; }

/* One scheduled request in a step. */
typedef struct {
    uint32_t new_tokens;    /* t: tokens computed in this step (>= 1) */
    uint32_t cached_tokens; /* p: tokens already in the KV cache before this step */
    bool emits_token;       /* the step ends with a sampled token for this request */
    uint8_t spec_tokens;    /* speculative decoding: draft tokens this entry verifies
                               (new_tokens = 1 + spec_tokens; 0 otherwise) */
} BatchEntry;

/*
 * What one step computes. The entries are filled by the scheduler; the
 * totals are kept in step with them by batch_desc_push() so that latency
 * models never need a second pass for them.
 *
 * A "decode" entry is one with new_tokens == 1 (one query token against its
 * cached tokens), or with speculative decoding 1 + spec_tokens (the last
 * sampled token and the draft tokens it verifies); every other entry is a
 * prefill chunk.
 *
 * The engine options add per-step totals the scheduler fills (all 0 when
 * the options are off): KV loaded from a host-memory tier, LoRA adapters.
 */
typedef struct {
    BatchEntry *entries;    /* owned by whoever filled the description */
    uint32_t num_entries;
    uint32_t capacity;

    uint64_t total_tokens;      /* sum of new_tokens over all entries */
    uint64_t prefill_tokens;    /* sum of new_tokens over prefill entries */
    uint32_t num_prefill;       /* entries with new_tokens > 1 */
    uint32_t num_decode;        /* entries with new_tokens == 1 */
    uint64_t decode_kv_tokens;  /* sum over decode entries of cached_tokens + 1 */
    uint32_t decode_kv_max;     /* largest cached_tokens + 1 of a decode entry */
    uint32_t num_sampled;       /* entries with emits_token */
    uint32_t spec_tokens;       /* sum of spec_tokens: draft tokens verified (and logits
                                   computed for them) in this step */
    uint64_t kv_load_tokens;    /* tokens whose KV is copied from the host tier this step */
    uint64_t lora_tokens;       /* tokens of requests that run with a LoRA adapter */
    uint32_t lora_adapters;     /* distinct adapters among them */
    uint32_t lora_loads;        /* adapters copied into a GPU slot this step (from host memory) */
    uint32_t lora_disk_loads;   /* ... of which first read from disk */
} BatchDesc;

/* Empties a description; keeps its storage. */
void batch_desc_clear(BatchDesc *b);

/* Appends an entry and updates the totals. The caller guarantees capacity
 * (batch_desc_reserve); this keeps the hot path free of allocation. */
static inline void batch_desc_push(BatchDesc *b, uint32_t new_tokens, uint32_t cached_tokens,
                                   bool emits_token)
{
    BatchEntry *e = &b->entries[b->num_entries++];
    e->new_tokens = new_tokens;
    e->cached_tokens = cached_tokens;
    e->emits_token = emits_token;
    e->spec_tokens = 0;
    b->total_tokens += new_tokens;
    if (new_tokens == 1) {
        b->num_decode++;
        b->decode_kv_tokens += (uint64_t)cached_tokens + 1;
        if (cached_tokens + 1 > b->decode_kv_max)
            b->decode_kv_max = cached_tokens + 1;
    } else {
        b->num_prefill++;
        b->prefill_tokens += new_tokens;
    }
    if (emits_token)
        b->num_sampled++;
}

/* Appends a decode that verifies `spec_tokens` (>= 1) draft tokens:
 * 1 + spec_tokens query tokens after cached_tokens; it always samples. */
static inline void batch_desc_push_spec(BatchDesc *b, uint32_t spec_tokens, uint32_t cached_tokens)
{
    BatchEntry *e = &b->entries[b->num_entries++];
    uint32_t n = 1 + spec_tokens;
    e->new_tokens = n;
    e->cached_tokens = cached_tokens;
    e->emits_token = true;
    e->spec_tokens = (uint8_t)spec_tokens;
    b->total_tokens += n;
    b->num_decode++;
    b->decode_kv_tokens += (uint64_t)cached_tokens + n;
    if (cached_tokens + n > b->decode_kv_max)
        b->decode_kv_max = cached_tokens + n;
    b->num_sampled++;
    b->spec_tokens += spec_tokens;
}

/* Whether an entry is a decode (one query token, or one plus the draft
 * tokens it verifies). */
static inline bool batch_entry_is_decode(const BatchEntry *e)
{
    return e->new_tokens == 1u + e->spec_tokens;
}

/* Makes room for at least `capacity` entries. Returns false when out of memory. */
bool batch_desc_reserve(BatchDesc *b, uint32_t capacity);

/* Frees the entries (the struct itself is the caller's). Accepts NULL. */
void batch_desc_release(BatchDesc *b);

#endif /* SS_TYPES_H */
