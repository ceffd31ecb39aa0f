"""Type aliases shared across the package."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

import numpy as np

Shape = tuple[int, ...]
Dim = int | tuple[int, ...] | None

if TYPE_CHECKING:
    from .tensor import Tensor

TensorLike = Union["Tensor", Any]
# What a gradient rule computes with: arrays in first-order backward, Tensors under create_graph.
Operand = Union[np.ndarray, "Tensor"]
