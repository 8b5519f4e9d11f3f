/* rtg_bench_layer.c — the layer comparison's models (one layer each, written
 * as RTNeural Keras JSON and built through rtg_model_load like a user's file)
 * and the options its benchmarks share. */
#include "rtg_bench.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static const char *const layer_names[RTG_BENCH_LAYER_COUNT] = {
    [RTG_BENCH_DENSE] = "dense", [RTG_BENCH_CONV1D] = "conv1d",
    [RTG_BENCH_LSTM] = "lstm",   [RTG_BENCH_GRU] = "gru",
    [RTG_BENCH_TANH] = "tanh",   [RTG_BENCH_RELU] = "relu",
    [RTG_BENCH_SIGMOID] = "sigmoid",
};

const char *rtg_bench_layer_name(rtg_bench_layer l)
{
    return (unsigned)l < RTG_BENCH_LAYER_COUNT ? layer_names[l] : "unknown";
}

int rtg_bench_layer_parse(const char *name)
{
    for (int l = 0; l < RTG_BENCH_LAYER_COUNT; l++)
        if (!strcmp(name, layer_names[l]))
            return l;
    return -1;
}

/* A dims[0] x dims[1] x ... nested array of uniform [-1, 1] values. */
static json_t *random_tensor(const int *dims, int rank, uint32_t *seed)
{
    json_t *a = json_array();
    for (int i = 0; a && i < dims[0]; i++) {
        json_t *v = rank == 1 ? json_real(rtg_bench_rand(seed))
                              : random_tensor(dims + 1, rank - 1, seed);
        if (json_array_append_new(a, v)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Appends a random tensor of the given shape to `weights`; returns 0 or -1. */
static int add_tensor(json_t *weights, uint32_t *seed, int rank, int d0, int d1, int d2)
{
    const int dims[3] = {d0, d1, d2};
    return json_array_append_new(weights, random_tensor(dims, rank, seed));
}

/* `[null, null, n]`: RTNeural's shape of a time series of n channels. */
static json_t *shape(int n)
{
    return json_pack("[nni]", n);
}

/* One layer's Keras entry; weights in Keras' layouts (kernel in x out, conv
 * kernel time x in x out, recurrent gates side by side). */
static json_t *layer_entry(const rtg_bench_spec *sp, uint32_t *seed)
{
    static const char *const activation_of[RTG_BENCH_LAYER_COUNT] = {
        [RTG_BENCH_TANH] = "tanh", [RTG_BENCH_RELU] = "relu", [RTG_BENCH_SIGMOID] = "sigmoid",
    };
    const int in = sp->in_ch, out = sp->out_ch;
    json_t *e = json_object(), *w = json_array();
    int bad = !e || !w;
    switch (sp->layer) {
    case RTG_BENCH_DENSE:
        bad = bad || json_object_set_new(e, "type", json_string("dense")) ||
              json_object_set_new(e, "activation", json_string("")) ||
              add_tensor(w, seed, 2, in, out, 0) || add_tensor(w, seed, 1, out, 0, 0);
        break;
    case RTG_BENCH_CONV1D:
        bad = bad || json_object_set_new(e, "type", json_string("conv1d")) ||
              json_object_set_new(e, "activation", json_string("")) ||
              json_object_set_new(e, "kernel_size", json_pack("[i]", in - 1)) ||
              json_object_set_new(e, "dilation", json_pack("[i]", 1)) ||
              json_object_set_new(e, "groups", json_integer(1)) ||
              add_tensor(w, seed, 3, in - 1, in, out) || add_tensor(w, seed, 1, out, 0, 0);
        break;
    case RTG_BENCH_LSTM:
        bad = bad || json_object_set_new(e, "type", json_string("lstm")) ||
              json_object_set_new(e, "activation", json_string("tanh")) ||
              add_tensor(w, seed, 2, in, 4 * out, 0) || add_tensor(w, seed, 2, out, 4 * out, 0) ||
              add_tensor(w, seed, 1, 4 * out, 0, 0);
        break;
    case RTG_BENCH_GRU:
        bad = bad || json_object_set_new(e, "type", json_string("gru")) ||
              json_object_set_new(e, "activation", json_string("tanh")) ||
              add_tensor(w, seed, 2, in, 3 * out, 0) || add_tensor(w, seed, 2, out, 3 * out, 0) ||
              add_tensor(w, seed, 2, 2, 3 * out, 0);
        break;
    default:
        bad = bad || in != out || json_object_set_new(e, "type", json_string("activation")) ||
              json_object_set_new(e, "activation", json_string(activation_of[sp->layer]));
        break;
    }
    bad = bad || json_object_set_new(e, "shape", shape(out)) || json_object_set(e, "weights", w);
    json_decref(w);
    if (bad) {
        json_decref(e);
        return NULL;
    }
    return e;
}

int rtg_bench_write_model(const rtg_bench_spec *specs, int n, uint32_t seed, const char *path,
                          rtg_error *err)
{
    for (int i = 0; i < n; i++)
        if ((unsigned)specs[i].layer >= RTG_BENCH_LAYER_COUNT || specs[i].in_ch < 1 ||
            specs[i].out_ch < 1 || (specs[i].layer == RTG_BENCH_CONV1D && specs[i].in_ch < 2) ||
            (i > 0 && specs[i].in_ch != specs[i - 1].out_ch))
            return rtg_error_set(err, RTG_EINVAL, "%s: layer %d: no such benchmark layer", path,
                                 i);
    json_t *model = json_object();
    json_t *layers = json_array();
    int bad = n < 1 || !model || !layers ||
              json_object_set_new(model, "in_shape", shape(specs[0].in_ch));
    for (int i = 0; i < n && !bad; i++)
        bad = json_array_append_new(layers, layer_entry(&specs[i], &seed));
    bad = bad || json_object_set(model, "layers", layers);
    json_decref(layers);
    if (bad) {
        json_decref(model);
        return rtg_error_set(err, RTG_ENOMEM, "%s: out of memory building the model", path);
    }
    int rc = json_dump_file(model, path, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(model);
    if (rc)
        return rtg_error_set(err, RTG_EIO, "%s: cannot write the model", path);
    return RTG_OK;
}

/* A plan running `m` as one chain from the plan input, every model output
 * channel a plan output. */
static rtg_plan *model_plan(const rtg_model *m, int max_block, rtg_error *err)
{
    rtg_plan_builder *b = rtg_plan_builder_new(max_block, m->in_ch, RTG_BENCH_RATE);
    int *bufs = calloc((size_t)m->out_ch, sizeof *bufs);
    int *chan = calloc((size_t)m->out_ch, sizeof *chan);
    rtg_plan *plan = NULL;
    if (!b || !bufs || !chan) {
        rtg_error_set(err, RTG_ENOMEM, "out of memory");
        rtg_plan_builder_free(b);
        goto out;
    }
    int y = rtg_plan_add_model(b, m, rtg_plan_input(b), "model", err);
    if (y < 0) {
        rtg_plan_builder_free(b);
        goto out;
    }
    for (int k = 0; k < m->out_ch; k++) {
        bufs[k] = y;
        chan[k] = k;
    }
    if (rtg_plan_set_outputs(b, m->out_ch, bufs, chan, err) != RTG_OK) {
        rtg_plan_builder_free(b);
        goto out;
    }
    plan = rtg_plan_build(b, err);
out:
    free(bufs);
    free(chan);
    return plan;
}

rtg_plan *rtg_bench_layer_plan(rtg_bench_layer l, int n, int block, const char *dir,
                               rtg_error *err)
{
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s_%d.json", dir, rtg_bench_layer_name(l), n) >=
        sizeof path) {
        rtg_error_set(err, RTG_EINVAL, "%s: directory path too long", dir);
        return NULL;
    }
    /* One seed per layer and size: every run benchmarks the same weights. */
    uint32_t seed = 0x9e3779b9u ^ ((uint32_t)l << 16) ^ (uint32_t)n;
    const rtg_bench_spec spec = {l, n, n};
    if (rtg_bench_write_model(&spec, 1, seed, path, err) != RTG_OK)
        return NULL;
    rtg_model *m = NULL;
    rtg_plan *plan = NULL;
    if (rtg_model_load(path, &m, err) == RTG_OK)
        plan = model_plan(m, block, err);
    rtg_model_free(m);
    unlink(path);
    return plan;
}

static void grid_help(FILE *f, const char *program, const char *about)
{
    fprintf(f,
            "usage: %s [--layers L,..] [--sizes N,..] [--blocks B,..] [--reps R]\n"
            "          [--seconds S] [--isa ISA] [--no-guard]\n"
            "\n"
            "%s\n"
            "\n"
            "  --layers L,..  of dense, conv1d, lstm, gru, tanh, relu, sigmoid (default all)\n"
            "  --sizes N,..   layer sizes N -> N, 2..1024 (default 4,8,16,32,64)\n"
            "  --blocks B,..  frames per process call, 1..8192 (default 1,128)\n"
            "  --reps R       timed repetitions per cell, 1..%d; the median is reported\n"
            "                 (default 5)\n"
            "  --seconds S    wall time of each repetition (default 0.2)\n"
            "  --isa ISA      portable, avx2 or avx512: caps the kernels' ISA (as RTG_ISA)\n"
            "  --no-guard     turn the plan's non-finite guard off (it is on for users):\n"
            "                 the kernels and the plan alone, to see what the guard costs\n"
            "  -h, --help     this text\n"
            "\n"
            "Pin the process for steady figures: taskset -c 1 %s\n",
            program, about, RTG_BENCH_MAX_REPS, program);
}

int rtg_bench_grid_parse(rtg_bench_grid *g, int argc, char **argv, const char *about)
{
    static const struct option opts[] = {
        {"layers", required_argument, NULL, 'l'}, {"sizes", required_argument, NULL, 'n'},
        RTG_BENCH_OPTS_LONG, {"no-guard", no_argument, NULL, 'g'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const int default_sizes[] = {4, 8, 16, 32, 64};
    const char *program = argv[0];
    const char *slash = strrchr(program, '/');
    if (slash)
        program = slash + 1;

    memset(g, 0, sizeof *g);
    for (int l = 0; l < RTG_BENCH_LAYER_COUNT; l++)
        g->layers[g->n_layers++] = l;
    for (int i = 0; i < 5; i++)
        g->sizes[g->n_sizes++] = default_sizes[i];
    g->run = (rtg_bench_opts){.blocks = {1, 128}, .n_blocks = 2, .reps = 5, .seconds = 0.2};

    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': {
            char list[256];
            snprintf(list, sizeof list, "%s", optarg);
            g->n_layers = 0;
            for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
                int l = rtg_bench_layer_parse(tok);
                if (l < 0 || g->n_layers == RTG_BENCH_LAYER_COUNT) {
                    fprintf(stderr, "%s: --layers: unknown layer '%s'\n", program, tok);
                    return 2;
                }
                g->layers[g->n_layers++] = l;
            }
            if (!g->n_layers) {
                fprintf(stderr, "%s: --layers: empty list\n", program);
                return 2;
            }
            break;
        }
        case 'n':
            g->n_sizes = rtg_bench_parse_ints(optarg, g->sizes, RTG_BENCH_MAX_LIST, 2, 1024);
            if (g->n_sizes < 0) {
                fprintf(stderr, "%s: --sizes: want up to %d sizes in 2..1024, got '%s'\n",
                        program, RTG_BENCH_MAX_LIST, optarg);
                return 2;
            }
            break;
        case 'g':
            g->no_guard = 1;
            break;
        case 'h':
            grid_help(stdout, program, about);
            return 0;
        default: {
            const int rc = rtg_bench_opts_apply(&g->run, c, optarg, program);
            if (rc < 0) /* not an option of ours */
                grid_help(stderr, program, about);
            if (rc)
                return 2;
            break;
        }
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", program, argv[optind]);
        return 2;
    }
    return -1;
}
