"""Finite-difference checks of analytic gradients (first and second order), in float64."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from .autograd_api import grad as autograd_grad
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor

EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-3


class GradcheckError(RuntimeError):
    """Raised when analytic and numerical gradients disagree."""


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Tensor]:
    out = fn(*inputs)
    items = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in items if isinstance(o, Tensor) and o.dtype.kind == "f"]


def numerical_jacobian(fn: Callable[..., Any], inputs: Sequence[Any], index: int, eps: float = EPS) -> list[np.ndarray]:
    """d(outputs)/d(inputs[index]) by central differences: one (out.size, in.size) matrix per output."""
    x = inputs[index]
    flat = x._data.reshape(-1)
    columns: list[list[np.ndarray]] = []
    with no_grad():
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            plus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            flat[k] = original - eps
            minus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            flat[k] = original
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    if not columns:
        return [np.zeros((o.numel(), 0)) for o in _outputs(fn, inputs)]
    return [np.stack([c[j] for c in columns], axis=1) for j in range(len(columns[0]))]


def analytic_jacobian(fn: Callable[..., Any], inputs: Sequence[Any], index: int) -> list[np.ndarray]:
    """d(outputs)/d(inputs[index]) by reverse mode, one backward per output element."""
    x = inputs[index]
    with enable_grad():
        outputs = _outputs(fn, inputs)
    result = []
    for out in outputs:
        rows = np.zeros((out.numel(), x.numel()))
        if out.requires_grad:
            for k in range(out.numel()):
                seed = np.zeros(out.numel(), dtype=out.dtype)
                seed[k] = 1
                (g,) = autograd_grad(out, x, Tensor._from_array(seed.reshape(out.shape)),
                                     retain_graph=True, allow_unused=True)  # fmt: skip
                if g is not None:
                    rows[k] = g._data.reshape(-1)
        result.append(rows)
    return result


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    raise_exception: bool = True,
) -> bool:
    """Compare analytic gradients of ``fn`` at ``inputs`` with central differences.

    Returns True, or raises (``raise_exception=True``) naming the input, the element,
    both values and the shapes for the worst mismatch. Use float64 inputs.

    Example:
        >>> import autograd as ag
        >>> x = ag.randn(3, dtype=ag.float64, requires_grad=True)
        >>> ag.gradcheck(lambda t: (t.sin() * t).sum(), (x,))
        True
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {i} has dtype {x.dtype}; finite differences need float64 "
                "and will likely fail otherwise",
                stacklevel=2,
            )
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        analytic = analytic_jacobian(fn, inputs, i)
        numeric = numerical_jacobian(fn, inputs, i, eps)
        for j, (a, n) in enumerate(zip(analytic, numeric)):
            bad = ~np.isclose(a, n, rtol=rtol, atol=atol, equal_nan=False)
            if bad.any():
                error = np.where(bad, np.abs(a - n), -1)
                row, col = np.unravel_index(np.argmax(error), error.shape)
                message = (
                    f"gradcheck: Jacobian mismatch for output {j} with respect to input {i} "
                    f"(input shape {tuple(x.shape)}): at output element {row}, input element "
                    f"{np.unravel_index(col, x.shape) if x.ndim else ()} analytic "
                    f"{a[row, col]:.8g} vs numerical {n[row, col]:.8g} "
                    f"({int(bad.sum())} of {bad.size} entries differ; atol={atol}, rtol={rtol})"
                )
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: gradcheck of ``x -> grad(fn(x), x, v, create_graph=True)``."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    with enable_grad():
        outputs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._from_array(rng.standard_normal(o.shape).astype(o.dtype)) for o in outputs]
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    differentiable = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivatives(*args: Any) -> tuple:
        with enable_grad():
            outs = _outputs(fn, args)
            pairs = [(o, g) for o, g in zip(outs, grad_outputs) if o.requires_grad]
            if not pairs:
                return ()
            grads = autograd_grad(
                [o for o, _ in pairs],
                [args[i] for i in differentiable],
                [g for _, g in pairs],
                create_graph=True,
                allow_unused=True,
            )
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs, eps, atol, rtol, raise_exception)
