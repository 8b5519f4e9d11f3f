/* cmd_render.c — `rtgraph render GRAPH IN OUT`: a graph run over an audio
 * file offline, through the same plan and process function as live audio. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rtg_audio_file.h"
#include "rtg_automation.h"
#include "rtg_cli.h"
#include "rtg_graph.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: rtgraph render GRAPH IN OUT [--block N] [--automation FILE]\n"
            "\n"
            "Runs GRAPH (a YAML graph file, or a model file as a one-node graph) over the\n"
            "audio file IN and writes OUT. IN may be any format libsndfile reads; its\n"
            "channels must match the graph's inputs, or be mono, which then feeds every\n"
            "input. Its sample rate must be the graph's (a graph or model that states no\n"
            "rate runs at the file's). OUT's format follows its extension (.wav, .flac,\n"
            ".aiff, .ogg, ...; none means WAV), in 32-bit float where the format has it.\n"
            "OUT appears only when the render is complete: it is written beside OUT under\n"
            "a temporary name and renamed at the end. NaN and Inf never reach OUT: a\n"
            "block in which a node produces them is muted, the node reset, and a\n"
            "warning says so.\n"
            "\n"
            "  --block N          frames per process call, 1..8192 (default: the graph's\n"
            "                     block_size); the output is the same for every N\n"
            "  --automation FILE  timed param changes, one a line: TIME_S NODE.PARAM VALUE\n"
            "                     ('#' starts a comment); each applies from the frame at\n"
            "                     that time on\n"
            "  -q, --quiet        no progress bar\n"
            "  -h, --help         this text\n");
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void progress(long done, long total, int *shown)
{
    int pct = total > 0 ? (int)(100.0 * (double)done / (double)total) : 0;
    if (pct == *shown)
        return;
    *shown = pct;
    char bar[41];
    int fill = pct * 40 / 100;
    for (int i = 0; i < 40; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[40] = 0;
    fprintf(stderr, "\r[%s] %3d%%", bar, pct);
    fflush(stderr);
}

/* The node of plan step `step` (-1: the graph's input), for messages. */
static const char *step_node(const rtg_graph *g, int step)
{
    if (step < 0)
        return NULL;
    for (int i = 0; i < g->n_nodes; i++)
        if (step >= g->nodes[i].first_step && step < g->nodes[i].first_step + g->nodes[i].n_steps)
            return g->nodes[i].name;
    return g->plan->info[step].label;
}

typedef struct render_job {
    const char *graph_path, *in_path, *out_path, *auto_path;
    int block, quiet;
} render_job;

static int render(const render_job *job)
{
    rtg_error err = {{0}};
    rtg_audio_file *in = NULL, *out = NULL;
    rtg_graph *g = NULL;
    rtg_automation autom = {0};
    float *x = NULL, *xin = NULL, *y = NULL;
    int status = 1;
    rtg_audio_info info;
    if (rtg_audio_open_read(job->in_path, &in, &info, &err)) {
        rtg_cli_fail("%s", err.msg);
        goto done;
    }
    rtg_graph_options opt = {.max_block = job->block, .sample_rate = info.sample_rate};
    if (rtg_graph_load(job->graph_path, &opt, &g, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    if (g->sample_rate != info.sample_rate) {
        rtg_cli_fail("%s is at %d Hz but %s runs at %.0f Hz (resampling is not supported yet: "
                     "convert the file first)", job->in_path, info.sample_rate, job->graph_path,
                     g->sample_rate);
        goto done;
    }
    const int ni = g->n_inputs, no = g->n_outputs;
    if (info.channels != ni && info.channels != 1) {
        rtg_cli_fail("%s has %d channels but %s takes %d (or a mono file, which feeds every input)",
                     job->in_path, info.channels, job->graph_path, ni);
        goto done;
    }
    if (job->auto_path && rtg_automation_load(job->auto_path, g, &autom, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    char format[96] = "";
    if (rtg_audio_open_write(job->out_path, no, info.sample_rate, &out, format, sizeof format, &err)) {
        rtg_cli_fail("%s", err.msg);
        goto done;
    }
    /* Chunks are whole blocks, so every process call has --block frames but the last. */
    const int block = g->plan->max_block;
    const long chunk = (long)block * ((8192 + block - 1) / block);
    x = malloc(sizeof(float) * (size_t)chunk * (size_t)info.channels);
    xin = info.channels == ni ? x : malloc(sizeof(float) * (size_t)chunk * (size_t)ni);
    y = malloc(sizeof(float) * (size_t)chunk * (size_t)no);
    if (!x || !xin || !y) {
        rtg_cli_fail("out of memory");
        goto done;
    }
    const int bar = !job->quiet && isatty(STDERR_FILENO) && info.frames > 5L * info.sample_rate;
    int shown = -1;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long pos = 0;
    /* The plan's non-finite guard (on by default) keeps NaN and Inf out of
     * the file; what it muted is said at the end. */
    unsigned long muted = 0;
    int muted_step = -1;
    long muted_at = -1;
    while (!interrupted) {
        long n = rtg_audio_read(in, x, chunk, &err);
        if (n < 0) {
            rtg_cli_fail("%s", err.msg);
            break;
        }
        if (n == 0) {
            status = 0;
            break;
        }
        if (xin != x) /* mono feeds every input */
            for (long t = 0; t < n; t++)
                for (int c = 0; c < ni; c++)
                    xin[t * ni + c] = x[t];
        rtg_automation_process(g->plan, &autom, pos, xin, y, n, block);
        int step;
        unsigned long bad = rtg_plan_take_nonfinite(g->plan, &step);
        if (bad) {
            if (!muted)
                muted_at = pos;
            muted += bad;
            muted_step = step;
        }
        if (rtg_audio_write(out, y, n, &err)) {
            rtg_cli_fail("%s", err.msg);
            break;
        }
        pos += n;
        if (bar)
            progress(pos, info.frames, &shown);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (bar)
        fputc('\n', stderr);
    if (interrupted) {
        rtg_cli_fail("interrupted: %s was not written", job->out_path);
        status = 130;
        goto done;
    }
    if (muted) {
        const char *node = step_node(g, muted_step);
        char where[128];
        if (node)
            snprintf(where, sizeof where, "node '%s'", node);
        else
            snprintf(where, sizeof where, "%s", muted_step == -1 ? "the input" : "the output");
        fprintf(stderr,
                "rtgraph: warning: %lu block%s held NaN/Inf (the first between %.2f and %.2f s, "
                "the last in %s): %s\n",
                muted, muted == 1 ? "" : "s", (double)muted_at / info.sample_rate,
                (double)(muted_at + chunk) / info.sample_rate, where,
                muted_step == -1 ? "those samples were replaced by 0"
                                 : "muted, and any node that kept them reset");
    }
    if (status == 0 && rtg_audio_commit(out, &err)) {
        rtg_cli_fail("%s", err.msg);
        status = 1;
    }
    if (status == 0 && isatty(STDERR_FILENO) && !job->quiet) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        double audio = (double)pos / info.sample_rate;
        fprintf(stderr, "%s: %.2f s of audio in %.2f s (%.1fx real time), %s\n", job->out_path,
                audio, secs, secs > 0 ? audio / secs : 0.0, format);
    }
done:
    rtg_audio_close(out);
    rtg_audio_close(in);
    rtg_automation_free(&autom);
    rtg_graph_free(g);
    if (xin != x)
        free(xin);
    free(x);
    free(y);
    return status;
}

int rtg_cmd_render(int argc, char **argv)
{
    static const struct option opts[] = {
        {"block", required_argument, NULL, 'b'},
        {"automation", required_argument, NULL, 'a'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    render_job job = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:a:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 8192)
                return rtg_cli_fail("render: --block must be 1..8192, got '%s'", optarg);
            job.block = (int)v;
            break;
        }
        case 'a': job.auto_path = optarg; break;
        case 'q': job.quiet = 1; break;
        case 'h': help(stdout); return 0;
        default: help(stderr); return 2;
        }
    }
    if (optind != argc - 3) {
        help(stderr);
        return 2;
    }
    job.graph_path = argv[optind];
    job.in_path = argv[optind + 1];
    job.out_path = argv[optind + 2];
    return render(&job);
}
