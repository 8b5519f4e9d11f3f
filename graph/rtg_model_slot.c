/* rtg_model_slot.c — a swappable model as one plan step running a nested
 * plan, with crossfaded swaps (see rtg_model_slot.h). */
#include "rtg_model_slot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_nam.h"

struct rtg_model_unit {
    rtg_plan *plan;
    int in_ch, out_ch;
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
    float *mix;             /* max_block x out_ch: the incoming unit's output */
    char label[96];
};

/* What the builder copies for the slot's init: the model is read there. */
typedef struct slot_ctx {
    const rtg_model *model;
    int max_block;
    double sample_rate;
    char label[96];
} slot_ctx;

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
    return rtg_plan_build(b, err);
}

static int unit_build(const rtg_model *m, int max_block, double sample_rate, const char *label,
                      rtg_model_unit **out, rtg_error *err)
{
    *out = NULL;
    rtg_model_unit *u = calloc(1, sizeof *u);
    if (!u)
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", label);
    u->plan = build_nested(m, max_block, sample_rate, label, err);
    if (!u->plan) {
        free(u);
        return RTG_EINVAL;
    }
    u->in_ch = m->in_ch;
    u->out_ch = m->out_ch;
    snprintf(u->path, sizeof u->path, "%s", m->path);
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
    free(u);
}

int rtg_model_unit_in_ch(const rtg_model_unit *u) { return u->in_ch; }
int rtg_model_unit_out_ch(const rtg_model_unit *u) { return u->out_ch; }
const char *rtg_model_unit_path(const rtg_model_unit *u) { return u->path; }
const rtg_plan *rtg_model_unit_plan(const rtg_model_unit *u) { return u->plan; }

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
    rtg_plan_process(s->cur->plan, st->in[0], st->out, frames);
    if (!s->next)
        return;
    rtg_plan_process(s->next->plan, st->in[0], s->mix, frames);
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
        rtg_plan_reset(s->cur->plan);
    if (s->next)
        rtg_plan_reset(s->next->plan);
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

/* ---- building ---- */

/* Multiply-accumulates per frame, for reports. */
static double model_macs(const rtg_model *m)
{
    double macs = 0;
    for (int i = 0; i < m->n_layers; i++)
        macs += rtg_layer_macs(&m->layers[i]);
    for (int a = 0; m->wavenet && a < m->wavenet->n_arrays; a++) {
        const rtg_wavenet_array *arr = &m->wavenet->arrays[a];
        macs += rtg_layer_macs(&arr->rechannel) + rtg_layer_macs(&arr->head);
        for (int l = 0; l < arr->n_layers; l++)
            macs += rtg_layer_macs(&arr->layers[l].conv) + rtg_layer_macs(&arr->layers[l].res);
    }
    return macs;
}

int rtg_plan_add_model_slot(rtg_plan_builder *b, const rtg_model *m, int in, const char *label,
                            int max_block, double sample_rate, int *step, rtg_error *err)
{
    if (!label)
        label = "model";
    if (rtg_plan_buffer_channels(b, in) != m->in_ch)
        return rtg_error_set(err, RTG_EINVAL, "%s: the model takes %d channels but its input has %d",
                             label, m->in_ch, rtg_plan_buffer_channels(b, in));
    /* Validate every layer now, where errors can still be reported: the
     * unit itself is built by the slot's init inside rtg_plan_build. */
    rtg_plan_builder *probe = rtg_plan_builder_new(max_block, m->in_ch, sample_rate);
    if (!probe)
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", label);
    int y = rtg_plan_add_model(probe, m, rtg_plan_input(probe), label, err);
    rtg_plan_builder_free(probe);
    if (y < 0)
        return y;
    int out = rtg_plan_buffer(b, m->out_ch);
    if (out < 0)
        return rtg_error_set(err, out, "%s: out of memory", label);
    slot_ctx ctx = {.model = m, .max_block = max_block, .sample_rate = sample_rate};
    snprintf(ctx.label, sizeof ctx.label, "%s", label);
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
        .label = label,
        .op = "model",
        .macs = model_macs(m),
    };
    int s = rtg_plan_add_custom(b, &c, err);
    if (s < 0)
        return s;
    rtg_plan_request_prewarm(b, m->prewarm_samples);
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
    if (u->plan->max_block < s->max_block)
        return rtg_error_set(err, RTG_EINVAL, "%s: built for blocks of %d frames, node '%s' runs %d",
                             u->path, u->plan->max_block, s->label, s->max_block);
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
