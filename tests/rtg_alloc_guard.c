/* rtg_alloc_guard.c — malloc/free/mutex interposition for the real-time
 * safety tests (see rtg_alloc_guard.h). Forwards to glibc's own entry
 * points, so it works without dlsym for the allocator. */
#define _GNU_SOURCE
#include "rtg_alloc_guard.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GUARD_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GUARD_OFF 1
#endif
#endif

static _Thread_local int watching;
static atomic_long n_alloc, n_free, n_lock;

void rtg_guard_watch(int on) { watching = on; }
long rtg_guard_allocs(void) { return atomic_load(&n_alloc); }
long rtg_guard_frees(void) { return atomic_load(&n_free); }
long rtg_guard_locks(void) { return atomic_load(&n_lock); }
void rtg_guard_clear(void)
{
    atomic_store(&n_alloc, 0);
    atomic_store(&n_free, 0);
    atomic_store(&n_lock, 0);
}

#ifdef GUARD_OFF
int rtg_guard_active(void) { return 0; }
#else
int rtg_guard_active(void) { return 1; }

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

#define COUNT(c)                            \
    do {                                    \
        if (watching)                       \
            atomic_fetch_add(&(c), 1);      \
    } while (0)

void *malloc(size_t n)
{
    COUNT(n_alloc);
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    COUNT(n_alloc);
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    COUNT(n_alloc);
    return __libc_realloc(p, n);
}

void free(void *p)
{
    if (p)
        COUNT(n_free);
    __libc_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    COUNT(n_alloc);
    void *p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
    COUNT(n_alloc);
    return __libc_memalign(align, n);
}

void *memalign(size_t align, size_t n)
{
    COUNT(n_alloc);
    return __libc_memalign(align, n);
}

typedef int (*lock_fn)(pthread_mutex_t *);

int pthread_mutex_lock(pthread_mutex_t *m)
{
    static lock_fn real;
    if (!real)
        real = (lock_fn)dlsym(RTLD_NEXT, "pthread_mutex_lock");
    COUNT(n_lock);
    return real(m);
}
#endif
