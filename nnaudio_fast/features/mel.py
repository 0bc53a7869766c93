"""``MelSpectrogram`` and ``MFCC`` layers (nnAudio 0.3.4 names, arguments, defaults and state_dict keys)."""

from __future__ import annotations

import torch

from .. import _checks, bases, functional, streaming
from ._base import BasisModule, tracing
from ._filterbank import FilterbankSpectrogram


class MelSpectrogram(FilterbankSpectrogram):
    """Mel spectrogram layer: ``mel_basis @ |STFT(x)|^power``, output ``(batch, n_mels, frames)``.

    Parameters
    ----------
    sr : float
        Sampling rate. Default 22050.
    n_fft, win_length, hop_length, window, center, pad_mode
        As :class:`~nnaudio_fast.STFT` (``hop_length`` defaults to 512 here, as in nnAudio).
    n_mels : int
        Number of mel bands. Default 128.
    power : float
        Exponent of the magnitude (2: power, 1: magnitude). Default 2.
    htk : bool
        HTK mel formula instead of Slaney's. Default False.
    fmin, fmax : float
        Band edges in Hz; ``fmax=None`` means ``sr / 2``.
    norm : None, 1, 'slaney' or a number
        ``1`` (nnAudio's default) and ``'slaney'`` are Slaney's area normalisation; see
        :func:`nnaudio_fast.bases.mel_filterbank`.
    trainable_mel, trainable_STFT : bool
        Make ``mel_basis`` / the STFT kernels parameters.
    verbose : bool
        Accepted for compatibility; nothing is printed.
    backend : str, optional
        See :mod:`nnaudio_fast.dispatch`.
    precision : {None, 'exact', 'ieee', 'tf32', 'bf16', 'highest', 'high', 'medium'}, optional
        How a fast backend computes float32 products (:mod:`nnaudio_fast.precision`).
    nonnegative : bool
        Compute with ``|mel_basis|``: a trained filterbank stays non-negative, so ``log(mel + eps)`` stays finite
        (an unconstrained one goes negative under Adam within a few steps). Equal to the default until training
        moves a weight below zero; the stored parameter keeps nnAudio's key and meaning.
    **kwargs
        Passed to the inner :class:`~nnaudio_fast.STFT` (as nnAudio does), e.g. ``trainable_window=True``: a
        trainable window on the fixed DFT (with ``trainable_mel=True``, what the torch pipeline trains, at its speed).

    State: ``stft.wsin``, ``stft.wcos``, ``stft.window_mask``, ``mel_basis`` ``(n_mels, n_fft // 2 + 1)``.
    """

    FBANK = "mel_basis"
    TRAINABLE_FBANK = "trainable_mel"

    def __init__(
        self,
        sr=22050,
        n_fft=2048,
        win_length=None,
        n_mels=128,
        hop_length=512,
        window="hann",
        center=True,
        pad_mode="reflect",
        power=2.0,
        htk=False,
        fmin=0.0,
        fmax=None,
        norm=1,
        trainable_mel=False,
        trainable_STFT=False,
        verbose=True,
        backend=None,
        precision=None,
        nonnegative=False,
        **kwargs,
    ):
        super().__init__(sr, n_fft, win_length, hop_length, window, center, pad_mode, power,
                         bases.mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm), trainable_mel,
                         trainable_STFT, backend, precision, kwargs, nonnegative)
        self.trainable_mel = self.mel_basis.requires_grad


class MFCC(BasisModule):
    """Mel-frequency cepstral coefficients: DCT-II of the dB mel spectrogram, output ``(batch, n_mfcc, frames)``.

    Parameters
    ----------
    sr : float
        Sampling rate. Default 22050.
    n_mfcc : int
        Number of coefficients. Default 20.
    norm : 'ortho' or None
        DCT normalisation. Default ``'ortho'``.
    ref, amin, top_db
        dB conversion (:func:`nnaudio_fast.functional.power_to_db`; ``top_db`` clips per example).
    **kwargs
        :class:`MelSpectrogram` arguments (``n_fft``, ``n_mels``, ``hop_length``, ``trainable_mel``, ...).

    State: ``melspec_layer.*``, ``amin``, ``ref`` (1-element buffers), as in nnAudio.
    """

    def __init__(self, sr=22050, n_mfcc=20, norm="ortho", verbose=True, ref=1.0, amin=1e-10, top_db=80.0,
                 backend=None, **kwargs):
        super().__init__(backend)
        ref, amin, top_db = functional.fourier.db_arguments(ref, amin, top_db)
        self.n_mfcc = self.m_mfcc = _checks.positive_int("n_mfcc", n_mfcc)
        bases.dct_matrix(1, norm)  # checks norm before the mel layer is built
        self.melspec_layer = MelSpectrogram(sr=sr, verbose=verbose, backend=backend, **kwargs)
        n_mels = self.melspec_layer.mel_basis.shape[0]
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc={n_mfcc} must not exceed n_mels={n_mels}; lower n_mfcc or raise n_mels.")
        self.register_buffer("amin", torch.tensor([float(amin)]))
        self.register_buffer("ref", torch.tensor([abs(float(ref))]))
        self.top_db = top_db
        self.norm = norm
        # Not in nnAudio's state_dict: a derived constant, kept out of checkpoints.
        self._add_basis("dct_basis", bases.dct_matrix(n_mels, norm)[:n_mfcc], trainable=False, persistent=False)

    def forward(self, x):
        """``x``: ``(time,)``, ``(batch, time)`` or ``(batch, 1, time)``. Returns ``(batch, n_mfcc, frames)``."""
        return self._mfcc(self.melspec_layer(x))

    def _mfcc(self, mel):
        if tracing() or (torch.is_grad_enabled() and mel.requires_grad):
            return self._dct(functional.power_to_db(mel, self.ref, self.amin, self.top_db))
        # No gradient: with L = log10 max(S, amin) and o = 10·log10 max(amin, ref), D·(10·L − o) = (10·D)·L − o·D·1,
        # so the dB scale folds into the DCT, and the top_db clip max(10·L − o, peak − top_db) is L's clip at
        # max(L) − top_db / 10. Three operations on this call's own mel spectrogram, which is overwritten.
        amin, dct10, bias = self._db_constants(mel.dtype)
        log = mel.clamp_(min=amin).log10_()
        if self.top_db is not None:
            log = torch.maximum(log, log.amax(dim=(-2, -1), keepdim=True) - self.top_db / 10.0)
        out = torch.matmul(dct10, log)
        return out if bias is None else out.sub_(bias)

    def _dct(self, db):
        return torch.matmul(self._basis("dct_basis", db.dtype), db)

    def _framed(self, u):
        """The coefficients of an already padded ``(batch, n)`` segment (for :meth:`streaming` with
        ``top_db=None``)."""
        return self._mfcc(self.melspec_layer._framed(u))

    def _framed_db(self, u):
        return functional.power_to_db(self.melspec_layer._framed(u), self.ref, self.amin, None)

    def streaming(self) -> streaming.FrameStream:
        """A stateful stream of this layer (:mod:`nnaudio_fast.streaming`). With ``top_db=None`` the concatenated
        frames equal ``self(whole_signal)``. With a ``top_db`` clip, which acts below the maximum of the whole
        signal, the stream clips below the maximum so far instead (:class:`nnaudio_fast.streaming.PeakClippedStream`,
        ``stream.exact`` is False): equal from the loudest frame on, and wherever the clip does not act."""
        mel = self.melspec_layer
        if self.top_db is None:
            return streaming.FrameStream(self, streaming.Framing(self._framed, mel.n_fft, mel.stride, mel.center,
                                                                 mel.pad_mode))
        framing = streaming.Framing(self._framed_db, mel.n_fft, mel.stride, mel.center, mel.pad_mode, self._dct)
        return streaming.PeakClippedStream(self, framing, self.top_db)

    def _db_constants(self, dtype: torch.dtype):
        """``(amin, 10·D, o·D·1 or None when o = 0)`` in ``dtype``, kept while ``ref``, ``amin`` and the DCT
        hold their values."""
        dct = self._basis("dct_basis", dtype)
        key = ("db", dtype, self.ref.data_ptr(), self.ref._version, self.amin.data_ptr(), self.amin._version,
               dct.data_ptr(), dct._version)
        found = self._cache.get(key)
        if found is None:
            amin = self.amin.to(dtype)
            offset = 10.0 * torch.log10(torch.maximum(amin, self.ref.to(dtype).abs()))
            bias = None if bool(offset == 0) else offset * dct.sum(dim=1, keepdim=True)
            if len(self._cache) > 32:
                self._cache.clear()
            found = self._cache[key] = (amin, 10.0 * dct, bias)
        return found

    def extra_repr(self) -> str:
        return f"n_mfcc={self.n_mfcc}, norm={self.norm!r}, top_db={self.top_db}"
