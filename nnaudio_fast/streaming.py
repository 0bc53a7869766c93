"""Frame-exact streaming: ``layer.streaming()`` returns a stateful module that takes a signal chunk by chunk and
returns, on every call, the frames the chunk completes; their concatenation along time (with :meth:`flush`) is the
layer's output on the whole signal.

The math. A framed layer (STFT, Mel, MFCC, Gammatone, the single-rate CQT) computes frame ``t`` from the samples
``u[t·hop : t·hop + W]`` of the padded signal ``u = left ‖ x ‖ right`` (``W`` the frame or kernel width; with
``center`` each pad is ``P = W // 2`` samples of ``pad_mode``, else ``P = 0``), and nothing else: frame ``t`` is
the layer's uncentred transform of that slice. So a stream keeps the samples from the start of the next frame on,
and each call computes, with the layer's own uncentred transform (its bases, backend and precision), the frames
``t`` with ``t·hop + W <= P + received``:

* the left pad is a function of the first ``P + 1`` samples (``reflect`` mirrors ``x[1 … P]``; ``replicate``
  repeats ``x[0]``; ``constant`` is zeros), so frames start once those have arrived;
* the right pad is a function of the last ``P + 1`` samples, so the frames that read it are computed by
  :meth:`FrameStream.flush`, which knows where the signal ends; a signal shorter than ``P + 1`` samples is padded
  whole at flush, exactly as the layer pads it (``reflect`` keeps reflecting, like :func:`numpy.pad`).
* ``circular`` padding wraps the end of the signal around to its start: no frame can be returned before the end,
  and such a layer does not stream.
* a signal that completed no frame before :meth:`FrameStream.flush` is computed by the layer's own call on all of
  it (a frame of a near-constant short signal is a near-cancellation: another order of the same sums would not be
  within float32's bound).

The multirate CQT (CQT2010v2, VQT) is framed the same way with a frame reading ``u[t·hop + lead : …]`` (history
before its own samples, for the pyramid's decimation grid): see :mod:`nnaudio_fast.features._streams`.

Latency: frame ``t`` is returned by the call that brings sample ``t·hop + W − P − 1``; a sample ``s`` is read last
by frame ``⌊(s + P) / hop⌋``, so it waits at most ``W − 1`` samples (:attr:`FrameStream.latency`); frames that
read the right pad wait for :meth:`flush`.

The inverse (:class:`InverseStream`): sample ``n`` of the iSTFT's overlap-add (before the centre trim) is a sum over
the frames ``t`` with ``t·hop <= n < t·hop + N``, normalised by the same frames' ``Σ w²``: once frame ``k − 1``
has arrived every sample ``n < k·hop`` is final. Each call runs the layer's own inverse on the frames that still
cover unfinished samples and returns the finished ones.

Deployment (:meth:`FrameStream.step_module`): a pure ``(chunk, *state) -> (frames, *state)`` module with
fixed-size state tensors, for ``torch.export`` / ONNX. Chunks are ``k·hop`` samples (for the multirate CQT a
multiple of ``lcm(hop, 2^levels)``) and each step returns ``k`` frames: the newest ``k`` frames the padded stream
has completed. The first :attr:`StreamStep.warmup` frames it returns lie partly before the signal (in front of
the left pad) and are to be dropped; the right pad is never applied (a deployed stream has no end).
"""

from __future__ import annotations

import torch
from torch import nn

from . import _checks
from .primitives import pad

#: The relative error (‖stream − layer‖ / ‖layer‖) a float32 stream stays within (float64: 1e-12); tested.
BOUND_FLOAT32 = 1e-6

#: Samples no later frame reads that a stream drops at once (see ``FrameStream._frames_until``).
DROP_SAMPLES = 2048

#: Pad modes a stream can reproduce (their left pad is known from the first samples, their right pad at flush).
STREAMABLE_PAD_MODES = ("constant", "reflect", "replicate")


def _start_samples(pad_amount: int, pad_mode: str) -> int:
    """How many samples must have arrived before the left pad is known."""
    if pad_amount == 0 or pad_mode == "constant":
        return 0
    return pad_amount + 1 if pad_mode == "reflect" else 1


def _left_pad(head: torch.Tensor, pad_amount: int, pad_mode: str) -> torch.Tensor:
    """The ``pad_amount`` samples the layer puts in front of a signal beginning with ``head`` (at least
    :func:`_start_samples` samples): the same padding function the layer uses."""
    return pad(head, pad_amount, 0, pad_mode)[:, :pad_amount]


def _right_pad(tail: torch.Tensor, pad_amount: int, pad_mode: str) -> torch.Tensor:
    """The ``pad_amount`` samples the layer appends to a signal ending with ``tail``."""
    return pad(tail, 0, pad_amount, pad_mode)[:, tail.shape[-1]:]


class Framing:
    """What a stream needs to know of its layer.

    Frame ``t`` reads the samples ``u[t·hop + lead : t·hop + lead + width]`` of the padded signal ``u`` (``pad``
    samples of ``pad_mode`` on each side: ``width // 2`` with ``center``, else 0, unless given; samples before
    ``u[0]`` are zeros). ``frames(segment)`` (``frames(segment, t0)`` with ``indexed``) is the layer's transform of
    such a segment, ``(B, (n − 1)·hop + width)`` samples for frames ``t0 … t0 + n − 1``, and ``finish`` is applied
    to its result (the identity, or what :class:`PeakClippedStream` applies after its clip). ``total(L)``: the
    layer's frame count for ``L`` samples; ``whole(x)``: its output for a whole signal shorter than the left pad's
    source; ``latency``: the most samples a sample waits for the last frame reading it (default ``width − 1``)."""

    __slots__ = ("frames", "finish", "width", "hop", "pad", "pad_mode", "lead", "indexed", "total", "whole",
                 "latency", "period")

    def __init__(self, frames, width: int, hop: int, center: bool, pad_mode: str, finish=None, *, pad=None,
                 lead: int = 0, indexed: bool = False, total=None, whole=None, latency=None, period=None):
        self.frames, self.finish, self.width, self.hop = frames, finish, width, hop
        self.pad = (width // 2 if center else 0) if pad is None else pad
        self.pad_mode = _checks.canonical_pad_mode(pad_mode)
        self.lead, self.indexed, self.total, self.whole = lead, indexed, total, whole
        self.latency = width - 1 if latency is None else latency
        #: ``frames(segment, t0)`` depends on ``t0`` only through ``t0·hop mod period`` (a multiple of the hop)
        self.period = hop if period is None else period

    def __call__(self, segment: torch.Tensor, t0: int = 0) -> torch.Tensor:
        out = self.raw(segment, t0)
        return out if self.finish is None else self.finish(out)

    def raw(self, segment: torch.Tensor, t0: int = 0) -> torch.Tensor:
        """The layer's frames of ``segment`` before ``finish``."""
        return self.frames(segment, t0) if self.indexed else self.frames(segment)

    def count(self, known: int) -> int:
        """Frames lying inside the first ``known`` padded samples."""
        need = self.lead + self.width
        return 0 if known < need else 1 + (known - need) // self.hop

    def frames_of(self, length: int) -> int:
        """The layer's frame count for a signal of ``length`` samples."""
        return self.total(length) if self.total is not None else self.count(2 * self.pad + length)

    def whole_signal(self, x: torch.Tensor) -> torch.Tensor:
        """The layer's output for the whole (short) signal ``x``."""
        if self.whole is not None:
            return self.whole(x)
        return self(pad(x, self.pad, self.pad, self.pad_mode))


def _time_axis(framing: Framing, device) -> tuple[int, tuple[int, ...]]:
    """The output's time axis (counted from the end) and its other dimensions after the batch, read from the
    shapes of one- and two-frame outputs of zeros."""
    with torch.no_grad():
        one = framing(torch.zeros(1, framing.width, device=device)).shape
        two = framing(torch.zeros(1, framing.width + framing.hop, device=device)).shape
    axis = next(i for i in range(1, len(one)) if one[i] != two[i])
    return axis - len(one), tuple(one[1:])


def _chunk(chunk, batch: int | None, dtype: torch.dtype | None, what: str = "chunk") -> torch.Tensor:
    """``chunk`` ``(n,)``, ``(B, n)`` or ``(B, 1, n)`` as ``(B, n)`` in its compute dtype, checked against the
    stream's batch and dtype."""
    x = _checks.module_input(chunk, what)
    x = x.to(_checks.compute_dtype(x, what))  # float16 and bfloat16 stream in float32
    if batch is not None and x.shape[0] != batch:
        raise ValueError(
            f"{what} has batch size {x.shape[0]} but this stream carries {batch} signals; keep the batch size, or "
            "call reset() (or flush()) to start new signals."
        )
    if dtype is not None and x.dtype != dtype:
        raise ValueError(
            f"{what} has dtype {x.dtype} but this stream's earlier chunks were {dtype}; keep one dtype per stream, "
            "or call reset() first."
        )
    return x


class FrameStream(nn.Module):
    """A stateful stream of a framed layer (see the module docstring): ``stream(chunk)`` returns the frames the chunk
    completes, ``flush()`` the rest (then the stream starts over), ``reset()`` forgets everything.

    ``chunk``: ``(n,)``, ``(batch, n)`` or ``(batch, 1, n)`` with any ``n >= 0``; the batch size and dtype stay
    the same until :meth:`reset`/:meth:`flush`. Returns ``(batch, ..., t)`` frames, the layer's layout (the time
    axis where the layer has it), ``t >= 0``.

    Attributes: ``layer`` (the streamed layer: its bases, trained or not), ``latency`` (samples, see the module
    docstring), ``time_axis`` (the output's time axis, negative: ``torch.cat(frames, stream.time_axis)``),
    ``exact`` (whether the concatenated frames equal the layer's output; True here).
    """

    exact = True

    def __init__(self, layer: nn.Module, framing: Framing):
        super().__init__()
        if framing.pad and framing.pad_mode not in STREAMABLE_PAD_MODES:
            raise ValueError(
                f"pad_mode={framing.pad_mode!r} cannot stream: its left pad is made of the end of the signal. Use "
                f"one of {STREAMABLE_PAD_MODES} (or center=False) for a streaming layer."
            )
        self.layer = layer
        self._framing = framing
        device = next(iter(layer.buffers()), next(iter(layer.parameters()), torch.zeros(0))).device
        self.time_axis, self._shape = _time_axis(framing, device)
        self.latency = framing.latency
        self.reset()

    # -- state ----------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every sample: the next chunk starts a new signal."""
        self._s = _State()

    # -- streaming ------------------------------------------------------------------------------------------
    def forward(self, chunk) -> torch.Tensor:
        f, st = self._framing, self._s
        pending = st.pending
        if (pending is None or not isinstance(chunk, torch.Tensor) or chunk.dim() != 2
                or chunk.dtype != pending.dtype or chunk.shape[0] != pending.shape[0]):
            chunk = _chunk(chunk, None if pending is None else pending.shape[0],
                           None if pending is None else pending.dtype)
        st.received += chunk.shape[-1]
        st.pending = pending = chunk if pending is None else torch.cat((pending, chunk), -1)
        if not st.started:
            if st.received < max(1, _start_samples(f.pad, f.pad_mode)):
                return self._empty(chunk)
            head = (_left_pad(pending, f.pad, f.pad_mode), pending)
            if f.lead < 0:  # frames read before u[0]: zeros there
                head = (pending.new_zeros(pending.shape[0], -f.lead),) + head
                st.start = f.lead
            st.pending = torch.cat(head, -1)
            st.started = True
        return self._frames_until(f.count(f.pad + st.received), chunk)  # the right pad is not known yet

    def flush(self) -> torch.Tensor:
        """The frames not yet returned, those reading the right pad included; then the stream starts over. A
        stream that saw no sample returns no frame; an uncentred signal shorter than one frame has none."""
        f, st = self._framing, self._s
        if st.pending is None or st.received == 0:
            out = self._empty(torch.zeros(0, 0) if st.pending is None else st.pending)
        elif not st.started or st.emitted == 0:  # no frame yet (a short signal): the layer's call on all of it
            out = self._finish_whole(st.pending[:, f.pad - st.start:] if st.started else st.pending)
        else:
            total = f.frames_of(st.received)
            tail = [st.pending]
            if f.pad:
                tail.append(_right_pad(st.pending[:, -(f.pad + 1):], f.pad, f.pad_mode))
            beyond = (total - 1) * f.hop + f.lead + f.width - (2 * f.pad + st.received)
            if beyond > 0:  # the last frames read past the right pad: zeros there
                tail.append(st.pending.new_zeros(st.pending.shape[0], beyond))
            st.pending = torch.cat(tail, -1) if len(tail) > 1 else st.pending
            out = self._frames_until(total, st.pending)
        self.reset()
        return out

    def _finish_whole(self, x: torch.Tensor) -> torch.Tensor:
        return self._framing.whole_signal(x)

    def step_module(self, chunk_size: int) -> "StreamStep":
        """This stream's step as a pure module for ``torch.export`` / ONNX, on chunks of ``chunk_size`` samples (a
        multiple of the hop; for the multirate CQT of ``lcm(hop, 2^levels)``): see :class:`StreamStep`."""
        return StreamStep(self.layer, self._framing, chunk_size, self.time_axis, getattr(self, "top_db", None))

    # -- helpers --------------------------------------------------------------------------------------------
    def _frames_until(self, end: int, like: torch.Tensor) -> torch.Tensor:
        """Frames ``[emitted, end)`` from the pending samples, then the samples no later frame reads dropped (all
        but the last ``P + 1``, of which the right pad is made) once they are :data:`DROP_SAMPLES` or half the
        pending samples (one slice every few small chunks, not one per chunk)."""
        f, st = self._framing, self._s
        if end <= st.emitted:
            return self._empty(like)
        lo = st.emitted * f.hop + f.lead - st.start
        out = self._compute(st.pending[:, lo: lo + (end - 1 - st.emitted) * f.hop + f.width], st.emitted)
        st.emitted = end
        drop = min(end * f.hop + f.lead - st.start, st.pending.shape[-1] - (f.pad + 1 if f.pad else 0))
        if drop >= DROP_SAMPLES or (drop > 0 and drop * 2 >= st.pending.shape[-1]):
            st.pending = st.pending[:, drop:]
            st.start += drop
        return out

    def _compute(self, segment: torch.Tensor, t0: int) -> torch.Tensor:
        return self._framing(segment, t0)

    def _empty(self, like: torch.Tensor) -> torch.Tensor:
        shape = list((like.shape[0],) + self._shape)
        shape[self.time_axis] = 0
        return like.new_zeros(shape)

    def extra_repr(self) -> str:
        f = self._framing
        return (f"width={f.width}, hop={f.hop}, pad={f.pad}, pad_mode={f.pad_mode!r}, latency={self.latency}, "
                f"exact={self.exact}")


class _State:
    """A stream's state (a plain object: ``nn.Module`` attribute writes are slow). ``pending``: ``(B, k)`` samples,
    in padded coordinates from ``start`` once ``started`` (the left pad prepended); ``received``: signal samples so
    far; ``emitted``: frames returned so far."""

    __slots__ = ("pending", "start", "received", "emitted", "started")

    def __init__(self):
        self.pending, self.start, self.received, self.emitted, self.started = None, 0, 0, 0, False


class PeakClippedStream(FrameStream):
    """A :class:`FrameStream` whose output clips its dB frames ``top_db`` below each example's maximum so far (the
    layer clips below the maximum of the whole signal, which no stream knows before the end): ``exact`` is False.
    Its frames equal the layer's wherever the running maximum has reached the whole signal's (from the loudest
    frame on, and everywhere the clip does not act); with ``top_db=None`` a layer streams exactly."""

    exact = False

    def __init__(self, layer: nn.Module, framing: Framing, top_db: float):
        self.top_db = float(top_db)
        super().__init__(layer, framing)

    def reset(self) -> None:
        super().reset()
        self._peak = None

    def _finish_whole(self, x: torch.Tensor) -> torch.Tensor:
        f = self._framing
        return self._compute(pad(x, f.pad, f.pad, f.pad_mode), 0)

    def _compute(self, segment: torch.Tensor, t0: int) -> torch.Tensor:
        db = self._framing.raw(segment, t0)
        peak = db.amax(dim=(-2, -1), keepdim=True)
        self._peak = peak if self._peak is None else torch.maximum(self._peak, peak)
        return self._framing.finish(torch.maximum(db, self._peak - self.top_db))


class StreamStep(nn.Module):
    """One step of a stream as a pure function, for ``torch.export`` / ONNX: ``frames, *state = step(chunk,
    *state)`` with ``chunk`` ``(batch, chunk_size)`` and fixed-size state tensors (:meth:`initial_state`).

    ``chunk_size`` is ``k·hop`` (for the multirate CQT a multiple of ``lcm(hop, 2^levels)``, so every step's frames
    sit at the same place on the pyramid's decimation grid); each step returns the ``k`` newest frames the padded
    stream has completed (the layer's layout, time axis :attr:`time_axis`). The buffer state holds the last
    :attr:`state_size` padded samples; before the first chunk its last ``P`` samples are the left pad (made from
    the first chunk for ``reflect`` and ``replicate``, chosen by a step counter without a Python branch). The first
    :attr:`warmup` frames returned read samples in front of the left pad (zeros) and are not frames of the signal:
    drop them. A ``top_db`` clip (MFCC) keeps each example's running maximum over the signal's frames in the state.

    With ``E`` the padded samples received after a step (``P`` plus the chunks), frame ``t`` (reading
    ``u[t·hop + lead : … + width]``) is complete when ``t·hop + lead + width <= E``; as ``E ≡ P`` modulo the hop,
    the newest one ends ``o = (P − lead − width) mod hop`` samples before ``E`` at every step.
    """

    def __init__(self, layer: nn.Module, framing: Framing, chunk_size: int, time_axis: int, top_db=None):
        super().__init__()
        f = framing
        chunk_size = _checks.positive_int("chunk_size", chunk_size)
        if chunk_size % f.period:
            what = (f"hop_length={f.hop}" if f.period == f.hop else
                    f"{f.period} (lcm of hop_length={f.hop} and the pyramid's decimation)")
            raise ValueError(
                f"chunk_size={chunk_size} must be a multiple of {what} (each step then returns chunk_size // "
                f"hop_length frames); use e.g. chunk_size={max(1, chunk_size // f.period) * f.period}."
            )
        need = _start_samples(f.pad, f.pad_mode)
        if chunk_size < need:
            raise ValueError(
                f"chunk_size={chunk_size} is shorter than the {need} samples the {f.pad_mode!r} left pad is made of; "
                f"use chunk_size={-(-need // f.period) * f.period} (the next multiple of {f.period})."
            )
        self.layer, self._framing = layer, framing
        self.chunk_size, self.frames_per_step, self.time_axis = chunk_size, chunk_size // f.hop, time_axis
        self.top_db = None if top_db is None else float(top_db)
        k = self.frames_per_step
        o = (f.pad - f.lead - f.width) % f.hop  # the newest frame ends o samples before the buffer's end
        self.state_size = max(f.width + o - f.hop, f.pad, 1)
        self._offset = self.state_size + f.hop - f.width - o  # first returned frame's start in the buffer
        #: the first frame a step returns, at step 0 (later steps: k more each, the same t0·hop mod period)
        self._t0 = (f.pad + chunk_size - f.lead - f.width) // f.hop - k + 1
        self.warmup = max(0, -self._t0)

    def initial_state(self, batch: int = 1, dtype=torch.float32, device=None) -> tuple[torch.Tensor, ...]:
        """``(buffer, steps[, peak])``: zeros ``(batch, state_size)``, a step counter ``(1,)`` int64 and, with a
        ``top_db`` clip, the running dB maximum ``(batch, 1, 1)`` (−inf)."""
        state = (torch.zeros(batch, self.state_size, dtype=dtype, device=device),
                 torch.zeros(1, dtype=torch.int64, device=device))
        if self.top_db is not None:
            state += (torch.full((batch, 1, 1), float("-inf"), dtype=dtype, device=device),)
        return state

    def forward(self, chunk: torch.Tensor, buffer: torch.Tensor, steps: torch.Tensor, *peak):
        f, k = self._framing, self.frames_per_step
        if chunk.dim() != 2 or chunk.shape[-1] != self.chunk_size or buffer.shape != (chunk.shape[0], self.state_size):
            raise ValueError(
                f"chunk has shape {tuple(chunk.shape)} and buffer {tuple(buffer.shape)}; this step takes (batch, "
                f"{self.chunk_size}) chunks and a (batch, {self.state_size}) buffer (initial_state(batch))."
            )
        if f.pad and f.pad_mode != "constant":  # the left pad: made of the first chunk at step 0
            left = torch.where(steps == 0, _left_pad(chunk, f.pad, f.pad_mode), buffer[:, -f.pad:])
            buffer = torch.cat((buffer[:, :-f.pad], left), -1)
        buf = torch.cat((buffer, chunk), -1)
        seg = buf[:, self._offset: self._offset + (k - 1) * f.hop + f.width]
        new_state = (buf[:, -self.state_size:], steps + 1)
        if self.top_db is None:
            return (f(seg, self._t0),) + new_state
        db = f.raw(seg, self._t0)  # (B, M, k): the frames before the signal (t < 0) must not raise the maximum
        t = steps * k - self.warmup + torch.arange(k, device=chunk.device)
        valid = (t >= 0).to(db.dtype)
        floor = torch.full_like(db, float("-inf"))
        running = torch.maximum(peak[0], torch.where(valid > 0, db, floor).amax(dim=(-2, -1), keepdim=True))
        return (f.finish(torch.maximum(db, running - self.top_db)),) + new_state + (running,)

    def extra_repr(self) -> str:
        return (f"chunk_size={self.chunk_size}, frames_per_step={self.frames_per_step}, "
                f"state_size={self.state_size}, warmup={self.warmup}")


class InverseStream(nn.Module):
    """A stateful iSTFT stream (see the module docstring): ``stream(frames)`` takes ``(batch, freq_bins, t, 2)``
    (or complex ``(batch, freq_bins, t)``) frames, any ``t >= 0``, and returns the ``(batch, n)`` samples whose
    overlap-add they complete; ``flush()`` returns the rest (the offline inverse's length, ``length=None``) and
    starts over. ``latency``: ``n_fft − hop`` samples of each frame wait for later frames."""

    exact = True

    def __init__(self, layer: nn.Module, inverse, n_fft: int, hop: int, center: bool):
        super().__init__()
        self.layer, self._inverse, self._n_fft, self._hop = layer, inverse, n_fft, hop
        self._trim = n_fft // 2 if center else 0
        self._held = max(0, hop - n_fft + self._trim)  # final samples held back: trimmed if no frame follows
        self._keep = -(-(n_fft + self._held) // hop) - 1  # frames covering samples not yet returned
        self.latency = max(0, n_fft - hop)
        self.reset()

    def reset(self) -> None:
        """Forget every frame."""
        self._frames = None  # the kept frames (complex, (B, F, m))
        self._received = 0  # frames so far
        self._returned = 0  # padded samples so far returned or trimmed

    def forward(self, frames) -> torch.Tensor:
        X = _complex_frames(frames)
        if self._frames is not None and (X.shape[:-1] != self._frames.shape[:-1] or X.dtype != self._frames.dtype):
            raise ValueError(
                f"frames have shape {tuple(X.shape[:-1])} (batch, bins) and dtype {X.dtype} but this stream's earlier "
                f"frames had {tuple(self._frames.shape[:-1])}, {self._frames.dtype}; keep them, or call reset()."
            )
        kept = X if self._frames is None else torch.cat((self._frames, X), -1)
        self._received += X.shape[-1]
        out = self._samples(kept, self._received * self._hop - self._held)  # samples before received·hop are final
        self._frames = kept[..., max(0, kept.shape[-1] - self._keep):]
        return out

    def flush(self) -> torch.Tensor:
        """The samples not yet returned, up to the end of the offline inverse; then the stream starts over."""
        if self._frames is None or self._received == 0:
            out = torch.zeros(0 if self._frames is None else self._frames.shape[0], 0)
        else:
            out = self._samples(self._frames, (self._received - 1) * self._hop + self._n_fft - self._trim)
        self.reset()
        return out

    def _samples(self, kept: torch.Tensor, end: int) -> torch.Tensor:
        """Padded samples ``[max(returned, trim), end)`` from the overlap-add of ``kept`` (the last frames)."""
        start = max(self._returned, self._trim)
        if kept.shape[-1] == 0 or end <= start:
            return kept.real.new_zeros(kept.shape[0], 0)
        first = self._received - kept.shape[-1]  # index of kept[..., 0]
        y = self._inverse(kept)  # padded samples [first·hop, first·hop + len)
        self._returned = end
        return y[:, start - first * self._hop: end - first * self._hop]

    def extra_repr(self) -> str:
        return f"n_fft={self._n_fft}, hop={self._hop}, trim={self._trim}, latency={self.latency}"


def _complex_frames(frames) -> torch.Tensor:
    if not isinstance(frames, torch.Tensor):
        raise ValueError(f"frames must be a torch.Tensor, got {type(frames).__name__}.")
    if frames.is_complex() and frames.dim() == 3:
        return frames
    if not frames.is_complex() and frames.dim() == 4 and frames.shape[-1] == 2:
        return torch.view_as_complex(frames.to(_checks.compute_dtype(frames, "frames")).contiguous())
    raise ValueError(
        f"frames have shape {tuple(frames.shape)} and dtype {frames.dtype}; an iSTFT stream takes (batch, freq_bins, "
        "t, 2) real or (batch, freq_bins, t) complex frames, like iSTFT."
    )
