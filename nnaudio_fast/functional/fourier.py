"""The Fourier family on ``(..., time)``: STFT, iSTFT, mel / gammatone spectrograms, MFCC, dB; the
explicit-kernel level (``*_from_kernels``) the layers call."""

from __future__ import annotations

import numpy as np
import torch

from .. import _checks, bases
from ..primitives import LOG_SCALES
from .common import (OUTPUT_FORMATS, BoundOp, _basis, _cast, _flatten, _prepare, backend_op, basis_support,
                     format_output, nonempty, restore, stft_defaults)


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
    center = _checks.boolean("center", center)
    x, lead, (wcos, wsin, dft_window), pad_mode = _prepare(
        waveform, (wcos, wsin, dft_window), wcos.shape[-1], hop_length, center, pad_mode
    )
    _checks.precision(precision)
    re, im = backend_op("stft", x, backend)(x, wcos, wsin, hop_length, center, pad_mode, dft_window,
                                            precision=precision)
    return restore(re, lead), restore(im, lead)


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
    support: tuple | None = None,
) -> torch.Tensor:
    """``fbank @ |STFT(waveform)|^power`` with given kernels: shape ``(..., n_filters, n_frames)``.

    ``fbank`` is ``(n_filters, freq_bins)`` (mel, gammatone, ...) or ``None`` for the plain power spectrogram.
    ``dft_window``: as in :func:`stft_from_kernels`.
    Backends may fuse the whole chain (the linear spectrogram never reaches memory).
    ``log``: ``None``, ``'log'`` (natural), ``'log10'`` or ``'db'`` (``10·log10``) of ``max(S, amin)``, fused
    where the backend can (e.g. Whisper's features are ``log='log10'``, ``amin=1e-10`` before its clipping).
    ``precision``: see :func:`stft`.
    ``support``: ``((lo, hi), ...)``, one pair per filter, certifying that ``fbank[m]`` is zero outside columns
    ``[lo, hi)`` (:func:`nnaudio_fast.bases.row_support`), so a backend multiplies only those; never pass it for a
    filterbank that is trained or edited.
    """
    x, lead = _flatten(waveform)
    plan = spectrogram_plan(wcos, wsin, fbank, hop_length, center, pad_mode, power, backend, dft_window, log, amin,
                            precision, support, like=x)
    return restore(plan(x), lead)


def spectrogram_plan(wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, backend,
                     dft_window, log, amin: float, precision, support, *, like: torch.Tensor) -> BoundOp:
    """:func:`spectrogram_from_kernels` with every argument but the waveform checked, cast to the dtype and device
    of ``like`` (a flat ``(B, time)`` waveform) and bound to the backend's operation: a layer keeps the plan while
    its bases and the requested backend stay the same, so a call costs only the waveform's checks."""
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
    if fbank is not None:
        support = _checks.support(support, fbank.shape[0], fbank.shape[1])
    elif support is not None:
        raise ValueError("support was given without fbank; it certifies the filterbank's zeros: drop it.")
    center = _checks.boolean("center", center)
    _checks.positive_int("hop_length", hop_length)
    pad_mode = _checks.canonical_pad_mode(pad_mode)
    dtype = _checks.compute_dtype(like)
    wcos, wsin, fbank, dft_window = (None if k is None else _cast(k, dtype, like.device)
                                     for k in (wcos, wsin, fbank, dft_window))
    kwargs = dict(precision=precision, support=support)
    if log is None:
        fn = backend_op("spectrogram", like, backend, dtype)
        args = (wcos, wsin, fbank, hop_length, center, pad_mode, power, dft_window)
    else:
        fn = backend_op("log_spectrogram", like, backend, dtype)
        args = (wcos, wsin, fbank, hop_length, center, pad_mode, power, log, amin, dft_window)
    return BoundOp(fn, args, kwargs, wcos.shape[-1], center, dtype)


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
    center = _checks.boolean("center", center)
    if length is not None:
        _checks.positive_int("length", length)
    if real.dim() < 2 or real.shape[-2] != icos.shape[0]:
        raise ValueError(
            f"the spectrogram has shape {tuple(real.shape)} (frequency bins on its second-to-last axis) but the "
            f"synthesis kernels expect {icos.shape[0]} bins."
        )
    if real.shape[-1] < 1:
        raise ValueError(f"the spectrogram has shape {tuple(real.shape)}: no frames to invert.")
    lead = tuple(real.shape[:-2])
    re = nonempty(real.reshape((-1,) + tuple(real.shape[-2:])).to(dtype))
    im = nonempty(imag.reshape((-1,) + tuple(imag.shape[-2:])).to(dtype))
    icos, isin, window = (_cast(t, dtype, re.device) for t in (icos, isin, window))
    fn = backend_op("istft", re, backend)
    y = fn(re, im, icos, isin, window, hop_length, center, length, dft)
    return restore(y, lead)


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
    n_fft, hop_length, win_length = stft_defaults(n_fft, hop_length, win_length)
    _checks.choice("output_format", output_format, OUTPUT_FORMATS)
    _checks.boolean("center", center)
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
    return format_output(re, im, output_format)


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
    n_fft, hop_length, win_length = stft_defaults(n_fft, hop_length, win_length)
    re, im = split_complex(spectrogram)
    dtype = _checks.compute_dtype(re, "spectrogram")
    icos, isin = inverse_kernels(n_fft, re.shape[-2], dtype, re.device)
    win = _basis(bases.get_window, (window, win_length, n_fft), dtype, re.device)
    return istft_from_kernels(re, im, icos, isin, win, hop_length, center, length, backend, dft=True)


def split_complex(spec: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
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
    n_fft, hop_length, win_length = stft_defaults(n_fft, hop_length, win_length)
    dtype = _checks.compute_dtype(waveform)
    wcos, wsin = _basis(bases.fourier_kernels, (n_fft, win_length, None, window), dtype, waveform.device)
    win = _basis(bases.get_window, (window, win_length, n_fft), dtype, waveform.device)
    fbank = _basis(fbank_builder, fbank_args, dtype, waveform.device)
    return spectrogram_from_kernels(waveform, wcos, wsin, fbank, hop_length, center, pad_mode, power, backend,
                                    dft_window=win, precision=precision,
                                    support=basis_support(fbank_builder, fbank_args))


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


def db_arguments(ref, amin, top_db):
    """Checked ``(ref, amin, top_db)`` of :func:`power_to_db` (``ref`` and ``amin`` may be tensors, as the
    modules' buffers are): a finite ``ref``, a finite positive ``amin``, ``top_db`` None or finite ``>= 0``."""
    if not isinstance(ref, torch.Tensor):
        ref = _checks.finite_float("ref", ref, " (the dB reference; 1.0 by default)")
    if not isinstance(amin, torch.Tensor):
        amin = _checks.positive_float("amin", amin, " (the floor below which power is clipped, e.g. 1e-10)")
    if top_db is not None:
        top_db = _checks.non_negative_float("top_db", top_db, " (or None for no clipping)")
    return ref, amin, top_db


def power_to_db(spec: torch.Tensor, ref=1.0, amin=1e-10, top_db: float | None = 80.0) -> torch.Tensor:
    """``10·log10(max(S, amin) / max(amin, |ref|))``, clipped ``top_db`` below each example's maximum.

    ``spec``: ``(..., freq, time)``; the maximum is taken per ``(freq, time)`` slice (per example and channel),
    where ``librosa.power_to_db`` takes it over the whole array; the two agree for a single example.
    ``ref`` and ``amin`` may be numbers or 0-d/1-element tensors (the modules keep them as buffers).
    """
    ref, amin, top_db = db_arguments(ref, amin, top_db)
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
    n_mels = _checks.positive_int("n_mels", n_mels)
    if n_mfcc > n_mels:
        raise ValueError(f"n_mfcc={n_mfcc} must not exceed n_mels={n_mels}; lower n_mfcc or raise n_mels.")
    ref, amin, top_db = db_arguments(ref, amin, top_db)
    mel = mel_spectrogram(waveform, sr, n_fft, win_length, n_mels, hop_length, window, center, pad_mode, power, htk,
                          fmin, fmax, mel_norm, backend, precision)
    db = power_to_db(mel, ref, amin, top_db)
    dct = _basis(bases.dct_matrix, (n_mels, dct_norm), db.dtype, db.device)[:n_mfcc]
    return torch.matmul(dct, db)
