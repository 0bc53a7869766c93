"""Windows and Fourier kernels (the STFT's analysis bases).

Conventions (shared by every backend):

* A frame of length ``n_fft`` starting at sample ``t·hop`` is correlated with ``wcos[k] = w[n]·cos(2π f_k n / n_fft)``
  and ``wsin[k] = w[n]·sin(2π f_k n / n_fft)``; the STFT is ``X_k = Σ_n x[n] wcos[k, n] − i Σ_n x[n] wsin[k, n]``,
  i.e. ``Σ_n w[n] x[n] e^{−2πi f_k n / n_fft}`` as in librosa / ``torch.stft`` when ``f_k = k``.
* Windows are periodic ("fftbins=True") and, when ``win_length < n_fft``, zero-padded on both sides to ``n_fft``
  (left pad ``(n_fft − win_length) // 2``), as librosa does.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.signal

from .. import _checks
from .common import frozen, is_window_spec


FREQ_SCALES = ("no", "linear", "log", "log2")


def get_window(window, win_length: int, n_fft: int | None = None) -> np.ndarray:
    """Periodic analysis window of ``win_length`` samples, centre-padded with zeros to ``n_fft``.

    Parameters
    ----------
    window : str, tuple, float or array_like
        Anything :func:`scipy.signal.get_window` accepts (``'hann'``, ``('kaiser', 8.0)``, ...), or the window
        samples themselves (length ``win_length``).
    win_length : int
        Number of non-zero window samples.
    n_fft : int, optional
        Total length; defaults to ``win_length``.

    Returns
    -------
    np.ndarray, shape ``(n_fft,)``, float64, read-only.
    """
    win_length = _checks.positive_int("win_length", win_length)
    n_fft = win_length if n_fft is None else _checks.positive_int("n_fft", n_fft)
    _check_lengths(win_length, n_fft)
    if is_window_spec(window):
        return named_window(window, win_length, n_fft)
    try:
        w = np.asarray(window.detach().cpu() if hasattr(window, "detach") else window, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(
            f"window={window!r} is neither a window name, a tuple such as ('kaiser', 8.0), a float (Kaiser beta) "
            "nor an array of real window samples."
        ) from None
    if w.shape[0] != win_length:
        raise ValueError(
            f"window has {w.shape[0]} samples but win_length={win_length}; pass a window of win_length samples."
        )
    _check_finite(w, "window (samples)")
    return _center_pad(w, win_length, n_fft)


@functools.lru_cache(maxsize=256)
def named_window(window, win_length: int, n_fft: int) -> np.ndarray:
    _check_lengths(win_length, n_fft)
    try:
        w = scipy.signal.get_window(window, win_length, fftbins=True)
    except (ValueError, TypeError, IndexError) as exc:
        raise ValueError(
            f"window={window!r} is not a window scipy.signal.get_window knows ({exc}); "
            "use a name such as 'hann', 'hamming', 'blackman', a tuple such as ('kaiser', 8.0), "
            "or pass the window samples as an array."
        ) from None
    w = np.asarray(w, dtype=np.float64)
    _check_finite(w, f"window={window!r}")
    return _center_pad(w, win_length, n_fft)


def _check_finite(w: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        raise ValueError(
            f"{what}: {bad.size} of its {w.size} samples are not finite (NaN or inf; the first is w[{bad[0]}] = "
            f"{w[bad[0]]}); a window must be finite: pass finite samples or another window."
        )


def _check_lengths(win_length: int, n_fft: int) -> None:
    if win_length < 1:
        raise ValueError(f"win_length={win_length} must be a positive integer.")
    if win_length > n_fft:
        raise ValueError(f"win_length={win_length} must not exceed n_fft={n_fft}; set win_length <= n_fft.")
    _checks.array_size((n_fft,), "a window", f"n_fft={n_fft} (win_length={win_length})",
                       "use a smaller n_fft and win_length")


def check_kernel_size(n_fft: int, freq_bins: int, inverse: str = "") -> None:
    """Raise before building a ``(freq_bins, n_fft)`` Fourier basis that would exceed
    :data:`nnaudio_fast._checks.MAX_ELEMENTS`; ``inverse`` names the ``(n_fft, n_fft)`` synthesis kernels instead
    (``freq_bins`` is then ``n_fft``, not the user's choice)."""
    if inverse:
        _checks.array_size((freq_bins, n_fft), inverse, f"n_fft={n_fft}", "use a smaller n_fft")
    else:
        _checks.array_size((freq_bins, n_fft), "a Fourier basis (each of wcos, wsin)",
                           f"n_fft={n_fft} with freq_bins={freq_bins}", "use a smaller n_fft (or fewer freq_bins)")


def _center_pad(w: np.ndarray, win_length: int, n_fft: int) -> np.ndarray:
    _check_lengths(win_length, n_fft)
    out = np.zeros(n_fft, dtype=np.float64)
    lpad = (n_fft - win_length) // 2
    out[lpad : lpad + win_length] = w
    return frozen(out)


def fourier_bin_frequencies(
    n_fft: int, freq_bins: int, freq_scale: str = "no", fmin: float = 50.0, fmax: float = 6000.0, sr: float = 22050
) -> np.ndarray:
    """Frequency of each analysis bin in units of ``sr / n_fft`` (so ``f_k = k`` for the plain DFT).

    ``'no'``: ``k``. ``'linear'``: ``fmin·n_fft/sr + k·(fmax − fmin)·n_fft/(sr·freq_bins)``.
    ``'log'`` / ``'log2'``: ``fmin·n_fft/sr · (fmax/fmin)^(k/freq_bins)`` (the two differ only in the base of the
    exponent they use, which cancels; both are kept for nnAudio's argument names).
    These are nnAudio's bin placements (bins start at ``fmin`` and stop one step short of ``fmax``).
    """
    n_fft = _checks.positive_int("n_fft", n_fft)
    freq_bins = _checks.positive_int("freq_bins", freq_bins)
    _checks.choice("freq_scale", freq_scale, FREQ_SCALES)
    _checks.array_size((freq_bins,), "bin frequencies", f"freq_bins={freq_bins}", "use fewer freq_bins")
    k = np.arange(freq_bins, dtype=np.float64)
    if freq_scale == "no":
        return k
    fmin, fmax, sr = _scale_arguments(freq_scale, fmin, fmax, sr)
    start = fmin * n_fft / sr
    if freq_scale == "linear":
        return start + k * (fmax - fmin) * (n_fft / sr) / freq_bins
    return start * np.exp(k * np.log(fmax / fmin) / freq_bins)


def _scale_arguments(freq_scale, fmin, fmax, sr):
    """Checked ``(fmin, fmax, sr)`` of a ``freq_scale`` other than ``'no'``."""
    hint = f" for freq_scale={freq_scale!r}"
    sr = _checks.positive_float("sr", sr, hint)
    fmin = _checks.positive_float("fmin", fmin, hint)
    fmax = _checks.positive_float("fmax", fmax, hint)
    if not fmin < fmax:
        raise ValueError(f"fmin={fmin:g} and fmax={fmax:g} must satisfy 0 < fmin < fmax{hint}; swap or fix them.")
    return fmin, fmax, sr


def _fourier_from_window(w, freq_bins, freq_scale, fmin, fmax, sr):
    n_fft = w.shape[0]
    n = np.arange(n_fft)
    if freq_scale == "no":
        # Integer bins: reduce k·n modulo n_fft before scaling so the angle is exact in float64.
        angle = (2.0 * np.pi / n_fft) * (np.outer(np.arange(freq_bins), n) % n_fft)
    else:
        f = fourier_bin_frequencies(n_fft, freq_bins, freq_scale, fmin, fmax, sr)
        angle = (2.0 * np.pi / n_fft) * np.outer(f, n)
    return frozen(np.cos(angle) * w), frozen(np.sin(angle) * w)


@functools.lru_cache(maxsize=64)
def _named_fourier(window, win_length, n_fft, freq_bins, freq_scale, fmin, fmax, sr):
    return _fourier_from_window(named_window(window, win_length, n_fft), freq_bins, freq_scale, fmin, fmax, sr)


def fourier_kernels(
    n_fft: int,
    win_length: int | None = None,
    freq_bins: int | None = None,
    window="hann",
    freq_scale: str = "no",
    fmin: float = 50.0,
    fmax: float = 6000.0,
    sr: float = 22050,
):
    """Windowed Fourier kernels ``(wcos, wsin)``, each of shape ``(freq_bins, n_fft)``, float64.

    ``freq_bins`` defaults to ``n_fft // 2 + 1``. See the module docstring for the sign convention.
    """
    n_fft = _checks.positive_int("n_fft", n_fft)
    win_length = n_fft if win_length is None else _checks.positive_int("win_length", win_length)
    freq_bins = n_fft // 2 + 1 if freq_bins is None else _checks.positive_int("freq_bins", freq_bins)
    _checks.choice("freq_scale", freq_scale, FREQ_SCALES)
    check_kernel_size(n_fft, freq_bins)
    if freq_scale == "no":  # fmin, fmax and sr are not used
        rest = (freq_bins, freq_scale, 0.0, 0.0, 0.0)
    else:
        rest = (freq_bins, freq_scale, *_scale_arguments(freq_scale, fmin, fmax, sr))
    if is_window_spec(window):
        return _named_fourier(window, win_length, n_fft, *rest)
    return _fourier_from_window(get_window(window, win_length, n_fft), *rest)


# ----------------------------------------------------------------------------------------------------------------
# Mel scale (Slaney's Auditory Toolbox scale by default, HTK's 2595·log10(1 + f/700) on request)
# ----------------------------------------------------------------------------------------------------------------
