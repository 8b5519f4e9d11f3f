/* rtg_bench_plan.c — what the plan costs over calling the same layers by hand:
 * gain -> dense(1->8) -> tanh -> dense(8->1), as a plan compiled from a YAML
 * graph and as direct rtg_layer_run calls on preallocated buffers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtg_bench.h"
#include "rtg_graph.h"

#define N_LAYERS 3
#define GAIN_DB (-6.0)

/* dense(1->8) -> tanh -> dense(8->1), as one Keras file both paths load. */
static const rtg_bench_spec chain[N_LAYERS] = {
    {RTG_BENCH_DENSE, 1, 8},
    {RTG_BENCH_TANH, 8, 8},
    {RTG_BENCH_DENSE, 8, 1},
};

/* The graph: the gain op, then the file's three entries as layer nodes. */
static const char graph_text[] =
    "rtgraph: 1\n"
    "inputs: 1\n"
    "nodes:\n"
    "  drive:  {op: gain, in: in.0, params: {db: %g}}\n"
    "  hidden: {op: dense, in: drive, weights: chain.json#0}\n"
    "  squash: {op: tanh, in: hidden}\n"
    "  out:    {op: dense, in: squash, weights: chain.json#2}\n"
    "outputs: [out]\n";

static void remove_files(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/chain.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/graph.yaml", dir);
    unlink(path);
    rmdir(dir);
}

/* Loads the chain the graph names, for the direct path. */
static int load_chain(const char *dir, rtg_model **m, rtg_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/chain.json", dir);
    return rtg_model_load(path, m, err);
}

/* Writes chain.json and graph.yaml into `dir`; the graph's path into `graph`. */
static int write_files(const char *dir, char *graph, size_t size, rtg_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/chain.json", dir);
    if (rtg_bench_write_model(chain, N_LAYERS, 0x51ed270bu, path, err) != RTG_OK)
        return RTG_EIO;
    snprintf(graph, size, "%s/graph.yaml", dir);
    FILE *f = fopen(graph, "w");
    if (!f || fprintf(f, graph_text, GAIN_DB) < 0 || fclose(f)) {
        if (f)
            fclose(f);
        return rtg_error_set(err, RTG_EIO, "%s: cannot write", graph);
    }
    return RTG_OK;
}

/* The same chain as hand-built layers on preallocated buffers: the least
 * any engine could do to run it. */
typedef struct direct {
    rtg_layer layer[N_LAYERS];
    float *memory;       /* weights, state, scratch of every layer */
    float gain;
    float *gained, *hidden, *act, *out;
    const float *ring;
    long ring_frames, pos;
    int block;
} direct;

static float *carve(float **p, size_t floats)
{
    float *r = floats ? *p : NULL;
    *p += rtg_align_floats(floats);
    return r;
}

static int direct_build(direct *d, const rtg_model *m, int block, const float *ring,
                        long ring_frames, rtg_error *err)
{
    memset(d, 0, sizeof *d);
    if (m->n_layers != N_LAYERS)
        return rtg_error_set(err, RTG_EINVAL, "%s: %d layers, expected %d", m->path,
                             m->n_layers, N_LAYERS);
    const size_t signal = rtg_align_floats((size_t)block * (size_t)chain[0].out_ch);
    rtg_layer_mem mem[N_LAYERS];
    size_t total = 4 * signal;
    for (int i = 0; i < N_LAYERS; i++) {
        if (rtg_layer_measure(&m->layers[i], block, &mem[i], err) != RTG_OK)
            return rtg_error_prefix(err, RTG_EINVAL, "direct layer %d", i);
        total += rtg_align_floats(mem[i].weight_floats) + rtg_align_floats(mem[i].state_floats) +
                 rtg_align_floats(mem[i].scratch_floats);
    }
    d->memory = aligned_alloc(RTG_ALIGN, total * sizeof(float));
    if (!d->memory)
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    memset(d->memory, 0, total * sizeof(float));
    float *p = d->memory;
    d->gained = carve(&p, signal);
    d->hidden = carve(&p, signal);
    d->act = carve(&p, signal);
    d->out = carve(&p, signal);
    for (int i = 0; i < N_LAYERS; i++) {
        float *w = carve(&p, mem[i].weight_floats);
        float *st = carve(&p, mem[i].state_floats);
        float *sc = carve(&p, mem[i].scratch_floats);
        rtg_layer_init(&d->layer[i], &m->layers[i], block, w, st, sc);
    }
    d->gain = (float)pow(10.0, GAIN_DB / 20.0);
    d->ring = ring;
    d->ring_frames = ring_frames;
    d->block = block;
    return RTG_OK;
}

static void direct_run(void *ctx, long blocks)
{
    direct *d = ctx;
    const int n = d->block;
    for (long k = 0; k < blocks; k++) {
        const float *in = d->ring + d->pos;
        for (int t = 0; t < n; t++)
            d->gained[t] = in[t] * d->gain;
        rtg_layer_run(&d->layer[0], d->gained, d->hidden, n);
        rtg_layer_run(&d->layer[1], d->hidden, d->act, n);
        rtg_layer_run(&d->layer[2], d->act, d->out, n);
        d->pos += n;
        if (d->pos == d->ring_frames)
            d->pos = 0;
    }
}

/* Single blocks timed per path for the per-block figure: about a second of
 * signal, at least 2000. */
static int block_samples(int block)
{
    const int n = (int)(RTG_BENCH_RATE / block);
    return n < 2000 ? 2000 : n > 100000 ? 100000 : n;
}

static void help(FILE *f)
{
    fprintf(f,
            "usage: rtg_bench_plan [--blocks B,..] [--reps R] [--seconds S] [--isa ISA]\n"
            "\n"
            "Times gain -> dense(1->8) -> tanh -> dense(8->1) run as a plan\n"
            "(rtg_plan_process) and as the same layers called directly with\n"
            "rtg_layer_run on preallocated buffers, interleaved, and prints the plan's\n"
            "overhead: median plan time / median direct time - 1, over repetitions and\n"
            "over single blocks of the two alternating. Target: < 5%% at block 128.\n"
            "\n"
            "  --blocks B,..  frames per call, 1..8192 (default 1,128)\n"
            "  --reps R       timed repetitions, 1..%d (default 9)\n"
            "  --seconds S    wall time of each repetition (default 0.2)\n"
            "  --isa ISA      portable, avx2 or avx512 (as RTG_ISA)\n"
            "  -h, --help     this text\n",
            RTG_BENCH_MAX_REPS);
}

int main(int argc, char **argv)
{
    rtg_bench_opts o = {.blocks = {1, 128}, .n_blocks = 2, .reps = 9, .seconds = 0.2};
    const int parsed = rtg_bench_parse_opts(&o, argc, argv, "rtg_bench_plan", help);
    if (parsed >= 0)
        return parsed;
    const int *blocks = o.blocks, n_blocks = o.n_blocks, reps = o.reps;
    const double seconds = o.seconds;
    if (optind != argc) {
        help(stderr);
        return 2;
    }

    char dir[512], graph_path[1024];
    rtg_error err = {{0}};
    rtg_model *model = NULL;
    if (rtg_bench_tmpdir(dir, sizeof dir, &err) != RTG_OK ||
        write_files(dir, graph_path, sizeof graph_path, &err) != RTG_OK ||
        load_chain(dir, &model, &err) != RTG_OK) {
        fprintf(stderr, "rtg_bench_plan: %s\n", err.msg);
        remove_files(dir);
        return 1;
    }

    rtg_bench_print_machine(stdout);
    printf("chain: gain -> dense(1->8) -> tanh -> dense(8->1); the plan from a YAML graph, "
           "the direct path\nfrom the same weights; median of %d x %.2g s, interleaved\n\n",
           reps, seconds);
    printf("%6s %6s %12s %12s %10s %10s %10s\n", "block", "steps", "plan RTF", "direct RTF",
           "overhead", "spread", "per block");
    int status = 0;
    for (int bi = 0; bi < n_blocks; bi++) {
        const int block = blocks[bi];
        rtg_graph_options opt = {.max_block = block, .sample_rate = RTG_BENCH_RATE};
        rtg_graph *g = NULL;
        rtg_bench_plan_run run = {0};
        direct d = {0};
        if (rtg_graph_load(graph_path, &opt, &g, &err) != RTG_OK ||
            rtg_bench_plan_run_init(&run, g->plan, block, RTG_BENCH_RING_FRAMES, 0x1234567u,
                                    &err) != RTG_OK ||
            direct_build(&d, model, block, run.ring, run.ring_frames, &err) != RTG_OK) {
            fprintf(stderr, "rtg_bench_plan: block %d: %s\n", block, err.msg);
            status = 1;
        } else {
            rtg_bench_case cases[2] = {{.run = rtg_bench_run_plan, .ctx = &run},
                                       {.run = direct_run, .ctx = &d}};
            rtg_bench_time(cases, 2, seconds, reps);
            double overhead = cases[0].stats.median / cases[1].stats.median - 1;
            /* Noise floor: how far apart the repetitions of either path were. */
            double spread = 0;
            for (int i = 0; i < 2; i++) {
                double sp = (cases[i].stats.max - cases[i].stats.min) / cases[i].stats.median;
                spread = sp > spread ? sp : spread;
            }
            /* The same, block by block: single blocks of the two paths
             * alternating, their medians compared. */
            double blk = NAN;
            if (!rtg_bench_time_blocks(cases, 2, block_samples(block)))
                blk = cases[0].stats.block_p50 / cases[1].stats.block_p50 - 1;
            printf("%6d %6d %12.6g %12.6g %9.2f%% %9.1f%% %9.2f%%\n", block, g->plan->n_steps,
                   rtg_bench_rtf(block, RTG_BENCH_RATE, cases[0].stats.median),
                   rtg_bench_rtf(block, RTG_BENCH_RATE, cases[1].stats.median), 100 * overhead,
                   100 * spread, 100 * blk);
            printf("OVERHEAD %d %.4f blocks=%.4f\n", block, 100 * overhead, 100 * blk);
        }
        rtg_bench_plan_run_free(&run);
        rtg_graph_free(g);
        free(d.memory);
    }
    printf("\ntarget: overhead < 5%% at block 128 (spread: the widest (max-min)/median of the "
           "two;\nan overhead inside it is noise; per block: the overhead of the median single "
           "block,\nthe two paths alternating block by block, which a busy machine skews least)\n");
    rtg_model_free(model);
    remove_files(dir);
    return status;
}
