"""Plain-PyTorch building blocks that the backends and the functional API share: padding, framing, the kernel
product, overlap-add, magnitude and phase. Part of the backend contract (:mod:`nnaudio_fast.dispatch`): a backend
may build on these, never on another backend.

Framing uses ``Tensor.unfold`` (a view) and, while a graph is exported or traced (:func:`portable`), gathers, which
every exporter handles for any input length without shape guards.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .geometry import n_frames

def portable() -> bool:
    """Whether a graph meant to run elsewhere is being built (``torch.export``, ``torch.jit.trace``): framing and
    padding then use gathers, which every exporter handles for any input length without shape guards."""
    return torch.compiler.is_exporting() or torch.jit.is_tracing()


def _mod(idx: torch.Tensor, n) -> torch.Tensor:
    # A tensor divisor: the ONNX exporter cannot lower a remainder by a symbolic (dynamic-length) scalar.
    return torch.remainder(idx, torch.full((), n, dtype=idx.dtype, device=idx.device))


def pad_indices(length: int, left: int, right: int, mode: str, device=None) -> torch.Tensor:
    """Source index of each sample of the padded signal, for the index-based modes.

    ``reflect`` mirrors about the end samples without repeating them and, like :func:`numpy.pad`, keeps
    reflecting when the padding is longer than the signal (the signal extended with period ``2·(length − 1)``).
    """
    idx = torch.arange(-left, length + right, device=device)
    if mode == "reflect":
        if length == 1:
            return torch.zeros_like(idx)
        period = 2 * (length - 1)
        idx = _mod(idx, period)
        return torch.where(idx >= length, period - idx, idx)
    if mode == "replicate":
        return idx.clamp(0, length - 1)
    if mode == "circular":
        return _mod(idx, length)
    raise ValueError(f"pad_indices does not handle mode={mode!r}")


#: Signals at least this long are reflect/replicate-padded by concatenating their edges (shorter ones by F.pad,
#: faster there: 11 against 15 µs at 1600 samples).
CAT_PAD_LENGTH = 4096


def pad(x: torch.Tensor, left: int, right: int, mode: str) -> torch.Tensor:
    """Pad the last axis of ``x`` by ``left``/``right`` samples; any padding length works in every mode."""
    if left == 0 and right == 0:
        return x
    if mode == "constant":
        return F.pad(x, (left, right))
    length = x.shape[-1]
    # portable() first: under torch.export a comparison of the (symbolic) length would put a guard on it
    if not portable() and mode in ("reflect", "replicate") and length >= CAT_PAD_LENGTH and max(left, right) < length:
        # the edges copied next to the signal: one pass over it, where F.pad's reflect kernel takes 4-7x as long
        # (2.5 ms against 0.35-0.55 ms for 16 x 10 s at 16 kHz, 200 samples each side)
        if mode == "reflect":
            parts = (x[..., 1: left + 1].flip(-1), x, x[..., length - right - 1: length - 1].flip(-1))
        else:
            shape = tuple(x.shape[:-1])
            parts = (x[..., :1].expand(shape + (left,)), x, x[..., -1:].expand(shape + (right,)))
        return torch.cat(parts, -1)
    if x.dim() == 2 and not portable() and (
        mode == "replicate" or max(left, right) < length or (mode == "circular" and max(left, right) == length)
    ):
        # PyTorch's own kernels are much faster than a gather; they only cover padding up to the signal length.
        return F.pad(x[:, None], (left, right), mode=mode)[:, 0]
    return x.index_select(-1, pad_indices(length, left, right, mode, device=x.device))


def frames(x: torch.Tensor, n_fft: int, hop_length: int, center: bool, pad_mode: str) -> torch.Tensor:
    """``(B, L)`` → ``(B, T, n_fft)`` frames (a strided view when no padding copy is needed; a gather under
    :func:`portable` graphs)."""
    if center:
        x = pad(x, n_fft // 2, n_fft // 2, pad_mode)
    if portable():
        starts = torch.arange(n_frames(x.shape[-1], hop_length, n_fft, center=False), device=x.device) * hop_length
        return x[:, starts[:, None] + torch.arange(n_fft, device=x.device)]
    return x.unfold(-1, n_fft, hop_length)


def kernel_product(x: torch.Tensor, kr: torch.Tensor, ki: torch.Tensor, hop_length: int, center: bool,
                   pad_mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(re, im)``, each ``(B, K, T)``, of ``frames·krᵀ − i·frames·kiᵀ`` for kernels ``(K, W)`` (Fourier or CQT):
    the definition of the STFT-like transforms, one product with the stacked kernels."""
    n = kr.shape[0]
    out = torch.matmul(frames(x, kr.shape[-1], hop_length, center, pad_mode), torch.cat((kr, ki), 0).t())
    out = out.transpose(1, 2)
    return out[:, :n], -out[:, n:]


class _Magnitude(torch.autograd.Function):
    """``sqrt(re² + im²)`` whose gradient is 0, not NaN, where the magnitude is 0 (silence)."""

    @staticmethod
    def forward(ctx, re, im):
        mag = torch.sqrt(re * re + im * im)
        ctx.save_for_backward(re, im, mag)
        return mag

    @staticmethod
    def backward(ctx, grad):
        re, im, mag = ctx.saved_tensors
        scale = torch.where(mag > 0, grad / mag, torch.zeros_like(mag))
        return scale * re, scale * im


def magnitude(re: torch.Tensor, im: torch.Tensor) -> torch.Tensor:
    """``|X|`` with a finite (zero) gradient at ``X = 0``. Twice differentiable away from 0. Under
    ``torch.jit.trace`` plain ``sqrt(re² + im²)`` (the legacy ONNX exporter cannot export autograd Functions; its
    gradient is NaN where ``X = 0``)."""
    if torch.jit.is_tracing() or not (torch.is_grad_enabled() and (re.requires_grad or im.requires_grad)):
        return torch.sqrt(re * re + im * im)  # no gradient needed: no autograd Function either
    return _Magnitude.apply(re, im)


def power_spectrum(re: torch.Tensor, im: torch.Tensor, power: float) -> torch.Tensor:
    """``|X|^power``; ``power=2`` is computed as ``re² + im²`` (exact, smooth), other powers via :func:`magnitude`."""
    if power == 2.0:
        return re * re + im * im
    if power == 1.0:
        return magnitude(re, im)
    return magnitude(re, im) ** power


def phase(re: torch.Tensor, im: torch.Tensor) -> torch.Tensor:
    """``atan2(im, re)``; ``+ 0.0`` turns ``-0.0`` into ``+0.0`` so silent bins have phase 0, not ±π."""
    return torch.atan2(im + 0.0, re + 0.0)


#: ``log`` argument of :func:`log_spectrogram` → the factor ``c`` of ``c·ln max(S, amin)``.
LOG_SCALES = {"log": 1.0, "log10": 1.0 / math.log(10.0), "db": 10.0 / math.log(10.0)}


def log_scale(spec: torch.Tensor, log: str, amin: float) -> torch.Tensor:
    """``c·ln max(spec, amin)`` with ``c = LOG_SCALES[log]``."""
    return LOG_SCALES[log] * torch.log(torch.clamp(spec, min=amin))


def overlap_add(frames_: torch.Tensor, hop_length: int) -> torch.Tensor:
    """``(B, T, N)`` frames → ``(B, N + hop·(T − 1))`` signal, frames summed where they overlap."""
    b, t, n = frames_.shape
    out_len = n + hop_length * (t - 1)
    blocks = -(-n // hop_length)  # frame t covers hop-sized output blocks t … t + blocks − 1
    if blocks > 16:  # many small hops: one fold is cheaper than many slice-adds
        return F.fold(frames_.transpose(1, 2), (1, out_len), kernel_size=(1, n), stride=(1, hop_length)).reshape(b, -1)
    # Split each frame into hop-sized blocks; block r of frame t lands in output block t + r. A few strided
    # additions beat F.fold (col2im) on the CPU by an order of magnitude.
    padded = F.pad(frames_, (0, blocks * hop_length - n)).reshape(b, t, blocks, hop_length)
    y = frames_.new_zeros(b, t + blocks - 1, hop_length)
    for r in range(blocks):
        y[:, r : r + t] += padded[:, :, r]
    return y.reshape(b, -1)[:, :out_len]


def window_sumsquare(window: torch.Tensor, count: int, hop_length: int) -> torch.Tensor:
    """``Σ_t w[n − t·hop]²`` over ``count`` frames: the normaliser of the least-squares iSTFT."""
    w2 = (window * window).reshape(1, 1, -1).expand(1, count, -1)
    return overlap_add(w2, hop_length)[0]


def synthesize(frames_: torch.Tensor, window, hop_length: int, center: bool, length: int | None) -> torch.Tensor:
    """The iSTFT after the per-frame inverse DFT: ``(B, T, N)`` frames → windowed, overlap-added, normalised by
    ``Σ w²`` where that exceeds the dtype's ``tiny``, trimmed (``N // 2`` each side when ``center``) or cut/padded
    to ``length``."""
    n = frames_.shape[-1]
    y = overlap_add(frames_ * window, hop_length)
    wss = window_sumsquare(window, frames_.shape[1], hop_length)
    tiny = torch.finfo(wss.dtype).tiny
    y = torch.where(wss > tiny, y / torch.where(wss > tiny, wss, torch.ones_like(wss)), y)
    start = n // 2 if center else 0
    if length is None:
        end = y.shape[-1] - (n // 2 if center else 0)
        return y[:, start:end]
    y = y[:, start : start + length]
    if y.shape[-1] < length:
        y = F.pad(y, (0, length - y.shape[-1]))
    return y
