"""What ``MelSpectrogram`` and ``Gammatonegram`` share: an inner ``STFT`` and a filterbank on its power spectrum."""

from __future__ import annotations

from .. import _checks, bases, functional, streaming
from ._base import BasisModule
from .stft import STFT


class FilterbankSpectrogram(BasisModule):
    """``fbank @ |STFT(x)|^power`` with the filterbank stored under :attr:`FBANK` (nnAudio's buffer name)."""

    FBANK: str = ""
    #: the constructor argument that makes :attr:`FBANK` a parameter (nnAudio's name)
    TRAINABLE_FBANK: str = ""

    def __init__(self, sr, n_fft, win_length, hop_length, window, center, pad_mode, power, fbank, trainable_fbank,
                 trainable_STFT, backend, precision, stft_kwargs, nonnegative=False):
        super().__init__(backend, precision)
        #: the filterbank used is |stored|: a trained filterbank stays non-negative (log(S + eps) stays finite)
        self.nonnegative = _checks.boolean("nonnegative", nonnegative)
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
        return self._transform(_checks.module_input(x), self.stft.center)

    def _transform(self, x, center):
        # by a plan kept while nothing it depends on changes (BasisModule.plan)
        return self.plan(("spectrogram", center), x, (self.stft,), lambda dtype: self._make_plan(x, dtype, center))(x)

    def _make_plan(self, x, dtype, center):
        wcos, wsin, window = self.stft.fourier_kernels(dtype)
        fbank = self._basis(self.FBANK, dtype)
        return functional.spectrogram_plan(
            wcos, wsin, fbank.abs() if self.nonnegative else fbank, self.stride, center, self.pad_mode, self.power,
            self.backend, window, None, 1e-10, self.precision, self._facts().get("support"), like=x,
        )

    def _framed(self, u):
        """The frames of an already padded ``(batch, n)`` segment (for :meth:`streaming`)."""
        return self._transform(u, False)

    def streaming(self) -> streaming.FrameStream:
        """A stateful stream of this layer: ``stream(chunk)`` returns the frames each chunk completes, and with
        ``stream.flush()`` their concatenation along time is ``self(whole_signal)`` (:mod:`nnaudio_fast.streaming`)."""
        return streaming.FrameStream(self, streaming.Framing(self._framed, self.n_fft, self.stride, self.center,
                                                             self.pad_mode))

    def _compute_facts(self) -> dict:
        """Also the filterbank's ``support`` (the columns each fixed filter may be non-zero in, stored and exact
        values together), so the CPU backend multiplies only those; none for a trainable filterbank."""
        facts = super()._compute_facts()
        stored = getattr(self, self.FBANK)
        if not stored.requires_grad and stored.device.type != "meta":
            exact = (self._exact[self.FBANK],) if facts["pristine"].get(self.FBANK) else ()
            facts["support"] = bases.row_support(stored, *exact)
        return facts

    def extra_repr(self) -> str:
        return (f"{self.FBANK}={tuple(getattr(self, self.FBANK).shape)}, power={self.power}"
                + (", nonnegative=True" if self.nonnegative else ""))
