"""Basis builders: windows, Fourier kernels, mel / gammatone / CFP filterbanks, DCT, constant-Q kernels and the
multirate CQT's design.

Every builder computes in float64 NumPy and returns a read-only array; the results are cached, so modules and the
functional API share one copy per parameter set. Callers cast (``torch.as_tensor(b, dtype=...)``).

* :mod:`.fourier`: windows, Fourier kernels and their conventions.
* :mod:`.filterbanks`: mel, gammatone, CFP filterbanks; the DCT matrix.
* :mod:`.constant_q`: the CQT/VQT design (:class:`CQTDesign`) and single-rate kernels.
* :mod:`.multirate`: the half-band pyramid filter, the octave plan, the per-octave kernels.
"""

from __future__ import annotations

from .common import row_support
from .constant_q import (CQTDesign, cqt_frequencies, cqt_kernels, cqt_lengths, cqt_n_bins, cqt_relative_bandwidth,
                         window_bandwidth)
from .filterbanks import (cfp_center_frequencies, chroma_filterbank, cq_to_chroma, cfp_filterbanks, cfp_window, dct_matrix, gammatone_center_frequencies,
                          gammatone_filterbank, hz_to_mel, mel_filterbank, mel_frequencies, mel_to_hz,
                          torchaudio_linear_filterbank, torchaudio_mel_filterbank)
from .fourier import FREQ_SCALES, fourier_bin_frequencies, fourier_kernels, get_window
from .multirate import (HALFBAND_ATTENUATION_DB, HALFBAND_TRANSITION, PASSBAND, SIDELOBE_MARGIN_BINS,
                        MultirateCQTPlan, cqt_multirate_kernels, cqt_multirate_plan, halfband_lowpass,
                        halfband_response, multirate_padding, multirate_reach)

__all__ = [
    "row_support",
    "get_window",
    "fourier_kernels",
    "fourier_bin_frequencies",
    "mel_filterbank",
    "torchaudio_mel_filterbank",
    "chroma_filterbank",
    "cq_to_chroma",
    "torchaudio_linear_filterbank",
    "mel_frequencies",
    "hz_to_mel",
    "mel_to_hz",
    "gammatone_filterbank",
    "dct_matrix",
    "FREQ_SCALES",
    "cqt_frequencies",
    "cqt_relative_bandwidth",
    "cqt_lengths",
    "cqt_n_bins",
    "window_bandwidth",
    "cqt_kernels",
    "halfband_lowpass",
    "halfband_response",
    "MultirateCQTPlan",
    "cqt_multirate_plan",
    "cqt_multirate_kernels",
    "multirate_padding",
    "multirate_reach",
    "CQTDesign",
    "gammatone_center_frequencies",
    "cfp_center_frequencies",
    "cfp_window",
    "cfp_filterbanks",
]
