"""Argument checks shared by the functional API and the modules: one clear ``ValueError`` per mistake."""

from __future__ import annotations

import numbers

import torch


def positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}.")
    return int(value)


def positive_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name}={value!r} must be a positive number.")
    return float(value)


def non_negative_float(name: str, value, hint: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name}={value!r} must be a number >= 0{hint}.")
    return float(value)


def choice(name: str, value, options) -> str:
    if value not in options:
        raise ValueError(f"{name}={value!r} is not supported; use one of {tuple(options)}.")
    return value


#: ``precision=`` values: the fast backends' matmul precision (None follows torch.get_float32_matmul_precision()).
PRECISIONS = (None, "exact", "ieee", "tf32", "bf16", "highest", "high", "medium")


def precision(value):
    if value not in PRECISIONS:
        raise ValueError(
            f"precision={value!r} is not supported; use None (follow torch.get_float32_matmul_precision()), "
            "'exact' (FP32-class, 3xTF32 on tensor cores), 'ieee' (FP32 FMA), 'tf32' or 'bf16' (fast, ~1e-3 and "
            "~1e-2 relative error), or torch's names 'highest', 'high', 'medium'."
        )
    return value


def compute_dtype(x: torch.Tensor, name: str = "waveform") -> torch.dtype:
    """float64 stays float64; float32, float16 and bfloat16 compute (and return) in float32."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}; wrap it with torch.as_tensor(...).")
    if x.is_complex() or not x.is_floating_point():
        raise ValueError(
            f"{name} has dtype {x.dtype}; pass a real floating-point tensor (e.g. int16 audio as x.float() / 32768)."
        )
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def waveform_length(x: torch.Tensor, n_fft: int, center: bool, name: str = "waveform") -> int:
    length = x.shape[-1]
    if length < 1:
        raise ValueError(f"{name} has 0 samples along its last (time) axis; pass at least one sample.")
    if not center and length < n_fft:
        raise ValueError(
            f"{name} has {length} samples but center=False needs at least n_fft={n_fft}; "
            "pass a longer signal, a smaller n_fft, or center=True."
        )
    return length


def module_input(x: torch.Tensor, name: str = "x") -> torch.Tensor:
    """nnAudio's accepted shapes ``(L,)``, ``(B, L)`` and ``(B, 1, L)`` as ``(B, L)``."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}.")
    if x.dim() == 1:
        return x[None]
    if x.dim() == 2:
        return x
    if x.dim() == 3 and x.shape[1] == 1:
        return x[:, 0]
    raise ValueError(
        f"{name} has shape {tuple(x.shape)}; layers take (time,), (batch, time) or (batch, 1, time). "
        "For other leading dimensions use nnaudio_fast.functional, which accepts (..., time)."
    )
