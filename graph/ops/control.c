/* control.c — a one-channel smoothed constant: a knob as a signal. */
#include "ops_common.h"

typedef struct control_state {
    op_header h;
    op_ramp value;
} control_state;

static void control_run(const rtg_step *s, int frames)
{
    control_state *st = s->state;
    for (int t = 0; t < frames; t++)
        s->out[t] = ramp_next(&st->value);
}

static void control_param(const rtg_step *s, int index, float value)
{
    control_state *st = s->state;
    if (index == 0)
        ramp_to(&st->value, value, st->h.ramp_len);
}

static void control_reset(const rtg_step *s)
{
    control_state *st = s->state;
    ramp_finish(&st->value);
}

int rtg_op_control(rtg_plan_builder *b, float value, int ramp_samples, int out,
                   const char *label, rtg_error *err)
{
    if (rtg_plan_buffer_channels(b, out) != 1)
        return rtg_error_set(err, RTG_EINVAL, "%s: a control gives one channel", label);
    control_state img = {.h = {sizeof img, ramp_samples}};
    ramp_init(&img.value, value);
    rtg_custom_step c = {.run = control_run, .param = control_param, .reset = control_reset,
                         .params_only = 1,
                         .init_ctx = &img, .init_ctx_bytes = sizeof img,
                         .state_bytes = sizeof img, .out = out, .label = label, .op = "control"};
    return ops_add_step(b, &c, NULL, 0, err);
}
