/* rtg_plan.c — the plan builder (arena layout, liveness) and the plan's
 * process function. See rtg_plan.h for the contract. */
#include "rtg_plan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_cpu.h"

enum { STEP_LAYER, STEP_CUSTOM };

typedef struct pb_buffer {
    int ch;
    int writer;      /* step index; -1 for the plan input */
    int last_use;    /* last step index that reads it; n_steps if an output */
    size_t offset;   /* bytes into the signal pool */
    size_t bytes;
} pb_buffer;

typedef struct pb_step {
    int kind;
    rtg_layer_desc desc;   /* STEP_LAYER */
    rtg_layer_mem mem;
    rtg_custom_step custom; /* STEP_CUSTOM; init_ctx is our heap copy */
    int *in;
    int n_in;
    int out;
    rtg_step_info info;
} pb_step;

struct rtg_plan_builder {
    int max_block, n_inputs;
    double sample_rate;
    pb_buffer *bufs;
    int n_bufs, cap_bufs;
    pb_step *steps;
    int n_steps, cap_steps;
    int n_outputs;
    int *out_buf, *out_chan;
    long prewarm_samples;
    size_t bytes; /* weights, state and held bytes so far (rtg_plan_builder_bytes) */
};

/* Growth of the builder's arrays; non-real-time, so realloc is fine. */
static int grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 0;
    int ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

rtg_plan_builder *rtg_plan_builder_new(int max_block, int n_inputs, double sample_rate)
{
    if (max_block < 1 || n_inputs < 0)
        return NULL;
    rtg_plan_builder *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->max_block = max_block;
    b->n_inputs = n_inputs;
    b->sample_rate = sample_rate;
    if (rtg_plan_buffer(b, n_inputs > 0 ? n_inputs : 1) != 0) {
        rtg_plan_builder_free(b);
        return NULL;
    }
    b->bufs[0].writer = -1;
    return b;
}

void rtg_plan_builder_free(rtg_plan_builder *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->n_steps; i++) {
        free(b->steps[i].in);
        free((void *)b->steps[i].custom.init_ctx);
    }
    free(b->steps);
    free(b->bufs);
    free(b->out_buf);
    free(b->out_chan);
    free(b);
}

int rtg_plan_input(rtg_plan_builder *b)
{
    (void)b;
    return 0;
}

int rtg_plan_buffer(rtg_plan_builder *b, int channels)
{
    if (channels < 1)
        return RTG_EINVAL;
    /* Bounded count and size keep every later sum far from overflowing. */
    if (b->n_bufs > 2 * RTG_PLAN_MAX_STEPS ||
        (size_t)b->max_block * (size_t)channels > RTG_PLAN_MAX_BYTES / sizeof(float))
        return RTG_ENOMEM;
    if (grow((void **)&b->bufs, &b->cap_bufs, b->n_bufs + 1, sizeof *b->bufs))
        return RTG_ENOMEM;
    pb_buffer *buf = &b->bufs[b->n_bufs];
    memset(buf, 0, sizeof *buf);
    buf->ch = channels;
    buf->writer = -2; /* not yet written */
    buf->last_use = -1;
    return b->n_bufs++;
}

int rtg_plan_buffer_channels(const rtg_plan_builder *b, int id)
{
    if (id < 0 || id >= b->n_bufs)
        return RTG_EINVAL;
    return b->bufs[id].ch;
}

int rtg_plan_builder_max_block(const rtg_plan_builder *b)
{
    return b->max_block;
}

int rtg_plan_step_count(const rtg_plan_builder *b)
{
    return b->n_steps;
}

size_t rtg_plan_builder_bytes(const rtg_plan_builder *b)
{
    return b->bytes;
}

double rtg_plan_builder_macs(const rtg_plan_builder *b)
{
    double m = 0;
    for (int i = 0; i < b->n_steps; i++)
        m += b->steps[i].info.macs;
    return m;
}

/* Counts `bytes` more against RTG_PLAN_MAX_BYTES, or fails naming `label`. */
static int charge(rtg_plan_builder *b, size_t bytes, const char *label, rtg_error *err)
{
    if (bytes > RTG_PLAN_MAX_BYTES - b->bytes)
        return rtg_error_set(err, RTG_ENOMEM,
                             "%s: needs %zu bytes of weights and state, but the plan already "
                             "holds %zu of the %zu MiB a plan may hold",
                             label, bytes, b->bytes, RTG_PLAN_MAX_BYTES >> 20);
    b->bytes += bytes;
    return RTG_OK;
}

/* Common bookkeeping for a new step: input/output buffer checks and
 * lifetimes. Returns the new step or NULL with err set. */
/* Appends a step; NULL with err set and *rc the status code on failure. */
static pb_step *new_step(rtg_plan_builder *b, const int *in, int n_in, int out,
                         const char *label, rtg_error *err, int *rc)
{
    if (out <= 0 || out >= b->n_bufs) {
        *rc = rtg_error_set(err, RTG_EINVAL, "%s: bad output buffer %d", label, out);
        return NULL;
    }
    if (b->n_steps >= RTG_PLAN_MAX_STEPS) {
        *rc = rtg_error_set(err, RTG_ENOMEM, "%s: more than %d steps in one plan", label,
                      RTG_PLAN_MAX_STEPS);
        return NULL;
    }
    if (b->bufs[out].writer != -2) {
        *rc = rtg_error_set(err, RTG_EINVAL, "%s: output buffer %d is already written", label, out);
        return NULL;
    }
    for (int i = 0; i < n_in; i++) {
        if (in[i] < 0 || in[i] >= b->n_bufs || b->bufs[in[i]].writer == -2) {
            *rc = rtg_error_set(err, RTG_EINVAL, "%s: input %d reads a buffer nothing writes", label, i);
            return NULL;
        }
    }
    if (grow((void **)&b->steps, &b->cap_steps, b->n_steps + 1, sizeof *b->steps)) {
        *rc = rtg_error_set(err, RTG_ENOMEM, "out of memory");
        return NULL;
    }
    pb_step *s = &b->steps[b->n_steps];
    memset(s, 0, sizeof *s);
    s->in = malloc(sizeof(int) * (size_t)(n_in > 0 ? n_in : 1));
    if (!s->in) {
        *rc = rtg_error_set(err, RTG_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(s->in, in, sizeof(int) * (size_t)n_in);
    s->n_in = n_in;
    s->out = out;
    for (int i = 0; i < n_in; i++)
        b->bufs[in[i]].last_use = b->n_steps;
    b->bufs[out].writer = b->n_steps;
    snprintf(s->info.label, sizeof s->info.label, "%s", label ? label : "");
    s->info.out_ch = b->bufs[out].ch;
    s->info.in_ch = 0;
    for (int i = 0; i < n_in; i++)
        s->info.in_ch += b->bufs[in[i]].ch;
    b->n_steps++;
    return s;
}

int rtg_plan_add_layer(rtg_plan_builder *b, const rtg_layer_desc *d, int in, int out,
                       const char *label, rtg_error *err)
{
    rtg_layer_mem mem;
    int rc = rtg_layer_measure(d, b->max_block, &mem, err);
    if (rc)
        return rtg_error_prefix(err, rc, "%s", label);
    if (in < 0 || in >= b->n_bufs || out <= 0 || out >= b->n_bufs)
        return rtg_error_set(err, RTG_EINVAL, "%s: bad buffer", label);
    if (b->bufs[in].ch != d->in_ch)
        return rtg_error_set(err, RTG_EINVAL, "%s: %s takes %d channels but its input has %d",
                             label, rtg_layer_type_name(d->type), d->in_ch, b->bufs[in].ch);
    if (b->bufs[out].ch != d->out_ch)
        return rtg_error_set(err, RTG_EINVAL, "%s: %s gives %d channels but its output has %d",
                             label, rtg_layer_type_name(d->type), d->out_ch, b->bufs[out].ch);
    if ((rc = charge(b, (mem.weight_floats + mem.state_floats) * sizeof(float), label, err)))
        return rc;
    pb_step *s = new_step(b, &in, 1, out, label, err, &rc);
    if (!s)
        return rc;
    s->kind = STEP_LAYER;
    s->desc = *d;
    s->mem = mem;
    snprintf(s->info.op, sizeof s->info.op, "%s", rtg_layer_type_name(d->type));
    s->info.macs = rtg_layer_macs(d);
    return b->n_steps - 1;
}

int rtg_plan_add_custom(rtg_plan_builder *b, const rtg_custom_step *c, rtg_error *err)
{
    const char *label = c->label ? c->label : "step";
    if (!c->run)
        return rtg_error_set(err, RTG_EINVAL, "%s: no run function", label);
    if (c->state_bytes > RTG_PLAN_MAX_BYTES || c->held_bytes > RTG_PLAN_MAX_BYTES)
        return rtg_error_set(err, RTG_ENOMEM, "%s: needs more than the %zu MiB a plan may hold",
                             label, RTG_PLAN_MAX_BYTES >> 20);
    int rc = charge(b, c->state_bytes + c->held_bytes, label, err);
    if (rc)
        return rc;
    void *ctx = NULL;
    if (c->init_ctx_bytes) {
        ctx = malloc(c->init_ctx_bytes);
        if (!ctx)
            return rtg_error_set(err, RTG_ENOMEM, "out of memory");
        memcpy(ctx, c->init_ctx, c->init_ctx_bytes);
    }
    pb_step *s = new_step(b, c->in, c->n_in, c->out, label, err, &rc);
    if (!s) {
        free(ctx);
        return rc;
    }
    s->kind = STEP_CUSTOM;
    s->custom = *c;
    s->custom.init_ctx = ctx;
    s->custom.in = NULL;
    s->custom.label = NULL;
    s->custom.op = NULL;
    snprintf(s->info.op, sizeof s->info.op, "%s", c->op ? c->op : "custom");
    s->info.macs = c->macs;
    return b->n_steps - 1;
}

void rtg_plan_request_prewarm(rtg_plan_builder *b, long samples)
{
    if (samples > b->prewarm_samples)
        b->prewarm_samples = samples;
}

int rtg_plan_set_outputs(rtg_plan_builder *b, int n, const int *buf, const int *chan,
                         rtg_error *err)
{
    if (n < 1)
        return rtg_error_set(err, RTG_EINVAL, "a plan needs at least one output");
    int *ob = malloc(sizeof(int) * (size_t)n), *oc = malloc(sizeof(int) * (size_t)n);
    if (!ob || !oc) {
        free(ob);
        free(oc);
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    }
    for (int k = 0; k < n; k++) {
        if (buf[k] < 0 || buf[k] >= b->n_bufs || b->bufs[buf[k]].writer == -2 ||
            chan[k] < 0 || chan[k] >= b->bufs[buf[k]].ch) {
            free(ob);
            free(oc);
            return rtg_error_set(err, RTG_EINVAL, "output %d reads a channel nothing writes", k);
        }
        ob[k] = buf[k];
        oc[k] = chan[k];
    }
    free(b->out_buf);
    free(b->out_chan);
    b->out_buf = ob;
    b->out_chan = oc;
    b->n_outputs = n;
    return RTG_OK;
}

/* Places every signal buffer in the pool so that buffers alive at the same
 * time never overlap; returns the pool size in bytes. Lifetimes are step
 * index intervals [writer, last_use]; an output buffer lives to the end.
 * Inputs and output of one step are alive together, so they never alias. */
static size_t place_buffers(rtg_plan_builder *b)
{
    size_t pool = 0;
    for (int i = 1; i < b->n_bufs; i++) {
        pb_buffer *x = &b->bufs[i];
        if (x->last_use < x->writer)
            x->last_use = x->writer; /* written, never read: alive for its own step */
        x->bytes = rtg_align_floats((size_t)b->max_block * (size_t)x->ch) * sizeof(float);
    }
    for (int k = 0; k < b->n_outputs; k++)
        b->bufs[b->out_buf[k]].last_use = b->n_steps;
    /* Only buffers still alive when a later one is written can share time
     * with it: `live` keeps those (in creation order), dropping each one
     * whose life ends before every later writer starts, so placing a
     * buffer scans as many as the plan is wide, not all before it (a chain
     * of 65000 layers took seconds). Same placement; without the memory
     * for the lists, every earlier buffer is scanned as before. */
    int *live = malloc(sizeof(int) * (size_t)b->n_bufs);
    int *min_writer = malloc(sizeof(int) * ((size_t)b->n_bufs + 1)); /* of buffers i.. */
    if (live && min_writer) {
        min_writer[b->n_bufs] = INT32_MAX;
        for (int i = b->n_bufs - 1; i >= 1; i--) {
            const int w = b->bufs[i].writer >= 0 ? b->bufs[i].writer : INT32_MAX;
            min_writer[i] = w < min_writer[i + 1] ? w : min_writer[i + 1];
        }
    } else {
        free(live);
        live = NULL;
    }
    int n_live = 0;
    /* First fit, buffers in order of creation (which follows step order). */
    for (int i = 1; i < b->n_bufs; i++) {
        pb_buffer *x = &b->bufs[i];
        if (x->writer < 0)
            continue;
        if (live) {
            int k = 0;
            for (int m = 0; m < n_live; m++)
                if (b->bufs[live[m]].last_use >= min_writer[i])
                    live[k++] = live[m];
            n_live = k;
        }
        size_t off = 0;
        for (;;) {
            int moved = 0;
            for (int m = 0; m < (live ? n_live : i - 1); m++) {
                pb_buffer *y = &b->bufs[live ? live[m] : m + 1];
                if (y->writer < 0)
                    continue;
                int overlap_time = !(y->last_use < x->writer || x->last_use < y->writer);
                int overlap_mem = off < y->offset + y->bytes && y->offset < off + x->bytes;
                if (overlap_time && overlap_mem) {
                    off = y->offset + y->bytes;
                    moved = 1;
                }
            }
            if (!moved)
                break;
        }
        x->offset = off;
        if (off + x->bytes > pool)
            pool = off + x->bytes;
        if (live)
            live[n_live++] = i;
    }
    free(live);
    free(min_writer);
    return pool;
}

static void run_layer(const rtg_step *s, int frames)
{
    rtg_layer_run(s->layer, s->in[0], s->out, frames);
}

static void reset_layer(const rtg_step *s)
{
    rtg_layer_reset(s->layer);
}

/* Bump allocator over the arena while laying it out. */
typedef struct carve {
    uint8_t *base;
    size_t used;
} carve;

static void *take(carve *c, size_t bytes)
{
    size_t off = (c->used + RTG_ALIGN - 1) / RTG_ALIGN * RTG_ALIGN;
    c->used = off + bytes;
    return c->base ? c->base + off : NULL;
}

/* Walks the layout once with base == NULL to size it and once to fill it. */
static void layout(rtg_plan_builder *b, rtg_plan *p, carve *c, size_t pool_bytes)
{
    int ns = b->n_steps;
    p->steps = take(c, sizeof(rtg_step) * (size_t)ns);
    rtg_step *steps = p->steps;
    for (int i = 0; i < ns; i++) {
        pb_step *s = &b->steps[i];
        const float **in = take(c, sizeof(float *) * (size_t)(s->n_in ? s->n_in : 1));
        int *in_ch = take(c, sizeof(int) * (size_t)(s->n_in ? s->n_in : 1));
        rtg_layer *layer = NULL;
        float *w = NULL, *st = NULL;
        void *cst = NULL;
        if (s->kind == STEP_LAYER) {
            layer = take(c, sizeof(rtg_layer));
            w = take(c, s->mem.weight_floats * sizeof(float));
            st = take(c, s->mem.state_floats * sizeof(float));
        } else if (s->custom.state_bytes) {
            cst = take(c, s->custom.state_bytes);
        }
        if (!c->base)
            continue;
        rtg_step *t = &steps[i];
        for (int k = 0; k < s->n_in; k++) {
            in_ch[k] = b->bufs[s->in[k]].ch;
        }
        t->n_in = s->n_in;
        t->in = in;
        t->in_ch = in_ch;
        t->out_ch = b->bufs[s->out].ch;
        t->sample_rate = (float)b->sample_rate;
        t->layer = layer;
        t->state = cst;
        /* weights pointers of layers are filled once scratch exists (below) */
        if (s->kind == STEP_LAYER) {
            layer->w = w;
            layer->state = st;
        }
    }
    size_t scratch = 0;
    for (int i = 0; i < ns; i++)
        if (b->steps[i].kind == STEP_LAYER && b->steps[i].mem.scratch_floats > scratch)
            scratch = b->steps[i].mem.scratch_floats;
    float *scr = take(c, scratch * sizeof(float));
    p->input = take(c, sizeof(float) * rtg_align_floats((size_t)b->max_block * (size_t)(b->n_inputs ? b->n_inputs : 1)));
    p->out_ptr = take(c, sizeof(float *) * (size_t)b->n_outputs);
    p->out_stride = take(c, sizeof(int) * (size_t)b->n_outputs);
    int n_in_refs = 0, n_out_refs = 0;
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < b->steps[i].n_in; k++) {
            n_in_refs += b->steps[i].in[k] == 0;
            n_out_refs += b->steps[i].in[k] == b->out_buf[0];
        }
    p->in_refs = take(c, sizeof(const float **) * (size_t)(n_in_refs ? n_in_refs : 1));
    p->out_refs = take(c, sizeof(const float **) * (size_t)(n_out_refs ? n_out_refs : 1));
    uint8_t *pool = take(c, pool_bytes);
    if (!c->base)
        return;
    float **bufptr = malloc(sizeof(float *) * (size_t)b->n_bufs);
    /* bufptr is only used during layout; on failure the plan stays unwired
     * and rtg_plan_build notices via the NULL check. */
    if (!bufptr)
        return;
    bufptr[0] = p->input;
    for (int i = 1; i < b->n_bufs; i++)
        bufptr[i] = b->bufs[i].writer >= 0 ? (float *)(pool + b->bufs[i].offset) : NULL;
    for (int i = 0; i < ns; i++) {
        pb_step *s = &b->steps[i];
        rtg_step *t = &steps[i];
        for (int k = 0; k < s->n_in; k++)
            ((const float **)t->in)[k] = bufptr[s->in[k]];
        t->out = bufptr[s->out];
        if (s->kind == STEP_LAYER) {
            rtg_layer *L = t->layer;
            float *w = (float *)L->w, *st = L->state;
            rtg_layer_init(L, &s->desc, b->max_block, s->mem.weight_floats ? w : NULL,
                           s->mem.state_floats ? st : NULL, s->mem.scratch_floats ? scr : NULL);
            t->run = run_layer;
            t->reset = reset_layer;
            t->keeps_signal = L->state_floats > 0;
        } else {
            t->run = s->custom.run;
            t->param = s->custom.param;
            t->reset = s->custom.reset;
            t->keeps_signal = s->custom.reset && !s->custom.params_only;
            if (s->custom.init)
                s->custom.init(t, s->custom.init_ctx);
        }
    }
    p->out_contiguous = 1;
    for (int k = 0; k < b->n_outputs; k++) {
        p->out_ptr[k] = bufptr[b->out_buf[k]] + b->out_chan[k];
        p->out_stride[k] = b->bufs[b->out_buf[k]].ch;
        if (p->out_ptr[k] != p->out_ptr[0] + k || p->out_stride[k] != b->n_outputs)
            p->out_contiguous = 0;
    }
    /* The I/O slots (see rtg_plan). The output is bound only when a step
     * writes it: a graph whose output is its input copies. */
    const int ob = b->out_buf[0];
    const int bind_out = p->out_contiguous && ob != 0 && b->bufs[ob].writer >= 0;
    p->n_in_refs = p->n_out_refs = 0;
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < b->steps[i].n_in; k++) {
            const float **slot = (const float **)&steps[i].in[k];
            if (b->steps[i].in[k] == 0)
                p->in_refs[p->n_in_refs++] = slot;
            else if (bind_out && b->steps[i].in[k] == ob)
                p->out_refs[p->n_out_refs++] = slot;
        }
    p->out_ref = bind_out ? &steps[b->bufs[ob].writer].out : NULL;
    p->out_own = bufptr[ob];
    p->bound_in = p->input;
    p->bound_out = p->out_own;
    p->n_steps = ns;
    free(bufptr);
}

rtg_plan *rtg_plan_build(rtg_plan_builder *b, rtg_error *err)
{
    rtg_plan *p = NULL;
    if (b->n_outputs < 1) {
        rtg_error_set(err, RTG_EINVAL, "plan has no outputs");
        goto done;
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        rtg_error_set(err, RTG_ENOMEM, "out of memory");
        goto done;
    }
    p->max_block = b->max_block;
    p->n_inputs = b->n_inputs;
    p->n_outputs = b->n_outputs;
    p->sample_rate = b->sample_rate;
    p->prewarm_samples = b->prewarm_samples;
    p->guard = 1;
    p->nonfinite_step = -1;
    (void)rtg_cpu_isa(); /* the guard's dispatch: first read here, not on the audio thread */
    size_t pool = place_buffers(b);
    carve c = {NULL, 0};
    layout(b, p, &c, pool);
    p->arena_bytes = (c.used + RTG_ALIGN - 1) / RTG_ALIGN * RTG_ALIGN;
    /* The arena holds weights, state and signal buffers; nested plans
     * (held bytes) come on top. */
    size_t held = 0;
    for (int i = 0; i < b->n_steps; i++)
        if (b->steps[i].kind == STEP_CUSTOM)
            held += b->steps[i].custom.held_bytes;
    if (p->arena_bytes > RTG_PLAN_MAX_BYTES - held) {
        rtg_error_set(err, RTG_ENOMEM,
                      "the plan needs %zu MiB (a %zu-byte arena with %zu bytes of signal "
                      "buffers, %zu bytes in nested models), more than the %zu MiB a plan "
                      "may hold", (p->arena_bytes + held) >> 20, p->arena_bytes, pool, held,
                      RTG_PLAN_MAX_BYTES >> 20);
        goto fail;
    }
    if (p->prewarm_samples > RTG_PLAN_MAX_PREWARM) {
        rtg_error_set(err, RTG_ENOMEM, "a pre-warm of %ld frames is more than the %ld a plan "
                      "may run", p->prewarm_samples, RTG_PLAN_MAX_PREWARM);
        goto fail;
    }
    if (posix_memalign(&p->arena, RTG_ALIGN, p->arena_bytes ? p->arena_bytes : RTG_ALIGN)) {
        p->arena = NULL;
        rtg_error_set(err, RTG_ENOMEM, "cannot allocate a %zu-byte arena", p->arena_bytes);
        goto fail;
    }
    memset(p->arena, 0, p->arena_bytes);
    c.base = p->arena;
    c.used = 0;
    p->info = calloc((size_t)(b->n_steps ? b->n_steps : 1), sizeof *p->info);
    if (!p->info) {
        rtg_error_set(err, RTG_ENOMEM, "out of memory");
        goto fail;
    }
    layout(b, p, &c, pool);
    if (p->n_steps != b->n_steps) {
        rtg_error_set(err, RTG_ENOMEM, "out of memory");
        goto fail;
    }
    p->signal_bytes = pool;
    for (int i = 0; i < b->n_steps; i++) {
        p->info[i] = b->steps[i].info;
        p->weight_floats += b->steps[i].kind == STEP_LAYER ? b->steps[i].mem.weight_floats
                                                           : b->steps[i].custom.weight_floats;
    }
    /* The guard checks the output block only when a stateless step writes
     * an output: the others' blocks are checked already. */
    for (int k = 0; k < b->n_outputs; k++) {
        int w = b->bufs[b->out_buf[k]].writer;
        if (w >= 0 && !p->steps[w].keeps_signal)
            p->guard_outputs = 1;
    }
    rtg_plan_prewarm(p);
    goto done;
fail:
    rtg_plan_free(p);
    p = NULL;
done:
    rtg_plan_builder_free(b);
    return p;
}

/* One step. A layer's kernel is called straight from here, not through
 * run_layer: one indirect call per step, which at one frame per call is
 * much of the cost. */
RTG_INLINE void step_run(const rtg_step *s, int frames)
{
    if (s->layer)
        s->layer->run(s->layer, s->in[0], s->out, frames);
    else
        s->run(s, frames);
}

static void run_steps(rtg_plan *p, int frames)
{
    const rtg_step *s = p->steps, *end = p->steps + p->n_steps;
    for (; s < end; s++)
        step_run(s, frames);
}

/* Points the I/O slots at `in` and `out` (the plan's own buffers, or the
 * caller's for one block); a few stores, none when they are bound
 * already. */
static void bind_io(rtg_plan *p, const float *in, float *out)
{
    if (in != p->bound_in) {
        for (int i = 0; i < p->n_in_refs; i++)
            *p->in_refs[i] = in;
        p->bound_in = in;
    }
    if (p->out_ref && out != p->bound_out) {
        *p->out_ref = out;
        for (int i = 0; i < p->n_out_refs; i++)
            *p->out_refs[i] = out;
        p->bound_out = out;
    }
}

void rtg_plan_prewarm(rtg_plan *p)
{
    bind_io(p, p->input, p->out_own);
    rtg_plan_reset(p);
    memset(p->input, 0, sizeof(float) * (size_t)p->max_block * (size_t)p->n_inputs);
    for (long done = 0; done < p->prewarm_samples;) {
        long left = p->prewarm_samples - done;
        int n = left < p->max_block ? (int)left : p->max_block;
        run_steps(p, n);
        done += n;
    }
}

/* A float is Inf or NaN when its bits without the sign are at least those
 * of +Inf. Testing the largest such pattern once at the end keeps the loop
 * a plain integer max reduction (and, max: two operations per vector) that
 * the compiler vectorises whatever the floating-point flags. */
RTG_INLINE int all_finite(const float *x, size_t n)
{
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, x + i, sizeof bits);
        bits &= 0x7fffffffu;
        top = bits > top ? bits : top;
    }
    return top < 0x7f800000u;
}

#if RTG_X86
RTG_TARGET_AVX2 static int all_finite_avx2(const float *x, size_t n)
{
    return all_finite(x, n);
}

RTG_TARGET_AVX512 static int all_finite_avx512(const float *x, size_t n)
{
    return all_finite(x, n);
}
#endif

/* Dispatched through rtg_cpu_isa() (a cached value: rtg_plan_build reads
 * it first, off the audio thread) rather than an ifunc, whose resolver
 * would run before a sanitizer's runtime is up. */
int rtg_all_finite(const float *x, size_t n)
{
#if RTG_X86
    if (rtg_cpu_isa() >= RTG_ISA_AVX512)
        return all_finite_avx512(x, n);
    if (rtg_cpu_isa() >= RTG_ISA_AVX2)
        return all_finite_avx2(x, n);
#endif
    return all_finite(x, n);
}

/* rtg_all_finite for a plan's blocks: a block of a few values is checked
 * inline (a call and the ISA dispatch cost more than the check: one frame
 * per call is the common case of a host that runs sample by sample). */
RTG_INLINE int block_finite(const float *x, size_t n)
{
    if (n > 16)
        return rtg_all_finite(x, n);
    /* exponent all ones: and, compare, or, which SSE2 has (unsigned max
     * it has not) */
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, x + i, sizeof bits);
        bad |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    return !bad;
}

/* The first of steps 0..last whose output block is not finite, as well
 * as the buffers (reused by liveness) still tell; -2 if none is. For
 * reports only: the slow path. */
static int first_nonfinite(const rtg_plan *p, int last, int frames)
{
    for (int i = 0; i <= last && i < p->n_steps; i++)
        if (!rtg_all_finite(p->steps[i].out, (size_t)frames * (size_t)p->steps[i].out_ch))
            return i;
    return -2;
}

#define NO_EVENT (-3)

/* run_steps with the guard. Only steps that keep past samples (layers with
 * state, delays, models) can hold on to a NaN once it is in, so only their
 * output blocks are checked: one that is not all finite is zeroed, and the
 * step's state reset, before any later step reads it, so one misbehaving
 * node neither poisons the nodes after it nor keeps its own broken state.
 * A NaN from any other step reaches one of those or the plan's outputs,
 * which are checked too. Returns the step to report for this block (the
 * first whose output went non-finite) or NO_EVENT. */
static int run_steps_guarded(rtg_plan *p, int frames)
{
    int event = NO_EVENT;
    const rtg_step *s = p->steps, *end = p->steps + p->n_steps;
    for (; s < end; s++) {
        step_run(s, frames);
        if (!s->keeps_signal)
            continue;
        const size_t n = (size_t)frames * (size_t)s->out_ch;
        if (block_finite(s->out, n))
            continue;
        if (event == NO_EVENT)
            event = first_nonfinite(p, (int)(s - p->steps), frames);
        memset(s->out, 0, sizeof(float) * n);
        s->reset(s);
    }
    return event;
}

/* Whether [a, a + na) and [b, b + nb) share memory. */
static int overlap(const float *a, size_t na, const float *b, size_t nb)
{
    const uintptr_t a0 = (uintptr_t)a, a1 = (uintptr_t)(a + na);
    const uintptr_t b0 = (uintptr_t)b, b1 = (uintptr_t)(b + nb);
    return a0 < b1 && b0 < a1;
}

void rtg_plan_process(rtg_plan *p, const float *in, float *out, int frames)
{
    const int no = p->n_outputs;
    const size_t ni = (size_t)frames * (size_t)p->n_inputs, nout = (size_t)frames * (size_t)no;
    int event = NO_EVENT;
    /* The steps read the caller's input in place, unless the guard finds
     * a non-finite sample: then a copy with those zeroed. */
    const float *src = in;
    if (p->guard && !block_finite(in, ni)) {
        for (size_t i = 0; i < ni; i++)
            p->input[i] = rtg_all_finite(in + i, 1) ? in[i] : 0.0f;
        src = p->input;
        event = -1;
    }
    /* The output step writes into `out` directly, unless `out` overlaps
     * the input the steps still read (a caller processing in place). */
    const int direct = p->out_ref && !(src == in && overlap(in, ni, out, nout));
    bind_io(p, src, direct ? out : p->out_own);
    if (p->guard) {
        const int e = run_steps_guarded(p, frames);
        if (event == NO_EVENT)
            event = e;
    } else {
        run_steps(p, frames);
    }
    if (!direct) {
        if (p->out_contiguous) {
            memcpy(out, p->out_ptr[0], sizeof(float) * nout);
        } else {
            for (int k = 0; k < no; k++) {
                const float *o = p->out_ptr[k];
                const int stride = p->out_stride[k];
                for (int t = 0; t < frames; t++)
                    out[t * no + k] = o[t * stride];
            }
        }
    }
    if (!p->guard)
        return;
    /* What a step that keeps no signal made non-finite and no later one
     * caught: nothing to reset, the block is muted. */
    if (p->guard_outputs && !block_finite(out, nout)) {
        memset(out, 0, sizeof(float) * nout);
        if (event == NO_EVENT)
            event = first_nonfinite(p, p->n_steps - 1, frames);
    }
    if (event != NO_EVENT) { /* one event per block, however many steps it touched */
        p->nonfinite++;
        p->nonfinite_step = event;
    }
}

void rtg_plan_process_long(rtg_plan *p, const float *in, float *out, long frames)
{
    while (frames > 0) {
        int n = frames < p->max_block ? (int)frames : p->max_block;
        rtg_plan_process(p, in, out, n);
        in += (size_t)n * (size_t)p->n_inputs;
        out += (size_t)n * (size_t)p->n_outputs;
        frames -= n;
    }
}

void rtg_plan_reset(rtg_plan *p)
{
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].reset)
            p->steps[i].reset(&p->steps[i]);
}

void rtg_plan_set_param(rtg_plan *p, int step, int index, float value)
{
    if (step < 0 || step >= p->n_steps || !p->steps[step].param)
        return;
    p->steps[step].param(&p->steps[step], index, value);
}

void rtg_plan_set_guard(rtg_plan *p, int on)
{
    p->guard = on != 0;
}

unsigned long rtg_plan_take_nonfinite(rtg_plan *p, int *step)
{
    unsigned long n = p->nonfinite;
    p->nonfinite = 0;
    if (step)
        *step = p->nonfinite_step;
    return n;
}

double rtg_plan_macs(const rtg_plan *p)
{
    double m = 0;
    for (int i = 0; i < p->n_steps; i++)
        m += p->info[i].macs;
    return m;
}

void rtg_plan_free(rtg_plan *p)
{
    if (!p)
        return;
    free(p->arena);
    free(p->info);
    free(p);
}
