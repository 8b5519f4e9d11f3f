/* conv2d.c — RTNeural's streaming Conv2D: causal over time, a windowed
 * convolution over the features of each frame.
 *
 * Frame layout (RTNeural's, which is Keras' channels-last (time, features,
 * filters) flattened per time step): input frame value (feature f, filter c)
 * is x[f * filters_in + c]; output frame value (feature g, filter o) is
 * y[g * filters_out + o]. So in_ch = features_in * filters_in and
 * out_ch = features_out * filters_out, filters innermost.
 *
 * Math, with K = kernel_size (time taps), d = dilation, KF = kernel_features
 * and w the desc's w[filters_out][filters_in][K][KF]:
 *
 *   y_t[g][o] = b[o] + sum_{k<K} sum_{c} sum_{kf<KF}
 *               w[o][c][k][kf] * x_{t-(K-1-k)*d}[g*stride - pad_left + kf][c]
 *
 * Time tap k multiplies the input frame (K-1-k)*d frames in the past, so
 * tap K-1 multiplies the current frame (as for CONV1D); frames before the
 * first one after reset read zero. Along features, stride and "valid" /
 * "same" padding follow TensorFlow (rtg_window_conv.h); features outside the
 * frame read zero. In time there is no padding and no stride: the layer is
 * causal, so its frame t is Keras' frame t - (K-1)*d for "valid" time
 * padding and t - (K-1)*d + ((K-1)*d)/2 for "same" (RTNeural's conformance
 * test aligns the two that way).
 *
 * Loading RTNeural's Keras JSON: the kernel is stored as
 * kernel[K][KF][filters_in][filters_out] and maps with NO reversal of
 * either axis: w[o][c][k][kf] = kernel[k][kf][c][o]. (RTNeural's loader
 * keeps time index k as is and its Conv2D sends tap k's contribution
 * (K-1-k)*d frames ahead, which is the rule above.)
 *
 * Each output frame is one rtg_gemm() over the frames it reaches, summed in
 * rtg_gemm's fixed order, so any split of a signal into blocks gives
 * bit-identical output.
 */
#include <string.h>

#include "rtg_act.h"
#include "rtg_gemm.h"
#include "rtg_kernel_isa.h"
#include "rtg_kernel_modules.h"
#include "rtg_window_conv.h"

/* rtg_layer.i slots, fixed at init */
enum {
    I_FRAME,       /* floats of one zero-padded frame in the ring */
    I_PAD,         /* floats of padding before a frame's data */
    I_POSITIONS,   /* features_out */
    I_FILTERS_OUT,
    I_LDX,         /* floats between the inputs of adjacent output features */
    I_TAPS,        /* time taps */
    I_TAP_STEP,    /* floats between time taps: dilation frames */
    I_IN,          /* floats one time tap reads: kernel_features x filters_in */
    I_HISTORY,     /* frames before the current one that taps reach */
    I_RING,        /* frames the ring holds: history + max_block */
    I_ACT,
};

/* The state is a ring of padded frames stored twice over (slot s at s and
 * s + ring), so the history+1 frames an output needs are always one
 * contiguous run whatever the ring position, and rtg_gemm can step through
 * them at a fixed stride; the last float holds the next slot to write. */
static size_t ring_floats(size_t ring, size_t frame)
{
    return 2 * ring * frame;
}

int rtg_conv2d_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m, rtg_error *err)
{
    int rc;
    if ((rc = rtg_check_dim(d->filters_in, 1, RTG_MAX_CHANNELS, "filters_in", err)) ||
        (rc = rtg_check_dim(d->filters_out, 1, RTG_MAX_CHANNELS, "filters_out", err)) ||
        (rc = rtg_check_dim(d->features_in, 1, RTG_MAX_CHANNELS, "features_in", err)) ||
        (rc = rtg_check_dim(d->kernel_size, 1, RTG_MAX_KERNEL, "kernel_size (time)", err)) ||
        (rc = rtg_check_dim(d->kernel_features, 1, RTG_MAX_KERNEL, "kernel_features", err)) ||
        (rc = rtg_check_dim(d->dilation, 1, RTG_MAX_DILATION, "dilation", err)) ||
        (rc = rtg_check_dim(d->stride, 1, RTG_MAX_KERNEL, "stride", err)) ||
        (rc = rtg_check_dim(d->valid_pad, 0, 1, "valid_pad", err)) ||
        (rc = rtg_check_dim((int)d->act, 0, RTG_ACT_COUNT - 1, "activation", err)) ||
        (rc = rtg_check_weights(&d->alpha, 1, "activation alpha", err)))
        return rc;
    if (d->in_ch != d->features_in * d->filters_in)
        return rtg_error_set(err, RTG_EINVAL,
                             "input channels %d, want features_in %d x filters_in %d", d->in_ch,
                             d->features_in, d->filters_in);
    rtg_window_conv g;
    if ((rc = rtg_window_conv_geometry(d->features_in, d->kernel_features, 1, d->stride,
                                       d->valid_pad, "features", &g, err)))
        return rc;
    if (d->features_out != g.len_out)
        return rtg_error_set(err, RTG_EINVAL,
                             "features_out is %d, but %d features with kernel %d, stride %d and %s padding give %d",
                             d->features_out, d->features_in, d->kernel_features, d->stride,
                             d->valid_pad ? "valid" : "same", g.len_out);
    if (d->out_ch != d->features_out * d->filters_out)
        return rtg_error_set(err, RTG_EINVAL,
                             "output channels %d, want features_out %d x filters_out %d", d->out_ch,
                             d->features_out, d->filters_out);
    const long history = (long)(d->kernel_size - 1) * d->dilation;
    const int frame = (g.pad_left + d->features_in + g.pad_right) * d->filters_in;
    const size_t state = ring_floats((size_t)history + (size_t)max_block, (size_t)frame) + 1;
    if (history > RTG_MAX_DILATION || state > RTG_WINDOW_MAX_FLOATS)
        return rtg_error_set(err, RTG_EINVAL,
                             "time receptive field (kernel_size-1)*dilation = %ld frames of %d floats needs too much state",
                             history, frame);
    const int in = d->kernel_features * d->filters_in;
    if ((rc = rtg_check_weights(d->w, (size_t)d->filters_out * in * d->kernel_size, "conv2d weights", err)) ||
        (rc = rtg_check_weights(d->b, d->b ? (size_t)d->filters_out : 0, "conv2d bias", err)))
        return rc;
    m->weight_floats = (size_t)rtg_gemm_ld(d->filters_out) +
                       rtg_gemm_weight_floats(d->filters_out, in, d->kernel_size);
    m->state_floats = state;
    return RTG_OK;
}

/* One instance per ISA (RTG_ISA_KERNELS); `sized` goes unused. */
RTG_INLINE void conv2d_body(const rtg_layer *L, const float *in, float *out, int frames,
                            const int vw, const int sized)
{
    const int *geo = L->i;
    const int frame = geo[I_FRAME], ring = geo[I_RING], fo = geo[I_FILTERS_OUT];
    float *buf = L->state, *next_slot = L->state + ring_floats((size_t)ring, (size_t)frame);
    const int first = rtg_state_int(next_slot);
    for (int t = 0; t < frames; t++) {
        const int slot = (first + t) % ring;
        const float *x = in + (size_t)t * L->in_ch;
        memcpy(buf + (size_t)slot * frame + geo[I_PAD], x, (size_t)L->in_ch * sizeof(float));
        memcpy(buf + (size_t)(slot + ring) * frame + geo[I_PAD], x, (size_t)L->in_ch * sizeof(float));
    }
    const float *bias = L->w, *w = L->w + rtg_gemm_ld(fo);
    for (int t = 0; t < frames; t++) {
        /* frames [t - history, t] start at the oldest one's slot; tap k
         * reads dilation * k frames on, i.e. (taps-1-k)*dilation before t */
        const int oldest = ((first + t) % ring - geo[I_HISTORY] + ring) % ring;
        rtg_gemm(vw, out + (size_t)t * L->out_ch, fo, buf + (size_t)oldest * frame, geo[I_LDX],
                 geo[I_TAP_STEP], geo[I_TAPS], w, bias, fo, geo[I_IN], geo[I_POSITIONS]);
    }
    rtg_state_set_int(next_slot, (first + frames) % ring);
    rtg_act_inplace((rtg_act)geo[I_ACT], L->f[0], out, frames, L->out_ch);
}

RTG_ISA_KERNELS(conv2d_run, conv2d_body)

void rtg_conv2d_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    rtg_window_conv g;
    (void)rtg_window_conv_geometry(d->features_in, d->kernel_features, 1, d->stride, d->valid_pad,
                                   "features", &g, NULL);
    const int fi = d->filters_in, fo = d->filters_out, kt = d->kernel_size, kf = d->kernel_features;
    const int history = (kt - 1) * d->dilation;
    int *geo = L->i;
    geo[I_FRAME] = (g.pad_left + d->features_in + g.pad_right) * fi;
    geo[I_PAD] = g.pad_left * fi;
    geo[I_POSITIONS] = g.len_out;
    geo[I_FILTERS_OUT] = fo;
    geo[I_LDX] = d->stride * fi;
    geo[I_TAPS] = kt;
    geo[I_TAP_STEP] = d->dilation * geo[I_FRAME];
    geo[I_IN] = kf * fi;
    geo[I_HISTORY] = history;
    geo[I_RING] = history + L->max_block;
    geo[I_ACT] = (int)d->act;
    L->f[0] = rtg_act_alpha(d->act, d->alpha);

    /* rtg_gemm's W_k[o][i] for time tap k, input i = (feature tap, filter)
     * as they lie in a padded frame: rows kf*fi .. kf*fi + fi - 1 of tap k
     * are desc w[o][c][k][kf] for c < fi */
    rtg_gemm_pack_bias(weights, d->b, fo);
    float *w = weights + rtg_gemm_ld(fo);
    for (int k = 0; k < kt; k++)
        for (int f = 0; f < kf; f++)
            rtg_gemm_pack(w + ((size_t)k * kf * fi + (size_t)f * fi) * rtg_gemm_ld(fo),
                          d->w + (size_t)k * kf + f, fo, fi, 1, (ptrdiff_t)fi * kt * kf,
                          (ptrdiff_t)kt * kf, 0);
    L->run = conv2d_run_pick();
}
