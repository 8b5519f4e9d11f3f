/* rtg_bench_layers.c — one layer N -> N per cell, real-time factor at 48 kHz,
 * set against RTNeural's published layer benchmark on the same CPU kind. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rtg_bench.h"

static const char about[] =
    "Times one layer of each kind and size N -> N (Conv1D: kernel N-1), built from\n"
    "an RTNeural Keras JSON file through rtg_model_load and a plan, on random input\n"
    "in [-1, 1] at 48 kHz, and prints its real-time factor (signal seconds per\n"
    "processing second; median of the repetitions) next to RTNeural's figure for\n"
    "an AMD EPYC Zen 4 (AVX-512) and the target this project sets against it.\n"
    "One 'RTF layer size block rtf ...' line per cell is for scripts.";

/* RTNeural's layer benchmark on AMD EPYC Zen 4 (AVX-512), sizes 4..64:
 * the compile-time API (RTNeural's fastest) and the run-time API (Eigen
 * backend), where published; 0 = no figure. */
static const int ref_sizes[5] = {4, 8, 16, 32, 64};
static const double ref_compile[RTG_BENCH_LAYER_COUNT][5] = {
    [RTG_BENCH_DENSE] = {10900, 9640, 4660, 670, 298},
    [RTG_BENCH_CONV1D] = {3680, 858, 252, 21.7, 2.2},
    [RTG_BENCH_LSTM] = {365, 384, 321, 154, 16.9},
    [RTG_BENCH_GRU] = {445, 398, 292, 147, 22.1},
    [RTG_BENCH_TANH] = {8720, 8690, 6780, 3370, 1740},
    [RTG_BENCH_SIGMOID] = {7080, 7130, 7020, 3760, 1790},
};
static const double ref_runtime[RTG_BENCH_LAYER_COUNT][5] = {
    [RTG_BENCH_DENSE] = {1770, 1710, 1212, 708, 257},
    [RTG_BENCH_LSTM] = {269, 198, 235, 144, 14.5},
    [RTG_BENCH_GRU] = {254, 215, 238, 128, 21.9},
};

static double reference(const double table[][5], int layer, int n)
{
    for (int i = 0; i < 5; i++)
        if (ref_sizes[i] == n)
            return table[layer][i];
    return 0;
}

/* The RTF a cell must reach, 0 where no target applies:
 *  - block 128: 2x RTNeural's compile-time API (1.3x for LSTM and GRU, whose
 *    recurrence leaves less to batch);
 *  - block 1: at least the run-time API at every size, and at least the
 *    compile-time API from N = 16 up (below that its fully inlined code
 *    beats any call through a plan). */
static double target(int layer, int n, int block)
{
    double ct = reference(ref_compile, layer, n), rt = reference(ref_runtime, layer, n);
    if (block == 128)
        return ct * (layer == RTG_BENCH_LSTM || layer == RTG_BENCH_GRU ? 1.3 : 2.0);
    if (block == 1)
        return n >= 16 && ct > rt ? ct : rt;
    return 0;
}

typedef struct cell {
    double rtf, rtf_min, rtf_max;
    int ok; /* measured */
} cell;

static cell *cell_at(cell *cells, const rtg_bench_grid *g, int bi, int li, int si)
{
    return &cells[((size_t)bi * (size_t)g->n_layers + (size_t)li) * (size_t)g->n_sizes +
                  (size_t)si];
}

/* RTF with three significant figures' worth of digits. */
static void format_rtf(char *buf, size_t size, double v)
{
    snprintf(buf, size, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
}

/* Times one cell; returns 0 or -1 (message on stderr). */
static int measure(int layer, int n, int block, const rtg_bench_grid *g, const char *dir,
                   cell *out)
{
    rtg_error err = {{0}};
    rtg_bench_plan_run run;
    rtg_plan *plan = rtg_bench_layer_plan(layer, n, block, dir, &err);
    if (!plan || rtg_bench_plan_run_init(&run, plan, block, RTG_BENCH_RING_FRAMES,
                                         0x2545f491u + (uint32_t)n, &err) != RTG_OK) {
        fprintf(stderr, "rtg_bench_layers: %s %d block %d: %s\n", rtg_bench_layer_name(layer), n,
                block, err.msg);
        rtg_plan_free(plan);
        return -1;
    }
    if (g->no_guard)
        rtg_plan_set_guard(plan, 0);
    rtg_bench_case c = {.run = rtg_bench_run_plan, .ctx = &run};
    rtg_bench_time(&c, 1, g->run.seconds, g->run.reps);
    out->rtf = rtg_bench_rtf(block, RTG_BENCH_RATE, c.stats.median);
    out->rtf_min = rtg_bench_rtf(block, RTG_BENCH_RATE, c.stats.max);
    out->rtf_max = rtg_bench_rtf(block, RTG_BENCH_RATE, c.stats.min);
    out->ok = 1;
    rtg_bench_plan_run_free(&run);
    rtg_plan_free(plan);

    double ct = reference(ref_compile, layer, n), rt = reference(ref_runtime, layer, n);
    double want = target(layer, n, block);
    printf("RTF %s %d %d %.6g min=%.6g max=%.6g rtneural=%.6g rtneural_runtime=%.6g "
           "target=%.6g %s\n",
           rtg_bench_layer_name(layer), n, block, out->rtf, out->rtf_min, out->rtf_max, ct, rt,
           want, want <= 0 ? "none" : out->rtf >= want ? "pass" : "fail");
    fflush(stdout);
    return 0;
}

/* One table per block: rows are layers, columns sizes; each cell is
 * rtgraph's RTF, its ratio to RTNeural's compile-time API, and the verdict. */
static void print_table(const rtg_bench_grid *g, int bi, cell *cells, int *pass,
                        int *fail)
{
    const int block = g->run.blocks[bi];
    printf("\nblock %d: real-time factor at 48 kHz, median of %d x %.2g s\n", block, g->run.reps,
           g->run.seconds);
    printf("cell: rtgraph RTF, x RTNeural compile-time API, ok/FAIL against the target "
           "(blank: none)\n");
    printf("%-8s", "layer");
    for (int si = 0; si < g->n_sizes; si++)
        printf(" | %20d", g->sizes[si]);
    printf("\n");
    double worst_spread = 0;
    int worst_l = 0, worst_n = 0;
    for (int li = 0; li < g->n_layers; li++) {
        const int layer = g->layers[li];
        printf("%-8s", rtg_bench_layer_name(layer));
        for (int si = 0; si < g->n_sizes; si++) {
            const int n = g->sizes[si];
            const cell *c = cell_at(cells, g, bi, li, si);
            if (!c->ok) {
                printf(" | %20s", "error");
                continue;
            }
            char rtf[32], ratio[32] = "-";
            format_rtf(rtf, sizeof rtf, c->rtf);
            double ct = reference(ref_compile, layer, n), want = target(layer, n, block);
            if (ct > 0)
                snprintf(ratio, sizeof ratio, "%.2fx", c->rtf / ct);
            const char *verdict = "";
            if (want > 0) {
                verdict = c->rtf >= want ? "ok" : "FAIL";
                ++*(c->rtf >= want ? pass : fail);
            }
            printf(" | %8s %6s %-4s", rtf, ratio, verdict);
            double spread = (c->rtf_max - c->rtf_min) / c->rtf;
            if (spread > worst_spread) {
                worst_spread = spread;
                worst_l = layer;
                worst_n = n;
            }
        }
        printf("\n");
    }
    if (worst_spread > 0)
        printf("widest spread (max-min)/median: %.1f%% (%s %d)\n", 100 * worst_spread,
               rtg_bench_layer_name(worst_l), worst_n);
}

int main(int argc, char **argv)
{
    rtg_bench_grid g;
    int rc = rtg_bench_grid_parse(&g, argc, argv, about);
    if (rc >= 0)
        return rc;

    char dir[512];
    rtg_error err = {{0}};
    if (rtg_bench_tmpdir(dir, sizeof dir, &err) != RTG_OK) {
        fprintf(stderr, "rtg_bench_layers: %s\n", err.msg);
        return 1;
    }
    rtg_bench_print_machine(stdout);
    printf("guard:    %s\n", g.no_guard ? "off (--no-guard): kernels and plan only"
                                           : "on, as users run (--no-guard to see its cost)");
    printf("reference: RTNeural layer benchmark, AMD EPYC Zen 4 (AVX-512)\n");
    printf("targets: block 128 >= 2x compile-time API (lstm, gru 1.3x); block 1 >= run-time "
           "API, and >= compile-time API for N >= 16\n\n");
    fflush(stdout);

    const size_t n_cells = (size_t)g.run.n_blocks * (size_t)g.n_layers * (size_t)g.n_sizes;
    cell cells[RTG_BENCH_MAX_LIST * RTG_BENCH_LAYER_COUNT * RTG_BENCH_MAX_LIST];
    memset(cells, 0, sizeof cells[0] * n_cells);
    int errors = 0, pass = 0, fail = 0;
    for (int bi = 0; bi < g.run.n_blocks; bi++)
        for (int li = 0; li < g.n_layers; li++)
            for (int si = 0; si < g.n_sizes; si++) {
                if (measure(g.layers[li], g.sizes[si], g.run.blocks[bi], &g, dir,
                            cell_at(cells, &g, bi, li, si)))
                    errors++;
            }
    rmdir(dir);
    for (int bi = 0; bi < g.run.n_blocks; bi++)
        print_table(&g, bi, cells, &pass, &fail);
    printf("\ntargets met: %d of %d cells%s\n", pass, pass + fail,
           errors ? "; some cells failed to build (see stderr)" : "");
    return errors ? 1 : 0;
}
