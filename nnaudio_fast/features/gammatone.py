"""``Gammatonegram`` layer (nnAudio 0.3.4 names, arguments, defaults and state_dict keys)."""

from __future__ import annotations

from .. import _checks, bases
from ._filterbank import FilterbankSpectrogram


class Gammatonegram(FilterbankSpectrogram):
    """Gammatone spectrogram: ``gammatone_basis @ |STFT(x)|^power``, output ``(batch, n_bins, frames)``.

    The filterbank is :func:`nnaudio_fast.bases.gammatone_filterbank` (Slaney's fourth-order gammatone, ERB-spaced
    centre frequencies from ``fmin`` to ``fmax``). Arguments as :class:`MelSpectrogram` with ``n_bins`` (default
    64) bands; ``htk`` and ``norm`` are accepted for nnAudio compatibility and, as there, have no effect.

    State: ``stft.wsin``, ``stft.wcos``, ``stft.window_mask``, ``gammatone_basis`` ``(n_bins, n_fft // 2 + 1)``.
    """

    FBANK = "gammatone_basis"
    TRAINABLE_FBANK = "trainable_bins"

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
        nonnegative=False,
        **kwargs,
    ):
        _checks.boolean("htk", htk)  # no effect (as in nnAudio), but a wrong value is still a mistake
        super().__init__(sr, n_fft, win_length, hop_length, window, center, pad_mode, power,
                         bases.gammatone_filterbank(sr, n_fft, n_bins, fmin, fmax), trainable_bins, trainable_STFT,
                         backend, precision, kwargs, nonnegative)
        self.trainable_bins = self.gammatone_basis.requires_grad
