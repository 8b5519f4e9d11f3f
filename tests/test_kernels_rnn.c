/* test_kernels_rnn.c — LSTM and GRU kernels against a double reference from PyTorch's equations. */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_cpu.h"
#include "rtg_layer.h"

#define TOL 1e-5

static const char *const isa_names[] = {"portable", "avx2", "avx512"};
#define N_ISAS 3

static void use_isa(const char *name)
{
    setenv("RTG_ISA", name, 1);
    rtg_cpu_isa_refresh();
}

/* ---- random layers ------------------------------------------------------ */

typedef struct rnn_params {
    rtg_layer_type type;
    int in, H, gates;
    float *w, *u, *b, *b2, *h0, *c0;
} rnn_params;

static float *rand_array(size_t n, float scale, uint32_t *seed)
{
    float *p = malloc(n * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = scale * rtg_test_rand(seed);
    return p;
}

/* Weights uniform in +-1/sqrt(H) (PyTorch's initialisation range), so the
 * recurrence is the contracting kind trained models have. */
static rnn_params make_params(rtg_layer_type type, int in, int H, int with_init, uint32_t seed)
{
    rnn_params p = {.type = type, .in = in, .H = H, .gates = type == RTG_LAYER_LSTM ? 4 : 3};
    const float k = 1.0f / sqrtf((float)H);
    const size_t rows = (size_t)p.gates * H;
    p.w = rand_array(rows * in, k, &seed);
    p.u = rand_array(rows * H, k, &seed);
    p.b = rand_array(rows, k, &seed);
    if (type == RTG_LAYER_GRU)
        p.b2 = rand_array(rows, k, &seed);
    if (with_init) {
        p.h0 = rand_array(H, 0.5f, &seed);
        if (type == RTG_LAYER_LSTM)
            p.c0 = rand_array(H, 1.5f, &seed);
    }
    return p;
}

static void free_params(rnn_params *p)
{
    free(p->w);
    free(p->u);
    free(p->b);
    free(p->b2);
    free(p->h0);
    free(p->c0);
}

static rtg_layer_desc desc_of(const rnn_params *p)
{
    rtg_layer_desc d;
    memset(&d, 0, sizeof d);
    d.type = p->type;
    d.in_ch = p->in;
    d.out_ch = p->H;
    d.w = p->w;
    d.u = p->u;
    d.b = p->b;
    d.b2 = p->b2;
    d.h0 = p->h0;
    d.c0 = p->c0;
    return d;
}

/* ---- the reference: PyTorch's equations in double ---------------------- */

static double sigmoid(double v)
{
    return 1.0 / (1.0 + exp(-v));
}

static void reference(const rnn_params *p, const float *x, int frames, float *y)
{
    const int H = p->H, in = p->in, G = p->gates;
    double *h = calloc((size_t)H, sizeof *h), *c = calloc((size_t)H, sizeof *c);
    double *gx = calloc((size_t)G * H, sizeof *gx), *gh = calloc((size_t)G * H, sizeof *gh);
    assert_true(h && c && gx && gh);
    for (int u = 0; u < H; u++) {
        h[u] = p->h0 ? p->h0[u] : 0.0;
        c[u] = p->c0 ? p->c0[u] : 0.0;
    }
    for (int t = 0; t < frames; t++) {
        for (int r = 0; r < G * H; r++) {
            double ax = p->b[r], ah = p->b2 ? p->b2[r] : 0.0;
            for (int k = 0; k < in; k++)
                ax += (double)p->w[(size_t)r * in + k] * x[(size_t)t * in + k];
            for (int j = 0; j < H; j++)
                ah += (double)p->u[(size_t)r * H + j] * h[j];
            gx[r] = ax;
            gh[r] = ah;
        }
        for (int u = 0; u < H; u++) {
            if (p->type == RTG_LAYER_LSTM) {
                const double i = sigmoid(gx[u] + gh[u]);
                const double f = sigmoid(gx[H + u] + gh[H + u]);
                const double g = tanh(gx[2 * H + u] + gh[2 * H + u]);
                const double o = sigmoid(gx[3 * H + u] + gh[3 * H + u]);
                c[u] = f * c[u] + i * g;
                h[u] = o * tanh(c[u]);
            } else {
                const double r = sigmoid(gx[u] + gh[u]);
                const double z = sigmoid(gx[H + u] + gh[H + u]);
                const double n = tanh(gx[2 * H + u] + r * gh[2 * H + u]);
                h[u] = (1.0 - z) * n + z * h[u];
            }
            y[(size_t)t * H + u] = (float)h[u];
        }
    }
    free(h);
    free(c);
    free(gx);
    free(gh);
}

/* ---- building and running layers ---------------------------------------- */

typedef struct built {
    rtg_layer L;
    float *weights, *state, *scratch;
} built;

static float *aligned_floats(size_t n)
{
    float *p = aligned_alloc(RTG_ALIGN, rtg_align_floats(n ? n : 1) * sizeof(float));
    assert_non_null(p);
    return p;
}

static void build(built *b, const rtg_layer_desc *d, int max_block)
{
    rtg_layer_mem m;
    rtg_error err = {{0}};
    const int rc = rtg_layer_measure(d, max_block, &m, &err);
    if (rc)
        fail_msg("measure failed: %s", err.msg);
    b->weights = aligned_floats(m.weight_floats);
    b->state = aligned_floats(m.state_floats);
    b->scratch = aligned_floats(m.scratch_floats);
    /* garbage in state and scratch: init/reset must not rely on zeroed memory */
    memset(b->state, 0x7f, rtg_align_floats(m.state_floats ? m.state_floats : 1) * sizeof(float));
    memset(b->scratch, 0x7f,
           rtg_align_floats(m.scratch_floats ? m.scratch_floats : 1) * sizeof(float));
    rtg_layer_init(&b->L, d, max_block, b->weights, b->state, b->scratch);
}

static void unbuild(built *b)
{
    free(b->weights);
    free(b->state);
    free(b->scratch);
}

/* Runs `frames` frames in blocks: all of max_block, or (seed != 0) random
 * sizes in 1..max_block. */
static void run_blocks(built *b, const float *x, float *y, int frames, uint32_t seed)
{
    const int in = b->L.in_ch, out = b->L.out_ch, mb = b->L.max_block;
    for (int t = 0; t < frames;) {
        int n = mb;
        if (seed)
            n = 1 + (int)((rtg_test_rand(&seed) * 0.5f + 0.5f) * (float)(mb - 1) + 0.5f);
        if (n > frames - t)
            n = frames - t;
        rtg_layer_run(&b->L, x + (size_t)t * in, y + (size_t)t * out, n);
        t += n;
    }
}

/* Compares one layer on one ISA with the reference; returns the max error. */
static double check_against_reference(rtg_layer_type type, int in, int H, int frames, int max_block,
                                      int with_init, const char *isa)
{
    uint32_t seed = 1234u + (uint32_t)(in * 131 + H * 7 + (int)type);
    rnn_params p = make_params(type, in, H, with_init, seed);
    const rtg_layer_desc d = desc_of(&p);
    float *x = rand_array((size_t)frames * in, 1.0f, &seed);
    float *want = malloc((size_t)frames * H * sizeof *want);
    float *got = malloc((size_t)frames * H * sizeof *got);
    assert_true(want && got);
    reference(&p, x, frames, want);

    use_isa(isa);
    built b;
    build(&b, &d, max_block);
    run_blocks(&b, x, got, frames, 0);
    char what[96];
    snprintf(what, sizeof what, "%s %d->%d on %s", rtg_layer_type_name(type), in, H, isa);
    const double worst = rtg_test_assert_close(got, want, (size_t)frames * H, TOL, what);
    unbuild(&b);
    free(x);
    free(want);
    free(got);
    free_params(&p);
    return worst;
}

static const int sizes[] = {4, 8, 12, 16, 20, 24, 32, 40, 48, 64, 1, 3, 5, 13, 70};
static const int in_ne_h[][2] = {{1, 8}, {2, 16}, {8, 3}, {1, 16}, {16, 24}, {5, 13}};

static void check_all_sizes(rtg_layer_type type)
{
    for (int i = 0; i < N_ISAS; i++) {
        double worst = 0;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            const double e = check_against_reference(type, sizes[s], sizes[s], 300, 64, 0,
                                                     isa_names[i]);
            worst = e > worst ? e : worst;
        }
        for (size_t s = 0; s < sizeof in_ne_h / sizeof in_ne_h[0]; s++) {
            const double e = check_against_reference(type, in_ne_h[s][0], in_ne_h[s][1], 300, 48,
                                                     0, isa_names[i]);
            worst = e > worst ? e : worst;
        }
        print_message("%s on %s: max error %.3g over all sizes\n", rtg_layer_type_name(type),
                      isa_names[i], worst);
    }
}

static void test_lstm_matches_reference(void **state)
{
    (void)state;
    check_all_sizes(RTG_LAYER_LSTM);
}

static void test_gru_matches_reference(void **state)
{
    (void)state;
    check_all_sizes(RTG_LAYER_GRU);
}

/* 2000 frames: float error must not accumulate through the recurrence. */
static void test_long_sequences_do_not_drift(void **state)
{
    (void)state;
    static const int hs[] = {8, 16, 64, 13};
    for (int i = 0; i < N_ISAS; i++)
        for (size_t s = 0; s < sizeof hs / sizeof hs[0]; s++) {
            const double el = check_against_reference(RTG_LAYER_LSTM, hs[s], hs[s], 2000, 128,
                                                      0, isa_names[i]);
            const double eg = check_against_reference(RTG_LAYER_GRU, hs[s], hs[s], 2000, 128, 0,
                                                      isa_names[i]);
            print_message("2000 frames, H=%d on %s: lstm %.3g, gru %.3g\n", hs[s], isa_names[i],
                          el, eg);
        }
}

/* Any split of a signal into blocks gives bit-identical output. */
static void test_block_split_is_bit_exact(void **state)
{
    (void)state;
    static const int cases[][2] = {{4, 4},   {16, 16}, {1, 12}, {32, 32},
                                   {64, 64}, {5, 13},  {70, 70}};
    const int frames = 700;
    for (int i = 0; i < N_ISAS; i++)
        for (int type = 0; type < 2; type++)
            for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                const rtg_layer_type t = type ? RTG_LAYER_GRU : RTG_LAYER_LSTM;
                const int in = cases[c][0], H = cases[c][1];
                uint32_t seed = 99u + (uint32_t)c;
                rnn_params p = make_params(t, in, H, 1, seed);
                const rtg_layer_desc d = desc_of(&p);
                float *x = rand_array((size_t)frames * in, 1.0f, &seed);
                float *whole = malloc((size_t)frames * H * sizeof *whole);
                float *split = malloc((size_t)frames * H * sizeof *split);
                float *ones = malloc((size_t)frames * H * sizeof *ones);
                assert_true(whole && split && ones);
                use_isa(isa_names[i]);
                built b;
                build(&b, &d, 128);
                run_blocks(&b, x, whole, frames, 0);
                rtg_layer_reset(&b.L);
                run_blocks(&b, x, split, frames, 77u + (uint32_t)c);
                rtg_layer_reset(&b.L);
                for (int f = 0; f < frames; f++)
                    rtg_layer_run(&b.L, x + (size_t)f * in, ones + (size_t)f * H, 1);
                if (memcmp(whole, split, (size_t)frames * H * sizeof *whole) ||
                    memcmp(whole, ones, (size_t)frames * H * sizeof *whole))
                    fail_msg("%s %d->%d on %s: block split changed the output",
                             rtg_layer_type_name(t), in, H, isa_names[i]);
                unbuild(&b);
                free(x);
                free(whole);
                free(split);
                free(ones);
                free_params(&p);
            }
}

/* Reset restores the initial state: zeros, or NAM's h0/c0. */
static void test_reset_restores_initial_state(void **state)
{
    (void)state;
    for (int i = 0; i < N_ISAS; i++)
        for (int type = 0; type < 2; type++)
            for (int with_init = 0; with_init < 2; with_init++) {
                const rtg_layer_type t = type ? RTG_LAYER_GRU : RTG_LAYER_LSTM;
                /* the reference starts from h0/c0 too */
                check_against_reference(t, 3, 20, 200, 32, with_init, isa_names[i]);
                check_against_reference(t, 16, 16, 200, 32, with_init, isa_names[i]);

                const int in = 6, H = 12, frames = 150;
                uint32_t seed = 5u;
                rnn_params p = make_params(t, in, H, with_init, seed);
                const rtg_layer_desc d = desc_of(&p);
                float *x = rand_array((size_t)frames * in, 1.0f, &seed);
                float *first = malloc((size_t)frames * H * sizeof *first);
                float *again = malloc((size_t)frames * H * sizeof *again);
                assert_true(first && again);
                use_isa(isa_names[i]);
                built b;
                build(&b, &d, 32);
                run_blocks(&b, x, first, frames, 0);
                rtg_layer_reset(&b.L);
                run_blocks(&b, x, again, frames, 3u);
                assert_memory_equal(first, again, (size_t)frames * H * sizeof *first);
                unbuild(&b);
                free(x);
                free(first);
                free(again);
                free_params(&p);
            }
}

/* Bad descriptions are refused by measure, with a message saying why. */
static void expect_rejected(const rtg_layer_desc *d, const char *needle)
{
    rtg_layer_mem m;
    rtg_error err = {{0}};
    const int rc = rtg_layer_measure(d, 64, &m, &err);
    assert_int_not_equal(rc, RTG_OK);
    if (!strstr(err.msg, needle))
        fail_msg("message \"%s\" does not mention \"%s\"", err.msg, needle);
}

static void test_measure_rejects_bad_descs(void **state)
{
    (void)state;
    for (int type = 0; type < 2; type++) {
        const rtg_layer_type t = type ? RTG_LAYER_GRU : RTG_LAYER_LSTM;
        rnn_params p = make_params(t, 4, 8, 1, 42u);
        const rtg_layer_desc good = desc_of(&p);
        rtg_layer_desc d;
        rtg_layer_mem m;
        rtg_error err = {{0}};
        assert_int_equal(rtg_layer_measure(&good, 64, &m, &err), RTG_OK);
        assert_true(m.weight_floats > 0 && m.state_floats > 0 && m.scratch_floats > 0);

        d = good;
        d.out_ch = 0;
        expect_rejected(&d, "output channels");
        d = good;
        d.in_ch = 0;
        expect_rejected(&d, "input channels");
        d = good;
        d.w = NULL;
        expect_rejected(&d, "W_ih");
        d = good;
        d.u = NULL;
        expect_rejected(&d, "W_hh");
        d = good;
        p.u[17] = NAN;
        expect_rejected(&d, "W_hh");
        p.u[17] = 0.0f;
        p.w[3] = INFINITY;
        expect_rejected(&d, "W_ih");
        p.w[3] = 0.0f;
        p.b[0] = NAN;
        expect_rejected(&d, "bias");
        p.b[0] = 0.0f;
        p.h0[7] = NAN;
        expect_rejected(&d, "h0");
        p.h0[7] = 0.0f;
        if (t == RTG_LAYER_LSTM) {
            p.c0[2] = NAN;
            expect_rejected(&d, "c0");
            p.c0[2] = 0.0f;
            d.b2 = p.b; /* LSTM takes b_ih + b_hh summed, in b alone */
            expect_rejected(&d, "b2");
        } else {
            d.c0 = p.b; /* a GRU has no cell state */
            expect_rejected(&d, "c0");
        }
        /* the good desc still passes after all that */
        assert_int_equal(rtg_layer_measure(&good, 64, &m, &err), RTG_OK);
        free_params(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lstm_matches_reference),
        cmocka_unit_test(test_gru_matches_reference),
        cmocka_unit_test(test_long_sequences_do_not_drift),
        cmocka_unit_test(test_block_split_is_bit_exact),
        cmocka_unit_test(test_reset_restores_initial_state),
        cmocka_unit_test(test_measure_rejects_bad_descs),
    };
    const int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unsetenv("RTG_ISA");
    return rc;
}
