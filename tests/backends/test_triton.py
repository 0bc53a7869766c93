"""Triton Fourier kernels against the float64 reference: forward, backward, engines, precision modes, custom ops.

Without a GPU the kernels run in Triton's interpreter (``TRITON_INTERPRET=1``, set by conftest before triton is
imported; numpy fp32 arithmetic, so tf32/tf32x3 are plain fp32 there and bf16 is emulated by rounding). Shapes are
small so the interpreter stays fast. Every output and scratch buffer is NaN-poisoned (``set_poison``), and
``rel_err`` fails on non-finite values, so an unwritten element fails the test.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import CUDA, TRITON_DEVICE as DEV, require_triton_interpreter_or_cuda  # noqa: E402

require_triton_interpreter_or_cuda()
pytest.importorskip("triton")

import nnaudio_fast as nf  # noqa: E402
import nnaudio_fast.kernels as KB  # noqa: E402
from nnaudio_fast import geometry  # noqa: E402
from nnaudio_fast import precision as precision_table  # noqa: E402
from nnaudio_fast import bases, dispatch, primitives, reference as R  # noqa: E402
from nnaudio_fast import functional as AF  # noqa: E402
from nnaudio_fast.kernels import fourier as K, fourier_ops as OPS  # noqa: E402

from helpers import noise, rel_err  # noqa: E402

EXACT = 1e-5  # fp32 'exact' mode vs the float64 reference, relative


@pytest.fixture(autouse=True)
def _poison():
    K.set_poison(True)
    yield
    K.set_poison(False)


def _fourier(n_fft, window="hann", win_length=None, **kw):
    wc, ws = bases.fourier_kernels(n_fft, win_length, None, window, **kw)
    return (torch.tensor(wc, dtype=torch.float32, device=DEV), torch.tensor(ws, dtype=torch.float32, device=DEV))


def _mel(n_fft, n_mels=12, sr=16000):
    return torch.tensor(bases.mel_filterbank(sr, n_fft, n_mels, 0.0, None, False, 1), dtype=torch.float32,
                        device=DEV)


def _d(t):
    return None if t is None else t.detach().double()


# ----------------------------------------------------------------------------------------------------------------
# forward
# ----------------------------------------------------------------------------------------------------------------
STFT_CASES = [
    # n_fft, hop, batch, length, center, pad_mode
    (64, 16, 2, 300, True, "reflect"),
    (50, 12, 1, 37, True, "reflect"),  # n_fft not a power of two, length not a multiple of hop, batch 1
    (63, 10, 2, 20, True, "reflect"),  # odd n_fft, input shorter than the padding (reflection repeats)
    (32, 8, 2, 1, True, "reflect"),  # a single sample
    (48, 16, 2, 7, True, "replicate"),
    (48, 16, 2, 5, True, "circular"),
    (64, 16, 2, 200, True, "constant"),
    (40, 13, 2, 40, False, "reflect"),  # one frame
    (40, 13, 2, 111, False, "reflect"),
]


# the cuFFT engine shares the framing code: a subset of the shapes suffices for it
@pytest.mark.parametrize("n_fft,hop,batch,length,center,pad_mode,engine",
                         [c + ("direct",) for c in STFT_CASES] + [c + ("fft",) for c in STFT_CASES[2::2]])
def test_stft_matches_reference(rng, n_fft, hop, batch, length, center, pad_mode, engine):
    wc, ws = _fourier(n_fft)
    x = noise(rng, batch, length, dtype=torch.float32).to(DEV)
    re, im = KB.stft(x, wc, ws, hop, center, pad_mode, precision="exact", engine=engine)
    rr, ri = R.stft(_d(x), _d(wc), _d(ws), hop, center, pad_mode)
    assert re.shape == rr.shape == im.shape
    assert rel_err(torch.stack((re, im)), torch.stack((rr, ri))) <= EXACT


@pytest.mark.parametrize("power", [2.0, 1.0, 1.5])
@pytest.mark.parametrize("filterbank,engine", [(None, "direct"), ("mel", "direct"), ("gammatone", "direct"),
                                               (None, "fft"), ("mel", "fft")])
def test_spectrogram_epilogues(rng, engine, power, filterbank):
    n_fft, hop = 64, 16
    wc, ws = _fourier(n_fft)
    fb = {None: None, "mel": _mel(n_fft),
          "gammatone": torch.tensor(bases.gammatone_filterbank(16000, n_fft, 10), dtype=torch.float32, device=DEV)}
    fb = fb[filterbank]
    x = noise(rng, 2, 250, dtype=torch.float32).to(DEV)
    out = KB.spectrogram(x, wc, ws, fb, hop, True, "reflect", power, precision="exact", engine=engine)
    ref = R.spectrogram(_d(x), _d(wc), _d(ws), _d(fb), hop, True, "reflect", power)
    assert out.shape == ref.shape
    assert rel_err(out, ref) <= EXACT


@pytest.mark.parametrize("log", ["log", "log10", "db"])
@pytest.mark.parametrize("engine", ["direct", "fft"])
def test_fused_log(rng, log, engine):
    """Whisper-style log-mel (n_fft 400 scaled down: 40, hop 16) with quiet and silent frames hitting amin."""
    wc, ws = _fourier(40)
    fb = _mel(40, 8)
    x = noise(rng, 2, 200, dtype=torch.float32).to(DEV)
    x[0, :100] = 0.0  # silence: the log is clamped at amin
    out = KB.log_spectrogram(x, wc, ws, fb, 16, True, "constant", 2.0, log, 1e-10, precision="exact", engine=engine)
    ref = R.log_spectrogram(_d(x), _d(wc), _d(ws), _d(fb), 16, True, "constant", 2.0, log, 1e-10)
    assert rel_err(out, ref) <= EXACT
    assert float(out.min()) == pytest.approx(primitives.LOG_SCALES[log] * np.log(1e-10), rel=1e-6)


def test_noncontiguous_fp16_and_strided_bases(rng):
    wc, ws = _fourier(64)
    base = noise(rng, 300, 3, dtype=torch.float32).to(DEV)
    x = base.t()[:, ::2]  # (3, 150), both strides non-unit
    assert not x.is_contiguous()
    wct, wst = wc.t().contiguous().t(), ws.t().contiguous().t()  # column-major bases
    out = KB.spectrogram(x, wct, wst, _mel(64).t().contiguous().t(), 16, True, "reflect", 2.0, precision="exact")
    ref = R.spectrogram(_d(x), _d(wc), _d(ws), _d(_mel(64)), 16, True, "reflect", 2.0)
    assert rel_err(out, ref) <= EXACT
    # fp16 waveform: loaded and squared in fp32 (no overflow although |X|^2 > 65504 here)
    xh = (noise(rng, 2, 200, dtype=torch.float32) * 30).to(torch.float16).to(DEV)
    outh = KB.spectrogram(xh, wc, ws, None, 16, True, "reflect", 2.0, precision="exact")
    refh = R.spectrogram(_d(xh), _d(wc), _d(ws), None, 16, True, "reflect", 2.0)
    assert outh.dtype == torch.float32 and float(refh.max()) > 65504
    assert rel_err(outh, refh) <= EXACT


def test_float64_is_computed_by_the_reference(rng):
    for op in ("stft", "spectrogram", "log_spectrogram", "cqt_single", "cqt_multirate", "pyramid"):
        assert dispatch.select(op, DEV, "triton", torch.float64) is getattr(R, op)
        assert dispatch.select(op, DEV, "triton", torch.float32) is getattr(KB, op)
    wc, ws = _fourier(64)
    x = noise(rng, 2, 100).to(DEV)
    out = AF.spectrogram_from_kernels(x, _d(wc), _d(ws), None, 16, True, "reflect", 2.0, backend="triton")
    assert out.dtype == torch.float64
    assert torch.equal(out, R.spectrogram(x, _d(wc), _d(ws), None, 16, True, "reflect", 2.0))


# ----------------------------------------------------------------------------------------------------------------
# backward
# ----------------------------------------------------------------------------------------------------------------
def _grads(fn, inputs, grad_out):
    out = fn(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    wanted = [t for t in inputs if t is not None and t.requires_grad]
    return torch.autograd.grad(outs, wanted, grad_out)


GRAD_CASES = [
    # n_fft, hop, length, center, pad_mode
    (64, 16, 230, True, "reflect"),
    (50, 12, 21, True, "reflect"),  # input shorter than the padding: repeated reflections fold back
    (48, 16, 30, True, "replicate"),
    (48, 10, 19, True, "circular"),
    (40, 13, 150, True, "constant"),
    (40, 13, 111, False, "reflect"),
]


@pytest.mark.parametrize("n_fft,hop,length,center,pad_mode", GRAD_CASES)
def test_stft_gradients_match_reference(rng, n_fft, hop, length, center, pad_mode):
    wc, ws = _fourier(n_fft)
    x = noise(rng, 2, length, dtype=torch.float32).to(DEV).requires_grad_()
    wc.requires_grad_(), ws.requires_grad_()
    T = geometry.n_frames(length, hop, n_fft, center)
    g = tuple(noise(rng, 2, n_fft // 2 + 1, T, dtype=torch.float32).to(DEV) for _ in range(2))
    got = _grads(lambda *a: KB.stft(*a, hop, center, pad_mode, precision="exact"), (x, wc, ws), g)
    ins = [_d(t).requires_grad_() for t in (x, wc, ws)]
    want = _grads(lambda *a: R.stft(*a, hop, center, pad_mode), ins, tuple(t.double() for t in g))
    for name, a, b in zip(("x", "wcos", "wsin"), got, want):
        assert rel_err(a, b) <= EXACT, name


@pytest.mark.parametrize(
    "power,filterbank,pad_mode,engine",
    [(2.0, "mel", "reflect", "direct"), (1.0, "mel", "constant", "direct"), (1.5, None, "reflect", "direct"),
     (2.0, "mel", "reflect", "fft"), (1.0, None, "circular", "fft")],
)
def test_spectrogram_gradients_match_reference(rng, power, filterbank, pad_mode, engine):
    """Waveform, both kernels (direct engine: trainable) and the filterbank; silence gives finite gradients."""
    n_fft, hop, length = 64, 16, 200
    wc, ws = _fourier(n_fft)
    fb = _mel(n_fft) if filterbank else None
    trainable = engine == "direct"
    wc.requires_grad_(trainable), ws.requires_grad_(trainable)
    if fb is not None:
        fb.requires_grad_()
    x = noise(rng, 2, length, dtype=torch.float32)
    x[1, 40:140] = 0.0  # silent frames: |X| = 0 where the magnitude's gradient must be 0, not NaN
    x = x.to(DEV).requires_grad_()
    rows = fb.shape[0] if fb is not None else n_fft // 2 + 1
    g = noise(rng, 2, rows, 1 + length // hop, dtype=torch.float32).to(DEV)
    fn = lambda *a: KB.spectrogram(*a, hop, True, pad_mode, power, precision="exact", engine=engine)  # noqa: E731
    got = _grads(fn, (x, wc, ws, fb), g)
    ins = [None if t is None else _d(t).requires_grad_(t.requires_grad) for t in (x, wc, ws, fb)]
    want = _grads(lambda *a: R.spectrogram(*a, hop, True, pad_mode, power), ins, g.double())
    assert len(got) == len(want) == 1 + 2 * trainable + (fb is not None)
    for a, b in zip(got, want):
        assert rel_err(a, b) <= EXACT


def test_log_spectrogram_gradients(rng):
    """With gradients the wrapper logs with torch ops; the op's own log backward (recomputation) agrees."""
    wc, ws = _fourier(40)
    fb = _mel(40, 8).requires_grad_()
    x = noise(rng, 2, 150, dtype=torch.float32)
    x[0, :60] = 0.0
    x = x.to(DEV).requires_grad_()
    g = noise(rng, 2, 8, 1 + 150 // 16, dtype=torch.float32).to(DEV)
    ins = [_d(x).requires_grad_(), _d(fb).requires_grad_()]
    want = _grads(lambda a, f: R.log_spectrogram(a, _d(wc), _d(ws), f, 16, True, "constant", 2.0, "db", 1e-10),
                  ins, g.double())
    got = _grads(lambda a, f: KB.log_spectrogram(a, wc, ws, f, 16, True, "constant", 2.0, "db", 1e-10), (x, fb), g)
    scale = primitives.LOG_SCALES["db"]
    op = lambda a, f: OPS.fourier_spectrogram(a, wc, ws, f, 16, True, "constant", 2.0, scale, 1e-10,  # noqa: E731
                                              "exact", "direct")
    got_op = _grads(op, (x, fb), g)
    for a, b, c in zip(got, got_op, want):
        assert rel_err(a, c) <= EXACT and rel_err(b, c) <= EXACT


def test_basis_gradient_split_is_deterministic(rng):
    """The (b, t) reduction split into partial sums gives the same result as one pass (and as einsum), and
    repeated backward passes are bitwise identical (no atomics)."""
    wc, ws = _fourier(32)
    x = noise(rng, 3, 400, dtype=torch.float32).to(DEV)
    T = geometry.n_frames(400, 8, 32, True)
    g1, g2 = (noise(rng, 3, 17, T, dtype=torch.float32).to(DEV) for _ in range(2))
    one = K.outer(g1, g2, x, None, 32, 8, True, "reflect", "exact", split=1)
    three = K.outer(g1, g2, x, None, 32, 8, True, "reflect", "exact", split=3)
    frames = primitives.frames(_d(x), 32, 8, True, "reflect")
    want = torch.einsum("brt,btc->rc", _d(g1), frames)
    assert rel_err(one[0], want) <= EXACT and rel_err(three[0], want) <= EXACT
    again = K.outer(g1, g2, x, None, 32, 8, True, "reflect", "exact", split=3)
    assert torch.equal(three[0], again[0]) and torch.equal(three[1], again[1])


# ----------------------------------------------------------------------------------------------------------------
# precision modes
# ----------------------------------------------------------------------------------------------------------------
# Bounds (relative L2 vs float64) per mode. 'exact' (3xTF32) and 'ieee' are FP32-class. On a GPU, one TF32 pass
# keeps 11 significant bits and bf16 8: measured bounds to be confirmed when a GPU is lent (notes: median power
# error 1.1e-3 / 9.3e-3 per bin).
BOUNDS = {name: mode.rtol for name, mode in precision_table.MODES.items()}  # one table: nnaudio_fast.precision


@pytest.mark.parametrize("precision", list(BOUNDS))
def test_precision_modes_within_bounds(rng, precision):
    wc, ws = _fourier(64)
    fb = _mel(64)
    x = noise(rng, 2, 300, dtype=torch.float32).to(DEV)
    out = KB.spectrogram(x, wc, ws, fb, 16, True, "reflect", 2.0, precision=precision, engine="direct")
    err = rel_err(out, R.spectrogram(_d(x), _d(wc), _d(ws), _d(fb), 16, True, "reflect", 2.0))
    assert err <= BOUNDS[precision]
    if precision == "bf16":
        assert err > 1e-5, "bf16 operands (rounded in the interpreter) must be visibly less exact than fp32"


def test_precision_follows_torch_setting():
    saved = torch.get_float32_matmul_precision()
    try:
        for torch_name, mode in (("highest", "exact"), ("high", "tf32"), ("medium", "bf16")):
            torch.set_float32_matmul_precision(torch_name)
            assert KB.resolve_precision(None) == mode
    finally:
        torch.set_float32_matmul_precision(saved)
    assert KB.resolve_precision("ieee") == "ieee" and KB.resolve_precision("high") == "tf32"
    with pytest.raises(ValueError, match="precision='fp8'"):
        KB.resolve_precision("fp8")
    with pytest.raises(ValueError, match="precision='fast'"):
        AF.mel_spectrogram(torch.randn(1000), precision="fast")


# ----------------------------------------------------------------------------------------------------------------
# engine choice
# ----------------------------------------------------------------------------------------------------------------
def test_dft_window_detection_and_engine_table(monkeypatch):
    wc, ws = _fourier(64, window="hamming")
    w = OPS.dft_window(wc, ws)
    assert w is not None and torch.allclose(w, torch.tensor(bases.get_window("hamming", 64), dtype=torch.float32,
                                                                   device=DEV))
    assert OPS.dft_window(*_fourier(64, win_length=50)) is not None  # centre-padded window
    assert OPS.dft_window(*_fourier(64, freq_scale="log", fmin=100, fmax=4000)) is None
    wc2 = wc.clone()
    assert OPS.dft_window(wc2, ws) is not None
    wc2[3, 5] += 1e-3  # in place: the version changes, the cached verdict does not stick
    assert OPS.dft_window(wc2, ws) is None
    with pytest.raises(ValueError, match="engine='fft'"):
        OPS._fft_window("fft", wc2, ws, "exact", 10 ** 6)
    # auto: plain DFT, large enough n_fft and enough frames → fft; otherwise direct
    big = _fourier(OPS.FFT_MIN_N_FFT["exact"])
    assert OPS._fft_window("auto", *big, "exact", OPS.FFT_MIN_FRAMES) is not None
    assert OPS._fft_window("auto", *_fourier(OPS.FFT_MIN_N_FFT["exact"] - 2), "exact", 10 ** 6) is None
    assert OPS._fft_window("auto", *big, "bf16", OPS.FFT_MIN_FRAMES) is None
    monkeypatch.setattr(OPS, "FFT_MIN_FRAMES", 100)
    assert OPS._fft_window("auto", *big, "exact", 99) is None
    assert OPS._fft_window("direct", *big, "exact", 10 ** 6) is None
    # trainable bases stay on the direct engine; the env var overrides; bad names are rejected
    assert KB.resolve_engine(None, wc.clone().requires_grad_(), ws) == "direct"
    with torch.no_grad():  # inference with a trainable layer: the values decide
        assert KB.resolve_engine(None, wc.clone().requires_grad_(), ws) == "auto"
    monkeypatch.setenv(KB.ENGINE_ENV, "fft")
    assert KB.resolve_engine(None, wc, ws) == "fft"
    monkeypatch.setenv(KB.ENGINE_ENV, "cufft")
    with pytest.raises(ValueError, match="NNAUDIO_FAST_FOURIER_ENGINE='cufft'"):
        KB.resolve_engine(None, wc, ws)


# ----------------------------------------------------------------------------------------------------------------
# dispatch, functional API, modules
# ----------------------------------------------------------------------------------------------------------------
def test_dispatch_routing(monkeypatch):
    assert dispatch.select("spectrogram", DEV, "triton") is KB.spectrogram
    assert dispatch.select("log_spectrogram", DEV, "triton") is KB.log_spectrogram
    if not CUDA:
        monkeypatch.delenv("TRITON_INTERPRET")
        assert "CUDA" in KB.unavailable_reason() and not KB.runs_on("cpu")
        with pytest.raises(dispatch.BackendUnavailableError, match="triton"):
            dispatch.select("stft", "cpu", "triton")
        with pytest.raises(dispatch.BackendUnavailableError):
            AF.stft(torch.randn(500), n_fft=64, backend="triton")
        assert dispatch.select("stft", "cpu") is not KB.stft  # auto on the CPU never picks the interpreter


def test_import_and_auto_dispatch_work_without_triton():
    code = (
        "import sys, time; sys.modules['triton'] = None; t = time.time()\n"
        "import nnaudio_fast as nf, torch\n"
        "assert 'triton' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "x = torch.randn(2, 3000)\n"
        "nf.functional.mel_spectrogram(x, n_fft=256, hop_length=64, n_mels=16)\n"
        "print(nf.backends()['triton'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "unavailable" in out.stdout


def test_functional_and_modules_use_the_kernels(rng):
    x = noise(rng, 2, 1, 900, dtype=torch.float32).to(DEV)  # leading dims (2, 1)
    kw = dict(sr=16000, n_fft=64, hop_length=16, n_mels=10)
    mel = AF.mel_spectrogram(x, backend="triton", precision="exact", **kw)
    assert mel.shape == (2, 1, 10, 1 + 900 // 16)
    assert rel_err(mel, AF.mel_spectrogram(x.double(), backend="reference", **kw)) <= EXACT
    mag = AF.stft(x, n_fft=64, hop_length=16, output_format="Magnitude", backend="triton")
    assert rel_err(mag, AF.stft(x.double(), n_fft=64, hop_length=16, output_format="Magnitude")) <= EXACT
    fb = _mel(64, 10)
    wc, ws = _fourier(64)
    logmel = AF.spectrogram_from_kernels(x, wc, ws, fb, 16, log="log10", backend="triton")
    want = AF.spectrogram_from_kernels(x.double(), _d(wc), _d(ws), _d(fb), 16, log="log10", backend="reference")
    assert rel_err(logmel, want) <= EXACT
    # trainable layers: gradients for the waveform, both kernels and the filterbank match the reference backend
    layers = [nf.MelSpectrogram(backend=b, trainable_mel=True, trainable_STFT=True, verbose=False, **kw).to(DEV)
              for b in ("triton", "reference")]
    xs = [noise(rng, 2, 700, dtype=torch.float32).to(DEV).requires_grad_() for _ in range(2)]
    with torch.no_grad():
        xs[1].copy_(xs[0])
    for layer, xi in zip(layers, xs):
        layer(xi).pow(2).mean().backward()
    for a, b in [(xs[0].grad, xs[1].grad)] + [(p.grad, q.grad) for p, q in zip(layers[0].parameters(),
                                                                                  layers[1].parameters())]:
        assert rel_err(a, b) <= 1e-4  # float32 reference (not float64): both sides carry fp32 rounding
    assert nf.STFT(n_fft=64, precision="tf32", verbose=False).precision == "tf32"


# ----------------------------------------------------------------------------------------------------------------
# torch.library registration and torch.compile
# ----------------------------------------------------------------------------------------------------------------
def test_opcheck_custom_ops(rng):
    wc, ws = _fourier(32)
    fb = _mel(32, 6)
    x = noise(rng, 2, 70, dtype=torch.float32).to(DEV)
    args_stft = (x.clone().requires_grad_(), wc.clone().requires_grad_(), ws.clone().requires_grad_(), 8, True,
                 "reflect", "exact", "direct")
    torch.library.opcheck(torch.ops.nnaudio_fast.fourier_stft.default, args_stft)
    args_spec = (x.clone().requires_grad_(), wc, ws, fb.clone().requires_grad_(), 8, True, "reflect", 2.0, 0.0, 1.0,
                 "exact", "direct")
    torch.library.opcheck(torch.ops.nnaudio_fast.fourier_spectrogram.default, args_spec)
    # the backward ops (no autograd of their own: they are only called inside backward)
    T = geometry.n_frames(70, 8, 32, True)
    g_re, g_im = (noise(rng, 2, 17, T, dtype=torch.float32).to(DEV) for _ in range(2))
    g_mel = noise(rng, 2, 6, T, dtype=torch.float32).to(DEV)
    ops = torch.ops.nnaudio_fast
    torch.library.opcheck(ops.fourier_spectrum_grad.default,
                          (x, wc, ws, fb, g_mel, 8, True, "reflect", 2.0, True, True, "exact", "direct"))
    torch.library.opcheck(ops.fourier_input_grad.default, (g_re, g_im, wc, ws, 70, 8, True, "reflect", "exact", "fft"))
    torch.library.opcheck(ops.fourier_basis_grad.default, (x, g_re, g_im, 32, 8, True, "reflect", "exact"))
    torch.library.opcheck(ops.fourier_filterbank_grad.default, (g_mel, g_re, "exact"))


def test_torch_compile_fullgraph(rng):
    wc, ws = _fourier(32)
    fb = _mel(32, 6).requires_grad_()
    x = noise(rng, 2, 90, dtype=torch.float32).to(DEV).requires_grad_()

    def f(x, fb):
        return KB.spectrogram(x, wc, ws, fb, 8, True, "reflect", 2.0, precision="exact", engine="direct")

    torch._dynamo.reset()
    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    out = compiled(x, fb)
    ref = f(x, fb)
    assert torch.allclose(out, ref, rtol=1e-6, atol=0)
    g1 = torch.autograd.grad(out.sum(), (x, fb))
    g2 = torch.autograd.grad(ref.sum(), (x, fb))
    assert all(torch.allclose(a, b, rtol=1e-6, atol=1e-6) for a, b in zip(g1, g2))


# ----------------------------------------------------------------------------------------------------------------
# GPU readiness without a GPU: the real compiler, and the benchmark script
# ----------------------------------------------------------------------------------------------------------------
TUNED_TRITON = ("3.6.", "3.9.")  # versions whose register use the tile table was checked against


@pytest.mark.slow
def test_kernels_compile_for_hopper_without_spills():
    """The interpreter accepts programs Triton's compiler rejects: compile every kernel variant the launchers use
    for sm_90 (H100/H200) with the real toolchain (ptxas included), in a subprocess without the interpreter."""
    import json

    import triton

    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    script = os.path.join(os.path.dirname(__file__), "triton_compile_check.py")
    shards = max(1, min(4, os.cpu_count() or 1))  # one compiler process per core
    procs = [subprocess.Popen([sys.executable, script, "--arch", "90", "--shard", f"{k}/{shards}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for k in range(shards)]
    outputs = [p.communicate(timeout=900) for p in procs]
    records = [json.loads(line) for out, _ in outputs for line in out.splitlines() if line.startswith("{")]
    errors = [r for r in records if "error" in r]
    assert all(p.returncode == 0 for p in procs) and not errors and len(records) >= 30, \
        (errors or [err for _, err in outputs])[:3]
    if triton.__version__.startswith(TUNED_TRITON):
        spills = [(r["kernel"], r["spill_stores"]) for r in records if r["spill_stores"]]
        assert not spills, f"register spills with the tuned tiles: {spills}"
    pyramid = [r for r in records if r["kernel"].startswith("cqt pyramid")]
    assert pyramid and all(r["nc_loads"] == 0 and r["barriers"] >= 1 for r in pyramid), pyramid
