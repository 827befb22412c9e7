/*
 * test_cli_sweep.c: `servesim sweep` and `servesim merge` as a user runs
 * them: the same bytes with 1, 2 and 4 jobs; a point's row equal to a sweep
 * of that point alone; slices merged in any order byte-identical to the
 * unsharded run (CSV and JSON); merge errors (missing slice, duplicate
 * point, another sweep) with exit code 3; usage errors with exit code 2;
 * invalid combinations as error rows; and the GNU parallel path of
 * scripts/sweep-gnu-parallel.sh when GNU parallel is installed.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ss_test.h"

/* Llama-3.1-70B on H100: TP 1 does not fit; 200 chat requests per point. */
#define GRID_BASE                                                                                                  \
    "\"base\": {\"model\": \"llama-3.1-70b-instruct\", \"hardware\": \"H100-SXM\", \"seed\": 11, \"engine\": "    \
    "{\"max_model_len\": 8192}, \"workload\": {\"num_requests\": 200, \"arrival\": {\"process\": \"poisson\", "    \
    "\"rate\": 4}, \"classes\": [{\"name\": \"chat\", \"share\": 1, \"input\": {\"dist\": \"lognormal\", "         \
    "\"mean\": 800, \"stddev\": 700, \"min\": 4, \"max\": 6000}, \"output\": {\"dist\": \"lognormal\", "           \
    "\"mean\": 150, \"stddev\": 120, \"min\": 1, \"max\": 1000}}]}}"

static char *dir;         /* the temporary folder of this program */
static char *grid_path;   /* 8 points: TP [1, 2, 4, 8] x max_num_seqs [32, 128] */

static void setup(void)
{
    if (dir)
        return;
    dir = ss_test_tmpdir();
    grid_path = g_build_filename(dir, "grid.json", NULL);
    const char *grid = "{\"name\": \"cli-grid\", " GRID_BASE ", \"axes\": {\"tensor_parallel_size\": [1, 2, 4, 8], "
                       "\"max_num_seqs\": [32, 128]}}";
    CU_ASSERT_FATAL(g_file_set_contents(grid_path, grid, -1, NULL));
}

static char *path_in_dir(const char *name)
{
    return g_build_filename(dir, name, NULL);
}

static char *read_file(const char *path)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        fprintf(stderr, "\n  cannot read %s\n", path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    return text;
}

/* Runs servesim; asserts the exit code; returns stdout (g_free), stderr in *err if asked. */
static char *servesim(int code, char **err, const char *const *args)
{
    char *out = NULL, *e = NULL;
    int rc = ss_test_run_servesim(args, &out, &e);
    if (rc != code)
        fprintf(stderr, "\n  servesim %s ...: exit %d, expected %d; stderr: %s\n", args[0], rc, code, e);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT(e && !strstr(e, "AddressSanitizer") && !strstr(e, "runtime error"));
    if (err)
        *err = e;
    else
        g_free(e);
    return out;
}

/* The line of a CSV text that starts with "N," (ok rows hold no quoted fields). */
static char *csv_line(const char *csv, guint point)
{
    char *prefix = g_strdup_printf("\n%u,", point);
    const char *p = strstr(csv, prefix);
    g_free(prefix);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    p++;
    const char *end = strchr(p, '\n');
    return g_strndup(p, (gsize)(end - p));
}

/* A row without its first field (point) and last two (sweep_id, sweep_points). */
static char *row_body(const char *line)
{
    const char *start = strchr(line, ',') + 1;
    const char *end = strrchr(line, ',');
    while (end > start && *--end != ',')
        ;
    return g_strndup(start, (gsize)(end - start));
}

static guint count_lines(const char *text)
{
    guint n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* --jobs 1, 2, 4 give the same bytes; stderr has no progress when it is not a terminal. */
static void test_jobs_independent(void)
{
    setup();
    char *err = NULL;
    char *j1 = servesim(0, &err, (const char *[]){"sweep", grid_path, "--jobs", "1", NULL});
    CU_ASSERT_PTR_NULL(strchr(err, '\r'));
    CU_ASSERT_PTR_NULL(strstr(err, "ETA"));
    SS_ASSERT_CONTAINS(err, "cli-grid: 8 points run, 6 ok, 2 error");
    char *j2 = servesim(0, NULL, (const char *[]){"sweep", grid_path, "--jobs", "2", NULL});
    char *j4 = servesim(0, NULL, (const char *[]){"sweep", grid_path, "-j", "4", "--quiet", NULL});
    CU_ASSERT_STRING_EQUAL(j1, j2);
    CU_ASSERT_STRING_EQUAL(j1, j4);
    CU_ASSERT_EQUAL(count_lines(j1), 9);
    CU_ASSERT(g_str_has_prefix(j1, "point,tensor_parallel_size,max_num_seqs,status,error,arrived,completed,"));
    /* JSON too, through --output */
    char *p1 = path_in_dir("j1.json"), *p4 = path_in_dir("j4.json");
    g_free(servesim(0, NULL, (const char *[]){"sweep", grid_path, "--jobs", "1", "--output", p1, NULL}));
    g_free(servesim(0, NULL, (const char *[]){"sweep", grid_path, "--jobs", "4", "-o", p4, NULL}));
    char *a = read_file(p1), *b = read_file(p4);
    CU_ASSERT_STRING_EQUAL(a, b);
    SS_ASSERT_CONTAINS(a, "\"schema\":\t\"servesim.sweep/1\"");
    SS_ASSERT_CONTAINS(a, "\"sweep_points\":\t8");
    g_free(a);
    g_free(b);
    g_free(p1);
    g_free(p4);
    g_free(err);
    g_free(j1);
    g_free(j2);
    g_free(j4);
}

/* A point's row is the row of a sweep holding only that point; TP 1 rows are errors. */
static void test_point_alone_and_errors(void)
{
    setup();
    char *grid = servesim(0, NULL, (const char *[]){"sweep", grid_path, NULL});
    char *one_path = path_in_dir("one.json");
    const char *one = "{\"name\": \"cli-one\", " GRID_BASE ", \"axes\": {\"tensor_parallel_size\": [4], "
                      "\"max_num_seqs\": [128]}}";
    CU_ASSERT_FATAL(g_file_set_contents(one_path, one, -1, NULL));
    char *alone = servesim(0, NULL, (const char *[]){"sweep", one_path, NULL});
    CU_ASSERT_EQUAL(count_lines(alone), 2);
    char *l5 = csv_line(grid, 5), *l0 = csv_line(alone, 0);
    CU_ASSERT(g_str_has_prefix(l5, "5,4,128,ok,,200,200,"));
    char *b5 = row_body(l5), *b0 = row_body(l0);
    CU_ASSERT_STRING_EQUAL(b5, b0);
    CU_ASSERT(strlen(b5) > 300);
    g_free(b5);
    g_free(b0);
    g_free(l5);
    g_free(l0);
    /* TP 1 (points 0 and 1) cannot hold the 70B weights */
    for (guint p = 0; p < 2; p++) {
        char *prefix = g_strdup_printf("\n%u,1,%s,error,\"model 'llama-3.1-70b-instruct' does not fit on H100-SXM", p,
                                       p ? "128" : "32");
        SS_ASSERT_CONTAINS(grid, prefix);
        g_free(prefix);
    }
    g_free(grid);
    g_free(alone);
    g_free(one_path);
}

/* Writes slices K/3 in the format of `ext`; returns their paths (g_strfreev). */
static char **write_slices(const char *ext)
{
    char **paths = g_new0(char *, 4);
    for (guint k = 1; k <= 3; k++) {
        char *name = g_strdup_printf("part%u.%s", k, ext);
        paths[k - 1] = path_in_dir(name);
        char *shard = g_strdup_printf("%u/3", k);
        g_free(servesim(0, NULL, (const char *[]){"sweep", grid_path, "--shard", shard, "-o", paths[k - 1], NULL}));
        g_free(shard);
        g_free(name);
    }
    return paths;
}

static void check_shard_merge(const char *ext)
{
    setup();
    char *single_name = g_strdup_printf("single.%s", ext), *merged_name = g_strdup_printf("merged.%s", ext);
    char *single = path_in_dir(single_name), *merged = path_in_dir(merged_name);
    g_free(servesim(0, NULL, (const char *[]){"sweep", grid_path, "--jobs", "2", "-o", single, NULL}));
    char **parts = write_slices(ext);
    char *want = read_file(single);
    /* slice 3 of 8 points holds 2 and 5; each slice has its own rows only */
    char *p3 = read_file(parts[2]);
    if (strcmp(ext, "csv") == 0) {
        CU_ASSERT_EQUAL(count_lines(p3), 3);
        CU_ASSERT_PTR_NOT_NULL(strstr(p3, "\n2,2,32,"));
        CU_ASSERT_PTR_NOT_NULL(strstr(p3, "\n5,4,128,"));
    } else {
        SS_ASSERT_CONTAINS(p3, "\"shard\":\t\"3/3\"");
    }
    g_free(p3);
    const int orders[3][3] = {{0, 1, 2}, {2, 0, 1}, {1, 2, 0}};
    for (int o = 0; o < 3; o++) {
        g_remove(merged);
        g_free(servesim(0, NULL, (const char *[]){"merge", parts[orders[o][0]], parts[orders[o][1]],
                                                  parts[orders[o][2]], "--output", merged, NULL}));
        char *got = read_file(merged);
        CU_ASSERT_STRING_EQUAL(got, want);
        g_free(got);
    }
    /* to stdout */
    char *out = servesim(0, NULL, (const char *[]){"merge", parts[1], parts[2], parts[0], NULL});
    CU_ASSERT_STRING_EQUAL(out, want);
    g_free(out);
    g_free(want);
    g_strfreev(parts);
    g_free(single);
    g_free(merged);
    g_free(single_name);
    g_free(merged_name);
}

static void test_shard_merge_csv(void)
{
    check_shard_merge("csv");
}

static void test_shard_merge_json(void)
{
    check_shard_merge("json");
}

static void test_merge_errors(void)
{
    setup();
    for (int f = 0; f < 2; f++) {
        const char *ext = f ? "json" : "csv";
        char **parts = write_slices(ext);
        char *err = NULL;
        /* slice 2 missing: points 1, 4, 7 */
        g_free(servesim(3, &err, (const char *[]){"merge", parts[0], parts[2], NULL}));
        SS_ASSERT_CONTAINS(err, "missing from");
        SS_ASSERT_CONTAINS(err, parts[0]);
        SS_ASSERT_CONTAINS(err, "1, 4, 7 (3 points)");
        g_free(err);
        /* slice 1 twice */
        g_free(servesim(3, &err, (const char *[]){"merge", parts[0], parts[1], parts[2], parts[0], NULL}));
        SS_ASSERT_CONTAINS(err, "duplicate points (3)");
        char *dup = g_strdup_printf("point 0 in %s and in %s", parts[0], parts[0]);
        SS_ASSERT_CONTAINS(err, dup);
        g_free(dup);
        g_free(err);
        /* a slice of another sweep (same columns and base, another name) */
        char *other_path = path_in_dir("other.json");
        const char *other_text = "{\"name\": \"cli-grid-2\", " GRID_BASE ", \"axes\": {\"tensor_parallel_size\": "
                                 "[1, 2, 4, 8], \"max_num_seqs\": [32, 128]}}";
        CU_ASSERT_FATAL(g_file_set_contents(other_path, other_text, -1, NULL));
        char *other_part = g_strdup_printf("%s/other2.%s", dir, ext);
        g_free(servesim(0, NULL, (const char *[]){"sweep", other_path, "--shard", "2/3", "-o", other_part, NULL}));
        g_free(servesim(3, &err, (const char *[]){"merge", parts[0], other_part, parts[2], NULL}));
        SS_ASSERT_CONTAINS(err, other_part);
        SS_ASSERT_CONTAINS(err, "slices of different sweeps");
        g_free(err);
        g_free(other_part);
        g_free(other_path);
        /* output in another format than the slices */
        char *wrong = g_strdup_printf("%s/m.%s", dir, f ? "csv" : "json");
        g_free(servesim(2, &err, (const char *[]){"merge", parts[0], parts[1], parts[2], "-o", wrong, NULL}));
        SS_ASSERT_CONTAINS(err, "format");
        CU_ASSERT_FALSE(g_file_test(wrong, G_FILE_TEST_EXISTS));
        g_free(err);
        g_free(wrong);
        g_strfreev(parts);
    }
    char *err = NULL;
    /* mixed formats, nothing to merge, a file that is not a sweep's output */
    char *a = path_in_dir("part1.csv"), *b = path_in_dir("part2.json");
    g_free(servesim(2, &err, (const char *[]){"merge", a, b, NULL}));
    SS_ASSERT_CONTAINS(err, "all be CSV or all be JSON");
    g_free(err);
    g_free(servesim(2, NULL, (const char *[]){"merge", NULL}));
    char *foreign = ss_test_write_file("foreign.csv", "x,y\n1,2\n");
    g_free(servesim(3, &err, (const char *[]){"merge", foreign, NULL}));
    SS_ASSERT_CONTAINS(err, "foreign.csv: no column 'point'");
    g_free(err);
    g_free(servesim(3, &err, (const char *[]){"merge", "/nonexistent/p.csv", NULL}));
    SS_ASSERT_CONTAINS(err, "/nonexistent/p.csv");
    g_free(err);
    g_free(foreign);
    g_free(a);
    g_free(b);
}

static void test_usage_and_input_errors(void)
{
    setup();
    struct {
        const char *args[8];
        int code;
        const char *needle;
    } cases[] = {
        {{"sweep", "@", "--shard", "4/3", NULL}, 2, "--shard: expected K/N with 1 <= K <= N"},
        {{"sweep", "@", "--shard", "0/3", NULL}, 2, "got '0/3'"},
        {{"sweep", "@", "--shard", "two", NULL}, 2, "--shard"},
        {{"sweep", "@", "--jobs", "0", NULL}, 2, "--jobs"},
        {{"sweep", "@", "--jobs", "many", NULL}, 2, "--jobs"},
        {{"sweep", "@", "--format", "xml", NULL}, 2, "--format"},
        {{"sweep", NULL}, 2, "expected one sweep file"},
        {{"sweep", "@", "@", NULL}, 2, "expected one sweep file"},
        {{"sweep", "@", "--no-such-flag", NULL}, 2, "no-such-flag"},
        {{"sweep", "/nonexistent/s.json", NULL}, 3, "/nonexistent/s.json"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *args[8];
        size_t k = 0;
        for (; cases[i].args[k]; k++)
            args[k] = strcmp(cases[i].args[k], "@") == 0 ? grid_path : cases[i].args[k];
        args[k] = NULL;
        char *err = NULL;
        char *out = servesim(cases[i].code, &err, args);
        CU_ASSERT_STRING_EQUAL(out, "");
        SS_ASSERT_CONTAINS(err, cases[i].needle);
        g_free(out);
        g_free(err);
    }
    /* sweep file errors name the file and path, exit 3 */
    struct {
        const char *text, *needle;
    } files[] = {
        {"{\"axes\": {\"max_num_seq\": [1, 2]}}", "bad.json: axes.max_num_seq: unknown scenario field"},
        {"{\"axes\": {\"rate\": []}}", "bad.json: axes.rate: empty list"},
        {"{\"zip\": [{\"hardware\": [\"H100-SXM\"], \"tensor_parallel_size\": [1, 2]}]}",
         "bad.json: zip[0].tensor_parallel_size: has 2 values but zip[0].hardware has 1"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        char *path = ss_test_write_file("bad.json", files[i].text);
        char *err = NULL;
        g_free(servesim(3, &err, (const char *[]){"sweep", path, NULL}));
        SS_ASSERT_CONTAINS(err, files[i].needle);
        g_free(err);
        g_free(path);
    }
}

/* --dry-run lists the points of the slice with what the build found. */
static void test_dry_run(void)
{
    setup();
    char *out = servesim(0, NULL, (const char *[]){"sweep", grid_path, "--dry-run", "--shard", "1/2", "-q", NULL});
    CU_ASSERT(g_str_has_prefix(out, "point,tensor_parallel_size,max_num_seqs,status,error,num_gpu_blocks,"
                                    "latency_backend,latency_basis,sweep_id,sweep_points\n0,1,32,error,"));
    CU_ASSERT_EQUAL(count_lines(out), 5); /* points 0, 2, 4, 6 */
    SS_ASSERT_CONTAINS(out, "\n2,2,32,ok,,");
    SS_ASSERT_CONTAINS(out, "\n6,8,32,ok,,");
    CU_ASSERT_PTR_NULL(strstr(out, "ttft"));
    g_free(out);
}

/* --output through a device or a symbolic link writes through it (never
 * replaces it); --format json on stdout. */
static void test_output_targets(void)
{
    setup();
    char *want = servesim(0, NULL, (const char *[]){"sweep", grid_path, "-q", NULL});
    char *dev = servesim(0, NULL, (const char *[]){"sweep", grid_path, "-q", "--output", "/dev/stdout", NULL});
    CU_ASSERT_STRING_EQUAL(dev, want);
    g_free(dev);
    char *real = path_in_dir("real.csv"), *link = path_in_dir("link.csv");
    CU_ASSERT_FATAL(symlink(real, link) == 0);
    g_free(servesim(0, NULL, (const char *[]){"sweep", grid_path, "-q", "--output", link, NULL}));
    CU_ASSERT(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
    char *got = read_file(real);
    CU_ASSERT_STRING_EQUAL(got, want);
    g_free(got);
    char *json = servesim(0, NULL, (const char *[]){"sweep", grid_path, "-q", "--format", "json", NULL});
    CU_ASSERT(g_str_has_prefix(json, "{\n\t\"schema\":\t\"servesim.sweep/1\""));
    g_free(json);
    g_free(servesim(3, NULL, (const char *[]){"sweep", grid_path, "-q", "--output", "/nonexistent/dir/x.csv", NULL}));
    g_free(real);
    g_free(link);
    g_free(want);
}

/* scripts/sweep-gnu-parallel.sh: slices through GNU parallel, merged, equal to one run. */
static void test_gnu_parallel(void)
{
    setup();
    char *version = NULL;
    gboolean have = g_spawn_command_line_sync("parallel --version", &version, NULL, NULL, NULL) && version &&
                    strstr(version, "GNU parallel");
    g_free(version);
    if (!have) {
        printf("\n  notice: GNU parallel is not on PATH (Debian package 'parallel'): GNU parallel test skipped\n");
        return;
    }
    char *script = g_build_filename(ss_test_source_dir(), "scripts", "sweep-gnu-parallel.sh", NULL);
    char *out_dir = path_in_dir("gnu parallel"); /* a blank in the path on purpose */
    const char *argv[] = {"sh", script, grid_path, "3", out_dir, "csv", NULL};
    char **env = g_environ_setenv(g_get_environ(), "SERVESIM", ss_test_binary(), TRUE);
    char *out = NULL, *err = NULL;
    int status = -1;
    GError *error = NULL;
    gboolean ran = g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                                &error);
    CU_ASSERT_FATAL(ran);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "\n  the script failed: %s%s\n", out, err);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    SS_ASSERT_CONTAINS(out, "ok: 3 slices merged");
    char *merged_path = g_build_filename(out_dir, "merged.csv", NULL);
    char *single_path = g_build_filename(out_dir, "single.csv", NULL);
    char *merged = read_file(merged_path), *single = read_file(single_path);
    CU_ASSERT_STRING_EQUAL(merged, single);
    CU_ASSERT_EQUAL(count_lines(merged), 9);
    for (guint k = 1; k <= 3; k++) {
        char *name = g_strdup_printf("part%u.csv", k);
        char *p = g_build_filename(out_dir, name, NULL);
        CU_ASSERT(g_file_test(p, G_FILE_TEST_IS_REGULAR));
        g_free(p);
        g_free(name);
    }
    g_free(merged);
    g_free(single);
    g_free(merged_path);
    g_free(single_path);
    g_free(out);
    g_free(err);
    g_strfreev(env);
    g_free(out_dir);
    g_free(script);
}

static const SsTestCase sweep_cases[] = {
    {"--jobs 1, 2 and 4 give the same bytes", test_jobs_independent},
    {"a point's row equals a sweep of that point alone; TP 1 is an error row", test_point_alone_and_errors},
    {"slices 1/3, 2/3, 3/3 merge into the unsharded CSV", test_shard_merge_csv},
    {"slices 1/3, 2/3, 3/3 merge into the unsharded JSON", test_shard_merge_json},
    {"merge errors: missing, duplicate, other sweep (exit 3)", test_merge_errors},
    {"usage errors (exit 2) and sweep file errors (exit 3)", test_usage_and_input_errors},
    {"--dry-run", test_dry_run},
    {"--output through a device or a link; --format json", test_output_targets},
    {"GNU parallel path (scripts/sweep-gnu-parallel.sh)", test_gnu_parallel},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const SsTestSuite suites[] = {
        {"sweep and merge commands", sweep_cases},
        {NULL, NULL},
    };
    int rc = ss_test_main(argc, argv, suites);
    g_free(grid_path);
    g_free(dir);
    return rc;
}
