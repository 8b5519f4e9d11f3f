/* rtg_csv.c — CSV frames reader and writer (see rtg_csv.h). */
#include "rtg_csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A file larger than this is refused rather than read into memory. */
#define CSV_MAX_BYTES (1L << 30)

static char *slurp(const char *path, size_t *len, rtg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        rtg_error_set(err, RTG_EIO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 131072;
            if (ncap > (size_t)CSV_MAX_BYTES) {
                rtg_error_set(err, RTG_ENOMEM, "%s: file larger than %ld bytes", path, CSV_MAX_BYTES);
                goto fail;
            }
            char *p = realloc(buf, ncap);
            if (!p) {
                rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
                goto fail;
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                rtg_error_set(err, RTG_EIO, "%s: read error", path);
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

int rtg_csv_read(const char *path, rtg_csv *out, rtg_error *err)
{
    memset(out, 0, sizeof *out);
    size_t len;
    char *text = slurp(path, &len, err);
    if (!text)
        return RTG_EIO;
    size_t cap = 0, n = 0;
    float *data = NULL;
    int channels = 0;
    long frames = 0, line = 1;
    char *p = text;
    int rc = RTG_OK;
    while (*p) {
        char *eol = strchr(p, '\n');
        if (!eol)
            eol = p + strlen(p);
        char *q = p;
        int count = 0;
        int blank = 1;
        for (char *r = p; r < eol; r++)
            if (*r != ' ' && *r != '\t' && *r != '\r')
                blank = 0;
        if (!blank) {
            for (;;) {
                char *end;
                errno = 0;
                float v = strtof(q, &end);
                if (end == q || !isfinite(v)) {
                    rc = rtg_error_set(err, RTG_EINVAL, "%s:%ld:%ld: expected a finite number",
                                       path, line, (long)(q - p) + 1);
                    goto done;
                }
                if (n + 1 > cap) {
                    size_t ncap = cap ? cap * 2 : 4096;
                    float *d = realloc(data, ncap * sizeof *d);
                    if (!d) {
                        rc = rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
                        goto done;
                    }
                    data = d;
                    cap = ncap;
                }
                data[n++] = v;
                count++;
                q = end;
                while (*q == ' ' || *q == '\t' || *q == '\r')
                    q++;
                if (q >= eol)
                    break;
                if (*q != ',') {
                    rc = rtg_error_set(err, RTG_EINVAL, "%s:%ld:%ld: expected ',' between values",
                                       path, line, (long)(q - p) + 1);
                    goto done;
                }
                q++;
            }
            if (channels == 0)
                channels = count;
            else if (count != channels) {
                rc = rtg_error_set(err, RTG_EINVAL, "%s:%ld:1: %d values on this line, %d on the first",
                                   path, line, count, channels);
                goto done;
            }
            frames++;
        }
        p = *eol ? eol + 1 : eol;
        line++;
    }
    if (frames == 0)
        rc = rtg_error_set(err, RTG_EINVAL, "%s: no frames", path);
done:
    free(text);
    if (rc) {
        free(data);
        return rc;
    }
    out->data = data;
    out->frames = frames;
    out->channels = channels;
    return RTG_OK;
}

int rtg_csv_write(const char *path, const float *data, long frames, int channels, rtg_error *err)
{
    /* "-" is the process's stdout as it stands: reopening /dev/stdout would
     * truncate a file the shell redirected to, and break `>>`. */
    const int to_stdout = strcmp(path, "-") == 0;
    const char *name = to_stdout ? "stdout" : path;
    FILE *f = to_stdout ? stdout : fopen(path, "w");
    if (!f)
        return rtg_error_set(err, RTG_EIO, "%s: cannot create: %s", path, strerror(errno));
    for (long t = 0; t < frames; t++) {
        for (int c = 0; c < channels; c++)
            fprintf(f, c ? ",%.9g" : "%.9g", (double)data[t * channels + c]);
        fputc('\n', f);
    }
    const int bad = to_stdout ? (fflush(f) != 0 || ferror(f)) : fclose(f) != 0;
    if (bad)
        return rtg_error_set(err, RTG_EIO, "%s: write error", name);
    return RTG_OK;
}

void rtg_csv_free(rtg_csv *c)
{
    free(c->data);
    memset(c, 0, sizeof *c);
}
