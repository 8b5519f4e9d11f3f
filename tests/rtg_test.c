/* rtg_test.c — shared test helpers (see rtg_test.h). */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sndfile.h>
#include <sys/stat.h>

static char path_buf[4096];

const char *rtg_test_shared(const char *rel)
{
    const char *root = getenv("RTG_SHARED_DIR");
    if (!root || !*root)
        root = RTG_SHARED_DIR;
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    snprintf(path_buf, sizeof path_buf, "%s/%s", root, rel);
    return path_buf;
}

int rtg_test_have_shared(const char *program)
{
    if (rtg_test_shared("conformance"))
        return 1;
    printf("%s: skipped: the conformance data (../shared) is not beside this checkout\n", program);
    return 0;
}

const char *rtg_test_source(const char *rel)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s", RTG_SOURCE_DIR, rel);
    return path_buf;
}

void rtg_test_load_csv(const char *path, rtg_csv *out)
{
    rtg_error err = {{0}};
    if (rtg_csv_read(path, out, &err) != RTG_OK)
        fail_msg("%s", err.msg);
}

double rtg_test_assert_close(const float *got, const float *want, size_t n, double tol,
                             const char *what)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - (double)want[i]);
        if (!(e <= tol))
            fail_msg("%s: index %zu: got %.9g, want %.9g (error %.3g > %.3g)", what, i,
                     (double)got[i], (double)want[i], e, tol);
        if (e > worst)
            worst = e;
    }
    return worst;
}

float rtg_test_rand(uint32_t *seed)
{
    /* xorshift32: enough for test signals and random weights */
    uint32_t x = *seed ? *seed : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *seed = x;
    return (float)((double)x / 4294967295.0 * 2.0 - 1.0);
}

float *rtg_test_load_mono(const char *path, long *frames, int *sample_rate)
{
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f)
        fail_msg("%s: %s", path, sf_strerror(NULL));
    if (info.channels != 1)
        fail_msg("%s: %d channels, expected mono", path, info.channels);
    float *x = malloc(sizeof(float) * (size_t)info.frames);
    assert_non_null(x);
    sf_count_t got = sf_readf_float(f, x, info.frames);
    sf_close(f);
    assert_int_equal(got, info.frames);
    *frames = (long)info.frames;
    if (sample_rate)
        *sample_rate = info.samplerate;
    return x;
}

void rtg_test_write_temp(const char *text, const char *suffix, char *path)
{
    snprintf(path, 64, "/tmp/rtg_test_XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    if (fd < 0)
        fail_msg("cannot create %s", path);
    FILE *f = fdopen(fd, "w");
    if (!f || fputs(text, f) < 0 || fclose(f))
        fail_msg("cannot write %s", path);
}
