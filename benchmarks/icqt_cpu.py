"""Inverse CQT on the CPU: reconstruction SNR and time of nnaudio_fast's iCQT (each solver) beside librosa.icqt and
nnAudio2's iCQT (where installed).

Standalone: ``python benchmarks/icqt_cpu.py [--seconds 3] [--n-iter 32] [--repeats 5]``. Signals at 22.05 kHz: a
Hann-tapered log chirp 100 Hz-3 kHz, white noise band-limited (FFT mask, seed 0) to 60 Hz-1.5 kHz and to
60 Hz-3.5 kHz, and the package's demo piece (:func:`nnaudio_fast.signals.demo_signal`: chirp, vibrato tone,
arpeggio, clicks) band-limited to 60 Hz-4 kHz and untapered. CQT: 84 bins from 32.70 Hz, 12 per octave,
``pad_mode='constant'``, librosa's scale. Every method inverts its own forward transform (ours: CQT2010v2 in
float64; librosa: librosa.cqt; nnAudio2: its CQT1992v2, float32, its iCQT with its default 32 Landweber
iterations). SNR = 10·log10(‖x‖² / ‖x̂ − x‖²). Times: median of ``repeats`` calls of the inverse alone (after a
warm-up), batch 1, float32 input for ours (as users run it), torch's default thread count.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
import torch


def _signals(sr: int, seconds: float) -> dict:
    from nnaudio_fast.signals import demo_signal

    n = int(sr * seconds)
    t = np.arange(n) / sr
    k = np.log(3000.0 / 100.0) / seconds
    out = {"chirp 100 Hz-3 kHz": np.sin(2 * np.pi * 100.0 * (np.exp(k * t) - 1) / k) * np.hanning(n)}
    f = np.fft.rfftfreq(n, 1 / sr)
    white = np.random.default_rng(0).standard_normal(n)
    demo = np.resize(demo_signal(sr, 4.0).astype(np.float64), n)
    for name, y, hi in (("noise 60 Hz-1.5 kHz", white, 1500.0), ("noise 60 Hz-3.5 kHz", white, 3500.0),
                        ("demo piece 60 Hz-4 kHz", demo, 4000.0)):
        spec = np.fft.rfft(y)
        spec[(f < 60.0) | (f > hi)] = 0
        y = np.fft.irfft(spec, n=n)
        out[name] = y / np.abs(y).max()
    return out


def _snr(x, ref) -> float:
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return float(10 * np.log10(np.sum(ref**2) / np.sum((x - ref) ** 2)))


def _median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--n-iter", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    import librosa

    import nnaudio_fast as nf
    from nnaudio_fast import functional as AF

    os.environ.setdefault("NNAUDIO_DISABLE_CITATION_REMINDER", "1")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import nnAudio2.features as nna2
    except Exception:
        nna2 = None

    sr = 22050
    cqt_kw = dict(sr=sr, fmin=32.70, n_bins=84, bins_per_octave=12, pad_mode="constant")
    lib_kw = dict(sr=sr, fmin=32.70, bins_per_octave=12)
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), librosa {librosa.__version__}, nnAudio2 "
          f"{'installed' if nna2 else 'not installed'}; {args.seconds:g} s at {sr} Hz, n_iter {args.n_iter}")
    solvers = AF.ICQT_SOLVERS
    head = " | ".join([f"ours {s}" for s in solvers] + ["librosa.icqt"] + (["nnAudio2 iCQT"] if nna2 else []))
    print(f"\nSNR (dB)\n| signal | hop | {head} |\n|---|---|" + "---|" * (len(solvers) + 1 + bool(nna2)))
    sigs = _signals(sr, args.seconds)
    for hop in (128, 512):
        for name, y in sigs.items():
            n = len(y)
            C = AF.cqt(torch.from_numpy(y), hop_length=hop, output_format="Complex", **cqt_kw)
            row = [_snr(AF.icqt(C, hop_length=hop, length=n, n_iter=args.n_iter, solver=s, **cqt_kw), y)
                   for s in solvers]
            L = librosa.cqt(y, hop_length=hop, n_bins=84, pad_mode="constant", **lib_kw)
            row.append(_snr(librosa.icqt(L, hop_length=hop, length=n, **lib_kw), y))
            if nna2:
                kw = dict(sr=sr, hop_length=hop, fmin=32.70, n_bins=84, pad_mode="constant", verbose=False)
                with torch.no_grad():
                    X = nna2.CQT1992v2(output_format="Complex", **kw)(torch.tensor(y, dtype=torch.float32)[None])
                    row.append(_snr(nna2.iCQT(**kw)(X, length=n)[0], y))
            print(f"| {name} | {hop} | " + " | ".join(f"{v:.1f}" for v in row) + " |")

    print(f"\nTime of one inverse (median of {args.repeats}, ms), chirp, batch 1")
    print("| hop | ours pcg (float32) | ours pcg (float64) | librosa.icqt |" + (" nnAudio2 iCQT |" if nna2 else ""))
    print("|---|---|---|---|" + ("---|" if nna2 else ""))
    y = sigs["chirp 100 Hz-3 kHz"]
    n = len(y)
    for hop in (128, 512):
        cells = []
        for dtype in (torch.float32, torch.float64):
            layer = nf.CQT2010v2(hop_length=hop, output_format="Complex", **cqt_kw)
            inverse = nf.iCQT(hop_length=hop, n_iter=args.n_iter, **cqt_kw)
            with torch.no_grad():
                X = layer(torch.tensor(y, dtype=dtype))
            cells.append(_median_ms(lambda: inverse(X, length=n), args.repeats))
        L = librosa.cqt(y, hop_length=hop, n_bins=84, pad_mode="constant", **lib_kw)
        cells.append(_median_ms(lambda: librosa.icqt(L, hop_length=hop, length=n, **lib_kw), args.repeats))
        if nna2:
            kw = dict(sr=sr, hop_length=hop, fmin=32.70, n_bins=84, pad_mode="constant", verbose=False)
            inv2 = nna2.iCQT(**kw)
            with torch.no_grad():
                X2 = nna2.CQT1992v2(output_format="Complex", **kw)(torch.tensor(y, dtype=torch.float32)[None])
                cells.append(_median_ms(lambda: inv2(X2, length=n), args.repeats))
        print(f"| {hop} | " + " | ".join(f"{v:.0f}" for v in cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
