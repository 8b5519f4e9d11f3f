/* batchnorm.c — 1-D batch normalisation at inference: per channel
 * y = x * scale + shift, with scale = gamma / sqrt(var + eps) and
 * shift = beta - mean * scale folded at init. */
#include <math.h>

#include "rtg_kernel_isa.h"
#include "rtg_kernel_modules.h"

/* Packed weights: scale, then shift, each padded to an aligned length. */
RTG_INLINE void batchnorm_body(const rtg_layer *L, const float *in, float *out, int frames,
                               const int vw, const int n)
{
    (void)vw;
    const int ch = n ? n : L->out_ch;
    const float *scale = L->w;
    const float *shift = L->w + rtg_align_floats((size_t)ch);
    for (int t = 0; t < frames; t++) {
        const float *x = in + (size_t)t * ch;
        float *y = out + (size_t)t * ch;
        for (int c = 0; c < ch; c++)
            y[c] = x[c] * scale[c] + shift[c];
    }
}

RTG_SIZED_KERNELS(batchnorm, batchnorm_body)

int rtg_batchnorm_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m,
                          rtg_error *err)
{
    (void)max_block;
    const size_t ch = (size_t)d->in_ch;
    int rc;
    if (d->in_ch != d->out_ch)
        return rtg_error_set(err, RTG_EINVAL, "batchnorm maps %d channels to %d, must be equal",
                             d->in_ch, d->out_ch);
    if ((rc = rtg_check_weights(d->mean, ch, "batchnorm running mean", err)) ||
        (rc = rtg_check_weights(d->var, ch, "batchnorm running variance", err)) ||
        (d->gamma && (rc = rtg_check_weights(d->gamma, ch, "batchnorm gamma", err))) ||
        (d->beta && (rc = rtg_check_weights(d->beta, ch, "batchnorm beta", err))))
        return rc;
    if (!isfinite(d->eps) || d->eps < 0)
        return rtg_error_set(err, RTG_EINVAL, "batchnorm eps %g must be finite and >= 0",
                             (double)d->eps);
    for (size_t c = 0; c < ch; c++)
        if (!(d->var[c] + d->eps > 0))
            return rtg_error_set(err, RTG_EINVAL,
                                 "batchnorm variance[%zu] + eps is %g, must be positive", c,
                                 (double)(d->var[c] + d->eps));
    m->weight_floats = 2 * rtg_align_floats(ch);
    return RTG_OK;
}

void rtg_batchnorm_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    const int ch = d->in_ch;
    float *scale = weights, *shift = weights + rtg_align_floats((size_t)ch);
    for (int c = 0; c < ch; c++) {
        /* Folded in double so scale and shift are the correctly rounded
         * values of PyTorch's formula. */
        const double s = (d->gamma ? d->gamma[c] : 1.0) / sqrt((double)d->var[c] + d->eps);
        scale[c] = (float)s;
        shift[c] = (float)((d->beta ? d->beta[c] : 0.0) - d->mean[c] * s);
    }
    L->run = batchnorm_pick(ch, 1);
}
