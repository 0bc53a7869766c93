"""CPU timing of the multirate CQT: nnaudio_fast CQT2010v2 (C++ pyramid) vs nnAudio 0.3.4 CQT2010v2 vs librosa.cqt.

Standalone: ``python benchmarks/cqt_cpu.py [--batch 16] [--seconds 5] [--repeats 9]``. A batch of white noise at
22.05 kHz, the nnAudio defaults (fmin 32.70 Hz, 84 bins, 12 per octave, hop 512), ``pad_mode='constant'``; each
contender is run once to warm up, then the contenders are timed in turn (round-robin, so a busy machine slows them
alike) ``repeats`` times with ``time.perf_counter``; medians are reported. ``torch.no_grad()``, torch's default
thread count. librosa gets the same (batch, time) float32 array (it loops over channels itself). Also printed: each result's magnitude distance to librosa, so the timings compare like with like.

On a machine shared with other busy processes, torch's OpenMP workers spin-wait between operations and every
torch-based contender (ours and nnAudio) slows down several-fold; ``OMP_WAIT_POLICY=PASSIVE`` (set in the
environment before starting Python) removes that artefact. Report which setting was used.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch


def _median_times(fns: dict, repeats: int) -> dict:
    outputs = {name: fn() for name, fn in fns.items()}  # warm-up (caches, allocator, threads), and the results
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(times[name]), outputs[name]) for name in fns}


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)

    import librosa
    import nnAudio.features as nna

    import nnaudio_fast as nf

    sr, hop, fmin, n_bins = 22050, 512, 32.70, 84
    rng = np.random.default_rng(0)
    y = rng.standard_normal((args.batch, int(args.seconds * sr))).astype(np.float32)
    x = torch.from_numpy(y)
    info = nf.build_info()
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), librosa {librosa.__version__}, "
          f"C++ extension: {'built' if info['multirate_extension'] else 'NOT built'}")
    print(f"input: {args.batch} x {args.seconds:g} s at {sr} Hz, hop {hop}, fmin {fmin}, {n_bins} bins; "
          f"median of {args.repeats} after a warm-up")

    ours = nf.CQT2010v2(sr=sr, hop_length=hop, fmin=fmin, n_bins=n_bins, pad_mode="constant")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nna.CQT2010v2(sr=sr, hop_length=hop, fmin=fmin, n_bins=n_bins, pad_mode="constant", verbose=False)

    ours_ref = nf.CQT2010v2(sr=sr, hop_length=hop, fmin=fmin, n_bins=n_bins, pad_mode="constant",
                            backend="reference")
    ours.backend = "cpp"
    with torch.no_grad():
        results = _median_times({
            "nnaudio_fast CQT2010v2 (cpp)": lambda: ours(x).numpy(),
            "nnaudio_fast CQT2010v2 (reference)": lambda: ours_ref(x).numpy(),
            "nnAudio CQT2010v2": lambda: theirs(x).numpy(),
            "librosa.cqt": lambda: np.abs(librosa.cqt(y, sr=sr, hop_length=hop, fmin=fmin, n_bins=n_bins,
                                                      pad_mode="constant")),
        }, args.repeats)

    ref = results["librosa.cqt"][1]
    t_ours = results["nnaudio_fast CQT2010v2 (cpp)"][0]
    print(f"{'':36s} {'median ms':>10s} {'ours / this':>12s} {'dist. to librosa':>17s}")
    for name, (t, out) in results.items():
        print(f"{name:36s} {1e3 * t:10.1f} {t_ours / t:12.3f} {_rel(out, ref):17.2e}")
    t_nna, t_lib = results["nnAudio CQT2010v2"][0], results["librosa.cqt"][0]
    print(f"ours (cpp) / nnAudio = {t_ours / t_nna:.3f} (goal <= 0.5); ours (cpp) / librosa = {t_ours / t_lib:.3f} "
          "(goal <= 1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
