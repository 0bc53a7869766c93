"""The ``cpp`` backend: the CPU fast paths.

Fourier family: when the caller certifies that the kernels are the plain windowed DFT (``dft_window`` is given:
the functional API always knows, a layer knows while its non-trainable kernels hold the values they were built
with), the STFT is computed by an FFT (``torch.stft`` on the already padded signal: pocketfft/MKL,
O(n_fft log n_fft) per frame instead of the O(n_fft²) kernel product), and the iSTFT by an inverse FFT when ``dft``
certifies the synthesis kernels. Spectrograms (power, magnitude, filterbank, log) without gradients run fused,
multiplying only the filterbank's certified ``support``: one call of the C++ extension, vectorised over frames, when
it is built, else blocked torch operations (:mod:`nnaudio_fast.cpp.fourier`).
Otherwise, and for trainable kernels (whose gradients need the kernel product), the kernel product of the
definition runs (frames · kernels, as the reference).

Single-rate CQT (CQT1992v2, the single-rate VQT): products over each kernel's certified ``support`` only, on views
of one buffer holding the whole batch, no frames materialised (:mod:`nnaudio_fast.cpp.constant_q`).

Multirate CQT: the C++ extension ``nnaudio_fast._multirate`` (``csrc/multirate.cpp``, pybind11, not linked against
libtorch) computes the octave pyramid, half-band lowpass + decimation by 2 on kept samples only, rows over threads,
and its exact adjoint. Here they are ``torch.library`` custom ops (``nnaudio_fast::cpp_pyramid`` and
``::cpp_pyramid_adjoint``, opaque to ``torch.compile``, with fake implementations; the backward of the pyramid is
the adjoint and vice versa, so gradients of any order flow to the waveform). The multirate CQT on this backend is
the reference algorithm run on that pyramid: this module provides the part (``pyramid``), and
:mod:`nnaudio_fast.dispatch` composes ``cqt_multirate`` from it. Without the extension :func:`missing_reason`
reports the pyramid operations absent, and ``auto`` dispatch takes them from the reference.
"""

from __future__ import annotations

import torch

from ..geometry import level_lengths
from ..primitives import kernel_product, log_scale, power_spectrum, synthesize
from . import fourier
from .constant_q import cqt_single

try:
    from .. import _multirate as _ext

    _IMPORT_ERROR = None
except ImportError as exc:  # not built (optional at install time)
    _ext = None
    _IMPORT_ERROR = str(exc)

_EXTENSION_OPS = ("pyramid", "pyramid_adjoint")
#: The dtypes this backend computes in.
DTYPES = (torch.float32, torch.float64)


def unavailable_reason() -> None:
    """The FFT paths need nothing beyond PyTorch; the extension's operations are absent when it is not built."""
    return None


def missing_reason(op: str) -> str | None:
    """Why ``op`` is absent here (for dispatch's error message), or None."""
    if op in _EXTENSION_OPS and _ext is None:
        return (f"the C++ extension nnaudio_fast._multirate is not built ({_IMPORT_ERROR}); "
                "reinstall with a C++17 compiler")
    return None


def runs_on(device: torch.device) -> bool:
    return torch.device(device).type == "cpu"


def _fft_usable(wcos: torch.Tensor, dft_window) -> bool:
    """The certificate holds: the kernels are the DFT times ``dft_window`` (kernels computed from a trainable
    window included: their gradient reaches the window through the FFT just as through the product)."""
    return dft_window is not None and wcos.shape[0] == wcos.shape[1] // 2 + 1


def stft(x, wcos, wsin, hop_length: int, center: bool, pad_mode: str, dft_window=None, *, precision=None):
    """:func:`nnaudio_fast.reference.stft`, by FFT when ``dft_window`` certifies the kernels."""
    if not _fft_usable(wcos, dft_window):
        return kernel_product(x, wcos, wsin, hop_length, center, pad_mode)
    return fourier.fft_stft(x, dft_window, hop_length, center, pad_mode)


def istft(re, im, icos, isin, window, hop_length: int, center: bool, length, dft: bool = False):
    """:func:`nnaudio_fast.reference.istft`, by inverse FFT when ``dft`` certifies the synthesis kernels."""
    n_fft = icos.shape[-1]
    if not dft or icos.requires_grad or isin.requires_grad:
        frames_ = torch.matmul(re.transpose(1, 2), icos) - torch.matmul(im.transpose(1, 2), isin)
        return synthesize(frames_, window, hop_length, center, length)
    X = torch.complex(re, im).transpose(1, 2)  # (B, T, F)
    if icos.shape[0] == n_fft:  # two-sided: the real part of the inverse DFT
        frames_ = torch.fft.ifft(X, n=n_fft, dim=-1).real
    else:  # one-sided: the inverse real DFT (imaginary parts of DC and Nyquist drop out, as with the kernels)
        frames_ = torch.fft.irfft(X, n=n_fft, dim=-1)
    return synthesize(frames_, window, hop_length, center, length)


def _fusable(x, wcos, fbank, dft_window) -> bool:
    """The fused path applies: a certified plain DFT, no gradient to compute, not traced by ``torch.compile``."""
    if dft_window is None or wcos.shape[0] != wcos.shape[1] // 2 + 1 or torch.compiler.is_compiling():
        return False
    return not (torch.is_grad_enabled() and (x.requires_grad or dft_window.requires_grad
                                             or (fbank is not None and fbank.requires_grad)))


def spectrogram(x, wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, dft_window=None,
                *, precision=None, support=None):
    """:func:`nnaudio_fast.reference.spectrogram`: fused and blocked over ``support`` when the kernels are a
    certified plain DFT and no gradient is needed (:func:`nnaudio_fast.cpp.fourier.fused_spectrogram`), else the
    FFT (or kernel product) followed by torch operations."""
    if _fusable(x, wcos, fbank, dft_window):
        return fourier.fused_spectrogram(x, dft_window, fbank, hop_length, center, pad_mode, power, support=support)
    return log_spectrogram(x, wcos, wsin, fbank, hop_length, center, pad_mode, power, None, 0.0, dft_window)


def log_spectrogram(x, wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, log, amin,
                    dft_window=None, *, precision=None, support=None):
    """:func:`nnaudio_fast.reference.log_spectrogram`, as :func:`spectrogram` (``log=None``: no log)."""
    if _fusable(x, wcos, fbank, dft_window):
        return fourier.fused_spectrogram(x, dft_window, fbank, hop_length, center, pad_mode, power, log, amin,
                                         support=support)
    re, im = stft(x, wcos, wsin, hop_length, center, pad_mode, dft_window)
    spec = power_spectrum(re, im, power)
    spec = spec if fbank is None else torch.matmul(fbank, spec)
    return spec if log is None else log_scale(spec, log, amin)


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
    fn = getattr(_ext, "pyramid_adjoint_" + _suffix(grads[0].dtype))
    return torch.from_numpy(fn([_numpy(g) for g in grads], taps, length, _threads(grads[0].shape[0])))


def _taps(h: torch.Tensor):
    return h.detach().to(device="cpu", dtype=torch.float64).contiguous().numpy()


# The extension's pyramid and adjoint as torch.library custom ops: opaque to torch.compile (which cannot trace a
# pybind11 call), with fake implementations for the shapes and each other as backward (gradients of any order).
# The levels travel as one flat (B, Σ len_ℓ) tensor.
@torch.library.custom_op("nnaudio_fast::cpp_pyramid", mutates_args=())
def _pyramid_op(x: torch.Tensor, h: torch.Tensor, n_levels: int) -> torch.Tensor:
    return torch.cat(_forward(x, _taps(h), n_levels), -1)


@_pyramid_op.register_fake
def _(x, h, n_levels):
    return x.new_empty((x.shape[0], sum(level_lengths(x.shape[-1], n_levels))))


@torch.library.custom_op("nnaudio_fast::cpp_pyramid_adjoint", mutates_args=())
def _adjoint_op(flat: torch.Tensor, h: torch.Tensor, length: int, n_levels: int) -> torch.Tensor:
    return _adjoint(torch.split(flat, level_lengths(length, n_levels), -1), _taps(h), length)


@_adjoint_op.register_fake
def _(flat, h, length, n_levels):
    return flat.new_empty((flat.shape[0], length))


def _pyramid_setup(ctx, inputs, output):
    x, h, n_levels = inputs
    ctx.save_for_backward(h)
    ctx.length, ctx.n_levels = x.shape[-1], n_levels


def _pyramid_backward(ctx, grad):
    (h,) = ctx.saved_tensors
    return _adjoint_op(grad, h, ctx.length, ctx.n_levels), None, None


def _adjoint_setup(ctx, inputs, output):
    flat, h, length, n_levels = inputs
    ctx.save_for_backward(h)
    ctx.n_levels = n_levels


def _adjoint_backward(ctx, grad):
    (h,) = ctx.saved_tensors
    return _pyramid_op(grad, h, ctx.n_levels), None, None, None


_pyramid_op.register_autograd(_pyramid_backward, setup_context=_pyramid_setup)
_adjoint_op.register_autograd(_adjoint_backward, setup_context=_adjoint_setup)


def pyramid(x: torch.Tensor, h: torch.Tensor, n_levels: int, *, precision=None) -> tuple[torch.Tensor, ...]:
    """As :func:`nnaudio_fast.reference.pyramid` (``h`` is a constant: no gradient flows to it)."""
    if n_levels == 0:
        return ()
    flat = _pyramid_op(x, h.detach(), n_levels)
    return tuple(torch.split(flat, level_lengths(x.shape[-1], n_levels), -1))


def pyramid_adjoint(grads, h: torch.Tensor, length: int, *, precision=None) -> torch.Tensor:
    """As :func:`nnaudio_fast.reference.pyramid_adjoint`."""
    expected = level_lengths(length, len(grads))
    if [g.shape[-1] for g in grads] != expected or len({g.shape[:-1] for g in grads}) != 1:
        raise ValueError(
            f"pyramid_adjoint: level cotangents have shapes {[tuple(g.shape) for g in grads]}; for length={length} "
            f"they must be (batch, n) with n = {expected}."
        )
    dtype = grads[0].dtype
    return _adjoint_op(torch.cat([g.to(dtype) for g in grads], -1), h.detach(), length, len(grads))
