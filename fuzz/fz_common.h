/*
 * fz_common.h: what the libFuzzer harnesses share (docs/testing.md).
 *
 * Each harness is one program built with clang -fsanitize=fuzzer,address,
 * undefined (SERVESIM_FUZZ=ON) that feeds its input to one parser, or to a
 * parser and then the simulation. A harness fails (aborts) on what must never
 * happen whatever the input: a crash, a sanitizer report, a GLib critical or
 * warning (made fatal here), a broken invariant the harness checks, or an
 * error returned without a message. Errors with a message are the expected
 * outcome for bad input and are simply discarded.
 *
 * Inputs that name files (a trace path, an empirical column, a base scenario)
 * get files the harness writes from its own input into a private temporary
 * folder, so no harness reads anything outside the repository's data/ and
 * that folder.
 */
#ifndef FZ_COMMON_H
#define FZ_COMMON_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry points (each harness defines the first; fz_common.c
 * the second, which calls fz_init). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* One-time set-up: GLib criticals and warnings fatal, the temporary folder. */
void fz_init(void);

/* The private temporary folder (removed at exit). Borrowed. */
const char *fz_dir(void);

/* The repository's data/ folder (compiled in). Borrowed. */
const char *fz_data_dir(void);

/* Writes bytes to fz_dir()/name and returns the path (borrowed until the
 * next call with the same name: the same path is reused). */
const char *fz_write(const char *name, const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (g_free). */
char *fz_text(const uint8_t *data, size_t size);

/* Aborts when an error that a failing call returned has no message or is
 * outside the servesim domain's codes; frees it otherwise. */
void fz_check_error(GError *error);

/* Aborts with a message (an invariant broke). */
G_NORETURN void fz_fail(const char *format, ...) G_GNUC_PRINTF(1, 2);

#endif /* FZ_COMMON_H */
