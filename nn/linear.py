"""Affine layers: ``F.linear``/``Linear``, ``F.bilinear``/``Bilinear``; ``Flatten``, ``Unflatten``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd as ag
from autograd._typing import Operand
from autograd.dtypes import torch_name
from autograd.registry import composite, primitive
from autograd.tensor import Tensor

from . import init
from ._samples import side, tensor
from .module import Module, Parameter

__all__ = ["linear", "bilinear", "Linear", "Bilinear", "Flatten", "Unflatten"]


def _linear_sample() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
        n_in, n_out = side(draw), side(draw)
        x = tensor(draw, lead + (n_in,))
        weight = tensor(draw, (n_out, n_in))
        bias = tensor(draw, (n_out,)) if draw(st.booleans()) else None
        return [x, weight, bias], {}

    return draw_inputs()


# Named and ordered as PyTorch's nodes of a linear layer: AddmmBackward with inputs (bias, x,
# weight) and MmBackward with (x, weight), so ``grad_fn.next_functions`` walks read the same.
@primitive("linear_addmm", method=False, node_name="Addmm", label="linear", untested="tested through linear, below")
def _addmm_t(bias: np.ndarray, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``bias + x @ weight.T`` for 2-D ``x``: one GEMM, the bias added in place."""
    out = np.matmul(x, weight.T)
    out += bias
    return out


@_addmm_t.vjp
def _addmm_t_vjp(grad: Operand, x: Operand, weight: Operand, needs_input_grad: tuple,
                 xp: Any) -> tuple:  # fmt: skip
    # grad.T @ x is laid out like the weight (out, in): no transposing copy before the optimizer.
    return (
        xp.sum_dim0(grad) if needs_input_grad[0] else None,
        grad @ weight if needs_input_grad[1] else None,
        grad.T @ x if needs_input_grad[2] else None,
    )


@primitive("linear_mm", method=False, node_name="Mm", label="linear", untested="tested through linear, below")
def _mm_t(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``x @ weight.T`` for 2-D ``x`` (a linear layer without bias)."""
    return np.matmul(x, weight.T)


@_mm_t.vjp
def _mm_t_vjp(grad: Operand, x: Operand, weight: Operand, needs_input_grad: tuple) -> tuple:
    return (
        grad @ weight if needs_input_grad[0] else None,
        grad.T @ x if needs_input_grad[1] else None,
    )


def _check_dtypes(input: Tensor, weight: Tensor, bias: Tensor | None) -> None:  # noqa: A002
    """As PyTorch: no silent cast of an int64 or float64 input to a float32 layer."""
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"linear: mat1 and mat2 must have the same dtype, but got {torch_name(input.dtype)} "
            f"and {torch_name(weight.dtype)} (input {tuple(input.shape)} {input.dtype}, weight "
            f"{tuple(weight.shape)} {weight.dtype}); convert the input (e.g. input.float()) or "
            "the layer (e.g. layer.double())"
        )
    if bias is not None and bias.dtype != weight.dtype:
        raise RuntimeError(
            f"linear: bias and weight must have the same dtype, but got {torch_name(bias.dtype)} "
            f"and {torch_name(weight.dtype)}"
        )


@composite("linear", method=False, sample=_linear_sample)
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """Apply ``y = x W^T + b``.

    Shape: input ``(*, in_features)``, weight ``(out_features, in_features)``, bias
    ``(out_features,)``, output ``(*, out_features)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.linear(ag.ones(2, 3), ag.ones(4, 3), ag.zeros(4)).shape
        (2, 4)
    """
    if isinstance(input, Tensor) and isinstance(weight, Tensor) and (
        bias is None or isinstance(bias, Tensor)
    ):
        # The common call (2-D input, 2-D weight, matching 1-D bias, one dtype): one GEMM node.
        x_array, w_array = input._data, weight._data
        if (
            x_array.ndim == 2
            and w_array.ndim == 2
            and x_array.shape[1] == w_array.shape[1]
            and x_array.dtype == w_array.dtype
            and (
                bias is None
                or (bias._data.shape == w_array.shape[:1] and bias._data.dtype == w_array.dtype)
            )
        ):
            if bias is None:
                return _mm_t.call(_mm_t, (input, weight), {})
            return _addmm_t.call(_addmm_t, (bias, input, weight), {})  # one call less than _addmm_t()
    if weight.ndim not in (1, 2):
        raise RuntimeError(
            f"linear: weight must be 1-D or 2-D (out_features, in_features), got shape "
            f"{tuple(weight.shape)}"
        )
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        got = input.shape[-1] if input.ndim else "no"
        raise RuntimeError(
            f"linear: input has {got} features but weight expects {weight.shape[-1]} "
            f"(input {tuple(input.shape)}, weight {tuple(weight.shape)})"
        )
    _check_dtypes(input, weight, bias)
    if weight.ndim == 1:
        out = input @ weight
        return out + bias if bias is not None else out
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        # Other bias shapes broadcast as in PyTorch's ``x @ W^T + b``.
        return linear(input, weight) + bias
    # One 2-D GEMM even for batched input: the weight gradient is then a single GEMM too.
    x = input.reshape(-1, input.shape[-1]) if input.ndim != 2 else input
    out = _mm_t(x, weight) if bias is None else _addmm_t(bias, x, weight)
    return out.reshape(*input.shape[:-1], weight.shape[0]) if input.ndim != 2 else out


_linear_function = linear.forward


class Linear(Module):
    """Apply ``y = x W^T + b`` with a learned weight and (optional) bias.

    Initialised as PyTorch does: ``kaiming_uniform_(a=sqrt(5))`` for the weight and
    U(-1/sqrt(in_features), 1/sqrt(in_features)) for the bias.

    Shape: ``(*, in_features) -> (*, out_features)``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.Linear(3, 2)(ag.ones(5, 3)).shape
        (5, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(ag.empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(ag.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the weight and bias with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if type(input) is not Tensor or not input._data.ndim or (
            input._data.shape[-1] != self.in_features
        ):
            self._check_input(input)
        # Read from the parameter table: ``self.weight`` fails the normal lookup first (building
        # an AttributeError) before Module.__getattr__ finds it. A weight moved out of the table
        # (a reparametrisation) is found as an attribute, as before.
        parameters = self._parameters
        weight = parameters["weight"] if "weight" in parameters else self.weight
        bias = parameters["bias"] if "bias" in parameters else self.bias
        # The registered op's function itself: Linear passes no keywords to translate.
        return _linear_function(input, weight, bias)

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}): "
                f"expected input with {self.in_features} features in the last dim, got input "
                f"of shape {tuple(input.shape)}"
            )

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


def _bilinear_sample() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
        n1, n2, n_out = side(draw), side(draw), side(draw)
        x1, x2 = tensor(draw, lead + (n1,)), tensor(draw, lead + (n2,))
        weight = tensor(draw, (n_out, n1, n2))
        bias = tensor(draw, (n_out,)) if draw(st.booleans()) else None
        return [x1, x2, weight, bias], {}

    return draw_inputs()


def _check_bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    if weight.ndim != 3:
        raise RuntimeError(
            f"bilinear: weight must be 3-D (out_features, in1_features, in2_features), got shape "
            f"{tuple(weight.shape)}"
        )
    if input1.ndim != input2.ndim:
        raise RuntimeError(
            f"bilinear: input dimensions do not match: got {input1.ndim} and {input2.ndim} "
            f"(input1 {tuple(input1.shape)}, input2 {tuple(input2.shape)})"
        )
    if input1.ndim == 0:
        raise RuntimeError("bilinear: inputs must have at least one dimension")
    for dim, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if a != b:
            raise RuntimeError(
                f"bilinear: input batch dimensions do not match at dim {dim}: got {a} and {b}"
            )
    for name, x, expected in (("input1", input1, weight.shape[1]), ("input2", input2, weight.shape[2])):
        if x.shape[-1] != expected:
            raise RuntimeError(
                f"bilinear: {name} size does not match weight size: got {x.shape[-1]} but "
                f"expected {expected} (weight {tuple(weight.shape)})"
            )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        got = bias.shape[-1] if bias.ndim else "a 0-d bias"
        raise RuntimeError(
            f"bilinear: bias size does not match weight size: got {got} but expected "
            f"{weight.shape[0]}"
        )
    operands: list[tuple[str, Tensor | None]] = [("input1", input1), ("input2", input2), ("bias", bias)]
    for name, operand in operands:
        if operand is not None and operand.dtype != weight.dtype:
            raise RuntimeError(
                f"bilinear: expected {name} and weight to have the same dtype, but got "
                f"{torch_name(operand.dtype)} and {torch_name(weight.dtype)}"
            )


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Apply ``y_k = x1^T A_k x2 + b_k`` for every output feature ``k``.

    Shape: input1 ``(*, in1_features)``, input2 ``(*, in2_features)`` (same ``*``), weight
    ``(out_features, in1_features, in2_features)``, bias ``(out_features,)``, output
    ``(*, out_features)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.bilinear(ag.ones(2, 3), ag.ones(2, 4), ag.ones(5, 3, 4)).shape
        (2, 5)
    """
    _check_bilinear(input1, input2, weight, bias)
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    # (B, in1) @ (out, in1, in2) broadcasts to (out, B, in2); contract in2 with x2.
    projected = x1 @ weight
    out = (projected * x2).sum(dim=-1).T
    if bias is not None:
        out = out + bias
    return out.reshape(lead + (weight.shape[0],))


composite("bilinear", method=False, sample=_bilinear_sample)(bilinear)


class Bilinear(Module):
    """Apply ``y = x1^T A x2 + b`` with a learned ``A`` of shape ``(out, in1, in2)``.

    Initialised as PyTorch: weight and bias from U(-1/sqrt(in1_features), 1/sqrt(in1_features)).

    Shape: ``(*, in1_features), (*, in2_features) -> (*, out_features)``.

    Example:
        >>> import autograd as ag, nn
        >>> layer = nn.Bilinear(3, 4, 5)
        >>> layer(ag.randn(8, 3), ag.randn(8, 4)).shape
        (8, 5)
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(ag.empty(out_features, in1_features, in2_features, dtype=dtype))
        if bias:
            self.bias = Parameter(ag.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw weight and bias from U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        if self.in1_features <= 0:
            raise ValueError(
                f"in1_features must be > 0, but got (in1_features={self.in1_features})"
            )
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class Flatten(Module):
    """Flatten dims ``start_dim..end_dim`` into one.

    Shape: ``(N, *dims) -> (N, prod(dims))`` with the defaults.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return ag.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``.

    Shape: ``(*, S, *) -> (*, U1, U2, ..., *)`` with ``prod(U) = S``.
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                f"unflattened_size must be tuple of ints, but found type {type(unflattened_size).__name__}"
            )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return ag.unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
