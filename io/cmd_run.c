/* cmd_run.c — `rtgraph run GRAPH`: live audio through the real-time engine
 * while the console changes params, swaps models and reloads the graph. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rtg_audio_device.h"
#include "rtg_cli.h"
#include "rtg_console.h"
#include "rtg_rt.h"
#include "rtgraph.h"

#ifdef RTG_AUDIO_GUARD
/* The test build: count allocations and locks on the audio thread. */
#include "rtg_alloc_guard.h"
static void guard_enter(void) { rtg_guard_watch(1); }
static void guard_leave(void) { rtg_guard_watch(0); }
#endif

static void help(FILE *f)
{
    fprintf(f,
            "usage: rtgraph run GRAPH [--host-api NAME] [--device N|NAME] [--frames N]\n"
            "                   [--input FILE] [--seconds S] [--output FILE] [--fade-ms MS]\n"
            "                   [--watch] [--stats-json FILE] [--device-rate HZ]\n"
            "\n"
            "Plays live audio through GRAPH (a YAML graph, or a model file as a one-node\n"
            "graph). Commands on stdin change it while it plays, without a click:\n"
            "  set NODE.PARAM VALUE, swap NODE FILE, reload [FILE], stats, help, quit\n"
            "Where there is no audio device, or with --output, the same real-time loop runs\n"
            "on a virtual device paced by a timer and writes what it would play to a file.\n"
            "\n"
            "  --host-api NAME    PortAudio host API (e.g. JACK, ALSA; see 'rtgraph devices')\n"
            "  --device N|NAME    device index or name (default: the host API's default)\n"
            "  --frames N         frames per callback, 1..8192 (default: the graph's block_size)\n"
            "  --input FILE       play FILE, looped, instead of capturing\n"
            "  --seconds S        stop after S seconds (default: run until quit or Ctrl-C)\n"
            "  --output FILE      run on the virtual device and write the output to FILE\n"
            "  --fade-ms MS       crossfade of swaps and reloads, 0..10000 (default 10)\n"
            "  --watch            swap a model / reload the graph when its file changes\n"
            "  --stats-json FILE  write the final counters to FILE as JSON\n"
            "  --device-rate HZ   run the device at HZ and resample at the I/O boundary\n"
            "                     (default: the graph's rate; a device that refuses it runs\n"
            "                     at its own rate, resampled, with a notice)\n"
            "  -h, --help         this text\n");
}

typedef struct run_opts {
    const char *graph, *host_api, *device, *input, *output, *stats_json;
    int frames, watch;
    double seconds, fade_ms, device_rate;
} run_opts;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* The audio callback: the engine's process and nothing else. */
static void process(void *user, const float *in, float *out, int frames)
{
    rtg_engine_process(user, in, out, frames);
}

static void xrun(void *user, int n)
{
    rtg_engine_report_xruns(user, n);
}

static int parse_number(const char *what, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi))
        return rtg_cli_fail("%s: '%s' is not a number in %g..%g", what, s, lo, hi), -1;
    *out = v;
    return 0;
}

static int parse(int argc, char **argv, run_opts *o)
{
    static const struct option longs[] = {
        {"host-api", required_argument, 0, 'A'}, {"device", required_argument, 0, 'd'},
        {"frames", required_argument, 0, 'f'},   {"input", required_argument, 0, 'i'},
        {"seconds", required_argument, 0, 's'},  {"output", required_argument, 0, 'o'},
        {"fade-ms", required_argument, 0, 'F'},  {"watch", no_argument, 0, 'w'},
        {"stats-json", required_argument, 0, 'j'}, {"device-rate", required_argument, 0, 'R'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    *o = (run_opts){.fade_ms = 10};
    double v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'A': o->host_api = optarg; break;
        case 'd': o->device = optarg; break;
        case 'i': o->input = optarg; break;
        case 'o': o->output = optarg; break;
        case 'j': o->stats_json = optarg; break;
        case 'w': o->watch = 1; break;
        case 'f':
            if (parse_number("--frames", optarg, 1, 8192, &v))
                return 2;
            if (v != floor(v))
                return rtg_cli_fail("--frames: '%s' is not a whole number", optarg), 2;
            o->frames = (int)v;
            break;
        case 's':
            if (parse_number("--seconds", optarg, 0, 1e7, &v))
                return 2;
            o->seconds = v;
            break;
        case 'F':
            if (parse_number("--fade-ms", optarg, 0, 10000, &v))
                return 2;
            o->fade_ms = v;
            break;
        case 'R':
            if (parse_number("--device-rate", optarg, 1000, 768000, &v))
                return 2;
            o->device_rate = v;
            break;
        case 'h': help(stdout); return -1;
        default: help(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        help(stderr);
        return 2;
    }
    o->graph = argv[optind];
    return 0;
}

static int write_stats_json(const char *path, rtg_engine *e, rtg_audio_device *d, double seconds)
{
    rtg_engine_stats s;
    rtg_engine_info info;
    rtg_audio_device_stats ds;
    rtg_engine_get_stats(e, &s);
    rtg_engine_get_info(e, &info);
    rtg_audio_device_get_stats(d, &ds);
    json_t *j = json_pack(
        "{s:s, s:s, s:b, s:f, s:i, s:f, s:f, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f,"
        " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I}",
        "graph", info.graph, "device", rtg_audio_device_describe(d), "virtual",
        rtg_audio_device_is_virtual(d), "sample_rate", info.sample_rate, "frames_per_callback",
        info.max_block, "seconds", seconds, "expected_callbacks",
        seconds * info.sample_rate / info.max_block, "callbacks", (json_int_t)s.callbacks, "frames",
        (json_int_t)s.frames, "xruns", (json_int_t)s.xruns, "cb_mean_us", s.cb_mean_us,
        "cb_max_us", s.cb_max_us, "cb_p50_us", s.cb_p50_us, "cb_p99_us", s.cb_p99_us,
        "cb_p999_us", s.cb_p999_us, "load_mean", s.load_mean, "load_max", s.load_max, "params",
        (json_int_t)s.params, "swaps", (json_int_t)s.swaps, "reloads", (json_int_t)s.reloads,
        "rejected", (json_int_t)s.rejected, "generation", (json_int_t)s.generation,
        "nonfinite_samples", (json_int_t)ds.nonfinite, "dropped_frames",
        (json_int_t)ds.dropped_frames, "peak", ds.peak, "late_wakeups",
        (json_int_t)ds.late_wakeups);
    if (j)
        json_object_set_new(j, "nonfinite_events", json_integer((json_int_t)s.nonfinite_events));
#ifdef RTG_AUDIO_GUARD
    json_object_set_new(j, "audio_guard",
                        json_pack("{s:b, s:I, s:I, s:I}", "active", rtg_guard_active(), "allocs",
                                  (json_int_t)rtg_guard_allocs(), "frees",
                                  (json_int_t)rtg_guard_frees(), "locks",
                                  (json_int_t)rtg_guard_locks()));
#endif
    int rc = j && json_dump_file(j, path, JSON_INDENT(2)) == 0 ? 0 : -1;
    json_decref(j);
    if (rc)
        rtg_cli_fail("cannot write %s", path);
    return rc;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

int rtg_cmd_run(int argc, char **argv)
{
    run_opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    rtg_error err;
    /* Lock memory first, so the engine's allocations are locked too. */
    if (rtg_rt_lock_memory(&err))
        fprintf(stderr, "rtgraph: note: %s\n", err.msg);

    rtg_engine_config ecfg = rtg_engine_config_init();
    ecfg.graph = o.graph;
    ecfg.max_block = o.frames;
    ecfg.fade_ms = o.fade_ms;
    rtg_engine *e = NULL;
    if (rtg_engine_init(&ecfg, &e, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    rtg_engine_info info;
    rtg_engine_get_info(e, &info);

    rtg_audio_device_config dcfg = {
        .sample_rate = info.sample_rate, .device_rate = o.device_rate, .frames = info.max_block,
        .in_ch = info.n_inputs,
        .out_ch = info.n_outputs, .host_api = o.host_api, .device = o.device,
        .input_file = o.input, .output_file = o.output, .callback = process, .on_xrun = xrun,
        .user = e,
#ifdef RTG_AUDIO_GUARD
        .enter = guard_enter, .leave = guard_leave,
#endif
    };
    rtg_audio_device *dev = NULL;
    char notice[2048];
    if (rtg_audio_device_open(&dcfg, &dev, notice, sizeof notice, &err)) {
        rtg_cli_fail("%s", err.msg);
        rtg_engine_uninit(e);
        return 1;
    }
    for (char *line = strtok(notice, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(stderr, "rtgraph: note: %s\n", line);

    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    const int tty = isatty(STDERR_FILENO);
    rtg_console_config ccfg = {.engine = e, .fd = STDIN_FILENO, .out = stdout, .msg = stderr,
                               .watch = o.watch, .status_line = tty};
    rtg_console *con = NULL;
    struct timespec t0;
    int status = 1;
    if (rtg_console_start(&ccfg, &con, &err)) {
        rtg_cli_fail("%s", err.msg);
        goto done;
    }
    if (rtg_audio_device_start(dev, &err)) {
        rtg_cli_fail("%s", err.msg);
        goto done;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rtg_audio_device_is_realtime(dev) == 0)
        rtg_console_say(con, "rtgraph: note: no real-time priority for the audio thread (SCHED_FIFO "
                             "refused): timing may jitter under load");
    rtg_console_say(con, "rtgraph: playing %s on %s; fade %g ms%s; type 'help' for commands",
                    o.graph, rtg_audio_device_describe(dev), o.fade_ms, o.watch ? "; watching files" : "");
    for (int tick = 0; !interrupted && !rtg_console_quit_requested(con); tick++) {
        double left = o.seconds > 0 ? o.seconds - seconds_since(&t0) : 0.05;
        if (left <= 0)
            break;
        struct timespec nap = {0, (long)(fmin(left, 0.05) * 1e9)};
        nanosleep(&nap, NULL);
        if (tick % 5 == 4)
            rtg_console_tick(con);
    }
    status = 0;
done:;
    double played = con && status == 0 ? seconds_since(&t0) : 0;
    if (rtg_audio_device_stop(dev, &err)) {
        rtg_cli_fail("%s", err.msg);
        status = 1;
    }
    if (con) /* what the guard met since the last tick */
        rtg_console_report_events(con);
    rtg_console_stop(con);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (status == 0) {
        char text[2048];
        rtg_console_format_stats(e, 0, text, sizeof text);
        fprintf(stderr, "%s\n", text);
        rtg_audio_device_stats ds;
        rtg_audio_device_get_stats(dev, &ds);
        if (ds.nonfinite)
            fprintf(stderr, "rtgraph: warning: %llu output samples were not finite (sent as 0)\n",
                    (unsigned long long)ds.nonfinite);
        if (ds.dropped_frames)
            fprintf(stderr, "rtgraph: warning: the recorder fell behind: %llu frames lost\n",
                    (unsigned long long)ds.dropped_frames);
        if (o.stats_json && write_stats_json(o.stats_json, e, dev, played))
            status = 1;
    }
    rtg_audio_device_close(dev);
    rtg_engine_uninit(e);
    return status;
}
