"""torchaudio-compatible transforms (``nnaudio_fast.transforms``): torchaudio 2.x's class names, argument names,
defaults, output shapes and dtypes, and state_dict keys where torchaudio has buffers, so code written for
``torchaudio.transforms`` runs with ``import nnaudio_fast.transforms as T``. Tested against the outputs of the real
torchaudio 2.9 (``tests/transforms/``; the fixtures and the script that made them are in the repository).

This first part has the transforms on spectrograms: :class:`AmplitudeToDB`, :class:`MelScale`,
:class:`ComputeDeltas`; their functions are in :mod:`nnaudio_fast.transforms.functional`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .. import _checks
from . import functional

__all__ = ["AmplitudeToDB", "MelScale", "ComputeDeltas", "functional"]


class AmplitudeToDB(nn.Module):
    """A power (``stype='power'``) or amplitude (``'magnitude'``) spectrogram ``(..., freq, time)`` in decibels,
    ``top_db`` below each item's maximum if given (:func:`functional.amplitude_to_DB`, ``amin = 1e-10``, ``ref``
    1). Works on any layer's output, nnAudio-style layers included."""

    def __init__(self, stype: str = "power", top_db: float | None = None):
        super().__init__()
        self.stype = _checks.choice("stype", stype, ("power", "magnitude"))
        if top_db is not None:
            top_db = _checks.non_negative_float("top_db", top_db, " (or None for no clipping)")
        self.top_db = top_db
        self.multiplier = 10.0 if stype == "power" else 20.0
        self.amin = 1e-10
        self.ref_value = 1.0
        self.db_multiplier = math.log10(max(self.amin, self.ref_value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional.amplitude_to_DB(x, self.multiplier, self.amin, self.db_multiplier, self.top_db)


class MelScale(nn.Module):
    """``(..., n_stft, time)`` spectrogram → ``(..., n_mels, time)`` through torchaudio's mel filterbank (buffer
    ``fb`` ``(n_stft, n_mels)``, :func:`functional.melscale_fbanks`; ``f_max=None`` is ``sample_rate // 2``)."""

    def __init__(self, n_mels: int = 128, sample_rate: int = 16000, f_min: float = 0.0, f_max: float | None = None,
                 n_stft: int = 201, norm: str | None = None, mel_scale: str = "htk"):
        super().__init__()
        self.n_mels, self.sample_rate, self.norm, self.mel_scale = n_mels, sample_rate, norm, mel_scale
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.f_min = f_min
        if f_min > self.f_max:
            raise ValueError(f"f_min={f_min} must not exceed f_max={self.f_max}.")
        self.register_buffer("fb", functional.melscale_fbanks(n_stft, self.f_min, self.f_max, n_mels, sample_rate,
                                                              norm, mel_scale))

    def forward(self, specgram: torch.Tensor) -> torch.Tensor:
        if specgram.dim() < 2 or specgram.shape[-2] != self.fb.shape[0]:
            raise ValueError(f"specgram has shape {tuple(specgram.shape)}; MelScale(n_stft={self.fb.shape[0]}) takes "
                             f"(..., {self.fb.shape[0]}, time).")
        fb = self.fb if self.fb.dtype == specgram.dtype else self.fb.to(specgram.dtype)
        return torch.matmul(specgram.transpose(-1, -2), fb).transpose(-1, -2)


class ComputeDeltas(nn.Module):
    """Delta coefficients along time of ``(..., freq, time)`` (:func:`functional.compute_deltas`)."""

    def __init__(self, win_length: int = 5, mode: str = "replicate"):
        super().__init__()
        self.win_length, self.mode = win_length, mode

    def forward(self, specgram: torch.Tensor) -> torch.Tensor:
        return functional.compute_deltas(specgram, win_length=self.win_length, mode=self.mode)
