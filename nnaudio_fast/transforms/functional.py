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
           "resample", "RESAMPLING_METHODS", "mask_along_axis", "mask_along_axis_iid"]

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


def _band(size: int, width: torch.Tensor, start: torch.Tensor, device) -> torch.Tensor:
    """``[start, start + width)`` on ``0 … size − 1`` as a boolean mask (widths and starts floored)."""
    idx = torch.arange(size, device=device)
    lo = start.long()
    return (idx >= lo[..., None]) & (idx < (lo + width.long())[..., None])


def mask_along_axis(specgram: torch.Tensor, mask_param: int, mask_value: float, axis: int,
                    p: float = 1.0) -> torch.Tensor:
    """SpecAugment: one band ``[v0, v0 + v)`` along ``axis`` (``dim − 2``: frequency, ``dim − 1``: time) set to
    ``mask_value`` in every example, ``v ~ U[0, mask_param)``, ``v0 ~ U[0, size − v)`` (torch's global generator)."""
    _checks.compute_dtype(specgram, "specgram")
    dim = specgram.dim()
    if dim < 2 or axis not in (dim - 2, dim - 1):
        raise ValueError(f"axis={axis} must be {dim - 2} (frequency) or {dim - 1} (time) for a specgram of shape "
                         f"{tuple(specgram.shape)}.")
    size = specgram.shape[axis]
    mask_param = _mask_width(mask_param, p, size)
    if mask_param < 1:
        return specgram
    width = torch.rand(1) * mask_param
    start = torch.rand(1) * (size - width)
    band = _band(size, width, start, specgram.device)[0]
    return specgram.masked_fill(band[:, None] if axis == dim - 2 else band, mask_value)


def mask_along_axis_iid(specgrams: torch.Tensor, mask_param: int, mask_value: float, axis: int,
                        p: float = 1.0) -> torch.Tensor:
    """:func:`mask_along_axis` with an independent band for every example and channel of ``specgrams``
    ``(batch, channel, freq, time)`` (or ``(batch, freq, time)``)."""
    _checks.compute_dtype(specgrams, "specgrams")
    dim = specgrams.dim()
    if dim not in (3, 4) or axis not in (dim - 2, dim - 1):
        raise ValueError(f"specgrams has shape {tuple(specgrams.shape)} and axis={axis}; pass (batch, [channel,] "
                         f"freq, time) and axis {dim - 2} (frequency) or {dim - 1} (time).")
    size = specgrams.shape[axis]
    mask_param = _mask_width(mask_param, p, size)
    if mask_param < 1:
        return specgrams
    lead = specgrams.shape[: dim - 2]
    width = torch.rand(lead, device=specgrams.device) * mask_param
    start = torch.rand(lead, device=specgrams.device) * (size - width)
    band = _band(size, width, start, specgrams.device)  # (*lead, size)
    band = band[..., :, None] if axis == dim - 2 else band[..., None, :]
    return specgrams.masked_fill(band, mask_value)
