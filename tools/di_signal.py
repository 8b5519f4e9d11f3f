"""di_signal.py — synthetic DI-guitar signals: the shipped test clip and training data.

Notes are Karplus-Strong plucked strings (a noise burst circulating in a
delay line whose two-tap averaging filter loses highs each period), shaped
by a pickup-like tone filter. Everything is seeded, so every run writes the
same samples.

As a script: writes examples/audio/di_guitar.wav (4 s, 48 kHz, mono, 24-bit
PCM; palm-muted chugs, a strummed chord, single notes; peaks at -6 dBFS).
As a module: `di_guitar()` returns that clip as floats, `training_set()`
returns rows of longer, more varied material (plucks and chords at many
levels, noise bursts, sine sweeps, silences) for fitting the example models.
"""

import argparse
import math
import os
import wave

import numpy as np

import circuit

SAMPLE_RATE = circuit.SAMPLE_RATE
DI_SEED = 20240601
DI_SECONDS = 4.0
DI_PEAK = 0.5                # -6 dBFS

# Open-string and fretted pitches used by the scores (Hz).
E2, A2, B2, D3, E3, G3, GS3, A3, B3, C4, D4, E4, G4, A4 = (
    82.41, 110.00, 123.47, 146.83, 164.81, 196.00, 207.65, 220.00, 246.94,
    261.63, 293.66, 329.63, 392.00, 440.00)
E_MAJOR = (E2, B2, E3, GS3, B3, E4)
POWER_CHORD_E = (E2, B2, E3)


def pluck(freq, seconds, t60, brightness, rng):
    """One plucked string: `seconds` long, decaying 60 dB in `t60` seconds.

    brightness in (0, 1]: how much high-frequency energy the pick puts in
    (1 = raw white-noise burst, small = dull, thumb-like). The loop delay is
    N samples plus the fractional delay of the two-tap filter, which tunes
    the string to `freq` without an interpolating allpass.
    """
    period = SAMPLE_RATE / freq
    n_delay = int(period)
    frac = period - n_delay           # delay of the two-tap filter (0..1)
    tap_now, tap_old = 1.0 - frac, frac
    loss = 10.0 ** (-3.0 / (t60 * freq))  # per period
    length = int(seconds * SAMPLE_RATE)

    burst = rng.uniform(-1.0, 1.0, n_delay)
    smooth = 1.0 - brightness
    for i in range(1, n_delay):       # short: one period of a few hundred samples
        burst[i] = (1.0 - smooth) * burst[i] + smooth * burst[i - 1]
    burst -= burst.mean()

    # y[n] = loss (tap_now y[n-N] + tap_old y[n-N-1]); one whole period at a
    # time, since every sample of a period only reads earlier periods.
    y = np.zeros(length + 1)          # y[0] is the silent sample before the pluck
    y[1:n_delay + 1] = burst[:min(n_delay, length)]
    for start in range(n_delay + 1, length + 1, n_delay):
        idx = np.arange(start, min(start + n_delay, length + 1))
        y[idx] = loss * (tap_now * y[idx - n_delay] + tap_old * y[idx - n_delay - 1])
    return y[1:]


def fade_out(x, seconds):
    """Multiplies the end of x by a raised-cosine fade (a muting hand)."""
    n = min(len(x), int(seconds * SAMPLE_RATE))
    if n > 0:
        x[-n:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, math.pi, n))
    return x


def strum(freqs, seconds, t60, brightness, spread, rng):
    """Several strings picked `spread` seconds apart, low string first."""
    out = np.zeros(int(seconds * SAMPLE_RATE))
    for k, f in enumerate(freqs):
        offset = int(k * spread * SAMPLE_RATE)
        note = pluck(f, seconds - k * spread, t60, brightness, rng)
        note *= rng.uniform(0.7, 1.0)
        out[offset:offset + len(note)] += note[:len(out) - offset]
    return out


def place(track, event, at_seconds, gain):
    """Mixes `event` into `track` starting at `at_seconds`, clipped to the track end."""
    start = int(at_seconds * SAMPLE_RATE)
    n = min(len(event), len(track) - start)
    if n > 0:
        track[start:start + n] += gain * event[:n]


def pickup(x):
    """A single-coil-ish tone: lows thinned below 70 Hz, highs rolled off above 4.5 kHz."""
    return circuit.one_pole_lowpass(circuit.one_pole_highpass(x, 70.0), 4500.0)


def normalize_peak(x, peak):
    return x * (peak / np.max(np.abs(x)))


def di_guitar(seed=DI_SEED):
    """The shipped test clip as float64 samples in [-DI_PEAK, DI_PEAK]."""
    rng = np.random.default_rng(seed)
    track = np.zeros(int(DI_SECONDS * SAMPLE_RATE))
    eighth = 60.0 / 140.0 / 2.0       # 140 BPM

    # Palm-muted power-chord chugs, a couple of accents.
    t = 0.01
    for k in range(6):
        chug = strum(POWER_CHORD_E, eighth * 0.9, 0.12, 0.35, 0.004, rng)
        place(track, fade_out(chug, 0.02), t, 1.0 if k % 3 == 0 else 0.8)
        t += eighth
    # A strummed open E major chord left to ring.
    place(track, fade_out(strum(E_MAJOR, 1.25, 3.0, 0.8, 0.012, rng), 0.05), t, 1.0)
    t += 1.25
    # Single notes, the last one sustained.
    for f, dur in ((A3, 0.2), (C4, 0.2), (D4, 0.2), (E4, 0.95)):
        place(track, fade_out(pluck(f, dur, 2.5, 0.9, rng), 0.03), t, 0.9)
        t += dur
    return normalize_peak(pickup(track), DI_PEAK)


def training_signal(seconds, rng):
    """One row of training material: a random programme of events, each at its
    own level from -36 dB to 0 dB under full scale, separated by short gaps."""
    track = np.zeros(int(seconds * SAMPLE_RATE))
    pitches = (E2, A2, B2, D3, E3, G3, A3, B3, C4, D4, E4, G4, A4)
    t = 0.0
    while t < seconds:
        level = 10.0 ** (rng.uniform(-36.0, 0.0) / 20.0)
        kind = rng.choice(("note", "chord", "chug", "noise", "sweep"),
                          p=(0.3, 0.2, 0.2, 0.15, 0.15))
        dur = rng.uniform(0.15, 0.8)
        if kind == "note":
            event = pluck(rng.choice(pitches), dur, rng.uniform(0.8, 4.0),
                          rng.uniform(0.4, 1.0), rng)
        elif kind == "chord":
            root = rng.integers(0, 6)
            event = strum(pitches[root:root + 4], dur, rng.uniform(1.0, 4.0),
                          rng.uniform(0.5, 1.0), rng.uniform(0.003, 0.02), rng)
        elif kind == "chug":
            event = strum(pitches[rng.integers(0, 3)] * np.array([1.0, 1.5, 2.0]),
                          dur * 0.4, rng.uniform(0.08, 0.2), rng.uniform(0.2, 0.5),
                          0.004, rng)
        elif kind == "noise":
            n = int(dur * SAMPLE_RATE)
            envelope = np.exp(-np.arange(n) / (rng.uniform(0.02, 0.3) * SAMPLE_RATE))
            event = rng.standard_normal(n) * envelope * 0.3
        else:
            n = int(dur * SAMPLE_RATE)
            f0, f1 = 40.0, rng.uniform(2000.0, 8000.0)
            phase = 2.0 * math.pi * f0 * dur / math.log(f1 / f0) * (
                (f1 / f0) ** (np.arange(n) / n) - 1.0)
            event = np.sin(phase)
        event = fade_out(event.copy(), 0.01)
        peak = np.max(np.abs(event))
        if peak > 0.0:
            place(track, event / peak, t, level)
        t += len(event) / SAMPLE_RATE + rng.uniform(0.0, 0.15)
    return track


def training_set(rows, seconds, seed):
    """`rows` independent training rows of `seconds` each, through the pickup
    tone and scaled to peak at full scale (their events already span 36 dB)."""
    rng = np.random.default_rng(seed)
    x = np.stack([training_signal(seconds, rng) for _ in range(rows)])
    return normalize_peak(pickup(x), 1.0)


def quantize24(x):
    """x as 24-bit PCM integers (full scale 2^23, as libsndfile reads them)."""
    return np.clip(np.round(np.asarray(x) * 2.0 ** 23), -2 ** 23, 2 ** 23 - 1).astype("<i4")


def as_read_back(x):
    """The floats a reader of the 24-bit WAV gets: exact in float32."""
    return quantize24(x) / 2.0 ** 23


def write_wav24(path, x):
    """Writes mono float samples in [-1, 1) as 24-bit PCM at SAMPLE_RATE."""
    ints = quantize24(x)
    frames = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(3)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(frames)


def read_wav24(path):
    """Reads what write_wav24 wrote back as float64 samples."""
    with wave.open(path, "rb") as w:
        if (w.getnchannels(), w.getsampwidth()) != (1, 3):
            raise ValueError(f"{path}: expected mono 24-bit PCM")
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype=np.uint8)
    padded = np.zeros((len(raw) // 3, 4), dtype=np.uint8)
    padded[:, 1:] = raw.reshape(-1, 3)
    return (padded.view("<i4")[:, 0] >> 8) / 2.0 ** 23


def _main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output",
                        default=os.path.join(here, "..", "examples", "audio", "di_guitar.wav"))
    args = parser.parse_args()
    x = di_guitar()
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    write_wav24(args.output, x)
    rms = math.sqrt(float(np.mean(x ** 2)))
    print(f"{args.output}: {len(x)} samples, peak {20 * math.log10(np.max(np.abs(x))):.1f} dBFS, "
          f"rms {20 * math.log10(rms):.1f} dBFS")


if __name__ == "__main__":
    _main()
