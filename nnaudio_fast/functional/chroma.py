"""Chroma from the power spectrogram (``librosa.feature.chroma_stft``): ``normalize(C @ |STFT(x)|², norm)`` along
the chroma axis, ``C`` the chroma filterbank (:func:`nnaudio_fast.bases.chroma_filterbank`); from a waveform the
product runs fused in one backend call, like the mel spectrogram. From the constant-Q magnitude
(``librosa.feature.chroma_cqt``): ``normalize(threshold(M @ |CQT(x)|), norm)``, ``M`` the bin-to-chroma mapping
(:func:`nnaudio_fast.bases.cq_to_chroma`).

``norm``: ``inf`` (default: each frame divided by its largest value), another order ``p`` (its ``p``-norm) or None;
a frame whose norm is below the dtype's ``tiny`` is left as it is. ``tuning`` is a parameter here (default 0, A440):
librosa estimates it from the signal when given None, a data-dependent choice; pass ``tuning=0.0`` to librosa to
compare, or estimate it once and pass it to both. librosa builds its filterbank in float32 by default (``dtype``),
so its float64 chromagrams agree with these to about 1e-8; with ``dtype=np.float64`` to 1e-12.
"""

from __future__ import annotations

import math

import torch

from .. import _checks, bases
from .constant_q import cqt
from .fourier import _filterbank_spectrogram

__all__ = ["chroma_stft", "chroma_cqt", "chroma_from_cqt", "normalize_chroma"]

C1_HZ = bases.filterbanks.C1_HZ


def chroma_stft(waveform=None, sr: float = 22050, S=None, norm=math.inf, n_fft: int = 2048, hop_length: int = 512,
                win_length=None, window="hann", center: bool = True, pad_mode: str = "constant", tuning: float = 0.0,
                n_chroma: int = 12, ctroct: float = 5.0, octwidth: float | None = 2.0, base_c: bool = True,
                backend: str | None = None) -> torch.Tensor:
    """Chromagram ``(..., n_chroma, frames)`` of a waveform ``(..., time)`` or a power spectrogram ``S``
    ``(..., n_fft // 2 + 1, frames)``."""
    fb_args = (sr, n_fft, tuning, n_chroma, ctroct, octwidth, 2, base_c)
    if S is not None:
        if waveform is not None:
            raise ValueError("pass either waveform or S (a power spectrogram), not both.")
        dtype = _checks.compute_dtype(S, "S")
        n_fft = 2 * (S.shape[-2] - 1) if S.dim() >= 2 else n_fft
        fb = torch.tensor(bases.chroma_filterbank(sr, n_fft, *fb_args[2:]), dtype=dtype, device=S.device)
        raw = torch.matmul(fb, S.to(dtype))
    elif waveform is None:
        raise ValueError("pass a waveform (..., time) or a power spectrogram S (..., freq, time).")
    else:
        raw = _filterbank_spectrogram(waveform, bases.chroma_filterbank, fb_args, n_fft, hop_length, win_length,
                                      window, center, pad_mode, 2.0, backend, None)
    return normalize_chroma(raw, norm)


def normalize_chroma(raw: torch.Tensor, norm=math.inf) -> torch.Tensor:
    """``raw`` ``(..., n_chroma, frames)`` with each frame divided by its ``norm`` along the chroma axis (see the
    module docstring); ``norm=None`` returns it as it is."""
    if chroma_norm(norm) is None:
        return raw
    size = raw.abs().amax(dim=-2, keepdim=True) if norm == math.inf else torch.linalg.vector_norm(
        raw, ord=float(norm), dim=-2, keepdim=True)
    return raw / torch.where(size < torch.finfo(raw.dtype).tiny, torch.ones_like(size), size)


def chroma_norm(norm):
    """``norm`` if :func:`normalize_chroma` takes it (``math.inf``, a positive order, or None)."""
    if norm is not None and norm != math.inf and not (
            isinstance(norm, (int, float)) and not isinstance(norm, bool) and norm > 0):
        raise ValueError(f"norm={norm!r} is not supported; use math.inf (the largest value), a positive order p, or "
                         "None.")
    return norm


def cqt_chroma_settings(fmin, tuning, bins_per_octave, threshold):
    """Checked ``(fmin, the CQT's lowest frequency fmin·2^(tuning / bins_per_octave), bins_per_octave, threshold)``
    of a constant-Q chromagram (``fmin=None``: C1)."""
    bins_per_octave = _checks.positive_int("bins_per_octave", bins_per_octave)
    tuning = _checks.finite_float("tuning", tuning, " (in fractions of a bin; 0 for A440)")
    fmin = C1_HZ if fmin is None else _checks.positive_float("fmin", fmin, " (or None for C1)")
    threshold = None if threshold is None else _checks.finite_float("threshold", threshold, " (or None)")
    return fmin, fmin * 2.0 ** (tuning / bins_per_octave), bins_per_octave, threshold


def chroma_cqt(waveform=None, sr: float = 22050, C=None, hop_length: int = 512, fmin: float | None = None,
               norm=math.inf, threshold: float | None = 0.0, tuning: float = 0.0, n_chroma: int = 12,
               n_octaves: int = 7, window=None, bins_per_octave: int = 36, pad_mode: str = "constant",
               multirate: bool = True, backend: str | None = None) -> torch.Tensor:
    """Constant-Q chromagram ``(..., n_chroma, frames)`` of a waveform ``(..., time)`` or of a CQT magnitude ``C``
    ``(..., n_bins, frames)`` (librosa's ``chroma_cqt``).

    From a waveform, ``C = |cqt(x)|`` with ``n_octaves · bins_per_octave`` bins from ``fmin · 2^(tuning /
    bins_per_octave)`` (``fmin=None``: C1), librosa's scale and ``pad_mode='constant'`` (librosa's), computed by
    :func:`nnaudio_fast.functional.cqt` (``multirate``, ``backend``): the exact constant-Q transform, about 1e-2
    from ``librosa.cqt``'s resampled approximation, so chromagrams from a waveform agree with librosa's to about
    that; from the same ``C`` they agree to rounding. Then ``chroma = M @ C`` (``M`` =
    :func:`nnaudio_fast.bases.cq_to_chroma` with ``window``), values below ``threshold`` set to 0 (None: none), and
    :func:`normalize_chroma` with ``norm``. ``tuning`` is a parameter (default 0, A440), where librosa estimates
    one from the signal when given None.
    """
    fmin, cqt_fmin, bins_per_octave, threshold = cqt_chroma_settings(fmin, tuning, bins_per_octave, threshold)
    if C is not None:
        if waveform is not None:
            raise ValueError("pass either waveform or C (a CQT magnitude), not both.")
        dtype = _checks.compute_dtype(C, "C")
        if C.dim() < 2:
            raise ValueError(f"C has shape {tuple(C.shape)}; pass (..., n_bins, frames).")
        C = C.to(dtype)
    elif waveform is None:
        raise ValueError("pass a waveform (..., time) or a CQT magnitude C (..., n_bins, frames).")
    else:
        n_octaves = _checks.positive_int("n_octaves", n_octaves)
        C = cqt(waveform, sr, hop_length, cqt_fmin, None, n_octaves * bins_per_octave, bins_per_octave,
                pad_mode=pad_mode, multirate=multirate, backend=backend)
    mapping = torch.tensor(bases.cq_to_chroma(C.shape[-2], bins_per_octave, n_chroma, fmin, window), dtype=C.dtype,
                           device=C.device)
    return chroma_from_cqt(C, mapping, threshold, norm)


def chroma_from_cqt(C: torch.Tensor, mapping: torch.Tensor, threshold: float | None, norm) -> torch.Tensor:
    """``normalize_chroma(M @ C with values below threshold set to 0, norm)`` (no threshold for None):
    :func:`chroma_cqt` once ``C`` and the mapping ``M`` are known."""
    raw = torch.matmul(mapping, C)
    if threshold is not None:
        raw = torch.where(raw < threshold, torch.zeros_like(raw), raw)
    return normalize_chroma(raw, norm)
