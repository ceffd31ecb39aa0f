"""Rearranging elements: roll, repeat_interleave, Tensor.unfold (sliding windows), meshgrid."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._typing import Operand
from ..registry import composite, primitive
from ..tensor import Tensor
from ._samples import tensor
from ._shapes import normalize_dim, shape_str

__all__ = ["roll", "repeat_interleave", "meshgrid"]


def _as_tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _roll_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    shift = st.integers(-4, 4)
    if not shape:
        return st.fixed_dictionaries({"shifts": shift})
    dims = st.sets(st.integers(-len(shape), -1), min_size=1, max_size=len(shape))
    return st.one_of(
        st.fixed_dictionaries({"shifts": shift}),
        dims.flatmap(lambda ds: st.fixed_dictionaries(
            {"shifts": st.tuples(*[shift] * len(ds)), "dims": st.just(tuple(ds))})),
    )  # fmt: skip


@primitive("roll", kwargs=_roll_options, exact=True)
def roll(x: np.ndarray, *, shifts: Any, dims: Any = None) -> np.ndarray:
    if dims is None:
        if len(_as_tuple(shifts)) != 1:
            raise RuntimeError(f"roll: without dims, shifts must be one int, got {shifts!r}")
        return np.roll(x, _as_tuple(shifts)[0])  # over the flattened tensor, as PyTorch
    shifts, dims = _as_tuple(shifts), _as_tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}"
        )
    axes = tuple(normalize_dim(d, x.shape if x.ndim else 0, "roll") for d in dims)
    return np.roll(x, shifts, axes) if x.ndim else x.copy()


@roll.vjp
def _roll_vjp(grad: Operand, shifts: Any, dims: Any, xp: Any) -> Operand:
    back = tuple(-s for s in _as_tuple(shifts))
    return xp.roll(grad, shifts=back if dims is not None else back[0], dims=dims)


def _repeat_interleave_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    dim = st.integers(-len(shape), len(shape) - 1) if shape else st.just(0)
    return st.fixed_dictionaries({"repeats": st.integers(0, 3), "dim": st.one_of(st.none(), dim)})


@composite("repeat_interleave", tensors=1, kwargs=_repeat_interleave_options)
def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,  # noqa: A002
                      output_size: int | None = None) -> Tensor:  # fmt: skip
    """Repeat each element ``repeats`` times along ``dim`` (of the flattened tensor without
    ``dim``); ``repeat_interleave(counts)`` alone gives ``[0] * counts[0] + [1] * ...``.

    Example:
        >>> import autograd as ag
        >>> ag.tensor([1, 2]).repeat_interleave(2)
        tensor([1, 1, 2, 2])
    """
    if repeats is None:  # repeat_interleave(repeats): the indices each count repeats
        counts = _counts("repeat_interleave", input._data, None)
        return Tensor._from_array(np.repeat(np.arange(counts.size), counts).astype(np.int64))
    if dim is None:
        input, axis = input.reshape(-1), 0
    else:
        axis = normalize_dim(dim, input.shape if input.ndim else 0, "repeat_interleave")
        if input.ndim == 0:
            input = input.reshape(1)
    size = input.shape[axis]
    counts = _counts("repeat_interleave", repeats, size)
    index = np.repeat(np.arange(size), counts)
    if output_size is not None and index.size != output_size:
        raise RuntimeError(f"repeat_interleave: the result has {index.size} elements along dim "
                           f"{axis}, not output_size={output_size}")  # fmt: skip
    return input[(slice(None),) * axis + (index,)]


def _counts(op: str, repeats: Any, size: int | None) -> np.ndarray:
    counts = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: repeats must be an int or an integer tensor, got {counts.dtype}")
    if counts.ndim > 1:
        raise RuntimeError(f"{op}: repeats must be 0-d or 1-d, got shape {shape_str(counts.shape)}")
    if (counts < 0).any():
        raise RuntimeError(f"{op}: repeats must be non-negative, got {counts.tolist()}")
    if size is not None and counts.ndim == 1 and counts.size not in (1, size):
        raise RuntimeError(
            f"{op}: repeats must have the same size as input along dim, but got "
            f"repeats.size(0) = {counts.size} and input.size = {size}"
        )
    return counts.reshape(-1) if size is None else np.broadcast_to(counts.reshape(-1), (size,))


def _unfold_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_options(draw: Any) -> dict:
        dimension = draw(st.integers(-len(shape), len(shape) - 1)) if shape else 0
        length = shape[dimension] if shape else 1
        return {"dimension": dimension, "size": draw(st.integers(0, length)),
                "step": draw(st.integers(1, 3))}  # fmt: skip

    return draw_options()


# Registered under its own name: "unfold" is nn.functional.unfold (im2col).
@composite("unfold_windows", method="unfold", tensors=1, kwargs=_unfold_options)
def unfold_windows(input: Tensor, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    """``Tensor.unfold``: every window of ``size`` elements along ``dimension``, ``step`` apart,
    as a new last dim.

    Example:
        >>> import autograd as ag
        >>> ag.arange(5).unfold(0, 2, 2)
        tensor([[0, 1],
                [2, 3]])
    """
    axis = normalize_dim(dimension, input.shape if input.ndim else 0, "unfold")
    length = input.shape[axis] if input.ndim else 1
    if size > length or size < 0:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {axis} is {length} but "
                           f"size is {size}")  # fmt: skip
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if input.ndim == 0:
        return input.reshape(1)
    count = (length - size) // step + 1
    windows = np.arange(count)[:, None] * step + np.arange(size)
    return input[(slice(None),) * axis + (windows,)].movedim(axis + 1, -1)


def _meshgrid_sample() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
        return [tensor(draw, (n,)) for n in sizes], {"indexing": draw(st.sampled_from(["ij", "xy"]))}

    return draw_inputs()


@composite("meshgrid", method=False, sample=_meshgrid_sample)
def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: ``indexing='ij'`` (matrix, the default) or ``'xy'``
    (Cartesian: the first two dims swapped).

    Example:
        >>> import autograd as ag
        >>> xs, ys = ag.meshgrid(ag.tensor([1, 2]), ag.tensor([3, 4, 5]), indexing="ij")
        >>> xs.shape
        (2, 3)
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("meshgrid: in an upcoming release, it will be required to pass the indexing "
                      "argument (as in PyTorch); the default is 'ij'", UserWarning, stacklevel=3)  # fmt: skip
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be one of 'xy' or 'ij', got {indexing!r}")
    if not tensors:
        raise RuntimeError("meshgrid: expects a non-empty TensorList")
    items = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    for t in items:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0D or 1D tensors, got shape {shape_str(t.shape)}")
        if t.dtype != items[0].dtype:
            raise RuntimeError(f"meshgrid: expects all tensors to have the same dtype, got "
                               f"{items[0].dtype} and {t.dtype}")  # fmt: skip
    sizes = tuple(t.numel() for t in items)
    grids = []
    for i, t in enumerate(items):
        shape = [1] * len(items)
        shape[i] = sizes[i]
        grids.append(t.reshape(tuple(shape)).expand(sizes))
    if indexing == "xy" and len(items) >= 2:
        grids = [g.transpose(0, 1) for g in grids]  # Cartesian: as PyTorch, ij transposed
    return tuple(grids)
