/* test_realtime_safety.c — the audio path makes no heap allocation and
 * takes no lock: every kernel, and whole models, run through many blocks
 * of varying size under the allocation/lock interposer. */
#include "rtg_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_alloc_guard.h"
#include "rtg_model.h"
#include "rtg_plan.h"

#define MAX_BLOCK 96

/* Weights for every desc of this test, filled with small random values. */
static float pool[1 << 20];
static size_t pool_used;
static uint32_t seed = 12345;

static const float *rnd(size_t n)
{
    assert_true(pool_used + n <= sizeof pool / sizeof pool[0]);
    float *p = pool + pool_used;
    for (size_t i = 0; i < n; i++)
        p[i] = 0.3f * rtg_test_rand(&seed);
    pool_used += n;
    return p;
}

static const float *positive(size_t n)
{
    float *p = (float *)rnd(n);
    for (size_t i = 0; i < n; i++)
        p[i] = 0.5f + (p[i] < 0 ? -p[i] : p[i]);
    return p;
}

/* One desc of each kind and a few variants; returns how many. */
static int all_layers(rtg_layer_desc *d)
{
    int n = 0;
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_DENSE, .in_ch = 3, .out_ch = 16,
                              .w = rnd(48), .b = rnd(16), .act = RTG_ACT_TANH};
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_DENSE, .in_ch = 13, .out_ch = 7, .w = rnd(91)};
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_CONV1D, .in_ch = 8, .out_ch = 8, .kernel_size = 3,
                              .dilation = 4, .groups = 1, .stride = 1, .w = rnd(192), .b = rnd(8)};
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_CONV1D, .in_ch = 6, .out_ch = 3, .kernel_size = 4,
                              .dilation = 1, .groups = 3, .stride = 2, .w = rnd(24), .b = rnd(3)};
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_LSTM, .in_ch = 2, .out_ch = 16,
                              .w = rnd(128), .u = rnd(1024), .b = rnd(64)};
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_LSTM, .in_ch = 5, .out_ch = 13,
                              .w = rnd(260), .u = rnd(676), .b = rnd(52), .h0 = rnd(13), .c0 = rnd(13)};
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_GRU, .in_ch = 1, .out_ch = 8,
                              .w = rnd(24), .u = rnd(192), .b = rnd(24), .b2 = rnd(24)};
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_GRU, .in_ch = 7, .out_ch = 70,
                              .w = rnd(1470), .u = rnd(14700), .b = rnd(210), .b2 = rnd(210)};
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_BATCHNORM, .in_ch = 8, .out_ch = 8, .gamma = rnd(8),
                              .beta = rnd(8), .mean = rnd(8), .var = positive(8), .eps = 1e-5f};
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_PRELU, .in_ch = 8, .out_ch = 8, .w = rnd(8), .n_alpha = 8};
    for (int a = RTG_ACT_TANH; a < RTG_ACT_COUNT; a++)
        d[n++] = (rtg_layer_desc){.type = RTG_LAYER_ACTIVATION, .in_ch = 12, .out_ch = 12,
                                  .act = (rtg_act)a, .alpha = 0.5f};
    /* Conv2D: 8 features x 2 filters in, kernel 2 (time) x 3 (features),
     * valid padding: 6 features x 3 filters out. */
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_CONV2D, .in_ch = 16, .out_ch = 18, .features_in = 8,
                              .features_out = 6, .filters_in = 2, .filters_out = 3, .kernel_size = 2,
                              .kernel_features = 3, .dilation = 1, .stride = 1, .valid_pad = 1,
                              .w = rnd(36), .b = rnd(3)};
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_BATCHNORM2D, .in_ch = 18, .out_ch = 18,
                              .features_in = 6, .filters_in = 3, .gamma = rnd(3), .beta = rnd(3),
                              .mean = rnd(3), .var = positive(3), .eps = 1e-3f};
    /* Stateless conv: 16 frames x 2 features in, kernel 3, valid: 14 x 4. */
    d[n++] = (rtg_layer_desc){.type = RTG_LAYER_CONV1D_STATELESS, .in_ch = 32, .out_ch = 56,
                              .time_in = 16, .time_out = 14, .features_in = 2, .features_out = 4,
                              .kernel_size = 3, .dilation = 1, .groups = 1, .stride = 1,
                              .valid_pad = 1, .w = rnd(24), .b = rnd(4)};
    return n;
}

/* Runs the plan over ~40 blocks of pseudo-random sizes 1..max_block while
 * watching this thread; returns allocations + locks seen. */
static long run_watched(rtg_plan *p)
{
    static float in[MAX_BLOCK * 64], out[MAX_BLOCK * 64];
    uint32_t s = 99;
    for (int i = 0; i < MAX_BLOCK * p->n_inputs; i++)
        in[i] = rtg_test_rand(&s);
    rtg_guard_clear();
    rtg_guard_watch(1);
    for (int k = 0; k < 40; k++) {
        int frames = 1 + (int)((rtg_test_rand(&s) * 0.5f + 0.5f) * (p->max_block - 1));
        rtg_plan_process(p, in, out, frames);
        if (k == 20)
            rtg_plan_reset(p);
    }
    rtg_guard_watch(0);
    return rtg_guard_allocs() + rtg_guard_frees() + rtg_guard_locks();
}

static void guard_counts_what_it_should(void **st)
{
    (void)st;
    /* The guard itself must be able to fail this test. */
    rtg_guard_clear();
    rtg_guard_watch(1);
    void *volatile p = malloc(16);
    free(p);
    rtg_guard_watch(0);
    assert_int_equal(rtg_guard_allocs(), 1);
    assert_int_equal(rtg_guard_frees(), 1);
}

static rtg_plan *plan_for_layer(const rtg_layer_desc *d)
{
    rtg_error err = {{0}};
    rtg_plan_builder *b = rtg_plan_builder_new(MAX_BLOCK, d->in_ch, 48000);
    int y = rtg_plan_buffer(b, d->out_ch);
    if (rtg_plan_add_layer(b, d, rtg_plan_input(b), y, "layer", &err) < 0) {
        rtg_plan_builder_free(b);
        fail_msg("%s %s: %s", rtg_layer_type_name(d->type), rtg_act_name(d->act), err.msg);
    }
    int chan = 0;
    rtg_plan_set_outputs(b, 1, &y, &chan, &err);
    rtg_plan *p = rtg_plan_build(b, &err);
    if (!p)
        fail_msg("%s", err.msg);
    return p;
}

static void every_kernel_is_allocation_free(void **st)
{
    (void)st;
    rtg_layer_desc d[64];
    int n = all_layers(d);
    for (int i = 0; i < n; i++) {
        rtg_plan *p = plan_for_layer(&d[i]);
        long events = run_watched(p);
        if (events)
            fail_msg("%s (%s): %ld allocations/frees/locks on the audio path",
                     rtg_layer_type_name(d[i].type), rtg_act_name(d[i].act), events);
        rtg_plan_free(p);
    }
}

static void whole_models_are_allocation_free(void **st)
{
    (void)st;
    /* NAM files: a gated WaveNet (the fused kernel's generic tiles) and
     * the standard A1 WaveNet (its specialised ones). */
    static const char *models[] = {
        "models/amp_lstm.json",
        "models/amp_gru.json",
        "models/amp_knob.json",
        "tests/data/nam/tiny_wavenet_gated.nam",
    };
    static const char *shared_models[] = {
        "conformance/rtneural/models/full_model.json",
        "conformance/rtneural/models/lstm_torch.json",
        "conformance/rtneural/models/conv.json",
        "conformance/nam/wavenet_a1_standard.nam",
    };
    enum {
        N_OWN = sizeof models / sizeof models[0],
        N_SHARED = sizeof shared_models / sizeof shared_models[0],
    };
    int ran = 0;
    for (int i = 0; i < N_OWN + N_SHARED; i++) {
        const char *path = i < N_OWN ? rtg_test_source(models[i]) : rtg_test_shared(shared_models[i - N_OWN]);
        if (!path)
            continue;
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", path);
        rtg_model *m = NULL;
        rtg_error err = {{0}};
        if (rtg_model_load(copy, &m, &err) != RTG_OK)
            fail_msg("%s", err.msg);
        rtg_plan_builder *b = rtg_plan_builder_new(MAX_BLOCK, m->in_ch, 48000);
        int y = rtg_plan_add_model(b, m, rtg_plan_input(b), "model", &err);
        assert_true(y > 0);
        int chan = 0;
        rtg_plan_set_outputs(b, 1, &y, &chan, &err);
        rtg_plan *p = rtg_plan_build(b, &err);
        assert_non_null(p);
        long events = run_watched(p);
        if (events)
            fail_msg("%s: %ld allocations/frees/locks on the audio path", copy, events);
        rtg_plan_free(p);
        rtg_model_free(m);
        ran++;
    }
    assert_true(ran >= N_OWN);
}

int main(void)
{
    if (!rtg_guard_active()) {
        printf("test_realtime_safety: skipped: sanitizers own malloc in this build\n");
        return RTG_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guard_counts_what_it_should),
        cmocka_unit_test(every_kernel_is_allocation_free),
        cmocka_unit_test(whole_models_are_allocation_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
