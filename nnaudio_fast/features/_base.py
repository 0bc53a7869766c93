"""What every layer shares: bases stored nnAudio's way (float32 buffers or parameters, nnAudio's names and shapes),
used exactly in float64."""

from __future__ import annotations

import weakref

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
        self._exact_on_device: dict[tuple, torch.Tensor] = {}
        self._pristine_cache: dict[str, tuple] = {}

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
        candidate = self._exact_tensor(name, torch.float64, stored.device)
        stored64 = stored.to(dtype)
        # Compared on every float64 call (O(basis) next to an O(signal x basis) transform): a version counter would
        # miss writes through ``.data`` (as gradcheck makes), and identity caches are fooled by reused memory.
        pristine = stored.shape == candidate.shape and torch.equal(
            stored64.detach(), candidate.to(torch.float32).to(torch.float64)
        )
        if not pristine:
            return stored64
        return stored64 + (candidate - stored64).detach() if stored.requires_grad else candidate

    def _pristine(self, name: str) -> bool:
        """Whether the non-trainable basis ``name`` still holds the value it was built with (rounded to float32).

        Cached per tensor and version counter, so on CUDA only the first call (and the first after an in-place
        write such as ``load_state_dict``) synchronises. Trainable bases are never pristine: their gradients need
        the kernel product.
        """
        stored = getattr(self, name)
        if stored.requires_grad or name not in self._exact:
            return False
        cached = self._pristine_cache.get(name)
        if cached is not None and cached[0]() is stored and cached[1] == (stored._version, stored.device, stored.dtype):
            return cached[2]
        exact = self._exact[name].to(torch.float32).to(device=stored.device, dtype=stored.dtype)
        ok = stored.shape == exact.shape and torch.equal(stored, exact)
        self._pristine_cache[name] = (weakref.ref(stored), (stored._version, stored.device, stored.dtype), ok)
        return ok

    def _exact_tensor(self, name: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """The exact basis ``name`` built at construction, in ``dtype`` on ``device`` (cached)."""
        key = (name, device, dtype)
        t = self._exact_on_device.get(key)
        if t is None:
            t = self._exact_on_device[key] = self._exact[name].to(device=device, dtype=dtype)
        return t

    def _apply(self, fn, *args, **kwargs):
        # .to()/.cuda() move the stored bases; drop the device-specific exact copies with them.
        self._exact_on_device = {}
        self._pristine_cache = {}
        return super()._apply(fn, *args, **kwargs)
