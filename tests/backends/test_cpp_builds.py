"""The native spectrogram (csrc/frames.cpp) built the other way a user's compiler may build it: the baseline target
only (``-DNNAF_NO_CLONES``: what a machine without AVX2 runs) with the portable lanes (``-DNNAF_PORTABLE_LANES``:
arrays instead of GCC's vector extension, what MSVC compiles). Every lane does the same IEEE operations in the same
order and multiply-adds are never fused, so it gives the installed build's bits, except the float32 log, which is
the C library's there (within float32's rounding)."""

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
def portable(tmp_path_factory):
    """The extension compiled with ``-DNNAF_NO_CLONES -DNNAF_PORTABLE_LANES`` (its two sources in parallel)."""
    out = tmp_path_factory.mktemp("portable")
    flags = ["-DNNAF_NO_CLONES", "-DNNAF_PORTABLE_LANES", "-O1", "-fPIC", "-std=c++17", "-fno-math-errno",
             "-ffp-contract=off", "-pthread", f"-I{pybind11.get_include()}", f"-I{sysconfig.get_paths()['include']}"]
    objects, jobs = [], []
    for source in ("multirate.cpp", "frames.cpp"):
        objects.append(str(out / (source + ".o")))
        jobs.append(subprocess.Popen(["g++", *flags, "-c", str(ROOT / "csrc" / source), "-o", objects[-1]],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for job in jobs:
        log, _ = job.communicate()
        assert job.returncode == 0, log[-3000:]
    target = out / f"_multirate{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run(["g++", "-shared", "-pthread", *objects, "-o", str(target)], check=True)
    spec = importlib.util.spec_from_file_location("_multirate", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_fft,log", [(400, 1.0), (400, 0.0), (63, 0.0), (1024, 0.0)])
def test_portable_baseline_build_agrees(portable, rng, dtype, n_fft, log):
    name = "run_f32" if dtype == np.float32 else "run_f64"
    x = rng.standard_normal((2, 3000)).astype(dtype)
    bins = n_fft // 2 + 1
    spans = np.array([[0, bins], [3, bins // 3], [bins // 2, bins]], dtype=np.int64)
    constants = (np.hanning(n_fft), 160, 1, spans, rng.random(int((spans[:, 1] - spans[:, 0]).sum())), True, 2.0,
                 log, 1e-10)
    args = (x, -(n_fft // 2), 3000 // 160 + 1, 2)
    installed = getattr(CF._ext.SpectrogramPlan(*constants), name)(*args)
    other = getattr(portable.SpectrogramPlan(*constants), name)(*args)
    assert np.isfinite(installed).all()
    if dtype == np.float32 and log:  # our vectorised log against the C library's
        assert np.abs(other - installed).max() <= 1e-6 * np.abs(installed).max()
    else:
        assert np.array_equal(other, installed)
