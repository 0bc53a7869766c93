"""The layers, one module per family."""

from .gammatone import Gammatonegram
from .mel import MFCC, MelSpectrogram
from .stft import STFT, iSTFT

__all__ = ["STFT", "iSTFT", "MelSpectrogram", "MFCC", "Gammatonegram"]

from .griffin_lim import Griffin_Lim

__all__ += ["Griffin_Lim"]

from .cfp import CFP, Combined_Frequency_Periodicity

__all__ += ["CFP", "Combined_Frequency_Periodicity"]

from .inverse_mel import InverseMelScale

__all__ += ["InverseMelScale"]
