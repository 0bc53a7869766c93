"""The benchmark suite's quick mode runs every case with every peer and reports finite accuracies."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_runs_every_case(tmp_path):
    r = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--no-progress", "--out", str(tmp_path)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    with open(tmp_path / "results.csv") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    from benchmarks import cases

    expected_cases = {c.label for c in cases.quick_cases("cpu")}
    assert {r["case"] for r in rows} == expected_cases
    for row in rows:
        assert not row["note"].startswith("failed"), row
        assert float(row["median_ms"]) > 0, row
        if row["family"] == "icqt":  # a reconstruction: SNR in dB against the input, no rel_err
            assert row["rel_err"] == "", row
            ours = row["peer"].startswith("nnaudio_fast")
            assert float(row["snr_db"]) > (40.0 if ours else 0.0), row  # hop 128: ours ~69 dB, librosa ~18 dB
            continue
        if row["family"] == "griffinlim":  # spectral convergence after 32 iterations: the same algorithm everywhere
            assert 0.0 < float(row["rel_err"]) < 0.3, row
            continue
        # librosa's and nnAudio's CQTs are approximations of the exact transform (1e-2 .. 1e-1 on 1 s of noise)
        loose = row["family"] == "cqt" and not row["peer"].startswith("nnaudio_fast")
        assert row["snr_db"] == "" and float(row["rel_err"]) < (0.5 if loose else 1e-3), row
    ran = {r["peer"] for r in rows}
    for must in ("nnaudio_fast", "nnaudio_fast[reference]", "torch.stft+mel", "torch.compile(stft+mel)",
                 "nnAudio 0.3.4", "librosa"):
        assert must in ran
    assert (tmp_path / "results.png").stat().st_size > 10_000
    assert "| case | mode | peer |" in (tmp_path / "results.md").read_text()
    assert {"icqt", "griffinlim"} <= {r["family"] for r in rows}
    gl = {r["peer"]: float(r["rel_err"]) for r in rows if r["family"] == "griffinlim"}
    assert abs(gl["nnaudio_fast"] - gl["librosa"]) < 0.01 * gl["librosa"]  # same iterates as librosa
