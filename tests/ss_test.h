/*
 * ss_test.h: the shared CUnit runner and small helpers of the test programs.
 *
 * Each test program defines its suites with SS_TEST_SUITE tables and calls
 * ss_test_main(); the program exits 1 when any assertion or test failed
 * (CU_basic_run_tests alone would exit 0).
 */
#ifndef SS_TEST_H
#define SS_TEST_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} SsTestCase;

typedef struct {
    const char *name;
    const SsTestCase *cases; /* terminated by {NULL, NULL} */
} SsTestSuite;

/* Runs the suites (terminated by {NULL, NULL}); returns the process exit code. */
int ss_test_main(int argc, char **argv, const SsTestSuite *suites);

/* The data directory of the source tree (data/). */
const char *ss_test_data_dir(void);
/* The source tree root. */
const char *ss_test_source_dir(void);
/* The built servesim binary. */
const char *ss_test_binary(void);

/* A new temporary directory, removed (with its files) at exit. */
char *ss_test_tmpdir(void);

/* Writes `text` to a new file in a temporary directory; returns its path (g_free). */
char *ss_test_write_file(const char *name, const char *text);

/* Runs the servesim binary with argv (NULL-terminated, without argv[0]);
 * returns its exit code and fills stdout/stderr (g_free; may pass NULL). */
int ss_test_run_servesim(const char *const *args, char **out, char **err);

/* The records of a CSV file read with libcsv (the header first): a
 * GPtrArray of NULL-terminated string vectors (g_ptr_array_unref frees
 * all); NULL when the file cannot be read. */
GPtrArray *ss_test_read_csv(const char *path);

/* Asserts that `haystack` contains `needle`, printing both when it does not. */
#define SS_ASSERT_CONTAINS(haystack, needle)                                                       \
    do {                                                                                           \
        const char *h_ = (haystack);                                                               \
        const char *n_ = (needle);                                                                 \
        gboolean ok_ = h_ && strstr(h_, n_) != NULL;                                               \
        if (!ok_)                                                                                  \
            fprintf(stderr, "\n  expected to find \"%s\" in:\n  %s\n", n_, h_ ? h_ : "(null)");    \
        CU_ASSERT(ok_);                                                                            \
    } while (0)

#endif /* SS_TEST_H */
