"""The CPU fast path against the peers it replaces, on the sizes users run (issue 14's table).

Every contender gets the same inputs (white noise, rotated), warm-up calls, then round-robin repetitions (each round
one untimed and three timed calls of every contender, so a slow phase of the machine hits all of them; the order
rotates every round, and the untimed call absorbs a NumPy peer's BLAS threads still spinning), timed with
``perf_counter``; the table
reports medians and each peer's time over ours (above 1: ours is faster). Feature configurations:

* Mel: sr 16 kHz, n_fft 1024, hop 256, 128 mels (power 2, Slaney filters, reflect padding).
* Whisper log-mel: sr 16 kHz, n_fft 400, hop 160, 80 mels, ``log10(max(S, 1e-10))``.
* MFCC: the Mel configuration, 20 coefficients (dB without top_db, orthonormal DCT-II).
* Mel training step: the Mel configuration, forward and backward of ``sum(S)`` to the trainable tensors: ours with a
  trainable window on the fixed DFT and a trainable filterbank (``trainable_window=True, trainable_mel=True``)
  against the torch pipeline training the same two, and the fully trainable kernels (ours, nnAudio's).
* CQT1992v2: sr 22050, hop 512, fmin 32.70 Hz, 84 bins, 12 per octave (complex output).

Peers: the torch pipeline (``torch.stft`` + ``|X|²`` + mel matmul [+ log / DCT], what torchaudio runs), nnAudio
0.3.4 and ``librosa`` where installed. ``--memory`` adds the peak resident memory of one call on 10 minutes of
16 kHz audio (each contender in a fresh process; ``/proc/self/clear_refs`` resets the high-water mark after the
input exists). ``--load`` runs a second process that keeps one core busy for the whole run (leave
``OMP_WAIT_POLICY`` unset to measure OpenMP's default policy under load).

``python -m benchmarks.cpu_fast_path [--quick] [--memory] [--load] [--out benchmarks/results/cpu/fast_path]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import time

import torch

import nnaudio_fast as nf
from nnaudio_fast import bases

SR = 16000
MEL = dict(n_fft=1024, hop=256, n_mels=128)
WHISPER = dict(n_fft=400, hop=160, n_mels=80)
CQT = dict(sr=22050, hop_length=512, fmin=32.70, n_bins=84, bins_per_octave=12)
SIZES = ((16, 10.0), (1, 1.0), (1, 0.1))
CQT_SIZES = ((16, 10.0), (1, 10.0), (1, 1.0))  # nnAudio's CQT1992v2 needs more than its 16384-tap padding


# ---------------------------------------------------------------------------------------------------------------
# contenders: name -> fn(x)
# ---------------------------------------------------------------------------------------------------------------
def _torch_mel(cfg, log=None, n_mfcc=None):
    window = torch.hann_window(cfg["n_fft"])
    fb = torch.tensor(bases.mel_filterbank(SR, cfg["n_fft"], cfg["n_mels"], norm="slaney"), dtype=torch.float32)
    dct = None if n_mfcc is None else torch.tensor(bases.dct_matrix(cfg["n_mels"], "ortho")[:n_mfcc],
                                                   dtype=torch.float32)

    def fn(x):
        X = torch.stft(x, cfg["n_fft"], cfg["hop"], window=window, center=True, pad_mode="reflect",
                       return_complex=True)
        S = fb @ (X.real.square() + X.imag.square())
        if log == "log10":
            return torch.log10(torch.clamp(S, min=1e-10))
        if dct is not None:
            return dct @ (10.0 * torch.log10(torch.clamp(S, min=1e-10)))
        return S

    return fn


def _ours_mel(cfg, log=None):
    layer = nf.MelSpectrogram(sr=SR, n_fft=cfg["n_fft"], hop_length=cfg["hop"], n_mels=cfg["n_mels"], verbose=False)
    if log == "log10":
        return lambda x: torch.log10(torch.clamp(layer(x), min=1e-10))
    return layer


def _nnaudio_mel(cfg):
    from nnAudio import features

    return features.MelSpectrogram(sr=SR, n_fft=cfg["n_fft"], hop_length=cfg["hop"], n_mels=cfg["n_mels"],
                                   verbose=False)


def _nnaudio_mel_trainable():
    from nnAudio import features

    return features.MelSpectrogram(sr=SR, n_fft=MEL["n_fft"], hop_length=MEL["hop"], n_mels=MEL["n_mels"],
                                   trainable_mel=True, trainable_STFT=True, verbose=False)


def _librosa_mel(cfg):
    import librosa

    def fn(x):
        return librosa.feature.melspectrogram(y=x.numpy(), sr=SR, n_fft=cfg["n_fft"], hop_length=cfg["hop"],
                                              n_mels=cfg["n_mels"], pad_mode="reflect")

    return fn


def _training(make):
    """One training step's spectrogram work: forward and backward to the trainable tensors."""
    fn = make()

    def step(x):
        with torch.enable_grad():
            fn(x).sum().backward()

    return step


def _torch_mel_trainable():
    window = torch.hann_window(MEL["n_fft"]).requires_grad_(True)
    fb = torch.tensor(bases.mel_filterbank(SR, MEL["n_fft"], MEL["n_mels"], norm="slaney"),
                      dtype=torch.float32).requires_grad_(True)

    def fn(x):
        X = torch.stft(x, MEL["n_fft"], MEL["hop"], window=window, center=True, pad_mode="reflect",
                       return_complex=True)
        return fb @ (X.real.square() + X.imag.square())

    return fn


def _ours_mel_trainable(**trainable):
    return nf.MelSpectrogram(sr=SR, n_fft=MEL["n_fft"], hop_length=MEL["hop"], n_mels=MEL["n_mels"],
                             verbose=False, **trainable)


def _ours_mfcc():
    return nf.MFCC(sr=SR, n_mfcc=20, n_fft=MEL["n_fft"], hop_length=MEL["hop"], n_mels=MEL["n_mels"], top_db=None,
                   verbose=False)


def _ours_cqt():
    return nf.CQT1992v2(output_format="Complex", verbose=False, **CQT)


def _nnaudio_cqt():
    from nnAudio import features

    return features.CQT1992v2(output_format="Complex", verbose=False, **CQT)


def _librosa_cqt():
    import librosa

    def fn(x):
        return librosa.cqt(x.numpy(), sr=CQT["sr"], hop_length=CQT["hop_length"], fmin=CQT["fmin"],
                           n_bins=CQT["n_bins"], bins_per_octave=CQT["bins_per_octave"])

    return fn


def families():
    """``[(feature, sample rate, sizes, {contender: builder})]``; ours first."""
    return [
        ("Mel 1024/256/128", SR, SIZES, {"nnaudio_fast": lambda: _ours_mel(MEL), "torch pipeline": lambda: _torch_mel(MEL),
                                  "nnAudio": lambda: _nnaudio_mel(MEL), "librosa": lambda: _librosa_mel(MEL)}),
        ("Whisper log-mel 400/160/80", SR, SIZES, {"nnaudio_fast": lambda: _ours_mel(WHISPER, "log10"),
                                            "torch pipeline": lambda: _torch_mel(WHISPER, "log10")}),
        ("MFCC 1024/256/128/20", SR, SIZES, {"nnaudio_fast": _ours_mfcc, "torch pipeline": lambda: _torch_mel(MEL, n_mfcc=20)}),
        ("Mel training step (trainable window + filterbank)", SR, SIZES[:2], {
            "nnaudio_fast": lambda: _training(lambda: _ours_mel_trainable(trainable_window=True, trainable_mel=True)),
            "torch pipeline": lambda: _training(_torch_mel_trainable),
            "nnaudio_fast (trainable kernels)": lambda: _training(
                lambda: _ours_mel_trainable(trainable_STFT=True, trainable_mel=True)),
            "nnAudio (trainable kernels)": lambda: _training(_nnaudio_mel_trainable)}),
        ("CQT1992v2 84 bins hop 512", CQT["sr"], CQT_SIZES, {"nnaudio_fast": _ours_cqt, "nnAudio": _nnaudio_cqt,
                                                  "librosa.cqt": _librosa_cqt}),
    ]


# ---------------------------------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------------------------------
def _available(builders):
    out = {}
    for name, build in builders.items():
        try:
            out[name] = build()
        except ImportError:
            continue
    return out


def round_robin(fns: dict, inputs: list, rounds: int, budget_s: float, calls: int = 3) -> dict:
    """Median seconds per call of each contender: warm-up, then rounds in which every contender (in an order that
    rotates each round) makes one untimed call and ``calls`` timed ones, until ``rounds`` or ``budget_s``. The
    untimed call absorbs what the previous contender left behind (a NumPy peer's BLAS threads still spinning)."""
    with torch.no_grad():
        for fn in fns.values():
            for x in inputs[:2]:
                fn(x)
        times = {k: [] for k in fns}
        names = list(fns)
        start = time.perf_counter()
        for r in range(rounds):
            for k in names[r % len(names):] + names[: r % len(names)]:
                fn = fns[k]
                fn(inputs[r % len(inputs)])
                for c in range(calls):
                    x = inputs[(r + c) % len(inputs)]
                    t0 = time.perf_counter()
                    fn(x)
                    times[k].append(time.perf_counter() - t0)
            if r >= 2 and time.perf_counter() - start > budget_s:
                break
    return {k: statistics.median(v) for k, v in times.items()}


def timings(quick: bool, only: str = "") -> list[dict]:
    rows = []
    gen = torch.Generator().manual_seed(0)
    for feature, sr, sizes, builders in families():
        if only and only.lower() not in feature.lower():
            continue
        fns = _available(builders)
        for batch, seconds in sizes[-1:] if quick else sizes:
            inputs = [torch.randn(batch, int(sr * seconds), generator=gen) for _ in range(3)]
            med = round_robin(fns, inputs, rounds=2 if quick else 15, budget_s=2.0 if quick else 25.0)
            for name, t in med.items():
                rows.append(dict(feature=feature, batch=batch, seconds=seconds, contender=name, ms=t * 1e3,
                                 peer_over_ours=t / med["nnaudio_fast"]))
    return rows


# ---------------------------------------------------------------------------------------------------------------
# peak memory (one call on 10 minutes of 16 kHz audio, a fresh process per contender)
# ---------------------------------------------------------------------------------------------------------------
def _peak_child(contender: str) -> None:
    builders = families()[0][3]
    fn = builders[contender]()
    x = torch.randn(1, SR * 600)
    with torch.no_grad():
        fn(x[:, : SR])  # warm-up on one second: bases built, libraries loaded
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak resident set (VmHWM) to the current one
        base = _status("VmRSS")
        fn(x)
        print(json.dumps({"peak_mb": (_status("VmHWM") - base) / 1024}))


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def peak_memory() -> list[dict]:
    rows = []
    for contender in ("nnaudio_fast", "torch pipeline"):
        out = subprocess.run([sys.executable, "-m", "benchmarks.cpu_fast_path", "--peak-child", contender],
                             capture_output=True, text=True, check=True)
        rows.append(dict(contender=contender, **json.loads(out.stdout.strip().splitlines()[-1])))
    return rows


# ---------------------------------------------------------------------------------------------------------------
# a second process keeping one core busy
# ---------------------------------------------------------------------------------------------------------------
def _spin(stop) -> None:
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def environment(load: bool) -> dict:
    return dict(torch=torch.__version__, python=platform.python_version(), threads=torch.get_num_threads(),
                cpu=_cpu_name(), omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", "(default)"),
                load="one busy process" if load else "none")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def markdown(env: dict, rows: list[dict], memory: list[dict]) -> str:
    lines = ["Environment: " + ", ".join(f"{k} {v}" for k, v in env.items()), "",
             "| feature | batch × seconds | contender | median ms | peer time / ours |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['feature']} | {r['batch']} × {r['seconds']:g} s | {r['contender']} | {r['ms']:.3g} | "
                     f"{r['peer_over_ours']:.2f} |")
    if memory:
        ours = next(m["peak_mb"] for m in memory if m["contender"] == "nnaudio_fast")
        lines += ["", "Peak resident memory of one Mel call on 10 minutes of 16 kHz audio (beyond input and bases):",
                  "", "| contender | peak MB | ours / contender |", "|---|---|---|"]
        lines += [f"| {m['contender']} | {m['peak_mb']:.1f} | {ours / m['peak_mb']:.2f} |" for m in memory]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the smallest size only, few rounds (a smoke test)")
    p.add_argument("--memory", action="store_true", help="also the peak memory of 10 minutes of Mel")
    p.add_argument("--load", action="store_true", help="keep one core busy in a second process meanwhile")
    p.add_argument("--only", default="", help="only the features whose name contains this (e.g. mel, cqt)")
    p.add_argument("--out", default=None, help="write OUT.md and OUT.json")
    p.add_argument("--peak-child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.peak_child:
        _peak_child(args.peak_child)
        return 0
    stop, spinner = None, None
    if args.load:
        ctx = mp.get_context("spawn")
        stop = ctx.Event()
        spinner = ctx.Process(target=_spin, args=(stop,), daemon=True)
        spinner.start()
    try:
        rows = timings(args.quick, args.only)
    finally:
        if spinner is not None:
            stop.set()
            spinner.join()
    memory = peak_memory() if args.memory else []
    text = markdown(environment(args.load), rows, memory)
    print(text)
    if args.out:
        with open(args.out + ".md", "w") as f:
            f.write(text)
        with open(args.out + ".json", "w") as f:
            json.dump(dict(environment=environment(args.load), timings=rows, memory=memory), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
