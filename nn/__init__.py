"""graphgrad's neural-network package: ``Module``, layers, losses, ``nn.functional``, ``nn.init``.

>>> import autograd as ag, nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> model(ag.randn(3, 4)).shape
(3, 2)
"""

from __future__ import annotations

from pathlib import Path as _Path

from . import functional, init
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
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


def _export_parallel(module: str, names: list[str]) -> None:
    """Export ``names`` from a family written in parallel, once its file exists."""
    if not (_HERE / f"{module}.py").exists():
        return
    import importlib

    family = importlib.import_module(f".{module}", __name__)
    for name in names:
        if hasattr(family, name):
            globals()[name] = getattr(family, name)
            __all__.append(name)


_export_parallel("conv", ["Conv1d", "Conv2d"])
_export_parallel("pooling", ["MaxPool1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"])
_export_parallel(
    "loss",
    ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
     "BCEWithLogitsLoss", "KLDivLoss"],
)  # fmt: skip
if (_HERE / "utils.py").exists():
    from . import utils  # noqa: F401

    __all__.append("utils")
