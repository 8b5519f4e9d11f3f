/* test_model_load.c — the model loaders: Keras and PyTorch layouts converted
 * to the canonical ones (tiny hand-written files whose expected weights are
 * stated here), format detection, layer references, and one clear message
 * for every malformed file in tests/data/bad_models/. */
#include "rtg_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtg_model.h"

static char tmp_dir[256];

/* Writes `text` to a file in the temp dir and returns its (static) path. */
static const char *write_model(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static rtg_model *load_ok(const char *path)
{
    rtg_model *m = NULL;
    rtg_error err = {{0}};
    if (rtg_model_load(path, &m, &err) != RTG_OK)
        fail_msg("%s", err.msg);
    return m;
}

static rtg_model *load_layer_ok(const char *path, const char *prefix, int index)
{
    rtg_model *m = NULL;
    rtg_error err = {{0}};
    if (rtg_model_load_layer(path, prefix, index, &m, &err) != RTG_OK)
        fail_msg("%s", err.msg);
    return m;
}

static void expect_floats(const float *got, const float *want, int n, const char *what)
{
    assert_non_null(got);
    rtg_test_assert_close(got, want, (size_t)n, 0.0, what);
}

/* ---- Keras layouts -------------------------------------------------------- */

static void keras_dense(void **st)
{
    (void)st;
    /* Keras kernel [in=2][out=3] -> w[out][in]; "relu" fuses into the desc. */
    rtg_model *m = load_ok(write_model("dense.json",
        "{\"in_shape\": [null, 2], \"layers\": ["
        " {\"type\": \"dense\", \"activation\": \"relu\", \"shape\": [null, 3],"
        "  \"weights\": [[[1, 2, 3], [4, 5, 6]], [0.5, 0.25, 0.125]]},"
        " {\"type\": \"time-distributed-dense\", \"activation\": \"\", \"shape\": [null, 1],"
        "  \"weights\": [[[7], [8], [9]]]}]}"));
    assert_int_equal(m->n_layers, 2);
    assert_int_equal(m->in_ch, 2);
    assert_int_equal(m->out_ch, 1);
    const rtg_layer_desc *d = &m->layers[0];
    assert_int_equal(d->type, RTG_LAYER_DENSE);
    assert_int_equal(d->in_ch, 2);
    assert_int_equal(d->out_ch, 3);
    assert_int_equal(d->act, RTG_ACT_RELU);
    expect_floats(d->w, (const float[]){1, 4, 2, 5, 3, 6}, 6, "dense w");
    expect_floats(d->b, (const float[]){0.5f, 0.25f, 0.125f}, 3, "dense b");
    d = &m->layers[1];
    assert_int_equal(d->act, RTG_ACT_NONE);
    assert_null(d->b); /* one weights entry: no bias */
    expect_floats(d->w, (const float[]){7, 8, 9}, 3, "dense w (no bias)");
    rtg_model_free(m);
}

static void keras_lstm(void **st)
{
    (void)st;
    /* in 1, H 2: W[1][8], U[2][8], b[8]; gates i f c o = i f g o. */
    rtg_model *m = load_ok(write_model("lstm.json",
        "{\"in_shape\": [null, null, 1], \"layers\": ["
        " {\"type\": \"lstm\", \"activation\": \"tanh\", \"shape\": [null, null, 2],"
        "  \"weights\": [[[1, 2, 3, 4, 5, 6, 7, 8]],"
        "               [[11, 12, 13, 14, 15, 16, 17, 18], [21, 22, 23, 24, 25, 26, 27, 28]],"
        "               [31, 32, 33, 34, 35, 36, 37, 38]]}]}"));
    const rtg_layer_desc *d = &m->layers[0];
    assert_int_equal(d->type, RTG_LAYER_LSTM);
    assert_int_equal(d->in_ch, 1);
    assert_int_equal(d->out_ch, 2);
    assert_int_equal(d->act, RTG_ACT_NONE); /* the cell's tanh is not an output activation */
    expect_floats(d->w, (const float[]){1, 2, 3, 4, 5, 6, 7, 8}, 8, "W_ih[8][1]");
    expect_floats(d->u, (const float[]){11, 21, 12, 22, 13, 23, 14, 24,
                                        15, 25, 16, 26, 17, 27, 18, 28}, 16, "W_hh[8][2]");
    expect_floats(d->b, (const float[]){31, 32, 33, 34, 35, 36, 37, 38}, 8, "b");
    assert_null(d->b2);
    rtg_model_free(m);
}

static void keras_gru(void **st)
{
    (void)st;
    /* in 1, H 1: Keras gates z r h -> canonical r z n; b[2][3] -> b_ih, b_hh. */
    rtg_model *m = load_ok(write_model("gru.json",
        "{\"in_shape\": [null, null, 1], \"layers\": ["
        " {\"type\": \"gru\", \"activation\": \"tanh\", \"shape\": [null, null, 1],"
        "  \"weights\": [[[1, 2, 3]], [[4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]}]}"));
    const rtg_layer_desc *d = &m->layers[0];
    assert_int_equal(d->type, RTG_LAYER_GRU);
    expect_floats(d->w, (const float[]){2, 1, 3}, 3, "W_ih");
    expect_floats(d->u, (const float[]){5, 4, 6}, 3, "W_hh");
    expect_floats(d->b, (const float[]){8, 7, 9}, 3, "b_ih");
    expect_floats(d->b2, (const float[]){11, 10, 12}, 3, "b_hh");
    rtg_model_free(m);
}

static void keras_conv_and_friends(void **st)
{
    (void)st;
    /* conv1d: Keras [k=2][in=2][out=2] -> w[out][in][k], taps not reversed;
     * grouped conv [k=1][in/groups=1][out=2], groups 2; prelu [1][2] and
     * shared [1][1]; batchnorm affine and not; an activation layer. */
    rtg_model *m = load_ok(write_model("conv.json",
        "{\"in_shape\": [null, 100, 2], \"layers\": ["
        " {\"type\": \"conv1d\", \"activation\": \"tanh\", \"shape\": [null, 100, 2],"
        "  \"kernel_size\": [2], \"dilation\": [3],"
        "  \"weights\": [[[[1, 2], [3, 4]], [[5, 6], [7, 8]]], [0.5, -0.5]]},"
        " {\"type\": \"conv1d\", \"activation\": \"\", \"shape\": [null, 100, 2],"
        "  \"kernel_size\": [1], \"dilation\": [1], \"groups\": 2,"
        "  \"weights\": [[[[9, 10]]], [0, 0]]},"
        " {\"type\": \"prelu\", \"shape\": [null, 100, 2], \"weights\": [[[0.25, 0.5]]]},"
        " {\"type\": \"prelu\", \"shape\": [null, 100, 2], \"weights\": [[[0.125]]]},"
        " {\"type\": \"batchnorm\", \"shape\": [null, 100, 2], \"epsilon\": 0.01,"
        "  \"weights\": [[1, 2], [3, 4], [5, 6], [7, 8]]},"
        " {\"type\": \"batchnorm\", \"shape\": [null, 100, 2], \"epsilon\": 5,"
        "  \"weights\": [[5, 6], [7, 8]]},"
        " {\"type\": \"activation\", \"activation\": \"elu\", \"shape\": [null, 100, 2],"
        "  \"weights\": []}]}"));
    assert_int_equal(m->n_layers, 7);
    const rtg_layer_desc *d = &m->layers[0];
    assert_int_equal(d->type, RTG_LAYER_CONV1D);
    assert_int_equal(d->kernel_size, 2);
    assert_int_equal(d->dilation, 3);
    assert_int_equal(d->groups, 1);
    assert_int_equal(d->act, RTG_ACT_TANH);
    /* w[o][i][k] = kernel[k][i][o] */
    expect_floats(d->w, (const float[]){1, 5, 3, 7, 2, 6, 4, 8}, 8, "conv w");
    d = &m->layers[1];
    assert_int_equal(d->groups, 2);
    assert_int_equal(d->in_ch, 2);
    expect_floats(d->w, (const float[]){9, 10}, 2, "grouped conv w");
    d = &m->layers[2];
    assert_int_equal(d->type, RTG_LAYER_PRELU);
    assert_int_equal(d->n_alpha, 2);
    expect_floats(d->w, (const float[]){0.25f, 0.5f}, 2, "alpha");
    assert_int_equal(m->layers[3].n_alpha, 1);
    d = &m->layers[4];
    assert_int_equal(d->type, RTG_LAYER_BATCHNORM);
    expect_floats(d->gamma, (const float[]){1, 2}, 2, "gamma");
    expect_floats(d->beta, (const float[]){3, 4}, 2, "beta");
    expect_floats(d->mean, (const float[]){5, 6}, 2, "mean");
    expect_floats(d->var, (const float[]){7, 8}, 2, "var");
    assert_float_equal(d->eps, 0.01f, 0);
    d = &m->layers[5];
    assert_null(d->gamma);
    assert_null(d->beta);
    expect_floats(d->mean, (const float[]){5, 6}, 2, "mean (not affine)");
    assert_float_equal(d->eps, 5.0f, 0);
    d = &m->layers[6];
    assert_int_equal(d->type, RTG_LAYER_ACTIVATION);
    assert_int_equal(d->act, RTG_ACT_ELU);
    assert_float_equal(d->alpha, 1.0f, 0);
    rtg_model_free(m);
}

static void keras_windowed_conv(void **st)
{
    (void)st;
    /* A fixed-length sequence that a conv shortens is one window per frame:
     * 4 steps of 1 channel, kernel 3 valid -> 2 steps of 2 channels; the
     * prelu's alphas repeat per step and the batchnorm goes per filter. */
    rtg_model *m = load_ok(write_model("window.json",
        "{\"in_shape\": [null, 4, 1], \"layers\": ["
        " {\"type\": \"conv1d\", \"activation\": \"\", \"shape\": [null, 2, 2],"
        "  \"kernel_size\": [3], \"dilation\": [1],"
        "  \"weights\": [[[[1, 2]], [[3, 4]], [[5, 6]]], [0, 0]]},"
        " {\"type\": \"prelu\", \"shape\": [null, 2, 2], \"weights\": [[[0.25, 0.5]]]},"
        " {\"type\": \"batchnorm\", \"shape\": [null, 2, 2], \"epsilon\": 0.5,"
        "  \"weights\": [[0, 0], [1, 1]]}]}"));
    assert_int_equal(m->in_ch, 4);
    assert_int_equal(m->out_ch, 4);
    const rtg_layer_desc *d = &m->layers[0];
    assert_int_equal(d->type, RTG_LAYER_CONV1D_STATELESS);
    assert_int_equal(d->time_in, 4);
    assert_int_equal(d->time_out, 2);
    assert_int_equal(d->features_in, 1);
    assert_int_equal(d->features_out, 2);
    assert_int_equal(d->valid_pad, 1);
    expect_floats(d->w, (const float[]){1, 3, 5, 2, 4, 6}, 6, "stateless w");
    d = &m->layers[1];
    assert_int_equal(d->n_alpha, 4);
    expect_floats(d->w, (const float[]){0.25f, 0.5f, 0.25f, 0.5f}, 4, "alpha per step");
    d = &m->layers[2];
    assert_int_equal(d->type, RTG_LAYER_BATCHNORM2D);
    assert_int_equal(d->features_in, 2);
    assert_int_equal(d->filters_in, 2);
    rtg_model_free(m);
}

static void keras_conv2d(void **st)
{
    (void)st;
    /* 5 features x 1 filter; kernel time 2, features 3, same, stride 2:
     * ceil(5 / 2) = 3 features out of 2 filters. Keras [t][f][in][out] ->
     * w[out][in][t][f]. */
    rtg_model *m = load_ok(write_model("conv2d.json",
        "{\"in_shape\": [null, 10, 5, 1], \"layers\": ["
        " {\"type\": \"conv2d\", \"activation\": \"relu\", \"shape\": [null, 10, 3, 2],"
        "  \"kernel_size_time\": 2, \"kernel_size_feature\": 3, \"dilation\": 1, \"strides\": 2,"
        "  \"num_filters_in\": 1, \"num_features_in\": 5, \"num_filters_out\": 2,"
        "  \"padding\": \"same\","
        "  \"weights\": [[[[[1, 2]], [[3, 4]], [[5, 6]]], [[[7, 8]], [[9, 10]], [[11, 12]]]],"
        "               [0.5, 0.25]]},"
        " {\"type\": \"batchnorm2d\", \"shape\": [null, 10, 3, 2], \"epsilon\": 0.1,"
        "  \"num_filters_in\": 2, \"num_features_in\": 3, \"weights\": [[0, 0], [1, 1]]}]}"));
    assert_int_equal(m->in_ch, 5);
    assert_int_equal(m->out_ch, 6);
    const rtg_layer_desc *d = &m->layers[0];
    assert_int_equal(d->type, RTG_LAYER_CONV2D);
    assert_int_equal(d->features_in, 5);
    assert_int_equal(d->features_out, 3);
    assert_int_equal(d->filters_out, 2);
    assert_int_equal(d->kernel_size, 2);
    assert_int_equal(d->kernel_features, 3);
    assert_int_equal(d->stride, 2);
    assert_int_equal(d->valid_pad, 0);
    assert_int_equal(d->act, RTG_ACT_RELU);
    expect_floats(d->w, (const float[]){1, 3, 5, 7, 9, 11, 2, 4, 6, 8, 10, 12}, 12, "conv2d w");
    assert_int_equal(m->layers[1].type, RTG_LAYER_BATCHNORM2D);
    assert_int_equal(m->layers[1].in_ch, 6);
    rtg_model_free(m);
}

/* ---- PyTorch layouts ------------------------------------------------------ */

static void torch_sequence(void **st)
{
    (void)st;
    /* rnn. is a 2-layer stacked LSTM (4H = 4 rows of H = 1); gru. a GRU;
     * conv. a Conv1d [2][1][2]; bn. a BatchNorm1d with its eps; act. a
     * PReLU; fc. a Linear. File order is layer order. */
    const char *path = write_model("state.json",
        "{\"rnn.weight_ih_l0\": [[1], [2], [3], [4]],"
        " \"rnn.weight_hh_l0\": [[5], [6], [7], [8]],"
        " \"rnn.bias_ih_l0\": [1, 1, 1, 1], \"rnn.bias_hh_l0\": [0.5, 0.5, 0.5, 0.5],"
        " \"rnn.weight_ih_l1\": [[9], [10], [11], [12]],"
        " \"rnn.weight_hh_l1\": [[13], [14], [15], [16]],"
        " \"gru.weight_ih_l0\": [[1], [2], [3]], \"gru.weight_hh_l0\": [[4], [5], [6]],"
        " \"gru.bias_ih_l0\": [7, 8, 9], \"gru.bias_hh_l0\": [10, 11, 12],"
        " \"conv.weight\": [[[1, 2]], [[3, 4]]], \"conv.bias\": [0.5, 0.25],"
        " \"bn.weight\": [1, 2], \"bn.bias\": [3, 4], \"bn.running_mean\": [5, 6],"
        " \"bn.running_var\": [7, 8], \"bn.num_batches_tracked\": 10, \"bn.eps\": 0.001,"
        " \"act.weight\": [0.25, 0.5],"
        " \"fc.weight\": [[1, 2]], \"fc.bias\": [3]}");
    rtg_model *m = load_ok(path);
    assert_int_equal(m->n_layers, 7);
    assert_int_equal(m->in_ch, 1);
    assert_int_equal(m->out_ch, 1);
    const rtg_layer_desc *d = &m->layers[0];
    assert_int_equal(d->type, RTG_LAYER_LSTM);
    expect_floats(d->w, (const float[]){1, 2, 3, 4}, 4, "W_ih l0");
    expect_floats(d->u, (const float[]){5, 6, 7, 8}, 4, "W_hh l0");
    expect_floats(d->b, (const float[]){1.5f, 1.5f, 1.5f, 1.5f}, 4, "b_ih + b_hh");
    d = &m->layers[1];
    assert_int_equal(d->type, RTG_LAYER_LSTM);
    expect_floats(d->w, (const float[]){9, 10, 11, 12}, 4, "W_ih l1");
    expect_floats(d->b, (const float[]){0, 0, 0, 0}, 4, "no biases: zero");
    d = &m->layers[2];
    assert_int_equal(d->type, RTG_LAYER_GRU);
    expect_floats(d->w, (const float[]){1, 2, 3}, 3, "gru W_ih (already r z n)");
    expect_floats(d->b, (const float[]){7, 8, 9}, 3, "gru b_ih");
    expect_floats(d->b2, (const float[]){10, 11, 12}, 3, "gru b_hh");
    d = &m->layers[3];
    assert_int_equal(d->type, RTG_LAYER_CONV1D);
    assert_int_equal(d->kernel_size, 2);
    assert_int_equal(d->out_ch, 2);
    expect_floats(d->w, (const float[]){1, 2, 3, 4}, 4, "conv w (torch order kept)");
    d = &m->layers[4];
    assert_int_equal(d->type, RTG_LAYER_BATCHNORM);
    assert_float_equal(d->eps, 0.001f, 0);
    expect_floats(d->gamma, (const float[]){1, 2}, 2, "bn gamma");
    expect_floats(d->var, (const float[]){7, 8}, 2, "bn var");
    d = &m->layers[5];
    assert_int_equal(d->type, RTG_LAYER_PRELU);
    assert_int_equal(d->n_alpha, 2);
    d = &m->layers[6];
    assert_int_equal(d->type, RTG_LAYER_DENSE);
    expect_floats(d->w, (const float[]){1, 2}, 2, "linear w");
    rtg_model_free(m);

    /* References into the same file. */
    m = load_layer_ok(path, "rnn.", -1); /* the whole stack */
    assert_int_equal(m->n_layers, 2);
    rtg_model_free(m);
    m = load_layer_ok(path, "rnn", 1); /* the trailing '.' may be left out */
    assert_int_equal(m->n_layers, 1);
    expect_floats(m->layers[0].u, (const float[]){13, 14, 15, 16}, 4, "W_hh l1");
    rtg_model_free(m);
    m = load_layer_ok(path, "bn.", -1);
    assert_int_equal(m->layers[0].type, RTG_LAYER_BATCHNORM);
    rtg_model_free(m);
}

static void torch_single_layers(void **st)
{
    (void)st;
    /* BatchNorm1d without eps gets PyTorch's 1e-5. */
    rtg_model *m = load_ok(write_model("bn.json",
        "{\"running_mean\": [0, 1], \"running_var\": [1, 2]}"));
    assert_int_equal(m->layers[0].type, RTG_LAYER_BATCHNORM);
    assert_float_equal(m->layers[0].eps, 1e-5f, 0);
    assert_null(m->layers[0].gamma);
    rtg_model_free(m);

    /* ConvTranspose1d weight [in=2][out=3][k=2], bias [out]: a causal conv
     * with in/out swapped and the taps reversed. */
    m = load_layer_ok(write_model("tconv.json",
        "{\"weight\": [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]],"
        " \"bias\": [0.5, 0.25, 0.125]}"), "", -1);
    const rtg_layer_desc *d = &m->layers[0];
    assert_int_equal(d->type, RTG_LAYER_CONV1D);
    assert_int_equal(d->in_ch, 2);
    assert_int_equal(d->out_ch, 3);
    expect_floats(d->w, (const float[]){2, 1, 8, 7, 4, 3, 10, 9, 6, 5, 12, 11}, 12,
                  "transposed conv w[out][in][k]");
    expect_floats(d->b, (const float[]){0.5f, 0.25f, 0.125f}, 3, "transposed conv bias");
    rtg_model_free(m);

    /* A one-layer file whose tensors carry a prefix still loads with "". */
    m = load_layer_ok(write_model("prefixed.json",
        "{\"head.weight\": [[1, 2], [3, 4]]}"), "", -1);
    assert_int_equal(m->layers[0].type, RTG_LAYER_DENSE);
    assert_null(m->layers[0].b);
    rtg_model_free(m);
}

static void references_and_detection(void **st)
{
    (void)st;
    const char *keras = write_model("two.json",
        "{\"in_shape\": [null, 1], \"layers\": ["
        " {\"type\": \"dense\", \"activation\": \"tanh\", \"shape\": [null, 2],"
        "  \"weights\": [[[1, 2]], [0, 0]]},"
        " {\"type\": \"dense\", \"activation\": \"\", \"shape\": [null, 1],"
        "  \"weights\": [[[3], [4]], [0.5]]}]}");
    rtg_model *m = load_layer_ok(keras, NULL, 1);
    assert_int_equal(m->n_layers, 1);
    assert_int_equal(m->in_ch, 2);
    expect_floats(m->layers[0].w, (const float[]){3, 4}, 2, "keras layer 1");
    expect_floats(m->layers[0].b, (const float[]){0.5f}, 1, "keras layer 1 bias");
    rtg_model_free(m);

    rtg_error err = {{0}};
    assert_int_not_equal(rtg_model_load_layer(keras, NULL, 2, &m, &err), RTG_OK);
    assert_null(m);
    assert_non_null(strstr(err.msg, "has 2 layers, so there is no layer 2"));
    assert_int_not_equal(rtg_model_load_layer(keras, "", -1, &m, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "named by its index"));

    const char *torch = write_model("torch2.json",
        "{\"a.weight\": [[1]], \"b.weight\": [[2]]}");
    assert_int_not_equal(rtg_model_load_layer(torch, "", -1, &m, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "holds several layers (a., b.)"));
    assert_int_not_equal(rtg_model_load_layer(torch, "c", -1, &m, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "no tensors under the prefix \"c\""));
    assert_int_not_equal(rtg_model_load_layer(torch, "a", 1, &m, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "is one layer, so there is no layer 1"));

    assert_int_equal(rtg_model_load("/nonexistent/model.json", &m, &err), RTG_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/model.json: cannot open"));
    const char *array = write_model("array.json", "[1, 2, 3]");
    assert_int_equal(rtg_model_load(array, &m, &err), RTG_ENOTSUP);
    assert_non_null(strstr(err.msg, "not a model format"));
}

/* ---- malformed files ------------------------------------------------------ */

static const struct {
    const char *file;
    const char *message; /* what follows "PATH" in the one-line error */
} bad_models[] = {
    {"syntax_error.json", ":4:33: '}' expected near '\"activation\"'"},
    {"nan_weight.json", ":4:83: invalid token near 'NaN' (NaN and Infinity are not JSON numbers)"},
    {"duplicate_key.json", ":4:16: duplicate object key"},
    {"float_overflow.json", ": layer 0 (dense): weights[0][0][1] = 1e+39 does not fit a float"},
    {"unknown_type.json", ": layer 1 (conv3d): unknown layer type"},
    {"lstm_units.json", ": layer 0 (lstm): declared 3 units but weights give 2"},
    {"dense_bias_shape.json", ": layer 0 (dense): bias weights[1] has shape [2], expected [3]"},
    {"chain_break.json",
     ": layer 1 (dense): takes 3 input channels but the previous layer gives 4"},
    {"missing_weights.json", ": layer 0 (dense): missing list key \"weights\""},
    {"missing_in_shape.json", ": missing key \"in_shape\""},
    {"string_weight.json", ": layer 0 (dense): weights[0][1][0] is a string, expected a number"},
    {"ragged.json", ": layer 0 (dense): weights[0][1] has 2 entries, expected 3 like the first"},
    {"gru_reset_before.json", ": layer 0 (gru): bias is [3]: only GRUs with reset_after=True"},
    {"unknown_activation.json", ": layer 0 (dense): unknown activation \"swish\""},
    {"conv_taps.json", ": layer 0 (conv1d): kernel_size is 3 but weights[0] has 2 taps"},
    {"huge_dilation.json", ": layer 0 (conv1d): dilation is 1000000, must be 1..65536"},
    {"batchnorm_no_epsilon.json", ": layer 0 (batchnorm): missing key \"epsilon\""},
    {"empty_layers.json", ": holds no layers"},
    {"not_a_model.json", ": not a model format rtgraph reads"},
    {"torch_rnn_rows.json", ": layer 0 (rnn rnn.): rnn.weight_hh_l0 is [5][2]: rows are neither"},
    {"torch_chain_break.json",
     ": layer 1 (linear fc2.): takes 3 input channels but the previous layer gives 4"},
    {"torch_bidirectional.json", ": layer 0 (rnn lstm.): unexpected tensor "
                                 "\"lstm.weight_ih_l0_reverse\""},
    {"torch_unknown_tensors.json", ": layer 0 (attn.): tensors \"attn.in_proj\"... are not a "
                                   "layer rtgraph reads"},
};

static void bad_models_have_one_clear_line(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof bad_models / sizeof bad_models[0]; i++) {
        char path[512], want[512];
        snprintf(path, sizeof path, "%s", rtg_test_source("tests/data/bad_models/"));
        strncat(path, bad_models[i].file, sizeof path - strlen(path) - 1);
        snprintf(want, sizeof want, "%s%s", path, bad_models[i].message);
        rtg_model *m = (rtg_model *)1;
        rtg_error err = {{0}};
        int rc = rtg_model_load(path, &m, &err);
        if (rc == RTG_OK)
            fail_msg("%s: loaded, but it is malformed", bad_models[i].file);
        assert_null(m);
        if (strncmp(err.msg, want, strlen(want)))
            fail_msg("%s:\n  got  '%s'\n  want '%s...'", bad_models[i].file, err.msg, want);
        assert_null(strchr(err.msg, '\n'));
    }
}

/* Every fixture in the folder is covered by the table above. */
static void every_fixture_is_tested(void **st)
{
    (void)st;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls '%s'", rtg_test_source("tests/data/bad_models"));
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        int found = 0;
        for (size_t i = 0; i < sizeof bad_models / sizeof bad_models[0]; i++)
            found |= !strcmp(line, bad_models[i].file);
        if (!found)
            fail_msg("tests/data/bad_models/%s has no expected message in this test", line);
        n++;
    }
    pclose(p);
    assert_int_equal(n, (int)(sizeof bad_models / sizeof bad_models[0]));
    assert_true(n >= 12);
}

static int make_tmp(void **st)
{
    (void)st;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/rtg_model_load_XXXXXX");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int remove_tmp(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keras_dense),
        cmocka_unit_test(keras_lstm),
        cmocka_unit_test(keras_gru),
        cmocka_unit_test(keras_conv_and_friends),
        cmocka_unit_test(keras_windowed_conv),
        cmocka_unit_test(keras_conv2d),
        cmocka_unit_test(torch_sequence),
        cmocka_unit_test(torch_single_layers),
        cmocka_unit_test(references_and_detection),
        cmocka_unit_test(bad_models_have_one_clear_line),
        cmocka_unit_test(every_fixture_is_tested),
    };
    return cmocka_run_group_tests(tests, make_tmp, remove_tmp);
}
