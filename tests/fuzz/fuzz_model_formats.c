/* fuzz_model_formats.c — libFuzzer target for the other model formats
 * rtg_model_load dispatches to: AIDA-X (.aidax) and GuitarML JSON, then
 * the model built into a plan and run over blocks, and an AIDA-X file's
 * reference batches replayed (rtg_model_selftest).
 *
 * Input: the file's bytes, written once as model.aidax and loaded, so
 * both content-detected formats and the .aidax name reach their reader. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = rtg_fuzz_path(0, "g/model.aidax");
    rtg_fuzz_write(path, data, size);
    rtg_error err;
    memset(&err, 0, sizeof err);
    rtg_model *m = NULL;
    int rc = rtg_model_load(path, &m, &err);
    if (!rtg_fuzz_loaded("model", rc, m, &err))
        return 0;
    if (m->in_ch < 1 || m->out_ch < 1 || (m->n_layers < 1 && !m->wavenet))
        abort();
    rtg_fuzz_run_model(m, 1 + (int)(size % 64), data, size);
    /* AIDA-X reference batches replayed as `rtgraph check` does. */
    if (m->n_ref) {
        rtg_selftest_result r;
        if (rtg_model_selftest(m, 64, 48000, &r, &err) == RTG_OK && r.frames != m->n_ref)
            abort();
    }
    rtg_model_free(m);
    return 0;
}
