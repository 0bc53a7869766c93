"""nnaudio_fast.transforms against the real torchaudio 2.9: its outputs were stored once by
tests/transforms/fixtures/make_torchaudio_fixtures.py (run in a side virtualenv; CI never installs torchaudio) and
every function and class here is compared with them. Bounds: float32 1e-5 relative, float64 1e-10."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import torch

import nnaudio_fast.transforms as T
import nnaudio_fast.transforms.functional as TF

from helpers import rel_err

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "torchaudio_2_9.npz"))
BOUND = {"float32": 1e-5, "float64": 1e-10}


def _cases(prefix):
    return sorted({k[len(prefix) + 1:].split("/")[0] for k in FIXTURES.files if k.startswith(prefix + "/")})


def _get(key):
    return torch.from_numpy(FIXTURES[key])


def test_fixtures_come_from_torchaudio_2_9():
    versions = json.loads(str(FIXTURES["meta/versions"]))
    assert versions["torchaudio"].startswith("2.9")


@pytest.mark.parametrize("case", _cases("melscale_fbanks"))
def test_melscale_fbanks(case):
    kw = json.loads(str(FIXTURES[f"melscale_fbanks/{case}/kwargs"]))
    got = TF.melscale_fbanks(**kw)
    want = _get(f"melscale_fbanks/{case}/out")
    assert got.dtype == want.dtype == torch.float32 and got.shape == want.shape
    assert rel_err(got, want) <= 1e-5  # torchaudio builds it in float32 (ours: float64, rounded)


@pytest.mark.parametrize("case", _cases("create_dct"))
def test_create_dct(case):
    n_mfcc, n_mels, norm = json.loads(str(FIXTURES[f"create_dct/{case}/kwargs"]))
    got = TF.create_dct(n_mfcc, n_mels, norm)
    assert got.shape == (n_mels, n_mfcc) and got.dtype == torch.float32
    assert rel_err(got, _get(f"create_dct/{case}/out")) <= 1e-5


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn", ["amplitude_to_DB", "DB_to_amplitude", "compute_deltas"])
def test_functions(fn, dtype):
    x = _get(f"{fn}/{dtype}/x")
    for case in _cases(f"{fn}/{dtype}"):
        if case == "x":
            continue
        args = json.loads(str(FIXTURES[f"{fn}/{dtype}/{case}/args"]))
        want = _get(f"{fn}/{dtype}/{case}/out")
        got = getattr(TF, fn)(x, *args)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert rel_err(got, want) <= BOUND[dtype], (fn, args)


def test_amplitude_to_db_top_db_acts_per_item():
    """The clip is below each batch item's maximum (over channel, frequency and time), as torchaudio's."""
    x = torch.ones(2, 3, 4, 5)
    x[1] *= 1e-6
    x[0, 0, 0, 0] = 1e6
    out = TF.amplitude_to_DB(x, 10.0, 1e-10, 0.0, top_db=10.0)
    assert torch.all(out[0] >= 50.0) and torch.equal(out[1], torch.full_like(out[1], -60.0))


def test_transforms():
    spec = _get("AmplitudeToDB/x")
    assert rel_err(T.AmplitudeToDB("power", 80.0)(spec), _get("AmplitudeToDB/power")) <= 1e-5
    assert rel_err(T.AmplitudeToDB("magnitude", None)(spec), _get("AmplitudeToDB/magnitude")) <= 1e-5
    mel = T.MelScale(n_mels=40, sample_rate=16000, n_stft=201)
    assert list(mel.state_dict()) == ["fb"] and mel.fb.shape == (201, 40)
    assert rel_err(mel(_get("MelScale/x")), _get("MelScale/out")) <= 1e-5
    slaney = T.MelScale(n_mels=64, sample_rate=16000, f_min=50.0, f_max=7000.0, n_stft=201, norm="slaney",
                        mel_scale="slaney")
    assert rel_err(slaney(_get("MelScale/x")), _get("MelScale/slaney")) <= 1e-5
    d = _get("ComputeDeltas/x")
    assert rel_err(T.ComputeDeltas()(d), _get("ComputeDeltas/out")) <= 1e-5
    assert rel_err(T.ComputeDeltas(7)(d), _get("ComputeDeltas/w7")) <= 1e-5


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="stype='db'"):
        T.AmplitudeToDB("db")
    with pytest.raises(ValueError, match="win_length=2"):
        TF.compute_deltas(torch.randn(3, 10), win_length=2)
    with pytest.raises(ValueError, match="n_stft=201"):
        T.MelScale(n_mels=40, n_stft=201)(torch.randn(1, 200, 7))
    with pytest.raises(ValueError, match="mel_scale='bark'"):
        TF.melscale_fbanks(201, 0.0, 8000.0, 40, 16000, None, "bark")
    with pytest.raises(ValueError, match="n_mfcc=50 must not exceed n_mels=40"):
        TF.create_dct(50, 40, "ortho")
    with pytest.raises(ValueError, match="rank deficient.*driver='gelsd'"):
        T.InverseMelScale(n_stft=129, n_mels=40)(torch.rand(1, 40, 5))
    with pytest.raises(ValueError, match="momentum=1.0"):
        T.GriffinLim(momentum=1.0)
    with pytest.raises(ValueError, match="has dtype torch.int64"):
        TF.amplitude_to_DB(torch.ones(3, 4, dtype=torch.int64), 10.0, 1e-10, 0.0)


def _kwargs(key):
    kw = json.loads(str(FIXTURES[key]))
    if kw.get("window_fn") == "hamming":
        kw["window_fn"] = torch.hamming_window
    return kw


@pytest.mark.parametrize("case", _cases("Spectrogram"))
def test_spectrogram(case):
    """Power, magnitude, complex, normalised, win_length < n_fft with pad, uncentred, two-sided, another window,
    on a (2, 2, time) input: the layout and values of torchaudio's."""
    kw = _kwargs(f"Spectrogram/{case}/kwargs")
    layer = T.Spectrogram(**kw)
    assert list(layer.state_dict()) == ["window"]
    got = layer(_get("wave/x"))
    want = _get(f"Spectrogram/{case}/out")
    if kw.get("power", 2.0) is None:
        assert got.is_complex()
        got = torch.view_as_real(got)
    assert rel_err(got, want) <= 1e-5, kw


def test_spectrogram_float64():
    got = T.Spectrogram(n_fft=256, hop_length=64)(_get("wave/x").double())
    assert got.dtype == torch.float64
    assert rel_err(got, _get("Spectrogram64/out")) <= 1e-10


@pytest.mark.parametrize("case", _cases("MelSpectrogram"))
def test_mel_spectrogram(case):
    kw = _kwargs(f"MelSpectrogram/{case}/kwargs")
    layer = T.MelSpectrogram(sample_rate=16000, **kw)
    assert list(layer.state_dict()) == ["spectrogram.window", "mel_scale.fb"]
    assert rel_err(layer(_get("wave/x")), _get(f"MelSpectrogram/{case}/out")) <= 1e-5, kw


@pytest.mark.parametrize("case", [c for c in _cases("MFCC") if c != "keys"])
def test_mfcc(case):
    kw = _kwargs(f"MFCC/{case}/kwargs")
    layer = T.MFCC(sample_rate=16000, **kw)
    assert rel_err(layer(_get("wave/x")), _get(f"MFCC/{case}/out")) <= 1e-5, kw
    if case == "0":
        assert list(layer.state_dict()) == json.loads(str(FIXTURES["MFCC/keys/keys"]))


def test_waveform_transforms_on_edge_inputs(rng):
    """Batch 1 without leading dimensions, an empty batch, a float64 input through MelSpectrogram (float64 bases),
    a torchaudio state_dict round trip."""
    mel = T.MelSpectrogram(sample_rate=16000, n_fft=256, hop_length=64, n_mels=32)
    x = torch.from_numpy(rng.standard_normal(1000))
    one = mel(x.float())
    assert one.shape == (32, 1 + 1000 // 64)
    assert mel(torch.zeros(0, 1000)).shape == (0, 32, 1 + 1000 // 64)
    double = mel(x)
    assert double.dtype == torch.float64 and rel_err(double.float(), one) <= 1e-5
    again = T.MelSpectrogram(sample_rate=16000, n_fft=256, hop_length=64, n_mels=32)
    again.load_state_dict(mel.state_dict())
    assert torch.equal(again(x.float()), one)
    assert torch.equal(pickle.loads(pickle.dumps(mel))(x.float()), one)


@pytest.mark.parametrize("case", _cases("linear_fbanks"))
def test_linear_fbanks(case):
    kw = json.loads(str(FIXTURES[f"linear_fbanks/{case}/kwargs"]))
    assert rel_err(TF.linear_fbanks(**kw), _get(f"linear_fbanks/{case}/out")) <= 1e-5


@pytest.mark.parametrize("case", [c for c in _cases("LFCC") if c != "keys"])
def test_lfcc(case):
    layer = T.LFCC(sample_rate=16000, **_kwargs(f"LFCC/{case}/kwargs"))
    assert list(layer.state_dict()) == json.loads(str(FIXTURES["LFCC/keys/keys"]))
    assert rel_err(layer(_get("wave/x")), _get(f"LFCC/{case}/out")) <= 1e-5


@pytest.mark.parametrize("case", _cases("SpectralCentroid"))
def test_spectral_centroid(case):
    layer = T.SpectralCentroid(16000, **_kwargs(f"SpectralCentroid/{case}/kwargs"))
    assert list(layer.state_dict()) == ["window"]
    assert rel_err(layer(_get("wave/x")), _get(f"SpectralCentroid/{case}/out")) <= 1e-5


@pytest.mark.parametrize("case", _cases("InverseSpectrogram"))
def test_inverse_spectrogram(case):
    layer = T.InverseSpectrogram(**_kwargs(f"InverseSpectrogram/{case}/kwargs"))
    spec = torch.view_as_complex(_get(f"InverseSpectrogram/{case}/spec"))
    assert rel_err(layer(spec), _get(f"InverseSpectrogram/{case}/out")) <= 1e-5
    assert rel_err(layer(spec, length=850), _get(f"InverseSpectrogram/{case}/cut")) <= 1e-5


@pytest.mark.parametrize("case", _cases("Resample"))
def test_resample(case):
    """The transform (float32) and the function in float64; torchaudio builds its Kaiser window with a float32
    beta, so those float64 cases agree to 1e-7 only."""
    kw = json.loads(str(FIXTURES[f"Resample/{case}/kwargs"]))
    x = _get("wave/x")[0, :, :700]
    got = T.Resample(**kw)(x)
    assert rel_err(got, _get(f"Resample/{case}/out")) <= 1e-5
    kaiser = kw.get("resampling_method") == "sinc_interp_kaiser"
    assert rel_err(TF.resample(x.double(), **kw), _get(f"Resample/{case}/func")) <= (1e-7 if kaiser else 1e-10)
    assert torch.equal(T.Resample(16000, 16000)(x), x)


def test_resample_against_scipy(rng):
    """A sanity check against an independent resampler: a band-limited tone resampled 16 kHz → 22.05 kHz is the
    same tone (scipy's polyphase FIR), away from the edges."""
    import scipy.signal

    t = np.arange(4000) / 16000
    x = np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 3000 * t)
    ours = TF.resample(torch.from_numpy(x), 16000, 22050, lowpass_filter_width=16).numpy()
    theirs = scipy.signal.resample_poly(x, 441, 320)
    n = min(len(ours), len(theirs))
    assert len(ours) == -(-4000 * 441 // 320)
    assert rel_err(ours[200: n - 200], theirs[200: n - 200]) <= 1e-3


def test_inverse_mel_scale():
    x = _get("InverseMelScale/x")
    layer = T.InverseMelScale(n_stft=129, n_mels=24, sample_rate=16000)
    assert list(layer.state_dict()) == ["fb"]
    assert rel_err(layer(x), _get("InverseMelScale/out")) <= 1e-4  # an lstsq of a float32 system
    slaney = T.InverseMelScale(n_stft=129, n_mels=24, sample_rate=16000, norm="slaney", mel_scale="slaney",
                               driver="gelsd")
    assert rel_err(slaney(x), _get("InverseMelScale/slaney")) <= 1e-4


def test_griffin_lim_without_random_phases():
    """Fast Griffin-Lim from zero phases, with and without momentum and a given length."""
    mag = _get("GriffinLim/x")
    got = T.GriffinLim(n_fft=256, hop_length=64, n_iter=4, rand_init=False)(mag)
    assert list(T.GriffinLim(n_fft=256).state_dict()) == ["window"]
    assert rel_err(got, _get("GriffinLim/out")) <= 1e-4
    got = T.GriffinLim(n_fft=256, hop_length=64, n_iter=8, momentum=0.0, rand_init=False, length=1180)(mag)
    assert got.shape[-1] == 1180 and rel_err(got, _get("GriffinLim/nomomentum")) <= 1e-4


@pytest.mark.parametrize("case", _cases("Spectrogram"))
def test_functional_spectrogram(case):
    """torchaudio.functional.spectrogram's signature (window tensor, every argument positional) on the same
    fixtures as the class."""
    kw = _kwargs(f"Spectrogram/{case}/kwargs")
    n_fft = kw.get("n_fft", 400)
    win_length = kw.get("win_length", n_fft)
    window_fn = kw.get("window_fn", torch.hann_window)
    window = window_fn(win_length, **(kw.get("wkwargs") or {}))
    got = TF.spectrogram(_get("wave/x"), kw.get("pad", 0), window, n_fft, kw.get("hop_length", win_length // 2),
                         win_length, kw.get("power", 2.0), kw.get("normalized", False), kw.get("center", True),
                         kw.get("pad_mode", "reflect"), kw.get("onesided", True))
    want = _get(f"Spectrogram/{case}/out")
    assert rel_err(torch.view_as_real(got) if got.is_complex() else got, want) <= 1e-5, kw


@pytest.mark.parametrize("case", _cases("InverseSpectrogram"))
def test_functional_inverse_spectrogram(case):
    kw = _kwargs(f"InverseSpectrogram/{case}/kwargs")
    n_fft, hop = kw["n_fft"], kw["hop_length"]
    spec = torch.view_as_complex(_get(f"InverseSpectrogram/{case}/spec"))
    args = (kw.get("pad", 0), torch.hann_window(n_fft), n_fft, hop, n_fft, kw.get("normalized", False))
    assert rel_err(TF.inverse_spectrogram(spec, None, *args), _get(f"InverseSpectrogram/{case}/out")) <= 1e-5
    assert rel_err(TF.inverse_spectrogram(spec, 850, *args), _get(f"InverseSpectrogram/{case}/cut")) <= 1e-5


@pytest.mark.parametrize("case", _cases("SpectralCentroid"))
def test_functional_spectral_centroid(case):
    kw = _kwargs(f"SpectralCentroid/{case}/kwargs")
    n_fft = kw["n_fft"]
    win_length = kw.get("win_length", n_fft)
    got = TF.spectral_centroid(_get("wave/x"), 16000, kw.get("pad", 0), torch.hann_window(win_length), n_fft,
                               kw.get("hop_length", win_length // 2), win_length)
    assert rel_err(got, _get(f"SpectralCentroid/{case}/out")) <= 1e-5


def test_functional_griffinlim():
    mag = _get("GriffinLim/x")
    got = TF.griffinlim(mag, torch.hann_window(256), 256, 64, 256, 2.0, 4, 0.99, None, False)
    assert rel_err(got, _get("GriffinLim/out")) <= 1e-4
    got = TF.griffinlim(mag, torch.hann_window(256), 256, 64, 256, 2.0, 8, 0.0, 1180, False)
    assert rel_err(got, _get("GriffinLim/nomomentum")) <= 1e-4
