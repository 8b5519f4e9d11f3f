/* rtg_rt.h — what a real-time audio thread needs from the OS: denormals
 * flushed to zero, a real-time scheduling class, locked memory, a clock.
 *
 * Thread: each function says; none allocates.
 */
#ifndef RTG_RT_H
#define RTG_RT_H

#include <stdint.h>

#include "rtg_error.h"

/* The floating-point control state that rtg_rt_denormals_off replaced. */
typedef struct rtg_fp_state {
    uint64_t saved;
} rtg_fp_state;

/* Makes the calling thread flush denormal results and inputs to zero
 * (x86: MXCSR FTZ|DAZ; AArch64: FPCR.FZ; elsewhere nothing) and returns
 * what was set before, for rtg_rt_fp_restore. Denormals are 100x slower
 * on x86 and appear whenever a decaying signal (reverb tail, delay
 * feedback, an LSTM going quiet) crosses 1e-38. Thread: any, real-time safe. */
rtg_fp_state rtg_rt_denormals_off(void);

/* Restores what rtg_rt_denormals_off replaced. Thread: the same thread. */
void rtg_rt_fp_restore(rtg_fp_state s);

/* 1 if denormals are flushed on the calling thread (for tests). */
int rtg_rt_denormals_are_off(void);

/* Moves the calling thread to SCHED_FIFO at `priority` (1..99, clamped to
 * what the system allows). On refusal returns a code and says why (e.g.
 * "no real-time priority: RLIMIT_RTPRIO is 0; add the user to the audio
 * group"). Thread: the thread to promote; non-real-time. */
int rtg_rt_promote_self(int priority, rtg_error *err);

/* Locks the process's current and future pages in RAM (no page faults on
 * the audio path), but only when that cannot break later allocations:
 * RLIMIT_MEMLOCK unlimited or CAP_IPC_LOCK held. Otherwise returns a code
 * and says why. Thread: non-real-time. */
int rtg_rt_lock_memory(rtg_error *err);

/* Monotonic nanoseconds (vDSO clock_gettime: no system call).
 * Thread: any, real-time safe. */
int64_t rtg_rt_now_ns(void);

#endif
