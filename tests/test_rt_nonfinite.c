/* test_rt_nonfinite.c — the non-finite guard: a model driven into
 * overflow (tests/data/unstable/overflow_conv.json, a conv1d whose second
 * channel carries weights of 1e30, so a loud enough input overflows to
 * Inf) never puts NaN or Inf into the engine's output: each bad block of
 * the model node is muted and the node reset, counted in the stats and
 * reported off the audio thread; once the input is sane again the node
 * plays exactly as a fresh one would; NaN in the host's input is replaced
 * by 0; none of it allocates or locks on the audio thread; and
 * `rtgraph render` writes a file without NaN or Inf and says what it
 * muted. */
#define _GNU_SOURCE
#include "rtg_test.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rtg_alloc_guard.h"
#include "rtg_audio_file.h"
#include "rtg_console.h"
#include "rtg_graph.h"
#include "rtg_rt_fixtures.h"
#include "rtgraph.h"

#define SR 48000
#define BLOCK 128
#define NORMAL_BLOCKS 40
#define BLAST_BLOCKS 5
#define AFTER_BLOCKS 60
#define BLAST 1e9f /* x 1e30 overflows float */

static const char *graph;
static float *sig; /* the test signal */

static int setup(void **st)
{
    (void)st;
    char text[1024];
    snprintf(text, sizeof text,
             "rtgraph: 1\nsample_rate: %d\nblock_size: %d\n"
             "nodes:\n"
             "  drive: {op: gain, in: in, params: {db: 0}}\n"
             "  amp: {op: model, in: drive, file: %s}\n"
             "  level: {op: gain, in: amp, params: {db: -6}}\n"
             "outputs: [level]\n",
             SR, BLOCK, rtg_test_source("tests/data/unstable/overflow_conv.json"));
    graph = rtg_fx_write("unstable.yaml", text);
    long n = (long)(NORMAL_BLOCKS + BLAST_BLOCKS + AFTER_BLOCKS) * BLOCK;
    sig = malloc(sizeof(float) * (size_t)n);
    assert_non_null(sig);
    rtg_fx_signal(sig, n, SR);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    free(sig);
    return 0;
}

static rtg_engine *engine(void)
{
    rtg_engine_config cfg = rtg_engine_config_init();
    cfg.graph = graph;
    cfg.sample_rate = SR;
    cfg.max_block = BLOCK;
    rtg_engine *e = NULL;
    rtg_error err;
    if (rtg_engine_init(&cfg, &e, &err))
        fail_msg("%s", err.msg);
    return e;
}

/* One block through the engine with the allocation/lock guard watching. */
static void process(rtg_engine *e, const float *in, float *out)
{
    rtg_guard_watch(1);
    rtg_engine_process(e, in, out, BLOCK);
    rtg_guard_watch(0);
}

static long count_nonfinite(const float *y, long n)
{
    long bad = 0;
    for (long i = 0; i < n; i++)
        bad += !isfinite(y[i]);
    return bad;
}

static double peak(const float *y, long n)
{
    double p = 0;
    for (long i = 0; i < n; i++)
        p = fmax(p, fabs((double)y[i]));
    return p;
}

/* Waits (up to 2 s) for the engine's next event. */
static int next_event(rtg_engine *e, rtg_engine_event *ev)
{
    for (int i = 0; i < 200; i++) {
        if (rtg_engine_next_event(e, ev))
            return 1;
        struct timespec nap = {0, 10 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    return 0;
}

static void expect_no_rt_work(void)
{
    if (!rtg_guard_active()) {
        printf("note: the allocation guard is off in this build (sanitizers): not checked\n");
        return;
    }
    assert_int_equal(rtg_guard_allocs(), 0);
    assert_int_equal(rtg_guard_frees(), 0);
    assert_int_equal(rtg_guard_locks(), 0);
}

/* The plan alone, guard off: the blast does reach the output. This is
 * what the guard is there for (and proves the model really overflows). */
static void without_guard_the_model_overflows(void **st)
{
    (void)st;
    rtg_graph_options opt = {.max_block = BLOCK};
    rtg_graph *g = NULL;
    rtg_error err;
    if (rtg_graph_load(graph, &opt, &g, &err))
        fail_msg("%s", err.msg);
    rtg_plan_set_guard(g->plan, 0);
    float x[BLOCK], y[BLOCK];
    rtg_plan_process(g->plan, sig, y, BLOCK);
    assert_int_equal(count_nonfinite(y, BLOCK), 0); /* sane input: sane output */
    for (int t = 0; t < BLOCK; t++)
        x[t] = BLAST;
    rtg_plan_process(g->plan, x, y, BLOCK);
    assert_true(count_nonfinite(y, BLOCK) > 0);
    /* Its state now holds the blast: sane input does not bring it back. */
    rtg_plan_process(g->plan, sig, y, BLOCK);
    assert_true(count_nonfinite(y, BLOCK) > 0);
    assert_int_equal(rtg_plan_take_nonfinite(g->plan, NULL), 0);

    /* The same plan, guard on: the model's step is the one reported. */
    rtg_plan_reset(g->plan);
    rtg_plan_set_guard(g->plan, 1);
    rtg_plan_process(g->plan, x, y, BLOCK);
    assert_int_equal(count_nonfinite(y, BLOCK), 0);
    int step = -2;
    assert_int_equal(rtg_plan_take_nonfinite(g->plan, &step), 1);
    const rtg_graph_node *amp = NULL;
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].name, "amp"))
            amp = &g->nodes[i];
    assert_non_null(amp);
    assert_true(step >= amp->first_step && step < amp->first_step + amp->n_steps);
    assert_int_equal(rtg_plan_take_nonfinite(g->plan, NULL), 0);
    rtg_graph_free(g);
}

/* A stateless layer node that overflows: nothing to reset, but its NaN
 * is muted wherever it lands (a stateful node after it, or the output)
 * and the report names it, not the node that passed it on. */
static void stateless_overflow_is_muted_and_named(void **st)
{
    (void)st;
    char text[1024];
    for (int after = 0; after < 2; after++) {
        snprintf(text, sizeof text,
                 "rtgraph: 1\nsample_rate: %d\nblock_size: %d\n"
                 "nodes:\n"
                 "  big: {op: dense, in: in, weights: %s#0}\n"
                 "  echo: {op: delay, in: big, max_samples: 64, params: {samples: 3}}\n"
                 "outputs: [%s]\n",
                 SR, BLOCK, rtg_test_source("tests/data/unstable/overflow_dense.json"),
                 after ? "echo" : "big");
        rtg_graph_options opt = {.max_block = BLOCK};
        rtg_graph *g = NULL;
        rtg_error err;
        if (rtg_graph_load(rtg_fx_write(after ? "dense_echo.yaml" : "dense.yaml", text), &opt, &g,
                           &err))
            fail_msg("%s", err.msg);
        float x[BLOCK], y[BLOCK];
        for (int t = 0; t < BLOCK; t++)
            x[t] = t == 9 ? BLAST : 1e-31f * sig[t];
        rtg_plan_process(g->plan, x, y, BLOCK);
        assert_int_equal(count_nonfinite(y, BLOCK), 0);
        int step = -3;
        assert_int_equal(rtg_plan_take_nonfinite(g->plan, &step), 1);
        assert_int_equal(step, g->nodes[0].first_step);
        assert_string_equal(g->nodes[0].name, "big");
        /* Nothing kept: the next sane block plays through. */
        for (int t = 0; t < BLOCK; t++)
            x[t] = 1e-31f * sig[t];
        rtg_plan_process(g->plan, x, y, BLOCK);
        assert_int_equal(rtg_plan_take_nonfinite(g->plan, NULL), 0);
        assert_true(peak(y, BLOCK) > 1e-3);
        rtg_graph_free(g);
    }
}

/* Sane signal, then BLAST_BLOCKS of overload, then sane signal again. */
static void overload_is_muted_counted_reported_and_recovers(void **st)
{
    (void)st;
    rtg_engine *e = engine();
    static float y[(NORMAL_BLOCKS + BLAST_BLOCKS + AFTER_BLOCKS) * BLOCK];
    static float ref[AFTER_BLOCKS * BLOCK];
    float blast[BLOCK];
    for (int t = 0; t < BLOCK; t++)
        blast[t] = BLAST;
    rtg_guard_clear();
    long pos = 0;
    for (int k = 0; k < NORMAL_BLOCKS; k++, pos += BLOCK)
        process(e, sig + pos, y + pos);
    rtg_engine_stats s;
    rtg_engine_get_stats(e, &s);
    assert_int_equal(s.nonfinite_events, 0);
    assert_true(peak(y, pos) > 0.05); /* it plays */
    const long blast_at = pos;
    for (int k = 0; k < BLAST_BLOCKS; k++, pos += BLOCK)
        process(e, blast, y + pos);
    /* Muted: the amp's output is zeroed, so level's is exactly 0. */
    for (long i = blast_at; i < pos; i++)
        if (y[i] != 0)
            fail_msg("blast block sample %ld is %g, not 0", i - blast_at, (double)y[i]);
    const long after_at = pos;
    for (int k = 0; k < AFTER_BLOCKS; k++, pos += BLOCK)
        process(e, sig + pos, y + pos);
    expect_no_rt_work();
    assert_int_equal(count_nonfinite(y, pos), 0);

    /* One event per blast block and none after: the reset emptied the
     * conv's history, which would otherwise hold the blast for 481 frames. */
    rtg_engine_get_stats(e, &s);
    assert_int_equal(s.nonfinite_events, BLAST_BLOCKS);
    assert_int_equal(s.callbacks, NORMAL_BLOCKS + BLAST_BLOCKS + AFTER_BLOCKS);

    /* Recovered: from the first sane block on, it plays exactly what a
     * fresh engine plays from the same input. */
    rtg_engine *fresh = engine();
    for (int k = 0; k < AFTER_BLOCKS; k++)
        rtg_engine_process(fresh, sig + after_at + (long)k * BLOCK, ref + (long)k * BLOCK, BLOCK);
    rtg_test_assert_close(y + after_at, ref, (size_t)AFTER_BLOCKS * BLOCK, 0,
                          "after the overload vs a fresh engine");
    assert_true(peak(ref, AFTER_BLOCKS * BLOCK) > 0.05);
    rtg_engine_uninit(fresh);

    /* Reported off the audio thread: one event, the repeats coalesced. */
    rtg_engine_event ev;
    assert_true(next_event(e, &ev));
    assert_int_equal(ev.kind, RTG_ENGINE_EVENT_NONFINITE);
    assert_string_equal(ev.node, "amp");
    assert_int_equal(ev.count, BLAST_BLOCKS);
    assert_int_equal(ev.generation, 1);
    assert_int_equal(ev.first_callback, NORMAL_BLOCKS + 1);
    assert_int_equal(ev.last_callback, NORMAL_BLOCKS + BLAST_BLOCKS);
    char text[256];
    rtg_console_format_event(&ev, text, sizeof text);
    assert_string_equal(text, "warning: node 'amp' produced NaN/Inf in 5 blocks (plan #1, "
                              "callbacks 41..45): muted, and any node that kept them reset");
    rtg_console_format_stats(e, 1, text, sizeof text);
    assert_non_null(strstr(text, "| NaN/Inf muted 5"));
    assert_false(rtg_engine_next_event(e, &ev));
    rtg_engine_uninit(e);
}

/* NaN and Inf in the host's input: those samples become 0, the rest of
 * the block plays on. */
static void bad_input_samples_become_zero(void **st)
{
    (void)st;
    rtg_engine *e = engine(), *ref = engine();
    float x[BLOCK], x0[BLOCK], y[BLOCK], y0[BLOCK];
    rtg_guard_clear();
    for (int k = 0; k < 10; k++) {
        memcpy(x, sig + (long)k * BLOCK, sizeof x);
        memcpy(x0, x, sizeof x);
        if (k == 3 || k == 4) {
            x[7] = NAN;
            x[50] = INFINITY;
            x[51] = -INFINITY;
            x0[7] = x0[50] = x0[51] = 0;
        }
        process(e, x, y);
        rtg_engine_process(ref, x0, y0, BLOCK);
        rtg_test_assert_close(y, y0, BLOCK, 0, "bad input samples vs zeros there");
    }
    expect_no_rt_work();
    rtg_engine_stats s;
    rtg_engine_get_stats(e, &s);
    assert_int_equal(s.nonfinite_events, 2);
    rtg_engine_event ev;
    assert_true(next_event(e, &ev));
    assert_string_equal(ev.node, "(input)");
    assert_int_equal(ev.count, 2);
    assert_int_equal(ev.first_callback, 4);
    rtg_engine_uninit(e);
    rtg_engine_uninit(ref);
}

/* The log keeps the latest events: each overload of another graph (a
 * reload) is its own event; older ones beyond the log's size are dropped
 * but stay counted. */
static void events_of_each_graph_are_kept_apart(void **st)
{
    (void)st;
    rtg_engine_config cfg = rtg_engine_config_init();
    cfg.graph = graph;
    cfg.sample_rate = SR;
    cfg.max_block = BLOCK;
    cfg.fade_ms = 0; /* reloads cut at the next block */
    rtg_engine *e = NULL;
    rtg_error err;
    if (rtg_engine_init(&cfg, &e, &err))
        fail_msg("%s", err.msg);
    float blast[BLOCK], y[BLOCK];
    for (int t = 0; t < BLOCK; t++)
        blast[t] = BLAST;
    const int graphs = 40; /* more than the log keeps */
    for (int k = 0; k < graphs; k++) {
        if (k && rtg_engine_reload(e, NULL, &err))
            fail_msg("%s", err.msg);
        rtg_engine_process(e, sig, y, BLOCK); /* takes the reload */
        rtg_engine_process(e, blast, y, BLOCK);
        assert_int_equal(count_nonfinite(y, BLOCK), 0);
        rtg_engine_process(e, sig, y, BLOCK);
    }
    rtg_engine_stats s;
    rtg_engine_get_stats(e, &s);
    assert_int_equal(s.nonfinite_events, graphs);
    rtg_engine_event ev;
    int n = 0;
    uint64_t last_gen = 0;
    while (rtg_engine_next_event(e, &ev)) {
        assert_string_equal(ev.node, "amp");
        assert_int_equal(ev.count, 1);
        assert_true(ev.generation > last_gen);
        last_gen = ev.generation;
        n++;
    }
    assert_int_equal(n, 32);
    assert_int_equal(last_gen, graphs);
    rtg_engine_uninit(e);
}

/* `rtgraph render` over a file that overloads the model partway. */
static void render_writes_no_nan(void **st)
{
    (void)st;
    const long n = (long)(NORMAL_BLOCKS + BLAST_BLOCKS + AFTER_BLOCKS) * BLOCK;
    const long blast_at = 10000, blast_len = 700; /* not on block edges */
    float *x = malloc(sizeof(float) * (size_t)n);
    assert_non_null(x);
    memcpy(x, sig, sizeof(float) * (size_t)n);
    for (long t = blast_at; t < blast_at + blast_len; t++)
        x[t] = BLAST;
    char in[512], out[512], err_path[512];
    snprintf(in, sizeof in, "%s", rtg_fx_path("blast.wav"));
    snprintf(out, sizeof out, "%s", rtg_fx_path("blast_out.wav"));
    snprintf(err_path, sizeof err_path, "%s", rtg_fx_path("render_err.txt"));
    rtg_error err;
    if (rtg_audio_write_all(in, x, n, 1, SR, &err)) /* float WAV: keeps 1e9 */
        fail_msg("%s", err.msg);
    char bin[1024];
    snprintf(bin, sizeof bin, "%s/rtgraph", RTG_BINARY_DIR);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        execl(bin, bin, "render", graph, in, out, "--quiet", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    char text[4096] = "";
    FILE *f = fopen(err_path, "r");
    if (f) {
        text[fread(text, 1, sizeof text - 1, f)] = 0;
        fclose(f);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("render failed: %s", text);
    if (!strstr(text, "warning: ") || !strstr(text, "NaN/Inf") || !strstr(text, "node 'amp'"))
        fail_msg("render does not say what it muted:\n%s", text);
    float *y = NULL;
    rtg_audio_info info;
    if (rtg_audio_read_all(out, &y, &info, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(info.frames, n);
    assert_int_equal(count_nonfinite(y, n), 0);
    assert_true(peak(y, blast_at) > 0.05);
    /* Sane again well after the blast has left the conv's 481 frames. */
    assert_true(peak(y + blast_at + blast_len + 2 * BLOCK, n - blast_at - blast_len - 2 * BLOCK) >
                0.05);
    free(x);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_guard_the_model_overflows),
        cmocka_unit_test(stateless_overflow_is_muted_and_named),
        cmocka_unit_test(overload_is_muted_counted_reported_and_recovers),
        cmocka_unit_test(bad_input_samples_become_zero),
        cmocka_unit_test(events_of_each_graph_are_kept_apart),
        cmocka_unit_test(render_writes_no_nan),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
