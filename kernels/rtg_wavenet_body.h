/* rtg_wavenet_body.h — the WaveNet kernel's inner loops, compiled once per
 * ISA (private to rtg_wavenet.c, which includes this file three times).
 *
 * Before each inclusion rtg_wavenet.c sets the target (GCC's target pragma
 * or clang's attribute push) and defines:
 *   WN_ISA          name suffix of everything defined here (portable, avx2, avx512)
 *   WN_AVX512       (AVX-512 only) use its instructions through intrinsics
 *   WN_VW           floats per vector: frames one vector holds
 *   WN_SIZES(X)     the specialised channel counts as X(C, OG, NT)
 *   WN_G1_NT, WN_G2_NT  frame vectors per tile of the generic layer (not gated / gated)
 *   WN_PW_NT        frame vectors per tile of the pointwise (1x1) products
 * Everything here is time-major: vector n of row c holds channel c over
 * frames [t0 + n*WN_VW, t0 + (n+1)*WN_VW). A tile is OG output channels
 * (G = 2 when gated: the activation's and the gate's) x NT vectors, all
 * accumulators in registers; every weight is a broadcast operand.
 *
 * Thread: the instances are real-time safe (no calls, bounded loops).
 */

/* Array bounds of a tile (OG and NT are `const int` parameters, not
 * constant expressions: sizing arrays by them would make VLAs, which live
 * in memory instead of registers). */
#ifndef WN_MAX_OG
#define WN_MAX_OG 12
#define WN_MAX_NT 4
#endif

#define WN_CAT_(a, b) a##_##b
#define WN_CAT(a, b) WN_CAT_(a, b)
#define WN_FN(name) WN_CAT(wn_##name, WN_ISA)
#define VEC WN_FN(vec)
#define IVEC WN_FN(ivec)

typedef float VEC __attribute__((vector_size(WN_VW * 4), aligned(4)));
typedef int32_t IVEC __attribute__((vector_size(WN_VW * 4), aligned(4)));

/* Unaligned vector load/store (macros, so no vector crosses a call). VEC
 * is only 4-byte aligned, so a plain access is an unaligned move; memcpy
 * would not do: under generic tuning GCC copies 32 bytes as two 16-byte
 * halves through the stack, and the reload stalls on store forwarding. */
#define WN_LOAD(v, p) ((v) = *(const VEC *)(const void *)(p))
#define WN_STORE(p, v) (*(VEC *)(void *)(p) = (v))

/* Lanes of x where mask (-1/0 per lane) is set, else y. */
RTG_INLINE VEC WN_FN(select)(IVEC mask, VEC x, VEC y)
{
    return (VEC)(((IVEC)x & mask) | ((IVEC)y & ~mask));
}

/* num / den for den in [1, inf). AVX-512 (WN_AVX512): the 14-bit reciprocal estimate
 * and one correction of the quotient (q + r (num - q den)), which is off by
 * less than an ulp and takes a fraction of a division's cycles; elsewhere a
 * division. */
RTG_INLINE VEC WN_FN(div)(VEC num, VEC den)
{
#if defined(WN_AVX512)
    const VEC r = (VEC)_mm512_rcp14_ps((__m512)den);
    const VEC q = num * r;
    const VEC e = num - q * den;
    return q + r * e;
#else
    return num / den;
#endif
}

/* e^r - 1 - r = r^2 P(r) with rtg_math.h's polynomial (Cephes' expf
 * coefficients), by Horner's scheme: the vector code is throughput-bound
 * (many independent vectors), where Horner takes the fewest operations. */
RTG_INLINE VEC WN_FN(expm1_tail)(VEC r)
{
    VEC p = 1.9875691500e-4f * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    return p * (r * r);
}

/* a < b ? a : b lane by lane (so b where a is NaN): one min instruction
 * where the ISA has it (the compiler makes a compare and blends of the
 * generic form). */
RTG_INLINE VEC WN_FN(min)(VEC a, VEC b)
{
#if defined(WN_AVX512)
    return (VEC)_mm512_min_ps((__m512)a, (__m512)b);
#elif RTG_X86 && WN_VW == 8
    return (VEC)_mm256_min_ps((__m256)a, (__m256)b);
#elif RTG_X86 && WN_VW == 4
    return (VEC)_mm_min_ps((__m128)a, (__m128)b);
#else
    return WN_FN(select)(a < b, a, b);
#endif
}

/* The magnitude of m with the sign of x (one instruction on AVX-512). */
RTG_INLINE VEC WN_FN(copysign)(VEC m, VEC x)
{
#if defined(WN_AVX512)
    /* bitwise: sign mask ? x : m */
    return (VEC)_mm512_ternarylogic_epi32((__m512i)((IVEC){0} + INT32_MIN), (__m512i)m,
                                          (__m512i)x, 0xac);
#else
    return (VEC)(((IVEC)m & 0x7fffffff) | ((IVEC)x & INT32_MIN));
#endif
}

/* min(|x|, hi) for hi > 0: NaN gives hi, so no input can give NaN. */
RTG_INLINE VEC WN_FN(abs_clamp)(VEC x, float hi)
{
    return WN_FN(min)((VEC)((IVEC)x & 0x7fffffff), (VEC){0} + hi);
}

/* Splits -k a (0 <= a <= 87/k) as n ln2 + r and returns r with *s = 2^n,
 * as rtg_exp_neg_reduce. n is rounded by adding 1.5 * 2^23, which leaves
 * it in the low bits of the sum: (bits + 127) << 23 is 2^n (the magic's
 * own bits shift out). */
RTG_INLINE VEC WN_FN(exp_neg_reduce)(VEC a, const float k, VEC *s)
{
    const VEC t = a * (k * -1.44269504088896341f) + 12582912.0f;
    const VEC n = t - 12582912.0f;
    *s = (VEC)(((IVEC)t + 127) << 23);
    return n * -0.693147180559945309f - k * a;
}

/* rtg_tanhf, lane by lane: tanh|x| = -m / (2 + m), m = e^-2|x| - 1 =
 * s (e^r - 1) + (s - 1), exact to relative precision down to 0. */
RTG_INLINE VEC WN_FN(tanh)(VEC x)
{
    VEC s;
    const VEC r = WN_FN(exp_neg_reduce)(WN_FN(abs_clamp)(x, 9.0f), 2.0f, &s);
    const VEC m = (r + WN_FN(expm1_tail)(r)) * s + (s - 1.0f);
    return WN_FN(copysign)(WN_FN(div)(m, m + 2.0f), x);
}

/* rtg_sigmoidf, lane by lane: with e = e^-|x|, 1 / (1 + e) or e / (1 + e). */
RTG_INLINE VEC WN_FN(sigmoid)(VEC x)
{
    VEC s;
    const VEC r = WN_FN(exp_neg_reduce)(WN_FN(abs_clamp)(x, 87.0f), 1.0f, &s);
    const VEC e = (1.0f + r + WN_FN(expm1_tail)(r)) * s;
    const VEC one = (VEC){0} + 1.0f;
    return WN_FN(div)(WN_FN(select)(x < (VEC){0}, e, one), one + e);
}

/* rtg_fast_tanhf (NAM's rational approximation), lane by lane. */
RTG_INLINE VEC WN_FN(fast_tanh)(VEC x)
{
    const VEC ax = (VEC)((IVEC)x & 0x7fffffff);
    const VEC x2 = x * x;
    const VEC num = x * (2.45550750702956f + 2.45550750702956f * ax +
                         (0.893229853513558f + 0.821226666969744f * ax) * x2);
    const VEC d = x + 0.814642734961073f * x * ax;
    const VEC ad = (VEC)((IVEC)d & 0x7fffffff);
    return WN_FN(div)(num, 2.44506634652299f + (2.44506634652299f + x2) * ad);
}

/* Inputs per step of the j loops: the loops stay short enough for the
 * decoded-uop cache (fully unrolled tiles overflow it and run from the
 * legacy decoders at half speed). */
#define WN_JU(cp) ((cp) % 4 == 0 ? 4 : (cp) % 2 == 0 ? 2 : 1)

/* One tile of the dilated conv of layer L: the pre-activations of all
 * output groups for the NT vectors at frame t0, into A->a (G = 2: the
 * gate's half into A->g). tap[k] is the ring position of tap k's first
 * frame of the block. FIRST: the first layer, whose ring holds the raw
 * input (one row; see wn_layer). */
RTG_INLINE void WN_FN(conv_tile)(const int CP, const int OG, const int NT, const int G,
                                 const int FIRST, const wn_array *A, const wn_layer *L,
                                 const float *const *tap, const float *cond, const int t0)
{
    const int cp = CP ? CP : A->cp;
    const int cin = FIRST ? 1 : cp;
    const int JU = FIRST ? 1 : CP ? WN_JU(CP) : 4; /* generic cp is a multiple of 4 */
    const int K = A->k;
    const ptrdiff_t S = L->stride, ld = A->mbp;
    const float *w = L->conv_w;
    const float *bm = L->conv_bm;
    VEC cv[WN_MAX_NT];
#pragma GCC unroll 8
    for (int n = 0; n < NT; n++)
        WN_LOAD(cv[n], cond + t0 + n * WN_VW);
    for (int g = 0; g < cp; g += OG, bm += 2 * G * OG) {
        VEC acc[2][WN_MAX_OG][WN_MAX_NT];
        /* bias + mixin x condition */
#pragma GCC unroll 2
        for (int h = 0; h < G; h++)
#pragma GCC unroll 32
            for (int o = 0; o < OG; o++)
#pragma GCC unroll 8
                for (int n = 0; n < NT; n++)
                    acc[h][o][n] = bm[G * OG + h * OG + o] * cv[n] + bm[h * OG + o];
        for (int k = 0; k < K; k++) {
            /* One pointer stepped by the row stride: offsets j*S for every
             * j would each take a register (and spill). */
            const float *xj = tap[k] + t0;
            for (int j = 0; j < cin; j += JU) {
#pragma GCC unroll 4
                for (int u = 0; u < JU; u++, w += G * OG, xj += S) {
                    VEC xv[WN_MAX_NT];
#pragma GCC unroll 8
                    for (int n = 0; n < NT; n++)
                        WN_LOAD(xv[n], xj + n * WN_VW);
#pragma GCC unroll 2
                    for (int h = 0; h < G; h++)
#pragma GCC unroll 32
                        for (int o = 0; o < OG; o++) {
                            const float wv = w[h * OG + o];
#pragma GCC unroll 8
                            for (int n = 0; n < NT; n++)
                                acc[h][o][n] += wv * xv[n];
                        }
                }
            }
        }
#pragma GCC unroll 2
        for (int h = 0; h < G; h++) {
            float *row = (h ? A->g : A->a) + g * ld + t0;
#pragma GCC unroll 32
            for (int o = 0; o < OG; o++)
#pragma GCC unroll 8
                for (int n = 0; n < NT; n++)
                    WN_STORE(row + o * ld + n * WN_VW, acc[h][o][n]);
        }
    }
}

/* The activation pass over a block: a = act(z) (G = 2: times sigmoid(g))
 * in place in A->a, and head += a (FIRST: head = a, the first layer of
 * the first array), for rows [0, cp) and nvec vectors. One short loop per
 * activation, the switch outside. */
#define WN_ACT_CASE(ACT, EXPR)                                                                     \
    case ACT:                                                                                      \
        for (int c = 0; c < cp; c++)                                                               \
            for (int i = 0; i < n; i += WN_VW) {                                                   \
                float *ap = A->a + c * ld + i, *hp = A->head + c * ld + i;                         \
                VEC z, h;                                                                          \
                WN_LOAD(z, ap);                                                                    \
                VEC a = (EXPR);                                                                    \
                if (G == 2) {                                                                      \
                    VEC gz;                                                                        \
                    WN_LOAD(gz, A->g + c * ld + i);                                                \
                    a *= WN_FN(sigmoid)(gz);                                                       \
                }                                                                                  \
                if (FIRST) {                                                                       \
                    h = a;                                                                         \
                } else {                                                                           \
                    WN_LOAD(h, hp);                                                                \
                    h += a;                                                                        \
                }                                                                                  \
                WN_STORE(ap, a);                                                                   \
                WN_STORE(hp, h);                                                                   \
            }                                                                                      \
        break;

RTG_INLINE void WN_FN(act_pass)(const int CP, const int G, const int FIRST, const wn_array *A,
                                int nvec)
{
    const int cp = CP ? CP : A->cp, n = nvec * WN_VW;
    const ptrdiff_t ld = A->mbp;
    const float alpha = A->alpha;
    switch (A->act) {
        WN_ACT_CASE(RTG_ACT_TANH, WN_FN(tanh)(z))
        WN_ACT_CASE(RTG_ACT_RELU, WN_FN(select)(z > (VEC){0}, z, (VEC){0}))
        WN_ACT_CASE(RTG_ACT_LEAKY_RELU, WN_FN(select)(z > (VEC){0}, z, z * alpha))
        WN_ACT_CASE(RTG_ACT_HARDTANH,
                    WN_FN(select)(z < (VEC){0} - 1.0f, (VEC){0} - 1.0f,
                                  WN_FN(select)(z > (VEC){0} + 1.0f, (VEC){0} + 1.0f, z)))
        WN_ACT_CASE(RTG_ACT_SIGMOID, WN_FN(sigmoid)(z))
        WN_ACT_CASE(RTG_ACT_FAST_TANH, WN_FN(fast_tanh)(z))
        WN_ACT_CASE(RTG_ACT_NONE, z)
    default: break;
    }
}

/* One tile of the 1x1 and residual add of layer L: x + res_b + res_w a
 * into dst (row stride dstride) for the NT vectors at frame t0. FIRST: x
 * is the rechannel of the raw input, L->xr[c] x cond. */
RTG_INLINE void WN_FN(res_tile)(const int CP, const int OG, const int NT, const int FIRST,
                                const wn_array *A, const wn_layer *L, const float *xcur,
                                const float *cond, float *dst, ptrdiff_t dstride, const int t0)
{
    const int cp = CP ? CP : A->cp;
    const int JU = CP ? WN_JU(CP) : 4;
    const ptrdiff_t S = L->stride, ld = A->mbp;
    const float *w = L->res_w;
    for (int g = 0; g < cp; g += OG) {
        VEC acc[WN_MAX_OG][WN_MAX_NT];
#pragma GCC unroll 32
        for (int o = 0; o < OG; o++)
#pragma GCC unroll 8
            for (int n = 0; n < NT; n++) {
                if (FIRST) {
                    VEC cv;
                    WN_LOAD(cv, cond + t0 + n * WN_VW);
                    acc[o][n] = L->xr[g + o] * cv + L->res_b[g + o];
                } else {
                    WN_LOAD(acc[o][n], xcur + (g + o) * S + t0 + n * WN_VW);
                    acc[o][n] += L->res_b[g + o];
                }
            }
        const float *aj = A->a + t0;
        for (int j = 0; j < cp; j += JU) {
#pragma GCC unroll 4
            for (int u = 0; u < JU; u++, w += OG, aj += ld) {
                VEC av[WN_MAX_NT];
#pragma GCC unroll 8
                for (int n = 0; n < NT; n++)
                    WN_LOAD(av[n], aj + n * WN_VW);
#pragma GCC unroll 32
                for (int o = 0; o < OG; o++) {
                    const float wv = w[o];
#pragma GCC unroll 8
                    for (int n = 0; n < NT; n++)
                        acc[o][n] += wv * av[n];
                }
            }
        }
#pragma GCC unroll 32
        for (int o = 0; o < OG; o++)
#pragma GCC unroll 8
            for (int n = 0; n < NT; n++)
                WN_STORE(dst + (g + o) * dstride + t0 + n * WN_VW, acc[o][n]);
    }
}

/* One layer over nvec vectors of frames: the conv in tiles of NT vectors
 * (then 2, then single vectors), the activation pass, then the 1x1 in
 * tiles; residual = 0 skips the 1x1 (the very last layer feeds nothing). */
RTG_INLINE void WN_FN(layer_body)(const int CP, const int OG, const int NT, const int G,
                                  const int FIRST, const wn_array *A, const wn_layer *L,
                                  const float *cond, float *dst, ptrdiff_t dstride, int nvec,
                                  int residual)
{
    const int K = A->k;
    const float *tap[RTG_WAVENET_MAX_KERNEL];
    for (int k = 0; k < K; k++) {
        int s = L->pos - (K - 1 - k) * L->dilation;
        tap[k] = L->ring + (s < 0 ? s + L->P : s);
    }
    int v = 0;
    for (; v + NT <= nvec; v += NT)
        WN_FN(conv_tile)(CP, OG, NT, G, FIRST, A, L, tap, cond, v * WN_VW);
    if (NT > 2 && v + 2 <= nvec) {
        WN_FN(conv_tile)(CP, OG, 2, G, FIRST, A, L, tap, cond, v * WN_VW);
        v += 2;
    }
    for (; v < nvec; v++)
        WN_FN(conv_tile)(CP, OG, 1, G, FIRST, A, L, tap, cond, v * WN_VW);
    WN_FN(act_pass)(CP, G, FIRST, A, nvec);
    if (!residual)
        return;
    const float *xcur = tap[K - 1];
    for (v = 0; v + NT <= nvec; v += NT)
        WN_FN(res_tile)(CP, OG, NT, FIRST, A, L, xcur, cond, dst, dstride, v * WN_VW);
    if (NT > 2 && v + 2 <= nvec) {
        WN_FN(res_tile)(CP, OG, 2, FIRST, A, L, xcur, cond, dst, dstride, v * WN_VW);
        v += 2;
    }
    for (; v < nvec; v++)
        WN_FN(res_tile)(CP, OG, 1, FIRST, A, L, xcur, cond, dst, dstride, v * WN_VW);
}

/* y[o] = b[o] + sum_j w[o][j] x[j] for cout4 outputs (a multiple of 4, in
 * groups of 4 packed [g][j][4]) over nvec vectors of frames; b may be NULL. */
RTG_INLINE void WN_FN(pw_tile)(const int NT, const float *w, const float *b, const float *x,
                               ptrdiff_t xld, int cin, float *y, ptrdiff_t yld, int cout4,
                               const int t0)
{
    for (int g = 0; g < cout4; g += 4) {
        const float *wg = w + (ptrdiff_t)g * cin;
        VEC acc[4][WN_MAX_NT];
#pragma GCC unroll 4
        for (int o = 0; o < 4; o++)
#pragma GCC unroll 8
            for (int n = 0; n < NT; n++)
                acc[o][n] = (VEC){0} + (b ? b[g + o] : 0.0f);
        for (int j = 0; j < cin; j++, wg += 4) {
            VEC xv[WN_MAX_NT];
#pragma GCC unroll 8
            for (int n = 0; n < NT; n++)
                WN_LOAD(xv[n], x + j * xld + t0 + n * WN_VW);
#pragma GCC unroll 4
            for (int o = 0; o < 4; o++)
#pragma GCC unroll 8
                for (int n = 0; n < NT; n++)
                    acc[o][n] += wg[o] * xv[n];
        }
#pragma GCC unroll 4
        for (int o = 0; o < 4; o++)
#pragma GCC unroll 8
            for (int n = 0; n < NT; n++)
                WN_STORE(y + (g + o) * yld + t0 + n * WN_VW, acc[o][n]);
    }
}

static void WN_FN(pointwise)(const float *w, const float *b, const float *x, ptrdiff_t xld,
                             int cin, float *y, ptrdiff_t yld, int cout4, int nvec)
{
    int v = 0;
    for (; v + WN_PW_NT <= nvec; v += WN_PW_NT)
        WN_FN(pw_tile)(WN_PW_NT, w, b, x, xld, cin, y, yld, cout4, v * WN_VW);
    for (; v < nvec; v++)
        WN_FN(pw_tile)(1, w, b, x, xld, cin, y, yld, cout4, v * WN_VW);
}

/* The layer instances: per specialised size and for the generic tiles,
 * one for the first layer of the first array and one for the others. */
#define WN_SIZED_FN(C, OG, NT)                                                                     \
    _Static_assert((OG) <= WN_MAX_OG && (NT) <= WN_MAX_NT && (C) % (OG) == 0, "tile");         \
    static void WN_FN(layer_##C)(const wn_array *A, const wn_layer *L, const float *cond,          \
                                 float *dst, ptrdiff_t dstride, int nvec, int residual)            \
    {                                                                                              \
        WN_FN(layer_body)(C, OG, NT, 1, 0, A, L, cond, dst, dstride, nvec, residual);              \
    }                                                                                              \
    static void WN_FN(first_##C)(const wn_array *A, const wn_layer *L, const float *cond,          \
                                 float *dst, ptrdiff_t dstride, int nvec, int residual)            \
    {                                                                                              \
        WN_FN(layer_body)(C, OG, NT, 1, 1, A, L, cond, dst, dstride, nvec, residual);              \
    }
WN_SIZES(WN_SIZED_FN)
#undef WN_SIZED_FN

#define WN_GENERIC_FN(name, G, NT, FIRST)                                                          \
    static void WN_FN(name)(const wn_array *A, const wn_layer *L, const float *cond, float *dst,   \
                            ptrdiff_t dstride, int nvec, int residual)                             \
    {                                                                                              \
        WN_FN(layer_body)(0, 4, NT, G, FIRST, A, L, cond, dst, dstride, nvec, residual);           \
    }
WN_GENERIC_FN(layer_g1, 1, WN_G1_NT, 0)
WN_GENERIC_FN(layer_g2, 2, WN_G2_NT, 0)
WN_GENERIC_FN(first_g1, 1, WN_G1_NT, 1)
WN_GENERIC_FN(first_g2, 2, WN_G2_NT, 1)
#undef WN_GENERIC_FN

static void WN_FN(tanh_n)(const float *x, float *y, int n)
{
    for (int i = 0; i < n; i += WN_VW) {
        float buf[WN_VW] = {0};
        const int m = n - i < WN_VW ? n - i : WN_VW;
        memcpy(buf, x + i, sizeof(float) * (size_t)m);
        VEC v;
        WN_LOAD(v, buf);
        v = WN_FN(tanh)(v);
        WN_STORE(buf, v);
        memcpy(y + i, buf, sizeof(float) * (size_t)m);
    }
}

#define WN_SIZED_ENTRY(C, OG, NT) {C, OG, {WN_FN(first_##C), WN_FN(layer_##C)}},
static const wn_isa_table WN_FN(table) = {
    .vw = WN_VW,
    .pointwise = WN_FN(pointwise),
    .generic = {{WN_FN(first_g1), WN_FN(layer_g1)}, {WN_FN(first_g2), WN_FN(layer_g2)}},
    .sized = {WN_SIZES(WN_SIZED_ENTRY)},
    .tanh = WN_FN(tanh_n),
};
#undef WN_SIZED_ENTRY

#undef WN_ACT_CASE
#undef WN_JU
#undef WN_LOAD
#undef WN_STORE
#undef VEC
#undef IVEC
#undef WN_FN
#undef WN_CAT
#undef WN_CAT_
