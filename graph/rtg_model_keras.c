/* rtg_model_keras.c — RTNeural's Keras sequential JSON to layer descriptions,
 * converting Keras weight layouts to the canonical PyTorch ones. */
#include <stdio.h>
#include <string.h>

#include "rtg_kernel_modules.h"
#include "rtg_model_internal.h"

/* What one frame looks like between layers. Keras streams over time; a
 * conv1d whose output is shorter than its input (padding "valid") turns the
 * whole fixed-length sequence into one frame (a window), and a conv2d model
 * streams frames of features x filters. In a window or grid the frame is
 * `features` positions of `filters` channels, filter fastest (RTNeural's
 * layout). */
typedef enum frame_kind { FRAME_STREAM, FRAME_WINDOW, FRAME_GRID } frame_kind;

typedef struct frame {
    frame_kind kind;
    int ch;                 /* channels of one frame: what the next layer takes */
    int seq_len;            /* STREAM: the fixed sequence length in_shape gives, 0 if free */
    int features, filters;  /* WINDOW (features = time steps) and GRID */
} frame;

/* One entry of "layers" as the readers see it. */
typedef struct keras_layer {
    const json_t *j;
    const json_t *weights;
    int n_weights;
    int units;        /* last entry of "shape": channels per position */
    int shape_rank;
    int shape_time;   /* shape[1] when it is a number, else 0 */
    int shape_feat;   /* 4-D shapes: shape[2] */
} keras_layer;

/* Channels at one position of the frame. */
static int position_channels(const frame *fr)
{
    return fr->kind == FRAME_STREAM ? fr->ch : fr->filters;
}

/* An integer field; RTNeural reads the last entry of a list ("kernel_size":
 * [3]), so a list of integers is accepted too. */
static int get_int(rtg_model_build *mb, const json_t *obj, const char *key, int dflt, int *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        if (dflt < 0)
            return rtg_model_fail(mb, RTG_EINVAL, "missing key \"%s\"", key);
        *out = dflt;
        return RTG_OK;
    }
    if (json_is_array(v) && json_array_size(v) > 0)
        v = json_array_get(v, json_array_size(v) - 1);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1 << 30)
        return rtg_model_fail(mb, RTG_EINVAL, "\"%s\" must be a non-negative integer", key);
    *out = (int)json_integer_value(v);
    return RTG_OK;
}

static int get_act(rtg_model_build *mb, const json_t *obj, rtg_act *act, float *alpha)
{
    static const struct { const char *name; rtg_act act; } names[] = {
        {"", RTG_ACT_NONE},         {"linear", RTG_ACT_NONE}, {"tanh", RTG_ACT_TANH},
        {"relu", RTG_ACT_RELU},     {"sigmoid", RTG_ACT_SIGMOID},
        {"softmax", RTG_ACT_SOFTMAX}, {"elu", RTG_ACT_ELU},
    };
    *act = RTG_ACT_NONE;
    const json_t *v = json_object_get(obj, "activation");
    if (!v)
        return RTG_OK;
    if (!json_is_string(v))
        return rtg_model_fail(mb, RTG_EINVAL, "\"activation\" must be a string");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(json_string_value(v), names[i].name)) {
            *act = names[i].act;
            *alpha = *act == RTG_ACT_ELU ? 1.0f : 0.0f;
            return RTG_OK;
        }
    return rtg_model_fail(mb, RTG_ENOTSUP,
                          "unknown activation \"%s\" (known: tanh, relu, sigmoid, softmax, "
                          "elu, linear)", json_string_value(v));
}

static int weights_count(rtg_model_build *mb, const keras_layer *kl, int lo, int hi,
                         const char *which)
{
    if (kl->n_weights < lo || kl->n_weights > hi)
        return rtg_model_fail(mb, RTG_EINVAL, "has %d weight arrays, expected %s",
                              kl->n_weights, which);
    return RTG_OK;
}

static int weight(rtg_model_build *mb, const keras_layer *kl, int i, rtg_tensor *t)
{
    char name[24];
    snprintf(name, sizeof name, "weights[%d]", i);
    return rtg_tensor_read(mb, json_array_get(kl->weights, (size_t)i), name, t);
}

/* The units "shape" declares against what the weights (or, for layers
 * without any, the previous layer) give. */
static int check_units(rtg_model_build *mb, const keras_layer *kl, int got)
{
    if (kl->units != got)
        return rtg_model_fail(mb, RTG_EINVAL, "declared %d units but %s %d", kl->units,
                              kl->n_weights ? "weights give" : "the previous layer gives", got);
    return RTG_OK;
}

static int only_streaming(rtg_model_build *mb, const frame *fr)
{
    if (fr->kind == FRAME_STREAM)
        return RTG_OK;
    return rtg_model_fail(mb, RTG_ENOTSUP, "cannot follow a %s (frames of %d x %d)",
                          fr->kind == FRAME_GRID ? "conv2d" : "windowed (valid) conv1d",
                          fr->features, fr->filters);
}

/* Copies a [n] bias (weights[i]) into dst. */
static int read_vector(rtg_model_build *mb, const keras_layer *kl, int i, int n, float *dst)
{
    rtg_tensor t;
    char name[32];
    snprintf(name, sizeof name, "bias weights[%d]", i);
    int rc = weight(mb, kl, i, &t);
    if (rc || (rc = rtg_tensor_expect(mb, &t, name, 1, n, -1, -1, -1)))
        return rc;
    rtg_tensor_copy(&t, dst);
    return RTG_OK;
}

static int read_dense(rtg_model_build *mb, const keras_layer *kl, frame *fr)
{
    rtg_tensor W;
    int rc;
    if ((rc = only_streaming(mb, fr)) ||
        (rc = weights_count(mb, kl, 1, 2, "1 or 2 (kernel, bias)")) ||
        (rc = weight(mb, kl, 0, &W)) ||
        (rc = rtg_tensor_expect(mb, &W, "kernel weights[0]", 2, -1, -1, -1, -1)))
        return rc;
    const int in = W.dim[0], out = W.dim[1];
    if ((rc = rtg_model_check_size(mb, "input channels", in, RTG_MAX_CHANNELS)) ||
        (rc = rtg_model_check_size(mb, "units", out, RTG_MAX_CHANNELS)) ||
        (rc = check_units(mb, kl, out)) || (rc = rtg_model_check_chain(mb, in, fr->ch)))
        return rc;
    rtg_layer_desc *d = rtg_model_add_layer(mb);
    float *w = d ? rtg_model_floats(mb, (size_t)out * in + (size_t)out) : NULL;
    if (!w)
        return RTG_ENOMEM;
    *d = (rtg_layer_desc){.type = RTG_LAYER_DENSE, .in_ch = in, .out_ch = out, .w = w,
                          .dilation = 1, .groups = 1, .stride = 1};
    for (int o = 0; o < out; o++)
        for (int i = 0; i < in; i++)
            w[(size_t)o * in + i] = rtg_tensor_at(&W, i, o, 0, 0);
    if (kl->n_weights == 2) {
        d->b = w + (size_t)out * in;
        if ((rc = read_vector(mb, kl, 1, out, w + (size_t)out * in)))
            return rc;
    }
    fr->ch = out;
    return get_act(mb, kl->j, &d->act, &d->alpha);
}

static int read_conv1d(rtg_model_build *mb, const keras_layer *kl, frame *fr)
{
    int k = 0, dil = 0, groups = 0, rc;
    rtg_tensor W;
    if (fr->kind == FRAME_GRID)
        return only_streaming(mb, fr);
    if ((rc = get_int(mb, kl->j, "kernel_size", -1, &k)) ||
        (rc = get_int(mb, kl->j, "dilation", -1, &dil)) ||
        (rc = get_int(mb, kl->j, "groups", 1, &groups)) ||
        (rc = rtg_model_check_size(mb, "kernel_size", k, RTG_MAX_KERNEL)) ||
        (rc = rtg_model_check_size(mb, "dilation", dil, RTG_MAX_DILATION)) ||
        (rc = rtg_model_check_size(mb, "groups", groups, RTG_MAX_CHANNELS)) ||
        (rc = weights_count(mb, kl, 1, 2, "1 or 2 (kernel, bias)")) ||
        (rc = weight(mb, kl, 0, &W)) ||
        (rc = rtg_tensor_expect(mb, &W, "kernel weights[0]", 3, -1, -1, -1, -1)))
        return rc;
    if (W.dim[0] != k)
        return rtg_model_fail(mb, RTG_EINVAL, "kernel_size is %d but weights[0] has %d taps", k,
                              W.dim[0]);
    const int in_g = W.dim[1], out = W.dim[2];
    const long in = (long)in_g * groups;
    if ((rc = rtg_model_check_size(mb, "input channels", in, RTG_MAX_CHANNELS)) ||
        (rc = rtg_model_check_size(mb, "output channels", out, RTG_MAX_CHANNELS)) ||
        (rc = check_units(mb, kl, out)) ||
        (rc = rtg_model_check_chain(mb, (int)in, position_channels(fr))))
        return rc;
    if (out % groups)
        return rtg_model_fail(mb, RTG_EINVAL, "%d output channels do not split into %d groups",
                              out, groups);

    /* A fixed-length sequence that comes out shorter was convolved with
     * padding "valid": RTNeural's stateless conv over the whole window. */
    const int steps_in = fr->kind == FRAME_WINDOW ? fr->features : fr->seq_len;
    const int windowed = fr->kind == FRAME_WINDOW ||
                         (steps_in > 0 && kl->shape_time > 0 && kl->shape_time != steps_in);
    int steps_out = 0;
    if (windowed) {
        if (fr->kind != FRAME_WINDOW && mb->n_layers > 0)
            return rtg_model_fail(mb, RTG_ENOTSUP,
                                  "a windowed (valid) conv1d must be the first layer or "
                                  "follow another one");
        steps_out = steps_in - (k - 1) * dil;
        if (kl->shape_time != steps_out)
            return rtg_model_fail(mb, RTG_ENOTSUP,
                                  "shape gives %d time steps from %d; only padding \"valid\" "
                                  "(%d steps) is supported for a fixed-length window",
                                  kl->shape_time, steps_in, steps_out);
        if ((rc = rtg_model_check_size(mb, "window channels", (long)steps_in * in,
                                       RTG_MAX_CHANNELS)) ||
            (rc = rtg_model_check_size(mb, "output time steps", steps_out, RTG_MAX_CHANNELS)) ||
            (rc = rtg_model_check_size(mb, "window output channels", (long)steps_out * out,
                                       RTG_MAX_CHANNELS)))
            return rc;
    }
    rtg_layer_desc *d = rtg_model_add_layer(mb);
    const size_t nw = (size_t)out * in_g * k;
    float *w = d ? rtg_model_floats(mb, nw + (size_t)out) : NULL;
    if (!w)
        return RTG_ENOMEM;
    /* Keras [k][in/groups][out] -> [out][in/groups][k]. Keras's causal conv
     * and the canonical layout agree on tap order (tap k-1 is the newest
     * frame); RTNeural's own loader reverses only because its kernel
     * stores taps newest first. */
    for (int o = 0; o < out; o++)
        for (int i = 0; i < in_g; i++)
            for (int t = 0; t < k; t++)
                w[((size_t)o * in_g + i) * k + t] = rtg_tensor_at(&W, t, i, o, 0);
    *d = (rtg_layer_desc){.type = RTG_LAYER_CONV1D, .in_ch = (int)in, .out_ch = out, .w = w,
                          .kernel_size = k, .dilation = dil, .groups = groups, .stride = 1};
    if (kl->n_weights == 2) {
        d->b = w + nw;
        if ((rc = read_vector(mb, kl, 1, out, w + nw)))
            return rc;
    }
    if (windowed) {
        d->type = RTG_LAYER_CONV1D_STATELESS;
        d->features_in = (int)in;
        d->features_out = out;
        d->time_in = steps_in;
        d->time_out = steps_out;
        d->in_ch = steps_in * (int)in;
        d->out_ch = steps_out * out;
        d->valid_pad = 1;
        *fr = (frame){.kind = FRAME_WINDOW, .ch = d->out_ch, .features = steps_out,
                      .filters = out};
    } else {
        fr->ch = out;
    }
    return get_act(mb, kl->j, &d->act, &d->alpha);
}

/* LSTM (gates == 4) and GRU (gates == 3): Keras kernel W[in][gH], recurrent
 * U[H][gH], bias b[4H] (LSTM) or b[2][3H] (GRU, reset_after). */
static int read_rnn(rtg_model_build *mb, const keras_layer *kl, frame *fr, int gates)
{
    rtg_tensor W, U, B;
    int rc;
    if ((rc = only_streaming(mb, fr)) ||
        (rc = weights_count(mb, kl, 3, 3, "3 (kernel, recurrent kernel, bias)")) ||
        (rc = weight(mb, kl, 0, &W)) || (rc = weight(mb, kl, 1, &U)) ||
        (rc = weight(mb, kl, 2, &B)) ||
        (rc = rtg_tensor_expect(mb, &U, "recurrent kernel weights[1]", 2, -1, -1, -1, -1)))
        return rc;
    const int H = U.dim[0];
    if ((rc = rtg_model_check_size(mb, "units", H, RTG_MAX_CHANNELS / gates)) ||
        (rc = check_units(mb, kl, H)) ||
        (rc = rtg_tensor_expect(mb, &U, "recurrent kernel weights[1]", 2, H, gates * H, -1,
                                -1)) ||
        (rc = rtg_tensor_expect(mb, &W, "kernel weights[0]", 2, -1, gates * H, -1, -1)))
        return rc;
    if (gates == 3 && B.rank == 1)
        return rtg_model_fail(mb, RTG_ENOTSUP,
                              "bias is [%d]: only GRUs with reset_after=True ([2][%d]) are "
                              "supported", B.dim[0], 3 * H);
    if ((rc = gates == 4 ? rtg_tensor_expect(mb, &B, "bias weights[2]", 1, 4 * H, -1, -1, -1)
                         : rtg_tensor_expect(mb, &B, "bias weights[2]", 2, 2, 3 * H, -1, -1)))
        return rc;
    const int in = W.dim[0];
    if ((rc = rtg_model_check_size(mb, "input channels", in, RTG_MAX_CHANNELS)) ||
        (rc = rtg_model_check_chain(mb, in, fr->ch)))
        return rc;
    const size_t G = (size_t)gates * H;
    rtg_layer_desc *d = rtg_model_add_layer(mb);
    float *w = d ? rtg_model_floats(mb, G * in + G * H + (gates == 3 ? 2 : 1) * G) : NULL;
    if (!w)
        return RTG_ENOMEM;
    float *u = w + G * in, *b = u + G * H;
    /* Keras orders GRU gates z, r, h; the canonical order is r, z, n. LSTM
     * gates i, f, c, o are already i, f, g, o. */
    static const int gru_from[3] = {1, 0, 2};
    for (int g = 0; g < gates; g++) {
        const int kg = gates == 3 ? gru_from[g] : g;
        for (int j = 0; j < H; j++) {
            const size_t row = (size_t)g * H + j;
            const int col = kg * H + j;
            for (int i = 0; i < in; i++)
                w[row * in + i] = rtg_tensor_at(&W, i, col, 0, 0);
            for (int h = 0; h < H; h++)
                u[row * H + h] = rtg_tensor_at(&U, h, col, 0, 0);
            if (gates == 4) {
                b[row] = rtg_tensor_at(&B, col, 0, 0, 0);
            } else {
                b[row] = rtg_tensor_at(&B, 0, col, 0, 0);
                b[G + row] = rtg_tensor_at(&B, 1, col, 0, 0);
            }
        }
    }
    /* The "activation" field of a Keras RNN is its cell's tanh; RTNeural
     * ignores it and so do we. */
    *d = (rtg_layer_desc){.type = gates == 4 ? RTG_LAYER_LSTM : RTG_LAYER_GRU, .in_ch = in,
                          .out_ch = H, .w = w, .u = u, .b = b, .b2 = gates == 3 ? b + G : NULL,
                          .dilation = 1, .groups = 1, .stride = 1};
    fr->ch = H;
    return RTG_OK;
}

static int read_lstm(rtg_model_build *mb, const keras_layer *kl, frame *fr)
{
    return read_rnn(mb, kl, fr, 4);
}

static int read_gru(rtg_model_build *mb, const keras_layer *kl, frame *fr)
{
    return read_rnn(mb, kl, fr, 3);
}

static int read_prelu(rtg_model_build *mb, const keras_layer *kl, frame *fr)
{
    rtg_tensor A;
    int rc;
    if ((rc = weights_count(mb, kl, 1, 1, "1 (alpha)")) || (rc = weight(mb, kl, 0, &A)))
        return rc;
    /* Keras stores alpha as [1][C] when the time axis is shared, [C] otherwise. */
    if (!(A.rank == 1 || (A.rank == 2 && A.dim[0] == 1)))
        return rtg_tensor_expect(mb, &A, "alpha weights[0]", 2, 1, -1, -1, -1);
    const int n = A.dim[A.rank - 1], C = position_channels(fr);
    if (n != 1 && n != C)
        return rtg_model_fail(mb, RTG_EINVAL, "has %d alphas for %d channels (want 1 or %d)", n,
                              C, C);
    if ((rc = check_units(mb, kl, C)))
        return rc;
    /* Over a window or grid, each position's channels get the same alphas. */
    const int n_alpha = n == 1 ? 1 : fr->ch;
    rtg_layer_desc *d = rtg_model_add_layer(mb);
    float *a = d ? rtg_model_floats(mb, (size_t)n_alpha) : NULL;
    if (!a)
        return RTG_ENOMEM;
    for (int i = 0; i < n_alpha; i++)
        a[i] = A.rank == 1 ? rtg_tensor_at(&A, i % n, 0, 0, 0) : rtg_tensor_at(&A, 0, i % n, 0, 0);
    *d = (rtg_layer_desc){.type = RTG_LAYER_PRELU, .in_ch = fr->ch, .out_ch = fr->ch, .w = a,
                          .n_alpha = n_alpha, .dilation = 1, .groups = 1, .stride = 1};
    return RTG_OK;
}

/* batchnorm and batchnorm2d: 4 arrays (gamma, beta, mean, var) or 2 (mean,
 * var: not affine), one value per channel (per filter over a window/grid). */
static int read_batchnorm(rtg_model_build *mb, const keras_layer *kl, frame *fr)
{
    int rc;
    const json_t *e = json_object_get(kl->j, "epsilon");
    if (!e)
        return rtg_model_fail(mb, RTG_EINVAL, "missing key \"epsilon\"");
    if (!json_is_number(e) || !(json_number_value(e) >= 0) ||
        !(json_number_value(e) <= 1e30))
        return rtg_model_fail(mb, RTG_EINVAL, "\"epsilon\" must be a non-negative number");
    if (!strcmp(json_string_value(json_object_get(kl->j, "type")), "batchnorm2d")) {
        int filters = 0, features = 0;
        if ((rc = get_int(mb, kl->j, "num_filters_in", -1, &filters)) ||
            (rc = get_int(mb, kl->j, "num_features_in", -1, &features)))
            return rc;
        if (fr->kind == FRAME_STREAM ? (long)filters * features != fr->ch
                                     : filters != fr->filters || features != fr->features)
            return rtg_model_fail(mb, RTG_EINVAL,
                                  "num_features_in x num_filters_in is %d x %d but the "
                                  "previous layer gives %d channels",
                                  features, filters, fr->ch);
        if (fr->kind == FRAME_STREAM)
            *fr = (frame){.kind = FRAME_GRID, .ch = fr->ch, .features = features,
                          .filters = filters};
    }
    if (kl->n_weights != 2 && kl->n_weights != 4)
        return rtg_model_fail(mb, RTG_EINVAL, "has %d weight arrays, expected 4 (gamma, beta, "
                              "mean, variance) or 2 (mean, variance)", kl->n_weights);
    const int C = position_channels(fr);
    if ((rc = check_units(mb, kl, C)))
        return rc;
    rtg_layer_desc *d = rtg_model_add_layer(mb);
    float *v = d ? rtg_model_floats(mb, (size_t)kl->n_weights * C) : NULL;
    if (!v)
        return RTG_ENOMEM;
    for (int i = 0; i < kl->n_weights; i++) {
        rtg_tensor t;
        char name[32];
        snprintf(name, sizeof name, "weights[%d]", i);
        if ((rc = weight(mb, kl, i, &t)) ||
            (rc = rtg_tensor_expect(mb, &t, name, 1, C, -1, -1, -1)))
            return rc;
        rtg_tensor_copy(&t, v + (size_t)i * C);
    }
    const int affine = kl->n_weights == 4;
    *d = (rtg_layer_desc){.type = RTG_LAYER_BATCHNORM, .in_ch = fr->ch, .out_ch = fr->ch,
                          .gamma = affine ? v : NULL, .beta = affine ? v + C : NULL,
                          .mean = v + (affine ? 2 : 0) * C, .var = v + (affine ? 3 : 1) * C,
                          .eps = (float)json_number_value(e),
                          .dilation = 1, .groups = 1, .stride = 1};
    if (fr->kind != FRAME_STREAM) {
        d->type = RTG_LAYER_BATCHNORM2D;
        d->features_in = d->features_out = fr->features;
        d->filters_in = d->filters_out = fr->filters;
    }
    return RTG_OK;
}

static int read_activation(rtg_model_build *mb, const keras_layer *kl, frame *fr)
{
    int rc = check_units(mb, kl, position_channels(fr));
    if (rc)
        return rc;
    rtg_layer_desc *d = rtg_model_add_layer(mb);
    if (!d)
        return RTG_ENOMEM;
    *d = (rtg_layer_desc){.type = RTG_LAYER_ACTIVATION, .in_ch = fr->ch, .out_ch = fr->ch,
                          .dilation = 1, .groups = 1, .stride = 1};
    return get_act(mb, kl->j, &d->act, &d->alpha);
}

static int read_conv2d(rtg_model_build *mb, const keras_layer *kl, frame *fr)
{
    int kt = 0, kf = 0, dil = 0, stride = 0, fin = 0, feat_in = 0, fout = 0, rc;
    rtg_tensor W;
    if ((rc = get_int(mb, kl->j, "kernel_size_time", -1, &kt)) ||
        (rc = get_int(mb, kl->j, "kernel_size_feature", -1, &kf)) ||
        (rc = get_int(mb, kl->j, "dilation", -1, &dil)) ||
        (rc = get_int(mb, kl->j, "strides", -1, &stride)) ||
        (rc = get_int(mb, kl->j, "num_filters_in", -1, &fin)) ||
        (rc = get_int(mb, kl->j, "num_features_in", -1, &feat_in)) ||
        (rc = get_int(mb, kl->j, "num_filters_out", -1, &fout)))
        return rc;
    const json_t *pad = json_object_get(kl->j, "padding");
    if (!pad)
        return rtg_model_fail(mb, RTG_EINVAL, "missing key \"padding\"");
    const char *ps = json_string_value(pad);
    if (!ps || (strcmp(ps, "valid") && strcmp(ps, "same")))
        return rtg_model_fail(mb, RTG_EINVAL, "\"padding\" must be \"valid\" or \"same\"");
    const int valid = !strcmp(ps, "valid");
    if ((rc = rtg_model_check_size(mb, "kernel_size_time", kt, RTG_MAX_KERNEL)) ||
        (rc = rtg_model_check_size(mb, "kernel_size_feature", kf, RTG_MAX_KERNEL)) ||
        (rc = rtg_model_check_size(mb, "dilation", dil, RTG_MAX_DILATION)) ||
        (rc = rtg_model_check_size(mb, "strides", stride, RTG_MAX_KERNEL)) ||
        (rc = rtg_model_check_size(mb, "num_filters_in", fin, RTG_MAX_CHANNELS)) ||
        (rc = rtg_model_check_size(mb, "num_features_in", feat_in, RTG_MAX_CHANNELS)) ||
        (rc = rtg_model_check_size(mb, "num_filters_out", fout, RTG_MAX_CHANNELS)))
        return rc;
    if (fr->kind == FRAME_WINDOW)
        return only_streaming(mb, fr);
    if (fr->kind == FRAME_STREAM ? (long)feat_in * fin != fr->ch
                                 : feat_in != fr->features || fin != fr->filters)
        return rtg_model_fail(mb, RTG_EINVAL,
                              "num_features_in x num_filters_in is %d x %d but the previous "
                              "layer gives %d channels", feat_in, fin, fr->ch);
    if ((rc = weights_count(mb, kl, 1, 2, "1 or 2 (kernel, bias)")) ||
        (rc = weight(mb, kl, 0, &W)) ||
        (rc = rtg_tensor_expect(mb, &W, "kernel weights[0]", 4, kt, kf, fin, fout)) ||
        (rc = check_units(mb, kl, fout)))
        return rc;
    /* TensorFlow's output length along features (tf.nn padding notes). */
    const int span = valid ? feat_in - kf + 1 : feat_in;
    if (span < 1)
        return rtg_model_fail(mb, RTG_EINVAL, "kernel_size_feature %d exceeds %d features", kf,
                              feat_in);
    const int feat_out = (span + stride - 1) / stride;
    if (kl->shape_rank == 4 && kl->shape_feat != feat_out)
        return rtg_model_fail(mb, RTG_EINVAL,
                              "shape declares %d output features but the kernel gives %d",
                              kl->shape_feat, feat_out);
    if ((rc = rtg_model_check_size(mb, "output channels", (long)feat_out * fout,
                                   RTG_MAX_CHANNELS)))
        return rc;
    rtg_layer_desc *d = rtg_model_add_layer(mb);
    const size_t nw = (size_t)fout * fin * kt * kf;
    float *w = d ? rtg_model_floats(mb, nw + (size_t)fout) : NULL;
    if (!w)
        return RTG_ENOMEM;
    /* Keras [time][feature][in][out] -> [out][in][time][feature]; the time
     * taps keep their order (the last multiplies the newest frame). */
    for (int o = 0; o < fout; o++)
        for (int i = 0; i < fin; i++)
            for (int t = 0; t < kt; t++)
                for (int f = 0; f < kf; f++)
                    w[(((size_t)o * fin + i) * kt + t) * kf + f] = rtg_tensor_at(&W, t, f, i, o);
    *d = (rtg_layer_desc){.type = RTG_LAYER_CONV2D, .in_ch = feat_in * fin,
                          .out_ch = feat_out * fout, .w = w, .kernel_size = kt,
                          .kernel_features = kf, .dilation = dil, .groups = 1, .stride = stride,
                          .features_in = feat_in, .features_out = feat_out, .filters_in = fin,
                          .filters_out = fout, .valid_pad = valid};
    if (kl->n_weights == 2) {
        d->b = w + nw;
        if ((rc = read_vector(mb, kl, 1, fout, w + nw)))
            return rc;
    }
    *fr = (frame){.kind = FRAME_GRID, .ch = d->out_ch, .features = feat_out, .filters = fout};
    return get_act(mb, kl->j, &d->act, &d->alpha);
}

typedef int (*layer_reader)(rtg_model_build *mb, const keras_layer *kl, frame *fr);

static const struct {
    const char *type;
    layer_reader read;
} readers[] = {
    {"dense", read_dense},         {"time-distributed-dense", read_dense},
    {"conv1d", read_conv1d},       {"conv2d", read_conv2d},
    {"gru", read_gru},             {"lstm", read_lstm},
    {"prelu", read_prelu},         {"batchnorm", read_batchnorm},
    {"batchnorm2d", read_batchnorm}, {"activation", read_activation},
};

/* A positive integer entry of a shape, or 0 for null. */
static int shape_entry(const json_t *shape, size_t i)
{
    const json_t *v = json_array_get(shape, i);
    return json_is_integer(v) && json_integer_value(v) > 0 &&
                   json_integer_value(v) <= RTG_MAX_CHANNELS * 64
               ? (int)json_integer_value(v)
               : 0;
}

static int read_in_shape(rtg_model_build *mb, const json_t *root, frame *fr)
{
    const json_t *s = json_object_get(root, "in_shape");
    if (!s)
        return rtg_model_fail(mb, RTG_EINVAL, "missing key \"in_shape\"");
    const size_t n = json_array_size(s);
    if (!json_is_array(s) || n < 2 || n > 4 || !shape_entry(s, n - 1))
        return rtg_model_fail(mb, RTG_EINVAL,
                              "\"in_shape\" must be a list like [null, null, CHANNELS]");
    memset(fr, 0, sizeof *fr);
    if (n == 4) {
        fr->kind = FRAME_GRID;
        fr->features = shape_entry(s, 2);
        fr->filters = shape_entry(s, 3);
        if (!fr->features)
            return rtg_model_fail(mb, RTG_EINVAL, "\"in_shape\" [batch, time, features, "
                                                  "filters] needs a number of features");
        /* each up to 262144: the product is checked before it is an int */
        const long ch = (long)fr->features * fr->filters;
        int rc = rtg_model_check_size(mb, "in_shape channels", ch, RTG_MAX_CHANNELS);
        if (rc)
            return rc;
        fr->ch = (int)ch;
    } else {
        fr->ch = shape_entry(s, n - 1);
        fr->seq_len = n == 3 ? shape_entry(s, 1) : 0;
    }
    return rtg_model_check_size(mb, "in_shape channels", fr->ch, RTG_MAX_CHANNELS);
}

static int read_layer(rtg_model_build *mb, const json_t *l, int index, frame *fr)
{
    rtg_model_build_at(mb, index, "?");
    if (!json_is_object(l))
        return rtg_model_fail(mb, RTG_EINVAL, "is %s, expected an object", rtg_json_kind(l));
    const json_t *type = json_object_get(l, "type");
    if (!json_is_string(type))
        return rtg_model_fail(mb, RTG_EINVAL, "missing string key \"type\"");
    rtg_model_build_at(mb, index, "%s", json_string_value(type));
    layer_reader read = NULL;
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
        if (!strcmp(json_string_value(type), readers[i].type))
            read = readers[i].read;
    if (!read)
        return rtg_model_fail(mb, RTG_ENOTSUP,
                              "unknown layer type (known: dense, time-distributed-dense, "
                              "conv1d, conv2d, gru, lstm, prelu, batchnorm, batchnorm2d, "
                              "activation)");
    keras_layer kl = {.j = l};
    const json_t *shape = json_object_get(l, "shape");
    kl.shape_rank = (int)json_array_size(shape);
    if (!json_is_array(shape) || kl.shape_rank < 2 || kl.shape_rank > 4 ||
        !shape_entry(shape, (size_t)kl.shape_rank - 1))
        return rtg_model_fail(mb, RTG_EINVAL,
                              "\"shape\" must be a list like [null, null, UNITS]");
    kl.units = shape_entry(shape, (size_t)kl.shape_rank - 1);
    kl.shape_time = kl.shape_rank >= 3 ? shape_entry(shape, 1) : 0;
    kl.shape_feat = kl.shape_rank == 4 ? shape_entry(shape, 2) : 0;
    kl.weights = json_object_get(l, "weights");
    if (!json_is_array(kl.weights))
        return rtg_model_fail(mb, RTG_EINVAL, "missing list key \"weights\"");
    kl.n_weights = (int)json_array_size(kl.weights);
    return read(mb, &kl, fr);
}

int rtg_model_read_keras(rtg_model_build *mb, const json_t *root, int last)
{
    const json_t *layers = json_object_get(root, "layers");
    if (!json_is_array(layers))
        return rtg_model_fail(mb, RTG_EINVAL, "\"layers\" must be a list");
    const int n = (int)json_array_size(layers);
    if (last >= n)
        return rtg_model_fail(mb, RTG_EINVAL, "has %d layers, so there is no layer %d", n, last);
    frame fr;
    int rc = read_in_shape(mb, root, &fr);
    for (int i = 0; rc == RTG_OK && i < (last < 0 ? n : last + 1); i++)
        rc = read_layer(mb, json_array_get(layers, (size_t)i), i, &fr);
    return rc;
}
