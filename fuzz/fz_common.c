/*
 * fz_common.c: set-up and helpers of the fuzz harnesses (see fz_common.h).
 */
#include "fz_common.h"

#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_error.h"

static char *tmp_dir;

static void remove_dir(void)
{
    if (!tmp_dir)
        return;
    GDir *d = g_dir_open(tmp_dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *p = g_build_filename(tmp_dir, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
            char *cmd = g_strdup_printf("rm -rf '%s'", p); /* nested folders of fz_mfu */
            if (system(cmd) != 0)
                fprintf(stderr, "fuzz: could not remove %s\n", p);
            g_free(cmd);
        } else {
            g_unlink(p);
        }
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(tmp_dir);
}

void fz_init(void)
{
    if (tmp_dir)
        return;
    g_log_set_always_fatal(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    tmp_dir = g_dir_make_tmp("servesim-fuzz-XXXXXX", NULL);
    if (!tmp_dir)
        fz_fail("cannot make a temporary folder");
    atexit(remove_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init();
    return 0;
}

const char *fz_dir(void)
{
    return tmp_dir;
}

const char *fz_data_dir(void)
{
    return SERVESIM_DATA_DIR;
}

const char *fz_write(const char *name, const uint8_t *data, size_t size)
{
    static GHashTable *paths; /* name -> path, so each name keeps one path */
    if (!paths)
        paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    char *path = g_hash_table_lookup(paths, name);
    if (!path) {
        path = g_build_filename(tmp_dir, name, NULL);
        g_hash_table_insert(paths, g_strdup(name), path);
    }
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        fz_fail("cannot write %s", path);
    return path;
}

char *fz_text(const uint8_t *data, size_t size)
{
    char *t = g_malloc(size + 1);
    if (size)
        memcpy(t, data, size);
    t[size] = '\0';
    return t;
}

void fz_check_error(GError *error)
{
    if (!error)
        fz_fail("a call failed without an error");
    if (!error->message || !*error->message)
        fz_fail("an error without a message");
    if (error->domain == SS_ERROR && (error->code < SS_ERROR_SIM || error->code > SS_ERROR_INPUT))
        fz_fail("an error with an unknown code %d: %s", error->code, error->message);
    g_error_free(error);
}

void fz_fail(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    fputs("fuzz: invariant broken: ", stderr);
    vfprintf(stderr, format, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}
