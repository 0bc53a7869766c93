"""Triton kernels, installed as ``nnaudio_fast.kernels``: the ``triton`` backend of :mod:`nnaudio_fast.dispatch`.

Operations (flat ``(batch, time)`` problems, the signatures of :mod:`nnaudio_fast.reference` plus keyword-only
extras): :func:`stft`, :func:`spectrogram`, :func:`log_spectrogram`. Each takes ``precision=`` (see
:data:`PRECISIONS`; default: from ``torch.get_float32_matmul_precision()``) and ``engine=`` (``'auto'``, ``'direct'``,
``'fft'``; default ``$NNAUDIO_FAST_FOURIER_ENGINE`` or ``'auto'``).

Importing this package is cheap and never imports triton: the kernels (:mod:`.fourier`) and their custom ops
(:mod:`.fourier_ops`) load on first use. float64 problems are computed by the reference (tensor cores have no
float64 path that beats cuBLAS/cuFFT, and float64 callers want exactness).
"""

from __future__ import annotations

import importlib
import importlib.util
import os

import torch

from .. import reference

PRECISIONS = ("exact", "ieee", "tf32", "bf16")
_TORCH_PRECISIONS = {"highest": "exact", "high": "tf32", "medium": "bf16"}
ENGINES = ("auto", "direct", "fft")
ENGINE_ENV = "NNAUDIO_FAST_FOURIER_ENGINE"
#: ``log`` argument → factor ``c`` of ``c·ln max(S, amin)``.
LOG_SCALES = reference.LOG_SCALES

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


def resolve_precision(precision: str | None = None) -> str:
    """``precision`` as one of :data:`PRECISIONS`; ``None`` follows ``torch.get_float32_matmul_precision()``
    ('highest' → 'exact', 'high' → 'tf32', 'medium' → 'bf16'), whose names are accepted too."""
    if precision is None:
        precision = torch.get_float32_matmul_precision()
    mode = _TORCH_PRECISIONS.get(precision, precision)
    if mode not in PRECISIONS:
        raise ValueError(
            f"precision={precision!r} is not supported; use one of {PRECISIONS} or torch's names "
            f"{tuple(_TORCH_PRECISIONS)} (None follows torch.get_float32_matmul_precision())."
        )
    return mode


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
    if x.dtype == torch.float64:
        return reference.stft(x, wcos, wsin, hop_length, center, pad_mode)
    _check(x, wcos, wsin)
    return _ops().fourier_stft(x, wcos, wsin, hop_length, center, pad_mode, resolve_precision(precision),
                               resolve_engine(engine, wcos, wsin))


def spectrogram(x, wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, dft_window=None,
                *, precision=None, engine=None):
    """``fbank @ |STFT(x)|^power`` ``(B, M, T)`` (``fbank=None``: ``|STFT(x)|^power``), fused in one kernel."""
    if x.dtype == torch.float64:
        return reference.spectrogram(x, wcos, wsin, fbank, hop_length, center, pad_mode, power)
    _check(x, wcos, wsin, fbank)
    return _ops().fourier_spectrogram(x, wcos, wsin, fbank, hop_length, center, pad_mode, float(power), 0.0, 1.0,
                                      resolve_precision(precision), resolve_engine(engine, wcos, wsin))


def log_spectrogram(x, wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, log: str,
                    amin: float, dft_window=None, *, precision=None, engine=None):
    """``c·ln max(spectrogram, amin)`` (see :func:`nnaudio_fast.reference.log_spectrogram`). Without gradients the
    log is fused in the kernel's epilogue; with gradients it is a torch op on the (small) filterbank output, which
    autograd needs anyway."""
    if x.dtype == torch.float64:
        return reference.log_spectrogram(x, wcos, wsin, fbank, hop_length, center, pad_mode, power, log, amin)
    _check(x, wcos, wsin, fbank)
    scale = LOG_SCALES[log]
    precision, engine = resolve_precision(precision), resolve_engine(engine, wcos, wsin)
    ops = _ops()
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, wcos, wsin, fbank)):
        y = ops.fourier_spectrogram(x, wcos, wsin, fbank, hop_length, center, pad_mode, float(power), 0.0, 1.0,
                                    precision, engine)
        return scale * torch.log(torch.clamp(y, min=amin))
    return ops.fourier_spectrogram(x, wcos, wsin, fbank, hop_length, center, pad_mode, float(power), scale,
                                   float(amin), precision, engine)


for _op in (stft, spectrogram, log_spectrogram):
    _op.takes_precision = True  # nnaudio_fast.functional passes precision= to ops that declare it
del _op
