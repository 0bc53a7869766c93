"""Every layer on a CUDA device against the float64 CPU reference: outputs and gradients (GPU machines only;
the Triton kernels themselves are also covered natively by test_triton.py there)."""

from __future__ import annotations

import pytest
import torch

import nnaudio_fast as nf
from nnaudio_fast import dispatch

from helpers import noise, rel_err

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

LAYERS = {
    "stft": lambda: nf.STFT(n_fft=512, hop_length=128, output_format="Complex", verbose=False),
    "stft_mag_1023": lambda: nf.STFT(n_fft=1023, hop_length=250, output_format="Magnitude", verbose=False),
    "mel": lambda: nf.MelSpectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=80, verbose=False),
    "mel_2048": lambda: nf.MelSpectrogram(sr=22050, n_fft=2048, hop_length=512, verbose=False),
    "mfcc": lambda: nf.MFCC(sr=16000, n_mfcc=13, n_fft=512, hop_length=128, n_mels=40, verbose=False),
    "gammatone": lambda: nf.Gammatonegram(sr=16000, n_fft=512, hop_length=128, n_bins=40, verbose=False),
    "cqt1992v2": lambda: nf.CQT1992v2(sr=22050, hop_length=512, output_format="Magnitude", verbose=False),
    "cqt2010v2": lambda: nf.CQT2010v2(sr=22050, hop_length=500, output_format="Magnitude", verbose=False),
    "vqt": lambda: nf.VQT(sr=22050, hop_length=512, gamma=20, output_format="Magnitude", verbose=False),
}


def _outputs(out):
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_on_cuda_matches_float64_cpu(rng, name):
    layer = LAYERS[name]()
    x = noise(rng, 3, 22050, dtype=torch.float32)
    ref = _outputs(layer(x.double()))
    out = _outputs(layer.cuda()(x.cuda()))
    for o, r in zip(out, ref):
        assert o.is_cuda and o.dtype == torch.float32
        assert rel_err(o, r) <= (1e-4 if name == "mfcc" else 1e-5), name  # MFCC: dB of tiny bands amplifies


@pytest.mark.parametrize("name", ["stft", "mel", "cqt2010v2"])
def test_waveform_gradient_on_cuda_matches_cpu(rng, name):
    layer = LAYERS[name]()
    x = noise(rng, 2, 8000, dtype=torch.float64)
    weight = noise(rng, *_outputs(layer(x))[0].shape, dtype=torch.float64)
    xr = x.clone().requires_grad_(True)
    (layer(xr) * weight).sum().backward()
    xc = x.float().cuda().requires_grad_(True)
    (layer.cuda()(xc) * weight.float().cuda()).sum().backward()
    assert rel_err(xc.grad, xr.grad) <= 1e-5


def test_trainable_basis_gradients_on_cuda_match_cpu(rng):
    x = noise(rng, 2, 8000, dtype=torch.float64)
    grads = []
    for device in ("cpu", "cuda"):
        layer = nf.MelSpectrogram(sr=16000, n_fft=512, hop_length=128, n_mels=40, trainable_mel=True,
                                  trainable_STFT=True, verbose=False).to(device)
        xx = x.to(device=device, dtype=torch.float64 if device == "cpu" else torch.float32)
        layer(xx).pow(0.5).sum().backward()
        grads.append([p.grad.double().cpu() for p in (layer.mel_basis, layer.stft.wcos, layer.stft.wsin)])
    for g_cuda, g_cpu in zip(grads[1], grads[0]):
        assert rel_err(g_cuda, g_cpu) <= 1e-4


def test_auto_dispatch_uses_triton_on_cuda():
    if dispatch.backends()["triton"] != "available":
        pytest.skip(f"triton backend: {dispatch.backends()['triton']}")
    assert dispatch.select("spectrogram", "cuda").__module__ == "nnaudio_fast.kernels"


def test_griffin_lim_on_cuda_matches_cpu(rng):
    x = noise(rng, 2, 16000, dtype=torch.float64)
    mag = nf.STFT(n_fft=512, hop_length=128, output_format="Magnitude", verbose=False)(x)
    gl = nf.Griffin_Lim(n_fft=512, hop_length=128, n_iter=8, init=None)
    ref = gl(mag)
    out = gl(mag.float().cuda())
    assert rel_err(out, ref) <= 1e-4


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_second_device(rng):
    layer = LAYERS["mel"]().to("cuda:1")
    x = noise(rng, 2, 8000, dtype=torch.float32)
    out = layer(x.to("cuda:1"))
    assert out.device == torch.device("cuda:1")
    assert rel_err(out, LAYERS["mel"]()(x.double())) <= 1e-5
