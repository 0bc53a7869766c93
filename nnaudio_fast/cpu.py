"""The ``cpp`` backend: the CPU fast paths.

Fourier family: when the caller certifies that the kernels are the plain windowed DFT (``dft_window`` is given:
the functional API always knows, a layer knows while its non-trainable kernels hold the values they were built
with), the STFT is computed by an FFT (``torch.stft`` on the already padded signal: pocketfft/MKL,
O(n_fft log n_fft) per frame instead of the O(n_fft²) kernel product), and the iSTFT by an inverse FFT when ``dft``
certifies the synthesis kernels. Otherwise, and for trainable kernels (whose gradients need the kernel product),
the reference computation runs.
"""

from __future__ import annotations

import torch

from . import reference


def unavailable_reason() -> None:
    """The FFT paths need nothing beyond PyTorch."""
    return None


def runs_on(device: torch.device) -> bool:
    return device.type == "cpu"


def _fft_usable(wcos: torch.Tensor, wsin: torch.Tensor, dft_window) -> bool:
    return (
        dft_window is not None
        and not (wcos.requires_grad or wsin.requires_grad)
        and wcos.shape[0] == wcos.shape[1] // 2 + 1
    )


def stft(x, wcos, wsin, hop_length: int, center: bool, pad_mode: str, dft_window=None):
    """:func:`nnaudio_fast.reference.stft`, by FFT when ``dft_window`` certifies the kernels."""
    if not _fft_usable(wcos, wsin, dft_window):
        return reference.stft(x, wcos, wsin, hop_length, center, pad_mode)
    n_fft = wcos.shape[-1]
    if center:
        x = reference.pad(x, n_fft // 2, n_fft // 2, pad_mode)
    X = torch.stft(x, n_fft, hop_length, window=dft_window, center=False, return_complex=True)
    return X.real, X.imag


def istft(re, im, icos, isin, window, hop_length: int, center: bool, length, dft: bool = False):
    """:func:`nnaudio_fast.reference.istft`, by inverse FFT when ``dft`` certifies the synthesis kernels."""
    if not dft or icos.requires_grad or isin.requires_grad:
        return reference.istft(re, im, icos, isin, window, hop_length, center, length)
    n_fft = icos.shape[-1]
    X = torch.complex(re, im).transpose(1, 2)  # (B, T, F)
    if icos.shape[0] == n_fft:  # two-sided: the real part of the inverse DFT
        frames = torch.fft.ifft(X, n=n_fft, dim=-1).real
    else:  # one-sided: the inverse real DFT (imaginary parts of DC and Nyquist drop out, as with the kernels)
        frames = torch.fft.irfft(X, n=n_fft, dim=-1)
    return reference.synthesize(frames, window, hop_length, center, length)


def spectrogram(x, wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, dft_window=None):
    """:func:`nnaudio_fast.reference.spectrogram` on top of :func:`stft`."""
    re, im = stft(x, wcos, wsin, hop_length, center, pad_mode, dft_window)
    spec = reference.power_spectrum(re, im, power)
    return spec if fbank is None else torch.matmul(fbank, spec)
