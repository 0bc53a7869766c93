"""Triton multirate-CQT kernels (octave pyramid, its adjoint, the per-octave products and their gradients) against
the float64 reference.

Without a GPU the kernels run in Triton's interpreter (``TRITON_INTERPRET=1``, set by conftest before triton is
imported: numpy fp32 arithmetic, tf32/tf32x3 are plain fp32 there, bf16 is emulated by rounding); on a CUDA machine
the same tests run natively. Shapes are small (low sample rates, few bins) so the interpreter stays fast, but cover
every structural case: octaves on level 0 (the padded waveform itself) and two octaves sharing a level, kernel
phases (hop 37, 500, 1148), several pyramid levels per launch and several launches, halos across chunks, every
pad mode with padding longer than the signal. Every output and scratch buffer is NaN-poisoned (``set_poison``)
and ``rel_err`` fails on non-finite values, so an unwritten element fails the test.

Bounds: fp32 ('exact' mode) against float64 ≤ 1e-5 relative (``EXACT``; measured 1e-7 … 3e-7 in the interpreter);
the pyramid and its adjoint, plain fp32 multiply-adds, ≤ 1e-6 (measured ≤ 2.5e-7).
"""

from __future__ import annotations

import pytest
import torch

from helpers import CUDA, TRITON_DEVICE as DEV, require_triton_interpreter_or_cuda  # noqa: E402

require_triton_interpreter_or_cuda()
pytest.importorskip("triton")

import nnaudio_fast as nf  # noqa: E402
import nnaudio_fast.kernels as KB  # noqa: E402
from nnaudio_fast import primitives  # noqa: E402
from nnaudio_fast import precision as precision_table  # noqa: E402
from nnaudio_fast import bases, dispatch, reference as R  # noqa: E402
from nnaudio_fast import functional as AF  # noqa: E402
from nnaudio_fast.kernels import cqt as C, cqt_ops as OPS, fourier as K  # noqa: E402

from helpers import noise, rel_err  # noqa: E402

EXACT = 1e-5  # fp32 'exact' mode vs the float64 reference, relative
PYRAMID = 1e-6  # the pyramid and its adjoint (fp32 multiply-adds)
H64 = torch.tensor(bases.halfband_lowpass(), dtype=torch.float64)
H32 = H64.to(device=DEV, dtype=torch.float32)


@pytest.fixture(autouse=True)
def _poison():
    K.set_poison(True)
    yield
    K.set_poison(False)


def _d(t):
    return t.detach().double().cpu()


def _grads(fn, inputs, grad_out):
    out = fn(*inputs)
    return torch.autograd.grad(out, [t for t in inputs if t.requires_grad], grad_out)


# ----------------------------------------------------------------------------------------------------------------
# pyramid
# ----------------------------------------------------------------------------------------------------------------
PYRAMID_CASES = [
    # batch, length, n_levels, max_levels per launch, chunk
    (3, 1, 3, None, None),  # a single sample
    (2, 2, 4, None, None),
    (1, 37, 5, 2, 4),  # batch 1, odd length, three launches, chunks of 4 samples: halos cross every chunk
    (2, 100, 4, 4, 8),  # all levels in one launch
    (2, 777, 6, 1, 64),  # one level per launch
    (2, 2200, 3, 3, 512),  # several blocks per level range
]


@pytest.mark.parametrize("batch,length,n_levels,max_levels,chunk", PYRAMID_CASES)
def test_pyramid_and_adjoint_match_reference(rng, batch, length, n_levels, max_levels, chunk):
    x = noise(rng, batch, length)
    flat = C.pyramid(x.to(DEV, torch.float32), H32, n_levels, max_levels=max_levels, chunk=chunk)
    want = R.pyramid(x, H64, n_levels)
    got = torch.split(flat, [w.shape[-1] for w in want], dim=1)
    for lvl, (g, w) in enumerate(zip(got, want), 1):
        assert rel_err(g, w) <= PYRAMID, f"level {lvl}"
    ys = [noise(rng, *w.shape) for w in want]
    base = noise(rng, batch, length)
    gflat = torch.cat(ys, 1).to(DEV, torch.float32)
    adj = C.pyramid_adjoint(gflat, H32, length, n_levels, max_levels=max_levels, chunk=chunk)
    assert rel_err(adj, R.pyramid_adjoint(ys, H64, length)) <= PYRAMID
    with_base = C.pyramid_adjoint(gflat, H32, length, n_levels, base=base.to(DEV, torch.float32),
                                  max_levels=max_levels, chunk=chunk)
    assert rel_err(with_base, R.pyramid_adjoint(ys, H64, length) + base) <= PYRAMID


def test_pyramid_ops_dot_product_and_autograd(rng):
    """The registered ops are each other's transpose (dot-product test), the pyramid's gradient is its adjoint (and
    the adjoint's gradient the pyramid: second order), as the reference's autograd computes them."""
    length, n_levels = 201, 5
    x = noise(rng, 2, length, dtype=torch.float32).to(DEV)
    levels = KB.pyramid(x, H32, n_levels)
    ys = [noise(rng, *lv.shape, dtype=torch.float32).to(DEV) for lv in levels]
    lhs = sum(float((a.double() * y.double()).sum()) for a, y in zip(levels, ys))
    rhs = float((x.double() * KB.pyramid_adjoint(ys, H32, length).double()).sum())
    scale = sum(float(a.double().norm() * y.double().norm()) for a, y in zip(levels, ys))
    assert abs(lhs - rhs) <= 1e-6 * scale
    xg = x.clone().requires_grad_()
    yg = [y.clone().requires_grad_() for y in ys]
    (gx,) = torch.autograd.grad(KB.pyramid(xg, H32, n_levels), xg, yg, create_graph=True)
    xr = _d(x).requires_grad_()
    (want,) = torch.autograd.grad(R.pyramid(xr, H64, n_levels), xr, [_d(y) for y in ys])
    assert rel_err(gx, want) <= PYRAMID
    v = noise(rng, 2, length, dtype=torch.float32).to(DEV)
    got = torch.autograd.grad(gx, yg, v)  # second order: through the adjoint's own backward (the pyramid)
    for a, b in zip(got, R.pyramid(_d(v), H64, n_levels)):
        assert rel_err(a, b) <= PYRAMID
    assert KB.pyramid(x, H32, 0) == ()
    assert dispatch.select("pyramid", DEV, "triton", torch.float64) is R.pyramid  # float64: the reference


@pytest.mark.parametrize("pad_mode", ["reflect", "constant", "replicate", "circular"])
def test_padded_pyramid_reads_padding_by_index(rng, pad_mode):
    """The CQT's pyramid of the padded waveform, padding longer than the signal (reflection repeats)."""
    x = noise(rng, 2, 23)
    left = 64
    flat = C.pyramid(x.to(DEV, torch.float32), H32, 3, pad_mode, left, max_levels=2, chunk=8)
    want = torch.cat(R.pyramid(primitives.pad(x, left, left, pad_mode), H64, 3), 1)
    assert rel_err(flat, want) <= PYRAMID


# ----------------------------------------------------------------------------------------------------------------
# multirate CQT
# ----------------------------------------------------------------------------------------------------------------
CQT_CASES = [
    # sr, hop, fmin, n_bins, early_downsampling, batch, length, pad_mode
    (4000, 37, 200, 36, False, 2, 300, "reflect"),  # levels (0, 0, 1): level 0 read from x, a shared level, phases 2
    (2000, 500, 20, 30, True, 2, 1201, "constant"),  # hop 500: levels (2, 3, 4), phases (1, 2, 4), partial octave
    (4000, 1148, 30, 36, True, 1, 2500, "replicate"),  # hop 1148, batch 1
    (8000, 100, 500, 24, False, 2, 1, "constant"),  # a single sample: one frame (an impulse response)
    (4000, 37, 200, 36, False, 3, 41, "circular"),  # shorter than the kernels, odd length
]


def _multirate(sr, hop, fmin, n_bins, early):
    plan, kernels = bases.cqt_multirate_kernels(sr, fmin, n_bins, 12, hop_length=hop, early_downsampling=early)
    return plan, [torch.tensor(k) for k in kernels]


@pytest.mark.parametrize("sr,hop,fmin,n_bins,early,batch,length,pad_mode", CQT_CASES)
def test_cqt_multirate_forward_and_gradients(rng, sr, hop, fmin, n_bins, early, batch, length, pad_mode):
    plan, k64 = _multirate(sr, hop, fmin, n_bins, early)
    args = (plan.offsets, plan.levels, hop, plan.pad)
    x64 = noise(rng, batch, length).requires_grad_()
    kr = [k.clone().requires_grad_() for k in k64]
    re_r, im_r = R.cqt_multirate(x64, kr, *args, H64, pad_mode)
    x = x64.detach().float().to(DEV).requires_grad_()
    ks = [k.float().to(DEV).requires_grad_() for k in k64]
    re, im = KB.cqt_multirate(x, ks, *args, H32, pad_mode, precision="exact")
    assert re.shape == im.shape == (batch, n_bins, 1 + length // hop) and re.dtype == torch.float32
    assert rel_err(torch.stack((re, im)), torch.stack((re_r, im_r))) <= EXACT
    g = [noise(rng, *re_r.shape) for _ in range(2)]
    want = torch.autograd.grad((re_r, im_r), [x64] + kr, g)
    got = torch.autograd.grad((re, im), [x] + ks, [t.float().to(DEV) for t in g])
    for i, (a, b) in enumerate(zip(got, want)):
        assert a.shape == b.shape
        assert rel_err(a, b) <= EXACT, "waveform" if i == 0 else f"kernel of octave {i - 1}"


def test_cqt_multirate_noncontiguous_fp16_and_one_octave(rng):
    """Non-contiguous and fp16 waveforms; a single octave at level 0 (no pyramid at all); trimmed kernels."""
    plan, k64 = _multirate(8000, 100, 500, 24, False)
    base = noise(rng, 500, 3, dtype=torch.float32)
    x = base.t()[:, ::2]  # (3, 250), both strides non-unit
    assert not x.is_contiguous()
    args = (plan.offsets, plan.levels, 100, plan.pad, H32, "reflect")
    out = KB.cqt_multirate(x.to(DEV), [k.float().to(DEV) for k in k64], *args[:-2], H32, "reflect")
    ref = R.cqt_multirate(_d(x), k64, *args[:-2], H64, "reflect")
    assert rel_err(torch.stack(out), torch.stack(ref)) <= EXACT
    xh = x.to(torch.float16)
    outh = KB.cqt_multirate(xh.to(DEV), [k.float().to(DEV) for k in k64], *args[:-2], H32, "reflect")
    refh = R.cqt_multirate(_d(xh), k64, *args[:-2], H64, "reflect")
    assert outh[0].dtype == torch.float32 and rel_err(torch.stack(outh), torch.stack(refh)) <= EXACT
    top = [k64[0]]
    pad = bases.multirate_padding(plan.offsets[:1], [top[0].shape[-1]], (0,))
    one = KB.cqt_multirate(x.to(DEV), [top[0].float().to(DEV)], plan.offsets[:1], (0,), 100, pad, H32, "constant")
    ref1 = R.cqt_multirate(_d(x), top, plan.offsets[:1], (0,), 100, pad, H64, "constant")
    assert rel_err(torch.stack(one), torch.stack(ref1)) <= EXACT


@pytest.mark.parametrize("precision", ["ieee", "tf32", "bf16"])
def test_cqt_precision_modes(rng, precision):
    bound = precision_table.MODES[precision].rtol
    plan, k64 = _multirate(4000, 37, 200, 36, False)
    x = noise(rng, 2, 200)
    args = (plan.offsets, plan.levels, 37, plan.pad)
    out = KB.cqt_multirate(x.float().to(DEV), [k.float().to(DEV) for k in k64], *args, H32, "reflect",
                           precision=precision)
    err = rel_err(torch.stack(out), torch.stack(R.cqt_multirate(x, k64, *args, H64, "reflect")))
    assert err <= bound
    if precision == "bf16":
        assert err > 1e-5, "bf16 operands must be visibly less exact than fp32"


PRECISION_LAYERS = [  # the multirate and the single-rate path (VQT, CQT2010 and CQT1992 share their _transform)
    ("CQT2010v2", dict(sr=4000, hop_length=37, fmin=200, n_bins=36)),
    ("CQT1992v2", dict(sr=4000, hop_length=37, fmin=200, n_bins=24)),
]


@pytest.mark.parametrize("name,kw", PRECISION_LAYERS)
def test_layer_precision_reaches_the_kernels(rng, monkeypatch, name, kw):
    """``precision=`` on a CQT layer and on the functional API reaches the Triton kernels: the mode resolved per
    call is the one asked for, and bf16 is visibly less exact than 'exact' (so the kernels received it)."""
    seen = []
    resolve = KB.resolve_precision
    monkeypatch.setattr(KB, "resolve_precision", lambda p=None: seen.append(p) or resolve(p))
    x = noise(rng, 2, 700, dtype=torch.float32).to(DEV)
    ref = getattr(nf, name)(verbose=False, backend="reference", **kw)(x.double())
    errs = {}
    for mode in ("exact", "bf16"):
        seen.clear()
        layer = getattr(nf, name)(verbose=False, backend="triton", precision=mode, **kw).to(DEV)
        errs[mode] = rel_err(layer(x), ref)
        assert seen and set(seen) == {mode}, (mode, seen)
    assert errs["exact"] <= 1e-5 < errs["bf16"] <= 3e-2, errs
    seen.clear()
    AF.cqt(x, sr=4000, hop_length=37, fmin=200, n_bins=24, backend="triton", precision="tf32")
    AF.vqt(x, sr=4000, hop_length=37, fmin=200, n_bins=24, gamma=3, multirate=False, backend="triton",
           precision="medium")
    assert seen == ["tf32", "medium"]
    with pytest.raises(ValueError, match="precision='fp8'"):
        getattr(nf, name)(verbose=False, precision="fp8", **kw)


def test_kernel_gradient_split_is_deterministic(rng):
    plan, k64 = _multirate(4000, 37, 200, 36, False)
    layout = C.octave_layout([v for k in k64 for v in k.shape], plan.offsets, plan.levels, 37, plan.pad, DEV)
    x = noise(rng, 2, 400, dtype=torch.float32).to(DEV)
    pyr = C.pyramid(x, H32, 1, "reflect", plan.pad)
    T = 1 + 400 // 37
    g_re, g_im = (noise(rng, 2, 36, T, dtype=torch.float32).to(DEV) for _ in range(2))
    one = C.octave_kernel_grads(x, pyr, g_re, g_im, layout, "reflect", "exact", split=1)
    three = C.octave_kernel_grads(x, pyr, g_re, g_im, layout, "reflect", "exact", split=3)
    assert one.shape == (layout.k_total,) and rel_err(three, one) <= 1e-6
    assert torch.equal(three, C.octave_kernel_grads(x, pyr, g_re, g_im, layout, "reflect", "exact", split=3))


def test_cqt_single_is_the_fused_stft(rng):
    kr, ki = (torch.tensor(k) for k in bases.cqt_kernels(4000, 200, 24, 12))
    x = noise(rng, 2, 150, dtype=torch.float32).to(DEV).requires_grad_()
    krf, kif = (k.float().to(DEV).requires_grad_() for k in (kr, ki))
    re, im = KB.cqt_single(x, krf, kif, 37, True, "reflect", precision="exact")
    xr, krr, kir = (_d(t).requires_grad_() for t in (x, krf, kif))
    rr, ri = R.cqt_single(xr, krr, kir, 37, True, "reflect")
    assert rel_err(torch.stack((re, im)), torch.stack((rr, ri))) <= EXACT
    g = [noise(rng, *rr.shape) for _ in range(2)]
    got = torch.autograd.grad((re, im), (x, krf, kif), [t.float().to(DEV) for t in g])
    want = torch.autograd.grad((rr, ri), (xr, krr, kir), g)
    for a, b in zip(got, want):
        assert rel_err(a, b) <= EXACT


def test_bad_arguments_raise_clear_errors():
    plan, k64 = _multirate(4000, 37, 200, 36, False)
    ks = [k.float().to(DEV) for k in k64]
    x = torch.randn(2, 100, device=DEV)
    args = (plan.offsets, plan.levels, 37, plan.pad)
    with pytest.raises(ValueError, match="phases"):
        KB.cqt_multirate(x, [ks[0], ks[1], ks[2][:1]], *args, H32, "reflect")
    with pytest.raises(ValueError, match="non-decreasing"):
        KB.cqt_multirate(x, ks, plan.offsets, (0, 1, 0), 37, plan.pad, H32, "reflect")
    with pytest.raises(ValueError, match="symmetric"):
        KB.cqt_multirate(x, ks, *args, H32 * torch.linspace(1, 2, 75, device=DEV), "reflect")
    bad = H32.clone()
    bad[37 + 2] = bad[37 - 2] = 0.1  # symmetric, but an even tap
    with pytest.raises(ValueError, match="half-band"):
        KB.pyramid(x, bad, 2)
    with pytest.raises(ValueError, match="odd number"):
        KB.pyramid(x, H32[:-1], 2)
    with pytest.raises(ValueError, match="pad_mode"):
        KB.cqt_multirate(x, ks, *args, H32, "symmetric")
    with pytest.raises(ValueError, match="grads\\[1\\]"):
        KB.pyramid_adjoint([torch.zeros(2, 50, device=DEV), torch.zeros(2, 24, device=DEV)], H32, 100)


# ----------------------------------------------------------------------------------------------------------------
# dispatch, layers, torch.library registration
# ----------------------------------------------------------------------------------------------------------------
def test_dispatch_sends_cuda_constant_q_ops_to_triton():
    for op in ("cqt_multirate", "cqt_single", "pyramid", "pyramid_adjoint"):
        assert dispatch.select(op, "cuda") is getattr(KB, op)  # auto on CUDA (no CUDA tensor is created here)
        assert dispatch.select(op, DEV, "triton") is getattr(KB, op)
    if not CUDA:
        assert dispatch.select("cqt_multirate", "cpu") is not KB.cqt_multirate  # never the interpreter by itself


LAYER_CASES = [
    ("CQT2010v2", dict(sr=4000, hop_length=37, fmin=200, n_bins=36, trainable=True)),
    ("VQT", dict(sr=4000, hop_length=500, fmin=30, n_bins=36, gamma=5, trainable=True)),
    ("CQT1992v2", dict(sr=4000, hop_length=37, fmin=200, n_bins=24, trainable=True)),
]


@pytest.mark.parametrize("name,kw", LAYER_CASES)
def test_layers_with_triton_backend_match_reference(rng, name, kw):
    """The layers pick the Triton ops through dispatch (no change to their API): outputs and the gradients of the
    waveform and of the trainable kernels match the reference backend."""
    layers = [getattr(nf, name)(output_format="Complex", backend=b, verbose=False, **kw).to(DEV)
              for b in ("triton", "reference")]
    x = noise(rng, 2, 700, dtype=torch.float32).to(DEV)
    xs = [x.clone().requires_grad_() for _ in layers]
    outs = [layer(xi) for layer, xi in zip(layers, xs)]
    assert rel_err(outs[0], outs[1]) <= 1e-5  # float32 reference: both sides carry fp32 rounding
    g = noise(rng, *outs[1].shape, dtype=torch.float32).to(DEV)
    for layer, out in zip(layers, outs):
        out.backward(g)
    assert rel_err(xs[0].grad, xs[1].grad) <= 1e-5
    params = [[p.grad for p in layer.parameters()] for layer in layers]
    assert params[0] and all(p is not None for p in params[0])
    for a, b in zip(*params):
        assert rel_err(a, b) <= 1e-5
    mag = AF.cqt(x, sr=4000, hop_length=37, fmin=200, n_bins=24, backend="triton")
    assert rel_err(mag, AF.cqt(x.double(), sr=4000, hop_length=37, fmin=200, n_bins=24, backend="reference")) <= 1e-5


def test_opcheck_custom_ops(rng):
    plan, k64 = _multirate(8000, 100, 500, 24, False)  # levels (0, 1): level 0 from x, one pyramid level
    shapes = [v for k in k64 for v in k.shape]
    kpack = torch.cat([k.reshape(-1) for k in k64]).float().to(DEV)
    x = noise(rng, 2, 150, dtype=torch.float32).to(DEV)
    geom = (shapes, list(plan.offsets), list(plan.levels), 100, plan.pad)
    ops = torch.ops.nnaudio_fast
    torch.library.opcheck(ops.cqt_multirate.default, (x.clone().requires_grad_(), kpack.clone().requires_grad_(),
                                                      *geom, H32, "reflect", "exact"))
    torch.library.opcheck(ops.cqt_pyramid.default, (x.clone().requires_grad_(), H32, 3, "exact"))
    flat = noise(rng, 2, sum(C.lengths_from_input(150, 3)[1:]), dtype=torch.float32).to(DEV)
    torch.library.opcheck(ops.cqt_pyramid_adjoint.default, (flat.requires_grad_(), H32, 150, 3, "exact"))
    # the backward ops (no autograd of their own: they are only called inside backward)
    T = 1 + 150 // 100
    g_re, g_im = (noise(rng, 2, 24, T, dtype=torch.float32).to(DEV) for _ in range(2))
    torch.library.opcheck(ops.cqt_multirate_input_grad.default, (g_re, g_im, kpack, *geom, H32, "reflect", 150,
                                                                 "exact"))
    pyr = C.pyramid(x, H32, 1, "reflect", plan.pad)
    torch.library.opcheck(ops.cqt_multirate_kernel_grad.default, (x, pyr, g_re, g_im, *geom, "reflect", "exact"))


def test_torch_compile_fullgraph(rng):
    plan, k64 = _multirate(8000, 100, 500, 24, False)
    ks = [k.float().to(DEV).requires_grad_() for k in k64]
    x = noise(rng, 2, 120, dtype=torch.float32).to(DEV).requires_grad_()

    def f(x, k0, k1):
        re, im = KB.cqt_multirate(x, [k0, k1], plan.offsets, plan.levels, 100, plan.pad, H32, "reflect",
                                  precision="exact")
        return re * re + im * im

    torch._dynamo.reset()
    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    out, ref = compiled(x, *ks), f(x, *ks)
    assert torch.allclose(out, ref, rtol=1e-6, atol=0)
    g1 = torch.autograd.grad(out.sum(), [x] + ks)
    g2 = torch.autograd.grad(ref.sum(), [x] + ks)
    assert all(torch.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(g1, g2))
