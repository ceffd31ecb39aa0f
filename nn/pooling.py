"""Pooling: ``F.max_pool1d/2d``, ``F.avg_pool1d/2d``, ``F.adaptive_avg_pool1d/2d`` and their layers.

Every pool loops over the kernel offsets only (a handful), each step a vectorised NumPy op
over all windows at once. Max pooling is a primitive (``nn._max_pool``) whose forward hands
the argmax (one byte per window) to its rule as a residual; the rule scatters the gradient to
it with a primitive whose VJP is the matching gather, so second-order gradients work. With
``graphgrad[fast]`` the max and the scatter are each one compiled pass (``nn._kernels``).
Average pooling is linear: a window-sum primitive and its adjoint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd._typing import Operand
from autograd.ops._samples import on_ties
from autograd.registry import composite, primitive
from autograd.tensor import Tensor

from ._max_pool import _flat_indices, _max_pool_forward, _max_pool_primitive, _max_pool_values
from ._window import Window, as_tuple, crop_array, pad_array
from .module import Module

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
]  # fmt: skip


def _pool_window(op: str, shape: tuple, dims: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, ceil_mode: bool) -> Window:  # fmt: skip
    """PyTorch's pooling geometry, with its checks (pad at most half the kernel, output >= 1)."""
    layout = "(N, C, L)" if dims == 1 else "(N, C, H, W)"
    if len(shape) not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) "
                           f"input {layout}, got shape {tuple(shape)}")  # fmt: skip
    kernel = as_tuple(kernel_size, dims, "kernel_size", op)
    strides = (
        kernel
        if stride is None or stride == [] or stride == ()
        else as_tuple(stride, dims, "stride", op)
    )
    pads = as_tuple(padding, dims, "padding", op, minimum=0)
    dilations = as_tuple(dilation, dims, "dilation", op)
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilations))
    # PyTorch bounds the padding by the kernel size, not the dilated span.
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise RuntimeError(f"{op}: padding {pads} must be at most half of the kernel size {kernel}")
    in_size = tuple(shape[-dims:])
    out_size = []
    for n, p, s, span in zip(in_size, pads, strides, spans):
        numerator = n + 2 * p - span + ((s - 1) if ceil_mode else 0)
        out = numerator // s + 1
        # In ceil mode the last window must start inside the input or the left padding.
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        out_size.append(out)
    if any(o < 1 for o in out_size):
        raise RuntimeError(f"{op}: input of shape {tuple(shape)} is too small for kernel {kernel} "
                           f"(dilation {dilations}, padding {pads}): output size would be "
                           f"{tuple(out_size)}")  # fmt: skip
    return Window(kernel, strides, dilations, pads, in_size, tuple(out_size))


def _batched(x: Tensor, dims: int) -> tuple[Tensor, bool]:
    unbatched = x.ndim == dims + 1
    return (x.reshape((1,) + tuple(x.shape)) if unbatched else x), unbatched


def _unbatched(out: Tensor, unbatched: bool) -> Tensor:
    return out.reshape(tuple(out.shape[1:])) if unbatched else out


def _max_pool(op: str, dims: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any,  # noqa: A002
              dilation: Any, ceil_mode: bool, return_indices: bool) -> Any:  # fmt: skip
    _check_tensor(op, input)
    window = _pool_window(op, tuple(input.shape), dims, kernel_size, stride, padding, dilation,
                          ceil_mode)  # fmt: skip
    x, unbatched = _batched(input, dims)
    out = _unbatched(_max_pool_primitive(x, window=window), unbatched)
    if not return_indices:
        return out
    # PyTorch's indices (flat, into each input plane): from the argmax, found once more.
    indices = _flat_indices(_max_pool_values(x._data, window)[1], window)
    return out, _unbatched(Tensor._from_array(indices), unbatched)


def _check_tensor(op: str, input: Any) -> None:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got dtype {input.dtype}")


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:  # fmt: skip
    """Take the maximum over sliding windows of ``(N, C, L)`` input.

    Shape: ``(N, C, L) -> (N, C, L_out)`` (or unbatched ``(C, L)``); ``stride`` defaults to
    ``kernel_size``; padding counts as ``-inf``. ``return_indices=True`` also returns the
    argmax positions (flat indices into ``L``), as PyTorch.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.max_pool1d(ag.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
        [[[3.0, 2.0]]]
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)  # fmt: skip


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:  # fmt: skip
    """Take the maximum over sliding windows of ``(N, C, H, W)`` input.

    Shape: ``(N, C, H, W) -> (N, C, H_out, W_out)`` with
    ``H_out = floor_or_ceil((H + 2*padding - dilation*(k-1) - 1) / stride) + 1``;
    ``stride`` defaults to ``kernel_size``. The gradient goes to the first maximum of each
    window, as PyTorch. ``return_indices=True`` also returns flat indices into ``H*W``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.max_pool2d(ag.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)  # fmt: skip


@primitive("window_sum", method=False, untested="tested through avg_pool1d/2d")
def _window_sum(x: np.ndarray, *, window: Window) -> np.ndarray:
    """Sum of every (zero-padded) window."""
    padded = pad_array(x, window)
    prefix = (slice(None),) * (x.ndim - len(window.kernel))
    out = None
    for _, slices in window.offsets():
        values = padded[prefix + slices]
        out = values.copy() if out is None else np.add(out, values, out=out)
    assert out is not None, "a pooling window has at least one position"
    return out


@_window_sum.vjp
def _window_sum_vjp(grad: Operand, window: Window, xp: Any) -> Operand:
    return xp.window_sum_adjoint(grad, window=window)


@primitive("window_sum_adjoint", method=False,
           untested="avg pooling's gradient: tested through avg_pool1d/2d second order")  # fmt: skip
def _window_sum_adjoint(grad: np.ndarray, *, window: Window) -> np.ndarray:
    """Spread each window's gradient over all of its positions (overlaps add up)."""
    lead = grad.shape[: grad.ndim - len(window.kernel)]
    padded = np.zeros(lead + window.need, dtype=grad.dtype)
    prefix = (slice(None),) * len(lead)
    for _, slices in window.offsets():
        padded[prefix + slices] += grad
    return crop_array(padded, window)


@_window_sum_adjoint.vjp
def _window_sum_adjoint_vjp(grad: Operand, window: Window, xp: Any) -> Operand:
    return xp.window_sum(grad, window=window)


def _avg_divisor(window: Window, count_include_pad: bool) -> np.ndarray:
    """PyTorch's divisor per output position: window size clipped to the padded (or real) input."""
    divisor = np.ones((), dtype=np.float64)
    for axis in range(len(window.kernel)):
        start = np.arange(window.out_size[axis]) * window.stride[axis] - window.pad[axis]
        end = np.minimum(start + window.kernel[axis], window.in_size[axis] + window.pad[axis])
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, window.in_size[axis])
        divisor = np.multiply.outer(divisor, end - start)
    return divisor


def _avg_pool(op: str, dims: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any,  # noqa: A002
              ceil_mode: bool, count_include_pad: bool, divisor_override: int | None) -> Tensor:  # fmt: skip
    _check_tensor(op, input)
    window = _pool_window(op, tuple(input.shape), dims, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if (
            isinstance(divisor_override, bool)
            or not isinstance(divisor_override, int)
            or divisor_override == 0
        ):
            raise ValueError(
                f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}"
            )
        divisor = np.full(window.out_size, float(divisor_override))
    else:
        divisor = _avg_divisor(window, count_include_pad)
    x, unbatched = _batched(input, dims)
    # A window lying wholly in the padding (ceil mode) has divisor 0 and output 0, as PyTorch.
    inverse = np.divide(1.0, divisor, out=np.zeros_like(divisor), where=divisor != 0)
    scale = Tensor._from_array(inverse.astype(input.dtype))
    return _unbatched(_window_sum(x, window=window) * scale, unbatched)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:  # fmt: skip
    """Average over sliding windows of ``(N, C, L)`` input.

    Shape: ``(N, C, L) -> (N, C, L_out)``; ``stride`` defaults to ``kernel_size``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.avg_pool1d(ag.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
        [[[2.0, 1.0]]]
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)  # fmt: skip


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:  # fmt: skip
    """Average over sliding windows of ``(N, C, H, W)`` input.

    Shape: ``(N, C, H, W) -> (N, C, H_out, W_out)``; ``stride`` defaults to ``kernel_size``.

    Args:
        count_include_pad: divide by the full window (zeros of the padding included) rather
            than by the number of real input elements in it.
        divisor_override: divide every window sum by this instead.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.avg_pool2d(ag.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
        [[[[2.5, 4.5], [10.5, 12.5]]]]
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)  # fmt: skip


def _adaptive_matrix(n_in: int, n_out: int, dtype: Any) -> Tensor:
    """``(n_out, n_in)`` averaging matrix over PyTorch's bins ``[floor(i*n/m), ceil((i+1)*n/m))``."""
    i = np.arange(n_out)
    start = (i * n_in) // n_out
    end = -((-(i + 1) * n_in) // n_out)
    positions = np.arange(n_in)
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    return Tensor._from_array((inside / (end - start)[:, None]).astype(dtype))


def _adaptive_sizes(op: str, output_size: Any, in_size: tuple) -> tuple[int, ...]:
    dims = len(in_size)
    if output_size is None or isinstance(output_size, (int, np.integer)):
        output_size = (output_size,) * dims
    if not isinstance(output_size, (tuple, list)) or len(output_size) != dims:
        raise TypeError(
            f"{op}: output_size must be an int or a tuple of {dims}, got {output_size!r}"
        )
    sizes = tuple(n if o is None else int(o) for o, n in zip(output_size, in_size))
    if any(o < 1 for o in sizes):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return sizes


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average over ``output_size`` near-equal bins of the last dim (PyTorch's bin edges).

    Shape: ``(N, C, L) -> (N, C, output_size)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.adaptive_avg_pool1d(ag.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]]), 2).tolist()
        [[[2.0, 4.0]]]
    """
    _check_tensor("adaptive_avg_pool1d", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d: expected a 2-D or 3-D input (N, C, L), got "
                           f"shape {tuple(input.shape)}")  # fmt: skip
    (length,) = _adaptive_sizes("adaptive_avg_pool1d", output_size, tuple(input.shape[-1:]))
    return input @ _adaptive_matrix(input.shape[-1], length, input.dtype).T


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average over an ``output_size`` grid of near-equal bins (PyTorch's bin edges).

    Computed as ``A_h @ x @ A_w^T`` with averaging matrices, so it is exact and composed of
    differentiable matmuls. ``None`` in ``output_size`` keeps that input size.

    Shape: ``(N, C, H, W) -> (N, C, *output_size)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.adaptive_avg_pool2d(ag.ones(2, 3, 7, 5), 1).shape
        (2, 3, 1, 1)
    """
    _check_tensor("adaptive_avg_pool2d", input)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d: expected a 3-D or 4-D input (N, C, H, W), got "
                           f"shape {tuple(input.shape)}")  # fmt: skip
    height, width = _adaptive_sizes("adaptive_avg_pool2d", output_size, tuple(input.shape[-2:]))
    rows = _adaptive_matrix(input.shape[-2], height, input.dtype)
    columns = _adaptive_matrix(input.shape[-1], width, input.dtype)
    return rows @ (input @ columns.T)


def _pool_sample(dims: int, kind: str) -> Any:
    from hypothesis import assume
    from hypothesis import strategies as st

    from autograd.domains import Domain

    from ._samples import tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        lead: tuple[int, ...] = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        if draw(st.booleans()):
            lead = lead[1:]
        if kind == "adaptive":
            size = tuple(draw(st.integers(1, 5)) for _ in range(dims))
            out = tuple(draw(st.integers(1, 4)) for _ in range(dims))
            x = tensor(draw, lead + size)
            return [x], {"output_size": out if dims > 1 else out[0]}
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
        stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
        dilation = (
            tuple(draw(st.integers(1, 2)) for _ in range(dims)) if kind == "max" else (1,) * dims
        )
        spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
        size = tuple(max(1, s - 2 * p + draw(st.integers(0, 3))) for s, p in zip(spans, padding))
        x = tensor(draw, lead + size, Domain(distinct=True) if kind == "max" else Domain())
        options: dict = dict(kernel_size=kernel, stride=stride, padding=padding,
                             ceil_mode=draw(st.booleans()))  # fmt: skip
        if kind == "max":
            options["dilation"] = dilation
            # A dilated window can fall wholly into the padding (-inf output, no gradient).
            window = _pool_window("max_pool", lead + size, dims, kernel, stride, padding,
                                  dilation, options["ceil_mode"])  # fmt: skip
            assume(np.isfinite(_max_pool_forward(np.zeros(lead + size), window)[0]).all())
        else:
            options["count_include_pad"] = draw(st.booleans())
            if dims == 2 and draw(st.integers(0, 4)) == 0:
                options["divisor_override"] = draw(st.integers(1, 5))
        return [x], options

    return draw_inputs()


# Equal values in a window: the gradient goes to the first, as PyTorch's argmax.
composite("max_pool1d", method=False, sample=lambda: _pool_sample(1, "max"),
          kinks=lambda: on_ties("max_pool1d"))(max_pool1d)  # fmt: skip
composite("max_pool2d", method=False, sample=lambda: _pool_sample(2, "max"),
          kinks=lambda: on_ties("max_pool2d"))(max_pool2d)  # fmt: skip
composite("avg_pool1d", method=False, sample=lambda: _pool_sample(1, "avg"))(avg_pool1d)
composite("avg_pool2d", method=False, sample=lambda: _pool_sample(2, "avg"))(avg_pool2d)
composite("adaptive_avg_pool1d", method=False, sample=lambda: _pool_sample(1, "adaptive"))(
    adaptive_avg_pool1d
)
composite("adaptive_avg_pool2d", method=False, sample=lambda: _pool_sample(2, "adaptive"))(
    adaptive_avg_pool2d
)


class _MaxPoolNd(Module):
    _function: Any = None

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:  # fmt: skip
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")  # fmt: skip

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        return type(self)._function(input, self.kernel_size, self.stride, self.padding,
                                    self.dilation, ceil_mode=self.ceil_mode,
                                    return_indices=self.return_indices)  # fmt: skip


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of ``(N, C, L)`` input (see ``F.max_pool1d``).

    Shape: ``(N, C, L) -> (N, C, L_out)``.

    Example:
        >>> import nn
        >>> nn.MaxPool1d(3, stride=2)
        MaxPool1d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)
    """

    _function = staticmethod(max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of ``(N, C, H, W)`` input (see ``F.max_pool2d``).

    Shape: ``(N, C, H, W) -> (N, C, H_out, W_out)``.

    Example:
        >>> import nn
        >>> nn.MaxPool2d(2)
        MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    """

    _function = staticmethod(max_pool2d)


class AvgPool1d(Module):
    """Average over sliding windows of ``(N, C, L)`` input (see ``F.avg_pool1d``).

    Shape: ``(N, C, L) -> (N, C, L_out)``.

    Example:
        >>> import nn
        >>> nn.AvgPool1d(2)
        AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:  # fmt: skip
        super().__init__()
        # PyTorch stores 1-tuples here (and prints them).
        self.kernel_size = as_tuple(kernel_size, 1, "kernel_size", "AvgPool1d")
        self.stride = as_tuple(
            stride if stride is not None else kernel_size, 1, "stride", "AvgPool1d"
        )
        self.padding = as_tuple(padding, 1, "padding", "AvgPool1d", minimum=0)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)  # fmt: skip


class AvgPool2d(Module):
    """Average over sliding windows of ``(N, C, H, W)`` input (see ``F.avg_pool2d``).

    Shape: ``(N, C, H, W) -> (N, C, H_out, W_out)``.

    Example:
        >>> import nn
        >>> nn.AvgPool2d(2)
        AvgPool2d(kernel_size=2, stride=2, padding=0)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:  # fmt: skip
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)  # fmt: skip


class AdaptiveAvgPool1d(Module):
    """Average over ``output_size`` near-equal bins (see ``F.adaptive_avg_pool1d``).

    Shape: ``(N, C, L) -> (N, C, output_size)``.

    Example:
        >>> import nn
        >>> nn.AdaptiveAvgPool1d(4)
        AdaptiveAvgPool1d(output_size=4)
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(Module):
    """Average over an ``output_size`` grid of near-equal bins (see ``F.adaptive_avg_pool2d``).

    Shape: ``(N, C, H, W) -> (N, C, *output_size)``.

    Example:
        >>> import nn
        >>> nn.AdaptiveAvgPool2d((1, 1))
        AdaptiveAvgPool2d(output_size=(1, 1))
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return adaptive_avg_pool2d(input, self.output_size)
