/*
 * cli_common.c: what the subcommands share: error reporting and option
 * parsing (the data folder is found by cli_data.c).
 */
#include "cli.h"

#include <stdio.h>

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

gboolean cli_parse(GOptionContext *ctx, int *argc, char ***argv, const char *cmd, int *exit_code)
{
    GError *error = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        fprintf(stderr, "servesim %s: error: %s\n(see 'servesim %s --help')\n", cmd, error->message, cmd);
        g_clear_error(&error);
        *exit_code = 2;
        return FALSE;
    }
    return TRUE;
}
