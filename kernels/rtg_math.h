/* rtg_math.h — exp, tanh and sigmoid written so the compiler vectorises
 * them: branch-free, no libm calls, no lookup tables.
 *
 * Accuracy (float32, checked against double-precision libm in
 * tests/test_math.c): exp relative error below 3 ulp over [-87, 88]; tanh
 * and sigmoid absolute error below 2e-7 everywhere. That keeps recurrent
 * models within RTNeural's 1e-6 conformance thresholds. An opt-in faster
 * approximation (NAM's "fast tanh") is a separate activation, never a
 * silent substitute.
 *
 * Thread: any; real-time safe (pure functions).
 */
#ifndef RTG_MATH_H
#define RTG_MATH_H

#include <stdint.h>
#include <string.h>

#include "rtg_cpu.h"

RTG_INLINE float rtg_bits_to_float(int32_t i)
{
    float f;
    memcpy(&f, &i, sizeof f);
    return f;
}

/* e^x, x clamped to [-87.3, 88.7] (so the result stays a normal float). */
RTG_INLINE float rtg_expf(float x)
{
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.7f ? 88.7f : x;
    /* x = n ln2 + r, |r| <= ln2/2; ln2 split in two for an exact product. */
    /* round to nearest by the 1.5 * 2^23 trick: vectorises on every ISA,
     * unlike roundf (needs -fno-fast-math, which is the default). */
    const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    /* e^r by a degree-6 minimax polynomial (Cephes' expf coefficients). */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    return p * rtg_bits_to_float(((int32_t)n + 127) << 23);
}

/* tanh(x): an odd polynomial near zero (where 1 - 2/(e^2x + 1) would lose
 * digits to cancellation), the exponential form elsewhere. */
RTG_INLINE float rtg_tanhf(float x)
{
    const float ax = x < 0 ? -x : x;
    const float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const float small = x + x * z * p;
    const float e = rtg_expf(2.0f * (ax < 9.0f ? ax : 9.0f));
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = x < 0 ? -big : big;
    return ax < 0.625f ? small : big;
}

/* 1 / (1 + e^-x). */
RTG_INLINE float rtg_sigmoidf(float x)
{
    return 1.0f / (1.0f + rtg_expf(-x));
}

#endif
