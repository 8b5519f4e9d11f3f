/* delay.c — a per-channel delay line; the delay in samples is a smoothed
 * run-time param, read by linear interpolation while it is fractional. */
#include <string.h>

#include "ops_common.h"

typedef struct delay_state {
    op_header h;
    op_view v;
    int max;  /* longest delay, samples */
    int len;  /* ring frames: max + 1 */
    int pos;  /* ring frame the next input goes to */
    op_ramp d;
    /* followed by the ring, len x channels floats, frame-major */
} delay_state;

static float *ring_of(delay_state *st)
{
    return (float *)(st + 1);
}

static void delay_run(const rtg_step *s, int frames)
{
    delay_state *st = s->state;
    float *ring = ring_of(st);
    const float *x = s->in[0] + st->v.offset;
    const int stride = s->in_ch[0], ch = s->out_ch, len = st->len;
    float *y = s->out;
    int pos = st->pos;
    for (int t = 0; t < frames; t++) {
        memcpy(ring + (size_t)pos * ch, x + (size_t)t * stride, sizeof(float) * (size_t)ch);
        const float d = ramp_next(&st->d);
        const int di = (int)d;
        const float frac = d - (float)di;
        int a = pos - di;
        if (a < 0)
            a += len;
        const float *ra = ring + (size_t)a * ch;
        if (frac == 0.0f) {
            memcpy(y + (size_t)t * ch, ra, sizeof(float) * (size_t)ch);
        } else { /* di < max here, so the older frame is still in the ring */
            const float *rb = ring + (size_t)(a == 0 ? len - 1 : a - 1) * ch;
            for (int c = 0; c < ch; c++)
                y[(size_t)t * ch + c] = ra[c] + frac * (rb[c] - ra[c]);
        }
        if (++pos == len)
            pos = 0;
    }
    st->pos = pos;
}

static void delay_param(const rtg_step *s, int index, float value)
{
    delay_state *st = s->state;
    if (index != 0)
        return;
    if (!(value >= 0.0f)) /* also NaN */
        value = 0.0f;
    if (value > (float)st->max)
        value = (float)st->max;
    ramp_to(&st->d, value, st->h.ramp_len);
}

static void delay_reset(const rtg_step *s)
{
    delay_state *st = s->state;
    memset(ring_of(st), 0, sizeof(float) * (size_t)st->len * (size_t)s->out_ch);
    st->pos = 0;
    ramp_finish(&st->d);
}

int rtg_op_delay(rtg_plan_builder *b, rtg_op_source src, int max_samples, float samples,
                 int ramp_samples, int out, const char *label, rtg_error *err)
{
    if (src.channels != rtg_plan_buffer_channels(b, out))
        return rtg_error_set(err, RTG_EINVAL, "%s: %d channels in, %d out", label, src.channels,
                             rtg_plan_buffer_channels(b, out));
    if (max_samples < 0 || !(samples >= 0.0f && samples <= (float)max_samples))
        return rtg_error_set(err, RTG_EINVAL, "%s: delay %g outside 0..%d", label,
                             (double)samples, max_samples);
    delay_state img = {.h = {sizeof img, ramp_samples}, .v = {src.offset, src.channels},
                       .max = max_samples, .len = max_samples + 1};
    ramp_init(&img.d, samples);
    size_t ring = sizeof(float) * (size_t)img.len * (size_t)src.channels;
    rtg_custom_step c = {.run = delay_run, .param = delay_param, .reset = delay_reset,
                         .init_ctx = &img, .init_ctx_bytes = sizeof img,
                         .state_bytes = sizeof img + ring, .out = out, .label = label,
                         .op = "delay"};
    return ops_add_step(b, &c, &src, 1, err);
}
