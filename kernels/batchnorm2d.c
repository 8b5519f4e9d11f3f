/* batchnorm2d.c — placeholder until the batchnorm2d kernel lands: every desc is refused. */
#include "rtg_kernel_modules.h"

int rtg_batchnorm2d_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m, rtg_error *err)
{
    (void)d; (void)max_block; (void)m;
    return rtg_error_set(err, RTG_ENOTSUP, "batchnorm2d layer not implemented yet");
}

void rtg_batchnorm2d_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    (void)L; (void)d; (void)weights;
}
