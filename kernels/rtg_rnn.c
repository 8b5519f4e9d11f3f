/* rtg_rnn.c — weight packing and validation shared by the LSTM and GRU kernels (rtg_rnn.h). */
#include "rtg_rnn.h"

#include <stdio.h>
#include <string.h>

#include "rtg_kernel_modules.h"

void rtg_rnn_pack_gates(float *dst, const float *w, int gates, int H, int cols, int ld)
{
    const int HP = rtg_rnn_hp(H);
    memset(dst, 0, (size_t)cols * (size_t)ld * sizeof *dst);
    for (int c = 0; c < cols; c++)
        for (int k = 0; k < gates; k++)
            for (int u = 0; u < H; u++)
                dst[(size_t)c * ld + k * HP + u] = w[((size_t)k * H + u) * cols + c];
}

void rtg_rnn_pack_bias(float *dst, const float *b, int gates, int H, int ld)
{
    const int HP = rtg_rnn_hp(H);
    memset(dst, 0, (size_t)ld * sizeof *dst);
    for (int k = 0; k < gates; k++)
        for (int u = 0; u < H; u++)
            dst[k * HP + u] = b ? b[k * H + u] : 0.0f;
}

int rtg_rnn_check(const rtg_layer_desc *d, int gates, const char *name, rtg_error *err)
{
    const size_t H = (size_t)d->out_ch, in = (size_t)d->in_ch, rows = (size_t)gates * H;
    char what[64];
    int rc;
#define CHECK(p, n, label)                                                                        \
    do {                                                                                          \
        snprintf(what, sizeof what, "%s %s", name, label);                                        \
        if ((rc = rtg_check_weights((p), (n), what, err)))                                        \
            return rc;                                                                            \
    } while (0)
    CHECK(d->w, rows * in, "input weights W_ih");
    CHECK(d->u, rows * H, "recurrent weights W_hh");
    if (d->b)
        CHECK(d->b, rows, "bias");
    if (d->b2)
        CHECK(d->b2, rows, "recurrent bias b_hh");
    if (d->h0)
        CHECK(d->h0, H, "initial state h0");
    if (d->c0)
        CHECK(d->c0, H, "initial state c0");
#undef CHECK
    return RTG_OK;
}
