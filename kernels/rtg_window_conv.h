/* rtg_window_conv.h — the output length and padding of a convolution over
 * a window that is all present at once: Conv1DStateless's time window and
 * Conv2D's features within a frame (private to kernels/).
 *
 * TensorFlow's rules, which RTNeural follows: "valid" keeps the positions
 * where the whole kernel fits, ceil((len_in - span + 1) / stride) of them;
 * "same" gives ceil(len_in / stride) outputs, reading zeros past the edges,
 * with the padding split and the smaller half on the left. span is the
 * kernel's extent, (taps - 1) * dilation + 1.
 *
 * Both kernels copy the window into a zero-padded buffer of
 * pad_left + len_in + pad_right positions and then run rtg_gemm() over it
 * with no edge cases: output j, tap k reads padded position
 * j * stride + k * dilation.
 *
 * Thread: non-real-time (measure/init).
 */
#ifndef RTG_WINDOW_CONV_H
#define RTG_WINDOW_CONV_H

#include "rtg_error.h"

/* Most floats one region of a window kernel may take (a padded window, the
 * Conv2D history ring), so a hostile file cannot make the builder allocate
 * gigabytes. */
#define RTG_WINDOW_MAX_FLOATS ((size_t)1 << 26)

typedef struct rtg_window_conv {
    int len_out;
    int pad_left, pad_right; /* positions of zeros before / after the window */
} rtg_window_conv;

/* Fills *g for a window of len_in positions. Fails (RTG_EINVAL, message
 * naming `axis`, e.g. "features") when a valid-padded kernel is longer than
 * the window. taps, dilation and stride must be >= 1. */
int rtg_window_conv_geometry(int len_in, int taps, int dilation, int stride, int valid,
                             const char *axis, rtg_window_conv *g, rtg_error *err);

#endif
