/* cmd_bench.c — `rtgraph bench MODEL|GRAPH [--block N] [--seconds S] [--reps R]`:
 * how fast a user's model or graph runs through the plan the live path uses. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_bench.h"
#include "rtg_cli.h"
#include "rtg_graph.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: rtgraph bench MODEL|GRAPH [--block N] [--seconds S] [--reps R]\n"
            "\n"
            "Times a model file (RTNeural Keras or PyTorch state-dict JSON, NAM) or a\n"
            "graph file (YAML, docs/graph-format.md) processing random input in [-1, 1],\n"
            "block after block, through the same plan the live path runs, at the graph's\n"
            "sample rate (48 kHz for a model or a graph that states none), and prints:\n"
            "  - the real-time factor (seconds of signal per second of processing;\n"
            "    the median over the repetitions, with their min and max),\n"
            "  - the time per block in microseconds,\n"
            "  - the CPU load: the share of each block's time budget (N / rate)\n"
            "    spent processing, on one core.\n"
            "\n"
            "  --block N     frames per process call, 1..8192 (default 128)\n"
            "  --seconds S   wall time of each repetition (default 0.5)\n"
            "  --reps R      repetitions, 1..%d (default 5)\n"
            "  -h, --help    this text\n"
            "\n"
            "For steady figures run on an idle machine, pinned: taskset -c 1 rtgraph bench ...\n",
            RTG_BENCH_MAX_REPS);
}

/* Parses argv's option value as a number in [lo, hi]; 0 or -1. */
static int number_arg(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

int rtg_cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"block", required_argument, NULL, 'b'}, {"seconds", required_argument, NULL, 's'},
        {"reps", required_argument, NULL, 'r'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double block = 128, seconds = 0.5, reps = 5;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:s:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (number_arg(optarg, 1, 8192, &block) || block != (int)block)
                return rtg_cli_fail("bench: --block must be 1..8192, got '%s'", optarg);
            break;
        case 's':
            if (number_arg(optarg, 1e-3, 60, &seconds))
                return rtg_cli_fail("bench: --seconds must be 0.001..60, got '%s'", optarg);
            break;
        case 'r':
            if (number_arg(optarg, 1, RTG_BENCH_MAX_REPS, &reps) || reps != (int)reps)
                return rtg_cli_fail("bench: --reps must be 1..%d, got '%s'", RTG_BENCH_MAX_REPS,
                                    optarg);
            break;
        case 'h': help(stdout); return 0;
        default: help(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        help(stderr);
        return 2;
    }
    const char *path = argv[optind];

    rtg_error err = {{0}};
    rtg_graph_options opt = {.max_block = (int)block, .sample_rate = RTG_BENCH_RATE};
    rtg_graph *g = NULL;
    rtg_bench_plan_run run = {0};
    int status = 1;
    if (rtg_graph_load(path, &opt, &g, &err) != RTG_OK) {
        rtg_cli_fail("%s", err.msg);
        goto out;
    }
    if (rtg_bench_plan_run_init(&run, g->plan, (int)block, RTG_BENCH_RING_FRAMES, 1u, &err) !=
        RTG_OK) {
        rtg_cli_fail("%s: %s", path, err.msg);
        goto out;
    }
    const rtg_plan *plan = g->plan;
    printf("file:     %s (%d in, %d out, %d steps, %.0f MACs per frame)\n", path, plan->n_inputs,
           plan->n_outputs, plan->n_steps, rtg_plan_macs(plan));
    rtg_bench_print_machine(stdout);
    fflush(stdout);

    rtg_bench_case bc = {.run = rtg_bench_run_plan, .ctx = &run};
    rtg_bench_time(&bc, 1, seconds, (int)reps);
    const double rate = g->sample_rate, budget = block / rate;
    const rtg_bench_stats *s = &bc.stats;
    printf("block:    %d frames at %.0f Hz = %.1f us budget\n", (int)block, rate, budget * 1e6);
    printf("speed:    %.4g x real time (min %.4g, max %.4g over %d x %.2g s)\n",
           rtg_bench_rtf((int)block, rate, s->median), rtg_bench_rtf((int)block, rate, s->max),
           rtg_bench_rtf((int)block, rate, s->min), s->reps, seconds);
    printf("time:     %.3f us per block (%.4f us per frame)\n", s->median * 1e6,
           s->median * 1e6 / block);
    printf("cpu load: %.3f %% of the block budget on one core\n", 100 * s->median / budget);
    status = 0;
out:
    rtg_bench_plan_run_free(&run);
    rtg_graph_free(g);
    return status;
}
