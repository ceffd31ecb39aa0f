"""The softmax family: softmax and log_softmax, stable for large logits (composites)."""

from __future__ import annotations

from typing import Any

from ..dtypes import get_default_dtype, to_dtype
from ..registry import composite
from ..tensor import Tensor
from ._samples import one_dim_required_options
from ._shapes import normalize_dim
from .elementwise import where
from .reduce import amax

__all__ = ["softmax", "log_softmax"]


def _prepare(x: Tensor, dim: int, dtype: Any, op: str) -> Tensor:
    normalize_dim(dim, x.shape, op)  # name this op, not amax, in a dim error
    if dtype is not None:
        return x.to(to_dtype(dtype))
    return x if x.dtype.kind == "f" else x.to(get_default_dtype())


@composite("softmax", kwargs=one_dim_required_options)
def softmax(x: Tensor, dim: int = -1, dtype: Any = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, shifted by the max for stability.

    Example:
        >>> import autograd as ag
        >>> ag.softmax(ag.tensor([0.0, 1e4]), dim=0)
        tensor([0., 1.])
    """
    x = _prepare(x, dim, dtype, "softmax")
    shifted = x - amax(x, dim=dim, keepdim=True).detach()  # the shift cancels in the gradient
    e = shifted.exp()
    return e / e.sum(dim=dim, keepdim=True)


@composite("log_softmax", kwargs=one_dim_required_options)
def log_softmax(x: Tensor, dim: int = -1, dtype: Any = None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``: stable, and exact where softmax underflows."""
    x = _prepare(x, dim, dtype, "log_softmax")
    # (x - max) - log(sum(exp(x - max))): subtracting the shifted terms keeps float32 exact
    # where x - logsumexp(x) would round 1e4 + log(2) first.
    shift = amax(x, dim=dim, keepdim=True).detach()
    shift = where(shift.isfinite(), shift, 0.0)  # an all -inf slice stays nan, as PyTorch
    shifted = x - shift
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()
