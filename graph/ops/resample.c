/* resample.c — runs an inner process (a model trained at another rate)
 * inside a signal at the graph's rate: libsamplerate converts the input to
 * the inner rate, the inner process runs on whatever that gave, and a second
 * converter brings its output back through a FIFO primed with a fixed
 * latency, so every block comes out full whatever its size (see rtg_ops.h). */
#include <math.h>
#include <samplerate.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_ops.h"

/* Medium sinc: 121 dB SNR over 90% of the band, about 2 ms of latency for
 * 44.1 <-> 48 kHz. The fastest sinc halves the latency but passes only 80%
 * of the band; the best triples it. */
#define RESAMPLE_CONVERTER SRC_SINC_MEDIUM_QUALITY
/* Frames past the measured worst case: the measurement sees every phase of
 * usual ratios, the margin covers the rest (and float rounding in the
 * converters' position over hours). */
#define LATENCY_MARGIN 2
/* Each round of process converts what the inner buffer holds; sized at
 * build so one round takes the whole block, the bound only keeps the loop
 * finite. */
#define MAX_ROUNDS 8

struct rtg_resampler {
    SRC_STATE *to_inner, *to_outer;
    double ratio_in, ratio_out; /* inner/outer, outer/inner */
    int in_ch, out_ch, max_block, inner_block;
    int latency;
    float *inner_in;  /* inner_block x in_ch */
    float *inner_out; /* inner_block x out_ch */
    float *fifo;      /* fifo_cap x out_ch: outer-rate output waiting */
    int fifo_len, fifo_cap;
    unsigned long shortfalls; /* frames output as silence: never, by design */
};

/* Converts what the inner process made back to the outer rate, appending to
 * the FIFO. Thread: audio. */
static void convert_back(rtg_resampler *r, int n)
{
    SRC_DATA d = {
        .data_in = r->inner_out,
        .input_frames = n,
        .data_out = r->fifo + (size_t)r->fifo_len * (size_t)r->out_ch,
        .output_frames = r->fifo_cap - r->fifo_len,
        .src_ratio = r->ratio_out,
    };
    if (src_process(r->to_outer, &d) == 0)
        r->fifo_len += (int)d.output_frames_gen;
}

void rtg_resampler_process(rtg_resampler *r, const float *in, float *out, int frames,
                           rtg_resample_inner_fn inner, void *ctx)
{
    const float *x = in;
    long left = frames;
    for (int round = 0; left > 0 && round < MAX_ROUNDS; round++) {
        SRC_DATA d = {
            .data_in = x,
            .input_frames = left,
            .data_out = r->inner_in,
            .output_frames = r->inner_block,
            .src_ratio = r->ratio_in,
        };
        if (src_process(r->to_inner, &d) != 0)
            break;
        x += d.input_frames_used * r->in_ch;
        left -= d.input_frames_used;
        if (d.output_frames_gen > 0) {
            inner(ctx, r->inner_in, r->inner_out, (int)d.output_frames_gen);
            convert_back(r, (int)d.output_frames_gen);
        } else if (d.input_frames_used == 0) {
            break;
        }
    }
    const int ch = r->out_ch;
    const int n = frames < r->fifo_len ? frames : r->fifo_len;
    memcpy(out, r->fifo, sizeof(float) * (size_t)n * (size_t)ch);
    if (n < frames) { /* the latency was measured so this never happens */
        memset(out + (size_t)n * ch, 0, sizeof(float) * (size_t)(frames - n) * (size_t)ch);
        r->shortfalls += (unsigned long)(frames - n);
    }
    r->fifo_len -= n;
    memmove(r->fifo, r->fifo + (size_t)n * ch, sizeof(float) * (size_t)r->fifo_len * (size_t)ch);
}

void rtg_resampler_reset(rtg_resampler *r)
{
    src_reset(r->to_inner);
    src_reset(r->to_outer);
    r->fifo_len = r->latency;
    memset(r->fifo, 0, sizeof(float) * (size_t)r->latency * (size_t)r->out_ch);
}

int rtg_resampler_latency(const rtg_resampler *r) { return r->latency; }
int rtg_resampler_inner_block(const rtg_resampler *r) { return r->inner_block; }
unsigned long rtg_resampler_shortfalls(const rtg_resampler *r) { return r->shortfalls; }

/* The inner process of the latency measurement: silence in, silence out. */
static void silent_inner(void *ctx, const float *in, float *out, int frames)
{
    const rtg_resampler *r = ctx;
    memset(out, 0, sizeof(float) * (size_t)frames * (size_t)r->out_ch);
}

/* How far the output runs behind the input at worst: both converters emit
 * an output frame only once they hold the filter's half length past it, so
 * after T input frames the FIFO has gained out(T) < T. The counts depend on
 * T alone (never on how the frames were split, as long as each call takes
 * all its input), so feeding frames one at a time, the finest split, and
 * taking the largest T - out(T) gives a latency that keeps every block full
 * for every split. Runs on the resampler's own converters, then resets.
 * Thread: non-real-time. */
static int measure_latency(rtg_resampler *r)
{
    float *zero = calloc((size_t)r->in_ch, sizeof *zero);
    if (!zero)
        return -1;
    /* steady state comes after the filters fill; a long run sees the
     * pattern of output counts repeat many times over */
    const long frames = 16384 + 2048L * (long)ceil(r->ratio_out);
    long made = 0, worst = 0;
    r->fifo_len = 0;
    for (long t = 1; t <= frames; t++) {
        SRC_DATA d = {.data_in = zero, .input_frames = 1, .data_out = r->inner_in,
                      .output_frames = r->inner_block, .src_ratio = r->ratio_in};
        if (src_process(r->to_inner, &d) != 0 || d.input_frames_used != 1) {
            free(zero);
            return -1;
        }
        if (d.output_frames_gen > 0) {
            silent_inner(r, r->inner_in, r->inner_out, (int)d.output_frames_gen);
            convert_back(r, (int)d.output_frames_gen);
        }
        made += r->fifo_len;
        r->fifo_len = 0;
        if (t - made > worst)
            worst = t - made;
    }
    free(zero);
    r->latency = (int)worst + LATENCY_MARGIN;
    return 0;
}

int rtg_resampler_new(double outer_rate, double inner_rate, int in_ch, int out_ch, int max_block,
                      rtg_resampler **out, rtg_error *err)
{
    *out = NULL;
    if (!(outer_rate > 0) || !(inner_rate > 0) || in_ch < 1 || out_ch < 1 || max_block < 1)
        return rtg_error_set(err, RTG_EINVAL, "bad resampler geometry");
    const double ratio = inner_rate / outer_rate;
    if (ratio > RTG_RESAMPLE_MAX_RATIO || ratio < 1.0 / RTG_RESAMPLE_MAX_RATIO)
        return rtg_error_set(err, RTG_EINVAL,
                             "%g Hz and %g Hz are too far apart to resample between (at most %dx)",
                             inner_rate, outer_rate, RTG_RESAMPLE_MAX_RATIO);
    rtg_resampler *r = calloc(1, sizeof *r);
    if (!r)
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    r->ratio_in = ratio;
    r->ratio_out = outer_rate / inner_rate;
    r->in_ch = in_ch;
    r->out_ch = out_ch;
    r->max_block = max_block;
    /* a block of N frames gives at most ceil(N x ratio) + 1 inner frames */
    r->inner_block = (int)ceil((double)max_block * ratio) + 16;
    int e1 = 0, e2 = 0;
    r->to_inner = src_new(RESAMPLE_CONVERTER, in_ch, &e1);
    r->to_outer = src_new(RESAMPLE_CONVERTER, out_ch, &e2);
    r->inner_in = malloc(sizeof(float) * (size_t)r->inner_block * (size_t)in_ch);
    r->inner_out = malloc(sizeof(float) * (size_t)r->inner_block * (size_t)out_ch);
    /* the measurement's FIFO only ever holds one call's output */
    r->fifo_cap = (int)ceil((double)r->inner_block * r->ratio_out) + 16;
    r->fifo = malloc(sizeof(float) * (size_t)r->fifo_cap * (size_t)out_ch);
    if (!r->to_inner || !r->to_outer) {
        int e = e1 ? e1 : e2;
        rtg_resampler_free(r);
        return rtg_error_set(err, RTG_ENOMEM, "libsamplerate: %s",
                             src_strerror(e) ? src_strerror(e) : "cannot make a converter");
    }
    if (!r->inner_in || !r->inner_out || !r->fifo || measure_latency(r)) {
        rtg_resampler_free(r);
        return rtg_error_set(err, RTG_ENOMEM, "out of memory measuring the resampler's latency");
    }
    /* After a pop the FIFO holds at most `latency` frames; one block adds
     * at most its length plus a frame of rounding. */
    free(r->fifo);
    r->fifo_cap = r->latency + max_block + (int)ceil((double)r->inner_block * r->ratio_out) + 16;
    r->fifo = malloc(sizeof(float) * (size_t)r->fifo_cap * (size_t)out_ch);
    if (!r->fifo) {
        rtg_resampler_free(r);
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    }
    rtg_resampler_reset(r);
    *out = r;
    return RTG_OK;
}

void rtg_resampler_free(rtg_resampler *r)
{
    if (!r)
        return;
    if (r->to_inner)
        src_delete(r->to_inner);
    if (r->to_outer)
        src_delete(r->to_outer);
    free(r->inner_in);
    free(r->inner_out);
    free(r->fifo);
    free(r);
}
