/* rtg_csv.h — frames as CSV text: one frame a line, channels comma-separated.
 *
 * Used by `rtgraph infer` and by tests that compare against reference
 * outputs written by Python. Numbers are written with enough digits to
 * round-trip a float exactly.
 *
 * Thread: non-real-time.
 */
#ifndef RTG_CSV_H
#define RTG_CSV_H

#include <stddef.h>

#include "rtg_error.h"

typedef struct rtg_csv {
    float *data;   /* frames x channels, frame-major */
    long frames;
    int channels;
} rtg_csv;

/* Reads a CSV file. Every line must have the same number of values; blank
 * lines are skipped. Errors are "FILE:LINE:COL: message". */
int rtg_csv_read(const char *path, rtg_csv *out, rtg_error *err);

/* Writes frames x channels values, "%.9g" each; path "-" is stdout. */
int rtg_csv_write(const char *path, const float *data, long frames, int channels, rtg_error *err);

void rtg_csv_free(rtg_csv *c);

#endif
