/* test_nam.c — .nam files: NeuralAmpModelerCore's own renders reproduced
 * (WaveNet and LSTM, several block sizes), metadata, pre-warm, and every
 * malformed file refused with a message that names what is wrong. */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_cpu.h"
#include "rtg_nam.h"
#include "rtg_plan.h"
#include "rtg_wavenet.h"

/* The kernels' ISA paths; each test that loops over them ends with the
 * environment's own choice restored. */
static const char *const isas[] = {"portable", "avx2", "avx512"};
static char saved_isa[32];
static int have_saved_isa;

static void isa_save(void)
{
    const char *v = getenv("RTG_ISA");
    have_saved_isa = v != NULL;
    snprintf(saved_isa, sizeof saved_isa, "%s", v ? v : "");
}

static void isa_use(const char *name)
{
    setenv("RTG_ISA", name, 1);
    rtg_cpu_isa_refresh();
}

static void isa_restore(void)
{
    if (have_saved_isa)
        setenv("RTG_ISA", saved_isa, 1);
    else
        unsetenv("RTG_ISA");
    rtg_cpu_isa_refresh();
}

/* A mono-in, mono-out plan for a loaded model. */
static rtg_plan *plan_for(const rtg_model *m, int block)
{
    rtg_error err = {{0}};
    rtg_plan_builder *b = rtg_plan_builder_new(block, 1, 48000);
    int y = rtg_plan_add_model(b, m, rtg_plan_input(b), "nam", &err);
    if (y < 0) {
        rtg_plan_builder_free(b);
        fail_msg("%s", err.msg);
    }
    int chan = 0;
    assert_int_equal(rtg_plan_set_outputs(b, 1, &y, &chan, &err), RTG_OK);
    rtg_plan *p = rtg_plan_build(b, &err);
    if (!p)
        fail_msg("%s", err.msg);
    return p;
}

static rtg_model *load(const char *path)
{
    rtg_model *m = NULL;
    rtg_error err = {{0}};
    if (rtg_nam_load(path, &m, &err) != RTG_OK)
        fail_msg("%s", err.msg);
    return m;
}

/* Renders input.wav through MODEL at each block size and compares with
 * NeuralAmpModelerCore's render: max abs error 1e-4 over all samples. With
 * every_isa, on each of the kernels' ISA paths in turn (as far as this CPU
 * has them), and the renders of all block sizes must then also be
 * bit-identical on each path. */
static void matches_reference(const char *model, const char *reference, int every_isa)
{
    char mpath[4096], rpath[4096], ipath[4096];
    snprintf(mpath, sizeof mpath, "%s", rtg_test_shared(model));
    snprintf(rpath, sizeof rpath, "%s", rtg_test_shared(reference));
    snprintf(ipath, sizeof ipath, "%s", rtg_test_shared("conformance/nam/input.wav"));
    long n, n_ref;
    float *x = rtg_test_load_mono(ipath, &n, NULL);
    float *want = rtg_test_load_mono(rpath, &n_ref, NULL);
    assert_int_equal(n, n_ref);
    float *y = malloc(sizeof(float) * (size_t)n);
    assert_non_null(y);
    float *first = malloc(sizeof(float) * (size_t)n);
    assert_non_null(first);
    rtg_model *m = load(mpath);
    static const int blocks[] = {64, 1, 17, 512};
    isa_save();
    for (int isa = 0; isa < (every_isa ? 3 : 1); isa++) {
        if (every_isa)
            isa_use(isas[isa]);
        for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
            rtg_plan *p = plan_for(m, blocks[i]);
            rtg_plan_process_long(p, x, y, n);
            char what[256];
            snprintf(what, sizeof what, "%s at block %d (%s)", model, blocks[i],
                     rtg_isa_name(rtg_cpu_isa()));
            double worst = rtg_test_assert_close(y, want, (size_t)n, 1e-4, what);
            printf("  %s: max abs error %.3g over %ld samples\n", what, worst, n);
            if (i == 0)
                memcpy(first, y, sizeof(float) * (size_t)n);
            else if (every_isa && memcmp(first, y, sizeof(float) * (size_t)n))
                fail_msg("%s: block %d differs from block %d", what, blocks[i], blocks[0]);
            rtg_plan_free(p);
        }
    }
    isa_restore();
    rtg_model_free(m);
    free(first);
    free(x);
    free(want);
    free(y);
}

static void wavenet_a1_standard_matches_nam(void **st)
{
    (void)st;
    matches_reference("conformance/nam/wavenet_a1_standard.nam",
                      "conformance/nam/wavenet_a1_standard_out.wav", 1);
}

static void lstm_matches_nam(void **st)
{
    (void)st;
    matches_reference("conformance/nam/lstm.nam", "conformance/nam/lstm_out.wav", 0);
}

static void tiny_wavenet_loads_and_renders(void **st)
{
    (void)st;
    char path[4096];
    snprintf(path, sizeof path, "%s", rtg_test_shared("conformance/nam/wavenet.nam"));
    rtg_model *m = load(path);
    assert_string_equal(m->meta.name, "Test Model");
    assert_string_equal(m->meta.gear_model, "Microtubes 900 v2");
    assert_true(m->meta.has_loudness && fabs(m->meta.loudness + 20.0207) < 1e-3);
    assert_true(m->meta.has_input_level && fabs(m->meta.input_level_dbu - 18.3) < 1e-9);
    assert_true(m->meta.sample_rate == 48000);
    /* receptive field: 1 + 2*(1+2) + 2*8 */
    assert_int_equal(m->prewarm_samples, 23);
    rtg_plan *p = plan_for(m, 64);
    float x[1000], y[1000];
    uint32_t seed = 3;
    for (int i = 0; i < 1000; i++)
        x[i] = 0.5f * rtg_test_rand(&seed);
    rtg_plan_process_long(p, x, y, 1000);
    double energy = 0;
    for (int i = 0; i < 1000; i++) {
        assert_true(isfinite(y[i]));
        energy += y[i] * y[i];
    }
    assert_true(energy > 0);
    rtg_plan_free(p);
    rtg_model_free(m);
}

/* The self-made tiny WaveNet against a direct double-precision evaluation
 * of NAM's equations, written out here from the weights in file order. */
static double act_tanh(double v) { return tanh(v); }

static void tiny_wavenet_matches_direct_math(void **st)
{
    (void)st;
    static const int gated_flags[2] = {0, 1};
    static const char *files[2] = {"tests/data/nam/tiny_wavenet.nam", "tests/data/nam/tiny_wavenet_gated.nam"};
    for (int g = 0; g < 2; g++) {
        const int gated = gated_flags[g];
        char path[4096];
        snprintf(path, sizeof path, "%s", rtg_test_source(files[g]));
        rtg_model *m = load(path);
        /* Read the raw weights back with the same JSON the loader used. */
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        static char text[1 << 16];
        size_t len = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[len] = 0;
        char *wp = strstr(text, "\"weights\": [");
        assert_non_null(wp);
        wp += strlen("\"weights\": [");
        double W[400];
        int nw = 0;
        while (*wp && *wp != ']') {
            W[nw++] = strtod(wp, &wp);
            while (*wp == ',' || *wp == ' ')
                wp++;
        }
        /* Config of tests/data/nam/tiny_wavenet*.nam */
        const int C[2] = {3, 2}, HS[2] = {2, 1}, IN[2] = {1, 3}, HB[2] = {0, 1};
        const int nd[2] = {2, 1}, dil[2][2] = {{1, 2}, {4, 0}};
        enum { T = 300, K = 3 };
        static double xin[T], out[T];
        uint32_t seed = 11;
        for (int t = 0; t < T; t++)
            xin[t] = 0.8 * rtg_test_rand(&seed);
        /* signals over time: cur[t][c] */
        static double cur[T][8], head[T][8], z[T][8], a[T][8], nxt[T][8];
        int wi = 0;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < 8; c++)
                head[t][c] = 0;
        for (int ar = 0; ar < 2; ar++) {
            const int Cc = C[ar], zc = gated ? 2 * Cc : Cc;
            /* rechannel */
            static double src[T][8];
            for (int t = 0; t < T; t++)
                for (int j = 0; j < IN[ar]; j++)
                    src[t][j] = ar == 0 ? xin[t] : cur[t][j];
            for (int t = 0; t < T; t++)
                for (int r = 0; r < Cc; r++) {
                    double s = 0;
                    for (int j = 0; j < IN[ar]; j++)
                        s += W[wi + r * IN[ar] + j] * src[t][j];
                    cur[t][r] = s;
                }
            wi += Cc * IN[ar];
            for (int l = 0; l < nd[ar]; l++) {
                const double *cw = &W[wi], *cb = cw + zc * Cc * K, *mx = cb + zc, *rw = mx + zc,
                             *rb = rw + Cc * Cc;
                wi += zc * Cc * K + zc + zc + Cc * Cc + Cc;
                for (int t = 0; t < T; t++) {
                    for (int o = 0; o < zc; o++) {
                        double s = cb[o] + mx[o] * xin[t];
                        for (int j = 0; j < Cc; j++)
                            for (int k = 0; k < K; k++) {
                                int tt = t - (K - 1 - k) * dil[ar][l];
                                s += cw[(o * Cc + j) * K + k] * (tt >= 0 ? cur[tt][j] : 0.0);
                            }
                        z[t][o] = s;
                    }
                    for (int c = 0; c < Cc; c++)
                        a[t][c] = gated ? act_tanh(z[t][c]) / (1 + exp(-z[t][Cc + c])) : act_tanh(z[t][c]);
                    for (int c = 0; c < Cc; c++) {
                        double s = rb[c];
                        for (int j = 0; j < Cc; j++)
                            s += rw[c * Cc + j] * a[t][j];
                        nxt[t][c] = cur[t][c] + s;
                        head[t][c] += a[t][c];
                    }
                }
                for (int t = 0; t < T; t++)
                    for (int c = 0; c < Cc; c++)
                        cur[t][c] = nxt[t][c];
            }
            /* head rechannel becomes the next array's head input */
            for (int t = 0; t < T; t++) {
                double hn[8];
                for (int h = 0; h < HS[ar]; h++) {
                    double s = HB[ar] ? W[wi + HS[ar] * Cc + h] : 0;
                    for (int c = 0; c < Cc; c++)
                        s += W[wi + h * Cc + c] * head[t][c];
                    hn[h] = s;
                }
                for (int c = 0; c < 8; c++)
                    head[t][c] = c < HS[ar] ? hn[c] : 0;
            }
            wi += HS[ar] * Cc + (HB[ar] ? HS[ar] : 0);
        }
        assert_int_equal(wi + 1, nw);
        for (int t = 0; t < T; t++)
            out[t] = W[wi] * head[t][0];
        /* Ours, with pre-warm disabled: the direct math starts from zero history. */
        m->prewarm_samples = 0;
        rtg_plan *p = plan_for(m, 7);
        float x[T], y[T], want[T];
        for (int t = 0; t < T; t++) {
            x[t] = (float)xin[t];
            want[t] = (float)out[t];
        }
        rtg_plan_process_long(p, x, y, T);
        rtg_test_assert_close(y, want, T, 2e-6, files[g]);
        rtg_plan_free(p);
        rtg_model_free(m);
    }
}

/* ---- the fused WaveNet kernel on its own ---------------------------- */

/* A WaveNet spec with random weights: up to 3 arrays of up to 8 layers. */
typedef struct rand_net {
    rtg_wavenet_spec spec;
    rtg_wavenet_array_spec arrays[3];
    rtg_wavenet_layer_spec layers[3][8];
    float pool[200000];
    size_t used;
    uint32_t seed;
} rand_net;

static const float *rand_weights(rand_net *r, size_t n, float scale)
{
    assert_true(r->used + n <= sizeof r->pool / sizeof r->pool[0]);
    float *p = r->pool + r->used;
    for (size_t i = 0; i < n; i++)
        p[i] = scale * rtg_test_rand(&r->seed);
    r->used += n;
    return p;
}

/* What one shape of the kernel test is. */
typedef struct net_shape {
    int n_arrays;
    int channels[3];
    int kernel_size, gated, n_layers, head_bias;
    rtg_act act;
} net_shape;

static void make_net(rand_net *r, const net_shape *sh, uint32_t seed)
{
    memset(r, 0, sizeof *r);
    r->seed = seed;
    static const int dil[8] = {1, 2, 4, 8, 16, 32, 3, 64};
    for (int i = 0; i < sh->n_arrays; i++) {
        rtg_wavenet_array_spec *a = &r->arrays[i];
        const int C = sh->channels[i], zc = (sh->gated ? 2 : 1) * C, K = sh->kernel_size;
        const float scale = 1.0f / sqrtf((float)(C * K));
        a->in_ch = i ? sh->channels[i - 1] : 1;
        a->channels = C;
        a->kernel_size = K;
        a->gated = sh->gated;
        a->act = sh->act;
        a->alpha = 0.1f;
        a->head_size = i + 1 < sh->n_arrays ? sh->channels[i + 1] : 1;
        a->n_layers = sh->n_layers;
        a->rechannel_w = rand_weights(r, (size_t)C * a->in_ch, 1.0f);
        for (int l = 0; l < sh->n_layers; l++) {
            rtg_wavenet_layer_spec *L = &r->layers[i][l];
            L->dilation = dil[(l + i) % 8];
            L->conv_w = rand_weights(r, (size_t)zc * C * K, 1.5f * scale);
            L->conv_b = rand_weights(r, (size_t)zc, 0.2f);
            L->mixin = rand_weights(r, (size_t)zc, 0.5f);
            L->res_w = rand_weights(r, (size_t)C * C, 1.0f / sqrtf((float)C));
            L->res_b = rand_weights(r, (size_t)C, 0.1f);
        }
        a->layers = r->layers[i];
        a->head_w = rand_weights(r, (size_t)a->head_size * C, 1.0f / sqrtf((float)C));
        a->head_b = sh->head_bias ? rand_weights(r, (size_t)a->head_size, 0.1f) : NULL;
    }
    r->spec = (rtg_wavenet_spec){.n_arrays = sh->n_arrays, .arrays = r->arrays, .head_scale = 0.7f};
}

static double ref_act(rtg_act act, double v, double alpha)
{
    switch (act) {
    case RTG_ACT_TANH: return tanh(v);
    case RTG_ACT_RELU: return v > 0 ? v : 0;
    case RTG_ACT_LEAKY_RELU: return v > 0 ? v : alpha * v;
    case RTG_ACT_HARDTANH: return v < -1 ? -1 : v > 1 ? 1 : v;
    case RTG_ACT_SIGMOID: return 1 / (1 + exp(-v));
    case RTG_ACT_FAST_TANH: {
        /* NAM's rational approximation, in double */
        const double ax = fabs(v), x2 = v * v;
        const double num = v * (2.45550750702956 + 2.45550750702956 * ax +
                                (0.893229853513558 + 0.821226666969744 * ax) * x2);
        return num / (2.44506634652299 + (2.44506634652299 + x2) * fabs(v + 0.814642734961073 * v * ax));
    }
    default: return v;
    }
}

/* NeuralAmpModelerCore's equations in double precision, straight from the
 * spec, over T frames from silence. */
enum { REF_T = 1500, REF_C = 32 };
static void reference_run(const rtg_wavenet_spec *s, const float *x, double *y)
{
    static double in[REF_T][REF_C], cur[REF_T][REF_C], nxt[REF_T][REF_C], head[REF_T][REF_C],
        z[REF_T][2 * REF_C];
    memset(head, 0, sizeof head);
    for (int t = 0; t < REF_T; t++)
        in[t][0] = x[t];
    for (int i = 0; i < s->n_arrays; i++) {
        const rtg_wavenet_array_spec *a = &s->arrays[i];
        const int C = a->channels, K = a->kernel_size, zc = (a->gated ? 2 : 1) * C;
        for (int t = 0; t < REF_T; t++)
            for (int c = 0; c < C; c++) {
                double v = 0;
                for (int j = 0; j < a->in_ch; j++)
                    v += a->rechannel_w[c * a->in_ch + j] * in[t][j];
                cur[t][c] = v;
            }
        for (int l = 0; l < a->n_layers; l++) {
            const rtg_wavenet_layer_spec *L = &a->layers[l];
            for (int t = 0; t < REF_T; t++) {
                for (int o = 0; o < zc; o++) {
                    double v = L->conv_b[o] + L->mixin[o] * x[t];
                    for (int j = 0; j < C; j++)
                        for (int k = 0; k < K; k++) {
                            const int tt = t - (K - 1 - k) * L->dilation;
                            v += L->conv_w[(o * C + j) * K + k] * (tt >= 0 ? cur[tt][j] : 0.0);
                        }
                    z[t][o] = v;
                }
                double av[REF_C];
                for (int c = 0; c < C; c++) {
                    av[c] = ref_act(a->act, z[t][c], a->alpha);
                    if (a->gated)
                        av[c] *= 1 / (1 + exp(-z[t][C + c]));
                    head[t][c] += av[c];
                }
                for (int c = 0; c < C; c++) {
                    double v = cur[t][c] + L->res_b[c];
                    for (int j = 0; j < C; j++)
                        v += L->res_w[c * C + j] * av[j];
                    nxt[t][c] = v;
                }
            }
            memcpy(cur, nxt, sizeof cur);
        }
        for (int t = 0; t < REF_T; t++) {
            double h[REF_C];
            for (int o = 0; o < a->head_size; o++) {
                double v = a->head_b ? a->head_b[o] : 0;
                for (int c = 0; c < C; c++)
                    v += a->head_w[o * C + c] * head[t][c];
                h[o] = v;
            }
            for (int c = 0; c < REF_C; c++)
                head[t][c] = c < a->head_size ? h[c] : 0;
            for (int c = 0; c < C; c++)
                in[t][c] = cur[t][c];
        }
    }
    for (int t = 0; t < REF_T; t++)
        y[t] = s->head_scale * head[t][0];
}

/* Runs the kernel over x in blocks: sizes from `sizes` in turn (0 ends). */
static void kernel_run(const rtg_wavenet_spec *s, int max_block, const int *sizes, const float *x,
                       float *y)
{
    size_t bytes;
    rtg_error err = {{0}};
    if (rtg_wavenet_measure(s, max_block, &bytes, &err) != RTG_OK)
        fail_msg("%s", err.msg);
    void *mem = aligned_alloc(RTG_ALIGN, bytes);
    assert_non_null(mem);
    memset(mem, 0xff, bytes); /* NaN everywhere: init must set all it reads */
    rtg_wavenet_kernel *k = rtg_wavenet_init(mem, s, max_block);
    for (int t = 0, i = 0; t < REF_T; i = sizes[i + 1] ? i + 1 : 0) {
        const int n = REF_T - t < sizes[i] ? REF_T - t : sizes[i];
        rtg_wavenet_run(k, x + t, y + t, n);
        t += n;
    }
    free(mem);
}

/* Every specialised channel count and the generic tile, gated or not,
 * every activation NAM files use, kernel sizes 1..4, on every ISA path:
 * against the double-precision equations, and bit-identical whatever the
 * block sizes. */
static void wavenet_kernel_matches_direct_math(void **st)
{
    (void)st;
    static const net_shape shapes[] = {
        {2, {16, 8}, 3, 0, 6, 1, RTG_ACT_TANH},      /* standard */
        {2, {12, 6}, 3, 0, 5, 1, RTG_ACT_TANH},      /* lite */
        {2, {8, 4}, 3, 0, 5, 0, RTG_ACT_RELU},       /* feather */
        {2, {32, 16}, 3, 0, 3, 1, RTG_ACT_TANH},
        {2, {5, 3}, 2, 1, 4, 1, RTG_ACT_TANH},       /* generic, gated */
        {1, {4}, 4, 0, 8, 1, RTG_ACT_LEAKY_RELU},
        {3, {6, 2, 7}, 3, 0, 3, 1, RTG_ACT_HARDTANH},
        {2, {3, 16}, 1, 1, 2, 0, RTG_ACT_SIGMOID},
        {2, {16, 8}, 3, 0, 4, 1, RTG_ACT_FAST_TANH},
        {1, {12}, 3, 1, 3, 1, RTG_ACT_RELU},         /* a specialised size, gated */
    };
    static float x[REF_T], y1[REF_T], y2[REF_T], want[REF_T];
    static double ref[REF_T];
    static rand_net net;
    uint32_t seed = 77;
    for (int t = 0; t < REF_T; t++)
        x[t] = 0.8f * rtg_test_rand(&seed);
    static const int split1[] = {64, 0}, split2[] = {1, 17, 5, 64, 33, 2, 0},
                     split3[] = {1200, 3, 297, 0};
    isa_save();
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        make_net(&net, &shapes[i], 1000 + (uint32_t)i);
        reference_run(&net.spec, x, ref);
        double peak = 0;
        for (int t = 0; t < REF_T; t++) {
            want[t] = (float)ref[t];
            peak = fabs(ref[t]) > peak ? fabs(ref[t]) : peak;
        }
        assert_true(peak > 1e-3); /* the net does something */
        for (int isa = 0; isa < 3; isa++) {
            isa_use(isas[isa]);
            kernel_run(&net.spec, 64, split1, x, y1);
            kernel_run(&net.spec, 64, split2, x, y2);
            if (memcmp(y1, y2, sizeof y1))
                fail_msg("shape %zu on %s: blocks of 64 and of mixed sizes differ", i,
                         rtg_isa_name(rtg_cpu_isa()));
            kernel_run(&net.spec, 1200, split3, x, y2);
            char what[128];
            snprintf(what, sizeof what, "shape %zu (channels %d, %s%s) on %s", i,
                     shapes[i].channels[0], rtg_act_name(shapes[i].act),
                     shapes[i].gated ? ", gated" : "", rtg_isa_name(rtg_cpu_isa()));
            const double tol = 5e-6 * (peak > 1 ? peak : 1);
            double worst = rtg_test_assert_close(y1, want, REF_T, tol, what);
            if (isa == 2)
                printf("  %s: max abs error %.3g (peak %.3g)\n", what, worst, peak);
            if (memcmp(y1, y2, sizeof y1))
                fail_msg("%s: blocks of 64 and of up to 1200 differ", what);
        }
    }
    isa_restore();
}

/* The kernel's vector tanh on every path keeps rtg_math.h's bound: absolute
 * error below 2e-7, relative below 3e-7 for |x| < 0.625; odd; finite for
 * infinite and NaN input. */
static void wavenet_tanh_is_accurate(void **st)
{
    (void)st;
    enum { N = 240001 };
    static float x[N + 6], y[N + 6];
    for (int i = 0; i < N; i++)
        x[i] = -12.0f + 24.0f * (float)i / (N - 1);
    x[N] = 1e-30f;
    x[N + 1] = -3e-8f;
    x[N + 2] = INFINITY;
    x[N + 3] = -INFINITY;
    x[N + 4] = NAN;
    x[N + 5] = 1e30f;
    isa_save();
    for (int isa = 0; isa < 3; isa++) {
        isa_use(isas[isa]);
        rtg_wavenet_tanh(x, y, N + 6);
        double worst_abs = 0, worst_rel = 0;
        for (int i = 0; i < N + 6; i++) {
            if (isnan(x[i])) {
                assert_true(fabsf(y[i]) == 1.0f);
                continue;
            }
            const double t = tanh((double)x[i]), e = fabs(y[i] - t);
            worst_abs = e > worst_abs ? e : worst_abs;
            if (fabs(x[i]) < 0.625 && x[i] != 0)
                worst_rel = e / fabs(t) > worst_rel ? e / fabs(t) : worst_rel;
            if (e > 2e-7 || (fabs(x[i]) < 0.625 && e > 3e-7 * fabs(t)))
                fail_msg("%s: tanh(%.9g) = %.9g, want %.9g", rtg_isa_name(rtg_cpu_isa()),
                         (double)x[i], (double)y[i], t);
        }
        printf("  tanh on %s: max abs error %.3g, max rel error (|x| < 0.625) %.3g\n",
               rtg_isa_name(rtg_cpu_isa()), worst_abs, worst_rel);
    }
    isa_restore();
}

/* Specs the kernel cannot run are refused with a message naming the part. */
static void wavenet_kernel_refuses_bad_specs(void **st)
{
    (void)st;
    static rand_net net;
    static const net_shape sh = {2, {4, 2}, 3, 0, 2, 1, RTG_ACT_TANH};
    size_t bytes;
    rtg_error err = {{0}};
    make_net(&net, &sh, 5);
    assert_int_equal(rtg_wavenet_measure(&net.spec, 64, &bytes, &err), RTG_OK);
    net.arrays[1].act = RTG_ACT_SOFTMAX;
    assert_int_equal(rtg_wavenet_measure(&net.spec, 64, &bytes, &err), RTG_ENOTSUP);
    assert_non_null(strstr(err.msg, "wavenet array 1: activation softmax: not supported"));
    make_net(&net, &sh, 5);
    net.arrays[0].head_size = 3;
    assert_int_equal(rtg_wavenet_measure(&net.spec, 64, &bytes, &err), RTG_EINVAL);
    assert_non_null(strstr(err.msg, "wavenet array 0: head size 3, must be 2"));
    make_net(&net, &sh, 5);
    ((float *)net.layers[1][1].res_w)[3] = NAN;
    assert_int_equal(rtg_wavenet_measure(&net.spec, 64, &bytes, &err), RTG_EINVAL);
    assert_non_null(strstr(err.msg, "wavenet array 1 layer 1: 1x1 weight[3] is not finite"));
    make_net(&net, &sh, 5);
    net.arrays[0].head_w = NULL;
    assert_int_equal(rtg_wavenet_measure(&net.spec, 64, &bytes, &err), RTG_EINVAL);
    assert_string_equal(err.msg, "wavenet array 0: missing head weight");
    make_net(&net, &sh, 5);
    assert_int_equal(rtg_wavenet_measure(&net.spec, 0, &bytes, &err), RTG_EINVAL);
    assert_non_null(strstr(err.msg, "max block 0"));
}

static void tiny_lstm_prewarm_and_blocks(void **st)
{
    (void)st;
    rtg_model *m = load(rtg_test_source("tests/data/nam/tiny_lstm.nam"));
    assert_int_equal(m->n_layers, 3); /* two LSTM layers and the head */
    assert_true(m->meta.sample_rate == 44100);
    assert_int_equal(m->prewarm_samples, 22050);
    enum { T = 500 };
    float x[T], y1[T], y2[T];
    uint32_t seed = 5;
    for (int t = 0; t < T; t++)
        x[t] = rtg_test_rand(&seed);
    rtg_plan *p1 = plan_for(m, 1), *p2 = plan_for(m, 64);
    rtg_plan_process_long(p1, x, y1, T);
    rtg_plan_process_long(p2, x, y2, T);
    assert_memory_equal(y1, y2, sizeof y1);
    /* Pre-warmed: silence in gives the settled output from the first sample. */
    float zero[64] = {0}, out[64];
    rtg_plan_prewarm(p2);
    rtg_plan_process(p2, zero, out, 64);
    for (int i = 1; i < 64; i++)
        assert_float_equal(out[i], out[0], 1e-6);
    rtg_plan_free(p1);
    rtg_plan_free(p2);
    rtg_model_free(m);
}

static void malformed_files_are_refused(void **st)
{
    (void)st;
    static const struct {
        const char *file, *message;
    } cases[] = {
        {"truncated_weights", "weights: 126 values, but this WaveNet needs 131"},
        {"extra_weights", "weights: 133 values, but this WaveNet needs 131"},
        {"lstm_wrong_count", "but this LSTM needs"},
        {"unknown_architecture", "architecture 'Transformer': not supported"},
        {"bad_version", "version 0.9.1: not supported"},
        {"version_not_string", "version: expected a string"},
        {"missing_config", "key 'config'"},
        {"missing_weights", "key 'weights'"},
        {"missing_channels", "config.layers[0]: missing key 'channels'"},
        {"missing_dilations", "config.layers[1].dilations"},
        {"string_weight", "weights[3]: expected a finite number"},
        {"negative_kernel", "config.layers[0].kernel_size is -3"},
        {"zero_dilation", "config.layers[0].dilations[1]"},
        {"unknown_activation", "not supported: 'Swish'"},
        {"film_not_supported", "not supported: 'film_params'"},
        {"bottleneck_not_supported", "not supported: 'bottleneck'"},
        {"post_head_not_supported", "not supported: 'head (a post-stack head)'"},
        {"chain_mismatch", "input_size is 5 but the previous array has 3 channels"},
        {"head_channels_mismatch", "channels is 3 but the previous array's head_size is 2"},
        {"lstm_missing_hidden", "missing key 'hidden_size'"},
        {"bad_sample_rate", "sample_rate: expected a rate in Hz"},
        {"not_json", "not_json.nam:1:"},
        {"nan_weight", "nan_weight.nam:1:"},
        {"huge_weight", "huge_weight.nam:1:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tests/data/nam/bad/%s.nam", cases[i].file);
        char path[4096];
        snprintf(path, sizeof path, "%s", rtg_test_source(rel));
        rtg_model *m = (rtg_model *)1;
        rtg_error err = {{0}};
        int rc = rtg_nam_load(path, &m, &err);
        if (rc == RTG_OK)
            fail_msg("%s: loaded, but it is malformed", cases[i].file);
        assert_null(m);
        if (!strstr(err.msg, cases[i].message))
            fail_msg("%s: message \"%s\" does not say \"%s\"", cases[i].file, err.msg, cases[i].message);
        if (!strstr(err.msg, cases[i].file))
            fail_msg("%s: message \"%s\" does not name the file", cases[i].file, err.msg);
        assert_null(strchr(err.msg, '\n'));
    }
}

int main(void)
{
    const struct CMUnitTest own[] = {
        cmocka_unit_test(tiny_wavenet_matches_direct_math),
        cmocka_unit_test(wavenet_kernel_matches_direct_math),
        cmocka_unit_test(wavenet_tanh_is_accurate),
        cmocka_unit_test(wavenet_kernel_refuses_bad_specs),
        cmocka_unit_test(tiny_lstm_prewarm_and_blocks),
        cmocka_unit_test(malformed_files_are_refused),
    };
    const struct CMUnitTest conformance[] = {
        cmocka_unit_test(wavenet_a1_standard_matches_nam),
        cmocka_unit_test(lstm_matches_nam),
        cmocka_unit_test(tiny_wavenet_loads_and_renders),
    };
    int failed = cmocka_run_group_tests_name("nam", own, NULL, NULL);
    if (!rtg_test_have_shared("test_nam"))
        return failed;
    return failed + cmocka_run_group_tests_name("nam conformance", conformance, NULL, NULL);
}
