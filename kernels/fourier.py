"""Fused Triton kernels for the Fourier family: STFT, power/magnitude spectrogram, filterbank (mel, gammatone) and
log spectrograms, with their backward passes.

Notation: ``x`` is a flat ``(B, L)`` waveform, ``N = n_fft``, ``F`` frequency bins, ``T`` frames, ``h = hop``. With
centring, the signal is padded by ``left = N // 2`` samples on each side; the padded position ``i`` (relative to the
first real sample, so ``i < 0`` lies in the left pad) reads ``x[src(i)]`` where ``src`` is
:func:`nnaudio_fast.reference.pad_indices` (reflect keeps reflecting with period ``2(L − 1)``, like ``numpy.pad``)
or zero (``constant``). A frame is ``A[b, t, n] = x_pad[b, t·h + n]`` and

    re[b, f, t] =  Σ_n A[b, t, n] · wcos[f, n]          im[b, f, t] = −Σ_n A[b, t, n] · wsin[f, n]
    S = (re² + im²)^(p/2)       out[b, m, t] = Σ_f fbank[m, f] · S[b, f, t]       (optionally c·ln max(out, amin))

Forward (``_fwd_kernel``): one program per ``(batch, tile of frames)`` (and per tile of bins or filters). The frame
tile is gathered straight from the waveform by index arithmetic (no padded copy, no frames tensor), multiplied with
basis tiles on tensor cores (``tl.dot``, fp32 accumulation), and reduced in registers by the epilogue: complex
(``re``, ``im``), ``|X|^p``, or ``|X|^p`` projected on the filterbank (and logged) so that the linear spectrogram
never reaches memory. Pad arithmetic (a 64-bit remainder) only runs in tiles that touch the signal's edges.

Backward (every reduction in a fixed order: deterministic, no atomics):

* ``dA[b, t, n] = Σ_f g_re[b, f, t]·wcos[f, n] − g_im[b, f, t]·wsin[f, n]`` is never materialised. Writing a padded
  position as ``p = q·h + r`` (``0 ≤ r < h``), the frames covering it are ``t = q − j`` for ``0 ≤ j < ⌈N/h⌉`` at
  offset ``n = j·h + r``, so ``dx_pad[q·h + r] = Σ_j Σ_f g[f, q − j] · w[f, j·h + r]``: a sum of ``⌈N/h⌉`` small
  matmuls over a ``(q, r)`` tile (``_ola_grad_kernel``), a gather rather than a scatter. ``_pad_fold_kernel`` then
  folds the padding back onto the signal (adjoint of ``src``: each sample gathers the padded positions that read it,
  enumerated by the reflection/circular period).
* ``dwcos[f, n] = Σ_{b,t} g_re[b, f, t]·A[b, t, n]`` and ``dwsin = −Σ g_im·A`` (``_outer_kernel``, frames again by
  index arithmetic), split over ``(b, t)`` chunks into per-split partial sums that are added in a fixed order.
* Spectrogram → ``(g_re, g_im)``: ``gS = fbankᵀ·g_out`` and ``g_re = gS·∂S/∂re = gS·p·P^(p/2−1)·re`` (0 where
  ``P = 0``, the reference's NaN-free convention) with the spectrum recomputed tile by tile (``_spec_grad_kernel``,
  FlashAttention-style recomputation instead of saving ``(B, F, T)`` activations). The filterbank gradient is
  ``Σ_{b,t} g_out[b, m, t]·S[b, f, t]`` (``_outer_kernel`` without framing).

Precision (``tl.dot`` on fp32 operands; the modes are resolved in :mod:`nnaudio_fast.kernels`):

* ``'exact'`` -- ``input_precision="tf32x3"``: each operand is split into a TF32 high part and a TF32 remainder and
  three tensor-core products are summed (Henry, Tang & Heinecke, "Leveraging the bfloat16 Artificial Intelligence
  Datatype for Higher-Precision Computations", ARITH 2019, applied to TF32). About 22 significant bits per operand
  and fp32 accumulation: median relative power error ≈3e-7 (emulated). On Hopper this is ≈3× faster than
  ``'ieee'``, which runs on the FP32 SIMT units.
* ``'ieee'`` -- true FP32 fused multiply-adds (no tensor cores).
* ``'tf32'`` -- one TF32 pass (10-bit mantissa): ≈1e-3 relative error per bin.
* ``'bf16'`` -- operands rounded to bfloat16, fp32 accumulation: ≈1e-2 per bin.
  In Triton's interpreter (``TRITON_INTERPRET=1``), which computes every ``tl.dot`` in numpy fp32, bf16 is emulated
  by rounding the operands (``EMULATE_BF16``) and tf32/tf32x3 are plain fp32.

Waveforms may be fp16/bf16/fp32; they are converted to fp32 on load, and squares and sums are fp32 (fp16 power
overflows at 65,504). Offsets are 64-bit; lengths and strides are ``do_not_specialize`` so clips of varying length
reuse one compiled kernel.

The cuFFT engine (:mod:`nnaudio_fast.kernels.fourier_ops` chooses it for plain-DFT bases at large ``n_fft``) uses
``_frames_kernel`` (windowed frames, padding by index arithmetic), ``torch.fft.rfft``, and then ``_fwd_kernel`` /
``_spec_grad_kernel`` with ``SOURCE=1`` (spectrum read from memory) so the power, filterbank and log stay fused; its
input gradient is an inverse real FFT, ``_ola_frames_kernel`` and ``_pad_fold_kernel``.

Block sizes are starting points chosen without a GPU (:func:`_blocks`); see ``benchmarks/gpu_fourier.py`` and the
tuning notes in :mod:`nnaudio_fast.kernels.fourier_ops`.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl

from ..geometry import n_frames
from ..precision import MODES

PAD_NONE, PAD_CONSTANT, PAD_REFLECT, PAD_REPLICATE, PAD_CIRCULAR = 0, 1, 2, 3, 4
PAD_CODES = {"constant": PAD_CONSTANT, "reflect": PAD_REFLECT, "replicate": PAD_REPLICATE, "circular": PAD_CIRCULAR}
DOT_PRECISION = {name: mode.triton_dot for name, mode in MODES.items()}
EPI_COMPLEX, EPI_POWER, EPI_FILTERBANK = 0, 1, 2
SOURCE_FRAMES, SOURCE_SPECTRUM = 0, 1

INTERPRET = os.environ.get("TRITON_INTERPRET", "0") == "1"
_POISON = os.environ.get("NNAUDIO_FAST_POISON", "0") == "1"


# ----------------------------------------------------------------------------------------------------------------
# device helpers
# ----------------------------------------------------------------------------------------------------------------
@triton.jit
def mma(a, b, acc, PREC: tl.constexpr, EMULATE_BF16: tl.constexpr):
    """``acc + a @ b`` in the requested precision (fp32 accumulation)."""
    if PREC == "bf16":
        if EMULATE_BF16:
            out = tl.dot(a.to(tl.bfloat16).to(tl.float32), b.to(tl.bfloat16).to(tl.float32), acc,
                         input_precision="ieee")
        else:
            out = tl.dot(a.to(tl.bfloat16), b.to(tl.bfloat16), acc)
    else:
        out = tl.dot(a, b, acc, input_precision=PREC)
    return out


@triton.jit
def source_index(i, L, PAD: tl.constexpr):
    """Sample of the unpadded signal read at padded position ``i`` (int64), and whether it reads one at all."""
    if PAD == 2:  # reflect about the end samples, repeating with period 2(L - 1) (numpy.pad semantics)
        period = tl.maximum(2 * (L - 1), 1)  # L == 1: every position reads sample 0
        m = i % period
        m = tl.where(m < 0, m + period, m)
        src = tl.where(m >= L, period - m, m)
        valid = i == i
    elif PAD == 3:  # replicate
        src = tl.minimum(tl.maximum(i, 0), L - 1)
        valid = i == i
    elif PAD == 4:  # circular
        m = i % L
        src = tl.where(m < 0, m + L, m)
        valid = i == i
    else:  # constant zeros (or no padding: every position is inside)
        valid = (i >= 0) & (i < L)
        src = tl.where(valid, i, 0)
    return src, valid


@triton.jit
def _load_frames(x_row, stride_xl, L, row0, k, mask, interior, PAD: tl.constexpr):
    """Frame tile ``A[t, k] = x_pad[row0[t] + k]`` as fp32; ``row0`` is int64 (frame start minus the left pad)."""
    i = row0[:, None] + k[None, :].to(tl.int64)
    if interior:  # the whole tile reads real samples: no pad arithmetic
        a = tl.load(x_row + i * stride_xl, mask=mask, other=0.0)
    else:
        src, valid = source_index(i, L, PAD)
        a = tl.load(x_row + src * stride_xl, mask=mask & valid, other=0.0)
    return a.to(tl.float32)


@triton.jit
def _tile_interior(t0, T, L, N, hop, left, BLOCK_T: tl.constexpr):
    """True when every frame of the tile starting at frame ``t0`` lies inside the unpadded signal."""
    first = t0.to(tl.int64) * hop - left
    last = (tl.minimum(t0 + BLOCK_T, T) - 1).to(tl.int64) * hop - left + N
    return (first >= 0) & (last <= L)


@triton.jit
def _spectrum_tile(x_row, stride_xl, L, row0, t_mask, interior, wc_ptr, ws_ptr, s_wcf, s_wcn, s_wsf, s_wsn,
                   spec_row, s_st, s_sf, t, f, f_mask, N,
                   PAD: tl.constexpr, SOURCE: tl.constexpr, PREC: tl.constexpr, EMULATE_BF16: tl.constexpr,
                   BLOCK_T: tl.constexpr, BLOCK_F: tl.constexpr, BLOCK_K: tl.constexpr):
    """``(re, im)`` of shape ``(BLOCK_T, BLOCK_F)``: a direct DFT of the frames, or read from an rfft spectrum."""
    if SOURCE == 1:
        ptr = spec_row + t.to(tl.int64)[:, None] * s_st + f.to(tl.int64)[None, :] * s_sf
        mask = t_mask[:, None] & f_mask[None, :]
        re = tl.load(ptr, mask=mask, other=0.0)
        im = tl.load(ptr + 1, mask=mask, other=0.0)
    else:
        re = tl.zeros((BLOCK_T, BLOCK_F), dtype=tl.float32)
        ims = tl.zeros((BLOCK_T, BLOCK_F), dtype=tl.float32)
        offs_k = tl.arange(0, BLOCK_K)
        f64 = f.to(tl.int64)
        for k0 in range(0, N, BLOCK_K):
            k = k0 + offs_k
            k_mask = k < N
            a = _load_frames(x_row, stride_xl, L, row0, k, t_mask[:, None] & k_mask[None, :], interior, PAD)
            w_mask = k_mask[:, None] & f_mask[None, :]
            k64 = k.to(tl.int64)
            wc = tl.load(wc_ptr + f64[None, :] * s_wcf + k64[:, None] * s_wcn, mask=w_mask, other=0.0)
            ws = tl.load(ws_ptr + f64[None, :] * s_wsf + k64[:, None] * s_wsn, mask=w_mask, other=0.0)
            re = mma(a, wc.to(tl.float32), re, PREC, EMULATE_BF16)
            ims = mma(a, ws.to(tl.float32), ims, PREC, EMULATE_BF16)
        im = -ims
    return re, im


@triton.jit
def _power(p2, power, POWER_MODE: tl.constexpr):
    """``(re² + im²)^(power/2)`` from ``p2 = re² + im²``: exact for 2 and 1 (IEEE sqrt), exp2/log2 otherwise."""
    if POWER_MODE == 0:
        s = p2
    elif POWER_MODE == 1:
        s = tl.sqrt_rn(p2)
    else:
        s = tl.where(p2 > 0, tl.exp2((0.5 * power) * tl.log2(tl.where(p2 > 0, p2, 1.0))), 0.0)
    return s


# ----------------------------------------------------------------------------------------------------------------
# forward
# ----------------------------------------------------------------------------------------------------------------
@triton.jit(do_not_specialize=["L", "T", "n_t_tiles", "s_xb", "s_sb", "s_st", "s_ob", "s_ot"])
def _fwd_kernel(
    x_ptr, wc_ptr, ws_ptr, spec_ptr, fb_ptr, out_ptr, out2_ptr,
    L, T, F, N, M, hop, left, n_t_tiles,
    s_xb, s_xl, s_wcf, s_wcn, s_wsf, s_wsn, s_sb, s_st, s_sf, s_fbm, s_fbf, s_ob, s_oc, s_ot,
    power, log_scale, amin,
    PAD: tl.constexpr, SOURCE: tl.constexpr, EPI: tl.constexpr, POWER_MODE: tl.constexpr, LOG: tl.constexpr,
    PREC: tl.constexpr, EMULATE_BF16: tl.constexpr,
    BLOCK_T: tl.constexpr, BLOCK_F: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_M: tl.constexpr,
):
    pid = tl.program_id(0)
    b = (pid // n_t_tiles).to(tl.int64)
    t0 = (pid % n_t_tiles) * BLOCK_T
    t = t0 + tl.arange(0, BLOCK_T)
    t_mask = t < T
    row0 = t.to(tl.int64) * hop - left
    interior = _tile_interior(t0, T, L, N, hop, left, BLOCK_T)
    x_row = x_ptr + b * s_xb
    spec_row = spec_ptr + b * s_sb
    t64 = t.to(tl.int64)
    if EPI == 2:
        m = tl.program_id(1) * BLOCK_M + tl.arange(0, BLOCK_M)
        m_mask = m < M
        acc = tl.zeros((BLOCK_T, BLOCK_M), dtype=tl.float32)
        for f0 in range(0, F, BLOCK_F):
            f = f0 + tl.arange(0, BLOCK_F)
            f_mask = f < F
            re, im = _spectrum_tile(x_row, s_xl, L, row0, t_mask, interior, wc_ptr, ws_ptr, s_wcf, s_wcn, s_wsf,
                                    s_wsn, spec_row, s_st, s_sf, t, f, f_mask, N,
                                    PAD, SOURCE, PREC, EMULATE_BF16, BLOCK_T, BLOCK_F, BLOCK_K)
            s = _power(re * re + im * im, power, POWER_MODE)
            fb = tl.load(fb_ptr + m.to(tl.int64)[None, :] * s_fbm + f.to(tl.int64)[:, None] * s_fbf,
                         mask=f_mask[:, None] & m_mask[None, :], other=0.0)
            acc = mma(s, fb.to(tl.float32), acc, PREC, EMULATE_BF16)
        if LOG:
            acc = log_scale * tl.log(tl.maximum(acc, amin))
        out_ptrs = out_ptr + b * s_ob + m.to(tl.int64)[None, :] * s_oc + t64[:, None] * s_ot
        tl.store(out_ptrs, acc, mask=t_mask[:, None] & m_mask[None, :])
    else:
        f = tl.program_id(1) * BLOCK_F + tl.arange(0, BLOCK_F)
        f_mask = f < F
        re, im = _spectrum_tile(x_row, s_xl, L, row0, t_mask, interior, wc_ptr, ws_ptr, s_wcf, s_wcn, s_wsf, s_wsn,
                                spec_row, s_st, s_sf, t, f, f_mask, N,
                                PAD, SOURCE, PREC, EMULATE_BF16, BLOCK_T, BLOCK_F, BLOCK_K)
        out_off = b * s_ob + f.to(tl.int64)[None, :] * s_oc + t64[:, None] * s_ot
        mask = t_mask[:, None] & f_mask[None, :]
        if EPI == 0:
            tl.store(out_ptr + out_off, re, mask=mask)
            tl.store(out2_ptr + out_off, im, mask=mask)
        else:
            s = _power(re * re + im * im, power, POWER_MODE)
            if LOG:
                s = log_scale * tl.log(tl.maximum(s, amin))
            tl.store(out_ptr + out_off, s, mask=mask)


@triton.jit(do_not_specialize=["L", "T", "n_t_tiles", "s_xb", "s_ob"])
def _frames_kernel(x_ptr, w_ptr, out_ptr, L, T, N, hop, left, n_t_tiles, s_xb, s_xl, s_w, s_ob, s_ot, s_on,
                   PAD: tl.constexpr, BLOCK_T: tl.constexpr, BLOCK_N: tl.constexpr):
    """Windowed frames ``w[n]·x_pad[t·h + n]`` for the cuFFT engine (padding by index arithmetic)."""
    pid = tl.program_id(0)
    b = (pid // n_t_tiles).to(tl.int64)
    t0 = (pid % n_t_tiles) * BLOCK_T
    t = t0 + tl.arange(0, BLOCK_T)
    n = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    t_mask = t < T
    n_mask = n < N
    mask = t_mask[:, None] & n_mask[None, :]
    interior = _tile_interior(t0, T, L, N, hop, left, BLOCK_T)
    a = _load_frames(x_ptr + b * s_xb, s_xl, L, t.to(tl.int64) * hop - left, n, mask, interior, PAD)
    w = tl.load(w_ptr + n.to(tl.int64) * s_w, mask=n_mask, other=0.0).to(tl.float32)
    ptrs = out_ptr + b * s_ob + t.to(tl.int64)[:, None] * s_ot + n.to(tl.int64)[None, :] * s_on
    tl.store(ptrs, a * w[None, :], mask=mask)


# ----------------------------------------------------------------------------------------------------------------
# backward
# ----------------------------------------------------------------------------------------------------------------
@triton.jit(do_not_specialize=["L", "T", "n_t_tiles", "s_xb", "s_sb", "s_st", "s_gb", "s_gt", "s_ob", "s_ot"])
def _spec_grad_kernel(
    x_ptr, wc_ptr, ws_ptr, spec_ptr, fb_ptr, g_ptr, gre_ptr, gim_ptr, s_ptr,
    L, T, F, N, M, hop, left, n_t_tiles,
    s_xb, s_xl, s_wcf, s_wcn, s_wsf, s_wsn, s_sb, s_st, s_sf, s_fbm, s_fbf, s_gb, s_gc, s_gt, s_ob, s_of, s_ot,
    power,
    PAD: tl.constexpr, SOURCE: tl.constexpr, HAS_FB: tl.constexpr, POWER_MODE: tl.constexpr,
    WANT_G: tl.constexpr, WANT_S: tl.constexpr, PREC: tl.constexpr, EMULATE_BF16: tl.constexpr,
    BLOCK_T: tl.constexpr, BLOCK_F: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_M: tl.constexpr,
):
    """Gradient of the (filterbank-projected) ``|X|^p`` w.r.t. ``(re, im)``, and ``S = |X|^p`` for the filterbank
    gradient, with the spectrum recomputed per tile. Outputs are ``(B, F, T)`` with strides ``s_o*``."""
    pid = tl.program_id(0)
    b = (pid // n_t_tiles).to(tl.int64)
    t0 = (pid % n_t_tiles) * BLOCK_T
    t = t0 + tl.arange(0, BLOCK_T)
    t_mask = t < T
    t64 = t.to(tl.int64)
    f = tl.program_id(1) * BLOCK_F + tl.arange(0, BLOCK_F)
    f_mask = f < F
    f64 = f.to(tl.int64)
    interior = _tile_interior(t0, T, L, N, hop, left, BLOCK_T)
    re, im = _spectrum_tile(x_ptr + b * s_xb, s_xl, L, t64 * hop - left, t_mask, interior, wc_ptr, ws_ptr,
                            s_wcf, s_wcn, s_wsf, s_wsn, spec_ptr + b * s_sb, s_st, s_sf, t, f, f_mask, N,
                            PAD, SOURCE, PREC, EMULATE_BF16, BLOCK_T, BLOCK_F, BLOCK_K)
    p2 = re * re + im * im
    mask = t_mask[:, None] & f_mask[None, :]
    out_off = b * s_ob + f64[None, :] * s_of + t64[:, None] * s_ot
    if WANT_G:
        g_row = g_ptr + b * s_gb
        if HAS_FB:
            gs = tl.zeros((BLOCK_T, BLOCK_F), dtype=tl.float32)
            for m0 in range(0, M, BLOCK_M):
                m = m0 + tl.arange(0, BLOCK_M)
                m_mask = m < M
                m64 = m.to(tl.int64)
                g = tl.load(g_row + m64[None, :] * s_gc + t64[:, None] * s_gt,
                            mask=t_mask[:, None] & m_mask[None, :], other=0.0)
                fb = tl.load(fb_ptr + m64[:, None] * s_fbm + f64[None, :] * s_fbf,
                             mask=m_mask[:, None] & f_mask[None, :], other=0.0)
                gs = mma(g.to(tl.float32), fb.to(tl.float32), gs, PREC, EMULATE_BF16)
        else:
            gs = tl.load(g_row + f64[None, :] * s_gc + t64[:, None] * s_gt, mask=mask, other=0.0).to(tl.float32)
        # dS/dre = p·P^(p/2 − 1)·re (0 where P = 0, as the reference's magnitude)
        if POWER_MODE == 0:
            c = 2.0 * gs
        elif POWER_MODE == 1:
            c = tl.where(p2 > 0, gs / tl.sqrt_rn(tl.where(p2 > 0, p2, 1.0)), 0.0)
        else:
            c = tl.where(p2 > 0, gs * power * tl.exp2((0.5 * power - 1.0) * tl.log2(tl.where(p2 > 0, p2, 1.0))),
                         0.0)
        tl.store(gre_ptr + out_off, c * re, mask=mask)
        tl.store(gim_ptr + out_off, c * im, mask=mask)
    if WANT_S:
        tl.store(s_ptr + out_off, _power(p2, power, POWER_MODE), mask=mask)


@triton.jit(do_not_specialize=["T", "P_len", "n_q_tiles", "s_g1b", "s_g1t", "s_g2b", "s_g2t", "s_ob"])
def _ola_grad_kernel(
    g1_ptr, g2_ptr, wc_ptr, ws_ptr, out_ptr,
    T, F, N, hop, P_len, n_q_tiles, J,
    s_g1b, s_g1f, s_g1t, s_g2b, s_g2f, s_g2t, s_wcf, s_wcn, s_wsf, s_wsn, s_ob, s_op,
    PREC: tl.constexpr, EMULATE_BF16: tl.constexpr,
    BLOCK_Q: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_F: tl.constexpr,
):
    """``dx_pad[b, q·h + r] = Σ_j Σ_f g_re[b, f, q − j]·wcos[f, j·h + r] − g_im[b, f, q − j]·wsin[f, j·h + r]``."""
    pid = tl.program_id(0)
    b = (pid // n_q_tiles).to(tl.int64)
    q = ((pid % n_q_tiles) * BLOCK_Q + tl.arange(0, BLOCK_Q)).to(tl.int64)
    r = tl.program_id(1) * BLOCK_R + tl.arange(0, BLOCK_R)
    r_mask = r < hop
    g1_row = g1_ptr + b * s_g1b
    g2_row = g2_ptr + b * s_g2b
    acc = tl.zeros((BLOCK_Q, BLOCK_R), dtype=tl.float32)
    for j in range(0, J):
        t = q - j
        t_mask = (t >= 0) & (t < T)
        n = (j * hop + r).to(tl.int64)
        n_mask = r_mask & (n < N)
        for f0 in range(0, F, BLOCK_F):
            f = (f0 + tl.arange(0, BLOCK_F)).to(tl.int64)
            f_mask = f < F
            g_mask = t_mask[:, None] & f_mask[None, :]
            g1 = tl.load(g1_row + f[None, :] * s_g1f + t[:, None] * s_g1t, mask=g_mask, other=0.0)
            g2 = tl.load(g2_row + f[None, :] * s_g2f + t[:, None] * s_g2t, mask=g_mask, other=0.0)
            w_mask = f_mask[:, None] & n_mask[None, :]
            wc = tl.load(wc_ptr + f[:, None] * s_wcf + n[None, :] * s_wcn, mask=w_mask, other=0.0)
            ws = tl.load(ws_ptr + f[:, None] * s_wsf + n[None, :] * s_wsn, mask=w_mask, other=0.0)
            acc = mma(g1.to(tl.float32), wc.to(tl.float32), acc, PREC, EMULATE_BF16)
            acc = mma(-g2.to(tl.float32), ws.to(tl.float32), acc, PREC, EMULATE_BF16)
    p = q[:, None] * hop + r[None, :]
    tl.store(out_ptr + b * s_ob + p * s_op, acc, mask=r_mask[None, :] & (p < P_len))


@triton.jit(do_not_specialize=["T", "P_len", "s_fb", "s_ft", "s_ob"])
def _ola_frames_kernel(fr_ptr, w_ptr, out_ptr, T, N, hop, P_len, J, s_fb, s_ft, s_fn, s_w, s_ob, s_op,
                       BLOCK_P: tl.constexpr):
    """``dx_pad[b, p] = Σ_t w[p − t·h]·dA[b, t, p − t·h]``: overlap-add of frame gradients as a gather."""
    b = tl.program_id(0).to(tl.int64)
    p = tl.program_id(1).to(tl.int64) * BLOCK_P + tl.arange(0, BLOCK_P)
    p_mask = p < P_len
    q = p // hop
    r = p - q * hop
    acc = tl.zeros((BLOCK_P,), dtype=tl.float32)
    for j in range(0, J):
        t = q - j
        n = j * hop + r
        mask = p_mask & (t >= 0) & (t < T) & (n < N)
        v = tl.load(fr_ptr + b * s_fb + t * s_ft + n * s_fn, mask=mask, other=0.0)
        w = tl.load(w_ptr + n * s_w, mask=mask, other=0.0)
        acc += v * w
    tl.store(out_ptr + b * s_ob + p * s_op, acc, mask=p_mask)


@triton.jit(do_not_specialize=["L", "P_len", "K_LO", "K_HI", "s_db", "s_ob"])
def _pad_fold_kernel(dp_ptr, out_ptr, L, P_len, left, K_LO, K_HI, s_db, s_dp, s_ob, s_ol,
                     PAD: tl.constexpr, BLOCK_S: tl.constexpr):
    """Adjoint of the padding: ``dx[s] = Σ_{i : src(i) = s} dx_pad[i + left]``, as a gather over the padded
    positions that read sample ``s``: ``i = s + k·period`` (reflect, circular) and ``i = −s + k·period`` (reflect,
    for ``0 < s < L − 1``; at the end samples the two families coincide). Replicate's two end sums and reflect with
    ``L = 1`` are added by the launcher."""
    b = tl.program_id(0).to(tl.int64)
    s = tl.program_id(1).to(tl.int64) * BLOCK_S + tl.arange(0, BLOCK_S)
    s_mask = s < L
    dp_row = dp_ptr + b * s_db
    pos = s + left
    acc = tl.load(dp_row + pos * s_dp, mask=s_mask & (pos < P_len), other=0.0)
    if PAD == 2 or PAD == 4:
        if PAD == 2:
            period = 2 * (L - 1)
        else:
            period = L
        for k in range(K_LO, K_HI + 1):
            shift = tl.full((BLOCK_S,), k, tl.int64) * period  # 64-bit: k·period spans the padded signal
            if k != 0:
                pos = s + shift + left
                acc += tl.load(dp_row + pos * s_dp, mask=s_mask & (pos >= 0) & (pos < P_len), other=0.0)
            if PAD == 2:
                pos = shift - s + left
                ok = s_mask & (s > 0) & (s < L - 1) & (pos >= 0) & (pos < P_len)
                acc += tl.load(dp_row + pos * s_dp, mask=ok, other=0.0)
    tl.store(out_ptr + b * s_ob + s * s_ol, acc, mask=s_mask)


@triton.jit(do_not_specialize=["B", "T", "L", "n_t_tiles", "chunks_per_split", "total_chunks",
                               "s_g1b", "s_g1t", "s_g2b", "s_g2t", "s_xb", "s_ab", "s_at"])
def _outer_kernel(
    g1_ptr, g2_ptr, x_ptr, a_ptr, out1_ptr, out2_ptr,
    B, T, L, R, C, hop, left, n_t_tiles, chunks_per_split, total_chunks,
    s_g1b, s_g1r, s_g1t, s_g2b, s_g2r, s_g2t, s_xb, s_xl, s_ab, s_at, s_ac, s_os, s_or, s_oc,
    PAD: tl.constexpr, FRAMED: tl.constexpr, TWO: tl.constexpr, PREC: tl.constexpr, EMULATE_BF16: tl.constexpr,
    BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_T: tl.constexpr,
):
    """Partial sums ``out[s, r, c] = Σ_{(b, t) in split s} g[b, r, t]·A[b, t, c]`` where ``A`` is the frames of
    ``x`` (``FRAMED``; ``C = n_fft``) or a ``(B, T, C)`` tensor. ``TWO`` also reduces a second ``g``."""
    r = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    c = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    split = tl.program_id(2)
    r_mask = r < R
    c_mask = c < C
    r64 = r.to(tl.int64)
    c64 = c.to(tl.int64)
    acc1 = tl.zeros((BLOCK_R, BLOCK_C), dtype=tl.float32)
    acc2 = tl.zeros((BLOCK_R, BLOCK_C), dtype=tl.float32)
    start = split * chunks_per_split
    end = tl.minimum(start + chunks_per_split, total_chunks)
    for chunk in range(start, end):
        b = (chunk // n_t_tiles).to(tl.int64)
        t0 = (chunk % n_t_tiles) * BLOCK_T
        t = t0 + tl.arange(0, BLOCK_T)
        t_mask = t < T
        t64 = t.to(tl.int64)
        a_mask = t_mask[:, None] & c_mask[None, :]
        if FRAMED:
            interior = _tile_interior(t0, T, L, C, hop, left, BLOCK_T)
            a = _load_frames(x_ptr + b * s_xb, s_xl, L, t64 * hop - left, c, a_mask, interior, PAD)
        else:
            a = tl.load(a_ptr + b * s_ab + t64[:, None] * s_at + c64[None, :] * s_ac, mask=a_mask,
                        other=0.0).to(tl.float32)
        g_mask = r_mask[:, None] & t_mask[None, :]
        g1 = tl.load(g1_ptr + b * s_g1b + r64[:, None] * s_g1r + t64[None, :] * s_g1t, mask=g_mask, other=0.0)
        acc1 = mma(g1.to(tl.float32), a, acc1, PREC, EMULATE_BF16)
        if TWO:
            g2 = tl.load(g2_ptr + b * s_g2b + r64[:, None] * s_g2r + t64[None, :] * s_g2t, mask=g_mask, other=0.0)
            acc2 = mma(g2.to(tl.float32), a, acc2, PREC, EMULATE_BF16)
    out_off = split.to(tl.int64) * s_os + r64[:, None] * s_or + c64[None, :] * s_oc
    o_mask = r_mask[:, None] & c_mask[None, :]
    tl.store(out1_ptr + out_off, acc1, mask=o_mask)
    if TWO:
        tl.store(out2_ptr + out_off, acc2, mask=o_mask)


# ----------------------------------------------------------------------------------------------------------------
# launchers: validate, allocate, pick blocks, launch
# ----------------------------------------------------------------------------------------------------------------
def set_poison(enabled: bool) -> None:
    """Fill every output and scratch buffer with NaN before the kernels run (tests: unwritten elements show)."""
    global _POISON
    _POISON = bool(enabled)


def poisoned_empty(shape, device, dtype=torch.float32) -> torch.Tensor:
    if _POISON:
        return torch.full(shape, float("nan"), dtype=dtype, device=device)
    return torch.empty(shape, dtype=dtype, device=device)


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def pow2(n: int, lo: int = 16, hi: int = 128) -> int:
    return max(lo, min(hi, triton.next_power_of_2(max(int(n), 1))))


# Tile sizes per (kernel, precision). Untimed: chosen without a GPU as the largest tensor-core-friendly tiles that
# compile for sm_90 (triton 3.6 and 3.9) with no register spills (ptxas -v); tf32x3 needs the most registers (it
# splits both operands). Time them with benchmarks/gpu_fourier.py when a GPU is lent.
_EXACT = ("exact", "ieee")
_GPU_BLOCKS = {
    ("fwd_complex", _EXACT): dict(BLOCK_T=64, BLOCK_F=32, BLOCK_K=32, num_warps=4),
    ("fwd_complex", None): dict(BLOCK_T=64, BLOCK_F=64, BLOCK_K=32, num_warps=8),
    ("fwd_power", "ieee"): dict(BLOCK_T=128, BLOCK_F=32, BLOCK_K=32, num_warps=8),
    ("fwd_power", _EXACT): dict(BLOCK_T=64, BLOCK_F=64, BLOCK_K=16, num_warps=8),
    ("fwd_power", None): dict(BLOCK_T=64, BLOCK_F=64, BLOCK_K=32, num_warps=8),
    ("fwd_filterbank", _EXACT): dict(BLOCK_T=32, BLOCK_F=64, BLOCK_K=16, num_warps=8),
    ("fwd_filterbank", None): dict(BLOCK_T=64, BLOCK_F=32, BLOCK_K=32, num_warps=8),
    ("epilogue", None): dict(BLOCK_T=64, BLOCK_F=32, BLOCK_K=32, num_warps=8),  # spectrum read from memory
    ("spec_grad", _EXACT): dict(BLOCK_T=32, BLOCK_F=64, BLOCK_K=32, BLOCK_M=64, num_warps=8),
    ("spec_grad", None): dict(BLOCK_T=64, BLOCK_F=32, BLOCK_K=32, BLOCK_M=64, num_warps=8),
    ("ola", _EXACT): dict(BLOCK_Q=64, BLOCK_F=16, num_warps=8),
    ("ola", None): dict(BLOCK_Q=128, BLOCK_F=16, num_warps=8),
    ("outer", None): dict(BLOCK_R=64, BLOCK_C=64, BLOCK_T=32, num_warps=8),
    ("frames", None): dict(BLOCK_T=16, BLOCK_N=128, num_warps=4),
    ("ola_frames", None): dict(BLOCK_P=512, num_warps=4),
    ("fold", None): dict(BLOCK_S=1024, num_warps=4),
}
_INTERPRET_BLOCKS = {  # small tiles: the test shapes then span several tiles along every axis
    "fwd": dict(BLOCK_T=16, BLOCK_F=16, BLOCK_K=16, BLOCK_M=16), "spec_grad": dict(BLOCK_T=16, BLOCK_F=16,
    BLOCK_K=16, BLOCK_M=16), "ola": dict(BLOCK_Q=16, BLOCK_R=16, BLOCK_F=16), "outer": dict(BLOCK_R=16,
    BLOCK_C=16, BLOCK_T=16), "frames": dict(BLOCK_T=16, BLOCK_N=32), "ola_frames": dict(BLOCK_P=64),
    "fold": dict(BLOCK_S=64),
}


def _blocks(kind: str, precision: str = "exact", M: int = 0, hop: int = 0) -> dict:
    """Launch configuration of kernel ``kind`` (``fwd_complex``, ``fwd_power``, ``fwd_filterbank``, ``epilogue``,
    ``spec_grad``, ``ola``, ``outer``, ``frames``, ``ola_frames``, ``fold``)."""
    if INTERPRET:
        return dict(_INTERPRET_BLOCKS["fwd" if kind.startswith("fwd") or kind == "epilogue" else kind])
    cfg = (_GPU_BLOCKS.get((kind, precision)) or _GPU_BLOCKS.get((kind, _EXACT if precision in _EXACT else None))
           or _GPU_BLOCKS[(kind, None)])
    cfg = dict(cfg, num_stages=2)
    if kind.startswith("fwd") or kind == "epilogue":
        cfg.setdefault("BLOCK_M", pow2(M, 16, 128) if M else 16)  # one tile of filters: the DFT is not recomputed
    if kind == "ola":
        cfg["BLOCK_R"] = pow2(hop, 16, 64)
    return cfg


def sm_count(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).multi_processor_count
    return 4


def _fill_device(cfg: dict, B: int, T: int, cols: int, device) -> None:
    """Small problems (batch 1, short clips) have fewer frame tiles than SMs, and each program's work grows with
    n_fft: halve BLOCK_T (down to 16) until the grid covers the device (fewer registers, so no new spills)."""
    if INTERPRET:
        return
    sms = sm_count(device)
    while cfg["BLOCK_T"] > 16 and B * cdiv(T, cfg["BLOCK_T"]) * cols < sms:
        cfg["BLOCK_T"] //= 2


def _geometry(x: torch.Tensor, n_fft: int, hop: int, center: bool, pad_mode: str):
    length = x.shape[-1]
    pad = PAD_CODES[pad_mode] if center else PAD_NONE
    left = n_fft // 2 if center else 0
    return length, n_frames(length, hop, n_fft, center), left, pad


def _power_mode(power: float) -> int:
    return 0 if power == 2.0 else 1 if power == 1.0 else 2


def forward(x, wcos, wsin, fbank, hop, center, pad_mode, power, log_scale, amin, precision, epilogue,
            spectrum=None):
    """Launch ``_fwd_kernel``. ``epilogue``: ``EPI_COMPLEX`` → ``(re, im)``; ``EPI_POWER`` → ``|X|^p``;
    ``EPI_FILTERBANK`` → ``fbank @ |X|^p``; ``log_scale`` ≠ 0 adds ``log_scale·ln max(·, amin)``. ``spectrum``:
    an rfft output ``(B, T, F)`` (complex) to read instead of computing the DFT."""
    B = x.shape[0]
    F, N = wcos.shape
    L, T, left, pad = _geometry(x, N, hop, center, pad_mode)
    M = fbank.shape[0] if epilogue == EPI_FILTERBANK else 0
    kind = "epilogue" if spectrum is not None else ("fwd_complex", "fwd_power", "fwd_filterbank")[epilogue]
    cfg = _blocks(kind, precision, M=M)
    rows = M if epilogue == EPI_FILTERBANK else F
    out = poisoned_empty((B, rows, T), x.device)
    out2 = poisoned_empty((B, rows, T), x.device) if epilogue == EPI_COMPLEX else out
    if spectrum is not None:
        spec = torch.view_as_real(spectrum)
        s_sb, s_st, s_sf = spec.stride(0), spec.stride(1), spec.stride(2)
    else:
        spec, s_sb, s_st, s_sf = x, 0, 0, 0
    fb = fbank if epilogue == EPI_FILTERBANK else wcos
    cols = cdiv(M, cfg["BLOCK_M"]) if epilogue == EPI_FILTERBANK else cdiv(F, cfg["BLOCK_F"])
    _fill_device(cfg, B, T, cols, x.device)
    n_t = cdiv(T, cfg["BLOCK_T"])
    grid = (B * n_t, cols)
    _fwd_kernel[grid](
        x, wcos, wsin, spec, fb, out, out2,
        L, T, F, N, M, hop, left, n_t,
        x.stride(0), x.stride(1), wcos.stride(0), wcos.stride(1), wsin.stride(0), wsin.stride(1),
        s_sb, s_st, s_sf, fb.stride(0), fb.stride(1), out.stride(0), out.stride(1), out.stride(2),
        float(power), float(log_scale), float(amin),
        PAD=pad, SOURCE=SOURCE_SPECTRUM if spectrum is not None else SOURCE_FRAMES, EPI=epilogue,
        POWER_MODE=_power_mode(power), LOG=log_scale != 0.0, PREC=DOT_PRECISION[precision],
        EMULATE_BF16=INTERPRET, **cfg,
    )
    return (out, out2) if epilogue == EPI_COMPLEX else out


def windowed_frames(x, window, n_fft, hop, center, pad_mode):
    """``(B, T, n_fft)`` fp32 frames times the window (the cuFFT engine's input)."""
    B = x.shape[0]
    L, T, left, pad = _geometry(x, n_fft, hop, center, pad_mode)
    cfg = _blocks("frames")
    out = poisoned_empty((B, T, n_fft), x.device)
    n_t = cdiv(T, cfg["BLOCK_T"])
    _frames_kernel[(B * n_t, cdiv(n_fft, cfg["BLOCK_N"]))](
        x, window, out, L, T, n_fft, hop, left, n_t, x.stride(0), x.stride(1), window.stride(0),
        out.stride(0), out.stride(1), out.stride(2), PAD=pad, **cfg,
    )
    return out


def spectrum_grad(x, wcos, wsin, fbank, g, hop, center, pad_mode, power, want_g, want_s, precision, spectrum=None):
    """``(g_re, g_im, S)`` of shape ``(B, F, T)`` each (``None`` where not wanted) from the output gradient ``g``
    (``(B, M, T)`` with ``fbank``, else ``(B, F, T)``)."""
    B = x.shape[0]
    F, N = wcos.shape
    L, T, left, pad = _geometry(x, N, hop, center, pad_mode)
    M = fbank.shape[0] if fbank is not None else 0
    cfg = _blocks("spec_grad", precision)
    gre = poisoned_empty((B, F, T), x.device) if want_g else None
    gim = poisoned_empty((B, F, T), x.device) if want_g else None
    s = poisoned_empty((B, F, T), x.device) if want_s else None
    any_out = gre if want_g else s
    if spectrum is not None:
        spec = torch.view_as_real(spectrum)
        s_sb, s_st, s_sf = spec.stride(0), spec.stride(1), spec.stride(2)
    else:
        spec, s_sb, s_st, s_sf = x, 0, 0, 0
    fb = fbank if fbank is not None else wcos
    _fill_device(cfg, B, T, cdiv(F, cfg["BLOCK_F"]), x.device)
    n_t = cdiv(T, cfg["BLOCK_T"])
    _spec_grad_kernel[(B * n_t, cdiv(F, cfg["BLOCK_F"]))](
        x, wcos, wsin, spec, fb, g, gre if want_g else any_out, gim if want_g else any_out, s if want_s else any_out,
        L, T, F, N, M, hop, left, n_t,
        x.stride(0), x.stride(1), wcos.stride(0), wcos.stride(1), wsin.stride(0), wsin.stride(1),
        s_sb, s_st, s_sf, fb.stride(0), fb.stride(1), g.stride(0), g.stride(1), g.stride(2),
        any_out.stride(0), any_out.stride(1), any_out.stride(2), float(power),
        PAD=pad, SOURCE=SOURCE_SPECTRUM if spectrum is not None else SOURCE_FRAMES, HAS_FB=fbank is not None,
        POWER_MODE=_power_mode(power), WANT_G=want_g, WANT_S=want_s, PREC=DOT_PRECISION[precision],
        EMULATE_BF16=INTERPRET, **cfg,
    )
    return gre, gim, s


def padded_grad_direct(g_re, g_im, wcos, wsin, hop, precision):
    """``(B, P_len)`` gradient of the padded signal, ``P_len = (T − 1)·hop + n_fft``, by ``_ola_grad_kernel``."""
    B, F, T = g_re.shape
    N = wcos.shape[1]
    p_len = (T - 1) * hop + N
    cfg = _blocks("ola", precision, hop=hop)
    out = poisoned_empty((B, p_len), g_re.device)
    n_q = cdiv(cdiv(p_len, hop), cfg["BLOCK_Q"])
    _ola_grad_kernel[(B * n_q, cdiv(hop, cfg["BLOCK_R"]))](
        g_re, g_im, wcos, wsin, out, T, F, N, hop, p_len, n_q, cdiv(N, hop),
        g_re.stride(0), g_re.stride(1), g_re.stride(2), g_im.stride(0), g_im.stride(1), g_im.stride(2),
        wcos.stride(0), wcos.stride(1), wsin.stride(0), wsin.stride(1), out.stride(0), out.stride(1),
        PREC=DOT_PRECISION[precision], EMULATE_BF16=INTERPRET, **cfg,
    )
    return out


def padded_grad_frames(frame_grads, window, hop):
    """``(B, P_len)`` overlap-add of ``window · frame_grads`` (``(B, T, n_fft)``), by ``_ola_frames_kernel``."""
    B, T, N = frame_grads.shape
    p_len = (T - 1) * hop + N
    cfg = _blocks("ola_frames")
    out = poisoned_empty((B, p_len), frame_grads.device)
    _ola_frames_kernel[(B, cdiv(p_len, cfg["BLOCK_P"]))](
        frame_grads, window, out, T, N, hop, p_len, cdiv(N, hop),
        frame_grads.stride(0), frame_grads.stride(1), frame_grads.stride(2), window.stride(0),
        out.stride(0), out.stride(1), **cfg,
    )
    return out


def fold_padding(dpad, length, n_fft, center, pad_mode):
    """Gradient w.r.t. the unpadded signal ``(B, length)`` from the padded-signal gradient ``(B, P_len)``."""
    B, p_len = dpad.shape
    pad = PAD_CODES[pad_mode] if center else PAD_NONE
    left = n_fft // 2 if center else 0
    if pad == PAD_REFLECT and length == 1:
        return dpad.sum(-1, keepdim=True)
    k_lo = k_hi = 0
    if pad in (PAD_REFLECT, PAD_CIRCULAR):
        period = 2 * (length - 1) if pad == PAD_REFLECT else length
        k_lo = (-left - length) // period - 1
        k_hi = cdiv(p_len + length, period) + 1
    cfg = _blocks("fold")
    out = poisoned_empty((B, length), dpad.device)
    _pad_fold_kernel[(B, cdiv(length, cfg["BLOCK_S"]))](
        dpad, out, length, p_len, left, k_lo, k_hi, dpad.stride(0), dpad.stride(1), out.stride(0), out.stride(1),
        PAD=pad, **cfg,
    )
    if pad == PAD_REPLICATE:
        out[:, 0] += dpad[:, :left].sum(-1)
        out[:, length - 1] += dpad[:, left + length:].sum(-1)
    return out


def outer(g1, g2, x, a, n_cols, hop, center, pad_mode, precision, split=None):
    """``Σ_{b,t} g[b, r, t]·A[b, t, c]`` for ``g1`` (and ``g2``), ``(B, R, T)``, with ``A`` the frames of ``x``
    (``a is None``; ``n_cols = n_fft``) or ``a`` ``(B, T, C)``. Deterministic: per-split partials, fixed-order sum."""
    B, R, T = g1.shape
    C = n_cols
    if x is not None:
        L, _, left, pad = _geometry(x, C, hop, center, pad_mode)
        framed = True
    else:
        L, left, pad, framed = 0, 0, PAD_NONE, False
    cfg = _blocks("outer", precision)
    n_t = cdiv(T, cfg["BLOCK_T"])
    total = B * n_t
    tiles = cdiv(R, cfg["BLOCK_R"]) * cdiv(C, cfg["BLOCK_C"])
    if split is None:  # enough programs to fill the GPU, at least 8 chunks each
        split = max(1, min(cdiv(2 * sm_count(g1.device), tiles), total // 8))
    cps = cdiv(total, split)
    split = cdiv(total, cps)
    two = g2 is not None
    device = g1.device
    out1 = poisoned_empty((split, R, C), device)
    out2 = poisoned_empty((split, R, C), device) if two else out1
    ref = x if framed else a
    _outer_kernel[(cdiv(R, cfg["BLOCK_R"]), cdiv(C, cfg["BLOCK_C"]), split)](
        g1, g2 if two else g1, ref, ref, out1, out2,
        B, T, L, R, C, hop, left, n_t, cps, total,
        g1.stride(0), g1.stride(1), g1.stride(2),
        *(g2.stride() if two else g1.stride()),
        *((x.stride(0), x.stride(1)) if framed else (0, 0)),
        *((0, 0, 0) if framed else a.stride()),
        out1.stride(0), out1.stride(1), out1.stride(2),
        PAD=pad, FRAMED=framed, TWO=two, PREC=DOT_PRECISION[precision], EMULATE_BF16=INTERPRET, **cfg,
    )
    s1 = out1.sum(0) if split > 1 else out1[0]
    return (s1, out2.sum(0) if split > 1 else out2[0]) if two else s1
