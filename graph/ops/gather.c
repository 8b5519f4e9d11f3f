/* gather.c — copies channel ranges of several buffers into one contiguous
 * buffer: concat, slice, and the channel selection a layer's input needs. */
#include <stdlib.h>
#include <string.h>

#include "ops_common.h"

typedef struct gather_state {
    op_header h;
    int n;
    op_view v[];
} gather_state;

static void gather_run(const rtg_step *s, int frames)
{
    const gather_state *g = s->state;
    const int oc = s->out_ch;
    int at = 0;
    for (int i = 0; i < g->n; i++) {
        const float *x = s->in[i] + g->v[i].offset;
        const int stride = s->in_ch[i], ch = g->v[i].channels;
        float *y = s->out + at;
        for (int t = 0; t < frames; t++)
            memcpy(y + (size_t)t * oc, x + (size_t)t * stride, sizeof(float) * (size_t)ch);
        at += ch;
    }
}

int rtg_op_gather(rtg_plan_builder *b, const rtg_op_source *src, int n, int out,
                  const char *label, const char *op, rtg_error *err)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += src[i].channels;
    if (n < 1 || total != rtg_plan_buffer_channels(b, out))
        return rtg_error_set(err, RTG_EINVAL, "%s: %d channels in, but the output has %d", label,
                             total, rtg_plan_buffer_channels(b, out));
    size_t bytes = sizeof(gather_state) + sizeof(op_view) * (size_t)n;
    gather_state *img = calloc(1, bytes);
    if (!img)
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", label);
    img->h.image_bytes = bytes;
    img->n = n;
    for (int i = 0; i < n; i++)
        img->v[i] = (op_view){src[i].offset, src[i].channels};
    rtg_custom_step c = {.run = gather_run, .init_ctx = img, .init_ctx_bytes = bytes,
                         .state_bytes = bytes, .out = out, .label = label, .op = op};
    int rc = ops_add_step(b, &c, src, n, err);
    free(img);
    return rc;
}
