/*
 * wl_spec.c: the synthetic workload description (init, clear).
 */
#include "wl.h"

#include <string.h>

void wl_spec_init(WlSpec *spec)
{
    memset(spec, 0, sizeof *spec);
}

void wl_dist_spec_clear(WlDistSpec *d)
{
    g_free(d->path);
    g_free(d->column);
    memset(d, 0, sizeof *d);
}

void wl_spec_clear(WlSpec *spec)
{
    g_free(spec->arrival.times_s);
    g_free(spec->arrival.rates);
    for (guint i = 0; i < spec->num_classes; i++) {
        g_free(spec->classes[i].name);
        wl_dist_spec_clear(&spec->classes[i].input);
        wl_dist_spec_clear(&spec->classes[i].output);
    }
    g_free(spec->classes);
    wl_spec_init(spec);
}

void wl_trace_options_init(WlTraceOptions *o)
{
    memset(o, 0, sizeof *o);
    o->format = WL_TRACE_AUTO;
    o->time_scale = 1.0;
}
