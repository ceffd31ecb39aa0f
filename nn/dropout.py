"""Dropout: ``F.dropout`` and ``Dropout``, and the channel-wise ``F.dropout1d/2d/3d`` with their
modules (inverted scaling; identity in evaluation)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from autograd.random import default_generator
from autograd.tensor import Tensor

from .module import Module

__all__ = [
    "dropout", "dropout1d", "dropout2d", "dropout3d", "Dropout", "Dropout1d", "Dropout2d",
    "Dropout3d",
]  # fmt: skip

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
    return _apply_mask(input, p, tuple(input.shape), inplace, "dropout_")


def _apply_mask(input: Tensor, p: float, shape: tuple, inplace: bool, op: str) -> Tensor:  # noqa: A002
    """Multiply by a kept-with-probability ``1 - p`` mask of ``shape`` (broadcast), scaled."""
    dtype = input.dtype if input.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1.0:
        mask = np.zeros(shape, dtype=dtype)
    else:
        draw_dtype = dtype if dtype in (np.float32, np.float64) else np.float64
        keep = default_generator().random(shape, dtype=draw_dtype) >= p
        mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))
    mask_tensor = Tensor._from_array(mask)
    if inplace:
        return input._inplace(op, lambda s: s * mask_tensor)
    return input * mask_tensor


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool) -> Tensor:  # noqa: A002
    """Zero whole channels: one mask entry per ``(sample, channel)`` (PyTorch's feature dropout)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _apply_mask(input, p, shape, inplace, "feature_dropout_")


def _channel_dropout(op: str, spatial: int, input: Tensor, p: float, training: bool,  # noqa: A002
                     inplace: bool) -> Tensor:  # fmt: skip
    """dropout1d / dropout3d: ``(N, C, *spatial)`` or unbatched ``(C, *spatial)`` input.

    Another rank is an error for dropout1d and, as in PyTorch, a deprecation warning for
    dropout3d (which then treats the input as unbatched).
    """
    _check_p(p)
    if input.ndim not in (spatial + 1, spatial + 2):
        message = (
            f"{op}: Expected {spatial + 1}D or {spatial + 2}D input, but received a "
            f"{input.ndim}D input (shape {tuple(input.shape)}). Note that {op} exists to "
            f"provide channel-wise dropout on inputs with {spatial} spatial "
            f"dimension{'s' if spatial > 1 else ''}, a channel dimension, and an optional batch "
            "dimension."
        )
        if spatial == 1:
            raise RuntimeError(message)
        warnings.warn(message + " Other ranks are deprecated (as in PyTorch).", stacklevel=3)
    if input.ndim == spatial + 2:
        return _feature_dropout(input, p, training, inplace)
    if not training or p == 0.0:
        return input
    if inplace:
        # Mask the unbatched input directly, one entry per channel (dim 0).
        shape = (input.shape[0],) + (1,) * (input.ndim - 1)
        return _apply_mask(input, p, shape, True, "feature_dropout_")
    return _feature_dropout(input.unsqueeze(0), p, training, False).squeeze(0)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) input with probability ``p``.

    The kept channels are scaled by ``1 / (1 - p)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> y = F.dropout1d(ag.ones(2, 8, 3), p=0.5)
        >>> all(len(set(channel)) == 1 for sample in y.tolist() for channel in sample)
        True
    """
    return _channel_dropout("dropout1d", 1, input, p, training, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero whole channels of ``(N, C, H, W)`` input with probability ``p``.

    As in PyTorch, a 3-D input is taken as ``(N, C, L)`` (1-D channel dropout, with PyTorch's
    warning), and other ranks warn and drop along dim 1.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.dropout2d(ag.ones(4, 3, 2, 2), p=0.5).shape
        (4, 3, 2, 2)
    """
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.dropout3d(ag.ones(2, 3, 2, 2, 2), p=0.5).shape
        (2, 3, 2, 2, 2)
    """
    return _channel_dropout("dropout3d", 3, input, p, training, inplace)


class _DropoutNd(Module):
    """Shared state of the dropout layers: ``p`` and ``inplace``."""

    _function: Any = None

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        _check_p(p)
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return type(self)._function(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Randomly zero elements with probability ``p`` during training (scaled by ``1/(1-p)``).

    Shape: ``(*) -> (*)``.
    """

    _function = staticmethod(dropout)


class Dropout1d(_DropoutNd):
    """Randomly zero whole channels during training.  Shape: ``(N, C, L)`` or ``(C, L)``.

    Example:
        >>> import nn
        >>> nn.Dropout1d(0.2)
        Dropout1d(p=0.2, inplace=False)
    """

    _function = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """Randomly zero whole channels during training.  Shape: ``(N, C, H, W)``."""

    _function = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """Randomly zero whole channels during training.  Shape: ``(N, C, D, H, W)``."""

    _function = staticmethod(dropout3d)
