"""Spectral descriptor layers: librosa's ``spectral_centroid``, ``spectral_bandwidth``, ``spectral_rolloff`` and
``spectral_flatness`` as ``nn.Module`` s on an inner magnitude :class:`~nnaudio_fast.STFT` (trainable with
``trainable_STFT``); the math is in :mod:`nnaudio_fast.functional.descriptors`. Each returns
``(batch, 1, frames)``, as librosa. (torchaudio's ``SpectralCentroid``, with its arguments, is
:class:`nnaudio_fast.transforms.SpectralCentroid`.)"""

from __future__ import annotations

from .. import _checks
from ..functional import descriptors
from ._base import BasisModule
from .stft import STFT


class _Descriptor(BasisModule):
    """A descriptor of ``|STFT(x)|`` with librosa's frame defaults (``n_fft=2048``, ``hop_length=512``, Hann,
    centred, ``pad_mode='constant'``)."""

    def __init__(self, sr, n_fft, hop_length, win_length, window, center, pad_mode, trainable_STFT, backend,
                 precision, **kwargs):
        super().__init__(backend, precision)
        self.sr = _checks.positive_float("sr", sr)
        self.stft = STFT(n_fft=n_fft, win_length=win_length, hop_length=hop_length, window=window, center=center,
                         pad_mode=pad_mode, sr=sr, trainable=_checks.boolean("trainable_STFT", trainable_STFT),
                         output_format="Magnitude", backend=backend, precision=precision, **kwargs)
        self.n_fft = self.stft.n_fft

    def forward(self, x):
        """``x``: ``(time,)``, ``(batch, time)`` or ``(batch, 1, time)``. Returns ``(batch, 1, frames)``."""
        return self._describe(self.stft(x))


class SpectralCentroid(_Descriptor):
    """``Σ_k f_k Ŝ_kt`` (the magnitude-weighted mean frequency), as ``librosa.feature.spectral_centroid``."""

    def __init__(self, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann", center=True,
                 pad_mode="constant", trainable_STFT=False, backend=None, precision=None, **kwargs):
        super().__init__(sr, n_fft, hop_length, win_length, window, center, pad_mode, trainable_STFT, backend,
                         precision, **kwargs)

    def _describe(self, S):
        return descriptors.spectral_centroid(S=S, sr=self.sr, n_fft=self.n_fft)


class SpectralBandwidth(_Descriptor):
    """``(Σ_k Ŝ_kt |f_k − c_t|^p)^{1/p}`` about the centroid, as ``librosa.feature.spectral_bandwidth``."""

    def __init__(self, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann", center=True,
                 pad_mode="constant", norm=True, p=2.0, trainable_STFT=False, backend=None, precision=None,
                 **kwargs):
        super().__init__(sr, n_fft, hop_length, win_length, window, center, pad_mode, trainable_STFT, backend,
                         precision, **kwargs)
        self.norm, self.p = _checks.boolean("norm", norm), _checks.positive_float("p", p)

    def _describe(self, S):
        return descriptors.spectral_bandwidth(S=S, sr=self.sr, n_fft=self.n_fft, norm=self.norm, p=self.p)


class SpectralRolloff(_Descriptor):
    """The lowest frequency below which ``roll_percent`` of each frame's magnitude lies, as
    ``librosa.feature.spectral_rolloff`` (a step function of the input: no gradient)."""

    def __init__(self, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann", center=True,
                 pad_mode="constant", roll_percent=0.85, backend=None, precision=None, **kwargs):
        super().__init__(sr, n_fft, hop_length, win_length, window, center, pad_mode, False, backend, precision,
                         **kwargs)
        self.roll_percent = descriptors.rolloff_fraction(roll_percent)

    def _describe(self, S):
        return descriptors.spectral_rolloff(S=S, sr=self.sr, n_fft=self.n_fft, roll_percent=self.roll_percent)


class SpectralFlatness(_Descriptor):
    """Geometric over arithmetic mean of ``max(amin, S^power)`` along frequency, as
    ``librosa.feature.spectral_flatness`` (``sr`` only sets the frames' defaults here)."""

    def __init__(self, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann", center=True,
                 pad_mode="constant", amin=1e-10, power=2.0, trainable_STFT=False, backend=None, precision=None,
                 **kwargs):
        super().__init__(sr, n_fft, hop_length, win_length, window, center, pad_mode, trainable_STFT, backend,
                         precision, **kwargs)
        self.amin, self.power = _checks.positive_float("amin", amin), _checks.positive_float("power", power)

    def _describe(self, S):
        return descriptors.spectral_flatness(S=S, amin=self.amin, power=self.power)
