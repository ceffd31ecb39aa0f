"""Activations: the ``F.`` functions and their modules (ReLU, GELU, SiLU, ELU, Softmax, ...).

``relu``, ``tanh``, ``sigmoid``, ``softmax`` and ``log_softmax`` are engine ops; the others
are registered here (leaky_relu as a primitive for its exact subgradient, the rest as stable
composites). The piecewise-linear ones (hardtanh, relu6, prelu, ...) are in
``activation_piecewise.py``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

import autograd as ag
from autograd._typing import Operand
from autograd.domains import AWAY_FROM_KINKS
from autograd.ops._samples import on_kinks
from autograd.ops.elementwise import relu as _RELU
from autograd.random import default_generator
from autograd.registry import composite, primitive
from autograd.tensor import Tensor

from .module import Module

__all__ = [
    "relu", "leaky_relu", "gelu", "silu", "elu", "tanh", "sigmoid", "softplus", "softmax",
    "log_softmax", "mish", "selu", "celu", "logsigmoid", "softsign", "tanhshrink",
    "gumbel_softmax", "ReLU",
    "LeakyReLU", "GELU", "SiLU", "ELU", "Tanh", "Sigmoid", "Softplus", "Softmax", "LogSoftmax",
    "Mish", "SELU", "CELU", "LogSigmoid", "Softsign", "Tanhshrink",
]  # fmt: skip


def _inplace(input: Tensor, op: str, fn: Any) -> Tensor:  # noqa: A002
    """Run ``fn`` as an in-place update of ``input`` (PyTorch's ``inplace=True``)."""
    return input._inplace(op, fn)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Apply ``max(x, 0)`` elementwise (gradient 0 at 0, as PyTorch).

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.relu(ag.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    if inplace:
        return _inplace(input, "relu_", lambda s: s.relu())
    return _RELU.call(_RELU, (input,), {})  # input.relu(), one call less


def _slope_kwargs(*shapes: Any) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"negative_slope": st.sampled_from([0.01, 0.2, -0.5, 2.0])})


@primitive("leaky_relu", method=False, domain=AWAY_FROM_KINKS, kwargs=_slope_kwargs,
           kinks=lambda: on_kinks("leaky_relu", 0.0))  # fmt: skip
def _leaky_relu(x: np.ndarray, *, negative_slope: float = 0.01) -> np.ndarray:
    return np.where(x > 0, x, x * np.asarray(negative_slope, dtype=x.dtype))


@_leaky_relu.vjp
def _leaky_relu_vjp(grad: Operand, x: Operand, negative_slope: float, xp: Any) -> Operand:
    # The slope for x <= 0, as PyTorch (the derivative at 0 is negative_slope).
    return xp.where(x > 0, grad, grad * negative_slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """Apply ``x if x > 0 else negative_slope * x`` elementwise."""
    if inplace:
        return _inplace(input, "leaky_relu_", lambda s: _leaky_relu(s, negative_slope=negative_slope))
    return _leaky_relu(input, negative_slope=negative_slope)


def _approximate_kwargs(*shapes: Any) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"])})


_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@composite("gelu", method=False, kwargs=_approximate_kwargs)
def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """Apply ``x * Phi(x)`` (``approximate='tanh'``: PyTorch's tanh approximation).

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.gelu(ag.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8413])
    """
    if approximate == "none":
        return 0.5 * input * (1.0 + ag.erf(input * _SQRT_HALF))
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1.0 + inner.tanh())
    raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


@composite("silu", method=False)
def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Apply ``x * sigmoid(x)`` (swish)."""
    if inplace:
        return _inplace(input, "silu_", lambda s: s * s.sigmoid())
    return input * input.sigmoid()


def _alpha_kwargs(*shapes: Any) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"alpha": st.sampled_from([1.0, 0.5, 2.0])})


def _elu(x: Tensor, alpha: float) -> Tensor:
    # expm1 of min(x, 0): no overflow in the branch that where() discards.
    return ag.where(x > 0, x, alpha * x.clamp(max=0.0).expm1())


@composite("elu", method=False, domain=AWAY_FROM_KINKS, kwargs=_alpha_kwargs,
           kinks=lambda: on_kinks("elu", 0.0))  # fmt: skip
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """Apply ``x if x > 0 else alpha * (exp(x) - 1)`` elementwise."""
    if inplace:
        return _inplace(input, "elu_", lambda s: _elu(s, alpha))
    return _elu(input, alpha)


def _softplus_kwargs(*shapes: Any) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries(
        {"beta": st.sampled_from([1.0, 0.5, 2.0]), "threshold": st.sampled_from([20.0, 10.0])}
    )


@composite("softplus", method=False, kwargs=_softplus_kwargs)
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """Apply ``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.softplus(ag.tensor([0.0, 1e4]))
        tensor([6.9315e-01, 1.0000e+04])
    """
    scaled = input * beta
    # Clamp inside the discarded branch so exp never overflows there.
    soft = scaled.clamp(max=threshold).exp().log1p() / beta
    return ag.where(scaled > threshold, input, soft)


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """Apply the hyperbolic tangent elementwise."""
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """Apply ``1 / (1 + exp(-x))`` elementwise (stable for large |x|)."""
    return input.sigmoid()


def _implicit_dim(op: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's legacy choice when ``dim`` is None, with PyTorch's deprecation warning."""
    dim = 0 if ndim in (0, 1, 3) else 1
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to include "
        f"dim=X as an argument (here dim={dim} was used).",
        UserWarning,
        stacklevel=stacklevel,
    )
    return dim


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """Apply softmax along ``dim`` (shifted by the max: stable for logits of any size)."""
    if dim is None:
        dim = _implicit_dim("softmax", input.ndim, _stacklevel)
    return ag.softmax(input, dim=dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """Apply ``log(softmax(x))`` along ``dim``, computed as ``x - logsumexp(x)``."""
    if dim is None:
        dim = _implicit_dim("log_softmax", input.ndim, _stacklevel)
    return ag.log_softmax(input, dim=dim, dtype=dtype)


def _require_float(op: str, input: Tensor) -> None:  # noqa: A002
    """PyTorch has no integer kernel for the exponential activations: raise as it does."""
    if input.dtype.kind != "f":
        raise NotImplementedError(
            f"{op}: not implemented for {input.dtype} input (\"{op}_cpu\" not implemented for "
            f"'{_type_name(input.dtype)}'); convert it with .float()"
        )


def _selu(x: Tensor) -> Tensor:
    return _SELU_SCALE * _elu(x, _SELU_ALPHA)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Apply ``scale * elu(x, alpha)`` with PyTorch's self-normalising constants.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.selu(ag.tensor([0.0, 1.0]))
        tensor([0.0000, 1.0507])
    """
    _require_float("selu", input)
    if inplace:
        return _inplace(input, "selu_", _selu)
    return _selu(input)


def _celu(x: Tensor, alpha: float) -> Tensor:
    return ag.where(x > 0, x, alpha * (x.clamp(max=0.0) / alpha).expm1())


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """Apply ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` elementwise.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.celu(ag.tensor([-1.0, 2.0]), alpha=2.0)
        tensor([-0.7869,  2.0000])
    """
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 for CELU")
    _require_float("celu", input)
    if inplace:
        return _inplace(input, "celu_", lambda s: _celu(s, alpha))
    return _celu(input, alpha)


def _mish(x: Tensor) -> Tensor:
    return x * softplus(x).tanh()


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Apply ``x * tanh(softplus(x))`` elementwise.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.mish(ag.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8651])
    """
    _require_float("mish", input)
    if inplace:
        return _inplace(input, "mish_", _mish)
    return _mish(input)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """Apply ``log(sigmoid(x)) = -softplus(-x)`` elementwise (stable for any ``x``).

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.logsigmoid(ag.tensor([0.0, -1000.0]))
        tensor([-6.9315e-01, -1.0000e+03])
    """
    _require_float("log_sigmoid", input)
    return -softplus(-input)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """Apply ``x / (1 + |x|)`` elementwise.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.softsign(ag.tensor([-3.0, 1.0]))
        tensor([-0.7500,  0.5000])
    """
    return input / (1 + input.abs())


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """Apply ``x - tanh(x)`` elementwise.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.tanhshrink(ag.tensor([0.0, 1.0]))
        tensor([0.0000, 0.2384])
    """
    return input - input.tanh()


def _type_name(dtype: Any) -> str:
    from autograd.dtypes import torch_name

    return torch_name(dtype)


composite("selu", method=False, domain=AWAY_FROM_KINKS, kinks=lambda: on_kinks("selu", 0.0))(selu)
composite("celu", method=False, domain=AWAY_FROM_KINKS, kwargs=_alpha_kwargs,
          kinks=lambda: on_kinks("celu", 0.0))(celu)  # fmt: skip
composite("mish", method=False)(mish)
composite("logsigmoid", method=False)(logsigmoid)
composite("softsign", method=False, domain=AWAY_FROM_KINKS)(softsign)
composite("tanhshrink", method=False)(tanhshrink)
def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:  # fmt: skip
    """Sample from the Gumbel-softmax distribution: ``softmax((logits + g) / tau)``.

    ``g`` is Gumbel(0, 1) noise from the generator ``ag.manual_seed`` seeds. With ``hard=True``
    the result is the one-hot of its argmax, differentiated as the soft sample
    (straight-through: ``y_hard - y_soft.detach() + y_soft``), as PyTorch.

    Shape: ``(*, num_features) -> same``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> y = F.gumbel_softmax(ag.randn(2, 5), tau=0.5, hard=True)
        >>> y.sum(dim=-1).tolist()
        [1.0, 1.0]
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    if logits.dtype.kind != "f":
        raise RuntimeError(
            f"gumbel_softmax: expected floating-point logits, got dtype {logits.dtype}"
        )
    # -log(Exponential(1)) is Gumbel(0, 1), as PyTorch draws it.
    noise = -np.log(default_generator().exponential(size=tuple(logits.shape)))
    gumbels = (logits + Tensor._from_array(noise.astype(logits.dtype))) / tau
    y_soft = gumbels.softmax(dim)
    if not hard:
        return y_soft
    index = np.expand_dims(np.argmax(y_soft._data, axis=dim), dim)
    y_hard = np.zeros(y_soft.shape, dtype=y_soft.dtype)
    np.put_along_axis(y_hard, index, 1.0, axis=dim)
    return Tensor._from_array(y_hard) - y_soft.detach() + y_soft


class ReLU(Module):
    """Apply ``max(x, 0)`` elementwise.  Shape: ``(*) -> (*)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return relu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """Apply ``x if x > 0 else negative_slope * x``.  Shape: ``(*) -> (*)``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """Apply ``x * Phi(x)``, exactly or with the tanh approximation.  Shape: ``(*) -> (*)``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """Apply ``x * sigmoid(x)``.  Shape: ``(*) -> (*)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return silu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """Apply ``x if x > 0 else alpha * (exp(x) - 1)``.  Shape: ``(*) -> (*)``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Tanh(Module):
    """Apply tanh elementwise.  Shape: ``(*) -> (*)``."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.tanh()


class Sigmoid(Module):
    """Apply the logistic sigmoid elementwise.  Shape: ``(*) -> (*)``."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.sigmoid()


class Softplus(Module):
    """Apply ``log(1 + exp(beta * x)) / beta``.  Shape: ``(*) -> (*)``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Apply softmax along ``dim``.  Shape: ``(*) -> (*)``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Apply log-softmax along ``dim``.  Shape: ``(*) -> (*)``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def _inplace_repr(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class _InplaceActivation(Module):
    """An activation whose only option is ``inplace`` (SELU, Mish, Hardsigmoid, Hardswish)."""

    _function: Any = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return type(self)._function(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class SELU(_InplaceActivation):
    """Apply ``scale * elu(x, alpha)`` (self-normalising).  Shape: ``(*) -> (*)``."""

    _function = staticmethod(selu)


class Mish(_InplaceActivation):
    """Apply ``x * tanh(softplus(x))``.  Shape: ``(*) -> (*)``."""

    _function = staticmethod(mish)


class CELU(Module):
    """Apply ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.  Shape: ``(*) -> (*)``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class LogSigmoid(Module):
    """Apply ``log(sigmoid(x))``.  Shape: ``(*) -> (*)``."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return logsigmoid(input)


class Softsign(Module):
    """Apply ``x / (1 + |x|)``.  Shape: ``(*) -> (*)``."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return softsign(input)


class Tanhshrink(Module):
    """Apply ``x - tanh(x)``.  Shape: ``(*) -> (*)``."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return tanhshrink(input)

