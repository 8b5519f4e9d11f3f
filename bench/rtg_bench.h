/* rtg_bench.h — what the benchmarks and `rtgraph bench` share: a calibrated,
 * interleaved timing loop with medians, a plan runner fed from a ring of
 * random input, the benchmark's single-layer models, and the machine report.
 *
 * Everything here is non-real-time tooling: it allocates, prints and writes
 * files. Only what the timed callbacks call (rtg_bench_run_plan, and through
 * it rtg_plan_process) is the real-time path being measured.
 *
 * Speed is measured here, never asserted: ctest runs one smoke test that
 * checks the output parses, nothing that depends on how fast the machine is.
 */
#ifndef RTG_BENCH_H
#define RTG_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The project's headers are C; the PyTorch comparison includes this from C++. */
#ifdef __cplusplus
extern "C" {
#endif

#include "rtg_error.h"
#include "rtg_model.h"
#include "rtg_plan.h"

/* The rate every benchmark's signal runs at: RTF = signal s / wall s. */
#define RTG_BENCH_RATE 48000.0

/* Frames of random input a benchmark cycles through: enough that the input
 * is not one cache line, small enough (512 KiB at 64 channels) to stay in
 * L2 so the layer, not memory, is what is timed. */
#define RTG_BENCH_RING_FRAMES 2048

/* Most repetitions a measurement takes (medians of more say nothing new). */
#define RTG_BENCH_MAX_REPS 99

/* Seconds on a monotonic clock, from an arbitrary origin. */
double rtg_bench_now(void);

/* Processes `blocks` consecutive blocks of whatever the case measures. */
typedef void (*rtg_bench_fn)(void *ctx, long blocks);

/* Seconds per block over the repetitions of one case. */
typedef struct rtg_bench_stats {
    double median, min, max;
    long blocks; /* blocks per repetition, after calibration */
    int reps;
    double block_p10, block_p50; /* single blocks (rtg_bench_time_blocks) */
} rtg_bench_stats;

typedef struct rtg_bench_case {
    rtg_bench_fn run;
    void *ctx;
    rtg_bench_stats stats;             /* filled by rtg_bench_time */
    double sample[RTG_BENCH_MAX_REPS]; /* seconds per block, in run order */
} rtg_bench_case;

/* Times `n` cases. Each is first run in doubling batches until a batch takes
 * a quarter of `min_seconds` (this warms caches, branch predictors and clock
 * frequency, and calibrates), then `reps` repetitions of at least
 * `min_seconds` each are timed, interleaved across the cases (0, 1, .., 0,
 * 1, ..) so that drift in the machine's load hits every case alike. `reps`
 * is clamped to 1..RTG_BENCH_MAX_REPS. */
void rtg_bench_time(rtg_bench_case *cases, int n, double min_seconds, int reps);

/* Times `blocks` single blocks of each of the `n` cases one by one (the
 * monotonic clock around each call), the cases alternating block by block
 * with their order rotating, and sets each case's stats.block_p10 and
 * block_p50 (seconds). On a shared machine a preemption or a busy sibling
 * hyperthread lands on single blocks, which these percentiles leave out,
 * and on all cases alike, where medians of long repetitions drift apart.
 * Returns -1 if out of memory. */
int rtg_bench_time_blocks(rtg_bench_case *cases, int n, int blocks);

/* Real-time factor of blocks of `block` frames at `rate` Hz taking
 * `seconds_per_block` each. */
double rtg_bench_rtf(int block, double rate, double seconds_per_block);

/* Uniform in [-1, 1], deterministic per seed (xorshift32; seed != 0). */
float rtg_bench_rand(uint32_t *seed);

/* A plan fed block after block from a ring of random input, as a timed case. */
typedef struct rtg_bench_plan_run {
    rtg_plan *plan;
    int block;
    float *ring;      /* ring_frames x plan->n_inputs, uniform in [-1, 1] */
    long ring_frames; /* a multiple of block */
    long pos;         /* next frame of the ring */
    float *out;       /* block x plan->n_outputs */
} rtg_bench_plan_run;

/* Allocates the ring (about `ring_frames` frames, rounded to whole blocks)
 * and output for `plan` run in blocks of `block` frames. */
int rtg_bench_plan_run_init(rtg_bench_plan_run *r, rtg_plan *plan, int block, long ring_frames,
                            uint32_t seed, rtg_error *err);
/* Frees the ring and output (not the plan). */
void rtg_bench_plan_run_free(rtg_bench_plan_run *r);
/* rtg_bench_fn over an rtg_bench_plan_run: rtg_plan_process per block. */
void rtg_bench_run_plan(void *ctx, long blocks);

/* The layers of the layer comparison (RTNeural's layer_bench set). */
typedef enum rtg_bench_layer {
    RTG_BENCH_DENSE,
    RTG_BENCH_CONV1D,
    RTG_BENCH_LSTM,
    RTG_BENCH_GRU,
    RTG_BENCH_TANH,
    RTG_BENCH_RELU,
    RTG_BENCH_SIGMOID,
    RTG_BENCH_LAYER_COUNT
} rtg_bench_layer;

const char *rtg_bench_layer_name(rtg_bench_layer l);
/* The layer called `name`, or -1. */
int rtg_bench_layer_parse(const char *name);

/* One layer of a benchmark model: `layer` from in_ch to out_ch channels
 * (activations: in_ch == out_ch; Conv1D: kernel in_ch - 1, dilation 1, as
 * RTNeural's benchmark). */
typedef struct rtg_bench_spec {
    rtg_bench_layer layer;
    int in_ch, out_ch;
} rtg_bench_spec;

/* Writes the sequential chain specs[0..n) as an RTNeural Keras-format model
 * file at `path`, weights uniform in [-1, 1] drawn from `seed`. */
int rtg_bench_write_model(const rtg_bench_spec *specs, int n, uint32_t seed, const char *path,
                          rtg_error *err);

/* Builds the plan of one `l` layer of size n through the path users get:
 * writes its model file into directory `dir`, loads it with
 * rtg_model_load, compiles it for blocks of `block` frames, and removes
 * the file. */
rtg_plan *rtg_bench_layer_plan(rtg_bench_layer l, int n, int block, const char *dir,
                               rtg_error *err);

#define RTG_BENCH_MAX_LIST 16

/* How every benchmark times: block sizes, repetitions per case and wall
 * time per repetition. The caller sets the defaults, the parsers below
 * overwrite what the command line gives. */
typedef struct rtg_bench_opts {
    int blocks[RTG_BENCH_MAX_LIST], n_blocks;
    int reps;
    double seconds;
} rtg_bench_opts;

/* The long options behind rtg_bench_opts, for a parser's option table. */
#define RTG_BENCH_OPTS_LONG                                                                        \
    {"blocks", required_argument, NULL, 'b'}, {"reps", required_argument, NULL, 'r'},              \
        {"seconds", required_argument, NULL, 's'}, {"isa", required_argument, NULL, 'i'}

/* Applies option `c` (one of RTG_BENCH_OPTS_LONG's: b, r, s, i) with its
 * argument to `o` (--isa sets $RTG_ISA). Returns 0 when applied, 2 after
 * printing a usage error that names `program`, -1 when `c` is not one of
 * them. */
int rtg_bench_opts_apply(rtg_bench_opts *o, int c, const char *arg, const char *program);

/* Parses RTG_BENCH_OPTS_LONG and --help; messages name `program`, `help`
 * prints its usage. Operands are left at argv[optind..]. Returns -1 to go
 * on, or the exit code to leave with (0 after --help, 2 on a usage
 * error). For rtg_bench_plan and rtg_bench_nam. */
int rtg_bench_parse_opts(rtg_bench_opts *o, int argc, char **argv, const char *program,
                         void (*help)(FILE *f));

/* The cells the layer benchmarks measure, from their shared options. */
typedef struct rtg_bench_grid {
    int layers[RTG_BENCH_LAYER_COUNT], n_layers;
    int sizes[RTG_BENCH_MAX_LIST], n_sizes;
    rtg_bench_opts run; /* blocks, repetitions per cell, seconds per repetition */
    int no_guard;       /* --no-guard: the plans' non-finite guard off */
} rtg_bench_grid;

/* Parses --layers, --sizes, --blocks, --reps, --seconds, --isa and --help
 * (whose text starts with `about`) into `g`, defaulting to RTNeural's grid;
 * --isa sets $RTG_ISA before anything is built. Returns -1 to go on, or the
 * exit code to leave with (0 after --help, 2 on a usage error). */
int rtg_bench_grid_parse(rtg_bench_grid *g, int argc, char **argv, const char *about);

/* Makes a fresh private temporary directory (path into `dir`). */
int rtg_bench_tmpdir(char *dir, size_t size, rtg_error *err);

/* Parses a comma-separated list of integers in lo..hi into out[0..max);
 * returns how many, or -1 when the list is malformed or too long. */
int rtg_bench_parse_ints(const char *s, int *out, int max, int lo, int hi);

/* Caps the kernels' ISA at `name` (portable, avx2, avx512) by setting
 * $RTG_ISA, before any plan is built; returns 0, or -1 for another name. */
int rtg_bench_set_isa(const char *name);

/* Prints the CPU model, the kernel ISA in use, and whether this process is
 * pinned to one CPU (with the `taskset -c 1` reminder when it is not). */
void rtg_bench_print_machine(FILE *f);

#ifdef __cplusplus
}
#endif

#endif
