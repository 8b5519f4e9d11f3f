/* rtg_model_internal.h — what the model-format readers of graph/ share: a
 * model under construction, JSON tensors read with full checking, and errors
 * that name the file and the layer.
 *
 * Internal to graph/ (rtg_model*.c). Thread: non-real-time throughout.
 */
#ifndef RTG_MODEL_INTERNAL_H
#define RTG_MODEL_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "rtg_model.h"

/* One weight allocation of a layer being built; merged into the model's one
 * store when the model is finished. */
typedef struct rtg_model_chunk {
    int layer;
    float *p;
    size_t n;
} rtg_model_chunk;

/* A model under construction. Readers append layers and allocate their
 * weights here; rtg_model.c moves them into one rtg_model at the end, or
 * frees them all on failure, so a reader that fails just returns. */
typedef struct rtg_model_build {
    const char *path;
    rtg_error *err;
    rtg_layer_desc *layers;
    int n_layers, cap_layers;
    rtg_model_chunk *chunks;
    int n_chunks, cap_chunks;
    int first;          /* first layer handed out (rtg_model_load_layer) */
    /* message context: the layer being read, or -1 */
    int layer;
    char what[64];      /* its type (and name) as the file spells it */
    /* Whole-model extras a reader found (AIDA-X, GuitarML); moved into the
     * model by rtg_model.c, ref_in/ref_out freed there on failure. */
    rtg_model_meta meta;
    float in_gain_db, out_gain_db;
    int skip;
    float *ref_in, *ref_out;
    long n_ref;
} rtg_model_build;

/* Sets the message context to layer `index` described by `fmt`. */
void rtg_model_build_at(rtg_model_build *mb, int index, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats "PATH: layer N (WHAT): message" (or "PATH: message" outside a
 * layer) into mb->err and returns `code`. */
int rtg_model_fail(rtg_model_build *mb, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends a zeroed layer (dilation, groups, stride 1) and returns it, or NULL
 * with the error set. Pointers returned earlier stay valid only until the
 * next call. */
rtg_layer_desc *rtg_model_add_layer(rtg_model_build *mb);

/* `n` zeroed floats owned by the last added layer, or NULL with the error set. */
float *rtg_model_floats(rtg_model_build *mb, size_t n);

/* Refuses a size outside 1..max (before anything is allocated for it). */
int rtg_model_check_size(rtg_model_build *mb, const char *what, long value, long max);

/* A nested JSON array of numbers: shape and values, checked. */
typedef struct rtg_tensor {
    int rank;        /* 0 for a plain number */
    int dim[4];
    size_t count;
    const json_t *json;
} rtg_tensor;

/* Checks that `v` is a number or a rectangular nested array of at most 4
 * dimensions, none empty, whose every value is a number that fits a float.
 * `name` names it in messages ("weights[1]", "lstm.weight_ih_l0"). */
int rtg_tensor_read(rtg_model_build *mb, const json_t *v, const char *name, rtg_tensor *t);

/* Checks rank and dims (-1: any) and fails with both shapes otherwise. */
int rtg_tensor_expect(rtg_model_build *mb, const rtg_tensor *t, const char *name, int rank,
                      int d0, int d1, int d2, int d3);

/* Copies the values row-major into dst (t->count floats). */
void rtg_tensor_copy(const rtg_tensor *t, float *dst);

/* One value by index (rank 1..4); jansson arrays index in O(1), so layout
 * conversions read straight from the JSON. */
float rtg_tensor_at(const rtg_tensor *t, int i, int j, int k, int l);

/* A string from the file made fit for a one-line message: at most size-1
 * bytes, control characters replaced by '?'. Returns buf. */
const char *rtg_json_printable(const char *s, char *buf, size_t size);

/* "an object", "a string", ... for messages. */
const char *rtg_json_kind(const json_t *v);

/* Formats a tensor's shape as "[a][b]" into buf. */
const char *rtg_tensor_shape(const rtg_tensor *t, char *buf, size_t size);

/* The format readers. Each appends layers to mb.
 * Keras: layers 0..last (last < 0: all).
 * Torch: the groups of tensors selected by `prefix` (NULL: the whole file as
 * a sequential model); `layer_index` picks one layer of a stacked RNN. */
int rtg_model_read_keras(rtg_model_build *mb, const json_t *root, int last);
int rtg_model_read_torch(rtg_model_build *mb, const json_t *root, const char *prefix,
                         int layer_index);

/* AIDA-X's keys around the Keras layers just read (a whole model): in_skip,
 * in_gain, out_gain, metadata, samplerate, input_batch/output_batch. The
 * sample rate defaults to AIDA-X's 48000 for a file that is AIDA-X (.aidax
 * or any of its keys), else stays 0. rtg_model_aidax.c. */
int rtg_model_read_aidax(rtg_model_build *mb, const json_t *root);

/* A GuitarML / Automated-GuitarAmpModelling file: has "model_data" or
 * "state_dict" at the top. */
int rtg_model_is_guitarml(const json_t *root);

/* Reads one: the whole SimpleRNN (prefix NULL) with its skip, or, for a
 * graph's `weights:` reference, the state_dict tensors under `prefix` as
 * rtg_model_read_torch does. rtg_model_guitarml.c. */
int rtg_model_read_guitarml(rtg_model_build *mb, const json_t *root, const char *prefix,
                            int layer_index);

/* Optional "metadata" object (name, author or modeled_by, gear_*, tone_type,
 * loudness, input/output_level_dbu, samplerate) and a top-level
 * "samplerate"/"name"/"author", into mb->meta. A samplerate may be a
 * number or a numeric string; anything else is an error. Sets *stated to
 * whether a sample rate was given. rtg_model_aidax.c. */
int rtg_model_read_meta(rtg_model_build *mb, const json_t *root, int *stated);

/* Checks, before the next layer is added, that it takes `takes` channels
 * when the previous layer (or the model input) gives `gives`. */
int rtg_model_check_chain(rtg_model_build *mb, int takes, int gives);

#endif
