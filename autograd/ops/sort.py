"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode.

Each finds indices with NumPy (no graph), then takes the values with ``gather``, so the
gradient goes to exactly the element PyTorch picks. Ties follow PyTorch's CPU kernels: sort
is stable (what PyTorch guarantees with ``stable=True`` and does for up to 16 elements),
median takes the lower middle of the stable order, and topk, kthvalue and mode replay the
algorithms PyTorch calls (``_stl``) on slices that have ties.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import return_types
from ..domains import DISTINCT
from ..graph import shown_as
from ..registry import composite
from ..tensor import Tensor
from . import _stl
from ._shapes import normalize_dim, shape_str
from .elementwise import where
from .index import gather

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode"]


def _rows(array: np.ndarray, axis: int) -> np.ndarray:
    """The slices along ``axis`` as the rows of a 2-D array."""
    if array.ndim == 0:
        return array.reshape(1, 1)
    moved = np.moveaxis(array, axis, -1)
    return moved.reshape(-1, moved.shape[-1])


def _unrows(indices: np.ndarray, shape: tuple, axis: int, width: int) -> np.ndarray:
    """Rows of indices back to ``shape`` with ``width`` entries along ``axis``."""
    if not shape:
        return indices.reshape(())
    moved = list(np.moveaxis(np.empty(shape, np.int8), axis, -1).shape)
    moved[-1] = width
    return np.moveaxis(indices.reshape(moved), -1, axis)


def _axis(op: str, x: Tensor, dim: int) -> int:
    return normalize_dim(dim, x.shape if x.ndim else 0, op) if x.ndim else 0


def _take(x: Tensor, indices: np.ndarray, axis: int, op: str) -> Tensor:
    """``x``'s values at ``indices`` along ``axis`` (differentiable: the gradient is routed),
    drawn as ``op`` (the public op, not the ``gather`` it runs)."""
    index = Tensor._from_array(indices.astype(np.int64, copy=False))
    if x.ndim == 0:
        return shown_as(gather(x.reshape(1), 0, index.reshape(1)), op).reshape(())
    return shown_as(gather(x, axis, index), op)


def _stable_order(rows: np.ndarray, descending: bool) -> np.ndarray:
    """Stable argsort of each row; NaN sorts as the largest value (first when descending)."""
    if not descending:
        return np.argsort(rows, axis=-1, kind="stable")
    # Sorting the reversed rows and reversing back keeps equal values in their original order.
    width = rows.shape[-1]
    return width - 1 - np.argsort(rows[:, ::-1], axis=-1, kind="stable")[:, ::-1]


def _has_ties(rows: np.ndarray) -> np.ndarray:
    """Which rows hold a value twice (two NaNs count as a tie)."""
    if rows.shape[-1] < 2:
        return np.zeros(rows.shape[0], bool)
    ordered = np.sort(rows, axis=-1)
    same = ordered[:, 1:] == ordered[:, :-1]
    if rows.dtype.kind == "f":
        same |= np.isnan(ordered[:, 1:]) & np.isnan(ordered[:, :-1])
    return same.any(axis=-1)


def _pairs(row: np.ndarray) -> list:
    return [(value, j) for j, value in enumerate(row.tolist())]


def _greater_or_nan(a: tuple, b: tuple) -> bool:
    return (a[0] != a[0] and b[0] == b[0]) or a[0] > b[0]


def _less_or_not_nan(a: tuple, b: tuple) -> bool:
    return (a[0] == a[0] and b[0] != b[0]) or a[0] < b[0]


def _sort_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    dim = st.integers(-len(shape), len(shape) - 1) if shape else st.sampled_from([0, -1])
    return st.fixed_dictionaries({"dim": dim, "descending": st.booleans()})


def _paired_ties(draw: Any, shape: tuple) -> np.ndarray:
    """Values that come in equal pairs (0.4 apart otherwise). A pair is a kink whose one-sided
    slopes bound the valid subgradients; three equal values have none that a coordinate-wise
    finite difference can see (the middle of three ties is flat both ways)."""
    from hypothesis import strategies as st

    size = int(np.prod(shape, dtype=np.int64))
    order = draw(st.permutations(list(range(size))))
    return (np.asarray(order, dtype=np.float64) // 2 * 0.4 - 1.0).reshape(shape)


def _tied_sample(options: Callable[[tuple], Any], min_dims: int = 0) -> Callable[..., Any]:
    """A ``kinks=`` hint: inputs with tied pairs of values, with the op's options."""

    def hint(op: Any = None) -> Any:
        from hypothesis import strategies as st

        from ..testing import shapes

        @st.composite
        def draw_inputs(draw: Any) -> tuple[list, dict]:
            shape = draw(shapes(min_dims=min_dims))
            values = Tensor._from_array(_paired_ties(draw, shape)).requires_grad_(True)
            return [values], draw(options(shape))

        return draw_inputs()

    return hint


@composite("sort", tensors=1, kwargs=_sort_options, domain=DISTINCT,
           kinks=_tied_sample(_sort_options))  # fmt: skip
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:  # noqa: A002
    """Sort along ``dim``; returns ``(values, indices)``. Equal values keep their order.

    Example:
        >>> import autograd as ag
        >>> ag.sort(ag.tensor([3, 1, 2])).indices
        tensor([1, 2, 0])
    """
    axis = _axis("sort", input, dim)
    rows = _rows(input._data, axis)
    indices = _unrows(_stable_order(rows, descending), input.shape, axis, rows.shape[-1])
    return return_types.sort(_take(input, indices, axis, "sort"), Tensor._from_array(indices))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:  # noqa: A002
    """The indices that sort ``input`` along ``dim`` (``sort(...).indices``)."""
    axis = _axis("argsort", input, dim)
    rows = _rows(input._data, axis)
    return Tensor._from_array(
        _unrows(_stable_order(rows, descending), input.shape, axis, rows.shape[-1])
    )


def _msort_shapes(n: int) -> Any:
    from ..testing import shapes

    return shapes(min_dims=1).map(lambda shape: [shape] * n)


def _no_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    return st.just({})


@composite("msort", shapes=_msort_shapes, domain=DISTINCT,
           kinks=_tied_sample(_no_options, min_dims=1))  # fmt: skip
def msort(input: Tensor) -> Tensor:  # noqa: A002
    """Sort along dim 0 (the values only)."""
    return sort(input, dim=0).values


def _check_k(op: str, x: Tensor, axis: int, k: int, low: int) -> int:
    size = x.shape[axis] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"{op}: k must be an int, got {type(k).__name__}")
    if not low <= k <= size:
        raise RuntimeError(
            f"{op}: selected index k={k} out of range for dim {axis} of size {size} (tensor "
            f"shape {shape_str(x.shape)}); expected {low} <= k <= {size}"
        )
    return int(k)


def _topk_row(row: np.ndarray, k: int, largest: bool, ordered: bool) -> list[int]:
    """PyTorch's topk of one row with ties: partial_sort, or nth_element then sort."""
    items = _pairs(row)
    comp = _greater_or_nan if largest else _less_or_not_nan
    if k * 64 <= len(items):
        _stl.partial_sort(items, k, comp)
    else:
        _stl.nth_element(items, k - 1, comp)
        if ordered:
            head = items[: k - 1]
            _stl.sort(head, comp)
            items[: k - 1] = head
    return [j for _, j in items[:k]]


def _topk_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_options(draw: Any) -> dict:
        dim = draw(st.integers(-len(shape), len(shape) - 1)) if shape else 0
        size = shape[dim] if shape else 1
        return {"k": draw(st.integers(0, size)), "dim": dim, "largest": draw(st.booleans()),
                "sorted": draw(st.booleans())}  # fmt: skip

    return draw_options()


@composite("topk", tensors=1, kwargs=_topk_options, domain=DISTINCT,
           kinks=_tied_sample(_topk_options))  # fmt: skip
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices.

    Example:
        >>> import autograd as ag
        >>> ag.topk(ag.tensor([1.0, 5.0, 3.0]), 2)
        autograd.return_types.topk(
        values=tensor([5., 3.]),
        indices=tensor([1, 2]))
    """
    axis = _axis("topk", input, dim)
    k = _check_k("topk", input, axis, k, 0)
    rows = _rows(input._data, axis)
    if input.ndim == 0:
        k = 1  # as PyTorch: a 0-d input gives itself, even for k = 0
    chosen = np.zeros((rows.shape[0], k), np.int64)
    if k:
        order = _stable_order(rows, descending=largest)[:, :k]
        exact = ~_has_ties(rows) if sorted else np.zeros(rows.shape[0], bool)
        chosen[exact] = order[exact]
        for r in np.nonzero(~exact)[0]:
            chosen[r] = _topk_row(rows[r], k, largest, sorted)
    indices = _unrows(chosen, input.shape, axis, k)
    return return_types.topk(_take(input, indices, axis, "topk"), Tensor._from_array(indices))


def _reduced(op: str, x: Tensor, dim: int, keepdim: bool) -> tuple[int, np.ndarray]:
    axis = _axis(op, x, dim)
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(
            f"{op}: expected reduction dim {axis} to have non-zero size (tensor shape "
            f"{shape_str(x.shape)})"
        )
    return axis, _rows(x._data, axis)


def _selected(result: Any, x: Tensor, axis: int, chosen: np.ndarray, keepdim: bool) -> Any:
    """``(values, indices)`` of one chosen index per row, as ``result`` (named after its op)."""
    indices = _unrows(chosen.reshape(-1, 1), x.shape, axis, 1)
    values = _take(x, indices, axis, result.__name__)
    if x.ndim and not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return result(values, Tensor._from_array(np.asarray(indices)))


def _kthvalue_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_options(draw: Any) -> dict:
        dim = draw(st.integers(-len(shape), len(shape) - 1)) if shape else 0
        size = shape[dim] if shape else 1
        return {"k": draw(st.integers(1, size)), "dim": dim, "keepdim": draw(st.booleans())}

    return draw_options()


@composite("kthvalue", tensors=1, kwargs=_kthvalue_options, domain=DISTINCT,
           kinks=_tied_sample(_kthvalue_options))  # fmt: skip
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:  # noqa: A002
    """The ``k``-th smallest value along ``dim`` (k counts from 1) and its index.

    Example:
        >>> import autograd as ag
        >>> ag.kthvalue(ag.tensor([4.0, 1.0, 3.0]), 2).values
        tensor(3.)
    """
    axis = _axis("kthvalue", input, dim)
    if not input.numel():
        raise RuntimeError("kthvalue: cannot perform the reduction on a tensor with no elements")
    k = _check_k("kthvalue", input, axis, k, 1)
    rows = _rows(input._data, axis)
    chosen = np.argpartition(rows, k - 1, axis=-1)[:, k - 1]
    for r in np.nonzero(_has_ties(rows))[0]:
        items = _pairs(rows[r])
        _stl.torch_quickselect(items, k - 1, _greater_or_nan)
        chosen[r] = items[k - 1][1]
    return _selected(return_types.kthvalue, input, axis, chosen, keepdim)


def _median_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    dim = st.integers(-len(shape), len(shape) - 1) if shape else st.sampled_from([0, -1])
    return st.one_of(st.just({}), st.fixed_dictionaries({"dim": dim, "keepdim": st.booleans()}))


def _median_index(rows: np.ndarray, ignore_nan: bool) -> np.ndarray:
    """PyTorch's median position: the lower middle of the stable order (ties by index)."""
    order = np.argsort(rows, axis=-1, kind="stable")  # NaN last
    if rows.dtype.kind != "f":
        return order[:, (rows.shape[-1] - 1) // 2]
    nans = np.isnan(rows)
    if not ignore_nan:
        middle = order[:, (rows.shape[-1] - 1) // 2]
        return np.where(nans.any(axis=-1), np.argmax(nans, axis=-1), middle)
    count = rows.shape[-1] - nans.sum(axis=-1)
    chosen = order[np.arange(rows.shape[0]), np.maximum(count - 1, 0) // 2]
    for r in np.nonzero(count == 0)[0]:  # all NaN: where nth_element leaves the first one
        items = _pairs(rows[r])
        _stl.nth_element(items, 0, lambda a, b: False)  # NaNs compare unordered
        chosen[r] = items[0][1]
    return chosen


def _median_all(x: Tensor, ignore_nan: bool) -> Tensor:
    """The median of all elements; ties share the gradient evenly, as PyTorch."""
    flat = x.reshape(-1)
    if not flat.numel():
        if x.dtype.kind != "f":
            raise RuntimeError("median: the median of an empty integer tensor is undefined")
        return Tensor._from_array(np.asarray(np.nan, x.dtype))
    position = int(_median_index(flat._data.reshape(1, -1), ignore_nan)[0])
    value = flat._data[position]
    if x.dtype.kind != "f" or not flat.requires_grad:
        return Tensor._from_array(np.asarray(value))
    same = np.isnan(flat._data) if np.isnan(value) else flat._data == value
    mask = Tensor._from_array(same)
    count = float(same.sum())
    if not np.isfinite(value):
        return where(mask, flat, 0.0).sum() / count
    # value + the mean over the ties of (x - value): exactly the value, and a gradient of
    # 1/count on each tied element.
    shift = Tensor._from_array(np.asarray(value, x.dtype))
    return shift + where(mask, flat - shift, 0.0).sum() / count


def _median(op: str, result: Any, x: Tensor, dim: Any, keepdim: bool, ignore_nan: bool) -> Any:
    if dim is None:
        return _median_all(x, ignore_nan)
    axis, rows = _reduced(op, x, dim, keepdim)
    return _selected(result, x, axis, _median_index(rows, ignore_nan), keepdim)


@composite("median", tensors=1, kwargs=_median_options, domain=DISTINCT,
           kinks=_tied_sample(_median_options))  # fmt: skip
def median(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A002
    """The median (the lower of the two middle values for an even count); with ``dim``,
    ``(values, indices)``. A NaN makes the median NaN.

    Example:
        >>> import autograd as ag
        >>> ag.median(ag.tensor([3.0, 1.0, 4.0, 2.0]))
        tensor(2.)
    """
    return _median("median", return_types.median, input, dim, keepdim, ignore_nan=False)


@composite("nanmedian", tensors=1, kwargs=_median_options, domain=DISTINCT,
           kinks=_tied_sample(_median_options))  # fmt: skip
def nanmedian(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A002
    """``median`` ignoring NaN values."""
    return _median("nanmedian", return_types.nanmedian, input, dim, keepdim, ignore_nan=True)


def _mode_index(rows: np.ndarray) -> np.ndarray:
    """PyTorch's mode: the smallest most frequent value, at the index ``std::sort`` leaves last
    in its run."""
    chosen = np.zeros(rows.shape[0], np.int64)
    ties = _has_ties(rows)
    # Without ties every value is a mode of frequency 1: the smallest wins.
    chosen[~ties] = np.argmin(rows[~ties], axis=-1) if (~ties).any() else chosen[~ties]
    for r in np.nonzero(ties)[0]:
        items = _pairs(rows[r])
        _stl.sort(items, lambda a, b: a[0] < b[0])
        best, run, longest = 0, 0, 0
        for i in range(len(items)):
            run += 1
            if i == len(items) - 1 or items[i][0] != items[i + 1][0]:
                if run > longest:
                    best, longest = items[i][1], run
                run = 0
        chosen[r] = best
    return chosen


def _mode_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    dim = st.integers(-len(shape), len(shape) - 1) if shape else st.sampled_from([0, -1])
    return st.fixed_dictionaries({"dim": dim, "keepdim": st.booleans()})


# At a tie the mode is discontinuous (moving one tied element alone changes which value is
# most frequent), so the per-element check accepts any value there; moving the tied pair
# together is smooth, and the tie check holds the gradients' total to that slope.
@composite("mode", tensors=1, kwargs=_mode_options, domain=DISTINCT,
           kinks=_tied_sample(_mode_options))  # fmt: skip
def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:  # noqa: A002
    """The most frequent value along ``dim`` (the smallest among equally frequent ones) and an
    index where it occurs.

    Example:
        >>> import autograd as ag
        >>> ag.mode(ag.tensor([2, 5, 2, 7])).values
        tensor(2)
    """
    axis, rows = _reduced("mode", input, dim, keepdim)
    return _selected(return_types.mode, input, axis, _mode_index(rows), keepdim)


Tensor.argsort = argsort  # type: ignore[attr-defined]

