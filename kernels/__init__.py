"""Triton kernels, installed as ``nnaudio_fast.kernels`` (the ``triton`` backend of :mod:`nnaudio_fast.dispatch`).

No kernels are implemented yet: the backend reports itself unavailable and ``auto`` dispatch uses the reference.
"""


def unavailable_reason() -> str:
    return "no Triton kernels are implemented yet"


def runs_on(device) -> bool:
    return False
