"""Scans along a dim: cumprod, cummax, cummin, logcumsumexp, diff (cumsum is in reduce.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import return_types
from .._typing import Operand
from ..domains import DISTINCT, Domain
from ..registry import composite, primitive
from ..tensor import Tensor
from ._samples import one_dim_required_options
from ._shapes import normalize_dim, shape_str
from .index import gather
from .sort import _tied_sample

__all__ = ["cumprod", "cummax", "cummin", "logcumsumexp", "diff"]


def _scan_axis(op: str, x: np.ndarray, dim: int) -> int | None:
    """The axis to scan (None for a 0-d input, which scans nothing)."""
    axis = normalize_dim(dim, x.shape if x.ndim else 0, op)
    return axis if x.ndim else None


def _reverse_cumsum(values: Operand, dim: int, xp: Any) -> Operand:
    return xp.flip(xp.cumsum(xp.flip(values, dims=(dim,)), dim=dim), dims=(dim,))


@primitive("cumprod", kwargs=one_dim_required_options, domain=Domain(0.5, 1.5))
def cumprod(x: np.ndarray, *, dim: int, dtype: Any = None) -> np.ndarray:
    if dtype is None and x.dtype.kind in "biu":
        dtype = np.int64  # as PyTorch (and sum): integer and bool inputs accumulate in int64
    axis = _scan_axis("cumprod", x, dim)
    if axis is None:
        return x.astype(dtype) if dtype is not None else x.copy()
    return np.cumprod(x, axis=axis, dtype=dtype)


@cumprod.vjp
def _cumprod_vjp(grad: Operand, x: Operand, out: Operand, dim: int, xp: Any) -> Operand:
    if not x.ndim:
        return grad
    if xp.is_tensor and bool((x == 0).any()):
        return _cumprod_vjp_with_zeros(grad, x, dim, xp)
    # d out_j / d x_i = prod_{k <= j, k != i} x_k. Before the first zero of a slice that is
    # out_j / x_i; at the first zero z it is the cumprod of x with x_z replaced by 1; after
    # it, every term holds the zero. This keeps exact gradients when x has zeros.
    zeros = xp.cumsum(x == 0, dim=dim)
    before = zeros == 0
    first_zero = (x == 0) & (zeros == 1)
    before_part = _reverse_cumsum(grad * out, dim, xp) / xp.where(before, x, 1.0)
    at_zero = _reverse_cumsum(grad * xp.cumprod(xp.where(first_zero, 1.0, x), dim=dim), dim, xp)
    return xp.where(before, before_part, xp.where(first_zero, at_zero, 0.0))


def _cumprod_vjp_with_zeros(grad: Operand, x: Operand, dim: int, xp: Any) -> Operand:
    # Under create_graph, with zeros: each x_i's gradient written out as
    # prod_{k < i} x_k * sum_{j >= i} g_j prod_{i < k <= j} x_k (O(n^2), as PyTorch's double
    # backward): the masked form above is exact in value but not in its own derivative at 0.
    axis = dim % x.ndim
    size = x.shape[axis]

    def part(array: Operand, start: int, stop: int) -> Operand:
        return xp.getitem(array, index=(slice(None),) * axis + (slice(start, stop),))

    pieces = []
    for i in range(size):
        before = xp.prod(part(x, 0, i), dim=axis, keepdim=True)
        one = xp.constant(np.ones(part(x, i, i + 1).shape), x)
        after = xp.cat(one, xp.cumprod(part(x, i + 1, size), dim=axis), dim=axis)
        pieces.append(before * xp.sum(part(grad, i, size) * after, dim=axis, keepdim=True))
    return xp.cat(*pieces, dim=axis)


def _cumulative_extreme(op: str, x: Tensor, dim: int, greater: bool) -> Any:
    array = x._data
    axis = _scan_axis(op, array, dim)
    if axis is None:
        indices = np.zeros((), np.int64)
        return Tensor._from_array(indices), 0
    accumulate = np.maximum.accumulate if greater else np.minimum.accumulate
    values = accumulate(array, axis=axis)  # propagates NaN, as PyTorch
    match = array == values
    if array.dtype.kind == "f":
        match |= np.isnan(array) & np.isnan(values)
    shape = [1] * array.ndim
    shape[axis] = array.shape[axis]
    positions = np.arange(array.shape[axis]).reshape(shape)
    # Ties take the latest index (PyTorch updates on >= / <=), as do NaNs.
    indices = np.maximum.accumulate(np.where(match, positions, -1), axis=axis)
    return Tensor._from_array(indices.astype(np.int64)), axis


def _cummax_options(shape: tuple) -> Any:
    return one_dim_required_options(shape)


@composite("cummax", tensors=1, kwargs=one_dim_required_options, domain=DISTINCT,
           kinks=_tied_sample(_cummax_options))  # fmt: skip
def cummax(input: Tensor, dim: int) -> Any:  # noqa: A002
    """The running maximum along ``dim`` and where it was found: ``(values, indices)``.

    Example:
        >>> import autograd as ag
        >>> ag.cummax(ag.tensor([1, 3, 2]), 0).values
        tensor([1, 3, 3])
    """
    indices, axis = _cumulative_extreme("cummax", input, dim, greater=True)
    values = input * 1 if input.ndim == 0 else gather(input, axis, indices)
    return return_types.cummax(values, indices)


@composite("cummin", tensors=1, kwargs=one_dim_required_options, domain=DISTINCT,
           kinks=_tied_sample(_cummax_options))  # fmt: skip
def cummin(input: Tensor, dim: int) -> Any:  # noqa: A002
    """The running minimum along ``dim`` and where it was found: ``(values, indices)``."""
    indices, axis = _cumulative_extreme("cummin", input, dim, greater=False)
    values = input * 1 if input.ndim == 0 else gather(input, axis, indices)
    return return_types.cummin(values, indices)


@primitive("logcumsumexp", kwargs=one_dim_required_options)
def logcumsumexp(x: np.ndarray, *, dim: int) -> np.ndarray:
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"logcumsumexp: not implemented for {x.dtype} (as PyTorch); use a floating dtype"
        )
    axis = _scan_axis("logcumsumexp", x, dim)
    # A running logaddexp: exact for any spread of magnitudes (no global shift underflows).
    return x.copy() if axis is None else np.logaddexp.accumulate(x, axis=axis)


@logcumsumexp.vjp
def _logcumsumexp_vjp(grad: Operand, x: Operand, out: Operand, dim: int, xp: Any) -> Operand:
    if not x.ndim:
        return grad
    # grad_i = sum_{j >= i} g_j exp(x_i - out_j), summed in log space for the positive and
    # the negative parts of g separately (as PyTorch), so that nothing overflows.
    def reverse_logcumsumexp(values: Operand) -> Operand:
        return xp.flip(xp.logcumsumexp(xp.flip(values, dims=(dim,)), dim=dim), dims=(dim,))

    # "No contribution" is the lowest finite value, not -inf: -inf - (-inf) would be nan in
    # the second derivative.
    lowest = float(np.finfo(grad.dtype).min)
    positive, negative = grad > 0, grad < 0
    log_positive = xp.where(positive, xp.log(xp.where(positive, grad, 1.0)), lowest)
    log_negative = xp.where(negative, xp.log(xp.where(negative, -grad, 1.0)), lowest)
    return xp.exp(reverse_logcumsumexp(log_positive - out) + x) - xp.exp(
        reverse_logcumsumexp(log_negative - out) + x
    )


def _diff_sample() -> Any:
    from hypothesis import strategies as st

    from ..testing import shapes
    from ._samples import tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = draw(shapes(min_dims=1))
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        ends: list = []
        for _ in ("prepend", "append"):
            side = list(shape)
            side[dim] = draw(st.integers(1, 2))
            ends.append(tensor(draw, tuple(side)) if draw(st.booleans()) else None)
        # Positionally, so that the property tests check the gradients of prepend/append too.
        return [tensor(draw, shape), draw(st.integers(0, 3)), dim, *ends], {}

    return draw_inputs()


@composite("diff", tensors=1, sample=_diff_sample)
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Tensor:  # noqa: A002
    """The ``n``-th forward difference along ``dim`` (``out[i] = x[i + 1] - x[i]``), after
    concatenating ``prepend`` and ``append``; bool tensors give ``x[i + 1] != x[i]``.

    Example:
        >>> import autograd as ag
        >>> ag.diff(ag.tensor([1, 3, 6]))
        tensor([2, 3])
    """
    if input.ndim == 0:
        raise RuntimeError("diff: expects input to be at least one-dimensional (got shape ())")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative, got n={n}")
    axis = normalize_dim(dim, input.shape, "diff")
    pieces = [t for t in (prepend, input, append) if t is not None]
    if len(pieces) > 1:
        from .shape import cat

        for t in (prepend, append):
            if isinstance(t, Tensor) and t.ndim != input.ndim:
                raise RuntimeError(
                    f"diff: prepend and append must have the input's {input.ndim} dims, got "
                    f"shape {shape_str(t.shape)}"
                )
        input = cat([t if isinstance(t, Tensor) else Tensor(t) for t in pieces], dim=axis)
    out = input
    for _ in range(n):
        length = out.shape[axis]
        later = out.narrow(axis, 1, max(length - 1, 0)) if length else out
        earlier = out.narrow(axis, 0, max(length - 1, 0)) if length else out
        out = later != earlier if out.dtype == np.bool_ else later - earlier
    return out

