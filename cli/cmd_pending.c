/*
 * cmd_pending.c: weak placeholders for subcommands whose file is not in the
 * tree yet; a real cmd_<name>.c overrides each one.
 */
#include <stdio.h>

#include "cli.h"

#define PENDING(fn, name)                                                                          \
    __attribute__((weak)) int fn(int argc, char **argv)                                            \
    {                                                                                              \
        (void)argc;                                                                                \
        (void)argv;                                                                                \
        fprintf(stderr, "servesim %s: not available in this build\n", name);                       \
        return 2;                                                                                  \
    }

PENDING(cmd_run, "run")
PENDING(cmd_replay, "replay")
PENDING(cmd_step, "step")
PENDING(cmd_list, "list")
PENDING(cmd_validate, "validate")
PENDING(cmd_sweep, "sweep")
PENDING(cmd_merge, "merge")
PENDING(cmd_plan, "plan")
