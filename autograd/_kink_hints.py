"""``kinks=`` registration hints: where an op is not differentiable, so the tests go there.

A hint is a function ``hint(op) -> strategy of (args, kwargs)``; the registry test
``tests/test_autograd/test_op_kinks.py`` draws from it and checks the gradient there (a
valid one-sided slope, and PyTorch's convention). These factories build the usual ones;
Hypothesis is imported only when a hint is used, so ops never need it.

    @primitive("relu", kinks=on(0.0))                 # elements exactly at 0
    @primitive("clamp", kwargs="clamp", kinks=on(lambda kw: (kw["min"], kw["max"])))
    @primitive("amax", kwargs="reduce", kinks=tied())  # repeated values: ties
"""

from __future__ import annotations

from typing import Any, Callable

Points = Callable[[dict], Any] | float


def on(*points: Points, inputs: tuple[int, ...] | None = None) -> Callable[[Any], Any]:
    """Inputs drawn as usual for the op, then elements placed exactly on ``points``.

    ``points`` are numbers, or functions of the drawn keyword options returning numbers or
    None (``lambda kw: (kw["min"], kw["max"])`` for clamp's bounds). ``inputs`` selects the
    tensor inputs placed on the points (default: all floating inputs).
    """

    def hint(op: Any) -> Any:
        from .testing import _on_kinks_inputs

        return _on_kinks_inputs(op, points, inputs)

    return hint


def tied(inputs: tuple[int, ...] | None = None) -> Callable[[Any], Any]:
    """Inputs drawn as usual for the op, then values repeated on purpose (ties), also across
    inputs (``maximum(x, y)`` with ``x == y`` in places)."""

    def hint(op: Any) -> Any:
        from .testing import _tied_inputs

        return _tied_inputs(op, inputs)

    return hint
