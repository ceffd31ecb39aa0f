"""Pooling: ``F.max_pool1d/2d``, ``F.avg_pool1d/2d``, ``F.adaptive_avg_pool1d/2d`` and their layers.

Every pool loops over the kernel offsets only (a handful), each step a vectorised NumPy op
over all windows at once. Max pooling is a primitive whose forward hands the argmax (one byte
per window) to its rule as a residual; the rule scatters the gradient to it with a primitive
whose VJP is the matching gather, so second-order gradients work. With ``graphgrad[fast]``
the max and the scatter are each one compiled pass (``nn._kernels``). Average pooling is
linear: a window-sum primitive and its adjoint.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd._typing import Operand
from autograd.backends import numba as _numba
from autograd.ops._samples import on_ties
from autograd.registry import composite, primitive
from autograd.tensor import Tensor

from . import _kernels
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


def _index_dtype(window: Window) -> type:
    """The argmax's dtype: one byte for windows of up to 255 positions."""
    return np.uint8 if math.prod(window.kernel) <= 255 else np.int64


def _tiles(window: Window) -> bool:
    """Whether the windows tile the input exactly (the usual 2x2, stride 2): each input element
    is in one window, and no padding or cut-off tail."""
    return window.trivial and window.stride == window.kernel and set(window.dilation) == {1}


def _max_pool_tiled(x: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray] | None:
    """``_max_pool_forward`` for windows that tile the input, or None if the max has a NaN.

    One transposing copy puts each kernel position's values in a contiguous block, ``(K, *lead,
    *out)``; the max and the first position equal to it are then contiguous passes (the general
    loop's strided ones are about 2x slower). A NaN max falls back to the general loop, whose
    argmax for it (the largest value before the first NaN) the compiled kernel matches.
    """
    dims = len(window.kernel)
    lead = x.shape[: x.ndim - dims]
    split = lead + tuple(v for o, k in zip(window.out_size, window.kernel) for v in (o, k))
    order = tuple(len(lead) + 2 * i + 1 for i in range(dims)) + tuple(range(len(lead))) + \
        tuple(len(lead) + 2 * i for i in range(dims))  # fmt: skip
    blocks = np.ascontiguousarray(x.reshape(split).transpose(order))
    blocks = blocks.reshape((-1,) + lead + window.out_size)
    best = np.maximum.reduce(blocks, axis=0)
    if np.isnan(best).any():
        return None
    # arg = the number of leading positions not equal to the max: the first max wins ties.
    later = blocks[0] != best
    arg = later.astype(_index_dtype(window))
    for k in range(1, len(blocks) - 1):
        np.logical_and(later, blocks[k] != best, out=later)
        arg += later
    return best, arg


def _max_pool_forward(x: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Max and argmax (flat kernel position) of every window; the first max wins ties."""
    if _tiles(window) and math.prod(window.kernel) > 1:
        tiled = _max_pool_tiled(x, window)
        if tiled is not None:
            return tiled
    padded = pad_array(x, window, fill=-np.inf)
    lead = (slice(None),) * (x.ndim - len(window.kernel))
    index_dtype = _index_dtype(window)
    offsets = window.offsets()
    _, first = next(offsets)
    best = padded[lead + first].copy()
    arg: np.ndarray = np.zeros(best.shape, dtype=index_dtype)
    for k, slices in offsets:
        values = padded[lead + slices]
        # Strictly greater, so the first maximum wins. k grows, so "set arg to k where better"
        # is a maximum: branch-free arithmetic, ~100x faster than a masked copy or np.where.
        np.maximum(arg, (values > best).view(np.uint8) * index_dtype(k), out=arg)
        np.maximum(best, values, out=best)  # also propagates NaN, as PyTorch
    return best, arg


def _select(values: np.ndarray, mask: np.ndarray, finite: bool) -> np.ndarray:
    """``where(mask, values, 0)``; a multiply when values are finite (masked selects are slow)."""
    if finite:
        return values * mask
    return np.where(mask, values, np.zeros((), dtype=values.dtype))


def _flat_indices(arg: np.ndarray, window: Window) -> np.ndarray:
    """PyTorch's ``return_indices``: the argmax as a flat index into the (unpadded) input plane."""
    positions = np.unravel_index(arg.astype(np.int64), window.kernel)
    flat = np.zeros(arg.shape, dtype=np.int64)
    dims = len(window.kernel)
    for axis in range(dims):
        shape = [1] * dims
        shape[axis] = window.out_size[axis]
        starts = (
            np.arange(window.out_size[axis]) * window.stride[axis] - window.pad[axis]
        ).reshape(shape)
        coordinate = starts + positions[axis] * window.dilation[axis]
        flat = flat * window.in_size[axis] + coordinate
    return flat


def _max_pool_values(x: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Max and argmax of every window: one compiled pass when available, else NumPy."""
    if _numba.active() and _kernels.supports(window, x.dtype):
        return _kernels.max_pool_forward(x, window, _index_dtype(window))
    return _max_pool_forward(x, window)


@primitive("max_pool", method=False, promote=False, residuals=True,
           untested="tested through max_pool1d/2d")  # fmt: skip
def _max_pool_primitive(x: np.ndarray, *, window: Window) -> tuple:
    """The max of every window; the argmax (a small integer array) goes to the rule."""
    return _max_pool_values(x, window)


@_max_pool_primitive.vjp
def _max_pool_vjp(grad: Operand, window: Window, residuals: Any, xp: Any) -> Operand:
    # The argmax is piecewise constant in x, so it serves under create_graph too.
    return xp.max_pool_scatter(grad, residuals, window=window)


@primitive("max_pool_scatter", method=False, promote=False,
           untested="max pooling's gradient: tested through max_pool1d/2d")  # fmt: skip
def _max_pool_scatter(grad: np.ndarray, arg: np.ndarray, *, window: Window) -> np.ndarray:
    """Send each window's gradient to its argmax (summing where windows overlap)."""
    if _numba.active() and _kernels.supports(window, grad.dtype):
        return _kernels.max_pool_backward(grad, arg, window)
    lead = grad.shape[: grad.ndim - len(window.kernel)]
    prefix = (slice(None),) * len(lead)
    finite = bool(np.isfinite(grad).all())
    # Windows that tile the input exactly (the usual 2x2 stride 2) write disjoint positions:
    # each kernel offset fills its strided view of an uninitialised array, no zero fill or add.
    tiles = _tiles(window)
    padded = (np.empty if tiles else np.zeros)(lead + window.need, dtype=grad.dtype)
    for k, slices in window.offsets():
        target = padded[prefix + slices]
        if tiles and finite:
            np.multiply(grad, arg == k, out=target)
        elif tiles:
            target[...] = _select(grad, arg == k, finite)
        else:
            target += _select(grad, arg == k, finite)
    return crop_array(padded, window)


@_max_pool_scatter.vjp
def _max_pool_scatter_vjp(grad: Operand, arg: Operand, window: Window, xp: Any) -> tuple:
    return xp.max_pool_gather(grad, arg, window=window), None


@primitive("max_pool_gather", method=False, promote=False,
           untested="the scatter's adjoint: tested through max_pool1d/2d second order")  # fmt: skip
def _max_pool_gather(x: np.ndarray, arg: np.ndarray, *, window: Window) -> np.ndarray:
    """Read each window's value at a given kernel position (the adjoint of the scatter)."""
    padded = pad_array(x, window)
    prefix = (slice(None),) * (x.ndim - len(window.kernel))
    out = np.zeros(arg.shape, dtype=x.dtype)
    finite = bool(np.isfinite(padded).all())
    for k, slices in window.offsets():
        out += _select(padded[prefix + slices], arg == k, finite)
    return out


@_max_pool_gather.vjp
def _max_pool_gather_vjp(grad: Operand, arg: Operand, window: Window, xp: Any) -> tuple:
    return xp.max_pool_scatter(grad, arg, window=window), None


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
