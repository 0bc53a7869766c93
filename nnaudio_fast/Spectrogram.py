"""nnAudio's old import path (``from nnAudio import Spectrogram``): re-exports the layers."""

from .features import *  # noqa: F401,F403
from .features import __all__  # noqa: F401
