/* rtg_model_slot.c — a swappable model as one plan step running a nested
 * plan, with crossfaded swaps, resampling of models trained at another rate
 * and loudness normalisation (see rtg_model_slot.h). */
#include "rtg_model_slot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_nam.h"
#include "rtg_ops.h"

struct rtg_model_unit {
    rtg_plan *plan;        /* at the model's rate when rs is set */
    rtg_resampler *rs;     /* NULL: the model runs at the graph's rate */
    int in_ch, out_ch;
    int max_block;         /* graph-rate frames per call */
    double sample_rate;    /* the graph's */
    double model_rate;     /* what the model runs at */
    int has_loudness;
    float norm_gain;       /* what normalize scales by (1 without loudness) */
    double norm_db;
    char path[512];
};

struct rtg_model_slot {
    rtg_model_unit *cur;    /* playing; during a fade, the outgoing unit */
    rtg_model_unit *next;   /* fading in */
    rtg_model_unit *queued; /* waits for the running fade (and a collection) */
    rtg_model_unit *parked; /* faded out, waits for rtg_model_slot_collect */
    int queued_fade;
    int fade_len, fade_pos;
    int in_ch, out_ch, max_block;
    double sample_rate;
    rtg_model_slot_opts opts;
    float *mix;             /* max_block x out_ch: the incoming unit's output */
    char label[96];
};

/* What the builder copies for the slot's init: the model is read there. */
typedef struct slot_ctx {
    const rtg_model *model;
    int max_block;
    double sample_rate;
    rtg_model_slot_opts opts;
    char label[96];
} slot_ctx;

/* The rate `m` must run at inside a graph at `rate` when that differs, or 0:
 * its stated training rate. */
static double resample_rate(const rtg_model *m, double rate)
{
    return m->meta.sample_rate > 0 && m->meta.sample_rate != rate ? m->meta.sample_rate : 0;
}

static size_t slot_header_bytes(void)
{
    return (sizeof(rtg_model_slot) + RTG_ALIGN - 1) / RTG_ALIGN * RTG_ALIGN;
}

/* The model alone as a plan whose outputs are all the model's channels. */
static rtg_plan *build_nested(const rtg_model *m, int max_block, double sample_rate,
                              const char *label, rtg_error *err)
{
    rtg_plan_builder *b = rtg_plan_builder_new(max_block, m->in_ch, sample_rate);
    if (!b) {
        rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", label);
        return NULL;
    }
    int y = rtg_plan_add_model(b, m, rtg_plan_input(b), label, err);
    if (y < 0) {
        rtg_plan_builder_free(b);
        return NULL;
    }
    int *bufs = malloc(sizeof(int) * (size_t)m->out_ch), *chans = malloc(sizeof(int) * (size_t)m->out_ch);
    int rc = bufs && chans ? RTG_OK : rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", label);
    for (int k = 0; !rc && k < m->out_ch; k++) {
        bufs[k] = y;
        chans[k] = k;
    }
    if (!rc)
        rc = rtg_plan_set_outputs(b, m->out_ch, bufs, chans, err);
    free(bufs);
    free(chans);
    if (rc) {
        rtg_plan_builder_free(b);
        return NULL;
    }
    rtg_plan *p = rtg_plan_build(b, err);
    /* The host plan guards the slot step, so a model that goes non-finite
     * is muted and reset as one node (all its units) and counted there. */
    if (p)
        rtg_plan_set_guard(p, 0);
    return p;
}

static void run_nested(void *plan, const float *in, float *out, int frames)
{
    rtg_plan_process(plan, in, out, frames);
}

/* Runs unit `u` over one block, resampling around the model when it must,
 * and applies the normalize gain when `normalize`. Thread: audio. */
static void unit_run(rtg_model_unit *u, int normalize, const float *in, float *out, int frames)
{
    if (u->rs)
        rtg_resampler_process(u->rs, in, out, frames, run_nested, u->plan);
    else
        rtg_plan_process(u->plan, in, out, frames);
    if (!normalize || u->norm_gain == 1.0f)
        return;
    const size_t n = (size_t)frames * (size_t)u->out_ch;
    const float g = u->norm_gain;
    for (size_t i = 0; i < n; i++)
        out[i] *= g;
}

static void unit_reset(rtg_model_unit *u)
{
    rtg_plan_reset(u->plan);
    if (u->rs)
        rtg_resampler_reset(u->rs);
}

/* Silence through the whole resampling pipeline, so the FIFO holds the
 * settled model's output instead of the zeros it was primed with and the
 * converters are past their start: a unit swapped in then starts like a
 * running one. Four latencies cover both converters' filters. */
static int settle(rtg_model_unit *u, const char *label, rtg_error *err)
{
    float *zero = calloc((size_t)u->max_block * (size_t)u->in_ch, sizeof *zero);
    float *sink = malloc(sizeof(float) * (size_t)u->max_block * (size_t)u->out_ch);
    if (!zero || !sink) {
        free(zero);
        free(sink);
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", label);
    }
    for (long left = 4L * rtg_resampler_latency(u->rs) + 64; left > 0; left -= u->max_block)
        unit_run(u, 0, zero, sink, left < u->max_block ? (int)left : u->max_block);
    free(zero);
    free(sink);
    return RTG_OK;
}

static int unit_build(const rtg_model *m, int max_block, double sample_rate, const char *label,
                      rtg_model_unit **out, rtg_error *err)
{
    *out = NULL;
    rtg_model_unit *u = calloc(1, sizeof *u);
    if (!u)
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", label);
    u->in_ch = m->in_ch;
    u->out_ch = m->out_ch;
    u->max_block = max_block;
    u->sample_rate = sample_rate;
    u->model_rate = sample_rate;
    snprintf(u->path, sizeof u->path, "%s", m->path);
    u->has_loudness = m->meta.has_loudness;
    u->norm_db = u->has_loudness ? RTG_NORMALIZE_TARGET_DB - m->meta.loudness : 0.0;
    u->norm_gain = (float)pow(10.0, u->norm_db / 20.0);
    int nested_block = max_block, rc;
    const double rate = resample_rate(m, sample_rate);
    if (rate > 0) {
        if ((rc = rtg_resampler_new(sample_rate, rate, m->in_ch, m->out_ch, max_block, &u->rs, err))) {
            free(u);
            return rtg_error_prefix(err, rc, "%s", label);
        }
        u->model_rate = rate;
        nested_block = rtg_resampler_inner_block(u->rs);
    }
    u->plan = build_nested(m, nested_block, u->model_rate, label, err);
    if (!u->plan) {
        rtg_resampler_free(u->rs);
        free(u);
        return RTG_EINVAL;
    }
    if (u->rs && (rc = settle(u, label, err))) {
        rtg_model_unit_free(u);
        return rc;
    }
    *out = u;
    return RTG_OK;
}

int rtg_model_unit_build(const rtg_model *m, int max_block, double sample_rate,
                         rtg_model_unit **out, rtg_error *err)
{
    return unit_build(m, max_block, sample_rate, m->path[0] ? m->path : "model", out, err);
}

void rtg_model_unit_free(rtg_model_unit *u)
{
    if (!u)
        return;
    rtg_plan_free(u->plan);
    rtg_resampler_free(u->rs);
    free(u);
}

int rtg_model_unit_in_ch(const rtg_model_unit *u) { return u->in_ch; }
int rtg_model_unit_out_ch(const rtg_model_unit *u) { return u->out_ch; }
const char *rtg_model_unit_path(const rtg_model_unit *u) { return u->path; }
const rtg_plan *rtg_model_unit_plan(const rtg_model_unit *u) { return u->plan; }
int rtg_model_unit_latency(const rtg_model_unit *u) { return u->rs ? rtg_resampler_latency(u->rs) : 0; }
double rtg_model_unit_rate(const rtg_model_unit *u) { return u->model_rate; }

double rtg_model_unit_normalize_db(const rtg_model_unit *u, int *has_loudness)
{
    if (has_loudness)
        *has_loudness = u->has_loudness;
    return u->norm_db;
}

/* ---- the audio-thread side ---- */

/* Same steps with the same state sizes: one network, perhaps other weights.
 * Custom steps inside a model (the WaveNet's adds and slices) are
 * memoryless, so layer state is all the streaming state there is. */
static int same_layout(const rtg_plan *a, const rtg_plan *b)
{
    if (a->n_steps != b->n_steps)
        return 0;
    for (int i = 0; i < a->n_steps; i++) {
        const rtg_step *x = &a->steps[i], *y = &b->steps[i];
        if (!x->layer != !y->layer || x->out_ch != y->out_ch || x->n_in != y->n_in)
            return 0;
        if (!x->layer) {
            if (x->run != y->run)
                return 0;
            continue;
        }
        if (x->layer->type != y->layer->type || x->layer->in_ch != y->layer->in_ch ||
            x->layer->state_floats != y->layer->state_floats)
            return 0;
    }
    return 1;
}

static void carry_state(const rtg_plan *from, rtg_plan *to)
{
    if (!same_layout(from, to))
        return;
    for (int i = 0; i < from->n_steps; i++) {
        const rtg_layer *x = from->steps[i].layer;
        if (x && x->state_floats)
            memcpy(to->steps[i].layer->state, x->state, sizeof(float) * x->state_floats);
    }
}

static void start_fade(rtg_model_slot *s, rtg_model_unit *u, int fade_frames)
{
    if (!s->cur) {
        s->cur = u;
        return;
    }
    carry_state(s->cur->plan, u->plan);
    if (fade_frames <= 0) {
        s->parked = s->cur;
        s->cur = u;
        return;
    }
    s->next = u;
    s->fade_len = fade_frames;
    s->fade_pos = 0;
}

static void slot_run(const rtg_step *st, int frames)
{
    rtg_model_slot *s = st->state;
    if (s->queued && !s->next && !s->parked) {
        rtg_model_unit *u = s->queued;
        s->queued = NULL;
        start_fade(s, u, s->queued_fade);
    }
    const int ch = s->out_ch;
    if (!s->cur) {
        memset(st->out, 0, sizeof(float) * (size_t)frames * (size_t)ch);
        return;
    }
    unit_run(s->cur, s->opts.normalize, st->in[0], st->out, frames);
    if (!s->next)
        return;
    unit_run(s->next, s->opts.normalize, st->in[0], s->mix, frames);
    /* old + g (new - old): where the two agree the output is exactly the old. */
    const float step = 1.0f / (float)s->fade_len;
    float *out = st->out;
    const float *in = s->mix;
    for (int t = 0; t < frames; t++) {
        int pos = s->fade_pos + t + 1;
        float g = pos >= s->fade_len ? 1.0f : (float)pos * step;
        for (int c = 0; c < ch; c++) {
            float old = out[t * ch + c];
            out[t * ch + c] = g == 1.0f ? in[t * ch + c] : old + g * (in[t * ch + c] - old);
        }
    }
    s->fade_pos += frames;
    if (s->fade_pos >= s->fade_len) {
        s->parked = s->cur;
        s->cur = s->next;
        s->next = NULL;
    }
}

static void slot_reset(const rtg_step *st)
{
    rtg_model_slot *s = st->state;
    if (s->cur)
        unit_reset(s->cur);
    if (s->next)
        unit_reset(s->next);
}

/* Builds the unit once the slot's memory exists. An allocation failure
 * here leaves the slot empty (silent); rtg_model_slots_ready reports it. */
static void slot_init(const rtg_step *st, const void *ctx)
{
    const slot_ctx *c = ctx;
    rtg_model_slot *s = st->state;
    s->in_ch = st->in_ch[0];
    s->out_ch = st->out_ch;
    s->max_block = c->max_block;
    s->sample_rate = c->sample_rate;
    s->opts = c->opts;
    s->mix = (float *)((char *)st->state + slot_header_bytes());
    snprintf(s->label, sizeof s->label, "%s", c->label);
    rtg_error err;
    unit_build(c->model, c->max_block, c->sample_rate, c->label, &s->cur, &err);
}

rtg_model_unit *rtg_model_slot_swap(rtg_model_slot *s, rtg_model_unit *u, int fade_frames)
{
    if (!s->next && !s->parked && !s->queued) {
        start_fade(s, u, fade_frames);
        return NULL;
    }
    rtg_model_unit *superseded = s->queued;
    s->queued = u;
    s->queued_fade = fade_frames;
    return superseded;
}

rtg_model_unit *rtg_model_slot_collect(rtg_model_slot *s)
{
    rtg_model_unit *u = s->parked;
    s->parked = NULL;
    return u;
}

int rtg_model_slot_busy(const rtg_model_slot *s)
{
    return s->next || s->queued || s->parked;
}

const rtg_model_unit *rtg_model_slot_unit(const rtg_model_slot *s)
{
    return s->next ? s->next : s->cur;
}

unsigned long rtg_model_slot_shortfalls(const rtg_model_slot *s)
{
    unsigned long n = 0;
    if (s->cur && s->cur->rs)
        n += rtg_resampler_shortfalls(s->cur->rs);
    if (s->next && s->next->rs)
        n += rtg_resampler_shortfalls(s->next->rs);
    return n;
}

/* ---- building ---- */

/* The step's report label: the node, then what the slot does besides
 * running the model. */
static void describe(char *buf, size_t size, const char *label, const rtg_model *m,
                     double sample_rate, int latency, const rtg_model_slot_opts *o)
{
    const double rate = resample_rate(m, sample_rate);
    char what[128] = "";
    size_t at = 0;
    if (rate > 0)
        at += (size_t)snprintf(what, sizeof what, "resampled %g->%g Hz, latency %d frame%s", rate,
                               sample_rate, latency, latency == 1 ? "" : "s");
    if (o->normalize && at < sizeof what) {
        if (m->meta.has_loudness)
            snprintf(what + at, sizeof what - at, "%snormalized %+.2f dB", at ? "; " : "",
                     RTG_NORMALIZE_TARGET_DB - m->meta.loudness);
        else
            snprintf(what + at, sizeof what - at, "%snormalize: no loudness stated, 0 dB",
                     at ? "; " : "");
    }
    if (what[0])
        snprintf(buf, size, "%s [%s]", label, what);
    else
        snprintf(buf, size, "%s", label);
}

int rtg_plan_add_model_slot(rtg_plan_builder *b, const rtg_model *m, int in, const char *label,
                            int max_block, double sample_rate, int *step, rtg_error *err)
{
    return rtg_plan_add_model_slot_with(b, m, in, label, max_block, sample_rate, NULL, step, err);
}

int rtg_plan_add_model_slot_with(rtg_plan_builder *b, const rtg_model *m, int in,
                                 const char *label, int max_block, double sample_rate,
                                 const rtg_model_slot_opts *opts, int *step, rtg_error *err)
{
    static const rtg_model_slot_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    if (!label)
        label = "model";
    const double rate = resample_rate(m, sample_rate);
    if (rate > 0 && opts->no_resample)
        return rtg_error_set(err, RTG_EINVAL,
                             "%s: the model was trained at %g Hz but the graph runs at %g Hz "
                             "(and resampling is off)", label, rate, sample_rate);
    if (rtg_plan_buffer_channels(b, in) != m->in_ch)
        return rtg_error_set(err, RTG_EINVAL, "%s: the model takes %d channels but its input has %d",
                             label, m->in_ch, rtg_plan_buffer_channels(b, in));
    /* Validate every layer now, where errors can still be reported: the
     * unit itself is built by the slot's init inside rtg_plan_build. */
    rtg_plan_builder *probe = rtg_plan_builder_new(max_block, m->in_ch, sample_rate);
    if (!probe)
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", label);
    int y = rtg_plan_add_model(probe, m, rtg_plan_input(probe), label, err);
    /* The unit's weights and state count against the host plan's limit,
     * so a graph of many model nodes is bounded as a whole. */
    const size_t held = rtg_plan_builder_bytes(probe);
    const double macs = rtg_plan_builder_macs(probe); /* what the unit will run */
    rtg_plan_builder_free(probe);
    if (y < 0)
        return y;
    if (m->prewarm_samples > RTG_PLAN_MAX_PREWARM)
        return rtg_error_set(err, RTG_ENOMEM, "%s: a pre-warm of %ld frames is more than the "
                             "%ld a plan may run", label, m->prewarm_samples, RTG_PLAN_MAX_PREWARM);
    /* The resampling's latency for the report and the pre-warm; the unit
     * measures the same again when the slot's init builds it. */
    int latency = 0;
    long prewarm = m->prewarm_samples;
    if (rate > 0) {
        rtg_resampler *rs = NULL;
        int rc = rtg_resampler_new(sample_rate, rate, m->in_ch, m->out_ch, max_block, &rs, err);
        if (rc)
            return rtg_error_prefix(err, rc, "%s", label);
        latency = rtg_resampler_latency(rs);
        rtg_resampler_free(rs);
        /* the model asks in its own frames; the pipeline's FIFO and
         * converters settle within four latencies */
        prewarm = (long)ceil((double)m->prewarm_samples * sample_rate / rate) + 4L * latency + 64;
    }
    int out = rtg_plan_buffer(b, m->out_ch);
    if (out < 0)
        return rtg_error_set(err, out, "%s: out of memory", label);
    slot_ctx ctx = {.model = m, .max_block = max_block, .sample_rate = sample_rate, .opts = *opts};
    snprintf(ctx.label, sizeof ctx.label, "%s", label);
    char info_label[96];
    describe(info_label, sizeof info_label, label, m, sample_rate, latency, opts);
    rtg_custom_step c = {
        .run = slot_run,
        .reset = slot_reset,
        .init = slot_init,
        .init_ctx = &ctx,
        .init_ctx_bytes = sizeof ctx,
        .state_bytes = slot_header_bytes() +
                       rtg_align_floats((size_t)max_block * (size_t)m->out_ch) * sizeof(float),
        .in = &in,
        .n_in = 1,
        .out = out,
        .label = info_label,
        .op = "model",
        .macs = macs * (rate > 0 ? rate / sample_rate : 1.0), /* per graph frame */
        .held_bytes = held,
    };
    int s = rtg_plan_add_custom(b, &c, err);
    if (s < 0)
        return s;
    rtg_plan_request_prewarm(b, prewarm);
    if (step)
        *step = s;
    return out;
}

rtg_model_slot *rtg_model_slot_at(const rtg_plan *p, int step)
{
    if (!p || step < 0 || step >= p->n_steps || p->steps[step].run != slot_run)
        return NULL;
    return p->steps[step].state;
}

int rtg_model_slot_check(const rtg_model_slot *s, const rtg_model_unit *u, rtg_error *err)
{
    if (u->in_ch != s->in_ch || u->out_ch != s->out_ch)
        return rtg_error_set(err, RTG_EINVAL,
                             "%s: node '%s' takes %d input and gives %d output channel%s but the "
                             "model has %d in, %d out",
                             u->path, s->label, s->in_ch, s->out_ch, s->out_ch == 1 ? "" : "s",
                             u->in_ch, u->out_ch);
    if (u->max_block < s->max_block)
        return rtg_error_set(err, RTG_EINVAL, "%s: built for blocks of %d frames, node '%s' runs %d",
                             u->path, u->max_block, s->label, s->max_block);
    if (u->sample_rate != s->sample_rate)
        return rtg_error_set(err, RTG_EINVAL, "%s: built for %g Hz, node '%s' runs at %g Hz",
                             u->path, u->sample_rate, s->label, s->sample_rate);
    if (u->rs && s->opts.no_resample)
        return rtg_error_set(err, RTG_EINVAL,
                             "%s: trained at %g Hz but node '%s' runs at %g Hz and does not "
                             "resample (resample: false)", u->path, u->model_rate, s->label,
                             s->sample_rate);
    return RTG_OK;
}

int rtg_model_slots_ready(const rtg_plan *p, rtg_error *err)
{
    for (int i = 0; i < p->n_steps; i++) {
        const rtg_model_slot *s = rtg_model_slot_at(p, i);
        if (s && !s->cur) {
            rtg_error_set(err, RTG_ENOMEM, "%s: out of memory building the model", s->label);
            return 0;
        }
    }
    return 1;
}

void rtg_model_slots_release(rtg_plan *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_steps; i++) {
        rtg_model_slot *s = rtg_model_slot_at(p, i);
        if (!s)
            continue;
        rtg_model_unit *held[4] = {s->cur, s->next, s->queued, s->parked};
        for (int k = 0; k < 4; k++)
            rtg_model_unit_free(held[k]);
        s->cur = s->next = s->queued = s->parked = NULL;
    }
}
