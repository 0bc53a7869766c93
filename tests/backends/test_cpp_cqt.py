"""The CPU backend's support-restricted single-rate CQT (nnaudio_fast.cpp.constant_q) against the reference's dense
product: random supports (a full and an empty row among them), odd widths and hops, hop 1 and hop > W, every pad
mode, short signals, real CQT1992v2 kernels; gradients; scratch memory poisoned with NaN; the dense fallbacks."""

from __future__ import annotations

import itertools

import pytest
import torch

import nnaudio_fast as nf
from nnaudio_fast import reference
from nnaudio_fast.cpp import constant_q as CQ

from helpers import noise, rel_err

BOUND = {torch.float32: 1e-5, torch.float64: 1e-12}
PAD_MODES = ["reflect", "constant", "replicate", "circular"]


def _support(kr, ki):
    """Each row's nonzero range of ``|kr| + |ki|`` (``(0, 0)`` for an all-zero row)."""
    out = []
    for row in (kr.abs() + ki.abs()) > 0:
        nz = torch.nonzero(row).flatten()
        out.append((int(nz[0]), int(nz[-1]) + 1) if len(nz) else (0, 0))
    return tuple(out)


def _random_kernels(rng, n_bins, width, dtype=torch.float64):
    """Kernels with random supports; row 0 is full, row 1 empty (its support is given as ``(3, 3)``)."""
    kr = torch.zeros(n_bins, width, dtype=dtype)
    ki = torch.zeros(n_bins, width, dtype=dtype)
    support = []
    for k in range(n_bins):
        lo = int(rng.integers(0, width))
        hi = int(rng.integers(lo + 1, width + 1))
        lo, hi = {0: (0, width), 1: (min(3, width), min(3, width))}.get(k, (lo, hi))
        kr[k, lo:hi] = noise(rng, hi - lo, dtype=dtype)
        ki[k, lo:hi] = noise(rng, hi - lo, dtype=dtype)
        support.append((lo, hi))
    return kr, ki, tuple(support)


def _cqt_layer_kernels(dtype=torch.float32, **kw):
    layer = nf.CQT1992v2(output_format="Complex", verbose=False, **kw)
    kr = layer.cqt_kernels_real[:, 0].to(dtype)
    ki = layer.cqt_kernels_imag[:, 0].to(dtype)
    return kr, ki


def _check(x, kr, ki, hop, center, pad_mode, support):
    want = reference.cqt_single(x, kr, ki, hop, center, pad_mode)
    got = CQ.cqt_single(x, kr, ki, hop, center, pad_mode, support=support)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        assert rel_err(g, w) < BOUND[x.dtype], (x.shape, hop, center, pad_mode)
    return got


@pytest.fixture(params=["default", "tiny chunks, 3 grids, no overheads"])
def blocking(request, monkeypatch):
    """The real constants, or row chunks of 5 rows, three grids, no modelled overheads and no dense path for one
    or two frames (chunk boundaries, several shared products and many small groups of each kind occur in small
    problems)."""
    if request.param != "default":
        monkeypatch.setattr(CQ, "CHUNK_ROWS", 5)
        monkeypatch.setattr(CQ, "GRIDS", 3)
        monkeypatch.setattr(CQ, "PRODUCT_OVERHEAD", 0)
        monkeypatch.setattr(CQ, "SUM_OVERHEAD", 0)
        monkeypatch.setattr(CQ, "PRODUCT_ROWS", 0)
        monkeypatch.setattr(CQ, "DENSE_FRAMES", 0)  # one- and two-frame problems through the support products too
        CQ._plan.cache_clear()
    yield request.param
    CQ._plan.cache_clear()


GEOMETRIES = [(64, 16), (63, 5), (33, 100), (64, 1), (301, 37), (512, 512), (40, 129)]  # (W, hop)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_random_supports_equal_reference(rng, blocking, dtype, geometry):
    width, hop = geometry
    kr, ki, support = _random_kernels(rng, 9, width, dtype)
    modes = itertools.cycle(PAD_MODES)
    for batch, center in itertools.product([1, 3], [True, False]):
        lengths = {width, width + 2 * hop + 1, 4 * width + 7} | ({1, hop // 2 + 2} if center else set())
        for length in sorted(lengths):
            x = noise(rng, batch, length, dtype=dtype)
            re, im = _check(x, kr, ki, hop, center, next(modes), support)
            assert not re[:, 1].any() and not im[:, 1].any()  # the empty row


@pytest.mark.parametrize("pad_mode", PAD_MODES)
def test_pad_modes(rng, pad_mode):
    kr, ki, support = _random_kernels(rng, 6, 90, torch.float64)
    for length in (1, 20, 44, 45, 46, 91, 400):  # shorter than, as long as and longer than the padding
        _check(noise(rng, 2, length), kr, ki, 17, True, pad_mode, support)


def test_float32_against_the_float64_reference(rng, blocking):
    kr, ki, support = _random_kernels(rng, 12, 257, torch.float64)
    x = noise(rng, 3, 3001)
    want = reference.cqt_single(x, kr, ki, 61, True, "reflect")
    got = CQ.cqt_single(x.float(), kr.float(), ki.float(), 61, True, "reflect", support=support)
    for g, w in zip(got, want):
        assert g.dtype == torch.float32 and rel_err(g, w) < 1e-5


@pytest.mark.parametrize("config", [
    dict(sr=22050, fmin=32.70, n_bins=84, bins_per_octave=12, hop_length=512),  # nnAudio's defaults, W = 16384
    dict(sr=8000, fmin=100.0, n_bins=30, bins_per_octave=10, hop_length=97),
])
def test_cqt1992v2_kernels(rng, config):
    kr, ki = _cqt_layer_kernels(**{k: v for k, v in config.items() if k != "hop_length"})
    support = _support(kr, ki)
    hop = config["hop_length"]
    length = 33000 if kr.shape[1] > 4096 else 4001
    for dtype, batch in ((torch.float32, 2), (torch.float64, 1)):
        x = noise(rng, batch, length, dtype=dtype)
        _check(x, kr.to(dtype), ki.to(dtype), hop, True, "reflect", support)
    want = reference.cqt_single(x, kr.double(), ki.double(), hop, True, "constant")
    got = CQ.cqt_single(x.float(), kr, ki, hop, True, "constant", support=support)
    assert max(rel_err(g, w) for g, w in zip(got, want)) < 1e-5


def test_plan_covers_every_support_and_skips_most_of_the_width():
    kr, ki = _cqt_layer_kernels(sr=22050, fmin=32.70, n_bins=84, bins_per_octave=12)
    support = _support(kr, ki)
    width = kr.shape[1]
    for rows in (64, 8192):
        plan = CQ._plan(support, 512, width, rows)
        assert [g.k0 for g in plan.groups] == sorted(g.k0 for g in plan.groups)
        assert plan.groups[0].k0 == 0 and plan.groups[-1].k1 == 84
        assert all(a.k1 == b.k0 for a, b in zip(plan.groups, plan.groups[1:]))
        taps = 0
        for g in plan.groups:
            if g.kind == CQ.WIDE:
                lo = plan.grids[g.grid].origin + g.q0 * 512
                span = (lo, lo + g.blocks * 512)
            else:
                span = (g.a, g.a + g.width)
            assert all(span[0] <= a and b <= span[1] for a, b in support[g.k0 : g.k1]), g
            taps += (g.k1 - g.k0) * (span[1] - span[0])
        assert taps < 0.45 * 84 * width  # the dense product multiplies 84·W taps per frame


def test_gradients_match_the_reference(rng, blocking):
    """Waveform gradients equal the dense product's; kernel gradients too, inside the supports (blocks of width
    4·37 end before the kernel width in some groups and reach past it in others)."""
    kr, ki, support = _random_kernels(rng, 7, 301, torch.float64)
    x = noise(rng, 3, 900)
    shape = reference.cqt_single(x, kr, ki, 37, True, "reflect")[0].shape
    w_re, w_im = noise(rng, *shape), noise(rng, *shape)
    grads = []
    for fn in (reference.cqt_single, lambda *a: CQ.cqt_single(*a, support=support)):
        leaves = [t.clone().requires_grad_(True) for t in (x, kr, ki)]
        re, im = fn(*leaves, 37, True, "reflect")
        ((re * w_re).sum() + (im * w_im).sum()).backward()
        grads.append([t.grad for t in leaves])
    (gx, gr, gi), (hx, hr, hi) = grads
    assert rel_err(hx, gx) < 1e-12
    inside = torch.zeros_like(kr, dtype=torch.bool)
    for k, (a, b) in enumerate(support):
        inside[k, a:b] = True
    assert rel_err(hr[inside], gr[inside]) < 1e-12 and rel_err(hi[inside], gi[inside]) < 1e-12


def test_gradcheck_waveform_and_kernels(rng):
    kr, ki, support = _random_kernels(rng, 4, 12, torch.float64)
    x = noise(rng, 2, 30).requires_grad_(True)
    kr.requires_grad_(True)
    ki.requires_grad_(True)
    for center in (True, False):
        assert torch.autograd.gradcheck(lambda *a: CQ.cqt_single(*a, 5, center, "reflect", support=support),
                                        (x, kr, ki), fast_mode=True)


@pytest.mark.parametrize("needs_grad", [False, True])
def test_scratch_poisoned_with_nan(rng, monkeypatch, needs_grad):
    """Every scratch element that reaches the output (or a gradient) is written first."""
    monkeypatch.setattr(CQ, "_empty", lambda like, shape: like.new_full(shape, float("nan")))
    kr, ki, support = _random_kernels(rng, 8, 100, torch.float32)
    for batch, length, hop, center in ((3, 777, 33, True), (2, 350, 7, False), (1, 5, 200, True)):
        x = noise(rng, batch, length, dtype=torch.float32).requires_grad_(needs_grad)
        k = [t.clone().requires_grad_(needs_grad) for t in (kr, ki)]
        re, im = _check(x, *k, hop, center, "constant", support)
        assert torch.isfinite(re).all() and torch.isfinite(im).all()
        if needs_grad:
            (re.sum() + im.square().sum()).backward()
            assert all(torch.isfinite(t.grad).all() for t in (x, *k))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_example_leaves_the_others_alone(rng, blocking, bad):
    kr, ki, support = _random_kernels(rng, 8, 70, torch.float64)
    x = noise(rng, 3, 400)
    x[1, ::37] = bad
    want = reference.cqt_single(x[::2], kr, ki, 23, True, "constant")
    got = [t[::2] for t in CQ.cqt_single(x, kr, ki, 23, True, "constant", support=support)]
    assert max(rel_err(g, w) for g, w in zip(got, want)) < 1e-12


def test_without_support_or_while_compiling_the_dense_product_runs(rng, monkeypatch):
    kr, ki, support = _random_kernels(rng, 5, 40, torch.float32)
    x = noise(rng, 2, 300, dtype=torch.float32)
    want = reference.cqt_single(x, kr, ki, 9, True, "reflect")
    dense = CQ.cqt_single(x, kr, ki, 9, True, "reflect")
    assert all(torch.equal(d, w) for d, w in zip(dense, want))
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    assert all(torch.equal(d, w) for d, w in zip(CQ.cqt_single(x, kr, ki, 9, True, "reflect", support=support),
                                                 want))
    empty = CQ.cqt_single(x[:0], kr, ki, 9, True, "reflect", support=support)
    assert empty[0].shape == (0, 5, want[0].shape[-1])


def test_traced_by_torch_compile(rng):
    kr, ki, support = _random_kernels(rng, 5, 40, torch.float32)
    x = noise(rng, 2, 300, dtype=torch.float32)
    fn = torch.compile(lambda x: CQ.cqt_single(x, kr, ki, 9, True, "reflect", support=support), backend="eager",
                       fullgraph=True)
    for g, w in zip(fn(x), reference.cqt_single(x, kr, ki, 9, True, "reflect")):
        assert rel_err(g, w) < 1e-5


@pytest.mark.parametrize("length,center,frames", [(100, True, 26), (3, True, 1), (16, False, 1)])
def test_all_rows_empty(rng, length, center, frames):
    kr = torch.zeros(3, 16)
    x = noise(rng, 2, length, dtype=torch.float32)
    re, im = CQ.cqt_single(x, kr, kr, 4, center, "reflect", support=((0, 0), (5, 5), (16, 16)))
    assert re.shape == im.shape == (2, 3, frames) and not re.any() and not im.any()


def test_too_short_without_centring_raises_as_the_reference(rng):
    kr, ki, support = _random_kernels(rng, 3, 16, torch.float32)
    x = noise(rng, 1, 15, dtype=torch.float32)
    with pytest.raises(RuntimeError):
        reference.cqt_single(x, kr, ki, 4, False, "reflect")
    with pytest.raises(RuntimeError):
        CQ.cqt_single(x, kr, ki, 4, False, "reflect", support=support)


def test_constant_kernels_requiring_grad_under_no_grad(rng):
    """Kernels that require grad, called under ``torch.no_grad``: the fast (in-place) kernel gather."""
    kr, ki, support = _random_kernels(rng, 6, 64, torch.float32)
    x = noise(rng, 2, 500, dtype=torch.float32)
    want = reference.cqt_single(x, kr, ki, 16, True, "reflect")
    with torch.no_grad():
        got = CQ.cqt_single(x, kr.requires_grad_(True), ki.requires_grad_(True), 16, True, "reflect",
                            support=support)
    assert not got[0].requires_grad and max(rel_err(g, w) for g, w in zip(got, want)) < 1e-5


@pytest.mark.parametrize("support,match", [
    (((0, 4),) * 2, "3 bins"),
    (((0, 4), (2, 1), (0, 4)), r"support\[1\]=\(2, 1\)"),
    (((0, 4), (0, 17), (0, 4)), "kernel width 16"),
    (((-1, 4), (0, 4), (0, 4)), "0 <= lo"),
])
def test_invalid_supports_raise(rng, support, match):
    kr = torch.ones(3, 16)
    with pytest.raises(ValueError, match=match):
        CQ.cqt_single(torch.ones(1, 50), kr, kr, 4, True, "reflect", support=support)


@pytest.mark.parametrize("batch,length", [(1, 64), (1, 80), (2, 64)])  # one frame, two frames, two examples
def test_one_or_two_frames_use_the_cached_dense_stack_and_follow_edits(rng, batch, length):
    """A stream's step (at most DENSE_FRAMES frames) multiplies the cached stacked kernels: equal to the reference,
    and an in-place edit of the kernels (a new version) is not served from the cache."""
    kr, ki, support = _random_kernels(rng, 6, 64)
    x = noise(rng, batch, length)
    assert batch * ((length - 64) // 16 + 1) <= CQ.DENSE_FRAMES
    _check(x, kr, ki, 16, False, "reflect", support)
    kr.mul_(2.0)
    ki.mul_(-0.5)
    _check(x, kr, ki, 16, False, "reflect", support)
