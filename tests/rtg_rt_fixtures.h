/* rtg_rt_fixtures.h — what the real-time runtime's tests share: small
 * model files with deterministic random weights written on the fly (so
 * the tests need no data beside the checkout), graph files in a scratch
 * folder, and a test signal. */
#ifndef RTG_RT_FIXTURES_H
#define RTG_RT_FIXTURES_H

#include <stdint.h>

/* A fresh scratch folder for this test program; removed at exit. Returns
 * its path (static). */
const char *rtg_fx_dir(void);

/* Path of `name` inside the scratch folder (static string, one at a time). */
const char *rtg_fx_path(const char *name);

/* Writes `text` to scratch file `name`; returns its path (a strdup the
 * fixtures free at exit). */
const char *rtg_fx_write(const char *name, const char *text);

typedef enum rtg_fx_kind { RTG_FX_LSTM, RTG_FX_GRU } rtg_fx_kind;

/* Writes an RTNeural Keras model: an LSTM or GRU of `hidden` units on
 * `in_ch` inputs, then a dense layer to 1 output scaled by `out_scale`;
 * weights drawn from `seed`. Returns its path (kept until exit). */
const char *rtg_fx_model(const char *name, rtg_fx_kind kind, int in_ch, int hidden,
                         uint32_t seed, float out_scale);

/* A guitar-like test signal: decaying plucks of two partials plus a
 * little noise, deterministic. */
void rtg_fx_signal(float *x, long frames, double sample_rate);

#endif
