/*
 * test_bad_input.c: the bad-input corpus (tests/bad-input/cases.ini): every
 * case is a servesim command on a malformed file, flag or output path, with
 * the exit code and a substring of the message it must give. A case also
 * fails when the command crashes, runs past the time limit (a hang), prints
 * a sanitizer report (the suite runs under ASan and UBSan in CI), or leaves
 * behind a path it lists as `absent` (partial output). One test per input
 * kind, and checks of the corpus itself: at least 60 cases, every kind
 * present, every file of the folder used by some case.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <sys/wait.h>

#include "ss_test.h"

#define CASE_TIME_LIMIT "300" /* seconds; a sanitizer build is slow, a hang is forever */

static const char *const kinds[] = {"scenario", "trace", "flags", "output", "sweep",
                                    "plan", "experiment", "model", "hardware", "merge"};

static char *corpus_dir(void)
{
    return g_build_filename(ss_test_source_dir(), "tests", "bad-input", NULL);
}

static GKeyFile *load_cases(void)
{
    char *dir = corpus_dir();
    char *path = g_build_filename(dir, "cases.ini", NULL);
    GKeyFile *kf = g_key_file_new();
    GError *error = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error)) {
        fprintf(stderr, "%s: %s\n", path, error->message);
        CU_FAIL_FATAL("cannot read the corpus manifest");
    }
    g_free(path);
    g_free(dir);
    return kf;
}

/* Replaces @IN@, @OUT@ and @DATA@. g_free. */
static char *expand(const char *text, const char *in, const char *out)
{
    char *a = g_strdup(text);
    const struct {
        const char *key, *value;
    } subs[] = {{"@IN@", in}, {"@OUT@", out}, {"@DATA@", ss_test_data_dir()}};
    for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
        char **parts = g_strsplit(a, subs[i].key, -1);
        g_free(a);
        a = g_strjoinv(subs[i].value, parts);
        g_strfreev(parts);
    }
    return a;
}

/* Runs one case; returns FALSE (after printing why) when it does not behave. */
static gboolean run_case(GKeyFile *kf, const char *name)
{
    char *in = corpus_dir();
    char *out = ss_test_tmpdir();
    char *args = g_key_file_get_string(kf, name, "args", NULL);
    char *message = g_key_file_get_string(kf, name, "message", NULL);
    char *absent = g_key_file_get_string(kf, name, "absent", NULL);
    GError *error = NULL;
    gint want = g_key_file_get_integer(kf, name, "exit", &error);
    gboolean ok = FALSE;
    char **argv = NULL;
    char *o = NULL, *e = NULL, *msg = NULL;
    if (!args || !message || error) {
        fprintf(stderr, "\n  [%s] needs args, exit and message\n", name);
        goto out;
    }
    if (!g_shell_parse_argv(args, NULL, &argv, &error)) {
        fprintf(stderr, "\n  [%s] args: %s\n", name, error->message);
        goto out;
    }
    GPtrArray *cmd = g_ptr_array_new_with_free_func(g_free);
    const char *prefix[] = {"timeout", "-k", "10", CASE_TIME_LIMIT, ss_test_binary()};
    for (size_t i = 0; i < G_N_ELEMENTS(prefix); i++)
        g_ptr_array_add(cmd, g_strdup(prefix[i]));
    for (char **a = argv; *a; a++)
        g_ptr_array_add(cmd, expand(*a, in, out));
    g_ptr_array_add(cmd, NULL);
    int status = 0;
    gboolean spawned = g_spawn_sync(out, (char **)cmd->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &o, &e,
                                    &status, &error);
    g_ptr_array_free(cmd, TRUE);
    if (!spawned) {
        fprintf(stderr, "\n  [%s] cannot run: %s\n", name, error->message);
        goto out;
    }
    int got = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    msg = expand(message, in, out);
    ok = TRUE;
    if (got == 124 || got == 137) {
        fprintf(stderr, "\n  [%s] did not finish within %s s (a hang)\n", name, CASE_TIME_LIMIT);
        ok = FALSE;
    } else if (got != want) {
        fprintf(stderr, "\n  [%s] exit code %d, expected %d\n", name, got, want);
        ok = FALSE;
    }
    if (!strstr(e, msg)) {
        fprintf(stderr, "\n  [%s] expected the message to contain \"%s\"\n", name, msg);
        ok = FALSE;
    }
    if (strstr(e, "Sanitizer") || strstr(e, "runtime error:") || strstr(e, "CRITICAL") || strstr(e, "Bail out")) {
        fprintf(stderr, "\n  [%s] a crash, assertion or sanitizer report\n", name);
        ok = FALSE;
    }
    char **paths = absent ? g_strsplit(absent, " ", -1) : NULL;
    for (char **p = paths; p && *p; p++) {
        if (!**p)
            continue;
        char *path = expand(*p, in, out);
        if (g_file_test(path, G_FILE_TEST_EXISTS)) {
            fprintf(stderr, "\n  [%s] %s exists: expected no output from a failed run\n", name, path);
            ok = FALSE;
        }
        g_free(path);
    }
    g_strfreev(paths);
    /* nor a temporary output file left behind in the case's folder */
    GDir *d = g_dir_open(out, 0, NULL);
    const char *entry;
    while (d && (entry = g_dir_read_name(d))) {
        if (entry[0] == '.') {
            fprintf(stderr, "\n  [%s] a temporary file was left behind: %s/%s\n", name, out, entry);
            ok = FALSE;
        }
    }
    if (d)
        g_dir_close(d);
    if (!ok)
        fprintf(stderr, "  command: %s\n  stderr: %s\n", args, e);
out:
    g_clear_error(&error);
    g_strfreev(argv);
    g_free(o);
    g_free(e);
    g_free(msg);
    g_free(args);
    g_free(message);
    g_free(absent);
    g_free(out);
    g_free(in);
    return ok;
}

/* Runs every case of one kind. */
static void run_kind(const char *kind)
{
    GKeyFile *kf = load_cases();
    gsize n = 0;
    char **groups = g_key_file_get_groups(kf, &n);
    guint ran = 0, failed = 0;
    char *prefix = g_strdup_printf("%s/", kind);
    for (gsize i = 0; i < n; i++) {
        if (!g_str_has_prefix(groups[i], prefix))
            continue;
        ran++;
        if (!run_case(kf, groups[i]))
            failed++;
    }
    printf("(%u cases, %u failed) ", ran, failed);
    CU_ASSERT(ran > 0);
    CU_ASSERT_EQUAL(failed, 0);
    g_free(prefix);
    g_strfreev(groups);
    g_key_file_free(kf);
}

#define KIND_TEST(k)                                                                                               \
    static void test_##k(void) { run_kind(#k); }
KIND_TEST(scenario)
KIND_TEST(trace)
KIND_TEST(flags)
KIND_TEST(output)
KIND_TEST(sweep)
KIND_TEST(plan)
KIND_TEST(experiment)
KIND_TEST(model)
KIND_TEST(hardware)
KIND_TEST(merge)

/* Collects the files under dir (relative paths) into files. */
static void list_files(const char *root, const char *rel, GPtrArray *files)
{
    char *dir = rel ? g_build_filename(root, rel, NULL) : g_strdup(root);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *r = rel ? g_build_filename(rel, name, NULL) : g_strdup(name);
        char *full = g_build_filename(root, r, NULL);
        if (g_file_test(full, G_FILE_TEST_IS_DIR))
            list_files(root, r, files);
        else
            g_ptr_array_add(files, g_strdup(r));
        g_free(full);
        g_free(r);
    }
    if (d)
        g_dir_close(d);
    g_free(dir);
}

static void test_corpus_shape(void)
{
    GKeyFile *kf = load_cases();
    gsize n = 0;
    char **groups = g_key_file_get_groups(kf, &n);
    printf("(%" G_GSIZE_FORMAT " cases) ", n);
    CU_ASSERT(n >= 60);
    /* every case is of a known kind, and every kind has cases */
    guint per_kind[G_N_ELEMENTS(kinds)] = {0};
    for (gsize i = 0; i < n; i++) {
        gboolean known = FALSE;
        for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
            char *prefix = g_strdup_printf("%s/", kinds[k]);
            if (g_str_has_prefix(groups[i], prefix)) {
                per_kind[k]++;
                known = TRUE;
            }
            g_free(prefix);
        }
        if (!known)
            fprintf(stderr, "\n  case [%s] is of no known kind\n", groups[i]);
        CU_ASSERT(known);
    }
    for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++)
        CU_ASSERT(per_kind[k] > 0);
    /* every file of the corpus is used: named by a case, or inside a folder a case names */
    GString *all_args = g_string_new(NULL);
    for (gsize i = 0; i < n; i++) {
        char *args = g_key_file_get_string(kf, groups[i], "args", NULL);
        g_string_append_printf(all_args, " %s ", args ? args : "");
        g_free(args);
    }
    char *dir = corpus_dir();
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    list_files(dir, NULL, files);
    for (guint i = 0; i < files->len; i++) {
        const char *f = g_ptr_array_index(files, i);
        if (strcmp(f, "cases.ini") == 0)
            continue;
        gboolean used = FALSE;
        char *path = g_strdup(f);
        while (!used) { /* the file, or one of its folders */
            char *needle = g_strdup_printf("@IN@/%s", path);
            const char *hit = strstr(all_args->str, needle);
            size_t len = strlen(needle);
            used = hit && (hit[len] == ' ' || hit[len] == '/');
            g_free(needle);
            char *up = g_path_get_dirname(path);
            gboolean top = strcmp(up, ".") == 0;
            g_free(path);
            path = up;
            if (top)
                break;
        }
        g_free(path);
        /* files a case reads through another (a base, a trace a scenario names) */
        used = used || g_str_has_prefix(f, "trace/ok.csv") || strstr(f, "requests.csv") || strstr(f, "README");
        if (!used)
            fprintf(stderr, "\n  %s is used by no case\n", f);
        CU_ASSERT(used);
    }
    g_ptr_array_free(files, TRUE);
    g_free(dir);
    g_string_free(all_args, TRUE);
    g_strfreev(groups);
    g_key_file_free(kf);
}

static const SsTestCase corpus_cases[] = {
    {"the corpus: at least 60 cases, every kind, every file used", test_corpus_shape},
    {NULL, NULL},
};

static const SsTestCase kind_cases[] = {
    {"scenario files", test_scenario},
    {"traces (servesim, Azure, Vidur)", test_trace},
    {"flags", test_flags},
    {"output paths and partial output", test_output},
    {"sweep files", test_sweep},
    {"plan files", test_plan},
    {"experiment folders", test_experiment},
    {"model configs", test_model},
    {"hardware tables and MFU tables", test_hardware},
    {"sweep outputs (merge)", test_merge},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {
        {"corpus", corpus_cases},
        {"bad input", kind_cases},
        {NULL, NULL},
    };
    return ss_test_main(argc, argv, suites);
}
