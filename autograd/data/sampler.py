"""Samplers, as ``torch.utils.data.sampler``: which dataset indices a DataLoader reads, in order.

``SequentialSampler``, ``RandomSampler``, ``SubsetRandomSampler`` and ``WeightedRandomSampler``
yield indices; ``BatchSampler`` groups them into lists. Random samplers draw from their
``generator`` (a ``numpy.random.Generator``) or, by default, from the library's generator when
iteration starts, so ``ag.manual_seed`` makes every epoch reproducible. The built-in samplers also
give the whole epoch as one NumPy array (``_index_array``), which the DataLoader slices into
batches without a Python loop over indices.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

from ..random import default_generator
from ..tensor import Tensor
from .dataset import _check_generator

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class Sampler:
    """Base class of samplers: subclasses implement ``__iter__`` (and usually ``__len__``).

    Example:
        >>> from autograd.data import DataLoader, Sampler
        >>> class EvensFirst(Sampler):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self): return iter([*range(0, self.n, 2), *range(1, self.n, 2)])
        ...     def __len__(self): return self.n
        >>> [b.tolist() for b in DataLoader(list(range(5)), batch_size=3, sampler=EvensFirst(5))]
        [[0, 2, 4], [1, 3]]
    """

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """Yield ``0, 1, ..., len(data_source) - 1``.

    Example:
        >>> from autograd.data import SequentialSampler
        >>> list(SequentialSampler("abc"))
        [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _index_array(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Yield the indices of ``data_source`` in random order.

    Without ``replacement`` each epoch is a permutation; ``num_samples`` larger than the dataset
    chains several permutations (smaller: a prefix of one). With ``replacement=True`` it draws
    ``num_samples`` (default ``len(data_source)``) indices independently and uniformly.

    Example:
        >>> import autograd as ag
        >>> from autograd.data import RandomSampler
        >>> _ = ag.manual_seed(0)
        >>> sorted(RandomSampler(range(5)))
        [0, 1, 2, 3, 4]
        >>> len(list(RandomSampler(range(5), replacement=True, num_samples=12)))
        12
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _check_generator(generator, "RandomSampler")
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        if not _is_int(self.num_samples) or self.num_samples <= 0:
            raise ValueError(
                "num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        """The number of indices per epoch (``len(data_source)`` unless given)."""
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def _index_array(self) -> np.ndarray:
        n = len(self.data_source)
        generator = self.generator if self.generator is not None else default_generator()
        count = int(self.num_samples)
        if self.replacement:
            return generator.integers(0, n, size=count, dtype=np.int64)
        if count == n:  # the common case: one permutation
            return generator.permutation(n).astype(np.int64)
        parts = [generator.permutation(n) for _ in range(count // n)]
        parts.append(generator.permutation(n)[: count % n])
        return np.concatenate(parts).astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """Yield the given ``indices`` in a random order (a fresh permutation every epoch).

    Example:
        >>> import autograd as ag
        >>> from autograd.data import SubsetRandomSampler
        >>> _ = ag.manual_seed(0)
        >>> sorted(SubsetRandomSampler([10, 20, 30]))
        [10, 20, 30]
    """

    def __init__(
        self, indices: Sequence[int], generator: np.random.Generator | None = None
    ) -> None:
        self.indices = indices
        self.generator = _check_generator(generator, "SubsetRandomSampler")

    def _permutation(self) -> np.ndarray:
        generator = self.generator if self.generator is not None else default_generator()
        return generator.permutation(len(self.indices))

    def _index_array(self) -> np.ndarray:
        indices = np.asarray(self.indices)
        if indices.size and not np.issubdtype(indices.dtype, np.integer):
            raise TypeError(
                f"SubsetRandomSampler: indices must be ints for batched loading, got {indices.dtype}"
            )
        return indices.astype(np.int64, copy=False)[self._permutation()]

    def __iter__(self) -> Iterator[Any]:
        indices = self.indices
        return (indices[i] for i in self._permutation().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Draw ``num_samples`` indices ``i`` with probability proportional to ``weights[i]``.

    With ``replacement=True`` (the default) the draws are independent, the usual way to
    rebalance classes; without it an index is drawn at most once (``num_samples`` may then not
    exceed ``len(weights)``; zero weights are drawn last, as in PyTorch).

    Example:
        >>> import autograd as ag
        >>> from autograd.data import WeightedRandomSampler
        >>> _ = ag.manual_seed(0)
        >>> sorted(set(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], num_samples=20)))
        [1, 3]
    """

    def __init__(
        self,
        weights: Sequence[float] | np.ndarray | Tensor,
        num_samples: int,
        replacement: bool = True,
        generator: np.random.Generator | None = None,
    ) -> None:
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        array = np.asarray(weights._data if isinstance(weights, Tensor) else weights)
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"WeightedRandomSampler: weights must be numbers, got dtype {array.dtype}"
            ) from None
        if array.ndim != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {tuple(array.shape)}"
            )
        self.weights = Tensor._from_array(array)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = _check_generator(generator, "WeightedRandomSampler")

    def _index_array(self) -> np.ndarray:
        # the checks of torch.multinomial, with its exception type
        weights = self.weights._data
        if weights.size == 0:
            raise RuntimeError("WeightedRandomSampler: cannot sample from an empty weights list")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise RuntimeError(
                "WeightedRandomSampler: probability tensor contains either inf, nan or element < 0"
            )
        total = weights.sum()
        if total <= 0:
            raise RuntimeError(
                "WeightedRandomSampler: invalid multinomial distribution (sum of probabilities "
                "<= 0)"
            )
        if not self.replacement and self.num_samples > weights.size:
            raise RuntimeError(
                f"WeightedRandomSampler: cannot sample n_sample > prob_dist.size(-1) samples "
                f"without replacement ({self.num_samples} > {weights.size})"
            )
        generator = self.generator if self.generator is not None else default_generator()
        if self.replacement:
            return generator.choice(
                weights.size, size=self.num_samples, replace=True, p=weights / total
            ).astype(np.int64)
        # without replacement: order by weight / Exp(1) (a weighted random permutation); as in
        # PyTorch, zero weights come last, in random order, once the others are used up
        keys = weights / generator.exponential(size=weights.size)
        order = np.lexsort((generator.random(weights.size), -keys))
        return order[: self.num_samples].astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last may be shorter,
    unless ``drop_last``).

    Example:
        >>> from autograd.data import BatchSampler, SequentialSampler
        >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6]]
        >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=True))
        [[0, 1, 2], [3, 4, 5]]
    """

    def __init__(self, sampler: Sampler | Iterable[Any], batch_size: int, drop_last: bool) -> None:
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def _index_batches(self) -> Iterator[np.ndarray] | None:
        """Batches as slices of the sampler's epoch array, if the sampler can give one."""
        index_array = getattr(self.sampler, "_index_array", None)
        if index_array is None:
            return None
        order = index_array()
        size = self.batch_size
        stop = len(order) - len(order) % size if self.drop_last else len(order)
        return (order[start : start + size] for start in range(0, stop, size))

    def __iter__(self) -> Iterator[list[Any]]:
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            for full in zip(*([sampler_iter] * self.batch_size)):
                yield [*full]
        else:
            batch = [*itertools.islice(sampler_iter, self.batch_size)]
            while batch:
                yield batch
                batch = [*itertools.islice(sampler_iter, self.batch_size)]

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


class _InfiniteConstantSampler(Sampler):
    """Yield None forever: the 'index' stream of an IterableDataset (PyTorch's helper)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


def _as_index_list(indices: Any) -> list[Any]:
    """A batch of indices as a Python list (arrays become lists of ints)."""
    if isinstance(indices, np.ndarray):
        return indices.tolist()
    return list(indices)
