"""Shared test helpers (imported by test modules as ``from helpers import ...``): signals, relative error, the
Triton device, real recordings. Fixtures live in conftest.py."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch

#: Where the Triton backend's tests run: the GPU, else the CPU under the interpreter.
CUDA = torch.cuda.is_available()
TRITON_DEVICE = torch.device("cuda" if CUDA else "cpu")


def rel_err(out, ref) -> float:
    """``‖out − ref‖ / ‖ref‖`` in float64 (complex allowed)."""
    out = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else np.asarray(out)
    ref = ref.detach().cpu().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert out.shape == ref.shape, f"shape {out.shape} != reference shape {ref.shape}"
    out = out.astype(np.complex128 if np.iscomplexobj(out) else np.float64)
    ref = ref.astype(np.complex128 if np.iscomplexobj(ref) else np.float64)
    assert np.all(np.isfinite(out)), "output has non-finite values"
    denom = np.linalg.norm(ref)
    assert denom > 0, "reference is all zeros: the test cannot fail"
    return float(np.linalg.norm(out - ref) / denom)


def noise(rng, *shape, dtype=torch.float64):
    return torch.from_numpy(rng.standard_normal(shape)).to(dtype)


def chirp(sr: int, seconds: float, f0: float = 60.0, f1: float = 4000.0) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    k = np.log(f1 / f0) / seconds
    return np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)


def speech_like(rng, n: int, sr: int = 16000) -> np.ndarray:
    """Voiced segments (harmonics of a vibrato f0 under three formant peaks) alternating with noise bursts."""
    y = np.zeros(n)
    pos = 0
    while pos < n:
        seg = min(n - pos, int(sr * rng.uniform(0.05, 0.12)))
        t = np.arange(seg) / sr
        if rng.random() < 0.7:
            f0 = rng.uniform(90, 220) * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(2, 6) * t))
            phase = 2 * np.pi * np.cumsum(f0) / sr
            formants = rng.uniform([300, 900, 2200], [800, 1800, 3000])
            s = np.zeros(seg)
            for h in range(1, int(0.45 * sr / f0.max())):
                envelope = 0.02 + sum(np.exp(-0.5 * ((h * f0 - f) / 120.0) ** 2) for f in formants)
                s += envelope * np.sin(h * phase) / np.sqrt(h)
        else:
            s = 0.3 * rng.standard_normal(seg)
        y[pos : pos + seg] = s * np.hanning(seg)
        pos += seg
    return y + 1e-3 * rng.standard_normal(n)


def log_chirp(sr=22050, seconds=1.5, f0=100.0, f1=3000.0) -> np.ndarray:
    """A Hann-tapered exponential sweep from ``f0`` to ``f1`` Hz."""
    n = int(sr * seconds)
    t = np.arange(n) / sr
    k = np.log(f1 / f0) / seconds
    return np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k) * np.hanning(n)


#: Real recordings (Debian's alsa-utils and sound-theme-freedesktop, unpacked by .ci/run into tests/.recordings;
#: NNAUDIO_FAST_RECORDINGS overrides the folder). Under CI their absence is an error, elsewhere a skip.
RECORDINGS = os.environ.get("NNAUDIO_FAST_RECORDINGS",
                            os.path.join(os.path.dirname(__file__), ".recordings", "usr", "share", "sounds"))


def recording(name: str, sr: int, seconds: float | None = None) -> torch.Tensor:
    """A real recording resampled to ``sr`` (polyphase, scipy), mono float32 ``(time,)``."""
    import scipy.signal
    import soundfile

    path = os.path.join(RECORDINGS, name)
    if not os.path.exists(path):
        if os.environ.get("CI"):
            raise FileNotFoundError(f"{path} is missing: .ci/run unpacks Debian's sound packages there")
        pytest.skip(f"recording {path} not found (run .ci/run's recordings step)")
    data, native = soundfile.read(path, dtype="float64", always_2d=True)
    x = data.mean(axis=1)
    g = math.gcd(int(native), int(sr))
    x = scipy.signal.resample_poly(x, sr // g, native // g)
    if seconds is not None:
        x = x[: int(seconds * sr)]
    return torch.from_numpy(np.ascontiguousarray(x)).float()


def require_triton_interpreter_or_cuda() -> None:
    """Fail loudly if triton was imported before conftest switched the interpreter on (its kernels would not run)."""
    if not CUDA and os.environ.get("TRITON_INTERPRET") != "1":
        raise RuntimeError("TRITON_INTERPRET must be 1 before triton is imported (tests/conftest.py sets it)")
