"""graphgrad: the training application built on the engine (``autograd``), ``nn`` and ``optim``.

Like torchvision beside torch: the ``graphgrad-train`` command line (:mod:`graphgrad.train`),
its training loop (:mod:`graphgrad.trainer`), run folders and checkpoints
(:mod:`graphgrad.checkpoint`), reports (:mod:`graphgrad.reports`), the model recipes
(:mod:`graphgrad.models`) and the image datasets (:mod:`graphgrad.datasets`). Nothing in
``autograd``, ``nn`` or ``optim`` imports it.

>>> from graphgrad.models import build_model
>>> type(build_model("mlp")).__name__
'MLP'
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["datasets", "models", "train"]

_SUBMODULES = {"datasets", "models", "train", "trainer", "checkpoint", "reports"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'graphgrad' has no attribute {name!r}")
