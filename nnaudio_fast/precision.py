"""The precision modes of the fast backends: one table that validation (_checks), every backend and every kernel
file reads. Adding a mode is one row here; the tests read its bound from the row.

``precision=`` on a layer or functional entry point selects how float32 products are computed on a backend that
has a choice (the Triton kernels' tensor-core dot products). The reference and the CPU backend compute every
float32 product in IEEE float32 whatever is asked (torch's matmul settings apply to the reference's matmuls);
float64 is always computed in float64.

``None`` follows ``torch.get_float32_matmul_precision()`` through :data:`TORCH_NAMES`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mode:
    name: str
    #: ``tl.dot(input_precision=...)`` in the Triton kernels.
    triton_dot: str
    #: The same for the multirate CQT's pyramid filter (speed modes keep TF32 there: a bf16 lowpass would cost
    #: ~1e-2 per level, compounding over the octaves).
    triton_pyramid_dot: str
    #: Smallest ``n_fft`` for which the Triton backend's ``auto`` engine takes cuFFT for a plain-DFT basis (from the
    #: floors in shared/notes/gpu-performance.md; not yet measured on a GPU).
    fft_min_n_fft: int
    #: Relative error bound of the Triton backend's float32 outputs against float64 (the bound the Triton tests
    #: assert, tests/backends/test_triton*.py).
    rtol: float
    description: str


MODES: dict[str, Mode] = {
    m.name: m
    for m in (
        Mode("exact", "tf32x3", "tf32x3", 512, 1e-5, "FP32-class: three TF32 products on tensor cores"),
        Mode("ieee", "ieee", "ieee", 256, 1e-5, "FP32 FMA, no tensor cores"),
        Mode("tf32", "tf32", "tf32", 2048, 5e-3, "one TF32 product (~1e-3 relative error)"),
        Mode("bf16", "bf16", "tf32", 4096, 3e-2, "bfloat16 operands (~1e-2 relative error)"),
    )
}
#: torch's ``set_float32_matmul_precision`` names, accepted as aliases.
TORCH_NAMES = {"highest": "exact", "high": "tf32", "medium": "bf16"}
#: Every accepted ``precision=`` value.
ACCEPTED = (None, *MODES, *TORCH_NAMES)


def check(value):
    """``value`` if it is an accepted ``precision=`` (see :data:`ACCEPTED`), else a ``ValueError`` naming them."""
    if isinstance(value, str) and value in ACCEPTED or value is None:
        return value
    modes = ", ".join(f"{m.name!r} ({m.description})" for m in MODES.values())
    raise ValueError(
        f"precision={value!r} is not supported; use None (follow torch.get_float32_matmul_precision()), {modes}, "
        f"or torch's names {tuple(TORCH_NAMES)}."
    )


def resolve(value, torch_precision: str) -> str:
    """The mode name in force: ``value``, or for ``None`` the mode of ``torch_precision`` (torch's setting)."""
    check(value)
    name = torch_precision if value is None else value
    return TORCH_NAMES.get(name, name)
