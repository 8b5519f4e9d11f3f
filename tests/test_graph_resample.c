/* test_graph_resample.c — `model` nodes whose model was trained at another
 * rate than the graph's run resampled: the latency is reported (API and
 * `rtgraph check`), a sine through an identity model comes back at the same
 * frequency and amplitude exactly that latency later, every split into
 * blocks gives the same bits, nothing allocates or locks on the audio path
 * (processing, reset, a swap to a model of another rate), `resample: false`
 * is an error at its line and column, renders keep their length, and
 * `normalize: true` applies NAM's loudness normalisation.
 *
 * Fixtures (tests/data/resample/): identity_44k.nam and
 * identity_48k_loud.nam are one-layer NAM WaveNets whose output equals
 * their input (Hardtanh, unit weights; exact for |x| <= 1), trained at
 * 44.1 kHz and at 48 kHz with a stated loudness of -24 dB. */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "rtg_alloc_guard.h"
#include "rtg_audio_file.h"
#include "rtg_graph.h"
#include "rtg_model.h"
#include "rtg_model_slot.h"
#include "rtg_ops.h"

#define SR 48000.0
#define PI 3.14159265358979323846

static char tmpdir[256];

static rtg_graph *load(const char *rel, int max_block)
{
    rtg_graph_options opt = {.max_block = max_block};
    rtg_graph *g = NULL;
    rtg_error err = {{0}};
    if (rtg_graph_load(rtg_test_source(rel), &opt, &g, &err))
        fail_msg("%s", err.msg);
    return g;
}

static const rtg_graph_node *node(const rtg_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].name, name))
            return &g->nodes[i];
    fail_msg("no node '%s'", name);
    return NULL;
}

/* The slot of a model node. */
static rtg_model_slot *slot_of(const rtg_graph *g, const char *name)
{
    const rtg_graph_node *n = node(g, name);
    for (int s = n->first_step; s < n->first_step + n->n_steps; s++)
        if (rtg_model_slot_at(g->plan, s))
            return rtg_model_slot_at(g->plan, s);
    fail_msg("node '%s' has no model slot", name);
    return NULL;
}

static void sine(float *x, long frames, double hz, double amp)
{
    for (long t = 0; t < frames; t++)
        x[t] = (float)(amp * sin(2.0 * PI * hz * (double)t / SR));
}

/* Mono in, all outputs, in blocks of `block`. */
static void run(rtg_plan *p, const float *x, float *y, long frames, int block)
{
    for (long t = 0; t < frames; t += block) {
        int n = frames - t < block ? (int)(frames - t) : block;
        rtg_plan_process(p, x + t, y + t * p->n_outputs, n);
    }
}

static double rms(const float *x, long n, int stride)
{
    double s = 0;
    for (long t = 0; t < n; t++)
        s += (double)x[t * stride] * x[t * stride];
    return sqrt(s / (double)n);
}

static int upward_crossings(const float *x, long n, int stride)
{
    int k = 0;
    for (long t = 1; t < n; t++)
        k += x[(t - 1) * stride] < 0 && x[t * stride] >= 0;
    return k;
}

static int cli(const char *args, char *out, size_t size)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/rtgraph' %s 2>&1", tmpdir, RTG_BINARY_DIR, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- latency ---- */

static void latency_is_reported(void **st)
{
    (void)st;
    rtg_graph *g = load("tests/data/resample/resampled.yaml", 0);
    const rtg_graph_node *n = node(g, "amp");
    const rtg_model_unit *u = rtg_model_slot_unit(slot_of(g, "amp"));
    /* medium sinc both ways, 44.1 <-> 48 kHz: about 2 ms */
    assert_in_range(n->latency, 40, 200);
    assert_int_equal(n->latency, rtg_model_unit_latency(u));
    assert_true(rtg_model_unit_rate(u) == 44100.0);
    char want[128];
    snprintf(want, sizeof want, "amp [resampled 44100->48000 Hz, latency %d frames]", n->latency);
    assert_string_equal(g->plan->info[n->first_step].label, want);
    /* what `rtgraph check` prints */
    static char out[16384];
    char args[1024];
    snprintf(args, sizeof args, "check '%s'", rtg_test_source("tests/data/resample/resampled.yaml"));
    assert_int_equal(cli(args, out, sizeof out), 0);
    if (!strstr(out, want))
        fail_msg("check does not print '%s':\n%s", want, out);
    printf("latency of 44.1 kHz model at 48 kHz: %d frames (%.2f ms)\n", n->latency,
           1000.0 * n->latency / SR);
    rtg_graph_free(g);

    /* a model at the graph's rate adds nothing */
    g = load("tests/data/resample/normalize.yaml", 0);
    assert_int_equal(node(g, "loud")->latency, 0);
    assert_int_not_equal(node(g, "quiet")->latency, 0);
    rtg_graph_free(g);

    /* a model file as a graph runs at its own rate unless told otherwise */
    rtg_error err = {{0}};
    const char *nam = rtg_test_source("tests/data/nam/tiny_lstm.nam");
    assert_int_equal(rtg_graph_load(nam, NULL, &g, &err), RTG_OK);
    assert_true(g->sample_rate == 44100.0);
    assert_int_equal(g->nodes[0].latency, 0);
    rtg_graph_free(g);
    rtg_graph_options opt = {.sample_rate = SR};
    assert_int_equal(rtg_graph_load(nam, &opt, &g, &err), RTG_OK);
    assert_true(g->sample_rate == SR);
    assert_true(g->nodes[0].latency > 0);
    rtg_graph_free(g);
}

/* ---- the signal ---- */

static void sine_comes_back_after_the_latency(void **st)
{
    (void)st;
    rtg_graph *g = load("tests/data/resample/resampled.yaml", 0);
    const long frames = 48000;
    const int L = node(g, "amp")->latency;
    float *x = malloc(sizeof(float) * frames), *y = malloc(sizeof(float) * frames);
    sine(x, frames, 1000.0, 0.5);
    run(g->plan, x, y, frames, 512);
    /* silence long before the onset arrives (the linear-phase filters ring
     * ahead of it in the frames just before L) */
    for (int t = 0; t < L / 2; t++)
        assert_true(fabsf(y[t]) < 1e-3f);
    /* after the onset's ringing, out[t] = in[t - L] up to the converters'
     * error (medium sinc: 121 dB SNR; a 1 kHz tone is well inside the band):
     * the filters are time-aligned, so the delay is exactly the latency */
    const long skip = 2048, n = frames - skip;
    double max_err = 0;
    for (long t = skip; t < frames; t++)
        max_err = fmax(max_err, fabs((double)y[t] - x[t - L]));
    printf("1 kHz sine through 44.1 kHz identity at 48 kHz: max error %.2e after %d frames\n",
           max_err, L);
    assert_true(max_err < 1e-5);
    /* and one frame off is far worse: the latency is exactly L */
    double off = 0;
    for (long t = skip; t < frames; t++)
        off = fmax(off, fabs((double)y[t] - x[t - L - 1]));
    assert_true(off > 20 * max_err);
    const double gain_db = 20.0 * log10(rms(y + skip, n, 1) / rms(x + skip - L, n, 1));
    assert_true(fabs(gain_db) < 0.01);
    assert_int_equal(upward_crossings(y + skip, n, 1), upward_crossings(x + skip - L, n, 1));
    assert_int_equal(rtg_model_slot_shortfalls(slot_of(g, "amp")), 0);
    free(x);
    free(y);
    rtg_graph_free(g);
}

/* Every split into blocks gives the same bits, for a real model (NAM LSTM)
 * beside a plain path and for the identity. */
static void every_split_gives_the_same_output(void **st)
{
    (void)st;
    static const char *graphs[] = {"tests/data/resample/lstm.yaml",
                                   "tests/data/resample/resampled.yaml"};
    static const int blocks[] = {512, 1, 7, 64};
    const long frames = 12000;
    float *x = malloc(sizeof(float) * frames);
    uint32_t seed = 5;
    for (long t = 0; t < frames; t++)
        x[t] = 0.4f * sinf(0.013f * (float)t) + 0.2f * rtg_test_rand(&seed);
    for (int gi = 0; gi < 2; gi++) {
        float *ref = NULL;
        int n_out = 0;
        for (int bi = 0; bi < 4; bi++) {
            rtg_graph *g = load(graphs[gi], 512);
            n_out = g->n_outputs;
            float *y = malloc(sizeof(float) * frames * (size_t)n_out);
            run(g->plan, x, y, frames, blocks[bi]);
            assert_int_equal(rtg_model_slot_shortfalls(slot_of(g, "amp")), 0);
            rtg_graph_free(g);
            if (!ref) {
                ref = y;
                continue;
            }
            if (memcmp(ref, y, sizeof(float) * frames * (size_t)n_out))
                fail_msg("%s: blocks of %d differ from blocks of 512", graphs[gi], blocks[bi]);
            free(y);
        }
        /* the model did something: not silence, not the input */
        assert_true(rms(ref + 2000 * n_out, frames - 2000, n_out) > 1e-3);
        free(ref);
    }
    free(x);
}

/* ---- real-time safety ---- */

static rtg_model_unit *unit_of(const char *rel, int max_block)
{
    rtg_model *m = NULL;
    rtg_model_unit *u = NULL;
    rtg_error err = {{0}};
    if (rtg_model_load(rtg_test_source(rel), &m, &err) ||
        rtg_model_unit_build(m, max_block, SR, &u, &err))
        fail_msg("%s", err.msg);
    rtg_model_free(m);
    return u;
}

static void processing_allocates_nothing(void **st)
{
    (void)st;
    if (!rtg_guard_active()) {
        printf("skipped: sanitizers own malloc in this build\n");
        skip();
    }
    rtg_graph *g = load("tests/data/resample/lstm.yaml", 512);
    rtg_model_slot *s = slot_of(g, "amp");
    /* built off the audio thread: a 48 kHz model and a 44.1 kHz one */
    rtg_model_unit *to48 = unit_of("tests/data/resample/identity_48k_loud.nam", 512);
    rtg_model_unit *back = unit_of("tests/data/nam/tiny_lstm.nam", 512);
    rtg_error err = {{0}};
    assert_int_equal(rtg_model_slot_check(s, to48, &err), RTG_OK);
    assert_int_equal(rtg_model_slot_check(s, back, &err), RTG_OK);
    static float x[512], y[512 * 2];
    uint32_t seed = 3;
    for (int i = 0; i < 512; i++)
        x[i] = 0.5f * rtg_test_rand(&seed);
    rtg_model_unit *handed[4] = {0};
    int n_handed = 0;
    rtg_guard_clear();
    rtg_guard_watch(1);
    for (int k = 0; k < 300; k++) {
        int frames = 1 + (int)((rtg_test_rand(&seed) * 0.5f + 0.5f) * 511);
        if (k == 50)
            rtg_plan_reset(g->plan);
        if (k == 100 && (handed[n_handed] = rtg_model_slot_swap(s, to48, 300)))
            n_handed++;
        if (k == 200 && (handed[n_handed] = rtg_model_slot_swap(s, back, 0)))
            n_handed++;
        rtg_plan_process(g->plan, x, y, frames);
        rtg_model_unit *u = rtg_model_slot_collect(s);
        if (u && n_handed < 4)
            handed[n_handed++] = u;
    }
    rtg_guard_watch(0);
    assert_int_equal(rtg_guard_allocs(), 0);
    assert_int_equal(rtg_guard_frees(), 0);
    assert_int_equal(rtg_guard_locks(), 0);
    /* both swaps happened: the original unit and the 48 kHz one came back */
    assert_int_equal(n_handed, 2);
    assert_ptr_equal(rtg_model_slot_unit(s), back);
    assert_int_equal(rtg_model_slot_shortfalls(s), 0);
    for (int i = 0; i < n_handed; i++)
        rtg_model_unit_free(handed[i]);
    rtg_graph_free(g);
}

/* ---- swaps ---- */

static void swap_to_a_model_of_another_rate(void **st)
{
    (void)st;
    /* a 48 kHz identity playing, normalized by its loudness (+6 dB);
     * swapped (no fade) for the 44.1 kHz one, which states no loudness */
    rtg_graph *g = load("tests/data/resample/normalize.yaml", 256);
    rtg_model_slot *s = slot_of(g, "loud");
    assert_int_equal(rtg_model_unit_latency(rtg_model_slot_unit(s)), 0);
    rtg_model_unit *u = unit_of("tests/data/resample/identity_44k.nam", 256);
    const int L = rtg_model_unit_latency(u);
    assert_true(L > 0);
    rtg_error err = {{0}};
    assert_int_equal(rtg_model_slot_check(s, u, &err), RTG_OK);
    const long frames = 24000, at = 4096;
    float *x = malloc(sizeof(float) * frames), *y = malloc(sizeof(float) * frames * 3);
    sine(x, frames, 440.0, 0.5);
    run(g->plan, x, y, at, 256);
    const float g6 = (float)pow(10.0, 6.0 / 20.0);
    for (long t = 0; t < at; t++) /* output 0 is `loud` */
        assert_true(fabsf(y[t * 3] - g6 * x[t]) <= 1e-6f);
    assert_null(rtg_model_slot_swap(s, u, 0));
    run(g->plan, x + at, y + at * 3, frames - at, 256);
    rtg_model_unit *old = rtg_model_slot_collect(s);
    assert_non_null(old);
    rtg_model_unit_free(old);
    /* once the new unit's converters have the signal: in, L frames late,
     * unscaled */
    double max_err = 0;
    for (long t = at + 1024; t < frames; t++)
        max_err = fmax(max_err, fabs((double)y[t * 3] - x[t - L]));
    assert_true(max_err < 1e-4);
    rtg_graph_free(g);
    free(x);
    free(y);

    /* a node with resample: false refuses it, naming both rates */
    rtg_plan_builder *b = rtg_plan_builder_new(256, 1, SR);
    rtg_model *m = NULL;
    assert_int_equal(rtg_model_load(rtg_test_source("tests/data/resample/identity_48k_loud.nam"), &m, &err), RTG_OK);
    const rtg_model_slot_opts strict = {.no_resample = 1};
    int step = -1, chan = 0;
    int y0 = rtg_plan_add_model_slot_with(b, m, rtg_plan_input(b), "amp", 256, SR, &strict, &step, &err);
    assert_true(y0 > 0);
    assert_int_equal(rtg_plan_set_outputs(b, 1, &y0, &chan, &err), RTG_OK);
    rtg_plan *p = rtg_plan_build(b, &err);
    assert_non_null(p);
    rtg_model_free(m);
    u = unit_of("tests/data/resample/identity_44k.nam", 256);
    assert_int_not_equal(rtg_model_slot_check(rtg_model_slot_at(p, step), u, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "identity_44k.nam: trained at 44100 Hz but node 'amp' runs at "
                                    "48000 Hz and does not resample (resample: false)"));
    rtg_model_unit_free(u);
    /* as must a unit built for another graph rate */
    rtg_model *m44 = NULL;
    assert_int_equal(rtg_model_load(rtg_test_source("tests/data/resample/identity_48k_loud.nam"), &m44, &err), RTG_OK);
    assert_int_equal(rtg_model_unit_build(m44, 256, 44100.0, &u, &err), RTG_OK);
    assert_int_not_equal(rtg_model_slot_check(rtg_model_slot_at(p, step), u, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "built for 44100 Hz, node 'amp' runs at 48000 Hz"));
    rtg_model_unit_free(u);
    /* and the slot itself refuses a mismatched model at build */
    b = rtg_plan_builder_new(256, 1, 44100.0);
    assert_true(rtg_plan_add_model_slot_with(b, m44, rtg_plan_input(b), "amp", 256, 44100.0, &strict,
                                             NULL, &err) < 0);
    assert_non_null(strstr(err.msg, "amp: the model was trained at 48000 Hz but the graph runs at 44100 Hz"));
    rtg_plan_builder_free(b);
    rtg_model_free(m44);
    rtg_model_slots_release(p);
    rtg_plan_free(p);
}

/* ---- errors ---- */

/* Each fixture's first line is `# expect: LINE:COL TEXT`. */
static void errors_are_at_their_line_and_column(void **st)
{
    (void)st;
    static const char *files[] = {"tests/data/resample/no_resample.yaml",
                                  "tests/data/resample/bad_bool.yaml"};
    for (int i = 0; i < 2; i++) {
        const char *path = rtg_test_source(files[i]);
        char full[1024], line[512], want[1100];
        snprintf(full, sizeof full, "%s", path);
        FILE *f = fopen(full, "r");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof line, f));
        fclose(f);
        int l, c, at = 0;
        if (sscanf(line, "# expect: %d:%d %n", &l, &c, &at) != 2 || !at)
            fail_msg("%s: no '# expect:' line", full);
        line[strcspn(line, "\n")] = 0;
        snprintf(want, sizeof want, "%s:%d:%d: ", full, l, c);
        rtg_graph *g = NULL;
        rtg_error err = {{0}};
        assert_int_not_equal(rtg_graph_load(full, NULL, &g, &err), RTG_OK);
        assert_null(g);
        if (strncmp(err.msg, want, strlen(want)) || !strstr(err.msg, line + at))
            fail_msg("%s: got '%s', want '%s...%s'", files[i], err.msg, want, line + at);
        printf("%s\n", err.msg);
    }
    /* the resample error names the node and the field */
    rtg_graph *g = NULL;
    rtg_error err = {{0}};
    assert_int_not_equal(rtg_graph_load(rtg_test_source(files[0]), NULL, &g, &err), RTG_OK);
    assert_non_null(strstr(err.msg, "node 'amp': field 'file': model 'identity_44k.nam' was trained "
                                    "at 44100 Hz but the graph runs at 48000 Hz, and the node says "
                                    "resample: false"));
}

/* ---- normalize ---- */

static void normalize_applies_the_stated_loudness(void **st)
{
    (void)st;
    rtg_graph *g = load("tests/data/resample/normalize.yaml", 0);
    int has = 0;
    /* NAM's plugin: gain = 10^((-18 - loudness) / 20); the file says -24 */
    assert_true(rtg_model_unit_normalize_db(rtg_model_slot_unit(slot_of(g, "loud")), &has) == 6.0);
    assert_int_equal(has, 1);
    assert_true(rtg_model_unit_normalize_db(rtg_model_slot_unit(slot_of(g, "quiet")), &has) == 0.0);
    assert_int_equal(has, 0);
    assert_string_equal(g->plan->info[node(g, "loud")->first_step].label, "loud [normalized +6.00 dB]");
    assert_non_null(strstr(g->plan->info[node(g, "quiet")->first_step].label,
                           "; normalize: no loudness stated, 0 dB]"));
    assert_string_equal(g->plan->info[node(g, "plain")->first_step].label, "plain");
    const long frames = 24000;
    float *x = malloc(sizeof(float) * frames), *y = malloc(sizeof(float) * frames * 3);
    sine(x, frames, 1000.0, 0.25);
    run(g->plan, x, y, frames, 256);
    /* loud is plain scaled by exactly the gain: out = in (identity) x g */
    const float g6 = (float)pow(10.0, 6.0 / 20.0);
    for (long t = 0; t < frames; t++) {
        assert_true(y[t * 3 + 2] == x[t]);
        assert_true(fabsf(y[t * 3] - g6 * x[t]) <= 1e-6f);
    }
    const double db = 20.0 * log10(rms(y, frames, 3) / rms(y + 2, frames, 3));
    printf("normalize: %+.4f dB (want +6 dB)\n", db);
    assert_true(fabs(db - 6.0) < 1e-4);
    /* quiet states no loudness: unscaled (after its resampling latency) */
    const int L = node(g, "quiet")->latency;
    const long skip = 2048, n = frames - skip;
    const double q_db = 20.0 * log10(rms(y + skip * 3 + 1, n, 3) / rms(x + skip - L, n, 1));
    assert_true(fabs(q_db) < 0.01);
    free(x);
    free(y);
    rtg_graph_free(g);
}

/* ---- rendering ---- */

static void render_keeps_length_and_rate(void **st)
{
    (void)st;
    const long frames = 12345;
    float *x = malloc(sizeof(float) * frames);
    sine(x, frames, 220.0, 0.5);
    char in[512], out[512];
    snprintf(in, sizeof in, "%s/in.wav", tmpdir);
    snprintf(out, sizeof out, "%s/out.wav", tmpdir);
    rtg_error err = {{0}};
    if (rtg_audio_write_all(in, x, frames, 1, (int)SR, &err))
        fail_msg("%s", err.msg);
    char args[2048];
    static char log[8192];
    snprintf(args, sizeof args, "render '%s' in.wav out.wav --block 100",
             rtg_test_source("tests/data/resample/resampled.yaml"));
    if (cli(args, log, sizeof log))
        fail_msg("render failed: %s", log);
    float *y = NULL;
    rtg_audio_info info;
    if (rtg_audio_read_all(out, &y, &info, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(info.frames, frames);
    assert_int_equal(info.sample_rate, (int)SR);
    assert_int_equal(info.channels, 1);
    /* the same latency as the API reports */
    rtg_graph *g = load("tests/data/resample/resampled.yaml", 100);
    const int L = node(g, "amp")->latency;
    rtg_graph_free(g);
    for (long t = 2048; t < frames; t++)
        assert_true(fabsf(y[t] - x[t - L]) < 1e-4f);
    free(x);
    free(y);
}

/* ---- the resampler alone ---- */

static void copy_inner(void *ctx, const float *in, float *out, int frames)
{
    (void)ctx;
    memcpy(out, in, sizeof(float) * (size_t)frames * 2);
}

/* Stereo, far-apart rates both ways, many block sizes: never short, and
 * the far ratio limit is an error. */
static void resampler_keeps_every_block_full(void **st)
{
    (void)st;
    static const double rates[][2] = {{48000, 44100}, {44100, 48000}, {96000, 22050},
                                      {22050, 96000}, {48000, 47999.5}};
    static float x[2 * 777], y[2 * 777];
    for (int r = 0; r < 5; r++) {
        rtg_resampler *rs = NULL;
        rtg_error err = {{0}};
        assert_int_equal(rtg_resampler_new(rates[r][0], rates[r][1], 2, 2, 777, &rs, &err), RTG_OK);
        uint32_t seed = 1;
        for (int k = 0; k < 400; k++) {
            int frames = 1 + (int)((rtg_test_rand(&seed) * 0.5f + 0.5f) * 776);
            for (int i = 0; i < 2 * frames; i++)
                x[i] = 0.5f * rtg_test_rand(&seed);
            rtg_resampler_process(rs, x, y, frames, copy_inner, NULL);
        }
        assert_int_equal(rtg_resampler_shortfalls(rs), 0);
        printf("%g Hz graph, %g Hz inner: latency %d frames\n", rates[r][0], rates[r][1],
               rtg_resampler_latency(rs));
        rtg_resampler_free(rs);
    }
    rtg_resampler *rs = NULL;
    rtg_error err = {{0}};
    assert_int_not_equal(rtg_resampler_new(192000, 8000, 1, 1, 64, &rs, &err), RTG_OK);
    assert_null(rs);
    assert_non_null(strstr(err.msg, "too far apart"));
}

static int make_tmpdir(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rtg_test_resample_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **st)
{
    (void)st;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(latency_is_reported),
        cmocka_unit_test(sine_comes_back_after_the_latency),
        cmocka_unit_test(every_split_gives_the_same_output),
        cmocka_unit_test(processing_allocates_nothing),
        cmocka_unit_test(swap_to_a_model_of_another_rate),
        cmocka_unit_test(errors_are_at_their_line_and_column),
        cmocka_unit_test(normalize_applies_the_stated_loudness),
        cmocka_unit_test(render_keeps_length_and_rate),
        cmocka_unit_test(resampler_keeps_every_block_full),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
