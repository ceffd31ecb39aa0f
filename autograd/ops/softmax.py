"""The softmax family: softmax and log_softmax, one graph node each, stable for large logits."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._typing import Operand
from ..dtypes import get_default_dtype, to_dtype
from ..registry import primitive
from ..xp import ones_vector
from ._samples import one_dim_required_options
from ._shapes import normalize_dim

__all__ = ["softmax", "log_softmax"]


def _prepare(x: np.ndarray, dim: int, dtype: Any, op: str) -> tuple[np.ndarray, int]:
    """The input in the computing dtype (a 0-d input as shape (1,)), and the axis."""
    axis = normalize_dim(dim, x.shape, op)
    if dtype is not None:
        x = x.astype(to_dtype(dtype), copy=False)
    elif x.dtype.kind != "f":
        x = x.astype(get_default_dtype())
    return (x, axis) if x.ndim else (x.reshape(1), 0)


# Rows at most this long get their max as columns of a transposed copy: NumPy reduces short
# contiguous rows one at a time (measured: 1.7x faster at 10 classes, slower beyond ~64).
_SHORT_ROWS = 32


def _rows(x: np.ndarray, axis: int) -> np.ndarray | None:
    """``x`` as a 2-D (rows, C) view when ``axis`` is its last, contiguous dim, else None."""
    if axis == x.ndim - 1 and x.ndim >= 2 and x.flags.c_contiguous:
        return x.reshape(-1, x.shape[-1])
    return None


def row_max(x: np.ndarray, axis: int) -> np.ndarray:
    """``max(x)`` along ``axis`` with kept dims; rows of a few classes via a column copy."""
    rows = _rows(x, axis) if x.shape[axis] <= _SHORT_ROWS else None
    if rows is not None:
        return np.asfortranarray(rows).max(axis=1).reshape(x.shape[:-1] + (1,))
    return np.max(x, axis=axis, keepdims=True)


def row_sum(x: np.ndarray, axis: int) -> np.ndarray:
    """``sum(x)`` along ``axis`` with kept dims; the rows of a contiguous last dim as one GEMV
    (2-4x faster than NumPy's row sums, at any C)."""
    rows = _rows(x, axis)
    if rows is None:
        return np.sum(x, axis=axis, keepdims=True)
    ones = ones_vector(rows.shape[1], rows.dtype)
    return (rows @ ones).reshape(x.shape[:-1] + (1,))


def shifted_logits(x: np.ndarray, axis: int) -> np.ndarray:
    """``x - max(x)`` along ``axis`` as a new array: every exponent is <= 0.

    A slice whose max is not finite is shifted by 0, so an all ``-inf`` slice gives nan (as
    PyTorch) instead of ``-inf - -inf`` warnings in the middle of the computation.
    """
    shift = row_max(x, axis)
    if not math.isfinite(shift.sum()):  # one scalar test; the exact mask only when needed
        shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype, copy=False)
    return x - shift


def log_softmax_array(x: np.ndarray, axis: int) -> np.ndarray:
    """``(x - max) - log(sum(exp(x - max)))`` in five passes (max, shift, exp, sum, subtract).

    Subtracting from the shifted logits keeps float32 exact where ``x - logsumexp(x)`` would
    round ``1e4 + log(2)`` first.
    """
    if x.size == 0:
        return x.copy()
    out = shifted_logits(x, axis)
    out -= np.log(row_sum(np.exp(out), axis))
    return out


@primitive("softmax", kwargs=one_dim_required_options)
def softmax(x: np.ndarray, *, dim: int, dtype: Any = None) -> np.ndarray:
    """``exp(x) / sum(exp(x))`` along ``dim``, shifted by the max for stability.

    Example:
        >>> import autograd as ag
        >>> ag.softmax(ag.tensor([0.0, 1e4]), dim=0)
        tensor([0., 1.])
    """
    shape = x.shape
    x, axis = _prepare(x, dim, dtype, "softmax")
    if x.size == 0:
        return x.copy()
    out = shifted_logits(x, axis)
    np.exp(out, out=out)
    out /= row_sum(out, axis)
    return out.reshape(shape)


@softmax.vjp
def _softmax_vjp(grad: Operand, out: Operand, dim: int, xp: Any) -> Operand:
    # The Jacobian diag(s) - s s^T applied to grad.
    if not xp.is_tensor and out.ndim:
        result = grad - row_sum(grad * out, dim % out.ndim)  # type: ignore[arg-type,operator]
        result *= out
        return result
    return out * (grad - xp.sum(grad * out, dim=dim, keepdim=True))


@primitive("log_softmax", kwargs=one_dim_required_options)
def log_softmax(x: np.ndarray, *, dim: int, dtype: Any = None) -> np.ndarray:
    """``x - logsumexp(x)`` along ``dim``: stable, and exact where softmax underflows.

    Example:
        >>> import autograd as ag
        >>> ag.log_softmax(ag.tensor([0.0, 0.0]), dim=0)
        tensor([-0.6931, -0.6931])
    """
    shape = x.shape
    x, axis = _prepare(x, dim, dtype, "log_softmax")
    return log_softmax_array(x, axis).reshape(shape)


@log_softmax.vjp
def _log_softmax_vjp(grad: Operand, out: Operand, dim: int, xp: Any) -> Operand:
    if not xp.is_tensor and out.ndim:
        result = np.exp(out)
        result *= -row_sum(grad, dim % out.ndim)  # type: ignore[arg-type]
        result += grad
        return result
    return grad - xp.exp(out) * xp.sum(grad, dim=dim, keepdim=True)
