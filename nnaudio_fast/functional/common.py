"""Shared by the functional modules: flattening, casting, the cached bases, argument defaults, backend
selection with precision, and a NaN-free power."""

from __future__ import annotations

import functools

import torch

from .. import _checks, bases, dispatch
from ..primitives import magnitude, phase

OUTPUT_FORMATS = ("Complex", "Magnitude", "Phase")


def _flatten(x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    lead = tuple(x.shape[:-1])
    return x.reshape(-1, x.shape[-1]), lead


def _cast(t: torch.Tensor, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return t if (t.dtype == dtype and t.device == device) else t.to(device=device, dtype=dtype)


@functools.lru_cache(maxsize=128)
def _tensor_cache(builder, args, dtype, device):
    out = builder(*args)
    if isinstance(out, tuple):
        return tuple(torch.tensor(o, dtype=dtype, device=device) for o in out)
    return torch.tensor(out, dtype=dtype, device=device)


def _basis(builder, args: tuple, dtype: torch.dtype, device: torch.device):
    """``builder(*args)`` as tensors of ``dtype`` on ``device``, cached when ``args`` are hashable.

    Never cached while a graph is traced: under ``torch.export`` the tensors made then are fake and would poison
    the cache for every later eager call."""
    try:
        hash(args)
    except TypeError:
        return _tensor_cache.__wrapped__(builder, args, dtype, device)
    if torch.compiler.is_compiling() or torch.jit.is_tracing():
        return _tensor_cache.__wrapped__(builder, args, dtype, device)
    return _tensor_cache(builder, args, dtype, torch.device(device))


@functools.lru_cache(maxsize=128)
def _support_cache(builder, args):
    out = builder(*args)
    return bases.row_support(*(out if isinstance(out, tuple) else (out,)))


def basis_support(builder, args: tuple) -> tuple[tuple[int, int], ...]:
    """:func:`nnaudio_fast.bases.row_support` of ``builder(*args)`` (the union over a tuple of matrices), cached
    like :func:`_basis`: the ``support`` certificate of a basis the functional API builds itself."""
    try:
        hash(args)
    except TypeError:
        return _support_cache.__wrapped__(builder, args)
    return _support_cache(builder, args)


def stft_defaults(n_fft, hop_length, win_length, hop_divisor_of="win_length"):
    """Checked ``(n_fft, hop_length, win_length)``; ``hop_length=None`` is ``win_length // 4`` (or ``n_fft // 4``
    with ``hop_divisor_of='n_fft'``, Griffin_Lim's default)."""
    n_fft = _checks.positive_int("n_fft", n_fft)
    win_length = n_fft if win_length is None else _checks.positive_int("win_length", win_length)
    if win_length > n_fft:
        raise ValueError(f"win_length={win_length} must not exceed n_fft={n_fft}; set win_length <= n_fft.")
    if hop_length is None:
        base = win_length if hop_divisor_of == "win_length" else n_fft
        if base < 4:
            raise ValueError(
                f"hop_length=None defaults to {hop_divisor_of} // 4 = 0 with {hop_divisor_of}={base} (n_fft={n_fft}, "
                f"win_length={win_length}); pass hop_length explicitly (an integer >= 1)."
            )
        hop_length = base // 4
    hop_length = _checks.positive_int("hop_length", hop_length)
    return n_fft, hop_length, win_length


def backend_op(name: str, x: torch.Tensor, backend: str | None, dtype: torch.dtype | None = None):
    """The operation ``name`` of the backend that computes the flat problem ``x`` (its device and dtype, or
    ``dtype`` when given, decide with ``backend``, see :mod:`nnaudio_fast.dispatch`). Operations in
    :data:`nnaudio_fast.dispatch.PRECISION_OPS` take ``precision=`` on every backend."""
    return dispatch.select(name, x.device, backend, x.dtype if dtype is None else dtype)


class BoundOp:
    """A backend operation with its checked constant arguments bound (see
    :func:`nnaudio_fast.functional.spectrogram_plan`): ``plan(x)`` runs it on a flat ``(B, time)`` waveform after the
    waveform's own checks (dtype, length; an empty batch gives an empty output)."""

    __slots__ = ("fn", "args", "kwargs", "n_fft", "center", "dtype")

    def __init__(self, fn, args: tuple, kwargs: dict, n_fft: int, center: bool, dtype: torch.dtype):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.n_fft, self.center, self.dtype = n_fft, center, dtype

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != self.dtype:  # float16 and bfloat16 compute in float32
            if _checks.compute_dtype(x) != self.dtype:
                raise ValueError(f"this plan was made for {self.dtype} waveforms, got {x.dtype}; make another.")
            x = x.to(self.dtype)
        if x.shape[-1] < (1 if self.center else self.n_fft):
            _checks.waveform_length(x, self.n_fft, self.center)  # raises, naming what is missing
        if _tracing() or x.shape[0]:
            return self.fn(x, *self.args, **self.kwargs)
        return restore(self.fn(nonempty(x), *self.args, **self.kwargs), (0,))


def format_output(re: torch.Tensor, im: torch.Tensor, output_format: str) -> torch.Tensor:
    _checks.choice("output_format", output_format, OUTPUT_FORMATS)
    if output_format == "Complex":
        return torch.stack((re, im), -1)
    if output_format == "Magnitude":
        return magnitude(re, im)
    return phase(re, im)


def _prepare(waveform, kernels, n_fft, hop_length, center, pad_mode):
    """The checked, flattened ``(B, time)`` input (never empty: see :func:`nonempty`), its leading shape, the
    kernels cast to its dtype and device, and the canonical ``pad_mode``."""
    dtype = _checks.compute_dtype(waveform)
    _checks.positive_int("hop_length", hop_length)
    _checks.waveform_length(waveform, n_fft, _checks.boolean("center", center))
    pad_mode = _checks.canonical_pad_mode(pad_mode)
    x, lead = _flatten(waveform)
    x = nonempty(x.to(dtype))
    kernels = [None if k is None else _cast(k, dtype, x.device) for k in kernels]
    return x, lead, kernels, pad_mode


def _tracing() -> bool:
    return torch.compiler.is_compiling() or torch.jit.is_tracing()


def nonempty(x: torch.Tensor) -> torch.Tensor:
    """``x`` ``(B, ...)``, or for an empty batch (``B = 0``) one row of zeros appended (still connected to ``x``):
    FFT libraries (MKL, cuFFT) reject empty batches, so the backends never see one. :func:`restore` cuts the
    output back to the ``B = 0`` rows."""
    if _tracing() or x.shape[0] > 0:
        return x
    return torch.cat((x, x.new_zeros((1,) + tuple(x.shape[1:]))))


def restore(t: torch.Tensor, lead: tuple) -> torch.Tensor:
    """A flat backend output ``(B', ...)`` as ``lead + (...)``, dropping the stand-in row :func:`nonempty` added
    for an empty batch."""
    n = 1
    for d in lead:
        n *= d
    if not _tracing() and t.shape[0] != n:
        t = t[:n]
    return t.reshape(tuple(lead) + tuple(t.shape[1:]))


class _SafePow(torch.autograd.Function):
    """``x^γ`` for ``x >= 0`` in one pass, whose gradient is 0 (not inf or NaN) at ``x = 0`` when ``γ < 1``."""

    @staticmethod
    def forward(ctx, x, gamma):
        y = x.pow(gamma)
        ctx.gamma = gamma
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        slope = torch.where(x > 0, ctx.gamma * y / torch.where(x > 0, x, torch.ones_like(x)), torch.zeros_like(x))
        return grad * slope, None


def _safe_pow(x: torch.Tensor, gamma: float) -> torch.Tensor:
    return x if gamma == 1.0 else _SafePow.apply(x, float(gamma))
