/* test_bench_smoke.c — the benchmarks run and print what scripts parse. Speed
 * is never asserted: only that a real-time factor comes out as a number. */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Runs `cmd`, returns the first output line starting with `prefix` in `line`
 * (fails the test if there is none or the command fails). */
static void run_for_line(const char *cmd, const char *prefix, char *line, size_t size)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int found = 0;
    char buf[1024];
    while (fgets(buf, sizeof buf, p))
        if (!found && !strncmp(buf, prefix, strlen(prefix))) {
            snprintf(line, size, "%s", buf);
            found = 1;
        }
    int status = pclose(p);
    if (status != 0)
        fail_msg("'%s' exited with status %d", cmd, status);
    if (!found)
        fail_msg("'%s' printed no line starting with '%s'", cmd, prefix);
}

static void layers_bench_prints_rtf_line(void **st)
{
    (void)st;
    char cmd[4096], line[1024], layer[32];
    snprintf(cmd, sizeof cmd,
             "%s/bench/rtg_bench_layers --layers dense --sizes 8 --blocks 16 --reps 1 "
             "--seconds 0.02",
             RTG_BINARY_DIR);
    run_for_line(cmd, "RTF ", line, sizeof line);
    int size = 0, block = 0;
    double rtf = 0;
    assert_int_equal(sscanf(line, "RTF %31s %d %d %lf", layer, &size, &block, &rtf), 4);
    assert_string_equal(layer, "dense");
    assert_int_equal(size, 8);
    assert_int_equal(block, 16);
    if (!(isfinite(rtf) && rtf > 0))
        fail_msg("real-time factor %g in '%s'", rtf, line);
}

/* `rtgraph bench` on the shipped example graph (a gain, an LSTM amp model,
 * a level): the graph path, which also covers model files. */
static void cli_bench_prints_speed(void **st)
{
    (void)st;
    char cmd[4096], line[1024];
    snprintf(cmd, sizeof cmd, "%s/rtgraph bench '%s' --block 64 --seconds 0.02 --reps 1",
             RTG_BINARY_DIR, rtg_test_source("configs/amp.yaml"));
    run_for_line(cmd, "speed:", line, sizeof line);
    double rtf = 0;
    assert_int_equal(sscanf(line, "speed: %lf x real time", &rtf), 1);
    if (!(isfinite(rtf) && rtf > 0))
        fail_msg("real-time factor %g in '%s'", rtf, line);
}

/* rtg_bench_nam on the tree's own small WaveNet (the default models live in
 * ../shared). */
static void nam_bench_prints_rtf_line(void **st)
{
    (void)st;
    char cmd[4096], line[1024], name[256];
    snprintf(cmd, sizeof cmd,
             "%s/bench/rtg_bench_nam --blocks 16 --reps 1 --seconds 0.02 '%s'", RTG_BINARY_DIR,
             rtg_test_source("tests/data/nam/tiny_wavenet.nam"));
    run_for_line(cmd, "RTF nam ", line, sizeof line);
    int block = 0;
    double rtf = 0, cpu = 0;
    assert_int_equal(sscanf(line, "RTF nam %255s %d %lf cpu=%lf", name, &block, &rtf, &cpu), 4);
    assert_string_equal(name, "tiny_wavenet.nam");
    assert_int_equal(block, 16);
    if (!(isfinite(rtf) && rtf > 0 && isfinite(cpu) && cpu > 0))
        fail_msg("real-time factors %g, %g in '%s'", rtf, cpu, line);
}

/* rtg_bench_plan prints the overhead as a number (its sign is noise). */
static void plan_bench_prints_overhead(void **st)
{
    (void)st;
    char cmd[4096], line[1024];
    snprintf(cmd, sizeof cmd, "%s/bench/rtg_bench_plan --blocks 16 --reps 1 --seconds 0.02",
             RTG_BINARY_DIR);
    run_for_line(cmd, "OVERHEAD ", line, sizeof line);
    int block = 0;
    double pct = NAN;
    assert_int_equal(sscanf(line, "OVERHEAD %d %lf", &block, &pct), 2);
    assert_int_equal(block, 16);
    if (!isfinite(pct))
        fail_msg("overhead %g in '%s'", pct, line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layers_bench_prints_rtf_line),
        cmocka_unit_test(cli_bench_prints_speed),
        cmocka_unit_test(nam_bench_prints_rtf_line),
        cmocka_unit_test(plan_bench_prints_overhead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
