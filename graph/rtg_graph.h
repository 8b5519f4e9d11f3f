/* rtg_graph.h — a graph file (YAML, docs/graph-format.md) built into a plan.
 *
 * rtg_graph_load reads the file, validates everything (fields, types,
 * ranges, sources, channel counts, weights, cycles), orders the nodes and
 * compiles them into one flat rtg_plan: layers as layer steps, DSP ops as
 * custom steps, channel selection and fan-in as small gather steps where a
 * layer needs one contiguous input. Every error is one line,
 * `FILE:LINE:COL: node 'NAME': field 'FIELD': what is wrong`, and a graph
 * that fails to load leaves nothing allocated.
 *
 * A `model` node becomes a model slot (rtg_model_slot.h): one step that runs
 * the model built into its own plan, so it can be swapped while the graph
 * runs. A model trained at another rate than the graph's runs resampled
 * (`resample: false` makes that an error) and `normalize: true` scales it to
 * NAM's loudness target; see rtg_model_slot.h. A model file (RTNeural JSON,
 * .nam: anything that starts with '{') given where a graph is expected
 * loads as a one-node graph: inputs = the model's input channels, one
 * `model` node (a slot), outputs = its channels; it runs at the caller's
 * rate, else the rate the model states, else 48000.
 *
 * Params are named `NODE.PARAM` (`drive.db`) or `NODE.PARAM.K` for one
 * entry of a list param (`blend.weights.1`). rtg_graph_find_param resolves a
 * name to the step and index rtg_plan_set_param takes; the real-time
 * runtime and `render --automation` resolve names with it before anything
 * reaches the audio thread.
 *
 * Thread: non-real-time throughout (the plan it holds is what the audio
 * thread runs).
 */
#ifndef RTG_GRAPH_H
#define RTG_GRAPH_H

#include "rtg_error.h"
#include "rtg_plan.h"

/* How to build a graph; zero-initialise and set what you need. */
typedef struct rtg_graph_options {
    int max_block;      /* most frames per process call; 0: the file's block_size */
    double sample_rate; /* used when the file states none (model files, graphs
                           without sample_rate); 0: 48000 */
} rtg_graph_options;

/* One run-time param of a loaded graph. */
typedef struct rtg_param_ref {
    char name[96];       /* "drive.db", "blend.weights.1" */
    int step, index;     /* for rtg_plan_set_param */
    float min, max;      /* accepted values, inclusive */
    float value;         /* the value the file sets (the plan starts there) */
    const char *unit;    /* "dB", "samples", "" */
} rtg_param_ref;

/* A node as built, for reports. */
typedef struct rtg_graph_node {
    char name[64];
    char op[16];
    int first_step, n_steps; /* the plan steps it became, incl. gathers */
    int out_ch;
    int latency;             /* frames its output runs late: a resampled model's */
} rtg_graph_node;

/* A loaded graph. Read-only for users; free with rtg_graph_free. */
typedef struct rtg_graph {
    rtg_plan *plan;
    char path[512];
    double sample_rate;
    int sample_rate_stated; /* 0: the file states none (sample_rate came from options) */
    int block_size;         /* the file's block_size */
    int n_inputs, n_outputs;
    float smooth_ms;
    rtg_param_ref *params;
    int n_params;
    rtg_graph_node *nodes;  /* in plan order */
    int n_nodes;
} rtg_graph;

/* Loads and builds the graph (or model) file `path`. `opt` may be NULL.
 * Returns RTG_OK with *out set, or a code with *out NULL and err set. */
int rtg_graph_load(const char *path, const rtg_graph_options *opt, rtg_graph **out,
                   rtg_error *err);

/* Frees the graph, its plan and the models its slots hold (NULL is fine). */
void rtg_graph_free(rtg_graph *g);

/* Resolves a param name. Unknown nodes, nodes without that param and list
 * params named without an index are errors that say what exists. */
int rtg_graph_find_param(const rtg_graph *g, const char *name, rtg_param_ref *ref,
                         rtg_error *err);

/* Checks a value against a param's range (and that it is finite); the
 * message names the param and the range. */
int rtg_graph_check_param_value(const rtg_param_ref *ref, double value, rtg_error *err);

/* Frames a param change takes to arrive: smooth_ms at the graph's rate,
 * rounded. Exposed for tests and reports. */
int rtg_graph_ramp_frames(double smooth_ms, double sample_rate);

#endif
