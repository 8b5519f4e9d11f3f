/* test_graph_ops.c — every DSP op of the graph format against a direct
 * computation, built from YAML the way users write it: gain, add, mul, mix,
 * concat, slice, delay (integer and fractional), control, channel
 * selection; param ramps across block boundaries; reset. */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtg_automation.h"
#include "rtg_graph.h"
#include "rtg_ops.h"

#define SR 48000.0
#define N 1000

/* Writes `yaml` to a temporary file and loads it; fails the test on error. */
static rtg_graph *load_text(const char *yaml, int max_block)
{
    char path[64];
    rtg_test_write_temp(yaml, ".yaml", path);
    rtg_graph_options opt = {.max_block = max_block};
    rtg_graph *g = NULL;
    rtg_error err = {{0}};
    int rc = rtg_graph_load(path, &opt, &g, &err);
    unlink(path);
    if (rc)
        fail_msg("%s", err.msg);
    return g;
}

static void make_input(float *x, int frames, int ch, uint32_t seed)
{
    for (int i = 0; i < frames * ch; i++)
        x[i] = rtg_test_rand(&seed);
}

/* Runs the graph over `frames` with blocks cycling through `blocks`
 * (0-terminated), applying automation `a` (may be NULL). */
static void run_blocks(rtg_graph *g, rtg_automation *a, const float *x, float *y, int frames,
                       const int *blocks)
{
    int pos = 0, k = 0;
    while (pos < frames) {
        int n = blocks[k] ? blocks[k] : 1;
        if (!blocks[++k])
            k = 0;
        if (n > frames - pos)
            n = frames - pos;
        rtg_automation_process(g->plan, a, pos, x + (size_t)pos * g->n_inputs,
                               y + (size_t)pos * g->n_outputs, n, n);
        pos += n;
    }
}

static const int whole[] = {N, 0};
static const int odd_blocks[] = {1, 7, 64, 3, 128, 0};

static void gain_static_and_channel_select(void **st)
{
    (void)st;
    rtg_graph *g = load_text("rtgraph: 1\nsample_rate: 48000\ninputs: 2\n"
                             "nodes:\n"
                             "  a: {op: gain, in: in.1, params: {db: 6}}\n"
                             "  b: {op: gain, in: in, params: {db: -20}}\n"
                             "outputs: [a, b]\n", 128);
    assert_int_equal(g->n_outputs, 3);
    float x[N * 2], y[N * 3];
    make_input(x, N, 2, 1);
    run_blocks(g, NULL, x, y, N, odd_blocks);
    const float ga = powf(10, 6 / 20.0f), gb = powf(10, -1);
    for (int t = 0; t < N; t++) {
        assert_float_equal(y[t * 3 + 0], x[t * 2 + 1] * ga, 1e-6);
        assert_float_equal(y[t * 3 + 1], x[t * 2 + 0] * gb, 1e-6);
        assert_float_equal(y[t * 3 + 2], x[t * 2 + 1] * gb, 1e-6);
    }
    rtg_graph_free(g);
}

static void add_mul_broadcast(void **st)
{
    (void)st;
    rtg_graph *g = load_text("rtgraph: 1\ninputs: 3\n"
                             "nodes:\n"
                             "  pair: {op: concat, in: [in.0, in.1]}\n"
                             "  sum:  {op: add, in: [pair, in.2, pair]}\n"
                             "  prod: {op: mul, in: [pair, in.2]}\n"
                             "outputs: [sum, prod]\n", 64);
    float x[N * 3], y[N * 4];
    make_input(x, N, 3, 2);
    run_blocks(g, NULL, x, y, N, odd_blocks);
    for (int t = 0; t < N; t++)
        for (int c = 0; c < 2; c++) {
            const float a = x[t * 3 + c], m = x[t * 3 + 2];
            assert_true(y[t * 4 + c] == a + m + a); /* same order of additions: exact */
            assert_true(y[t * 4 + 2 + c] == a * m);
        }
    rtg_graph_free(g);
}

static void concat_and_slice(void **st)
{
    (void)st;
    rtg_graph *g = load_text("rtgraph: 1\ninputs: 2\n"
                             "nodes:\n"
                             "  k:   {op: control, min: -1, max: 1, params: {value: 0.25}}\n"
                             "  cat: {op: concat, in: [in.1, k, in]}\n"
                             "  mid: {op: slice, in: cat, from: 1, count: 2}\n"
                             "outputs: [cat, mid, cat.3]\n", 128);
    assert_int_equal(g->n_outputs, 7);
    float x[N * 2], y[N * 7];
    make_input(x, N, 2, 3);
    run_blocks(g, NULL, x, y, N, odd_blocks);
    for (int t = 0; t < N; t++) {
        const float want[7] = {x[t * 2 + 1], 0.25f, x[t * 2], x[t * 2 + 1], 0.25f, x[t * 2],
                               x[t * 2 + 1]};
        for (int c = 0; c < 7; c++)
            assert_true(y[t * 7 + c] == want[c]);
    }
    rtg_graph_free(g);
}

/* A param change ramps linearly over smooth_ms: frame k of the ramp (1-based)
 * holds start + (target - start) * k / R. */
static double ramp_ref(double start, double target, int k, int R)
{
    return k >= R ? target : start + (target - start) * k / R;
}

static void gain_ramp_across_blocks(void **st)
{
    (void)st;
    /* smooth_ms 1 at 48 kHz: 48 frames, crossing several block boundaries */
    const char *yaml = "rtgraph: 1\nsample_rate: 48000\nsmooth_ms: 1\n"
                       "nodes:\n  g: {op: gain, in: in.0, params: {db: 0}}\noutputs: [g]\n";
    float x[N], y1[N], y2[N];
    make_input(x, N, 1, 4);
    rtg_graph *g = load_text(yaml, 128);
    rtg_param_ref ref;
    rtg_error err;
    assert_int_equal(rtg_graph_find_param(g, "g.db", &ref, &err), RTG_OK);
    rtg_automation a;
    assert_int_equal(rtg_automation_parse("0.005 g.db -12\n", "auto", g, &a, &err), RTG_OK);
    assert_int_equal(a.n_events, 1);
    assert_int_equal(a.events[0].frame, 240);
    run_blocks(g, &a, x, y1, N, whole);
    const int R = rtg_graph_ramp_frames(1, SR);
    assert_int_equal(R, 48);
    for (int t = 0; t < N; t++) {
        double db = t < 240 ? 0 : ramp_ref(0, -12, t - 240 + 1, R);
        double want = x[t] * pow(10, db / 20);
        assert_float_equal(y1[t], want, 2e-6);
    }
    /* the same through odd blocks: bit-exact */
    rtg_graph_free(g);
    g = load_text(yaml, 128);
    a.next = 0;
    run_blocks(g, &a, x, y2, N, odd_blocks);
    assert_memory_equal(y1, y2, sizeof y1);
    rtg_automation_free(&a);
    rtg_graph_free(g);
}

static void mix_weights_ramp(void **st)
{
    (void)st;
    const char *yaml = "rtgraph: 1\nsample_rate: 48000\ninputs: 2\nsmooth_ms: 20\n"
                       "nodes:\n"
                       "  m: {op: mix, in: [in.0, in.1], params: {weights: [1.0, 0.5]}, smooth_ms: 0.5}\n"
                       "outputs: [m]\n";
    float x[N * 2], y1[N], y2[N];
    make_input(x, N, 2, 5);
    rtg_graph *g = load_text(yaml, 32);
    rtg_error err;
    rtg_automation a;
    /* frame 100: w1 -> -2 over 24 frames; frame 110: w0 -> 0 */
    assert_int_equal(rtg_automation_parse("# comment\n\n0.0020833333 m.weights.1 -2 # at 100\n"
                                          "0.00229167 m.weights.0 0\n", "auto", g, &a, &err),
                     RTG_OK);
    assert_int_equal(a.events[0].frame, 100);
    assert_int_equal(a.events[1].frame, 110);
    run_blocks(g, &a, x, y1, N, whole);
    const int R = 24;
    for (int t = 0; t < N; t++) {
        double w1 = t < 100 ? 0.5 : ramp_ref(0.5, -2, t - 100 + 1, R);
        double w0 = t < 110 ? 1.0 : ramp_ref(1.0, 0, t - 110 + 1, R);
        assert_float_equal(y1[t], w0 * x[2 * t] + w1 * x[2 * t + 1], 1e-6);
    }
    rtg_graph_free(g);
    g = load_text(yaml, 32);
    a.next = 0;
    static const int blocks[] = {5, 17, 32, 1, 0};
    run_blocks(g, &a, x, y2, N, blocks);
    assert_memory_equal(y1, y2, sizeof y1);
    rtg_automation_free(&a);
    rtg_graph_free(g);
}

static void delay_integer_fractional_and_ramp(void **st)
{
    (void)st;
    const char *yaml = "rtgraph: 1\nsample_rate: 48000\ninputs: 2\nsmooth_ms: 1\n"
                       "nodes:\n"
                       "  d: {op: delay, in: in, max_samples: 300, params: {samples: 37}}\n"
                       "  f: {op: delay, in: in.0, max_samples: 8, params: {samples: 2.25}}\n"
                       "outputs: [d, f]\n";
    float x[N * 2], y1[N * 3], y2[N * 3];
    make_input(x, N, 2, 6);
    rtg_graph *g = load_text(yaml, 128);
    rtg_error err;
    rtg_automation a;
    /* frame 400: 37 -> 300 over 48 frames */
    assert_int_equal(rtg_automation_parse("0.00833333 d.samples 300\n", "auto", g, &a, &err), RTG_OK);
    assert_int_equal(a.events[0].frame, 400);
    run_blocks(g, &a, x, y1, N, whole);
    for (int t = 0; t < N; t++) {
        /* the delay read position is float arithmetic; compute it the same way */
        const int k = t - 400 + 1;
        float d = t < 400 ? 37.0f : k >= 48 ? 300.0f : 37.0f + 263.0f * ((float)k / 48.0f);
        int di = (int)d;
        double fr = d - di;
        for (int c = 0; c < 2; c++) {
            double xa = t - di >= 0 ? x[(t - di) * 2 + c] : 0;
            double xb = t - di - 1 >= 0 ? x[(t - di - 1) * 2 + c] : 0;
            double want = xa + fr * (xb - xa);
            assert_float_equal(y1[t * 3 + c], want, 1e-5);
            if (fr == 0)
                assert_true(y1[t * 3 + c] == (float)xa); /* integer delay: exact copy */
        }
        double xa = t - 2 >= 0 ? x[(t - 2) * 2] : 0, xb = t - 3 >= 0 ? x[(t - 3) * 2] : 0;
        assert_float_equal(y1[t * 3 + 2], 0.75 * xa + 0.25 * xb, 1e-6);
    }
    rtg_graph_free(g);
    g = load_text(yaml, 7);
    a.next = 0;
    static const int blocks[] = {7, 3, 1, 0};
    run_blocks(g, &a, x, y2, N, blocks);
    assert_memory_equal(y1, y2, sizeof y1);
    /* reset clears the delay line */
    rtg_plan_reset(g->plan);
    float one[2] = {1, 1}, out[3];
    rtg_plan_process(g->plan, one, out, 1);
    assert_true(out[0] == 0 && out[1] == 0 && out[2] == 0);
    rtg_automation_free(&a);
    rtg_graph_free(g);
}

static void control_value_ramp_and_reset(void **st)
{
    (void)st;
    rtg_graph *g = load_text("rtgraph: 1\nsample_rate: 1000\nsmooth_ms: 10\n"
                             "nodes:\n  k: {op: control, min: 0, max: 10, params: {value: 2}}\n"
                             "outputs: [k]\n", 4);
    rtg_param_ref ref;
    rtg_error err;
    assert_int_equal(rtg_graph_find_param(g, "k.value", &ref, &err), RTG_OK);
    float x[40] = {0}, y[40];
    rtg_plan_process(g->plan, x, y, 3);
    rtg_plan_set_param(g->plan, ref.step, ref.index, 7);
    for (int t = 3; t < 40; t += 4)
        rtg_plan_process(g->plan, x, y + t, t + 4 <= 40 ? 4 : 40 - t);
    for (int t = 0; t < 40; t++)
        assert_float_equal(y[t], t < 3 ? 2 : ramp_ref(2, 7, t - 3 + 1, 10), 1e-6);
    /* a new target mid-ramp starts from where the ramp is */
    rtg_plan_set_param(g->plan, ref.step, ref.index, 0);
    rtg_plan_process(g->plan, x, y, 1);
    assert_float_equal(y[0], 7 - 0.7, 1e-6);
    /* reset finishes the ramp */
    rtg_plan_reset(g->plan);
    rtg_plan_process(g->plan, x, y, 1);
    assert_true(y[0] == 0);
    rtg_graph_free(g);
}

static void param_lookup_and_ranges(void **st)
{
    (void)st;
    rtg_graph *g = load_text("rtgraph: 1\ninputs: 2\n"
                             "nodes:\n"
                             "  drive: {op: gain, in: in.0}\n"
                             "  blend: {op: mix, in: [drive, in.1]}\n"
                             "  sum:   {op: add, in: [blend, in.1]}\n"
                             "  d:     {op: delay, in: sum, max_samples: 10}\n"
                             "outputs: [d]\n", 16);
    rtg_param_ref ref;
    rtg_error err;
    assert_int_equal(rtg_graph_find_param(g, "blend.weights.1", &ref, &err), RTG_OK);
    assert_int_equal(ref.index, 1);
    assert_true(ref.value == 1.0f); /* default weight */
    assert_int_equal(rtg_graph_check_param_value(&ref, 2.5, &err), RTG_OK);
    assert_int_not_equal(rtg_graph_check_param_value(&ref, 100, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "blend.weights.1: 100 is out of range"));
    assert_int_not_equal(rtg_graph_check_param_value(&ref, NAN, &err), RTG_OK);
    assert_int_equal(rtg_graph_find_param(g, "d.samples", &ref, &err), RTG_OK);
    assert_true(ref.max == 10 && ref.min == 0);
    assert_int_not_equal(rtg_graph_check_param_value(&ref, 11, &err), RTG_OK);
    assert_int_not_equal(rtg_graph_find_param(g, "nope.db", &ref, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "no node 'nope'"));
    assert_int_not_equal(rtg_graph_find_param(g, "drive.gain", &ref, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "drive.db"));
    assert_int_not_equal(rtg_graph_find_param(g, "blend.weights", &ref, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "blend.weights.0, blend.weights.1"));
    assert_int_not_equal(rtg_graph_find_param(g, "sum.x", &ref, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "no run-time params"));
    rtg_graph_free(g);
}

static void automation_errors(void **st)
{
    (void)st;
    rtg_graph *g = load_text("rtgraph: 1\nnodes:\n  drive: {op: gain, in: in.0}\noutputs: [drive]\n", 16);
    static const struct {
        const char *text, *where, *what;
    } cases[] = {
        {"0 drive.db 3\n1 driv.db 2\n", "a:2:3:", "no node 'driv'"},
        {"0.5 drive.db 300\n", "a:1:14:", "out of range"},
        {"  x drive.db 3\n", "a:1:3:", "not a number of seconds"},
        {"1 drive.db 3\n0.5 drive.db 3\n", "a:2:1:", "must not decrease"},
        {"1 drive.db\n", "a:1:11:", "too few fields"},
        {"1 drive.db 3 4\n", "a:1:14:", "extra text"},
        {"1 drive.db abc\n", "a:1:12:", "not a number"},
        {"1 drive.level 3\n", "a:1:3:", "has: drive.db"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rtg_automation a;
        rtg_error err = {{0}};
        assert_int_not_equal(rtg_automation_parse(cases[i].text, "a", g, &a, &err), RTG_OK);
        if (strncmp(err.msg, cases[i].where, strlen(cases[i].where)) || !strstr(err.msg, cases[i].what))
            fail_msg("case %zu: got '%s', want '%s ... %s'", i, err.msg, cases[i].where, cases[i].what);
        assert_null(a.events);
    }
    rtg_graph_free(g);
}

/* Automation lands on its exact frame whatever the block size: a step
 * with no smoothing changes the output at that frame, not a block later. */
static void automation_timing(void **st)
{
    (void)st;
    const char *yaml = "rtgraph: 1\nsample_rate: 1000\nsmooth_ms: 0\n"
                       "nodes:\n  k: {op: control, min: 0, max: 1}\noutputs: [k]\n";
    static const int sizes[] = {1, 7, 64, 128, 512};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        rtg_graph *g = load_text(yaml, sizes[s]);
        rtg_automation a;
        rtg_error err;
        assert_int_equal(rtg_automation_parse("0.123 k.value 1\n0.5004 k.value 0.5\n", "a", g, &a, &err),
                         RTG_OK);
        float x[N] = {0}, y[N];
        rtg_automation_process(g->plan, &a, 0, x, y, N, sizes[s]);
        for (int t = 0; t < N; t++)
            assert_true(y[t] == (t < 123 ? 0.0f : t < 500 ? 1.0f : 0.5f));
        rtg_automation_free(&a);
        rtg_graph_free(g);
    }
}

/* The op API directly: a gather that reads channels out of order. */
static void gather_api(void **st)
{
    (void)st;
    rtg_plan_builder *b = rtg_plan_builder_new(8, 3, SR);
    int out = rtg_plan_buffer(b, 4);
    rtg_op_source src[3] = {{0, 2, 1}, {0, 0, 2}, {0, 2, 1}};
    rtg_error err;
    assert_true(rtg_op_gather(b, src, 3, out, "g", "concat", &err) >= 0);
    rtg_op_source bad = {0, 2, 2};
    int out2 = rtg_plan_buffer(b, 2);
    assert_true(rtg_op_gather(b, &bad, 1, out2, "bad", "slice", &err) < 0);
    assert_non_null(strstr(err.msg, "channels 2..3 of a 3-channel buffer"));
    int bufs[4] = {out, out, out, out}, chans[4] = {0, 1, 2, 3};
    assert_int_equal(rtg_plan_set_outputs(b, 4, bufs, chans, &err), RTG_OK);
    rtg_plan *p = rtg_plan_build(b, &err);
    assert_non_null(p);
    float x[6] = {1, 2, 3, 4, 5, 6}, y[8];
    rtg_plan_process(p, x, y, 2);
    const float want[8] = {3, 1, 2, 3, 6, 4, 5, 6};
    assert_memory_equal(y, want, sizeof want);
    rtg_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gain_static_and_channel_select),
        cmocka_unit_test(add_mul_broadcast),
        cmocka_unit_test(concat_and_slice),
        cmocka_unit_test(gain_ramp_across_blocks),
        cmocka_unit_test(mix_weights_ramp),
        cmocka_unit_test(delay_integer_fractional_and_ramp),
        cmocka_unit_test(control_value_ramp_and_reset),
        cmocka_unit_test(param_lookup_and_ranges),
        cmocka_unit_test(automation_errors),
        cmocka_unit_test(automation_timing),
        cmocka_unit_test(gather_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
