/* cmd_check.c — `rtgraph check GRAPH`: validate a graph (or model) file and
 * print the plan it compiles to, with its memory and compute cost; for a
 * model file also what the file says about itself and, when it carries
 * reference data (AIDA-X), the self-test result. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_cli.h"
#include "rtg_graph.h"
#include "rtg_model.h"
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
            "For a model file it also prints the file's metadata (name, author, gear,\n"
            "loudness, levels, the sample rate it was trained at) and, when the file\n"
            "carries reference data (AIDA-X input_batch/output_batch), runs the freshly\n"
            "reset model once over input_batch and compares with output_batch: the max\n"
            "abs error must be at most 1e-4 x the peak of output_batch (at least 1e-5),\n"
            "else the self-test fails and the exit status is 1.\n"
            "\n"
            "  --block N    frames per process call to size the plan for (default: the\n"
            "               graph's block_size)\n"
            "  --rate HZ    sample rate for a file that states none (default: a model\n"
            "               file's trained rate, else 48000)\n"
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

/* A model file is JSON (the graph loader's own test); anything else is a
 * YAML graph. */
static int is_model_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int c;
    do
        c = fgetc(f);
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    fclose(f);
    return c == '{';
}

/* What the file says about itself, and the wrapping around its layers. */
static void print_model_info(const rtg_model *model)
{
    const rtg_model_meta *m = &model->meta;
    const int wrapped = model->in_gain_db != 0 || model->out_gain_db != 0 || model->skip;
    /* "make model (type)", whichever parts the file gives */
    char gear[400] = "";
    const char *words[2] = {m->gear_make, m->gear_model};
    size_t n = 0;
    for (int i = 0; i < 2; i++)
        if (words[i][0] && n < sizeof gear)
            n += (size_t)snprintf(gear + n, sizeof gear - n, "%s%s", n ? " " : "", words[i]);
    if (m->gear_type[0] && n < sizeof gear)
        snprintf(gear + n, sizeof gear - n, n ? " (%s)" : "%s", m->gear_type);
    if (!m->name[0] && !m->modeled_by[0] && !gear[0] && !m->tone_type[0] && !m->has_loudness &&
        !m->has_input_level && !m->has_output_level && m->sample_rate <= 0 && !wrapped)
        return;
    printf("\n  model file\n");
    if (m->name[0])
        printf("    %-14s %s\n", "name", m->name);
    if (m->modeled_by[0])
        printf("    %-14s %s\n", "modeled by", m->modeled_by);
    if (gear[0])
        printf("    %-14s %s\n", "gear", gear);
    if (m->tone_type[0])
        printf("    %-14s %s\n", "tone", m->tone_type);
    if (m->has_loudness)
        printf("    %-14s %.2f dB\n", "loudness", m->loudness);
    if (m->has_input_level)
        printf("    %-14s %.2f dBu\n", "input level", m->input_level_dbu);
    if (m->has_output_level)
        printf("    %-14s %.2f dBu\n", "output level", m->output_level_dbu);
    if (m->sample_rate > 0)
        printf("    %-14s %.0f Hz\n", "trained at", m->sample_rate);
    if (wrapped)
        printf("    %-14s in_gain %g dB, skip %s, out_gain %g dB\n", "wrapping",
               (double)model->in_gain_db, model->skip ? "on (audio added to the output)" : "off",
               (double)model->out_gain_db);
}

/* Metadata and, with reference data, the self-test; returns the exit code. */
static int check_model(const char *path, const rtg_graph *g)
{
    rtg_error err = {{0}};
    rtg_model *m = NULL;
    if (rtg_model_load(path, &m, &err)) { /* loaded once already: should not happen */
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    print_model_info(m);
    int status = 0;
    if (m->n_ref > 0) {
        rtg_selftest_result r;
        if (rtg_model_selftest(m, g->plan->max_block, g->sample_rate, &r, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            status = 1;
        } else {
            printf("\n  self-test %ld frames of input_batch: max abs error %.3g at frame %ld "
                   "(tolerance %.3g = max(%g x peak %.4g, %g)): %s\n",
                   r.frames, r.max_err, r.worst_frame, r.tolerance, RTG_SELFTEST_REL_TOL, r.peak,
                   RTG_SELFTEST_ABS_FLOOR, r.pass ? "pass" : "FAIL");
            if (!r.pass) {
                fprintf(stderr,
                        "%s: self-test failed: max abs error %.3g at frame %ld exceeds the "
                        "tolerance %.3g (max(%g x the peak %.4g of output_batch, %g)): the model "
                        "does not reproduce its output_batch\n",
                        path, r.max_err, r.worst_frame, r.tolerance, RTG_SELFTEST_REL_TOL, r.peak,
                        RTG_SELFTEST_ABS_FLOOR);
                status = 1;
            }
        }
    }
    rtg_model_free(m);
    return status;
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
    int status = is_model_file(argv[optind]) ? check_model(argv[optind], g) : 0;
    rtg_graph_free(g);
    return status;
}
