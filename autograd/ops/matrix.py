"""Matrix structure: tril, triu, diagonal, diag, diag_embed, trace, t."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import Operand, Shape
from ..registry import composite, primitive
from ..tensor import Tensor
from ._samples import tensor
from ._shapes import normalize_dim, shape_str

__all__ = ["tril", "triu", "diagonal", "diag", "diag_embed", "trace", "t"]


def _matrix_shapes(n: int) -> Any:
    from ..testing import shapes

    return shapes(min_dims=2).map(lambda shape: [shape] * n)


def _offset_options(*shapes: tuple) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"diagonal": st.integers(-2, 2)})


def _check_matrix(op: str, x: np.ndarray) -> None:
    if x.ndim < 2:
        raise RuntimeError(
            f"{op}: input tensor must have at least 2 dimensions, got shape {shape_str(x.shape)}"
        )


@primitive("tril", shapes=_matrix_shapes, kwargs=_offset_options, exact=True)
def tril(x: np.ndarray, *, diagonal: int = 0) -> np.ndarray:
    _check_matrix("tril", x)
    return np.tril(x, diagonal)


@tril.vjp
def _tril_vjp(grad: Operand, diagonal: int, xp: Any) -> Operand:
    return xp.tril(grad, diagonal=diagonal)


@primitive("triu", shapes=_matrix_shapes, kwargs=_offset_options, exact=True)
def triu(x: np.ndarray, *, diagonal: int = 0) -> np.ndarray:
    _check_matrix("triu", x)
    return np.triu(x, diagonal)


@triu.vjp
def _triu_vjp(grad: Operand, diagonal: int, xp: Any) -> Operand:
    return xp.triu(grad, diagonal=diagonal)


def _diagonal_view(x: np.ndarray, offset: int, dim1: int, dim2: int, op: str) -> np.ndarray:
    """A writable view of the diagonal (NumPy's own is read-only), so that
    ``x.diagonal().fill_(0)`` changes ``x`` as in PyTorch."""
    axis1 = normalize_dim(dim1, x.shape, op)
    axis2 = normalize_dim(dim2, x.shape, op)
    if axis1 == axis2:
        raise RuntimeError(f"{op}: diagonal dimensions cannot be identical {dim1}, {dim2}")
    start = [slice(None)] * x.ndim
    if offset >= 0:
        start[axis2] = slice(offset, None)
    else:
        start[axis1] = slice(-offset, None)
    corner = x[tuple(start)]
    view = np.diagonal(corner, 0, axis1, axis2)
    return np.lib.stride_tricks.as_strided(corner, view.shape, view.strides)


def _diagonal_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    pair = st.permutations(list(range(len(shape)))).map(lambda order: order[:2])
    return st.tuples(pair, st.integers(-2, 2)).map(
        lambda drawn: {"offset": drawn[1], "dim1": drawn[0][0], "dim2": drawn[0][1]}
    )


@primitive("diagonal", shapes=_matrix_shapes, kwargs=_diagonal_options, view=True, exact=True)
def diagonal(x: np.ndarray, *, offset: int = 0, dim1: int = 0, dim2: int = 1) -> np.ndarray:
    return _diagonal_view(x, offset, dim1, dim2, "diagonal")


@diagonal.vjp
def _diagonal_vjp(grad: Operand, x_shape: Shape, offset: int, dim1: int, dim2: int,
                  xp: Any) -> Operand:  # fmt: skip
    return xp.diagonal_scatter_zeros(grad, shape=x_shape, offset=offset, dim1=dim1, dim2=dim2)


@primitive("diagonal_scatter_zeros", method=False, exact=True,
           untested="diagonal's gradient: checked through diagonal's second order, diag and "
                    "diag_embed")  # fmt: skip
def _diagonal_scatter_zeros(values: np.ndarray, *, shape: Shape, offset: int, dim1: int,
                            dim2: int) -> np.ndarray:  # fmt: skip
    out = np.zeros(shape, values.dtype)
    _diagonal_view(out, offset, dim1, dim2, "diagonal")[...] = values
    return out


@_diagonal_scatter_zeros.vjp
def _diagonal_scatter_zeros_vjp(grad: Operand, offset: int, dim1: int, dim2: int,
                                xp: Any) -> Operand:  # fmt: skip
    return xp.diagonal(grad, offset=offset, dim1=dim1, dim2=dim2)


_diagonal = diagonal  # diag's argument is called diagonal, as in PyTorch


def _diag_sample() -> Any:
    from hypothesis import strategies as st

    from ..testing import shapes

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = draw(shapes(min_dims=1, max_dims=2))
        return [tensor(draw, shape)], {"diagonal": draw(st.integers(-2, 2))}

    return draw_inputs()


@composite("diag", tensors=1, sample=_diag_sample)
def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A 1-D input as the ``diagonal``-th diagonal of a square matrix; a 2-D input's
    ``diagonal``-th diagonal as a 1-D tensor.

    Example:
        >>> import autograd as ag
        >>> ag.diag(ag.tensor([1, 2]))
        tensor([[1, 0],
                [0, 2]])
    """
    if input.ndim == 1:
        size = input.shape[0] + abs(diagonal)
        return _diagonal_scatter_zeros(input, shape=(size, size), offset=diagonal, dim1=0, dim2=1)
    if input.ndim == 2:
        return _diagonal(input, offset=diagonal)
    raise RuntimeError(f"diag: supports 1D or 2D tensors, got {input.ndim}D (shape "
                       f"{shape_str(input.shape)})")  # fmt: skip


def _diag_embed_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    ndim = len(shape) + 1
    pair = st.permutations(list(range(-ndim, 0))).map(lambda order: order[:2])
    return st.tuples(pair, st.integers(-2, 2)).map(
        lambda drawn: {"offset": drawn[1], "dim1": drawn[0][0], "dim2": drawn[0][1]}
    )


@composite("diag_embed", tensors=1, kwargs=_diag_embed_options,
           shapes=lambda n: _nonempty(n))  # fmt: skip
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """Matrices (in the new dims ``dim1``, ``dim2``) with the last dim of ``input`` on their
    ``offset``-th diagonal."""
    if input.ndim == 0:
        raise RuntimeError("diag_embed: expected a tensor with at least 1 dim, got shape ()")
    ndim = input.ndim + 1
    axis1, axis2 = normalize_dim(dim1, ndim, "diag_embed"), normalize_dim(dim2, ndim, "diag_embed")
    if axis1 == axis2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    size = input.shape[-1] + abs(offset)
    shape = list(input.shape[:-1])
    for axis in sorted((axis1, axis2)):
        shape.insert(axis, size)
    return _diagonal_scatter_zeros(input, shape=tuple(shape), offset=offset, dim1=axis1,
                                   dim2=axis2)  # fmt: skip


def _nonempty(n: int) -> Any:
    from ..testing import shapes

    return shapes(min_dims=1).map(lambda shape: [shape] * n)


@composite("trace", shapes=lambda n: _matrix_2d(n))
def trace(input: Tensor) -> Tensor:  # noqa: A002
    """The sum of the main diagonal of a 2-D tensor (int64 for integer input)."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim} "
                           f"(shape {shape_str(input.shape)})")  # fmt: skip
    if input.dtype == np.bool_:
        raise NotImplementedError("trace: not implemented for 'Bool' (as PyTorch)")
    return diagonal(input).sum()


def _matrix_2d(n: int) -> Any:
    from ..testing import shapes

    return shapes(min_dims=2, max_dims=2).map(lambda shape: [shape] * n)


@composite("t", shapes=lambda n: _at_most_2d(n))
def t(input: Tensor) -> Tensor:  # noqa: A002
    """Transpose a tensor of at most 2 dims (0-d and 1-d come back as they are).

    Example:
        >>> import autograd as ag
        >>> ag.zeros(2, 3).t().shape
        (3, 2)
    """
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D (shape {shape_str(input.shape)}); use transpose")  # fmt: skip
    return input.transpose(0, 1) if input.ndim == 2 else input


def _at_most_2d(n: int) -> Any:
    from ..testing import shapes

    return shapes(max_dims=2).map(lambda shape: [shape] * n)

