"""The layers, one module per family."""

from .cqt import CQT, CQT1992, CQT1992v2, CQT2010, CQT2010v2
from .gammatone import Gammatonegram
from .mel import MFCC, MelSpectrogram
from .stft import STFT, iSTFT
from .vqt import VQT

__all__ = ["STFT", "iSTFT", "MelSpectrogram", "MFCC", "Gammatonegram",
           "CQT", "CQT1992", "CQT1992v2", "CQT2010", "CQT2010v2", "VQT"]
