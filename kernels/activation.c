/* activation.c — pointwise activation layer (softmax: over one frame's
 * channels); the functions themselves are in rtg_act.h. */
#include <math.h>

#include "rtg_act.h"
#include "rtg_kernel_isa.h"
#include "rtg_kernel_modules.h"

/* L->i / L->f slots. */
enum { ACTIVATION_ACT };
enum { ACTIVATION_ALPHA };

RTG_INLINE void activation_body(const rtg_layer *L, const float *in, float *out, int frames,
                                const int vw, const int n)
{
    (void)vw;
    const rtg_act act = (rtg_act)L->i[ACTIVATION_ACT];
    const float alpha = L->f[ACTIVATION_ALPHA];
    /* One frame of a specialised size: a compile-time count, so the
     * compiler emits straight vector code without loop tails. */
    if (n && frames == 1)
        rtg_act_apply(act, alpha, out, in, 1, n);
    else
        rtg_act_apply(act, alpha, out, in, frames, L->out_ch);
}

RTG_SIZED_KERNELS(activation, activation_body)

int rtg_activation_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m,
                           rtg_error *err)
{
    (void)max_block;
    (void)m;
    if ((unsigned)d->act >= RTG_ACT_COUNT)
        return rtg_error_set(err, RTG_EINVAL, "unknown activation %d", (int)d->act);
    if (d->in_ch != d->out_ch)
        return rtg_error_set(err, RTG_EINVAL, "activation maps %d channels to %d, must be equal",
                             d->in_ch, d->out_ch);
    if (!isfinite(d->alpha))
        return rtg_error_set(err, RTG_EINVAL, "activation alpha is not finite");
    return RTG_OK;
}

void rtg_activation_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    (void)weights;
    L->i[ACTIVATION_ACT] = (int)d->act;
    L->f[ACTIVATION_ALPHA] = rtg_act_alpha(d->act, d->alpha);
    L->run = activation_pick(d->out_ch, 1);
}
