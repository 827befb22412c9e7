/*
 * cli_data.c: where the servesim binary finds its data folder (hardware.json,
 * models/, mfu/, traces/, validation/).
 *
 * The places, in order (the first that holds servesim data wins):
 *   1. --data-dir DIR, when given (then only there: a wrong folder is an error);
 *   2. next to the binary: <folder of /proc/self/exe>/SERVESIM_REL_DATA_DIR,
 *      the relative path from the installed bin/ to share/servesim/data, so
 *      an installed tree still works after it is moved;
 *   3. $SERVESIM_DATA, then $SERVESIM_DATA_DIR (the older name);
 *   4. the source tree's data/, only when the binary runs from its build tree.
 * A folder holds servesim data when it has hardware.json and models/. When
 * none does, the message lists every place looked at and why each failed.
 * Cost: a few stat() calls per command.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "ss_error.h"

#ifndef SERVESIM_REL_DATA_DIR
#define SERVESIM_REL_DATA_DIR "../share/servesim/data"
#endif

/* NULL when `dir` holds servesim data, else why not (static string). */
static const char *why_not_data(const char *dir)
{
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
        return "no such folder";
    char *hw = g_build_filename(dir, "hardware.json", NULL);
    char *models = g_build_filename(dir, "models", NULL);
    const char *why = NULL;
    if (!g_file_test(hw, G_FILE_TEST_IS_REGULAR))
        why = "no hardware.json in it";
    else if (!g_file_test(models, G_FILE_TEST_IS_DIR))
        why = "no models/ folder in it";
    g_free(hw);
    g_free(models);
    return why;
}

/* The folder of the running binary (canonical), or NULL. */
static char *exe_dir(void)
{
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (!exe)
        return NULL;
    char *dir = g_path_get_dirname(exe);
    g_free(exe);
    return dir;
}

/* `path` with "." and ".." folded away (no symbolic links resolved). */
static char *tidy_path(const char *path)
{
    return g_canonicalize_filename(path, NULL);
}

static gboolean is_inside(const char *path, const char *dir)
{
    char *p = tidy_path(path), *d = tidy_path(dir);
    gsize n = strlen(d);
    gboolean inside = strncmp(p, d, n) == 0 && (p[n] == '\0' || p[n] == G_DIR_SEPARATOR);
    g_free(p);
    g_free(d);
    return inside;
}

char *cli_find_data_dir(const char *flag, GError **error)
{
    if (flag && *flag) {
        const char *why = why_not_data(flag);
        if (!why)
            return g_strdup(flag);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "--data-dir %s: not a servesim data folder (%s)", flag, why);
        return NULL;
    }
    GString *looked = g_string_new(NULL);
    char *found = NULL;
    char *bin = exe_dir();
    if (bin) {
        char *dir = g_build_filename(bin, SERVESIM_REL_DATA_DIR, NULL);
        char *tidy = tidy_path(dir);
        g_free(dir);
        const char *why = why_not_data(tidy);
        if (!why)
            found = tidy;
        else {
            g_string_append_printf(looked, "\n  %s (next to the binary): %s", tidy, why);
            g_free(tidy);
        }
    } else {
        g_string_append(looked, "\n  next to the binary: /proc/self/exe cannot be read");
    }
    static const char *const vars[] = {"SERVESIM_DATA", "SERVESIM_DATA_DIR"};
    for (guint i = 0; !found && i < G_N_ELEMENTS(vars); i++) {
        const char *v = g_getenv(vars[i]);
        if (!v || !*v) {
            g_string_append_printf(looked, "\n  $%s: not set", vars[i]);
            continue;
        }
        const char *why = why_not_data(v);
        if (!why)
            found = g_strdup(v);
        else
            g_string_append_printf(looked, "\n  $%s = %s: %s", vars[i], v, why);
    }
    if (!found) {
#ifdef SERVESIM_BUILD_DIR
        if (bin && is_inside(bin, SERVESIM_BUILD_DIR)) {
            const char *why = why_not_data(SERVESIM_DATA_DIR);
            if (!why)
                found = g_strdup(SERVESIM_DATA_DIR);
            else
                g_string_append_printf(looked, "\n  %s (the source tree): %s", SERVESIM_DATA_DIR, why);
        } else {
            g_string_append_printf(looked, "\n  the source tree's data/: not used (the binary is not in its build "
                                           "tree %s)", SERVESIM_BUILD_DIR);
        }
#endif
    }
    g_free(bin);
    if (!found)
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "no servesim data folder found (one with hardware.json and models/); looked in:%s\n"
                    "install servesim with its data (cmake --install), or give --data-dir DIR or SERVESIM_DATA=DIR",
                    looked->str);
    g_string_free(looked, TRUE);
    return found;
}

char *cli_data_dir(const char *cmd, const char *flag)
{
    GError *error = NULL;
    char *dir = cli_find_data_dir(flag, &error);
    if (!dir)
        cli_fail(cmd, error);
    return dir;
}
