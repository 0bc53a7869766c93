"""Basis builders: windows, Fourier kernels, mel / gammatone filterbanks, DCT.

Every builder computes in float64 NumPy and returns a read-only array; the results are cached, so modules and the
functional API share one copy per parameter set.  Callers cast (``torch.as_tensor(b, dtype=...)``).

Conventions (shared by every backend):

* A frame of length ``n_fft`` starting at sample ``t·hop`` is correlated with ``wcos[k] = w[n]·cos(2π f_k n / n_fft)``
  and ``wsin[k] = w[n]·sin(2π f_k n / n_fft)``; the STFT is ``X_k = Σ_n x[n] wcos[k, n] − i Σ_n x[n] wsin[k, n]``,
  i.e. ``Σ_n w[n] x[n] e^{−2πi f_k n / n_fft}`` as in librosa / ``torch.stft`` when ``f_k = k``.
* Windows are periodic ("fftbins=True") and, when ``win_length < n_fft``, zero-padded on both sides to ``n_fft``
  (left pad ``(n_fft − win_length) // 2``), as librosa does.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numpy as np
import scipy.signal

__all__ = [
    "get_window",
    "fourier_kernels",
    "fourier_bin_frequencies",
    "mel_filterbank",
    "mel_frequencies",
    "hz_to_mel",
    "mel_to_hz",
    "gammatone_filterbank",
    "dct_matrix",
    "FREQ_SCALES",
    "cqt_frequencies",
    "cqt_relative_bandwidth",
    "cqt_lengths",
    "cqt_n_bins",
    "window_bandwidth",
    "cqt_kernels",
    "halfband_lowpass",
    "halfband_response",
    "MultirateCQTPlan",
    "cqt_multirate_plan",
    "cqt_multirate_kernels",
    "multirate_padding",
]

FREQ_SCALES = ("no", "linear", "log", "log2")


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _is_spec(win) -> bool:
    """True for window specifications scipy understands (hashable, so results can be cached)."""
    return isinstance(win, (str, tuple, float))


def get_window(window, win_length: int, n_fft: int | None = None) -> np.ndarray:
    """Periodic analysis window of ``win_length`` samples, centre-padded with zeros to ``n_fft``.

    Parameters
    ----------
    window : str, tuple, float or array_like
        Anything :func:`scipy.signal.get_window` accepts (``'hann'``, ``('kaiser', 8.0)``, ...), or the window
        samples themselves (length ``win_length``).
    win_length : int
        Number of non-zero window samples.
    n_fft : int, optional
        Total length; defaults to ``win_length``.

    Returns
    -------
    np.ndarray, shape ``(n_fft,)``, float64, read-only.
    """
    win_length = int(win_length)
    n_fft = win_length if n_fft is None else int(n_fft)
    if _is_spec(window):
        return _named_window(window, win_length, n_fft)
    w = np.asarray(window.detach().cpu() if hasattr(window, "detach") else window, dtype=np.float64).reshape(-1)
    if w.shape[0] != win_length:
        raise ValueError(
            f"window has {w.shape[0]} samples but win_length={win_length}; pass a window of win_length samples."
        )
    return _center_pad(w, win_length, n_fft)


@functools.lru_cache(maxsize=256)
def _named_window(window, win_length: int, n_fft: int) -> np.ndarray:
    _check_lengths(win_length, n_fft)
    try:
        w = scipy.signal.get_window(window, win_length, fftbins=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"window={window!r} is not a window scipy.signal.get_window knows ({exc}); "
            "use a name such as 'hann', 'hamming', 'blackman', a tuple such as ('kaiser', 8.0), "
            "or pass the window samples as an array."
        ) from None
    return _center_pad(np.asarray(w, dtype=np.float64), win_length, n_fft)


def _check_lengths(win_length: int, n_fft: int) -> None:
    if win_length < 1:
        raise ValueError(f"win_length={win_length} must be a positive integer.")
    if win_length > n_fft:
        raise ValueError(f"win_length={win_length} must not exceed n_fft={n_fft}; set win_length <= n_fft.")


def _center_pad(w: np.ndarray, win_length: int, n_fft: int) -> np.ndarray:
    _check_lengths(win_length, n_fft)
    out = np.zeros(n_fft, dtype=np.float64)
    lpad = (n_fft - win_length) // 2
    out[lpad : lpad + win_length] = w
    return _frozen(out)


def fourier_bin_frequencies(
    n_fft: int, freq_bins: int, freq_scale: str = "no", fmin: float = 50.0, fmax: float = 6000.0, sr: float = 22050
) -> np.ndarray:
    """Frequency of each analysis bin in units of ``sr / n_fft`` (so ``f_k = k`` for the plain DFT).

    ``'no'``: ``k``. ``'linear'``: ``fmin·n_fft/sr + k·(fmax − fmin)·n_fft/(sr·freq_bins)``.
    ``'log'`` / ``'log2'``: ``fmin·n_fft/sr · (fmax/fmin)^(k/freq_bins)`` (the two differ only in the base of the
    exponent they use, which cancels; both are kept for nnAudio's argument names).
    These are nnAudio's bin placements (bins start at ``fmin`` and stop one step short of ``fmax``).
    """
    if freq_scale not in FREQ_SCALES:
        raise ValueError(f"freq_scale={freq_scale!r} is not supported; use one of {FREQ_SCALES}.")
    k = np.arange(freq_bins, dtype=np.float64)
    if freq_scale == "no":
        return k
    if not (0 < fmin < fmax):
        raise ValueError(f"fmin={fmin} and fmax={fmax} must satisfy 0 < fmin < fmax for freq_scale={freq_scale!r}.")
    start = fmin * n_fft / sr
    if freq_scale == "linear":
        return start + k * (fmax - fmin) * (n_fft / sr) / freq_bins
    return start * np.exp(k * np.log(fmax / fmin) / freq_bins)


def _fourier_from_window(w, freq_bins, freq_scale, fmin, fmax, sr):
    n_fft = w.shape[0]
    n = np.arange(n_fft)
    if freq_scale == "no":
        # Integer bins: reduce k·n modulo n_fft before scaling so the angle is exact in float64.
        angle = (2.0 * np.pi / n_fft) * (np.outer(np.arange(freq_bins), n) % n_fft)
    else:
        f = fourier_bin_frequencies(n_fft, freq_bins, freq_scale, fmin, fmax, sr)
        angle = (2.0 * np.pi / n_fft) * np.outer(f, n)
    return _frozen(np.cos(angle) * w), _frozen(np.sin(angle) * w)


@functools.lru_cache(maxsize=64)
def _named_fourier(window, win_length, n_fft, freq_bins, freq_scale, fmin, fmax, sr):
    return _fourier_from_window(_named_window(window, win_length, n_fft), freq_bins, freq_scale, fmin, fmax, sr)


def fourier_kernels(
    n_fft: int,
    win_length: int | None = None,
    freq_bins: int | None = None,
    window="hann",
    freq_scale: str = "no",
    fmin: float = 50.0,
    fmax: float = 6000.0,
    sr: float = 22050,
):
    """Windowed Fourier kernels ``(wcos, wsin)``, each of shape ``(freq_bins, n_fft)``, float64.

    ``freq_bins`` defaults to ``n_fft // 2 + 1``. See the module docstring for the sign convention.
    """
    n_fft = int(n_fft)
    win_length = n_fft if win_length is None else int(win_length)
    freq_bins = n_fft // 2 + 1 if freq_bins is None else int(freq_bins)
    if freq_bins < 1:
        raise ValueError(f"freq_bins={freq_bins} must be a positive integer.")
    if freq_scale not in FREQ_SCALES:
        raise ValueError(f"freq_scale={freq_scale!r} is not supported; use one of {FREQ_SCALES}.")
    rest = (freq_bins, freq_scale, float(fmin), float(fmax), float(sr))
    if _is_spec(window):
        return _named_fourier(window, win_length, n_fft, *rest)
    return _fourier_from_window(get_window(window, win_length, n_fft), *rest)


# ----------------------------------------------------------------------------------------------------------------
# Mel scale (Slaney's Auditory Toolbox scale by default, HTK's 2595·log10(1 + f/700) on request)
# ----------------------------------------------------------------------------------------------------------------
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
    return _mel_impl(float(sr), int(n_fft), int(n_mels), float(fmin), None if fmax is None else float(fmax),
                     bool(htk), _norm_key(norm))


@functools.lru_cache(maxsize=64)
def _mel_impl(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    if fmax is None:
        fmax = sr / 2.0
    if n_mels < 1:
        raise ValueError(f"n_mels={n_mels} must be a positive integer.")
    if not (0.0 <= fmin < fmax):
        raise ValueError(f"fmin={fmin} and fmax={fmax} must satisfy 0 <= fmin < fmax.")
    if fmax > sr / 2.0 * (1 + 1e-12):
        raise ValueError(f"fmax={fmax} is above the Nyquist frequency sr/2={sr / 2}; lower fmax or raise sr.")
    if not (norm is None or norm == "slaney" or isinstance(norm, float)):
        raise ValueError(f"norm={norm!r} is not supported; use None, 1 or 'slaney' (area), or a number p (p-norm).")
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
    return _frozen(fb)


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
    return _gammatone_impl(float(sr), int(n_fft), int(n_bins), float(fmin), None if fmax is None else float(fmax))


@functools.lru_cache(maxsize=32)
def _gammatone_impl(sr, n_fft, n_bins, fmin, fmax):
    if fmax is None:
        fmax = sr / 2.0
    if n_bins < 1:
        raise ValueError(f"n_bins={n_bins} must be a positive integer.")
    if not (0.0 <= fmin < fmax):
        raise ValueError(f"fmin={fmin} and fmax={fmax} must satisfy 0 <= fmin < fmax.")
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
    return _frozen(w / n_fft)


@functools.lru_cache(maxsize=32)
def dct_matrix(n: int, norm: str | None = "ortho") -> np.ndarray:
    """DCT-II matrix ``D`` of shape ``(n, n)`` so that ``D @ x`` equals ``scipy.fft.dct(x, type=2, norm=norm)``.

    ``D[k, m] = 2 cos(π k (2m + 1) / (2n))``; with ``norm='ortho'`` row 0 is scaled by ``1/√(4n)`` and the others
    by ``1/√(2n)``, which makes ``D`` orthogonal.
    """
    if norm not in (None, "ortho"):
        raise ValueError(f"norm={norm!r} is not supported for the DCT; use 'ortho' or None.")
    k = np.arange(n, dtype=np.float64)[:, None]
    m = np.arange(n, dtype=np.float64)[None, :]
    d = 2.0 * np.cos(np.pi * k * (2 * m + 1) / (2 * n))
    if norm == "ortho":
        d[0] /= math.sqrt(4 * n)
        d[1:] /= math.sqrt(2 * n)
    return _frozen(d)


# ----------------------------------------------------------------------------------------------------------------
# Combined frequency and periodicity (CFP; Su & Yang 2015): the log-frequency maps of the spectrum and cepstrum
# ----------------------------------------------------------------------------------------------------------------
__all__ += ["cfp_center_frequencies", "cfp_filterbanks", "cfp_window"]


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
    return _frozen(scipy.signal.windows.blackmanharris(int(window_size), sym=True))


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
    return _frozen(freq_map), _frozen(quef_map), _frozen(c[:rows])


# ----------------------------------------------------------------------------------------------------------------
# Constant-Q / variable-Q kernels (Brown 1991, "Calculation of a constant Q spectral transform"; the variable-Q
# bandwidth offset gamma of Schörkhuber, Klapuri, Holighaus & Dörfler 2014), sampled exactly as
# librosa.filters.wavelet (librosa 0.11) samples them, so the single-rate transform is librosa's "exact" CQT.
# ----------------------------------------------------------------------------------------------------------------
def cqt_frequencies(n_bins: int, fmin: float, bins_per_octave: int = 12) -> np.ndarray:
    """Centre frequencies ``fmin · 2^(k / bins_per_octave)``, ``k = 0 … n_bins − 1`` (Hz), float64."""
    return float(fmin) * 2.0 ** (np.arange(int(n_bins), dtype=np.float64) / int(bins_per_octave))


def cqt_relative_bandwidth(bins_per_octave: int) -> float:
    """Relative bandwidth ``α`` of a bin of a geometric grid with ratio ``r = 2^(1/bins_per_octave)``.

    ``α = (f_{k+1} − f_{k−1}) / (f_{k+1} + f_{k−1}) = (r² − 1) / (r² + 1)``: the bin spans the interval between its
    neighbours. The quality factor is ``Q = filter_scale / α`` (librosa >= 0.10; nnAudio 0.3.4 and older librosa
    used ``1 / (r − 1)``, 3% smaller, which is one reason nnAudio's CQT is 2e-2 away from librosa's).
    """
    r2 = 2.0 ** (2.0 / int(bins_per_octave))
    return (r2 - 1.0) / (r2 + 1.0)


def cqt_n_bins(fmin: float, fmax: float, bins_per_octave: int = 12) -> int:
    """Number of bins when ``fmax`` is given instead of ``n_bins``: ``ceil(bins_per_octave · log2(fmax / fmin))``
    (nnAudio's rule, kept so layers built with ``fmax`` have nnAudio's shapes)."""
    if not (0 < fmin < fmax):
        raise ValueError(f"fmin={fmin} and fmax={fmax} must satisfy 0 < fmin < fmax; lower fmin or raise fmax.")
    return int(np.ceil(int(bins_per_octave) * np.log2(float(fmax) / float(fmin))))


@functools.lru_cache(maxsize=64)
def window_bandwidth(window) -> float:
    """Equivalent noise bandwidth of a window in DFT bins, ``n Σw² / (Σw)²`` for ``n = 1000`` samples
    (1.5 for Hann). Used, as librosa uses it, to find how far above its centre a CQT filter reaches."""
    w = _named_window(window, 1000, 1000)
    return float(len(w) * np.sum(w**2) / np.sum(np.abs(w)) ** 2)


def _erb_gamma(alpha: float) -> float:
    # Glasberg & Moore's ERB(f) = 24.7 + 0.108 f, written as α·(f + γ/α): γ = 24.7 α / 0.108 (librosa's gamma=None).
    return 24.7 * alpha / 0.108


def _check_window_spec(window) -> None:
    if not _is_spec(window):
        raise ValueError(
            f"window={type(window).__name__} samples cannot be used for CQT kernels, whose length differs per bin; "
            "pass a window name such as 'hann', a tuple such as ('kaiser', 8.0), or a float (Kaiser beta)."
        )


@functools.lru_cache(maxsize=64)
def _cqt_design(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window):
    """Validated ``(freqs, lengths, alpha)`` of a CQT/VQT filter bank."""
    if not sr > 0:
        raise ValueError(f"sr={sr} must be a positive sampling rate in Hz.")
    if not fmin > 0:
        raise ValueError(f"fmin={fmin} must be a positive frequency in Hz.")
    if n_bins < 1:
        raise ValueError(f"n_bins={n_bins} must be a positive integer.")
    if bins_per_octave < 1:
        raise ValueError(f"bins_per_octave={bins_per_octave} must be a positive integer.")
    if not filter_scale > 0:
        raise ValueError(f"filter_scale={filter_scale} must be positive (1 is the constant-Q default).")
    _check_window_spec(window)
    alpha = cqt_relative_bandwidth(bins_per_octave)
    if gamma is None:
        gamma = _erb_gamma(alpha)
    if not gamma >= 0:
        raise ValueError(f"gamma={gamma} must be non-negative (0 is the constant-Q transform; None means ERB).")
    freqs = cqt_frequencies(n_bins, fmin, bins_per_octave)
    q = filter_scale / alpha
    lengths = q * sr / (freqs + gamma / alpha)
    cutoff = freqs[-1] * (1.0 + 0.5 * window_bandwidth(window) / q) + 0.5 * gamma
    if cutoff > sr / 2.0:
        limit = n_bins - 1
        while limit > 0:
            f = freqs[limit - 1]
            if f * (1.0 + 0.5 * window_bandwidth(window) / q) + 0.5 * gamma <= sr / 2.0:
                break
            limit -= 1
        raise ValueError(
            f"the top CQT bin fmin·2^((n_bins−1)/bins_per_octave) = {freqs[-1]:.1f} Hz (fmin={fmin}, n_bins={n_bins}, "
            f"bins_per_octave={bins_per_octave}) has a passband reaching {cutoff:.1f} Hz, above the Nyquist frequency "
            f"sr/2 = {sr / 2:g} Hz; use at most n_bins={limit} (or a lower fmin, or a higher sr)."
        )
    for a in (freqs, lengths):
        a.setflags(write=False)
    return freqs, lengths, alpha, float(gamma)


def _cqt_key(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window):
    _check_window_spec(window)
    return (float(sr), float(fmin), int(n_bins), int(bins_per_octave), float(filter_scale),
            None if gamma is None else float(gamma), window)


def cqt_lengths(sr, fmin, n_bins, bins_per_octave=12, filter_scale=1.0, gamma=0.0, window="hann") -> np.ndarray:
    """Fractional filter lengths ``λ_k = Q·sr / (f_k + γ/α)`` in samples (``Q = filter_scale / α``), float64.

    ``gamma=0`` is the constant-Q transform; ``gamma=None`` is librosa's ERB choice ``γ = 24.7 α / 0.108``.
    Raises ``ValueError`` for bad parameters, including a top bin whose passband crosses the Nyquist frequency.
    """
    return _cqt_design(*_cqt_key(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window))[1]


def _norm_value(norm):
    if norm is None or norm is False or norm == 0:
        return None
    if norm is True:
        return 1.0
    if isinstance(norm, str) or not float(norm) > 0:
        raise ValueError(f"norm={norm!r} is not supported; use 1 (L1, librosa's), 2, np.inf, or None (unnormalised).")
    return float(norm)


@functools.lru_cache(maxsize=4096)
def _wavelet(freq, length, sr, window, norm):
    """Full-rate correlation taps of one bin: ``(m_lo, K)`` with ``C[t] = Σ_m x[t·hop + m] K[m − m_lo]``.

    librosa.filters.wavelet samples ``ψ[n] = w[n − n_0] e^{2πi f n / sr}`` on ``n = ⌊−λ/2⌋ … ⌈λ/2⌉ − 1`` (the
    periodic window ``w`` has as many samples as that grid) and normalises it (L1 by default). librosa.cqt's FFT
    product evaluates ``Σ_n x[t·hop − n] ψ[n]`` (verified numerically, 4e-5 against 2e-2 for ``Σ x[t·hop + n] ψ̄[n]``),
    so the correlation taps are ``K[m] = ψ[−m]``, ``m = 1 − ⌊λ/2⌋ … ⌈λ/2⌉``.
    """
    n = np.arange(np.floor(-length / 2.0), np.floor(length / 2.0))
    w = _named_window(window, len(n), len(n))
    psi = w * np.exp(2j * np.pi * (freq / sr) * n)
    if norm is not None:
        psi = psi / np.linalg.norm(psi, ord=norm)
    taps = psi[::-1].copy()
    taps.setflags(write=False)
    return int(-n[-1]), taps


def _bank(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm):
    freqs, lengths, _, _ = _cqt_design(*_cqt_key(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window))
    norm = _norm_value(norm)
    return [_wavelet(float(f), float(l), float(sr), window, norm) for f, l in zip(freqs, lengths)]


def cqt_kernels(sr, fmin, n_bins, bins_per_octave=12, filter_scale=1.0, gamma=0.0, window="hann", norm=1,
                width=None):
    """Single-rate CQT/VQT kernels ``(kr, ki)``, each ``(n_bins, W)`` float64, read-only.

    ``C[k, t] = Σ_j x_pad[t·hop + j] (kr[k, j] − i·ki[k, j])`` with ``x`` padded by ``W // 2`` (``center=True``):
    tap ``j`` multiplies the sample ``j − W//2`` after the frame centre, so this is the STFT convention of
    :func:`fourier_kernels` and ``kr − i·ki`` are the taps ``K`` of librosa's wavelets (see ``_wavelet``). Bins are
    L1-normalised (``norm=1``); multiply by ``sqrt(λ_k)`` (:func:`cqt_lengths`) for librosa's scale.
    ``W`` is the smallest even width holding every kernel, or ``width`` if that is larger.
    """
    key = (float(sr), float(fmin), int(n_bins), int(bins_per_octave), float(filter_scale),
           None if gamma is None else float(gamma), window, _norm_value(norm), None if width is None else int(width))
    return _cqt_kernels_impl(*key)


@functools.lru_cache(maxsize=32)
def _cqt_kernels_impl(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm, width):
    bank = _bank(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm)
    half = max(max(-lo, lo + len(k) - 1 + 1) for lo, k in bank)  # taps lie in [−W/2, W/2 − 1]
    w = max(2 * half, 0 if width is None else width)
    if w % 2:
        w += 1
    kr = np.zeros((n_bins, w))
    ki = np.zeros((n_bins, w))
    for b, (lo, k) in enumerate(bank):
        kr[b, w // 2 + lo : w // 2 + lo + len(k)] = k.real
        ki[b, w // 2 + lo : w // 2 + lo + len(k)] = -k.imag
    return _frozen(kr), _frozen(ki)


# ----------------------------------------------------------------------------------------------------------------
# Multirate CQT: half-band pyramid + per-octave kernels (Schörkhuber & Klapuri 2010, "Constant-Q transform toolbox
# for music processing"), with kernels that are decimated copies of the exact full-rate ones.
# ----------------------------------------------------------------------------------------------------------------
HALFBAND_TRANSITION = 0.1  # transition band width, in cycles per input sample: pass [0, 0.2], stop [0.3, 0.5]
HALFBAND_ATTENUATION_DB = 100.0  # required stopband attenuation (and so passband ripple, 1e-5)
PASSBAND = 0.5 - HALFBAND_TRANSITION  # usable band after decimation, in cycles per output sample (0.4)
SIDELOBE_MARGIN_BINS = 12.0  # a kernel must fit in PASSBAND up to this many of its bins above its centre


def halfband_response(h: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """Zero-phase frequency response ``H(ν) = Σ_j h_j cos(2π ν j)`` of a symmetric filter (``ν`` in cycles/sample)."""
    k = (len(h) - 1) // 2
    j = np.arange(-k, k + 1)
    return np.cos(2.0 * np.pi * np.outer(nu, j)) @ h


@functools.lru_cache(maxsize=8)
def halfband_lowpass(transition: float = HALFBAND_TRANSITION, attenuation_db: float = HALFBAND_ATTENUATION_DB):
    """Kaiser-windowed half-band lowpass ``h_j``, ``j = −K … K`` (float64, read-only), for decimation by 2.

    ``h_j = ½ sinc(j/2) · kaiser(j; β)``, ``β = 0.1102 (A − 8.7)`` (Kaiser 1974). Even taps other than the centre
    are zero, so ``H(ν) + H(½ − ν) = 1``: the passband ripple equals the stopband ripple, and only the odd taps cost
    anything. The odd taps are rescaled to sum to ½ (DC gain exactly 1). ``K`` is odd (the outermost taps are
    non-zero); it starts from Kaiser's length estimate ``(A − 7.95) / (14.36 Δ)`` and grows until the measured
    stopband ``|H(ν)|, ν ∈ [0.25 + Δ/2, 0.5]`` is below ``−A`` dB. With the defaults (``Δ = 0.1``, ``A = 100``)
    this gives 75 taps (38 non-zero odd taps): pass ``[0, 0.2]``, stop ``[0.3, 0.5]`` cycles/sample.
    """
    beta = 0.1102 * (attenuation_db - 8.7)
    k = int(np.ceil((attenuation_db - 7.95) / (14.36 * transition) / 2.0))
    k += 1 - k % 2
    stop = np.linspace(0.25 + transition / 2.0, 0.5, 2001)
    while True:
        j = np.arange(-k, k + 1)
        h = 0.5 * np.sinc(j / 2.0) * np.kaiser(2 * k + 1, beta)
        odd = j % 2 != 0
        h[odd] *= 0.5 / h[odd].sum()
        h[~odd] = 0.0
        h[k] = 0.5
        if np.max(np.abs(halfband_response(h, stop))) <= 10.0 ** (-attenuation_db / 20.0):
            return _frozen(h)
        k += 2


@dataclasses.dataclass(frozen=True)
class MultirateCQTPlan:
    """Where each octave of a multirate CQT is computed (hashable; one per parameter set and hop).

    ``levels[i]``: pyramid level (decimation ``D = 2^level``) of octave ``i`` (top octave first); ``bins[i]``:
    its ``(start, stop)`` bin range; ``offsets[i]``: level-sample offset of its first kernel tap from the frame
    position; ``n_phases[i]``: how many kernel phases it needs (``D / gcd(hop, D)``); ``pad``: samples of
    ``pad_mode`` padding on each side of the signal (a multiple of ``2^n_levels``).
    """

    hop_length: int
    n_levels: int
    pad: int
    levels: tuple
    bins: tuple
    offsets: tuple
    n_phases: tuple


def cqt_multirate_plan(sr, fmin, n_bins, bins_per_octave=12, filter_scale=1.0, gamma=0.0, window="hann", norm=1,
                       hop_length=512, early_downsampling=True) -> MultirateCQTPlan:
    """The octave schedule of :func:`cqt_multirate_kernels` (see there)."""
    return cqt_multirate_kernels(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm,
                                 hop_length, early_downsampling)[0]


def cqt_multirate_kernels(sr, fmin, n_bins, bins_per_octave=12, filter_scale=1.0, gamma=0.0, window="hann",
                          norm=1, hop_length=512, early_downsampling=True):
    """Plan and per-octave kernels of the multirate CQT/VQT.

    Returns ``(plan, kernels)``; ``kernels[i]`` is ``(n_phases[i], 2·n_i, W_i)`` float64 (rows: the ``n_i``
    real kernels, then the ``n_i`` imaginary ones, convention of :func:`cqt_kernels`).

    Design. Octaves are taken from the top (``bins_per_octave`` bins each; the lowest may be partial). Octave ``i``
    runs on pyramid level ``ℓ_i``, the signal lowpassed and decimated ``ℓ_i`` times by :func:`halfband_lowpass`,
    where it is exact up to ``PASSBAND = 0.4`` cycles per level sample. ``ℓ_i`` is the largest level where every
    kernel of the octave stays inside that band up to ``SIDELOBE_MARGIN_BINS = 12`` of its own bins (``sr/λ_k``
    Hz) above its centre (Hann sidelobes are below −75 dB beyond). This one rule gives librosa's early
    downsampling (the top octave starts at level 1 at 44.1 kHz with the defaults), keeps octaves near Nyquist at a
    rate that can hold them, and handles VQT bandwidths (``γ``). ``early_downsampling=False`` shifts the schedule
    so the top octave runs at the full rate.

    Kernels are the exact full-rate taps decimated, not kernels redesigned at the lower rate: level sample ``n``
    is the lowpassed signal at sample ``n·D`` (the pyramid is zero-phase), and for a band-limited product
    ``Σ_m x[t·hop + m] K[m] = D Σ_j x_ℓ[q + j] K[j·D − ρ]`` with ``t·hop = q·D + ρ``. So any hop works: frames
    whose ``t·hop`` is not a multiple of ``D`` use the kernel phase ``ρ = t·hop mod D``; with ``P = D / gcd(hop,
    D)`` phases, frame ``t`` uses phase ``t mod P``. The window, fractional lengths and centring of every bin are
    those of the single-rate transform, so multirate and single-rate agree to the filter's accuracy (about 1e-5).
    """
    key = (*_cqt_key(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window), _norm_value(norm),
           int(hop_length), bool(early_downsampling))
    if key[-2] < 1:
        raise ValueError(f"hop_length={hop_length} must be a positive integer.")
    return _multirate_impl(*key)


@functools.lru_cache(maxsize=32)
def _multirate_impl(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm, hop, early):
    freqs, lengths, _, _ = _cqt_design(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window)
    bank = _bank(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm)
    bins, levels = [], []
    stop = n_bins
    while stop > 0:
        start = max(0, stop - bins_per_octave)
        edge = np.max(freqs[start:stop] + SIDELOBE_MARGIN_BINS * sr / lengths[start:stop])
        level = max(0, int(np.floor(np.log2(PASSBAND * sr / edge))), levels[-1] if levels else 0)
        bins.append((start, stop))
        levels.append(level)
        stop = start
    if not early:
        levels = [lv - levels[0] for lv in levels]
    offsets, phases, kernels = [], [], []
    for (start, stop), level in zip(bins, levels):
        d = 2**level
        m_lo = min(bank[b][0] for b in range(start, stop))
        m_hi = max(bank[b][0] + len(bank[b][1]) - 1 for b in range(start, stop))
        j_lo = -((-m_lo) // d)  # ceil(m_lo / d)
        j_hi = (m_hi + d - 1) // d
        n_ph = d // math.gcd(hop, d)
        m = np.arange(j_lo, j_hi + 1) * d  # full-rate offset of each level tap (phase 0)
        k = np.zeros((n_ph, 2 * (stop - start), len(m)))
        for u in range(n_ph):
            rho = (u * hop) % d
            for r, b in enumerate(range(start, stop)):
                lo, taps = bank[b]
                inside = (m - rho >= lo) & (m - rho < lo + len(taps))
                vals = d * taps[m[inside] - rho - lo]
                k[u, r, inside] = vals.real
                k[u, stop - start + r, inside] = -vals.imag
        offsets.append(j_lo)
        phases.append(n_ph)
        kernels.append(_frozen(k))
    pad = multirate_padding(offsets, [k.shape[-1] for k in kernels], levels)
    plan = MultirateCQTPlan(hop, max(levels), pad, tuple(levels), tuple(bins), tuple(offsets), tuple(phases))
    return plan, tuple(kernels)


def multirate_padding(offsets, widths, levels) -> int:
    """Padding (each side, input samples, a multiple of ``2^max(levels)``) such that every frame of a multirate
    CQT with these kernel offsets/widths reads only padded signal, also through the pyramid filters' reach."""
    half_h = (len(halfband_lowpass()) - 1) // 2
    reach = 0
    for first, width, level in zip(offsets, widths, levels):
        d = 2**level
        reach = max(reach, max(-first, first + width) * d + d + half_h * (d - 1))
    unit = 2 ** max(levels)
    return -(-reach // unit) * unit
