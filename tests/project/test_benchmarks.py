"""The benchmark suite's command line runs one tiny case (``--case mel --tiny``) with every peer and reports a timing
row per (mode, peer) with a positive median and its accuracy against the float64 reference; case selection."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_one_tiny_case_reports_timings_and_errors(tmp_path):
    r = subprocess.run([sys.executable, "-m", "benchmarks", "--case", "mel", "--tiny", "--device", "cpu",
                        "--no-progress", "--out", str(tmp_path)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    with open(tmp_path / "results.csv") as fh:
        lines = fh.readlines()
    assert lines[0].startswith("# torch ")  # the environment stamp
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    assert {row["case"] for row in rows} == {"mel speech sr16000 n400/100 m80 B1x0.25s"}, rows
    assert {row["mode"] for row in rows} == {"fwd", "fwd+bwd"}
    for row in rows:
        assert not row["note"], row
        assert float(row["median_ms"]) > 0 and int(row["reps"]) == 3, row
        assert row["snr_db"] == "" and 0 < float(row["rel_err"]) < 1e-5, row  # float32 against float64
        assert float(row["vs_nnaudio_fast"]) > 0, row
    ours = [row for row in rows if row["peer"] == "nnaudio_fast"]
    assert len(ours) == 2 and all(float(row["vs_nnaudio_fast"]) == 1.0 for row in ours)
    ran = {(row["peer"], row["mode"]) for row in rows}
    for peer in ("nnaudio_fast", "nnaudio_fast[reference]", "torch.stft+mel", "torch.compile(stft+mel)",
                 "nnAudio 0.3.4"):
        assert {(peer, "fwd"), (peer, "fwd+bwd")} <= ran, peer
    assert ("librosa", "fwd") in ran and ("librosa", "fwd+bwd") not in ran  # numpy: no backward
    assert "| case | mode | peer |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "results.png").stat().st_size > 10_000


def test_case_selection():
    from benchmarks.__main__ import select_cases, tiny_cases

    tiny = tiny_cases("cpu")
    assert len({c.family for c in tiny}) == len(tiny)  # one case per family
    assert all(c.batch == 1 and c.seconds <= 1.0 for c in tiny)
    assert [c.family for c in select_cases(tiny, "mel,cqt")] == ["mel", "cqt"]
    assert select_cases(tiny, tiny[0].label) == [tiny[0]]
    with pytest.raises(SystemExit, match="no such family"):
        select_cases(tiny, "nope")


def test_cpu_fast_path_table_runs(tmp_path):
    """The CPU fast-path benchmark's smoke run: one small size of one feature, every contender timed."""
    out = tmp_path / "fast"
    r = subprocess.run([sys.executable, "-m", "benchmarks.cpu_fast_path", "--quick", "--only", "whisper", "--out",
                        str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    import json

    data = json.loads((tmp_path / "fast.json").read_text())
    rows = data["timings"]
    assert {row["contender"] for row in rows} == {"nnaudio_fast", "torch pipeline"}
    assert all(row["ms"] > 0 for row in rows)
    assert [row["peer_over_ours"] for row in rows if row["contender"] == "nnaudio_fast"] == [1.0]
    assert "| Whisper log-mel 400/160/80 | 1 × 0.1 s |" in (tmp_path / "fast.md").read_text()


def test_streaming_table_runs(tmp_path):
    """The streaming benchmark's smoke run: the Mel stream against bare torch, and the short-input layers."""
    import json

    out = tmp_path / "stream"
    r = subprocess.run([sys.executable, "-m", "benchmarks.streaming", "--quick", "--only", "mel", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    data = json.loads((tmp_path / "stream.json").read_text())
    assert {row["contender"] for row in data["streams"]} == {"stream", "bare torch"}
    assert all(row["us"] > 0 and row["real_time_factor"] > 0 for row in data["streams"])
    assert {row["feature"] for row in data["short_inputs"]} == {"Mel 1024/256/128", "Whisper log-mel 400/160/80"}
