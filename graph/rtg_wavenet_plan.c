/* rtg_wavenet_plan.c — a NAM WaveNet as one plan step: the fused kernel of
 * kernels/rtg_wavenet.h, whose memory (weights, rings, scratch) is the
 * step's share of the plan arena. */
#include "rtg_nam.h"

/* What the step's init needs; the spec lives in the model, which outlives
 * rtg_plan_build. */
typedef struct wn_step_ctx {
    const rtg_wavenet_spec *spec;
    int max_block;
} wn_step_ctx;

static void wn_step_init(const rtg_step *s, const void *ctx)
{
    const wn_step_ctx *c = ctx;
    rtg_wavenet_init(s->state, c->spec, c->max_block);
}

static void wn_step_run(const rtg_step *s, int frames)
{
    rtg_wavenet_run(s->state, s->in[0], s->out, frames);
}

static void wn_step_reset(const rtg_step *s)
{
    rtg_wavenet_reset(s->state);
}

int rtg_plan_add_wavenet(rtg_plan_builder *b, const rtg_wavenet *net, int in, const char *label,
                         rtg_error *err)
{
    if (rtg_plan_buffer_channels(b, in) != 1)
        return rtg_error_set(err, RTG_EINVAL, "%s: a WaveNet takes 1 channel but its input has %d",
                             label, rtg_plan_buffer_channels(b, in));
    const int max_block = rtg_plan_builder_max_block(b);
    size_t bytes;
    int rc = rtg_wavenet_measure(&net->spec, max_block, &bytes, err);
    if (rc)
        return rtg_error_prefix(err, rc, "%s", label);
    int out = rtg_plan_buffer(b, 1);
    if (out < 0)
        return rtg_error_set(err, out, "%s: out of memory", label);
    wn_step_ctx ctx = {&net->spec, max_block};
    rtg_custom_step c = {
        .run = wn_step_run,
        .reset = wn_step_reset,
        .init = wn_step_init,
        .init_ctx = &ctx,
        .init_ctx_bytes = sizeof ctx,
        .state_bytes = bytes,
        .in = &in,
        .n_in = 1,
        .out = out,
        .label = label,
        .op = "nam_wavenet",
        .macs = rtg_wavenet_macs(&net->spec),
        .weight_floats = rtg_wavenet_weight_floats(&net->spec),
    };
    rc = rtg_plan_add_custom(b, &c, err);
    return rc < 0 ? rc : out;
}
