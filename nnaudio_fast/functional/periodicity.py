"""Combined frequency and periodicity (CFP; Su & Yang 2015): spectrum × generalised cepstrum on a
log-frequency grid."""

from __future__ import annotations

import numpy as np
import torch

from .. import _checks, bases, geometry, primitives
from .common import _basis, _cast, _flatten, _safe_pow, nonempty, restore


_CFP_LOG_EPS = 1e-8  # log(relu(x) + eps) for an exponent of 0, as the reference code


def cfp_settings(fr=2, fs=16000, hop_length=320, window_size=2049, fc=80, tc=1 / 1000, g=(0.24, 0.6, 1),
                 NumPerOct=48) -> dict:
    """Validated CFP parameters and the sizes derived from them (nnAudio's attribute names).

    Returns a dict with ``N`` (DFT size ``int(fs / fr)``), ``hop_length``, ``window_size``, ``g`` (a tuple),
    ``fc_idx = round(fc / fr)`` (spectral high-pass: bins below ``fc`` are cleared), ``tc_idx = round(fs · tc)``
    (cepstral high-pass: quefrencies below ``tc`` are cleared), ``HighFreqIdx = round(1 / (tc · fr)) + 1`` and
    ``HighQuefIdx = round(fs / fc) + 1`` (the bins kept for the log-frequency maps).
    """
    fr = _checks.positive_float("fr", fr)
    fs = _checks.positive_float("fs", fs)
    fc = _checks.positive_float("fc", fc)
    tc = _checks.positive_float("tc", tc)
    hop_length = _checks.positive_int("hop_length", hop_length)
    window_size = _checks.positive_int("window_size", window_size)
    NumPerOct = _checks.positive_int("NumPerOct", NumPerOct)
    n_fft = int(fs / fr)
    _checks.array_size((n_fft,), "DFT frames", f"fr={fr:g} with fs={fs:g} (DFT size N = int(fs / fr))",
                       "raise fr")
    if window_size > n_fft:
        raise ValueError(
            f"window_size={window_size} exceeds the DFT size int(fs / fr) = {n_fft}; lower window_size or fr."
        )
    try:
        g = tuple(float(v) for v in g)
    except (TypeError, ValueError):
        raise ValueError(f"g={g!r} must be a sequence of exponents such as [0.24, 0.6, 1].") from None
    if len(g) < 2 or any(not 0 <= v < np.inf for v in g):
        raise ValueError(
            f"g={list(g)!r} must hold at least two finite, non-negative exponents (spectrum, cepstrum[, spectrum, "
            "...]); "
            "0 means a logarithm."
        )
    if not fc * 2.0 ** (2.0 / NumPerOct) < 1.0 / tc:
        raise ValueError(
            f"fc={fc} and tc={tc} leave fewer than 3 log-frequency bins between fc and 1/tc = {1 / tc:g} Hz; "
            "raise 1/tc, lower fc or raise NumPerOct."
        )
    settings = dict(
        N=n_fft, hop_length=hop_length, window_size=window_size, g=g, fr=fr, fs=fs, fc=fc, tc=tc,
        NumPerOct=NumPerOct, fc_idx=int(round(fc / fr)), tc_idx=int(round(fs * tc)),
        HighFreqIdx=int(round((1.0 / tc) / fr) + 1), HighQuefIdx=int(round(fs / fc) + 1),
    )
    if settings["HighFreqIdx"] > n_fft // 2:
        raise ValueError(f"tc={tc}: 1/tc = {1 / tc:g} Hz must stay below the Nyquist frequency fs/2 = {fs / 2:g} Hz.")
    if settings["HighQuefIdx"] > n_fft // 2:
        raise ValueError(
            f"fc={fc} Hz is too low for fr={fr}: its period fs/fc = {fs / fc:g} samples must be below N/2 = "
            f"{n_fft // 2}; raise fc or lower fr."
        )
    rows = int(np.ceil(NumPerOct * np.log2(1.0 / (tc * fc)))) + 1  # log-frequency bins, at most
    _checks.array_size((rows, settings["HighFreqIdx"] + settings["HighQuefIdx"]), "log-frequency maps",
                       f"NumPerOct={NumPerOct} with fr={fr:g}, fc={fc:g}, tc={tc:g}", "lower NumPerOct or raise fr")
    return settings


def _even_extension(half: torch.Tensor, n: int) -> torch.Tensor:
    """``(..., n//2 + 1)`` → ``(..., n)`` with ``y[n − k] = y[k]``: the full real part of a real signal's DFT."""
    return torch.cat((half, half[..., 1 : (n + 1) // 2].flip(-1)), -1)


def _cfp_activation(half: torch.Tensor, gamma: float, cutoff: int) -> torch.Tensor:
    """``σ_γ`` on the first half of an even sequence: ReLU, high-pass (clear bins ``0 … cutoff − 1``; their mirror
    images follow in :func:`_even_extension`), then ``(·)^γ`` (``γ = 0``: ``log(· + 1e-8)``, the cleared bins
    0 after the logarithm, as in the reference code)."""
    keep = torch.ones(half.shape[-1], dtype=half.dtype, device=half.device)
    keep[:cutoff] = 0  # cutoff >= 1 (cfp_settings)
    if gamma == 0:
        return torch.log(torch.relu(half) + _CFP_LOG_EPS) * keep
    return _safe_pow(torch.relu(half) * keep, gamma)


def _cfp_extend(half: torch.Tensor, n: int, cutoff: int, compat: bool) -> torch.Tensor:
    """The full sequence after :func:`_cfp_activation`; the reference code's high-pass also clears bin
    ``n − cutoff``, whose mirror image ``cutoff`` it keeps (``compat``)."""
    full = _even_extension(half, n)
    if not compat:
        return full
    keep = torch.ones(n, dtype=full.dtype, device=full.device)
    keep[n - cutoff] = 0
    return full * keep


def cfp_from_bases(
    waveform: torch.Tensor,
    window: torch.Tensor,
    freq_map: torch.Tensor,
    quef_map: torch.Tensor,
    settings: dict,
    nnaudio_compat: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """CFP of ``(..., time)`` signals with given window ``(window_size,)`` and log-frequency maps.

    ``settings`` is :func:`cfp_settings`'s dict. Returns ``(Z, tfrL0, tfrLF, tfrLQ)``, each
    ``(..., n_bins, n_frames)`` with ``n_frames = 1 + (time + 2·(N//2) − N) // hop_length``; see :func:`cfp`.
    """
    dtype = _checks.compute_dtype(waveform)
    n, hop, size = settings["N"], settings["hop_length"], window.shape[-1]
    _checks.waveform_length(waveform, n, center=True)
    x, lead = _flatten(waveform)
    x = nonempty(x.to(dtype))
    window, freq_map, quef_map = (_cast(t, dtype, x.device) for t in (window, freq_map, quef_map))
    # Frames of N samples centred on t·hop (zero padding, as torch.stft(center=True, pad_mode='constant')); the
    # window covers samples [lpad, lpad + size) of each frame and the DFT magnitude ignores that circular shift,
    # so only those samples are framed and the DFT zero-pads them to N.
    lpad = (n - size) // 2
    xp = torch.nn.functional.pad(x, (n // 2 - lpad, n // 2))
    n_frames = geometry.n_frames(x.shape[-1], hop, n, True)
    if primitives.portable():  # a gather of exactly n_frames: no slice whose bound an exporter would guard
        starts = torch.arange(n_frames, device=x.device) * hop
        frames = xp[:, starts[:, None] + torch.arange(size, device=x.device)]
    else:
        frames = xp.unfold(-1, size, hop)[:, :n_frames]
    scale_fft = 1.0 / np.sqrt(n)
    tfr0 = torch.fft.rfft(frames * window, n=n).abs() / torch.linalg.vector_norm(window)
    # Every sequence below is even (the real part of a real signal's DFT) up to the high-pass, so the nonlinearity
    # runs on the first half and the full sequence is rebuilt only as the input of the next DFT.
    g = settings["g"]
    spec = torch.log(tfr0 + _CFP_LOG_EPS) if g[0] == 0 else _safe_pow(tfr0, g[0])
    ceps = None
    for layer, gamma in enumerate(g[1:], start=1):
        quefrency = layer % 2 == 1  # spectrum → generalised cepstrum (high-passed in quefrency: periods below tc)
        source, cutoff = (spec, settings["tc_idx"]) if quefrency else (ceps, settings["fc_idx"])
        previous = settings["fc_idx"] if quefrency else settings["tc_idx"]
        full = _even_extension(source, n) if layer == 1 else _cfp_extend(source, n, previous, nnaudio_compat)
        out = _cfp_activation(torch.fft.rfft(full).real * scale_fft, gamma, cutoff)
        if quefrency:
            ceps = out
        else:  # cepstrum → generalised spectrum (high-passed in frequency: below fc)
            spec = out
    hf, hq = settings["HighFreqIdx"], settings["HighQuefIdx"]
    tfrL0 = torch.matmul(tfr0[..., :hf], freq_map.t()).transpose(-1, -2)
    tfrLF = torch.matmul(spec[..., :hf], freq_map.t()).transpose(-1, -2)
    tfrLQ = torch.matmul(ceps[..., :hq], quef_map.t()).transpose(-1, -2)
    out = (tfrLF * tfrLQ, tfrL0, tfrLF, tfrLQ)
    return tuple(restore(o, lead) for o in out)


def cfp(
    waveform: torch.Tensor,
    fr: float = 2,
    fs: float = 16000,
    hop_length: int = 320,
    window_size: int = 2049,
    fc: float = 80,
    tc: float = 1 / 1000,
    g=(0.24, 0.6, 1),
    NumPerOct: int = 48,
    nnaudio_compat: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Combined frequency and periodicity (Su & Yang 2015) of ``(..., time)`` signals.

    With ``X`` the STFT (DFT size ``N = int(fs / fr)``, symmetric Blackman-Harris window of ``window_size``
    samples, hop ``hop_length``, frames centred with zero padding) and ``F`` the real part of the ``N``-point DFT
    along frequency scaled by ``1/√N`` (the spectra are real and even, so ``F`` is its own inverse up to scale):

        Z₀ = |X| / ‖w‖,   U₀ = σ_{g₀}(Z₀),   U₁ = σ_{g₁}(H_t F U₀),   U₂ = σ_{g₂}(H_f F U₁),   U₃ = σ_{g₃}(H_t F U₂) …

    where ``σ_γ(x) = ReLU(x)^γ`` (``γ = 0``: a logarithm), ``H_t`` clears quefrencies below ``tc`` and ``H_f``
    frequencies below ``fc`` (with their mirror images). The last generalised spectrum ``U_{2m}`` (frequency) and
    generalised cepstrum ``U_{2m±1}`` (quefrency) are mapped to the log-frequency grid ``fc · 2^{i / NumPerOct}``
    (below ``1 / tc``) by triangular filters (:func:`nnaudio_fast.bases.cfp_filterbanks`); their product ``Z``
    peaks where a frequency and a period agree: at fundamental frequencies. More than three exponents give the
    "multi-layered cepstrum" (arXiv:1902.00539); three give the CFP of the 2015 paper.

    Returns
    -------
    (Z, tfrL0, tfrLF, tfrLQ) : Tensors of shape ``(..., n_bins, n_frames)``
        ``Z = tfrLF · tfrLQ``; ``tfrL0`` the log-frequency spectrum ``Z₀``, ``tfrLF`` the generalised spectrum,
        ``tfrLQ`` the generalised cepstrum. ``n_bins = len(center_freqs)`` (:func:`nnaudio_fast.bases.cfp_filterbanks`),
        ``n_frames = 1 + (time + 2·(N//2) − N) // hop_length`` (nnAudio's ``Combined_Frequency_Periodicity``
        drops the first and last frames; this function keeps them, as nnAudio's ``CFP``).

    ``nnaudio_compat=True`` reproduces nnAudio 0.3.4 (and the MelodyExt reference code it was ported from); see
    :func:`nnaudio_fast.bases.cfp_filterbanks` for how its log-frequency maps differ from the paper's, and note
    its high-pass also clears the one bin ``N − cutoff`` whose mirror image it keeps. ``False`` follows the
    equations: the DFT's bin frequencies, triangles that include their peak, a symmetric high-pass.
    """
    s = cfp_settings(fr, fs, hop_length, window_size, fc, tc, g, NumPerOct)
    nnaudio_compat = _checks.boolean("nnaudio_compat", nnaudio_compat)
    dtype = _checks.compute_dtype(waveform)
    device = waveform.device
    window = _basis(bases.cfp_window, (s["window_size"],), dtype, device)
    freq_map, quef_map, _ = _basis(bases.cfp_filterbanks, (s["fr"], s["fs"], s["fc"], s["tc"], s["NumPerOct"],
                                                           bool(nnaudio_compat)), dtype, device)
    return cfp_from_bases(waveform, window, freq_map, quef_map, s, nnaudio_compat)
