/* test_nam.c — .nam files: NeuralAmpModelerCore's own renders reproduced
 * (WaveNet and LSTM, several block sizes), metadata, pre-warm, and every
 * malformed file refused with a message that names what is wrong. */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_nam.h"
#include "rtg_plan.h"

/* A mono-in, mono-out plan for a loaded model. */
static rtg_plan *plan_for(const rtg_model *m, int block)
{
    rtg_error err = {{0}};
    rtg_plan_builder *b = rtg_plan_builder_new(block, 1, 48000);
    int y = rtg_plan_add_model(b, m, rtg_plan_input(b), "nam", &err);
    if (y < 0) {
        rtg_plan_builder_free(b);
        fail_msg("%s", err.msg);
    }
    int chan = 0;
    assert_int_equal(rtg_plan_set_outputs(b, 1, &y, &chan, &err), RTG_OK);
    rtg_plan *p = rtg_plan_build(b, &err);
    if (!p)
        fail_msg("%s", err.msg);
    return p;
}

static rtg_model *load(const char *path)
{
    rtg_model *m = NULL;
    rtg_error err = {{0}};
    if (rtg_nam_load(path, &m, &err) != RTG_OK)
        fail_msg("%s", err.msg);
    return m;
}

/* Renders input.wav through MODEL at each block size and compares with
 * NeuralAmpModelerCore's render: max abs error 1e-4 over all samples. */
static void matches_reference(const char *model, const char *reference)
{
    char mpath[4096], rpath[4096], ipath[4096];
    snprintf(mpath, sizeof mpath, "%s", rtg_test_shared(model));
    snprintf(rpath, sizeof rpath, "%s", rtg_test_shared(reference));
    snprintf(ipath, sizeof ipath, "%s", rtg_test_shared("conformance/nam/input.wav"));
    long n, n_ref;
    float *x = rtg_test_load_mono(ipath, &n, NULL);
    float *want = rtg_test_load_mono(rpath, &n_ref, NULL);
    assert_int_equal(n, n_ref);
    float *y = malloc(sizeof(float) * (size_t)n);
    assert_non_null(y);
    rtg_model *m = load(mpath);
    static const int blocks[] = {64, 1, 17, 512};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        rtg_plan *p = plan_for(m, blocks[i]);
        rtg_plan_process_long(p, x, y, n);
        char what[256];
        snprintf(what, sizeof what, "%s at block %d", model, blocks[i]);
        double worst = rtg_test_assert_close(y, want, (size_t)n, 1e-4, what);
        printf("  %s: max abs error %.3g over %ld samples\n", what, worst, n);
        rtg_plan_free(p);
    }
    rtg_model_free(m);
    free(x);
    free(want);
    free(y);
}

static void wavenet_a1_standard_matches_nam(void **st)
{
    (void)st;
    matches_reference("conformance/nam/wavenet_a1_standard.nam",
                      "conformance/nam/wavenet_a1_standard_out.wav");
}

static void lstm_matches_nam(void **st)
{
    (void)st;
    matches_reference("conformance/nam/lstm.nam", "conformance/nam/lstm_out.wav");
}

static void tiny_wavenet_loads_and_renders(void **st)
{
    (void)st;
    char path[4096];
    snprintf(path, sizeof path, "%s", rtg_test_shared("conformance/nam/wavenet.nam"));
    rtg_model *m = load(path);
    assert_string_equal(m->meta.name, "Test Model");
    assert_string_equal(m->meta.gear_model, "Microtubes 900 v2");
    assert_true(m->meta.has_loudness && fabs(m->meta.loudness + 20.0207) < 1e-3);
    assert_true(m->meta.has_input_level && fabs(m->meta.input_level_dbu - 18.3) < 1e-9);
    assert_true(m->meta.sample_rate == 48000);
    /* receptive field: 1 + 2*(1+2) + 2*8 */
    assert_int_equal(m->prewarm_samples, 23);
    rtg_plan *p = plan_for(m, 64);
    float x[1000], y[1000];
    uint32_t seed = 3;
    for (int i = 0; i < 1000; i++)
        x[i] = 0.5f * rtg_test_rand(&seed);
    rtg_plan_process_long(p, x, y, 1000);
    double energy = 0;
    for (int i = 0; i < 1000; i++) {
        assert_true(isfinite(y[i]));
        energy += y[i] * y[i];
    }
    assert_true(energy > 0);
    rtg_plan_free(p);
    rtg_model_free(m);
}

/* The self-made tiny WaveNet against a direct double-precision evaluation
 * of NAM's equations, written out here from the weights in file order. */
static double act_tanh(double v) { return tanh(v); }

static void tiny_wavenet_matches_direct_math(void **st)
{
    (void)st;
    static const int gated_flags[2] = {0, 1};
    static const char *files[2] = {"tests/data/nam/tiny_wavenet.nam", "tests/data/nam/tiny_wavenet_gated.nam"};
    for (int g = 0; g < 2; g++) {
        const int gated = gated_flags[g];
        char path[4096];
        snprintf(path, sizeof path, "%s", rtg_test_source(files[g]));
        rtg_model *m = load(path);
        /* Read the raw weights back with the same JSON the loader used. */
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        static char text[1 << 16];
        size_t len = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[len] = 0;
        char *wp = strstr(text, "\"weights\": [");
        assert_non_null(wp);
        wp += strlen("\"weights\": [");
        double W[400];
        int nw = 0;
        while (*wp && *wp != ']') {
            W[nw++] = strtod(wp, &wp);
            while (*wp == ',' || *wp == ' ')
                wp++;
        }
        /* Config of tests/data/nam/tiny_wavenet*.nam */
        const int C[2] = {3, 2}, HS[2] = {2, 1}, IN[2] = {1, 3}, HB[2] = {0, 1};
        const int nd[2] = {2, 1}, dil[2][2] = {{1, 2}, {4, 0}};
        enum { T = 300, K = 3 };
        static double xin[T], out[T];
        uint32_t seed = 11;
        for (int t = 0; t < T; t++)
            xin[t] = 0.8 * rtg_test_rand(&seed);
        /* signals over time: cur[t][c] */
        static double cur[T][8], head[T][8], z[T][8], a[T][8], nxt[T][8];
        int wi = 0;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < 8; c++)
                head[t][c] = 0;
        for (int ar = 0; ar < 2; ar++) {
            const int Cc = C[ar], zc = gated ? 2 * Cc : Cc;
            /* rechannel */
            static double src[T][8];
            for (int t = 0; t < T; t++)
                for (int j = 0; j < IN[ar]; j++)
                    src[t][j] = ar == 0 ? xin[t] : cur[t][j];
            for (int t = 0; t < T; t++)
                for (int r = 0; r < Cc; r++) {
                    double s = 0;
                    for (int j = 0; j < IN[ar]; j++)
                        s += W[wi + r * IN[ar] + j] * src[t][j];
                    cur[t][r] = s;
                }
            wi += Cc * IN[ar];
            for (int l = 0; l < nd[ar]; l++) {
                const double *cw = &W[wi], *cb = cw + zc * Cc * K, *mx = cb + zc, *rw = mx + zc,
                             *rb = rw + Cc * Cc;
                wi += zc * Cc * K + zc + zc + Cc * Cc + Cc;
                for (int t = 0; t < T; t++) {
                    for (int o = 0; o < zc; o++) {
                        double s = cb[o] + mx[o] * xin[t];
                        for (int j = 0; j < Cc; j++)
                            for (int k = 0; k < K; k++) {
                                int tt = t - (K - 1 - k) * dil[ar][l];
                                s += cw[(o * Cc + j) * K + k] * (tt >= 0 ? cur[tt][j] : 0.0);
                            }
                        z[t][o] = s;
                    }
                    for (int c = 0; c < Cc; c++)
                        a[t][c] = gated ? act_tanh(z[t][c]) / (1 + exp(-z[t][Cc + c])) : act_tanh(z[t][c]);
                    for (int c = 0; c < Cc; c++) {
                        double s = rb[c];
                        for (int j = 0; j < Cc; j++)
                            s += rw[c * Cc + j] * a[t][j];
                        nxt[t][c] = cur[t][c] + s;
                        head[t][c] += a[t][c];
                    }
                }
                for (int t = 0; t < T; t++)
                    for (int c = 0; c < Cc; c++)
                        cur[t][c] = nxt[t][c];
            }
            /* head rechannel becomes the next array's head input */
            for (int t = 0; t < T; t++) {
                double hn[8];
                for (int h = 0; h < HS[ar]; h++) {
                    double s = HB[ar] ? W[wi + HS[ar] * Cc + h] : 0;
                    for (int c = 0; c < Cc; c++)
                        s += W[wi + h * Cc + c] * head[t][c];
                    hn[h] = s;
                }
                for (int c = 0; c < 8; c++)
                    head[t][c] = c < HS[ar] ? hn[c] : 0;
            }
            wi += HS[ar] * Cc + (HB[ar] ? HS[ar] : 0);
        }
        assert_int_equal(wi + 1, nw);
        for (int t = 0; t < T; t++)
            out[t] = W[wi] * head[t][0];
        /* Ours, with pre-warm disabled: the direct math starts from zero history. */
        m->prewarm_samples = 0;
        rtg_plan *p = plan_for(m, 7);
        float x[T], y[T], want[T];
        for (int t = 0; t < T; t++) {
            x[t] = (float)xin[t];
            want[t] = (float)out[t];
        }
        rtg_plan_process_long(p, x, y, T);
        rtg_test_assert_close(y, want, T, 2e-6, files[g]);
        rtg_plan_free(p);
        rtg_model_free(m);
    }
}

static void tiny_lstm_prewarm_and_blocks(void **st)
{
    (void)st;
    rtg_model *m = load(rtg_test_source("tests/data/nam/tiny_lstm.nam"));
    assert_int_equal(m->n_layers, 3); /* two LSTM layers and the head */
    assert_true(m->meta.sample_rate == 44100);
    assert_int_equal(m->prewarm_samples, 22050);
    enum { T = 500 };
    float x[T], y1[T], y2[T];
    uint32_t seed = 5;
    for (int t = 0; t < T; t++)
        x[t] = rtg_test_rand(&seed);
    rtg_plan *p1 = plan_for(m, 1), *p2 = plan_for(m, 64);
    rtg_plan_process_long(p1, x, y1, T);
    rtg_plan_process_long(p2, x, y2, T);
    assert_memory_equal(y1, y2, sizeof y1);
    /* Pre-warmed: silence in gives the settled output from the first sample. */
    float zero[64] = {0}, out[64];
    rtg_plan_prewarm(p2);
    rtg_plan_process(p2, zero, out, 64);
    for (int i = 1; i < 64; i++)
        assert_float_equal(out[i], out[0], 1e-6);
    rtg_plan_free(p1);
    rtg_plan_free(p2);
    rtg_model_free(m);
}

static void malformed_files_are_refused(void **st)
{
    (void)st;
    static const struct {
        const char *file, *message;
    } cases[] = {
        {"truncated_weights", "weights: 126 values, but this WaveNet needs 131"},
        {"extra_weights", "weights: 133 values, but this WaveNet needs 131"},
        {"lstm_wrong_count", "but this LSTM needs"},
        {"unknown_architecture", "architecture 'Transformer': not supported"},
        {"bad_version", "version 0.9.1: not supported"},
        {"version_not_string", "version: expected a string"},
        {"missing_config", "key 'config'"},
        {"missing_weights", "key 'weights'"},
        {"missing_channels", "config.layers[0]: missing key 'channels'"},
        {"missing_dilations", "config.layers[1].dilations"},
        {"string_weight", "weights[3]: expected a finite number"},
        {"negative_kernel", "config.layers[0].kernel_size is -3"},
        {"zero_dilation", "config.layers[0].dilations[1]"},
        {"unknown_activation", "not supported: 'Swish'"},
        {"film_not_supported", "not supported: 'film_params'"},
        {"bottleneck_not_supported", "not supported: 'bottleneck'"},
        {"post_head_not_supported", "not supported: 'head (a post-stack head)'"},
        {"chain_mismatch", "input_size is 5 but the previous array has 3 channels"},
        {"head_channels_mismatch", "channels is 3 but the previous array's head_size is 2"},
        {"lstm_missing_hidden", "missing key 'hidden_size'"},
        {"bad_sample_rate", "sample_rate: expected a rate in Hz"},
        {"not_json", "not_json.nam:1:"},
        {"nan_weight", "nan_weight.nam:1:"},
        {"huge_weight", "huge_weight.nam:1:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tests/data/nam/bad/%s.nam", cases[i].file);
        char path[4096];
        snprintf(path, sizeof path, "%s", rtg_test_source(rel));
        rtg_model *m = (rtg_model *)1;
        rtg_error err = {{0}};
        int rc = rtg_nam_load(path, &m, &err);
        if (rc == RTG_OK)
            fail_msg("%s: loaded, but it is malformed", cases[i].file);
        assert_null(m);
        if (!strstr(err.msg, cases[i].message))
            fail_msg("%s: message \"%s\" does not say \"%s\"", cases[i].file, err.msg, cases[i].message);
        if (!strstr(err.msg, cases[i].file))
            fail_msg("%s: message \"%s\" does not name the file", cases[i].file, err.msg);
        assert_null(strchr(err.msg, '\n'));
    }
}

int main(void)
{
    const struct CMUnitTest own[] = {
        cmocka_unit_test(tiny_wavenet_matches_direct_math),
        cmocka_unit_test(tiny_lstm_prewarm_and_blocks),
        cmocka_unit_test(malformed_files_are_refused),
    };
    const struct CMUnitTest conformance[] = {
        cmocka_unit_test(wavenet_a1_standard_matches_nam),
        cmocka_unit_test(lstm_matches_nam),
        cmocka_unit_test(tiny_wavenet_loads_and_renders),
    };
    int failed = cmocka_run_group_tests_name("nam", own, NULL, NULL);
    if (!rtg_test_have_shared("test_nam"))
        return failed;
    return failed + cmocka_run_group_tests_name("nam conformance", conformance, NULL, NULL);
}
