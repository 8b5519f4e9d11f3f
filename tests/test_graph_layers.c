/* test_graph_layers.c — the layer ops of a graph against naive reference
 * computations in this file: dense (Keras, fused tanh) and linear (PyTorch),
 * every activation, conv1d with a graph-stated dilation, a stacked LSTM as a
 * whole and layer by layer, `model` vs the same layers as nodes, and a model
 * file loaded as a one-node graph. Weights: tests/data/graphs/w/. */
#include "rtg_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "rtg_graph.h"

#define N 300
#define TOL 2e-6

static char wdir[1024];

/* Loads the graph `yaml` from a temporary file; '@' in it stands for the
 * weights folder. */
static rtg_graph *load_text(const char *yaml)
{
    char path[] = "/tmp/rtg_test_layers_XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    for (const char *s = yaml; *s; s++)
        if (*s == '@')
            fputs(wdir, f);
        else
            fputc(*s, f);
    fclose(f);
    rtg_graph_options opt = {.max_block = 64};
    rtg_graph *g = NULL;
    rtg_error err = {{0}};
    int rc = rtg_graph_load(path, &opt, &g, &err);
    unlink(path);
    if (rc)
        fail_msg("%s", err.msg);
    return g;
}

static float *run(rtg_graph *g, const float *x)
{
    float *y = malloc(sizeof(float) * N * (size_t)g->n_outputs);
    static const int blocks[] = {1, 5, 64, 17};
    for (int t = 0, k = 0; t < N; k = (k + 1) % 4) {
        int n = blocks[k] < N - t ? blocks[k] : N - t;
        rtg_plan_process(g->plan, x + (size_t)t * g->n_inputs, y + (size_t)t * g->n_outputs, n);
        t += n;
    }
    return y;
}

static void signal(float *x, int ch)
{
    uint32_t seed = 99;
    for (int i = 0; i < N * ch; i++)
        x[i] = rtg_test_rand(&seed);
}

/* ---- weights, read with jansson the plain way ---- */

static json_t *load_json(const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", wdir, name);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        fail_msg("%s: %s", path, je.text);
    return j;
}

static double num(const json_t *a, int i)
{
    return json_number_value(json_array_get(a, (size_t)i));
}

static double num2(const json_t *a, int i, int j)
{
    return num(json_array_get(a, (size_t)i), j);
}

static double sigm(double v)
{
    return 1 / (1 + exp(-v));
}

/* ---- tests ---- */

static void keras_dense_chain_and_model(void **st)
{
    (void)st;
    rtg_graph *g = load_text("rtgraph: 1\nnodes:\n"
                             "  d0: {op: dense, in: in.0, weights: @/keras_dense.json#0}\n"
                             "  d1: {op: dense, in: d0, weights: @/keras_dense.json#1}\n"
                             "  m:  {op: model, in: in.0, file: @/keras_dense.json}\n"
                             "outputs: [d1, m, d0]\n");
    assert_int_equal(g->n_outputs, 6);
    float x[N], *y;
    signal(x, 1);
    y = run(g, x);
    json_t *j = load_json("keras_dense.json"), *layers = json_object_get(j, "layers");
    json_t *w0 = json_array_get(json_object_get(json_array_get(layers, 0), "weights"), 0);
    json_t *b0 = json_array_get(json_object_get(json_array_get(layers, 0), "weights"), 1);
    json_t *w1 = json_array_get(json_object_get(json_array_get(layers, 1), "weights"), 0);
    json_t *b1 = json_array_get(json_object_get(json_array_get(layers, 1), "weights"), 1);
    for (int t = 0; t < N; t++) {
        double h[4], out = num(b1, 0);
        for (int o = 0; o < 4; o++) { /* Keras kernels are [in][out] */
            h[o] = tanh(num2(w0, 0, o) * x[t] + num(b0, o));
            out += num2(w1, o, 0) * h[o];
            assert_float_equal(y[t * 6 + 2 + o], h[o], TOL);
        }
        assert_float_equal(y[t * 6], out, TOL);
        assert_true(y[t * 6] == y[t * 6 + 1]); /* model == the same layers as nodes */
    }
    json_decref(j);
    free(y);
    rtg_graph_free(g);
}

static void activations(void **st)
{
    (void)st;
    rtg_graph *g = load_text("rtgraph: 1\ninputs: 2\nnodes:\n"
                             "  lin: {op: dense, in: in, weights: @/linear_2_3.json}\n"
                             "  th:  {op: tanh, in: lin}\n"
                             "  re:  {op: relu, in: lin}\n"
                             "  sg:  {op: sigmoid, in: lin}\n"
                             "  sm:  {op: softmax, in: lin}\n"
                             "  el:  {op: elu, in: lin, alpha: 0.5}\n"
                             "  one: {op: tanh, in: lin.2}\n"
                             "outputs: [lin, th, re, sg, sm, el, one]\n");
    assert_int_equal(g->n_outputs, 19);
    float x[2 * N], *y;
    signal(x, 2);
    y = run(g, x);
    json_t *j = load_json("linear_2_3.json"), *w = json_object_get(j, "weight"), *b = json_object_get(j, "bias");
    for (int t = 0; t < N; t++) {
        const float *o = y + t * 19;
        double l[3], den = 0;
        for (int c = 0; c < 3; c++) { /* PyTorch weights are [out][in] */
            l[c] = num2(w, c, 0) * x[2 * t] + num2(w, c, 1) * x[2 * t + 1] + num(b, c);
            den += exp(l[c]);
        }
        for (int c = 0; c < 3; c++) {
            assert_float_equal(o[c], l[c], TOL);
            assert_float_equal(o[3 + c], tanh(l[c]), TOL);
            assert_float_equal(o[6 + c], l[c] > 0 ? l[c] : 0, TOL);
            assert_float_equal(o[9 + c], sigm(l[c]), TOL);
            assert_float_equal(o[12 + c], exp(l[c]) / den, TOL);
            assert_float_equal(o[15 + c], l[c] > 0 ? l[c] : 0.5 * (exp(l[c]) - 1), TOL);
        }
        assert_float_equal(o[18], tanh(l[2]), TOL);
    }
    json_decref(j);
    free(y);
    rtg_graph_free(g);
}

static void conv1d_dilation_from_graph(void **st)
{
    (void)st;
    rtg_graph *g = load_text("rtgraph: 1\nnodes:\n"
                             "  c: {op: conv1d, in: in.0, weights: @/conv_1_4_k3.json, dilation: 2}\n"
                             "outputs: [c]\n");
    float x[N], *y;
    signal(x, 1);
    y = run(g, x);
    json_t *j = load_json("conv_1_4_k3.json"), *w = json_object_get(j, "weight"), *b = json_object_get(j, "bias");
    for (int t = 0; t < N; t++)
        for (int o = 0; o < 4; o++) {
            double acc = num(b, o);
            for (int k = 0; k < 3; k++) { /* tap k reads frame t - (2 - k) * dilation */
                int at = t - (2 - k) * 2;
                acc += at >= 0 ? num2(json_array_get(w, (size_t)o), 0, k) * x[at] : 0;
            }
            assert_float_equal(y[t * 4 + o], acc, TOL);
        }
    json_decref(j);
    free(y);
    rtg_graph_free(g);
}

/* PyTorch LSTM, gates i, f, g, o. */
static void lstm_ref(const json_t *sd, int layer, int in_ch, const double *x, double *h, double *c)
{
    char k[64];
    const json_t *wih, *whh, *bih, *bhh;
    snprintf(k, sizeof k, "rnn.weight_ih_l%d", layer), wih = json_object_get(sd, k);
    snprintf(k, sizeof k, "rnn.weight_hh_l%d", layer), whh = json_object_get(sd, k);
    snprintf(k, sizeof k, "rnn.bias_ih_l%d", layer), bih = json_object_get(sd, k);
    snprintf(k, sizeof k, "rnn.bias_hh_l%d", layer), bhh = json_object_get(sd, k);
    const int H = 3;
    double z[12];
    for (int r = 0; r < 4 * H; r++) {
        z[r] = num(bih, r) + num(bhh, r);
        for (int i = 0; i < in_ch; i++)
            z[r] += num2(wih, r, i) * x[i];
        for (int i = 0; i < H; i++)
            z[r] += num2(whh, r, i) * h[i];
    }
    for (int u = 0; u < H; u++) {
        c[u] = sigm(z[H + u]) * c[u] + sigm(z[u]) * tanh(z[2 * H + u]);
        h[u] = sigm(z[3 * H + u]) * tanh(c[u]);
    }
}

static void lstm_stack_whole_and_by_layer(void **st)
{
    (void)st;
    rtg_graph *g = load_text("rtgraph: 1\nnodes:\n"
                             "  whole: {op: lstm, in: in.0, weights: @/lstm_stack.json#rnn.}\n"
                             "  l0: {op: lstm, in: in.0, weights: {file: @/lstm_stack.json, prefix: rnn., layer: 0}}\n"
                             "  l1: {op: lstm, in: l0, weights: {file: @/lstm_stack.json, prefix: rnn, layer: 1}}\n"
                             "  out: {op: dense, in: whole, weights: @/lstm_stack.json#out.}\n"
                             "outputs: [whole, l1, out]\n");
    assert_int_equal(g->n_outputs, 7);
    float x[N], *y;
    signal(x, 1);
    y = run(g, x);
    json_t *sd = load_json("lstm_stack.json"), *ow = json_object_get(sd, "out.weight"),
           *ob = json_object_get(sd, "out.bias");
    double h0[3] = {0}, c0[3] = {0}, h1[3] = {0}, c1[3] = {0};
    for (int t = 0; t < N; t++) {
        double xt = x[t];
        lstm_ref(sd, 0, 1, &xt, h0, c0);
        lstm_ref(sd, 1, 3, h0, h1, c1);
        double o = num(ob, 0);
        for (int u = 0; u < 3; u++) {
            assert_float_equal(y[t * 7 + u], h1[u], 1e-5);
            assert_true(y[t * 7 + u] == y[t * 7 + 3 + u]); /* same layers, same bits */
            o += num2(ow, 0, u) * h1[u];
        }
        assert_float_equal(y[t * 7 + 6], o, 1e-5);
    }
    json_decref(sd);
    free(y);
    rtg_graph_free(g);
}

static void model_file_as_graph(void **st)
{
    (void)st;
    char path[1200];
    snprintf(path, sizeof path, "%s/keras_dense.json", wdir);
    rtg_graph *m = NULL;
    rtg_error err;
    if (rtg_graph_load(path, NULL, &m, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(m->n_inputs, 1);
    assert_int_equal(m->n_outputs, 1);
    assert_int_equal(m->n_nodes, 1);
    assert_false(m->sample_rate_stated);
    rtg_graph *g = load_text("rtgraph: 1\nnodes:\n  m: {op: model, in: in.0, file: @/keras_dense.json}\n"
                             "outputs: [m]\n");
    float x[N], *ym, *yg;
    signal(x, 1);
    ym = run(m, x);
    yg = run(g, x);
    assert_memory_equal(ym, yg, sizeof(float) * N);
    free(ym);
    free(yg);
    rtg_graph_free(m);
    rtg_graph_free(g);
}

int main(void)
{
    snprintf(wdir, sizeof wdir, "%s", rtg_test_source("tests/data/graphs/w"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keras_dense_chain_and_model),
        cmocka_unit_test(activations),
        cmocka_unit_test(conv1d_dilation_from_graph),
        cmocka_unit_test(lstm_stack_whole_and_by_layer),
        cmocka_unit_test(model_file_as_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
