"""Compiled optimizer loops (``graphgrad[fast]``, see ``ag.backends.numba``).

``p -= lr * g`` in NumPy is two passes over memory and a temporary the size of the parameter
(``lr * g``, then the subtraction); the loop below reads ``p`` and ``g`` once and writes ``p``
once. It rounds exactly as NumPy does: the product in the parameter's dtype, then the sum
(no fused multiply-add). The NumPy expression is the reference, and stays the path for small
parameters and without Numba.
"""

from __future__ import annotations

import numpy as np

from autograd.backends import numba as _numba
from autograd.backends.numba import kernel

# Below this many elements NumPy's two calls cost no more than the kernel's dispatch (measured:
# equal at 128 float32, the kernel 2x quicker at 256).
_MIN_SIZE = 256


@kernel
def _add_scaled_loop(p, g, alpha):  # type: ignore[no-untyped-def]
    for i in range(p.size):
        p[i] = p[i] + alpha * g[i]


def add_scaled_(p: np.ndarray, g: np.ndarray, alpha: float) -> None:
    """``p += alpha * g`` in place, the product rounded to ``p``'s dtype as NumPy does."""
    if (
        p.size >= _MIN_SIZE
        and _numba.active()
        and p.dtype == g.dtype
        and p.dtype.kind == "f"
        and p.flags.c_contiguous
        and g.flags.c_contiguous
        and p.shape == g.shape
    ):
        _add_scaled_loop(p.reshape(-1), g.reshape(-1), p.dtype.type(alpha))
        return
    p += np.multiply(g, alpha)
