"""Phase retrieval, Griffin-Lim: magnitude spectrogram → waveform (the fast algorithm of Perraudin et al. 2013),
for the STFT (:func:`griffin_lim`) and the constant-Q transform (:func:`griffin_lim_cqt`)."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch

from .. import _checks, bases, geometry, linear_solvers
from ..primitives import magnitude
from .common import _basis, _cast, stft_defaults
from .fourier import inverse_kernels, istft_from_kernels, stft_from_kernels
from .inverse_constant_q import _cqt_transform, _normal_equations, icqt_length


GRIFFIN_LIM_INITS = ("random", None)


def _check_momentum_and_init(momentum, init) -> None:
    momentum = _checks.non_negative_float("momentum", momentum, " (0 is the original Griffin-Lim; 0.99 is fast)")
    if momentum > 1:
        warnings.warn(f"Griffin-Lim with momentum={momentum} > 1 can be unstable.", stacklevel=3)
    _checks.choice("init", init, GRIFFIN_LIM_INITS)


def _initial_phase(S: torch.Tensor, init, generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``S · e^{iφ}`` as (real, imag): ``φ = 0`` (``init=None``) or uniform on ``[0, 2π)``."""
    if init is None:
        return S, torch.zeros_like(S)
    if generator is None:
        phi = torch.rand(S.shape, dtype=S.dtype, device=S.device)
    else:
        if isinstance(generator, torch.Generator):
            gen = generator
        elif isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
            gen = torch.Generator().manual_seed(int(generator))  # CPU draw: the same phases on every device
        else:
            raise ValueError(
                f"generator={generator!r} must be a torch.Generator, an integer seed, or None (global RNG)."
            )
        phi = torch.rand(S.shape, dtype=S.dtype, device=gen.device, generator=gen)
        phi = phi.to(S.device)
    phi = phi * (2.0 * np.pi)
    return S * torch.cos(phi), S * torch.sin(phi)


def _freq_axis_message(shape: tuple, n_fft: int, n_bins: int) -> str:
    msg = (f"spectrogram has shape {shape}: {shape[-2] if len(shape) > 1 else 0} frequency bins on its "
           f"second-to-last axis, but n_fft={n_fft} needs {n_bins}, in the (..., freq_bins, n_frames) layout")
    if len(shape) > 1 and shape[-1] == n_bins:
        return msg + "; it looks like (..., n_frames, freq_bins): transpose the last two axes."
    return msg + "; pass the n_fft the spectrogram was computed with."


def _griffin_lim_frames(n_frames: int, n_fft: int, hop_length: int, center: bool, length: int | None) -> None:
    """``length`` must give back ``n_frames`` frames, or the iterations cannot compare spectrograms."""
    if length is None:
        return
    frames = geometry.n_frames(length, hop_length, n_fft, center)
    if frames != n_frames:
        lo = hop_length * (n_frames - 1) + (0 if center else n_fft)
        raise ValueError(
            f"length={length} gives {frames} STFT frames but the spectrogram has {n_frames}; with "
            f"hop_length={hop_length} and center={center} use a length in [{lo}, {lo + hop_length - 1}] "
            "(or length=None)."
        )


def griffin_lim_from_kernels(
    spectrogram: torch.Tensor,
    wcos: torch.Tensor,
    wsin: torch.Tensor,
    icos: torch.Tensor,
    isin: torch.Tensor,
    window: torch.Tensor,
    hop_length: int,
    n_iter: int = 32,
    momentum: float = 0.99,
    center: bool = True,
    pad_mode: str = "reflect",
    length: int | None = None,
    init: str | None = "random",
    generator=None,
    backend: str | None = None,
    dft: bool = False,
) -> torch.Tensor:
    """Fast Griffin-Lim with given analysis kernels ``(wcos, wsin)``, synthesis kernels ``(icos, isin)`` and window.

    Perraudin, Balazs & Søndergaard (2013), "A fast Griffin-Lim algorithm", WASPAA. With ``P₁`` the projection on
    consistent spectrograms (``STFT ∘ iSTFT``, the iSTFT being the least-squares one) and ``P₂(c) = S·c/|c|`` the
    projection on spectrograms of magnitude ``S``, the iteration is

        tₙ = P₁(cₙ₋₁),    cₙ = P₂(tₙ + α(tₙ − tₙ₋₁))    (t₀ = 0, c₀ = S·e^{iφ₀}),

    and the output is ``iSTFT(c_{n_iter})``. Since ``P₂`` keeps only the phase of its argument, it is computed as
    ``P₂(tₙ − α/(1+α)·tₙ₋₁)``; ``c/|c|`` is ``c/(|c| + tiny)`` so silent bins stay 0. This is the update order of
    ``librosa.griffinlim``, so with the same start (``init=None``) both produce the same signal.

    ``spectrogram``: magnitudes ``S``, ``(..., freq_bins, n_frames)``, non-negative; the other arguments as in
    :func:`griffin_lim`. ``dft=True`` certifies that the kernels are the plain windowed DFT and its inverse (as
    :func:`griffin_lim` builds them), which lets backends use FFTs.
    Returns ``(..., length)``. Each iteration calls :func:`istft_from_kernels` and :func:`stft_from_kernels`, so the
    dispatcher's fastest backend for the device runs them.
    """
    dtype = _checks.compute_dtype(spectrogram, "spectrogram")
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    _checks.positive_int("hop_length", hop_length)
    center = _checks.boolean("center", center)
    _check_momentum_and_init(momentum, init)
    pad_mode = _checks.canonical_pad_mode(pad_mode)
    n_fft = wcos.shape[-1]
    if spectrogram.dim() < 2 or spectrogram.shape[-2] != wcos.shape[0]:
        raise ValueError(_freq_axis_message(tuple(spectrogram.shape), n_fft, wcos.shape[0]))
    if length is not None:
        _checks.positive_int("length", length)
    _griffin_lim_frames(spectrogram.shape[-1], n_fft, hop_length, center, length)
    lead = tuple(spectrogram.shape[:-2])
    S = spectrogram.reshape((-1,) + tuple(spectrogram.shape[-2:])).to(dtype)
    if not bool((S >= 0).all()):
        raise ValueError(
            "spectrogram has negative or NaN values; Griffin-Lim needs a magnitude (power=1) or power spectrogram."
        )
    wcos, wsin, icos, isin, window = (_cast(t, dtype, S.device) for t in (wcos, wsin, icos, isin, window))
    tiny = torch.finfo(dtype).tiny
    decay = momentum / (1.0 + momentum)

    dft_window = window if dft else None

    def inverse(re, im):
        return istft_from_kernels(re, im, icos, isin, window, hop_length, center, length, backend, dft)

    re, im = _initial_phase(S, init, generator)
    prev = None
    for _ in range(n_iter):
        t_re, t_im = stft_from_kernels(inverse(re, im), wcos, wsin, hop_length, center, pad_mode, backend,
                                       dft_window)
        if prev is None:
            re, im = t_re, t_im
        else:
            re, im = t_re - decay * prev[0], t_im - decay * prev[1]
        scale = S / (magnitude(re, im) + tiny)
        re, im = re * scale, im * scale
        prev = (t_re, t_im)
    y = inverse(re, im)
    return y.reshape(lead + y.shape[-1:])


def griffin_lim(
    spectrogram: torch.Tensor,
    n_fft: int | None = None,
    n_iter: int = 32,
    hop_length: int | None = None,
    win_length: int | None = None,
    window="hann",
    center: bool = True,
    pad_mode: str = "reflect",
    momentum: float = 0.99,
    power: float = 1.0,
    length: int | None = None,
    init: str | None = "random",
    generator=None,
    backend: str | None = None,
) -> torch.Tensor:
    """Waveform whose STFT magnitude approximates ``spectrogram``, by the fast Griffin-Lim algorithm.

    See :func:`griffin_lim_from_kernels` for the iteration (Perraudin et al. 2013, ``librosa.griffinlim``'s update
    order).

    Parameters
    ----------
    spectrogram : Tensor, shape ``(..., n_fft // 2 + 1, n_frames)``
        Magnitude (``power=1``) or power (``power=2``) spectrogram, non-negative, in :func:`stft`'s layout.
    n_fft : int, optional
        DFT size; default ``2 · (freq_bins − 1)``.
    n_iter : int
        Iterations. Default 32.
    hop_length, win_length, window, center, pad_mode
        Those of the STFT that produced the spectrogram (the defaults are :func:`stft`'s: ``hop = win_length // 4``,
        ``'hann'``, centred, ``'reflect'``; librosa >= 0.10 pads with ``'constant'``).
    momentum : float
        ``α`` of the fast Griffin-Lim; 0 is the original algorithm. Default 0.99.
    power : float
        The spectrogram is ``|X|^power``; its ``1/power``-th root is the magnitude used. Default 1.
    length : int, optional
        Output length, exactly (and the length of every intermediate signal, as in librosa).
    init : {'random', None}
        Initial phase: uniform random, or 0 (``None``).
    generator : torch.Generator or int, optional
        Random source for ``init='random'``: a generator (drawn on its device), or a seed (drawn on the CPU, so
        the same seed gives the same phases on every device). Default: the global RNG of the input's device.
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.

    Returns
    -------
    Tensor, shape ``(..., length)``; ``length`` defaults to ``hop_length · (n_frames − 1)`` when ``center``.
    """
    if not isinstance(spectrogram, torch.Tensor) or spectrogram.dim() < 2:
        shape = tuple(spectrogram.shape) if isinstance(spectrogram, torch.Tensor) else type(spectrogram).__name__
        raise ValueError(f"spectrogram must be a tensor of shape (..., freq_bins, n_frames), got {shape}.")
    dtype = _checks.compute_dtype(spectrogram, "spectrogram")
    n_bins = spectrogram.shape[-2]
    if n_fft is None:
        if n_bins < 2:
            raise ValueError(f"spectrogram has {n_bins} frequency bin(s); pass n_fft explicitly.")
        n_fft = 2 * (n_bins - 1)
    n_fft, hop_length, win_length = stft_defaults(n_fft, hop_length, win_length)
    if n_bins != n_fft // 2 + 1:
        raise ValueError(_freq_axis_message(tuple(spectrogram.shape), n_fft, n_fft // 2 + 1))
    power = _checks.positive_float("power", power)
    mag = spectrogram.to(dtype)
    if power != 1.0:
        mag = mag ** (1.0 / power)  # negative entries become NaN, which griffin_lim_from_kernels rejects
    device = spectrogram.device
    wcos, wsin = _basis(bases.fourier_kernels, (n_fft, win_length, None, window), dtype, device)
    icos, isin = inverse_kernels(n_fft, n_bins, dtype, device)
    win = _basis(bases.get_window, (window, win_length, n_fft), dtype, device)
    return griffin_lim_from_kernels(mag, wcos, wsin, icos, isin, win, hop_length, n_iter, momentum, center, pad_mode,
                                    length, init, generator, backend, dft=True)


def griffin_lim_cqt(
    magnitude: torch.Tensor,
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
    momentum: float = 0.99,
    inner_iter: int = 3,
    power: float = 1.0,
    init: str | None = "random",
    generator=None,
    backend: str | None = None,
) -> torch.Tensor:
    """Waveform whose CQT magnitude approximates ``magnitude``: fast Griffin-Lim with the CQT's own operators.

    The iteration of :func:`griffin_lim_from_kernels` (Perraudin, Balazs & Søndergaard 2013) with ``P₁(c) = C C⁺ c``
    the projection on consistent CQTs, ``C`` the transform :func:`cqt` computes with these parameters and ``C⁺`` its
    least-squares inverse (:func:`icqt`). ``C⁺`` is itself iterative, so it is not solved afresh each time: the
    signal ``x`` is carried from one iteration to the next and refined by ``inner_iter`` preconditioned CGLS steps
    on the residual, ``x ← x + C⁺(c − C x)``, which converges to the same fixed points as the iteration goes on.
    ``librosa.griffinlim_cqt`` projects with ``librosa.icqt`` (one synthesis pass), which is far from ``C⁺`` at
    large hops (README, "Inverse CQT": measured spectral convergence).

    Parameters
    ----------
    magnitude : Tensor, shape ``(..., n_bins, n_frames)``
        Non-negative CQT magnitudes (``power=1``) or powers (``power=2``), as :func:`cqt` with
        ``output_format='Magnitude'`` and these parameters gives.
    sr, hop_length, fmin, fmax, n_bins, bins_per_octave, filter_scale, norm, window, center, pad_mode, gamma
        Those of the CQT that produced ``magnitude`` (see :func:`cqt`; ``gamma`` for a VQT).
    normalization_type : {'librosa', 'convolutional', 'wrap'}
        That of the CQT. Default 'librosa'.
    multirate : bool
        Apply ``C`` on the octave pyramid (default, fast) or at the full rate (``center=False`` needs the latter).
    length : int, optional
        Samples to reconstruct; default ``hop_length · (n_frames − 1)``.
    n_iter : int
        Griffin-Lim iterations. Default 32.
    momentum : float
        ``α`` of the fast Griffin-Lim; 0 is the original algorithm. Default 0.99.
    inner_iter : int
        Least-squares steps per iteration (each one application of ``C`` and of ``Cᴴ``; the projection adds one
        ``C``). Default 3.
    power : float
        ``magnitude`` is ``|C x|^power``; its ``1/power``-th root is used. Default 1.
    init, generator
        Initial phase (``'random'`` or ``None`` for zero) and its random source, as in :func:`griffin_lim`.
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.

    Returns
    -------
    Tensor ``(..., length)``, float64 for float64 input, float32 otherwise. Not differentiable (the iterations run
    without autograd).
    """
    if not isinstance(magnitude, torch.Tensor) or magnitude.dim() < 2 or magnitude.is_complex():
        what = (f"shape {tuple(magnitude.shape)} and dtype {magnitude.dtype}" if isinstance(magnitude, torch.Tensor)
                else type(magnitude).__name__)
        raise ValueError(f"magnitude must be a real tensor (..., n_bins, n_frames), got {what}; a complex CQT keeps "
                         "its phase: invert it with icqt.")
    dtype = _checks.compute_dtype(magnitude, "magnitude")
    design = bases.CQTDesign.from_args(sr, fmin, fmax, n_bins, bins_per_octave, filter_scale, gamma, window)
    n_bins = design.n_bins
    if magnitude.shape[-2] != n_bins:
        raise ValueError(f"magnitude has shape {tuple(magnitude.shape)}: {magnitude.shape[-2]} bins on its "
                         f"second-to-last axis, but the CQT has n_bins={n_bins}; pass the n_bins (or fmin, fmax, "
                         "bins_per_octave) it was computed with.")
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    inner_iter = _checks.positive_int("inner_iter", inner_iter)
    _check_momentum_and_init(momentum, init)
    power = _checks.positive_float("power", power)
    S = magnitude.detach().reshape((-1,) + tuple(magnitude.shape[-2:])).to(dtype)
    if power != 1.0:
        S = S ** (1.0 / power)
    if not bool((S >= 0).all()):
        raise ValueError("magnitude has negative or NaN values; pass the CQT magnitude (power=1) or power (power=2).")
    transform, scale, width, symbol_args = _cqt_transform(
        design, hop_length, norm, center, pad_mode, normalization_type, multirate, backend, None, dtype, S.device)
    length = icqt_length(S.shape[-1], symbol_args[-1], center, width, length)
    lead, shape = tuple(magnitude.shape[:-2]), (S.shape[0], length)
    if S.shape[0] == 0:
        return torch.zeros(lead + (length,), dtype=dtype, device=S.device)
    op, precondition, _ = _normal_equations(transform, scale, S.shape[0], length, symbol_args, dtype, S.device, 0.0,
                                            "pcg")

    def refine(residual):
        return linear_solvers.cgls(op, op.adjoint, residual, inner_iter, shape, 0.0, precondition)[0]

    tiny = torch.finfo(dtype).tiny
    decay = momentum / (1.0 + momentum)
    x = refine(torch.stack(_initial_phase(S, init, generator), 1))
    prev = None
    for _ in range(n_iter):
        t = op(x)
        d = t if prev is None else t - decay * prev
        c = d * (S / (torch.hypot(d[:, 0], d[:, 1]) + tiny))[:, None]
        prev = t
        x = x + refine(c - t)
    return x.reshape(lead + (length,))
