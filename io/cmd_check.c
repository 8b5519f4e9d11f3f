/* cmd_check.c — `rtgraph check GRAPH`: validate a graph (or model) file and
 * print the plan it compiles to, with its memory and compute cost. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_cli.h"
#include "rtg_graph.h"
#include "rtg_model_slot.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: rtgraph check GRAPH [--block N] [--rate HZ]\n"
            "\n"
            "Validates GRAPH (a YAML graph file, or a model file run as a one-node graph),\n"
            "builds its plan and prints the steps in order (op, channels in and out,\n"
            "multiply-accumulates per frame), its run-time params, the arena size, the\n"
            "weight count and the compute it needs per second of audio. An error is one\n"
            "line, FILE:LINE:COL: message, and the exit status is 1.\n"
            "\n"
            "  --block N    frames per process call to size the plan for (default: the\n"
            "               graph's block_size)\n"
            "  --rate HZ    sample rate for a file that states none (default 48000)\n"
            "  -h, --help   this text\n");
}

static void print_plan(const rtg_graph *g)
{
    const rtg_plan *p = g->plan;
    printf("graph %s\n", g->path);
    printf("  %.0f Hz%s, block %d frames, %d input%s, %d output%s, smoothing %g ms\n",
           g->sample_rate, g->sample_rate_stated ? "" : " (not stated)", p->max_block,
           g->n_inputs, g->n_inputs == 1 ? "" : "s", g->n_outputs, g->n_outputs == 1 ? "" : "s",
           (double)g->smooth_ms);
    printf("\n  %4s  %-24s %-14s %5s %5s %14s\n", "#", "step", "op", "in", "out", "MACs/frame");
    size_t weights = p->weight_floats, arena = p->arena_bytes;
    for (int i = 0; i < p->n_steps; i++) {
        const rtg_step_info *s = &p->info[i];
        printf("  %4d  %-24s %-14s %5d %5d %14.0f\n", i, s->label, s->op, s->in_ch, s->out_ch,
               s->macs);
        /* a model slot runs the model's own plan: show its layers too */
        const rtg_model_slot *slot = rtg_model_slot_at(p, i);
        const rtg_plan *u = slot ? rtg_model_unit_plan(rtg_model_slot_unit(slot)) : NULL;
        for (int k = 0; u && k < u->n_steps; k++) {
            const rtg_step_info *t = &u->info[k];
            printf("  %4s    %-22s %-14s %5d %5d %14.0f\n", "", t->label, t->op, t->in_ch,
                   t->out_ch, t->macs);
        }
        if (u) {
            weights += u->weight_floats;
            arena += u->arena_bytes;
        }
    }
    if (g->n_params) {
        printf("\n  params\n");
        for (int i = 0; i < g->n_params; i++) {
            const rtg_param_ref *r = &g->params[i];
            printf("    %-24s %10g %-8s range %g..%g\n", r->name, (double)r->value, r->unit,
                   (double)r->min, (double)r->max);
        }
    }
    const double macs = rtg_plan_macs(p);
    printf("\n  arena     %zu bytes (this plan's signal buffers %zu bytes; models included)\n",
           arena, p->signal_bytes);
    printf("  weights   %zu floats\n", weights);
    printf("  compute   %.0f MACs per frame = %.3f M MACs/s at %.0f Hz\n", macs,
           macs * g->sample_rate / 1e6, g->sample_rate);
}

int rtg_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"block", required_argument, NULL, 'b'},
        {"rate", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rtg_graph_options opt = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:r:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'b':
            opt.max_block = (int)strtol(optarg, &end, 10);
            if (*end || opt.max_block < 1 || opt.max_block > 8192)
                return rtg_cli_fail("check: --block must be 1..8192, got '%s'", optarg);
            break;
        case 'r':
            opt.sample_rate = strtod(optarg, &end);
            if (*end || !(opt.sample_rate >= 1000 && opt.sample_rate <= 768000))
                return rtg_cli_fail("check: --rate must be 1000..768000 Hz, got '%s'", optarg);
            break;
        case 'h': help(stdout); return 0;
        default: help(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        help(stderr);
        return 2;
    }
    rtg_error err = {{0}};
    rtg_graph *g = NULL;
    if (rtg_graph_load(argv[optind], &opt, &g, &err)) {
        fprintf(stderr, "%s\n", err.msg); /* FILE:LINE:COL: first, as editors expect */
        return 1;
    }
    print_plan(g);
    rtg_graph_free(g);
    return 0;
}
