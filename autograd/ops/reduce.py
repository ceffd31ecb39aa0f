"""Reductions: sum, mean, var, std, prod, amax/amin, max/min, argmax/argmin, logsumexp, norm."""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .. import return_types
from .._typing import Dim, Operand, Shape
from ..domains import AWAY_FROM_KINKS, DISTINCT, Domain
from ..dtypes import get_default_dtype
from ..graph import shown_as
from ..registry import composite, primitive
from ..tensor import Tensor
from ._samples import (
    dims,
    on_kinks,
    on_ties,
    one_dim_options,
    one_dim_required_options,
    reduce_options,
    reduce_required_options,
)
from ._shapes import kept_shape, normalize_dim, shape_str
from .elementwise import sqrt, where

__all__ = [
    "sum", "mean", "var", "std", "prod", "amax", "amin", "max", "min", "argmax", "argmin",
    "logsumexp", "norm", "all", "any", "count_nonzero", "cumsum", "var_mean", "std_mean",
]  # fmt: skip


def _axes(dim: Dim, shape: Shape, op: str) -> Any:
    axes = normalize_dim(dim, shape, op=op)
    if len(shape) == 0 and axes is not None:
        return None  # a 0-d tensor accepts dim 0 / -1 and reduces nothing
    if isinstance(axes, tuple) and len(axes) == 0:
        return None  # PyTorch: dim=() reduces over everything
    return axes


@primitive("sum", kwargs=reduce_options)
def sum(x: np.ndarray, *, dim: Dim = None, keepdim: bool = False, dtype: Any = None) -> np.ndarray:  # noqa: A001
    if dtype is None and x.dtype.kind in "biu":
        dtype = np.int64
    # The ufunc's reduce directly: np.sum's Python wrapper costs as much again on small arrays.
    axis = None if dim is None else _axes(dim, x.shape, "sum")
    return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdim)  # type: ignore[call-overload]


@sum.vjp
def _sum_vjp(grad: Operand, x_shape: Shape, dim: Dim, keepdim: bool, xp: Any) -> Operand:
    if not keepdim and dim is not None:  # a full sum's 0-d gradient broadcasts as it is
        grad = grad.reshape(kept_shape(x_shape, dim))
    return xp.expand(grad, shape=x_shape)


def _count(shape: Shape, dim: Dim) -> int:
    axes = normalize_dim(dim, shape, op="mean")
    if axes is None or (isinstance(axes, tuple) and not axes) or len(shape) == 0:
        return math.prod(shape)
    axes = axes if isinstance(axes, tuple) else (axes,)
    return math.prod([shape[a] for a in axes])


@composite("mean", kwargs=reduce_options)
def mean(x: Tensor, dim: Dim = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Average over ``dim`` (all dims by default)."""
    normalize_dim(dim, x.shape, "mean")  # name this op, not sum, in a dim error
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(
            f"mean: could not infer output dtype; input dtype {x.dtype} must be floating point "
            "(use .float() first)"
        )
    total = sum(x, dim=dim, keepdim=keepdim)
    return total / builtins.max(_count(x.shape, dim), 1) if x.numel() else total * np.nan


def _correction(unbiased: bool | None, correction: float | None) -> float:
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def _var_options(shape: tuple, positive_count: bool = False) -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_options(draw: Any) -> dict:
        ndim = len(shape)
        dim = draw(dims(ndim))
        axes = range(ndim) if dim is None else ([dim] if isinstance(dim, int) else dim)
        count = math.prod([shape[a] for a in axes]) if ndim else 1
        if positive_count and count < 2:
            dim, count = None, math.prod(shape)
        # N - correction must stay positive, or the variance is nan/inf by definition.
        correction = draw(st.sampled_from([0, 1] if count > 1 else [0]))
        return {"dim": dim, "keepdim": draw(st.booleans()), "correction": correction}

    return draw_options()


def _std_options(shape: tuple) -> Any:
    from hypothesis import assume

    # The std of one value is 0, where sqrt has no derivative: reduce over two values or more.
    assume(math.prod(shape) > 1)
    return _var_options(shape, positive_count=True)


def _check_var_dtype(op: str, x: Tensor) -> None:
    if x.dtype.kind != "f":
        raise RuntimeError(
            f"{op}: std and var only support floating point dtypes, got {x.dtype}; convert with "
            ".float() first"
        )


@composite("var", kwargs=_var_options)
def var(
    x: Tensor,
    dim: Dim = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Variance over ``dim``; divides by ``N - correction`` (``unbiased=True``: N - 1)."""
    if isinstance(unbiased, (tuple, list)) or (
        isinstance(unbiased, int) and not isinstance(unbiased, bool)
    ):
        raise TypeError("var: unbiased must be a bool; pass dims as dim=")
    normalize_dim(dim, x.shape, "var")
    _check_var_dtype("var", x)
    n = _count(x.shape, dim)
    centered = x - x.mean(dim=dim, keepdim=True)
    denominator = builtins.max(n - _correction(unbiased, correction), 0)
    squares = sum(centered * centered, dim=dim, keepdim=keepdim)
    # N - correction <= 0 gives inf/nan, as PyTorch does (with a warning there).
    with np.errstate(divide="ignore", invalid="ignore"):
        return squares / denominator if denominator else squares * np.inf


@composite("std", kwargs=_std_options, domain=DISTINCT)
def std(
    x: Tensor,
    dim: Dim = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Standard deviation over ``dim`` (the square root of ``var``)."""
    _check_var_dtype("std", x)
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction))


def var_mean(x: Tensor, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False,
             *, correction: float | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """``(var, mean)`` over ``dim``."""
    _check_var_dtype("var_mean", x)
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x: Tensor, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False,
             *, correction: float | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """``(std, mean)`` over ``dim``."""
    _check_var_dtype("std_mean", x)
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


Tensor.var_mean = var_mean  # type: ignore[attr-defined]
Tensor.std_mean = std_mean  # type: ignore[attr-defined]


@primitive("prod", kwargs=one_dim_options, domain=Domain(0.5, 1.5))
def prod(
    x: np.ndarray, *, dim: int | None = None, keepdim: bool = False, dtype: Any = None
) -> np.ndarray:
    if dtype is None and x.dtype.kind in "biu":
        dtype = np.int64
    if isinstance(dim, (tuple, list)):
        raise TypeError("prod: dim must be a single int (PyTorch's prod takes one dim)")
    return np.prod(x, axis=_axes(dim, x.shape, "prod"), keepdims=keepdim, dtype=dtype)


@prod.vjp
def _prod_vjp(
    grad: Operand, x: Operand, out: Operand, dim: int | None, keepdim: bool, xp: Any
) -> Operand:
    shape = kept_shape(x.shape, dim)
    if not keepdim:
        grad = grad.reshape(shape)
        out = out.reshape(shape)
    zeros = x == 0
    if not bool(zeros.any()):
        return grad * out / x
    # With zeros, out / x is 0/0. The product of the other elements is P (the product of the
    # nonzero ones) times the zeros other than this one; S, the sum of the zeros, is 0 in
    # value but carries their gradient, so second derivatives stay right.
    count = xp.sum(xp.where(zeros, 1.0, 0.0), dim=dim, keepdim=True).reshape(shape)
    safe = xp.where(zeros, 1.0, x)
    product = xp.prod(safe, dim=dim, keepdim=True).reshape(shape)
    total = xp.sum(xp.where(zeros, x, 0.0), dim=dim, keepdim=True).reshape(shape)
    others_of_zero = xp.where(
        count == 1, product, xp.where(count == 2, (total - x) * product, 0.0)
    )
    others_of_nonzero = xp.where(
        count == 0, product / safe, xp.where(count == 1, total * product / safe, 0.0)
    )
    return grad * xp.where(zeros, others_of_zero, others_of_nonzero)


def _tie_split(grad: Operand, x: Operand, out: Operand, dim: Dim, keepdim: bool,
               xp: Any) -> Operand:  # fmt: skip
    shape = kept_shape(x.shape, dim)
    if not keepdim:
        grad = grad.reshape(shape)
        out = out.reshape(shape)
    # Ties share the gradient evenly, as PyTorch's amax/amin do.
    hits = (x == out).astype(grad.dtype)
    count = xp.sum(hits, dim=dim, keepdim=True).reshape(shape)
    return grad * hits / count


def _check_nonempty(op: str, x: np.ndarray, dim: Dim) -> None:
    if x.size == 0 and dim is None:
        raise RuntimeError(f"{op}: expected a non-empty tensor (got shape {x.shape}); specify dim")
    if x.size == 0:
        axes = normalize_dim(dim, x.shape, op)
        for axis in axes if isinstance(axes, tuple) else (axes,):
            if x.ndim and x.shape[axis] == 0:
                raise IndexError(
                    f"{op}: expected reduction dim {axis} to have non-zero size (tensor shape "
                    f"{shape_str(x.shape)})"
                )


@primitive("amax", kwargs=reduce_options, domain=DISTINCT, kinks=lambda: on_ties("amax"))
def amax(x: np.ndarray, *, dim: Dim = (), keepdim: bool = False) -> np.ndarray:
    dim = None if dim == () else dim
    _check_nonempty("amax", x, dim)
    return np.amax(x, axis=_axes(dim, x.shape, "amax"), keepdims=keepdim)


@amax.vjp
def _amax_vjp(grad: Operand, x: Operand, out: Operand, dim: Dim, keepdim: bool,
              xp: Any) -> Operand:  # fmt: skip
    return _tie_split(grad, x, out, None if dim == () else dim, keepdim, xp)


@primitive("amin", kwargs=reduce_options, domain=DISTINCT, kinks=lambda: on_ties("amin"))
def amin(x: np.ndarray, *, dim: Dim = (), keepdim: bool = False) -> np.ndarray:
    dim = None if dim == () else dim
    _check_nonempty("amin", x, dim)
    return np.amin(x, axis=_axes(dim, x.shape, "amin"), keepdims=keepdim)


@amin.vjp
def _amin_vjp(grad: Operand, x: Operand, out: Operand, dim: Dim, keepdim: bool,
              xp: Any) -> Operand:  # fmt: skip
    return _tie_split(grad, x, out, None if dim == () else dim, keepdim, xp)


@primitive("argmax", differentiable=False, exact=True)
def argmax(x: np.ndarray, *, dim: int | None = None, keepdim: bool = False) -> np.ndarray:
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"argmax: dim must be a single int, got {dim!r}")
    _check_nonempty("argmax", x, dim)
    if dim is None:
        out = np.argmax(x)
        return np.asarray(out, np.int64).reshape((1,) * x.ndim if keepdim else ())
    return np.argmax(x, axis=normalize_dim(dim, x.shape, "argmax"), keepdims=keepdim).astype(
        np.int64
    )


@primitive("argmin", differentiable=False, exact=True)
def argmin(x: np.ndarray, *, dim: int | None = None, keepdim: bool = False) -> np.ndarray:
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"argmin: dim must be a single int, got {dim!r}")
    _check_nonempty("argmin", x, dim)
    if dim is None:
        out = np.argmin(x)
        return np.asarray(out, np.int64).reshape((1,) * x.ndim if keepdim else ())
    return np.argmin(x, axis=normalize_dim(dim, x.shape, "argmin"), keepdims=keepdim).astype(
        np.int64
    )


def _extreme(x: Tensor, dim: Any, keepdim: bool, other: Any, op: str) -> Any:
    from .elementwise import maximum, minimum

    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        return maximum(x, other) if op == "max" else minimum(x, other)
    if dim is None:
        return amax(x) if op == "max" else amin(x)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be a single int, got {dim!r}; use amax/amin for several")
    normalize_dim(dim, x.shape, op)
    result = return_types.max if op == "max" else return_types.min
    if x.ndim == 0:
        return result(x * 1, Tensor._from_array(np.zeros((), np.int64)))
    index = (argmax if op == "max" else argmin)(x, dim=dim, keepdim=True)
    values = shown_as(x.gather(dim, index), op)  # drawn as the max the user called
    if not keepdim:
        values = values.squeeze(dim)
        index = index.squeeze(dim)
    return result(values, index)


@composite("max", kwargs=one_dim_options, domain=DISTINCT, kinks=lambda: on_ties("max"))
def max(x: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001
    """The maximum; ``max(dim)`` returns ``(values, indices)`` (the gradient goes to that index)."""
    return _extreme(x, dim, keepdim, other, "max")


@composite("min", kwargs=one_dim_options, domain=DISTINCT, kinks=lambda: on_ties("min"))
def min(x: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001
    """The minimum; ``min(dim)`` returns ``(values, indices)``."""
    return _extreme(x, dim, keepdim, other, "min")


@composite("logsumexp", kwargs=reduce_required_options)
def logsumexp(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, shifted by the max for stability."""
    if dim is None:
        dim = tuple(range(x.ndim))
    normalize_dim(dim, x.shape, "logsumexp")
    x = x if x.dtype.kind == "f" else x.to(get_default_dtype())
    if x.numel() == 0:
        with np.errstate(divide="ignore"):
            return sum(x.exp(), dim=dim, keepdim=keepdim).log()  # log(0) = -inf, as PyTorch
    shift = amax(x, dim=dim, keepdim=True).detach()
    # An all -inf slice has max -inf; shifting by 0 there keeps the result -inf, not nan.
    shift = where(shift.isfinite(), shift, 0.0)
    total = sum((x - shift).exp(), dim=dim, keepdim=True)
    out = total.log() + shift
    if not keepdim:
        out = out.squeeze(dim) if x.ndim else out
    return out


def _norm_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"p": st.sampled_from([2, 1, 3, math.inf, "fro"]),
                                  "dim": dims(len(shape)), "keepdim": st.booleans()})  # fmt: skip


# Positive and distinct: p = inf/-inf ties in |x| (a and -a too) have no finite-difference slope;
# the kink test puts zeros in (p = 1 at 0, p = 2 at the zero vector).
@composite("norm", kwargs=_norm_options, domain=Domain(0.1, 3.0, distinct=True),
           kinks=lambda: on_kinks("norm", 0.0))  # fmt: skip
def norm(
    x: Tensor, p: Any = "fro", dim: Dim = None, keepdim: bool = False, dtype: Any = None
) -> Tensor:
    """The vector p-norm over ``dim`` (``'fro'`` = 2, ``inf``, ``-inf``, 0 or any real p)."""
    normalize_dim(dim, x.shape, "norm")
    if dtype is not None:
        x = x.to(dtype)
    x = x if x.dtype.kind == "f" else x.to(get_default_dtype())
    if p in ("fro", None, 2, 2.0):
        return _norm2(x, dim=dim, keepdim=keepdim)
    if p == "nuc":
        raise RuntimeError("norm: the nuclear norm is not supported")
    magnitude = x.abs()
    if p == float("inf"):
        return amax(magnitude, dim=() if dim is None else dim, keepdim=keepdim)
    if p == float("-inf"):
        return amin(magnitude, dim=() if dim is None else dim, keepdim=keepdim)
    if p == 1:
        return sum(magnitude, dim=dim, keepdim=keepdim)
    return _norm_p(x, p=float(p), dim=dim, keepdim=keepdim)


def _norm_p_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"p": st.sampled_from([0.0, 0.5, 1.5, 3.0, -1.0]),
                                  "dim": dims(len(shape)), "keepdim": st.booleans()})  # fmt: skip


@primitive("norm_p", method=False, label="norm", kwargs=_norm_p_options, domain=Domain(0.1, 3.0),
           kinks=lambda: on_kinks("norm_p", 0.0))  # fmt: skip
def _norm_p(x: np.ndarray, *, p: float, dim: Dim = None, keepdim: bool = False) -> np.ndarray:
    axes = _axes(dim, x.shape, "norm")
    if p == 0:
        return np.sum(x != 0, axis=axes, keepdims=keepdim).astype(x.dtype)
    return np.sum(np.abs(x) ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)


@_norm_p.vjp
def _norm_p_vjp(grad: Operand, x: Operand, out: Operand, p: float, dim: Dim, keepdim: bool,
                xp: Any) -> Operand | None:  # fmt: skip
    if p == 0:
        return None  # a count: no gradient at all, as PyTorch
    shape = kept_shape(x.shape, dim)
    if not keepdim:
        grad, out = grad.reshape(shape), out.reshape(shape)
    magnitude = xp.abs(x)
    if p < 1:
        # |x|^(p-1) is infinite at 0: those elements get 0, as PyTorch.
        nonzero = x != 0
        scaled = xp.where(nonzero, xp.sign(x) * xp.where(nonzero, magnitude, 1.0) ** (p - 1), 0.0)
        return scaled * grad * out ** (1 - p)
    # A zero vector has the subgradient 0 (as PyTorch), not 0 / 0.
    zero = out == 0
    scale = xp.where(zero, 0.0, grad / xp.where(zero, 1.0, out) ** (p - 1))
    return xp.sign(x) * magnitude ** (p - 1) * scale


@primitive("norm2", method=False, label="norm", domain=AWAY_FROM_KINKS, kwargs=reduce_options,
           kinks=lambda: on_kinks("norm2", 0.0))  # fmt: skip
def _norm2(x: np.ndarray, *, dim: Dim = None, keepdim: bool = False) -> np.ndarray:
    return np.sqrt(np.sum(x * x, axis=_axes(dim, x.shape, "norm"), keepdims=keepdim))


@_norm2.vjp
def _norm2_vjp(grad: Operand, x: Operand, out: Operand, dim: Dim, keepdim: bool,
               xp: Any) -> Operand:  # fmt: skip
    shape = kept_shape(x.shape, dim)
    if not keepdim:
        grad, out = grad.reshape(shape), out.reshape(shape)
    # The subgradient at a zero vector is 0 (as PyTorch), not 0/0.
    safe = xp.where(out == 0, 1.0, out)
    return xp.where(out == 0, 0.0, grad * x / safe)


@primitive("all", differentiable=False, exact=True)
def all(x: np.ndarray, *, dim: Dim = None, keepdim: bool = False) -> np.ndarray:  # noqa: A001
    return np.all(x, axis=_axes(dim, x.shape, "all"), keepdims=keepdim)


@primitive("any", differentiable=False, exact=True)
def any(x: np.ndarray, *, dim: Dim = None, keepdim: bool = False) -> np.ndarray:  # noqa: A001
    return np.any(x, axis=_axes(dim, x.shape, "any"), keepdims=keepdim)


@primitive("count_nonzero", differentiable=False, exact=True)
def count_nonzero(x: np.ndarray, *, dim: Dim = None) -> np.ndarray:
    return np.asarray(np.count_nonzero(x, axis=_axes(dim, x.shape, "count_nonzero")), np.int64)


@primitive("cumsum", kwargs=one_dim_required_options)
def cumsum(x: np.ndarray, *, dim: int) -> np.ndarray:
    x = x if x.dtype.kind == "f" else x.astype(np.int64)
    return np.cumsum(x, axis=normalize_dim(dim, x.shape, "cumsum") if x.ndim else None).reshape(
        x.shape
    )


@cumsum.vjp
def _cumsum_vjp(grad: Operand, dim: int, xp: Any) -> Operand:
    # The reverse cumulative sum: flip, cumsum, flip.
    if not grad.ndim:
        return grad
    return xp.flip(xp.cumsum(xp.flip(grad, dims=(dim,)), dim=dim), dims=(dim,))
