"""What every layer shares: bases stored nnAudio's way (float32 buffers or parameters, nnAudio's names and shapes),
used exactly in float64, and the facts about them that forward relies on.

Facts (is a basis still the one it was built as? which taps of a kernel are non-zero?) are decided when the bases
change, never by comparing tensors inside a traced forward: in eager mode a basis "changes" when its storage,
version counter (every in-place write: ``load_state_dict``, ``copy_``, DDP's buffer broadcast), device or dtype
does, and the facts are recomputed then, once; ``load_state_dict``, ``.to()`` and unpickling recompute them at
once. Under ``torch.compile``, ``torch.export`` and ``torch.jit.trace`` forward reads the facts as last decided
(Python constants the tracer guards on), so the traced graph has no data-dependent branch. Caches of derived
tensors stay out of what pickles.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import _checks, dispatch


def tracing() -> bool:
    """Whether forward is being traced (``torch.compile``/``torch.export``/``torch.jit.trace``), not run eagerly."""
    return torch.compiler.is_compiling() or torch.jit.is_tracing()


def owned_tensor(value, dtype: torch.dtype) -> torch.Tensor:
    """``value`` as a fresh, contiguous tensor with its own memory and ordinary strides (never the zero strides a
    NumPy view with size-1 axes gives, which DDP's in-place buffer broadcast rejects)."""
    src = torch.from_numpy(np.array(value, dtype=np.float64))
    return torch.empty(src.shape, dtype=dtype).copy_(src)


def checked_backend(backend):
    """``backend`` once its name is checked, so an unknown one fails at construction, not at the first call
    (:func:`nnaudio_fast.dispatch.requested_backend`)."""
    if backend is not None:
        dispatch.requested_backend(backend)
    return backend


def check_state_dtypes(module: nn.Module, state_dict, prefix: str) -> None:
    """A ``TypeError`` naming the key if ``state_dict`` would load an integer, bool or complex tensor into one of
    ``module``'s own real floating-point parameters or buffers: ``load_state_dict`` would cast it silently
    (kernels with values below 1 become 0, imaginary parts are dropped). Other float dtypes (float16, bfloat16,
    float64) are cast to the stored dtype, as torch does."""
    own = {**module._parameters, **module._buffers}
    for name, tensor in own.items():
        value = state_dict.get(prefix + name)
        if tensor is None or not isinstance(value, torch.Tensor) or not tensor.is_floating_point():
            continue
        if value.is_complex() or not value.is_floating_point():
            raise TypeError(
                f"state_dict[{prefix + name!r}] has dtype {value.dtype}, but {type(module).__name__}.{name} holds real "
                f"{tensor.dtype} values; loading would cast it (integers truncate kernel values to 0, bools and "
                "complex values lose them); load a checkpoint that holds floating-point tensors (float32, float16 "
                "or float64) for it."
            )


class BasisModule(nn.Module):
    """A layer whose bases are float32 buffers/parameters (so nnAudio checkpoints load) with exact float64 twins.

    A float64 input is computed with the exact float64 basis as long as the stored basis still holds the value it
    was built with (rounded to float32): not trained, not loaded from a checkpoint with other values. Gradients
    still reach a trainable basis (straight-through: ``b + (exact − b).detach()``); under tracing a trainable basis
    is used as stored (its value may change between calls of the traced graph). Otherwise the stored values are
    used, cast to the input's dtype.
    """

    def __init__(self, backend: str | None = None, precision: str | None = None):
        super().__init__()
        self.backend = checked_backend(backend)
        self.precision = _checks.precision(precision)
        self._exact: dict[str, torch.Tensor] = {}
        self._facts_key: tuple | None = None
        self._facts_value: dict = {}
        self._cache: dict = {}  # derived tensors (exact bases on a device, ...); never pickled
        self._generation = 0  # counts refresh_bases calls (see plan)

    # -- bases ------------------------------------------------------------------------------------------------
    def _add_basis(self, name: str, value, trainable: bool, persistent: bool = True) -> None:
        exact = owned_tensor(value, torch.float64)
        self._exact[name] = exact
        data = exact.to(torch.float32).contiguous()
        if trainable:
            self.register_parameter(name, nn.Parameter(data))
        else:
            self.register_buffer(name, data, persistent=persistent)
        self._facts_key = None

    def _basis(self, name: str, dtype: torch.dtype) -> torch.Tensor:
        """The basis ``name`` in ``dtype`` (exact in float64 where possible, see the class docstring)."""
        stored = getattr(self, name)
        if dtype != torch.float64 or name not in self._exact:
            return stored if stored.dtype == dtype else stored.to(dtype)
        stored64 = stored.to(dtype)
        if stored.requires_grad:
            # Trainable: compared per float64 call in eager mode (not part of the facts, which would otherwise be
            # recomputed after every optimizer step); as stored under tracing.
            if tracing() or not self._holds_built_value(name):
                return stored64
            return stored64 + (self._exact_tensor(name, dtype, stored.device) - stored64).detach()
        if not self._facts()["pristine"].get(name, False):
            return stored64
        return self._exact_tensor(name, dtype, stored.device)

    def _pristine(self, name: str) -> bool:
        """Whether the non-trainable basis ``name`` still holds the value it was built with (rounded to float32).
        Trainable bases are never pristine: their gradients need the kernel product."""
        if getattr(self, name).requires_grad:
            return False
        return self._facts()["pristine"].get(name, False)

    def _exact_tensor(self, name: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """The exact basis ``name`` built at construction, in ``dtype`` on ``device`` (cached, not pickled)."""
        if tracing():  # tensors made while tracing are fake under torch.export: never cache them
            return self._exact[name].to(device=device, dtype=dtype)
        key = ("exact", name, device, dtype)
        t = self._cache.get(key)
        if t is None:
            t = self._cache[key] = self._exact[name].to(device=device, dtype=dtype)
        return t

    def _holds_built_value(self, name: str) -> bool:
        stored = getattr(self, name)
        exact = self._exact[name]
        if stored.shape != exact.shape or stored.device.type == "meta":
            return False
        return torch.equal(stored.detach(), exact.to(torch.float32).to(device=stored.device, dtype=stored.dtype))

    # -- plans ------------------------------------------------------------------------------------------------
    def plan(self, key, x: torch.Tensor, children: tuple, make):
        """``make(dtype)``: a callable computing this layer's transform of ``x``'s kind (a
        :class:`nnaudio_fast.functional.common.BoundOp`), kept in the derived cache while the bases of this layer
        and of ``children`` (layers whose bases it reads), the dtype, device and requested backend stay the same.
        Made afresh each call when a basis is trainable (its values change every step; a float64 call derives its
        basis from them) and while tracing (the tracer sees the whole call). Read on every call: plain attribute
        reads and one dictionary look-up."""
        dtype = _checks.compute_dtype(x)
        if tracing():
            return make(dtype)
        state = [self._bases_generation()]
        for child in children:
            state.append(child._bases_generation())
        if None in state:  # a trainable basis
            return make(dtype)
        full = (key, dtype, x.device, dispatch.env_backend(), *state)
        found = self._cache.get(full)
        if found is None:
            if len(self._cache) > 32:  # children's bases changed many times: forget the old plans
                self._cache.clear()
            found = self._cache[full] = make(dtype)
        return found

    def _bases_generation(self):
        """The refresh generation once the facts are current (it then names the bases' state: every change of
        the bases key refreshes), or None while a basis is trainable."""
        own = self._bases_key()
        if None in own:
            return None
        if own != self._facts_key:
            self._refresh()
        return self._generation

    # -- facts ------------------------------------------------------------------------------------------------
    def _fixed_bases(self) -> list[str]:
        return [n for n in self._exact if not getattr(self, n).requires_grad]

    def _facts(self) -> dict:
        """The facts about the bases (see the module docstring): recomputed in eager mode when a basis changed,
        read as they are under tracing."""
        if tracing():
            return self._facts_value if self._facts_key is not None else self._default_facts()
        if self._bases_key() != self._facts_key:
            self._refresh()
        return self._facts_value

    def _bases_key(self) -> tuple:
        """Changes whenever a fixed basis may have changed: its storage or version counter (a new device or dtype
        is new storage), or whether it is trainable. Read on every eager call: kept to plain attribute reads."""
        params, buffers = self._parameters, self._buffers
        key = []
        for n in self._exact:
            t = params.get(n)
            if t is None:
                t = buffers[n]
            key.append(None if t.requires_grad else (t.data_ptr(), t._version))
        return tuple(key)

    def _default_facts(self) -> dict:
        """Facts that are true of any bases (nothing pristine): what tracing reads before any eager decision."""
        return {"pristine": {}}

    def _compute_facts(self) -> dict:
        """Which fixed bases still hold the value they were built with (read once per change)."""
        return {"pristine": {n: self._holds_built_value(n) for n in self._fixed_bases()}}

    def refresh_bases(self) -> None:
        """Re-decide the facts about the bases now (and drop the derived caches). Done automatically: on
        ``load_state_dict``, ``.to()``, unpickling, and in eager mode after any in-place write a version counter
        sees. Call it after editing a basis through ``.data`` (or a NumPy view), which version counters do not see:
        it also advances the fixed bases' version counters, so that every cache keyed on them (the CPU backend's
        native plans) sees the edit."""
        for name in self._fixed_bases():
            tensor = getattr(self, name)
            if not tensor.is_inference():
                torch.autograd.graph.increment_version(tensor)
        self._refresh()

    def _refresh(self) -> None:
        """:meth:`refresh_bases` for the changes version counters or new tensors already announce."""
        self._cache = {}
        self._facts_value = self._compute_facts()
        self._facts_key = self._bases_key()
        self._generation = getattr(self, "_generation", 0) + 1  # plans of layers that read these bases are stale

    # -- module hooks ---------------------------------------------------------------------------------------------
    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        check_state_dtypes(self, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._refresh()

    def _apply(self, fn, *args, **kwargs):
        out = super()._apply(fn, *args, **kwargs)
        self._refresh()  # .to()/.cuda()/.half() moved or cast the stored bases
        return out

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_cache"] = {}
        state["_facts_key"], state["_facts_value"] = None, {}
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if self._exact:
            self._refresh()

    def __prepare_scriptable__(self):
        raise TypeError(
            f"{type(self).__name__} cannot be compiled by torch.jit.script (its forward chooses a backend in "
            "Python). Use torch.jit.trace(layer, example_input), torch.export.export(layer, (example_input,)) or "
            "torch.compile(layer) instead; all three work."
        )
