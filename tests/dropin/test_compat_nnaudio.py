"""Drop-in compatibility with nnAudio 0.3.4: same outputs (where nnAudio is right) and loadable state_dicts."""

from __future__ import annotations

import warnings

import pytest
import torch

import nnaudio_fast as nf

from helpers import noise, rel_err

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from nnAudio import features as nn_features


def _pair(name, **kw):
    ours = getattr(nf, name)(verbose=False, **kw)
    theirs = getattr(nn_features, name)(verbose=False, **kw)
    return ours, theirs




STFT_CASES = [
    dict(n_fft=512, hop_length=128),
    dict(n_fft=2048),
    dict(n_fft=1024, win_length=800, hop_length=256, window="hamming", pad_mode="constant"),
    dict(n_fft=512, hop_length=128, freq_bins=200, freq_scale="linear", fmin=100, fmax=5000, sr=16000),
    dict(n_fft=512, hop_length=128, freq_bins=120, freq_scale="log", fmin=60, fmax=6000, sr=16000),
    dict(n_fft=512, hop_length=128, freq_bins=120, freq_scale="log2", fmin=60, fmax=6000, sr=16000),
    dict(n_fft=256, hop_length=64, center=False),
    dict(n_fft=512, hop_length=128, trainable=True),
    dict(n_fft=512, hop_length=128, iSTFT=True),
]


@pytest.mark.parametrize("kw", STFT_CASES)
def test_stft_matches_nnaudio_and_loads_its_state(rng, kw):
    ours, theirs = _pair("STFT", **kw)
    x = noise(rng, 3, 7000, dtype=torch.float32)
    for fmt in ("Complex", "Magnitude"):
        assert rel_err(ours(x, output_format=fmt), theirs(x, output_format=fmt)) <= 1e-5
    ph, ph_ref = ours(x, output_format="Phase"), theirs(x, output_format="Phase")
    mag = theirs(x, output_format="Magnitude")
    strong = mag > 1e-3 * mag.max()  # float32 phase is only defined to ~eps·max/|X| elsewhere
    assert torch.angle(torch.polar(torch.ones_like(ph), ph - ph_ref))[strong].abs().max() <= 1e-3
    # A state_dict with deliberately altered values loads strictly and is used.
    sd = theirs.state_dict()
    sd["wcos"] = sd["wcos"] * 0.5
    theirs.load_state_dict(sd)
    ours.load_state_dict(sd, strict=True)
    assert rel_err(ours(x), theirs(x)) <= 1e-5


def test_stft_inverse_matches_nnaudio(rng):
    ours, theirs = _pair("STFT", n_fft=512, hop_length=128, iSTFT=True)
    x = noise(rng, 2, 6000, dtype=torch.float32)
    X = theirs(x)
    assert rel_err(ours.inverse(X, length=6000), theirs.inverse(X, onesided=True, length=6000)) <= 1e-5


@pytest.mark.parametrize("kw", [dict(n_fft=512, hop_length=128), dict(n_fft=1024, hop_length=256, window="hamming",
                                                                      trainable_kernels=True, trainable_window=True)])
def test_istft_matches_nnaudio_and_loads_its_state(rng, kw):
    ours, theirs = _pair("iSTFT", **kw)
    x = noise(rng, 2, 6000, dtype=torch.float32)
    X = nf.STFT(n_fft=kw["n_fft"], hop_length=kw["hop_length"], window=kw.get("window", "hann"), verbose=False)(x)
    ref = theirs(X, onesided=True, length=6000)
    assert rel_err(ours(X, onesided=True, length=6000), ref) <= 1e-5
    ours.load_state_dict(theirs.state_dict(), strict=True)
    assert rel_err(ours(X, length=6000), ref) <= 1e-5


MEL_CASES = [
    dict(),
    dict(sr=16000, n_fft=400, hop_length=160, n_mels=80, fmin=20.0, fmax=7600.0),
    dict(sr=44100, n_fft=1024, win_length=1000, hop_length=300, n_mels=64, htk=True, power=1.0),
    dict(sr=22050, n_fft=512, hop_length=128, n_mels=40, trainable_mel=True, trainable_STFT=True),
]


@pytest.mark.parametrize("kw", MEL_CASES)
def test_melspectrogram_matches_nnaudio_and_loads_its_state(rng, kw):
    ours, theirs = _pair("MelSpectrogram", **kw)
    x = noise(rng, 2, 9000, dtype=torch.float32)
    ref = theirs(x)
    assert rel_err(ours(x), ref) <= 1e-5
    sd = theirs.state_dict()
    sd["mel_basis"] = sd["mel_basis"] * torch.linspace(0.5, 1.5, sd["mel_basis"].shape[0])[:, None]
    theirs.load_state_dict(sd)
    ours.load_state_dict(sd, strict=True)
    assert rel_err(ours(x), theirs(x)) <= 1e-5


@pytest.mark.parametrize("name,kw", [
    ("MFCC", dict()), ("MFCC", dict(sr=16000, n_mfcc=13, n_fft=512, hop_length=128, n_mels=40)),
    ("Gammatonegram", dict()), ("Gammatonegram", dict(sr=16000, n_fft=512, hop_length=128, n_bins=40, fmin=50.0)),
])
def test_layer_matches_nnaudio_and_loads_its_state(rng, name, kw):
    ours, theirs = _pair(name, **kw)
    x = noise(rng, 2, 9000, dtype=torch.float32)
    ref = theirs(x)
    assert rel_err(ours(x), ref) <= 1e-5
    ours.load_state_dict(theirs.state_dict(), strict=True)
    assert rel_err(ours(x), ref) <= 1e-5


def test_old_import_paths():
    import nnaudio_fast.features
    from nnaudio_fast import Spectrogram

    assert Spectrogram.STFT is nf.STFT is nnaudio_fast.features.STFT
    assert Spectrogram.MelSpectrogram is nf.MelSpectrogram


def test_slaney_norm_works_where_nnaudio_raises(rng):
    """nnAudio 0.3.4 rejects norm='slaney' (librosa's spelling); here it is the same as norm=1."""
    a = nf.MelSpectrogram(norm="slaney", n_fft=512, verbose=False)
    b = nf.MelSpectrogram(norm=1, n_fft=512, verbose=False)
    x = noise(rng, 1, 4000, dtype=torch.float32)
    assert torch.equal(a(x), b(x))
