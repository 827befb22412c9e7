/*
 * ss_output.h: output files written whole or not at all.
 *
 * Every file servesim writes (per-request rows, time series, inter-token
 * latencies, aggregates, sweep and plan outputs) goes through an SsOutput:
 * the bytes go to a temporary file in the same folder as the destination
 * (".NAME.XXXXXX", created with mode 0666 minus the umask, like fopen), which
 * ss_output_commit() renames over the destination once everything is
 * written. A run that fails midway calls ss_output_abort(): the temporary
 * file is removed and a file already at the destination is left exactly as
 * it was. Because the temporary file is created when the output is opened,
 * opening every output before a simulation starts is also the check that
 * every path can be written (a missing folder, a folder in the way, no
 * permission): the error comes before any work is done.
 *
 * A symbolic link is followed (the link stays; its target is replaced). A
 * destination that is neither a regular file nor absent (a device such as
 * /dev/null or /dev/stdout, a pipe) cannot be replaced by a rename and is
 * written through.
 *
 * Cost: one extra file creation and one rename per output. Limits: no fsync
 * (the rename is atomic for other processes, not across a power loss); a
 * process killed by a signal leaves its temporary file behind.
 * Thread-safety: an SsOutput is used by one thread at a time; separate
 * outputs are independent.
 */
#ifndef SS_OUTPUT_H
#define SS_OUTPUT_H

#include <glib.h>
#include <stdio.h>

typedef struct SsOutput SsOutput;

/* Opens `path` for writing. Errors (SS_ERROR_INPUT) read "PATH: cannot
 * write: REASON". The result is the caller's: ss_output_commit or
 * ss_output_abort it exactly once. */
SsOutput *ss_output_open(const char *path, GError **error);

/* The stream to write to (borrowed; valid until commit or abort). */
FILE *ss_output_stream(SsOutput *o);

/* The destination as given to ss_output_open (borrowed). */
const char *ss_output_path(const SsOutput *o);

/* Flushes and closes the stream, checks that every write succeeded and
 * renames the temporary file over the destination. Frees `o` whatever the
 * outcome; on failure (SS_ERROR_INPUT, naming the path) the temporary file
 * is removed and the destination is untouched. */
gboolean ss_output_commit(SsOutput *o, GError **error);

/* Closes and removes the temporary file; the destination is untouched.
 * Frees `o`. Accepts NULL. */
void ss_output_abort(SsOutput *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsOutput, ss_output_abort)

/* Writes `text` to `path` whole or not at all (open, write, commit). */
gboolean ss_output_write_text(const char *path, const char *text, GError **error);

#endif /* SS_OUTPUT_H */
