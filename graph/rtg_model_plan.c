/* rtg_model_plan.c — a sequential model as a chain of plan steps. */
#include "rtg_model.h"

#include <stdio.h>

#include "rtg_nam.h"

int rtg_plan_add_model(rtg_plan_builder *b, const rtg_model *m, int in, const char *label,
                       rtg_error *err)
{
    rtg_plan_request_prewarm(b, m->prewarm_samples);
    if (m->wavenet)
        return rtg_plan_add_wavenet(b, m->wavenet, in, label, err);
    if (m->n_layers < 1)
        return rtg_error_set(err, RTG_EINVAL, "%s: model has no layers", label);
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
