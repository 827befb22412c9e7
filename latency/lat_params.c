/*
 * lat_params.c: default constants of the step-time models and backend names.
 * Every default is documented with its meaning in docs/latency.md.
 */
#include "lat.h"

#include <string.h>

void lat_params_default(LatParams *p)
{
    memset(p, 0, sizeof *p);
    p->backend = LAT_BACKEND_AUTO;
    p->step_overhead_us = 0.0;
    p->bw_efficiency = 1.0;
    p->link_efficiency = 1.0;
    p->allreduce_latency_us = 0.0;
    p->v1_mfu_prefill = 0.5;
    p->v1_mfu_decode = 0.5;
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
