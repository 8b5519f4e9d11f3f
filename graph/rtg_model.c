/* rtg_model.c — model files to layer descriptions: format detection, the
 * model under construction, and checked access to JSON tensors. The formats
 * themselves are read in rtg_model_keras.c, rtg_model_torch.c,
 * rtg_model_aidax.c (AIDA-X's keys around Keras layers), rtg_model_guitarml.c
 * and rtg_nam.c. */
#include "rtg_model.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_model_internal.h"
#include "rtg_nam.h"

void rtg_model_build_at(rtg_model_build *mb, int index, const char *fmt, ...)
{
    mb->layer = index;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mb->what, sizeof mb->what, fmt, ap);
    va_end(ap);
}

int rtg_model_fail(rtg_model_build *mb, int code, const char *fmt, ...)
{
    char msg[RTG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (mb->layer >= 0)
        rtg_error_set(mb->err, code, "%s: layer %d (%s): %s", mb->path, mb->layer, mb->what,
                      msg);
    else
        rtg_error_set(mb->err, code, "%s: %s", mb->path, msg);
    /* Names from the file (keys, strings) may hold control characters; the
     * message stays one line whatever the file says. */
    for (char *c = mb->err ? mb->err->msg : NULL; c && *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return code;
}

rtg_layer_desc *rtg_model_add_layer(rtg_model_build *mb)
{
    if (mb->n_layers == mb->cap_layers) {
        int cap = mb->cap_layers ? 2 * mb->cap_layers : 8;
        rtg_layer_desc *p = realloc(mb->layers, (size_t)cap * sizeof *p);
        if (!p) {
            rtg_model_fail(mb, RTG_ENOMEM, "out of memory");
            return NULL;
        }
        mb->layers = p;
        mb->cap_layers = cap;
    }
    rtg_layer_desc *d = &mb->layers[mb->n_layers++];
    memset(d, 0, sizeof *d);
    d->dilation = d->groups = d->stride = 1;
    return d;
}

float *rtg_model_floats(rtg_model_build *mb, size_t n)
{
    if (mb->n_chunks == mb->cap_chunks) {
        int cap = mb->cap_chunks ? 2 * mb->cap_chunks : 16;
        rtg_model_chunk *p = realloc(mb->chunks, (size_t)cap * sizeof *p);
        if (!p)
            goto oom;
        mb->chunks = p;
        mb->cap_chunks = cap;
    }
    float *f = calloc(n ? n : 1, sizeof *f);
    if (!f)
        goto oom;
    mb->chunks[mb->n_chunks++] = (rtg_model_chunk){.layer = mb->n_layers - 1, .p = f, .n = n};
    return f;
oom:
    rtg_model_fail(mb, RTG_ENOMEM, "out of memory for %zu weights", n);
    return NULL;
}

int rtg_model_check_size(rtg_model_build *mb, const char *what, long value, long max)
{
    if (value < 1 || value > max)
        return rtg_model_fail(mb, value < 1 ? RTG_EINVAL : RTG_ENOMEM,
                              "%s is %ld, must be 1..%ld", what, value, max);
    return RTG_OK;
}

int rtg_model_check_chain(rtg_model_build *mb, int takes, int gives)
{
    if (takes == gives)
        return RTG_OK;
    return rtg_model_fail(mb, RTG_EINVAL, "takes %d input channels but %s gives %d", takes,
                          mb->n_layers == 0 ? "the model input" : "the previous layer", gives);
}

/* ---- tensors ---------------------------------------------------------- */

const char *rtg_json_printable(const char *s, char *buf, size_t size)
{
    size_t n = 0;
    for (; s && s[n] && n + 1 < size; n++)
        buf[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
    buf[n] = '\0';
    return buf;
}

const char *rtg_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* "name[i][j]" for the first `depth` indices. */
static const char *element_name(const char *name, const int *idx, int depth, char *buf,
                                size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "%s", name);
    for (int i = 0; i < depth && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "[%d]", idx[i]);
    return buf;
}

static int tensor_check(rtg_model_build *mb, const json_t *v, const rtg_tensor *t, int depth,
                        int *idx, const char *name)
{
    char where[128];
    if (depth == t->rank) {
        if (!json_is_number(v))
            return rtg_model_fail(mb, RTG_EINVAL, "%s is %s, expected %s",
                                  element_name(name, idx, depth, where, sizeof where),
                                  rtg_json_kind(v), depth ? "a number" : "a list of numbers");
        double x = json_number_value(v);
        if (!(fabs(x) <= FLT_MAX))
            return rtg_model_fail(mb, RTG_EINVAL, "%s = %g does not fit a float",
                                  element_name(name, idx, depth, where, sizeof where), x);
        return RTG_OK;
    }
    if (!json_is_array(v))
        return rtg_model_fail(mb, RTG_EINVAL, "%s is %s, expected an array of %d",
                              element_name(name, idx, depth, where, sizeof where),
                              rtg_json_kind(v), t->dim[depth]);
    if (json_array_size(v) != (size_t)t->dim[depth])
        return rtg_model_fail(mb, RTG_EINVAL, "%s has %zu entries, expected %d like the first",
                              element_name(name, idx, depth, where, sizeof where),
                              json_array_size(v), t->dim[depth]);
    for (int i = 0; i < t->dim[depth]; i++) {
        idx[depth] = i;
        int rc = tensor_check(mb, json_array_get(v, (size_t)i), t, depth + 1, idx, name);
        if (rc)
            return rc;
    }
    return RTG_OK;
}

int rtg_tensor_read(rtg_model_build *mb, const json_t *v, const char *name, rtg_tensor *t)
{
    memset(t, 0, sizeof *t);
    t->json = v;
    if (!v)
        return rtg_model_fail(mb, RTG_EINVAL, "missing %s", name);
    t->count = 1;
    for (const json_t *p = v; json_is_array(p); p = json_array_get(p, 0)) {
        if (t->rank == 4)
            return rtg_model_fail(mb, RTG_EINVAL, "%s has more than 4 dimensions", name);
        size_t n = json_array_size(p);
        if (n == 0)
            return rtg_model_fail(mb, RTG_EINVAL, "%s is empty", name);
        if (n > INT32_MAX)
            return rtg_model_fail(mb, RTG_ENOMEM, "%s is too large", name);
        t->dim[t->rank++] = (int)n;
        t->count *= n;
    }
    int idx[4];
    return tensor_check(mb, v, t, 0, idx, name);
}

const char *rtg_tensor_shape(const rtg_tensor *t, char *buf, size_t size)
{
    if (t->rank == 0) {
        snprintf(buf, size, "a number");
        return buf;
    }
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "[%d]", t->dim[i]);
    return buf;
}

int rtg_tensor_expect(rtg_model_build *mb, const rtg_tensor *t, const char *name, int rank,
                      int d0, int d1, int d2, int d3)
{
    const int want[4] = {d0, d1, d2, d3};
    int ok = t->rank == rank;
    for (int i = 0; ok && i < rank; i++)
        ok = want[i] < 0 || want[i] == t->dim[i];
    if (ok)
        return RTG_OK;
    char got[64], exp[64];
    size_t n = 0;
    exp[0] = '\0';
    if (rank == 0)
        snprintf(exp, sizeof exp, "a number");
    for (int i = 0; i < rank && n < sizeof exp; i++)
        n += (size_t)(want[i] < 0 ? snprintf(exp + n, sizeof exp - n, "[*]")
                                  : snprintf(exp + n, sizeof exp - n, "[%d]", want[i]));
    return rtg_model_fail(mb, RTG_EINVAL, "%s has shape %s, expected %s", name,
                          rtg_tensor_shape(t, got, sizeof got), exp);
}

float rtg_tensor_at(const rtg_tensor *t, int i, int j, int k, int l)
{
    const int idx[4] = {i, j, k, l};
    const json_t *v = t->json;
    for (int r = 0; r < t->rank; r++)
        v = json_array_get(v, (size_t)idx[r]);
    return (float)json_number_value(v);
}

static void copy_values(const json_t *v, int depth, int rank, float **dst)
{
    if (depth == rank) {
        *(*dst)++ = (float)json_number_value(v);
        return;
    }
    size_t n = json_array_size(v);
    for (size_t i = 0; i < n; i++)
        copy_values(json_array_get(v, i), depth + 1, rank, dst);
}

void rtg_tensor_copy(const rtg_tensor *t, float *dst)
{
    copy_values(t->json, 0, t->rank, &dst);
}

/* ---- loading ---------------------------------------------------------- */

static void build_free(rtg_model_build *mb)
{
    for (int i = 0; i < mb->n_chunks; i++)
        free(mb->chunks[i].p);
    free(mb->chunks);
    free(mb->layers);
    free(mb->ref_in); /* NULL once moved into a model */
    free(mb->ref_out);
}

/* Moves the weights of layers first.. into one store and hands the model out. */
static int build_finish(rtg_model_build *mb, rtg_model **out)
{
    mb->layer = -1;
    const int n = mb->n_layers - mb->first;
    if (n < 1)
        return rtg_model_fail(mb, RTG_EINVAL, "holds no layers");
    size_t total = 0;
    for (int c = 0; c < mb->n_chunks; c++)
        if (mb->chunks[c].layer >= mb->first)
            total += mb->chunks[c].n;
    rtg_model *m = calloc(1, sizeof *m);
    size_t *offset = calloc((size_t)mb->n_chunks + 1, sizeof *offset);
    if (m) {
        m->layers = malloc((size_t)n * sizeof *m->layers);
        m->store = malloc((total ? total : 1) * sizeof *m->store);
    }
    if (!m || !offset || !m->layers || !m->store) {
        free(offset);
        rtg_model_free(m);
        return rtg_model_fail(mb, RTG_ENOMEM, "out of memory");
    }
    size_t at = 0;
    for (int c = 0; c < mb->n_chunks; c++) {
        if (mb->chunks[c].layer < mb->first)
            continue;
        offset[c] = at;
        memcpy(m->store + at, mb->chunks[c].p, mb->chunks[c].n * sizeof(float));
        at += mb->chunks[c].n;
    }
    for (int i = 0; i < n; i++) {
        rtg_layer_desc *d = &m->layers[i];
        *d = mb->layers[mb->first + i];
        const float **fields[] = {&d->w, &d->u, &d->b, &d->b2, &d->gamma,
                                  &d->beta, &d->mean, &d->var, &d->h0, &d->c0};
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            if (!*fields[f])
                continue;
            uintptr_t p = (uintptr_t)*fields[f];
            for (int c = 0; c < mb->n_chunks; c++) {
                const rtg_model_chunk *ch = &mb->chunks[c];
                uintptr_t lo = (uintptr_t)ch->p;
                if (ch->layer == mb->first + i && p >= lo && p < lo + ch->n * sizeof(float)) {
                    *fields[f] = m->store + offset[c] + (p - lo) / sizeof(float);
                    break;
                }
            }
        }
    }
    free(offset);
    m->n_layers = n;
    m->in_ch = m->layers[0].in_ch;
    m->out_ch = m->layers[n - 1].out_ch;
    m->store_floats = total;
    snprintf(m->path, sizeof m->path, "%s", mb->path);
    m->meta = mb->meta;
    m->in_gain_db = mb->in_gain_db;
    m->out_gain_db = mb->out_gain_db;
    m->skip = mb->skip;
    m->ref_in = mb->ref_in;
    m->ref_out = mb->ref_out;
    m->n_ref = mb->n_ref;
    mb->ref_in = mb->ref_out = NULL;
    *out = m;
    return RTG_OK;
}

/* An object whose values are tensors (and a few scalars such as eps). */
static int is_state_dict(const json_t *root)
{
    if (!json_is_object(root) || json_object_size(root) == 0)
        return 0;
    const char *key;
    const json_t *v;
    int arrays = 0;
    json_object_foreach((json_t *)root, key, v) {
        if (json_is_array(v))
            arrays++;
        else if (!json_is_number(v))
            return 0;
    }
    return arrays > 0;
}

/* prefix == NULL: the whole file; else one reference (see rtg_model.h). */
static int load(const char *path, const char *prefix, int layer_index, rtg_model **out,
                rtg_error *err)
{
    *out = NULL;
    rtg_model_build mb = {.path = path, .err = err, .layer = -1};
    FILE *f = fopen(path, "rb");
    if (!f)
        return rtg_error_set(err, RTG_EIO, "%s: cannot open: %s", path, strerror(errno));
    json_error_t je;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!root) {
        const char *hint = strstr(je.text, "NaN") || strstr(je.text, "Infinity")
                               ? " (NaN and Infinity are not JSON numbers)"
                               : "";
        return rtg_error_set(err, RTG_EINVAL, "%s:%d:%d: %s%s", path, je.line, je.column,
                             je.text, hint);
    }
    if (json_is_object(root) && json_object_get(root, "architecture")) {
        /* Neural Amp Modeler: its own reader parses the file again. */
        json_decref(root);
        if (prefix)
            return rtg_error_set(err, RTG_ENOTSUP, "%s: a .nam model loads only as a whole",
                                 path);
        return rtg_nam_load(path, out, err);
    }
    int rc;
    if (rtg_model_is_guitarml(root)) {
        rc = rtg_model_read_guitarml(&mb, root, prefix, layer_index);
    } else if (json_is_object(root) && json_object_get(root, "layers")) {
        if (prefix && (layer_index < 0 || *prefix))
            rc = rtg_model_fail(&mb, RTG_EINVAL,
                                "a layer of a Keras model is named by its index (FILE#N), "
                                "not a prefix");
        else
            rc = rtg_model_read_keras(&mb, root, prefix ? layer_index : -1);
        if (rc == RTG_OK && prefix)
            mb.first = layer_index;
        else if (rc == RTG_OK)
            rc = rtg_model_read_aidax(&mb, root);
    } else if (is_state_dict(root)) {
        rc = rtg_model_read_torch(&mb, root, prefix, layer_index);
    } else {
        rc = rtg_model_fail(&mb, RTG_ENOTSUP,
                            "not a model format rtgraph reads (expected RTNeural Keras or "
                            "AIDA-X JSON with \"layers\", a PyTorch state dict of tensors, "
                            "GuitarML JSON with \"model_data\" and \"state_dict\", or .nam)");
    }
    if (rc == RTG_OK)
        rc = build_finish(&mb, out);
    build_free(&mb);
    json_decref(root);
    return rc;
}

int rtg_model_load(const char *path, rtg_model **out, rtg_error *err)
{
    return load(path, NULL, -1, out, err);
}

int rtg_model_load_layer(const char *path, const char *prefix, int layer_index,
                         rtg_model **out, rtg_error *err)
{
    return load(path, prefix ? prefix : "", layer_index, out, err);
}

void rtg_model_free(rtg_model *m)
{
    if (!m)
        return;
    free(m->layers);
    free(m->store);
    free(m->wavenet); /* one allocation, see rtg_nam.c */
    free(m->ref_in);
    free(m->ref_out);
    free(m);
}
