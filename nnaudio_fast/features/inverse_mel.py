"""``InverseMelScale``: mel spectrogram → linear-frequency magnitude, the step before Griffin-Lim."""

from __future__ import annotations

import torch

from .. import _checks, bases, functional
from ._base import BasisModule


class InverseMelScale(BasisModule):
    """Mel spectrogram ``(batch, n_mels, T)`` → STFT magnitude ``(batch, n_fft // 2 + 1, T)``.

    Non-negative least squares against the mel filterbank (:func:`nnaudio_fast.functional.mel_to_stft_from_fbank`),
    then the ``1/power``-th root, as ``librosa.feature.inverse.mel_to_stft``. torchaudio's ``InverseMelScale``
    keeps the input's domain: pass ``power=1`` for that. Chain with :class:`~nnaudio_fast.Griffin_Lim` (``power=1``)
    for a waveform::

        mel = MelSpectrogram(sr=sr, n_fft=1024, hop_length=256)
        inverse = InverseMelScale.from_mel(mel)
        audio = Griffin_Lim(n_fft=1024, hop_length=256)(inverse(mel(x)))

    Parameters
    ----------
    sr, n_fft, n_mels, fmin, fmax, htk, norm
        Those of the :class:`~nnaudio_fast.MelSpectrogram` to invert.
    power : float
        The mel spectrogram's power (2: from a power spectrogram, the default; 1: from magnitudes).
    n_iter : int
        Projected-gradient iterations (``method='nnls'``). Default 100.
    method : {'nnls', 'pinv'}
        ``'nnls'``: accelerated projected gradient from the clipped pseudo-inverse; ``'pinv'``: the clipped
        pseudo-inverse alone (one matmul, rougher).

    State: ``mel_basis`` ``(n_mels, n_fft // 2 + 1)``, as in ``MelSpectrogram``.
    """

    def __init__(self, sr=22050, n_fft=2048, n_mels=128, fmin=0.0, fmax=None, htk=False, norm=1, power=2.0,
                 n_iter=100, method="nnls"):
        super().__init__()
        self._setup(n_fft, power, n_iter, method)
        htk = _checks.boolean("htk", htk)
        self._add_basis("mel_basis", bases.mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm), trainable=False)

    def _setup(self, n_fft, power, n_iter, method):
        self.n_fft = _checks.positive_int("n_fft", n_fft)
        self.power = _checks.positive_float("power", power)
        self.n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
        self.method = _checks.choice("method", method, functional.MEL_INVERSE_METHODS)

    @classmethod
    def from_mel(cls, mel_layer, n_iter=100, method="nnls") -> "InverseMelScale":
        """The inverse of a :class:`~nnaudio_fast.MelSpectrogram` layer: its power and its current (possibly
        trained) filterbank, used exactly in float64 while it is untrained."""
        layer = cls.__new__(cls)
        BasisModule.__init__(layer)
        layer._setup(mel_layer.n_fft, mel_layer.power, n_iter, method)
        layer._add_basis("mel_basis", mel_layer._exact["mel_basis"].numpy(), trainable=False)
        with torch.no_grad():
            layer.mel_basis.copy_(mel_layer.mel_basis)
        return layer.to(mel_layer.mel_basis.device)

    def forward(self, melspec):
        """``melspec``: ``(..., n_mels, T)``, non-negative. Returns ``(..., n_fft // 2 + 1, T)``."""
        dtype = _checks.compute_dtype(melspec, "melspec")
        return functional.mel_to_stft_from_fbank(melspec, self._basis("mel_basis", dtype), self.power, self.n_iter,
                                                 self.method)

    def extra_repr(self) -> str:
        return (f"mel_basis={tuple(self.mel_basis.shape)}, power={self.power}, n_iter={self.n_iter}, "
                f"method={self.method!r}")
