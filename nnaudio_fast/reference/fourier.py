"""Reference Fourier operations: the STFT as a product of frames with (possibly trainable) kernels, spectrograms,
and the least-squares inverse STFT."""

from __future__ import annotations

import torch

from ..primitives import kernel_product, log_scale, power_spectrum, synthesize


def stft(x, wcos, wsin, hop_length: int, center: bool, pad_mode: str, dft_window=None, *, precision=None):
    """Real and imaginary parts ``(B, F, T)`` of ``X = frames·wcosᵀ − i·frames·wsinᵀ``.

    ``dft_window``: when not None, the caller certifies that ``wcos``/``wsin`` are the one-sided DFT kernels
    windowed by it, so a backend may use an FFT. The reference ignores it, and ``precision`` (its float32 products
    follow torch's matmul settings).
    """
    return kernel_product(x, wcos, wsin, hop_length, center, pad_mode)


def spectrogram(x, wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, dft_window=None,
                *, precision=None, support=None):
    """``fbank @ |STFT(x)|^power`` of shape ``(B, M, T)``; ``fbank=None`` returns ``|STFT(x)|^power``.
    ``support`` (which columns of each filterbank row may be non-zero): ignored, the product is dense."""
    re, im = stft(x, wcos, wsin, hop_length, center, pad_mode)
    spec = power_spectrum(re, im, power)
    return spec if fbank is None else torch.matmul(fbank, spec)


def log_spectrogram(x, wcos, wsin, fbank, hop_length: int, center: bool, pad_mode: str, power: float, log: str,
                    amin: float, dft_window=None, *, precision=None, support=None):
    """``c·ln max(spectrogram(...), amin)``: natural log (``log='log'``), ``'log10'``, or decibels (``'db'``,
    ``10·log10``; :func:`nnaudio_fast.functional.power_to_db` without ``ref`` and ``top_db``)."""
    return log_scale(spectrogram(x, wcos, wsin, fbank, hop_length, center, pad_mode, power), log, amin)


def istft(re, im, icos, isin, window, hop_length: int, center: bool, length: int | None, dft: bool = False):
    """Least-squares inverse STFT (Griffin & Lim 1984): windowed inverse DFT of each frame, overlap-added and
    divided by the window's sum of squares where that is non-negligible (as librosa does).

    ``re``, ``im``: ``(B, F, T)``; ``icos``, ``isin``: ``(F, N)`` synthesis kernels with the ``1/N`` and the
    one-sided weights folded in, so a frame is ``reᵀ·icos − imᵀ·isin``; ``window``: ``(N,)``.
    ``dft``: the caller certifies that ``icos``/``isin`` are exactly
    :func:`nnaudio_fast.functional.inverse_kernels`, so a backend may use an inverse FFT. The reference ignores it.
    """
    frames_ = torch.matmul(re.transpose(1, 2), icos) - torch.matmul(im.transpose(1, 2), isin)
    return synthesize(frames_, window, hop_length, center, length)
