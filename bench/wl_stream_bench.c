/*
 * wl_stream_bench.c: how fast a trace source streams, and proof that its
 * memory does not grow with the number of rows.
 *
 * Writes a trace of N rows (default 1,000,000) to a temporary file, then
 * streams it through wl_source_new_trace three ways: the Vidur-style columns
 * (one pass), servesim's own six columns with a class column (a first pass
 * names the classes, then the real pass), and the same rescaled to a target
 * rate. For each it prints rows/s and the process's peak resident memory
 * (VmHWM from /proc/self/status) before and after, next to a run over the
 * first 1% of the rows: equal peaks mean the memory is independent of rows.
 * Usage: wl_stream_bench [ROWS]. Limits: Linux (/proc); the file lives in the
 * temporary directory and is removed at the end.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl.h"

/* A "Vm...:" line of /proc/self/status in KiB, or -1. */
static long proc_status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            char *end = NULL;
            long v = strtol(line + klen + 1, &end, 10);
            if (end != line + klen + 1)
                kib = v;
            break;
        }
    }
    fclose(f);
    return kib;
}

/* Writes an N-row trace; `native`: servesim columns with groups and classes. */
static gboolean write_trace(const char *path, guint64 rows, gboolean native)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return FALSE;
    GRand *r = g_rand_new_with_seed(1);
    fputs(native ? "arrival_time_s,input_tokens,output_tokens,prefix_group,shared_prefix_tokens,class\n"
                 : "arrived_at,num_prefill_tokens,num_decode_tokens\n",
          f);
    static const char *const classes[] = {"chat", "code", "batch"};
    double t = 0.0;
    for (guint64 i = 0; i < rows; i++) {
        t += g_rand_double_range(r, 0.0, 0.2);
        guint in = (guint)g_rand_int_range(r, 600, 4000);
        guint out = (guint)g_rand_int_range(r, 1, 1000);
        if (native) {
            int g = g_rand_int_range(r, -1, 8);
            if (g < 0)
                fprintf(f, "%.6f,%u,%u,,0,%s\n", t, in, out, classes[i % 3]);
            else
                fprintf(f, "%.6f,%u,%u,%d,512,\"%s\"\n", t, in, out, g, classes[i % 3]);
        } else {
            fprintf(f, "%.6f,%u,%u\n", t, in, out);
        }
    }
    g_rand_free(r);
    return fclose(f) == 0;
}

/* Streams the trace; prints one line; returns FALSE on an error. */
static gboolean run(const char *label, const char *path, const WlTraceOptions *o)
{
    long hwm_before = proc_status_kib("VmHWM");
    gint64 t0 = g_get_monotonic_time();
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, o, &error);
    if (!src) {
        fprintf(stderr, "wl_stream_bench: %s\n", error->message);
        g_error_free(error);
        return FALSE;
    }
    WlRequest req;
    guint64 n = 0, tokens = 0;
    int got;
    while ((got = wl_source_next(src, &req, &error)) == 1) {
        n++;
        tokens += req.input_tokens;
    }
    double secs = (double)(g_get_monotonic_time() - t0) / 1e6;
    if (got < 0) {
        fprintf(stderr, "wl_stream_bench: %s\n", error->message);
        g_error_free(error);
        wl_source_free(src);
        return FALSE;
    }
    long hwm_after = proc_status_kib("VmHWM");
    printf("%-38s %9" G_GUINT64_FORMAT " rows  %6.3f s  %10.0f rows/s  VmHWM %6ld -> %6ld KiB"
           "  (last arrival %.1f s, %u classes)\n",
           label, n, secs, (double)n / secs, hwm_before, hwm_after,
           sim_time_to_seconds(req.arrival), wl_source_num_classes(src));
    (void)tokens;
    wl_source_free(src);
    return TRUE;
}

int main(int argc, char **argv)
{
    guint64 rows = 1000000;
    if (argc > 1) {
        char *end = NULL;
        guint64 v = g_ascii_strtoull(argv[1], &end, 10);
        if (!end || *end || v == 0) {
            fprintf(stderr, "usage: wl_stream_bench [ROWS]\n");
            return 2;
        }
        rows = v;
    }
    GError *error = NULL;
    char *dir = g_dir_make_tmp("wl-stream-bench-XXXXXX", &error);
    if (!dir) {
        fprintf(stderr, "wl_stream_bench: %s\n", error->message);
        return 1;
    }
    char *vidur = g_build_filename(dir, "vidur.csv", NULL);
    char *native = g_build_filename(dir, "native.csv", NULL);
    int rc = 0;
    printf("writing two %" G_GUINT64_FORMAT "-row traces to %s\n", rows, dir);
    if (!write_trace(vidur, rows, FALSE) || !write_trace(native, rows, TRUE)) {
        fprintf(stderr, "wl_stream_bench: cannot write the traces\n");
        rc = 1;
        goto out;
    }
    GStatBuf st;
    if (g_stat(vidur, &st) == 0)
        printf("vidur.csv %.1f MiB", (double)st.st_size / 1048576.0);
    if (g_stat(native, &st) == 0)
        printf(", native.csv %.1f MiB\n", (double)st.st_size / 1048576.0);
    printf("VmHWM at start: %ld KiB, VmRSS %ld KiB\n", proc_status_kib("VmHWM"),
           proc_status_kib("VmRSS"));

    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.limit = rows / 100 > 0 ? rows / 100 : 1;
    char label[64];
    g_snprintf(label, sizeof label, "vidur, first %" G_GUINT64_FORMAT " rows", o.limit);
    if (!run(label, vidur, &o))
        rc = 1;
    o.limit = 0;
    if (rc == 0 && !run("vidur, all rows (1 pass)", vidur, &o))
        rc = 1;
    if (rc == 0 && !run("servesim+class, all (2 passes)", native, &o))
        rc = 1;
    o.rate = 25.0;
    if (rc == 0 && !run("servesim+class, --rate 25 (2 passes)", native, &o))
        rc = 1;
    printf("VmHWM at end: %ld KiB\n", proc_status_kib("VmHWM"));
out:
    g_unlink(vidur);
    g_unlink(native);
    g_rmdir(dir);
    g_free(vidur);
    g_free(native);
    g_free(dir);
    return rc;
}
