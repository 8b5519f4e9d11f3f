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
 *  The model-formats work adds .nam, .aidax and GuitarML JSON here.
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

/* Appends the model's layers to a plan as a chain reading buffer `in`;
 * returns the id of the buffer that holds the model's output (or a negative
 * code with err set). Step labels are "LABEL/N". */
int rtg_plan_add_model(rtg_plan_builder *b, const rtg_model *m, int in, const char *label,
                       rtg_error *err);

#endif
