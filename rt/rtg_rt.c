/* rtg_rt.c — denormal flushing, real-time scheduling, memory locking and
 * the clock for audio threads (see rtg_rt.h). */
#define _GNU_SOURCE
#include "rtg_rt.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define FLUSH_BITS 0x8040u /* MXCSR FTZ (bit 15) | DAZ (bit 6) */
#endif

rtg_fp_state rtg_rt_denormals_off(void)
{
    rtg_fp_state s = {0};
#if defined(__x86_64__) || defined(__i386__)
    unsigned csr = _mm_getcsr();
    s.saved = csr;
    _mm_setcsr(csr | FLUSH_BITS);
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    s.saved = fpcr;
    __asm__ __volatile__("msr fpcr, %0" ::"r"(fpcr | (1ull << 24))); /* FZ */
#endif
    return s;
}

void rtg_rt_fp_restore(rtg_fp_state s)
{
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr((unsigned)s.saved);
#elif defined(__aarch64__)
    __asm__ __volatile__("msr fpcr, %0" ::"r"(s.saved));
#else
    (void)s;
#endif
}

int rtg_rt_denormals_are_off(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return (_mm_getcsr() & FLUSH_BITS) == FLUSH_BITS;
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    return (int)((fpcr >> 24) & 1);
#else
    return 0;
#endif
}

int rtg_rt_promote_self(int priority, rtg_error *err)
{
    int lo = sched_get_priority_min(SCHED_FIFO), hi = sched_get_priority_max(SCHED_FIFO);
    struct sched_param sp = {.sched_priority = priority < lo ? lo : priority > hi ? hi : priority};
    int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (rc == 0)
        return RTG_OK;
    struct rlimit rl;
    if (rc == EPERM && getrlimit(RLIMIT_RTPRIO, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (long)rl.rlim_cur < sp.sched_priority)
        return rtg_error_set(err, RTG_ENOTSUP,
                             "no real-time priority: RLIMIT_RTPRIO is %ld (raise it, e.g. add "
                             "the user to the 'audio' group with rtprio in limits.conf)",
                             (long)rl.rlim_cur);
    return rtg_error_set(err, RTG_ENOTSUP, "no real-time priority: SCHED_FIFO %d refused: %s",
                         sp.sched_priority, strerror(rc));
}

/* CAP_IPC_LOCK in the effective set, from /proc (no libcap needed). */
static int have_cap_ipc_lock(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    unsigned long long caps = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %llx", &caps) == 1)
            break;
    fclose(f);
    return (int)((caps >> 14) & 1); /* CAP_IPC_LOCK = 14 */
}

int rtg_rt_lock_memory(rtg_error *err)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /* The sanitizers reserve terabytes of shadow memory: locking it all
     * would take the machine down. */
    return rtg_error_set(err, RTG_ENOTSUP, "memory not locked: sanitizer build");
#endif
    struct rlimit rl;
    if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0)
        return rtg_error_set(err, RTG_ENOTSUP, "memory not locked: cannot read RLIMIT_MEMLOCK");
    if (rl.rlim_cur != RLIM_INFINITY && !have_cap_ipc_lock())
        /* mlockall(MCL_FUTURE) under a finite limit makes every allocation
         * past the limit fail, so do not even try. */
        return rtg_error_set(err, RTG_ENOTSUP,
                             "memory not locked: RLIMIT_MEMLOCK is %llu KiB and CAP_IPC_LOCK is "
                             "not held (page faults may reach the audio thread)",
                             (unsigned long long)rl.rlim_cur / 1024);
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
        return rtg_error_set(err, RTG_ENOTSUP, "memory not locked: mlockall: %s", strerror(errno));
    return RTG_OK;
}

int64_t rtg_rt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
