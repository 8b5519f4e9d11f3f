/* rtg_wavenet.c — the fused NAM WaveNet kernel (see rtg_wavenet.h): memory
 * layout, weight packing, ISA dispatch and the per-block driver. The inner
 * loops are in rtg_wavenet_body.h, compiled here once per ISA.
 *
 * Memory (one region, from rtg_wavenet_measure):
 *   the kernel struct, the arrays and layers, packed weights, scratch rows
 *   (head sum, activations, array output, condition, output) of `mbp`
 *   floats each (max_block rounded up to 16), then one ring per layer.
 *
 * A layer's ring holds its input x, time-major: row c is channel c over P
 * frames of time plus a mirror of the first mbp frames after them (row
 * stride S >= P + mbp), so a span of up to mbp frames starting anywhere in
 * the ring is contiguous. P >= (K-1)*dilation + mbp, so the oldest tap of a
 * block is never overwritten by the block itself. The block's frames go at
 * `pos`; tap k of frame t reads pos + t - (K-1-k)*dilation (mod P).
 *
 * Frames are processed in whole vectors: a block of F frames runs
 * ceil(F/16)*16 frame lanes. The extra lanes compute on whatever the ring
 * and scratch hold there (always finite: zeros or older signal), never mix
 * with real lanes (all math is per frame), land only in ring positions the
 * next block writes before anything reads them, and are never output.
 */
#include "rtg_wavenet.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rtg_cpu.h"

#if RTG_X86
#include <immintrin.h>
#endif

/* A build with RTG_GENERIC_KERNELS (rtg_kernel_isa.h: the fuzzers', where
 * compile time matters more than speed) keeps only the generic tiles. */
#ifdef RTG_GENERIC_KERNELS
#define WN_ONLY_GENERIC(X)
#endif

/* Scratch rows and rings are padded to this many frames: the widest vector. */
#define WN_PAD 16
/* Most specialised sizes per ISA table. */
#define WN_MAX_SIZED 8

/* One layer. The first layer of the first array is folded: its input x
 * is the rechannel of the mono input, r x in (rank one), so its ring holds
 * the raw input itself (one row), its conv weights are W_k r per tap with
 * the mixin added into the newest tap, and its residual input is xr x in
 * (xr = r). That turns C x C x K multiply-adds per frame into C x K. */
typedef struct wn_layer {
    const float *conv_w;  /* [cp/OG][K][cin][G*OG], cin = cp (first layer: 1) */
    const float *conv_bm; /* [cp/OG][2][G*OG]: bias, then mixin (first layer: 0) */
    const float *res_w;   /* [cp/OG][cp][OG] */
    const float *res_b;   /* [cp] */
    const float *xr;      /* first layer: [cp], the rechannel weights; else NULL */
    float *ring;          /* rows x stride floats */
    ptrdiff_t stride;     /* S */
    int rows;             /* ring rows: the array's rows (first layer: 1) */
    int dilation;
    int P;                /* ring frames (without the mirror) */
    int pos;              /* where this block's first frame goes */
} wn_layer;

typedef struct wn_array wn_array;
typedef void (*wn_layer_fn)(const wn_array *A, const wn_layer *L, const float *cond, float *dst,
                            ptrdiff_t dstride, int nvec, int residual);
typedef void (*wn_pw_fn)(const float *w, const float *b, const float *x, ptrdiff_t xld, int cin,
                         float *y, ptrdiff_t yld, int cout4, int nvec);

struct wn_array {
    int c, cp;      /* channels; padded to a multiple of the tile's group */
    int rows;       /* rows of every buffer: cp rounded up to 4 */
    int in_rows;    /* rows the rechannel reads */
    int head_rows;  /* rows the head rechannel writes (multiple of 4) */
    int k, gated;
    rtg_act act;
    float alpha;
    int n_layers;
    ptrdiff_t mbp;  /* scratch row stride */
    wn_layer_fn first, layer; /* first: the folded first layer of the first array */
    const float *rech_w; /* [rows/4][in_rows][4] (not for the first array) */
    const float *head_w; /* [head_rows/4][cp][4] */
    const float *head_b; /* [head_rows] */
    wn_layer *layers;
    float *head, *a, *xout; /* rows x mbp each (xout: arrays that feed another) */
    float *g;               /* rows x mbp, gated arrays: the gate's pre-activations */
};

typedef struct wn_isa_table {
    int vw;
    wn_pw_fn pointwise;
    wn_layer_fn generic[2][2]; /* [gated][first, other]; groups of 4 channels */
    struct {
        int c, og;
        wn_layer_fn fn[2]; /* first, other */
    } sized[WN_MAX_SIZED];
    void (*tanh)(const float *x, float *y, int n);
} wn_isa_table;

struct rtg_wavenet_kernel {
    int n_arrays, n_layers, max_block, mbp;
    const wn_isa_table *isa;
    wn_array *arrays;
    wn_layer *layers;
    float *cond, *out; /* mbp floats; out has 4 rows */
    char describe[128];
};

/* ---- the inner loops, once per ISA ------------------------------------ */

/* Tiles: OG output channels x NT vectors of frames, sized so accumulators,
 * the NT input vectors and a broadcast fit the register file (32 vector
 * registers on AVX-512, 16 elsewhere). Each (tap, input) step loads NT
 * vectors and OG broadcast weights for OG*NT multiply-adds; a core issues
 * two loads and two multiply-adds a cycle, and unaligned vector loads
 * (most taps) count double, so the fewer loads per multiply-add the
 * better, as long as nothing spills. Measured on Ice Lake
 * (docs/performance.md): OG 4 x NT 4 beat 8 x 2, 8 x 3 and 16 x 1 on
 * AVX-512; 4 x 2 beat 4 x 3 and 8 x 1 on AVX2. A block of 64 frames is 4
 * vectors of 16: one tile. The WN_TUNE_* macros override the lists for
 * such experiments. */
#define WN_ISA portable
#define WN_VW 4
#ifdef RTG_GENERIC_KERNELS
#define WN_SIZES(X) WN_ONLY_GENERIC(X)
#else
#define WN_SIZES(X) X(4, 4, 2) X(8, 4, 2) X(16, 4, 2)
#endif
#define WN_G1_NT 2
#define WN_G2_NT 1
#define WN_PW_NT 2
#include "rtg_wavenet_body.h"
#undef WN_ISA
#undef WN_VW
#undef WN_SIZES
#undef WN_G1_NT
#undef WN_G2_NT
#undef WN_PW_NT

#if RTG_X86
/* Each ISA's section is compiled for its target: GCC's target pragma (which
 * also defines __AVX2__ etc. for the section), or clang's attribute push
 * (which does not: the body tests WN_AVX512 instead). */
#ifdef __clang__
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define WN_ISA avx2
#define WN_VW 8
#ifdef WN_TUNE_AVX2
#define WN_SIZES(X) WN_TUNE_AVX2(X)
#else
#ifdef RTG_GENERIC_KERNELS
#define WN_SIZES(X) WN_ONLY_GENERIC(X)
#else
#define WN_SIZES(X) X(4, 4, 2) X(6, 6, 2) X(8, 4, 2) X(12, 4, 2) X(16, 4, 2) X(32, 4, 2)
#endif
#endif
#define WN_G1_NT 2
#define WN_G2_NT 1
#define WN_PW_NT 2
#include "rtg_wavenet_body.h"
#undef WN_ISA
#undef WN_VW
#undef WN_SIZES
#undef WN_G1_NT
#undef WN_G2_NT
#undef WN_PW_NT
#ifdef __clang__
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))), \
                             apply_to = function)
#else
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")
#endif
#define WN_ISA avx512
#define WN_AVX512 1
#define WN_VW 16
#ifdef WN_TUNE_AVX512
#define WN_SIZES(X) WN_TUNE_AVX512(X)
#else
#ifdef RTG_GENERIC_KERNELS
#define WN_SIZES(X) WN_ONLY_GENERIC(X)
#else
#define WN_SIZES(X) X(4, 4, 4) X(6, 6, 4) X(8, 4, 4) X(12, 6, 4) X(16, 4, 4) X(32, 4, 4)
#endif
#endif
#define WN_G1_NT 4
#define WN_G2_NT 2
#define WN_PW_NT 4
#include "rtg_wavenet_body.h"
#undef WN_ISA
#undef WN_VW
#undef WN_SIZES
#undef WN_G1_NT
#undef WN_G2_NT
#undef WN_PW_NT
#undef WN_AVX512
#ifdef __clang__
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

static const wn_isa_table *table_for(rtg_isa isa)
{
#if RTG_X86
    if (isa == RTG_ISA_AVX512)
        return &wn_table_avx512;
    if (isa == RTG_ISA_AVX2)
        return &wn_table_avx2;
#endif
    (void)isa;
    return &wn_table_portable;
}

/* The layer functions (first, other) for c channels and their group
 * size; returns 1 if they are specialised for c. */
static int pick(const wn_isa_table *t, int c, int gated, int *og, wn_layer_fn fn[2])
{
    if (!gated)
        for (int i = 0; i < WN_MAX_SIZED && t->sized[i].c; i++)
            if (t->sized[i].c == c) {
                *og = t->sized[i].og;
                fn[0] = t->sized[i].fn[0];
                fn[1] = t->sized[i].fn[1];
                return 1;
            }
    *og = 4;
    fn[0] = t->generic[gated ? 1 : 0][0];
    fn[1] = t->generic[gated ? 1 : 0][1];
    return 0;
}

static int round_up(int n, int m)
{
    return (n + m - 1) / m * m;
}

/* ---- layout and packing (non-real-time) -------------------------------- */

/* Bump allocator: counts bytes when base is NULL, else hands out memory. */
typedef struct wn_carve {
    unsigned char *base;
    size_t used;
} wn_carve;

static void *take(wn_carve *c, size_t bytes)
{
    size_t off = (c->used + RTG_ALIGN - 1) / RTG_ALIGN * RTG_ALIGN;
    c->used = off + bytes;
    return c->base ? c->base + off : NULL;
}

static float *take_floats(wn_carve *c, size_t n)
{
    return take(c, sizeof(float) * (n ? n : 1));
}

/* Ring frames for a layer: the reach of its taps plus a block, and a
 * block's worth of slack so that not every block wraps or touches the
 * mirrored head (the two cases that cost a copy of the block; more slack
 * measured no faster and costs cache); a multiple of 16, so blocks of whole
 * vectors keep every position, and taps at dilations of multiples of 16,
 * on vector boundaries. */
static int ring_frames(int k, int dilation, int mbp)
{
    const int slack = mbp < 512 ? mbp : 512;
    return round_up((k - 1) * dilation + mbp + slack, WN_PAD);
}

/* Lays the kernel out in c (sizes only when c->base is NULL) for ISA table
 * t, packing the weights of s when it has memory. */
static rtg_wavenet_kernel *layout(wn_carve *c, const rtg_wavenet_spec *s, int max_block,
                                  const wn_isa_table *t)
{
    const int mbp = round_up(max_block, WN_PAD);
    int n_layers = 0;
    for (int i = 0; i < s->n_arrays; i++)
        n_layers += s->arrays[i].n_layers;
    rtg_wavenet_kernel *k = take(c, sizeof *k);
    wn_array *arrays = take(c, sizeof *arrays * (size_t)s->n_arrays);
    wn_layer *layers = take(c, sizeof *layers * (size_t)n_layers);
    if (k) {
        memset(k, 0, sizeof *k);
        k->n_arrays = s->n_arrays;
        k->n_layers = n_layers;
        k->max_block = max_block;
        k->mbp = mbp;
        k->isa = t;
        k->arrays = arrays;
        k->layers = layers;
    }
    /* cp of every array first: each array's head rechannel writes the
     * next one's rows. */
    int cps[64], rows[64], ogs[64];
    wn_layer_fn fns[64][2];
    for (int i = 0; i < s->n_arrays; i++) {
        pick(t, s->arrays[i].channels, s->arrays[i].gated, &ogs[i], fns[i]);
        cps[i] = round_up(s->arrays[i].channels, ogs[i]);
        rows[i] = round_up(cps[i], 4);
    }
    int li = 0; /* index, not pointer: layers is NULL while measuring */
    for (int i = 0; i < s->n_arrays; i++) {
        const rtg_wavenet_array_spec *as = &s->arrays[i];
        const int C = as->channels, cp = cps[i], og = ogs[i], K = as->kernel_size;
        const int G = as->gated ? 2 : 1, last = i == s->n_arrays - 1;
        const int in_rows = i ? cps[i - 1] : 1;
        const int head_rows = last ? 4 : rows[i + 1];
        const float scale = last ? s->head_scale : 1.0f;
        float *rech = i ? take_floats(c, (size_t)rows[i] * in_rows) : NULL;
        float *hw = take_floats(c, (size_t)head_rows * cp);
        float *hb = take_floats(c, (size_t)head_rows);
        if (k) {
            wn_array *A = &arrays[i];
            A->c = C;
            A->cp = cp;
            A->rows = rows[i];
            A->in_rows = in_rows;
            A->head_rows = head_rows;
            A->k = K;
            A->gated = as->gated;
            A->act = as->act;
            A->alpha = as->alpha;
            A->n_layers = as->n_layers;
            A->mbp = mbp;
            A->first = fns[i][0];
            A->layer = fns[i][1];
            A->rech_w = rech;
            A->head_w = hw;
            A->head_b = hb;
            A->layers = &layers[li];
            for (int g = 0; i && g < rows[i]; g += 4)
                for (int j = 0; j < in_rows; j++)
                    for (int o = 0; o < 4; o++)
                        *rech++ = g + o < C && j < as->in_ch
                                      ? as->rechannel_w[(g + o) * as->in_ch + j] : 0.0f;
            for (int g = 0; g < head_rows; g += 4)
                for (int j = 0; j < cp; j++)
                    for (int o = 0; o < 4; o++)
                        *hw++ = g + o < as->head_size && j < C
                                    ? scale * as->head_w[(g + o) * C + j] : 0.0f;
            for (int o = 0; o < head_rows; o++)
                hb[o] = o < as->head_size && as->head_b ? scale * as->head_b[o] : 0.0f;
        }
        for (int l = 0; l < as->n_layers; l++, li++) {
            const rtg_wavenet_layer_spec *ls = &as->layers[l];
            const int folded = i == 0 && l == 0, cin = folded ? 1 : cp;
            float *cw = take_floats(c, (size_t)cp * K * cin * G);
            float *bm = take_floats(c, (size_t)cp * 2 * G);
            float *rw = take_floats(c, (size_t)cp * cp);
            float *rb = take_floats(c, (size_t)cp);
            float *xr = folded ? take_floats(c, (size_t)cp) : NULL;
            if (!k)
                continue;
            wn_layer *L = &layers[li];
            L->conv_w = cw;
            L->conv_bm = bm;
            L->res_w = rw;
            L->res_b = rb;
            L->xr = xr;
            L->rows = folded ? 1 : rows[i];
            L->dilation = ls->dilation;
            L->P = ring_frames(K, ls->dilation, mbp);
            L->stride = round_up(L->P + mbp, WN_PAD);
            for (int o = 0; folded && o < cp; o++)
                xr[o] = o < C ? as->rechannel_w[o] : 0.0f;
            for (int g = 0; g < cp; g += og) {
                for (int kk = 0; kk < K; kk++)
                    for (int j = 0; j < cin; j++)
                        for (int h = 0; h < G; h++)
                            for (int o = 0; o < og; o++) {
                                const int zo = h * C + g + o;
                                if (g + o >= C) {
                                    *cw++ = 0.0f;
                                } else if (folded) {
                                    /* W_k r, and the mixin on the newest tap */
                                    double v = kk == K - 1 ? ls->mixin[zo] : 0.0;
                                    for (int jj = 0; jj < C; jj++)
                                        v += (double)ls->conv_w[((size_t)zo * C + jj) * K + kk] *
                                             as->rechannel_w[jj];
                                    *cw++ = (float)v;
                                } else {
                                    *cw++ = j < C ? ls->conv_w[((size_t)zo * C + j) * K + kk] : 0.0f;
                                }
                            }
                for (int h = 0; h < G; h++)
                    for (int o = 0; o < og; o++)
                        *bm++ = g + o < C ? ls->conv_b[h * C + g + o] : 0.0f;
                for (int h = 0; h < G; h++)
                    for (int o = 0; o < og; o++)
                        *bm++ = g + o < C && !folded ? ls->mixin[h * C + g + o] : 0.0f;
                for (int j = 0; j < cp; j++)
                    for (int o = 0; o < og; o++)
                        *rw++ = g + o < C && j < C ? ls->res_w[(g + o) * C + j] : 0.0f;
            }
            for (int o = 0; o < cp; o++)
                rb[o] = o < C ? ls->res_b[o] : 0.0f;
        }
    }
    /* Scratch rows. */
    for (int i = 0; i < s->n_arrays; i++) {
        float *head = take_floats(c, (size_t)rows[i] * mbp);
        float *a = take_floats(c, (size_t)rows[i] * mbp);
        float *xout = i < s->n_arrays - 1 ? take_floats(c, (size_t)rows[i] * mbp) : NULL;
        float *g = s->arrays[i].gated ? take_floats(c, (size_t)rows[i] * mbp) : NULL;
        if (k) {
            arrays[i].head = head;
            arrays[i].a = a;
            arrays[i].xout = xout;
            arrays[i].g = g;
        }
    }
    float *cond = take_floats(c, (size_t)mbp);
    float *out = take_floats(c, (size_t)4 * mbp);
    if (k) {
        k->cond = cond;
        k->out = out;
    }
    /* Rings last: the largest part, touched least per frame. */
    li = 0;
    for (int i = 0; i < s->n_arrays; i++)
        for (int l = 0; l < s->arrays[i].n_layers; l++, li++) {
            const int P = ring_frames(s->arrays[i].kernel_size, s->arrays[i].layers[l].dilation, mbp);
            const int ring_rows = i == 0 && l == 0 ? 1 : rows[i];
            float *ring = take_floats(c, (size_t)ring_rows * round_up(P + mbp, WN_PAD));
            if (k)
                layers[li].ring = ring;
        }
    return k;
}

/* ---- measure / init ---------------------------------------------------- */

/* Weights present and finite; messages name the array, and the layer when
 * l >= 0. */
static int check_weights(const float *p, size_t n, const char *what, int i, int l,
                         rtg_error *err)
{
    char where[64];
    if (l >= 0)
        snprintf(where, sizeof where, "wavenet array %d layer %d", i, l);
    else
        snprintf(where, sizeof where, "wavenet array %d", i);
    if (!p)
        return rtg_error_set(err, RTG_EINVAL, "%s: missing %s", where, what);
    for (size_t j = 0; j < n; j++)
        if (!isfinite(p[j]))
            return rtg_error_set(err, RTG_EINVAL, "%s: %s[%zu] is not finite", where, what, j);
    return RTG_OK;
}

int rtg_wavenet_measure(const rtg_wavenet_spec *s, int max_block, size_t *bytes, rtg_error *err)
{
    *bytes = 0;
    if (max_block < 1 || max_block > (1 << 20))
        return rtg_error_set(err, RTG_EINVAL, "wavenet: max block %d must be in 1..%d", max_block,
                             1 << 20);
    if (s->n_arrays < 1 || s->n_arrays > 64 || !s->arrays)
        return rtg_error_set(err, RTG_EINVAL, "wavenet: %d layer arrays, must be 1..64", s->n_arrays);
    if (!isfinite(s->head_scale))
        return rtg_error_set(err, RTG_EINVAL, "wavenet: head scale is not finite");
    int rc;
    for (int i = 0; i < s->n_arrays; i++) {
        const rtg_wavenet_array_spec *a = &s->arrays[i];
        const int last = i == s->n_arrays - 1;
        const int want_in = i ? s->arrays[i - 1].channels : 1;
        if (a->channels < 1 || a->channels > RTG_WAVENET_MAX_CHANNELS)
            return rtg_error_set(err, RTG_EINVAL, "wavenet array %d: %d channels, must be 1..%d", i,
                                 a->channels, RTG_WAVENET_MAX_CHANNELS);
        if (a->in_ch != want_in)
            return rtg_error_set(err, RTG_EINVAL, "wavenet array %d: takes %d channels, but its "
                                 "input has %d", i, a->in_ch, want_in);
        if (a->head_size != (last ? 1 : s->arrays[i + 1].channels))
            return rtg_error_set(err, RTG_EINVAL, "wavenet array %d: head size %d, must be %d", i,
                                 a->head_size, last ? 1 : s->arrays[i + 1].channels);
        if (a->kernel_size < 1 || a->kernel_size > RTG_WAVENET_MAX_KERNEL)
            return rtg_error_set(err, RTG_EINVAL, "wavenet array %d: kernel size %d, must be 1..%d",
                                 i, a->kernel_size, RTG_WAVENET_MAX_KERNEL);
        if (a->n_layers < 1 || !a->layers)
            return rtg_error_set(err, RTG_EINVAL, "wavenet array %d: no layers", i);
        switch (a->act) {
        case RTG_ACT_NONE: case RTG_ACT_TANH: case RTG_ACT_RELU: case RTG_ACT_LEAKY_RELU:
        case RTG_ACT_HARDTANH: case RTG_ACT_SIGMOID: case RTG_ACT_FAST_TANH:
            break;
        default:
            return rtg_error_set(err, RTG_ENOTSUP, "wavenet array %d: activation %s: not supported",
                                 i, rtg_act_name(a->act));
        }
        const size_t C = (size_t)a->channels, zc = (a->gated ? 2 : 1) * C;
        const size_t H = (size_t)a->head_size, K = (size_t)a->kernel_size;
        if ((rc = check_weights(a->rechannel_w, C * (size_t)a->in_ch, "rechannel weight", i, -1,
                                err)) ||
            (rc = check_weights(a->head_w, H * C, "head weight", i, -1, err)) ||
            (a->head_b && (rc = check_weights(a->head_b, H, "head bias", i, -1, err))))
            return rc;
        for (int l = 0; l < a->n_layers; l++) {
            const rtg_wavenet_layer_spec *L = &a->layers[l];
            if (L->dilation < 1 || (long)L->dilation * (a->kernel_size - 1) > (1L << 24))
                return rtg_error_set(err, RTG_EINVAL, "wavenet array %d layer %d: dilation %d out "
                                     "of range", i, l, L->dilation);
            if ((rc = check_weights(L->conv_w, zc * C * K, "conv weight", i, l, err)) ||
                (rc = check_weights(L->conv_b, zc, "conv bias", i, l, err)) ||
                (rc = check_weights(L->mixin, zc, "mixin weight", i, l, err)) ||
                (rc = check_weights(L->res_w, C * C, "1x1 weight", i, l, err)) ||
                (rc = check_weights(L->res_b, C, "1x1 bias", i, l, err)))
                return rc;
        }
    }
    /* The layout differs a little per ISA (tile groups): take the largest,
     * so $RTG_ISA changing between measure and init cannot overflow. */
    size_t most = 0;
    for (int isa = RTG_ISA_PORTABLE; isa <= RTG_ISA_AVX512; isa++) {
        wn_carve c = {NULL, 0};
        layout(&c, s, max_block, table_for((rtg_isa)isa));
        most = c.used > most ? c.used : most;
    }
    *bytes = (most + RTG_ALIGN - 1) / RTG_ALIGN * RTG_ALIGN;
    return RTG_OK;
}

rtg_wavenet_kernel *rtg_wavenet_init(void *mem, const rtg_wavenet_spec *s, int max_block)
{
    const rtg_isa isa = rtg_cpu_isa();
    const wn_isa_table *t = table_for(isa);
    wn_carve c = {mem, 0};
    rtg_wavenet_kernel *k = layout(&c, s, max_block, t);
    int n = snprintf(k->describe, sizeof k->describe, "%s; channels", rtg_isa_name(isa));
    for (int i = 0; i < s->n_arrays && n > 0 && (size_t)n < sizeof k->describe; i++) {
        int og;
        wn_layer_fn fn[2];
        const int sized = pick(t, s->arrays[i].channels, s->arrays[i].gated, &og, fn);
        n += snprintf(k->describe + n, sizeof k->describe - (size_t)n, "%s %d%s%s",
                      i ? "," : "", s->arrays[i].channels, s->arrays[i].gated ? " gated" : "",
                      sized ? "" : " (generic)");
    }
    rtg_wavenet_reset(k);
    return k;
}

const char *rtg_wavenet_describe(const rtg_wavenet_kernel *k)
{
    return k->describe;
}

double rtg_wavenet_macs(const rtg_wavenet_spec *s)
{
    double m = 0;
    for (int i = 0; i < s->n_arrays; i++) {
        const rtg_wavenet_array_spec *a = &s->arrays[i];
        const double C = a->channels, zc = (a->gated ? 2 : 1) * C;
        m += C * a->in_ch + (double)a->head_size * C;
        m += a->n_layers * (zc * C * a->kernel_size + zc + C * C);
    }
    return m;
}

size_t rtg_wavenet_weight_floats(const rtg_wavenet_spec *s)
{
    size_t n = 1; /* head_scale */
    for (int i = 0; i < s->n_arrays; i++) {
        const rtg_wavenet_array_spec *a = &s->arrays[i];
        const size_t C = (size_t)a->channels, zc = (a->gated ? 2 : 1) * C;
        const size_t K = (size_t)a->kernel_size, H = (size_t)a->head_size;
        n += C * (size_t)a->in_ch + H * C + (a->head_b ? H : 0);
        n += (size_t)a->n_layers * (zc * C * K + zc + zc + C * C + C);
    }
    return n;
}

void rtg_wavenet_tanh(const float *x, float *y, int n)
{
    table_for(rtg_cpu_isa())->tanh(x, y, n);
}

/* ---- real-time path ---------------------------------------------------- */

void rtg_wavenet_reset(rtg_wavenet_kernel *k)
{
    for (int i = 0; i < k->n_arrays; i++) {
        const wn_array *A = &k->arrays[i];
        for (int l = 0; l < A->n_layers; l++) {
            wn_layer *L = &A->layers[l];
            memset(L->ring, 0, sizeof(float) * (size_t)L->rows * (size_t)L->stride);
            L->pos = 0;
        }
    }
}

/* Restores the mirror after frames [pos, pos + n) of `rows` rows were
 * written (n <= mbp, so the write lies in [0, P + mbp)): what went past P
 * belongs at the ring's start, and what went to the first mbp frames
 * belongs in the mirror too. */
static void ring_sync(float *ring, ptrdiff_t S, int rows, int P, int mbp, int pos, int n)
{
    const int over = pos + n - P;
    if (over > 0)
        for (int r = 0; r < rows; r++)
            memcpy(ring + r * S, ring + r * S + P, sizeof(float) * (size_t)over);
    if (pos < mbp) {
        const int end = pos + n < mbp ? pos + n : mbp;
        for (int r = 0; r < rows; r++)
            memcpy(ring + r * S + P + pos, ring + r * S + pos, sizeof(float) * (size_t)(end - pos));
    }
}

void rtg_wavenet_run(rtg_wavenet_kernel *k, const float *in, float *out, int frames)
{
    const wn_isa_table *t = k->isa;
    const int fp = round_up(frames, WN_PAD), nvec = fp / t->vw;
    const ptrdiff_t mbp = k->mbp;
    memcpy(k->cond, in, sizeof(float) * (size_t)frames);
    for (int i = 0; i < k->n_arrays; i++) {
        wn_array *A = &k->arrays[i];
        const int last = i == k->n_arrays - 1;
        /* The first layer's input: the raw input itself for the first
         * array (its first layer is folded), else the rechannel of the
         * previous array's output. */
        wn_layer *L0 = &A->layers[0];
        if (i == 0)
            memcpy(L0->ring + L0->pos, k->cond, sizeof(float) * (size_t)fp);
        else
            t->pointwise(A->rech_w, NULL, k->arrays[i - 1].xout, mbp, A->in_rows,
                         L0->ring + L0->pos, L0->stride, A->rows, nvec);
        ring_sync(L0->ring, L0->stride, i ? A->cp : 1, L0->P, k->mbp, L0->pos, fp);
        for (int l = 0; l < A->n_layers; l++) {
            const wn_layer *L = &A->layers[l];
            const wn_layer_fn fn = i == 0 && l == 0 ? A->first : A->layer;
            if (l + 1 < A->n_layers) {
                wn_layer *N = &A->layers[l + 1];
                fn(A, L, k->cond, N->ring + N->pos, N->stride, nvec, 1);
                ring_sync(N->ring, N->stride, A->cp, N->P, k->mbp, N->pos, fp);
            } else {
                fn(A, L, k->cond, A->xout, mbp, nvec, !last);
            }
        }
        float *hd = last ? k->out : k->arrays[i + 1].head;
        t->pointwise(A->head_w, A->head_b, A->head, mbp, A->cp, hd, mbp, A->head_rows, nvec);
    }
    memcpy(out, k->out, sizeof(float) * (size_t)frames);
    for (int l = 0; l < k->n_layers; l++) {
        wn_layer *L = &k->layers[l];
        L->pos += frames;
        if (L->pos >= L->P)
            L->pos -= L->P;
    }
}
