/* test_math.c — rtg_expf / rtg_tanhf / rtg_sigmoidf against double libm, on every ISA path. */
#include "rtg_test.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_cpu.h"
#include "rtg_math.h"

/* The bounds rtg_math.h states. */
#define TANH_SIGMOID_ABS 2e-7
#define SMALL_REL 3e-7
#define SIGMOID_REL_PORTABLE 2e-6
#define EXP_ULP 3.0

typedef struct worst {
    double err;
    float at;
} worst;

static void note(worst *w, double err, float x)
{
    if (err > w->err || isnan(err)) {
        w->err = isnan(err) ? INFINITY : err;
        w->at = x;
    }
}

/* Evaluates the three functions over a block of inputs in a loop the
 * compiler vectorises (as the kernels use them), once per ISA. */
#define EVAL_BODY                                                                                 \
    for (int i = 0; i < n; i++) {                                                                 \
        t[i] = rtg_tanhf(x[i]);                                                                   \
        s[i] = rtg_sigmoidf(x[i]);                                                                \
        e[i] = rtg_expf(x[i]);                                                                    \
    }
typedef void (*eval_fn)(const float *x, float *t, float *s, float *e, int n);
static void eval_portable(const float *x, float *t, float *s, float *e, int n)
{
    EVAL_BODY
}
#if RTG_X86
RTG_TARGET_AVX2 static void eval_avx2(const float *x, float *t, float *s, float *e, int n)
{
    EVAL_BODY
}
RTG_TARGET_AVX512 static void eval_avx512(const float *x, float *t, float *s, float *e, int n)
{
    EVAL_BODY
}
#endif

typedef struct math_errors {
    worst tanh_abs, sigmoid_abs, tanh_rel, sigmoid_rel, exp_ulp;
    int non_finite; /* outputs that were NaN or inf for a non-NaN input */
} math_errors;

static double ulp_of(double v)
{
    const float f = (float)fabs(v);
    return (double)nextafterf(f, INFINITY) - (double)f;
}

static void check_block(eval_fn eval, const float *x, int n, math_errors *m)
{
    float t[1024], s[1024], e[1024];
    assert_true(n <= 1024);
    eval(x, t, s, e, n);
    for (int i = 0; i < n; i++) {
        const float v = x[i];
        if (isnan(v))
            continue;
        if (!isfinite(t[i]) || !isfinite(s[i]) || isnan(e[i]))
            m->non_finite++;
        const double rt = tanh((double)v), rs = 1.0 / (1.0 + exp(-(double)v));
        note(&m->tanh_abs, fabs(t[i] - rt), v);
        note(&m->sigmoid_abs, fabs(s[i] - rs), v);
        if (fabsf(v) < 0.625f && v != 0.0f)
            note(&m->tanh_rel, fabs(t[i] - rt) / fabs(rt), v);
        if (v > -20.0f && v < 0.0f)
            note(&m->sigmoid_rel, fabs(s[i] - rs) / rs, v);
        if (v >= -87.0f && v <= 88.0f) {
            const double re = exp((double)v);
            note(&m->exp_ulp, fabs(e[i] - re) / ulp_of(re), v);
        }
    }
}

/* Inputs: every 97th float bit pattern of magnitude up to 20 (about 22
 * million, all binades down to the smallest subnormal), a uniform grid over
 * [-100, 100], and the extremes. */
static void run_all(eval_fn eval, math_errors *m)
{
    float x[1024];
    int n = 0;
#define PUSH(v)                                                                                   \
    do {                                                                                          \
        x[n++] = (v);                                                                             \
        if (n == 1024) {                                                                          \
            check_block(eval, x, n, m);                                                           \
            n = 0;                                                                                \
        }                                                                                         \
    } while (0)
    const float lim = 20.0f;
    uint32_t top;
    memcpy(&top, &lim, sizeof top);
    for (uint32_t b = 0; b <= top; b += 97) {
        float v;
        memcpy(&v, &b, sizeof v);
        PUSH(v);
        PUSH(-v);
    }
    for (int i = -2000000; i <= 2000000; i++)
        PUSH((float)i * 5e-5f);
    static const float extremes[] = {
        0.0f,   -0.0f,   1e-40f, -1e-40f, 0.625f,  -0.625f,  8.9f,     9.0f,
        9.1f,   -9.1f,   87.0f,  -87.0f,  88.0f,   88.3f,    88.7f,    100.0f,
        -100.0f, 1e30f,  -1e30f, FLT_MAX, -FLT_MAX, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++)
        PUSH(extremes[i]);
#undef PUSH
    if (n)
        check_block(eval, x, n, m);
}

static void check_isa(eval_fn eval, const char *isa, double sigmoid_rel)
{
    math_errors m;
    memset(&m, 0, sizeof m);
    run_all(eval, &m);
    print_message("[%s] tanh abs %.3g at %.9g, sigmoid abs %.3g at %.9g, tanh rel %.3g at %.9g, "
                  "sigmoid rel %.3g at %.9g, exp %.2f ulp at %.9g\n",
                  isa, m.tanh_abs.err, (double)m.tanh_abs.at, m.sigmoid_abs.err,
                  (double)m.sigmoid_abs.at, m.tanh_rel.err, (double)m.tanh_rel.at,
                  m.sigmoid_rel.err, (double)m.sigmoid_rel.at, m.exp_ulp.err,
                  (double)m.exp_ulp.at);
    assert_int_equal(m.non_finite, 0);
    assert_true(m.tanh_abs.err < TANH_SIGMOID_ABS);
    assert_true(m.sigmoid_abs.err < TANH_SIGMOID_ABS);
    assert_true(m.tanh_rel.err < SMALL_REL);
    assert_true(m.sigmoid_rel.err < sigmoid_rel);
    assert_true(m.exp_ulp.err < EXP_ULP);
}

static void test_portable(void **state)
{
    (void)state;
    check_isa(eval_portable, "portable", SIGMOID_REL_PORTABLE);
}

#if RTG_X86
static void test_avx2(void **state)
{
    (void)state;
    setenv("RTG_ISA", "avx2", 1);
    rtg_cpu_isa_refresh();
    if (rtg_cpu_isa() < RTG_ISA_AVX2)
        skip();
    check_isa(eval_avx2, "avx2", SMALL_REL);
}

static void test_avx512(void **state)
{
    (void)state;
    unsetenv("RTG_ISA");
    rtg_cpu_isa_refresh();
    if (rtg_cpu_isa() < RTG_ISA_AVX512)
        skip();
    check_isa(eval_avx512, "avx512", SMALL_REL);
}
#endif

/* Limits and special values, exactly. */
static void test_limits(void **state)
{
    (void)state;
    assert_true(rtg_tanhf(0.0f) == 0.0f);
    assert_true(rtg_tanhf(INFINITY) == 1.0f);
    assert_true(rtg_tanhf(-INFINITY) == -1.0f);
    assert_true(rtg_tanhf(1e30f) == 1.0f);
    assert_true(rtg_sigmoidf(0.0f) == 0.5f);
    assert_true(rtg_sigmoidf(INFINITY) == 1.0f);
    assert_true(rtg_sigmoidf(-INFINITY) >= 0.0f && rtg_sigmoidf(-INFINITY) < 1e-37f);
    assert_true(rtg_expf(0.0f) == 1.0f);
    assert_true(isfinite(rtg_expf(1000.0f)) && rtg_expf(1000.0f) > 1e38f);
    assert_true(rtg_expf(-1000.0f) > 0.0f && rtg_expf(-1000.0f) < 1e-37f);
    /* odd / symmetric exactly */
    for (float v = 0.001f; v < 12.0f; v *= 1.37f) {
        assert_true(rtg_tanhf(-v) == -rtg_tanhf(v));
        assert_true(fabs((double)rtg_sigmoidf(v) + rtg_sigmoidf(-v) - 1.0) < 1.2e-7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_portable),
#if RTG_X86
        cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
