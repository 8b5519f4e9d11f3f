/* test_plan.c — the plan builder: liveness reuse, wiring, outputs, params,
 * errors; with custom steps only, so it needs no kernel. */
#include "rtg_test.h"

#include <stdlib.h>
#include <string.h>

#include "rtg_plan.h"

/* out = in * factor, factor a run-time param (no smoothing: plan level). */
static void scale_run(const rtg_step *s, int frames)
{
    const float f = *(const float *)s->state;
    const int ch = s->out_ch;
    for (int i = 0; i < frames * ch; i++)
        s->out[i] = s->in[0][i] * f;
}
static void scale_param(const rtg_step *s, int index, float v)
{
    (void)index;
    *(float *)s->state = v;
}
static void scale_init(const rtg_step *s, const void *ctx)
{
    *(float *)s->state = *(const float *)ctx;
}
/* out = in0 + in1 */
static void add_run(const rtg_step *s, int frames)
{
    for (int i = 0; i < frames * s->out_ch; i++)
        s->out[i] = s->in[0][i] + s->in[1][i];
}
/* running sum: state carried across calls */
static void integ_run(const rtg_step *s, int frames)
{
    float *acc = s->state;
    for (int t = 0; t < frames; t++) {
        *acc += s->in[0][t];
        s->out[t] = *acc;
    }
}
static void integ_reset(const rtg_step *s) { *(float *)s->state = 0; }

static int add_scale(rtg_plan_builder *b, int in, int out, float f)
{
    rtg_custom_step c = {.run = scale_run, .param = scale_param, .init = scale_init,
                         .init_ctx = &f, .init_ctx_bytes = sizeof f, .state_bytes = sizeof(float),
                         .in = &in, .n_in = 1, .out = out, .label = "scale", .op = "scale", .macs = 1};
    rtg_error err;
    int rc = rtg_plan_add_custom(b, &c, &err);
    assert_true(rc >= 0);
    return rc;
}

static void chain_reuses_buffers(void **st)
{
    (void)st;
    const int depth = 20, block = 64;
    rtg_plan_builder *b = rtg_plan_builder_new(block, 1, 48000);
    int cur = rtg_plan_input(b);
    for (int i = 0; i < depth; i++) {
        int nb = rtg_plan_buffer(b, 1);
        add_scale(b, cur, nb, 1.1f);
        cur = nb;
    }
    int chan = 0;
    rtg_error err;
    assert_int_equal(rtg_plan_set_outputs(b, 1, &cur, &chan, &err), RTG_OK);
    rtg_plan *p = rtg_plan_build(b, &err);
    assert_non_null(p);
    /* a chain needs two live buffers at a time, not twenty */
    assert_true(p->signal_bytes <= 2 * block * sizeof(float));
    float in[64], out[64];
    for (int i = 0; i < block; i++)
        in[i] = (float)i;
    rtg_plan_process(p, in, out, block);
    float g = 1;
    for (int i = 0; i < depth; i++)
        g *= 1.1f;
    for (int i = 0; i < block; i++)
        assert_float_equal(out[i], in[i] * g, 1e-4 * (1 + in[i] * g));
    assert_true(rtg_plan_macs(p) == depth);
    rtg_plan_free(p);
}

static void diamond_and_params(void **st)
{
    (void)st;
    /* y = 2x + 3x, then set the first branch to 10: y = 13x. Two outputs. */
    rtg_plan_builder *b = rtg_plan_builder_new(16, 1, 48000);
    int x = rtg_plan_input(b);
    int a = rtg_plan_buffer(b, 1), c = rtg_plan_buffer(b, 1), y = rtg_plan_buffer(b, 1);
    int sa = add_scale(b, x, a, 2);
    add_scale(b, x, c, 3);
    int ins[2] = {a, c};
    rtg_custom_step add = {.run = add_run, .in = ins, .n_in = 2, .out = y, .label = "sum", .op = "add"};
    rtg_error err;
    assert_true(rtg_plan_add_custom(b, &add, &err) >= 0);
    int bufs[2] = {y, a}, chans[2] = {0, 0};
    assert_int_equal(rtg_plan_set_outputs(b, 2, bufs, chans, &err), RTG_OK);
    rtg_plan *p = rtg_plan_build(b, &err);
    assert_non_null(p);
    float in[16], out[32];
    for (int i = 0; i < 16; i++)
        in[i] = (float)(i + 1);
    rtg_plan_process(p, in, out, 16);
    for (int i = 0; i < 16; i++) {
        assert_float_equal(out[2 * i], 5 * in[i], 1e-5);
        assert_float_equal(out[2 * i + 1], 2 * in[i], 1e-5);
    }
    rtg_plan_set_param(p, sa, 0, 10);
    rtg_plan_process(p, in, out, 16);
    for (int i = 0; i < 16; i++)
        assert_float_equal(out[2 * i], 13 * in[i], 1e-4);
    rtg_plan_free(p);
}

static void state_carries_and_resets(void **st)
{
    (void)st;
    rtg_plan_builder *b = rtg_plan_builder_new(8, 1, 48000);
    int x = rtg_plan_input(b), y = rtg_plan_buffer(b, 1);
    rtg_custom_step c = {.run = integ_run, .reset = integ_reset, .state_bytes = sizeof(float),
                         .in = &x, .n_in = 1, .out = y, .label = "integ", .op = "integ"};
    rtg_error err;
    assert_true(rtg_plan_add_custom(b, &c, &err) >= 0);
    int chan = 0;
    rtg_plan_set_outputs(b, 1, &y, &chan, &err);
    rtg_plan *p = rtg_plan_build(b, &err);
    assert_non_null(p);
    float ones[20], out[20];
    for (int i = 0; i < 20; i++)
        ones[i] = 1;
    rtg_plan_process_long(p, ones, out, 20); /* 8 + 8 + 4 */
    for (int i = 0; i < 20; i++)
        assert_float_equal(out[i], (float)(i + 1), 0);
    rtg_plan_reset(p);
    rtg_plan_process(p, ones, out, 3);
    assert_float_equal(out[2], 3, 0);
    rtg_plan_free(p);
}

/* The steps run on the caller's buffers (rtg_plan_process binds them):
 * exactly sized heap buffers (so AddressSanitizer sees any read or write
 * past `frames`), a buffer processed in place, an output a later step also
 * reads, and the plan's own buffers again for the pre-warm. */
static void runs_on_caller_buffers(void **st)
{
    (void)st;
    /* x -> a = 2x (an output, also read by the integrator) -> y = sum(a);
     * outputs [a] in the first plan, [y] in the second. */
    for (int variant = 0; variant < 2; variant++) {
        rtg_plan_builder *b = rtg_plan_builder_new(32, 1, 48000);
        int x = rtg_plan_input(b), a = rtg_plan_buffer(b, 1), y = rtg_plan_buffer(b, 1);
        add_scale(b, x, a, 2);
        rtg_custom_step c = {.run = integ_run, .reset = integ_reset,
                             .state_bytes = sizeof(float), .in = &a, .n_in = 1, .out = y,
                             .label = "integ", .op = "integ"};
        rtg_error err;
        assert_true(rtg_plan_add_custom(b, &c, &err) >= 0);
        int chan = 0, ob = variant ? y : a;
        assert_int_equal(rtg_plan_set_outputs(b, 1, &ob, &chan, &err), RTG_OK);
        rtg_plan *p = rtg_plan_build(b, &err);
        assert_non_null(p);
        assert_non_null(p->out_ref); /* a step writes the output: bound, not copied */
        float sum = 0;
        int t0 = 0;
        for (int frames = 1; frames <= 32; frames += 5) {
            float *in = malloc(sizeof(float) * (size_t)frames);
            float *out = malloc(sizeof(float) * (size_t)frames);
            assert_non_null(in);
            assert_non_null(out);
            for (int t = 0; t < frames; t++)
                in[t] = (float)(t0 + t);
            const int in_place = frames % 2; /* every other block: out == in */
            float *dst = in_place ? in : out;
            rtg_plan_process(p, in, dst, frames);
            for (int t = 0; t < frames; t++) {
                const float want_a = 2.0f * (float)(t0 + t);
                sum += want_a;
                assert_float_equal(dst[t], variant ? sum : want_a, 0);
            }
            t0 += frames;
            free(in);
            free(out);
        }
        /* the pre-warm runs on the plan's own buffers, not the freed ones */
        rtg_plan_prewarm(p);
        float one = 1, res = 0;
        rtg_plan_process(p, &one, &res, 1);
        assert_float_equal(res, 2.0f, 0);
        rtg_plan_free(p);
    }
}

static void errors_are_values(void **st)
{
    (void)st;
    rtg_error err = {{0}};
    rtg_plan_builder *b = rtg_plan_builder_new(8, 1, 48000);
    int y = rtg_plan_buffer(b, 1), z = rtg_plan_buffer(b, 1);
    /* reading a buffer nothing writes */
    rtg_custom_step c = {.run = scale_run, .state_bytes = 4, .in = &z, .n_in = 1, .out = y, .label = "bad"};
    assert_true(rtg_plan_add_custom(b, &c, &err) < 0);
    assert_non_null(strstr(err.msg, "bad"));
    /* no outputs */
    assert_null(rtg_plan_build(b, &err));
    assert_non_null(strstr(err.msg, "no outputs"));
    /* a layer whose channel count does not match its input */
    b = rtg_plan_builder_new(8, 2, 48000);
    int o = rtg_plan_buffer(b, 4);
    float w[4] = {1, 2, 3, 4};
    rtg_layer_desc d = {.type = RTG_LAYER_DENSE, .in_ch = 1, .out_ch = 4, .w = w};
    assert_true(rtg_plan_add_layer(b, &d, rtg_plan_input(b), o, "amp/0", &err) < 0);
    assert_non_null(strstr(err.msg, "amp/0"));
    rtg_plan_builder_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chain_reuses_buffers),
        cmocka_unit_test(diamond_and_params),
        cmocka_unit_test(state_carries_and_resets),
        cmocka_unit_test(runs_on_caller_buffers),
        cmocka_unit_test(errors_are_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
