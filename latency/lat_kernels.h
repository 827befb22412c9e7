/*
 * lat_kernels.h: the time of one kernel of a forward pass on one GPU, from
 * the measured tables of that GPU or of another one (internal to the latency
 * module; lat_step.c composes them into a step).
 *
 * The one rule for using a table measured on another GPU (a "donor", chosen
 * by lat_hardware_table_donors) or at another shape: a kernel reaches the
 * same fraction of its roofline as the measured kernel did,
 *     t = t_measured × R_target / R_measured,
 *     R = max(FLOPs / peak, bytes / bandwidth)  (datasheet figures),
 * so a compute-bound kernel scales with the peaks and a memory-bound one with
 * the bandwidths; on its own GPU at a measured shape it is the measured time.
 * Curves are then lowered to their monotone envelope over the work (a
 * smaller problem can always run as a larger one), so more work never takes
 * less time, and a GPU with more bandwidth (or a higher peak) never takes
 * longer. Kernels with no table anywhere fall back to one constant MFU and
 * the bandwidth roofline (roofline v1) and are marked estimated.
 *
 * Everything here is built once per step model; the lookups do not allocate.
 */
#ifndef LAT_KERNELS_H
#define LAT_KERNELS_H

#include "lat.h"
#include "lat_mfu.h"

/* Peak and bandwidth of the GPU a kernel runs on, after the calibration
 * scales (compute_scale, bw_scale). */
typedef struct {
    double peak_bf16, peak_fp8; /* FLOP/s */
    double bw;                  /* bytes/s */
} LatRoof;

void lat_roof_init(LatRoof *r, const LatHardware *hw, double compute_scale, double bw_scale);

/* --------------------------------------------------------------- GEMM -- */

/* One GEMM shape (m x k) . (k x n) on the target GPU: a curve of time over
 * m, derived from the nearest measured shape of the first donor with a table
 * of its precision. */
typedef struct {
    guint k, n;
    double weight_bytes;     /* per weight element */
    double act_bytes;        /* per activation element */
    LatPrecision prec;       /* what it computes in */
    gboolean weight_only;    /* quantized weights dequantized to 16 bits in the kernel */
    gboolean estimated;      /* no table: roofline v1 */
    const LatMfuCurve *curve;
    const LatHardware *donor;
    gboolean exact;          /* the donor's table has this (k, n) */
    double m_scale;          /* table m = m x n / n_table (same output tiles) */
    guint npts;
    double *m, *t;           /* target curve: m ascending, seconds, monotone */
    double peak, bw;         /* the target's roofline (FLOP/s, bytes/s) */
    double v1_rate, v1_bw;   /* estimated: FLOP/s and bytes/s */
} LatGemmCurve;

/* The weight format of a GEMM (docs/options/quantization.md). */
typedef struct {
    double weight_bytes;     /* per weight element, scales included */
    gboolean fp8;            /* FP8 weights: W8A8 on a GPU with an FP8 peak, else weight-only */
    gboolean weight_only;    /* integer weights dequantized to 16 bits inside the kernel (Marlin) */
} LatGemmFormat;

/* The format of a model's quantizable GEMMs (`sixteen_bit`: one that stays
 * 16-bit whatever the model's format, e.g. the MoE router). */
LatGemmFormat lat_gemm_format(const LatModelDesc *m, gboolean sixteen_bit);

/* Resolves a shape among the donors (own GPU first) and builds its curve.
 * FP8 weights compute in FP8 when the GPU has an FP8 peak, from the FP8
 * tables; weight-only formats (and FP8 on GPUs without FP8 tensor cores)
 * compute in BF16 from the BF16 tables, with their own weight bytes and
 * p->woq_compute_efficiency of the BF16 peak (the dequantization inside
 * the kernel), both through the roofline rule. */
void lat_gemm_curve_init_format(LatGemmCurve *g, guint k, guint n, LatGemmFormat fmt, double act_bytes,
                                const LatHardware *hw, const LatRoof *roof, const LatHardware *const *donors,
                                const LatMfuDb *const *dbs, guint ndonors, const LatParams *p);
/* The same for 16-bit (`fp8_weights` FALSE) or FP8 weights. */
void lat_gemm_curve_init(LatGemmCurve *g, guint k, guint n, gboolean fp8_weights, double act_bytes,
                         const LatHardware *hw, const LatRoof *roof, const LatHardware *const *donors,
                         const LatMfuDb *const *dbs, guint ndonors, const LatParams *p);
void lat_gemm_curve_clear(LatGemmCurve *g);
/* Seconds for one instance at m rows (m > 0); `src` (may be NULL) says what served it. */
double lat_gemm_curve_time(const LatGemmCurve *g, double m, char *src, gsize src_len);
/* FLOPs and bytes of one instance at m rows. */
double lat_gemm_flops(const LatGemmCurve *g, double m);
double lat_gemm_bytes(const LatGemmCurve *g, double m);

/* --------------------------------------------------------- attention -- */

typedef struct {
    LatAttnKind kind;
    double n_h_gpu, d_qk, d_v;     /* prefill FLOP convention */
    double dec_dh, dec_rope;       /* decode FLOP convention (MLA: kv_lora, rope) */
    double kv_bytes_token;         /* KV bytes of one token of one layer on this GPU */
    const LatMfuCurve *prefill;    /* NULL: estimated */
    const LatHardware *prefill_donor;
    gboolean prefill_exact;
    double prefill_heads_ratio;    /* FLOPs of the model's heads / FLOPs of the table's, at the same tokens */
    const LatMfuGrid *decode;
    const LatHardware *decode_donor;
    gboolean decode_exact;
    double decode_heads_ratio;
    guint dec_tab_h, dec_tab_kv;   /* per-GPU heads of the decode table */
    /* decode, fitted to the table: t(b, S) = alpha(b) + beta * S on the donor */
    guint dec_nb;
    double *dec_b, *dec_alpha;     /* alpha per batch row, non-decreasing */
    double dec_beta;               /* seconds per KV token (one layer, table heads) */
} LatAttn;

void lat_attn_init(LatAttn *a, const LatModelDesc *m, guint tp, const LatHardware *const *donors,
                   const LatMfuDb *const *dbs, guint ndonors);
void lat_attn_clear(LatAttn *a);
/* One prefill chunk of t new tokens after p cached ones, one layer. Its
 * efficiency is the table's at the sequence length of equal causal work,
 * sqrt(t² + 2·t·p) (new tokens attending to cached and new). */
double lat_attn_prefill_time(const LatAttn *a, const LatRoof *roof, const LatParams *p, double t, double cached,
                             char *src, gsize src_len, double *flops, double *bytes);
/* The same for a sliding-window layer (window > 0 tokens): each new token
 * attends to the last `window` tokens only, so the (query, key) pairs are
 * those of full attention less the ones beyond the window, the KV read
 * covers t + min(p, window - 1) tokens, and the efficiency is the table's
 * at the length of equal work, sqrt(2 x pairs). Equal to
 * lat_attn_prefill_time while p + t <= window; never more than it;
 * non-decreasing in t and p. */
double lat_attn_prefill_time_window(const LatAttn *a, const LatRoof *roof, const LatParams *p, double t,
                                    double cached, double window, char *src, gsize src_len, double *flops,
                                    double *bytes);
/* The (query, key) pairs of a prefill chunk, causal half counted once:
 * t·p + t²/2, less those beyond a window (window 0: none). */
double lat_attn_pairs(double t, double cached, double window);
/* All decodes of a step (num requests, sum of their KV lengths, the longest),
 * one layer. The decode table is read as a kernel with a fixed cost per
 * batch and a cost per KV token: t = alpha(batch) + beta x sum_kv, beta the
 * median per-token time of the table's large batches (>= 16) and alpha(b) the
 * median rest of row b, raised to be non-decreasing in b; then transferred by
 * the roofline rule (beta) and taken as it is (alpha, a latency). More
 * requests or more KV never take less time. kv_max is unused by this rule. */
double lat_attn_decode_time(const LatAttn *a, const LatRoof *roof, const LatParams *p, double num, double sum_kv,
                            double kv_max, char *src, gsize src_len, double *flops, double *bytes);
/* The same when the decodes also verify `spec` draft tokens in all (each
 * request reads its KV once for its 1 + spec_i query tokens): the KV
 * streams as for `num` decodes, the FLOPs grow by (num + spec) / num, and
 * the roofline rule moves the kernel to whichever bound it reaches. Equal
 * to lat_attn_decode_time with spec 0; non-decreasing in spec. */
double lat_attn_decode_time_spec(const LatAttn *a, const LatRoof *roof, const LatParams *p, double num,
                                 double sum_kv, double spec, char *src, gsize src_len, double *flops,
                                 double *bytes);

/* ------------------------------------------------------ communication -- */

typedef struct {
    guint tp;
    gboolean pcie;                 /* no NVLink: NCCL through PCIe */
    double link_bps;               /* per direction, bytes/s */
    const LatMfuDb *table;         /* measured NCCL all-reduce (one node), or NULL */
    const LatHardware *table_hw;
} LatComm;

void lat_comm_init(LatComm *c, const LatHardware *hw, guint tp, const LatHardware *const *donors,
                   const LatMfuDb *const *dbs, guint ndonors);
/* One all-reduce of `bytes` (per GPU). NVLink: vLLM's custom all-reduce up
 * to custom_allreduce_max_mib (allreduce_latency_us + ring bytes at
 * link_efficiency), NCCL above it (the measured table, scaled by link
 * bandwidth, never below the custom all-reduce's time); PCIe: NCCL with the
 * PCIe constants. */
double lat_comm_allreduce_time(const LatComm *c, const LatParams *p, double bytes, char *src, gsize src_len);

/* ---------------------------------------------------- elementwise ops -- */

/* One memory-bound elementwise kernel (norm, rotary, activation, KV write)
 * moving `bytes`: kernel_floor_us + bytes / (bandwidth x elementwise_efficiency). */
double lat_elementwise_time(const LatRoof *roof, const LatParams *p, double bytes);

#endif /* LAT_KERNELS_H */
