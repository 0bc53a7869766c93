"""Bad or hostile arguments get a clear error, quickly, from every entry point (issue 13).

Each case is ``(id, call, exception type, regex)``: the call must raise that type with a message matching the
regex, which names the argument (and mostly its value). Never a silent answer, a hang, an unclear error
(ZeroDivisionError, IndexError, an MKL error, an assert) or a huge allocation before the error.

Cases that would allocate gigabytes or run for minutes if the guard regressed (:data:`HEAVY`) run in one child
process with its address space limited to 4 GiB and a timeout, so a regression fails cleanly instead of
exhausting the machine. :data:`VALID` holds edge inputs that must keep working.

Self-contained on purpose: only the standard library, NumPy, torch, pytest and nnaudio_fast.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

import nnaudio_fast as nf
from nnaudio_fast import bases
from nnaudio_fast import functional as AF

SR = 22050
X = torch.randn(2, 4096, generator=torch.Generator().manual_seed(0))
#: a small CQT every CQT-family case derives from (fast to build)
CQT_KW = dict(sr=SR, hop_length=256, fmin=110.0, n_bins=36, bins_per_octave=12)
#: per-case wall-clock budget (s); the cases themselves take milliseconds
BUDGET_S = 3.0


def _spec():  # STFT magnitude for Griffin-Lim, n_fft=256
    return AF.stft(X[:1], n_fft=256, hop_length=64, output_format="Magnitude")


def _cqt_complex():
    return AF.cqt(X[:1], output_format="Complex", **CQT_KW)


def _load(layer, cast):
    state = {k: cast(v) for k, v in layer.state_dict().items()}
    layer.load_state_dict(state)
    return layer


def _warning_as_error(call):
    """``call`` with warnings raised as exceptions (empty mel filters warn, as in librosa and torchaudio)."""
    import warnings

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return call()

    return run


def _nan_window(n, bad):
    w = np.hanning(n)
    w[n // 2] = bad
    return w


# ----------------------------------------------------------------------------------------------------------------
# (id, call, exception, regex naming the argument)
# ----------------------------------------------------------------------------------------------------------------
CASES = [
    # -- STFT construction ---------------------------------------------------------------------------------------
    ("stft-center-str", lambda: nf.STFT(n_fft=256, center="False"), TypeError, r"center='False'"),
    ("stft-trainable-str", lambda: nf.STFT(n_fft=256, trainable="yes"), TypeError, r"trainable='yes'"),
    ("stft-iSTFT-none", lambda: nf.STFT(n_fft=256, iSTFT=None), TypeError, r"iSTFT=None"),
    ("stft-window-nan", lambda: nf.STFT(n_fft=256, window=_nan_window(256, np.nan)), ValueError, r"window.*NaN"),
    ("stft-window-inf", lambda: nf.STFT(n_fft=256, window=_nan_window(256, np.inf)), ValueError, r"window.*inf"),
    ("stft-window-tuple-nan", lambda: nf.STFT(n_fft=256, window=("kaiser", float("nan"))), ValueError, r"window"),
    ("stft-window-unknown", lambda: nf.STFT(n_fft=256, window="hannn"), ValueError, r"window='hannn'"),
    ("stft-window-short", lambda: nf.STFT(n_fft=256, window=np.ones(100)), ValueError, r"win_length=256"),
    ("stft-freq_bins-float", lambda: nf.STFT(n_fft=256, freq_bins=10.5), ValueError, r"freq_bins=10.5"),
    ("stft-freq_bins-zero", lambda: nf.STFT(n_fft=256, freq_bins=0), ValueError, r"freq_bins=0"),
    ("stft-n_fft-float", lambda: nf.STFT(n_fft=256.0), ValueError, r"n_fft=256.0"),
    ("stft-n_fft-bool", lambda: nf.STFT(n_fft=True), ValueError, r"n_fft=True"),
    ("stft-n_fft-negative", lambda: nf.STFT(n_fft=-256), ValueError, r"n_fft=-256"),
    ("stft-n_fft-1-default-hop", lambda: nf.STFT(n_fft=1), ValueError, r"hop_length.*win_length=1"),
    ("stft-hop-negative", lambda: nf.STFT(n_fft=256, hop_length=-1), ValueError, r"hop_length=-1"),
    ("stft-hop-bool", lambda: nf.STFT(n_fft=256, hop_length=True), ValueError, r"hop_length=True"),
    ("stft-hop-float", lambda: nf.STFT(n_fft=256, hop_length=64.0), ValueError, r"hop_length=64.0"),
    ("stft-win_length-zero", lambda: nf.STFT(n_fft=256, win_length=0), ValueError, r"win_length=0"),
    ("stft-win_length-big", lambda: nf.STFT(n_fft=256, win_length=512), ValueError, r"win_length=512"),
    ("stft-pad_mode-int", lambda: nf.STFT(n_fft=256, pad_mode=3), ValueError, r"pad_mode=3"),
    ("stft-pad_mode-none", lambda: nf.STFT(n_fft=256, pad_mode=None), ValueError, r"pad_mode=None"),
    ("stft-output_format-typo", lambda: nf.STFT(n_fft=256, output_format="complex"), ValueError,
     r"output_format='complex'"),
    ("stft-freq_scale-typo", lambda: nf.STFT(n_fft=256, freq_scale="logarithmic"), ValueError,
     r"freq_scale='logarithmic'"),
    ("stft-log-sr-zero", lambda: nf.STFT(n_fft=256, freq_scale="log", sr=0), ValueError, r"sr=0"),
    ("stft-sr-nan", lambda: nf.STFT(n_fft=256, sr=float("nan")), ValueError, r"sr=nan"),
    ("stft-linear-fmin-above-fmax", lambda: nf.STFT(n_fft=256, freq_scale="linear", fmin=5000, fmax=100),
     ValueError, r"fmin=5000"),
    ("stft-log-fmax-nan", lambda: nf.STFT(n_fft=256, freq_scale="log", fmax=float("nan")), ValueError,
     r"fmax=nan"),
    ("stft-backend-bogus", lambda: nf.STFT(n_fft=256, backend="bogus"), ValueError, r"backend='bogus'"),
    ("stft-precision-fp8", lambda: nf.STFT(n_fft=256, precision="fp8"), ValueError, r"precision='fp8'"),
    # -- STFT forward / inverse ----------------------------------------------------------------------------------
    ("stft-input-0d", lambda: nf.STFT(n_fft=256)(torch.tensor(1.0)), ValueError, r"shape \(\)"),
    ("stft-input-complex", lambda: nf.STFT(n_fft=256)(torch.randn(2, 1000, dtype=torch.complex64)), ValueError,
     r"complex64"),
    ("stft-input-int32", lambda: nf.STFT(n_fft=256)(torch.zeros(2, 1000, dtype=torch.int32)), ValueError,
     r"int32"),
    ("stft-input-bool", lambda: nf.STFT(n_fft=256)(torch.zeros(2, 1000, dtype=torch.bool)), ValueError,
     r"torch\.bool"),
    ("stft-input-numpy", lambda: nf.STFT(n_fft=256)(np.zeros(1000)), ValueError, r"torch\.Tensor"),
    ("stft-input-4d", lambda: nf.STFT(n_fft=256)(torch.zeros(1, 1, 1, 1000)), ValueError, r"shape \(1, 1, 1, 1000\)"),
    ("stft-forward-format-typo", lambda: nf.STFT(n_fft=256)(X, output_format="Magnitudes"), ValueError,
     r"output_format='Magnitudes'"),
    ("stft-inverse-length-zero",
     lambda: nf.STFT(n_fft=256, iSTFT=True).inverse(AF.stft(X, n_fft=256), length=0), ValueError, r"length=0"),
    ("stft-inverse-length-negative",
     lambda: nf.STFT(n_fft=256, iSTFT=True).inverse(AF.stft(X, n_fft=256), length=-5), ValueError, r"length=-5"),
    ("stft-inverse-length-float",
     lambda: nf.STFT(n_fft=256, iSTFT=True).inverse(AF.stft(X, n_fft=256), length=4096.0), ValueError,
     r"length=4096.0"),
    ("stft-load-int-state", lambda: _load(nf.STFT(n_fft=256), lambda t: t.to(torch.int32)), TypeError,
     r"wsin.*int32"),
    # -- iSTFT ---------------------------------------------------------------------------------------------------
    ("istft-center-str", lambda: nf.iSTFT(n_fft=256, center="yes"), TypeError, r"center='yes'"),
    ("istft-trainable-str", lambda: nf.iSTFT(n_fft=256, trainable_window="no"), TypeError,
     r"trainable_window='no'"),
    ("istft-backend-bogus", lambda: nf.iSTFT(n_fft=256, backend="bogus"), ValueError, r"backend='bogus'"),
    ("istft-length-negative", lambda: nf.iSTFT(n_fft=256)(AF.stft(X, n_fft=256), length=-1), ValueError,
     r"length=-1"),
    ("istft-onesided-str", lambda: nf.iSTFT(n_fft=256)(AF.stft(X, n_fft=256), onesided="True"), TypeError,
     r"onesided='True'"),
    ("istft-window-nan", lambda: nf.iSTFT(n_fft=256, window=_nan_window(256, np.nan)), ValueError,
     r"window.*NaN"),
    # -- MelSpectrogram ------------------------------------------------------------------------------------------
    ("mel-sr-inf", lambda: nf.MelSpectrogram(sr=float("inf")), ValueError, r"sr=inf"),
    ("mel-sr-zero", lambda: nf.MelSpectrogram(sr=0), ValueError, r"sr=0"),
    ("mel-sr-str", lambda: nf.MelSpectrogram(sr="22050"), ValueError, r"sr='22050'"),
    ("mel-n_mels-float", lambda: nf.MelSpectrogram(n_mels=64.0), ValueError, r"n_mels=64.0"),
    ("mel-n_mels-zero", lambda: nf.MelSpectrogram(n_mels=0), ValueError, r"n_mels=0"),
    ("mel-empty-filters", _warning_as_error(lambda: nf.MelSpectrogram(n_fft=256, n_mels=512)), UserWarning,
     r"n_mels=512.*n_fft=256"),
    ("mel-fmin-above-fmax", lambda: nf.MelSpectrogram(fmin=5000.0, fmax=1000.0), ValueError, r"fmin=5000"),
    ("mel-fmin-negative", lambda: nf.MelSpectrogram(fmin=-10.0), ValueError, r"fmin=-10"),
    ("mel-fmax-nyquist", lambda: nf.MelSpectrogram(sr=16000, fmax=9000.0), ValueError, r"fmax=9000"),
    ("mel-fmax-nan", lambda: nf.MelSpectrogram(fmax=float("nan")), ValueError, r"fmax=nan"),
    ("mel-htk-str", lambda: nf.MelSpectrogram(htk="True"), TypeError, r"htk='True'"),
    ("mel-center-str", lambda: nf.MelSpectrogram(center="False"), TypeError, r"center='False'"),
    ("mel-trainable-str", lambda: nf.MelSpectrogram(trainable_mel="False"), TypeError, r"trainable_mel='False'"),
    ("mel-power-zero", lambda: nf.MelSpectrogram(power=0), ValueError, r"power=0"),
    ("mel-power-nan", lambda: nf.MelSpectrogram(power=float("nan")), ValueError, r"power=nan"),
    ("mel-power-negative", lambda: nf.MelSpectrogram(power=-2.0), ValueError, r"power=-2.0"),
    ("mel-norm-typo", lambda: nf.MelSpectrogram(norm="slany"), ValueError, r"norm='slany'"),
    ("mel-backend-bogus", lambda: nf.MelSpectrogram(backend="bogus"), ValueError, r"backend='bogus'"),
    ("mel-precision-fp8", lambda: nf.MelSpectrogram(precision="fp8"), ValueError, r"precision='fp8'"),
    ("mel-input-0d", lambda: nf.MelSpectrogram(n_fft=512)(torch.tensor(0.5)), ValueError, r"shape \(\)"),
    # -- MFCC ----------------------------------------------------------------------------------------------------
    ("mfcc-ref-nan", lambda: nf.MFCC(ref=float("nan")), ValueError, r"ref=nan"),
    ("mfcc-ref-inf", lambda: nf.MFCC(ref=float("inf")), ValueError, r"ref=inf"),
    ("mfcc-top_db-nan", lambda: nf.MFCC(top_db=float("nan")), ValueError, r"top_db=nan"),
    ("mfcc-top_db-negative", lambda: nf.MFCC(top_db=-1.0), ValueError, r"top_db=-1"),
    ("mfcc-amin-zero", lambda: nf.MFCC(amin=0.0), ValueError, r"amin=0"),
    ("mfcc-n_mfcc-big", lambda: nf.MFCC(n_mfcc=200), ValueError, r"n_mfcc=200"),
    ("mfcc-n_mfcc-float", lambda: nf.MFCC(n_mfcc=20.0), ValueError, r"n_mfcc=20.0"),
    ("mfcc-norm-typo", lambda: nf.MFCC(norm="orto"), ValueError, r"norm='orto'"),
    ("mfcc-backend-bogus", lambda: nf.MFCC(backend="bogus"), ValueError, r"backend='bogus'"),
    # -- Gammatonegram -------------------------------------------------------------------------------------------
    ("gamma-fmax-nyquist", lambda: nf.Gammatonegram(sr=16000, fmax=12000.0), ValueError, r"fmax=12000"),
    ("gamma-n_bins-float", lambda: nf.Gammatonegram(n_bins=64.5), ValueError, r"n_bins=64.5"),
    ("gamma-fmin-above-fmax", lambda: nf.Gammatonegram(fmin=4000.0, fmax=2000.0), ValueError, r"fmin=4000"),
    ("gamma-sr-inf", lambda: nf.Gammatonegram(sr=float("inf")), ValueError, r"sr=inf"),
    ("gamma-trainable-str", lambda: nf.Gammatonegram(trainable_bins="no"), TypeError, r"trainable_bins='no'"),
    # -- CQT family ----------------------------------------------------------------------------------------------
    ("cqt-fmin-zero", lambda: nf.CQT1992v2(**{**CQT_KW, "fmin": 0}), ValueError, r"fmin=0"),
    ("cqt-fmin-nan", lambda: nf.CQT1992v2(**{**CQT_KW, "fmin": float("nan")}), ValueError, r"fmin=nan"),
    ("cqt-sr-zero", lambda: nf.CQT1992v2(**{**CQT_KW, "sr": 0}), ValueError, r"sr=0"),
    ("cqt-n_bins-float", lambda: nf.CQT1992v2(**{**CQT_KW, "n_bins": 36.5}), ValueError, r"n_bins=36.5"),
    ("cqt-bpo-zero", lambda: nf.CQT1992v2(**{**CQT_KW, "bins_per_octave": 0}), ValueError, r"bins_per_octave=0"),
    ("cqt-hop-zero", lambda: nf.CQT1992v2(**{**CQT_KW, "hop_length": 0}), ValueError, r"hop_length=0"),
    ("cqt-filter_scale-neg", lambda: nf.CQT1992v2(**CQT_KW, filter_scale=-1), ValueError, r"filter_scale=-1"),
    ("cqt-fmax-below-fmin", lambda: nf.CQT1992v2(**CQT_KW, fmax=50.0), ValueError, r"fmax=50"),
    ("cqt-nyquist", lambda: nf.CQT1992v2(**{**CQT_KW, "n_bins": 200}), ValueError, r"n_bins=200"),
    ("cqt-window-array", lambda: nf.CQT1992v2(**CQT_KW, window=np.ones(8)), ValueError, r"window"),
    ("cqt-norm-str", lambda: nf.CQT1992v2(**CQT_KW, norm="l1"), ValueError, r"norm='l1'"),
    ("cqt-center-str", lambda: nf.CQT1992v2(**CQT_KW, center="False"), TypeError, r"center='False'"),
    ("cqt-trainable-str", lambda: nf.CQT1992v2(**CQT_KW, trainable="False"), TypeError, r"trainable='False'"),
    ("cqt-compat-str", lambda: nf.CQT1992v2(**CQT_KW, nnaudio_compat="yes"), TypeError, r"nnaudio_compat='yes'"),
    ("cqt-output_format-typo", lambda: nf.CQT1992v2(**CQT_KW, output_format="magnitude"), ValueError,
     r"output_format='magnitude'"),
    ("cqt-backend-bogus", lambda: nf.CQT1992v2(**CQT_KW, backend="bogus"), ValueError, r"backend='bogus'"),
    ("cqt-precision-fp8", lambda: nf.CQT1992v2(**CQT_KW, precision="fp8"), ValueError, r"precision='fp8'"),
    ("cqt-normalization-typo", lambda: nf.CQT1992v2(**CQT_KW)(X, normalization_type="Librosa"), ValueError,
     r"normalization_type='Librosa'"),
    ("cqt-load-int-state", lambda: _load(nf.CQT1992v2(**CQT_KW), lambda t: t.to(torch.int32)), TypeError,
     r"state_dict\['\w+'\] has dtype torch\.int32"),
    ("cqt-load-bool-state", lambda: _load(nf.CQT1992v2(**CQT_KW), lambda t: t != 0), TypeError,
     r"torch\.bool"),
    ("cqt-load-complex-state", lambda: _load(nf.CQT1992v2(**CQT_KW), lambda t: t.to(torch.complex64)), TypeError,
     r"complex64"),
    ("cqt2010v2-early-str", lambda: nf.CQT2010v2(**CQT_KW, earlydownsample="no"), TypeError,
     r"earlydownsample='no'"),
    ("cqt2010v2-load-int-state", lambda: _load(nf.CQT2010v2(**CQT_KW), lambda t: t.to(torch.int64)), TypeError,
     r"int64"),
    ("cqt1992-trainable-str", lambda: nf.CQT1992(**CQT_KW, trainable_STFT="no"), TypeError,
     r"trainable_STFT='no'"),
    ("cqt2010-trainable-str", lambda: nf.CQT2010(**CQT_KW, trainable_CQT=1.5), TypeError, r"trainable_CQT=1.5"),
    ("vqt-gamma-negative", lambda: nf.VQT(**CQT_KW, gamma=-1.0), ValueError, r"gamma=-1"),
    ("vqt-gamma-nan", lambda: nf.VQT(**CQT_KW, gamma=float("nan")), ValueError, r"gamma=nan"),
    ("vqt-gamma-str", lambda: nf.VQT(**CQT_KW, gamma="erb"), ValueError, r"gamma='erb'"),
    # -- iCQT / iVQT ---------------------------------------------------------------------------------------------
    ("icqt-backend-bogus", lambda: nf.iCQT(**CQT_KW, backend="bogus"), ValueError, r"backend='bogus'"),
    ("icqt-n_iter-negative", lambda: nf.iCQT(**CQT_KW, n_iter=-1), ValueError, r"n_iter=-1"),
    ("icqt-tol-nan", lambda: nf.iCQT(**CQT_KW, tol=float("nan")), ValueError, r"tol=nan"),
    ("icqt-damping-inf", lambda: nf.iCQT(**CQT_KW, damping=float("inf")), ValueError, r"damping=inf"),
    ("icqt-solver-typo", lambda: nf.iCQT(**CQT_KW, solver="cg"), ValueError, r"solver='cg'"),
    ("icqt-multirate-str", lambda: nf.iCQT(**CQT_KW, multirate="no"), TypeError, r"multirate='no'"),
    ("icqt-center-str", lambda: nf.iCQT(**CQT_KW, center="no"), TypeError, r"center='no'"),
    ("icqt-length-zero", lambda: nf.iCQT(**CQT_KW)(_cqt_complex(), length=0), ValueError, r"length=0"),
    ("icqt-length-negative", lambda: nf.iCQT(**CQT_KW)(_cqt_complex(), length=-10), ValueError, r"length=-10"),
    ("ivqt-backend-bogus", lambda: nf.iVQT(**CQT_KW, backend="bogus"), ValueError, r"backend='bogus'"),
    # -- Griffin_Lim ---------------------------------------------------------------------------------------------
    ("gl-backend-bogus", lambda: nf.Griffin_Lim(n_fft=256, backend="bogus"), ValueError, r"backend='bogus'"),
    ("gl-n_iter-negative", lambda: nf.Griffin_Lim(n_fft=256, n_iter=-1), ValueError, r"n_iter=-1"),
    ("gl-momentum-negative", lambda: nf.Griffin_Lim(n_fft=256, momentum=-0.5), ValueError, r"momentum=-0.5"),
    ("gl-momentum-nan", lambda: nf.Griffin_Lim(n_fft=256, momentum=float("nan")), ValueError, r"momentum=nan"),
    ("gl-momentum-inf", lambda: nf.Griffin_Lim(n_fft=256, momentum=float("inf")), ValueError, r"momentum=inf"),
    ("gl-init-typo", lambda: nf.Griffin_Lim(n_fft=256, init="zeros"), ValueError, r"init='zeros'"),
    ("gl-power-zero", lambda: nf.Griffin_Lim(n_fft=256, power=0), ValueError, r"power=0"),
    ("gl-center-str", lambda: nf.Griffin_Lim(n_fft=256, center="True"), TypeError, r"center='True'"),
    ("gl-window-unknown", lambda: nf.Griffin_Lim(n_fft=256, window="bogus"), ValueError, r"window='bogus'"),
    ("gl-length-zero", lambda: nf.Griffin_Lim(n_fft=256, hop_length=64, n_iter=1)(_spec(), length=0), ValueError,
     r"length=0"),
    ("gl-length-negative", lambda: nf.Griffin_Lim(n_fft=256, hop_length=64, n_iter=1)(_spec(), length=-3),
     ValueError, r"length=-3"),
    ("gl-negative-spec", lambda: nf.Griffin_Lim(n_fft=256, hop_length=64, n_iter=1)(-_spec()), ValueError,
     r"negative"),
    ("gl-wrong-bins", lambda: nf.Griffin_Lim(n_fft=512, hop_length=64, n_iter=1)(_spec()), ValueError,
     r"n_fft=512"),
    # -- InverseMelScale -----------------------------------------------------------------------------------------
    ("imel-n_iter-negative", lambda: nf.InverseMelScale(n_iter=-1), ValueError, r"n_iter=-1"),
    ("imel-method-typo", lambda: nf.InverseMelScale(method="lstsq"), ValueError, r"method='lstsq'"),
    ("imel-power-nan", lambda: nf.InverseMelScale(power=float("nan")), ValueError, r"power=nan"),
    ("imel-empty-filters", _warning_as_error(lambda: nf.InverseMelScale(n_fft=256, n_mels=512)), UserWarning,
     r"n_mels=512"),
    ("imel-htk-str", lambda: nf.InverseMelScale(htk="no"), TypeError, r"htk='no'"),
    ("imel-backend", lambda: nf.InverseMelScale(backend="bogus"), TypeError, r"backend"),
    # -- CFP -----------------------------------------------------------------------------------------------------
    ("cfp-fr-zero", lambda: nf.CFP(fr=0), ValueError, r"fr=0"),
    ("cfp-fs-nan", lambda: nf.CFP(fs=float("nan")), ValueError, r"fs=nan"),
    ("cfp-hop-zero", lambda: nf.CFP(hop_length=0), ValueError, r"hop_length=0"),
    ("cfp-window_size-big", lambda: nf.CFP(window_size=10000), ValueError, r"window_size=10000"),
    ("cfp-g-short", lambda: nf.CFP(g=[0.5]), ValueError, r"g=\[0.5\]"),
    ("cfp-g-nan", lambda: nf.CFP(g=[0.2, float("nan"), 1]), ValueError, r"g=\[0.2, nan, 1"),
    ("cfp-compat-str", lambda: nf.CFP(nnaudio_compat="False"), TypeError, r"nnaudio_compat='False'"),
    ("cfp-backend", lambda: nf.CFP(backend="bogus"), TypeError, r"backend"),
    ("cfp-input-0d", lambda: nf.CFP()(torch.tensor(1.0)), ValueError, r"shape \(\)"),
    # -- functional API ------------------------------------------------------------------------------------------
    ("f-stft-freq_bins-float", lambda: AF.stft(X, n_fft=256, freq_bins=10.5), ValueError, r"freq_bins=10.5"),
    ("f-stft-center-str", lambda: AF.stft(X, n_fft=256, center="False"), TypeError, r"center='False'"),
    ("f-stft-0d", lambda: AF.stft(torch.tensor(1.0), n_fft=256), ValueError, r"0-d|shape \(\)"),
    ("f-stft-window-nan", lambda: AF.stft(X, n_fft=256, window=torch.full((256,), float("nan"))), ValueError,
     r"window.*NaN"),
    ("f-stft-log-sr-zero", lambda: AF.stft(X, n_fft=256, freq_scale="log", sr=0), ValueError, r"sr=0"),
    ("f-stft-backend-bogus", lambda: AF.stft(X, n_fft=256, backend="bogus"), ValueError, r"backend='bogus'"),
    ("f-stft-precision-fp8", lambda: AF.stft(X, n_fft=256, precision="fp8"), ValueError, r"precision='fp8'"),
    ("f-istft-length-negative", lambda: AF.istft(AF.stft(X, n_fft=256), n_fft=256, length=-1), ValueError,
     r"length=-1"),
    ("f-istft-center-str", lambda: AF.istft(AF.stft(X, n_fft=256), n_fft=256, center="True"), TypeError,
     r"center='True'"),
    ("f-istft-real-input", lambda: AF.istft(torch.rand(1, 129, 10), n_fft=256), ValueError, r"\(1, 129, 10\)"),
    ("f-mel-n_mels-float", lambda: AF.mel_spectrogram(X, n_mels=64.0), ValueError, r"n_mels=64.0"),
    ("f-mel-sr-inf", lambda: AF.mel_spectrogram(X, sr=float("inf")), ValueError, r"sr=inf"),
    ("f-mel-empty-filters", _warning_as_error(lambda: AF.mel_spectrogram(X, n_fft=256, n_mels=512)), UserWarning,
     r"n_mels=512"),
    ("f-mel-htk-str", lambda: AF.mel_spectrogram(X, htk="yes"), TypeError, r"htk='yes'"),
    ("f-mfcc-ref-nan", lambda: AF.mfcc(X, ref=float("nan")), ValueError, r"ref=nan"),
    ("f-mfcc-top_db-nan", lambda: AF.mfcc(X, top_db=float("nan")), ValueError, r"top_db=nan"),
    ("f-mfcc-dct_norm-typo", lambda: AF.mfcc(X, dct_norm="orto"), ValueError, r"norm='orto'"),
    ("f-db-amin-negative", lambda: AF.power_to_db(torch.rand(1, 4, 4), amin=-1.0), ValueError, r"amin=-1"),
    ("f-db-top_db-str", lambda: AF.power_to_db(torch.rand(1, 4, 4), top_db="80"), ValueError, r"top_db='80'"),
    ("f-db-ref-nan", lambda: AF.power_to_db(torch.rand(1, 4, 4), ref=float("nan")), ValueError, r"ref=nan"),
    ("f-gammatone-fmax-nyquist", lambda: AF.gammatonegram(X, sr=8000, fmax=6000.0), ValueError, r"fmax=6000"),
    ("f-cqt-multirate-str", lambda: AF.cqt(X, **CQT_KW, multirate="no"), TypeError, r"multirate='no'"),
    ("f-cqt-center-str", lambda: AF.cqt(X, **CQT_KW, center="no"), TypeError, r"center='no'"),
    ("f-cqt-0d", lambda: AF.cqt(torch.tensor(1.0), **CQT_KW), ValueError, r"0-d|shape \(\)"),
    ("f-vqt-gamma-negative", lambda: AF.vqt(X, **CQT_KW, gamma=-5.0), ValueError, r"gamma=-5"),
    ("f-icqt-n_iter-negative", lambda: AF.icqt(_cqt_complex(), **CQT_KW, n_iter=-1), ValueError, r"n_iter=-1"),
    ("f-icqt-length-zero", lambda: AF.icqt(_cqt_complex(), **CQT_KW, length=0), ValueError, r"length=0"),
    ("f-icqt-magnitude", lambda: AF.icqt(AF.cqt(X, **CQT_KW), **CQT_KW), ValueError, r"complex"),
    ("f-gl-momentum-nan", lambda: AF.griffin_lim(_spec(), n_fft=256, hop_length=64, momentum=float("nan")),
     ValueError, r"momentum=nan"),
    ("f-gl-n_iter-float", lambda: AF.griffin_lim(_spec(), n_fft=256, hop_length=64, n_iter=2.5), ValueError,
     r"n_iter=2.5"),
    ("f-gl-length-negative", lambda: AF.griffin_lim(_spec(), n_fft=256, hop_length=64, length=-1), ValueError,
     r"length=-1"),
    ("f-cfp-g-nan", lambda: AF.cfp(X, g=(0.2, float("nan"))), ValueError, r"g=\[0.2, nan\]"),
    ("f-mel_to_stft-n_iter-neg", lambda: AF.mel_to_stft(torch.rand(1, 128, 5), n_iter=-1), ValueError,
     r"n_iter=-1"),
    # -- builders ------------------------------------------------------------------------------------------------
    ("b-fourier-freq_bins-float", lambda: bases.fourier_kernels(256, freq_bins=10.5), ValueError,
     r"freq_bins=10.5"),
    ("b-fourier-n_fft-zero", lambda: bases.fourier_kernels(0), ValueError, r"n_fft=0"),
    ("b-window-unknown", lambda: bases.get_window("bogus", 64), ValueError, r"window='bogus'"),
    ("b-window-nan", lambda: bases.get_window(_nan_window(64, np.nan), 64), ValueError, r"window.*NaN"),
    ("b-mel-n_mels-float", lambda: bases.mel_filterbank(SR, 2048, 64.5), ValueError, r"n_mels=64.5"),
    ("b-mel-sr-inf", lambda: bases.mel_filterbank(float("inf"), 2048), ValueError, r"sr=inf"),
    ("b-mel-empty", _warning_as_error(lambda: bases.mel_filterbank(SR, 256, 512)), UserWarning,
     r"n_mels=512.*n_fft=256"),
    ("b-gammatone-fmax", lambda: bases.gammatone_filterbank(8000, 512, 64, 0.0, 5000.0), ValueError,
     r"fmax=5000"),
    ("b-dct-n-zero", lambda: bases.dct_matrix(0), ValueError, r"n=0"),
    ("b-cqt-fmin-negative", lambda: bases.cqt_kernels(SR, -1.0, 12), ValueError, r"fmin=-1"),
    ("b-cqt-n_bins-float", lambda: bases.cqt_lengths(SR, 110.0, 12.5), ValueError, r"n_bins=12.5"),
    ("b-cqt-design-gamma-nan", lambda: bases.CQTDesign(SR, 110.0, 12, gamma=float("nan")), ValueError,
     r"gamma=nan"),
]

# Cases that would allocate gigabytes or run for minutes without their guard: code run in a child process
# (address space 4 GiB, a timeout), names: nf, AF, bases, torch, np, X, SR.
HEAVY = [
    ("stft-n_fft-2**31", "nf.STFT(n_fft=2**31)", "ValueError", r"n_fft=2147483648"),
    ("stft-n_fft-2**20", "nf.STFT(n_fft=2**20)", "ValueError", r"n_fft=1048576.*GiB"),
    ("stft-freq_bins-1e8", "nf.STFT(n_fft=2048, freq_bins=10**8)", "ValueError", r"freq_bins=100000000.*GiB"),
    ("istft-n_fft-2**16", "nf.iSTFT(n_fft=2**16)", "ValueError", r"n_fft=65536.*GiB"),
    ("stft-istft-kernels-2**15", "nf.STFT(n_fft=2**15, iSTFT=True)", "ValueError", r"n_fft=32768.*GiB"),
    ("mel-n_fft-2**31", "nf.MelSpectrogram(n_fft=2**31)", "ValueError", r"n_fft=2147483648"),
    ("mel-n_mels-1e9", "nf.MelSpectrogram(n_mels=10**9)", "ValueError", r"n_mels=1000000000"),
    ("gamma-n_fft-2**30", "nf.Gammatonegram(n_fft=2**30)", "ValueError", r"n_fft=1073741824"),
    ("mfcc-n_mels-1e6", "nf.MFCC(n_fft=2048, n_mels=10**6, n_mfcc=20)", "ValueError", r"n_mels=1000000"),
    ("gl-n_fft-2**31", "nf.Griffin_Lim(n_fft=2**31)", "ValueError", r"n_fft=2147483648"),
    ("cqt2010v2-fmin-0.01", "nf.CQT2010v2(fmin=0.01)", "ValueError", r"fmin=0.01"),
    ("cqt1992v2-fmin-0.01", "nf.CQT1992v2(fmin=0.01)", "ValueError", r"fmin=0.01"),
    ("cqt1992-fmin-0.01", "nf.CQT1992(fmin=0.01, n_bins=84)", "ValueError", r"fmin=0.01"),
    ("cqt2010-fmin-0.01", "nf.CQT2010(fmin=0.01)", "ValueError", r"fmin=0.01"),
    ("cqt1992-fmin-8", "nf.CQT1992(fmin=8.0, n_bins=84)", "ValueError", r"fmin=8"),
    ("vqt-fmin-0.001", "nf.VQT(fmin=0.001)", "ValueError", r"fmin=0.001"),
    ("cqt-compat-fmin-0.01", "nf.CQT1992v2(fmin=0.01, nnaudio_compat=True)", "ValueError", r"fmin=0.01"),
    ("icqt-fmin-0.01", "nf.iCQT(fmin=0.01)", "ValueError", r"fmin=0.01"),
    ("cqt-bpo-1e8", "nf.CQT1992v2(fmin=100.0, n_bins=10**8, bins_per_octave=10**8)", "ValueError",
     r"n_bins=100000000"),
    ("cqt-n_bins-1e9", "nf.CQT2010v2(fmin=1e-300, n_bins=10**9, bins_per_octave=12)", "ValueError",
     r"n_bins=1000000000"),
    ("f-cqt-fmin-0.01", "AF.cqt(X, fmin=0.01)", "ValueError", r"fmin=0.01"),
    ("f-stft-n_fft-2**31", "AF.stft(X, n_fft=2**31)", "ValueError", r"n_fft=2147483648"),
    ("f-gl-n_fft-2**21", "AF.griffin_lim(torch.rand(1, 2**20 + 1, 2), n_fft=2**21)", "ValueError",
     r"n_fft=2097152"),
    ("cfp-fr-1e-6", "nf.CFP(fr=1e-6)", "ValueError", r"fr=1e-06"),
    ("cfp-NumPerOct-1e9", "nf.CFP(NumPerOct=10**9)", "ValueError", r"NumPerOct=1000000000"),
    ("b-fourier-2**31", "bases.fourier_kernels(2**31)", "ValueError", r"n_fft=2147483648"),
    ("b-window-2**31", "bases.get_window('hann', 2**31)", "ValueError", r"win_length=2147483648"),
    ("b-cqt-kernels-fmin", "bases.cqt_kernels(SR, 0.01, 84)", "ValueError", r"fmin=0.01"),
    ("b-dct-1e6", "bases.dct_matrix(10**6)", "ValueError", r"n=1000000"),
]

# Edge inputs that must keep working: (id, call, check of the result).
VALID = [
    ("stft-one-sample-centered", lambda: nf.STFT(n_fft=256, hop_length=64)(torch.randn(1)),
     lambda y: y.shape == (1, 129, 1, 2)),
    ("stft-batch-1", lambda: nf.STFT(n_fft=256)(X[:1]), lambda y: y.shape[0] == 1),
    ("stft-odd-n_fft", lambda: nf.STFT(n_fft=255, hop_length=64)(X), lambda y: y.shape[:2] == (2, 128)),
    ("stft-kaiser-tuple", lambda: nf.STFT(n_fft=256, window=("kaiser", 8.0))(X), lambda y: bool(y.isfinite().all())),
    ("stft-center-numpy-bool", lambda: nf.STFT(n_fft=256, center=np.bool_(False))(X),
     lambda y: y.shape[2] == 1 + (4096 - 256) // 64),
    ("stft-nan-passes-through", lambda: nf.STFT(n_fft=256)(torch.full((1, 1024), float("nan"))),
     lambda y: bool(y.isnan().any(dim=-1).all())),
    ("stft-empty-batch", lambda: nf.STFT(n_fft=256)(torch.zeros(0, 1000)), lambda y: y.shape == (0, 129, 16, 2)),
    ("stft-empty-batch-magnitude", lambda: AF.stft(torch.zeros(3, 0, 1000), n_fft=256, output_format="Magnitude"),
     lambda y: y.shape == (3, 0, 129, 16)),
    ("istft-empty-batch", lambda: AF.istft(torch.zeros(0, 129, 16, 2), n_fft=256), lambda y: y.shape == (0, 960)),
    ("mel-fmax-none", lambda: nf.MelSpectrogram(n_fft=512, fmax=None)(X), lambda y: y.shape[1] == 128),
    ("mel-empty-batch", lambda: nf.MelSpectrogram(n_fft=512)(torch.zeros(0, 2048)),
     lambda y: y.shape == (0, 128, 5)),
    ("mel-fmax-float-nyquist", lambda: nf.MelSpectrogram(sr=16000, n_fft=512, fmax=8000.0)(X),
     lambda y: bool(y.isfinite().all())),
    ("mel-nan-passes-through", lambda: nf.MelSpectrogram(n_fft=512)(torch.full((1, 2048), float("nan"))),
     lambda y: bool(y.isnan().any())),
    ("mfcc-top_db-none", lambda: nf.MFCC(n_mfcc=13, top_db=None)(X), lambda y: y.shape[1] == 13),
    ("cqt-fp16-state-dict", lambda: _load(nf.CQT1992v2(**CQT_KW), lambda t: t.half())(X),
     lambda y: bool(y.isfinite().all())),
    ("cqt-fp64-state-dict", lambda: _load(nf.CQT2010v2(**CQT_KW), lambda t: t.double())(X),
     lambda y: bool(y.isfinite().all())),
    ("cqt-empty-batch", lambda: nf.CQT2010v2(**CQT_KW)(torch.zeros(0, 4096)), lambda y: y.shape == (0, 36, 17)),
    ("cqt1992v2-empty-batch", lambda: nf.CQT1992v2(**CQT_KW)(torch.zeros(0, 4096)),
     lambda y: y.shape == (0, 36, 17)),
    ("cqt-nan-passes-through", lambda: nf.CQT1992v2(**CQT_KW)(torch.full((1, 4096), float("nan"))),
     lambda y: bool(y.isnan().any())),
    ("cqt-compat-empty-batch", lambda: nf.CQT2010v2(**CQT_KW, nnaudio_compat=True)(torch.zeros(0, 4096)),
     lambda y: y.shape == (0, 36, 17)),
    ("vqt-empty-batch", lambda: nf.VQT(**CQT_KW)(torch.zeros(0, 4096)), lambda y: y.shape == (0, 36, 17)),
    ("cfp-empty-batch", lambda: nf.CFP()(torch.zeros(0, 8000)), lambda y: y.shape[0] == 0 and y.dim() == 3),
    ("icqt-empty-batch", lambda: nf.iCQT(**CQT_KW)(torch.zeros(0, 36, 17, 2)), lambda y: y.shape == (0, 4096)),
    ("vqt-gamma-none", lambda: nf.VQT(**CQT_KW, gamma=None)(X), lambda y: y.shape[1] == 36),
    ("vqt-low-fmin-erb", lambda: nf.VQT(sr=SR, fmin=0.5, n_bins=12, bins_per_octave=12, gamma=None),
     lambda layer: layer.n_bins == 12),  # the tap bound counts the VQT's (short) filters, not Q·sr/fmin
    ("gl-momentum-zero", lambda: nf.Griffin_Lim(n_fft=256, hop_length=64, n_iter=2, momentum=0)(_spec()),
     lambda y: y.shape == (1, 4096)),
    ("gl-empty-batch", lambda: nf.Griffin_Lim(n_fft=256, hop_length=64, n_iter=2)(torch.zeros(0, 129, 10)),
     lambda y: y.shape == (0, 576)),
    ("cfp-batch-1", lambda: nf.CFP()(torch.randn(1, 8000)), lambda y: y.shape[0] == 1),
    ("icqt-roundtrip", lambda: nf.iCQT(**CQT_KW, n_iter=2)(_cqt_complex()), lambda y: y.shape == (1, 4096)),
    ("f-cqt-float64", lambda: AF.cqt(X.double(), **CQT_KW), lambda y: y.dtype == torch.float64),
]


def _ids(table):
    return [row[0] for row in table]


@pytest.mark.parametrize("name,call,exc,pattern", CASES, ids=_ids(CASES))
def test_bad_argument_raises_clearly(name, call, exc, pattern):
    start = time.perf_counter()
    with pytest.raises(exc, match=pattern):
        call()
    assert time.perf_counter() - start < BUDGET_S, f"{name} took {time.perf_counter() - start:.1f} s"


def test_case_ids_are_unique():
    ids = _ids(CASES) + _ids(HEAVY) + _ids(VALID)
    assert len(ids) == len(set(ids))


_CHILD = r"""
import json, resource, signal, sys, time
import numpy as np
import torch
import nnaudio_fast as nf
from nnaudio_fast import bases
from nnaudio_fast import functional as AF

# 4 GiB of address space beyond what the imports mapped (a CUDA build of torch maps gigabytes of libraries)
with open("/proc/self/status") as f:
    mapped = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
limit = mapped + (4 << 30)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

def _alarm(*_):
    raise TimeoutError("case ran past its time limit")

signal.signal(signal.SIGALRM, _alarm)
scope = dict(nf=nf, AF=AF, bases=bases, torch=torch, np=np, SR=22050,
             X=torch.randn(2, 4096, generator=torch.Generator().manual_seed(0)))
out = {}
for name, code in json.loads(sys.stdin.read()):
    signal.alarm(int(sys.argv[1]))
    start = time.perf_counter()
    try:
        exec(code, dict(scope))
        result = ["no error", ""]
    except BaseException as e:
        result = [type(e).__name__, str(e)]
    signal.alarm(0)
    out[name] = result + [time.perf_counter() - start]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def heavy_results():
    """Every :data:`HEAVY` case run once in a memory-limited child: ``{id: [exception name, message, s]}``."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the address-space limit of the child (RLIMIT_AS, /proc/self/status) needs Linux")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", _CHILD, "10"], input=json.dumps([(n, c) for n, c, _, _ in HEAVY]),
                          capture_output=True, text=True, timeout=400, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name,code,exc,pattern", HEAVY, ids=_ids(HEAVY))
def test_huge_request_fails_fast_without_allocating(heavy_results, name, code, exc, pattern):
    kind, message, seconds = heavy_results[name]
    assert kind == exc, f"{code}: {kind}: {message[:500]}"
    assert re.search(pattern, message), f"{code}: message {message!r} does not match {pattern!r}"
    assert seconds < BUDGET_S, f"{code} took {seconds:.1f} s"


@pytest.mark.parametrize("name,call,check", VALID, ids=_ids(VALID))
def test_valid_edge_inputs_keep_working(name, call, check):
    assert check(call())


def test_empty_batch_keeps_its_gradient_path():
    x = torch.zeros(0, 4096, requires_grad=True)
    nf.STFT(n_fft=256)(x).sum().backward()
    assert x.grad.shape == (0, 4096)


def test_nan_waveform_is_not_rejected_by_the_functional_api():
    x = X.clone()
    x[0, 100] = math.nan
    y = AF.mel_spectrogram(x, n_fft=512)
    assert y[1].isfinite().all() and y[0].isnan().any()
