/*
 * cmd_list.c: `servesim list models|hardware [--json|--names]`: what is
 * built in. The table is for people; --json (written with cJSON) for
 * scripts; --names prints one name per line (models: also their Hugging Face
 * ids), which the bash completion reads. Memory is shown in GiB (2^30 bytes),
 * as the CUDA runtime reports it.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lat.h"

#define GIB 1073741824.0

/* GPU memory in GiB as the runtime sees it: the datasheet figure read as
 * GiB less the driver reserve, as lat_memory_plan counts it. */
static double hw_mem_gib(const LatHardware *h)
{
    if (h->mem_runtime_gib > 0)
        return h->mem_runtime_gib;
    return h->mem_gb * (h->mem_gb >= 40.0 ? 0.99 : 0.9996);
}

static int list_models(const char *dir, gboolean json, gboolean names_only)
{
    char **names = lat_model_list(dir);
    GError *error = NULL;
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    if (!json && !names_only)
        printf("%-44s %-52s %6s %7s %5s %4s %8s %11s  %s\n", "model", "Hugging Face id", "layers", "hidden", "heads",
               "kv", "params", "max len", "kind");
    for (char **n = names; n && *n; n++) {
        char *hf = lat_model_hf_id(dir, *n);
        if (names_only) {
            printf("%s\n", *n);
            if (hf)
                printf("%s\n", hf);
            g_free(hf);
            continue;
        }
        LatModelDesc *m = lat_model_desc_load(*n, dir, &error);
        if (!m) {
            if (json) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "name", *n);
                cJSON_AddStringToObject(o, "error", error->message);
                cJSON_AddItemToArray(arr, o);
            } else {
                printf("%-44s (unreadable: %s)\n", *n, error->message);
            }
            g_clear_error(&error);
            g_free(hf);
            continue;
        }
        double params_b = lat_model_num_params(m) / 1e9;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", *n);
            if (hf)
                cJSON_AddStringToObject(o, "hf_id", hf);
            else
                cJSON_AddNullToObject(o, "hf_id");
            cJSON_AddStringToObject(o, "architecture", m->architecture ? m->architecture : "");
            cJSON_AddNumberToObject(o, "num_layers", m->num_layers);
            cJSON_AddNumberToObject(o, "hidden_size", m->hidden_size);
            cJSON_AddNumberToObject(o, "num_heads", m->num_heads);
            cJSON_AddNumberToObject(o, "num_kv_heads", m->num_kv_heads);
            cJSON_AddNumberToObject(o, "params_billions", params_b);
            cJSON_AddNumberToObject(o, "max_position_embeddings", m->max_position_embeddings);
            cJSON_AddNumberToObject(o, "num_experts", m->num_experts);
            cJSON_AddNumberToObject(o, "experts_per_token", m->experts_per_token);
            cJSON_AddBoolToObject(o, "fp8_weights", m->fp8_weights);
            cJSON_AddNumberToObject(o, "weight_gib", lat_model_weight_bytes_per_gpu(m, 1) / GIB);
            cJSON_AddItemToArray(arr, o);
        } else {
            char kind[64];
            if (m->num_experts)
                g_snprintf(kind, sizeof kind, "MoE %u experts, top-%u", m->num_experts, m->experts_per_token);
            else
                g_strlcpy(kind, "dense", sizeof kind);
            printf("%-44s %-52s %6u %7u %5u %4u %7.1fB %11u  %s%s\n", *n, hf ? hf : "-", m->num_layers,
                   m->hidden_size, m->num_heads, m->num_kv_heads, params_b, m->max_position_embeddings, kind,
                   m->fp8_weights ? ", FP8" : "");
        }
        g_free(hf);
        lat_model_desc_free(m);
    }
    g_strfreev(names);
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "schema", "servesim.models/1");
        cJSON_AddItemToObject(root, "models", arr);
        char *text = cJSON_Print(root);
        printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(root);
    }
    return 0;
}

static int list_hardware(const char *dir, gboolean json, gboolean names_only)
{
    GError *error = NULL;
    LatHardwareTable *t = lat_hardware_table_load(dir, NULL, &error);
    if (!t)
        return cli_fail("list", error);
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    if (!json && !names_only)
        printf("%-15s %10s %10s %8s %8s %10s  %-22s %s\n", "hardware", "bf16 TF/s", "fp8 TF/s", "HBM TB/s",
               "mem GiB", "link GB/s", "interconnect", "MFU tables");
    for (guint i = 0; i < lat_hardware_table_size(t); i++) {
        const LatHardware *h = lat_hardware_table_get(t, i);
        if (names_only) {
            printf("%s\n", h->name);
        } else if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", h->name);
            cJSON_AddNumberToObject(o, "bf16_tflops", h->bf16_tflops);
            cJSON_AddNumberToObject(o, "fp8_tflops", h->fp8_tflops);
            cJSON_AddNumberToObject(o, "mem_bw_tbs", h->mem_bw_tbs);
            cJSON_AddNumberToObject(o, "mem_gib", hw_mem_gib(h));
            cJSON_AddNumberToObject(o, "link_gbs_per_dir", h->link_gbs_per_dir);
            cJSON_AddStringToObject(o, "interconnect", h->interconnect ? h->interconnect : "");
            if (h->mfu_tables)
                cJSON_AddStringToObject(o, "mfu_tables", h->mfu_tables);
            else
                cJSON_AddNullToObject(o, "mfu_tables");
            cJSON_AddItemToArray(arr, o);
        } else {
            printf("%-15s %10.1f %10.1f %8.3f %8.1f %10.0f  %-22s %s\n", h->name, h->bf16_tflops, h->fp8_tflops,
                   h->mem_bw_tbs, hw_mem_gib(h), h->link_gbs_per_dir, h->interconnect ? h->interconnect : "",
                   h->mfu_tables ? h->mfu_tables : "none (roofline-v1 estimates)");
        }
    }
    lat_hardware_table_free(t);
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "schema", "servesim.hardware/1");
        cJSON_AddItemToObject(root, "hardware", arr);
        char *text = cJSON_Print(root);
        printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(root);
    }
    return 0;
}

int cmd_list(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("models|hardware - list what is built in");
    g_option_context_set_summary(ctx,
        "Lists the bundled model configs (with their Hugging Face ids: --model accepts either) or the GPU\n"
        "types. Memory is in GiB as the CUDA runtime reports it (the datasheet figure less the driver\n"
        "reserve).");
    char *data_dir = NULL;
    gboolean json = FALSE, names_only = FALSE;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON (schema servesim.models/1 or servesim.hardware/1)", NULL},
        {"names", 0, 0, G_OPTION_ARG_NONE, &names_only,
         "Print only the names, one per line (models: each bundled name, then its Hugging Face id)", NULL},
        {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "Folder with models/, mfu/, hardware.json", "DIR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
    int rc = 0;
    char *dir = NULL;
    if (!cli_parse(ctx, &argc, &argv, "list", &rc))
        goto out;
    if (argc != 2 || (strcmp(argv[1], "models") != 0 && strcmp(argv[1], "hardware") != 0)) {
        fprintf(stderr, "servesim list: error: expected 'models' or 'hardware'\n");
        rc = 2;
        goto out;
    }
    if (json && names_only) {
        fprintf(stderr, "servesim list: error: --json and --names exclude each other\n");
        rc = 2;
        goto out;
    }
    dir = cli_data_dir("list", data_dir);
    if (!dir) {
        rc = 3;
        goto out;
    }
    rc = strcmp(argv[1], "models") == 0 ? list_models(dir, json, names_only) : list_hardware(dir, json, names_only);
out:
    g_free(dir);
    g_free(data_dir);
    return rc;
}
