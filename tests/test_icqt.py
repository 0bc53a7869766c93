"""Inverse CQT/VQT: the operator and its adjoint (dot-product tests), the solvers against dense least squares,
reconstruction SNR against librosa.icqt (and nnAudio2's iCQT where installed), layers' inverse methods, shapes,
dtypes, determinism and errors.

Signals (issue 8): a Hann-tapered log chirp 100 Hz-3 kHz and white noise band-limited to 60 Hz-1.5 kHz (FFT
mask), 1.5 s at 22.05 kHz (the issue's chirp is 3 s; 1.5 s keeps this file's runtime down and gives the same SNRs
within 0.2 dB), CQT of 84 bins from 32.70 Hz, 12 per octave, ``pad_mode='constant'`` (librosa's).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnaudio_fast import bases, cpu, cqt_operator, linear_solvers
from nnaudio_fast import functional as AF

from conftest import noise, rel_err

SR, FMIN, N_BINS = 22050, 32.70, 84
SECONDS = 1.5
CQT_KW = dict(sr=SR, fmin=FMIN, n_bins=N_BINS, bins_per_octave=12, pad_mode="constant")
needs_ext = pytest.mark.skipif(cpu.missing_reason("pyramid") is not None, reason=str(cpu.missing_reason("pyramid")))


def snr_db(x, ref) -> float:
    x = np.asarray(x.detach() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert x.shape == ref.shape and np.all(np.isfinite(x))
    return float(10 * np.log10(np.sum(ref**2) / np.sum((x - ref) ** 2)))


def log_chirp(sr=SR, seconds=SECONDS, f0=100.0, f1=3000.0) -> np.ndarray:
    n = int(sr * seconds)
    t = np.arange(n) / sr
    k = np.log(f1 / f0) / seconds
    return np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k) * np.hanning(n)


def band_noise(rng, sr=SR, seconds=SECONDS, lo=60.0, hi=1500.0, batch=None, taper=False) -> np.ndarray:
    n = int(sr * seconds)
    spec = np.fft.rfft(rng.standard_normal((batch or 1, n)), axis=-1)
    f = np.fft.rfftfreq(n, 1 / sr)
    spec[..., (f < lo) | (f > hi)] = 0
    y = np.fft.irfft(spec, n=n, axis=-1)
    y /= np.abs(y).max(-1, keepdims=True)
    if taper:
        y *= np.hanning(n)
    return y if batch else y[0]


def small_noise(rng, batch=None, seconds=0.5):
    """8 kHz noise in 80-600 Hz, Hann-tapered: with reflect padding (the layers' default) the reconstruction of
    an untapered signal's first and last ~kernel-length is the weak spot (see the README)."""
    return band_noise(rng, sr=8000, seconds=seconds, lo=80.0, hi=600.0, batch=batch, taper=True)


def _complex(X: torch.Tensor) -> torch.Tensor:
    return torch.view_as_complex(X.contiguous())


# ----------------------------------------------------------------------------------------------------------------
# the operator and its adjoint
# ----------------------------------------------------------------------------------------------------------------
def _operator(multirate, hop, pad_mode, gamma=0.0, center=True, normalization_type="librosa", backend=None,
              batch=2, length=3001, kw=None):
    kw = kw or dict(sr=8000, fmin=50.0, n_bins=60, bins_per_octave=12, filter_scale=1.0)
    design = (float(kw["sr"]), kw["fmin"], kw["n_bins"], kw["bins_per_octave"], kw["filter_scale"], gamma, "hann")
    if multirate:
        plan, ks = bases.cqt_multirate_kernels(*design, 1, hop)
        ks = [torch.tensor(k) for k in ks]

        def transform(x):
            return AF.cqt_multirate_from_kernels(x, ks, plan, pad_mode, backend)
    else:
        kr, ki = (torch.tensor(k) for k in bases.cqt_kernels(*design, 1))

        def transform(x):
            return AF.cqt_from_kernels(x, kr, ki, hop, center, pad_mode, backend)
    scale = cqt_operator.normalization_scale(torch.tensor(bases.cqt_lengths(*design)), normalization_type)
    return cqt_operator.CQTOperator(transform, scale, batch, length, torch.float64, "cpu")


@pytest.mark.parametrize(
    "multirate,hop,pad_mode,gamma,center,norm_type,backend",
    [(False, 128, "constant", 0.0, True, "librosa", None), (False, 100, "reflect", 0.0, True, "librosa", None),
     (False, 77, "replicate", 10.0, True, "wrap", None), (False, 64, "constant", 0.0, False, "convolutional", None),
     (True, 128, "constant", 0.0, True, "librosa", "reference"), (True, 128, "reflect", 0.0, True, "librosa", "cpp"),
     (True, 100, "reflect", 0.0, True, "librosa", "cpp"), (True, 333, "circular", 20.0, True, "librosa", "cpp"),
     (True, 100, "replicate", 0.0, True, "convolutional", "reference")],
)
def test_adjoint_dot_product(rng, multirate, hop, pad_mode, gamma, center, norm_type, backend):
    """⟨Cx, y⟩ = ⟨x, Cᴴy⟩ (real inner products; y complex as (re, im)) in float64. The issue asks for 1e-6; the
    adjoint is autograd's transpose of the forward code, so it holds to rounding."""
    if backend == "cpp" and cpu.missing_reason("pyramid") is not None:
        pytest.skip("C++ extension not built")
    op = _operator(multirate, hop, pad_mode, gamma, center, norm_type, backend)
    x = noise(rng, 2, 3001)
    cx = op(x)
    y = noise(rng, *cx.shape)
    lhs = (cx * y).sum()
    rhs = (x * op.adjoint(y)).sum()
    assert abs(float(lhs - rhs)) <= 1e-10 * abs(float(lhs))
    assert abs(float(lhs)) > 1e-3 * float(cx.norm() * y.norm()) / np.sqrt(cx.numel())  # not a cancellation


@needs_ext
def test_operator_is_the_forward_cqt_and_uses_the_cpp_adjoint(rng, monkeypatch):
    """C is the CQT the functional API computes; on CPU the multirate adjoint runs the C++ pyramid adjoint."""
    x = noise(rng, 2, 3001)
    for multirate in (False, True):
        op = _operator(multirate, 128, "reflect", batch=2)
        ref = AF.cqt(x, sr=8000, hop_length=128, fmin=50.0, n_bins=60, pad_mode="reflect", output_format="Complex",
                     multirate=multirate)
        assert rel_err(op(x), ref.permute(0, 3, 1, 2)) <= 1e-13
    calls = []
    original = cpu._adjoint
    monkeypatch.setattr(cpu, "_adjoint", lambda *a: calls.append(1) or original(*a))
    op = _operator(True, 128, "reflect")
    op.adjoint(noise(rng, *op(x).shape))
    assert calls


def test_frame_symbol_is_the_frame_operator_when_sampling_is_painless(rng):
    """With hop 1 (every filter band narrower than the frame rate) and circular padding, CᴴC is the circular
    convolution by P(ω): the preconditioner's model of the frame operator (whose 1/2a and mirrored term come from
    the real part)."""
    kw = dict(sr=2000, fmin=100.0, n_bins=18, bins_per_octave=6, filter_scale=1.0)
    n = 2048
    op = _operator(False, 1, "circular", kw=kw, batch=1, length=n)
    x = noise(rng, 1, n)
    design = (2000.0, 100.0, 18, 6, 1.0, 0.0, "hann", 1.0, "librosa", 1)
    p = torch.tensor(cqt_operator.frame_symbol(*design, n))
    want = torch.fft.irfft(torch.fft.rfft(x) * p, n=n)
    cx = op(x)
    assert cx.shape[-1] == n + 1  # frames t·hop for t = 0 … n: the last repeats the first (circular signal)
    last = torch.zeros_like(cx)
    last[..., -1] = cx[..., -1]
    assert rel_err(op.adjoint(cx) - op.adjoint(last), want) <= 1e-10


# ----------------------------------------------------------------------------------------------------------------
# the solvers against dense least squares
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("damping", [0.0, 0.3])
def test_solvers_reach_the_least_squares_solution(rng, damping):
    a = noise(rng, 3, 50, 30)
    b = noise(rng, 3, 50)
    ref = torch.linalg.solve(a.transpose(1, 2) @ a + damping * torch.eye(30, dtype=a.dtype),
                             (a.transpose(1, 2) @ b[..., None]))[..., 0]

    def A(x):
        return (a @ x[..., None])[..., 0]

    def At(y):
        return (a.transpose(1, 2) @ y[..., None])[..., 0]

    d = torch.from_numpy(rng.uniform(0.5, 2.0, 30))
    runs = {
        "cgls": linear_solvers.cgls(A, At, b, 60, (3, 30), damping),
        "pcgls": linear_solvers.cgls(A, At, b, 60, (3, 30), damping, precondition=lambda s: s / d),
        "lsqr": linear_solvers.lsqr(A, At, b, 60, (3, 30), damping),
        "plsqr": linear_solvers.lsqr(A, At, b, 60, (3, 30), damping, precondition_sqrt=lambda s: s / d.sqrt()),
    }
    for name, (x, it) in runs.items():
        assert it == 60 and rel_err(x, ref) <= 1e-8, name
    for solver in (linear_solvers.cgls, linear_solvers.lsqr):
        x, it = solver(A, At, b, 60, (3, 30), damping, None, 1e-8)
        assert it < 60 and rel_err(x, ref) <= 1e-6
