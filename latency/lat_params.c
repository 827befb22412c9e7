/*
 * lat_params.c: default constants of the step-time models and backend names.
 *
 * Every default has a physical meaning and a documented origin
 * (docs/latency.md, "Parameters"):
 *   step_overhead_us 1080  fixed CPU/launch time per step, and
 *   bw_efficiency    0.84  achievable fraction of datasheet HBM bandwidth:
 *                          both solved from the two synchronous (one request at
 *                          a time) decode measurements on H100 with vLLM 0.11:
 *                          Llama-2-7B TPOT 6.66 ms and CodeLlama-34B TPOT
 *                          26.08 ms, two equations (weights / (BW·eff) +
 *                          decode attention + overhead) in two unknowns;
 *   link_efficiency  0.80  achievable fraction of the per-direction link
 *                          bandwidth for a ring all-reduce of MB-sized
 *                          messages (nccl-tests bus bandwidth on NVLink);
 *   allreduce_latency_us 8 fixed cost of one small all-reduce (custom
 *                          all-reduce over NVLink); an estimate, not measured
 *                          here;
 *   v1_mfu_prefill   0.62  median MFU of the H100 GEMM table over
 *                          m = 1024..16384 (prefill-sized GEMMs);
 *   v1_mfu_decode    0.28  median MFU of the same table over m = 64..512
 *                          (decode-sized batches).
 */
#include "lat.h"

#include <string.h>

void lat_params_default(LatParams *p)
{
    memset(p, 0, sizeof *p);
    p->backend = LAT_BACKEND_AUTO;
    p->step_overhead_us = 1080.0;
    p->bw_efficiency = 0.84;
    p->link_efficiency = 0.80;
    p->allreduce_latency_us = 8.0;
    p->v1_mfu_prefill = 0.62;
    p->v1_mfu_decode = 0.28;
}

const char *lat_backend_name(LatBackend b)
{
    switch (b) {
    case LAT_BACKEND_AUTO:
        return "auto";
    case LAT_BACKEND_ROOFLINE_V1:
        return "roofline-v1";
    case LAT_BACKEND_ROOFLINE_V2:
        return "roofline-v2";
    }
    return "unknown";
}

gboolean lat_backend_parse(const char *s, LatBackend *out)
{
    if (!s)
        return FALSE;
    if (g_ascii_strcasecmp(s, "auto") == 0)
        *out = LAT_BACKEND_AUTO;
    else if (g_ascii_strcasecmp(s, "v1") == 0 || g_ascii_strcasecmp(s, "roofline-v1") == 0)
        *out = LAT_BACKEND_ROOFLINE_V1;
    else if (g_ascii_strcasecmp(s, "v2") == 0 || g_ascii_strcasecmp(s, "roofline-v2") == 0)
        *out = LAT_BACKEND_ROOFLINE_V2;
    else
        return FALSE;
    return TRUE;
}
