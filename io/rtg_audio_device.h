/* rtg_audio_device.h — live audio I/O: a PortAudio stream, or a virtual
 * device paced by a timer thread where there is no sound card.
 *
 * Either way the owner's callback runs on a real-time thread once per
 * block with `frames` frames of graph-rate audio: in_ch input channels
 * (captured, or read from an input file looped, or silence) and out_ch
 * output channels to fill. Around it the device does only bounded copies:
 * channel mapping, sample-rate conversion where the hardware cannot run
 * at the graph's rate (libsamplerate, set up here, off the audio thread),
 * and handing blocks to a recorder thread (libsndfile) through a ck_ring
 * of preallocated blocks. Nothing on the audio thread allocates, locks,
 * waits or does I/O.
 *
 * The virtual device runs the same callback from a SCHED_FIFO thread (if
 * allowed) sleeping to absolute deadlines (clock_nanosleep), and writes
 * what it would have played to a WAV file.
 *
 * Thread: open/start/stop/close and the queries on one control thread.
 */
#ifndef RTG_AUDIO_DEVICE_H
#define RTG_AUDIO_DEVICE_H

#include <stdint.h>
#include <stdio.h>

#include "rtg_error.h"

typedef struct rtg_audio_device rtg_audio_device;

/* Called on the audio thread for every block. Must be real-time safe. */
typedef void (*rtg_audio_callback)(void *user, const float *in, float *out, int frames);
/* Called on the audio thread when the driver reports an over/underrun. */
typedef void (*rtg_audio_xrun_fn)(void *user, int count);
/* Called on the audio thread at the start and end of every device
 * callback (instrumentation, e.g. the allocation guard). May be NULL. */
typedef void (*rtg_audio_hook_fn)(void);

typedef struct rtg_audio_device_config {
    double sample_rate;      /* the graph's rate */
    double device_rate;      /* run the device at this rate, resampling at the boundary;
                                0: the graph's (a PortAudio device that refuses it runs at
                                its own default rate, resampled) */
    int frames;              /* graph frames per callback; 0: 256 */
    int in_ch, out_ch;       /* the graph's channels */
    const char *host_api;    /* PortAudio host API name (prefix, case-insensitive); NULL: default */
    const char *device;      /* index or name (substring); NULL: the default device */
    const char *input_file;  /* play this file looped instead of capturing; NULL: capture */
    const char *output_file; /* run the virtual device and write this file; NULL: PortAudio
                                (falling back to the virtual device, writing
                                rtgraph-out.wav, when there is no device) */
    int force_virtual;       /* run the virtual device even without output_file */
    rtg_audio_callback callback;
    rtg_audio_xrun_fn on_xrun; /* may be NULL */
    rtg_audio_hook_fn enter, leave;
    void *user;
} rtg_audio_device_config;

/* Opens the stream (not yet running). Messages for the user that are not
 * errors (a fallback to the virtual device, resampling and its latency)
 * are collected in notice (one per line) when notice is non-NULL.
 * Thread: control. */
int rtg_audio_device_open(const rtg_audio_device_config *cfg, rtg_audio_device **out,
                          char *notice, size_t notice_size, rtg_error *err);

/* Starts calling the callback. Thread: control. */
int rtg_audio_device_start(rtg_audio_device *d, rtg_error *err);

/* Stops the callbacks (returns once none runs) and finishes the output
 * file if there is one. Thread: control. */
int rtg_audio_device_stop(rtg_audio_device *d, rtg_error *err);

/* Closes everything; NULL is fine. Thread: control. */
void rtg_audio_device_close(rtg_audio_device *d);

/* What was opened, for people: "JACK Audio Connection Kit: system, 48000 Hz,
 * 1024 frames, latency 21.3 ms in / 21.3 ms out" or "virtual device ...". */
const char *rtg_audio_device_describe(const rtg_audio_device *d);

/* 1 for the virtual device. */
int rtg_audio_device_is_virtual(const rtg_audio_device *d);

/* Once started: 1 if the callback thread got SCHED_FIFO, 0 if that was
 * refused, -1 if the driver decides (PortAudio's own threads are real-time
 * wherever the system allows it). */
int rtg_audio_device_is_realtime(const rtg_audio_device *d);

/* Counters of the device's own: callbacks it made, output samples that
 * were not finite, frames the recorder had to drop (its thread fell
 * behind). Thread: any. */
typedef struct rtg_audio_device_stats {
    uint64_t callbacks;
    uint64_t nonfinite;
    uint64_t dropped_frames;
    uint64_t late_wakeups; /* virtual device: deadlines missed by more than a block */
    double peak;           /* largest |output sample| */
} rtg_audio_device_stats;

void rtg_audio_device_get_stats(const rtg_audio_device *d, rtg_audio_device_stats *s);

/* Prints the host APIs and devices PortAudio sees, one a line, the
 * defaults marked. Thread: control. */
int rtg_audio_list_devices(FILE *f, rtg_error *err);

#endif
