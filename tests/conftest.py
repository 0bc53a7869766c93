"""Shared test helpers: signals, relative error, seeded generators."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
import torch

# Triton decides when it is imported whether jit functions (its own standard library included) run in its
# interpreter. Without a GPU, switch the interpreter on before anything imports triton so the Triton backend's tests
# run on the CPU (automatic dispatch never sends CPU tensors to Triton, so other tests are unaffected).
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

#: Where the Triton backend's tests run: the GPU, else the CPU under the interpreter.
CUDA = torch.cuda.is_available()
TRITON_DEVICE = torch.device("cuda" if CUDA else "cpu")


def require_triton_interpreter_or_cuda() -> None:
    """Fail loudly if triton was imported before the interpreter switch above (its kernels would not run)."""
    if not CUDA and os.environ.get("TRITON_INTERPRET") != "1":
        raise RuntimeError("TRITON_INTERPRET must be 1 before triton is imported (tests/conftest.py sets it)")

# Library default dtype must not leak between tests.
torch.set_default_dtype(torch.float32)


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


@pytest.fixture
def rng(request):
    """A generator seeded from the test's id (different per test and parametrisation, reproducible)."""
    seed = int(hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:8], 16)
    seed ^= int(os.environ.get("NNAUDIO_FAST_TEST_SEED", "0"))
    return np.random.default_rng(seed)


def noise(rng, *shape, dtype=torch.float64):
    return torch.from_numpy(rng.standard_normal(shape)).to(dtype)


def chirp(sr: int, seconds: float, f0: float = 60.0, f1: float = 4000.0) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    k = np.log(f1 / f0) / seconds
    return np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)


@pytest.fixture(autouse=True)
def _fresh_backend_choice():
    """Tests simulate backends appearing and disappearing; dispatch's cached choices must not outlive a test."""
    from nnaudio_fast import dispatch

    dispatch.reset()
    yield
    dispatch.reset()


#: Real recordings (Debian's alsa-utils and sound-theme-freedesktop, unpacked by .ci/run into tests/.recordings;
#: NNAUDIO_FAST_RECORDINGS overrides the folder). Under CI their absence is an error, elsewhere a skip.
RECORDINGS = os.environ.get("NNAUDIO_FAST_RECORDINGS",
                            os.path.join(os.path.dirname(__file__), ".recordings", "usr", "share", "sounds"))


def recording(name: str, sr: int, seconds: float | None = None) -> torch.Tensor:
    """A real recording resampled to ``sr`` (polyphase, scipy), mono float32 ``(time,)``."""
    import math

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
