"""Constant-Q chroma (functional ``chroma_cqt``, ``bases.cq_to_chroma``) against librosa 0.11, and the layers of the
everyday features (ChromaSTFT, ChromaCQT, the spectral descriptors, AmplitudeToDB/ComputeDeltas at the top level):
librosa parity in float64 (1e-9) and float32 (1e-5), gradients to their trainable bases, streaming, state_dict.

From a waveform our CQT is the exact transform, which librosa.cqt approximates to about 1e-2
(../shared/notes/cqt-accuracy.md): chroma_cqt from a waveform is held to 2e-2 of librosa's on the frames that are
not near silence, and to rounding (1e-9 / 1e-5) from the same CQT magnitude ``C``."""

from __future__ import annotations

import math

import librosa
import numpy as np
import pytest
import torch

import nnaudio_fast as nf
from nnaudio_fast import bases
from nnaudio_fast import functional as AF
from nnaudio_fast.functional.chroma import C1_HZ

from helpers import log_chirp, noise, recording, rel_err

SR = 22050


@pytest.mark.parametrize("n_input,bpo,n_chroma", [(84, 12, 12), (252, 36, 12), (100, 48, 24), (7, 36, 36)])
@pytest.mark.parametrize("fmin", [None, 27.5, 40.0, 100.3])
@pytest.mark.parametrize("base_c", [True, False])
def test_cq_to_chroma_equals_librosa(n_input, bpo, n_chroma, fmin, base_c):
    for window in (None, np.array([0.25, 0.5, 0.25]), np.array([1.0, 2.0])):
        want = librosa.filters.cq_to_chroma(n_input, bins_per_octave=bpo, n_chroma=n_chroma, fmin=fmin,
                                            window=window, base_c=base_c, dtype=np.float64)
        assert np.array_equal(bases.cq_to_chroma(n_input, bpo, n_chroma, fmin, window, base_c), want)


def test_cq_to_chroma_arguments():
    with pytest.raises(ValueError, match="bins_per_octave=30 must be a multiple of n_chroma=12"):
        bases.cq_to_chroma(84, 30, 12)
    with pytest.raises(ValueError, match="fmin=-1"):
        bases.cq_to_chroma(84, 12, 12, -1.0)
    with pytest.raises(ValueError, match="window has shape"):
        bases.cq_to_chroma(84, 12, 12, None, np.ones((2, 2)))


def _cqt_magnitude(x, **kw):
    return np.abs(librosa.cqt(x, sr=SR, hop_length=kw.get("hop_length", 512), fmin=librosa.note_to_hz("C1"),
                              n_bins=kw.get("n_octaves", 7) * kw.get("bins_per_octave", 36),
                              bins_per_octave=kw.get("bins_per_octave", 36), tuning=0.0))


CHROMA_CQT_CASES = [{}, {"hop_length": 500}, {"bins_per_octave": 12, "n_octaves": 6}, {"norm": None},
                    {"norm": 2, "threshold": 0.1}, {"bins_per_octave": 48, "n_chroma": 24, "n_octaves": 5}]


@pytest.mark.parametrize("kw", CHROMA_CQT_CASES)
def test_chroma_cqt_matches_librosa(rng, kw):
    """From librosa's own CQT magnitude: to rounding, both dtypes, with leading dimensions. From a waveform (a
    recording and a chirp): within the CQT's own distance to librosa's."""
    speech = recording("alsa/Front_Center.wav", SR, seconds=1.2).double().numpy()
    x = np.stack([speech, log_chirp(SR, speech.size / SR)[: speech.size]])
    C = _cqt_magnitude(x, **kw)
    kc = {k: v for k, v in kw.items() if k != "hop_length"}
    want = librosa.feature.chroma_cqt(C=C, **kc)
    for dtype, bound in ((torch.float64, 1e-9), (torch.float32, 1e-5)):
        got = AF.chroma_cqt(C=torch.from_numpy(C).to(dtype)[:, None], **kc)
        assert got.dtype == dtype and got.shape == (2, 1) + want.shape[1:]
        assert rel_err(got[:, 0], want) <= bound
    from_wave = librosa.feature.chroma_cqt(y=x, sr=SR, tuning=0.0, **kw)
    got = AF.chroma_cqt(torch.from_numpy(x), sr=SR, **kw)
    # Frames holding at least 5 % of the loudest frame's chroma energy: normalisation lifts the quiet ones (the
    # recording's silences, the chirp's taper and its part above the top bin) to 1, and with them the two CQTs'
    # differences in their noise floor (librosa's resampling and kernel sparsification), up to 0.3.
    raw = librosa.feature.chroma_cqt(C=C, norm=None, threshold=None, **{k: v for k, v in kc.items()
                                                                        if k not in ("norm", "threshold")})
    energy = np.linalg.norm(raw, axis=-2)
    for i in range(2):
        loud = energy[i] >= 0.05 * energy[i].max()
        assert loud.mean() >= 0.5
        assert rel_err(got[i][:, loud], from_wave[i][:, loud]) <= 2e-2


def test_chroma_cqt_tuning_and_arguments(rng):
    x = torch.from_numpy(log_chirp(SR, 1.0))
    C = AF.cqt(x, sr=SR, fmin=C1_HZ * 2 ** (0.3 / 36), n_bins=252, bins_per_octave=36, pad_mode="constant")
    assert rel_err(AF.chroma_cqt(x, sr=SR, tuning=0.3), AF.chroma_cqt(C=C)) <= 1e-12
    with pytest.raises(ValueError, match="either waveform or C"):
        AF.chroma_cqt(x, C=C)
    with pytest.raises(ValueError, match="pass a waveform"):
        AF.chroma_cqt()
    with pytest.raises(ValueError, match="bins_per_octave=30 must be a multiple"):
        AF.chroma_cqt(x, bins_per_octave=30)
    with pytest.raises(ValueError, match="norm='l2'"):
        AF.chroma_cqt(C=C, norm="l2")


# ----------------------------------------------------------------------------------------------------------------
# layers
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,bound", [(torch.float64, 1e-9), (torch.float32, 1e-5)])
def test_chroma_stft_layer_matches_librosa(rng, dtype, bound):
    x = noise(rng, 3, 7001)
    kw = dict(n_fft=1024, hop_length=300, tuning=0.2, n_chroma=24)
    layer = nf.ChromaSTFT(sr=16000, **kw)
    want = librosa.feature.chroma_stft(y=x.numpy(), sr=16000, dtype=np.float64, **kw)
    got = layer(x.to(dtype))
    assert got.dtype == dtype and rel_err(got, want) <= bound
    assert rel_err(layer(x[1].to(dtype))[0], want[1]) <= bound
    assert set(layer.state_dict()) == {"stft.wsin", "stft.wcos", "stft.window_mask", "chroma_basis"}


def test_chroma_cqt_layer_equals_the_functional(rng):
    x = noise(rng, 2, 9000)
    kw = dict(sr=16000, hop_length=256, n_octaves=5, tuning=-0.2)
    threshold = float(AF.chroma_cqt(x, **kw, norm=None).median())  # zeroes about half of the values
    for multirate in (True, False):
        layer = nf.ChromaCQT(**kw, threshold=threshold, multirate=multirate)
        want = AF.chroma_cqt(x, **kw, threshold=threshold, multirate=multirate)
        assert (want == 0).float().mean() > 0.3
        assert rel_err(layer(x), want) <= 1e-9
        assert rel_err(layer(x.float()), want) <= 1e-5
    assert "chroma_basis" in layer.state_dict() and "cqt.cqt_kernels_real" in layer.state_dict()


@pytest.mark.parametrize("dtype,bound", [(torch.float64, 1e-9), (torch.float32, 1e-5)])
@pytest.mark.parametrize("name,kw", [("SpectralCentroid", {}), ("SpectralBandwidth", {"p": 3.0}),
                                     ("SpectralBandwidth", {"norm": False}), ("SpectralRolloff",
                                                                              {"roll_percent": 0.5}),
                                     ("SpectralFlatness", {"power": 1.0})])
def test_descriptor_layers_match_librosa(rng, name, kw, dtype, bound):
    x = noise(rng, 2, 5001) * torch.linspace(0.1, 1.0, 5001, dtype=torch.float64)
    frames = dict(n_fft=512, hop_length=160)
    layer = getattr(nf, name)(sr=16000, **frames, **kw)
    sr = {} if name == "SpectralFlatness" else {"sr": 16000}
    want = getattr(librosa.feature, name.replace("Spectral", "spectral_").lower())(y=x.numpy(), **sr, **frames, **kw)
    got = layer(x.to(dtype))
    assert got.shape == want.shape and got.dtype == dtype
    assert rel_err(got, want) <= bound


def test_trainable_bases_receive_gradients(rng):
    x = noise(rng, 2, 4000, dtype=torch.float32)
    layers = [nf.ChromaSTFT(sr=16000, n_fft=512, trainable_chroma=True, trainable_STFT=True),
              nf.ChromaCQT(sr=16000, hop_length=256, n_octaves=4, trainable=True, norm=None),
              nf.SpectralCentroid(sr=16000, n_fft=512, trainable_STFT=True),
              nf.SpectralFlatness(sr=16000, n_fft=512, trainable_STFT=True)]
    for layer in layers:
        params = [p for p in layer.parameters() if p.requires_grad]
        assert params, type(layer).__name__
        layer(x).square().mean().backward()
        for p in params:
            assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_chroma_stft_gradient_equals_the_reference_gradcheck(rng):
    layer = nf.ChromaSTFT(sr=8000, n_fft=64, hop_length=32, trainable_chroma=True, backend="reference").double()
    x = noise(rng, 1, 200)
    assert torch.autograd.gradcheck(lambda fb: torch.func.functional_call(
        layer, {"chroma_basis": fb}, (x,)), (layer.chroma_basis.detach().clone().requires_grad_(),))


@pytest.mark.parametrize("make", [lambda: nf.ChromaSTFT(sr=16000, n_fft=400, hop_length=160),
                                  lambda: nf.ChromaCQT(sr=16000, hop_length=256, n_octaves=4)])
def test_chroma_layers_stream_exactly(rng, make):
    layer = make()
    x = noise(rng, 1, 7000, dtype=torch.float64)
    stream = layer.streaming()
    pieces, start = [], 0
    for n in (0, 1, 159, 400, 3000, 17, 2000):
        pieces.append(stream(x[:, start:start + n]))
        start += n
    pieces.append(stream(x[:, start:]))
    pieces.append(stream.flush())
    assert rel_err(torch.cat(pieces, stream.time_axis), layer(x)) <= 1e-12


def test_db_and_deltas_on_nnaudio_style_layers(rng):
    x = noise(rng, 2, 8000, dtype=torch.float32)
    mel = nf.MelSpectrogram(sr=16000, n_fft=512, hop_length=128, n_mels=40)(x)
    db = nf.AmplitudeToDB(top_db=80.0)(mel)
    want = librosa.power_to_db(mel.numpy(), ref=1.0, amin=1e-10, top_db=None)
    want = np.maximum(want, want.max(axis=(-2, -1), keepdims=True) - 80.0)
    assert rel_err(db, want) <= 1e-5
    mag = nf.STFT(n_fft=512, hop_length=128, output_format="Magnitude")(x)
    assert rel_err(nf.AmplitudeToDB("magnitude")(mag), librosa.amplitude_to_db(mag.numpy(), ref=1.0, amin=1e-10,
                                                                               top_db=None)) <= 1e-5
    deltas = nf.ComputeDeltas(win_length=9)(db)
    assert rel_err(deltas, librosa.feature.delta(db.numpy(), width=9, mode="nearest")) <= 1e-5


def test_layer_arguments():
    with pytest.raises(ValueError, match="norm='max'"):
        nf.ChromaSTFT(norm="max")
    with pytest.raises(ValueError, match="roll_percent=1.5"):
        nf.SpectralRolloff(roll_percent=1.5)
    with pytest.raises(ValueError, match="bins_per_octave=30 must be a multiple"):
        nf.ChromaCQT(bins_per_octave=30)
    with pytest.raises(ValueError, match="p=0"):
        nf.SpectralBandwidth(p=0)
    assert math.isinf(nf.ChromaCQT(n_octaves=2).norm)


def test_chroma_cqt_step_module_returns_the_streams_frames(rng):
    layer = nf.ChromaCQT(sr=8000, hop_length=64, fmin=110.0, n_octaves=3, pad_mode="constant")
    stream = layer.streaming()
    step = stream.step_module(128)
    x = noise(rng, 1, 128 * 100, dtype=torch.float32)
    state, outs = step.initial_state(1), []
    for i in range(0, x.shape[-1], 128):
        out, *state = step(x[:, i: i + 128], *state)
        outs.append(out)
    want = torch.cat([stream(x[:, i: i + 128]) for i in range(0, x.shape[-1], 128)], -1)
    got = torch.cat(outs, step.time_axis)[..., step.warmup:][..., : want.shape[-1]]
    assert want.shape[-1] > 20 and got.shape == want.shape and rel_err(got, want) <= 1e-6
