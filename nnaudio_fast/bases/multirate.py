"""The multirate CQT's design: the half-band pyramid filter, the octave plan and the per-octave decimated kernels
(Schörkhuber & Klapuri 2010, "Constant-Q transform toolbox for music processing"), with kernels that are decimated
copies of the exact full-rate ones."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from .. import _checks
from .common import frozen
from .constant_q import design_arrays, design_key, norm_value, wavelet_bank


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
            return frozen(h)
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
    key = (*design_key(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window), norm_value(norm),
           _checks.positive_int("hop_length", hop_length), _checks.boolean("early_downsampling", early_downsampling))
    return _multirate_impl(*key)


@functools.lru_cache(maxsize=32)
def _multirate_impl(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm, hop, early):
    freqs, lengths, _, _ = design_arrays(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window)
    bank = wavelet_bank(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm)
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
        kernels.append(frozen(k))
    pad = multirate_padding(offsets, [k.shape[-1] for k in kernels], levels)
    plan = MultirateCQTPlan(hop, max(levels), pad, tuple(levels), tuple(bins), tuple(offsets), tuple(phases))
    return plan, tuple(kernels)


def multirate_reach(offsets, widths, levels) -> int:
    """How far (input samples, either side) a frame of a multirate CQT with these kernel offsets/widths reads
    from its centre, through the pyramid filters' reach: frame ``t`` depends on ``x[t·hop − r … t·hop + r]`` only."""
    half_h = (len(halfband_lowpass()) - 1) // 2
    reach = 0
    for first, width, level in zip(offsets, widths, levels):
        d = 2**level
        reach = max(reach, max(-first, first + width) * d + d + half_h * (d - 1))
    return reach


def multirate_padding(offsets, widths, levels) -> int:
    """Padding (each side, input samples, a multiple of ``2^max(levels)``) such that every frame of a multirate
    CQT with these kernel offsets/widths reads only padded signal, also through the pyramid filters' reach."""
    unit = 2 ** max(levels)
    return -(-multirate_reach(offsets, widths, levels) // unit) * unit
