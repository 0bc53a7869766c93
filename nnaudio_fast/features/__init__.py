"""The layers, one module per family.

``from nnaudio_fast.features import *`` (like ``from nnAudio.features import *``) also gives what nnAudio's
``features`` package exports beside its layers, because user scripts and nnAudio's own tests rely on it: its
modules' globals (``np``, ``torch``, ``nn``, ``scipy``, ``signal``, ``conv1d``, ...) and its helpers
(:mod:`nnaudio_fast.utils`).
"""

import math  # noqa: F401
import sys  # noqa: F401
import time  # noqa: F401
import warnings  # noqa: F401

import numpy as np  # noqa: F401
import scipy  # noqa: F401
import torch  # noqa: F401
from scipy import signal  # noqa: F401
from scipy.fftpack import fft  # noqa: F401
from scipy.signal import get_window  # noqa: F401
from torch import nn  # noqa: F401
from torch.nn.functional import conv1d, conv2d, fold  # noqa: F401

from .. import utils
from ..utils import *  # noqa: F401,F403
from ._base import BasisModule
from .cfp import CFP, Combined_Frequency_Periodicity
from .chroma import ChromaCQT, ChromaSTFT
from .cqt import CQT, CQT1992, CQT1992v2, CQT2010, CQT2010v2
from .descriptors import SpectralBandwidth, SpectralCentroid, SpectralFlatness, SpectralRolloff
from .gammatone import Gammatonegram
from .griffin_lim import Griffin_Lim
from .icqt import iCQT, iVQT
from .inverse_mel import InverseMelScale
from .mel import MFCC, MelSpectrogram
from .stft import STFT, iSTFT
from .vqt import VQT

#: The layers (what ``nnaudio_fast`` itself re-exports).
LAYERS = ["STFT", "iSTFT", "MelSpectrogram", "MFCC", "Gammatonegram", "CQT", "CQT1992", "CQT1992v2", "CQT2010",
          "CQT2010v2", "VQT", "Griffin_Lim", "CFP", "Combined_Frequency_Periodicity", "InverseMelScale", "iCQT",
          "iVQT", "ChromaSTFT", "ChromaCQT", "SpectralCentroid", "SpectralBandwidth", "SpectralRolloff",
          "SpectralFlatness"]

#: nnAudio's base class of its STFT layers; here the base of every layer.
STFTBase = BasisModule

_NNAUDIO_GLOBALS = ["math", "sys", "time", "warnings", "np", "scipy", "torch", "signal", "fft", "get_window", "nn",
                    "conv1d", "conv2d", "fold", "STFTBase"]

__all__ = LAYERS + _NNAUDIO_GLOBALS + list(utils.__all__)
