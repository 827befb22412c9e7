/*
 * ss_test.c: the CUnit runner shared by the test programs.
 */
#include "ss_test.h"

#include <csv.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static GPtrArray *tmpdirs;

static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d) {
        const char *name;
        while ((name = g_dir_read_name(d))) {
            char *p = g_build_filename(path, name, NULL);
            if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
                remove_tree(p);
            else
                g_unlink(p);
            g_free(p);
        }
        g_dir_close(d);
    }
    g_rmdir(path);
}

static void cleanup_tmpdirs(void)
{
    if (!tmpdirs)
        return;
    for (guint i = 0; i < tmpdirs->len; i++)
        remove_tree(g_ptr_array_index(tmpdirs, i));
    g_ptr_array_free(tmpdirs, TRUE);
    tmpdirs = NULL;
}

char *ss_test_tmpdir(void)
{
    GError *error = NULL;
    char *dir = g_dir_make_tmp("servesim-test-XXXXXX", &error);
    if (!dir) {
        fprintf(stderr, "cannot make a temporary directory: %s\n", error->message);
        abort();
    }
    if (!tmpdirs) {
        tmpdirs = g_ptr_array_new_with_free_func(g_free);
        atexit(cleanup_tmpdirs);
    }
    g_ptr_array_add(tmpdirs, g_strdup(dir));
    return dir;
}

char *ss_test_write_file(const char *name, const char *text)
{
    char *dir = ss_test_tmpdir();
    char *path = g_build_filename(dir, name, NULL);
    g_free(dir);
    GError *error = NULL;
    if (!g_file_set_contents(path, text, -1, &error)) {
        fprintf(stderr, "cannot write %s: %s\n", path, error->message);
        abort();
    }
    return path;
}

const char *ss_test_data_dir(void)
{
    const char *env = g_getenv("SERVESIM_DATA_DIR");
    return env && *env ? env : SS_TEST_DATA_DIR;
}

const char *ss_test_source_dir(void) { return SS_TEST_SOURCE_DIR; }
const char *ss_test_binary(void) { return SS_TEST_BINARY; }

int ss_test_run_servesim(const char *const *args, char **out, char **err)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)ss_test_binary());
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    char *o = NULL, *e = NULL;
    int status = 0;
    GError *error = NULL;
    gboolean ok = g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e,
                               &status, &error);
    g_ptr_array_free(argv, TRUE);
    if (!ok) {
        fprintf(stderr, "cannot run %s: %s\n", ss_test_binary(), error->message);
        abort();
    }
    int code = -1;
    if (WIFEXITED(status))
        code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        code = 128 + WTERMSIG(status);
    if (out)
        *out = o;
    else
        g_free(o);
    if (err)
        *err = e;
    else
        g_free(e);
    return code;
}

typedef struct {
    GPtrArray *rows, *cur;
} CsvRead;

static void csv_read_field(void *s, size_t len, void *data)
{
    CsvRead *r = data;
    g_ptr_array_add(r->cur, g_strndup(s, len));
}

static void csv_read_row(int c, void *data)
{
    (void)c;
    CsvRead *r = data;
    g_ptr_array_add(r->cur, NULL);
    g_ptr_array_add(r->rows, g_ptr_array_free(r->cur, FALSE));
    r->cur = g_ptr_array_new();
}

GPtrArray *ss_test_read_csv(const char *path)
{
    char *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &text, &len, NULL))
        return NULL;
    struct csv_parser p;
    csv_init(&p, 0);
    CsvRead r = {g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev), g_ptr_array_new()};
    csv_parse(&p, text, len, csv_read_field, csv_read_row, &r);
    csv_fini(&p, csv_read_field, csv_read_row, &r);
    csv_free(&p);
    g_ptr_array_free(r.cur, TRUE);
    g_free(text);
    return r.rows;
}

int ss_test_main(int argc, char **argv, const SsTestSuite *suites)
{
    const char *only = argc > 1 ? argv[1] : NULL; /* optional: run one suite by name */
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (const SsTestSuite *s = suites; s->name; s++) {
        if (only && strcmp(only, s->name) != 0)
            continue;
        CU_pSuite suite = CU_add_suite(s->name, NULL, NULL);
        if (!suite)
            return 2;
        for (const SsTestCase *c = s->cases; c->name; c++)
            if (!CU_add_test(suite, c->name, c->fn))
                return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "no test ran\n");
        return 1;
    }
    return failures != 0 ? 1 : 0;
}
