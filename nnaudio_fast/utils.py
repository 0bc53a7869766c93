"""nnAudio 0.3.4's helper functions (``nnAudio.utils`` and ``nnAudio.librosa_functions``) under their names, with
their signatures, argument conventions and return types, so scripts and tests written against nnAudio run.

Written here from what each helper computes (the formulas are in the docstrings); the Fourier and filterbank ones
are this package's own builders (:mod:`nnaudio_fast.bases`) in nnAudio's layout. Two deliberate differences:
nothing is printed (``verbose`` is accepted), and ``get_window_dispatch`` returns a window for every
specification scipy understands (nnAudio returned ``None`` for float and non-Gaussian tuple windows).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.signal
import torch
import torch.nn.functional as F

from . import bases

__all__ = [
    "nextpow2", "prepow2", "get_window_dispatch", "create_fourier_kernels", "create_cqt_kernels",
    "create_lowpass_filter", "early_downsample_count", "early_downsample", "get_early_downsample_params",
    "downsampling_by_n", "downsampling_by_2", "get_cqt_complex", "get_cqt_complex2", "complex_mul",
    "broadcast_dim", "broadcast_dim_conv2d", "extend_fbins", "overlap_add", "torch_window_sumsquare", "rfft_fn",
    "uniform_distribution", "get_mel", "get_gammatone", "fft_frequencies", "mel_frequencies", "hz_to_mel",
    "mel_to_hz", "hz_to_octs", "pad_center", "tiny", "epsilon", "sz_float",
]

#: nnAudio's module constants.
epsilon = 1e-08
sz_float = 4


def nextpow2(A) -> int:
    """``⌈log2 A⌉``: the exponent of the smallest power of two ``>= A``."""
    return int(np.ceil(np.log2(A)))


def prepow2(A) -> int:
    """``⌊log2 A⌋``: the exponent of the largest power of two ``<= A``."""
    return int(np.floor(np.log2(A)))


def get_window_dispatch(window, N: int, fftbins: bool = True) -> np.ndarray:
    """A window of ``N`` samples. Strings, floats (Kaiser β) and tuples are :func:`scipy.signal.get_window`
    specifications, except ``('gaussian', dB)``, where the number is the attenuation in dB at the window's edges:
    ``σ = ⌊−N / (2·sqrt(−2·ln 10^(−dB/20)))⌋``."""
    if isinstance(window, tuple) and window and window[0] == "gaussian":
        if window[1] < 0:
            raise ValueError(f"window={window!r}: the Gaussian's edge attenuation must be >= 0 dB.")
        sigma = np.floor(-N / 2 / np.sqrt(-2 * np.log(10 ** (-window[1] / 20))))
        return scipy.signal.get_window(("gaussian", sigma), N, fftbins=fftbins)
    if isinstance(window, (str, tuple, float)):
        return scipy.signal.get_window(window, N, fftbins=fftbins)
    raise ValueError(f"window={window!r}: pass a scipy.signal.get_window specification (a string, tuple or float).")


def create_fourier_kernels(n_fft, win_length=None, freq_bins=None, fmin=50, fmax=6000, sr=44100,
                           freq_scale="linear", window="hann", verbose=True):
    """``(wsin, wcos, bins2freq, binslist, window_mask)``: the sine and cosine kernels ``sin(2π f_k n / N)``,
    ``cos(2π f_k n / N)`` ``(freq_bins, 1, n_fft)`` (float32, not windowed: the layers multiply by ``window_mask``)
    of bins placed by ``freq_scale`` (nnAudio's default here is ``'linear'``, the layers' ``'no'``), each bin's
    frequency in Hz and in DFT bins, and the window centre-padded to ``n_fft``."""
    freq_bins = n_fft // 2 + 1 if freq_bins is None else freq_bins
    win_length = n_fft if win_length is None else win_length
    wcos, wsin = bases.fourier_kernels(n_fft, n_fft, freq_bins, np.ones(n_fft), freq_scale, fmin, fmax, sr)
    binslist = np.asarray(bases.fourier_bin_frequencies(n_fft, freq_bins, freq_scale, fmin, fmax, sr))
    window_mask = bases.get_window(window, win_length, n_fft)
    return (wsin[:, None, :].astype(np.float32), wcos[:, None, :].astype(np.float32),
            list(binslist * sr / n_fft), list(binslist), window_mask.astype(np.float32))


def create_cqt_kernels(Q, fs, fmin, n_bins=84, bins_per_octave=12, norm=1, window="hann", fmax=None,
                       topbin_check=True, gamma=0, pad_fft=True):
    """nnAudio's time-domain CQT kernels: ``(kernels, width, lengths, freqs)``.

    Bin ``k`` has ``f_k = fmin·2^(k/bins_per_octave)`` (``n_bins = ⌈bins_per_octave·log2(fmax/fmin)⌉`` when
    ``fmax`` is given) and the integer length ``l_k = ⌈Q·fs / (f_k + γ/α)⌉``, ``α = 2^(1/bins_per_octave) − 1``;
    its kernel is ``w[n]·exp(2πi f_k m_n / fs) / l_k`` for ``m_n = ⌊−l_k/2⌋ + n``, ``n < l_k``, normalised to unit
    ``norm``-norm (``norm`` falsy: not normalised), placed in a row of ``width = 2^⌈log2 max l_k⌉`` samples from
    ``⌈width/2 − l_k/2⌉`` (one earlier for odd ``l_k``). ``kernels`` is complex64 ``(n_bins, width)``,
    ``lengths`` a float32 tensor, ``freqs`` float64. (This is nnAudio's design, not librosa's fractional-length
    wavelets that the layers use by default.)
    """
    if fmax is not None:
        if n_bins is not None:
            warnings.warn("If fmax is given, n_bins will be ignored", SyntaxWarning, stacklevel=2)
        n_bins = int(np.ceil(bins_per_octave * np.log2(fmax / fmin)))
    n_bins = int(n_bins)
    freqs = fmin * 2.0 ** (np.arange(n_bins) / float(bins_per_octave))
    if topbin_check and freqs.max() > fs / 2:
        raise ValueError(f"The top bin {freqs.max()}Hz has exceeded the Nyquist frequency, please reduce the n_bins")
    alpha = 2.0 ** (1.0 / bins_per_octave) - 1.0
    lengths = np.ceil(Q * fs / (freqs + gamma / alpha))
    width = int(2 ** np.ceil(np.log2(lengths.max())))
    kernels = np.zeros((n_bins, width), dtype=np.complex64)
    for k, (freq, length) in enumerate(zip(freqs, lengths)):
        n = int(length)
        start = int(np.ceil(width / 2.0 - length / 2.0)) - (n % 2)
        m = np.floor(-length / 2) + np.arange(n)
        sig = get_window_dispatch(window, n, fftbins=True) * np.exp(2j * np.pi * freq * m / fs) / length
        kernels[k, start : start + n] = sig / np.linalg.norm(sig, norm) if norm else sig
    return kernels, width, torch.tensor(lengths).float(), freqs


def create_lowpass_filter(band_center=0.5, kernelLength=256, transitionBandwidth=0.03) -> np.ndarray:
    """nnAudio's anti-aliasing FIR (float32): :func:`scipy.signal.firwin2` with unit gain up to
    ``band_center / (1 + transitionBandwidth)`` and zero from ``band_center·(1 + transitionBandwidth)`` (frequencies
    relative to Nyquist)."""
    edges = [0.0, band_center / (1 + transitionBandwidth), band_center * (1 + transitionBandwidth), 1.0]
    return scipy.signal.firwin2(kernelLength, edges, [1.0, 1.0, 0.0, 0.0]).astype(np.float32)


def early_downsample_count(nyquist, filter_cutoff, hop_length, n_octaves) -> int:
    """How many times nnAudio halves the rate before its CQT: bounded by the band (``0.85·nyquist`` above the
    cutoff) and by the hop (which must stay divisible by ``2^(n_octaves − 1)`` after it)."""
    by_band = max(0, int(np.ceil(np.log2(0.85 * nyquist / filter_cutoff)) - 1) - 1)
    by_hop = max(0, nextpow2(hop_length) - n_octaves + 1)
    return min(by_band, by_hop)


def early_downsample(sr, hop_length, n_octaves, nyquist, filter_cutoff):
    """``(sr, hop_length, factor)`` after nnAudio's early downsampling by ``factor = 2^count``."""
    factor = 2 ** early_downsample_count(nyquist, filter_cutoff, hop_length, n_octaves)
    return sr / float(factor), hop_length // factor, factor


def get_early_downsample_params(sr, hop_length, fmax_t, Q, n_octaves, verbose):
    """``(sr, hop_length, factor, filter, enabled)``: nnAudio's early-downsampling set-up for a top frequency
    ``fmax_t`` (cutoff ``fmax_t·(1 + 0.75/Q)``, the Hann window's bandwidth); ``filter`` is the ``(1, 1, 256)``
    lowpass for ``factor`` or None."""
    cutoff = fmax_t * (1 + 0.5 * 1.5 / Q)
    sr, hop_length, factor = early_downsample(sr, hop_length, n_octaves, sr // 2, cutoff)
    if factor == 1:
        return sr, hop_length, factor, None, False
    lowpass = torch.tensor(create_lowpass_filter(band_center=1 / factor, kernelLength=256,
                                                 transitionBandwidth=0.03))[None, None, :]
    return sr, hop_length, factor, lowpass, True


def downsampling_by_n(x, filterKernel, n):
    """``x`` ``(batch, 1, time)`` lowpassed by ``filterKernel`` ``(1, 1, K)`` (zero padding ``(K − 1) // 2``) and
    kept every ``n``-th sample."""
    return F.conv1d(x, filterKernel, stride=(n,), padding=(int((filterKernel.shape[-1] - 1) // 2),))


def downsampling_by_2(x, filterKernel):
    """:func:`downsampling_by_n` with ``n = 2``."""
    return downsampling_by_n(x, filterKernel, 2)


def _padded(x, padding, width):
    try:
        return padding(x)
    except RuntimeError:  # reflection longer than the signal: zero padding, as nnAudio falls back
        warnings.warn(f"input of shape {tuple(x.shape)} is too short for {padding}; padding with zeros instead",
                      UserWarning, stacklevel=3)
        return F.pad(x, (width // 2, width // 2))


def get_cqt_complex(x, cqt_kernels_real, cqt_kernels_imag, hop_length, padding):
    """``(batch, n_bins, frames, 2)``: ``padding(x)`` correlated with the kernels ``(n_bins, 1, width)``, stacked as
    (real, −imaginary) — the CQT with nnAudio's sign convention."""
    x = _padded(x, padding, cqt_kernels_real.shape[-1])
    return torch.stack((F.conv1d(x, cqt_kernels_real, stride=hop_length),
                        -F.conv1d(x, cqt_kernels_imag, stride=hop_length)), -1)


def get_cqt_complex2(x, cqt_kernels_real, cqt_kernels_imag, hop_length, padding, wcos=None, wsin=None):
    """:func:`get_cqt_complex`, or, given STFT kernels ``wcos``/``wsin``, the frequency-domain kernels applied to
    the STFT by :func:`complex_mul`."""
    if wcos is None or wsin is None:
        return get_cqt_complex(x, cqt_kernels_real, cqt_kernels_imag, hop_length, padding)
    x = _padded(x, padding, cqt_kernels_real.shape[-1])
    fourier = (F.conv1d(x, wcos, stride=hop_length), F.conv1d(x, wsin, stride=hop_length))
    return torch.stack(complex_mul((cqt_kernels_real, cqt_kernels_imag), fourier), -1)


def complex_mul(cqt_filter, stft):
    """``(A_r + iA_i)(B_r + iB_i)`` as matrix products of the pairs ``cqt_filter = (A_r, A_i)``, ``stft = (B_r,
    B_i)``: returns ``(real, imag)``."""
    (ar, ai), (br, bi) = cqt_filter, stft
    return torch.matmul(ar, br) - torch.matmul(ai, bi), torch.matmul(ar, bi) + torch.matmul(ai, br)


def broadcast_dim(x):
    """``(time,)`` / ``(batch, time)`` / ``(batch, channels, time)`` → ``(batch, 1 or channels, time)``."""
    if x.dim() == 1:
        return x[None, None, :]
    if x.dim() == 2:
        return x[:, None, :]
    if x.dim() == 3:
        return x
    raise ValueError(f"x has shape {tuple(x.shape)}; pass (time,), (batch, time) or (batch, 1, time).")


def broadcast_dim_conv2d(x):
    """``(batch, H, W)`` → ``(batch, 1, H, W)``."""
    if x.dim() != 3:
        raise ValueError(f"x has shape {tuple(x.shape)}; pass (batch, height, width).")
    return x[:, None]


def extend_fbins(X):
    """One-sided ``(batch, n_fft//2 + 1, frames, 2)`` → two-sided ``(batch, n_fft, frames, 2)`` for even
    ``n_fft``: ``X[n_fft − k] = conj(X[k])``."""
    upper = X[:, 1:-1].flip(1) * torch.tensor([1.0, -1.0], dtype=X.dtype, device=X.device)
    return torch.cat((X, upper), 1)


def overlap_add(X, stride):
    """Frames ``(batch, n_fft, frames)`` summed at ``stride`` apart: ``(batch, n_fft + stride·(frames − 1))``."""
    n_fft = X.shape[1]
    length = n_fft + stride * (X.shape[2] - 1)
    return F.fold(X, (1, length), kernel_size=(1, n_fft), stride=stride).flatten(1)


def torch_window_sumsquare(w, n_frames, stride, n_fft, power=2):
    """``Σ_t |w[n − t·stride]|^power`` over ``n_frames`` frames, shaped ``(1, 1, 1, length)`` as nnAudio's."""
    stack = (w[:, None] ** power).expand(-1, n_frames)[None]
    length = stack.shape[1] + stride * (n_frames - 1)
    return F.fold(stack, (1, length), kernel_size=(1, n_fft), stride=stride)


def rfft_fn(x, n=None, onesided=False):
    """The full DFT of the last axis as real/imaginary pairs ``(..., N, 2)`` (``n`` and ``onesided`` are
    accepted, as nnAudio ignores them on torch ≥ 1.7)."""
    return torch.view_as_real(torch.fft.fft(x))


def uniform_distribution(r1, r2, *size, device):
    """Uniform samples between ``r2`` and ``r1`` of shape ``size`` on ``device``."""
    return (r1 - r2) * torch.rand(*size, device=device) + r2


# ----------------------------------------------------------------------------------------------------------------
# nnAudio.librosa_functions
# ----------------------------------------------------------------------------------------------------------------
def get_mel(sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False, norm=1, dtype=np.float32) -> np.ndarray:
    """Mel filterbank ``(n_mels, n_fft // 2 + 1)`` (:func:`nnaudio_fast.bases.mel_filterbank`, librosa's; for odd
    ``n_fft`` nnAudio's placed the DFT bins as :func:`fft_frequencies` notes)."""
    return np.asarray(bases.mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm), dtype=dtype)


def get_gammatone(sr, n_fft, n_bins=64, fmin=20.0, fmax=None, htk=False, norm=1, dtype=np.float32) -> np.ndarray:
    """Gammatone filterbank ``(n_bins, n_fft // 2 + 1)`` (:func:`nnaudio_fast.bases.gammatone_filterbank`;
    ``htk`` and ``norm`` are accepted and have no effect, as in nnAudio)."""
    return np.asarray(bases.gammatone_filterbank(sr, n_fft, n_bins, fmin, fmax), dtype=dtype)


def fft_frequencies(sr=22050, n_fft=2048) -> np.ndarray:
    """Centre frequencies of the one-sided DFT bins: ``k·sr/n_fft``, ``k = 0 … n_fft // 2`` (for odd ``n_fft``
    nnAudio spread them to exactly ``sr/2``, which no bin is; librosa and this package do not)."""
    return np.fft.rfftfreq(int(n_fft), 1.0 / float(sr))


def mel_frequencies(n_mels=128, fmin=0.0, fmax=11025.0, htk=False) -> np.ndarray:
    """``n_mels`` frequencies equally spaced on the mel scale from ``fmin`` to ``fmax``."""
    return bases.mel_frequencies(n_mels, fmin, fmax, htk)


def hz_to_mel(frequencies, htk=False):
    """Hz → mel (Slaney's scale, or HTK's ``2595·log10(1 + f/700)``)."""
    return bases.hz_to_mel(frequencies, htk)


def mel_to_hz(mels, htk=False):
    """mel → Hz, the inverse of :func:`hz_to_mel`."""
    return bases.mel_to_hz(mels, htk)


def hz_to_octs(frequencies, tuning=0.0, bins_per_octave=12):
    """Octave numbers: ``log2(f / (A4_tuned / 16))`` with ``A4_tuned = 440·2^(tuning / bins_per_octave)``."""
    a440 = 440.0 * 2.0 ** (tuning / bins_per_octave)
    return np.log2(np.asanyarray(frequencies) / (float(a440) / 16))


def pad_center(data, size, axis=-1, **kwargs):
    """``data`` zero-padded (or per ``kwargs``, :func:`numpy.pad`'s) on both sides of ``axis`` to ``size``."""
    kwargs.setdefault("mode", "constant")
    n = data.shape[axis]
    if size < n:
        raise ValueError(f"pad_center: target size {size} is smaller than the input's {n} samples on axis {axis}.")
    left = (size - n) // 2
    widths = [(0, 0)] * data.ndim
    widths[axis] = (left, size - n - left)
    return np.pad(data, widths, **kwargs)


def tiny(x):
    """The smallest positive normal number of ``x``'s floating dtype (float32 for integer input)."""
    dtype = np.asarray(x).dtype
    if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.complexfloating)):
        dtype = np.float32
    return np.finfo(dtype).tiny


