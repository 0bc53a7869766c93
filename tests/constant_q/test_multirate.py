"""The octave pyramid: the PyTorch reference against its definition, the C++ extension against the reference, both
adjoints by the dot-product test, fuzzed shapes, and gradients through the ``cpp`` backend."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import nnaudio_fast as nf
from nnaudio_fast import geometry
from nnaudio_fast import bases, cpp, dispatch
from nnaudio_fast import functional as AF
from nnaudio_fast import reference as R

from helpers import noise, rel_err

H = bases.halfband_lowpass()
needs_ext = pytest.mark.skipif(cpp.missing_reason("pyramid") is not None, reason=str(cpp.missing_reason("pyramid")))


def _definition(x: np.ndarray, n_levels: int):
    """``x_ℓ[n] = Σ_j h_j x_{ℓ−1}[2n − j]`` with zeros outside the signal, by full convolution."""
    out = []
    k = (len(H) - 1) // 2
    for _ in range(n_levels):
        full = np.stack([np.convolve(row, H) for row in x]) if x.shape[-1] else x
        x = full[:, k : k + x.shape[-1] : 2] if x.shape[-1] else x[:, :0]
        out.append(x)
    return out


@pytest.mark.parametrize("length", [0, 1, 2, 3, 5, 64, 1001])
def test_reference_pyramid_is_the_definition(rng, length):
    x = noise(rng, 3, length)
    levels = R.pyramid(x, torch.tensor(H), 4)
    for got, want, n in zip(levels, _definition(x.numpy(), 4), geometry.level_lengths(length, 4)):
        assert got.shape == (3, n)
        if n:
            assert np.abs(got.numpy() - want).max() <= 1e-14 * max(1.0, np.abs(want).max())


@pytest.mark.parametrize("length", [1, 2, 7, 100, 1001])
def test_reference_adjoint_dot_product(rng, length):
    x = noise(rng, 2, length)
    h = torch.tensor(H)
    ax = R.pyramid(x, h, 5)
    ys = [noise(rng, 2, a.shape[-1]) for a in ax]
    lhs = sum((a * y).sum() for a, y in zip(ax, ys))
    rhs = (x * R.pyramid_adjoint(ys, h, length)).sum()
    assert abs(lhs - rhs) <= 1e-12 * abs(lhs)


def test_extension_is_built_when_required():
    """CI sets NNAUDIO_FAST_REQUIRE_EXT=1: there the extension must have been built and must import."""
    if os.environ.get("NNAUDIO_FAST_REQUIRE_EXT") != "1":
        pytest.skip("NNAUDIO_FAST_REQUIRE_EXT is not set")
    import nnaudio_fast._multirate  # noqa: F401

    assert cpp.missing_reason("pyramid") is None and nf.build_info()["multirate_extension"]
    assert dispatch.backends()["cpp"] == "available"


def test_info_reports_the_extension(capsys):
    from nnaudio_fast.cli import main

    assert main(["info"]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if "C++ multirate extension" in ln]
    assert len(line) == 1 and ("built" in line[0])
    assert ("not built" in line[0]) == (cpp.missing_reason("pyramid") is not None)


@needs_ext
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-6), (torch.float64, 1e-13)])
@pytest.mark.parametrize("shape", [(1, 0), (1, 1), (2, 2), (3, 7), (4, 1023), (2, 22051), (1000, 13)])
def test_cpp_pyramid_equals_reference(rng, dtype, tol, shape):
    x = noise(rng, *shape, dtype=dtype)
    h = torch.tensor(H, dtype=dtype)
    got, want = cpp.pyramid(x, h, 6), R.pyramid(x, h, 6)
    assert len(got) == 6
    for g, w in zip(got, want):
        assert g.dtype == dtype and g.shape == w.shape
        if w.numel() and w.abs().max() > 0:
            assert rel_err(g, w) <= tol
    ys = [noise(rng, *w.shape, dtype=dtype) for w in want]
    got_adj, want_adj = cpp.pyramid_adjoint(ys, h, shape[1]), R.pyramid_adjoint(ys, h, shape[1])
    assert got_adj.shape == shape
    if shape[1] > 1:
        assert rel_err(got_adj, want_adj) <= tol


@needs_ext
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-6), (torch.float64, 1e-13)])
def test_cpp_adjoint_dot_product(rng, dtype, tol):
    for length in (1, 2, 9, 4097):
        x = noise(rng, 3, length, dtype=torch.float64)
        h = torch.tensor(H, dtype=dtype)
        ax = cpp.pyramid(x.to(dtype), h, 7)
        ys = [noise(rng, 3, a.shape[-1]) for a in ax]
        lhs = sum((a.double() * y).sum() for a, y in zip(ax, ys))
        rhs = (x * cpp.pyramid_adjoint([y.to(dtype) for y in ys], h, length).double()).sum()
        scale = sum(float(a.double().norm() * y.norm()) for a, y in zip(ax, ys))
        assert abs(lhs - rhs) <= tol * scale


@needs_ext
def test_cpp_fuzz_no_crash(rng):
    """Random lengths and batch sizes (0, 1, odd, a huge batch), non-contiguous input, many levels."""
    h = torch.tensor(H, dtype=torch.float32)
    for _ in range(40):
        rows, length = int(rng.integers(0, 5)), int(rng.integers(0, 300))
        x = noise(rng, rows, length, dtype=torch.float32)
        levels = int(rng.integers(0, 12))
        out = cpp.pyramid(x, h, levels)
        assert [o.shape for o in out] == [(rows, n) for n in geometry.level_lengths(length, levels)]
        if levels:
            back = cpp.pyramid_adjoint([torch.ones_like(o) for o in out], h, length)
            assert back.shape == (rows, length) and torch.isfinite(back).all()
    big = noise(rng, 20000, 17, dtype=torch.float32)
    assert cpp.pyramid(big, h, 5)[-1].shape == (20000, 1)
    strided = noise(rng, 6, 4000, dtype=torch.float32)[::2, ::3]
    assert rel_err(cpp.pyramid(strided, h, 3)[-1], R.pyramid(strided, h, 3)[-1]) <= 1e-6
    with pytest.raises(ValueError, match="float32 or float64"):
        cpp.pyramid(torch.zeros(2, 10, dtype=torch.float16), h, 2)
    with pytest.raises(ValueError, match="half-band"):
        cpp.pyramid(torch.zeros(2, 10), torch.ones(5), 2)
    with pytest.raises(ValueError, match="shape"):
        cpp.pyramid_adjoint([torch.zeros(2, 3)], h, 10)


@needs_ext
def test_cpp_pyramid_gradients(rng):
    h = torch.tensor(H)
    x = noise(rng, 2, 37).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a: cpp.pyramid(a, h, 3), (x,))
    assert torch.autograd.gradgradcheck(lambda a: cpp.pyramid(a, h, 3), (x,))
    ys = [noise(rng, 2, n).requires_grad_(True) for n in geometry.level_lengths(37, 3)]
    assert torch.autograd.gradcheck(lambda *g: cpp.pyramid_adjoint(g, h, 37), tuple(ys))


@needs_ext
@pytest.mark.parametrize("hop", [512, 500])
def test_cpp_backend_cqt_and_gradients_match_reference(rng, hop):
    x = noise(rng, 3, 6000, dtype=torch.float32)
    kw = dict(sr=22050, hop_length=hop, fmin=32.70, n_bins=84, output_format="Complex")
    assert rel_err(AF.cqt(x, backend="cpp", **kw), AF.cqt(x, backend="reference", **kw)) <= 1e-6
    grads = {}
    for backend in ("cpp", "reference"):
        layer = nf.CQT2010v2(sr=22050, hop_length=hop, trainable=True, backend=backend)
        xr = x.clone().requires_grad_(True)
        layer(xr).pow(2).sum().backward()
        grads[backend] = (xr.grad, layer.cqt_kernels_real.grad)
    for got, want in zip(grads["cpp"], grads["reference"]):
        assert rel_err(got, want) <= 1e-5


@needs_ext
def test_auto_dispatch_uses_cpp_on_cpu():
    composed = dispatch.select("cqt_multirate", "cpu")  # the reference algorithm on the C++ pyramid
    assert composed.func is R.cqt_multirate and composed.keywords == {"pyramid": cpp.pyramid}
    assert dispatch.select("cqt_multirate", "cpu", "reference") is R.cqt_multirate
    assert dispatch.select("cqt_single", "cpu") is cpp.cqt_single  # the support-restricted single-rate CQT


def test_explicit_cpp_backend_that_cannot_run_raises(monkeypatch):
    monkeypatch.setattr(cpp, "_ext", None)
    monkeypatch.setattr(cpp, "_IMPORT_ERROR", "simulated")
    with pytest.raises(dispatch.BackendUnavailableError, match="not built"):
        AF.cqt(torch.zeros(1000) + 0.1, backend="cpp")
    assert AF.cqt(torch.zeros(1000) + 0.1).shape == (84, 2)  # auto falls back quietly
    assert not nf.build_info()["multirate_extension"]
