"""The implementations compared, each built for a :class:`~.cases.Case` as ``fn(x) -> features`` on ``(B, time)``.

Every peer computes the same features: hann window (periodic), ``center=True``, ``pad_mode='reflect'``, Slaney mel
(area-normalised), power 2; log-mel is ``10·log10(max(S, 1e-10))`` without ``top_db``; MFCC is the ortho DCT-II of
that (``top_db=None``, since librosa clips over a whole batch and the layers per example); CQT is 84 bins, 12 per
octave, from 32.70 Hz, librosa's scale, reflect padding; its float64 reference is the exact single-rate transform.
iCQT: each peer inverts its own complex CQT (same parameters, ``pad_mode='constant'``, librosa's default and what
librosa.icqt assumes) of band-limited noise; only the inverse is timed, and the accuracy is the reconstruction's SNR
in dB against the input. Griffin-Lim: each peer runs ``n_iter`` iterations of the fast Griffin-Lim (momentum 0.99,
zero initial phase) from the magnitude STFT of the input (made untimed); the accuracy is the spectral convergence
``‖|STFT(y)| − S‖ / ‖S‖`` of its output ``y`` (lower is better; it measures the algorithm, not arithmetic).
A peer returns None for a case it cannot compute. ``trainable=True`` builds it with
trainable bases (fwd+bwd mode).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

import nnaudio_fast as nf
from nnaudio_fast import bases
from nnaudio_fast import functional as AF

CQT = dict(fmin=32.70, n_bins=84, bins_per_octave=12)


@dataclass
class Peer:
    name: str
    precision: str  # what the arithmetic is, stated beside the time
    build: Callable  # (case, device, trainable) -> fn or None
    devices: tuple = ("cpu", "cuda")
    backward: bool = True  # supports fwd+bwd


class Inverse:
    """A peer for an inverse transform: :meth:`prepare` makes its input from a waveform (not timed), calling it
    inverts that input (timed), and :meth:`evaluate` maps the result to what the accuracy column compares (not
    timed; by default the result itself)."""

    def __init__(self, prepare: Callable, invert: Callable, evaluate: Callable | None = None):
        self.prepare, self._invert = prepare, invert
        self.evaluate = evaluate or (lambda out: out)

    def __call__(self, coefficients):
        return self._invert(coefficients)


def _gl_magnitude(case, x):
    """The Griffin-Lim cases' target ``|STFT(x)|`` (float64 reference STFT, cast back to the input's dtype)."""
    mag = AF.stft(x.double(), n_fft=case.n_fft, hop_length=case.hop, output_format="Magnitude")
    return mag.to(x.dtype)


def _griffin_lim_peer(case, invert):
    """``invert(S) -> waveform`` as an :class:`Inverse` whose accuracy output is ``|STFT(y)|`` (spectral
    convergence against the target magnitude)."""

    def evaluate(y):
        y = torch.as_tensor(np.asarray(y)) if not isinstance(y, torch.Tensor) else y
        return _gl_magnitude(case, y.detach().cpu().to(torch.float64))

    return Inverse(lambda x: _gl_magnitude(case, x), invert, evaluate)


def band_limit(x: torch.Tensor, sr: float, band) -> torch.Tensor:
    """``x`` ``(B, N)`` with every DFT bin outside ``band = (low, high)`` Hz zeroed, scaled to peak 1."""
    spec = torch.fft.rfft(x.double().cpu())
    f = torch.fft.rfftfreq(x.shape[-1], 1.0 / sr, dtype=torch.float64)
    spec[..., (f < band[0]) | (f > band[1])] = 0
    y = torch.fft.irfft(spec, n=x.shape[-1])
    return (y / y.abs().amax(-1, keepdim=True)).to(device=x.device, dtype=x.dtype)


def _db(S):
    return 10.0 * torch.log10(torch.clamp(S, min=1e-10))


def _dct(n_mels, n_mfcc, like):
    return torch.tensor(bases.dct_matrix(n_mels, "ortho")[:n_mfcc], dtype=like.dtype, device=like.device)


# ---------------------------------------------------------------------------------------------------------------
# ours
# ---------------------------------------------------------------------------------------------------------------
def _ours(backend):
    def build(case, device, trainable):
        kw = dict(verbose=False, backend=backend)
        f = case.family
        if f == "stft":
            layer = nf.STFT(n_fft=case.n_fft, hop_length=case.hop, output_format="Magnitude", trainable=trainable, **kw)
        elif f in ("mel", "logmel"):
            layer = nf.MelSpectrogram(sr=case.sr, n_fft=case.n_fft, hop_length=case.hop, n_mels=case.n_mels,
                                      trainable_mel=trainable, trainable_STFT=trainable, **kw)
        elif f == "mfcc":
            layer = nf.MFCC(sr=case.sr, n_mfcc=case.n_mfcc, n_fft=case.n_fft, hop_length=case.hop,
                            n_mels=case.n_mels, top_db=None, trainable_mel=trainable, trainable_STFT=trainable, **kw)
        elif f == "cqt":
            if not hasattr(nf, "CQT2010v2"):
                return None
            layer = nf.CQT2010v2(sr=case.sr, hop_length=case.hop, output_format="Magnitude", trainable=trainable,
                                 **CQT, **kw)
        elif f == "icqt":
            if trainable or not hasattr(nf, "iCQT"):
                return None
            common = dict(sr=case.sr, hop_length=case.hop, pad_mode="constant", **CQT, **kw)
            forward = nf.CQT2010v2(output_format="Complex", **common).to(device)
            inverse = nf.iCQT(**common)
            return Inverse(forward, lambda C: inverse(C, length=case.samples))
        elif f == "transforms":  # torchaudio's MelSpectrogram (HTK mels, no norm), nnaudio_fast.transforms
            if trainable:
                return None
            from nnaudio_fast import transforms

            layer = transforms.MelSpectrogram(sample_rate=case.sr, n_fft=case.n_fft, hop_length=case.hop,
                                              n_mels=case.n_mels, backend=backend)
        elif f == "griffinlim":
            if trainable:
                return None
            gl = nf.Griffin_Lim(n_fft=case.n_fft, hop_length=case.hop, n_iter=case.n_iter, init=None, backend=backend)
            return _griffin_lim_peer(case, lambda S: gl(S, length=case.samples))
        else:
            return None
        layer = layer.to(device)
        if f == "logmel":
            return lambda x: _db(layer(x))
        return layer

    return build


def _reference_features(case, x):
    """The float64 ground truth for the accuracy column (reference backend, exact bases)."""
    x = x.to(torch.float64)
    f = case.family
    kw = dict(n_fft=case.n_fft, hop_length=case.hop, backend="reference")
    if f == "stft":
        return AF.stft(x, output_format="Magnitude", **kw)
    if f in ("mel", "logmel", "mfcc"):
        mel = AF.mel_spectrogram(x, sr=case.sr, n_mels=case.n_mels, **kw)
        if f == "mel":
            return mel
        if f == "logmel":
            return _db(mel)
        return _dct(case.n_mels, case.n_mfcc, mel) @ _db(mel)
    if f == "transforms":
        from nnaudio_fast import transforms

        return transforms.MelSpectrogram(sample_rate=case.sr, n_fft=case.n_fft, hop_length=case.hop,
                                         n_mels=case.n_mels, backend="reference")(x)
    if f == "cqt":
        return AF.cqt(x, sr=case.sr, hop_length=case.hop, output_format="Magnitude", multirate=False,
                      backend="reference", **CQT)
    if f == "icqt":
        return x  # a reconstruction is compared with the input itself
    if f == "griffinlim":
        return _gl_magnitude(case, x)  # the magnitude the iterations try to match
    raise ValueError(case.family)


# ---------------------------------------------------------------------------------------------------------------
# the torchaudio path: torch.stft + |X|^2 + mel matmul (+ log, DCT)
# ---------------------------------------------------------------------------------------------------------------
def _torch_pipeline(compiled: bool):
    def build(case, device, trainable):
        if case.family in ("cqt", "icqt"):
            return None
        if case.family == "griffinlim":
            return None if (trainable or compiled) else _torch_griffin_lim(case, device)
        window = torch.hann_window(case.n_fft, periodic=True, device=device)
        fb = None
        if case.family == "transforms":  # torchaudio's filterbank: HTK mels, no norm
            fb = torch.tensor(bases.torchaudio_mel_filterbank(case.n_fft // 2 + 1, 0.0, case.sr // 2, case.n_mels,
                                                              case.sr).T, dtype=torch.float32, device=device)
        elif case.family != "stft":
            fb = torch.tensor(bases.mel_filterbank(case.sr, case.n_fft, case.n_mels, norm="slaney"),
                              dtype=torch.float32, device=device)
        if trainable:
            window.requires_grad_(True)
            if fb is not None:
                fb.requires_grad_(True)
        dct = _dct(case.n_mels, case.n_mfcc, window) if case.family == "mfcc" else None

        def fn(x):
            X = torch.stft(x, case.n_fft, case.hop, window=window, center=True, pad_mode="reflect",
                           return_complex=True)
            if case.family == "stft":
                return X.abs()
            S = fb @ (X.real.square() + X.imag.square())
            if case.family in ("mel", "transforms"):
                return S
            return _db(S) if case.family == "logmel" else dct @ _db(S)

        if not compiled:
            return fn
        # Every build closes over new tensors with the same code object: start from a clean cache so guards
        # from earlier cases neither pile up to the recompile limit nor fall back to eager silently.
        torch._dynamo.reset()
        return torch.compile(fn, dynamic=False)

    return build


def _torch_griffin_lim(case, device):
    """The fast Griffin-Lim as a torch.stft / torch.istft loop (what torchaudio's GriffinLim does), zero phase."""
    window = torch.hann_window(case.n_fft, periodic=True, device=device)
    kw = dict(n_fft=case.n_fft, hop_length=case.hop, window=window, center=True)
    decay = 0.99 / 1.99

    def invert(S):
        c = S.to(torch.complex64)
        prev = None
        for _ in range(case.n_iter):
            t = torch.stft(torch.istft(c, length=case.samples, **kw), pad_mode="reflect", return_complex=True, **kw)
            c = t if prev is None else t - decay * prev
            c = S * c / (c.abs() + 1e-16)
            prev = t
        return torch.istft(c, length=case.samples, **kw)

    return _griffin_lim_peer(case, invert)


def _torchaudio(case, device, trainable):
    try:
        import torchaudio
    except Exception:
        return None
    if case.family == "transforms":
        return torchaudio.transforms.MelSpectrogram(sample_rate=case.sr, n_fft=case.n_fft, hop_length=case.hop,
                                                    n_mels=case.n_mels).to(device)
    if case.family not in ("mel", "logmel"):
        return None
    layer = torchaudio.transforms.MelSpectrogram(sample_rate=case.sr, n_fft=case.n_fft, hop_length=case.hop,
                                                 n_mels=case.n_mels, norm="slaney", mel_scale="slaney",
                                                 pad_mode="reflect", power=2.0).to(device)
    return (lambda x: _db(layer(x))) if case.family == "logmel" else layer


# ---------------------------------------------------------------------------------------------------------------
# nnAudio 0.3.4 and librosa
# ---------------------------------------------------------------------------------------------------------------
def _nnaudio(case, device, trainable):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from nnAudio import features as F
    except Exception:
        return None
    f = case.family
    if f == "stft":
        layer = F.STFT(n_fft=case.n_fft, hop_length=case.hop, output_format="Magnitude", trainable=trainable,
                       verbose=False)
    elif f in ("mel", "logmel", "mfcc"):
        layer = F.MelSpectrogram(sr=case.sr, n_fft=case.n_fft, hop_length=case.hop, n_mels=case.n_mels,
                                 trainable_mel=trainable, trainable_STFT=trainable, verbose=False)
    elif f == "cqt":
        layer = F.CQT2010v2(sr=case.sr, hop_length=case.hop, output_format="Magnitude", trainable=trainable,
                            verbose=False, **CQT)
    else:  # nnAudio 0.3.4 has no inverse CQT
        return None
    layer = layer.to(device)
    if f == "logmel":
        return lambda x: _db(layer(x))
    if f == "mfcc":
        dct = None

        def mfcc(x):
            nonlocal dct
            S = layer(x)
            dct = _dct(case.n_mels, case.n_mfcc, S) if dct is None else dct
            return dct @ _db(S)

        return mfcc
    return layer


def _librosa(case, device, trainable):
    import librosa

    f = case.family
    if f == "griffinlim":
        return _griffin_lim_peer(case, lambda S: librosa.griffinlim(
            S.detach().cpu().numpy(), n_iter=case.n_iter, hop_length=case.hop, n_fft=case.n_fft, momentum=0.99,
            init=None, length=case.samples, pad_mode="reflect"))
    if f == "icqt":
        kw = dict(sr=case.sr, hop_length=case.hop, fmin=CQT["fmin"], bins_per_octave=CQT["bins_per_octave"])
        return Inverse(
            lambda x: librosa.cqt(x.detach().cpu().numpy(), n_bins=CQT["n_bins"], pad_mode="constant", **kw),
            lambda C: librosa.icqt(C, length=case.samples, **kw),
        )

    def fn(x):
        y = x.detach().cpu().numpy()
        if f == "stft":
            return np.abs(librosa.stft(y, n_fft=case.n_fft, hop_length=case.hop, pad_mode="reflect"))
        if f == "cqt":
            return np.abs(librosa.cqt(y, sr=case.sr, hop_length=case.hop, pad_mode="reflect", **CQT))
        if f == "transforms":  # the same work: HTK mels without norm, periodic Hann, reflect padding
            return librosa.feature.melspectrogram(y=y, sr=case.sr, n_fft=case.n_fft, hop_length=case.hop,
                                                  n_mels=case.n_mels, pad_mode="reflect", htk=True, norm=None)
        S = librosa.feature.melspectrogram(y=y, sr=case.sr, n_fft=case.n_fft, hop_length=case.hop,
                                           n_mels=case.n_mels, pad_mode="reflect", norm="slaney")
        if f == "mel":
            return S
        db = librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=None)
        return db if f == "logmel" else librosa.feature.mfcc(S=db, n_mfcc=case.n_mfcc, norm="ortho")

    return fn


def _nnaudio2(case, device, trainable):
    """nnAudio2's iCQT (Landweber iterations, its default 32) on its own CQT1992v2, where nnAudio2 is installed."""
    if case.family != "icqt" or trainable:
        return None
    try:
        import os

        os.environ.setdefault("NNAUDIO_DISABLE_CITATION_REMINDER", "1")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from nnAudio2 import features as F
    except Exception:
        return None
    kw = dict(sr=case.sr, hop_length=case.hop, pad_mode="constant", verbose=False, **CQT)
    forward = F.CQT1992v2(output_format="Complex", **kw).to(device)
    inverse = F.iCQT(**kw).to(device)
    return Inverse(lambda x: forward(x, normalization_type="librosa"), lambda C: inverse(C, length=case.samples))


def peers(device: str) -> list[Peer]:
    fast = "triton" if device == "cuda" else "cpp"
    mm = "FP32" if torch.get_float32_matmul_precision() == "highest" else "TF32"
    cudnn = "TF32" if (device == "cuda" and torch.backends.cudnn.allow_tf32) else "FP32"
    return [
        Peer("nnaudio_fast", f"auto ({fast})", _ours(None)),
        Peer("nnaudio_fast[reference]", f"matmul {mm}", _ours("reference")),
        Peer("torch.stft+mel", "cuFFT/pocketfft FP32", _torch_pipeline(False)),
        Peer("torch.compile(stft+mel)", "FP32", _torch_pipeline(True)),
        Peer("torchaudio", "FP32", _torchaudio),
        Peer("nnAudio 0.3.4", f"conv1d {cudnn}", _nnaudio),
        Peer("librosa", "numpy FP32/FP64", _librosa, devices=("cpu",), backward=False),
        Peer("nnAudio2", "conv1d FP32", _nnaudio2, backward=False),
    ]
