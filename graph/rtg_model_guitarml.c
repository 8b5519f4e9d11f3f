/* rtg_model_guitarml.c — GuitarML / Automated-GuitarAmpModelling JSON (what
 * Proteus, NeuralPi and the AIDA-X trainer's predecessor load): a
 * SimpleRNN saved as
 *     {"model_data": {"model": "SimpleRNN", "input_size": 1..3,
 *                     "unit_type": "LSTM"|"GRU", "num_layers": N,
 *                     "hidden_size": H, "skip": 0|1, "output_size": 1, ...},
 *      "state_dict": {"rec.weight_ih_l0": [[...]], ..., "lin.weight": [[...]],
 *                     "lin.bias": [...]}}
 * The state dict is PyTorch's own (nothing transposed), so its rec.* and
 * lin.* groups are read by the state-dict reader (rtg_model_torch.c); this
 * file checks them against model_data. The network computes
 *     y = lin(rec(x)) (+ x[..., 0:skip], broadcast over the outputs)
 * where x is the audio followed by up to two knob values, so skip = 1 adds
 * the audio channel alone. */
#include <stdio.h>
#include <string.h>

#include "rtg_kernel_modules.h"
#include "rtg_model_internal.h"

int rtg_model_is_guitarml(const json_t *root)
{
    return json_is_object(root) &&
           (json_object_get(root, "model_data") || json_object_get(root, "state_dict"));
}

static const char required_keys[] = "model, input_size, unit_type, num_layers, hidden_size, skip";

/* A model_data integer in lo..hi; `required` or else *out keeps its value. */
static int get_int(rtg_model_build *mb, const json_t *md, const char *key, int required, long lo,
                   long hi, int *out)
{
    const json_t *v = json_object_get(md, key);
    if (!v) {
        if (!required)
            return RTG_OK;
        return rtg_model_fail(mb, RTG_EINVAL, "model_data has no \"%s\" (it should give %s)",
                              key, required_keys);
    }
    if (!json_is_integer(v))
        return rtg_model_fail(mb, RTG_EINVAL, "model_data \"%s\" is %s, expected an integer",
                              key, rtg_json_kind(v));
    const json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return rtg_model_fail(mb, x < lo ? RTG_EINVAL : RTG_ENOTSUP,
                              "model_data \"%s\" is %lld, must be %ld..%ld%s", key, (long long)x,
                              lo, hi,
                              !strcmp(key, "input_size") ? " (the audio plus up to two knobs)"
                                                         : "");
    *out = (int)x;
    return RTG_OK;
}

static int read_model_data(rtg_model_build *mb, const json_t *md, int *gates, int *input_size,
                           int *hidden, int *layers, int *outputs)
{
    int rc;
    char text[64];
    const json_t *v = json_object_get(md, "model");
    if (v && !json_is_string(v))
        return rtg_model_fail(mb, RTG_EINVAL, "model_data \"model\" is %s, expected "
                                              "\"SimpleRNN\"", rtg_json_kind(v));
    if (v && strcmp(json_string_value(v), "SimpleRNN"))
        return rtg_model_fail(mb, RTG_ENOTSUP, "model_data \"model\" is \"%s\": only "
                                               "\"SimpleRNN\" is supported",
                              rtg_json_printable(json_string_value(v), text, sizeof text));
    v = json_object_get(md, "unit_type");
    if (!v)
        return rtg_model_fail(mb, RTG_EINVAL, "model_data has no \"unit_type\" (it should give "
                                              "%s)", required_keys);
    if (!json_is_string(v))
        return rtg_model_fail(mb, RTG_EINVAL, "model_data \"unit_type\" is %s, expected "
                                              "\"LSTM\" or \"GRU\"", rtg_json_kind(v));
    if (!strcmp(json_string_value(v), "LSTM"))
        *gates = 4;
    else if (!strcmp(json_string_value(v), "GRU"))
        *gates = 3;
    else
        return rtg_model_fail(mb, RTG_ENOTSUP, "model_data \"unit_type\" is \"%s\": only "
                                               "\"LSTM\" and \"GRU\" are supported",
                              rtg_json_printable(json_string_value(v), text, sizeof text));
    if ((rc = get_int(mb, md, "input_size", 1, 1, 3, input_size)) ||
        (rc = get_int(mb, md, "hidden_size", 1, 1, RTG_MAX_CHANNELS / *gates, hidden)) ||
        (rc = get_int(mb, md, "num_layers", 0, 1, 64, layers)) ||
        (rc = get_int(mb, md, "output_size", 0, 1, RTG_MAX_CHANNELS, outputs)))
        return rc;
    /* skip: the trainer writes 0 or 1, some tools a boolean; it is the
     * number of leading input channels added to the output. */
    v = json_object_get(md, "skip");
    if (!v)
        return rtg_model_fail(mb, RTG_EINVAL, "model_data has no \"skip\" (it should give %s)",
                              required_keys);
    if (json_is_boolean(v))
        mb->skip = json_is_true(v);
    else if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 1)
        mb->skip = (int)json_integer_value(v);
    else if (json_is_integer(v))
        return rtg_model_fail(mb, RTG_ENOTSUP, "model_data \"skip\" is %lld: only 0 or 1 "
                                               "(the audio channel added to the output) is "
                                               "supported", (long long)json_integer_value(v));
    else
        return rtg_model_fail(mb, RTG_EINVAL, "model_data \"skip\" is %s, expected 0, 1, true "
                                              "or false", rtg_json_kind(v));
    return RTG_OK;
}

int rtg_model_read_guitarml(rtg_model_build *mb, const json_t *root, const char *prefix,
                            int layer_index)
{
    mb->layer = -1;
    const json_t *md = json_object_get(root, "model_data");
    const json_t *sd = json_object_get(root, "state_dict");
    if (!sd)
        return rtg_model_fail(mb, RTG_EINVAL, "has \"model_data\" but no \"state_dict\" (the "
                                              "trainer saved no weights)");
    if (!json_is_object(sd) || json_object_size(sd) == 0)
        return rtg_model_fail(mb, RTG_EINVAL, "\"state_dict\" is %s, expected an object of "
                                              "tensors", json_is_object(sd) ? "empty"
                                                                             : rtg_json_kind(sd));
    if (prefix) /* one layer for a graph's `weights:` */
        return rtg_model_read_torch(mb, sd, prefix, layer_index);
    if (!md)
        return rtg_model_fail(mb, RTG_EINVAL, "has \"state_dict\" but no \"model_data\" (it "
                                              "should give %s)", required_keys);
    if (!json_is_object(md))
        return rtg_model_fail(mb, RTG_EINVAL, "\"model_data\" is %s, expected an object",
                              rtg_json_kind(md));
    int gates = 0, input_size = 0, hidden = 0, layers = 0, outputs = 1, rc;
    if ((rc = read_model_data(mb, md, &gates, &input_size, &hidden, &layers, &outputs)))
        return rc;

    /* A SimpleRNN has rec.NAME and lin.NAME and nothing else. */
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)sd, key, v) {
        (void)v;
        if ((strncmp(key, "rec.", 4) && strncmp(key, "lin.", 4)) || strchr(key + 4, '.')) {
            char text[96];
            return rtg_model_fail(mb, RTG_EINVAL, "state_dict has \"%s\", which a SimpleRNN "
                                                  "does not (only rec.* and lin.*)",
                                  rtg_json_printable(key, text, sizeof text));
        }
    }
    if (!json_object_get(sd, "rec.weight_ih_l0"))
        return rtg_model_fail(mb, RTG_EINVAL, "state_dict has no \"rec.weight_ih_l0\"");
    if (!json_object_get(sd, "lin.weight"))
        return rtg_model_fail(mb, RTG_EINVAL, "state_dict has no \"lin.weight\"");

    if ((rc = rtg_model_read_torch(mb, sd, "rec", -1)))
        return rc;
    mb->layer = -1;
    const int n_rec = mb->n_layers;
    const rtg_layer_desc *first = &mb->layers[0], *last = &mb->layers[n_rec - 1];
    const rtg_layer_type want = gates == 4 ? RTG_LAYER_LSTM : RTG_LAYER_GRU;
    if (first->type != want)
        return rtg_model_fail(mb, RTG_EINVAL, "model_data says unit_type %s but "
                                              "rec.weight_hh_l0 has %d x hidden_size rows (%s)",
                              gates == 4 ? "LSTM" : "GRU", gates == 4 ? 3 : 4,
                              gates == 4 ? "a GRU" : "an LSTM");
    if (first->in_ch != input_size)
        return rtg_model_fail(mb, RTG_EINVAL, "model_data says input_size %d but "
                                              "rec.weight_ih_l0 takes %d inputs",
                              input_size, first->in_ch);
    if (last->out_ch != hidden)
        return rtg_model_fail(mb, RTG_EINVAL, "model_data says hidden_size %d but the rec.* "
                                              "tensors have %d", hidden, last->out_ch);
    if (layers && n_rec != layers)
        return rtg_model_fail(mb, RTG_EINVAL, "model_data says num_layers %d but state_dict "
                                              "has %d (rec.weight_ih_l0..l%d)",
                              layers, n_rec, n_rec - 1);

    if ((rc = rtg_model_read_torch(mb, sd, "lin", -1)))
        return rc;
    mb->layer = -1;
    const rtg_layer_desc *lin = &mb->layers[mb->n_layers - 1];
    if (mb->n_layers != n_rec + 1 || lin->type != RTG_LAYER_DENSE)
        return rtg_model_fail(mb, RTG_EINVAL, "lin.weight is not a Linear layer's [out][%d]",
                              hidden);
    if (lin->in_ch != hidden)
        return rtg_model_fail(mb, RTG_EINVAL, "lin.weight takes %d inputs but hidden_size is %d",
                              lin->in_ch, hidden);
    if (lin->out_ch != outputs)
        return rtg_model_fail(mb, RTG_EINVAL, "model_data says output_size %d but lin.weight "
                                              "gives %d", outputs, lin->out_ch);
    int stated;
    return rtg_model_read_meta(mb, root, &stated);
}
