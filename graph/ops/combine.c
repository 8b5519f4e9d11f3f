/* combine.c — add, mul and mix: element-wise combinations of n sources,
 * a one-channel source feeding every channel. */
#include <stdlib.h>

#include "ops_common.h"

typedef struct combine_state {
    op_header h;
    int kind, n;
    /* followed by op_view[n], then op_ramp[n] (the mix weights) */
} combine_state;

/* The arrays are found by offset, not pointer, because the state is built
 * on the heap as an image and then copied into the plan's arena. */
static size_t weights_at(int n)
{
    size_t at = sizeof(combine_state) + sizeof(op_view) * (size_t)n;
    return (at + _Alignof(op_ramp) - 1) / _Alignof(op_ramp) * _Alignof(op_ramp);
}

static op_view *views(combine_state *c)
{
    return (op_view *)(c + 1);
}

static op_ramp *weights_of(combine_state *c)
{
    return (op_ramp *)((char *)c + weights_at(c->n));
}

/* Element c of input i at frame t: a one-channel view broadcasts. */
static inline float input_at(const rtg_step *s, const op_view *v, int i, int t, int c)
{
    return s->in[i][(size_t)t * s->in_ch[i] + v[i].offset + (v[i].channels == 1 ? 0 : c)];
}

static void combine_run(const rtg_step *s, int frames)
{
    combine_state *st = s->state;
    const int oc = s->out_ch, n = st->n;
    const op_view *v = views(st);
    op_ramp *w = weights_of(st);
    float *y = s->out;
    switch (st->kind) {
    case RTG_COMBINE_ADD:
        for (int t = 0; t < frames; t++)
            for (int c = 0; c < oc; c++) {
                float acc = input_at(s, v, 0, t, c);
                for (int i = 1; i < n; i++)
                    acc += input_at(s, v, i, t, c);
                y[(size_t)t * oc + c] = acc;
            }
        break;
    case RTG_COMBINE_MUL:
        for (int t = 0; t < frames; t++)
            for (int c = 0; c < oc; c++) {
                float acc = input_at(s, v, 0, t, c);
                for (int i = 1; i < n; i++)
                    acc *= input_at(s, v, i, t, c);
                y[(size_t)t * oc + c] = acc;
            }
        break;
    default: /* MIX: weights advance once per frame, then apply to every channel */
        for (int t = 0; t < frames; t++) {
            float w0 = ramp_next(&w[0]);
            for (int c = 0; c < oc; c++)
                y[(size_t)t * oc + c] = w0 * input_at(s, v, 0, t, c);
            for (int i = 1; i < n; i++) {
                float wi = ramp_next(&w[i]);
                for (int c = 0; c < oc; c++)
                    y[(size_t)t * oc + c] += wi * input_at(s, v, i, t, c);
            }
        }
        break;
    }
}

static void combine_param(const rtg_step *s, int index, float value)
{
    combine_state *st = s->state;
    if (st->kind == RTG_COMBINE_MIX && index >= 0 && index < st->n)
        ramp_to(&weights_of(st)[index], value, st->h.ramp_len);
}

static void combine_reset(const rtg_step *s)
{
    combine_state *st = s->state;
    if (st->kind == RTG_COMBINE_MIX)
        for (int i = 0; i < st->n; i++)
            ramp_finish(&weights_of(st)[i]);
}

int rtg_op_combine(rtg_plan_builder *b, rtg_combine kind, const rtg_op_source *src, int n,
                   const float *weights, int ramp_samples, int out, const char *label,
                   rtg_error *err)
{
    static const char *names[] = {"add", "mul", "mix"};
    const int oc = rtg_plan_buffer_channels(b, out);
    if (n < 1 || (kind == RTG_COMBINE_MIX && !weights))
        return rtg_error_set(err, RTG_EINVAL, "%s: %s needs inputs%s", label, names[kind],
                             kind == RTG_COMBINE_MIX ? " and weights" : "");
    for (int i = 0; i < n; i++)
        if (src[i].channels != oc && src[i].channels != 1)
            return rtg_error_set(err, RTG_EINVAL, "%s: input %d has %d channels, the output %d",
                                 label, i, src[i].channels, oc);
    size_t bytes = weights_at(n) + sizeof(op_ramp) * (size_t)n;
    combine_state *img = calloc(1, bytes);
    if (!img)
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", label);
    img->h.image_bytes = bytes;
    img->h.ramp_len = ramp_samples;
    img->kind = (int)kind;
    img->n = n;
    for (int i = 0; i < n; i++) {
        views(img)[i] = (op_view){src[i].offset, src[i].channels};
        ramp_init(&weights_of(img)[i], kind == RTG_COMBINE_MIX ? weights[i] : 1.0f);
    }
    rtg_custom_step c = {.run = combine_run, .reset = combine_reset, .params_only = 1,
                         .init_ctx = img, .init_ctx_bytes = bytes, .state_bytes = bytes, .out = out,
                         .label = label, .op = names[kind],
                         .macs = (double)n * oc};
    if (kind == RTG_COMBINE_MIX)
        c.param = combine_param;
    int rc = ops_add_step(b, &c, src, n, err);
    free(img);
    return rc;
}
