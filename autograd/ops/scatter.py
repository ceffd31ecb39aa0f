"""Writing values at indices: scatter, index_add, index_fill, index_copy, masked_scatter, take,
and the in-place forms (scatter_add is in index.py, next to gather)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import Operand, Shape
from ..dtypes import torch_name
from ..registry import REGISTRY, composite, primitive
from ..tensor import Tensor
from ._samples import integers, tensor
from ._shapes import normalize_dim, shape_str
from .index import _check_index_tensor, _full_index, _scatter_add

__all__ = ["scatter", "index_add", "index_fill", "index_copy", "masked_scatter", "take"]


def _check_same_dtype(op: str, x: np.ndarray, other: np.ndarray, name: str) -> None:
    if x.dtype != other.dtype:
        raise RuntimeError(f"{op}: expected self and {name} to have the same dtype, but got "
                           f"{torch_name(x.dtype)} and {torch_name(other.dtype)}")  # fmt: skip


@primitive("scatter_src", method=False, promote=False, exact=True,
           untested="scatter's form with a src tensor: the scatter composite tests it")  # fmt: skip
def _scatter(x: np.ndarray, index: np.ndarray, src: np.ndarray, *, dim: int) -> np.ndarray:
    axis = _check_index_tensor("scatter", x, index, dim)
    _check_same_dtype("scatter", x, src, "src")
    if any(i > s for i, s in zip(index.shape, src.shape)):
        raise RuntimeError(f"scatter: index {shape_str(index.shape)} must not be larger than src "
                           f"{shape_str(src.shape)}")  # fmt: skip
    out = np.array(x, copy=True)
    # Repeated indices: the last write wins, as PyTorch's CPU loop.
    out[_full_index(index, axis)] = src[tuple(slice(0, s) for s in index.shape)]
    return out


@_scatter.vjp
def _scatter_vjp(grad: Operand, index: Operand, src_shape: Shape, dim: int,
                 needs_input_grad: tuple, xp: Any) -> tuple:  # fmt: skip
    grad_x = grad_src = None
    if needs_input_grad[0]:
        grad_x = xp.scatter_src(grad, index, xp.constant(np.zeros(index.shape), grad), dim=dim)
    if needs_input_grad[2]:
        grad_src = xp.gather(grad, index, dim=dim)
        if tuple(grad_src.shape) != tuple(src_shape):
            region = tuple(slice(0, s) for s in grad_src.shape)
            grad_src = xp.index_add_into_zeros(grad_src, shape=src_shape, index=region)
    return grad_x, None, grad_src


def _unique_index(draw: Any, shape: tuple, dim: int, index_shape: tuple) -> np.ndarray:
    """An index with distinct positions along ``dim`` in every slice (scatter and index_copy
    have no defined gradient for src entries that a later write overwrites)."""
    from hypothesis import strategies as st

    size = int(np.prod(shape, dtype=np.int64))
    keys = np.asarray(draw(st.permutations(list(range(size))))).reshape(shape)
    order = np.argsort(keys, axis=dim)
    return order[tuple(slice(0, s) for s in index_shape)].astype(np.int64)


def _scatter_sample() -> Any:
    from hypothesis import strategies as st

    from ..testing import shapes

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = draw(shapes(min_dims=1))
        dim = draw(st.integers(0, len(shape) - 1))
        index_shape = tuple(draw(st.integers(1, s)) for s in shape)
        index = Tensor._from_array(_unique_index(draw, shape, dim, index_shape))
        if draw(st.booleans()):
            return [tensor(draw, shape), dim, index, draw(st.floats(-2, 2))], {}
        src_shape = tuple(s + draw(st.integers(0, 1)) for s in index_shape)
        return [tensor(draw, shape), dim, index, tensor(draw, src_shape)], {}

    return draw_inputs()


@composite("scatter", tensors=1, sample=_scatter_sample)
def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None, *,  # noqa: A002
            reduce: str | None = None) -> Tensor:  # fmt: skip
    """Write ``src`` (a tensor, or one number) into a copy of ``input`` at ``index`` along
    ``dim``: ``out[index[i][j]][j] = src[i][j]`` for ``dim=0``.

    Example:
        >>> import autograd as ag
        >>> ag.zeros(2, 3).scatter(0, ag.tensor([[1, 0, 1]]), 5.0)
        tensor([[0., 5., 0.],
                [5., 0., 5.]])
    """
    src = value if src is None else src
    if src is None:
        raise TypeError("scatter: expected src (a tensor) or value (a number)")
    index = index if isinstance(index, Tensor) else Tensor(index)
    if not isinstance(src, Tensor):
        src = Tensor._from_array(np.full(index.shape, src, dtype=input.dtype))
    if reduce is None:
        return _scatter(input, index, src, dim=dim)
    if reduce == "add":
        return _scatter_add(input, index, src, dim=dim)
    if reduce == "multiply":
        from ..grad_mode import is_grad_enabled

        if is_grad_enabled() and (input.requires_grad or src.requires_grad):
            raise RuntimeError("scatter: the derivative for reduce='multiply' is not "
                               "implemented (as PyTorch); use scatter_reduce-free math")  # fmt: skip
        axis = _check_index_tensor("scatter", input._data, index._data, dim)
        out = np.array(input._data, copy=True)
        region = src._data[tuple(slice(0, s) for s in index.shape)]
        np.multiply.at(out, _full_index(index._data, axis), region.astype(out.dtype))
        return Tensor._from_array(out)
    raise RuntimeError(f"scatter: reduce argument must be either add or multiply, got {reduce!r}")


def _index_vector(op: str, x: Tensor, dim: int, index: Any) -> tuple[int, np.ndarray]:
    """The dim and the (1-D) int64 index of an index_* op, checked as PyTorch checks them."""
    axis = normalize_dim(dim, x.shape if x.ndim else 0, op)
    array = np.asarray(index._data if isinstance(index, Tensor) else index)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected dtype int32/int64 for index but got: "
                           f"{torch_name(array.dtype)}")  # fmt: skip
    if array.ndim > 1:
        raise IndexError(f"{op}: index is supposed to be a vector, but got dim: {array.ndim} "
                         f"(shape {shape_str(array.shape)})")  # fmt: skip
    size = x.shape[axis] if x.ndim else 1
    array = array.reshape(-1).astype(np.int64)
    if array.size and (array.min() < -size or array.max() >= size):
        bad = int(array.max()) if array.max() >= size else int(array.min())
        raise IndexError(f"{op}: index {bad} is out of bounds for dimension {axis} with size "
                         f"{size}")  # fmt: skip
    return axis, array


def _key(axis: int, index: np.ndarray) -> tuple:
    return (slice(None),) * axis + (index,)


def _check_source(op: str, x: Tensor, source: Tensor, axis: int, count: int) -> None:
    expected = list(x.shape) if x.ndim else [1]
    expected[axis] = count
    got = list(source.shape) if source.ndim else [1]
    if got != expected:
        raise RuntimeError(
            f"{op}: source tensor shape must match self tensor shape, excluding the specified "
            f"dimension (self {shape_str(x.shape)}, source {shape_str(source.shape)}, "
            f"{count} indices along dim {axis})"
        )


def _index_sample(kind: str) -> Any:
    from hypothesis import strategies as st

    from ..testing import shapes

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = draw(shapes(min_dims=1))
        dim = draw(st.integers(0, len(shape) - 1))
        if kind == "copy":  # distinct positions: an overwritten source has no gradient
            count = draw(st.integers(1, shape[dim]))
            positions = np.asarray(draw(st.permutations(list(range(shape[dim])))))[:count]
        else:
            count = draw(st.integers(1, 4))
            positions = integers(draw, (count,), shape[dim])
        index = Tensor._from_array(positions.astype(np.int64))
        if kind == "fill":
            return [tensor(draw, shape), dim, index, draw(st.floats(-2, 2))], {}
        source_shape = list(shape)
        source_shape[dim] = count
        return [tensor(draw, shape), dim, index, tensor(draw, tuple(source_shape))], {}

    return draw_inputs()


@composite("index_add", tensors=1, sample=lambda: _index_sample("add"))
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    """Add ``alpha * source`` into a copy of ``input`` at the positions ``index`` along ``dim``
    (repeated positions add up).

    Example:
        >>> import autograd as ag
        >>> ag.zeros(3).index_add(0, ag.tensor([0, 2, 0]), ag.ones(3))
        tensor([2., 0., 1.])
    """
    axis, positions = _index_vector("index_add", input, dim, index)
    _check_same_dtype("index_add", input._data, source._data, "source")
    _check_source("index_add", input, source, axis, positions.size)
    if input.ndim == 0:
        return input + (source.sum() * alpha if positions.size else input * 0)
    values = source if alpha == 1 else source * alpha
    return input + REGISTRY["index_add_into_zeros"](values, shape=input.shape,
                                                    index=_key(axis, positions))  # fmt: skip


@composite("index_fill", tensors=1, sample=lambda: _index_sample("fill"))
def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:  # noqa: A002
    """Fill the positions ``index`` along ``dim`` of a copy of ``input`` with ``value`` (a
    number or a 0-d tensor, which then gets the gradient of every filled element)."""
    axis, positions = _index_vector("index_fill", input, dim, index)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill: only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s)")  # fmt: skip
    mask = np.zeros(input.shape[axis] if input.ndim else 1, bool)
    mask[positions] = True
    shape = [1] * input.ndim
    if input.ndim:
        shape[axis] = input.shape[axis]
    fill = value.to(input.dtype) if isinstance(value, Tensor) else Tensor._from_array(
        np.asarray(value).astype(input.dtype))  # fmt: skip
    return REGISTRY["where"](Tensor._from_array(mask.reshape(shape)), fill, input)


@composite("index_copy", tensors=1, sample=lambda: _index_sample("copy"))
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:  # noqa: A002
    """Copy the slices of ``source`` into a copy of ``input`` at the positions ``index`` along
    ``dim`` (for a repeated position the last slice wins)."""
    axis, positions = _index_vector("index_copy", input, dim, index)
    _check_same_dtype("index_copy", input._data, source._data, "source")
    if source.ndim and source.shape[axis] != positions.size:
        raise IndexError(f"index_copy: number of indices ({positions.size}) should be equal to "
                         f"source.size(dim) ({source.shape[axis]})")  # fmt: skip
    _check_source("index_copy", input, source, axis, positions.size)
    if input.ndim == 0:
        return source.reshape(()) * 1 if positions.size else input * 1
    return REGISTRY["index_put"](input, source, index=_key(axis, positions))


def _masked_scatter_sample() -> Any:
    from hypothesis import strategies as st

    from ..testing import arrays, shapes

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = draw(shapes(min_dims=1))
        mask = np.asarray(draw(arrays(shape))) > 0
        source = tensor(draw, (int(mask.sum()) + draw(st.integers(0, 2)),))
        return [tensor(draw, shape), Tensor._from_array(mask), source], {}

    return draw_inputs()


@composite("masked_scatter", sample=_masked_scatter_sample)
def masked_scatter(input: Tensor, mask: Any, source: Tensor) -> Tensor:  # noqa: A002
    """Copy the elements of ``source``, in order, into a copy of ``input`` where ``mask`` is
    True (``mask`` broadcasts with ``input``).

    Example:
        >>> import autograd as ag
        >>> ag.zeros(3).masked_scatter(ag.tensor([True, False, True]), ag.tensor([7.0, 8.0]))
        tensor([7., 0., 8.])
    """
    mask_array = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
    if mask_array.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter: only supports boolean masks, but got mask with "
                           f"dtype {torch_name(mask_array.dtype)}")  # fmt: skip
    _check_same_dtype("masked_scatter", input._data, source._data, "source")
    shape = np.broadcast_shapes(input.shape, mask_array.shape)
    if tuple(input.shape) != shape:
        input = input.expand(shape)
    mask_array = np.broadcast_to(mask_array, shape)
    count = int(mask_array.sum())
    if source.numel() < count:
        raise RuntimeError(f"masked_scatter: number of elements of source ({source.numel()}) < "
                           f"number of ones in mask ({count})")  # fmt: skip
    values = source.reshape(-1)[:count]
    return REGISTRY["index_put"](input, values, index=mask_array)


def _take_sample() -> Any:
    from hypothesis import strategies as st

    from ..testing import shapes

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = draw(shapes())
        size = int(np.prod(shape, dtype=np.int64))
        index = integers(draw, draw(shapes(max_dims=2)), size)
        return [tensor(draw, shape), Tensor._from_array(index)], {}

    return draw_inputs()


@composite("take", sample=_take_sample)
def take(input: Tensor, index: Any) -> Tensor:  # noqa: A002
    """The elements of the flattened ``input`` at ``index`` (any shape; negative counts from
    the end).

    Example:
        >>> import autograd as ag
        >>> ag.take(ag.tensor([[1, 2], [3, 4]]), ag.tensor([0, 3]))
        tensor([1, 4])
    """
    array = np.asarray(index._data if isinstance(index, Tensor) else index)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"take: expected a long tensor for index, but got "
                           f"{torch_name(array.dtype)}")  # fmt: skip
    size = input.numel()
    if array.size and (array.min() < -size or array.max() >= size):
        bad = int(array.max()) if array.max() >= size else int(array.min())
        raise IndexError(f"take: out of range: tried to access index {bad} on a tensor of "
                         f"{size} elements")  # fmt: skip
    return input.reshape(-1)[array.astype(np.int64)]


def _inplace_form(name: str, function: Any) -> Any:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        others = [a for a in list(args) + list(kwargs.values()) if isinstance(a, Tensor)]
        return self._inplace(name, lambda s: function(s, *args, **kwargs), *others)

    method.__name__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``."
    return method


for _name, _function in (("scatter_", scatter), ("index_add_", index_add),
                         ("index_fill_", index_fill), ("index_copy_", index_copy),
                         ("masked_scatter_", masked_scatter)):  # fmt: skip
    setattr(Tensor, _name, _inplace_form(_name, _function))
