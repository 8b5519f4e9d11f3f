/* rtg_gemm.c — weight packing and the generic (run-time size) path of the
 * block × matrix products (see rtg_gemm.h). */
#include "rtg_gemm.h"

void rtg_gemm_pack(float *dst, const float *w, int out, int in, int taps, ptrdiff_t s_out,
                   ptrdiff_t s_in, ptrdiff_t s_tap)
{
    const int ld = rtg_gemm_ld(out);
    for (int k = 0; k < taps; k++)
        for (int i = 0; i < in; i++) {
            float *row = dst + ((size_t)k * in + i) * ld;
            for (int o = 0; o < ld; o++)
                row[o] = o < out ? w[o * s_out + i * s_in + k * s_tap] : 0.0f;
        }
}

void rtg_gemm_pack_bias(float *dst, const float *b, int out)
{
    const int ld = rtg_gemm_ld(out);
    for (int o = 0; o < ld; o++)
        dst[o] = b && o < out ? b[o] : 0.0f;
}

/* A strip of nv vectors of the ISA's own width. */
RTG_INLINE void panel(const int vw, const int nv, int cols, float *restrict y, ptrdiff_t ldy,
                      const float *restrict x, ptrdiff_t ldx, ptrdiff_t tap_step, int taps, int in,
                      const float *restrict w, ptrdiff_t ldw, const float *restrict bias,
                      int frames)
{
    rtg_gemm_strip(vw, vw == 16 ? nv : 0, vw == 8 ? nv : 0, vw == 4 ? nv : 0, cols, y, ldy, x, ldx,
                   tap_step, taps, in, w, ldw, bias, frames);
}

/* One function per panel width, not inlined into the any-size entry: its
 * frame then holds one panel's tiles, not all four (under AddressSanitizer,
 * which keeps the tiles' accumulators in memory, all four inlined made a
 * frame of most of a megabyte, more than an audio thread's stack). */
#define GEMM_PANEL(isa, attr, vw, nv)                                                              \
    attr __attribute__((noinline)) static void panel_##isa##_##nv(                                 \
        int cols, float *restrict y, ptrdiff_t ldy, const float *restrict x, ptrdiff_t ldx,        \
        ptrdiff_t tap_step, int taps, int in, const float *restrict w, ptrdiff_t ldw,              \
        const float *restrict bias, int frames)                                                    \
    {                                                                                              \
        panel(vw, nv, cols, y, ldy, x, ldx, tap_step, taps, in, w, ldw, bias, frames);             \
    }

/* Panels of 4 vectors, then one of 1..4 vectors for the rest (its padding
 * lanes are computed on zero weights and not stored). */
#define GEMM_ANY(isa, attr, vw)                                                                    \
    GEMM_PANEL(isa, attr, vw, 1)                                                                   \
    GEMM_PANEL(isa, attr, vw, 2)                                                                   \
    GEMM_PANEL(isa, attr, vw, 3)                                                                   \
    GEMM_PANEL(isa, attr, vw, 4)                                                                   \
    attr void rtg_gemm_any_##isa(float *y, ptrdiff_t ldy, const float *x, ptrdiff_t ldx,           \
                                 ptrdiff_t tap_step, int taps, const float *w, const float *bias,  \
                                 int out, int in, int frames)                                      \
    {                                                                                              \
        static void (*const panels[5])(int, float *restrict, ptrdiff_t, const float *restrict,     \
                                       ptrdiff_t, ptrdiff_t, int, int, const float *restrict,      \
                                       ptrdiff_t, const float *restrict, int) = {                  \
            NULL, panel_##isa##_1, panel_##isa##_2, panel_##isa##_3, panel_##isa##_4};             \
        const ptrdiff_t ldw = rtg_gemm_ld(out);                                                    \
        for (int o = 0; o < out;) {                                                                \
            const int cols = out - o < 4 * (vw) ? out - o : 4 * (vw);                              \
            panels[(cols + (vw) - 1) / (vw)](cols, y + o, ldy, x, ldx, tap_step, taps, in, w + o,  \
                                             ldw, bias + o, frames);                               \
            o += cols;                                                                             \
        }                                                                                          \
    }

GEMM_ANY(portable, , RTG_VW_PORTABLE)
#if RTG_X86
GEMM_ANY(avx2, RTG_TARGET_AVX2, RTG_VW_AVX2)
GEMM_ANY(avx512, RTG_TARGET_AVX512, RTG_VW_AVX512)
#endif
