"""Datasets, as ``torch.utils.data.dataset``: Dataset, IterableDataset, TensorDataset,
ConcatDataset, ChainDataset, Subset, random_split.

Array-backed datasets implement ``get_batch(indices)`` so that a DataLoader fetches a whole batch
with one fancy-indexing call instead of a Python loop over samples.
"""

from __future__ import annotations

import bisect
import collections.abc
import math
import numbers
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..random import default_generator
from ..tensor import Tensor
from .collate import _stack_arrays, default_collate

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "ConcatDataset",
    "ChainDataset",
    "Subset",
    "random_split",
]


def _index_array(indices: Any, op: str) -> np.ndarray:
    """Return ``indices`` as a 1-D int64 array (a clear error for anything else)."""
    array = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(
            f"{op}: indices must be a 1-D sequence of ints, got {array.dtype} of shape {array.shape}"
        )
    return array.astype(np.int64, copy=False)


def _check_range(indices: np.ndarray, length: int, op: str) -> np.ndarray:
    """Check ``indices`` against ``length`` and map negative ones to positive (vectorised)."""
    if indices.size and (indices.min() < -length or indices.max() >= length):
        bad = indices[(indices < -length) | (indices >= length)][0]
        raise IndexError(f"{op}: index {int(bad)} is out of range for a dataset of length {length}")
    return np.where(indices < 0, indices + length, indices)


class Dataset:
    """Map-style dataset: subclasses implement ``__getitem__`` and ``__len__``.

    ``a + b`` concatenates two datasets. Subclasses holding arrays may override ``get_batch`` to
    fetch many samples at once; the default loops over ``__getitem__``.

    Example:
        >>> from autograd.data import Dataset
        >>> class Squares(Dataset):
        ...     def __len__(self): return 4
        ...     def __getitem__(self, i): return i * i
        >>> len(Squares() + Squares()), (Squares() + Squares())[5]
        (8, 1)
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> Any:
        """Return the samples at ``indices`` collated as ``default_collate`` would collate them."""
        return default_collate([self[int(i)] for i in _index_array(indices, "get_batch")])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses implement ``__iter__`` (and may have ``__len__``).

    The DataLoader reads it in order (no sampler, no shuffle). With ``num_workers > 0`` every
    worker process iterates its own copy, so ``__iter__`` should split the stream by
    :func:`~autograd.data.get_worker_info` (as in PyTorch) or each sample arrives once per worker.
    ``a + b`` chains two streams.

    Example:
        >>> from autograd.data import DataLoader, IterableDataset, get_worker_info
        >>> class Range(IterableDataset):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self):
        ...         info = get_worker_info()  # None in the main process
        ...         if info is None:
        ...             return iter(range(self.n))
        ...         return iter(range(info.id, self.n, info.num_workers))
        >>> [b.tolist() for b in DataLoader(Range(5), batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index: Any) -> Any:
        raise TypeError(
            f"{type(self).__name__} is an IterableDataset: it is read by iterating, not indexing"
        )

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Chain iterable datasets: iterate the first to its end, then the next, and so on.

    Example:
        >>> from autograd.data import ChainDataset
        >>> list(ChainDataset([range(2), range(3)]))
        [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)

    def __iter__(self) -> Iterator[Any]:
        for dataset in self.datasets:
            yield from dataset

    def __len__(self) -> int:
        return sum(len(dataset) for dataset in self.datasets)


class TensorDataset(Dataset):
    """Wrap tensors that share their first dimension; sample ``i`` is ``tuple(t[i] for t)``.

    NumPy arrays are accepted and wrapped without a copy. Batches are fetched with one
    fancy-indexing call per tensor (``get_batch``), so a DataLoader over it runs no per-sample loop.

    Shape: each tensor ``(N, *)``; a sample is ``tuple((*,) ...)``.

    Example:
        >>> import autograd as ag
        >>> from autograd.data import TensorDataset
        >>> ds = TensorDataset(ag.arange(6).reshape(3, 2), ag.tensor([0, 1, 0]))
        >>> len(ds), ds[1]
        (3, (tensor([2, 3]), tensor(1)))
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        wrapped = []
        for position, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = Tensor._from_array(t)
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: argument {position} is a {type(t).__name__}, "
                    "expected a Tensor or a numpy.ndarray"
                )
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {position} is 0-d; every tensor needs a first "
                    "dimension that indexes the samples"
                )
            wrapped.append(t)
        sizes = [t.shape[0] for t in wrapped]
        if any(size != sizes[0] for size in sizes):
            shapes = ", ".join(str(tuple(t.shape)) for t in wrapped)
            raise ValueError(
                f"TensorDataset: size mismatch between tensors (shapes {shapes}); "
                "every tensor needs the same size in dim 0 (the number of samples)"
            )
        self.tensors: tuple[Tensor, ...] = tuple(wrapped)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> list[Tensor]:
        """Return ``[t[indices] for t in tensors]``: one gather per tensor, no Python loop."""
        index = _check_range(_index_array(indices, "TensorDataset"), len(self), "TensorDataset")
        return [
            t[index] if t.requires_grad else Tensor._from_array(t._data[index])
            for t in self.tensors
        ]


class ConcatDataset(Dataset):
    """Concatenate datasets: index ``i`` runs through them in order.

    Example:
        >>> from autograd.data import ConcatDataset
        >>> ds = ConcatDataset([[1, 2], [3, 4, 5]])
        >>> len(ds), ds[2], ds[-1], ds.cumulative_sizes
        (5, 3, 5, [2, 5])
    """

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes: list[int] = []
        total = 0
        for position, dataset in enumerate(self.datasets):
            try:
                total += len(dataset)
            except TypeError:
                raise TypeError(
                    f"ConcatDataset: dataset {position} ({type(dataset).__name__}) has no length; "
                    "only map-style datasets with __len__ can be concatenated"
                ) from None
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise IndexError(
                    f"ConcatDataset: index {index} is out of range for a dataset of length {len(self)}"
                )
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which >= len(self.datasets):
            raise IndexError(
                f"ConcatDataset: index {index} is out of range for a dataset of length {len(self)}"
            )
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> Any:
        """Fetch each part's samples with its own ``get_batch`` and merge them in order."""
        index = _check_range(_index_array(indices, "ConcatDataset"), len(self), "ConcatDataset")
        which = np.searchsorted(np.asarray(self.cumulative_sizes), index, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]]).astype(np.int64)
        parts, positions = [], []
        for part in np.unique(which):  # a loop over datasets, not samples
            dataset = self.datasets[int(part)]
            mask = which == part
            local = index[mask] - starts[part]
            if hasattr(dataset, "get_batch"):
                parts.append(dataset.get_batch(local))
            else:
                parts.append(default_collate([dataset[int(i)] for i in local]))
            positions.append(np.flatnonzero(mask))
        if len(parts) == 1:
            return parts[0]
        order = np.argsort(np.concatenate(positions), kind="stable")
        return _merge_batches(parts, order)


def _merge_batches(parts: list[Any], order: np.ndarray) -> Any:
    """Concatenate collated batches with the same structure, then reorder their rows."""
    first = parts[0]
    if isinstance(first, Tensor):
        rows = [p._data[0] for p in parts if len(p._data)]
        _stack_arrays(rows)  # the same error as default_collate for samples of different shapes
        return Tensor._from_array(np.concatenate([p._data for p in parts])[order])
    if isinstance(first, collections.abc.Mapping):
        return {key: _merge_batches([p[key] for p in parts], order) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(_merge_batches(list(f), order) for f in zip(*parts)))
    if isinstance(first, (list, tuple)) and all(
        isinstance(field, (Tensor, collections.abc.Mapping, list, tuple)) for field in first
    ):
        return type(first)(_merge_batches(list(f), order) for f in zip(*parts))
    # strings and other uncollatable values stay Python lists
    merged = [item for p in parts for item in p]
    return [merged[int(i)] for i in order]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Example:
        >>> from autograd.data import Subset
        >>> s = Subset([10, 11, 12, 13], [3, 0])
        >>> len(s), s[0], s[1]
        (2, 13, 10)
    """

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = indices
        self._indices = _index_array(indices, "Subset")

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[int(self._indices[index])]

    def __len__(self) -> int:
        return len(self._indices)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> Any:
        """Map ``indices`` through the subset and fetch them from the underlying dataset at once."""
        index = _check_range(_index_array(indices, "Subset"), len(self), "Subset")
        inner = self._indices[index]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(inner)
        return default_collate([self.dataset[int(i)] for i in inner])


def _check_generator(generator: Any, op: str) -> np.random.Generator | None:
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(
        f"{op}: generator must be a numpy.random.Generator or None, got {type(generator).__name__}"
    )


def random_split(
    dataset: Any,
    lengths: Sequence[int | float],
    generator: np.random.Generator | None = None,
) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping Subsets of the given lengths.

    ``lengths`` holds ints summing to ``len(dataset)``, or fractions summing to 1: each part gets
    ``floor(n * fraction)`` samples and the remainder is dealt one by one, round-robin from the
    first part (PyTorch's rule). The permutation comes from ``generator`` or the library's
    generator, so ``ag.manual_seed`` makes the split reproducible.

    Example:
        >>> import autograd as ag
        >>> from autograd.data import random_split
        >>> _ = ag.manual_seed(0)
        >>> [len(s) for s in random_split(range(10), [0.33, 0.33, 0.34])]
        [4, 3, 3]
    """
    generator = _check_generator(generator, "random_split")
    n = len(dataset)
    values = list(lengths)
    if not values:
        raise ValueError("random_split: lengths is empty; give at least one length or fraction")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"random_split: lengths must be ints or floats, got {value!r}")
        if value < 0:
            raise ValueError(f"random_split: lengths must be non-negative, got {list(lengths)}")
    total = math.fsum(values)
    all_ints = all(isinstance(v, numbers.Integral) for v in values)
    if not all_ints and math.isclose(total, 1.0) and total <= 1.0 + 1e-9:
        if any(v > 1 for v in values):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {list(lengths)}")
        sizes = [int(math.floor(n * v)) for v in values]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(
                    f"random_split: length of split at index {i} is 0; this might result in an "
                    "empty dataset",
                    stacklevel=2,
                )
    elif all_ints or all(float(v).is_integer() for v in values):
        sizes = [int(v) for v in values]
    else:
        raise ValueError(
            f"random_split: lengths {list(lengths)} are neither integers summing to the dataset's "
            f"length ({n}) nor fractions summing to 1 (sum {total:g})"
        )
    if sum(sizes) != n:
        raise ValueError(
            f"random_split: sum of input lengths ({sum(sizes)}) does not equal the length of "
            f"the input dataset ({n})"
        )
    generator = generator if generator is not None else default_generator()
    permutation = generator.permutation(n)
    offsets = np.cumsum([0, *sizes])
    return [
        Subset(dataset, permutation[offsets[i] : offsets[i + 1]].tolist())
        for i in range(len(sizes))
    ]
