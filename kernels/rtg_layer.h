/* rtg_layer.h — the contract every neural layer kernel meets.
 *
 * A layer lives in two forms:
 *
 *  - rtg_layer_desc: what a loader produced. Sizes plus weights in one
 *    canonical layout (PyTorch's, see each field). Owned by the loader,
 *    used only while a plan is built, never on the audio thread.
 *
 *  - rtg_layer: what the audio thread runs. A function pointer chosen at
 *    build time for this layer's sizes and this CPU, and pointers into the
 *    plan's one arena: packed weights (re-laid out for the kernel), state
 *    (carried across calls), scratch (shared by all layers of a plan,
 *    undefined between calls).
 *
 * Building a layer is two calls: rtg_layer_measure() validates the desc and
 * says how much memory of each kind the layer needs for a given max block;
 * the plan builder carves that out of its arena and calls rtg_layer_init().
 *
 * Signals are blocks of `frames` frames, frame-major: sample t of channel c
 * is buf[t * channels + c]. Input and output never alias. For every layer,
 * processing a signal in blocks of any sizes gives the same output as one
 * call over the whole signal (state carries everything across calls).
 *
 * Threads: measure/init on a non-real-time thread; run/reset are real-time
 * safe (no allocation, no locks, no syscalls, bounded time).
 */
#ifndef RTG_LAYER_H
#define RTG_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "rtg_error.h"

/* Alignment of every arena region (bytes); a cache line and an AVX-512 vector. */
#define RTG_ALIGN 64
/* Region sizes are rounded up to this many floats so every region stays aligned. */
#define RTG_ALIGN_FLOATS (RTG_ALIGN / sizeof(float))

typedef enum rtg_layer_type {
    RTG_LAYER_DENSE,           /* y = W x + b */
    RTG_LAYER_CONV1D,          /* causal streaming conv: kernel, dilation, groups, stride */
    RTG_LAYER_CONV1D_STATELESS,/* RTNeural Conv1DStateless: one frame = a whole time window */
    RTG_LAYER_CONV2D,          /* RTNeural streaming Conv2D: time x features */
    RTG_LAYER_LSTM,
    RTG_LAYER_GRU,
    RTG_LAYER_BATCHNORM,       /* per channel: (x - mean) / sqrt(var + eps) * gamma + beta */
    RTG_LAYER_BATCHNORM2D,     /* per filter, over frames of features x filters */
    RTG_LAYER_PRELU,           /* x > 0 ? x : alpha[c] * x */
    RTG_LAYER_ACTIVATION,      /* pointwise (or softmax over a frame) */
    RTG_LAYER_TYPE_COUNT
} rtg_layer_type;

typedef enum rtg_act {
    RTG_ACT_NONE,
    RTG_ACT_TANH,
    RTG_ACT_RELU,
    RTG_ACT_SIGMOID,
    RTG_ACT_SOFTMAX,   /* over the channels of one frame */
    RTG_ACT_ELU,       /* alpha in desc.alpha (default 1) */
    RTG_ACT_HARDTANH,  /* clamp to [-1, 1] */
    RTG_ACT_LEAKY_RELU,/* slope in desc.alpha (default 0.01) */
    RTG_ACT_FAST_TANH, /* NAM's rational approximation, opt-in */
    RTG_ACT_COUNT
} rtg_act;

/* A layer as a loader describes it. Unused fields are 0 / NULL.
 * All weight pointers are row-major in PyTorch's layout: */
typedef struct rtg_layer_desc {
    rtg_layer_type type;
    int in_ch;  /* channels of one input frame */
    int out_ch; /* channels of one output frame */

    /* DENSE:     w[out_ch][in_ch], b[out_ch] or NULL (no bias).
     * CONV1D:    w[out_ch][in_ch/groups][kernel_size], b[out_ch] or NULL;
     *            tap k multiplies input frame t - (kernel_size-1-k)*dilation,
     *            as torch.nn.Conv1d does with left padding.
     *            stride > 1: an output is computed on every stride-th call
     *            frame (the first frame after reset is one) and held between.
     * CONV1D_STATELESS: w as CONV1D; one frame holds time_in steps of
     *            features_in channels, time-major with channels innermost
     *            (x[step * features_in + c], Keras' (time, channels)
     *            flattened): in_ch = time_in*features_in, out_ch =
     *            time_out*features_out.
     * CONV2D:    w[filters_out][filters_in][kernel_size (time)][kernel_features],
     *            b[filters_out]; in_ch = features_in*filters_in.
     * LSTM:      w = W_ih[4H][in_ch], u = W_hh[4H][H], b = b_ih + b_hh [4H]
     *            (b2 NULL), gates i, f, g, o; H = out_ch. h0/c0 optional
     *            initial state [H] each (NAM stores them), else zeros.
     * GRU:       w = W_ih[3H][in_ch], u = W_hh[3H][H], b = b_ih[3H],
     *            b2 = b_hh[3H], gates r, z, n (PyTorch; Keras reset_after is
     *            the same after reordering z,r,h -> r,z,n). H = out_ch.
     * BATCHNORM / BATCHNORM2D: gamma, beta (NULL = non-affine: 1 and 0),
     *            mean, var, eps; per channel (per filter for 2D).
     * PRELU:     w = alpha[n_alpha] with n_alpha = in_ch or 1.
     * ACTIVATION: act (and alpha for ELU / leaky ReLU). */
    const float *w, *u, *b, *b2;
    const float *gamma, *beta, *mean, *var;
    const float *h0, *c0;
    int n_alpha;
    float eps;

    int kernel_size; /* conv taps along time */
    int dilation;    /* >= 1 */
    int groups;      /* >= 1 */
    int stride;      /* >= 1 */

    /* CONV1D_STATELESS and CONV2D geometry */
    int time_in, time_out;         /* stateless: frames in/out of the window */
    int features_in, features_out; /* 2D: features per frame; stateless: in/out features */
    int filters_in, filters_out;   /* 2D only */
    int kernel_features;           /* 2D: kernel extent along features */
    int valid_pad;                 /* 1 = "valid", 0 = "same" (2D / stateless) */

    rtg_act act;   /* DENSE / CONV*: activation fused after the layer; ACTIVATION: the function */
    float alpha;   /* ELU alpha, leaky ReLU slope */
} rtg_layer_desc;

/* Memory one layer needs, in floats. Each region gets its own aligned block. */
typedef struct rtg_layer_mem {
    size_t weight_floats;  /* packed weights (and initial state if any) */
    size_t state_floats;   /* carried across calls */
    size_t scratch_floats; /* per call; shared by all layers of a plan */
} rtg_layer_mem;

typedef struct rtg_layer rtg_layer;
typedef void (*rtg_layer_fn)(const rtg_layer *L, const float *in, float *out, int frames);

/* A built layer. Filled by rtg_layer_init(); read-only while running except
 * for what `state` points at. */
struct rtg_layer {
    rtg_layer_fn run;
    rtg_layer_type type;
    int in_ch, out_ch;
    int max_block;
    const float *w;          /* packed weights, kernel's own layout */
    float *state;            /* state_floats floats */
    const float *state_init; /* NULL: reset zeroes state; else copied from here */
    size_t state_floats;
    float *scratch;
    int i[12];               /* kernel-specific integers fixed at init */
    float f[4];              /* kernel-specific scalars fixed at init */
};

/* Validates `d` (sizes positive and consistent, weights present, all
 * finite) and reports the memory the layer needs for blocks of up to
 * `max_block` frames. Returns RTG_OK or an error code with `err` set to
 * a message that names what is wrong (the caller prefixes file/layer).
 * Thread: non-real-time. */
int rtg_layer_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m, rtg_error *err);

/* Builds the layer in memory the caller carved out per rtg_layer_measure():
 * packs d's weights into `weights`, points the layer at `state` and
 * `scratch`, picks the kernel for this size and CPU, and resets it. Each
 * pointer is RTG_ALIGN-aligned (NULL where the size was 0). `d` is not
 * referenced afterwards. Thread: non-real-time. */
void rtg_layer_init(rtg_layer *L, const rtg_layer_desc *d, int max_block,
                    float *weights, float *state, float *scratch);

/* Clears streaming state to the layer's initial state.
 * Thread: any, real-time safe. */
void rtg_layer_reset(rtg_layer *L);

/* Runs `frames` (1..max_block) frames. Thread: audio, real-time safe. */
static inline void rtg_layer_run(const rtg_layer *L, const float *in, float *out, int frames)
{
    L->run(L, in, out, frames);
}

/* Multiply-accumulates per input frame, for reports (`rtgraph check`). */
double rtg_layer_macs(const rtg_layer_desc *d);

/* Lower-case names, for messages and reports. */
const char *rtg_layer_type_name(rtg_layer_type t);
const char *rtg_act_name(rtg_act a);

/* Rounds a float count up so the next region stays RTG_ALIGN-aligned. */
static inline size_t rtg_align_floats(size_t n)
{
    return (n + RTG_ALIGN_FLOATS - 1) / RTG_ALIGN_FLOATS * RTG_ALIGN_FLOATS;
}

#endif
