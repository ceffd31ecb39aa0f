"""Hypothesis strategies and a gradient assertion, for property-testing gradients.

Users apply these to their own functions and custom ``Function``s; the
project's own registry-wide gradient test uses the same helpers::

    from hypothesis import given
    from autograd.testing import tensors, shapes, assert_gradients_close

    @given(tensors(shapes()))
    def test_my_function(x):
        assert_gradients_close(my_function, (x,))
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

try:
    from hypothesis import assume
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "autograd.testing needs Hypothesis: pip install 'graphgrad[testing]' (or hypothesis)"
    ) from error

from .function import ANY, BROADCAST, MATMUL, SAME, Domain, OpSpec
from .gradcheck import (
    ATOL,
    EPS,
    RTOL,
    GradientReport,
    Kink,
    check_gradients,
)
from .tensor import Tensor

__all__ = [
    "shapes", "broadcastable_shapes", "tensors", "arrays", "op_inputs", "assert_gradients_close",
    "Domain", "ANY", "on_kinks", "with_ties", "kink_inputs", "check_gradients", "GradientReport",
    "Kink",
]  # fmt: skip

MAX_SIDE = 3
MAX_DIMS = 3


def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Shapes with ``min_dims..max_dims`` dims of size ``min_side..max_side`` (small: tests stay fast)."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def broadcastable_shapes(draw: Any, n: int = 2, min_dims: int = 0, max_dims: int = MAX_DIMS,
                         min_side: int = 1, max_side: int = MAX_SIDE) -> tuple:  # fmt: skip
    """``n`` shapes that broadcast together (some dims set to 1 or dropped from the left)."""
    base = draw(shapes(min_dims, max_dims, min_side, max_side))
    result = []
    for _ in range(n):
        drop = draw(st.integers(0, len(base) - min_dims)) if len(base) > min_dims else 0
        shape = list(base[drop:])
        for i in range(len(shape)):
            if draw(st.booleans()) and draw(st.booleans()):
                shape[i] = 1
        result.append(tuple(shape))
    return tuple(result)


@st.composite
def arrays(draw: Any, shape: Sequence[int], domain: Domain = ANY, dtype: Any = np.float64) -> np.ndarray:
    """A float array of ``shape`` with values in ``domain`` (kinks and ties avoided)."""
    shape = tuple(shape)
    size = int(np.prod(shape, dtype=np.int64))
    if domain.distinct:
        # Evenly spaced values in a random order, with jitter: no two within a finite-difference step.
        order = draw(st.permutations(list(range(size))))
        jitter = draw(st.lists(st.floats(0.0, 0.5), min_size=size, max_size=size))
        step = (domain.high - domain.low) / max(size, 1)
        values = [domain.low + (k + 0.25 + 0.5 * j) * step for k, j in zip(order, jitter)]
    else:
        element = st.floats(domain.low, domain.high, allow_nan=False, allow_infinity=False, width=64)
        values = draw(st.lists(element, min_size=size, max_size=size))
        margin = 0.05
        values = [_push_away(v, domain.away_from, margin) for v in values]
    return np.asarray(values, dtype=dtype).reshape(shape)


@st.composite
def on_kinks(draw: Any, shape: Sequence[int], points: Sequence[float] = (0.0,),
             domain: Domain = ANY, dtype: Any = np.float64) -> np.ndarray:  # fmt: skip
    """An array with elements placed exactly on ``points`` (the kinks: 0 for relu/abs/sign,
    clamp's bounds) on purpose, the others from ``domain``; at least one is on a kink.

    Elements off the kinks stay 0.05 away from them, so each finite difference sees one kink.

    Example:
        >>> from hypothesis import given
        >>> from autograd.testing import on_kinks
        >>> @given(on_kinks((4,), points=(0.0,)))
        ... def test(values):
        ...     assert (values == 0.0).any()
        >>> test()
    """
    shape = tuple(shape)
    size = int(np.prod(shape, dtype=np.int64))
    free = Domain(domain.low, domain.high, away_from=tuple(points) + tuple(domain.away_from))
    values = draw(arrays((size,), free, dtype=np.float64)).tolist()
    placed = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    for k, on in enumerate(placed):
        if on:
            values[k] = draw(st.sampled_from(list(points)))
    if size and not any(v in points for v in values):
        values[draw(st.integers(0, size - 1))] = draw(st.sampled_from(list(points)))
    return np.asarray(values, dtype=dtype).reshape(shape)


@st.composite
def with_ties(
    draw: Any, shape: Sequence[int], domain: Domain = ANY, dtype: Any = np.float64
) -> np.ndarray:
    """An array whose values repeat on purpose (ties for max/min/sort/pooling windows).

    Values come from a pool of fewer distinct numbers than elements (at least 0.2 apart, so
    a finite difference moves no element past another one); with two or more elements, some
    are equal.

    Example:
        >>> from hypothesis import given
        >>> from autograd.testing import with_ties
        >>> @given(with_ties((2, 3)))
        ... def test(values):
        ...     assert len(set(values.ravel().tolist())) < 6
        >>> test()
    """
    shape = tuple(shape)
    size = int(np.prod(shape, dtype=np.int64))
    if size == 0:
        return np.zeros(shape, dtype=dtype)
    distinct = draw(st.integers(1, max(1, size - 1)))
    step = (domain.high - domain.low) / max(distinct, 1)
    pool = [domain.low + step * (k + 0.5) for k in range(distinct)]
    picks = draw(st.lists(st.sampled_from(pool), min_size=size, max_size=size))
    if size > 1 and len(set(picks)) == size:
        picks[-1] = picks[0]
    return np.asarray(picks, dtype=dtype).reshape(shape)


@st.composite
def kink_inputs(draw: Any, op: OpSpec) -> tuple[list, dict]:
    """Arguments for a registered op placed on its kinks and ties (its ``kinks=`` hint)."""
    hint = getattr(op, "kinks", None) or op.extra.get("kinks")
    if hint is None:
        raise ValueError(f"op {op.name} has no kinks= hint")
    return draw(hint())


def _push_away(value: float, points: Sequence[float], margin: float) -> float:
    for point in points:
        if abs(value - point) < margin:
            value = point + (margin if value >= point else -margin)
    return value


def tensors(shape: Any = None, domain: Domain = ANY, dtype: Any = np.float64, requires_grad: bool = True) -> st.SearchStrategy:
    """float64 Tensors (requiring grad) of ``shape`` (a tuple or a strategy of shapes)."""
    shape_strategy = shapes() if shape is None else (shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape)))
    return shape_strategy.flatmap(lambda s: arrays(s, domain, dtype)).map(
        lambda a: Tensor._from_array(a).requires_grad_(requires_grad)
    )


def _domains(op: OpSpec, n: int) -> list[Domain]:
    if isinstance(op.domain, (tuple, list)):
        return list(op.domain) + [ANY] * (n - len(op.domain))
    return [op.domain] * n  # type: ignore[list-item]


def _tensor(draw: Any, shape: tuple, domain: Domain) -> Tensor:
    return Tensor._from_array(draw(arrays(shape, domain))).requires_grad_(True)


@st.composite
def _dims(draw: Any, ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> Any:
    options = ["int"] + (["none"] if allow_none else []) + (["tuple"] if allow_tuple and ndim else [])
    kind = draw(st.sampled_from(options))
    if kind == "none" or ndim == 0:
        return None if allow_none else draw(st.sampled_from([0, -1]))
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim)))


def _kwargs_strategy(draw: Any, op: OpSpec, shapes_: list[tuple]) -> dict:
    hint = op.kwargs
    ndim = len(shapes_[0]) if shapes_ else 0
    if hint is None:
        return {}
    if callable(hint):
        return draw(hint(*shapes_))
    if hint == "clamp":
        low, high = draw(st.sampled_from([(-0.5, 0.5), (-0.5, None), (None, 0.5)]))
        return {"min": low, "max": high}
    if hint == "var":
        dim = draw(_dims(ndim))
        axes = range(ndim) if dim is None else ([dim] if isinstance(dim, int) else dim)
        count = int(np.prod([shapes_[0][a] for a in axes], dtype=np.int64)) if ndim else 1
        # N - correction must stay positive, or the variance is nan/inf by definition.
        correction = draw(st.sampled_from([0, 1] if count > 1 else [0]))
        if op.name == "std":
            assume(count > 1)  # the std of one value is 0, where sqrt has no derivative
        return {"dim": dim, "keepdim": draw(st.booleans()), "correction": correction}
    if hint == "reduce":
        return {"dim": draw(_dims(ndim)), "keepdim": draw(st.booleans())}
    if hint == "reduce_required":
        return {"dim": draw(_dims(ndim, allow_none=False)), "keepdim": draw(st.booleans())}
    if hint in ("one_dim", "one_dim_or_none"):
        return {"dim": draw(_dims(ndim, allow_tuple=False)), "keepdim": draw(st.booleans())}
    if hint == "one_dim_required":
        return {"dim": draw(_dims(ndim, allow_none=False, allow_tuple=False))}
    if hint == "norm":
        return {"p": draw(st.sampled_from([2, 1, 3, math.inf, "fro"])), "dim": draw(_dims(ndim)),
                "keepdim": draw(st.booleans())}  # fmt: skip
    if hint == "permute":
        return {"dims": tuple(draw(st.permutations(list(range(ndim)))))}
    if hint == "reshape":
        size = int(np.prod(shapes_[0], dtype=np.int64))
        return {"shape": draw(st.sampled_from([(size,), (-1,), (1, size), (size, 1), tuple(reversed(shapes_[0]))]))}
    if hint == "expand":
        lead = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
        body = tuple(draw(st.integers(1, 3)) if s == 1 else s for s in shapes_[0])
        return {"shape": lead + body}
    if hint == "repeat":
        extra = draw(st.integers(0, 1))
        return {"repeats": tuple(draw(st.lists(st.integers(1, 2), min_size=ndim + extra, max_size=ndim + extra)))}
    if hint == "flip":
        return {"dims": tuple(draw(st.sets(st.integers(0, max(ndim - 1, 0)), max_size=ndim)))}
    if hint == "flatten":
        if ndim == 0:
            return {}
        a, b = sorted(draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2)))
        return {"start_dim": a, "end_dim": b}
    if hint == "squeeze":
        return {"dim": draw(_dims(ndim, allow_tuple=False))} if ndim else {}
    if hint == "unsqueeze":
        return {"dim": draw(st.integers(-ndim - 1, ndim))}
    if hint == "transpose":
        if ndim == 0:
            return {"dim0": 0, "dim1": 0} if op.name == "transpose" else {"source": 0, "destination": 0}
        a, b = draw(st.integers(0, ndim - 1)), draw(st.integers(0, ndim - 1))
        return {"dim0": a, "dim1": b} if op.name == "transpose" else {"source": a, "destination": b}
    if hint == "split":
        dim = draw(st.integers(0, ndim - 1))
        return {"split_size_or_sections": draw(st.integers(1, 3)), "dim": dim}
    if hint == "chunk":
        return {"chunks": draw(st.integers(1, 3)), "dim": draw(st.integers(0, ndim - 1))}
    if hint == "narrow":
        dim = draw(st.integers(0, ndim - 1))
        start = draw(st.integers(0, shapes_[0][dim] - 1))
        return {"dim": dim, "start": start, "length": draw(st.integers(1, shapes_[0][dim] - start))}
    raise ValueError(f"op {op.name}: unknown kwargs hint {hint!r}")


@st.composite
def _index(draw: Any, shape: tuple) -> Any:
    """An index mixing ints, slices, None, Ellipsis, integer arrays (with repeats) and masks."""
    kind = draw(st.sampled_from(["basic", "array", "mask", "ellipsis"]))
    if kind == "mask" and shape:
        mask = np.asarray(draw(st.lists(st.booleans(), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))).reshape(shape)
        return mask
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
            start = draw(st.integers(0, size - 1))
            step = draw(st.integers(1, 2))
            items.append(slice(start, None, step))
            if choice == "none_slice":
                items.append(None)
    return tuple(items)


def _special_inputs(draw: Any, op: OpSpec, domains: list[Domain]) -> tuple[list, dict] | None:
    kind = op.extra.get("inputs")
    if kind is None:
        return None
    if kind == "getitem":
        shape = draw(shapes(min_dims=1))
        return [_tensor(draw, shape, domains[0])], {"index": draw(_index(shape))}
    if kind == "where":
        a, b, c = draw(broadcastable_shapes(3))
        condition = np.asarray(draw(arrays(a, Domain(-1, 1)))) > 0
        return [Tensor._from_array(condition), _tensor(draw, b, domains[1]), _tensor(draw, c, domains[2])], {}
    if kind == "masked_fill":
        a, b = draw(broadcastable_shapes(2))
        full = np.broadcast_shapes(a, b)
        mask = np.asarray(draw(arrays(b, Domain(-1, 1)))) > 0
        return [_tensor(draw, full, domains[0]), Tensor._from_array(mask), draw(st.floats(-2, 2))], {}
    if kind == "gather":
        shape = draw(shapes(min_dims=1))
        dim = draw(st.integers(0, len(shape) - 1))
        index_shape = tuple(draw(st.integers(1, s)) if i != dim else draw(st.integers(1, 4)) for i, s in enumerate(shape))
        index = np.asarray(draw(st.lists(st.integers(0, shape[dim] - 1), min_size=int(np.prod(index_shape)),
                                         max_size=int(np.prod(index_shape))))).reshape(index_shape)  # fmt: skip
        return [_tensor(draw, shape, domains[0]), Tensor._from_array(index)], {"dim": dim}
    if kind == "scatter_add":
        shape = draw(shapes(min_dims=1))
        dim = draw(st.integers(0, len(shape) - 1))
        index_shape = tuple(draw(st.integers(1, s)) if i != dim else draw(st.integers(1, 4)) for i, s in enumerate(shape))
        index = np.asarray(draw(st.lists(st.integers(0, shape[dim] - 1), min_size=int(np.prod(index_shape)),
                                         max_size=int(np.prod(index_shape))))).reshape(index_shape)  # fmt: skip
        return ([_tensor(draw, shape, domains[0]), Tensor._from_array(index), _tensor(draw, index_shape, domains[0])],
                {"dim": dim})  # fmt: skip
    if kind == "index_select":
        shape = draw(shapes(min_dims=1))
        dim = draw(st.integers(0, len(shape) - 1))
        index = np.asarray(draw(st.lists(st.integers(0, shape[dim] - 1), min_size=1, max_size=4)))
        return [_tensor(draw, shape, domains[0])], {"dim": dim, "index": Tensor._from_array(index)}
    if kind in ("cat", "stack"):
        n = draw(st.integers(1, 3))
        base = draw(shapes(min_dims=1))
        if kind == "stack":
            dim = draw(st.integers(-len(base) - 1, len(base)))
            return [[_tensor(draw, base, domains[0]) for _ in range(n)]], {"dim": dim}
        dim = draw(st.integers(0, len(base) - 1))
        pieces = []
        for _ in range(n):
            shape = list(base)
            shape[dim] = draw(st.integers(1, 3))
            pieces.append(_tensor(draw, tuple(shape), domains[0]))
        return (pieces, {"dim": dim}) if op.name == "cat" else ([pieces], {"dim": dim})
    if kind == "einsum":
        equation, shape_list = draw(st.sampled_from(_EINSUM_CASES))
        return [_tensor(draw, s, domains[0]) for s in shape_list], {"equation": equation}
    raise ValueError(f"op {op.name}: unknown inputs hint {kind!r}")


_EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 2)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij,j->i", [(2, 3), (3,)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]),
    ("ijk,ik->j", [(2, 3, 2), (2, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
]


@st.composite
def _matmul_shapes(draw: Any, kind: str) -> list[tuple]:
    m, k, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if kind == "mm":
        return [(m, k), (k, n)]
    if kind == "bmm":
        b = draw(st.integers(1, 2))
        return [(b, m, k), (b, k, n)]
    if kind == "dot":
        return [(k,), (k,)]
    if kind == "mv":
        return [(m, k), (k,)]
    left_batch, right_batch = draw(broadcastable_shapes(2, max_dims=2))
    x_shape = draw(st.sampled_from([(k,), left_batch + (m, k)]))
    y_shape = draw(st.sampled_from([(k,), right_batch + (k, n)]))
    return [x_shape, y_shape]


@st.composite
def op_inputs(draw: Any, op: OpSpec) -> tuple[list, dict]:
    """Arguments for a registered op, from its registration hints (shapes, domain, kwargs)."""
    if op.sample is not None:
        return draw(op.sample())
    tensor_names = [p for p in op.tensor_params if not p.startswith("*")]
    domains = _domains(op, max(len(tensor_names), 3))
    special = _special_inputs(draw, op, domains)
    if special is not None:
        return special
    n = len(tensor_names)
    if op.shapes == BROADCAST:
        shape_list = list(draw(broadcastable_shapes(n))) if n > 1 else [draw(shapes())]
    elif op.shapes == SAME:
        shape = draw(shapes())
        shape_list = [shape] * n
    elif op.shapes == MATMUL or op.shapes in ("mm", "bmm", "dot", "mv"):
        shape_list = draw(_matmul_shapes("matmul" if op.shapes == MATMUL else op.shapes))
    elif isinstance(op.shapes, st.SearchStrategy):
        shape_list = list(draw(op.shapes))
    else:
        raise ValueError(f"op {op.name}: unknown shapes hint {op.shapes!r}")
    hint = op.kwargs if isinstance(op.kwargs, str) else None
    if hint in ("split", "chunk", "narrow", "flatten"):
        shape_list = [draw(shapes(min_dims=1))]  # these need a dim to work on
    if op.kwargs == "squeeze" and draw(st.booleans()) and shape_list[0]:
        shape_list[0] = tuple(1 if draw(st.booleans()) else s for s in shape_list[0])
    if n > 1 and all(d.distinct for d in domains[:n]):
        # Ties across inputs matter too (maximum, minimum): draw all values as one distinct set.
        sizes = [int(np.prod(s, dtype=np.int64)) for s in shape_list]
        pool = draw(arrays((sum(sizes),), domains[0])).tolist()
        args, start = [], 0
        for s, size in zip(shape_list, sizes):
            chunk = np.asarray(pool[start : start + size], dtype=np.float64).reshape(s)
            args.append(Tensor._from_array(chunk).requires_grad_(True))
            start += size
    else:
        args = [_tensor(draw, s, d) for s, d in zip(shape_list, domains)]
    kwargs = _kwargs_strategy(draw, op, shape_list)
    return args, kwargs


def assert_gradients_close(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict | None = None,
    order: int = 1,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    kinks: bool = True,
) -> GradientReport:
    """Assert that ``fn(*args, **kwargs)``'s analytic gradients match finite differences.

    ``order=2`` checks second derivatives too. Tensor arguments that require grad are
    the ones checked; nested lists of tensors (``cat``) are checked element by element.
    The failure message names the function, the input and element, both values and shapes.
    At a kink (one-sided differences disagree) the analytic value must lie between the
    one-sided slopes: inside passes and is listed in the returned report's ``kinks``
    ("kink at x[2] = 0.0: one-sided slopes 0 and 1, analytic 0"), outside fails.

    Returns:
        The ``GradientReport`` (``.kinks`` lists the kinks met).
    """
    kwargs = kwargs or {}
    flat: list[Any] = []
    layout: list[Any] = []
    names: list[str] = []
    given_names = _input_names_of(fn, len(args))
    for a, arg_name in zip(args, given_names):
        if isinstance(a, (list, tuple)) and a and all(isinstance(t, Tensor) for t in a):
            layout.append(("list", len(a)))
            flat.extend(a)
            names.extend(f"{arg_name}[{k}]" for k in range(len(a)))
        else:
            layout.append(("one", 1))
            flat.append(a)
            names.append(arg_name)

    def rebuilt(*flat_args: Any) -> Any:
        items, position = [], 0
        for kind, count in layout:
            if kind == "list":
                items.append(list(flat_args[position : position + count]))
            else:
                items.append(flat_args[position])
            position += count
        return fn(*items, **kwargs)

    name = getattr(fn, "name", getattr(fn, "__name__", repr(fn)))
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):
        name = f"{owner.__name__}.{name}"  # MyFunction.apply
    shapes_text = ", ".join(str(tuple(a.shape)) if isinstance(a, Tensor) else repr(a) for a in flat)
    if order == 1:
        report = check_gradients(rebuilt, tuple(flat), eps, atol, rtol, kinks=kinks, names=names)
    else:
        report = _second_order_report(rebuilt, tuple(flat), eps, atol, rtol, kinks, names)
    if not report.ok:
        raise AssertionError(
            f"{name}: order-{order} gradient mismatch with inputs {shapes_text} and options "
            f"{kwargs}: {report.mismatches[0]}"
        )
    return report


def _input_names_of(fn: Callable[..., Any], count: int) -> list[str]:
    from .gradcheck import _input_names

    return _input_names(fn, count)


def _second_order_report(fn: Callable[..., Any], inputs: tuple, eps: float, atol: float,
                         rtol: float, kinks: bool, names: list[str]) -> GradientReport:  # fmt: skip
    from .gradcheck import GradcheckError, gradgradcheck

    report = GradientReport()
    try:
        gradgradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol, kinks=kinks)
    except GradcheckError as error:
        report.mismatches.append(str(error))
    return report


def assume_finite(value: Any) -> None:
    """Skip generated examples whose forward is not finite (e.g. a user function's pole)."""
    data = value._data if isinstance(value, Tensor) else np.asarray(value)
    assume(bool(np.isfinite(data).all()))
