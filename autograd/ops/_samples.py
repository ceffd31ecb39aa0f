"""Strategy factories shared by op registrations (``shapes=``, ``kwargs=``, ``sample=`` hints).

Each factory imports Hypothesis only when the property tests call it, so the ops themselves
never need it. Op-specific samplers live next to their op; these are the common ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..domains import ANY, Domain


def _st() -> Any:
    from hypothesis import strategies

    return strategies


def tensor(draw: Any, shape: tuple, domain: Domain = ANY, requires_grad: bool = True) -> Any:
    """Draw a float64 Tensor of ``shape`` from ``domain``."""
    from ..tensor import Tensor
    from ..testing import arrays

    return Tensor._from_array(draw(arrays(tuple(shape), domain))).requires_grad_(requires_grad)


def integers(draw: Any, shape: tuple, high: int) -> np.ndarray:
    """Draw an int64 array of ``shape`` with values in ``[0, high)``."""
    size = int(np.prod(shape, dtype=np.int64))
    values = draw(_st().lists(_st().integers(0, high - 1), min_size=size, max_size=size))
    return np.asarray(values, dtype=np.int64).reshape(shape)


def dims(ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> Any:
    """A ``dim`` argument for a tensor with ``ndim`` dims: None, an int or a tuple of ints."""
    from ..testing import dims as dims_strategy

    return dims_strategy(ndim, allow_none=allow_none, allow_tuple=allow_tuple)


def reduce_options(*shapes: tuple) -> Any:
    """``dim`` (None, int or tuple) and ``keepdim`` for a reduction."""
    st = _st()
    return st.fixed_dictionaries({"dim": dims(len(shapes[0])), "keepdim": st.booleans()})


def reduce_required_options(*shapes: tuple) -> Any:
    """``dim`` (int or tuple, never None) and ``keepdim``."""
    st = _st()
    return st.fixed_dictionaries(
        {"dim": dims(len(shapes[0]), allow_none=False), "keepdim": st.booleans()}
    )


def one_dim_options(*shapes: tuple) -> Any:
    """``dim`` (None or one int) and ``keepdim``."""
    st = _st()
    return st.fixed_dictionaries(
        {"dim": dims(len(shapes[0]), allow_tuple=False), "keepdim": st.booleans()}
    )


def one_dim_required_options(*shapes: tuple) -> Any:
    """One int ``dim``."""
    st = _st()
    return st.fixed_dictionaries(
        {"dim": dims(len(shapes[0]), allow_none=False, allow_tuple=False)}
    )


def same_shapes(n: int) -> Any:
    """``n`` equal shapes (ops that don't broadcast)."""
    from ..testing import shapes

    return shapes().map(lambda shape: [shape] * n)


def matmul_shapes(kind: str = "matmul") -> Any:
    """Shape pairs for ``matmul`` (1-D, 2-D and broadcast batches), ``mm``, ``bmm``, ``dot``
    or ``mv``, as a ``shapes=`` hint (Hypothesis is imported only when the hint is used)."""
    return lambda n: _matmul_shapes(kind)


def _matmul_shapes(kind: str) -> Any:
    from ..testing import broadcastable_shapes

    st = _st()

    @st.composite
    def draw_shapes(draw: Any) -> list[tuple]:
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

    return draw_shapes()


def nonempty_shapes(n: int) -> Any:
    """Shapes with at least one dim (ops that need a dim to work on)."""
    from ..testing import shapes

    return shapes(min_dims=1).map(lambda shape: [shape] * n)


def on_kinks(name: str, *points: Any, inputs: tuple[int, ...] | None = None) -> Any:
    """A ``kinks=`` sampler: the op's usual inputs, with elements exactly on ``points``.

    ``points`` are numbers, or functions of the drawn options returning numbers or None
    (``lambda kw: (kw["min"], kw["max"])`` for clamp's bounds); ``inputs`` picks the tensor
    inputs to place (default: every floating input).
    """
    from ..registry import REGISTRY
    from ..testing import _on_kinks_inputs

    return _on_kinks_inputs(REGISTRY[name], points, inputs)


def on_ties(name: str, inputs: tuple[int, ...] | None = None) -> Any:
    """A ``kinks=`` sampler: the op's usual inputs with values repeated on purpose, within and
    across the chosen inputs (ties for max/min, pooling windows, ``maximum(x, y)``)."""
    from ..registry import REGISTRY
    from ..testing import _tied_inputs

    return _tied_inputs(REGISTRY[name], inputs)
