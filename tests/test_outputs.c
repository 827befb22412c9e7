/*
 * test_outputs.c: output files are written whole or not at all, and every
 * output path is checked before the work starts (ss_output.h). Before, the
 * per-request, time-series and ITL files were opened at the start and left
 * half-written (an existing file replaced by a partial one) when the input
 * failed midway, and a bad --output-json path was reported only after the
 * whole simulation.
 */
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ss_error.h"
#include "ss_output.h"
#include "ss_test.h"

static char *read_text(const char *path)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return text;
}

/* The names in `dir` that start with a dot (temporary outputs). */
static guint hidden_files(const char *dir)
{
    guint n = 0;
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        n += name[0] == '.';
    if (d)
        g_dir_close(d);
    return n;
}

static void test_commit_and_abort(void)
{
    char *dir = ss_test_tmpdir();
    char *path = g_build_filename(dir, "out.csv", NULL);
    CU_ASSERT(g_file_set_contents(path, "precious\n", -1, NULL));
    GError *error = NULL;

    /* abort: the old file stays, nothing is left behind */
    SsOutput *o = ss_output_open(path, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    fputs("half of a fi", ss_output_stream(o));
    CU_ASSERT_EQUAL(hidden_files(dir), 1); /* the temporary file, next to the destination */
    ss_output_abort(o);
    char *text = read_text(path);
    CU_ASSERT_STRING_EQUAL(text, "precious\n");
    g_free(text);
    CU_ASSERT_EQUAL(hidden_files(dir), 0);

    /* commit: replaced whole */
    o = ss_output_open(path, &error);
    fputs("a,b\n1,2\n", ss_output_stream(o));
    CU_ASSERT(ss_output_commit(o, &error));
    text = read_text(path);
    CU_ASSERT_STRING_EQUAL(text, "a,b\n1,2\n");
    g_free(text);
    CU_ASSERT_EQUAL(hidden_files(dir), 0);

    /* the mode a plain fopen would give (0666 minus the umask) */
    mode_t old = umask(022);
    char *fresh = g_build_filename(dir, "fresh.txt", NULL);
    CU_ASSERT(ss_output_write_text(fresh, "x", &error));
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(stat(fresh, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0644);
    umask(old);

    /* a symbolic link: its target is replaced, the link stays */
    char *target = g_build_filename(dir, "target.txt", NULL);
    char *link = g_build_filename(dir, "link.txt", NULL);
    CU_ASSERT(g_file_set_contents(target, "old", -1, NULL));
    CU_ASSERT_EQUAL(symlink(target, link), 0);
    CU_ASSERT(ss_output_write_text(link, "new", &error));
    CU_ASSERT(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
    text = read_text(target);
    CU_ASSERT_STRING_EQUAL(text, "new");
    g_free(text);

    /* a device is written through */
    CU_ASSERT(ss_output_write_text("/dev/null", "discarded", &error));

    /* paths that cannot be written fail when opened, naming the path */
    char *missing = g_build_filename(dir, "no", "such", "folder", "x.csv", NULL);
    CU_ASSERT_PTR_NULL(ss_output_open(missing, &error));
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT_EQUAL(error->code, SS_ERROR_INPUT);
    SS_ASSERT_CONTAINS(error->message, "x.csv: cannot write: No such file or directory");
    g_clear_error(&error);
    CU_ASSERT_PTR_NULL(ss_output_open(dir, &error));
    SS_ASSERT_CONTAINS(error->message, "cannot write: it is a folder");
    g_clear_error(&error);
    /* a write that fails (a full device) is reported by the commit */
    o = ss_output_open("/dev/full", &error);
    if (o) {
        for (int i = 0; i < 10000; i++)
            fputs("0123456789", ss_output_stream(o));
        CU_ASSERT(!ss_output_commit(o, &error));
        SS_ASSERT_CONTAINS(error->message, "/dev/full: write failed");
        g_clear_error(&error);
    }
    g_free(missing);
    g_free(target);
    g_free(link);
    g_free(fresh);
    g_free(path);
    g_free(dir);
}

/* A trace whose row 1502 is bad: the run fails midway, after rows of
 * output. Existing output files keep their contents; no partial file and no
 * temporary file is left. */
static void test_failure_midway_keeps_old_files(void)
{
    GString *trace = g_string_new("arrival_time_s,input_tokens,output_tokens\n");
    for (int i = 0; i < 1500; i++)
        g_string_append_printf(trace, "%.2f,100,10\n", i * 0.01);
    g_string_append(trace, "15.0,100,oops\n");
    char *trace_path = ss_test_write_file("late-bad-row.csv", trace->str);
    g_string_free(trace, TRUE);
    char *dir = ss_test_tmpdir();
    const char *names[] = {"r.csv", "ts.csv", "itl.csv", "out.json"};
    char *paths[G_N_ELEMENTS(names)];
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        paths[i] = g_build_filename(dir, names[i], NULL);
        CU_ASSERT(g_file_set_contents(paths[i], "precious\n", -1, NULL));
    }
    const char *args[] = {"replay", trace_path, "--output-requests", paths[0], "--output-timeseries", paths[1],
                          "--output-itl", paths[2], "--output-json", paths[3], NULL};
    char *err = NULL;
    int rc = ss_test_run_servesim(args, NULL, &err);
    CU_ASSERT_EQUAL(rc, 3);
    SS_ASSERT_CONTAINS(err, "late-bad-row.csv:1502:3: column 'output_tokens'");
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        char *text = read_text(paths[i]);
        CU_ASSERT_STRING_EQUAL(text, "precious\n");
        g_free(text);
        g_free(paths[i]);
    }
    CU_ASSERT_EQUAL(hidden_files(dir), 0);
    g_free(err);
    g_free(dir);
    g_free(trace_path);
}

/* Every output path is checked before the simulation: no summary is printed
 * and no other output is written when one path is bad. */
static void test_paths_checked_first(void)
{
    char *dir = ss_test_tmpdir();
    char *requests = g_build_filename(dir, "r.csv", NULL);
    char *bad_json = g_build_filename(dir, "missing", "out.json", NULL);
    const char *run[] = {"run", "--output-requests", requests, "--output-json", bad_json, NULL};
    char *out = NULL, *err = NULL;
    int rc = ss_test_run_servesim(run, &out, &err);
    CU_ASSERT_EQUAL(rc, 3);
    SS_ASSERT_CONTAINS(err, "out.json: cannot write");
    CU_ASSERT_PTR_NULL(strstr(out, "requests")); /* no summary: nothing ran */
    CU_ASSERT_PTR_NULL(strstr(err, "simulated in"));
    CU_ASSERT(!g_file_test(requests, G_FILE_TEST_EXISTS));
    g_free(out);
    g_free(err);

    /* the plan's report folder, before the search */
    char *plan = g_build_filename(ss_test_source_dir(), "tests", "bad-input", "plan", "small.json", NULL);
    char *blocked = g_build_filename(requests, "report", NULL); /* under a file that is not a folder */
    CU_ASSERT(g_file_set_contents(requests, "a file\n", -1, NULL));
    const char *plan_args[] = {"plan", plan, "--output-dir", blocked, NULL};
    rc = ss_test_run_servesim(plan_args, &out, &err);
    CU_ASSERT_EQUAL(rc, 3);
    SS_ASSERT_CONTAINS(err, "cannot create the report folder");
    CU_ASSERT_PTR_NULL(strstr(out, "rank")); /* the search did not run */
    CU_ASSERT_PTR_NULL(strstr(err, "simulations of"));
    g_free(out);
    g_free(err);

    /* the sweep's rows, before the points run */
    char *sweep = g_build_filename(ss_test_source_dir(), "tests", "bad-input", "sweep", "small.json", NULL);
    const char *sweep_args[] = {"sweep", sweep, "--output", bad_json, NULL};
    rc = ss_test_run_servesim(sweep_args, &out, &err);
    CU_ASSERT_EQUAL(rc, 3);
    SS_ASSERT_CONTAINS(err, "out.json: cannot write");
    CU_ASSERT_PTR_NULL(strstr(err, "points run"));
    g_free(out);
    g_free(err);

    /* and a successful run writes every file whole, with no temporary file left */
    char *json = g_build_filename(dir, "ok.json", NULL);
    char *ts = g_build_filename(dir, "ts.csv", NULL);
    const char *ok_args[] = {"run", "--num-requests", "50", "--output-requests", requests, "--output-json", json,
                             "--output-timeseries", ts, "--timeseries-interval", "0.5", NULL};
    rc = ss_test_run_servesim(ok_args, NULL, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    char *text = read_text(requests);
    guint lines = 0;
    for (const char *p = text; p && *p; p++)
        lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, 51);
    g_free(text);
    CU_ASSERT(g_file_test(json, G_FILE_TEST_IS_REGULAR) && g_file_test(ts, G_FILE_TEST_IS_REGULAR));
    CU_ASSERT_EQUAL(hidden_files(dir), 0);
    g_free(json);
    g_free(ts);
    g_free(sweep);
    g_free(blocked);
    g_free(plan);
    g_free(bad_json);
    g_free(requests);
    g_free(dir);
}

static const SsTestCase cases[] = {
    {"commit replaces whole, abort keeps the old file", test_commit_and_abort},
    {"a run failing midway leaves existing outputs as they were", test_failure_midway_keeps_old_files},
    {"output paths are checked before the work", test_paths_checked_first},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"outputs", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
