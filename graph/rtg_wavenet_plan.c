/* rtg_wavenet_plan.c — a NAM WaveNet expanded into plan steps: conv1d and
 * dense layers for the math, add (and, when gated, mul) ops for the wiring.
 * See rtg_nam.h for the packed [x | condition] signal this relies on. */
#include <stdio.h>

#include "rtg_nam.h"
#include "rtg_ops.h"

typedef struct wn_builder {
    rtg_plan_builder *b;
    const char *label;
    rtg_error *err;
} wn_builder;

/* A new buffer, or a negative code with err set. */
static int buffer(wn_builder *w, int channels)
{
    int id = rtg_plan_buffer(w->b, channels);
    if (id < 0)
        rtg_error_set(w->err, id, "%s: out of memory", w->label);
    return id;
}

/* desc applied to buffer `in` into a new buffer; returns it. */
static int layer(wn_builder *w, const rtg_layer_desc *d, int in, const char *part)
{
    int out = buffer(w, d->out_ch);
    if (out < 0)
        return out;
    char name[96];
    snprintf(name, sizeof name, "%s/%s", w->label, part);
    int rc = rtg_plan_add_layer(w->b, d, in, out, name, w->err);
    return rc < 0 ? rc : out;
}

/* kind(x, y) element-wise over `channels` into a new buffer. */
static int combine(wn_builder *w, rtg_combine kind, int x, int y, int channels, const char *part)
{
    int out = buffer(w, channels);
    if (out < 0)
        return out;
    char name[96];
    snprintf(name, sizeof name, "%s/%s", w->label, part);
    rtg_op_source src[2] = {{x, 0, channels}, {y, 0, channels}};
    int rc = rtg_op_combine(w->b, kind, src, 2, NULL, 0, out, name, w->err);
    return rc < 0 ? rc : out;
}

/* Channels [from, from + n) of z through activation `act` into a new buffer. */
static int activate_part(wn_builder *w, int z, int from, int n, rtg_act act, float alpha,
                         const char *part)
{
    int g = buffer(w, n);
    if (g < 0)
        return g;
    char name[96];
    snprintf(name, sizeof name, "%s/%s", w->label, part);
    rtg_op_source src = {z, from, n};
    int rc = rtg_op_gather(w->b, &src, 1, g, name, "slice", w->err);
    if (rc < 0)
        return rc;
    rtg_layer_desc d = {.type = RTG_LAYER_ACTIVATION, .in_ch = n, .out_ch = n, .act = act, .alpha = alpha};
    return layer(w, &d, g, part);
}

/* a = act(z[:C]) * sigmoid(z[C:]) */
static int gate(wn_builder *w, const rtg_wavenet_array *a, int z, const char *part)
{
    const int C = a->channels;
    int t = activate_part(w, z, 0, C, a->act, a->act_alpha, part);
    if (t < 0)
        return t;
    int s = activate_part(w, z, C, C, RTG_ACT_SIGMOID, 0, part);
    if (s < 0)
        return s;
    return combine(w, RTG_COMBINE_MUL, t, s, C, part);
}

int rtg_plan_add_wavenet(rtg_plan_builder *b, const rtg_wavenet *net, int in, const char *label,
                         rtg_error *err)
{
    wn_builder w = {b, label, err};
    int x = in;     /* the array input: raw audio, then the previous packed [x | cond] */
    int head = -1;  /* head accumulator; none before the first layer */
    char part[48];
    for (int i = 0; i < net->n_arrays; i++) {
        const rtg_wavenet_array *a = &net->arrays[i];
        const int C = a->channels;
        snprintf(part, sizeof part, "a%d.rechannel", i);
        int X = layer(&w, &a->rechannel, x, part);
        if (X < 0)
            return X;
        for (int l = 0; l < a->n_layers; l++) {
            const rtg_wavenet_layer *L = &a->layers[l];
            snprintf(part, sizeof part, "a%d.l%d", i, l);
            int z = layer(&w, &L->conv, X, part);
            if (z < 0)
                return z;
            int act = a->gated ? gate(&w, a, z, part) : z;
            if (act < 0)
                return act;
            head = head < 0 ? act : combine(&w, RTG_COMBINE_ADD, head, act, C, part);
            if (head < 0)
                return head;
            /* The very last residual feeds nothing. */
            if (i == net->n_arrays - 1 && l == a->n_layers - 1)
                break;
            int r = layer(&w, &L->res, act, part);
            if (r < 0)
                return r;
            X = combine(&w, RTG_COMBINE_ADD, X, r, C + 1, part);
            if (X < 0)
                return X;
        }
        snprintf(part, sizeof part, "a%d.head", i);
        head = layer(&w, &a->head, head, part);
        if (head < 0)
            return head;
        x = X;
    }
    return head;
}
