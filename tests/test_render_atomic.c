/* test_render_atomic.c — an output file is replaced only by a complete
 * one: `rtgraph render` (and `rtgraph run --output`) write beside the
 * destination under a temporary name and rename at the end, so a render
 * that fails partway (the disk refuses a write), is interrupted, or is
 * killed outright leaves the file that was there byte for byte, and a
 * render that completes replaces it. */
#define _GNU_SOURCE
#include "rtg_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rtg_audio_file.h"
#include "rtg_rt_fixtures.h"

#define SR 48000
#define LONG_S 120.0 /* long enough that a render is still running when we meddle */

static const char *graph, *input;
static char old_path[512];
static char *old_bytes;
static size_t old_size;

static char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return b;
}

static int setup(void **st)
{
    (void)st;
    const char *model = rtg_fx_model("amp.json", RTG_FX_LSTM, 1, 8, 1, 0.8f);
    char text[1024];
    snprintf(text, sizeof text,
             "rtgraph: 1\nsample_rate: %d\nblock_size: 128\n"
             "nodes:\n"
             "  amp: {op: model, in: in, file: %s}\n"
             "outputs: [amp]\n",
             SR, model);
    graph = rtg_fx_write("atomic.yaml", text);
    long n = (long)(LONG_S * SR);
    float *x = malloc(sizeof(float) * (size_t)n);
    assert_non_null(x);
    rtg_fx_signal(x, n, SR);
    static char in_path[512];
    snprintf(in_path, sizeof in_path, "%s", rtg_fx_path("long.wav"));
    rtg_error err;
    if (rtg_audio_write_all(in_path, x, n, 1, SR, &err))
        fail_msg("%s", err.msg);
    input = in_path;
    /* The good file a failed render must not touch: a short, different one. */
    snprintf(old_path, sizeof old_path, "%s", rtg_fx_path("out.wav"));
    for (long t = 0; t < SR / 10; t++)
        x[t] = 0.25f * (float)sin(0.01 * (double)t);
    if (rtg_audio_write_all(old_path, x, SR / 10, 1, SR, &err))
        fail_msg("%s", err.msg);
    free(x);
    old_bytes = slurp(old_path, &old_size);
    assert_non_null(old_bytes);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    free(old_bytes);
    return 0;
}

/* Puts the good file back (a test that replaced it) and removes any
 * temporary file a killed process left. */
static void restore(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", rtg_fx_dir());
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".part")) {
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    closedir(d);
    FILE *f = fopen(old_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(old_bytes, 1, old_size, f), old_size);
    fclose(f);
}

/* Size of the temporary file beside out.wav, or -1 if there is none. */
static long part_size(void)
{
    DIR *d = opendir(rtg_fx_dir());
    assert_non_null(d);
    struct dirent *de;
    long size = -1;
    while ((de = readdir(d)))
        if (!strncmp(de->d_name, ".out.wav.part", 13)) {
            char p[1024];
            struct stat sb;
            snprintf(p, sizeof p, "%s/%s", rtg_fx_dir(), de->d_name);
            if (stat(p, &sb) == 0)
                size = (long)sb.st_size;
        }
    closedir(d);
    return size;
}

static void expect_old_file(const char *what)
{
    size_t n;
    char *now = slurp(old_path, &n);
    if (!now || n != old_size || memcmp(now, old_bytes, n))
        fail_msg("%s: the file that was there changed (%zu bytes, was %zu)", what, n, old_size);
    free(now);
}

typedef enum { MEDDLE_NONE, MEDDLE_SIGINT, MEDDLE_SIGKILL } meddle;

typedef struct run {
    int status; /* exit code, or -signal */
    char err[8192];
} run;

/* Runs `rtgraph ARGS...`. `fsize_limit` > 0 caps the size of files it may
 * write (RLIMIT_FSIZE, SIGXFSZ ignored: writes past it fail with EFBIG,
 * as on a full disk). With a meddle, signals it once its temporary
 * output has grown past `grown` bytes. */
static void rtgraph(run *r, const char *const *args, long fsize_limit, meddle m, long grown)
{
    char bin[1024], err_path[512];
    snprintf(bin, sizeof bin, "%s/rtgraph", RTG_BINARY_DIR);
    snprintf(err_path, sizeof err_path, "%s", rtg_fx_path("stderr.txt"));
    const char *argv[32] = {bin};
    int n = 1;
    while (args[n - 1])
        argv[n] = args[n - 1], n++;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        if (fsize_limit > 0) {
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl = {(rlim_t)fsize_limit, (rlim_t)fsize_limit};
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    if (m != MEDDLE_NONE) {
        int waited = 0;
        for (; waited < 3000 && part_size() < grown; waited++) {
            if (waitpid(pid, &status, WNOHANG) == pid)
                fail_msg("rtgraph ended before it was signalled");
            struct timespec nap = {0, 10 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
        if (waited == 3000)
            fail_msg("rtgraph's temporary output never grew past %ld bytes", grown);
        kill(pid, m == MEDDLE_SIGINT ? SIGINT : SIGKILL);
    }
    waitpid(pid, &status, 0);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    FILE *f = fopen(err_path, "r");
    size_t got = f ? fread(r->err, 1, sizeof r->err - 1, f) : 0;
    r->err[got] = 0;
    if (f)
        fclose(f);
}

static void render_failing_partway_keeps_the_old_file(void **st)
{
    (void)st;
    restore();
    run r;
    const char *args[] = {"render", graph, input, old_path, "--quiet", NULL};
    rtgraph(&r, args, 2 << 20, MEDDLE_NONE, 0); /* the output would be 23 MB */
    assert_int_equal(r.status, 1);
    if (!strstr(r.err, "write failed"))
        fail_msg("stderr does not say the write failed:\n%s", r.err);
    expect_old_file("render failing partway");
    assert_int_equal(part_size(), -1); /* and it cleaned up after itself */
}

static void render_interrupted_keeps_the_old_file(void **st)
{
    (void)st;
    restore();
    run r;
    const char *args[] = {"render", graph, input, old_path, "--quiet", NULL};
    rtgraph(&r, args, 0, MEDDLE_SIGINT, 1 << 20);
    assert_int_equal(r.status, 130);
    if (!strstr(r.err, "interrupted"))
        fail_msg("stderr does not say it was interrupted:\n%s", r.err);
    expect_old_file("render interrupted");
    assert_int_equal(part_size(), -1);
}

static void render_killed_keeps_the_old_file(void **st)
{
    (void)st;
    restore();
    run r;
    const char *args[] = {"render", graph, input, old_path, "--quiet", NULL};
    rtgraph(&r, args, 0, MEDDLE_SIGKILL, 1 << 20);
    assert_int_equal(r.status, -SIGKILL);
    expect_old_file("render killed");
    assert_true(part_size() > 0); /* what it left is under the temporary name only */
}

static void render_completing_replaces_the_file(void **st)
{
    (void)st;
    restore();
    /* A short input, so the render finishes quickly. */
    char short_in[512];
    snprintf(short_in, sizeof short_in, "%s", rtg_fx_path("short.wav"));
    float x[SR / 2];
    rtg_fx_signal(x, SR / 2, SR);
    rtg_error err;
    if (rtg_audio_write_all(short_in, x, SR / 2, 1, SR, &err))
        fail_msg("%s", err.msg);
    run r;
    const char *args[] = {"render", graph, short_in, old_path, "--quiet", NULL};
    rtgraph(&r, args, 0, MEDDLE_NONE, 0);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    float *y = NULL;
    rtg_audio_info info;
    if (rtg_audio_read_all(old_path, &y, &info, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(info.frames, SR / 2);
    double peak = 0;
    for (long t = 0; t < info.frames; t++)
        peak = fmax(peak, fabs((double)y[t]));
    assert_true(peak > 0.01);
    free(y);
    assert_int_equal(part_size(), -1);
}

/* `run --output` writes through the same temporary file. */
static void run_output_killed_keeps_the_old_file_completed_replaces(void **st)
{
    (void)st;
    restore();
    run r;
    const char *args[] = {"run", graph, "--input", input, "--output", old_path, NULL};
    rtgraph(&r, args, 0, MEDDLE_SIGKILL, 128 << 10); /* real time: 192 kB/s */
    assert_int_equal(r.status, -SIGKILL);
    expect_old_file("run --output killed");
    assert_true(part_size() > 0);

    restore();
    const char *done[] = {"run", graph, "--input", input, "--output", old_path, "--seconds", "0.5",
                          NULL};
    rtgraph(&r, done, 0, MEDDLE_NONE, 0);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    float *y = NULL;
    rtg_audio_info info;
    rtg_error err;
    if (rtg_audio_read_all(old_path, &y, &info, &err))
        fail_msg("%s", err.msg);
    assert_true(info.frames >= SR / 4 && info.frames != SR / 10);
    free(y);
    assert_int_equal(part_size(), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(render_failing_partway_keeps_the_old_file),
        cmocka_unit_test(render_interrupted_keeps_the_old_file),
        cmocka_unit_test(render_killed_keeps_the_old_file),
        cmocka_unit_test(render_completing_replaces_the_file),
        cmocka_unit_test(run_output_killed_keeps_the_old_file_completed_replaces),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
