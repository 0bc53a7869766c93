"""nnaudio_fast.utils against nnAudio 0.3.4's helpers of the same names (same arguments, same results), and the
names ``from nnaudio_fast.features import *`` provides as ``from nnAudio.features import *`` does."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import nnaudio_fast.utils as U

from helpers import noise

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import nnAudio.features as nn_features
    from nnAudio import librosa_functions as NL
    from nnAudio import utils as NU


def _close(a, b, tol=1e-6):
    a, b = (x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x) for x in (a, b))
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    scale = max(np.abs(b).max(), 1e-30)
    assert np.abs(a - b).max() <= tol * scale


def test_star_import_gives_nnaudios_names():
    ours, theirs = {}, {}
    exec("from nnaudio_fast.features import *", ours)
    exec("from nnAudio.features import *", theirs)
    for name in ("np", "torch", "nn", "scipy", "signal", "math", "warnings", "conv1d", "fold", "get_window",
                 "create_fourier_kernels", "create_cqt_kernels", "get_mel", "STFT", "CQT2010v2", "STFTBase"):
        assert name in ours, name
        assert name in theirs, name  # the test's premise: nnAudio exports it
    helpers = [n for n in theirs if callable(theirs[n]) and getattr(theirs[n], "__module__", "").startswith(
        ("nnAudio.utils", "nnAudio.librosa_functions"))]
    missing = sorted(set(helpers) - set(ours) - {"chroma", "fft2gammatonemx", "normalize", "get_window_dispatch"}
                     - set(ours))
    assert not missing, missing


@pytest.mark.parametrize("kw", [dict(freq_scale="no"), dict(freq_scale="linear"), dict(freq_scale="log"),
                                dict(freq_scale="log2"), dict(freq_scale="no", win_length=300, window="hamming"),
                                dict(freq_scale="linear", freq_bins=100, fmin=30, fmax=7000, sr=16000)])
def test_create_fourier_kernels(kw):
    ours = U.create_fourier_kernels(512, verbose=False, **kw)
    theirs = NU.create_fourier_kernels(512, verbose=False, **kw)
    for a, b in zip(ours[:2], theirs[:2]):
        _close(a, b, 1e-6)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-12)
    _close(ours[4], np.asarray(theirs[4], dtype=np.float32))


@pytest.mark.parametrize("kw", [dict(), dict(norm=2, window="hamming"), dict(gamma=5.0), dict(norm=None),
                                dict(bins_per_octave=24, n_bins=60), dict(window=("gaussian", 40.0))])
def test_create_cqt_kernels(kw):
    q = 1.0 / (2 ** (1 / kw.get("bins_per_octave", 12)) - 1)
    kw = {"n_bins": 48, **kw}
    ours = U.create_cqt_kernels(q, 16000, 110.0, **kw)
    theirs = NU.create_cqt_kernels(q, 16000, 110.0, **kw)
    _close(ours[0], theirs[0], 1e-6)
    assert ours[1] == theirs[1]
    assert torch.equal(ours[2], theirs[2])
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-15)


def test_create_cqt_kernels_fmax_and_nyquist():
    with pytest.warns(SyntaxWarning):
        ours = U.create_cqt_kernels(16.8, 16000, 110.0, n_bins=10, fmax=3000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = NU.create_cqt_kernels(16.8, 16000, 110.0, n_bins=10, fmax=3000.0)
    _close(ours[0], theirs[0])
    with pytest.raises(ValueError, match="Nyquist"):
        U.create_cqt_kernels(16.8, 16000, 110.0, n_bins=120)


def test_filters_and_downsampling(rng):
    for kw in (dict(), dict(band_center=0.25, kernelLength=128, transitionBandwidth=0.05)):
        _close(U.create_lowpass_filter(**kw), NU.create_lowpass_filter(**kw), 1e-7)
    for args in ((8000, 2000, 512, 7), (22050, 900, 256, 4), (11025, 10000, 500, 3)):
        assert U.early_downsample_count(*args) == NU.early_downsample_count(*args)
    for args in ((44100, 512, 2000.0, 16.8, 7), (22050, 500, 11000.0, 16.8, 7), (16000, 1024, 800.0, 16.8, 5)):
        ours, theirs = U.get_early_downsample_params(*args, False), NU.get_early_downsample_params(*args, False)
        assert ours[:3] == theirs[:3] and ours[4] == theirs[4]
        assert (ours[3] is None) == (theirs[3] is None)
        if ours[3] is not None:
            _close(ours[3], theirs[3])
    x = noise(rng, 2, 1, 999, dtype=torch.float32)
    k = torch.tensor(NU.create_lowpass_filter())[None, None]
    _close(U.downsampling_by_2(x, k), NU.downsampling_by_2(x, k))
    _close(U.downsampling_by_n(x, k, 4), NU.downsampling_by_n(x, k, 4))
    for a in (6, 64, 100.5, 1):
        assert (U.nextpow2(a), U.prepow2(a)) == (NU.nextpow2(a), NU.prepow2(a))


def test_tensor_helpers(rng):
    x = noise(rng, 2, 1, 2000, dtype=torch.float32)
    kr, ki = noise(rng, 5, 1, 64, dtype=torch.float32), noise(rng, 5, 1, 64, dtype=torch.float32)
    pad = torch.nn.ReflectionPad1d(32)
    _close(U.get_cqt_complex(x, kr, ki, 100, pad), NU.get_cqt_complex(x, kr, ki, 100, pad))
    wc, ws = noise(rng, 33, 1, 64, dtype=torch.float32), noise(rng, 33, 1, 64, dtype=torch.float32)
    sr_, si_ = noise(rng, 5, 33, dtype=torch.float32), noise(rng, 5, 33, dtype=torch.float32)
    _close(U.get_cqt_complex2(x, sr_, si_, 100, pad, wc, ws), NU.get_cqt_complex2(x, sr_, si_, 100, pad, wc, ws), 1e-5)
    for shape in ((300,), (2, 300), (2, 1, 300)):
        t = noise(rng, *shape, dtype=torch.float32)
        assert U.broadcast_dim(t).shape == NU.broadcast_dim(t).shape
    with pytest.raises(ValueError, match="shape"):
        U.broadcast_dim(torch.ones(1, 1, 1, 3))
    t = noise(rng, 2, 4, 5, dtype=torch.float32)
    assert U.broadcast_dim_conv2d(t).shape == NU.broadcast_dim_conv2d(t).shape
    X = noise(rng, 2, 5, 7, 2, dtype=torch.float32)
    _close(U.extend_fbins(X), NU.extend_fbins(X.clone()))
    F_ = noise(rng, 2, 16, 9, dtype=torch.float32)
    _close(U.overlap_add(F_, 4), NU.overlap_add(F_, 4))
    w = torch.hann_window(16)
    _close(U.torch_window_sumsquare(w, 9, 4, 16), NU.torch_window_sumsquare(w, 9, 4, 16))
    s = noise(rng, 3, 16, dtype=torch.float32)
    _close(U.rfft_fn(s), NU.rfft_fn(s))
    a, b = (sr_, si_), (noise(rng, 33, 7, dtype=torch.float32), noise(rng, 33, 7, dtype=torch.float32))
    for o, t in zip(U.complex_mul(a, b), NU.complex_mul(a, b)):
        _close(o, t, 1e-6)
    u = U.uniform_distribution(2.0, -1.0, 3, 4, device="cpu")
    assert u.shape == (3, 4) and u.min() >= -1.0 and u.max() <= 2.0


def test_librosa_functions():
    # even n_fft: for odd n_fft nnAudio spreads the DFT bins to sr/2 (its bug; librosa and we place them at k·sr/N)
    for args in ((16000, 512, 40), (22050, 2048, 128, 30.0, 8000.0, True, None), (8000, 256, 20, 0.0, None, False, 1)):
        _close(U.get_mel(*args), NL.get_mel(*args), 1e-5)
    assert np.abs(U.fft_frequencies(8000, 255)[-1] - 127 * 8000 / 255) < 1e-9
    _close(U.get_gammatone(16000, 512, 20), NL.get_gammatone(16000, 512, 20), 1e-5)
    np.testing.assert_allclose(U.fft_frequencies(16000, 512), NL.fft_frequencies(16000, 512))
    for htk in (False, True):
        np.testing.assert_allclose(U.mel_frequencies(40, 20.0, 7000.0, htk), NL.mel_frequencies(40, 20.0, 7000.0, htk))
        f = np.array([0.0, 440.0, 5000.0])
        np.testing.assert_allclose(U.hz_to_mel(f, htk), NL.hz_to_mel(f, htk))
        np.testing.assert_allclose(U.mel_to_hz(np.array([1.0, 20.0, 40.0]), htk),
                                   NL.mel_to_hz(np.array([1.0, 20.0, 40.0]), htk))
    np.testing.assert_allclose(U.hz_to_octs(np.array([55.0, 440.0]), 0.3), NL.hz_to_octs(np.array([55.0, 440.0]), 0.3))
    np.testing.assert_array_equal(U.pad_center(np.arange(3.0), 8), NL.pad_center(np.arange(3.0), 8))
    assert U.tiny(np.ones(2, dtype=np.float32)) == NL.tiny(np.ones(2, dtype=np.float32))
    assert U.tiny(np.ones(2, dtype=np.int64)) == NL.tiny(np.ones(2, dtype=np.int64))


def test_window_dispatch_where_nnaudio_answers():
    for spec in ("hann", "hamming", ("gaussian", 30.0)):
        np.testing.assert_allclose(U.get_window_dispatch(spec, 33), NU.get_window_dispatch(spec, 33))
    assert U.get_window_dispatch(6.0, 16).shape == (16,)  # nnAudio returns None here
    with pytest.raises(ValueError, match="window"):
        U.get_window_dispatch([1, 2], 16)
