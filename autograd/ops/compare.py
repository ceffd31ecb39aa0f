"""Comparisons and tests: lt/le/gt/ge/eq/ne, logical ops, isnan/isinf/isfinite, isclose,
allclose, equal, nonzero, unique, unique_consecutive; integer floor_divide and remainder."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dtypes import torch_name
from ..registry import primitive
from ..tensor import Tensor
from ._shapes import check_broadcastable, normalize_dim

__all__ = [
    "lt", "le", "gt", "ge", "eq", "ne", "logical_and", "logical_or", "logical_xor", "logical_not",
    "isnan", "isinf", "isfinite", "floor_divide", "remainder", "greater", "less", "isclose",
    "allclose", "equal", "nonzero", "unique", "unique_consecutive",
]  # fmt: skip


def _comparison(name: str, ufunc: np.ufunc) -> Any:
    @primitive(name, differentiable=False, explain=check_broadcastable, exact=True)
    def compare(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return ufunc(x, y)

    return compare


lt = _comparison("lt", np.less)
le = _comparison("le", np.less_equal)
gt = _comparison("gt", np.greater)
ge = _comparison("ge", np.greater_equal)
eq = _comparison("eq", np.equal)
ne = _comparison("ne", np.not_equal)
logical_and = _comparison("logical_and", np.logical_and)
logical_or = _comparison("logical_or", np.logical_or)
logical_xor = _comparison("logical_xor", np.logical_xor)


def _unary_flag(name: str, function: Any) -> Any:
    @primitive(name, differentiable=False, exact=True)
    def flag(x: np.ndarray) -> np.ndarray:
        return function(x)

    return flag


logical_not = _unary_flag("logical_not", np.logical_not)
isnan = _unary_flag("isnan", np.isnan)
isinf = _unary_flag("isinf", np.isinf)
isfinite = _unary_flag("isfinite", np.isfinite)


def _no_bool(op: str, x: np.ndarray) -> None:
    # After promotion: both operands were bool (PyTorch has no bool kernel for these).
    if x.dtype == np.bool_:
        raise NotImplementedError(f"{op}: not implemented for 'Bool' (as PyTorch); convert the "
                                  "operands to an integer dtype first (.long())")  # fmt: skip


@primitive("floor_divide", differentiable=False, explain=check_broadcastable)
def floor_divide(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    _no_bool("floor_divide", x)
    return np.floor_divide(x, y)


@primitive("remainder", differentiable=False, explain=check_broadcastable)
def remainder(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    _no_bool("remainder", x)
    return np.remainder(x, y)


greater, less = gt, lt


def _check_same_dtype(op: str, x: Tensor, y: Tensor) -> None:
    if x.dtype != y.dtype:  # as PyTorch: no promotion in a closeness test
        raise RuntimeError(f"{op}: {torch_name(x.dtype)} did not match {torch_name(y.dtype)}")


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:  # fmt: skip
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (infinities equal themselves;
    NaN equals NaN only with ``equal_nan``), as a bool tensor.

    Example:
        >>> import autograd as ag
        >>> ag.isclose(ag.tensor([1.0, 2.0]), ag.tensor([1.0 + 1e-7, 2.1]))
        tensor([ True, False])
    """
    input, other = _as_tensor(input), _as_tensor(other)
    _check_same_dtype("isclose", input, other)
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise RuntimeError(f"isclose: {name} must be greater than or equal to zero, but got "
                               f"{value}")  # fmt: skip
    check_broadcastable("isclose", input._data, other._data)
    a, b = input._data, other._data
    if a.dtype == np.bool_:
        a, b = a.astype(np.int64), b.astype(np.int64)
    return Tensor._from_array(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:  # fmt: skip
    """Whether every element is close (``isclose``): a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """Whether both tensors have the same shape and the same values (a Python bool; NaN is
    never equal; dtypes may differ, as in PyTorch).

    Example:
        >>> import autograd as ag
        >>> ag.equal(ag.tensor([1, 2]), ag.tensor([1.0, 2.0]))
        True
    """
    input, other = _as_tensor(input), _as_tensor(other)
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """The indices of the nonzero elements: an ``(n, ndim)`` int64 tensor, or with
    ``as_tuple=True`` one 1-D tensor per dim (a 0-d input counts as 1-d).

    Example:
        >>> import autograd as ag
        >>> ag.nonzero(ag.tensor([[0, 1], [2, 0]]))
        tensor([[0, 1],
                [1, 0]])
    """
    array = input._data
    if as_tuple:
        found = np.nonzero(array.reshape(-1) if array.ndim == 0 else array)
        return tuple(Tensor._from_array(i.astype(np.int64)) for i in found)
    if array.ndim == 0:
        return Tensor._from_array(np.zeros((int(bool(array)), 0), np.int64))
    return Tensor._from_array(np.argwhere(array).astype(np.int64))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:  # fmt: skip
    """The distinct values (in ascending order: PyTorch sorts on the CPU even with
    ``sorted=False``), and optionally the inverse indices and the counts; with ``dim``, the
    distinct slices along it. NaNs are all distinct, as in PyTorch.

    Example:
        >>> import autograd as ag
        >>> ag.unique(ag.tensor([3, 1, 3]), return_counts=True)
        (tensor([1, 3]), tensor([1, 2]))
    """
    array = input._data
    if dim is None:
        values, inverse, counts = np.unique(array.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)  # fmt: skip
        inverse = inverse.reshape(array.shape)
    else:
        axis = normalize_dim(dim, array.shape if array.ndim else 0, "unique")
        values, inverse, counts = np.unique(array, return_inverse=True, return_counts=True,
                                            axis=axis, equal_nan=False)  # fmt: skip
        inverse = inverse.reshape(-1)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def _unique_result(values: np.ndarray, inverse: np.ndarray, counts: np.ndarray,
                   return_inverse: bool, return_counts: bool) -> Any:  # fmt: skip
    out = [Tensor._from_array(values)]
    if return_inverse:
        out.append(Tensor._from_array(inverse.astype(np.int64)))
    if return_counts:
        out.append(Tensor._from_array(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input: Tensor, return_inverse: bool = False,  # noqa: A002
                       return_counts: bool = False, dim: int | None = None) -> Any:  # fmt: skip
    """Collapse runs of equal consecutive values (or slices along ``dim``) into one."""
    array = input._data
    if dim is None:
        flat = array.reshape(-1)
        starts = np.ones(flat.size, bool)
        starts[1:] = flat[1:] != flat[:-1]
        values = flat[starts]
        inverse = (np.cumsum(starts) - 1).reshape(array.shape)
    else:
        axis = normalize_dim(dim, array.shape if array.ndim else 0, "unique_consecutive")
        moved = np.moveaxis(array, axis, 0).reshape(array.shape[axis], -1)
        starts = np.ones(moved.shape[0], bool)
        starts[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        values = np.compress(starts, array, axis=axis)
        inverse = np.cumsum(starts) - 1
    counts = np.diff(np.append(np.nonzero(starts)[0], starts.size))
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


for _function in (isclose, allclose, equal, nonzero, unique, unique_consecutive):
    setattr(Tensor, _function.__name__, _function)
