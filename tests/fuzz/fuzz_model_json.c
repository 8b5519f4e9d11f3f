/* fuzz_model_json.c — libFuzzer target for the RTNeural model loaders:
 * Keras sequential JSON and PyTorch state dicts (rtg_model_load, and
 * rtg_model_load_layer as a graph's `weights:` reference uses it), then
 * the model built into a plan and run over blocks.
 *
 * Input: the file's bytes. Blocks of up to 1..64 frames, chosen by the
 * input's length so one corpus covers several plan shapes. */
#include <stdlib.h>
#include <string.h>

#include "rtg_fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rtg_fuzz_setup();
    return 0;
}

static void check_model(const rtg_model *m)
{
    if (m->in_ch < 1 || m->out_ch < 1 || (m->n_layers < 1 && !m->wavenet))
        abort();
    if (m->n_layers && (m->layers[0].in_ch != m->in_ch ||
                        m->layers[m->n_layers - 1].out_ch != m->out_ch))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = rtg_fuzz_path(0, "g/model.json");
    rtg_fuzz_write(path, data, size);
    const int max_block = 1 + (int)(size % 64);
    rtg_error err;
    memset(&err, 0, sizeof err);

    rtg_model *m = NULL;
    int rc = rtg_model_load(path, &m, &err);
    if (rtg_fuzz_loaded("model", rc, m, &err)) {
        check_model(m);
        rtg_fuzz_run_model(m, max_block, data, size);
        rtg_model_free(m);
    }
    /* As a graph reference: Keras layer 0, or a lone PyTorch layer. */
    m = NULL;
    memset(&err, 0, sizeof err);
    rc = rtg_model_load_layer(path, "", 0, &m, &err);
    if (rtg_fuzz_loaded("layer 0", rc, m, &err)) {
        if (m->n_layers < 1)
            abort();
        rtg_fuzz_run_model(m, max_block, data, size);
        rtg_model_free(m);
    }
    return 0;
}
