"""Reference backend: the ground truth of every test, in plain PyTorch.

Every function works on flat ``(batch, time)`` problems (the functional layer reshapes), in float32 or float64 (the
basis tensors decide nothing: the caller casts them to the input's dtype), on any device, and is differentiable by
PyTorch's autograd with respect to the waveform and every basis tensor.

Framing uses ``Tensor.unfold`` and the basis product ``torch.matmul``, not ``conv1d``: on CUDA, cuDNN convolutions
run in TF32 by default (``torch.backends.cudnn.allow_tf32``), whereas matmul follows
``torch.get_float32_matmul_precision()`` ('highest' by default), so the reference stays FP32-exact on every device.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

PAD_MODES = ("constant", "reflect", "replicate", "circular")
_PAD_ALIASES = {"edge": "replicate", "wrap": "circular", "zeros": "constant"}


def canonical_pad_mode(pad_mode: str) -> str:
    """``pad_mode`` as one of :data:`PAD_MODES` (librosa's ``'edge'`` and ``'wrap'`` are accepted as aliases)."""
    mode = _PAD_ALIASES.get(pad_mode, pad_mode)
    if mode not in PAD_MODES:
        raise ValueError(
            f"pad_mode={pad_mode!r} is not supported; use one of {PAD_MODES} (or the aliases 'edge', 'wrap')."
        )
    return mode


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


def pad(x: torch.Tensor, left: int, right: int, mode: str) -> torch.Tensor:
    """Pad the last axis of ``x`` by ``left``/``right`` samples; any padding length works in every mode."""
    if left == 0 and right == 0:
        return x
    if mode == "constant":
        return F.pad(x, (left, right))
    length = x.shape[-1]
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
        n_frames = (x.shape[-1] - n_fft) // hop_length + 1
        starts = torch.arange(n_frames, device=x.device) * hop_length
        return x[:, starts[:, None] + torch.arange(n_fft, device=x.device)]
    return x.unfold(-1, n_fft, hop_length)


def stft(x, wcos, wsin, hop_length: int, center: bool, pad_mode: str, dft_window=None):
    """Real and imaginary parts ``(B, F, T)`` of ``X = frames·wcosᵀ − i·frames·wsinᵀ``.

    ``dft_window`` (every backend takes it): when not None, the caller certifies that ``wcos``/``wsin`` are the
    one-sided DFT kernels windowed by it, so a backend may use an FFT. The reference ignores it.
    """
    n_bins = wcos.shape[0]
    fr = frames(x, wcos.shape[-1], hop_length, center, pad_mode)
    out = torch.matmul(fr, torch.cat((wcos, wsin), 0).t()).transpose(1, 2)
    return out[:, :n_bins], -out[:, n_bins:]


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
    if torch.jit.is_tracing():
        return torch.sqrt(re * re + im * im)
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


def spectrogram(x, wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, dft_window=None):
    """``fbank @ |STFT(x)|^power`` of shape ``(B, M, T)``; ``fbank=None`` returns ``|STFT(x)|^power``."""
    re, im = stft(x, wcos, wsin, hop_length, center, pad_mode)
    spec = power_spectrum(re, im, power)
    return spec if fbank is None else torch.matmul(fbank, spec)


#: ``log`` argument of :func:`log_spectrogram` → the factor ``c`` of ``c·ln max(S, amin)``.
LOG_SCALES = {"log": 1.0, "log10": 1.0 / math.log(10.0), "db": 10.0 / math.log(10.0)}


def log_spectrogram(x, wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, log: str,
                    amin: float, dft_window=None):
    """``c·ln max(spectrogram(...), amin)``: natural log (``log='log'``), ``'log10'``, or decibels (``'db'``,
    ``10·log10``; :func:`nnaudio_fast.functional.power_to_db` without ``ref`` and ``top_db``)."""
    spec = spectrogram(x, wcos, wsin, fbank, hop_length, center, pad_mode, power)
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


def window_sumsquare(window: torch.Tensor, n_frames: int, hop_length: int) -> torch.Tensor:
    """``Σ_t w[n − t·hop]²`` over ``n_frames`` frames: the normaliser of the least-squares iSTFT."""
    w2 = (window * window).reshape(1, 1, -1).expand(1, n_frames, -1)
    return overlap_add(w2, hop_length)[0]


def istft(re, im, icos, isin, window, hop_length: int, center: bool, length: int | None, dft: bool = False):
    """Least-squares inverse STFT (Griffin & Lim 1984): windowed inverse DFT of each frame, overlap-added and
    divided by the window's sum of squares where that is non-negligible (as librosa does).

    ``re``, ``im``: ``(B, F, T)``; ``icos``, ``isin``: ``(F, N)`` synthesis kernels with the ``1/N`` and the
    one-sided weights folded in, so a frame is ``reᵀ·icos − imᵀ·isin``; ``window``: ``(N,)``.
    ``dft`` (every backend takes it): the caller certifies that ``icos``/``isin`` are exactly
    :func:`nnaudio_fast.functional.inverse_kernels`, so a backend may use an inverse FFT. The reference ignores it.
    """
    frames_ = torch.matmul(re.transpose(1, 2), icos) - torch.matmul(im.transpose(1, 2), isin)
    return synthesize(frames_, window, hop_length, center, length)


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


def unavailable_reason() -> None:
    """The reference backend is always available."""
    return None


def runs_on(device: torch.device) -> bool:
    return True


# Constant-Q operations live in their own module; they are part of this backend's namespace.
from .reference_cqt import cqt_multirate, cqt_single, level_lengths, pyramid, pyramid_adjoint  # noqa: E402,F401
