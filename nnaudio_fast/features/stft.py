"""``STFT`` and ``iSTFT`` layers (nnAudio 0.3.4 names, arguments, defaults, output formats and state_dict keys)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .. import _checks, bases, functional, streaming
from ..functional import common, fourier
from ._base import BasisModule


def _hermitian_extend(re: torch.Tensor, im: torch.Tensor, n_fft: int):
    """One-sided ``(…, n_fft//2+1, T)`` → two-sided ``(…, n_fft, T)`` with ``X[n_fft − k] = conj(X[k])``."""
    mirror = slice(1, n_fft - re.shape[-2] + 1)
    return (
        torch.cat((re, re[..., mirror, :].flip(-2)), -2),
        torch.cat((im, -im[..., mirror, :].flip(-2)), -2),
    )


def _onesided(n_bins: int, n_fft: int, onesided: bool | None) -> bool:
    """Whether a spectrogram with ``n_bins`` bins is one-sided; ``onesided=None`` infers it from the shape."""
    onesided = _checks.boolean("onesided", onesided, allow_none=True)
    expected = {True: n_fft // 2 + 1, False: n_fft}
    if onesided is None:
        for side, count in expected.items():
            if n_bins == count:
                return side
    elif n_bins == expected[onesided]:
        return onesided
    want = f"{expected[onesided]}" if onesided is not None else f"{n_fft // 2 + 1} (one-sided) or {n_fft}"
    raise ValueError(
        f"the spectrogram has {n_bins} frequency bins but n_fft={n_fft} with onesided={onesided} needs {want}; "
        "check n_fft and onesided (onesided=None infers it)."
    )


def _inverse(layer: BasisModule, X, cos_name, sin_name, window, onesided, length, center=None):
    """Shared by ``STFT.inverse`` and ``iSTFT.forward``: two-sided synthesis with the layer's N×N kernels."""
    re, im = fourier.split_complex(X)
    dtype = _checks.compute_dtype(re, "X")
    n_fft = layer.n_fft
    if _onesided(re.shape[-2], n_fft, onesided):
        re, im = _hermitian_extend(re, im, n_fft)
    icos = layer._basis(cos_name, dtype).reshape(n_fft, n_fft) / n_fft
    isin = layer._basis(sin_name, dtype).reshape(n_fft, n_fft) / n_fft
    dft = layer._pristine(cos_name) and layer._pristine(sin_name)
    return functional.istft_from_kernels(
        re, im, icos, isin, window, layer.stride, layer.center if center is None else center, length, layer.backend,
        dft,
    )


class STFT(BasisModule):
    """Short-time Fourier transform layer.

    Parameters
    ----------
    n_fft : int
        Frame length / DFT size. Default 2048.
    win_length : int, optional
        Window length (``<= n_fft``, zero-padded to ``n_fft``). Default ``n_fft``.
    freq_bins : int, optional
        Number of frequency bins. Default ``n_fft // 2 + 1``.
    hop_length : int, optional
        Default ``win_length // 4``.
    window : str, tuple, float or array_like
        :func:`scipy.signal.get_window` spec or samples. Default ``'hann'``.
    freq_scale : {'no', 'linear', 'log', 'log2'}
        Bin placement: ``'no'`` is the plain DFT; the others place ``freq_bins`` bins from ``fmin`` towards ``fmax``.
    center : bool
        Centre frames on ``t·hop_length`` by padding ``n_fft // 2`` on both sides. Default True.
    pad_mode : {'reflect', 'constant', 'replicate', 'circular'}
        Default ``'reflect'``; works for inputs shorter than the padding (reflection repeats, like ``numpy.pad``).
    iSTFT : bool
        Build the inverse kernels so :meth:`inverse` works.
    fmin, fmax, sr
        For ``freq_scale != 'no'``.
    trainable : bool
        Make ``wsin``/``wcos`` parameters.
    trainable_window : bool
        Make the window (``window_mask``) a parameter instead, with the DFT fixed: the kernels are the DFT times
        the current window, so the CPU backend keeps its FFT (and computes the window's gradient through it) while
        the reference backend multiplies the same kernels; training costs about what ``torch.stft`` with a
        trainable window does. Exclusive with ``trainable``. ``wsin``/``wcos`` in the state_dict keep the kernels
        of the initial window.
    output_format : {'Complex', 'Magnitude', 'Phase'}
        ``'Complex'``: ``(batch, freq_bins, time, 2)``; otherwise ``(batch, freq_bins, time)``.
    verbose : bool
        Accepted for nnAudio compatibility; nothing is printed.
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.
    precision : {None, 'exact', 'ieee', 'tf32', 'bf16', 'highest', 'high', 'medium'}, optional
        How a fast backend computes float32 products (:mod:`nnaudio_fast.precision`).

    State: ``wsin``, ``wcos`` ``(freq_bins, 1, n_fft)``, ``window_mask`` ``(1, n_fft, 1)``, and with ``iSTFT=True``
    ``kernel_sin_inv``, ``kernel_cos_inv`` ``(n_fft, 1, n_fft, 1)``, as in nnAudio.
    """

    def __init__(
        self,
        n_fft=2048,
        win_length=None,
        freq_bins=None,
        hop_length=None,
        window="hann",
        freq_scale="no",
        center=True,
        pad_mode="reflect",
        iSTFT=False,
        fmin=50,
        fmax=6000,
        sr=22050,
        trainable=False,
        output_format="Complex",
        verbose=True,
        backend=None,
        precision=None,
        trainable_window=False,
    ):
        super().__init__(backend, precision)
        n_fft, hop_length, win_length = common.stft_defaults(n_fft, hop_length, win_length)
        self.n_fft, self.win_length, self.stride = n_fft, win_length, hop_length
        self.center = _checks.boolean("center", center)
        self.pad_mode = pad_mode
        _checks.canonical_pad_mode(pad_mode)
        self.output_format = _checks.choice("output_format", output_format, functional.OUTPUT_FORMATS)
        self.freq_bins = n_fft // 2 + 1 if freq_bins is None else _checks.positive_int("freq_bins", freq_bins)
        self.trainable = _checks.boolean("trainable", trainable)
        self.trainable_window = _checks.boolean("trainable_window", trainable_window)
        if self.trainable and self.trainable_window:
            raise ValueError("trainable=True (free kernels) and trainable_window=True (a trainable window on a fixed "
                             "DFT) exclude each other; choose one.")
        self.iSTFT = _checks.boolean("iSTFT", iSTFT)
        sr = _checks.positive_float("sr", sr)
        bases.fourier.check_kernel_size(n_fft, self.freq_bins)
        if self.iSTFT:
            bases.fourier.check_kernel_size(n_fft, n_fft, "inverse kernels (iSTFT=True)")
        self.window = window
        self.freq_scale = freq_scale
        self._plain_dft = freq_scale == "no" and self.freq_bins == n_fft // 2 + 1
        wcos, wsin = bases.fourier_kernels(n_fft, win_length, self.freq_bins, window, freq_scale, fmin, fmax, sr)
        self.bins2freq = (bases.fourier_bin_frequencies(n_fft, self.freq_bins, freq_scale, fmin, fmax, sr)
                          * sr / n_fft).tolist()
        if self.iSTFT:
            icos, isin = bases.fourier_kernels(n_fft, freq_bins=n_fft, window=np.ones(n_fft))
            self._add_basis("kernel_sin_inv", isin[:, None, :, None], trainable=False)
            self._add_basis("kernel_cos_inv", icos[:, None, :, None], trainable=False)
        self._add_basis("wsin", wsin[:, None, :], self.trainable)
        self._add_basis("wcos", wcos[:, None, :], self.trainable)
        self._add_basis("window_mask", bases.get_window(window, win_length, n_fft)[None, :, None],
                        trainable=self.trainable_window)
        if self.trainable_window:  # the unwindowed kernels (derived, not in the state_dict)
            dcos, dsin = bases.fourier_kernels(n_fft, n_fft, self.freq_bins, np.ones(n_fft), freq_scale, fmin, fmax,
                                               sr)
            self._add_basis("dft_cos", dcos, trainable=False, persistent=False)
            self._add_basis("dft_sin", dsin, trainable=False, persistent=False)

    def fourier_kernels(self, dtype):
        """``(wcos, wsin, dft_window)`` in ``dtype``; ``dft_window`` certifies untouched plain-DFT kernels (it lets
        a backend use an FFT) and is None otherwise. With ``trainable_window`` the kernels are the DFT times the
        current window, which they certify."""
        if self.trainable_window:
            window = self._basis("window_mask", dtype).reshape(-1)
            wcos, wsin = self._basis("dft_cos", dtype) * window, self._basis("dft_sin", dtype) * window
            return wcos, wsin, window if self._plain_dft else None
        wcos = self._basis("wcos", dtype).reshape(self.freq_bins, self.n_fft)
        wsin = self._basis("wsin", dtype).reshape(self.freq_bins, self.n_fft)
        window = None
        if self._plain_dft and self._pristine("wcos") and self._pristine("wsin"):
            window = self._exact_tensor("window_mask", dtype, wcos.device).reshape(-1)
        return wcos, wsin, window

    def forward(self, x, output_format=None):
        """``x``: ``(time,)``, ``(batch, time)`` or ``(batch, 1, time)``. Returns ``(batch, freq_bins, frames[, 2])``."""
        output_format = output_format or self.output_format
        _checks.choice("output_format", output_format, functional.OUTPUT_FORMATS)
        return self._transform(_checks.module_input(x), output_format, self.center)

    def _transform(self, x, output_format, center):
        if output_format == "Magnitude":  # the fused |X| epilogue, by a plan kept while the kernels stay the same
            return self.plan(("magnitude", center), x, (), lambda dtype: self._magnitude_plan(x, dtype, center))(x)
        wcos, wsin, window = self.fourier_kernels(_checks.compute_dtype(x))
        re, im = functional.stft_from_kernels(x, wcos, wsin, self.stride, center, self.pad_mode, self.backend,
                                              dft_window=window, precision=self.precision)
        return common.format_output(re, im, output_format)

    def _magnitude_plan(self, x, dtype, center):
        wcos, wsin, window = self.fourier_kernels(dtype)
        return functional.spectrogram_plan(wcos, wsin, None, self.stride, center, self.pad_mode, 1.0,
                                           self.backend, window, None, 1e-10, self.precision, None, like=x)

    def _framed(self, u):
        """The frames of an already padded ``(batch, n)`` segment (for :meth:`streaming`)."""
        return self._transform(u, self.output_format, False)

    def streaming(self) -> streaming.FrameStream:
        """A stateful stream of this layer: ``stream(chunk)`` returns the frames each chunk completes, and with
        ``stream.flush()`` their concatenation along ``stream.time_axis`` is ``self(whole_signal)``
        (:mod:`nnaudio_fast.streaming`)."""
        return streaming.FrameStream(self, streaming.Framing(self._framed, self.n_fft, self.stride, self.center,
                                                             self.pad_mode))

    def inverse(self, X, onesided=None, length=None, refresh_win=True):
        """Inverse STFT of ``X`` ``(batch, freq_bins, time, 2)`` (or complex ``(batch, freq_bins, time)``).

        ``onesided=None`` infers from the number of bins (``n_fft // 2 + 1`` or ``n_fft``). ``length`` cuts or pads
        the output. ``refresh_win`` is accepted for nnAudio compatibility (the window normaliser is always exact).
        Requires ``iSTFT=True``.
        """
        if not self.iSTFT:
            raise ValueError("STFT.inverse needs the inverse kernels: construct the layer with iSTFT=True.")
        if not self._plain_dft:
            raise ValueError(
                f"STFT.inverse: freq_scale={self.freq_scale!r} with freq_bins={self.freq_bins} is not a DFT and has no "
                "exact inverse; construct the layer with freq_scale='no' and freq_bins=None (n_fft // 2 + 1) to invert it."
            )
        dtype = _checks.compute_dtype(fourier.split_complex(X)[0], "X")
        window = self._basis("window_mask", dtype).reshape(-1)
        return _inverse(self, X, "kernel_cos_inv", "kernel_sin_inv", window, onesided, length)

    def extra_repr(self) -> str:
        return (f"n_fft={self.n_fft}, hop_length={self.stride}, freq_bins={self.freq_bins}, "
                f"iSTFT={self.iSTFT}, trainable={self.trainable}")


class iSTFT(BasisModule):
    """Inverse STFT layer (least-squares overlap-add, as ``librosa.istft``) with optionally trainable kernels/window.

    Parameters as :class:`STFT` (they must match the forward transform), plus ``trainable_kernels``,
    ``trainable_window`` and ``refresh_win`` (accepted for compatibility; the normaliser is always recomputed).

    State: ``kernel_sin``, ``kernel_cos`` ``(n_fft, 1, n_fft, 1)`` and ``window_mask`` ``(1, win_length, 1)``, as in
    nnAudio.
    """

    def __init__(
        self,
        n_fft=2048,
        win_length=None,
        freq_bins=None,
        hop_length=None,
        window="hann",
        freq_scale="no",
        center=True,
        fmin=50,
        fmax=6000,
        sr=22050,
        trainable_kernels=False,
        trainable_window=False,
        verbose=True,
        refresh_win=True,
        backend=None,
    ):
        super().__init__(backend)
        n_fft, hop_length, win_length = common.stft_defaults(n_fft, hop_length, win_length)
        if freq_scale != "no":
            raise ValueError(
                f"freq_scale={freq_scale!r}: only the plain DFT ('no') has an exact inverse; use freq_scale='no'."
            )
        self.n_fft, self.win_length, self.stride = n_fft, win_length, hop_length
        self.center = _checks.boolean("center", center)
        self.refresh_win = refresh_win
        trainable_kernels = _checks.boolean("trainable_kernels", trainable_kernels)
        trainable_window = _checks.boolean("trainable_window", trainable_window)
        window_mask = bases.get_window(window, win_length)  # checks the window before the n_fft² kernels
        bases.fourier.check_kernel_size(n_fft, n_fft, "inverse kernels")
        icos, isin = bases.fourier_kernels(n_fft, freq_bins=n_fft, window=np.ones(n_fft))
        self._add_basis("kernel_sin", isin[:, None, :, None], trainable_kernels)
        self._add_basis("kernel_cos", icos[:, None, :, None], trainable_kernels)
        self._add_basis("window_mask", window_mask[None, :, None], trainable_window)

    def forward(self, X, onesided=None, length=None, refresh_win=None):
        """``X``: ``(batch, freq_bins, time, 2)`` or complex ``(batch, freq_bins, time)``; returns ``(batch, length)``.

        ``onesided=None`` infers from the number of bins (nnAudio defaulted to ``False`` here and ``True`` in
        ``STFT.inverse``; an explicit value is still honoured and checked against the shape).
        """
        dtype = _checks.compute_dtype(fourier.split_complex(X)[0], "X")
        w = self._basis("window_mask", dtype).reshape(-1)
        lpad = (self.n_fft - self.win_length) // 2
        window = F.pad(w, (lpad, self.n_fft - self.win_length - lpad))
        return _inverse(self, X, "kernel_cos", "kernel_sin", window, onesided, length)

    def _overlap_add(self, X):
        """The uncentred inverse of complex frames ``(batch, freq_bins, t)`` (for :meth:`streaming`)."""
        dtype = _checks.compute_dtype(X.real, "frames")
        w = self._basis("window_mask", dtype).reshape(-1)
        lpad = (self.n_fft - self.win_length) // 2
        window = F.pad(w, (lpad, self.n_fft - self.win_length - lpad))
        return _inverse(self, X, "kernel_cos", "kernel_sin", window, None, None, center=False)

    def streaming(self) -> streaming.InverseStream:
        """A stateful inverse stream: ``stream(frames)`` returns the samples those frames complete, and with
        ``stream.flush()`` their concatenation is ``self(all_frames)`` (:mod:`nnaudio_fast.streaming`)."""
        if self.stride > self.n_fft:
            raise ValueError(f"hop_length={self.stride} exceeds n_fft={self.n_fft}: the inverse leaves gaps between "
                             "frames and does not stream; use hop_length <= n_fft.")
        return streaming.InverseStream(self, self._overlap_add, self.n_fft, self.stride, self.center)

    def extra_repr(self) -> str:
        return f"n_fft={self.n_fft}, hop_length={self.stride}, win_length={self.win_length}"
