"""Time one Griffin-Lim iteration on the CPU: nnaudio_fast vs librosa.griffinlim vs a torch.stft/torch.istft loop.

Standalone: ``python benchmarks/griffin_lim_cpu.py [--batch 4 --seconds 5 --sr 22050 --n-fft 1024]``.

Each implementation runs the same fast Griffin-Lim (momentum 0.99, zero-phase start, hop n_fft/4, Hann window,
float32) on the magnitude spectrogram of a batch of noisy harmonic signals. The time of one iteration is
``(t(n_iter) − t(0)) / n_iter``, which removes the initial and final inverse STFTs; each figure is the median of
``--repeats`` runs after one warm-up run. All three run on the same CPU in the same process; say which CPU and how
loaded it was when you quote the numbers.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch


def torch_loop_griffin_lim(S: torch.Tensor, n_fft: int, hop: int, n_iter: int, momentum: float = 0.99):
    """The fast Griffin-Lim written with torch.stft / torch.istft (the torchaudio way): complex tensors, FFTs."""
    window = torch.hann_window(n_fft, dtype=S.dtype)
    length = hop * (S.shape[-1] - 1)
    coef = momentum / (1.0 + momentum)
    estimate = S.to(torch.complex64)
    previous = None
    for _ in range(n_iter):
        y = torch.istft(estimate, n_fft, hop, window=window, length=length)
        rebuilt = torch.stft(y, n_fft, hop, window=window, pad_mode="reflect", return_complex=True)
        estimate = rebuilt if previous is None else rebuilt - coef * previous
        estimate = S * estimate / (estimate.abs() + 1e-16)
        previous = rebuilt
    return torch.istft(estimate, n_fft, hop, window=window, length=length)


def test_signal(batch: int, n: int, sr: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    rows = []
    for _ in range(batch):
        f0 = rng.uniform(100, 300)
        tone = sum(np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 6.3)) / h for h in range(1, 20) if h * f0 < sr / 2)
        rows.append(tone * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.standard_normal(n))
    return np.stack(rows).astype(np.float32)


def per_iteration(run, n_iter: int, repeats: int) -> float:
    """Median seconds per iteration: (t(n_iter) − t(0)) / n_iter, after a warm-up of each."""
    run(0)
    run(n_iter)
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(0)
        t1 = time.perf_counter()
        run(n_iter)
        t2 = time.perf_counter()
        samples.append(((t2 - t1) - (t1 - t0)) / n_iter)
    return statistics.median(samples)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--sr", type=int, default=22050)
    parser.add_argument("--n-fft", type=int, default=1024)
    parser.add_argument("--n-iter", type=int, default=8, help="iterations per timed run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)

    import librosa

    from nnaudio_fast import functional as AF
    from nnaudio_fast import dispatch

    if args.threads:
        torch.set_num_threads(args.threads)
    n_fft, hop = args.n_fft, args.n_fft // 4
    x = test_signal(args.batch, int(args.seconds * args.sr), args.sr)
    S_np = np.abs(librosa.stft(x, n_fft=n_fft, hop_length=hop, pad_mode="reflect")).astype(np.float32)
    S = torch.from_numpy(S_np)
    length = hop * (S.shape[-1] - 1)

    def ours(n):
        return AF.griffin_lim(S, n_fft=n_fft, hop_length=hop, n_iter=n, init=None, length=length)

    def theirs(n):
        return librosa.griffinlim(S_np, n_fft=n_fft, hop_length=hop, n_iter=n, init=None, momentum=0.99,
                                  pad_mode="reflect", length=length)

    def torch_loop(n):
        return torch_loop_griffin_lim(S, n_fft, hop, n)

    # the three agree (same algorithm, same start), so the timings compare like with like
    a, b, c = ours(4).numpy(), theirs(4), torch_loop(4).numpy()
    agree = max(np.linalg.norm(a - b) / np.linalg.norm(b), np.linalg.norm(c - b) / np.linalg.norm(b))

    backend = dispatch.select("stft", torch.device("cpu")).__module__
    print(f"Griffin-Lim, one iteration: batch {args.batch} x {args.seconds:g} s at {args.sr} Hz, n_fft {n_fft}, "
          f"hop {hop}, {S.shape[-1]} frames, float32")
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, torch "
          f"{torch.__version__} ({torch.get_num_threads()} threads), librosa {librosa.__version__}; "
          f"nnaudio_fast STFT backend on CPU: {backend}; outputs agree to {agree:.1e} after 4 iterations")
    rows = [("nnaudio_fast.functional.griffin_lim", per_iteration(ours, args.n_iter, args.repeats)),
            ("librosa.griffinlim", per_iteration(theirs, args.n_iter, args.repeats)),
            ("torch.stft/torch.istft loop", per_iteration(torch_loop, args.n_iter, args.repeats))]
    base = rows[0][1]
    print(f"{'implementation':<38}{'ms / iteration':>16}{'vs nnaudio_fast':>18}")
    for name, seconds in rows:
        print(f"{name:<38}{seconds * 1e3:>16.1f}{seconds / base:>17.2f}x")


if __name__ == "__main__":
    main()
