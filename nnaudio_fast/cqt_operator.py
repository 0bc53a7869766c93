"""The constant-Q transform as a linear operator, its exact adjoint, and a preconditioner from its frame operator.

``C`` maps a real signal ``x`` ``(B, N)`` to complex coefficients ``c = s_k · CQT(x)`` ``(B, n_bins, T)`` (``s_k``
the normalisation: ``sqrt(λ_k)`` for 'librosa'), held as the real tensor ``(B, 2, n_bins, T)`` (real parts, then
imaginary parts). It is real-linear, padding included (every pad mode is linear in the signal), and the inner
product of the coefficient space is ``⟨u, v⟩ = Re Σ conj(u)·v``, the plain dot product of those real tensors. Its
adjoint ``Cᴴ`` is therefore the transpose of the real map, which is what reverse-mode autograd computes: ``Cᴴ y``
is the vector-Jacobian product of the very forward code that produced the CQT (the reference matmuls on every
device, the C++ pyramid's adjoint on CPU, whatever a backend registers as its backward), exact to rounding. The
graph is built once per operator, at ``x = 0``, and kept (``retain_graph``): each adjoint costs one backward pass.

Frame operator symbol. For one bin with correlation taps ``g_k`` sampled every ``a = hop`` samples,
``CᴴC x[n] = Re Σ_t conj(g_k[n − t·a]) Σ_m x[t·a + m] g_k[m]``. Averaged over the ``a`` shifts of the frame grid
(the alias-free term of the Walnut representation of a filter-bank frame operator: Balazs, Dörfler, Holighaus,
Jaillet & Velasco 2011, "Theory, implementation and applications of nonstationary Gabor frames", J. Comput. Appl.
Math. 236(6); Holighaus, Dörfler, Velasco & Grill 2013, "A framework for invertible, real-time constant-Q
transforms", IEEE TASLP 21(4)), this is the convolution with the Fourier multiplier

    P(ω) = (1 / 2a) Σ_k s_k² (|Ĝ_k(ω)|² + |Ĝ_k(−ω)|²),

the ``1/2`` and the mirrored term coming from the real part (the operator acts on real signals). When every
filter's band is narrower than ``1/a`` cycles per sample ("painless" sampling) ``CᴴC`` *is* this multiplier (up to
the signal's ends); otherwise the aliasing terms are what it leaves out. ``P`` is even and non-negative, so the
circulant it defines on an FFT grid longer than the signal, compressed to the signal, is symmetric positive
semi-definite; with a floor it is a valid preconditioner for conjugate gradients (:class:`SymbolPreconditioner`).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from . import bases

__all__ = ["CQTOperator", "SymbolPreconditioner", "frame_symbol", "normalization_scale", "next_fast_len"]


def next_fast_len(n: int) -> int:
    """The smallest 2·3·5-smooth integer >= ``n`` (a fast FFT size)."""
    n = max(int(n), 1)
    best, p5 = 2 * n, 1
    while p5 < 2 * n:
        p35 = p5
        while p35 < 2 * n:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def normalization_scale(lengths: torch.Tensor, normalization_type: str) -> torch.Tensor:
    """Per-bin factor ``s_k`` of :func:`nnaudio_fast.functional.cqt_output` for filter lengths ``λ_k``:
    ``sqrt(λ_k)`` ('librosa'), 1 ('convolutional'), 2 ('wrap')."""
    if normalization_type == "librosa":
        return torch.sqrt(lengths)
    return torch.full_like(lengths, 2.0 if normalization_type == "wrap" else 1.0)


@functools.lru_cache(maxsize=16)
def frame_symbol(design: bases.CQTDesign, norm, normalization_type: str, hop_length: int, n_fft: int) -> np.ndarray:
    """``P(ω)`` (module docstring) of the CQT of ``design`` (kernels normalised by ``norm``, coefficients by
    ``normalization_type``, frames every ``hop_length``) on the one-sided grid ``ω = 2πj / n_fft``,
    ``j = 0 … n_fft // 2``, float64, read-only. The exact single-rate kernels define it (the multirate transform
    is the same operator within about 1e-5)."""
    kr, ki = design.kernels(norm)
    scale = normalization_scale(torch.from_numpy(np.array(design.lengths())), normalization_type).numpy()
    if kr.shape[1] > n_fft:
        raise ValueError(f"n_fft={n_fft} must be at least the kernel width {kr.shape[1]}.")
    g = np.fft.fft((kr - 1j * ki) * scale[:, None], n=n_fft, axis=-1)
    p = np.abs(g) ** 2
    p = p + np.roll(p[:, ::-1], 1, axis=-1)  # |Ĝ(ω)|² + |Ĝ(−ω)|²
    out = p.sum(0)[: n_fft // 2 + 1] / (2.0 * hop_length)
    out.setflags(write=False)
    return out


class CQTOperator:
    """``C`` and ``Cᴴ`` for one signal length and batch size (see the module docstring).

    Parameters
    ----------
    transform : callable
        ``x (B, N) ↦ (re, im)``, each ``(B, n_bins, T)``, differentiable with respect to ``x``: the CQT at L1
        scale (:func:`nnaudio_fast.functional.cqt_from_kernels`, ``cqt_multirate_from_kernels``, or a layer's).
    scale : Tensor ``(n_bins,)``
        Per-bin normalisation ``s_k``.
    batch, length : int
        ``B`` and ``N``.
    dtype, device
        Those of the signals.
    """

    def __init__(self, transform, scale: torch.Tensor, batch: int, length: int, dtype, device):
        self._transform = transform
        self._scale = scale.to(device=device, dtype=dtype)[:, None]
        self._x0 = torch.zeros(batch, length, dtype=dtype, device=device, requires_grad=True)
        self._y0 = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``C x``: ``(B, N)`` → ``(B, 2, n_bins, T)``."""
        with torch.no_grad():
            re, im = self._transform(x)
            return torch.stack((re * self._scale, im * self._scale), 1)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """``Cᴴ y``: ``(B, 2, n_bins, T)`` → ``(B, N)``, the vector-Jacobian product of :meth:`__call__`."""
        if self._y0 is None:
            with torch.enable_grad():
                re, im = self._transform(self._x0)
                self._y0 = torch.stack((re * self._scale, im * self._scale), 1)
        (g,) = torch.autograd.grad(self._y0, self._x0, y, retain_graph=True)
        return g


class SymbolPreconditioner:
    """``M⁻¹ s`` with ``M`` the circulant of ``P(ω) + λ + floor·max P`` on an ``n_fft``-point grid, compressed to
    the signal's ``length`` samples (symmetric positive definite); :meth:`sqrt` applies ``M^{-1/2}``.

    The floor keeps the inverse bounded where the CQT sees (almost) nothing, below ``fmin`` and above the top bin,
    and where ``P`` stops describing ``CᴴC`` (bins wider than the frame rate). ``λ`` is the Tikhonov damping.
    """

    def __init__(self, symbol: torch.Tensor, length: int, n_fft: int, damping: float, floor: float):
        self.length, self.n_fft = int(length), int(n_fft)
        self.inverse = 1.0 / (symbol + damping + floor * symbol.max())
        self.inverse_sqrt = torch.sqrt(self.inverse)

    def _apply(self, s: torch.Tensor, multiplier: torch.Tensor) -> torch.Tensor:
        spec = torch.fft.rfft(s, n=self.n_fft) * multiplier
        return torch.fft.irfft(spec, n=self.n_fft)[..., : self.length]

    def __call__(self, s: torch.Tensor) -> torch.Tensor:
        return self._apply(s, self.inverse)

    def sqrt(self, s: torch.Tensor) -> torch.Tensor:
        return self._apply(s, self.inverse_sqrt)
