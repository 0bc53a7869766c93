"""Build script: packages (the top-level ``kernels/`` and ``benchmarks/`` folders install as
``nnaudio_fast.kernels`` and ``nnaudio_fast.benchmarks``) and the optional C++ extension
``nnaudio_fast._multirate`` (pybind11, no libtorch: the multirate CQT's octave pyramid, and fused spectrograms
in one call, vectorised over frames).

The extension is optional: if it cannot be built (no compiler, no pybind11) the package installs without it and
falls back to the PyTorch reference. Set ``NNAUDIO_FAST_REQUIRE_EXT=1`` (CI does) to make a failed build an error.
"""

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

REQUIRE_EXT = os.environ.get("NNAUDIO_FAST_REQUIRE_EXT", "") == "1"


def _extensions():
    try:
        from pybind11.setup_helpers import Pybind11Extension
    except ImportError as exc:
        if REQUIRE_EXT:
            raise RuntimeError(f"NNAUDIO_FAST_REQUIRE_EXT=1 but pybind11 is not importable: {exc}") from exc
        print("nnaudio_fast: pybind11 not found, building without the C++ extension", file=sys.stderr)
        return []
    unix = sys.platform != "win32"
    return [
        Pybind11Extension(
            "nnaudio_fast._multirate",
            ["csrc/multirate.cpp", "csrc/frames.cpp"],
            depends=["csrc/pool.h"],  # rebuilt when it changes, shipped in the sdist
            cxx_std=17,
            extra_compile_args=["-O3", "-fno-math-errno", "-ffp-contract=off", "-pthread"] if unix else ["/O2"],
            extra_link_args=["-pthread"] if unix else [],
        )
    ]


class OptionalBuildExt(build_ext):
    """Builds the extension, or warns and skips it (unless ``NNAUDIO_FAST_REQUIRE_EXT=1``)."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # compiler missing, build failure, ...
            self._skip(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._skip(exc)

    @staticmethod
    def _skip(exc):
        if REQUIRE_EXT:
            raise
        print(f"nnaudio_fast: building the C++ extension failed ({exc}); the package falls back to PyTorch",
              file=sys.stderr)


setup(
    packages=["nnaudio_fast", "nnaudio_fast.bases", "nnaudio_fast.features", "nnaudio_fast.functional",
              "nnaudio_fast.reference", "nnaudio_fast.cpp", "nnaudio_fast.transforms", "nnaudio_fast.kernels",
              "nnaudio_fast.benchmarks"],
    package_dir={"nnaudio_fast": "nnaudio_fast", "nnaudio_fast.kernels": "kernels",
                 "nnaudio_fast.benchmarks": "benchmarks"},
    ext_modules=_extensions(),
    cmdclass={"build_ext": OptionalBuildExt},
)
