"""Property test: every pad mode, any padding length, equals numpy.pad."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnaudio_fast._checks import canonical_pad_mode
from nnaudio_fast.primitives import CAT_PAD_LENGTH, pad

NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap", "constant": "constant"}


@settings(max_examples=200, deadline=None)
@given(
    length=st.integers(1, 40),
    left=st.integers(0, 120),
    right=st.integers(0, 120),
    mode=st.sampled_from(["reflect", "replicate", "circular", "constant", "edge", "wrap"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_pad_equals_numpy_pad(length, left, right, mode, seed):
    mode = canonical_pad_mode(mode)
    if mode == "reflect" and length == 1:
        length = 2  # numpy cannot reflect one sample (ours repeats it: covered in test_stft)
    x = np.random.default_rng(seed).standard_normal((2, length))
    ours = pad(torch.from_numpy(x), left, right, mode).numpy()
    assert np.array_equal(ours, np.pad(x, ((0, 0), (left, right)), mode=NUMPY_MODE[mode]))


@settings(max_examples=40, deadline=None)
@given(
    length=st.integers(CAT_PAD_LENGTH, CAT_PAD_LENGTH + 50),
    left=st.integers(0, CAT_PAD_LENGTH - 1),
    right=st.integers(0, CAT_PAD_LENGTH - 1),
    mode=st.sampled_from(["reflect", "replicate"]),
    leading=st.sampled_from([(), (2,), (2, 1)]),
    seed=st.integers(0, 2**31 - 1),
)
def test_long_signals_pad_by_their_edges_like_numpy(length, left, right, mode, leading, seed):
    """Signals of at least CAT_PAD_LENGTH samples are padded by concatenating their (flipped) edges."""
    x = np.random.default_rng(seed).standard_normal(leading + (length,))
    ours = pad(torch.from_numpy(x), left, right, mode).numpy()
    assert np.array_equal(ours, np.pad(x, [(0, 0)] * len(leading) + [(left, right)], mode=NUMPY_MODE[mode]))
