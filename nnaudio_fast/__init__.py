"""nnaudio_fast: spectrogram layers for PyTorch, a drop-in, faster replacement for nnAudio.

Layers (nnAudio's names and arguments) live in :mod:`nnaudio_fast.features` and are re-exported here; the
functions on ``(..., time)`` tensors, with librosa's argument names, in :mod:`nnaudio_fast.functional`.
"""

from . import features, functional, utils
from .cpp import build_info
from .dispatch import BackendUnavailableError, backends
from .features import LAYERS as _layers
from .features import (  # noqa: F401
    CFP, CQT, CQT1992, CQT2010, MFCC, STFT, VQT, ChromaCQT, ChromaSTFT, CQT1992v2, CQT2010v2,
    Combined_Frequency_Periodicity, Gammatonegram, Griffin_Lim, InverseMelScale, MelSpectrogram, SpectralBandwidth,
    SpectralCentroid, SpectralFlatness, SpectralRolloff, iCQT, iSTFT, iVQT,
)
from .transforms import AmplitudeToDB, ComputeDeltas  # noqa: F401  (they work on every layer's output)

__version__ = "0.1.0"
__all__ = list(_layers) + ["AmplitudeToDB", "ComputeDeltas", "features", "functional", "utils", "backends", "BackendUnavailableError", "build_info",
                            "__version__"]
