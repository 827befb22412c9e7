/*
 * test_cl_single.c: one replica gives the same bytes as the engine did before
 * the fleet layer existed.
 *
 * tests/single-replica/cases lists simulations (a name and the servesim
 * arguments); tests/single-replica/expected.sha256 holds the SHA-256 of every
 * output the binary wrote for them before the cluster layer drove the engine
 * (stdout, --output-json, --output-requests, --output-timeseries,
 * --output-itl), and NAME.stdout and NAME.json hold the two small ones in
 * full so that a difference can be read. Each case runs twice: as written,
 * and as an explicit fleet of one (--data-parallel-size 1): both must match
 * byte for byte.
 *
 * When a change is meant to alter what one replica prints (a new summary
 * line, a step-model change), record the outputs again with the binary that
 * has the change and say why in the commit:
 *   tests/single-replica/capture.sh build/cli/servesim
 */
#include <glib/gstdio.h>
#include <sys/wait.h>

#include "ss_test.h"

static char *case_dir(void)
{
    return g_build_filename(ss_test_source_dir(), "tests", "single-replica", NULL);
}

/* expected.sha256 as file name -> digest. */
static GHashTable *load_expected(void)
{
    char *dir = case_dir();
    char *path = g_build_filename(dir, "expected.sha256", NULL);
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(path, &text, NULL, NULL));
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char **f = g_strsplit_set(*l, " ", -1);
        /* "DIGEST  NAME" */
        if (f[0] && strlen(f[0]) == 64) {
            const char *name = NULL;
            for (char **p = f + 1; *p; p++)
                if (**p)
                    name = *p;
            if (name)
                g_hash_table_insert(h, g_strdup(name), g_strdup(f[0]));
        }
        g_strfreev(f);
    }
    g_strfreev(lines);
    g_free(text);
    g_free(path);
    g_free(dir);
    return h;
}

/* The SHA-256 of a file with the source tree's absolute path (which the
 * workload line of a trace replay names) removed, so that the recorded
 * outputs hold wherever the tree is checked out (capture.sh does the same). */
static char *file_digest(const char *path)
{
    char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, NULL))
        return NULL;
    char *prefix = g_strdup_printf("%s/", ss_test_source_dir());
    GString *s = g_string_new_len(data, (gssize)len);
    g_string_replace(s, prefix, "", 0);
    char *d = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)s->str, s->len);
    g_string_free(s, TRUE);
    g_free(prefix);
    g_free(data);
    return d;
}

/* Runs one case (extra: arguments appended, may be NULL); compares every output. */
static void run_case(const char *name, const char *args, const char *extra, GHashTable *expected)
{
    char *tmp = ss_test_tmpdir();
    static const char *const suffixes[] = {"stdout", "json", "requests.csv", "timeseries.csv", "itl.csv"};
    static const char *const flags[] = {NULL, "--output-json", "--output-requests", "--output-timeseries",
                                        "--output-itl"};
    char *paths[5];
    for (int i = 0; i < 5; i++) {
        char *file = g_strdup_printf("%s.%s", name, suffixes[i]);
        paths[i] = g_build_filename(tmp, file, NULL);
        g_free(file);
    }
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup(ss_test_binary()));
    char **words = g_strsplit_set(args, " \t", -1);
    for (char **w = words; *w; w++)
        if (**w)
            g_ptr_array_add(argv, g_strdup(*w));
    g_strfreev(words);
    if (extra) {
        words = g_strsplit(extra, " ", -1);
        for (char **w = words; *w; w++)
            g_ptr_array_add(argv, g_strdup(*w));
        g_strfreev(words);
    }
    for (int i = 1; i < 5; i++) {
        g_ptr_array_add(argv, g_strdup(flags[i]));
        g_ptr_array_add(argv, g_strdup(paths[i]));
    }
    g_ptr_array_add(argv, NULL);
    char *out = NULL, *err = NULL;
    int status = 0;
    GError *error = NULL;
    gboolean spawned = g_spawn_sync(ss_test_source_dir(), (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                    &out, &err, &status, &error);
    CU_ASSERT_FATAL(spawned);
    gboolean ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok)
        fprintf(stderr, "\n  case %s%s%s failed: %s\n", name, extra ? " with " : "", extra ? extra : "", err);
    CU_ASSERT(ok);
    CU_ASSERT(g_file_set_contents(paths[0], out, -1, NULL));
    for (int i = 0; i < 5; i++) {
        char *file = g_path_get_basename(paths[i]);
        const char *want = g_hash_table_lookup(expected, file);
        char *got = file_digest(paths[i]);
        gboolean same = want && got && strcmp(want, got) == 0;
        if (!same)
            fprintf(stderr, "\n  %s%s%s: %s differs from the recorded output (%s)\n", name, extra ? " with " : "",
                    extra ? extra : "", file,
                    i < 2 ? "compare with tests/single-replica/ and the file written by the case"
                          : "record the reference again only if the change is intended");
        CU_ASSERT(same);
        g_free(got);
        g_free(file);
    }
    g_ptr_array_free(argv, TRUE);
    for (int i = 0; i < 5; i++)
        g_free(paths[i]);
    g_free(out);
    g_free(err);
    g_free(tmp);
}

static void run_all(const char *extra)
{
    GHashTable *expected = load_expected();
    char *dir = case_dir();
    char *path = g_build_filename(dir, "cases", NULL);
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(path, &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    int n = 0;
    for (char **l = lines; *l; l++) {
        char *line = g_strstrip(*l);
        if (!*line || *line == '#')
            continue;
        char *sp = strpbrk(line, " \t");
        CU_ASSERT_FATAL(sp != NULL);
        *sp = '\0';
        run_case(line, sp + 1, extra, expected);
        n++;
    }
    CU_ASSERT(n >= 5);
    CU_ASSERT_EQUAL(g_hash_table_size(expected), (guint)n * 5);
    g_strfreev(lines);
    g_free(text);
    g_free(path);
    g_free(dir);
    g_hash_table_destroy(expected);
}

static void test_as_recorded(void)
{
    run_all(NULL);
}

static void test_fleet_of_one(void)
{
    run_all("--data-parallel-size 1 --router least-outstanding");
}

static const SsTestCase cases[] = {
    {"the recorded single-replica outputs", test_as_recorded},
    {"an explicit fleet of one replica", test_fleet_of_one},
    {NULL, NULL},
};

static const SsTestSuite suites[] = {
    {"single replica", cases},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ss_test_main(argc, argv, suites);
}
