"""``Gammatonegram`` layer (nnAudio 0.3.4 names, arguments, defaults and state_dict keys)."""

from __future__ import annotations

from .. import _checks, bases, functional
from ._base import BasisModule
from .stft import STFT


class Gammatonegram(BasisModule):
    """Gammatone spectrogram: ``gammatone_basis @ |STFT(x)|^power``, output ``(batch, n_bins, frames)``.

    The filterbank is :func:`nnaudio_fast.bases.gammatone_filterbank` (Slaney's fourth-order gammatone, ERB-spaced
    centre frequencies from ``fmin`` to ``fmax``). Arguments as :class:`MelSpectrogram` with ``n_bins`` (default
    64) bands; ``htk`` and ``norm`` are accepted for nnAudio compatibility and, as there, have no effect.

    State: ``stft.wsin``, ``stft.wcos``, ``stft.window_mask``, ``gammatone_basis`` ``(n_bins, n_fft // 2 + 1)``.
    """

    def __init__(
        self,
        sr=22050,
        n_fft=2048,
        win_length=None,
        n_bins=64,
        hop_length=512,
        window="hann",
        center=True,
        pad_mode="reflect",
        power=2.0,
        htk=False,
        fmin=0.0,
        fmax=None,
        norm=1,
        trainable_bins=False,
        trainable_STFT=False,
        verbose=True,
        backend=None,
        precision=None,
        **kwargs,
    ):
        super().__init__(backend, precision)
        self.power = _checks.positive_float("power", power)
        self.trainable_bins, self.trainable_STFT = bool(trainable_bins), bool(trainable_STFT)
        self.stft = STFT(n_fft=n_fft, win_length=win_length, freq_bins=None, hop_length=hop_length, window=window,
                         freq_scale="no", center=center, pad_mode=pad_mode, sr=sr, trainable=trainable_STFT,
                         output_format="Magnitude", backend=backend, precision=precision, **kwargs)
        self.n_fft, self.stride, self.center, self.pad_mode = n_fft, self.stft.stride, center, pad_mode
        self._add_basis("gammatone_basis", bases.gammatone_filterbank(sr, n_fft, n_bins, fmin, fmax),
                        self.trainable_bins)

    def forward(self, x):
        """``x``: ``(time,)``, ``(batch, time)`` or ``(batch, 1, time)``. Returns ``(batch, n_bins, frames)``."""
        x = _checks.module_input(x)
        dtype = _checks.compute_dtype(x)
        wcos, wsin, window = self.stft._kernels(dtype)
        return functional.spectrogram_from_kernels(
            x, wcos, wsin, self._basis("gammatone_basis", dtype), self.stride, self.center, self.pad_mode,
            self.power, self.backend, dft_window=window, precision=self.precision,
        )

    def extra_repr(self) -> str:
        return f"gammatone_basis={tuple(self.gammatone_basis.shape)}, power={self.power}"
