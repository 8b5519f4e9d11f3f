/* rtg_gemm.h — block × matrix products: the inner loop of Dense, Conv1D and
 * the LSTM/GRU input projections (private to kernels/).
 *
 * One call computes, for frames t < frames and outputs o < out,
 *
 *   y[t*ldy + o] = bias[o] + sum_{k < taps} sum_{i < in} W_k[o][i] * x[t*ldx + k*tap_step + i]
 *
 * Dense is taps = 1. A causal Conv1D is one tap per kernel position, each
 * reading an earlier row of a history+block buffer (tap_step = dilation
 * rows). x rows may overlap (they do for Conv1D); y must not alias x.
 *
 * Using it:
 *  - At init (non-real-time), lay the weights out with rtg_gemm_pack() into
 *    rtg_gemm_weight_floats() floats and the bias with rtg_gemm_pack_bias()
 *    into rtg_gemm_ld() floats (zeros when the layer has none). Both regions
 *    must be RTG_ALIGN-aligned.
 *  - On the audio thread, call rtg_gemm() from an always-inline kernel body
 *    that is instantiated once per ISA (RTG_TARGET_AVX512 / RTG_TARGET_AVX2
 *    functions under `#if RTG_X86`, plus a portable one), passing that ISA's
 *    RTG_VW_* as `vw`. rtg_gemm() is itself always-inline: pass compile-time
 *    constants for `out` (and `taps`, `in` where known) in a specialised
 *    instantiation and it unrolls into a register-blocked micro-kernel
 *    (several frames × the whole output row held in vector registers, one
 *    FMA per weight vector and frame); with a run-time `out` it calls the
 *    generic panel path, compiled once per ISA in rtg_gemm.c (64-lane
 *    panels at AVX-512). Real-time safe: no allocation, no library calls,
 *    bounded loops.
 *
 * Determinism: each output is summed in one fixed order (per tap, inputs
 * dealt round-robin into a few partial sums, the first starting from the
 * bias, added pairwise at the end; one fused multiply-add per term where the
 * ISA has FMA), whichever tile a frame lands in and whatever `frames` is.
 * So any split of a signal into blocks gives bit-identical output on one
 * ISA path.
 */
#ifndef RTG_GEMM_H
#define RTG_GEMM_H

#include <stddef.h>
#include <string.h>

#include "rtg_cpu.h"
#include "rtg_layer.h"

/* Vector width in floats that each ISA's instantiation passes as `vw`. */
#define RTG_VW_PORTABLE 4
#define RTG_VW_AVX2 8
#define RTG_VW_AVX512 16

/* Row stride (floats) of packed weights and length of a packed bias: `out`
 * rounded up to 16, so every row starts on a 64-byte boundary and any
 * vector width reads whole rows. */
static inline int rtg_gemm_ld(int out)
{
    return (out + 15) / 16 * 16;
}

/* Floats of packed weights for taps × in rows of `out` outputs. */
static inline size_t rtg_gemm_weight_floats(int out, int in, int taps)
{
    return (size_t)taps * (size_t)in * (size_t)rtg_gemm_ld(out);
}

/* Packs W_k[o][i] = w[o*s_out + i*s_in + k*s_tap] (strides in floats) into
 * dst[(k*in + i) * rtg_gemm_ld(out) + o], zero-padding each row.
 * Dense from PyTorch's w[out][in]: s_out = in, s_in = 1, s_tap = 0.
 * Thread: non-real-time. */
void rtg_gemm_pack(float *dst, const float *w, int out, int in, int taps, ptrdiff_t s_out,
                   ptrdiff_t s_in, ptrdiff_t s_tap);

/* dst[o] = b[o] (0 when b is NULL) for o < out, zero up to rtg_gemm_ld(out).
 * Thread: non-real-time. */
void rtg_gemm_pack_bias(float *dst, const float *b, int out);

/* ---- implementation (inline so each ISA instantiation gets its own copy) */

typedef float rtg_v4 __attribute__((vector_size(16), aligned(4)));
typedef float rtg_v8 __attribute__((vector_size(32), aligned(4)));
typedef float rtg_v16 __attribute__((vector_size(64), aligned(4)));

/* Unaligned vector load/store; macros, not functions, so no vector ever
 * crosses a function boundary (its ABI differs between ISAs). The vector
 * types are only 4-byte aligned, so a plain access is an unaligned move.
 * Not memcpy: under generic tuning GCC copies 32 bytes as two 16-byte
 * halves through the stack and the reload stalls on store forwarding
 * (the AVX2 path ran 4x slower). */
#define RTG_VLOAD(v, p) ((v) = *(const __typeof__(v) *)(const void *)(p))
#define RTG_VSTORE(p, v) (*(__typeof__(v) *)(void *)(p) = (v))

/* Most frames one tile holds, and most vectors of 16/8/4 lanes per row. */
#define RTG_GEMM_MAX_MR 16
#define RTG_GEMM_MAX_PIECES 4

/* Frames per tile for `acc` accumulators per frame: as many as fit the
 * register file (AVX-512 has 32 vector registers, the others 16) next to
 * the weight vectors and a broadcast. */
RTG_INLINE int rtg_gemm_tile_frames(int vw, int acc)
{
    const int budget = vw == RTG_VW_AVX512 ? 24 : 12;
    const int mr = budget / acc;
    return mr > RTG_GEMM_MAX_MR ? RTG_GEMM_MAX_MR : mr;
}

/* Stores lanes [0, n) of a piece; n is the count still inside the row. The
 * partial case (generic sizes only) is unrolled lane by lane so it can
 * never touch memory past the row. */
#define RTG_GEMM_STORE_PIECE(dst, v, width, n)                                                     \
    do {                                                                                           \
        if ((n) >= (width)) {                                                                      \
            RTG_VSTORE((dst), (v));                                                                \
        } else {                                                                                   \
            _Pragma("GCC unroll 16") for (int j_ = 0; j_ < (width); j_++) if (j_ < (n))            \
                (dst)[j_] = (v)[j_];                                                               \
        }                                                                                          \
    } while (0)

/* How many partial sums each output keeps (inputs i = s mod S go to sum s;
 * the sums are added pairwise at the end): enough independent FMA chains to
 * hide FMA latency even in a 1-frame tile, which is what a one-call-per-
 * frame host runs, for strips of full-width vectors. Narrow strips (under
 * 16 outputs) have short chains and are dominated by call overhead at one
 * frame, so they keep one sum. Every tile of a strip uses the same S, so
 * the order of additions never depends on where a frame falls. */
RTG_INLINE int rtg_gemm_splits(int n16, int pieces)
{
    if (n16 == 0)
        return 1;
    return pieces == 1 ? 4 : pieces == 2 ? 2 : 1;
}

/* One tile: MR frames × a column strip of n16 16-lane, then n8 8-lane, then
 * n4 4-lane vectors (starting at column 0 of w, bias and y), of which the
 * first `cols` columns are stored; S partial sums per output. All counts
 * are compile-time constants in every instantiation, so the accumulators
 * live in registers. With `resume` the sums start from what y holds (a
 * previous call over earlier taps stored them; S must be 1 and the strip
 * whole vectors) instead of from the bias. */
RTG_INLINE void rtg_gemm_tile(const int MR, const int S, const int n16, const int n8,
                              const int n4, const int cols, float *restrict y, ptrdiff_t ldy,
                              const float *restrict x, ptrdiff_t ldx, ptrdiff_t tap_step,
                              const int taps, const int in, const float *restrict w, ptrdiff_t ldw,
                              const float *restrict bias, const int resume)
{
    rtg_v16 a16[RTG_GEMM_MAX_MR][4][RTG_GEMM_MAX_PIECES];
    rtg_v8 a8[RTG_GEMM_MAX_MR][4][RTG_GEMM_MAX_PIECES];
    rtg_v4 a4[RTG_GEMM_MAX_MR][4][RTG_GEMM_MAX_PIECES];
    const int c8 = 16 * n16, c4 = c8 + 8 * n8;

#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
        const float *init = resume ? y + r * ldy : bias;
#pragma GCC unroll 4
        for (int v = 0; v < n16; v++)
            RTG_VLOAD(a16[r][0][v], init + 16 * v);
#pragma GCC unroll 4
        for (int v = 0; v < n8; v++)
            RTG_VLOAD(a8[r][0][v], init + c8 + 8 * v);
#pragma GCC unroll 4
        for (int v = 0; v < n4; v++)
            RTG_VLOAD(a4[r][0][v], init + c4 + 4 * v);
#pragma GCC unroll 4
        for (int s = 1; s < S; s++) {
#pragma GCC unroll 4
            for (int v = 0; v < n16; v++)
                a16[r][s][v] = (rtg_v16){0};
#pragma GCC unroll 4
            for (int v = 0; v < n8; v++)
                a8[r][s][v] = (rtg_v8){0};
#pragma GCC unroll 4
            for (int v = 0; v < n4; v++)
                a4[r][s][v] = (rtg_v4){0};
        }
    }
    /* Input i of tap k into partial sum s: one weight row, MR broadcasts. */
#define RTG_GEMM_STEP(i, s)                                                                        \
    do {                                                                                           \
        const float *wi = wk + (ptrdiff_t)(i) * ldw;                                               \
        rtg_v16 w16[RTG_GEMM_MAX_PIECES];                                                          \
        rtg_v8 w8[RTG_GEMM_MAX_PIECES];                                                            \
        rtg_v4 w4[RTG_GEMM_MAX_PIECES];                                                            \
        _Pragma("GCC unroll 4") for (int v = 0; v < n16; v++) RTG_VLOAD(w16[v], wi + 16 * v);      \
        _Pragma("GCC unroll 4") for (int v = 0; v < n8; v++) RTG_VLOAD(w8[v], wi + c8 + 8 * v);    \
        _Pragma("GCC unroll 4") for (int v = 0; v < n4; v++) RTG_VLOAD(w4[v], wi + c4 + 4 * v);    \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                      \
        {                                                                                          \
            const float xv = xk[r * ldx + (i)];                                                    \
            _Pragma("GCC unroll 4") for (int v = 0; v < n16; v++) a16[r][s][v] += xv * w16[v];     \
            _Pragma("GCC unroll 4") for (int v = 0; v < n8; v++) a8[r][s][v] += xv * w8[v];        \
            _Pragma("GCC unroll 4") for (int v = 0; v < n4; v++) a4[r][s][v] += xv * w4[v];        \
        }                                                                                          \
    } while (0)
    for (int k = 0; k < taps; k++) {
        const float *xk = x + k * tap_step;
        const float *wk = w + (ptrdiff_t)k * in * ldw;
        int i = 0;
        for (; i + S <= in; i += S)
#pragma GCC unroll 4
            for (int s = 0; s < S; s++)
                RTG_GEMM_STEP(i + s, s);
#pragma GCC unroll 4
        for (int s = 0; s < S - 1; s++)
            if (i + s < in)
                RTG_GEMM_STEP(i + s, s);
    }
#undef RTG_GEMM_STEP
    /* Partial sums added pairwise: (0+1)+(2+3). */
#define RTG_GEMM_ADD_SUM(dst, src)                                                                 \
    _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                          \
    {                                                                                              \
        _Pragma("GCC unroll 4") for (int v = 0; v < n16; v++) a16[r][dst][v] += a16[r][src][v];    \
        _Pragma("GCC unroll 4") for (int v = 0; v < n8; v++) a8[r][dst][v] += a8[r][src][v];       \
        _Pragma("GCC unroll 4") for (int v = 0; v < n4; v++) a4[r][dst][v] += a4[r][src][v];       \
    }
    if (S >= 2) {
        RTG_GEMM_ADD_SUM(0, 1)
    }
    if (S == 4) {
        RTG_GEMM_ADD_SUM(2, 3)
        RTG_GEMM_ADD_SUM(0, 2)
    }
#undef RTG_GEMM_ADD_SUM
    /* Only the strip's last piece can reach past `cols` (generic sizes). */
    const int last = n16 + n8 + n4 - 1;
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
        float *yr = y + r * ldy;
#pragma GCC unroll 4
        for (int v = 0; v < n16; v++)
            RTG_GEMM_STORE_PIECE(yr + 16 * v, a16[r][0][v], 16, v == last ? cols - 16 * v : 16);
#pragma GCC unroll 4
        for (int v = 0; v < n8; v++)
            RTG_GEMM_STORE_PIECE(yr + c8 + 8 * v, a8[r][0][v], 8,
                                 n16 + v == last ? cols - c8 - 8 * v : 8);
#pragma GCC unroll 4
        for (int v = 0; v < n4; v++)
            RTG_GEMM_STORE_PIECE(yr + c4 + 4 * v, a4[r][0][v], 4,
                                 n16 + n8 + v == last ? cols - c4 - 4 * v : 4);
    }
}

/* Bytes of weights a pass over all frames of a block keeps in use: a
 * third of a 48 KiB L1 data cache, the rest left to the input rows the
 * pass reads (Conv1D 64 at block 128: 32 KiB of them per tap). */
#define RTG_GEMM_L1_WEIGHT_BYTES (16 * 1024)

/* All frames of one column strip: tiles of MR frames, then 8/4/2/1. */
RTG_INLINE void rtg_gemm_strip_taps(const int vw, const int n16, const int n8, const int n4,
                                    const int cols, float *restrict y, ptrdiff_t ldy,
                                    const float *restrict x, ptrdiff_t ldx, ptrdiff_t tap_step,
                                    const int taps, const int in, const float *restrict w,
                                    ptrdiff_t ldw, const float *restrict bias, const int frames,
                                    const int resume)
{
    const int S = rtg_gemm_splits(n16, n16 + n8 + n4);
    const int MR = rtg_gemm_tile_frames(vw, (n16 + n8 + n4) * S);
    int t = 0;
#define RTG_GEMM_TILE_AT(mr)                                                                       \
    rtg_gemm_tile((mr), S, n16, n8, n4, cols, y + t * ldy, ldy, x + t * ldx, ldx, tap_step, taps,  \
                  in, w, ldw, bias, resume)
    if (frames == 1) { /* one call per frame: straight to the 1-frame tile */
        RTG_GEMM_TILE_AT(1);
        return;
    }
    for (; t + MR <= frames; t += MR)
        RTG_GEMM_TILE_AT(MR);
    if (MR > 8)
        for (; t + 8 <= frames; t += 8)
            RTG_GEMM_TILE_AT(8);
    if (MR > 4 && t + 4 <= frames) {
        RTG_GEMM_TILE_AT(4);
        t += 4;
    }
    if (MR > 2 && t + 2 <= frames) {
        RTG_GEMM_TILE_AT(2);
        t += 2;
    }
    if (MR > 1 && t < frames)
        RTG_GEMM_TILE_AT(1);
#undef RTG_GEMM_TILE_AT
}

/* rtg_gemm_strip_taps over all taps. Every tile of a block reads all of a
 * strip's weights; when they are more than the L1 cache holds (Conv1D 64
 * with kernel 63: 1 MiB), each tile would stream them from L2 or further
 * again. So the taps are taken in groups that fit, each group a pass over
 * all frames that resumes the sums the last one stored in y. With one
 * partial sum per output that adds the same terms in the same order, so
 * the result is bit-identical to one pass (and to one frame per call). */
RTG_INLINE void rtg_gemm_strip(const int vw, const int n16, const int n8, const int n4,
                               const int cols, float *restrict y, ptrdiff_t ldy,
                               const float *restrict x, ptrdiff_t ldx, ptrdiff_t tap_step,
                               const int taps, const int in, const float *restrict w,
                               ptrdiff_t ldw, const float *restrict bias, const int frames)
{
    const size_t tap_bytes = (size_t)in * (size_t)ldw * sizeof(float);
    int group = taps; /* taps per pass; one call site, so one inlined copy */
    if (frames > 1 && rtg_gemm_splits(n16, n16 + n8 + n4) == 1 &&
        cols == 16 * n16 + 8 * n8 + 4 * n4 && (size_t)taps * tap_bytes > RTG_GEMM_L1_WEIGHT_BYTES)
        group = tap_bytes >= RTG_GEMM_L1_WEIGHT_BYTES ? 1
                                                      : (int)(RTG_GEMM_L1_WEIGHT_BYTES / tap_bytes);
    for (int k = 0; k < taps; k += group)
        rtg_gemm_strip_taps(vw, n16, n8, n4, cols, y, ldy, x + k * tap_step, ldx, tap_step,
                            taps - k < group ? taps - k : group, in, w + (ptrdiff_t)k * in * ldw,
                            ldw, bias, frames, k > 0);
}

/* The generic path, compiled once per ISA in rtg_gemm.c: panels of 4
 * vectors of the ISA's width, the last one padded (its padding lanes are
 * computed on zero weights and not stored). Same arguments as rtg_gemm(). */
void rtg_gemm_any_portable(float *y, ptrdiff_t ldy, const float *x, ptrdiff_t ldx,
                           ptrdiff_t tap_step, int taps, const float *w, const float *bias, int out,
                           int in, int frames);
#if RTG_X86
void rtg_gemm_any_avx2(float *y, ptrdiff_t ldy, const float *x, ptrdiff_t ldx, ptrdiff_t tap_step,
                       int taps, const float *w, const float *bias, int out, int in, int frames);
void rtg_gemm_any_avx512(float *y, ptrdiff_t ldy, const float *x, ptrdiff_t ldx,
                         ptrdiff_t tap_step, int taps, const float *w, const float *bias, int out,
                         int in, int frames);
#endif

/* The product described at the top of this file. `vw` must be a
 * compile-time RTG_VW_* constant; w and bias are packed for this `out`,
 * `in` and `taps`. */
RTG_INLINE void rtg_gemm(const int vw, float *restrict y, ptrdiff_t ldy, const float *restrict x,
                         ptrdiff_t ldx, ptrdiff_t tap_step, const int taps, const float *restrict w,
                         const float *restrict bias, const int out, const int in, const int frames)
{
    /* A compile-time size that splits into at most RTG_GEMM_MAX_PIECES
     * vectors of 16/8/4 lanes gets one exact, fully unrolled strip. */
    const int n16 = vw >= 16 ? out / 16 : 0;
    const int n8 = vw >= 8 ? (out - 16 * n16) / 8 : 0;
    const int n4 = (out - 16 * n16 - 8 * n8) / 4;
    if (__builtin_constant_p(out) && out % 4 == 0 && n16 + n8 + n4 <= RTG_GEMM_MAX_PIECES)
        rtg_gemm_strip(vw, n16, n8, n4, out, y, ldy, x, ldx, tap_step, taps, in, w,
                       rtg_gemm_ld(out), bias, frames);
#if RTG_X86
    else if (vw == RTG_VW_AVX512)
        rtg_gemm_any_avx512(y, ldy, x, ldx, tap_step, taps, w, bias, out, in, frames);
    else if (vw == RTG_VW_AVX2)
        rtg_gemm_any_avx2(y, ldy, x, ldx, tap_step, taps, w, bias, out, in, frames);
#endif
    else
        rtg_gemm_any_portable(y, ldy, x, ldx, tap_step, taps, w, bias, out, in, frames);
}

#endif
