/* rtg_cpu.h — which instruction set the kernels run with.
 *
 * Kernels are written once as portable C that the compiler vectorises, and
 * instantiated per ISA with the RTG_TARGET_* attributes below; a layer picks
 * its function for rtg_cpu_isa() when it is built (never per call). The
 * environment variable RTG_ISA=portable|avx2|avx512 caps the choice, so
 * tests can check every path against the portable one on one machine.
 *
 * Thread: any. rtg_cpu_isa() is cheap after its first call but reads the
 * environment on that first call: call it from a non-real-time thread first
 * (layer init does).
 */
#ifndef RTG_CPU_H
#define RTG_CPU_H

typedef enum rtg_isa {
    RTG_ISA_PORTABLE = 0, /* whatever the compiler's baseline target gives */
    RTG_ISA_AVX2 = 1,     /* AVX2 + FMA */
    RTG_ISA_AVX512 = 2,   /* AVX-512 F/VL/DQ/BW + FMA */
} rtg_isa;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RTG_X86 1
#define RTG_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define RTG_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
#else
#define RTG_X86 0
#endif

#define RTG_INLINE static inline __attribute__((always_inline))

/* The best ISA this CPU supports, capped by $RTG_ISA. */
rtg_isa rtg_cpu_isa(void);

/* Re-reads $RTG_ISA (tests switch paths between cases). Non-real-time. */
void rtg_cpu_isa_refresh(void);

const char *rtg_isa_name(rtg_isa isa);

#endif
