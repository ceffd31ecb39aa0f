"""Distances between vectors: ``F.cosine_similarity``/``CosineSimilarity`` and
``F.pairwise_distance``/``PairwiseDistance`` (composites of norms, as PyTorch computes them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.domains import Domain
from autograd.ops._shapes import check_broadcastable
from autograd.registry import composite
from autograd.tensor import Tensor

from .module import Module

__all__ = ["cosine_similarity", "pairwise_distance", "CosineSimilarity", "PairwiseDistance"]


def _distance_sample(kind: str) -> Any:
    from hypothesis import strategies as st

    from ._samples import side, tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = tuple(side(draw) for _ in range(draw(st.integers(1, 3))))
        # One input may broadcast (a dim of size 1 or a missing leading dim).
        other = shape[1:] if len(shape) > 1 and draw(st.booleans()) else shape
        # Away from 0: the norms have a kink there (ties, for p = inf, are avoided too).
        domain = Domain(0.2, 3.0, distinct=True) if kind == "pairwise" else Domain(away_from=(0.0,))
        x1, x2 = tensor(draw, shape, domain), tensor(draw, other, domain)
        if kind == "pairwise":
            # x1 - x2 must stay away from 0: shift x2 by a constant well outside x1's range.
            x2 = tensor(draw, other, Domain(-6.0, -3.5, distinct=True))
            p = draw(st.sampled_from([2.0, 1.0, 3.0]))
            return [x1, x2], {"p": p, "keepdim": draw(st.booleans())}
        return [x1, x2], {"dim": draw(st.integers(-len(other), len(other) - 1))}

    return draw_inputs()


def _check_pair(op: str, x1: Tensor, x2: Tensor) -> None:
    if not isinstance(x1, Tensor) or not isinstance(x2, Tensor):
        raise TypeError(f"{op}: expected Tensors, got {type(x1).__name__} and {type(x2).__name__}")
    check_broadcastable(op, x1._data, x2._data)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (they broadcast).

    Computed as PyTorch does: each input divided by its norm (at least ``eps``) first, then the
    dot product, so the result stays in ``[-1, 1]``.

    Shape: ``(*, D, *)`` broadcast pair -> the broadcast shape without ``dim``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.cosine_similarity(ag.tensor([[1.0, 0.0], [1.0, 1.0]]), ag.tensor([[1.0, 0.0]]))
        tensor([1.0000, 0.7071])
    """
    _check_pair("cosine_similarity", x1, x2)
    if x1.dtype.kind != "f":
        x1 = x1.to(x2.dtype if x2.dtype.kind == "f" else "float32")
    if x2.dtype.kind != "f":
        x2 = x2.to(x1.dtype)
    ndim = max(x1.ndim, x2.ndim)
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(
            f"cosine_similarity: Dimension out of range (expected to be in range of "
            f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {dim})"
        )
    # As PyTorch: broadcast first, so a broadcast dim counts in the norm along ``dim``.
    shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = x1.expand(shape), x2.expand(shape)
    return (_unit(x1, dim, eps) * _unit(x2, dim, eps)).sum(dim=dim)


def _unit(x: Tensor, dim: int, eps: float) -> Tensor:
    norm = x.norm(dim=dim, keepdim=True)
    # PyTorch clamps the norm to eps under no_grad: the value changes, the gradient does not.
    floor = (norm.clamp(min=eps) - norm).detach()
    return x / (norm + floor)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:  # fmt: skip
    """The ``p``-norm of ``x1 - x2 + eps`` over the last dim (they broadcast).

    Shape: ``(N, D)`` and ``(N, D)`` or ``(D,)`` -> ``(N,)`` (``(N, 1)`` with ``keepdim``).

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.pairwise_distance(ag.tensor([[3.0, 4.0]]), ag.tensor([[0.0, 0.0]]), eps=0.0)
        tensor([5.])
    """
    _check_pair("pairwise_distance", x1, x2)
    difference = x1 - x2 + eps
    if difference.ndim == 0:
        return difference.abs()
    return difference.norm(p=p, dim=-1, keepdim=keepdim)


composite("cosine_similarity", method=False, sample=lambda: _distance_sample("cosine"))(
    cosine_similarity
)
composite("pairwise_distance", method=False, sample=lambda: _distance_sample("pairwise"))(
    pairwise_distance
)


class CosineSimilarity(Module):
    """Cosine similarity along ``dim`` (see ``F.cosine_similarity``).

    Example:
        >>> import autograd as ag, nn
        >>> nn.CosineSimilarity(dim=1)(ag.randn(4, 8), ag.randn(4, 8)).shape
        (4,)
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The ``p``-norm distance between rows (see ``F.pairwise_distance``).

    Example:
        >>> import autograd as ag, nn
        >>> nn.PairwiseDistance()(ag.randn(4, 8), ag.randn(4, 8)).shape
        (4,)
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
