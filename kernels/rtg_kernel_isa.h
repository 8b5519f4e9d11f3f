/* rtg_kernel_isa.h — stamping one kernel body out per ISA and per
 * specialised channel count, and picking the instance at init (private to
 * kernels/).
 *
 * A kernel is written once as an always-inline body
 *
 *     RTG_INLINE void body(const rtg_layer *L, const float *in, float *out,
 *                          int frames, const int vw, const int n);
 *
 * where `vw` is the ISA's vector width (RTG_VW_*) and `n` is the layer's
 * specialised channel count (the body decides which: output channels for
 * Dense/Conv1D, channels for pointwise layers), or 0 for "any size, read it
 * from L at run time". RTG_SIZED_KERNELS(name, body) then defines, for each
 * ISA the build can target, one function per size in RTG_SPECIALISED_SIZES
 * plus the any-size one, and
 *
 *     static rtg_layer_fn name_pick(int n, int specialise);
 *
 * which returns the best instance for this CPU (rtg_cpu_isa(), so $RTG_ISA
 * caps it) and n (the any-size one when n is not specialised or
 * `specialise` is 0). RTG_ISA_KERNELS(name, body) is the same without the
 * sizes (the body gets n = 0): name_pick(void).
 *
 * Thread: the picks run at init (non-real-time); the instances are
 * real-time safe if the body is.
 */
#ifndef RTG_KERNEL_ISA_H
#define RTG_KERNEL_ISA_H

#include "rtg_cpu.h"
#include "rtg_gemm.h"
#include "rtg_layer.h"

/* The channel counts that get compile-time-sized kernels. A build with
 * RTG_GENERIC_KERNELS (the fuzzers': clang with sanitizers takes the better
 * part of an hour over every stamped-out size) keeps only the any-size
 * instances; results are the same, only slower. */
#ifdef RTG_GENERIC_KERNELS
#define RTG_SPECIALISED_SIZES(X, ...)
#define RTG_SIZE_SLOTS 1
static inline int rtg_size_slot(int n)
{
    (void)n;
    return 0;
}
#else
#define RTG_SPECIALISED_SIZES(X, ...)                                                              \
    X(4, __VA_ARGS__) X(8, __VA_ARGS__) X(12, __VA_ARGS__) X(16, __VA_ARGS__)                      \
    X(20, __VA_ARGS__) X(24, __VA_ARGS__) X(32, __VA_ARGS__) X(40, __VA_ARGS__)                    \
    X(48, __VA_ARGS__) X(64, __VA_ARGS__)

/* Slot of n in a per-ISA table: 0 = any size, then the list above in order. */
static inline int rtg_size_slot(int n)
{
#define RTG_SIZE_VALUE(size, unused) size,
    static const int sizes[] = {RTG_SPECIALISED_SIZES(RTG_SIZE_VALUE, 0)};
#undef RTG_SIZE_VALUE
    for (int i = 0; i < (int)(sizeof sizes / sizeof sizes[0]); i++)
        if (sizes[i] == n)
            return i + 1;
    return 0;
}
#define RTG_SIZE_SLOTS 11
#endif

#define RTG_SIZED_FN(size, name, isa, attr, vw, body)                                              \
    attr static void name##_##isa##_##size(const rtg_layer *L, const float *in, float *out,        \
                                           int frames)                                             \
    {                                                                                              \
        body(L, in, out, frames, vw, size);                                                        \
    }
#define RTG_SIZED_ENTRY(size, name, isa, attr, vw, body) name##_##isa##_##size,

#define RTG_SIZED_TABLE(name, isa, attr, vw, body)                                                 \
    RTG_SPECIALISED_SIZES(RTG_SIZED_FN, name, isa, attr, vw, body)                                 \
    RTG_SIZED_FN(0, name, isa, attr, vw, body)                                                     \
    static const rtg_layer_fn name##_##isa[RTG_SIZE_SLOTS] = {                                     \
        name##_##isa##_0, RTG_SPECIALISED_SIZES(RTG_SIZED_ENTRY, name, isa, attr, vw, body)};

#if RTG_X86
#define RTG_SIZED_KERNELS(name, body)                                                              \
    RTG_SIZED_TABLE(name, portable, , RTG_VW_PORTABLE, body)                                       \
    RTG_SIZED_TABLE(name, avx2, RTG_TARGET_AVX2, RTG_VW_AVX2, body)                                \
    RTG_SIZED_TABLE(name, avx512, RTG_TARGET_AVX512, RTG_VW_AVX512, body)                          \
    static rtg_layer_fn name##_pick(int n, int specialise)                                         \
    {                                                                                              \
        const int slot = specialise ? rtg_size_slot(n) : 0;                                        \
        switch (rtg_cpu_isa()) {                                                                   \
        case RTG_ISA_AVX512: return name##_avx512[slot];                                           \
        case RTG_ISA_AVX2: return name##_avx2[slot];                                               \
        default: return name##_portable[slot];                                                     \
        }                                                                                          \
    }
#define RTG_ISA_KERNELS(name, body)                                                                \
    RTG_SIZED_FN(0, name, portable, , RTG_VW_PORTABLE, body)                                       \
    RTG_SIZED_FN(0, name, avx2, RTG_TARGET_AVX2, RTG_VW_AVX2, body)                                \
    RTG_SIZED_FN(0, name, avx512, RTG_TARGET_AVX512, RTG_VW_AVX512, body)                          \
    static rtg_layer_fn name##_pick(void)                                                          \
    {                                                                                              \
        switch (rtg_cpu_isa()) {                                                                   \
        case RTG_ISA_AVX512: return name##_avx512_0;                                               \
        case RTG_ISA_AVX2: return name##_avx2_0;                                                   \
        default: return name##_portable_0;                                                         \
        }                                                                                          \
    }
#else
#define RTG_SIZED_KERNELS(name, body)                                                              \
    RTG_SIZED_TABLE(name, portable, , RTG_VW_PORTABLE, body)                                       \
    static rtg_layer_fn name##_pick(int n, int specialise)                                         \
    {                                                                                              \
        return name##_portable[specialise ? rtg_size_slot(n) : 0];                                 \
    }
#define RTG_ISA_KERNELS(name, body)                                                                \
    RTG_SIZED_FN(0, name, portable, , RTG_VW_PORTABLE, body)                                       \
    static rtg_layer_fn name##_pick(void) { return name##_portable_0; }
#endif

/* Integers kept in a float state slot (bit pattern; zeroed state reads 0). */
static inline int rtg_state_int(const float *slot)
{
    int v;
    memcpy(&v, slot, sizeof v);
    return v;
}
static inline void rtg_state_set_int(float *slot, int v)
{
    memcpy(slot, &v, sizeof v);
}

#endif
