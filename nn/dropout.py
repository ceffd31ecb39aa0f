"""Dropout: ``F.dropout`` and ``Dropout`` (inverted scaling; identity in evaluation)."""

from __future__ import annotations

import numpy as np

from autograd.random import default_generator
from autograd.tensor import Tensor

from .module import Module

__all__ = ["dropout", "Dropout"]

# Not in the op registry: a random mask makes finite differences meaningless (each call draws a
# new mask). tests/test_nn/test_layers.py checks the gradient with a fixed seed instead.


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The mask comes from the generator ``ag.manual_seed`` seeds; with ``training=False`` the
    input is returned unchanged.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> y = F.dropout(ag.ones(1000), p=0.2)
        >>> sorted(set(y.tolist()))
        [0.0, 1.25]
    """
    _check_p(p)
    if not training or p == 0.0:
        return input
    dtype = input.dtype if input.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1.0:
        mask = np.zeros(input.shape, dtype=dtype)
    else:
        draw_dtype = dtype if dtype in (np.float32, np.float64) else np.float64
        keep = default_generator().random(input.shape, dtype=draw_dtype) >= p
        mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))
    mask_tensor = Tensor._from_array(mask)
    if inplace:
        return input._inplace("dropout_", lambda s: s * mask_tensor)
    return input * mask_tensor


class Dropout(Module):
    """Randomly zero elements with probability ``p`` during training (scaled by ``1/(1-p)``).

    Shape: ``(*) -> (*)``.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        _check_p(p)
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
