"""The native spectrogram (csrc/frames.cpp) built the other ways a user's compiler may build it: the baseline target
only (``-DNNAF_NO_CLONES``: what a machine without AVX2 runs) gives the same bits as the installed build, and the
portable lanes (``-DNNAF_PORTABLE_LANES``: arrays instead of GCC's vector extension, what MSVC compiles) the same
values within float32's rounding (its float32 log is the C library's)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from nnaudio_fast.cpp import fourier as CF

ROOT = Path(__file__).resolve().parents[2]
pybind11 = pytest.importorskip("pybind11")
pytestmark = [
    pytest.mark.skipif(CF._ext is None, reason="the C++ extension is not built"),
    pytest.mark.skipif(shutil.which("g++") is None or sys.platform == "win32", reason="needs g++"),
]


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """The extension compiled with each variant's macro, in parallel; ``{macro: module}``."""
    out = tmp_path_factory.mktemp("builds")
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    includes = [f"-I{pybind11.get_include()}", f"-I{sysconfig.get_paths()['include']}"]
    jobs = {}
    for macro in ("NNAF_NO_CLONES", "NNAF_PORTABLE_LANES"):
        target = out / macro / f"_multirate{suffix}"
        target.parent.mkdir()
        cmd = ["g++", f"-D{macro}", "-O1", "-shared", "-fPIC", "-std=c++17", "-fno-math-errno", "-ffp-contract=off",
               "-pthread", *includes, str(ROOT / "csrc/multirate.cpp"), str(ROOT / "csrc/frames.cpp"), "-o",
               str(target)]
        jobs[macro] = (target, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    modules = {}
    for macro, (target, job) in jobs.items():
        log, _ = job.communicate()
        assert job.returncode == 0, log[-3000:]
        spec = importlib.util.spec_from_file_location("_multirate", target)
        modules[macro] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(modules[macro])
    return modules


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_fft,log", [(400, 1.0), (63, 0.0), (1024, 0.0)])
def test_native_builds_agree(variants, rng, dtype, n_fft, log):
    name = "run_f32" if dtype == np.float32 else "run_f64"
    x = rng.standard_normal((2, 3000)).astype(dtype)
    bins = n_fft // 2 + 1
    spans = np.array([[0, bins], [3, bins // 3], [bins // 2, bins]], dtype=np.int64)
    constants = (np.hanning(n_fft), 160, 1, spans, rng.random(int((spans[:, 1] - spans[:, 0]).sum())), True, 2.0,
                 log, 1e-10)
    args = (x, -(n_fft // 2), 3000 // 160 + 1, 2)

    def run(module):
        return getattr(module.SpectrogramPlan(*constants), name)(*args)

    installed = run(CF._ext)
    assert np.isfinite(installed).all()
    assert np.array_equal(run(variants["NNAF_NO_CLONES"]), installed)
    portable = run(variants["NNAF_PORTABLE_LANES"])
    bound = 1e-6 if dtype == np.float32 else 1e-13
    assert np.abs(portable - installed).max() <= bound * np.abs(installed).max()
