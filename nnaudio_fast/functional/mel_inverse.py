"""Mel → linear-frequency spectrogram (non-negative least squares), for Griffin-Lim."""

from __future__ import annotations

import torch

from .. import _checks, bases
from .common import _basis, _cast, _safe_pow


MEL_INVERSE_METHODS = ("nnls", "pinv")


def mel_to_stft_from_fbank(
    mel_spec: torch.Tensor, fbank: torch.Tensor, power: float = 2.0, n_iter: int = 100, method: str = "nnls"
) -> torch.Tensor:
    """Non-negative ``S`` with ``fbank @ S ≈ mel_spec``, then ``S^(1/power)``: ``(..., n_mels, T)`` → ``(..., F, T)``.

    ``method='nnls'`` solves ``min ½‖A S − M‖²`` subject to ``S >= 0`` (``A = fbank``) by accelerated projected
    gradient (FISTA; Beck & Teboulle 2009): ``S_{k+1} = max(0, Y_k − Aᵀ(A Y_k − M) / L)`` with ``L = ‖A‖₂²`` and
    Nesterov's extrapolation ``Y_{k+1} = S_{k+1} + (t_k − 1)/t_{k+1} · (S_{k+1} − S_k)``, started from
    ``max(0, A⁺ M)``. The residual falls as ``O(1/k²)``: ≈3e-4 relative after 100 iterations on speech
    (128 mels, n_fft 1024). ``A`` has fewer rows than columns, so ``S`` is one of many solutions (the mel
    spectrogram forgot the detail inside each band). ``method='pinv'``: ``max(0, A⁺ M)`` alone, one matmul.
    The iteration count is fixed (no data-dependent stopping, so no device synchronisation).
    """
    _checks.choice("method", method, MEL_INVERSE_METHODS)
    power = _checks.positive_float("power", power)
    n_iter = _checks.positive_int("n_iter", n_iter, minimum=0)
    dtype = _checks.compute_dtype(mel_spec, "mel_spec")
    if fbank.dim() != 2 or mel_spec.dim() < 2 or mel_spec.shape[-2] != fbank.shape[0]:
        raise ValueError(
            f"mel_spec has shape {tuple(mel_spec.shape)} but the filterbank is {tuple(fbank.shape)}: it needs "
            f"(..., {fbank.shape[0]}, n_frames); check n_mels (and the (..., n_mels, n_frames) layout)."
        )
    A = _cast(fbank.detach(), dtype, mel_spec.device)
    M = mel_spec.to(dtype)
    S = torch.relu(torch.matmul(torch.linalg.pinv(A), M))
    if method == "nnls" and n_iter > 0:
        step = 1.0 / torch.linalg.matrix_norm(A, 2) ** 2
        At = A.t()
        prev, Y, t = S, S, 1.0
        for _ in range(n_iter):
            S = torch.relu(Y - step * torch.matmul(At, torch.matmul(A, Y) - M))
            t_next = (1.0 + (1.0 + 4.0 * t * t) ** 0.5) / 2.0
            Y = S + ((t - 1.0) / t_next) * (S - prev)
            prev, t = S, t_next
    return S if power == 1.0 else _safe_pow(S, 1.0 / power)


def mel_to_stft(
    mel_spec: torch.Tensor,
    sr: float = 22050,
    n_fft: int = 2048,
    power: float = 2.0,
    n_mels: int | None = None,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm=1,
    n_iter: int = 100,
    method: str = "nnls",
) -> torch.Tensor:
    """Approximate STFT magnitude ``(..., n_fft // 2 + 1, T)`` from a mel spectrogram ``(..., n_mels, T)``.

    Inverts :func:`mel_spectrogram` with the same ``sr``, ``n_fft``, ``power``, ``fmin``, ``fmax``, ``htk`` and
    ``norm`` (``n_mels`` defaults to the input's); see :func:`mel_to_stft_from_fbank` for the solver. With
    ``power=1`` the output is in the input's domain (a power spectrogram for a power mel spectrogram). Feed the
    magnitude to :func:`griffin_lim` for a waveform: ``griffin_lim(mel_to_stft(M, sr, n_fft), n_fft, ...)``.
    """
    if not isinstance(mel_spec, torch.Tensor) or mel_spec.dim() < 2:
        raise ValueError("mel_spec must be a tensor of shape (..., n_mels, n_frames).")
    n_mels = mel_spec.shape[-2] if n_mels is None else _checks.positive_int("n_mels", n_mels)
    sr = _checks.positive_float("sr", sr)
    n_fft = _checks.positive_int("n_fft", n_fft)
    dtype = _checks.compute_dtype(mel_spec, "mel_spec")
    fbank = _basis(bases.mel_filterbank, (sr, n_fft, n_mels, fmin, fmax, htk, norm), dtype, mel_spec.device)
    return mel_to_stft_from_fbank(mel_spec, fbank, power, n_iter, method)
