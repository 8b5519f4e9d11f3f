/* test_graph_microtcn.c — configs/microtcn.yaml, a non-sequential block
 * (conv1d -> batchnorm -> prelu, plus a 1x1 residual conv, added) built from
 * four PyTorch layer files, reproduces RTNeural's microtcn_y.csv at RTNeural's
 * threshold (1e-6, tests/functional/torch_microtcn_test.cpp). */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "rtg_graph.h"

#define CH 32
#define CROP 30 /* (kernel 4 - 1) * dilation 10: PyTorch's valid conv output starts there */
#define TOL 1e-6

static void run(rtg_graph *g, const rtg_csv *x, float *y, int block)
{
    for (long t = 0; t < x->frames; t += block) {
        int n = x->frames - t < block ? (int)(x->frames - t) : block;
        rtg_plan_process(g->plan, x->data + t, y + t * CH, n);
    }
}

static double max_error_at(const float *y, const rtg_csv *want, long frames, int shift)
{
    /* want is channel-major: line c holds channel c over time */
    double worst = 0;
    for (long n = 0; n < want->channels && n + shift < frames; n++)
        for (int c = 0; c < CH; c++) {
            double e = fabs((double)y[(n + shift) * CH + c] - (double)want->data[(size_t)c * want->channels + n]);
            if (e > worst)
                worst = e;
        }
    return worst;
}

static void microtcn_matches_pytorch(void **st)
{
    (void)st;
    rtg_csv x = {0}, want = {0};
    rtg_test_load_csv(rtg_test_shared("conformance/rtneural/test_data/microtcn_x.csv"), &x);
    rtg_test_load_csv(rtg_test_shared("conformance/rtneural/test_data/microtcn_y.csv"), &want);
    assert_int_equal(x.channels, 1);
    assert_int_equal(x.frames, 1000);
    assert_int_equal(want.frames, CH);
    assert_int_equal(want.channels, 970);
    assert_int_equal(want.channels + CROP, x.frames);

    rtg_error err = {{0}};
    rtg_graph *g = NULL;
    if (rtg_graph_load(rtg_test_source("configs/microtcn.yaml"), NULL, &g, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(g->n_inputs, 1);
    assert_int_equal(g->n_outputs, CH);
    float *y = malloc(sizeof(float) * (size_t)x.frames * CH), *y7 = malloc(sizeof(float) * (size_t)x.frames * CH);
    run(g, &x, y, g->plan->max_block);

    double e = max_error_at(y, &want, x.frames, CROP);
    printf("microtcn: max error %.3g at the aligned offset %d\n", e, CROP);
    assert_true(e <= TOL);
    /* the alignment is meaningful: one frame off does not match */
    assert_true(max_error_at(y, &want, x.frames, CROP - 1) > 1e-3);
    assert_true(max_error_at(y, &want, x.frames, CROP + 1) > 1e-3);

    /* any block split gives the same bits */
    rtg_graph_free(g);
    rtg_graph_options opt = {.max_block = 7};
    if (rtg_graph_load(rtg_test_source("configs/microtcn.yaml"), &opt, &g, &err))
        fail_msg("%s", err.msg);
    run(g, &x, y7, 7);
    assert_memory_equal(y, y7, sizeof(float) * (size_t)x.frames * CH);

    free(y);
    free(y7);
    rtg_graph_free(g);
    rtg_csv_free(&x);
    rtg_csv_free(&want);
}

int main(void)
{
    if (!rtg_test_have_shared("test_graph_microtcn"))
        return RTG_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(microtcn_matches_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
