/* rtg_window_conv.c — TensorFlow's padding arithmetic (see rtg_window_conv.h). */
#include "rtg_window_conv.h"

int rtg_window_conv_geometry(int len_in, int taps, int dilation, int stride, int valid,
                             const char *axis, rtg_window_conv *g, rtg_error *err)
{
    const long span = (long)(taps - 1) * dilation + 1;
    long total = 0;
    if (valid) {
        if (span > len_in)
            return rtg_error_set(err, RTG_EINVAL,
                                 "kernel spans %ld %s, more than the %d of the input (valid padding)",
                                 span, axis, len_in);
        g->len_out = (int)((len_in - span) / stride + 1);
    } else {
        g->len_out = (len_in + stride - 1) / stride;
        total = (long)(g->len_out - 1) * stride + span - len_in;
        total = total > 0 ? total : 0;
    }
    g->pad_left = (int)(total / 2);
    g->pad_right = (int)(total - total / 2);
    return RTG_OK;
}
