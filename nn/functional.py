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


def _export_parallel(module: str, names: list[str]) -> None:
    """Export ``names`` from a family written in parallel, once its file exists."""
    if not (_HERE / f"{module}.py").exists():
        return
    import importlib

    family = importlib.import_module(f".{module}", __name__.rpartition(".")[0])
    for name in names:
        if hasattr(family, name):
            globals()[name] = getattr(family, name)
            __all__.append(name)


_export_parallel("conv", ["conv1d", "conv2d"])
_export_parallel("pooling", ["max_pool1d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"])
_export_parallel(
    "loss",
    ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
     "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"],
)  # fmt: skip
