"""``nn.functional`` (imported as ``F``): re-exports of the functions defined next to each layer.

There is no second implementation here: ``F.linear`` is ``nn.linear.linear``, and so on.
"""

from __future__ import annotations

from pathlib import Path as _Path

from .activation import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from .dropout import dropout
from .linear import linear
from .normalization import batch_norm, layer_norm
from .padding import one_hot, pad
from .sparse import embedding

__all__ = [
    "linear", "relu", "leaky_relu", "gelu", "silu", "elu", "tanh", "sigmoid", "softplus",
    "softmax", "log_softmax", "dropout", "batch_norm", "layer_norm", "embedding", "pad",
    "one_hot",
]  # fmt: skip

_HERE = _Path(__file__).parent


def _export_parallel(module: str) -> None:
    """Export the public functions of a family written in parallel, once its file exists."""
    if not (_HERE / f"{module}.py").exists():
        return
    import importlib

    family = importlib.import_module(f".{module}", __name__.rpartition(".")[0])
    for name in getattr(family, "__all__", ()):
        if name[:1].islower():
            globals()[name] = getattr(family, name)
            __all__.append(name)


for _family in ("conv", "pooling", "loss"):
    _export_parallel(_family)
