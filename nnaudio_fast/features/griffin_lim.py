"""``Griffin_Lim`` layer (nnAudio 0.3.4's name and arguments): magnitude spectrogram → waveform."""

from __future__ import annotations

import warnings

from torch import nn

from .. import _checks, bases, functional
from ..functional import common
from ._base import checked_backend


class Griffin_Lim(nn.Module):
    """Fast Griffin-Lim phase reconstruction (Perraudin, Balazs & Søndergaard 2013), batched, on the input's device.

    Same iteration, update order and start as ``librosa.griffinlim`` (see
    :func:`nnaudio_fast.functional.griffin_lim_from_kernels`); each iteration's iSTFT and STFT run on the fastest
    backend for the device (:mod:`nnaudio_fast.dispatch`).

    Parameters
    ----------
    n_fft : int
        DFT size of the STFT that produced the spectrograms.
    n_iter : int
        Iterations. Default 32.
    hop_length : int, optional
        Default ``n_fft // 4`` (nnAudio's default here; note its ``STFT`` defaults to ``win_length // 4``, so pass
        ``hop_length`` explicitly when ``win_length < n_fft``).
    win_length : int, optional
        Default ``n_fft``.
    window : str, tuple, float or array_like
        :func:`scipy.signal.get_window` spec or samples (periodic, centre-padded to ``n_fft``). Default ``'hann'``.
    center : bool
        Whether the STFT frames were centred. Default True.
    pad_mode : {'reflect', 'constant', 'replicate', 'circular'}
        Padding of the STFT inside the iterations. Default ``'reflect'`` (librosa >= 0.10 uses ``'constant'``).
    momentum : float
        ``α`` of the fast Griffin-Lim; 0 gives the original Griffin-Lim. Default 0.99.
    device : optional
        Accepted for nnAudio compatibility and ignored, with a ``DeprecationWarning``: the layer runs on the device
        of its input.
    init : {'random', None}
        Initial phase: uniform random (nnAudio's behaviour) or 0 (``None``, deterministic, librosa's
        ``init=None``). Default ``'random'``.
    power : float
        The input is ``|X|^power`` (1: magnitude, as nnAudio; 2: power spectrogram). Default 1.
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.

    The layer has no state (nnAudio's has none in its ``state_dict`` either); its bases are built and cached per
    dtype and device on first use.
    """

    def __init__(
        self,
        n_fft,
        n_iter=32,
        hop_length=None,
        win_length=None,
        window="hann",
        center=True,
        pad_mode="reflect",
        momentum=0.99,
        device=None,
        init="random",
        power=1.0,
        backend=None,
    ):
        super().__init__()
        if device is not None:
            warnings.warn(
                f"Griffin_Lim(device={device!r}) is ignored: the layer runs on the device of its input. "
                "Drop the argument.",
                DeprecationWarning,
                stacklevel=2,
            )
        self.n_fft, self.hop_length, self.win_length = common.stft_defaults(n_fft, hop_length, win_length,
                                                                             hop_divisor_of="n_fft")
        self.n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
        self.window = window
        bases.get_window(window, self.win_length, self.n_fft)  # validate now, not at the first forward
        bases.fourier.check_kernel_size(self.n_fft, self.n_fft // 2 + 1)  # the bases forward builds
        self.center = _checks.boolean("center", center)
        self.pad_mode = pad_mode
        _checks.canonical_pad_mode(pad_mode)
        self.momentum = _checks.non_negative_float("momentum", momentum, " (0 is the original Griffin-Lim)")
        self.init = _checks.choice("init", init, functional.GRIFFIN_LIM_INITS)
        self.power = _checks.positive_float("power", power)
        self.backend = checked_backend(backend)

    def forward(self, S, length=None, generator=None):
        """Waveforms from spectrograms.

        Parameters
        ----------
        S : Tensor, shape ``(batch, n_fft // 2 + 1, n_frames)`` (or any ``(..., n_fft // 2 + 1, n_frames)``)
            Magnitude (``power=1``) or power spectrograms, in :class:`~nnaudio_fast.STFT`'s
            ``output_format='Magnitude'`` layout.
        length : int, optional
            Output length, exactly. Default ``hop_length · (n_frames − 1)`` (with ``center``).
        generator : torch.Generator or int, optional
            Random source for ``init='random'`` (a seed draws on the CPU: the same phases on every device).

        Returns
        -------
        Tensor, shape ``(batch, length)``.
        """
        return functional.griffin_lim(
            S, self.n_fft, self.n_iter, self.hop_length, self.win_length, self.window, self.center, self.pad_mode,
            self.momentum, self.power, length, self.init, generator, self.backend,
        )

    def extra_repr(self) -> str:
        return (f"n_fft={self.n_fft}, n_iter={self.n_iter}, hop_length={self.hop_length}, "
                f"momentum={self.momentum}, init={self.init!r}, power={self.power}")
