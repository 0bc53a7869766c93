"""The transforms' trainable options (not in torchaudio): ``trainable_window`` (Spectrogram, MelSpectrogram, MFCC
and LFCC through their kwargs) and ``trainable_fb`` (MelScale, MelSpectrogram, LFCC). At construction the output is
the fixed transform's; the parameters keep torchaudio's state_dict keys, so checkpoints load both ways; gradients
on the default backend equal the reference backend's, which passes gradcheck in float64."""

from __future__ import annotations

import pytest
import torch

from nnaudio_fast import transforms as T

from helpers import noise, rel_err

CASES = {
    "Spectrogram": (lambda **kw: T.Spectrogram(n_fft=128, hop_length=48, **kw), dict(trainable_window=True)),
    "MelSpectrogram": (lambda **kw: T.MelSpectrogram(sample_rate=8000, n_fft=128, hop_length=48, n_mels=20, **kw),
                       dict(trainable_window=True, trainable_fb=True)),
    "MFCC": (lambda **kw: T.MFCC(sample_rate=8000, n_mfcc=10, melkwargs=dict(n_fft=128, hop_length=48, n_mels=20,
                                                                            **kw)),
             dict(trainable_window=True, trainable_fb=True)),
    "LFCC": (lambda trainable_window=False, **kw: T.LFCC(sample_rate=8000, n_filter=20, n_lfcc=10, speckwargs=dict(
        n_fft=128, hop_length=48, trainable_window=trainable_window), **kw), dict(trainable_window=True,
                                                                               trainable_fb=True)),
}


def _grads(layer, x):
    x = x.clone().requires_grad_(True)
    out = layer(x)
    (out * torch.linspace(-1.0, 1.0, out.numel(), dtype=out.dtype).reshape(out.shape)).sum().backward()
    grads = {n: p.grad.clone() for n, p in layer.named_parameters()}
    layer.zero_grad()
    return out.detach(), x.grad, grads


@pytest.mark.parametrize("name", list(CASES))
def test_trainable_transform_equals_fixed_and_its_gradients_the_references(name, rng):
    make, flags = CASES[name]
    fixed, layer = make(), make(**flags)
    assert {n for n, _ in layer.named_parameters()} and set(layer.state_dict()) == set(fixed.state_dict())
    x = noise(rng, 2, 1001, dtype=torch.float32)
    assert rel_err(layer(x), fixed(x)) <= 1e-6
    layer.load_state_dict(fixed.state_dict())  # checkpoints load both ways
    fixed.load_state_dict(layer.state_dict())
    out, gx, grads = _grads(layer, x)
    layer.apply(lambda m: setattr(m, "backend", "reference") if hasattr(m, "backend") else None)
    ref_out, ref_gx, ref_grads = _grads(layer, x)
    assert rel_err(out, ref_out) <= 1e-5 and rel_err(gx, ref_gx) <= 1e-4
    assert set(grads) == set(ref_grads) == {n for n, _ in layer.named_parameters()}
    for n, g in grads.items():
        assert rel_err(g, ref_grads[n]) <= 1e-4, n


def test_trainable_mel_spectrogram_gradcheck_on_the_reference(rng):
    layer = T.MelSpectrogram(sample_rate=8000, n_fft=32, hop_length=16, n_mels=6, trainable_window=True,
                             trainable_fb=True, backend="reference").double()
    x = noise(rng, 1, 100)
    window, fb = layer.spectrogram.window.detach().clone(), layer.mel_scale.fb.detach().clone()

    def run(w, f):
        return torch.func.functional_call(layer, {"spectrogram.window": w, "mel_scale.fb": f}, (x,))

    assert torch.autograd.gradcheck(run, (window.requires_grad_(), fb.requires_grad_()))


def test_trainable_flags_are_checked():
    with pytest.raises(TypeError, match="trainable_window='yes'"):
        T.Spectrogram(trainable_window="yes")
    with pytest.raises(TypeError, match="trainable_fb='no'"):
        T.MelScale(trainable_fb="no")
