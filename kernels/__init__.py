"""Triton kernels, installed as ``nnaudio_fast.kernels``: the ``triton`` backend of :mod:`nnaudio_fast.dispatch`.

Operations (flat ``(batch, time)`` problems, the signatures of :mod:`nnaudio_fast.reference` plus keyword-only
extras): :func:`stft`, :func:`spectrogram`, :func:`log_spectrogram`, each with ``precision=`` (see
:data:`nnaudio_fast.precision.MODES`; default: from ``torch.get_float32_matmul_precision()``) and ``engine=`` (``'auto'``, ``'direct'``,
``'fft'``; default ``$NNAUDIO_FAST_FOURIER_ENGINE`` or ``'auto'``); the constant-Q operations :func:`cqt_single`
(the fused STFT kernel with CQT kernels), :func:`cqt_multirate` (``precision=``), :func:`pyramid` and
:func:`pyramid_adjoint` (:mod:`.cqt`). The modes are :data:`nnaudio_fast.precision.MODES`.

Importing this package is cheap and never imports triton: the kernels (:mod:`.fourier`, :mod:`.cqt`) and their
custom ops (:mod:`.fourier_ops`, :mod:`.cqt_ops`) load on first use. The backend computes float32 (:data:`DTYPES`):
dispatch hands float64 problems to the reference (tensor cores have no float64 path that beats cuBLAS/cuFFT, and
float64 callers want exactness).
"""

from __future__ import annotations

import importlib
import importlib.util
import os

import torch

from .. import _checks
from .. import precision as precision_table
from ..geometry import level_lengths
from ..primitives import LOG_SCALES, log_scale

#: The dtypes this backend computes in.
DTYPES = (torch.float32,)
ENGINES = ("auto", "direct", "fft")
ENGINE_ENV = "NNAUDIO_FAST_FOURIER_ENGINE"

_import_error: list[str | None] = []


def _interpret() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def unavailable_reason() -> str | None:
    """``None`` when the kernels can run here, else why not."""
    if importlib.util.find_spec("triton") is None:
        return "triton is not installed (pip install 'nnaudio-fast[triton]')"
    if not _interpret() and not torch.cuda.is_available():
        return "there is no CUDA device (TRITON_INTERPRET=1 runs the kernels on the CPU, slowly, for testing)"
    if not _import_error:
        try:
            importlib.import_module(".fourier_ops", __name__)
            importlib.import_module(".cqt_ops", __name__)
            _import_error.append(None)
        except Exception as exc:  # a broken triton install must not break auto dispatch
            _import_error.append(f"importing the Triton kernels failed ({type(exc).__name__}: {exc})")
    return _import_error[0]


def runs_on(device) -> bool:
    device = torch.device(device)
    return device.type == "cuda" or (device.type == "cpu" and _interpret())


def _ops():
    from . import fourier_ops  # a plain import statement: torch.compile traces it (importlib it would not)

    return fourier_ops


def _cqt_ops():
    from . import cqt_ops  # a plain import statement, as in _ops()

    return cqt_ops


@torch.compiler.assume_constant_result
def _matmul_precision() -> str:
    # a constant for torch.compile, which cannot trace torch.get_float32_matmul_precision()
    return torch.get_float32_matmul_precision()


def resolve_precision(precision: str | None = None) -> str:
    """``precision`` as a mode of :data:`nnaudio_fast.precision.MODES`; ``None`` follows
    ``torch.get_float32_matmul_precision()`` ('highest' → 'exact', 'high' → 'tf32', 'medium' → 'bf16'), whose names
    are accepted too."""
    return precision_table.resolve(precision, _matmul_precision() if precision is None else "")


def resolve_engine(engine: str | None, *bases: torch.Tensor) -> str:
    """The engine in force: the argument, else ``$NNAUDIO_FAST_FOURIER_ENGINE``, else ``'auto'``; ``'auto'``
    becomes ``'direct'`` for bases being trained (their values change every step, so checking whether they are
    still a plain DFT would cost a synchronising pass per step)."""
    name = engine if engine is not None else (os.environ.get(ENGINE_ENV, "").strip() or "auto")
    if name not in ENGINES:
        origin = "engine" if engine is not None else ENGINE_ENV
        raise ValueError(f"{origin}={name!r} is not an engine; use one of {ENGINES}.")
    if name == "auto" and torch.is_grad_enabled() and any(b is not None and b.requires_grad for b in bases):
        return "direct"
    return name


def _check(x, wcos, wsin, fbank=None):
    if x.dim() != 2:
        raise ValueError(f"the Triton ops take a flat (batch, time) waveform, got shape {tuple(x.shape)}.")
    if wcos.dim() != 2 or wcos.shape != wsin.shape:
        raise ValueError(f"wcos {tuple(wcos.shape)} and wsin {tuple(wsin.shape)} must both be (freq_bins, n_fft).")
    if fbank is not None and (fbank.dim() != 2 or fbank.shape[1] != wcos.shape[0]):
        raise ValueError(f"fbank has shape {tuple(fbank.shape)}; it must be (n_filters, {wcos.shape[0]}).")
    for name, t in (("wcos", wcos), ("wsin", wsin), ("fbank", fbank)):
        if t is not None and t.device != x.device:
            raise ValueError(f"{name} is on {t.device} but the waveform is on {x.device}; move them together.")


def stft(x, wcos, wsin, hop_length: int, center: bool, pad_mode: str, dft_window=None, *, precision=None,
         engine=None):
    """Real and imaginary parts ``(B, F, T)`` (see :func:`nnaudio_fast.reference.stft`), fused.

    ``dft_window`` (the caller's certificate of a plain DFT basis) is not needed here: the engine choice recognises
    a plain DFT from the basis values (:func:`.fourier_ops.dft_window`, cached per tensor version)."""
    _check(x, wcos, wsin)
    return _ops().fourier_stft(x, wcos, wsin, hop_length, center, pad_mode, resolve_precision(precision),
                               resolve_engine(engine, wcos, wsin))


def spectrogram(x, wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, dft_window=None,
                *, precision=None, support=None, engine=None):
    """``fbank @ |STFT(x)|^power`` ``(B, M, T)`` (``fbank=None``: ``|STFT(x)|^power``), fused in one kernel
    (``support`` is not used: the kernel's filterbank product is dense)."""
    _check(x, wcos, wsin, fbank)
    return _ops().fourier_spectrogram(x, wcos, wsin, fbank, hop_length, center, pad_mode, float(power), 0.0, 1.0,
                                      resolve_precision(precision), resolve_engine(engine, wcos, wsin))


def log_spectrogram(x, wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, log: str,
                    amin: float, dft_window=None, *, precision=None, support=None, engine=None):
    """``c·ln max(spectrogram, amin)`` (see :func:`nnaudio_fast.reference.log_spectrogram`). Without gradients the
    log is fused in the kernel's epilogue; with gradients it is a torch op on the (small) filterbank output, which
    autograd needs anyway."""
    _check(x, wcos, wsin, fbank)
    precision, engine = resolve_precision(precision), resolve_engine(engine, wcos, wsin)
    ops = _ops()
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, wcos, wsin, fbank)):
        y = ops.fourier_spectrogram(x, wcos, wsin, fbank, hop_length, center, pad_mode, float(power), 0.0, 1.0,
                                    precision, engine)
        return log_scale(y, log, amin)
    return ops.fourier_spectrogram(x, wcos, wsin, fbank, hop_length, center, pad_mode, float(power), LOG_SCALES[log],
                                   float(amin), precision, engine)


# ----------------------------------------------------------------------------------------------------------------
# constant-Q
# ----------------------------------------------------------------------------------------------------------------
def cqt_single(x, kr, ki, hop_length: int, center: bool, pad_mode: str, *, precision=None, support=None):
    """Single-rate CQT ``(re, im)`` ``(B, n_bins, T)`` (see :func:`nnaudio_fast.reference.cqt_single`): the STFT
    product with CQT kernels, so the fused Fourier forward/backward kernels compute it (direct engine: a CQT basis
    is never a plain DFT)."""
    return stft(x, kr, ki, hop_length, center, pad_mode, precision=precision, engine="direct")


def _check_levels(h, device, n_levels):
    if isinstance(n_levels, bool) or int(n_levels) != n_levels or n_levels < 0:
        raise ValueError(f"n_levels={n_levels!r} must be a non-negative integer.")
    if h.device != device:
        raise ValueError(f"h is on {h.device} but the signal is on {device}; move them together.")


def pyramid(x: torch.Tensor, h: torch.Tensor, n_levels: int, *, precision=None) -> tuple:
    """Levels ``1 … n_levels`` of the half-band pyramid of ``x`` ``(B, N)`` (see
    :func:`nnaudio_fast.reference.pyramid`), by the multi-level Triton decimation kernel (the filter as a Toeplitz
    tensor-core product; ``precision`` as for the other ops, 'bf16' filtering in TF32); differentiable (the
    backward is :func:`pyramid_adjoint`). ``h`` is a constant (no gradient flows to it)."""
    if x.dim() != 2:
        raise ValueError(f"the Triton ops take a flat (batch, time) signal, got shape {tuple(x.shape)}.")
    _check_levels(h, x.device, n_levels)
    if n_levels == 0:
        return ()
    flat = _cqt_ops().cqt_pyramid(x, h, int(n_levels), resolve_precision(precision))
    return tuple(torch.split(flat, level_lengths(x.shape[-1], n_levels), dim=1))


def pyramid_adjoint(grads, h: torch.Tensor, length: int, *, precision=None) -> torch.Tensor:
    """Adjoint of :func:`pyramid` (see :func:`nnaudio_fast.reference.pyramid_adjoint`): cotangents ``grads[ℓ−1]``
    ``(B, ⌈N/2^ℓ⌉)`` of levels ``1 … L`` → cotangent ``(B, length)`` of the input."""
    grads = list(grads)
    if not grads:
        raise ValueError("grads must hold at least one level.")
    _check_levels(h, grads[0].device, len(grads))
    want = level_lengths(length, len(grads))
    for i, (g, n) in enumerate(zip(grads, want)):
        if g.dim() != 2 or g.shape != (grads[0].shape[0], n):
            raise ValueError(f"grads[{i}] has shape {tuple(g.shape)}; it must be (batch, {n}) for length={length}.")
    flat = torch.cat([g.to(torch.float32) for g in grads], 1)
    return _cqt_ops().cqt_pyramid_adjoint(flat, h, int(length), len(grads), resolve_precision(precision))


def cqt_multirate(x, kernels, offsets, levels, hop_length: int, pad_amount: int, h, pad_mode: str, *,
                  precision=None, pyramid=None):
    """Multirate CQT ``(re, im)`` ``(B, n_bins, T)`` (see :func:`nnaudio_fast.reference.cqt_multirate`): the
    pyramid and every octave's kernel product by Triton kernels (:mod:`.cqt`), differentiable with respect to the
    waveform and every kernel. ``pyramid`` is ignored: the fused kernels compute their own."""
    if x.dim() != 2:
        raise ValueError(f"the Triton ops take a flat (batch, time) waveform, got shape {tuple(x.shape)}.")
    pad_mode = _checks.canonical_pad_mode(pad_mode)
    for i, k in enumerate(kernels):
        if k.dim() != 3:
            raise ValueError(f"kernel of octave {i} has shape {tuple(k.shape)}; it must be (phases, 2·n_bins, "
                             "width).")
        if k.device != x.device:
            raise ValueError(f"kernel of octave {i} is on {k.device} but the waveform is on {x.device}.")
    _check_levels(h, x.device, 0)
    kpack = torch.cat([k.reshape(-1).to(torch.float32) for k in kernels])
    shapes = [int(v) for k in kernels for v in k.shape]
    re, im, _ = _cqt_ops().cqt_multirate(
        x.to(torch.float32), kpack, shapes, [int(o) for o in offsets], [int(v) for v in levels], int(hop_length),
        int(pad_amount), h, pad_mode, resolve_precision(precision))
    return re, im
