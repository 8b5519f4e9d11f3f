/* rtg_bench_peak.c — the single-core fp32 FMA peak of this machine, so the
 * layer figures can be read against what the silicon allows.
 *
 * Runs chains of independent fused multiply-adds on vector registers (12
 * accumulators: enough to cover the FMA latency of every x86 core in use)
 * for the widest ISA the CPU has and the ones below it, and prints GFLOP/s
 * (2 flops per lane per FMA), the median of several repetitions. A layer's
 * real-time factor at peak is then peak / (2 * MACs per sample * 48000).
 *
 * usage: rtg_bench_peak [--reps R] [--seconds S] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "rtg_bench.h"
#include "rtg_cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RTG_PEAK_X86 1
#endif

#define ACCS 12
#define ITERS_PER_CALL 4096L

typedef struct peak_ctx {
    void (*fn)(long iters, float *sink);
    float sink;
} peak_ctx;

#ifdef RTG_PEAK_X86
__attribute__((target("avx512f"))) static void fma_avx512(long iters, float *sink)
{
    __m512 acc[ACCS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < ACCS; i++)
        acc[i] = _mm512_set1_ps((float)i);
    for (long n = 0; n < iters; n++)
        for (int i = 0; i < ACCS; i++)
            acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    __m512 s = acc[0];
    for (int i = 1; i < ACCS; i++)
        s = _mm512_add_ps(s, acc[i]);
    *sink += _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static void fma_avx2(long iters, float *sink)
{
    __m256 acc[ACCS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < ACCS; i++)
        acc[i] = _mm256_set1_ps((float)i);
    for (long n = 0; n < iters; n++)
        for (int i = 0; i < ACCS; i++)
            acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    __m256 s = acc[0];
    for (int i = 1; i < ACCS; i++)
        s = _mm256_add_ps(s, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    for (int i = 0; i < 8; i++)
        *sink += lanes[i];
}
#endif

static void run_peak(void *ctx, long blocks)
{
    peak_ctx *p = ctx;
    for (long k = 0; k < blocks; k++)
        p->fn(ITERS_PER_CALL, &p->sink);
}

/* Times one ISA's loop and prints its GFLOP/s; lanes = floats per vector. */
static void measure(const char *name, void (*fn)(long, float *), int lanes, double seconds,
                    int reps)
{
    peak_ctx ctx = {fn, 0};
    rtg_bench_case c = {.run = run_peak, .ctx = &ctx};
    rtg_bench_time(&c, 1, seconds, reps);
    const double flops = 2.0 * lanes * ACCS * (double)ITERS_PER_CALL;
    /* the sink is printed so the compiler cannot drop the loop */
    printf("%-8s %8.1f GFLOP/s  (min %.1f, max %.1f over %d reps; sink %.3g)\n", name,
           flops / c.stats.median * 1e-9, flops / c.stats.max * 1e-9, flops / c.stats.min * 1e-9,
           reps, (double)ctx.sink);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"reps", required_argument, NULL, 'r'},
        {"seconds", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int reps = 7, c;
    double seconds = 0.2;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            reps = atoi(optarg);
            if (reps < 1 || reps > RTG_BENCH_MAX_REPS) {
                fprintf(stderr, "rtg_bench_peak: --reps must be 1..%d\n", RTG_BENCH_MAX_REPS);
                return 2;
            }
            break;
        case 's':
            seconds = atof(optarg);
            if (!(seconds > 0 && seconds <= 60)) {
                fprintf(stderr, "rtg_bench_peak: --seconds must be in (0, 60]\n");
                return 2;
            }
            break;
        case 'h':
            printf("usage: rtg_bench_peak [--reps R] [--seconds S]\n\n"
                   "Measures this core's fp32 FMA peak (GFLOP/s) per vector ISA the CPU has:\n"
                   "the ceiling every layer figure in docs/performance.md is read against.\n"
                   "Run pinned on an idle machine: taskset -c 1 rtg_bench_peak\n");
            return 0;
        default:
            return 2;
        }
    }
    rtg_bench_print_machine(stdout);
#ifdef RTG_PEAK_X86
    if (rtg_cpu_isa() >= RTG_ISA_AVX512)
        measure("avx512", fma_avx512, 16, seconds, reps);
    if (rtg_cpu_isa() >= RTG_ISA_AVX2)
        measure("avx2", fma_avx2, 8, seconds, reps);
#else
    printf("no x86 vector ISA: nothing to measure here\n");
#endif
    return 0;
}
