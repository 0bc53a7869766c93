"""Griffin-Lim: the same iterates as librosa.griffinlim (float64), random init, silence, length, errors, layer."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.stats
import torch

import nnaudio_fast as nf
from nnaudio_fast import functional as AF
from nnaudio_fast.functional import phase_retrieval

from helpers import noise, rel_err, speech_like

SR = 16000


def _magnitudes(rng, batch, n, n_fft, pad_mode="reflect"):
    x = np.stack([speech_like(rng, n) for _ in range(batch)])
    return np.abs(librosa.stft(x, n_fft=n_fft, hop_length=n_fft // 4, pad_mode=pad_mode))


def spectral_convergence(y: np.ndarray, S: np.ndarray, n_fft: int, pad_mode: str) -> np.ndarray:
    """``‖ |STFT(y)| − S ‖_F / ‖S‖_F`` per example."""
    M = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=n_fft // 4, pad_mode=pad_mode))
    return np.linalg.norm(M - S, axis=(-2, -1)) / np.linalg.norm(S, axis=(-2, -1))


@pytest.mark.parametrize("n_fft,pad_mode,length", [(512, "constant", 6000), (1024, "reflect", None)])
def test_zero_phase_start_matches_librosa_float64(rng, n_fft, pad_mode, length):
    S = _magnitudes(rng, 3, 6000, n_fft, pad_mode)
    kw = dict(n_fft=n_fft, hop_length=n_fft // 4, n_iter=32, momentum=0.99, pad_mode=pad_mode, length=length)
    ref = librosa.griffinlim(S, init=None, **kw)
    out = AF.griffin_lim(torch.from_numpy(S), init=None, **kw)
    assert out.dtype == torch.float64 and out.shape == ref.shape
    assert rel_err(out, ref) <= 1e-6


class _GivenPhases(np.random.RandomState):
    """A RandomState whose ``random(size)`` returns given numbers: feeds librosa the phases we drew."""

    def __init__(self, u: np.ndarray):
        super().__init__(0)
        self._u = u

    def random(self, size=None):
        assert tuple(size) == self._u.shape
        return self._u


def test_random_start_converges_like_librosa(rng):
    """Random init, on speech-like signals: with the same random phases, librosa's iterates; and the spectral
    convergence after 32 iterations within 5% of librosa's (here equal, as the iterates are)."""
    n_fft = 512
    S = _magnitudes(rng, 3, 6000, n_fft)
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    state = gen.get_state()
    u = torch.rand(S.shape, dtype=torch.float64, generator=gen).numpy()  # the documented draw
    gen.set_state(state)
    kw = dict(n_fft=n_fft, hop_length=n_fft // 4, n_iter=32, momentum=0.99, pad_mode="reflect")
    out = AF.griffin_lim(torch.from_numpy(S), init="random", generator=gen, **kw).numpy()
    ref = librosa.griffinlim(S, init="random", random_state=_GivenPhases(u), **kw)
    sc_out = spectral_convergence(out, S, n_fft, "reflect")
    sc_ref = spectral_convergence(ref, S, n_fft, "reflect")
    assert np.all(np.abs(sc_out / sc_ref - 1) <= 0.05), (sc_out, sc_ref)
    assert rel_err(out, ref) <= 1e-6
    # and the fast algorithm does its job: far below the start, and below plain Griffin-Lim (momentum 0)
    start = AF.griffin_lim(torch.from_numpy(S), init="random", generator=1, **{**kw, "n_iter": 0}).numpy()
    plain = AF.griffin_lim(torch.from_numpy(S), init="random", generator=1, **{**kw, "momentum": 0.0}).numpy()
    assert np.all(sc_out < 0.5 * spectral_convergence(start, S, n_fft, "reflect"))
    assert np.mean(sc_out) < np.mean(spectral_convergence(plain, S, n_fft, "reflect"))


def test_random_phases_are_uniform_and_seeded(rng):
    S = torch.ones(4, 65, 50, dtype=torch.float64)
    re, im = phase_retrieval._initial_phase(S, "random", 123)
    phi = torch.atan2(im, re).remainder(2 * np.pi).flatten().numpy() / (2 * np.pi)
    assert scipy.stats.kstest(phi, "uniform").pvalue > 1e-3
    mag = torch.from_numpy(_magnitudes(rng, 2, 3000, 128))
    a = AF.griffin_lim(mag, n_iter=4, generator=7)
    assert torch.equal(a, AF.griffin_lim(mag, n_iter=4, generator=7))
    assert torch.equal(a, AF.griffin_lim(mag, n_iter=4, generator=torch.Generator().manual_seed(7)))
    assert rel_err(AF.griffin_lim(mag, n_iter=4, generator=8), a) > 0.1
    zero = AF.griffin_lim(mag, n_iter=4, init=None)
    assert rel_err(zero, a) > 0.1 and torch.equal(zero, AF.griffin_lim(mag, n_iter=4, init=None))


@pytest.mark.parametrize("init", [None, "random"])
def test_silence_gives_zeros_not_nan(rng, init):
    S = torch.from_numpy(_magnitudes(rng, 2, 3000, 256))
    S[1] = 0.0
    S[0, :, 5:9] = 0.0  # a silent stretch inside a signal
    S.requires_grad_(True)
    y = AF.griffin_lim(S, n_iter=8, init=init, generator=0)
    assert torch.isfinite(y).all() and torch.count_nonzero(y[1]) == 0 and y[0].abs().max() > 0
    y.pow(2).sum().backward()
    assert torch.isfinite(S.grad).all()


@pytest.mark.parametrize("center", [True, False])
def test_length_is_restored_exactly(rng, center):
    n, n_fft, hop = 5001, 256, 64
    x = speech_like(rng, n)
    S = np.abs(librosa.stft(x, n_fft=n_fft, hop_length=hop, center=center))
    kw = dict(n_fft=n_fft, hop_length=hop, n_iter=6, init=None, center=center)
    y = AF.griffin_lim(torch.from_numpy(S), length=n, pad_mode="constant", **kw)
    assert y.shape == (n,)
    assert rel_err(y, librosa.griffinlim(S, length=n, pad_mode="constant", **kw)) <= 1e-6
    with pytest.raises(ValueError, match="length=4000"):
        AF.griffin_lim(torch.from_numpy(S), length=4000, **kw)


def test_wrong_frequency_axis_is_a_clear_error(rng):
    S = torch.from_numpy(_magnitudes(rng, 2, 3000, 512))  # (2, 257, frames)
    with pytest.raises(ValueError, match=r"257 frequency bins.*n_fft=1024 needs 513"):
        nf.Griffin_Lim(n_fft=1024)(S)
    with pytest.raises(ValueError, match="transpose the last two axes"):
        nf.Griffin_Lim(n_fft=512)(S.transpose(1, 2))  # (batch, time, freq): the wrong layout
    with pytest.raises(ValueError, match="n_fft=300"):
        AF.griffin_lim(S, n_fft=300)
    assert AF.griffin_lim(S, n_iter=1).shape == (2, 128 * (S.shape[-1] - 1))  # n_fft inferred as 512


def test_bad_arguments(rng):
    S = torch.from_numpy(_magnitudes(rng, 1, 2000, 128))
    with pytest.raises(ValueError, match="negative or NaN"):
        AF.griffin_lim(-S)
    with pytest.raises(ValueError, match="negative or NaN"):
        AF.griffin_lim(-S, power=2.0)
    with pytest.raises(ValueError, match="momentum"):
        AF.griffin_lim(S, momentum=-0.5)
    with pytest.raises(ValueError, match="init"):
        AF.griffin_lim(S, init="zeros")
    with pytest.raises(ValueError, match="generator"):
        AF.griffin_lim(S, generator="seed")
    with pytest.raises(ValueError, match="n_iter"):
        nf.Griffin_Lim(128, n_iter=-1)
    with pytest.raises(ValueError, match="complex"):
        AF.griffin_lim(torch.complex(S, S))


def test_layer_matches_functional_power_and_shapes(rng):
    n_fft = 256
    S = torch.from_numpy(_magnitudes(rng, 3, 4000, n_fft))
    with pytest.warns(DeprecationWarning, match="device"):
        layer = nf.Griffin_Lim(n_fft, n_iter=10, device="cpu", init=None)
    y = layer(S)
    assert y.shape == (3, 64 * (S.shape[-1] - 1)) and y.dtype == torch.float64
    ref = AF.griffin_lim(S, n_fft=n_fft, hop_length=64, n_iter=10, init=None)
    assert rel_err(y, ref) <= 1e-12
    power_layer = nf.Griffin_Lim(n_fft, n_iter=10, init=None, power=2.0)
    assert rel_err(power_layer(S**2), ref) <= 1e-9
    # leading dimensions are kept by the functional; float32 in -> float32 out, close to float64
    lead = AF.griffin_lim(S.reshape(1, 3, *S.shape[1:]), n_iter=10, init=None, hop_length=64)
    assert lead.shape == (1,) + ref.shape and rel_err(lead[0], ref) <= 1e-12
    # float32 in -> float32 out, as close to float64 as float32 rounding allows, which is the problem's conditioning:
    # from a zero-phase start the phase of STFT coefficients near zero is ill-determined, and for some draws one
    # example moves by ~3e-3 between two float32 roundings of S (by ~1e-3 in float64 from S rounded to float32
    # alone), though ~3e-5 is typical. So each example is held to 10 times its own spread over two other float32
    # roundings of S (one ulp here and there), another realisation of the same rounding: the float64 result's
    # distance was at most 4.2 times that spread over 420 examples (140 seeds), 0.4 the median. The floor, 1e-4,
    # is ~10x the rounding of 10 iterations of well-conditioned float32 FFTs (10·2·log2(256)·6e-8 ≈ 1e-5).
    y32 = layer(S.float())
    assert y32.dtype == torch.float32
    eps = float(torch.finfo(torch.float32).eps)
    others = [layer((S * (1 + eps * noise(rng, *S.shape))).float()) for _ in range(2)]
    for i in range(S.shape[0]):
        spread = max(rel_err(o[i], y32[i]) for o in others)
        assert rel_err(y32[i], ref[i]) <= max(10 * spread, 1e-4), i
    # random init by default, reproducible with a seed, from an nnAudio-style (batch, 1-less) call
    rand = nf.Griffin_Lim(n_fft, n_iter=3)
    assert torch.equal(rand(S, generator=3), rand(S, generator=3))


# ---------------------------------------------------------------------------------------------------------------
# Mel → linear spectrogram → waveform
# ---------------------------------------------------------------------------------------------------------------
def test_mel_inverse_reprojects_onto_the_input(rng):
    sr, n_fft, hop = 16000, 512, 128
    x = torch.from_numpy(np.stack([speech_like(rng, 8000) for _ in range(2)]))
    fbank = torch.from_numpy(np.array(nf.bases.mel_filterbank(sr, n_fft, 64)))
    M = AF.mel_spectrogram(x, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=64)
    S = AF.mel_to_stft(M, sr=sr, n_fft=n_fft)  # magnitudes (the mel spectrogram had power 2)
    assert S.shape == (2, n_fft // 2 + 1, M.shape[-1]) and S.dtype == torch.float64 and (S >= 0).all()
    nnls_err = rel_err(fbank @ S**2, M)
    assert nnls_err <= 2e-3
    P = AF.mel_to_stft(M, sr=sr, n_fft=n_fft, power=1.0, method="pinv")  # the clipped pseudo-inverse, power domain
    assert (P >= 0).all() and rel_err(fbank @ P, M) > 10 * nnls_err
    S32 = AF.mel_to_stft(M.float(), sr=sr, n_fft=n_fft)
    assert S32.dtype == torch.float32 and rel_err(fbank.float() @ S32**2, M) <= 2e-3
    with pytest.raises(ValueError, match="n_mels"):
        AF.mel_to_stft(M, sr=sr, n_fft=n_fft, n_mels=80)
    with pytest.raises(ValueError, match="method"):
        AF.mel_to_stft(M, sr=sr, n_fft=n_fft, method="lstsq")


def test_mel_to_waveform_round_trip(rng):
    """MelSpectrogram → InverseMelScale → Griffin_Lim: the waveform's mel spectrogram is close to the original."""
    sr, n_fft, hop, n = 16000, 512, 128, 12000
    x = torch.from_numpy(np.stack([speech_like(rng, n) for _ in range(2)]))
    mel = nf.MelSpectrogram(sr=sr, n_fft=n_fft, hop_length=hop, n_mels=64)
    M = mel(x)
    S = nf.InverseMelScale.from_mel(mel)(M)
    y = nf.Griffin_Lim(n_fft, hop_length=hop)(S, length=n, generator=0)
    assert y.shape == x.shape
    err = rel_err(mel(y), M)
    assert err <= 0.15, err
    assert err <= 0.2 * rel_err(mel(torch.randn_like(x) * x.std()), M)  # far from an unrelated signal's
    # the module built from parameters is the same inverse
    by_args = nf.InverseMelScale(sr=sr, n_fft=n_fft, n_mels=64)
    assert rel_err(by_args(M), S) <= 1e-12


def test_inverse_mel_follows_a_trained_filterbank(rng):
    mel = nf.MelSpectrogram(sr=16000, n_fft=256, hop_length=64, n_mels=32, trainable_mel=True)
    with torch.no_grad():
        mel.mel_basis.mul_(torch.from_numpy(rng.uniform(0.5, 1.5, mel.mel_basis.shape)).float())
    x = torch.from_numpy(speech_like(rng, 4000))[None].float()
    M = mel(x).detach()
    S = nf.InverseMelScale.from_mel(mel, n_iter=300)(M)
    assert rel_err(mel.mel_basis.detach() @ S**2, M) <= 1e-3
    untrained = nf.InverseMelScale(sr=16000, n_fft=256, n_mels=32, n_iter=300)(M)
    assert rel_err(mel.mel_basis.detach() @ untrained**2, M) > 1e-2


def test_explicit_length_with_odd_n_fft(rng):
    """The frame count of an odd n_fft (n_fft // 2 padding a side) decides which lengths are consistent."""
    x = noise(rng, 1, 1000)
    S = AF.stft(x, n_fft=511, hop_length=100, output_format="Magnitude")
    assert S.shape[-1] == 10
    assert AF.griffin_lim(S, n_fft=511, hop_length=100, length=1000, n_iter=2).shape == (1, 1000)
    with pytest.raises(ValueError, match="length=1001 gives 11 STFT frames"):
        AF.griffin_lim(S, n_fft=511, hop_length=100, length=1001, n_iter=2)
