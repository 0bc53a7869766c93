"""nnAudio 0.3.4's tensor *shapes* for the CQT family, so its checkpoints load with ``strict=True``.

Only shapes and which keys exist are reproduced here (nnAudio's kernel widths and its early-downsampling decision,
which adds an ``early_downsample_filter`` buffer); the values our layers store and compute with are our own.
nnAudio sizes its kernels with ``Q = filter_scale / (2^(1/b) − 1)``, integer lengths ``ceil(Q·sr/f)`` and a
power-of-two width; for the multirate layers it uses its early-downsampled rate (CQT2010/CQT2010v2) or the
original rate halved per octave (VQT).
"""

from __future__ import annotations

import math

import numpy as np

NNAUDIO_FILTER_TAPS = 256  # lowpass_filter / early_downsample_filter are (1, 1, 256)


def _q(filter_scale, bins_per_octave):
    return float(filter_scale) / (2.0 ** (1.0 / bins_per_octave) - 1.0)


def _pow2_width(lengths) -> int:
    return int(2 ** np.ceil(np.log2(np.max(lengths))))


def single_rate_width(sr, fmin, n_bins, bins_per_octave, filter_scale) -> int:
    """``kernel_width`` of nnAudio's CQT1992 / CQT1992v2."""
    freqs = fmin * 2.0 ** (np.arange(n_bins) / bins_per_octave)
    return _pow2_width(np.ceil(_q(filter_scale, bins_per_octave) * sr / freqs))


def _top_octave(fmin, n_bins, bins_per_octave):
    n_octaves = int(math.ceil(n_bins / bins_per_octave))
    fmin_t = fmin * 2 ** (n_octaves - 1)
    rem = n_bins % bins_per_octave
    fmax_t = fmin_t * 2 ** (((bins_per_octave if rem == 0 else rem) - 1) / bins_per_octave)
    return n_octaves, fmax_t / 2 ** (1 - 1 / bins_per_octave), fmax_t


def early_downsample_factor(sr, hop_length, fmin, n_bins, bins_per_octave, filter_scale, earlydownsample) -> int:
    """nnAudio's early downsampling factor (1: none, and no ``early_downsample_filter`` buffer)."""
    if not earlydownsample:
        return 1
    n_octaves, _, fmax_t = _top_octave(fmin, n_bins, bins_per_octave)
    cutoff = fmax_t * (1 + 0.5 * 1.5 / _q(filter_scale, bins_per_octave))
    count1 = max(0, int(np.ceil(np.log2(0.85 * (sr // 2) / cutoff)) - 1) - 1)
    count2 = max(0, int(np.ceil(np.log2(hop_length))) - n_octaves + 1)
    return 2 ** min(count1, count2)


def multirate_widths(sr, hop_length, fmin, n_bins, bins_per_octave, filter_scale, earlydownsample, gamma=None):
    """Kernel widths: one (top octave, CQT2010/CQT2010v2) or one per octave (VQT, ``gamma`` given)."""
    n_octaves, fmin_t, _ = _top_octave(fmin, n_bins, bins_per_octave)
    n_filters = min(bins_per_octave, n_bins)
    q = _q(filter_scale, bins_per_octave)
    top = fmin_t * 2.0 ** (np.arange(n_filters) / bins_per_octave)
    if gamma is None:
        factor = early_downsample_factor(sr, hop_length, fmin, n_bins, bins_per_octave, filter_scale,
                                         earlydownsample)
        return [_pow2_width(np.ceil(q * (sr / factor) / top))]
    alpha = 2.0 ** (1.0 / bins_per_octave) - 1.0
    return [_pow2_width(np.ceil(q * (sr / 2**i) / (top / 2**i + gamma / alpha))) for i in range(n_octaves)]
