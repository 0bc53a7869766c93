"""The multirate CQT kernels as ``torch.library`` custom ops with autograd.

As for the Fourier ops (:mod:`nnaudio_fast.kernels.fourier_ops`), every op has a fake (meta) implementation and
its backward is made of custom ops, so ``torch.compile`` traces forward and backward without graph breaks.

====================================  =============================================================================
``cqt_pyramid``                       levels ``1 … n`` of the half-band pyramid, one flat ``(B, Σ len_ℓ)`` tensor
``cqt_pyramid_adjoint``               its transpose (each is the other's backward: gradients of any order)
``cqt_multirate``                     ``(re, im, levels)``: the multirate CQT, ``(B, n_bins, T)`` each, and the
                                      pyramid of the padded waveform (saved for the kernel gradient)
``cqt_multirate_input_grad``          ``(g_re, g_im)`` → waveform gradient (backward)
``cqt_multirate_kernel_grad``         ``(g_re, g_im)`` → gradient of the packed kernels (backward)
====================================  =============================================================================

The octave kernels travel packed in one flat tensor (``torch.cat`` of the flattened ``(P_i, 2n_i, W_i)`` kernels,
done by the caller, whose autograd splits the gradient back) with their shapes as a list of ints.
"""

from __future__ import annotations

import torch

from ..geometry import level_lengths, n_frames
from . import cqt as K
from .fourier_ops import device_guard


def _flat_len(length, n_levels):
    return sum(level_lengths(length, n_levels))


# ----------------------------------------------------------------------------------------------------------------
# pyramid
# ----------------------------------------------------------------------------------------------------------------
@torch.library.custom_op("nnaudio_fast::cqt_pyramid", mutates_args=())
def cqt_pyramid(x: torch.Tensor, h: torch.Tensor, n_levels: int, precision: str) -> torch.Tensor:
    with device_guard(x):
        return K.pyramid(x, h, n_levels, precision=precision)


@cqt_pyramid.register_fake
def _(x, h, n_levels, precision):
    return x.new_empty((x.shape[0], _flat_len(x.shape[-1], n_levels)), dtype=torch.float32)


@torch.library.custom_op("nnaudio_fast::cqt_pyramid_adjoint", mutates_args=())
def cqt_pyramid_adjoint(grads: torch.Tensor, h: torch.Tensor, length: int, n_levels: int,
                        precision: str) -> torch.Tensor:
    with device_guard(grads):
        if grads.stride(-1) != 1:
            grads = grads.contiguous()
        return K.pyramid_adjoint(grads, h, length, n_levels, precision=precision)


@cqt_pyramid_adjoint.register_fake
def _(grads, h, length, n_levels, precision):
    return grads.new_empty((grads.shape[0], length), dtype=torch.float32)


def _pyramid_setup(ctx, inputs, output):
    x, h, n_levels, precision = inputs
    ctx.save_for_backward(h)
    ctx.length, ctx.n_levels, ctx.dtype, ctx.precision = x.shape[-1], n_levels, x.dtype, precision


def _pyramid_backward(ctx, grad):
    (h,) = ctx.saved_tensors
    return cqt_pyramid_adjoint(grad, h, ctx.length, ctx.n_levels, ctx.precision).to(ctx.dtype), None, None, None


cqt_pyramid.register_autograd(_pyramid_backward, setup_context=_pyramid_setup)


def _adjoint_setup(ctx, inputs, output):
    grads, h, length, n_levels, precision = inputs
    ctx.save_for_backward(h)
    ctx.n_levels, ctx.dtype, ctx.precision = n_levels, grads.dtype, precision


def _adjoint_backward(ctx, grad):
    (h,) = ctx.saved_tensors
    return cqt_pyramid(grad, h, ctx.n_levels, ctx.precision).to(ctx.dtype), None, None, None, None


cqt_pyramid_adjoint.register_autograd(_adjoint_backward, setup_context=_adjoint_setup)


# ----------------------------------------------------------------------------------------------------------------
# multirate CQT
# ----------------------------------------------------------------------------------------------------------------
@torch.library.custom_op("nnaudio_fast::cqt_multirate", mutates_args=())
def cqt_multirate(x: torch.Tensor, kpack: torch.Tensor, shapes: list[int], offsets: list[int], levels: list[int],
                  hop_length: int, pad_amount: int, h: torch.Tensor, pad_mode: str,
                  precision: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    with device_guard(x):
        layout = K.octave_layout(shapes, offsets, levels, hop_length, pad_amount, x.device)
        if layout.max_level:
            pyr = K.pyramid(x, h, layout.max_level, pad_mode, pad_amount, precision)
        else:
            pyr = x.new_empty((x.shape[0], 0), dtype=torch.float32)
        re, im = K.octave_forward(x, pyr, kpack, layout, pad_mode, precision)
        return re, im, pyr


@cqt_multirate.register_fake
def _(x, kpack, shapes, offsets, levels, hop_length, pad_amount, h, pad_mode, precision):
    B, L = x.shape
    n_bins = sum(shapes[3 * i + 1] for i in range(len(levels))) // 2
    T = n_frames(L, hop_length)
    re = x.new_empty((B, n_bins, T), dtype=torch.float32)
    pyr = x.new_empty((B, _flat_len(L + 2 * pad_amount, max(levels))), dtype=torch.float32)
    return re, torch.empty_like(re), pyr


@torch.library.custom_op("nnaudio_fast::cqt_multirate_input_grad", mutates_args=())
def cqt_multirate_input_grad(g_re: torch.Tensor, g_im: torch.Tensor, kpack: torch.Tensor, shapes: list[int],
                             offsets: list[int], levels: list[int], hop_length: int, pad_amount: int,
                             h: torch.Tensor, pad_mode: str, length: int, precision: str) -> torch.Tensor:
    with device_guard(g_re):
        layout = K.octave_layout(shapes, offsets, levels, hop_length, pad_amount, g_re.device)
        return K.input_grad(g_re, g_im, kpack, h, layout, length, pad_mode, precision)


@cqt_multirate_input_grad.register_fake
def _(g_re, g_im, kpack, shapes, offsets, levels, hop_length, pad_amount, h, pad_mode, length, precision):
    return g_re.new_empty((g_re.shape[0], length), dtype=torch.float32)


@torch.library.custom_op("nnaudio_fast::cqt_multirate_kernel_grad", mutates_args=())
def cqt_multirate_kernel_grad(x: torch.Tensor, levels_flat: torch.Tensor, g_re: torch.Tensor, g_im: torch.Tensor,
                              shapes: list[int], offsets: list[int], levels: list[int], hop_length: int,
                              pad_amount: int, pad_mode: str, precision: str) -> torch.Tensor:
    with device_guard(x):
        layout = K.octave_layout(shapes, offsets, levels, hop_length, pad_amount, x.device)
        return K.octave_kernel_grads(x, levels_flat, g_re, g_im, layout, pad_mode, precision)


@cqt_multirate_kernel_grad.register_fake
def _(x, levels_flat, g_re, g_im, shapes, offsets, levels, hop_length, pad_amount, pad_mode, precision):
    total = sum(shapes[3 * i] * shapes[3 * i + 1] * shapes[3 * i + 2] for i in range(len(levels)))
    return x.new_empty((total,), dtype=torch.float32)


def _cqt_setup(ctx, inputs, output):
    x, kpack, shapes, offsets, levels, hop, pad_amount, h, pad_mode, precision = inputs
    ctx.save_for_backward(x, kpack, h, output[2])
    ctx.mark_non_differentiable(output[2])
    ctx.geom = (list(shapes), list(offsets), list(levels), hop, pad_amount)
    ctx.pad_mode, ctx.precision = pad_mode, precision


def _cqt_backward(ctx, g_re, g_im, _g_levels):
    x, kpack, h, pyr = ctx.saved_tensors
    shapes, offsets, levels, hop, pad_amount = ctx.geom
    T = n_frames(x.shape[-1], hop)
    n_bins = sum(shapes[3 * i + 1] for i in range(len(levels))) // 2
    zeros = None
    if g_re is None or g_im is None:
        zeros = x.new_zeros((x.shape[0], n_bins, T), dtype=torch.float32)
    g_re = zeros if g_re is None else g_re
    g_im = zeros if g_im is None else g_im
    dx = dk = None
    if ctx.needs_input_grad[0]:
        dx = cqt_multirate_input_grad(g_re, g_im, kpack, shapes, offsets, levels, hop, pad_amount, h, ctx.pad_mode,
                                      x.shape[-1], ctx.precision).to(x.dtype)
    if ctx.needs_input_grad[1]:
        dk = cqt_multirate_kernel_grad(x, pyr, g_re, g_im, shapes, offsets, levels, hop, pad_amount, ctx.pad_mode,
                                       ctx.precision).to(kpack.dtype)
    return dx, dk, None, None, None, None, None, None, None, None


cqt_multirate.register_autograd(_cqt_backward, setup_context=_cqt_setup)
