"""The embedded default signal used by the demo, the docs and the benchmarks: synthesised, deterministic."""

from __future__ import annotations

import numpy as np


def demo_signal(sr: int = 22050, duration: float = 4.0) -> np.ndarray:
    """A 4 s test piece in float32, peak 0.9: a log chirp (100 Hz-5 kHz), a harmonic tone with vibrato, a three-note
    arpeggio of decaying harmonic notes, and a few clicks, over a little pink-ish noise.

    Every section exercises something different: sweeping energy (time-frequency resolution), harmonics
    (constant-Q bins), onsets (time resolution) and a noise floor (dB scaling).
    """
    t = np.arange(int(sr * duration)) / sr
    y = np.zeros_like(t)
    # 0-1.5 s: exponential chirp 100 Hz -> 5 kHz
    seg = t < 1.5
    f0, f1, T = 100.0, 5000.0, 1.5
    k = np.log(f1 / f0) / T
    y[seg] += 0.5 * np.sin(2 * np.pi * f0 * (np.exp(k * t[seg]) - 1) / k)
    # 1.5-2.5 s: 220 Hz tone, 6 harmonics, 5.5 Hz vibrato of +-2 %
    seg = (t >= 1.5) & (t < 2.5)
    ts = t[seg] - 1.5
    inst_phase = 2 * np.pi * 220.0 * (ts - 0.02 / (2 * np.pi * 5.5) * np.cos(2 * np.pi * 5.5 * ts))
    y[seg] += sum(0.3 / h * np.sin(h * inst_phase) for h in range(1, 7)) * np.hanning(seg.sum())
    # 2.5-4 s: arpeggio C4 E4 G4 with exponential decay
    for i, f in enumerate((261.63, 329.63, 392.0)):
        start = 2.5 + 0.5 * i
        seg = t >= start
        ts = t[seg] - start
        y[seg] += sum(0.25 / h * np.sin(2 * np.pi * h * f * ts) for h in range(1, 5)) * np.exp(-3.0 * ts)
    # clicks every 0.5 s
    for c in np.arange(0.25, duration, 0.5):
        i = int(c * sr)
        y[i : i + 8] += 0.6 * np.hanning(8)
    rng = np.random.default_rng(20261126)
    noise = np.cumsum(rng.standard_normal(t.shape))
    noise -= np.convolve(noise, np.ones(64) / 64, mode="same")
    y += 0.003 * noise / (np.abs(noise).max() + 1e-12)
    return (0.9 * y / np.abs(y).max()).astype(np.float32)
