"""Sliding blocks: ``F.unfold``/``Unfold`` (im2col) and ``F.fold``/``Fold`` (col2im).

The two are a pair of linear primitives, each the other's VJP, built on the window helpers
that convolution uses (``nn/_window.py``): gradients of any order are exact.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd._typing import Operand
from autograd.registry import composite, primitive
from autograd.tensor import Tensor

from ._window import Window, as_tuple, col2im, crop_array, im2col, pad_array
from .module import Module

__all__ = ["unfold", "fold", "Unfold", "Fold"]


def _window(op: str, in_size: tuple, kernel_size: Any, dilation: Any, padding: Any,
            stride: Any) -> Window:  # fmt: skip
    """The geometry of 2-D sliding blocks over a ``in_size`` plane (PyTorch's checks)."""
    kernel = as_tuple(kernel_size, 2, "kernel_size", op)
    dilations = as_tuple(dilation, 2, "dilation", op)
    pads = as_tuple(padding, 2, "padding", op, minimum=0)
    strides = as_tuple(stride, 2, "stride", op)
    blocks = tuple(
        (n + 2 * p - (d * (k - 1) + 1)) // s + 1
        for n, p, d, k, s in zip(in_size, pads, dilations, kernel, strides)
    )
    if any(b < 1 for b in blocks):
        raise RuntimeError(
            f"{op}: Given input with spatial size {tuple(in_size)}, kernel_size={kernel}, "
            f"dilation={dilations}, padding={pads}, calculated shape of the array of sliding "
            f"blocks as {blocks}, but its components must be at least one."
        )
    return Window(kernel, strides, dilations, pads, tuple(in_size), blocks)


@primitive("im2col", method=False, untested="tested through unfold/fold")
def _im2col(x: np.ndarray, *, window: Window) -> np.ndarray:
    """``(N, C, H, W) -> (N, C * kH * kW, L)``: every block as a column."""
    cols = im2col(pad_array(x, window), window, groups=1, batch_first=True)
    return np.ascontiguousarray(cols.reshape(x.shape[0], -1, cols.shape[-1]))


@_im2col.vjp
def _im2col_vjp(grad: Operand, window: Window, xp: Any) -> Operand:
    return xp.col2im(grad, window=window)


@primitive("col2im", method=False, untested="tested through unfold/fold")
def _col2im(cols: np.ndarray, *, window: Window) -> np.ndarray:
    """``(N, C * kH * kW, L) -> (N, C, H, W)``: blocks added back where they came from."""
    n, rows = cols.shape[:2]
    channels = rows // math.prod(window.kernel)
    blocks = cols.reshape((n, channels, math.prod(window.kernel)) + window.out_size)
    return np.ascontiguousarray(crop_array(col2im(blocks, window), window))


@_col2im.vjp
def _col2im_vjp(grad: Operand, window: Window, xp: Any) -> Operand:
    return xp.im2col(grad, window=window)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Tensor:  # fmt: skip
    """Extract sliding ``kernel_size`` blocks as columns (im2col).

    Shape: ``(N, C, H, W) -> (N, C * kH * kW, L)`` (or unbatched ``(C, H, W)``), ``L`` the
    number of blocks; each column lists channel by channel the block's values in row-major order.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.unfold(ag.arange(9.0).reshape(1, 1, 3, 3), 2).tolist()
        [[[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]]
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"unfold: Expected 3D (unbatched) or 4D (batched) input to im2col, but got input of "
            f"shape {tuple(input.shape)}; only 4-D (N, C, H, W) inputs are supported"
        )
    unbatched = input.ndim == 3
    x = input.reshape((1,) + tuple(input.shape)) if unbatched else input
    window = _window("unfold", tuple(x.shape[2:]), kernel_size, dilation, padding, stride)
    out = _im2col(x, window=window)
    return out.reshape(tuple(out.shape[1:])) if unbatched else out


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
         padding: Any = 0, stride: Any = 1) -> Tensor:  # fmt: skip
    """Add sliding blocks (columns) back into an image (col2im); overlaps are summed.

    Shape: ``(N, C * kH * kW, L) -> (N, C, *output_size)`` (or unbatched
    ``(C * kH * kW, L)``). ``fold(unfold(x))`` multiplies each pixel by the number of blocks
    that cover it.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.fold(ag.ones(1, 4, 4), (3, 3), 2).tolist()
        [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(
            "fold: Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size "
            f"and non-zero dimensions for input, but got: {list(input.shape)}"
        )
    unbatched = input.ndim == 2
    x = input.reshape((1,) + tuple(input.shape)) if unbatched else input
    size = as_tuple(output_size, 2, "output_size", "fold")
    window = _window("fold", size, kernel_size, dilation, padding, stride)
    per_block = math.prod(window.kernel)
    if x.shape[1] % per_block:
        raise RuntimeError(
            "fold: Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={x.shape[1]} and kernel_size={window.kernel}."
        )
    blocks = math.prod(window.out_size)
    if x.shape[2] != blocks:
        raise RuntimeError(
            f"fold: Given output_size={size}, kernel_size={window.kernel}, dilation="
            f"{window.dilation}, padding={window.pad}, stride={window.stride}, expected size of "
            f"input's dimension 2 to match the calculated number of sliding blocks "
            f"{window.out_size[0]} * {window.out_size[1]} = {blocks}, but got "
            f"input.size(2)={x.shape[2]}."
        )
    out = _col2im(x, window=window)
    return out.reshape(tuple(out.shape[1:])) if unbatched else out


def _fold_sample(kind: str) -> Any:
    from hypothesis import strategies as st

    from ._samples import tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        kernel = tuple(draw(st.integers(1, 2)) for _ in range(2))
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(2))
        padding = tuple(draw(st.integers(0, 1)) for _ in range(2))
        stride = tuple(draw(st.integers(1, 2)) for _ in range(2))
        size = tuple(
            max(1, d * (k - 1) + 1 - 2 * p + draw(st.integers(0, 2)))
            for k, d, p in zip(kernel, dilation, padding)
        )
        channels, batch = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        options = dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)
        if kind == "unfold":
            return [tensor(draw, (batch, channels) + size)], options
        window = _window("fold", size, kernel, dilation, padding, stride)
        cols = tensor(draw, (batch, channels * math.prod(kernel), math.prod(window.out_size)))
        return [cols], dict(output_size=size, **options)

    return draw_inputs()


composite("unfold", method=False, sample=lambda: _fold_sample("unfold"))(unfold)
composite("fold", method=False, sample=lambda: _fold_sample("fold"))(fold)


class Unfold(Module):
    """Extract sliding blocks as columns (see ``F.unfold``).

    Shape: ``(N, C, H, W) -> (N, C * prod(kernel_size), L)``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.Unfold(kernel_size=(2, 3))(ag.randn(2, 5, 3, 4)).shape
        (2, 30, 4)
    """

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")  # fmt: skip


class Fold(Module):
    """Add sliding blocks back into an image (see ``F.fold``).

    Shape: ``(N, C * prod(kernel_size), L) -> (N, C, *output_size)``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(ag.randn(1, 12, 12)).shape
        (1, 3, 4, 5)
    """

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:  # fmt: skip
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)  # fmt: skip

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")  # fmt: skip
