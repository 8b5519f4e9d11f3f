/* rtg_model_aidax.c — AIDA-X's additions to RTNeural Keras JSON (in_skip,
 * in_gain, out_gain, metadata, the trainer's reference batches), the
 * metadata reader the JSON formats share, and the self-test that replays a
 * file's reference batches through the model.
 *
 * AIDA-X (aidadsp-lv2's loader) runs a model as
 *     a = x * in_gain;  y = net(a) (+ a when in_skip);  y *= out_gain
 * with the gains in dB, and checks a freshly reset model against the file's
 * output_batch for input_batch, both flat lists of samples (conditioned
 * models with their knobs at 0). rtg_plan_add_model applies the same
 * wrapping (rtg_model.h); this file only reads it. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_model_internal.h"

/* ---- metadata ------------------------------------------------------------ */

static void copy_string(const json_t *obj, const char *key, char *dst, size_t n)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v) && !dst[0])
        snprintf(dst, n, "%s", json_string_value(v));
}

/* A finite number, for the optional NAM-style level fields. */
static int get_number(const json_t *obj, const char *key, double *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return 0;
    *out = json_number_value(v);
    return 1;
}

/* "samplerate" as a number or a numeric string ("48000", as AIDA-X's
 * trainer writes it); 0 when absent. */
static int get_rate(rtg_model_build *mb, const json_t *v, const char *where, double *rate)
{
    if (!v)
        return RTG_OK;
    double r = -1;
    if (json_is_number(v)) {
        r = json_number_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        r = strtod(s, &end);
        while (isspace((unsigned char)*end))
            end++;
        if (end == s || *end || errno)
            r = -1;
    }
    if (!(r >= 1000 && r <= 768000)) {
        char shown[48], text[41];
        if (json_is_string(v))
            snprintf(shown, sizeof shown, "\"%s\"",
                     rtg_json_printable(json_string_value(v), text, sizeof text));
        else if (json_is_number(v))
            snprintf(shown, sizeof shown, "%g", json_number_value(v));
        else
            snprintf(shown, sizeof shown, "%s", rtg_json_kind(v));
        return rtg_model_fail(mb, RTG_EINVAL, "%s is %s, expected a sample rate in Hz "
                                              "(1000..768000, a number or a numeric string)",
                              where, shown);
    }
    *rate = r;
    return RTG_OK;
}

int rtg_model_read_meta(rtg_model_build *mb, const json_t *root, int *stated)
{
    rtg_model_meta *m = &mb->meta;
    const json_t *md = json_object_get(root, "metadata");
    *stated = 0;
    if (md && !json_is_object(md))
        return rtg_model_fail(mb, RTG_EINVAL, "\"metadata\" is %s, expected an object",
                              rtg_json_kind(md));
    double rate = 0;
    int rc;
    if ((rc = get_rate(mb, json_object_get(md, "samplerate"), "metadata.samplerate", &rate)))
        return rc;
    if (rate == 0 && (rc = get_rate(mb, json_object_get(root, "samplerate"), "samplerate", &rate)))
        return rc;
    if (rate > 0) {
        m->sample_rate = rate;
        *stated = 1;
    }
    /* The metadata object first, then the top-level keys older AIDA-X
     * files carry ("author" beside "layers"). */
    const json_t *where[2] = {md, root};
    for (int i = 0; i < 2; i++) {
        if (!where[i])
            continue;
        copy_string(where[i], "name", m->name, sizeof m->name);
        copy_string(where[i], "author", m->modeled_by, sizeof m->modeled_by);
        copy_string(where[i], "modeled_by", m->modeled_by, sizeof m->modeled_by);
    }
    if (md) {
        copy_string(md, "gear_type", m->gear_type, sizeof m->gear_type);
        copy_string(md, "gear_make", m->gear_make, sizeof m->gear_make);
        copy_string(md, "gear_model", m->gear_model, sizeof m->gear_model);
        copy_string(md, "tone_type", m->tone_type, sizeof m->tone_type);
        m->has_loudness = get_number(md, "loudness", &m->loudness);
        m->has_input_level = get_number(md, "input_level_dbu", &m->input_level_dbu);
        m->has_output_level = get_number(md, "output_level_dbu", &m->output_level_dbu);
    }
    return RTG_OK;
}

/* ---- AIDA-X keys ---------------------------------------------------------- */

static int get_gain(rtg_model_build *mb, const json_t *root, const char *key, float *db)
{
    const json_t *v = json_object_get(root, key);
    if (!v)
        return RTG_OK;
    /* the range of the graph's gain op, which applies it */
    if (!json_is_number(v) || !(json_number_value(v) >= -120 && json_number_value(v) <= 60))
        return rtg_model_fail(mb, RTG_EINVAL, "\"%s\" must be a gain in dB, -120..60", key);
    *db = (float)json_number_value(v);
    return RTG_OK;
}

/* A reference batch: a flat list of samples. A nested list with one
 * dimension longer than 1 ([N][1], [1][N][1]) is read as the same list. */
static int read_batch(rtg_model_build *mb, const json_t *v, const char *name, float **out,
                      long *n)
{
    rtg_tensor t;
    int rc = rtg_tensor_read(mb, v, name, &t);
    if (rc)
        return rc;
    int long_dims = 0;
    for (int i = 0; i < t.rank; i++)
        long_dims += t.dim[i] > 1;
    if (t.rank == 0 || long_dims > 1) {
        char shape[64];
        return rtg_model_fail(mb, RTG_EINVAL, "\"%s\" has shape %s, expected a list of samples",
                              name, rtg_tensor_shape(&t, shape, sizeof shape));
    }
    if (t.count > 100000000)
        return rtg_model_fail(mb, RTG_ENOMEM, "\"%s\" has %zu samples, more than 100000000",
                              name, t.count);
    *out = malloc(t.count * sizeof **out);
    if (!*out)
        return rtg_model_fail(mb, RTG_ENOMEM, "out of memory for \"%s\"", name);
    rtg_tensor_copy(&t, *out);
    *n = (long)t.count;
    return RTG_OK;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int rtg_model_read_aidax(rtg_model_build *mb, const json_t *root)
{
    mb->layer = -1;
    static const char *const keys[] = {"in_skip", "in_gain",  "out_gain",    "metadata",
                                       "samplerate", "input_batch", "output_batch"};
    int aidax = has_suffix(mb->path, ".aidax");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        aidax |= json_object_get(root, keys[i]) != NULL;
    int rc, stated = 0;
    if ((rc = rtg_model_read_meta(mb, root, &stated)))
        return rc;
    if (!stated && aidax)
        mb->meta.sample_rate = 48000; /* what AIDA-X assumes of files that do not say */

    const json_t *skip = json_object_get(root, "in_skip");
    if (skip) {
        if (json_is_boolean(skip))
            mb->skip = json_is_true(skip);
        else if (json_is_integer(skip) && json_integer_value(skip) >= 0 &&
                 json_integer_value(skip) <= 1)
            mb->skip = (int)json_integer_value(skip);
        else
            return rtg_model_fail(mb, RTG_EINVAL, "\"in_skip\" must be 0, 1, true or false");
    }
    if ((rc = get_gain(mb, root, "in_gain", &mb->in_gain_db)) ||
        (rc = get_gain(mb, root, "out_gain", &mb->out_gain_db)))
        return rc;

    const json_t *xin = json_object_get(root, "input_batch");
    const json_t *xout = json_object_get(root, "output_batch");
    if (!xin && !xout)
        return RTG_OK;
    if (!xin || !xout)
        return rtg_model_fail(mb, RTG_EINVAL, "has \"%s\" without \"%s\" (the self-test needs "
                                              "both)", xin ? "input_batch" : "output_batch",
                              xin ? "output_batch" : "input_batch");
    long n_in = 0, n_out = 0;
    if ((rc = read_batch(mb, xin, "input_batch", &mb->ref_in, &n_in)) ||
        (rc = read_batch(mb, xout, "output_batch", &mb->ref_out, &n_out)))
        return rc;
    if (n_in != n_out)
        return rtg_model_fail(mb, RTG_EINVAL, "\"input_batch\" has %ld samples but "
                                              "\"output_batch\" %ld", n_in, n_out);
    mb->n_ref = n_in;
    return RTG_OK;
}

/* ---- self-test ------------------------------------------------------------ */

int rtg_model_selftest(const rtg_model *m, int max_block, double sample_rate,
                       rtg_selftest_result *r, rtg_error *err)
{
    memset(r, 0, sizeof *r);
    if (!m->ref_in || m->n_ref < 1)
        return rtg_error_set(err, RTG_EINVAL, "%s: has no input_batch/output_batch to test with",
                             m->path);
    const long n = m->n_ref;
    const int ci = m->in_ch, co = m->out_ch;
    rtg_plan_builder *b = rtg_plan_builder_new(max_block, ci, sample_rate);
    float *x = calloc((size_t)n * (size_t)ci, sizeof *x);
    float *y = calloc((size_t)n * (size_t)co, sizeof *y);
    int *bufs = calloc((size_t)co, sizeof *bufs), *chans = calloc((size_t)co, sizeof *chans);
    rtg_plan *p = NULL;
    int rc;
    if (!b || !x || !y || !bufs || !chans) {
        rc = rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", m->path);
        goto done;
    }
    int out = rtg_plan_add_model(b, m, rtg_plan_input(b), "model", err);
    if (out < 0) {
        rc = out;
        goto done;
    }
    for (int k = 0; k < co; k++)
        bufs[k] = out, chans[k] = k;
    if ((rc = rtg_plan_set_outputs(b, co, bufs, chans, err)))
        goto done;
    p = rtg_plan_build(b, err); /* built reset (and pre-warmed, if the model asks) */
    b = NULL;
    if (!p) {
        rc = RTG_EINVAL;
        goto done;
    }
    rtg_plan_reset(p); /* AIDA-X tests a freshly reset model: no pre-warm */
    for (long t = 0; t < n; t++)
        x[(size_t)t * ci] = m->ref_in[t];
    rtg_plan_process_long(p, x, y, n);
    r->frames = n;
    for (long t = 0; t < n; t++) {
        const double want = m->ref_out[t], e = fabs((double)y[(size_t)t * co] - want);
        if (fabs(want) > r->peak)
            r->peak = fabs(want);
        if (!isnan(r->max_err) && (isnan(e) || e > r->max_err)) {
            r->max_err = e;
            r->worst_frame = t;
        }
    }
    r->tolerance = fmax(RTG_SELFTEST_REL_TOL * r->peak, RTG_SELFTEST_ABS_FLOOR);
    r->pass = r->max_err <= r->tolerance; /* false for a NaN error */
    rc = RTG_OK;
done:
    rtg_plan_builder_free(b);
    rtg_plan_free(p);
    free(x);
    free(y);
    free(bufs);
    free(chans);
    return rc;
}
