/* test_kernels_ff.c — Dense, Conv1D, activations, BatchNorm1D and PReLU
 * against naive double-precision references (straight from PyTorch's
 * definitions) on every ISA path this CPU has; block-split invariance (bit
 * for bit), reset, and the validation done by measure. */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_cpu.h"
#include "rtg_layer.h"

/* Sizes with compile-time kernels, and some without. */
static const int sizes[] = {4, 8, 12, 16, 20, 24, 32, 40, 48, 64, 1, 3, 5, 13, 70};
#define N_SIZES ((int)(sizeof sizes / sizeof sizes[0]))

static const char *const isa_names[] = {"portable", "avx2", "avx512"};
#define N_ISAS 3

/* Caps the kernels to ISA `i` for the layers built next; 0 if this CPU
 * lacks it. */
static int use_isa(int i)
{
    setenv("RTG_ISA", isa_names[i], 1);
    rtg_cpu_isa_refresh();
    return rtg_cpu_isa() == (rtg_isa)i;
}

static void all_isas(void)
{
    unsetenv("RTG_ISA");
    rtg_cpu_isa_refresh();
}

/* ---- building and running layers */

typedef struct built {
    rtg_layer L;
    float *weights, *state, *scratch;
} built;

static float *alloc_floats(size_t n, int fill_nan)
{
    if (!n)
        return NULL;
    const size_t bytes = (n * sizeof(float) + RTG_ALIGN - 1) / RTG_ALIGN * RTG_ALIGN;
    float *p = aligned_alloc(RTG_ALIGN, bytes);
    assert_non_null(p);
    /* NaN-filled scratch catches a kernel reading what it did not write. */
    memset(p, fill_nan ? 0xff : 0, bytes);
    return p;
}

static void build(built *b, const rtg_layer_desc *d, int max_block)
{
    rtg_layer_mem m;
    rtg_error err = {{0}};
    if (rtg_layer_measure(d, max_block, &m, &err) != RTG_OK)
        fail_msg("measure refused a valid %s: %s", rtg_layer_type_name(d->type), err.msg);
    b->weights = alloc_floats(m.weight_floats, 0);
    b->state = alloc_floats(m.state_floats, 1);
    b->scratch = alloc_floats(m.scratch_floats, 1);
    rtg_layer_init(&b->L, d, max_block, b->weights, b->state, b->scratch);
}

static void unbuild(built *b)
{
    free(b->weights);
    free(b->state);
    free(b->scratch);
}

/* Random block sizes in 1..max when seed is non-NULL, else max each. */
static void run_blocks(const rtg_layer *L, const float *in, float *out, int frames, int max,
                       uint32_t *seed)
{
    for (int t = 0; t < frames;) {
        int n = max;
        if (seed)
            n = 1 + (int)((rtg_test_rand(seed) + 1.0f) * 0.5f * (float)(max - 1) + 0.5f);
        if (n > frames - t)
            n = frames - t;
        rtg_layer_run(L, in + (size_t)t * L->in_ch, out + (size_t)t * L->out_ch, n);
        t += n;
    }
}

static float *random_floats(size_t n, float scale, uint32_t *seed)
{
    float *p = alloc_floats(n, 0);
    for (size_t i = 0; i < n; i++)
        p[i] = scale * rtg_test_rand(seed);
    return p;
}

/* ---- references */

static double act_ref(rtg_act act, double alpha, double v)
{
    switch (act) {
    case RTG_ACT_TANH: return tanh(v);
    case RTG_ACT_RELU: return v > 0 ? v : 0;
    case RTG_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case RTG_ACT_ELU: return v > 0 ? v : (alpha ? alpha : 1.0) * (exp(v) - 1.0);
    case RTG_ACT_HARDTANH: return v < -1 ? -1 : v > 1 ? 1 : v;
    case RTG_ACT_LEAKY_RELU: return v > 0 ? v : (alpha ? alpha : 0.01) * v;
    case RTG_ACT_FAST_TANH: {
        /* NeuralAmpModelerCore's formula, evaluated in double. */
        const double ax = fabs(v), x2 = v * v;
        return v * (2.45550750702956 + 2.45550750702956 * ax +
                    (0.893229853513558 + 0.821226666969744 * ax) * x2) /
               (2.44506634652299 + (2.44506634652299 + x2) * fabs(v + 0.814642734961073 * v * ax));
    }
    default: return v;
    }
}

/* Applies act to each row of y (softmax over the row). */
static void act_rows_ref(rtg_act act, double alpha, double *y, int frames, int ch)
{
    for (int t = 0; t < frames; t++) {
        double *r = y + (size_t)t * ch;
        if (act == RTG_ACT_SOFTMAX) {
            double m = r[0], sum = 0;
            for (int c = 1; c < ch; c++)
                m = r[c] > m ? r[c] : m;
            for (int c = 0; c < ch; c++)
                sum += r[c] = exp(r[c] - m);
            for (int c = 0; c < ch; c++)
                r[c] /= sum;
        } else {
            for (int c = 0; c < ch; c++)
                r[c] = act_ref(act, alpha, r[c]);
        }
    }
}

/* |got - want| <= rel * scale + abs, scale being the sum of the magnitudes
 * of the terms that made `want` (float rounding grows with it). */
static void check(const float *got, const double *want, const double *scale, size_t n,
                  double rel, double abs_tol, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        const double tol = rel * (scale ? scale[i] : fabs(want[i])) + abs_tol;
        const double e = fabs((double)got[i] - want[i]);
        if (!(e <= tol))
            fail_msg("%s: value %zu: got %.9g, want %.9g (error %.3g > %.3g)", what, i,
                     (double)got[i], want[i], e, tol);
    }
}

static void check_bits(const float *a, const float *b, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)))
            fail_msg("%s: value %zu differs: %.9g vs %.9g", what, i, (double)a[i], (double)b[i]);
}

/* y = W x + b per frame, then act. */
static void dense_ref(const rtg_layer_desc *d, const float *x, int frames, double *y,
                      double *scale)
{
    for (int t = 0; t < frames; t++)
        for (int o = 0; o < d->out_ch; o++) {
            double acc = d->b ? d->b[o] : 0, mag = fabs(acc);
            for (int i = 0; i < d->in_ch; i++) {
                const double term = (double)d->w[o * d->in_ch + i] * x[t * d->in_ch + i];
                acc += term;
                mag += fabs(term);
            }
            y[t * d->out_ch + o] = acc;
            scale[t * d->out_ch + o] = mag;
        }
    act_rows_ref(d->act, d->alpha, y, frames, d->out_ch);
}

/* torch.nn.Conv1d with (K-1)*dilation zeros of left padding, evaluated on
 * every stride-th frame from the first and held in between (RTNeural's
 * StridedConv1D). */
static void conv1d_ref(const rtg_layer_desc *d, const float *x, int frames, double *y,
                       double *scale)
{
    const int K = d->kernel_size, ipg = d->in_ch / d->groups, opg = d->out_ch / d->groups;
    for (int t = 0; t < frames; t++) {
        const int tc = t - t % d->stride; /* the frame whose output is held */
        for (int o = 0; o < d->out_ch; o++) {
            const int g = o / opg;
            double acc = d->b ? d->b[o] : 0, mag = fabs(acc);
            for (int k = 0; k < K; k++) {
                const int ts = tc - (K - 1 - k) * d->dilation;
                if (ts < 0)
                    continue;
                for (int i = 0; i < ipg; i++) {
                    const double wk = d->w[((size_t)o * ipg + i) * K + k];
                    const double term = wk * x[ts * d->in_ch + g * ipg + i];
                    acc += term;
                    mag += fabs(term);
                }
            }
            y[t * d->out_ch + o] = acc;
            scale[t * d->out_ch + o] = mag;
        }
    }
    act_rows_ref(d->act, d->alpha, y, frames, d->out_ch);
}

typedef void (*ref_fn)(const rtg_layer_desc *d, const float *x, int frames, double *y,
                       double *scale);

/* Runs `d` on a random signal on every ISA path: against the reference
 * (random blocks up to 37 frames), and bit for bit one call over the whole
 * signal vs random blocks vs one frame per call. */
static void check_layer(const rtg_layer_desc *d, ref_fn ref, int frames, double rel,
                        double abs_tol, uint32_t seed, const char *what)
{
    const size_t n_in = (size_t)frames * d->in_ch, n_out = (size_t)frames * d->out_ch;
    float *x = random_floats(n_in, 1.0f, &seed);
    double *want = calloc(n_out, sizeof *want), *scale = calloc(n_out, sizeof *scale);
    float *whole = alloc_floats(n_out, 1), *blocks = alloc_floats(n_out, 1),
          *single = alloc_floats(n_out, 1);
    assert_true(want && scale);
    ref(d, x, frames, want, scale);
    char msg[256];
    rtg_layer_fn picked[N_ISAS] = {0};
    for (int isa = 0; isa < N_ISAS; isa++) {
        if (!use_isa(isa))
            continue;
        built big, small;
        build(&big, d, frames);
        build(&small, d, 37);
        picked[isa] = big.L.run;
        for (int other = 0; other < isa; other++)
            if (picked[other] == picked[isa])
                fail_msg("%s: the %s and %s paths run the same function", what,
                         isa_names[other], isa_names[isa]);
        run_blocks(&big.L, x, whole, frames, frames, NULL);
        run_blocks(&small.L, x, blocks, frames, 37, &seed);
        rtg_layer_reset(&small.L);
        run_blocks(&small.L, x, single, frames, 1, NULL);
        snprintf(msg, sizeof msg, "%s [%s] vs reference", what, isa_names[isa]);
        check(blocks, want, scale, n_out, rel, abs_tol, msg);
        snprintf(msg, sizeof msg, "%s [%s] random blocks vs one call", what, isa_names[isa]);
        check_bits(blocks, whole, n_out, msg);
        snprintf(msg, sizeof msg, "%s [%s] one frame per call vs one call", what, isa_names[isa]);
        check_bits(single, whole, n_out, msg);
        unbuild(&big);
        unbuild(&small);
    }
    all_isas();
    free(x);
    free(want);
    free(scale);
    free(whole);
    free(blocks);
    free(single);
}

/* ---- Dense */

static void check_dense(int in, int out, int bias, rtg_act act, uint32_t seed)
{
    float *w = random_floats((size_t)in * out, 1.0f, &seed);
    float *b = bias ? random_floats((size_t)out, 1.0f, &seed) : NULL;
    rtg_layer_desc d = {.type = RTG_LAYER_DENSE, .in_ch = in, .out_ch = out, .w = w, .b = b,
                        .act = act};
    char what[128];
    snprintf(what, sizeof what, "dense %d->%d%s %s", in, out, bias ? "" : " no bias",
             rtg_act_name(act));
    check_layer(&d, dense_ref, 150, 1e-6, 1e-6, seed, what);
    free(w);
    free(b);
}

static void dense_every_size(void **st)
{
    (void)st;
    for (int s = 0; s < N_SIZES; s++)
        check_dense(sizes[s], sizes[s], 1, RTG_ACT_NONE, 100u + s);
}

static void dense_shapes_and_fused_activations(void **st)
{
    (void)st;
    check_dense(1, 8, 1, RTG_ACT_NONE, 1);
    check_dense(8, 1, 1, RTG_ACT_NONE, 2);
    check_dense(3, 64, 0, RTG_ACT_NONE, 3);
    check_dense(70, 5, 1, RTG_ACT_NONE, 4);
    check_dense(16, 130, 1, RTG_ACT_NONE, 5);
    for (int a = RTG_ACT_TANH; a < RTG_ACT_COUNT; a++) {
        check_dense(12, 16, 1, (rtg_act)a, 10u + a);
        check_dense(7, 13, 1, (rtg_act)a, 20u + a);
    }
}

/* ---- Conv1D */

static void check_conv(int in, int out, int K, int dil, int groups, int stride, rtg_act act,
                       int frames, uint32_t seed)
{
    float *w = random_floats((size_t)out * (in / groups) * K, 1.0f, &seed);
    float *b = random_floats((size_t)out, 1.0f, &seed);
    rtg_layer_desc d = {.type = RTG_LAYER_CONV1D, .in_ch = in, .out_ch = out, .w = w, .b = b,
                        .kernel_size = K, .dilation = dil, .groups = groups, .stride = stride,
                        .act = act};
    char what[160];
    snprintf(what, sizeof what, "conv1d %d->%d k%d d%d g%d s%d %s", in, out, K, dil, groups,
             stride, rtg_act_name(act));
    check_layer(&d, conv1d_ref, frames, 1e-6, 1e-6, seed, what);
    free(w);
    free(b);
}

static void conv1d_every_size(void **st)
{
    (void)st;
    for (int s = 0; s < N_SIZES; s++) {
        check_conv(sizes[s], sizes[s], 3, 1, 1, 1, RTG_ACT_NONE, 120, 200u + s);
        check_conv(sizes[s], sizes[s], 2, 5, 1, 1, RTG_ACT_NONE, 120, 300u + s);
    }
}

static void conv1d_groups_dilation_stride(void **st)
{
    (void)st;
    check_conv(1, 12, 5, 1, 1, 1, RTG_ACT_NONE, 100, 1); /* RTNeural's conv1d_torch */
    check_conv(8, 16, 3, 2, 4, 1, RTG_ACT_NONE, 100, 2);
    check_conv(12, 12, 3, 1, 12, 1, RTG_ACT_NONE, 100, 3); /* depthwise */
    check_conv(6, 9, 2, 3, 3, 1, RTG_ACT_TANH, 100, 4);
    check_conv(32, 32, 1, 1, 2, 1, RTG_ACT_NONE, 100, 5); /* grouped 1x1 (micro-TCN residual) */
    check_conv(1, 32, 4, 10, 1, 1, RTG_ACT_NONE, 200, 6); /* micro-TCN first conv */
    check_conv(3, 4, 3, 50, 1, 1, RTG_ACT_RELU, 400, 7);  /* history longer than a block */
    check_conv(1, 12, 5, 1, 1, 3, RTG_ACT_NONE, 100, 8);  /* RTNeural's stride 3 model */
    check_conv(4, 8, 3, 2, 2, 2, RTG_ACT_SIGMOID, 100, 9);
    check_conv(5, 5, 1, 1, 1, 4, RTG_ACT_NONE, 100, 10);  /* stride without history */
    check_conv(16, 16, 4, 3, 1, 50, RTG_ACT_NONE, 300, 11); /* stride longer than a block */
    check_conv(8, 8, 3, 1, 1, 1, RTG_ACT_SOFTMAX, 60, 12);
    check_conv(64, 64, 63, 1, 1, 1, RTG_ACT_NONE, 100, 13); /* the benchmark shape */
    /* Weights beyond the L1 budget, wider than one 64-column panel: the
     * panel passes over groups of taps, resuming its sums in y. */
    check_conv(100, 80, 4, 2, 1, 1, RTG_ACT_TANH, 100, 14);
}

static void conv1d_reset_restores_start(void **st)
{
    (void)st;
    uint32_t seed = 77;
    const int in = 6, out = 8, frames = 90;
    float *w = random_floats((size_t)out * in * 3, 1.0f, &seed);
    float *a = random_floats((size_t)frames * in, 1.0f, &seed);
    float *bsig = random_floats((size_t)frames * in, 1.0f, &seed);
    float *y1 = alloc_floats((size_t)frames * out, 1), *y2 = alloc_floats((size_t)frames * out, 1);
    rtg_layer_desc d = {.type = RTG_LAYER_CONV1D, .in_ch = in, .out_ch = out, .w = w,
                        .kernel_size = 3, .dilation = 7, .groups = 1, .stride = 3};
    built used, fresh;
    build(&used, &d, 16);
    build(&fresh, &d, 16);
    run_blocks(&used.L, a, y1, 31, 16, &seed); /* stop mid-stride, mid-history */
    rtg_layer_reset(&used.L);
    run_blocks(&used.L, bsig, y1, frames, 16, &seed);
    run_blocks(&fresh.L, bsig, y2, frames, 16, &seed);
    check_bits(y1, y2, (size_t)frames * out, "conv1d after reset vs fresh layer");
    unbuild(&used);
    unbuild(&fresh);
    free(w);
    free(a);
    free(bsig);
    free(y1);
    free(y2);
}

/* ---- Activation, BatchNorm, PReLU */

static void pointwise_ref(const rtg_layer_desc *d, const float *x, int frames, double *y,
                          double *scale)
{
    const int ch = d->in_ch;
    for (int t = 0; t < frames; t++)
        for (int c = 0; c < ch; c++) {
            const size_t i = (size_t)t * ch + c;
            double v = x[i];
            switch (d->type) {
            case RTG_LAYER_BATCHNORM:
                v = (v - d->mean[c]) / sqrt((double)d->var[c] + d->eps) *
                        (d->gamma ? d->gamma[c] : 1.0) +
                    (d->beta ? d->beta[c] : 0.0);
                break;
            case RTG_LAYER_PRELU:
                v = v > 0 ? v : d->w[d->n_alpha == 1 ? 0 : c] * v;
                break;
            default:
                break;
            }
            y[i] = v;
            scale[i] = fabs(v) + fabs(x[i]);
        }
    if (d->type == RTG_LAYER_ACTIVATION)
        act_rows_ref(d->act, d->alpha, y, frames, ch);
}

static void activations_every_size(void **st)
{
    (void)st;
    for (int a = RTG_ACT_NONE; a < RTG_ACT_COUNT; a++)
        for (int s = 0; s < N_SIZES; s++) {
            rtg_layer_desc d = {.type = RTG_LAYER_ACTIVATION, .in_ch = sizes[s],
                                .out_ch = sizes[s], .act = (rtg_act)a};
            if (a == RTG_ACT_ELU && s % 2)
                d.alpha = 0.7f;
            if (a == RTG_ACT_LEAKY_RELU && s % 2)
                d.alpha = 0.2f;
            char what[96];
            snprintf(what, sizeof what, "activation %s x%d alpha %g", rtg_act_name((rtg_act)a),
                     sizes[s], (double)d.alpha);
            /* Inputs in [-1, 1] and beyond: check_layer's signal is
             * uniform in [-1, 1]; the wide-range case follows. */
            check_layer(&d, pointwise_ref, 130, 1e-6, 3e-7, 400u + (uint32_t)(a * 31 + s), what);
        }
}

/* tanh, sigmoid, ELU, softmax over a wide input range (saturation, large
 * exponents) on every ISA path. */
static void activations_wide_range(void **st)
{
    (void)st;
    uint32_t seed = 9;
    const int ch = 16, frames = 400;
    const size_t n = (size_t)frames * ch;
    float *x = random_floats(n, 40.0f, &seed);
    for (size_t i = 0; i < 64; i++)
        x[i] = (float)((double)i / 8.0 - 4.0); /* a dense sweep through the knee */
    float *y = alloc_floats(n, 1);
    double *want = calloc(n, sizeof *want);
    assert_non_null(want);
    const rtg_act acts[] = {RTG_ACT_TANH, RTG_ACT_SIGMOID, RTG_ACT_ELU, RTG_ACT_SOFTMAX,
                            RTG_ACT_FAST_TANH, RTG_ACT_HARDTANH};
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        rtg_layer_desc d = {.type = RTG_LAYER_ACTIVATION, .in_ch = ch, .out_ch = ch,
                            .act = acts[a]};
        for (size_t i = 0; i < n; i++)
            want[i] = x[i];
        act_rows_ref(acts[a], 0, want, frames, ch);
        for (int isa = 0; isa < N_ISAS; isa++) {
            if (!use_isa(isa))
                continue;
            built b;
            build(&b, &d, 64);
            run_blocks(&b.L, x, y, frames, 64, NULL);
            char what[96];
            snprintf(what, sizeof what, "activation %s wide range [%s]", rtg_act_name(acts[a]),
                     isa_names[isa]);
            check(y, want, NULL, n, 1e-6, 3e-7, what);
            unbuild(&b);
        }
    }
    all_isas();
    free(x);
    free(y);
    free(want);
}

static void batchnorm_every_size(void **st)
{
    (void)st;
    for (int s = 0; s < N_SIZES; s++) {
        uint32_t seed = 500u + s;
        const int ch = sizes[s];
        float *mean = random_floats(ch, 1.0f, &seed), *var = random_floats(ch, 1.0f, &seed);
        float *gamma = random_floats(ch, 2.0f, &seed), *beta = random_floats(ch, 1.0f, &seed);
        for (int c = 0; c < ch; c++)
            var[c] = var[c] * var[c] + 0.05f;
        rtg_layer_desc d = {.type = RTG_LAYER_BATCHNORM, .in_ch = ch, .out_ch = ch,
                            .mean = mean, .var = var, .gamma = gamma, .beta = beta,
                            .eps = 1e-5f};
        char what[64];
        snprintf(what, sizeof what, "batchnorm x%d affine", ch);
        check_layer(&d, pointwise_ref, 100, 1e-6, 1e-7, seed, what);
        d.gamma = d.beta = NULL;
        snprintf(what, sizeof what, "batchnorm x%d not affine", ch);
        check_layer(&d, pointwise_ref, 100, 1e-6, 1e-7, seed, what);
        free(mean);
        free(var);
        free(gamma);
        free(beta);
    }
}

static void prelu_every_size(void **st)
{
    (void)st;
    for (int s = 0; s < N_SIZES; s++) {
        uint32_t seed = 600u + s;
        const int ch = sizes[s];
        float *alpha = random_floats(ch, 0.5f, &seed);
        rtg_layer_desc d = {.type = RTG_LAYER_PRELU, .in_ch = ch, .out_ch = ch, .w = alpha,
                            .n_alpha = ch};
        char what[64];
        snprintf(what, sizeof what, "prelu x%d per channel", ch);
        check_layer(&d, pointwise_ref, 100, 1e-7, 0, seed, what);
        d.n_alpha = 1;
        snprintf(what, sizeof what, "prelu x%d shared", ch);
        check_layer(&d, pointwise_ref, 100, 1e-7, 0, seed, what);
        free(alpha);
    }
}

/* ---- measure's validation */

static void expect_refused(const rtg_layer_desc *d, const char *needle)
{
    rtg_layer_mem m;
    rtg_error err = {{0}};
    const int rc = rtg_layer_measure(d, 64, &m, &err);
    if (rc == RTG_OK)
        fail_msg("measure accepted a bad %s (expected an error about \"%s\")",
                 rtg_layer_type_name(d->type), needle);
    if (!strstr(err.msg, needle))
        fail_msg("measure's message \"%s\" does not mention \"%s\"", err.msg, needle);
}

static void measure_rejects_bad_descs(void **st)
{
    (void)st;
    float w[64], b[8], nan_w[64];
    for (int i = 0; i < 64; i++)
        w[i] = nan_w[i] = 0.5f;
    for (int i = 0; i < 8; i++)
        b[i] = 0.1f;
    nan_w[5] = NAN;
    const rtg_layer_desc dense = {.type = RTG_LAYER_DENSE, .in_ch = 8, .out_ch = 8, .w = w, .b = b};
    rtg_layer_desc d;

    d = dense, d.in_ch = 0;
    expect_refused(&d, "input channels");
    d = dense, d.out_ch = 0;
    expect_refused(&d, "output channels");
    d = dense, d.w = NULL;
    expect_refused(&d, "missing dense weight");
    d = dense, d.w = nan_w;
    expect_refused(&d, "dense weight[5] is not finite");
    d = dense, d.act = (rtg_act)99;
    expect_refused(&d, "activation");

    const rtg_layer_desc conv = {.type = RTG_LAYER_CONV1D, .in_ch = 4, .out_ch = 8, .w = w,
                                 .b = b, .kernel_size = 2, .dilation = 1, .groups = 1,
                                 .stride = 1};
    d = conv, d.groups = 3;
    expect_refused(&d, "not divisible by 3 groups");
    d = conv, d.in_ch = 6, d.groups = 4;
    expect_refused(&d, "groups");
    d = conv, d.kernel_size = 0;
    expect_refused(&d, "kernel size");
    d = conv, d.dilation = 0;
    expect_refused(&d, "dilation");
    d = conv, d.stride = 0;
    expect_refused(&d, "stride");
    d = conv, d.w = NULL;
    expect_refused(&d, "missing conv1d weight");
    d = conv, d.b = nan_w;
    expect_refused(&d, "conv1d bias[5] is not finite");
    d = conv, d.kernel_size = 4096, d.dilation = 65536;
    expect_refused(&d, "too large");

    const rtg_layer_desc act = {.type = RTG_LAYER_ACTIVATION, .in_ch = 4, .out_ch = 4,
                                .act = RTG_ACT_TANH};
    d = act, d.out_ch = 5;
    expect_refused(&d, "must be equal");
    d = act, d.act = RTG_ACT_COUNT;
    expect_refused(&d, "unknown activation");

    const rtg_layer_desc bn = {.type = RTG_LAYER_BATCHNORM, .in_ch = 4, .out_ch = 4, .mean = w,
                               .var = w, .eps = 1e-5f};
    d = bn, d.var = NULL;
    expect_refused(&d, "missing batchnorm running variance");
    d = bn, d.mean = nan_w + 4;
    expect_refused(&d, "batchnorm running mean[1] is not finite");
    d = bn, d.eps = 0, d.var = (const float[4]){1, 0, 1, 1};
    expect_refused(&d, "variance[1] + eps");

    const rtg_layer_desc pr = {.type = RTG_LAYER_PRELU, .in_ch = 4, .out_ch = 4, .w = w,
                               .n_alpha = 4};
    d = pr, d.n_alpha = 3;
    expect_refused(&d, "alphas");
    d = pr, d.w = NULL;
    expect_refused(&d, "missing prelu alpha");
}

int main(void)
{
    for (int isa = 0; isa < N_ISAS; isa++)
        printf("test_kernels_ff: %s path %s\n", isa_names[isa],
               use_isa(isa) ? "tested" : "not on this CPU, skipped");
    all_isas();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dense_every_size),
        cmocka_unit_test(dense_shapes_and_fused_activations),
        cmocka_unit_test(conv1d_every_size),
        cmocka_unit_test(conv1d_groups_dilation_stride),
        cmocka_unit_test(conv1d_reset_restores_start),
        cmocka_unit_test(activations_every_size),
        cmocka_unit_test(activations_wide_range),
        cmocka_unit_test(batchnorm_every_size),
        cmocka_unit_test(prelu_every_size),
        cmocka_unit_test(measure_rejects_bad_descs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
