"""export_torch.py — writes a PyTorch layer chain as RTNeural's Keras-style sequential JSON.

The JSON is the format of RTNeural's Keras exporter, which rtgraph loads:
{"in_shape": [null, null, C], "layers": [{"type", "activation", "shape",
"weights", ...}, ...]} with weights in Keras layouts:

  torch layer            JSON layer   weights (Keras layout)
  Linear                 dense        [W (in, out), b (out)]
  Conv1d                 conv1d       [W (kernel, in/groups, out), b (out)],
                                      "kernel_size": [k], "dilation": [d], "groups": g
  LSTM (stacked: one     lstm         [W (in, 4H), U (H, 4H), b (4H)], gates i, f, c, o;
    entry per layer)                  b = b_ih + b_hh
  GRU (stacked: one      gru          [W (in, 3H), U (H, 3H), b (2, 3H)], gates z, r, h
    entry per layer)                  (Keras reset_after; torch's r and z blocks swap);
                                      b rows are torch's b_ih and b_hh
  BatchNorm1d            batchnorm    [gamma, beta, mean, var] (affine) or [mean, var],
                                      "epsilon"
  PReLU                  prelu        [[alpha...]] (1 or C values)
  Tanh/ReLU/Sigmoid/     fused into the preceding dense/conv1d's "activation" when it
    Softmax/ELU          has none, else an "activation" layer

The layers run frame by frame as a streaming engine runs them: a Conv1d is
causal (torch's output for an input left-padded by (k-1)*d zeros; a strided
one computes on every stride-th frame and holds its output between), and the
LSTM/GRU state carries from frame to frame. Dropout and Identity are skipped.
A strided Conv1d also gets "strides": [s], which RTNeural itself ignores.

Library use:
    export_sequential(module, in_channels, path)   -> layer list written
    write_reference(module, x, x_path, y_path)     -> torch's own output for x
As a script, see --help: loads a torch.save()d module, a TorchScript file, or
a state dict plus --arch, and with --check writes <stem>_x.csv / <stem>_y.csv
beside the JSON and verifies the JSON against torch.
"""

import argparse
import importlib.util
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu", "Sigmoid": "sigmoid",
               "Softmax": "softmax", "ELU": "elu"}
SKIPPED = {"Dropout", "Identity"}
PARAMETRIC = {"Linear", "Conv1d", "LSTM", "GRU", "BatchNorm1d", "PReLU"}


class ExportError(Exception):
    """A layer the format cannot hold, or a module that is not a plain chain."""


# ---------------------------------------------------------------------------
# Walking a module down to its chain of layers

def kind_of(module):
    """The torch class name of a module, eager or TorchScript."""
    return getattr(module, "original_name", None) or type(module).__name__


def leaf_layers(module, path="model"):
    """The chain of leaf layers of `module`: containers (nn.Sequential or any
    module without parameters of its own) are walked in registration order,
    which is the order a plain chain's forward() runs them in."""
    kind = kind_of(module)
    if kind in PARAMETRIC or kind in ACTIVATIONS:
        return [(path, module)]
    if kind in SKIPPED:
        return []
    if any(True for _ in module.named_parameters(recurse=False)):
        raise ExportError(f"{path}: {kind} is not a supported layer "
                          f"({', '.join(sorted(PARAMETRIC | set(ACTIVATIONS)))})")
    layers = []
    for name, child in module.named_children():
        layers += leaf_layers(child, f"{path}.{name}")
    if not layers and kind != "Sequential":
        raise ExportError(f"{path}: {kind} has no supported layers inside")
    return layers


def layer_for_tensors(kind, t, opts=None):
    """A fresh eager torch layer of `kind` holding the tensors `t` (a state
    dict of that one layer), in eval mode. Sizes come from the tensors;
    `opts` gives what they cannot tell: Conv1d groups/dilation/stride,
    BatchNorm1d eps."""
    opts = opts or {}
    sizing = {"LSTM": "weight_ih_l0", "GRU": "weight_ih_l0",
              "BatchNorm1d": "running_mean"}.get(kind, "weight")
    if kind in PARAMETRIC and sizing not in t:
        raise ValueError(f"no tensor '{sizing}' among {sorted(t)}")
    if kind in ("LSTM", "GRU"):
        w = t["weight_ih_l0"]
        gates = 4 if kind == "LSTM" else 3
        n_layers = sum(1 for name in t if name.startswith("weight_ih_l"))
        layer = getattr(torch.nn, kind)(w.shape[1], w.shape[0] // gates, num_layers=n_layers,
                                        bias="bias_ih_l0" in t, batch_first=True)
    elif kind == "BatchNorm1d":
        layer = torch.nn.BatchNorm1d(t["running_mean"].numel(), eps=opts.get("eps", 1e-5),
                                     affine="weight" in t)
    elif kind == "Linear":
        w = t["weight"]
        layer = torch.nn.Linear(w.shape[1], w.shape[0], bias="bias" in t)
    elif kind == "Conv1d":
        w, g = t["weight"], opts.get("groups", 1)
        layer = torch.nn.Conv1d(w.shape[1] * g, w.shape[0], w.shape[2], groups=g,
                                dilation=opts.get("dilation", 1), stride=opts.get("stride", 1),
                                bias="bias" in t)
    elif kind == "PReLU":
        layer = torch.nn.PReLU(t["weight"].numel())
    elif kind == "Softmax":
        layer = torch.nn.Softmax(dim=-1)  # over the channels of a frame, whatever the layout
    else:
        layer = getattr(torch.nn, kind)()
    wanted = set(layer.state_dict()) - {"num_batches_tracked"}
    given = set(t) - {"num_batches_tracked"}
    if wanted != given:
        raise ValueError(f"tensors {sorted(given)}, but a {kind} has {sorted(wanted)}")
    layer.load_state_dict({k: t[k] for k in given}, strict=False)
    return layer.eval()


def eager_copy(module, path):
    """An eager torch layer equal to `module`, which may be TorchScript (whose
    RNN forward() cannot be called directly) or in training mode."""
    kind = kind_of(module)
    if kind in ("LSTM", "GRU") and (module.bidirectional or getattr(module, "proj_size", 0)):
        raise ExportError(f"{path}: a bidirectional or projected {kind} cannot stream")
    if kind == "BatchNorm1d" and not module.track_running_stats:
        raise ExportError(f"{path}: BatchNorm1d without running statistics")
    if kind == "ELU" and float(module.alpha) != 1.0:
        raise ExportError(f"{path}: ELU alpha {module.alpha} (the format has alpha 1 only)")
    t = {name: v.detach().to(torch.float32).clone()
         for name, v in list(module.named_parameters(recurse=False))
         + list(module.named_buffers(recurse=False))}
    opts = {}
    if kind == "Conv1d":
        opts = {"groups": int(module.groups), "dilation": int(module.dilation[0]),
                "stride": int(module.stride[0])}
    elif kind == "BatchNorm1d":
        opts = {"eps": float(module.eps)}
    try:
        return layer_for_tensors(kind, t, opts)
    except (RuntimeError, ValueError, IndexError) as e:
        raise ExportError(f"{path}: {kind} does not fit its tensors: {e}") from e


def chain_of(module):
    """[(path, eager layer)] for the chain `module` runs."""
    return [(path, eager_copy(m, path)) for path, m in leaf_layers(module)]


# ---------------------------------------------------------------------------
# Torch layers -> Keras-style layer dicts

def numpy_of(t):
    return t.detach().cpu().numpy().astype(np.float32)


def gru_keras_order(blocks):
    """Torch stacks GRU gates r, z, n along axis 0; Keras wants z, r, h."""
    r, z, n = np.split(blocks, 3, axis=0)
    return np.concatenate([z, r, n], axis=0)


def rnn_layers(m):
    """One Keras lstm/gru dict per layer of a (possibly stacked) torch RNN."""
    kind = "lstm" if isinstance(m, torch.nn.LSTM) else "gru"
    hidden = m.hidden_size
    layers = []
    for k in range(m.num_layers):
        w_ih = numpy_of(getattr(m, f"weight_ih_l{k}"))
        w_hh = numpy_of(getattr(m, f"weight_hh_l{k}"))
        zeros = np.zeros(w_ih.shape[0], np.float32)
        b_ih = numpy_of(getattr(m, f"bias_ih_l{k}")) if m.bias else zeros
        b_hh = numpy_of(getattr(m, f"bias_hh_l{k}")) if m.bias else zeros
        if kind == "lstm":
            weights = [w_ih.T, w_hh.T, b_ih + b_hh]
        else:
            weights = [gru_keras_order(w_ih).T, gru_keras_order(w_hh).T,
                       np.stack([gru_keras_order(b_ih), gru_keras_order(b_hh)])]
        layers.append({"type": kind, "activation": "tanh", "shape": [None, None, hidden],
                       "weights": weights})
    return layers


def keras_layers(chain, in_channels):
    """Converts an eager chain to Keras-style dicts, checking channel counts."""
    layers = []
    channels = in_channels
    for path, m in chain:
        kind = kind_of(m)
        want_in = {"Linear": lambda: m.in_features, "Conv1d": lambda: m.in_channels,
                   "LSTM": lambda: m.input_size, "GRU": lambda: m.input_size,
                   "BatchNorm1d": lambda: m.num_features}.get(kind)
        if want_in is not None and want_in() != channels:
            raise ExportError(f"{path}: {kind} takes {want_in()} channels but gets {channels}")
        if kind == "PReLU" and m.num_parameters not in (1, channels):
            raise ExportError(f"{path}: PReLU has {m.num_parameters} alphas for {channels} channels")

        if kind in ACTIVATIONS:
            act = ACTIVATIONS[kind]
            if layers and layers[-1]["type"] in ("dense", "conv1d") and not layers[-1]["activation"]:
                layers[-1]["activation"] = act
            else:
                layers.append({"type": "activation", "activation": act,
                               "shape": [None, None, channels], "weights": []})
            continue

        if kind == "Linear":
            b = numpy_of(m.bias) if m.bias is not None else np.zeros(m.out_features, np.float32)
            new = [{"type": "dense", "activation": "", "shape": [None, None, m.out_features],
                    "weights": [numpy_of(m.weight).T, b]}]
        elif kind == "Conv1d":
            b = numpy_of(m.bias) if m.bias is not None else np.zeros(m.out_channels, np.float32)
            layer = {"type": "conv1d", "activation": "", "shape": [None, None, m.out_channels],
                     "kernel_size": [m.kernel_size[0]], "dilation": [m.dilation[0]],
                     "groups": m.groups,
                     # torch (out, in/groups, k) -> Keras (k, in/groups, out); both
                     # put the oldest input tap at kernel index 0.
                     "weights": [numpy_of(m.weight).transpose(2, 1, 0), b]}
            if m.stride[0] > 1:
                layer["strides"] = [m.stride[0]]
            new = [layer]
        elif kind in ("LSTM", "GRU"):
            new = rnn_layers(m)
        elif kind == "BatchNorm1d":
            stats = [numpy_of(m.running_mean), numpy_of(m.running_var)]
            weights = ([numpy_of(m.weight), numpy_of(m.bias)] if m.affine else []) + stats
            new = [{"type": "batchnorm", "activation": "", "shape": [None, None, channels],
                    "epsilon": float(m.eps), "weights": weights}]
        else:  # PReLU
            new = [{"type": "prelu", "activation": "", "shape": [None, None, channels],
                    "weights": [numpy_of(m.weight).reshape(1, -1)]}]
        layers += new
        channels = new[-1]["shape"][-1]
    return layers


# ---------------------------------------------------------------------------
# Writing JSON and CSV with float32-exact numbers

def float_text(value):
    """The shortest decimal that a strtod-then-(float) reader (jansson, RTNeural's
    nlohmann) turns back into exactly this float32."""
    f = np.float32(value)
    if not math.isfinite(f):
        raise ExportError(f"non-finite weight {f}")
    text = repr(float(str(f)))
    if np.float32(float(text)) != f:
        text = repr(float(f))  # the exact double of the float32; always round-trips
    return text


def json_text(value, indent=0):
    """JSON with each innermost list of numbers on one line."""
    pad = "  " * indent
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        items = [f'{pad}  "{k}": {json_text(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if all(not isinstance(v, (list, dict, np.ndarray)) for v in value):
        return "[" + ", ".join(json_text(v) for v in value) + "]"
    return "[\n" + ",\n".join(pad + "  " + json_text(v, indent + 1) for v in value) + "\n" + pad + "]"


def write_json(model_dict, path):
    with open(path, "w") as f:
        f.write(json_text(model_dict) + "\n")


def write_csv(frames, path):
    """One frame per line, channels comma-separated."""
    frames = np.asarray(frames, dtype=np.float32).reshape(len(frames), -1)
    with open(path, "w") as f:
        for row in frames:
            f.write(",".join(float_text(v) for v in row) + "\n")


# ---------------------------------------------------------------------------
# Running a chain in torch the way a streaming engine runs the JSON

@torch.no_grad()
def run_chain(chain, x):
    """Torch's output of the chain for frames x (T, C), float32 (T, C_out)."""
    h = torch.as_tensor(np.asarray(x, dtype=np.float32))
    for _, m in chain:
        if isinstance(m, torch.nn.Conv1d):
            frames = h.shape[0]
            left = (m.kernel_size[0] - 1) * m.dilation[0]
            y = F.conv1d(F.pad(h.T[None], (left, 0)), m.weight, m.bias,
                         stride=m.stride, dilation=m.dilation, groups=m.groups)[0].T
            h = y.repeat_interleave(m.stride[0], dim=0)[:frames]
        elif isinstance(m, (torch.nn.LSTM, torch.nn.GRU)):
            h = m(h[None])[0][0]
        else:
            h = m(h)
    return h.numpy()


@torch.no_grad()
def forward_difference(module, x):
    """Max |forward(x) - run_chain(x)| of the module's own forward(), trying the
    (1, T, C) layout and then (1, C, T); None when neither layout runs or the
    output is not T frames. A difference means forward() is not the plain
    chain the JSON holds (a skip connection, a non-causal padding, ...)."""
    chain_y = run_chain(chain_of(module), x)
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    was_training = module.training
    module.eval()
    try:
        for layout in ("time_major", "channel_major"):
            try:
                inp = xt[None] if layout == "time_major" else xt.T[None]
                y = module(inp)
            except Exception:  # the module's own forward has its own ideas of shapes
                continue
            if isinstance(y, (tuple, list)):
                y = y[0]
            if not isinstance(y, torch.Tensor) or y.dim() != 3:
                continue
            y = y[0] if layout == "time_major" else y[0].T
            if tuple(y.shape) == chain_y.shape:
                return float(np.max(np.abs(y.numpy() - chain_y)))
        return None
    finally:
        module.train(was_training)


# ---------------------------------------------------------------------------
# Public entry points

def model_dict(module, in_channels):
    return {"in_shape": [None, None, in_channels],
            "layers": keras_layers(chain_of(module), in_channels)}


def export_sequential(module, in_channels, path):
    """Writes `module`'s layer chain to `path`; returns the layer dicts."""
    d = model_dict(module, in_channels)
    write_json(d, path)
    return d["layers"]


def write_reference(module, x, x_path, y_path):
    """Writes frames x (T, C) and torch's float32 output of the chain for them."""
    y = run_chain(chain_of(module), x)
    write_csv(x, x_path)
    write_csv(y, y_path)
    return y


# ---------------------------------------------------------------------------
# An independent numpy reading of the JSON, to check the conversion

def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def apply_activation(name, h):
    if name == "tanh":
        return np.tanh(h)
    if name == "relu":
        return np.maximum(h, 0.0)
    if name == "sigmoid":
        return sigmoid(h)
    if name == "elu":
        return np.where(h > 0.0, h, np.expm1(np.minimum(h, 0.0)))
    if name == "softmax":
        e = np.exp(h - h.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return h


def run_json(model, x):
    """Runs a Keras-style dict on frames x (T, C) in float64, frame-causal."""
    h = np.asarray(x, dtype=np.float64)
    frames = h.shape[0]
    for layer in model["layers"]:
        w = [np.asarray(v, dtype=np.float64) for v in layer["weights"]]
        kind = layer["type"]
        if kind in ("dense", "time-distributed-dense"):
            h = h @ w[0] + (w[1] if len(w) > 1 else 0.0)
        elif kind == "conv1d":
            k, d, g = layer["kernel_size"][-1], layer["dilation"][-1], layer.get("groups", 1)
            stride = layer.get("strides", [1])[-1]
            padded = np.concatenate([np.zeros(((k - 1) * d, h.shape[1])), h])
            per_in, per_out = w[0].shape[1], w[0].shape[2] // g
            out = np.zeros((frames, w[0].shape[2]))
            for grp in range(g):
                ins = slice(grp * per_in, (grp + 1) * per_in)
                outs = slice(grp * per_out, (grp + 1) * per_out)
                for tap in range(k):
                    out[:, outs] += padded[tap * d:tap * d + frames, ins] @ w[0][tap, :, outs]
            h = (out + w[1])[(np.arange(frames) // stride) * stride]
        elif kind in ("lstm", "gru"):
            hidden = layer["shape"][-1]
            state = np.zeros(hidden)
            cell = np.zeros(hidden)
            out = np.zeros((frames, hidden))
            for t in range(frames):
                if kind == "lstm":
                    gates = h[t] @ w[0] + state @ w[1] + w[2]
                    i, f, c, o = np.split(gates, 4)
                    cell = sigmoid(f) * cell + sigmoid(i) * np.tanh(c)
                    state = sigmoid(o) * np.tanh(cell)
                else:
                    xz, xr, xh = np.split(h[t] @ w[0] + w[2][0], 3)
                    hz, hr, hh = np.split(state @ w[1] + w[2][1], 3)
                    z, r = sigmoid(xz + hz), sigmoid(xr + hr)
                    state = z * state + (1.0 - z) * np.tanh(xh + r * hh)
                out[t] = state
            h = out
        elif kind == "batchnorm":
            gamma, beta = (w[0], w[1]) if len(w) == 4 else (1.0, 0.0)
            mean, var = w[-2], w[-1]
            h = (h - mean) / np.sqrt(var + layer["epsilon"]) * gamma + beta
        elif kind == "prelu":
            h = np.where(h > 0.0, h, w[0][0] * h)
        elif kind != "activation":
            raise ExportError(f"run_json: unknown layer type {kind}")
        if kind in ("dense", "time-distributed-dense", "conv1d", "activation"):
            # An RNN's "activation" names its cell function, not one applied after.
            h = apply_activation(layer.get("activation", ""), h)
    return h


# ---------------------------------------------------------------------------
# Command line

def parse_arch(spec):
    """'conv1d:dilation=2:groups=2,tanh,lstm,linear' -> [(kind, {option: value})]."""
    names = {n.lower(): n for n in PARAMETRIC | set(ACTIVATIONS) | SKIPPED}
    names.update({"dense": "Linear", "conv": "Conv1d", "batchnorm": "BatchNorm1d"})
    arch = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, *options = item.split(":")
        if name.lower() not in names:
            raise ExportError(f"--arch: unknown layer '{name}'")
        opts = {}
        for opt in options:
            key, _, value = opt.partition("=")
            opts[key] = float(value) if "." in value or "e" in value else int(value)
        arch.append((names[name.lower()], opts))
    return arch


def module_from_state_dict(state, arch):
    """Builds an nn.Sequential for `arch`, sizing each layer from the next group
    of state-dict tensors (grouped by key prefix, in file order)."""
    groups = []
    for key, value in state.items():
        prefix, _, name = key.rpartition(".")
        if not groups or groups[-1][0] != prefix:
            groups.append((prefix, {}))
        groups[-1][1][name] = value.detach().to(torch.float32)
    layers, next_group = [], 0
    for kind, opts in arch:
        if kind not in PARAMETRIC:
            layers.append(layer_for_tensors(kind, {}))
            continue
        if next_group >= len(groups):
            raise ExportError(f"--arch: no state-dict tensors left for {kind}")
        prefix, t = groups[next_group]
        next_group += 1
        try:
            m = layer_for_tensors(kind, t, opts)
        except (RuntimeError, ValueError, IndexError) as e:
            raise ExportError(f"state dict '{prefix}' does not fit {kind}: {e}") from e
        layers.append(m)
    if next_group != len(groups):
        raise ExportError(f"--arch uses {next_group} tensor groups, the state dict has {len(groups)}")
    return torch.nn.Sequential(*layers)


def load_module(path, arch):
    """A module from a TorchScript file, a torch.save()d module, or a state dict + arch."""
    try:
        return torch.jit.load(path, map_location="cpu")
    except RuntimeError:
        pass  # not TorchScript: a pickle
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, torch.nn.Module):
        return obj
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if isinstance(obj, dict):
        if not arch:
            raise ExportError(f"{path} holds a state dict: describe its layers with --arch")
        return module_from_state_dict(obj, parse_arch(arch))
    raise ExportError(f"{path}: neither a module, a TorchScript file nor a state dict")


def define_classes(path):
    """Imports a Python file under its own name and into __main__, where
    torch.load looks for the classes of a module pickled by a script."""
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ExportError(f"--define {path}: not a Python file")
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    definitions = importlib.util.module_from_spec(spec)
    sys.modules[name] = definitions
    spec.loader.exec_module(definitions)
    main_module = sys.modules["__main__"].__dict__
    for key, value in vars(definitions).items():
        if not key.startswith("__"):
            main_module.setdefault(key, value)


def check_export(module, model, x, json_path, tolerance):
    """Compares torch, the module's forward() and the numpy reading of the JSON."""
    y_torch = run_chain(chain_of(module), x)
    y_json = run_json(model, x)
    diff = float(np.max(np.abs(y_json - y_torch)))
    print(f"{json_path}: JSON read back vs torch: max |diff| {diff:.3g}")
    ok = diff <= tolerance
    fwd = forward_difference(module, x)
    if fwd is None:
        print("  forward(): not comparable (layout or output shape), chain only")
    else:
        print(f"  forward() vs the layer chain: max |diff| {fwd:.3g}")
        if fwd > tolerance:
            print("  forward() is not the plain chain of its layers (a skip connection? "
                  "a non-causal padding?): the JSON cannot hold it", file=sys.stderr)
            ok = False
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Export a PyTorch layer chain to RTNeural's Keras-style sequential JSON.",
        epilog="examples:\n"
               "  export_torch.py model.pt --in-channels 1 -o model.json --check\n"
               "  export_torch.py weights.pt --arch lstm,linear --in-channels 1 -o amp.json\n"
               "  export_torch.py scripted.pt --in-channels 2 -o knob.json --define net.py\n"
               "--arch names the layers in order, options after colons:\n"
               "  linear conv1d[:dilation=D:groups=G:stride=S] lstm gru batchnorm1d[:eps=E]\n"
               "  prelu tanh relu sigmoid softmax elu dropout identity",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="TorchScript file, torch.save()d nn.Module, or state dict")
    parser.add_argument("-o", "--output", required=True, help="JSON file to write")
    parser.add_argument("--in-channels", type=int, required=True,
                        help="channels of one input frame")
    parser.add_argument("--arch", help="layer list for a state dict (see below)")
    parser.add_argument("--define", metavar="FILE.py",
                        help="run this file first, so the classes a pickled module needs exist")
    parser.add_argument("--check", action="store_true",
                        help="also write <stem>_x.csv / <stem>_y.csv (random input, torch's "
                             "output) and verify the JSON against torch")
    parser.add_argument("--frames", type=int, default=2000, help="frames for --check")
    parser.add_argument("--seed", type=int, default=0, help="seed of --check's input")
    parser.add_argument("--tolerance", type=float, default=1e-5,
                        help="max abs difference --check accepts")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    try:
        if args.define:
            define_classes(args.define)
        module = load_module(args.model, args.arch)
        model = model_dict(module, args.in_channels)
        write_json(model, args.output)
        kinds = [layer["type"] + (f"+{layer['activation']}" if layer["activation"]
                                  and layer["type"] in ("dense", "conv1d") else "")
                 for layer in model["layers"]]
        print(f"{args.output}: {len(kinds)} layers: {' '.join(kinds)}")
        if args.check:
            rng = np.random.default_rng(args.seed)
            x = rng.uniform(-1.0, 1.0, (args.frames, args.in_channels)).astype(np.float32)
            stem = os.path.splitext(args.output)[0]
            write_reference(module, x, stem + "_x.csv", stem + "_y.csv")
            if not check_export(module, model, x, args.output, args.tolerance):
                print("check FAILED", file=sys.stderr)
                return 1
    except ExportError as e:
        print(f"export_torch: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
