"""Spectral descriptors with librosa's definitions (``librosa.feature.spectral_*``), on a magnitude spectrogram
``S`` ``(..., freq, time)`` or computed from a waveform (``|STFT|``, librosa's defaults: ``n_fft=2048``,
``hop_length=512``, Hann, centred, ``pad_mode='constant'``). Each returns ``(..., 1, time)``, as librosa.

With ``f_k = k·sr / n_fft`` (or the given ``freq``) and the column-normalised ``Ŝ_kt = S_kt / Σ_j S_jt`` (a column
whose sum is below the dtype's ``tiny`` is left as it is):

* centroid ``c_t = Σ_k f_k Ŝ_kt``;
* bandwidth ``(Σ_k Ŝ_kt |f_k − c_t|^p)^{1/p}`` (``norm=False``: ``S`` itself);
* rolloff: the lowest ``f_k`` with ``Σ_{j<=k} S_jt >= roll_percent · Σ_j S_jt``;
* flatness: the geometric over the arithmetic mean of ``max(amin, S^power)`` along frequency.

No value of ``S`` is inspected (librosa raises for negative values; these compute, so they trace and export):
pass non-negative spectra.
"""

from __future__ import annotations

import torch

from .. import _checks
from .fourier import stft

__all__ = ["spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "spectral_flatness"]


def _spectrum(waveform, S, n_fft, hop_length, win_length, window, center, pad_mode):
    """``(S, n_fft)``: the given magnitude spectrogram (``n_fft`` from its bins when not given), or ``|STFT|``."""
    if S is not None:
        if waveform is not None:
            raise ValueError("pass either waveform or S (a magnitude spectrogram), not both.")
        _checks.compute_dtype(S, "S")
        if S.dim() < 2:
            raise ValueError(f"S has shape {tuple(S.shape)}; pass (..., freq, time).")
        return S, 2 * (S.shape[-2] - 1) if n_fft is None else n_fft
    if waveform is None:
        raise ValueError("pass a waveform (..., time) or a magnitude spectrogram S (..., freq, time).")
    n_fft = 2048 if n_fft is None else n_fft
    return stft(waveform, n_fft, hop_length, win_length, window, center, pad_mode, "Magnitude"), n_fft


def _frequencies(S, sr, n_fft, freq):
    if freq is not None:
        freq = torch.as_tensor(freq, dtype=S.dtype, device=S.device)
        return freq[:, None] if freq.dim() == 1 else freq
    sr = _checks.positive_float("sr", sr)
    return torch.linspace(0.0, sr / 2.0, 1 + n_fft // 2, dtype=S.dtype, device=S.device)[:, None]


def _normalized(S):
    total = S.sum(dim=-2, keepdim=True)
    tiny = torch.finfo(S.dtype).tiny
    return S / torch.where(total < tiny, torch.ones_like(total), total)


def spectral_centroid(waveform=None, sr: float = 22050, S=None, n_fft: int | None = None, hop_length: int = 512,
                      win_length=None, window="hann", center: bool = True, pad_mode: str = "constant", freq=None):
    """The spectral centroid ``(..., 1, time)`` (see the module docstring)."""
    S, n_fft = _spectrum(waveform, S, n_fft, hop_length, win_length, window, center, pad_mode)
    return (_frequencies(S, sr, n_fft, freq) * _normalized(S)).sum(dim=-2, keepdim=True)


def spectral_bandwidth(waveform=None, sr: float = 22050, S=None, n_fft: int | None = None, hop_length: int = 512,
                       win_length=None, window="hann", center: bool = True, pad_mode: str = "constant", freq=None,
                       centroid=None, norm: bool = True, p: float = 2.0):
    """The ``p``-th order spectral bandwidth ``(..., 1, time)`` about ``centroid`` (computed when not given)."""
    S, n_fft = _spectrum(waveform, S, n_fft, hop_length, win_length, window, center, pad_mode)
    p = _checks.positive_float("p", p)
    f = _frequencies(S, sr, n_fft, freq)
    if centroid is None:
        centroid = (f * _normalized(S)).sum(dim=-2, keepdim=True)
    weights = _normalized(S) if _checks.boolean("norm", norm) else S
    return (weights * (f - centroid).abs() ** p).sum(dim=-2, keepdim=True) ** (1.0 / p)


def rolloff_fraction(roll_percent) -> float:
    """``roll_percent`` as a float if it lies in (0, 1)."""
    value = _checks.finite_float("roll_percent", roll_percent, " in (0, 1)")
    if not 0.0 < value < 1.0:
        raise ValueError(f"roll_percent={roll_percent!r} must lie in (0, 1).")
    return value


def spectral_rolloff(waveform=None, sr: float = 22050, S=None, n_fft: int | None = None, hop_length: int = 512,
                     win_length=None, window="hann", center: bool = True, pad_mode: str = "constant", freq=None,
                     roll_percent: float = 0.85):
    """The roll-off frequency ``(..., 1, time)``: the lowest bin holding ``roll_percent`` of the energy below it."""
    roll_percent = rolloff_fraction(roll_percent)
    S, n_fft = _spectrum(waveform, S, n_fft, hop_length, win_length, window, center, pad_mode)
    f = _frequencies(S, sr, n_fft, freq)
    energy = torch.cumsum(S, dim=-2)
    reached = energy >= roll_percent * energy[..., -1:, :]
    first = torch.argmax(reached.to(torch.uint8), dim=-2, keepdim=True)  # the first bin that reaches it
    return torch.gather(f.expand(S.shape), -2, first)


def spectral_flatness(waveform=None, S=None, n_fft: int | None = None, hop_length: int = 512, win_length=None,
                      window="hann", center: bool = True, pad_mode: str = "constant", amin: float = 1e-10,
                      power: float = 2.0):
    """Spectral flatness ``(..., 1, time)`` (Wiener entropy) of ``max(amin, S^power)``."""
    amin = _checks.positive_float("amin", amin)
    S, _ = _spectrum(waveform, S, n_fft, hop_length, win_length, window, center, pad_mode)
    s = torch.clamp(S**power, min=amin)
    return torch.exp(torch.log(s).mean(dim=-2, keepdim=True)) / s.mean(dim=-2, keepdim=True)
