/* rtg_plan.h — the flat execution plan and the builder that makes it.
 *
 * A plan is what the audio thread runs: an array of steps, each a function
 * pointer with every pointer it needs already resolved into one aligned
 * arena (weights, state, signal buffers). Processing a block walks the
 * array; nothing is looked up by name, branched on by type, or allocated.
 *
 * A plan is made by a builder on a non-real-time thread:
 *
 *     rtg_plan_builder *b = rtg_plan_builder_new(max_block, n_inputs, sr);
 *     int x = rtg_plan_input(b);                 // buffer of the graph inputs
 *     int h = rtg_plan_buffer(b, 8);             // an 8-channel signal
 *     rtg_plan_add_layer(b, &desc, x, h, "amp/0", &err);
 *     ...
 *     rtg_plan_set_outputs(b, 1, &y, &chan0, &err);
 *     rtg_plan *p = rtg_plan_build(b, &err);     // consumes the builder
 *
 * Buffers are reused by liveness: a buffer's memory is free again once the
 * last step that reads it has run, so a deep chain needs only a few blocks
 * of signal memory. Layer steps (kernels/) and custom steps (the DSP ops of
 * graph/) are the two kinds; both end up as rtg_step.
 */
#ifndef RTG_PLAN_H
#define RTG_PLAN_H

#include <stddef.h>

#include "rtg_error.h"
#include "rtg_layer.h"

typedef struct rtg_step rtg_step;

/* Runs one step over `frames` frames. Thread: audio, real-time safe. */
typedef void (*rtg_step_fn)(const rtg_step *s, int frames);
/* Sets run-time parameter `index` of the step's op to `value` (the value
 * was range-checked before it was sent). Thread: audio, real-time safe. */
typedef void (*rtg_step_param_fn)(const rtg_step *s, int index, float value);
/* Brings the step's state to its initial value. Thread: any, real-time safe. */
typedef void (*rtg_step_reset_fn)(const rtg_step *s);
/* Initialises a custom step once its pointers are resolved (e.g. copies
 * constants from `ctx` into `s->state`). Thread: non-real-time. */
typedef void (*rtg_step_init_fn)(const rtg_step *s, const void *ctx);

struct rtg_step {
    rtg_step_fn run;
    rtg_step_param_fn param; /* NULL: no run-time params */
    rtg_step_reset_fn reset; /* NULL: stateless */
    int n_in;
    const float *const *in;  /* n_in buffers, frame-major */
    const int *in_ch;        /* channels of each input */
    float *out;
    int out_ch;
    rtg_layer *layer;        /* layer steps: the built layer; else NULL */
    void *state;             /* custom steps: their own arena memory */
    float sample_rate;
    int keeps_signal;        /* its state holds past samples (a layer with
                                state, a delay, a model): the non-finite
                                guard checks its output block */
};

/* What a plan reports about one step, for `rtgraph check`. Not used by
 * processing. */
typedef struct rtg_step_info {
    char label[96];  /* node name and part, e.g. "amp/2 lstm" */
    char op[24];     /* layer type or op name */
    int in_ch, out_ch;
    double macs;     /* per frame */
} rtg_step_info;

typedef struct rtg_plan {
    int max_block;
    int n_inputs, n_outputs;
    double sample_rate;
    rtg_step *steps;         /* in the arena */
    int n_steps;
    float *input;            /* max_block x n_inputs, filled by rtg_plan_process */
    const float **out_ptr;   /* per output channel: the buffer it reads */
    int *out_stride;         /* per output channel: that buffer's channels */
    int out_contiguous;      /* the outputs are one buffer's channels in order:
                                the output is one copy */
    /* Where the plan's I/O pointers sit in its steps, so that a block runs
     * on the caller's buffers without copying them in and out: the step
     * inputs that read the plan input, and, when the outputs are one
     * buffer a step writes, that step's out and the inputs reading it.
     * rtg_plan_process binds them to each call's buffers. */
    const float ***in_refs;  /* n_in_refs step input slots */
    int n_in_refs;
    float **out_ref;         /* the output buffer's writer's out, or NULL */
    const float ***out_refs; /* n_out_refs step input slots */
    int n_out_refs;
    float *out_own;          /* the output buffer's arena memory */
    const float *bound_in;   /* what the slots point at now */
    float *bound_out;
    void *arena;             /* one aligned block: everything above lives here */
    size_t arena_bytes;
    size_t weight_floats;    /* weights and constants */
    size_t signal_bytes;     /* signal buffers after liveness reuse */
    long prewarm_samples;    /* silence run through after every build (rtg_plan_prewarm) */
    rtg_step_info *info;     /* n_steps entries, heap (non-real-time use) */
    /* The non-finite guard (rtg_plan_set_guard); the processing thread's. */
    int guard;               /* 1 (the default): see rtg_plan_process */
    int guard_outputs;       /* a step that keeps no signal writes an output:
                                check them */
    unsigned long nonfinite; /* guard events since rtg_plan_take_nonfinite */
    int nonfinite_step;      /* step of the last one; -1: input, -2: output */
} rtg_plan;

typedef struct rtg_plan_builder rtg_plan_builder;

/* What one plan may hold, so a hostile file gets a clear error instead of
 * making the builder allocate gigabytes or run for minutes. Real models are
 * far below each: the arena (weights, state, signal buffers) together with
 * the nested plans of its model slots; steps (and twice as many buffers);
 * frames of pre-warm (about 22 s at 48 kHz). */
#define RTG_PLAN_MAX_BYTES ((size_t)1 << 30)
#define RTG_PLAN_MAX_STEPS 65536
#define RTG_PLAN_MAX_PREWARM (1L << 20)

/* Starts a plan for blocks of up to `max_block` frames with `n_inputs`
 * input channels at `sample_rate`. Returns NULL on allocation failure.
 * Thread: non-real-time (all builder calls are). */
rtg_plan_builder *rtg_plan_builder_new(int max_block, int n_inputs, double sample_rate);

/* Discards a builder that will not be built. */
void rtg_plan_builder_free(rtg_plan_builder *b);

/* The buffer holding the plan's input channels (id 0). */
int rtg_plan_input(rtg_plan_builder *b);

/* A new signal buffer of `channels` channels; returns its id (>= 1) or a
 * negative code (RTG_ENOMEM past 2 x RTG_PLAN_MAX_STEPS buffers, or for one
 * buffer larger than RTG_PLAN_MAX_BYTES). Memory is assigned at build time
 * by liveness. */
int rtg_plan_buffer(rtg_plan_builder *b, int channels);

/* Channel count of buffer `id`. */
int rtg_plan_buffer_channels(const rtg_plan_builder *b, int id);

/* The most frames one block of the plan will hold (custom steps size their
 * memory by it). */
int rtg_plan_builder_max_block(const rtg_plan_builder *b);

/* Appends a layer step reading buffer `in` and writing buffer `out`; the
 * desc is validated and measured now (errors name `label`; a layer that
 * would take the plan past RTG_PLAN_MAX_BYTES or RTG_PLAN_MAX_STEPS is
 * RTG_ENOMEM), its weights are copied at build time, so `d` need only live
 * until rtg_plan_build. */
int rtg_plan_add_layer(rtg_plan_builder *b, const rtg_layer_desc *d, int in, int out,
                       const char *label, rtg_error *err);

/* What a custom step (a DSP op) asks of the builder. */
typedef struct rtg_custom_step {
    rtg_step_fn run;
    rtg_step_param_fn param;
    rtg_step_reset_fn reset;
    rtg_step_init_fn init;
    const void *init_ctx;     /* passed to init; copied (init_ctx_bytes) now */
    size_t init_ctx_bytes;
    size_t state_bytes;       /* arena memory for s->state, zeroed, aligned */
    const int *in;            /* input buffer ids */
    int n_in;
    int out;                  /* output buffer id */
    const char *label;
    const char *op;
    double macs;
    size_t weight_floats;     /* of state_bytes, the model's weights (reports) */
    int params_only;          /* its state (reset) is smoothed params, never
                                 past samples: a non-finite input cannot stick
                                 in it, so the guard need not check its output */
    size_t held_bytes;        /* memory the step owns outside the arena (a
                                 model slot's nested plan), counted against
                                 RTG_PLAN_MAX_BYTES */
} rtg_custom_step;

/* Appends a custom step; returns its step index or a negative code. */
int rtg_plan_add_custom(rtg_plan_builder *b, const rtg_custom_step *c, rtg_error *err);

/* Number of steps added so far (the index the next step will get). */
int rtg_plan_step_count(const rtg_plan_builder *b);

/* Bytes the plan holds so far apart from its signal buffers (which are
 * placed at build time): layer weights and state, custom step state and
 * held bytes. Checked against RTG_PLAN_MAX_BYTES as steps are added. */
size_t rtg_plan_builder_bytes(const rtg_plan_builder *b);

/* Multiply-accumulates per frame of the steps added so far, for reports.
 * Thread: non-real-time. */
double rtg_plan_builder_macs(const rtg_plan_builder *b);

/* Output channel k of the plan is channel chan[k] of buffer buf[k]. */
int rtg_plan_set_outputs(rtg_plan_builder *b, int n, const int *buf, const int *chan,
                         rtg_error *err);

/* Asks that the built plan be settled by at least `samples` frames of
 * silence (models such as NAM's need it so playback starts without a
 * transient). Several requests keep the largest. */
void rtg_plan_request_prewarm(rtg_plan_builder *b, long samples);

/* Lays out the arena, builds every layer and custom step, resets the plan
 * and pre-warms it. Consumes the builder whatever the outcome. Fails with
 * RTG_ENOMEM when the arena (with held bytes) would pass RTG_PLAN_MAX_BYTES
 * or the pre-warm RTG_PLAN_MAX_PREWARM frames. */
rtg_plan *rtg_plan_build(rtg_plan_builder *b, rtg_error *err);

/* Processes `frames` (1..max_block) frames: `in` holds frames x n_inputs
 * interleaved samples, `out` receives frames x n_outputs.
 *
 * With the guard on (the default), the output never holds NaN or Inf: a
 * non-finite input sample is replaced by 0; a step with streaming state
 * (a recurrent or conv layer, a model slot, a delay line) whose output
 * block is not all finite (bad weights, a model driven into overflow) has
 * that block zeroed and its state reset before any later step reads it;
 * and an output block that a stateless step made non-finite is zeroed.
 * Each such block is one event for rtg_plan_take_nonfinite. The check is
 * one vectorised pass over those blocks while they are still in cache.
 * Thread: audio, real-time safe. */
void rtg_plan_process(rtg_plan *p, const float *in, float *out, int frames);

/* Processes any number of frames by splitting into max_block pieces.
 * Thread: audio, real-time safe. */
void rtg_plan_process_long(rtg_plan *p, const float *in, float *out, long frames);

/* Clears all streaming state (layers, delay lines). Thread: any, real-time
 * safe, but not concurrently with process. */
void rtg_plan_reset(rtg_plan *p);

/* Resets, then runs p->prewarm_samples frames of silence through the plan
 * and discards the output. Bounded, allocation-free, but long: call it off
 * the audio thread (a swap hands over an already pre-warmed plan). */
void rtg_plan_prewarm(rtg_plan *p);

/* Sends a parameter value straight to step `step` (index from
 * rtg_plan_add_custom). The real-time runtime calls this from the audio
 * thread after draining its queue; offline renders call it between blocks.
 * Thread: the thread that processes. */
void rtg_plan_set_param(rtg_plan *p, int step, int index, float value);

/* Turns the non-finite guard (see rtg_plan_process) on or off. A plan
 * nested inside a step (a model slot's unit) has it off: the step that
 * runs it is checked, and reset, as one node. Thread: the thread that
 * processes, or any before the plan runs. */
void rtg_plan_set_guard(rtg_plan *p, int on);

/* Guard events since the last call (0: none), and in *step the step of
 * the last one (-1: the plan's input; -2: the plan's output, its stateless
 * producer not found). Thread: the thread that processes; real-time safe. */
unsigned long rtg_plan_take_nonfinite(rtg_plan *p, int *step);

/* 1 if all n floats at x are finite. Thread: any, real-time safe. */
int rtg_all_finite(const float *x, size_t n);

/* Total multiply-accumulates per frame over all steps. */
double rtg_plan_macs(const rtg_plan *p);

/* Frees the plan. Thread: non-real-time. */
void rtg_plan_free(rtg_plan *p);

#endif
