/* rtg_rt_fixtures.c — scratch files, generated models and test signals
 * for the runtime's tests (see rtg_rt_fixtures.h). */
#define _GNU_SOURCE
#include "rtg_rt_fixtures.h"

#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_test.h"

static char dir[256];
static char path_buf[512];
static char *kept[256];
static int n_kept;

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void cleanup(void)
{
    if (dir[0])
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < n_kept; i++)
        free(kept[i]);
}

const char *rtg_fx_dir(void)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/rtg_rt_test_XXXXXX");
        if (!mkdtemp(dir))
            fail_msg("cannot make a scratch folder");
        atexit(cleanup);
    }
    return dir;
}

const char *rtg_fx_path(const char *name)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s", rtg_fx_dir(), name);
    return path_buf;
}

static const char *keep(const char *p)
{
    assert_true(n_kept < (int)(sizeof kept / sizeof kept[0]));
    kept[n_kept] = strdup(p);
    return kept[n_kept++];
}

const char *rtg_fx_write(const char *name, const char *text)
{
    const char *p = rtg_fx_path(name);
    FILE *f = fopen(p, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        fail_msg("cannot write %s", p);
    return keep(p);
}

static json_t *matrix(int rows, int cols, uint32_t *seed, float scale)
{
    json_t *m = json_array();
    for (int r = 0; r < rows; r++) {
        json_t *row = json_array();
        for (int c = 0; c < cols; c++)
            json_array_append_new(row, json_real(scale * rtg_test_rand(seed)));
        json_array_append_new(m, row);
    }
    return m;
}

static json_t *vector(int n, uint32_t *seed, float scale)
{
    json_t *v = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(v, json_real(scale * rtg_test_rand(seed)));
    return v;
}

static json_t *shape(int ch)
{
    return json_pack("[n, n, i]", ch);
}

const char *rtg_fx_model(const char *name, rtg_fx_kind kind, int in_ch, int hidden,
                         uint32_t seed, float out_scale)
{
    const int gates = kind == RTG_FX_LSTM ? 4 : 3;
    json_t *weights = json_array();
    json_array_append_new(weights, matrix(in_ch, gates * hidden, &seed, 0.5f));
    json_array_append_new(weights, matrix(hidden, gates * hidden, &seed, 0.4f));
    json_array_append_new(weights, kind == RTG_FX_LSTM ? vector(gates * hidden, &seed, 0.2f)
                                                       : matrix(2, gates * hidden, &seed, 0.2f));
    json_t *rnn = json_pack("{s:s, s:s, s:o, s:o}", "type", kind == RTG_FX_LSTM ? "lstm" : "gru",
                            "activation", "tanh", "shape", shape(hidden), "weights", weights);
    json_t *dense = json_pack("{s:s, s:s, s:o, s:[o, o]}", "type", "dense", "activation", "",
                              "shape", shape(1), "weights", matrix(hidden, 1, &seed, out_scale),
                              vector(1, &seed, 0.01f));
    json_t *root = json_pack("{s:o, s:[o, o]}", "in_shape", shape(in_ch), "layers", rnn, dense);
    const char *p = rtg_fx_path(name);
    if (!root || json_dump_file(root, p, JSON_COMPACT) != 0)
        fail_msg("cannot write model %s", p);
    json_decref(root);
    return keep(p);
}

void rtg_fx_signal(float *x, long frames, double sample_rate)
{
    uint32_t seed = 4242;
    const long pluck = (long)(sample_rate * 0.25);
    for (long t = 0; t < frames; t++) {
        double s = (double)(t % pluck) / sample_rate, f = 110.0 * (1 + (t / pluck) % 3);
        double env = exp(-6.0 * s);
        x[t] = (float)(0.6 * env * (sin(2 * M_PI * f * s) + 0.3 * sin(2 * M_PI * 3 * f * s)) +
                       0.002 * rtg_test_rand(&seed));
    }
}
