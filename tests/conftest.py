"""Fixtures shared by every test folder (tests/fourier, constant_q, backends, dropin, project). Helper functions
live in tests/helpers.py (``from helpers import rel_err, noise, ...``); no test module imports another."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
import torch

# Triton decides when it is imported whether jit functions (its own standard library included) run in its
# interpreter. Without a GPU, switch the interpreter on before anything imports triton so the Triton backend's tests
# run on the CPU (automatic dispatch never sends CPU tensors to Triton, so other tests are unaffected).
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

# Library default dtype must not leak between tests.
torch.set_default_dtype(torch.float32)

#: Devices the ``device`` fixture runs a test on: the CPU, and the GPU where there is one.
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture
def rng(request):
    """A generator seeded from the test's id (different per test and parametrisation, reproducible);
    ``NNAUDIO_FAST_TEST_SEED`` changes every seed (the suite must pass for any)."""
    seed = int(hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:8], 16)
    seed ^= int(os.environ.get("NNAUDIO_FAST_TEST_SEED", "0"))
    return np.random.default_rng(seed)


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    """Each available device in turn (the CPU in CI; with a GPU, the same test runs on CUDA too)."""
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def _fresh_backend_choice():
    """Tests simulate backends appearing and disappearing; dispatch's cached choices must not outlive a test."""
    from nnaudio_fast import dispatch

    dispatch.reset()
    yield
    dispatch.reset()
