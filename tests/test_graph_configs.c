/* test_graph_configs.c — every shipped config (the .yaml files in configs/) loads and
 * renders bit-identically for blocks of 1, 7, 64, 128 and 512 frames, with
 * a param change landing mid-block, through the API and once through
 * `rtgraph render`; plus the render command's contract: mono feeding every
 * input, format and rate checks, automation files, and no partial output. */
#include "rtg_test.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rtg_audio_file.h"
#include "rtg_automation.h"
#include "rtg_graph.h"

#define FRAMES 6000
static const int blocks[] = {1, 7, 64, 128, 512};
#define N_BLOCKS (int)(sizeof blocks / sizeof blocks[0])

static char tmpdir[256];

static void make_signal(float *x, long frames, int ch)
{
    uint32_t seed = 11;
    for (long t = 0; t < frames; t++)
        for (int c = 0; c < ch; c++)
            x[t * ch + c] = 0.5f * sinf(0.01f * (float)t * (float)(c + 1)) + 0.1f * rtg_test_rand(&seed);
}

/* Renders with one param set to the middle of its range at frame 1001. */
static float *render_api(const char *path, int block, int *n_out)
{
    rtg_graph_options opt = {.max_block = block};
    rtg_graph *g = NULL;
    rtg_error err = {{0}};
    if (rtg_graph_load(path, &opt, &g, &err))
        fail_msg("%s", err.msg);
    float *x = malloc(sizeof(float) * FRAMES * (size_t)g->n_inputs);
    float *y = malloc(sizeof(float) * FRAMES * (size_t)g->n_outputs);
    make_signal(x, FRAMES, g->n_inputs);
    rtg_automation_event ev;
    rtg_automation a = {0};
    if (g->n_params) {
        const rtg_param_ref *p = &g->params[g->n_params - 1];
        ev = (rtg_automation_event){1001, p->step, p->index, 0.5f * (p->min + p->max)};
        a = (rtg_automation){&ev, 1, 0};
    }
    rtg_automation_process(g->plan, &a, 0, x, y, FRAMES, block);
    for (long i = 0; i < FRAMES * (long)g->n_outputs; i++)
        if (!isfinite(y[i]))
            fail_msg("%s: output %ld is not finite", path, i);
    *n_out = g->n_outputs;
    free(x);
    rtg_graph_free(g);
    return y;
}

static int is_config(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 5 && !strcmp(e->d_name + n - 5, ".yaml");
}

static void every_config_is_block_invariant(void **st)
{
    (void)st;
    struct dirent **list;
    int n = scandir(rtg_test_source("configs"), &list, is_config, alphasort);
    assert_true(n >= 4);
    int tested = 0;
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", rtg_test_source("configs"), list[i]->d_name);
        if (!strcmp(list[i]->d_name, "microtcn.yaml") && !rtg_test_shared("conformance")) {
            printf("%s: skipped (../shared absent)\n", list[i]->d_name);
            free(list[i]);
            continue;
        }
        int no = 0, no_b = 0;
        float *ref = render_api(path, blocks[0], &no);
        for (int b = 1; b < N_BLOCKS; b++) {
            float *y = render_api(path, blocks[b], &no_b);
            assert_int_equal(no, no_b);
            if (memcmp(ref, y, sizeof(float) * FRAMES * (size_t)no))
                fail_msg("%s: block %d differs from block 1", list[i]->d_name, blocks[b]);
            free(y);
        }
        free(ref);
        printf("%s: identical for blocks 1, 7, 64, 128, 512\n", list[i]->d_name);
        tested++;
        free(list[i]);
    }
    free(list);
    assert_true(tested >= 3);
}

/* ---- the CLI ---- */

static int run(const char *args, char *out, size_t size)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/rtgraph' %s 2>&1", tmpdir, RTG_BINARY_DIR, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_wav(const char *name, int ch, int rate, long frames)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    float *x = malloc(sizeof(float) * (size_t)frames * (size_t)ch);
    make_signal(x, frames, ch);
    rtg_error err;
    if (rtg_audio_write_all(path, x, frames, ch, rate, &err))
        fail_msg("%s", err.msg);
    free(x);
}

static float *read_wav(const char *name, rtg_audio_info *info)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    float *y;
    rtg_error err;
    if (rtg_audio_read_all(path, &y, info, &err))
        fail_msg("%s", err.msg);
    return y;
}

/* Nothing but the files the test made: no temporary leftovers. */
static int count_files(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' || strstr(e->d_name, ".part"))
            n++;
    closedir(d);
    return n;
}

static void cli_render_is_block_invariant(void **st)
{
    (void)st;
    const char *config = rtg_test_shared("conformance") ? "microtcn.yaml" : "amp.yaml";
    char out[4096], args[2048];
    write_wav("in.wav", 1, 48000, FRAMES);
    float *ref = NULL;
    rtg_audio_info info0 = {0};
    for (int b = 0; b < N_BLOCKS; b++) {
        snprintf(args, sizeof args, "render '%s/%s' in.wav out%d.wav --block %d",
                 rtg_test_source("configs"), config, blocks[b], blocks[b]);
        if (run(args, out, sizeof out))
            fail_msg("rtgraph %s: %s", args, out);
        char name[32];
        snprintf(name, sizeof name, "out%d.wav", blocks[b]);
        rtg_audio_info info;
        float *y = read_wav(name, &info);
        assert_int_equal(info.frames, FRAMES);
        assert_int_equal(info.sample_rate, 48000);
        if (!ref) {
            ref = y;
            info0 = info;
            continue;
        }
        assert_int_equal(info.channels, info0.channels);
        if (memcmp(ref, y, sizeof(float) * FRAMES * (size_t)info.channels))
            fail_msg("render --block %d differs from --block 1", blocks[b]);
        free(y);
    }
    free(ref);
}

static const char *dsp_graph =
    "rtgraph: 1\nsample_rate: 48000\ninputs: 2\nsmooth_ms: 0\n"
    "nodes:\n"
    "  a: {op: gain, in: in.0, params: {db: 0}}\n"
    "  b: {op: gain, in: in.1, params: {db: -6.0206}}\n"
    "outputs: [a, b]\n";

static void cli_render_contract(void **st)
{
    (void)st;
    char out[4096];
    write_file("g.yaml", dsp_graph);
    write_wav("mono.wav", 1, 48000, 4800);
    write_wav("stereo44.wav", 2, 44100, 100);
    write_wav("three.wav", 3, 48000, 100);
    write_file("auto.txt", "# halve a at 0.05 s\n0.05 a.db -6.0206\n");
    write_file("bad_auto.txt", "0.01 a.db 0\n0.02 c.db 1\n");
    int before = count_files();

    /* mono feeds both inputs; automation lands on frame 2400; FLAC by extension */
    assert_int_equal(run("render g.yaml mono.wav o.wav --automation auto.txt --block 100", out, sizeof out), 0);
    rtg_audio_info ii, oi;
    float *x = read_wav("mono.wav", &ii), *y = read_wav("o.wav", &oi);
    assert_int_equal(oi.channels, 2);
    assert_int_equal(oi.frames, 4800);
    for (long t = 0; t < 4800; t++) {
        assert_float_equal(y[2 * t], t < 2400 ? x[t] : 0.5f * x[t], 1e-6);
        assert_float_equal(y[2 * t + 1], 0.5f * x[t], 1e-6);
    }
    free(x);
    free(y);
    assert_int_equal(run("render g.yaml mono.wav o.flac", out, sizeof out), 0);
    y = read_wav("o.flac", &oi);
    assert_int_equal(oi.frames, 4800);
    free(y);

    /* errors: one line, non-zero, and no output file nor temporary left */
    assert_int_equal(run("render g.yaml stereo44.wav e1.wav", out, sizeof out), 1);
    assert_non_null(strstr(out, "44100 Hz but g.yaml runs at 48000 Hz"));
    assert_int_equal(run("render g.yaml three.wav e2.wav", out, sizeof out), 1);
    assert_non_null(strstr(out, "three.wav has 3 channels but g.yaml takes 2"));
    assert_int_equal(run("render g.yaml mono.wav e3.wav --automation bad_auto.txt", out, sizeof out), 1);
    assert_non_null(strstr(out, "bad_auto.txt:2:6: unknown param 'c.db'"));
    assert_int_equal(run("render g.yaml mono.wav e4.xyz", out, sizeof out), 1);
    assert_non_null(strstr(out, "unknown audio format '.xyz'"));
    assert_int_equal(run("render g.yaml nothing.wav e5.wav", out, sizeof out), 1);
    assert_int_equal(count_files(), before + 2); /* o.wav and o.flac only */

    /* a model file where a graph is expected: one input, its outputs */
    char args[2048];
    snprintf(args, sizeof args, "render '%s' mono.wav m.wav --block 33",
             rtg_test_source("tests/data/graphs/w/keras_dense.json"));
    if (run(args, out, sizeof out))
        fail_msg("rtgraph %s: %s", args, out);
    y = read_wav("m.wav", &oi);
    assert_int_equal(oi.channels, 1);
    assert_int_equal(oi.frames, 4800);
    free(y);
    snprintf(args, sizeof args, "check '%s'", rtg_test_source("tests/data/graphs/w/keras_dense.json"));
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "model/1"));

    assert_int_equal(run("render --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "--automation FILE"));
    assert_int_equal(run("check --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "usage: rtgraph check"));
    assert_int_equal(run("check g.yaml", out, sizeof out), 0);
    assert_non_null(strstr(out, "a.db"));
    assert_non_null(strstr(out, "MACs per frame"));
}

static int make_tmpdir(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rtg_test_configs_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **st)
{
    (void)st;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_config_is_block_invariant),
        cmocka_unit_test(cli_render_is_block_invariant),
        cmocka_unit_test(cli_render_contract),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
