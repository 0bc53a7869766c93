"""Inverse constant-Q transform: least squares through the CQT's own adjoint."""

from __future__ import annotations

import torch

from .. import _checks, bases, cqt_operator, geometry, linear_solvers
from .common import _basis
from .constant_q import CQT_NORMALIZATIONS, cqt_from_kernels, cqt_multirate_from_kernels, multirate_kernels


ICQT_SOLVERS = ("pcg", "cgnr", "lsqr")
# Floor of the preconditioner's symbol, relative to its maximum: chosen by measurement (README, "Inverse CQT"):
# 1e-2 .. 5e-2 all do well; 3e-2 is the best compromise over chirps, noise, hops 64-512 and pad modes.
ICQT_PRECONDITIONER_FLOOR = 3e-2


def split_cqt(cqt, n_bins: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A complex ``(..., n_bins, T)`` tensor, or real/imaginary pairs ``(..., n_bins, T, 2)``, as ``(re, im)``."""
    if not isinstance(cqt, torch.Tensor):
        raise ValueError(f"cqt must be a torch.Tensor, got {type(cqt).__name__}.")
    if cqt.is_complex():
        re, im = cqt.real, cqt.imag
    elif cqt.dim() >= 3 and cqt.shape[-1] == 2:
        re, im = cqt[..., 0], cqt[..., 1]
    else:
        raise ValueError(
            f"cqt has shape {tuple(cqt.shape)} and dtype {cqt.dtype}; the inverse needs complex coefficients: a "
            "complex tensor (..., n_bins, n_frames) or real/imaginary pairs (..., n_bins, n_frames, 2), as "
            "output_format='Complex' gives. A magnitude CQT has lost its phase and cannot be inverted this way."
        )
    if re.dim() < 2 or re.shape[-2] != n_bins:
        axis = "second-to-last" if cqt.is_complex() else "third-to-last"
        have = re.shape[-2] if re.dim() >= 2 else 0
        raise ValueError(
            f"cqt has shape {tuple(cqt.shape)}: {have} bins on its {axis} axis, but the transform to invert has "
            f"n_bins={n_bins}; pass the n_bins (or fmin, fmax, bins_per_octave) the CQT was computed with."
        )
    if re.shape[-1] < 1:
        raise ValueError(f"cqt has shape {tuple(cqt.shape)}: no frames to invert.")
    return re, im


def icqt_length(n_frames: int, hop_length: int, center: bool, width: int, length: int | None) -> int:
    """The signal length to reconstruct: ``length`` after checking that it gives ``n_frames`` frames, or by
    default the shortest that does (``hop·(n_frames − 1)``, plus the kernel ``width`` when not centred)."""
    lo = hop_length * (n_frames - 1) + (0 if center else width)
    if length is None:
        return max(lo, 1)
    length = _checks.positive_int("length", length)
    frames = geometry.n_frames(length, hop_length, width, center)  # CQT widths are even
    if frames != n_frames:
        raise ValueError(
            f"length={length} with hop_length={hop_length} (center={center}) gives {frames} CQT frames, but the "
            f"CQT has {n_frames}; use a length in [{max(lo, 1)}, {lo + hop_length - 1}], or check hop_length."
        )
    return length


def icqt_from_transform(cqt, transform, scale: torch.Tensor, length: int, symbol_args: tuple, n_iter: int = 32,
                        tol: float = 1e-6, damping: float = 0.0, solver: str = "pcg") -> torch.Tensor:
    """Least-squares inverse of the CQT that ``transform`` computes: ``argmin_x ‖C x − c‖² + λ‖x‖²``.

    Parameters
    ----------
    cqt : Tensor, complex ``(..., n_bins, T)`` or real ``(..., n_bins, T, 2)``
        The coefficients ``c``, normalised by ``scale``.
    transform : callable
        ``x (B, length) ↦ (re, im)`` each ``(B, n_bins, T)``, the L1-scale CQT, differentiable in ``x``; its
        vector-Jacobian product is the adjoint (:class:`nnaudio_fast.cqt_operator.CQTOperator`).
    scale : Tensor ``(n_bins,)``
        The normalisation ``s_k`` that ``cqt`` carries (``sqrt(λ_k)`` for 'librosa').
    length : int
        Samples to reconstruct (:func:`icqt_length`).
    symbol_args : tuple
        ``(design, norm, normalization_type, hop_length)`` (a :class:`nnaudio_fast.bases.CQTDesign` first) of
        :func:`nnaudio_fast.cqt_operator.frame_symbol`: the transform's design, for the preconditioner and the
        damping's scale.
    n_iter, tol, damping, solver
        See :func:`icqt`.

    Returns
    -------
    Tensor ``(..., length)``: float64 for float64/complex128 input, float32 otherwise. Differentiable with respect
    to ``cqt``: the gradient is that of the exact least-squares solution (:class:`_LeastSquaresSolution`).
    """
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    _checks.choice("solver", solver, ICQT_SOLVERS)
    tol = _checks.non_negative_float("tol", tol, " (0 runs all n_iter iterations)")
    damping = _checks.non_negative_float("damping", damping, " (0 is plain least squares)")
    re, im = split_cqt(cqt, scale.shape[0])
    dtype = torch.float64 if re.dtype == torch.float64 else torch.float32
    lead = tuple(re.shape[:-2])
    b = torch.stack((re.reshape((-1,) + re.shape[-2:]), im.reshape((-1,) + im.shape[-2:])), 1).to(dtype)
    if not bool(torch.isfinite(b.detach()).all()):
        raise ValueError("cqt has NaN or infinite values; the least-squares inverse needs finite coefficients.")
    batch, device = b.shape[0], b.device
    shape = (batch, length)
    if batch == 0:
        return torch.zeros(lead + (length,), dtype=dtype, device=device)
    op, precondition, lam = _normal_equations(transform, scale, batch, length, symbol_args, dtype, device, damping,
                                              solver)

    def solve(rhs):
        if solver == "lsqr":
            return linear_solvers.lsqr(op, op.adjoint, rhs, n_iter, shape, lam, precondition.sqrt, tol)[0]
        return linear_solvers.cgls(op, op.adjoint, rhs, n_iter, shape, lam,
                                   precondition if solver == "pcg" else None, tol)[0]

    def solve_transposed(grad):
        normal = linear_solvers.cg(lambda p: op.adjoint(op(p)) + lam * p, grad, n_iter,
                                   precondition if solver != "cgnr" else None, tol)[0]
        return op(normal)

    if b.requires_grad and torch.is_grad_enabled():
        x = _LeastSquaresSolution.apply(b, solve, solve_transposed)
    else:
        x = solve(b.detach())
    return x.reshape(lead + (length,))


def _normal_equations(transform, scale, batch, length, symbol_args, dtype, device, damping, solver):
    """The operator ``C`` (:class:`~nnaudio_fast.cqt_operator.CQTOperator`), the preconditioner the solver uses
    (None for 'cgnr' undamped) and the absolute damping ``λ``."""
    op = cqt_operator.CQTOperator(transform, scale, batch, length, dtype, device)
    if solver == "cgnr" and damping == 0:
        return op, None, 0.0
    design, norm = symbol_args[:2]
    width = design.kernels(norm)[0].shape[1]
    n_fft = cqt_operator.next_fast_len(length + width)
    symbol = _basis(cqt_operator.frame_symbol, tuple(symbol_args) + (n_fft,), dtype, device)
    lam = float(damping) * float(symbol.max())
    return op, cqt_operator.SymbolPreconditioner(symbol, length, n_fft, lam, ICQT_PRECONDITIONER_FLOOR), lam


class _LeastSquaresSolution(torch.autograd.Function):
    """``x = (CᴴC + λ)⁻¹ Cᴴ b`` with the gradient of the exact solution: ``b̄ = C (CᴴC + λ)⁻¹ x̄`` (one more
    conjugate-gradient solve of the normal equations, as many iterations and the same preconditioner)."""

    @staticmethod
    def forward(ctx, b, solve, solve_transposed):
        ctx.solve_transposed = solve_transposed
        return solve(b)

    @staticmethod
    def backward(ctx, grad):
        return ctx.solve_transposed(grad.contiguous()), None, None


def icqt(
    cqt: torch.Tensor,
    sr: float = 22050,
    hop_length: int = 512,
    fmin: float = 32.70,
    fmax: float | None = None,
    n_bins: int = 84,
    bins_per_octave: int = 12,
    filter_scale: float = 1,
    norm=1,
    window="hann",
    center: bool = True,
    pad_mode: str = "reflect",
    normalization_type: str = "librosa",
    gamma: float | None = 0.0,
    multirate: bool = True,
    length: int | None = None,
    n_iter: int = 32,
    tol: float = 1e-6,
    damping: float = 0.0,
    solver: str = "pcg",
    backend: str | None = None,
) -> torch.Tensor:
    """Inverse constant-Q (variable-Q with ``gamma``) transform by least squares: the signal ``x`` minimising
    ``‖C x − c‖² + λ‖x‖²``, ``C`` the transform :func:`cqt` computes with the same parameters.

    ``C`` is applied by the forward CQT code itself and ``Cᴴ`` by its vector-Jacobian product (exact to rounding;
    :mod:`nnaudio_fast.cqt_operator`), so the inverse follows whatever backend computes the CQT. The solver
    (:mod:`nnaudio_fast.linear_solvers`) is conjugate gradients on the normal equations, by default preconditioned
    with the inverse of the frame operator's Fourier symbol ``Σ_k |Ĝ_k(ω)|² / hop`` (floored at 3% of its
    maximum, applied by FFT). It starts from 0, so its first iterate is the optimally scaled preconditioned
    adjoint, a frame-bound-scaled synthesis. Measured on 1.5 s at 22.05 kHz, 84 bins from 32.70 Hz, 32 iterations
    (README, "Inverse CQT"): above 60 dB SNR at hop 128 on a chirp and on 60 Hz-1.5 kHz noise; at hop 512 the
    CQT has fewer coefficients than the signal has samples, and even the converged least-squares solution
    recovers only 8 dB (that noise) to 13 dB (the chirp). With ``pad_mode`` 'reflect' or 'replicate' the first
    and last kernel-length of an untapered signal are less well determined (README).

    Parameters
    ----------
    cqt : Tensor
        Complex ``(..., n_bins, n_frames)``, or real/imaginary pairs ``(..., n_bins, n_frames, 2)``
        (``output_format='Complex'``).
    sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center, pad_mode, gamma
        Those of the CQT to invert (see :func:`cqt`).
    normalization_type : {'librosa', 'convolutional', 'wrap'}
        That of the CQT to invert.
    multirate : bool
        Apply ``C`` as the multirate transform (octave pyramid; default, much faster) or the single-rate one.
        They are the same transform within about 1e-5, so either inverts either; ``center=False`` needs
        ``multirate=False``.
    length : int, optional
        Samples to reconstruct; must give ``n_frames`` frames. Default: ``hop_length · (n_frames − 1)``.
    n_iter : int
        Iterations (each one application of ``C`` and of ``Cᴴ``). Default 32.
    tol : float
        Stop an example early once its (preconditioned) normal-equation residual is ``tol`` times its initial
        value. Default 1e-6; 0 always runs ``n_iter`` iterations (and never synchronises a GPU).
    damping : float
        Tikhonov weight ``λ`` relative to the upper frame bound (the symbol's maximum). Default 0.
    solver : {'pcg', 'cgnr', 'lsqr'}
        'pcg': preconditioned CGLS (default); 'cgnr': plain CGLS; 'lsqr': preconditioned LSQR (Paige & Saunders;
        the same iterates in exact arithmetic, more robust in low precision at many iterations).
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.

    Returns
    -------
    Tensor ``(..., length)``: float64 for float64/complex128 input, float32 otherwise. Differentiable with respect
    to ``cqt``: the gradient is that of the least-squares solution, ``C (CᴴC + λ)⁻¹ x̄``, by one more solve.
    Where the inverse is underdetermined (fewer independent coefficients than samples, e.g. a large hop; ``CᴴC``
    singular) and ``damping=0``, that is the gradient of the minimum-norm solution ``(C⁺)ᵀx̄`` for cotangents
    ``x̄`` in the range of ``Cᴴ`` only; a part of ``x̄`` in the null space of ``C`` makes the backward system
    inconsistent and its result is not meaningful (tests/constant_q/test_icqt.py documents both; use
    ``damping > 0`` for a well-defined gradient there).
    """
    return icqt_with_width(cqt, sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center,
                 pad_mode, normalization_type, gamma, multirate, length, n_iter, tol, damping, solver, backend)


def icqt_with_width(cqt, sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center, pad_mode,
          normalization_type, gamma, multirate, length, n_iter, tol, damping, solver, backend, kernel_width=None):
    """:func:`icqt`; ``kernel_width`` sets the single-rate kernels' width (it places the frames when
    ``center=False``), as :class:`~nnaudio_fast.CQT1992v2` sets it for nnAudio's layout."""
    design = bases.CQTDesign.from_args(sr, fmin, fmax, n_bins, bins_per_octave, filter_scale, gamma, window)
    re, _ = split_cqt(cqt, design.n_bins)
    transform, scale, width, symbol_args = _cqt_transform(
        design, hop_length, norm, center, pad_mode, normalization_type, multirate, backend, kernel_width, re.dtype,
        re.device)
    length = icqt_length(re.shape[-1], hop_length, center, width, length)
    return icqt_from_transform(cqt, transform, scale, length, symbol_args, n_iter, tol, damping, solver)


def _cqt_transform(design: bases.CQTDesign, hop_length, norm, center, pad_mode, normalization_type, multirate,
                   backend, kernel_width, dtype, device):
    """The CQT these parameters define, as the inverses need it: ``(transform, scale, width, symbol_args)`` (see
    :func:`icqt_from_transform`; ``width`` places the frames when ``center=False``, 0 for the multirate one)."""
    hop_length = _checks.positive_int("hop_length", hop_length)
    center = _checks.boolean("center", center)
    multirate = _checks.boolean("multirate", multirate)
    _checks.choice("normalization_type", normalization_type, CQT_NORMALIZATIONS)
    pad_mode = _checks.canonical_pad_mode(pad_mode)
    dtype = torch.float64 if dtype in (torch.float64, torch.complex128) else torch.float32
    lengths = _basis(bases.CQTDesign.lengths, (design,), dtype, device)
    scale = cqt_operator.normalization_scale(lengths, normalization_type)
    if multirate:
        if not center:
            raise ValueError("center=False is only available for the single-rate transform; pass multirate=False.")
        plan = bases.cqt_multirate_plan(*design.fields(), norm, hop_length)
        kernels = _basis(multirate_kernels, (design, norm, hop_length), dtype, device)

        def transform(x):
            return cqt_multirate_from_kernels(x, kernels, plan, pad_mode, backend)

        width = 0
    else:
        kr, ki = _basis(bases.CQTDesign.kernels, (design, norm, kernel_width), dtype, device)

        def transform(x):
            return cqt_from_kernels(x, kr, ki, hop_length, center, pad_mode, backend)

        width = kr.shape[-1]
    return transform, scale, width, (design, norm, normalization_type, hop_length)


def ivqt(
    cqt: torch.Tensor,
    sr: float = 22050,
    hop_length: int = 512,
    fmin: float = 32.70,
    fmax: float | None = None,
    n_bins: int = 84,
    bins_per_octave: int = 12,
    gamma: float | None = 0.0,
    filter_scale: float = 1,
    norm=1,
    window="hann",
    pad_mode: str = "reflect",
    normalization_type: str = "librosa",
    multirate: bool = True,
    length: int | None = None,
    n_iter: int = 32,
    tol: float = 1e-6,
    damping: float = 0.0,
    solver: str = "pcg",
    backend: str | None = None,
) -> torch.Tensor:
    """Inverse variable-Q transform: :func:`icqt` for :func:`vqt` (bandwidth offset ``gamma`` in Hz; ``None``:
    librosa's ERB choice), arguments in :func:`vqt`'s order."""
    return icqt(cqt, sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, True,
                pad_mode, normalization_type, gamma, multirate, length, n_iter, tol, damping, solver, backend)
