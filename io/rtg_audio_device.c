/* rtg_audio_device.c — PortAudio streams and the timer-paced virtual
 * device, with looped file input, channel mapping and a recorder thread
 * (see rtg_audio_device.h). */
#define _GNU_SOURCE
#include "rtg_audio_device.h"

#include <ck_ring.h>
#include <errno.h>
#include <math.h>
#include <portaudio.h>
#include <pthread.h>
#include <samplerate.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifdef RTG_HAVE_ALSA
#include <alsa/asoundlib.h>
#endif
#ifdef RTG_HAVE_JACK
#include <jack/jack.h>
#endif

#include "rtg_audio_file.h"
#include "rtg_rt.h"
#include "rtg_tsan.h" /* the rings' ordering, told to ThreadSanitizer */

#define DEFAULT_FRAMES 256
#define VIRTUAL_OUTPUT "rtgraph-out.wav"
#define TIMER_PRIORITY 80

/* What one device callback saw of its output. */
typedef struct block_tally {
    float peak;
    uint64_t bad; /* samples that were not finite */
} block_tally;

/* A block on its way to the recorder thread. */
struct rec_block {
    int index;  /* into the pool */
    int frames;
};
CK_RING_PROTOTYPE(rec, rec_block)

struct rtg_audio_device {
    rtg_audio_callback callback;
    rtg_audio_xrun_fn on_xrun;
    rtg_audio_hook_fn enter, leave;
    void *user;
    double rate;
    int frames, in_ch, out_ch;
    char desc[640];

    /* graph-rate scratch for one block */
    float *in_buf, *out_buf;

    /* looped input file, already at the graph's rate and in_ch channels */
    float *file;
    long file_frames, file_pos;

    /* PortAudio */
    int pa_up;
    PaStream *stream;
    int dev_in_ch, dev_out_ch; /* channels of the device buffers */
    double dev_rate;           /* the device's rate: the graph's unless resampling */
    int dev_frames;            /* frames per device callback */

    /* resampling at the I/O boundary (dev_rate != rate) */
    SRC_STATE *src_out;        /* graph rate -> device rate, pulls graph blocks */
    SRC_STATE *src_in;         /* device rate -> graph rate, into in_fifo */
    float *in_fifo;            /* graph-rate captured input, in_ch channels */
    long fifo_size, fifo_read, fifo_fill;
    float *dev_tmp;            /* one device callback of output, out_ch channels */
    float *src_tmp;            /* one device callback of input at the graph rate */
    long src_tmp_frames;
    float *dev_tmp_in;         /* one device callback of input, in_ch channels */
    block_tally *tally;        /* the running callback's, for pull_graph_block */

    /* virtual device */
    int is_virtual;
    pthread_t timer;
    int timer_started;
    int timer_rt;
    atomic_int running;

    /* recorder */
    rtg_audio_file *rec;
    char rec_path[512];
    float *pool;      /* n_blocks x frames x out_ch */
    int n_blocks;
    ck_ring_t full, empty;
    struct rec_block *full_buf, *empty_buf;
    pthread_t writer;
    int writer_started;
    atomic_int writer_stop;
    int rec_failed;
    rtg_error rec_err;

    /* stats */
    atomic_uint_fast64_t callbacks, nonfinite, dropped, late;
    atomic_uint peak_bits;
};

/* ---- start-up noise ---- */

#ifdef RTG_HAVE_ALSA
static void alsa_quiet(const char *file, int line, const char *fn, int err, const char *fmt, ...)
{
    (void)file, (void)line, (void)fn, (void)err, (void)fmt;
}
#endif
#ifdef RTG_HAVE_JACK
static void jack_quiet(const char *msg)
{
    (void)msg;
}
#endif

/* PortAudio probes every backend on Pa_Initialize; on a machine without
 * a card ALSA and JACK print pages of errors that mean nothing to the
 * user. They also must not start a JACK server on their own. */
static int pa_up(rtg_error *err)
{
#ifdef RTG_HAVE_ALSA
    snd_lib_error_set_handler(alsa_quiet);
#endif
#ifdef RTG_HAVE_JACK
    jack_set_error_function(jack_quiet);
    jack_set_info_function(jack_quiet);
#endif
    setenv("JACK_NO_START_SERVER", "1", 0);
    PaError e = Pa_Initialize();
    if (e != paNoError)
        return rtg_error_set(err, RTG_EIO, "PortAudio: %s", Pa_GetErrorText(e));
    return RTG_OK;
}

/* ---- the audio thread ---- */

static void count(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static void record(rtg_audio_device *d, const float *y, int n)
{
    struct rec_block b;
    if (!RTG_RING_GET(&d->empty, ck_ring_dequeue_spsc_rec(&d->empty, d->empty_buf, &b))) {
        count(&d->dropped, (uint64_t)n);
        return;
    }
    memcpy(d->pool + (size_t)b.index * (size_t)d->frames * (size_t)d->out_ch, y,
           sizeof(float) * (size_t)n * (size_t)d->out_ch);
    b.frames = n;
    RTG_RING_PUT(&d->full, ck_ring_enqueue_spsc_rec(&d->full, d->full_buf, &b));
}

static void fill_input(rtg_audio_device *d, const float *dev_in, int n)
{
    const int ch = d->in_ch;
    if (d->file) {
        for (int t = 0; t < n;) {
            long left = d->file_frames - d->file_pos;
            int m = n - t < left ? n - t : (int)left;
            memcpy(d->in_buf + (size_t)t * ch, d->file + (size_t)d->file_pos * ch,
                   sizeof(float) * (size_t)m * (size_t)ch);
            t += m;
            d->file_pos = (d->file_pos + m) % d->file_frames;
        }
    } else if (d->in_fifo) {
        for (int t = 0; t < n; t++) { /* an empty FIFO (start-up only) reads as silence */
            for (int c = 0; c < ch; c++)
                d->in_buf[t * ch + c] = d->fifo_fill ? d->in_fifo[d->fifo_read * ch + c] : 0.0f;
            if (d->fifo_fill) {
                d->fifo_read = (d->fifo_read + 1) % d->fifo_size;
                d->fifo_fill--;
            }
        }
    } else if (dev_in) {
        for (int t = 0; t < n; t++)
            for (int c = 0; c < ch; c++)
                d->in_buf[t * ch + c] = dev_in[t * d->dev_in_ch + c % d->dev_in_ch];
    } else {
        memset(d->in_buf, 0, sizeof(float) * (size_t)n * (size_t)ch);
    }
}

/* One graph block of n <= d->frames frames into d->out_buf: input, the
 * owner's callback, the finite check, the recorder. Returns its peak. */
static float graph_block(rtg_audio_device *d, const float *dev_in, int n, uint64_t *bad)
{
    fill_input(d, dev_in, n);
    d->callback(d->user, d->in_buf, d->out_buf, n);
    float peak = 0;
    for (int i = 0; i < n * d->out_ch; i++) {
        float v = d->out_buf[i];
        if (!isfinite(v)) {
            (*bad)++;
            d->out_buf[i] = 0; /* never send NaN or inf to a speaker */
        } else if (fabsf(v) > peak) {
            peak = fabsf(v);
        }
    }
    if (d->rec)
        record(d, d->out_buf, n);
    return peak;
}

/* Output channel c of the device plays graph channel c mod out_ch (a mono
 * graph plays on every channel). */
static void to_device(const rtg_audio_device *d, const float *y, float *dev_out, long frames)
{
    const int oc = d->out_ch, dc = d->dev_out_ch;
    for (long t = 0; t < frames; t++)
        for (int c = 0; c < dc; c++)
            dev_out[t * dc + c] = y[t * oc + c % oc];
}

/* libsamplerate pulls graph-rate output through this, one graph block at
 * a time, from inside src_callback_read on the audio thread. */
static long pull_graph_block(void *arg, float **data)
{
    rtg_audio_device *d = arg;
    float p = graph_block(d, NULL, d->frames, &d->tally->bad);
    if (p > d->tally->peak)
        d->tally->peak = p;
    *data = d->out_buf;
    return d->frames;
}

/* Captured input at the device rate into the graph-rate FIFO. */
static void capture_resampled(rtg_audio_device *d, const float *dev_in, long frames)
{
    const int ch = d->in_ch;
    float *in = d->dev_tmp_in;
    for (long t = 0; t < frames; t++)
        for (int c = 0; c < ch; c++)
            in[t * ch + c] = dev_in[t * d->dev_in_ch + c % d->dev_in_ch];
    SRC_DATA s = {.data_in = in, .input_frames = frames, .data_out = d->src_tmp,
                  .output_frames = d->src_tmp_frames, .src_ratio = d->rate / d->dev_rate};
    if (src_process(d->src_in, &s))
        return;
    for (long t = 0; t < s.output_frames_gen && d->fifo_fill < d->fifo_size; t++) {
        long w = (d->fifo_read + d->fifo_fill) % d->fifo_size;
        memcpy(d->in_fifo + w * ch, d->src_tmp + t * ch, sizeof(float) * (size_t)ch);
        d->fifo_fill++;
    }
}

/* One device callback of `frames` device frames. */
static void run_device_block(rtg_audio_device *d, const float *dev_in, float *dev_out, int frames)
{
    if (d->enter)
        d->enter();
    block_tally tally = {0, 0};
    if (d->src_out) {
        d->tally = &tally;
        for (int done = 0; done < frames;) {
            int n = frames - done < d->dev_frames ? frames - done : d->dev_frames;
            if (dev_in && d->src_in)
                capture_resampled(d, dev_in + (size_t)done * d->dev_in_ch, n);
            long got = src_callback_read(d->src_out, d->dev_rate / d->rate, n, d->dev_tmp);
            if (got < n) /* cannot happen with a steady source; never leave garbage */
                memset(d->dev_tmp + got * d->out_ch, 0,
                       sizeof(float) * (size_t)(n - got) * (size_t)d->out_ch);
            if (dev_out)
                to_device(d, d->dev_tmp, dev_out + (size_t)done * d->dev_out_ch, n);
            done += n;
        }
    } else {
        for (int done = 0; done < frames;) {
            int n = frames - done < d->frames ? frames - done : d->frames;
            float p = graph_block(d, dev_in ? dev_in + (size_t)done * d->dev_in_ch : NULL, n, &tally.bad);
            if (p > tally.peak)
                tally.peak = p;
            if (dev_out)
                to_device(d, d->out_buf, dev_out + (size_t)done * d->dev_out_ch, n);
            done += n;
        }
    }
    count(&d->callbacks, 1);
    if (tally.bad)
        count(&d->nonfinite, tally.bad);
    unsigned bits;
    memcpy(&bits, &tally.peak, sizeof bits); /* positive floats order as their bits do */
    if (bits > atomic_load_explicit(&d->peak_bits, memory_order_relaxed))
        atomic_store_explicit(&d->peak_bits, bits, memory_order_relaxed);
    if (d->leave)
        d->leave();
}

static int pa_callback(const void *in, void *out, unsigned long frames,
                       const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *user)
{
    (void)ti;
    rtg_audio_device *d = user;
    if ((flags & (paInputUnderflow | paInputOverflow | paOutputUnderflow | paOutputOverflow)) &&
        d->on_xrun)
        d->on_xrun(d->user, 1);
    run_device_block(d, in, out, (int)frames);
    return paContinue;
}

static struct timespec ts_of(int64_t ns)
{
    return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

/* The virtual device: a block every frames/rate seconds, to absolute
 * deadlines so the rate does not drift. Missing a deadline by more than a
 * block is what an xrun is on real hardware: the periods the delay
 * swallowed are lost, one xrun each, and skipped on the same grid of
 * deadlines instead of bursting to catch up. So callbacks + xruns is what
 * the elapsed time gave, to within one period. */
static void *timer_main(void *arg)
{
    rtg_audio_device *d = arg;
    const double period = (double)d->dev_frames / d->dev_rate * 1e9;
    int64_t t0 = rtg_rt_now_ns();
    for (long k = 1; atomic_load_explicit(&d->running, memory_order_relaxed); k++) {
        int64_t deadline = t0 + (int64_t)llround((double)k * period);
        struct timespec ts = ts_of(deadline);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        int64_t late = rtg_rt_now_ns() - deadline;
        if (late > (int64_t)period) {
            const int64_t lost = late / (int64_t)period;
            count(&d->late, 1);
            if (d->on_xrun)
                d->on_xrun(d->user, lost > INT32_MAX ? INT32_MAX : (int)lost);
            k += lost; /* the next deadline is the first still ahead */
        }
        run_device_block(d, NULL, NULL, d->dev_frames);
    }
    return NULL;
}

/* ---- the recorder thread ---- */

static void *writer_main(void *arg)
{
    rtg_audio_device *d = arg;
    const struct timespec tick = {0, 5 * 1000 * 1000};
    for (;;) {
        int stop = atomic_load(&d->writer_stop);
        struct rec_block b;
        while (RTG_RING_GET(&d->full, ck_ring_dequeue_spsc_rec(&d->full, d->full_buf, &b))) {
            const float *y = d->pool + (size_t)b.index * (size_t)d->frames * (size_t)d->out_ch;
            if (!d->rec_failed && rtg_audio_write(d->rec, y, b.frames, &d->rec_err))
                d->rec_failed = 1;
            RTG_RING_PUT(&d->empty, ck_ring_enqueue_spsc_rec(&d->empty, d->empty_buf, &b));
        }
        if (stop)
            return NULL;
        clock_nanosleep(CLOCK_MONOTONIC, 0, &tick, NULL);
    }
}

static unsigned pow2_above(unsigned n)
{
    unsigned p = 2;
    while (p <= n)
        p <<= 1;
    return p;
}

static int recorder_open(rtg_audio_device *d, const char *path, rtg_error *err)
{
    /* Two seconds of blocks: the writer can stall that long on a slow disk. */
    d->n_blocks = (int)(2.0 * d->rate / d->frames) + 8;
    unsigned ring = pow2_above((unsigned)d->n_blocks);
    d->pool = calloc((size_t)d->n_blocks * (size_t)d->frames * (size_t)d->out_ch, sizeof(float));
    d->full_buf = calloc(ring, sizeof *d->full_buf);
    d->empty_buf = calloc(ring, sizeof *d->empty_buf);
    if (!d->pool || !d->full_buf || !d->empty_buf)
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    ck_ring_init(&d->full, ring);
    ck_ring_init(&d->empty, ring);
    for (int i = 0; i < d->n_blocks; i++) {
        struct rec_block b = {i, 0};
        ck_ring_enqueue_spsc_rec(&d->empty, d->empty_buf, &b);
    }
    snprintf(d->rec_path, sizeof d->rec_path, "%s", path);
    return rtg_audio_open_write(path, d->out_ch, (int)lround(d->rate), &d->rec, NULL, 0, err);
}

/* ---- the input file ---- */

static int load_input(rtg_audio_device *d, const char *path, char *notice, size_t notice_size,
                      rtg_error *err)
{
    float *data = NULL;
    rtg_audio_info info;
    if (rtg_audio_read_all(path, &data, &info, err))
        return RTG_EIO;
    if (info.frames < 1) {
        free(data);
        return rtg_error_set(err, RTG_EINVAL, "%s: no audio in the file", path);
    }
    if (info.channels != d->in_ch && info.channels != 1) {
        free(data);
        return rtg_error_set(err, RTG_EINVAL,
                             "%s has %d channels but the graph takes %d (or a mono file, which "
                             "feeds every input)", path, info.channels, d->in_ch);
    }
    long frames = info.frames;
    if (info.sample_rate != (int)lround(d->rate)) {
        double ratio = d->rate / info.sample_rate;
        long out_frames = (long)ceil((double)frames * ratio) + 16;
        float *conv = malloc(sizeof(float) * (size_t)out_frames * (size_t)info.channels);
        SRC_DATA s = {.data_in = data, .data_out = conv, .input_frames = frames,
                      .output_frames = out_frames, .src_ratio = ratio};
        int e = conv ? src_simple(&s, SRC_SINC_MEDIUM_QUALITY, info.channels) : -1;
        free(data);
        if (e) {
            free(conv);
            return rtg_error_set(err, RTG_EIO, "%s: cannot resample from %d Hz: %s", path,
                                 info.sample_rate, e < 0 ? "out of memory" : src_strerror(e));
        }
        data = conv;
        frames = s.output_frames_gen;
        size_t at = strlen(notice ? notice : "");
        if (notice && at < notice_size)
            snprintf(notice + at, notice_size - at, "%s is at %d Hz: resampled to %.0f Hz\n", path,
                     info.sample_rate, d->rate);
    }
    d->file = malloc(sizeof(float) * (size_t)frames * (size_t)d->in_ch);
    if (!d->file) {
        free(data);
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    }
    for (long t = 0; t < frames; t++)
        for (int c = 0; c < d->in_ch; c++)
            d->file[t * d->in_ch + c] = data[t * info.channels + (info.channels == 1 ? 0 : c)];
    free(data);
    d->file_frames = frames;
    return RTG_OK;
}

/* ---- resampling at the I/O boundary ---- */

#define SRC_TYPE SRC_SINC_FASTEST /* still 97 dB; the cheapest sinc for the audio thread */

/* The delay (seconds) a converter of this type adds going from rate a to
 * rate b: an impulse through it, offline, and where it comes out. */
static double converter_delay(double a, double b)
{
    enum { N = 8192, AT = 256 };
    float *x = calloc(N, sizeof *x), *y = calloc(2 * N * 8, sizeof *y);
    double delay = 0;
    if (x && y) {
        x[AT] = 1;
        SRC_DATA s = {.data_in = x, .data_out = y, .input_frames = N, .output_frames = 2 * N * 8,
                      .src_ratio = b / a};
        if (!src_simple(&s, SRC_TYPE, 1)) {
            long peak = 0;
            for (long i = 1; i < s.output_frames_gen; i++)
                if (fabsf(y[i]) > fabsf(y[peak]))
                    peak = i;
            delay = (double)peak / b - (double)AT / a;
        }
    }
    free(x);
    free(y);
    return delay > 0 ? delay : 0;
}

/* Converters and buffers for a device at d->dev_rate; `capture`: input
 * comes from the device too. Says what it adds in `notice`. */
static int resampler_open(rtg_audio_device *d, int capture, char *notice, size_t notice_size,
                          rtg_error *err)
{
    int e = 0;
    d->src_out = src_callback_new(pull_graph_block, SRC_TYPE, d->out_ch, &e, d);
    d->dev_tmp = calloc((size_t)d->dev_frames * (size_t)d->out_ch, sizeof(float));
    if (!d->src_out || !d->dev_tmp)
        return rtg_error_set(err, RTG_ENOMEM, "cannot set up resampling: %s",
                             e ? src_strerror(e) : "out of memory");
    double latency = converter_delay(d->rate, d->dev_rate) + d->frames / d->rate;
    if (capture) {
        d->src_in = src_new(SRC_TYPE, d->in_ch, &e);
        d->src_tmp_frames = (long)ceil(d->dev_frames * d->rate / d->dev_rate) + 16;
        d->src_tmp = calloc((size_t)d->src_tmp_frames * (size_t)d->in_ch, sizeof(float));
        d->dev_tmp_in = calloc((size_t)d->dev_frames * (size_t)d->in_ch, sizeof(float));
        d->fifo_size = 4 * ((long)d->frames + d->src_tmp_frames);
        d->in_fifo = calloc((size_t)d->fifo_size * (size_t)d->in_ch, sizeof(float));
        if (!d->src_in || !d->src_tmp || !d->dev_tmp_in || !d->in_fifo)
            return rtg_error_set(err, RTG_ENOMEM, "cannot set up resampling: %s",
                                 e ? src_strerror(e) : "out of memory");
        /* A block of silence ahead, so the graph never waits for input that
         * the device delivers at its own pace. */
        d->fifo_fill = d->frames;
        latency += converter_delay(d->dev_rate, d->rate) + d->frames / d->rate;
    }
    char line[256];
    snprintf(line, sizeof line,
             "the device runs at %.0f Hz, the graph at %.0f Hz: resampling at the I/O boundary "
             "(libsamplerate), adding about %.1f ms of latency",
             d->dev_rate, d->rate, latency * 1e3);
    size_t at = notice ? strlen(notice) : 0;
    if (notice && at < notice_size)
        snprintf(notice + at, notice_size - at, "%s\n", line);
    return RTG_OK;
}

/* ---- PortAudio ---- */

static PaHostApiIndex find_host_api(const char *name, rtg_error *err)
{
    int n = Pa_GetHostApiCount();
    for (int i = 0; i < n; i++)
        if (!strncasecmp(Pa_GetHostApiInfo(i)->name, name, strlen(name)))
            return i;
    char list[256] = "";
    size_t at = 0;
    for (int i = 0; i < n && at < sizeof list; i++)
        at += (size_t)snprintf(list + at, sizeof list - at, "%s'%s'", i ? ", " : "",
                               Pa_GetHostApiInfo(i)->name);
    rtg_error_set(err, RTG_EINVAL, "no host API '%s' (there are: %s)", name, n ? list : "none");
    return -1;
}

/* --device as an index or a name substring, within `api` if >= 0. */
static PaDeviceIndex find_device(const char *spec, PaHostApiIndex api, rtg_error *err)
{
    char *end;
    long idx = strtol(spec, &end, 10);
    int n = Pa_GetDeviceCount();
    if (*spec && !*end) {
        if (idx < 0 || idx >= n) {
            rtg_error_set(err, RTG_EINVAL, "no device %ld ('rtgraph devices' lists %d)", idx, n);
            return paNoDevice;
        }
        return (PaDeviceIndex)idx;
    }
    for (int i = 0; i < n; i++) {
        const PaDeviceInfo *di = Pa_GetDeviceInfo(i);
        if ((api < 0 || di->hostApi == api) && strcasestr(di->name, spec))
            return i;
    }
    rtg_error_set(err, RTG_EINVAL, "no device matching '%s' (see 'rtgraph devices')", spec);
    return paNoDevice;
}

static int pa_open(rtg_audio_device *d, const rtg_audio_device_config *cfg, char *notice,
                   size_t notice_size, rtg_error *err)
{
    PaHostApiIndex api = -1;
    if (cfg->host_api && (api = find_host_api(cfg->host_api, err)) < 0)
        return RTG_EINVAL;
    PaDeviceIndex out_dev, in_dev = paNoDevice;
    if (cfg->device) {
        if ((out_dev = find_device(cfg->device, api, err)) == paNoDevice)
            return RTG_EINVAL;
        in_dev = out_dev;
    } else if (api >= 0) {
        out_dev = Pa_GetHostApiInfo(api)->defaultOutputDevice;
        in_dev = Pa_GetHostApiInfo(api)->defaultInputDevice;
    } else {
        out_dev = Pa_GetDefaultOutputDevice();
        in_dev = Pa_GetDefaultInputDevice();
    }
    if (out_dev == paNoDevice)
        return rtg_error_set(err, RTG_EIO, "PortAudio found no output device");
    const PaDeviceInfo *oi = Pa_GetDeviceInfo(out_dev);
    if (oi->maxOutputChannels < d->out_ch)
        return rtg_error_set(err, RTG_EINVAL, "device '%s' has %d output channels, the graph gives %d",
                             oi->name, oi->maxOutputChannels, d->out_ch);
    d->dev_out_ch = d->out_ch > 2 ? d->out_ch : (oi->maxOutputChannels < 2 ? oi->maxOutputChannels : 2);
    PaStreamParameters op = {.device = out_dev, .channelCount = d->dev_out_ch,
                             .sampleFormat = paFloat32,
                             .suggestedLatency = oi->defaultLowOutputLatency};
    PaStreamParameters ip, *ipp = NULL;
    const PaDeviceInfo *ii = NULL;
    if (!d->file) {
        ii = in_dev == paNoDevice ? NULL : Pa_GetDeviceInfo(in_dev);
        if (!ii || ii->maxInputChannels < 1)
            return rtg_error_set(err, RTG_EINVAL, "no input device to capture from (use --input FILE)");
        d->dev_in_ch = ii->maxInputChannels < d->in_ch ? ii->maxInputChannels : d->in_ch;
        ip = (PaStreamParameters){.device = in_dev, .channelCount = d->dev_in_ch,
                                  .sampleFormat = paFloat32,
                                  .suggestedLatency = ii->defaultLowInputLatency};
        ipp = &ip;
    }
    PaError e = Pa_IsFormatSupported(ipp, &op, d->dev_rate);
    if (e != paNoError && d->dev_rate == d->rate && oi->defaultSampleRate != d->rate) {
        /* The hardware's own rate, with resampling at the boundary. */
        d->dev_rate = oi->defaultSampleRate;
        e = Pa_IsFormatSupported(ipp, &op, d->dev_rate);
    }
    if (e != paNoError)
        return rtg_error_set(err, RTG_ENOTSUP, "device '%s' cannot run at %.0f Hz: %s", oi->name,
                             d->dev_rate, Pa_GetErrorText(e));
    d->dev_frames = (int)lround(d->frames * d->dev_rate / d->rate);
    e = Pa_OpenStream(&d->stream, ipp, &op, d->dev_rate, (unsigned long)d->dev_frames,
                      paClipOff | paDitherOff, pa_callback, d);
    if (e != paNoError)
        return rtg_error_set(err, RTG_EIO, "cannot open '%s': %s", oi->name, Pa_GetErrorText(e));
    const PaStreamInfo *si = Pa_GetStreamInfo(d->stream);
    snprintf(d->desc, sizeof d->desc,
             "%s: %s%s%s, %.0f Hz, %d frames, %d in / %d out channel%s, latency %.1f ms in / %.1f ms out",
             Pa_GetHostApiInfo(oi->hostApi)->name, oi->name, ii && in_dev != out_dev ? " + " : "",
             ii && in_dev != out_dev ? ii->name : "", d->dev_rate, d->dev_frames, ipp ? d->dev_in_ch : 0,
             d->dev_out_ch, d->dev_out_ch == 1 ? "" : "s", si ? si->inputLatency * 1e3 : 0.0,
             si ? si->outputLatency * 1e3 : 0.0);
    if (d->dev_rate != d->rate)
        return resampler_open(d, ipp != NULL, notice, notice_size, err);
    return RTG_OK;
}

/* ---- the device ---- */

static void append(char *notice, size_t size, const char *line)
{
    if (!notice)
        return;
    size_t at = strlen(notice);
    if (at < size)
        snprintf(notice + at, size - at, "%s\n", line);
}

int rtg_audio_device_open(const rtg_audio_device_config *cfg, rtg_audio_device **out,
                          char *notice, size_t notice_size, rtg_error *err)
{
    *out = NULL;
    if (notice && notice_size)
        notice[0] = 0;
    if (!cfg->callback || cfg->in_ch < 1 || cfg->out_ch < 1 || !(cfg->sample_rate > 0) ||
        cfg->frames < 0 || cfg->frames > 65536)
        return rtg_error_set(err, RTG_EINVAL, "bad audio device config");
    rtg_audio_device *d = calloc(1, sizeof *d);
    if (!d)
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    d->callback = cfg->callback;
    d->on_xrun = cfg->on_xrun;
    d->enter = cfg->enter;
    d->leave = cfg->leave;
    d->user = cfg->user;
    d->rate = cfg->sample_rate;
    d->frames = cfg->frames ? cfg->frames : DEFAULT_FRAMES;
    d->in_ch = cfg->in_ch;
    d->out_ch = cfg->out_ch;
    d->dev_rate = cfg->device_rate > 0 ? cfg->device_rate : d->rate;
    d->dev_frames = (int)lround(d->frames * d->dev_rate / d->rate);
    atomic_init(&d->running, 0);
    atomic_init(&d->writer_stop, 0);
    d->in_buf = calloc((size_t)d->frames * (size_t)d->in_ch, sizeof(float));
    d->out_buf = calloc((size_t)d->frames * (size_t)d->out_ch, sizeof(float));
    int rc = d->in_buf && d->out_buf ? RTG_OK : rtg_error_set(err, RTG_ENOMEM, "out of memory");
    if (!rc && cfg->input_file)
        rc = load_input(d, cfg->input_file, notice, notice_size, err);
    const char *rec_path = cfg->output_file;
    if (!rc && !cfg->output_file && !cfg->force_virtual) {
        rtg_error pa_err;
        int explicit_device = cfg->host_api || cfg->device;
        rc = pa_up(&pa_err);
        d->pa_up = rc == RTG_OK;
        if (!rc)
            rc = pa_open(d, cfg, notice, notice_size, &pa_err);
        if (rc && explicit_device) {
            *err = pa_err;
        } else if (rc || !d->stream) {
            char line[RTG_ERROR_MAX + 160];
            snprintf(line, sizeof line,
                     "no audio device (%s): running on a virtual device paced by a timer, "
                     "writing what it would play to %s", pa_err.msg, VIRTUAL_OUTPUT);
            append(notice, notice_size, line);
            rec_path = VIRTUAL_OUTPUT;
            rc = RTG_OK;
        }
    }
    if (!rc && !d->stream) {
        d->is_virtual = 1;
        if (!d->file)
            append(notice, notice_size, "the virtual device captures nothing: the graph hears "
                                        "silence (play a file with --input FILE)");
        if (!rec_path)
            rec_path = VIRTUAL_OUTPUT;
        rc = recorder_open(d, rec_path, err);
        if (!rc && d->dev_rate != d->rate)
            rc = resampler_open(d, 0, notice, notice_size, err);
        if (!rc)
            snprintf(d->desc, sizeof d->desc, "virtual device (timer-paced), %.0f Hz, %d frames, writing %s",
                     d->dev_rate, d->dev_frames, rec_path);
    }
    if (rc) {
        rtg_audio_device_close(d);
        return rc;
    }
    *out = d;
    return RTG_OK;
}

int rtg_audio_device_start(rtg_audio_device *d, rtg_error *err)
{
    if (d->rec) {
        int rc = pthread_create(&d->writer, NULL, writer_main, d);
        if (rc)
            return rtg_error_set(err, RTG_ENOMEM, "cannot start the recorder thread: %s", strerror(rc));
        d->writer_started = 1;
    }
    if (d->stream) {
        PaError e = Pa_StartStream(d->stream);
        if (e != paNoError)
            return rtg_error_set(err, RTG_EIO, "cannot start the stream: %s", Pa_GetErrorText(e));
        return RTG_OK;
    }
    atomic_store(&d->running, 1);
    /* SCHED_FIFO from birth if allowed; else an ordinary thread (the
     * caller says so once, from rtg_rt_promote_self's reasoning). */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    struct sched_param sp = {.sched_priority = TIMER_PRIORITY};
    pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
    pthread_attr_setschedparam(&attr, &sp);
    int rc = pthread_create(&d->timer, &attr, timer_main, d);
    pthread_attr_destroy(&attr);
    d->timer_rt = rc == 0;
    if (rc == EPERM)
        rc = pthread_create(&d->timer, NULL, timer_main, d);
    if (rc) {
        atomic_store(&d->running, 0);
        return rtg_error_set(err, RTG_ENOMEM, "cannot start the virtual device: %s", strerror(rc));
    }
    d->timer_started = 1;
    return RTG_OK;
}

int rtg_audio_device_stop(rtg_audio_device *d, rtg_error *err)
{
    if (d->stream && Pa_IsStreamActive(d->stream) == 1)
        Pa_StopStream(d->stream);
    if (d->timer_started) {
        atomic_store(&d->running, 0);
        pthread_join(d->timer, NULL);
        d->timer_started = 0;
    }
    if (d->writer_started) {
        atomic_store(&d->writer_stop, 1);
        pthread_join(d->writer, NULL);
        d->writer_started = 0;
    }
    if (d->rec) {
        int rc = d->rec_failed ? (*err = d->rec_err, RTG_EIO) : rtg_audio_commit(d->rec, err);
        rtg_audio_close(d->rec);
        d->rec = NULL;
        return rc;
    }
    return RTG_OK;
}

void rtg_audio_device_close(rtg_audio_device *d)
{
    if (!d)
        return;
    rtg_error ignored;
    rtg_audio_device_stop(d, &ignored);
    if (d->stream)
        Pa_CloseStream(d->stream);
    if (d->pa_up)
        Pa_Terminate();
    free(d->in_buf);
    free(d->out_buf);
    free(d->file);
    if (d->src_out)
        src_delete(d->src_out);
    if (d->src_in)
        src_delete(d->src_in);
    free(d->dev_tmp);
    free(d->dev_tmp_in);
    free(d->src_tmp);
    free(d->in_fifo);
    free(d->pool);
    free(d->full_buf);
    free(d->empty_buf);
    free(d);
}

const char *rtg_audio_device_describe(const rtg_audio_device *d)
{
    return d->desc;
}

int rtg_audio_device_is_virtual(const rtg_audio_device *d)
{
    return d->is_virtual;
}

int rtg_audio_device_is_realtime(const rtg_audio_device *d)
{
    return d->is_virtual ? d->timer_rt : -1;
}

void rtg_audio_device_get_stats(const rtg_audio_device *d, rtg_audio_device_stats *s)
{
    s->callbacks = atomic_load(&d->callbacks);
    s->nonfinite = atomic_load(&d->nonfinite);
    s->dropped_frames = atomic_load(&d->dropped);
    s->late_wakeups = atomic_load(&d->late);
    unsigned bits = atomic_load(&d->peak_bits);
    float peak;
    memcpy(&peak, &bits, sizeof peak);
    s->peak = peak;
}

int rtg_audio_list_devices(FILE *f, rtg_error *err)
{
    int rc = pa_up(err);
    if (rc)
        return rc;
    int na = Pa_GetHostApiCount(), nd = Pa_GetDeviceCount();
    fprintf(f, "host APIs:\n");
    for (int i = 0; i < na; i++) {
        const PaHostApiInfo *a = Pa_GetHostApiInfo(i);
        fprintf(f, "  %-28s %d device%s%s\n", a->name, a->deviceCount, a->deviceCount == 1 ? "" : "s",
                i == Pa_GetDefaultHostApi() ? "  (default)" : "");
    }
    fprintf(f, "devices:\n");
    if (nd <= 0)
        fprintf(f, "  none (rtgraph run will use its virtual device)\n");
    for (int i = 0; i < nd; i++) {
        const PaDeviceInfo *di = Pa_GetDeviceInfo(i);
        fprintf(f, "  %2d  %-32s %-26s in %-3d out %-3d %6.0f Hz  latency %.1f ms%s%s\n", i,
                di->name, Pa_GetHostApiInfo(di->hostApi)->name, di->maxInputChannels,
                di->maxOutputChannels, di->defaultSampleRate, di->defaultLowOutputLatency * 1e3,
                i == Pa_GetDefaultInputDevice() ? "  default-in" : "",
                i == Pa_GetDefaultOutputDevice() ? "  default-out" : "");
    }
    Pa_Terminate();
    return RTG_OK;
}
