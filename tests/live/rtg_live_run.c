/* rtg_live_run.c — the live test: `rtgraph run GRAPH` on a real JACK server
 * (dummy driver) for over 20 s while this program, as a user's script
 * would, sends it 10,000 param changes, 200 model swaps and 20 graph
 * reloads over stdin. A JACK recorder (jack-record) captures what it plays.
 *
 * Passes when: rtgraph exits cleanly; every command was applied and none
 * refused; the callback count is within 5% of rate x time / block (fewer
 * by the share of time the host stalled the machine, see below); no
 * xrun in the measured window (from the recorder having joined to the
 * last command); the allocation/lock guard saw nothing on the audio
 * thread; and the output, inside rtgraph and as recorded, is finite and
 * not silent.
 *
 * usage: rtg_live_run RTGRAPH GRAPH STATE_DIR INPUT_WAV
 *        rtg_live_run --resampled RTGRAPH MODEL STATE_DIR
 *        rtg_live_run --soak SECONDS RTGRAPH GRAPH STATE_DIR INPUT_WAV REPORT_JSON
 *   RTGRAPH: the guarded CLI (rtgraph_guarded); STATE_DIR: the JACK
 *   fixture's folder (a `skip` file there means: skip, exit 77).
 *   --resampled: a 44.1 kHz graph around MODEL, capturing from the 48 kHz
 *   server for 6 s: rtgraph must resample at the I/O boundary, say so, and
 *   keep every guarantee above (libsamplerate on the audio thread too).
 *   RTG_LIVE_SLOW_BUILD=1 in the environment turns the timing checks (xruns,
 *   how much the recorder captured) into notes
 *   (tools/tsan.sh: a ThreadSanitizer build is too slow to keep time).
 *   Host stalls: on a virtual machine the host can stop every vCPU at once,
 *   for longer than a callback's budget. A real-time watchdog thread here
 *   (see struct watchdog) measures those stalls; an xrun counts against
 *   rtgraph only if no such stall happened in the window to explain it.
 *   --soak (tests/soak.sh): the same commands, at a steady rate, for
 *   SECONDS at 128 frames per callback (the server must run at 128), with
 *   rtgraph's resident memory sampled every second; writes the figures to
 *   REPORT_JSON. Fails on any allocation or lock on the audio thread, a
 *   refused or lost command, non-finite output, missing callbacks, or
 *   memory that grows after warm-up. Xruns are counted, not failed on: on
 *   a shared machine other load causes them too; the figures say how many
 *   host stalls the watchdog saw and how many xruns no stall explains.
 * Models to swap between: the graph's own model plus every 1-in/1-out
 * model in the graph's ../models folder and the conformance set, if
 * present. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rtg_graph.h"
#include "rtg_model.h"

#define N_PARAMS 10000
#define N_SWAPS 200
#define N_RELOADS 20
#define BATCHES 900        /* the window: BATCHES x BATCH_MS */
#define BATCH_MS 20
#define LEAD_IN_S 2.5      /* rtgraph and the recorder settle before the window */
#define TAIL_S 2.0
#define SKIP 77
#define NUM(j, k) json_number_value(json_object_get(j, k))

static int failures;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures += !ok;
}

/* A check of timing (xruns, how much of the output the recorder kept):
 * only a note under RTG_LIVE_SLOW_BUILD=1 (tools/tsan.sh: ThreadSanitizer
 * makes the models ~20x slower, callbacks overrun their period, and such
 * figures say nothing about rtgraph). */
static void check_timing(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_timing(int ok, const char *fmt, ...)
{
    const char *slow = getenv("RTG_LIVE_SLOW_BUILD");
    va_list ap;
    va_start(ap, fmt);
    if (slow && !strcmp(slow, "1")) {
        printf("note: %s", ok ? "" : "not checked in a slow (sanitizer) build: ");
        vprintf(fmt, ap);
        printf("\n");
    } else {
        printf("%s: ", ok ? "ok  " : "FAIL");
        vprintf(fmt, ap);
        printf("\n");
        failures += !ok;
    }
    va_end(ap);
}

/* The host watchdog: a SCHED_FIFO thread, above JACK's, that sleeps 1 ms
 * at a time and records how late it wakes. Nothing in the guest can hold
 * such a thread off for milliseconds, so a late wake-up of half a callback
 * period or more is the host (or the kernel) stopping the machine: an
 * xrun in such a window is not rtgraph's. Without real-time priority it
 * proves nothing and excuses nothing (rt = 0). */
typedef struct watchdog {
    pthread_t thread;
    int running, rt;
    long long threshold_ns;  /* stalls at least this long are counted */
    atomic_int stop;
    atomic_int stalls;       /* wake-ups at least threshold_ns late */
    atomic_llong longest_ns; /* the latest wake-up */
    atomic_llong stalled_ns; /* the stalls' lateness added up */
    long long start_ns, stop_ns;
} watchdog;

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *watchdog_main(void *arg)
{
    watchdog *w = arg;
    long long next = mono_ns();
    while (!atomic_load(&w->stop)) {
        next += 1000000;
        struct timespec ts = {(time_t)(next / 1000000000LL), (long)(next % 1000000000LL)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        const long long now = mono_ns(), late = now - next;
        if (late >= w->threshold_ns) {
            atomic_fetch_add(&w->stalls, 1);
            atomic_fetch_add(&w->stalled_ns, late);
        }
        if (late > atomic_load(&w->longest_ns))
            atomic_store(&w->longest_ns, late);
        if (late > 1000000)
            next = now; /* after a stall, count it once, not once per missed tick */
    }
    return NULL;
}

/* Starts the watchdog for callbacks of `period` frames at 48 kHz. */
static void watchdog_start(watchdog *w, int period)
{
    memset(w, 0, sizeof *w);
    w->threshold_ns = (long long)period * 1000000000LL / 48000 / 2;
    w->start_ns = mono_ns();
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
    struct sched_param sp = {.sched_priority = 20};
    pthread_attr_setschedparam(&attr, &sp);
    w->rt = pthread_create(&w->thread, &attr, watchdog_main, w) == 0;
    if (!w->rt) /* no real-time priority: run, to report, but excuse nothing */
        w->running = pthread_create(&w->thread, NULL, watchdog_main, w) == 0;
    else
        w->running = 1;
    pthread_attr_destroy(&attr);
}

static void watchdog_stop(watchdog *w)
{
    if (!w->running)
        return;
    atomic_store(&w->stop, 1);
    pthread_join(w->thread, NULL);
    w->running = 0;
    w->stop_ns = mono_ns();
}

/* Whether `got` callbacks are within 5% of `expected`, allowing fewer by
 * the share of the watched time the host stalled the machine (a real-time
 * watchdog saw it: the JACK dummy driver's clock stood still too). */
static int callbacks_ok(const watchdog *w, double got, double expected)
{
    double stalled = 0;
    if (w->rt && w->stop_ns > w->start_ns)
        stalled = (double)atomic_load(&w->stalled_ns) / (double)(w->stop_ns - w->start_ns);
    return got <= 1.05 * expected && got >= (0.95 - stalled) * expected;
}

/* "; N% of the time in host stalls" for messages, or "". */
static const char *stall_share(const watchdog *w, char *buf, size_t size)
{
    buf[0] = 0;
    if (w->stop_ns > w->start_ns && atomic_load(&w->stalled_ns) > 0)
        snprintf(buf, size, "; host stalls took %.1f%% of the time",
                 100.0 * (double)atomic_load(&w->stalled_ns) / (double)(w->stop_ns - w->start_ns));
    return buf;
}

/* How many of `xruns` in a window the watchdog watched no host stall
 * explains: each stall the real-time watchdog saw may explain one. */
static unsigned long long unexplained_xruns(const watchdog *w, unsigned long long xruns)
{
    const unsigned long long stalls = (unsigned long long)atomic_load(&w->stalls);
    return !w->rt ? xruns : xruns > stalls ? xruns - stalls : 0;
}

/* The xrun check: no xrun in the window that a host stall does not
 * explain. */
static void check_window_xruns(const watchdog *w, unsigned long long xruns, const char *what)
{
    const int stalls = atomic_load(&w->stalls);
    const double longest_ms = (double)atomic_load(&w->longest_ns) / 1e6;
    const unsigned long long excused = xruns - unexplained_xruns(w, xruns);
    char host[200];
    snprintf(host, sizeof host, "host stalls of %.1f ms or more: %d, longest %.1f ms%s",
             (double)w->threshold_ns / 1e6, stalls, longest_ms,
             w->rt ? "" : "; the watchdog had no real-time priority, so it excuses nothing");
    if (xruns && excused == xruns)
        printf("note: %llu xrun%s in %s, each explained by a host stall the real-time watchdog "
               "saw: not rtgraph's\n", xruns, xruns == 1 ? "" : "s", what);
    check_timing(xruns == excused, "no xrun in %s that a host stall does not explain (%llu xruns; %s)",
                what, xruns, host);
}

/* The JACK period the fixture started the server with. */
static int jack_period(void)
{
    const char *p = getenv("RTG_JACK_PERIOD");
    return p && atoi(p) > 0 ? atoi(p) : 1024;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_until(double t)
{
    double d = t - now_s();
    if (d > 0) {
        struct timespec ts = {(time_t)d, (long)((d - floor(d)) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static pid_t spawn(char *const argv[], int in_fd, int out_fd, int err_fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (in_fd >= 0)
            dup2(in_fd, 0);
        if (out_fd >= 0)
            dup2(out_fd, 1);
        if (err_fd >= 0)
            dup2(err_fd, 2);
        for (int fd = 3; fd < 64; fd++)
            close(fd);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Models with one input and one output, to swap into the graph's model node. */
static int collect_models(const char *graph_path, char models[][1024], int max)
{
    char dir[900];
    snprintf(dir, sizeof dir, "%s", graph_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    const char *shared = getenv("RTG_SHARED_DIR");
    char cand[8][1100];
    int nc = 0;
    snprintf(cand[nc++], sizeof cand[0], "%s/../models/amp_lstm.json", dir);
    snprintf(cand[nc++], sizeof cand[0], "%s/../models/amp_gru.json", dir);
    if (shared) {
        snprintf(cand[nc++], sizeof cand[0], "%s/conformance/rtneural/models/lstm.json", shared);
        snprintf(cand[nc++], sizeof cand[0], "%s/conformance/rtneural/models/gru.json", shared);
        snprintf(cand[nc++], sizeof cand[0], "%s/conformance/rtneural/models/lstm_1d.json", shared);
    }
    int n = 0;
    for (int i = 0; i < nc && n < max; i++) {
        rtg_model *m = NULL;
        rtg_error err;
        if (access(cand[i], R_OK) || rtg_model_load(cand[i], &m, &err))
            continue;
        if (m->in_ch == 1 && m->out_ch == 1 && realpath(cand[i], models[n]))
            n++;
        rtg_model_free(m);
    }
    return n;
}

/* Sends "stats" and reads the reply's counters from rtgraph's stdout. */
static int query_stats(FILE *to, FILE *from, unsigned long long *callbacks, unsigned long long *xruns)
{
    fputs("stats\n", to);
    fflush(to);
    char line[512];
    while (fgets(line, sizeof line, from)) {
        unsigned long long frames;
        if (sscanf(line, "callbacks %llu (%llu frames), xruns %llu", callbacks, &frames, xruns) == 3) {
            while (fgets(line, sizeof line, from) && strncmp(line, "commands", 8))
                ;
            return 0;
        }
    }
    return -1;
}

static void check_recording(const char *path)
{
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        check(0, "the JACK recording %s can be read: %s", path, sf_strerror(NULL));
        return;
    }
    float buf[4096];
    long frames = 0, bad = 0;
    double peak = 0;
    sf_count_t n;
    while ((n = sf_readf_float(f, buf, 4096 / info.channels)) > 0) {
        for (long i = 0; i < n * info.channels; i++) {
            if (!isfinite(buf[i]))
                bad++;
            else if (fabs(buf[i]) > peak)
                peak = fabs(buf[i]);
        }
        frames += n;
    }
    sf_close(f);
    check_timing(frames >= (long)(info.samplerate * (BATCHES * BATCH_MS / 1000.0) * 0.9),
                 "the JACK recorder captured %.1f s of rtgraph's output",
                 (double)frames / info.samplerate);
    check(bad == 0 && peak > 1e-4, "recorded output is finite (%ld bad samples) and not silent (peak %.4f)",
          bad, peak);
}

/* 1 (after saying why) if the JACK fixture could not start a server. */
static int fixture_says_skip(const char *state)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/skip", state);
    FILE *sk = fopen(path, "r");
    if (!sk)
        return 0;
    char why[512] = "";
    if (!fgets(why, sizeof why, sk))
        why[0] = 0;
    fclose(sk);
    printf("rtg_live_run: skipped: %s", why);
    return 1;
}

static json_t *load_stats(const char *path)
{
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j)
        check(0, "rtgraph wrote %s: %s", path, jerr.text);
    return j;
}

static void check_guard(json_t *j)
{
    json_t *guard = json_object_get(j, "audio_guard");
    if (guard && json_is_true(json_object_get(guard, "active")))
        check(json_integer_value(json_object_get(guard, "allocs")) == 0 &&
                  json_integer_value(json_object_get(guard, "frees")) == 0 &&
                  json_integer_value(json_object_get(guard, "locks")) == 0,
              "audio thread: %lld allocations, %lld frees, %lld locks",
              (long long)json_integer_value(json_object_get(guard, "allocs")),
              (long long)json_integer_value(json_object_get(guard, "frees")),
              (long long)json_integer_value(json_object_get(guard, "locks")));
    else
        printf("note: the allocation guard is off in this build (sanitizers): not checked\n");
}

static int resampled(const char *rtgraph, const char *model, const char *state)
{
    char graph[1200], stats_json[1200], log_path[1200], text[2048];
    snprintf(graph, sizeof graph, "%s/live_44k.yaml", state);
    snprintf(stats_json, sizeof stats_json, "%s/live_44k.json", state);
    snprintf(log_path, sizeof log_path, "%s/live_44k.log", state);
    FILE *f = fopen(graph, "w");
    if (!f)
        return perror(graph), 1;
    fprintf(f, "rtgraph: 1\nsample_rate: 44100\nblock_size: 1024\nnodes:\n"
               "  amp: {op: model, in: in, file: %s}\noutputs: [amp, amp]\n", model);
    fclose(f);
    unlink(stats_json);
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = open("/dev/null", O_RDONLY);
    char *argv[] = {(char *)rtgraph, "run", graph, "--host-api", "JACK", "--seconds", "6",
                    "--stats-json", stats_json, NULL};
    int status;
    watchdog wd;
    watchdog_start(&wd, jack_period());
    waitpid(spawn(argv, null, log_fd, log_fd), &status, 0);
    watchdog_stop(&wd);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rtgraph exited cleanly (log: %s)", log_path);
    f = fopen(log_path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = 0;
    if (f)
        fclose(f);
    check(strstr(text, "resampling at the I/O boundary") && strstr(text, "ms of latency"),
          "rtgraph says it resamples 44100 <-> 48000 Hz and what that costs");
    json_t *j = load_stats(stats_json);
    if (!j)
        return 1;
    double expected = NUM(j, "seconds") * 44100 / 1024;
    char share[96];
    check(callbacks_ok(&wd, NUM(j, "callbacks"), expected),
          "%.0f graph blocks in %.2f s, expected %.0f at 44.1 kHz (within 5%%%s)",
          NUM(j, "callbacks"), NUM(j, "seconds"), expected, stall_share(&wd, share, sizeof share));
    check_window_xruns(&wd, (unsigned long long)NUM(j, "xruns"), "the run");
    check(NUM(j, "nonfinite_samples") == 0, "output finite");
    check_guard(j);
    json_decref(j);
    printf("%s\n", failures ? "rtg_live_run --resampled: FAILED" : "rtg_live_run --resampled: passed");
    return failures ? 1 : 0;
}

/* Loads GRAPH and finds what the script turns: its (last) model node, its
 * params, and models to swap in. NULL (after saying why) if it lacks one. */
static rtg_graph *prepare(const char *graph, char models[][1024], int *n_models, const char **node)
{
    rtg_graph *g = NULL;
    rtg_error err;
    if (rtg_graph_load(graph, NULL, &g, &err)) {
        printf("FAIL: %s\n", err.msg);
        return NULL;
    }
    *n_models = collect_models(graph, models, 8);
    *node = NULL;
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].op, "model"))
            *node = g->nodes[i].name;
    if (!*node || *n_models < 1 || g->n_params < 1) {
        printf("FAIL: %s needs a model node and a param, and a model to swap in\n", graph);
        rtg_graph_free(g);
        return NULL;
    }
    printf("swapping '%s' between %d model%s; params:", *node, *n_models, *n_models == 1 ? "" : "s");
    for (int i = 0; i < g->n_params; i++)
        printf(" %s", g->params[i].name);
    printf("\n");
    return g;
}

/* Sends `set` commands until `want` have gone, cycling through the params
 * with values from `seed`. */
static void send_params(FILE *to, const rtg_graph *g, int *sent, long want, uint32_t *seed)
{
    for (; *sent < want; (*sent)++) {
        const rtg_param_ref *p = &g->params[*sent % g->n_params];
        *seed = *seed * 1664525u + 1013904223u;
        double v = p->min + (p->max - p->min) * (*seed >> 8) / 16777216.0;
        if (strstr(p->name, ".db")) /* keep the level sane for the recording */
            v = fmin(v, 6.0);
        fprintf(to, "set %s %.4f\n", p->name, v);
    }
}

/* ---- the soak ---- */

#define SOAK_FRAMES 128
#define SOAK_PARAMS_PER_S 500.0
#define SOAK_SWAPS_PER_S 10.0
#define SOAK_RELOADS_PER_S 1.0
#define SOAK_RSS_SLACK_KIB 1024 /* what the allocator may still settle after warm-up */

/* Resident memory of `pid` in KiB (VmRSS), or -1. */
static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static int soak(double seconds, const char *rtgraph, const char *graph, const char *state,
                const char *input, const char *report)
{
    char models[8][1024];
    int n_models;
    const char *node;
    rtg_graph *g = prepare(graph, models, &n_models, &node);
    if (!g)
        return 1;
    const double run_s = LEAD_IN_S + seconds + TAIL_S;
    char run_seconds[32], frames[16], stats_json[1200], log_path[1200];
    snprintf(run_seconds, sizeof run_seconds, "%.1f", run_s);
    snprintf(frames, sizeof frames, "%d", SOAK_FRAMES);
    snprintf(stats_json, sizeof stats_json, "%s/soak_stats.json", state);
    snprintf(log_path, sizeof log_path, "%s/soak_rtgraph.log", state);
    unlink(stats_json);
    int to_rt[2], from_rt[2];
    if (pipe(to_rt) || pipe(from_rt)) {
        perror("pipe");
        rtg_graph_free(g);
        return 1;
    }
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *rt_argv[] = {(char *)rtgraph, "run", (char *)graph, "--host-api", "JACK", "--frames", frames,
                       "--input", (char *)input, "--seconds", run_seconds, "--stats-json", stats_json,
                       NULL};
    const double t_start = now_s();
    pid_t rt = spawn(rt_argv, to_rt[0], from_rt[1], log_fd);
    close(to_rt[0]);
    close(from_rt[1]);
    signal(SIGPIPE, SIG_IGN);
    FILE *to = fdopen(to_rt[1], "w"), *from = fdopen(from_rt[0], "r");
    sleep_until(t_start + LEAD_IN_S);

    unsigned long long cb0 = 0, xr0 = 0, cb1 = 0, xr1 = 0, cb = 0, xr = 0;
    int have_start = query_stats(to, from, &cb0, &xr0) == 0;
    check(have_start, "rtgraph answers 'stats' at the start (callbacks %llu, xruns %llu)", cb0, xr0);
    const long rss_start = rss_kib(rt);
    long rss_warm = -1, rss_max = rss_start;
    printf("soak: %.0f s at %d frames; resident memory at the start %ld KiB\n", seconds,
           SOAK_FRAMES, rss_start);
    fflush(stdout);
    watchdog wd;
    watchdog_start(&wd, SOAK_FRAMES);
    const double t0 = now_s();
    uint32_t seed = 1;
    int sent_params = 0, sent_swaps = 0, sent_reloads = 0, status = 0, ended = 0;
    for (int b = 1;; b++) {
        const double t = b * BATCH_MS / 1000.0;
        if (t > seconds)
            break;
        sleep_until(t0 + t);
        send_params(to, g, &sent_params, (long)(SOAK_PARAMS_PER_S * t), &seed);
        for (; sent_swaps < (long)(SOAK_SWAPS_PER_S * t); sent_swaps++)
            fprintf(to, "swap %s %s\n", node, models[sent_swaps % n_models]);
        for (; sent_reloads < (long)(SOAK_RELOADS_PER_S * t); sent_reloads++)
            fprintf(to, "reload\n");
        fflush(to);
        if (b % (1000 / BATCH_MS) == 0) { /* every second */
            if (waitpid(rt, &status, WNOHANG) == rt) {
                ended = 1;
                check(0, "rtgraph still runs after %.0f s (log: %s)", t, log_path);
                break;
            }
            long kib = rss_kib(rt);
            rss_max = kib > rss_max ? kib : rss_max;
            if (rss_warm < 0 && t >= 0.1 * seconds)
                rss_warm = kib;
        }
        if (b % (60 * 1000 / BATCH_MS) == 0 && query_stats(to, from, &cb, &xr) == 0) {
            printf("soak: %4.0f s: %llu callbacks, %llu xruns, resident %ld KiB\n", t, cb, xr,
                   rss_kib(rt));
            fflush(stdout);
        }
    }
    const double window = now_s() - t0;
    int have_end = query_stats(to, from, &cb1, &xr1) == 0;
    watchdog_stop(&wd);
    const long rss_end = rss_kib(rt);
    fclose(to);
    if (!ended)
        waitpid(rt, &status, 0);
    fclose(from);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rtgraph exited cleanly (status %d; log: %s)",
          WIFEXITED(status) ? WEXITSTATUS(status) : -1, log_path);
    check(have_end, "rtgraph answers 'stats' at the end");
    json_t *j = load_stats(stats_json);
    if (!j) {
        rtg_graph_free(g);
        return 1;
    }
    check(strstr(json_string_value(json_object_get(j, "device")), "JACK") != NULL, "played through JACK");
    check(NUM(j, "frames_per_callback") == SOAK_FRAMES, "%.0f frames per callback",
          NUM(j, "frames_per_callback"));
    check(NUM(j, "params") == sent_params && NUM(j, "swaps") == sent_swaps &&
              NUM(j, "reloads") == sent_reloads,
          "applied %.0f params, %.0f swaps, %.0f reloads (sent %d, %d, %d)", NUM(j, "params"),
          NUM(j, "swaps"), NUM(j, "reloads"), sent_params, sent_swaps, sent_reloads);
    check(NUM(j, "rejected") == 0, "no command refused (%.0f)", NUM(j, "rejected"));
    double expected = NUM(j, "seconds") * NUM(j, "sample_rate") / SOAK_FRAMES;
    char share[96];
    check(callbacks_ok(&wd, NUM(j, "callbacks"), expected),
          "%.0f callbacks in %.2f s, expected %.0f (within 5%%%s)", NUM(j, "callbacks"),
          NUM(j, "seconds"), expected, stall_share(&wd, share, sizeof share));
    check_guard(j);
    check(NUM(j, "nonfinite_samples") == 0 && NUM(j, "nonfinite_events") == 0 && NUM(j, "peak") > 1e-4,
          "output finite (%.0f bad samples, %.0f muted blocks), not silent (peak %.4f)",
          NUM(j, "nonfinite_samples"), NUM(j, "nonfinite_events"), NUM(j, "peak"));
    if (rss_warm < 0)
        rss_warm = rss_start;
    json_t *guard = json_object_get(j, "audio_guard");
    const int guard_on = guard && json_is_true(json_object_get(guard, "active"));
    if (guard_on)
        check(rss_start > 0 && rss_end > 0 && rss_end <= rss_warm + SOAK_RSS_SLACK_KIB,
              "resident memory did not grow: %ld KiB at the start, %ld after warm-up (10%%), %ld "
              "at the end, %ld at most (allowed: warm-up + %d)",
              rss_start, rss_warm, rss_end, rss_max, SOAK_RSS_SLACK_KIB);
    else /* a sanitizer holds freed memory back (ASan's quarantine): RSS says nothing */
        printf("note: resident memory not checked in a sanitizer build: %ld KiB at the start, %ld "
               "at the end\n", rss_start, rss_end);
    const double budget_us = 1e6 * SOAK_FRAMES / NUM(j, "sample_rate");
    printf("\nsoak figures (%s, %.0f s window, %d frames at %.0f Hz: budget %.0f us per callback)\n",
           graph, window, SOAK_FRAMES, NUM(j, "sample_rate"), budget_us);
    printf("  callbacks      %.0f (expected %.0f)\n", NUM(j, "callbacks"), expected);
    printf("  xruns          %llu in the window, %.0f in all (the machine is shared: other load "
           "counts too)\n", xr1 - xr0, NUM(j, "xruns"));
    const unsigned long long stalls = (unsigned long long)atomic_load(&wd.stalls);
    const unsigned long long unexplained = unexplained_xruns(&wd, xr1 - xr0);
    printf("  host stalls    %llu of %.2f ms or more (half a callback), longest %.1f ms: a "
           "real-time%s watchdog woken every 1 ms woke that late\n", stalls,
           (double)wd.threshold_ns / 1e6, (double)atomic_load(&wd.longest_ns) / 1e6,
           wd.rt ? "" : " (no: it got no real-time priority)");
    printf("  xruns left     %llu that no host stall explains\n", unexplained);
    printf("  callback time  median %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us "
           "(%.1f%% / %.1f%% / %.1f%% of the budget)\n",
           NUM(j, "cb_p50_us"), NUM(j, "cb_p99_us"), NUM(j, "cb_p999_us"), NUM(j, "cb_max_us"),
           100 * NUM(j, "cb_p50_us") / budget_us, 100 * NUM(j, "cb_p99_us") / budget_us,
           100 * NUM(j, "cb_max_us") / budget_us);
    printf("  commands       %.0f params, %.0f swaps, %.0f reloads applied; %.0f refused\n",
           NUM(j, "params"), NUM(j, "swaps"), NUM(j, "reloads"), NUM(j, "rejected"));
    printf("  memory (RSS)   %ld KiB at the start, %ld after warm-up, %ld at the end, %ld at most\n",
           rss_start, rss_warm, rss_end, rss_max);
    if (guard_on)
        printf("  audio thread   %lld allocations, %lld frees, %lld locks\n",
               (long long)json_integer_value(json_object_get(guard, "allocs")),
               (long long)json_integer_value(json_object_get(guard, "frees")),
               (long long)json_integer_value(json_object_get(guard, "locks")));
    json_t *r = json_pack("{s:s, s:f, s:i, s:f, s:f, s:I, s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:f,"
                          " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                          "graph", graph, "seconds", window, "frames_per_callback", SOAK_FRAMES,
                          "sample_rate", NUM(j, "sample_rate"), "budget_us", budget_us,
                          "callbacks", (json_int_t)NUM(j, "callbacks"), "expected_callbacks", expected,
                          "xruns_window", (json_int_t)(xr1 - xr0), "xruns", (json_int_t)NUM(j, "xruns"),
                          "cb_p50_us", NUM(j, "cb_p50_us"), "cb_p99_us", NUM(j, "cb_p99_us"),
                          "cb_p999_us", NUM(j, "cb_p999_us"), "cb_max_us", NUM(j, "cb_max_us"),
                          "load_max", NUM(j, "load_max"), "params", (json_int_t)NUM(j, "params"),
                          "swaps", (json_int_t)NUM(j, "swaps"), "reloads", (json_int_t)NUM(j, "reloads"),
                          "rejected", (json_int_t)NUM(j, "rejected"), "rss_start_kib",
                          (json_int_t)rss_start, "rss_warm_kib", (json_int_t)rss_warm,
                          "rss_end_kib", (json_int_t)rss_end, "rss_max_kib", (json_int_t)rss_max,
                          "nonfinite_events", (json_int_t)NUM(j, "nonfinite_events"),
                          "nonfinite_samples", (json_int_t)NUM(j, "nonfinite_samples"));
    if (r && guard)
        json_object_set(r, "audio_guard", guard);
    if (r) {
        json_object_set_new(r, "host_stalls", json_integer(atomic_load(&wd.stalls)));
        json_object_set_new(r, "host_stall_max_us",
                            json_real((double)atomic_load(&wd.longest_ns) / 1e3));
        json_object_set_new(r, "host_watchdog_realtime", json_boolean(wd.rt));
        json_object_set_new(r, "xruns_unexplained", json_integer((json_int_t)unexplained));
    }
    if (!r || json_dump_file(r, report, JSON_INDENT(2)))
        check(0, "wrote the figures to %s", report);
    json_decref(r);
    json_decref(j);
    rtg_graph_free(g);
    printf("%s\n", failures ? "rtg_live_run --soak: FAILED" : "rtg_live_run --soak: passed");
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "--resampled"))
        return fixture_says_skip(argv[4]) ? SKIP : resampled(argv[2], argv[3], argv[4]);
    if (argc == 8 && !strcmp(argv[1], "--soak")) {
        double secs = atof(argv[2]);
        if (!(secs >= 1)) {
            fprintf(stderr, "rtg_live_run --soak: SECONDS must be at least 1\n");
            return 2;
        }
        return fixture_says_skip(argv[5]) ? SKIP : soak(secs, argv[3], argv[4], argv[5], argv[6], argv[7]);
    }
    if (argc != 5) {
        fprintf(stderr, "usage: rtg_live_run RTGRAPH GRAPH STATE_DIR INPUT_WAV\n"
                        "       rtg_live_run --resampled RTGRAPH MODEL STATE_DIR\n"
                        "       rtg_live_run --soak SECONDS RTGRAPH GRAPH STATE_DIR INPUT_WAV REPORT_JSON\n");
        return 2;
    }
    const char *rtgraph = argv[1], *graph = argv[2], *state = argv[3], *input = argv[4];
    if (fixture_says_skip(state))
        return SKIP;

    char models[8][1024];
    int n_models;
    const char *node;
    rtg_graph *g = prepare(graph, models, &n_models, &node);
    if (!g)
        return 1;

    const double run_s = LEAD_IN_S + BATCHES * BATCH_MS / 1000.0 + TAIL_S;
    char seconds[32], stats_json[1200], log_path[1200], rec_path[1200];
    snprintf(seconds, sizeof seconds, "%.1f", run_s);
    snprintf(stats_json, sizeof stats_json, "%s/live_stats.json", state);
    snprintf(log_path, sizeof log_path, "%s/live_rtgraph.log", state);
    snprintf(rec_path, sizeof rec_path, "%s/live_recorded.wav", state);
    unlink(stats_json);
    unlink(rec_path);
    int to_rt[2], from_rt[2];
    if (pipe(to_rt) || pipe(from_rt))
        return perror("pipe"), 1;
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *rt_argv[] = {(char *)rtgraph, "run", (char *)graph, "--host-api", "JACK", "--frames", "1024",
                       "--input", (char *)input, "--seconds", seconds, "--stats-json", stats_json, NULL};
    const double t_start = now_s();
    pid_t rt = spawn(rt_argv, to_rt[0], from_rt[1], log_fd);
    close(to_rt[0]);
    close(from_rt[1]);
    signal(SIGPIPE, SIG_IGN);
    FILE *to = fdopen(to_rt[1], "w"), *from = fdopen(from_rt[0], "r");

    /* The recorder joins before the window: joining the JACK graph may
     * cost an xrun, which is not rtgraph's. */
    sleep_until(t_start + 1.0);
    char rec_seconds[32];
    snprintf(rec_seconds, sizeof rec_seconds, "%d", (int)(BATCHES * BATCH_MS / 1000.0 + 2));
    char *rec_argv[] = {"jack-record", "-p", "PortAudio:out_%d", "-o", "-1", "-n", "2", "-t",
                        rec_seconds, rec_path, NULL};
    int rec_null = open("/dev/null", O_WRONLY);
    pid_t rec = access("/usr/bin/jack-record", X_OK) == 0 ? spawn(rec_argv, -1, rec_null, rec_null) : -1;
    if (rec < 0)
        printf("note: jack-record (jack-tools) not found: the output is checked inside rtgraph only\n");
    sleep_until(t_start + LEAD_IN_S);

    unsigned long long cb0 = 0, xr0 = 0, cb1 = 0, xr1 = 0;
    int have_start = query_stats(to, from, &cb0, &xr0) == 0;
    check(have_start, "rtgraph answers 'stats' at the start of the window (callbacks %llu, xruns %llu)",
          cb0, xr0);
    watchdog wd;
    watchdog_start(&wd, jack_period());
    const double t0 = now_s();
    uint32_t seed = 1;
    int sent_params = 0, sent_swaps = 0, sent_reloads = 0;
    for (int b = 0; b < BATCHES; b++) {
        sleep_until(t0 + b * BATCH_MS / 1000.0);
        send_params(to, g, &sent_params, (long)N_PARAMS * (b + 1) / BATCHES, &seed);
        if (sent_swaps < (long)N_SWAPS * (b + 1) / BATCHES) {
            fprintf(to, "swap %s %s\n", node, models[sent_swaps % n_models]);
            sent_swaps++;
        }
        if (sent_reloads < (long)N_RELOADS * (b + 1) / BATCHES) {
            fprintf(to, "reload\n");
            sent_reloads++;
        }
        fflush(to);
    }
    const double window = now_s() - t0;
    int have_end = query_stats(to, from, &cb1, &xr1) == 0;
    watchdog_stop(&wd);
    fclose(to); /* end of input: must not stop the run before --seconds */
    int status = 0;
    waitpid(rt, &status, 0);
    const double ran = now_s() - t_start;
    if (rec > 0) {
        int rs;
        kill(rec, SIGTERM);
        waitpid(rec, &rs, 0);
    }
    fclose(from);

    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rtgraph exited cleanly (status %d; log: %s)",
          WIFEXITED(status) ? WEXITSTATUS(status) : -1, log_path);
    check(ran >= run_s - 0.5, "the run lasted %.1f s (stdin closed after %.1f s)", ran,
          LEAD_IN_S + window);
    check(have_end, "rtgraph answers 'stats' at the end of the window");
    json_t *j = load_stats(stats_json);
    if (!j)
        return 1;
    printf("device: %s\n", json_string_value(json_object_get(j, "device")));
    check(strstr(json_string_value(json_object_get(j, "device")), "JACK") != NULL, "played through JACK");
    check(NUM(j, "params") == N_PARAMS && NUM(j, "swaps") == N_SWAPS && NUM(j, "reloads") == N_RELOADS,
          "applied %.0f params, %.0f swaps, %.0f reloads (sent %d, %d, %d)", NUM(j, "params"), NUM(j, "swaps"),
          NUM(j, "reloads"), sent_params, sent_swaps, sent_reloads);
    check(NUM(j, "rejected") == 0, "no command refused (%.0f)", NUM(j, "rejected"));
    double expected = NUM(j, "seconds") * NUM(j, "sample_rate") / NUM(j, "frames_per_callback");
    char share[96];
    check(callbacks_ok(&wd, NUM(j, "callbacks"), expected),
          "%.0f callbacks in %.2f s, expected %.0f (within 5%%%s)", NUM(j, "callbacks"),
          NUM(j, "seconds"), expected, stall_share(&wd, share, sizeof share));
    check(have_start && have_end, "xruns counted over the window (%llu at its start, %llu at its "
          "end; %.0f in all)", xr0, xr1, NUM(j, "xruns"));
    check_window_xruns(&wd, xr1 - xr0, "the measured window");
    check(callbacks_ok(&wd, (double)(cb1 - cb0), window * 48000 / 1024),
          "%llu callbacks in the %.1f s window", cb1 - cb0, window);
    check_guard(j);
    check(NUM(j, "nonfinite_samples") == 0 && NUM(j, "peak") > 1e-4,
          "output finite (%.0f bad samples), not silent (peak %.4f)", NUM(j, "nonfinite_samples"), NUM(j, "peak"));
    printf("callback time: mean %.1f us, p99 %.1f us, max %.1f us; load max %.2f%%\n", NUM(j, "cb_mean_us"),
           NUM(j, "cb_p99_us"), NUM(j, "cb_max_us"), 100 * NUM(j, "load_max"));
    if (rec > 0)
        check_recording(rec_path);
    json_decref(j);
    rtg_graph_free(g);
    printf("%s\n", failures ? "rtg_live_run: FAILED" : "rtg_live_run: passed");
    return failures ? 1 : 0;
}
