"""Transposed convolution: ``F.conv_transpose1d/2d`` and ``ConvTranspose1d/2d``.

The forward of a transposed convolution is the input gradient of a convolution: it reuses the
``convolution_input_grad`` primitive of ``nn/conv.py`` (whose VJPs are the convolution and its
weight gradient, so gradients of any order work). ``output_padding`` becomes an asymmetric crop:
padding ``(p, p - output_padding)`` of the equivalent convolution.
"""

from __future__ import annotations

import math
from typing import Any

from autograd.creation import empty
from autograd.dtypes import torch_name
from autograd.registry import composite
from autograd.tensor import Tensor

from . import init
from ._window import as_tuple
from .conv import _convolution_input_grad
from .module import Module, Parameter

__all__ = ["conv_transpose1d", "conv_transpose2d", "ConvTranspose1d", "ConvTranspose2d"]


def _conv_transpose(op: str, dims: int, input: Tensor, weight: Tensor, bias: Tensor | None,  # noqa: A002
                    stride: Any, padding: Any, output_padding: Any, groups: int,
                    dilation: Any) -> Tensor:  # fmt: skip
    layout = "(N, C, L)" if dims == 1 else "(N, C, H, W)"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")  # fmt: skip
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) "
                           f"input {layout}, got shape {tuple(input.shape)}")  # fmt: skip
    if weight.ndim != dims + 2:
        raise RuntimeError(f"{op}: expected a {dims + 2}-D weight (in_channels, "
                           f"out_channels/groups, kernel...), got shape {tuple(weight.shape)}")  # fmt: skip
    for name, t in (("input", input), ("bias", bias)):
        if t is not None and t.dtype != weight.dtype:
            raise RuntimeError(
                f"{op}: expected {name} and weight to have the same dtype, but got "
                f"{torch_name(t.dtype)} and {torch_name(weight.dtype)}"
            )
    if weight.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected floating-point input and weight, got {weight.dtype}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if isinstance(padding, str):
        raise RuntimeError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    unbatched = input.ndim == dims + 1
    x = input.reshape((1,) + tuple(input.shape)) if unbatched else input
    in_channels, out_per_group = weight.shape[:2]
    if x.shape[1] != in_channels:
        raise RuntimeError(
            f"{op}: Given transposed=1, weight of size {list(weight.shape)}, expected input "
            f"{list(x.shape)} to have {in_channels} channels, but got {x.shape[1]} channels instead"
        )
    if in_channels % groups:
        raise RuntimeError(f"{op}: in_channels {in_channels} (weight {tuple(weight.shape)}) must "
                           f"be divisible by groups={groups}")  # fmt: skip
    kernel = tuple(weight.shape[2:])
    stride_ = as_tuple(stride, dims, "stride", op)
    dilation_ = as_tuple(dilation, dims, "dilation", op)
    pads = as_tuple(padding, dims, "padding", op, minimum=0)
    extra = as_tuple(output_padding, dims, "output_padding", op, minimum=0)
    if any(o >= s and o >= d for o, s, d in zip(extra, stride_, dilation_)):
        raise RuntimeError(
            f"{op}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding {extra}, stride {stride_}, dilation {dilation_}"
        )
    out_size = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        for n, s, p, d, k, o in zip(x.shape[2:], stride_, pads, dilation_, kernel, extra)
    )
    if any(n < 1 for n in out_size):
        raise RuntimeError(
            f"{op}: Given input size per channel: {tuple(x.shape[2:])}. Calculated output size "
            f"per channel: {out_size}. Output size is too small"
        )
    out_channels = out_per_group * groups
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"{op}: expected bias of shape ({out_channels},), got {tuple(bias.shape)}")
    # The convolution whose input gradient this is: padding (p, p - output_padding), so that
    # the extra output rows are the ones a plain padding would have cropped.
    out = _convolution_input_grad(
        x, weight, input_shape=(x.shape[0], out_channels) + out_size, stride=stride_,
        padding=tuple((p, p - o) for p, o in zip(pads, extra)), dilation=dilation_,
        groups=groups,
    )  # fmt: skip
    if bias is not None:
        out = out + bias.reshape((out_channels,) + (1,) * dims)
    return out.reshape(tuple(out.shape[1:])) if unbatched else out


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:  # fmt: skip
    """Apply a 1-D transposed convolution (the gradient of ``conv1d`` with respect to its input).

    Shape: input ``(N, C_in, L)`` or ``(C_in, L)``, weight ``(C_in, C_out/groups, k)``, output
    ``(N, C_out, L_out)`` with ``L_out = (L - 1)*stride - 2*padding + dilation*(k - 1) +
    output_padding + 1``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.conv_transpose1d(ag.ones(1, 1, 3), ag.ones(1, 1, 2), stride=2).tolist()
        [[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]]
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)  # fmt: skip


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:  # fmt: skip
    """Apply a 2-D transposed convolution ("deconvolution"), e.g. to upsample feature maps.

    Shape: input ``(N, C_in, H, W)`` or ``(C_in, H, W)``, weight ``(C_in, C_out/groups, kH, kW)``,
    output ``(N, C_out, H_out, W_out)`` with ``H_out = (H - 1)*stride - 2*padding +
    dilation*(kH - 1) + output_padding + 1``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.conv_transpose2d(ag.ones(1, 4, 5, 5), ag.ones(4, 2, 3, 3), stride=2).shape
        (1, 2, 11, 11)
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)  # fmt: skip


def _conv_transpose_sample(dims: int) -> Any:
    from hypothesis import strategies as st

    from ._samples import tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        groups = draw(st.sampled_from([1, 1, 2]))
        in_per_group, out_per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
        stride = tuple(draw(st.integers(1, 2)) for _ in range(dims))
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
        extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        size = tuple(draw(st.integers(1, 3)) for _ in range(dims))
        # Keep the output at least one long: (n-1)s + d(k-1) + o + 1 - 2p >= 1.
        padding = tuple(
            draw(st.integers(0, max(0, ((n - 1) * s + d * (k - 1) + o) // 2)))
            for n, s, d, k, o in zip(size, stride, dilation, kernel, extra)
        )
        batch = draw(st.integers(1, 2))
        x = tensor(draw, (batch, in_per_group * groups) + size)
        weight = tensor(draw, (in_per_group * groups, out_per_group) + kernel)
        bias = tensor(draw, (out_per_group * groups,)) if draw(st.booleans()) else None
        options = dict(stride=stride, padding=padding, output_padding=extra, groups=groups,
                       dilation=dilation)  # fmt: skip
        return [x, weight, bias], options

    return draw_inputs()


composite("conv_transpose1d", method=False, sample=lambda: _conv_transpose_sample(1))(
    conv_transpose1d
)
composite("conv_transpose2d", method=False, sample=lambda: _conv_transpose_sample(2))(
    conv_transpose2d
)


class _ConvTransposeNd(Module):
    """Shared state of ``ConvTranspose1d/2d`` (PyTorch's attribute names and initialisation)."""

    _dims = 0
    _function: Any = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        name, dims = type(self).__name__, self._dims
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"in_channels must be divisible by groups ({name}: {in_channels} "
                             f"and groups={groups})")  # fmt: skip
        if out_channels % groups:
            raise ValueError(f"out_channels must be divisible by groups ({name}: {out_channels} "
                             f"and groups={groups})")  # fmt: skip
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = as_tuple(kernel_size, dims, "kernel_size", name)
        self.stride = as_tuple(stride, dims, "stride", name)
        self.padding = as_tuple(padding, dims, "padding", name, minimum=0)
        self.dilation = as_tuple(dilation, dims, "dilation", name)
        self.output_padding = as_tuple(output_padding, dims, "output_padding", name, minimum=0)
        self.transposed = True
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
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
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:  # noqa: A002
        """The output padding that makes the output ``output_size`` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        dims = self._dims
        size = [int(n) for n in output_size]
        if len(size) == dims + 2 or (len(size) == dims + 1 and input.ndim == dims + 1):
            size = size[-dims:]
        if len(size) != dims:
            raise ValueError(
                f"ConvTranspose{dims}D: for {input.ndim}D input, output_size must have {dims} or "
                f"{dims + 2} elements (got {len(output_size)})"
            )
        spatial = tuple(input.shape[-dims:])
        smallest = [
            (n - 1) * s - 2 * p + d * (k - 1) + 1
            for n, s, p, d, k in zip(spatial, self.stride, self.padding, self.dilation,
                                     self.kernel_size)
        ]  # fmt: skip
        largest = [m + s - 1 for m, s in zip(smallest, self.stride)]
        for want, low, high in zip(size, smallest, largest):
            if not low <= want <= high:
                raise ValueError(
                    f"requested an output size of {size}, but valid sizes range from {smallest} "
                    f"to {largest} (for an input of {spatial})"
                )
        return tuple(want - low for want, low in zip(size, smallest))

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        output_padding = self._output_padding(input, output_size)
        return type(self)._function(input, self.weight, self.bias, self.stride, self.padding,
                                    output_padding, self.groups, self.dilation)  # fmt: skip


class ConvTranspose1d(_ConvTransposeNd):
    """Apply a learned 1-D transposed convolution over ``(N, C_in, L)`` input.

    Shape: ``(N, C_in, L) -> (N, C_out, L_out)``; ``forward(input, output_size)`` picks the
    output padding that gives ``output_size``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.ConvTranspose1d(4, 2, 3, stride=2)(ag.ones(8, 4, 10)).shape
        (8, 2, 21)
    """

    _dims = 1
    _function = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Apply a learned 2-D transposed convolution over ``(N, C_in, H, W)`` input.

    Shape: ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
        ConvTranspose2d(16, 8, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))
        >>> nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)(ag.ones(2, 16, 7, 7)).shape
        (2, 8, 14, 14)
    """

    _dims = 2
    _function = staticmethod(conv_transpose2d)
