"""CPU Fourier paths: the STFT by FFT, and filterbank spectrograms fused and blocked.

With a plain-DFT basis windowed by ``w`` (certified by ``dft_window``) frame ``t`` of the padded signal ``x_p`` has
``X[k, t] = Σ_n w[n] x_p[t·hop + n] e^{−2πikn/N} = rfft(w ⊙ x_p[t·hop : t·hop + N])[k]`` (O(N log N) per frame
instead of the O(N²) kernel product). A filterbank ``M`` ``(n_filters, N//2 + 1)`` whose row ``m`` is zero outside
``[lo_m, hi_m)`` (certified by ``support``: mel and gammatone filters are narrow) gives
``S[m, t] = Σ_{k ∈ [lo_m, hi_m)} M[m, k]·|X[k, t]|^p``: rows are grouped (:func:`row_groups`) and each group
multiplies only its common span, which skips structural zeros only (the result is the dense product's up to
rounding).

:func:`fused_spectrogram` is one call of the C++ extension when it is built (``csrc/frames.cpp``): each frame
gathered with its padding, windowed, FFT'd, squared, multiplied by the filterbank over its support and logged,
eight float32 frames (four float64) at a time in one vector register each, written straight into the output; frame
groups split over ``torch.get_num_threads()`` threads. Without the extension (or for an FFT size with a prime
factor above :data:`MAX_NATIVE_RADIX`) it runs frames in blocks through torch buffers allocated once per call:
window (into the frame buffer) → ``rfft`` (into the spectrum buffer) → ``|X|^p`` in place → the grouped filterbank
products, written straight into the output → log in place. Either way the complex and the power spectrogram of the
whole signal never exist (peak memory is the output plus a few blocks). In the torch paths the padding is folded
in: only the few edge frames that reach into the padding are gathered from a short padded copy of each end
(circular padding, which wraps around, pads the whole signal), for every example in one block; every other frame is
a view of the input. A problem that fits one block runs as a few whole-batch operations instead (per-operation
costs dominate there).

The fused path computes no gradient (its buffers are written in place) and is not traced by ``torch.compile``;
:func:`spectrogram` uses it when neither holds and otherwise runs the same math as torch operations.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
import weakref

import torch

from ..geometry import n_frames
from ..primitives import LOG_SCALES, pad

try:
    from .. import _multirate as _ext
except ImportError:  # not built: the torch paths below serve every size
    _ext = None

#: Bytes of one block's frames (its FFT and power buffers are about as large): reused buffers, and blocks large enough
#: that a batch takes few operations (each one an OpenMP parallel region, costly on a loaded machine); measured
#: against 2 and 32 MiB on a 2-core EPYC (benchmarks/results/cpu/fast_path.md).
BLOCK_BYTES = 1 << 23
#: Signals of at most this many samples (the whole batch) are padded whole: cheaper than three frame sources, whose
#: edge sources multiply every filter group again for a few frames (1 × 10 s at 16 kHz, Whisper's geometry: 2.4
#: against 4.4 ms with two threads, 1.9 against 2.5 ms with one). The copy is at most 2 MiB in float32.
WHOLE_PAD_SAMPLES = 1 << 19
#: Cost of one more matrix product, in multiply-adds (a call costs a few microseconds).
PRODUCT_OVERHEAD = 60_000
#: One-block products of at most this many multiply-adds per example are dense: a sparse product costs several µs
#: more to set up (measured with one and two threads: Whisper's 80 × 201 filterbank up to a dozen frames, 0.1 s, is
#: faster dense; the 128 × 513 Mel filterbank on 7 frames is faster sparse). Per example, so that an example's
#: output does not depend on the batch it is computed in (a DataLoader's items equal the whole batch's rows).
DENSE_MACS = 300_000
#: Whether fused spectrograms are one call of the C++ extension when it is built (``csrc/frames.cpp``, vectorised
#: over frames: at n_fft 400 about 0.5 µs per frame for the whole log-mel chain, against 0.5 µs for pocketfft's
#: batched FFT alone; no per-operation overhead, so short clips and streaming steps gain most). False: the torch
#: paths below (the tests run both).
NATIVE = True
#: The largest prime factor of a frame's FFT size the native call takes (radices 2–5 have butterflies; others up to
#: this run as plain sums, still far below a frame's other costs).
MAX_NATIVE_RADIX = 13
_PAD_CODES = {"constant": 0, "reflect": 1, "replicate": 2, "circular": 3}


@functools.lru_cache(maxsize=256)
def row_groups(support: tuple, frames: int) -> tuple[tuple[int, int, int, int], ...]:
    """Consecutive rows ``[r0, r1)`` and their common column span ``[c0, c1)`` minimising
    ``Σ (rows · span · frames + PRODUCT_OVERHEAD)`` over partitions into consecutive groups (dynamic programming;
    ``support[m] = (lo_m, hi_m)``). Rows with an empty support join a neighbour's group or form none."""
    m = len(support)
    best = [0.0] + [math.inf] * m
    cut = [0] * (m + 1)
    for end in range(1, m + 1):
        lo, hi = math.inf, -math.inf
        for start in range(end - 1, -1, -1):
            a, b = support[start]
            if b > a:
                lo, hi = min(lo, a), max(hi, b)
            span = max(0, hi - lo) if hi > lo else 0
            cost = best[start] + (end - start) * span * frames + PRODUCT_OVERHEAD
            if cost < best[end]:
                best[end], cut[end] = cost, start
    groups, end = [], m
    while end > 0:
        start = cut[end]
        spans = [support[r] for r in range(start, end) if support[r][1] > support[r][0]]
        lo = min((a for a, _ in spans), default=0)
        hi = max((b for _, b in spans), default=0)
        groups.append((start, end, lo, hi))
        end = start
    return tuple(reversed(groups))


def _edge_counts(length: int, n_fft: int, hop: int, total: int) -> tuple[int, int]:
    """How many frames at each end of a centred STFT reach into the padding (the rest lie inside the signal)."""
    half = n_fft // 2
    head = min(total, -(-half // hop))  # frames t with t·hop < half
    # frame t (padded coordinates t·hop … t·hop + n_fft) lies inside when t·hop − half + n_fft <= length
    inside_end = max(head, min(total, (length + half - n_fft) // hop + 1)) if length + half >= n_fft else head
    return head, total - inside_end


def _frame_sources(x: torch.Tensor, n_fft: int, hop: int, center: bool, pad_mode: str):
    """``[(first_frame, frames (B, n, n_fft) view), ...]`` covering every frame of the (centred) STFT of ``x``,
    with the padding gathered only for the edge frames."""
    length = x.shape[-1]
    if not center:
        return n_frames(length, hop, n_fft, center=False), [(0, x.unfold(-1, n_fft, hop))]
    half = n_fft // 2
    total = n_frames(length, hop, n_fft, center=True)
    head, tail = _edge_counts(length, n_fft, hop, total)
    if pad_mode == "circular" or x.numel() <= WHOLE_PAD_SAMPLES or head + tail >= total:  # pad everything
        return total, [(0, pad(x, half, half, pad_mode).unfold(-1, n_fft, hop))]
    sources = []
    if head:  # frames 0 … head−1 cover padded samples [0, (head − 1)·hop + n_fft)
        need = (head - 1) * hop + n_fft - half
        sources.append((0, pad(x[:, :need + half], half, 0, pad_mode)[:, : (head - 1) * hop + n_fft]
                        .unfold(-1, n_fft, hop)))
    mid_end = total - tail
    start = head * hop - half  # in signal coordinates
    sources.append((head, x[:, start: start + (mid_end - head - 1) * hop + n_fft].unfold(-1, n_fft, hop)))
    if tail:
        first = mid_end * hop - half  # signal coordinate of the first tail frame's start
        seg = pad(x[:, max(0, first - half):], 0, half, pad_mode)[:, first - max(0, first - half):]
        sources.append((mid_end, seg[:, : (tail - 1) * hop + n_fft].unfold(-1, n_fft, hop)))
    return total, sources


def _power_(out: torch.Tensor, power: float) -> torch.Tensor:
    """``|X|²`` in ``out`` → ``|X|^power`` in place."""
    if power == 1.0:
        out.sqrt_()
    elif power != 2.0:
        out.pow_(power / 2.0)
    return out


def fused_spectrogram(x, window, fbank, hop_length: int, center: bool, pad_mode: str, power: float,
                      log: str | None = None, amin: float = 1e-10, support=None) -> torch.Tensor:
    """``fbank @ |STFT(x)|^power`` (``fbank=None``: ``|STFT(x)|^power``), then ``c·ln max(·, amin)`` when ``log``,
    of shape ``(B, M, T)``, computed block by block (see the module docstring). No gradient.

    ``support``: ``support[m] = (lo, hi)``, the caller's certificate that ``fbank[m]`` is zero outside
    ``[lo, hi)``; None: dense rows."""
    b, n_fft = x.shape[0], window.shape[0]
    frames_each = n_frames(x.shape[-1], hop_length, n_fft, center)
    if (NATIVE and _ext is not None and _small_radices(n_fft)
            and (fbank is None or fbank.shape[-1] == n_fft // 2 + 1)):
        return _native(x, window, fbank, hop_length, center, pad_mode, power, log, amin, support, frames_each)
    block = max(8, BLOCK_BYTES // (x.element_size() * n_fft))
    if x.numel() <= WHOLE_PAD_SAMPLES and b * frames_each <= block:
        out = _small(x, window, fbank, hop_length, center, pad_mode, power, support)
    else:
        out = _blocked(x, window, fbank, hop_length, center, pad_mode, power, support, block)
    if log is not None:
        out.clamp_(min=amin).log_().mul_(LOG_SCALES[log])
    return out


def _native(x, window, fbank, hop_length, center, pad_mode, power, log, amin, support, frames_each):
    """The whole spectrogram in one call of the extension (see :data:`NATIVE`)."""
    plan = _native_plan(window, fbank, support, hop_length, pad_mode, power, log, amin)
    run = plan.run_f64 if x.dtype == torch.float64 else plan.run_f32
    out = run((x.detach() if x.requires_grad else x).numpy(), -(window.shape[0] // 2) if center else 0, frames_each,
              torch.get_num_threads())
    return torch.from_numpy(out)


@functools.lru_cache(maxsize=64)
def _small_radices(n_fft: int) -> bool:
    """Whether the native FFT of a frame (``n_fft / 2`` points when even) has prime factors of at most
    :data:`MAX_NATIVE_RADIX` only: a larger prime runs as its plain O(p²) sum."""
    n = n_fft // 2 if n_fft % 2 == 0 else n_fft
    for p in range(2, MAX_NATIVE_RADIX + 1):
        while n % p == 0:
            n //= p
    return n == 1


def _native_plan(window, fbank, support, hop_length, pad_mode, power, log, amin):
    """The extension's ``SpectrogramPlan`` of these constants: the window in float64, each filterbank row's column
    span (its certified support, else the whole row) and the row's weights on it, concatenated. Kept while the
    filterbank (else the window) holds the same values; the window's identity and version are part of the key, the
    support's identity too (hashing its pairs would cost more than the call), and the entry keeps both alive."""
    def build():
        win = window.detach().to(torch.float64).numpy()
        if fbank is None:
            spans, weights = _NO_SPANS, _NO_WEIGHTS
        else:
            rows, cols = fbank.shape
            pairs = [(lo, hi) if hi > lo else (0, 0) for lo, hi in (support or ((0, cols),) * rows)]
            dense = fbank.detach().to(torch.float64)
            weights = (torch.cat([dense[r, lo:hi] for r, (lo, hi) in enumerate(pairs)]) if rows
                       else dense.new_zeros(0)).numpy()
            spans = torch.tensor(pairs, dtype=torch.int64).reshape(rows, 2).numpy()
        plan = _ext.SpectrogramPlan(win, hop_length, _PAD_CODES[pad_mode], spans, weights, fbank is not None,
                                    float(power), 0.0 if log is None else LOG_SCALES[log], float(amin))
        # the entry keeps the objects whose ids its key holds alive, so no other object can take those ids (but not
        # its own tensor, the window when there is no filterbank: an entry keeping that alive would never die)
        return None if fbank is None else (window, support), plan

    if window.is_inference() or (fbank is not None and fbank.is_inference()):  # no version counters to key on
        return build()[1]
    if fbank is None:
        return _derived(window, ("native", hop_length, pad_mode, power, log, amin), build)[1]
    return _derived(fbank, ("native", id(window), window._version, window.data_ptr(), id(support), hop_length,
                            pad_mode, power, log, amin), build)[1]


_NO_SPANS = torch.zeros(0, 2, dtype=torch.int64).numpy()
_NO_WEIGHTS = torch.zeros(0, dtype=torch.float64).numpy()


def _small(x, window, fbank, hop_length, center, pad_mode, power, support) -> torch.Tensor:
    """A problem that fits one block: a few whole-batch operations (per-operation costs dominate here). Frames are
    rows; with a certified ``support`` the filterbank is a sparse (CSR) matrix of its support above
    :data:`DENSE_MACS` (from a few frames to a few hundred one sparse product costs less than a dense one or several
    banded ones). For the power spectrum the filterbank multiplies the interleaved squares ``(re², im²)`` of each
    bin with each weight twice: ``Σ_k M[m, k]·(re_k² + im_k²)`` in one product, no addition pass."""
    n_fft = window.shape[0]
    xp = pad(x, n_fft // 2, n_fft // 2, pad_mode) if center else x
    if fbank is None:
        spec = torch.stft(xp, n_fft, hop_length, window=window, center=False, return_complex=True)  # (B, F, T)
        sq = torch.view_as_real(spec).square_()  # a contiguous pass: products of the strided halves are slower
        return _power_(torch.add(sq[..., 0], sq[..., 1]), power)
    spec = torch.fft.rfft(xp.unfold(-1, n_fft, hop_length) * window)  # (B, T, F): frames as rows
    b, t, f = spec.shape
    sq = torch.view_as_real(spec).square_()
    sparse = support is not None and fbank.shape[0] * f * t > DENSE_MACS  # per example: batch-independent results
    if power == 2.0:
        operand, pw = _filterbank(fbank, support if sparse else None, True), sq.view(b * t, 2 * f)
    else:
        operand, pw = _filterbank(fbank, support if sparse else None, False), _power_(
            torch.add(sq[..., 0], sq[..., 1]), power).view(b * t, f)
    out = torch.mm(operand, pw.t())  # (M, B·T)
    return out.unsqueeze(0) if b == 1 else out.view(-1, b, t).transpose(0, 1).contiguous()


#: ``(id(tensor), *what) -> (weak reference, (version, data pointer), value)``: values derived from a tensor
#: (:func:`_derived`); entries die with their tensor.
_DERIVED: dict = {}


def _derived(tensor: torch.Tensor, what: tuple, build):
    """``build()``, a value derived from ``tensor``, kept while the same tensor holds the same values (its version
    counter and storage); the entry dies with the tensor. Inference tensors (``torch.inference_mode``) have no
    version counter: their values are derived afresh."""
    if tensor.is_inference():
        return build()
    key = (id(tensor),) + what
    stamp = (tensor._version, tensor.data_ptr())
    hit = _DERIVED.get(key)
    if hit is not None and hit[0]() is tensor and hit[1] == stamp:
        return hit[2]
    value = build()
    if len(_DERIVED) >= 64:
        _DERIVED.clear()
    # the callback binds the dictionary itself: at interpreter exit module globals are gone before tensors are
    _DERIVED[key] = (weakref.ref(tensor, lambda _, k=key, d=_DERIVED: d.pop(k, None)), stamp, value)
    return value


def _filterbank(fbank: torch.Tensor, support, interleaved: bool) -> torch.Tensor:
    """The product's operand made of ``fbank``: itself, or with ``interleaved`` each column twice (for the
    interleaved ``(re², im²)``); restricted to its certified ``support`` as a sparse CSR matrix when that is given
    (exactly the entries the certificate leaves, zeros inside a span included). Kept while the same tensor holds
    the same values."""
    if support is None and not interleaved:
        return fbank

    def build():
        dense = fbank.detach().repeat_interleave(2, dim=1) if interleaved else fbank.detach()
        if support is None:
            return dense
        k = 2 if interleaved else 1
        spans = [(k * lo, k * hi) if hi > lo else (0, 0) for lo, hi in support]
        lengths = [hi - lo for lo, hi in spans]
        crow = torch.tensor([0, *itertools.accumulate(lengths)], dtype=torch.int64)
        cols = torch.tensor([c for lo, hi in spans for c in range(lo, hi)], dtype=torch.int64)
        rows = torch.repeat_interleave(torch.arange(len(spans)), torch.tensor(lengths, dtype=torch.int64))
        with warnings.catch_warnings():  # "sparse CSR support is in beta": products of CSR by dense are stable
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(crow, cols, dense[rows, cols], size=tuple(dense.shape))

    return _derived(fbank, ("operand", support, interleaved), build)


def _blocked(x, window, fbank, hop_length, center, pad_mode, power, support, block) -> torch.Tensor:
    b, n_fft = x.shape[0], window.shape[0]
    if fbank is not None and not fbank.is_contiguous():  # a transposed view (torchaudio's fb.T): products of its
        fbank = fbank.contiguous()  # column-major slices ran at half speed
    n_bins = n_fft // 2 + 1
    rows = n_bins if fbank is None else fbank.shape[0]
    total, sources = _frame_sources(x, n_fft, hop_length, center, pad_mode)
    out = x.new_empty(b, rows, total)
    groups = ()
    if fbank is not None:
        if support is None:
            support = ((0, n_bins),) * rows
        groups = [(r0, r1, fbank[r0:r1, c0:c1] if c1 > c0 else None, c0, c1)
                  for r0, r1, c0, c1 in row_groups(support, min(block, total))]
    bufs = _buffers(x, min(block, b * total), n_fft)  # no block holds more frames than the whole problem
    for first, src in sources:
        count = src.shape[1]
        if b * count <= block:  # the edge frames (or a short middle) of every example: one block
            _block(src, window, out[:, :, first: first + count], groups, power, bufs)
            continue
        for i in range(b):
            for t0 in range(0, count, block):
                n = min(block, count - t0)
                _block(src[i: i + 1, t0: t0 + n], window, out[i: i + 1, :, first + t0: first + t0 + n], groups,
                       power, bufs)
    return out


_COMPLEX = {torch.float32: torch.complex64, torch.float64: torch.complex128}


def _buffers(x, block: int, n_fft: int):
    """Reused per-block buffers: windowed frames, their spectrum, its power."""
    n_bins = n_fft // 2 + 1
    return (x.new_empty(block * n_fft), torch.empty(block * n_bins, dtype=_COMPLEX[x.dtype]),
            x.new_empty(block * n_bins))


def _block(frames_, window, dst, groups, power, bufs) -> None:
    """Frames ``(e, n, N)`` (``e`` examples) → ``dst`` ``(e, rows, n)``: the power spectrum, or the grouped
    filterbank products, through the reused buffers ``bufs``."""
    e, n, n_fft = frames_.shape
    n_bins = n_fft // 2 + 1
    fr = torch.mul(frames_, window, out=bufs[0][: e * n * n_fft].view(e, n, n_fft))
    spec = torch.fft.rfft(fr, out=bufs[1][: e * n * n_bins].view(e, n, n_bins))
    sq = torch.view_as_real(spec).square_()
    if not groups:
        _power_(torch.add(sq[..., 0], sq[..., 1], out=dst.transpose(1, 2)), power)
        return
    pw = _power_(torch.add(sq[..., 0], sq[..., 1], out=bufs[2][: e * n * n_bins].view(e, n, n_bins)), power)
    if e == 1:  # 2-D products write straight into the strided output
        pw, dst = pw[0], dst[0]
    for r0, r1, w, c0, c1 in groups:
        if w is None:
            dst[..., r0:r1, :] = 0
        else:
            torch.matmul(w, pw[..., c0:c1].transpose(-1, -2), out=dst[..., r0:r1, :])


def fft_stft(x, window, hop_length: int, center: bool, pad_mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(re, im)`` ``(B, N//2 + 1, T)`` of the STFT with a plain-DFT basis windowed by ``window``, by FFT
    (differentiable)."""
    n_fft = window.shape[0]
    if center:
        x = pad(x, n_fft // 2, n_fft // 2, pad_mode)
    spec = torch.stft(x, n_fft, hop_length, window=window, center=False, return_complex=True)
    return spec.real, spec.imag
