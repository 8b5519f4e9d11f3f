/* test_kernels_2d.c — Conv2D, BatchNorm2D and Conv1DStateless against naive
 * double-precision references written from the definitions (Keras / PyTorch
 * cross-correlation, TensorFlow padding, causal time), on every ISA path. */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_cpu.h"
#include "rtg_layer.h"

/* ---- scaffolding ------------------------------------------------------ */

typedef struct built {
    rtg_layer L;
    rtg_layer_mem mem;
    float *weights, *state, *scratch;
} built;

/* Aligned, and filled with NaN so a kernel reading memory it never wrote
 * shows up in the results. */
static float *region(size_t n)
{
    if (!n)
        return NULL;
    void *p = NULL;
    assert_int_equal(posix_memalign(&p, RTG_ALIGN, rtg_align_floats(n) * sizeof(float)), 0);
    memset(p, 0xff, rtg_align_floats(n) * sizeof(float));
    return p;
}

static void build(built *b, const rtg_layer_desc *d, int max_block)
{
    rtg_error err = {{0}};
    int rc = rtg_layer_measure(d, max_block, &b->mem, &err);
    if (rc != RTG_OK)
        fail_msg("measure %s: %s", rtg_layer_type_name(d->type), err.msg);
    b->weights = region(b->mem.weight_floats);
    b->state = region(b->mem.state_floats);
    b->scratch = region(b->mem.scratch_floats);
    rtg_layer_init(&b->L, d, max_block, b->weights, b->state, b->scratch);
}

static void unbuild(built *b)
{
    free(b->weights);
    free(b->state);
    free(b->scratch);
}

static void fill(float *p, size_t n, uint32_t *seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = rtg_test_rand(seed);
}

static const rtg_isa all_isas[] = {RTG_ISA_PORTABLE, RTG_ISA_AVX2, RTG_ISA_AVX512};
#define N_ISAS (sizeof all_isas / sizeof all_isas[0])

/* Caps the ISA layers pick from now on (the CPU may cap it lower). */
static void use_isa(rtg_isa isa)
{
    setenv("RTG_ISA", rtg_isa_name(isa), 1);
    rtg_cpu_isa_refresh();
}

static double act_ref(rtg_act a, double v)
{
    switch (a) {
    case RTG_ACT_NONE: return v;
    case RTG_ACT_TANH: return tanh(v);
    case RTG_ACT_RELU: return v > 0 ? v : 0;
    case RTG_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    default: fail_msg("no reference for activation %s", rtg_act_name(a));
    }
    return 0;
}

/* Compares a float result to a double reference. */
static void assert_near_ref(const float *got, const double *want, size_t n, double tol,
                            const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= tol))
            fail_msg("%s: index %zu: got %.9g, want %.9g", what, i, (double)got[i], want[i]);
}

/* TensorFlow's padding rules, from its documentation: "valid" keeps the
 * positions where the kernel fits, "same" gives ceil(n / stride) outputs
 * with the padding split, the smaller half on the left. */
static int tf_out_len(int n, int span, int stride, int valid)
{
    return valid ? (n - span) / stride + 1 : (n + stride - 1) / stride;
}
static int tf_pad_left(int n, int span, int stride, int valid)
{
    if (valid)
        return 0;
    int total = (tf_out_len(n, span, stride, 0) - 1) * stride + span - n;
    return total > 0 ? total / 2 : 0;
}

/* ---- Conv2D ----------------------------------------------------------- */

typedef struct conv2d_case {
    int features, filters_in, filters_out, k, kf, dilation, stride, valid;
    rtg_act act;
} conv2d_case;

static const conv2d_case conv2d_cases[] = {
    {23, 1, 2, 5, 5, 2, 1, 1, RTG_ACT_NONE},  /* the three layers of RTNeural's conv2d.json */
    {19, 2, 3, 4, 3, 1, 2, 0, RTG_ACT_NONE},
    {10, 3, 1, 2, 3, 3, 1, 1, RTG_ACT_NONE},
    {7, 4, 4, 1, 1, 1, 1, 1, RTG_ACT_NONE},   /* pointwise */
    {8, 2, 3, 3, 4, 2, 2, 0, RTG_ACT_TANH},   /* same, even kernel, stride 2 */
    {9, 1, 1, 5, 2, 1, 2, 1, RTG_ACT_RELU},
    {5, 3, 2, 2, 5, 1, 1, 0, RTG_ACT_NONE},   /* same, kernel as long as the frame */
    {4, 2, 2, 3, 5, 2, 1, 0, RTG_ACT_NONE},   /* same, padded on both sides */
    {6, 1, 4, 4, 1, 1, 2, 0, RTG_ACT_SIGMOID},
    {11, 4, 1, 2, 4, 2, 2, 1, RTG_ACT_NONE},
    {3, 2, 2, 1, 3, 1, 2, 0, RTG_ACT_NONE},   /* no time history at all */
    {6, 2, 1, 2, 4, 1, 1, 0, RTG_ACT_NONE},   /* same, odd padding: 1 left, 2 right */
};
#define N_CONV2D (sizeof conv2d_cases / sizeof conv2d_cases[0])

typedef struct conv2d_fixture {
    conv2d_case c;
    rtg_layer_desc d;
    float *w, *b;
    int features_out, pad_left;
} conv2d_fixture;

static void conv2d_setup(conv2d_fixture *f, const conv2d_case *c, uint32_t seed)
{
    f->c = *c;
    f->features_out = tf_out_len(c->features, c->kf, c->stride, c->valid);
    f->pad_left = tf_pad_left(c->features, c->kf, c->stride, c->valid);
    const size_t nw = (size_t)c->filters_out * c->filters_in * c->k * c->kf;
    f->w = malloc(nw * sizeof(float));
    f->b = malloc((size_t)c->filters_out * sizeof(float));
    fill(f->w, nw, &seed);
    fill(f->b, (size_t)c->filters_out, &seed);
    f->d = (rtg_layer_desc){
        .type = RTG_LAYER_CONV2D,
        .in_ch = c->features * c->filters_in,
        .out_ch = f->features_out * c->filters_out,
        .w = f->w, .b = f->b,
        .kernel_size = c->k, .dilation = c->dilation, .stride = c->stride,
        .features_in = c->features, .features_out = f->features_out,
        .filters_in = c->filters_in, .filters_out = c->filters_out,
        .kernel_features = c->kf, .valid_pad = c->valid, .act = c->act,
    };
}

static void conv2d_teardown(conv2d_fixture *f)
{
    free(f->w);
    free(f->b);
}

/* y_t[g][o] = act(b[o] + sum_{k,c,kf} w[o][c][k][kf] x_{t-(K-1-k)d}[g*s - pad + kf][c]),
 * frames are (feature, filter) with filters innermost; zeros outside. */
static void conv2d_ref(const conv2d_fixture *f, const float *x, int frames, double *y)
{
    const conv2d_case *c = &f->c;
    const int F = c->features, FI = c->filters_in, FO = c->filters_out, K = c->k, KF = c->kf;
    for (int t = 0; t < frames; t++)
        for (int g = 0; g < f->features_out; g++)
            for (int o = 0; o < FO; o++) {
                double acc = f->b[o];
                for (int k = 0; k < K; k++) {
                    const int tt = t - (K - 1 - k) * c->dilation;
                    if (tt < 0)
                        continue;
                    for (int kf = 0; kf < KF; kf++) {
                        const int fi = g * c->stride - f->pad_left + kf;
                        if (fi < 0 || fi >= F)
                            continue;
                        for (int ci = 0; ci < FI; ci++)
                            acc += (double)f->w[((o * FI + ci) * K + k) * KF + kf] *
                                   x[((size_t)tt * F + fi) * FI + ci];
                    }
                }
                y[((size_t)t * f->features_out + g) * FO + o] = act_ref(c->act, acc);
            }
}

static void conv2d_matches_reference(void **st)
{
    (void)st;
    const int frames = 37;
    for (size_t i = 0; i < N_CONV2D; i++) {
        conv2d_fixture f;
        conv2d_setup(&f, &conv2d_cases[i], 1000 + (uint32_t)i);
        uint32_t seed = 77 + (uint32_t)i;
        float *x = malloc((size_t)frames * f.d.in_ch * sizeof(float));
        float *y = malloc((size_t)frames * f.d.out_ch * sizeof(float));
        double *want = malloc((size_t)frames * f.d.out_ch * sizeof(double));
        fill(x, (size_t)frames * f.d.in_ch, &seed);
        conv2d_ref(&f, x, frames, want);
        for (size_t s = 0; s < N_ISAS; s++) {
            use_isa(all_isas[s]);
            built b;
            build(&b, &f.d, frames);
            rtg_layer_run(&b.L, x, y, frames);
            char what[128];
            snprintf(what, sizeof what, "conv2d case %zu on %s", i, rtg_isa_name(rtg_cpu_isa()));
            assert_near_ref(y, want, (size_t)frames * f.d.out_ch, 1e-4, what);
            unbuild(&b);
        }
        free(x);
        free(y);
        free(want);
        conv2d_teardown(&f);
    }
}

/* Block sizes that straddle the history length every which way. */
static const int split_sizes[] = {1, 7, 16, 3, 2, 16, 5, 1, 1, 11, 16, 4};
#define N_SPLITS (sizeof split_sizes / sizeof split_sizes[0])

static void conv2d_block_split_is_bit_exact(void **st)
{
    (void)st;
    const int frames = 90, max_block = 16;
    for (size_t i = 0; i < N_CONV2D; i++) {
        conv2d_fixture f;
        conv2d_setup(&f, &conv2d_cases[i], 2000 + (uint32_t)i);
        uint32_t seed = 5 + (uint32_t)i;
        const size_t n_in = (size_t)frames * f.d.in_ch, n_out = (size_t)frames * f.d.out_ch;
        float *x = malloc(n_in * sizeof(float));
        float *whole = malloc(n_out * sizeof(float)), *split = malloc(n_out * sizeof(float));
        fill(x, n_in, &seed);
        for (size_t s = 0; s < N_ISAS; s++) {
            use_isa(all_isas[s]);
            built one, blocks;
            build(&one, &f.d, frames);
            build(&blocks, &f.d, max_block);
            rtg_layer_run(&one.L, x, whole, frames);
            for (int t = 0, j = 0; t < frames; j++) {
                int n = split_sizes[j % N_SPLITS];
                n = n < frames - t ? n : frames - t;
                rtg_layer_run(&blocks.L, x + (size_t)t * f.d.in_ch, split + (size_t)t * f.d.out_ch, n);
                t += n;
            }
            if (memcmp(whole, split, n_out * sizeof(float)))
                fail_msg("conv2d case %zu on %s: block-split output differs", i,
                         rtg_isa_name(rtg_cpu_isa()));
            unbuild(&one);
            unbuild(&blocks);
        }
        free(x);
        free(whole);
        free(split);
        conv2d_teardown(&f);
    }
}

static void conv2d_reset_clears_history(void **st)
{
    (void)st;
    const int frames = 20;
    for (size_t i = 0; i < N_CONV2D; i++) {
        conv2d_fixture f;
        conv2d_setup(&f, &conv2d_cases[i], 3000 + (uint32_t)i);
        uint32_t seed = 9 + (uint32_t)i;
        const size_t n_in = (size_t)frames * f.d.in_ch, n_out = (size_t)frames * f.d.out_ch;
        float *x = malloc(n_in * sizeof(float)), *noise = malloc(n_in * sizeof(float));
        float *fresh = malloc(n_out * sizeof(float)), *again = malloc(n_out * sizeof(float));
        fill(x, n_in, &seed);
        fill(noise, n_in, &seed);
        built b;
        build(&b, &f.d, frames);
        rtg_layer_run(&b.L, x, fresh, frames);
        rtg_layer_run(&b.L, noise, again, frames);
        rtg_layer_reset(&b.L);
        rtg_layer_run(&b.L, x, again, frames);
        assert_memory_equal(fresh, again, n_out * sizeof(float));
        unbuild(&b);
        free(x);
        free(noise);
        free(fresh);
        free(again);
        conv2d_teardown(&f);
    }
}

/* Worked by hand: which time tap meets which frame, where the bias goes. */
static void conv2d_hand_example(void **st)
{
    (void)st;
    /* 3 features, 1 filter in and out, 2 time taps x 2 feature taps, valid */
    const float w[] = {1, 2,    /* tap 0: the previous frame */
                       10, 20}; /* tap 1: the current frame */
    const float b[] = {0.5f};
    const rtg_layer_desc d = {.type = RTG_LAYER_CONV2D, .in_ch = 3, .out_ch = 2, .w = w, .b = b,
                              .kernel_size = 2, .dilation = 1, .stride = 1, .features_in = 3,
                              .features_out = 2, .filters_in = 1, .filters_out = 1,
                              .kernel_features = 2, .valid_pad = 1};
    const float x[] = {1, 0, 0, /* frame 0 */
                       0, 1, 0}; /* frame 1 */
    const float want[] = {10.5f, 0.5f, 21.5f, 10.5f};
    float y[4];
    built bl;
    build(&bl, &d, 2);
    assert_true(bl.mem.state_floats >= 3); /* at least the previous frame */
    rtg_layer_run(&bl.L, x, y, 2);
    rtg_test_assert_close(y, want, 4, 0, "conv2d by hand");
    unbuild(&bl);
}

/* ---- Conv1DStateless ---------------------------------------------------- */

typedef struct stateless_case {
    int time_in, features_in, features_out, k, dilation, stride, groups, valid;
    rtg_act act;
} stateless_case;

static const stateless_case stateless_cases[] = {
    {128, 1, 12, 65, 1, 1, 1, 1, RTG_ACT_NONE}, /* RTNeural's conv_stateless.json */
    {64, 12, 8, 33, 1, 1, 1, 1, RTG_ACT_NONE},
    {20, 4, 1, 5, 1, 1, 1, 1, RTG_ACT_TANH},
    {16, 3, 4, 3, 2, 1, 1, 0, RTG_ACT_NONE},    /* same, dilation 2 */
    {17, 2, 2, 4, 1, 2, 1, 0, RTG_ACT_RELU},    /* same, stride 2, odd window */
    {12, 4, 4, 3, 1, 2, 2, 1, RTG_ACT_NONE},    /* grouped */
    {6, 2, 3, 5, 2, 1, 1, 0, RTG_ACT_NONE},     /* same, kernel spans more than the window */
    {10, 4, 2, 1, 1, 3, 2, 0, RTG_ACT_SIGMOID},
    {9, 3, 3, 2, 1, 2, 3, 1, RTG_ACT_NONE},     /* depthwise */
};
#define N_STATELESS (sizeof stateless_cases / sizeof stateless_cases[0])

typedef struct stateless_fixture {
    stateless_case c;
    rtg_layer_desc d;
    float *w, *b;
    int time_out, pad_left;
} stateless_fixture;

static void stateless_setup(stateless_fixture *f, const stateless_case *c, uint32_t seed)
{
    f->c = *c;
    const int span = (c->k - 1) * c->dilation + 1;
    f->time_out = tf_out_len(c->time_in, span, c->stride, c->valid);
    f->pad_left = tf_pad_left(c->time_in, span, c->stride, c->valid);
    const size_t nw = (size_t)c->features_out * (c->features_in / c->groups) * c->k;
    f->w = malloc(nw * sizeof(float));
    f->b = malloc((size_t)c->features_out * sizeof(float));
    fill(f->w, nw, &seed);
    fill(f->b, (size_t)c->features_out, &seed);
    f->d = (rtg_layer_desc){
        .type = RTG_LAYER_CONV1D_STATELESS,
        .in_ch = c->time_in * c->features_in,
        .out_ch = f->time_out * c->features_out,
        .w = f->w, .b = f->b,
        .kernel_size = c->k, .dilation = c->dilation, .groups = c->groups, .stride = c->stride,
        .time_in = c->time_in, .time_out = f->time_out,
        .features_in = c->features_in, .features_out = c->features_out,
        .valid_pad = c->valid, .act = c->act,
    };
}

static void stateless_teardown(stateless_fixture *f)
{
    free(f->w);
    free(f->b);
}

/* y[j][o] = act(b[o] + sum_{k,c} w[o][c][k] x[j*s - pad + k*dil][group(o)*cg + c]). */
static void stateless_ref(const stateless_fixture *f, const float *x, double *y)
{
    const stateless_case *c = &f->c;
    const int cg = c->features_in / c->groups, og = c->features_out / c->groups;
    for (int j = 0; j < f->time_out; j++)
        for (int o = 0; o < c->features_out; o++) {
            double acc = f->b[o];
            for (int k = 0; k < c->k; k++) {
                const int p = j * c->stride - f->pad_left + k * c->dilation;
                if (p < 0 || p >= c->time_in)
                    continue;
                for (int ci = 0; ci < cg; ci++)
                    acc += (double)f->w[(o * cg + ci) * c->k + k] *
                           x[(size_t)p * c->features_in + (o / og) * cg + ci];
            }
            y[(size_t)j * c->features_out + o] = act_ref(c->act, acc);
        }
}

static void stateless_matches_reference(void **st)
{
    (void)st;
    const int frames = 3; /* windows per call, each on its own */
    for (size_t i = 0; i < N_STATELESS; i++) {
        stateless_fixture f;
        stateless_setup(&f, &stateless_cases[i], 4000 + (uint32_t)i);
        uint32_t seed = 31 + (uint32_t)i;
        const size_t n_in = (size_t)frames * f.d.in_ch, n_out = (size_t)frames * f.d.out_ch;
        float *x = malloc(n_in * sizeof(float)), *y = malloc(n_out * sizeof(float));
        double *want = malloc(n_out * sizeof(double));
        fill(x, n_in, &seed);
        for (int t = 0; t < frames; t++)
            stateless_ref(&f, x + (size_t)t * f.d.in_ch, want + (size_t)t * f.d.out_ch);
        for (size_t s = 0; s < N_ISAS; s++) {
            use_isa(all_isas[s]);
            built b;
            build(&b, &f.d, frames);
            assert_int_equal(b.mem.state_floats, 0);
            rtg_layer_run(&b.L, x, y, frames);
            char what[128];
            snprintf(what, sizeof what, "conv1d_stateless case %zu on %s", i,
                     rtg_isa_name(rtg_cpu_isa()));
            assert_near_ref(y, want, n_out, 1e-4, what);
            unbuild(&b);
        }
        free(x);
        free(y);
        free(want);
        stateless_teardown(&f);
    }
}

/* Worked by hand: the window is (step, channel) with channels innermost. */
static void stateless_hand_example(void **st)
{
    (void)st;
    /* 3 steps of 2 channels -> 2 steps of 1 channel, kernel 2, valid */
    const float w[] = {1, 2,    /* channel 0, taps 0 and 1 */
                       10, 20}; /* channel 1 */
    const rtg_layer_desc d = {.type = RTG_LAYER_CONV1D_STATELESS, .in_ch = 6, .out_ch = 2,
                              .w = w, .kernel_size = 2, .dilation = 1, .groups = 1, .stride = 1,
                              .time_in = 3, .time_out = 2, .features_in = 2, .features_out = 1,
                              .valid_pad = 1};
    const float x[] = {1, 0, /* step 0 */
                       0, 1, /* step 1 */
                       0, 0};
    const float want[] = {21, 10};
    float y[2];
    built b;
    build(&b, &d, 1);
    rtg_layer_run(&b.L, x, y, 1);
    rtg_test_assert_close(y, want, 2, 0, "conv1d_stateless by hand");
    unbuild(&b);
}

/* Output lengths Keras reported for RTNeural's conformance models. */
static void geometry_matches_keras(void **st)
{
    (void)st;
    static const struct { int n, k, s, valid, want; } cases[] = {
        {23, 5, 1, 1, 19}, {19, 3, 2, 0, 10}, {10, 3, 1, 1, 8},                   /* conv2d.json */
        {128, 65, 1, 1, 64}, {64, 33, 1, 1, 32}, {32, 13, 1, 1, 20}, {20, 5, 1, 1, 16}, /* conv_stateless.json */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int n = cases[i].n, k = cases[i].k, s = cases[i].s, valid = cases[i].valid;
        const int out = cases[i].want;
        const float w[65 * 4] = {0};
        rtg_layer_desc d = {.type = RTG_LAYER_CONV1D_STATELESS, .in_ch = n, .out_ch = out,
                            .w = w, .kernel_size = k, .dilation = 1, .groups = 1, .stride = s,
                            .time_in = n, .time_out = out, .features_in = 1, .features_out = 1,
                            .valid_pad = valid};
        rtg_layer_mem m;
        rtg_error err = {{0}};
        if (rtg_layer_measure(&d, 1, &m, &err) != RTG_OK)
            fail_msg("window %d kernel %d stride %d: %s", n, k, s, err.msg);
        d = (rtg_layer_desc){.type = RTG_LAYER_CONV2D, .in_ch = n, .out_ch = out, .w = w,
                             .kernel_size = 1, .dilation = 1, .stride = s, .features_in = n,
                             .features_out = out, .filters_in = 1, .filters_out = 1,
                             .kernel_features = k, .valid_pad = valid};
        if (rtg_layer_measure(&d, 1, &m, &err) != RTG_OK)
            fail_msg("features %d kernel %d stride %d: %s", n, k, s, err.msg);
    }
}

/* ---- BatchNorm2D ---------------------------------------------------------- */

static void batchnorm2d_matches_reference(void **st)
{
    (void)st;
    static const struct { int features, filters, affine; float eps; } cases[] = {
        {19, 2, 1, 5.0f}, {10, 3, 1, 0.01f}, {64, 12, 1, 0.01f}, {7, 1, 0, 1e-3f}, {3, 5, 0, 0.0f},
    };
    const int frames = 9;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int F = cases[i].features, C = cases[i].filters, n = F * C;
        uint32_t seed = 500 + (uint32_t)i;
        float gamma[12], beta[12], mean[12], var[12];
        fill(gamma, (size_t)C, &seed);
        fill(beta, (size_t)C, &seed);
        fill(mean, (size_t)C, &seed);
        for (int c = 0; c < C; c++)
            var[c] = 0.1f + fabsf(rtg_test_rand(&seed));
        const int affine = cases[i].affine;
        const rtg_layer_desc d = {.type = RTG_LAYER_BATCHNORM2D, .in_ch = n, .out_ch = n,
                                  .gamma = affine ? gamma : NULL, .beta = affine ? beta : NULL,
                                  .mean = mean, .var = var, .eps = cases[i].eps,
                                  .features_in = F, .filters_in = C};
        float *x = malloc((size_t)frames * n * sizeof(float));
        float *y = malloc((size_t)frames * n * sizeof(float));
        double *want = malloc((size_t)frames * n * sizeof(double));
        fill(x, (size_t)frames * n, &seed);
        for (int t = 0; t < frames; t++)
            for (int f = 0; f < F; f++)
                for (int c = 0; c < C; c++) {
                    const size_t at = ((size_t)t * F + f) * C + c;
                    const double norm = (x[at] - (double)mean[c]) / sqrt((double)var[c] + cases[i].eps);
                    want[at] = affine ? norm * gamma[c] + beta[c] : norm;
                }
        for (size_t s = 0; s < N_ISAS; s++) {
            use_isa(all_isas[s]);
            built b;
            build(&b, &d, frames);
            assert_int_equal(b.mem.state_floats, 0);
            rtg_layer_run(&b.L, x, y, frames);
            char what[128];
            snprintf(what, sizeof what, "batchnorm2d case %zu on %s", i, rtg_isa_name(rtg_cpu_isa()));
            assert_near_ref(y, want, (size_t)frames * n, 1e-5, what);
            unbuild(&b);
        }
        free(x);
        free(y);
        free(want);
    }
}

/* ---- validation --------------------------------------------------------------- */

typedef struct bad_case {
    const char *why;
    const char *msg_has; /* the message must say this */
    void (*mutate)(rtg_layer_desc *d);
} bad_case;

static float nan_weights[2 * 3 * 2 * 3];
static void m_features_out(rtg_layer_desc *d) { d->features_out = 5; d->out_ch = 5 * d->filters_out; }
static void m_in_ch(rtg_layer_desc *d) { d->in_ch += 1; }
static void m_out_ch(rtg_layer_desc *d) { d->out_ch += 1; }
static void m_kf0(rtg_layer_desc *d) { d->kernel_features = 0; }
static void m_k0(rtg_layer_desc *d) { d->kernel_size = 0; }
static void m_dil0(rtg_layer_desc *d) { d->dilation = 0; }
static void m_stride0(rtg_layer_desc *d) { d->stride = 0; }
static void m_pad2(rtg_layer_desc *d) { d->valid_pad = 2; }
static void m_too_long(rtg_layer_desc *d) { d->kernel_features = 9; }
static void m_no_w(rtg_layer_desc *d) { d->w = NULL; }
static void m_nan_w(rtg_layer_desc *d) { d->w = nan_weights; }
static void m_act(rtg_layer_desc *d) { d->act = RTG_ACT_COUNT; }
static void m_filters0(rtg_layer_desc *d) { d->filters_in = 0; }
static void m_history(rtg_layer_desc *d) { d->kernel_size = 4000; d->dilation = 4000; }

static void conv2d_measure_rejects_bad_descs(void **st)
{
    (void)st;
    static const bad_case cases[] = {
        {"wrong features_out", "features_out", m_features_out},
        {"wrong input channels", "input channels", m_in_ch},
        {"wrong output channels", "output channels", m_out_ch},
        {"no feature taps", "kernel_features", m_kf0},
        {"no time taps", "kernel_size", m_k0},
        {"dilation 0", "dilation", m_dil0},
        {"stride 0", "stride", m_stride0},
        {"padding neither valid nor same", "valid_pad", m_pad2},
        {"valid kernel longer than the frame", "kernel spans", m_too_long},
        {"no weights", "missing conv2d weights", m_no_w},
        {"NaN weight", "not finite", m_nan_w},
        {"unknown activation", "activation", m_act},
        {"no filters", "filters_in", m_filters0},
        {"huge receptive field", "receptive field", m_history},
    };
    conv2d_case c = {8, 2, 3, 2, 3, 1, 1, 1, RTG_ACT_NONE}; /* 8 features -> 6 */
    for (size_t i = 0; i < sizeof nan_weights / sizeof nan_weights[0]; i++)
        nan_weights[i] = i == 7 ? NAN : 0.5f;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conv2d_fixture f;
        conv2d_setup(&f, &c, 1);
        rtg_layer_mem m;
        rtg_error err = {{0}};
        assert_int_equal(rtg_layer_measure(&f.d, 4, &m, &err), RTG_OK);
        assert_true(m.state_floats >= (size_t)1 * 16); /* (K-1)*d frames of 8x2 */
        assert_true(m.weight_floats >= (size_t)3 + 3 * 2 * 2 * 3);
        cases[i].mutate(&f.d);
        err.msg[0] = 0;
        if (rtg_layer_measure(&f.d, 4, &m, &err) == RTG_OK)
            fail_msg("conv2d measure accepted %s", cases[i].why);
        if (!strstr(err.msg, cases[i].msg_has))
            fail_msg("conv2d, %s: message \"%s\" does not mention \"%s\"", cases[i].why, err.msg,
                     cases[i].msg_has);
        conv2d_teardown(&f);
    }
}

static void m_groups(rtg_layer_desc *d) { d->groups = 3; }
static void m_groups0(rtg_layer_desc *d) { d->groups = 0; }
static void m_time_out(rtg_layer_desc *d) { d->time_out += 1; d->out_ch += d->features_out; }
static void m_span(rtg_layer_desc *d) { d->dilation = 9; }
static void m_bias_nan(rtg_layer_desc *d) { d->b = nan_weights + 7; }

static void stateless_measure_rejects_bad_descs(void **st)
{
    (void)st;
    static const bad_case cases[] = {
        {"groups not dividing the channels", "groups", m_groups},
        {"groups 0", "groups", m_groups0},
        {"wrong time_out", "time_out", m_time_out},
        {"valid kernel longer than the window", "kernel spans", m_span},
        {"wrong input channels", "input channels", m_in_ch},
        {"wrong output channels", "output channels", m_out_ch},
        {"stride 0", "stride", m_stride0},
        {"no weights", "missing conv1d_stateless weights", m_no_w},
        {"NaN bias", "bias", m_bias_nan},
    };
    stateless_case c = {10, 4, 2, 3, 1, 1, 2, 1, RTG_ACT_NONE};
    nan_weights[7] = NAN;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        stateless_fixture f;
        stateless_setup(&f, &c, 1);
        rtg_layer_mem m;
        rtg_error err = {{0}};
        assert_int_equal(rtg_layer_measure(&f.d, 4, &m, &err), RTG_OK);
        cases[i].mutate(&f.d);
        err.msg[0] = 0;
        if (rtg_layer_measure(&f.d, 4, &m, &err) == RTG_OK)
            fail_msg("conv1d_stateless measure accepted %s", cases[i].why);
        if (!strstr(err.msg, cases[i].msg_has))
            fail_msg("conv1d_stateless, %s: message \"%s\" does not mention \"%s\"", cases[i].why,
                     err.msg, cases[i].msg_has);
        stateless_teardown(&f);
    }
}

static void batchnorm2d_measure_rejects_bad_descs(void **st)
{
    (void)st;
    const float mean[2] = {0, 0}, var[2] = {1, -1}, good_var[2] = {1, 1};
    const rtg_layer_desc good = {.type = RTG_LAYER_BATCHNORM2D, .in_ch = 6, .out_ch = 6,
                                 .mean = mean, .var = good_var, .eps = 0.5f,
                                 .features_in = 3, .filters_in = 2};
    rtg_layer_mem m;
    rtg_error err = {{0}};
    assert_int_equal(rtg_layer_measure(&good, 1, &m, &err), RTG_OK);
    struct { rtg_layer_desc d; const char *msg_has; } cases[6];
    for (int i = 0; i < 6; i++)
        cases[i].d = good;
    cases[0].d.var = var;
    cases[0].msg_has = "variance[1]";
    cases[1].d.mean = NULL;
    cases[1].msg_has = "missing batchnorm2d mean";
    cases[2].d.eps = NAN;
    cases[2].msg_has = "epsilon";
    cases[3].d.in_ch = cases[3].d.out_ch = 7;
    cases[3].msg_has = "filters_in";
    cases[4].d.out_ch = 3;
    cases[4].msg_has = "output channels";
    cases[5].d.filters_in = 0;
    cases[5].msg_has = "filters_in";
    for (int i = 0; i < 6; i++) {
        err.msg[0] = 0;
        if (rtg_layer_measure(&cases[i].d, 1, &m, &err) == RTG_OK)
            fail_msg("batchnorm2d case %d accepted", i);
        if (!strstr(err.msg, cases[i].msg_has))
            fail_msg("batchnorm2d case %d: message \"%s\" does not mention \"%s\"", i, err.msg,
                     cases[i].msg_has);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv2d_hand_example),
        cmocka_unit_test(conv2d_matches_reference),
        cmocka_unit_test(conv2d_block_split_is_bit_exact),
        cmocka_unit_test(conv2d_reset_clears_history),
        cmocka_unit_test(stateless_hand_example),
        cmocka_unit_test(stateless_matches_reference),
        cmocka_unit_test(geometry_matches_keras),
        cmocka_unit_test(batchnorm2d_matches_reference),
        cmocka_unit_test(conv2d_measure_rejects_bad_descs),
        cmocka_unit_test(stateless_measure_rejects_bad_descs),
        cmocka_unit_test(batchnorm2d_measure_rejects_bad_descs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
