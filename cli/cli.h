/*
 * cli.h: the subcommands of the servesim binary and what they share.
 *
 * The CLI is a thin layer: each cmd_* parses its flags with GOptionContext,
 * calls into the modules, prints, and returns the process exit code
 * (0 ok, 1 simulation error, 2 usage error, 3 bad input data).
 */
#ifndef CLI_H
#define CLI_H

#include <glib.h>

#include "scn.h"
#include "val_validate.h"

int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_step(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_plan(int argc, char **argv);

/* The data folder (cli_data.c): --data-dir when given, else next to the
 * binary (an installed tree), else $SERVESIM_DATA or $SERVESIM_DATA_DIR, else
 * the source tree's data/ when the binary runs from its build tree. NULL and
 * an error listing every place looked at when none holds servesim data. */
char *cli_find_data_dir(const char *flag, GError **error);
/* The same for a command: on failure prints "servesim CMD: error: ..." and
 * returns NULL (the command then exits with 3). g_free the result. */
char *cli_data_dir(const char *cmd, const char *flag);

/* Prints "servesim CMD: error: MESSAGE" on stderr, frees the error and
 * returns the exit code it maps to (ss_error_exit_code). */
int cli_fail(const char *cmd, GError *error);

/* Prints "servesim CMD: note: ..." on stderr for each old flag spelling
 * the command line used (scn_flags_notes). */
void cli_print_notes(const char *cmd, const ScnFlags *flags);

/* Parses argv with a GOptionContext built from `entries` (and optional
 * groups already added to ctx); a short option's value may be attached
 * ("-j1" as "-j 1"). Usage errors print the message and a hint and return
 * FALSE. */
gboolean cli_parse(GOptionContext *ctx, int *argc, char ***argv, const char *cmd, int *exit_code);

/* The progress line of long commands (cli_progress.c): shown on a terminal
 * only, after a second of work, unless quiet; erased at the end. */
typedef struct {
    gboolean enabled;
    gboolean shown;
    gint64 t0, last;  /* monotonic microseconds */
    GMutex lock;
} CliProgress;
void cli_progress_init(CliProgress *p, gboolean quiet);
/* Seconds since init. */
double cli_progress_elapsed(const CliProgress *p);
/* Rewrites the line (at most five times a second); safe from any thread. */
void cli_progress_show(CliProgress *p, const char *format, ...) G_GNUC_PRINTF(2, 3);
/* Erases the line if it was shown. */
void cli_progress_done(CliProgress *p);

/* Measured runs for `validate` and `calibrate` (cli_measured.c). A path is
 * an experiment folder or a vllm bench serve result file (val_bench.h).
 * cli_check_measured_flags fails (a usage error) when a deployment or engine
 * flag was given with an experiment folder, whose settings are the measured
 * ones; cli_load_measured reads one, a result file with the flags over its
 * metadata. */
gboolean cli_check_measured_flags(const char *const *paths, guint n, const ScnFlags *flags, GError **error);
ValExperiment *cli_load_measured(const char *path, const ScnFlags *flags, GError **error);

/* Output options shared by `run` and `replay`. */
typedef struct CliRunOptions CliRunOptions;
CliRunOptions *cli_run_options_new(void);
void cli_run_options_free(CliRunOptions *o);
void cli_run_options_add(GOptionContext *ctx, CliRunOptions *o);

/* Runs a scenario, prints its summary and writes the requested outputs;
 * returns the exit code. */
int cli_run_scenario(const char *cmd, ScnScenario *s, const CliRunOptions *o);

#endif /* CLI_H */
