/* test_rt_cli.c — `rtgraph run` as a user runs it, on the virtual device
 * (no sound card needed): bad commands on stdin are refused with a clear
 * message while the audio plays on untouched — the recorded output equals
 * an offline render of the same file —, good ones are applied, end of
 * input does not stop the run, `quit` and Ctrl-C stop it cleanly, and bad
 * arguments are refused. */
#define _GNU_SOURCE
#include "rtg_test.h"

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rtg_audio_file.h"
#include "rtg_rt_fixtures.h"

#define SR 48000
#define INPUT_S 3.0

static const char *graph, *input, *model_b;

static int setup(void **st)
{
    (void)st;
    const char *model_a = rtg_fx_model("a.json", RTG_FX_LSTM, 1, 8, 1, 0.8f);
    model_b = rtg_fx_model("b.json", RTG_FX_GRU, 1, 6, 2, 1.0f);
    char text[1024];
    snprintf(text, sizeof text,
             "rtgraph: 1\nsample_rate: %d\nblock_size: 128\n"
             "nodes:\n"
             "  drive: {op: gain, in: in, params: {db: 3}}\n"
             "  amp: {op: model, in: drive, file: %s}\n"
             "  echo: {op: delay, in: amp, max_samples: 64, params: {samples: 5}}\n"
             "outputs: [echo]\n",
             SR, model_a);
    graph = rtg_fx_write("cli.yaml", text);
    long n = (long)(INPUT_S * SR);
    float *x = malloc(sizeof(float) * (size_t)n);
    assert_non_null(x);
    rtg_fx_signal(x, n, SR);
    rtg_error err;
    static char in_path[512];
    snprintf(in_path, sizeof in_path, "%s", rtg_fx_path("in.wav"));
    if (rtg_audio_write_all(in_path, x, n, 1, SR, &err))
        fail_msg("%s", err.msg);
    free(x);
    input = in_path;
    return 0;
}

typedef struct result {
    int status;      /* exit code, or -signal */
    double seconds;  /* wall time */
    char err[16384]; /* what it printed on stderr */
} result;

/* What to do to a running rtgraph after a while (send it a signal, edit
 * its files). */
typedef void (*meddle_fn)(pid_t pid);

static void interrupt(pid_t pid)
{
    kill(pid, SIGINT);
}

/* Runs `rtgraph ARGS...` with `script` on stdin (NULL: stdin at EOF at
 * once); `meddle` (if any) runs `after_s` seconds in. */
static void rtgraph(result *r, const char *script, double after_s, meddle_fn meddle,
                    const char *const *args)
{
    char bin[1024];
    snprintf(bin, sizeof bin, "%s/rtgraph", RTG_BINARY_DIR);
    const char *argv[32] = {bin};
    int n = 1;
    while (args[n - 1])
        argv[n] = args[n - 1], n++;
    argv[n] = NULL;
    const char *err_path = rtg_fx_path("stderr.txt");
    char err_copy[512];
    snprintf(err_copy, sizeof err_copy, "%s", err_path);
    int in[2];
    assert_int_equal(pipe(in), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        int fd = open(err_copy, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        close(in[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    signal(SIGPIPE, SIG_IGN);
    if (script && write(in[1], script, strlen(script)) < 0)
        fail_msg("cannot write the script");
    close(in[1]);
    if (meddle) {
        struct timespec nap = {(time_t)after_s, (long)((after_s - floor(after_s)) * 1e9)};
        nanosleep(&nap, NULL);
        meddle(pid);
    }
    int status;
    waitpid(pid, &status, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    FILE *f = fopen(err_copy, "r");
    size_t got = f ? fread(r->err, 1, sizeof r->err - 1, f) : 0;
    r->err[got] = 0;
    if (f)
        fclose(f);
}

static json_t *stats(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j)
        fail_msg("%s: %s", path, e.text);
    return j;
}

#define NUM(j, k) json_number_value(json_object_get(j, k))

static void bad_commands_refused_audio_untouched(void **st)
{
    (void)st;
    static char script[4096];
    snprintf(script, sizeof script,
             "set nosuch.db 1\n"
             "set drive.db 999\n"
             "set drive.db loud\n"
             "swap amp /no/such/model.json\n"
             "swap drive %s\n"
             "swap amp %s\n"
             "reload /no/such/graph.yaml\n"
             "dance\n"
             "\n# a comment\n",
             model_b, rtg_fx_model("wide.json", RTG_FX_LSTM, 2, 4, 3, 1.0f));
    char out[512], js[512], ref[512];
    snprintf(out, sizeof out, "%s", rtg_fx_path("run.wav"));
    snprintf(js, sizeof js, "%s", rtg_fx_path("run.json"));
    snprintf(ref, sizeof ref, "%s", rtg_fx_path("render.wav"));
    result r;
    const char *args[] = {"run", graph, "--input", input, "--output", out, "--seconds", "1.5",
                          "--stats-json", js, NULL};
    rtgraph(&r, script, 0, NULL, args);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    static const char *says[] = {
        "refused: unknown param 'nosuch.db'",
        "refused: ", /* drive.db 999: out of range, the graph's own wording */
        "refused: set drive.db: 'loud' is not a number",
        "refused: /no/such/model.json",
        "refused: node 'drive' is a gain node, not a swappable model node",
        "takes 1 input and gives 1 output channel but the model has 2 in, 1 out",
        "refused: /no/such/graph.yaml",
        "refused: unknown command 'dance' (try 'help')",
    };
    for (unsigned i = 0; i < sizeof says / sizeof says[0]; i++)
        if (!strstr(r.err, says[i]))
            fail_msg("stderr lacks \"%s\":\n%s", says[i], r.err);
    int lines = 0;
    for (const char *p = r.err; (p = strstr(p, "refused: ")); p++)
        lines++;
    assert_int_equal(lines, 8);
    json_t *j = stats(js);
    assert_int_equal((int)NUM(j, "rejected"), 6); /* two never reached the engine */
    assert_int_equal((int)(NUM(j, "params") + NUM(j, "swaps") + NUM(j, "reloads")), 0);
    assert_true(json_is_true(json_object_get(j, "virtual")));
    /* the virtual device counts the periods a stall of the machine
     * swallowed as xruns: together they keep time */
    double expected = NUM(j, "seconds") * SR / 128;
    assert_true(fabs(NUM(j, "callbacks") + NUM(j, "xruns") - expected) <= 0.05 * expected + 2);
    json_decref(j);
    /* The audio went on untouched: what it played is what a render gives. */
    const char *rargs[] = {"render", graph, input, ref, NULL};
    rtgraph(&r, NULL, 0, NULL, rargs);
    if (r.status != 0)
        fail_msg("render: exit %d: %s", r.status, r.err);
    float *a = NULL, *b = NULL;
    rtg_audio_info ia, ib;
    rtg_error err;
    if (rtg_audio_read_all(out, &a, &ia, &err) || rtg_audio_read_all(ref, &b, &ib, &err))
        fail_msg("%s", err.msg);
    /* At least half of the run was played (periods a stall swallowed are
     * xruns, not output: under ThreadSanitizer a 1.2 s run recorded less
     * than a second), and what was played is the render's start. */
    assert_true(ia.frames >= SR / 2 && ia.frames <= ib.frames);
    rtg_test_assert_close(a, b, (size_t)ia.frames, 1e-6, "live output vs offline render");
    free(a);
    free(b);
}

/* A device at another rate: the graph still runs at its own rate (the
 * recorder taps it there, so the output is the render's) and the notice
 * says what the resampling costs. */
static void device_at_another_rate_is_resampled(void **st)
{
    (void)st;
    char out[512], js[512], ref[512];
    snprintf(out, sizeof out, "%s", rtg_fx_path("r44.wav"));
    snprintf(js, sizeof js, "%s", rtg_fx_path("r44.json"));
    snprintf(ref, sizeof ref, "%s", rtg_fx_path("render44.wav"));
    result r;
    const char *args[] = {"run", graph, "--input", input, "--output", out, "--seconds", "1.2",
                          "--device-rate", "44100", "--stats-json", js, NULL};
    rtgraph(&r, NULL, 0, NULL, args);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    if (!strstr(r.err, "the device runs at 44100 Hz, the graph at 48000 Hz: resampling at the I/O "
                       "boundary (libsamplerate), adding about"))
        fail_msg("no resampling notice:\n%s", r.err);
    json_t *j = stats(js);
    /* the virtual device counts the periods a stall of the machine
     * swallowed as xruns: together they keep time */
    double expected = NUM(j, "seconds") * SR / 128;
    assert_true(fabs(NUM(j, "callbacks") + NUM(j, "xruns") - expected) <= 0.05 * expected + 2);
    assert_non_null(strstr(json_string_value(json_object_get(j, "device")), "44100 Hz"));
    json_decref(j);
    const char *rargs[] = {"render", graph, input, ref, NULL};
    rtgraph(&r, NULL, 0, NULL, rargs);
    assert_int_equal(r.status, 0);
    float *a = NULL, *b = NULL;
    rtg_audio_info ia, ib;
    rtg_error err;
    if (rtg_audio_read_all(out, &a, &ia, &err) || rtg_audio_read_all(ref, &b, &ib, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(ia.sample_rate, SR);
    assert_true(ia.frames >= SR / 2 && ia.frames <= ib.frames); /* as above */
    rtg_test_assert_close(a, b, (size_t)ia.frames, 1e-6, "resampled run vs offline render");
    free(a);
    free(b);
}

static void good_commands_apply_and_eof_does_not_stop(void **st)
{
    (void)st;
    static char script[2048];
    snprintf(script, sizeof script, "set drive.db -3\nset echo.samples 12.5\nswap amp %s\nreload\n", model_b);
    char out[512], js[512];
    snprintf(out, sizeof out, "%s", rtg_fx_path("good.wav"));
    snprintf(js, sizeof js, "%s", rtg_fx_path("good.json"));
    result r;
    const char *args[] = {"run", graph, "--input", input, "--output", out, "--seconds", "1.2",
                          "--fade-ms", "5", "--stats-json", js, NULL};
    rtgraph(&r, script, 0, NULL, args);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    if (strstr(r.err, "refused:"))
        fail_msg("a good command was refused:\n%s", r.err);
    assert_true(r.seconds >= 1.2); /* stdin ended at once; --seconds decides */
    json_t *j = stats(js);
    assert_int_equal((int)NUM(j, "params"), 2);
    assert_int_equal((int)NUM(j, "swaps"), 1);
    assert_int_equal((int)NUM(j, "reloads"), 1);
    assert_int_equal((int)NUM(j, "generation"), 2);
    assert_int_equal((int)NUM(j, "nonfinite_samples"), 0);
    assert_true(NUM(j, "peak") > 1e-3);
    json_decref(j);
}

static void quit_and_ctrl_c_stop_cleanly(void **st)
{
    (void)st;
    char out[512];
    snprintf(out, sizeof out, "%s", rtg_fx_path("quit.wav"));
    result r;
    const char *args[] = {"run", graph, "--input", input, "--output", out, "--seconds", "30", NULL};
    rtgraph(&r, "help\nquit\n", 0, NULL, args);
    assert_int_equal(r.status, 0);
    assert_true(r.seconds < 5);
    rtg_audio_info info;
    float *y = NULL;
    rtg_error err;
    if (rtg_audio_read_all(out, &y, &info, &err)) /* the file is complete */
        fail_msg("%s", err.msg);
    free(y);
    unlink(out);
    rtgraph(&r, NULL, 0.7, interrupt, args);
    assert_int_equal(r.status, 0);
    assert_true(r.seconds < 5);
    if (rtg_audio_read_all(out, &y, &info, &err))
        fail_msg("after Ctrl-C: %s", err.msg);
    assert_true(info.frames > SR / 4);
    free(y);
}

static const char *watch_graph;

static void edit_watched_files(pid_t pid)
{
    (void)pid;
    rtg_fx_model("watch_model.json", RTG_FX_GRU, 1, 5, 11, 1.0f); /* in place: close-write */
    struct timespec nap = {0, 600 * 1000 * 1000};
    nanosleep(&nap, NULL);
    FILE *f = fopen(watch_graph, "a"); /* an edit to the graph file */
    assert_non_null(f);
    fputs("# edited\n", f);
    fclose(f);
}

static void watch_swaps_and_reloads_on_file_changes(void **st)
{
    (void)st;
    rtg_fx_model("watch_model.json", RTG_FX_LSTM, 1, 8, 1, 0.8f);
    char text[1024], js[512], out[512];
    snprintf(text, sizeof text,
             "rtgraph: 1\nsample_rate: 48000\nblock_size: 128\n"
             "nodes:\n  amp: {op: model, in: in, file: watch_model.json}\noutputs: [amp]\n");
    watch_graph = rtg_fx_write("watch.yaml", text);
    snprintf(js, sizeof js, "%s", rtg_fx_path("watch.json"));
    snprintf(out, sizeof out, "%s", rtg_fx_path("watch.wav"));
    result r;
    const char *args[] = {"run", watch_graph, "--input", input, "--output", out, "--seconds", "2.5",
                          "--watch", "--stats-json", js, NULL};
    rtgraph(&r, NULL, 0.6, edit_watched_files, args);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    if (!strstr(r.err, "watch: watch_model.json changed: swapped into 'amp'") ||
        !strstr(r.err, "watch: watch.yaml changed: reloaded (plan #2)"))
        fail_msg("the watcher did not act:\n%s", r.err);
    json_t *j = stats(js);
    assert_int_equal((int)NUM(j, "swaps"), 1);
    assert_int_equal((int)NUM(j, "reloads"), 1);
    assert_int_equal((int)NUM(j, "rejected"), 0);
    json_decref(j);
}

static void bad_arguments_are_refused(void **st)
{
    (void)st;
    result r;
    const char *none[] = {"run", NULL};
    rtgraph(&r, NULL, 0, NULL, none);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "usage: rtgraph run GRAPH"));
    const char *frames[] = {"run", graph, "--frames", "0", NULL};
    rtgraph(&r, NULL, 0, NULL, frames);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--frames: '0' is not a number in 1..8192"));
    const char *missing[] = {"run", "/no/such/graph.yaml", "--output", "/dev/null", NULL};
    rtgraph(&r, NULL, 0, NULL, missing);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "/no/such/graph.yaml"));
    const char *nofile[] = {"run", graph, "--input", "/no/such/in.wav", "--output", "/dev/null", NULL};
    rtgraph(&r, NULL, 0, NULL, nofile);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "/no/such/in.wav"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_commands_refused_audio_untouched),
        cmocka_unit_test(device_at_another_rate_is_resampled),
        cmocka_unit_test(good_commands_apply_and_eof_does_not_stop),
        cmocka_unit_test(quit_and_ctrl_c_stop_cleanly),
        cmocka_unit_test(watch_swaps_and_reloads_on_file_changes),
        cmocka_unit_test(bad_arguments_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
