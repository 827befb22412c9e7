/*
 * cli_common.c: what the subcommands share: error reporting and option
 * parsing (the data folder is found by cli_data.c).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "ss_error.h"

int cli_fail(const char *cmd, GError *error)
{
    int code = ss_error_exit_code(error);
    if (code == 0)
        code = 1;
    fprintf(stderr, "servesim %s: error: %s\n", cmd, error ? error->message : "unknown error");
    g_clear_error(&error);
    return code;
}

/* Short options that take a value, which may be attached ("-j1" like "-j 1"):
 * GOptionContext only reads them apart. */
static const char short_with_value[] = "jom";

/* The argument vectors made here: kept for the process's life, as GOption
 * keeps pointers into them. */
static GPtrArray *arena;

/* argv with "-j1" written as "-j" "1" (up to a "--"). */
static void split_attached_values(int *argc, char ***argv)
{
    gboolean any = FALSE;
    for (int i = 1; i < *argc && strcmp((*argv)[i], "--") != 0; i++) {
        const char *a = (*argv)[i];
        any = any || (a[0] == '-' && a[1] && strchr(short_with_value, a[1]) && a[2]);
    }
    if (!any)
        return;
    if (!arena)
        arena = g_ptr_array_new();
    char **out = g_new0(char *, 2 * (gsize)*argc + 1);
    int n = 0;
    gboolean rest = FALSE;
    for (int i = 0; i < *argc; i++) {
        const char *a = (*argv)[i];
        rest = rest || strcmp(a, "--") == 0;
        if (!rest && i > 0 && a[0] == '-' && a[1] && strchr(short_with_value, a[1]) && a[2]) {
            g_ptr_array_add(arena, out[n++] = g_strndup(a, 2));
            g_ptr_array_add(arena, out[n++] = g_strdup(a + 2));
        } else {
            g_ptr_array_add(arena, out[n++] = g_strdup(a));
        }
    }
    g_ptr_array_add(arena, out);
    *argc = n;
    *argv = out;
}

void cli_print_notes(const char *cmd, const ScnFlags *flags)
{
    char **notes = scn_flags_notes(flags);
    for (char **n = notes; n && *n; n++)
        fprintf(stderr, "servesim %s: note: %s\n", cmd, *n);
    g_strfreev(notes);
}

gboolean cli_parse(GOptionContext *ctx, int *argc, char ***argv, const char *cmd, int *exit_code)
{
    GError *error = NULL;
    split_attached_values(argc, argv);
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        fprintf(stderr, "servesim %s: error: %s\n(see 'servesim %s --help')\n", cmd, error->message, cmd);
        g_clear_error(&error);
        *exit_code = 2;
        return FALSE;
    }
    return TRUE;
}
