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
