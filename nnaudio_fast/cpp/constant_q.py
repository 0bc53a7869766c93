"""CPU single-rate CQT (CQT1992v2) that multiplies each kernel only over its support.

The transform correlates the padded signal ``x_p`` (``W // 2`` samples each side when ``center``) with ``n_bins``
kernels of width ``W``::

    C[b, k, t] = Σ_{0 <= j < W} x_p[b, t·hop + j] · (kr[k, j] − i·ki[k, j]).

A CQT kernel holds about ``Q·sr/f_k`` taps centred in ``W``: the lowest bin fills most of the width, the highest a
few percent, so the dense product (:func:`nnaudio_fast.reference.cqt_single`) spends most of its multiply-adds on
zeros. When the caller certifies ``support`` (``kr[k, j] == ki[k, j] == 0`` for ``j ∉ [lo_k, hi_k)``), this module
computes the same sums over (nearly) the support only.

**One long signal, no frames.** The examples are laid end to end, each at a multiple of ``hop``, in one buffer
``z`` that starts at tap ``o`` (only samples some kernel reaches are copied; the gaps are zero). Frame ``t`` of
example ``b`` becomes row ``r = b·S/hop + t`` of one sequence of frames, frame ``r`` starting at ``z[r·hop]``; rows
that straddle two examples are computed and dropped. With a block width ``H = m·hop`` (``m`` phases; ``m = 1``
unless the hop is below :data:`MIN_BLOCK` taps), write ``r = s·m + p`` and a tap ``j = o + q·H + v``
(``0 <= v < H``). The sample the term reads is

    z[r·hop + q·H + v] = z[p·hop + (s + q)·H + v] = X_p[s + q, v],   X_p = z[p·hop :].view(−1, H):

each row of the matrix ``X_p`` is ``H`` consecutive samples, a *view* (no frame is materialised; a grid with
another origin ``o'`` views ``z[o' − o + p·hop :]``). So

    C[k, r] = Σ_q (K_q · X_pᵀ)[k, s + q],   K_q[k, v] = K[k, o + q·H + v]   (K = [kr; ki]).

**Wide groups** (consecutive bins whose span needs several blocks) stack their block kernels ``K_q``, ``q`` in the
group's block range ``[q0, q0 + n_q)``, into the rows of one shared matrix; one product ``Y_p = K_stack · X_pᵀ``
per phase (and row chunk) serves many wide groups, and each group's output is the sum of its diagonals
``C[k, s] = Σ_i Y_p[(k, i), s + q0 + i]`` (a strided view and one reduction over ``i``, contiguous in ``s``).
**Narrow groups** (a span of at most ``H`` taps ``[a, a + w)``) multiply ``K[:, a : a + w]`` by the strided view
``z[a − o + p·hop :].view(−1, H)[:, :w]`` directly. The phases are interleaved back into frame order.

**Plan** (:func:`_plan`, cached per support, hop and problem size). A dynamic programme over consecutive bins
(sorted by frequency, CQT supports are nested and shrink geometrically) picks the groups and their kind
minimising a modelled cost: multiply-adds, plus per-product and per-reduction overheads. Wide groups sit on one
of up to :data:`GRIDS` grids (origins ``H / n`` apart: block boundaries cut a span where it wastes fewest taps),
and each grid's groups are split into bands (one product each) whose view starts at the band's first block, so a
band of narrow high bins does not compute the many shifted rows the long low bins need.

**Exact.** Every product of the dense sum that is skipped has a kernel factor the caller certified to be zero (and
blocks reaching past a group's span or the kernel width multiply zero taps), so for finite inputs the result is
the dense product's up to floating-point rounding (the summation order differs). A non-finite sample makes NaN
(``0·inf``) in the bins whose blocks cover it rather than in every bin of the frames around it; examples are laid
far enough apart that it never reaches another example. ``float64`` inputs run the same algorithm in ``float64``.

**Autograd.** The support path uses differentiable torch operations only (gathers and in-place copies into fresh
buffers, views, ``matmul``, strided sums, ``cat``), so gradients flow to the waveform and the kernels. The
waveform's gradient is the dense one's (up to rounding); a kernel's gradient is computed over its group's blocks
only (zero elsewhere, where the dense gradient need not be), so callers pass ``support`` for fixed kernels. Without
``support``, while ``torch.compile`` traces, and in exported/traced graphs, the dense product of the definition
runs.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import torch

from .. import _checks
from ..geometry import n_frames
from ..primitives import frames, kernel_product, pad_indices, portable

#: Smallest block width (taps per row of ``X_p``): hops below it run in ``m = ⌈MIN_BLOCK / hop⌉`` phases (at
#: most MAX_PHASES) so each product has an inner dimension of ``m·hop`` taps.
MIN_BLOCK = 128
MAX_PHASES = 16
#: Problems of at most this many frames (all examples) multiply the dense stacked kernels instead: a stream's step
#: of one frame costs 0.4 ms so, against 1 ms through the support products' set-up (84 bins, 16384 taps, one thread).
DENSE_FRAMES = 2
#: Frame rows per shared product (bounds the memory of its output, stacked kernel rows × rows).
CHUNK_ROWS = 8192
#: Most grids (origins ``H / n`` apart, each wide group on the one covering its span in the fewest blocks) a plan
#: may use; the plan with the lowest modelled cost wins.
GRIDS = 2
#: Modelled costs, in multiply-adds. A product: PRODUCT_OVERHEAD per call, and as many as PRODUCT_ROWS more kernel
#: rows would cost (one more pass over the signal, a less efficient shape). A narrow group's strided product runs
#: at ``1 / (NARROW_FACTOR + NARROW_ROWS / rows)`` of the shared products' speed. A wide group's diagonal sum:
#: SUM_OVERHEAD per row chunk and DIAGONAL_COST per element read.
PRODUCT_OVERHEAD = 200_000
PRODUCT_ROWS = 8
NARROW_FACTOR = 1.9
NARROW_ROWS = 16
SUM_OVERHEAD = 300_000
DIAGONAL_COST = 2
EMPTY, NARROW, WIDE = 0, 1, 2


class _Group(NamedTuple):
    """Bins ``[k0, k1)``. ``NARROW``: taps ``[a, a + width)``, own product. ``WIDE``: blocks ``[q0, q0 + blocks)``
    of grid ``grid``; its real rows are ``[row, row + n·blocks)`` of the grid's product, its imaginary rows the
    same ``stacked`` rows further. ``EMPTY``: zero rows."""

    k0: int
    k1: int
    kind: int
    a: int = 0
    width: int = 0
    grid: int = 0
    q0: int = 0
    blocks: int = 0
    row: int = 0


class _Grid(NamedTuple):
    origin: int  # tap where block 0 starts
    stacked: int  # real rows of the grid's product (as many imaginary rows follow)
    last_block: int  # one past the highest block a group reads


class _Plan(NamedTuple):
    groups: tuple
    grids: tuple  # the grids some group uses
    start: int  # tap of the buffer's first sample
    hi: int  # one past the highest tap any kernel has (1 when every row is empty)
    reach: int  # one past the highest tap a product reads (its blocks may end past ``hi``)


def cqt_single(x, kr, ki, hop_length: int, center: bool, pad_mode: str, *, precision=None, support=None):
    """Single-rate CQT ``(re, im)``, each ``(B, n_bins, T)``: ``C = frames·krᵀ − i·frames·kiᵀ``
    (:func:`nnaudio_fast.reference.cqt_single`).

    ``support``: None, or one ``(lo, hi)`` per bin with ``kr[k, j] == ki[k, j] == 0`` outside ``[lo, hi)``; the
    products then skip those taps (see the module notes). ``precision`` is ignored (CPU products are FP32).
    """
    if support is None or x.shape[0] == 0 or portable() or torch.compiler.is_compiling():
        return kernel_product(x, kr, ki, hop_length, center, pad_mode)
    width = kr.shape[-1]
    left = width // 2 if center else 0
    n_t = n_frames(x.shape[-1] + 2 * left, hop_length, width, center=False)
    if n_t < 1:  # no frame: the definition raises its error
        return kernel_product(x, kr, ki, hop_length, center, pad_mode)
    support = _checks.support(support, kr.shape[0], width, *_checks.CQT_SUPPORT)
    if x.shape[0] * n_t <= DENSE_FRAMES and not (torch.is_grad_enabled() and (kr.requires_grad or ki.requires_grad)):
        return _dense_product(x, kr, ki, hop_length, center, pad_mode)
    rows = x.shape[0] * (n_t + -(-width // hop_length))
    plan = _plan(support, hop_length, width, _bucket(rows))
    out = _support_product(x, kr, ki, hop_length, left, pad_mode, n_t, plan)
    n = kr.shape[0]
    return out[:, :n], -out[:, n:]


def _dense_product(x, kr, ki, hop: int, center: bool, mode: str):
    """A frame or two (a stream's step): one product with the cached stacked kernels ``[kr; ki]``."""
    n = kr.shape[0]
    fr = frames(x, kr.shape[-1], hop, center, mode)  # (B, T, W)
    stack = _cached(("dense",), kr, ki, lambda: torch.cat((kr, ki), 0))
    if fr.shape[0] * fr.shape[1] == 1:  # a matrix-vector product
        out = torch.mv(stack, fr.reshape(-1)).view(1, 2 * n, 1)
    else:
        out = torch.matmul(fr, stack.t()).transpose(1, 2)
    return out[:, :n], -out[:, n:]


def _bucket(rows: int) -> int:
    """``rows`` rounded up to a power of two (the plan depends on the problem size only through overheads)."""
    return 1 << max(0, rows - 1).bit_length()


def _phases(hop: int) -> int:
    return min(MAX_PHASES, -(-MIN_BLOCK // hop))


def _empty(like: torch.Tensor, shape) -> torch.Tensor:
    """Uninitialised scratch (every element read is written first; the tests fill it with NaN to check)."""
    return like.new_empty(shape)


# ---------------------------------------------------------------------------------------------------------- plan


def _grid_blocks(lo: int, hi: int, origin: int, block: int) -> tuple[int, int]:
    """``(q0, n_q)``: the blocks of the grid from ``origin`` covering taps ``[lo, hi)``."""
    q0 = (lo - origin) // block
    return q0, -(-(hi - origin) // block) - q0


def _first_origin(spans, block: int) -> int:
    """The origin (at most the lowest tap, at least 0) covering the supports longer than a block in the fewest
    blocks. The count only changes where a block boundary crosses a support's end, so the origins at and just
    after each end (modulo the block) are all the candidates."""
    lo = min(a for a, _ in spans)
    wide = [(a, b) for a, b in spans if b - a > block] or list(spans)
    first = max(0, lo - block + 1)
    candidates = {lo - (lo - e - d) % block for edge in wide for e in edge for d in (0, 1)} | {first, lo}
    return min((o for o in candidates if o >= first),
               key=lambda o: (sum(_grid_blocks(a, b, o, block)[1] for a, b in wide), -o))


def _product_cost(rows: int, block: int, phases: int) -> float:
    return phases * PRODUCT_OVERHEAD + PRODUCT_ROWS * rows * block


def _options(n: int, lo: int, hi: int, origins, block: int, rows: int, phases: int):
    """``(cost, kind, grid)`` of each way to compute ``n`` consecutive bins whose common span is ``[lo, hi)``."""
    if hi <= lo:
        return [(0.0, EMPTY, 0)]
    chunks = phases * -(-rows // (phases * CHUNK_ROWS))
    out = [(rows * 2 * n * _grid_blocks(lo, hi, o, block)[1] * (block + DIAGONAL_COST) + SUM_OVERHEAD * chunks,
            WIDE, j) for j, o in enumerate(origins)]
    if hi - lo <= block:
        factor = NARROW_FACTOR + NARROW_ROWS / (2 * n)
        out.append((factor * rows * 2 * n * (hi - lo) + _product_cost(rows, hi - lo, phases), NARROW, 0))
    return out


@functools.lru_cache(maxsize=256)
def _plan(support: tuple, hop: int, width: int, rows: int) -> _Plan:
    """The cheapest (modelled) plan for about ``rows`` frame rows, over 1 … :data:`GRIDS` grids."""
    phases = _phases(hop)
    block = phases * hop
    spans = [s for s in support if s[1] > s[0]]
    if not spans:
        return _Plan((_Group(0, len(support), EMPTY),), (), 0, 1, 1)
    first = _first_origin(spans, block)
    plans = []
    for count in range(1, GRIDS + 1):
        origins = [first + j * block // count for j in range(count)]
        cuts, cost = _partition(support, width, origins, block, rows, phases)
        plan, extra = _assemble(support, cuts, origins, block, rows, phases)
        plans.append((cost + extra, count, plan))
    return min(plans, key=lambda p: p[:2])[2]


def _partition(support, width: int, origins, block: int, rows: int, phases: int):
    """Consecutive bins cut into groups, each with its kind and grid, minimising the modelled cost (dynamic
    programming over the split points, ``O(n_bins²)``): ``([(start, end, kind, grid), …], cost)``."""
    n = len(support)
    best = [0.0] + [math.inf] * n
    choice = [(0, EMPTY, 0)] * (n + 1)
    for end in range(1, n + 1):
        lo, hi = width, 0
        for start in range(end - 1, -1, -1):
            a, b = support[start]
            if b > a:
                lo, hi = min(lo, a), max(hi, b)
            for cost, kind, grid in _options(end - start, lo, hi, origins, block, rows, phases):
                if best[start] + cost < best[end]:
                    best[end], choice[end] = best[start] + cost, (start, kind, grid)
    cuts, end = [], n
    while end > 0:
        start, kind, grid = choice[end]
        cuts.append((start, end, kind, grid))
        end = start
    return cuts[::-1], best[n]


def _assemble(support, cuts, origins, block: int, rows: int, phases: int) -> tuple[_Plan, float]:
    """The plan of the chosen ``(start, end, kind, grid)`` cuts, and the modelled cost of its shared products. The
    wide groups of each grid are split into bands of consecutive groups (:func:`_bands`), one product each, whose
    view starts at the band's first block."""
    groups, wide = [], {}
    for k0, k1, kind, grid in cuts:
        spans = [s for s in support[k0:k1] if s[1] > s[0]]
        if kind == EMPTY:
            groups.append(_Group(k0, k1, EMPTY))
            continue
        lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
        if kind == NARROW:
            groups.append(_Group(k0, k1, NARROW, a=lo, width=hi - lo))
            continue
        q0, nq = _grid_blocks(lo, hi, origins[grid], block)
        wide.setdefault(grid, []).append(len(groups))
        groups.append(_Group(k0, k1, WIDE, q0=q0, blocks=nq))
    grids, extra = [], 0.0
    for grid, members in sorted(wide.items()):
        bands, cost = _bands([groups[i] for i in members], rows, block, phases)
        extra += cost
        for band in bands:
            base = min(groups[members[i]].q0 for i in band)
            stacked, last = 0, 0
            for i in band:
                g = groups[members[i]]
                groups[members[i]] = g._replace(grid=len(grids), q0=g.q0 - base, row=stacked)
                stacked += g.blocks * (g.k1 - g.k0)
                last = max(last, g.q0 - base + g.blocks)
            grids.append(_Grid(origins[grid] + base * block, stacked, last))
    starts = [g.origin for g in grids] + [g.a for g in groups if g.kind == NARROW]
    hi = max(b for a, b in support if b > a)
    reach = max([g.origin + g.last_block * block for g in grids] + [hi])
    return _Plan(tuple(groups), tuple(grids), min(starts), hi, reach), extra


def _bands(groups, rows: int, block: int, phases: int) -> tuple[list[list[int]], float]:
    """Consecutive runs of one grid's groups, each one product over ``rows`` plus its extra rows (the span of
    its blocks less one), minimising the modelled cost: ``(bands, cost)``."""
    n = len(groups)
    best = [0.0] + [math.inf] * n
    cut = [0] * (n + 1)
    for end in range(1, n + 1):
        lo, hi, taps = math.inf, 0, 0
        for start in range(end - 1, -1, -1):
            g = groups[start]
            lo, hi, taps = min(lo, g.q0), max(hi, g.q0 + g.blocks), taps + g.blocks * (g.k1 - g.k0)
            cost = best[start] + 2 * taps * block * (hi - lo - 1) + _product_cost(rows, block, phases)
            if cost < best[end]:
                best[end], cut[end] = cost, start
    out, end = [], n
    while end > 0:
        out.append(list(range(cut[end], end)))
        end = cut[end]
    return out[::-1], best[n]


# -------------------------------------------------------------------------------------------------------- buffer


@functools.lru_cache(maxsize=64)
def _edge_indices(length: int, left: int, start: int, stop: int, mode: str) -> torch.Tensor:
    """Source sample of padded positions ``[start, stop)`` (``pad_mode`` padding of ``left`` each side)."""
    return pad_indices(length, left, left, mode)[start + left : stop + left].clone()


def _fill(dest: torch.Tensor, x: torch.Tensor, start: int, left: int, mode: str) -> None:
    """``dest[:, i] = x_p[:, start + i]``: the padded signal (padding ``left`` each side) from tap ``start``,
    without padding the whole signal (only the edge samples are gathered)."""
    length, need = x.shape[-1], dest.shape[-1]
    # In x's own indices: positions [start − left, start − left + need) of the signal extended by padding.
    p0, p1 = start - left, start - left + need
    i0, i1 = max(p0, 0), min(p1, length)
    if i1 > i0:
        dest[:, i0 - p0 : i1 - p0].copy_(x[:, i0:i1])
    for a, b in ((p0, min(p1, 0)), (max(p0, length), p1)):  # the left and right padding
        if b <= a:
            continue
        if mode == "constant":
            dest[:, a - p0 : b - p0].zero_()
        else:
            idx = _edge_indices(length, left, a, b, mode).to(x.device)
            dest[:, a - p0 : b - p0].copy_(x.index_select(-1, idx))


def _layout(plan: _Plan, n_t: int, hop: int) -> tuple[int, int]:
    """``(need, stride)``: an example's taps ``[start, start + need)`` are copied, one example every ``stride``
    samples (a multiple of ``hop``) with zeros up to it, as far as the last frame's products read (so no frame
    reads the next example, even through zero taps: a non-finite sample stays in its example)."""
    need = (n_t - 1) * hop + plan.hi - plan.start
    return need, -(-((n_t - 1) * hop + plan.reach - plan.start) // hop) * hop


def _buffer(x, left: int, mode: str, n_t: int, hop: int, plan: _Plan, length: int):
    """The examples laid end to end (:func:`_layout`) in a buffer of at least ``length`` samples, zero where no
    sample is copied; returns it and the stride between examples."""
    b = x.shape[0]
    need, stride = _layout(plan, n_t, hop)
    buf = _empty(x, (max(length, b * stride),))
    body = buf[: b * stride].view(b, stride)
    body[:, need:].zero_()
    buf[b * stride :].zero_()
    _fill(body[:, :need], x, plan.start, left, mode)
    return buf, stride


def _buffer_length(plan: _Plan, hop: int, phases: int, per_phase: int) -> int:
    """Samples the views of every product reach."""
    block = phases * hop
    ends = [grid.origin - plan.start + (phases - 1) * hop + (per_phase + grid.last_block - 1) * block
            for grid in plan.grids]
    ends += [g.a - plan.start + (phases - 1) * hop + per_phase * block for g in plan.groups if g.kind == NARROW]
    return max(ends, default=0)


# ------------------------------------------------------------------------------------------------------ products


#: ``key -> (kr, ki, what, value)``: products' operands derived from the last few kernel pairs (stacked block
#: kernels, the dense stack). The entry holds the kernels themselves (and ``what``: the plan), so their storage,
#: whose address is part of the key, cannot be freed and reused meanwhile.
_STACKS: dict = {}
_STACKS_KEPT = 4


def _kernel_stacks(kr, ki, plan: _Plan, block: int) -> list:
    """:func:`_stacked_kernels` of every grid; cached (:func:`_cached`) unless a gradient is recorded (the copies
    into place are then part of the graph)."""
    def make():
        return [_stacked_kernels(kr, ki, plan, j, block) for j in range(len(plan.grids))]

    if torch.is_grad_enabled() and (kr.requires_grad or ki.requires_grad):
        return make()
    return _cached((id(plan), block, plan), kr, ki, make)


def _cached(what: tuple, kr, ki, make):
    """``make()``, kept while ``kr`` and ``ki`` hold the same values (same storage, strides and version counter)."""
    key = tuple((t.data_ptr(), t._version, t.stride(), tuple(t.shape), t.dtype, t.device) for t in (kr, ki))
    key += what[:2]
    hit = _STACKS.get(key)
    if hit is not None:
        return hit[-1]
    value = make()
    while len(_STACKS) >= _STACKS_KEPT:
        _STACKS.pop(next(iter(_STACKS)))
    _STACKS[key] = (kr, ki, what, value)
    return value


def _stacked_kernels(kr, ki, plan: _Plan, grid: int, block: int) -> torch.Tensor:
    """``(2·stacked, H)``: the block kernels of grid ``grid``'s groups, real rows then imaginary rows. Bin ``k``
    of group ``g`` has ``n_q`` consecutive rows ``g.row + (k − k0)·n_q + i``: its taps ``[t0, t0 + n_q·H)``
    (``t0 = origin + q0·H``), ``H`` per row, zero past the kernel width."""
    width = kr.shape[-1]
    origin, stacked = plan.grids[grid].origin, plan.grids[grid].stacked
    groups = [g for g in plan.groups if g.kind == WIDE and g.grid == grid]
    out = _empty(kr, (2 * stacked, block))  # copies into place (recorded by autograd when the kernels need it)
    for c, k in enumerate((kr, ki)):
        for g in groups:
            t0 = origin + g.q0 * block
            rows = c * stacked + g.row
            dest = out[rows : rows + (g.k1 - g.k0) * g.blocks].view(g.k1 - g.k0, g.blocks * block)
            valid = min(g.blocks * block, width - t0)
            dest[:, :valid].copy_(k[g.k0 : g.k1, t0 : t0 + valid])
            dest[:, valid:].zero_()
    return out


def _diagonal_sum(y: torch.Tensor, g: _Group, half: int, rows: int) -> torch.Tensor:
    """``(2, n, rows)``: ``out[c, k, s] = Σ_i y[c·half + g.row + k·n_q + i, s + g.q0 + i]``."""
    n = g.k1 - g.k0
    ld = y.stride(0)
    view = y.as_strided((g.blocks, 2, n, rows), (ld + 1, half * ld, g.blocks * ld, 1),
                        y.storage_offset() + g.row * ld + g.q0)
    return view[0] if g.blocks == 1 else view.sum(0)


def _grid_products(buf, kstack, plan: _Plan, grid: int, hop: int, phase: int, per_phase: int, block: int):
    """``{k0: (2, n, per_phase)}`` for grid ``grid``'s groups in phase ``phase``: its product, chunk by chunk."""
    spec = plan.grids[grid]
    extra = spec.last_block - 1
    start = spec.origin - plan.start + phase * hop
    xv = buf[start : start + (per_phase + extra) * block].view(-1, block)
    groups = [g for g in plan.groups if g.kind == WIDE and g.grid == grid]
    pieces = {g.k0: [] for g in groups}
    for s0 in range(0, per_phase, CHUNK_ROWS):
        s1 = min(per_phase, s0 + CHUNK_ROWS)
        y = torch.matmul(kstack, xv[s0 : s1 + extra].t())  # (2·stacked, chunk rows + extra)
        for g in groups:
            pieces[g.k0].append(_diagonal_sum(y, g, spec.stacked, s1 - s0))
    return {k: p[0] if len(p) == 1 else torch.cat(p, -1) for k, p in pieces.items()}


def _narrow_product(buf, kr, ki, g: _Group, offset: int, hop: int, phase: int, per_phase: int, block: int):
    """``(2, n, per_phase)``: a narrow group's own product with the strided view of its taps."""
    start = offset + phase * hop
    xv = buf[start : start + per_phase * block].view(per_phase, block)[:, : g.width]
    k = torch.cat((kr[g.k0 : g.k1, g.a : g.a + g.width], ki[g.k0 : g.k1, g.a : g.a + g.width]), 0)
    return torch.matmul(k, xv.t()).view(2, g.k1 - g.k0, per_phase)


def _support_product(x, kr, ki, hop: int, left: int, mode: str, n_t: int, plan: _Plan) -> torch.Tensor:
    """``(B, 2·n_bins, T)``: real rows then imaginary rows (before the sign of ``im``)."""
    b = x.shape[0]
    phases = _phases(hop)
    block = phases * hop
    per_example = _layout(plan, n_t, hop)[1] // hop
    per_phase = -(-((b - 1) * per_example + n_t) // phases)
    buf, stride = _buffer(x, left, mode, n_t, hop, plan, _buffer_length(plan, hop, phases, per_phase))
    kstacks = _kernel_stacks(kr, ki, plan, block)
    outs = {g.k0: [] for g in plan.groups}
    for p in range(phases):
        for j, kstack in enumerate(kstacks):
            for k0, y in _grid_products(buf, kstack, plan, j, hop, p, per_phase, block).items():
                outs[k0].append(y)
        for g in plan.groups:
            if g.kind == NARROW:
                outs[g.k0].append(_narrow_product(buf, kr, ki, g, g.a - plan.start, hop, p, per_phase, block))
            elif g.kind == EMPTY:
                outs[g.k0].append(buf.new_zeros(2, g.k1 - g.k0, per_phase))
    parts = [_interleave(outs[g.k0]) for g in plan.groups]
    out = torch.cat([y[0] for y in parts] + [y[1] for y in parts], 0)  # (2·n_bins, frame rows of all examples)
    return out.unfold(1, n_t, stride // hop)[:, :b].transpose(0, 1)


def _interleave(parts) -> torch.Tensor:
    """``(2, n, rows)`` per phase → frame rows ``s·m + p`` (phase ``p``'s row ``s``)."""
    if len(parts) == 1:
        return parts[0]
    y = torch.stack(parts, -1)
    return y.reshape(y.shape[0], y.shape[1], -1)
