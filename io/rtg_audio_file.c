/* rtg_audio_file.c — libsndfile reading and temp-then-rename writing (see
 * rtg_audio_file.h). */
#include "rtg_audio_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

struct rtg_audio_file {
    SNDFILE *sf;
    int channels;
    int writing;
    char path[1024]; /* reading: the file; writing: the destination */
    char tmp[1100];  /* writing: the temporary file */
};

int rtg_audio_open_read(const char *path, rtg_audio_file **out, rtg_audio_info *info,
                        rtg_error *err)
{
    *out = NULL;
    rtg_audio_file *f = calloc(1, sizeof *f);
    if (!f)
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    SF_INFO si;
    memset(&si, 0, sizeof si);
    f->sf = sf_open(path, SFM_READ, &si);
    if (!f->sf) {
        free(f);
        return rtg_error_set(err, RTG_EIO, "%s: %s", path, sf_strerror(NULL));
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    f->channels = si.channels;
    info->frames = si.frames >= 0 ? (long)si.frames : -1;
    info->channels = si.channels;
    info->sample_rate = si.samplerate;
    *out = f;
    return RTG_OK;
}

/* libsndfile's major format for a file extension (0 if it has none). */
static int major_for_extension(const char *ext)
{
    static const struct { const char *ext; int major; } aliases[] = {
        {"aif", SF_FORMAT_AIFF}, {"aifc", SF_FORMAT_AIFF}, {"opus", SF_FORMAT_OGG},
        {"oga", SF_FORMAT_OGG},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcasecmp(ext, aliases[i].ext))
            return aliases[i].major;
    int count = 0;
    sf_command(NULL, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof count);
    for (int i = 0; i < count; i++) {
        SF_FORMAT_INFO fi = {.format = i};
        if (sf_command(NULL, SFC_GET_FORMAT_MAJOR, &fi, sizeof fi) == 0 && fi.extension &&
            !strcasecmp(ext, fi.extension))
            return fi.format & SF_FORMAT_TYPEMASK;
    }
    return 0;
}

/* The richest sample format the container takes: float first. */
static int pick_format(int major, int channels, int rate, const char *ext, char *desc, int size)
{
    static const struct { int sub; const char *name; } subs[] = {
        {SF_FORMAT_FLOAT, "float"},     {SF_FORMAT_PCM_24, "24-bit"},
        {SF_FORMAT_PCM_16, "16-bit"},   {SF_FORMAT_OPUS, "opus"},
        {SF_FORMAT_VORBIS, "vorbis"},
    };
    const int opus = !strcasecmp(ext, "opus");
    for (size_t i = opus ? 3 : 0; i < sizeof subs / sizeof subs[0]; i++) {
        SF_INFO si = {.channels = channels, .samplerate = rate, .format = major | subs[i].sub};
        if (sf_format_check(&si)) {
            SF_FORMAT_INFO fi = {.format = major};
            sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi);
            if (desc)
                snprintf(desc, (size_t)size, "%s %s", fi.name ? fi.name : ext, subs[i].name);
            return major | subs[i].sub;
        }
    }
    return 0;
}

int rtg_audio_open_write(const char *path, int channels, int sample_rate, rtg_audio_file **out,
                         char *format, int format_size, rtg_error *err)
{
    *out = NULL;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    const char *ext = dot && dot[1] ? dot + 1 : "wav";
    int major = major_for_extension(ext);
    if (!major)
        return rtg_error_set(err, RTG_EINVAL,
                             "%s: unknown audio format '.%s' (use .wav, .flac, .aiff, .ogg, ...)",
                             path, ext);
    int fmt = pick_format(major, channels, sample_rate, ext, format, format_size);
    if (!fmt)
        return rtg_error_set(err, RTG_EINVAL, "%s: '.%s' cannot hold %d channels at %d Hz", path,
                             ext, channels, sample_rate);
    rtg_audio_file *f = calloc(1, sizeof *f);
    if (!f)
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    snprintf(f->path, sizeof f->path, "%s", path);
    snprintf(f->tmp, sizeof f->tmp, "%.*s.%s.partXXXXXX", (int)(base - path), path, base);
    int fd = mkstemp(f->tmp);
    if (fd < 0) {
        int e = errno;
        free(f);
        return rtg_error_set(err, RTG_EIO, "%s: cannot create a file beside it: %s", path,
                             strerror(e));
    }
    /* mkstemp makes it 0600; give it the permissions a new file normally gets */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    SF_INFO si = {.channels = channels, .samplerate = sample_rate, .format = fmt};
    f->sf = sf_open_fd(fd, SFM_WRITE, &si, 1);
    if (!f->sf) {
        close(fd);
        unlink(f->tmp);
        free(f);
        return rtg_error_set(err, RTG_EIO, "%s: %s", path, sf_strerror(NULL));
    }
    /* no PEAK chunk: it holds a timestamp, and equal renders should be equal files */
    sf_command(f->sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    /* float formats keep any value; integer ones clip rather than wrap */
    if ((fmt & SF_FORMAT_SUBMASK) != SF_FORMAT_FLOAT)
        sf_command(f->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    f->channels = channels;
    f->writing = 1;
    *out = f;
    return RTG_OK;
}

long rtg_audio_read(rtg_audio_file *f, float *buf, long frames, rtg_error *err)
{
    sf_count_t n = sf_readf_float(f->sf, buf, frames);
    if (n < 0 || (n < frames && sf_error(f->sf)))
        return rtg_error_set(err, RTG_EIO, "%s: %s", f->path, sf_strerror(f->sf));
    return (long)n;
}

int rtg_audio_write(rtg_audio_file *f, const float *buf, long frames, rtg_error *err)
{
    if (sf_writef_float(f->sf, buf, frames) != frames)
        return rtg_error_set(err, RTG_EIO, "%s: write failed: %s", f->path, sf_strerror(f->sf));
    return RTG_OK;
}

int rtg_audio_commit(rtg_audio_file *f, rtg_error *err)
{
    int rc = sf_close(f->sf);
    f->sf = NULL;
    if (rc)
        return rtg_error_set(err, RTG_EIO, "%s: %s", f->path, sf_error_number(rc));
    if (rename(f->tmp, f->path) != 0)
        return rtg_error_set(err, RTG_EIO, "%s: cannot move the output into place: %s", f->path,
                             strerror(errno));
    f->writing = 0;
    return RTG_OK;
}

void rtg_audio_close(rtg_audio_file *f)
{
    if (!f)
        return;
    if (f->sf)
        sf_close(f->sf);
    if (f->writing)
        unlink(f->tmp);
    free(f);
}

int rtg_audio_read_all(const char *path, float **data, rtg_audio_info *info, rtg_error *err)
{
    *data = NULL;
    rtg_audio_file *f;
    int rc = rtg_audio_open_read(path, &f, info, err);
    if (rc)
        return rc;
    long cap = info->frames > 0 ? info->frames : 4096, n = 0;
    float *buf = malloc(sizeof(float) * (size_t)cap * (size_t)info->channels);
    while (buf) {
        long got = rtg_audio_read(f, buf + (size_t)n * (size_t)info->channels, cap - n, err);
        if (got < 0) {
            free(buf);
            rtg_audio_close(f);
            return (int)got;
        }
        n += got;
        if (got == 0 || n < cap)
            break;
        float *more = realloc(buf, sizeof(float) * (size_t)cap * 2 * (size_t)info->channels);
        if (!more)
            free(buf);
        buf = more;
        cap *= 2;
    }
    rtg_audio_close(f);
    if (!buf)
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
    info->frames = n;
    *data = buf;
    return RTG_OK;
}

int rtg_audio_write_all(const char *path, const float *data, long frames, int channels,
                        int sample_rate, rtg_error *err)
{
    rtg_audio_file *f;
    int rc = rtg_audio_open_write(path, channels, sample_rate, &f, NULL, 0, err);
    if (rc)
        return rc;
    if ((rc = rtg_audio_write(f, data, frames, err)) == RTG_OK)
        rc = rtg_audio_commit(f, err);
    rtg_audio_close(f);
    return rc;
}
