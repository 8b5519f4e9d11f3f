/* rtg_cpu.c — CPU feature detection and the RTG_ISA override (see rtg_cpu.h). */
#include "rtg_cpu.h"

#include <stdlib.h>
#include <string.h>

static int cached_isa = -1;

static rtg_isa detect(void)
{
#if RTG_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("fma"))
        return RTG_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return RTG_ISA_AVX2;
#endif
    return RTG_ISA_PORTABLE;
}

void rtg_cpu_isa_refresh(void)
{
    rtg_isa isa = detect();
    const char *cap = getenv("RTG_ISA");
    if (cap) {
        rtg_isa want = isa;
        if (!strcmp(cap, "portable"))
            want = RTG_ISA_PORTABLE;
        else if (!strcmp(cap, "avx2"))
            want = RTG_ISA_AVX2;
        else if (!strcmp(cap, "avx512"))
            want = RTG_ISA_AVX512;
        if (want < isa)
            isa = want;
    }
    cached_isa = (int)isa;
}

rtg_isa rtg_cpu_isa(void)
{
    if (cached_isa < 0)
        rtg_cpu_isa_refresh();
    return (rtg_isa)cached_isa;
}

const char *rtg_isa_name(rtg_isa isa)
{
    switch (isa) {
    case RTG_ISA_AVX512: return "avx512";
    case RTG_ISA_AVX2: return "avx2";
    default: return "portable";
    }
}
