"""Functional API on ``(..., time)`` tensors, torchaudio style.

Two levels:

* Feature functions (:func:`stft`, :func:`istft`, :func:`mel_spectrogram`, :func:`mfcc`, :func:`gammatonegram`)
  take the usual parameters, build (and cache) the bases in the input's dtype and device, and return features.
  They are exact: a float64 input gets float64 bases computed in float64.
* ``*_from_kernels`` functions take the basis tensors themselves (possibly trainable ``nn.Parameter`` s); the
  modules call these. They validate, flatten the leading dimensions, pick a backend (:mod:`nnaudio_fast.dispatch`)
  and restore the shape.

dtypes: float64 in, float64 out; float32, float16 and bfloat16 in, float32 out (power spectra overflow float16).
"""

from __future__ import annotations

import functools
import numbers
import warnings

import numpy as np
import torch

from . import _checks, bases, cqt_operator, dispatch, linear_solvers
from .reference import LOG_SCALES, canonical_pad_mode, magnitude, phase

__all__ = [
    "stft",
    "istft",
    "mel_spectrogram",
    "mfcc",
    "gammatonegram",
    "power_to_db",
    "stft_from_kernels",
    "spectrogram_from_kernels",
    "istft_from_kernels",
    "inverse_kernels",
    "OUTPUT_FORMATS",
    "cqt",
    "vqt",
    "cqt_from_kernels",
    "cqt_multirate_from_kernels",
    "cqt_output",
    "CQT_NORMALIZATIONS",
]

OUTPUT_FORMATS = ("Complex", "Magnitude", "Phase")


# ----------------------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------------------
def _flatten(x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    lead = tuple(x.shape[:-1])
    return x.reshape(-1, x.shape[-1]), lead


def _cast(t: torch.Tensor, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return t if (t.dtype == dtype and t.device == device) else t.to(device=device, dtype=dtype)


@functools.lru_cache(maxsize=128)
def _tensor_cache(builder, args, dtype, device):
    out = builder(*args)
    if isinstance(out, tuple):
        return tuple(torch.tensor(o, dtype=dtype, device=device) for o in out)
    return torch.tensor(out, dtype=dtype, device=device)


def _basis(builder, args: tuple, dtype: torch.dtype, device: torch.device):
    """``builder(*args)`` as tensors of ``dtype`` on ``device``, cached when ``args`` are hashable."""
    try:
        hash(args)
    except TypeError:
        out = builder(*args)
        if isinstance(out, tuple):
            return tuple(torch.tensor(o, dtype=dtype, device=device) for o in out)
        return torch.tensor(out, dtype=dtype, device=device)
    return _tensor_cache(builder, args, dtype, torch.device(device))


def _defaults(n_fft, hop_length, win_length):
    n_fft = _checks.positive_int("n_fft", n_fft)
    win_length = n_fft if win_length is None else _checks.positive_int("win_length", win_length)
    if win_length > n_fft:
        raise ValueError(f"win_length={win_length} must not exceed n_fft={n_fft}; set win_length <= n_fft.")
    hop_length = win_length // 4 if hop_length is None else hop_length
    hop_length = _checks.positive_int("hop_length", hop_length)
    return n_fft, hop_length, win_length


def _op(name: str, device: torch.device, backend: str | None, precision: str | None):
    """The backend's ``name`` op; ``precision`` goes to ops that declare ``takes_precision`` (the fast backends),
    the reference computes as torch's matmul settings say."""
    fn = dispatch.select(name, device, backend)
    if precision is not None and getattr(fn, "takes_precision", False):
        return functools.partial(fn, precision=precision)
    return fn


def _format(re: torch.Tensor, im: torch.Tensor, output_format: str) -> torch.Tensor:
    _checks.choice("output_format", output_format, OUTPUT_FORMATS)
    if output_format == "Complex":
        return torch.stack((re, im), -1)
    if output_format == "Magnitude":
        return magnitude(re, im)
    return phase(re, im)


# ----------------------------------------------------------------------------------------------------------------
# explicit-kernel level (what the modules call)
# ----------------------------------------------------------------------------------------------------------------
def _prepare(waveform, kernels, n_fft, hop_length, center, pad_mode):
    dtype = _checks.compute_dtype(waveform)
    _checks.positive_int("hop_length", hop_length)
    _checks.waveform_length(waveform, n_fft, center)
    pad_mode = canonical_pad_mode(pad_mode)
    x, lead = _flatten(waveform)
    x = x.to(dtype)
    kernels = [None if k is None else _cast(k, dtype, x.device) for k in kernels]
    return x, lead, kernels, pad_mode


def stft_from_kernels(
    waveform: torch.Tensor,
    wcos: torch.Tensor,
    wsin: torch.Tensor,
    hop_length: int,
    center: bool = True,
    pad_mode: str = "reflect",
    backend: str | None = None,
    dft_window: torch.Tensor | None = None,
    precision: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """STFT with given (possibly trainable) analysis kernels.

    Parameters
    ----------
    waveform : Tensor, shape ``(..., time)``
    wcos, wsin : Tensor, shape ``(freq_bins, n_fft)``
        Windowed cosine and sine kernels (:func:`nnaudio_fast.bases.fourier_kernels`).
    hop_length, center, pad_mode, backend, precision
        As in :func:`stft`.
    dft_window : Tensor ``(n_fft,)``, optional
        Certifies that the kernels are exactly the one-sided DFT kernels windowed by this window (as
        :func:`nnaudio_fast.bases.fourier_kernels` builds them), which lets a backend use an FFT. Never pass it for
        kernels that were trained or edited.

    Returns
    -------
    (real, imag) : Tensors of shape ``(..., freq_bins, n_frames)``.
    """
    if wcos.shape != wsin.shape or wcos.dim() != 2:
        raise ValueError(
            f"wcos {tuple(wcos.shape)} and wsin {tuple(wsin.shape)} must both have shape (freq_bins, n_fft)."
        )
    x, lead, (wcos, wsin, dft_window), pad_mode = _prepare(
        waveform, (wcos, wsin, dft_window), wcos.shape[-1], hop_length, center, pad_mode
    )
    _checks.precision(precision)
    re, im = _op("stft", x.device, backend, precision)(x, wcos, wsin, hop_length, center, pad_mode, dft_window)
    return re.reshape(lead + re.shape[1:]), im.reshape(lead + im.shape[1:])


def spectrogram_from_kernels(
    waveform: torch.Tensor,
    wcos: torch.Tensor,
    wsin: torch.Tensor,
    fbank: torch.Tensor | None,
    hop_length: int,
    center: bool = True,
    pad_mode: str = "reflect",
    power: float = 2.0,
    backend: str | None = None,
    dft_window: torch.Tensor | None = None,
    log: str | None = None,
    amin: float = 1e-10,
    precision: str | None = None,
) -> torch.Tensor:
    """``fbank @ |STFT(waveform)|^power`` with given kernels: shape ``(..., n_filters, n_frames)``.

    ``fbank`` is ``(n_filters, freq_bins)`` (mel, gammatone, ...) or ``None`` for the plain power spectrogram.
    ``dft_window``: as in :func:`stft_from_kernels`.
    Backends may fuse the whole chain (the linear spectrogram never reaches memory).
    ``log``: ``None``, ``'log'`` (natural), ``'log10'`` or ``'db'`` (``10·log10``) of ``max(S, amin)``, fused
    where the backend can (e.g. Whisper's features are ``log='log10'``, ``amin=1e-10`` before its clipping).
    ``precision``: see :func:`stft`.
    """
    power = _checks.positive_float("power", power)
    _checks.precision(precision)
    if log is not None:
        _checks.choice("log", log, tuple(LOG_SCALES))
        amin = _checks.positive_float("amin", amin)
    if fbank is not None and (fbank.dim() != 2 or fbank.shape[1] != wcos.shape[0]):
        raise ValueError(
            f"fbank has shape {tuple(fbank.shape)} but the STFT has {wcos.shape[0]} frequency bins; "
            f"it must be (n_filters, {wcos.shape[0]})."
        )
    x, lead, (wcos, wsin, fbank, dft_window), pad_mode = _prepare(
        waveform, (wcos, wsin, fbank, dft_window), wcos.shape[-1], hop_length, center, pad_mode
    )
    if log is None:
        out = _op("spectrogram", x.device, backend, precision)(x, wcos, wsin, fbank, hop_length, center, pad_mode,
                                                               power, dft_window)
    else:
        out = _op("log_spectrogram", x.device, backend, precision)(x, wcos, wsin, fbank, hop_length, center,
                                                                   pad_mode, power, log, amin, dft_window)
    return out.reshape(lead + out.shape[1:])


def inverse_kernels(n_fft: int, freq_bins: int, dtype=torch.float64, device=None):
    """Synthesis kernels ``(icos, isin)`` of shape ``(freq_bins, n_fft)`` for :func:`istft_from_kernels`.

    ``freq_bins = n_fft // 2 + 1`` (one-sided): ``c_k cos(2πkn/N)/N`` with ``c_k = 2`` except 1 for DC and Nyquist,
    which is the inverse real DFT (the imaginary parts of DC and Nyquist drop out, as in ``numpy.fft.irfft``).
    ``freq_bins = n_fft`` (two-sided): ``cos(2πkn/N)/N`` and ``sin(2πkn/N)/N``, the real part of the inverse DFT.
    """
    if freq_bins not in (n_fft // 2 + 1, n_fft):
        raise ValueError(
            f"a spectrogram with {freq_bins} frequency bins cannot be inverted with n_fft={n_fft}; "
            f"it needs n_fft // 2 + 1 = {n_fft // 2 + 1} (one-sided) or n_fft = {n_fft} (two-sided) bins."
        )
    return _basis(_inverse_kernels_np, (n_fft, freq_bins), dtype, device or torch.device("cpu"))


def _inverse_kernels_np(n_fft, freq_bins):
    ones = np.ones(n_fft)
    cos, sin = bases.fourier_kernels(n_fft, freq_bins=freq_bins, window=ones)
    weight = np.ones(freq_bins)
    if freq_bins != n_fft:
        weight[1:] = 2.0
        if n_fft % 2 == 0:
            weight[-1] = 1.0
    return cos * weight[:, None] / n_fft, sin * weight[:, None] / n_fft


def istft_from_kernels(
    real: torch.Tensor,
    imag: torch.Tensor,
    icos: torch.Tensor,
    isin: torch.Tensor,
    window: torch.Tensor,
    hop_length: int,
    center: bool = True,
    length: int | None = None,
    backend: str | None = None,
    dft: bool = False,
) -> torch.Tensor:
    """Inverse STFT with given synthesis kernels (:func:`inverse_kernels`) and window ``(n_fft,)``.

    ``real``, ``imag``: ``(..., freq_bins, n_frames)``. Returns ``(..., length)``.
    ``dft=True`` certifies that ``icos``/``isin`` are exactly :func:`inverse_kernels`, which lets a backend use an
    inverse FFT; never pass it for trained or edited kernels.
    """
    dtype = _checks.compute_dtype(real, "spectrogram")
    _checks.positive_int("hop_length", hop_length)
    if length is not None:
        _checks.positive_int("length", length)
    if real.shape[-2] != icos.shape[0]:
        raise ValueError(
            f"the spectrogram has {real.shape[-2]} frequency bins but the synthesis kernels expect {icos.shape[0]}."
        )
    lead = tuple(real.shape[:-2])
    re = real.reshape((-1,) + tuple(real.shape[-2:])).to(dtype)
    im = imag.reshape((-1,) + tuple(imag.shape[-2:])).to(dtype)
    icos, isin, window = (_cast(t, dtype, re.device) for t in (icos, isin, window))
    fn = dispatch.select("istft", re.device, backend)
    y = fn(re, im, icos, isin, window, hop_length, center, length, dft)
    return y.reshape(lead + y.shape[-1:])


# ----------------------------------------------------------------------------------------------------------------
# feature functions
# ----------------------------------------------------------------------------------------------------------------
def stft(
    waveform: torch.Tensor,
    n_fft: int = 2048,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "reflect",
    output_format: str = "Complex",
    freq_bins: int | None = None,
    freq_scale: str = "no",
    fmin: float = 50.0,
    fmax: float = 6000.0,
    sr: float = 22050,
    backend: str | None = None,
    precision: str | None = None,
) -> torch.Tensor:
    """Short-time Fourier transform of ``(..., time)`` signals.

    ``X[k, t] = Σ_n w[n] x[t·hop + n] e^{−2πi f_k n / n_fft}`` with the signal padded by ``n_fft // 2`` on both
    sides when ``center`` (so frame ``t`` is centred on sample ``t·hop``). Matches ``librosa.stft`` and
    ``torch.stft`` given the same window and ``pad_mode``.

    Parameters
    ----------
    waveform : Tensor, shape ``(..., time)``
    n_fft : int
        Frame length and DFT size (any positive integer, not only powers of two).
    hop_length : int, optional
        Samples between frames; default ``win_length // 4``.
    win_length : int, optional
        Window length, ``<= n_fft``; the window is zero-padded to ``n_fft`` on both sides. Default ``n_fft``.
    window : str, tuple, float or array_like
        A :func:`scipy.signal.get_window` spec (periodic) or the window samples.
    center : bool
        Pad so frames are centred on ``t·hop``. Default True.
    pad_mode : {'reflect', 'constant', 'replicate', 'circular'}
        Padding when ``center``; ``'reflect'`` works for any signal length (it keeps reflecting, like
        :func:`numpy.pad`). Note librosa >= 0.10 defaults to ``'constant'``, nnAudio and torch to ``'reflect'``.
    output_format : {'Complex', 'Magnitude', 'Phase'}
        ``'Complex'``: real and imaginary parts stacked on a trailing axis of size 2.
    freq_bins, freq_scale, fmin, fmax, sr
        nnAudio's bin placement (:func:`nnaudio_fast.bases.fourier_bin_frequencies`); the default is the plain
        one-sided DFT, ``n_fft // 2 + 1`` bins.
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.
    precision : {None, 'exact', 'ieee', 'tf32', 'bf16'}, optional
        Matmul precision of the fast (Triton) backend: ``None`` follows ``torch.get_float32_matmul_precision()``
        ('highest' → 'exact', 'high' → 'tf32', 'medium' → 'bf16'). 'exact' and 'ieee' are FP32-class (≤ 1e-5
        relative error), 'tf32' ≈ 1e-3, 'bf16' ≈ 1e-2. The reference backend ignores it.

    Returns
    -------
    Tensor, shape ``(..., freq_bins, n_frames)`` or ``(..., freq_bins, n_frames, 2)`` for ``'Complex'``, where
    ``n_frames = 1 + (time + 2·(n_fft // 2) − n_fft) // hop_length`` when ``center`` (``1 + time // hop_length`` for
    even ``n_fft``, one fewer for odd ``n_fft`` when ``hop_length`` divides ``time``), else
    ``1 + (time − n_fft) // hop_length``.
    """
    n_fft, hop_length, win_length = _defaults(n_fft, hop_length, win_length)
    _checks.choice("output_format", output_format, OUTPUT_FORMATS)
    dtype = _checks.compute_dtype(waveform)
    wcos, wsin = _basis(
        bases.fourier_kernels,
        (n_fft, win_length, freq_bins, window, freq_scale, fmin, fmax, sr),
        dtype,
        waveform.device,
    )
    plain_dft = freq_scale == "no" and wcos.shape[0] == n_fft // 2 + 1
    win = _basis(bases.get_window, (window, win_length, n_fft), dtype, waveform.device) if plain_dft else None
    if output_format == "Magnitude":  # the fused |X| epilogue: half the bytes of (re, im)
        return spectrogram_from_kernels(waveform, wcos, wsin, None, hop_length, center, pad_mode, 1.0, backend,
                                        dft_window=win, precision=precision)
    re, im = stft_from_kernels(waveform, wcos, wsin, hop_length, center, pad_mode, backend, dft_window=win,
                               precision=precision)
    return _format(re, im, output_format)


def istft(
    spectrogram: torch.Tensor,
    n_fft: int = 2048,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    length: int | None = None,
    backend: str | None = None,
) -> torch.Tensor:
    """Inverse STFT (least-squares overlap-add, as ``librosa.istft``).

    Parameters
    ----------
    spectrogram : Tensor
        ``(..., freq_bins, n_frames, 2)`` real/imaginary pairs (``stft(..., output_format='Complex')``) or a complex
        tensor ``(..., freq_bins, n_frames)``. ``freq_bins`` is ``n_fft // 2 + 1`` (one-sided) or ``n_fft``
        (two-sided; the imaginary part of the inverse is discarded).
    length : int, optional
        Output length; the signal is cut or zero-padded to it. Default: ``hop·(n_frames − 1)`` when ``center``.

    Returns
    -------
    Tensor, shape ``(..., length)``.
    """
    n_fft, hop_length, win_length = _defaults(n_fft, hop_length, win_length)
    re, im = _split_complex(spectrogram)
    dtype = _checks.compute_dtype(re, "spectrogram")
    icos, isin = inverse_kernels(n_fft, re.shape[-2], dtype, re.device)
    win = _basis(bases.get_window, (window, win_length, n_fft), dtype, re.device)
    return istft_from_kernels(re, im, icos, isin, win, hop_length, center, length, backend, dft=True)


def _split_complex(spec: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(spec, torch.Tensor):
        raise ValueError(f"spectrogram must be a torch.Tensor, got {type(spec).__name__}.")
    if spec.is_complex():
        return spec.real, spec.imag
    if spec.dim() < 3 or spec.shape[-1] != 2:
        raise ValueError(
            f"spectrogram has shape {tuple(spec.shape)}; the inverse needs a complex spectrogram, either a complex "
            "tensor (..., freq_bins, n_frames) or real/imaginary pairs (..., freq_bins, n_frames, 2). For a "
            "magnitude spectrogram use Griffin-Lim."
        )
    return spec[..., 0], spec[..., 1]


def _filterbank_spectrogram(waveform, fbank_builder, fbank_args, n_fft, hop_length, win_length, window, center,
                            pad_mode, power, backend, precision=None):
    n_fft, hop_length, win_length = _defaults(n_fft, hop_length, win_length)
    dtype = _checks.compute_dtype(waveform)
    wcos, wsin = _basis(bases.fourier_kernels, (n_fft, win_length, None, window), dtype, waveform.device)
    win = _basis(bases.get_window, (window, win_length, n_fft), dtype, waveform.device)
    fbank = _basis(fbank_builder, fbank_args, dtype, waveform.device)
    return spectrogram_from_kernels(waveform, wcos, wsin, fbank, hop_length, center, pad_mode, power, backend,
                                    dft_window=win, precision=precision)


def mel_spectrogram(
    waveform: torch.Tensor,
    sr: float = 22050,
    n_fft: int = 2048,
    win_length: int | None = None,
    n_mels: int = 128,
    hop_length: int = 512,
    window="hann",
    center: bool = True,
    pad_mode: str = "reflect",
    power: float = 2.0,
    htk: bool = False,
    fmin: float = 0.0,
    fmax: float | None = None,
    norm=1,
    backend: str | None = None,
    precision: str | None = None,
) -> torch.Tensor:
    """Mel spectrogram ``M @ |STFT(x)|^power`` of ``(..., time)`` signals: shape ``(..., n_mels, n_frames)``.

    Defaults are nnAudio's ``MelSpectrogram``'s. ``norm=1`` (nnAudio) and ``norm='slaney'`` (librosa) both mean
    Slaney's area normalisation; see :func:`nnaudio_fast.bases.mel_filterbank`. Equals
    ``librosa.feature.melspectrogram`` with the same explicit parameters (and ``norm='slaney'``).
    """
    sr = _checks.positive_float("sr", sr)
    n_mels = _checks.positive_int("n_mels", n_mels)
    return _filterbank_spectrogram(
        waveform, bases.mel_filterbank, (sr, n_fft, n_mels, fmin, fmax, htk, norm), n_fft, hop_length, win_length,
        window, center, pad_mode, power, backend, precision,
    )


def gammatonegram(
    waveform: torch.Tensor,
    sr: float = 22050,
    n_fft: int = 2048,
    win_length: int | None = None,
    n_bins: int = 64,
    hop_length: int = 512,
    window="hann",
    center: bool = True,
    pad_mode: str = "reflect",
    power: float = 2.0,
    fmin: float = 0.0,
    fmax: float | None = None,
    backend: str | None = None,
    precision: str | None = None,
) -> torch.Tensor:
    """Gammatone spectrogram ``G @ |STFT(x)|^power``: shape ``(..., n_bins, n_frames)``.

    ``G`` is :func:`nnaudio_fast.bases.gammatone_filterbank` (Slaney's gammatone, ERB-spaced, unit gain at each
    centre frequency, times ``1/n_fft``), nnAudio's ``Gammatonegram``.
    """
    sr = _checks.positive_float("sr", sr)
    n_bins = _checks.positive_int("n_bins", n_bins)
    return _filterbank_spectrogram(
        waveform, bases.gammatone_filterbank, (sr, n_fft, n_bins, fmin, fmax), n_fft, hop_length, win_length,
        window, center, pad_mode, power, backend, precision,
    )


def power_to_db(spec: torch.Tensor, ref=1.0, amin=1e-10, top_db: float | None = 80.0) -> torch.Tensor:
    """``10·log10(max(S, amin) / max(amin, |ref|))``, clipped ``top_db`` below each example's maximum.

    ``spec``: ``(..., freq, time)``; the maximum is taken per ``(freq, time)`` slice (per example and channel),
    where ``librosa.power_to_db`` takes it over the whole array; the two agree for a single example.
    ``ref`` and ``amin`` may be numbers or 0-d/1-element tensors (the modules keep them as buffers).
    """
    if not isinstance(amin, torch.Tensor):
        amin = _checks.positive_float("amin", amin)
    if top_db is not None and top_db < 0:
        raise ValueError(f"top_db={top_db!r} must be non-negative (or None for no clipping).")
    amin_t = torch.as_tensor(amin, dtype=spec.dtype, device=spec.device)
    ref_t = torch.as_tensor(ref, dtype=spec.dtype, device=spec.device).abs()
    db = 10.0 * torch.log10(torch.maximum(spec, amin_t)) - 10.0 * torch.log10(torch.maximum(amin_t, ref_t))
    if top_db is not None:
        peak = db.amax(dim=(-2, -1), keepdim=True)
        db = torch.maximum(db, peak - float(top_db))
    return db


def mfcc(
    waveform: torch.Tensor,
    sr: float = 22050,
    n_mfcc: int = 20,
    dct_norm: str | None = "ortho",
    ref: float = 1.0,
    amin: float = 1e-10,
    top_db: float | None = 80.0,
    n_fft: int = 2048,
    win_length: int | None = None,
    n_mels: int = 128,
    hop_length: int = 512,
    window="hann",
    center: bool = True,
    pad_mode: str = "reflect",
    power: float = 2.0,
    htk: bool = False,
    fmin: float = 0.0,
    fmax: float | None = None,
    mel_norm=1,
    backend: str | None = None,
    precision: str | None = None,
) -> torch.Tensor:
    """MFCC: DCT-II of the dB mel spectrogram, first ``n_mfcc`` coefficients: shape ``(..., n_mfcc, n_frames)``.

    Equals ``librosa.feature.mfcc`` (``dct_type=2``, same ``norm`` and mel parameters) per example.
    """
    n_mfcc = _checks.positive_int("n_mfcc", n_mfcc)
    if n_mfcc > n_mels:
        raise ValueError(f"n_mfcc={n_mfcc} must not exceed n_mels={n_mels}.")
    mel = mel_spectrogram(waveform, sr, n_fft, win_length, n_mels, hop_length, window, center, pad_mode, power, htk,
                          fmin, fmax, mel_norm, backend, precision)
    db = power_to_db(mel, ref, amin, top_db)
    dct = _basis(bases.dct_matrix, (n_mels, dct_norm), db.dtype, db.device)[:n_mfcc]
    return torch.matmul(dct, db)


# ----------------------------------------------------------------------------------------------------------------
# Griffin-Lim: magnitude spectrogram → waveform
# ----------------------------------------------------------------------------------------------------------------
__all__ += ["griffin_lim", "griffin_lim_from_kernels"]

GRIFFIN_LIM_INITS = ("random", None)


def _initial_phase(S: torch.Tensor, init, generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``S · e^{iφ}`` as (real, imag): ``φ = 0`` (``init=None``) or uniform on ``[0, 2π)``."""
    if init is None:
        return S, torch.zeros_like(S)
    if generator is None:
        phi = torch.rand(S.shape, dtype=S.dtype, device=S.device)
    else:
        if isinstance(generator, torch.Generator):
            gen = generator
        elif isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
            gen = torch.Generator().manual_seed(int(generator))  # CPU draw: the same phases on every device
        else:
            raise ValueError(
                f"generator={generator!r} must be a torch.Generator, an integer seed, or None (global RNG)."
            )
        phi = torch.rand(S.shape, dtype=S.dtype, device=gen.device, generator=gen)
        phi = phi.to(S.device)
    phi = phi * (2.0 * np.pi)
    return S * torch.cos(phi), S * torch.sin(phi)


def _freq_axis_message(shape: tuple, n_fft: int, n_bins: int) -> str:
    msg = (f"spectrogram has shape {shape}: {shape[-2] if len(shape) > 1 else 0} frequency bins on its "
           f"second-to-last axis, but n_fft={n_fft} needs {n_bins}, in the (..., freq_bins, n_frames) layout")
    if len(shape) > 1 and shape[-1] == n_bins:
        return msg + "; it looks like (..., n_frames, freq_bins): transpose the last two axes."
    return msg + "; pass the n_fft the spectrogram was computed with."


def _griffin_lim_frames(n_frames: int, n_fft: int, hop_length: int, center: bool, length: int | None) -> None:
    """``length`` must give back ``n_frames`` frames, or the iterations cannot compare spectrograms."""
    if length is None:
        return
    frames = 1 + length // hop_length if center else 1 + (length - n_fft) // hop_length
    if frames != n_frames:
        lo = hop_length * (n_frames - 1) + (0 if center else n_fft)
        raise ValueError(
            f"length={length} gives {frames} STFT frames but the spectrogram has {n_frames}; with "
            f"hop_length={hop_length} and center={center} use a length in [{lo}, {lo + hop_length - 1}] "
            "(or length=None)."
        )


def griffin_lim_from_kernels(
    spectrogram: torch.Tensor,
    wcos: torch.Tensor,
    wsin: torch.Tensor,
    icos: torch.Tensor,
    isin: torch.Tensor,
    window: torch.Tensor,
    hop_length: int,
    n_iter: int = 32,
    momentum: float = 0.99,
    center: bool = True,
    pad_mode: str = "reflect",
    length: int | None = None,
    init: str | None = "random",
    generator=None,
    backend: str | None = None,
    dft: bool = False,
) -> torch.Tensor:
    """Fast Griffin-Lim with given analysis kernels ``(wcos, wsin)``, synthesis kernels ``(icos, isin)`` and window.

    Perraudin, Balazs & Søndergaard (2013), "A fast Griffin-Lim algorithm", WASPAA. With ``P₁`` the projection on
    consistent spectrograms (``STFT ∘ iSTFT``, the iSTFT being the least-squares one) and ``P₂(c) = S·c/|c|`` the
    projection on spectrograms of magnitude ``S``, the iteration is

        tₙ = P₁(cₙ₋₁),    cₙ = P₂(tₙ + α(tₙ − tₙ₋₁))    (t₀ = 0, c₀ = S·e^{iφ₀}),

    and the output is ``iSTFT(c_{n_iter})``. Since ``P₂`` keeps only the phase of its argument, it is computed as
    ``P₂(tₙ − α/(1+α)·tₙ₋₁)``; ``c/|c|`` is ``c/(|c| + tiny)`` so silent bins stay 0. This is the update order of
    ``librosa.griffinlim``, so with the same start (``init=None``) both produce the same signal.

    ``spectrogram``: magnitudes ``S``, ``(..., freq_bins, n_frames)``, non-negative; the other arguments as in
    :func:`griffin_lim`. ``dft=True`` certifies that the kernels are the plain windowed DFT and its inverse (as
    :func:`griffin_lim` builds them), which lets backends use FFTs.
    Returns ``(..., length)``. Each iteration calls :func:`istft_from_kernels` and :func:`stft_from_kernels`, so the
    dispatcher's fastest backend for the device runs them.
    """
    dtype = _checks.compute_dtype(spectrogram, "spectrogram")
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    _checks.positive_int("hop_length", hop_length)
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not momentum >= 0:
        raise ValueError(f"momentum={momentum!r} must be a number >= 0 (0 is the original Griffin-Lim; 0.99 is fast).")
    if momentum > 1:
        warnings.warn(f"Griffin-Lim with momentum={momentum} > 1 can be unstable.", stacklevel=2)
    _checks.choice("init", init, GRIFFIN_LIM_INITS)
    pad_mode = canonical_pad_mode(pad_mode)
    n_fft = wcos.shape[-1]
    if spectrogram.dim() < 2 or spectrogram.shape[-2] != wcos.shape[0]:
        raise ValueError(_freq_axis_message(tuple(spectrogram.shape), n_fft, wcos.shape[0]))
    if length is not None:
        _checks.positive_int("length", length)
    _griffin_lim_frames(spectrogram.shape[-1], n_fft, hop_length, center, length)
    lead = tuple(spectrogram.shape[:-2])
    S = spectrogram.reshape((-1,) + tuple(spectrogram.shape[-2:])).to(dtype)
    if not bool((S >= 0).all()):
        raise ValueError(
            "spectrogram has negative or NaN values; Griffin-Lim needs a magnitude (power=1) or power spectrogram."
        )
    wcos, wsin, icos, isin, window = (_cast(t, dtype, S.device) for t in (wcos, wsin, icos, isin, window))
    tiny = torch.finfo(dtype).tiny
    decay = momentum / (1.0 + momentum)

    dft_window = window if dft else None

    def inverse(re, im):
        return istft_from_kernels(re, im, icos, isin, window, hop_length, center, length, backend, dft)

    re, im = _initial_phase(S, init, generator)
    prev = None
    for _ in range(n_iter):
        t_re, t_im = stft_from_kernels(inverse(re, im), wcos, wsin, hop_length, center, pad_mode, backend,
                                       dft_window)
        if prev is None:
            re, im = t_re, t_im
        else:
            re, im = t_re - decay * prev[0], t_im - decay * prev[1]
        scale = S / (magnitude(re, im) + tiny)
        re, im = re * scale, im * scale
        prev = (t_re, t_im)
    y = inverse(re, im)
    return y.reshape(lead + y.shape[-1:])


def griffin_lim(
    spectrogram: torch.Tensor,
    n_fft: int | None = None,
    n_iter: int = 32,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "reflect",
    momentum: float = 0.99,
    power: float = 1.0,
    length: int | None = None,
    init: str | None = "random",
    generator=None,
    backend: str | None = None,
) -> torch.Tensor:
    """Waveform whose STFT magnitude approximates ``spectrogram``, by the fast Griffin-Lim algorithm.

    See :func:`griffin_lim_from_kernels` for the iteration (Perraudin et al. 2013, ``librosa.griffinlim``'s update
    order).

    Parameters
    ----------
    spectrogram : Tensor, shape ``(..., n_fft // 2 + 1, n_frames)``
        Magnitude (``power=1``) or power (``power=2``) spectrogram, non-negative, in :func:`stft`'s layout.
    n_fft : int, optional
        DFT size; default ``2 · (freq_bins − 1)``.
    n_iter : int
        Iterations. Default 32.
    hop_length, win_length, window, center, pad_mode
        Those of the STFT that produced the spectrogram (the defaults are :func:`stft`'s: ``hop = win_length // 4``,
        ``'hann'``, centred, ``'reflect'``; librosa >= 0.10 pads with ``'constant'``).
    momentum : float
        ``α`` of the fast Griffin-Lim; 0 is the original algorithm. Default 0.99.
    power : float
        The spectrogram is ``|X|^power``; its ``1/power``-th root is the magnitude used. Default 1.
    length : int, optional
        Output length, exactly (and the length of every intermediate signal, as in librosa).
    init : {'random', None}
        Initial phase: uniform random, or 0 (``None``).
    generator : torch.Generator or int, optional
        Random source for ``init='random'``: a generator (drawn on its device), or a seed (drawn on the CPU, so
        the same seed gives the same phases on every device). Default: the global RNG of the input's device.
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.

    Returns
    -------
    Tensor, shape ``(..., length)``; ``length`` defaults to ``hop_length · (n_frames − 1)`` when ``center``.
    """
    if not isinstance(spectrogram, torch.Tensor) or spectrogram.dim() < 2:
        shape = tuple(spectrogram.shape) if isinstance(spectrogram, torch.Tensor) else type(spectrogram).__name__
        raise ValueError(f"spectrogram must be a tensor of shape (..., freq_bins, n_frames), got {shape}.")
    dtype = _checks.compute_dtype(spectrogram, "spectrogram")
    n_bins = spectrogram.shape[-2]
    if n_fft is None:
        if n_bins < 2:
            raise ValueError(f"spectrogram has {n_bins} frequency bin(s); pass n_fft explicitly.")
        n_fft = 2 * (n_bins - 1)
    n_fft, hop_length, win_length = _defaults(n_fft, hop_length, win_length)
    if n_bins != n_fft // 2 + 1:
        raise ValueError(_freq_axis_message(tuple(spectrogram.shape), n_fft, n_fft // 2 + 1))
    power = _checks.positive_float("power", power)
    mag = spectrogram.to(dtype)
    if power != 1.0:
        mag = mag ** (1.0 / power)  # negative entries become NaN, which griffin_lim_from_kernels rejects
    device = spectrogram.device
    wcos, wsin = _basis(bases.fourier_kernels, (n_fft, win_length, None, window), dtype, device)
    icos, isin = inverse_kernels(n_fft, n_bins, dtype, device)
    win = _basis(bases.get_window, (window, win_length, n_fft), dtype, device)
    return griffin_lim_from_kernels(mag, wcos, wsin, icos, isin, win, hop_length, n_iter, momentum, center, pad_mode,
                                    length, init, generator, backend, dft=True)


# ----------------------------------------------------------------------------------------------------------------
# Combined frequency and periodicity (CFP): spectrum × generalised cepstrum on a log-frequency grid
# ----------------------------------------------------------------------------------------------------------------
__all__ += ["cfp", "cfp_from_bases", "cfp_settings"]

_CFP_LOG_EPS = 1e-8  # log(relu(x) + eps) for an exponent of 0, as the reference code


def cfp_settings(fr=2, fs=16000, hop_length=320, window_size=2049, fc=80, tc=1 / 1000, g=(0.24, 0.6, 1),
                 NumPerOct=48) -> dict:
    """Validated CFP parameters and the sizes derived from them (nnAudio's attribute names).

    Returns a dict with ``N`` (DFT size ``int(fs / fr)``), ``hop_length``, ``window_size``, ``g`` (a tuple),
    ``fc_idx = round(fc / fr)`` (spectral high-pass: bins below ``fc`` are cleared), ``tc_idx = round(fs · tc)``
    (cepstral high-pass: quefrencies below ``tc`` are cleared), ``HighFreqIdx = round(1 / (tc · fr)) + 1`` and
    ``HighQuefIdx = round(fs / fc) + 1`` (the bins kept for the log-frequency maps).
    """
    fr = _checks.positive_float("fr", fr)
    fs = _checks.positive_float("fs", fs)
    fc = _checks.positive_float("fc", fc)
    tc = _checks.positive_float("tc", tc)
    hop_length = _checks.positive_int("hop_length", hop_length)
    window_size = _checks.positive_int("window_size", window_size)
    NumPerOct = _checks.positive_int("NumPerOct", NumPerOct)
    n_fft = int(fs / fr)
    if window_size > n_fft:
        raise ValueError(
            f"window_size={window_size} exceeds the DFT size int(fs / fr) = {n_fft}; lower window_size or fr."
        )
    try:
        g = tuple(float(v) for v in g)
    except TypeError:
        raise ValueError(f"g={g!r} must be a sequence of exponents such as [0.24, 0.6, 1].") from None
    if len(g) < 2 or any(not v >= 0 for v in g):
        raise ValueError(
            f"g={list(g)!r} must hold at least two non-negative exponents (spectrum, cepstrum[, spectrum, ...]); "
            "0 means a logarithm."
        )
    if not fc * 2.0 ** (2.0 / NumPerOct) < 1.0 / tc:
        raise ValueError(
            f"fc={fc} and tc={tc} leave fewer than 3 log-frequency bins between fc and 1/tc = {1 / tc:g} Hz; "
            "raise 1/tc, lower fc or raise NumPerOct."
        )
    settings = dict(
        N=n_fft, hop_length=hop_length, window_size=window_size, g=g, fr=fr, fs=fs, fc=fc, tc=tc,
        NumPerOct=NumPerOct, fc_idx=int(round(fc / fr)), tc_idx=int(round(fs * tc)),
        HighFreqIdx=int(round((1.0 / tc) / fr) + 1), HighQuefIdx=int(round(fs / fc) + 1),
    )
    if settings["HighFreqIdx"] > n_fft // 2:
        raise ValueError(f"tc={tc}: 1/tc = {1 / tc:g} Hz must stay below the Nyquist frequency fs/2 = {fs / 2:g} Hz.")
    if settings["HighQuefIdx"] > n_fft // 2:
        raise ValueError(
            f"fc={fc} Hz is too low for fr={fr}: its period fs/fc = {fs / fc:g} samples must be below N/2 = "
            f"{n_fft // 2}; raise fc or lower fr."
        )
    return settings


class _SafePow(torch.autograd.Function):
    """``x^γ`` for ``x >= 0`` in one pass, whose gradient is 0 (not inf or NaN) at ``x = 0`` when ``γ < 1``."""

    @staticmethod
    def forward(ctx, x, gamma):
        y = x.pow(gamma)
        ctx.gamma = gamma
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        slope = torch.where(x > 0, ctx.gamma * y / torch.where(x > 0, x, torch.ones_like(x)), torch.zeros_like(x))
        return grad * slope, None


def _safe_pow(x: torch.Tensor, gamma: float) -> torch.Tensor:
    return x if gamma == 1.0 else _SafePow.apply(x, float(gamma))


def _even_extension(half: torch.Tensor, n: int) -> torch.Tensor:
    """``(..., n//2 + 1)`` → ``(..., n)`` with ``y[n − k] = y[k]``: the full real part of a real signal's DFT."""
    return torch.cat((half, half[..., 1 : (n + 1) // 2].flip(-1)), -1)


def _cfp_activation(half: torch.Tensor, gamma: float, cutoff: int) -> torch.Tensor:
    """``σ_γ`` on the first half of an even sequence: ReLU, high-pass (clear bins ``0 … cutoff − 1``; their mirror
    images follow in :func:`_even_extension`), then ``(·)^γ`` (``γ = 0``: ``log(· + 1e-8)``, the cleared bins
    0 after the logarithm, as in the reference code)."""
    keep = torch.ones(half.shape[-1], dtype=half.dtype, device=half.device)
    keep[:cutoff] = 0  # cutoff >= 1 (cfp_settings)
    if gamma == 0:
        return torch.log(torch.relu(half) + _CFP_LOG_EPS) * keep
    return _safe_pow(torch.relu(half) * keep, gamma)


def _cfp_extend(half: torch.Tensor, n: int, cutoff: int, compat: bool) -> torch.Tensor:
    """The full sequence after :func:`_cfp_activation`; the reference code's high-pass also clears bin
    ``n − cutoff``, whose mirror image ``cutoff`` it keeps (``compat``)."""
    full = _even_extension(half, n)
    if not compat:
        return full
    keep = torch.ones(n, dtype=full.dtype, device=full.device)
    keep[n - cutoff] = 0
    return full * keep


def cfp_from_bases(
    waveform: torch.Tensor,
    window: torch.Tensor,
    freq_map: torch.Tensor,
    quef_map: torch.Tensor,
    settings: dict,
    nnaudio_compat: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """CFP of ``(..., time)`` signals with given window ``(window_size,)`` and log-frequency maps.

    ``settings`` is :func:`cfp_settings`'s dict. Returns ``(Z, tfrL0, tfrLF, tfrLQ)``, each
    ``(..., n_bins, n_frames)`` with ``n_frames = 1 + (time + 2·(N//2) − N) // hop_length``; see :func:`cfp`.
    """
    dtype = _checks.compute_dtype(waveform)
    n, hop, size = settings["N"], settings["hop_length"], window.shape[-1]
    _checks.waveform_length(waveform, n, center=True)
    x, lead = _flatten(waveform)
    x = x.to(dtype)
    window, freq_map, quef_map = (_cast(t, dtype, x.device) for t in (window, freq_map, quef_map))
    # Frames of N samples centred on t·hop (zero padding, as torch.stft(center=True, pad_mode='constant')); the
    # window covers samples [lpad, lpad + size) of each frame and the DFT magnitude ignores that circular shift,
    # so only those samples are framed and the DFT zero-pads them to N.
    n_frames = 1 + (x.shape[-1] + 2 * (n // 2) - n) // hop
    lpad = (n - size) // 2
    xp = torch.nn.functional.pad(x, (n // 2 - lpad, n // 2))
    frames = xp.unfold(-1, size, hop)[:, :n_frames]
    scale_fft = 1.0 / np.sqrt(n)
    tfr0 = torch.fft.rfft(frames * window, n=n).abs() / torch.linalg.vector_norm(window)
    # Every sequence below is even (the real part of a real signal's DFT) up to the high-pass, so the nonlinearity
    # runs on the first half and the full sequence is rebuilt only as the input of the next DFT.
    g = settings["g"]
    spec = torch.log(tfr0 + _CFP_LOG_EPS) if g[0] == 0 else _safe_pow(tfr0, g[0])
    ceps = None
    for layer, gamma in enumerate(g[1:], start=1):
        quefrency = layer % 2 == 1  # spectrum → generalised cepstrum (high-passed in quefrency: periods below tc)
        source, cutoff = (spec, settings["tc_idx"]) if quefrency else (ceps, settings["fc_idx"])
        previous = settings["fc_idx"] if quefrency else settings["tc_idx"]
        full = _even_extension(source, n) if layer == 1 else _cfp_extend(source, n, previous, nnaudio_compat)
        out = _cfp_activation(torch.fft.rfft(full).real * scale_fft, gamma, cutoff)
        if quefrency:
            ceps = out
        else:  # cepstrum → generalised spectrum (high-passed in frequency: below fc)
            spec = out
    hf, hq = settings["HighFreqIdx"], settings["HighQuefIdx"]
    tfrL0 = torch.matmul(tfr0[..., :hf], freq_map.t()).transpose(-1, -2)
    tfrLF = torch.matmul(spec[..., :hf], freq_map.t()).transpose(-1, -2)
    tfrLQ = torch.matmul(ceps[..., :hq], quef_map.t()).transpose(-1, -2)
    out = (tfrLF * tfrLQ, tfrL0, tfrLF, tfrLQ)
    return tuple(o.reshape(lead + o.shape[1:]) for o in out)


def cfp(
    waveform: torch.Tensor,
    fr: float = 2,
    fs: float = 16000,
    hop_length: int = 320,
    window_size: int = 2049,
    fc: float = 80,
    tc: float = 1 / 1000,
    g=(0.24, 0.6, 1),
    NumPerOct: int = 48,
    nnaudio_compat: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Combined frequency and periodicity (Su & Yang 2015) of ``(..., time)`` signals.

    With ``X`` the STFT (DFT size ``N = int(fs / fr)``, symmetric Blackman-Harris window of ``window_size``
    samples, hop ``hop_length``, frames centred with zero padding) and ``F`` the real part of the ``N``-point DFT
    along frequency scaled by ``1/√N`` (the spectra are real and even, so ``F`` is its own inverse up to scale):

        Z₀ = |X| / ‖w‖,   U₀ = σ_{g₀}(Z₀),   U₁ = σ_{g₁}(H_t F U₀),   U₂ = σ_{g₂}(H_f F U₁),   U₃ = σ_{g₃}(H_t F U₂) …

    where ``σ_γ(x) = ReLU(x)^γ`` (``γ = 0``: a logarithm), ``H_t`` clears quefrencies below ``tc`` and ``H_f``
    frequencies below ``fc`` (with their mirror images). The last generalised spectrum ``U_{2m}`` (frequency) and
    generalised cepstrum ``U_{2m±1}`` (quefrency) are mapped to the log-frequency grid ``fc · 2^{i / NumPerOct}``
    (below ``1 / tc``) by triangular filters (:func:`nnaudio_fast.bases.cfp_filterbanks`); their product ``Z``
    peaks where a frequency and a period agree: at fundamental frequencies. More than three exponents give the
    "multi-layered cepstrum" (arXiv:1902.00539); three give the CFP of the 2015 paper.

    Returns
    -------
    (Z, tfrL0, tfrLF, tfrLQ) : Tensors of shape ``(..., n_bins, n_frames)``
        ``Z = tfrLF · tfrLQ``; ``tfrL0`` the log-frequency spectrum ``Z₀``, ``tfrLF`` the generalised spectrum,
        ``tfrLQ`` the generalised cepstrum. ``n_bins = len(center_freqs)`` (:func:`nnaudio_fast.bases.cfp_filterbanks`),
        ``n_frames = 1 + (time + 2·(N//2) − N) // hop_length`` (nnAudio's ``Combined_Frequency_Periodicity``
        drops the first and last frames; this function keeps them, as nnAudio's ``CFP``).

    ``nnaudio_compat=True`` reproduces nnAudio 0.3.4 (and the MelodyExt reference code it was ported from); see
    :func:`nnaudio_fast.bases.cfp_filterbanks` for how its log-frequency maps differ from the paper's, and note
    its high-pass also clears the one bin ``N − cutoff`` whose mirror image it keeps. ``False`` follows the
    equations: the DFT's bin frequencies, triangles that include their peak, a symmetric high-pass.
    """
    s = cfp_settings(fr, fs, hop_length, window_size, fc, tc, g, NumPerOct)
    dtype = _checks.compute_dtype(waveform)
    device = waveform.device
    window = _basis(bases.cfp_window, (s["window_size"],), dtype, device)
    freq_map, quef_map, _ = _basis(bases.cfp_filterbanks, (s["fr"], s["fs"], s["fc"], s["tc"], s["NumPerOct"],
                                                           bool(nnaudio_compat)), dtype, device)
    return cfp_from_bases(waveform, window, freq_map, quef_map, s, nnaudio_compat)


# ----------------------------------------------------------------------------------------------------------------
# Mel → linear-frequency spectrogram (for Griffin-Lim)
# ----------------------------------------------------------------------------------------------------------------
__all__ += ["mel_to_stft", "mel_to_stft_from_fbank"]

MEL_INVERSE_METHODS = ("nnls", "pinv")


def mel_to_stft_from_fbank(
    mel_spec: torch.Tensor, fbank: torch.Tensor, power: float = 2.0, n_iter: int = 100, method: str = "nnls"
) -> torch.Tensor:
    """Non-negative ``S`` with ``fbank @ S ≈ mel_spec``, then ``S^(1/power)``: ``(..., n_mels, T)`` → ``(..., F, T)``.

    ``method='nnls'`` solves ``min ½‖A S − M‖²`` subject to ``S >= 0`` (``A = fbank``) by accelerated projected
    gradient (FISTA; Beck & Teboulle 2009): ``S_{k+1} = max(0, Y_k − Aᵀ(A Y_k − M) / L)`` with ``L = ‖A‖₂²`` and
    Nesterov's extrapolation ``Y_{k+1} = S_{k+1} + (t_k − 1)/t_{k+1} · (S_{k+1} − S_k)``, started from
    ``max(0, A⁺ M)``. The residual falls as ``O(1/k²)``: ≈3e-4 relative after 100 iterations on speech
    (128 mels, n_fft 1024). ``A`` has fewer rows than columns, so ``S`` is one of many solutions (the mel
    spectrogram forgot the detail inside each band). ``method='pinv'``: ``max(0, A⁺ M)`` alone, one matmul.
    The iteration count is fixed (no data-dependent stopping, so no device synchronisation).
    """
    _checks.choice("method", method, MEL_INVERSE_METHODS)
    power = _checks.positive_float("power", power)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    dtype = _checks.compute_dtype(mel_spec, "mel_spec")
    if fbank.dim() != 2 or mel_spec.dim() < 2 or mel_spec.shape[-2] != fbank.shape[0]:
        raise ValueError(
            f"mel_spec has shape {tuple(mel_spec.shape)} but the filterbank is {tuple(fbank.shape)}: it needs "
            f"(..., {fbank.shape[0]}, n_frames); check n_mels (and the (..., n_mels, n_frames) layout)."
        )
    A = _cast(fbank.detach(), dtype, mel_spec.device)
    M = mel_spec.to(dtype)
    S = torch.relu(torch.matmul(torch.linalg.pinv(A), M))
    if method == "nnls" and n_iter > 0:
        step = 1.0 / torch.linalg.matrix_norm(A, 2) ** 2
        At = A.t()
        prev, Y, t = S, S, 1.0
        for _ in range(n_iter):
            S = torch.relu(Y - step * torch.matmul(At, torch.matmul(A, Y) - M))
            t_next = (1.0 + (1.0 + 4.0 * t * t) ** 0.5) / 2.0
            Y = S + ((t - 1.0) / t_next) * (S - prev)
            prev, t = S, t_next
    return S if power == 1.0 else _safe_pow(S, 1.0 / power)


def mel_to_stft(
    mel_spec: torch.Tensor,
    sr: float = 22050,
    n_fft: int = 2048,
    power: float = 2.0,
    n_mels: int | None = None,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm=1,
    n_iter: int = 100,
    method: str = "nnls",
) -> torch.Tensor:
    """Approximate STFT magnitude ``(..., n_fft // 2 + 1, T)`` from a mel spectrogram ``(..., n_mels, T)``.

    Inverts :func:`mel_spectrogram` with the same ``sr``, ``n_fft``, ``power``, ``fmin``, ``fmax``, ``htk`` and
    ``norm`` (``n_mels`` defaults to the input's); see :func:`mel_to_stft_from_fbank` for the solver. With
    ``power=1`` the output is in the input's domain (a power spectrogram for a power mel spectrogram). Feed the
    magnitude to :func:`griffin_lim` for a waveform: ``griffin_lim(mel_to_stft(M, sr, n_fft), n_fft, ...)``.
    """
    if not isinstance(mel_spec, torch.Tensor) or mel_spec.dim() < 2:
        raise ValueError("mel_spec must be a tensor of shape (..., n_mels, n_frames).")
    n_mels = mel_spec.shape[-2] if n_mels is None else _checks.positive_int("n_mels", n_mels)
    sr = _checks.positive_float("sr", sr)
    n_fft = _checks.positive_int("n_fft", n_fft)
    dtype = _checks.compute_dtype(mel_spec, "mel_spec")
    fbank = _basis(bases.mel_filterbank, (sr, n_fft, n_mels, fmin, fmax, htk, norm), dtype, mel_spec.device)
    return mel_to_stft_from_fbank(mel_spec, fbank, power, n_iter, method)


# ----------------------------------------------------------------------------------------------------------------
# constant-Q / variable-Q transforms
# ----------------------------------------------------------------------------------------------------------------
CQT_NORMALIZATIONS = ("librosa", "convolutional", "wrap")


def cqt_output(re, im, lengths, normalization_type: str = "librosa", output_format: str = "Magnitude"):
    """Scale an L1-normalised CQT ``(re, im)`` ``(..., n_bins, T)`` and format it (nnAudio's conventions).

    ``normalization_type``: ``'librosa'`` multiplies bin ``k`` by ``sqrt(lengths[k])`` (``librosa.cqt``'s scale);
    ``'convolutional'`` leaves the L1-normalised correlation (``|C| <= max|x|``); ``'wrap'`` multiplies by 2, so a
    unit-amplitude sinusoid at a bin's frequency gives about 1 there.
    ``output_format``: ``'Magnitude'`` ``(..., n_bins, T)``; ``'Complex'`` ``(..., n_bins, T, 2)`` (real,
    imaginary); ``'Phase'`` ``(..., n_bins, T, 2)`` (cos, sin of the phase; (1, 0) where ``C = 0``), as nnAudio.
    """
    _checks.choice("normalization_type", normalization_type, CQT_NORMALIZATIONS)
    _checks.choice("output_format", output_format, OUTPUT_FORMATS)
    if normalization_type == "librosa":
        scale = torch.sqrt(lengths.to(re.dtype))[:, None]
        re, im = re * scale, im * scale
    elif normalization_type == "wrap":
        re, im = 2.0 * re, 2.0 * im
    if output_format == "Magnitude":
        return magnitude(re, im)
    if output_format == "Complex":
        return torch.stack((re, im), -1)
    mag = magnitude(re, im)
    zero = mag == 0
    safe = torch.where(zero, torch.ones_like(mag), mag)
    return torch.stack((torch.where(zero, torch.ones_like(re), re / safe), torch.where(zero, im * 0, im / safe)), -1)


def cqt_from_kernels(waveform, kr, ki, hop_length: int, center: bool = True, pad_mode: str = "reflect",
                     backend: str | None = None):
    """Single-rate CQT with given (possibly trainable) kernels ``kr``, ``ki`` ``(n_bins, W)``
    (:func:`nnaudio_fast.bases.cqt_kernels`): ``(re, im)`` of shape ``(..., n_bins, n_frames)``, L1 scale."""
    if kr.shape != ki.shape or kr.dim() != 2:
        raise ValueError(f"kr {tuple(kr.shape)} and ki {tuple(ki.shape)} must both have shape (n_bins, width).")
    x, lead, (kr, ki), pad_mode = _prepare(waveform, (kr, ki), kr.shape[-1], hop_length, center, pad_mode)
    re, im = dispatch.select("cqt_single", x.device, backend)(x, kr, ki, hop_length, center, pad_mode)
    return re.reshape(lead + re.shape[1:]), im.reshape(lead + im.shape[1:])


def _trim_taps(kernel: torch.Tensor, offset: int) -> tuple[torch.Tensor, int]:
    """Drop all-zero leading/trailing taps of a constant kernel (stored widths are nnAudio's powers of two)."""
    if kernel.requires_grad:
        return kernel, offset  # every tap of a trainable kernel gets a gradient
    used = torch.nonzero(kernel.detach().abs().amax(dim=(0, 1)))
    if used.numel() == 0:
        return kernel, offset
    lo, hi = int(used[0]), int(used[-1]) + 1
    return kernel[..., lo:hi], offset + lo


def cqt_multirate_from_kernels(waveform, kernels, plan, pad_mode: str = "reflect", backend: str | None = None,
                               offsets=None):
    """Multirate CQT with given per-octave kernels ``(P_i, 2·n_i, W_i)`` (top octave first) and
    :class:`nnaudio_fast.bases.MultirateCQTPlan`: ``(re, im)`` of shape ``(..., n_bins, n_frames)``, L1 scale.

    ``offsets`` overrides ``plan.offsets`` (tap 0 of each kernel relative to the frame, in level samples), for
    kernels laid out wider than the plan's.
    """
    offsets = plan.offsets if offsets is None else tuple(offsets)
    if len(kernels) != len(plan.levels):
        raise ValueError(f"got {len(kernels)} octave kernels but the plan has {len(plan.levels)} octaves.")
    for i, (k, ph) in enumerate(zip(kernels, plan.n_phases)):
        if k.dim() != 3 or k.shape[0] != ph or k.shape[1] % 2:
            raise ValueError(f"kernel of octave {i} has shape {tuple(k.shape)}; it must be ({ph}, 2·n_bins, width).")
    x, lead, kernels, pad_mode = _prepare(waveform, kernels, 1, plan.hop_length, True, pad_mode)
    trimmed = [_trim_taps(k, o) for k, o in zip(kernels, offsets)]
    h = _basis(bases.halfband_lowpass, (), x.dtype, x.device)
    kernels, offsets = [k for k, _ in trimmed], [o for _, o in trimmed]
    pad = bases.multirate_padding(offsets, [k.shape[-1] for k in kernels], plan.levels)
    fn = dispatch.select("cqt_multirate", x.device, backend)
    re, im = fn(x, kernels, offsets, plan.levels, plan.hop_length, pad, h, pad_mode)
    return re.reshape(lead + re.shape[1:]), im.reshape(lead + im.shape[1:])


def _cqt_bins(fmin, fmax, n_bins, bins_per_octave):
    bins_per_octave = _checks.positive_int("bins_per_octave", bins_per_octave)
    fmin = _checks.positive_float("fmin", fmin)
    if fmax is not None:
        return bases.cqt_n_bins(fmin, _checks.positive_float("fmax", fmax), bins_per_octave)
    return _checks.positive_int("n_bins", n_bins)


def cqt(
    waveform: torch.Tensor,
    sr: float = 22050,
    hop_length: int = 512,
    fmin: float = 32.70,
    fmax: float | None = None,
    n_bins: int = 84,
    bins_per_octave: int = 12,
    filter_scale: float = 1,
    norm=1,
    window="hann",
    center: bool = True,
    pad_mode: str = "reflect",
    output_format: str = "Magnitude",
    normalization_type: str = "librosa",
    gamma: float | None = 0.0,
    multirate: bool = True,
    backend: str | None = None,
) -> torch.Tensor:
    """Constant-Q transform of ``(..., time)`` signals (variable-Q with ``gamma > 0``).

    ``C[k, t] = sqrt(λ_k) Σ_m x[t·hop + m] K_k[m]`` for ``'librosa'`` normalisation, where ``K_k`` is librosa's
    wavelet for bin ``k`` (window of fractional length ``λ_k = Q·sr / (f_k + γ/α)``, L1-normalised,
    :func:`nnaudio_fast.bases.cqt_kernels`), ``f_k = fmin · 2^(k / bins_per_octave)``. This is the transform
    ``librosa.cqt`` / ``librosa.vqt`` approximate (they resample with soxr and sparsify their kernels; they are
    within about 1e-2 of it).

    Parameters
    ----------
    waveform : Tensor, shape ``(..., time)``
    sr, hop_length, fmin, n_bins, bins_per_octave, filter_scale, window
        As librosa / nnAudio. Any ``hop_length`` works (also with ``multirate``).
    fmax : float, optional
        If given, ``n_bins = ceil(bins_per_octave · log2(fmax / fmin))`` (nnAudio's rule) and ``n_bins`` is ignored.
    norm : 1, 2, np.inf or None
        Kernel normalisation (1: L1, librosa's and nnAudio's default).
    center : bool
        Frames centred on ``t·hop`` (padding). Only the single-rate transform (``multirate=False``) can do without.
    pad_mode : {'reflect', 'constant', 'replicate', 'circular'}
        nnAudio's default ``'reflect'``; librosa's is ``'constant'``.
    output_format : {'Magnitude', 'Complex', 'Phase'}
    normalization_type : {'librosa', 'convolutional', 'wrap'}
        See :func:`cqt_output`.
    gamma : float or None
        VQT bandwidth offset in Hz (0: constant-Q; None: librosa's ERB choice).
    multirate : bool
        True (default): octave pyramid (:func:`nnaudio_fast.bases.cqt_multirate_kernels`), within about 1e-5
        (CQT) to 3e-5 (VQT) of the single-rate result and much faster; False: every bin at full rate (CQT1992v2).
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.

    Returns
    -------
    Tensor ``(..., n_bins, n_frames)`` (``'Magnitude'``) or ``(..., n_bins, n_frames, 2)``, ``n_frames = 1 + time //
    hop_length`` when centred.
    """
    n_bins = _cqt_bins(fmin, fmax, n_bins, bins_per_octave)
    sr = _checks.positive_float("sr", sr)
    hop_length = _checks.positive_int("hop_length", hop_length)
    _checks.choice("normalization_type", normalization_type, CQT_NORMALIZATIONS)
    _checks.choice("output_format", output_format, OUTPUT_FORMATS)
    dtype = _checks.compute_dtype(waveform)
    design = (sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window)
    lengths = _basis(bases.cqt_lengths, design, dtype, waveform.device)
    if multirate:
        if not center:
            raise ValueError("center=False is only available for the single-rate transform; pass multirate=False.")
        plan = bases.cqt_multirate_plan(*design, norm, hop_length)
        kernels = _basis(_multirate_kernels_only, design + (norm, hop_length), dtype, waveform.device)
        re, im = cqt_multirate_from_kernels(waveform, kernels, plan, pad_mode, backend)
    else:
        kr, ki = _basis(bases.cqt_kernels, design + (norm,), dtype, waveform.device)
        re, im = cqt_from_kernels(waveform, kr, ki, hop_length, center, pad_mode, backend)
    return cqt_output(re, im, lengths, normalization_type, output_format)


def _multirate_kernels_only(*args):
    return bases.cqt_multirate_kernels(*args)[1]


def vqt(
    waveform: torch.Tensor,
    sr: float = 22050,
    hop_length: int = 512,
    fmin: float = 32.70,
    fmax: float | None = None,
    n_bins: int = 84,
    bins_per_octave: int = 12,
    gamma: float | None = 0.0,
    filter_scale: float = 1,
    norm=1,
    window="hann",
    pad_mode: str = "reflect",
    output_format: str = "Magnitude",
    normalization_type: str = "librosa",
    multirate: bool = True,
    backend: str | None = None,
) -> torch.Tensor:
    """Variable-Q transform: :func:`cqt` with bandwidth offset ``gamma`` (Hz; ``None``: librosa's ERB choice
    ``24.7·α/0.108``), so low bins get shorter filters ``λ_k = Q·sr / (f_k + γ/α)``. nnAudio's default
    ``gamma=0`` is the CQT. Matches ``librosa.vqt`` (about 1e-2, see :func:`cqt`)."""
    return cqt(waveform, sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, True,
               pad_mode, output_format, normalization_type, gamma, multirate, backend)


# ----------------------------------------------------------------------------------------------------------------
# inverse constant-Q transform: least squares through the CQT's own adjoint
# ----------------------------------------------------------------------------------------------------------------
__all__ += ["icqt", "ivqt", "icqt_from_transform", "icqt_length", "ICQT_SOLVERS"]

ICQT_SOLVERS = ("pcg", "cgnr", "lsqr")
# Floor of the preconditioner's symbol, relative to its maximum: chosen by measurement (README, "Inverse CQT"):
# 1e-2 .. 5e-2 all do well; 3e-2 is the best compromise over chirps, noise, hops 64-512 and pad modes.
ICQT_PRECONDITIONER_FLOOR = 3e-2


def _split_cqt(cqt, n_bins: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A complex ``(..., n_bins, T)`` tensor, or real/imaginary pairs ``(..., n_bins, T, 2)``, as ``(re, im)``."""
    if not isinstance(cqt, torch.Tensor):
        raise ValueError(f"cqt must be a torch.Tensor, got {type(cqt).__name__}.")
    if cqt.is_complex():
        re, im = cqt.real, cqt.imag
    elif cqt.dim() >= 3 and cqt.shape[-1] == 2:
        re, im = cqt[..., 0], cqt[..., 1]
    else:
        raise ValueError(
            f"cqt has shape {tuple(cqt.shape)} and dtype {cqt.dtype}; the inverse needs complex coefficients: a "
            "complex tensor (..., n_bins, n_frames) or real/imaginary pairs (..., n_bins, n_frames, 2), as "
            "output_format='Complex' gives. A magnitude CQT has lost its phase and cannot be inverted this way."
        )
    if re.dim() < 2 or re.shape[-2] != n_bins:
        axis = "second-to-last" if cqt.is_complex() else "third-to-last"
        have = re.shape[-2] if re.dim() >= 2 else 0
        raise ValueError(
            f"cqt has shape {tuple(cqt.shape)}: {have} bins on its {axis} axis, but the transform to invert has "
            f"n_bins={n_bins}; pass the n_bins (or fmin, fmax, bins_per_octave) the CQT was computed with."
        )
    if re.shape[-1] < 1:
        raise ValueError(f"cqt has shape {tuple(cqt.shape)}: no frames to invert.")
    return re, im


def icqt_length(n_frames: int, hop_length: int, center: bool, width: int, length: int | None) -> int:
    """The signal length to reconstruct: ``length`` after checking that it gives ``n_frames`` frames, or by
    default the shortest that does (``hop·(n_frames − 1)``, plus the kernel ``width`` when not centred)."""
    lo = hop_length * (n_frames - 1) + (0 if center else width)
    if length is None:
        return max(lo, 1)
    length = _checks.positive_int("length", length)
    frames = 1 + length // hop_length if center else 1 + (length - width) // hop_length
    if frames != n_frames:
        raise ValueError(
            f"length={length} with hop_length={hop_length} (center={center}) gives {frames} CQT frames, but the "
            f"CQT has {n_frames}; use a length in [{max(lo, 1)}, {lo + hop_length - 1}], or check hop_length."
        )
    return length


def icqt_from_transform(cqt, transform, scale: torch.Tensor, length: int, symbol_args: tuple, n_iter: int = 32,
                        tol: float = 1e-6, damping: float = 0.0, solver: str = "pcg") -> torch.Tensor:
    """Least-squares inverse of the CQT that ``transform`` computes: ``argmin_x ‖C x − c‖² + λ‖x‖²``.

    Parameters
    ----------
    cqt : Tensor, complex ``(..., n_bins, T)`` or real ``(..., n_bins, T, 2)``
        The coefficients ``c``, normalised by ``scale``.
    transform : callable
        ``x (B, length) ↦ (re, im)`` each ``(B, n_bins, T)``, the L1-scale CQT, differentiable in ``x``; its
        vector-Jacobian product is the adjoint (:class:`nnaudio_fast.cqt_operator.CQTOperator`).
    scale : Tensor ``(n_bins,)``
        The normalisation ``s_k`` that ``cqt`` carries (``sqrt(λ_k)`` for 'librosa').
    length : int
        Samples to reconstruct (:func:`icqt_length`).
    symbol_args : tuple
        ``(sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window, norm, normalization_type, hop_length)``
        of :func:`nnaudio_fast.cqt_operator.frame_symbol`: the transform's design, for the preconditioner and the
        damping's scale.
    n_iter, tol, damping, solver
        See :func:`icqt`.

    Returns
    -------
    Tensor ``(..., length)``: float64 for float64/complex128 input, float32 otherwise. Differentiable with respect
    to ``cqt``: the gradient is that of the exact least-squares solution (:class:`_LeastSquaresSolution`).
    """
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    _checks.choice("solver", solver, ICQT_SOLVERS)
    tol = _checks.non_negative_float("tol", tol, " (0 runs all n_iter iterations)")
    damping = _checks.non_negative_float("damping", damping, " (0 is plain least squares)")
    re, im = _split_cqt(cqt, scale.shape[0])
    dtype = torch.float64 if re.dtype == torch.float64 else torch.float32
    lead = tuple(re.shape[:-2])
    b = torch.stack((re.reshape((-1,) + re.shape[-2:]), im.reshape((-1,) + im.shape[-2:])), 1).to(dtype)
    if not bool(torch.isfinite(b.detach()).all()):
        raise ValueError("cqt has NaN or infinite values; the least-squares inverse needs finite coefficients.")
    batch, device = b.shape[0], b.device
    shape = (batch, length)
    if batch == 0:
        return torch.zeros(lead + (length,), dtype=dtype, device=device)
    op = cqt_operator.CQTOperator(transform, scale, batch, length, dtype, device)
    precondition, lam = None, 0.0
    if solver != "cgnr" or damping > 0:
        width = bases.cqt_kernels(*symbol_args[:8])[0].shape[1]
        n_fft = cqt_operator.next_fast_len(length + width)
        symbol = _basis(cqt_operator.frame_symbol, tuple(symbol_args) + (n_fft,), dtype, device)
        lam = float(damping) * float(symbol.max())
        precondition = cqt_operator.SymbolPreconditioner(symbol, length, n_fft, lam, ICQT_PRECONDITIONER_FLOOR)
    def solve(rhs):
        if solver == "lsqr":
            return linear_solvers.lsqr(op, op.adjoint, rhs, n_iter, shape, lam, precondition.sqrt, tol)[0]
        return linear_solvers.cgls(op, op.adjoint, rhs, n_iter, shape, lam,
                                   precondition if solver == "pcg" else None, tol)[0]

    def solve_transposed(grad):
        normal = linear_solvers.cg(lambda p: op.adjoint(op(p)) + lam * p, grad, n_iter,
                                   precondition if solver != "cgnr" else None, tol)[0]
        return op(normal)

    if b.requires_grad and torch.is_grad_enabled():
        x = _LeastSquaresSolution.apply(b, solve, solve_transposed)
    else:
        x = solve(b.detach())
    return x.reshape(lead + (length,))


class _LeastSquaresSolution(torch.autograd.Function):
    """``x = (CᴴC + λ)⁻¹ Cᴴ b`` with the gradient of the exact solution: ``b̄ = C (CᴴC + λ)⁻¹ x̄`` (one more
    conjugate-gradient solve of the normal equations, as many iterations and the same preconditioner)."""

    @staticmethod
    def forward(ctx, b, solve, solve_transposed):
        ctx.solve_transposed = solve_transposed
        return solve(b)

    @staticmethod
    def backward(ctx, grad):
        return ctx.solve_transposed(grad.contiguous()), None, None


def icqt(
    cqt: torch.Tensor,
    sr: float = 22050,
    hop_length: int = 512,
    fmin: float = 32.70,
    fmax: float | None = None,
    n_bins: int = 84,
    bins_per_octave: int = 12,
    filter_scale: float = 1,
    norm=1,
    window="hann",
    center: bool = True,
    pad_mode: str = "reflect",
    normalization_type: str = "librosa",
    gamma: float | None = 0.0,
    multirate: bool = True,
    length: int | None = None,
    n_iter: int = 32,
    tol: float = 1e-6,
    damping: float = 0.0,
    solver: str = "pcg",
    backend: str | None = None,
) -> torch.Tensor:
    """Inverse constant-Q (variable-Q with ``gamma``) transform by least squares: the signal ``x`` minimising
    ``‖C x − c‖² + λ‖x‖²``, ``C`` the transform :func:`cqt` computes with the same parameters.

    ``C`` is applied by the forward CQT code itself and ``Cᴴ`` by its vector-Jacobian product (exact to rounding;
    :mod:`nnaudio_fast.cqt_operator`), so the inverse follows whatever backend computes the CQT. The solver
    (:mod:`nnaudio_fast.linear_solvers`) is conjugate gradients on the normal equations, by default preconditioned
    with the inverse of the frame operator's Fourier symbol ``Σ_k |Ĝ_k(ω)|² / hop`` (floored at 3% of its
    maximum, applied by FFT). It starts from 0, so its first iterate is the optimally scaled preconditioned
    adjoint, a frame-bound-scaled synthesis. Measured on 1.5 s at 22.05 kHz, 84 bins from 32.70 Hz, 32 iterations
    (README, "Inverse CQT"): above 60 dB SNR at hop 128 on a chirp and on 60 Hz-1.5 kHz noise; at hop 512 the
    CQT has fewer coefficients than the signal has samples, and even the converged least-squares solution
    recovers only 8 dB (that noise) to 13 dB (the chirp). With ``pad_mode`` 'reflect' or 'replicate' the first
    and last kernel-length of an untapered signal are less well determined (README).

    Parameters
    ----------
    cqt : Tensor
        Complex ``(..., n_bins, n_frames)``, or real/imaginary pairs ``(..., n_bins, n_frames, 2)``
        (``output_format='Complex'``).
    sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center, pad_mode, gamma
        Those of the CQT to invert (see :func:`cqt`).
    normalization_type : {'librosa', 'convolutional', 'wrap'}
        That of the CQT to invert.
    multirate : bool
        Apply ``C`` as the multirate transform (octave pyramid; default, much faster) or the single-rate one.
        They are the same transform within about 1e-5, so either inverts either; ``center=False`` needs
        ``multirate=False``.
    length : int, optional
        Samples to reconstruct; must give ``n_frames`` frames. Default: ``hop_length · (n_frames − 1)``.
    n_iter : int
        Iterations (each one application of ``C`` and of ``Cᴴ``). Default 32.
    tol : float
        Stop an example early once its (preconditioned) normal-equation residual is ``tol`` times its initial
        value. Default 1e-6; 0 always runs ``n_iter`` iterations (and never synchronises a GPU).
    damping : float
        Tikhonov weight ``λ`` relative to the upper frame bound (the symbol's maximum). Default 0.
    solver : {'pcg', 'cgnr', 'lsqr'}
        'pcg': preconditioned CGLS (default); 'cgnr': plain CGLS; 'lsqr': preconditioned LSQR (Paige & Saunders;
        the same iterates in exact arithmetic, more robust in low precision at many iterations).
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.

    Returns
    -------
    Tensor ``(..., length)``: float64 for float64/complex128 input, float32 otherwise. Differentiable with respect
    to ``cqt``: the gradient is that of the least-squares solution, ``C (CᴴC + λ)⁻¹ x̄``, by one more solve.
    """
    return _icqt(cqt, sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center,
                 pad_mode, normalization_type, gamma, multirate, length, n_iter, tol, damping, solver, backend)


def _icqt(cqt, sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center, pad_mode,
          normalization_type, gamma, multirate, length, n_iter, tol, damping, solver, backend, kernel_width=None):
    """:func:`icqt`; ``kernel_width`` sets the single-rate kernels' width (it places the frames when
    ``center=False``), as :class:`~nnaudio_fast.CQT1992v2` sets it for nnAudio's layout."""
    n_bins = _cqt_bins(fmin, fmax, n_bins, bins_per_octave)
    sr = _checks.positive_float("sr", sr)
    hop_length = _checks.positive_int("hop_length", hop_length)
    _checks.choice("normalization_type", normalization_type, CQT_NORMALIZATIONS)
    pad_mode = canonical_pad_mode(pad_mode)
    re, _ = _split_cqt(cqt, n_bins)
    dtype = torch.float64 if re.dtype == torch.float64 else torch.float32
    device = re.device
    design = (sr, fmin, n_bins, bins_per_octave, filter_scale, gamma, window)
    lengths = _basis(bases.cqt_lengths, design, dtype, device)
    scale = cqt_operator.normalization_scale(lengths, normalization_type)
    if multirate:
        if not center:
            raise ValueError("center=False is only available for the single-rate transform; pass multirate=False.")
        plan = bases.cqt_multirate_plan(*design, norm, hop_length)
        kernels = _basis(_multirate_kernels_only, design + (norm, hop_length), dtype, device)

        def transform(x):
            return cqt_multirate_from_kernels(x, kernels, plan, pad_mode, backend)

        width = 0
    else:
        kr, ki = _basis(bases.cqt_kernels, design + (norm, kernel_width), dtype, device)

        def transform(x):
            return cqt_from_kernels(x, kr, ki, hop_length, center, pad_mode, backend)

        width = kr.shape[-1]
    length = icqt_length(re.shape[-1], hop_length, center, width, length)
    return icqt_from_transform(cqt, transform, scale, length,
                               design + (norm, normalization_type, hop_length), n_iter, tol, damping, solver)


def ivqt(
    cqt: torch.Tensor,
    sr: float = 22050,
    hop_length: int = 512,
    fmin: float = 32.70,
    fmax: float | None = None,
    n_bins: int = 84,
    bins_per_octave: int = 12,
    gamma: float | None = 0.0,
    filter_scale: float = 1,
    norm=1,
    window="hann",
    pad_mode: str = "reflect",
    normalization_type: str = "librosa",
    multirate: bool = True,
    length: int | None = None,
    n_iter: int = 32,
    tol: float = 1e-6,
    damping: float = 0.0,
    solver: str = "pcg",
    backend: str | None = None,
) -> torch.Tensor:
    """Inverse variable-Q transform: :func:`icqt` for :func:`vqt` (bandwidth offset ``gamma`` in Hz; ``None``:
    librosa's ERB choice), arguments in :func:`vqt`'s order."""
    return icqt(cqt, sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, True,
                pad_mode, normalization_type, gamma, multirate, length, n_iter, tol, damping, solver, backend)
