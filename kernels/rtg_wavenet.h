/* rtg_wavenet.h — a whole Neural Amp Modeler WaveNet as one fused kernel:
 * mono audio in, mono audio out, every layer of every array run block by
 * block over cache-resident data.
 *
 * The math is NeuralAmpModelerCore's. Per layer array: a 1x1 rechannel (no
 * bias) of the array input; then per dilation d
 *
 *     z    = conv_d(x) + b + mixin * cond     (kernel K, causal, dilated)
 *     a    = act(z)        or, gated: act(z[:C]) * sigmoid(z[C:])
 *     head = head + a
 *     x    = x + res_w a + res_b               (skipped for the very last layer)
 *
 * then a head rechannel (head_w, head_b) of the head sum, which becomes the
 * next array's head input; the next array's input is this array's x. The
 * condition `cond` is the raw input. Output = head_scale x the last array's
 * head rechannel (which must have one output).
 *
 * How it is fast (figures in docs/performance.md):
 *  - Signals are time-major inside the kernel: one vector holds one channel
 *    over 16 (AVX-512) / 8 (AVX2) / 4 (portable) consecutive frames, so
 *    every channel count fills whole vectors and every weight is a
 *    broadcast operand of a fused multiply-add.
 *  - Each layer's input lives in a ring with a mirrored tail, so the K taps
 *    of a block are plain contiguous reads, whatever the dilation, and no
 *    history is ever moved back (no per-block spikes).
 *  - Per layer and block, three short passes over L1-resident rows: the
 *    dilated conv with bias and mixin (register tiles of output channels x
 *    frame vectors, all taps accumulated in registers), the activation and
 *    head sum, the 1x1 with the residual add written straight into the
 *    next layer's ring.
 *  - The first layer of the first array reads the rechannelled mono input,
 *    which is rank one: its conv is folded to one input channel (C x K
 *    multiply-adds per frame instead of C x C x K).
 *  - Kernels are compiled per ISA (AVX-512, AVX2+FMA, portable; $RTG_ISA
 *    caps the choice, see rtg_cpu.h) and, on AVX-512 and AVX2, per channel
 *    count (4, 6, 8, 12, 16, 32 get register tiles sized at compile time;
 *    any other count, or a gated array, runs a generic tile). tanh is
 *    rtg_math.h's accurate tanh, vectorised; on AVX-512 its division is a
 *    reciprocal estimate plus one correction step, held to rtg_math.h's
 *    error bound by tests/test_nam.c.
 *
 * Output depends only on the input signal, never on how it is split into
 * blocks (bit-identical on one ISA path).
 *
 * Thread: measure/init on a non-real-time thread; run/reset are real-time
 * safe (no allocation, no locks, no syscalls, bounded time).
 */
#ifndef RTG_WAVENET_H
#define RTG_WAVENET_H

#include <stddef.h>

#include "rtg_error.h"
#include "rtg_layer.h"

/* One layer (one dilation). Weights in NeuralAmpModelerCore's layout, with
 * zc = C (not gated) or 2C (gated: the activation's half first). */
typedef struct rtg_wavenet_layer_spec {
    int dilation;
    const float *conv_w; /* [zc][C][K]; tap k reads frame t - (K-1-k)*dilation */
    const float *conv_b; /* [zc] */
    const float *mixin;  /* [zc], the 1x1 from the condition, no bias */
    const float *res_w;  /* [C][C] */
    const float *res_b;  /* [C] */
} rtg_wavenet_layer_spec;

typedef struct rtg_wavenet_array_spec {
    int in_ch;       /* channels of the array input: 1 for the first array, else
                      * the previous array's channels */
    int channels;    /* C */
    int kernel_size; /* K, 1..RTG_WAVENET_MAX_KERNEL */
    int gated;
    rtg_act act;     /* tanh, relu, leaky relu, hardtanh, sigmoid, fast tanh or none */
    float alpha;     /* leaky relu slope */
    int head_size;   /* the next array's channels, or 1 for the last array */
    int n_layers;
    const float *rechannel_w; /* [C][in_ch], no bias */
    const rtg_wavenet_layer_spec *layers;
    const float *head_w; /* [head_size][C] */
    const float *head_b; /* [head_size] or NULL */
} rtg_wavenet_array_spec;

typedef struct rtg_wavenet_spec {
    int n_arrays;
    const rtg_wavenet_array_spec *arrays;
    float head_scale;
} rtg_wavenet_spec;

#define RTG_WAVENET_MAX_KERNEL 64
#define RTG_WAVENET_MAX_CHANNELS 1024

typedef struct rtg_wavenet_kernel rtg_wavenet_kernel;

/* Validates `s` (sizes consistent, weights present and finite, activation
 * supported) and reports the bytes of the one memory region a kernel for
 * blocks of up to `max_block` frames needs (weights, rings, scratch).
 * Returns RTG_OK or an error code with `err` set to a message naming what
 * is wrong. Thread: non-real-time. */
int rtg_wavenet_measure(const rtg_wavenet_spec *s, int max_block, size_t *bytes, rtg_error *err);

/* Builds the kernel in `mem` (`bytes` from rtg_wavenet_measure, RTG_ALIGN-
 * aligned): packs the weights for this CPU's ISA, lays out the rings and
 * resets. `s` is not referenced afterwards. Returns the kernel, which lives
 * at the start of `mem`. Thread: non-real-time. */
rtg_wavenet_kernel *rtg_wavenet_init(void *mem, const rtg_wavenet_spec *s, int max_block);

/* Back to silence: clears every ring. Thread: any, real-time safe. */
void rtg_wavenet_reset(rtg_wavenet_kernel *k);

/* Runs `frames` (1..max_block) frames of mono `in` into mono `out` (they may
 * be the same buffer). Thread: audio, real-time safe. */
void rtg_wavenet_run(rtg_wavenet_kernel *k, const float *in, float *out, int frames);

/* Multiply-accumulates per frame, for reports. */
double rtg_wavenet_macs(const rtg_wavenet_spec *s);

/* Weights and biases in the spec (as a .nam file counts them, head_scale
 * included), for reports. */
size_t rtg_wavenet_weight_floats(const rtg_wavenet_spec *s);

/* What the kernel runs with, e.g. "avx512, channels 16 and 8 specialised",
 * for reports. */
const char *rtg_wavenet_describe(const rtg_wavenet_kernel *k);

/* y = tanh(x) for n values with the kernel's own vectorised tanh on this
 * CPU's ISA (as capped by $RTG_ISA), so tests can hold it to rtg_math.h's
 * accuracy bound. Thread: any. */
void rtg_wavenet_tanh(const float *x, float *y, int n);

#endif
