"""How the constant-Q layers stream (:mod:`nnaudio_fast.streaming`): their framings.

Single rate (``CQT1992v2``): frame ``t`` is the kernel product with ``u[t·hop : t·hop + W]`` (``W`` the kernel
width, ``u`` the signal padded by ``W // 2``), the layer's uncentred transform of that slice.

Multirate (``CQT2010v2``, ``VQT``): frame ``t`` depends on ``x[t·hop − r … t·hop + r]`` only, ``r`` the reach
through the pyramid filters and the octave kernels (:func:`nnaudio_fast.bases.multirate_reach` of the untrimmed
kernels, an upper bound for trimmed or trained ones). The layer pads by ``pad >= r`` and decimates from ``u[0]``;
octave ``i`` (decimation ``d``) uses kernel phase ``t mod (d / gcd(hop, d))``. So the layer's own transform of
``x' = u[s + pad :]`` with ``s`` a multiple of ``A = lcm(hop, 2^max level)`` has the same decimation grid and
phases as the whole signal's, shifted by ``s / hop`` frames; its frames ``t' >= r / hop`` that end ``r`` samples
before ``x'`` does read only true samples of ``x'`` (the transform's own padding and the pyramid's edges lie
beyond their reach), and equal the whole signal's frames ``t' + s / hop``. A stream's call computes frames
``t0 …`` from ``x'`` with ``s = A·⌊(t0·hop − r) / A⌋``, so it keeps ``r + A − 1`` samples of history.
"""

from __future__ import annotations

import functools
import math

import torch

from .. import _checks, bases, geometry, streaming


def single_rate(layer) -> streaming.FrameStream:
    width = layer.cqt_kernels_real.shape[-1]
    return streaming.FrameStream(layer, streaming.Framing(functools.partial(_single_rate_frames, layer), width,
                                                          layer.hop_length, layer.center, layer.pad_mode))


def _single_rate_frames(layer, u):
    re, im = layer._transform(u, layer._kernels(_checks.compute_dtype(u)), center=False)
    return layer._output(re, im, layer.output_format, "librosa")


def multirate(layer) -> streaming.FrameStream:
    if layer.nnaudio_compat:
        raise ValueError("nnaudio_compat=True layers (nnAudio's octave-by-octave frames) do not stream; construct "
                         "the layer with nnaudio_compat=False.")
    hop, levels = layer.hop_length, layer._plan.levels
    widths = [k.shape[-1] for k in layer._kernels(torch.float32)]
    reach = bases.multirate_reach(layer._layout, widths, levels)
    pad = bases.multirate_padding(layer._layout, widths, levels)
    align = math.lcm(hop, 2 ** max(levels))
    framing = streaming.Framing(
        functools.partial(_multirate_frames, layer, align, reach), 2 * reach + align, hop, True, layer.pad_mode,
        pad=pad, lead=pad - reach - align + 1, indexed=True,
        total=functools.partial(geometry.n_frames, hop_length=hop), whole=functools.partial(_whole, layer),
        latency=2 * reach, period=align)
    return streaming.FrameStream(layer, framing)


def _whole(layer, x):
    re, im = layer._transform(x, layer._kernels(_checks.compute_dtype(x)))
    return layer._output(re, im, layer.output_format, "librosa")


def _multirate_frames(layer, align: int, reach: int, segment, t0: int):
    """Frames ``t0 …`` of a stream's segment (padded-signal samples from ``t0·hop + pad − reach − align + 1``)."""
    hop = layer.hop_length
    s = align * ((t0 * hop - reach) // align)
    out = _whole(layer, segment[:, s - t0 * hop + reach + align - 1:])
    n = 1 + (segment.shape[-1] - 2 * reach - align) // hop
    return out.narrow(-2 if layer.output_format == "Complex" else -1, (t0 * hop - s) // hop, n)
