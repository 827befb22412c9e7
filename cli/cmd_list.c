/*
 * cmd_list.c: `servesim list models|hardware`: what is built in.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lat.h"

int cmd_list(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("models|hardware - list what is built in");
    char *data_dir = NULL;
    GOptionEntry entries[] = {
        {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "Folder with models/, mfu/, hardware.json", "DIR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
    int rc = 0;
    if (!cli_parse(ctx, &argc, &argv, "list", &rc))
        goto out;
    if (argc != 2 || (strcmp(argv[1], "models") != 0 && strcmp(argv[1], "hardware") != 0)) {
        fprintf(stderr, "servesim list: error: expected 'models' or 'hardware'\n");
        rc = 2;
        goto out;
    }
    const char *dir = cli_data_dir(data_dir);
    if (strcmp(argv[1], "models") == 0) {
        char **names = lat_model_list(dir);
        GError *error = NULL;
        printf("%-44s %6s %7s %5s %4s %8s  %s\n", "model", "layers", "hidden", "heads", "kv", "params", "kind");
        for (char **n = names; n && *n; n++) {
            LatModelDesc *m = lat_model_desc_load(*n, dir, &error);
            if (!m) {
                printf("%-44s (unreadable: %s)\n", *n, error->message);
                g_clear_error(&error);
                continue;
            }
            char kind[64];
            if (m->num_experts)
                g_snprintf(kind, sizeof kind, "MoE %u experts, top-%u", m->num_experts, m->experts_per_token);
            else
                g_strlcpy(kind, "dense", sizeof kind);
            printf("%-44s %6u %7u %5u %4u %7.1fB  %s%s\n", *n, m->num_layers, m->hidden_size, m->num_heads,
                   m->num_kv_heads, lat_model_num_params(m) / 1e9, kind, m->fp8_weights ? ", FP8" : "");
            lat_model_desc_free(m);
        }
        g_strfreev(names);
    } else {
        GError *error = NULL;
        LatHardwareTable *t = lat_hardware_table_load(dir, NULL, &error);
        if (!t) {
            rc = cli_fail("list", error);
            goto out;
        }
        printf("%-15s %10s %10s %8s %7s %10s  %-22s %s\n", "hardware", "bf16 TF/s", "fp8 TF/s", "HBM TB/s", "mem GB",
               "link GB/s", "interconnect", "MFU tables");
        for (guint i = 0; i < lat_hardware_table_size(t); i++) {
            const LatHardware *h = lat_hardware_table_get(t, i);
            printf("%-15s %10.1f %10.1f %8.3f %7.0f %10.0f  %-22s %s\n", h->name, h->bf16_tflops, h->fp8_tflops,
                   h->mem_bw_tbs, h->mem_gb, h->link_gbs_per_dir, h->interconnect ? h->interconnect : "",
                   h->mfu_tables ? h->mfu_tables : "none (roofline v1 estimates)");
        }
        lat_hardware_table_free(t);
    }
out:
    g_free(data_dir);
    return rc;
}
