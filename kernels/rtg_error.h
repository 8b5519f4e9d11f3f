/* rtg_error.h — errors as values: one fixed-size message, no allocation.
 *
 * Every fallible function in rtgraph takes an `rtg_error *` (which may be
 * NULL) and returns a status. Libraries never print; the caller decides what
 * to do with the message. The message is one line, already prefixed with
 * whatever location the failing layer knew (file, line:col, layer index).
 *
 * Thread: any. Real-time safe: yes (no allocation, bounded formatting), but
 * nothing on the audio thread should need it.
 */
#ifndef RTG_ERROR_H
#define RTG_ERROR_H

#include <stdarg.h>

#define RTG_ERROR_MAX 512

typedef struct rtg_error {
    char msg[RTG_ERROR_MAX];
} rtg_error;

/* Status codes returned next to an rtg_error. 0 is success. */
enum {
    RTG_OK = 0,
    RTG_EINVAL = -1,  /* malformed or inconsistent input */
    RTG_ENOMEM = -2,  /* allocation failed or a size limit was exceeded */
    RTG_EIO = -3,     /* file could not be read or written */
    RTG_ENOTSUP = -4, /* valid input we do not implement */
};

/* Formats into err->msg (if err is non-NULL) and returns `code`, so callers
 * can write `return rtg_error_set(err, RTG_EINVAL, "...", ...);`. */
int rtg_error_set(rtg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (used as an error travels up
 * through layers that each know a bit more context). Returns `code`. */
int rtg_error_prefix(rtg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
