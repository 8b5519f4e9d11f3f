"""make_format_fixtures.py — the small model files tests/test_model_formats.c reads.

Writes tests/data/formats/: AIDA-X files (.aidax: RTNeural Keras layers plus
in_skip, in_gain/out_gain, metadata and the trainer's input_batch /
output_batch), GuitarML / Automated-GuitarAmpModelling files (model_data +
a PyTorch state_dict), a YAML graph feeding a knob into a conditioned one,
the expected outputs as CSV, and malformed files under bad/.

Every expected output here comes from the NumPy reference below, written
from the frameworks' own equations (PyTorch's nn.LSTM / nn.GRU docs, Keras's
LSTM / GRU with reset_after=True, AIDA-X's applyModel wrapping, the SimpleRNN
forward of Automated-GuitarAmpModelling) in float64 over float32 weights. It
shares nothing with rtgraph, so a test comparing rtgraph against these files
checks rtgraph's loaders, not rtgraph against itself.

Needs NumPy only: /usr/bin/python3 tools/make_format_fixtures.py [--out-dir DIR]
Seeded: a rerun writes the same files.
"""

import argparse
import json
import math
import os

import numpy as np

SEED = 20240917


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# ---- reference math ---------------------------------------------------------

def torch_lstm(x, w_ih, w_hh, b_ih, b_hh):
    """PyTorch nn.LSTM, one layer, zero initial state. x [T][in] -> [T][H].
    Gates stacked i, f, g, o in w_ih [4H][in], w_hh [4H][H]."""
    hidden = w_hh.shape[1]
    h = np.zeros(hidden)
    c = np.zeros(hidden)
    out = np.zeros((x.shape[0], hidden))
    for t in range(x.shape[0]):
        pre = w_ih @ x[t] + b_ih + w_hh @ h + b_hh
        i = sigmoid(pre[0:hidden])
        f = sigmoid(pre[hidden:2 * hidden])
        g = np.tanh(pre[2 * hidden:3 * hidden])
        o = sigmoid(pre[3 * hidden:4 * hidden])
        c = f * c + i * g
        h = o * np.tanh(c)
        out[t] = h
    return out


def torch_gru(x, w_ih, w_hh, b_ih, b_hh):
    """PyTorch nn.GRU, one layer, zero initial state. Gates r, z, n:
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h = (1 - z) n + z h."""
    hidden = w_hh.shape[1]
    h = np.zeros(hidden)
    out = np.zeros((x.shape[0], hidden))
    for t in range(x.shape[0]):
        gi = w_ih @ x[t] + b_ih
        gh = w_hh @ h + b_hh
        r = sigmoid(gi[0:hidden] + gh[0:hidden])
        z = sigmoid(gi[hidden:2 * hidden] + gh[hidden:2 * hidden])
        n = np.tanh(gi[2 * hidden:] + r * gh[2 * hidden:])
        h = (1.0 - z) * n + z * h
        out[t] = h
    return out


def keras_lstm(x, kernel, recurrent, bias):
    """Keras LSTM: kernel [in][4H], recurrent [H][4H], bias [4H], gates
    i, f, c, o along the last axis, recurrent activation sigmoid."""
    hidden = recurrent.shape[0]
    h = np.zeros(hidden)
    c = np.zeros(hidden)
    out = np.zeros((x.shape[0], hidden))
    for t in range(x.shape[0]):
        z = x[t] @ kernel + h @ recurrent + bias
        i = sigmoid(z[:hidden])
        f = sigmoid(z[hidden:2 * hidden])
        cc = np.tanh(z[2 * hidden:3 * hidden])
        o = sigmoid(z[3 * hidden:])
        c = f * c + i * cc
        h = o * np.tanh(c)
        out[t] = h
    return out


def keras_gru(x, kernel, recurrent, bias):
    """Keras GRU with reset_after=True: kernel [in][3H], recurrent [H][3H],
    bias [2][3H] (input, recurrent); gates z, r, h along the last axis;
    h = z * h_prev + (1 - z) * hh."""
    hidden = recurrent.shape[0]
    h = np.zeros(hidden)
    out = np.zeros((x.shape[0], hidden))
    for t in range(x.shape[0]):
        xi = x[t] @ kernel + bias[0]
        hi = h @ recurrent + bias[1]
        z = sigmoid(xi[:hidden] + hi[:hidden])
        r = sigmoid(xi[hidden:2 * hidden] + hi[hidden:2 * hidden])
        hh = np.tanh(xi[2 * hidden:] + r * hi[2 * hidden:])
        h = z * h + (1.0 - z) * hh
        out[t] = h
    return out


def db(gain_db):
    return 10.0 ** (gain_db / 20.0)


# ---- data -------------------------------------------------------------------

def f32(a):
    """float32 values as float64, so the reference sees what the file holds."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def weights(rng, *shape, scale=1.0):
    fan = shape[-1] if len(shape) > 1 else 1
    return f32(rng.uniform(-1.0, 1.0, size=shape) * scale / math.sqrt(fan))


def guitar_like(rng, frames, peak=0.5):
    """A few decaying partials and a little noise: enough to move an RNN."""
    t = np.arange(frames) / 48000.0
    x = np.zeros(frames)
    for f, a, d in ((110.0, 1.0, 30.0), (220.0, 0.5, 40.0), (330.0, 0.3, 60.0),
                    (1250.0, 0.1, 90.0)):
        x += a * np.sin(2 * math.pi * f * t + rng.uniform(0, 2 * math.pi)) * np.exp(-d * t)
    x += 0.02 * rng.standard_normal(frames)
    return f32(x / np.max(np.abs(x)) * peak)


def as_list(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64).tolist()


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def write_csv(path, frames):
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim == 1:
        frames = frames[:, None]
    with open(path, "w") as f:
        for row in frames:
            f.write(",".join("%.9g" % v for v in row) + "\n")


# ---- AIDA-X -----------------------------------------------------------------

def aidax_lstm(rng):
    """LSTM(8) + dense, in_skip 1, in_gain -3 dB, out_gain +2.5 dB, and the
    trainer's self-test batches, as AIDA-X applies them:
    a = x * in_gain; y = (dense(lstm(a)) + a) * out_gain."""
    hidden, frames = 8, 600
    kernel = weights(rng, 1, 4 * hidden, scale=2.0)
    recurrent = weights(rng, hidden, 4 * hidden)
    bias = weights(rng, 4 * hidden, scale=0.5)
    dense_w = weights(rng, hidden, 1, scale=1.5)
    dense_b = weights(rng, 1, scale=0.1)
    in_gain, out_gain = -3.0, 2.5
    x = guitar_like(rng, frames)
    a = x * db(in_gain)
    h = keras_lstm(a[:, None], kernel, recurrent, bias)
    y = ((h @ dense_w)[:, 0] + dense_b[0] + a) * db(out_gain)
    model = {
        "in_shape": [None, None, 1],
        "in_skip": 1,
        "in_gain": in_gain,
        "out_gain": out_gain,
        "layers": [
            {"type": "lstm", "activation": "", "shape": [None, None, hidden],
             "weights": [as_list(kernel), as_list(recurrent), as_list(bias)]},
            {"type": "dense", "activation": "", "shape": [None, None, 1],
             "weights": [as_list(dense_w), as_list(dense_b)]},
        ],
        "metadata": {"name": "Fixture Twin", "author": "rtgraph tests",
                     "samplerate": "48000", "style": "clean"},
        "input_batch": as_list(x),
        "output_batch": as_list(y),
    }
    return model, y


def aidax_cond(rng):
    """A conditioned GRU(6) + dense taking [audio, knob], in_skip true, no
    gains; the batches are run with the knob at 0, as AIDA-X tests them."""
    hidden, frames = 6, 400
    kernel = weights(rng, 2, 3 * hidden, scale=2.0)
    recurrent = weights(rng, hidden, 3 * hidden)
    bias = weights(rng, 2, 3 * hidden, scale=0.5)
    dense_w = weights(rng, hidden, 1)
    dense_b = weights(rng, 1, scale=0.1)
    x = guitar_like(rng, frames, peak=0.4)
    xin = np.stack([x, np.zeros(frames)], axis=1)
    h = keras_gru(xin, kernel, recurrent, bias)
    y = (h @ dense_w)[:, 0] + dense_b[0] + x
    model = {
        "in_shape": [None, None, 2],
        "in_skip": True,
        "layers": [
            {"type": "gru", "activation": "tanh", "shape": [None, None, hidden],
             "weights": [as_list(kernel), as_list(recurrent), as_list(bias)]},
            {"type": "dense", "activation": "", "shape": [None, None, 1],
             "weights": [as_list(dense_w), as_list(dense_b)]},
        ],
        "metadata": {"samplerate": 48000, "name": "Fixture Cond"},
        "input_batch": as_list(x),
        "output_batch": as_list(y),
    }
    return model


# ---- GuitarML ---------------------------------------------------------------

def simple_rnn(rng, unit, input_size, hidden, layers, skip, skip_json=None):
    """Automated-GuitarAmpModelling's SimpleRNN: rec (nn.LSTM / nn.GRU,
    `layers` stacked) then lin (nn.Linear H -> 1), plus x[:, 0:skip]."""
    g = 4 if unit == "LSTM" else 3
    sd = {}
    params = []
    for k in range(layers):
        width = input_size if k == 0 else hidden
        w_ih = weights(rng, g * hidden, width, scale=2.0)
        w_hh = weights(rng, g * hidden, hidden)
        b_ih = weights(rng, g * hidden, scale=0.5)
        b_hh = weights(rng, g * hidden, scale=0.5)
        params.append((w_ih, w_hh, b_ih, b_hh))
        sd["rec.weight_ih_l%d" % k] = as_list(w_ih)
        sd["rec.weight_hh_l%d" % k] = as_list(w_hh)
        sd["rec.bias_ih_l%d" % k] = as_list(b_ih)
        sd["rec.bias_hh_l%d" % k] = as_list(b_hh)
    lin_w = weights(rng, 1, hidden, scale=1.5)
    lin_b = weights(rng, 1, scale=0.1)
    sd["lin.weight"] = as_list(lin_w)
    sd["lin.bias"] = as_list(lin_b)
    model = {
        "model_data": {"model": "SimpleRNN", "input_size": input_size,
                       "skip": skip if skip_json is None else skip_json,
                       "output_size": 1, "unit_type": unit, "num_layers": layers,
                       "hidden_size": hidden, "bias_fl": True},
        "state_dict": sd,
    }

    def run(x):
        h = x
        for p in params:
            h = (torch_lstm if unit == "LSTM" else torch_gru)(h, *p)
        y = h @ lin_w.T + lin_b
        if skip:
            y = y + x[:, 0:skip]
        return y

    return model, run


def tiny_bad(unit="LSTM", input_size=1, hidden=2, drop=None, **changes):
    """A small well-formed SimpleRNN to break one thing in."""
    rng = np.random.default_rng(7)
    model, _ = simple_rnn(rng, unit, input_size, hidden, 1, 0)
    model["model_data"].update(changes)
    if drop:
        del model["model_data"][drop]
    return model


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(here, "..", "tests", "data", "formats"))
    args = ap.parse_args()
    out = os.path.normpath(args.out_dir)
    os.makedirs(os.path.join(out, "bad"), exist_ok=True)
    rng = np.random.default_rng(SEED)

    model, y = aidax_lstm(rng)
    write_json(os.path.join(out, "aidax_lstm.aidax"), model)
    # The same model with an output_batch that no longer matches it.
    wrong = dict(model)
    wrong["output_batch"] = as_list(y + np.where(np.arange(len(y)) >= 300, 0.01, 0.0))
    write_json(os.path.join(out, "aidax_wrong_batch.aidax"), wrong)
    write_json(os.path.join(out, "aidax_cond.aidax"), aidax_cond(rng))

    x = guitar_like(rng, 500)
    model, run = simple_rnn(rng, "LSTM", 1, 8, 1, 1)
    write_json(os.path.join(out, "gml_lstm_skip.json"), model)
    write_csv(os.path.join(out, "gml_x.csv"), x)
    write_csv(os.path.join(out, "gml_lstm_skip_y.csv"), run(x[:, None]))

    model, run = simple_rnn(rng, "GRU", 1, 6, 2, 0)
    write_json(os.path.join(out, "gml_gru.json"), model)
    write_csv(os.path.join(out, "gml_gru_y.csv"), run(x[:, None]))

    # Proteus-style: [audio, knob]; skip given as a boolean adds the audio only.
    knob = 0.35
    model, run = simple_rnn(rng, "LSTM", 2, 8, 1, 1, skip_json=True)
    write_json(os.path.join(out, "proteus_knob.json"), model)
    write_csv(os.path.join(out, "proteus_knob_y.csv"),
              run(np.stack([x, np.full(len(x), float(np.float32(knob)))], axis=1)))
    with open(os.path.join(out, "proteus_knob.yaml"), "w") as f:
        f.write("# proteus_knob.yaml — a GuitarML conditioned model: the audio and a knob\n"
                "# (written by tools/make_format_fixtures.py)\n"
                "rtgraph: 1\nsample_rate: 48000\nblock_size: 64\ninputs: 1\n\nnodes:\n"
                "  knob: {op: control, min: 0, max: 1, params: {value: %g}}\n"
                "  cond: {op: concat, in: [in.0, knob]}\n"
                "  amp:  {op: model, in: cond, file: proteus_knob.json}\n\n"
                "outputs: [amp]\n" % knob)

    bad = os.path.join(out, "bad")
    write_json(os.path.join(bad, "gml_missing_hidden_size.json"), tiny_bad(drop="hidden_size"))
    write_json(os.path.join(bad, "gml_input_size4.json"), tiny_bad(input_size=4))
    write_json(os.path.join(bad, "gml_unknown_unit.json"), tiny_bad(unit_type="RNN"))
    write_json(os.path.join(bad, "gml_unit_mismatch.json"), tiny_bad(unit_type="GRU"))
    m = tiny_bad("GRU")
    m["state_dict"]["rec.bias_hh_l0"] = m["state_dict"]["rec.bias_hh_l0"][:-1]
    write_json(os.path.join(bad, "gml_wrong_tensor.json"), m)
    m = tiny_bad()
    m["model_data"]["hidden_size"] = 3
    write_json(os.path.join(bad, "gml_hidden_mismatch.json"), m)
    m = tiny_bad()
    del m["state_dict"]
    write_json(os.path.join(bad, "gml_no_state_dict.json"), m)
    m = tiny_bad(skip=2)
    write_json(os.path.join(bad, "gml_skip2.json"), m)
    m = tiny_bad()
    m["state_dict"]["extra.weight"] = [1.0]
    write_json(os.path.join(bad, "gml_extra_tensor.json"), m)

    m, _ = aidax_lstm(np.random.default_rng(3))
    m["metadata"]["samplerate"] = "fast"
    write_json(os.path.join(bad, "aidax_bad_samplerate.aidax"), m)
    m, _ = aidax_lstm(np.random.default_rng(3))
    m["output_batch"] = m["output_batch"][:-1]
    write_json(os.path.join(bad, "aidax_batch_lengths.aidax"), m)
    m, _ = aidax_lstm(np.random.default_rng(3))
    m["in_skip"] = 2
    write_json(os.path.join(bad, "aidax_in_skip2.aidax"), m)
    m, _ = aidax_lstm(np.random.default_rng(3))
    del m["output_batch"]
    write_json(os.path.join(bad, "aidax_no_output_batch.aidax"), m)
    print("wrote", out)


if __name__ == "__main__":
    main()
