"""CFP: a float64 NumPy evaluation of Su & Yang's equations, nnAudio 0.3.4's layers, gradients, shapes, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.signal
import torch

import nnaudio_fast as nf
from nnaudio_fast import functional as AF

from helpers import rel_err

DEFAULT = dict(fr=2, fs=16000, hop_length=320, window_size=2049, fc=80, tc=1 / 1000, g=(0.24, 0.6, 1), NumPerOct=48)
SMALL = dict(fr=4, fs=8000, hop_length=160, window_size=1023, fc=60, tc=1 / 1500, g=(0.2, 0.6, 0.9, 0.4),
             NumPerOct=36)


def harmonic_mix(rng, n, fs, f0s):
    """One harmonic tone (12 partials, 1/h amplitudes) per row, plus a little white noise."""
    t = np.arange(n) / fs
    rows = []
    for f0 in f0s:
        tone = sum(np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 2 * np.pi)) / h for h in range(1, 13)
                   if h * f0 < fs / 2)
        rows.append(tone + 0.05 * rng.standard_normal(n))
    return np.stack(rows)


# ---------------------------------------------------------------------------------------------------------------
# The equations, evaluated directly in float64 NumPy (two-sided DFTs of explicitly padded frames; the filterbank
# built row by row from its definition)
# ---------------------------------------------------------------------------------------------------------------
def blackman_harris(m):
    n = np.arange(m)
    a = (0.35875, 0.48829, 0.14128, 0.01168)
    return sum((-1) ** i * a[i] * np.cos(2 * np.pi * i * n / (m - 1)) for i in range(4))


def paper_maps(fr, fs, fc, tc, NumPerOct, **_):
    """Triangles on the log-frequency grid, at the DFT bin frequencies k·fr and at 1/q_j = fs/j; rows no bin falls
    inside sample the centre frequency by linear interpolation."""
    n_freq, n_quef = int(round(1 / tc / fr)) + 1, int(round(fs / fc)) + 1
    centres = [fc * 2 ** (i / NumPerOct) for i in range(-1, 10 * NumPerOct) if fc * 2 ** (i / NumPerOct) < 1 / tc]
    rows = len(centres) - 2

    def bank(freqs, n_cols, position):
        out = np.zeros((rows, n_cols))
        for i in range(rows):
            lo, mid, hi = centres[i : i + 3]
            for col, f in freqs:
                if lo < f <= mid:
                    out[i, col] = (f - lo) / (mid - lo)
                elif mid < f < hi:
                    out[i, col] = (hi - f) / (hi - mid)
            if not out[i].any():
                p = position(mid)
                out[i, int(p)] += 1 - (p - int(p))
                if p > int(p):
                    out[i, int(p) + 1] += p - int(p)
        return out

    freq = bank([(k, k * fr) for k in range(n_freq)], n_freq, lambda c: c / fr)
    quef = bank([(j, fs / j) for j in range(1, n_quef)], n_quef, lambda c: fs / c)
    return freq, quef


def numpy_cfp(x, fr, fs, hop_length, window_size, fc, tc, g, NumPerOct, freq_map, quef_map, compat):
    N = int(fs / fr)
    w = np.zeros(N)
    lpad = (N - window_size) // 2
    w[lpad : lpad + window_size] = blackman_harris(window_size)
    xp = np.pad(x, [(0, 0), (N // 2, N // 2)])
    n_frames = 1 + (xp.shape[-1] - N) // hop_length
    frames = np.stack([xp[:, t * hop_length : t * hop_length + N] for t in range(n_frames)], 1)
    Z0 = np.abs(np.fft.fft(frames * w, axis=-1)) / np.linalg.norm(w)

    def sigma(v, gamma):
        v = np.maximum(v, 0)
        return np.log(v + 1e-8) if gamma == 0 else v**gamma

    def highpass(v, cutoff):
        v = v.copy()
        v[..., :cutoff] = 0
        v[..., N - cutoff if compat else N - cutoff + 1 :] = 0  # |k| < cutoff (compat: also k = N - cutoff)
        return v

    spec, ceps = sigma(Z0, g[0]), None
    for layer, gamma in enumerate(g[1:], start=1):
        if layer % 2:
            ceps = sigma(highpass(np.fft.fft(spec, axis=-1).real / np.sqrt(N), int(round(fs * tc))), gamma)
        else:
            spec = sigma(highpass(np.fft.fft(ceps, axis=-1).real / np.sqrt(N), int(round(fc / fr))), gamma)
    n_freq, n_quef = freq_map.shape[1], quef_map.shape[1]
    L0 = np.einsum("ik,btk->bit", freq_map, Z0[..., :n_freq])
    LF = np.einsum("ik,btk->bit", freq_map, spec[..., :n_freq])
    LQ = np.einsum("ij,btj->bit", quef_map, ceps[..., :n_quef])
    return LF * LQ, L0, LF, LQ


@pytest.mark.parametrize("params", [DEFAULT, SMALL], ids=["default", "small"])
def test_paper_equations_float64(rng, params):
    x = harmonic_mix(rng, 9001, params["fs"], [110.0, 196.0, 261.6])
    freq_map, quef_map = paper_maps(**params)
    ref = numpy_cfp(x, **params, freq_map=freq_map, quef_map=quef_map, compat=False)
    out = AF.cfp(torch.from_numpy(x), **params, nnaudio_compat=False)
    for o, r in zip(out, ref):
        assert o.dtype == torch.float64 and o.shape == r.shape
        assert rel_err(o, r) <= 1e-6


def _nnaudio(cls_name, params):
    scipy.signal.blackmanharris = scipy.signal.windows.blackmanharris  # revives nnAudio 0.3.4 on SciPy >= 1.13
    from nnAudio.features import cfp as nn_cfp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its divide-by-zero at quefrency 0
        return getattr(nn_cfp, cls_name)(**{**params, "g": list(params["g"])})


@pytest.mark.parametrize("params", [DEFAULT, SMALL], ids=["default", "small"])
def test_nnaudio_compat_mode_float64_equations(rng, params):
    """nnAudio's semantics (its float64 filterbanks, its high-pass) evaluated by the NumPy equations: 1e-6."""
    layer = _nnaudio("CFP", params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        freq_map, quef_map = layer.create_logfreq_matrix(layer.f, layer.q, params["fr"], params["fc"], params["tc"],
                                                         params["NumPerOct"], params["fs"])
    ours = nf.CFP(**params)
    assert np.array_equal(ours._exact["freq2logfreq_matrix"].numpy(), freq_map)
    assert np.array_equal(ours._exact["quef2logfreq_matrix"].numpy(), quef_map)
    x = harmonic_mix(rng, 7000, params["fs"], [123.0, 300.0])
    ref = numpy_cfp(x, **params, freq_map=freq_map, quef_map=quef_map, compat=True)
    out = AF.cfp(torch.from_numpy(x), **params)
    for o, r in zip(out, ref):
        assert rel_err(o, r) <= 1e-6


@pytest.mark.filterwarnings("ignore:stft with return_complex=False")
@pytest.mark.parametrize("params", [DEFAULT, SMALL], ids=["default", "small"])
def test_matches_nnaudio_layers(rng, params):
    x = torch.from_numpy(harmonic_mix(rng, 12000, params["fs"], [110.0, 220.5, 330.0]))
    theirs = _nnaudio("Combined_Frequency_Periodicity", params)
    ours = nf.Combined_Frequency_Periodicity(**params)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    ours.load_state_dict(theirs.state_dict())  # an nnAudio checkpoint loads
    ref = theirs(x.float())
    for out in (ours(x), ours(x.float())):
        assert len(out) == 4
        for o, r in zip(out, ref):
            assert o.shape == r.shape
            assert rel_err(o, r) <= 1e-4
    z = nf.CFP(**params)(x.float())
    z_ref = _nnaudio("CFP", params)(x.float())
    assert z.shape == z_ref.shape and z.dtype == torch.float32
    assert rel_err(z, z_ref) <= 1e-4


@pytest.mark.parametrize("compat", [True, False])
def test_peaks_at_the_fundamental(rng, compat):
    """The point of CFP: Z peaks on the log-frequency row of the fundamental, not on a harmonic or subharmonic."""
    f0s = [110.0, 150.0, 233.0]
    layer = nf.CFP(**DEFAULT, nnaudio_compat=compat)
    z = layer(torch.from_numpy(harmonic_mix(rng, 8000, 16000, f0s)))
    peak = layer.center_freqs[z[:, :, 2:-2].mean(-1).argmax(-1).numpy()]
    assert np.all(np.abs(np.log2(peak / np.array(f0s))) <= 1.5 / 48), peak


def test_paper_mode_filterbanks():
    freq_map, quef_map, centres = nf.bases.cfp_filterbanks(2, 16000, 80, 1 / 1000, 48, nnaudio_compat=False)
    assert freq_map.shape == (174, 501) and quef_map.shape == (174, 201) and len(centres) == 174
    assert np.all(freq_map.sum(1) > 0) and np.all(quef_map.sum(1) > 0)  # nnAudio's row 0 and some rows are empty
    assert freq_map[48, 80] == 1.0  # 160 Hz falls on bin 80 exactly: the triangle's peak
    ref_f, ref_q = paper_maps(**DEFAULT)
    assert np.allclose(freq_map, ref_f, rtol=0, atol=1e-12) and np.allclose(quef_map, ref_q, rtol=0, atol=1e-12)
    compat = nf.CFP(**DEFAULT)
    # nnAudio's row 0 is empty, and its grid puts bin 80 at 16000·80/7998 Hz, off the 160 Hz peak
    assert compat.freq2logfreq_matrix[0].abs().sum() == 0 and 0.9 < compat.freq2logfreq_matrix[48, 80] < 0.99


def test_gradients_float64_and_silence():
    params = dict(fr=4, fs=1000, hop_length=50, window_size=101, fc=20, tc=1 / 200, g=(0.5, 1.0, 1.0), NumPerOct=12)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 300, dtype=torch.float64, generator=gen, requires_grad=True)

    def f(v):
        z, l0, lf, lq = AF.cfp(v, **params)
        return z.sum() + l0.sum() + lf.sum() + lq.sum()

    assert torch.autograd.gradcheck(f, (x,), eps=1e-7, atol=1e-5, rtol=1e-4)
    silent = torch.zeros(2, 4000, requires_grad=True)
    with torch.no_grad():
        silent[1, 1000:2000] = torch.randn(1000, generator=gen)
    out = nf.Combined_Frequency_Periodicity(**DEFAULT)(silent)
    assert all(torch.isfinite(o).all() for o in out) and out[0][0].abs().max() == 0
    sum(o.sum() for o in out).backward()
    assert torch.isfinite(silent.grad).all() and silent.grad[1].abs().max() > 0


def test_shapes_batching_and_input_layouts(rng):
    x = torch.from_numpy(harmonic_mix(rng, 5000, 8000, [100.0, 200.0, 300.0, 400.0, 500.0, 600.0])).reshape(2, 3, -1)
    out = AF.cfp(x, **SMALL)
    n_bins = len(nf.CFP(**SMALL).center_freqs)
    assert out[0].shape == (2, 3, n_bins, 1 + 5000 // 160)
    single = AF.cfp(x[1, 2], **SMALL)
    assert all(rel_err(o[1, 2], s) <= 1e-12 for o, s in zip(out, single))
    layer = nf.CFP(**SMALL)
    z = layer(x[0, :1].unsqueeze(1))  # (batch, 1, time)
    assert z.shape == (1, n_bins, 1 + 5000 // 160) and rel_err(z[0], out[0][0, 0]) <= 1e-12
    assert rel_err(layer(x[0, 0]), out[0][0, 0][None]) <= 1e-12  # (time,)
    four = nf.Combined_Frequency_Periodicity(**SMALL)(x[0])
    assert all(rel_err(f, o[0][..., 1:-1]) <= 1e-12 for f, o in zip(four, out))


def test_bad_arguments():
    with pytest.raises(ValueError, match="g="):
        nf.CFP(g=[0.24])
    with pytest.raises(ValueError, match="g="):
        nf.CFP(g=[0.24, -1])
    with pytest.raises(ValueError, match="window_size=9000"):
        nf.CFP(window_size=9000)
    with pytest.raises(ValueError, match="Nyquist"):
        nf.CFP(tc=1 / 9000)
    with pytest.raises(ValueError, match="fc=3"):
        nf.CFP(fc=3)
    with pytest.raises(ValueError, match="fewer than 3"):
        nf.CFP(fc=990)
    with pytest.raises(ValueError, match="hop_length"):
        nf.CFP(hop_length=0)
