"""The layers, one module per family."""

from .cqt import CQT, CQT1992, CQT1992v2, CQT2010, CQT2010v2
from .gammatone import Gammatonegram
from .mel import MFCC, MelSpectrogram
from .stft import STFT, iSTFT
from .vqt import VQT

__all__ = ["STFT", "iSTFT", "MelSpectrogram", "MFCC", "Gammatonegram",
           "CQT", "CQT1992", "CQT1992v2", "CQT2010", "CQT2010v2", "VQT"]

from .griffin_lim import Griffin_Lim

__all__ += ["Griffin_Lim"]

from .cfp import CFP, Combined_Frequency_Periodicity

__all__ += ["CFP", "Combined_Frequency_Periodicity"]

from .inverse_mel import InverseMelScale

__all__ += ["InverseMelScale"]

from .icqt import iCQT, iVQT

__all__ += ["iCQT", "iVQT"]
