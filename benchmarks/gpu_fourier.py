"""GPU benchmark of the Fourier family: fused Triton Mel spectrogram vs the reference backend, torch.stft + |X|² +
mel matmul, torchaudio and nnAudio, forward and forward+backward (gradient w.r.t. the waveform).

Configurations (the issue's): Mel-128 at 22.05 kHz with n_fft 400/512/1024/2048/4096 and hop n_fft/4, and the
Whisper front end (16 kHz, n_fft 400, hop 160, 80 mels); batch 1/16/64 × ``--seconds`` (10 s) of noise.

Timing: ``triton.testing.do_bench`` (warm-up, CUDA-event timing, median with 20/80th percentiles); every
implementation is timed in the same run on the same device. Reported per row: median ms, ratios against the
torch.stft pipeline and nnAudio, achieved GB/s over the bytes a fused kernel must move (waveform read + features
written; for backward also the output gradient read and the waveform gradient written), the fraction of the
memory roofline those bytes allow (``bytes / peak_bw / time``), and the fused output's relative error against a
float64 reference. Device name, torch/triton versions, precision settings and the git commit are stamped on the
results.

``--engines`` additionally times the fused path with the direct and cuFFT engines for every (n_fft, batch,
precision) and prints the crossover, to set ``FFT_MIN_N_FFT`` / ``FFT_MIN_FRAMES`` in
:mod:`nnaudio_fast.kernels.fourier_ops`.

Usage::

    python benchmarks/gpu_fourier.py --out benchmarks/results/h100            # full run on a GPU
    python benchmarks/gpu_fourier.py --out /tmp/b --engines --precisions exact,tf32,bf16
    TRITON_INTERPRET=1 python benchmarks/gpu_fourier.py --out /tmp/b --smoke  # CPU: checks the script works

Peak bandwidths (``--peak-gbs`` overrides): H100 SXM 3350, H200 4800, A100-80GB 2039, else 1000 GB/s.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import os
import platform
import statistics
import subprocess
import sys
import time

import torch

import nnaudio_fast as nf
from nnaudio_fast import functional as AF

PEAK_GBS = {"H200": 4800.0, "H100": 3350.0, "A100": 2039.0, "L40": 864.0, "A10": 600.0}
FULL = dict(n_ffts=(400, 512, 1024, 2048, 4096), batches=(1, 16, 64), seconds=10.0)
SMOKE = dict(n_ffts=(64,), batches=(1, 2), seconds=0.05)


def _config_list(n_ffts, whisper=True):
    rows = [dict(name=f"mel128 n_fft={n}", sr=22050, n_fft=n, hop=n // 4, n_mels=128) for n in n_ffts]
    if whisper:
        rows.append(dict(name="whisper", sr=16000, n_fft=400, hop=160, n_mels=80))
    return rows


def _smoke_configs():
    return [dict(name="mel16 n_fft=64", sr=8000, n_fft=64, hop=16, n_mels=16),
            dict(name="whisper-like", sr=8000, n_fft=40, hop=16, n_mels=8)]


# ----------------------------------------------------------------------------------------------------------------
# implementations: each returns a callable x -> features
# ----------------------------------------------------------------------------------------------------------------
def _fused(cfg, device, precision, engine=None):
    layer = nf.MelSpectrogram(sr=cfg["sr"], n_fft=cfg["n_fft"], n_mels=cfg["n_mels"], hop_length=cfg["hop"],
                              backend="triton", precision=precision, verbose=False).to(device)
    if engine is None:
        return layer
    from nnaudio_fast import kernels

    wc, ws = (t.reshape(t.shape[0], -1) for t in (layer.stft.wcos, layer.stft.wsin))
    return lambda x: kernels.spectrogram(x, wc, ws, layer.mel_basis, cfg["hop"], True, "reflect", 2.0,
                                         precision=precision, engine=engine)


def _reference(cfg, device):
    return nf.MelSpectrogram(sr=cfg["sr"], n_fft=cfg["n_fft"], n_mels=cfg["n_mels"], hop_length=cfg["hop"],
                             backend="reference", verbose=False).to(device)


def _torch_stft(cfg, device):
    n_fft = cfg["n_fft"]
    window = torch.hann_window(n_fft, device=device)
    # the Slaney filterbank every implementation here uses (the public layer's buffer, float32)
    fb = nf.MelSpectrogram(sr=cfg["sr"], n_fft=n_fft, n_mels=cfg["n_mels"], hop_length=cfg["hop"],
                           verbose=False).mel_basis.detach().to(device)

    def run(x):
        spec = torch.stft(x, n_fft, cfg["hop"], window=window, center=True, pad_mode="reflect", return_complex=True)
        return torch.matmul(fb, spec.abs().pow(2))

    return run


def _torchaudio(cfg, device):
    import torchaudio

    return torchaudio.transforms.MelSpectrogram(sample_rate=cfg["sr"], n_fft=cfg["n_fft"], hop_length=cfg["hop"],
                                                n_mels=cfg["n_mels"], norm="slaney", mel_scale="slaney").to(device)


def _nnaudio(cfg, device):
    from nnAudio.features import MelSpectrogram

    return MelSpectrogram(sr=cfg["sr"], n_fft=cfg["n_fft"], n_mels=cfg["n_mels"], hop_length=cfg["hop"],
                          verbose=False).to(device)


PEERS = {"reference": _reference, "torch.stft+mel": _torch_stft, "torchaudio": _torchaudio, "nnAudio": _nnaudio}


# ----------------------------------------------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------------------------------------------
def _bench(fn, device, smoke):
    """Median, 20th and 80th percentile in ms."""
    if device.type == "cuda" and not smoke:
        import triton.testing

        q = triton.testing.do_bench(fn, warmup=25, rep=200, quantiles=[0.5, 0.2, 0.8])
        return tuple(float(v) for v in q)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)  # --smoke on a GPU: device time
    fn()
    sync()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return statistics.median(times), times[0], times[-1]


def _step(impl, x, backward):
    if not backward:
        def run():
            with torch.no_grad():
                impl(x)
        return run
    xg = x.clone().requires_grad_()

    def run():
        out = impl(xg)
        g = torch.autograd.grad(out, xg, torch.ones_like(out))
        return g
    return run


def _useful_bytes(batch, length, n_mels, n_frames, backward):
    fwd = 4 * (batch * length + batch * n_mels * n_frames)
    return fwd * 2 if backward else fwd  # backward: output gradient read, waveform gradient written


def _peak_gbs(device, override):
    if override:
        return override
    if device.type != "cuda":
        return 50.0
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_GBS.items() if k in name), 1000.0)


def _stamp(device, peak):
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except OSError:
        commit = "?"
    try:
        import triton

        triton_version = triton.__version__
    except ImportError:
        triton_version = "not installed"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__, "triton": triton_version, "nnaudio_fast": nf.__version__, "commit": commit,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn.allow_tf32 (nnAudio's conv1d)": torch.backends.cudnn.allow_tf32,
        "TRITON_INTERPRET": os.environ.get("TRITON_INTERPRET", "0"), "peak_GBps_assumed": peak,
    }


def _rel_err(impl, x, cfg):
    with torch.no_grad():
        out = impl(x[:1]).double()
        ref = AF.mel_spectrogram(x[:1].double(), sr=cfg["sr"], n_fft=cfg["n_fft"], n_mels=cfg["n_mels"],
                                 hop_length=cfg["hop"], backend="reference")  # float64 bases, float64 arithmetic
        return float((out - ref).norm() / ref.norm())


# ----------------------------------------------------------------------------------------------------------------
def run(args) -> list[dict]:
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    grid = SMOKE if args.smoke else FULL
    configs = _smoke_configs() if args.smoke else _config_list(args.n_ffts or grid["n_ffts"])
    batches = args.batches or grid["batches"]
    seconds = args.seconds or grid["seconds"]
    precisions = args.precisions.split(",")
    peak = _peak_gbs(device, args.peak_gbs)
    stamp = _stamp(device, peak)
    rows = []
    gen = torch.Generator(device="cpu").manual_seed(0)
    for cfg in configs:
        length = int(round(seconds * cfg["sr"]))
        n_frames = 1 + length // cfg["hop"]
        for batch in batches:
            x = torch.randn(batch, length, generator=gen).to(device)
            impls = {}
            for p in precisions:
                impls[f"fused[{p}]"] = _fused(cfg, device, p)
                if args.engines:
                    for engine in ("direct", "fft"):
                        impls[f"fused[{p},{engine}]"] = _fused(cfg, device, p, engine)
            for name, make in PEERS.items():
                try:
                    impls[name] = make(cfg, device)
                except ImportError as exc:
                    print(f"skipping {name}: {exc}", file=sys.stderr)
            for backward in (False, True):
                times = {}
                for name, impl in impls.items():
                    try:
                        times[name] = _bench(_step(impl, x, backward), device, args.smoke)
                    except Exception as exc:  # a peer failing (e.g. out of memory) must not stop the run
                        print(f"{cfg['name']} B={batch} {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                base = times.get("torch.stft+mel", (float("nan"),))[0]
                nna = times.get("nnAudio", (float("nan"),))[0]
                useful = _useful_bytes(batch, length, cfg["n_mels"], n_frames, backward)
                for name, (med, lo, hi) in times.items():
                    gbs = useful / (med * 1e-3) / 1e9
                    rows.append({
                        "config": cfg["name"], "n_fft": cfg["n_fft"], "hop": cfg["hop"], "n_mels": cfg["n_mels"],
                        "sr": cfg["sr"], "batch": batch, "seconds": seconds, "pass": "fwd+bwd" if backward else "fwd",
                        "impl": name, "median_ms": round(med, 4), "p20_ms": round(lo, 4), "p80_ms": round(hi, 4),
                        "vs_torch_stft": round(med / base, 3), "vs_nnAudio": round(med / nna, 3),
                        "useful_GBps": round(gbs, 1), "frac_mem_roofline": round(gbs / peak, 3),
                        "rel_err_vs_f64": (round(_rel_err(impls[name], x, cfg), 9)
                                           if not backward and name.startswith("fused") else ""),
                    })
                    print(f"{cfg['name']:22s} B={batch:<3d} {rows[-1]['pass']:8s} {name:24s} {med:9.3f} ms  "
                          f"x{rows[-1]['vs_torch_stft']:<6} vs torch.stft", flush=True)
        _write(args.out, rows, stamp, args.engines)  # after every configuration: a run stopped part-way keeps them
    return rows


def _replace_text(path, text):
    """Write ``path`` through a temporary file, so that a run killed mid-write leaves the previous version."""
    with open(path + ".tmp", "w", newline="") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def _csv_text(rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["config"])
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _write(out_dir, rows, stamp, engines):
    os.makedirs(out_dir, exist_ok=True)
    _replace_text(os.path.join(out_dir, "fourier.csv"), _csv_text(rows))
    cols = ["config", "batch", "pass", "impl", "median_ms", "vs_torch_stft", "vs_nnAudio", "useful_GBps",
            "frac_mem_roofline", "rel_err_vs_f64"]
    lines = ["# Fourier family benchmark (Mel spectrogram)", ""]
    lines += [f"- {k}: {v}" for k, v in stamp.items()]
    lines += ["", "Medians of triton.testing.do_bench; ratios against peers timed in the same run. "
              "useful_GBps counts only the bytes a fused kernel must move.", ""]
    lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    if engines:
        lines += ["", "## Engine crossover (forward, fused)", ""] + _crossover(rows)
    _replace_text(os.path.join(out_dir, "fourier.md"), "\n".join(lines) + "\n")


def _crossover(rows):
    """For each precision and batch: the n_fft values where the cuFFT engine beat the direct one."""
    out = []
    fwd = [r for r in rows if r["pass"] == "fwd" and r["impl"].count(",") == 1]
    keys = sorted({(r["impl"].split("[")[1].split(",")[0], r["batch"]) for r in fwd})
    for precision, batch in keys:
        wins = []
        for r in fwd:
            if r["batch"] == batch and r["impl"] == f"fused[{precision},fft]":
                direct = next(d for d in fwd if d["config"] == r["config"] and d["batch"] == batch
                              and d["impl"] == f"fused[{precision},direct]")
                if r["median_ms"] < direct["median_ms"]:
                    wins.append(f"{r['config']} ({direct['median_ms'] / r['median_ms']:.2f}x)")
        out.append(f"- {precision}, batch {batch}: fft faster for {', '.join(wins) or 'none'}")
    return out


def _ints(text):
    return tuple(int(v) for v in text.split(","))


def parse_args(argv, doc: str, name: str, precisions: str, add_arguments=None) -> argparse.Namespace:
    """The GPU scripts' common command line (``name``: the stem of their .csv/.md results; ``precisions``: the
    default fused modes, only 'exact' with ``--smoke``)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--out", required=True, help=f"directory for {name}.csv and {name}.md")
    parser.add_argument("--smoke", action="store_true", help="tiny shapes; runs on the CPU under TRITON_INTERPRET=1")
    parser.add_argument("--device", default=None)
    parser.add_argument("--precisions", default=None, help=f"fused precision modes to time (default {precisions})")
    parser.add_argument("--batches", type=_ints, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--peak-gbs", type=float, default=None, help="HBM bandwidth for the roofline, GB/s")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    if args.precisions is None:
        args.precisions = "exact" if args.smoke else precisions
    return args


def main(argv=None):
    def extra(parser):
        parser.add_argument("--engines", action="store_true", help="also time direct vs cuFFT engines (tuning)")
        parser.add_argument("--n-ffts", type=_ints, default=None)

    return run(parse_args(argv, __doc__, "fourier", "exact,tf32,bf16", extra))


if __name__ == "__main__":
    main()
