/*
 * lat_mfu.h: lookups in the measured kernel-efficiency (MFU) tables.
 *
 * A LatMfuDb (lat.h) holds every table of one GPU. The step model resolves,
 * once, which table serves each kernel of a model (a GEMM shape, an
 * attention shape at a TP degree, a grouped-GEMM configuration) and then
 * only interpolates on the hot path. Tests and `servesim step --verbose` use
 * the same functions to check rows and to say which rows served a lookup.
 *
 * Every table stores, for each measured row, the FLOP rate the kernel
 * achieved: rate = FLOPs(row) / latency_us(row), with FLOPs counted by the
 * table's own convention (the lat_flops_* functions below). The time of a
 * kernel is then FLOPs / rate, and at a table point it is that row's
 * latency_us exactly; MFU = rate / peak of the table's precision. Deriving
 * the rate from latency_us instead of the rounded mfu column keeps three
 * decimals of rounding (0.000 at small decode batches) out of the model.
 * A row whose mfu column reads 0 is treated as missing, as the tables'
 * documentation asks (some are also warm-up outliers in the H100 decode
 * tables), and so is a row whose latency_us and mfu disagree by more than
 * the mfu's rounding plus 5% (the table's peak being the median of
 * rate / mfu over its rows): one row of the shipped data.
 *
 * Interpolation is linear in the rate (equivalently in MFU): in m for a GEMM
 * shape, in new tokens for prefill attention, in tokens per GPU for grouped
 * GEMM, bilinear in batch x kv_len for decode attention; clamped at the ends
 * (below the first row the rate of the first row holds). Cells missing from a
 * decode grid are filled at load time by interpolation along kv_len within
 * their batch row (copying the nearest cell beyond the last one), then along
 * batch for rows that have none; a missing cell is never an MFU of zero.
 *
 * All functions are pure reads of an immutable database: safe from any
 * thread. The lookups do not allocate; `src` (may be NULL) receives a short
 * description of the rows used.
 */
#ifndef LAT_MFU_H
#define LAT_MFU_H

#include <glib.h>

#include "lat.h"

typedef enum {
    LAT_ATTN_MHA = 0, /* softmax attention, MHA/GQA: shape n_h-n_kv-d_h */
    LAT_ATTN_MLA,     /* DeepSeek latent attention: prefill n_h-nope-rope, decode n_h-kv_lora-rope */
} LatAttnKind;

typedef struct LatMfuCurve LatMfuCurve; /* one measured 1-D curve: x -> rate */

/* The precision a GEMM computes in: its table (gemm_bf16/ or gemm/) and peak. */
typedef enum {
    LAT_PREC_BF16 = 0, /* BF16/FP16 weights and activations: gemm_bf16/<gpu>/ (cuBLAS) */
    LAT_PREC_FP8,      /* FP8 W8A8: gemm/<gpu>/ (DeepGEMM) */
} LatPrecision;
typedef struct LatMfuGrid LatMfuGrid;   /* one decode table: (batch, kv_len) -> rate */

/* ---------------------------------------------------- FLOP conventions -- */

/* 2·m·k·n. */
double lat_flops_gemm(double m, double k, double n);
/* Prefill attention of one request, t new tokens after p cached ones:
 * MHA 4·n_h·d_h·(t·p + t²/2); MLA 2·n_h·(d_qk + d_v)·(t·p + t²/2) with
 * d_qk = nope + rope and d_v = v_head_dim (the causal half is counted once,
 * as the tables were measured: no other factor). */
double lat_flops_attn_prefill(LatAttnKind kind, double n_h, double d_qk, double d_v, double t, double p);
/* Decode attention over sum_kv cached tokens (summed over requests):
 * MHA 4·n_h·d_h·sum_kv; MLA 2·n_h·(2·kv_lora + rope)·sum_kv. For MLA pass
 * d_h = kv_lora and rope in `rope` (0 for MHA). */
double lat_flops_attn_decode(LatAttnKind kind, double n_h, double d_h, double rope, double sum_kv);

/* ---------------------------------------------------------- resolution -- */

/* The GEMM curve of shape (k, n), or of the nearest shape (smallest
 * |ln k/k'| + |ln n/n'|) when the table lacks it; *exact says which. NULL
 * when the GPU has no GEMM table. The rate is the FP8 kernel's. Borrowed. */
const LatMfuCurve *lat_mfu_gemm_curve(const LatMfuDb *db, guint k, guint n, gboolean *exact);

/* The same in the table of one precision (BF16: gemm_bf16/<gpu>/data.csv;
 * FP8: gemm/<gpu>/data.csv). NULL when the GPU has no table of it. */
const LatMfuCurve *lat_mfu_gemm_curve_prec(const LatMfuDb *db, LatPrecision prec, guint k, guint n,
                                           gboolean *exact);

/* Measured all-reduce time (microseconds) of `bytes` over num_gpus GPUs of
 * one node (comm/allreduce/<gpu>.csv, NCCL), interpolated linearly on the
 * table's monotone envelope, the last row's bandwidth beyond it; -1 when the
 * table has no row for that many GPUs. *table_max_bytes (may be NULL)
 * receives the largest size measured. */
double lat_mfu_allreduce_us(const LatMfuDb *db, guint num_gpus, double bytes, double *table_max_bytes);
/* The all-reduce table's file, relative to the data dir (NULL: none). */
const char *lat_mfu_allreduce_file(const LatMfuDb *db);
gboolean lat_mfu_db_has_allreduce(const LatMfuDb *db, guint num_gpus);

/* The rows of a curve, for building derived curves: x of row i (sorted,
 * distinct) and its rate on the monotone envelope. */
guint lat_mfu_curve_num_points(const LatMfuCurve *c);
double lat_mfu_curve_point_x(const LatMfuCurve *c, guint i);
double lat_mfu_curve_point_rate_monotone(const LatMfuCurve *c, guint i);
guint lat_mfu_db_num_gemm_shapes(const LatMfuDb *db, LatPrecision prec);

/* The prefill-attention curve for a model shape at TP degree tp. For MHA
 * pass (n_h, n_kv, d_h) of the whole model, for MLA (n_h, nope, rope).
 * Preference: a table of the per-GPU shape (n_h/tp heads); the model's own
 * shape; else the nearest per-GPU heads with the same head dimensions.
 * *exact is TRUE only for the first. NULL when no table of that kind. */
const LatMfuCurve *lat_mfu_attn_prefill_curve(const LatMfuDb *db, LatAttnKind kind, guint n_h, guint n_kv,
                                              guint d_h, guint tp, gboolean *exact);

/* The decode-attention table for a model shape at TP degree tp (MHA:
 * (n_h, n_kv, d_h) of the whole model; MLA: (n_h, kv_lora, rope)). H100
 * tables are named by the model's heads and '-tp<N>'; H20/H800 tables by
 * the heads of one GPU. Preference: the file named for this shape and tp;
 * a file whose per-GPU heads equal n_h/tp (and n_kv/tp, at least 1); else
 * the nearest per-GPU heads with the same head dimension. The rate is per
 * GPU (FLOPs of the per-GPU heads). NULL when none of that kind. */
const LatMfuGrid *lat_mfu_attn_decode_grid(const LatMfuDb *db, LatAttnKind kind, guint n_h, guint n_kv,
                                           guint d_h, guint tp, gboolean *exact);

/* Grouped-GEMM (MoE experts) tables for E experts, top-k, hidden size and
 * one expert's intermediate size, at TP degree tp. */
typedef struct {
    const LatMfuCurve *up;   /* gate+up projection: x = tokens per GPU */
    const LatMfuCurve *down; /* down projection */
    double tokens_scale;     /* x = step tokens * tokens_scale */
    double flops_scale;      /* per-GPU FLOPs = FLOPs(step tokens, full width) * flops_scale */
    gboolean exact;          /* rows measured with num_gpus == tp (expert-parallel layout with
                                the same per-GPU FLOPs and tokens per expert) */
} LatMfuGrouped;
/* FALSE when the GPU has no grouped-GEMM table for this configuration. */
gboolean lat_mfu_grouped_gemm(const LatMfuDb *db, guint num_experts, guint topk, guint hidden,
                              guint intermediate, guint tp, LatMfuGrouped *out);

/* -------------------------------------------------------------- lookups -- */

/* The achieved FLOP rate at x, interpolated linearly between rows and
 * clamped at the ends. */
double lat_mfu_curve_rate(const LatMfuCurve *c, double x, char *src, gsize src_len);
/* The achieved FLOP rate (per GPU) at `batch` requests of mean KV length
 * kv_len, bilinear between grid cells, clamped at the edges. */
double lat_mfu_grid_rate(const LatMfuGrid *g, double batch, double kv_len, char *src, gsize src_len);

/* The same lookups on the monotone envelope of the table, which the step
 * model uses: a smaller problem can always run as a larger one, so each
 * row's time is lowered to the smallest time of the rows with at least its
 * x (at least its batch and its kv_len). More work then never takes less
 * time. Equal to the rows wherever the measurements are already monotone;
 * warm-up outliers and launch jitter of small rows are lowered. */
double lat_mfu_curve_rate_monotone(const LatMfuCurve *c, double x, char *src, gsize src_len);
double lat_mfu_grid_rate_monotone(const LatMfuGrid *g, double batch, double kv_len, char *src, gsize src_len);

/* Shapes and files, for messages and tests. */
const char *lat_mfu_curve_file(const LatMfuCurve *c); /* relative to the data dir */
void lat_mfu_curve_shape(const LatMfuCurve *c, guint *a, guint *b, guint *c3); /* (k, n, 0) or (n_h, n_kv, d_h) */
const char *lat_mfu_grid_file(const LatMfuGrid *g);
/* The batch sizes of a grid's rows and the KV lengths of its columns
 * (ascending), borrowed; *n gets their count. */
const double *lat_mfu_grid_batches(const LatMfuGrid *g, guint *n);
const double *lat_mfu_grid_kv_lengths(const LatMfuGrid *g, guint *n);
/* Heads of one GPU the grid was measured with. */
void lat_mfu_grid_heads(const LatMfuGrid *g, guint *n_h_gpu, guint *n_kv_gpu, guint *d_h);
/* Which GPU folder the database was read from ("h100"). */
const char *lat_mfu_db_gpu(const LatMfuDb *db);
/* Number of tables of each kind (tests, `servesim list`). */
void lat_mfu_db_counts(const LatMfuDb *db, guint *gemm_shapes, guint *prefill, guint *decode, guint *grouped);

/* Experts with at least one token when `tokens` tokens each pick top-k of E
 * experts uniformly: E·(1 − ((E−k)/E)^tokens). */
double lat_moe_experts_hit(double num_experts, double topk, double tokens);

#endif /* LAT_MFU_H */
