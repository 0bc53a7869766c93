"""Triton kernels for the multirate constant-Q transform (CQT2010v2 / VQT): the half-band octave pyramid and its
adjoint, and the per-octave kernel products with their gradients.

Notation (that of :mod:`nnaudio_fast.reference_cqt`): ``x`` is a flat ``(B, L)`` waveform, padded by ``p`` samples
of ``pad_mode`` on each side (``x_p``, ``L_p = L + 2p`` samples, padding by index arithmetic as in
:mod:`nnaudio_fast.kernels.fourier`, never materialised). ``h`` is the symmetric half-band lowpass of ``2K + 1``
taps (``h_0 = c``, ``h_{±(2k+1)} = g_k``, other even taps 0; :func:`nnaudio_fast.bases.halfband_lowpass`, 75 taps).

Pyramid. Level ``ℓ`` is ``y_ℓ[n] = Σ_j h_j y_{ℓ−1}[2n − j]`` (zeros outside ``[0, len_{ℓ−1})``, ``len_ℓ =
⌈len_{ℓ−1}/2⌉``, ``y_0 = x_p``), only the kept samples computed, in polyphase form

    y_ℓ[n] = c·y_{ℓ−1}[2n] + Σ_k g_k (y_{ℓ−1}[2n − 2k − 1] + y_{ℓ−1}[2n + 2k + 1])          (K + 1 multiplies)

(Crochiere & Rabiner, "Multirate Digital Signal Processing", 1983, ch. 3; half-band: Mintzer 1982). Its adjoint
(transpose) maps cotangents ``ȳ_ℓ`` of every level to that of the input, coarse to fine,
``A_L = ȳ_L``, ``A_{ℓ−1} = ȳ_{ℓ−1} + Hᵀ A_ℓ`` with ``(Hᵀa)[2m] = c·a[m]`` and
``(Hᵀa)[2m + 1] = Σ_k g_k (a[m + k + 1] + a[m − k])``.

The filter as a matrix product. Written directly, each output issues ``K + 1 = 39`` loads (stride 2 in the
input, so 8 bytes of L1 bandwidth each): ≈ 300 B of L1 traffic per output, ≈ 4.7 GB at batch 64 × 10 s, about
140 µs of an H100's L1 bandwidth against a memory floor of ≈ 40 µs (read the waveform, write every level once,
≈ 116 MB) — Triton cannot keep a sliding window in registers. Instead a tile of ``ROWS × Q`` consecutive outputs
(row ``r`` starting at output ``n_r``) is ``Y = c·E + V·F``: ``E[r, p] = v[2(n_r + p)]``, ``V[r, k] =
v[2(n_r − KK + k) + 1]`` (the ``Q + 2KK − 1`` odd samples around the row, ``KK = ⌈K/2⌉`` odd taps a side) and
``F[k, p] = f[k − p]`` the banded Toeplitz matrix of ``f = (g_{KK−1}, …, g_0, g_0, …, g_{KK−1})`` (zero elsewhere;
built once on the device, :func:`toeplitz_taps`). Each odd sample is then loaded ``(Q + 2KK − 1)/Q ≈ 3`` times
(``Q = 32``) and the arithmetic goes to the tensor cores: ``2·KC = 160`` FLOP per output and pass (``KC = 80`` the
band of 69 padded to a multiple of ``BLOCK_KC = 16``), ×3 passes in 'exact' mode (3×TF32) ≈ 7.3 GFLOP at batch
64 × 10 s, ≈ 21 µs of TF32 tensor throughput: the pyramid should stay close to its memory floor (to be measured). The adjoint's odd outputs are the
same product with the window shifted by one (``V[r, k] = a[m_r − KK + 1 + k]``, same ``F``), its even outputs
``c·a[m]``. The filter runs in TF32×3 ('exact'), FP32 FMAs ('ieee') or one TF32 pass ('tf32', and 'bf16': a bf16
lowpass would cost ~1e-2 per level, compounding over the octaves).

Several levels per launch (``_pyramid_kernel``, ``_pyramid_adjoint_kernel``): a program owns a chunk of the
group's last level and computes, level after level, the range of every intermediate level that chunk depends on
(the chunk grown by the filter's reach ``R = 2·KK − 1`` samples per level and side: ``≈ 2R/chunk`` extra work, 7%
at chunk 1024), writing it to the level's place in global memory and synchronising the program's threads
(``tl.debug_barrier``: ``bar.sync``, which orders the CTA's global writes before its later reads; the compile check
asserts the loads are coherent ``ld.global``, not ``ld.global.nc``) before the next level reads it. Reads are
masked to the range the previous level holds (a NaN there would survive a product with F's zeros). Neighbouring
programs write the overlapping halo samples with bit-identical values: tiles lie on a global grid of ``Q``-sample
rows, so a sample sits at the same place of its tile in both programs and is computed by the same instructions on
the same inputs in the same order (tiles aligned to each program's own range would split its taps differently
across the ``KC`` blocks and round differently); the race is benign and the result deterministic. Levels are kept in one flat ``(B, Σ len_ℓ)`` buffer (level 1
first), which the CQT kernels index directly. How many levels share a launch and the chunk size trade launches
against halo work and parallelism (:func:`pyramid_groups`): at batch 64 × 10 s all six levels of a 22.05 kHz CQT
go in one launch; at batch 1 the first level gets its own launch (enough programs to fill the GPU) and the coarse
levels share one.

Octave products. Octave ``i`` (top first; ``n_i`` bins, kernel ``K_i`` of shape ``(P_i, 2n_i, W_i)``: the real
rows, then the negated imaginary rows) runs on level ``ℓ_i`` (``d = 2^ℓ_i``). Frame ``t`` (``T = 1 + L // hop``
frames) reads ``y_ℓ[base(t) + j]``, ``j < W_i``, ``base(t) = ⌊t·hop / d⌋ + ⌊p/d⌋ + first_i``, with kernel phase
``u = t mod P_i`` (``P_i = d / gcd(hop, d)``, see :func:`nnaudio_fast.bases.cqt_multirate_kernels`):

    out[b, t, r] = Σ_j y_ℓ[b, base(t) + j] · K_i[t mod P_i, r, j],    re = out[:, :, :n_i],  im = −out[:, :, n_i:]

Frames of one phase are evenly spaced: ``t = u + P·s`` gives ``base = c_u + s·S`` with ``S = P·hop/d`` (an
integer) and ``c_u = base(u)``. ``_octave_fwd_kernel`` computes every octave in one launch: a program takes a tile
of frames of one phase of one octave (found from the program id by a scan of the small octave table), gathers the
frame tile from the level by index arithmetic (level 0 is the padded waveform itself: a top octave at the full rate
needs no copy of it) and multiplies it with the phase's kernel on tensor cores (``tl.dot``, fp32 accumulation,
precision modes of :mod:`nnaudio_fast.kernels.fourier`), writing real and imaginary parts straight into the bins
of the ``(B, n_bins, T)`` outputs (ascending bins: the top octave last).

Backward (deterministic, no atomics):

* Level cotangents, ``ȳ_ℓ[m] = Σ_i Σ_t Σ_r G[b, t, r]·K_i[u(t), r, m − base(t)]`` over the octaves on level
  ``ℓ`` (``G`` the output gradient in kernel-row order: ``g_re`` rows, then ``−g_im`` rows). With ``m = M_0 +
  q·S + ρ`` (``0 ≤ ρ < S``) and ``M_0 − c_u = a_u·S + b_u``, the frames of phase ``u`` covering ``m`` are
  ``s = a_u + q − jj`` at tap ``j = jj·S + b_u + ρ`` for ``−1 ≤ jj < ⌈W/S⌉``: a sum of small matmuls
  ``G_u[s, :] · K_u[:, j]`` over a ``(q, ρ)`` tile (``_octave_input_grad_kernel``; the gather form of the
  overlap-add, as ``_ola_grad_kernel`` in the Fourier kernels). One program owns a tile of one level and sums
  every octave and phase there, so levels shared by two octaves need no atomics.
* The waveform gradient is the pyramid adjoint of those level cotangents (level 0's added at the finest level),
  then the adjoint of the padding (``_pad_fold_kernel`` of the Fourier kernels).
* Kernel gradient, ``K̄_i[u, r, j] = Σ_{b,s} G[b, u + P s, r] · y_ℓ[b, c_u + s·S + j]`` (framesᵀ·grad per phase;
  ``_octave_kernel_grad_kernel``), split over ``(b, s)`` chunks into partial sums added in a fixed order.

Cost. For 84 bins from 32.7 Hz at 22.05 kHz, hop 512, the octaves cost ``B·T·Σ_i 2n_i·W_i ≈ 1.65`` GFLOP for 64 ×
10 s (vs 152 GFLOP for the single-rate product with nnAudio's padded kernels): memory- and latency-bound, so the
design minimises launches and passes over the signal: the pyramid reads the waveform once and writes each level
once (``≈ B·L`` samples in all), the octave kernel reads the levels (from L2 mostly: ``L_p/2`` samples for level
1) and writes only the CQT. Two launches forward (pyramid, octaves) for long batches, three for short ones; four
or five backward (level cotangents, pyramid adjoint, padding fold, kernel gradient and the sum of its splits). Waveforms are read as fp32 (fp16/bf16 are converted by the launcher); offsets are 64-bit and
lengths/strides ``do_not_specialize``. float64 problems go to the reference (see :mod:`nnaudio_fast.kernels`).

Block sizes (``_GPU_BLOCKS``) and the grouping thresholds were chosen without a GPU, as the largest tiles that
compile for sm_90 without register spills (``tests/triton_compile_check.py``); time them with
``benchmarks/gpu_cqt.py`` when a GPU is lent.
"""

from __future__ import annotations

import collections
import math

import torch
import triton
import triton.language as tl

from ..geometry import level_lengths, n_frames
from ..precision import MODES
from .fourier import (  # noqa: F401  (jit helpers are resolved through this module's globals)
    DOT_PRECISION,
    INTERPRET,
    PAD_CODES,
    PAD_NONE,
    cdiv,
    poisoned_empty,
    mma,
    pow2,
    sm_count,
    source_index,
    fold_padding,
    set_poison,
)

# Fields of a row of the octave table (int64), one row per octave, top octave first (OctaveLayout builds it).
O_PHASES, O_ROWS, O_WIDTH, O_KOFF, O_LEVEL, O_FIRST, O_BIN0, O_FIELDS = (tl.constexpr(i) for i in range(8))
# Fields of a row of the level table of the input-gradient kernel, one row per level written.
V_LEVEL, V_OCT_LO, V_OCT_HI, V_STRIDE, V_FIELDS = (tl.constexpr(i) for i in range(5))


# ----------------------------------------------------------------------------------------------------------------
# device helpers
# ----------------------------------------------------------------------------------------------------------------
@triton.jit
def _floor_div(a, b):
    """``⌊a / b⌋`` for ``b > 0`` and ``a`` of either sign (integer ``//`` truncates on the GPU but floors in the
    interpreter; only non-negative operands are divided here)."""
    pos = tl.where(a >= 0, a, 0)
    neg = tl.where(a < 0, -a, 0)
    return pos // b - (neg + b - 1) // b


@triton.jit
def _level_load(row_ptr, stride, pos, length, L, left, mask, PAD: tl.constexpr):
    """``v[pos]`` as fp32, zero outside ``[0, length)``. With ``PAD`` the row holds the unpadded waveform (``L``
    samples) and ``v`` is its padded version with ``left`` samples before it (``length = L + 2·left``); with
    ``PAD = 0`` the row is ``v`` itself (``L = length``, ``left = 0``)."""
    inside = mask & (pos >= 0) & (pos < length)
    if PAD == 0:
        v = tl.load(row_ptr + pos * stride, mask=inside, other=0.0)
    else:
        src, valid = source_index(pos - left, L, PAD)
        v = tl.load(row_ptr + src * stride, mask=inside & valid, other=0.0)
    return v.to(tl.float32)


@triton.jit
def _level_geometry(Lp, level):
    """Offset (in the flat pyramid buffer, level 1 first) and length of pyramid level ``level >= 1`` of a signal of
    ``Lp`` samples."""
    length = Lp.to(tl.int64)
    off = length * 0
    for i in range(0, level):
        length = (length + 1) // 2
        off += tl.where(i < level - 1, length, 0)
    return off, length


# ----------------------------------------------------------------------------------------------------------------
# pyramid
# ----------------------------------------------------------------------------------------------------------------
@triton.jit
def _level_tile(row_ptr, stride, pos, length, L, left, mask, interior, PAD: tl.constexpr):
    """:func:`_level_load` of a tile; ``interior``: every unmasked position reads a real sample of the row."""
    if interior:
        v = tl.load(row_ptr + (pos - left) * stride, mask=mask, other=0.0).to(tl.float32)
    else:
        v = _level_load(row_ptr, stride, pos, length, L, left, mask, PAD)
    return v


@triton.jit(do_not_specialize=["L", "src_len", "left", "n_chunks", "s_sb", "s_sl", "s_ob"])
def _pyramid_kernel(
    src_ptr, h_ptr, f_ptr, out_ptr,
    L, src_len, left, n_chunks, K,
    s_sb, s_sl, s_ob,
    PAD: tl.constexpr, LEVELS: tl.constexpr, KK: tl.constexpr, CHUNK: tl.constexpr, PREC: tl.constexpr,
    EMULATE_BF16: tl.constexpr, ROWS: tl.constexpr, Q: tl.constexpr, KC: tl.constexpr, BLOCK_KC: tl.constexpr,
):
    """Levels ``1 … LEVELS`` above the source ``v`` (``src_len`` samples; with ``PAD`` the padded waveform, see
    :func:`_level_load`), written one after the other into each row of ``out`` (unit stride). A program owns
    ``CHUNK`` samples of the last level and computes the range of each earlier level they depend on, in tiles of
    ``ROWS × Q`` outputs: ``Y = c·E + V·F`` with ``E[r, p] = v[2n]``, ``V[r, k] = v[2(n_r − KK + k) + 1]`` (the odd
    samples around row ``r``, which starts at output ``n_r``) and ``F[k, p] = f[k − p]`` the Toeplitz matrix of the
    odd taps ``f = (g_{KK−1}, …, g_0, g_0, …, g_{KK−1})``."""
    pid = tl.program_id(0)
    b = (pid // n_chunks).to(tl.int64)
    chunk = (pid % n_chunks).to(tl.int64)
    reach = 2 * KK - 1
    src_row = src_ptr + b * s_sb
    out_row = out_ptr + b * s_ob
    c = tl.load(h_ptr + K)
    r = tl.arange(0, ROWS).to(tl.int64)
    p = tl.arange(0, Q).to(tl.int64)
    k = tl.arange(0, BLOCK_KC).to(tl.int64)
    f_ptrs = f_ptr + k[:, None] * Q + p[None, :]  # loaded per tile (L1-resident): not live across the loops
    prev_len = src_len.to(tl.int64)
    prev_off = prev_len * 0
    off = prev_len * 0
    for lvl in tl.static_range(LEVELS):
        length = (prev_len + 1) // 2
        grow = (1 << (LEVELS - 1 - lvl)) - 1  # levels between this one and the last, as a factor 2^e − 1
        lo_raw = chunk * CHUNK * (grow + 1) - reach * grow
        hi_raw = ((chunk + 1) * CHUNK - 1) * (grow + 1) + reach * grow
        lo = tl.maximum(lo_raw, 0)
        hi = tl.minimum(hi_raw, length - 1)
        # tiles on the global grid of Q-sample rows: a halo sample computed by two programs then sits at the same
        # place in both tiles, so both compute it with the same instructions in the same order (bitwise equal)
        for n0 in range(lo // Q * Q, hi + 1, ROWS * Q):
            row0 = n0 + r * Q
            n = row0[:, None] + p[None, :]
            mask = (n >= lo) & (n <= hi)
            n1 = tl.minimum(n0 + ROWS * Q - 1, hi)
            interior = (2 * n0 - reach >= left) & (2 * n1 + reach < left + L)
            if lvl == 0:
                y = c * _level_tile(src_row, s_sl, 2 * n, prev_len, L, left, mask, interior, PAD)
            else:
                y = c * _level_load(out_row + prev_off, 1, 2 * n, prev_len, prev_len, 0, mask, 0)
            for kc in tl.static_range(0, KC, BLOCK_KC):
                pos = 2 * (row0[:, None] - KK + kc + k[None, :]) + 1
                # only what the previous level's range holds (elsewhere F is 0 for every output kept)
                v_mask = (row0 <= hi)[:, None] & (kc + k < Q + 2 * KK - 1)[None, :] & (pos >= 2 * lo - reach) \
                    & (pos <= 2 * hi + reach)
                if lvl == 0:
                    v = _level_tile(src_row, s_sl, pos, prev_len, L, left, v_mask, interior, PAD)
                else:
                    v = _level_load(out_row + prev_off, 1, pos, prev_len, prev_len, 0, v_mask, 0)
                y = mma(v, tl.load(f_ptrs + kc * Q), y, PREC, EMULATE_BF16)
            tl.store(out_row + off + n, y, mask=mask)
        tl.debug_barrier()  # this level's samples (written by all of the program's threads) are read next
        prev_off = off
        off += length
        prev_len = length


@triton.jit(do_not_specialize=["len_out", "n_chunks", "s_tb", "s_gb", "s_g0b", "s_ab", "s_ob", "s_ol"])
def _pyramid_adjoint_kernel(
    top_ptr, g_ptr, g0_ptr, acc_ptr, out_ptr, h_ptr, f_ptr,
    len_out, n_chunks, K,
    s_tb, s_gb, s_g0b, s_ab, s_ob, s_ol,
    HAS_G0: tl.constexpr, LEVELS: tl.constexpr, KK: tl.constexpr, CHUNK: tl.constexpr, PREC: tl.constexpr,
    EMULATE_BF16: tl.constexpr, ROWS: tl.constexpr, Q: tl.constexpr, KC: tl.constexpr, BLOCK_KC: tl.constexpr,
):
    """Adjoint over levels ``s … s + LEVELS``: from the accumulated cotangent ``A_{s+LEVELS}`` (``top``), computes
    ``A_ℓ = ȳ_ℓ + Hᵀ A_{ℓ+1}`` for ``ℓ = s + LEVELS − 1 … s``. ``g``/``acc``: cotangents ``ȳ`` and scratch for ``A``
    of levels ``s + 1 …`` laid out one after the other (level ``s + 1`` at offset 0); ``A_s`` (plus ``g0`` = ``ȳ_s``
    when ``HAS_G0``) goes to ``out`` (``len_out = len_s`` samples). A program owns ``CHUNK`` samples of level ``s``.
    Tiles as in :func:`_pyramid_kernel`: ``(Hᵀa)[2m + 1] = Σ_k a[m − KK + 1 + k]·f[k − p]`` (same ``F``) and
    ``(Hᵀa)[2m] = c·a[m]``."""
    pid = tl.program_id(0)
    b = (pid // n_chunks).to(tl.int64)
    chunk = (pid % n_chunks).to(tl.int64)
    reach = 2 * KK - 1
    lo_s = chunk * CHUNK
    hi_s = tl.minimum(lo_s + CHUNK - 1, len_out - 1)
    c = tl.load(h_ptr + K)
    r = tl.arange(0, ROWS).to(tl.int64)
    p = tl.arange(0, Q).to(tl.int64)
    k = tl.arange(0, BLOCK_KC).to(tl.int64)
    f_ptrs = f_ptr + k[:, None] * Q + p[None, :]
    for j in tl.static_range(LEVELS - 1, -1, -1):  # level s + j from level s + j + 1
        fine_len = len_out.to(tl.int64)
        fine_off = fine_len * 0  # offset of level s + j in the g/acc layout (meaningful for j >= 1)
        for i in tl.static_range(j):
            fine_len = (fine_len + 1) // 2
            if i < j - 1:
                fine_off += fine_len
        coarse_len = (fine_len + 1) // 2
        if j == LEVELS - 1:
            a_row = top_ptr + b * s_tb
        elif j == 0:
            a_row = acc_ptr + b * s_ab  # level s + 1
        else:
            a_row = acc_ptr + b * s_ab + fine_off + fine_len
        if j == 0:
            lo = lo_s
            hi = hi_s
        else:  # conservative range of level s + j that the chunk of level s depends on
            lo = tl.maximum((lo_s >> j) - reach - 1, 0)
            hi = tl.minimum((hi_s >> j) + reach + 1, fine_len - 1)
        a_lo = tl.maximum((lo - reach) >> 1, 0)  # what the coarse level's range holds
        a_hi = tl.minimum((hi + reach) >> 1, coarse_len - 1)
        for m0 in range((lo >> 1) & (-Q), (hi >> 1) + 1, ROWS * Q):  # the global grid, as in _pyramid_kernel
            row0 = m0 + r * Q
            m = row0[:, None] + p[None, :]
            odd = tl.zeros((ROWS, Q), dtype=tl.float32)
            for kc in tl.static_range(0, KC, BLOCK_KC):
                idx = row0[:, None] - (KK - 1) + kc + k[None, :]
                v_mask = (2 * row0 <= hi)[:, None] & (kc + k < Q + 2 * KK - 1)[None, :] & (idx >= a_lo) \
                    & (idx <= a_hi)
                v = tl.load(a_row + idx, mask=v_mask, other=0.0)
                odd = mma(v, tl.load(f_ptrs + kc * Q), odd, PREC, EMULATE_BF16)
            even = c * tl.load(a_row + m, mask=(m >= a_lo) & (m <= a_hi), other=0.0)
            ie = 2 * m
            io = ie + 1
            me = (ie >= lo) & (ie <= hi)
            mo = (io >= lo) & (io <= hi)
            if j == 0:
                if HAS_G0:
                    g0_row = g0_ptr + b * s_g0b
                    even += tl.load(g0_row + ie, mask=me, other=0.0)
                    odd += tl.load(g0_row + io, mask=mo, other=0.0)
                o_row = out_ptr + b * s_ob
                tl.store(o_row + ie * s_ol, even, mask=me)
                tl.store(o_row + io * s_ol, odd, mask=mo)
            else:
                g_row = g_ptr + b * s_gb + fine_off
                even += tl.load(g_row + ie, mask=me, other=0.0)
                odd += tl.load(g_row + io, mask=mo, other=0.0)
                o_row = acc_ptr + b * s_ab + fine_off
                tl.store(o_row + ie, even, mask=me)
                tl.store(o_row + io, odd, mask=mo)
        tl.debug_barrier()


# ----------------------------------------------------------------------------------------------------------------
# octave products
# ----------------------------------------------------------------------------------------------------------------
@triton.jit
def _octave_row(oct_ptr, o):
    """The fields of row ``o`` of the octave table: phases, rows, width, kernel offset, level, first tap, first
    bin."""
    row = oct_ptr + o * O_FIELDS
    return (tl.load(row + O_PHASES), tl.load(row + O_ROWS), tl.load(row + O_WIDTH), tl.load(row + O_KOFF),
            tl.load(row + O_LEVEL), tl.load(row + O_FIRST), tl.load(row + O_BIN0))


@triton.jit
def _find_octave(pid, oct_ptr, n_oct, B, T, BLOCK_A: tl.constexpr, BLOCK_R: tl.constexpr, BY_TAPS: tl.constexpr):
    """The octave whose units contain program ``pid`` and the program's index among them. An octave has
    ``B·P·⌈⌈T/P⌉/BLOCK_A⌉·⌈2n/BLOCK_R⌉`` units (batch, phase, frame tile, row tile), or with ``BY_TAPS``
    ``P·⌈2n/BLOCK_R⌉·⌈W/BLOCK_A⌉`` (phase, row tile, tap tile: the kernel gradient)."""
    o = pid * 0
    first = pid * 0
    start = pid * 0
    for i in range(0, n_oct):
        n_ph = tl.load(oct_ptr + i * O_FIELDS + O_PHASES)
        rows = tl.load(oct_ptr + i * O_FIELDS + O_ROWS)
        if BY_TAPS:
            width = tl.load(oct_ptr + i * O_FIELDS + O_WIDTH)
            units = n_ph * tl.cdiv(rows, BLOCK_R) * tl.cdiv(width, BLOCK_A)
        else:
            units = B * n_ph * tl.cdiv(tl.cdiv(T, n_ph), BLOCK_A) * tl.cdiv(rows, BLOCK_R)
        hit = (pid >= start) & (pid < start + units)
        o = tl.where(hit, i, o)
        first = tl.where(hit, start, first)
        start += units
    return o, pid - first


@triton.jit(do_not_specialize=["B", "L", "Lp", "left", "T", "s_xb", "s_xl", "s_yb", "s_ob", "s_ot"])
def _octave_fwd_kernel(
    x_ptr, y_ptr, k_ptr, oct_ptr, re_ptr, im_ptr,
    B, L, Lp, left, T, hop, n_oct,
    s_xb, s_xl, s_yb, s_ob, s_of, s_ot,
    PAD: tl.constexpr, PREC: tl.constexpr, EMULATE_BF16: tl.constexpr,
    BLOCK_T: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_K: tl.constexpr,
):
    """One tile of frames of one phase of one octave: ``out[t, r] = Σ_j y_ℓ[base(t) + j]·K[u, r, j]``."""
    o, unit = _find_octave(tl.program_id(0).to(tl.int64), oct_ptr, n_oct, B, T, BLOCK_T, BLOCK_R, False)
    n_ph, rows, width, koff, level, first, bin0 = _octave_row(oct_ptr, o)
    n_rt = tl.cdiv(rows, BLOCK_R)
    n_st = tl.cdiv(tl.cdiv(T, n_ph), BLOCK_T)
    r_tile = unit % n_rt
    unit = unit // n_rt
    s_tile = unit % n_st
    unit = unit // n_st
    u = unit % n_ph
    b = unit // n_ph
    s = s_tile * BLOCK_T + tl.arange(0, BLOCK_T).to(tl.int64)
    t = u + n_ph * s
    t_mask = t < T
    base = ((t * hop) >> level) + first
    r = r_tile * BLOCK_R + tl.arange(0, BLOCK_R).to(tl.int64)
    r_mask = r < rows
    y_off, y_len = _level_geometry(Lp, tl.maximum(level, 1))
    x_row = x_ptr + b * s_xb
    y_row = y_ptr + b * s_yb + y_off
    k_rows = k_ptr + koff + (u * rows + r) * width
    acc = tl.zeros((BLOCK_T, BLOCK_R), dtype=tl.float32)
    for j0 in range(0, width, BLOCK_K):
        j = j0 + tl.arange(0, BLOCK_K).to(tl.int64)
        j_mask = j < width
        pos = base[:, None] + j[None, :]
        a_mask = t_mask[:, None] & j_mask[None, :]
        if level == 0:  # the padded waveform itself
            a = _level_load(x_row, s_xl, pos, Lp, L, left, a_mask, PAD)
        else:
            a = _level_load(y_row, 1, pos, y_len, y_len, 0, a_mask, 0)
        w = tl.load(k_rows[None, :] + j[:, None], mask=j_mask[:, None] & r_mask[None, :], other=0.0)
        acc = mma(a, w, acc, PREC, EMULATE_BF16)
    half = rows // 2
    t_off = t[:, None] * s_ot
    out_off = b * s_ob + t_off
    tl.store(re_ptr + out_off + (bin0 + r)[None, :] * s_of, acc, mask=t_mask[:, None] & (r < half)[None, :])
    tl.store(im_ptr + out_off + (bin0 + r - half)[None, :] * s_of, -acc,
             mask=t_mask[:, None] & ((r >= half) & r_mask)[None, :])


@triton.jit
def _grad_rows(gre_ptr, gim_ptr, b, bin0, half, rows, t, t_mask, r, s_gb, s_gf, s_gt):
    """``G[t, r]``: ``g_re[b, bin0 + r, t]`` for ``r < half``, ``−g_im[b, bin0 + r − half, t]`` up to ``rows``
    (``t`` and ``r`` broadcast against each other)."""
    re = tl.load(gre_ptr + b * s_gb + (bin0 + r) * s_gf + t * s_gt, mask=t_mask & (r < half), other=0.0)
    im = tl.load(gim_ptr + b * s_gb + (bin0 + r - half) * s_gf + t * s_gt,
                 mask=t_mask & (r >= half) & (r < rows), other=0.0)
    return re.to(tl.float32) - im.to(tl.float32)


@triton.jit(do_not_specialize=["B", "Lp", "T", "has0_len", "s_gb", "s_gt", "s_ob"])
def _octave_input_grad_kernel(
    gre_ptr, gim_ptr, k_ptr, oct_ptr, lvl_ptr, out_ptr,
    B, Lp, has0_len, T, hop, n_lvl,
    s_gb, s_gf, s_gt, s_ob,
    PREC: tl.constexpr, EMULATE_BF16: tl.constexpr,
    BLOCK_Q: tl.constexpr, BLOCK_RR: tl.constexpr, BLOCK_R: tl.constexpr,
):
    """Cotangent of one ``(q, ρ)`` tile of one level, ``m = M_0 + q·S + ρ``, summed over the level's octaves and
    phases. Output rows: level 0 (``has0_len = L_p`` samples, or absent when 0), then levels 1, 2, ...."""
    pid = tl.program_id(0).to(tl.int64)
    v = pid * 0
    first = pid * 0
    start = pid * 0
    for i in range(0, n_lvl):  # which level this program belongs to
        lv = tl.load(lvl_ptr + i * V_FIELDS + V_LEVEL)
        stride = tl.load(lvl_ptr + i * V_FIELDS + V_STRIDE)
        _, ln = _level_geometry(Lp, tl.maximum(lv, 1))
        ln = tl.where(lv == 0, Lp, ln)
        units = B * tl.cdiv(ln, BLOCK_Q * stride) * tl.cdiv(stride, BLOCK_RR)
        hit = (pid >= start) & (pid < start + units)
        v = tl.where(hit, i, v)
        first = tl.where(hit, start, first)
        start += units
    unit = pid - first
    vrow = lvl_ptr + v * V_FIELDS
    level = tl.load(vrow + V_LEVEL)
    o_lo = tl.load(vrow + V_OCT_LO)
    o_hi = tl.load(vrow + V_OCT_HI)
    S = tl.load(vrow + V_STRIDE)
    y_off, y_len = _level_geometry(Lp, tl.maximum(level, 1))
    y_off += has0_len
    y_len = tl.where(level == 0, Lp, y_len)
    y_off = tl.where(level == 0, 0, y_off)
    n_rr = tl.cdiv(S, BLOCK_RR)
    n_q = tl.cdiv(y_len, BLOCK_Q * S)
    rr_tile = unit % n_rr
    unit = unit // n_rr
    q_tile = unit % n_q
    b = unit // n_q
    q = tl.arange(0, BLOCK_Q).to(tl.int64)
    rr = rr_tile * BLOCK_RR + tl.arange(0, BLOCK_RR).to(tl.int64)
    rr_mask = rr < S
    m0 = q_tile * BLOCK_Q * S
    acc = tl.zeros((BLOCK_Q, BLOCK_RR), dtype=tl.float32)
    for o in range(o_lo, o_hi):
        n_ph, rows, width, koff, _level, first_o, bin0 = _octave_row(oct_ptr, o)
        half = rows // 2
        for u in range(0, n_ph):
            c_u = ((u * hop) >> level) + first_o
            delta = m0 - c_u
            a_u = _floor_div(delta, S)
            b_u = delta - a_u * S
            k_u = k_ptr + koff + u * rows * width
            for jj in range(-1, tl.cdiv(width, S)):
                s = a_u + q - jj
                t = u + n_ph * s
                t_mask = (s >= 0) & (t < T)
                j = jj * S + b_u + rr
                j_mask = rr_mask & (j >= 0) & (j < width)
                for r0 in range(0, rows, BLOCK_R):
                    r = r0 + tl.arange(0, BLOCK_R).to(tl.int64)
                    g = _grad_rows(gre_ptr, gim_ptr, b, bin0, half, rows, t[:, None], t_mask[:, None], r[None, :],
                                   s_gb, s_gf, s_gt)
                    w = tl.load(k_u + r[:, None] * width + j[None, :], mask=(r < rows)[:, None] & j_mask[None, :],
                                other=0.0)
                    acc = mma(g, w, acc, PREC, EMULATE_BF16)
    m = m0 + q[:, None] * S + rr[None, :]
    tl.store(out_ptr + b * s_ob + y_off + m, acc, mask=rr_mask[None, :] & (m < y_len))


@triton.jit(do_not_specialize=["B", "L", "Lp", "left", "T", "s_xb", "s_xl", "s_yb", "s_gb", "s_gt"])
def _octave_kernel_grad_kernel(
    gre_ptr, gim_ptr, x_ptr, y_ptr, oct_ptr, out_ptr,
    B, L, Lp, left, T, hop, n_oct, n_split, k_total,
    s_xb, s_xl, s_yb, s_gb, s_gf, s_gt,
    PAD: tl.constexpr, PREC: tl.constexpr, EMULATE_BF16: tl.constexpr,
    BLOCK_R: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_S: tl.constexpr,
):
    """Partial sums ``out[split, K_i[u, r, j]] = Σ_{(b, s) in split} G[b, u + P s, r]·y_ℓ[b, base(u + P s) + j]``
    for one ``(r, j)`` tile of one phase of one octave (packed like the kernels, ``k_total`` values a split)."""
    pid = tl.program_id(0).to(tl.int64)
    split = tl.program_id(1).to(tl.int64)
    o, unit = _find_octave(pid, oct_ptr, n_oct, B, T, BLOCK_J, BLOCK_R, True)
    n_ph, rows, width, koff, level, first_o, bin0 = _octave_row(oct_ptr, o)
    half = rows // 2
    n_jt = tl.cdiv(width, BLOCK_J)
    j_tile = unit % n_jt
    unit = unit // n_jt
    n_rt = tl.cdiv(rows, BLOCK_R)
    r_tile = unit % n_rt
    u = unit // n_rt
    r = r_tile * BLOCK_R + tl.arange(0, BLOCK_R).to(tl.int64)
    r_mask = r < rows
    j = j_tile * BLOCK_J + tl.arange(0, BLOCK_J).to(tl.int64)
    j_mask = j < width
    y_off, y_len = _level_geometry(Lp, tl.maximum(level, 1))
    n_st = tl.cdiv(tl.cdiv(T, n_ph), BLOCK_S)
    total = B * n_st
    per_split = tl.cdiv(total, n_split)
    acc = tl.zeros((BLOCK_R, BLOCK_J), dtype=tl.float32)
    for chunk in range(split * per_split, tl.minimum((split + 1) * per_split, total)):
        b = chunk // n_st
        s = (chunk % n_st) * BLOCK_S + tl.arange(0, BLOCK_S).to(tl.int64)
        t = u + n_ph * s
        t_mask = t < T
        g = _grad_rows(gre_ptr, gim_ptr, b, bin0, half, rows, t[None, :], t_mask[None, :], r[:, None],
                       s_gb, s_gf, s_gt)
        pos = ((t * hop) >> level)[:, None] + first_o + j[None, :]
        a_mask = t_mask[:, None] & j_mask[None, :]
        if level == 0:
            a = _level_load(x_ptr + b * s_xb, s_xl, pos, Lp, L, left, a_mask, PAD)
        else:
            a = _level_load(y_ptr + b * s_yb + y_off, 1, pos, y_len, y_len, 0, a_mask, 0)
        acc = mma(g, a, acc, PREC, EMULATE_BF16)
    out = out_ptr + split * k_total + koff + (u * rows + r)[:, None] * width + j[None, :]
    tl.store(out, acc, mask=r_mask[:, None] & j_mask[None, :])


# ----------------------------------------------------------------------------------------------------------------
# launchers: validate, allocate, pick blocks, launch
# ----------------------------------------------------------------------------------------------------------------
# Untimed: chosen without a GPU as the largest tensor-core-friendly tiles that compile for sm_90 with no register
# spills under triton 3.9 (CI's compile check) and 3.6 (the GPU image's; checked by hand), every pyramid level count
# included; tf32x3 needs the most registers (the pyramid spilled at BLOCK_KC=32 for some level counts, the adjoint
# at 4 warps), and the 'ieee' octave kernels (FP32 FMAs) spilled hundreds of stores under 3.6 at the tensor-core
# tiles. Time them with benchmarks/gpu_cqt.py.
_GPU_BLOCKS = {
    ("pyramid", None): dict(ROWS=64, Q=32, BLOCK_KC=16, num_warps=4),  # wgmma on sm_90 (M = 64)
    ("pyramid", "ieee"): dict(ROWS=16, Q=32, BLOCK_KC=16, num_warps=4),  # FP32 FMAs: smaller tiles, no spills
    ("pyramid_adjoint", "exact"): dict(ROWS=64, Q=32, BLOCK_KC=16, num_warps=8),
    ("octave_fwd", None): dict(BLOCK_T=128, BLOCK_K=32, num_warps=8),
    ("octave_fwd", "ieee"): dict(BLOCK_T=64, BLOCK_K=16, num_warps=8),
    ("input_grad", None): dict(BLOCK_Q=64, BLOCK_RR=16, num_warps=8),
    ("input_grad", "ieee"): dict(BLOCK_Q=16, BLOCK_RR=16, num_warps=8),
    ("kernel_grad", None): dict(BLOCK_J=64, BLOCK_S=32, num_warps=8),
}
_INTERPRET_BLOCKS = {  # small tiles: the test shapes then span several tiles along every axis
    "pyramid": dict(ROWS=16, Q=16, BLOCK_KC=32), "octave_fwd": dict(BLOCK_T=16, BLOCK_K=16, BLOCK_R=16),
    "input_grad": dict(BLOCK_Q=16, BLOCK_R=16, BLOCK_RR=64), "kernel_grad": dict(BLOCK_J=64, BLOCK_S=16, BLOCK_R=16),
}
#: Pyramid grouping (see :func:`pyramid_groups`): at most this many levels per launch (the level loop is unrolled),
#: chunks of CHUNK_MIN … CHUNK_MAX samples, and the number of programs a launch should have to fill the GPU.
PYRAMID_MAX_LEVELS = 8
PYRAMID_CHUNK_MIN, PYRAMID_CHUNK_MAX = 256, 1024
_INTERPRET_PYRAMID = dict(max_levels=2, chunk=256)


def _blocks(kind: str, precision: str = "exact", rows: int = 0) -> dict:
    """Tiles for ``kind`` ('pyramid_adjoint' takes the pyramid's unless it has its own) and ``precision``."""
    base = "pyramid" if kind == "pyramid_adjoint" else kind
    if INTERPRET:
        return dict(_INTERPRET_BLOCKS[base])
    cfg = _GPU_BLOCKS.get((kind, precision)) or _GPU_BLOCKS.get((base, precision)) or _GPU_BLOCKS[(base, None)]
    cfg = dict(cfg, num_stages=1 if base == "pyramid" else 2)
    if kind in ("octave_fwd", "input_grad", "kernel_grad"):
        cfg.setdefault("BLOCK_R", pow2(rows, 16, 32))
    return cfg


def _fill_device(cfg: dict, count_units, device) -> None:
    """Short or few signals: halve BLOCK_T (down to 16; 4 warps below 128, fewer registers, no new spills) until
    the octave kernel has a program per SM."""
    if INTERPRET:
        return
    sms = sm_count(device)
    while cfg["BLOCK_T"] > 16 and count_units(cfg) < sms:
        cfg["BLOCK_T"] //= 2
        cfg["num_warps"] = 4


def lengths_from_input(length: int, n_levels: int) -> list:
    """``[len_0, len_1, …, len_n]``: the input's length, then :func:`nnaudio_fast.geometry.level_lengths`."""
    return [int(length)] + level_lengths(int(length), n_levels)


def pyramid_groups(batch: int, lengths, device, max_levels=None, chunk=None) -> list:
    """Launch plan of the pyramid: ``[(s, q, chunk)]``, one launch computing levels ``s + 1 … s + q`` with
    ``chunk`` samples of level ``s + q`` per program. Levels join a launch while it still has enough programs to
    fill the GPU at ``PYRAMID_CHUNK_MIN``; when even one level cannot fill it (short or few signals: latency-bound),
    the remaining levels share one launch. ``max_levels``/``chunk`` override the choice (tests)."""
    n = len(lengths) - 1
    if INTERPRET:
        max_levels = max_levels or _INTERPRET_PYRAMID["max_levels"]
        chunk = chunk or _INTERPRET_PYRAMID["chunk"]
    max_levels = max_levels or PYRAMID_MAX_LEVELS
    target = 2 * sm_count(torch.device(device))
    groups, s = [], 0
    while s < n:
        q = 1
        while s + q < n and q < max_levels and batch * cdiv(lengths[s + q + 1], PYRAMID_CHUNK_MIN) >= target:
            q += 1
        if q == 1 and batch * cdiv(lengths[s + 1], PYRAMID_CHUNK_MIN) < target:
            q = min(n - s, max_levels)
        c = chunk
        if c is None:
            c = PYRAMID_CHUNK_MAX
            while c > PYRAMID_CHUNK_MIN and batch * cdiv(lengths[s + q], c) < target:
                c //= 2
        groups.append((s, q, c))
        s += q
    return groups


_TAPS_OK: "collections.OrderedDict[tuple, bool]" = collections.OrderedDict()


def check_taps(h: torch.Tensor) -> torch.Tensor:
    """``h`` as fp32 after checking it is a symmetric half-band filter (the polyphase form relies on it); the value
    check synchronises, so it runs once per tensor version."""
    if h.dim() != 1 or h.shape[0] < 3 or h.shape[0] % 2 != 1:
        raise ValueError(f"h has shape {tuple(h.shape)}; it must be a 1-D symmetric half-band filter with an odd "
                         "number (>= 3) of taps (nnaudio_fast.bases.halfband_lowpass()).")
    key = (h.data_ptr(), h._version, h.shape[0], h.stride(0), h.device, h.dtype)
    if key not in _TAPS_OK:
        with torch.no_grad():
            hd = h.detach().to(torch.float64)
            k = (h.shape[0] - 1) // 2
            j = torch.arange(-k, k + 1, device=h.device)
            even_off_centre = (j % 2 == 0) & (j != 0)
            if not bool(torch.equal(hd, hd.flip(0))):
                raise ValueError("h must be symmetric (zero phase), as nnaudio_fast.bases.halfband_lowpass() is.")
            if bool((hd[even_off_centre] != 0).any()):
                raise ValueError("h must be half-band: its even taps other than the centre must be 0.")
        _TAPS_OK[key] = True
        if len(_TAPS_OK) > 16:
            _TAPS_OK.popitem(last=False)
    return h.detach().to(torch.float32).contiguous()


def _taps_constants(h: torch.Tensor):
    k = (h.shape[0] - 1) // 2
    return k, (k + 1) // 2  # K, number of odd taps per side


#: ``tl.dot`` precision of the pyramid's filter per mode (:data:`nnaudio_fast.precision.MODES`).
PYRAMID_DOT = {name: mode.triton_pyramid_dot for name, mode in MODES.items()}
_TOEPLITZ: "collections.OrderedDict[tuple, torch.Tensor]" = collections.OrderedDict()


def toeplitz_taps(h32: torch.Tensor, q: int, block_kc: int) -> torch.Tensor:
    """``F[k, p] = f[k − p]`` (``KC × Q``, zero outside ``0 ≤ k − p < 2·KK``; ``KC`` the multiple of ``block_kc``
    ``≥ Q + 2·KK − 1``), ``f`` the odd taps of ``h`` in order: the pyramid's filter as a tensor-core operand. Built
    on the device without a synchronisation, cached per taps tensor."""
    key = (h32.data_ptr(), h32._version, h32.device, q, block_kc)
    hit = _TOEPLITZ.get(key)
    if hit is not None:
        return hit[0]
    K, KK = _taps_constants(h32)
    g = h32[K + 1:: 2]  # g_k = h[K + 2k + 1]
    f = torch.cat((g.flip(0), g))
    kc = cdiv(q + 2 * KK - 1, block_kc) * block_kc
    d = torch.arange(kc, device=h32.device)[:, None] - torch.arange(q, device=h32.device)[None, :]
    F = torch.where((d >= 0) & (d < 2 * KK), f[d.clamp(0, 2 * KK - 1)], torch.zeros((), device=h32.device))
    _TOEPLITZ[key] = (F.contiguous(), h32)
    if len(_TOEPLITZ) > 8:
        _TOEPLITZ.popitem(last=False)
    return _TOEPLITZ[key][0]


def pyramid(x: torch.Tensor, h: torch.Tensor, n_levels: int, pad_mode: str = "constant", left: int = 0,
            precision: str = "exact", max_levels=None, chunk=None) -> torch.Tensor:
    """Levels ``1 … n_levels`` of the pyramid of ``x`` ``(B, L)`` (padded by ``left`` samples of ``pad_mode`` on
    each side when ``left > 0``) as one flat ``(B, Σ len_ℓ)`` fp32 buffer, level 1 first."""
    B, L = x.shape
    pad = PAD_CODES[pad_mode] if left else PAD_NONE
    lengths = lengths_from_input(L + 2 * left, n_levels)
    flat = poisoned_empty((B, sum(lengths[1:])), x.device)
    if flat.numel() == 0 or L == 0:
        return flat.zero_() if L == 0 else flat
    h32 = check_taps(h)
    K, KK = _taps_constants(h32)
    cfg = _blocks("pyramid", precision)
    F = toeplitz_taps(h32, cfg["Q"], cfg["BLOCK_KC"])
    offsets = [0]
    for n in lengths[1:]:
        offsets.append(offsets[-1] + n)
    for s, q, c in pyramid_groups(B, lengths, x.device, max_levels, chunk):
        n_chunks = cdiv(lengths[s + q], c)
        if s == 0:
            src, s_sb, s_sl, src_pad, src_left, src_l = x, x.stride(0), x.stride(1), pad, left, L
        else:
            src = flat[:, offsets[s - 1]:]
            s_sb, s_sl, src_pad, src_left, src_l = flat.stride(0), 1, PAD_NONE, 0, lengths[s]
        dst = flat[:, offsets[s]:]
        _pyramid_kernel[(B * n_chunks,)](
            src, h32, F, dst, src_l, lengths[s], src_left, n_chunks, K, s_sb, s_sl, flat.stride(0),
            PAD=src_pad, LEVELS=q, KK=KK, CHUNK=c, PREC=PYRAMID_DOT[precision], EMULATE_BF16=INTERPRET,
            KC=F.shape[0], **cfg,
        )
    return flat


def pyramid_adjoint(grads: torch.Tensor, h: torch.Tensor, length: int, n_levels: int, base=None,
                    precision: str = "exact", max_levels=None, chunk=None) -> torch.Tensor:
    """Adjoint of :func:`pyramid` (without padding): ``grads`` is the flat ``(B, Σ len_ℓ)`` cotangent of levels
    ``1 … n_levels``; returns the cotangent ``(B, length)`` of the input, plus ``base`` ``(B, length)`` (the
    cotangent of level 0 itself, if given)."""
    B = grads.shape[0]
    lengths = lengths_from_input(length, n_levels)
    out = poisoned_empty((B, length), grads.device)
    if out.numel() == 0:
        return out
    if n_levels == 0:
        return out.copy_(base) if base is not None else out.zero_()
    h32 = check_taps(h)
    K, KK = _taps_constants(h32)
    cfg = _blocks("pyramid_adjoint", precision)
    F = toeplitz_taps(h32, cfg["Q"], cfg["BLOCK_KC"])
    offsets = [0]
    for n in lengths[1:]:
        offsets.append(offsets[-1] + n)
    acc = poisoned_empty((B, offsets[-1]), grads.device) if n_levels > 1 else grads
    for s, q, c in reversed(pyramid_groups(B, lengths, grads.device, max_levels, chunk)):
        top = grads if s + q == n_levels else acc
        top = top[:, offsets[s + q - 1]:]
        c_fine = c << q
        n_chunks = cdiv(lengths[s], c_fine)
        if s == 0:
            dst, s_ob, s_ol = out, out.stride(0), out.stride(1)
            g0 = base
        else:
            dst, s_ob, s_ol = acc[:, offsets[s - 1]:], acc.stride(0), 1
            g0 = grads[:, offsets[s - 1]:]
        g0_t = g0 if g0 is not None else grads
        _pyramid_adjoint_kernel[(B * n_chunks,)](
            top, grads[:, offsets[s]:], g0_t, acc[:, offsets[s]:], dst, h32, F,
            lengths[s], n_chunks, K, top.stride(0), grads.stride(0), g0_t.stride(0), acc.stride(0), s_ob, s_ol,
            HAS_G0=g0 is not None, LEVELS=q, KK=KK, CHUNK=c_fine, PREC=PYRAMID_DOT[precision],
            EMULATE_BF16=INTERPRET, KC=F.shape[0], **cfg,
        )
    return out


# ---- octave products ------------------------------------------------------------------------------------------
class OctaveLayout:
    """Static description of a multirate CQT's octaves (from the kernel shapes, offsets, levels, hop and padding),
    with its device tables (built once per configuration and device, then reused: no host-to-device copy per
    call)."""

    def __init__(self, shapes, offsets, levels, hop: int, pad_amount: int, device):
        n_oct = len(levels)
        if not (len(shapes) == 3 * n_oct == 3 * len(offsets)) or n_oct == 0:
            raise ValueError(f"got {len(shapes) // 3} kernel shapes, {len(offsets)} offsets and {n_oct} levels; "
                             "one of each per octave (at least one octave).")
        self.hop, self.pad = int(hop), int(pad_amount)
        self.levels = [int(v) for v in levels]
        if any(v < 0 for v in self.levels) or self.levels != sorted(self.levels):
            raise ValueError(f"levels={tuple(levels)} must be non-negative and non-decreasing (top octave first).")
        if hop < 1:
            raise ValueError(f"hop_length={hop} must be a positive integer.")
        if pad_amount < 0:
            raise ValueError(f"pad_amount={pad_amount} must be >= 0.")
        self.shapes = [tuple(int(v) for v in shapes[3 * i: 3 * i + 3]) for i in range(n_oct)]
        self.n_bins = sum(r // 2 for _, r, _ in self.shapes)
        self.max_level = max(self.levels)
        rows, koff, bin_stop = [], 0, self.n_bins
        for i, ((n_ph, r, w), first, level) in enumerate(zip(self.shapes, offsets, self.levels)):
            d = 2 ** level
            if r % 2 or r < 2 or w < 1:
                raise ValueError(f"kernel of octave {i} has shape {(n_ph, r, w)}; it must be (phases, 2·n_bins, "
                                 "width) with n_bins, width >= 1.")
            if n_ph != d // math.gcd(self.hop, d):
                raise ValueError(f"kernel of octave {i} has {n_ph} phases, but level {level} with hop_length={hop} "
                                 f"needs {d // math.gcd(self.hop, d)} (2^level / gcd(hop_length, 2^level)).")
            bin_stop -= r // 2
            rows.append((n_ph, r, w, koff, level, self.pad // d + int(first), bin_stop))
            koff += n_ph * r * w
        self.k_total = koff
        self.octave_rows = rows
        self.has_level0 = self.levels[0] == 0 if n_oct else False
        lvl_rows = []
        for level in range(0 if self.has_level0 else 1, self.max_level + 1):
            octs = [i for i in range(n_oct) if self.levels[i] == level]
            lo = octs[0] if octs else 0
            hi = octs[-1] + 1 if octs else 0
            lvl_rows.append((level, lo, hi, self.hop // math.gcd(self.hop, 2 ** level)))
        self.level_rows = lvl_rows
        self.oct_table = torch.tensor(rows, dtype=torch.int64).reshape(-1).to(device)
        self.lvl_table = torch.tensor(lvl_rows, dtype=torch.int64).reshape(-1).to(device)
        self.max_rows = max(r for _, r, _ in self.shapes)


_LAYOUTS: "collections.OrderedDict[tuple, OctaveLayout]" = collections.OrderedDict()


def octave_layout(shapes, offsets, levels, hop: int, pad_amount: int, device) -> OctaveLayout:
    key = (tuple(shapes), tuple(offsets), tuple(levels), int(hop), int(pad_amount), torch.device(device))
    layout = _LAYOUTS.get(key)
    if layout is None:
        layout = _LAYOUTS[key] = OctaveLayout(shapes, offsets, levels, hop, pad_amount, device)
        if len(_LAYOUTS) > 32:
            _LAYOUTS.popitem(last=False)
    else:
        _LAYOUTS.move_to_end(key)
    return layout


def octave_forward(x, levels_flat, kpack, layout: OctaveLayout, pad_mode: str, precision: str):
    """``(re, im)`` ``(B, n_bins, T)`` of every octave, in one launch (``levels_flat``: :func:`pyramid` of the
    padded waveform)."""
    B, L = x.shape
    T = n_frames(L, layout.hop)
    re = poisoned_empty((B, layout.n_bins, T), x.device)
    im = poisoned_empty((B, layout.n_bins, T), x.device)
    cfg = _blocks("octave_fwd", precision, rows=layout.max_rows)

    def count_units(c):
        return sum(B * p * cdiv(cdiv(T, p), c["BLOCK_T"]) * cdiv(r, c["BLOCK_R"]) for p, r, _ in layout.shapes)

    _fill_device(cfg, count_units, x.device)
    units = count_units(cfg)
    y = levels_flat if levels_flat.numel() else x
    _octave_fwd_kernel[(units,)](
        x, y, kpack, layout.oct_table, re, im,
        B, L, L + 2 * layout.pad, layout.pad, T, layout.hop, len(layout.shapes),
        x.stride(0), x.stride(1), y.stride(0), re.stride(0), re.stride(1), re.stride(2),
        PAD=PAD_CODES[pad_mode], PREC=DOT_PRECISION[precision], EMULATE_BF16=INTERPRET, **cfg,
    )
    return re, im


def octave_level_grads(g_re, g_im, kpack, layout: OctaveLayout, length: int, precision: str) -> torch.Tensor:
    """Cotangents of the levels the octaves read: flat ``(B, [L_p] + Σ_{ℓ≥1} len_ℓ)``, level 0 (the padded
    waveform) first when an octave runs there."""
    B, _, T = g_re.shape
    lp = length + 2 * layout.pad
    lengths = lengths_from_input(lp, layout.max_level)
    has0 = lp if layout.has_level0 else 0
    out = poisoned_empty((B, has0 + sum(lengths[1:])), g_re.device)
    if out.numel() == 0:
        return out
    cfg = _blocks("input_grad", precision, rows=layout.max_rows)
    units = 0
    for level, _, _, S in layout.level_rows:
        units += B * cdiv(lengths[level], cfg["BLOCK_Q"] * S) * cdiv(S, cfg["BLOCK_RR"])
    if g_im.stride() != g_re.stride():
        g_im = g_im.contiguous()
        g_re = g_re.contiguous()
    _octave_input_grad_kernel[(units,)](
        g_re, g_im, kpack, layout.oct_table, layout.lvl_table, out,
        B, lp, has0, T, layout.hop, len(layout.level_rows),
        g_re.stride(0), g_re.stride(1), g_re.stride(2), out.stride(0),
        PREC=DOT_PRECISION[precision], EMULATE_BF16=INTERPRET, **cfg,
    )
    return out


def octave_kernel_grads(x, levels_flat, g_re, g_im, layout: OctaveLayout, pad_mode: str, precision: str,
                        split=None) -> torch.Tensor:
    """Gradient of the packed kernels (``layout.k_total`` values), deterministic: per-split partial sums added in a
    fixed order."""
    B, L = x.shape
    T = g_re.shape[-1]
    cfg = _blocks("kernel_grad", precision, rows=layout.max_rows)
    units = sum(p * cdiv(r, cfg["BLOCK_R"]) * cdiv(w, cfg["BLOCK_J"]) for p, r, w in layout.shapes)
    chunks = B * max(cdiv(cdiv(T, p), cfg["BLOCK_S"]) for p, _, _ in layout.shapes)
    if split is None:  # enough programs to fill the GPU, at least 8 chunks each
        split = max(1, min(cdiv(2 * sm_count(x.device), units), chunks // 8))
    out = poisoned_empty((split, layout.k_total), x.device)
    if g_im.stride() != g_re.stride():
        g_im = g_im.contiguous()
        g_re = g_re.contiguous()
    y = levels_flat if levels_flat.numel() else x
    _octave_kernel_grad_kernel[(units, split)](
        g_re, g_im, x, y, layout.oct_table, out,
        B, L, L + 2 * layout.pad, layout.pad, T, layout.hop, len(layout.shapes), split, layout.k_total,
        x.stride(0), x.stride(1), y.stride(0), g_re.stride(0), g_re.stride(1), g_re.stride(2),
        PAD=PAD_CODES[pad_mode], PREC=DOT_PRECISION[precision], EMULATE_BF16=INTERPRET, **cfg,
    )
    return out.sum(0) if split > 1 else out[0]


def input_grad(g_re, g_im, kpack, h, layout: OctaveLayout, length: int, pad_mode: str, precision: str):
    """Waveform gradient ``(B, length)``: level cotangents, pyramid adjoint (level 0's added at the finest level),
    padding adjoint."""
    lp = length + 2 * layout.pad
    flat = octave_level_grads(g_re, g_im, kpack, layout, length, precision)
    has0 = lp if layout.has_level0 else 0
    base = flat[:, :has0] if has0 else None
    if layout.max_level == 0:
        dpad = base
    else:
        dpad = pyramid_adjoint(flat[:, has0:], h, lp, layout.max_level, base=base, precision=precision)
    if layout.pad == 0:
        return dpad.contiguous()
    return fold_padding(dpad, length, 2 * layout.pad, True, pad_mode)
