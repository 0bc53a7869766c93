"""Spectral descriptors (nnaudio_fast.functional.spectral_*) against librosa 0.11 in float64 (1e-9) and float32
(1e-5), from a waveform and from a given magnitude spectrogram, with leading dimensions and silent frames."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from nnaudio_fast import functional as AF

from helpers import noise, rel_err

KW = dict(n_fft=512, hop_length=128)


def _signal(rng):
    x = noise(rng, 2, 3, 6000) * torch.linspace(0.0, 1.0, 6000, dtype=torch.float64)
    x[..., 2000:2600] = 0.0  # silent frames: columns whose sum is 0
    return x


@pytest.mark.parametrize("dtype,bound", [(torch.float64, 1e-9), (torch.float32, 1e-5)])
@pytest.mark.parametrize("name,extra", [("spectral_centroid", {}), ("spectral_bandwidth", {"p": 3.0}),
                                        ("spectral_bandwidth", {"norm": False}), ("spectral_rolloff", {}),
                                        ("spectral_rolloff", {"roll_percent": 0.5}), ("spectral_flatness", {}),
                                        ("spectral_flatness", {"power": 1.0})])
def test_descriptors_match_librosa(rng, name, extra, dtype, bound):
    x = _signal(rng)
    sr = {} if name == "spectral_flatness" else {"sr": 16000}
    want = getattr(librosa.feature, name)(y=x.numpy(), **sr, **KW, **extra)
    got = getattr(AF, name)(x.to(dtype), **sr, **KW, **extra)
    assert got.shape == want.shape and got.dtype == dtype
    assert rel_err(got, want) <= bound
    S = AF.stft(x, **KW, pad_mode="constant", output_format="Magnitude")  # from a magnitude spectrogram
    assert rel_err(getattr(AF, name)(S=S.to(dtype), **sr, **extra), getattr(librosa.feature, name)(
        S=S.numpy(), **sr, **extra)) <= bound


def test_descriptor_arguments():
    with pytest.raises(ValueError, match="roll_percent=1.5"):
        AF.spectral_rolloff(torch.randn(1000), roll_percent=1.5)
    with pytest.raises(ValueError, match="either waveform or S"):
        AF.spectral_centroid(torch.randn(1000), S=torch.rand(257, 4))
    with pytest.raises(ValueError, match="pass a waveform"):
        AF.spectral_flatness()


def test_rolloff_takes_the_first_bin_that_reaches_the_threshold():
    """Cumulative energy 1, 2, 4 with roll_percent 0.5 (threshold 2): bin 1 reaches it exactly, as librosa."""
    S = torch.tensor([[1.0], [1.0], [2.0]], dtype=torch.float64)
    got = AF.spectral_rolloff(S=S, sr=8, roll_percent=0.5)
    assert got.item() == 2.0 == librosa.feature.spectral_rolloff(S=S.numpy(), sr=8, roll_percent=0.5).item()


@pytest.mark.parametrize("dtype,bound", [(torch.float64, 1e-9), (torch.float32, 1e-5)])
@pytest.mark.parametrize("extra", [{}, {"n_chroma": 24, "tuning": 0.3}, {"norm": None}, {"norm": 2},
                                   {"octwidth": None, "base_c": False, "n_fft": 1024}])
def test_chroma_stft_matches_librosa(rng, extra, dtype, bound):
    """From a waveform (the fused filterbank path) and from a power spectrogram; librosa given the same explicit
    tuning (it estimates one from the signal when tuning=None) and a float64 filterbank (its default is float32)."""
    x = _signal(rng)
    kw = dict(sr=16000, n_fft=512, hop_length=128, tuning=0.0)
    kw.update(extra)
    want = librosa.feature.chroma_stft(y=x.numpy(), dtype=np.float64, **kw)
    got = AF.chroma_stft(x.to(dtype), **kw)
    assert got.shape == want.shape and got.dtype == dtype
    assert rel_err(got, want) <= bound
    S = AF.stft(x, n_fft=kw["n_fft"], hop_length=128, pad_mode="constant", output_format="Magnitude") ** 2
    kw.pop("n_fft")
    assert rel_err(AF.chroma_stft(S=S.to(dtype), **kw),
                   librosa.feature.chroma_stft(S=S.numpy(), dtype=np.float64, **kw)) <= bound
