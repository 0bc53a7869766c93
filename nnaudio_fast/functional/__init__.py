"""Functional API on ``(..., time)`` tensors, with librosa's argument names (torchaudio's names are in
:mod:`nnaudio_fast.transforms.functional`).

Two levels:

* Feature functions (:func:`stft`, :func:`istft`, :func:`mel_spectrogram`, :func:`mfcc`, :func:`gammatonegram`,
  :func:`cqt`, :func:`vqt`, :func:`icqt`, :func:`griffin_lim`, :func:`cfp`, ...) take the usual parameters, build
  (and cache) the bases in the input's dtype and device, and return features. They are exact: a float64 input
  gets float64 bases computed in float64.
* ``*_from_kernels`` functions take the basis tensors themselves (possibly trainable ``nn.Parameter`` s); the
  layers call these. They validate, flatten the leading dimensions, pick a backend (:mod:`nnaudio_fast.dispatch`)
  and restore the shape.

dtypes: float64 in, float64 out; float32, float16 and bfloat16 in, float32 out (power spectra overflow float16).

One module per family: :mod:`.fourier`, :mod:`.descriptors` (spectral centroid, bandwidth, rolloff, flatness), :mod:`.chroma`, :mod:`.constant_q`, :mod:`.inverse_constant_q`, :mod:`.phase_retrieval`
(Griffin-Lim), :mod:`.mel_inverse`, :mod:`.periodicity` (CFP); :mod:`.common` holds what they share.
"""

from .common import OUTPUT_FORMATS
from .constant_q import (
    CQT_NORMALIZATIONS,
    cqt,
    cqt_from_kernels,
    cqt_multirate_from_kernels,
    cqt_nnaudio_multirate_from_kernels,
    cqt_output,
    vqt,
)
from .chroma import chroma_cqt, chroma_stft
from .descriptors import spectral_bandwidth, spectral_centroid, spectral_flatness, spectral_rolloff
from .fourier import (
    gammatonegram,
    inverse_kernels,
    istft,
    istft_from_kernels,
    mel_spectrogram,
    mfcc,
    power_to_db,
    spectrogram_from_kernels,
    spectrogram_plan,
    stft,
    stft_from_kernels,
)
from .inverse_constant_q import ICQT_SOLVERS, icqt, icqt_from_transform, icqt_length, ivqt
from .mel_inverse import MEL_INVERSE_METHODS, mel_to_stft, mel_to_stft_from_fbank
from .periodicity import cfp, cfp_from_bases, cfp_settings
from .phase_retrieval import GRIFFIN_LIM_INITS, griffin_lim, griffin_lim_cqt, griffin_lim_from_kernels

__all__ = [
    "stft", "istft", "mel_spectrogram", "mfcc", "gammatonegram", "power_to_db",
    "stft_from_kernels", "spectrogram_from_kernels", "spectrogram_plan", "istft_from_kernels", "inverse_kernels", "OUTPUT_FORMATS",
    "cqt", "vqt", "cqt_from_kernels", "cqt_multirate_from_kernels", "cqt_nnaudio_multirate_from_kernels",
    "cqt_output", "CQT_NORMALIZATIONS",
    "icqt", "ivqt", "icqt_from_transform", "icqt_length", "ICQT_SOLVERS",
    "griffin_lim", "griffin_lim_cqt", "griffin_lim_from_kernels", "GRIFFIN_LIM_INITS",
    "mel_to_stft", "mel_to_stft_from_fbank", "MEL_INVERSE_METHODS",
    "cfp", "cfp_from_bases", "cfp_settings",
    "spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "spectral_flatness", "chroma_stft",
    "chroma_cqt",
]
