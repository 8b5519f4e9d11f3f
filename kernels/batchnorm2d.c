/* batchnorm2d.c — RTNeural's BatchNorm2D: inference-time batch
 * normalisation per filter of frames that hold features x filters.
 *
 * Frame layout as Conv2D's (RTNeural's): value (feature f, filter c) is
 * x[f * filters_in + c], in_ch = out_ch = features_in * filters_in. Filter c
 * of every feature computes, as RTNeural does,
 *
 *   y = (x - mean[c]) * (gamma[c] / sqrt(var[c] + eps)) + beta[c]
 *
 * with gamma 1 and beta 0 when the desc has none (non-affine).
 *
 * Packed weights are the three per-filter constants repeated over the
 * features, so the run loop is one flat pass over the frame.
 */
#include <math.h>

#include "rtg_kernel_isa.h"
#include "rtg_kernel_modules.h"

int rtg_batchnorm2d_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m,
                            rtg_error *err)
{
    (void)max_block;
    int rc;
    if ((rc = rtg_check_dim(d->filters_in, 1, RTG_MAX_CHANNELS, "filters_in", err)) ||
        (rc = rtg_check_dim(d->features_in, 1, RTG_MAX_CHANNELS, "features_in", err)))
        return rc;
    if (d->in_ch != d->features_in * d->filters_in || d->out_ch != d->in_ch)
        return rtg_error_set(err, RTG_EINVAL,
                             "input/output channels %d/%d, want both features_in %d x filters_in %d",
                             d->in_ch, d->out_ch, d->features_in, d->filters_in);
    const size_t n = (size_t)d->filters_in;
    if ((rc = rtg_check_weights(d->mean, n, "batchnorm2d mean", err)) ||
        (rc = rtg_check_weights(d->var, n, "batchnorm2d variance", err)) ||
        (rc = rtg_check_weights(d->gamma, d->gamma ? n : 0, "batchnorm2d gamma", err)) ||
        (rc = rtg_check_weights(d->beta, d->beta ? n : 0, "batchnorm2d beta", err)))
        return rc;
    if (!(d->eps >= 0.0f) || isinf(d->eps))
        return rtg_error_set(err, RTG_EINVAL, "batchnorm2d epsilon %g must be finite and >= 0",
                             (double)d->eps);
    for (size_t c = 0; c < n; c++)
        if (!((double)d->var[c] + d->eps > 0.0))
            return rtg_error_set(err, RTG_EINVAL,
                                 "batchnorm2d variance[%zu] + epsilon is %g, must be positive", c,
                                 (double)d->var[c] + d->eps);
    m->weight_floats = 3 * (size_t)d->in_ch;
    return RTG_OK;
}

/* One instance per ISA (RTG_ISA_KERNELS); vw and sized go unused. */
RTG_INLINE void batchnorm2d_body(const rtg_layer *L, const float *in, float *out, int frames,
                                 const int vw, const int sized)
{
    const int n = L->in_ch;
    const float *restrict mean = L->w, *restrict mult = L->w + n, *restrict beta = L->w + 2 * n;
    for (int t = 0; t < frames; t++) {
        const float *restrict x = in + (size_t)t * n;
        float *restrict y = out + (size_t)t * n;
        for (int i = 0; i < n; i++)
            y[i] = (x[i] - mean[i]) * mult[i] + beta[i];
    }
}

RTG_ISA_KERNELS(batchnorm2d_run, batchnorm2d_body)

void rtg_batchnorm2d_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    const int n = d->in_ch, filters = d->filters_in;
    for (int i = 0; i < n; i++) {
        const int c = i % filters;
        const double gamma = d->gamma ? d->gamma[c] : 1.0;
        weights[i] = d->mean[c];
        weights[n + i] = (float)(gamma / sqrt((double)d->var[c] + d->eps));
        weights[2 * n + i] = d->beta ? d->beta[c] : 0.0f;
    }
    L->run = batchnorm2d_run_pick();
}
