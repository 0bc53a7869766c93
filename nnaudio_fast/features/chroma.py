"""``ChromaSTFT`` and ``ChromaCQT`` layers: librosa's ``chroma_stft`` and ``chroma_cqt`` as ``nn.Module`` s, with
trainable bases like the other layers (:mod:`nnaudio_fast.functional.chroma` has the math)."""

from __future__ import annotations

import math

import torch

from .. import _checks, bases
from ..functional.chroma import chroma_from_cqt, chroma_norm, cqt_chroma_settings, normalize_chroma
from ._base import BasisModule
from ._filterbank import FilterbankSpectrogram
from .cqt import CQT1992v2, CQT2010v2


class ChromaSTFT(FilterbankSpectrogram):
    """Chromagram from the power spectrogram: ``normalize(chroma_basis @ |STFT(x)|^power, norm)``, output
    ``(batch, n_chroma, frames)``; equal to ``librosa.feature.chroma_stft`` with the same explicit ``tuning``.

    Parameters
    ----------
    sr, n_fft, win_length, hop_length, window, center
        As :class:`MelSpectrogram`; ``pad_mode`` defaults to librosa's ``'constant'``.
    n_chroma, tuning, ctroct, octwidth, base_c
        The filterbank (:func:`nnaudio_fast.bases.chroma_filterbank`); ``tuning`` in fractions of a chroma bin
        (0: A440).
    norm : math.inf, a positive number or None
        Per-frame normalisation along the chroma axis (:func:`nnaudio_fast.functional.chroma.normalize_chroma`).
    trainable_chroma, trainable_STFT, nonnegative
        Make ``chroma_basis`` / the STFT kernels parameters; compute with ``|chroma_basis|``.
    **kwargs
        Passed to the inner :class:`~nnaudio_fast.STFT` (e.g. ``trainable_window=True``).

    State: ``stft.wsin``, ``stft.wcos``, ``stft.window_mask``, ``chroma_basis`` ``(n_chroma, n_fft // 2 + 1)``.
    """

    FBANK = "chroma_basis"
    TRAINABLE_FBANK = "trainable_chroma"

    def __init__(self, sr=22050, n_fft=2048, win_length=None, n_chroma=12, hop_length=512, window="hann",
                 center=True, pad_mode="constant", power=2.0, tuning=0.0, ctroct=5.0, octwidth=2.0, base_c=True,
                 norm=math.inf, trainable_chroma=False, trainable_STFT=False, backend=None, precision=None,
                 nonnegative=False, **kwargs):
        super().__init__(sr, n_fft, win_length, hop_length, window, center, pad_mode, power,
                         bases.chroma_filterbank(sr, n_fft, tuning, n_chroma, ctroct, octwidth, 2, base_c),
                         trainable_chroma, trainable_STFT, backend, precision, kwargs, nonnegative)
        self.trainable_chroma = self.chroma_basis.requires_grad
        self.norm = chroma_norm(norm)

    def _transform(self, x, center):
        return normalize_chroma(super()._transform(x, center), self.norm)  # per frame: streams exactly


class ChromaCQT(BasisModule):
    """Chromagram from the constant-Q magnitude: ``normalize(threshold(chroma_basis @ |CQT(x)|), norm)``, output
    ``(batch, n_chroma, frames)``, as :func:`nnaudio_fast.functional.chroma_cqt` (librosa's ``chroma_cqt``, from
    the exact CQT; about 1e-2 from librosa's resampled one).

    Parameters
    ----------
    sr, hop_length : as :class:`CQT2010v2`.
    fmin : float or None
        The lowest bin's frequency before tuning; None is C1 (32.70 Hz).
    n_chroma, n_octaves, bins_per_octave, tuning
        ``n_octaves · bins_per_octave`` CQT bins from ``fmin · 2^(tuning / bins_per_octave)``; ``bins_per_octave``
        a multiple of ``n_chroma``.
    norm, threshold, window
        As librosa: per-frame normalisation, values below ``threshold`` set to 0 (None: none), a window across the
        bins of each chroma (:func:`nnaudio_fast.bases.cq_to_chroma`).
    pad_mode : librosa's ``'constant'`` by default.
    multirate : bool
        True: the inner layer is :class:`CQT2010v2` (octave pyramid); False: :class:`CQT1992v2` (single rate).
    trainable : bool
        Make the inner CQT's kernels parameters.

    State: ``cqt.*`` (the inner layer's), ``chroma_basis`` ``(n_chroma, n_bins)``.
    """

    def __init__(self, sr=22050, hop_length=512, fmin=None, n_chroma=12, n_octaves=7, bins_per_octave=36,
                 tuning=0.0, norm=math.inf, threshold=0.0, window=None, pad_mode="constant", multirate=True,
                 trainable=False, backend=None, precision=None):
        super().__init__(backend, precision)
        fmin, cqt_fmin, bins_per_octave, self.threshold = cqt_chroma_settings(fmin, tuning, bins_per_octave, threshold)
        n_bins = _checks.positive_int("n_octaves", n_octaves) * bins_per_octave
        mapping = bases.cq_to_chroma(n_bins, bins_per_octave, n_chroma, fmin, window)
        self.multirate = _checks.boolean("multirate", multirate)
        self.cqt = (CQT2010v2 if self.multirate else CQT1992v2)(
            sr=sr, hop_length=hop_length, fmin=cqt_fmin, n_bins=n_bins, bins_per_octave=bins_per_octave,
            pad_mode=pad_mode, trainable=trainable, output_format="Magnitude", backend=backend, precision=precision)
        self.n_chroma, self.norm = n_chroma, chroma_norm(norm)
        self._add_basis("chroma_basis", mapping, trainable=False)

    def forward(self, x):
        """``x``: ``(time,)``, ``(batch, time)`` or ``(batch, 1, time)``. Returns ``(batch, n_chroma, frames)``."""
        return self._chroma(self.cqt(x))

    def _chroma(self, C):
        return chroma_from_cqt(C, self._basis("chroma_basis", C.dtype), self.threshold, self.norm)

    def streaming(self) -> torch.nn.Module:
        """A stateful stream of this layer: the inner CQT's stream, mapped to chroma frame by frame (exact, as the
        CQT's stream is); ``stream.step_module(chunk_size)`` maps the inner step's frames the same way."""
        return _MappedStream(self.cqt.streaming(), self._chroma)

    def extra_repr(self) -> str:
        return f"n_chroma={self.n_chroma}, norm={self.norm}, threshold={self.threshold}"


class _MappedStream(torch.nn.Module):
    """A stream whose frames are ``fn`` of an inner stream's frames (``fn`` acts on each frame alone)."""

    def __init__(self, inner, fn):
        super().__init__()
        self.inner, self._fn = inner, fn
        self.latency, self.time_axis, self.exact = inner.latency, inner.time_axis, inner.exact

    def forward(self, chunk):
        return self._fn(self.inner(chunk))

    def flush(self):
        return self._fn(self.inner.flush())

    def reset(self):
        self.inner.reset()

    def step_module(self, chunk_size: int) -> torch.nn.Module:
        """The inner stream's step (:class:`nnaudio_fast.streaming.StreamStep`) with its frames mapped."""
        return _MappedStep(self.inner.step_module(chunk_size), self._fn)


class _MappedStep(torch.nn.Module):
    """A step whose frames are ``fn`` of an inner step's frames; state, chunks and warm-up are the inner step's."""

    def __init__(self, inner, fn):
        super().__init__()
        self.inner, self._fn = inner, fn
        self.chunk_size, self.frames_per_step = inner.chunk_size, inner.frames_per_step
        self.time_axis, self.warmup, self.state_size = inner.time_axis, inner.warmup, inner.state_size

    def initial_state(self, *args, **kwargs):
        return self.inner.initial_state(*args, **kwargs)

    def forward(self, chunk, *state):
        frames, *state = self.inner(chunk, *state)
        return (self._fn(frames), *state)
