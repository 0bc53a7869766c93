"""Streaming on the CPU (issue 15's table): per-chunk cost of ``layer.streaming()`` against bare torch calls on the
same new frames, its real-time factor, and the per-call cost of the ordinary layers on short inputs.

One thread (``torch.set_num_threads(1)``), float32, batch 1, 16 kHz. Streams are fed 10 ms chunks (160 samples) of
one long noise signal, each completing one frame (hop 160); every chunk a stream takes is timed, and the table
reports medians over round-robin rounds (each round, every contender in a rotating order makes ``CALLS`` timed
calls after one untimed one). Contenders:

* ``stream``: ``stream(chunk)`` of the layer's stream (Whisper geometry: n_fft 400, hop 160, centred, reflect).
* ``bare torch``: the frame the chunk completes computed by bare calls on its 400 samples: ``torch.stft``
  (``center=False``) + ``|X|²`` + the mel matmul (+ dB + DCT for MFCC; ``|X|`` for the STFT; for the CQT1992v2 the
  dense kernel product of its 16384-sample frame; none for the multirate CQT2010v2).
* short inputs (batch 1 × 0.1 s and 1 s): the ordinary layers against the torch pipeline of
  :mod:`benchmarks.cpu_fast_path` (``torch.stft`` + power + mel matmul [+ log10 / dB + DCT]).

The real-time factor is 10 ms over the median time per chunk.

``python -m benchmarks.streaming [--quick] [--only mel] [--out benchmarks/results/cpu/streaming]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

import nnaudio_fast as nf
from nnaudio_fast import bases

from .cpu_fast_path import MEL, SR, WHISPER, _ours_mel, _ours_mfcc, _torch_mel, environment

CHUNK = 160  # 10 ms at 16 kHz
CALLS = 50
CQT = dict(sr=SR, hop_length=CHUNK, fmin=32.70, n_bins=84, bins_per_octave=12)


class _Feeder:
    """Feeds ``fn`` successive 10 ms chunks of one signal (``fn(signal, start)``), starting over at its end."""

    def __init__(self, fn, signal, first: int, on_wrap=None):
        self.fn, self.signal, self.first, self.on_wrap = fn, signal, first, on_wrap
        self.pos = first

    def __call__(self):
        if self.pos + CHUNK > self.signal.shape[-1]:
            self.pos = self.first
            if self.on_wrap:
                self.on_wrap()
        out = self.fn(self.signal, self.pos)
        self.pos += CHUNK
        return out


def _stream(layer, signal):
    stream = layer.streaming()
    return _Feeder(lambda s, i: stream(s[:, i: i + CHUNK]), signal, 0, stream.reset)


def _whisper_bases():
    window = torch.hann_window(WHISPER["n_fft"])
    fb = torch.tensor(bases.mel_filterbank(SR, WHISPER["n_fft"], WHISPER["n_mels"], norm="slaney"), dtype=torch.float32)
    dct = torch.tensor(bases.dct_matrix(WHISPER["n_mels"], "ortho")[:20], dtype=torch.float32)
    return window, fb, dct


def _bare(kind, signal):
    """The frame a chunk completes, by bare torch calls on its n_fft samples (the chunk is the frame's last hop)."""
    n_fft = WHISPER["n_fft"]
    window, fb, dct = _whisper_bases()

    def frame(s, i):
        X = torch.stft(s[:, i + CHUNK - n_fft: i + CHUNK], n_fft, CHUNK, window=window, center=False,
                       return_complex=True)
        if kind == "stft":
            return X.abs()
        S = fb @ (X.real.square() + X.imag.square())
        if kind == "mfcc":
            return dct @ (10.0 * torch.log10(torch.clamp(S, min=1e-10)))
        return S

    return _Feeder(frame, signal, n_fft)


def _bare_cqt(signal):
    layer = nf.CQT1992v2(output_format="Complex", verbose=False, **CQT)
    kr, ki = layer.cqt_kernels_real[:, 0], layer.cqt_kernels_imag[:, 0]
    kernels = torch.cat((kr, ki), 0)
    width = kernels.shape[-1]

    def frame(s, i):
        return kernels @ s[0, i + CHUNK - width: i + CHUNK]

    return _Feeder(frame, signal, width)


def stream_families():
    kw = dict(sr=SR, n_fft=WHISPER["n_fft"], hop_length=WHISPER["hop"], verbose=False)
    return [
        ("STFT magnitude 400/160", {
            "stream": lambda s: _stream(nf.STFT(n_fft=WHISPER["n_fft"], hop_length=CHUNK, output_format="Magnitude",
                                                verbose=False), s),
            "bare torch": lambda s: _bare("stft", s)}),
        ("Whisper Mel 400/160/80", {
            "stream": lambda s: _stream(nf.MelSpectrogram(n_mels=WHISPER["n_mels"], **kw), s),
            "bare torch": lambda s: _bare("mel", s)}),
        ("MFCC 400/160/80/20", {
            "stream": lambda s: _stream(nf.MFCC(n_mfcc=20, n_mels=WHISPER["n_mels"], top_db=None, **kw), s),
            "bare torch": lambda s: _bare("mfcc", s)}),
        ("CQT1992v2 84 bins from 32.7 Hz", {
            "stream": lambda s: _stream(nf.CQT1992v2(output_format="Complex", verbose=False, **CQT), s),
            "bare torch": _bare_cqt}),
        ("CQT2010v2 84 bins from 32.7 Hz (multirate)", {
            "stream": lambda s: _stream(nf.CQT2010v2(output_format="Complex", verbose=False, **CQT), s)}),
    ]


def _time(fns: dict, rounds: int, budget_s: float) -> dict:
    with torch.no_grad():
        for fn in fns.values():
            for _ in range(20):
                fn()
        times = {k: [] for k in fns}
        names, start = list(fns), time.perf_counter()
        for r in range(rounds):
            for k in names[r % len(names):] + names[: r % len(names)]:
                fn = fns[k]
                fn()
                t0 = time.perf_counter()
                for _ in range(CALLS):
                    fn()
                times[k].append((time.perf_counter() - t0) / CALLS)
            if r >= 2 and time.perf_counter() - start > budget_s:
                break
    return {k: statistics.median(v) for k, v in times.items()}


def stream_rows(quick: bool, only: str = "") -> list[dict]:
    signal = torch.randn(1, SR * 30, generator=torch.Generator().manual_seed(0))
    rows = []
    for feature, builders in stream_families():
        if only.lower() not in feature.lower():
            continue
        fns = {name: build(signal) for name, build in builders.items()}
        med = _time(fns, rounds=3 if quick else 30, budget_s=2.0 if quick else 20.0)
        for name, t in med.items():
            rows.append(dict(feature=feature, contender=name, us=t * 1e6, ours_over_peer=med["stream"] / t,
                             real_time_factor=(CHUNK / SR) / t))
    return rows


def short_rows(quick: bool, only: str = "") -> list[dict]:
    """The ordinary layers on short inputs against the torch pipeline (per-call overhead)."""
    families = [
        ("Mel 1024/256/128", lambda: _ours_mel(MEL), lambda: _torch_mel(MEL)),
        ("Whisper log-mel 400/160/80", lambda: _ours_mel(WHISPER, "log10"), lambda: _torch_mel(WHISPER, "log10")),
        ("MFCC 1024/256/128/20", _ours_mfcc, lambda: _torch_mel(MEL, n_mfcc=20)),
    ]
    gen = torch.Generator().manual_seed(1)
    rows = []
    for feature, ours, peer in families:
        if only.lower() not in feature.lower():
            continue
        layer, pipeline = ours(), peer()
        for seconds in ((0.1,) if quick else (0.1, 1.0)):
            inputs = [torch.randn(1, int(SR * seconds), generator=gen) for _ in range(3)]
            state = {"i": 0}

            def feed(fn):
                def call():
                    state["i"] += 1
                    return fn(inputs[state["i"] % 3])

                return call

            med = _time({"nnaudio_fast": feed(layer), "torch pipeline": feed(pipeline)}, rounds=3 if quick else 30,
                        budget_s=2.0 if quick else 15.0)
            rows.append(dict(feature=feature, seconds=seconds, ours_us=med["nnaudio_fast"] * 1e6,
                             peer_us=med["torch pipeline"] * 1e6,
                             ours_over_peer=med["nnaudio_fast"] / med["torch pipeline"]))
    return rows


def markdown(env: dict, streams: list[dict], short: list[dict]) -> str:
    lines = ["Environment: " + ", ".join(f"{k} {v}" for k, v in env.items()), "",
             "Streams, 10 ms chunks (160 samples at 16 kHz, one frame each), batch 1, float32:", "",
             "| feature | contender | median µs per chunk | stream / contender | real-time factor |",
             "|---|---|---|---|---|"]
    for r in streams:
        lines.append(f"| {r['feature']} | {r['contender']} | {r['us']:.1f} | {r['ours_over_peer']:.2f} | "
                     f"{r['real_time_factor']:.0f}x |")
    lines += ["", "Ordinary layers on short inputs (batch 1), against the torch pipeline:", "",
              "| feature | seconds | nnaudio_fast µs | torch pipeline µs | ours / pipeline |", "|---|---|---|---|---|"]
    for r in short:
        lines.append(f"| {r['feature']} | {r['seconds']:g} | {r['ours_us']:.1f} | {r['peer_us']:.1f} | "
                     f"{r['ours_over_peer']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="few rounds (a smoke test)")
    p.add_argument("--only", default="", help="only the features whose name contains this (e.g. mel)")
    p.add_argument("--out", default=None, help="write OUT.md and OUT.json")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    streams, short = stream_rows(args.quick, args.only), short_rows(args.quick, args.only)
    env = environment(False)
    text = markdown(env, streams, short)
    print(text)
    if args.out:
        with open(args.out + ".md", "w") as f:
            f.write(text)
        with open(args.out + ".json", "w") as f:
            json.dump(dict(environment=env, streams=streams, short_inputs=short), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
