/*
 * ss_error.h: the error domain shared by every module, and how an error maps
 * to the process exit code.
 *
 * Bad input is reported through GError in this domain, never by assert.
 * Messages name the file, the line and column (or the JSON field path) and
 * what was expected, e.g.
 *   "trace.csv:42:3: column 'output_tokens': expected a positive integer, got '-3'".
 *
 * Exit codes (DESIGN.md): 0 ok, 1 simulation error, 2 usage error, 3 bad input data.
 */
#ifndef SS_ERROR_H
#define SS_ERROR_H

#include <glib.h>

#define SS_ERROR (ss_error_quark())
GQuark ss_error_quark(void);

typedef enum {
    SS_ERROR_SIM = 1,   /* the simulation itself failed (exit 1) */
    SS_ERROR_USAGE = 2, /* bad command line: unknown flag, bad value (exit 2) */
    SS_ERROR_INPUT = 3, /* bad input data: file, field, row (exit 3) */
} SsErrorCode;

/* The exit code for an error: its code when it is in SS_ERROR, otherwise 3
 * (I/O and parse errors from GLib are bad input). NULL gives 0. */
int ss_error_exit_code(const GError *error);

#endif /* SS_ERROR_H */
