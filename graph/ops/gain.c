/* gain.c — out = in * 10^(db/20), db a smoothed run-time param. */
#include <math.h>
#include <stdlib.h>

#include "ops_common.h"

typedef struct gain_state {
    op_header h;
    op_view v;
    op_ramp db;
    float gain; /* of db.target: used whenever no ramp is moving */
} gain_state;

float rtg_db_to_gain(float db)
{
    return expf(db * 0.11512925464970228f); /* ln(10) / 20 */
}

/* Frames of a moving ramp take their own gain; the rest of the block (all
 * of it, almost always) is one constant scale, written so it vectorises. */
static void gain_run(const rtg_step *s, int frames)
{
    gain_state *st = s->state;
    const float *x = s->in[0] + st->v.offset;
    const int stride = s->in_ch[0], oc = s->out_ch;
    float *y = s->out;
    int t = 0;
    for (; t < frames && ramp_moving(&st->db); t++) {
        /* the last frame of a ramp computes exactly st->gain, so the two
         * loops agree wherever a block boundary falls */
        const float g = rtg_db_to_gain(ramp_next(&st->db));
        for (int c = 0; c < oc; c++)
            y[(size_t)t * oc + c] = x[(size_t)t * stride + c] * g;
    }
    const float g = st->gain;
    if (stride == oc) {
        const size_t n = (size_t)(frames - t) * (size_t)oc;
        x += (size_t)t * oc;
        y += (size_t)t * oc;
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] * g;
        return;
    }
    for (; t < frames; t++)
        for (int c = 0; c < oc; c++)
            y[(size_t)t * oc + c] = x[(size_t)t * stride + c] * g;
}

static void gain_param(const rtg_step *s, int index, float value)
{
    gain_state *st = s->state;
    if (index != 0)
        return;
    ramp_to(&st->db, value, st->h.ramp_len);
    st->gain = rtg_db_to_gain(value);
}

static void gain_reset(const rtg_step *s)
{
    gain_state *st = s->state;
    ramp_finish(&st->db);
}

int rtg_op_gain(rtg_plan_builder *b, rtg_op_source src, float db, int ramp_samples, int out,
                const char *label, rtg_error *err)
{
    if (src.channels != rtg_plan_buffer_channels(b, out))
        return rtg_error_set(err, RTG_EINVAL, "%s: %d channels in, %d out", label, src.channels,
                             rtg_plan_buffer_channels(b, out));
    gain_state img = {.h = {sizeof img, ramp_samples}, .v = {src.offset, src.channels}};
    ramp_init(&img.db, db);
    img.gain = rtg_db_to_gain(db);
    rtg_custom_step c = {.run = gain_run, .param = gain_param, .reset = gain_reset,
                         .params_only = 1,
                         .init_ctx = &img, .init_ctx_bytes = sizeof img,
                         .state_bytes = sizeof img, .out = out, .label = label, .op = "gain",
                         .macs = src.channels};
    return ops_add_step(b, &c, &src, 1, err);
}
