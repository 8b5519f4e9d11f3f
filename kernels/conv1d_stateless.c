/* conv1d_stateless.c — RTNeural's Conv1DStateless: each frame is a whole
 * time window, convolved on its own; nothing carries across frames.
 *
 * Frame layout (RTNeural's, which is Keras' (time, channels) flattened):
 * an input frame holds time_in steps of features_in channels, time-major,
 * channels innermost: value (step p, channel c) is x[p * features_in + c],
 * so in_ch = time_in * features_in. The output frame is time_out steps of
 * features_out channels in the same order, out_ch = time_out * features_out.
 * (RTNeural calls the channels "filters" and the steps "features".)
 *
 * Math, with K = kernel_size, w the desc's w[features_out][features_in /
 * groups][K] and c ranging over output o's group:
 *
 *   y[j][o] = b[o] + sum_{k<K} sum_c w[o][c][k] * x[j*stride - pad_left + k*dilation][c]
 *
 * a cross-correlation as in Keras and PyTorch: tap k multiplies the window
 * step k*dilation after the output's first one, so, as for CONV1D, the
 * last tap multiplies the latest step. "valid" / "same" padding and stride
 * follow TensorFlow (rtg_window_conv.h); steps outside the window read
 * zero. (RTNeural's own "same" loop assumes the kernel is no longer than
 * the window; past that, this follows TensorFlow.) RTNeural's layer has no
 * dilation or groups; both are 1 for its models.
 *
 * Loading a Keras Conv1D kernel, stored kernel[K][in][out]: w[o][c][k] =
 * kernel[k][c][o], with no reversal of k.
 */
#include <string.h>

#include "rtg_act.h"
#include "rtg_gemm.h"
#include "rtg_kernel_isa.h"
#include "rtg_kernel_modules.h"
#include "rtg_window_conv.h"

/* rtg_layer.i slots, fixed at init */
enum {
    I_PAD,      /* floats of zeros before the window in the padded copy */
    I_PADDED,   /* floats of the padded copy; in_ch when there is no padding */
    I_LDX,      /* floats between the inputs of adjacent output steps */
    I_TAPS,
    I_TAP_STEP, /* floats between taps: dilation steps */
    I_CG,       /* input channels per group */
    I_OG,       /* output channels per group */
    I_GROUPS,
    I_STEPS,    /* time_out */
    I_ACT,
};

/* Packed weights: per group, rtg_gemm's bias then its weights. */
static size_t group_floats(int og, int cg, int taps)
{
    return (size_t)rtg_gemm_ld(og) + rtg_gemm_weight_floats(og, cg, taps);
}

int rtg_conv1d_stateless_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m,
                                 rtg_error *err)
{
    (void)max_block;
    int rc;
    if ((rc = rtg_check_dim(d->time_in, 1, RTG_MAX_CHANNELS, "time_in", err)) ||
        (rc = rtg_check_dim(d->features_in, 1, RTG_MAX_CHANNELS, "features_in", err)) ||
        (rc = rtg_check_dim(d->features_out, 1, RTG_MAX_CHANNELS, "features_out", err)) ||
        (rc = rtg_check_dim(d->kernel_size, 1, RTG_MAX_KERNEL, "kernel_size", err)) ||
        (rc = rtg_check_dim(d->dilation, 1, RTG_MAX_DILATION, "dilation", err)) ||
        (rc = rtg_check_dim(d->stride, 1, RTG_MAX_KERNEL, "stride", err)) ||
        (rc = rtg_check_dim(d->groups, 1, d->features_in, "groups", err)) ||
        (rc = rtg_check_dim(d->valid_pad, 0, 1, "valid_pad", err)) ||
        (rc = rtg_check_dim((int)d->act, 0, RTG_ACT_COUNT - 1, "activation", err)) ||
        (rc = rtg_check_weights(&d->alpha, 1, "activation alpha", err)))
        return rc;
    if (d->features_in % d->groups || d->features_out % d->groups)
        return rtg_error_set(err, RTG_EINVAL,
                             "groups %d does not divide features_in %d and features_out %d",
                             d->groups, d->features_in, d->features_out);
    if (d->in_ch != d->time_in * d->features_in)
        return rtg_error_set(err, RTG_EINVAL, "input channels %d, want time_in %d x features_in %d",
                             d->in_ch, d->time_in, d->features_in);
    rtg_window_conv g;
    if ((rc = rtg_window_conv_geometry(d->time_in, d->kernel_size, d->dilation, d->stride,
                                       d->valid_pad, "steps", &g, err)))
        return rc;
    if (d->time_out != g.len_out)
        return rtg_error_set(err, RTG_EINVAL,
                             "time_out is %d, but %d steps with kernel %d, dilation %d, stride %d and %s padding give %d",
                             d->time_out, d->time_in, d->kernel_size, d->dilation, d->stride,
                             d->valid_pad ? "valid" : "same", g.len_out);
    if (d->out_ch != d->time_out * d->features_out)
        return rtg_error_set(err, RTG_EINVAL,
                             "output channels %d, want time_out %d x features_out %d", d->out_ch,
                             d->time_out, d->features_out);
    const size_t padded = ((size_t)g.pad_left + d->time_in + g.pad_right) * d->features_in;
    if (padded > RTG_WINDOW_MAX_FLOATS)
        return rtg_error_set(err, RTG_EINVAL, "kernel spans %ld steps, too long for \"same\" padding",
                             (long)(d->kernel_size - 1) * d->dilation + 1);
    const int cg = d->features_in / d->groups, og = d->features_out / d->groups;
    if ((rc = rtg_check_weights(d->w, (size_t)d->features_out * cg * d->kernel_size,
                                "conv1d_stateless weights", err)) ||
        (rc = rtg_check_weights(d->b, d->b ? (size_t)d->features_out : 0, "conv1d_stateless bias", err)))
        return rc;
    m->weight_floats = (size_t)d->groups * group_floats(og, cg, d->kernel_size);
    if (padded != (size_t)d->in_ch)
        m->scratch_floats = padded;
    return RTG_OK;
}

/* One instance per ISA (RTG_ISA_KERNELS); `sized` goes unused. */
RTG_INLINE void conv1d_stateless_body(const rtg_layer *L, const float *in, float *out, int frames,
                                      const int vw, const int sized)
{
    const int *geo = L->i;
    const int pad = geo[I_PAD], padded = geo[I_PADDED], cg = geo[I_CG], og = geo[I_OG];
    const size_t per_group = group_floats(og, cg, geo[I_TAPS]);
    if (padded != L->in_ch) {
        /* the zeros around the window, written once per call */
        memset(L->scratch, 0, (size_t)pad * sizeof(float));
        memset(L->scratch + pad + L->in_ch, 0, (size_t)(padded - pad - L->in_ch) * sizeof(float));
    }
    for (int t = 0; t < frames; t++) {
        const float *x = in + (size_t)t * L->in_ch;
        if (padded != L->in_ch) {
            memcpy(L->scratch + pad, x, (size_t)L->in_ch * sizeof(float));
            x = L->scratch;
        }
        float *y = out + (size_t)t * L->out_ch;
        for (int grp = 0; grp < geo[I_GROUPS]; grp++) {
            const float *bias = L->w + grp * per_group, *w = bias + rtg_gemm_ld(og);
            rtg_gemm(vw, y + grp * og, og * geo[I_GROUPS], x + grp * cg, geo[I_LDX],
                     geo[I_TAP_STEP], geo[I_TAPS], w, bias, og, cg, geo[I_STEPS]);
        }
    }
    rtg_act_inplace((rtg_act)geo[I_ACT], L->f[0], out, frames, L->out_ch);
}

RTG_ISA_KERNELS(conv1d_stateless_run, conv1d_stateless_body)

void rtg_conv1d_stateless_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    rtg_window_conv g;
    (void)rtg_window_conv_geometry(d->time_in, d->kernel_size, d->dilation, d->stride,
                                   d->valid_pad, "steps", &g, NULL);
    const int ch = d->features_in, cg = ch / d->groups, og = d->features_out / d->groups;
    const int taps = d->kernel_size;
    int *geo = L->i;
    geo[I_PAD] = g.pad_left * ch;
    geo[I_PADDED] = (g.pad_left + d->time_in + g.pad_right) * ch;
    geo[I_LDX] = d->stride * ch;
    geo[I_TAPS] = taps;
    geo[I_TAP_STEP] = d->dilation * ch;
    geo[I_CG] = cg;
    geo[I_OG] = og;
    geo[I_GROUPS] = d->groups;
    geo[I_STEPS] = g.len_out;
    geo[I_ACT] = (int)d->act;
    L->f[0] = rtg_act_alpha(d->act, d->alpha);
    /* group grp: W_k[o][c] = desc w[grp*og + o][c][k] */
    const size_t per_group = group_floats(og, cg, taps);
    for (int grp = 0; grp < d->groups; grp++) {
        float *bias = weights + grp * per_group;
        rtg_gemm_pack_bias(bias, d->b ? d->b + grp * og : NULL, og);
        rtg_gemm_pack(bias + rtg_gemm_ld(og), d->w + (size_t)grp * og * cg * taps, og, cg, taps,
                      (ptrdiff_t)cg * taps, taps, 1);
    }
    L->run = conv1d_stateless_run_pick();
}
