"""What every layer shares: bases stored nnAudio's way (float32 buffers or parameters, nnAudio's names and shapes),
used exactly in float64."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import _checks


class BasisModule(nn.Module):
    """A layer whose bases are float32 buffers/parameters (so nnAudio checkpoints load) with exact float64 twins.

    A float64 input is computed with the exact float64 basis as long as the stored basis still holds the value it
    was built with (rounded to float32): not trained, not loaded from a checkpoint with other values. Gradients
    still reach a trainable basis (straight-through: ``b + (exact − b).detach()``). Otherwise the stored values
    are used, cast to the input's dtype.
    """

    def __init__(self, backend: str | None = None, precision: str | None = None):
        super().__init__()
        self.backend = backend
        self.precision = _checks.precision(precision)
        self._exact: dict[str, torch.Tensor] = {}
        self._exact_check: dict[str, tuple] = {}

    def _add_basis(self, name: str, value, trainable: bool, persistent: bool = True) -> None:
        exact = torch.tensor(np.asarray(value), dtype=torch.float64)
        self._exact[name] = exact
        data = exact.to(torch.float32)
        if trainable:
            self.register_parameter(name, nn.Parameter(data))
        else:
            self.register_buffer(name, data, persistent=persistent)

    def _basis(self, name: str, dtype: torch.dtype) -> torch.Tensor:
        """The basis ``name`` in ``dtype`` (exact in float64 where possible, see the class docstring)."""
        stored = getattr(self, name)
        exact = self._exact.get(name)
        if dtype != torch.float64 or exact is None:
            return stored if stored.dtype == dtype else stored.to(dtype)
        key = (stored.data_ptr(), stored._version, stored.device, stored.dtype)
        cached = self._exact_check.get(name)
        if cached is None or cached[0] != key:
            candidate = exact.to(stored.device)
            pristine = stored.shape == candidate.shape and torch.equal(
                stored.detach().to(torch.float64), candidate.to(torch.float32).to(torch.float64)
            )
            cached = (key, candidate if pristine else None)
            self._exact_check[name] = cached
        stored64 = stored.to(dtype)
        if cached[1] is None:
            return stored64
        return stored64 + (cached[1] - stored64).detach() if stored.requires_grad else cached[1]

    def _apply(self, fn, *args, **kwargs):
        # .to()/.cuda() move the stored bases; drop the device-specific exact copies with them.
        self._exact_check = {}
        return super()._apply(fn, *args, **kwargs)
