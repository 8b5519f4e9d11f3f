/* rtg_rnn.h — what the LSTM and GRU kernels share (private to kernels/):
 * the packed weight layout and the recurrent mat-vec. Their run functions
 * are instantiated per ISA and per hidden size with rtg_kernel_isa.h.
 *
 * Layout. A layer with G gates and H hidden units computes R = G * HP gate
 * rows, HP = H rounded up to 4, gate-major: gate k of unit u is row
 * k * HP + u, so each gate of all units is one contiguous run that the gate
 * math reads with whole vectors. Padded units (u >= H) have zero weights and
 * zero bias; their state provably stays 0, so they never leak into real
 * units. (Interleaving the gates per group of units instead, so one
 * group's gate math overlaps the next group's mat-vec, measured no faster
 * on Zen 4 for small layers and up to 1.4x slower for GRU 32/64 and at
 * block 1: the groups' h double buffer and shorter chunks cost more.)
 * Packed weights are rows of ld = rtg_gemm_ld(R) floats (64-byte
 * aligned):
 *
 *     wx[in][ld]  input weights in rtg_gemm's packed form (the block
 *                 projection reads them)
 *     wh[H][ld]   recurrent weights, transposed: row j is what h[j]
 *                 multiplies, so one pass over wh yields every gate of
 *                 every unit
 *     b[ld]       bias of the projection
 *
 * followed by whatever the kernel adds (GRU: the recurrent n-gate bias).
 *
 * Processing a block, two ways, fixed per layer by its sizes (never by the
 * block size, so any block split stays bit-identical; every sum runs in one
 * fixed order):
 *
 *  - large layers: rtg_gemm() projects all frames of the block at once
 *    (xp[t] = b + Wx x[t], register-blocked over frames so Wx is read once
 *    per tile, not per frame), then the recurrence runs frame by frame on
 *    W_hh only;
 *  - small layers (rtg_rnn_fused()): rtg_gemm() projects frame t+1 alone
 *    (the same sums in the same order), issued between frame t's mat-vec
 *    and its gate math. It does not depend on h, so the core runs it while
 *    the gates' long dependency chain (exp, divide, exp, divide) would
 *    otherwise leave the FMA units idle.
 *
 * Thread: the inline functions are audio-thread code (real-time safe);
 * rtg_rnn_pack_gates() and rtg_rnn_check() are for init/measure.
 */
#ifndef RTG_RNN_H
#define RTG_RNN_H

#include <stddef.h>

#include "rtg_cpu.h"
#include "rtg_gemm.h"
#include "rtg_layer.h"

/* Hidden units rounded up to whole 4-lane groups. */
static inline int rtg_rnn_hp(int H)
{
    return (H + 3) / 4 * 4;
}

/* Packs gates × H rows of `cols` columns (PyTorch's w[gates*H][cols]) into
 * dst[c * ld + k * HP + u] = w[(k * H + u) * cols + c], zeroing the padding
 * of each of the `cols` rows of ld floats. Thread: non-real-time. */
void rtg_rnn_pack_gates(float *dst, const float *w, int gates, int H, int cols, int ld);

/* Packs a gates*H bias the same way into ld floats (b NULL = zeros).
 * Thread: non-real-time. */
void rtg_rnn_pack_bias(float *dst, const float *b, int gates, int H, int ld);

/* The validation LSTM and GRU share: sizes, the three weight tensors,
 * optional biases, optional initial state. `name` is "lstm" or "gru".
 * Thread: non-real-time. */
int rtg_rnn_check(const rtg_layer_desc *d, int gates, const char *name, rtg_error *err);

/* Floats of the shared part of the packed weights (wx, wh, b). */
static inline size_t rtg_rnn_weight_floats(int gates, int in, int H)
{
    return (size_t)(in + H + 1) * (size_t)rtg_gemm_ld(gates * rtg_rnn_hp(H));
}

/* True if the layer projects frame by frame, interleaved with the
 * recurrence (see the top of this file): small layers, whose gate rows fit
 * rtg_gemm's fully unrolled one-frame strip (four 16-lane vectors) and
 * whose weights stay in L1. Measured on Zen 4: up to 1.1x faster there,
 * slower beyond (the per-frame projection then loses to the block GEMM's
 * weight reuse). */
static inline int rtg_rnn_fused(int gates, int H)
{
    return gates * rtg_rnn_hp(H) <= 64;
}

/* One chunk of the recurrent mat-vec: g[r] = init[r] + sum_j wh[j][r] h[j]
 * for r < n, n a compile-time multiple of 4 up to four vectors of the ISA's
 * width `vw`, held as 16-, 8- and 4-lane pieces (GCC vector types, as in
 * rtg_gemm.h: the auto-vectoriser turns small fully unrolled chunks into
 * lane shuffles). Even and odd j go to two accumulators added at the end:
 * that halves the dependency chain the next frame waits on, in a fixed
 * order. */
RTG_INLINE void rtg_rnn_matvec_chunk(const int vw, const int n, float *restrict g,
                                     const float *restrict init, const float *restrict wh,
                                     ptrdiff_t ld, const float *restrict h, const int H)
{
    const int n16 = vw >= 16 ? n / 16 : 0;
    const int n8 = vw >= 8 ? (n - 16 * n16) / 8 : 0;
    const int n4 = (n - 16 * n16 - 8 * n8) / 4;
    const int c8 = 16 * n16, c4 = c8 + 8 * n8;
    rtg_v16 a16[2][4], w16;
    rtg_v8 a8[2][4], w8;
    rtg_v4 a4[2][4], w4;
#pragma GCC unroll 4
    for (int v = 0; v < n16; v++) {
        RTG_VLOAD(a16[0][v], init + 16 * v);
        a16[1][v] = (rtg_v16){0};
    }
#pragma GCC unroll 4
    for (int v = 0; v < n8; v++) {
        RTG_VLOAD(a8[0][v], init + c8 + 8 * v);
        a8[1][v] = (rtg_v8){0};
    }
#pragma GCC unroll 4
    for (int v = 0; v < n4; v++) {
        RTG_VLOAD(a4[0][v], init + c4 + 4 * v);
        a4[1][v] = (rtg_v4){0};
    }
    /* one j: accumulator s += row j times h[j]; s is a constant after
     * unrolling, so the accumulators stay in registers */
#define RTG_RNN_MAC(s, j)                                                                         \
    do {                                                                                          \
        const float hj = h[(j)];                                                                  \
        const float *wj = wh + (j) * ld;                                                          \
        _Pragma("GCC unroll 4") for (int v = 0; v < n16; v++)                                     \
        {                                                                                         \
            RTG_VLOAD(w16, wj + 16 * v);                                                          \
            a16[s][v] += w16 * hj;                                                                \
        }                                                                                         \
        _Pragma("GCC unroll 4") for (int v = 0; v < n8; v++)                                      \
        {                                                                                         \
            RTG_VLOAD(w8, wj + c8 + 8 * v);                                                       \
            a8[s][v] += w8 * hj;                                                                  \
        }                                                                                         \
        _Pragma("GCC unroll 4") for (int v = 0; v < n4; v++)                                      \
        {                                                                                         \
            RTG_VLOAD(w4, wj + c4 + 4 * v);                                                       \
            a4[s][v] += w4 * hj;                                                                  \
        }                                                                                         \
    } while (0)
    int j = 0;
    for (; j + 2 <= H; j += 2) {
        RTG_RNN_MAC(0, j);
        RTG_RNN_MAC(1, j + 1);
    }
    if (j < H)
        RTG_RNN_MAC(0, j);
#undef RTG_RNN_MAC
#pragma GCC unroll 4
    for (int v = 0; v < n16; v++) {
        w16 = a16[0][v] + a16[1][v];
        RTG_VSTORE(g + 16 * v, w16);
    }
#pragma GCC unroll 4
    for (int v = 0; v < n8; v++) {
        w8 = a8[0][v] + a8[1][v];
        RTG_VSTORE(g + c8 + 8 * v, w8);
    }
#pragma GCC unroll 4
    for (int v = 0; v < n4; v++) {
        w4 = a4[0][v] + a4[1][v];
        RTG_VSTORE(g + c4 + 4 * v, w4);
    }
}

/* g[r] = init[r] + sum_{j < H} wh[j * ld + r] h[j] for r < R (a multiple
 * of 4), in chunks of four vectors of the ISA's width `vw` so the
 * accumulators stay in registers. */
RTG_INLINE void rtg_rnn_matvec(const int vw, float *restrict g, const float *restrict init,
                               const float *restrict wh, ptrdiff_t ld, const float *restrict h,
                               const int H, const int R)
{
    const int CH = 4 * vw;
    int r0 = 0;
    for (; r0 + CH <= R; r0 += CH)
        rtg_rnn_matvec_chunk(vw, CH, g + r0, init + r0, wh + r0, ld, h, H);
    /* The rest is a multiple of 4 below CH: one constant-size chunk in a
     * specialised kernel, a short loop of 4-lane chunks in the generic one. */
    if (__builtin_constant_p(R)) {
        if (R - r0 > 0)
            rtg_rnn_matvec_chunk(vw, R - r0, g + r0, init + r0, wh + r0, ld, h, H);
    } else {
        for (; r0 < R; r0 += 4)
            rtg_rnn_matvec_chunk(vw, 4, g + r0, init + r0, wh + r0, ld, h, H);
    }
}

#endif
