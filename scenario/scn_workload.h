/*
 * scn_workload.h: the "workload" object of a scenario file, read into a
 * synthetic WlSpec or a trace file name and its options.
 *
 * The schema is documented in docs/workloads.md. Every value is checked on
 * the way in and every message names the scenario file and the JSON path,
 * e.g. "s.json: workload.classes[0].input.mean: expected a positive number,
 * got -3". Unknown keys are errors, so a typo never silently falls back to a
 * default.
 */
#ifndef SCN_WORKLOAD_H
#define SCN_WORKLOAD_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "wl.h"

/* Parses a scenario's "workload" object (borrowed; nothing of it is kept).
 * Synthetic: fills *spec (which must be initialised with wl_spec_init) and
 * sets *is_trace FALSE. Trace: fills *trace_path (g_free) and *trace_opts,
 * sets *is_trace TRUE. `origin` is the scenario file name for messages;
 * `base_dir` (may be NULL: paths are used as written) resolves relative paths
 * (the trace, empirical CSV files) against the scenario file's folder.
 * Returns FALSE with error (SS_ERROR_INPUT) naming origin and the field path;
 * then *spec is cleared and *trace_path is NULL. Empirical CSV files are not
 * opened here (wl_source_new_synthetic reads them). */
gboolean scn_workload_parse(const cJSON *workload, const char *origin, const char *base_dir,
                            WlSpec *spec, gboolean *is_trace, char **trace_path,
                            WlTraceOptions *trace_opts, GError **error);

#endif /* SCN_WORKLOAD_H */
