"""Sizes every layer, backend and kernel agrees on: frame counts and pyramid level lengths (plain integers)."""

from __future__ import annotations


def n_frames(length: int, hop_length: int, n_fft: int = 0, center: bool = True) -> int:
    """Frames of ``n_fft`` samples every ``hop_length`` in a signal of ``length`` samples, padded by ``n_fft // 2``
    on each side when ``center``: ``1 + (length + 2·(n_fft // 2) − n_fft) // hop_length``.

    ``n_fft=0`` (centred) counts the frames centred on ``t·hop_length`` for ``0 <= t·hop_length <= length``,
    ``1 + length // hop_length``: the multirate CQT's frames. Callers check that an uncentred signal holds at least
    one frame (no comparison here: under ``torch.export`` ``length`` may be symbolic, and a comparison would guard).
    """
    padded = length + 2 * (n_fft // 2) if center else length
    return 1 + (padded - n_fft) // hop_length


def level_lengths(length: int, n_levels: int) -> list[int]:
    """Lengths of octave-pyramid levels ``1 … n_levels`` of a ``length``-sample signal (level ``ℓ`` keeps
    ``⌈length / 2^ℓ⌉`` samples). Level 0, the signal itself, is not listed."""
    out = []
    for _ in range(n_levels):
        length = (length + 1) // 2
        out.append(length)
    return out
