"""Collation, as ``torch.utils.data.default_collate`` / ``default_convert``: samples to batches."""

from __future__ import annotations

import collections.abc
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["default_collate", "default_convert"]


def _stack_arrays(arrays: list[np.ndarray]) -> np.ndarray:
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        first = arrays[0].shape
        position, other = next((i, a.shape) for i, a in enumerate(arrays) if a.shape != first)
        raise RuntimeError(
            f"default_collate: can't stack samples of different shapes: {first} at entry 0 and "
            f"{other} at entry {position}; pad or resize them, or pass a collate_fn"
        )
    return np.stack(arrays)


def default_collate(batch: list[Any]) -> Any:
    """Merge a list of samples into a batch, as ``torch.utils.data.default_collate``.

    Tensors and ndarrays are stacked along a new dim 0; Python ints become an int64 tensor, Python
    floats a float64 tensor and bools a bool tensor (PyTorch's choices); NumPy scalars keep their
    dtype. Dicts, named tuples and sequences are collated field by field (tuples and lists become
    lists); strings stay a list.

    Example:
        >>> import autograd as ag
        >>> from autograd.data import default_collate
        >>> default_collate([(ag.tensor([1.0]), 0), (ag.tensor([2.0]), 1)])
        [tensor([[1.],
                [2.]]), tensor([0, 1])]
    """
    if not isinstance(batch, Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"default_collate: expected a list of samples, got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(isinstance(t, Tensor) and t.requires_grad for t in batch):
            from ..ops.shape import stack

            return stack(list(batch))
        return Tensor._from_array(_stack_arrays([np.asarray(t._data) for t in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USOV":
            raise TypeError(
                "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                f"lists; found an array of dtype {elem.dtype}"
            )
        return Tensor._from_array(_stack_arrays([np.asarray(a) for a in batch]))
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return Tensor._from_array(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return Tensor._from_array(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._from_array(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._from_array(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError(
                "default_collate: each element in list of batch should be of equal size "
                f"(sizes {sorted({len(sample) for sample in batch})})"
            )
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem)}"
    )


def default_convert(data: Any) -> Any:
    """Turn ndarrays (also inside dicts and sequences) into Tensors; leave everything else.

    Used by ``DataLoader(batch_size=None)``, as PyTorch's ``default_convert``.
    """
    if isinstance(data, np.ndarray) and data.dtype.kind not in "USOV":
        return Tensor._from_array(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return Tensor._from_array(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(d) for d in data)
    return data
