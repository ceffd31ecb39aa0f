"""Data loading, as ``torch.utils.data``: datasets, samplers, collation and the DataLoader.

``autograd.data.dataset``, ``autograd.data.sampler`` and ``autograd.data.dataloader`` are the
modules PyTorch users import from (``torch.utils.data.dataset`` ...); everything is also here.

>>> import autograd as ag
>>> from autograd.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(ag.arange(6).float()), batch_size=4)
>>> [x.tolist() for (x,) in loader]
[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]
"""

from __future__ import annotations

from ._worker import WorkerInfo, get_worker_info
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "ConcatDataset",
    "ChainDataset",
    "Subset",
    "random_split",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "DataLoader",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "WorkerInfo",
]
