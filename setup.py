"""Build script: the top-level ``kernels/`` and ``benchmarks/`` folders install as ``nnaudio_fast.kernels`` and
``nnaudio_fast.benchmarks``."""

from setuptools import setup

setup(
    packages=["nnaudio_fast", "nnaudio_fast.features", "nnaudio_fast.kernels", "nnaudio_fast.benchmarks"],
    package_dir={"nnaudio_fast": "nnaudio_fast", "nnaudio_fast.kernels": "kernels",
                 "nnaudio_fast.benchmarks": "benchmarks"},
)
