/*
 * lat.h: step-time models and what they need to know.
 *
 * - LatModelDesc: a model read from a Hugging Face config.json (dense, GQA,
 *   MoE, sliding-window layers; quantized weights through
 *   quantization_config), and as served: --quantization, --kv-cache-dtype,
 *   --disable-sliding-window, speculative-decoding draft heads (lat_quant.c).
 * - LatHardware / LatHardwareTable: GPU datasheet figures (data/hardware.json).
 * - LatMfuDb: the measured MFU tables of one GPU (data/mfu/), immutable once
 *   loaded, safe to share between threads.
 * - LatStepModel: batch description in, step duration out (roofline v2 with
 *   MFU tables, or roofline v1 with constant MFU). One per simulation: it
 *   keeps per-instance caches and is not thread-safe.
 * - lat_memory_*: how many KV blocks fit (vLLM's profiling, estimated).
 *
 * The latency module knows nothing of queues or the event loop: it only sees
 * the BatchDesc of ss_types.h. lat_mfu.h has the table lookups themselves
 * (for tests and reports); docs/latency.md gives every formula and default.
 */
#ifndef LAT_H
#define LAT_H

#include <glib.h>

#include "ss_types.h"

/* ---------------------------------------------------------------- model -- */

typedef struct {
    char *name;        /* short name, e.g. "llama-3.1-8b" (folder name or file stem) */
    char *config_path; /* the config.json it was read from */
    char *architecture;/* architectures[0], e.g. "LlamaForCausalLM" */

    guint num_layers;          /* L */
    guint hidden_size;         /* d */
    guint num_heads;           /* n_h */
    guint num_kv_heads;        /* n_kv */
    guint head_dim;            /* d_h: head_dim, else d / n_h */
    guint intermediate_size;   /* d_ff of dense MLP layers */
    guint vocab_size;          /* V */
    guint max_position_embeddings;
    gboolean tie_word_embeddings;

    double weight_bytes;       /* b_w: bytes per weight element (2 bf16/fp16, 1 fp8, about
                                  0.52 for 4-bit weights with their group scales) */
    double kv_bytes;           /* b_kv: bytes per KV element (2, or 1 with an FP8 KV cache) */
    double act_bytes;          /* b_act: bytes per activation element (2) */
    gboolean fp8_weights;      /* FP8 weights: W8A8 on FP8 tensor cores (weight-only elsewhere) */
    gboolean weight_only;      /* integer weight-only quantization (AWQ, GPTQ): weights are
                                  dequantized to 16 bits inside the GEMM kernel (Marlin) */
    guint weight_bits;         /* bits of a quantized weight (16 when not quantized) */
    guint quant_group_size;    /* weights per scale of a weight-only format (0: per channel) */
    char *quantization;        /* the method it is served with ("fp8", "awq_marlin", ...), NULL: none */
    char *kv_cache_dtype;      /* as served: NULL ("auto"), "fp8", ... */

    /* Sliding-window attention (Mistral v0.1, Gemma 2/3, gpt-oss): layers
     * that attend to the last sliding_window tokens only. */
    guint sliding_window;      /* tokens; 0: every layer attends to all tokens */
    guint num_sliding_layers;  /* of num_layers (0 with sliding_window 0) */

    /* A speculative-decoding head built from its target (EAGLE, MTP): its
     * fc projection reads this many hidden states (0: none). */
    guint draft_fc_inputs;

    /* Mixture of experts (num_experts == 0: dense). */
    guint num_experts;              /* E routed experts */
    guint experts_per_token;        /* top-k */
    guint moe_intermediate_size;    /* d_ff of one routed expert */
    guint num_shared_experts;       /* DeepSeek-style shared experts (0 if none) */
    guint shared_expert_intermediate_size; /* per shared expert (0 if none) */
    guint num_dense_layers;         /* layers with a dense MLP (all L for a dense model) */

    /* Multi-head latent attention (DeepSeek); 0 when absent. */
    guint kv_lora_rank;
    guint qk_rope_head_dim;
    guint qk_nope_head_dim;
    guint v_head_dim;
    guint q_lora_rank;

    /* Hybrid models (Qwen3-Next, Qwen3.5): layers with linear attention
     * (Gated DeltaNet) instead of softmax attention; 0 for every other model.
     * The step-time and memory models refuse such models (not modelled). */
    guint num_linear_attn_layers;
    char *model_type;   /* config "model_type" (of text_config when nested), or NULL */
    char *dtype;        /* torch_dtype / dtype as written, or NULL */
    char *quant_method; /* quantization_config.quant_method, or NULL */
} LatModelDesc;

/* Loads a model: `name_or_path` is anything lat_model_resolve accepts (a
 * bundled name, a Hugging Face id, a config.json or a model folder). Errors
 * (SS_ERROR_INPUT, or SS_ERROR_USAGE for an unknown name, listing the nearest
 * ones) name the file and the field and what was expected. Free with
 * lat_model_desc_free. */
LatModelDesc *lat_model_desc_load(const char *name_or_path, const char *data_dir, GError **error);
void lat_model_desc_free(LatModelDesc *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatModelDesc, lat_model_desc_free)

/* A deep copy (g_free the strings through lat_model_desc_free). */
LatModelDesc *lat_model_desc_copy(const LatModelDesc *m);

/* ---------------------------------------------- the model as served -- */
/* (lat_quant.c; docs/options/quantization.md, kv-cache-dtype.md,
 * sliding-window.md, speculative-decoding.md) */

/* vLLM's --quantization: "fp8", "fbgemm_fp8", "modelopt" (FP8 W8A8),
 * "awq", "awq_marlin", "gptq", "gptq_marlin" (integer weight-only through
 * the Marlin kernels), "compressed-tensors" (as the checkpoint says).
 * A checkpoint's own quantization_config must agree (vLLM's rule: the
 * Marlin variants of its method are accepted); a 16-bit checkpoint may be
 * quantized online ("fp8") or timed as its AWQ/GPTQ checkpoint would be
 * (4-bit, group 128; the shapes are the same). Changes `m`'s weight format.
 * Errors: SS_ERROR_USAGE naming the method and the known ones. */
gboolean lat_model_apply_quantization(LatModelDesc *m, const char *method, GError **error);
/* The names lat_model_apply_quantization knows, NULL-terminated (static). */
const char *const *lat_quantization_names(void);
/* A one-line description of how the model's GEMMs run ("16-bit", "FP8 W8A8
 * (DeepGEMM tables)", "4-bit weight-only, group 128 (Marlin W4A16)"); static
 * or into buf. */
const char *lat_model_weight_format(const LatModelDesc *m, char *buf, gsize len);
/* vLLM's --kv-cache-dtype: "auto", "bfloat16", "float16" (2 bytes), "fp8",
 * "fp8_e4m3", "fp8_e5m2" (1 byte). Errors: SS_ERROR_USAGE. */
gboolean lat_model_apply_kv_cache_dtype(LatModelDesc *m, const char *dtype, GError **error);
/* vLLM's --disable-sliding-window: every layer attends to all tokens (and,
 * as in vLLM, the caller caps max_model_len at the window). */
void lat_model_disable_sliding_window(LatModelDesc *m);

typedef enum {
    LAT_DRAFT_EAGLE = 0, /* EAGLE-1: one decoder layer of the target's shape, fc 2d -> d, the target's vocabulary */
    LAT_DRAFT_EAGLE3,    /* EAGLE-3: one decoder layer, fc 3d -> d, its own (smaller) vocabulary */
    LAT_DRAFT_MTP,       /* multi-token prediction: one layer of the target itself (MoE included), fc 2d -> d */
} LatDraftHead;
/* A draft head built from its target's shape (when no config.json of the
 * head is given): one layer as described above, draft_vocab (0: the
 * target's). Free with lat_model_desc_free. */
LatModelDesc *lat_model_draft_head(const LatModelDesc *target, LatDraftHead kind, guint draft_vocab);

/* Parameters of the whole model (embeddings, LM head, all layers). */
double lat_model_num_params(const LatModelDesc *m);
/* Weight bytes held by one GPU at tensor-parallel degree tp. */
double lat_model_weight_bytes_per_gpu(const LatModelDesc *m, guint tp);
/* KV-cache bytes of one token on one GPU at tensor-parallel degree tp,
 * all layers, K and V: 2 * L * ceil(n_kv / tp) * d_h * b_kv (MLA: the latent). */
double lat_model_kv_bytes_per_token(const LatModelDesc *m, guint tp);
/* Names of the models shipped under <data_dir>/models, sorted; free with g_strfreev. */
char **lat_model_list(const char *data_dir);
/* Which config.json a model argument names (lat_model_names.c): a path (a
 * config.json, a folder holding one, a Hugging Face hub cache folder), a
 * bundled name or a Hugging Face id in any case (<data_dir>/models/index.json,
 * else the id's last part equal to a bundled name), or an id found in the
 * local hub cache. Sets *config_path and *short_name (g_free). Errors: an
 * unknown name (SS_ERROR_USAGE, naming the three nearest bundled models), a
 * path that does not exist or holds no config.json (SS_ERROR_INPUT). */
gboolean lat_model_resolve(const char *name_or_path, const char *data_dir, char **config_path, char **short_name,
                           GError **error);
/* The Hugging Face id recorded for bundled model `name`, or NULL. g_free. */
char *lat_model_hf_id(const char *data_dir, const char *name);

/* ------------------------------------------------------------- hardware -- */

typedef struct {
    char *name;              /* e.g. "H100-SXM" */
    double bf16_tflops;      /* dense BF16 peak */
    double fp8_tflops;       /* dense FP8 peak; 0 when the GPU has none */
    double mem_bw_tbs;       /* HBM bandwidth, TB/s */
    double mem_gb;           /* memory as marketed, GB */
    double mem_runtime_gib;  /* optional "mem_runtime_gib": memory the CUDA runtime
                                reports (GiB); 0 when absent (lat_memory_plan then
                                applies its documented rule to mem_gb) */
    double link_gbs_per_dir; /* interconnect bandwidth per direction, GB/s */
    char *interconnect;      /* e.g. "NVLink 4", "PCIe Gen5 x16" */
    double host_link_gbs;    /* the GPU's PCIe link to host memory, GB/s per direction
                                ("host_link_gbs_per_dir"; 0 when not given) */
    char *mfu_tables;        /* folder under data/mfu ("h100"), NULL when none */
    char *architecture;      /* "hopper", "ampere", ...; NULL when not given */
    double compute_capability; /* CUDA compute capability (9.0 Hopper); 0 when not given */
    char *source;
} LatHardware;

typedef struct LatHardwareTable LatHardwareTable;

/* Loads <data_dir>/hardware.json (or `path` when not NULL). */
LatHardwareTable *lat_hardware_table_load(const char *data_dir, const char *path, GError **error);
void lat_hardware_table_free(LatHardwareTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatHardwareTable, lat_hardware_table_free)
/* Finds a GPU by name (case-insensitive); NULL and an error listing the
 * known names (SS_ERROR_USAGE) when there is none. Borrowed pointer. */
const LatHardware *lat_hardware_table_find(const LatHardwareTable *t, const char *name, GError **error);
guint lat_hardware_table_size(const LatHardwareTable *t);
/* The GPUs whose measured tables may time the kernels of `hw`, best first:
 * `hw` itself when it has tables, then the others by nearest compute
 * capability (ties: the newer), then nearest ridge point (BF16 peak /
 * bandwidth), then file order.
 * Writes up to `max` borrowed pointers; returns how many. */
guint lat_hardware_table_donors(const LatHardwareTable *t, const LatHardware *hw, const LatHardware **out,
                                guint max);
const LatHardware *lat_hardware_table_get(const LatHardwareTable *t, guint i);

/* ----------------------------------------------------------- MFU tables -- */

typedef struct LatMfuDb LatMfuDb;

/* Loads every table of one GPU: <data_dir>/mfu/{gemm,mha,grouped_gemm}/.../<gpu>/.
 * Malformed rows are errors with file:line:column. Immutable afterwards. */
LatMfuDb *lat_mfu_db_load(const char *data_dir, const char *gpu, GError **error);
void lat_mfu_db_free(LatMfuDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatMfuDb, lat_mfu_db_free)

/* ------------------------------------------------------------ step model -- */

typedef enum {
    LAT_BACKEND_AUTO = 0,    /* roofline v2 where MFU tables exist, else v1 */
    LAT_BACKEND_ROOFLINE_V1, /* constant MFU per phase */
    LAT_BACKEND_ROOFLINE_V2, /* MFU tables; parts without data estimated as v1 */
} LatBackend;

/* Tunable constants: each has a physical meaning and a documented default
 * (docs/latency.md, "Parameters", says where each comes from and whether it
 * was measured, chosen or fitted). lat_params_default() fills the defaults. */
typedef struct {
    LatBackend backend;
    /* the CPU side of a step and how vLLM runs it */
    double step_overhead_us;     /* CPU time per step: schedule, prepare inputs, sample, outputs */
    double tracing_overhead_us;  /* added CPU time per step with OpenTelemetry request tracing on */
    gboolean otlp_tracing;       /* the server traces requests (--otlp-traces-endpoint) */
    gboolean async_scheduling;   /* vLLM >= 0.14: a step takes max(GPU, CPU) instead of their sum */
    gboolean enforce_eager;      /* no CUDA graphs: every kernel is launched by the CPU */
    double cudagraph_max_size;   /* largest CUDA-graph capture size (0: 512) */
    double launch_us;            /* CPU time to launch one kernel outside a CUDA graph */
    double output_fraction;      /* async scheduling: share of a step's CPU time spent on its outputs
                                    after its GPU work, before its tokens leave the engine */
    /* the GPU side */
    double compute_scale;        /* calibration: multiplies every FLOP/s peak (1 = datasheet) */
    double bw_scale;             /* calibration: multiplies every memory bandwidth (1 = datasheet) */
    double bw_efficiency;        /* achievable fraction of HBM bandwidth where no table applies
                                    (KV reads of prefill chunks; roofline v1) */
    double elementwise_efficiency; /* norms, rotary, activation, KV write: fraction of bandwidth */
    double kernel_floor_us;      /* smallest time of an elementwise kernel */
    double link_efficiency;      /* NVLink: achievable fraction of the link in vLLM's custom all-reduce */
    double allreduce_latency_us; /* NVLink: fixed cost of one custom all-reduce */
    double pcie_link_efficiency;    /* the same for GPUs joined only by PCIe (NCCL) */
    double pcie_allreduce_latency_us;
    double custom_allreduce_max_mib; /* above this vLLM all-reduces with NCCL (measured table) */
    double moe_grouped_efficiency;   /* grouped MoE GEMM / dense GEMM where compute-bound */
    double moe_imbalance;            /* >= 1: routing skew stretching the compute-bound expert time */
    double v1_mfu;               /* roofline v1 (and kernels without tables): constant MFU */
    /* engine options (docs/options/) */
    double woq_compute_efficiency; /* weight-only quantized GEMM (Marlin) / 16-bit GEMM where compute-bound */
    double host_link_gbs;        /* GPU <-> host memory bandwidth per direction, GB/s (0: the GPU's
                                    host_link_gbs_per_dir) */
    double host_link_efficiency; /* achievable fraction of it for KV-block and adapter copies */
    double lora_load_us;         /* reading one LoRA adapter from disk into host memory */
} LatParams;

void lat_params_default(LatParams *p);
/* Sets one constant from "name=value" (names as in the scenario's
 * "latency" object; "latency_model=v1" sets the backend; the switches
 * async_scheduling, enforce_eager and otlp_tracing are engine settings the
 * scenario resolves, not set here). Errors
 * (SS_ERROR_USAGE) name the parameter and list the known ones. */
gboolean lat_params_set(LatParams *p, const char *assignment, GError **error);
/* Hardware profiles (written by `servesim calibrate`, docs/calibration.md):
 * {"schema": LAT_PROFILE_SCHEMA, "hardware": NAME, "params": {NAME: number}}
 * plus what it was fitted on. Applies the profile's constants over *p; fails
 * (SS_ERROR_INPUT, or SS_ERROR_USAGE when `hardware` is not NULL and is not
 * the profile's GPU) without changing *p. */
#define LAT_PROFILE_SCHEMA "servesim.hardware_profile/1"
gboolean lat_params_apply_profile(LatParams *p, const char *path, const char *hardware, GError **error);
/* The GPU a profile is for (g_free), or NULL with an error. */
char *lat_profile_hardware(const char *path, GError **error);
/* The default constants that were fitted on the measured run `experiment`
 * (a folder name of data/validation): writes up to `max` names (static
 * strings) and returns how many. docs/accuracy.md reports the error on these
 * runs apart from the others. */
guint lat_params_fitted_on(const char *experiment, const char **out, guint max);
/* Every parameter name lat_params_set knows, NULL-terminated (static). */
const char *const *lat_params_names(void);
/* The value of a numeric parameter by name (switches read 0 or 1); FALSE when unknown. */
gboolean lat_params_get(const LatParams *p, const char *name, double *out);

typedef enum { LAT_BOUND_COMPUTE = 0, LAT_BOUND_MEMORY, LAT_BOUND_COMMUNICATION, LAT_BOUND_FIXED } LatBound;

#define LAT_MAX_COMPONENTS 20

/* One part of a step, for `servesim step` and --verbose. */
typedef struct {
    const char *name;     /* "projections", "moe_experts", "elementwise", "attention_prefill",
                             "attention_decode", "allreduce", "lm_head", "draft", "lora",
                             "lora_load", "kv_load" (GPU), "cpu", "launches" (CPU) (static
                             strings; absent parts are left out) */
    double seconds;
    double flops;         /* per GPU */
    double bytes;         /* per GPU, memory traffic assumed */
    LatBound bound;
    gboolean estimated;   /* no MFU table served it: roofline v1 estimate */
    char source[160];     /* which table / rows served it, or why it was estimated */
} LatComponent;

#define LAT_MAX_LOOKUPS 24

/* One table lookup (or estimate) that served part of a component, for
 * `servesim step --verbose`. */
typedef struct {
    const char *component; /* name of the component it belongs to */
    char what[64];         /* the kernel, e.g. "qkv m=4096 k=4096 n=6144" */
    char source[200];      /* table file and rows, or why it was estimated */
    double seconds;        /* its share of the step */
    gboolean estimated;
} LatLookup;

typedef struct {
    double total_seconds;      /* the step: gpu + cpu, or max(gpu, cpu) with async scheduling */
    double gpu_seconds;        /* every GPU component */
    double delivery_delay_seconds; /* its tokens leave the engine this long after the step ends */
    double cpu_seconds;        /* "cpu" and "launches" */
    gboolean async_scheduling;
    gboolean estimated;        /* some component had no measured table */
    double padded_tokens;      /* tokens the step runs at (CUDA-graph padding) */
    const char *cuda_graph;    /* "full", "piecewise" or "none" (static) */
    guint num_components;
    LatComponent components[LAT_MAX_COMPONENTS];
    LatBackend backend;   /* the backend actually used */
    guint num_lookups;    /* at most LAT_MAX_LOOKUPS (the rest are left out) */
    LatLookup lookups[LAT_MAX_LOOKUPS];
} LatBreakdown;

typedef struct LatStepModel LatStepModel;

/* A GPU with measured tables a step model may draw on. */
typedef struct {
    const LatHardware *hw;
    const LatMfuDb *db;
} LatTableSource;

/* Builds a step model for `model` at TP degree tp on `hw`. `sources` lists
 * the measured tables to use, best first (lat_hardware_table_donors gives
 * the order: the GPU's own, then others'); each kernel is timed from the
 * first source that has a table for it, transferred by the roofline rule when
 * it is another GPU's (docs/latency.md). No sources (or backend roofline-v1):
 * constant MFU everywhere. Everything is borrowed and must outlive the step
 * model. max_batched_tokens bounds the batch sizes the caller will ask about
 * (caches are sized by it). Errors: tp that does not divide the heads, a
 * model the backend cannot time, a parameter out of range (SS_ERROR_INPUT /
 * SS_ERROR_USAGE). */
LatStepModel *lat_step_model_new(const LatModelDesc *model, const LatHardware *hw, guint tp,
                                 const LatTableSource *sources, guint num_sources, const LatParams *params,
                                 guint max_batched_tokens, GError **error);
void lat_step_model_free(LatStepModel *sm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatStepModel, lat_step_model_free)

/* Speculative decoding (docs/options/speculative-decoding.md): each step
 * also runs the drafter. `draft` (taken; NULL for ngram, which drafts on the
 * CPU) is the step model of the draft model or head; a step then adds its
 * GPU time for the step's tokens (one pass over every scheduled token) and
 * num_speculative_tokens - 1 further passes of one token per request that
 * sampled. The verification itself is in the batch (BatchEntry.spec_tokens). */
void lat_step_model_set_draft(LatStepModel *sm, LatStepModel *draft, guint num_speculative_tokens);
/* LoRA (docs/options/lora.md): the shrink and expand kernels of every
 * adapted projection run for the step's LoRA tokens at max_lora_rank (vLLM
 * pads adapters to it); adapters copied into GPU slots cost their bytes over
 * the host link, those read from disk lora_load_us more. */
void lat_step_model_set_lora(LatStepModel *sm, guint max_lora_rank);
/* The bytes of one adapter of rank `rank` on one GPU: every layer's q, k,
 * v, o, gate, up and down adapted, A (k x rank) and B (rank x n) in 16 bits
 * at the per-GPU shapes (84 MB at rank 16 for Llama-3.1-8B). */
double lat_lora_adapter_bytes(const LatModelDesc *m, guint tp, guint rank);
/* CPU KV offload (docs/options/kv-offload.md): KV loaded from host memory in
 * a step (BatchDesc.kv_load_tokens) crosses the host link, overlapped layer
 * by layer with the step's compute: the step's GPU time is at least the
 * copy's. Host link bandwidth: host_link_gbs (or the GPU's) x
 * host_link_efficiency. */
void lat_step_model_set_offload(LatStepModel *sm, gboolean on);
/* Bytes per second the host link moves (after host_link_efficiency). */
double lat_step_model_host_bps(const LatStepModel *sm);

/* The hot path: the duration of one step, in seconds. No allocation; the
 * token-count-dependent parts are cached in `sm` on first use (hence not
 * const, and one step model per thread). An empty batch takes 0. */
double lat_step_model_seconds(LatStepModel *sm, const BatchDesc *batch);

/* The same, and how long after the step's end its sampled tokens leave the
 * engine (*delay, may be NULL): with async scheduling the outputs of a step
 * are processed once its GPU work ends, in output_fraction of its CPU time;
 * 0 with synchronous scheduling. */
double lat_step_model_seconds_delay(LatStepModel *sm, const BatchDesc *batch, double *delay);

/* The same duration with its breakdown per component and the table rows
 * behind each lookup (slower; for reports). out->total_seconds equals
 * lat_step_model_seconds() for the same batch. */
void lat_step_model_breakdown(LatStepModel *sm, const BatchDesc *batch, LatBreakdown *out);

/* One GEMM of the per-step projections as the step model sees it on one GPU
 * (tensor-parallel shapes: column-parallel n/tp, row-parallel k/tp). */
typedef struct {
    const char *name;      /* "qkv", "o", "gate_up", "down", "router", "shared_gate_up", ...,
                              "expert_gate_up", "expert_down" (one expert), "lm_head" */
    guint k, n;            /* per-GPU shape: (m x k) . (k x n) */
    double per_step;       /* instances per forward pass (layers holding it) */
    double weight_bytes;   /* bytes per weight element */
    const char *table;     /* MFU table file serving it, NULL when estimated */
    gboolean exact_shape;  /* the table holds this (k, n) (else the nearest shape) */
} LatGemmInfo;

/* Copies up to `max` GEMM descriptions into `out`; returns how many exist. */
guint lat_step_model_gemms(const LatStepModel *sm, LatGemmInfo *out, guint max);

/* The backend in use after AUTO was resolved. */
LatBackend lat_step_model_backend(const LatStepModel *sm);
/* TRUE when some kernel of the model has no measured table on any GPU (it
 * is a roofline-v1 estimate), or the backend is roofline-v1. */
gboolean lat_step_model_estimated(const LatStepModel *sm);
/* TRUE when every kernel is timed from tables measured on this GPU itself
 * (FALSE: transferred from another GPU, or estimated). */
gboolean lat_step_model_measured_gpu(const LatStepModel *sm);
/* The GPU whose tables serve first (this one when it has tables), or NULL. */
const char *lat_step_model_table_gpu(const LatStepModel *sm);
const char *lat_backend_name(LatBackend b);
/* Parses "v1", "roofline-v1", "v2", "roofline-v2", "auto". */
gboolean lat_backend_parse(const char *s, LatBackend *out);

/* ---------------------------------------------------------------- memory -- */

typedef struct {
    double total_bytes;       /* GPU memory seen by the runtime */
    double usable_bytes;      /* total * gpu_memory_utilization */
    double weight_bytes;      /* per GPU (the draft's and LoRA slots included) */
    double activation_bytes;  /* peak activations + runtime overhead (estimate) */
    double kv_bytes;          /* what is left for the KV cache */
    double block_bytes;       /* one block on one GPU */
    gint64 num_blocks;        /* floor(kv_bytes / block_bytes), may be <= 0 */
    /* vLLM's hybrid KV cache manager (sliding-window models): the layers are
     * split into KV cache groups of group_layers layers each; a block holds
     * block_size tokens of one group. Without it (or for models without
     * sliding layers): one group of every layer (groups_full 1). */
    guint group_layers;       /* layers per group (the model's attention layers, plus the draft's) */
    guint groups_full;        /* groups of full-attention layers */
    guint groups_sliding;     /* groups of sliding-window layers (0: none or not hybrid) */
    double draft_weight_bytes;  /* per GPU, included in weight_bytes */
    double extra_weight_bytes;  /* per GPU (LoRA slots), included in weight_bytes */
} LatMemoryPlan;

/* What lat_memory_plan_ex needs. */
typedef struct {
    const LatModelDesc *model;      /* as served (quantization, KV dtype applied) */
    const LatHardware *hw;
    guint tp;
    double gpu_memory_utilization;
    guint block_size;
    guint max_num_batched_tokens;
    guint max_num_seqs;
    const LatModelDesc *draft;      /* speculative decoding: a draft model or head whose weights
                                       and KV layers share the GPU; NULL for none (ngram) */
    guint draft_tp;                 /* its tensor-parallel degree (1 or tp; 0: tp) */
    double extra_weight_bytes;      /* per GPU, allocated with the weights (LoRA slots) */
    gboolean hybrid_kv;             /* vLLM's hybrid KV cache manager: sliding-window layers get
                                       their own groups (else they are allocated as full) */
} LatMemoryInput;

/* Estimates the number of KV blocks vLLM would allocate (see docs/latency.md
 * for each term). Fails (SS_ERROR_INPUT) when the model does not fit: the
 * message gives the weights, the usable memory and the TP degree. */
gboolean lat_memory_plan(const LatModelDesc *m, const LatHardware *hw, guint tp,
                         double gpu_memory_utilization, guint block_size,
                         guint max_num_batched_tokens, guint max_num_seqs,
                         LatMemoryPlan *out, GError **error);
/* The same with the engine options: a draft model's weights and KV layers,
 * LoRA slots, and the hybrid KV cache manager's groups. lat_memory_plan is
 * this with none of them. */
gboolean lat_memory_plan_ex(const LatMemoryInput *in, LatMemoryPlan *out, GError **error);

#endif /* LAT_H */
