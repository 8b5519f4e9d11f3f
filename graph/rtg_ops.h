/* rtg_ops.h — the graph's DSP ops as custom plan steps.
 *
 * Each function appends one step to a plan builder and returns its step
 * index (for rtg_plan_set_param) or a negative code with err set. Inputs are
 * views: some channels of a buffer, so an op reads `amp.1` or `in.0` in place
 * without a copy step.
 *
 * Run-time params follow one rule: a new value is reached by a linear ramp
 * of `ramp_samples` samples from wherever the param is at that moment (0 =
 * a jump). The ramp advances once per frame inside the step's run, so the
 * output does not depend on how a signal is split into blocks. Resetting a
 * step finishes any ramp (the param keeps its latest value) and clears
 * delay lines.
 *
 * Builder calls: non-real-time. The steps they add are real-time safe.
 */
#ifndef RTG_OPS_H
#define RTG_OPS_H

#include "rtg_plan.h"

/* Channels [offset, offset + channels) of plan buffer `buf`. */
typedef struct rtg_op_source {
    int buf;
    int offset;
    int channels;
} rtg_op_source;

/* Copies the sources one after another into `out` (whose channel count is
 * their sum): channel selection, concat and slice. No params. */
int rtg_op_gather(rtg_plan_builder *b, const rtg_op_source *src, int n, int out,
                  const char *label, const char *op, rtg_error *err);

typedef enum rtg_combine {
    RTG_COMBINE_ADD, /* out = sum of inputs */
    RTG_COMBINE_MUL, /* out = product of inputs */
    RTG_COMBINE_MIX, /* out = sum of weights[i] * input i; param i = weights[i] */
} rtg_combine;

/* Element-wise combination of n >= 1 sources into `out` (C channels). Each
 * source has C channels or 1, which then feeds all C. `weights` (n values)
 * only for RTG_COMBINE_MIX. */
int rtg_op_combine(rtg_plan_builder *b, rtg_combine kind, const rtg_op_source *src, int n,
                   const float *weights, int ramp_samples, int out, const char *label,
                   rtg_error *err);

/* out = in * 10^(db/20); param 0 = db. The ramp is linear in dB. */
int rtg_op_gain(rtg_plan_builder *b, rtg_op_source src, float db, int ramp_samples, int out,
                const char *label, rtg_error *err);

/* out[t] = in[t - samples] per channel; param 0 = samples, 0..max_samples.
 * A fractional delay (while a ramp moves it, or set so) reads between two
 * samples by linear interpolation; an integer delay is an exact copy. */
int rtg_op_delay(rtg_plan_builder *b, rtg_op_source src, int max_samples, float samples,
                 int ramp_samples, int out, const char *label, rtg_error *err);

/* A one-channel constant signal; param 0 = value. */
int rtg_op_control(rtg_plan_builder *b, float value, int ramp_samples, int out,
                   const char *label, rtg_error *err);

/* The linear gain of `db` decibels, exactly as the gain step computes it. */
float rtg_db_to_gain(float db);

#endif
