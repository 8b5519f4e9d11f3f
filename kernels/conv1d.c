/* conv1d.c — causal streaming 1-D convolution (kernel size, dilation,
 * groups, stride) with an optional fused activation.
 *
 * The last (kernel_size-1)*dilation input frames live in a linear buffer in
 * the layer state, followed by room for new frames. Each call appends its
 * block after the history and runs one block × matrix product per group in
 * which tap k of output frame t reads buffer row t + k*dilation: no im2col
 * copy, every tap accumulated inside the same register tile. When the room
 * runs out the history is moved back to the front — at most once per
 * max(max_block, history) frames, a bounded copy.
 */
#include <string.h>

#include "rtg_act.h"
#include "rtg_gemm.h"
#include "rtg_kernel_isa.h"
#include "rtg_kernel_modules.h"

/* L->i / L->f slots. */
enum {
    CONV_ACT,
    CONV_KERNEL,
    CONV_DILATION,
    CONV_GROUPS,
    CONV_STRIDE,
    CONV_HISTORY, /* rows of past input kept: (kernel_size - 1) * dilation */
    CONV_ROOM,    /* rows for new frames after the history */
};
enum { CONV_ALPHA };

/* State layout (floats): two integers, the held output row (stride > 1),
 * then the buffer of HISTORY + ROOM input rows. All zero after reset: the
 * history is silence and the first frame computes an output. */
enum {
    STATE_POS = 0,   /* buffer row where the history starts */
    STATE_PHASE = 1, /* frames since the last computed one, mod stride */
    STATE_HELD = RTG_ALIGN_FLOATS,
};

/* Largest history buffer a layer may ask for (floats): 1 GiB. */
#define CONV_MAX_BUFFER_FLOATS ((size_t)1 << 28)

static size_t held_floats(const rtg_layer_desc *d)
{
    return d->stride > 1 ? rtg_align_floats((size_t)d->out_ch) : 0;
}

/* Packed weights: per group a padded bias row, then per group its
 * taps × in/groups weight rows (rtg_gemm.h). */
RTG_INLINE void conv_product(const rtg_layer *L, const int vw, const int n, float *y,
                             const float *x, ptrdiff_t ldx, int frames)
{
    if (n && L->in_ch == n && ldx == n) {
        /* Square, unstrided (the common case): compile-time input count and
         * row stride too, as in dense.c. */
        rtg_gemm(vw, y, n, x, n, (ptrdiff_t)L->i[CONV_DILATION] * n, L->i[CONV_KERNEL],
                 L->w + rtg_gemm_ld(n), L->w, n, n, frames);
        return;
    }
    const int groups = n ? 1 : L->i[CONV_GROUPS];
    const int opg = n ? n : L->out_ch / groups;
    const int ipg = L->in_ch / groups;
    const int taps = L->i[CONV_KERNEL];
    const ptrdiff_t tap_step = (ptrdiff_t)L->i[CONV_DILATION] * L->in_ch;
    const int ldg = rtg_gemm_ld(opg);
    const size_t wg = rtg_gemm_weight_floats(opg, ipg, taps);
    const float *w = L->w + (size_t)groups * ldg;
    for (int g = 0; g < groups; g++)
        rtg_gemm(vw, y + g * opg, L->out_ch, x + g * ipg, ldx, tap_step, taps, w + g * wg,
                 L->w + g * ldg, opg, ipg, frames);
}

RTG_INLINE void conv1d_body(const rtg_layer *L, const float *in, float *out, int frames,
                            const int vw, const int n)
{
    const int in_ch = L->in_ch, out_ch = n ? n : L->out_ch;
    const int history = L->i[CONV_HISTORY], stride = L->i[CONV_STRIDE];
    const rtg_act act = (rtg_act)L->i[CONV_ACT];
    const float alpha = L->f[CONV_ALPHA];
    float *state = L->state;

    /* x: input rows such that frame t's oldest tap is row t. */
    const float *x = in;
    if (history > 0) {
        float *buf = state + STATE_HELD + (stride > 1 ? rtg_align_floats((size_t)out_ch) : 0);
        int pos = rtg_state_int(state + STATE_POS);
        if (pos + frames > L->i[CONV_ROOM]) {
            memmove(buf, buf + (size_t)pos * in_ch, (size_t)history * in_ch * sizeof(float));
            pos = 0;
        }
        memcpy(buf + (size_t)(pos + history) * in_ch, in, (size_t)frames * in_ch * sizeof(float));
        x = buf + (size_t)pos * in_ch;
        rtg_state_set_int(state + STATE_POS, pos + frames);
    }

    if (stride == 1) {
        conv_product(L, vw, n, out, x, in_ch, frames);
        rtg_act_inplace(act, alpha, out, frames, out_ch);
        return;
    }

    /* Strided: compute only the frames whose phase is 0, into scratch, and
     * hold each result until the next one. */
    float *held = state + STATE_HELD;
    const int phase = rtg_state_int(state + STATE_PHASE);
    const int first = phase ? stride - phase : 0;
    const int count = first < frames ? (frames - 1 - first) / stride + 1 : 0;
    float *computed = L->scratch;
    if (count) {
        conv_product(L, vw, n, computed, x + (size_t)first * in_ch, (ptrdiff_t)stride * in_ch,
                     count);
        rtg_act_inplace(act, alpha, computed, count, out_ch);
    }
    const float *src = held;
    for (int t = 0, next = first; t < frames; t++) {
        if (t == next) {
            src = computed + (size_t)((t - first) / stride) * out_ch;
            next += stride;
        }
        memcpy(out + (size_t)t * out_ch, src, (size_t)out_ch * sizeof(float));
    }
    if (count)
        memcpy(held, src, (size_t)out_ch * sizeof(float));
    rtg_state_set_int(state + STATE_PHASE, (phase + frames) % stride);
}

RTG_SIZED_KERNELS(conv1d, conv1d_body)

int rtg_conv1d_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m, rtg_error *err)
{
    int rc;
    if ((unsigned)d->act >= RTG_ACT_COUNT)
        return rtg_error_set(err, RTG_EINVAL, "unknown activation %d", (int)d->act);
    if ((rc = rtg_check_dim(d->kernel_size, 1, RTG_MAX_KERNEL, "conv1d kernel size", err)) ||
        (rc = rtg_check_dim(d->dilation, 1, RTG_MAX_DILATION, "conv1d dilation", err)) ||
        (rc = rtg_check_dim(d->stride, 1, RTG_MAX_DILATION, "conv1d stride", err)) ||
        (rc = rtg_check_dim(d->groups, 1, d->in_ch, "conv1d groups", err)))
        return rc;
    if (d->in_ch % d->groups || d->out_ch % d->groups)
        return rtg_error_set(err, RTG_EINVAL,
                             "conv1d channels %d in, %d out are not divisible by %d groups",
                             d->in_ch, d->out_ch, d->groups);
    const size_t history = (size_t)(d->kernel_size - 1) * d->dilation;
    const size_t room = history > (size_t)max_block ? history : (size_t)max_block;
    const size_t buffer = history ? (history + room) * d->in_ch : 0;
    if (buffer > CONV_MAX_BUFFER_FLOATS)
        return rtg_error_set(err, RTG_ENOMEM,
                             "conv1d history of %zu frames x %d channels is too large", history,
                             d->in_ch);

    const size_t n_w = (size_t)d->out_ch * (d->in_ch / d->groups) * d->kernel_size;
    if ((rc = rtg_check_weights(d->w, n_w, "conv1d weight", err)) ||
        (d->b && (rc = rtg_check_weights(d->b, (size_t)d->out_ch, "conv1d bias", err))))
        return rc;

    const int opg = d->out_ch / d->groups, ipg = d->in_ch / d->groups;
    m->weight_floats = (size_t)d->groups * (rtg_gemm_ld(opg) +
                                            rtg_gemm_weight_floats(opg, ipg, d->kernel_size));
    if (buffer || d->stride > 1)
        m->state_floats = STATE_HELD + held_floats(d) + buffer;
    if (d->stride > 1)
        m->scratch_floats = (size_t)((max_block + d->stride - 1) / d->stride) * d->out_ch;
    return RTG_OK;
}

void rtg_conv1d_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    const int groups = d->groups, opg = d->out_ch / groups, ipg = d->in_ch / groups;
    const int K = d->kernel_size, ldg = rtg_gemm_ld(opg);
    const size_t wg = rtg_gemm_weight_floats(opg, ipg, K);
    for (int g = 0; g < groups; g++) {
        rtg_gemm_pack_bias(weights + g * ldg, d->b ? d->b + g * opg : NULL, opg);
        /* PyTorch w[out][in/groups][K]: o strides ipg*K, i strides K, tap 1. */
        rtg_gemm_pack(weights + (size_t)groups * ldg + g * wg, d->w + (size_t)g * opg * ipg * K,
                      opg, ipg, K, (ptrdiff_t)ipg * K, K, 1);
    }
    const size_t history = (size_t)(K - 1) * d->dilation;
    L->i[CONV_ACT] = (int)d->act;
    L->i[CONV_KERNEL] = K;
    L->i[CONV_DILATION] = d->dilation;
    L->i[CONV_GROUPS] = groups;
    L->i[CONV_STRIDE] = d->stride;
    L->i[CONV_HISTORY] = (int)history;
    L->i[CONV_ROOM] = (int)(history > (size_t)L->max_block ? history : (size_t)L->max_block);
    L->f[CONV_ALPHA] = rtg_act_alpha(d->act, d->alpha);
    L->run = conv1d_pick(d->out_ch, groups == 1);
}
