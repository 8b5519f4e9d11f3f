/* rtg_bench.c — timing loop, plan runner and machine report (see rtg_bench.h). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "rtg_bench.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtg_cpu.h"

double rtg_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double time_blocks(const rtg_bench_case *c, long blocks)
{
    double t0 = rtg_bench_now();
    c->run(c->ctx, blocks);
    return rtg_bench_now() - t0;
}

/* Doubles the batch until one takes min_seconds / 4, then sizes a
 * repetition from the last batch's speed. */
static long calibrate(const rtg_bench_case *c, double min_seconds)
{
    long blocks = 1;
    double t = time_blocks(c, blocks);
    while (t < min_seconds / 4 && blocks < LONG_MAX / 4) {
        blocks *= 2;
        t = time_blocks(c, blocks);
    }
    double per_block = t > 0 ? t / (double)blocks : 1e-9;
    double want = min_seconds / per_block;
    if (want < 1)
        return 1;
    return want < (double)(LONG_MAX / 2) ? (long)(want + 1) : LONG_MAX / 2;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void summarise(const double *sample, int n, rtg_bench_stats *s)
{
    double v[RTG_BENCH_MAX_REPS];
    memcpy(v, sample, sizeof *v * (size_t)n);
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s->min = v[0];
    s->max = v[n - 1];
    s->median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    s->reps = n;
}

void rtg_bench_time(rtg_bench_case *cases, int n, double min_seconds, int reps)
{
    if (reps < 1)
        reps = 1;
    if (reps > RTG_BENCH_MAX_REPS)
        reps = RTG_BENCH_MAX_REPS;
    for (int i = 0; i < n; i++)
        cases[i].stats.blocks = calibrate(&cases[i], min_seconds);
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < n; i++)
            cases[i].sample[r] =
                time_blocks(&cases[i], cases[i].stats.blocks) / (double)cases[i].stats.blocks;
    for (int i = 0; i < n; i++)
        summarise(cases[i].sample, reps, &cases[i].stats);
}

int rtg_bench_time_blocks(rtg_bench_case *cases, int n, int blocks)
{
    if (n < 1 || blocks < 1)
        return 0;
    double *t = malloc(sizeof *t * (size_t)n * (size_t)blocks);
    if (!t)
        return -1;
    for (int i = 0; i < n; i++)
        cases[i].run(cases[i].ctx, 64); /* warm */
    for (int k = 0; k < blocks; k++)
        for (int j = 0; j < n; j++) {
            const int i = (j + k) % n;
            const double t0 = rtg_bench_now();
            cases[i].run(cases[i].ctx, 1);
            t[(size_t)i * (size_t)blocks + (size_t)k] = rtg_bench_now() - t0;
        }
    for (int i = 0; i < n; i++) {
        double *ti = t + (size_t)i * (size_t)blocks;
        qsort(ti, (size_t)blocks, sizeof *ti, cmp_double);
        cases[i].stats.block_p10 = ti[blocks / 10];
        cases[i].stats.block_p50 = ti[blocks / 2];
    }
    free(t);
    return 0;
}

double rtg_bench_rtf(int block, double rate, double seconds_per_block)
{
    return seconds_per_block > 0 ? (double)block / rate / seconds_per_block : 0;
}

float rtg_bench_rand(uint32_t *seed)
{
    uint32_t x = *seed;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *seed = x;
    return (float)((double)x / 2147483647.5 - 1.0);
}

int rtg_bench_plan_run_init(rtg_bench_plan_run *r, rtg_plan *plan, int block, long ring_frames,
                            uint32_t seed, rtg_error *err)
{
    memset(r, 0, sizeof *r);
    if (block < 1 || block > plan->max_block)
        return rtg_error_set(err, RTG_EINVAL, "block %d is outside the plan's 1..%d", block,
                             plan->max_block);
    long blocks = ring_frames / block > 0 ? ring_frames / block : 1;
    size_t in_ch = plan->n_inputs > 0 ? (size_t)plan->n_inputs : 1;
    size_t out_ch = plan->n_outputs > 0 ? (size_t)plan->n_outputs : 1;
    r->plan = plan;
    r->block = block;
    r->ring_frames = blocks * block;
    r->ring = malloc(sizeof(float) * (size_t)r->ring_frames * in_ch);
    r->out = malloc(sizeof(float) * (size_t)block * out_ch);
    if (!r->ring || !r->out) {
        rtg_bench_plan_run_free(r);
        return rtg_error_set(err, RTG_ENOMEM, "out of memory for %ld frames of input",
                             r->ring_frames);
    }
    for (size_t i = 0; i < (size_t)r->ring_frames * in_ch; i++)
        r->ring[i] = rtg_bench_rand(&seed);
    return RTG_OK;
}

void rtg_bench_plan_run_free(rtg_bench_plan_run *r)
{
    free(r->ring);
    free(r->out);
    r->ring = r->out = NULL;
}

void rtg_bench_run_plan(void *ctx, long blocks)
{
    rtg_bench_plan_run *r = ctx;
    const size_t in_ch = r->plan->n_inputs > 0 ? (size_t)r->plan->n_inputs : 1;
    for (long i = 0; i < blocks; i++) {
        rtg_plan_process(r->plan, r->ring + (size_t)r->pos * in_ch, r->out, r->block);
        r->pos += r->block;
        if (r->pos == r->ring_frames)
            r->pos = 0;
    }
}

int rtg_bench_tmpdir(char *dir, size_t size, rtg_error *err)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if ((size_t)snprintf(dir, size, "%s/rtg_bench.XXXXXX", base) >= size)
        return rtg_error_set(err, RTG_EINVAL, "temporary directory path too long");
    if (!mkdtemp(dir))
        return rtg_error_set(err, RTG_EIO, "%s: cannot create: %s", dir, strerror(errno));
    return RTG_OK;
}

int rtg_bench_parse_ints(const char *s, int *out, int max, int lo, int hi)
{
    int n = 0;
    while (*s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < lo || v > hi || n == max || (*end && *end != ','))
            return -1;
        out[n++] = (int)v;
        s = *end ? end + 1 : end;
    }
    return n ? n : -1;
}

int rtg_bench_set_isa(const char *name)
{
    if (strcmp(name, "portable") && strcmp(name, "avx2") && strcmp(name, "avx512"))
        return -1;
    setenv("RTG_ISA", name, 1);
    rtg_cpu_isa_refresh();
    return 0;
}

/* The "model name" line of /proc/cpuinfo, or "unknown CPU". */
static void cpu_name(char *buf, size_t size)
{
    snprintf(buf, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) || !colon)
            continue;
        colon += 1 + strspn(colon + 1, " \t");
        colon[strcspn(colon, "\n")] = 0;
        snprintf(buf, size, "%s", colon);
        break;
    }
    fclose(f);
}

void rtg_bench_print_machine(FILE *f)
{
    char name[256];
    cpu_name(name, sizeof name);
    fprintf(f, "cpu:      %s\n", name);
    fprintf(f, "isa:      %s (cap with RTG_ISA=portable|avx2|avx512)\n", rtg_isa_name(rtg_cpu_isa()));
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) == 1) {
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &set)) {
                fprintf(f, "pin:      pinned to cpu %d\n", c);
                break;
            }
    } else {
        fprintf(f, "pin:      not pinned; for steady figures run under `taskset -c 1` on an idle "
                   "machine\n");
    }
}

int rtg_bench_opts_apply(rtg_bench_opts *o, int c, const char *arg, const char *program)
{
    char *end;
    switch (c) {
    case 'b':
        o->n_blocks = rtg_bench_parse_ints(arg, o->blocks, RTG_BENCH_MAX_LIST, 1, 8192);
        if (o->n_blocks < 0) {
            fprintf(stderr, "%s: --blocks: want up to %d blocks in 1..8192, got '%s'\n", program,
                    RTG_BENCH_MAX_LIST, arg);
            return 2;
        }
        return 0;
    case 'r':
        o->reps = (int)strtol(arg, &end, 10);
        if (*end || o->reps < 1 || o->reps > RTG_BENCH_MAX_REPS) {
            fprintf(stderr, "%s: --reps must be 1..%d, got '%s'\n", program, RTG_BENCH_MAX_REPS,
                    arg);
            return 2;
        }
        return 0;
    case 's':
        o->seconds = strtod(arg, &end);
        if (*end || !(o->seconds > 0 && o->seconds <= 60)) {
            fprintf(stderr, "%s: --seconds must be in (0, 60], got '%s'\n", program, arg);
            return 2;
        }
        return 0;
    case 'i':
        if (rtg_bench_set_isa(arg)) {
            fprintf(stderr, "%s: --isa must be portable, avx2 or avx512, got '%s'\n", program,
                    arg);
            return 2;
        }
        return 0;
    default:
        return -1;
    }
}

int rtg_bench_parse_opts(rtg_bench_opts *o, int argc, char **argv, const char *program,
                         void (*help)(FILE *f))
{
    static const struct option opts[] = {
        RTG_BENCH_OPTS_LONG, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        const int rc = rtg_bench_opts_apply(o, c, optarg, program);
        if (rc >= 0) {
            if (rc)
                return rc;
            continue;
        }
        help(c == 'h' ? stdout : stderr);
        return c == 'h' ? 0 : 2;
    }
    return -1;
}
