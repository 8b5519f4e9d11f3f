/* fuzz_csv.c — libFuzzer target for the CSV frames reader `rtgraph infer`
 * uses (rtg_csv_read). What it accepts must survive a write and read back
 * bit for bit (the format's promise), and one- or two-channel frames are
 * run through the shipped amp models as infer would.
 *
 * Input: the CSV file's bytes. */
#include <stdlib.h>
#include <string.h>

#include "rtg_csv.h"
#include "rtg_fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Plans of models/amp_lstm.json (1 in) and amp_knob.json (2 in), built
 * once; NULL when the models cannot be loaded (then only parsing runs). */
static rtg_plan *g_plan[3];

static rtg_plan *build(const char *rel)
{
    rtg_error err;
    rtg_model *m = NULL;
    if (rtg_model_load(rtg_fuzz_path(2, rel), &m, &err))
        return NULL;
    rtg_plan_builder *b = rtg_plan_builder_new(64, m->in_ch, 48000);
    int y = b ? rtg_plan_add_model(b, m, rtg_plan_input(b), "model", &err) : -1;
    int chan = 0;
    rtg_plan *p = NULL;
    if (y > 0 && m->out_ch == 1 && rtg_plan_set_outputs(b, 1, &y, &chan, &err) == RTG_OK)
        p = rtg_plan_build(b, &err);
    else
        rtg_plan_builder_free(b);
    rtg_model_free(m);
    return p && p->n_inputs >= 1 && p->n_inputs <= 2 ? p : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rtg_fuzz_setup();
    rtg_plan *a = build("models/amp_lstm.json"), *k = build("models/amp_knob.json");
    if (a)
        g_plan[a->n_inputs] = a;
    if (k)
        g_plan[k->n_inputs] = k;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = rtg_fuzz_path(0, "g/x.csv"), *back = rtg_fuzz_path(1, "g/y.csv");
    rtg_fuzz_write(path, data, size);
    rtg_error err;
    memset(&err, 0, sizeof err);
    rtg_csv x;
    int rc = rtg_csv_read(path, &x, &err);
    if (!rtg_fuzz_loaded("csv", rc, x.data, &err))
        return 0;
    if (x.frames < 1 || x.channels < 1 || !x.data)
        abort();
    /* Write, read back, compare exactly. */
    rtg_csv y;
    if (rtg_csv_write(back, x.data, x.frames, x.channels, &err) != RTG_OK ||
        rtg_csv_read(back, &y, &err) != RTG_OK)
        abort();
    if (y.frames != x.frames || y.channels != x.channels ||
        memcmp(x.data, y.data, sizeof(float) * (size_t)x.frames * (size_t)x.channels))
        abort();
    rtg_csv_free(&y);
    rtg_plan *p = x.channels <= 2 ? g_plan[x.channels] : NULL;
    if (p) {
        long frames = x.frames < 2048 ? x.frames : 2048;
        float *out = malloc(sizeof(float) * (size_t)frames * (size_t)p->n_outputs);
        if (!out)
            abort();
        rtg_plan_reset(p);
        rtg_plan_process_long(p, x.data, out, frames);
        free(out);
    }
    rtg_csv_free(&x);
    return 0;
}
