"""Which backend computes an operation.

Backends are modules exposing the operations of :mod:`nnaudio_fast.reference` under the same names and signatures
(flat ``(batch, time)`` problems), plus ``unavailable_reason()``, ``runs_on(device)`` and optionally ``missing_reason(op)`` (why one operation is
absent, e.g. an optional extension that is not built):

* ``reference`` -- :mod:`nnaudio_fast.reference`, plain PyTorch; always available, every device, every operation.
* ``triton``    -- :mod:`nnaudio_fast.kernels`, fused Triton kernels; CUDA tensors (CPU only under
  ``TRITON_INTERPRET=1``, for testing).
* ``cpp``       -- :mod:`nnaudio_fast.cpu`, the CPU fast path: the C++ multirate extension and FFT-based paths.

Choice, first match wins: the ``backend=`` argument, then the ``NNAUDIO_FAST_BACKEND`` environment variable, then
``auto``. ``auto`` tries ``triton`` for CUDA tensors and ``cpp`` for CPU tensors and quietly falls back to
``reference`` when that backend is missing or lacks the operation. A backend named explicitly (argument or
environment) that cannot run raises :class:`BackendUnavailableError` instead.

While a graph is being exported (``torch.export`` / ``torch.onnx.export(dynamo=True)``) or traced
(``torch.jit.trace``, the legacy ONNX exporter) every operation runs on ``reference``, whatever was requested: the
exported graph is plain tensor operations and runs wherever the graph goes (onnxruntime, another device).
Under ``torch.compile`` the usual choice stands (the fast backends are compile-able).

A choice is made once per (operation, device type, request) and cached, so a call costs a dictionary look-up and
``torch.compile`` traces through it without a graph break.
"""

from __future__ import annotations

import os
from types import ModuleType

import torch

BACKENDS = ("reference", "triton", "cpp")
ENV_VAR = "NNAUDIO_FAST_BACKEND"
_MODULES = {"reference": "nnaudio_fast.reference", "triton": "nnaudio_fast.kernels", "cpp": "nnaudio_fast.cpu"}
_AUTO_ORDER = {"cuda": ("triton", "reference"), "cpu": ("cpp", "reference")}


class BackendUnavailableError(RuntimeError):
    """An explicitly requested backend cannot run this operation here."""


def _import(name: str) -> ModuleType:
    # plain import statements: torch.compile traces them (importlib.import_module it would not)
    if name == "triton":
        from . import kernels as module
    elif name == "cpp":
        from . import cpu as module
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


def requested_backend(backend: str | None = None) -> str:
    """The backend name in force: the argument, else ``$NNAUDIO_FAST_BACKEND``, else ``'auto'``."""
    name = backend if backend is not None else os.environ.get(ENV_VAR, "").strip() or "auto"
    if name != "auto" and name not in BACKENDS:
        origin = "backend" if backend is not None else ENV_VAR
        raise ValueError(f"{origin}={name!r} is not a backend; use 'auto' or one of {BACKENDS}.")
    return name


def _why_not(name: str, op: str, device: torch.device) -> tuple[object | None, str | None]:
    mod, reason = _load(name)
    if mod is None:
        return None, reason
    if not mod.runs_on(device):
        return None, f"it does not run on {device.type} tensors"
    missing = mod.missing_reason(op) if hasattr(mod, "missing_reason") else None
    fn = getattr(mod, op, None)
    if missing or fn is None:
        return None, missing or f"it does not implement {op!r}"
    return fn, None


_CHOICES: dict[tuple, str] = {}


def select(op: str, device: torch.device | str, backend: str | None = None):
    """The function implementing ``op`` for tensors on ``device`` under the requested backend."""
    device = torch.device(device)
    reference = _import("reference")
    if reference.portable():
        return getattr(reference, op)
    name = _choice(op, device.type, backend, os.environ.get(ENV_VAR, ""))
    return getattr(_import(name), op)


@torch.compiler.assume_constant_result
def _choice(op: str, device_type: str, backend: str | None, env: str) -> str:
    """The name of the backend that runs ``op``, cached per arguments (``env``: ``$NNAUDIO_FAST_BACKEND``, part of
    the key). A constant for ``torch.compile``: availability checks import modules, which it cannot trace."""
    key = (op, device_type, backend, env)
    name = _CHOICES.get(key)
    if name is None:
        name = _CHOICES[key] = _choose(op, torch.device(device_type), backend)
    return name


def reset() -> None:
    """Forget the cached choices (after a backend's availability changed in this process, as tests simulate)."""
    _CHOICES.clear()


def _choose(op: str, device: torch.device, backend: str | None) -> str:
    name = requested_backend(backend)
    if name == "auto":
        for candidate in _AUTO_ORDER.get(device.type, ("reference",)):
            fn, _ = _why_not(candidate, op, device)
            if fn is not None:
                return candidate
        raise BackendUnavailableError(f"no backend implements {op!r}")  # unreachable: reference has every op
    fn, reason = _why_not(name, op, device)
    if fn is None:
        raise BackendUnavailableError(
            f"backend {name!r} was requested for {op!r} on {device.type}, but {reason}. "
            f"Use backend='auto' (or unset {ENV_VAR}) to fall back to the reference implementation."
        )
    return name


def backends() -> dict[str, str]:
    """Each backend's status on this machine: ``'available'`` or the reason it is not."""
    out = {}
    for name in BACKENDS:
        _, reason = _load(name)
        out[name] = "available" if reason is None else f"unavailable: {reason}"
    return out
