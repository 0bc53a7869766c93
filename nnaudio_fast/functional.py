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

import numpy as np
import torch

from . import _checks, bases, dispatch
from .reference import canonical_pad_mode, magnitude, phase

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
) -> tuple[torch.Tensor, torch.Tensor]:
    """STFT with given (possibly trainable) analysis kernels.

    Parameters
    ----------
    waveform : Tensor, shape ``(..., time)``
    wcos, wsin : Tensor, shape ``(freq_bins, n_fft)``
        Windowed cosine and sine kernels (:func:`nnaudio_fast.bases.fourier_kernels`).
    hop_length, center, pad_mode, backend
        As in :func:`stft`.

    Returns
    -------
    (real, imag) : Tensors of shape ``(..., freq_bins, n_frames)``.
    """
    if wcos.shape != wsin.shape or wcos.dim() != 2:
        raise ValueError(
            f"wcos {tuple(wcos.shape)} and wsin {tuple(wsin.shape)} must both have shape (freq_bins, n_fft)."
        )
    x, lead, (wcos, wsin), pad_mode = _prepare(waveform, (wcos, wsin), wcos.shape[-1], hop_length, center, pad_mode)
    fn = dispatch.select("stft", x.device, backend)
    re, im = fn(x, wcos, wsin, hop_length, center, pad_mode)
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
) -> torch.Tensor:
    """``fbank @ |STFT(waveform)|^power`` with given kernels: shape ``(..., n_filters, n_frames)``.

    ``fbank`` is ``(n_filters, freq_bins)`` (mel, gammatone, ...) or ``None`` for the plain power spectrogram.
    Backends may fuse the whole chain (the linear spectrogram never reaches memory).
    """
    power = _checks.positive_float("power", power)
    if fbank is not None and (fbank.dim() != 2 or fbank.shape[1] != wcos.shape[0]):
        raise ValueError(
            f"fbank has shape {tuple(fbank.shape)} but the STFT has {wcos.shape[0]} frequency bins; "
            f"it must be (n_filters, {wcos.shape[0]})."
        )
    x, lead, (wcos, wsin, fbank), pad_mode = _prepare(
        waveform, (wcos, wsin, fbank), wcos.shape[-1], hop_length, center, pad_mode
    )
    fn = dispatch.select("spectrogram", x.device, backend)
    out = fn(x, wcos, wsin, fbank, hop_length, center, pad_mode, power)
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
) -> torch.Tensor:
    """Inverse STFT with given synthesis kernels (:func:`inverse_kernels`) and window ``(n_fft,)``.

    ``real``, ``imag``: ``(..., freq_bins, n_frames)``. Returns ``(..., length)``.
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
    y = fn(re, im, icos, isin, window, hop_length, center, length)
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

    Returns
    -------
    Tensor, shape ``(..., freq_bins, n_frames)`` or ``(..., freq_bins, n_frames, 2)`` for ``'Complex'``, where
    ``n_frames = 1 + time // hop_length`` when ``center`` else ``1 + (time − n_fft) // hop_length``.
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
    re, im = stft_from_kernels(waveform, wcos, wsin, hop_length, center, pad_mode, backend)
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
    return istft_from_kernels(re, im, icos, isin, win, hop_length, center, length, backend)


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
                            pad_mode, power, backend):
    n_fft, hop_length, win_length = _defaults(n_fft, hop_length, win_length)
    dtype = _checks.compute_dtype(waveform)
    wcos, wsin = _basis(bases.fourier_kernels, (n_fft, win_length, None, window), dtype, waveform.device)
    fbank = _basis(fbank_builder, fbank_args, dtype, waveform.device)
    return spectrogram_from_kernels(waveform, wcos, wsin, fbank, hop_length, center, pad_mode, power, backend)


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
        window, center, pad_mode, power, backend,
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
) -> torch.Tensor:
    """Gammatone spectrogram ``G @ |STFT(x)|^power``: shape ``(..., n_bins, n_frames)``.

    ``G`` is :func:`nnaudio_fast.bases.gammatone_filterbank` (Slaney's gammatone, ERB-spaced, unit gain at each
    centre frequency, times ``1/n_fft``), nnAudio's ``Gammatonegram``.
    """
    sr = _checks.positive_float("sr", sr)
    n_bins = _checks.positive_int("n_bins", n_bins)
    return _filterbank_spectrogram(
        waveform, bases.gammatone_filterbank, (sr, n_fft, n_bins, fmin, fmax), n_fft, hop_length, win_length,
        window, center, pad_mode, power, backend,
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
) -> torch.Tensor:
    """MFCC: DCT-II of the dB mel spectrogram, first ``n_mfcc`` coefficients: shape ``(..., n_mfcc, n_frames)``.

    Equals ``librosa.feature.mfcc`` (``dct_type=2``, same ``norm`` and mel parameters) per example.
    """
    n_mfcc = _checks.positive_int("n_mfcc", n_mfcc)
    if n_mfcc > n_mels:
        raise ValueError(f"n_mfcc={n_mfcc} must not exceed n_mels={n_mels}.")
    mel = mel_spectrogram(waveform, sr, n_fft, win_length, n_mels, hop_length, window, center, pad_mode, power, htk,
                          fmin, fmax, mel_norm, backend)
    db = power_to_db(mel, ref, amin, top_db)
    dct = _basis(bases.dct_matrix, (n_mels, dct_norm), db.dtype, db.device)[:n_mfcc]
    return torch.matmul(dct, db)


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
