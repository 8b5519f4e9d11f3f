/* rtg_model_plan.c — a sequential model as a chain of plan steps, with the
 * input gain, skip and output gain some formats wrap around it as op steps. */
#include "rtg_model.h"

#include <stdio.h>

#include "rtg_nam.h"
#include "rtg_ops.h"

/* The layers alone: returns the buffer holding their output. */
static int add_layers(rtg_plan_builder *b, const rtg_model *m, int in, const char *label,
                      rtg_error *err)
{
    int cur = in;
    for (int i = 0; i < m->n_layers; i++) {
        const rtg_layer_desc *d = &m->layers[i];
        char part[96];
        snprintf(part, sizeof part, "%s/%d", label, i);
        int next = rtg_plan_buffer(b, d->out_ch);
        if (next < 0)
            return rtg_error_set(err, next, "%s: out of memory", part);
        int rc = rtg_plan_add_layer(b, d, cur, next, part, err);
        if (rc < 0)
            return rc;
        cur = next;
    }
    return cur;
}

static int new_buffer(rtg_plan_builder *b, int channels, const char *label, rtg_error *err)
{
    int id = rtg_plan_buffer(b, channels);
    return id < 0 ? rtg_error_set(err, id, "%s: out of memory", label) : id;
}

/* Main thread (builder). The wrapping, when the model has any (see
 * rtg_model.h): a gain step on the audio channel, re-joined with the knob
 * channels by a gather; after the layers one step that adds the gained
 * audio (add, or mix when an output gain scales both terms) or only
 * applies the output gain. The gains are steps rather than folded into
 * weights so the math is AIDA-X's own, for every layer type. */
int rtg_plan_add_model(rtg_plan_builder *b, const rtg_model *m, int in, const char *label,
                       rtg_error *err)
{
    rtg_plan_request_prewarm(b, m->prewarm_samples);
    if (m->wavenet)
        return rtg_plan_add_wavenet(b, m->wavenet, in, label, err);
    if (m->n_layers < 1)
        return rtg_error_set(err, RTG_EINVAL, "%s: model has no layers", label);
    char part[96];
    int rc;
    rtg_op_source audio = {in, 0, 1}; /* what the skip adds */
    int net_in = in;
    if (m->in_gain_db != 0) {
        snprintf(part, sizeof part, "%s/in_gain", label);
        int g = new_buffer(b, 1, part, err);
        if (g < 0 || (rc = rtg_op_gain(b, audio, m->in_gain_db, 0, g, part, err)) < 0)
            return g < 0 ? g : rc;
        audio = (rtg_op_source){g, 0, 1};
        net_in = g;
        if (m->in_ch > 1) {
            snprintf(part, sizeof part, "%s/in_join", label);
            const rtg_op_source parts[2] = {audio, {in, 1, m->in_ch - 1}};
            if ((net_in = new_buffer(b, m->in_ch, part, err)) < 0 ||
                (rc = rtg_op_gather(b, parts, 2, net_in, part, "concat", err)) < 0)
                return net_in < 0 ? net_in : rc;
        }
    }
    int y = add_layers(b, m, net_in, label, err);
    if (y < 0 || (!m->skip && m->out_gain_db == 0))
        return y;
    const rtg_op_source net = {y, 0, m->out_ch};
    snprintf(part, sizeof part, "%s/%s", label, m->skip ? "skip" : "out_gain");
    int out = new_buffer(b, m->out_ch, part, err);
    if (out < 0)
        return out;
    if (!m->skip) {
        rc = rtg_op_gain(b, net, m->out_gain_db, 0, out, part, err);
    } else {
        const rtg_op_source src[2] = {net, audio};
        const float g = rtg_db_to_gain(m->out_gain_db);
        const float w[2] = {g, g};
        rc = m->out_gain_db == 0
                 ? rtg_op_combine(b, RTG_COMBINE_ADD, src, 2, NULL, 0, out, part, err)
                 : rtg_op_combine(b, RTG_COMBINE_MIX, src, 2, w, 0, out, part, err);
    }
    return rc < 0 ? rc : out;
}
