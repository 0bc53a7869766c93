"""Argument checks shared by the functional API, the modules, the basis builders and the backends: one clear
error per mistake, naming the argument, its value and the fix.

``ValueError`` for a value out of range (or of a kind of number that cannot be right); ``TypeError`` for a flag
that is not a bool (``center='False'`` is truthy, so it would otherwise be a silent wrong answer). Numbers must be
finite: ``inf`` and ``NaN`` are rejected wherever a real parameter is expected. Builders estimate the size of what
they would allocate first (:func:`array_size`), so a huge request fails in microseconds instead of after
gigabytes.
"""

from __future__ import annotations

import functools

import math
import numbers

import numpy as np
import torch

from . import precision as _precision


def _integer_hint(name: str, value) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"; use {name}={int(value)}"
    return ""


def positive_int(name: str, value, minimum: int = 1, hint: str = "") -> int:
    """``value`` as an ``int`` if it is an integer (not a bool, not a float) ``>= minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}{hint}{_integer_hint(name, value)}.")
    return int(value)


def _real(value) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)


def positive_float(name: str, value, hint: str = "") -> float:
    """``value`` as a ``float`` if it is a finite real number ``> 0``."""
    if not _real(value) or not 0 < value < math.inf:
        raise ValueError(f"{name}={value!r} must be a finite positive number{hint}.")
    return float(value)


def non_negative_float(name: str, value, hint: str = "") -> float:
    """``value`` as a ``float`` if it is a finite real number ``>= 0``."""
    if not _real(value) or not 0 <= value < math.inf:
        raise ValueError(f"{name}={value!r} must be a finite number >= 0{hint}.")
    return float(value)


def finite_float(name: str, value, hint: str = "") -> float:
    """``value`` as a ``float`` if it is a finite real number."""
    if not _real(value) or not math.isfinite(value):
        raise ValueError(f"{name}={value!r} must be a finite number{hint}.")
    return float(value)


def boolean(name: str, value, allow_none: bool = False) -> bool | None:
    """``value`` as a ``bool`` if it is one (or a NumPy bool, or the integers 0 and 1; ``None`` if allowed).

    Anything else raises ``TypeError``: a string such as ``'False'`` is truthy, so accepting it would silently do
    the opposite of what was asked."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral) and value in (0, 1)):
        return bool(value)
    allowed = "True, False or None" if allow_none else "True or False"
    fix = ""
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
        fix = f" (a non-empty string is always true); use {name}={value.strip().lower() in ('true', 'yes', '1')}"
    raise TypeError(f"{name}={value!r} must be {allowed}, not a {type(value).__name__}{fix}.")


def choice(name: str, value, options):
    """``value`` if it is one of ``options`` (strings, or None), else a ``ValueError`` listing them."""
    if not any(value is o or (isinstance(value, str) and isinstance(o, str) and value == o) for o in options):
        raise ValueError(f"{name}={value!r} is not supported; use one of {tuple(options)}.")
    return value


#: ``precision=`` check: see :mod:`nnaudio_fast.precision` (the one table of modes).
precision = _precision.check

PAD_MODES = ("constant", "reflect", "replicate", "circular")
_PAD_ALIASES = {"edge": "replicate", "wrap": "circular", "zeros": "constant"}


def canonical_pad_mode(pad_mode: str) -> str:
    """``pad_mode`` as one of :data:`PAD_MODES` (librosa's ``'edge'`` and ``'wrap'`` are accepted as aliases)."""
    mode = _PAD_ALIASES.get(pad_mode, pad_mode) if isinstance(pad_mode, str) else None
    if mode not in PAD_MODES:
        raise ValueError(
            f"pad_mode={pad_mode!r} is not supported; use one of {PAD_MODES} (or the aliases 'edge', 'wrap')."
        )
    return mode


#: Most values one basis (kernel matrix, filterbank, window) may hold: 2**28, 2 GiB in float64. An STFT with
#: ``n_fft=16384`` has 8193 × 16384 ≈ 2**27 values per kernel; ``n_fft=32768`` is over.
MAX_ELEMENTS = 2**28


def array_size(shape, what: str, cause: str, fix: str) -> None:
    """Raise a ``ValueError`` *before allocating* if an array of ``shape`` would hold more than
    :data:`MAX_ELEMENTS` values: "``cause`` needs ``what`` of ``shape`` (... GiB); ``fix``"."""
    n = 1
    for s in shape:
        n *= int(s)
    if n > MAX_ELEMENTS:
        dims = " × ".join(str(int(s)) for s in shape) + " = " if len(shape) > 1 else ""
        raise ValueError(
            f"{cause} needs {what} of {dims}{n:,} values ({n * 8 / 2**30:,.1f} GiB in float64), above the limit "
            f"of 2**28 values (2 GiB) per basis; {fix}."
        )


def compute_dtype(x: torch.Tensor, name: str = "waveform") -> torch.dtype:
    """The dtype a tensor input is computed in: float64 stays float64; float32, float16 and bfloat16 compute (and
    return) in float32.

    Raises ``ValueError`` for a non-tensor, a 0-d tensor, and complex, integer or bool dtypes (integer audio must
    be scaled by the caller: nothing here guesses its full scale). Values are not inspected: NaN and inf pass
    through to the output, as in torch. Empty inputs are accepted: an empty batch (``(0, time)``, or any leading
    dimension 0) gives a correctly shaped empty output; zero *samples* (``(..., 0)``) raise (see
    :func:`waveform_length`), as there is no frame to compute.
    """
    dtype = getattr(x, "dtype", None)
    if (dtype is torch.float32 or dtype is torch.float64) and isinstance(x, torch.Tensor) and x.dim():
        return dtype  # the common case first (read on every call)
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}; wrap it with torch.as_tensor(...).")
    if x.dim() == 0:
        raise ValueError(
            f"{name} is a 0-d tensor (shape (), a single number); pass a signal of shape (..., time), e.g. "
            f"{name}.reshape(1)."
        )
    if x.is_complex() or not x.is_floating_point():
        raise ValueError(
            f"{name} has dtype {x.dtype}; pass a real floating-point tensor (e.g. int16 audio as x.float() / 32768)."
        )
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def waveform_length(x: torch.Tensor, n_fft: int, center: bool, name: str = "waveform") -> int:
    if x.dim() == 0:
        raise ValueError(f"{name} is a 0-d tensor (shape ()); pass a signal of shape (..., time).")
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
    """nnAudio's accepted shapes ``(L,)``, ``(B, L)`` and ``(B, 1, L)`` as ``(B, L)``.

    A 0-d tensor or another shape raises ``ValueError``. ``B = 0`` (an empty batch) is accepted and gives an empty
    output of the right shape (``(0, n_bins, n_frames)``), see :func:`compute_dtype`.
    """
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


#: How :func:`support` names a CQT kernel matrix, its rows and its taps (the defaults name a filterbank).
CQT_SUPPORT = ("the kernels", "bins", "kernel width")


def support(value, rows: int, columns: int, what: str = "fbank", row_unit: str = "filters",
            column_unit: str = "frequency bins"):
    """A checked ``support`` certificate (``None`` or ``rows`` pairs ``0 <= lo <= hi <= columns``) as a tuple of
    int pairs (hashable, so backends can cache what they derive from it). ``what``, ``row_unit``, ``column_unit``
    name the matrix, its rows and its columns in the errors."""
    if value is None:
        return None
    names = (what, row_unit, column_unit)
    if isinstance(value, tuple):  # the layers pass the same tuple every call: checked once
        try:
            return _support_checked(value, rows, columns, names)
        except TypeError:  # unhashable items
            pass
    return _support_pairs(value, rows, columns, names)


@functools.lru_cache(maxsize=64)
def _support_checked(value: tuple, rows: int, columns: int, names: tuple):
    return _support_pairs(value, rows, columns, names)


def _support_pairs(value, rows: int, columns: int, names: tuple):
    what, row_unit, column_unit = names
    fix = "compute it with nnaudio_fast.bases.row_support"
    try:
        pairs = tuple((int(lo), int(hi)) for lo, hi in value)
    except (TypeError, ValueError):
        raise TypeError(f"support must be a sequence of (lo, hi) integer pairs, one per row of {what}, "
                        f"got {type(value).__name__}; {fix}.") from None
    if len(pairs) != rows:
        raise ValueError(f"support has {len(pairs)} (lo, hi) pairs but there are {rows} {row_unit} in {what} "
                         f"(one pair each); {fix}.")
    bad = next((i for i, (lo, hi) in enumerate(pairs) if not 0 <= lo <= hi <= columns), None)
    if bad is not None:
        raise ValueError(f"support[{bad}]={pairs[bad]} must satisfy 0 <= lo <= hi <= {column_unit} {columns}; {fix}.")
    return pairs
