/* rtg_nam.h — Neural Amp Modeler (.nam) files: the loader and the WaveNet
 * that it describes.
 *
 * A .nam file is JSON: {version, architecture, config, weights, sample_rate,
 * metadata}. Two architectures are supported, with NeuralAmpModelerCore's
 * math and weight order:
 *
 *  - LSTM: num_layers stacked cells (per layer W[4H][in+H] over [x; h], gates
 *    i, f, g, o, a bias, then the initial h and c), then a linear head H -> 1.
 *    It loads as an ordinary layer sequence (LSTM descs with h0/c0, a dense).
 *
 *  - WaveNet: layer arrays of dilated causal convolutions. Per array: a 1x1
 *    rechannel (no bias) of the array input; per dilation d:
 *        z = conv_d(x) + mixin(condition)      (conv with bias, mixin without)
 *        a = act(z)            or, gated: act(z_top) * sigmoid(z_bottom)
 *        head += a
 *        x = x + res1x1(a)                     (with bias)
 *    then a head rechannel 1x1 (bias if head_bias) of the accumulated head,
 *    which becomes the next array's head input. The condition is the raw
 *    input. Output = head_scale x the last array's head output; head_scale
 *    is the last entry of the weights array.
 *    It compiles into one plan step (rtg_plan_add_wavenet) that runs the
 *    fused WaveNet kernel of kernels/rtg_wavenet.h over each block.
 *
 * Anything else — other architectures, newer WaveNet options (bottleneck,
 * grouped convs, FiLM, head1x1, slimmable, a post-stack head, condition DSP)
 * — is refused with "not supported: <what>", never run approximately.
 *
 * Thread: non-real-time.
 */
#ifndef RTG_NAM_H
#define RTG_NAM_H

#include "rtg_model.h"
#include "rtg_plan.h"
#include "rtg_wavenet.h"

/* The WaveNet as layer descs, for reports (multiply-accumulates per layer).
 * Every signal between the layers is packed as [x | condition] (C + 1
 * channels), so the input mixin folds into the dilated conv as one more
 * input channel that only the newest tap reads, and the residual add
 * carries the condition along unchanged (its row of the 1x1 is zero).
 * Weights are re-laid at load time into the model's store; the descs point
 * there. What runs is `spec` (NAM's own weight layout, also in the store). */
typedef struct rtg_wavenet_layer {
    rtg_layer_desc conv; /* [x|cond] (C+1) -> zc; the activation fused when not gated */
    rtg_layer_desc res;  /* a (C) -> (C+1), the 1x1 with bias, 0 into the cond slot */
} rtg_wavenet_layer;

typedef struct rtg_wavenet_array {
    int channels;              /* C */
    int gated;                 /* a = act(z[:C]) * sigmoid(z[C:]) */
    rtg_act act;
    float act_alpha;
    int n_layers;
    rtg_layer_desc rechannel;  /* array input (packed) -> [x|cond] */
    rtg_wavenet_layer *layers;
    rtg_layer_desc head;       /* head accumulator (C) -> head_size; head_scale folded in on the last array */
} rtg_wavenet_array;

struct rtg_wavenet {
    int n_arrays;
    rtg_wavenet_array *arrays;
    rtg_wavenet_spec spec; /* what the fused kernel runs */
};

/* Loads a .nam file (either architecture) into a model, with metadata,
 * sample rate (48 kHz when the file states none) and pre-warm length. */
int rtg_nam_load(const char *path, rtg_model **out, rtg_error *err);

/* 1 if the file name ends in ".nam". */
int rtg_nam_is_nam_path(const char *path);

/* Appends the WaveNet as one step reading buffer `in` (one channel: the
 * audio, which is also the condition); returns the output buffer id (one
 * channel) or a negative code with err set. The model must outlive
 * rtg_plan_build (as for layer steps, the weights are packed then). */
int rtg_plan_add_wavenet(rtg_plan_builder *b, const rtg_wavenet *w, int in, const char *label,
                         rtg_error *err);

#endif
