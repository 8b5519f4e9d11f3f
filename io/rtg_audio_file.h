/* rtg_audio_file.h — audio files through libsndfile: any format it reads,
 * and writing that never leaves a half-written file behind.
 *
 * A writer writes to a temporary file beside the destination and renames
 * it over the destination only in rtg_audio_commit; rtg_audio_close without
 * a commit (an error, an interrupt) deletes the temporary file. The output
 * format follows the destination's extension (libsndfile's list, plus
 * .aif and .opus), 32-bit float where the format has it; no extension
 * means WAV.
 *
 * Thread: non-real-time throughout.
 */
#ifndef RTG_AUDIO_FILE_H
#define RTG_AUDIO_FILE_H

#include "rtg_error.h"

typedef struct rtg_audio_file rtg_audio_file;

typedef struct rtg_audio_info {
    long frames;     /* reading: the file's length (-1 if unknown) */
    int channels;
    int sample_rate;
} rtg_audio_info;

/* Opens `path` for reading and reports its shape. */
int rtg_audio_open_read(const char *path, rtg_audio_file **f, rtg_audio_info *info,
                        rtg_error *err);

/* Starts writing `path` (through a temporary file). `format` receives a
 * short description such as "WAV float" (may be NULL). */
int rtg_audio_open_write(const char *path, int channels, int sample_rate, rtg_audio_file **f,
                         char *format, int format_size, rtg_error *err);

/* Reads up to `frames` interleaved frames; returns the count (0 at the end)
 * or a negative code. */
long rtg_audio_read(rtg_audio_file *f, float *buf, long frames, rtg_error *err);

/* Writes `frames` interleaved frames. */
int rtg_audio_write(rtg_audio_file *f, const float *buf, long frames, rtg_error *err);

/* Finishes a writer: closes and renames the temporary file into place. */
int rtg_audio_commit(rtg_audio_file *f, rtg_error *err);

/* Closes a file. For a writer not committed, deletes what was written.
 * NULL is fine. */
void rtg_audio_close(rtg_audio_file *f);

/* Whole-file convenience for tests and small tools: reads every frame
 * (*data malloc'd, frames x channels) / writes one buffer. */
int rtg_audio_read_all(const char *path, float **data, rtg_audio_info *info, rtg_error *err);
int rtg_audio_write_all(const char *path, const float *data, long frames, int channels,
                        int sample_rate, rtg_error *err);

#endif
