"""Convolution: ``F.conv1d``/``F.conv2d`` and the ``Conv1d``/``Conv2d`` layers.

One primitive, ``convolution(x, weight, bias)`` (``ConvolutionBackward``, as PyTorch),
convolves any number of spatial dims by im2col (a strided view, one copy) and GEMMs that write
the ``(N, C_out, *out)`` output in place, the bias added into it. The columns come in two
layouts (``_batch_first``): per sample for short columns, channels-first for long ones, where
the weight and input gradients are then single large GEMMs. The forward hands its columns to
the rule as residuals, so a training step builds them once per layer. Its two VJPs are
primitives too (the transposed convolution for the input, a correlation of input and gradient
for the weight), and the three are each other's VJPs: convolution is bilinear, so second-order
gradients are exact. With ``graphgrad[fast]`` col2im is one compiled pass (``nn._kernels``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd._typing import Operand
from autograd.backends import numba as _numba
from autograd.dtypes import torch_name
from autograd.registry import composite, primitive
from autograd.tensor import Tensor

from . import _kernels, init
from ._window import Window, as_tuple, col2im, crop_array, im2col, pad_array
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


def _padded_input(x: np.ndarray, window: Window, batch_first: bool) -> np.ndarray:
    """The zero-padded ``(N, C, *need)`` input that im2col reads.

    For the channels-first columns it is stored channel-major (memory ``(C, N, ...)``) so that
    each block of columns reads N neighbouring planes: a faster copy (about 15%).
    """
    if batch_first:
        return pad_array(x, window)
    return pad_array(x.swapaxes(0, 1), window).swapaxes(0, 1)


# Columns larger than this are not kept for the weight gradient (it rebuilds them), and are
# built a chunk of samples at a time (about _CHUNK_BYTES each): memory stays bounded for large
# batches (evaluation at batch 1000 would need hundreds of MiB), and each chunk is still in
# cache when its GEMM reads it.
_KEEP_COLUMNS_BYTES = 64 << 20
_CHUNK_BYTES = 8 << 20


def _sample_chunks(n: int, bytes_per_sample: int) -> list[slice]:
    """One slice of all samples if their columns fit ``_KEEP_COLUMNS_BYTES``, else chunks."""
    if n * bytes_per_sample <= _KEEP_COLUMNS_BYTES:
        return [slice(0, n)]
    step = max(1, _CHUNK_BYTES // max(bytes_per_sample, 1))
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def _column_bytes(x_shape: tuple, window: Window, itemsize: int) -> int:
    """Bytes of im2col columns per sample."""
    return x_shape[1] * math.prod(window.kernel) * math.prod(window.out_size) * itemsize


def _columns(x: np.ndarray, window: Window, groups: int, batch_first: bool) -> np.ndarray:
    """The im2col columns of ``x`` (``im2col``'s layouts)."""
    return im2col(_padded_input(x, window, batch_first), window, groups, batch_first)


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


def _grouped_grad(grad_out: np.ndarray, groups: int, batch_first: bool) -> np.ndarray:
    """The output gradient as GEMM operands: ``(N, G, O/G, L)`` or ``(G, O/G, N*L)``."""
    n, out_channels = grad_out.shape[:2]
    if batch_first:
        return grad_out.reshape(n, groups, out_channels // groups, -1)
    return np.moveaxis(grad_out, 1, 0).reshape(groups, out_channels // groups, -1)


def _grad_part(grads: np.ndarray, part: slice, positions: int, batch_first: bool) -> np.ndarray:
    """The grouped gradient of the samples in ``part`` (a view)."""
    if batch_first:
        return grads[part]
    return grads[:, :, part.start * positions : part.stop * positions]


def _bias_grad(grads: np.ndarray, batch_first: bool) -> np.ndarray:
    """``sum(grad_out)`` over every dim but the channels, from the grouped gradient."""
    # Products with a vector of ones (BLAS): about 3x the pairwise sums' speed.
    ones = np.ones(grads.shape[-1], dtype=grads.dtype)
    if batch_first:  # (N, G, O/G, L)
        return (grads @ ones).sum(axis=0).reshape(-1)
    return (grads @ ones).reshape(-1)  # (G, O/G, N*L): contiguous rows


def _grid_extent(window: Window) -> tuple[int, ...]:
    """Per spatial dim, the extent of one sample's cell block in the flat grid of
    ``_grid_grad``/``_col2im_on_grid`` (stride 1).

    The padded input need not be stored whole: a dim of extent ``E`` lets the window's reach
    past ``E`` wrap into the next row (or sample), which is harmless as long as both ends are
    padding that is discarded: ``E >= pad + in`` (what wraps is past the input) and
    ``need - E <= pad`` (it lands in the next row's leading padding). ``E >= out`` keeps the
    output positions apart. For padding 1 on both sides the two paddings share one cell:
    14x14 -> 15x15 instead of 16x16.
    """
    return tuple(
        max(p + n, need - p, o)
        for p, n, need, o in zip(window.pad, window.in_size, window.need, window.out_size)
    )


def _grid_pays(window: Window, out_per_group: int) -> bool:
    """Whether the input gradient is computed on the padded grid (``_col2im_on_grid``).

    Stride 1 only. The grid's GEMM is larger by the padding's share of the grid
    (``prod(extent) / prod(out) - 1``, ``_grid_extent``) times ``O/G`` multiply-adds per
    column entry, while the shifted adds it allows are about 4x cheaper than col2im's strided
    ones (short rows): it pays while that extra GEMM work stays small (about 25 at break-even,
    measured for float32; 16 leaves a margin). A 14x14 plane padded by 1 (a 15x15 grid) with
    32 output channels: 0.15 * 32 = 4.7.
    """
    if any(s != 1 for s in window.stride):
        return False
    extra = math.prod(_grid_extent(window)) / math.prod(window.out_size) - 1
    return extra * out_per_group <= 16


def _grid_grad(grads: np.ndarray, window: Window, count: int) -> np.ndarray:
    """Channels-first ``(G, O/G, count*L)`` gradients embedded in a zero ``(G, O/G, count*P)``
    grid, ``P = prod(_grid_extent)``: each output position sits where its window starts.
    """
    groups, rows = grads.shape[:2]
    extent = _grid_extent(window)
    grid = np.empty((groups, rows, count) + extent, dtype=grads.dtype)
    lead = (slice(None),) * 3
    inside = tuple(slice(0, o) for o in window.out_size)
    grid[lead + inside] = grads.reshape((groups, rows, count) + window.out_size)
    for d, (o, e) in enumerate(zip(window.out_size, extent)):
        if o < e:  # the cells past the output in dim d (within the output in dims before it)
            grid[lead + inside[:d] + (slice(o, e),)] = 0
    return grid.reshape(groups, rows, -1)


def _col2im_on_grid(cols: np.ndarray, window: Window, channels: int, count: int) -> np.ndarray:
    """col2im for stride 1 when the columns ``(G, C/G*K, count*P)`` are laid out on the grid
    (``_grid_grad``): kernel offset ``k`` then adds its row at a fixed shift of the flat
    ``(C, count*P)`` padded input, one long contiguous add per offset instead of strided rows.

    Grid positions outside the output hold ``W^T 0 = 0`` (the weight is finite); what lands
    past a row's or a sample's end wraps into padding (``_grid_extent``), which is dropped.
    Returns the input's part, a ``(C, count, *in)`` view.
    """
    size = cols.shape[-1]
    cols = cols.reshape(channels, math.prod(window.kernel), size)
    extent = _grid_extent(window)
    strides = [math.prod(extent[i + 1 :]) for i in range(len(extent))]
    shifts = [
        sum(p * d * s for p, d, s in zip(position, window.dilation, strides))
        for position in np.ndindex(*window.kernel)
    ]
    flat = np.empty((channels, size + shifts[-1]), dtype=cols.dtype)
    flat[:, :size] = cols[:, 0]  # the first offset's shift is 0, the last one's the largest
    flat[:, size:] = 0
    for k in range(1, len(shifts)):
        flat[:, shifts[k] : shifts[k] + size] += cols[:, k]
    inside = tuple(slice(p, p + n) for p, n in zip(window.pad, window.in_size))
    return flat[:, :size].reshape((channels, count) + extent)[(Ellipsis,) + inside]


def _input_grad(grads: np.ndarray, weight: np.ndarray, input_shape: tuple, window: Window,
                groups: int, batch_first: bool) -> np.ndarray:  # fmt: skip
    """The transposed convolution on arrays: ``W^T grad`` as columns, added back (col2im).

    ``grads`` is the grouped output gradient (``_grouped_grad``).
    """
    n, channels = input_shape[:2]
    out_channels = weight.shape[0]
    kernels_t = weight.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1)
    positions = math.prod(window.out_size)
    compiled = _numba.active() and _kernels.supports(window, grads.dtype)
    on_grid = not compiled and not batch_first and _grid_pays(window, out_channels // groups) \
        and bool(np.isfinite(weight).all())  # fmt: skip
    dx = (np.zeros if compiled else np.empty)(tuple(input_shape), dtype=grads.dtype)
    for part in _sample_chunks(n, _column_bytes(input_shape, window, grads.itemsize)):
        count = part.stop - part.start
        if on_grid:
            grid = _grid_grad(_grad_part(grads, part, positions, batch_first), window, count)
            inside = _col2im_on_grid(np.matmul(kernels_t, grid), window, channels, count)
            dx[part] = np.moveaxis(inside, 0, 1)
            continue
        cols = np.matmul(kernels_t, _grad_part(grads, part, positions, batch_first))
        if compiled:
            # One pass straight into the (N, C, *in) gradient: no padded buffer, crop or copy.
            _kernels.col2im_into(cols, window, dx[part], batch_first)
        elif batch_first:  # (N, G, C/G*K, L) -> (N, C, K, *out)
            padded = col2im(cols.reshape((count, channels, -1) + window.out_size), window)
            dx[part] = crop_array(padded, window)
        else:
            cols = cols.reshape((channels, -1, count) + window.out_size).swapaxes(1, 2)
            dx[part] = np.moveaxis(crop_array(col2im(cols, window), window), 0, 1)
    return dx


def _weight_grad(grads: np.ndarray, cols: np.ndarray | None, x: np.ndarray, window: Window,
                 groups: int, weight_shape: tuple, batch_first: bool) -> np.ndarray:  # fmt: skip
    """``grad @ cols^T`` per group (and per sample, summed, for batch-first columns).

    ``cols`` are the forward's columns of ``x``, or None: then they are rebuilt in chunks.
    """
    positions = math.prod(window.out_size)
    total = None
    parts = [slice(0, x.shape[0])] if cols is not None else \
        _sample_chunks(x.shape[0], _column_bytes(x.shape, window, x.itemsize))  # fmt: skip
    for part in parts:
        part_cols = cols if cols is not None else _columns(x[part], window, groups, batch_first)
        part_grads = _grad_part(grads, part, positions, batch_first)
        if batch_first:  # one (G, O/G, C/G*K) product per sample: sum them
            product = np.matmul(part_grads, np.swapaxes(part_cols, -1, -2)).sum(axis=0)
        elif part_cols.shape[1] >= part_grads.shape[1]:
            # The transposed product, (cols @ grad^T)^T: OpenBLAS is faster with the larger
            # matrix first (the CNN bench's L2, 144 x 32 over 12544: ~1110 -> ~1025 us).
            product = np.matmul(part_cols, np.swapaxes(part_grads, -1, -2)).swapaxes(-1, -2)
        else:
            product = np.matmul(part_grads, np.swapaxes(part_cols, -1, -2))
        total = product if total is None else np.add(total, product, out=total)
    assert total is not None, "a batch has at least one sample"
    return total.reshape(weight_shape)


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
