"""nnaudio_fast: spectrogram layers for PyTorch, a drop-in, faster replacement for nnAudio.

Layers (nnAudio's names and arguments) live in :mod:`nnaudio_fast.features` and are re-exported here; the
torchaudio-style functions on ``(..., time)`` tensors in :mod:`nnaudio_fast.functional`.
"""

from . import features, functional
from .cpu import build_info
from .dispatch import BackendUnavailableError, backends
from .features import *  # noqa: F401,F403
from .features import __all__ as _layers

__version__ = "0.1.0"
__all__ = list(_layers) + ["features", "functional", "backends", "BackendUnavailableError", "build_info",
                            "__version__"]
