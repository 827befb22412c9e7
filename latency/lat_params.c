/*
 * lat_params.c: default constants of the step-time models and backend names.
 *
 * Every default has a physical meaning and a documented origin
 * (docs/latency.md, "Parameters"):
 *   step_overhead_us 1080  fixed CPU/launch time per step, and
 *   bw_efficiency    0.84  achievable fraction of datasheet HBM bandwidth:
 *                          both solved from the two synchronous (one request at
 *                          a time) decode measurements on H100 with vLLM 0.11:
 *                          Llama-2-7B TPOT 6.66 ms and CodeLlama-34B TPOT
 *                          26.08 ms, two equations (weights / (BW·eff) +
 *                          decode attention + overhead) in two unknowns;
 *   link_efficiency  0.80  achievable fraction of the per-direction link
 *                          bandwidth for a ring all-reduce of MB-sized
 *                          messages (nccl-tests bus bandwidth on NVLink);
 *   allreduce_latency_us 8 fixed cost of one small all-reduce (custom
 *                          all-reduce over NVLink); an estimate, not measured
 *                          here;
 *   pcie_link_efficiency 0.35, pcie_allreduce_latency_us 40: the same for
 *                          GPUs joined only by PCIe, where vLLM's NVLink
 *                          all-reduce does not apply and NCCL reaches about a
 *                          third of the per-direction PCIe rate (published
 *                          nccl-tests bus bandwidth of two-GPU PCIe systems);
 *   bf16_fp8_mfu_ratio 1.2 how much closer to its (half as high) peak a BF16
 *                          GEMM runs than the FP8 kernel the GEMM tables
 *                          measured: large H100 GEMMs reach about 0.75-0.8 of
 *                          the BF16 peak with cuBLAS and 0.63-0.65 of the FP8
 *                          peak in the tables (FP8 is power-limited);
 *   v1_mfu_prefill   0.62  median MFU of the H100 GEMM table over
 *                          m = 1024..16384 (prefill-sized GEMMs);
 *   v1_mfu_decode    0.28  median MFU of the same table over m = 64..512
 *                          (decode-sized batches).
 */
#include "lat.h"

#include <math.h>
#include <string.h>

#include "ss_error.h"

void lat_params_default(LatParams *p)
{
    memset(p, 0, sizeof *p);
    p->backend = LAT_BACKEND_AUTO;
    p->step_overhead_us = 1080.0;
    p->bw_efficiency = 0.84;
    p->link_efficiency = 0.80;
    p->allreduce_latency_us = 8.0;
    p->pcie_link_efficiency = 0.35;
    p->pcie_allreduce_latency_us = 40.0;
    p->bf16_fp8_mfu_ratio = 1.07;
    p->v1_mfu_prefill = 0.62;
    p->v1_mfu_decode = 0.28;
}

static const struct {
    const char *name;
    size_t offset;
} param_fields[] = {
    {"step_overhead_us", G_STRUCT_OFFSET(LatParams, step_overhead_us)},
    {"bw_efficiency", G_STRUCT_OFFSET(LatParams, bw_efficiency)},
    {"link_efficiency", G_STRUCT_OFFSET(LatParams, link_efficiency)},
    {"allreduce_latency_us", G_STRUCT_OFFSET(LatParams, allreduce_latency_us)},
    {"pcie_link_efficiency", G_STRUCT_OFFSET(LatParams, pcie_link_efficiency)},
    {"pcie_allreduce_latency_us", G_STRUCT_OFFSET(LatParams, pcie_allreduce_latency_us)},
    {"bf16_fp8_mfu_ratio", G_STRUCT_OFFSET(LatParams, bf16_fp8_mfu_ratio)},
    {"v1_mfu_prefill", G_STRUCT_OFFSET(LatParams, v1_mfu_prefill)},
    {"v1_mfu_decode", G_STRUCT_OFFSET(LatParams, v1_mfu_decode)},
};

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
    GString *known = g_string_new("latency_model");
    for (size_t i = 0; i < G_N_ELEMENTS(param_fields); i++)
        g_string_append_printf(known, ", %s", param_fields[i].name);
    g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "unknown latency parameter '%s' (known: %s)", name, known->str);
    g_string_free(known, TRUE);
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
