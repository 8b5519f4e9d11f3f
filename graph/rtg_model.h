/* rtg_model.h — model files loaded into layer descriptions.
 *
 * A model is a sequence of layers (rtg_layer_desc) whose weights the model
 * owns. Loaders read a file with jansson, check every shape and value, and
 * never hand back a half-built model: on failure the model is NULL and the
 * error says `FILE: layer N (TYPE): what is wrong`.
 *
 * Formats:
 *  - RTNeural Keras sequential JSON: {"in_shape": [...], "layers": [...]}.
 *  - PyTorch state-dict JSON ({"prefix.weight": [[...]], ...}) as RTNeural's
 *    torch helpers read it. As a whole model, the tensors are grouped by
 *    prefix in file order and each group becomes the layer its tensors imply
 *    (Linear, Conv1d, LSTM/GRU with stacked _lN layers, BatchNorm1d, PReLU).
 *  - AIDA-X (.aidax, or RTNeural Keras JSON with AIDA-X's keys): the Keras
 *    layers plus in_skip, in_gain/out_gain (dB), metadata (name, author,
 *    samplerate, possibly a string) and the trainer's reference
 *    input_batch/output_batch, which rtg_model_selftest replays.
 *  - GuitarML / Automated-GuitarAmpModelling JSON: {"model_data": {model,
 *    input_size 1..3, unit_type LSTM|GRU, num_layers, hidden_size, skip},
 *    "state_dict": {rec.*, lin.*}}, a SimpleRNN (rtg_model_guitarml.c).
 *  - Neural Amp Modeler .nam (rtg_nam.c).
 *  See docs/models.md.
 *
 * Thread: non-real-time throughout.
 */
#ifndef RTG_MODEL_H
#define RTG_MODEL_H

#include "rtg_error.h"
#include "rtg_layer.h"
#include "rtg_plan.h"

/* What a model file says about itself (NAM and AIDA-X files carry it). */
typedef struct rtg_model_meta {
    char name[128], modeled_by[128], gear_type[64], gear_make[128], gear_model[128], tone_type[64];
    double loudness;         /* dB, valid if has_loudness */
    double input_level_dbu;  /* valid if has_input_level */
    double output_level_dbu; /* valid if has_output_level */
    int has_loudness, has_input_level, has_output_level;
    double sample_rate;      /* Hz the model was trained at; 0 = not stated */
} rtg_model_meta;

typedef struct rtg_wavenet rtg_wavenet; /* graph/rtg_nam.h */

typedef struct rtg_model {
    int n_layers;
    rtg_layer_desc *layers; /* weight pointers point into `store` */
    int in_ch, out_ch;
    float *store;           /* all weights of the model */
    size_t store_floats;
    char path[512];
    rtg_model_meta meta;
    /* Silence run through the model after every reset, so playback starts
     * settled (NAM's pre-warm); 0 for none. */
    long prewarm_samples;
    /* A NAM WaveNet is not a layer sequence: when set, n_layers is 0 and
     * this describes the network (one allocation, freed with the model). */
    rtg_wavenet *wavenet;
    /* What AIDA-X and GuitarML models wrap around their layers, applied by
     * rtg_plan_add_model in this order (x0 = input channel 0, the audio):
     *     x0 *= 10^(in_gain_db/20)          (the other inputs are knobs: as is)
     *     y = layers(x)
     *     y += x0 (every output channel)    when skip
     *     y *= 10^(out_gain_db/20)
     * The defaults (0 dB, no skip) add no plan steps. */
    float in_gain_db, out_gain_db;
    int skip;
    /* AIDA-X self-test data: the trainer's input_batch (audio; knobs are 0
     * as AIDA-X tests them) and output_batch, n_ref frames each; NULL and 0
     * when the file has none. */
    float *ref_in, *ref_out;
    long n_ref;
} rtg_model;

/* Loads a whole sequential model from `path`, detecting the format. */
int rtg_model_load(const char *path, rtg_model **out, rtg_error *err);

/* Loads one layer for a graph's `weights:` reference:
 *  - Keras file: `layer_index` >= 0 picks entry N of "layers";
 *  - PyTorch state dict: the tensors whose keys start with `prefix` ("" for
 *    a file holding one layer); `layer_index` picks one layer of a stacked
 *    LSTM/GRU (-1: the whole stack, which must then be one layer).
 * The result holds the layers of that reference: one, or several for a whole
 * stacked LSTM/GRU (an activation fused into a Keras dense/conv1d stays one
 * layer with desc.act set). */
int rtg_model_load_layer(const char *path, const char *prefix, int layer_index,
                         rtg_model **out, rtg_error *err);

void rtg_model_free(rtg_model *m);

/* The self-test tolerance: the max abs error may be at most
 * RTG_SELFTEST_REL_TOL x the peak |output_batch|, and never needs to be
 * below RTG_SELFTEST_ABS_FLOOR (AIDA-X's own absolute threshold) so a
 * near-silent reference does not demand more than float math gives. */
#define RTG_SELFTEST_REL_TOL 1e-4
#define RTG_SELFTEST_ABS_FLOOR 1e-5

typedef struct rtg_selftest_result {
    long frames;
    double max_err;    /* max |ours - output_batch| */
    long worst_frame;  /* where it is */
    double peak;       /* max |output_batch| */
    double tolerance;  /* what max_err was held to */
    int pass;          /* max_err <= tolerance */
} rtg_selftest_result;

/* Replays the model's reference data: builds the model into its own plan
 * (blocks of max_block frames at sample_rate), resets it, runs input_batch
 * once through channel 0 (other inputs 0) and compares output channel 0
 * with output_batch. RTG_OK with *r filled whether or not it passed; an
 * error if the model has no reference data or cannot be built. */
int rtg_model_selftest(const rtg_model *m, int max_block, double sample_rate,
                       rtg_selftest_result *r, rtg_error *err);

/* Appends the model's layers to a plan as a chain reading buffer `in`;
 * returns the id of the buffer that holds the model's output (or a negative
 * code with err set). Step labels are "LABEL/N". */
int rtg_plan_add_model(rtg_plan_builder *b, const rtg_model *m, int in, const char *label,
                       rtg_error *err);

#endif
