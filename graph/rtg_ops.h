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

/* ---- Rate conversion around an inner process ----
 *
 * Not a plan step: what runs between the two converters (a model trained at
 * another rate) gets a different number of frames than the plan's block, so
 * the step that owns that process (a model slot) calls the resampler.
 *
 * rtg_resampler_process takes `frames` frames at the outer rate, converts
 * them to the inner rate (libsamplerate, medium sinc), runs `inner` on the
 * frames that gave (0..rtg_resampler_inner_block, any count, so the inner
 * process must be streaming and split-invariant), converts the result back
 * and returns exactly `frames` frames through a FIFO primed with
 * rtg_resampler_latency frames of silence. The latency is measured at build
 * as the most the converters ever run behind, so no split of the signal
 * into blocks leaves the FIFO short, and the output, bit for bit, does not
 * depend on the split: the signal comes back delayed by exactly the latency
 * (the converters' filters are linear-phase and time-aligned).
 *
 * libsamplerate allocates in src_new only: src_process and src_reset work
 * in the state src_new made, so process and reset are real-time safe.
 */
typedef struct rtg_resampler rtg_resampler;

/* The inner process: `frames` frames of in_ch channels in, out_ch out.
 * Thread: audio. */
typedef void (*rtg_resample_inner_fn)(void *ctx, const float *in, float *out, int frames);

/* How far apart outer and inner rates may be (libsamplerate allows 256x;
 * beyond 16x the buffers and the latency grow past any use). */
#define RTG_RESAMPLE_MAX_RATIO 16

/* Makes the converters and buffers for blocks of up to `max_block` outer
 * frames and measures the latency; ready to process (as after reset).
 * Thread: non-real-time. */
int rtg_resampler_new(double outer_rate, double inner_rate, int in_ch, int out_ch, int max_block,
                      rtg_resampler **out, rtg_error *err);

/* Frees (NULL is fine). Thread: non-real-time. */
void rtg_resampler_free(rtg_resampler *r);

/* See above. `frames` is 1..max_block. Thread: audio, real-time safe. */
void rtg_resampler_process(rtg_resampler *r, const float *in, float *out, int frames,
                           rtg_resample_inner_fn inner, void *ctx);

/* Back to the state after build: converters cleared, the FIFO holding the
 * latency's silence. Thread: any, real-time safe, not during process. */
void rtg_resampler_reset(rtg_resampler *r);

/* Outer-rate frames the output runs behind the input. Thread: any. */
int rtg_resampler_latency(const rtg_resampler *r);

/* Most inner frames one call hands the inner process. Thread: any. */
int rtg_resampler_inner_block(const rtg_resampler *r);

/* Output frames that came out as silence because the FIFO ran short: 0
 * unless the latency measurement is wrong (tests check it). Thread: the
 * processing thread's. */
unsigned long rtg_resampler_shortfalls(const rtg_resampler *r);

#endif
