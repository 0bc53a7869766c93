"""Constant-Q and variable-Q transforms on ``(..., time)``: single-rate and multirate."""

from __future__ import annotations

import torch

from .. import _checks, bases
from ..primitives import frames, magnitude
from .common import OUTPUT_FORMATS, _basis, _flatten, _prepare, backend_op, basis_support, nonempty, restore


CQT_NORMALIZATIONS = ("librosa", "convolutional", "wrap")


def cqt_output(re, im, lengths, normalization_type: str = "librosa", output_format: str = "Magnitude"):
    """Scale an L1-normalised CQT ``(re, im)`` ``(..., n_bins, T)`` and format it (nnAudio's conventions).

    ``normalization_type``: ``'librosa'`` multiplies bin ``k`` by ``sqrt(lengths[k])`` (``librosa.cqt``'s scale);
    ``'convolutional'`` leaves the L1-normalised correlation (``|C| <= max|x|``); ``'wrap'`` multiplies by 2, so a
    unit-amplitude sinusoid at a bin's frequency gives about 1 there.
    ``output_format``: ``'Magnitude'`` ``(..., n_bins, T)``; ``'Complex'`` ``(..., n_bins, T, 2)`` (real,
    imaginary); ``'Phase'`` ``(..., n_bins, T, 2)`` (cos, sin of the phase; (1, 0) where ``C = 0``), as nnAudio.
    """
    _checks.choice("normalization_type", normalization_type, CQT_NORMALIZATIONS)
    _checks.choice("output_format", output_format, OUTPUT_FORMATS)
    if normalization_type == "librosa":
        scale = torch.sqrt(lengths.to(re.dtype))[:, None]
        re, im = re * scale, im * scale
    elif normalization_type == "wrap":
        re, im = 2.0 * re, 2.0 * im
    if output_format == "Magnitude":
        return magnitude(re, im)
    if output_format == "Complex":
        return torch.stack((re, im), -1)
    mag = magnitude(re, im)
    zero = mag == 0
    safe = torch.where(zero, torch.ones_like(mag), mag)
    return torch.stack((torch.where(zero, torch.ones_like(re), re / safe), torch.where(zero, im * 0, im / safe)), -1)


def cqt_from_kernels(waveform, kr, ki, hop_length: int, center: bool = True, pad_mode: str = "reflect",
                     backend: str | None = None, precision: str | None = None, support: tuple | None = None):
    """Single-rate CQT with given (possibly trainable) kernels ``kr``, ``ki`` ``(n_bins, W)``
    (:func:`nnaudio_fast.bases.cqt_kernels`): ``(re, im)`` of shape ``(..., n_bins, n_frames)``, L1 scale.
    ``backend``, ``precision``: see :mod:`nnaudio_fast.dispatch`, :mod:`nnaudio_fast.precision`.
    ``support``: ``((lo, hi), ...)``, one pair per bin, certifying that both kernels of bin ``k`` are zero outside
    taps ``[lo, hi)`` (``nnaudio_fast.bases.row_support(kr, ki)``), so a backend multiplies only those; never pass
    it for kernels that are trained or edited."""
    if kr.shape != ki.shape or kr.dim() != 2:
        raise ValueError(f"kr {tuple(kr.shape)} and ki {tuple(ki.shape)} must both have shape (n_bins, width).")
    support = _checks.support(support, kr.shape[0], kr.shape[1], *_checks.CQT_SUPPORT)
    _checks.precision(precision)
    center = _checks.boolean("center", center)
    x, lead, (kr, ki), pad_mode = _prepare(waveform, (kr, ki), kr.shape[-1], hop_length, center, pad_mode)
    re, im = backend_op("cqt_single", x, backend)(x, kr, ki, hop_length, center, pad_mode, precision=precision,
                                                  support=support)
    return restore(re, lead), restore(im, lead)


def nonzero_taps(kernel: torch.Tensor) -> tuple[int, int]:
    """``(lo, hi)``: the range of taps (last axis) of ``kernel`` ``(..., W)`` holding its non-zero values
    (``(0, W)`` if it is all zero). Reads the values: call it when kernels change, not per call."""
    used = torch.nonzero(kernel.detach().abs().amax(dim=tuple(range(kernel.dim() - 1)))).flatten().tolist()
    return (used[0], used[-1] + 1) if used else (0, kernel.shape[-1])


# Design constants that layers need inside forward: computed (NumPy), never traced into, by torch.compile.
@torch.compiler.assume_constant_result
def _halfband(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return _basis(bases.halfband_lowpass, (), dtype, device)


@torch.compiler.assume_constant_result
def _multirate_padding(offsets: tuple, widths: tuple, levels: tuple) -> int:
    return bases.multirate_padding(offsets, widths, levels)


def cqt_multirate_from_kernels(waveform, kernels, plan, pad_mode: str = "reflect", backend: str | None = None,
                               offsets=None, precision: str | None = None):
    """Multirate CQT with given per-octave kernels ``(P_i, 2·n_i, W_i)`` (top octave first) and
    :class:`nnaudio_fast.bases.MultirateCQTPlan`: ``(re, im)`` of shape ``(..., n_bins, n_frames)``, L1 scale.

    ``offsets`` overrides ``plan.offsets`` (tap 0 of each kernel relative to the frame, in level samples), for
    kernels laid out wider than the plan's. Every tap is multiplied: pass kernels without all-zero edges
    (:func:`nonzero_taps`) for speed.
    """
    offsets = plan.offsets if offsets is None else tuple(offsets)
    _checks.precision(precision)
    if len(kernels) != len(plan.levels):
        raise ValueError(f"got {len(kernels)} octave kernels but the plan has {len(plan.levels)} octaves.")
    for i, (k, ph) in enumerate(zip(kernels, plan.n_phases)):
        if k.dim() != 3 or k.shape[0] != ph or k.shape[1] % 2:
            raise ValueError(f"kernel of octave {i} has shape {tuple(k.shape)}; it must be ({ph}, 2·n_bins, width).")
    x, lead, kernels, pad_mode = _prepare(waveform, kernels, 1, plan.hop_length, True, pad_mode)
    h = _halfband(x.dtype, x.device)
    pad = _multirate_padding(tuple(offsets), tuple(k.shape[-1] for k in kernels), tuple(plan.levels))
    fn = backend_op("cqt_multirate", x, backend)
    re, im = fn(x, kernels, offsets, plan.levels, plan.hop_length, pad, h, pad_mode, precision=precision)
    return restore(re, lead), restore(im, lead)


def _fir_decimate(x: torch.Tensor, h: torch.Tensor, factor: int) -> torch.Tensor:
    """``y[n] = Σ_j h[j]·x[factor·n + j − (K − 1)//2]`` (zeros outside ``x``): an FIR lowpass correlated with
    ``x`` ``(B, L)`` and every ``factor``-th sample kept, nnAudio's downsampling (a strided ``conv1d``)."""
    pad = (h.shape[-1] - 1) // 2
    return torch.matmul(frames(torch.nn.functional.pad(x, (pad, pad)), h.shape[-1], factor, False, "constant"), h)


def cqt_nnaudio_multirate_from_kernels(waveform, kernels, lowpass, hop_length: int, n_bins: int, early_filter=None,
                                       early_factor: int = 1, pad_mode: str = "reflect", backend: str | None = None,
                                       precision: str | None = None):
    """nnAudio 0.3.4's multirate CQT / VQT (its ``CQT2010v2`` and ``VQT``): ``(re, im)`` ``(..., n_bins, T)``.

    ``kernels``: one ``(kr, ki)`` pair ``(n_filters, W_i)`` per octave, top octave first. The signal is first
    decimated by ``early_factor`` through ``early_filter`` (if given); octave ``i`` correlates its kernels (centred
    frames, ``pad_mode`` padding of ``W_i // 2``) with the signal decimated ``i`` more times by 2 through
    ``lowpass`` (``(K,)`` taps, zero padding ``(K − 1)//2``) at hop ``⌊hop_length / early_factor / 2^i⌋``. Octaves
    are stacked lowest first (if their frame counts differ, as for hops not divisible by ``2^i``, each is
    resampled to the shortest by linear interpolation, as nnAudio's VQT does), the lowest ``n_bins`` rows kept,
    and the result scaled by ``early_factor``. nnAudio's kernels and filters come from
    :func:`nnaudio_fast.utils.create_cqt_kernels` and :func:`nnaudio_fast.utils.create_lowpass_filter`; this is
    not librosa's transform (:func:`cqt`).
    """
    _checks.waveform_length(waveform, 1, True)
    x, lead = _flatten(waveform)
    x = nonempty(x.to(_checks.compute_dtype(waveform)))
    lowpass = lowpass.to(x.dtype)
    hop = hop_length
    if early_factor > 1:
        x, hop = _fir_decimate(x, early_filter.to(x.dtype), early_factor), hop // early_factor
    octaves = []
    for i, (kr, ki) in enumerate(kernels):
        if i:
            x, hop = _fir_decimate(x, lowpass, 2), hop // 2
        octaves.insert(0, torch.stack(cqt_from_kernels(x, kr.to(x.dtype), ki.to(x.dtype), hop, True, pad_mode,
                                                       backend, precision), -1))
    n_frames = min(o.shape[-2] for o in octaves)
    octaves = [o if o.shape[-2] == n_frames else
               torch.nn.functional.interpolate(o, size=(n_frames, 2), mode="bilinear", align_corners=False)
               for o in octaves]
    out = torch.cat(octaves, -3)[:, -n_bins:] * early_factor
    re, im = out[..., 0], out[..., 1]
    return restore(re, lead), restore(im, lead)


def cqt(
    waveform: torch.Tensor,
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
    output_format: str = "Magnitude",
    normalization_type: str = "librosa",
    gamma: float | None = 0.0,
    multirate: bool = True,
    backend: str | None = None,
    precision: str | None = None,
) -> torch.Tensor:
    """Constant-Q transform of ``(..., time)`` signals (variable-Q with ``gamma > 0``).

    ``C[k, t] = sqrt(λ_k) Σ_m x[t·hop + m] K_k[m]`` for ``'librosa'`` normalisation, where ``K_k`` is librosa's
    wavelet for bin ``k`` (window of fractional length ``λ_k = Q·sr / (f_k + γ/α)``, L1-normalised,
    :func:`nnaudio_fast.bases.cqt_kernels`), ``f_k = fmin · 2^(k / bins_per_octave)``. This is the transform
    ``librosa.cqt`` / ``librosa.vqt`` approximate (they resample with soxr and sparsify their kernels; they are
    within about 1e-2 of it).

    Parameters
    ----------
    waveform : Tensor, shape ``(..., time)``
    sr, hop_length, fmin, n_bins, bins_per_octave, filter_scale, window
        As librosa / nnAudio. Any ``hop_length`` works (also with ``multirate``).
    fmax : float, optional
        If given, ``n_bins = ceil(bins_per_octave · log2(fmax / fmin))`` (nnAudio's rule) and ``n_bins`` is ignored.
    norm : 1, 2, np.inf or None
        Kernel normalisation (1: L1, librosa's and nnAudio's default).
    center : bool
        Frames centred on ``t·hop`` (padding). Only the single-rate transform (``multirate=False``) can do without;
        its frames then span the smallest even width holding every kernel (about ``Q·sr/fmin`` samples), whereas
        :class:`~nnaudio_fast.CQT1992v2` keeps nnAudio's kernel width (the next power of two), so uncentred frames
        start at different samples in the two.
    pad_mode : {'reflect', 'constant', 'replicate', 'circular'}
        nnAudio's default ``'reflect'``; librosa's is ``'constant'``.
    output_format : {'Magnitude', 'Complex', 'Phase'}
    normalization_type : {'librosa', 'convolutional', 'wrap'}
        See :func:`cqt_output`.
    gamma : float or None
        VQT bandwidth offset in Hz (0: constant-Q; None: librosa's ERB choice).
    multirate : bool
        True (default): octave pyramid (:func:`nnaudio_fast.bases.cqt_multirate_kernels`), within about 1e-5
        (CQT) to 3e-5 (VQT) of the single-rate result and much faster; False: every bin at full rate (CQT1992v2).
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.
    precision : str, optional
        How a fast backend computes float32 products (:mod:`nnaudio_fast.precision`; None follows
        ``torch.get_float32_matmul_precision()``).

    Returns
    -------
    Tensor ``(..., n_bins, n_frames)`` (``'Magnitude'``) or ``(..., n_bins, n_frames, 2)``, ``n_frames = 1 + time //
    hop_length`` when centred.
    """
    design = bases.CQTDesign.from_args(sr, fmin, fmax, n_bins, bins_per_octave, filter_scale, gamma, window)
    hop_length = _checks.positive_int("hop_length", hop_length)
    center = _checks.boolean("center", center)
    multirate = _checks.boolean("multirate", multirate)
    _checks.choice("normalization_type", normalization_type, CQT_NORMALIZATIONS)
    _checks.choice("output_format", output_format, OUTPUT_FORMATS)
    dtype = _checks.compute_dtype(waveform)
    lengths = _basis(bases.CQTDesign.lengths, (design,), dtype, waveform.device)
    if multirate:
        if not center:
            raise ValueError("center=False is only available for the single-rate transform; pass multirate=False.")
        plan = bases.cqt_multirate_plan(*design.fields(), norm, hop_length)
        kernels = _basis(multirate_kernels, (design, norm, hop_length), dtype, waveform.device)
        re, im = cqt_multirate_from_kernels(waveform, kernels, plan, pad_mode, backend, precision=precision)
    else:
        kr, ki = _basis(bases.CQTDesign.kernels, (design, norm), dtype, waveform.device)
        support = basis_support(bases.CQTDesign.kernels, (design, norm))
        re, im = cqt_from_kernels(waveform, kr, ki, hop_length, center, pad_mode, backend, precision, support)
    return cqt_output(re, im, lengths, normalization_type, output_format)


def multirate_kernels(design: bases.CQTDesign, norm, hop_length: int):
    """The per-octave kernels of :func:`nnaudio_fast.bases.cqt_multirate_kernels` for ``design``."""
    return bases.cqt_multirate_kernels(*design.fields(), norm, hop_length)[1]


def vqt(
    waveform: torch.Tensor,
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
    output_format: str = "Magnitude",
    normalization_type: str = "librosa",
    multirate: bool = True,
    backend: str | None = None,
    precision: str | None = None,
) -> torch.Tensor:
    """Variable-Q transform: :func:`cqt` with bandwidth offset ``gamma`` (Hz; ``None``: librosa's ERB choice
    ``24.7·α/0.108``), so low bins get shorter filters ``λ_k = Q·sr / (f_k + γ/α)``. nnAudio's default
    ``gamma=0`` is the CQT. Matches ``librosa.vqt`` (about 1e-2, see :func:`cqt`)."""
    return cqt(waveform, sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, True,
               pad_mode, output_format, normalization_type, gamma, multirate, backend, precision)
