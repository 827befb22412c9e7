/*
 * ss_types.c: simulated-time conversion and the batch description storage.
 */
#include "ss_types.h"

#include <math.h>
#include <stdlib.h>

SimTime sim_time_from_seconds(double seconds)
{
    if (!(seconds > 0.0)) /* also catches NaN */
        return 0;
    /* round() then a range check before the conversion: llround() would be
     * out of range (undefined) beyond 2^63 ns, about 292 years */
    double ns = round(seconds * 1e9);
    if (ns >= 18446744073709551616.0) /* 2^64: the first double SimTime cannot hold */
        return SIM_TIME_MAX;
    return (SimTime)ns;
}

bool sim_time_from_seconds_checked(double seconds, SimTime *out)
{
    if (!sim_seconds_in_range(seconds))
        return false;
    *out = sim_time_from_seconds(seconds);
    return true;
}

void batch_desc_clear(BatchDesc *b)
{
    b->num_entries = 0;
    b->total_tokens = 0;
    b->prefill_tokens = 0;
    b->num_prefill = 0;
    b->num_decode = 0;
    b->decode_kv_tokens = 0;
    b->decode_kv_max = 0;
    b->num_sampled = 0;
    b->spec_tokens = 0;
    b->kv_load_tokens = 0;
    b->lora_tokens = 0;
    b->lora_adapters = 0;
    b->lora_loads = 0;
    b->lora_disk_loads = 0;
}

bool batch_desc_reserve(BatchDesc *b, uint32_t capacity)
{
    if (capacity <= b->capacity)
        return true;
    BatchEntry *e = realloc(b->entries, (size_t)capacity * sizeof *e);
    if (!e)
        return false;
    b->entries = e;
    b->capacity = capacity;
    return true;
}

void batch_desc_release(BatchDesc *b)
{
    if (!b)
        return;
    free(b->entries);
    b->entries = NULL;
    b->capacity = 0;
    batch_desc_clear(b);
}
