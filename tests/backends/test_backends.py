"""Fast backends against the reference: same outputs, same gradients, fallbacks where they must not apply."""

from __future__ import annotations

import pytest
import torch

import nnaudio_fast as nf
from nnaudio_fast import cpp, dispatch
from nnaudio_fast import functional as AF

from helpers import noise, rel_err

CASES = [
    dict(n_fft=512, hop_length=128),
    dict(n_fft=400, hop_length=160, win_length=320, window="hamming", pad_mode="constant"),
    dict(n_fft=1023, hop_length=250, pad_mode="replicate"),
    dict(n_fft=256, hop_length=100, center=False),
    dict(n_fft=300, hop_length=64, pad_mode="circular"),
]


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("dtype,bound", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
def test_cpp_stft_and_mel_match_reference(rng, kw, dtype, bound):
    x = noise(rng, 2, 3, 4321, dtype=dtype)
    ref = AF.stft(x, backend="reference", **kw)
    assert rel_err(AF.stft(x, backend="cpp", **kw), ref) <= bound
    mel_kw = {k: v for k, v in kw.items()}
    ref = AF.mel_spectrogram(x, n_mels=40, backend="reference", **mel_kw)
    assert rel_err(AF.mel_spectrogram(x, n_mels=40, backend="cpp", **mel_kw), ref) <= bound


def test_cpp_short_input_one_frame_and_noncontiguous(rng):
    for x in (noise(rng, 1, 3), noise(rng, 1, 100), noise(rng, 4, 2000)[:, ::3], noise(rng, 2000, 4).t()):
        for mode in ("reflect", "constant"):
            ref = AF.stft(x, n_fft=256, hop_length=128, pad_mode=mode, backend="reference")
            assert rel_err(AF.stft(x, n_fft=256, hop_length=128, pad_mode=mode, backend="cpp"), ref) <= 1e-12


def test_cpp_gradients_match_reference(rng):
    x = noise(rng, 2, 3000)
    grads = []
    for backend in ("reference", "cpp"):
        xx = x.clone().requires_grad_(True)
        out = AF.mel_spectrogram(xx, n_fft=512, hop_length=128, n_mels=32, power=1.0, backend=backend)
        (out * torch.linspace(0, 1, out.shape[-1], dtype=out.dtype)).sum().backward()
        grads.append(xx.grad)
    assert rel_err(grads[1], grads[0]) <= 1e-10


def test_fft_path_is_taken_only_for_untouched_plain_dft(rng, monkeypatch):
    calls = []
    real_stft = torch.stft
    monkeypatch.setattr(torch, "stft", lambda *a, **k: calls.append(1) or real_stft(*a, **k))
    x = noise(rng, 2, 3000, dtype=torch.float32)
    layer = nf.STFT(n_fft=512, hop_length=128, verbose=False, backend="cpp")
    ref = layer(x)
    assert calls, "the plain DFT layer should use the FFT path"
    calls.clear()
    with torch.no_grad():
        layer.wsin.mul_(0.5)  # edited kernels: the kernel product must be used, and the edit must show
    out = layer(x)
    assert not calls and rel_err(out[..., 1], 0.5 * ref[..., 1]) <= 1e-6
    trainable = nf.STFT(n_fft=512, hop_length=128, verbose=False, trainable=True, backend="cpp")
    trainable(x)
    log = nf.STFT(n_fft=512, hop_length=128, freq_bins=100, freq_scale="log", fmin=50, fmax=4000, verbose=False,
                  backend="cpp")
    log(x)
    assert not calls


@pytest.mark.parametrize("n_fft,hop,win_length", [(512, 128, None), (511, 100, 400), (64, 16, 64)])
@pytest.mark.parametrize("center", [True, False])
def test_cpp_istft_matches_reference(rng, n_fft, hop, win_length, center):
    x = noise(rng, 2, 3, 3000)
    X = AF.stft(x, n_fft=n_fft, hop_length=hop, win_length=win_length, center=center)
    for length in (None, 2500, 3100):
        kw = dict(n_fft=n_fft, hop_length=hop, win_length=win_length, center=center, length=length)
        ref = AF.istft(X, backend="reference", **kw)
        assert rel_err(AF.istft(X, backend="cpp", **kw), ref) <= 1e-12
    layer = nf.iSTFT(n_fft=n_fft, hop_length=hop, win_length=win_length, center=center, verbose=False)
    ref = nf.iSTFT(n_fft=n_fft, hop_length=hop, win_length=win_length, center=center, verbose=False,
                   backend="reference")
    assert rel_err(layer(X.reshape(6, *X.shape[2:]), length=3000), ref(X.reshape(6, *X.shape[2:]), length=3000)) <= 1e-12


def test_auto_uses_cpp_on_cpu():
    assert dispatch.select("stft", "cpu") is cpp.stft
    assert dispatch.select("istft", "cpu") is cpp.istft


@pytest.mark.parametrize("name,kw", [
    ("STFT", dict(n_fft=512, hop_length=128, output_format="Magnitude")),
    ("MelSpectrogram", dict(sr=16000, n_fft=400, hop_length=160, n_mels=40)),
    ("CQT2010v2", dict(sr=8000, hop_length=64, fmin=50.0, n_bins=48)),
    ("CQT1992v2", dict(sr=8000, hop_length=64, fmin=100.0, n_bins=36)),
])
def test_auto_backend_on_every_device_matches_the_float64_reference(device, rng, name, kw):
    """Whatever auto picks on ``device`` (cpp on the CPU, triton on CUDA), float32 is within 1e-5 of float64."""
    x = noise(rng, 2, 3001)
    want = getattr(nf, name)(verbose=False, backend="reference", **kw)(x)
    got = getattr(nf, name)(verbose=False, **kw).to(device)(x.float().to(device))
    assert got.device.type == device.type
    assert rel_err(got, want) <= 1e-5
