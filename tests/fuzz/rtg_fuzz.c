/* rtg_fuzz.c — the fuzz targets' scratch folder, fixtures and plan runner
 * (see rtg_fuzz.h). */
#define _GNU_SOURCE
#include "rtg_fuzz.h"

#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RTG_SOURCE_DIR
#error "RTG_SOURCE_DIR must be defined (the build does)"
#endif
#ifndef RTG_SHARED_DIR
#define RTG_SHARED_DIR ""
#endif

/* Work one input may cost when its plan runs, in multiply-accumulates
 * (plus a per-step overhead): enough for every block size below on any
 * small model, while a huge plan runs a frame or two instead of stalling
 * the fuzzer. */
#define RUN_BUDGET 2.0e7

static char g_dir[512];

static void die(const char *what, const char *path)
{
    fprintf(stderr, "rtg_fuzz: %s %s\n", what, path);
    abort();
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void cleanup(void)
{
    if (g_dir[0])
        nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void copy_file(const char *src, const char *dst)
{
    FILE *in = fopen(src, "rb");
    if (!in)
        return; /* optional fixture (../shared absent) */
    FILE *out = fopen(dst, "wb");
    if (!out)
        die("cannot create", dst);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            die("cannot write", dst);
    fclose(in);
    if (fclose(out))
        die("cannot write", dst);
}

/* Copies every file of `src` whose name ends in `ext` into DIR/sub. */
static void copy_dir(const char *src, const char *ext, const char *sub)
{
    char dst[1024], from[1024];
    snprintf(dst, sizeof dst, "%s/%s", g_dir, sub);
    mkdir(dst, 0700);
    DIR *d = opendir(src);
    if (!d)
        return;
    const struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name), ne = strlen(ext);
        if (n <= ne || strcmp(e->d_name + n - ne, ext))
            continue;
        snprintf(from, sizeof from, "%s/%s", src, e->d_name);
        snprintf(dst, sizeof dst, "%s/%s/%s", g_dir, sub, e->d_name);
        copy_file(from, dst);
    }
    closedir(d);
}

const char *rtg_fuzz_setup(void)
{
    if (g_dir[0])
        return g_dir;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    mkdir(tmp, 0700); /* tools/fuzz.sh's own folder may be gone after a run */
    snprintf(g_dir, sizeof g_dir, "%s/rtg-fuzz-XXXXXX", tmp);
    if (!mkdtemp(g_dir))
        die("cannot make a folder like", g_dir);
    atexit(cleanup);
    char p[1024];
    snprintf(p, sizeof p, "%s/g", g_dir);
    mkdir(p, 0700);
    copy_dir(RTG_SOURCE_DIR "/tests/data/graphs/w", ".json", "w");
    copy_dir(RTG_SOURCE_DIR "/models", ".json", "models");
    copy_dir(RTG_SOURCE_DIR "/tests/data/nam", ".nam", "nam");
    copy_dir(RTG_SHARED_DIR "/conformance/rtneural/models/microtcn", ".json", "microtcn");
    return g_dir;
}

const char *rtg_fuzz_path(int slot, const char *rel)
{
    static char buf[4][1024];
    snprintf(buf[slot & 3], sizeof buf[0], "%s/%s", rtg_fuzz_setup(), rel);
    return buf[slot & 3];
}

void rtg_fuzz_write(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f))
        die("cannot write", path);
}

int rtg_fuzz_loaded(const char *what, int rc, const void *made, const rtg_error *err)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("RTG_FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "%s: %s\n", what, rc == RTG_OK ? "ok" : err->msg);
    if (rc == RTG_OK)
        return 1;
    if (rc > 0 || made || !err->msg[0] || strchr(err->msg, '\n'))
        abort();
    return 0;
}

/* A deterministic signal: a sine sweep with the input's bytes mixed in,
 * now and then a value far outside [-1, 1] (a host may send anything). */
static void fill(float *x, long count, const uint8_t *seed, size_t n, long *phase)
{
    static const float extremes[] = {1e30f, -1e30f, 1e-40f, -3.5f, 65504.0f, 0.0f};
    for (long i = 0; i < count; i++, (*phase)++) {
        float v = 0.8f * sinf(0.01f * (float)*phase * (1.0f + 0.001f * (float)(*phase % 997)));
        if (n)
            v += (float)((int)seed[(size_t)*phase % n] - 128) / 256.0f;
        if (*phase % 509 == 508)
            v = extremes[(*phase / 509) % (sizeof extremes / sizeof extremes[0])];
        x[i] = v;
    }
}

void rtg_fuzz_run_plan(rtg_plan *p, const rtg_graph *g, const uint8_t *seed, size_t n)
{
    const int mb = p->max_block;
    const int ni = p->n_inputs > 0 ? p->n_inputs : 1, no = p->n_outputs > 0 ? p->n_outputs : 1;
    /* per frame: the math, plus every step touching its channels (ops
     * such as a wide delay or a 256-input add report few MACs) */
    double cost = rtg_plan_macs(p) + 16.0 * p->n_steps + ni + no;
    for (int i = 0; i < p->n_steps; i++) {
        cost += p->steps[i].out_ch;
        for (int k = 0; k < p->steps[i].n_in; k++)
            cost += p->steps[i].in_ch[k];
    }
    double allowed = RUN_BUDGET / (cost > 1 ? cost : 1);
    long frames = allowed > 4.0 * mb + 64 ? 4L * mb + 64 : allowed < 1 ? 1 : (long)allowed;
    const int sizes[] = {1, mb, mb / 2 + 1, 3, mb > 7 ? 7 : mb, mb};
    float *in = malloc(sizeof(float) * (size_t)mb * (size_t)ni);
    float *out = malloc(sizeof(float) * (size_t)mb * (size_t)no);
    if (!in || !out)
        die("out of memory", "");
    long phase = 0;
    int k = 0, param = 0;
    while (frames > 0) {
        int f = sizes[k % (int)(sizeof sizes / sizeof sizes[0])];
        if (f > mb)
            f = mb;
        if (f > frames)
            f = (int)frames;
        if (f < 1)
            f = 1;
        /* Sweep params while running: min, max, then what the file set. */
        if (g && g->n_params) {
            const rtg_param_ref *r = &g->params[param % g->n_params];
            float v = (k % 3) == 0 ? r->min : (k % 3) == 1 ? r->max : r->value;
            rtg_plan_set_param(p, r->step, r->index, v);
            param += (k % 3) == 2;
        }
        fill(in, (long)f * ni, seed, n, &phase);
        rtg_plan_process(p, in, out, f);
        frames -= f;
        if (++k == 3)
            rtg_plan_reset(p);
    }
    /* The long form, over less than two blocks. */
    long len = mb + 1 < 64 ? mb + 1 : 64;
    if (allowed >= (double)len) {
        float *lin = malloc(sizeof(float) * (size_t)len * (size_t)ni);
        float *lout = malloc(sizeof(float) * (size_t)len * (size_t)no);
        if (!lin || !lout)
            die("out of memory", "");
        fill(lin, len * ni, seed, n, &phase);
        rtg_plan_process_long(p, lin, lout, len);
        free(lin);
        free(lout);
    }
    free(in);
    free(out);
}

void rtg_fuzz_run_model(const rtg_model *m, int max_block, const uint8_t *seed, size_t n)
{
    rtg_error err;
    rtg_plan_builder *b = rtg_plan_builder_new(max_block, m->in_ch, 48000);
    if (!b)
        die("out of memory", "");
    int y = rtg_plan_add_model(b, m, rtg_plan_input(b), "model", &err);
    if (y < 0) {
        rtg_plan_builder_free(b);
        return;
    }
    int *bufs = calloc((size_t)m->out_ch, sizeof *bufs), *chans = calloc((size_t)m->out_ch, sizeof *chans);
    if (!bufs || !chans)
        die("out of memory", "");
    for (int k = 0; k < m->out_ch; k++)
        bufs[k] = y, chans[k] = k;
    rtg_plan *p = NULL;
    if (rtg_plan_set_outputs(b, m->out_ch, bufs, chans, &err) == RTG_OK)
        p = rtg_plan_build(b, &err);
    else
        rtg_plan_builder_free(b);
    free(bufs);
    free(chans);
    if (p) {
        rtg_fuzz_run_plan(p, NULL, seed, n);
        rtg_plan_free(p);
    }
}
