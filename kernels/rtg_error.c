/* rtg_error.c — formatting of error values (see rtg_error.h). */
#include "rtg_error.h"

#include <stdio.h>
#include <string.h>

/* Names and strings from a file may hold control characters (a quoted
 * "\n"); whatever a file says, the message stays one printable line. */
static void one_line(char *msg)
{
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

int rtg_error_set(rtg_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    one_line(err->msg);
    return code;
}

int rtg_error_prefix(rtg_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    char prefix[RTG_ERROR_MAX];
    char old[RTG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation is acceptable: the message stays one bounded line. */
    size_t n = strnlen(prefix, sizeof prefix - 3);
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t room = sizeof err->msg - n - 3;
    size_t m = strnlen(old, room);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = '\0';
    one_line(err->msg);
    return code;
}
