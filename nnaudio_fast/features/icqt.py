"""``iCQT`` and ``iVQT``: inverse constant-Q / variable-Q transforms by least squares (nnAudio2's ``iCQT`` name
and arguments; nnAudio2 has no ``iVQT``)."""

from __future__ import annotations

import torch
from torch import nn

from .. import _checks, bases, functional, utils
from ..functional import inverse_constant_q
from . import _nnaudio_layout as layout
from ._base import check_state_dtypes, checked_backend, owned_tensor

__all__ = ["iCQT", "iVQT"]


class iCQT(nn.Module):
    """Waveform from a complex CQT, by least squares through the CQT's own operator and its exact adjoint.

    Solves ``min_x ‖C x − c‖² + λ‖x‖²`` with ``C`` the CQT these parameters define (:func:`nnaudio_fast.functional.
    cqt`, which :class:`~nnaudio_fast.CQT1992v2` and :class:`~nnaudio_fast.CQT2010v2` compute within 1e-5 of each
    other) by conjugate gradients on the normal equations, preconditioned by the inverse of the frame operator's
    Fourier symbol (:func:`nnaudio_fast.functional.icqt`). To invert a layer's output with that layer's own kernels
    (trained ones included), use its ``inverse`` method instead.

    Parameters
    ----------
    sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center, pad_mode
        Those of the CQT to invert (nnAudio2's names and defaults; ``norm`` is the kernel normalisation).
    n_iter : int
        Solver iterations. Default 32 (nnAudio2's Landweber iterations; these converge much faster).
    verbose : bool
        Accepted for compatibility; nothing is printed.
    normalization_type : {'librosa', 'convolutional', 'wrap'}
        That of the CQT to invert. Default 'librosa'.
    tol, damping, solver
        See :func:`nnaudio_fast.functional.icqt` (defaults ``1e-6``, ``0``, ``'pcg'``).
    multirate : bool, optional
        Apply the CQT on the octave pyramid (fast) or at the full rate. Default: multirate when ``center``.
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.

    Input ``(batch, n_bins, frames, 2)`` as ``CQT1992v2(output_format='Complex')`` returns, or complex
    ``(batch, n_bins, frames)``; any leading dimensions. ``forward(CQT, length=None)`` returns
    ``(batch, length)``, ``length`` defaulting to ``hop_length · (frames − 1)``; differentiable with respect to
    ``CQT`` (the gradient of the exact least-squares solution).

    State: none. nnAudio2's ``iCQT`` buffers (``lengths``, ``cqt_kernels_real``, ``cqt_kernels_imag``, ``alpha``)
    are accepted and ignored when loading its checkpoints. ``nnaudio_compat=True`` instead reproduces nnAudio2
    2.0.3's iCQT (nnAudio's kernels, ``n_iter`` Landweber steps with its ``alpha``) and holds those buffers, so
    its checkpoints give its output.
    """

    _nnaudio2_buffers = ("lengths", "cqt_kernels_real", "cqt_kernels_imag", "alpha")

    def __init__(self, sr=22050, hop_length=512, fmin=32.70, fmax=None, n_bins=84, bins_per_octave=12,
                 filter_scale=1, norm=1, window="hann", center=True, pad_mode="reflect", n_iter=32, verbose=True,
                 normalization_type="librosa", tol=1e-6, damping=0.0, solver="pcg", multirate=None, backend=None,
                 nnaudio_compat=False):
        super().__init__()
        self._setup(sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center,
                    pad_mode, n_iter, normalization_type, tol, damping, solver, multirate, backend, 0.0)
        self.nnaudio_compat = _checks.boolean("nnaudio_compat", nnaudio_compat)
        if self.nnaudio_compat:
            self._init_nnaudio2()

    # -- nnaudio_compat=True: nnAudio2 2.0.3's iCQT ------------------------------------------------------------------
    def _init_nnaudio2(self):
        """nnAudio2's buffers: nnAudio's CQT1992v2 kernels and lengths, and the Landweber step ``alpha = 1.8 / B``
        with ``B`` the norm of ``CᴴC`` by power iteration (nnAudio2 starts it from unseeded noise; here from a
        fixed seed; a loaded checkpoint brings its own ``alpha``)."""
        q = layout._q(self.filter_scale, self.bins_per_octave)
        k, width, lengths, _ = utils.create_cqt_kernels(q, self.sr, self.fmin, self.n_bins, self.bins_per_octave,
                                                        self.norm, self.window)
        self._kernel_width = width
        self.register_buffer("lengths", owned_tensor(lengths.numpy(), torch.float32))
        self.register_buffer("cqt_kernels_real", owned_tensor(k.real[:, None, :], torch.float32))
        self.register_buffer("cqt_kernels_imag", owned_tensor(k.imag[:, None, :], torch.float32))
        generator = torch.Generator().manual_seed(0)
        v = torch.randn(1, 8 * width, generator=generator)
        norm = 1.0
        with torch.no_grad():
            for _ in range(21):
                w = self._nnaudio2_adjoint(self._nnaudio2_analysis(v), v.shape[-1])
                norm = float(w.norm())
                if norm == 0.0:
                    break
                v = w / norm
        self.register_buffer("alpha", torch.tensor(1.8 / max(norm, 1e-6)))

    def _nnaudio2_analysis(self, x):
        """``C x``: the single-rate CQT times ``sqrt(lengths)``, as (real, imag) pairs ``(B, n_bins, T, 2)``."""
        re, im = functional.cqt_from_kernels(x, self.cqt_kernels_real[:, 0].to(x.dtype),
                                             self.cqt_kernels_imag[:, 0].to(x.dtype), self.hop_length, self.center,
                                             self.pad_mode, self.backend)
        scale = torch.sqrt(self.lengths.to(x.dtype))[:, None]
        return torch.stack((re * scale, im * scale), -1)

    def _nnaudio2_adjoint(self, c, length):
        """``Cᴴ c`` by the vector-Jacobian product of the (linear) analysis."""
        with torch.enable_grad():
            x = torch.zeros(c.shape[0], length, dtype=c.dtype, device=c.device, requires_grad=True)
            (g,) = torch.autograd.grad(self._nnaudio2_analysis(x), x, c)
        return g

    def _nnaudio2_forward(self, CQT, length):
        """nnAudio2's reconstruction: ``n_iter`` Landweber steps ``x ← x + alpha·Cᴴ(c − C x)`` from ``x = 0``;
        default length ``hop_length · (frames − 1) + 1``."""
        c = torch.view_as_real(CQT) if CQT.is_complex() else CQT
        dtype = _checks.compute_dtype(c, "CQT")
        lead, c = c.shape[:-3], c.reshape((-1,) + tuple(c.shape[-3:])).to(dtype)
        n = length if length is not None else (c.shape[-2] - 1) * self.hop_length + 1
        x = c.new_zeros(c.shape[0], n)
        for _ in range(self.n_iter):
            x = x + self.alpha.to(dtype) * self._nnaudio2_adjoint(c - self._nnaudio2_analysis(x), n)
        return x.reshape(tuple(lead) + (n,))

    def _setup(self, sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center,
               pad_mode, n_iter, normalization_type, tol, damping, solver, multirate, backend, gamma):
        design = bases.CQTDesign.from_args(sr, fmin, fmax, n_bins, bins_per_octave, filter_scale, gamma, window)
        self.sr, self.n_bins, self.bins_per_octave = design.sr, design.n_bins, design.bins_per_octave
        self.hop_length = _checks.positive_int("hop_length", hop_length)
        self.fmin, self.fmax, self.filter_scale = design.fmin, fmax, design.filter_scale
        self.norm, self.window, self.gamma = norm, window, gamma
        self.center = _checks.boolean("center", center)
        _checks.canonical_pad_mode(pad_mode)
        self.pad_mode = pad_mode
        self.n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
        self.normalization_type = _checks.choice("normalization_type", normalization_type,
                                                 functional.CQT_NORMALIZATIONS)
        self.tol = _checks.non_negative_float("tol", tol)
        self.damping = _checks.non_negative_float("damping", damping)
        self.solver = _checks.choice("solver", solver, functional.ICQT_SOLVERS)
        multirate = _checks.boolean("multirate", multirate, allow_none=True)
        self.multirate = self.center if multirate is None else multirate
        if self.multirate and not self.center:
            raise ValueError("center=False is only available for the single-rate transform; pass multirate=False.")
        self.backend = checked_backend(backend)
        bases.cqt_lengths(self.sr, self.fmin, self.n_bins, self.bins_per_octave, self.filter_scale, gamma, window)
        # single-rate frames of CQT1992v2 with center=False start at its (nnAudio-layout) kernel width
        self._kernel_width = layout.single_rate_width(self.sr, self.fmin, self.n_bins, self.bins_per_octave,
                                                      self.filter_scale)
        bases.constant_q.check_kernel_matrix(self.n_bins, self._kernel_width, design.describe())
        self.frequencies = bases.cqt_frequencies(self.n_bins, self.fmin, self.bins_per_octave)

    def forward(self, CQT, length=None):
        """``CQT``: ``(..., n_bins, frames, 2)`` or complex ``(..., n_bins, frames)``. Returns ``(..., length)``."""
        if getattr(self, "nnaudio_compat", False):
            return self._nnaudio2_forward(CQT, length)
        return inverse_constant_q.icqt_with_width(
            CQT, self.sr, self.hop_length, self.fmin, None, self.n_bins, self.bins_per_octave, self.filter_scale,
            self.norm, self.window, self.center, self.pad_mode, self.normalization_type, self.gamma, self.multirate,
            length, self.n_iter, self.tol, self.damping, self.solver, self.backend, self._kernel_width,
        )

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        check_state_dtypes(self, state_dict, prefix)
        if not getattr(self, "nnaudio_compat", False):  # our solver has no state: nnAudio2's buffers are ignored
            for name in self._nnaudio2_buffers:
                state_dict.pop(prefix + name, None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return (f"sr={self.sr:g}, hop_length={self.hop_length}, fmin={self.fmin:g}, n_bins={self.n_bins}, "
                f"bins_per_octave={self.bins_per_octave}, n_iter={self.n_iter}, solver={self.solver!r}")


class iVQT(iCQT):
    """Inverse variable-Q transform: :class:`iCQT` for :class:`~nnaudio_fast.VQT` / :func:`nnaudio_fast.
    functional.vqt`, with the bandwidth offset ``gamma`` (Hz; 0 is the CQT, ``None`` librosa's ERB choice).

    Arguments as :class:`iCQT`, ``gamma`` after ``bins_per_octave`` (the order of :func:`~nnaudio_fast.functional.
    vqt`). There is no ``center`` (a VQT's frames are centred).
    """

    def __init__(self, sr=22050, hop_length=512, fmin=32.70, fmax=None, n_bins=84, bins_per_octave=12, gamma=0.0,
                 filter_scale=1, norm=1, window="hann", pad_mode="reflect", n_iter=32, verbose=True,
                 normalization_type="librosa", tol=1e-6, damping=0.0, solver="pcg", multirate=True, backend=None):
        nn.Module.__init__(self)
        self._setup(sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, True,
                    pad_mode, n_iter, normalization_type, tol, damping, solver, multirate, backend,
                    None if gamma is None else _checks.non_negative_float("gamma", gamma))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", gamma={self.gamma}"
