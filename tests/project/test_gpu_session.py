"""benchmarks/gpu_session.sh, the one prepared command for a lent GPU machine, checked on the CPU: its dry run
(TRITON_INTERPRET=1, tiny sizes, the current environment) ends well, and whatever happens it leaves what the device
tool can bring back (at most 8 files, at most two folders down, plain names): one archive and a summary."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_session.sh"
NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def _session(tmp_path, **env):
    out = tmp_path / "out"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGET_")}
    full_env.update({"OUT": str(out), "TMPDIR": str(tmp_path), "PYTHON": sys.executable, **env})
    for k in ("TOTAL_BUDGET", "PACK_RESERVE", "MIN_STAGE"):
        if k not in env:
            full_env.pop(k, None)
    r = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=420)
    return r, out


def _check_returnable(out: Path) -> None:
    """What the device tool brings back: <= 8 files, each at most two folders below $OUT, plain names."""
    entries = list(out.rglob("*"))
    files = [p for p in entries if p.is_file()]
    assert 1 <= len(files) <= 8, files
    for p in entries:
        rel = p.relative_to(out)
        assert not p.is_symlink() and (p.is_file() or p.is_dir()), rel
        assert all(NAME.match(part) for part in rel.parts), rel
        assert len(rel.parts) - (1 if p.is_file() else 0) <= 2, rel
    assert (out / "results.tar.gz").is_file() and (out / "summary.txt").is_file()


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {os.path.normpath(m.name): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def _rows(text: bytes) -> list[dict]:
    return list(csv.DictReader(line for line in io.StringIO(text.decode()) if not line.startswith("#")))


@pytest.mark.slow
def test_dry_run_packs_tests_and_benchmarks_into_one_archive(tmp_path):
    r, out = _session(tmp_path, DRY_RUN="1")
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-3000:]
    _check_returnable(out)

    files = _members(out / "results.tar.gz")
    expected = {"summary.txt", "environment.txt", "fourier/fourier.csv", "fourier/fourier.md", "cqt/cqt.csv",
                "cqt/cqt.md", "suite/results.csv", "suite/results.md", "logs/tests_gpu.log", "logs/tests_rest.log"}
    expected |= {f"logs/{s}.log" for s in ("install", "env", "fourier", "cqt", "suite")}
    assert expected <= set(files), sorted(files)

    # the GPU benchmark scripts end to end (tiny shapes, the interpreter): their exact-mode rows match float64
    fourier = _rows(files["fourier/fourier.csv"])
    assert {r["pass"] for r in fourier if r["impl"] == "fused[exact]"} == {"fwd", "fwd+bwd"}
    assert all(float(r["median_ms"]) > 0 for r in fourier)
    assert all(float(r["rel_err_vs_f64"]) <= 1e-5 for r in fourier if r["impl"] == "fused[exact]" and r["pass"] == "fwd")
    assert "| config |" in files["fourier/fourier.md"].decode()
    cqt = _rows(files["cqt/cqt.csv"])
    assert {r["pass"] for r in cqt if r["impl"] == "fused multirate[exact]"} == {"fwd", "fwd+bwd"}
    assert all(float(r["rel_err_vs_f64"]) <= 1e-5 for r in cqt
               if r["impl"] == "fused multirate[exact]" and r["pass"] == "fwd")
    assert {"reference multirate", "fused single-rate[exact]"} <= {r["impl"] for r in cqt}
    assert all(float(r["median_ms"]) > 0 for r in cqt) and "| config |" in files["cqt/cqt.md"].decode()
    suite = _rows(files["suite/results.csv"])
    assert suite and all(float(r["median_ms"]) > 0 and float(r["rel_err"]) < 1e-3 for r in suite), suite
    assert {r["peer"] for r in suite} >= {"nnaudio_fast", "torch.stft+mel"}
    log = files["logs/tests_gpu.log"].decode()
    assert re.search(r"^tests/backends/test_triton\.py::\S+ PASSED", log, re.M) and " FAILED" not in log, log[-3000:]

    summary = (out / "summary.txt").read_text()
    assert summary == files["summary.txt"].decode()  # the archive's copy is the final one
    assert "mode dry run" in summary
    assert re.search(r"^device: cpu: .+", summary, re.M), summary
    assert f"torch {torch.__version__}," in summary and "triton " in summary, summary
    assert "float32_matmul_precision highest" in summary and "TRITON_INTERPRET 1" in summary, summary
    for stage in ("install", "env", "tests_gpu", "fourier", "cqt", "suite", "tests_rest"):
        assert re.search(rf"^{stage} +ok +0 +\d+\.\d +\d+$", summary, re.M), (stage, summary)
    assert re.search(r"^tests_gpu: +\d+ passed$", summary, re.M), summary
    assert re.search(r"^tests_rest: +\d+ passed$", summary, re.M), summary


def test_failing_and_timed_out_stages_still_leave_the_archive(tmp_path):
    """A stand-in Python that hangs in the env stage and fails every other: each stage is recorded (timeout,
    failed, skipped once the total budget is spent) and the archive and summary are still written."""
    fake = tmp_path / "fake-python"
    fake.write_text('#!/usr/bin/env bash\ncase "$1" in *env.py) exec sleep 60 ;; esac\n'
                    'echo "fake python: $*" >&2\nexit 3\n')
    fake.chmod(0o755)
    r, out = _session(tmp_path, DRY_RUN="1", PYTHON=str(fake), BUDGET_ENV="2", MIN_STAGE="1",
                      TOTAL_BUDGET="20", PACK_RESERVE="1", BUDGET_TESTS_REST="100")
    assert r.returncode != 0, r.stdout[-3000:]
    _check_returnable(out)
    summary = (out / "summary.txt").read_text()
    assert re.search(r"^install +ok +0 ", summary, re.M), summary
    assert re.search(r"^env +timeout +124 ", summary, re.M), summary
    assert "device: unknown" in summary, summary
    assert re.search(r"^fourier +failed +3 ", summary, re.M), summary
    assert re.search(r"^tests_rest +(failed +3|skipped) ", summary, re.M), summary
    files = _members(out / "results.tar.gz")
    assert "fake python: benchmarks/gpu_fourier.py" in files["logs/fourier.log"].decode()
    assert {"summary.txt", "logs/env.log", "logs/tests_gpu.log"} <= set(files)


def test_terminated_session_packs_the_interrupted_stage(tmp_path):
    """A TERM (what a time limit sends) in the middle of a stage: the stage is stopped and recorded, and the
    archive holds its log, although no stage has finished."""
    import signal
    import time

    fake = tmp_path / "fake-python"
    fake.write_text('#!/usr/bin/env bash\necho "fake python started" >&2\nexec sleep 60\n')
    fake.chmod(0o755)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGET_")}
    env.update({"OUT": str(out), "TMPDIR": str(tmp_path), "PYTHON": str(fake), "DRY_RUN": "1"})
    proc = subprocess.Popen(["bash", str(SCRIPT)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        logs = "gpu_session.*/results/logs/env.log"
        while not any("fake python started" in p.read_text() for p in tmp_path.glob(logs)):
            assert time.monotonic() < deadline and proc.poll() is None, "the env stage did not start"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, stdout[-3000:]
    _check_returnable(out)
    summary = (out / "summary.txt").read_text()
    assert re.search(r"^install +ok ", summary, re.M) and re.search(r"^env +interrupted ", summary, re.M), summary
    assert "fake python started" in _members(out / "results.tar.gz")["logs/env.log"].decode()
    assert not list(tmp_path.glob("gpu_session.*")), "the script's scratch folder is left behind"
