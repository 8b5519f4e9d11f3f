/* ops_common.h — what the DSP op steps share: the linear param ramp, the
 * state header, and the one way an op is added to a plan. Internal to
 * graph/ops/. */
#ifndef RTG_OPS_COMMON_H
#define RTG_OPS_COMMON_H

#include <stddef.h>

#include "rtg_ops.h"

/* A param moving linearly from `start` to `target` over `n` frames; frame k
 * of the ramp (1-based) has start + (target - start) * k / n, computed from k
 * rather than accumulated, so the last frame lands on the target exactly. */
typedef struct op_ramp {
    float value, start, target;
    int k, n;
} op_ramp;

static inline void ramp_init(op_ramp *r, float v)
{
    r->value = r->start = r->target = v;
    r->k = r->n = 0;
}

static inline void ramp_to(op_ramp *r, float target, int len)
{
    r->start = r->value;
    r->target = target;
    r->k = 0;
    r->n = len;
    if (len <= 0 || target == r->value) {
        r->value = target;
        r->n = 0;
    }
}

static inline int ramp_moving(const op_ramp *r)
{
    return r->k < r->n;
}

/* Advances one frame and returns the value for that frame. */
static inline float ramp_next(op_ramp *r)
{
    if (r->k < r->n) {
        r->k++;
        r->value = r->k == r->n ? r->target
                                : r->start + (r->target - r->start) * ((float)r->k / (float)r->n);
    }
    return r->value;
}

static inline void ramp_finish(op_ramp *r)
{
    ramp_init(r, r->target);
}

/* Where an op reads input i: channels [offset, offset + channels) of
 * s->in[i], whose frames are s->in_ch[i] wide. */
typedef struct op_view {
    int offset, channels;
} op_view;

/* Every op's state starts with this. The builder copies the op's initial
 * state image (image_bytes long) into the arena at init; anything after it
 * (delay lines) starts zeroed. */
typedef struct op_header {
    size_t image_bytes;
    int ramp_len; /* frames a param change takes */
} op_header;

/* Validates the sources against the builder's buffers and appends the step.
 * `image` is the initial state (starting with an op_header whose
 * image_bytes is set); `state_bytes` >= image_bytes. */
int ops_add_step(rtg_plan_builder *b, const rtg_custom_step *c, const rtg_op_source *src,
                 int n_src, rtg_error *err);

/* The init function every op uses: copies the image into the state. */
void ops_init_from_image(const rtg_step *s, const void *ctx);

#endif
