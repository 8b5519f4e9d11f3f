/* test_conformance_rtneural.c — RTNeural's conformance set (../shared/
 * conformance/rtneural): every model loaded by rtg_model_load, run through a
 * plan at several block sizes, and compared with the outputs TensorFlow or
 * PyTorch computed, at the thresholds and alignments of RTNeural's own
 * tests/functional. Each case prints its largest error. */
#include "rtg_test.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_model.h"
#include "rtg_plan.h"

static const int blocks[] = {1, 7, 64};
#define N_BLOCKS (int)(sizeof blocks / sizeof blocks[0])

/* Block sizes must not change a single bit of output beyond float noise. */
#define BLOCK_INVARIANCE 1e-6

static const char *data_path(const char *rel, char *buf, size_t size)
{
    char full[256];
    snprintf(full, sizeof full, "conformance/rtneural/%s", rel);
    snprintf(buf, size, "%s", rtg_test_shared(full));
    return buf;
}

static rtg_model *load(const char *rel)
{
    char path[512];
    rtg_model *m = NULL;
    rtg_error err = {{0}};
    if (rtg_model_load(data_path(rel, path, sizeof path), &m, &err) != RTG_OK)
        fail_msg("%s", err.msg);
    return m;
}

static rtg_model *load_layer(const char *rel, const char *prefix, int index)
{
    char path[512];
    rtg_model *m = NULL;
    rtg_error err = {{0}};
    if (rtg_model_load_layer(data_path(rel, path, sizeof path), prefix, index, &m, &err) !=
        RTG_OK)
        fail_msg("%s", err.msg);
    return m;
}

static void load_csv(const char *rel, rtg_csv *c)
{
    char path[512];
    rtg_test_load_csv(data_path(rel, path, sizeof path), c);
}

/* PyTorch's CSVs are channel-major (one channel a line): make them frames. */
static void transpose(rtg_csv *c)
{
    float *t = malloc(sizeof(float) * (size_t)c->frames * (size_t)c->channels);
    assert_non_null(t);
    for (long i = 0; i < c->frames; i++)
        for (int j = 0; j < c->channels; j++)
            t[(size_t)j * (size_t)c->frames + (size_t)i] = c->data[(size_t)i * c->channels + j];
    free(c->data);
    c->data = t;
    long frames = c->channels;
    c->channels = (int)c->frames;
    c->frames = frames;
}

/* Sets all output channels of buffer `buf` as the plan's outputs and builds. */
static rtg_plan *build(rtg_plan_builder *b, int buf, int channels)
{
    rtg_error err = {{0}};
    int *bufs = malloc(sizeof(int) * (size_t)channels);
    int *chan = malloc(sizeof(int) * (size_t)channels);
    assert_true(bufs && chan && buf > 0);
    for (int k = 0; k < channels; k++) {
        bufs[k] = buf;
        chan[k] = k;
    }
    if (rtg_plan_set_outputs(b, channels, bufs, chan, &err) != RTG_OK)
        fail_msg("%s", err.msg);
    free(bufs);
    free(chan);
    rtg_plan *p = rtg_plan_build(b, &err);
    if (!p)
        fail_msg("%s", err.msg);
    return p;
}

/* Runs `frames` frames through a plan of the model in blocks of `block`;
 * returns frames x out_ch floats (malloc'd). */
static float *run_model(const rtg_model *m, const float *x, long frames, int block)
{
    rtg_error err = {{0}};
    rtg_plan_builder *b = rtg_plan_builder_new(block, m->in_ch, 48000);
    assert_non_null(b);
    int y = rtg_plan_add_model(b, m, rtg_plan_input(b), "model", &err);
    if (y < 0)
        fail_msg("%s", err.msg);
    rtg_plan *p = build(b, y, m->out_ch);
    float *out = malloc(sizeof(float) * (size_t)frames * (size_t)m->out_ch);
    assert_non_null(out);
    rtg_plan_process_long(p, x, out, frames);
    rtg_plan_free(p);
    return out;
}

/* Compares frames got[got_from + n] with want[want_from + n], n < count;
 * prints and returns the largest error. */
static double compare(const char *what, const float *got, int got_ch, long got_from,
                      const float *want, int want_ch, long want_from, long count, double tol)
{
    if (got_ch != want_ch)
        fail_msg("%s: %d channels, reference has %d", what, got_ch, want_ch);
    assert_true(count > 0);
    double e = rtg_test_assert_close(got + (size_t)got_from * got_ch,
                                     want + (size_t)want_from * want_ch,
                                     (size_t)count * (size_t)got_ch, tol, what);
    printf("    %-56s max error %.2e (threshold %.0e)\n", what, e, tol);
    return e;
}

/* Runs the model at every block size: each output must match the reference
 * (aligned as given) and the block-1 output. */
static void check_blocks(const char *name, const rtg_model *m, const float *x, long frames,
                         const rtg_csv *want, long got_from, long want_from, long count,
                         double tol)
{
    float *first = NULL;
    for (int i = 0; i < N_BLOCKS; i++) {
        char what[96];
        float *y = run_model(m, x, frames, blocks[i]);
        snprintf(what, sizeof what, "%s, block %d", name, blocks[i]);
        compare(what, y, m->out_ch, got_from, want->data, want->channels, want_from, count, tol);
        if (!first) {
            first = y;
            continue;
        }
        snprintf(what, sizeof what, "%s, block %d vs block 1", name, blocks[i]);
        compare(what, y, m->out_ch, 0, first, m->out_ch, 0, frames, BLOCK_INVARIANCE);
        free(y);
    }
    free(first);
}

/* ---- an independent reference: Keras JSON run in double precision -------- */

static double jv(const json_t *a, int i, int j, int k)
{
    const json_t *v = json_array_get(a, (size_t)i);
    if (j >= 0)
        v = json_array_get(v, (size_t)j);
    if (k >= 0)
        v = json_array_get(v, (size_t)k);
    return json_number_value(v);
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static void activate(const char *act, double *y, int n)
{
    if (!strcmp(act, "softmax")) {
        double mx = y[0], sum = 0;
        for (int i = 1; i < n; i++)
            mx = y[i] > mx ? y[i] : mx;
        for (int i = 0; i < n; i++)
            sum += (y[i] = exp(y[i] - mx));
        for (int i = 0; i < n; i++)
            y[i] /= sum;
        return;
    }
    for (int i = 0; i < n; i++) {
        if (!strcmp(act, "tanh"))
            y[i] = tanh(y[i]);
        else if (!strcmp(act, "relu"))
            y[i] = y[i] > 0 ? y[i] : 0;
        else if (!strcmp(act, "sigmoid"))
            y[i] = sigmoid(y[i]);
        else if (!strcmp(act, "elu"))
            y[i] = y[i] > 0 ? y[i] : exp(y[i]) - 1;
        else
            assert_true(!*act || !strcmp(act, "linear"));
    }
}

/* Runs the Keras layers (dense, conv1d, gru, lstm, batchnorm, prelu,
 * activation) straight from the file's own layouts over the whole sequence,
 * the way Keras defines them. Returns frames x out doubles. */
static double *keras_reference(const char *rel, const float *x, long frames, int *out_ch)
{
    char path[512];
    json_error_t je;
    json_t *root = json_load_file(data_path(rel, path, sizeof path), 0, &je);
    assert_non_null(root);
    const json_t *layers = json_object_get(root, "layers");
    const json_t *in_shape = json_object_get(root, "in_shape");
    int ch = (int)json_integer_value(json_array_get(in_shape, json_array_size(in_shape) - 1));
    double *seq = malloc(sizeof(double) * (size_t)frames * (size_t)ch);
    for (long i = 0; i < frames * ch; i++)
        seq[i] = x[i];
    for (size_t l = 0; l < json_array_size(layers); l++) {
        const json_t *L = json_array_get(layers, l);
        const char *type = json_string_value(json_object_get(L, "type"));
        const json_t *W = json_object_get(L, "weights");
        const json_t *a = json_object_get(L, "activation");
        const char *act = a ? json_string_value(a) : "";
        const json_t *shape = json_object_get(L, "shape");
        const int out = (int)json_integer_value(json_array_get(shape, json_array_size(shape) - 1));
        double *y = calloc((size_t)frames * (size_t)out, sizeof(double));
        assert_non_null(y);
        const json_t *K = json_array_get(W, 0), *B = json_array_get(W, 1);
        if (!strcmp(type, "dense") || !strcmp(type, "time-distributed-dense")) {
            for (long t = 0; t < frames; t++) {
                for (int o = 0; o < out; o++) {
                    double s = B ? jv(B, o, -1, -1) : 0;
                    for (int i = 0; i < ch; i++)
                        s += seq[t * ch + i] * jv(K, i, o, -1);
                    y[t * out + o] = s;
                }
                activate(act, y + t * out, out);
            }
        } else if (!strcmp(type, "conv1d")) {
            const json_t *g = json_object_get(L, "groups");
            const int groups = g ? (int)json_integer_value(g) : 1;
            const int k = (int)json_array_size(K);
            const json_t *dil = json_object_get(L, "dilation");
            const int d = (int)json_integer_value(json_array_get(dil, 0));
            const int cg = ch / groups, og = out / groups;
            for (long t = 0; t < frames; t++) {
                for (int o = 0; o < out; o++) {
                    double s = jv(B, o, -1, -1);
                    for (int tap = 0; tap < k; tap++) {
                        const long src = t - (long)(k - 1 - tap) * d; /* causal */
                        for (int c = 0; c < cg && src >= 0; c++)
                            s += seq[src * ch + (o / og) * cg + c] * jv(K, tap, c, o);
                    }
                    y[t * out + o] = s;
                }
                activate(act, y + t * out, out);
            }
        } else if (!strcmp(type, "gru") || !strcmp(type, "lstm")) {
            /* Keras: GRU (reset_after) gates z r h, LSTM gates i f c o. */
            const int H = out, lstm = !strcmp(type, "lstm");
            const json_t *U = json_array_get(W, 1), *Bs = json_array_get(W, 2);
            double *h = calloc((size_t)H, sizeof *h), *c = calloc((size_t)H, sizeof *c);
            double *gx = malloc(sizeof(double) * 4 * H), *gh = malloc(sizeof(double) * 4 * H);
            for (long t = 0; t < frames; t++) {
                for (int j = 0; j < (lstm ? 4 : 3) * H; j++) {
                    gx[j] = lstm ? jv(Bs, j, -1, -1) : jv(Bs, 0, j, -1);
                    gh[j] = lstm ? 0 : jv(Bs, 1, j, -1);
                    for (int i = 0; i < ch; i++)
                        gx[j] += seq[t * ch + i] * jv(K, i, j, -1);
                    for (int i = 0; i < H; i++)
                        gh[j] += h[i] * jv(U, i, j, -1);
                }
                for (int j = 0; j < H; j++) {
                    if (lstm) {
                        double ig = sigmoid(gx[j] + gh[j]), fg = sigmoid(gx[H + j] + gh[H + j]);
                        double cg2 = tanh(gx[2 * H + j] + gh[2 * H + j]);
                        double og2 = sigmoid(gx[3 * H + j] + gh[3 * H + j]);
                        c[j] = fg * c[j] + ig * cg2;
                        y[t * out + j] = og2 * tanh(c[j]);
                    } else {
                        double z = sigmoid(gx[j] + gh[j]), r = sigmoid(gx[H + j] + gh[H + j]);
                        double n = tanh(gx[2 * H + j] + r * gh[2 * H + j]);
                        y[t * out + j] = z * h[j] + (1 - z) * n;
                    }
                }
                memcpy(h, y + t * out, sizeof(double) * (size_t)H);
            }
            free(h);
            free(c);
            free(gx);
            free(gh);
        } else if (!strcmp(type, "batchnorm")) {
            const int affine = json_array_size(W) == 4;
            const double eps = json_number_value(json_object_get(L, "epsilon"));
            for (long t = 0; t < frames; t++)
                for (int i = 0; i < ch; i++) {
                    double mean = jv(W, affine ? 2 : 0, i, -1), var = jv(W, affine ? 3 : 1, i, -1);
                    double v = (seq[t * ch + i] - mean) / sqrt(var + eps);
                    y[t * ch + i] = affine ? v * jv(W, 0, i, -1) + jv(W, 1, i, -1) : v;
                }
        } else if (!strcmp(type, "prelu")) {
            const json_t *alpha = json_array_get(json_array_get(W, 0), 0);
            const int n = (int)json_array_size(alpha);
            for (long i = 0; i < frames * ch; i++)
                y[i] = seq[i] > 0 ? seq[i] : seq[i] * jv(alpha, (int)(i % ch) % n, -1, -1);
        } else if (!strcmp(type, "activation")) {
            for (long t = 0; t < frames; t++) {
                memcpy(y + t * ch, seq + t * ch, sizeof(double) * (size_t)ch);
                activate(act, y + t * ch, ch);
            }
        } else {
            fail_msg("reference: no %s", type);
        }
        free(seq);
        seq = y;
        ch = out;
    }
    json_decref(root);
    *out_ch = ch;
    return seq;
}

/* ---- Keras sequential models ----------------------------------------------- */

static const struct {
    const char *model, *x, *y;
    double tol; /* tests/functional/test_configs.hpp */
} keras_cases[] = {
    {"models/dense.json", "test_data/dense_x_python.csv", "test_data/dense_y_python.csv", 1e-6},
    {"models/conv.json", "test_data/conv_x_python.csv", "test_data/conv_y_python.csv", 1e-6},
    {"models/lstm.json", "test_data/lstm_x_python.csv", "test_data/lstm_y_python.csv", 1e-6},
    {"models/lstm_1d.json", "test_data/lstm_1d_x_python.csv", "test_data/lstm_1d_y_python.csv",
     1e-6},
    {"models/gru.json", "test_data/gru_x_python.csv", "test_data/gru_y_python.csv", 5e-6},
    {"models/gru_1d.json", "test_data/gru_1d_x_python.csv", "test_data/gru_1d_y_python.csv",
     1e-6},
};

static void keras_sequential(void **st)
{
    (void)st;
    for (size_t c = 0; c < sizeof keras_cases / sizeof keras_cases[0]; c++) {
        rtg_csv x, y;
        load_csv(keras_cases[c].x, &x);
        load_csv(keras_cases[c].y, &y);
        printf("  %s\n", keras_cases[c].model);
        /* the test's own reference (used for full_model) agrees with Keras */
        int ch;
        double *ref = keras_reference(keras_cases[c].model, x.data, x.frames, &ch);
        float *reff = malloc(sizeof(float) * (size_t)x.frames * (size_t)ch);
        for (long i = 0; i < x.frames * ch; i++)
            reff[i] = (float)ref[i];
        compare("double reference vs Keras", reff, ch, 0, y.data, y.channels, 0, y.frames,
                keras_cases[c].tol);
        free(ref);
        free(reff);
        rtg_model *m = load(keras_cases[c].model);
        check_blocks(keras_cases[c].model + 7, m, x.data, x.frames, &y, 0, 0, y.frames,
                     keras_cases[c].tol);
        rtg_model_free(m);
        rtg_csv_free(&x);
        rtg_csv_free(&y);
    }
}

/* full_model.json has no framework output: RTNeural compares its two APIs.
 * Here the whole-model plan is compared with the layers loaded one by one
 * (FILE#N) and chained, and with the double-precision Keras reference. */
static void keras_full_model(void **st)
{
    (void)st;
    rtg_csv x;
    load_csv("test_data/dense_x_python.csv", &x);
    rtg_model *m = load("models/full_model.json");
    assert_int_equal(m->n_layers, 4);
    printf("  models/full_model.json\n");

    float *chained = malloc(sizeof(float) * (size_t)x.frames);
    memcpy(chained, x.data, sizeof(float) * (size_t)x.frames);
    for (int i = 0; i < m->n_layers; i++) {
        rtg_model *layer = load_layer("models/full_model.json", NULL, i);
        assert_int_equal(layer->n_layers, 1);
        assert_int_equal(layer->layers[0].type, m->layers[i].type);
        float *next = run_model(layer, chained, x.frames, 64);
        free(chained);
        chained = next;
        rtg_model_free(layer);
    }
    int ch;
    double *ref = keras_reference("models/full_model.json", x.data, x.frames, &ch);
    assert_int_equal(ch, 1);
    rtg_csv want = {.data = malloc(sizeof(float) * (size_t)x.frames), .frames = x.frames,
                    .channels = 1};
    for (long i = 0; i < x.frames; i++)
        want.data[i] = (float)ref[i];
    check_blocks("full_model vs double reference", m, x.data, x.frames, &want, 0, 0, x.frames,
                 1e-5);
    float *whole = run_model(m, x.data, x.frames, 7);
    compare("whole model vs layers one by one (FILE#N)", whole, 1, 0, chained, 1, 0, x.frames,
            1e-12);
    free(whole);
    free(chained);
    free(ref);
    rtg_csv_free(&want);
    rtg_model_free(m);
    rtg_csv_free(&x);
}

/* ---- PyTorch state dicts ---------------------------------------------------- */

/* lstm_torch / gru_torch: whole file as one model (groups by prefix, the
 * 3-layer stack as 3 layers), and again reference by reference. */
static void torch_rnn(void **st)
{
    (void)st;
    static const struct { const char *model, *x, *y, *first, *stack, *head; } cases[] = {
        {"models/lstm_torch.json", "test_data/lstm_torch_x_python.csv",
         "test_data/lstm_torch_y_python.csv", "lstm.", "lstm2.", "dense."},
        {"models/gru_torch.json", "test_data/gru_torch_x_python.csv",
         "test_data/gru_torch_y_python.csv", "gru.", "gru2.", "dense."},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rtg_csv x, y;
        load_csv(cases[c].x, &x);
        load_csv(cases[c].y, &y);
        rtg_model *m = load(cases[c].model);
        assert_int_equal(m->n_layers, 5);
        printf("  %s\n", cases[c].model);
        check_blocks(cases[c].model + 7, m, x.data, x.frames, &y, 0, 0, y.frames, 1e-6);

        float *h = malloc(sizeof(float) * (size_t)x.frames);
        memcpy(h, x.data, sizeof(float) * (size_t)x.frames);
        struct { const char *prefix; int index; } refs[] = {
            {cases[c].first, -1}, {cases[c].stack, 0}, {cases[c].stack, 1},
            {cases[c].stack, 2},  {cases[c].head, -1},
        };
        for (int r = 0; r < 5; r++) {
            rtg_model *layer = load_layer(cases[c].model, refs[r].prefix, refs[r].index);
            float *next = run_model(layer, h, x.frames, 64);
            free(h);
            h = next;
            rtg_model_free(layer);
        }
        compare("reference by reference (PREFIX, stack index)", h, 1, 0, y.data, 1, 0, y.frames,
                1e-6);
        free(h);
        rtg_model_free(m);
        rtg_csv_free(&x);
        rtg_csv_free(&y);
    }
}

/* Conv1d(1 -> 12, k 5): torch's valid output n is our causal frame n + 4. */
static void torch_conv1d(void **st)
{
    (void)st;
    rtg_csv x, y;
    load_csv("test_data/conv1d_torch_x_python.csv", &x);
    load_csv("test_data/conv1d_torch_y_python.csv", &y);
    transpose(&y);
    rtg_model *m = load("models/conv1d_torch.json");
    printf("  models/conv1d_torch.json\n");
    assert_int_equal(m->layers[0].kernel_size, 5);
    check_blocks("conv1d_torch (frame n + 4)", m, x.data, x.frames, &y, 4, 0, y.frames, 1e-6);
    rtg_model_free(m);
    rtg_csv_free(&x);
    rtg_csv_free(&y);
}

/* Stride 3, k 5: RTNeural skips the first 4 frames, then computes on every
 * third, so torch output n is the one computed at input frame 3n + 4. A
 * CONV1D desc computes at frames 0, 3, 6... after reset, so two zero frames
 * go first (the state is zero anyway) and output n is frame 3n + 6. */
static void torch_conv1d_stride(void **st)
{
    (void)st;
    rtg_csv x, y;
    load_csv("test_data/conv1d_torch_x_python_stride_3.csv", &x);
    load_csv("test_data/conv1d_torch_y_python_stride_3.csv", &y);
    transpose(&y);
    rtg_model *m = load("models/conv1d_torch_stride_3.json");
    m->layers[0].stride = 3; /* a state dict does not say; the caller does */
    printf("  models/conv1d_torch_stride_3.json\n");
    const long pad = 2, frames = x.frames + pad;
    float *xp = calloc((size_t)frames, sizeof(float));
    memcpy(xp + pad, x.data, sizeof(float) * (size_t)x.frames);
    assert_int_equal(y.frames, (x.frames - 4) / 3);
    for (int b = 0; b < N_BLOCKS; b++) {
        float *out = run_model(m, xp, frames, blocks[b]);
        /* gather the computed frames, check the held ones repeat them */
        float *got = malloc(sizeof(float) * (size_t)y.frames * 12);
        for (long n = 0; n < y.frames; n++) {
            const float *at = out + (size_t)(3 * n + 6) * 12;
            memcpy(got + n * 12, at, sizeof(float) * 12);
            for (int hold = 1; hold < 3 && 3 * n + 6 + hold < frames; hold++)
                assert_memory_equal(at + hold * 12, at, sizeof(float) * 12);
        }
        char what[64];
        snprintf(what, sizeof what, "conv1d stride 3 (frame 3n + 6), block %d", blocks[b]);
        compare(what, got, 12, 0, y.data, y.channels, 0, y.frames, 1e-6);
        free(got);
        free(out);
    }
    free(xp);
    rtg_model_free(m);
    rtg_csv_free(&x);
    rtg_csv_free(&y);
}

/* Grouped convs, named in_out_kernel_dilation_groups; output n + (k-1)*d. */
static void torch_conv1d_groups(void **st)
{
    (void)st;
    static const int cases[][5] = {{6, 3, 3, 1, 3}, {6, 3, 4, 10, 3}, {6, 6, 1, 1, 6}};
    rtg_csv x;
    load_csv("test_data/conv1d_torch_group_x_python.csv", &x);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int *k = cases[c];
        char model[96], ydata[96], name[64];
        snprintf(model, sizeof model, "models/conv1d_torch_group_%d_%d_%d_%d_%d.json", k[0], k[1],
                 k[2], k[3], k[4]);
        snprintf(ydata, sizeof ydata, "test_data/conv1d_torch_group_y_python_%d_%d_%d_%d_%d.csv",
                 k[0], k[1], k[2], k[3], k[4]);
        rtg_csv y;
        load_csv(ydata, &y);
        transpose(&y);
        rtg_model *m = load(model);
        rtg_layer_desc *d = &m->layers[0];
        assert_int_equal(d->out_ch, k[1]);
        assert_int_equal(d->kernel_size, k[2]);
        /* geometry the state dict does not carry */
        d->dilation = k[3];
        d->groups = k[4];
        d->in_ch *= k[4];
        m->in_ch = d->in_ch;
        assert_int_equal(d->in_ch, k[0]);
        printf("  %s\n", model);
        const long crop = (long)(k[2] - 1) * k[3];
        assert_int_equal(y.frames, x.frames - crop);
        snprintf(name, sizeof name, "group conv (frame n + %ld)", crop);
        check_blocks(name, m, x.data, x.frames, &y, crop, 0, y.frames, 1e-6);
        rtg_model_free(m);
        rtg_csv_free(&y);
    }
    rtg_csv_free(&x);
}

static void add_run(const rtg_step *s, int frames)
{
    for (int i = 0; i < frames * s->out_ch; i++)
        s->out[i] = s->in[0][i] + s->in[1][i];
}

/* microTCN block, loaded layer by layer: conv1 (k 4, d 10, no bias) -> bn ->
 * PReLU, plus res (a 1x1 conv of the block input), added. Torch's valid
 * output n is our frame n + (4-1)*10 = n + 30. */
static void torch_microtcn(void **st)
{
    (void)st;
    rtg_csv x, y;
    load_csv("test_data/microtcn_x.csv", &x);
    load_csv("test_data/microtcn_y.csv", &y);
    transpose(&y);
    rtg_model *conv1 = load_layer("models/microtcn/conv1.json", "", -1);
    rtg_model *bn = load_layer("models/microtcn/bn.json", "", -1);
    rtg_model *relu = load_layer("models/microtcn/relu.json", "", -1);
    rtg_model *res = load_layer("models/microtcn/res.json", "", -1);
    conv1->layers[0].dilation = 10;
    assert_int_equal(conv1->layers[0].kernel_size, 4);
    assert_null(conv1->layers[0].b);
    assert_int_equal(bn->layers[0].type, RTG_LAYER_BATCHNORM);
    assert_int_equal(relu->layers[0].type, RTG_LAYER_PRELU);
    assert_int_equal(res->layers[0].kernel_size, 1);
    const long crop = 30;
    assert_int_equal(y.frames, x.frames - crop);
    printf("  models/microtcn/{conv1,bn,relu,res}.json\n");
    float *first = NULL;
    for (int b = 0; b < N_BLOCKS; b++) {
        rtg_error err = {{0}};
        rtg_plan_builder *pb = rtg_plan_builder_new(blocks[b], 1, 48000);
        int in = rtg_plan_input(pb);
        int h = rtg_plan_add_model(pb, conv1, in, "conv1", &err);
        h = h > 0 ? rtg_plan_add_model(pb, bn, h, "bn", &err) : h;
        h = h > 0 ? rtg_plan_add_model(pb, relu, h, "relu", &err) : h;
        int r = h > 0 ? rtg_plan_add_model(pb, res, in, "res", &err) : h;
        if (h < 0 || r < 0)
            fail_msg("%s", err.msg);
        int sum = rtg_plan_buffer(pb, 32);
        const int ins[2] = {h, r};
        rtg_custom_step add = {.run = add_run, .in = ins, .n_in = 2, .out = sum,
                               .label = "add", .op = "add", .macs = 1};
        if (rtg_plan_add_custom(pb, &add, &err) < 0)
            fail_msg("%s", err.msg);
        rtg_plan *p = build(pb, sum, 32);
        float *out = malloc(sizeof(float) * (size_t)x.frames * 32);
        rtg_plan_process_long(p, x.data, out, x.frames);
        rtg_plan_free(p);
        char what[64];
        snprintf(what, sizeof what, "microtcn (frame n + 30), block %d", blocks[b]);
        compare(what, out, 32, crop, y.data, y.channels, 0, y.frames, 1e-6);
        if (!first) {
            first = out;
        } else {
            snprintf(what, sizeof what, "microtcn, block %d vs block 1", blocks[b]);
            compare(what, out, 32, 0, first, 32, 0, x.frames, BLOCK_INVARIANCE);
            free(out);
        }
    }
    free(first);
    rtg_model_free(conv1);
    rtg_model_free(bn);
    rtg_model_free(relu);
    rtg_model_free(res);
    rtg_csv_free(&x);
    rtg_csv_free(&y);
}

/* ConvTranspose1d(4, 15, k 5, stride 3, padding 3) as RTNeural runs it: a
 * Conv1D with the transformed weights over the input zero-stuffed to the
 * stride, then k-1-padding zero frames. The plain variant reads output
 * frame n + padding, the "_cc" one (made causal) output frame n. */
static void torch_convtranspose1d(void **st)
{
    (void)st;
    static const struct { const char *x, *y; long offset; } cases[] = {
        {"test_data/convtranspose1d_torch_x_python.csv",
         "test_data/convtranspose1d_torch_y_python.csv", 3},
        {"test_data/convtranspose1d_torch_x_python_cc.csv",
         "test_data/convtranspose1d_torch_y_python_cc.csv", 0},
    };
    const int stride = 3, padding = 3, k = 5;
    rtg_model *m = load("models/convtranspose1d_torch.json");
    assert_int_equal(m->layers[0].type, RTG_LAYER_CONV1D);
    assert_int_equal(m->in_ch, 4);
    assert_int_equal(m->out_ch, 15);
    printf("  models/convtranspose1d_torch.json\n");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rtg_csv x, y;
        load_csv(cases[c].x, &x);
        load_csv(cases[c].y, &y);
        transpose(&x);
        transpose(&y);
        const long base = (x.frames - 1) * stride - padding + 1;
        const long frames = padding + base + (k - 1) - padding;
        assert_int_equal(y.frames, base + (k - 1) - padding);
        float *stuffed = calloc((size_t)frames * 4, sizeof(float));
        for (long i = 0; i < frames; i += stride)
            if (i / stride < x.frames)
                memcpy(stuffed + i * 4, x.data + (i / stride) * 4, sizeof(float) * 4);
        char name[64];
        snprintf(name, sizeof name, "convtranspose1d%s (frame n + %ld)",
                 cases[c].offset ? "" : " _cc", cases[c].offset);
        check_blocks(name, m, stuffed, cases[c].offset ? frames : y.frames, &y, cases[c].offset,
                     0, y.frames, 2e-5);
        free(stuffed);
        rtg_csv_free(&x);
        rtg_csv_free(&y);
    }
    rtg_model_free(m);
}

/* ---- 2-D and windowed models -------------------------------------------------- */

/* conv2d_model_test.cpp: frames of 23 features; compare from the frame
 * where the stream's receptive field is full, against TensorFlow's frame
 * shifted by what its "same" time padding added on the left. */
static void keras_conv2d(void **st)
{
    (void)st;
    rtg_csv xc, yc;
    load_csv("test_data/conv2d_x_python.csv", &xc);
    load_csv("test_data/conv2d_y_python.csv", &yc);
    rtg_model *m = load("models/conv2d.json");
    assert_int_equal(m->in_ch, 23);
    assert_int_equal(m->out_ch, 8);
    const long frames = xc.frames / 23;
    rtg_csv y = {.data = yc.data, .frames = yc.frames / 8, .channels = 8};
    int receptive = 1, tf_pad_left = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const rtg_layer_desc *d = &m->layers[i];
        if (d->type != RTG_LAYER_CONV2D)
            continue;
        receptive += (d->kernel_size - 1) * d->dilation;
        if (!d->valid_pad)
            tf_pad_left += (d->kernel_size - 1) * d->dilation / 2;
    }
    assert_int_equal(receptive, 15);
    assert_int_equal(tf_pad_left, 1);
    printf("  models/conv2d.json\n");
    check_blocks("conv2d (frame n + 14 vs TF frame n + 1)", m, xc.data, frames, &y,
                 receptive - 1, tf_pad_left, frames - (receptive - 1), 1e-6);
    rtg_model_free(m);
    rtg_csv_free(&xc);
    rtg_csv_free(&yc);
}

/* conv_stateless.json: 128 samples in one frame, 16 out (stateless conv1d
 * chain, padding "valid"). Three identical windows: each frame stands alone. */
static void keras_conv_stateless(void **st)
{
    (void)st;
    rtg_csv xc, yc;
    load_csv("test_data/conv_stateless_x_python.csv", &xc);
    load_csv("test_data/conv_stateless_y_python.csv", &yc);
    rtg_model *m = load("models/conv_stateless.json");
    assert_int_equal(m->in_ch, 128);
    assert_int_equal(m->out_ch, 16);
    assert_int_equal(m->layers[0].type, RTG_LAYER_CONV1D_STATELESS);
    float x[3 * 128], want[3 * 16];
    for (int f = 0; f < 3; f++) {
        memcpy(x + f * 128, xc.data, sizeof(float) * 128);
        memcpy(want + f * 16, yc.data, sizeof(float) * 16);
    }
    rtg_csv y = {.data = want, .frames = 3, .channels = 16};
    printf("  models/conv_stateless.json\n");
    check_blocks("conv_stateless (one window a frame)", m, x, 3, &y, 0, 0, 3, 1e-6);
    rtg_model_free(m);
    rtg_csv_free(&xc);
    rtg_csv_free(&yc);
}

static void bad_lstm_is_refused(void **st)
{
    (void)st;
    char path[512], want[600];
    data_path("models/bad_lstm.json", path, sizeof path);
    rtg_model *m = NULL;
    rtg_error err = {{0}};
    assert_int_equal(rtg_model_load(path, &m, &err), RTG_EINVAL);
    assert_null(m);
    snprintf(want, sizeof want, "%s: layer 0 (lstm): declared 16 units but weights give 20", path);
    assert_string_equal(err.msg, want);
    printf("    %s\n", err.msg);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!rtg_test_have_shared("test_conformance_rtneural"))
        return RTG_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keras_sequential),
        cmocka_unit_test(keras_full_model),
        cmocka_unit_test(keras_conv2d),
        cmocka_unit_test(keras_conv_stateless),
        cmocka_unit_test(torch_rnn),
        cmocka_unit_test(torch_conv1d),
        cmocka_unit_test(torch_conv1d_stride),
        cmocka_unit_test(torch_conv1d_groups),
        cmocka_unit_test(torch_microtcn),
        cmocka_unit_test(torch_convtranspose1d),
        cmocka_unit_test(bad_lstm_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
