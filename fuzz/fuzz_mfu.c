/*
 * fuzz_mfu.c: kernel tables (data/mfu, data/comm) through the latency
 * module's loader. The first input byte picks the table kind and file name
 * (a GEMM table, FP8 or BF16; an attention table for prefill or decode, named
 * by its shape; a grouped-GEMM table; an all-reduce table); the rest is the
 * CSV, loaded as the only table of a GPU "fz" in the harness's folder.
 */
#include <stdio.h>

#include "fz_common.h"
#include "lat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const files[] = {
        "mfu/gemm/fz/data.csv",
        "mfu/mha/prefill/fz/32-8-128.csv",
        "mfu/mha/decode/fz/32-8-128-tp1.csv",
        "mfu/grouped_gemm/decode/fz/data.csv",
        "mfu/mla/prefill/fz/128-128-64.csv",
        "mfu/gemm_bf16/fz/data.csv",
        "comm/allreduce/fz.csv",
    };
    static gboolean made;
    if (size < 1)
        return 0;
    if (!made) {
        for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
            char *dir = g_path_get_dirname(files[i]);
            char *full = g_build_filename(fz_dir(), dir, NULL);
            g_mkdir_with_parents(full, 0700);
            g_free(full);
            g_free(dir);
        }
        made = TRUE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) { /* only the chosen table exists */
        char *full = g_build_filename(fz_dir(), files[i], NULL);
        remove(full);
        g_free(full);
    }
    fz_write(files[data[0] % G_N_ELEMENTS(files)], data + 1, size - 1);
    GError *error = NULL;
    LatMfuDb *db = lat_mfu_db_load(fz_dir(), "fz", &error);
    if (!db)
        fz_check_error(error);
    else
        lat_mfu_db_free(db);
    return 0;
}
