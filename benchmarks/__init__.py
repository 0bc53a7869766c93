"""Benchmark suite: ``python -m benchmarks`` from the repository root, or ``nnaudio-fast bench`` once installed
(the folder is installed as ``nnaudio_fast.benchmarks``, so modules here import each other relatively)."""
