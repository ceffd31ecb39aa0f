"""Dtype objects and PyTorch's type-promotion rules on top of NumPy dtypes.

Dtypes are plain ``numpy.dtype`` objects, so ``t.dtype == ag.float32`` and
``np.zeros(3, dtype=ag.float32)`` both work.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)  # noqa: A001 - PyTorch's name
half, float, double, long, int = float16, float32, float64, int64, int32  # noqa: A001

_default_dtype = float32


def get_default_dtype() -> np.dtype:
    """Return the dtype that Python floats become (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype that Python floats become; only float32 and float64 are allowed."""
    global _default_dtype
    dtype = to_dtype(dtype)
    if dtype not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 or float64 are allowed, got {dtype}")
    _default_dtype = dtype


def to_dtype(dtype: Any) -> np.dtype:
    """Turn a dtype-like (``ag.float32``, ``np.float64``, ``'float32'``, ``float``) into a dtype."""
    if dtype is builtins.float:
        return _default_dtype
    if dtype is builtins.int:
        return int64
    if dtype is builtins.bool:
        return bool
    try:
        return np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"not a dtype: {dtype!r}") from error


def is_floating(dtype: np.dtype) -> builtins.bool:
    """Whether ``dtype`` is a floating-point dtype (the only kind that may require grad)."""
    return dtype.kind == "f"


def _category(dtype: np.dtype) -> builtins.int:
    return {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[dtype.kind]


def _promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's pairwise rule: a higher category wins outright (float32 * int64 -> float32)."""
    category_a, category_b = _category(a), _category(b)
    if category_a != category_b:
        return a if category_a > category_b else b
    return np.promote_types(a, b)


def infer_dtype(data: Any) -> np.dtype:
    """Return the dtype PyTorch would give ``torch.tensor(data)``."""
    if isinstance(data, np.ndarray):
        return data.dtype
    if isinstance(data, np.generic):
        return data.dtype
    if isinstance(data, builtins.bool):
        return bool
    if isinstance(data, builtins.int):
        return int64
    if isinstance(data, builtins.float):
        return _default_dtype
    array = np.asarray(data)
    if array.dtype.kind == "f":
        return _default_dtype
    if array.dtype.kind in "iu":
        return int64
    if array.dtype.kind == "b":
        return bool
    if array.dtype.kind == "O":
        raise TypeError(f"tensor: cannot infer a dtype for {type(data).__name__} data")
    return array.dtype


def result_type(*operands: Any) -> np.dtype:
    """Promote dtypes as PyTorch does.

    Tensors with dimensions win over 0-d tensors, which win over Python
    scalars, unless a lower-priority operand is of a higher category
    (bool < integer < floating): ``float32 * 2.0`` stays float32,
    ``int64 * 2.5`` becomes float32 and ``float32 * float64_array`` float64.
    Each operand is a ``(dtype, priority)`` pair: 2 for dimensioned tensors,
    1 for 0-d tensors and 0 for Python scalars.
    """
    best: dict[builtins.int, np.dtype] = {}
    for dtype, priority in operands:
        current = best.get(priority)
        best[priority] = dtype if current is None else _promote(current, dtype)
    result = None
    for priority in (2, 1, 0):
        dtype = best.get(priority)
        if dtype is None:
            continue
        if result is None:
            result = dtype
        elif _category(dtype) > _category(result):
            if priority == 0:
                result = _default_dtype if dtype.kind == "f" else dtype
            else:
                result = dtype
    assert result is not None, "result_type needs at least one operand"
    return result


_TORCH_NAMES = {
    "float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "int16": "Short",
    "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}  # fmt: skip


def torch_name(dtype: Any) -> str:
    """PyTorch's scalar-type name of a dtype (``Float``, ``Double``, ``Long``), for messages."""
    dtype = np.dtype(dtype)
    return _TORCH_NAMES.get(dtype.name, dtype.name)
