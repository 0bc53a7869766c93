"""Chroma from the power spectrogram (``librosa.feature.chroma_stft``): ``normalize(C @ |STFT(x)|², norm)`` along
the chroma axis, ``C`` the chroma filterbank (:func:`nnaudio_fast.bases.chroma_filterbank`); from a waveform the
product runs fused in one backend call, like the mel spectrogram.

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
from .fourier import _filterbank_spectrogram

__all__ = ["chroma_stft"]


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
    if norm is None:
        return raw
    size = raw.abs().amax(dim=-2, keepdim=True) if norm == math.inf else torch.linalg.vector_norm(
        raw, ord=float(norm), dim=-2, keepdim=True)
    return raw / torch.where(size < torch.finfo(raw.dtype).tiny, torch.ones_like(size), size)
