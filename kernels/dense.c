/* dense.c — fully connected layer, y = W x + b with an optional fused
 * activation, on a whole block of frames as one block × matrix product. */
#include "rtg_act.h"
#include "rtg_gemm.h"
#include "rtg_kernel_isa.h"
#include "rtg_kernel_modules.h"

/* L->i / L->f slots. */
enum { DENSE_ACT };
enum { DENSE_ALPHA };

/* Packed weights: the padded bias row, then W^T rows (rtg_gemm.h). */
RTG_INLINE void dense_body(const rtg_layer *L, const float *in, float *out, int frames,
                           const int vw, const int n)
{
    const int n_out = n ? n : L->out_ch;
    const float *bias = L->w;
    const float *w = L->w + rtg_gemm_ld(n_out);
    /* Square layers (the common N -> N) also get a compile-time input
     * count: constant row strides free the registers that would hold one
     * input pointer per frame of a tile. */
    if (n && L->in_ch == n)
        rtg_gemm(vw, out, n, in, n, 0, 1, w, bias, n, n, frames);
    else
        rtg_gemm(vw, out, n_out, in, L->in_ch, 0, 1, w, bias, n_out, L->in_ch, frames);
    rtg_act_inplace((rtg_act)L->i[DENSE_ACT], L->f[DENSE_ALPHA], out, frames, n_out);
}

RTG_SIZED_KERNELS(dense, dense_body)

int rtg_dense_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m, rtg_error *err)
{
    (void)max_block;
    int rc;
    if ((unsigned)d->act >= RTG_ACT_COUNT)
        return rtg_error_set(err, RTG_EINVAL, "unknown activation %d", (int)d->act);
    if ((rc = rtg_check_weights(d->w, (size_t)d->out_ch * d->in_ch, "dense weight", err)) ||
        (d->b && (rc = rtg_check_weights(d->b, (size_t)d->out_ch, "dense bias", err))))
        return rc;
    m->weight_floats = rtg_gemm_ld(d->out_ch) + rtg_gemm_weight_floats(d->out_ch, d->in_ch, 1);
    return RTG_OK;
}

void rtg_dense_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    const int ld = rtg_gemm_ld(d->out_ch);
    rtg_gemm_pack_bias(weights, d->b, d->out_ch);
    rtg_gemm_pack(weights + ld, d->w, d->out_ch, d->in_ch, 1, d->in_ch, 1, 0);
    L->i[DENSE_ACT] = (int)d->act;
    L->f[DENSE_ALPHA] = rtg_act_alpha(d->act, d->alpha);
    L->run = dense_pick(d->out_ch, 1);
}
