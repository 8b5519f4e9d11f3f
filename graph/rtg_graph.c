/* rtg_graph.c — reading a graph file: YAML to a validated node table,
 * source resolution, cycle detection and order; plus the public API (load,
 * params). rtg_graph_compile.c turns the table into a plan. */
#include "rtg_graph.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_graph_internal.h"
#include "rtg_model_slot.h"

const char *const graph_field_names[F_N_FIELDS] = {
    [F_OP] = "op", [F_IN] = "in", [F_PARAMS] = "params", [F_SMOOTH_MS] = "smooth_ms",
    [F_WEIGHTS] = "weights", [F_FILE] = "file", [F_ALPHA] = "alpha", [F_FROM] = "from",
    [F_COUNT] = "count", [F_MAX_SAMPLES] = "max_samples", [F_MIN] = "min", [F_MAX] = "max",
    [F_KERNEL_SIZE] = "kernel_size", [F_DILATION] = "dilation", [F_GROUPS] = "groups",
    [F_STRIDE] = "stride", [F_RESAMPLE] = "resample", [F_NORMALIZE] = "normalize",
};

#define IN1 (FB(F_OP) | FB(F_IN))
#define PARAMS (FB(F_PARAMS) | FB(F_SMOOTH_MS))
#define CONV (FB(F_KERNEL_SIZE) | FB(F_DILATION) | FB(F_GROUPS) | FB(F_STRIDE))
#define MANY GRAPH_MAX_SOURCES

static const op_def op_defs[] = {
    {"dense", OP_LAYER, RTG_LAYER_DENSE, 0, 1, 1, IN1 | FB(F_WEIGHTS), FB(F_IN) | FB(F_WEIGHTS), NULL, 0},
    {"conv1d", OP_LAYER, RTG_LAYER_CONV1D, 0, 1, 1, IN1 | FB(F_WEIGHTS) | CONV, FB(F_IN) | FB(F_WEIGHTS), NULL, 0},
    {"lstm", OP_LAYER, RTG_LAYER_LSTM, 0, 1, 1, IN1 | FB(F_WEIGHTS), FB(F_IN) | FB(F_WEIGHTS), NULL, 0},
    {"gru", OP_LAYER, RTG_LAYER_GRU, 0, 1, 1, IN1 | FB(F_WEIGHTS), FB(F_IN) | FB(F_WEIGHTS), NULL, 0},
    {"batchnorm", OP_LAYER, RTG_LAYER_BATCHNORM, 0, 1, 1, IN1 | FB(F_WEIGHTS), FB(F_IN) | FB(F_WEIGHTS), NULL, 0},
    {"prelu", OP_LAYER, RTG_LAYER_PRELU, 0, 1, 1, IN1 | FB(F_WEIGHTS), FB(F_IN) | FB(F_WEIGHTS), NULL, 0},
    {"tanh", OP_ACT, RTG_LAYER_ACTIVATION, RTG_ACT_TANH, 1, 1, IN1, FB(F_IN), NULL, 0},
    {"relu", OP_ACT, RTG_LAYER_ACTIVATION, RTG_ACT_RELU, 1, 1, IN1, FB(F_IN), NULL, 0},
    {"sigmoid", OP_ACT, RTG_LAYER_ACTIVATION, RTG_ACT_SIGMOID, 1, 1, IN1, FB(F_IN), NULL, 0},
    {"softmax", OP_ACT, RTG_LAYER_ACTIVATION, RTG_ACT_SOFTMAX, 1, 1, IN1, FB(F_IN), NULL, 0},
    {"elu", OP_ACT, RTG_LAYER_ACTIVATION, RTG_ACT_ELU, 1, 1, IN1 | FB(F_ALPHA), FB(F_IN), NULL, 0},
    {"model", OP_MODEL, 0, 0, 1, 1, IN1 | FB(F_FILE) | FB(F_RESAMPLE) | FB(F_NORMALIZE), FB(F_IN) | FB(F_FILE), NULL, 0},
    {"gain", OP_GAIN, 0, 0, 1, 1, IN1 | PARAMS, FB(F_IN), "db", 0},
    {"add", OP_ADD, 0, 0, 1, MANY, IN1, FB(F_IN), NULL, 0},
    {"mul", OP_MUL, 0, 0, 2, 2, IN1, FB(F_IN), NULL, 0},
    {"mix", OP_MIX, 0, 0, 1, MANY, IN1 | PARAMS, FB(F_IN), "weights", 1},
    {"concat", OP_CONCAT, 0, 0, 1, MANY, IN1, FB(F_IN), NULL, 0},
    {"slice", OP_SLICE, 0, 0, 1, 1, IN1 | FB(F_FROM) | FB(F_COUNT), FB(F_IN) | FB(F_FROM), NULL, 0},
    {"delay", OP_DELAY, 0, 0, 1, 1, IN1 | FB(F_MAX_SAMPLES) | PARAMS, FB(F_IN) | FB(F_MAX_SAMPLES), "samples", 0},
    {"control", OP_CONTROL, 0, 0, 0, 0, FB(F_OP) | FB(F_MIN) | FB(F_MAX) | PARAMS, FB(F_MIN) | FB(F_MAX), "value", 0},
};
#define N_OPS (int)(sizeof op_defs / sizeof op_defs[0])

/* Ranges of what the format accepts; documented in docs/graph-format.md. */
#define GAIN_DB_MIN (-120.0)
#define GAIN_DB_MAX 60.0
#define MIX_WEIGHT_MAX 16.0
#define DELAY_MAX_SAMPLES 4194304
#define SMOOTH_MS_MAX 10000.0

int graph_fail(loader *L, int code, const yaml_node_t *at, const gnode *n, node_field field,
               const char *fmt, ...)
{
    char msg[RTG_ERROR_MAX], where[160] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int w = 0;
    if (n)
        w = snprintf(where, sizeof where, "node '%s': ", n->name);
    const char *fname = field < F_N_FIELDS ? graph_field_names[field]
                        : field == F_OUTPUTS ? "outputs" : NULL;
    if (fname && w >= 0 && (size_t)w < sizeof where)
        snprintf(where + w, sizeof where - (size_t)w, "field '%s': ", fname);
    return rtg_yaml_fail(&L->y, L->err, at, code, "%s%s", where, msg);
}

static int fail(loader *L, const yaml_node_t *at, const gnode *n, node_field field,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail(loader *L, const yaml_node_t *at, const gnode *n, node_field field,
                const char *fmt, ...)
{
    char msg[RTG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return graph_fail(L, RTG_EINVAL, at, n, field, "%s", msg);
}

/* ---- scalars ---- */

/* Reads `v` as a number in [lo, hi] (an integer if `integer`). */
static int read_number(loader *L, const yaml_node_t *v, const gnode *n, node_field f,
                       const char *what, double lo, double hi, int integer, double *out)
{
    double x;
    char whatbuf[64] = "";
    if (what)
        snprintf(whatbuf, sizeof whatbuf, "%s: ", what);
    if (!rtg_yaml_number(v, &x)) {
        const char *s = rtg_yaml_text(v);
        char *end = NULL;
        if (s && *s && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && (strtod(s, &end), !*end))
            return fail(L, v, n, f, "%s%s is out of range %g..%g", whatbuf, s, lo, hi);
        return fail(L, v, n, f, "%sexpected %s, got %s", whatbuf, integer ? "an integer" : "a number",
                    rtg_yaml_kind(v));
    }
    if (integer && x != floor(x))
        return fail(L, v, n, f, "%sexpected an integer, got %s", whatbuf, rtg_yaml_text(v));
    if (x < lo || x > hi)
        return fail(L, v, n, f, "%s%s is out of range %g..%g", whatbuf, rtg_yaml_text(v), lo, hi);
    *out = x;
    return RTG_OK;
}

/* YAML's core-schema booleans, unquoted: true/True/TRUE, false/False/FALSE. */
static int read_bool(loader *L, const yaml_node_t *v, const gnode *n, node_field f, int *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False", "FALSE"};
    const char *s = rtg_yaml_text(v);
    if (s && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        for (int i = 0; i < 3; i++) {
            if (!strcmp(s, yes[i]))
                return *out = 1, RTG_OK;
            if (!strcmp(s, no[i]))
                return *out = 0, RTG_OK;
        }
    if (s && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return fail(L, v, n, f, "expected true or false, got '%s'", s);
    return fail(L, v, n, f, "expected true or false, got %s", rtg_yaml_kind(v));
}

static int read_string(loader *L, const yaml_node_t *v, const gnode *n, node_field f,
                       const char **out)
{
    const char *s = rtg_yaml_text(v);
    if (!s || !*s)
        return fail(L, v, n, f, "expected a string, got %s", rtg_yaml_kind(v));
    *out = s;
    return RTG_OK;
}

/* ---- sources ---- */

/* A binary search of the names: 4096 nodes of 256 sources each made a
 * linear one take minutes. */
static int find_node(const loader *L, const char *name, size_t len)
{
    int lo = 0, hi = L->by_name ? L->n_nodes : 0;
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        const char *s = L->by_name[mid]->name;
        int c = strncmp(s, name, len);
        if (!c)
            c = s[len] != '\0'; /* same start, longer name: after */
        if (!c)
            return (int)(L->by_name[mid] - L->nodes);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int by_name_cmp(const void *a, const void *b)
{
    return strcmp((*(const gnode *const *)a)->name, (*(const gnode *const *)b)->name);
}

/* Parses `in`, `in.K`, `NAME` or `NAME.K`. Channel K of a node is checked
 * when the node's channel count is known (compile). */
static int parse_source(loader *L, const gnode *n, node_field f, const yaml_node_t *at,
                        src_ref *s)
{
    const char *text = rtg_yaml_text(at);
    if (!text || !*text)
        return fail(L, at, n, f, "expected a source (NAME, NAME.K or in.K), got %s",
                    rtg_yaml_kind(at));
    const char *dot = strchr(text, '.');
    size_t base = dot ? (size_t)(dot - text) : strlen(text);
    s->at = at;
    s->chan = SRC_ALL;
    if (dot) {
        const char *k = dot + 1;
        size_t nk = strlen(k);
        int ok = nk >= 1 && nk <= 4;
        for (size_t i = 0; ok && i < nk; i++)
            ok = isdigit((unsigned char)k[i]);
        if (!ok)
            return fail(L, at, n, f, "bad source '%s': after the '.' comes a channel number",
                        text);
        s->chan = atoi(k);
    }
    if (base == 2 && !strncmp(text, "in", 2)) {
        s->node = SRC_INPUT;
        if (s->chan >= L->n_inputs)
            return fail(L, at, n, f, "source '%s': the graph has %d input%s (in.0..in.%d)", text,
                        L->n_inputs, L->n_inputs == 1 ? "" : "s", L->n_inputs - 1);
        return RTG_OK;
    }
    s->node = find_node(L, text, base);
    if (s->node < 0)
        return fail(L, at, n, f, "unknown source '%s'", text);
    return RTG_OK;
}

/* A source or a list of sources, counted against [min, max]. */
static int parse_sources(loader *L, const gnode *n, node_field f, const yaml_node_t *v,
                         int min, int max, src_ref **out, int *count)
{
    int cnt = 1;
    yaml_node_item_t *items = NULL;
    if (v->type == YAML_SEQUENCE_NODE) {
        items = v->data.sequence.items.start;
        cnt = (int)(v->data.sequence.items.top - items);
    }
    const char *opname = n ? n->op->name : NULL;
    if (cnt < min || cnt > max) {
        if (!opname)
            return fail(L, v, n, f, "expected 1..%d sources, got %d", max, cnt);
        if (min == max)
            return fail(L, v, n, f, "op '%s' takes %d source%s, got %d", opname, min,
                        min == 1 ? "" : "s", cnt);
        return fail(L, v, n, f, "op '%s' takes %d..%d sources, got %d", opname, min, max, cnt);
    }
    src_ref *s = calloc((size_t)cnt, sizeof *s);
    if (!s)
        return graph_fail(L, RTG_ENOMEM, v, n, f, "out of memory");
    *out = s;
    *count = cnt;
    for (int i = 0; i < cnt; i++) {
        const yaml_node_t *at = items ? rtg_yaml_node(&L->y, items[i]) : v;
        int rc = parse_source(L, n, f, at, &s[i]);
        if (rc)
            return rc;
    }
    return RTG_OK;
}

/* ---- nodes ---- */

static int valid_name(const char *s)
{
    if (!*s || strlen(s) >= GRAPH_NAME_MAX || !(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static const op_def *find_op(const char *name)
{
    for (int i = 0; i < N_OPS; i++)
        if (!strcmp(op_defs[i].name, name))
            return &op_defs[i];
    return NULL;
}

static void list_fields(unsigned mask, char *buf, size_t size)
{
    size_t at = 0;
    buf[0] = 0;
    for (int f = 1; f < F_N_FIELDS; f++)
        if (mask & FB(f)) {
            int w = snprintf(buf + at, size - at, "%s%s", at ? ", " : "", graph_field_names[f]);
            if (w < 0 || (size_t)w >= size - at)
                break;
            at += (size_t)w;
        }
    if (!at)
        snprintf(buf, size, "none but op");
}

static int node_number(loader *L, gnode *n, node_field f, double lo, double hi, int integer,
                       double *out)
{
    if (!n->field[f])
        return RTG_OK;
    return read_number(L, n->field[f], n, f, NULL, lo, hi, integer, out);
}

/* Reads every field but `in` and `params` (which need the whole table). */
static int parse_node_fields(loader *L, gnode *n)
{
    int rc;
    double x;
    const char *s;
    n->smooth_ms = L->smooth_ms;
    x = n->smooth_ms;
    if ((rc = node_number(L, n, F_SMOOTH_MS, 0, SMOOTH_MS_MAX, 0, &x)))
        return rc;
    n->smooth_ms = (float)x;
    n->alpha = 1.0;
    if ((rc = node_number(L, n, F_ALPHA, -1e6, 1e6, 0, &n->alpha)))
        return rc;
    x = 0;
    if ((rc = node_number(L, n, F_FROM, 0, GRAPH_MAX_CHANNELS, 1, &x)))
        return rc;
    n->from = (int)x;
    x = 1;
    if ((rc = node_number(L, n, F_COUNT, 1, GRAPH_MAX_CHANNELS, 1, &x)))
        return rc;
    n->count = (int)x;
    x = 0;
    if ((rc = node_number(L, n, F_MAX_SAMPLES, 0, DELAY_MAX_SAMPLES, 1, &x)))
        return rc;
    n->max_samples = (int)x;
    static const node_field conv_fields[4] = {F_KERNEL_SIZE, F_DILATION, F_GROUPS, F_STRIDE};
    static const double conv_max[4] = {GRAPH_MAX_KERNEL, GRAPH_MAX_DILATION, GRAPH_MAX_CHANNELS, GRAPH_MAX_KERNEL};
    for (int i = 0; i < 4; i++) {
        x = 0;
        if ((rc = node_number(L, n, conv_fields[i], 1, conv_max[i], 1, &x)))
            return rc;
        n->conv[i] = (int)x;
    }
    if (n->op->kind == OP_CONTROL) {
        double lo = 0, hi = 0;
        if ((rc = node_number(L, n, F_MIN, -1e9, 1e9, 0, &lo)) ||
            (rc = node_number(L, n, F_MAX, -1e9, 1e9, 0, &hi)))
            return rc;
        if (!(lo < hi))
            return fail(L, n->field[F_MAX], n, F_MAX, "max (%g) must be greater than min (%g)",
                        hi, lo);
        n->param_min = (float)lo;
        n->param_max = (float)hi;
    }
    if (n->field[F_FILE] && (rc = read_string(L, n->field[F_FILE], n, F_FILE, &s)))
        return rc;
    n->resample = 1;
    if (n->field[F_RESAMPLE] && (rc = read_bool(L, n->field[F_RESAMPLE], n, F_RESAMPLE, &n->resample)))
        return rc;
    if (n->field[F_NORMALIZE] &&
        (rc = read_bool(L, n->field[F_NORMALIZE], n, F_NORMALIZE, &n->normalize)))
        return rc;
    if (n->field[F_WEIGHTS] && n->field[F_WEIGHTS]->type != YAML_MAPPING_NODE &&
        (rc = read_string(L, n->field[F_WEIGHTS], n, F_WEIGHTS, &s)))
        return rc;
    return RTG_OK;
}

/* The run-time param's range, default and unit for this node. */
static void param_range(gnode *n)
{
    switch (n->op->kind) {
    case OP_GAIN:
        n->param_min = (float)GAIN_DB_MIN, n->param_max = (float)GAIN_DB_MAX;
        n->param_unit = "dB";
        break;
    case OP_MIX:
        n->param_min = (float)-MIX_WEIGHT_MAX, n->param_max = (float)MIX_WEIGHT_MAX;
        n->param_unit = "";
        break;
    case OP_DELAY:
        n->param_min = 0, n->param_max = (float)n->max_samples;
        n->param_unit = "samples";
        break;
    default: /* control: min and max were read with the fields */
        n->param_unit = "";
        break;
    }
}

static int parse_params(loader *L, gnode *n)
{
    if (!n->op->param)
        return RTG_OK;
    param_range(n);
    n->n_param = n->op->param_is_list ? n->n_src : 1;
    n->param = calloc((size_t)n->n_param, sizeof *n->param);
    if (!n->param)
        return graph_fail(L, RTG_ENOMEM, n->key, n, F_NONE, "out of memory");
    float def = n->op->kind == OP_CONTROL ? n->param_min : n->op->kind == OP_MIX ? 1.0f : 0.0f;
    for (int i = 0; i < n->n_param; i++)
        n->param[i] = def;
    const yaml_node_t *pm = n->field[F_PARAMS];
    if (!pm)
        return RTG_OK;
    if (pm->type != YAML_MAPPING_NODE)
        return fail(L, pm, n, F_PARAMS, "expected a mapping like {%s: ...}, got %s",
                    n->op->param, rtg_yaml_kind(pm));
    char where[96];
    snprintf(where, sizeof where, "node '%s': field 'params': ", n->name);
    int rc = rtg_yaml_check_unique_keys(&L->y, (yaml_node_t *)pm, where, "param", L->err);
    if (rc)
        return rc;
    for (yaml_node_pair_t *p = pm->data.mapping.pairs.start; p < pm->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = rtg_yaml_node(&L->y, p->key), *v = rtg_yaml_node(&L->y, p->value);
        if (strcmp(rtg_yaml_text(k), n->op->param))
            return fail(L, k, n, F_PARAMS, "unknown param '%s' (op '%s' has: %s)", rtg_yaml_text(k),
                        n->op->name, n->op->param);
        char what[64];
        double x;
        if (!n->op->param_is_list) {
            snprintf(what, sizeof what, "param '%s'", n->op->param);
            if ((rc = read_number(L, v, n, F_PARAMS, what, n->param_min, n->param_max, 0, &x)))
                return rc;
            n->param[0] = (float)x;
            continue;
        }
        if (v->type != YAML_SEQUENCE_NODE)
            return fail(L, v, n, F_PARAMS, "param '%s': expected a list of %d numbers (one per input), got %s",
                        n->op->param, n->n_src, rtg_yaml_kind(v));
        yaml_node_item_t *it = v->data.sequence.items.start;
        int cnt = (int)(v->data.sequence.items.top - it);
        if (cnt != n->n_src)
            return fail(L, v, n, F_PARAMS, "param '%s' has %d value%s for %d input%s", n->op->param,
                        cnt, cnt == 1 ? "" : "s", n->n_src, n->n_src == 1 ? "" : "s");
        for (int i = 0; i < cnt; i++) {
            snprintf(what, sizeof what, "param '%s.%d'", n->op->param, i);
            if ((rc = read_number(L, rtg_yaml_node(&L->y, it[i]), n, F_PARAMS, what, n->param_min,
                                  n->param_max, 0, &x)))
                return rc;
            n->param[i] = (float)x;
        }
    }
    return RTG_OK;
}

/* First pass over one node: name, op, which fields are given. */
static int parse_node_head(loader *L, gnode *n, const yaml_node_t *key, yaml_node_t *val)
{
    const char *name = rtg_yaml_text(key);
    n->key = key;
    if (!valid_name(name))
        return fail(L, key, NULL, F_NONE,
                    "bad node name '%s': use a letter or '_' then letters, digits, '_' or '-' (at most %d)",
                    name, GRAPH_NAME_MAX - 1);
    snprintf(n->name, sizeof n->name, "%s", name);
    if (!strcmp(name, "in"))
        return fail(L, key, n, F_NONE, "'in' is reserved for the graph's inputs");
    if (val->type != YAML_MAPPING_NODE)
        return fail(L, val, n, F_NONE, "expected a mapping like {op: gain, in: in.0}, got %s",
                    rtg_yaml_kind(val));
    char where[96];
    snprintf(where, sizeof where, "node '%s': ", n->name);
    int rc = rtg_yaml_check_unique_keys(&L->y, val, where, "field", L->err);
    if (rc)
        return rc;
    yaml_node_pair_t *p0 = val->data.mapping.pairs.start, *p1 = val->data.mapping.pairs.top;
    for (yaml_node_pair_t *p = p0; p < p1; p++) {
        const yaml_node_t *k = rtg_yaml_node(&L->y, p->key);
        int f = 0;
        while (f < F_N_FIELDS && strcmp(graph_field_names[f], rtg_yaml_text(k)))
            f++;
        if (f == F_N_FIELDS)
            return fail(L, k, n, F_NONE, "unknown field '%s'", rtg_yaml_text(k));
        n->field[f] = rtg_yaml_node(&L->y, p->value);
    }
    if (!n->field[F_OP])
        return fail(L, key, n, F_NONE, "missing field 'op'");
    const char *opname = NULL;
    if ((rc = read_string(L, n->field[F_OP], n, F_OP, &opname)))
        return rc;
    n->op = find_op(opname);
    if (!n->op) {
        char ops[400];
        size_t at = 0;
        for (int i = 0; i < N_OPS && at < sizeof ops; i++)
            at += (size_t)snprintf(ops + at, sizeof ops - at, "%s%s", i ? ", " : "", op_defs[i].name);
        return fail(L, n->field[F_OP], n, F_OP, "unknown op '%s' (ops: %s)", opname, ops);
    }
    for (yaml_node_pair_t *p = p0; p < p1; p++) { /* in file order, for the first error */
        const yaml_node_t *k = rtg_yaml_node(&L->y, p->key);
        int f = 0;
        while (strcmp(graph_field_names[f], rtg_yaml_text(k)))
            f++;
        if (!(n->op->fields & FB(f))) {
            char fields[200];
            list_fields(n->op->fields, fields, sizeof fields);
            return fail(L, k, n, F_NONE, "op '%s' has no field '%s' (its fields: %s)",
                        n->op->name, graph_field_names[f], fields);
        }
    }
    for (int f = 0; f < F_N_FIELDS; f++)
        if ((n->op->required & FB(f)) && !n->field[f])
            return fail(L, key, n, F_NONE, "missing field '%s' (op '%s' needs it)",
                        graph_field_names[f], n->op->name);
    return parse_node_fields(L, n);
}

static int parse_nodes(loader *L, yaml_node_t *nodes, const yaml_node_t *nodes_key)
{
    if (nodes->type != YAML_MAPPING_NODE)
        return fail(L, nodes, NULL, F_NONE,
                    "field 'nodes': expected a mapping of node names to nodes, got %s",
                    rtg_yaml_kind(nodes));
    yaml_node_pair_t *p0 = nodes->data.mapping.pairs.start, *p1 = nodes->data.mapping.pairs.top;
    int cnt = (int)(p1 - p0);
    if (cnt == 0)
        return fail(L, nodes_key, NULL, F_NONE, "field 'nodes': the graph has no nodes");
    if (cnt > GRAPH_MAX_NODES)
        return fail(L, nodes_key, NULL, F_NONE, "field 'nodes': %d nodes, at most %d", cnt,
                    GRAPH_MAX_NODES);
    int rc = rtg_yaml_check_unique_keys(&L->y, nodes, "", "node", L->err);
    if (rc)
        return rc;
    L->nodes = calloc((size_t)cnt, sizeof *L->nodes);
    if (!L->nodes)
        return graph_fail(L, RTG_ENOMEM, nodes, NULL, F_NONE, "out of memory");
    L->n_nodes = cnt;
    for (int i = 0; i < cnt; i++)
        if ((rc = parse_node_head(L, &L->nodes[i], rtg_yaml_node(&L->y, p0[i].key),
                                  rtg_yaml_node(&L->y, p0[i].value))))
            return rc;
    L->by_name = calloc((size_t)cnt, sizeof *L->by_name);
    if (!L->by_name)
        return graph_fail(L, RTG_ENOMEM, nodes, NULL, F_NONE, "out of memory");
    for (int i = 0; i < cnt; i++)
        L->by_name[i] = &L->nodes[i];
    qsort(L->by_name, (size_t)cnt, sizeof *L->by_name, by_name_cmp);
    for (int i = 0; i < cnt; i++) {
        gnode *n = &L->nodes[i];
        if (n->field[F_IN] &&
            (rc = parse_sources(L, n, F_IN, n->field[F_IN], n->op->min_in, n->op->max_in,
                                &n->src, &n->n_src)))
            return rc;
        if ((rc = parse_params(L, n)))
            return rc;
    }
    return RTG_OK;
}

/* ---- order ---- */

static int sources_placed(const loader *L, const gnode *n)
{
    for (int k = 0; k < n->n_src; k++)
        if (n->src[k].node >= 0 && !L->nodes[n->src[k].node].placed)
            return 0;
    return 1;
}

/* The first source of node v that is a node not yet placed (one exists on
 * a cycle), as an index into v's sources. */
static int unplaced_source(const loader *L, int v)
{
    const gnode *n = &L->nodes[v];
    for (int k = 0; k < n->n_src; k++)
        if (n->src[k].node >= 0 && !L->nodes[n->src[k].node].placed)
            return k;
    return -1;
}

/* Orders nodes so every node comes after its sources (file order where the
 * graph leaves a choice); a cycle is reported with its nodes in signal
 * order, at the source of the first node on it that closes it. */
static int order_nodes(loader *L)
{
    L->order = malloc(sizeof(int) * (size_t)L->n_nodes);
    if (!L->order)
        return graph_fail(L, RTG_ENOMEM, NULL, NULL, F_NONE, "out of memory");
    int placed = 0;
    for (int progress = 1; progress && placed < L->n_nodes;) {
        progress = 0;
        for (int i = 0; i < L->n_nodes; i++) {
            gnode *n = &L->nodes[i];
            if (!n->placed && sources_placed(L, n)) {
                n->placed = 1;
                L->order[placed++] = i;
                progress = 1;
            }
        }
    }
    if (placed == L->n_nodes)
        return RTG_OK;
    /* Walk unplaced sources from the first unplaced node until one repeats. */
    int *seen_at = malloc(sizeof(int) * (size_t)L->n_nodes), *path = malloc(sizeof(int) * (size_t)L->n_nodes);
    if (!seen_at || !path) {
        free(seen_at);
        free(path);
        return graph_fail(L, RTG_ENOMEM, NULL, NULL, F_NONE, "out of memory");
    }
    for (int i = 0; i < L->n_nodes; i++)
        seen_at[i] = -1;
    int v = 0;
    while (L->nodes[v].placed)
        v++;
    int len = 0;
    while (seen_at[v] < 0) {
        seen_at[v] = len;
        path[len++] = v;
        v = L->nodes[v].src[unplaced_source(L, v)].node;
    }
    /* path[seen_at[v] .. len) is the cycle; each entry reads the next. */
    int *cyc = path + seen_at[v], n_cyc = len - seen_at[v], first = 0;
    for (int i = 1; i < n_cyc; i++)
        if (cyc[i] < cyc[first])
            first = i;
    char msg[RTG_ERROR_MAX - 100];
    size_t at = 0;
    /* signal flows against the walk: from cyc[first+1] into cyc[first] */
    for (int i = 0; i <= n_cyc && at < sizeof msg; i++) {
        int node = cyc[((first - i) % n_cyc + n_cyc) % n_cyc];
        at += (size_t)snprintf(msg + at, sizeof msg - at, "%s%s", i ? " -> " : "", L->nodes[node].name);
    }
    const gnode *n = &L->nodes[cyc[first]];
    const src_ref *closing = &n->src[unplaced_source(L, cyc[first])];
    /* the walk took the first unplaced source; report that one */
    int rc = fail(L, closing->at, n, F_IN, "cycle: %s", msg);
    free(seen_at);
    free(path);
    return rc;
}

/* ---- the file ---- */

static int parse_top(loader *L, const rtg_graph_options *opt)
{
    yaml_node_t *root = rtg_yaml_root(&L->y);
    if (root->type != YAML_MAPPING_NODE)
        return fail(L, root, NULL, F_NONE, "expected a graph (a mapping starting 'rtgraph: 1'), got %s",
                    rtg_yaml_kind(root));
    int rc = rtg_yaml_check_unique_keys(&L->y, root, "", "field", L->err);
    if (rc)
        return rc;
    static const char *const keys[] = {"rtgraph", "sample_rate", "block_size", "inputs",
                                       "smooth_ms", "nodes", "outputs"};
    enum { K_VERSION, K_RATE, K_BLOCK, K_INPUTS, K_SMOOTH, K_NODES, K_OUTPUTS, K_N };
    const yaml_node_t *val[K_N] = {0}, *key[K_N] = {0};
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = rtg_yaml_node(&L->y, p->key);
        int i = 0;
        while (i < K_N && strcmp(keys[i], rtg_yaml_text(k)))
            i++;
        if (i == K_N)
            return fail(L, k, NULL, F_NONE,
                        "unknown field '%s' (a graph has: rtgraph, sample_rate, block_size, inputs, smooth_ms, nodes, outputs)",
                        rtg_yaml_text(k));
        key[i] = k;
        val[i] = rtg_yaml_node(&L->y, p->value);
    }
    if (!val[K_VERSION])
        return fail(L, root, NULL, F_NONE, "missing field 'rtgraph' (the format version: rtgraph: 1)");
    double x;
    if (!rtg_yaml_number(val[K_VERSION], &x) || x != 1)
        return fail(L, val[K_VERSION], NULL, F_NONE,
                    "field 'rtgraph': unsupported format version '%s' (this rtgraph reads version 1)",
                    rtg_yaml_text(val[K_VERSION]) ? rtg_yaml_text(val[K_VERSION]) : rtg_yaml_kind(val[K_VERSION]));
    L->sample_rate = opt && opt->sample_rate > 0 ? opt->sample_rate : 48000;
    if (val[K_RATE]) {
        if ((rc = read_number(L, val[K_RATE], NULL, F_NONE, "field 'sample_rate'", 1000, 768000, 0,
                              &L->sample_rate)))
            return rc;
        L->sample_rate_stated = 1;
    }
    x = 128;
    if (val[K_BLOCK] && (rc = read_number(L, val[K_BLOCK], NULL, F_NONE, "field 'block_size'", 1, 8192, 1, &x)))
        return rc;
    L->block_size = (int)x;
    L->max_block = opt && opt->max_block > 0 ? opt->max_block : L->block_size;
    x = 1;
    if (val[K_INPUTS] && (rc = read_number(L, val[K_INPUTS], NULL, F_NONE, "field 'inputs'", 1,
                                           GRAPH_MAX_INPUTS, 1, &x)))
        return rc;
    L->n_inputs = (int)x;
    x = 20;
    if (val[K_SMOOTH] && (rc = read_number(L, val[K_SMOOTH], NULL, F_NONE, "field 'smooth_ms'", 0,
                                           SMOOTH_MS_MAX, 0, &x)))
        return rc;
    L->smooth_ms = (float)x;
    if (!val[K_NODES])
        return fail(L, root, NULL, F_NONE, "missing field 'nodes'");
    if ((rc = parse_nodes(L, (yaml_node_t *)val[K_NODES], key[K_NODES])))
        return rc;
    if (!val[K_OUTPUTS])
        return fail(L, root, NULL, F_NONE, "missing field 'outputs' (the sources of the output channels)");
    L->outs_at = val[K_OUTPUTS];
    if ((rc = parse_sources(L, NULL, F_OUTPUTS, val[K_OUTPUTS], 1, GRAPH_MAX_OUTPUTS, &L->outs,
                            &L->n_outs)))
        return rc;
    return order_nodes(L);
}

/* ---- model files as graphs ---- */

static int looks_like_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int c;
    do
        c = fgetc(f);
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    fclose(f);
    return c == '{';
}

static void loader_free(loader *L)
{
    for (int i = 0; i < L->n_nodes; i++) {
        free(L->nodes[i].src);
        free(L->nodes[i].param);
    }
    free(L->nodes);
    free(L->outs);
    free(L->order);
    free(L->by_name);
    for (int i = 0; i < L->n_models; i++)
        rtg_model_free(L->models[i]);
    free(L->models);
    rtg_plan_builder_free(L->b);
    rtg_yaml_free(&L->y);
}

int rtg_graph_ramp_frames(double smooth_ms, double sample_rate)
{
    double n = floor(smooth_ms * sample_rate / 1000.0 + 0.5);
    return n > INT_MAX / 2 ? INT_MAX / 2 : (int)n;
}

static rtg_graph *graph_new(const char *path)
{
    rtg_graph *g = calloc(1, sizeof *g);
    if (g)
        snprintf(g->path, sizeof g->path, "%s", path);
    return g;
}

void rtg_graph_free(rtg_graph *g)
{
    if (!g)
        return;
    rtg_model_slots_release(g->plan);
    rtg_plan_free(g->plan);
    free(g->params);
    free(g->nodes);
    free(g);
}

/* A model file runs as `model: {op: model, in: in, file: PATH}` with every
 * model output channel a graph output. */
static int load_model_graph(const char *path, const rtg_graph_options *opt, rtg_graph *g,
                            rtg_error *err)
{
    rtg_model *m = NULL;
    int rc = rtg_model_load(path, &m, err);
    if (rc)
        return rc;
    /* nothing else says: the model's own rate, so it runs unresampled */
    g->sample_rate = opt && opt->sample_rate > 0 ? opt->sample_rate
                     : m->meta.sample_rate > 0    ? m->meta.sample_rate
                                                  : 48000;
    g->block_size = 128;
    g->n_inputs = m->in_ch;
    g->n_outputs = m->out_ch;
    g->smooth_ms = 20;
    int max_block = opt && opt->max_block > 0 ? opt->max_block : g->block_size;
    rtg_plan_builder *b = rtg_plan_builder_new(max_block, m->in_ch, g->sample_rate);
    int *bufs = calloc((size_t)m->out_ch, sizeof *bufs), *chans = calloc((size_t)m->out_ch, sizeof *chans);
    g->nodes = calloc(1, sizeof *g->nodes);
    if (!b || !bufs || !chans || !g->nodes) {
        rc = rtg_error_set(err, RTG_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    int y = rtg_plan_add_model_slot(b, m, rtg_plan_input(b), "model", max_block, g->sample_rate,
                                    NULL, err);
    if (y < 0) {
        rc = rtg_error_prefix(err, y, "%s", path);
        goto done;
    }
    for (int k = 0; k < m->out_ch; k++)
        bufs[k] = y, chans[k] = k;
    if ((rc = rtg_plan_set_outputs(b, m->out_ch, bufs, chans, err)))
        goto done;
    g->plan = rtg_plan_build(b, err);
    b = NULL;
    if (!g->plan || !rtg_model_slots_ready(g->plan, err)) {
        rc = rtg_error_prefix(err, g->plan ? RTG_ENOMEM : RTG_EINVAL, "%s", path);
        goto done;
    }
    g->n_nodes = 1;
    snprintf(g->nodes[0].name, sizeof g->nodes[0].name, "model");
    snprintf(g->nodes[0].op, sizeof g->nodes[0].op, "model");
    g->nodes[0].n_steps = g->plan->n_steps;
    g->nodes[0].out_ch = m->out_ch;
done:
    rtg_plan_builder_free(b);
    free(bufs);
    free(chans);
    rtg_model_free(m);
    return rc;
}

int rtg_graph_load(const char *path, const rtg_graph_options *opt, rtg_graph **out,
                   rtg_error *err)
{
    *out = NULL;
    rtg_graph *g = graph_new(path);
    if (!g)
        return rtg_error_set(err, RTG_ENOMEM, "out of memory");
    int rc;
    if (looks_like_json(path)) {
        rc = load_model_graph(path, opt, g, err);
    } else {
        loader L;
        memset(&L, 0, sizeof L);
        L.err = err;
        L.g = g;
        snprintf(L.dir, sizeof L.dir, "%s", path);
        char *slash = strrchr(L.dir, '/');
        if (slash)
            slash[slash == L.dir ? 1 : 0] = 0;
        else
            snprintf(L.dir, sizeof L.dir, ".");
        rc = rtg_yaml_load(path, &L.y, err);
        if (!rc)
            rc = parse_top(&L, opt);
        if (!rc) {
            L.b = rtg_plan_builder_new(L.max_block, L.n_inputs, L.sample_rate);
            rc = L.b ? graph_compile(&L) : rtg_error_set(err, RTG_ENOMEM, "out of memory");
        }
        if (!rc) {
            g->plan = rtg_plan_build(L.b, err);
            L.b = NULL;
            if (!g->plan)
                rc = rtg_error_prefix(err, RTG_EINVAL, "%s", path);
            else if (!rtg_model_slots_ready(g->plan, err))
                rc = rtg_error_prefix(err, RTG_ENOMEM, "%s", path);
        }
        g->sample_rate = L.sample_rate;
        g->sample_rate_stated = L.sample_rate_stated;
        g->block_size = L.block_size;
        g->n_inputs = L.n_inputs;
        g->smooth_ms = L.smooth_ms;
        loader_free(&L);
    }
    if (rc) {
        rtg_graph_free(g);
        return rc;
    }
    g->n_outputs = g->plan->n_outputs;
    for (int i = 0; i < g->n_nodes; i++) {
        rtg_graph_node *n = &g->nodes[i];
        for (int s = n->first_step; s < n->first_step + n->n_steps; s++) {
            const rtg_model_slot *slot = rtg_model_slot_at(g->plan, s);
            if (slot)
                n->latency = rtg_model_unit_latency(rtg_model_slot_unit(slot));
        }
    }
    *out = g;
    return RTG_OK;
}

/* ---- params ---- */

int graph_add_param(loader *L, const gnode *n, const char *suffix, int step, int index,
                    float value)
{
    rtg_graph *g = L->g;
    rtg_param_ref *p = realloc(g->params, sizeof *p * (size_t)(g->n_params + 1));
    if (!p)
        return graph_fail(L, RTG_ENOMEM, n->key, n, F_NONE, "out of memory");
    g->params = p;
    p = &g->params[g->n_params++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s.%s%s%s", n->name, n->op->param, suffix ? "." : "",
             suffix ? suffix : "");
    p->step = step;
    p->index = index;
    p->min = n->param_min;
    p->max = n->param_max;
    p->value = value;
    p->unit = n->param_unit;
    return RTG_OK;
}

int rtg_graph_find_param(const rtg_graph *g, const char *name, rtg_param_ref *ref,
                         rtg_error *err)
{
    for (int i = 0; i < g->n_params; i++)
        if (!strcmp(g->params[i].name, name)) {
            *ref = g->params[i];
            return RTG_OK;
        }
    const char *dot = strchr(name, '.');
    size_t base = dot ? (size_t)(dot - name) : strlen(name);
    const rtg_graph_node *node = NULL;
    for (int i = 0; i < g->n_nodes; i++)
        if (strlen(g->nodes[i].name) == base && !strncmp(g->nodes[i].name, name, base))
            node = &g->nodes[i];
    if (!node)
        return rtg_error_set(err, RTG_EINVAL, "unknown param '%s': no node '%.*s'", name,
                             (int)base, name);
    char list[256] = "";
    size_t at = 0;
    int n_match = 0;
    for (int i = 0; i < g->n_params && at < sizeof list; i++)
        if (!strncmp(g->params[i].name, name, base) && g->params[i].name[base] == '.') {
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", n_match ? ", " : "",
                                   g->params[i].name);
            n_match++;
        }
    if (!n_match)
        return rtg_error_set(err, RTG_EINVAL, "unknown param '%s': node '%s' (op %s) has no run-time params",
                             name, node->name, node->op);
    return rtg_error_set(err, RTG_EINVAL, "unknown param '%s' (node '%s' has: %s)", name,
                         node->name, list);
}

int rtg_graph_check_param_value(const rtg_param_ref *ref, double value, rtg_error *err)
{
    if (!isfinite(value) || value < ref->min || value > ref->max)
        return rtg_error_set(err, RTG_EINVAL, "%s: %g is out of range %g..%g%s%s", ref->name,
                             value, (double)ref->min, (double)ref->max, *ref->unit ? " " : "",
                             ref->unit);
    return RTG_OK;
}
