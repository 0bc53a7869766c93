"""STFT / iSTFT: the reference against librosa (float64) and against a direct NumPy evaluation of the definition."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.signal
import torch

import nnaudio_fast as nf
from nnaudio_fast import functional as AF

from helpers import noise, rel_err


def _complex(X: torch.Tensor) -> np.ndarray:
    return torch.view_as_complex(X.detach().contiguous()).numpy()


def _np_stft(x: np.ndarray, n_fft, hop, win_length, window, center, pad_mode):
    """The definition, evaluated directly: frames of the padded signal times e^{-2πi k n / N}."""
    w = scipy.signal.get_window(window, win_length, fftbins=True)
    lpad = (n_fft - win_length) // 2
    w = np.pad(w, (lpad, n_fft - win_length - lpad))
    if center:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2)], mode=pad_mode)
    n_frames = 1 + (x.shape[-1] - n_fft) // hop
    k = np.arange(n_fft // 2 + 1)[:, None]
    n = np.arange(n_fft)[None, :]
    basis = w * np.exp(-2j * np.pi * ((k * n) % n_fft) / n_fft)
    fr = np.stack([x[..., t * hop : t * hop + n_fft] for t in range(n_frames)], -1)
    return np.einsum("kn,...nt->...kt", basis, fr)


@pytest.mark.parametrize(
    "n_fft,hop,win_length,window",
    [(512, 128, None, "hann"), (400, 160, None, "hann"), (1023, 200, 800, "hamming"), (2048, 512, 1500, "blackman"),
     (256, 64, 256, ("kaiser", 8.0))],
)
@pytest.mark.parametrize("pad_mode", ["constant", "reflect"])
@pytest.mark.parametrize("backend", ["reference", "auto"])
def test_stft_matches_librosa_float64(rng, n_fft, hop, win_length, window, pad_mode, backend):
    x = noise(rng, 3, 9001)
    X = AF.stft(x, n_fft=n_fft, hop_length=hop, win_length=win_length, window=window, pad_mode=pad_mode,
                backend=backend)
    ref = librosa.stft(x.numpy(), n_fft=n_fft, hop_length=hop, win_length=win_length, window=window,
                       center=True, pad_mode=pad_mode)
    assert X.dtype == torch.float64
    assert rel_err(_complex(X), ref) <= 1e-10


@pytest.mark.parametrize("n_fft,hop", [(512, 128), (1000, 250)])
def test_stft_float32_within_1e5_of_librosa(rng, n_fft, hop):
    x = noise(rng, 2, 12345)
    X = AF.stft(x.float(), n_fft=n_fft, hop_length=hop)
    ref = librosa.stft(x.numpy(), n_fft=n_fft, hop_length=hop, pad_mode="reflect")
    assert X.dtype == torch.float32
    assert rel_err(_complex(X), ref) <= 1e-5


def test_stft_no_center_and_formats(rng):
    x = noise(rng, 2, 5000)
    kw = dict(n_fft=600, hop_length=150)
    ref = librosa.stft(x.numpy(), center=False, **kw)
    assert rel_err(_complex(AF.stft(x, center=False, **kw)), ref) <= 1e-10
    mag = AF.stft(x, center=False, output_format="Magnitude", **kw)
    assert rel_err(mag, np.abs(ref)) <= 1e-10
    ph = AF.stft(x, center=False, output_format="Phase", **kw).numpy()
    strong = np.abs(ref) > 1e-6 * np.abs(ref).max()
    assert np.abs(np.angle(np.exp(1j * (ph - np.angle(ref))))[strong]).max() <= 1e-9


_MODES = [("reflect", "reflect"), ("replicate", "edge"), ("edge", "edge"), ("circular", "wrap"),
          ("constant", "constant")]


@pytest.mark.parametrize(
    "pad_mode,np_mode,length",
    # numpy cannot reflect a single sample: that case has its own test below
    [(m, n, L) for m, n in _MODES for L in (1, 2, 7, 100, 513) if not (n == "reflect" and L == 1)],
)
def test_short_inputs_and_every_pad_mode_follow_numpy_pad(rng, pad_mode, np_mode, length):
    """Inputs shorter than the n_fft//2 padding work in every mode, exactly as numpy.pad extends them."""
    x = noise(rng, 2, length)
    X = AF.stft(x, n_fft=512, hop_length=100, pad_mode=pad_mode)
    ref = _np_stft(x.numpy(), 512, 100, 512, "hann", True, np_mode)
    assert X.shape[-2] == 1 + length // 100
    assert rel_err(_complex(X), ref) <= 1e-10


def test_reflect_single_sample_repeats_it(rng):
    x = noise(rng, 1, 1)
    X = AF.stft(x, n_fft=64, hop_length=16)
    ref = _np_stft(np.repeat(x.numpy(), 64 + 1, axis=-1), 64, 16, 64, "hann", False, None)
    assert rel_err(_complex(X), ref) <= 1e-12


def test_odd_shapes_leading_dims_noncontiguous(rng):
    base = noise(rng, 4, 3, 3001)
    x = base.transpose(0, 1)  # (3, 4, 3001), non-contiguous
    assert not x.is_contiguous()
    X = AF.stft(x, n_fft=301, hop_length=77)
    ref = librosa.stft(x.numpy(), n_fft=301, hop_length=77, pad_mode="reflect")
    assert X.shape == (3, 4, 151, 1 + 3001 // 77, 2)
    assert rel_err(_complex(X), ref) <= 1e-10
    # strided time axis
    xs = noise(rng, 2, 4002)[:, ::2]
    assert rel_err(_complex(AF.stft(xs, n_fft=128, hop_length=32)),
                   librosa.stft(xs.numpy(), n_fft=128, hop_length=32, pad_mode="reflect")) <= 1e-10


def test_module_shapes_match_nnaudio_conventions(rng):
    layer = nf.STFT(n_fft=256, hop_length=64, verbose=False)
    for shape, out_batch in [((1000,), 1), ((3, 1000), 3), ((3, 1, 1000), 3)]:
        out = layer(noise(rng, *shape, dtype=torch.float32))
        assert out.shape == (out_batch, 129, 1 + 1000 // 64, 2)
    assert layer(noise(rng, 2, 1000, dtype=torch.float32), output_format="Magnitude").shape == (2, 129, 16)


@pytest.mark.parametrize("freq_scale", ["linear", "log", "log2"])
def test_freq_scale_bins_are_direct_fourier_sums(rng, freq_scale):
    """Non-uniform bins: each output is the windowed Fourier sum at the bin's frequency."""
    sr, n_fft, bins = 16000, 512, 100
    layer = nf.STFT(n_fft=n_fft, hop_length=128, freq_bins=bins, freq_scale=freq_scale, fmin=80, fmax=6000, sr=sr,
                    pad_mode="constant", verbose=False)
    x = noise(rng, 1, 2000)
    X = _complex(layer(x))
    f = np.asarray(layer.bins2freq)
    assert f[0] == pytest.approx(80) and f[-1] < 6000 and np.all(np.diff(f) > 0)
    if freq_scale != "linear":
        assert np.allclose(np.diff(np.log(f)), np.log(6000 / 80) / bins)
    xp = np.pad(x.numpy()[0], n_fft // 2)
    w = scipy.signal.get_window("hann", n_fft)
    n = np.arange(n_fft)
    t = 5
    direct = (w * xp[t * 128 : t * 128 + n_fft] * np.exp(-2j * np.pi * f[:, None] * n / sr)).sum(-1)
    assert rel_err(X[0, :, t], direct) <= 1e-10


@pytest.mark.parametrize("n_fft,hop", [(512, 128), (1024, 128), (400, 100), (301, 50)])
@pytest.mark.parametrize("length", [None, "exact"])
def test_istft_roundtrip_and_librosa(rng, n_fft, hop, length):
    x = noise(rng, 3, 8000)
    X = AF.stft(x, n_fft=n_fft, hop_length=hop, pad_mode="constant")
    n = 8000 if length == "exact" else None
    y = AF.istft(X, n_fft=n_fft, hop_length=hop, length=n)
    ref = librosa.istft(_complex(X), n_fft=n_fft, hop_length=hop, length=n)
    assert rel_err(y, ref) <= 1e-10
    if n is not None:
        assert y.shape == x.shape and rel_err(y, x) <= 1e-6
    else:
        assert rel_err(y, x[..., : y.shape[-1]]) <= 1e-6


def test_istft_accepts_complex_and_two_sided(rng):
    x = noise(rng, 2, 4000)
    X = _complex(AF.stft(x, n_fft=256, hop_length=64))
    y1 = AF.istft(torch.from_numpy(X), n_fft=256, hop_length=64, length=4000)
    full = np.fft.fft(np.fft.irfft(X, n=256, axis=-2), axis=-2)  # two-sided spectrum of the same frames
    y2 = AF.istft(torch.from_numpy(full), n_fft=256, hop_length=64, length=4000)
    assert rel_err(y1, x) <= 1e-10 and rel_err(y2, x) <= 1e-10


@pytest.mark.parametrize("n_fft", [512, 511])
def test_stft_inverse_and_istft_layer_reconstruct(rng, n_fft):
    x = noise(rng, 2, 6000)
    stft = nf.STFT(n_fft=n_fft, hop_length=n_fft // 4, iSTFT=True, verbose=False)
    X = stft(x)
    assert rel_err(stft.inverse(X, length=6000), x) <= 1e-6
    inv = nf.iSTFT(n_fft=n_fft, hop_length=n_fft // 4, verbose=False)
    assert rel_err(inv(X, length=6000), x) <= 1e-6  # onesided inferred (nnAudio defaulted to False here)
    assert rel_err(inv(X, onesided=True, length=6000), x) <= 1e-6
    with pytest.raises(ValueError, match="onesided"):
        inv(X, onesided=False)


def test_istft_layer_with_short_window(rng):
    x = noise(rng, 1, 5000)
    X = AF.stft(x, n_fft=512, hop_length=100, win_length=400)
    y = nf.iSTFT(n_fft=512, win_length=400, hop_length=100, verbose=False)(X, length=5000)
    assert rel_err(y, x) <= 1e-6
    ref = librosa.istft(_complex(X), n_fft=512, hop_length=100, win_length=400, length=5000)
    assert rel_err(y, ref) <= 1e-10


def test_float32_module_and_float64_input_are_exact(rng):
    """A float32 layer computes float64 inputs with exact float64 bases (float64 in -> float64 out)."""
    layer = nf.STFT(n_fft=1024, hop_length=256, verbose=False, trainable=True)
    x = noise(rng, 2, 6000)
    out = layer(x)
    assert out.dtype == torch.float64 and layer.wcos.dtype == torch.float32
    ref = librosa.stft(x.numpy(), n_fft=1024, hop_length=256, pad_mode="reflect")
    assert rel_err(_complex(out), ref) <= 1e-10
    out.pow(2).sum().backward()  # the trainable float32 kernels still get gradients
    assert layer.wcos.grad is not None and torch.isfinite(layer.wcos.grad).all()
    with torch.no_grad():
        layer.wcos.mul_(1.001)  # once trained, the stored values are what is used
    assert rel_err(_complex(layer(x)), ref) > 1e-5


@pytest.mark.parametrize("t,n,hop", [(7, 16, 4), (5, 17, 5), (1, 8, 3), (9, 10, 10), (4, 6, 9), (40, 64, 2)])
def test_overlap_add_matches_definition_and_gradcheck(rng, t, n, hop):
    """Both overlap-add strategies (block additions; fold for many small hops) against the sum it defines."""
    from nnaudio_fast.primitives import overlap_add

    fr = noise(rng, 2, t, n).requires_grad_(True)
    want = np.zeros((2, n + hop * (t - 1)))
    for i in range(t):
        want[:, i * hop : i * hop + n] += fr[:, i].detach().numpy()
    assert np.array_equal(overlap_add(fr, hop).detach().numpy(), want) or rel_err(overlap_add(fr, hop), want) < 1e-15
    assert torch.autograd.gradcheck(lambda f: overlap_add(f, hop), (fr,))
