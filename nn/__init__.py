"""graphgrad's neural-network package: ``Module``, layers, losses, ``nn.functional``, ``nn.init``.

>>> import autograd as ag, nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> model(ag.randn(3, 4)).shape
(3, 2)
"""

from __future__ import annotations

from pathlib import Path as _Path

from . import functional, init
from .activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .containers import Identity, ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .linear import Flatten, Linear, Unflatten
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .sparse import Embedding

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Identity", "Linear",
    "Flatten", "Unflatten", "Dropout", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding",
    "ReLU", "LeakyReLU", "GELU", "SiLU", "ELU", "Tanh", "Sigmoid", "Softplus", "Softmax",
    "LogSoftmax", "functional", "init",
]  # fmt: skip

_HERE = _Path(__file__).parent


def _export_parallel(module: str) -> None:
    """Export the public classes of a family written in parallel, once its file exists."""
    if not (_HERE / f"{module}.py").exists():
        return
    import importlib

    family = importlib.import_module(f".{module}", __name__)
    for name in getattr(family, "__all__", ()):
        if name[:1].isupper():
            globals()[name] = getattr(family, name)
            __all__.append(name)


for _family in ("conv", "pooling", "loss"):
    _export_parallel(_family)

if (_HERE / "utils.py").exists():
    from . import utils  # noqa: F401

    __all__.append("utils")
