/* fuzz_nam.c — libFuzzer target for the Neural Amp Modeler loader
 * (rtg_nam_load: LSTM and WaveNet configs against their weights), then the
 * model built into a plan (the WaveNet expanded into steps) and run.
 *
 * Input: the .nam file's bytes. */
#include <stdlib.h>
#include <string.h>

#include "rtg_fuzz.h"
#include "rtg_nam.h"

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
    const char *path = rtg_fuzz_path(0, "g/model.nam");
    rtg_fuzz_write(path, data, size);
    rtg_error err;
    memset(&err, 0, sizeof err);
    rtg_model *m = NULL;
    int rc = rtg_nam_load(path, &m, &err);
    if (!rtg_fuzz_loaded("nam", rc, m, &err))
        return 0;
    if (m->in_ch != 1 || m->out_ch != 1 || (!m->wavenet && m->n_layers < 2) ||
        m->prewarm_samples < 1 || !(m->meta.sample_rate > 0))
        abort();
    rtg_fuzz_run_model(m, 1 + (int)(size % 48), data, size);
    rtg_model_free(m);
    return 0;
}
