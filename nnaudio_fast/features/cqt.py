"""Constant-Q layers ``CQT1992v2`` (= ``CQT``), ``CQT2010v2``, ``CQT1992``, ``CQT2010`` (nnAudio 0.3.4 names,
arguments, defaults, output formats and state_dict keys).

What they compute (see :func:`nnaudio_fast.functional.cqt`): librosa's CQT kernels (``librosa.filters.wavelet``:
fractional lengths, ``Q = filter_scale / α``, L1 norm) correlated with the signal, times ``sqrt(λ_k)`` for
``normalization_type='librosa'``. The ``v2`` layers are the two ways to compute it: ``CQT1992v2`` every bin at
the full rate, ``CQT2010v2`` octave by octave on a half-band pyramid (within about 1e-5 of each other, any hop).
``CQT1992`` and ``CQT2010`` keep nnAudio's older parametrisation (boxcar STFT kernels ``wsin``/``wcos`` times
frequency-domain CQT kernels, both optionally trainable): the effective time-domain kernel is the one-sided
(analytic) part of the exact one, so they equal the ``v2`` layers up to the kernels' negative-frequency leakage.

nnAudio bugs fixed here: the wrong scale when early downsampling triggers (44.1 kHz defaults); hops not divisible
by ``2^(n_octaves − 1)``; ``fmax`` ignored by the multirate layers; window / norm ignored; short inputs crashing
with ``pad_mode='reflect'`` (padding repeats like ``numpy.pad``); no clear error for bins above Nyquist.

Checkpoints. Keys and shapes are nnAudio's (``lenghts`` included), so an nnAudio ``state_dict`` loads with
``strict=True``. Loaded kernels are used as given (trained or not); time-domain kernels of another width are
zero-padded (or cropped where zero) about their centre. Loaded ``lenghts`` (``normalization_type='librosa'``'s
per-bin lengths) are used as given, so a checkpoint reproduces its model: an nnAudio ``CQT1992v2`` state_dict
gives nnAudio's output within 1e-6. Loading keeps our ``lowpass_filter`` / ``early_downsample_filter`` (our
half-band filter, for the record; nnAudio's firwin2 filters are unused), so multirate layers loaded from nnAudio
compute our pyramid with nnAudio's top-octave kernels, not nnAudio's own multirate output.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .. import _checks, bases, functional, utils
from ..functional import constant_q
from . import _nnaudio_layout as layout
from . import _streams
from ._base import owned_tensor, tracing
from ._cqt_layer import _CQTLayer, _halfband_buffer

__all__ = ["CQT1992v2", "CQT", "CQT2010v2", "CQT1992", "CQT2010"]


# ----------------------------------------------------------------------------------------------------------------
# single rate
# ----------------------------------------------------------------------------------------------------------------
class CQT1992v2(_CQTLayer):
    """Constant-Q transform, every bin correlated with its full-rate kernel (Brown 1991).

    Parameters
    ----------
    sr : float
        Sampling rate. Default 22050.
    hop_length : int
        Frame step (any positive integer). Default 512.
    fmin : float
        Lowest bin (Hz). Default 32.70 (C1).
    fmax : float, optional
        If given, ``n_bins = ceil(bins_per_octave · log2(fmax / fmin))`` and ``n_bins`` is ignored.
    n_bins, bins_per_octave : int
        Default 84 and 12.
    filter_scale : float
        Scales every filter length (``Q = filter_scale / α``). Default 1.
    norm : 1, 2, np.inf or None
        Kernel normalisation. Default 1 (L1, librosa's).
    window : str, tuple or float
        :func:`scipy.signal.get_window` spec (sampled per bin, as librosa does). Default ``'hann'``.
    center : bool
        Frames centred on ``t·hop_length``. Default True.
    pad_mode : {'reflect', 'constant', 'replicate', 'circular'}
        Default ``'reflect'`` (librosa uses ``'constant'``).
    trainable : bool
        Make the kernels parameters (fixed kernels: the CPU backend multiplies only their non-zero taps).
    output_format : {'Magnitude', 'Complex', 'Phase'}
        ``'Complex'`` and ``'Phase'`` (cos, sin) have a trailing axis of 2. Default ``'Magnitude'``.
    verbose, backend
        Accepted for compatibility (nothing is printed); :mod:`nnaudio_fast.dispatch`.
    nnaudio_compat : bool
        False (default): librosa's wavelets. True: nnAudio 0.3.4's kernels (integer lengths ``ceil(Q·sr/f)``,
        :func:`nnaudio_fast.utils.create_cqt_kernels`) and its ``lenghts``, so a fresh layer gives nnAudio's output.
    precision : {None, 'exact', 'ieee', 'tf32', 'bf16', 'highest', 'high', 'medium'}, optional
        How a fast backend computes float32 products (:mod:`nnaudio_fast.precision`); every CQT layer takes it.

    State: ``lenghts`` ``(n_bins,)``, ``cqt_kernels_real``, ``cqt_kernels_imag`` ``(n_bins, 1, kernel_width)``.
    """

    _centred = ("cqt_kernels_real", "cqt_kernels_imag")

    def __init__(self, sr=22050, hop_length=512, fmin=32.70, fmax=None, n_bins=84, bins_per_octave=12,
                 filter_scale=1, norm=1, window="hann", center=True, pad_mode="reflect", trainable=False,
                 output_format="Magnitude", verbose=True, backend=None, nnaudio_compat=False, precision=None):
        super().__init__(backend, precision)
        lengths = self._init_bank(sr, fmin, fmax, n_bins, bins_per_octave, filter_scale, 0.0, window, output_format,
                                  pad_mode, hop_length)
        self.center, self.norm = _checks.boolean("center", center), norm
        self.trainable = _checks.boolean("trainable", trainable)
        kr, ki, lengths = self._single_rate_bank(norm, window, lengths, nnaudio_compat)
        self.kernel_width = kr.shape[1]
        self._add_basis("lenghts", lengths, trainable=False)
        self._add_basis("cqt_kernels_real", kr[:, None, :], self.trainable)
        self._add_basis("cqt_kernels_imag", ki[:, None, :], self.trainable)

    def forward(self, x, output_format=None, normalization_type="librosa"):
        """``x``: ``(time,)``, ``(batch, time)`` or ``(batch, 1, time)``. Returns ``(batch, n_bins, frames[, 2])``.

        ``normalization_type``: ``'librosa'`` (times ``sqrt(lenghts)``), ``'convolutional'`` (L1 kernels as they
        are) or ``'wrap'`` (times 2), see :func:`nnaudio_fast.functional.cqt_output`.
        """
        x, dtype, output_format = self._checked_input(x, output_format, normalization_type)
        re, im = self._transform(x, self._kernels(dtype))
        return self._output(re, im, output_format, normalization_type)

    def _kernels(self, dtype):
        return self._basis("cqt_kernels_real", dtype)[:, 0], self._basis("cqt_kernels_imag", dtype)[:, 0]

    def _transform(self, x, kernels, center=None):
        center = self.center if center is None else center
        return functional.cqt_from_kernels(x, *kernels, self.hop_length, center, self.pad_mode, self.backend,
                                           self.precision, self._facts().get("support"))

    def streaming(self):
        """A stateful stream of this layer (``normalization_type='librosa'``, the layer's ``output_format``):
        ``stream(chunk)`` returns the frames each chunk completes, and with ``stream.flush()`` their concatenation
        along ``stream.time_axis`` is ``self(whole_signal)`` (:mod:`nnaudio_fast.streaming`)."""
        return _streams.single_rate(self)

    def _compute_facts(self) -> dict:
        """Also the taps fixed kernels may be non-zero in (stored and exact values), for the CPU backend."""
        facts, names = super()._compute_facts(), ("cqt_kernels_real", "cqt_kernels_imag")
        stored = [getattr(self, n) for n in names]
        if not any(t.requires_grad or t.is_meta for t in stored):
            exact = [self._exact[n][:, 0] for n in names if facts["pristine"].get(n)]
            facts["support"] = bases.row_support(*(t[:, 0] for t in stored), *exact)
        return facts


class CQT(CQT1992v2):
    """Alias of :class:`CQT1992v2` (as in nnAudio)."""


def _spectral_kernels(kr: np.ndarray, ki: np.ndarray, layer):
    """nnAudio's frequency-domain CQT kernels: one-sided DFT of ``kr + i·ki``, and the boxcar DFT kernels (their
    size checked first)."""
    width, name = kr.shape[-1], type(layer).__name__
    _checks.array_size((width // 2 + 1, width), "a boxcar STFT basis (each of wcos, wsin)", f"{name} with kernel "
                       f"width {width} (from {layer._design.describe()})", f"raise fmin, or use {name}v2 (the same "
                       "transform without a Fourier basis)")
    spec = np.fft.fft(kr + 1j * ki, axis=-1)[..., : width // 2 + 1]
    wcos, wsin = bases.fourier_kernels(width, freq_bins=width // 2 + 1, window=np.ones(width))
    return spec.real, spec.imag, wcos, wsin


def _effective_kernels(sr_, si_, wcos, wsin):
    """Time-domain kernels ``(kr, ki)`` of a frequency-domain CQT kernel ``S`` applied to a boxcar DFT:
    ``Σ_k S_k·conj(F_k) / W`` over the one-sided spectrum is the correlation with
    ``kr − i·ki``, ``kr = (S_r·cos − S_i·sin) / W``, ``ki = (S_r·sin + S_i·cos) / W``."""
    width = wcos.shape[-1]
    return (sr_ @ wcos - si_ @ wsin) / width, (sr_ @ wsin + si_ @ wcos) / width


class _SpectralKernels:
    """Mixin: effective time-domain kernels from ``wcos``/``wsin`` and ``cqt_kernels_real``/``_imag``, recomputed
    only when one of them changes or needs a gradient."""

    def _time_kernels(self, dtype):
        names = ("cqt_kernels_real", "cqt_kernels_imag", "wcos", "wsin")
        fixed = not any(getattr(self, n).requires_grad for n in names) and not tracing()
        key = ("effective", str(dtype))
        if fixed:
            self._facts()  # empties the cache when a basis changed
            if key in self._cache:
                return self._cache[key]
        sr_, si_, wcos, wsin = (self._basis(n, dtype) for n in names)
        f = wcos.shape[0]
        out = _effective_kernels(sr_, si_, wcos.reshape(f, -1), wsin.reshape(f, -1))
        if fixed:
            self._cache[key] = out
        return out


class CQT1992(_SpectralKernels, _CQTLayer):
    """Constant-Q transform in nnAudio's 1992 parametrisation: a boxcar STFT of width ``kernel_width`` (``wcos``,
    ``wsin``) times frequency-domain CQT kernels (``cqt_kernels_real``/``_imag``, the one-sided DFT of the
    :class:`CQT1992v2` kernels), each optionally trainable (``trainable_STFT``, ``trainable_CQT``).

    Equals :class:`CQT1992v2` up to the kernels' negative-frequency part, which the one-sided product drops.
    ``nnaudio_compat=True``: nnAudio's kernels and ``lenghts``, as for :class:`CQT1992v2`.
    Arguments as :class:`CQT1992v2` (nnAudio's default ``fmin=220`` is kept; with ``n_bins=84`` its top bin is above
    Nyquist at 22.05 kHz, which raises a ``ValueError`` here as in nnAudio: pass a smaller ``n_bins``).

    State: ``lenghts``, ``wsin``, ``wcos`` ``(kernel_width // 2 + 1, 1, kernel_width)``, ``cqt_kernels_real``,
    ``cqt_kernels_imag`` ``(n_bins, kernel_width // 2 + 1)``.
    """

    def __init__(self, sr=22050, hop_length=512, fmin=220, fmax=None, n_bins=84, trainable_STFT=False,
                 trainable_CQT=False, bins_per_octave=12, filter_scale=1, output_format="Magnitude", norm=1,
                 window="hann", center=True, pad_mode="reflect", verbose=True, backend=None, nnaudio_compat=False,
                 precision=None):
        super().__init__(backend, precision)
        lengths = self._init_bank(sr, fmin, fmax, n_bins, bins_per_octave, filter_scale, 0.0, window, output_format,
                                  pad_mode, hop_length)
        self.center, self.norm = _checks.boolean("center", center), norm
        self.trainable_STFT = _checks.boolean("trainable_STFT", trainable_STFT)
        self.trainable_CQT = _checks.boolean("trainable_CQT", trainable_CQT)
        kr, ki, lengths = self._single_rate_bank(norm, window, lengths, nnaudio_compat)
        self.kernel_width = kr.shape[1]
        s_r, s_i, wcos, wsin = _spectral_kernels(kr, ki, self)
        self._add_basis("lenghts", lengths, trainable=False)
        self._add_basis("wsin", wsin[:, None, :], self.trainable_STFT)
        self._add_basis("wcos", wcos[:, None, :], self.trainable_STFT)
        self._add_basis("cqt_kernels_real", s_r, self.trainable_CQT)
        self._add_basis("cqt_kernels_imag", s_i, self.trainable_CQT)

    def forward(self, x, output_format=None, normalization_type="librosa"):
        """As :meth:`CQT1992v2.forward`."""
        x, dtype, output_format = self._checked_input(x, output_format, normalization_type)
        re, im = self._transform(x, self._kernels(dtype))
        return self._output(re, im, output_format, normalization_type)

    def _kernels(self, dtype):
        return self._time_kernels(dtype)

    _transform = CQT1992v2._transform


# ----------------------------------------------------------------------------------------------------------------
# multirate
# ----------------------------------------------------------------------------------------------------------------
class _MultirateLayer(_CQTLayer):
    """Octave kernels built from stored per-group kernels plus fixed corrections.

    A *group* is a stored kernel pair (``cqt_kernels_real``/``_imag`` for the whole CQT, one per octave for the
    VQT) holding the phase-0 kernels of one octave, centred in nnAudio's width. Octave ``i`` (phase ``u``) uses
    ``stored[group(i)] + Δ[i][u]`` where ``Δ = exact_{i,u} − exact_stored`` is a constant (non-persistent) buffer:
    exact as built, and trained or loaded kernels are applied to every octave as in nnAudio, with gradients from all
    of them.
    """

    def _init_multirate(self, norm, earlydownsample, lengths, widths_nn, per_octave, early_filter):
        plan, exact = bases.cqt_multirate_kernels(*self._design.fields(), norm, self.hop_length, earlydownsample)
        self._plan = plan
        self.n_octaves = len(plan.levels)
        self.downsample_factor = 2 ** plan.levels[0]
        self.earlydownsample = plan.levels[0] > 0
        n_f = min(self.bins_per_octave, self.n_bins)
        groups = range(self.n_octaves) if per_octave else [0]
        stored = {}
        for g in groups:
            k0 = exact[g][0]
            half = max(-plan.offsets[g], plan.offsets[g] + k0.shape[-1])
            width = max(widths_nn[g], 2 * half)
            n_g = k0.shape[0] // 2
            full = np.zeros((2 * n_f, width))
            col = width // 2 + plan.offsets[g]
            full[n_f - n_g : n_f, col : col + k0.shape[-1]] = k0[:n_g]
            full[2 * n_f - n_g :, col : col + k0.shape[-1]] = k0[n_g:]
            stored[g] = full
        self.register_buffer("lowpass_filter", owned_tensor(_halfband_buffer(), torch.float32))
        if early_filter:
            self.register_buffer("early_downsample_filter", owned_tensor(_halfband_buffer(), torch.float32))
        self._add_basis("lenghts", lengths, trainable=False)
        self._groups, self._layout = [], []
        for i in range(self.n_octaves):
            g = i if per_octave else 0
            width = stored[g].shape[-1]
            n_i = exact[i].shape[1] // 2
            lo = min(plan.offsets[i], -(width // 2))
            hi = max(plan.offsets[i] + exact[i].shape[-1], width - width // 2)
            left, right = -(width // 2) - lo, hi - (width - width // 2)
            rows = np.r_[n_f - n_i : n_f, 2 * n_f - n_i : 2 * n_f]
            target = np.zeros((exact[i].shape[0], 2 * n_i, hi - lo))
            target[..., plan.offsets[i] - lo : plan.offsets[i] - lo + exact[i].shape[-1]] = exact[i]
            delta = target - np.pad(stored[g][rows], ((0, 0), (left, right)))[None]
            self._add_basis(f"_delta_{i}", delta, trainable=False, persistent=False)
            self._groups.append((g, n_i, left, right))
            self._layout.append(lo)
        return stored

    nnaudio_compat = False

    def _group_kernels(self, g, dtype):
        raise NotImplementedError

    # -- nnaudio_compat=True: nnAudio's own multirate algorithm, filters and kernels ---------------------------------
    def _init_nnaudio_filters(self, args, earlydownsample, gamma=0.0):
        """nnAudio's ``lowpass_filter``, ``early_downsample_filter`` and ``lenghts`` (lengths at its
        early-downsampled rate); returns ``Q`` and the top octave's lowest frequency."""
        sr, hop, fmin, n_bins, bpo, filter_scale = args
        factor = layout.early_downsample_factor(*args, earlydownsample)
        self.n_octaves, fmin_t, _ = layout._top_octave(fmin, n_bins, bpo)
        self.downsample_factor, self.earlydownsample = factor, factor > 1
        self.register_buffer("lowpass_filter", owned_tensor(utils.create_lowpass_filter(0.5, 256, 0.001)[None, None],
                                                            torch.float32))
        if factor > 1:
            self.register_buffer("early_downsample_filter", owned_tensor(
                utils.create_lowpass_filter(1 / factor, 256, 0.03)[None, None], torch.float32))
        q = layout._q(filter_scale, bpo)
        alpha = 2.0 ** (1.0 / bpo) - 1.0
        self._add_basis("lenghts", np.ceil(q * (sr / factor) / (self.frequencies + gamma / alpha)), trainable=False)
        return q, fmin_t

    def _nnaudio_top_octave(self, args, basis_norm, window, earlydownsample):
        """nnAudio's filters and lengths, and its top-octave kernels (complex ``(n_filters, width)``, designed at
        the early-downsampled rate) that its CQT2010v2 and CQT2010 reuse on every octave; like nnAudio they need
        a hop that every octave's rate divides."""
        q, fmin_t = self._init_nnaudio_filters(args, earlydownsample)
        step = self.downsample_factor * 2 ** (self.n_octaves - 1)
        if self.hop_length % step:
            raise ValueError(
                f"hop_length={self.hop_length} must be divisible by {step} (early factor {self.downsample_factor} · "
                "2^(n_octaves − 1)) with nnaudio_compat=True, as in nnAudio; nnaudio_compat=False takes any hop."
            )
        kernels, _, _, _ = utils.create_cqt_kernels(q, self.sr / self.downsample_factor, fmin_t,
                                                    min(self.bins_per_octave, self.n_bins), self.bins_per_octave,
                                                    norm=basis_norm, window=window, topbin_check=False)
        return kernels

    def _nnaudio_kernels(self, dtype):
        raise NotImplementedError

    @property
    def _kept_on_load(self):
        return () if self.nnaudio_compat else _CQTLayer._kept_on_load

    def forward(self, x, output_format=None, normalization_type="librosa"):
        """``x``: ``(time,)``, ``(batch, time)`` or ``(batch, 1, time)``. Returns ``(batch, n_bins, frames[, 2])``
        with ``frames = 1 + time // hop_length``; ``normalization_type`` as :meth:`CQT1992v2.forward`."""
        x, dtype, output_format = self._checked_input(x, output_format, normalization_type)
        re, im = self._transform(x, self._kernels(dtype))
        return self._output(re, im, output_format, normalization_type)

    def _kernels(self, dtype):
        if self.nnaudio_compat:
            return self._nnaudio_kernels(dtype)
        cache, kernels = {}, []
        for i, (g, n_i, left, right) in enumerate(self._groups):
            if g not in cache:
                cache[g] = self._group_kernels(g, dtype)
            kr, ki = cache[g]
            base = torch.cat((kr[kr.shape[0] - n_i :], ki[ki.shape[0] - n_i :]), 0)
            kernels.append(F.pad(base, (left, right))[None] + self._basis(f"_delta_{i}", dtype))
        return kernels

    def _transform(self, x, kernels):
        if self.nnaudio_compat:
            return _nnaudio_transform(self, x, kernels)
        kernels, offsets = self._trimmed(kernels)
        return functional.cqt_multirate_from_kernels(x, kernels, self._plan, self.pad_mode, self.backend,
                                                     offsets=offsets, precision=self.precision)

    def streaming(self):
        """A stateful stream of this layer, exact as :meth:`CQT1992v2.streaming`'s
        (:func:`nnaudio_fast.features._streams.multirate`); ``nnaudio_compat=True`` layers do not stream."""
        return _streams.multirate(self)

    def _trimmed(self, kernels):
        """The octave kernels without their all-zero end taps (stored widths are nnAudio's powers of two) and
        their offsets: a fact decided in eager mode and cached until a basis changes; trainable kernels keep every
        tap, and under tracing kernels whose taps were not decided yet are used whole."""
        if any(k.requires_grad for k in kernels):
            return kernels, self._layout
        key = ("taps", str(kernels[0].dtype))
        fixed = not any(getattr(self, n).requires_grad for n in self._exact)
        if tracing():
            taps = self._cache.get(key)
        else:
            if fixed:
                self._facts()  # empties the cache when a basis changed
            taps = self._cache.get(key) if fixed else None
            if taps is None:
                taps = tuple(constant_q.nonzero_taps(k) for k in kernels)
                if fixed:
                    self._cache[key] = taps
        if taps is None:
            return kernels, self._layout
        return ([k[..., lo:hi] for k, (lo, hi) in zip(kernels, taps)],
                [o + lo for o, (lo, _) in zip(self._layout, taps)])


def _nnaudio_transform(layer, x, kernels):
    """nnAudio's multirate algorithm with ``layer``'s filters (the ``nnaudio_compat=True`` layers)."""
    early = layer.early_downsample_filter.reshape(-1) if layer.earlydownsample else None
    return functional.cqt_nnaudio_multirate_from_kernels(
        x, kernels, layer.lowpass_filter.reshape(-1), layer.hop_length, layer.n_bins, early, layer.downsample_factor,
        layer.pad_mode, layer.backend, layer.precision)


def _multirate_args(sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale):
    n = bases.CQTDesign.from_args(sr, fmin, fmax, n_bins, bins_per_octave, filter_scale).n_bins
    return (float(sr), int(hop_length), float(fmin), n, int(bins_per_octave), float(filter_scale))


class CQT2010v2(_MultirateLayer):
    """Constant-Q transform on an octave pyramid (Schörkhuber & Klapuri 2010): the same transform as
    :class:`CQT1992v2` (within about 1e-5), much faster for low ``fmin``.

    Each octave runs on the signal lowpassed (75-tap Kaiser half-band, 100 dB stopband) and decimated to the
    lowest rate that holds it (early downsampling included), with decimated copies of the exact full-rate
    kernels; any ``hop_length`` works (frames between level samples use shifted kernel phases). See
    :func:`nnaudio_fast.bases.cqt_multirate_kernels`.

    Parameters as :class:`CQT1992v2`, and: ``basis_norm`` (kernel normalisation, default 1), ``norm`` (accepted;
    nnAudio never used it), ``earlydownsample`` (False: the top octave runs at the full rate; no effect on the
    result beyond rounding). There is no ``center`` (frames are always centred, as in nnAudio).

    ``nnaudio_compat=True`` (here and in :class:`CQT2010`, :class:`~nnaudio_fast.VQT`) computes nnAudio 0.3.4's
    transform instead (for its checkpoints: they then give
    nnAudio's output): its kernels (integer lengths, designed at the early-downsampled rate), its 256-tap firwin2
    filters (``lowpass_filter``, ``early_downsample_filter``, used as stored or loaded), the same kernels on every
    octave, and its ``lenghts``; see :func:`nnaudio_fast.functional.cqt_nnaudio_multirate_from_kernels`. It needs
    ``hop_length`` divisible by ``early factor · 2^(n_octaves − 1)``, as nnAudio does.

    State: ``lowpass_filter`` ``(1, 1, 256)``, ``early_downsample_filter`` ``(1, 1, 256)`` (only where nnAudio has
    it), ``lenghts`` ``(n_bins,)``, ``cqt_kernels_real``, ``cqt_kernels_imag`` ``(min(bins_per_octave, n_bins), 1,
    width)`` (the top octave's kernels, shared by every octave).
    """

    _centred = ("cqt_kernels_real", "cqt_kernels_imag")

    def __init__(self, sr=22050, hop_length=512, fmin=32.70, fmax=None, n_bins=84, filter_scale=1, bins_per_octave=12,
                 norm=True, basis_norm=1, window="hann", pad_mode="reflect", earlydownsample=True, trainable=False,
                 output_format="Magnitude", verbose=True, backend=None, nnaudio_compat=False, precision=None):
        super().__init__(backend, precision)
        lengths = self._init_bank(sr, fmin, fmax, n_bins, bins_per_octave, filter_scale, 0.0, window, output_format,
                                  pad_mode, hop_length)
        self.norm, self.basis_norm = norm, basis_norm
        self.trainable = _checks.boolean("trainable", trainable)
        self.nnaudio_compat = _checks.boolean("nnaudio_compat", nnaudio_compat)
        earlydownsample = _checks.boolean("earlydownsample", earlydownsample)
        args = _multirate_args(sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale)
        if self.nnaudio_compat:
            self._init_nnaudio(args, basis_norm, window, earlydownsample)
            return
        widths = layout.multirate_widths(*args, earlydownsample)
        early = layout.early_downsample_factor(*args, earlydownsample) > 1
        stored = self._init_multirate(basis_norm, earlydownsample, lengths, widths, False, early)
        n_f = stored[0].shape[0] // 2
        self._add_basis("cqt_kernels_real", stored[0][:n_f, None, :], self.trainable)
        self._add_basis("cqt_kernels_imag", stored[0][n_f:, None, :], self.trainable)

    def _init_nnaudio(self, args, basis_norm, window, earlydownsample):
        """nnAudio's buffers and parameters, with nnAudio's values (see the class docstring)."""
        kernels = self._nnaudio_top_octave(args, basis_norm, window, earlydownsample)
        self._add_basis("cqt_kernels_real", kernels.real[:, None, :], self.trainable)
        self._add_basis("cqt_kernels_imag", kernels.imag[:, None, :], self.trainable)

    def _nnaudio_kernels(self, dtype):
        pair = (self._basis("cqt_kernels_real", dtype)[:, 0], self._basis("cqt_kernels_imag", dtype)[:, 0])
        return [pair] * self.n_octaves

    def _group_kernels(self, g, dtype):
        return self._basis("cqt_kernels_real", dtype)[:, 0], self._basis("cqt_kernels_imag", dtype)[:, 0]


class CQT2010(_SpectralKernels, _MultirateLayer):
    """Multirate constant-Q transform in nnAudio's 2010 parametrisation: the top octave's kernels stored in the
    frequency domain (``cqt_kernels_real``/``_imag``, ``(n_filters, n_fft // 2 + 1)``) and applied through a boxcar
    STFT (``wsin``/``wcos``), each optionally trainable; otherwise as :class:`CQT2010v2` (the same transform up to
    the top kernels' negative-frequency part).

    State: ``lowpass_filter``, ``early_downsample_filter`` (only where nnAudio has it), ``lenghts``, ``wsin``,
    ``wcos`` ``(n_fft // 2 + 1, 1, n_fft)``, ``cqt_kernels_real``, ``cqt_kernels_imag``.
    """

    def __init__(self, sr=22050, hop_length=512, fmin=32.70, fmax=None, n_bins=84, bins_per_octave=12, norm=True,
                 basis_norm=1, window="hann", pad_mode="reflect", trainable_STFT=False, filter_scale=1,
                 trainable_CQT=False, output_format="Magnitude", earlydownsample=True, verbose=True, backend=None,
                 nnaudio_compat=False, precision=None):
        super().__init__(backend, precision)
        lengths = self._init_bank(sr, fmin, fmax, n_bins, bins_per_octave, filter_scale, 0.0, window, output_format,
                                  pad_mode, hop_length)
        self.norm, self.basis_norm = norm, basis_norm
        self.trainable_STFT = _checks.boolean("trainable_STFT", trainable_STFT)
        self.trainable_CQT = _checks.boolean("trainable_CQT", trainable_CQT)
        self.nnaudio_compat = _checks.boolean("nnaudio_compat", nnaudio_compat)
        earlydownsample = _checks.boolean("earlydownsample", earlydownsample)
        args = _multirate_args(sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale)
        if self.nnaudio_compat:  # nnAudio's top-octave kernels, filters and lengths (see CQT2010v2)
            basis = self._nnaudio_top_octave(args, basis_norm, window, earlydownsample)
            s_r, s_i, wcos, wsin = _spectral_kernels(basis.real, basis.imag, self)
        else:
            widths = layout.multirate_widths(*args, earlydownsample)
            early = layout.early_downsample_factor(*args, earlydownsample) > 1
            stored = self._init_multirate(basis_norm, earlydownsample, lengths, widths, False, early)
            n_f = stored[0].shape[0] // 2
            s_r, s_i, wcos, wsin = _spectral_kernels(stored[0][:n_f], stored[0][n_f:], self)
        self.n_fft = wcos.shape[1]
        self._add_basis("wsin", wsin[:, None, :], self.trainable_STFT)
        self._add_basis("wcos", wcos[:, None, :], self.trainable_STFT)
        self._add_basis("cqt_kernels_real", s_r, self.trainable_CQT)
        self._add_basis("cqt_kernels_imag", s_i, self.trainable_CQT)

    def _group_kernels(self, g, dtype):
        return self._time_kernels(dtype)

    def _nnaudio_kernels(self, dtype):
        # nnAudio's CQT2010 keeps the imaginary part's sign of its complex product (its CQT2010v2 negates it)
        kr, ki = self._time_kernels(dtype)
        return [(kr, -ki)] * self.n_octaves

    def _output(self, re, im, output_format, normalization_type):
        if self.nnaudio_compat:
            # nnAudio's CQT2010 does not undo its early downsampling's 1/factor, and leaves its 'convolutional'
            # output multiplied by the kernel width
            scale = (self.n_fft if normalization_type == "convolutional" else 1.0) / self.downsample_factor
            re, im = re * scale, im * scale
        return super()._output(re, im, output_format, normalization_type)
