"""Drop-in paths a trained model takes: torch.export and ONNX (dynamo and legacy exporters, run in onnxruntime),
torch.compile(fullgraph=True) forward and backward, jit.trace / jit.script, pickle, deepcopy, torch.save,
spawn DataLoader workers, buffers DDP can broadcast into, and checkpoints loaded under a compiled graph."""

from __future__ import annotations

import copy
import io
import pickle

import numpy as np
import pytest
import torch
from torch.export import Dim

import nnaudio_fast as nf

from helpers import noise, rel_err

SR = 16000


def _spec_input(rng, batch, n_frames):
    """A complex one-sided spectrogram (real/imag pairs) of a real signal, for the iSTFT layer."""
    x = noise(rng, batch, 64 * (n_frames - 1), dtype=torch.float32)
    return nf.STFT(n_fft=256, hop_length=64)(x)


#: name → (factory, kind of input). Small configurations: the paths, not the sizes, are under test.
LAYERS = {
    "STFT": (lambda: nf.STFT(n_fft=256, hop_length=64), "wave"),
    "STFT-Magnitude": (lambda: nf.STFT(n_fft=255, hop_length=64, output_format="Magnitude"), "wave"),
    "STFT-Phase": (lambda: nf.STFT(n_fft=256, hop_length=100, output_format="Phase"), "wave"),
    "STFT-log": (lambda: nf.STFT(n_fft=256, hop_length=64, freq_bins=60, freq_scale="log", fmin=50, fmax=6000,
                                 sr=SR, output_format="Magnitude"), "wave"),
    "STFT-linear": (lambda: nf.STFT(n_fft=256, hop_length=64, freq_bins=50, freq_scale="linear", fmin=50, fmax=6000,
                                    sr=SR), "wave"),
    "STFT-log2": (lambda: nf.STFT(n_fft=256, hop_length=64, freq_bins=50, freq_scale="log2", fmin=50, fmax=6000,
                                  sr=SR), "wave"),
    "iSTFT": (lambda: nf.iSTFT(n_fft=256, hop_length=64), "spec"),
    "MelSpectrogram": (lambda: nf.MelSpectrogram(sr=SR, n_fft=256, hop_length=64, n_mels=32), "wave"),
    "MFCC": (lambda: nf.MFCC(sr=SR, n_mfcc=13, n_fft=256, hop_length=64, n_mels=32), "wave"),
    "Gammatonegram": (lambda: nf.Gammatonegram(sr=SR, n_fft=256, hop_length=64, n_bins=24), "wave"),
    "CQT1992v2": (lambda: nf.CQT1992v2(sr=SR, hop_length=128, fmin=100, n_bins=24), "wave"),
    "CQT2010v2": (lambda: nf.CQT2010v2(sr=SR, hop_length=128, fmin=100, n_bins=24), "wave"),
    "VQT": (lambda: nf.VQT(sr=SR, hop_length=100, fmin=100, n_bins=24, gamma=3), "wave"),
    "CQT1992": (lambda: nf.CQT1992(sr=SR, hop_length=128, fmin=100, n_bins=24), "wave"),
    "CQT2010": (lambda: nf.CQT2010(sr=SR, hop_length=128, fmin=100, n_bins=24), "wave"),
    "CQT2010v2-nnaudio": (lambda: nf.CQT2010v2(sr=SR, hop_length=128, fmin=100, n_bins=24, nnaudio_compat=True),
                          "wave"),
    "VQT-nnaudio": (lambda: nf.VQT(sr=SR, hop_length=100, fmin=100, n_bins=24, gamma=3, nnaudio_compat=True),
                    "wave"),
    # N = fs / fr = 1024: onnxruntime's DFT of a size that is not a power of two loses two digits (CFP's
    # power laws then amplify it to ~1e-3); PyTorch's own graphs are exact at any N.
    "CFP": (lambda: nf.CFP(fs=SR, window_size=513, hop_length=160, fr=15.625), "wave"),
    "ChromaSTFT": (lambda: nf.ChromaSTFT(sr=SR, n_fft=256, hop_length=64), "wave"),
    # single rate: the multirate pyramid's paths are CQT2010v2's, tested above
    "ChromaCQT": (lambda: nf.ChromaCQT(sr=SR, hop_length=128, fmin=100, n_octaves=2, multirate=False), "wave"),
    "SpectralBandwidth": (lambda: nf.SpectralBandwidth(sr=SR, n_fft=256, hop_length=64), "wave"),
    "SpectralRolloff": (lambda: nf.SpectralRolloff(sr=SR, n_fft=256, hop_length=64), "wave"),
}

#: The same families with every basis trainable (gradients must reach them through compiled graphs too).
TRAINABLE = {
    "STFT": lambda: nf.STFT(n_fft=256, hop_length=64, trainable=True, output_format="Magnitude"),
    "iSTFT": lambda: nf.iSTFT(n_fft=256, hop_length=64, trainable_kernels=True, trainable_window=True),
    "MelSpectrogram": lambda: nf.MelSpectrogram(sr=SR, n_fft=256, hop_length=64, n_mels=32, trainable_mel=True,
                                                trainable_STFT=True),
    "MFCC": lambda: nf.MFCC(sr=SR, n_mfcc=13, n_fft=256, hop_length=64, n_mels=32, trainable_mel=True),
    "Gammatonegram": lambda: nf.Gammatonegram(sr=SR, n_fft=256, hop_length=64, n_bins=24, trainable_bins=True),
    "CQT1992v2": lambda: nf.CQT1992v2(sr=SR, hop_length=128, fmin=100, n_bins=24, trainable=True),
    "CQT2010v2": lambda: nf.CQT2010v2(sr=SR, hop_length=128, fmin=100, n_bins=24, trainable=True),
    "VQT": lambda: nf.VQT(sr=SR, hop_length=100, fmin=100, n_bins=24, gamma=3, trainable=True),
    "CQT1992": lambda: nf.CQT1992(sr=SR, hop_length=128, fmin=100, n_bins=24, trainable_STFT=True,
                                  trainable_CQT=True),
    "CQT2010": lambda: nf.CQT2010(sr=SR, hop_length=128, fmin=100, n_bins=24, trainable_CQT=True),
    "ChromaSTFT": lambda: nf.ChromaSTFT(sr=SR, n_fft=256, hop_length=64, trainable_chroma=True, trainable_STFT=True),
}


#: Layers exported with a fixed length and not converted to ONNX (see
#: test_export_and_onnxruntime_with_dynamic_batch_and_time).
STATIC_TIME = ("CQT2010", "VQT")


def _input(kind, rng, batch=2, length=4000):
    if kind == "spec":
        return _spec_input(rng, batch, length // 64 + 1)
    return noise(rng, batch, length, dtype=torch.float32)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _comparable(layer, out):
    """The first output; a phase as (cos, sin): at DC and Nyquist the imaginary part is ±1e-17 of rounding, whose
    sign decides between the equivalent phases π and −π."""
    out = _first(out)
    if getattr(layer, "output_format", None) == "Phase" and not getattr(layer, "n_bins", None):
        return torch.stack((torch.cos(out), torch.sin(out)), -1)
    return out


def _dynamic(kind, static_time=False):
    batch = Dim("batch", min=1, max=1024)
    if kind == "spec":
        return ({0: batch, 2: Dim("frames", min=4, max=2**16)},)
    return ({0: batch} if static_time else {0: batch, 1: Dim("time", min=2048, max=2**22)},)


# ----------------------------------------------------------------------------------------------------------------
# export
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", list(LAYERS))
def test_export_and_onnxruntime_with_dynamic_batch_and_time(name, rng, tmp_path):
    """torch.export and the dynamo ONNX exporter with dynamic axes; onnxruntime on another batch and length."""
    ort = pytest.importorskip("onnxruntime")
    factory, kind = LAYERS[name]
    layer = factory().eval()
    # nnAudio's own multirate algorithm (nnaudio_compat) stacks octaves whose frame counts agree only through the
    # hop's divisibility, which the exporter cannot prove: those graphs take a fixed length (batch stays dynamic).
    # The other multirate layers (CQT2010, VQT) run CQT2010v2's pyramid, whose dynamic-length export is
    # tested on CQT2010v2 itself (30 s each on 2 cores): a fixed length for them.
    static = name.endswith("-nnaudio") or name in STATIC_TIME
    x, x2 = _input(kind, rng), _input(kind, rng, batch=3, length=4000 if static else 5001)
    before = layer(x2)
    dynamic = _dynamic(kind, static)
    ep = torch.export.export(layer, (x,), dynamic_shapes=dynamic)
    assert rel_err(_comparable(layer, ep.module()(x2)), _comparable(layer, before)) <= 1e-5
    assert torch.equal(layer(x2), before), "exporting changed the eager layer (a cache written while tracing)"
    if name in STATIC_TIME:
        return  # CQT2010v2's pyramid, whose ONNX graph is tested with a dynamic length (15 s each on 2 cores)
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(layer, (x,), str(path), dynamic_shapes=dynamic, dynamo=True)
    session = ort.InferenceSession(str(path))
    out = session.run(None, {session.get_inputs()[0].name: x2.numpy()})[0]
    assert rel_err(_comparable(layer, torch.from_numpy(out)), _comparable(layer, before)) <= 1e-5


@pytest.mark.parametrize("name", ["STFT", "MelSpectrogram", "MFCC", "Gammatonegram", "CQT1992v2", "CQT2010v2"])
def test_legacy_onnx_exporter(name, rng, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    layer = LAYERS[name][0]().eval()
    x, x2 = _input("wave", rng), _input("wave", rng, batch=3, length=5001)
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(layer, (x,), str(path), dynamo=False, input_names=["x"], opset_version=17,
                      dynamic_axes={"x": {0: "batch", 1: "time"}})
    session = ort.InferenceSession(str(path))
    assert rel_err(session.run(None, {"x": x2.numpy()})[0], layer(x2)) <= 1e-5


@pytest.mark.parametrize("name", list(LAYERS))
def test_jit_trace_runs_other_shapes_and_script_says_what_to_use(name, rng):
    factory, kind = LAYERS[name]
    layer = factory().eval()
    x, x2 = _input(kind, rng), _input(kind, rng, batch=3, length=5001)
    traced = torch.jit.trace(layer, (x,), check_trace=False)
    assert rel_err(_comparable(layer, traced(x2)), _comparable(layer, layer(x2))) <= 1e-5
    with pytest.raises(TypeError, match=r"torch\.jit\.trace"):
        torch.jit.script(layer)


# ----------------------------------------------------------------------------------------------------------------
# torch.compile
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["reference", None])  # None: auto, the cpp backend where it has the op
@pytest.mark.parametrize("name", list(LAYERS))
def test_compile_fullgraph_no_graph_break(name, backend, rng):
    factory, kind = LAYERS[name]
    layer = factory().eval()
    layer.apply(lambda m: setattr(m, "backend", backend) if hasattr(m, "backend") else None)
    x = _input(kind, rng)
    torch._dynamo.reset()
    explained = torch._dynamo.explain(layer)(x)
    assert explained.graph_break_count == 0, explained.break_reasons
    compiled = torch.compile(layer, fullgraph=True, backend="aot_eager")
    assert rel_err(_comparable(layer, compiled(x)), _comparable(layer, layer(x))) <= 1e-6


def _grads(layer, x, run=None):
    x = x.clone().requires_grad_(True)
    out = _first((layer if run is None else run)(x))
    weight = torch.linspace(-1.0, 1.0, out.numel(), dtype=out.dtype).reshape(out.shape)
    (out * weight).sum().backward()
    grads = {n: p.grad.clone() for n, p in layer.named_parameters()}
    layer.zero_grad()
    return out.detach(), x.grad, grads


@pytest.mark.parametrize("name", list(TRAINABLE))
def test_compile_fullgraph_backward_reaches_trainable_bases(name, rng):
    layer = TRAINABLE[name]()
    x = _input("spec" if name == "iSTFT" else "wave", rng)
    eager = _grads(layer, x)
    torch._dynamo.reset()
    compiled = _grads(layer, x, torch.compile(layer, fullgraph=True, backend="aot_eager"))
    assert rel_err(compiled[0], eager[0]) <= 1e-6
    assert rel_err(compiled[1], eager[1]) <= 1e-5
    assert eager[2], "the layer has no trainable basis"
    for n, g in eager[2].items():
        assert rel_err(compiled[2][n], g) <= 1e-5, n


@pytest.mark.slow
@pytest.mark.parametrize("name", ["MelSpectrogram", "MFCC", "CQT2010v2"])
def test_compile_with_inductor(name, rng):
    """The default compiler (code generation), forward and backward, trainable bases."""
    layer = TRAINABLE[name]()
    x = _input("wave", rng)
    eager = _grads(layer, x)
    torch._dynamo.reset()
    compiled = _grads(layer, x, torch.compile(layer, fullgraph=True))
    assert rel_err(compiled[0], eager[0]) <= 1e-6
    for n, g in eager[2].items():
        assert rel_err(compiled[2][n], g) <= 1e-5, n


def test_compiled_layer_follows_load_state_dict(rng):
    """Facts about the bases (here: untouched plain DFT → FFT path) are re-decided on load; the compiled graph
    recompiles instead of reusing the FFT for kernels that are no longer the DFT."""
    layer = nf.STFT(n_fft=256, hop_length=64, output_format="Magnitude")
    x = _input("wave", rng)
    compiled = torch.compile(layer, fullgraph=True, backend="aot_eager")
    torch._dynamo.reset()
    assert rel_err(compiled(x), layer(x)) <= 1e-6
    state = {k: v.clone() for k, v in layer.state_dict().items()}
    state["wcos"] = state["wcos"] * torch.linspace(0.5, 1.5, state["wcos"].shape[-1])
    layer.load_state_dict(state)
    expected = nf.functional.spectrogram_from_kernels(x, state["wcos"][:, 0], state["wsin"][:, 0], None, 64,
                                                      power=1.0, backend="reference")
    assert rel_err(compiled(x), expected) <= 1e-6  # first: no eager call in between re-decides the facts
    assert rel_err(layer(x), expected) <= 1e-6


# ----------------------------------------------------------------------------------------------------------------
# pickle, deepcopy, torch.save, DataLoader workers
# ----------------------------------------------------------------------------------------------------------------
ALL_VARIANTS = {**{k: v[0] for k, v in LAYERS.items()}, **{f"{k}-trainable": v for k, v in TRAINABLE.items()}}


@pytest.mark.parametrize("name", list(ALL_VARIANTS))
def test_pickle_deepcopy_and_torch_save_at_any_time(name, rng):
    layer = ALL_VARIANTS[name]()
    kind = "spec" if name.startswith("iSTFT") else "wave"
    x = _input(kind, rng)
    copies = [pickle.loads(pickle.dumps(layer)), copy.deepcopy(layer)]  # before any forward
    with torch.no_grad():
        expected = _first(layer(x))
        layer(x.double())  # float64 exact bases cached on the layer
    copies += [pickle.loads(pickle.dumps(layer)), copy.deepcopy(layer)]
    buffer = io.BytesIO()
    torch.save(layer, buffer)
    buffer.seek(0)
    copies.append(torch.load(buffer, weights_only=False))
    for other in copies:
        with torch.no_grad():
            assert torch.equal(_first(other(x)), expected)
        assert other.state_dict().keys() == layer.state_dict().keys()


class _FeatureDataset(torch.utils.data.Dataset):
    """Computes layers' features in the worker (the layers travel to spawned workers by pickle)."""

    def __init__(self, layers, signals):
        self.layers, self.signals = layers, signals

    def __len__(self):
        return len(self.signals)

    def __getitem__(self, i):
        with torch.no_grad():
            return tuple(layer(self.signals[i])[0] for layer in self.layers)


@pytest.mark.slow
def test_spawn_dataloader_workers(rng):
    """Spawned workers compute what the main process computes: bitwise for the Mel spectrogram (its per-example
    path choices), to rounding for the everyday-feature layers (batched products may round differently)."""
    layers = [nf.MelSpectrogram(sr=SR, n_fft=256, hop_length=64, n_mels=32),
              nf.ChromaSTFT(sr=SR, n_fft=256, hop_length=64), nf.SpectralRolloff(sr=SR, n_fft=256, hop_length=64),
              nf.ChromaCQT(sr=SR, hop_length=128, fmin=100, n_octaves=2)]
    signals = noise(rng, 4, 3000, dtype=torch.float32)
    with torch.no_grad():
        expected = [layer(signals) for layer in layers]  # after a forward: caches exist and must not break pickling
    loader = torch.utils.data.DataLoader(_FeatureDataset(layers, signals), batch_size=2, num_workers=2,
                                         multiprocessing_context="spawn")
    batches = list(loader)
    got = [torch.cat([b[k] for b in batches]) for k in range(len(layers))]
    assert torch.equal(got[0], expected[0])
    for k in range(1, len(layers)):
        assert got[k].shape == expected[k].shape and rel_err(got[k], expected[k]) <= 1e-6, type(layers[k]).__name__


# ----------------------------------------------------------------------------------------------------------------
# buffers, checks
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(ALL_VARIANTS))
def test_buffers_are_contiguous_and_own_their_memory(name):
    layer = ALL_VARIANTS[name]()
    for key, t in list(layer.named_buffers()) + list(layer.named_parameters()):
        assert t.is_contiguous(), key
        expected = [int(np.prod(t.shape[i + 1:])) for i in range(t.dim())]
        assert list(t.stride()) == expected, f"{key} has strides {t.stride()}, not {tuple(expected)}"
        assert t.untyped_storage().nbytes() == t.numel() * t.element_size(), key


@pytest.mark.parametrize("freq_scale", ["linear", "log", "log2"])
def test_stft_inverse_refuses_non_dft_bins(freq_scale, rng):
    layer = nf.STFT(n_fft=256, hop_length=64, freq_scale=freq_scale, fmin=50, fmax=6000, sr=SR, iSTFT=True)
    X = layer(_input("wave", rng))
    with pytest.raises(ValueError, match="freq_scale='no'"):
        layer.inverse(X)


def test_unknown_backend_fails_at_construction():
    with pytest.raises(ValueError, match="backend='bogus'"):
        nf.MelSpectrogram(backend="bogus")


@pytest.mark.slow
def test_ddp_two_ranks_gloo_default_arguments(tmp_path):
    """torchrun, 2 CPU processes: DDP(model) with default arguments (buffers broadcast every step) trains models
    whose only buffers are a layer's, and both ranks end with the same parameters and buffers."""
    import os
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(__file__), "ddp_check.py")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", script],
        capture_output=True, text=True, timeout=240, env=env, cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in ("mel", "mel-trainable", "stft", "cqt2010v2-trainable", "chroma-stft-trainable", "chroma-cqt",
                 "centroid-trainable"):
        assert f"DDP-OK {name}" in proc.stdout, proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", ["MelSpectrogram", "CQT2010v2"])
def test_compile_fullgraph_with_the_triton_custom_ops(name, rng):
    """Layers on the Triton backend (its torch.library custom ops; on the CPU under the interpreter, as on CUDA):
    no graph break before the first eager call, forward and backward."""
    from helpers import require_triton_interpreter_or_cuda, TRITON_DEVICE

    require_triton_interpreter_or_cuda()
    small = {"MelSpectrogram": lambda: nf.MelSpectrogram(sr=SR, n_fft=128, hop_length=64, n_mels=16,
                                                          trainable_mel=True, trainable_STFT=True)}
    layer = small.get(name, TRAINABLE[name])().to(TRITON_DEVICE)  # the interpreter's time grows with the grid
    layer.apply(lambda m: setattr(m, "backend", "triton") if hasattr(m, "backend") else None)
    x = _input("wave", rng, batch=1, length=2000 if name == "CQT2010v2" else 1000).to(TRITON_DEVICE)
    torch._dynamo.reset()
    from nnaudio_fast import dispatch

    dispatch.reset()
    explained = torch._dynamo.explain(layer)(x)
    assert explained.graph_break_count == 0, explained.break_reasons
    eager = _grads(layer, x)
    compiled = _grads(layer, x, torch.compile(layer, fullgraph=True, backend="aot_eager"))
    assert rel_err(compiled[0], eager[0]) <= 1e-6
    for n, g in eager[2].items():
        assert rel_err(compiled[2][n], g) <= 1e-5, n
