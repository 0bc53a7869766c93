"""torchaudio.functional's names for the spectral helpers (``nnaudio_fast.transforms.functional``): the same
arguments, defaults, shapes and dtypes, computed here (tested against torchaudio 2.9's outputs).

* :func:`melscale_fbanks` ``(n_freqs, n_mels)``: torchaudio's mel filterbank (frequencies from 0 to
  ``sample_rate // 2``; HTK or Slaney mel scale; Slaney area normalisation).
* :func:`create_dct` ``(n_mels, n_mfcc)``: the DCT-II matrix, ``norm='ortho'`` or None (times 2).
* :func:`amplitude_to_DB`, :func:`DB_to_amplitude`: ``multiplier·log10(max(x, amin)) − multiplier·db_multiplier``,
  clipped ``top_db`` below the maximum of each item of the batch (over its channel, frequency and time axes).
* :func:`linear_fbanks` ``(n_freqs, n_filter)``: the same triangles with edges equally spaced in Hz.
* :func:`resample`: band-limited interpolation by a windowed sinc. With ``g = gcd``, ``o = orig / g``, ``n = new / g``
  and the cutoff ``c = min(o, n)·rolloff`` (in units of the reduced rates), output sample ``m·n + j`` is
  ``Σ_i h_j[i]·x[m·o + i − w]`` over ``i < 2w + o``, ``w = ⌈lowpass_filter_width·o / c⌉``, with
  ``h_j[i] = (c / o)·sinc(τ)·window(τ)``, ``τ = c·(i / o − j / n)`` clamped to ``±lowpass_filter_width``,
  ``sinc(τ) = sin(πτ) / (πτ)``, the window ``cos²(πτ / (2·width))`` (Hann) or ``I0(β·√(1 − (τ/width)²)) / I0(β)``
  (Kaiser); zeros outside the signal; ``⌈n·length / o⌉`` samples.
* :func:`compute_deltas`: ``d_t = Σ_{n=1}^{N} n·(c_{t+n} − c_{t−n}) / (2·Σ_{n=1}^{N} n²)``, ``N = (win_length − 1)
  // 2``, the time axis padded by ``N`` in ``mode`` (any :func:`torch.nn.functional.pad` mode).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .. import _checks, bases

__all__ = ["melscale_fbanks", "linear_fbanks", "create_dct", "amplitude_to_DB", "DB_to_amplitude", "compute_deltas",
           "resample", "RESAMPLING_METHODS", "mask_along_axis", "mask_along_axis_iid", "spectrogram",
           "inverse_spectrogram", "spectral_centroid", "griffinlim"]

RESAMPLING_METHODS = ("sinc_interp_hann", "sinc_interp_kaiser")
#: torchaudio's default Kaiser ``beta`` (``sinc_interp_kaiser`` with ``beta=None``).
KAISER_BETA = 14.769656459379492


def melscale_fbanks(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int, norm: str | None = None,
                    mel_scale: str = "htk") -> torch.Tensor:
    """Mel filterbank ``(n_freqs, n_mels)`` (float32), to multiply a ``(..., time, n_freqs)`` spectrogram by."""
    fb = bases.torchaudio_mel_filterbank(n_freqs, f_min, f_max, n_mels, sample_rate, norm, mel_scale)
    return torch.tensor(fb, dtype=torch.float32)


def linear_fbanks(n_freqs: int, f_min: float, f_max: float, n_filter: int, sample_rate: int) -> torch.Tensor:
    """Triangular filterbank ``(n_freqs, n_filter)`` (float32) with edges equally spaced in Hz (torchaudio's)."""
    return torch.tensor(bases.torchaudio_linear_filterbank(n_freqs, f_min, f_max, n_filter, sample_rate),
                        dtype=torch.float32)


def create_dct(n_mfcc: int, n_mels: int, norm: str | None) -> torch.Tensor:
    """DCT-II matrix ``(n_mels, n_mfcc)`` (float32): ``mel @ dct`` transforms the last axis."""
    n_mfcc = _checks.positive_int("n_mfcc", n_mfcc)
    if n_mfcc > _checks.positive_int("n_mels", n_mels):
        raise ValueError(f"n_mfcc={n_mfcc} must not exceed n_mels={n_mels}.")
    return torch.tensor(bases.dct_matrix(n_mels, norm)[:n_mfcc].T, dtype=torch.float32)


def amplitude_to_DB(x: torch.Tensor, multiplier: float, amin: float, db_multiplier: float,
                    top_db: float | None = None) -> torch.Tensor:
    """``x`` ``(..., freq, time)`` (with a channel axis before them when ``x`` has more than two) in decibels;
    ``multiplier`` 10 for power, 20 for amplitude; ``db_multiplier`` is ``log10(max(amin, ref))``."""
    _checks.compute_dtype(x, "x")
    amin = _checks.positive_float("amin", amin, " (the floor below which values are clipped, e.g. 1e-10)")
    x_db = multiplier * torch.log10(torch.clamp(x, min=amin)) - multiplier * db_multiplier
    if top_db is None:
        return x_db
    top_db = _checks.non_negative_float("top_db", top_db, " (or None for no clipping)")
    shape = x_db.shape
    channels = shape[-3] if x_db.dim() > 2 else 1
    packed = x_db.reshape(-1, channels, shape[-2], shape[-1])
    floor = packed.amax(dim=(-3, -2, -1), keepdim=True) - top_db
    return torch.maximum(packed, floor).reshape(shape)


def DB_to_amplitude(x: torch.Tensor, ref: float, power: float) -> torch.Tensor:
    """Inverse of :func:`amplitude_to_DB` without clipping: ``ref · (10^(x / 10))^power`` (``power`` 1 for power,
    0.5 for amplitude)."""
    _checks.compute_dtype(x, "x")
    return ref * torch.pow(torch.pow(10.0, 0.1 * x), power)


def compute_deltas(specgram: torch.Tensor, win_length: int = 5, mode: str = "replicate") -> torch.Tensor:
    """Delta coefficients of ``specgram`` ``(..., freq, time)`` along time (see the module docstring)."""
    _checks.compute_dtype(specgram, "specgram")
    win_length = _checks.positive_int("win_length", win_length)
    if win_length < 3:
        raise ValueError(f"win_length={win_length} must be at least 3 (N = (win_length - 1) // 2 >= 1).")
    if specgram.dim() < 1 or specgram.shape[-1] < 1:
        raise ValueError(f"specgram has shape {tuple(specgram.shape)}; pass (..., freq, time) with time >= 1.")
    n = (win_length - 1) // 2
    shape = specgram.shape
    x = specgram.reshape(1, -1, shape[-1])
    x = F.pad(x, (n, n), mode=mode)
    denom = 2.0 * sum(k * k for k in range(1, n + 1))
    out = torch.zeros_like(x[..., n: x.shape[-1] - n])
    for k in range(1, n + 1):
        out = out + k * (x[..., n + k: x.shape[-1] - n + k] - x[..., n - k: x.shape[-1] - n - k])
    return (out / denom).reshape(shape)


def resample(waveform: torch.Tensor, orig_freq: int, new_freq: int, lowpass_filter_width: int = 6,
             rolloff: float = 0.99, resampling_method: str = "sinc_interp_hann", beta: float | None = None
             ) -> torch.Tensor:
    """``waveform`` ``(..., time)`` from ``orig_freq`` to ``new_freq`` (see the module docstring)."""
    dtype = _checks.compute_dtype(waveform, "waveform")
    kernel, width, o, n = sinc_resample_kernel(orig_freq, new_freq, lowpass_filter_width, rolloff, resampling_method,
                                               beta)
    if o == n:
        return waveform
    return apply_resample_kernel(waveform, torch.as_tensor(kernel, dtype=dtype, device=waveform.device), width, o, n)


def sinc_resample_kernel(orig_freq, new_freq, lowpass_filter_width=6, rolloff=0.99,
                         resampling_method="sinc_interp_hann", beta=None):
    """``(kernel (n, 2w + o) float64, w, o, n)`` for :func:`resample`."""
    orig = _checks.positive_int("orig_freq", int(orig_freq) if float(orig_freq).is_integer() else orig_freq)
    new = _checks.positive_int("new_freq", int(new_freq) if float(new_freq).is_integer() else new_freq)
    lpw = _checks.positive_int("lowpass_filter_width", lowpass_filter_width)
    rolloff = _checks.positive_float("rolloff", rolloff)
    _checks.choice("resampling_method", resampling_method, RESAMPLING_METHODS)
    g = math.gcd(orig, new)
    o, n = orig // g, new // g
    if o == n:
        return None, 0, o, n
    cutoff = min(o, n) * rolloff
    width = math.ceil(lpw * o / cutoff)
    i = np.arange(-width, width + o, dtype=np.float64)[None, :] / o
    tau = np.clip((i - np.arange(n, dtype=np.float64)[:, None] / n) * cutoff, -lpw, lpw)
    if resampling_method == "sinc_interp_hann":
        window = np.cos(tau * math.pi / lpw / 2.0) ** 2
    else:
        b = KAISER_BETA if beta is None else _checks.positive_float("beta", beta)
        window = np.i0(b * np.sqrt(np.maximum(0.0, 1.0 - (tau / lpw) ** 2))) / np.i0(b)
    return np.sinc(tau) * window * (cutoff / o), width, o, n


def apply_resample_kernel(waveform: torch.Tensor, kernel: torch.Tensor, width: int, o: int, n: int) -> torch.Tensor:
    """The resampled ``waveform`` ``(..., time)``: frames of ``2w + o`` samples every ``o`` times the kernel."""
    shape = waveform.shape
    x = waveform.reshape(-1, shape[-1]).to(kernel.dtype)
    length = x.shape[-1]
    frames = F.pad(x, (width, width + o)).unfold(-1, kernel.shape[-1], o)  # (B, M, 2w + o)
    out = torch.matmul(frames, kernel.t()).reshape(x.shape[0], -1)[:, : -(-n * length // o)]
    return out.reshape(tuple(shape[:-1]) + (out.shape[-1],))


def _mask_width(mask_param: int, p: float, size: int) -> int:
    mask_param = _checks.positive_int("mask_param", mask_param, minimum=0)
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p={p} must be in [0, 1] (the largest mask as a fraction of the axis).")
    return mask_param if p == 1.0 else min(mask_param, int(size * p))


def mask_along_axis(specgram: torch.Tensor, mask_param: int, mask_value: float, axis: int,
                    p: float = 1.0) -> torch.Tensor:
    """SpecAugment: one band ``[v0, v0 + v)`` along ``axis`` (``dim − 2``: frequency, ``dim − 1``: time) set to
    ``mask_value`` in every example, ``v ~ U[0, mask_param)``, ``v0 ~ U[0, size − v)`` (torch's global generator)."""
    _checks.compute_dtype(specgram, "specgram")
    dim = specgram.dim()
    if dim < 2 or axis not in (dim - 2, dim - 1):
        raise ValueError(f"axis={axis} must be {dim - 2} (frequency) or {dim - 1} (time) for a specgram of shape "
                         f"{tuple(specgram.shape)}.")
    return _mask_bands(specgram, mask_param, mask_value, axis, p, (), None)


def mask_along_axis_iid(specgrams: torch.Tensor, mask_param: int, mask_value: float, axis: int,
                        p: float = 1.0) -> torch.Tensor:
    """:func:`mask_along_axis` with an independent band for every example and channel of ``specgrams``
    ``(batch, channel, freq, time)`` (or ``(batch, freq, time)``)."""
    _checks.compute_dtype(specgrams, "specgrams")
    dim = specgrams.dim()
    if dim not in (3, 4) or axis not in (dim - 2, dim - 1):
        raise ValueError(f"specgrams has shape {tuple(specgrams.shape)} and axis={axis}; pass (batch, [channel,] "
                         f"freq, time) and axis {dim - 2} (frequency) or {dim - 1} (time).")
    return _mask_bands(specgrams, mask_param, mask_value, axis, p, specgrams.shape[: dim - 2], specgrams.device)


def _mask_bands(x: torch.Tensor, mask_param: int, mask_value: float, axis: int, p: float, lead, device):
    """``x`` with a band ``[v0, v0 + v)`` along ``axis`` (one of its last two) set to ``mask_value``, one band per
    index of ``lead`` (its leading axes, or ``()``: one for all), drawn on ``device``."""
    size = x.shape[axis]
    mask_param = _mask_width(mask_param, p, size)
    if mask_param < 1:
        return x
    width = torch.rand(lead, device=device) * mask_param
    start = torch.rand(lead, device=device) * (size - width)
    idx = torch.arange(size, device=x.device)
    lo = start.long().to(x.device)[..., None]
    band = (idx >= lo) & (idx < lo + width.long().to(x.device)[..., None])  # (*lead, size)
    return x.masked_fill(band[..., :, None] if axis == x.dim() - 2 else band[..., None, :], mask_value)


def padded_window(window: torch.Tensor, n_fft: int, win_length: int, dtype, device) -> torch.Tensor:
    """``window`` ``(win_length,)`` zero-padded about its centre to ``n_fft`` (as ``torch.stft`` pads it)."""
    if not isinstance(window, torch.Tensor) or window.shape != (win_length,):
        raise ValueError(f"window must be a ({win_length},) tensor (win_length={win_length}), got "
                         f"{getattr(window, 'shape', type(window).__name__)}.")
    left = (n_fft - win_length) // 2
    return F.pad(window.to(device=device, dtype=dtype), (left, n_fft - win_length - left))


def norm_scale(window: torch.Tensor, n_fft: int, normalized):
    """What a ``normalized`` spectrum is divided by: ``sqrt(Σ w²)`` (True, ``'window'``), ``sqrt(n_fft)``
    (``'frame_length'``) or 1."""
    if normalized is True or normalized == "window":
        return window.square().sum().sqrt()
    if normalized == "frame_length":
        return n_fft**0.5
    if normalized is False or normalized is None:
        return 1.0
    raise ValueError(f"normalized={normalized!r} is not supported; use False, True, 'window' or 'frame_length'.")


def spectrogram(waveform: torch.Tensor, pad: int, window: torch.Tensor, n_fft: int, hop_length: int,
                win_length: int, power: float | None, normalized, center: bool = True, pad_mode: str = "reflect",
                onesided: bool = True, return_complex=None) -> torch.Tensor:
    """torchaudio's ``spectrogram``: ``(..., time)`` → ``|X|^power`` ``(..., freq, frames)``, or the complex
    spectrum for ``power=None``; computed with the DFT times the (padded, normalised) ``window``, certified for the
    FFT paths (:func:`nnaudio_fast.functional.spectrogram_from_kernels`)."""
    from .. import functional as AF
    from ..functional.common import _basis

    n_fft = _checks.positive_int("n_fft", n_fft)
    x = F.pad(waveform, (pad, pad)) if _checks.positive_int("pad", pad, minimum=0) else waveform
    dtype = _checks.compute_dtype(x, "waveform")
    w = padded_window(window, n_fft, _checks.positive_int("win_length", win_length), dtype, x.device)
    w = w / norm_scale(window.to(dtype), n_fft, normalized)
    bins = n_fft // 2 + 1 if onesided else n_fft
    dcos, dsin = _basis(bases.fourier_kernels, (n_fft, n_fft, bins, "boxcar"), dtype, x.device)
    certificate = w if onesided else None
    if power is None:
        re, im = AF.stft_from_kernels(x, dcos * w, dsin * w, hop_length, center, pad_mode, dft_window=certificate)
        return torch.complex(re, im)
    return AF.spectrogram_from_kernels(x, dcos * w, dsin * w, None, hop_length, center, pad_mode, power,
                                       dft_window=certificate)


def inverse_spectrogram(spectrogram: torch.Tensor, length: int | None, pad: int, window: torch.Tensor, n_fft: int,
                        hop_length: int, win_length: int, normalized, center: bool = True, pad_mode: str = "reflect",
                        onesided: bool = True, backend: str | None = None) -> torch.Tensor:
    """torchaudio's ``inverse_spectrogram``: a complex ``(..., freq, frames)`` spectrogram → ``(..., time)`` by
    least-squares overlap-add with ``window``; with ``length`` the output is cut or padded to it and (as in
    torchaudio, only then) the ``pad`` removed."""
    from .. import functional as AF

    if not isinstance(spectrogram, torch.Tensor) or not spectrogram.is_complex():
        raise ValueError("spectrogram must be a complex tensor (..., freq, time), as spectrogram(power=None) returns; "
                         "use torch.view_as_complex on (..., 2) real pairs.")
    n_fft = _checks.positive_int("n_fft", n_fft)
    bins = n_fft // 2 + 1 if onesided else n_fft
    if spectrogram.dim() < 2 or spectrogram.shape[-2] != bins:
        raise ValueError(f"spectrogram has shape {tuple(spectrogram.shape)}; with n_fft={n_fft} and onesided="
                         f"{onesided} it must be (..., {bins}, frames).")
    pad = _checks.positive_int("pad", pad, minimum=0)
    dtype = _checks.compute_dtype(spectrogram.real, "spectrogram")
    w = padded_window(window, n_fft, _checks.positive_int("win_length", win_length), dtype, spectrogram.device)
    scale = norm_scale(window.to(dtype), n_fft, normalized)
    icos, isin = AF.inverse_kernels(n_fft, bins, dtype, spectrogram.device)
    total = None if length is None else _checks.positive_int("length", length) + 2 * pad
    y = AF.istft_from_kernels(spectrogram.real * scale, spectrogram.imag * scale, icos, isin, w, hop_length, center,
                              total, backend, dft=True)
    return y[..., pad: pad + length] if pad and length is not None else y


def spectral_centroid(waveform: torch.Tensor, sample_rate: int, pad: int, window: torch.Tensor, n_fft: int,
                      hop_length: int, win_length: int) -> torch.Tensor:
    """torchaudio's ``spectral_centroid``: ``(..., frames)``, ``Σ_k f_k |X_k| / Σ_k |X_k|`` with ``f_k`` equally
    spaced from 0 to ``sample_rate // 2``."""
    spec = spectrogram(waveform, pad, window, n_fft, hop_length, win_length, 1.0, False)
    freqs = torch.linspace(0, sample_rate // 2, spec.shape[-2], dtype=spec.dtype, device=spec.device)
    return (freqs[:, None] * spec).sum(dim=-2) / spec.sum(dim=-2)


def griffinlim(specgram: torch.Tensor, window: torch.Tensor, n_fft: int, hop_length: int, win_length: int,
               power: float, n_iter: int, momentum: float, length: int | None, rand_init: bool,
               backend: str | None = None) -> torch.Tensor:
    """torchaudio's ``griffinlim`` (fast Griffin-Lim, Perraudin et al. 2013): a ``(..., n_fft // 2 + 1, frames)``
    spectrogram ``|X|^power`` → ``(..., time)``. Each of ``n_iter`` rounds sets ``X ← STFT(iSTFT(S·e^{iφ}))`` and
    ``φ`` to the phase of ``X − α/(1+α)·X_prev`` (``α = momentum``); phases start random (``rand_init``, torch's
    generator) or at 0. Centred frames, reflect padding, with ``window``."""
    dtype = _checks.compute_dtype(specgram, "specgram")
    n_fft = _checks.positive_int("n_fft", n_fft)
    if specgram.dim() < 2 or specgram.shape[-2] != n_fft // 2 + 1:
        raise ValueError(f"specgram has shape {tuple(specgram.shape)}; it must be (..., {n_fft // 2 + 1}, frames).")
    momentum = float(momentum)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum={momentum} must be in [0, 1).")
    power = _checks.positive_float("power", power)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    shape = specgram.shape
    mag = specgram.reshape((-1,) + tuple(shape[-2:])).to(dtype).pow(1.0 / power)
    complex_dtype = torch.complex128 if dtype == torch.float64 else torch.complex64
    angles = (torch.rand if rand_init else torch.ones)(mag.shape, dtype=complex_dtype, device=mag.device)
    alpha = momentum / (1.0 + momentum)

    def inverse(spec):
        return inverse_spectrogram(spec, length, 0, window, n_fft, hop_length, win_length, False, backend=backend)

    previous = None
    for _ in range(n_iter):
        rebuilt = spectrogram(inverse(mag * angles), 0, window, n_fft, hop_length, win_length, None, False)
        angles = rebuilt if previous is None or not alpha else rebuilt - alpha * previous
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    y = inverse(mag * angles)
    return y.reshape(tuple(shape[:-2]) + (y.shape[-1],))
