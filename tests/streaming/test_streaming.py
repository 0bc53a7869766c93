"""Streaming (nnaudio_fast.streaming): the frames a stream returns, concatenated with its flush, equal the layer's
output on the whole signal for every layer, centring, pad mode and dtype, under random chunkings (0, 1 and more
than a frame's samples); frames come out as soon as they are complete; the iSTFT stream; the MFCC top_db stream
(not exact, documented); the exportable step (torch.export, ONNX in onnxruntime); errors and module paths."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import nnaudio_fast as nf
from nnaudio_fast import streaming

from helpers import noise, rel_err

BOUND = {torch.float32: 1e-6, torch.float64: 1e-12}
PAD_MODES = ("reflect", "constant", "replicate")


def _layers(center, pad_mode):
    """Small configurations of every streamed layer: (layer, frame width, hop)."""
    kw = dict(center=center, pad_mode=pad_mode, verbose=False)
    return {
        "STFT complex, odd n_fft": (nf.STFT(n_fft=255, hop_length=64, output_format="Complex", **kw), 255, 64),
        "STFT magnitude": (nf.STFT(n_fft=256, hop_length=100, output_format="Magnitude", **kw), 256, 100),
        "STFT phase, hop > n_fft": (nf.STFT(n_fft=64, hop_length=100, output_format="Phase", **kw), 64, 100),
        "MelSpectrogram": (nf.MelSpectrogram(sr=16000, n_fft=401, hop_length=97, n_mels=40, **kw), 401, 97),
        "MFCC": (nf.MFCC(sr=16000, n_mfcc=13, n_fft=256, hop_length=64, n_mels=40, top_db=None, **kw), 256, 64),
        "Gammatonegram": (nf.Gammatonegram(sr=8000, n_fft=256, hop_length=64, n_bins=30, **kw), 256, 64),
        "CQT1992v2": (nf.CQT1992v2(sr=8000, hop_length=128, fmin=200, n_bins=24, **kw), None, 128),
        "CQT1992v2 complex": (nf.CQT1992v2(sr=8000, hop_length=100, fmin=250, n_bins=18, output_format="Complex",
                                           **kw), None, 100),
    }


LAYER_NAMES = list(_layers(True, "reflect"))


def _chunking(rng, length, width, hop):
    """Random chunk sizes covering ``length`` samples: 0, 1, 2, around a hop, more than a frame."""
    sizes, total = [], 0
    choices = [0, 1, 2, 3, hop - 1, hop, hop + 1, width + 5, 3 * width + 1]
    while total < length:
        n = int(rng.choice(choices)) if rng.random() < 0.8 else int(rng.integers(0, 4 * width))
        sizes.append(min(n, length - total))
        total += sizes[-1]
    return sizes + [0]


def _stream_all(stream, x, sizes):
    outs, start = [], 0
    for n in sizes:
        out = stream(x[:, start: start + n])
        assert out.shape[stream.time_axis] >= 0 and out.shape[0] == x.shape[0]
        outs.append(out)
        start += n
    outs.append(stream.flush())
    return torch.cat(outs, stream.time_axis)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("pad_mode", PAD_MODES)
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("name", LAYER_NAMES)
def test_stream_equals_the_layer_on_the_whole_signal(rng, name, center, pad_mode, dtype):
    layer, width, hop = _layers(center, pad_mode)[name]
    width = width or layer.cqt_kernels_real.shape[-1]
    stream = layer.streaming()
    assert stream.exact and stream.latency == width - 1
    lengths = {width + 3, 4 * width + 17} | ({1, 7, width // 2} if center else set())
    for length in sorted(lengths):
        x = noise(rng, 2, length, dtype=dtype)
        want = layer(x)
        got = _stream_all(stream, x, _chunking(rng, length, width, hop))
        assert rel_err(got, want) <= BOUND[dtype], (length, rel_err(got, want))
    # after flush the stream starts over: a second signal streams from scratch
    x = noise(rng, 2, 2 * width + 1, dtype=dtype)
    assert rel_err(_stream_all(stream, x, [width, 0, width + 1]), layer(x)) <= BOUND[dtype]


@pytest.mark.parametrize("center,pad_mode", [(True, "reflect"), (True, "constant"), (False, "reflect")])
def test_frames_come_out_as_soon_as_they_are_complete(rng, center, pad_mode):
    """Sample by sample: frame t is returned by the call bringing the last sample it reads (and, for reflect, the
    P + 1 samples the left pad is made of); no sample waits more than ``latency`` for the last frame reading it."""
    n_fft, hop = 64, 24
    layer = nf.STFT(n_fft=n_fft, hop_length=hop, center=center, pad_mode=pad_mode, output_format="Magnitude",
                    verbose=False)
    stream, p = layer.streaming(), (n_fft // 2 if center else 0)
    x = noise(rng, 1, 400)
    returned_at = []  # samples received when each frame came out
    for i in range(x.shape[-1]):
        returned_at += [i + 1] * stream(x[:, i: i + 1]).shape[-1]
    start = p + 1 if (center and pad_mode == "reflect") else 1
    for t, at in enumerate(returned_at):
        assert at == max(t * hop + n_fft - p, start)
    delays = []
    for s in range(x.shape[-1]):  # the last frame reading sample s, among those already returned
        t = (s + p) // hop
        if t < len(returned_at):
            delays.append(returned_at[t] - 1 - s)
    assert max(delays) == stream.latency == n_fft - 1


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("n_fft,hop", [(400, 160), (255, 64), (64, 64)])
def test_inverse_stream_equals_the_offline_inverse(rng, n_fft, hop, center, dtype):
    stft = nf.STFT(n_fft=n_fft, hop_length=hop, center=center, output_format="Complex", verbose=False)
    inverse = nf.iSTFT(n_fft=n_fft, hop_length=hop, center=center, verbose=False)
    stream = inverse.streaming()
    assert stream.latency == n_fft - hop
    for length in (n_fft + 1, 3000):
        X = stft(noise(rng, 2, length, dtype=dtype))
        want = inverse(X)
        outs, t = [], 0
        while t < X.shape[-2]:
            n = int(rng.choice([0, 1, 2, 5]))
            outs.append(stream(X[:, :, t: t + n]))
            t += n
        outs.append(stream.flush())
        assert rel_err(torch.cat(outs, -1), want) <= BOUND[dtype]
        Xc = torch.view_as_complex(X.contiguous())  # complex frames too
        assert rel_err(torch.cat([stream(Xc), stream.flush()], -1), want) <= BOUND[dtype]


def test_mfcc_top_db_streams_against_the_running_maximum(rng):
    """top_db clips below the whole signal's maximum, which a stream cannot know: it clips below the maximum so
    far (``exact`` is False). From the loudest frame on the frames equal the layer's."""
    layer = nf.MFCC(sr=16000, n_mfcc=13, n_fft=256, hop_length=64, n_mels=40, top_db=20.0, verbose=False)
    x = noise(rng, 2, 4000) * torch.linspace(0.001, 1.0, 4000, dtype=torch.float64)  # loudest at the end
    stream = layer.streaming()
    assert isinstance(stream, streaming.PeakClippedStream) and stream.exact is False
    got = _stream_all(stream, x, _chunking(rng, 4000, 256, 64))
    want = layer(x)
    mel_db = nf.functional.power_to_db(layer.melspec_layer(x), top_db=None)
    loudest = int(mel_db.amax(dim=1).argmax(dim=-1).max())
    assert rel_err(got[..., loudest:], want[..., loudest:]) <= 1e-12
    assert rel_err(got, want) > 1e-3  # the clip acts differently before the loudest frame: not the same output
    early = torch.flip(x, [-1])  # loudest near the start: the running maximum reaches the maximum early
    mel_db = nf.functional.power_to_db(layer.melspec_layer(early), top_db=None)
    loudest = int(mel_db.amax(dim=1).argmax(dim=-1).max())
    assert loudest < 10
    got = _stream_all(stream, early, [300, 1, 0, 3699])
    assert rel_err(got[..., loudest:], layer(early)[..., loudest:]) <= 1e-12


@pytest.mark.parametrize("name,chunk", [("MelSpectrogram", 291), ("MFCC", 192), ("STFT complex, odd n_fft", 192),
                                        ("CQT1992v2", 1024)])
@pytest.mark.parametrize("center,pad_mode", [(True, "reflect"), (True, "replicate"), (True, "constant"),
                                             (False, "reflect")])
def test_step_module_returns_the_streams_frames(rng, name, chunk, center, pad_mode):
    layer, _, _ = _layers(center, pad_mode)[name]
    stream = layer.streaming()
    step = stream.step_module(chunk)
    x = noise(rng, 2, 20 * chunk, dtype=torch.float32)
    state, outs = step.initial_state(2), []
    for i in range(0, x.shape[-1], chunk):
        out, *state = step(x[:, i: i + chunk], *state)
        assert out.shape[step.time_axis] == step.frames_per_step
        outs.append(out)
    got = torch.cat(outs, step.time_axis)
    got = got.narrow(step.time_axis, step.warmup, got.shape[step.time_axis] - step.warmup)
    want = torch.cat([stream(x[:, i: i + chunk]) for i in range(0, x.shape[-1], chunk)], stream.time_axis)
    n = want.shape[stream.time_axis]
    assert got.shape[step.time_axis] >= n
    assert rel_err(got.narrow(step.time_axis, 0, n), want) <= BOUND[torch.float32]


def test_step_module_with_top_db_keeps_the_running_maximum(rng):
    """The maximum is over the signal's frames only: the warm-up frames, which put the first samples at the
    window's centre, must not raise it (a burst at the start makes one of them the loudest)."""
    layer = nf.MFCC(sr=16000, n_mfcc=13, n_fft=256, hop_length=64, n_mels=40, top_db=30.0, center=False,
                    verbose=False)
    stream = layer.streaming()
    step = stream.step_module(192)
    x = noise(rng, 2, 3840, dtype=torch.float32) * 0.01
    x[:, 40:90] *= 1000.0
    state, outs = step.initial_state(2), []
    for i in range(0, 3840, 192):
        out, *state = step(x[:, i: i + 192], *state)
        outs.append(out)
    got = torch.cat(outs, -1)[..., step.warmup:]
    want = torch.cat([stream(x[:, i: i + 192]) for i in range(0, 3840, 192)], -1)
    assert rel_err(got[..., : want.shape[-1]], want) <= 1e-6


def test_step_module_exports_and_runs_in_onnxruntime(rng, tmp_path):
    """The Whisper front end's step through torch.export and ONNX: onnxruntime on fixed 20 ms chunks returns the
    stream's frames."""
    ort = pytest.importorskip("onnxruntime")
    layer = nf.MelSpectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=80, verbose=False)
    stream = layer.streaming()
    step = stream.step_module(320)
    state = step.initial_state(1)
    chunk = noise(rng, 1, 320, dtype=torch.float32)
    exported = torch.export.export(step, (chunk, *state))
    path = tmp_path / "mel_step.onnx"
    torch.onnx.export(step, (chunk, *state), str(path), dynamo=True)
    session = ort.InferenceSession(str(path))
    names = [i.name for i in session.get_inputs()]
    x = noise(rng, 1, 16 * 320, dtype=torch.float32)
    st = [t.numpy() for t in step.initial_state(1)]
    ep_state, outs, ep_outs = step.initial_state(1), [], []
    for i in range(0, x.shape[-1], 320):
        res = session.run(None, dict(zip(names, [x[:, i: i + 320].numpy(), *st])))
        outs.append(res[0])
        st = res[1:]
        out, *ep_state = exported.module()(x[:, i: i + 320], *ep_state)
        ep_outs.append(out)
    want = torch.cat([stream(x[:, i: i + 320]) for i in range(0, x.shape[-1], 320)], -1)
    got = torch.from_numpy(np.concatenate(outs, -1))[..., step.warmup:][..., : want.shape[-1]]
    assert rel_err(got, want) <= 1e-5  # onnxruntime's DFT rounds differently from pocketfft
    assert rel_err(torch.cat(ep_outs, -1)[..., step.warmup:][..., : want.shape[-1]], want) <= 1e-6


def test_trained_and_edited_bases_stream(rng):
    """A stream computes with its layer's current bases: after an optimizer step on a trainable filterbank, and
    after an in-place edit of a fixed one."""
    layer = nf.MelSpectrogram(sr=16000, n_fft=256, hop_length=64, n_mels=20, trainable_mel=True, verbose=False)
    opt = torch.optim.SGD(layer.parameters(), lr=1.0)
    layer(noise(rng, 1, 2000, dtype=torch.float32)).sum().backward()
    opt.step()
    x = noise(rng, 2, 3000, dtype=torch.float32)
    with torch.no_grad():
        assert rel_err(_stream_all(layer.streaming(), x, _chunking(rng, 3000, 256, 64)), layer(x)) <= 1e-6
    fixed = nf.Gammatonegram(sr=8000, n_fft=256, hop_length=64, n_bins=30, verbose=False)
    stream = fixed.streaming()
    first = stream(x[:, :1000])
    fixed.stft.wsin.mul_(0.5)  # edited between chunks: the stream's next frames use the new kernels
    rest = torch.cat([stream(x[:, 1000:]), stream.flush()], -1)
    want = fixed(x)
    assert rel_err(rest, want[..., first.shape[-1]:]) <= 1e-6


def test_stream_paths_pickle_deepcopy_and_shapes(rng):
    layer = nf.MelSpectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40, verbose=False)
    x = noise(rng, 1, 5000, dtype=torch.float32)
    want = layer(x)
    stream = layer.streaming()
    head = stream(x[0, :1234])  # a 1-D chunk: batch 1, as the layer treats (time,)
    for clone in (copy.deepcopy(stream), pickle.loads(pickle.dumps(stream))):
        assert clone.layer is not layer
        tail = torch.cat([clone(x[:, None, 1234:4000]), clone(x[:, 4000:]), clone.flush()], -1)  # (B, 1, n) too
        assert rel_err(torch.cat([head, tail], -1), want) <= 1e-6
    stream.reset()
    assert rel_err(torch.cat([stream(x), stream.flush()], -1), want) <= 1e-6
    empty = layer.streaming().flush()
    assert empty.shape == (0, 40, 0)
    assert stream(x[:, :0]).shape == (1, 40, 0)


def test_stream_errors_name_the_argument():
    with pytest.raises(ValueError, match="pad_mode='circular'"):
        nf.STFT(n_fft=64, pad_mode="circular", verbose=False).streaming()
    stream = nf.STFT(n_fft=64, hop_length=16, verbose=False).streaming()
    stream(torch.randn(2, 100))
    with pytest.raises(ValueError, match="batch size 3 .* carries 2"):
        stream(torch.randn(3, 10))
    with pytest.raises(ValueError, match="dtype torch.float64"):
        stream(torch.randn(2, 10, dtype=torch.float64))
    with pytest.raises(ValueError, match="has shape"):
        stream(torch.randn(2, 3, 10))
    with pytest.raises(ValueError, match="chunk_size=20 must be a multiple of hop_length=16"):
        stream.step_module(20)
    with pytest.raises(ValueError, match="chunk_size=16 is shorter than the 33 samples"):
        stream.step_module(16)
    step = stream.step_module(48)
    with pytest.raises(ValueError, match=r"takes \(batch, 48\) chunks"):
        step(torch.randn(1, 47), *step.initial_state(1))
    with pytest.raises(ValueError, match="hop_length=80 exceeds n_fft=64"):
        nf.iSTFT(n_fft=64, hop_length=80, verbose=False).streaming()
    inverse = nf.iSTFT(n_fft=64, hop_length=16, verbose=False).streaming()
    with pytest.raises(ValueError, match="iSTFT stream takes"):
        inverse(torch.randn(1, 33, 4))


def _multirate_layers(pad_mode):
    kw = dict(pad_mode=pad_mode, verbose=False)
    return {
        "CQT2010v2": nf.CQT2010v2(sr=8000, hop_length=64, fmin=110, n_bins=36, **kw),
        "CQT2010v2 complex, hop 100 (kernel phases)": nf.CQT2010v2(sr=8000, hop_length=100, fmin=150, n_bins=30,
                                                                   output_format="Complex", **kw),
        "VQT": nf.VQT(sr=8000, hop_length=64, fmin=110, n_bins=36, gamma=5.0, **kw),
    }


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("pad_mode", PAD_MODES)
@pytest.mark.parametrize("name", list(_multirate_layers("reflect")))
def test_multirate_stream_equals_the_layer(rng, name, pad_mode, dtype):
    """The multirate CQT and VQT stream exactly: each call runs the layer's own transform on a segment aligned to
    the pyramid's decimation grid and the kernels' phases, keeping the frames that read only true samples."""
    layer = _multirate_layers(pad_mode)[name]
    stream = layer.streaming()
    assert stream.exact and stream.latency > 0
    hop = layer.hop_length
    for length in (1, 7, 3 * hop + 5, 6000):
        x = noise(rng, 2, length, dtype=dtype)
        want = layer(x)
        got = _stream_all(stream, x, _chunking(rng, length, 512, hop))
        assert rel_err(got, want) <= BOUND[dtype], (length, rel_err(got, want))


@pytest.mark.parametrize("pad_mode", ["constant", "reflect"])
@pytest.mark.parametrize("name", list(_multirate_layers("reflect")))
def test_multirate_step_module_returns_the_streams_frames(rng, name, pad_mode):
    """The multirate step: chunks a multiple of lcm(hop, 2^levels) (every step on the same decimation grid and
    kernel phases); reflect needs a chunk holding the left pad's source."""
    stream = _multirate_layers(pad_mode)[name].streaming()
    f = stream._framing
    bad = f.period + f.hop if f.period > f.hop else f.period + 1  # a multiple of the hop only, or not even that
    with pytest.raises(ValueError, match=f"chunk_size={bad} must be a multiple of " + (
            f"{f.period} \\(lcm of hop_length={f.hop}" if f.period > f.hop else f"hop_length={f.hop}")):
        stream.step_module(bad)
    chunk = 2 * f.period if pad_mode == "constant" else f.period * -(-(f.pad + 1) // f.period)
    step = stream.step_module(chunk)
    x = noise(rng, 2, chunk * -(-9000 // chunk), dtype=torch.float32)
    state, outs = step.initial_state(2), []
    for i in range(0, x.shape[-1], chunk):
        out, *state = step(x[:, i: i + chunk], *state)
        outs.append(out)
    got = torch.cat(outs, step.time_axis)
    got = got.narrow(step.time_axis, step.warmup, got.shape[step.time_axis] - step.warmup)
    want = torch.cat([stream(x[:, i: i + chunk]) for i in range(0, x.shape[-1], chunk)], stream.time_axis)
    n = want.shape[stream.time_axis]
    assert n > 20 and got.shape[step.time_axis] >= n
    assert rel_err(got.narrow(step.time_axis, 0, n), want) <= BOUND[torch.float32]


def test_multirate_step_module_exports(rng):
    """torch.export of the CQT2010v2 step (onnxruntime was checked by hand to 2e-7: its export takes 30 s)."""
    stream = nf.CQT2010v2(sr=8000, hop_length=64, fmin=440, n_bins=24, pad_mode="constant", verbose=False).streaming()
    step = stream.step_module(128)
    exported = torch.export.export(step, (noise(rng, 1, 128, dtype=torch.float32), *step.initial_state(1)))
    x = noise(rng, 1, 128 * 30, dtype=torch.float32)
    state, outs, run = step.initial_state(1), [], exported.module()
    for i in range(0, x.shape[-1], 128):
        out, *state = run(x[:, i: i + 128], *state)
        outs.append(out)
    want = torch.cat([stream(x[:, i: i + 128]) for i in range(0, x.shape[-1], 128)], -1)
    assert rel_err(torch.cat(outs, -1)[..., step.warmup:][..., : want.shape[-1]], want) <= 1e-6


def test_multirate_stream_refuses_nnaudio_layout():
    with pytest.raises(ValueError, match="nnaudio_compat=False"):
        nf.CQT2010v2(sr=8000, hop_length=64, fmin=110, n_bins=24, nnaudio_compat=True, verbose=False).streaming()
