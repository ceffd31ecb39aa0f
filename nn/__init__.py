"""graphgrad's neural-network package: ``Module``, layers, losses, ``nn.functional``, ``nn.init``.

>>> import autograd as ag, nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> model(ag.randn(3, 4)).shape
(3, 2)
"""

from __future__ import annotations

from .containers import Identity, ModuleDict, ModuleList, Sequential
from .module import Module, Parameter

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Identity"]
