"""torchaudio-compatible transforms (``nnaudio_fast.transforms``): torchaudio 2.x's class names, argument names,
defaults, output shapes and dtypes, and state_dict keys where torchaudio has buffers, so code written for
``torchaudio.transforms`` runs with ``import nnaudio_fast.transforms as T``. Tested against the outputs of the real
torchaudio 2.9 (``tests/transforms/``; the fixtures and the script that made them are in the repository).

So far (:mod:`.spectral`, on this package's backends): :class:`Spectrogram`, :class:`InverseSpectrogram`,
:class:`MelScale`, :class:`MelSpectrogram`, :class:`MFCC`, :class:`LFCC`, :class:`SpectralCentroid`,
:class:`Resample`, :class:`AmplitudeToDB`, :class:`ComputeDeltas`, :class:`FrequencyMasking`,
:class:`TimeMasking`, :class:`InverseMelScale`, :class:`GriffinLim`; their functions are in
:mod:`nnaudio_fast.transforms.functional`.
"""

from __future__ import annotations

from . import functional
from .spectral import (LFCC, MFCC, AmplitudeToDB, ComputeDeltas, FrequencyMasking, GriffinLim, InverseMelScale,
                       InverseSpectrogram, MelScale, MelSpectrogram, Resample, SpectralCentroid, Spectrogram,
                       TimeMasking)

__all__ = ["Spectrogram", "InverseSpectrogram", "MelScale", "MelSpectrogram", "MFCC", "LFCC", "SpectralCentroid",
           "Resample", "AmplitudeToDB", "ComputeDeltas", "FrequencyMasking", "TimeMasking", "GriffinLim",
           "InverseMelScale", "functional"]
