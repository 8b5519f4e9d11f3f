/* rtg_stats.h — the audio thread's counters: written with relaxed atomics
 * by the one thread that processes, read by anyone.
 *
 * Callback times go into a fixed log-scale histogram (8 bins per octave
 * from 256 ns to ~8.6 s, so a percentile is good to ~9%) — no samples are
 * stored, so the audio thread's cost is a few adds per callback.
 */
#ifndef RTG_STATS_H
#define RTG_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#define RTG_STATS_BINS 208

typedef struct rtg_stats {
    /* written only by the processing thread */
    atomic_uint_fast64_t callbacks, frames, time_ns, max_ns, max_load_ppm;
    atomic_uint_fast64_t hist[RTG_STATS_BINS];
    atomic_uint_fast64_t params, swaps, reloads, generation;
    atomic_uint_fast64_t nonfinite; /* guard events: blocks muted for NaN/Inf */
    /* written by anyone */
    atomic_uint_fast64_t xruns, rejected;
} rtg_stats;

/* Zeroes everything. Thread: before the counters are shared. */
void rtg_stats_init(rtg_stats *s);

/* Counts one callback of `frames` frames that took `ns` at `sample_rate`.
 * Thread: the processing thread, real-time safe. */
void rtg_stats_callback(rtg_stats *s, int64_t ns, int frames, double sample_rate);

/* Adds 1 to a counter only the processing thread writes. Real-time safe. */
static inline void rtg_stats_bump(atomic_uint_fast64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* Adds n to a counter only the processing thread writes. Real-time safe. */
static inline void rtg_stats_add_own(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* Adds n to a counter any thread may write. Real-time safe. */
static inline void rtg_stats_add_shared(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t rtg_stats_read(const atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* The callback time (ns) below which fraction q (0..1) of callbacks fell,
 * read from the histogram (the upper edge of the bin holding it).
 * Thread: any, real-time safe. */
double rtg_stats_percentile_ns(const rtg_stats *s, double q);

/* Histogram bin of a duration, and the upper edge of a bin (ns). */
int rtg_stats_bin(uint64_t ns);
double rtg_stats_bin_upper_ns(int bin);

#endif
