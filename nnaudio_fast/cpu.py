"""The ``cpp`` backend: CPU operations backed by the C++ extension ``nnaudio_fast._multirate``.

The extension (``csrc/multirate.cpp``, pybind11, not linked against libtorch) computes the multirate CQT's octave
pyramid, half-band lowpass + decimation by 2 on kept samples only, rows over threads, and its exact adjoint.
Here they are wrapped in ``torch.autograd.Function`` s (the backward of the pyramid is the adjoint and vice versa,
so gradients of any order flow to the waveform), and :func:`cqt_multirate` is the reference multirate CQT running
on that pyramid. Other operations are not implemented here; ``auto`` dispatch takes them from the reference.
"""

from __future__ import annotations

import torch

from . import reference_cqt

try:
    from . import _multirate as _ext

    _IMPORT_ERROR = None
except ImportError as exc:  # not built (optional at install time)
    _ext = None
    _IMPORT_ERROR = str(exc)

__all__ = ["pyramid", "pyramid_adjoint", "cqt_multirate", "build_info", "unavailable_reason", "runs_on"]


def unavailable_reason() -> str | None:
    if _ext is None:
        return (f"the C++ extension nnaudio_fast._multirate is not built ({_IMPORT_ERROR}); "
                "reinstall with a C++17 compiler")
    return None


def runs_on(device: torch.device) -> bool:
    return torch.device(device).type == "cpu"


def build_info() -> dict:
    """Whether the C++ extension is built, and with what."""
    if _ext is None:
        return {"multirate_extension": False, "reason": _IMPORT_ERROR}
    return {"multirate_extension": True, "compiler": str(_ext.compiler), "module": _ext.__file__}


def _suffix(dtype: torch.dtype) -> str:
    if dtype == torch.float32:
        return "f32"
    if dtype == torch.float64:
        return "f64"
    raise ValueError(f"the C++ pyramid takes float32 or float64 tensors, got {dtype}.")


def _threads(rows: int) -> int:
    return max(1, min(rows, torch.get_num_threads()))


def _numpy(t: torch.Tensor):
    return t.detach().contiguous().numpy()


def _forward(x: torch.Tensor, taps, n_levels: int):
    fn = getattr(_ext, "pyramid_" + _suffix(x.dtype))
    return tuple(torch.from_numpy(a) for a in fn(_numpy(x), taps, n_levels, _threads(x.shape[0])))


def _adjoint(grads, taps, length: int) -> torch.Tensor:
    dtype = grads[0].dtype
    fn = getattr(_ext, "pyramid_adjoint_" + _suffix(dtype))
    return torch.from_numpy(fn([_numpy(g.to(dtype)) for g in grads], taps, length, _threads(grads[0].shape[0])))


class _Pyramid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, taps, n_levels):
        ctx.taps, ctx.length = taps, x.shape[-1]
        return _forward(x, taps, n_levels)

    @staticmethod
    def backward(ctx, *grads):  # unused levels arrive as zeros (autograd materialises them)
        return _PyramidAdjoint.apply(ctx.taps, ctx.length, *grads), None, None


class _PyramidAdjoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, taps, length, *grads):
        ctx.taps, ctx.n_levels = taps, len(grads)
        return _adjoint(grads, taps, length)

    @staticmethod
    def backward(ctx, grad):
        return (None, None) + tuple(_Pyramid.apply(grad, ctx.taps, ctx.n_levels))


def _taps(h: torch.Tensor):
    return h.detach().to(device="cpu", dtype=torch.float64).contiguous().numpy()


def pyramid(x: torch.Tensor, h: torch.Tensor, n_levels: int) -> tuple[torch.Tensor, ...]:
    """As :func:`nnaudio_fast.reference.pyramid` (``h`` is a constant: no gradient flows to it)."""
    if n_levels == 0:
        return ()
    return _Pyramid.apply(x, _taps(h), n_levels)


def pyramid_adjoint(grads, h: torch.Tensor, length: int) -> torch.Tensor:
    """As :func:`nnaudio_fast.reference.pyramid_adjoint`."""
    return _PyramidAdjoint.apply(_taps(h), length, *grads)


def cqt_multirate(x, kernels, offsets, levels, hop_length, pad_amount, h, pad_mode):
    """As :func:`nnaudio_fast.reference.cqt_multirate`, with the octave pyramid computed by the C++ extension."""
    return reference_cqt.cqt_multirate(x, kernels, offsets, levels, hop_length, pad_amount, h, pad_mode,
                                       _pyramid=pyramid)
