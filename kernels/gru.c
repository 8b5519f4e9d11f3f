/* gru.c — the GRU layer (PyTorch's equations): input projection, then the recurrence on W_hh. */
#include <string.h>

#include "rtg_kernel_isa.h"
#include "rtg_kernel_modules.h"
#include "rtg_math.h"
#include "rtg_rnn.h"

/* Gates r, z, n (PyTorch's order), each a run of HP rows (rtg_rnn.h):
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr)
 *   z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
 *   h' = (1 - z) ⊙ n + z ⊙ h
 * The projection bias holds b_ir + b_hr, b_iz + b_hz and b_in; b_hn stays
 * on the recurrent side (it is scaled by r), in HP floats after the shared
 * weights, followed by the initial state h0 if the layer has one. */
#define GATES 3

/* L->i: sizes the generic kernel reads at run time. */
enum { I_IN, I_H };

int rtg_gru_measure(const rtg_layer_desc *d, int max_block, rtg_layer_mem *m, rtg_error *err)
{
    int rc = rtg_rnn_check(d, GATES, "gru", err);
    if (rc)
        return rc;
    if (d->c0)
        return rtg_error_set(err, RTG_EINVAL, "gru has no cell state; c0 must be empty");
    const size_t HP = (size_t)rtg_rnn_hp(d->out_ch);
    const size_t ld = (size_t)rtg_gemm_ld(GATES * (int)HP);
    m->weight_floats = rtg_rnn_weight_floats(GATES, d->in_ch, d->out_ch) +
                       rtg_align_floats(HP) + (d->h0 ? HP : 0);
    m->state_floats = HP;
    /* the mat-vec's start values and the gates of a frame, then the
     * projections (at least two frames') */
    m->scratch_floats = ((size_t)(max_block > 2 ? max_block : 2) + 2) * ld;
    return RTG_OK;
}

/* The recurrent mat-vec of one frame: r and z rows start from the frame's
 * projection, n rows from b_hn (r scales them as a whole). */
RTG_INLINE void gru_recurrent(const int vw, float *restrict g, float *restrict init,
                              const float *restrict xt, const float *restrict bhn,
                              const float *restrict wh, ptrdiff_t ld, const float *restrict h,
                              const int H, const int HP)
{
    memcpy(init, xt, 2 * (size_t)HP * sizeof *init);
    memcpy(init + 2 * HP, bhn, (size_t)HP * sizeof *init);
    rtg_rnn_matvec(vw, g, init, wh, ld, h, H, GATES * HP);
}

/* h of one frame from the recurrent sums g and the projection xt. */
RTG_INLINE void gru_gates(const float *restrict g, const float *restrict xt, float *restrict h,
                          const int HP)
{
    for (int u = 0; u < HP; u++) {
        const float r = rtg_sigmoidf(g[u]);
        const float z = rtg_sigmoidf(g[HP + u]);
        const float n = rtg_tanhf(xt[2 * HP + u] + r * g[2 * HP + u]);
        h[u] = n + z * (h[u] - n);
    }
}

/* The whole layer for one block. H_C / IN_C are compile-time sizes, or 0
 * for the generic kernel (read from L->i). */
RTG_INLINE void gru_body(const rtg_layer *L, const float *restrict x, float *restrict y, int frames,
                         const int vw, const int H_C, const int IN_C)
{
    const int H = H_C ? H_C : L->i[I_H];
    const int in = IN_C ? IN_C : L->i[I_IN];
    const int HP = rtg_rnn_hp(H), R = GATES * HP;
    const ptrdiff_t ld = rtg_gemm_ld(R);
    const float *restrict wx = L->w;
    const float *restrict wh = wx + in * ld;
    const float *restrict b = wh + H * ld;
    const float *restrict bhn = b + ld;
    float *restrict h = L->state;
    /* the mat-vec's start values and the gates of a frame: in registers for
     * the smallest compile-time sizes (from 12 units up, measured slower) */
    float init_small[32], g_small[32];
    float *restrict init = H_C && R <= 32 ? init_small : L->scratch;
    float *restrict g = H_C && R <= 32 ? g_small : L->scratch + ld;
    float *restrict xp = L->scratch + 2 * ld;

    if (rtg_rnn_fused(GATES, H)) {
        /* xp holds two frames' projections: this frame's and the next */
        rtg_gemm(vw, xp, ld, x, in, 0, 1, wx, b, R, in, 1);
        for (int t = 0; t < frames; t++) {
            const float *restrict now = xp + (t & 1) * ld;
            gru_recurrent(vw, g, init, now, bhn, wh, ld, h, H, HP);
            if (t + 1 < frames)
                rtg_gemm(vw, xp + ((t + 1) & 1) * ld, ld, x + (t + 1) * in, in, 0, 1, wx, b, R,
                         in, 1);
            gru_gates(g, now, h, HP);
            memcpy(y + t * H, h, (size_t)H * sizeof *y);
        }
        return;
    }
    rtg_gemm(vw, xp, ld, x, in, 0, 1, wx, b, R, in, frames);
    for (int t = 0; t < frames; t++) {
        const float *restrict now = xp + t * ld;
        gru_recurrent(vw, g, init, now, bhn, wh, ld, h, H, HP);
        gru_gates(g, now, h, HP);
        memcpy(y + t * H, h, (size_t)H * sizeof *y);
    }
}

#define GRU_SQUARE(L, x, y, frames, vw, n) gru_body(L, x, y, frames, vw, n, n)
#define GRU_ANY_IN(L, x, y, frames, vw, n) gru_body(L, x, y, frames, vw, n, 0)
RTG_SIZED_KERNELS(gru_square, GRU_SQUARE)
RTG_SIZED_KERNELS(gru_any_in, GRU_ANY_IN)

void rtg_gru_init(rtg_layer *L, const rtg_layer_desc *d, float *weights)
{
    const int in = d->in_ch, H = d->out_ch, HP = rtg_rnn_hp(H);
    const int ld = rtg_gemm_ld(GATES * HP);
    float *b = weights + (size_t)(in + H) * ld;
    float *bhn = weights + rtg_rnn_weight_floats(GATES, in, H);
    rtg_rnn_pack_gates(weights, d->w, GATES, H, in, ld);
    rtg_rnn_pack_gates(weights + (size_t)in * ld, d->u, GATES, H, H, ld);
    rtg_rnn_pack_bias(b, d->b, GATES, H, ld);
    memset(bhn, 0, rtg_align_floats((size_t)HP) * sizeof *bhn);
    if (d->b2) {
        for (int u = 0; u < 2 * H; u++)
            b[u / H * HP + u % H] += d->b2[u];
        memcpy(bhn, d->b2 + 2 * H, (size_t)H * sizeof *bhn);
    }
    if (d->h0) {
        float *s = bhn + rtg_align_floats((size_t)HP);
        memset(s, 0, (size_t)HP * sizeof *s);
        memcpy(s, d->h0, (size_t)H * sizeof *s);
        L->state_init = s;
    }
    L->i[I_IN] = in;
    L->i[I_H] = H;
    L->run = in == H ? gru_square_pick(H, 1) : gru_any_in_pick(H, 1);
}
