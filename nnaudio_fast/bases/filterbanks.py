"""Mel, gammatone and CFP filterbanks, and the DCT matrix."""

from __future__ import annotations

import functools
import math
import numbers
import warnings

import numpy as np
import scipy.signal

from .. import _checks
from .common import frozen


_SLANEY_F_SP = 200.0 / 3.0  # Hz per mel below the break
_SLANEY_BREAK_HZ = 1000.0
_SLANEY_BREAK_MEL = _SLANEY_BREAK_HZ / _SLANEY_F_SP  # = 15
_SLANEY_LOGSTEP = math.log(6.4) / 27.0  # mels above the break are log-spaced: 6.4x frequency per 27 mels


def hz_to_mel(f, htk: bool = False):
    """Frequency (Hz) to mel: HTK ``2595·log10(1 + f/700)`` or Slaney (linear below 1 kHz, logarithmic above)."""
    f = np.asarray(f, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    lin = f / _SLANEY_F_SP
    with np.errstate(divide="ignore"):
        log = _SLANEY_BREAK_MEL + np.log(np.maximum(f, 1e-300) / _SLANEY_BREAK_HZ) / _SLANEY_LOGSTEP
    return np.where(f >= _SLANEY_BREAK_HZ, log, lin)


def mel_to_hz(m, htk: bool = False):
    """Inverse of :func:`hz_to_mel`."""
    m = np.asarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    lin = m * _SLANEY_F_SP
    log = _SLANEY_BREAK_HZ * np.exp(_SLANEY_LOGSTEP * (m - _SLANEY_BREAK_MEL))
    return np.where(m >= _SLANEY_BREAK_MEL, log, lin)


def mel_frequencies(n_mels: int, fmin: float, fmax: float, htk: bool = False) -> np.ndarray:
    """``n_mels`` frequencies (Hz) equally spaced on the mel scale from ``fmin`` to ``fmax`` inclusive."""
    m = np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels)
    return mel_to_hz(m, htk)


def _norm_key(norm):
    if norm is None or isinstance(norm, str):
        return norm
    if isinstance(norm, (bool, np.bool_)) or not isinstance(norm, numbers.Real):
        raise _norm_error(norm)
    return float(norm)


def mel_filterbank(
    sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
    norm=1,
) -> np.ndarray:
    """Triangular mel filterbank of shape ``(n_mels, n_fft // 2 + 1)``, float64.

    Filter ``m`` rises linearly (in Hz) from ``f[m]`` to ``f[m+1]`` and falls to ``f[m+2]``, where ``f`` are
    ``n_mels + 2`` mel-spaced edges (:func:`mel_frequencies`), evaluated at the DFT bin centres ``k·sr/n_fft``.

    norm : None, 1, 'slaney', or a number p
        ``1`` or ``'slaney'``: Slaney's area normalisation, each filter times ``2 / (f[m+2] − f[m])`` (nnAudio's
        ``norm=1`` means this; note that librosa >= 0.8 reads ``norm=1`` as the L1 norm). ``None``: peak 1.
        Another number ``p`` (``np.inf`` included): each filter divided by its ``p``-norm, as librosa does.
    """
    sr, n_fft, n_filters, fmin, fmax = _filterbank_arguments(sr, n_fft, "n_mels", n_mels, fmin, fmax, "mel")
    return _mel_impl(sr, n_fft, n_filters, fmin, fmax, _checks.boolean("htk", htk), _norm_key(norm))


def torchaudio_mel_filterbank(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: float,
                              norm: str | None = None, mel_scale: str = "htk") -> np.ndarray:
    """torchaudio's mel filterbank (``torchaudio.functional.melscale_fbanks``), shape ``(n_freqs, n_mels)``, float64.

    The same triangles as :func:`mel_filterbank` (rising from edge ``f[m]`` to ``f[m+1]``, falling to ``f[m+2]``,
    ``n_mels + 2`` edges equally spaced in mel from ``f_min`` to ``f_max``), evaluated at ``n_freqs`` frequencies
    equally spaced from 0 to ``sample_rate // 2`` (torchaudio's grid: the floor of half the rate, which differs
    from the DFT bins ``k·sr / n_fft`` for odd rates); ``norm='slaney'`` scales filter ``m`` by
    ``2 / (f[m+2] − f[m])``.
    """
    n_freqs, n_mels, sample_rate, f_min, f_max = _torchaudio_arguments(n_freqs, "n_mels", n_mels, sample_rate, f_min,
                                                                       f_max)
    _checks.choice("mel_scale", mel_scale, ("htk", "slaney"))
    if norm is not None and norm != "slaney":
        raise ValueError(f"norm={norm!r} is not supported; use None or 'slaney'.")
    _checks.array_size((n_freqs, n_mels), "a mel filterbank", f"n_freqs={n_freqs}, n_mels={n_mels}", "use fewer bins")
    return _torchaudio_mel(n_freqs, f_min, f_max, n_mels, sample_rate, norm, mel_scale)


def _torchaudio_arguments(n_freqs, count_name: str, count, sample_rate, f_min, f_max):
    """Checked ``(n_freqs, count, sample_rate, f_min, f_max)`` of torchaudio's filterbank builders."""
    n_freqs = _checks.positive_int("n_freqs", n_freqs)
    count = _checks.positive_int(count_name, count)
    sample_rate = _checks.positive_float("sample_rate", sample_rate)
    f_min = _checks.non_negative_float("f_min", f_min)
    f_max = _checks.positive_float("f_max", f_max)
    if f_min >= f_max:
        raise ValueError(f"f_min={f_min} must be below f_max={f_max}.")
    return n_freqs, count, sample_rate, f_min, f_max


@functools.lru_cache(maxsize=64)
def _torchaudio_mel(n_freqs, f_min, f_max, n_mels, sample_rate, norm, mel_scale):
    htk = mel_scale == "htk"
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min, htk), hz_to_mel(f_max, htk), n_mels + 2), htk)
    fb = _triangles(np.linspace(0.0, sample_rate // 2, n_freqs), edges, False).T
    if norm == "slaney":
        fb *= 2.0 / (edges[2:] - edges[:-2])
    if np.any(fb.max(axis=0) == 0.0):
        warnings.warn(f"at least one mel filter is all zero: n_mels={n_mels} is too many for n_freqs={n_freqs}.",
                      stacklevel=3)
    return frozen(fb)


def torchaudio_linear_filterbank(n_freqs: int, f_min: float, f_max: float, n_filter: int,
                                 sample_rate: float) -> np.ndarray:
    """torchaudio's linear filterbank (``linear_fbanks``): :func:`torchaudio_mel_filterbank`'s triangles with
    ``n_filter + 2`` edges equally spaced in Hz, ``(n_freqs, n_filter)``, float64."""
    n_freqs, n_filter, sample_rate, f_min, f_max = _torchaudio_arguments(n_freqs, "n_filter", n_filter, sample_rate,
                                                                         f_min, f_max)
    freqs, edges = np.linspace(0.0, sample_rate // 2, n_freqs), np.linspace(f_min, f_max, n_filter + 2)
    return frozen(_triangles(freqs, edges, False).T)


def chroma_filterbank(sr: float, n_fft: int, tuning: float = 0.0, n_chroma: int = 12, ctroct: float = 5.0,
                      octwidth: float | None = 2.0, norm: float | None = 2, base_c: bool = True) -> np.ndarray:
    """Chroma filterbank ``(n_chroma, n_fft // 2 + 1)``, float64: librosa's (``librosa.filters.chroma``, after Ellis).

    Bin ``k > 0`` sits at ``q_k = n_chroma·log2(k·sr / n_fft / (27.5·2^(tuning / n_chroma)))`` chroma steps
    (27.5 Hz = A0); bin 0 at ``q_1 − 1.5·n_chroma``. Chroma ``c`` weighs bin ``k`` by a Gaussian bump
    ``exp(−½·(2·d / w_k)²)`` of the circular distance ``d`` from ``q_k`` to ``c`` (in ``(−n_chroma/2, n_chroma/2]``)
    over the bin's width ``w_k = max(q_{k+1} − q_k, 1)``; each bin's weights have unit ``norm`` (L2 by default), then
    are scaled by a Gaussian in octaves ``exp(−½·((q_k / n_chroma − ctroct) / octwidth)²)`` (none for ``octwidth``
    None); ``base_c`` starts the rows at C instead of A.
    """
    sr = _checks.positive_float("sr", sr)
    n_fft = _checks.positive_int("n_fft", n_fft, minimum=2)
    n_chroma = _checks.positive_int("n_chroma", n_chroma)
    tuning = _checks.finite_float("tuning", tuning, " (in fractions of a chroma bin; 0 for A440)")
    return _chroma_impl(sr, n_fft, tuning, n_chroma, float(ctroct), None if octwidth is None else float(octwidth),
                        norm, _checks.boolean("base_c", base_c))


@functools.lru_cache(maxsize=32)
def _chroma_impl(sr, n_fft, tuning, n_chroma, ctroct, octwidth, norm, base_c):
    freqs = np.arange(1, n_fft) * (sr / n_fft)
    a0 = 27.5 * 2.0 ** (tuning / n_chroma)
    q = n_chroma * np.log2(freqs / a0)
    q = np.concatenate(([q[0] - 1.5 * n_chroma], q))
    width = np.concatenate((np.maximum(np.diff(q), 1.0), [1.0]))
    half = np.round(n_chroma / 2.0)
    d = np.remainder(q[None, :] - np.arange(n_chroma)[:, None] + half + 10 * n_chroma, n_chroma) - half
    w = np.exp(-0.5 * (2.0 * d / width[None, :]) ** 2)
    if norm is not None:
        size = np.linalg.norm(w, ord=norm, axis=0, keepdims=True)
        w = w / np.where(size < np.finfo(np.float64).tiny, 1.0, size)
    if octwidth is not None:
        w = w * np.exp(-0.5 * ((q / n_chroma - ctroct) / octwidth) ** 2)[None, :]
    if base_c:
        w = np.roll(w, -3 * (n_chroma // 12), axis=0)
    return frozen(w[:, : n_fft // 2 + 1])


#: C1 (MIDI 24), librosa's default lowest frequency of a chroma CQT
C1_HZ = 440.0 * 2.0 ** ((24 - 69) / 12.0)


def cq_to_chroma(n_input: int, bins_per_octave: int = 12, n_chroma: int = 12, fmin: float | None = None,
                 window=None, base_c: bool = True) -> np.ndarray:
    """Constant-Q bins to chroma ``(n_chroma, n_input)``, float64: librosa's mapping
    (``librosa.filters.cq_to_chroma``).

    Each chroma gathers ``m = bins_per_octave / n_chroma`` adjacent bins (an integer), centred on it: input bin ``i``
    goes to chroma ``(⌊((i + ⌊m/2⌋) mod bins_per_octave) / m⌋ + s) mod n_chroma`` with weight 1, where the shift
    ``s = round(r · n_chroma / 12)`` places the first bin's pitch class ``r = (12·log2(fmin / 440) + 69) mod 12``
    (minus 9 with ``base_c=False``, rows from A). ``fmin=None`` is C1 (32.7032 Hz). ``window`` (optional) is
    convolved with each row along the bins (``scipy.signal.convolve``, ``mode='same'``: zeros beyond the ends).
    """
    n_input = _checks.positive_int("n_input", n_input)
    bins_per_octave = _checks.positive_int("bins_per_octave", bins_per_octave)
    n_chroma = _checks.positive_int("n_chroma", n_chroma)
    if bins_per_octave % n_chroma:
        raise ValueError(f"bins_per_octave={bins_per_octave} must be a multiple of n_chroma={n_chroma}; use for "
                         f"example bins_per_octave={3 * n_chroma}.")
    fmin = C1_HZ if fmin is None else _checks.positive_float("fmin", fmin)
    merge = bins_per_octave // n_chroma
    pitch = np.remainder(12.0 * np.log2(fmin / 440.0) + 69.0, 12.0) - (0.0 if _checks.boolean("base_c", base_c)
                                                                      else 9.0)
    shift = int(np.round(pitch * n_chroma / 12.0))
    i = np.arange(n_input)
    target = (np.remainder(i + merge // 2, bins_per_octave) // merge + shift) % n_chroma
    m = (np.arange(n_chroma)[:, None] == target[None, :]).astype(np.float64)
    if window is not None:
        w = np.asarray(window, dtype=np.float64)
        if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)):
            raise ValueError(f"window has shape {w.shape}; pass a finite 1-D array (or None).")
        m = scipy.signal.convolve(m, w[None, :], mode="same")
    return frozen(m)


def _filterbank_arguments(sr, n_fft, count_name, count, fmin, fmax, kind):
    """Checked ``(sr, n_fft, count, fmin, fmax)`` of a filterbank on the one-sided spectrum (``fmax=None`` is
    ``sr / 2``), its size estimated before anything is built."""
    sr = _checks.positive_float("sr", sr)
    n_fft = _checks.positive_int("n_fft", n_fft)
    count = _checks.positive_int(count_name, count)
    fmin = _checks.non_negative_float("fmin", fmin)
    fmax = sr / 2.0 if fmax is None else _checks.positive_float("fmax", fmax, " (or None for sr / 2)")
    if not fmin < fmax:
        raise ValueError(f"fmin={fmin:g} and fmax={fmax:g} must satisfy 0 <= fmin < fmax; lower fmin or raise fmax.")
    if fmax > sr / 2.0 * (1 + 1e-12):
        raise ValueError(
            f"fmax={fmax:g} is above the Nyquist frequency sr/2 = {sr / 2:g} Hz; lower fmax (None means sr / 2) or "
            "raise sr."
        )
    _checks.array_size((count, n_fft // 2 + 1), f"a {kind} filterbank", f"{count_name}={count} with n_fft={n_fft}",
                       f"use a smaller n_fft or fewer {count_name}")
    return sr, n_fft, count, fmin, fmax


def _norm_error(norm):
    return ValueError(f"norm={norm!r} is not supported; use None, 1 or 'slaney' (area), or a number p (p-norm).")


@functools.lru_cache(maxsize=64)
def _mel_impl(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    if not (norm is None or norm == "slaney" or isinstance(norm, float) and norm > 0):
        raise _norm_error(norm)
    edges = mel_frequencies(n_mels + 2, fmin, fmax, htk)
    bins = np.arange(n_fft // 2 + 1, dtype=np.float64) * (sr / n_fft)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise = (bins[None, :] - lo) / (mid - lo)
    fall = (hi - bins[None, :]) / (hi - mid)
    fb = np.maximum(0.0, np.minimum(rise, fall))
    if norm == "slaney" or norm == 1.0:
        fb *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    elif norm is not None:
        size = np.linalg.norm(fb, ord=norm, axis=1, keepdims=True)
        fb = fb / np.where(size > 0, size, 1.0)
    empty = np.flatnonzero(~(fb.max(axis=1) > 0))
    if empty.size:  # librosa and torchaudio warn (common settings, e.g. 128 mels at n_fft=400, have such rows)
        m = empty[0]
        warnings.warn(
            f"n_mels={n_mels} with n_fft={n_fft} ({n_fft // 2 + 1} frequency bins, {sr / n_fft:.4g} Hz apart at "
            f"sr={sr:g}), fmin={fmin:g} and fmax={fmax:g} leaves {empty.size} mel filter(s) empty: no FFT bin falls "
            f"inside them (the first, filter {m}, spans {edges[m]:.4g}-{edges[m + 2]:.4g} Hz), so they always "
            "output 0; use fewer n_mels, a larger n_fft, or a wider fmin..fmax.",
            UserWarning, stacklevel=2,
        )
    return frozen(fb)


# ----------------------------------------------------------------------------------------------------------------
# Gammatone (Slaney 1993, "An efficient implementation of the Patterson-Holdsworth auditory filter bank"; the FFT
# weighting of Ellis' fft2gammatonemx, which nnAudio's Gammatonegram uses)
# ----------------------------------------------------------------------------------------------------------------
_EAR_Q = 9.26449  # Glasberg & Moore ERB: ERB(f) = f / EAR_Q + MIN_BW
_MIN_BW = 24.7


def gammatone_center_frequencies(n_bins: int, fmin: float, fmax: float) -> np.ndarray:
    """``n_bins`` centre frequencies equally spaced on the ERB-rate scale, ascending, the top one below ``fmax``."""
    em = _EAR_Q * _MIN_BW
    n = np.arange(n_bins, 0, -1, dtype=np.float64)
    return (fmax + em) * np.exp(n * (np.log(fmin + em) - np.log(fmax + em)) / n_bins) - em


def gammatone_filterbank(sr: float, n_fft: int, n_bins: int = 64, fmin: float = 0.0, fmax: float | None = None):
    """Gammatone weights of shape ``(n_bins, n_fft // 2 + 1)``, float64.

    Slaney's fourth-order gammatone is a cascade of four biquads sharing the pole pair ``p, p̄`` with
    ``p = e^{−B T} e^{iθ}`` (``θ = 2π f_c T``, ``B = 1.019·2π·ERB(f_c)``, ``T = 1/sr``) and one real zero each,
    ``z_j = e^{−B T}(cos θ + s_j sin θ)`` for ``s_j = ±√(3 ± 2^{3/2})``. Its magnitude response
    ``H(ω) = Π_j |e^{iω} − z_j| / |(e^{iω} − p)(e^{iω} − p̄)|^4`` is sampled at the DFT bins ``ω_k = 2πk/n_fft``
    and normalised to 1 at the centre frequency; the whole matrix is then scaled by ``1/n_fft`` (nnAudio's scale).
    """
    return _gammatone_impl(*_filterbank_arguments(sr, n_fft, "n_bins", n_bins, fmin, fmax, "gammatone"))


@functools.lru_cache(maxsize=32)
def _gammatone_impl(sr, n_fft, n_bins, fmin, fmax):
    fc = gammatone_center_frequencies(n_bins, fmin, fmax)[:, None]
    T = 1.0 / sr
    bw = 1.019 * 2.0 * np.pi * (fc / _EAR_Q + _MIN_BW)
    r = np.exp(-bw * T)
    theta = 2.0 * np.pi * fc * T
    pole = r * np.exp(1j * theta)
    s = np.array([math.sqrt(3 + 2**1.5), -math.sqrt(3 + 2**1.5), math.sqrt(3 - 2**1.5), -math.sqrt(3 - 2**1.5)])

    def response(omega):
        u = np.exp(1j * omega)
        num = np.ones(np.broadcast_shapes(u.shape, fc.shape))
        for sj in s:
            num = num * np.abs(u - r * (np.cos(theta) + sj * np.sin(theta)))
        den = np.abs((u - pole) * (u - np.conj(pole))) ** 4
        return num / den

    omega = 2.0 * np.pi * np.arange(n_fft // 2 + 1, dtype=np.float64)[None, :] / n_fft
    w = response(omega) / response(theta)
    return frozen(w / n_fft)


@functools.lru_cache(maxsize=32)
def dct_matrix(n: int, norm: str | None = "ortho") -> np.ndarray:
    """DCT-II matrix ``D`` of shape ``(n, n)`` so that ``D @ x`` equals ``scipy.fft.dct(x, type=2, norm=norm)``.

    ``D[k, m] = 2 cos(π k (2m + 1) / (2n))``; with ``norm='ortho'`` row 0 is scaled by ``1/√(4n)`` and the others
    by ``1/√(2n)``, which makes ``D`` orthogonal.
    """
    if not (norm is None or isinstance(norm, str) and norm == "ortho"):
        raise ValueError(f"norm={norm!r} is not supported for the DCT; use 'ortho' or None.")
    n = _checks.positive_int("n", n)
    _checks.array_size((n, n), "a DCT matrix", f"n={n}", "use fewer mel bands (n_mels)")
    k = np.arange(n, dtype=np.float64)[:, None]
    m = np.arange(n, dtype=np.float64)[None, :]
    d = 2.0 * np.cos(np.pi * k * (2 * m + 1) / (2 * n))
    if norm == "ortho":
        d[0] /= math.sqrt(4 * n)
        d[1:] /= math.sqrt(2 * n)
    return frozen(d)


# ----------------------------------------------------------------------------------------------------------------
# Combined frequency and periodicity (CFP; Su & Yang 2015): the log-frequency maps of the spectrum and cepstrum
# ----------------------------------------------------------------------------------------------------------------


def cfp_center_frequencies(fc: float, stop: float, bins_per_octave: int) -> np.ndarray:
    """``c_i = fc · 2^{i / bins_per_octave}`` for every ``i >= 0`` with ``c_i < stop`` (Hz)."""
    out = []
    while True:
        c = fc * 2.0 ** (len(out) / bins_per_octave)
        if c >= stop:
            return np.asarray(out, dtype=np.float64)
        out.append(c)


@functools.lru_cache(maxsize=16)
def cfp_window(window_size: int) -> np.ndarray:
    """CFP's analysis window: the symmetric 4-term Blackman-Harris window of ``window_size`` samples."""
    return frozen(scipy.signal.windows.blackmanharris(int(window_size), sym=True))


def _triangles(x: np.ndarray, c: np.ndarray, strict_peak: bool) -> np.ndarray:
    """Weights ``(len(c) − 2, len(x))`` of triangles ``c[i−1] → c[i] → c[i+1]`` (rows ``i = 1 … len(c) − 2``)
    sampled at ``x``. ``strict_peak``: weight 0 where ``x == c[i]`` exactly (the reference code's strict tests)."""
    lo, mid, hi = c[:-2, None], c[1:-1, None], c[2:, None]
    with np.errstate(invalid="ignore"):
        rise = (x - lo) / (mid - lo)
        fall = (hi - x) / (hi - mid)
    if strict_peak:
        w = np.where((x > lo) & (x < mid), rise, 0.0) + np.where((x > mid) & (x < hi), fall, 0.0)
    else:
        w = np.maximum(0.0, np.minimum(rise, fall))
    return np.nan_to_num(w, nan=0.0, posinf=0.0, neginf=0.0)


def _interpolate_empty_rows(w: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Rows of ``w`` with no weight sample linearly at ``positions`` (fractional column indices) instead."""
    for i in np.flatnonzero(w.sum(1) == 0):
        j = int(np.floor(positions[i]))
        frac = positions[i] - j
        w[i, j] = 1.0 - frac
        if frac > 0:
            w[i, j + 1] = frac
    return w


def cfp_filterbanks(fr: float, fs: float, fc: float, tc: float, bins_per_octave: int, nnaudio_compat: bool = True):
    """Log-frequency maps of CFP: ``(freq_map, quef_map, center_freqs)``, float64.

    Output row ``i`` is centred on ``c_i`` (:func:`cfp_center_frequencies` from ``fc`` up to ``1/tc``); there are
    ``len(c) − 1`` rows. ``freq_map`` ``(rows, round(1/(tc·fr)) + 1)`` weighs the linear-frequency bins ``k``
    (at ``f_k``) with the triangle ``c_{i−1} → c_i → c_{i+1}``; ``quef_map`` ``(rows, round(fs/fc) + 1)`` weighs
    quefrency bins ``q_j = j / fs`` by the same triangle at the frequency ``1 / q_j`` (Su & Yang 2015).

    ``nnaudio_compat=True`` reproduces nnAudio 0.3.4 (the reference MelodyExt code): bin frequencies
    ``f_k = fs · k / (2(N//2 − 1))`` (``fs · linspace(0, ½, N//2)``, ``N = int(fs / fr)``: stretched by
    ``N/(N−2)`` against the DFT's ``k · fs / N``), triangles with strict inequalities (weight 0 *at* their peak,
    which that grid seldom hits exactly), row 0 left empty, bands narrower than a bin given weight 1 at bin
    ``round(c_{i−1}/fr)``, and rows that no quefrency bin falls inside left empty. ``False``: the DFT's bin
    frequencies ``k · fr``, triangles that include their peak, row 0 filled (its lower neighbour is
    ``fc · 2^{−1/bins_per_octave}``), and rows that no bin falls inside sample ``c_i`` by linear interpolation.
    """
    return _cfp_filterbanks(float(fr), float(fs), float(fc), float(tc), int(bins_per_octave), bool(nnaudio_compat))


@functools.lru_cache(maxsize=16)
def _cfp_filterbanks(fr, fs, fc, tc, bins_per_octave, compat):
    n_fft = int(fs / fr)
    n_freq = int(round((1.0 / tc) / fr) + 1)
    n_quef = int(round(fs / fc) + 1)
    c = cfp_center_frequencies(fc, 1.0 / tc, bins_per_octave)
    rows = len(c) - 1
    k = np.arange(n_freq)
    j = np.arange(n_quef)
    with np.errstate(divide="ignore"):
        quef_hz = 1.0 / (j / fs)  # frequency of quefrency bin j (inf at j = 0, which no triangle reaches)
    if compat:
        f = fs * np.linspace(0, 0.5, n_fft // 2, endpoint=True)[:n_freq]
        freq_map = np.zeros((rows, n_freq))
        freq_map[1:] = _triangles(f, c, strict_peak=True)
        lo = np.rint(c[:-2] / fr).astype(int)
        hi = np.rint(c[2:] / fr).astype(int)
        freq_map[1:] *= (k >= lo[:, None]) & (k <= hi[:, None])
        narrow = np.flatnonzero(lo >= hi) + 1
        freq_map[narrow] = 0.0
        freq_map[narrow, lo[narrow - 1]] = 1.0
        quef_map = np.zeros((rows, n_quef))
        quef_map[1:] = _triangles(quef_hz, c, strict_peak=True)
    else:
        below = fc * 2.0 ** (-1.0 / bins_per_octave)
        ce = np.concatenate(([below], c))  # row i is centred on ce[i + 1] = c[i]
        freq_map = _interpolate_empty_rows(_triangles(k * fr, ce, strict_peak=False), c[:rows] / fr)
        quef_map = _interpolate_empty_rows(_triangles(quef_hz, ce, strict_peak=False), fs / c[:rows])
    return frozen(freq_map), frozen(quef_map), frozen(c[:rows])


# ----------------------------------------------------------------------------------------------------------------
# Constant-Q / variable-Q kernels (Brown 1991, "Calculation of a constant Q spectral transform"; the variable-Q
# bandwidth offset gamma of Schörkhuber, Klapuri, Holighaus & Dörfler 2014), sampled exactly as
# librosa.filters.wavelet (librosa 0.11) samples them, so the single-rate transform is librosa's "exact" CQT.
# ----------------------------------------------------------------------------------------------------------------
