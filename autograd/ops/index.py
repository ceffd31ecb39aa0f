"""Indexing: ``t[...]``, setitem, gather, scatter_add, index_select, masked_select, masked_fill."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._typing import Operand, Shape
from ..registry import composite, primitive
from ..tensor import Tensor
from ._samples import integers, tensor
from ._shapes import check_broadcastable, normalize_dim
from .elementwise import _where

__all__ = [
    "gather",
    "scatter_add",
    "index_select",
    "masked_select",
    "masked_fill",
    "take_along_dim",
]


def _normalize_index(index: Any) -> Any:
    """Turn Tensors and lists inside an index into ndarrays NumPy understands."""
    if isinstance(index, tuple):
        return tuple(_normalize_one(i) for i in index)
    return _normalize_one(index)


def _normalize_one(item: Any) -> Any:
    if isinstance(item, Tensor):
        array = item._data
        if array.dtype.kind == "f":
            raise IndexError(
                f"getitem: tensors used as indices must be long, int or bool, got dtype {array.dtype}"
            )
        return array
    if isinstance(item, list):
        array = np.asarray(item) if item else np.zeros(0, np.int64)  # x[[]] is empty, as PyTorch
        if array.dtype.kind == "f":
            raise IndexError("getitem: lists used as indices must hold ints or bools")
        return array
    if isinstance(item, (np.floating, float)):
        raise IndexError(f"getitem: only integers, slices, None, Ellipsis, and integer or bool "
                         f"tensors are valid indices (got {type(item).__name__})")  # fmt: skip
    return item


def _is_int(item: Any) -> bool:
    if isinstance(item, np.ndarray):
        return item.ndim == 0 and item.dtype.kind in "iu"
    return isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_))


def _split_ints(index: Any) -> tuple[tuple, tuple] | None:
    """Split an index mixing ints and arrays into (ints, the rest), applied one after the other.

    PyTorch selects with the ints first and then indexes with the arrays, so ``x[0, :, [1, 2]]``
    is ``x[0][:, [1, 2]]``; NumPy counts the ints as advanced indices too and, when they are
    not next to the arrays, moves the indexed dims to the front.
    """
    if not isinstance(index, tuple) or not any(_is_int(i) for i in index):
        return None
    if not any(isinstance(i, np.ndarray) and not _is_int(i) for i in index):
        return None
    first: list[Any] = []
    for item in index:
        if _is_int(item) or item is Ellipsis:
            first.append(item)
        elif isinstance(item, np.ndarray) and item.dtype == np.bool_:
            first.extend([slice(None)] * item.ndim)  # a mask spans as many dims as it has
        elif item is not None:
            first.append(slice(None))
    return tuple(first), tuple(i for i in index if not _is_int(i))


def _expand_ellipsis(index: Any, ndim: int) -> Any:
    """Write ``...`` out as slices when arrays are present.

    NumPy counts advanced indices on both sides of ``...`` as separated even when it stands
    for no dims, and then moves their dims to the front; PyTorch sees them as adjacent.
    """
    if not isinstance(index, tuple) or not any(i is Ellipsis for i in index):
        return index
    if not any(isinstance(i, np.ndarray) and i.ndim for i in index):
        return index
    used = 0
    for item in index:
        if isinstance(item, np.ndarray) and item.dtype == np.bool_:
            used += item.ndim
        elif item is not None and item is not Ellipsis:
            used += 1
    position = next(k for k, i in enumerate(index) if i is Ellipsis)
    fill = (slice(None),) * max(ndim - used, 0)
    return index[:position] + fill + index[position + 1 :]


def _indexed(array: np.ndarray, index: Any) -> tuple[np.ndarray, Any]:
    """A view of ``array`` and the index to apply to it, with PyTorch's order for ints."""
    index = _expand_ellipsis(index, array.ndim)
    split = _split_ints(index)
    if split is None:
        return array, index
    return array[split[0]], split[1]


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return not any(isinstance(i, np.ndarray) for i in items)


def _index_sample() -> Any:
    from hypothesis import strategies as st

    from ..testing import shapes

    @st.composite
    def draw_index(draw: Any, shape: tuple) -> Any:
        """An index mixing ints, slices, None, Ellipsis, integer arrays (repeats) and masks."""
        kind = draw(st.sampled_from(["basic", "array", "mask", "ellipsis"]))
        if kind == "mask" and shape:
            return np.asarray(draw(st.lists(st.booleans(), min_size=int(np.prod(shape)),
                                            max_size=int(np.prod(shape))))).reshape(shape)  # fmt: skip
        if kind == "array" and shape:
            positions = draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=4))
            return (np.asarray(positions),) + ((slice(None),) if len(shape) > 1 else ())
        if kind == "ellipsis" and shape:
            return (Ellipsis, draw(st.integers(-shape[-1], shape[-1] - 1)))
        items: list[Any] = []
        for size in shape:
            choice = draw(st.sampled_from(["int", "slice", "none_slice"]))
            if choice == "int":
                items.append(draw(st.integers(-size, size - 1)))
            else:
                items.append(slice(draw(st.integers(0, size - 1)), None, draw(st.integers(1, 2))))
                if choice == "none_slice":
                    items.append(None)
        return tuple(items)

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = draw(shapes(min_dims=1))
        return [tensor(draw, shape)], {"index": draw(draw_index(shape))}

    return draw_inputs()


@primitive("getitem", method=False, view=True, exact=True, sample=_index_sample)
def _getitem(x: np.ndarray, *, index: Any) -> np.ndarray:
    try:
        view, index = _indexed(x, _normalize_index(index))
        return view[index]
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor shape {x.shape})") from None


@_getitem.vjp
def _getitem_vjp(grad: Operand, x_shape: Shape, index: Any, xp: Any) -> Operand:
    return xp.index_add_into_zeros(grad, shape=x_shape, index=index)


@primitive("index_add_into_zeros", method=False, exact=True,
           untested="getitem's gradient: tested through getitem's second order")
def _index_add_into_zeros(values: np.ndarray, *, shape: Shape, index: Any) -> np.ndarray:
    out = np.zeros(shape, dtype=values.dtype)
    view, index = _indexed(out, _normalize_index(index))
    if _is_basic(index):
        view[index] = values
    else:
        # Repeated indices must add up their gradients: np.add.at does not buffer.
        np.add.at(view, index, values)
    return out


@_index_add_into_zeros.vjp
def _index_add_into_zeros_vjp(grad: Operand, index: Any, xp: Any) -> Operand:
    return xp.getitem(grad, index=index)


@primitive("index_put", method=False, promote=False, exact=True,
           untested="t[index] = v: tests of in-place setitem check its gradients")
def index_put(x: np.ndarray, values: np.ndarray, *, index: Any) -> np.ndarray:
    out = np.array(x, copy=True)
    try:
        view, index = _indexed(out, _normalize_index(index))
        view[index] = values
    except IndexError as error:
        raise IndexError(f"setitem: {error} (tensor shape {x.shape}, values {values.shape})") from None
    except ValueError as error:
        raise RuntimeError(
            f"setitem: {error} (tensor shape {x.shape}, values {values.shape})"
        ) from None
    return out


@index_put.vjp
def _index_put_vjp(grad: Operand, x_shape: Shape, values_shape: Shape, index: Any,
                   needs_input_grad: tuple, xp: Any) -> tuple:  # fmt: skip
    grad_x = grad_values = None
    if needs_input_grad[0]:
        keep = np.ones(x_shape, dtype=grad.dtype)
        view, rest = _indexed(keep, _normalize_index(index))
        view[rest] = 0
        grad_x = grad * keep
    if needs_input_grad[1]:
        grad_values = xp.getitem(grad, index=index)
        extra = len(values_shape) - grad_values.ndim
        if extra > 0:
            # values may carry leading size-1 dims beyond the target's (NumPy and PyTorch
            # drop them when assigning); the engine sums the rest back.
            grad_values = grad_values.reshape((1,) * extra + tuple(grad_values.shape))
    return grad_x, grad_values


def _check_index_tensor(op: str, x: np.ndarray, index: np.ndarray, dim: int) -> int:
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an int64 index tensor, got dtype {index.dtype}")
    axis = normalize_dim(dim, x.shape, op)
    if index.ndim != x.ndim and not (x.ndim == 0 and index.ndim <= 1):
        raise RuntimeError(
            f"{op}: index tensor must have the same number of dims as input ({index.shape} vs "
            f"{x.shape})"
        )
    for d in range(index.ndim):
        if d != axis and index.shape[d] > x.shape[d]:
            raise RuntimeError(
                f"{op}: size of index {index.shape} must not exceed the input's {x.shape} "
                f"outside dim {dim}"
            )
    if index.size and (index.min() < -x.shape[axis] or index.max() >= x.shape[axis]):
        raise RuntimeError(
            f"{op}: index {int(index.max()) if index.max() >= x.shape[axis] else int(index.min())} "
            f"is out of bounds for dim {dim} with size {x.shape[axis]}"
        )
    return axis


def _full_index(index: np.ndarray, axis: int) -> tuple:
    grids = list(np.ogrid[tuple(slice(0, s) for s in index.shape)])
    grids[axis] = index
    return tuple(grids)


def _index_along_sample(with_src: bool = False) -> Any:
    from hypothesis import strategies as st

    from ..testing import shapes

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = draw(shapes(min_dims=1))
        dim = draw(st.integers(0, len(shape) - 1))
        index_shape = tuple(draw(st.integers(1, s)) if i != dim else draw(st.integers(1, 4))
                            for i, s in enumerate(shape))  # fmt: skip
        index = Tensor._from_array(integers(draw, index_shape, shape[dim]))
        if with_src:
            return [tensor(draw, shape), index, tensor(draw, index_shape)], {"dim": dim}
        return [tensor(draw, shape), index], {"dim": dim}

    return draw_inputs()


@primitive("gather", promote=False, method=False, exact=True, sample=_index_along_sample)
def _gather(x: np.ndarray, index: np.ndarray, *, dim: int) -> np.ndarray:
    axis = _check_index_tensor("gather", x, index, dim)
    return x[_full_index(index, axis)]


@_gather.vjp
def _gather_vjp(grad: Operand, x_shape: Shape, index: Operand, dim: int, xp: Any) -> tuple:
    zeros = np.zeros(x_shape, dtype=grad.dtype)
    return xp.scatter_add(zeros, index, grad, dim=dim), None


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:  # noqa: A002
    """Pick values along ``dim`` at ``index`` (``out[i][j] = input[i][index[i][j]]`` for dim 1).

    Example:
        >>> import autograd as ag
        >>> ag.gather(ag.tensor([[1.0, 2.0], [3.0, 4.0]]), 1, ag.tensor([[1], [0]]))
        tensor([[2.],
                [3.]])
    """
    return _gather(input, index, dim=dim)


@primitive("scatter_add", promote=False, method=False, exact=True,
           sample=lambda: _index_along_sample(with_src=True))  # fmt: skip
def _scatter_add(x: np.ndarray, index: np.ndarray, src: np.ndarray, *, dim: int) -> np.ndarray:
    axis = _check_index_tensor("scatter_add", x, index, dim)
    if any(i > s for i, s in zip(index.shape, src.shape)):
        raise RuntimeError(
            f"scatter_add: index {index.shape} must not be larger than src {src.shape}"
        )
    out = np.array(x, copy=True)
    region = src[tuple(slice(0, s) for s in index.shape)]
    np.add.at(out, _full_index(index, axis), region.astype(out.dtype, copy=False))
    return out


@_scatter_add.vjp
def _scatter_add_vjp(grad: Operand, index: Operand, src_shape: Shape, dim: int, xp: Any) -> tuple:
    picked = xp.gather(grad, index, dim=dim)
    if tuple(picked.shape) != tuple(src_shape):
        region = tuple(slice(0, s) for s in picked.shape)
        picked = xp.index_add_into_zeros(picked, shape=src_shape, index=region)
    return grad, None, picked


def _scatter_add_method(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Out of place: add ``src`` into a copy of self at ``index`` along ``dim``."""
    return _scatter_add(self, index, src, dim=dim)


def _scatter_add_inplace(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """In place ``scatter_add``."""
    return self._inplace("scatter_add_", lambda s: _scatter_add(s, index, src, dim=dim), src)


def scatter_add(
    input: Tensor, dim: Any, index: Tensor, src: Tensor | None = None, **kw: Any
) -> Tensor:  # noqa: A002
    """``torch.scatter_add(input, dim, index, src)``; also ``scatter_add(x, index, src, dim=d)``."""
    if "dim" in kw:
        return _scatter_add(input, dim, index, dim=kw["dim"])
    return _scatter_add(input, index, src, dim=dim)


def index_select(x: Tensor, dim: int, index: Any) -> Tensor:
    """The entries at ``index`` (1-D int tensor) along ``dim``."""
    axis = normalize_dim(dim, x.shape, "index_select")
    array = index._data if isinstance(index, Tensor) else np.asarray(index)
    if array.ndim > 1:
        raise IndexError(f"index_select: index must be 0-d or 1-d, got shape {array.shape}")
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"index_select: expected an int64 index tensor, got dtype {array.dtype}")
    size = x.shape[axis] if x.ndim else 1
    if array.size and (array.min() < -size or array.max() >= size):
        bad = int(array.max()) if array.max() >= size else int(array.min())
        raise IndexError(
            f"index_select: index {bad} is out of range for dim {dim} of size {size} "
            f"(tensor shape {x.shape})"
        )
    return _getitem(x, index=(slice(None),) * axis + (array.reshape(-1),))


def masked_select(x: Tensor, mask: Any) -> Tensor:
    """The elements where ``mask`` is True, as a 1-D tensor."""
    mask_array = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask_array.dtype != np.bool_:
        raise RuntimeError(
            f"masked_select: mask must be a bool tensor, got dtype {mask_array.dtype}"
        )
    if mask_array.shape != x.shape:
        x = x.expand(np.broadcast_shapes(x.shape, mask_array.shape))
        mask_array = np.broadcast_to(mask_array, x.shape)
    return _getitem(x, index=mask_array)


def _masked_fill_sample() -> Any:
    from hypothesis import strategies as st

    from ..testing import arrays, broadcastable_shapes

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        a, b = draw(broadcastable_shapes(2))
        mask = Tensor._from_array(np.asarray(draw(arrays(b))) > 0)
        x = tensor(draw, np.broadcast_shapes(a, b))
        return [x, mask, draw(st.floats(-2, 2))], {}

    return draw_inputs()


@composite("masked_fill", sample=_masked_fill_sample)
def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """Replace the elements where ``mask`` is True by ``value``."""
    mask_tensor = mask if isinstance(mask, Tensor) else Tensor._from_array(np.asarray(mask))
    if mask_tensor.dtype != np.bool_:
        raise RuntimeError(
            f"masked_fill: mask must be a bool tensor, got dtype {mask_tensor.dtype}"
        )
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            f"masked_fill: value must be a 0-d tensor or a number, got shape {tuple(value.shape)}"
        )
    check_broadcastable("masked_fill", mask_tensor._data, x._data)
    fill = value if isinstance(value, Tensor) else Tensor._from_array(np.asarray(value, x.dtype))
    out = _where(mask_tensor, fill.to(x.dtype), x)
    if out.shape != x.shape:
        raise RuntimeError(
            f"masked_fill: mask of shape {tuple(mask_tensor.shape)} can't be broadcast to the "
            f"tensor's shape {tuple(x.shape)}"
        )
    return out


def _masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
    """In-place ``masked_fill``."""
    return self._inplace("masked_fill_", lambda s: masked_fill(s, mask, value), value)


Tensor.masked_fill_ = _masked_fill_  # type: ignore[attr-defined]


def take_along_dim(x: Tensor, indices: Tensor, dim: int) -> Tensor:
    """``gather`` with broadcasting of ``indices``, as ``torch.take_along_dim``."""
    return _gather(x, indices, dim=dim)


Tensor.gather = gather  # type: ignore[attr-defined]
Tensor.scatter_add = _scatter_add_method  # type: ignore[attr-defined]
Tensor.scatter_add_ = _scatter_add_inplace  # type: ignore[attr-defined]
Tensor.index_select = index_select  # type: ignore[attr-defined]
Tensor.masked_select = masked_select  # type: ignore[attr-defined]
def _index_select_sample() -> Any:
    from hypothesis import strategies as st

    from ..testing import shapes

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = draw(shapes(min_dims=1))
        dim = draw(st.integers(0, len(shape) - 1))
        index = integers(draw, (draw(st.integers(1, 4)),), shape[dim])
        return [tensor(draw, shape)], {"dim": dim, "index": Tensor._from_array(index)}

    return draw_inputs()


composite("index_select", method=False, sample=_index_select_sample)(index_select)
