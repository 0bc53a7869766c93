"""What ``MelSpectrogram`` and ``Gammatonegram`` share: an inner ``STFT`` and a filterbank on its power spectrum."""

from __future__ import annotations

from .. import _checks, functional
from ._base import BasisModule
from .stft import STFT


class FilterbankSpectrogram(BasisModule):
    """``fbank @ |STFT(x)|^power`` with the filterbank stored under :attr:`FBANK` (nnAudio's buffer name)."""

    FBANK: str = ""
    #: the constructor argument that makes :attr:`FBANK` a parameter (nnAudio's name)
    TRAINABLE_FBANK: str = ""

    def __init__(self, sr, n_fft, win_length, hop_length, window, center, pad_mode, power, fbank, trainable_fbank,
                 trainable_STFT, backend, precision, stft_kwargs):
        super().__init__(backend, precision)
        self.power = _checks.positive_float("power", power)
        self.trainable_STFT = _checks.boolean("trainable_STFT", trainable_STFT)
        trainable_fbank = _checks.boolean(self.TRAINABLE_FBANK, trainable_fbank)
        self.stft = STFT(n_fft=n_fft, win_length=win_length, freq_bins=None, hop_length=hop_length, window=window,
                         freq_scale="no", center=center, pad_mode=pad_mode, sr=sr, trainable=self.trainable_STFT,
                         output_format="Magnitude", backend=backend, precision=precision, **stft_kwargs)
        self.n_fft, self.stride, self.center, self.pad_mode = n_fft, self.stft.stride, self.stft.center, pad_mode
        self._add_basis(self.FBANK, fbank, trainable_fbank)

    def forward(self, x):
        """``x``: ``(time,)``, ``(batch, time)`` or ``(batch, 1, time)``. Returns ``(batch, n_filters, frames)``."""
        x = _checks.module_input(x)
        dtype = _checks.compute_dtype(x)
        wcos, wsin, window = self.stft.fourier_kernels(dtype)
        return functional.spectrogram_from_kernels(
            x, wcos, wsin, self._basis(self.FBANK, dtype), self.stride, self.center, self.pad_mode, self.power,
            self.backend, dft_window=window, precision=self.precision,
        )

    def extra_repr(self) -> str:
        return f"{self.FBANK}={tuple(getattr(self, self.FBANK).shape)}, power={self.power}"
