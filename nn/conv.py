"""Convolution: ``F.conv1d``/``F.conv2d`` and the ``Conv1d``/``Conv2d`` layers.

One primitive, ``convolution(x, weight, bias)`` (``ConvolutionBackward``, as PyTorch),
convolves any number of spatial dims by im2col (a strided view, one copy) and GEMMs that write
the ``(N, C_out, *out)`` output in place, the bias added into it. The columns come in two
layouts (``_batch_first``): per sample for short columns, channels-first for long ones, where
the weight and input gradients are then single large GEMMs. The forward hands its columns to
the rule as residuals, so a training step builds them once per layer. Its two VJPs are
primitives too (the transposed convolution for the input, a correlation of input and gradient
for the weight), and the three are each other's VJPs: convolution is bilinear, so second-order
gradients are exact. The columns and the gradients on arrays are in ``nn._conv_columns``; with
``graphgrad[fast]`` col2im is one compiled pass (``nn._kernels``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd._typing import Operand
from autograd.dtypes import torch_name
from autograd.registry import composite, primitive
from autograd.tensor import Tensor

from . import init
from ._conv_columns import (
    _bias_grad,
    _column_bytes,
    _columns,
    _grouped_grad,
    _input_grad,
    _sample_chunks,
    _weight_grad,
)
from ._window import Window, as_tuple
from .module import Module, Parameter

__all__ = ["conv1d", "conv2d", "Conv1d", "Conv2d"]

PaddingArg = int | tuple | str


def _window_for(x_shape: tuple, weight_shape: tuple, stride: tuple, padding: tuple,
                dilation: tuple) -> Window:  # fmt: skip
    """The conv geometry; ``padding`` holds ``(before, after)`` per spatial dim."""
    kernel = tuple(weight_shape[2:])
    in_size = tuple(x_shape[2:])
    out_size = tuple(
        (n + lo + hi - (d * (k - 1) + 1)) // s + 1
        for n, (lo, hi), k, s, d in zip(in_size, padding, kernel, stride, dilation)
    )
    return Window(kernel, stride, dilation, tuple(lo for lo, _ in padding), in_size, out_size)


def _batch_first(weight_shape: tuple) -> bool:
    """Which im2col layout a convolution uses (decided by the weight alone, so forward and
    both VJPs agree).

    With short columns (``C/G * prod(kernel) < 64``, e.g. a first layer on grey or RGB images)
    the GEMMs are memory-bound: per-sample GEMMs writing ``(N, O, *out)`` in place beat one
    large GEMM plus a transposing copy of its output (about 4x for a 1->32 channel 3x3 layer).
    With long columns the GEMMs are compute-bound and one large GEMM per group is faster.
    """
    return weight_shape[1] * math.prod(weight_shape[2:]) < 64


def _forward(x: np.ndarray, weight: np.ndarray, stride: tuple, padding: tuple, dilation: tuple,
             groups: int) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
    """The convolution and its im2col columns (reused for the weight grad; None if too big)."""
    window = _window_for(x.shape, weight.shape, stride, padding, dilation)
    batch_first = _batch_first(weight.shape)
    n, out_channels = x.shape[0], weight.shape[0]
    kernels = weight.reshape(groups, out_channels // groups, -1)
    out = np.empty((n, groups, out_channels // groups, math.prod(window.out_size)), x.dtype)
    chunks = _sample_chunks(n, _column_bytes(x.shape, window, x.itemsize))
    cols = None
    for part in chunks:
        cols = _columns(x[part], window, groups, batch_first)
        # One GEMM per sample and group, written straight into the (N, G, O/G, L) output: the
        # channels-first columns are read as (N, G, rows, L) matrices with a long row stride,
        # which BLAS takes as they are (no transposing copy of the output).
        if batch_first:
            per_sample = cols
        else:
            count = part.stop - part.start
            per_sample = cols.reshape(groups, cols.shape[1], count, -1).transpose(2, 0, 1, 3)
        np.matmul(kernels, per_sample, out=out[part])
    kept = cols if len(chunks) == 1 else None
    return out.reshape((n, out_channels) + window.out_size), kept


def _zero_bias(weight: Operand, xp: Any) -> Operand:
    """A zero bias for calls of ``convolution`` that have none (its third input)."""
    return xp.constant(np.zeros(weight.shape[0]), weight)


@primitive("convolution", method=False, promote=False, residuals=True,
           untested="tested through conv1d/conv2d")  # fmt: skip
def _convolution(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, *, stride: tuple,
                 padding: tuple, dilation: tuple, groups: int) -> tuple:  # fmt: skip
    """``conv(x, weight) + bias`` as one node; its im2col columns go to the rule."""
    out, cols = _forward(x, weight, stride, padding, dilation, groups)
    if bias.any():  # in place into the fresh output; a missing bias is passed as zeros
        out += bias.reshape((-1,) + (1,) * (out.ndim - 2))
    return out, cols


@_convolution.vjp
def _convolution_vjp(grad: Any, x: Any, weight: Any, x_shape: tuple,
                     weight_shape: tuple, stride: tuple, padding: tuple, dilation: tuple,
                     groups: int, needs_input_grad: tuple, residuals: Any,
                     xp: Any) -> tuple:  # fmt: skip
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    grad_x = grad_weight = grad_bias = None
    if not xp.is_tensor:
        # Arrays: the output gradient is regrouped once for the GEMMs of all three gradients,
        # and the weight gradient reuses the forward's columns.
        window = _window_for(x_shape, weight_shape, stride, padding, dilation)
        batch_first = _batch_first(weight_shape)
        grads = _grouped_grad(grad, groups, batch_first)
        if needs_input_grad[0]:
            grad_x = _input_grad(grads, weight, x_shape, window, groups, batch_first)
        if needs_input_grad[1]:
            grad_weight = _weight_grad(grads, residuals, x, window, groups, weight_shape,
                                       batch_first)  # fmt: skip
        if needs_input_grad[2]:
            grad_bias = _bias_grad(grads, batch_first)
        return grad_x, grad_weight, grad_bias
    # Tensors (create_graph): the columns are not on the graph, so the weight gradient is
    # recomputed from x; the three ops are each other's VJPs, so every order is exact.
    if needs_input_grad[0]:
        grad_x = xp.convolution_input_grad(grad, weight, input_shape=x_shape, **options)
    if needs_input_grad[1]:
        grad_weight = xp.convolution_weight_grad(x, grad, weight_shape=weight_shape, **options)
    if needs_input_grad[2]:
        grad_bias = xp.sum(grad, dim=(0,) + tuple(range(2, len(x_shape))))
    return grad_x, grad_weight, grad_bias


@primitive("convolution_input_grad", method=False,
           untested="conv's gradient: tested through conv1d/conv2d second order")  # fmt: skip
def _convolution_input_grad(grad_out: np.ndarray, weight: np.ndarray, *, input_shape: tuple,
                            stride: tuple, padding: tuple, dilation: tuple,
                            groups: int) -> np.ndarray:  # fmt: skip
    """The transposed convolution: ``W^T grad`` as columns, added back over the kernel offsets."""
    window = _window_for(input_shape, weight.shape, stride, padding, dilation)
    batch_first = _batch_first(weight.shape)
    grads = _grouped_grad(grad_out, groups, batch_first)
    return _input_grad(grads, weight, tuple(input_shape), window, groups, batch_first)


@_convolution_input_grad.vjp
def _convolution_input_grad_vjp(grad: Operand, grad_out: Operand, weight: Operand,
                                stride: tuple, padding: tuple, dilation: tuple, groups: int,
                                needs_input_grad: tuple, xp: Any) -> tuple:  # fmt: skip
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    d_grad = d_weight = None
    if needs_input_grad[0]:
        d_grad = xp.convolution(grad, weight, _zero_bias(weight, xp), **options)
    if needs_input_grad[1]:
        d_weight = xp.convolution_weight_grad(
            grad, grad_out, weight_shape=tuple(weight.shape), **options
        )
    return d_grad, d_weight


@primitive("convolution_weight_grad", method=False,
           untested="conv's gradient: tested through conv1d/conv2d second order")  # fmt: skip
def _convolution_weight_grad(x: np.ndarray, grad_out: np.ndarray, *, weight_shape: tuple,
                             stride: tuple, padding: tuple, dilation: tuple,
                             groups: int) -> np.ndarray:  # fmt: skip
    """Correlate the input with the output gradient: ``grad @ cols^T`` per group."""
    batch_first = _batch_first(weight_shape)
    window = _window_for(x.shape, weight_shape, stride, padding, dilation)
    grads = _grouped_grad(grad_out, groups, batch_first)
    return _weight_grad(grads, None, x, window, groups, tuple(weight_shape), batch_first)


@_convolution_weight_grad.vjp
def _convolution_weight_grad_vjp(grad: Operand, x: Operand, grad_out: Operand, x_shape: tuple,
                                 stride: tuple, padding: tuple, dilation: tuple, groups: int,
                                 needs_input_grad: tuple, xp: Any) -> tuple:  # fmt: skip
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    d_x = d_grad = None
    if needs_input_grad[0]:
        d_x = xp.convolution_input_grad(grad_out, grad, input_shape=x_shape, **options)
    if needs_input_grad[1]:
        d_grad = xp.convolution(x, grad, _zero_bias(grad, xp), **options)
    return d_x, d_grad


def _resolve_padding(op: str, padding: PaddingArg, kernel: tuple, stride: tuple,
                     dilation: tuple) -> tuple:  # fmt: skip
    """Turn an int, tuple, ``'valid'`` or ``'same'`` into ``(before, after)`` per dim."""
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in kernel)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided "
                                   f"convolutions (stride {stride}); use an explicit padding")  # fmt: skip
            # PyTorch puts the odd extra zero after the input (right/bottom).
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise RuntimeError(f"{op}: invalid padding string {padding!r}; expected 'same', 'valid', "
                           "an int or a tuple of ints")  # fmt: skip
    pads = as_tuple(padding, len(kernel), "padding", op, minimum=0)
    return tuple((p, p) for p in pads)


def _conv(op: str, dims: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any,  # noqa: A002
          padding: PaddingArg, dilation: Any, groups: int) -> Tensor:  # fmt: skip
    layout = "(N, C, L)" if dims == 1 else "(N, C, H, W)"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")  # fmt: skip
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) "
                           f"input {layout}, got shape {tuple(input.shape)}")  # fmt: skip
    if weight.ndim != dims + 2:
        raise RuntimeError(f"{op}: expected a {dims + 2}-D weight (out_channels, in_channels/groups, "
                           f"kernel...), got shape {tuple(weight.shape)}")  # fmt: skip
    if input.dtype.kind != "f" or weight.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected floating-point input and weight, got {input.dtype} and "
                           f"{weight.dtype}")  # fmt: skip
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    unbatched = input.ndim == dims + 1
    x = input.reshape((1,) + tuple(input.shape)) if unbatched else input
    out_channels, in_per_group = weight.shape[:2]
    channels = x.shape[1]
    if out_channels % groups:
        raise RuntimeError(f"{op}: out_channels {out_channels} (weight {tuple(weight.shape)}) must "
                           f"be divisible by groups={groups}")  # fmt: skip
    if in_per_group * groups != channels:
        raise RuntimeError(
            f"{op}: expected input with {in_per_group * groups} channels (weight "
            f"{tuple(weight.shape)}, groups={groups}), got input of shape {tuple(input.shape)}"
        )
    kernel = tuple(weight.shape[2:])
    stride_ = as_tuple(stride, dims, "stride", op)
    dilation_ = as_tuple(dilation, dims, "dilation", op)
    pads = _resolve_padding(op, padding, kernel, stride_, dilation_)
    for n, (lo, hi), k, d in zip(x.shape[2:], pads, kernel, dilation_):
        if n + lo + hi < d * (k - 1) + 1:
            raise RuntimeError(
                f"{op}: padded input size {tuple(s + a + b for s, (a, b) in zip(x.shape[2:], pads))} "
                f"is smaller than the dilated kernel {tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation_))} "
                f"(input {tuple(input.shape)}, weight {tuple(weight.shape)})"
            )
    if bias is not None:
        if not isinstance(bias, Tensor) or tuple(bias.shape) != (out_channels,):
            got = tuple(bias.shape) if isinstance(bias, Tensor) else type(bias).__name__
            raise RuntimeError(f"{op}: expected bias of shape ({out_channels},), got {got}")
    for name, t in (("input", input), ("bias", bias)):
        # As PyTorch: no silent cast of a float64 input to a float32 layer (or back).
        if t is not None and t.dtype != weight.dtype:
            raise RuntimeError(
                f"{op}: expected {name} and weight to have the same dtype, but got "
                f"{torch_name(t.dtype)} and {torch_name(weight.dtype)} ({name} "
                f"{tuple(t.shape)} {t.dtype}, weight {tuple(weight.shape)} {weight.dtype}); "
                f"convert the {name} (e.g. {name}.float()) or the layer (e.g. layer.double())"
            )
    options = dict(stride=stride_, padding=pads, dilation=dilation_, groups=int(groups))
    if bias is None:
        bias = Tensor._from_array(np.zeros(out_channels, dtype=weight.dtype))
    out = _convolution(x, weight, bias, **options)
    return out.reshape(tuple(out.shape[1:])) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: PaddingArg = 0, dilation: Any = 1, groups: int = 1) -> Tensor:  # fmt: skip
    """Apply a 1-D convolution (cross-correlation, as PyTorch) over ``(N, C, L)`` input.

    Shape: input ``(N, C_in, L)`` or ``(C_in, L)``, weight ``(C_out, C_in/groups, k)``,
    bias ``(C_out,)``, output ``(N, C_out, L_out)``.

    Args:
        padding: int, 1-tuple, ``'valid'`` (none) or ``'same'`` (output length = input length;
            stride 1 only; an odd total puts the extra zero on the right, as PyTorch).

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.conv1d(ag.ones(1, 1, 5), ag.ones(1, 1, 3)).tolist()
        [[[3.0, 3.0, 3.0]]]
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: PaddingArg = 0, dilation: Any = 1, groups: int = 1) -> Tensor:  # fmt: skip
    """Apply a 2-D convolution (cross-correlation, as PyTorch) over ``(N, C, H, W)`` input.

    Shape: input ``(N, C_in, H, W)`` or ``(C_in, H, W)``, weight
    ``(C_out, C_in/groups, kH, kW)``, bias ``(C_out,)``, output ``(N, C_out, H_out, W_out)``
    with ``H_out = (H + 2*padding - dilation*(kH-1) - 1) // stride + 1``.

    Args:
        padding: int, pair, ``'valid'`` or ``'same'`` (stride 1 only).
        groups: split channels into this many independent convolutions.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.conv2d(ag.ones(1, 1, 4, 4), ag.ones(2, 1, 3, 3), padding=1).shape
        (1, 2, 4, 4)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_sample(dims: int) -> Any:
    from hypothesis import strategies as st

    from ._samples import tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        groups = draw(st.sampled_from([1, 1, 2]))
        in_per_group, out_per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
        stride = tuple(draw(st.integers(1, 2)) for _ in range(dims))
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
        kind = draw(st.sampled_from(["int", "tuple", "same", "valid"]))
        if kind == "same":
            stride = (1,) * dims
            padding: Any = "same"
            pads = [0] * dims
        elif kind == "valid":
            padding, pads = "valid", [0] * dims
        else:
            pads = [draw(st.integers(0, 2)) for _ in range(dims)]
            padding = pads[0] if kind == "int" else tuple(pads)
            pads = [pads[0]] * dims if kind == "int" else pads
        size = tuple(
            max(1, d * (k - 1) + 1 - 2 * p + draw(st.integers(0, 2)))
            for k, d, p in zip(kernel, dilation, pads)
        )
        batch = draw(st.integers(1, 2))
        x = tensor(draw, (batch, in_per_group * groups) + size)
        weight = tensor(draw, (out_per_group * groups, in_per_group) + kernel)
        bias = tensor(draw, (out_per_group * groups,)) if draw(st.booleans()) else None
        options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return [x, weight, bias], options

    return draw_inputs()


composite("conv1d", method=False, sample=lambda: _conv_sample(1))(conv1d)
composite("conv2d", method=False, sample=lambda: _conv_sample(2))(conv2d)


class _ConvNd(Module):
    """Shared state and ``extra_repr`` of ``Conv1d``/``Conv2d`` (PyTorch's attribute names)."""

    _dims = 0
    _function: Any = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: PaddingArg = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        name, dims = type(self).__name__, self._dims
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})"
            )
        if out_channels % groups:
            raise ValueError(
                f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be one of 'zeros', 'reflect', 'replicate' "
                             f"or 'circular', got {padding_mode!r}")  # fmt: skip
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = as_tuple(kernel_size, dims, "kernel_size", name)
        self.stride = as_tuple(stride, dims, "stride", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")  # fmt: skip
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions"
                )
            self.padding: Any = padding
        else:
            self.padding = as_tuple(padding, dims, "padding", name, minimum=0)
        self.dilation = as_tuple(dilation, dims, "dilation", name)
        self.transposed = False
        self.output_padding = (0,) * dims
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = Parameter(
            _empty((out_channels, in_channels // groups) + self.kernel_size, dtype)
        )
        if bias:
            self.bias = Parameter(_empty((out_channels,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise as PyTorch: kaiming_uniform_(a=sqrt(5)); bias U(-1/sqrt(fan_in), +)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        dims = self._dims
        layout = "L" if dims == 1 else "H, W"
        ok = isinstance(input, Tensor) and input.ndim in (dims + 1, dims + 2)
        if ok and input.shape[-dims - 1] == self.in_channels:
            return
        got = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(
            f"{type(self).__name__}({self.extra_repr()}): expected input of shape "
            f"(N, {self.in_channels}, {layout}) or ({self.in_channels}, {layout}) with "
            f"{self.in_channels} channels, got {got}"
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input(input)
        options = dict(stride=self.stride, dilation=self.dilation, groups=self.groups)
        if self.padding_mode == "zeros":
            return type(self)._function(
                input, self.weight, self.bias, padding=self.padding, **options
            )
        from . import functional

        pad = getattr(functional, "pad", None)
        if pad is None:
            raise NotImplementedError(f"{type(self).__name__}: padding_mode={self.padding_mode!r} "
                                      "needs nn.functional.pad")  # fmt: skip
        kernel_pads = _resolve_padding(type(self).__name__, self.padding, self.kernel_size,
                                       self.stride, self.dilation)  # fmt: skip
        # F.pad takes (before, after) pairs starting from the last dim.
        flat = tuple(p for pair in reversed(kernel_pads) for p in pair)
        padded = pad(input, flat, mode=self.padding_mode)
        return type(self)._function(padded, self.weight, self.bias, padding=0, **options)


def _empty(shape: tuple, dtype: Any) -> Tensor:
    from autograd.creation import empty

    return empty(*shape, dtype=dtype) if dtype is not None else empty(*shape)


class Conv1d(_ConvNd):
    """Apply a learned 1-D convolution over ``(N, C_in, L)`` input.

    Shape: ``(N, C_in, L) -> (N, C_out, L_out)`` (or unbatched ``(C_in, L)``).

    Example:
        >>> import autograd as ag, nn
        >>> nn.Conv1d(2, 4, 3, padding="same")(ag.ones(8, 2, 10)).shape
        (8, 4, 10)
    """

    _dims = 1
    _function = staticmethod(conv1d)


class Conv2d(_ConvNd):
    """Apply a learned 2-D convolution over ``(N, C_in, H, W)`` input.

    Shape: ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)`` (or unbatched ``(C_in, H, W)``).

    Example:
        >>> import autograd as ag, nn
        >>> nn.Conv2d(1, 32, 3, padding=1)
        Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
        >>> nn.Conv2d(1, 32, 3, padding=1)(ag.ones(2, 1, 28, 28)).shape
        (2, 32, 28, 28)
    """

    _dims = 2
    _function = staticmethod(conv2d)
