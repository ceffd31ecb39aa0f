"""``DataLoader``, as ``torch.utils.data.dataloader``: batches from a dataset, in the main process
or in worker processes.

A DataLoader combines a dataset with a sampler (which indices, in which order) and a batch
sampler (how they group), then fetches and collates each batch. With ``num_workers=0`` everything
runs in the main process; array-backed datasets (``get_batch``) are read with one vectorised call
per batch. With ``num_workers > 0`` worker processes fetch batches in parallel, as in PyTorch:
batch ``k`` goes to worker ``k % num_workers`` (at most ``prefetch_factor`` batches ahead per
worker), results come back in order, every worker is seeded with ``base_seed + worker_id``, and
the workers are shut down when the iterator ends, is dropped, or fails.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import multiprocessing.context
import os
import pickle
import queue
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..random import default_generator
from . import _worker
from ._worker import (
    ExceptionWrapper,
    WorkerInfo,
    _IterableDatasetStopIteration,
    _ResumeIteration,
    create_fetcher,
    fetch_batch,
    get_worker_info,
)
from .collate import default_collate, default_convert
from .dataset import IterableDataset, _check_generator
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    _InfiniteConstantSampler,
)

__all__ = [
    "DataLoader",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "WorkerInfo",
]

_FROZEN_ATTRIBUTES = (
    "batch_size",
    "batch_sampler",
    "sampler",
    "drop_last",
    "dataset",
    "persistent_workers",
)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class DataLoader:
    """Iterate over a dataset in batches, as ``torch.utils.data.DataLoader``.

    The order comes from ``sampler`` (default: ``SequentialSampler``, or ``RandomSampler`` with
    ``shuffle=True``), the grouping from ``batch_sampler`` (default: ``BatchSampler(sampler,
    batch_size, drop_last)``); ``batch_size=None`` yields single samples (converted by
    ``default_convert``). An :class:`IterableDataset` is read as a stream (no sampler, no
    shuffle). Random orders draw from ``generator`` (a ``numpy.random.Generator``) or the
    library's generator when iteration starts, so ``ag.manual_seed`` makes every epoch
    reproducible.

    With the default collation, datasets that implement ``get_batch`` (``TensorDataset``,
    ``Subset`` and ``ConcatDataset`` of them) are batched with one vectorised indexing call per
    batch; other datasets are read sample by sample (or by ``__getitems__``) and merged by
    ``default_collate`` (or ``collate_fn``, which receives the list of samples).

    ``num_workers > 0`` loads in that many worker processes (``multiprocessing``; the start
    method from ``multiprocessing_context``). Each worker gets a copy of the dataset, seeds the
    library's generator, ``random`` and NumPy's global generator with ``base_seed + worker_id``
    (``base_seed`` drawn from the loader's generator), then runs ``worker_init_fn(worker_id)``;
    :func:`get_worker_info` tells code in a worker which one it is. Batches arrive in order
    (``in_order=False``: as they finish); an exception in a worker is raised again in the main
    process, naming the worker; ``timeout`` bounds the wait for a batch; a worker that dies is
    reported. Workers stop when the epoch ends, when the iterator is dropped (``break``, an
    exception), or, with ``persistent_workers=True``, when the loader is garbage collected.
    ``pin_memory`` and ``pin_memory_device`` are accepted and have no effect (no accelerator).

    Example:
        >>> import autograd as ag
        >>> from autograd.data import DataLoader, TensorDataset
        >>> ds = TensorDataset(ag.arange(10).float(), ag.arange(10))
        >>> [x.shape for x, y in DataLoader(ds, batch_size=4)]
        [(4,), (4,), (2,)]
        >>> len(DataLoader(ds, batch_size=4, drop_last=True))
        2
    """

    __initialized = False

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Any | None = None,
        batch_sampler: Sampler | Any | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: str | multiprocessing.context.BaseContext | None = None,
        generator: np.random.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if not _is_int(num_workers) or num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                f"multiprocessing (got num_workers={num_workers!r})"
            )
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative (got timeout={timeout})")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing. let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(
                f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}"
            )
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(
                f"DataLoader: worker_init_fn must be callable, got {type(worker_init_fn).__name__}"
            )
        if shuffle is not None and not isinstance(shuffle, (bool, np.bool_, int, np.integer)):
            raise TypeError(f"DataLoader: shuffle must be a bool, got {type(shuffle).__name__}")

        self.dataset = dataset
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._iterable = True
            if shuffle not in (False, None):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, but "
                    f"got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, but "
                    f"got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                    f"but got batch_sampler={batch_sampler}"
                )
        else:
            self._iterable = False
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            else:
                try:
                    len(dataset)
                except TypeError:
                    raise TypeError(
                        f"DataLoader: the dataset ({type(dataset).__name__}) has no __len__; a "
                        "map-style dataset needs __getitem__ and __len__ (or pass a sampler, or "
                        "make it an IterableDataset)"
                    ) from None
                generator = _check_generator(generator, "DataLoader")
                if shuffle:
                    sampler = RandomSampler(dataset, generator=generator)
                else:
                    sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = _check_generator(generator, "DataLoader")
        self.shuffle = bool(shuffle)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator: _MultiProcessingIterator | None = None
        self.__initialized = True
        if pin_memory:
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, then device "
                "pinned memory won't be used (graphgrad computes on the CPU).",
                UserWarning,
                stacklevel=2,
            )
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self) -> multiprocessing.context.BaseContext | None:
        """The ``multiprocessing`` context the workers start with (None: the default one)."""
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context: Any) -> None:
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading "
                    f"(num_workers > 0), but got num_workers={self.num_workers}"
                )
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(
                        "multiprocessing_context option should specify a valid start method in "
                        f"{methods!r}, but got multiprocessing_context={context!r}"
                    )
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(
                    "multiprocessing_context option should be a valid context object or a "
                    "string specifying the start method, but got "
                    f"multiprocessing_context={context}"
                )
        self.__multiprocessing_context = context

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__initialized and name in _FROZEN_ATTRIBUTES:
            raise ValueError(
                f"{name} attribute should not be set after {type(self).__name__} is initialized"
            )
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = (
                    length // self.batch_size
                    if self.drop_last
                    else math.ceil(length / self.batch_size)
                )
            return length
        return len(self._index_sampler)

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers == 0:
            return self._single_process_batches()
        if self.persistent_workers:
            if self._iterator is None:
                self._iterator = _MultiProcessingIterator(self)
            else:
                self._iterator._reset(self)
            return self._iterator
        return _MultiProcessingIterator(self)

    def _index_stream(self) -> Iterator[Any]:
        """The batches of indices (or single indices without auto-collation) of one epoch."""
        if type(self.batch_sampler) is BatchSampler:
            batches = self.batch_sampler._index_batches()
            if batches is not None:
                return batches  # slices of one array: no per-index Python loop
        return iter(self._index_sampler)

    def _single_process_batches(self) -> Iterator[Any]:
        indices = self._index_stream()  # drawn now: each epoch reshuffles from the current seed
        return self._fetch_all(indices)

    def _fetch_all(self, indices: Iterator[Any]) -> Iterator[Any]:
        if self._iterable:
            fetcher = create_fetcher(
                True, self.dataset, self._auto_collation, self.collate_fn, self.drop_last
            )
            for index in indices:
                try:
                    batch = fetcher.fetch(index)
                except StopIteration:
                    return
                yield batch
            return
        dataset, collate_fn = self.dataset, self.collate_fn
        if self._auto_collation:
            for index in indices:
                yield fetch_batch(dataset, index, collate_fn)
        else:
            for index in indices:
                yield collate_fn(dataset[index])

    def check_worker_number_rationality(self) -> None:
        """Warn when more workers are asked for than the CPUs this process may use."""
        if not self.num_workers:
            return
        try:
            cpus: int | None = len(os.sched_getaffinity(0))
        except AttributeError:
            cpus = os.cpu_count()
        if cpus is None or self.num_workers > cpus:
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. "
                f"Our suggested max number of worker in current system is {cpus}, which is "
                "smaller than what this DataLoader is going to create. Please be aware that "
                "excessive worker creation might get DataLoader running slow or even freeze, "
                "lower the worker number to avoid potential slowness/freeze if necessary.",
                UserWarning,
                stacklevel=3,
            )

    def __repr__(self) -> str:
        try:
            size = f" of {len(self.dataset)}"
        except TypeError:
            size = ""
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}{size}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}, "
            f"num_workers={self.num_workers})"
        )


class _MultiProcessingIterator:
    """One epoch (or, with persistent workers, every epoch) of multi-process loading.

    PyTorch's ``_MultiProcessingDataLoaderIter``: task ``k`` (a batch of indices) goes to the
    next active worker in round-robin order; at most ``prefetch_factor * num_workers`` tasks are
    outstanding; results that arrive early wait in ``_task_info`` until their turn.
    """

    def __init__(self, loader: DataLoader) -> None:
        self._iterable = loader._iterable
        self._dataset = loader.dataset
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor or 2
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent_workers = loader.persistent_workers
        self._index_iter = loader._index_stream()
        generator = loader.generator if loader.generator is not None else default_generator()
        self._base_seed = int(generator.integers(0, 2**62))
        context = loader.multiprocessing_context or multiprocessing.get_context()

        self._workers_done_event = context.Event()
        self._data_queue = context.Queue()
        self._index_queues: list[Any] = []
        self._workers: list[Any] = []
        self._workers_status: list[bool] = [True] * self._num_workers
        for worker_id in range(self._num_workers):
            index_queue = context.Queue()
            index_queue.cancel_join_thread()  # never block exit on undelivered requests
            worker = context.Process(  # type: ignore[attr-defined]
                target=_worker._worker_loop,
                args=(
                    self._iterable,
                    self._dataset,
                    index_queue,
                    self._data_queue,
                    self._workers_done_event,
                    loader._auto_collation,
                    loader.collate_fn,
                    loader.drop_last,
                    self._base_seed,
                    loader.worker_init_fn,
                    worker_id,
                    self._num_workers,
                ),
                daemon=True,
            )
            worker.start()
            self._index_queues.append(index_queue)
            self._workers.append(worker)
        # Shut the workers down when this iterator is collected, even inside a reference cycle:
        # the callback holds the queues, so their own finalizers cannot run before it (a
        # __del__ would find them closed), and it runs at interpreter exit too.
        self._finalizer = weakref.finalize(
            self,
            _shutdown_workers,
            os.getpid(),
            self._persistent_workers,
            self._workers,
            self._workers_status,
            self._index_queues,
            self._data_queue,
            self._workers_done_event,
        )
        self._reset(loader, first_iter=True)

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        self._send_idx = 0  # the index of the next task to send
        self._rcvd_idx = 0  # the index of the next result to return
        self._task_info: dict[int, tuple[Any, ...]] = {}  # task -> (worker,) or (worker, data)
        self._tasks_outstanding = 0
        self._workers_status[:] = [True] * self._num_workers  # shared with the finalizer
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # a new epoch for persistent workers: new indices, and every worker restarts
            self._index_iter = loader._index_stream()
            for index_queue in self._index_queues:
                index_queue.put(_ResumeIteration())
            pending = self._num_workers
            while pending > 0:
                task, _ = self._get_data()
                if isinstance(task, _ResumeIteration):
                    pending -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def __iter__(self) -> _MultiProcessingIterator:
        return self

    def __len__(self) -> int:
        try:
            return len(self._index_iter)  # type: ignore[arg-type]
        except TypeError:
            raise TypeError("this DataLoader iterator has no length") from None

    def __next__(self) -> Any:
        while True:
            # skip tasks whose worker has finished its IterableDataset
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if len(self._task_info[self._rcvd_idx]) == 2:  # it arrived earlier
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

            assert self._finalizer.alive and self._tasks_outstanding > 0, (
                "DataLoader: no outstanding tasks while waiting for a batch"
            )
            task, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if task != self._rcvd_idx:
                if not self._in_order:
                    worker_id = self._task_info.pop(task)[0]
                    return self._process_data(data, worker_id)
                self._task_info[task] += (data,)
            else:
                worker_id = self._task_info.pop(task)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

    def _try_put_index(self) -> None:
        max_tasks = self._prefetch_factor * self._num_workers
        assert self._tasks_outstanding < max_tasks, "DataLoader: too many outstanding tasks"
        try:
            index = next(self._index_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next active worker, if any
            worker_id = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_id]:
                if self._in_order:
                    break
                if self._workers_num_tasks[worker_id] < max_tasks // sum(self._workers_status):
                    break
        else:
            return
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._workers_num_tasks[worker_id] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data: Any, worker_id: int) -> Any:
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _try_get_data(self, timeout: float) -> tuple[bool, Any]:
        try:
            task, payload = self._data_queue.get(timeout=timeout)
        except queue.Empty:
            failed = [
                worker
                for worker_id, worker in enumerate(self._workers)
                if self._workers_status[worker_id] and not worker.is_alive()
            ]
            if failed:
                for worker_id, worker in enumerate(self._workers):
                    if worker in failed:
                        self._mark_worker_as_unavailable(worker_id)
                pids = ", ".join(str(worker.pid) for worker in failed)
                codes = ", ".join(str(worker.exitcode) for worker in failed)
                raise RuntimeError(
                    f"DataLoader worker (pid(s) {pids}) exited unexpectedly (exit code(s) {codes})"
                ) from None
            return False, None
        if isinstance(task, _ResumeIteration):
            return True, (task, None)
        return True, (task, pickle.loads(payload))

    def _get_data(self) -> tuple[Any, Any]:
        if self._timeout > 0:
            success, data = self._try_get_data(self._timeout)
            if success:
                return data
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        while True:
            success, data = self._try_get_data(_worker.MP_STATUS_CHECK_INTERVAL)
            if success:
                return data

    def _mark_worker_as_unavailable(self, worker_id: int) -> None:
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self) -> None:
        """Stop every worker and close the queues (safe to call more than once)."""
        self._finalizer()


def _shutdown_workers(
    owner_pid: int,
    persistent: bool,
    workers: list[Any],
    workers_status: list[bool],
    index_queues: list[Any],
    data_queue: Any,
    done_event: Any,
) -> None:
    """Tell the workers to stop, wait for them (terminate stragglers), close the queues."""
    if os.getpid() != owner_pid:
        return  # a forked worker inherited the iterator: its workers are not this process's
    try:
        done_event.set()
        for worker_id, index_queue in enumerate(index_queues):
            if persistent or workers_status[worker_id]:
                index_queue.put(None)
                workers_status[worker_id] = False
        for worker in workers:
            worker.join(timeout=_worker.MP_STATUS_CHECK_INTERVAL)
        for index_queue in index_queues:
            index_queue.cancel_join_thread()
            index_queue.close()
        data_queue.cancel_join_thread()
        data_queue.close()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=_worker.MP_STATUS_CHECK_INTERVAL)
