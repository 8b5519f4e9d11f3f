/* ops_common.c — adding a DSP op step to a plan (see ops_common.h). */
#include "ops_common.h"

#include <stdlib.h>
#include <string.h>

int ops_add_step(rtg_plan_builder *b, const rtg_custom_step *c, const rtg_op_source *src,
                 int n_src, rtg_error *err)
{
    const char *label = c->label ? c->label : c->op;
    int *ids = malloc(sizeof(int) * (size_t)(n_src > 0 ? n_src : 1));
    if (!ids)
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", label);
    for (int i = 0; i < n_src; i++) {
        int ch = rtg_plan_buffer_channels(b, src[i].buf);
        if (ch < 0 || src[i].offset < 0 || src[i].channels < 1 ||
            src[i].offset + src[i].channels > ch) {
            free(ids);
            return rtg_error_set(err, RTG_EINVAL, "%s: input %d reads channels %d..%d of a %d-channel buffer",
                                 label, i, src[i].offset, src[i].offset + src[i].channels - 1, ch);
        }
        ids[i] = src[i].buf;
    }
    rtg_custom_step step = *c;
    step.in = ids;
    step.n_in = n_src;
    if (!step.init)
        step.init = ops_init_from_image;
    int rc = rtg_plan_add_custom(b, &step, err);
    free(ids);
    return rc;
}

void ops_init_from_image(const rtg_step *s, const void *ctx)
{
    const op_header *h = ctx;
    memcpy(s->state, ctx, h->image_bytes);
}
