"""Datasets and batching: Dataset, TensorDataset, Subset, ConcatDataset, DataLoader, random_split.

Array-backed datasets implement ``get_batch(indices)`` so that a DataLoader fetches a whole batch
with one fancy-indexing call instead of a Python loop over samples.
"""

from __future__ import annotations

import bisect
import collections.abc
import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .random import default_generator
from .tensor import Tensor

__all__ = [
    "Dataset",
    "TensorDataset",
    "ConcatDataset",
    "Subset",
    "DataLoader",
    "default_collate",
    "default_convert",
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
            from .ops.shape import stack

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


def _check_generator(generator: Any, op: str) -> np.random.Generator | None:
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(
        f"{op}: generator must be a numpy.random.Generator or None, got {type(generator).__name__}"
    )


class DataLoader:
    """Iterate over a dataset in batches, optionally shuffled, as ``torch.utils.data.DataLoader``.

    Each iteration draws a fresh order from ``generator`` or, by default, from the library's
    generator at the moment iteration starts, so ``ag.manual_seed`` makes every epoch's order
    reproducible. With the default collation, datasets that implement ``get_batch``
    (``TensorDataset``, ``Subset`` and ``ConcatDataset`` of them, the MNIST loaders) are batched
    with one vectorised indexing call per batch; other datasets are read sample by sample and
    merged by ``default_collate`` (or ``collate_fn``, which receives the list of samples).

    Args:
        batch_size: samples per batch (a positive int), or None to yield single samples unbatched.
        drop_last: drop the last batch when it would be smaller than ``batch_size``.
        generator: a ``numpy.random.Generator`` to shuffle with instead of the library's.
        num_workers, pin_memory: accepted for compatibility; loading runs in the main process.

    Example:
        >>> import autograd as ag
        >>> from autograd.data import DataLoader, TensorDataset
        >>> ds = TensorDataset(ag.arange(10).float(), ag.arange(10))
        >>> [x.shape for x, y in DataLoader(ds, batch_size=4)]
        [(4,), (4,), (2,)]
        >>> len(DataLoader(ds, batch_size=4, drop_last=True))
        2
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        generator: np.random.Generator | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
        ):
            raise TypeError(
                f"DataLoader: batch_size should be a positive integer value, but got "
                f"batch_size={batch_size!r} ({type(batch_size).__name__})"
            )
        if batch_size is not None and batch_size < 1:
            raise ValueError(
                f"DataLoader: batch_size should be a positive integer value, but got "
                f"batch_size={batch_size}"
            )
        if batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually "
                "exclusive with drop_last"
            )
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"DataLoader: shuffle must be a bool, got {type(shuffle).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(
                f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}"
            )
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                f"DataLoader: num_workers option should be non-negative, got {num_workers!r}"
            )
        try:
            len(dataset)
        except TypeError:
            raise TypeError(
                f"DataLoader: the dataset ({type(dataset).__name__}) has no __len__; "
                "a map-style dataset with __getitem__ and __len__ is needed"
            ) from None
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.generator = _check_generator(generator, "DataLoader")
        self.num_workers = num_workers
        self.pin_memory = pin_memory

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n, dtype=np.int64)
        generator = self.generator if self.generator is not None else default_generator()
        return generator.permutation(n).astype(np.int64)

    def _fetch(self, indices: np.ndarray) -> Any:
        dataset = self.dataset
        if self.collate_fn is None or self.collate_fn is default_collate:
            if hasattr(dataset, "get_batch"):
                return dataset.get_batch(indices)
            return default_collate([dataset[int(i)] for i in indices])
        if hasattr(dataset, "__getitems__"):
            samples = dataset.__getitems__(indices.tolist())
        else:
            samples = [dataset[int(i)] for i in indices]
        return self.collate_fn(samples)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()  # drawn now, so each epoch reshuffles from the current seed state
        if self.batch_size is None:
            convert = self.collate_fn or default_convert
            return (convert(self.dataset[int(i)]) for i in order)
        return self._batches(order, self.batch_size)

    def _batches(self, order: np.ndarray, batch_size: int) -> Iterator[Any]:
        stop = len(self) * batch_size
        for start in range(0, min(stop, len(order)), batch_size):
            yield self._fetch(order[start : start + batch_size])

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__} of {len(self.dataset)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})"
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
