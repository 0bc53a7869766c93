"""Constant-Q and variable-Q filter designs and their single-rate kernels (librosa's wavelets)."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from .. import _checks
from .common import frozen, is_window_spec
from .fourier import named_window


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
    fmin, fmax = _checks.positive_float("fmin", fmin), _checks.positive_float("fmax", fmax)
    bins_per_octave = _checks.positive_int("bins_per_octave", bins_per_octave)
    if not fmin < fmax:
        raise ValueError(f"fmin={fmin:g} and fmax={fmax:g} must satisfy 0 < fmin < fmax; lower fmin or raise fmax.")
    return int(np.ceil(int(bins_per_octave) * np.log2(float(fmax) / float(fmin))))


@functools.lru_cache(maxsize=64)
def window_bandwidth(window) -> float:
    """Equivalent noise bandwidth of a window in DFT bins, ``n Σw² / (Σw)²`` for ``n = 1000`` samples
    (1.5 for Hann). Used, as librosa uses it, to find how far above its centre a CQT filter reaches."""
    w = named_window(window, 1000, 1000)
    return float(len(w) * np.sum(w**2) / np.sum(np.abs(w)) ** 2)


def _erb_gamma(alpha: float) -> float:
    # Glasberg & Moore's ERB(f) = 24.7 + 0.108 f, written as α·(f + γ/α): γ = 24.7 α / 0.108 (librosa's gamma=None).
    return 24.7 * alpha / 0.108


def check_window_spec(window) -> None:
    if not is_window_spec(window):
        raise ValueError(
            f"window={type(window).__name__} samples cannot be used for CQT kernels, whose length differs per bin; "
            "pass a window name such as 'hann', a tuple such as ('kaiser', 8.0), or a float (Kaiser beta)."
        )


#: Most CQT bins a design may have (the arrays of centre frequencies and lengths are allocated before the tap
#: count can be checked).
MAX_CQT_BINS = 2**20
#: Most taps all the full-rate wavelets of a design may hold together (``Σ_k max(λ_k, 1)``): 2**27 complex128
#: taps are 2 GiB. The default CQT (84 bins from 32.7 Hz at 22.05 kHz) has 2e5; ``fmin=0.01`` Hz has 7e8.
MAX_CQT_TAPS = 2**27


def _nyquist_bins(sr, fmin, bins_per_octave, q, gamma, window, n_bins) -> int:
    """How many of the bins ``fmin · 2^(k / bins_per_octave)``, ``k < n_bins``, have a passband (``f (1 +
    bandwidth / 2Q) + γ/2``) below ``sr / 2``, found without allocating the ``n_bins`` frequencies."""
    spread = 1.0 + 0.5 * window_bandwidth(window) / q

    def fits(k):
        return fmin * 2.0 ** (min(k / bins_per_octave, 1e4)) * spread + 0.5 * gamma <= sr / 2.0

    cap = (sr / 2.0 - 0.5 * gamma) / spread
    if cap < fmin:
        return 0
    count = min(n_bins, int(math.floor(bins_per_octave * math.log2(cap / fmin))) + 1)
    while count > 0 and not fits(count - 1):
        count -= 1
    while count < n_bins and fits(count):
        count += 1
    return count


@functools.lru_cache(maxsize=64)
def design_arrays(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window):
    """Validated ``(freqs, lengths, alpha, gamma)`` of a CQT/VQT filter bank (arguments as :func:`design_key`
    normalises them), its size bounded before any kernel is built (:data:`MAX_CQT_BINS`, :data:`MAX_CQT_TAPS`)."""
    check_window_spec(window)
    alpha = cqt_relative_bandwidth(bins_per_octave)
    if gamma is None:
        gamma = _erb_gamma(alpha)
    q = filter_scale / alpha
    limit = _nyquist_bins(sr, fmin, bins_per_octave, q, gamma, window, n_bins)
    if limit < n_bins:
        log_top = math.log2(fmin) + (n_bins - 1) / bins_per_octave
        top = 2.0**log_top if log_top < 1000 else math.inf
        cutoff = top * (1.0 + 0.5 * window_bandwidth(window) / q) + 0.5 * gamma
        raise ValueError(
            f"the top CQT bin fmin·2^((n_bins−1)/bins_per_octave) = {top:.1f} Hz (fmin={fmin:g}, n_bins={n_bins}, "
            f"bins_per_octave={bins_per_octave}) has a passband reaching {cutoff:.1f} Hz, above the Nyquist frequency "
            f"sr/2 = {sr / 2:g} Hz; use at most n_bins={limit} (or a lower fmin, or a higher sr)."
        )
    if n_bins > MAX_CQT_BINS:
        raise ValueError(
            f"n_bins={n_bins} (bins_per_octave={bins_per_octave}) is more than {MAX_CQT_BINS:,} CQT bins; use fewer "
            "n_bins or bins_per_octave."
        )
    freqs = cqt_frequencies(n_bins, fmin, bins_per_octave)
    lengths = q * sr / (freqs + gamma / alpha)
    taps = float(np.sum(np.maximum(lengths, 1.0)))
    if taps > MAX_CQT_TAPS:
        raise ValueError(
            f"{describe(sr, fmin, n_bins, bins_per_octave, filter_scale)} needs CQT filters up to "
            f"{lengths[0]:,.0f} samples long ({lengths[0] / sr:,.1f} s), {taps:,.0f} taps in all ({taps * 16 / 2**30:,.1f} GiB as complex128), above "
            "the limit of 2**27 taps; raise fmin (the longest filter is Q·sr/fmin samples, Q ≈ 1.44 · filter_scale · "
            "bins_per_octave), or lower filter_scale."
        )
    for a in (freqs, lengths):
        a.setflags(write=False)
    return freqs, lengths, alpha, float(gamma)


def design_key(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window) -> tuple:
    """The design's fields, checked by name and normalised (floats, ints; the window checked), as
    :class:`CQTDesign` and the caches key them."""
    check_window_spec(window)
    if gamma is not None:
        gamma = _checks.non_negative_float("gamma", gamma, " (0: constant-Q; None: librosa's ERB choice)")
    return (_checks.positive_float("sr", sr), _checks.positive_float("fmin", fmin),
            _checks.positive_int("n_bins", n_bins), _checks.positive_int("bins_per_octave", bins_per_octave),
            _checks.positive_float("filter_scale", filter_scale, " (1 is the constant-Q default)"), gamma, window)


def describe(sr, fmin, n_bins, bins_per_octave, filter_scale) -> str:
    return (f"fmin={fmin:g} Hz with sr={sr:g}, n_bins={n_bins}, bins_per_octave={bins_per_octave} and "
            f"filter_scale={filter_scale:g}")


def check_kernel_matrix(n_bins: int, width: int, design_args: str, fix: str = "raise fmin") -> None:
    """Raise before allocating single-rate kernels ``(n_bins, width)`` beyond
    :data:`nnaudio_fast._checks.MAX_ELEMENTS` (``design_args`` names the arguments that set the width)."""
    _checks.array_size((n_bins, width), "single-rate CQT kernels (each of real, imaginary)", design_args, fix)


@dataclasses.dataclass(frozen=True)
class CQTDesign:
    """The parameters of a CQT/VQT filter bank, validated and normalised when made; frozen and hashable (the
    builders' caches key on it). :meth:`from_args` takes librosa's / nnAudio's arguments, ``fmax`` included.

    ``gamma=0`` is the constant-Q transform, ``None`` librosa's ERB choice (see :func:`cqt_lengths`).
    """

    sr: float
    fmin: float
    n_bins: int
    bins_per_octave: int = 12
    filter_scale: float = 1.0
    gamma: float | None = 0.0
    window: object = "hann"

    def __post_init__(self):
        fields = design_key(*dataclasses.astuple(self))
        for name, value in zip(("sr", "fmin", "n_bins", "bins_per_octave", "filter_scale", "gamma", "window"), fields):
            object.__setattr__(self, name, value)
        design_arrays(*fields)  # validates: positive parameters, the top bin below Nyquist, bounded kernel sizes

    @classmethod
    def from_args(cls, sr, fmin, fmax, n_bins, bins_per_octave=12, filter_scale=1.0, gamma=0.0, window="hann"):
        """The design from the functional API's / layers' arguments: ``fmax`` (if not None) sets ``n_bins =
        ceil(bins_per_octave · log2(fmax / fmin))`` (nnAudio's rule); each argument is checked by name."""
        bins_per_octave = _checks.positive_int("bins_per_octave", bins_per_octave)
        fmin = _checks.positive_float("fmin", fmin)
        sr = _checks.positive_float("sr", sr)
        if fmax is not None:
            n_bins = cqt_n_bins(fmin, _checks.positive_float("fmax", fmax), bins_per_octave)
        else:
            n_bins = _checks.positive_int("n_bins", n_bins)
        filter_scale = _checks.positive_float("filter_scale", filter_scale)
        if gamma is not None:
            gamma = _checks.non_negative_float("gamma", gamma, " (0: constant-Q; None: librosa's ERB choice)")
        return cls(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window)

    def describe(self) -> str:
        """The arguments that size the kernels, for error messages."""
        return describe(self.sr, self.fmin, self.n_bins, self.bins_per_octave, self.filter_scale)

    def fields(self) -> tuple:
        """``(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window)``: the builders' leading arguments."""
        return dataclasses.astuple(self)

    def lengths(self) -> np.ndarray:
        """:func:`cqt_lengths` of this design."""
        return cqt_lengths(*self.fields())

    def kernels(self, norm=1, width=None):
        """:func:`cqt_kernels` of this design."""
        return cqt_kernels(*self.fields(), norm, width)


def cqt_lengths(sr, fmin, n_bins, bins_per_octave=12, filter_scale=1.0, gamma=0.0, window="hann") -> np.ndarray:
    """Fractional filter lengths ``λ_k = Q·sr / (f_k + γ/α)`` in samples (``Q = filter_scale / α``), float64.

    ``gamma=0`` is the constant-Q transform; ``gamma=None`` is librosa's ERB choice ``γ = 24.7 α / 0.108``.
    Raises ``ValueError`` for bad parameters, including a top bin whose passband crosses the Nyquist frequency.
    """
    return design_arrays(*design_key(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window))[1]


def norm_value(norm):
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
    w = named_window(window, len(n), len(n))
    psi = w * np.exp(2j * np.pi * (freq / sr) * n)
    if norm is not None:
        psi = psi / np.linalg.norm(psi, ord=norm)
    taps = psi[::-1].copy()
    taps.setflags(write=False)
    return int(-n[-1]), taps


def wavelet_bank(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm):
    freqs, lengths, _, _ = design_arrays(*design_key(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window))
    norm = norm_value(norm)
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
    width = None if width is None else _checks.positive_int("width", width)
    key = (*design_key(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window), norm_value(norm), width)
    return _cqt_kernels_impl(*key)


@functools.lru_cache(maxsize=32)
def _cqt_kernels_impl(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm, width):
    bank = wavelet_bank(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm)
    half = max(max(-lo, lo + len(k) - 1 + 1) for lo, k in bank)  # taps lie in [−W/2, W/2 − 1]
    w = max(2 * half, 0 if width is None else width)
    if w % 2:
        w += 1
    check_kernel_matrix(n_bins, w, describe(sr, fmin, n_bins, bins_per_octave, filter_scale))
    kr = np.zeros((n_bins, w))
    ki = np.zeros((n_bins, w))
    for b, (lo, k) in enumerate(bank):
        kr[b, w // 2 + lo : w // 2 + lo + len(k)] = k.real
        ki[b, w // 2 + lo : w // 2 + lo + len(k)] = -k.imag
    return frozen(kr), frozen(ki)
