"""torchaudio's waveform transforms ``Spectrogram``, ``MelScale``, ``MelSpectrogram`` and ``MFCC`` on this package's
backends.

The window ``w`` (``window_fn(win_length, **wkwargs)``, zero-padded about its centre to ``n_fft``, as
``torch.stft`` pads it) is the buffer ``window`` (torchaudio's key); the kernels are the fixed DFT times ``w``
(times ``1 / sqrt(Σ w²)`` for ``normalized='window'``/``True``, ``1 / sqrt(n_fft)`` for ``'frame_length'``), and
the certificate that they are (``dft_window``) lets a backend use an FFT. ``MelSpectrogram`` computes
``fb^T @ |STFT(x)|^power`` in one backend call (fused and blocked on the CPU, over the filterbank's certified
support), with the bases of its children ``spectrogram`` and ``mel_scale`` (torchaudio's state_dict keys). A
float64 input is computed with float64 bases (the window and filterbank built in float64).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import _checks, bases, functional as AF
from ..features._base import BasisModule
from ..functional.common import restore
from . import functional

__all__ = ["Spectrogram", "InverseSpectrogram", "MelScale", "MelSpectrogram", "MFCC", "LFCC", "SpectralCentroid",
           "Resample", "AmplitudeToDB", "ComputeDeltas", "FrequencyMasking", "TimeMasking", "GriffinLim",
           "InverseMelScale"]


def _window(window_fn, win_length: int, wkwargs) -> np.ndarray:
    """``window_fn(win_length, **wkwargs)`` in float64 where the function takes a dtype (torch's do)."""
    kw = dict(wkwargs or {})
    try:
        w = window_fn(win_length, dtype=torch.float64, **kw)
    except TypeError:
        w = window_fn(win_length, **kw)
    if not isinstance(w, torch.Tensor) or w.shape != (win_length,):
        raise ValueError(f"window_fn(win_length={win_length}) returned {type(w).__name__} of shape "
                         f"{getattr(w, 'shape', None)}; it must return a ({win_length},) tensor, like torch.hann_window.")
    return w.detach().to(torch.float64).numpy()


def _normalization(normalized) -> str | None:
    if normalized is True or normalized == "window":
        return "window"
    if normalized is False or normalized is None:
        return None
    return _checks.choice("normalized", normalized, ("window", "frame_length"))


def _frame_settings(module, n_fft, win_length, hop_length, pad, normalized, center, pad_mode, onesided, window_fn,
                    wkwargs, trainable_window=False) -> None:
    """The checked frame settings torchaudio's Spectrogram and InverseSpectrogram share, as attributes of
    ``module``, and the window (``window_fn(win_length, **wkwargs)``) as its basis ``window`` (a parameter with
    ``trainable_window``)."""
    module.n_fft = _checks.positive_int("n_fft", n_fft)
    module.win_length = n_fft if win_length is None else _checks.positive_int("win_length", win_length)
    if module.win_length > n_fft:
        raise ValueError(f"win_length={win_length} must not exceed n_fft={n_fft}.")
    module.hop_length = _checks.positive_int("hop_length",
                                             module.win_length // 2 if hop_length is None else hop_length)
    module.pad = _checks.positive_int("pad", pad, minimum=0)
    module.normalized = _normalization(normalized)
    module.center = _checks.boolean("center", center)
    module.pad_mode = _checks.canonical_pad_mode(pad_mode)
    module.onesided = _checks.boolean("onesided", onesided)
    module.trainable_window = _checks.boolean("trainable_window", trainable_window)
    module._add_basis("window", _window(window_fn, module.win_length, wkwargs), trainable=module.trainable_window)


class Spectrogram(BasisModule):
    """torchaudio's ``Spectrogram``: ``(..., time)`` → ``(..., n_fft // 2 + 1, frames)`` (``n_fft`` bins with
    ``onesided=False``): ``|X|^power``, or the complex spectrum with ``power=None``. Defaults as torchaudio's
    (``n_fft=400``, ``hop_length = win_length // 2``, Hann window, centred, reflect padding).
    ``trainable_window=True`` (not in torchaudio) makes the buffer ``window`` a parameter of the same key: the
    kernels stay the fixed DFT times it, so the FFT paths compute it and its gradient."""

    def __init__(self, n_fft: int = 400, win_length: int | None = None, hop_length: int | None = None, pad: int = 0,
                 window_fn=torch.hann_window, power: float | None = 2.0, normalized=False, wkwargs=None,
                 center: bool = True, pad_mode: str = "reflect", onesided: bool = True, return_complex=None,
                 backend: str | None = None, trainable_window: bool = False):
        super().__init__(backend)
        _frame_settings(self, n_fft, win_length, hop_length, pad, normalized, center, pad_mode, onesided, window_fn,
                        wkwargs, trainable_window)
        self.power = None if power is None else _checks.positive_float("power", power, " (or None for complex)")
        if return_complex is not None:
            warnings.warn("return_complex is deprecated in torchaudio and ignored here: power=None returns a complex "
                          "tensor.", DeprecationWarning, stacklevel=2)
        bins = n_fft // 2 + 1 if self.onesided else n_fft
        dcos, dsin = bases.fourier_kernels(n_fft, n_fft, bins, np.ones(n_fft), "no")
        self._add_basis("_dft_cos", dcos, trainable=False, persistent=False)
        self._add_basis("_dft_sin", dsin, trainable=False, persistent=False)

    def kernels(self, dtype):
        """``(wcos, wsin, dft_window)``: the DFT times the (padded, normalised) window, which they certify (one-sided
        spectra only: the FFT paths compute those)."""
        window = self._basis("window", dtype)
        w = functional.padded_window(window, self.n_fft, self.win_length, dtype, window.device)
        w = w / functional.norm_scale(window, self.n_fft, self.normalized)
        return (self._basis("_dft_cos", dtype) * w, self._basis("_dft_sin", dtype) * w, w if self.onesided else None)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``waveform`` ``(..., time)``."""
        x = F.pad(waveform, (self.pad, self.pad)) if self.pad else waveform
        if self.power is None:
            wcos, wsin, w = self.kernels(_checks.compute_dtype(x))
            re, im = AF.stft_from_kernels(x, wcos, wsin, self.hop_length, self.center, self.pad_mode, self.backend,
                                          dft_window=w)
            return torch.complex(re, im)
        flat, lead = x.reshape(-1, x.shape[-1]) if x.dim() else x, tuple(x.shape[:-1])
        return restore(self.plan("power", flat, (), lambda dtype: self._plan_for(flat, dtype, None, None))(flat), lead)

    def _plan_for(self, flat, dtype, fbank, support):
        wcos, wsin, w = self.kernels(dtype)
        return AF.spectrogram_plan(wcos, wsin, fbank, self.hop_length, self.center, self.pad_mode, self.power,
                                   self.backend, w, None, 1e-10, None, support, like=flat)


class MelScale(BasisModule):
    """torchaudio's ``MelScale``: ``(..., n_stft, time)`` → ``(..., n_mels, time)`` through the buffer ``fb``
    ``(n_stft, n_mels)`` (:func:`functional.melscale_fbanks`; ``f_max=None`` is ``sample_rate // 2``);
    ``trainable_fb=True`` (not in torchaudio) makes it a parameter of the same key."""

    def __init__(self, n_mels: int = 128, sample_rate: int = 16000, f_min: float = 0.0, f_max: float | None = None,
                 n_stft: int = 201, norm: str | None = None, mel_scale: str = "htk", trainable_fb: bool = False):
        super().__init__()
        self.trainable_fb = _checks.boolean("trainable_fb", trainable_fb)
        self.n_mels, self.sample_rate, self.norm, self.mel_scale = n_mels, sample_rate, norm, mel_scale
        self.f_max = float(sample_rate // 2) if f_max is None else f_max
        self.f_min = f_min
        self._add_basis("fb", bases.torchaudio_mel_filterbank(n_stft, f_min, self.f_max, n_mels, sample_rate, norm,
                                                              mel_scale), trainable=self.trainable_fb)

    def forward(self, specgram: torch.Tensor) -> torch.Tensor:
        if specgram.dim() < 2 or specgram.shape[-2] != self.fb.shape[0]:
            raise ValueError(f"specgram has shape {tuple(specgram.shape)}; MelScale(n_stft={self.fb.shape[0]}) takes "
                             f"(..., {self.fb.shape[0]}, time).")
        fb = self._basis("fb", _checks.compute_dtype(specgram, "specgram"))
        return torch.matmul(specgram.transpose(-1, -2).to(fb.dtype), fb).transpose(-1, -2)

    def _compute_facts(self) -> dict:
        """Also the filterbank's ``support`` (columns of ``fbᵀ`` each filter may be non-zero in), for the fused
        CPU path of :class:`MelSpectrogram`."""
        facts = super()._compute_facts()
        if not self.fb.requires_grad and self.fb.device.type != "meta":
            exact = (self._exact["fb"].T,) if facts["pristine"].get("fb") else ()
            facts["support"] = bases.row_support(self.fb.T, *exact)
        return facts


class InverseMelScale(MelScale):
    """torchaudio's ``InverseMelScale``: ``(..., n_mels, time)`` → ``(..., n_stft, time)``, the non-negative part of
    the least-squares solution of ``fbᵀ·S = mel`` (``torch.linalg.lstsq`` with ``driver``, as torchaudio)."""

    def __init__(self, n_stft: int, n_mels: int = 128, sample_rate: int = 16000, f_min: float = 0.0,
                 f_max: float | None = None, norm: str | None = None, mel_scale: str = "htk", driver: str = "gels"):
        super().__init__(n_mels, sample_rate, f_min, f_max, n_stft, norm, mel_scale)
        self.driver = _checks.choice("driver", driver, ("gels", "gelsy", "gelsd", "gelss"))

    def forward(self, melspec: torch.Tensor) -> torch.Tensor:
        if melspec.dim() < 2 or melspec.shape[-2] != self.n_mels:
            raise ValueError(f"melspec has shape {tuple(melspec.shape)}; it must be (..., n_mels={self.n_mels}, time).")
        dtype = _checks.compute_dtype(melspec, "melspec")
        shape = melspec.shape
        fb = self._basis("fb", dtype)
        flat = melspec.reshape((-1,) + tuple(shape[-2:])).to(dtype)
        try:
            spec = torch.relu(torch.linalg.lstsq(fb.t()[None], flat, driver=self.driver).solution)
        except torch.linalg.LinAlgError as exc:
            raise ValueError(f"InverseMelScale: the filterbank (n_mels={self.n_mels}, n_stft={fb.shape[0]}) is rank "
                             f"deficient for driver={self.driver!r} ({exc}); use driver='gelsd' (rank-revealing, CPU) "
                             "or fewer mel bands.") from None
        return spec.reshape(tuple(shape[:-2]) + (fb.shape[0], shape[-1]))


class MelSpectrogram(BasisModule):
    """torchaudio's ``MelSpectrogram``: ``(..., time)`` → ``(..., n_mels, frames)``, submodules ``spectrogram``
    and ``mel_scale``, computed as one fused backend call (see the module docstring). ``trainable_window`` and
    ``trainable_fb`` (not in torchaudio) make ``spectrogram.window`` and ``mel_scale.fb`` parameters (also through
    MFCC's ``melkwargs``)."""

    def __init__(self, sample_rate: int = 16000, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, f_min: float = 0.0, f_max: float | None = None, pad: int = 0,
                 n_mels: int = 128, window_fn=torch.hann_window, power: float = 2.0, normalized=False, wkwargs=None,
                 center: bool = True, pad_mode: str = "reflect", onesided=None, norm: str | None = None,
                 mel_scale: str = "htk", backend: str | None = None, trainable_window: bool = False,
                 trainable_fb: bool = False):
        super().__init__(backend)
        if power is None:
            raise ValueError("power=None (a complex spectrum) cannot go through a mel filterbank; use power=1.0 or 2.0.")
        if onesided is not None:
            warnings.warn("onesided is deprecated in torchaudio's MelSpectrogram and ignored (always one-sided).",
                          DeprecationWarning, stacklevel=2)
        self.sample_rate, self.n_fft, self.n_mels = sample_rate, n_fft, n_mels
        self.spectrogram = Spectrogram(n_fft=n_fft, win_length=win_length, hop_length=hop_length, pad=pad,
                                       window_fn=window_fn, power=power, normalized=normalized, wkwargs=wkwargs,
                                       center=center, pad_mode=pad_mode, onesided=True, backend=backend,
                                       trainable_window=trainable_window)
        self.mel_scale = MelScale(n_mels, sample_rate, f_min, f_max, n_fft // 2 + 1, norm, mel_scale, trainable_fb)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        spec = self.spectrogram
        x = F.pad(waveform, (spec.pad, spec.pad)) if spec.pad else waveform
        flat, lead = x.reshape(-1, x.shape[-1]) if x.dim() else x, tuple(x.shape[:-1])
        plan = self.plan("mel", flat, (spec, self.mel_scale), lambda dtype: spec._plan_for(
            flat, dtype, self.mel_scale._basis("fb", dtype).T, self.mel_scale._facts().get("support")))
        return restore(plan(flat), lead)


class MFCC(BasisModule):
    """torchaudio's ``MFCC``: ``(..., time)`` → ``(..., n_mfcc, frames)``: the DCT-II (buffer ``dct_mat``
    ``(n_mels, n_mfcc)``) of the dB mel spectrogram (``top_db=80``), or of ``log(mel + 1e-6)`` with ``log_mels``;
    the mel spectrogram is the submodule ``MelSpectrogram`` (``melkwargs``)."""

    def __init__(self, sample_rate: int = 16000, n_mfcc: int = 40, dct_type: int = 2, norm: str | None = "ortho",
                 log_mels: bool = False, melkwargs: dict | None = None, backend: str | None = None):
        super().__init__(backend)
        if dct_type != 2:
            raise ValueError(f"dct_type={dct_type} is not supported; use 2 (DCT-II), as torchaudio.")
        self.sample_rate, self.n_mfcc, self.dct_type, self.norm = sample_rate, n_mfcc, dct_type, norm
        self.top_db, self.log_mels = 80.0, _checks.boolean("log_mels", log_mels)
        self.MelSpectrogram = MelSpectrogram(sample_rate=sample_rate, backend=backend, **(melkwargs or {}))
        n_mels = self.MelSpectrogram.n_mels
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc={n_mfcc} must not exceed n_mels={n_mels}; lower n_mfcc or raise melkwargs n_mels.")
        self._add_basis("dct_mat", bases.dct_matrix(n_mels, norm)[:n_mfcc].T, trainable=False)
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        mel = self.MelSpectrogram(waveform)
        mel = torch.log(mel + 1e-6) if self.log_mels else self.amplitude_to_DB(mel)
        return torch.matmul(mel.transpose(-1, -2), self._basis("dct_mat", mel.dtype)).transpose(-1, -2)


class AmplitudeToDB(nn.Module):
    """A power (``stype='power'``) or amplitude (``'magnitude'``) spectrogram ``(..., freq, time)`` in decibels,
    ``top_db`` below each item's maximum if given (:func:`functional.amplitude_to_DB`, ``amin = 1e-10``, ``ref``
    1). Works on any layer's output, nnAudio-style layers included."""

    def __init__(self, stype: str = "power", top_db: float | None = None):
        super().__init__()
        self.stype = _checks.choice("stype", stype, ("power", "magnitude"))
        if top_db is not None:
            top_db = _checks.non_negative_float("top_db", top_db, " (or None for no clipping)")
        self.top_db = top_db
        self.multiplier = 10.0 if stype == "power" else 20.0
        self.amin = 1e-10
        self.ref_value = 1.0
        self.db_multiplier = math.log10(max(self.amin, self.ref_value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional.amplitude_to_DB(x, self.multiplier, self.amin, self.db_multiplier, self.top_db)


class ComputeDeltas(nn.Module):
    """Delta coefficients along time of ``(..., freq, time)`` (:func:`functional.compute_deltas`)."""

    def __init__(self, win_length: int = 5, mode: str = "replicate"):
        super().__init__()
        self.win_length, self.mode = win_length, mode

    def forward(self, specgram: torch.Tensor) -> torch.Tensor:
        return functional.compute_deltas(specgram, win_length=self.win_length, mode=self.mode)


class LFCC(BasisModule):
    """torchaudio's ``LFCC``: ``(..., time)`` → ``(..., n_lfcc, frames)``: the DCT-II (``dct_mat``) of the dB
    (``top_db=80``; ``log(· + 1e-6)`` with ``log_lf``) linear-filterbank spectrum (``filter_mat`` ``(n_freqs,
    n_filter)``, :func:`functional.linear_fbanks`) of the submodule ``Spectrogram`` (``speckwargs``, which may hold
    ``trainable_window``); ``trainable_fb=True`` (not in torchaudio) makes ``filter_mat`` a parameter."""

    def __init__(self, sample_rate: int = 16000, n_filter: int = 128, f_min: float = 0.0, f_max: float | None = None,
                 n_lfcc: int = 40, dct_type: int = 2, norm: str | None = "ortho", log_lf: bool = False,
                 speckwargs: dict | None = None, backend: str | None = None, trainable_fb: bool = False):
        super().__init__(backend)
        if dct_type != 2:
            raise ValueError(f"dct_type={dct_type} is not supported; use 2 (DCT-II), as torchaudio.")
        if n_lfcc > _checks.positive_int("n_filter", n_filter):
            raise ValueError(f"n_lfcc={n_lfcc} must not exceed n_filter={n_filter}.")
        self.sample_rate, self.n_filter, self.n_lfcc, self.norm = sample_rate, n_filter, n_lfcc, norm
        self.f_max = float(sample_rate // 2) if f_max is None else f_max
        self.top_db, self.log_lf = 80.0, _checks.boolean("log_lf", log_lf)
        self.Spectrogram = Spectrogram(backend=backend, **(speckwargs or {}))
        n_freqs = self.Spectrogram.n_fft // 2 + 1
        self._add_basis("filter_mat", bases.torchaudio_linear_filterbank(n_freqs, f_min, self.f_max, n_filter,
                                                                         sample_rate),
                        trainable=_checks.boolean("trainable_fb", trainable_fb))
        self._add_basis("dct_mat", bases.dct_matrix(n_filter, norm)[:n_lfcc].T, trainable=False)
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        spec = self.Spectrogram(waveform)
        spec = torch.matmul(spec.transpose(-1, -2), self._basis("filter_mat", spec.dtype)).transpose(-1, -2)
        spec = torch.log(spec + 1e-6) if self.log_lf else self.amplitude_to_DB(spec)
        return torch.matmul(spec.transpose(-1, -2), self._basis("dct_mat", spec.dtype)).transpose(-1, -2)


class SpectralCentroid(Spectrogram):
    """torchaudio's ``SpectralCentroid``: ``(..., time)`` → ``(..., frames)``, ``Σ_k f_k |X_k| / Σ_k |X_k|`` with
    ``f_k`` equally spaced from 0 to ``sample_rate // 2`` (buffer ``window``)."""

    def __init__(self, sample_rate: int, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, pad: int = 0, window_fn=torch.hann_window, wkwargs=None,
                 backend: str | None = None):
        super().__init__(n_fft=n_fft, win_length=win_length, hop_length=hop_length, pad=pad, window_fn=window_fn,
                         power=1.0, wkwargs=wkwargs, backend=backend)
        self.sample_rate = _checks.positive_float("sample_rate", sample_rate)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        spec = super().forward(waveform)
        freqs = torch.linspace(0, self.sample_rate // 2, spec.shape[-2], dtype=spec.dtype, device=spec.device)
        return (freqs[:, None] * spec).sum(dim=-2) / spec.sum(dim=-2)


class InverseSpectrogram(BasisModule):
    """torchaudio's ``InverseSpectrogram``: a complex ``(..., n_fft // 2 + 1, frames)`` spectrogram (``n_fft``
    bins with ``onesided=False``) → ``(..., time)`` by least-squares overlap-add with the window buffer
    ``window`` (:func:`nnaudio_fast.functional.istft_from_kernels`); ``length`` cuts or pads (and, as in
    torchaudio, only then is the ``pad`` removed)."""

    def __init__(self, n_fft: int = 400, win_length: int | None = None, hop_length: int | None = None, pad: int = 0,
                 window_fn=torch.hann_window, normalized=False, wkwargs=None, center: bool = True,
                 pad_mode: str = "reflect", onesided: bool = True, backend: str | None = None):
        super().__init__(backend)
        _frame_settings(self, n_fft, win_length, hop_length, pad, normalized, center, pad_mode, onesided, window_fn,
                        wkwargs)

    def forward(self, spectrogram: torch.Tensor, length: int | None = None) -> torch.Tensor:
        complex128 = isinstance(spectrogram, torch.Tensor) and spectrogram.dtype == torch.complex128
        dtype = torch.float64 if complex128 else torch.float32  # the functional checks the spectrogram itself
        return functional.inverse_spectrogram(spectrogram, length, self.pad, self._basis("window", dtype), self.n_fft,
                                              self.hop_length, self.win_length, self.normalized, self.center,
                                              self.pad_mode, self.onesided, self.backend)


class GriffinLim(Spectrogram):
    """torchaudio's ``GriffinLim``: a ``(..., n_fft // 2 + 1, frames)`` magnitude (``power`` 1) or power (2)
    spectrogram → ``(..., time)`` by fast Griffin-Lim (Perraudin et al. 2013): ``n_iter`` rounds of
    ``X ← STFT(iSTFT(S·e^{iφ}))``, ``φ`` the phase of ``X − α/(1+α)·X_prev`` (``α = momentum``); phases start
    random (``rand_init``, torch's generator) or at 0 (:func:`functional.griffinlim`). The window is the buffer
    ``window``."""

    def __init__(self, n_fft: int = 400, n_iter: int = 32, win_length: int | None = None,
                 hop_length: int | None = None, window_fn=torch.hann_window, power: float = 2.0, wkwargs=None,
                 momentum: float = 0.99, length: int | None = None, rand_init: bool = True,
                 backend: str | None = None):
        super().__init__(n_fft=n_fft, win_length=win_length, hop_length=hop_length, window_fn=window_fn, power=None,
                         wkwargs=wkwargs, backend=backend)
        self.n_iter = _checks.positive_int("n_iter", n_iter)
        self.momentum = float(momentum)
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum={momentum} must be in [0, 1).")
        self.magnitude_power = _checks.positive_float("power", power)
        self.length = None if length is None else _checks.positive_int("length", length)
        self.rand_init = _checks.boolean("rand_init", rand_init)

    def forward(self, specgram: torch.Tensor) -> torch.Tensor:
        window = self._basis("window", _checks.compute_dtype(specgram, "specgram"))
        return functional.griffinlim(specgram, window, self.n_fft, self.hop_length, self.win_length,
                                     self.magnitude_power, self.n_iter, self.momentum, self.length, self.rand_init,
                                     self.backend)


class Resample(nn.Module):
    """torchaudio's ``Resample``: ``(..., time)`` from ``orig_freq`` to ``new_freq`` by a windowed sinc
    (:func:`functional.resample`; the kernel is the non-persistent buffer ``kernel``)."""

    def __init__(self, orig_freq: int = 16000, new_freq: int = 16000, resampling_method: str = "sinc_interp_hann",
                 lowpass_filter_width: int = 6, rolloff: float = 0.99, beta: float | None = None, *, dtype=None):
        super().__init__()
        self.orig_freq, self.new_freq, self.resampling_method = orig_freq, new_freq, resampling_method
        self.lowpass_filter_width, self.rolloff, self.beta = lowpass_filter_width, rolloff, beta
        kernel, self.width, self.o, self.n = functional.sinc_resample_kernel(
            orig_freq, new_freq, lowpass_filter_width, rolloff, resampling_method, beta)
        if kernel is not None:
            self.register_buffer("kernel", torch.tensor(kernel, dtype=dtype or torch.float32), persistent=False)
            self._kernel64 = torch.tensor(kernel, dtype=torch.float64)  # float64 input: the float64 kernel

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if self.o == self.n:
            return waveform
        dtype = _checks.compute_dtype(waveform, "waveform")
        kernel = self._kernel64.to(self.kernel.device) if dtype == torch.float64 else self.kernel.to(dtype)
        return functional.apply_resample_kernel(waveform, kernel, self.width, self.o, self.n)


class _AxisMasking(nn.Module):
    def __init__(self, mask_param: int, axis: int, iid_masks: bool, p: float = 1.0):
        super().__init__()
        self.mask_param = _checks.positive_int("mask_param", mask_param, minimum=0)
        self.axis, self.iid_masks, self.p = axis, _checks.boolean("iid_masks", iid_masks), float(p)

    def forward(self, specgram: torch.Tensor, mask_value: float = 0.0) -> torch.Tensor:
        """``specgram`` ``(..., freq, time)``; with ``iid_masks`` ``(batch, channel, freq, time)``."""
        axis = self.axis + specgram.dim() - 3
        if self.iid_masks:
            return functional.mask_along_axis_iid(specgram, self.mask_param, mask_value, axis, self.p)
        return functional.mask_along_axis(specgram, self.mask_param, mask_value, axis, self.p)


class FrequencyMasking(_AxisMasking):
    """torchaudio's ``FrequencyMasking`` (SpecAugment): a band of up to ``freq_mask_param`` bins set to
    ``mask_value`` (one band for the batch, or one per example and channel with ``iid_masks``)."""

    def __init__(self, freq_mask_param: int, iid_masks: bool = False):
        super().__init__(freq_mask_param, 1, iid_masks)


class TimeMasking(_AxisMasking):
    """torchaudio's ``TimeMasking`` (SpecAugment): a band of up to ``time_mask_param`` frames (at most ``p`` of
    them) set to ``mask_value``."""

    def __init__(self, time_mask_param: int, iid_masks: bool = False, p: float = 1.0):
        super().__init__(time_mask_param, 2, iid_masks, p)
