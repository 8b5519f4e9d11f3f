/* rtg_graph_internal.h — what the graph loader's two halves share: the
 * parsed node table (rtg_graph.c reads and validates the YAML into it) and
 * the compiler (rtg_graph_compile.c turns it into a plan). Internal to
 * graph/. */
#ifndef RTG_GRAPH_INTERNAL_H
#define RTG_GRAPH_INTERNAL_H

#include "rtg_graph.h"
#include "rtg_layer.h"
#include "rtg_model.h"
#include "rtg_yaml.h"

#define GRAPH_MAX_NODES 4096
#define GRAPH_MAX_SOURCES 256
#define GRAPH_MAX_OUTPUTS 64
#define GRAPH_MAX_INPUTS 64
#define GRAPH_NAME_MAX 64
/* Bounds on numeric fields; the kernels check their own limits again. */
#define GRAPH_MAX_CHANNELS 4096
#define GRAPH_MAX_KERNEL 4096
#define GRAPH_MAX_DILATION 65536

/* Fields a node may carry; op_def.fields says which an op accepts. */
typedef enum node_field {
    F_OP, F_IN, F_PARAMS, F_SMOOTH_MS, F_WEIGHTS, F_FILE, F_ALPHA, F_FROM, F_COUNT,
    F_MAX_SAMPLES, F_MIN, F_MAX, F_KERNEL_SIZE, F_DILATION, F_GROUPS, F_STRIDE,
    F_RESAMPLE, F_NORMALIZE,
    F_N_FIELDS,
    F_OUTPUTS, /* the graph's `outputs`, in messages */
    F_NONE     /* a message about no field */
} node_field;

#define FB(f) (1u << (f))

typedef enum op_kind {
    OP_LAYER,   /* one layer (or a stacked LSTM/GRU) from `weights` */
    OP_ACT,     /* an activation layer */
    OP_MODEL,   /* a whole model file */
    OP_GAIN, OP_ADD, OP_MUL, OP_MIX, OP_CONCAT, OP_SLICE, OP_DELAY, OP_CONTROL,
} op_kind;

typedef struct op_def {
    const char *name;
    op_kind kind;
    rtg_layer_type layer; /* OP_LAYER: the layer type its weights must hold */
    rtg_act act;          /* OP_ACT */
    int min_in, max_in;   /* sources in `in` */
    unsigned fields;      /* accepted (F_OP is always) */
    unsigned required;
    const char *param;    /* its run-time param, or NULL */
    int param_is_list;    /* one value per source (mix weights) */
} op_def;

enum { SRC_INPUT = -1, SRC_ALL = -1 };

/* A source as written: `in`, `in.K`, `NAME`, `NAME.K`. */
typedef struct src_ref {
    const yaml_node_t *at; /* the scalar, for messages */
    int node;              /* index into the node table, or SRC_INPUT */
    int chan;              /* channel K, or SRC_ALL */
} src_ref;

typedef struct gnode {
    char name[GRAPH_NAME_MAX];
    const yaml_node_t *key;             /* the name, for messages about the node */
    const op_def *op;
    const yaml_node_t *field[F_N_FIELDS]; /* each given field's value */
    src_ref *src;
    int n_src;
    /* params as validated (the list form has n_src values) */
    float *param;
    int n_param;
    float param_min, param_max;
    const char *param_unit;
    float smooth_ms;
    /* numeric fields as validated */
    double alpha;
    int from, count, max_samples, conv[4]; /* conv: kernel_size, dilation, groups, stride; 0 = not stated */
    int resample, normalize; /* model: resample a model trained at another rate (default 1);
                                scale to NAM's loudness target (default 0) */
    /* compile results */
    int out_buf, out_ch;
    int placed; /* topological order done */
} gnode;

typedef struct loader {
    rtg_yaml y;
    rtg_error *err;
    char dir[512]; /* the graph file's folder, for relative paths */
    gnode *nodes;
    int n_nodes;
    src_ref *outs;
    int n_outs;
    const yaml_node_t *outs_at;
    int *order; /* node indices in topological order */
    const gnode **by_name; /* the nodes sorted by name, for finding sources */
    double sample_rate;
    int sample_rate_stated;
    int block_size, max_block, n_inputs;
    float smooth_ms;
    rtg_plan_builder *b;
    rtg_graph *g;
    rtg_model **models; /* loaded weights, alive until the plan is built */
    int n_models, cap_models;
} loader;

extern const char *const graph_field_names[F_N_FIELDS];

/* "PATH:L:C: node 'N': field 'F': message" (node and field optional);
 * returns `code`. */
int graph_fail(loader *L, int code, const yaml_node_t *at, const gnode *n, node_field field,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Turns the validated node table into L->b's steps and the graph's param
 * table; then sets the outputs. */
int graph_compile(loader *L);

/* Adds a param to the graph's table. */
int graph_add_param(loader *L, const gnode *n, const char *suffix, int step, int index,
                    float value);

#endif
