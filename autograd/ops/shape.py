"""Shape ops: reshape/view, permute, transpose, squeeze, expand, repeat, cat, stack, split, flip."""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._typing import Operand, Shape
from ..registry import composite, primitive
from ..tensor import Tensor
from ._samples import nonempty_shapes, tensor
from ._shapes import normalize_dim, shape_str

__all__ = [
    "reshape", "view", "flatten", "unflatten", "permute", "transpose", "swapaxes", "squeeze",
    "unsqueeze", "expand", "expand_as", "broadcast_to", "repeat", "chunk", "split", "cat",
    "concat", "stack", "flip", "narrow", "movedim", "unbind", "view_as", "reshape_as", "tile",
]  # fmt: skip


def _shape_args(shape: Sequence[Any]) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, np.ndarray)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _resolve_shape(op: str, old: Shape, new: Shape) -> Shape:
    # math.prod on Python ints: exact, and a tenth of np.prod's cost on a shape tuple.
    size = math.prod(old)
    unknown = [i for i, s in enumerate(new) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got shape {new}")
    if any(s < -1 for s in new):
        raise RuntimeError(f"{op}: invalid shape dimension in {new}")
    known = math.prod([s for s in new if s != -1])
    if unknown:
        if known == 0 or size % known:
            raise RuntimeError(f"{op}: shape {shape_str(new)} is invalid for input of size {size}")
        new = tuple(size // known if s == -1 else s for s in new)
    elif known != size:
        raise RuntimeError(f"{op}: shape {shape_str(new)} is invalid for input of size {size}")
    return new


def _reshape_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    size = math.prod(shape)
    choices = [(size,), (-1,), (1, size), (size, 1), tuple(reversed(shape))]
    return st.sampled_from(choices).map(lambda new: {"shape": new})


@primitive("reshape", method=False, kwargs=_reshape_options, view=True, exact=True)
def _reshape(x: np.ndarray, *, shape: Shape) -> np.ndarray:
    return x.reshape(_resolve_shape("reshape", x.shape, shape))


@_reshape.vjp
def _reshape_vjp(grad: Operand, x_shape: Shape) -> Operand:
    return grad.reshape(x_shape)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """Return the same data with a new shape (one dim may be -1).

    Example:
        >>> import autograd as ag
        >>> ag.arange(6).reshape(2, -1).shape
        (2, 3)
    """
    new = _shape_args(shape)
    if tuple(x.shape) == new:
        return x
    return _reshape(x, shape=new)


def view(x: Tensor, *shape: Any) -> Tensor:
    """Same as ``reshape`` (NumPy decides whether a copy is needed)."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer)):
        return x.to(shape[0])  # view(dtype)
    return reshape(x, *shape)


def view_as(x: Tensor, other: Tensor) -> Tensor:
    """Reshape to ``other``'s shape."""
    return reshape(x, other.shape)


def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    """Reshape to ``other``'s shape."""
    return reshape(x, other.shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    start = normalize_dim(start_dim, x.shape, "flatten")
    end = normalize_dim(end_dim, x.shape, "flatten")
    if start > end:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape
    merged = math.prod(shape[start : end + 1])
    return reshape(x, shape[:start] + (merged,) + shape[end + 1 :])


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim ``dim`` into ``sizes``."""
    axis = normalize_dim(dim, x.shape, "unflatten")
    sizes = tuple(sizes)
    resolved = _resolve_shape("unflatten", (x.shape[axis],), sizes)
    return reshape(x, x.shape[:axis] + resolved + x.shape[axis + 1 :])


def _permute_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    return st.permutations(list(range(len(shape)))).map(lambda dims: {"dims": tuple(dims)})


@primitive("permute", method=False, kwargs=_permute_options, view=True, exact=True)
def _permute(x: np.ndarray, *, dims: Shape) -> np.ndarray:
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute: number of dims {len(dims)} doesn't match the tensor's {x.ndim} dims "
            f"(shape {x.shape})"
        )
    return np.transpose(x, normalize_dim(tuple(dims), x.shape, "permute"))


@_permute.vjp
def _permute_vjp(grad: Operand, dims: Shape, xp: Any) -> Operand:
    axes = normalize_dim(tuple(dims), grad.ndim, "permute")
    return xp.permute(grad, dims=tuple(np.argsort(axes).tolist()))


def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder dims."""
    return _permute(x, dims=_shape_args(dims))


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims."""
    if x.ndim == 0:
        return x
    a, b = normalize_dim(dim0, x.shape, "transpose"), normalize_dim(dim1, x.shape, "transpose")
    if a == b:
        return x
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return _permute(x, dims=tuple(order))


swapaxes = transpose


def movedim(x: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dim(s) ``source`` to position(s) ``destination`` (ints or equal-length tuples).

    Example:
        >>> import autograd as ag
        >>> ag.zeros(2, 3, 4).movedim((0, 1), (2, 0)).shape
        (3, 4, 2)
    """
    sources = tuple(source) if isinstance(source, (tuple, list)) else (source,)
    targets = tuple(destination) if isinstance(destination, (tuple, list)) else (destination,)
    if len(sources) != len(targets):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(sources)} dims) should "
            f"contain the same number of dims as destination ({list(targets)} dims)"
        )
    src = normalize_dim(sources, x.shape if x.ndim else 0, "movedim")
    dst = normalize_dim(targets, x.shape if x.ndim else 0, "movedim")
    if x.ndim == 0:
        return x
    order: list[int | None] = [None] * x.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(x.ndim) if i not in src)
    order = [next(rest) if o is None else o for o in order]
    if order == list(range(x.ndim)):
        return x
    return _permute(x, dims=tuple(order))


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """Remove dims of size 1 (all of them, or just ``dim``)."""
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        axes = normalize_dim(dim, x.shape, "squeeze") if x.ndim else ()
        axes = axes if isinstance(axes, tuple) else (axes,)
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1))
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at ``dim``."""
    axis = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def _expand_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_options(draw: Any) -> dict:
        lead = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
        body = tuple(draw(st.integers(1, 3)) if s == 1 else s for s in shape)
        return {"shape": lead + body}

    return draw_options()


@primitive("expand", method=False, kwargs=_expand_options, view=True, exact=True)
def _expand(x: np.ndarray, *, shape: Shape) -> np.ndarray:
    if len(shape) < x.ndim:
        raise RuntimeError(
            f"expand: the number of sizes {len(shape)} must be at least the tensor's dims "
            f"{x.ndim} (shape {x.shape})"
        )
    lead = len(shape) - x.ndim
    if -1 in shape[:lead]:
        raise RuntimeError(
            f"expand: size -1 isn't allowed in a new leading dim (tensor shape {x.shape}, "
            f"requested {shape_str(shape)}); -1 keeps an existing size"
        )
    target = tuple(x.shape[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(shape))
    for i in range(x.ndim):
        if x.shape[i] != 1 and x.shape[i] != target[i + lead]:
            raise RuntimeError(
                f"expand: the size {x.shape[i]} of dim {i} must match the new size "
                f"{target[i + lead]} (tensor shape {x.shape}, requested {shape_str(shape)}); "
                "only dims of size 1 can be expanded"
            )
    return np.broadcast_to(x, target)


@_expand.vjp
def _expand_vjp(grad: Operand) -> Operand:
    return grad  # the engine sums the gradient back to the input's shape


def expand(x: Tensor, *shape: Any) -> Tensor:
    """Broadcast size-1 dims to ``shape`` without copying (-1 keeps a size)."""
    target = _shape_args(shape)
    if tuple(x.shape) == target:
        return x
    return _expand(x, shape=target)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """Expand to ``other``'s shape."""
    return expand(x, other.shape)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Expand to ``shape``."""
    return expand(x, tuple(shape))


def _repeat_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    count = st.integers(0, 1).map(lambda extra: len(shape) + extra)
    return count.flatmap(
        lambda n: st.lists(st.integers(1, 2), min_size=n, max_size=n).map(
            lambda repeats: {"repeats": tuple(repeats)}
        )
    )


@primitive("repeat", method=False, kwargs=_repeat_options, exact=True)
def _repeat(x: np.ndarray, *, repeats: Shape) -> np.ndarray:
    if len(repeats) < x.ndim:
        raise RuntimeError(
            f"repeat: the number of repeats {len(repeats)} can't be smaller than the tensor's "
            f"dims {x.ndim} (shape {x.shape})"
        )
    return np.tile(x, repeats)


@_repeat.vjp
def _repeat_vjp(grad: Operand, x_shape: Shape, repeats: Shape, xp: Any) -> Operand:
    lead = len(repeats) - len(x_shape)
    full = (1,) * lead + tuple(x_shape)
    # Split each dim into (repeat, size) and sum the repeats away.
    split_shape: list[int] = []
    for r, s in zip(repeats, full):
        split_shape += [r, s]
    summed = xp.sum(grad.reshape(tuple(split_shape)), dim=tuple(range(0, 2 * len(full), 2)))
    return summed.reshape(x_shape)


def repeat(x: Tensor, *repeats: Any) -> Tensor:
    """Tile the tensor ``repeats`` times along each dim."""
    return _repeat(x, repeats=_shape_args(repeats))


def tile(x: Tensor, dims: Sequence[int]) -> Tensor:
    """Like ``repeat``, padding ``dims`` with leading ones."""
    dims = tuple(dims)
    dims = (1,) * (x.ndim - len(dims)) + dims
    return _repeat(x, repeats=dims)


def _as_tensors(tensors: Sequence[Any], op: str) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}: expected a sequence of tensors, got a single Tensor")
    items = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not items:
        # PyTorch's types: ValueError from cat, RuntimeError from stack.
        error = ValueError if op == "cat" else RuntimeError
        raise error(f"{op}: expected a non-empty list of tensors")
    return items


def _cat_sample(stack: bool = False) -> Any:
    from hypothesis import strategies as st

    from ..testing import shapes

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        n = draw(st.integers(1, 3))
        base = draw(shapes(min_dims=1))
        if stack:
            dim = draw(st.integers(-len(base) - 1, len(base)))
            return [[tensor(draw, base) for _ in range(n)]], {"dim": dim}
        dim = draw(st.integers(0, len(base) - 1))
        pieces = []
        for _ in range(n):
            shape = list(base)
            shape[dim] = draw(st.integers(1, 3))
            pieces.append(tensor(draw, tuple(shape)))
        return pieces, {"dim": dim}

    return draw_inputs()


def _check_cat(op: str, *arrays: np.ndarray, dim: int) -> None:
    ndim = arrays[0].ndim
    if ndim == 0:
        raise RuntimeError(f"{op}: zero-dimensional tensor (at position 0) cannot be concatenated")
    axis = normalize_dim(dim, arrays[0].shape, op)
    for i, a in enumerate(arrays):
        if a.ndim != ndim or any(
            a.shape[k] != arrays[0].shape[k] for k in range(ndim) if k != axis
        ):
            raise RuntimeError(
                f"{op}: sizes of tensors must match except in dim {dim}; tensor 0 has shape "
                f"{arrays[0].shape} and tensor {i} has shape {a.shape}"
            )


@primitive("cat", method=False, validate=_check_cat, sample=_cat_sample, exact=True)
def _cat(*tensors: np.ndarray, dim: int = 0) -> np.ndarray:
    return np.concatenate(tensors, axis=normalize_dim(dim, tensors[0].ndim, "cat"))


@_cat.vjp
def _cat_vjp(grad: Operand, tensors_shape: list, dim: int, xp: Any) -> tuple:
    axis = normalize_dim(dim, grad.ndim, "cat")
    pieces, start = [], 0
    for shape in tensors_shape:
        index = _narrow_index(grad.ndim, axis, start, start + shape[axis])
        pieces.append(xp.getitem(grad, index=index))
        start += shape[axis]
    return tuple(pieces)


def cat(tensors: Sequence[Tensor], dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Concatenate along an existing dim.

    Example:
        >>> import autograd as ag
        >>> ag.cat([ag.zeros(2, 3), ag.ones(1, 3)]).shape
        (3, 3)
    """
    items = _as_tensors(tensors, "cat")
    if builtins.any(t.ndim != 1 for t in items):
        # PyTorch still skips legacy empty 1-D tensors next to tensors of other ranks.
        items = [t for t in items if tuple(t.shape) != (0,)] or items[:1]
    if out is not None:
        from .._keywords import write_out

        return write_out("cat", _cat(*items, dim=dim), out)
    return _cat(*items, dim=dim)


concat = cat


def stack(tensors: Sequence[Tensor], dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Stack along a new dim."""
    if out is not None:
        from .._keywords import write_out

        return write_out("stack", stack(tensors, dim), out)
    items = _as_tensors(tensors, "stack")
    shape = items[0].shape
    for i, t in enumerate(items):
        if t.shape != shape:
            raise RuntimeError(
                f"stack: expects each tensor to be equal size, but got {shape_str(shape)} at "
                f"entry 0 and {shape_str(t.shape)} at entry {i}"
            )
    axis = normalize_dim(dim, items[0].ndim + 1, "stack")
    return _cat(*[unsqueeze(t, axis) for t in items], dim=axis)


def _narrow_index(ndim: int, axis: int, start: int, stop: int) -> tuple:
    return (slice(None),) * axis + (slice(start, stop),)


def _require_dims(op: str, x: Tensor) -> None:
    if x.ndim == 0:
        raise RuntimeError(f"{op}: expected a tensor with at least 1 dim, got shape ()")


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into pieces of a given size (the last may be smaller) or of the given sizes."""
    _require_dims("split", x)
    axis = normalize_dim(dim, x.shape, "split")
    length = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise RuntimeError(f"split: split_size must be positive, got {size}")
        sizes = [builtins.min(size, length - start) for start in range(0, length, size)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != length:
            raise RuntimeError(
                f"split: split_sizes {sizes} must sum to the size {length} of dim {dim} "
                f"(tensor shape {x.shape})"
            )
    pieces, start = [], 0
    for size in sizes:
        pieces.append(x[_narrow_index(x.ndim, axis, start, start + size)])
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``chunks`` pieces of (nearly) equal size, as PyTorch does."""
    _require_dims("chunk", x)
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be positive, got {chunks}")
    axis = normalize_dim(dim, x.shape, "chunk")
    size = -(-x.shape[axis] // chunks) if x.shape[axis] else 1
    return split(x, builtins.max(size, 1), dim=axis)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Remove a dim, returning the slices along it."""
    axis = normalize_dim(dim, x.shape, "unbind")
    if x.ndim == 0:
        raise IndexError(f"unbind: dim {dim} is out of range for a tensor of shape ()")
    return tuple(x[(slice(None),) * axis + (i,)] for i in range(x.shape[axis]))


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start:start+length`` along ``dim``."""
    axis = normalize_dim(dim, x.shape, "narrow")
    if start < 0:
        start += x.shape[axis]
    if not 0 <= start <= start + length <= x.shape[axis]:
        raise RuntimeError(
            f"narrow: start {start} + length {length} exceeds dim {dim} of size {x.shape[axis]}"
        )
    return x[_narrow_index(x.ndim, axis, start, start + length)]


def _flip_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    ndim = len(shape)
    axes = st.sets(st.integers(0, max(ndim - 1, 0)), max_size=ndim)
    return axes.map(lambda dims: {"dims": tuple(dims)})


@primitive("flip", method=False, kwargs=_flip_options, exact=True)
def _flip(x: np.ndarray, *, dims: Shape) -> np.ndarray:
    axes = normalize_dim(tuple(dims), x.shape, "flip")
    return x.copy() if x.ndim == 0 else np.flip(x, axis=axes).copy()


@_flip.vjp
def _flip_vjp(grad: Operand, dims: Shape, xp: Any) -> Operand:
    return xp.flip(grad, dims=dims)


def flip(x: Tensor, *dims: Any, **kwargs: Any) -> Tensor:
    """Reverse the order of elements along ``dims`` (``flip(0, 1)``, ``flip((0, 1))`` or
    ``flip(dims=(0, 1))``, as PyTorch).

    Example:
        >>> import autograd as ag
        >>> ag.tensor([1, 2, 3]).flip(dims=(0,))
        tensor([3, 2, 1])
    """
    if kwargs:
        if set(kwargs) != {"dims"} or dims:
            raise TypeError(f"flip: expected dims as positional ints or dims=, got {sorted(kwargs)}")
        dims = (kwargs["dims"],)
    if len(dims) == 1 and isinstance(dims[0], (int, np.integer)):
        dims = ((dims[0],),)
    return _flip(x, dims=_shape_args(dims))


for _function in (reshape, view, view_as, reshape_as, flatten, unflatten, permute, transpose,
                  movedim, squeeze, unsqueeze, expand, expand_as, broadcast_to, repeat,
                  tile, split, chunk, unbind, narrow, flip):  # fmt: skip
    setattr(Tensor, _function.__name__, _function)
Tensor.swapaxes = transpose  # type: ignore[attr-defined]


def _axis_options(*names: str, extra: int = 0) -> Any:
    """Options naming dims of the input (``extra=1``: the result has one dim more)."""

    def options(shape: tuple) -> Any:
        from hypothesis import strategies as st

        ndim = len(shape) + extra
        axis = st.integers(-ndim, ndim - 1) if ndim else st.just(0)
        return st.fixed_dictionaries({name: axis for name in names})

    return options


def _flatten_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    pair = st.lists(st.integers(0, len(shape) - 1), min_size=2, max_size=2).map(sorted)
    return pair.map(lambda dims: {"start_dim": dims[0], "end_dim": dims[1]})


def _squeeze_sample() -> Any:
    from hypothesis import strategies as st

    from ..testing import shapes

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = tuple(1 if draw(st.booleans()) else s for s in draw(shapes()))
        options = _axis_options("dim")(shape) if shape else st.just({})
        return [tensor(draw, shape)], draw(options)

    return draw_inputs()


def _split_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"split_size_or_sections": st.integers(1, 3),
                                  "dim": st.integers(0, len(shape) - 1)})  # fmt: skip


def _chunk_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries(
        {"chunks": st.integers(1, 3), "dim": st.integers(0, len(shape) - 1)}
    )


def _narrow_options(shape: tuple) -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_options(draw: Any) -> dict:
        dim = draw(st.integers(0, len(shape) - 1))
        start = draw(st.integers(0, shape[dim] - 1))
        return {"dim": dim, "start": start, "length": draw(st.integers(1, shape[dim] - start))}

    return draw_options()


composite("flatten", method=False, tensors=1, shapes=nonempty_shapes,
          kwargs=_flatten_options)(flatten)  # fmt: skip
composite("squeeze", method=False, tensors=1, sample=_squeeze_sample)(squeeze)
composite("unsqueeze", method=False, tensors=1, kwargs=_axis_options("dim", extra=1))(unsqueeze)
composite("transpose", method=False, tensors=1, kwargs=_axis_options("dim0", "dim1"))(transpose)
composite("movedim", method=False, tensors=1,
          kwargs=_axis_options("source", "destination"))(movedim)  # fmt: skip
composite("stack", method=False, sample=lambda: _cat_sample(stack=True))(stack)
composite("split", method=False, tensors=1, shapes=nonempty_shapes, kwargs=_split_options)(split)
composite("chunk", method=False, tensors=1, shapes=nonempty_shapes, kwargs=_chunk_options)(chunk)
composite("narrow", method=False, tensors=1, shapes=nonempty_shapes, kwargs=_narrow_options)(narrow)
