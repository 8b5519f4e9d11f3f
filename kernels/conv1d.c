/* conv1d.c — placeholder until the conv1d kernel lands: every desc is refused. */
#include "rtg_kernel_modules.h"

int rtg_conv1d_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m, rtg_error *err)
{
    (void)d; (void)max_block; (void)m;
    return rtg_error_set(err, RTG_ENOTSUP, "conv1d layer not implemented yet");
}

void rtg_conv1d_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    (void)L; (void)d; (void)weights;
}
