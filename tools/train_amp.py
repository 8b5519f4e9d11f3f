"""train_amp.py — fits the example amp models to the synthetic circuit and exports them.

Three RTNeural-style sequential models learn circuit.py from di_signal.py's
training material, on the CPU in a couple of minutes each:

  lstm  LSTM(1->16) -> Dense(16->1)                 drive fixed at DRIVE
  gru   GRU(1->12)  -> Dense(12->1)                 drive fixed at DRIVE
  knob  LSTM(2->16) -> Dense(16->1), input frame = [audio, drive knob 0..1]

Training cuts random pieces out of the training rows, runs each from a zero
state and scores all but its first samples (the state is still settling
there) by error-to-signal ratio, ESR = sum((y - y_hat)^2) / sum(y^2), with
Adam and a cosine-decaying learning rate, in two phases (PHASES): many
cheap steps on short pieces learn the nonlinearity, then a few truncated-BPTT
steps on 2048-sample pieces polish the slower dynamics (the 30 Hz high-pass,
the bias shift of the asymmetric clipper). The input weights start 8x larger
than torch's default, so the cells start out able to saturate: Adam's
bounded steps would otherwise spend most of the budget growing them.
The reported ESR is over whole held-out signals run from a zero state: rows
of fresh training-like material (another seed) and the shipped DI clip.

Writes models/amp_<name>.json (export_torch's Keras-style JSON) and
models/ref/amp_<name>_x.csv / _y.csv: the first REF_FRAMES samples of the DI
clip as 24-bit WAV readers see them (for knob: plus a 0..1 knob ramp) and
the PyTorch model's own float32 output for them.
Everything is seeded; with one torch thread a rerun writes the same files.
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import torch

import circuit
import di_signal
import export_torch

DRIVE = 0.5
# (segment samples, unscored warm-up samples, batch, steps, peak learning rate)
PHASES = ((256, 64, 64, 1500, 1e-2),
          (2048, 256, 16, 100, 1e-3))
INPUT_WEIGHT_SCALE = 8.0
TRAIN_ROWS, VAL_ROWS, ROW_SECONDS = 24, 4, 2.0
TRAIN_SEED, VAL_SEED = 1001, 2002
KNOB_TRAIN_SETTINGS = 4            # drive settings each training row is rendered at
KNOB_EVAL = (0.0, 0.1, 0.5, 0.9, 1.0)
REF_FRAMES = 2000

MODELS = {
    #        cell  inputs hidden seed
    "lstm": ("LSTM", 1, 16, 11),
    "gru": ("GRU", 1, 12, 12),
    "knob": ("LSTM", 2, 16, 13),
}


class AmpModel(torch.nn.Module):
    """A recurrent layer and a dense output layer, nothing else: exactly the
    chain the sequential JSON holds (export_torch checks forward() against it)."""

    def __init__(self, cell, inputs, hidden):
        super().__init__()
        self.rnn = getattr(torch.nn, cell)(inputs, hidden, batch_first=True)
        self.dense = torch.nn.Linear(hidden, 1)

    def forward(self, x):
        return self.dense(self.rnn(x)[0])


def esr(y_hat, y):
    """Error-to-signal ratio over all samples (numpy or torch)."""
    return ((y - y_hat) ** 2).sum() / ((y ** 2).sum() + 1e-12)


class Dataset:
    """Input rows (rows, T, C) and target rows (rows, T) in float32."""

    def __init__(self, x, y):
        self.x = np.ascontiguousarray(x, dtype=np.float32)
        self.y = np.ascontiguousarray(y, dtype=np.float32)

    def batch(self, rng, size, segment):
        rows = rng.integers(0, self.x.shape[0], size)
        starts = rng.integers(0, self.x.shape[1] - segment, size)
        idx = starts[:, None] + np.arange(segment)
        return (torch.from_numpy(self.x[rows[:, None], idx]),
                torch.from_numpy(self.y[rows[:, None], idx]))


def with_knob(audio, drive):
    """Frames [audio, drive] for rows of audio and one drive per row."""
    knob = np.broadcast_to(np.asarray(drive, dtype=np.float64)[:, None], audio.shape)
    return np.stack([audio, knob], axis=-1)


def make_data(name, train_audio, val_audio):
    """(training Dataset, {held-out name: (x, y)}) for one model."""
    di = di_signal.as_read_back(di_signal.di_guitar())[None]
    if name != "knob":
        train = Dataset(train_audio[..., None], circuit.process(train_audio, DRIVE))
        held_out = {"validation": (val_audio[..., None], circuit.process(val_audio, DRIVE)),
                    "DI clip": (di[..., None], circuit.process(di, DRIVE))}
        return train, held_out
    rng = np.random.default_rng(TRAIN_SEED)
    audio = np.repeat(train_audio, KNOB_TRAIN_SETTINGS, axis=0)
    # Stratified drives: every row meets the whole knob range in quarters.
    drives = ((np.tile(np.arange(KNOB_TRAIN_SETTINGS), len(train_audio))
               + rng.uniform(0.0, 1.0, len(audio))) / KNOB_TRAIN_SETTINGS)
    train = Dataset(with_knob(audio, drives), circuit.process(audio, drives))
    val_drives = np.linspace(0.0, 1.0, len(val_audio))
    held_out = {"validation": (with_knob(val_audio, val_drives),
                               circuit.process(val_audio, val_drives))}
    eval_drives = np.array(KNOB_EVAL)
    dis = np.repeat(di, len(eval_drives), axis=0)
    held_out["DI clip at " + "/".join(f"{d:g}" for d in KNOB_EVAL)] = (
        with_knob(dis, eval_drives), circuit.process(dis, eval_drives))
    return train, held_out


@torch.no_grad()
def held_out_esr(model, x, y):
    y_hat = model(torch.from_numpy(np.asarray(x, dtype=np.float32)))[..., 0].numpy()
    return float(esr(y_hat.astype(np.float64), y))


def train(name, train_set, held_out, step_fraction=1.0):
    cell, inputs, hidden, seed = MODELS[name]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = AmpModel(cell, inputs, hidden)
    with torch.no_grad():
        model.rnn.weight_ih_l0.mul_(INPUT_WEIGHT_SCALE)
    start = time.time()
    for phase, (segment, warmup, batch, steps, lr) in enumerate(PHASES, 1):
        steps = max(1, int(steps * step_fraction))
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        # Cosine decay to lr/20: big steps find the shape, small ones polish it.
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s, n=steps: 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * s / n)))
        for step in range(1, steps + 1):
            x, y = train_set.batch(rng, batch, segment)
            loss = esr(model(x)[:, warmup:, 0], y[:, warmup:])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if step % 250 == 0 or step == steps:
                print(f"  {name} phase {phase} step {step}/{steps}: training ESR "
                      f"{loss.item():.4f} ({time.time() - start:.0f} s)", flush=True)
    seconds = time.time() - start
    model.eval()
    scores = {k: held_out_esr(model, x, y) for k, (x, y) in held_out.items()}
    return model, seconds, scores


def export(name, model, out_dir):
    inputs = MODELS[name][1]
    json_path = os.path.join(out_dir, f"amp_{name}.json")
    export_torch.export_sequential(model, inputs, json_path)
    di = di_signal.as_read_back(di_signal.di_guitar())[:REF_FRAMES]
    x = di[:, None] if inputs == 1 else np.stack([di, np.linspace(0.0, 1.0, REF_FRAMES)], axis=1)
    ref_dir = os.path.join(out_dir, "ref")
    os.makedirs(ref_dir, exist_ok=True)
    y = export_torch.write_reference(model, x, os.path.join(ref_dir, f"amp_{name}_x.csv"),
                                     os.path.join(ref_dir, f"amp_{name}_y.csv"))
    # The JSON, read back independently, must reproduce torch, and forward()
    # must be the chain the JSON holds.
    json_diff = float(np.max(np.abs(export_torch.run_json(
        export_torch.model_dict(model, inputs), x) - y)))
    fwd_diff = export_torch.forward_difference(model, x)
    if json_diff > 1e-5 or fwd_diff is None or fwd_diff > 1e-6:
        raise RuntimeError(f"{json_path}: export check failed (json {json_diff}, forward {fwd_diff})")
    return json_path


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help=f"models to train: {', '.join(MODELS)} (default: all)")
    parser.add_argument("--out-dir", default=os.path.join(here, "..", "models"))
    parser.add_argument("--step-fraction", type=float, default=1.0,
                        help="scale every phase's steps (0.1 for a quick try)")
    args = parser.parse_args(argv)
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        parser.error(f"unknown model {', '.join(unknown)}")
    args.models = args.models or list(MODELS)
    torch.set_num_threads(1)

    t0 = time.time()
    train_audio = di_signal.training_set(TRAIN_ROWS, ROW_SECONDS, TRAIN_SEED)
    val_audio = di_signal.training_set(VAL_ROWS, ROW_SECONDS, VAL_SEED)
    print(f"signals: {TRAIN_ROWS} x {ROW_SECONDS:g} s training, {VAL_ROWS} x {ROW_SECONDS:g} s "
          f"validation ({time.time() - t0:.0f} s)", flush=True)
    os.makedirs(args.out_dir, exist_ok=True)
    summary = []
    for name in args.models:
        t0 = time.time()
        train_set, held_out = make_data(name, train_audio, val_audio)
        print(f"{name}: circuit rendered ({time.time() - t0:.0f} s)", flush=True)
        model, seconds, scores = train(name, train_set, held_out, args.step_fraction)
        path = export(name, model, args.out_dir)
        line = f"{name}: trained in {seconds:.0f} s; held-out ESR " + ", ".join(
            f"{k} {v:.4f}" for k, v in scores.items()) + f" -> {os.path.relpath(path)}"
        print(line, flush=True)
        summary.append(line)
    print("\n".join(["summary:"] + summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
