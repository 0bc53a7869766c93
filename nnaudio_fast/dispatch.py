"""Which backend computes an operation, and what a backend must provide (the contract).

A backend is a module exposing operations of the table :data:`OPS` under its names, with the reference's signature
(:mod:`nnaudio_fast.reference`; flat ``(batch, time)`` problems; extra keyword-only parameters with defaults are
allowed), plus ``unavailable_reason()`` (None when usable), ``runs_on(device)``, ``DTYPES`` (the floating dtypes it
computes in) and optionally ``missing_reason(op)`` (why one operation is absent, e.g. an optional extension that is
not built). ``tests/backends/test_contract.py`` checks every backend module against the table.

* ``reference`` -- :mod:`nnaudio_fast.reference`, plain PyTorch; always available, every device, every operation.
* ``triton``    -- :mod:`nnaudio_fast.kernels`, fused Triton kernels; CUDA tensors (CPU only under
  ``TRITON_INTERPRET=1``, for testing); float32 (float64 problems run on the reference).
* ``cpp``       -- :mod:`nnaudio_fast.cpp`, the CPU fast path: the C++ multirate extension and FFT-based paths.

Backends share nothing but this contract and the neutral modules :mod:`nnaudio_fast.primitives` (padding,
framing, overlap-add, magnitude), :mod:`nnaudio_fast.geometry` (sizes), :mod:`nnaudio_fast.precision` (the modes)
and :mod:`nnaudio_fast._checks` (validation); they never import each other. An
operation with ``parts`` (the multirate CQT needs a ``pyramid``) that a backend lacks, while it has the parts, runs
as the reference's algorithm on that backend's parts: dispatch composes them.

Choice, first match wins: the ``backend=`` argument, then the ``NNAUDIO_FAST_BACKEND`` environment variable, then
``auto``. ``auto`` tries ``triton`` for CUDA tensors and ``cpp`` for CPU tensors and quietly falls back to
``reference`` when that backend is missing, lacks the operation, or does not compute in the problem's dtype (so
float64 is always exact). A backend named explicitly (argument or environment) that cannot run the operation
raises :class:`BackendUnavailableError` instead; one that only lacks the dtype hands the problem to the reference.

While a graph is being exported (``torch.export`` / ``torch.onnx.export(dynamo=True)``) or traced
(``torch.jit.trace``, the legacy ONNX exporter) every operation runs on ``reference``, whatever was requested: the
exported graph is plain tensor operations and runs wherever the graph goes (onnxruntime, another device).
Under ``torch.compile`` the usual choice stands (the fast backends are compile-able).

A choice is made once per (operation, device type, dtype, request) and cached, so a call costs a dictionary
look-up and ``torch.compile`` traces through it without a graph break.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from types import ModuleType

import torch

from .primitives import portable


@dataclass(frozen=True)
class Op:
    """One operation of the contract: its reference signature's parameters (in order; ``precision`` keyword-only),
    and the operations it can be composed from (see the module docstring)."""

    name: str
    params: tuple[str, ...]
    parts: tuple[str, ...] = ()


_FOURIER = ("x", "wcos", "wsin")
_FRAMING = ("hop_length", "center", "pad_mode")
OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("stft", _FOURIER + _FRAMING + ("dft_window", "precision")),
        Op("spectrogram", _FOURIER + ("fbank",) + _FRAMING + ("power", "dft_window", "precision", "support")),
        Op("log_spectrogram", _FOURIER + ("fbank",) + _FRAMING + ("power", "log", "amin", "dft_window", "precision",
                                                                   "support")),
        Op("istft", ("re", "im", "icos", "isin", "window", "hop_length", "center", "length", "dft")),
        Op("cqt_single", ("x", "kr", "ki") + _FRAMING + ("precision", "support")),
        Op("pyramid", ("x", "h", "n_levels", "precision")),
        Op("pyramid_adjoint", ("grads", "h", "length", "precision")),
        Op("cqt_multirate", ("x", "kernels", "offsets", "levels", "hop_length", "pad_amount", "h", "pad_mode",
                             "precision", "pyramid"), parts=("pyramid",)),
    )
}
#: Keyword-only parameters of the contract, None by default. ``precision``: see nnaudio_fast.precision.
#: ``support``: ``support[r] = (lo, hi)``, the caller's certificate that row ``r`` of the filterbank / CQT kernels
#: is zero outside columns (taps) ``[lo, hi)``, so a backend may skip the rest; passed for fixed bases only.
KEYWORD_ONLY = ("precision", "support")
#: Every operation marked here takes ``precision=`` (keyword-only) on every backend (see nnaudio_fast.precision).
PRECISION_OPS = tuple(name for name, op in OPS.items() if "precision" in op.params)

BACKENDS = ("reference", "triton", "cpp")
ENV_VAR = "NNAUDIO_FAST_BACKEND"
_MODULES = {"reference": "nnaudio_fast.reference", "triton": "nnaudio_fast.kernels", "cpp": "nnaudio_fast.cpp"}
_AUTO_ORDER = {"cuda": ("triton", "reference"), "cpu": ("cpp", "reference")}


class BackendUnavailableError(RuntimeError):
    """An explicitly requested backend cannot run this operation here."""


def _import(name: str) -> ModuleType:
    # plain import statements: torch.compile traces them (importlib.import_module it would not)
    if name == "triton":
        from . import kernels as module
    elif name == "cpp":
        from . import cpp as module
    else:
        from . import reference as module
    return module


def _load(name: str) -> tuple[ModuleType | None, str | None]:
    """The backend module, or ``None`` and the reason it cannot be used at all."""
    try:
        mod = _import(name)
    except ImportError as exc:
        return None, f"its module {_MODULES[name]} failed to import ({exc})"
    reason = mod.unavailable_reason() if hasattr(mod, "unavailable_reason") else None
    return (None, reason) if reason else (mod, None)


# os.environ's own mapping (encoded name -> encoded value, kept current by os.environ's setters): its ``.get`` of
# an unset variable raises and catches a KeyError, several microseconds on a per-call path.
_ENV_DATA = getattr(os.environ, "_data", None)
_ENV_KEY = os.environ.encodekey(ENV_VAR) if _ENV_DATA is not None else None


def env_backend() -> str:
    """``$NNAUDIO_FAST_BACKEND`` as set now (``''`` when unset), cheap enough to read on every call."""
    if _ENV_DATA is None:
        return os.environ.get(ENV_VAR, "")
    value = _ENV_DATA.get(_ENV_KEY)
    return "" if value is None else os.environ.decodevalue(value)


def requested_backend(backend: str | None = None) -> str:
    """The backend name in force: the argument, else ``$NNAUDIO_FAST_BACKEND``, else ``'auto'``."""
    name = backend if backend is not None else os.environ.get(ENV_VAR, "").strip() or "auto"
    if name != "auto" and name not in BACKENDS:
        origin = "backend" if backend is not None else ENV_VAR
        raise ValueError(f"{origin}={name!r} is not a backend; use 'auto' or one of {BACKENDS}.")
    return name


def _has(mod: ModuleType, op: str) -> bool:
    return hasattr(mod, op) and (not hasattr(mod, "missing_reason") or mod.missing_reason(op) is None)


def _resolve(name: str, op: str, device: torch.device) -> tuple[str | None, str | None]:
    """``(choice, None)`` if backend ``name`` can run ``op`` on ``device`` -- ``choice`` is ``name``, or
    ``'reference+name'`` when only its parts are there -- else ``(None, why not)``."""
    mod, reason = _load(name)
    if mod is None:
        return None, reason
    if not mod.runs_on(device):
        return None, f"it does not run on {device.type} tensors"
    if _has(mod, op):
        return name, None
    parts = OPS[op].parts
    if parts and all(_has(mod, p) for p in parts):
        return f"reference+{name}", None
    missing = [mod.missing_reason(o) for o in (op,) + parts if hasattr(mod, "missing_reason")]
    return None, next((m for m in missing if m), f"it does not implement {op!r}")


_CHOICES: dict[tuple, str] = {}


def select(op: str, device: torch.device | str, backend: str | None = None, dtype: torch.dtype = torch.float32):
    """The function implementing ``op`` for ``dtype`` tensors on ``device`` under the requested backend."""
    if op not in OPS:
        raise ValueError(f"{op!r} is not an operation of the backend contract; use one of {tuple(OPS)}.")
    if portable():
        return getattr(_import("reference"), op)
    name = _choice(op, torch.device(device).type, str(dtype), backend, os.environ.get(ENV_VAR, ""))
    if name.startswith("reference+"):  # the reference's algorithm on the backend's parts
        parts = _import(name[len("reference+"):])
        return functools.partial(getattr(_import("reference"), op), **{p: getattr(parts, p) for p in OPS[op].parts})
    return getattr(_import(name), op)


@torch.compiler.assume_constant_result
def _choice(op: str, device_type: str, dtype: str, backend: str | None, env: str) -> str:
    """The backend that runs ``op`` (see :func:`_resolve`), cached per arguments (``env``: ``$NNAUDIO_FAST_BACKEND``,
    part of the key). A constant for ``torch.compile``: availability checks import modules, which it cannot trace."""
    key = (op, device_type, dtype, backend, env)
    name = _CHOICES.get(key)
    if name is None:
        name = _CHOICES[key] = _choose(op, torch.device(device_type), dtype, backend)
    return name


def reset() -> None:
    """Forget the cached choices (after a backend's availability changed in this process, as tests simulate)."""
    _CHOICES.clear()


def _computes(name: str, dtype: str) -> bool:
    return dtype in {str(d) for d in _import(name.split("+")[-1]).DTYPES}


def _choose(op: str, device: torch.device, dtype: str, backend: str | None) -> str:
    name = requested_backend(backend)
    if name == "auto":
        for candidate in _AUTO_ORDER.get(device.type, ("reference",)):
            choice, _ = _resolve(candidate, op, device)
            if choice is not None and _computes(choice, dtype):
                return choice
        return "reference"
    choice, reason = _resolve(name, op, device)
    if choice is None:
        raise BackendUnavailableError(
            f"backend {name!r} was requested for {op!r} on {device.type}, but {reason}. "
            f"Use backend='auto' (or unset {ENV_VAR}) to fall back to the reference implementation."
        )
    return choice if _computes(choice, dtype) else "reference"


def backends() -> dict[str, str]:
    """Each backend's status on this machine: ``'available'`` or the reason it is not."""
    out = {}
    for name in BACKENDS:
        _, reason = _load(name)
        out[name] = "available" if reason is None else f"unavailable: {reason}"
    return out
