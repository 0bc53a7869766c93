"""Bad input raises a ValueError that names the argument and its value."""

from __future__ import annotations

import pytest
import torch

import nnaudio_fast as nf
from nnaudio_fast import dispatch
from nnaudio_fast import functional as AF

X = torch.randn(2, 4000)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: nf.STFT(freq_scale="mel", verbose=False), "freq_scale='mel'"),
        (lambda: nf.STFT(pad_mode="symmetric", verbose=False), "pad_mode='symmetric'"),
        (lambda: nf.STFT(output_format="Power", verbose=False), "output_format='Power'"),
        (lambda: nf.STFT(n_fft=0, verbose=False), "n_fft=0"),
        (lambda: nf.STFT(n_fft=256, win_length=300, verbose=False), "win_length=300"),
        (lambda: nf.STFT(n_fft=256, hop_length=0, verbose=False), "hop_length=0"),
        (lambda: nf.STFT(n_fft=256, hop_length=2.5, verbose=False), "hop_length=2.5"),
        (lambda: nf.STFT(window="nonexistent", verbose=False), "window='nonexistent'"),
        (lambda: nf.STFT(freq_scale="log", fmin=0, verbose=False), "fmin=0"),
        (lambda: nf.MelSpectrogram(norm="l3", verbose=False), "norm='l3'"),
        (lambda: nf.MelSpectrogram(fmax=20000, sr=22050, verbose=False), "fmax=20000"),
        (lambda: nf.MelSpectrogram(power=0, verbose=False), "power=0"),
        (lambda: nf.MFCC(n_mfcc=200, verbose=False), "n_mfcc=200"),
        (lambda: nf.MFCC(amin=0, verbose=False), "amin=0"),
        (lambda: nf.MFCC(top_db=-1, verbose=False), "top_db=-1"),
        (lambda: nf.iSTFT(freq_scale="log", verbose=False), "freq_scale='log'"),
        (lambda: nf.STFT(n_fft=256, center=False, verbose=False)(torch.randn(2, 100)), "center=False"),
        (lambda: nf.STFT(n_fft=256, verbose=False)(torch.randn(2, 0)), "0 samples"),
        (lambda: nf.STFT(n_fft=256, verbose=False)(torch.randn(2, 3, 100)), r"shape \(2, 3, 100\)"),
        (lambda: nf.STFT(n_fft=256, verbose=False)(torch.zeros(2, 100, dtype=torch.int16)), "torch.int16"),
        (lambda: nf.STFT(n_fft=256, verbose=False)([0.0, 1.0]), "torch.Tensor"),
        (lambda: nf.STFT(n_fft=256, verbose=False)(X, output_format="mag"), "output_format='mag'"),
        (lambda: nf.STFT(n_fft=256, verbose=False).inverse(torch.randn(1, 129, 5, 2)), "iSTFT=True"),
        (lambda: nf.iSTFT(n_fft=256, verbose=False)(torch.randn(1, 129, 5)), r"\(1, 129, 5\)"),
        (lambda: nf.iSTFT(n_fft=256, verbose=False)(torch.randn(1, 100, 5, 2)), "100 frequency bins"),
        (lambda: AF.istft(torch.randn(1, 129, 5, 2), n_fft=256, length=0), "length=0"),
        (lambda: AF.stft(X, n_fft=256, backend="cuda"), "backend='cuda'"),
        (lambda: AF.mel_spectrogram(X, n_mels=0), "n_mels=0"),
        (lambda: AF.mfcc(X, n_mels=10, n_mfcc=11), "n_mfcc=11"),
    ],
)
def test_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_env_var_selects_backend(monkeypatch):
    monkeypatch.setenv(dispatch.ENV_VAR, "reference")
    assert dispatch.select("stft", "cpu") is dispatch.select("stft", "cpu", "reference")
    monkeypatch.setenv(dispatch.ENV_VAR, "bogus")
    with pytest.raises(ValueError, match="NNAUDIO_FAST_BACKEND='bogus'"):
        AF.stft(X, n_fft=256)


def test_explicit_backend_that_cannot_run_raises(monkeypatch):
    monkeypatch.delenv(dispatch.ENV_VAR, raising=False)
    status = nf.backends()
    assert status["reference"] == "available"
    for name in ("triton", "cpp"):
        choice, reason = dispatch._resolve(name, "istft", torch.device("cpu"))
        if choice is None:
            with pytest.raises(nf.BackendUnavailableError, match=f"backend '{name}'"):
                AF.istft(torch.randn(1, 129, 5, 2), n_fft=256, backend=name)
    # auto falls back quietly
    assert AF.stft(X, n_fft=256, backend="auto").shape[-1] == 2
