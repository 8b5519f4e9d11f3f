/* rtg_kernel_modules.h — the per-layer-type modules behind rtg_layer.h.
 *
 * Internal to kernels/: each layer type is one .c file that provides a
 * measure function (validate the desc, report memory) and an init function
 * (pack weights into `weights`, pick L->run for the sizes and ISA, fill
 * L->i / L->f). rtg_layer.c has already set L->type, in/out_ch, max_block,
 * state, state_floats, scratch and L->w = weights before init is called;
 * init may set L->state_init (pointing into its weights) and must not
 * touch the state contents (rtg_layer_init resets afterwards).
 */
#ifndef RTG_KERNEL_MODULES_H
#define RTG_KERNEL_MODULES_H

#include "rtg_layer.h"

typedef int (*rtg_measure_fn)(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m, rtg_error *err);
typedef void (*rtg_init_fn)(rtg_layer *L, const rtg_layer_desc *d, float *weights);

#define RTG_DECLARE_LAYER_MODULE(name)                                                          \
    int rtg_##name##_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m,          \
                             rtg_error *err);                                                   \
    void rtg_##name##_init(rtg_layer *L, const rtg_layer_desc *d, float *weights);

RTG_DECLARE_LAYER_MODULE(dense)
RTG_DECLARE_LAYER_MODULE(conv1d)
RTG_DECLARE_LAYER_MODULE(conv1d_stateless)
RTG_DECLARE_LAYER_MODULE(conv2d)
RTG_DECLARE_LAYER_MODULE(lstm)
RTG_DECLARE_LAYER_MODULE(gru)
RTG_DECLARE_LAYER_MODULE(batchnorm)
RTG_DECLARE_LAYER_MODULE(batchnorm2d)
RTG_DECLARE_LAYER_MODULE(prelu)
RTG_DECLARE_LAYER_MODULE(activation)

/* Shared validation helpers for measure functions. Each returns RTG_OK or
 * RTG_EINVAL with a message naming `what`. */
int rtg_check_weights(const float *p, size_t n, const char *what, rtg_error *err);
int rtg_check_dim(int value, int lo, int hi, const char *what, rtg_error *err);

/* Largest channel count, kernel size, etc. a loader may ask for; keeps a
 * hostile file from making the builder allocate gigabytes. */
#define RTG_MAX_CHANNELS 4096
#define RTG_MAX_KERNEL 4096
#define RTG_MAX_DILATION 65536

#endif
