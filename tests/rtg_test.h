/* rtg_test.h — what the cmocka tests share: reference data paths, CSV
 * loading, tolerant comparison, a deterministic random source. */
#ifndef RTG_TEST_H
#define RTG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the above first */
#include <cmocka.h>

#include "rtg_csv.h"

/* Exit code ctest reads as "skipped". */
#define RTG_TEST_SKIP 77

/* Path of `rel` under ../shared (the conformance data), or NULL when the
 * folder is absent. Uses $RTG_SHARED_DIR, else the path CMake saw. The
 * returned string is static (one call's result at a time). */
const char *rtg_test_shared(const char *rel);

/* For a test program that needs ../shared: returns 1 if present, else
 * prints why the tests are skipped and returns 0 (main then returns
 * RTG_TEST_SKIP). */
int rtg_test_have_shared(const char *program);

/* Path of `rel` in the source tree (static string). */
const char *rtg_test_source(const char *rel);

/* Loads a CSV or fails the current test. */
void rtg_test_load_csv(const char *path, rtg_csv *out);

/* Loads a mono audio file (any format libsndfile reads) as floats, or
 * fails the current test. Caller frees. */
float *rtg_test_load_mono(const char *path, long *frames, int *sample_rate);

/* Asserts |got[i] - want[i]| <= tol for all i, failing with the first index
 * that is off, the two values and `what`. Returns the max abs error. */
double rtg_test_assert_close(const float *got, const float *want, size_t n, double tol,
                             const char *what);

/* Writes `text` to a new temporary file named /tmp/rtg_test_XXXXXX plus
 * `suffix` (e.g. ".yaml"), its path into `path` (at least 64 bytes), or
 * fails the current test. The caller unlinks it. */
void rtg_test_write_temp(const char *text, const char *suffix, char *path);

/* Uniform in [-1, 1], deterministic per seed. */
float rtg_test_rand(uint32_t *seed);

#endif
