/* rtg_model_torch.c — PyTorch state dicts saved as JSON ({"prefix.weight":
 * [[...]], ...}) to layer descriptions, the way RTNeural's torch helpers
 * read them. Tensors are grouped by prefix (the key up to its last '.') in
 * file order, and each group's layer type follows from its tensor names and
 * shapes. The file does not say a conv's dilation, groups or stride: those
 * load as 1 and a caller that knows better sets them on the desc (in_ch is
 * then groups x the weight's dim 1). Nor does it say ConvTranspose1d: that
 * is recognised by its bias, whose length is the weight's dim 1 rather than
 * dim 0; without a bias, or with as many inputs as outputs, a rank-3 weight
 * is read as a Conv1d. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_kernel_modules.h"
#include "rtg_model_internal.h"

typedef struct entry {
    const char *key;
    size_t plen;      /* length of the prefix, the trailing '.' included */
    const json_t *v;
    int group;
} entry;

typedef struct state_dict {
    entry *e;
    int n;
    int n_groups;
    int *group_first; /* the first entry of each group */
} state_dict;

/* One group being read: which, and what the message context calls it. */
typedef struct group {
    const state_dict *sd;
    int g;
    const char *prefix; /* points into a key; plen characters */
    size_t plen;
} group;

static const json_t *find(const group *gr, const char *name)
{
    for (int i = gr->sd->group_first[gr->g]; i < gr->sd->n; i++) {
        const entry *e = &gr->sd->e[i];
        if (e->group == gr->g && !strcmp(e->key + e->plen, name))
            return e->v;
    }
    return NULL;
}

static void label(rtg_model_build *mb, const group *gr, const char *type)
{
    if (gr->plen)
        rtg_model_build_at(mb, mb->n_layers, "%s%s%.*s", type, *type ? " " : "", (int)gr->plen,
                           gr->prefix);
    else
        rtg_model_build_at(mb, mb->n_layers, "%s", *type ? type : "unprefixed tensors");
}

/* Fails on a tensor of the group that `allowed` does not accept. */
static int only(rtg_model_build *mb, const group *gr, int (*allowed)(const char *name, int n),
                int n, const char *what)
{
    for (int i = gr->sd->group_first[gr->g]; i < gr->sd->n; i++) {
        const entry *e = &gr->sd->e[i];
        if (e->group == gr->g && !allowed(e->key + e->plen, n))
            return rtg_model_fail(mb, RTG_ENOTSUP, "unexpected tensor \"%s\" for %s", e->key,
                                  what);
    }
    return RTG_OK;
}

/* Reads tensor `name` of the group (NULL `t->json` if absent and optional). */
static int tensor(rtg_model_build *mb, const group *gr, const char *name, int required,
                  rtg_tensor *t)
{
    const json_t *v = find(gr, name);
    memset(t, 0, sizeof *t);
    if (!v && !required)
        return RTG_OK;
    char full[256];
    snprintf(full, sizeof full, "%.*s%s", (int)gr->plen, gr->prefix, name);
    if (!v)
        return rtg_model_fail(mb, RTG_EINVAL, "missing tensor \"%s\"", full);
    return rtg_tensor_read(mb, v, full, t);
}

static int expect(rtg_model_build *mb, const group *gr, const char *name, const rtg_tensor *t,
                  int rank, int d0, int d1, int d2)
{
    char full[256];
    snprintf(full, sizeof full, "%.*s%s", (int)gr->plen, gr->prefix, name);
    return rtg_tensor_expect(mb, t, full, rank, d0, d1, d2, -1);
}

/* The first layer read (prev_out < 0) takes whatever its weights say. */
static int chain(rtg_model_build *mb, int takes, const int *prev_out)
{
    return *prev_out >= 0 ? rtg_model_check_chain(mb, takes, *prev_out) : RTG_OK;
}

/* ---- recurrent ---------------------------------------------------------- */

static int rnn_name(const char *name, int n)
{
    static const char *const stems[] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"};
    for (size_t s = 0; s < sizeof stems / sizeof stems[0]; s++) {
        size_t len = strlen(stems[s]);
        if (strncmp(name, stems[s], len))
            continue;
        char *end;
        long k = strtol(name + len, &end, 10);
        if (end != name + len && !*end && k >= 0 && k < n)
            return 1;
    }
    return 0;
}

/* LSTM / GRU: weight_ih_lK [gH][in], weight_hh_lK [gH][H], bias_ih_lK and
 * bias_hh_lK [gH], g = 4 (LSTM, gates i f g o) or 3 (GRU, gates r z n). */
static int read_rnn(rtg_model_build *mb, const group *gr, int layer_index, int *prev_out)
{
    char name[4][32];
    int n = 0;
    for (;; n++) {
        snprintf(name[0], sizeof name[0], "weight_ih_l%d", n);
        if (!find(gr, name[0]))
            break;
    }
    label(mb, gr, "rnn");
    int rc = only(mb, gr, rnn_name, n, "a stacked LSTM/GRU (bidirectional and projected RNNs "
                                       "are not supported)");
    if (rc)
        return rc;
    if (layer_index >= n)
        return rtg_model_fail(mb, RTG_EINVAL, "has %d stacked layers, so there is no layer %d",
                              n, layer_index);
    int gates = 0;
    for (int k = layer_index < 0 ? 0 : layer_index; k < (layer_index < 0 ? n : layer_index + 1);
         k++) {
        rtg_tensor Wi, Wh, Bi, Bh;
        snprintf(name[0], sizeof name[0], "weight_ih_l%d", k);
        snprintf(name[1], sizeof name[1], "weight_hh_l%d", k);
        snprintf(name[2], sizeof name[2], "bias_ih_l%d", k);
        snprintf(name[3], sizeof name[3], "bias_hh_l%d", k);
        if ((rc = tensor(mb, gr, name[1], 1, &Wh)) ||
            (rc = expect(mb, gr, name[1], &Wh, 2, -1, -1, -1)))
            return rc;
        const int H = Wh.dim[1];
        const int g = Wh.dim[0] % H ? 0 : Wh.dim[0] / H;
        if (g != 3 && g != 4)
            return rtg_model_fail(mb, RTG_EINVAL,
                                  "%.*s%s is [%d][%d]: rows are neither 4x (LSTM) nor 3x (GRU) "
                                  "the hidden size", (int)gr->plen, gr->prefix, name[1],
                                  Wh.dim[0], H);
        if (gates && g != gates)
            return rtg_model_fail(mb, RTG_EINVAL, "stacked layer %d is not the same kind as "
                                                  "layer 0", k);
        gates = g;
        char type[32];
        snprintf(type, sizeof type, "%s l%d", g == 4 ? "lstm" : "gru", k);
        label(mb, gr, type);
        const int G = g * H;
        if ((rc = rtg_model_check_size(mb, "hidden size", H, RTG_MAX_CHANNELS / g)) ||
            (rc = tensor(mb, gr, name[0], 1, &Wi)) ||
            (rc = expect(mb, gr, name[0], &Wi, 2, G, -1, -1)) ||
            (rc = tensor(mb, gr, name[2], 0, &Bi)) || (rc = tensor(mb, gr, name[3], 0, &Bh)))
            return rc;
        if (!Bi.json != !Bh.json)
            return rtg_model_fail(mb, RTG_EINVAL, "has only one of %s and %s", name[2], name[3]);
        if (Bi.json && ((rc = expect(mb, gr, name[2], &Bi, 1, G, -1, -1)) ||
                        (rc = expect(mb, gr, name[3], &Bh, 1, G, -1, -1))))
            return rc;
        const int in = Wi.dim[1];
        if ((rc = rtg_model_check_size(mb, "input channels", in, RTG_MAX_CHANNELS)) ||
            (rc = chain(mb, in, prev_out)))
            return rc;
        rtg_layer_desc *d = rtg_model_add_layer(mb);
        float *w = d ? rtg_model_floats(mb, (size_t)G * in + (size_t)G * H + 2 * (size_t)G)
                     : NULL;
        if (!w)
            return RTG_ENOMEM;
        float *u = w + (size_t)G * in, *b = u + (size_t)G * H, *b2 = b + G;
        rtg_tensor_copy(&Wi, w);
        rtg_tensor_copy(&Wh, u);
        if (Bi.json) {
            rtg_tensor_copy(&Bi, b);
            rtg_tensor_copy(&Bh, b2);
        }
        d->type = g == 4 ? RTG_LAYER_LSTM : RTG_LAYER_GRU;
        d->in_ch = in;
        d->out_ch = H;
        d->w = w;
        d->u = u;
        d->b = b;
        if (g == 4) /* one bias: the two PyTorch biases always add */
            for (int i = 0; i < G; i++)
                b[i] += b2[i];
        else
            d->b2 = b2;
        *prev_out = H;
    }
    return RTG_OK;
}

/* ---- the rest ------------------------------------------------------------ */

static int weight_bias_name(const char *name, int n)
{
    (void)n;
    return !strcmp(name, "weight") || !strcmp(name, "bias");
}

static int batchnorm_name(const char *name, int n)
{
    return weight_bias_name(name, n) || !strcmp(name, "running_mean") ||
           !strcmp(name, "running_var") || !strcmp(name, "num_batches_tracked") ||
           !strcmp(name, "eps");
}

/* BatchNorm1d: running_mean, running_var [C], weight/bias [C] when affine,
 * optional scalar eps (PyTorch's default 1e-5 otherwise). */
static int read_batchnorm(rtg_model_build *mb, const group *gr, int *prev_out)
{
    rtg_tensor mean, var, gamma, beta;
    label(mb, gr, "batchnorm");
    int rc;
    if ((rc = only(mb, gr, batchnorm_name, 0, "a BatchNorm1d")) ||
        (rc = tensor(mb, gr, "running_mean", 1, &mean)) ||
        (rc = expect(mb, gr, "running_mean", &mean, 1, -1, -1, -1)))
        return rc;
    const int C = mean.dim[0];
    if ((rc = rtg_model_check_size(mb, "channels", C, RTG_MAX_CHANNELS)) ||
        (rc = tensor(mb, gr, "running_var", 1, &var)) ||
        (rc = expect(mb, gr, "running_var", &var, 1, C, -1, -1)) ||
        (rc = tensor(mb, gr, "weight", 0, &gamma)) || (rc = tensor(mb, gr, "bias", 0, &beta)))
        return rc;
    if (!gamma.json != !beta.json)
        return rtg_model_fail(mb, RTG_EINVAL, "has only one of weight and bias");
    if (gamma.json && ((rc = expect(mb, gr, "weight", &gamma, 1, C, -1, -1)) ||
                       (rc = expect(mb, gr, "bias", &beta, 1, C, -1, -1))))
        return rc;
    float eps = 1e-5f;
    const json_t *e = find(gr, "eps");
    if (e) {
        if (!json_is_number(e) || !(json_number_value(e) >= 0) || !(json_number_value(e) <= 1e30))
            return rtg_model_fail(mb, RTG_EINVAL, "eps must be a non-negative number");
        eps = (float)json_number_value(e);
    }
    if ((rc = chain(mb, C, prev_out)))
        return rc;
    rtg_layer_desc *d = rtg_model_add_layer(mb);
    float *v = d ? rtg_model_floats(mb, 4 * (size_t)C) : NULL;
    if (!v)
        return RTG_ENOMEM;
    rtg_tensor_copy(&mean, v);
    rtg_tensor_copy(&var, v + C);
    d->type = RTG_LAYER_BATCHNORM;
    d->in_ch = d->out_ch = C;
    d->mean = v;
    d->var = v + C;
    d->eps = eps;
    if (gamma.json) {
        rtg_tensor_copy(&gamma, v + 2 * C);
        rtg_tensor_copy(&beta, v + 3 * C);
        d->gamma = v + 2 * C;
        d->beta = v + 3 * C;
    }
    *prev_out = C;
    return RTG_OK;
}

/* Linear weight [out][in]; Conv1d weight [out][in][k]; ConvTranspose1d
 * weight [in][out][k]; each with an optional bias [out]. */
static int read_weighted(rtg_model_build *mb, const group *gr, int *prev_out)
{
    rtg_tensor W, B;
    label(mb, gr, "");
    int rc;
    if ((rc = tensor(mb, gr, "weight", 1, &W)) || (rc = tensor(mb, gr, "bias", 0, &B)))
        return rc;
    if (B.json && (rc = expect(mb, gr, "bias", &B, 1, -1, -1, -1)))
        return rc;
    if (W.rank == 1) {
        /* PReLU: one alpha per channel, or one for all. */
        label(mb, gr, "prelu");
        if (B.json)
            return rtg_model_fail(mb, RTG_ENOTSUP, "a 1-D weight with a bias (LayerNorm?) is "
                                                   "not a layer rtgraph reads");
        const int n = W.dim[0];
        const int ch = n > 1 ? n : *prev_out > 0 ? *prev_out : 1;
        if ((rc = only(mb, gr, weight_bias_name, 0, "a PReLU")) ||
            (rc = rtg_model_check_size(mb, "channels", n, RTG_MAX_CHANNELS)) ||
            (rc = chain(mb, ch, prev_out)))
            return rc;
        rtg_layer_desc *d = rtg_model_add_layer(mb);
        float *a = d ? rtg_model_floats(mb, (size_t)n) : NULL;
        if (!a)
            return RTG_ENOMEM;
        rtg_tensor_copy(&W, a);
        d->type = RTG_LAYER_PRELU;
        d->in_ch = d->out_ch = ch;
        d->w = a;
        d->n_alpha = n;
        *prev_out = ch;
        return RTG_OK;
    }
    if (W.rank != 2 && W.rank != 3)
        return expect(mb, gr, "weight", &W, 2, -1, -1, -1);
    /* A transposed conv is told apart by its bias, which has one entry per
     * output channel: dim 1 of its weight rather than dim 0. */
    const int transposed = W.rank == 3 && B.json && B.dim[0] == W.dim[1] && W.dim[1] != W.dim[0];
    const int out = transposed ? W.dim[1] : W.dim[0], in = transposed ? W.dim[0] : W.dim[1];
    const int k = W.rank == 3 ? W.dim[2] : 1;
    label(mb, gr, W.rank == 2 ? "linear" : transposed ? "conv_transpose1d" : "conv1d");
    if ((rc = only(mb, gr, weight_bias_name, 0, W.rank == 2 ? "a Linear" : "a Conv1d")) ||
        (rc = rtg_model_check_size(mb, "input channels", in, RTG_MAX_CHANNELS)) ||
        (rc = rtg_model_check_size(mb, "output channels", out, RTG_MAX_CHANNELS)) ||
        (rc = rtg_model_check_size(mb, "kernel size", k, RTG_MAX_KERNEL)))
        return rc;
    if (B.json && B.dim[0] != out)
        return rtg_model_fail(mb, RTG_EINVAL, "bias has %d entries for %d output channels",
                              B.dim[0], out);
    if ((rc = chain(mb, in, prev_out)))
        return rc;
    rtg_layer_desc *d = rtg_model_add_layer(mb);
    const size_t nw = (size_t)out * in * k;
    float *w = d ? rtg_model_floats(mb, nw + (size_t)out) : NULL;
    if (!w)
        return RTG_ENOMEM;
    if (transposed) {
        /* ConvTranspose1d(stride s, padding p) is the causal conv below run
         * over the input with s-1 zeros after each frame, its output read p
         * frames late: the kernel flipped in time, in and out swapped. */
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++)
                for (int t = 0; t < k; t++)
                    w[((size_t)o * in + i) * k + t] = rtg_tensor_at(&W, i, o, k - 1 - t, 0);
    } else {
        rtg_tensor_copy(&W, w);
    }
    d->type = W.rank == 2 ? RTG_LAYER_DENSE : RTG_LAYER_CONV1D;
    d->in_ch = in;
    d->out_ch = out;
    d->w = w;
    d->kernel_size = W.rank == 3 ? k : 0;
    if (B.json) {
        rtg_tensor_copy(&B, w + nw);
        d->b = w + nw;
    }
    *prev_out = out;
    return RTG_OK;
}

static int read_group(rtg_model_build *mb, const group *gr, int layer_index, int *prev_out)
{
    if (find(gr, "weight_ih_l0"))
        return read_rnn(mb, gr, layer_index, prev_out);
    label(mb, gr, "");
    if (layer_index > 0)
        return rtg_model_fail(mb, RTG_EINVAL, "is one layer, so there is no layer %d",
                              layer_index);
    if (find(gr, "running_mean") || find(gr, "running_var"))
        return read_batchnorm(mb, gr, prev_out);
    if (find(gr, "weight"))
        return read_weighted(mb, gr, prev_out);
    return rtg_model_fail(mb, RTG_ENOTSUP, "tensors \"%s\"... are not a layer rtgraph reads "
                          "(Linear, Conv1d, ConvTranspose1d, LSTM, GRU, BatchNorm1d, PReLU)",
                          gr->sd->e[gr->sd->group_first[gr->g]].key);
}

/* Most tensors a state dict may hold: far more than any model rtgraph
 * runs, few enough that grouping them by prefix and finding them (both
 * linear searches) stays quick; 20000 tensors took minutes. */
#define TORCH_MAX_TENSORS 4096

/* Groups the keys by prefix, in the order prefixes first appear. */
static int collect(rtg_model_build *mb, const json_t *root, state_dict *sd)
{
    const size_t n = json_object_size(root);
    if (n > TORCH_MAX_TENSORS)
        return rtg_model_fail(mb, RTG_ENOMEM, "holds %zu tensors, at most %d", n,
                              TORCH_MAX_TENSORS);
    sd->e = calloc(n, sizeof *sd->e);
    sd->group_first = calloc(n, sizeof *sd->group_first);
    if (!sd->e || !sd->group_first)
        return rtg_model_fail(mb, RTG_ENOMEM, "out of memory");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)root, key, v) {
        entry *e = &sd->e[sd->n];
        const char *dot = strrchr(key, '.');
        *e = (entry){.key = key, .plen = dot ? (size_t)(dot - key) + 1 : 0, .v = v, .group = -1};
        for (int g = 0; g < sd->n_groups && e->group < 0; g++) {
            const entry *f = &sd->e[sd->group_first[g]];
            if (f->plen == e->plen && !strncmp(f->key, key, e->plen))
                e->group = g;
        }
        if (e->group < 0) {
            e->group = sd->n_groups;
            sd->group_first[sd->n_groups++] = sd->n;
        }
        sd->n++;
    }
    return RTG_OK;
}

static group group_of(const state_dict *sd, int g)
{
    const entry *f = &sd->e[sd->group_first[g]];
    return (group){.sd = sd, .g = g, .prefix = f->key, .plen = f->plen};
}

/* The group a reference names: its prefix, with or without the final '.'. */
static int select_group(rtg_model_build *mb, const state_dict *sd, const char *prefix)
{
    size_t len = strlen(prefix);
    const int dotted = len == 0 || prefix[len - 1] == '.';
    for (int g = 0; g < sd->n_groups; g++) {
        group gr = group_of(sd, g);
        if (gr.plen == len + !dotted && !strncmp(gr.prefix, prefix, len))
            return g;
    }
    if (len == 0 && sd->n_groups == 1)
        return 0;
    char list[160];
    size_t at = 0;
    list[0] = '\0';
    for (int g = 0; g < sd->n_groups && at < sizeof list; g++) {
        group gr = group_of(sd, g);
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%.*s", g ? ", " : "",
                               gr.plen ? (int)gr.plen : 2, gr.plen ? gr.prefix : "\"\"");
    }
    if (len == 0)
        return rtg_model_fail(mb, RTG_EINVAL, "holds several layers (%s); name one by its "
                                              "prefix", list);
    return rtg_model_fail(mb, RTG_EINVAL, "no tensors under the prefix \"%s\" (the file has %s)",
                          prefix, list);
}

int rtg_model_read_torch(rtg_model_build *mb, const json_t *root, const char *prefix,
                         int layer_index)
{
    state_dict sd = {0};
    int rc = collect(mb, root, &sd);
    int prev_out = -1;
    if (rc == RTG_OK && prefix) {
        int g = select_group(mb, &sd, prefix);
        if (g >= 0) {
            group gr = group_of(&sd, g);
            rc = read_group(mb, &gr, layer_index, &prev_out);
        } else {
            rc = g;
        }
    }
    for (int g = 0; rc == RTG_OK && !prefix && g < sd.n_groups; g++) {
        group gr = group_of(&sd, g);
        rc = read_group(mb, &gr, -1, &prev_out);
    }
    free(sd.e);
    free(sd.group_first);
    return rc;
}
