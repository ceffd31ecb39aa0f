"""What runs inside a DataLoader worker process, and how batches are fetched (in any process).

A worker seeds its random generators from ``base_seed + worker_id``, publishes its
:class:`WorkerInfo` (``get_worker_info()``), calls ``worker_init_fn``, then answers
``(task index, batch indices)`` requests from its index queue on the shared result queue until
it receives None. A failure is sent back as an :class:`ExceptionWrapper` that the main process
re-raises, naming the worker. This mirrors PyTorch's ``torch/utils/data/_utils/worker.py``.
"""

from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .collate import default_collate
from .sampler import _as_index_list

# how often (seconds) a waiting worker checks that its parent is alive, and the main process that
# its workers are
MP_STATUS_CHECK_INTERVAL = 5.0


class WorkerInfo:
    """What a worker process knows about itself: ``id``, ``num_workers``, ``seed``, ``dataset``.

    ``seed`` is ``base_seed + id``: the library's generator, Python's ``random`` and NumPy's
    global generator of the worker are seeded from it. The attributes cannot be changed.

    Example:
        >>> from autograd.data import get_worker_info
        >>> get_worker_info() is None  # in the main process
        True
    """

    __initialized = False

    def __init__(self, **kwargs: Any) -> None:
        for key, value in kwargs.items():
            setattr(self, key, value)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key: str, value: Any) -> None:
        if self.__initialized:
            raise RuntimeError(
                f"Cannot assign attributes to {type(self).__name__} objects (tried {key!r})"
            )
        super().__setattr__(key, value)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{type(self).__name__}({items})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The :class:`WorkerInfo` of the current DataLoader worker process, or None in the main one.

    An :class:`~autograd.data.IterableDataset` uses it in ``__iter__`` to give each worker its
    own share of the stream; a ``worker_init_fn`` uses it to configure the worker's copy of the
    dataset (``get_worker_info().dataset``).

    Example:
        >>> from autograd.data import get_worker_info
        >>> print(get_worker_info())
        None
    """
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process with its traceback text."""

    def __init__(self, exc_info: Any = None, where: str = "in background") -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self) -> None:
        """Raise the exception again (same type when it can be built from a message)."""
        message = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            # KeyError quotes its message; keep the traceback readable
            message = _KeyErrorMessage(message)
        try:
            exception = self.exc_type(message)
        except Exception:
            raise RuntimeError(message) from None
        try:
            raise exception
        finally:
            # no cycle exception -> traceback -> this frame -> exception: the DataLoader iterator
            # in the traceback is then freed (and its workers stopped) as soon as the caller
            # drops the exception
            del exception


class _KeyErrorMessage(str):
    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's message that its copy of an IterableDataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """The main process asks a persistent worker to start a new epoch."""


def _int_array(indices: Any) -> np.ndarray | None:
    """``indices`` as a 1-D integer array if they are integers, else None."""
    if type(indices) is np.ndarray and indices.dtype == np.int64 and indices.ndim == 1:
        return indices  # the fast path: a slice of a built-in sampler's epoch array
    array = indices if isinstance(indices, np.ndarray) else np.asarray(indices)
    if array.ndim == 1 and (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        return array.astype(np.int64, copy=False)
    return None


def fetch_batch(dataset: Any, indices: Any, collate_fn: Callable[[list[Any]], Any]) -> Any:
    """Read the samples at ``indices`` and collate them.

    With the default collation, a dataset with ``get_batch`` is read in one vectorised call;
    ``__getitems__`` (PyTorch's batched protocol) is used when the dataset has it.
    """
    if collate_fn is default_collate:
        get_batch = getattr(dataset, "get_batch", None)
        if get_batch is not None:
            array = _int_array(indices)
            if array is not None:
                return get_batch(array)
    keys = _as_index_list(indices)
    getitems = getattr(dataset, "__getitems__", None)
    samples = getitems(keys) if getitems else [dataset[key] for key in keys]
    return collate_fn(samples)


class _MapFetcher:
    def __init__(
        self, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool
    ) -> None:
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, index: Any) -> Any:
        if self.auto_collation:
            return fetch_batch(self.dataset, index, self.collate_fn)
        return self.collate_fn(self.dataset[index])


class _IterableFetcher:
    def __init__(
        self, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool
    ) -> None:
        self.dataset_iter = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if len(data) == 0 or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def create_fetcher(
    iterable: bool, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool
) -> _MapFetcher | _IterableFetcher:
    fetcher = _IterableFetcher if iterable else _MapFetcher
    return fetcher(dataset, auto_collation, collate_fn, drop_last)


def _seed_worker(seed: int, base_seed: int, worker_id: int) -> None:
    from ..random import manual_seed

    random.seed(seed)
    manual_seed(seed)
    # NumPy's global generator too (as PyTorch does), from a hash of (worker id, base seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(1)[0])


def _pack(data: Any, worker_id: int) -> bytes:
    """Pickle a result here, so that an unpicklable batch becomes an error the main process sees
    (a Queue would pickle it in a background thread, drop it, and leave the main process waiting).
    """
    try:
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        wrapped = ExceptionWrapper(
            where=f"in DataLoader worker process {worker_id} (sending the batch back)"
        )
        return pickle.dumps(wrapped, protocol=pickle.HIGHEST_PROTOCOL)


def _worker_loop(
    iterable: bool,
    dataset: Any,
    index_queue: Any,
    data_queue: Any,
    done_event: Any,
    auto_collation: bool,
    collate_fn: Callable,
    drop_last: bool,
    base_seed: int,
    init_fn: Callable[[int], None] | None,
    worker_id: int,
    num_workers: int,
) -> None:
    """The body of a worker process (see the module docstring)."""
    global _worker_info
    try:
        seed = base_seed + worker_id
        _seed_worker(seed, base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        iteration_end = False
        parent = os.getppid()
        while os.getppid() == parent:  # stop if the main process died
            try:
                request = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(request, _ResumeIteration):
                data_queue.put((request, None))
                iteration_end = False
                if init_exception is None:
                    fetcher = create_fetcher(
                        iterable, dataset, auto_collation, collate_fn, drop_last
                    )
                continue
            if request is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            task, index = request
            data: Any
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    assert fetcher is not None, "DataLoader worker: fetcher missing"
                    data = fetcher.fetch(index)
                except Exception as error:
                    if isinstance(error, StopIteration) and iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            data_queue.put((task, _pack(data, worker_id)))
            del data, task, index, request  # free the batch before waiting again
    except KeyboardInterrupt:
        pass  # the main process handles Ctrl-C and shuts the workers down
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
