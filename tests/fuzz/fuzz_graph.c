/* fuzz_graph.c — libFuzzer target for the YAML graph builder
 * (rtg_graph_load: libyaml, node table, weights references, the compiler,
 * model slots, the plan builder), then the built plan run over blocks.
 *
 * Input: graph text, optionally followed by a line "#=w.json=" and the
 * contents of a weight file the graph can name as `w.json` (a YAML comment
 * line, so the graph part stays a graph). The graph lives in DIR/g/, so
 * "../w/keras_dense.json#0", "../models/amp_lstm.json", "../nam/..." and
 * "../microtcn/..." reach the fixed fixtures rtg_fuzz_setup copies. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtg_fuzz.h"

#define SEP "#=w.json=\n"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rtg_fuzz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *gp = rtg_fuzz_path(0, "g/graph.yaml"), *wp = rtg_fuzz_path(1, "g/w.json");
    const uint8_t *sep = memmem(data, size, SEP, strlen(SEP));
    const size_t ylen = sep ? (size_t)(sep - data) : size;
    rtg_fuzz_write(gp, data, ylen);
    if (sep)
        rtg_fuzz_write(wp, sep + strlen(SEP), size - ylen - strlen(SEP));
    else
        remove(wp);

    rtg_graph *g = NULL;
    rtg_error err;
    memset(&err, 0, sizeof err);
    int rc = rtg_graph_load(gp, NULL, &g, &err);
    if (!rtg_fuzz_loaded("graph", rc, g, &err))
        return 0;
    if (!g || !g->plan || g->n_outputs != g->plan->n_outputs)
        abort();
    /* Every param the graph lists resolves to itself. */
    for (int i = 0; i < g->n_params; i++) {
        rtg_param_ref ref;
        if (rtg_graph_find_param(g, g->params[i].name, &ref, &err) != RTG_OK ||
            ref.step != g->params[i].step || ref.index != g->params[i].index)
            abort();
    }
    rtg_param_ref ref;
    if (g->n_nodes && rtg_graph_find_param(g, g->nodes[0].name, &ref, &err) == RTG_OK)
        abort(); /* a bare node name is never a param */
    rtg_fuzz_run_plan(g->plan, g, data, size);
    rtg_graph_free(g);
    return 0;
}
