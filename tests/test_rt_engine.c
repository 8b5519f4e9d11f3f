/* test_rt_engine.c — the engine of include/rtgraph.h, driven offline and
 * deterministically through rtg_engine_process: swaps to an identical
 * model change nothing, swaps to another model crossfade without jumps,
 * reloads crossfade whole graphs, bad commands are refused with a clear
 * message while the audio stays untouched, denormals are flushed, and the
 * audio path allocates and locks nothing while params, swaps and reloads
 * stream in (also from other threads). */
#include "rtg_test.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_alloc_guard.h"
#include "rtg_rt.h"
#include "rtg_rt_fixtures.h"
#include "rtgraph.h"

#define SR 48000
#define BLOCK 64
#define FRAMES (BLOCK * 400)

static float signal[FRAMES];
static const char *model_a, *model_a_copy, *model_b, *model_two_in;

static const char *graph_text(char *buf, size_t size, const char *model, const char *extra)
{
    snprintf(buf, size,
             "rtgraph: 1\n"
             "sample_rate: %d\n"
             "block_size: %d\n"
             "smooth_ms: 2\n"
             "nodes:\n"
             "  drive: {op: gain, in: in, params: {db: 3}}\n"
             "  amp: {op: model, in: drive, file: %s}\n"
             "  echo: {op: delay, in: amp, max_samples: 100, params: {samples: 7}}\n"
             "%s"
             "outputs: [echo]\n",
             SR, BLOCK, model, extra ? extra : "");
    return buf;
}

static const char *write_graph(const char *name, const char *model)
{
    char text[2048];
    return rtg_fx_write(name, graph_text(text, sizeof text, model, NULL));
}

static int setup(void **st)
{
    (void)st;
    rtg_fx_signal(signal, FRAMES, SR);
    model_a = rtg_fx_model("a.json", RTG_FX_LSTM, 1, 8, 1, 0.8f);
    model_a_copy = rtg_fx_model("a_copy.json", RTG_FX_LSTM, 1, 8, 1, 0.8f);
    model_b = rtg_fx_model("b.json", RTG_FX_GRU, 1, 6, 2, 2.5f);
    model_two_in = rtg_fx_model("two_in.json", RTG_FX_LSTM, 2, 4, 3, 1.0f);
    return 0;
}

static rtg_engine *engine(const char *graph, double fade_ms)
{
    rtg_engine_config cfg = rtg_engine_config_init();
    cfg.graph = graph;
    cfg.sample_rate = SR;
    cfg.max_block = BLOCK;
    cfg.fade_ms = fade_ms;
    rtg_engine *e = NULL;
    rtg_error err;
    if (rtg_engine_init(&cfg, &e, &err))
        fail_msg("%s", err.msg);
    return e;
}

/* An engine on a write_graph() graph, whose model node must be swappable. */
static rtg_engine *amp_engine(const char *graph, double fade_ms)
{
    rtg_engine *e = engine(graph, fade_ms);
    rtg_engine_info info;
    rtg_engine_get_info(e, &info);
    if (info.n_models != 1)
        fail_msg("%s: model node 'amp' is not swappable: the graph's model op must build a "
                 "model slot (rtg_plan_add_model_slot)", graph);
    return e;
}

/* Block sizes that vary but are the same for every engine in a test. */
static int block_at(int k)
{
    static const int sizes[] = {64, 17, 64, 1, 40, 64, 33, 64, 5, 64};
    return sizes[k % 10];
}

static double max_jump(const float *y, long from, long to)
{
    double m = 0;
    for (long t = from + 1; t < to; t++)
        if (fabs((double)y[t] - y[t - 1]) > m)
            m = fabs((double)y[t] - y[t - 1]);
    return m;
}

static void swap_to_identical_copy_changes_nothing(void **st)
{
    (void)st;
    const char *g = write_graph("g_a.yaml", model_a);
    rtg_engine *ref = amp_engine(g, 10), *e = amp_engine(g, 10);
    static float y1[FRAMES], y2[FRAMES];
    rtg_error err;
    long pos = 0;
    for (int k = 0; pos < FRAMES; k++) {
        if (k == 30 || k == 33 || k == 200) /* the second lands during the first's fade */
            if (rtg_engine_swap_model(e, "amp", model_a_copy, &err))
                fail_msg("%s", err.msg);
        int n = block_at(k) < FRAMES - pos ? block_at(k) : (int)(FRAMES - pos);
        rtg_engine_process(ref, signal + pos, y1 + pos, n);
        rtg_engine_process(e, signal + pos, y2 + pos, n);
        pos += n;
    }
    assert_memory_equal(y1, y2, sizeof y1);
    rtg_engine_stats s;
    rtg_engine_get_stats(e, &s);
    assert_int_equal(s.swaps, 3);
    assert_int_equal(s.rejected, 0);
    rtg_model_info mi;
    assert_int_equal(rtg_engine_model_info(e, 0, &mi), RTG_OK);
    assert_string_equal(mi.node, "amp");
    assert_string_equal(mi.path, model_a_copy);
    rtg_engine_uninit(ref);
    rtg_engine_uninit(e);
}

/* Around a swap to another model the output is old + g (new - old), the
 * new model starting fresh at the swap; it never jumps more than the two
 * models' own outputs do, where a cut would. */
static void swap_to_other_model_crossfades(void **st)
{
    (void)st;
    const char *ga = write_graph("g_a.yaml", model_a), *gb = write_graph("g_b.yaml", model_b);
    const double fade_ms = 10;
    const int fade = (int)lround(fade_ms * SR / 1000), at = 100 * BLOCK;
    rtg_engine *old = amp_engine(ga, fade_ms), *e = amp_engine(ga, fade_ms), *cut = amp_engine(ga, 0),
               *fresh = amp_engine(gb, fade_ms), *whole_b = amp_engine(gb, fade_ms);
    static float yo[FRAMES], y[FRAMES], yc[FRAMES], yn[FRAMES], yb[FRAMES];
    rtg_error err;
    for (long pos = 0; pos < FRAMES; pos += BLOCK) {
        if (pos == at) {
            assert_int_equal(rtg_engine_swap_model(e, "amp", model_b, &err), RTG_OK);
            assert_int_equal(rtg_engine_swap_model(cut, "amp", model_b, &err), RTG_OK);
        }
        rtg_engine_process(old, signal + pos, yo + pos, BLOCK);
        rtg_engine_process(e, signal + pos, y + pos, BLOCK);
        rtg_engine_process(cut, signal + pos, yc + pos, BLOCK);
        rtg_engine_process(whole_b, signal + pos, yb + pos, BLOCK);
        if (pos >= at)
            rtg_engine_process(fresh, signal + pos, yn + pos, BLOCK);
    }
    /* The swap happens at the model; a 7-sample delay follows it. */
    const int d = 7;
    for (long t = 0; t < FRAMES; t++) {
        float want = yo[t];
        long i = t - d - at; /* frames into the fade */
        if (i >= fade - 1)
            want = yn[t];
        else if (i >= 0)
            want = yo[t] + (float)(i + 1) * (1.0f / (float)fade) * (yn[t] - yo[t]);
        if (fabsf(y[t] - want) > 1e-6f)
            fail_msg("frame %ld: got %.9g, want %.9g (swap at %d, fade %d)", t, y[t], want, at, fade);
    }
    double own = fmax(max_jump(yo, 0, FRAMES), max_jump(yb, 0, FRAMES));
    double faded = max_jump(y, 0, FRAMES), hard = max_jump(yc, at, at + 2 * BLOCK);
    if (!(faded <= own * 1.0001))
        fail_msg("crossfade jumps %.6f, more than the models' own %.6f", faded, own);
    /* the test can fail: a cut between these two models jumps */
    if (!(hard > own))
        fail_msg("a cut jumps only %.6f (models' own %.6f): the models are too alike to test", hard, own);
    rtg_engine *all[] = {old, e, cut, fresh, whole_b};
    for (int i = 0; i < 5; i++)
        rtg_engine_uninit(all[i]);
}

static void reload_crossfades_the_whole_graph(void **st)
{
    (void)st;
    const char *g1 = rtg_fx_write("loud.yaml", "rtgraph: 1\nsample_rate: 48000\nblock_size: 64\n"
                                               "nodes:\n  level: {op: gain, in: in, params: {db: 0}}\n"
                                               "outputs: [level]\n");
    const char *g2 = rtg_fx_write("quiet.yaml", "rtgraph: 1\nsample_rate: 48000\nblock_size: 64\n"
                                                "nodes:\n  level: {op: gain, in: in, params: {db: -20}}\n"
                                                "outputs: [level]\n");
    rtg_engine *e = engine(g1, 5);
    const int fade = 240, at = 10 * BLOCK;
    static float y[FRAMES];
    rtg_error err;
    for (long pos = 0; pos < 40 * BLOCK; pos += BLOCK) {
        if (pos == at)
            assert_int_equal(rtg_engine_reload(e, g2, &err), RTG_OK);
        rtg_engine_process(e, signal + pos, y + pos, BLOCK);
    }
    const float quiet = powf(10.0f, -1.0f);
    for (long t = 0; t < 40 * BLOCK; t++) {
        long i = t - at;
        float want = i < 0 ? signal[t] : i >= fade - 1 ? quiet * signal[t]
                                       : signal[t] + (float)(i + 1) * (1.0f / fade) * (quiet * signal[t] - signal[t]);
        if (fabsf(y[t] - want) > 1e-6f)
            fail_msg("frame %ld: got %.9g, want %.9g", t, y[t], want);
    }
    rtg_engine_stats s;
    rtg_engine_get_stats(e, &s);
    assert_int_equal(s.reloads, 1);
    assert_int_equal(s.generation, 2);
    rtg_engine_info info;
    rtg_engine_get_info(e, &info);
    assert_string_equal(info.graph, g2);
    /* NULL reloads the last file; params resolve against the new graph */
    assert_int_equal(rtg_engine_reload(e, NULL, &err), RTG_OK);
    assert_int_equal(rtg_engine_set_param(e, "level.db", -40, &err), RTG_OK);
    rtg_param_info pi;
    assert_int_equal(rtg_engine_param_info(e, 0, &pi), RTG_OK);
    assert_string_equal(pi.name, "level.db");
    assert_true(pi.value == -40.0f);
    rtg_engine_uninit(e); /* frees the reload and param still queued */
}

static void expect_refusal(int rc, const rtg_error *err, const char *a, const char *b)
{
    if (rc == RTG_OK)
        fail_msg("accepted a bad command (expected \"%s\")", a);
    if (!strstr(err->msg, a) || (b && !strstr(err->msg, b)))
        fail_msg("message \"%s\" lacks \"%s\"%s%s", err->msg, a, b ? " / " : "", b ? b : "");
}

static void bad_commands_are_refused_and_audio_continues(void **st)
{
    (void)st;
    const char *g = write_graph("g_a.yaml", model_a);
    const char *g2out = rtg_fx_write("two_out.yaml", "rtgraph: 1\nsample_rate: 48000\nblock_size: 64\n"
                                                     "nodes:\n  level: {op: gain, in: in}\n"
                                                     "outputs: [level, level]\n");
    const char *g44 = rtg_fx_write("rate.yaml", "rtgraph: 1\nsample_rate: 44100\n"
                                                "nodes:\n  level: {op: gain, in: in}\n"
                                                "outputs: [level]\n");
    const char *broken = rtg_fx_write("broken.yaml", "rtgraph: 1\nnodes: {a: {op: gain, in: nowhere}}\noutputs: [a]\n");
    rtg_engine *ref = amp_engine(g, 10), *e = amp_engine(g, 10);
    static float y1[FRAMES], y2[FRAMES];
    rtg_error err;
    int n_bad = 0;
    for (long pos = 0, k = 0; pos < 100 * BLOCK; pos += BLOCK, k++) {
        switch (k) {
        case 3: expect_refusal(rtg_engine_set_param(e, "nosuch.db", 1, &err), &err, "nosuch", NULL); n_bad++; break;
        case 4: expect_refusal(rtg_engine_set_param(e, "drive.gain", 1, &err), &err, "drive", NULL); n_bad++; break;
        case 5: expect_refusal(rtg_engine_set_param(e, "drive.db", 1e6, &err), &err, "drive.db", NULL); n_bad++; break;
        case 6: expect_refusal(rtg_engine_set_param(e, "drive.db", NAN, &err), &err, "drive.db", NULL); n_bad++; break;
        case 7: expect_refusal(rtg_engine_swap_model(e, "amp", "/no/such/model.json", &err), &err, "/no/such/model.json", NULL); n_bad++; break;
        case 8: expect_refusal(rtg_engine_swap_model(e, "amp", model_two_in, &err), &err, "two_in.json", "takes 1 input"); n_bad++; break;
        case 9: expect_refusal(rtg_engine_swap_model(e, "drive", model_a, &err), &err, "node 'drive' is a gain node", NULL); n_bad++; break;
        case 10: expect_refusal(rtg_engine_swap_model(e, "cab", model_a, &err), &err, "unknown node 'cab'", "'amp'"); n_bad++; break;
        case 11: expect_refusal(rtg_engine_reload(e, "/no/such/graph.yaml", &err), &err, "/no/such/graph.yaml", NULL); n_bad++; break;
        case 12: expect_refusal(rtg_engine_reload(e, g2out, &err), &err, "2 outputs", "running graph has 1"); n_bad++; break;
        case 13: expect_refusal(rtg_engine_reload(e, g44, &err), &err, "44100", "48000"); n_bad++; break;
        case 14: expect_refusal(rtg_engine_reload(e, broken, &err), &err, "broken.yaml", "nowhere"); n_bad++; break;
        default: break;
        }
        rtg_engine_process(ref, signal + pos, y1 + pos, BLOCK);
        rtg_engine_process(e, signal + pos, y2 + pos, BLOCK);
    }
    assert_memory_equal(y1, y2, sizeof(float) * 100 * BLOCK);
    rtg_engine_stats s;
    rtg_engine_get_stats(e, &s);
    assert_int_equal(s.rejected, n_bad);
    assert_int_equal(s.params + s.swaps + s.reloads, 0);
    assert_int_equal(s.generation, 1);
    rtg_engine_uninit(ref);
    rtg_engine_uninit(e);
}

static void long_calls_are_split_into_blocks(void **st)
{
    (void)st;
    const char *g = write_graph("g_a.yaml", model_a);
    rtg_engine *a = amp_engine(g, 10), *b = amp_engine(g, 10);
    static float y1[FRAMES], y2[FRAMES];
    rtg_engine_process(a, signal, y1, 1000);
    for (int pos = 0; pos < 1000; pos += BLOCK)
        rtg_engine_process(b, signal + pos, y2 + pos, 1000 - pos < BLOCK ? 1000 - pos : BLOCK);
    assert_memory_equal(y1, y2, sizeof(float) * 1000);
    rtg_engine_stats s;
    rtg_engine_get_stats(a, &s);
    assert_int_equal(s.callbacks, 1);
    assert_int_equal(s.frames, 1000);
    rtg_engine_uninit(a);
    rtg_engine_uninit(b);
}

static void denormals_are_flushed_in_process_only(void **st)
{
    (void)st;
#if !(defined(__x86_64__) || defined(__i386__) || defined(__aarch64__))
    skip();
#endif
    const char *g = rtg_fx_write("unity.yaml", "rtgraph: 1\nnodes:\n  level: {op: gain, in: in, params: {db: 0}}\n"
                                               "outputs: [level]\n");
    rtg_engine *e = engine(g, 10);
    float x[4] = {1e-40f, -3e-41f, 0.5f, 1e-39f}, y[4];
    assert_true(x[0] != 0 && fpclassify(x[0]) == FP_SUBNORMAL); /* the test's own premise */
    assert_false(rtg_rt_denormals_are_off());
    rtg_engine_process(e, x, y, 4);
    assert_true(y[0] == 0.0f && y[1] == 0.0f && y[3] == 0.0f);
    assert_true(y[2] == 0.5f);
    assert_false(rtg_rt_denormals_are_off()); /* the caller's mode is back */
    rtg_engine_uninit(e);
}

static void stats_count_callbacks_and_times(void **st)
{
    (void)st;
    const char *g = write_graph("g_a.yaml", model_a);
    rtg_engine *e = amp_engine(g, 10);
    static float y[FRAMES];
    for (long pos = 0; pos < 200 * BLOCK; pos += BLOCK)
        rtg_engine_process(e, signal + pos, y + pos, BLOCK);
    rtg_engine_report_xruns(e, 2);
    rtg_engine_stats s;
    rtg_engine_get_stats(e, &s);
    assert_int_equal(s.callbacks, 200);
    assert_int_equal(s.frames, 200 * BLOCK);
    assert_int_equal(s.xruns, 2);
    assert_true(s.cb_mean_us > 0 && s.cb_mean_us <= s.cb_max_us);
    assert_true(s.cb_p50_us <= s.cb_p99_us && s.cb_p99_us <= s.cb_p999_us);
    assert_true(s.cb_p50_us >= s.cb_mean_us * 0.1);
    assert_true(s.cb_p999_us <= s.cb_max_us * 1.13 + 0.3); /* the bin holding the max */
    assert_true(s.load_mean > 0 && s.load_mean <= s.load_max);
    assert_int_equal(s.generation, 1);
    rtg_engine_uninit(e);
}

/* Params, swaps and reloads streaming in while the watched thread
 * processes: nothing on it allocates, frees or locks. */
static void audio_path_allocates_and_locks_nothing(void **st)
{
    (void)st;
    if (!rtg_guard_active())
        skip();
    const char *ga = write_graph("g_a.yaml", model_a), *gb = write_graph("g_b.yaml", model_b);
    rtg_engine *e = amp_engine(ga, 2);
    static float y[FRAMES];
    rtg_error err;
    int params = 0, swaps = 0, reloads = 0;
    rtg_guard_clear();
    for (long pos = 0, k = 0; pos < FRAMES; pos += BLOCK, k++) {
        for (int i = 0; i < 5; i++, params++)
            assert_int_equal(rtg_engine_set_param(e, i % 2 ? "drive.db" : "echo.samples",
                                                  i % 2 ? -3.0 + (double)(k % 7) : (double)(k % 50), &err),
                             RTG_OK);
        if (k % 7 == 3 && ++swaps)
            assert_int_equal(rtg_engine_swap_model(e, "amp", k % 2 ? model_b : model_a_copy, &err), RTG_OK);
        if (k % 40 == 20 && ++reloads)
            assert_int_equal(rtg_engine_reload(e, k % 80 == 20 ? gb : ga, &err), RTG_OK);
        rtg_guard_watch(1);
        rtg_engine_process(e, signal + pos, y + pos, block_at((int)k));
        rtg_guard_watch(0);
    }
    long events = rtg_guard_allocs() + rtg_guard_frees() + rtg_guard_locks();
    if (events)
        fail_msg("%ld allocations, %ld frees, %ld locks on the audio path", rtg_guard_allocs(),
                 rtg_guard_frees(), rtg_guard_locks());
    rtg_engine_stats s;
    rtg_engine_get_stats(e, &s);
    assert_int_equal(s.rejected, 0);
    assert_int_equal(s.params, params);
    assert_int_equal(s.reloads, reloads);
    assert_int_equal(s.swaps, swaps);
    for (long t = 0; t < FRAMES; t++)
        assert_true(isfinite(y[t]));
    /* the guard sees a control call's lock: this test could fail */
    rtg_guard_clear();
    rtg_guard_watch(1);
    rtg_engine_set_param(e, "drive.db", 0, &err);
    rtg_guard_watch(0);
    assert_true(rtg_guard_locks() > 0);
    rtg_engine_uninit(e);
}

typedef struct hammer {
    rtg_engine *e;
    int with_swaps;
    int sent, refused, swaps; /* read after join */
    atomic_int done;
} hammer;

static void *hammer_main(void *arg)
{
    hammer *h = arg;
    rtg_error err;
    for (int i = 0; i < 3000; i++) {
        if (rtg_engine_set_param(h->e, "drive.db", (double)(i % 12) - 6, &err) == RTG_OK)
            h->sent++;
        else
            h->refused++;
        if (h->with_swaps && i % 300 == 0) {
            if (rtg_engine_swap_model(h->e, "amp", i % 600 ? model_b : model_a, &err) == RTG_OK)
                h->swaps++;
            else
                h->refused++;
        }
    }
    atomic_store(&h->done, 1);
    return NULL;
}

static void control_threads_race_the_audio_thread(void **st)
{
    (void)st;
    const char *g = write_graph("g_a.yaml", model_a);
    rtg_engine *e = amp_engine(g, 1);
    static hammer h[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        h[i] = (hammer){.e = e, .with_swaps = i == 0};
        atomic_init(&h[i].done, 0);
        assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &h[i]), 0);
    }
    static float y[BLOCK];
    for (int k = 0; !(atomic_load(&h[0].done) && atomic_load(&h[1].done)); k++)
        rtg_engine_process(e, signal + (k % 300) * BLOCK, y, BLOCK);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int k = 0; k < 100; k++)
        rtg_engine_process(e, signal, y, BLOCK);
    rtg_engine_stats s;
    rtg_engine_get_stats(e, &s);
    assert_int_equal(s.params, h[0].sent + h[1].sent);
    assert_int_equal(s.swaps, h[0].swaps);
    assert_int_equal(s.rejected, h[0].refused + h[1].refused);
    assert_true(s.params > 3000 && s.swaps > 5);
    rtg_engine_uninit(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(swap_to_identical_copy_changes_nothing),
        cmocka_unit_test(swap_to_other_model_crossfades),
        cmocka_unit_test(reload_crossfades_the_whole_graph),
        cmocka_unit_test(bad_commands_are_refused_and_audio_continues),
        cmocka_unit_test(long_calls_are_split_into_blocks),
        cmocka_unit_test(denormals_are_flushed_in_process_only),
        cmocka_unit_test(stats_count_callbacks_and_times),
        cmocka_unit_test(audio_path_allocates_and_locks_nothing),
        cmocka_unit_test(control_threads_race_the_audio_thread),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
