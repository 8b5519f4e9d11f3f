/* rtg_alloc_guard.h — counts heap allocations and mutex locks made by a
 * watched thread, to prove the audio path makes none.
 *
 * Linked into a test program, rtg_alloc_guard.c interposes malloc, calloc,
 * realloc, free, posix_memalign, aligned_alloc, memalign and
 * pthread_mutex_lock for the whole process (they forward to glibc). Only
 * calls made by a thread between rtg_guard_watch(1) and rtg_guard_watch(0)
 * count, so test scaffolding on other threads does not.
 *
 * Not available under sanitizers (they own malloc): rtg_guard_active()
 * returns 0 there and tests skip.
 */
#ifndef RTG_ALLOC_GUARD_H
#define RTG_ALLOC_GUARD_H

/* 1 if the interposer is in effect in this build. */
int rtg_guard_active(void);

/* Starts (1) or stops (0) counting on the calling thread. */
void rtg_guard_watch(int on);

/* Counts since the last rtg_guard_clear(), over all watched threads. */
long rtg_guard_allocs(void);
long rtg_guard_frees(void);
long rtg_guard_locks(void);
void rtg_guard_clear(void);

#endif
