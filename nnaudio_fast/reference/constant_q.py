"""Reference constant-Q operations in plain PyTorch.

Flat ``(batch, time)`` problems, float32 or float64, any device, differentiable by autograd with respect to the
waveform and every kernel tensor. Framing is ``unfold``/indexing and the products are ``matmul``/``bmm`` (never
``conv1d``, which runs in TF32 on CUDA by default), so results are FP32-exact on every device.

* :func:`cqt_single`: the single-rate transform (CQT1992v2): every bin correlated with its full-rate kernel.
* :func:`pyramid` / :func:`pyramid_adjoint`: the octave pyramid ``x_ℓ[n] = Σ_j h_j x_{ℓ−1}[2n − j]`` (a zero-phase
  half-band lowpass, only the kept samples computed, zeros outside the signal) and its exact transpose.
* :func:`cqt_multirate`: the multirate transform (CQT2010v2): octave ``i`` correlated, on pyramid level ``ℓ_i``,
  with decimated copies of its full-rate kernels, one kernel phase per ``t·hop mod 2^ℓ_i`` (see
  :func:`nnaudio_fast.bases.cqt_multirate_kernels` for the design and why any hop works), on the pyramid it is
  given.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import geometry
from ..primitives import pad, portable
from .fourier import stft


def cqt_single(x, kr, ki, hop_length: int, center: bool, pad_mode: str, *, precision=None, support=None):
    """Single-rate CQT ``(re, im)``, each ``(B, n_bins, T)``: ``C = frames·krᵀ − i·frames·kiᵀ``.
    ``support`` (the taps of each kernel that may be non-zero) is ignored: the product is dense.

    This is the STFT product with CQT kernels (``kr``, ``ki``: ``(n_bins, W)``, tap ``j`` at offset ``j − W//2``
    from the frame centre, :func:`nnaudio_fast.bases.cqt_kernels`); a backend may specialise it.
    """
    return stft(x, kr, ki, hop_length, center, pad_mode)


def _odd_taps(h: torch.Tensor):
    """Centre tap and the odd taps ``g_k = h[K + 2k + 1]`` of a symmetric half-band filter (even taps are 0)."""
    k = (h.shape[0] - 1) // 2
    return h[k], h[k + 1 :: 2]


def _halve(x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """One pyramid stage in polyphase form: with ``e[n] = x[2n]``, ``o[n] = x[2n + 1]``,
    ``y[n] = c·e[n] + Σ_k g_k (o[n − k − 1] + o[n + k])`` (only the kept samples are computed)."""
    c, g = _odd_taps(h)
    kk = g.shape[0]
    e, o = x[..., 0::2], x[..., 1::2]
    n = e.shape[-1]
    op = F.pad(o, (kk, kk + n - o.shape[-1]))
    y = c * e
    for k in range(kk):
        y = y + g[k] * (op[..., kk - k - 1 : kk - k - 1 + n] + op[..., kk + k : kk + k + n])
    return y


def pyramid(x: torch.Tensor, h: torch.Tensor, n_levels: int, *, precision=None) -> tuple[torch.Tensor, ...]:
    """Levels ``1 … n_levels`` of the half-band pyramid of ``x`` ``(B, N)``; level ``ℓ`` has ``⌈N/2^ℓ⌉`` samples.

    ``h``: symmetric filter taps ``(2K + 1,)`` (:func:`nnaudio_fast.bases.halfband_lowpass`).
    """
    out = []
    for _ in range(n_levels):
        x = _halve(x, h)
        out.append(x)
    return tuple(out)


def _halve_adjoint(g_out: torch.Tensor, h: torch.Tensor, length: int) -> torch.Tensor:
    """Transpose of :func:`_halve` for an input of ``length`` samples: ``ē[n] = c·ȳ[n]``,
    ``ō[m] = Σ_k g_k (ȳ[m + k + 1] + ȳ[m − k])``, interleaved back into ``x̄``."""
    c, g = _odd_taps(h)
    kk = g.shape[0]
    n_odd = length // 2
    yp = F.pad(g_out, (kk, kk))
    o = torch.zeros_like(g_out[..., :n_odd])
    for k in range(kk):
        o = o + g[k] * (yp[..., kk + k + 1 : kk + k + 1 + n_odd] + yp[..., kk - k : kk - k + n_odd])
    e = c * g_out
    o = F.pad(o, (0, e.shape[-1] - n_odd))
    return torch.stack((e, o), -1).reshape(g_out.shape[:-1] + (2 * e.shape[-1],))[..., :length]


def pyramid_adjoint(grads, h: torch.Tensor, length: int, *, precision=None) -> torch.Tensor:
    """Adjoint of :func:`pyramid`: given cotangents ``grads[ℓ−1]`` of levels ``ℓ = 1 … L``, the cotangent of the
    input ``(B, length)``, so that ``Σ_ℓ ⟨pyramid(x)_ℓ, y_ℓ⟩ = ⟨x, pyramid_adjoint(y)⟩``."""
    lengths = [length] + geometry.level_lengths(length, len(grads))
    g = grads[-1]
    for lvl in range(len(grads), 0, -1):
        g = _halve_adjoint(g, h, lengths[lvl - 1])
        if lvl > 1:
            g = g + grads[lvl - 2]
    return g


def _octave(y: torch.Tensor, kernel: torch.Tensor, first: int, hop: int, d: int, n_frames: int) -> torch.Tensor:
    """``(B, T, 2n)`` products of level signal ``y`` with one octave's kernel ``(P, 2n, W)``.

    Frame ``t`` reads ``y[(t·hop) // d + first + j]``, ``j < W``, with kernel phase ``t mod P``.
    """
    n_ph, rows, width = kernel.shape
    if n_ph == 1 and not portable():  # d divides hop: a strided view, one matmul (a gather in portable graphs)
        fr = y[:, first:].unfold(-1, width, hop // d)[:, :n_frames]
        return torch.matmul(fr, kernel[0].t())
    taps = torch.arange(width, device=y.device)
    if portable():  # phase by phase, gathers and a scatter only (no shape guards an exporter cannot prove)
        out = y.new_zeros(y.shape[0], n_frames, rows)
        for p in range(n_ph):
            t = torch.arange(p, n_frames, n_ph, device=y.device)
            idx = torch.div(t * hop, d, rounding_mode="floor")[:, None] + first + taps
            out[:, t] = torch.matmul(y[:, idx], kernel[p].t())
        return out
    t = torch.arange(n_frames, device=y.device)
    idx = torch.div(t * hop, d, rounding_mode="floor")[:, None] + first + taps
    fr = y[:, idx]  # (B, T, W)
    b = fr.shape[0]
    s = -(-n_frames // n_ph)
    fr = F.pad(fr, (0, 0, 0, s * n_ph - n_frames))
    fr = fr.reshape(b, s, n_ph, width).permute(2, 0, 1, 3).reshape(n_ph, b * s, width)
    out = torch.bmm(fr, kernel.transpose(1, 2))  # (P, B·S, 2n)
    return out.reshape(n_ph, b, s, rows).permute(1, 2, 0, 3).reshape(b, s * n_ph, rows)[:, :n_frames]


def cqt_multirate(x, kernels, offsets, levels, hop_length: int, pad_amount: int, h, pad_mode: str, *,
                  precision=None, pyramid=pyramid):
    """Multirate CQT ``(re, im)``, each ``(B, n_bins, T)`` with ``T = 1 + N // hop`` (frames centred on
    ``t·hop``), bins ascending (the lowest octave first).

    Parameters
    ----------
    x : ``(B, N)``
    kernels : sequence of ``(P_i, 2·n_i, W_i)``, top octave first (real rows, then imaginary rows).
    offsets, levels : per octave, the level-sample offset of tap 0 and the pyramid level.
    hop_length : frame step in input samples (any positive integer).
    pad_amount : ``pad_mode`` padding on each side, a multiple of ``2^max(levels)`` large enough that no frame
        sees the zeros beyond it through the filter (:class:`nnaudio_fast.bases.MultirateCQTPlan`).
    h : the pyramid's half-band taps.
    pyramid : the function computing the levels, ``pyramid(x, h, n_levels)`` (:func:`pyramid` or a backend's:
        dispatch runs this algorithm on the C++ extension's pyramid for the ``cpp`` backend).
    precision : ignored (see :mod:`nnaudio_fast.precision`).
    """
    n_frames = geometry.n_frames(x.shape[-1], hop_length)
    xp = pad(x, pad_amount, pad_amount, pad_mode)
    n_levels = max(levels)
    lv = (xp,) + tuple(pyramid(xp, h, n_levels)) if n_levels else (xp,)
    res, ims = [], []
    for kernel, first, level in zip(kernels, offsets, levels):
        d = 2**level
        out = _octave(lv[level], kernel, pad_amount // d + first, hop_length, d, n_frames).transpose(1, 2)
        n = kernel.shape[1] // 2
        res.append(out[:, :n])
        ims.append(-out[:, n:])
    return torch.cat(res[::-1], 1), torch.cat(ims[::-1], 1)
