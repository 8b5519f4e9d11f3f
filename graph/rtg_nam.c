/* rtg_nam.c — the .nam loader (see rtg_nam.h). */
#include "rtg_nam.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_kernel_modules.h"

#define NAM_MAX_ARRAYS 16
#define NAM_MAX_DILATIONS 256
#define NAM_MAX_LSTM_LAYERS 64

int rtg_nam_is_nam_path(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".nam");
}

/* Reads an integer field in lo..hi; `where` names the object in messages. */
static int get_int(const char *path, json_t *obj, const char *where, const char *key, int lo,
                   int hi, int *out, rtg_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return rtg_error_set(err, RTG_EINVAL, "%s: %s: missing key '%s'", path, where, key);
    if (!json_is_integer(v))
        return rtg_error_set(err, RTG_EINVAL, "%s: %s.%s: expected an integer", path, where, key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return rtg_error_set(err, RTG_EINVAL, "%s: %s.%s is %lld, must be in %d..%d", path, where,
                             key, (long long)x, lo, hi);
    *out = (int)x;
    return RTG_OK;
}

static int get_bool(const char *path, json_t *obj, const char *where, const char *key, int *out,
                    rtg_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return rtg_error_set(err, RTG_EINVAL, "%s: %s: missing key '%s'", path, where, key);
    if (!json_is_boolean(v))
        return rtg_error_set(err, RTG_EINVAL, "%s: %s.%s: expected true or false", path, where, key);
    *out = json_is_true(v);
    return RTG_OK;
}

/* NAM's activation names (a string, or {"type": NAME, ...} in newer files). */
static int parse_activation(const char *path, json_t *v, const char *where, rtg_act *act,
                            float *alpha, rtg_error *err)
{
    json_t *name = v;
    *alpha = 0.01f;
    if (json_is_object(v)) {
        name = json_object_get(v, "type");
        json_t *slope = json_object_get(v, "negative_slope");
        if (slope && json_is_number(slope))
            *alpha = (float)json_number_value(slope);
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val)
        {
            if (strcmp(key, "type") && strcmp(key, "negative_slope"))
                return rtg_error_set(err, RTG_ENOTSUP, "%s: %s.activation: not supported: option '%s'",
                                     path, where, key);
        }
    }
    if (!json_is_string(name))
        return rtg_error_set(err, RTG_EINVAL, "%s: %s.activation: expected a name", path, where);
    static const struct {
        const char *name;
        rtg_act act;
    } names[] = {
        {"Tanh", RTG_ACT_TANH},         {"ReLU", RTG_ACT_RELU},
        {"Hardtanh", RTG_ACT_HARDTANH}, {"Fasttanh", RTG_ACT_FAST_TANH},
        {"Sigmoid", RTG_ACT_SIGMOID},   {"LeakyReLU", RTG_ACT_LEAKY_RELU},
    };
    const char *s = json_string_value(name);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].name)) {
            *act = names[i].act;
            return RTG_OK;
        }
    return rtg_error_set(err, RTG_ENOTSUP, "%s: %s.activation: not supported: '%s'", path, where, s);
}

/* The WaveNet options this engine runs; anything else in a layer array is
 * an option we would otherwise silently ignore. */
static int check_array_keys(const char *path, json_t *la, const char *where, int channels,
                            rtg_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(la, key, v)
    {
        static const char *known[] = {"input_size", "condition_size", "head_size", "channels",
                                      "kernel_size", "dilations", "activation", "gated",
                                      "head_bias"};
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok |= !strcmp(key, known[i]);
        /* Newer files spell out defaults; those are harmless. */
        if (!strcmp(key, "bottleneck"))
            ok = json_is_integer(v) && json_integer_value(v) == channels;
        else if (!strncmp(key, "groups", 6))
            ok = json_is_integer(v) && json_integer_value(v) == 1;
        else if (!strcmp(key, "gating_mode"))
            ok = json_is_string(v) && (!strcmp(json_string_value(v), "NONE") ||
                                       !strcmp(json_string_value(v), "GATED"));
        if (!ok)
            return rtg_error_set(err, RTG_ENOTSUP, "%s: %s: not supported: '%s'", path, where, key);
    }
    return RTG_OK;
}

/* What the config says of one layer array, before weights are placed. */
typedef struct array_config {
    int input_size, condition_size, head_size, channels, kernel_size, gated, head_bias;
    rtg_act act;
    float alpha;
    int n_layers;
    int dilations[NAM_MAX_DILATIONS];
} array_config;

/* Floats of one layer array in NAM's weight order. */
static size_t raw_count(const array_config *a)
{
    size_t C = (size_t)a->channels, zc = (a->gated ? 2 : 1) * C;
    size_t per_layer = zc * C * (size_t)a->kernel_size + zc + zc * (size_t)a->condition_size +
                       C * C + C;
    return C * (size_t)a->input_size + per_layer * (size_t)a->n_layers + (size_t)a->head_size * C +
           (a->head_bias ? (size_t)a->head_size : 0);
}

/* Floats of one layer array once re-laid for the packed [x|cond] signal. */
static size_t packed_count(const array_config *a, int first)
{
    /* The first array reads the raw input, which is the condition itself;
     * later ones read the previous array's packed [x | cond]. */
    size_t in = first ? 1 : (size_t)a->input_size + 1;
    size_t C = (size_t)a->channels, zc = (a->gated ? 2 : 1) * C, K = (size_t)a->kernel_size;
    return (C + 1) * in + (size_t)a->n_layers * (zc * (C + 1) * K + zc + (C + 1) * C + (C + 1)) +
           (size_t)a->head_size * C + (size_t)a->head_size;
}

/* The model's WaveNet in one allocation: after `layers` come as many
 * rtg_wavenet_layer_spec (both hold pointers, so the second stays aligned). */
typedef struct wavenet_alloc {
    rtg_wavenet net;
    rtg_wavenet_array arrays[NAM_MAX_ARRAYS];
    rtg_wavenet_array_spec specs[NAM_MAX_ARRAYS];
    rtg_wavenet_layer layers[];
} wavenet_alloc;

/* Points one array's kernel spec at its weights in NAM's own order (a copy
 * of the file's weights array, read from *raw), and moves *raw past them. */
static void spec_array(const array_config *c, rtg_wavenet_array_spec *as,
                       rtg_wavenet_layer_spec *ls, const float **raw, int first)
{
    const float *p = *raw;
    const size_t C = (size_t)c->channels, zc = (c->gated ? 2 : 1) * C, K = (size_t)c->kernel_size;
    as->in_ch = first ? 1 : c->input_size;
    as->channels = c->channels;
    as->kernel_size = c->kernel_size;
    as->gated = c->gated;
    as->act = c->act;
    as->alpha = c->alpha;
    as->head_size = c->head_size;
    as->n_layers = c->n_layers;
    as->rechannel_w = p;
    p += C * (size_t)as->in_ch;
    as->layers = ls;
    for (int l = 0; l < c->n_layers; l++) {
        ls[l].dilation = c->dilations[l];
        ls[l].conv_w = p;
        p += zc * C * K;
        ls[l].conv_b = p;
        p += zc;
        ls[l].mixin = p;
        p += zc;
        ls[l].res_w = p;
        p += C * C;
        ls[l].res_b = p;
        p += C;
    }
    as->head_w = p;
    p += (size_t)c->head_size * C;
    as->head_b = c->head_bias ? p : NULL;
    if (c->head_bias)
        p += c->head_size;
    *raw = p;
}

static int parse_array_config(const char *path, json_t *la, int i, array_config *a,
                              const array_config *prev, rtg_error *err)
{
    char where[64];
    snprintf(where, sizeof where, "config.layers[%d]", i);
    int rc;
    if (!json_is_object(la))
        return rtg_error_set(err, RTG_EINVAL, "%s: %s: expected an object", path, where);
    if ((rc = get_int(path, la, where, "input_size", 1, RTG_MAX_CHANNELS, &a->input_size, err)) ||
        (rc = get_int(path, la, where, "condition_size", 1, 1, &a->condition_size, err)) ||
        (rc = get_int(path, la, where, "head_size", 1, RTG_MAX_CHANNELS, &a->head_size, err)) ||
        (rc = get_int(path, la, where, "channels", 1, 256, &a->channels, err)) ||
        (rc = get_int(path, la, where, "kernel_size", 1, 64, &a->kernel_size, err)) ||
        (rc = get_bool(path, la, where, "gated", &a->gated, err)) ||
        (rc = get_bool(path, la, where, "head_bias", &a->head_bias, err)) ||
        (rc = check_array_keys(path, la, where, a->channels, err)))
        return rc;
    json_t *act = json_object_get(la, "activation");
    if (!act)
        return rtg_error_set(err, RTG_EINVAL, "%s: %s: missing key 'activation'", path, where);
    if ((rc = parse_activation(path, act, where, &a->act, &a->alpha, err)))
        return rc;
    json_t *dils = json_object_get(la, "dilations");
    if (!json_is_array(dils) || json_array_size(dils) < 1 || json_array_size(dils) > NAM_MAX_DILATIONS)
        return rtg_error_set(err, RTG_EINVAL, "%s: %s.dilations: expected a list of 1..%d integers",
                             path, where, NAM_MAX_DILATIONS);
    a->n_layers = (int)json_array_size(dils);
    for (int l = 0; l < a->n_layers; l++) {
        json_t *d = json_array_get(dils, (size_t)l);
        if (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > RTG_MAX_DILATION)
            return rtg_error_set(err, RTG_EINVAL, "%s: %s.dilations[%d]: expected an integer in 1..%d",
                                 path, where, l, RTG_MAX_DILATION);
        a->dilations[l] = (int)json_integer_value(d);
    }
    if (!prev && a->input_size != 1)
        return rtg_error_set(err, RTG_ENOTSUP, "%s: %s.input_size is %d: not supported: a first "
                             "layer array that does not take the mono input", path, where, a->input_size);
    if (prev && a->input_size != prev->channels)
        return rtg_error_set(err, RTG_EINVAL, "%s: %s.input_size is %d but the previous array has "
                             "%d channels", path, where, a->input_size, prev->channels);
    if (prev && a->channels != prev->head_size)
        return rtg_error_set(err, RTG_EINVAL, "%s: %s.channels is %d but the previous array's "
                             "head_size is %d", path, where, a->channels, prev->head_size);
    return RTG_OK;
}

/* Re-lays one array's NAM weights (read from *raw) into `q` for the packed
 * signal, fills the descs, and returns where the next array's weights go. */
static float *place_array(const array_config *c, rtg_wavenet_array *a, const float **raw, float *q,
                          int first, int last, float head_scale)
{
    const float *p = *raw;
    const int C = c->channels, zc = (c->gated ? 2 : 1) * C, K = c->kernel_size;
    const int xin = first ? 1 : c->input_size; /* channels of x the rechannel reads */
    const int in = first ? 1 : c->input_size + 1;
    a->channels = C;
    a->gated = c->gated;
    a->act = c->act;
    a->act_alpha = c->alpha;
    a->n_layers = c->n_layers;
    /* rechannel: [x_in | cond] -> [R x_in | cond]; the first array's x_in
     * is the condition, so there it is [cond] -> [R cond | cond]. */
    a->rechannel = (rtg_layer_desc){.type = RTG_LAYER_DENSE, .in_ch = in, .out_ch = C + 1, .w = q};
    for (int r = 0; r <= C; r++)
        for (int j = 0; j < in; j++) {
            const int cond_col = j == in - 1;
            *q++ = r < C ? (j < xin ? p[r * xin + j] : 0.0f) : (cond_col ? 1.0f : 0.0f);
        }
    p += (size_t)C * xin;
    for (int l = 0; l < c->n_layers; l++) {
        rtg_wavenet_layer *L = &a->layers[l];
        const float *conv_w = p, *conv_b = p + (size_t)zc * C * K;
        const float *mixin = conv_b + zc, *res_w = mixin + zc, *res_b = res_w + (size_t)C * C;
        p = res_b + C;
        L->conv = (rtg_layer_desc){.type = RTG_LAYER_CONV1D, .in_ch = C + 1, .out_ch = zc,
                                   .kernel_size = K, .dilation = c->dilations[l], .groups = 1,
                                   .stride = 1, .w = q, .act = c->gated ? RTG_ACT_NONE : c->act,
                                   .alpha = c->alpha};
        for (int o = 0; o < zc; o++)
            for (int j = 0; j <= C; j++)
                for (int k = 0; k < K; k++)
                    *q++ = j < C ? conv_w[((size_t)o * C + j) * K + k]
                                 : (k == K - 1 ? mixin[o] : 0.0f); /* newest tap only */
        L->conv.b = q;
        memcpy(q, conv_b, sizeof(float) * (size_t)zc);
        q += zc;
        L->res = (rtg_layer_desc){.type = RTG_LAYER_DENSE, .in_ch = C, .out_ch = C + 1, .w = q};
        memcpy(q, res_w, sizeof(float) * (size_t)C * C);
        q += (size_t)C * C;
        memset(q, 0, sizeof(float) * (size_t)C);
        q += C;
        L->res.b = q;
        memcpy(q, res_b, sizeof(float) * (size_t)C);
        q[C] = 0.0f;
        q += C + 1;
    }
    const float scale = last ? head_scale : 1.0f;
    a->head = (rtg_layer_desc){.type = RTG_LAYER_DENSE, .in_ch = C, .out_ch = c->head_size, .w = q};
    for (int i = 0; i < c->head_size * C; i++)
        *q++ = scale * p[i];
    p += (size_t)c->head_size * C;
    a->head.b = q;
    for (int i = 0; i < c->head_size; i++)
        *q++ = c->head_bias ? scale * p[i] : 0.0f;
    if (c->head_bias)
        p += c->head_size;
    *raw = p;
    return q;
}

static int parse_wavenet(const char *path, json_t *config, rtg_model *m, const float *w,
                         size_t n_w, rtg_error *err)
{
    int rc;
    const char *key;
    json_t *v;
    json_object_foreach(config, key, v)
    {
        if (!strcmp(key, "layers") || !strcmp(key, "head_scale"))
            continue;
        if (!strcmp(key, "head") && json_is_null(v))
            continue;
        return rtg_error_set(err, RTG_ENOTSUP, "%s: config: not supported: '%s'", path,
                             !strcmp(key, "head") ? "head (a post-stack head)" : key);
    }
    json_t *arrays = json_object_get(config, "layers");
    if (!json_is_array(arrays) || json_array_size(arrays) < 1 ||
        json_array_size(arrays) > NAM_MAX_ARRAYS)
        return rtg_error_set(err, RTG_EINVAL, "%s: config.layers: expected 1..%d layer arrays",
                             path, NAM_MAX_ARRAYS);
    int n_arrays = (int)json_array_size(arrays);
    array_config *cfg = calloc((size_t)n_arrays, sizeof *cfg);
    if (!cfg)
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
    size_t need = 1, packed = 0; /* +1: head_scale, NAM's last weight */
    int n_layers = 0;
    long receptive = 1;
    for (int i = 0; i < n_arrays; i++) {
        if ((rc = parse_array_config(path, json_array_get(arrays, (size_t)i), i, &cfg[i],
                                     i ? &cfg[i - 1] : NULL, err)))
            goto done;
        need += raw_count(&cfg[i]);
        packed += packed_count(&cfg[i], i == 0);
        n_layers += cfg[i].n_layers;
        for (int l = 0; l < cfg[i].n_layers; l++)
            receptive += (long)cfg[i].dilations[l] * (cfg[i].kernel_size - 1);
    }
    /* Pre-warm runs the receptive field; dilations of up to 65536 in up to
     * 16 x 256 layers could ask for hours of it. */
    if (receptive > RTG_PLAN_MAX_PREWARM) {
        rc = rtg_error_set(err, RTG_ENOMEM, "%s: config: a receptive field of %ld samples, more "
                           "than the %ld rtgraph runs", path, receptive, RTG_PLAN_MAX_PREWARM);
        goto done;
    }
    if (cfg[n_arrays - 1].head_size != 1) {
        rc = rtg_error_set(err, RTG_ENOTSUP, "%s: not supported: a last head_size of %d (mono out only)",
                           path, cfg[n_arrays - 1].head_size);
        goto done;
    }
    if (n_w != need) {
        rc = rtg_error_set(err, RTG_EINVAL, "%s: weights: %zu values, but this WaveNet needs %zu",
                           path, n_w, need);
        goto done;
    }
    wavenet_alloc *wa = calloc(1, sizeof *wa + (sizeof(rtg_wavenet_layer) +
                                                 sizeof(rtg_wavenet_layer_spec)) * (size_t)n_layers);
    /* The store: the packed descs' weights, then NAM's weights as they are
     * (what the kernel spec points at). */
    m->store = malloc(sizeof(float) * (packed + n_w));
    if (!wa || !m->store) {
        free(wa);
        rc = rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    m->store_floats = packed + n_w;
    wa->net.arrays = wa->arrays;
    wa->net.n_arrays = n_arrays;
    rtg_wavenet_layer_spec *lspecs = (rtg_wavenet_layer_spec *)&wa->layers[n_layers];
    const float *raw = w, *nam = memcpy(m->store + packed, w, sizeof(float) * n_w);
    float *q = m->store;
    int at = 0;
    for (int i = 0; i < n_arrays; i++) {
        wa->arrays[i].layers = &wa->layers[at];
        spec_array(&cfg[i], &wa->specs[i], &lspecs[at], &nam, i == 0);
        at += cfg[i].n_layers;
        q = place_array(&cfg[i], &wa->arrays[i], &raw, q, i == 0, i == n_arrays - 1, w[n_w - 1]);
    }
    wa->net.spec = (rtg_wavenet_spec){.n_arrays = n_arrays, .arrays = wa->specs,
                                      .head_scale = w[n_w - 1]};
    m->wavenet = &wa->net;
    m->in_ch = 1;
    m->out_ch = 1;
    m->prewarm_samples = receptive;
    rc = RTG_OK;
done:
    free(cfg);
    return rc;
}

static int parse_lstm(const char *path, json_t *config, rtg_model *m, const float *w, size_t n_w,
                      rtg_error *err)
{
    int rc, layers, in, H;
    const char *key;
    json_t *v;
    json_object_foreach(config, key, v)
    {
        if (strcmp(key, "num_layers") && strcmp(key, "input_size") && strcmp(key, "hidden_size"))
            return rtg_error_set(err, RTG_ENOTSUP, "%s: config: not supported: '%s'", path, key);
    }
    if ((rc = get_int(path, config, "config", "num_layers", 1, NAM_MAX_LSTM_LAYERS, &layers, err)) ||
        (rc = get_int(path, config, "config", "input_size", 1, 1, &in, err)) ||
        (rc = get_int(path, config, "config", "hidden_size", 1, 1024, &H, err)))
        return rc;
    size_t need = 0;
    for (int l = 0; l < layers; l++) {
        size_t li = l ? (size_t)H : (size_t)in;
        need += 4 * (size_t)H * (li + (size_t)H) + 4 * (size_t)H + 2 * (size_t)H;
    }
    need += (size_t)H + 1;
    if (n_w != need)
        return rtg_error_set(err, RTG_EINVAL, "%s: weights: %zu values, but this LSTM needs %zu",
                             path, n_w, need);
    /* NAM keeps W as one [4H][in+H] matrix over [x; h]: split it into the
     * W_ih and W_hh the LSTM kernel takes, in a fresh store. */
    size_t store = 0;
    for (int l = 0; l < layers; l++) {
        size_t li = l ? (size_t)H : (size_t)in;
        store += 4 * (size_t)H * (li + (size_t)H) + 4 * (size_t)H + 2 * (size_t)H;
    }
    store += (size_t)H + 1;
    m->store = malloc(sizeof(float) * store);
    m->layers = calloc((size_t)layers + 1, sizeof *m->layers);
    if (!m->store || !m->layers)
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
    m->store_floats = store;
    const float *p = w;
    float *q = m->store;
    for (int l = 0; l < layers; l++) {
        int li = l ? H : in;
        rtg_layer_desc *d = &m->layers[l];
        d->type = RTG_LAYER_LSTM;
        d->in_ch = li;
        d->out_ch = H;
        float *wih = q, *whh = q + 4 * H * li;
        for (int r = 0; r < 4 * H; r++) {
            memcpy(wih + (size_t)r * li, p, sizeof(float) * (size_t)li);
            memcpy(whh + (size_t)r * H, p + li, sizeof(float) * (size_t)H);
            p += li + H;
        }
        q += 4 * (size_t)H * (size_t)(li + H);
        d->w = wih;
        d->u = whh;
        d->b = q;
        memcpy(q, p, sizeof(float) * 4 * (size_t)H);
        q += 4 * H;
        p += 4 * H;
        d->h0 = q;
        memcpy(q, p, sizeof(float) * (size_t)H);
        q += H;
        p += H;
        d->c0 = q;
        memcpy(q, p, sizeof(float) * (size_t)H);
        q += H;
        p += H;
    }
    rtg_layer_desc *head = &m->layers[layers];
    head->type = RTG_LAYER_DENSE;
    head->in_ch = H;
    head->out_ch = 1;
    memcpy(q, p, sizeof(float) * ((size_t)H + 1));
    head->w = q;
    head->b = q + H;
    m->n_layers = layers + 1;
    m->in_ch = in;
    m->out_ch = 1;
    /* NAM settles an LSTM with half a second of silence. */
    m->prewarm_samples = (long)(0.5 * m->meta.sample_rate);
    if (m->prewarm_samples < 1)
        m->prewarm_samples = 1;
    return RTG_OK;
}

static void copy_meta_string(json_t *meta, const char *key, char *dst, size_t n)
{
    json_t *v = json_object_get(meta, key);
    if (json_is_string(v))
        snprintf(dst, n, "%s", json_string_value(v));
}

static void parse_meta(json_t *meta, rtg_model_meta *out)
{
    if (!json_is_object(meta))
        return;
    copy_meta_string(meta, "name", out->name, sizeof out->name);
    copy_meta_string(meta, "modeled_by", out->modeled_by, sizeof out->modeled_by);
    copy_meta_string(meta, "gear_type", out->gear_type, sizeof out->gear_type);
    copy_meta_string(meta, "gear_make", out->gear_make, sizeof out->gear_make);
    copy_meta_string(meta, "gear_model", out->gear_model, sizeof out->gear_model);
    copy_meta_string(meta, "tone_type", out->tone_type, sizeof out->tone_type);
    json_t *v;
    if (json_is_number(v = json_object_get(meta, "loudness")) && isfinite(json_number_value(v))) {
        out->loudness = json_number_value(v);
        out->has_loudness = 1;
    }
    if (json_is_number(v = json_object_get(meta, "input_level_dbu")) && isfinite(json_number_value(v))) {
        out->input_level_dbu = json_number_value(v);
        out->has_input_level = 1;
    }
    if (json_is_number(v = json_object_get(meta, "output_level_dbu")) && isfinite(json_number_value(v))) {
        out->output_level_dbu = json_number_value(v);
        out->has_output_level = 1;
    }
}

/* Accepts the versions NeuralAmpModelerCore reads: 0.5.x up to 0.7.x. */
static int check_version(const char *path, json_t *v, rtg_error *err)
{
    int major, minor, patch;
    if (!json_is_string(v) || sscanf(json_string_value(v), "%d.%d.%d", &major, &minor, &patch) != 3)
        return rtg_error_set(err, RTG_EINVAL, "%s: version: expected a string like \"0.5.4\"", path);
    if (major != 0 || minor < 5 || minor > 7)
        return rtg_error_set(err, RTG_ENOTSUP, "%s: version %s: not supported (0.5.x to 0.7.x are)",
                             path, json_string_value(v));
    return RTG_OK;
}

int rtg_nam_load(const char *path, rtg_model **out, rtg_error *err)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (jerr.line < 0)
            return rtg_error_set(err, RTG_EIO, "%s: %s", path, jerr.text);
        return rtg_error_set(err, RTG_EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    }
    int rc = RTG_OK;
    float *w = NULL;
    rtg_model *m = calloc(1, sizeof *m);
    if (!m) {
        rc = rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    snprintf(m->path, sizeof m->path, "%s", path);
    if (!json_is_object(root)) {
        rc = rtg_error_set(err, RTG_EINVAL, "%s: expected a JSON object", path);
        goto done;
    }
    if ((rc = check_version(path, json_object_get(root, "version"), err)))
        goto done;
    json_t *arch = json_object_get(root, "architecture");
    json_t *config = json_object_get(root, "config");
    json_t *weights = json_object_get(root, "weights");
    if (!json_is_string(arch)) {
        rc = rtg_error_set(err, RTG_EINVAL, "%s: missing or non-string key 'architecture'", path);
        goto done;
    }
    if (!json_is_object(config)) {
        rc = rtg_error_set(err, RTG_EINVAL, "%s: missing or non-object key 'config'", path);
        goto done;
    }
    if (!json_is_array(weights)) {
        rc = rtg_error_set(err, RTG_EINVAL, "%s: missing or non-list key 'weights'", path);
        goto done;
    }
    json_t *sr = json_object_get(root, "sample_rate");
    m->meta.sample_rate = 48000; /* what NAM assumes of files that do not say */
    if (sr && !json_is_null(sr)) {
        if (!json_is_number(sr) || !(json_number_value(sr) >= 1000 && json_number_value(sr) <= 768000)) {
            rc = rtg_error_set(err, RTG_EINVAL, "%s: sample_rate: expected a rate in Hz", path);
            goto done;
        }
        m->meta.sample_rate = json_number_value(sr);
    }
    parse_meta(json_object_get(root, "metadata"), &m->meta);
    size_t n_w = json_array_size(weights);
    w = malloc(sizeof(float) * (n_w ? n_w : 1));
    if (!w) {
        rc = rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < n_w; i++) {
        json_t *x = json_array_get(weights, i);
        double d = json_number_value(x);
        if (!json_is_number(x) || !isfinite(d) || fabs(d) > 3.0e38) {
            rc = rtg_error_set(err, RTG_EINVAL, "%s: weights[%zu]: expected a finite number", path, i);
            goto done;
        }
        w[i] = (float)d;
    }
    const char *a = json_string_value(arch);
    if (!strcmp(a, "WaveNet")) {
        rc = parse_wavenet(path, config, m, w, n_w, err);
    } else if (!strcmp(a, "LSTM")) {
        rc = parse_lstm(path, config, m, w, n_w, err);
    } else {
        rc = rtg_error_set(err, RTG_ENOTSUP, "%s: architecture '%s': not supported (WaveNet and LSTM are)",
                           path, a);
    }
done:
    free(w);
    json_decref(root);
    if (rc) {
        rtg_model_free(m);
        return rc;
    }
    *out = m;
    return RTG_OK;
}
