"""Elementwise ops: arithmetic, unary math, activations, clamp, where, casts and rounding."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..domains import AWAY_FROM_KINKS, DISTINCT, POSITIVE, Domain
from ..dtypes import get_default_dtype
from ..registry import composite, primitive
from ..tensor import Tensor
from . import _kernels
from ._samples import on_kinks, on_ties, same_shapes, tensor
from ._shapes import check_broadcastable

__all__ = [
    "add", "clone", "sub", "mul", "div", "neg", "pow", "exp", "log", "log1p", "log2", "log10", "sqrt",
    "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "abs",
    "sign", "clamp", "clip", "maximum", "minimum", "where",
    "floor", "ceil", "round", "trunc", "lerp", "expm1", "atan", "asin", "acos", "sinh", "cosh",
    "divide", "multiply", "subtract", "negative",
]  # fmt: skip


def _float(x: np.ndarray) -> np.ndarray:
    """PyTorch promotes integer and bool inputs of float-valued ops to the default float dtype."""
    return x if x.dtype.kind == "f" else x.astype(get_default_dtype())


@primitive("add", explain=check_broadcastable)
def add(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.add(x, y)


@add.vjp
def _add_vjp(grad: Tensor) -> tuple[Tensor, Tensor]:
    return grad, grad


# The ufuncs themselves run the forwards of the two commonest ops: one Python call fewer each.
add.forward = np.add


def _check_sub(op: str, x: np.ndarray, y: np.ndarray) -> None:
    # As PyTorch: a bool operand (tensor or Python bool) is an error, not a silent integer.
    if x.dtype != np.bool_ and y.dtype != np.bool_:
        return
    if x.dtype == np.bool_ and y.dtype == np.bool_:
        raise RuntimeError(f"{op}: subtraction of two bool tensors is not supported; use "
                           "logical_xor (the ^ operator)")  # fmt: skip
    if x.dtype == np.bool_ or y.dtype == np.bool_:
        raise RuntimeError(f"{op}: subtraction with a bool tensor is not supported (dtypes "
                           f"{x.dtype} and {y.dtype}); to invert a mask use logical_not (the ~ "
                           "operator)")  # fmt: skip


def _explain_sub(op: str, x: np.ndarray, y: np.ndarray) -> None:
    _check_sub(op, x, y)  # NumPy refuses bool - bool: say what to use instead
    check_broadcastable(op, x, y)


# Two tensors of one dtype skip ``_check_sub``: NumPy itself refuses bool - bool.
@primitive("sub", validate=_check_sub, validate_same_dtype=False, explain=_explain_sub)
def sub(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.subtract(x, y)


@sub.vjp
def _sub_vjp(grad: Tensor, needs_input_grad: tuple) -> tuple[Tensor, Tensor | None]:
    return grad, -grad if needs_input_grad[1] else None


@primitive("mul", explain=check_broadcastable)
def mul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.multiply(x, y)


@mul.vjp
def _mul_vjp(grad: Tensor, x: Tensor, y: Tensor, needs_input_grad: tuple) -> tuple:
    return (grad * y if needs_input_grad[0] else None, grad * x if needs_input_grad[1] else None)


mul.forward = np.multiply


@primitive("div", explain=check_broadcastable, domain=(Domain(), Domain(0.5, 3.0)))
def div(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if x.dtype.kind != "f" and y.dtype.kind != "f":
        x, y = _float(x), _float(y)
    return np.true_divide(x, y)


@div.vjp
def _div_vjp(grad: Tensor, x: Tensor, y: Tensor, needs_input_grad: tuple) -> tuple:
    grad_x = grad / y if needs_input_grad[0] else None
    grad_y = -grad * x / (y * y) if needs_input_grad[1] else None
    return grad_x, grad_y


@primitive("neg")
def neg(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.bool_:
        raise RuntimeError("neg: negation of a bool tensor is not supported; use logical_not")
    return np.negative(x)


@neg.vjp
def _neg_vjp(grad: Tensor) -> Tensor:
    return -grad


@primitive("pow", explain=check_broadcastable, domain=(POSITIVE, Domain(-2.0, 2.0)))
def pow(x: np.ndarray, exponent: np.ndarray) -> np.ndarray:  # noqa: A001
    if x.dtype == np.bool_ and exponent.dtype == np.bool_:
        if exponent.ndim:
            raise NotImplementedError("pow: not implemented for two bool tensors ('Bool'), as "
                                      "in PyTorch; convert one to an integer or floating dtype")  # fmt: skip
        # bool ** True / False (a Python bool exponent) stays bool, as PyTorch: x or not e.
        return np.logical_or(x, np.logical_not(exponent))
    if x.dtype.kind in "iub" and exponent.dtype.kind in "iub" and (exponent < 0).any():
        raise RuntimeError("pow: integers to negative integer powers are not allowed")
    return np.power(x, exponent)


@pow.vjp
def _pow_vjp(grad: Any, x: Any, exponent: Any, needs_input_grad: tuple, xp: Any) -> tuple:
    grad_x = grad_exponent = None
    if needs_input_grad[0]:
        # x ** (e - 1) rather than out / x, so x = 0 gives the right (finite) slope; e = 0 gives
        # 0 even at x = 0 (not 0 * 0**-1 = nan), as PyTorch. Masking only x == 0 keeps the
        # second derivative with respect to e right at e = 0 elsewhere.
        # The masked branch sees x = 1, so its second derivative is not 0 * inf = nan.
        zero_power = (exponent == 0) & (x == 0)
        base = xp.where(zero_power, 1.0, x)
        grad_x = xp.where(zero_power, 0.0, grad * exponent * base ** (exponent - 1))
    if needs_input_grad[1]:
        # d/de x**e = x**e log x: 0 where x == 0 and e >= 0, nan for a negative base, as
        # PyTorch. x**e is recomputed, not saved, so that an in-place change of the result
        # (y = x.pow_(2); y.add_(1)) doesn't invalidate the graph.
        zero_base = (x == 0) & (exponent >= 0)
        base = xp.where(zero_base, 1.0, x)
        grad_exponent = xp.where(zero_base, 0.0, grad * base**exponent * xp.log(base))
    return grad_x, grad_exponent


@primitive("clone", exact=True)
def clone(x: np.ndarray) -> np.ndarray:
    return np.array(x, copy=True)


@clone.vjp
def _clone_vjp(grad: Tensor) -> Tensor:
    return grad


@primitive("exp")
def exp(x: np.ndarray) -> np.ndarray:
    return np.exp(_float(x))


@exp.vjp
def _exp_vjp(grad: Tensor, out: Tensor) -> Tensor:
    return grad * out


@primitive("expm1")
def expm1(x: np.ndarray) -> np.ndarray:
    return np.expm1(_float(x))


@expm1.vjp
def _expm1_vjp(grad: Tensor, out: Tensor) -> Tensor:
    return grad * (out + 1)


@primitive("log", domain=POSITIVE)
def log(x: np.ndarray) -> np.ndarray:
    return np.log(_float(x))


@log.vjp
def _log_vjp(grad: Tensor, x: Tensor) -> Tensor:
    return grad / x


@composite("log2", domain=POSITIVE)
def log2(x: Tensor) -> Tensor:
    """Base-2 logarithm."""
    return log(x) * (1.0 / np.log(2.0))


@composite("log10", domain=POSITIVE)
def log10(x: Tensor) -> Tensor:
    """Base-10 logarithm."""
    return log(x) * (1.0 / np.log(10.0))


@primitive("log1p", domain=Domain(-0.9, 3.0))
def log1p(x: np.ndarray) -> np.ndarray:
    return np.log1p(_float(x))


@log1p.vjp
def _log1p_vjp(grad: Tensor, x: Tensor) -> Tensor:
    return grad / (x + 1)


@primitive("sqrt", domain=POSITIVE)
def sqrt(x: np.ndarray) -> np.ndarray:
    return np.sqrt(_float(x))


@sqrt.vjp
def _sqrt_vjp(grad: Tensor, out: Tensor) -> Tensor:
    return grad / (2 * out)


@primitive("rsqrt", domain=POSITIVE)
def rsqrt(x: np.ndarray) -> np.ndarray:
    return 1.0 / np.sqrt(_float(x))


@rsqrt.vjp
def _rsqrt_vjp(grad: Tensor, out: Tensor) -> Tensor:
    return grad * -0.5 * out * out * out


@composite("square")
def square(x: Tensor) -> Tensor:
    """``x * x``."""
    return mul(x, x)


@composite("reciprocal", domain=Domain(0.5, 3.0))
def reciprocal(x: Tensor) -> Tensor:
    """``1 / x``."""
    return div(1.0, x)


@primitive("sin")
def sin(x: np.ndarray) -> np.ndarray:
    return np.sin(_float(x))


@sin.vjp
def _sin_vjp(grad: Any, x: Any, xp: Any) -> Any:
    return grad * xp.cos(x)


@primitive("cos")
def cos(x: np.ndarray) -> np.ndarray:
    return np.cos(_float(x))


@cos.vjp
def _cos_vjp(grad: Any, x: Any, xp: Any) -> Any:
    return -grad * xp.sin(x)


@primitive("tan", domain=Domain(-1.2, 1.2))
def tan(x: np.ndarray) -> np.ndarray:
    return np.tan(_float(x))


@tan.vjp
def _tan_vjp(grad: Tensor, out: Tensor) -> Tensor:
    return grad * (1 + out * out)


@primitive("atan")
def atan(x: np.ndarray) -> np.ndarray:
    return np.arctan(_float(x))


@atan.vjp
def _atan_vjp(grad: Tensor, x: Tensor) -> Tensor:
    return grad / (1 + x * x)


@primitive("asin", domain=Domain(-0.9, 0.9))
def asin(x: np.ndarray) -> np.ndarray:
    return np.arcsin(_float(x))


@asin.vjp
def _asin_vjp(grad: Any, x: Any, xp: Any) -> Any:
    return grad * xp.rsqrt(1 - x * x)


@primitive("acos", domain=Domain(-0.9, 0.9))
def acos(x: np.ndarray) -> np.ndarray:
    return np.arccos(_float(x))


@acos.vjp
def _acos_vjp(grad: Any, x: Any, xp: Any) -> Any:
    return -grad * xp.rsqrt(1 - x * x)


@primitive("sinh")
def sinh(x: np.ndarray) -> np.ndarray:
    return np.sinh(_float(x))


@sinh.vjp
def _sinh_vjp(grad: Any, x: Any, xp: Any) -> Any:
    return grad * xp.cosh(x)


@primitive("cosh")
def cosh(x: np.ndarray) -> np.ndarray:
    return np.cosh(_float(x))


@cosh.vjp
def _cosh_vjp(grad: Any, x: Any, xp: Any) -> Any:
    return grad * xp.sinh(x)


@primitive("tanh")
def tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(_float(x))


@tanh.vjp
def _tanh_vjp(grad: Tensor, out: Tensor) -> Tensor:
    return grad * (1 - out * out)


@primitive("sigmoid")
def sigmoid(x: np.ndarray) -> np.ndarray:
    x = _float(x)
    # Written via tanh: exact for large |x| without overflow warnings from exp(-x).
    return 0.5 * (np.tanh(0.5 * x) + 1).astype(x.dtype, copy=False)


@sigmoid.vjp
def _sigmoid_vjp(grad: Tensor, out: Tensor) -> Tensor:
    return grad * out * (1 - out)


@primitive("relu", domain=AWAY_FROM_KINKS, kinks=lambda: on_kinks("relu", 0.0))
def relu(x: np.ndarray) -> np.ndarray:
    if _kernels.usable(x):
        return _kernels.relu(x)
    # From 65536 elements: below, the extra calls' cold code in a training step (cachegrind:
    # 500 more instruction-cache misses per MLP step at 32x256) outweighs the quicker loop.
    if type(x) is np.ndarray and x.size >= 65536 and x.flags.c_contiguous:
        # NumPy's maximum against a scalar 0 takes a slow loop (about 3x the two-array one in
        # NumPy 2.x); against a broadcast row of zeros it runs the fast one, faster the longer
        # the rows (fewer inner loops): aim for 8192+ elements (the CNN's 64x16x28x28: rows of
        # 12544 instead of 784, 113 -> 76 us), unless that row is huge and the one before is
        # a few hundred wide (zeros of the whole array would cost a pass of their own).
        width = previous = 1
        for n in reversed(x.shape):
            previous, width = width, width * n
            if width >= 8192:
                if width > 65536 and previous >= 256:
                    width = previous
                break
        zeros = np.zeros(width, dtype=x.dtype)
        return np.maximum(x.reshape(-1, width), zeros).reshape(x.shape)
    out = np.maximum(x, 0)
    return out if out.dtype is x.dtype else out.astype(x.dtype)


@relu.vjp
def _relu_vjp(grad: Any, out: Any, xp: Any) -> Any:
    return xp.threshold_backward(grad, out)


@primitive("threshold_backward", method=False, domain=AWAY_FROM_KINKS, exact=True)
def _threshold_backward(upstream: np.ndarray, relu_out: np.ndarray) -> np.ndarray:
    # relu'(0) = 0, as in PyTorch; the compiled kernel is one pass, NumPy compare + cast + multiply.
    if _kernels.usable(upstream, relu_out):
        return _kernels.threshold_backward(upstream, relu_out)
    if type(upstream) is np.ndarray and upstream.size >= 65536 and \
            np.shape(relu_out) == upstream.shape:  # fmt: skip
        # The mask cast to the upstream's dtype first, then a plain multiply: faster than
        # casting the booleans inside the multiply's loop.
        mask = (relu_out > 0).astype(upstream.dtype)
        return np.multiply(upstream, mask, out=mask)
    if upstream.dtype.kind == "f":  # a float times a bool mask keeps the float's dtype
        return np.multiply(upstream, relu_out > 0)
    return np.multiply(upstream, relu_out > 0, dtype=upstream.dtype)


@_threshold_backward.vjp
def _threshold_backward_vjp(grad: Any, relu_out: Any, needs_input_grad: tuple, xp: Any) -> tuple:
    # Linear in the upstream gradient, piecewise constant in relu_out (zero derivative).
    return xp.threshold_backward(grad, relu_out) if needs_input_grad[0] else None, None


@primitive("abs", domain=AWAY_FROM_KINKS, kinks=lambda: on_kinks("abs", 0.0))
def abs(x: np.ndarray) -> np.ndarray:  # noqa: A001
    return np.abs(x)


@abs.vjp
def _abs_vjp(grad: Any, x: Any, xp: Any) -> Any:
    # abs'(0) = 0, as in PyTorch (sign(0) = 0).
    return grad * xp.sign(x)


@primitive("sign", domain=AWAY_FROM_KINKS, twice=False, kinks=lambda: on_kinks("sign", 0.0))
def sign(x: np.ndarray) -> np.ndarray:
    return x.copy() if x.dtype == np.bool_ else np.sign(x)  # NumPy has no bool sign


@sign.vjp
def _sign_vjp(grad: Tensor) -> Tensor:
    # Piecewise constant: a zero gradient, as in PyTorch.
    return grad * 0


def _clamp_options(*shapes: tuple) -> Any:
    from hypothesis import strategies as st

    bounds = st.sampled_from([(-0.5, 0.5), (-0.5, None), (None, 0.5)])
    return bounds.map(lambda pair: {"min": pair[0], "max": pair[1]})


@primitive("clamp", domain=Domain(away_from=(-0.5, 0.5)), kwargs=_clamp_options, method=False,
           kinks=lambda: on_kinks("clamp", lambda kw: (kw["min"], kw["max"])))  # fmt: skip
def _clamp(x: np.ndarray, *, min: Any = None, max: Any = None) -> np.ndarray:  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if x.dtype.kind != "f" and any(isinstance(b, (float, np.floating)) for b in (min, max)):
        x = x.astype(get_default_dtype())  # PyTorch: int tensor clamped to a float bound is float
    out = x
    if min is not None:
        out = np.maximum(out, min)
    if max is not None:
        out = np.minimum(out, max)
    return out.astype(x.dtype, copy=False)


@_clamp.vjp
def _clamp_vjp(grad: Any, x: Any, min: Any, max: Any, xp: Any) -> Any:  # noqa: A002
    # The gradient passes at the boundary itself (x == min or x == max), as in PyTorch.
    if min is not None and max is not None:
        inside = (x >= min) & (x <= max)
    else:
        inside = x >= min if min is not None else x <= max
    return xp.where(inside, grad, 0.0)


# Bounds drawn near -1 and 1, inputs kept 0.05 away from both: no ties within a finite difference.
_CLAMP_TENSOR_DOMAINS = (Domain(away_from=(-1.0, 1.0)), Domain(-1.02, -0.98), Domain(0.98, 1.02))


def _clamp_tensor_kinks() -> Any:
    # x exactly on its bounds (min = -1 < max = 1, the shape of x); x == min == max would be a
    # kink along the diagonal only, which per-input one-sided differences cannot see.
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        (x, _, _), _ = draw(on_kinks("clamp_tensor", -1.0, 1.0, inputs=(0,)))
        low = Tensor._from_array(np.full(x.shape, -1.0)).requires_grad_(True)
        high = Tensor._from_array(np.full(x.shape, 1.0)).requires_grad_(True)
        return [x, low, high], {}

    return draw_inputs()


@primitive("clamp_tensor", method=False, explain=check_broadcastable, domain=_CLAMP_TENSOR_DOMAINS,
           kinks=_clamp_tensor_kinks)  # fmt: skip
def _clamp_tensor(x: np.ndarray, min: np.ndarray, max: np.ndarray) -> np.ndarray:  # noqa: A002
    return np.minimum(np.maximum(x, min), max)


@_clamp_tensor.vjp
def _clamp_tensor_vjp(
    grad: Any, x: Any, min: Any, max: Any, needs_input_grad: tuple, xp: Any  # noqa: A002
) -> tuple:
    # PyTorch's rule: x gets the gradient inside [min, max] (boundary included); min where
    # x < min; max where x > max, or everywhere when max < min (the result is max there).
    grad_x = xp.where((x >= min) & (x <= max), grad, 0.0) if needs_input_grad[0] else None
    grad_min = xp.where((x < min) & (min < max), grad, 0.0) if needs_input_grad[1] else None
    grad_max = xp.where((x > max) | (max < min), grad, 0.0) if needs_input_grad[2] else None
    return grad_x, grad_min, grad_max


def clamp(x: Any, min: Any = None, max: Any = None, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Limit values to ``[min, max]``; tensor bounds broadcast and get gradients too.

    Example:
        >>> import autograd as ag
        >>> ag.tensor([-2.0, 0.5, 3.0]).clamp(-1, 1)
        tensor([-1.0000,  0.5000,  1.0000])
    """
    if out is not None:
        from .._keywords import write_out

        return write_out("clamp", clamp(x, min, max), out)
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        return _clamp(x, min=min, max=max)
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    x = x if isinstance(x, Tensor) else Tensor(x)
    dtype = x.dtype if x.dtype.kind == "f" else get_default_dtype()
    low = min if min is not None else Tensor._from_array(np.asarray(-np.inf, dtype))
    high = max if max is not None else Tensor._from_array(np.asarray(np.inf, dtype))
    return _clamp_tensor(x, low, high)


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Alias of ``clamp``."""
    return clamp(x, min, max)


Tensor.clamp = clamp  # type: ignore[attr-defined]
Tensor.clip = clip  # type: ignore[attr-defined]


@primitive("maximum", explain=check_broadcastable, domain=DISTINCT, kinks=lambda: on_ties("maximum"))
def maximum(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.maximum(x, y)


@maximum.vjp
def _maximum_vjp(grad: Any, x: Any, y: Any, xp: Any) -> tuple:
    # Ties split the gradient evenly, as PyTorch does.
    grad_x = xp.where(x > y, grad, xp.where(x == y, grad * 0.5, 0.0))
    return grad_x, grad - grad_x


@primitive("minimum", explain=check_broadcastable, domain=DISTINCT, kinks=lambda: on_ties("minimum"))
def minimum(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.minimum(x, y)


@minimum.vjp
def _minimum_vjp(grad: Any, x: Any, y: Any, xp: Any) -> tuple:
    grad_x = xp.where(x < y, grad, xp.where(x == y, grad * 0.5, 0.0))
    return grad_x, grad - grad_x


def _check_where(op: str, condition: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    if condition.dtype != np.bool_:
        raise RuntimeError(f"{op}: condition must be a bool tensor, got dtype {condition.dtype}")


def _where_sample() -> Any:
    from hypothesis import strategies as st

    from ..testing import arrays, broadcastable_shapes

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        a, b, c = draw(broadcastable_shapes(3))
        condition = Tensor._from_array(np.asarray(draw(arrays(a))) > 0)
        return [condition, tensor(draw, b), tensor(draw, c)], {}

    return draw_inputs()


@primitive("where", validate=_check_where, explain=check_broadcastable, promote=("x", "y"),
           method=False, sample=_where_sample)  # fmt: skip
def _where(condition: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(condition, x, y)


@_where.vjp
def _where_vjp(grad: Any, condition: Any, needs_input_grad: tuple, xp: Any) -> tuple:
    return (
        None,
        xp.where(condition, grad, 0.0) if needs_input_grad[1] else None,
        xp.where(condition, 0.0, grad) if needs_input_grad[2] else None,
    )


def where(condition: Any, x: Any = None, y: Any = None, *, out: Tensor | None = None) -> Any:
    """Choose ``x`` where ``condition`` holds, else ``y`` (broadcasting all three).

    ``where(condition)`` alone returns the indices of the True elements, one int64 tensor per
    dim, as ``torch.where`` does.

    Example:
        >>> import autograd as ag
        >>> ag.where(ag.tensor([True, False]), ag.tensor([1.0, 2.0]), 0.0)
        tensor([1., 0.])
    """
    if x is None and y is None:
        array = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
        return tuple(Tensor._from_array(i.astype(np.int64)) for i in np.nonzero(array))
    if out is not None:
        from .._keywords import write_out

        return write_out("where", _where(condition, x, y), out)
    return _where(condition, x, y)


def _where_method(self: Tensor, condition: Any, other: Any) -> Tensor:
    """``ag.where(condition, self, other)``."""
    return _where(condition, self, other)


Tensor.where = _where_method  # type: ignore[attr-defined]


@primitive("to_dtype", method=False, exact=True, label="to",
           untested="a cast: float64 finite differences can't see it; test_dtypes covers it")
def to_dtype(x: np.ndarray, *, dtype: Any) -> np.ndarray:
    return x.astype(dtype)


@to_dtype.vjp
def _to_dtype_vjp(grad: Any) -> Any:
    return grad  # the engine casts the gradient back to the input's dtype


@composite("lerp", shapes=same_shapes)
def lerp(x: Tensor, end: Any, weight: Any) -> Tensor:
    """``x + weight * (end - x)``, computed from the nearer end as PyTorch does."""
    if not isinstance(weight, Tensor):
        # In x's dtype: the engine would round a Python float weight to float32 first.
        weight = Tensor._from_array(np.asarray(weight, dtype=x.dtype))
    diff = end - x
    return _where(weight < 0.5, x + weight * diff, end - diff * (1 - weight))


def _piecewise_constant(name: str, function: Any) -> Any:
    # Jumps at every integer (floor, ceil, trunc) or half-integer (round): the ordinary test
    # stays away from both, the kink test goes there.
    steps = tuple(np.arange(-3.0, 3.5, 0.5))

    @primitive(name, domain=Domain(away_from=steps), twice=False,
               kinks=lambda: on_kinks(name, *steps))  # fmt: skip
    def rounding(x: np.ndarray) -> np.ndarray:
        return function(x)

    @rounding.vjp
    def _rounding_vjp(grad: Any) -> Any:
        # Piecewise constant: zero gradient, as in PyTorch.
        return grad * 0

    return rounding


floor = _piecewise_constant("floor", np.floor)
ceil = _piecewise_constant("ceil", np.ceil)
round = _piecewise_constant("round", np.round)  # noqa: A001
trunc = _piecewise_constant("trunc", np.trunc)


divide, multiply, subtract, negative = div, mul, sub, neg
