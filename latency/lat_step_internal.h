/*
 * lat_step_internal.h: the step-time model's state and the pieces its files
 * share; not part of the latency interface (other modules include lat.h).
 *
 * - lat_step_setup.c: a LatStepModel built for a model, GPU and TP degree
 *   (its GEMMs, elementwise bytes, attention, all-reduce, capture sizes),
 *   the engine options set on it, and its accessors.
 * - lat_step_terms.c: the GPU-time terms that depend on a token count
 *   (GEMMs, routed experts, elementwise, all-reduce, LM head) and the
 *   options' LoRA kernels, adapter loads and KV loads, each optionally
 *   accumulating FLOPs and bytes for the breakdown.
 * - lat_step.c: a step's time (the hot path: padding, attention, the caches
 *   of the token-count terms, the drafter) and its breakdown.
 */
#ifndef LAT_STEP_INTERNAL_H
#define LAT_STEP_INTERNAL_H

#include "lat.h"
#include "lat_kernels.h"
#include "lat_mfu.h"

#define MAX_GEMMS 12
#define MAX_DONORS 16
#define CACHE_LIMIT (1u << 20)

typedef struct {
    const char *name;
    double count;     /* instances per step (layers holding it) */
    LatGemmCurve c;
} Gemm;

typedef enum { GRAPH_NONE = 0, GRAPH_PIECEWISE, GRAPH_FULL } GraphMode;

struct LatStepModel {
    const LatModelDesc *model;
    const LatHardware *hw;
    guint tp;
    LatParams p;
    LatBackend backend;
    LatRoof roof;
    gboolean any_table;           /* some kernel is timed from a table */
    gboolean any_estimated;       /* some kernel is not */
    const LatHardware *donors[MAX_DONORS];
    guint ndonors;

    Gemm gemms[MAX_GEMMS];
    guint ngemm;
    Gemm lm_head;
    double layers;

    /* MoE */
    double moe_layers, E, topk;
    Gemm expert_up, expert_down;  /* one expert */

    /* elementwise bytes per token of one layer, and kernels per layer */
    double elem_dense_bytes[3];   /* norms (x2 kernels), rotary, KV write: per token */
    double elem_act_dense;        /* SiLU-and-mul of a dense layer, per token */
    double elem_act_moe;          /* of a MoE layer (top-k experts), per token */
    double elem_permute_moe;      /* gather + scatter of a MoE layer, per token */
    double kernels_per_layer;     /* for launches outside CUDA graphs */

    LatAttn attn;
    double attn_layers;
    double swa_layers;            /* of attn_layers: sliding-window layers */
    double full_layers;           /* attn_layers - swa_layers */
    double window;                /* tokens; 0 with no sliding layers */

    /* engine options (NULL / 0 when off) */
    struct LatStepModel *draft;   /* speculative decoding: the drafter's step model (owned) */
    double spec_k;                /* num_speculative_tokens */
    double lora_rank;             /* max_lora_rank (0: LoRA off) */
    double lora_adapter_bytes;    /* one adapter at max rank on this GPU */
    gboolean offload;             /* KV loads from the host tier are timed */
    gboolean options_on;          /* a drafter, LoRA or offload: options_time() has terms to add */
    double host_bps;              /* host link, bytes/s after host_link_efficiency */

    LatComm comm;
    double ar_per_step, ar_bytes_per_token;

    guint ncap;
    guint *cap;                   /* CUDA-graph capture sizes, ascending */

    guint cache_len;
    double *mcache;               /* GPU time of the token-count parts, per padded count */
    double *lmcache;
};

/* FLOPs, bytes and seconds of a term, for the breakdown (NULL in the hot
 * path). */
typedef struct {
    double seconds, flops, bytes;
    double compute_s, memory_s;
} Acc;

static inline void acc_add(Acc *a, double seconds, double flops, double bytes, gboolean compute_bound)
{
    if (!a)
        return;
    a->seconds += seconds;
    a->flops += flops;
    a->bytes += bytes;
    if (compute_bound)
        a->compute_s += seconds;
    else
        a->memory_s += seconds;
}

/* ------------------------------------------------------------ the terms -- */
/* lat_step_terms.c. `acc` and `src` may be NULL; a sentence on the source of
 * the time is appended to `src` (len bytes in all). The hot path calls the
 * token-count terms through the per-count caches of lat_step.c. */

double lat_step_gemm_time(const LatStepModel *sm, const Gemm *g, double m, Acc *acc, char *src, gsize len);
/* Routed experts of all MoE layers at `tokens` tokens. */
double lat_step_moe_time(const LatStepModel *sm, double tokens, Acc *acc, char *src, gsize len);
double lat_step_elementwise_time(const LatStepModel *sm, double m, Acc *acc);
double lat_step_allreduce_time(const LatStepModel *sm, double tokens, char *src, gsize len);
/* Everything that depends only on the step's (padded) token count. */
double lat_step_m_time(const LatStepModel *sm, double m);
/* LM head and sampler for s sampled tokens. */
double lat_step_lm_time(const LatStepModel *sm, double s, Acc *acc, char *src, gsize len);
/* The LoRA shrink and expand kernels of the step's adapted tokens. */
double lat_step_lora_time(const LatStepModel *sm, const BatchDesc *b, Acc *acc);
/* Adapters copied into GPU slots this step. */
double lat_step_lora_load_time(const LatStepModel *sm, const BatchDesc *b);
/* KV blocks copied from host memory this step; *bytes may be NULL. */
double lat_step_kv_load_time(const LatStepModel *sm, const BatchDesc *b, double *bytes);

#endif /* LAT_STEP_INTERNAL_H */
