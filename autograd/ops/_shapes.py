"""Shape helpers shared by every op family, so error wording is identical everywhere."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._typing import Dim, Shape


def normalize_dim(dim: Dim | Sequence[int], ndim: int | Sequence[int], op: str) -> Any:
    """Turn ``dim`` (int, tuple or None) into non-negative axes, with a clear IndexError.

    ``ndim`` may be the tensor's shape instead, so that the error message can show it.
    """
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        axes = tuple(_one_dim(d, ndim, op) for d in dim)
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
        return axes
    return _one_dim(dim, ndim, op)


def _one_dim(dim: Any, ndim: int | Sequence[int], op: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    rank = ndim if isinstance(ndim, (int, np.integer)) else len(ndim)
    bound = builtins.max(rank, 1)
    if not -bound <= dim < bound:
        where = (
            f"a tensor with {rank} dims"
            if isinstance(ndim, (int, np.integer))
            else f"a tensor of shape {shape_str(ndim)}"
        )
        raise IndexError(
            f"{op}: dim {dim} is out of range for {where} (expected {-bound}..{bound - 1})"
        )
    return int(dim) % bound


def shape_str(shape: Sequence[int]) -> str:
    """Format a shape as a tuple, as in every error message."""
    return str(tuple(int(s) for s in shape))


def kept_shape(shape: Shape, dim: Dim, keepdim: bool = False) -> Shape:
    """The shape of a reduction's result with ``keepdim=True`` (reduced dims set to 1)."""
    if dim is None:
        return (1,) * len(shape)
    axes = normalize_dim(dim, len(shape), op="reduce")
    axes = axes if isinstance(axes, tuple) else (axes,)
    if len(shape) == 0:
        return ()
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def check_broadcastable(op: str, *arrays: np.ndarray, **options: Any) -> None:
    """Raise ``op: shapes A and B are not broadcastable (dim -k: a vs b)``."""
    shapes = [a.shape for a in arrays]
    first = shapes[0]
    if all(s == first for s in shapes):
        return
    try:
        _broadcast_quick(shapes)
    except ValueError:
        for i in range(len(shapes)):
            for j in range(i + 1, len(shapes)):
                a, b = shapes[i], shapes[j]
                for k in range(1, builtins.min(len(a), len(b)) + 1):
                    if a[-k] != b[-k] and a[-k] != 1 and b[-k] != 1:
                        raise RuntimeError(
                            f"{op}: shapes {shape_str(a)} and {shape_str(b)} are not broadcastable "
                            f"(dim -{k}: {a[-k]} vs {b[-k]})"
                        ) from None
        raise RuntimeError(
            f"{op}: shapes {', '.join(map(shape_str, shapes))} are not broadcastable"
        ) from None


def _broadcast_quick(shapes: list[tuple]) -> None:
    """Raise ValueError if ``shapes`` do not broadcast (cheaper than np.broadcast_shapes)."""
    width = builtins.max(len(s) for s in shapes)
    for k in range(1, width + 1):
        size = 1
        for s in shapes:
            if len(s) >= k:
                d = s[-k]
                if d != 1:
                    if size != 1 and d != size:
                        raise ValueError
                    size = d


def check_floating(op: str, array: np.ndarray) -> None:
    """Raise a TypeError-like RuntimeError when an op needs a floating input."""
    if array.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point tensor, got dtype {array.dtype}")
