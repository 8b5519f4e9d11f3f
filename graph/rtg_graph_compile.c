/* rtg_graph_compile.c — the validated node table into plan steps: weights
 * loaded, channel counts inferred and checked, params registered. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtg_graph_internal.h"
#include "rtg_model_slot.h"
#include "rtg_ops.h"

static const char *src_text(const src_ref *s)
{
    return rtg_yaml_text(s->at);
}

/* Which channels a source reads, now that its node's channel count is known. */
static int view_of(loader *L, const gnode *n, node_field f, const src_ref *s, rtg_op_source *v)
{
    int buf = 0, ch = L->n_inputs;
    if (s->node >= 0) {
        buf = L->nodes[s->node].out_buf;
        ch = L->nodes[s->node].out_ch;
    }
    if (s->chan == SRC_ALL) {
        *v = (rtg_op_source){buf, 0, ch};
        return RTG_OK;
    }
    if (s->chan >= ch)
        return graph_fail(L, RTG_EINVAL, s->at, n, f, "source '%s': node '%s' has %d channel%s (0..%d)",
                          src_text(s), L->nodes[s->node].name, ch, ch == 1 ? "" : "s", ch - 1);
    *v = (rtg_op_source){buf, s->chan, 1};
    return RTG_OK;
}

/* Wraps an error from the plan builder or a loader with the node's place. */
static int wrap(loader *L, int code, const yaml_node_t *at, const gnode *n, node_field f,
                const rtg_error *sub)
{
    return graph_fail(L, code, at, n, f, "%s", sub->msg);
}

static int new_buffer(loader *L, const gnode *n, int ch, int *buf)
{
    *buf = rtg_plan_buffer(L->b, ch);
    if (*buf < 0)
        return graph_fail(L, RTG_ENOMEM, n->key, n, F_NONE, "cannot make a %d-channel buffer", ch);
    return RTG_OK;
}

/* A buffer that holds exactly the view: its own buffer when it is all of
 * it, else a copy made by a gather step labelled NODE/in. */
static int contiguous(loader *L, const gnode *n, const rtg_op_source *v, int *buf)
{
    if (v->offset == 0 && v->channels == rtg_plan_buffer_channels(L->b, v->buf)) {
        *buf = v->buf;
        return RTG_OK;
    }
    int rc = new_buffer(L, n, v->channels, buf);
    if (rc)
        return rc;
    char label[96];
    snprintf(label, sizeof label, "%s/in", n->name);
    rtg_error sub;
    rc = rtg_op_gather(L->b, v, 1, *buf, label, "select", &sub);
    return rc < 0 ? wrap(L, rc, n->key, n, F_IN, &sub) : RTG_OK;
}

/* PATH relative to the graph file's folder; fails if it cannot be read. */
static int resolve_path(loader *L, const gnode *n, node_field f, const yaml_node_t *at,
                        const char *rel, char *out, size_t size)
{
    int w = rel[0] == '/' || !strcmp(L->dir, ".") ? snprintf(out, size, "%s", rel)
                                                  : snprintf(out, size, "%s/%s", L->dir, rel);
    if (w < 0 || (size_t)w >= size)
        return graph_fail(L, RTG_EINVAL, at, n, f, "path '%s' is too long", rel);
    if (access(out, R_OK) != 0)
        return graph_fail(L, RTG_EIO, at, n, f, "cannot read '%s': %s", out, strerror(errno));
    return RTG_OK;
}

static int keep_model(loader *L, const gnode *n, rtg_model *m)
{
    if (L->n_models == L->cap_models) {
        int cap = L->cap_models ? 2 * L->cap_models : 8;
        rtg_model **p = realloc(L->models, sizeof *p * (size_t)cap);
        if (!p) {
            rtg_model_free(m);
            return graph_fail(L, RTG_ENOMEM, n->key, n, F_NONE, "out of memory");
        }
        L->models = p;
        L->cap_models = cap;
    }
    L->models[L->n_models++] = m;
    return RTG_OK;
}

/* `weights:` as FILE#N (Keras layer N), FILE#PREFIX, FILE, or
 * {file, prefix, layer} (PyTorch). *keras says which. */
static int load_weights(loader *L, const gnode *n, rtg_model **out, int *keras)
{
    const yaml_node_t *w = n->field[F_WEIGHTS];
    char file[512], prefix[128] = "", path[1024];
    int index = -1;
    *keras = 0;
    int rc;
    if (w->type == YAML_MAPPING_NODE) {
        char where[128];
        snprintf(where, sizeof where, "node '%s': field 'weights': ", n->name);
        if ((rc = rtg_yaml_check_unique_keys(&L->y, (yaml_node_t *)w, where, "key", L->err)))
            return rc;
        const yaml_node_t *fv = NULL;
        for (yaml_node_pair_t *p = w->data.mapping.pairs.start; p < w->data.mapping.pairs.top; p++) {
            const yaml_node_t *k = rtg_yaml_node(&L->y, p->key), *v = rtg_yaml_node(&L->y, p->value);
            const char *key = rtg_yaml_text(k), *s;
            double x;
            if (!strcmp(key, "file") || !strcmp(key, "prefix")) {
                if (!(s = rtg_yaml_text(v)) || (!*s && !strcmp(key, "file")))
                    return graph_fail(L, RTG_EINVAL, v, n, F_WEIGHTS, "%s: expected a string, got %s",
                                      key, rtg_yaml_kind(v));
                if (!strcmp(key, "file"))
                    snprintf(file, sizeof file, "%s", s), fv = v;
                else
                    snprintf(prefix, sizeof prefix, "%s", s);
            } else if (!strcmp(key, "layer")) {
                if (!rtg_yaml_number(v, &x) || x != (int)x || x < 0 || x > 1024)
                    return graph_fail(L, RTG_EINVAL, v, n, F_WEIGHTS,
                                      "layer: expected an integer 0..1024, got %s", rtg_yaml_text(v) ? rtg_yaml_text(v) : rtg_yaml_kind(v));
                index = (int)x;
            } else {
                return graph_fail(L, RTG_EINVAL, k, n, F_WEIGHTS,
                                  "unknown key '%s' (weights take: file, prefix, layer)", key);
            }
        }
        if (!fv)
            return graph_fail(L, RTG_EINVAL, w, n, F_WEIGHTS, "missing key 'file'");
    } else {
        const char *s = rtg_yaml_text(w), *hash = strrchr(s, '#');
        size_t flen = hash ? (size_t)(hash - s) : strlen(s);
        if (flen == 0 || flen >= sizeof file)
            return graph_fail(L, RTG_EINVAL, w, n, F_WEIGHTS, "expected FILE, FILE#N or FILE#PREFIX, got '%s'", s);
        memcpy(file, s, flen);
        file[flen] = 0;
        if (hash) {
            const char *suf = hash + 1;
            if (!*suf)
                return graph_fail(L, RTG_EINVAL, w, n, F_WEIGHTS, "nothing after '#' in '%s' (FILE#N or FILE#PREFIX)", s);
            if (strlen(suf) >= sizeof prefix)
                return graph_fail(L, RTG_EINVAL, w, n, F_WEIGHTS, "prefix in '%s' is too long", s);
            size_t digits = strspn(suf, "0123456789");
            if (!suf[digits]) {
                if (digits > 5)
                    return graph_fail(L, RTG_EINVAL, w, n, F_WEIGHTS, "layer index in '%s' is too large", s);
                *keras = 1;
                index = atoi(suf);
            } else {
                snprintf(prefix, sizeof prefix, "%s", suf);
            }
        }
    }
    if ((rc = resolve_path(L, n, F_WEIGHTS, w, file, path, sizeof path)))
        return rc;
    rtg_error sub;
    rtg_model *m = NULL;
    rc = rtg_model_load_layer(path, *keras ? NULL : prefix, index, &m, &sub);
    if (rc)
        return wrap(L, rc, w, n, F_WEIGHTS, &sub);
    if ((rc = keep_model(L, n, m)))
        return rc;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].type != n->op->layer)
            return graph_fail(L, RTG_EINVAL, w, n, F_WEIGHTS, "the weights hold a %s layer, not %s",
                              rtg_layer_type_name(m->layers[i].type), n->op->name);
    *out = m;
    return RTG_OK;
}

/* Kernel size, dilation, groups and stride: a Keras file states them all,
 * so what the graph states is checked; a PyTorch state dict only implies
 * the kernel size and in_ch/groups, so the graph supplies the rest (groups
 * by default so the input's channels fit). */
static int fit_conv1d(loader *L, const gnode *n, rtg_layer_desc *d, int keras, int in_ch)
{
    static const node_field fields[4] = {F_KERNEL_SIZE, F_DILATION, F_GROUPS, F_STRIDE};
    int *have[4] = {&d->kernel_size, &d->dilation, &d->groups, &d->stride};
    for (int i = 0; i < 4; i++)
        if (*have[i] < 1)
            *have[i] = 1;
    for (int i = 0; i < 4; i++) {
        int said = n->conv[i];
        if (!said || said == *have[i] || (!keras && i > 0))
            continue;
        return graph_fail(L, RTG_EINVAL, n->field[fields[i]], n, fields[i],
                          "the weights say %d, the graph says %d", *have[i], said);
    }
    if (keras)
        return RTG_OK;
    int per_group = d->in_ch / d->groups;
    int groups = n->conv[2] ? n->conv[2] : (in_ch % per_group == 0 ? in_ch / per_group : 1);
    if (d->out_ch % groups)
        return graph_fail(L, RTG_EINVAL, n->field[F_GROUPS] ? n->field[F_GROUPS] : n->key, n,
                          n->field[F_GROUPS] ? F_GROUPS : F_NONE,
                          "%d groups do not divide the %d output channels", groups, d->out_ch);
    d->groups = groups;
    d->in_ch = per_group * groups;
    if (n->conv[1])
        d->dilation = n->conv[1];
    if (n->conv[3])
        d->stride = n->conv[3];
    return RTG_OK;
}

/* Appends a chain of layers reading view `v`; sets the node's output. */
static int add_chain(loader *L, gnode *n, const rtg_model *m, int in_ch,
                     const rtg_op_source *v, const char *what)
{
    if (in_ch != v->channels)
        return graph_fail(L, RTG_EINVAL, n->src[0].at, n, F_IN,
                          "'%s' gives %d channel%s but %s takes %d", src_text(&n->src[0]),
                          v->channels, v->channels == 1 ? "" : "s", what, in_ch);
    int in, rc;
    if ((rc = contiguous(L, n, v, &in)))
        return rc;
    rtg_error sub;
    int out = rtg_plan_add_model(L->b, m, in, n->name, &sub);
    if (out < 0)
        return wrap(L, out, n->key, n, F_NONE, &sub);
    n->out_buf = out;
    n->out_ch = rtg_plan_buffer_channels(L->b, out);
    return RTG_OK;
}

static int compile_layer(loader *L, gnode *n, const rtg_op_source *v)
{
    rtg_model *m;
    int keras, rc;
    if ((rc = load_weights(L, n, &m, &keras)))
        return rc;
    rtg_layer_desc *d = &m->layers[0];
    if (d->type == RTG_LAYER_CONV1D && (rc = fit_conv1d(L, n, d, keras, v->channels)))
        return rc;
    if (d->type == RTG_LAYER_PRELU && d->n_alpha == 1) /* one alpha shared by all channels */
        d->in_ch = d->out_ch = v->channels;
    char what[160];
    snprintf(what, sizeof what, "%s layer '%s'", n->op->name, rtg_yaml_text(n->field[F_WEIGHTS])
             ? rtg_yaml_text(n->field[F_WEIGHTS]) : "{...}");
    return add_chain(L, n, m, d->in_ch, v, what);
}

static int compile_model(loader *L, gnode *n, const rtg_op_source *v)
{
    const yaml_node_t *f = n->field[F_FILE];
    char path[1024];
    int rc;
    if ((rc = resolve_path(L, n, F_FILE, f, rtg_yaml_text(f), path, sizeof path)))
        return rc;
    rtg_error sub;
    rtg_model *m = NULL;
    rc = rtg_model_load(path, &m, &sub);
    if (rc)
        return wrap(L, rc, f, n, F_FILE, &sub);
    if ((rc = keep_model(L, n, m)))
        return rc;
    if (m->in_ch != v->channels)
        return graph_fail(L, RTG_EINVAL, n->src[0].at, n, F_IN,
                          "'%s' gives %d channel%s but model '%s' takes %d", src_text(&n->src[0]),
                          v->channels, v->channels == 1 ? "" : "s", rtg_yaml_text(f), m->in_ch);
    const double rate = m->meta.sample_rate;
    if (!n->resample && rate > 0 && rate != L->sample_rate)
        return graph_fail(L, RTG_EINVAL, f, n, F_FILE,
                          "model '%s' was trained at %g Hz but the graph runs at %g Hz, and the "
                          "node says resample: false", rtg_yaml_text(f), rate, L->sample_rate);
    /* A slot, not the layers inlined: the model can then be swapped while
     * the rest of the graph keeps running (rtg_model_slot.h). */
    int in;
    if ((rc = contiguous(L, n, v, &in)))
        return rc;
    const rtg_model_slot_opts opts = {.no_resample = !n->resample, .normalize = n->normalize};
    int out = rtg_plan_add_model_slot_with(L->b, m, in, n->name, L->max_block, L->sample_rate,
                                           &opts, NULL, &sub);
    if (out < 0)
        return wrap(L, out, f, n, F_FILE, &sub);
    n->out_buf = out;
    n->out_ch = m->out_ch;
    return RTG_OK;
}

static int compile_activation(loader *L, gnode *n, const rtg_op_source *v)
{
    rtg_layer_desc d = {.type = RTG_LAYER_ACTIVATION, .in_ch = v->channels, .out_ch = v->channels,
                        .act = n->op->act, .alpha = (float)n->alpha};
    int in, out, rc;
    if ((rc = contiguous(L, n, v, &in)) || (rc = new_buffer(L, n, v->channels, &out)))
        return rc;
    rtg_error sub;
    rc = rtg_plan_add_layer(L->b, &d, in, out, n->name, &sub);
    if (rc < 0)
        return wrap(L, rc, n->key, n, F_NONE, &sub);
    n->out_buf = out;
    n->out_ch = v->channels;
    return RTG_OK;
}

/* Channels of an element-wise combination: all the same, or 1. */
static int combined_channels(loader *L, const gnode *n, const rtg_op_source *v, int *ch)
{
    int c = 1, at = 0;
    for (int i = 0; i < n->n_src; i++)
        if (v[i].channels != 1) {
            if (c != 1 && v[i].channels != c)
                return graph_fail(L, RTG_EINVAL, n->src[i].at, n, F_IN,
                                  "'%s' gives %d channels but '%s' gives %d (inputs of %s need the same count, or 1)",
                                  src_text(&n->src[i]), v[i].channels, src_text(&n->src[at]), c,
                                  n->op->name);
            c = v[i].channels;
            at = i;
        }
    *ch = c;
    return RTG_OK;
}

static int compile_dsp(loader *L, gnode *n, rtg_op_source *v)
{
    const int ramp = rtg_graph_ramp_frames(n->smooth_ms, L->sample_rate);
    int out_ch = n->n_src ? v[0].channels : 1, rc;
    switch (n->op->kind) {
    case OP_ADD: case OP_MUL: case OP_MIX:
        rc = combined_channels(L, n, v, &out_ch);
        break;
    case OP_CONCAT:
        out_ch = 0;
        for (int i = 0; i < n->n_src; i++)
            out_ch += v[i].channels;
        if (out_ch > GRAPH_MAX_CHANNELS) /* 256 sources of 4096 could make a million */
            return graph_fail(L, RTG_EINVAL, n->field[F_IN], n, F_IN,
                              "the sources give %d channels together, at most %d", out_ch,
                              GRAPH_MAX_CHANNELS);
        rc = RTG_OK;
        break;
    case OP_SLICE:
        if (n->from + n->count > v[0].channels)
            return graph_fail(L, RTG_EINVAL, n->field[F_FROM], n, F_FROM,
                              "channels %d..%d are outside '%s', which has %d", n->from,
                              n->from + n->count - 1, src_text(&n->src[0]), v[0].channels);
        v[0].offset += n->from;
        v[0].channels = out_ch = n->count;
        rc = RTG_OK;
        break;
    default:
        rc = RTG_OK;
        break;
    }
    int out;
    if (rc || (rc = new_buffer(L, n, out_ch, &out)))
        return rc;
    rtg_error sub;
    int step;
    switch (n->op->kind) {
    case OP_GAIN:
        step = rtg_op_gain(L->b, v[0], n->param[0], ramp, out, n->name, &sub);
        break;
    case OP_ADD:
        step = rtg_op_combine(L->b, RTG_COMBINE_ADD, v, n->n_src, NULL, 0, out, n->name, &sub);
        break;
    case OP_MUL:
        step = rtg_op_combine(L->b, RTG_COMBINE_MUL, v, n->n_src, NULL, 0, out, n->name, &sub);
        break;
    case OP_MIX:
        step = rtg_op_combine(L->b, RTG_COMBINE_MIX, v, n->n_src, n->param, ramp, out, n->name, &sub);
        break;
    case OP_CONCAT: case OP_SLICE:
        step = rtg_op_gather(L->b, v, n->n_src, out, n->name, n->op->name, &sub);
        break;
    case OP_DELAY:
        step = rtg_op_delay(L->b, v[0], n->max_samples, n->param[0], ramp, out, n->name, &sub);
        break;
    default: /* OP_CONTROL */
        step = rtg_op_control(L->b, n->param[0], ramp, out, n->name, &sub);
        break;
    }
    if (step < 0)
        return wrap(L, step, n->key, n, F_NONE, &sub);
    n->out_buf = out;
    n->out_ch = out_ch;
    if (!n->op->param)
        return RTG_OK;
    for (int i = 0; i < n->n_param; i++) {
        char idx[16];
        snprintf(idx, sizeof idx, "%d", i);
        if ((rc = graph_add_param(L, n, n->op->param_is_list ? idx : NULL, step, i, n->param[i])))
            return rc;
    }
    return RTG_OK;
}

static int compile_node(loader *L, gnode *n)
{
    rtg_op_source *v = calloc((size_t)(n->n_src ? n->n_src : 1), sizeof *v);
    if (!v)
        return graph_fail(L, RTG_ENOMEM, n->key, n, F_NONE, "out of memory");
    int rc = RTG_OK;
    for (int i = 0; i < n->n_src && !rc; i++)
        rc = view_of(L, n, F_IN, &n->src[i], &v[i]);
    if (!rc) {
        switch (n->op->kind) {
        case OP_LAYER: rc = compile_layer(L, n, v); break;
        case OP_ACT: rc = compile_activation(L, n, v); break;
        case OP_MODEL: rc = compile_model(L, n, v); break;
        default: rc = compile_dsp(L, n, v); break;
        }
    }
    free(v);
    return rc;
}

static int set_outputs(loader *L)
{
    int total = 0, rc;
    rtg_op_source *v = calloc((size_t)L->n_outs, sizeof *v);
    if (!v)
        return graph_fail(L, RTG_ENOMEM, L->outs_at, NULL, F_OUTPUTS, "out of memory");
    for (int i = 0; i < L->n_outs; i++) {
        if ((rc = view_of(L, NULL, F_OUTPUTS, &L->outs[i], &v[i]))) {
            free(v);
            return rc;
        }
        total += v[i].channels;
    }
    if (total > GRAPH_MAX_OUTPUTS) {
        free(v);
        return graph_fail(L, RTG_EINVAL, L->outs_at, NULL, F_OUTPUTS, "%d output channels, at most %d",
                          total, GRAPH_MAX_OUTPUTS);
    }
    int bufs[GRAPH_MAX_OUTPUTS], chans[GRAPH_MAX_OUTPUTS], k = 0;
    for (int i = 0; i < L->n_outs; i++)
        for (int c = 0; c < v[i].channels; c++, k++) {
            bufs[k] = v[i].buf;
            chans[k] = v[i].offset + c;
        }
    free(v);
    rtg_error sub;
    if ((rc = rtg_plan_set_outputs(L->b, total, bufs, chans, &sub)))
        return wrap(L, rc, L->outs_at, NULL, F_OUTPUTS, &sub);
    return RTG_OK;
}

int graph_compile(loader *L)
{
    rtg_graph *g = L->g;
    g->nodes = calloc((size_t)L->n_nodes, sizeof *g->nodes);
    if (!g->nodes)
        return graph_fail(L, RTG_ENOMEM, NULL, NULL, F_NONE, "out of memory");
    for (int i = 0; i < L->n_nodes; i++) {
        gnode *n = &L->nodes[L->order[i]];
        rtg_graph_node *gn = &g->nodes[i];
        gn->first_step = rtg_plan_step_count(L->b);
        int rc = compile_node(L, n);
        if (rc)
            return rc;
        snprintf(gn->name, sizeof gn->name, "%s", n->name);
        snprintf(gn->op, sizeof gn->op, "%s", n->op->name);
        gn->n_steps = rtg_plan_step_count(L->b) - gn->first_step;
        gn->out_ch = n->out_ch;
        g->n_nodes = i + 1;
    }
    return set_outputs(L);
}
