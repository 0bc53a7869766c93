"""Output: a markdown table (stdout and file), a CSV and a PNG plot, each stamped with the environment."""

from __future__ import annotations

import csv
import math
import os
import platform

import torch

FIELDS = ["case", "family", "config", "n_fft", "hop", "batch", "seconds", "mode", "peer", "precision", "median_ms",
          "vs_nnaudio_fast", "rel_err", "snr_db", "reps", "note"]


def environment(device: str) -> dict:
    env = {"torch": torch.__version__, "python": platform.python_version(), "threads": torch.get_num_threads(),
           "float32_matmul_precision": torch.get_float32_matmul_precision()}
    try:
        import triton

        env["triton"] = triton.__version__
    except Exception:
        env["triton"] = "not installed"
    if device == "cuda":
        env["device"] = torch.cuda.get_device_name()
        env["cudnn.allow_tf32"] = torch.backends.cudnn.allow_tf32
        env["cuda.matmul.allow_tf32"] = torch.backends.cuda.matmul.allow_tf32
    else:
        model = platform.processor() or "cpu"
        try:
            with open("/proc/cpuinfo") as fh:
                model = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
        except (OSError, StopIteration):
            pass
        env["device"] = f"{model} ({os.cpu_count()} logical cores)"
    return env


def stamp(env: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in env.items())


def _fmt(v, digits=3):
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return f"{v:.{digits}g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v)


def markdown(rows: list[dict], env: dict) -> str:
    """One table; inverse transforms (``snr_db`` rows) report their reconstruction SNR in an extra column."""
    snr = any(r.get("snr_db", "") != "" for r in rows)
    head = "| case | mode | peer | precision | median ms | × nnaudio_fast | rel. err vs float64 |"
    head += " SNR dB (inverse) |" if snr else ""
    out = [f"Environment: {stamp(env)}", "", head + " note |", "|---" * (8 + snr) + "|"]
    for r in rows:
        line = (f"| {r['case']} | {r['mode']} | {r['peer']} | {r['precision']} | {_fmt(r['median_ms'])} | "
                f"{_fmt(r['vs_nnaudio_fast'])} | {_fmt(r['rel_err'], 2)} |")
        line += f" {_fmt(r.get('snr_db', ''))} |" if snr else ""
        out.append(line + f" {r['note']} |")
    return "\n".join(out) + "\n"


def write_csv(rows: list[dict], path: str, env: dict) -> None:
    with open(path, "w", newline="") as fh:
        fh.write(f"# {stamp(env)}\n")
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in FIELDS})


def read_csv(path: str) -> tuple[list[dict], str]:
    """Rows written by :func:`write_csv` (numbers as numbers) and the environment stamp line."""
    with open(path) as fh:
        lines = fh.read().splitlines()
    stamp_line = lines[0][2:] if lines and lines[0].startswith("# ") else ""
    rows = list(csv.DictReader([line for line in lines if not line.startswith("#")]))
    for r in rows:
        for k in ("n_fft", "hop", "batch", "reps"):
            r[k] = int(r[k]) if r.get(k) not in (None, "") else ""
        for k in ("seconds", "median_ms", "vs_nnaudio_fast", "rel_err", "snr_db"):
            r[k] = float(r[k]) if r.get(k) not in (None, "") else ""
    return rows, stamp_line


def plot(rows: list[dict], path: str, env) -> bool:
    """Forward time per peer: against n_fft for the mel cases, and against batch size. False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fwd = [r for r in rows if r["mode"] == "fwd" and isinstance(r["median_ms"], float)]
    peers = sorted({r["peer"] for r in fwd})
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    top_batch = max((r["batch"] for r in fwd), default=1)
    for peer in peers:
        pts = sorted((r["n_fft"], r["median_ms"]) for r in fwd
                     if r["peer"] == peer and r["family"] == "mel" and r["batch"] == top_batch)
        if pts:
            axes[0].plot(*zip(*pts), marker="o", label=peer)
        pts = sorted((r["batch"], r["median_ms"]) for r in fwd if r["peer"] == peer and r["family"] == "mel"
                     and r["config"] == "speech" and r["n_fft"] == 512)
        if pts:
            axes[1].plot(*zip(*pts), marker="o", label=peer)
    axes[0].set(xscale="log", yscale="log", xlabel="n_fft", ylabel="median forward time (ms)",
                title=f"Mel spectrogram, batch {top_batch}")
    axes[1].set(xscale="log", yscale="log", xlabel="batch", ylabel="median forward time (ms)",
                title="Mel 16 kHz, n_fft 512")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(env if isinstance(env, str) else stamp(env), fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
