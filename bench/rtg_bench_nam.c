/* rtg_bench_nam.c — Neural Amp Modeler models through the path users get:
 * each .nam file loaded with rtg_model_load, compiled into a plan, timed
 * with rtg_plan_process over random input, at several block sizes. */
#define _GNU_SOURCE /* CLOCK_THREAD_CPUTIME_ID */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rtg_bench.h"
#include "rtg_wavenet.h"

/* NeuralAmpModelerCore's example models, from the conformance data. */
static const char *const default_models[] = {
    "conformance/nam/wavenet_a1_standard.nam",
    "conformance/nam/lstm.nam",
};
#define N_DEFAULT (int)(sizeof default_models / sizeof default_models[0])
#define MAX_MODELS 16

/* One timed case: the plan runner, plus this thread's CPU time of each
 * call, because on a shared machine wall time also counts time the
 * process was not running. */
typedef struct nam_case {
    rtg_bench_plan_run run;
    double cpu[2 * RTG_BENCH_MAX_REPS + 64]; /* seconds per block of each call, in order */
    int calls;
} nam_case;

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run_case(void *ctx, long blocks)
{
    nam_case *c = ctx;
    const double t0 = thread_cpu();
    rtg_bench_run_plan(&c->run, blocks);
    const double t = (thread_cpu() - t0) / (double)blocks;
    if (c->calls < (int)(sizeof c->cpu / sizeof c->cpu[0]))
        c->cpu[c->calls++] = t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median CPU seconds per block over the last `reps` calls (the timed
 * repetitions; the calls before them calibrated). */
static double cpu_median(nam_case *c, int reps)
{
    if (c->calls < reps)
        return 0;
    double v[RTG_BENCH_MAX_REPS];
    memcpy(v, c->cpu + c->calls - reps, sizeof *v * (size_t)reps);
    qsort(v, (size_t)reps, sizeof *v, cmp_double);
    return reps % 2 ? v[reps / 2] : 0.5 * (v[reps / 2 - 1] + v[reps / 2]);
}

/* Blocks timed one by one per model for the p10/p50 figures. */
#define BLOCK_SAMPLES 2000

/* The kernel a plan's WaveNet step runs with, or "-". */
static const char *kernel_of(const rtg_plan *p)
{
    for (int i = 0; i < p->n_steps; i++)
        if (!strcmp(p->info[i].op, "nam_wavenet"))
            return rtg_wavenet_describe(p->steps[i].state);
    return "-";
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static rtg_plan *plan_for(const rtg_model *m, int block, rtg_error *err)
{
    rtg_plan_builder *b = rtg_plan_builder_new(block, m->in_ch, RTG_BENCH_RATE);
    if (!b) {
        rtg_error_set(err, RTG_ENOMEM, "out of memory");
        return NULL;
    }
    int y = rtg_plan_add_model(b, m, rtg_plan_input(b), "nam", err);
    if (y < 0) {
        rtg_plan_builder_free(b);
        return NULL;
    }
    int chan = 0;
    if (rtg_plan_set_outputs(b, 1, &y, &chan, err) != RTG_OK) {
        rtg_plan_builder_free(b);
        return NULL;
    }
    return rtg_plan_build(b, err);
}

static void help(FILE *f)
{
    fprintf(f,
            "usage: rtg_bench_nam [--blocks B,..] [--reps R] [--seconds S] [--isa ISA] [MODEL.nam..]\n"
            "\n"
            "Times .nam models (default: NeuralAmpModelerCore's wavenet_a1_standard.nam and\n"
            "lstm.nam from ../shared/conformance/nam) loaded with rtg_model_load and run\n"
            "as a plan on random input in [-1, 1], all cases interleaved, and prints the\n"
            "median real-time factor at 48 kHz by wall time and by this thread's CPU time\n"
            "(on a busy machine the first also counts time the process waited), then the\n"
            "10th percentile and median of %d blocks timed one by one.\n"
            "\n"
            "  --blocks B,..  frames per call, 1..8192 (default 64,128)\n"
            "  --reps R       timed repetitions, 1..%d (default 9)\n"
            "  --seconds S    wall time of each repetition (default 0.3)\n"
            "  --isa ISA      portable, avx2 or avx512 (as RTG_ISA)\n"
            "  -h, --help     this text\n",
            BLOCK_SAMPLES, RTG_BENCH_MAX_REPS);
}

int main(int argc, char **argv)
{
    rtg_bench_opts o = {.blocks = {64, 128}, .n_blocks = 2, .reps = 9, .seconds = 0.3};
    const int parsed = rtg_bench_parse_opts(&o, argc, argv, "rtg_bench_nam", help);
    if (parsed >= 0)
        return parsed;
    const int *blocks = o.blocks, n_blocks = o.n_blocks, reps = o.reps;
    const double seconds = o.seconds;

    /* The models: the command line's, else the conformance set's. */
    char paths[MAX_MODELS][4096];
    int n_models = 0;
    if (optind < argc) {
        for (int i = optind; i < argc && n_models < MAX_MODELS; i++)
            snprintf(paths[n_models++], sizeof paths[0], "%s", argv[i]);
    } else {
        const char *shared = getenv("RTG_SHARED_DIR");
        if (!shared || !*shared)
            shared = RTG_SHARED_DIR;
        for (int i = 0; i < N_DEFAULT; i++) {
            snprintf(paths[i], sizeof paths[0], "%s/%s", shared, default_models[i]);
            if (access(paths[i], R_OK)) {
                printf("rtg_bench_nam: skipped: %s not found (the NAM conformance data lives in "
                       "../shared beside the checkout, or set RTG_SHARED_DIR)\n", paths[i]);
                return 0;
            }
        }
        n_models = N_DEFAULT;
    }

    rtg_model *models[MAX_MODELS] = {0};
    rtg_error err = {{0}};
    for (int i = 0; i < n_models; i++)
        if (rtg_model_load(paths[i], &models[i], &err) != RTG_OK) {
            fprintf(stderr, "rtg_bench_nam: %s\n", err.msg);
            for (int j = 0; j < i; j++)
                rtg_model_free(models[j]);
            return 1;
        }

    rtg_bench_print_machine(stdout);
    printf("models loaded with rtg_model_load and run as plans; median of %d x %.2g s, "
           "all cases of a block size interleaved\n\n", reps, seconds);
    printf("%-26s %5s %8s %8s %7s %8s %8s  %s\n", "model", "block", "RTF", "cpu RTF", "spread",
           "p10 blk", "p50 blk", "kernel");
    int status = 0;
    for (int bi = 0; bi < n_blocks; bi++) {
        const int block = blocks[bi];
        nam_case *cases = calloc((size_t)n_models, sizeof *cases);
        rtg_bench_case *timed = calloc((size_t)n_models, sizeof *timed);
        rtg_plan *plans[MAX_MODELS] = {0};
        int ok = cases && timed;
        for (int i = 0; ok && i < n_models; i++) {
            plans[i] = plan_for(models[i], block, &err);
            ok = plans[i] && rtg_bench_plan_run_init(&cases[i].run, plans[i], block,
                                                     RTG_BENCH_RING_FRAMES, 0x2545f491u,
                                                     &err) == RTG_OK;
            if (!ok)
                fprintf(stderr, "rtg_bench_nam: %s at block %d: %s\n", paths[i], block,
                        cases && timed ? err.msg : "out of memory");
            else
                timed[i] = (rtg_bench_case){.run = run_case, .ctx = &cases[i]};
        }
        if (ok) {
            rtg_bench_time(timed, n_models, seconds, reps);
            rtg_bench_case single[MAX_MODELS];
            for (int i = 0; i < n_models; i++)
                single[i] = (rtg_bench_case){.run = rtg_bench_run_plan, .ctx = &cases[i].run};
            double p10[MAX_MODELS] = {0}, p50[MAX_MODELS] = {0};
            if (rtg_bench_time_blocks(single, n_models, BLOCK_SAMPLES)) {
                fprintf(stderr, "rtg_bench_nam: out of memory\n");
                status = 1;
            }
            for (int i = 0; i < n_models; i++) {
                p10[i] = single[i].stats.block_p10;
                p50[i] = single[i].stats.block_p50;
            }
            for (int i = 0; i < n_models; i++) {
                const rtg_bench_stats *st = &timed[i].stats;
                const double rtf = rtg_bench_rtf(block, RTG_BENCH_RATE, st->median);
                const double cpu = rtg_bench_rtf(block, RTG_BENCH_RATE, cpu_median(&cases[i], reps));
                const double spread = (st->max - st->min) / st->median;
                printf("%-26s %5d %8.4g %8.4g %6.1f%% %8.4g %8.4g  %s\n", base_name(paths[i]),
                       block, rtf, cpu, 100 * spread, rtg_bench_rtf(block, RTG_BENCH_RATE, p10[i]),
                       rtg_bench_rtf(block, RTG_BENCH_RATE, p50[i]), kernel_of(plans[i]));
            }
            for (int i = 0; i < n_models; i++)
                printf("RTF nam %s %d %.4g cpu=%.4g p10=%.4g p50=%.4g\n", base_name(paths[i]),
                       block, rtg_bench_rtf(block, RTG_BENCH_RATE, timed[i].stats.median),
                       rtg_bench_rtf(block, RTG_BENCH_RATE, cpu_median(&cases[i], reps)),
                       rtg_bench_rtf(block, RTG_BENCH_RATE, p10[i]),
                       rtg_bench_rtf(block, RTG_BENCH_RATE, p50[i]));
        } else {
            status = 1;
        }
        for (int i = 0; i < n_models; i++) {
            if (cases)
                rtg_bench_plan_run_free(&cases[i].run);
            rtg_plan_free(plans[i]);
        }
        free(cases);
        free(timed);
    }
    printf("\nreal-time factor: seconds of signal per second of wall time (cpu RTF: per second "
           "of this\nthread's CPU time); spread: (max - min) / median of the wall-time "
           "repetitions;\np10/p50 blk: the 10th percentile and median of %d blocks timed one by "
           "one\n", BLOCK_SAMPLES);
    for (int i = 0; i < n_models; i++)
        rtg_model_free(models[i]);
    return status;
}
