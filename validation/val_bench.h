/*
 * val_bench.h: a `vllm bench serve --save-result` file as an experiment of
 * one point, for `servesim validate` (val_bench.c).
 *
 * The file gives the requests and what was measured; it does not say which
 * GPU or engine settings served them. Those come from the --metadata pairs
 * vllm bench serve recorded (hardware=, tensor_parallel_size=, ...), from
 * the model_id, and from the command's flags (which win).
 */
#ifndef VAL_BENCH_H
#define VAL_BENCH_H

#include "val_validate.h"

/* Whether `path` is a result file rather than an experiment folder: a
 * regular file whose first non-blank byte is '{'. */
gboolean val_bench_is_result(const char *path);

/* Sets the deployment recorded in the file over `s`: "model" metadata, else
 * "model_id" (a Hugging Face id or a path); "hardware" (or "gpu"); the engine
 * fields by their scenario names, with '-' or '_' ("tensor_parallel_size",
 * "max-num-seqs", "enable_prefix_caching", ...). *have_hardware says whether
 * the file named the GPU. Errors: an unreadable file, a metadata value that
 * scn_scenario_set rejects (SS_ERROR_INPUT, naming the file and the key). */
gboolean val_bench_apply_metadata(const char *path, ScnScenario *s, gboolean *have_hardware, GError **error);

/* The experiment of a result file over the deployment `s` (model,
 * hardware, TP and engine settings; its workload is not used). Measured:
 * TTFT, TPOT and E2E mean, p50, p90, p99 from the per-request fields when the
 * file has them (the successful requests; percentiles interpolated as
 * numpy's, as vllm does), else the aggregates the file holds
 * (mean_/median_/p90_/p99_ of ttft, tpot, e2el); output throughput from
 * "output_throughput". Errors name the file and the field. */
ValExperiment *val_bench_load(const char *path, const ScnScenario *s, GError **error);

#endif /* VAL_BENCH_H */
