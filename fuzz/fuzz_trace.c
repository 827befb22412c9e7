/*
 * fuzz_trace.c: request traces (servesim, Azure and Vidur columns, vllm
 * bench results) through the streaming CSV reader and the trace source. The
 * first two input bytes pick the options (format, skip_bad_rows, a target
 * rate or a time scale, skip, limit; the time format and sorting); the rest
 * is the file. Every request the source yields is checked:
 * arrivals in order and within SIM_TIME_LIMIT, lengths >= 1, a shared prefix
 * no longer than the prompt, a known class.
 */
#include "fz_common.h"
#include "wl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t o = data[0], o2 = data[1];
    WlTraceOptions opts;
    wl_trace_options_init(&opts);
    opts.format = (WlTraceFormat)(o & 3);
    opts.skip_bad_rows = (o >> 2) & 1;
    if ((o >> 3) & 1)
        opts.rate = (o >> 4) & 1 ? 2.5e-10 : 7.5;
    else if ((o >> 4) & 1)
        opts.time_scale = (o >> 7) & 1 ? 1e9 : 1e-3;
    opts.skip = (o >> 5) & 1;
    opts.limit = (o >> 6) & 1 ? 3 : 0;
    opts.time_format = (WlTimeFormat)(o2 & 7);
    opts.sort = (o2 >> 3) & 1;
    if ((o2 >> 4) & 1)
        opts.format = WL_TRACE_VLLM_BENCH;
    const char *path = fz_write("trace.csv", data + 2, size - 2);
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, &opts, &error);
    if (!src) {
        fz_check_error(error);
        return 0;
    }
    WlRequest r;
    SimTime prev = 0;
    int got;
    while ((got = wl_source_next(src, &r, &error)) > 0) {
        if (r.arrival < prev || r.arrival > SIM_TIME_LIMIT)
            fz_fail("arrival %" G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT, r.arrival, prev);
        if (r.input_tokens == 0 || r.output_tokens == 0 || r.shared_prefix_tokens > r.input_tokens)
            fz_fail("request %" G_GUINT64_FORMAT ": %u input, %u output, %u shared", r.id, r.input_tokens,
                    r.output_tokens, r.shared_prefix_tokens);
        if (r.class_id >= wl_source_num_classes(src))
            fz_fail("class %u of %u", r.class_id, wl_source_num_classes(src));
        prev = r.arrival;
    }
    if (got < 0)
        fz_check_error(error);
    wl_source_free(src);
    return 0;
}
