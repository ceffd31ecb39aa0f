"""The convolution's im2col columns and gradients on arrays: the two column layouts, chunks of
samples for large batches, and the input (col2im, or shifted adds on the padded grid), weight
and bias gradients that ``nn.conv``'s primitives compute from them.
"""

from __future__ import annotations

import math

import numpy as np

from autograd.backends import numba as _numba

from . import _kernels
from ._window import Window, col2im, crop_array, im2col, pad_array


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
    # On the grid where it pays, with or without Numba: its shifted adds beat the compiled
    # col2im's strided ones too (the CNN bench's conv2: 1.56 ms against 2.28 ms).
    on_grid = not batch_first and _grid_pays(window, out_channels // groups) \
        and bool(np.isfinite(weight).all())  # fmt: skip
    compiled = not on_grid and _numba.active() and _kernels.supports(window, grads.dtype)
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
