/*
 * lat_mfu_internal.h: the structures of the MFU tables and the helpers the
 * files of lat_mfu share (not part of the latency interface: other modules
 * include lat_mfu.h).
 *
 * - lat_mfu_table.c: CSV input, the filter of rows whose latency and mfu
 *   disagree, and the sort and monotone envelope of a curve's points.
 * - lat_mfu_load.c: the tables of one GPU loaded into a LatMfuDb (columns
 *   mapped, rows parsed and checked), and freed.
 * - lat_mfu.c: FLOP counts, resolution of a shape to its table, and the
 *   interpolated rates (the lookups of a step).
 */
#ifndef LAT_MFU_INTERNAL_H
#define LAT_MFU_INTERNAL_H

#include <glib.h>

#include "lat_mfu.h"

/* ------------------------------------------------------------ structures -- */

typedef struct {
    double x;          /* m, seq_len or tokens per GPU */
    double rate;       /* FLOP/s achieved: FLOPs(row) / latency */
    double latency_us; /* as measured */
    double mfu_file;   /* the mfu column as written */
    guint line;        /* line in the file */
    guint file_ix;     /* 0: the curve's file, 1: its second file (grouped GEMM) */
    double rate_mono;  /* rate of the monotone envelope (see lat_mfu_curve_finish) */
} CurvePoint;

struct LatMfuCurve {
    char *file;  /* relative to the data dir, for sources */
    char *file2; /* a second file that contributed rows (grouped GEMM decode + prefill), or NULL */
    char *label; /* "k=4096 n=6144", "32-8-128" */
    guint a, b, c; /* (k, n, 0) for GEMM; (n_h, n_kv, d_h) for attention */
    LatAttnKind kind;
    guint time_power; /* kernel time ~ x^p / rate: 1 GEMM and grouped GEMM, 2 prefill attention */
    CurvePoint *pts;
    guint npts;
};

struct LatMfuGrid {
    char *file;
    LatAttnKind kind;
    guint n_h_name, n_kv_name, d_h; /* as in the file name */
    guint tp;                       /* from '-tp<N>'; 0 when named by per-GPU heads */
    guint n_h_gpu, n_kv_gpu;        /* heads of one GPU the kernel ran with */
    guint nb, nk;
    double *batch, *kv;             /* sorted axes */
    double *rate;                   /* nb*nk, filled */
    double *rate_mono;              /* nb*nk, rates of the monotone envelope */
    guint *line;                    /* nb*nk, 0 = not in the file (filled) */
};

typedef struct {
    guint num_experts, num_gpus, topk, hidden, inter;
    LatMfuCurve *up, *down;
} GroupedCfg;

typedef struct {
    guint num_gpus;
    guint n;
    double *bytes, *us, *us_mono; /* sorted by bytes; us_mono: the monotone envelope */
    guint *line;
} CommCurve;

struct LatMfuDb {
    char *gpu;
    GPtrArray *gemm;         /* LatMfuCurve*, FP8 GEMMs, one per (k, n), sorted by k then n */
    GPtrArray *gemm_bf16;    /* LatMfuCurve*, BF16 GEMMs, likewise */
    GPtrArray *allreduce;    /* CommCurve*, one per number of GPUs */
    char *allreduce_file;    /* relative to the data dir, or NULL */
    GPtrArray *attn_prefill; /* LatMfuCurve* */
    GPtrArray *attn_decode;  /* LatMfuGrid* */
    GPtrArray *grouped;      /* GroupedCfg* */
};

/* ------------------------------------------------------------- tables -- */

/* One record of a CSV file: its fields as written, and the line it starts
 * on. */
typedef struct {
    guint line;
    guint nfields;
    char **fields; /* owned copies */
} CsvRow;

/* Reads every record of a CSV file with its line number: a GPtrArray of
 * CsvRow (g_ptr_array_free frees them); NULL and an SS_ERROR_INPUT error
 * naming the file and line when it cannot be read or is malformed. */
GPtrArray *lat_mfu_csv_read(const char *path, GError **error);

typedef enum { COL_STR, COL_UINT, COL_LATENCY, COL_MFU } ColKind;
typedef struct {
    const char *name;
    ColKind kind;
} ColSpec;

#define MAX_COLS 12

typedef struct {
    guint line;
    double v[MAX_COLS];
    const char *s[MAX_COLS]; /* every field as written, borrowed from the CsvRow */
} ParsedRow;

/* Orders doubles (g_array_sort). */
gint lat_mfu_dbl_cmp(gconstpointer a, gconstpointer b);

/* A row whose latency_us and mfu disagree cannot be right in both; the
 * table's peak is taken as the median of rate / mfu over its rows, and a row
 * whose mfu differs from rate / peak by more than the rounding of its mfu
 * column plus 5% is dropped (keep[i] = FALSE), like a zero-MFU row. Rows
 * already dropped (keep FALSE) are ignored. Returns how many were dropped. */
guint lat_mfu_drop_inconsistent(const GArray *pr, guint mfu_col, const double *rate, gboolean *keep);

/* Sorts a curve's points (`pts`, CurvePoint, left to the caller) by x, keeps
 * the first row of a repeated x, and computes the monotone envelope into
 * c->pts and c->npts (lat_mfu_table.c explains it). */
void lat_mfu_curve_finish(LatMfuCurve *c, GArray *pts);

#endif /* LAT_MFU_INTERNAL_H */
