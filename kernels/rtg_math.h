/* rtg_math.h — exp, tanh and sigmoid written so the compiler vectorises
 * them: branch-free, no libm calls, no lookup tables.
 *
 * Accuracy (float32, checked against double-precision libm by
 * tests/test_math.c over dense grids and the extremes): exp relative error
 * below 3 ulp over [-87, 88]; tanh and sigmoid absolute error below 2e-7
 * everywhere, and relative error below 3e-7 where that is the stricter
 * bound (tanh for |x| < 0.625, sigmoid for -20 < x < 0; 2e-6 for the
 * latter on the portable path, whose missing FMA rounds n ln2). Finite or
 * infinite input never gives NaN: out-of-range arguments are clamped. That keeps
 * recurrent models within RTNeural's 1e-6 conformance thresholds. An
 * opt-in faster approximation (NAM's "fast tanh") is a separate
 * activation, never a silent substitute.
 *
 * Speed: the recurrence of an LSTM/GRU waits on these every frame, so they
 * are built for a short dependency chain: Estrin's scheme instead of Horner
 * for the polynomial, and tanh/sigmoid take e^-|x| (never above 1, so no
 * cancellation and no overflow) and finish with one division.
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

/* Round to nearest integer (returned as a float) by the 1.5 * 2^23 trick:
 * vectorises on every ISA, unlike roundf. Valid for |x| < 2^22. */
RTG_INLINE float rtg_round_small(float x)
{
    return (x + 12582912.0f) - 12582912.0f;
}

/* 2^n for an integral float n in [-126, 127]. */
RTG_INLINE float rtg_pow2i(float n)
{
    return rtg_bits_to_float(((int32_t)n + 127) << 23);
}

/* min(|x|, hi) for hi > 0, as integer operations on the bit pattern (the
 * order of non-negative floats is that of their bits): two one-cycle
 * instructions, +-inf and NaN map to hi, and the compiler cannot turn the
 * clamp into masked arithmetic on the critical chain. */
RTG_INLINE float rtg_abs_clamp(float x, float hi)
{
    int32_t b, h;
    memcpy(&b, &x, sizeof b);
    memcpy(&h, &hi, sizeof h);
    b &= 0x7fffffff;
    return rtg_bits_to_float(b < h ? b : h);
}

/* |v| with the sign of x. */
RTG_INLINE float rtg_copysignf(float v, float x)
{
    int32_t bv, bx;
    memcpy(&bv, &v, sizeof bv);
    memcpy(&bx, &x, sizeof bx);
    return rtg_bits_to_float((bv & 0x7fffffff) | (bx & (int32_t)0x80000000u));
}

/* head + r^2 P(r), P of degree 5 (Cephes' expf minimax coefficients), by
 * Estrin's scheme: three multiply-adds deep instead of six. With head =
 * 1 + r it is e^r, with head = r it is e^r - 1 (exact to relative
 * precision near 0), for |r| <= ln2/2 (a little beyond is fine). */
RTG_INLINE float rtg_exp_poly(float r, float head)
{
    const float r2 = r * r;
    const float c23 = 5.0000001201e-1f + 1.6666665459e-1f * r;
    const float c45 = 4.1665795894e-2f + 8.3334519073e-3f * r;
    const float c67 = 1.3981999507e-3f + 1.9875691500e-4f * r;
    const float r4 = r2 * r2;
    return (head + c23 * r2) + (c45 + c67 * r2) * r4;
}

/* e^x, x clamped to [-87.3, 88.3] (so 2^n and the result stay normal,
 * finite floats). */
RTG_INLINE float rtg_expf(float x)
{
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    const float n = rtg_round_small(x * 1.44269504088896341f);
    /* x = n ln2 + r, |r| <= ln2/2; ln2 split in two for an exact product. */
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    return rtg_exp_poly(r, 1.0f + r) * rtg_pow2i(n);
}

/* Splits -k a (0 <= k a <= 87; k a power of two, so k a is exact) as
 * n ln2 + r: returns r and sets *pow2n = 2^n. What tanh and sigmoid are
 * built on. n comes from a directly (k folds into the constant), keeping
 * the multiply by k off the chain; one multiply-add reduces the argument:
 * the rounding of ln2 to float costs n * 2e-9 relative, which only matters
 * where e^-ka is far below what the callers can show, and it saves a step. */
RTG_INLINE float rtg_exp_neg_reduce(float a, const float k, float *pow2n)
{
    const float n = rtg_round_small(a * (k * -1.44269504088896341f));
    *pow2n = rtg_pow2i(n);
    return n * -0.693147180559945309f - k * a;
}

/* tanh(|x|) = -m / (2 + m) with m = e^-2|x| - 1 = 2^n (e^r - 1) + (2^n - 1),
 * which keeps relative precision all the way down to 0 (no separate
 * small-x branch) and has no cancellation anywhere; |x| is clamped to 9,
 * where tanh is 1 to float precision. */
RTG_INLINE float rtg_tanhf(float x)
{
    const float ax = rtg_abs_clamp(x, 9.0f);
    float s;
    const float r = rtg_exp_neg_reduce(ax, 2.0f, &s);
    const float m = rtg_exp_poly(r, r) * s + (s - 1.0f);
    return rtg_copysignf(m / (m + 2.0f), x);
}

/* 1 / (1 + e^-x): with e = e^-|x|, 1 / (1 + e) for x >= 0 and e / (1 + e)
 * for x < 0, so tiny results keep their relative precision too. */
RTG_INLINE float rtg_sigmoidf(float x)
{
    const float ax = rtg_abs_clamp(x, 87.0f);
    float s;
    const float r = rtg_exp_neg_reduce(ax, 1.0f, &s);
    const float q = rtg_exp_poly(r, 1.0f + r);
    return (x < 0 ? q * s : 1.0f) / (1.0f + q * s);
}

#endif
