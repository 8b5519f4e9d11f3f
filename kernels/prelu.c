/* prelu.c — parametric ReLU: y = x > 0 ? x : alpha[c] * x, alpha per
 * channel or one shared by all (expanded per channel at init). */
#include "rtg_kernel_isa.h"
#include "rtg_kernel_modules.h"

/* Packed weights: alpha per channel. */
RTG_INLINE void prelu_body(const rtg_layer *L, const float *in, float *out, int frames,
                           const int vw, const int n)
{
    (void)vw;
    const int ch = n ? n : L->out_ch;
    const float *alpha = L->w;
    for (int t = 0; t < frames; t++) {
        const float *x = in + (size_t)t * ch;
        float *y = out + (size_t)t * ch;
        for (int c = 0; c < ch; c++)
            y[c] = x[c] > 0.0f ? x[c] : alpha[c] * x[c];
    }
}

RTG_SIZED_KERNELS(prelu, prelu_body)

int rtg_prelu_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m, rtg_error *err)
{
    (void)max_block;
    if (d->in_ch != d->out_ch)
        return rtg_error_set(err, RTG_EINVAL, "prelu maps %d channels to %d, must be equal",
                             d->in_ch, d->out_ch);
    if (d->n_alpha != 1 && d->n_alpha != d->in_ch)
        return rtg_error_set(err, RTG_EINVAL, "prelu has %d alphas, must be 1 or %d channels",
                             d->n_alpha, d->in_ch);
    int rc = rtg_check_weights(d->w, (size_t)d->n_alpha, "prelu alpha", err);
    if (rc)
        return rc;
    m->weight_floats = rtg_align_floats((size_t)d->in_ch);
    return RTG_OK;
}

void rtg_prelu_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    for (int c = 0; c < d->in_ch; c++)
        weights[c] = d->w[d->n_alpha == 1 ? 0 : c];
    L->run = prelu_pick(d->in_ch, 1);
}
