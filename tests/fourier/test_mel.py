"""Mel spectrogram, MFCC, gammatonegram and the filterbanks against librosa (float64) and nnAudio's gammatone."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.fft
import torch

import nnaudio_fast as nf
from nnaudio_fast import bases
from nnaudio_fast import functional as AF

from helpers import noise, rel_err


@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("norm,librosa_norm", [(None, None), (1, "slaney"), ("slaney", "slaney"), (2.0, 2.0),
                                               (np.inf, np.inf)])
def test_mel_filterbank_matches_librosa(htk, norm, librosa_norm):
    for sr, n_fft, n_mels, fmin, fmax in [(22050, 2048, 128, 0.0, None), (16000, 400, 80, 20.0, 7600.0),
                                          (44100, 1023, 40, 100.0, 11000.0)]:
        ours = bases.mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm)
        ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk,
                                  norm=librosa_norm, dtype=np.float64)
        assert rel_err(ours, ref) <= 1e-12


def test_mel_scale_conversions_match_librosa():
    f = np.array([0.0, 20.0, 440.0, 999.9, 1000.0, 1000.1, 8000.0, 22050.0])
    for htk in (False, True):
        assert np.allclose(bases.hz_to_mel(f, htk), librosa.hz_to_mel(f, htk=htk), rtol=1e-13, atol=1e-12)
        m = bases.hz_to_mel(f, htk)
        assert np.allclose(bases.mel_to_hz(m, htk), f, rtol=1e-12, atol=1e-9)


def test_dct_matches_scipy(rng):
    x = rng.standard_normal((7, 33))
    for norm in ("ortho", None):
        assert rel_err(x @ bases.dct_matrix(33, norm).T, scipy.fft.dct(x, type=2, norm=norm, axis=-1)) <= 1e-13


@pytest.mark.parametrize(
    "kw",
    [dict(sr=22050, n_fft=2048, hop_length=512, n_mels=128),
     dict(sr=16000, n_fft=400, hop_length=160, n_mels=80, fmin=20.0, fmax=7600.0, htk=True),
     dict(sr=44100, n_fft=1000, hop_length=333, n_mels=64, win_length=900, power=1.0)],
)
@pytest.mark.parametrize("backend", ["reference", "auto"])
def test_mel_spectrogram_matches_librosa(rng, kw, backend):
    x = noise(rng, 2, 20001)
    layer = nf.MelSpectrogram(norm="slaney", pad_mode="constant", verbose=False, backend=backend, **kw)
    ref = librosa.feature.melspectrogram(y=x.numpy(), norm="slaney", pad_mode="constant", center=True,
                                         window="hann", dtype=np.float64, **kw)
    assert rel_err(layer(x), ref) <= 1e-9
    assert rel_err(AF.mel_spectrogram(x, norm="slaney", pad_mode="constant", **kw), ref) <= 1e-9
    assert rel_err(layer(x.float()), ref) <= 1e-5


@pytest.mark.parametrize("n_mfcc,dct_norm", [(20, "ortho"), (13, None)])
def test_mfcc_matches_librosa(rng, n_mfcc, dct_norm):
    x = noise(rng, 1, 16000) * torch.linspace(0.01, 1.0, 16000, dtype=torch.float64)  # > 80 dB range: top_db acts
    kw = dict(sr=16000, n_fft=512, hop_length=128, n_mels=40)
    layer = nf.MFCC(n_mfcc=n_mfcc, norm=dct_norm, verbose=False, **kw)
    ref = librosa.feature.mfcc(y=x[0].numpy(), n_mfcc=n_mfcc, norm=dct_norm, pad_mode="reflect", htk=False,
                               dtype=np.float64, **kw)
    assert rel_err(layer(x)[0], ref) <= 1e-9
    assert rel_err(AF.mfcc(x, n_mfcc=n_mfcc, dct_norm=dct_norm, **kw)[0], ref) <= 1e-9
    assert rel_err(layer(x.float())[0], ref) <= 1e-5


def test_mfcc_top_db_is_per_example(rng):
    """A quiet example in a batch is clipped against its own peak, not the batch's (nnAudio's semantics)."""
    x = noise(rng, 2, 8000)
    x[1] *= 1e-4
    kw = dict(sr=16000, n_fft=512, hop_length=128, n_mels=40)
    out = nf.MFCC(n_mfcc=13, verbose=False, **kw)(x)
    for b in range(2):
        ref = librosa.feature.mfcc(y=x[b].numpy(), n_mfcc=13, pad_mode="reflect", dtype=np.float64, **kw)
        assert rel_err(out[b], ref) <= 1e-9


@pytest.mark.parametrize("dtype,bound", [(torch.float64, 1e-12), (torch.float32, 2e-6)])
def test_mfcc_without_gradients_equals_the_differentiable_path(rng, dtype, bound):
    """Without gradients MFCC folds the dB scale into the DCT and overwrites its own mel spectrogram; it equals the
    differentiable path (power_to_db, then the DCT) for every ref/top_db, and follows in-place edits of ``ref``."""
    x = (noise(rng, 2, 4000) * torch.linspace(0.001, 1.0, 4000, dtype=torch.float64)).to(dtype)
    for ref, top_db in [(1.0, None), (1.0, 80.0), (0.3, None), (2.0, 20.0)]:
        layer = nf.MFCC(sr=16000, n_mfcc=13, n_fft=400, hop_length=160, n_mels=40, ref=ref, top_db=top_db,
                        verbose=False)
        want = layer(x.clone().requires_grad_(True)).detach()
        with torch.no_grad():
            got = layer(x)
            again = layer(x)
        assert rel_err(got, want) <= bound and torch.equal(got, again)
        layer.ref.fill_(0.7)
        want = layer(x.clone().requires_grad_(True)).detach()
        with torch.no_grad():
            assert rel_err(layer(x), want) <= bound


def test_power_to_db_matches_librosa(rng):
    s = torch.from_numpy(rng.random((2, 30, 40)) ** 8)
    for ref, top_db in [(1.0, 80.0), (0.3, None), (2.0, 20.0)]:
        ours = AF.power_to_db(s, ref=ref, amin=1e-10, top_db=top_db)
        for b in range(2):
            want = librosa.power_to_db(s[b].numpy(), ref=ref, amin=1e-10, top_db=top_db)
            assert rel_err(ours[b], want) <= 1e-12


def test_gammatone_filterbank_unit_gain_and_nnaudio(rng):
    from nnAudio.librosa_functions import get_gammatone

    for sr, n_fft, n_bins, fmin in [(22050, 2048, 64, 0.0), (16000, 512, 32, 50.0)]:
        g = bases.gammatone_filterbank(sr, n_fft, n_bins, fmin)
        assert rel_err(g, get_gammatone(sr, n_fft, n_bins, fmin, None)) <= 1e-6
        fc = bases.gammatone_center_frequencies(n_bins, fmin, sr / 2)
        assert np.all(np.diff(fc) > 0) and fc[-1] < sr / 2
        # Away from Nyquist (where the mirrored pole skews the response) each filter peaks at its centre frequency.
        low = fc < 0.4 * sr
        peak_bin = np.argmax(g, axis=1)
        assert np.all(np.abs(peak_bin - fc * n_fft / sr)[low] <= 2.0)


def test_gammatonegram_is_filterbank_times_power_spectrum(rng):
    x = noise(rng, 2, 9000)
    layer = nf.Gammatonegram(sr=16000, n_fft=512, hop_length=128, n_bins=40, verbose=False)
    spec = np.abs(librosa.stft(x.numpy(), n_fft=512, hop_length=128, pad_mode="reflect")) ** 2
    ref = bases.gammatone_filterbank(16000, 512, 40) @ spec
    assert rel_err(layer(x), ref) <= 1e-9
    assert rel_err(AF.gammatonegram(x, sr=16000, n_fft=512, hop_length=128, n_bins=40), ref) <= 1e-9


@pytest.mark.parametrize("layer_kind", ["mel", "gammatone"])
def test_nonnegative_filterbank_keeps_log_features_finite_under_training(rng, layer_kind):
    """A loss that pushes the filterbank down: unconstrained, Adam drives weights negative and log(S + eps) turns
    NaN; with nonnegative=True the features stay finite. At construction both give the same output."""
    def make(nonnegative):
        torch.manual_seed(0)
        if layer_kind == "mel":
            return nf.MelSpectrogram(sr=16000, n_fft=256, hop_length=64, n_mels=20, trainable_mel=True,
                                     nonnegative=nonnegative, verbose=False)
        return nf.Gammatonegram(sr=16000, n_fft=256, hop_length=64, n_bins=20, trainable_bins=True,
                                nonnegative=nonnegative, verbose=False)

    x = noise(rng, 2, 4000, dtype=torch.float32)
    plain, guarded = make(False), make(True)
    assert torch.equal(plain(x), guarded(x))
    finite = {}
    for name, layer in (("plain", plain), ("guarded", guarded)):
        opt = torch.optim.Adam(layer.parameters(), lr=0.05)
        ok = True
        for _ in range(20):
            opt.zero_grad()
            feats = torch.log(layer(x) + 1e-6)
            feats.mean().backward()  # lowering the filterbank lowers the loss
            opt.step()
            ok = ok and bool(torch.isfinite(feats).all())
        finite[name] = ok and bool(torch.isfinite(torch.log(layer(x) + 1e-6)).all())
    assert finite == {"plain": False, "guarded": True}
