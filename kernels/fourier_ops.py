"""The Fourier kernels as ``torch.library`` custom ops with autograd, and the engine choice (direct DFT or cuFFT).

Custom ops (``torch.ops.nnaudio_fast.*``) keep ``torch.compile`` graphs whole: each has a fake (meta) implementation
for tracing and its backward is itself made of custom ops, so AOTAutograd traces forward and backward without graph
breaks.

================================  =================================================================================
``fourier_stft``                  ``(re, im)``, each ``(B, F, T)``
``fourier_spectrogram``           ``|X|^p``, ``fbank @ |X|^p``, optionally ``c·ln max(·, amin)``
``fourier_spectrum_grad``         output gradient → ``(g_re, g_im)`` and ``S = |X|^p`` (backward)
``fourier_input_grad``            ``(g_re, g_im)`` → waveform gradient (backward)
``fourier_basis_grad``            ``(g_re, g_im)`` → ``(dwcos, dwsin)`` (backward)
``fourier_filterbank_grad``       ``Σ_b g[b] @ S[b]ᵀ`` (backward)
================================  =================================================================================

Engines
-------
``direct`` computes the DFT as a tensor-core matmul inside the fused kernel: any basis (trainable, non-uniform
``freq_scale``), one launch, nothing but the features written. Its cost is ``2·B·T·N·(N + 2)`` FLOP: it is
compute-bound, and at large ``n_fft`` in FP32-class precision it loses to an FFT (see
``/work/shared/notes/gpu-performance.md``: 3×TF32 direct ≈ 594 µs vs a torch.stft+mel byte floor ≈ 453 µs at
n_fft 512, 64 × 10 s).

``fft`` (only for a plain windowed-DFT basis, ``F = N//2 + 1`` bins ``wcos[k, n] = w[n]·cos(2πkn/N)``; detected from
the values and cached per tensor version) writes windowed frames with a Triton kernel, runs cuFFT's ``rfft`` (FP32),
and fuses power, filterbank and log in the Triton epilogue (the complex spectrum is read once, the power spectrum is
never written). It moves ≈ ``B·T·(8N + 16F)`` bytes with the same cuFFT call, a subset of what torch.stft + abs +
pow + matmul move, so it should never be slower than that pipeline (to be confirmed by the benchmark). The input
gradient uses ``irfft`` + an overlap-add gather.

``auto`` uses ``fft`` when the basis is a plain DFT, not trainable, ``n_fft >= FFT_MIN_N_FFT[precision]`` and the
problem has at least ``FFT_MIN_FRAMES`` frames. The table comes from the floors in the notes (direct 3×TF32 / TF32 /
bf16 throughput against the torch pipeline's bytes); it has NOT been measured yet. The environment variable
``NNAUDIO_FAST_FOURIER_ENGINE`` (auto/direct/fft) overrides the choice.

To measure when a GPU is lent
-----------------------------
1. ``python -m pytest -q tests`` on the GPU: ``tests/backends/test_triton.py`` then runs natively (no interpreter), where
   the tf32/bf16 bounds become real measurements.
2. ``python benchmarks/gpu_fourier.py --out benchmarks/results/<gpu>``: fused vs reference vs torch.stft+mel vs
   torchaudio vs nnAudio, forward and forward+backward, with each mode's error against float64.
3. ``--engines`` (add ``--batches 1,16,64``): direct vs cuFFT per (n_fft, batch, precision); set
   ``FFT_MIN_N_FFT`` / ``FFT_MIN_FRAMES`` below from the printed crossover.
4. Tile sizes ``_GPU_BLOCKS`` in :mod:`~nnaudio_fast.kernels.fourier` (chosen only for zero register spills),
   ``num_stages`` 2 vs 3, the split count of ``_outer_kernel``, and whether 'ieee' or an fp16×3 split (operands
   scaled by a power of two) beats ``tf32x3`` for the exact mode.
"""

import collections
import contextlib
import math
from typing import Optional

import torch

from ..geometry import n_frames
from ..precision import MODES
from . import fourier as K

#: Smallest n_fft for which ``auto`` computes a plain-DFT basis with cuFFT, per precision mode (from the floors in
#: the notes; tune with benchmarks/gpu_fourier.py --engines).
FFT_MIN_N_FFT = {name: mode.fft_min_n_fft for name, mode in MODES.items()}
#: Minimum batch × frames for ``auto`` to pick cuFFT. 0: n_fft alone decides. Even at batch 1 the direct DFT's
#: per-program work grows as n_fft² while the three cuFFT-engine launches cost a few µs, so no frame threshold is
#: set until the batch-1 crossover is measured (benchmarks/gpu_fourier.py --engines --batches 1).
FFT_MIN_FRAMES = 0

_WINDOW_CACHE: "collections.OrderedDict[tuple, tuple]" = collections.OrderedDict()
_WINDOW_CACHE_SIZE = 8


def device_guard(t: torch.Tensor):
    return torch.cuda.device(t.device) if t.device.type == "cuda" else contextlib.nullcontext()


def dft_window(wcos: torch.Tensor, wsin: torch.Tensor) -> Optional[torch.Tensor]:
    """The window ``w`` if ``wcos[k, n] = w[n]·cos(2πkn/N)`` and ``wsin[k, n] = w[n]·sin(2πkn/N)`` for
    ``k < N//2 + 1`` (up to float32 rounding), else ``None``. Cached per (storage, version): the check reads the
    whole basis and synchronises, so it runs once per basis value (the cache holds the tensors so a freed address
    cannot be reused by another basis while cached)."""
    F, N = wcos.shape
    if F != N // 2 + 1 or wsin.shape != wcos.shape:
        return None
    key = (wcos.data_ptr(), wcos._version, tuple(wcos.stride()), wsin.data_ptr(), wsin._version,
           tuple(wsin.stride()), F, N, wcos.device, wcos.dtype, wsin.dtype)
    hit = _WINDOW_CACHE.get(key)
    if hit is not None:
        _WINDOW_CACHE.move_to_end(key)
        return hit[0]
    with torch.no_grad():
        w = wcos[0].to(torch.float64)
        k = torch.arange(F, device=wcos.device, dtype=torch.int64)
        n = torch.arange(N, device=wcos.device, dtype=torch.int64)
        theta = (torch.outer(k, n) % N).to(torch.float64) * (2 * math.pi / N)
        tol = 1e-6 * float(w.abs().max()) + 1e-30
        ok = bool(((wcos.to(torch.float64) - w * torch.cos(theta)).abs().max() <= tol)
                  and ((wsin.to(torch.float64) - w * torch.sin(theta)).abs().max() <= tol))
        window = w.to(torch.float32).contiguous() if ok else None
    _WINDOW_CACHE[key] = (window, wcos, wsin)
    if len(_WINDOW_CACHE) > _WINDOW_CACHE_SIZE:
        _WINDOW_CACHE.popitem(last=False)
    return window


def _fft_window(engine, wcos, wsin, precision, frames_total):
    """The window when the cuFFT engine computes this problem, else ``None``."""
    if engine == "direct":
        return None
    window = dft_window(wcos, wsin)
    if engine == "fft":
        if window is None:
            raise ValueError(
                "engine='fft' needs a plain windowed-DFT basis (n_fft // 2 + 1 bins, freq_scale='no', unmodified); "
                "use engine='direct' or 'auto'."
            )
        return window
    if window is None or wcos.shape[1] < FFT_MIN_N_FFT[precision] or frames_total < FFT_MIN_FRAMES:
        return None
    return window


def _rfft_spectrum(x, window, n_fft, hop, center, pad_mode):
    return torch.fft.rfft(K.windowed_frames(x, window, n_fft, hop, center, pad_mode), dim=-1)


def _frames(x, n_fft, hop, center):
    return x.shape[0] * n_frames(x.shape[-1], hop, n_fft, center)


def _empty0(like):
    return like.new_empty((0,), dtype=torch.float32)


# ----------------------------------------------------------------------------------------------------------------
# forward ops
# ----------------------------------------------------------------------------------------------------------------
@torch.library.custom_op("nnaudio_fast::fourier_stft", mutates_args=())
def fourier_stft(x: torch.Tensor, wcos: torch.Tensor, wsin: torch.Tensor, hop_length: int, center: bool,
                 pad_mode: str, precision: str, engine: str) -> tuple[torch.Tensor, torch.Tensor]:
    N = wcos.shape[1]
    with device_guard(x):
        window = _fft_window(engine, wcos, wsin, precision, _frames(x, N, hop_length, center))
        spectrum = None if window is None else _rfft_spectrum(x, window, N, hop_length, center, pad_mode)
        return K.forward(x, wcos, wsin, None, hop_length, center, pad_mode, 2.0, 0.0, 1.0, precision,
                         K.EPI_COMPLEX, spectrum)


@fourier_stft.register_fake
def _(x, wcos, wsin, hop_length, center, pad_mode, precision, engine):
    T = n_frames(x.shape[-1], hop_length, wcos.shape[1], center)
    shape = (x.shape[0], wcos.shape[0], T)
    return x.new_empty(shape, dtype=torch.float32), x.new_empty(shape, dtype=torch.float32)


@torch.library.custom_op("nnaudio_fast::fourier_spectrogram", mutates_args=())
def fourier_spectrogram(x: torch.Tensor, wcos: torch.Tensor, wsin: torch.Tensor, fbank: Optional[torch.Tensor],
                        hop_length: int, center: bool, pad_mode: str, power: float, log_scale: float, amin: float,
                        precision: str, engine: str) -> torch.Tensor:
    N = wcos.shape[1]
    with device_guard(x):
        window = _fft_window(engine, wcos, wsin, precision, _frames(x, N, hop_length, center))
        spectrum = None if window is None else _rfft_spectrum(x, window, N, hop_length, center, pad_mode)
        epi = K.EPI_POWER if fbank is None else K.EPI_FILTERBANK
        return K.forward(x, wcos, wsin, fbank, hop_length, center, pad_mode, power, log_scale, amin, precision,
                         epi, spectrum)


@fourier_spectrogram.register_fake
def _(x, wcos, wsin, fbank, hop_length, center, pad_mode, power, log_scale, amin, precision, engine):
    T = n_frames(x.shape[-1], hop_length, wcos.shape[1], center)
    rows = wcos.shape[0] if fbank is None else fbank.shape[0]
    return x.new_empty((x.shape[0], rows, T), dtype=torch.float32)


# ----------------------------------------------------------------------------------------------------------------
# backward ops
# ----------------------------------------------------------------------------------------------------------------
@torch.library.custom_op("nnaudio_fast::fourier_spectrum_grad", mutates_args=())
def fourier_spectrum_grad(x: torch.Tensor, wcos: torch.Tensor, wsin: torch.Tensor, fbank: Optional[torch.Tensor],
                          grad: torch.Tensor, hop_length: int, center: bool, pad_mode: str, power: float,
                          want_g: bool, want_s: bool, precision: str,
                          engine: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    N = wcos.shape[1]
    with device_guard(x):
        window = _fft_window(engine, wcos, wsin, precision, _frames(x, N, hop_length, center))
        spectrum = None if window is None else _rfft_spectrum(x, window, N, hop_length, center, pad_mode)
        gre, gim, s = K.spectrum_grad(x, wcos, wsin, fbank, grad, hop_length, center, pad_mode, power, want_g,
                                      want_s, precision, spectrum)
    return (gre if want_g else _empty0(x), gim if want_g else _empty0(x), s if want_s else _empty0(x))


@fourier_spectrum_grad.register_fake
def _(x, wcos, wsin, fbank, grad, hop_length, center, pad_mode, power, want_g, want_s, precision, engine):
    T = n_frames(x.shape[-1], hop_length, wcos.shape[1], center)
    full = (x.shape[0], wcos.shape[0], T)

    def make(wanted):
        return x.new_empty(full if wanted else (0,), dtype=torch.float32)

    return make(want_g), make(want_g), make(want_s)


@torch.library.custom_op("nnaudio_fast::fourier_input_grad", mutates_args=())
def fourier_input_grad(g_re: torch.Tensor, g_im: torch.Tensor, wcos: torch.Tensor, wsin: torch.Tensor, length: int,
                       hop_length: int, center: bool, pad_mode: str, precision: str, engine: str) -> torch.Tensor:
    B, F, T = g_re.shape
    N = wcos.shape[1]
    with device_guard(g_re):
        window = _fft_window(engine, wcos, wsin, precision, B * T)
        if window is None:
            dpad = K.padded_grad_direct(g_re, g_im, wcos, wsin, hop_length, precision)
        else:
            # Σ_f Re((g_re + i·g_im)·e^{2πifn/N}) = irfft(Y, norm='forward') / 2 with DC (and Nyquist) doubled
            # (irfft counts every other bin twice, by Hermitian symmetry) and their imaginary parts dropped.
            y = torch.complex(g_re.float(), g_im.float()).transpose(1, 2)
            scale = torch.ones(F, device=g_re.device)
            scale[0] = 2.0
            if N % 2 == 0:
                scale[-1] = 2.0
            y = y * scale
            y[..., 0] = y[..., 0].real
            if N % 2 == 0:
                y[..., -1] = y[..., -1].real
            frame_grads = torch.fft.irfft(y, n=N, dim=-1, norm="forward")
            dpad = K.padded_grad_frames(frame_grads, window * 0.5, hop_length)
        return K.fold_padding(dpad, length, N, center, pad_mode)


@fourier_input_grad.register_fake
def _(g_re, g_im, wcos, wsin, length, hop_length, center, pad_mode, precision, engine):
    return g_re.new_empty((g_re.shape[0], length), dtype=torch.float32)


@torch.library.custom_op("nnaudio_fast::fourier_basis_grad", mutates_args=())
def fourier_basis_grad(x: torch.Tensor, g_re: torch.Tensor, g_im: torch.Tensor, n_fft: int, hop_length: int,
                       center: bool, pad_mode: str, precision: str) -> tuple[torch.Tensor, torch.Tensor]:
    with device_guard(x):
        dwc, dws_neg = K.outer(g_re, g_im, x, None, n_fft, hop_length, center, pad_mode, precision)
        return dwc, -dws_neg


@fourier_basis_grad.register_fake
def _(x, g_re, g_im, n_fft, hop_length, center, pad_mode, precision):
    shape = (g_re.shape[1], n_fft)
    return x.new_empty(shape, dtype=torch.float32), x.new_empty(shape, dtype=torch.float32)


@torch.library.custom_op("nnaudio_fast::fourier_filterbank_grad", mutates_args=())
def fourier_filterbank_grad(grad: torch.Tensor, spec: torch.Tensor, precision: str) -> torch.Tensor:
    with device_guard(grad):
        return K.outer(grad, None, None, spec.transpose(1, 2), spec.shape[1], 1, False, "constant", precision)


@fourier_filterbank_grad.register_fake
def _(grad, spec, precision):
    return grad.new_empty((grad.shape[1], spec.shape[1]), dtype=torch.float32)


# ----------------------------------------------------------------------------------------------------------------
# autograd
# ----------------------------------------------------------------------------------------------------------------
def _basis_and_input_grads(ctx, x, wcos, wsin, g_re, g_im, geom):
    hop, center, pad_mode, precision, engine = geom
    dx = dwc = dws = None
    if ctx.needs_input_grad[0]:
        dx = fourier_input_grad(g_re, g_im, wcos, wsin, x.shape[-1], hop, center, pad_mode, precision, engine)
        dx = dx.to(x.dtype)
    if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
        dwc, dws = fourier_basis_grad(x, g_re, g_im, wcos.shape[1], hop, center, pad_mode, precision)
        dwc = dwc.to(wcos.dtype) if ctx.needs_input_grad[1] else None
        dws = dws.to(wsin.dtype) if ctx.needs_input_grad[2] else None
    return dx, dwc, dws


def _stft_setup(ctx, inputs, output):
    x, wcos, wsin, hop, center, pad_mode, precision, engine = inputs
    ctx.save_for_backward(x, wcos, wsin)
    ctx.geom = (hop, center, pad_mode, precision, engine)


def _stft_backward(ctx, g_re, g_im):
    x, wcos, wsin = ctx.saved_tensors
    dx, dwc, dws = _basis_and_input_grads(ctx, x, wcos, wsin, g_re, g_im, ctx.geom)
    return dx, dwc, dws, None, None, None, None, None


fourier_stft.register_autograd(_stft_backward, setup_context=_stft_setup)


def _spec_setup(ctx, inputs, output):
    x, wcos, wsin, fbank, hop, center, pad_mode, power, log_scale, amin, precision, engine = inputs
    ctx.save_for_backward(x, wcos, wsin, fbank)
    ctx.geom = (hop, center, pad_mode, precision, engine)
    ctx.power, ctx.log_scale, ctx.amin = power, log_scale, amin


def _spec_backward(ctx, grad):
    x, wcos, wsin, fbank = ctx.saved_tensors
    hop, center, pad_mode, precision, engine = ctx.geom
    if ctx.log_scale != 0.0:
        # d/dy c·ln max(y, amin) = c / y where y >= amin (torch.clamp's convention), else 0. The wrappers in
        # nnaudio_fast.kernels never get here (they log with torch ops when a gradient is needed); recompute y.
        y = fourier_spectrogram(x, wcos, wsin, fbank, hop, center, pad_mode, ctx.power, 0.0, 1.0, precision, engine)
        grad = torch.where(y >= ctx.amin, grad * ctx.log_scale / y.clamp(min=ctx.amin), torch.zeros_like(grad))
    need_fb = fbank is not None and ctx.needs_input_grad[3]
    need_g = any(ctx.needs_input_grad[:3])
    dx = dwc = dws = dfb = None
    if need_fb or need_g:
        g_re, g_im, s = fourier_spectrum_grad(x, wcos, wsin, fbank, grad, hop, center, pad_mode, ctx.power, need_g,
                                              need_fb, precision, engine)
        if need_fb:
            dfb = fourier_filterbank_grad(grad, s, precision).to(fbank.dtype)
        if need_g:
            dx, dwc, dws = _basis_and_input_grads(ctx, x, wcos, wsin, g_re, g_im, ctx.geom)
    return dx, dwc, dws, dfb, None, None, None, None, None, None, None, None


fourier_spectrogram.register_autograd(_spec_backward, setup_context=_spec_setup)
