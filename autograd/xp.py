"""The two interpreters of a gradient rule: NumPy arrays and Tensors, behind one namespace.

A rule receives ``xp`` and computes with operators and ``xp.<op>(...)`` calls. In a
first-order backward (nearly every backward) ``xp`` is ``ARRAY``: each name is the registered
primitive's NumPy forward, so the rule costs what its NumPy calls cost, with no Tensor and no
dispatch. Under ``create_graph=True`` it is ``TENSOR``: each name is the registered op itself,
so the rule records its own graph and higher derivatives stay exact. Both take the same
arguments: tensor inputs positionally, options by keyword (``xp.sum(grad, dim=0)``).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .registry import REGISTRY


class _Namespace:
    """Looks names up in the registry on first use and caches them as attributes."""

    def __init__(self, label: str) -> None:
        self._label = label

    def __repr__(self) -> str:
        return f"<xp: {self._label}>"

    def __getattr__(self, name: str) -> Callable[..., Any]:
        function = self._resolve(name)
        setattr(self, name, function)
        return function

    def _resolve(self, name: str) -> Callable[..., Any]:
        raise NotImplementedError


_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ONES: dict[tuple[int, np.dtype], np.ndarray] = {}


def ones_vector(size: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ones (cached): sums along one dim written as a GEMV."""
    key = (size, dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = np.ones(size, dtype=dtype)
        ones.flags.writeable = False
    return ones


class ArrayNamespace(_Namespace):
    """``xp`` of a first-order backward: the primitives' NumPy forwards, on arrays."""

    is_tensor = False

    def _resolve(self, name: str) -> Callable[..., Any]:
        spec = REGISTRY.get(name)
        if spec is None or spec.kind != "primitive":
            raise AttributeError(
                f"xp.{name}: gradient rules may call registered primitives only (composites "
                "have no array form)"
            )
        if spec.residuals:
            forward = spec.forward
            return lambda *args, **kwargs: forward(*args, **kwargs)[0]
        return spec.forward

    @staticmethod
    def expand(x: np.ndarray, *, shape: tuple) -> np.ndarray:
        """Broadcast ``x`` to ``shape``: a read-only view, as ``np.broadcast_to`` (whose Python
        wrapper costs three times this; a sum's or mean's rule calls it on every backward)."""
        if x.shape == shape:
            return x
        if not x.ndim:  # a full reduction's gradient: every stride 0
            view = np.ndarray(shape, x.dtype, x, 0, (0,) * len(shape))
            view.flags.writeable = False
            return view
        lead = len(shape) - x.ndim
        if lead < 0 or not x.flags.c_contiguous:
            return np.broadcast_to(x, shape)
        strides = [0] * lead
        for size, target, stride in zip(x.shape, shape[lead:], x.strides):
            if size == target:
                strides.append(stride)
            elif size == 1:
                strides.append(0)
            else:
                return np.broadcast_to(x, shape)  # raises NumPy's error
        view = np.ndarray(shape, x.dtype, x, 0, tuple(strides))
        view.flags.writeable = False
        return view

    @staticmethod
    def unsqueeze(x: np.ndarray, dim: int) -> np.ndarray:
        """Insert a size-1 dim (a view)."""
        return np.expand_dims(x, dim)

    @staticmethod
    def squeeze(x: np.ndarray, dim: int) -> np.ndarray:
        """Drop a size-1 dim (a view)."""
        return np.squeeze(x, dim)

    @staticmethod
    def constant(value: Any, like: Any) -> np.ndarray:
        """``value`` as an array of ``like``'s dtype (no graph)."""
        return np.asarray(value, dtype=like.dtype)

    @staticmethod
    def sum_dim0(x: np.ndarray) -> np.ndarray:
        """``x.sum(0)``; a float matrix's as one GEMV, ``ones @ x`` (2-3x quicker than NumPy's
        reduction over the rows at a batch's sizes: a linear layer's bias gradient)."""
        if x.ndim != 2 or x.dtype not in _BLAS_FLOATS:
            return x.sum(0)
        return ones_vector(x.shape[0], x.dtype) @ x


class TensorNamespace(_Namespace):
    """``xp`` under ``create_graph``: the registered ops themselves, recording a graph."""

    is_tensor = True

    def _resolve(self, name: str) -> Callable[..., Any]:
        spec = REGISTRY.get(name)
        if spec is None:
            raise AttributeError(f"xp.{name}: no op of that name is registered")
        return spec

    @staticmethod
    def unsqueeze(x: Any, dim: int) -> Any:
        """Insert a size-1 dim."""
        return x.unsqueeze(dim)

    @staticmethod
    def squeeze(x: Any, dim: int) -> Any:
        """Drop a size-1 dim."""
        return x.squeeze(dim)

    @staticmethod
    def constant(value: Any, like: Any) -> Any:
        """``value`` as a Tensor of ``like``'s dtype (no graph)."""
        from .tensor import Tensor

        return Tensor._from_array(np.asarray(value, dtype=like.dtype))

    @staticmethod
    def sum_dim0(x: Any) -> Any:
        """``x.sum(0)``."""
        return x.sum(0)


ARRAY = ArrayNamespace("arrays")
TENSOR = TensorNamespace("tensors")
