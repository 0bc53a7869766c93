"""Run the benchmark suite: ``python -m benchmarks [--quick | --tiny] [--case NAME] [--device cpu|cuda] [--out DIR]``.

Prints a markdown table and writes ``results.md``, ``results.csv`` and ``results.png`` to ``--out`` (the table and
the CSV after every case, so a run stopped part-way keeps what it measured; ``--time-limit`` stops it cleanly).
``--case mel --tiny`` runs one configuration of one family at a tiny size (a smoke test in seconds).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import replace

import numpy as np
import torch

from . import cases as cases_mod
from . import peers as peers_mod
from . import report
from .timing import median_time


def _rel_err(out, ref) -> float:
    out = torch.as_tensor(np.asarray(out) if not isinstance(out, torch.Tensor) else out.detach())
    out = out.to(device="cpu", dtype=torch.float64)
    ref = ref.detach().to(device="cpu", dtype=torch.float64)
    if out.shape != ref.shape:
        return float("nan")
    return float((out - ref).norm() / ref.norm())


def _snr_db(out, ref) -> float:
    """``10·log10(‖ref‖² / ‖out − ref‖²)`` over the whole batch."""
    out = torch.as_tensor(np.asarray(out) if not isinstance(out, torch.Tensor) else out.detach())
    out = out.to(device="cpu", dtype=torch.float64)
    ref = ref.detach().to(device="cpu", dtype=torch.float64)
    if out.shape != ref.shape:
        return float("nan")
    return float(10.0 * torch.log10(ref.square().sum() / (out - ref).square().sum()))


_METRICS = {"rel_err": _rel_err, "snr_db": _snr_db}


class Progress:
    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled, self.t0 = total, 0, enabled, time.perf_counter()

    def step(self, what: str) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            el = time.perf_counter() - self.t0
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {el:5.0f}s "
                             f"{what[:70]:<70}")
            sys.stderr.flush()
            if self.done == self.total:
                sys.stderr.write("\n")


#: ``--tiny``: the first case of each family at batch 1 and this many seconds (the CQT families need a second: their
#: lowest bins' kernels are longer than half a second at 22.05 kHz).
TINY_SECONDS = {"cqt": 1.0, "icqt": 1.0}


def tiny_cases(device: str) -> list:
    """One case per family (the quick grid's) at batch 1 and a fraction of a second."""
    return [replace(c, batch=1, seconds=TINY_SECONDS.get(c.family, 0.25)) for c in cases_mod.quick_cases(device)]


def select_cases(case_list, names: str) -> list:
    """``names``: comma-separated family names (each picks that family's first case) or exact case labels."""
    picked = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        match = [c for c in case_list if c.label == name] or [c for c in case_list if c.family == name][:1]
        if not match:
            raise SystemExit(f"--case {name!r}: no such family or case label; choose from "
                             f"{sorted({c.family for c in case_list})} or {[c.label for c in case_list]}")
        picked += [c for c in match if c not in picked]
    return picked


def run(case_list, peer_list, device: str, modes, quick: bool, progress: Progress, tiny: bool = False,
        on_case=None, time_limit: float | None = None) -> list[dict]:
    """Time every (case, mode, peer); ``on_case(rows)`` is called after each case with all rows so far; past
    ``time_limit`` seconds no further case is started (the skipped ones are reported on stderr)."""
    rows = []
    t_start = time.perf_counter()
    if tiny:  # a median of 3, nothing more: the smoke test checks that a case runs and what it reports
        timing = dict(warmup=1, min_reps=3, budget_s=0.0, max_reps=3)
    elif quick:
        timing = dict(warmup=1, min_reps=2, budget_s=0.2, max_reps=5)
    elif device == "cpu":  # seconds per call for the slowest peers: fewer repetitions, still a median of >= 3
        timing = dict(warmup=1, min_reps=3, budget_s=1.0, max_reps=20)
    else:
        timing = dict()
    gen = torch.Generator(device="cpu").manual_seed(1234)
    for i_case, case in enumerate(case_list):
        if time_limit is not None and time.perf_counter() - t_start > time_limit:
            left = [c.label for c in case_list[i_case:]]
            print(f"time limit {time_limit:g} s reached: {len(left)} of {len(case_list)} cases not run: {left}",
                  file=sys.stderr)
            break
        inputs = [torch.randn(case.batch, case.samples, generator=gen).to(device) for _ in range(2)]
        if case.band is not None:
            inputs = [peers_mod.band_limit(x, case.sr, case.band) for x in inputs]
        try:
            ref = peers_mod._reference_features(case, inputs[0][:2])
        except Exception as exc:  # the reference lacks this family in this build
            ref, ref_note = None, f"no reference: {exc}"
        for mode in modes:
            group = []
            for peer in peer_list:
                if device not in peer.devices or (mode == "fwd+bwd" and not peer.backward):
                    continue
                progress.step(f"{case.label} {mode} {peer.name}")
                row = dict(case=case.label, family=case.family, config=case.config, n_fft=case.n_fft, hop=case.hop,
                           batch=case.batch, seconds=case.seconds, mode=mode, peer=peer.name,
                           precision=peer.precision, median_ms="", vs_nnaudio_fast="", rel_err="", snr_db="",
                           reps="", note="")
                try:
                    fn = peer.build(case, device, mode == "fwd+bwd")
                    if fn is None:
                        continue
                    args = inputs
                    with torch.no_grad():
                        if isinstance(fn, peers_mod.Inverse):  # its input is made untimed: only the inverse counts
                            args = [fn.prepare(x) for x in inputs]
                        out = fn(args[0])
                        if isinstance(fn, peers_mod.Inverse):
                            out = fn.evaluate(out)
                    out = out[:2] if isinstance(out, (torch.Tensor, np.ndarray)) else out
                    row[case.metric] = _METRICS[case.metric](out, ref) if ref is not None else float("nan")
                    if ref is None:
                        row["note"] = ref_note
                    if mode == "fwd":
                        def step(x, fn=fn):
                            with torch.no_grad():
                                return fn(x)
                    else:
                        def step(x, fn=fn):
                            fn(x).sum().backward()
                    t, reps = median_time(step, args, device, **timing)
                    row["median_ms"], row["reps"] = t * 1e3, reps
                except Exception as exc:
                    row["note"] = f"failed: {type(exc).__name__}: {str(exc)[:120]}"
                group.append(row)
            ours = next((r["median_ms"] for r in group if r["peer"] == "nnaudio_fast" and r["median_ms"] != ""), None)
            for r in group:
                if ours and r["median_ms"] != "":
                    r["vs_nnaudio_fast"] = r["median_ms"] / ours
            rows.extend(group)
        if on_case is not None:
            on_case(rows)
    return rows


def _write_atomic(path: str, text: str) -> None:
    with open(path + ".tmp", "w") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true", help="one small case per family, few repetitions (< 1 min)")
    p.add_argument("--tiny", action="store_true",
                   help="one case per family at batch 1 x 0.25 s (CQT: 1 s), a median of 3 (with --case: seconds)")
    p.add_argument("--case", default=None,
                   help="comma-separated families (each: its first case) or exact case labels to run")
    p.add_argument("--time-limit", type=float, default=None, metavar="S",
                   help="start no case after S seconds (what ran is still written)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", default=None, help="directory for results.md/.csv/.png (default: print only)")
    p.add_argument("--only", default=None, help="comma-separated families to run (stft,mel,logmel,mfcc,cqt,icqt,griffinlim)")
    p.add_argument("--peers", default=None, help="comma-separated peer names to run (default: all)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--replot", metavar="DIR", default=None, help="redraw DIR/results.png from DIR/results.csv")
    args = p.parse_args(argv)
    if args.replot:
        rows, env_line = report.read_csv(os.path.join(args.replot, "results.csv"))
        return 0 if report.plot(rows, os.path.join(args.replot, "results.png"), env_line) else 1

    grid = tiny_cases if args.tiny else (cases_mod.quick_cases if args.quick else cases_mod.full_cases)
    case_list = grid(args.device)
    if args.only:
        fams = set(args.only.split(","))
        case_list = [c for c in case_list if c.family in fams]
    if args.case:
        case_list = select_cases(case_list, args.case)
    peer_list = peers_mod.peers(args.device)
    if args.peers:
        names = set(args.peers.split(","))
        peer_list = [q for q in peer_list if q.name in names]
    modes = ("fwd", "fwd+bwd")
    total = sum(1 for c in case_list for m in modes for q in peer_list
                if args.device in q.devices and (m == "fwd" or q.backward))
    env = report.environment(args.device)

    def write_tables(rows):
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            _write_atomic(os.path.join(args.out, "results.md"), report.markdown(rows, env))
            tmp = os.path.join(args.out, "results.csv.tmp")
            report.write_csv(rows, tmp, env)
            os.replace(tmp, os.path.join(args.out, "results.csv"))

    rows = run(case_list, peer_list, args.device, modes, args.quick,
               Progress(total, not args.no_progress and sys.stderr.isatty() or os.environ.get("BENCH_PROGRESS") == "1"),
               tiny=args.tiny, on_case=write_tables, time_limit=args.time_limit)
    print(report.markdown(rows, env))
    write_tables(rows)
    if args.out:
        report.plot(rows, os.path.join(args.out, "results.png"), env)
    bad = [r for r in rows if r["note"].startswith("failed") or
           any(isinstance(r[m], float) and not math.isfinite(r[m]) for m in _METRICS)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
