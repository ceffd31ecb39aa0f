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

from typing import Any, Callable, Sequence

import numpy as np

try:
    from hypothesis import assume
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "autograd.testing needs Hypothesis: pip install 'graphgrad[testing]' (or hypothesis)"
    ) from error

from .domains import ANY, Domain
from .gradcheck import (
    ATOL,
    EPS,
    RTOL,
    GradientReport,
    Kink,
    check_gradients,
)
from .registry import OpSpec
from .tensor import Tensor

__all__ = [
    "shapes", "broadcastable_shapes", "tensors", "arrays", "dims", "op_inputs",
    "assert_gradients_close", "assume_finite", "Domain", "ANY", "on_kinks", "with_ties", "kink_inputs", "check_gradients", "GradientReport",
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
    """Arguments for a registered op placed on its kinks and ties (its ``kinks=`` hint).

    The hint sits next to the op, usually built with ``autograd.ops._samples.on_kinks``
    (elements exactly on given points) or ``on_ties`` (repeated values).
    """
    hint = op.kinks
    if hint is None:
        raise ValueError(f"op {op.name} has no kinks= hint")
    return draw(hint())


def _float_inputs(args: list, inputs: tuple[int, ...] | None) -> list[int]:
    """Positions of the floating tensor arguments (or those of them in ``inputs``)."""
    found = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.dtype.kind == "f"]
    return found if inputs is None else [i for i in found if i in inputs]


@st.composite
def _on_kinks_inputs(draw: Any, op: OpSpec, points: Sequence[Any], inputs: tuple[int, ...] | None) -> tuple[list, dict]:
    """The op's usual inputs, with elements of the chosen tensors placed on ``points``."""
    args, kwargs = draw(op_inputs(op))
    values: list[float] = []
    for point in points:
        got = point(kwargs) if callable(point) else point
        for value in got if isinstance(got, (tuple, list)) else [got]:
            if value is not None:
                values.append(float(value))
    args = list(args)
    if values:
        for i in _float_inputs(args, inputs):
            shape = tuple(args[i].shape)
            array = draw(on_kinks(shape, values)).astype(args[i].dtype)
            args[i] = Tensor._from_array(array).requires_grad_(args[i].requires_grad)
    return args, kwargs


@st.composite
def _tied_inputs(draw: Any, op: OpSpec, inputs: tuple[int, ...] | None) -> tuple[list, dict]:
    """The op's usual inputs, with values repeated within and across the chosen tensors."""
    args, kwargs = draw(op_inputs(op))
    args = list(args)
    chosen = _float_inputs(args, inputs)
    sizes = [int(args[i]._data.size) for i in chosen]
    total = sum(sizes)
    if not chosen or total == 0:
        return args, kwargs
    domain = _domains(op, max(chosen) + 1)[chosen[0]]
    room = max(1, int((domain.high - domain.low) / 0.2))
    distinct = draw(st.integers(1, max(1, min(total - 1, room))))
    step = (domain.high - domain.low) / distinct
    pool = [domain.low + step * (k + 0.5) for k in range(distinct)]
    picks = draw(st.lists(st.sampled_from(pool), min_size=total, max_size=total))
    if total > 1 and len(set(picks)) == total:
        picks[-1] = picks[0]
    start = 0
    for i, size in zip(chosen, sizes):
        array = np.asarray(picks[start : start + size], dtype=args[i].dtype).reshape(args[i].shape)
        args[i] = Tensor._from_array(array).requires_grad_(args[i].requires_grad)
        start += size
    return args, kwargs


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


@st.composite
def dims(draw: Any, ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> Any:
    """A ``dim`` argument for a tensor with ``ndim`` dims: None, an int, or a tuple of ints."""
    kinds = ["int"] + (["none"] if allow_none else []) + (["tuple"] if allow_tuple and ndim else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none" or ndim == 0:
        return None if allow_none else draw(st.sampled_from([0, -1]))
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim)))


@st.composite
def op_inputs(draw: Any, op: OpSpec) -> tuple[list, dict]:
    """Arguments ``(args, kwargs)`` for a registered op, from the hints next to its forward.

    ``op.sample`` draws everything; otherwise ``op.shapes`` gives the input shapes
    (broadcastable by default), ``op.domain`` their values and ``op.kwargs`` the options.
    """
    if op.sample is not None:
        return draw(op.sample())
    n = len([p for p in op.tensor_params if not p.startswith("*")])
    domains = _domains(op, max(n, 3))
    if op.shapes is not None:
        shape_list = list(draw(op.shapes(n)))
    elif n > 1:
        shape_list = list(draw(broadcastable_shapes(n)))
    else:
        shape_list = [draw(shapes())]
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
        args = [Tensor._from_array(draw(arrays(s, d))).requires_grad_(True)
                for s, d in zip(shape_list, domains)]  # fmt: skip
    kwargs = draw(op.kwargs(*shape_list)) if op.kwargs is not None else {}
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
