"""Type aliases shared across the package."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

Shape = tuple[int, ...]
Dim = int | tuple[int, ...] | None

if TYPE_CHECKING:
    from .tensor import Tensor

TensorLike = Union["Tensor", Any]
