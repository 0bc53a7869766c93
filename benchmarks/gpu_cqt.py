"""GPU benchmark of the constant-Q transform: the fused multirate CQT (Triton pyramid + octave kernels,
``CQT2010v2(backend='triton')``) vs our reference backend, our single-rate CQT on the fused STFT kernel
(``CQT1992v2(backend='triton')``) and nnAudio 0.3.4's ``CQT2010v2`` and ``CQT1992v2``, forward and forward+backward
(gradient w.r.t. the waveform).

Configurations: 84 bins (12 per octave) from 32.70 Hz at 22.05 kHz, magnitude output, hop 512 (kernel phases 1)
and hop 500 (phases up to 16 on the coarse octaves; nnAudio's CQT2010v2 needs a hop divisible by its downsampling
factors and fails there: its rows are missing); batch 1/16/64 × ``--seconds`` (10 s) of noise.

Timing: ``triton.testing.do_bench`` (warm-up, CUDA-event timing, median with 20/80th percentiles), every
implementation in the same run on the same device. Reported per row: median ms, ratios against nnAudio's
CQT2010v2 (the issue's goal: fused ÷ nnAudio ≤ 0.15) and our reference, achieved GB/s over the bytes a fused
CQT must move (waveform read + magnitudes written; backward also the output gradient read and the waveform
gradient written) with its fraction of the memory roofline, and each output's relative error against the float64
multirate reference (nnAudio's CQTs approximate the exact transform: their error is their distance to it; the
single-rate CQT is within ~3e-5 of the multirate one). Device, versions, precision settings and the commit are
stamped on the results.

Usage::

    python benchmarks/gpu_cqt.py --out benchmarks/results/h100            # full run on a GPU (about a minute)
    TRITON_INTERPRET=1 python benchmarks/gpu_cqt.py --out /tmp/b --smoke  # CPU: checks the script works
"""

from __future__ import annotations

import os
import sys

import torch

import nnaudio_fast as nf
from nnaudio_fast import functional as AF

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpu_fourier import _bench, _csv_text, _peak_gbs, _replace_text, _stamp, _step, parse_args  # noqa: E402  (one timing/stamping code for the GPU scripts)

FULL = dict(configs=(dict(name="cqt84 hop512", sr=22050, hop=512, fmin=32.70, n_bins=84),
                     dict(name="cqt84 hop500", sr=22050, hop=500, fmin=32.70, n_bins=84)),
            batches=(1, 16, 64), seconds=10.0)
SMOKE = dict(configs=(dict(name="cqt36 hop64 (smoke)", sr=4000, hop=64, fmin=200.0, n_bins=36),),
             batches=(1,), seconds=0.1)


def _layer(cls, cfg, device, **kw):
    return cls(sr=cfg["sr"], hop_length=cfg["hop"], fmin=cfg["fmin"], n_bins=cfg["n_bins"],
               output_format="Magnitude", verbose=False, **kw).to(device)


def _implementations(cfg, device, precisions):
    """name → (callable x -> magnitudes, arithmetic)."""
    impls = {}
    for p in precisions:
        def fused(x, layer=_layer(nf.CQT2010v2, cfg, device, backend="triton"), p=p):
            with _matmul_precision(p):
                return layer(x)
        impls[f"fused multirate[{p}]"] = (fused, {"exact": "3xTF32", "tf32": "TF32", "bf16": "bf16"}.get(p, p))
    impls["fused single-rate[exact]"] = (_layer(nf.CQT1992v2, cfg, device, backend="triton"), "3xTF32")
    impls["reference multirate"] = (_layer(nf.CQT2010v2, cfg, device, backend="reference"), "FP32 (cuBLAS)")
    try:
        from nnAudio.features import CQT1992v2, CQT2010v2

        kw = dict(sr=cfg["sr"], hop_length=cfg["hop"], fmin=cfg["fmin"], n_bins=cfg["n_bins"], verbose=False)
        impls["nnAudio CQT2010v2"] = (CQT2010v2(**kw).to(device), "TF32 (cuDNN conv1d default)")
        impls["nnAudio CQT1992v2"] = (CQT1992v2(**kw).to(device), "TF32 (cuDNN conv1d default)")
    except ImportError as exc:
        print(f"skipping nnAudio: {exc}", file=sys.stderr)
    return impls


class _matmul_precision:
    """``torch.set_float32_matmul_precision`` for the duration (the fused ops resolve their mode from it)."""

    NAMES = {"exact": "highest", "tf32": "high", "bf16": "medium"}

    def __init__(self, mode):
        self.mode = self.NAMES[mode]

    def __enter__(self):
        self.saved = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision(self.mode)

    def __exit__(self, *exc):
        torch.set_float32_matmul_precision(self.saved)


def _rel_err(impl, x, ref):
    with torch.no_grad():
        out = impl(x[:1]).double()
    if out.shape != ref.shape:  # nnAudio's frame count differs by one for some lengths: compare the common frames
        t = min(out.shape[-1], ref.shape[-1])
        out, ref = out[..., :t], ref[..., :t]
    return float((out - ref).norm() / ref.norm())


def run(args) -> list[dict]:
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    grid = SMOKE if args.smoke else FULL
    batches = args.batches or grid["batches"]
    seconds = args.seconds or grid["seconds"]
    precisions = args.precisions.split(",")
    peak = _peak_gbs(device, args.peak_gbs)
    stamp = _stamp(device, peak)
    rows = []
    gen = torch.Generator(device="cpu").manual_seed(0)
    for cfg in grid["configs"]:
        length = int(round(seconds * cfg["sr"]))
        n_frames = 1 + length // cfg["hop"]
        impls = _implementations(cfg, device, precisions)
        for batch in batches:
            x = torch.randn(batch, length, generator=gen).to(device)
            ref = AF.cqt(x[:1].double(), sr=cfg["sr"], hop_length=cfg["hop"], fmin=cfg["fmin"], n_bins=cfg["n_bins"],
                         backend="reference")
            for backward in (False, True):
                times = {}
                for name, (impl, _) in impls.items():
                    try:
                        times[name] = _bench(_step(impl, x, backward), device, args.smoke)
                    except Exception as exc:  # a peer failing (e.g. out of memory) must not stop the run
                        print(f"{cfg['name']} B={batch} {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                nna = times.get("nnAudio CQT2010v2", (float("nan"),))[0]
                refm = times.get("reference multirate", (float("nan"),))[0]
                useful = 4 * (batch * length + batch * cfg["n_bins"] * n_frames) * (2 if backward else 1)
                for name, (med, lo, hi) in times.items():
                    gbs = useful / (med * 1e-3) / 1e9
                    rows.append({
                        "config": cfg["name"], "sr": cfg["sr"], "hop": cfg["hop"], "n_bins": cfg["n_bins"],
                        "batch": batch, "seconds": seconds, "pass": "fwd+bwd" if backward else "fwd", "impl": name,
                        "arithmetic": impls[name][1], "median_ms": round(med, 4), "p20_ms": round(lo, 4),
                        "p80_ms": round(hi, 4), "vs_nnAudio_CQT2010v2": round(med / nna, 3),
                        "vs_reference": round(med / refm, 3), "useful_GBps": round(gbs, 1),
                        "frac_mem_roofline": round(gbs / peak, 3),
                        "rel_err_vs_f64": "" if backward else round(_rel_err(impls[name][0], x, ref), 9),
                    })
                    print(f"{cfg['name']:20s} B={batch:<3d} {rows[-1]['pass']:8s} {name:26s} {med:9.3f} ms  "
                          f"x{rows[-1]['vs_nnAudio_CQT2010v2']:<6} vs nnAudio", flush=True)
            _write(args.out, rows, stamp)  # after every (configuration, batch): a run stopped part-way keeps them
    return rows


def _write(out_dir, rows, stamp):
    os.makedirs(out_dir, exist_ok=True)
    _replace_text(os.path.join(out_dir, "cqt.csv"), _csv_text(rows))
    cols = ["config", "batch", "pass", "impl", "arithmetic", "median_ms", "vs_nnAudio_CQT2010v2", "vs_reference",
            "useful_GBps", "frac_mem_roofline", "rel_err_vs_f64"]
    lines = ["# Constant-Q transform benchmark", ""]
    lines += [f"- {k}: {v}" for k, v in stamp.items()]
    lines += ["", "Medians of triton.testing.do_bench; ratios against peers timed in the same run. useful_GBps "
              "counts only the bytes a fused CQT must move; rel_err_vs_f64 is against the float64 multirate "
              "reference (batch element 0).", ""]
    lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    _replace_text(os.path.join(out_dir, "cqt.md"), "\n".join(lines) + "\n")


def main(argv=None):
    return run(parse_args(argv, __doc__, "cqt", "exact,tf32"))


if __name__ == "__main__":
    main()
