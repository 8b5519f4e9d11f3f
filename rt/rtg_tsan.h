/* rtg_tsan.h — tells ThreadSanitizer what Concurrency Kit's rings
 * guarantee, which it cannot see by itself.
 *
 * ck_pr orders memory with inline assembly and volatile accesses, which
 * TSan does not model: to it a ck_ring is no synchronisation at all, so
 * everything handed through one (a model built on a control thread and
 * played on the audio thread, a graph retired by the audio thread and
 * freed by the housekeeping thread) would look like a data race. Each
 * ring operation goes through one of these (GNU statement expressions,
 * each the value of the call it wraps):
 *
 *     if (RTG_RING_PUT(ring, ck_ring_enqueue_...(ring, ...)))
 *     while (RTG_RING_GET(ring, ck_ring_dequeue_...(ring, ...)))
 *     unsigned n = RTG_RING_PEEK(ck_ring_size(ring));
 *
 * which, in a -fsanitize=thread build, say exactly what the ring promises:
 * what a producer did before an enqueue happens before what a consumer
 * does after the dequeue that takes the entry (a release before each put,
 * an acquire after each get that took something, both on the ring), while
 * the ring's own index and slot accesses go unchecked (ck's business).
 * Races on anything else are still reported. Elsewhere they are just the
 * call.
 *
 * Thread: any; real-time safe (nothing at all outside TSan builds).
 */
#ifndef RTG_TSAN_H
#define RTG_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define RTG_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RTG_TSAN 1
#endif
#endif

#ifdef RTG_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
void AnnotateIgnoreWritesBegin(const char *file, int line);
void AnnotateIgnoreWritesEnd(const char *file, int line);

#define RTG_TSAN_IGNORE_BEGIN()                          \
    (AnnotateIgnoreReadsBegin(__FILE__, __LINE__),       \
     AnnotateIgnoreWritesBegin(__FILE__, __LINE__))
#define RTG_TSAN_IGNORE_END()                            \
    (AnnotateIgnoreWritesEnd(__FILE__, __LINE__),        \
     AnnotateIgnoreReadsEnd(__FILE__, __LINE__))

#define RTG_RING_PUT(ring, call)                         \
    __extension__({                                      \
        __tsan_release((void *)(ring));                  \
        RTG_TSAN_IGNORE_BEGIN();                         \
        __typeof__(call) rtg_ring_r_ = (call);           \
        RTG_TSAN_IGNORE_END();                           \
        rtg_ring_r_;                                     \
    })
#define RTG_RING_GET(ring, call)                         \
    __extension__({                                      \
        RTG_TSAN_IGNORE_BEGIN();                         \
        __typeof__(call) rtg_ring_r_ = (call);           \
        RTG_TSAN_IGNORE_END();                           \
        if (rtg_ring_r_)                                 \
            __tsan_acquire((void *)(ring));              \
        rtg_ring_r_;                                     \
    })
#define RTG_RING_PEEK(call)                              \
    __extension__({                                      \
        RTG_TSAN_IGNORE_BEGIN();                         \
        __typeof__(call) rtg_ring_r_ = (call);           \
        RTG_TSAN_IGNORE_END();                           \
        rtg_ring_r_;                                     \
    })
#else
#define RTG_RING_PUT(ring, call) (call)
#define RTG_RING_GET(ring, call) (call)
#define RTG_RING_PEEK(call) (call)
#endif

#endif
