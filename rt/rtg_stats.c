/* rtg_stats.c — callback counters and the callback-time histogram. */
#include "rtg_stats.h"

#include <math.h>

void rtg_stats_init(rtg_stats *s)
{
    atomic_uint_fast64_t *all[] = {&s->callbacks, &s->frames, &s->time_ns, &s->max_ns,
                                   &s->max_load_ppm, &s->params, &s->swaps, &s->reloads,
                                   &s->generation, &s->nonfinite, &s->xruns, &s->rejected};
    for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++)
        atomic_init(all[i], 0);
    for (int i = 0; i < RTG_STATS_BINS; i++)
        atomic_init(&s->hist[i], 0);
}

/* Bin 8*(e-8) + m for ns in [2^e (1 + m/8), 2^e (1 + (m+1)/8)): the
 * exponent and the three bits after the leading one. */
int rtg_stats_bin(uint64_t ns)
{
    if (ns < 256)
        return 0;
    int e = 63 - __builtin_clzll(ns);
    int bin = 8 * (e - 8) + (int)((ns >> (e - 3)) & 7);
    return bin < RTG_STATS_BINS ? bin : RTG_STATS_BINS - 1;
}

double rtg_stats_bin_upper_ns(int bin)
{
    int e = bin / 8 + 8, m = bin % 8;
    return ldexp(1.0 + (m + 1) / 8.0, e);
}

void rtg_stats_callback(rtg_stats *s, int64_t ns, int frames, double sample_rate)
{
    uint64_t t = ns > 0 ? (uint64_t)ns : 0;
    rtg_stats_bump(&s->callbacks);
    atomic_store_explicit(&s->frames, rtg_stats_read(&s->frames) + (uint64_t)frames,
                          memory_order_relaxed);
    atomic_store_explicit(&s->time_ns, rtg_stats_read(&s->time_ns) + t, memory_order_relaxed);
    if (t > rtg_stats_read(&s->max_ns))
        atomic_store_explicit(&s->max_ns, t, memory_order_relaxed);
    if (frames > 0) {
        uint64_t ppm = (uint64_t)((double)t * sample_rate / (double)frames * 1e-3);
        if (ppm > rtg_stats_read(&s->max_load_ppm))
            atomic_store_explicit(&s->max_load_ppm, ppm, memory_order_relaxed);
    }
    rtg_stats_bump(&s->hist[rtg_stats_bin(t)]);
}

double rtg_stats_percentile_ns(const rtg_stats *s, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < RTG_STATS_BINS; i++)
        total += rtg_stats_read(&s->hist[i]);
    if (!total)
        return 0;
    double want = q * (double)total;
    uint64_t seen = 0;
    for (int i = 0; i < RTG_STATS_BINS; i++) {
        seen += rtg_stats_read(&s->hist[i]);
        if ((double)seen >= want && seen > 0)
            return rtg_stats_bin_upper_ns(i);
    }
    return rtg_stats_bin_upper_ns(RTG_STATS_BINS - 1);
}
