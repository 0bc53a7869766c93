"""The CPU backend's fused, cache-blocked spectrograms (nnaudio_fast.cpp.fourier) against the reference: odd sizes,
block and edge boundaries, banded filterbanks, every pad mode; the layers' plans (kept while nothing changes,
remade when a basis, dtype or the requested backend does)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch

import nnaudio_fast as nf
from nnaudio_fast import bases, cpp, reference
from nnaudio_fast import functional as AF
from nnaudio_fast.cpp import fourier as CF

from helpers import noise, rel_err

BOUND = {torch.float32: 2e-6, torch.float64: 1e-12}


def _kernels(n_fft, dtype, window="hann"):
    win = bases.get_window(window, n_fft, n_fft)
    c, s = bases.fourier_kernels(n_fft, window=window)
    return (torch.tensor(c, dtype=dtype), torch.tensor(s, dtype=dtype), torch.tensor(win, dtype=dtype))


def _mel(sr, n_fft, n_mels, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny n_fft leaves mel filters empty: a case the fused path must handle
        fb = bases.mel_filterbank(sr, n_fft, n_mels, norm="slaney")
    return torch.tensor(fb, dtype=dtype), bases.row_support(fb)


@pytest.fixture(params=["native", "one block", "many blocks"])
def blocking(request, monkeypatch):
    """The real settings (one native call when the extension is built); the torch paths only, with
    the real block size; or blocks of 8 frames with the padding gathered at the edges even for short signals (so
    block boundaries, edge sources and the middle view all occur in small tests)."""
    if request.param != "native":
        monkeypatch.setattr(CF, "NATIVE", False)
    if request.param == "many blocks":
        monkeypatch.setattr(CF, "BLOCK_BYTES", 8 * 8 * 1024)
        monkeypatch.setattr(CF, "WHOLE_PAD_SAMPLES", 0)
    return request.param


CASES = list(itertools.product(
    [(400, 160), (513, 37), (64, 1), (7, 600), (1024, 256)],  # (n_fft, hop): odd n_fft, hop 1, hop > n_fft
    [1, 3],  # batch
    [True, False],  # center
))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("geometry,batch,center", CASES)
def test_fused_mel_equals_reference(rng, blocking, dtype, geometry, batch, center):
    n_fft, hop = geometry
    wc, ws, win = _kernels(n_fft, dtype)
    fb, support = _mel(16000, n_fft, 24, dtype)
    for length in {n_fft + 3 * hop + 1, 5 * n_fft + 17} | ({n_fft // 2 + 2, 3} if center else set()):
        x = noise(rng, batch, length, dtype=dtype)
        want = reference.spectrogram(x, wc, ws, fb, hop, center, "reflect", 2.0)
        got = CF.fused_spectrogram(x, win, fb, hop, center, "reflect", 2.0, support=support)
        assert got.is_contiguous() and got.shape == want.shape
        assert rel_err(got, want) < BOUND[dtype], (length, blocking)


@pytest.mark.parametrize("pad_mode", ["reflect", "constant", "replicate", "circular"])
@pytest.mark.parametrize("power", [2.0, 1.0, 0.5])
@pytest.mark.parametrize("filters", ["mel", "none"])
def test_fused_pad_modes_powers_and_plain_spectra(rng, blocking, pad_mode, power, filters):
    n_fft, hop, dtype = 96, 20, torch.float64
    wc, ws, win = _kernels(n_fft, dtype)
    fb, support = _mel(8000, n_fft, 12, dtype) if filters == "mel" else (None, None)
    # |X|^0.5 = (re² + im²)^(1/4) magnifies the FFT's and the kernel product's different rounding of bins near 0
    bound = 1e-12 if power >= 1 else 1e-7
    for length in (7, 95, 1001):  # shorter than the padding, than a frame, and long
        x = noise(rng, 2, length, dtype=dtype)
        want = reference.spectrogram(x, wc, ws, fb, hop, True, pad_mode, power)
        got = CF.fused_spectrogram(x, win, fb, hop, True, pad_mode, power, support=support)
        assert rel_err(got, want) < bound, (length, pad_mode)


@pytest.mark.parametrize("log", ["log", "log10", "db"])
def test_fused_log_equals_reference(rng, blocking, log):
    n_fft, hop, dtype = 400, 160, torch.float32
    wc, ws, win = _kernels(n_fft, dtype)
    fb, support = _mel(16000, n_fft, 80, dtype)
    x = noise(rng, 2, 4321, dtype=dtype)
    x[:, 1000:2000] = 0  # silence: the floor amin is reached
    want = reference.log_spectrogram(x, wc, ws, fb, hop, True, "reflect", 2.0, log, 1e-10)
    got = cpp.log_spectrogram(x, wc, ws, fb, hop, True, "reflect", 2.0, log, 1e-10, win, support=support)
    assert rel_err(got, want) < 2e-6


def test_banded_product_skips_what_the_support_certifies(rng, monkeypatch):
    """The blocked product is banded: values outside each row group's span (which covers its rows' supports) are
    never read, so poisoning them changes nothing; without the certificate the dense product sees them."""
    monkeypatch.setattr(CF, "WHOLE_PAD_SAMPLES", 0)  # the blocked path (one-block problems use a dense product)
    n_fft, hop, dtype = 256, 64, torch.float64
    wc, ws, win = _kernels(n_fft, dtype)
    fb, support = _mel(16000, n_fft, 20, dtype)
    x = noise(rng, 1, 4000, dtype=dtype)
    poisoned = fb.clone()
    groups = CF.row_groups(support, 63)
    assert len(groups) > 1
    for r0, r1, c0, c1 in groups:
        poisoned[r0:r1, :c0] = float("nan")
        poisoned[r0:r1, c1:] = float("nan")
    want = reference.spectrogram(x, wc, ws, fb, hop, True, "reflect", 2.0)
    got = CF.fused_spectrogram(x, win, poisoned, hop, True, "reflect", 2.0, support=support)
    assert rel_err(got, want) < 1e-12
    dense = CF.fused_spectrogram(x, win, poisoned, hop, True, "reflect", 2.0, support=None)
    assert torch.isnan(dense).any()


def test_one_block_sparse_product_reads_only_the_support_and_follows_edits(rng, monkeypatch):
    """A one-block problem multiplies a CSR matrix of the certified support (above DENSE_MACS multiply-adds):
    entries outside it are never read (poisoning them changes nothing; the dense product sees them), and the cached
    sparse matrix follows in-place edits of the filterbank and never outlives it."""
    monkeypatch.setattr(CF, "DENSE_MACS", 0)
    monkeypatch.setattr(CF, "NATIVE", False)
    n_fft, hop, dtype = 256, 64, torch.float64
    wc, ws, win = _kernels(n_fft, dtype)
    fb, support = _mel(16000, n_fft, 20, dtype)
    for batch in (1, 3):
        x = noise(rng, batch, 1000, dtype=dtype)
        assert x.numel() <= CF.WHOLE_PAD_SAMPLES  # the one-block path
        poisoned = fb.clone()
        for m, (lo, hi) in enumerate(support):
            poisoned[m, :lo] = float("nan")
            poisoned[m, hi:] = float("nan")
        want = reference.spectrogram(x, wc, ws, fb, hop, True, "reflect", 2.0)
        got = CF.fused_spectrogram(x, win, poisoned, hop, True, "reflect", 2.0, support=support)
        assert got.shape == want.shape and got.is_contiguous()
        assert rel_err(got, want) < 1e-12
        assert torch.isnan(CF.fused_spectrogram(x, win, poisoned, hop, True, "reflect", 2.0, support=None)).any()
        edited = fb.clone()
        CF.fused_spectrogram(x, win, edited, hop, True, "reflect", 2.0, support=support)
        edited.mul_(3.0)  # in place: the version counter moves, the cached CSR matrix must not be reused
        got = CF.fused_spectrogram(x, win, edited, hop, True, "reflect", 2.0, support=support)
        assert rel_err(got, 3.0 * want) < 1e-12
    entries = len(CF._DERIVED)
    del poisoned, edited
    assert len(CF._DERIVED) < entries  # entries die with their filterbank


@pytest.mark.parametrize("frames", [1, 11, 512])
def test_row_groups_cover_every_row_and_its_support(rng, frames):
    supports = [bases.row_support(_mel(16000, 1024, 128, torch.float64)[0]),
                tuple((int(a), int(a + b)) for a, b in zip(rng.integers(0, 400, 50), rng.integers(0, 100, 50))),
                ((0, 0), (3, 9), (0, 0), (0, 513))]
    for support in supports:
        groups = CF.row_groups(support, frames)
        assert groups[0][0] == 0 and groups[-1][1] == len(support)
        assert all(a[1] == b[0] for a, b in zip(groups, groups[1:]))  # consecutive, no gap, no overlap
        for r0, r1, c0, c1 in groups:
            for lo, hi in support[r0:r1]:
                assert hi <= lo or (c0 <= lo and hi <= c1)
    dense_cost = 128 * 513 * frames
    r0_groups = CF.row_groups(supports[0], frames)
    banded_cost = sum((r1 - r0) * (c1 - c0) * frames for r0, r1, c0, c1 in r0_groups)
    assert banded_cost < dense_cost / 4 if frames >= 512 else banded_cost <= dense_cost


def test_backend_takes_the_fused_path_only_without_gradients(rng, monkeypatch):
    n_fft, hop, dtype = 128, 32, torch.float64
    wc, ws, win = _kernels(n_fft, dtype)
    fb, support = _mel(8000, n_fft, 16, dtype)
    calls = []
    original = CF.fused_spectrogram
    monkeypatch.setattr(CF, "fused_spectrogram", lambda *a, **k: calls.append(1) or original(*a, **k))
    x = noise(rng, 2, 999, dtype=dtype)
    want = reference.spectrogram(x, wc, ws, fb, hop, True, "reflect", 2.0)
    with torch.no_grad():
        assert rel_err(cpp.spectrogram(x, wc, ws, fb, hop, True, "reflect", 2.0, win, support=support), want) < 1e-12
    assert calls == [1]
    xg = x.clone().requires_grad_(True)
    out = cpp.spectrogram(xg, wc, ws, fb, hop, True, "reflect", 2.0, win, support=support)
    assert calls == [1] and out.requires_grad
    (g,) = torch.autograd.grad(out.sum(), xg)
    xr = x.clone().requires_grad_(True)
    (gr,) = torch.autograd.grad(reference.spectrogram(xr, wc, ws, fb, hop, True, "reflect", 2.0).sum(), xr)
    assert rel_err(g, gr) < 1e-10


# ---------------------------------------------------------------------------------------------------------------
# the layers: fused through a plan that is remade when anything it depends on changes
# ---------------------------------------------------------------------------------------------------------------
def _mel_layer(**kw):
    return nf.MelSpectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40, verbose=False, **kw)


def test_layer_equals_reference_layer_on_odd_inputs(rng):
    ours, ref = _mel_layer(), _mel_layer(backend="reference")
    for shape in [(1, 1), (1, 401), (3, 16001), (2, 1, 777), (555,)]:
        x = noise(rng, *shape, dtype=torch.float32)
        assert rel_err(ours(x), ref(x)) < 2e-6, shape
    x = noise(rng, 3, 2 * 4001, dtype=torch.float32)[:, ::2]  # non-contiguous
    assert rel_err(ours(x), ref(x)) < 2e-6
    assert ours(torch.zeros(0, 1000)).shape == (0, 40, 7)


def test_layer_plan_follows_basis_changes(rng):
    layer = _mel_layer()
    x = noise(rng, 2, 5000, dtype=torch.float32)
    before = layer(x)
    assert rel_err(layer(x), before) == 0.0  # the kept plan
    new = layer.mel_basis.clone()
    new[:, 50:] = 0.5  # denser than the built filterbank: a stale support would drop these columns
    layer.mel_basis.copy_(new)
    want = _mel_layer(backend="reference")
    want.mel_basis.copy_(new)
    assert rel_err(layer(x), want(x)) < 2e-6
    state = _mel_layer().state_dict()
    layer.load_state_dict(state)
    assert rel_err(layer(x), before) < 1e-7
    for edited in (layer, want):  # through .data: not seen by version counters (documented: refresh_bases)
        edited.load_state_dict(state)
        edited.stft.wcos.data.mul_(2.0)
        edited.stft.refresh_bases()
    assert rel_err(layer(x), want(x)) < 2e-6 and rel_err(layer(x), before) > 0.1
    assert rel_err(layer(x.double()), want(x.double())) < 1e-12
    for edited in (layer, want):  # the filterbank through .data: the native plan kept for it is remade too
        edited.load_state_dict(state)
        edited.mel_basis.data.mul_(3.0)
        version = edited.mel_basis._version
        edited.refresh_bases()  # advances the fixed bases' version counters, which every derived cache reads
        assert edited.mel_basis._version > version
    assert rel_err(layer(x), want(x)) < 2e-6 and rel_err(layer(x), 3.0 * before) < 1e-6


def test_layer_plan_follows_the_requested_backend(rng, monkeypatch):
    layer = _mel_layer()
    x = noise(rng, 1, 3000, dtype=torch.float32)
    layer(x)
    calls = []
    original = reference.spectrogram
    monkeypatch.setattr(reference, "spectrogram", lambda *a, **k: calls.append(1) or original(*a, **k))
    monkeypatch.setenv("NNAUDIO_FAST_BACKEND", "reference")
    layer(x)
    assert calls == [1]


def test_trainable_layer_computes_gradients(rng):
    layer = _mel_layer(trainable_mel=True)
    x = noise(rng, 2, 3000, dtype=torch.float32)
    layer(x).sum().backward()
    assert layer.mel_basis.grad is not None and torch.isfinite(layer.mel_basis.grad).all()
    with torch.no_grad():
        layer.mel_basis.add_(0.01)
    ref = _mel_layer(backend="reference", trainable_mel=True)
    with torch.no_grad():
        ref.mel_basis.copy_(layer.mel_basis)
    assert rel_err(layer(x), ref(x)) < 2e-6


# ---------------------------------------------------------------------------------------------------------------
# the trainable-window parametrisation: DFT fixed, window (and filterbank) trainable, gradients by FFT on the CPU
# ---------------------------------------------------------------------------------------------------------------
def test_trainable_window_matches_reference_values_and_gradients(rng, monkeypatch):
    x = noise(rng, 2, 3001, dtype=torch.float64)
    results = {}
    for backend in ("cpp", "reference"):
        torch.manual_seed(0)
        layer = _mel_layer(trainable_window=True, trainable_mel=True, backend=backend)
        with torch.no_grad():
            layer.stft.window_mask.mul_(torch.linspace(0.5, 1.5, 400).reshape(1, -1, 1))  # a "trained" window
        xr = x.clone().requires_grad_(True)
        y = layer(xr)
        y.pow(2).sum().backward()
        results[backend] = (y, layer.stft.window_mask.grad, layer.mel_basis.grad, xr.grad)
    for got, want in zip(results["cpp"], results["reference"]):
        assert rel_err(got, want) < 1e-10
    calls = []
    original = torch.stft
    monkeypatch.setattr(torch, "stft", lambda *a, **k: calls.append(1) or original(*a, **k))
    layer = _mel_layer(trainable_window=True, trainable_mel=True)
    layer(x.float()).sum().backward()
    assert calls, "the CPU backend computes a trainable window's spectrogram by FFT"


def test_trainable_window_gradcheck_on_the_reference(rng):
    layer = nf.STFT(n_fft=16, hop_length=5, output_format="Magnitude", trainable_window=True, backend="reference",
                    verbose=False).double()
    x = noise(rng, 1, 40, dtype=torch.float64)

    with torch.no_grad():  # a trained window (not the built one: the layer then uses it as stored)
        layer.window_mask.copy_(torch.from_numpy(rng.uniform(0.1, 1.0, (1, 16, 1))))
    window = layer.window_mask.detach().reshape(-1).clone().requires_grad_(True)
    dcos, dsin = layer._basis("dft_cos", torch.float64), layer._basis("dft_sin", torch.float64)

    def spectrum(w):
        from nnaudio_fast import functional as AF
        return AF.spectrogram_from_kernels(x, dcos * w, dsin * w, None, 5, True, "reflect", 1.0,
                                           backend="reference")

    assert torch.autograd.gradcheck(spectrum, (window,))
    y = layer(x)
    (g,) = torch.autograd.grad(y.sum(), layer.window_mask)
    (g_ref,) = torch.autograd.grad(spectrum(window).sum(), window)
    assert rel_err(g.reshape(-1), g_ref) < 1e-12


def test_trainable_window_and_kernels_exclude_each_other():
    with pytest.raises(ValueError, match="trainable_window"):
        nf.STFT(n_fft=64, trainable=True, trainable_window=True)


@pytest.mark.parametrize("support,error,match", [
    (((0, 4),) * 2, ValueError, "there are 3 filters in fbank"),
    (((0, 4), (2, 1), (0, 4)), ValueError, r"support\[1\]=\(2, 1\)"),
    (((0, 4), (0, 34), (0, 4)), ValueError, "frequency bins 33"),
    ((0, 1, 2), TypeError, "integer pairs"),
])
def test_invalid_filterbank_supports_raise(support, error, match):
    wc, ws, win = _kernels(64, torch.float32)
    with pytest.raises(error, match=match):
        AF.spectrogram_from_kernels(torch.ones(1, 500), wc, ws, torch.ones(3, 33), 16, dft_window=win,
                                    support=support)


@pytest.mark.parametrize("length", [1000, 3000, 9000])
def test_one_block_results_do_not_depend_on_the_batch(rng, length):
    """An example's spectrogram is bitwise the same alone or in a batch (a spawn DataLoader's items against the
    whole batch): the dense/sparse choice of the one-block product is made per example."""
    n_fft, hop = 256, 64
    wc, ws, win = _kernels(n_fft, torch.float32)
    fb, support = _mel(16000, n_fft, 32, torch.float32)
    x = noise(rng, 4, length, dtype=torch.float32)
    whole = CF.fused_spectrogram(x, win, fb, hop, True, "reflect", 2.0, support=support)
    for i in range(4):
        assert torch.equal(CF.fused_spectrogram(x[i: i + 1], win, fb, hop, True, "reflect", 2.0, support=support)[0],
                           whole[i])


@pytest.mark.skipif(CF._ext is None, reason="the C++ extension is not built")
def test_native_call_reads_only_the_support_and_follows_edits(rng, monkeypatch):
    """With the extension built the spectrogram is one native call (csrc/frames.cpp): it reads only each row's
    certified support (poisoned entries outside change nothing; without the certificate they show), follows in-place
    edits of the filterbank and the window, and takes non-contiguous input."""
    calls = []
    original = CF._native
    monkeypatch.setattr(CF, "_native", lambda *a: calls.append(a[-1]) or original(*a))
    n_fft, hop, dtype = 256, 64, torch.float64
    wc, ws, win = _kernels(n_fft, dtype)
    fb, support = _mel(16000, n_fft, 20, dtype)
    x = noise(rng, 3, 2 * 1234, dtype=dtype)[:, ::2]  # strided
    poisoned = fb.clone()
    for m, (lo, hi) in enumerate(support):
        poisoned[m, :lo] = float("nan")
        poisoned[m, hi:] = float("nan")
    want = reference.spectrogram(x, wc, ws, fb, hop, True, "reflect", 2.0)
    assert rel_err(CF.fused_spectrogram(x, win, poisoned, hop, True, "reflect", 2.0, support=support), want) < 1e-12
    assert torch.isnan(CF.fused_spectrogram(x, win, poisoned, hop, True, "reflect", 2.0, support=None)).any()
    assert calls == [want.shape[-1]] * 2
    edited, window = fb.clone(), win.clone()
    CF.fused_spectrogram(x, window, edited, hop, True, "reflect", 2.0, support=support)
    edited.mul_(3.0)
    window.mul_(0.5)  # |X|² scales by 1/4
    got = CF.fused_spectrogram(x, window, edited, hop, True, "reflect", 2.0, support=support)
    assert rel_err(got, 0.75 * want) < 1e-12
    monkeypatch.setattr(CF, "NATIVE", False)
    CF.fused_spectrogram(x, win, fb, hop, True, "reflect", 2.0, support=support)
    assert len(calls) == 4  # switched off: the torch paths


@pytest.mark.skipif(CF._ext is None, reason="the C++ extension is not built")
def test_native_plans_die_with_their_tensors(rng):
    """The native call's plan is kept for its filterbank (else its window) and dies with it: the entry keeps no
    reference to its own tensor."""
    CF._DERIVED.clear()  # the cache forgets everything at 64 entries: start below that
    x = noise(rng, 1, 3000, dtype=torch.float32)
    fb, support = _mel(16000, 256, 20, torch.float32)
    window, other = torch.hann_window(256), torch.hann_window(256) * 0.5
    CF.fused_spectrogram(x, window, None, 64, True, "reflect", 2.0)
    CF.fused_spectrogram(x, other, fb, 64, True, "reflect", 2.0, support=support)
    entries = len(CF._DERIVED)
    del window
    assert len(CF._DERIVED) == entries - 1
    del fb
    assert len(CF._DERIVED) == entries - 2


@pytest.mark.skipif(CF._ext is None, reason="the C++ extension is not built")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_native_frames_do_not_depend_on_threads_or_lanes(rng, dtype):
    """The native call computes frames in vector lanes, groups of consecutive frames split over threads: a frame's
    value is bitwise the same whatever the thread count and whichever lane it falls in (frames 3… computed as
    frames 0… of a call that starts three hops later, as a stream's step does), one frame alone included."""
    n_fft, hop = 256, 64
    fb, support = _mel(16000, n_fft, 32, torch.float64)
    plan = CF._native_plan(torch.hann_window(n_fft, dtype=torch.float64), fb, support, hop, "reflect", 2.0, "db",
                           1e-10)
    x = noise(rng, 4, 200 * hop, dtype=dtype).numpy()
    run = plan.run_f64 if dtype == torch.float64 else plan.run_f32

    def frames(lead, count, threads):
        return run(x, lead, count, threads)

    whole = frames(-n_fft // 2, 201, 1)
    assert np.isfinite(whole).all()
    assert np.array_equal(frames(-n_fft // 2, 201, 2), whole)  # 4 × 201 frames × 256: enough work for 2 threads
    assert np.array_equal(frames(-n_fft // 2 + 3 * hop, 198, 2), whole[..., 3:])
    for t in (0, 5, 200):  # one frame per call (a streaming step): computed in a narrower vector
        assert np.array_equal(frames(-n_fft // 2 + t * hop, 1, 1)[..., 0], whole[..., t])


@pytest.mark.skipif(CF._ext is None, reason="the C++ extension is not built")
@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 12, 49, 97, 200, 210, 243, 400, 1000, 1021])
def test_native_fft_equals_numpy(rng, n):
    z = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    out = CF._ext.fft(z.real.copy(), z.imag.copy())  # (lanes, n, 2): every lane of the vectorised FFT
    assert out.shape[0] > 1
    for lane in out:
        assert rel_err(lane[:, 0] + 1j * lane[:, 1], np.fft.fft(z)) < 1e-13


@pytest.mark.parametrize("native", [True, False])
def test_layers_run_under_inference_mode(rng, monkeypatch, native):
    """Inference tensors have no version counter: the derived caches build their values afresh for them (the CLI
    and serving code run under torch.inference_mode); the layers then still run outside it."""
    if not native:
        monkeypatch.setattr(CF, "NATIVE", False)
    from nnaudio_fast import transforms as T

    x = noise(rng, 2, 2000, dtype=torch.float32)
    layers = [nf.STFT(n_fft=512, hop_length=128, output_format="Magnitude"),
              nf.MelSpectrogram(sr=16000, n_fft=512, hop_length=128, n_mels=40),
              T.MelSpectrogram(sample_rate=16000, n_fft=400, hop_length=160, n_mels=40)]
    for layer in layers:
        with torch.no_grad():
            want = layer(x)
        layer.refresh_bases()
        with torch.inference_mode():
            inferred = layer(x)
            assert rel_err(layer(x), want) < 1e-6
        assert rel_err(inferred, want) < 1e-6
        with torch.no_grad():
            assert rel_err(layer(x), want) < 1e-6


@pytest.mark.skipif(CF._ext is None, reason="the C++ extension is not built")
def test_native_call_only_for_small_radices_and_matching_filterbanks(rng, monkeypatch):
    """A frame whose FFT has a prime factor above MAX_NATIVE_RADIX (n_fft 1021, or 2·1021) takes the torch path;
    so does a filterbank whose width is not the spectrum's (the product then raises); a filterbank with no rows
    gives no rows."""
    assert CF._small_radices(400) and CF._small_radices(273) and CF._small_radices(2 * 13 * 7)
    assert not CF._small_radices(1021) and not CF._small_radices(2042) and not CF._small_radices(255)
    calls = []
    original = CF._native
    monkeypatch.setattr(CF, "_native", lambda *a: calls.append(a[-1]) or original(*a))
    for n_fft in (1021, 2042, 26):
        wc, ws, win = _kernels(n_fft, torch.float64)
        x = noise(rng, 1, n_fft + 3, dtype=torch.float64)
        want = reference.spectrogram(x, wc, ws, None, n_fft // 2, True, "reflect", 2.0)
        assert rel_err(CF.fused_spectrogram(x, win, None, n_fft // 2, True, "reflect", 2.0), want) < 1e-12
    assert len(calls) == 1  # n_fft 26 only
    wc, ws, win = _kernels(64, torch.float64)
    x = noise(rng, 2, 300, dtype=torch.float64)
    empty = CF.fused_spectrogram(x, win, torch.zeros(0, 33, dtype=torch.float64), 16, True, "reflect", 2.0)
    assert empty.shape == (2, 0, 19) and len(calls) == 2
    with pytest.raises(RuntimeError):
        CF.fused_spectrogram(x, win, torch.ones(4, 30, dtype=torch.float64), 16, True, "reflect", 2.0)


@pytest.mark.parametrize("log", [None, "log10"])
def test_fused_nan_reaches_exactly_the_frames_that_read_it(blocking, log):
    """A NaN sample makes NaN exactly the frames whose window covers it, on every path, and the log's floor does not
    hide it (max(NaN, amin) stays NaN, as torch.clamp keeps it)."""
    n_fft, hop = 400, 160
    win = torch.hann_window(n_fft)
    fb, support = _mel(16000, n_fft, 40, torch.float32)
    x = torch.randn(2, 4000)
    x[1, 2000] = float("nan")
    out = CF.fused_spectrogram(x, win, fb, hop, True, "reflect", 2.0, log, 1e-10, support=support)
    frames = torch.isnan(out).any(dim=1)
    reads = [(t * hop - n_fft // 2 <= 2000 < t * hop + n_fft // 2) for t in range(out.shape[-1])]
    assert frames[1].tolist() == reads and not frames[0].any()
    assert torch.isnan(out[1][:, frames[1]]).all()
