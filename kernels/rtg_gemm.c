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

RTG_INLINE void gemm_any(const int vw, float *restrict y, ptrdiff_t ldy, const float *restrict x,
                         ptrdiff_t ldx, ptrdiff_t tap_step, int taps, const float *restrict w,
                         const float *restrict bias, int out, int in, int frames)
{
    const ptrdiff_t ldw = rtg_gemm_ld(out);
    const int pw = 4 * vw;
    int o = 0;
    for (; o + pw <= out; o += pw)
        panel(vw, 4, pw, y + o, ldy, x, ldx, tap_step, taps, in, w + o, ldw, bias + o, frames);
    const int rest = out - o;
#define PANEL_CASE(nv)                                                                             \
    case nv:                                                                                       \
        panel(vw, nv, rest, y + o, ldy, x, ldx, tap_step, taps, in, w + o, ldw, bias + o, frames); \
        break;
    switch ((rest + vw - 1) / vw) {
        PANEL_CASE(1)
        PANEL_CASE(2)
        PANEL_CASE(3)
        PANEL_CASE(4)
    default:
        break;
    }
#undef PANEL_CASE
}

#define GEMM_ANY(isa, attr, vw)                                                                    \
    attr void rtg_gemm_any_##isa(float *y, ptrdiff_t ldy, const float *x, ptrdiff_t ldx,           \
                                 ptrdiff_t tap_step, int taps, const float *w, const float *bias,  \
                                 int out, int in, int frames)                                      \
    {                                                                                              \
        gemm_any(vw, y, ldy, x, ldx, tap_step, taps, w, bias, out, in, frames);                    \
    }

GEMM_ANY(portable, , RTG_VW_PORTABLE)
#if RTG_X86
GEMM_ANY(avx2, RTG_TARGET_AVX2, RTG_VW_AVX2)
GEMM_ANY(avx512, RTG_TARGET_AVX512, RTG_VW_AVX512)
#endif
