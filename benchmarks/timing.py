"""Timing done right: warm-up, rotating inputs, device synchronisation, medians."""

from __future__ import annotations

import statistics
import time

import torch


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def median_time(step, inputs, device: str, warmup: int = 2, min_reps: int = 5, budget_s: float = 2.0,
                max_reps: int = 50) -> tuple[float, int]:
    """Median seconds of ``step(x)`` over rotating ``inputs``, and the number of timed repetitions.

    On CUDA each repetition is timed with CUDA events (device time, launch overhead included); on the CPU with
    ``perf_counter``. Repetitions continue until ``min_reps`` are done and ``budget_s`` is spent (or ``max_reps``).
    """
    for i in range(warmup):
        step(inputs[i % len(inputs)])
    _sync(device)
    times, spent, i = [], 0.0, 0
    while (len(times) < min_reps or spent < budget_s) and len(times) < max_reps:
        x = inputs[i % len(inputs)]
        i += 1
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            step(x)
            end.record()
            end.synchronize()
            t = start.elapsed_time(end) / 1e3
        else:
            t0 = time.perf_counter()
            step(x)
            t = time.perf_counter() - t0
        times.append(t)
        spent += t
    return statistics.median(times), len(times)
