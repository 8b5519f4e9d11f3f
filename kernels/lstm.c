/* lstm.c — the LSTM layer (PyTorch's equations): input projection, then the recurrence on W_hh. */
#include <string.h>

#include "rtg_kernel_isa.h"
#include "rtg_kernel_modules.h"
#include "rtg_math.h"
#include "rtg_rnn.h"

/* Gates i, f, g, o (PyTorch's order), each a run of HP rows (rtg_rnn.h). */
#define GATES 4

/* L->i: sizes the generic kernel reads at run time. */
enum { I_IN, I_H };

/* State: h[HP] then c[HP]. Initial state (NAM's h0/c0), if any, sits after
 * the shared weights in the same layout. */

int rtg_lstm_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m, rtg_error *err)
{
    int rc = rtg_rnn_check(d, GATES, "lstm", err);
    if (rc)
        return rc;
    if (d->b2)
        return rtg_error_set(err, RTG_EINVAL,
                             "lstm takes one bias (b_ih + b_hh summed); b2 must be empty");
    const int HP = rtg_rnn_hp(d->out_ch);
    const size_t ld = (size_t)rtg_gemm_ld(GATES * HP);
    m->weight_floats =
        rtg_rnn_weight_floats(GATES, d->in_ch, d->out_ch) + (d->h0 || d->c0 ? 2 * (size_t)HP : 0);
    m->state_floats = 2 * (size_t)HP;
    /* the gates of a frame, then the projections (at least two frames') */
    m->scratch_floats = ((size_t)(max_block > 2 ? max_block : 2) + 1) * ld;
    return RTG_OK;
}

/* c and h of one frame from its gate pre-activations g. */
RTG_INLINE void lstm_gates(const float *restrict g, float *restrict h, float *restrict c,
                           const int HP)
{
    for (int u = 0; u < HP; u++) {
        const float i = rtg_sigmoidf(g[u]);
        const float f = rtg_sigmoidf(g[HP + u]);
        const float z = rtg_tanhf(g[2 * HP + u]);
        const float o = rtg_sigmoidf(g[3 * HP + u]);
        const float cu = f * c[u] + i * z;
        c[u] = cu;
        h[u] = o * rtg_tanhf(cu);
    }
}

/* The whole layer for one block. H_C / IN_C are compile-time sizes, or 0
 * for the generic kernel (read from L->i). */
RTG_INLINE void lstm_body(const rtg_layer *L, const float *restrict x, float *restrict y,
                          int frames, const int vw, const int H_C, const int IN_C)
{
    const int H = H_C ? H_C : L->i[I_H];
    const int in = IN_C ? IN_C : L->i[I_IN];
    const int HP = rtg_rnn_hp(H), R = GATES * HP;
    const ptrdiff_t ld = rtg_gemm_ld(R);
    const float *restrict wx = L->w;
    const float *restrict wh = wx + in * ld;
    const float *restrict b = wh + H * ld;
    float *restrict h = L->state;
    float *restrict c = L->state + HP;
    /* the gates of a frame: in registers for the small compile-time sizes */
    float g_small[64];
    float *restrict g = H_C && R <= 64 ? g_small : L->scratch;
    float *restrict xp = L->scratch + ld;

    if (rtg_rnn_fused(GATES, H)) {
        /* xp holds two frames' projections: this frame's and the next */
        rtg_gemm(vw, xp, ld, x, in, 0, 1, wx, b, R, in, 1);
        for (int t = 0; t < frames; t++) {
            const float *restrict now = xp + (t & 1) * ld;
            rtg_rnn_matvec(vw, g, now, wh, ld, h, H, R);
            if (t + 1 < frames)
                rtg_gemm(vw, xp + ((t + 1) & 1) * ld, ld, x + (t + 1) * in, in, 0, 1, wx, b, R,
                         in, 1);
            lstm_gates(g, h, c, HP);
            memcpy(y + t * H, h, (size_t)H * sizeof *y);
        }
        return;
    }
    rtg_gemm(vw, xp, ld, x, in, 0, 1, wx, b, R, in, frames);
    for (int t = 0; t < frames; t++) {
        rtg_rnn_matvec(vw, g, xp + t * ld, wh, ld, h, H, R);
        lstm_gates(g, h, c, HP);
        memcpy(y + t * H, h, (size_t)H * sizeof *y);
    }
}

#define LSTM_SQUARE(L, x, y, frames, vw, n) lstm_body(L, x, y, frames, vw, n, n)
#define LSTM_ANY_IN(L, x, y, frames, vw, n) lstm_body(L, x, y, frames, vw, n, 0)
RTG_SIZED_KERNELS(lstm_square, LSTM_SQUARE)
RTG_SIZED_KERNELS(lstm_any_in, LSTM_ANY_IN)

void rtg_lstm_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    const int in = d->in_ch, H = d->out_ch, HP = rtg_rnn_hp(H);
    const int ld = rtg_gemm_ld(GATES * HP);
    rtg_rnn_pack_gates(weights, d->w, GATES, H, in, ld);
    rtg_rnn_pack_gates(weights + (size_t)in * ld, d->u, GATES, H, H, ld);
    rtg_rnn_pack_bias(weights + (size_t)(in + H) * ld, d->b, GATES, H, ld);
    if (d->h0 || d->c0) {
        float *s = weights + rtg_rnn_weight_floats(GATES, in, H);
        memset(s, 0, 2 * (size_t)HP * sizeof *s);
        if (d->h0)
            memcpy(s, d->h0, (size_t)H * sizeof *s);
        if (d->c0)
            memcpy(s + HP, d->c0, (size_t)H * sizeof *s);
        L->state_init = s;
    }
    L->i[I_IN] = in;
    L->i[I_H] = H;
    L->run = in == H ? lstm_square_pick(H, 1) : lstm_any_in_pick(H, 1);
}
