"""What the constant-Q layers share (:mod:`nnaudio_fast.features.cqt`, :mod:`nnaudio_fast.features.vqt`): the
kernel bank and its facts, the output scaling, the inverse, checkpoint loading (kernels of another width recentred)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .. import _checks, bases, cqt_operator, functional, utils
from ..functional import inverse_constant_q
from . import _nnaudio_layout as layout
from ._base import BasisModule, check_state_dtypes


def _recentre(t: torch.Tensor, shape, key: str) -> torch.Tensor:
    """A time-domain kernel ``(..., w)`` centred at ``w // 2`` re-laid into width ``shape[-1]``."""
    w_in, w_out = t.shape[-1], shape[-1]
    if tuple(t.shape[:-1]) != tuple(shape[:-1]) or w_in == w_out:
        return t  # equal, or a mismatch load_state_dict reports itself
    shift = w_out // 2 - w_in // 2
    if shift >= 0:
        return F.pad(t, (shift, w_out - w_in - shift))
    cut = t[..., -shift : -shift + w_out]
    if int(torch.count_nonzero(t)) != int(torch.count_nonzero(cut)):
        raise ValueError(
            f"{key} has width {w_in} with non-zero taps outside the {w_out} taps this layer uses; build the layer "
            "with the checkpoint's parameters (sr, fmin, n_bins, bins_per_octave, filter_scale)."
        )
    return cut


def _halfband_buffer() -> np.ndarray:
    h = bases.halfband_lowpass()
    out = np.zeros(layout.NNAUDIO_FILTER_TAPS)
    c = layout.NNAUDIO_FILTER_TAPS // 2
    out[c - len(h) // 2 : c + len(h) // 2 + 1] = h
    return out[None, None, :]


class _CQTLayer(BasisModule):
    """Shared set-up, output formatting and checkpoint loading."""

    _kept_on_load = ("lowpass_filter", "early_downsample_filter")
    _centred: tuple = ()

    def _init_bank(self, sr, fmin, fmax, n_bins, bins_per_octave, filter_scale, gamma, window, output_format,
                   pad_mode, hop_length):
        self._design = bases.CQTDesign.from_args(sr, fmin, fmax, n_bins, bins_per_octave, filter_scale, gamma,
                                                 window)  # validates (Nyquist, window, sizes, ...)
        self.sr, self.n_bins, self.bins_per_octave = self._design.sr, self._design.n_bins, self._design.bins_per_octave
        self.fmin, self.fmax = self._design.fmin, fmax
        self.filter_scale = self._design.filter_scale
        self.gamma = gamma
        self.window = window
        self.hop_length = _checks.positive_int("hop_length", hop_length)
        self.output_format = _checks.choice("output_format", output_format, functional.OUTPUT_FORMATS)
        _checks.canonical_pad_mode(pad_mode)
        self.pad_mode = pad_mode
        lengths = self._design.lengths()
        self.frequencies = bases.cqt_frequencies(self.n_bins, self.fmin, self.bins_per_octave)
        return lengths

    def _single_rate_bank(self, norm, window, lengths, nnaudio_compat):
        """``(kr, ki, lengths)`` of the single-rate layers: librosa's wavelets laid out in nnAudio's kernel width,
        or with ``nnaudio_compat`` nnAudio's own kernels (integer lengths) and its ``lenghts``."""
        self.nnaudio_compat = _checks.boolean("nnaudio_compat", nnaudio_compat)
        width = layout.single_rate_width(self.sr, self.fmin, self.n_bins, self.bins_per_octave, self.filter_scale)
        bases.constant_q.check_kernel_matrix(self.n_bins, width, self._design.describe())
        if self.nnaudio_compat:
            k, _, nn_lengths, _ = utils.create_cqt_kernels(layout._q(self.filter_scale, self.bins_per_octave), self.sr,
                                                           self.fmin, self.n_bins, self.bins_per_octave, norm, window)
            return k.real, k.imag, nn_lengths.numpy()
        kr, ki = self._design.kernels(norm, width)
        return kr, ki, lengths

    def _output(self, re, im, output_format, normalization_type):
        return functional.cqt_output(re, im, self._basis("lenghts", re.dtype), normalization_type, output_format)

    def _checked_input(self, x, output_format, normalization_type):
        output_format = output_format or self.output_format
        _checks.choice("output_format", output_format, functional.OUTPUT_FORMATS)
        _checks.choice("normalization_type", normalization_type, functional.CQT_NORMALIZATIONS)
        x = _checks.module_input(x)
        return x, _checks.compute_dtype(x), output_format

    def inverse(self, X, length=None, normalization_type="librosa", n_iter=32, tol=1e-6, damping=0.0,
                solver="pcg"):
        """The signal whose CQT under this layer is closest to ``X`` in least squares (optionally damped).

        The operator is this layer's own transform (its current kernels, trained or loaded, and its backend) and
        its exact adjoint by autograd; see :func:`nnaudio_fast.functional.icqt` for the solver and the arguments.
        ``X``: ``(batch, n_bins, frames, 2)`` as ``forward(x, output_format='Complex')`` returns (any leading
        dimensions), or complex ``(..., n_bins, frames)``; ``normalization_type`` as in the forward call.
        Returns ``(..., length)``, ``length`` defaulting to ``hop_length · (frames − 1)``. Differentiable with
        respect to ``X`` (not to the kernels).
        """
        _checks.choice("normalization_type", normalization_type, functional.CQT_NORMALIZATIONS)
        re, _ = inverse_constant_q.split_cqt(X, self.n_bins)
        dtype = torch.float64 if re.dtype == torch.float64 else torch.float32
        kernels = [k.detach() for k in self._kernels(dtype)]
        center = getattr(self, "center", True)
        length = functional.icqt_length(re.shape[-1], self.hop_length, center, getattr(self, "kernel_width", 0),
                                        length)
        scale = cqt_operator.normalization_scale(self._basis("lenghts", dtype).detach(), normalization_type)
        design = (self._design, getattr(self, "basis_norm", self.norm), normalization_type, self.hop_length)
        return functional.icqt_from_transform(X, lambda x: self._transform(x, kernels), scale, length, design,
                                              n_iter, tol, damping, solver)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        check_state_dtypes(self, state_dict, prefix)
        for name in self._kept_on_load:
            if prefix + name in state_dict and hasattr(self, name):
                state_dict[prefix + name] = getattr(self, name).detach().clone()
        for name in self._centred:
            key = prefix + name
            if key in state_dict:
                state_dict[key] = _recentre(state_dict[key], getattr(self, name).shape, key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return (f"sr={self.sr:g}, hop_length={self.hop_length}, fmin={self.fmin:g}, n_bins={self.n_bins}, "
                f"bins_per_octave={self.bins_per_octave}, output_format={self.output_format!r}")
