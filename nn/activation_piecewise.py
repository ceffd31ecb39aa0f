"""Piecewise-linear activations: ``hardtanh``, ``relu6``, ``prelu``, ``hardsigmoid``,
``hardswish``, ``threshold`` (the ``F.`` functions) and their modules.

Each is a composite that chooses with ``where``, so that the gradient at every kink is the one
PyTorch's kernels give (strictly inside the linear piece, never at its ends).
"""

from __future__ import annotations

from typing import Any

import autograd as ag
from autograd.domains import AWAY_FROM_KINKS, Domain
from autograd.ops._samples import on_kinks
from autograd.registry import composite
from autograd.tensor import Tensor

from . import init
from .activation import _inplace, _inplace_repr, _InplaceActivation, _require_float, _type_name
from .module import Module, Parameter

__all__ = [
    "hardtanh", "relu6", "prelu", "hardsigmoid", "hardswish", "threshold", "Hardtanh", "ReLU6",
    "PReLU", "Hardsigmoid", "Hardswish", "Threshold",
]  # fmt: skip

def _hardtanh(x: Tensor, min_val: float, max_val: float) -> Tensor:
    # The gradient is 1 strictly inside (min_val, max_val) and 0 at and beyond the bounds,
    # as PyTorch's hardtanh_backward (clamp's gradient would be 1 at the bounds).
    inside = (x > min_val) & (x < max_val)
    return ag.where(inside, x, x.detach().clamp(min_val, max_val).to(x.dtype))


def _bounds_kwargs(*shapes: Any) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"min_val": st.just(-1.0), "max_val": st.just(1.0)})


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """Clamp to ``[min_val, max_val]`` (gradient 1 strictly inside, 0 at the bounds).

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.hardtanh(ag.tensor([-2.0, 0.5, 3.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(input, "hardtanh_", lambda s: _hardtanh(s, min_val, max_val))
    return _hardtanh(input, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Apply ``min(max(x, 0), 6)`` elementwise (``hardtanh(x, 0, 6)``, as PyTorch).

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.relu6(ag.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def _check_prelu(input: Tensor, weight: Tensor) -> int:  # noqa: A002
    if weight.ndim > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}"
        )
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"prelu: Type promoting not supported. Got {_type_name(input.dtype)} and "
            f"{_type_name(weight.dtype)} (input {tuple(input.shape)}, weight {tuple(weight.shape)})"
        )
    count = weight.numel()
    if count == 1:
        return 1
    if input.ndim == 0:
        raise RuntimeError("prelu: Not allow zero-dim input tensor.")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if count != channels:
        raise RuntimeError(
            "prelu: Mismatch of parameter numbers and input channel size. Found parameter "
            f"numbers = {count} and channel size = {channels} (input {tuple(input.shape)})."
        )
    return count


def _prelu_sample() -> Any:
    from hypothesis import strategies as st

    from ._samples import side, tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        lead = (side(draw), side(draw))
        shape = lead + tuple(side(draw) for _ in range(draw(st.integers(0, 2))))
        x = tensor(draw, shape, AWAY_FROM_KINKS)
        weight = tensor(draw, (draw(st.sampled_from([1, lead[1]])),))
        return [x, weight], {}

    return draw_inputs()


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """Apply ``x if x > 0 else weight * x`` with a learned slope per channel (dim 1).

    Shape: input ``(N, C, *)`` (or any shape if ``weight`` has one element), weight ``(C,)``
    or ``(1,)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.prelu(ag.tensor([[-2.0, 3.0]]), ag.tensor([0.25]))
        tensor([[-0.5000,  3.0000]])
    """
    count = _check_prelu(input, weight)
    if count == 1:
        slope = weight.reshape(())
    else:
        slope = weight.reshape((count,) + (1,) * (input.ndim - 2))
    return ag.where(input > 0, input, slope * input)


def _hardsigmoid(x: Tensor) -> Tensor:
    # 0 for x <= -3, 1 for x >= 3; the gradient 1/6 only strictly inside, as PyTorch.
    inside = (x > -3.0) & (x < 3.0)
    return ag.where(inside, x / 6.0 + 0.5, (x.detach() >= 3.0).to(x.dtype))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Apply the piecewise-linear sigmoid ``relu6(x + 3) / 6`` elementwise.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.hardsigmoid(ag.tensor([-4.0, 0.0, 1.5, 4.0]))
        tensor([0.0000, 0.5000, 0.7500, 1.0000])
    """
    _require_float("hardsigmoid", input)
    if inplace:
        return _inplace(input, "hardsigmoid_", _hardsigmoid)
    return _hardsigmoid(input)


def _hardswish(x: Tensor) -> Tensor:
    return x * _hardtanh(x + 3.0, 0.0, 6.0) / 6.0


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Apply ``x * relu6(x + 3) / 6`` elementwise (MobileNetV3's activation).

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.hardswish(ag.tensor([-4.0, 1.5, 4.0]))
        tensor([-0.0000, 1.1250, 4.0000])
    """
    _require_float("hardswish", input)
    if inplace:
        return _inplace(input, "hardswish_", _hardswish)
    return _hardswish(input)


def _threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    return ag.where(x > threshold, x, value)


def _threshold_kwargs(*shapes: Any) -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"threshold": st.just(0.5), "value": st.sampled_from([0.0, -2.0])})


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:  # noqa: A002
    """Keep ``x`` where ``x > threshold``, else replace it by ``value``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.threshold(ag.tensor([0.5, 2.0]), 1.0, -1.0)
        tensor([-1.,  2.])
    """
    if inplace:
        return _inplace(input, "threshold_", lambda s: _threshold(s, threshold, value))
    return _threshold(input, threshold, value)


composite("hardtanh", method=False, kwargs=_bounds_kwargs, domain=Domain(away_from=(-1.0, 1.0)),
          kinks=lambda: on_kinks("hardtanh", lambda kw: (kw["min_val"], kw["max_val"])))(hardtanh)  # fmt: skip
composite("relu6", method=False, domain=Domain(-1.0, 7.0, away_from=(0.0, 6.0)),
          kinks=lambda: on_kinks("relu6", 0.0, 6.0))(relu6)  # fmt: skip
composite("prelu", method=False, sample=_prelu_sample,
          kinks=lambda: on_kinks("prelu", 0.0, inputs=(0,)))(prelu)  # fmt: skip
composite("hardsigmoid", method=False, domain=Domain(-4.0, 4.0, away_from=(-3.0, 3.0)),
          kinks=lambda: on_kinks("hardsigmoid", -3.0, 3.0))(hardsigmoid)  # fmt: skip
composite("hardswish", method=False, domain=Domain(-4.0, 4.0, away_from=(-3.0, 3.0)),
          kinks=lambda: on_kinks("hardswish", -3.0, 3.0))(hardswish)  # fmt: skip
composite("threshold", method=False, tensors=1, kwargs=_threshold_kwargs,
          domain=Domain(away_from=(0.5,)),
          kinks=lambda: on_kinks("threshold", lambda kw: kw["threshold"]))(threshold)  # fmt: skip


class Hardtanh(Module):
    """Clamp to ``[min_val, max_val]``.  Shape: ``(*) -> (*)``.

    Example:
        >>> import nn
        >>> nn.Hardtanh(-2.0, 2.0)
        Hardtanh(min_val=-2.0, max_val=2.0)
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if max_val <= min_val:
            # PyTorch asserts here (an AssertionError), with this message.
            raise AssertionError(f"max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        suffix = ", inplace=True" if self.inplace else ""
        return f"min_val={self.min_val}, max_val={self.max_val}{suffix}"


class ReLU6(Hardtanh):
    """Apply ``min(max(x, 0), 6)``.  Shape: ``(*) -> (*)``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.ReLU6()(ag.tensor([-1.0, 7.0]))
        tensor([0., 6.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class PReLU(Module):
    """Apply ``x if x > 0 else a * x`` with a learned slope ``a`` (one, or one per channel).

    ``weight`` has ``num_parameters`` entries, all set to ``init``. Shape: ``(N, C, *) -> same``
    (``num_parameters`` is 1 or ``C``).

    Example:
        >>> import autograd as ag, nn
        >>> nn.PReLU()(ag.tensor([-2.0, 2.0]))
        tensor([-0.5000,  2.0000], grad_fn=<WhereBackward>)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(ag.empty(num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Set every slope to ``init``."""
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Hardsigmoid(_InplaceActivation):
    """Apply ``relu6(x + 3) / 6``.  Shape: ``(*) -> (*)``."""

    _function = staticmethod(hardsigmoid)

    def extra_repr(self) -> str:
        return ""  # PyTorch does not print inplace here


class Hardswish(_InplaceActivation):
    """Apply ``x * relu6(x + 3) / 6``.  Shape: ``(*) -> (*)``."""

    _function = staticmethod(hardswish)

    def extra_repr(self) -> str:
        return ""  # PyTorch does not print inplace here


class Threshold(Module):
    """Replace values ``<= threshold`` by ``value``.  Shape: ``(*) -> (*)``.

    Example:
        >>> import nn
        >>> nn.Threshold(0.1, 20)
        Threshold(threshold=0.1, value=20)
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        suffix = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{suffix}"
