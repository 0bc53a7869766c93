"""The ``reference`` backend: plain PyTorch, the ground truth of every test.

Every operation of the contract (:data:`nnaudio_fast.dispatch.OPS`) works on flat ``(batch, time)`` problems, in
float32 or float64 (the basis tensors decide nothing: the caller casts them to the input's dtype), on any device,
and is differentiable by PyTorch's autograd with respect to the waveform and every basis tensor.

* :mod:`.fourier`: ``stft``, ``spectrogram``, ``log_spectrogram``, ``istft``.
* :mod:`.constant_q`: ``cqt_single``, ``pyramid``, ``pyramid_adjoint``, ``cqt_multirate``.

Framing (:mod:`nnaudio_fast.primitives`) uses ``Tensor.unfold`` and the basis product ``torch.matmul``, not
``conv1d``: on CUDA, cuDNN convolutions run in TF32 by default (``torch.backends.cudnn.allow_tf32``), whereas matmul
follows ``torch.get_float32_matmul_precision()`` ('highest' by default), so the reference stays FP32-exact on
every device. ``precision=`` is accepted and ignored.
"""

from __future__ import annotations

import torch

from .constant_q import cqt_multirate, cqt_single, pyramid, pyramid_adjoint
from .fourier import istft, log_spectrogram, spectrogram, stft

__all__ = ["stft", "spectrogram", "log_spectrogram", "istft", "cqt_single", "pyramid", "pyramid_adjoint",
           "cqt_multirate", "DTYPES", "unavailable_reason", "runs_on"]

#: The dtypes this backend computes in (every floating dtype the functional API passes).
DTYPES = (torch.float32, torch.float64)


def unavailable_reason() -> None:
    """The reference backend is always available."""
    return None


def runs_on(device: torch.device) -> bool:
    return True
