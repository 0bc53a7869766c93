"""``CFP`` and ``Combined_Frequency_Periodicity`` layers (nnAudio 0.3.4 names, arguments, outputs and state_dict).

The feature is Su & Yang's combined frequency and periodicity (2015): see :func:`nnaudio_fast.functional.cfp` for
the equations. Differences from nnAudio 0.3.4, which fails to build on SciPy >= 1.13 (``scipy.signal.blackmanharris``
moved to ``scipy.signal.windows``):

* batched, differentiable (no NaN gradient at silence), any device; float64 inputs are computed in float64;
* ``g`` with a single exponent, ``1/tc`` above ``fs/2`` or ``fs/fc`` above ``N/2`` raise a ``ValueError``
  (nnAudio failed later with an unrelated error, or, for a high-pass cutoff of 0, cleared the whole axis; the
  checks keep both cutoffs >= 1); an exponent 0 means a logarithm at every layer (nnAudio took ``x^0 = 1`` for
  the first);
* ``nnaudio_compat=False`` (not in nnAudio) follows the paper where nnAudio's reference code departs from it:
  :func:`nnaudio_fast.bases.cfp_filterbanks`.
"""

from __future__ import annotations

import numpy as np

from .. import _checks, bases, functional
from ._base import BasisModule


class _CFPLayer(BasisModule):
    def __init__(self, fr=2, fs=16000, hop_length=320, window_size=2049, fc=80, tc=1 / 1000, g=(0.24, 0.6, 1),
                 NumPerOct=48, nnaudio_compat=True):
        super().__init__()
        self._settings = functional.cfp_settings(fr, fs, hop_length, window_size, fc, tc, g, NumPerOct)
        s = self._settings
        self.nnaudio_compat = _checks.boolean("nnaudio_compat", nnaudio_compat)
        self.window_size, self.hop_length, self.N = s["window_size"], s["hop_length"], s["N"]
        self.g, self.NumofLayer = list(s["g"]), len(s["g"])
        self.fc_idx, self.tc_idx = s["fc_idx"], s["tc_idx"]
        self.HighFreqIdx, self.HighQuefIdx = s["HighFreqIdx"], s["HighQuefIdx"]
        freq_map, quef_map, center_freqs = bases.cfp_filterbanks(s["fr"], s["fs"], s["fc"], s["tc"], s["NumPerOct"],
                                                                 self.nnaudio_compat)
        #: centre frequency (Hz) of each output row
        self.center_freqs = center_freqs
        #: frequency (Hz) of each linear bin the frequency map reads (nnAudio's grid when ``nnaudio_compat``)
        self.f = (s["fs"] * np.linspace(0, 0.5, self.N // 2) if self.nnaudio_compat
                  else np.arange(self.N // 2) * s["fr"])[: self.HighFreqIdx]
        #: quefrency (s) of each cepstral bin the quefrency map reads
        self.q = np.arange(self.HighQuefIdx) / s["fs"]
        self._add_basis("h", bases.cfp_window(self.window_size), trainable=False)
        self._add_basis("freq2logfreq_matrix", freq_map, trainable=False)
        self._add_basis("quef2logfreq_matrix", quef_map, trainable=False)

    def _features(self, x):
        x = _checks.module_input(x)
        dtype = _checks.compute_dtype(x)
        return functional.cfp_from_bases(
            x, self._basis("h", dtype), self._basis("freq2logfreq_matrix", dtype),
            self._basis("quef2logfreq_matrix", dtype), self._settings, self.nnaudio_compat,
        )

    def extra_repr(self) -> str:
        return (f"N={self.N}, hop_length={self.hop_length}, window_size={self.window_size}, g={self.g}, "
                f"n_bins={len(self.center_freqs)}, nnaudio_compat={self.nnaudio_compat}")


_PARAMS = """
    Parameters
    ----------
    fr : float
        Frequency resolution in Hz: the DFT size is ``N = int(fs / fr)``. Default 2.
    fs : float
        Sampling rate. Default 16000.
    hop_length : int
        Default 320.
    window_size : int
        Length of the symmetric Blackman-Harris window (``<= N``, centred in each ``N``-sample frame). Default 2049.
    fc : float
        Lowest frequency (Hz): the first log-frequency bin and the spectral high-pass. Default 80.
    tc : float
        Shortest period (s): ``1 / tc`` bounds the log-frequency bins and sets the cepstral high-pass.
        Default 1/1000.
    g : sequence of float
        Exponents of the power-law nonlinearities, spectrum first, alternating spectrum/cepstrum; 0 is a
        logarithm. Default ``[0.24, 0.6, 1]``.
    NumPerOct : int
        Log-frequency bins per octave. Default 48.
    nnaudio_compat : bool
        True (default): nnAudio's (and the reference code's) log-frequency maps and high-pass; False: the paper's
        (see :func:`nnaudio_fast.bases.cfp_filterbanks`).

    State: ``h`` ``(window_size,)``, ``freq2logfreq_matrix`` ``(n_bins, HighFreqIdx)``, ``quef2logfreq_matrix``
    ``(n_bins, HighQuefIdx)``, as in nnAudio. ``center_freqs`` (Hz) labels the ``n_bins`` output rows.
"""


class Combined_Frequency_Periodicity(_CFPLayer):
    __doc__ = """Combined frequency and periodicity features (Su & Yang 2015), nnAudio's four outputs.

    ``forward(x)`` takes ``(time,)``, ``(batch, time)`` or ``(batch, 1, time)`` and returns
    ``(Z, tfrL0, tfrLF, tfrLQ)``, each ``(batch, n_bins, n_frames − 2)``: the first and last frames are dropped,
    as in nnAudio. ``Z = tfrLF · tfrLQ``; ``tfrL0`` is the log-frequency spectrum, ``tfrLF`` the generalised
    spectrum, ``tfrLQ`` the generalised cepstrum (see :func:`nnaudio_fast.functional.cfp`).
    """ + _PARAMS

    def forward(self, x):
        return tuple(o[..., 1:-1] for o in self._features(x))


class CFP(_CFPLayer):
    __doc__ = """Combined frequency and periodicity ``Z`` (Su & Yang 2015), every frame: nnAudio's ``CFP``.

    ``forward(x)`` takes ``(time,)``, ``(batch, time)`` or ``(batch, 1, time)`` and returns ``Z`` of shape
    ``(batch, n_bins, n_frames)`` with ``n_frames = 1 + (time + 2·(N//2) − N) // hop_length`` (``1 + time //
    hop_length`` for even ``N``), like the other layers. For all four outputs use
    :class:`Combined_Frequency_Periodicity` or :func:`nnaudio_fast.functional.cfp`.
    """ + _PARAMS

    def forward(self, x):
        return self._features(x)[0]
