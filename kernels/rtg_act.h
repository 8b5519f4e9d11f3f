/* rtg_act.h — the activation functions, applied to blocks of frames
 * (private to kernels/: the Activation layer and the activations fused
 * into Dense and Conv1D).
 *
 * Everything here is always-inline so each ISA instantiation of a kernel
 * gets loops the compiler vectorises for that ISA. The switch on the
 * activation sits outside the loops (one branch per call).
 *
 * Thread: any; real-time safe (no allocation, no calls, bounded loops).
 */
#ifndef RTG_ACT_H
#define RTG_ACT_H

#include <stddef.h>

#include "rtg_cpu.h"
#include "rtg_layer.h"
#include "rtg_math.h"

/* desc.alpha of 0 means "not given": these are PyTorch's defaults. */
#define RTG_ELU_ALPHA_DEFAULT 1.0f
#define RTG_LEAKY_RELU_SLOPE_DEFAULT 0.01f

/* The alpha a layer runs with for `act` given desc.alpha. */
static inline float rtg_act_alpha(rtg_act act, float alpha)
{
    if (alpha != 0.0f)
        return alpha;
    if (act == RTG_ACT_ELU)
        return RTG_ELU_ALPHA_DEFAULT;
    if (act == RTG_ACT_LEAKY_RELU)
        return RTG_LEAKY_RELU_SLOPE_DEFAULT;
    return 0.0f;
}

/* NeuralAmpModelerCore's fast_tanh: a rational approximation that is exact
 * at 0, odd, and tends to ±1 (error up to ~2e-3); opt-in only. */
RTG_INLINE float rtg_fast_tanhf(float x)
{
    const float ax = x < 0 ? -x : x;
    const float x2 = x * x;
    const float num = x * (2.45550750702956f + 2.45550750702956f * ax +
                           (0.893229853513558f + 0.821226666969744f * ax) * x2);
    const float d = x + 0.814642734961073f * x * ax;
    const float den = 2.44506634652299f + (2.44506634652299f + x2) * (d < 0 ? -d : d);
    return num / den;
}

/* Softmax of one frame of `ch` channels: e^(x - max) / sum, the max
 * subtracted so large inputs cannot overflow. */
RTG_INLINE void rtg_softmax_row(float *dst, const float *src, int ch)
{
    float m = src[0];
    for (int c = 1; c < ch; c++)
        m = src[c] > m ? src[c] : m;
    float sum = 0.0f;
    for (int c = 0; c < ch; c++) {
        dst[c] = rtg_expf(src[c] - m);
        sum += dst[c];
    }
    const float inv = 1.0f / sum;
    for (int c = 0; c < ch; c++)
        dst[c] *= inv;
}

/* Each pointwise activation as two loops the compiler vectorises: out of
 * place (restrict pointers) and in place (one pointer, so no alias check
 * falls back to scalar code). `v` is the input, `a` the alpha. (Hand-made
 * chunking for short tails measured slower than the compiler's own
 * vector epilogues.) */
#define RTG_ACT_LOOPS(name, expr)                                                                  \
    RTG_INLINE void rtg_act_##name##_to(float *restrict dst, const float *restrict src,           \
                                        ptrdiff_t n, float a)                                      \
    {                                                                                              \
        (void)a;                                                                                   \
        for (ptrdiff_t i = 0; i < n; i++) {                                                        \
            const float v = src[i];                                                                \
            dst[i] = (expr);                                                                       \
        }                                                                                          \
    }                                                                                              \
    RTG_INLINE void rtg_act_##name##_in(float *y, ptrdiff_t n, float a)                            \
    {                                                                                              \
        (void)a;                                                                                   \
        for (ptrdiff_t i = 0; i < n; i++) {                                                        \
            const float v = y[i];                                                                  \
            y[i] = (expr);                                                                         \
        }                                                                                          \
    }

RTG_ACT_LOOPS(none, v)
RTG_ACT_LOOPS(tanh, rtg_tanhf(v))
RTG_ACT_LOOPS(relu, v > 0.0f ? v : 0.0f)
RTG_ACT_LOOPS(sigmoid, rtg_sigmoidf(v))
/* expm1 would be more accurate near 0, but the absolute error of
 * exp - 1 there is ~1e-7, below what a float model can tell apart. */
RTG_ACT_LOOPS(elu, v > 0.0f ? v : a * (rtg_expf(v < 0.0f ? v : 0.0f) - 1.0f))
RTG_ACT_LOOPS(hardtanh, v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v)
RTG_ACT_LOOPS(leaky_relu, v > 0.0f ? v : a * v)
RTG_ACT_LOOPS(fast_tanh, rtg_fast_tanhf(v))
#undef RTG_ACT_LOOPS

/* The switch over activations, calling `rtg_act_<name><suffix>(args, n, a)`. */
#define RTG_ACT_DISPATCH(act, suffix, ...)                                                         \
    switch (act) {                                                                                 \
    case RTG_ACT_NONE: rtg_act_none##suffix(__VA_ARGS__); break;                                   \
    case RTG_ACT_TANH: rtg_act_tanh##suffix(__VA_ARGS__); break;                                   \
    case RTG_ACT_RELU: rtg_act_relu##suffix(__VA_ARGS__); break;                                   \
    case RTG_ACT_SIGMOID: rtg_act_sigmoid##suffix(__VA_ARGS__); break;                             \
    case RTG_ACT_ELU: rtg_act_elu##suffix(__VA_ARGS__); break;                                     \
    case RTG_ACT_HARDTANH: rtg_act_hardtanh##suffix(__VA_ARGS__); break;                           \
    case RTG_ACT_LEAKY_RELU: rtg_act_leaky_relu##suffix(__VA_ARGS__); break;                       \
    case RTG_ACT_FAST_TANH: rtg_act_fast_tanh##suffix(__VA_ARGS__); break;                         \
    default: break;                                                                                \
    }

/* out = act(in) for `frames` rows of `ch` channels; in and out do not overlap. */
RTG_INLINE void rtg_act_apply(rtg_act act, float alpha, float *restrict out,
                              const float *restrict in, int frames, int ch)
{
    if (act == RTG_ACT_SOFTMAX) {
        for (int t = 0; t < frames; t++)
            rtg_softmax_row(out + (ptrdiff_t)t * ch, in + (ptrdiff_t)t * ch, ch);
        return;
    }
    RTG_ACT_DISPATCH(act, _to, out, in, (ptrdiff_t)frames * ch, alpha)
}

/* y = act(y) in place (the activation fused after a product). */
RTG_INLINE void rtg_act_inplace(rtg_act act, float alpha, float *y, int frames, int ch)
{
    if (act == RTG_ACT_NONE)
        return;
    if (act == RTG_ACT_SOFTMAX) {
        for (int t = 0; t < frames; t++)
            rtg_softmax_row(y + (ptrdiff_t)t * ch, y + (ptrdiff_t)t * ch, ch);
        return;
    }
    RTG_ACT_DISPATCH(act, _in, y, (ptrdiff_t)frames * ch, alpha)
}

#endif
