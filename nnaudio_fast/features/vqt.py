"""``VQT`` layer (nnAudio 0.3.4 names, arguments, defaults, output formats and state_dict keys)."""

from __future__ import annotations

from .. import _checks, utils
from . import _nnaudio_layout as layout
from .cqt import _multirate_args, _MultirateLayer

__all__ = ["VQT"]


class VQT(_MultirateLayer):
    """Variable-Q transform (Schörkhuber et al. 2014) on an octave pyramid: :class:`~nnaudio_fast.CQT2010v2` with
    filter lengths ``λ_k = Q·sr / (f_k + γ/α)``, so low bins get wider bands (``gamma`` in Hz; 0 is the CQT,
    ``None`` librosa's ERB choice ``24.7·α/0.108``). Matches ``librosa.vqt`` (within about 1e-2; see
    :func:`nnaudio_fast.functional.cqt`).

    nnAudio's VQT designed its octave kernels at the original rate even after early downsampling (wrong kernels at
    44.1 kHz), ignored ``fmax`` and resampled octaves onto one time grid when the hop was not a multiple of
    ``2^(n_octaves − 1)``; here every octave's kernels are decimated copies of the exact full-rate ones on the
    level it runs at, and frames stay centred on ``t·hop_length`` for any hop.

    Parameters as :class:`~nnaudio_fast.CQT2010v2`, plus ``gamma`` (default 0). ``trainable=True`` makes the
    per-octave kernels parameters (nnAudio accepted the flag but kept them fixed).

    State: ``lowpass_filter``, ``early_downsample_filter`` (only where nnAudio has it), ``lenghts``, and for each
    octave ``i`` (0 = top) ``cqt_kernels_real_{i}``, ``cqt_kernels_imag_{i}`` ``(min(bins_per_octave, n_bins), 1,
    width_i)``.
    """

    def __init__(self, sr=22050, hop_length=512, fmin=32.70, fmax=None, n_bins=84, filter_scale=1,
                 bins_per_octave=12, norm=True, basis_norm=1, gamma=0, window="hann", pad_mode="reflect",
                 earlydownsample=True, trainable=False, output_format="Magnitude", verbose=True, backend=None,
                 nnaudio_compat=False, precision=None):
        super().__init__(backend, precision)
        if gamma is not None:
            gamma = _checks.non_negative_float("gamma", gamma, " (0: constant-Q; None: librosa's ERB choice)")
        lengths = self._init_bank(sr, fmin, fmax, n_bins, bins_per_octave, filter_scale, gamma, window,
                                  output_format, pad_mode, hop_length)
        self.norm, self.basis_norm = norm, basis_norm
        self.trainable = _checks.boolean("trainable", trainable)
        self.nnaudio_compat = _checks.boolean("nnaudio_compat", nnaudio_compat)
        earlydownsample = _checks.boolean("earlydownsample", earlydownsample)
        args = _multirate_args(sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale)
        if self.nnaudio_compat:
            self._init_nnaudio(args, basis_norm, window, earlydownsample, gamma)
            return
        gamma_nn = 0.0 if gamma is None else gamma  # only sizes the buffers like nnAudio's
        widths = layout.multirate_widths(*args, earlydownsample, gamma=gamma_nn)
        early = layout.early_downsample_factor(*args, earlydownsample) > 1
        stored = self._init_multirate(basis_norm, earlydownsample, lengths, widths, True, early)
        n_f = stored[0].shape[0] // 2
        self._centred = tuple(f"cqt_kernels_{part}_{i}" for i in range(len(stored)) for part in ("real", "imag"))
        for i, k in stored.items():
            self._add_basis(f"cqt_kernels_real_{i}", k[:n_f, None, :], self.trainable)
            self._add_basis(f"cqt_kernels_imag_{i}", k[n_f:, None, :], self.trainable)

    def _init_nnaudio(self, args, basis_norm, window, earlydownsample, gamma):
        """nnAudio's buffers with nnAudio's values: octave ``i``'s kernels designed at ``sr / 2^i`` (the original
        rate, even after early downsampling, as nnAudio does)."""
        if gamma is None:
            raise ValueError("gamma=None (librosa's ERB choice) has no nnAudio counterpart; pass a number with "
                             "nnaudio_compat=True.")
        q, fmin_t = self._init_nnaudio_filters(args, earlydownsample, gamma)
        n_f = min(self.bins_per_octave, self.n_bins)
        for i in range(self.n_octaves):
            k, _, _, _ = utils.create_cqt_kernels(q, self.sr / 2**i, fmin_t * 2.0**-i, n_f, self.bins_per_octave,
                                                  norm=basis_norm, window=window, topbin_check=False, gamma=gamma)
            self._add_basis(f"cqt_kernels_real_{i}", k.real[:, None, :], self.trainable)
            self._add_basis(f"cqt_kernels_imag_{i}", k.imag[:, None, :], self.trainable)

    def _nnaudio_kernels(self, dtype):
        return [self._group_kernels(i, dtype) for i in range(self.n_octaves)]

    def _group_kernels(self, g, dtype):
        return self._basis(f"cqt_kernels_real_{g}", dtype)[:, 0], self._basis(f"cqt_kernels_imag_{g}", dtype)[:, 0]

    def extra_repr(self) -> str:
        return super().extra_repr() + f", gamma={self.gamma}"


