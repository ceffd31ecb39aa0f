"""One-pass ``p += alpha * g`` for the optimizers: BLAS axpy or a Numba loop, else NumPy.

``p -= lr * g`` in NumPy is two passes over memory and a temporary the size of the parameter
(``lr * g``, then the subtraction): for a 784x256 float32 weight that is 800 KB written and
read again, about 15 us of an MLP step. Two one-pass versions replace it:

- when SciPy is installed, BLAS ``saxpy``/``daxpy`` through ``scipy.linalg.blas``: one call
  with no temporary, which rounds the product and the sum once (a fused multiply-add), as
  PyTorch's ``param.add_(grad, alpha=-lr)`` does. Results can differ from NumPy's two
  roundings in the last bit. SciPy's BLAS follows the thread count set with
  ``ag.set_num_threads`` (or the ``OPENBLAS_NUM_THREADS`` family) like NumPy's. It goes first:
  its call is cheaper than a Numba dispatch (an MLP step's SGD: 25 us against 30 us);
- else, with ``graphgrad[fast]`` (``ag.backends.numba``), a compiled loop that rounds exactly
  as NumPy does (the product in the parameter's dtype, then the sum).

The NumPy expression is the reference and stays the path without either, and for anything
unusual (mixed dtypes, a non-contiguous or read-only parameter).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from autograd.backends import numba as _numba
from autograd.backends.numba import kernel

# Below this many elements NumPy's two calls cost no more than the kernel's dispatch (measured:
# equal at 128 float32, the kernel 2x quicker at 256).
_MIN_SIZE = 256

# float dtype -> SciPy's BLAS axpy for it; None until first asked, {} without SciPy.
_axpy_by_dtype: dict[np.dtype, Callable[..., Any]] | None = None


@kernel
def _add_scaled_loop(p, g, alpha):  # type: ignore[no-untyped-def]
    for i in range(p.size):
        p[i] = p[i] + alpha * g[i]


def blas_axpy() -> dict[np.dtype, Callable[..., Any]]:
    """SciPy's ``{float32: saxpy, float64: daxpy}``, or ``{}`` when SciPy is not installed.

    SciPy is imported on the first call (an optimizer's first step), not with ``optim``.
    """
    global _axpy_by_dtype
    if _axpy_by_dtype is None:
        try:
            from scipy.linalg.blas import daxpy, saxpy
        except Exception:  # SciPy is optional; a broken install must not break the optimizer
            _axpy_by_dtype = {}
        else:
            _axpy_by_dtype = {np.dtype(np.float32): saxpy, np.dtype(np.float64): daxpy}
    return _axpy_by_dtype


def axpy_(axpy: Callable[..., Any], p: np.ndarray, g: np.ndarray, alpha: float) -> None:
    """``p += alpha * g`` in place with BLAS ``axpy`` for ``p``'s dtype.

    ``p`` must be C-contiguous and writeable and ``g`` of the same dtype and shape (BLAS reads
    any layout of ``g`` through a contiguous copy). SciPy writes into ``p``'s storage when it
    can; should it ever hand back a new array instead, that is copied in.
    """
    flat = p if p.ndim == 1 else p.reshape(-1)
    x = g if g.ndim == 1 else g.reshape(-1)
    out = axpy(x, flat, x.size, alpha)  # positional: no keyword dict per call
    if out is not flat:
        flat[...] = out


def add_scaled_(p: np.ndarray, g: np.ndarray, alpha: float) -> None:
    """``p += alpha * g`` in place: one pass where possible (see the module docstring)."""
    if (
        p.dtype == g.dtype
        and p.dtype.kind == "f"
        and p.flags.c_contiguous
        and p.flags.writeable
        and p.shape == g.shape
    ):
        axpy = blas_axpy().get(p.dtype)
        if axpy is not None:
            axpy_(axpy, p, g, alpha)
            return
        if p.size >= _MIN_SIZE and g.flags.c_contiguous and _numba.active():
            _add_scaled_loop(p.reshape(-1), g.reshape(-1), p.dtype.type(alpha))
            return
    p += np.multiply(g, alpha)
