/*
 * cmd_merge.c: `servesim merge SLICE... [--output FILE]`: joins the outputs
 * of `servesim sweep --shard K/N` into exactly the file an unsharded run
 * writes (docs/sweeps.md).
 *
 * The slices are all CSV or all JSON (by extension) and the result has the
 * same format. Every slice must be of the same sweep (sweep_id), every
 * point must appear exactly once and none may be missing; otherwise nothing
 * is written and the exit code is 3. Cost: all slices are held in memory.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sw_sweep.h"
#include "scn_json.h"
#include "ss_error.h"
#include "ss_output.h"

int cmd_merge(int argc, char **argv)
{
    GOptionContext *ctx = g_option_context_new("SLICE... - join the slices of a sweep");
    g_option_context_set_summary(ctx,
        "Joins the outputs of 'servesim sweep --shard K/N' (all CSV or all JSON, in any order) into the\n"
        "file a single unsharded run writes, byte for byte. Checks that all slices come from the same\n"
        "sweep and that every point is present exactly once (exit code 3 otherwise).");
    char *output = NULL;
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the merged rows to FILE (default: stdout)", "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
    int rc = 0;
    GError *error = NULL;
    GPtrArray *parts = g_ptr_array_new_with_free_func((GDestroyNotify)sw_sweep_table_free);
    SwSweepTable *merged = NULL;
    SsOutput *out_file = NULL;
    char *text = NULL;
    if (!cli_parse(ctx, &argc, &argv, "merge", &rc))
        goto out;
    if (argc < 2) {
        fprintf(stderr, "servesim merge: error: expected the slice files to join\n(see 'servesim merge --help')\n");
        rc = 2;
        goto out;
    }
    gboolean json = sw_sweep_path_is_json(argv[1]);
    for (int i = 2; i < argc; i++) {
        if (sw_sweep_path_is_json(argv[i]) != json) {
            fprintf(stderr, "servesim merge: error: %s and %s: the slices must all be CSV or all be JSON (.json)\n",
                    argv[1], argv[i]);
            rc = 2;
            goto out;
        }
    }
    if (output && sw_sweep_path_is_json(output) != json) {
        fprintf(stderr, "servesim merge: error: --output %s: the merged file has the slices' format (%s); name it "
                        "accordingly\n",
                output, json ? "JSON, ending in .json" : "CSV, not ending in .json");
        rc = 2;
        goto out;
    }
    if (output && !(out_file = ss_output_open(output, &error))) { /* checked before reading */
        rc = cli_fail("merge", error);
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        SwSweepTable *t = sw_sweep_table_read(argv[i], &error);
        if (!t) {
            rc = cli_fail("merge", error);
            goto out;
        }
        g_ptr_array_add(parts, t);
    }
    merged = sw_sweep_table_merge((SwSweepTable *const *)parts->pdata, (const char *const *)argv + 1, parts->len,
                                  &error);
    if (!merged) {
        rc = cli_fail("merge", error);
        goto out;
    }
    text = json ? sw_sweep_table_json(merged) : sw_sweep_table_csv(merged);
    if (out_file) {
        fputs(text, ss_output_stream(out_file));
        if (!ss_output_commit(g_steal_pointer(&out_file), &error))
            rc = cli_fail("merge", error);
    } else if (fputs(text, stdout) == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "servesim merge: error: cannot write to stdout\n");
        rc = 3;
    }
out:
    ss_output_abort(out_file);
    g_option_context_free(ctx);
    g_free(text);
    sw_sweep_table_free(merged);
    g_ptr_array_free(parts, TRUE);
    g_free(output);
    return rc;
}
