/* rtg_layer.c — dispatch from the generic layer contract to the per-type
 * modules, and what every layer shares: reset, validation, names. */
#include "rtg_layer.h"

#include <math.h>
#include <string.h>

#include "rtg_cpu.h"
#include "rtg_kernel_modules.h"

typedef struct layer_module {
    const char *name;
    rtg_measure_fn measure;
    rtg_init_fn init;
} layer_module;

#define MODULE(T, n) [T] = {#n, rtg_##n##_measure, rtg_##n##_init}
static const layer_module modules[RTG_LAYER_TYPE_COUNT] = {
    MODULE(RTG_LAYER_DENSE, dense),
    MODULE(RTG_LAYER_CONV1D, conv1d),
    MODULE(RTG_LAYER_CONV1D_STATELESS, conv1d_stateless),
    MODULE(RTG_LAYER_CONV2D, conv2d),
    MODULE(RTG_LAYER_LSTM, lstm),
    MODULE(RTG_LAYER_GRU, gru),
    MODULE(RTG_LAYER_BATCHNORM, batchnorm),
    MODULE(RTG_LAYER_BATCHNORM2D, batchnorm2d),
    MODULE(RTG_LAYER_PRELU, prelu),
    MODULE(RTG_LAYER_ACTIVATION, activation),
};
#undef MODULE

const char *rtg_layer_type_name(rtg_layer_type t)
{
    if ((unsigned)t >= RTG_LAYER_TYPE_COUNT)
        return "unknown";
    return modules[t].name;
}

const char *rtg_act_name(rtg_act a)
{
    static const char *names[RTG_ACT_COUNT] = {
        [RTG_ACT_NONE] = "linear",      [RTG_ACT_TANH] = "tanh",
        [RTG_ACT_RELU] = "relu",        [RTG_ACT_SIGMOID] = "sigmoid",
        [RTG_ACT_SOFTMAX] = "softmax",  [RTG_ACT_ELU] = "elu",
        [RTG_ACT_HARDTANH] = "hardtanh", [RTG_ACT_LEAKY_RELU] = "leaky_relu",
        [RTG_ACT_FAST_TANH] = "fast_tanh",
    };
    if ((unsigned)a >= RTG_ACT_COUNT)
        return "unknown";
    return names[a];
}

int rtg_check_weights(const float *p, size_t n, const char *what, rtg_error *err)
{
    if (n && !p)
        return rtg_error_set(err, RTG_EINVAL, "missing %s", what);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i]))
            return rtg_error_set(err, RTG_EINVAL, "%s[%zu] is not finite (%g)", what, i, (double)p[i]);
    return RTG_OK;
}

int rtg_check_dim(int value, int lo, int hi, const char *what, rtg_error *err)
{
    if (value < lo || value > hi)
        return rtg_error_set(err, RTG_EINVAL, "%s is %d, must be in %d..%d", what, value, lo, hi);
    return RTG_OK;
}

int rtg_layer_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m, rtg_error *err)
{
    memset(m, 0, sizeof *m);
    if ((unsigned)d->type >= RTG_LAYER_TYPE_COUNT)
        return rtg_error_set(err, RTG_EINVAL, "unknown layer type %d", (int)d->type);
    if (max_block < 1)
        return rtg_error_set(err, RTG_EINVAL, "max block %d must be at least 1", max_block);
    int rc;
    if ((rc = rtg_check_dim(d->in_ch, 1, RTG_MAX_CHANNELS, "input channels", err)) ||
        (rc = rtg_check_dim(d->out_ch, 1, RTG_MAX_CHANNELS, "output channels", err)))
        return rc;
    return modules[d->type].measure(d, max_block, m, err);
}

void rtg_layer_init(rtg_layer *L, const rtg_layer_desc *d, int max_block,
                    float *weights, float *state, float *scratch)
{
    rtg_layer_mem m;
    memset(L, 0, sizeof *L);
    (void)rtg_layer_measure(d, max_block, &m, NULL); /* validated by the caller already */
    (void)rtg_cpu_isa();                            /* read $RTG_ISA off the audio thread */
    L->type = d->type;
    L->in_ch = d->in_ch;
    L->out_ch = d->out_ch;
    L->max_block = max_block;
    L->w = weights;
    L->state = state;
    L->state_floats = m.state_floats;
    L->scratch = scratch;
    modules[d->type].init(L, d, weights);
    rtg_layer_reset(L);
}

void rtg_layer_reset(rtg_layer *L)
{
    if (!L->state_floats)
        return;
    if (L->state_init)
        memcpy(L->state, L->state_init, L->state_floats * sizeof(float));
    else
        memset(L->state, 0, L->state_floats * sizeof(float));
}

double rtg_layer_macs(const rtg_layer_desc *d)
{
    double in = d->in_ch, out = d->out_ch;
    switch (d->type) {
    case RTG_LAYER_DENSE:
        return in * out;
    case RTG_LAYER_CONV1D:
        return in / (d->groups > 0 ? d->groups : 1) * out * d->kernel_size /
               (d->stride > 0 ? d->stride : 1);
    case RTG_LAYER_CONV1D_STATELESS:
        return (double)d->features_in / (d->groups > 0 ? d->groups : 1) * d->kernel_size *
               out;
    case RTG_LAYER_CONV2D:
        return (double)d->filters_in * d->kernel_size * d->kernel_features * out;
    case RTG_LAYER_LSTM:
        return 4.0 * out * (in + out);
    case RTG_LAYER_GRU:
        return 3.0 * out * (in + out);
    default:
        return out; /* pointwise */
    }
}
