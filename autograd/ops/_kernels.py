"""Compiled elementwise loops (``graphgrad[fast]``, see ``ag.backends.numba``): ReLU and its
gradient in one pass each, where NumPy needs a compare, a cast and a multiply (or a slow
NaN-aware ``maximum``). The NumPy code in ``elementwise.py`` is the reference."""

from __future__ import annotations

import numpy as np

from ..backends import numba as _numba
from ..backends.numba import kernel

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def usable(*arrays: np.ndarray) -> bool:
    """Whether the kernels apply: Numba active, float32/64 C-contiguous arrays of one shape."""
    first = arrays[0]
    if type(first) is not np.ndarray or first.size < 4096 or not _numba.active():
        return False  # small arrays: NumPy's call is as quick
    if first.dtype not in _FLOATS or not first.flags.c_contiguous:
        return False
    for a in arrays[1:]:
        if type(a) is not np.ndarray or a.dtype != first.dtype or a.shape != first.shape or (
            not a.flags.c_contiguous
        ):
            return False
    return True


@kernel
def _relu_loop(x, out):  # type: ignore[no-untyped-def]
    for i in range(x.size):
        v = x[i]
        out[i] = v if (v > 0 or v != v) else 0.0  # NaN stays NaN, as np.maximum


@kernel
def _threshold_backward_loop(grad, relu_out, out):  # type: ignore[no-untyped-def]
    for i in range(grad.size):
        out[i] = grad[i] if relu_out[i] > 0 else 0.0


def relu(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    _relu_loop(x.reshape(-1), out.reshape(-1))
    return out


def threshold_backward(grad: np.ndarray, relu_out: np.ndarray) -> np.ndarray:
    out = np.empty_like(grad)
    _threshold_backward_loop(grad.reshape(-1), relu_out.reshape(-1), out.reshape(-1))
    return out
