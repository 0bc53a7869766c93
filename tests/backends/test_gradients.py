"""Gradients of the reference: gradcheck in float64 w.r.t. the input and every trainable basis; no NaN at silence."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck
from torch.func import functional_call

import nnaudio_fast as nf

from helpers import noise


def _check(layer, x, names, **call):
    layer = layer.double()
    params = tuple(getattr_nested(layer, n).detach().clone().requires_grad_(True) for n in names)

    def f(x, *ps):
        return functional_call(layer, dict(zip(names, ps)), (x,), call)

    assert gradcheck(f, (x.requires_grad_(True),) + params, eps=1e-6, atol=1e-6, rtol=1e-4, fast_mode=True)


def getattr_nested(obj, name):
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def test_stft_magnitude_gradcheck(rng):
    layer = nf.STFT(n_fft=32, hop_length=8, trainable=True, output_format="Magnitude", verbose=False)
    _check(layer, noise(rng, 2, 70), ("wcos", "wsin"))


def test_stft_complex_gradcheck(rng):
    layer = nf.STFT(n_fft=30, hop_length=7, trainable=True, pad_mode="reflect", verbose=False)
    _check(layer, noise(rng, 1, 20), ("wcos", "wsin"))  # input shorter than the padding: reflection repeats


def test_mel_gradcheck(rng):
    layer = nf.MelSpectrogram(sr=8000, n_fft=32, hop_length=8, n_mels=6, trainable_mel=True, trainable_STFT=True,
                              verbose=False)
    _check(layer, noise(rng, 2, 64), ("mel_basis", "stft.wcos", "stft.wsin"))


def test_mel_power1_gradcheck(rng):
    layer = nf.MelSpectrogram(sr=8000, n_fft=32, hop_length=8, n_mels=6, power=1.0, trainable_mel=True,
                              verbose=False)
    _check(layer, noise(rng, 1, 64), ("mel_basis",))


def test_mfcc_gradcheck(rng):
    """Finite differences of the dB mel spectrogram ``10·log10 m``, ``m_k = Σ_j W_kj P_j``, are valid only while
    the step moves each ``m_k`` by a small fraction ``ρ`` of itself (central differences of ``log`` are off by
    ``ρ²/3`` relative). A step ``ε`` in ``W`` moves ``m_k`` by up to ``ε·Σ_j P_j``: with the Slaney basis as it is
    (zero outside each band), a band that happens to catch little of a frame's energy (``m_k`` ≈ 4e-5 against
    ``P_j`` ≈ 100 for some seeds) is pushed below zero, into the clamp at ``amin``, and gradcheck fails though the
    analytic gradient is right. So the (trainable, any value valid) basis gets a floor ``f = 0.1·max W`` in every
    bin: then ``m_k ≥ f·Σ_j P_j`` and ``ρ ≤ ε/f`` ≈ 2.7e-3 (error ≈ 2.5e-6 ≪ rtol) whatever the draw. A step
    ``ε`` in ``x`` moves ``|X_j|`` by at most ``ε·‖window‖₂`` (≈ 3.5ε), so ``ρ ≤ 2ε·‖window‖₂·√(Σ_j W_kj)/√m_k``
    (Cauchy-Schwarz) ≈ 7e-7/√m_k: negligible for ``m_k ≥ 1e-6``. ``m_k ≥ f·Σ_j P_j`` ≈ 0.07 for a typical frame
    (0.014 the least over 300 seeds); the assertions below make the two premises explicit (and keep ``top_db``'s
    clip, another kink, out of reach)."""
    layer = nf.MFCC(sr=8000, n_mfcc=5, n_fft=32, hop_length=8, n_mels=8, trainable_mel=True, verbose=False)
    basis = layer.melspec_layer.mel_basis
    with torch.no_grad():
        basis.add_(0.1 * basis.max())
    x = noise(rng, 2, 64)
    with torch.no_grad():
        mel = layer.double().melspec_layer(x)
    assert float(mel.min()) >= 1e-6
    assert 10 * float(torch.log10(mel.max() / mel.min())) < layer.top_db - 1
    _check(layer, x, ("melspec_layer.mel_basis",))


def test_gammatone_gradcheck(rng):
    layer = nf.Gammatonegram(sr=8000, n_fft=32, hop_length=8, n_bins=6, trainable_bins=True, verbose=False)
    _check(layer, noise(rng, 1, 64), ("gammatone_basis",))


def test_istft_gradcheck(rng):
    layer = nf.iSTFT(n_fft=16, hop_length=4, trainable_kernels=True, trainable_window=True, verbose=False).double()
    X = noise(rng, 1, 9, 12, 2)

    def f(X, kc, ks, w):
        return functional_call(layer, {"kernel_cos": kc, "kernel_sin": ks, "window_mask": w}, (X,), {"length": 40})

    ps = tuple(getattr(layer, n).detach().clone().requires_grad_(True) for n in ("kernel_cos", "kernel_sin",
                                                                                  "window_mask"))
    assert gradcheck(f, (X.requires_grad_(True),) + ps, eps=1e-6, atol=1e-6, rtol=1e-4, fast_mode=True)


@pytest.mark.parametrize(
    "make",
    [lambda: nf.STFT(n_fft=64, hop_length=16, output_format="Magnitude", trainable=True, verbose=False),
     lambda: nf.STFT(n_fft=64, hop_length=16, output_format="Phase", verbose=False),
     lambda: nf.MelSpectrogram(n_fft=64, hop_length=16, n_mels=8, power=1.0, trainable_STFT=True, verbose=False),
     lambda: nf.MelSpectrogram(n_fft=64, hop_length=16, n_mels=8, power=0.5, verbose=False),
     lambda: nf.MFCC(n_fft=64, hop_length=16, n_mels=8, n_mfcc=4, verbose=False)],
)
def test_no_nan_gradient_at_silence(make):
    layer = make()
    x = torch.zeros(2, 256, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
    for p in layer.parameters():
        assert p.grad is None or torch.isfinite(p.grad).all()
