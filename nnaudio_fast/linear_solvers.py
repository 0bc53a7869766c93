"""Batched least-squares solvers for real-linear operators: ``min ‖A x − b‖² + λ‖x‖²`` per example.

``x`` is ``(B, N)`` real; ``A`` maps it to any real tensor whose first axis is the batch (a complex operator is
passed as its real and imaginary parts stacked, which makes ``⟨u, v⟩ = Re Σ conj(u)·v`` the plain dot product);
``At`` is the exact transpose (adjoint) of ``A``. Each example has its own step sizes and its own convergence, but
the batch is computed together, in a fixed order: the result is deterministic and, up to rounding, does not depend
on which other examples share the batch.

* :func:`cgls` -- conjugate gradients on the normal equations ``(AᵀA + λI) x = Aᵀb`` (Hestenes & Stiefel 1952,
  "Methods of conjugate gradients for solving linear systems", J. Res. NBS 49(6)), in the CGLS arrangement that
  recurs the residual ``r = b − A x`` instead of forming ``AᵀA`` (Björck, "Numerical Methods for Least Squares
  Problems", SIAM 1996, §7.4), optionally preconditioned by an SPD ``M ≈ AᵀA + λI`` given as ``M⁻¹``.
* :func:`lsqr` -- Golub-Kahan bidiagonalisation (Paige & Saunders 1982, "LSQR: an algorithm for sparse linear
  equations and sparse least squares", ACM TOMS 8(1)), preconditioned on the right by ``M^{-1/2}`` (the same
  ``M``): it solves for ``z`` with ``x = M^{-1/2} z``. In exact arithmetic LSQR and preconditioned CGLS produce
  the same iterates; LSQR is the better conditioned recurrence in finite precision (Björck, Elfving & Strakoš
  1998, "Stability of conjugate gradient and Lanczos methods for linear least squares problems", SIMAX 19(3)).
* :func:`cg` -- conjugate gradients for a symmetric positive definite ``N z = g`` (the normal equations
  themselves; the backward pass of a least-squares solution needs them).

Both start from ``x₀ = 0``, so the first iterate is the optimally scaled (preconditioned) adjoint,
``x₁ = α M⁻¹Aᵀb`` with ``α`` minimising ``‖A x₁ − b‖``: a frame-bound-scaled synthesis, and the best warm start
of that form. Stopping: example ``i`` stops when its (preconditioned) normal-equation residual
``‖M^{-1/2}(Aᵀ(b − A x) − λx)‖`` falls below ``tol`` times its initial value, or after ``n_iter`` iterations.
``tol=0`` never stops early and never synchronises a GPU with the host.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

Operator = Callable[[torch.Tensor], torch.Tensor]

__all__ = ["cgls", "lsqr", "cg"]


def _dot(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Per-example inner products ``(B,)`` over all axes but the first."""
    return (u * v).reshape(u.shape[0], -1).sum(1)


def _col(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``(B,)`` scalars shaped to broadcast against ``like``."""
    return v.reshape((-1,) + (1,) * (like.dim() - 1))


def _safe_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """``num / den`` where ``den > 0``, else 0 (an example at its exact solution takes no more steps)."""
    ok = den > 0
    return torch.where(ok, num / torch.where(ok, den, torch.ones_like(den)), torch.zeros_like(num))


def cgls(A: Operator, At: Operator, b: torch.Tensor, n_iter: int, shape, damping: float = 0.0, precondition=None,
         tol: float = 0.0) -> tuple[torch.Tensor, int]:
    """(Preconditioned) CGLS: ``x`` minimising ``‖A x − b‖² + damping·‖x‖²``, and the iterations run.

    ``b``: ``(B, ...)``; ``shape``: that of ``x`` (``(B, N)``); ``precondition``: ``s ↦ M⁻¹ s`` (SPD), or None.

    Recurrences (``z = M⁻¹ s``): ``s₀ = Aᵀb``, ``p₀ = z₀``, ``γ₀ = ⟨s₀, z₀⟩``; per iteration
    ``q = A p``, ``α = ⟨s, p⟩ / (‖q‖² + λ‖p‖²)``, ``x += α p``, ``r −= α q``, ``s = Aᵀr − λx``, ``z = M⁻¹s``,
    ``γ' = ⟨s, z⟩``, ``p = z + (γ'/γ) p``. The step is the exact line search along ``p``; in exact arithmetic
    ``⟨s, p⟩ = γ`` (the textbook step), but once rounding has spoilt the conjugacy (iterating past convergence)
    the textbook step can overshoot and the iterates drift away exponentially; this one never increases
    ``‖A x − b‖² + λ‖x‖²``.
    """
    M = precondition or (lambda s: s)
    x = torch.zeros(shape, dtype=b.dtype, device=b.device)
    r = b.clone()
    s = At(r)
    z = M(s)
    p = z
    gamma = _dot(s, z)
    stop = tol * torch.sqrt(gamma)
    active = torch.ones_like(gamma, dtype=torch.bool)
    done = 0
    for done in range(1, n_iter + 1):
        q = A(p)
        alpha = torch.where(active, _safe_div(_dot(s, p), _dot(q, q) + damping * _dot(p, p)), torch.zeros_like(gamma))
        x = x + _col(alpha, x) * p
        r = r - _col(alpha, r) * q
        s = At(r) - damping * x if damping else At(r)
        z = M(s)
        gamma_next = _dot(s, z)
        if tol > 0:  # a converged example takes no more steps
            active = active & (torch.sqrt(gamma_next) > stop)
            if not bool(active.any()):
                break
        p = z + _col(_safe_div(gamma_next, gamma), z) * p
        gamma = gamma_next
    return x, done


def lsqr(A: Operator, At: Operator, b: torch.Tensor, n_iter: int, shape, damping: float = 0.0,
         precondition_sqrt=None, tol: float = 0.0) -> tuple[torch.Tensor, int]:
    """(Right-preconditioned) LSQR: ``x`` minimising ``‖A x − b‖² + damping·‖x‖²``, and the iterations run.

    ``precondition_sqrt``: ``v ↦ M^{-1/2} v`` (symmetric), or None. LSQR runs on ``x = S z``, ``S = M^{-1/2}``,
    with the damping as extra rows: ``Â z = (A S z, √λ S z)`` against ``(b, 0)``, so the penalty is on ``‖x‖``
    whatever the preconditioner.

    Paige & Saunders' recurrences, per example: ``β₁u₁ = b``, ``α₁v₁ = Âᵀu₁``, ``w₁ = v₁``; per iteration
    ``βu = Â v − αu``, ``α'v = Âᵀu − βv``; the plane rotation ``ρ = √(ρ̄² + β²)``, ``c = ρ̄/ρ``, ``s = β/ρ``,
    ``θ = sα'``, ``ρ̄ = −cα'``, ``φ = cφ̄``, ``φ̄ = sφ̄``; then ``z += (φ/ρ) w``, ``w = v − (θ/ρ) w``.
    ``|φ̄ α' c|`` is the normal-equation residual ``‖Âᵀ(b̂ − Â z)‖``.
    """
    S = precondition_sqrt or (lambda v: v)
    batch = b.shape[0]
    out_shape = b.shape
    root = float(damping) ** 0.5

    def Ah(v):
        x = S(v)
        y = A(x).reshape(batch, -1)
        return torch.cat((y, root * x.reshape(batch, -1)), 1) if root else y

    def Aht(u):
        m = u.shape[1] - (int(np.prod(shape[1:])) if root else 0)
        g = At(u[:, :m].reshape(out_shape))
        return S(g + root * u[:, m:].reshape(shape) if root else g)

    def normalise(v):
        n = torch.sqrt(_dot(v, v))
        return _col(_safe_div(torch.ones_like(n), n), v) * v, n

    bh = b.reshape(batch, -1)
    if root:
        bh = torch.cat((bh, bh.new_zeros((batch, int(np.prod(shape[1:]))))), 1)
    u, beta = normalise(bh)
    v, alpha = normalise(Aht(u))
    w = v
    z = torch.zeros(shape, dtype=b.dtype, device=b.device)
    phi_bar, rho_bar = beta, alpha
    stop = tol * alpha * beta  # the initial normal residual ‖Âᵀb̂‖
    active = torch.ones_like(beta, dtype=torch.bool)
    done = 0
    for done in range(1, n_iter + 1):
        u, beta = normalise(Ah(v) - _col(alpha, u) * u)
        v, alpha_next = normalise(Aht(u) - _col(beta, v) * v)
        rho = torch.sqrt(rho_bar * rho_bar + beta * beta)
        c, s = _safe_div(rho_bar, rho), _safe_div(beta, rho)
        theta = s * alpha_next
        rho_bar = -c * alpha_next
        phi = c * phi_bar
        phi_bar = s * phi_bar
        z = z + _col(torch.where(active, _safe_div(phi, rho), torch.zeros_like(phi)), z) * w
        w = v - _col(_safe_div(theta, rho), w) * w
        alpha = alpha_next
        if tol > 0:
            active = active & (torch.abs(phi_bar * alpha * c) > stop)
            if not bool(active.any()):
                break
    return S(z), done


def cg(N: Operator, g: torch.Tensor, n_iter: int, precondition=None, tol: float = 0.0) -> tuple[torch.Tensor, int]:
    """(Preconditioned) conjugate gradients for ``N z = g`` per example, ``N`` symmetric positive definite
    (``(B, ...) → (B, ...)``), from ``z = 0``, with the exact line-search step of :func:`cgls`; ``tol`` as there."""
    M = precondition or (lambda v: v)
    z = torch.zeros_like(g)
    r = g.clone()
    y = M(r)
    p = y
    gamma = _dot(r, y)
    stop = tol * torch.sqrt(gamma)
    active = torch.ones_like(gamma, dtype=torch.bool)
    done = 0
    for done in range(1, n_iter + 1):
        q = N(p)
        alpha = torch.where(active, _safe_div(_dot(r, p), _dot(p, q)), torch.zeros_like(gamma))
        z = z + _col(alpha, z) * p
        r = r - _col(alpha, r) * q
        y = M(r)
        gamma_next = _dot(r, y)
        if tol > 0:
            active = active & (torch.sqrt(gamma_next) > stop)
            if not bool(active.any()):
                break
        p = y + _col(_safe_div(gamma_next, gamma), y) * p
        gamma = gamma_next
    return z, done
