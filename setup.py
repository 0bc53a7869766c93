"""Build script: packages (with the top-level ``kernels/`` folder installed as ``nnaudio_fast.kernels``)."""

from setuptools import setup

setup(
    packages=["nnaudio_fast", "nnaudio_fast.features", "nnaudio_fast.kernels"],
    package_dir={"nnaudio_fast": "nnaudio_fast", "nnaudio_fast.kernels": "kernels"},
)
