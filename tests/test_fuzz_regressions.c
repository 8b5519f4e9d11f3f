/* test_fuzz_regressions.c — every input the fuzzers of tests/fuzz/ found
 * (tests/data/fuzz/KIND/), loaded again: each must now load and run, or be
 * refused with the message the fix gave it. Plus the loader limits that
 * keep a hostile file from making the builder allocate gigabytes or run for
 * minutes (RTG_PLAN_MAX_*), each refused with a message naming the limit.
 */
#include "rtg_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtg_csv.h"
#include "rtg_graph.h"
#include "rtg_model.h"
#include "rtg_nam.h"
#include "rtg_plan.h"

/* Each fixture under tests/data/fuzz/ and what loading it must give: NULL
 * for a clean load (then the plan runs), else a piece of the error. The
 * folder says which loader reads it: graph/ rtg_graph_load, model/ and
 * formats/ rtg_model_load, nam/ rtg_nam_load, csv/ rtg_csv_read. */
static const struct {
    const char *file;
    const char *expect;
} fixtures[] = {
    /* found by the fuzzers */
    {"graph/newline_in_message.yaml", "nothing after '#' in 'a?b#'"},
    {"nam/newline_in_message.nam", "architecture 'Wave?Net': not supported"},
    /* found reading the loaders for limits */
    {"model/in_shape_overflow.json", "in_shape channels is 40000000000, must be 1..4096"},
    /* limits */
    {"graph/delay_arena.yaml", "MiB a plan may hold"},
    {"graph/concat_channels.yaml", "the sources give 4160 channels together, at most 4096"},
    {"nam/receptive_field.nam", "a receptive field of 1310721 samples, more than the 1048576"},
};
#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

/* Runs a plan over blocks of several sizes; the sanitizers are the check,
 * plus outputs written where the plan says. */
static void run_plan(rtg_plan *p)
{
    const int mb = p->max_block, ni = p->n_inputs > 0 ? p->n_inputs : 1, no = p->n_outputs;
    float *x = calloc((size_t)mb * (size_t)ni, sizeof *x);
    float *y = calloc((size_t)mb * (size_t)no, sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    uint32_t seed = 7;
    const int sizes[] = {1, mb, mb / 2 + 1, 3, mb};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (int i = 0; i < sizes[k] * ni; i++)
            x[i] = rtg_test_rand(&seed);
        rtg_plan_process(p, x, y, sizes[k]);
    }
    free(x);
    free(y);
}

static void run_model(const rtg_model *m)
{
    rtg_error err = {{0}};
    rtg_plan_builder *b = rtg_plan_builder_new(64, m->in_ch, 48000);
    assert_non_null(b);
    int y = rtg_plan_add_model(b, m, rtg_plan_input(b), "model", &err);
    if (y < 0) {
        rtg_plan_builder_free(b);
        fail_msg("%s", err.msg);
    }
    int *bufs = calloc((size_t)m->out_ch, sizeof *bufs), *chans = calloc((size_t)m->out_ch, sizeof *chans);
    for (int k = 0; k < m->out_ch; k++)
        bufs[k] = y, chans[k] = k;
    assert_int_equal(rtg_plan_set_outputs(b, m->out_ch, bufs, chans, &err), RTG_OK);
    free(bufs);
    free(chans);
    rtg_plan *p = rtg_plan_build(b, &err);
    if (!p)
        fail_msg("%s", err.msg);
    run_plan(p);
    rtg_plan_free(p);
}

/* Loads one fixture with its folder's loader; runs what loads. */
static int load_fixture(const char *rel, const char *path, rtg_error *err)
{
    int rc;
    if (!strncmp(rel, "graph/", 6)) {
        rtg_graph *g = NULL;
        rc = rtg_graph_load(path, NULL, &g, err);
        if (rc == RTG_OK) {
            run_plan(g->plan);
            rtg_graph_free(g);
        } else {
            assert_null(g);
        }
    } else if (!strncmp(rel, "csv/", 4)) {
        rtg_csv c;
        rc = rtg_csv_read(path, &c, err);
        if (rc == RTG_OK)
            rtg_csv_free(&c);
    } else {
        rtg_model *m = NULL;
        rc = !strncmp(rel, "nam/", 4) ? rtg_nam_load(path, &m, err) : rtg_model_load(path, &m, err);
        if (rc == RTG_OK) {
            run_model(m);
            rtg_model_free(m);
        } else {
            assert_null(m);
        }
    }
    return rc;
}

static void test_fixtures_load_or_fail_cleanly(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_FIXTURES; i++) {
        char rel[256], path[1024];
        snprintf(rel, sizeof rel, "%s", fixtures[i].file);
        snprintf(path, sizeof path, "%s", rtg_test_source("tests/data/fuzz"));
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "/%s", rel);
        rtg_error err = {{0}};
        int rc = load_fixture(rel, path, &err);
        if (!fixtures[i].expect) {
            if (rc != RTG_OK)
                fail_msg("%s: expected a clean load, got: %s", rel, err.msg);
            continue;
        }
        if (rc == RTG_OK)
            fail_msg("%s: loaded, expected an error with \"%s\"", rel, fixtures[i].expect);
        assert_true(rc < 0);
        if (!strstr(err.msg, fixtures[i].expect) || !strstr(err.msg, path) || strchr(err.msg, '\n'))
            fail_msg("%s: expected a one-line error naming the file with \"%s\", got: %s", rel,
                     fixtures[i].expect, err.msg);
    }
}

/* Every file in tests/data/fuzz/KIND/ has an entry above (a regression
 * file nobody loads would protect nothing). */
static void test_every_fixture_is_listed(void **state)
{
    (void)state;
    static const char *kinds[] = {"graph", "model", "nam", "formats", "csv"};
    int seen = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", rtg_test_source("tests/data/fuzz"), kinds[k]);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        const struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char rel[300];
            snprintf(rel, sizeof rel, "%s/%s", kinds[k], e->d_name);
            size_t i = 0;
            while (i < N_FIXTURES && strcmp(fixtures[i].file, rel))
                i++;
            /* weight files that a graph fixture names are not loaded alone */
            const int weights = !strcmp(kinds[k], "graph") && strstr(rel, ".w.json");
            if (i == N_FIXTURES && !weights)
                fail_msg("tests/data/fuzz/%s has no entry in test_fuzz_regressions.c", rel);
            seen++;
        }
        closedir(d);
    }
    assert_true(seen >= (int)N_FIXTURES);
}

/* ---- what the fixes changed, checked for behaviour ---- */

/* Writes `yaml` to a temporary file and loads it; returns the code. */
static int load_yaml(const char *yaml, rtg_graph **g, rtg_error *err)
{
    char path[64];
    rtg_test_write_temp(yaml, ".yaml", path);
    int rc = rtg_graph_load(path, NULL, g, err);
    unlink(path);
    return rc;
}

/* Sources are found by a binary search of the sorted names now: names that
 * are prefixes of one another, and sources in any order, still resolve to
 * the right node (each control gives its own constant). */
static void test_sources_found_by_name(void **state)
{
    (void)state;
    rtg_graph *g = NULL;
    rtg_error err = {{0}};
    int rc = load_yaml("rtgraph: 1\nsmooth_ms: 0\nnodes:\n"
                       "  ab: {op: control, min: 0, max: 9, params: {value: 2}}\n"
                       "  a:  {op: control, min: 0, max: 9, params: {value: 1}}\n"
                       "  a_: {op: control, min: 0, max: 9, params: {value: 3}}\n"
                       "  aa: {op: control, min: 0, max: 9, params: {value: 4}}\n"
                       "  b:  {op: concat, in: [aa, a_, a, ab, c]}\n"
                       "  c:  {op: control, min: 0, max: 9, params: {value: 5}}\n"
                       "outputs: [b, c, a]\n", &g, &err);
    if (rc)
        fail_msg("%s", err.msg);
    float x[2] = {0}, y[2 * 7];
    rtg_plan_process(g->plan, x, y, 2);
    static const float want[7] = {4, 3, 1, 2, 5, 5, 1};
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 7; k++)
            assert_float_equal(y[t * 7 + k], want[k], 0);
    rtg_graph_free(g);
    rc = load_yaml("rtgraph: 1\nnodes:\n  ab: {op: gain, in: in.0}\noutputs: [a]\n", &g, &err);
    assert_int_equal(rc, RTG_EINVAL);
    assert_non_null(strstr(err.msg, ":4:11: field 'outputs': unknown source 'a'"));
}

/* Duplicate keys are found by sorting now: the error is still the first in
 * file order, whether a second occurrence or a key that is not a name. */
static void test_duplicate_keys_first_in_file_order(void **state)
{
    (void)state;
    rtg_graph *g = NULL;
    rtg_error err = {{0}};
    /* 'in' repeats (4th key) before 'op' does (5th) */
    int rc = load_yaml("rtgraph: 1\nnodes:\n"
                       "  n: {op: gain, in: in.0, smooth_ms: 1, in: in.0, op: gain}\n"
                       "outputs: [n]\n", &g, &err);
    assert_int_equal(rc, RTG_EINVAL);
    assert_non_null(strstr(err.msg, ":3:41: node 'n': duplicate field 'in' (first at 3:17)"));
    /* a key that is a list comes before the repeated 'op' */
    rc = load_yaml("rtgraph: 1\nnodes:\n  n: {op: gain, [x]: 1, op: gain}\noutputs: [n]\n", &g,
                   &err);
    assert_int_equal(rc, RTG_EINVAL);
    assert_non_null(strstr(err.msg, ":3:17: node 'n': keys must be plain names, got a list"));
    /* thousands of keys: refused at once (this took minutes) */
    size_t cap = 64 * 1024;
    char *big = malloc(cap);
    assert_non_null(big);
    size_t at = (size_t)snprintf(big, cap, "rtgraph: 1\nnodes:\n  n: {op: gain, in: in.0");
    for (int i = 0; i < 5000; i++)
        at += (size_t)snprintf(big + at, cap - at, ", k%d: 1", i);
    snprintf(big + at, cap - at, ", k17: 2}\noutputs: [n]\n");
    rc = load_yaml(big, &g, &err);
    free(big);
    assert_int_equal(rc, RTG_EINVAL);
    assert_non_null(strstr(err.msg, "duplicate field 'k17' (first at 3:"));
}

/* ---- limits through the builder API ---- */

static rtg_layer_desc wide_conv(int in_ch, int dilation, float *w)
{
    return (rtg_layer_desc){.type = RTG_LAYER_CONV1D, .in_ch = in_ch, .out_ch = 1, .w = w,
                            .kernel_size = 2, .dilation = dilation, .groups = 1, .stride = 1};
}

/* A conv1d's history is state: two of 512 MiB pass the kernel's own limit
 * but not the plan's, and the second is refused before anything is
 * allocated, naming the layer. */
static void test_plan_bytes_limit(void **state)
{
    (void)state;
    enum { IN = 2048 };
    float *w = calloc(2 * IN, sizeof *w);
    assert_non_null(w);
    rtg_error err = {{0}};
    rtg_plan_builder *b = rtg_plan_builder_new(64, IN, 48000);
    rtg_layer_desc d = wide_conv(IN, 32768, w);
    int h = rtg_plan_buffer(b, 1);
    assert_true(rtg_plan_add_layer(b, &d, rtg_plan_input(b), h, "first", &err) >= 0);
    assert_true(rtg_plan_builder_bytes(b) >= (size_t)512 << 20);
    int h2 = rtg_plan_buffer(b, 1);
    assert_int_equal(rtg_plan_add_layer(b, &d, rtg_plan_input(b), h2, "second", &err), RTG_ENOMEM);
    assert_non_null(strstr(err.msg, "second: needs "));
    assert_non_null(strstr(err.msg, "of the 1024 MiB a plan may hold"));
    rtg_plan_builder_free(b);
    free(w);
}

/* Steps (and buffers) are counted: a plan of more than RTG_PLAN_MAX_STEPS
 * layers is refused at the first one too many. */
static void test_plan_steps_limit(void **state)
{
    (void)state;
    rtg_error err = {{0}};
    rtg_plan_builder *b = rtg_plan_builder_new(1, 1, 48000);
    rtg_layer_desc d = {.type = RTG_LAYER_ACTIVATION, .in_ch = 1, .out_ch = 1, .act = RTG_ACT_TANH};
    int cur = rtg_plan_input(b), rc = 0, i;
    for (i = 0; i <= RTG_PLAN_MAX_STEPS; i++) {
        int next = rtg_plan_buffer(b, 1);
        assert_true(next > 0);
        if ((rc = rtg_plan_add_layer(b, &d, cur, next, "act", &err)) < 0)
            break;
        cur = next;
    }
    assert_int_equal(i, RTG_PLAN_MAX_STEPS);
    assert_int_equal(rc, RTG_ENOMEM);
    assert_string_equal(err.msg, "act: more than 65536 steps in one plan");
    /* Buffers stop at twice as many (the input buffer included). */
    int last = 0, id;
    while ((id = rtg_plan_buffer(b, 1)) > 0)
        last = id;
    assert_int_equal(id, RTG_ENOMEM);
    assert_int_equal(last, 2 * RTG_PLAN_MAX_STEPS);
    /* Nor one buffer larger than a whole plan may be. */
    rtg_plan_builder *wide = rtg_plan_builder_new(8192, 1, 48000);
    assert_int_equal(rtg_plan_buffer(wide, 32769), RTG_ENOMEM);
    assert_true(rtg_plan_buffer(wide, 32768) > 0);
    rtg_plan_builder_free(wide);
    rtg_plan_builder_free(b);
}

/* A pre-warm longer than RTG_PLAN_MAX_PREWARM is refused at build. */
static void test_plan_prewarm_limit(void **state)
{
    (void)state;
    rtg_error err = {{0}};
    rtg_plan_builder *b = rtg_plan_builder_new(64, 1, 48000);
    rtg_layer_desc d = {.type = RTG_LAYER_ACTIVATION, .in_ch = 1, .out_ch = 1, .act = RTG_ACT_RELU};
    int y = rtg_plan_buffer(b, 1), chan = 0;
    assert_true(rtg_plan_add_layer(b, &d, rtg_plan_input(b), y, "act", &err) >= 0);
    assert_int_equal(rtg_plan_set_outputs(b, 1, &y, &chan, &err), RTG_OK);
    rtg_plan_request_prewarm(b, RTG_PLAN_MAX_PREWARM + 1);
    assert_null(rtg_plan_build(b, &err));
    assert_string_equal(err.msg, "a pre-warm of 1048577 frames is more than the 1048576 a plan may run");
}

/* Model nodes build their own plans; those count against the graph's
 * limit too, so many model nodes cannot add up to gigabytes. */
static void test_model_slots_count_against_the_limit(void **state)
{
    (void)state;
    char model[] = "/tmp/rtg_test_fuzz_XXXXXX.json", graph[] = "/tmp/rtg_test_fuzz_XXXXXX.yaml";
    int fm = mkstemps(model, 5), fg = mkstemps(graph, 5);
    assert_true(fm >= 0 && fg >= 0);
    /* Keras conv1d, 2048 channels in, kernel 2, dilation 32768: 512 MiB of
     * history, from a file of a few kilobytes. */
    FILE *f = fdopen(fm, "w");
    fputs("{\"in_shape\": [null, null, 2048], \"layers\": [{\"type\": \"conv1d\", \"kernel_size\": [2], "
          "\"dilation\": [32768], \"shape\": [null, null, 1], \"weights\": [[", f);
    for (int t = 0; t < 2; t++) {
        fputs(t ? ", [" : "[", f);
        for (int i = 0; i < 2048; i++)
            fputs(i ? ", [0]" : "[0]", f);
        fputs("]", f);
    }
    fputs("]]}]}\n", f);
    fclose(f);
    f = fdopen(fg, "w");
    fprintf(f, "rtgraph: 1\ninputs: 64\nnodes:\n  wide: {op: concat, in: [");
    for (int i = 0; i < 32; i++)
        fprintf(f, "%sin", i ? ", " : "");
    fprintf(f, "]}\n  m1: {op: model, in: wide, file: %s}\n  m2: {op: model, in: wide, file: %s}\n"
               "  sum: {op: add, in: [m1, m2]}\noutputs: [sum]\n", model, model);
    fclose(f);
    rtg_graph *g = NULL;
    rtg_error err = {{0}};
    int rc = rtg_graph_load(graph, NULL, &g, &err);
    unlink(model);
    unlink(graph);
    assert_int_equal(rc, RTG_ENOMEM);
    assert_null(g);
    assert_non_null(strstr(err.msg, "node 'm2'"));
    assert_non_null(strstr(err.msg, "m2: needs "));
    assert_non_null(strstr(err.msg, "MiB a plan may hold"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_load_or_fail_cleanly),
        cmocka_unit_test(test_every_fixture_is_listed),
        cmocka_unit_test(test_sources_found_by_name),
        cmocka_unit_test(test_duplicate_keys_first_in_file_order),
        cmocka_unit_test(test_plan_bytes_limit),
        cmocka_unit_test(test_plan_steps_limit),
        cmocka_unit_test(test_plan_prewarm_limit),
        cmocka_unit_test(test_model_slots_count_against_the_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
