"""SpecAugment masking (FrequencyMasking, TimeMasking, mask_along_axis[_iid]): torchaudio's semantics, checked by
shapes and statistics (the same masks for the same generator state are not required): one contiguous band per
call (or per example and channel with iid masks), narrower than mask_param (and p of the axis), values outside it
untouched, mask_value inside."""

from __future__ import annotations

import pytest
import torch

import nnaudio_fast.transforms as T
import nnaudio_fast.transforms.functional as TF


def _bands(masked: torch.Tensor, original: torch.Tensor, axis: int, value: float = 0.0):
    """Per leading index: the masked positions along ``axis`` (a band), checking everything else is untouched."""
    changed = masked != original
    assert torch.all(masked[changed] == value)
    other = tuple(d for d in (-2, -1) if d != axis)
    hit = (masked == value).all(dim=other[0])  # positions fully masked along the other axis
    assert torch.equal(changed.any(dim=other[0]) & ~hit, torch.zeros_like(hit))  # masks span the other axis
    return hit


def _is_band(row: torch.Tensor) -> bool:
    idx = torch.nonzero(row).flatten()
    return len(idx) == 0 or int(idx[-1] - idx[0] + 1) == len(idx)


@pytest.mark.parametrize("axis_name", ["freq", "time"])
def test_one_band_shared_by_the_batch(axis_name):
    torch.manual_seed(0)
    x = torch.rand(3, 2, 40, 50) + 1.0
    layer = T.FrequencyMasking(15) if axis_name == "freq" else T.TimeMasking(15)
    axis = -2 if axis_name == "freq" else -1
    widths = []
    for _ in range(300):
        y = layer(x)
        assert y.shape == x.shape
        hit = _bands(y, x, axis)
        flat = hit.reshape(-1, hit.shape[-1])
        assert torch.all(flat == flat[0])  # the same band in every example and channel
        assert _is_band(flat[0])
        widths.append(int(flat[0].sum()))
    assert max(widths) < 15 and min(widths) == 0
    assert 5.0 < sum(widths) / len(widths) < 8.5  # E[floor-ish width] ≈ 7 for U[0, 15)


def test_iid_masks_differ_per_example_and_channel():
    torch.manual_seed(1)
    x = torch.rand(4, 3, 30, 60) + 1.0
    y = T.TimeMasking(20, iid_masks=True)(x, mask_value=-5.0)
    hit = _bands(y, x, -1, value=-5.0).reshape(12, -1)
    assert all(_is_band(r) for r in hit)
    assert len({tuple(r.tolist()) for r in hit}) > 1


def test_p_limits_the_band_and_zero_param_is_identity():
    torch.manual_seed(2)
    x = torch.rand(2, 20, 40) + 1.0
    for _ in range(200):
        hit = _bands(T.TimeMasking(30, p=0.1)(x), x, -1)
        assert int(hit[0].sum()) < 4  # int(40 · 0.1) = 4
    assert torch.equal(T.FrequencyMasking(0)(x), x)
    assert torch.equal(TF.mask_along_axis(x, 10, 0.0, 1, p=0.0), x)


def test_masking_errors():
    with pytest.raises(ValueError, match="axis=0"):
        TF.mask_along_axis(torch.rand(2, 5, 6), 3, 0.0, 0)
    with pytest.raises(ValueError, match="p=1.5"):
        TF.mask_along_axis(torch.rand(2, 5, 6), 3, 0.0, 2, p=1.5)
    with pytest.raises(ValueError, match="shape"):
        TF.mask_along_axis_iid(torch.rand(5, 6), 3, 0.0, 1)
