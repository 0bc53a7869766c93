"""Helpers of the basis builders: read-only float64 arrays and window specifications."""

from __future__ import annotations

import numpy as np


def frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def is_window_spec(win) -> bool:
    """True for window specifications scipy understands (hashable, so results can be cached)."""
    return isinstance(win, (str, tuple, float))


def row_support(*matrices) -> tuple[tuple[int, int], ...]:
    """``((lo_0, hi_0), ...)``: for each row ``r`` the smallest column range ``[lo_r, hi_r)`` outside which every
    given matrix (NumPy arrays or tensors of one shape ``(rows, columns)``) is zero in row ``r``; ``(0, 0)`` for a
    row that is zero everywhere. Reads the values: call it when a basis is built or changes, never per call."""
    used = None
    for m in matrices:
        a = m.detach().cpu().numpy() if hasattr(m, "detach") else np.asarray(m)
        nz = a != 0
        used = nz if used is None else used | nz
    out = []
    for row in used:
        idx = np.flatnonzero(row)
        out.append((int(idx[0]), int(idx[-1]) + 1) if idx.size else (0, 0))
    return tuple(out)
