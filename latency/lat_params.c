/*
 * lat_params.c: the constants of the step-time models, their defaults, and
 * backend names.
 *
 * Every default has a physical meaning and a stated origin (docs/latency.md,
 * "Parameters", and docs/accuracy.md for the ones fitted to measured vLLM
 * runs):
 *   step_overhead_us      CPU time of one step of vLLM without tracing:
 *                         FITTED on the two synchronous H100 runs of vLLM 0.11
 *                         (Llama-2-7B and CodeLlama-34B, one request at a time);
 *   tracing_overhead_us   CPU time one step gains when the server exports
 *                         OpenTelemetry traces, and
 *   output_fraction       the share of a step's CPU time spent on its outputs
 *                         before its tokens leave the engine (async
 *                         scheduling): FITTED together
 *                         (8900 us, 0.68) on the four traced vLLM 0.15.1 H100
 *                         runs; only the Llama-2-7B one is CPU-bound, so
 *                         tracing_overhead_us rests on it alone;
 *   launch_us 4           CPU time of one kernel launch outside a CUDA graph
 *                         (chosen: a PyTorch/Inductor launch is 3-5 us);
 *   bw_efficiency 0.91    streaming fraction of HBM bandwidth: the memory-bound
 *                         rows (m <= 16) of the measured H100 BF16 GEMM table
 *                         fit 4.9 us + bytes / (0.908 x 3.35 TB/s);
 *   elementwise_efficiency 0.80 (chosen), kernel_floor_us 1.9 (measured):
 *                         the measured H100 activation kernel (vidur-profiling
 *                         mlp_act, unfused PyTorch) fits 1.9 us + bytes /
 *                         (0.594 x 3.35 TB/s), a lower bound for vLLM's fused
 *                         kernels; the GEMM table streams at 0.91; 0.80 is
 *                         between them (docs/latency.md gives the sensitivity);
 *   link_efficiency 0.80, allreduce_latency_us 8: vLLM's custom all-reduce
 *                         over NVLink (chosen from nccl-tests bus bandwidth and
 *                         the one-shot kernel's latency; not measured here);
 *   pcie_link_efficiency 0.35, pcie_allreduce_latency_us 40: NCCL over PCIe
 *                         (published two-GPU PCIe nccl-tests figures);
 *   custom_allreduce_max_mib 8: vLLM's custom all-reduce size limit;
 *   moe_grouped_efficiency 0.91: DeepGEMM grouped vs dense FP8 GEMM of the
 *                         same shape on H800 at >= 1024 tokens per expert;
 *   moe_imbalance 1       no routing skew (a setting, not measured);
 *   v1_mfu 0.62           median MFU of the H100 GEMM table over prefill-sized
 *                         GEMMs (m = 1024..16384), for kernels without tables.
 * compute_scale and bw_scale are 1 (datasheet peaks and bandwidths); they
 * are what `servesim calibrate` fits per GPU.
 * The engine options (docs/options/) add:
 *   woq_compute_efficiency 0.90  integer weight-only GEMMs (Marlin W4A16) /
 *                         16-bit GEMMs where compute-bound: MEASURED by the
 *                         Marlin paper (Frantar et al. 2024, arXiv:2408.11743):
 *                         prefill batches of >= 1024 tokens run about 10%
 *                         slower than FP16 cuBLAS; memory-bound shapes need
 *                         no constant (the weight bytes set them);
 *   host_link_gbs 0       the GPU's host_link_gbs_per_dir (data/hardware.json:
 *                         PCIe generation x16 per direction, datasheet);
 *   host_link_efficiency 0.80  CHOSEN: pinned-memory copies reach about 80%
 *                         of a PCIe x16 link per direction (CUDA
 *                         bandwidthTest/nvbandwidth figures, 50-55 of 64 GB/s
 *                         on Gen5); not measured here;
 *   lora_load_us 25000    CHOSEN: reading an adapter from disk into host
 *                         memory, the 24-30 ms PEFT measured per adapter
 *                         (huggingface/peft issue 981); a setting.
 */
#include "lat.h"

#include <math.h>
#include <string.h>

#include "lat_internal.h"
#include "ss_error.h"

void lat_params_default(LatParams *p)
{
    memset(p, 0, sizeof *p);
    p->backend = LAT_BACKEND_AUTO;
    p->step_overhead_us = 950.0;
    p->tracing_overhead_us = 8900.0;
    p->launch_us = 4.0;
    p->output_fraction = 0.68;
    p->compute_scale = 1.0;
    p->bw_scale = 1.0;
    p->bw_efficiency = 0.91;
    p->elementwise_efficiency = 0.80;
    p->kernel_floor_us = 1.9;
    p->link_efficiency = 0.80;
    p->allreduce_latency_us = 8.0;
    p->pcie_link_efficiency = 0.35;
    p->pcie_allreduce_latency_us = 40.0;
    p->custom_allreduce_max_mib = 8.0;
    p->moe_grouped_efficiency = 0.91;
    p->moe_imbalance = 1.0;
    p->v1_mfu = 0.62;
    p->woq_compute_efficiency = 0.90;
    p->host_link_gbs = 0.0;
    p->host_link_efficiency = 0.80;
    p->lora_load_us = 25000.0;
}

#define NUM(f) {#f, G_STRUCT_OFFSET(LatParams, f), FALSE}
#define BOOL(f) {#f, G_STRUCT_OFFSET(LatParams, f), TRUE}
static const struct {
    const char *name;
    size_t offset;
    gboolean is_bool;
} param_fields[] = {
    NUM(step_overhead_us),    NUM(tracing_overhead_us),      NUM(cudagraph_max_size),
    NUM(launch_us),           NUM(output_fraction),          NUM(compute_scale),            NUM(bw_scale),
    NUM(bw_efficiency),       NUM(elementwise_efficiency),   NUM(kernel_floor_us),
    NUM(link_efficiency),     NUM(allreduce_latency_us),     NUM(pcie_link_efficiency),
    NUM(pcie_allreduce_latency_us), NUM(custom_allreduce_max_mib), NUM(moe_grouped_efficiency),
    NUM(moe_imbalance),       NUM(v1_mfu),                   NUM(woq_compute_efficiency),
    NUM(host_link_gbs),       NUM(host_link_efficiency),     NUM(lora_load_us),
};
#undef NUM
#undef BOOL

const char *const *lat_params_names(void)
{
    static const char *names[G_N_ELEMENTS(param_fields) + 2];
    static gsize init = 0;
    if (g_once_init_enter(&init)) {
        names[0] = "latency_model";
        for (size_t i = 0; i < G_N_ELEMENTS(param_fields); i++)
            names[i + 1] = param_fields[i].name;
        names[G_N_ELEMENTS(param_fields) + 1] = NULL;
        g_once_init_leave(&init, 1);
    }
    return names;
}

gboolean lat_params_get(const LatParams *p, const char *name, double *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(param_fields); i++) {
        if (strcmp(name, param_fields[i].name) != 0)
            continue;
        if (param_fields[i].is_bool)
            *out = G_STRUCT_MEMBER(gboolean, p, param_fields[i].offset) ? 1.0 : 0.0;
        else
            *out = G_STRUCT_MEMBER(double, p, param_fields[i].offset);
        return TRUE;
    }
    return FALSE;
}

gboolean lat_params_set(LatParams *p, const char *assignment, GError **error)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "expected NAME=VALUE, got '%s'", assignment);
        return FALSE;
    }
    char *name = g_strndup(assignment, (gsize)(eq - assignment));
    const char *value = eq + 1;
    gboolean ok = FALSE;
    if (strcmp(name, "latency_model") == 0 || strcmp(name, "backend") == 0) {
        ok = lat_backend_parse(value, &p->backend);
        if (!ok)
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "%s: expected roofline-v2, roofline-v1 or auto, got '%s'", name,
                        value);
        goto out;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(param_fields); i++) {
        if (strcmp(name, param_fields[i].name) != 0)
            continue;
        if (param_fields[i].is_bool) {
            gboolean v;
            if (g_ascii_strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
                v = TRUE;
            else if (g_ascii_strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
                v = FALSE;
            else {
                g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "%s: expected true or false, got '%s'", name, value);
                goto out;
            }
            G_STRUCT_MEMBER(gboolean, p, param_fields[i].offset) = v;
            ok = TRUE;
            goto out;
        }
        char *end = NULL;
        double v = g_ascii_strtod(value, &end);
        if (!*value || !end || *end || !isfinite(v) || v < 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "%s: expected a number >= 0, got '%s'", name, value);
            goto out;
        }
        G_STRUCT_MEMBER(double, p, param_fields[i].offset) = v;
        ok = TRUE;
        goto out;
    }
    {
        char *known = g_strjoinv(", ", (char **)lat_params_names());
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "unknown latency parameter '%s' (known: %s)", name, known);
        g_free(known);
    }
out:
    g_free(name);
    return ok;
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

/* ------------------------------------------------- what was fitted on -- */

/* The default constants fitted to measured runs, and the runs (the
 * experiment names of data/validation) each was fitted on. */
static const struct {
    const char *param;
    const char *const experiments[5];
} fitted_defaults[] = {
    {"step_overhead_us",
     {"blis-h100-llama2-7b-train", "blis-h100-codellama34b-train", "blis-h100-codellama34b-prefillheavy-mml4096",
      NULL}},
    {"tracing_overhead_us", {"blis-h100-llama2-7b-tp1-roleplay-v0.15", NULL}},
    {"output_fraction",
     {"blis-h100-llama2-7b-tp1-roleplay-v0.15", "blis-h100-codellama34b-tp2-roleplay", "blis-h100-llama2-70b-tp4-roleplay",
      "blis-h100-mixtral8x7b-tp2-roleplay"}},
};

guint lat_params_fitted_on(const char *experiment, const char **out, guint max)
{
    guint n = 0;
    for (guint i = 0; i < G_N_ELEMENTS(fitted_defaults); i++)
        for (guint j = 0; fitted_defaults[i].experiments[j]; j++)
            if (strcmp(fitted_defaults[i].experiments[j], experiment) == 0 && n < max)
                out[n++] = fitted_defaults[i].param;
    return n;
}

/* ------------------------------------------------------------- profiles -- */

gboolean lat_params_apply_profile(LatParams *p, const char *path, const char *hardware, GError **error)
{
    cJSON *root = lat_read_json_file(path, error);
    if (!root)
        return FALSE;
    gboolean ok = FALSE;
    char *hw = NULL, *schema = NULL;
    if (!cJSON_IsObject(root)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: expected a hardware profile (a JSON object)", path);
        goto out;
    }
    if (!lat_json_string(root, "schema", path, TRUE, &schema, error) ||
        !lat_json_string(root, "hardware", path, TRUE, &hw, error))
        goto out;
    if (strcmp(schema, LAT_PROFILE_SCHEMA) != 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: field 'schema': expected \"%s\", got \"%s\"", path,
                    LAT_PROFILE_SCHEMA, schema);
        goto out;
    }
    if (hardware && g_ascii_strcasecmp(hw, hardware) != 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "%s: a profile of %s cannot time %s", path, hw, hardware);
        goto out;
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
    if (!cJSON_IsObject(params)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: field 'params': expected an object of latency constants",
                    path);
        goto out;
    }
    LatParams tmp = *p;
    for (const cJSON *it = params->child; it; it = it->next) {
        if (!cJSON_IsNumber(it)) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: params.%s: expected a number", path, it->string);
            goto out;
        }
        char num[G_ASCII_DTOSTR_BUF_SIZE];
        char *assignment = g_strdup_printf("%s=%s", it->string, g_ascii_dtostr(num, sizeof num, it->valuedouble));
        GError *err = NULL;
        gboolean set = lat_params_set(&tmp, assignment, &err);
        g_free(assignment);
        if (!set) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: params.%s: %s", path, it->string, err->message);
            g_error_free(err);
            goto out;
        }
    }
    *p = tmp;
    ok = TRUE;
out:
    cJSON_Delete(root);
    g_free(hw);
    g_free(schema);
    return ok;
}

char *lat_profile_hardware(const char *path, GError **error)
{
    cJSON *root = lat_read_json_file(path, error);
    char *hw = NULL;
    if (root && !lat_json_string(root, "hardware", path, TRUE, &hw, error))
        hw = NULL;
    cJSON_Delete(root);
    return hw;
}
