"""Adaptive max pooling: ``F.adaptive_max_pool1d/2d`` and ``AdaptiveMaxPool1d/2d``.

The input is cut into ``output_size`` near-equal bins with PyTorch's edges
``[floor(i*n/m), ceil((i+1)*n/m))``; every bin is gathered (``index_select``, padded to the
largest bin with ``-inf``) and reduced with ``max``, which sends the gradient to the first
maximum of each bin, as PyTorch does. A composite: no gradient rule of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
from autograd.domains import DISTINCT
from autograd.ops._samples import on_ties
from autograd.registry import composite
from autograd.tensor import Tensor

from .module import Module

__all__ = ["adaptive_max_pool1d", "adaptive_max_pool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


def _bins(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """``(n_out, k)`` source indices of every bin (padded with a valid index) and their mask."""
    i = np.arange(n_out)
    start = (i * n_in) // n_out
    end = -((-(i + 1) * n_in) // n_out)
    width = int((end - start).max()) if n_out else 0
    index = start[:, None] + np.arange(width)
    valid = index < end[:, None]
    return np.where(valid, index, start[:, None]), valid


def _sizes(op: str, output_size: Any, in_size: tuple) -> tuple[int, ...]:
    dims = len(in_size)
    if output_size is None or isinstance(output_size, (int, np.integer)):
        output_size = (output_size,) * dims
    if not isinstance(output_size, (tuple, list)) or len(output_size) != dims:
        raise TypeError(f"{op}: output_size must be an int or a tuple of {dims}, got {output_size!r}")
    sizes = tuple(n if o is None else int(o) for o, n in zip(output_size, in_size))
    if any(o < 0 for o in sizes):
        raise RuntimeError(f"{op}: output_size must be non-negative, got {output_size!r}")
    return sizes


def _adaptive_max(op: str, dims: int, input: Tensor, output_size: Any,  # noqa: A002
                  return_indices: bool) -> Any:  # fmt: skip
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(input).__name__}")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"{op}(): Expected {dims + 1}D or {dims + 2}D tensor, but got: {list(input.shape)}"
        )
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"{op}" not implemented for {input.dtype} input')
    in_size = tuple(input.shape[-dims:])
    sizes = _sizes(op, output_size, in_size)
    lead = tuple(input.shape[:-dims])
    bins = [_bins(n, m) for n, m in zip(in_size, sizes)]
    gathered = input
    for k, (index, _) in enumerate(bins):
        gathered = gathered.index_select(input.ndim - dims + k, Tensor._from_array(index.reshape(-1)))
    # (*lead, o1, k1[, o2, k2]) -> (*lead, o1[, o2], k1[ * k2]): the bin's values in row-major order.
    split = lead + tuple(n for index, _ in bins for n in index.shape)
    order = tuple(range(len(lead))) + tuple(len(lead) + 2 * k for k in range(dims))
    order += tuple(len(lead) + 2 * k + 1 for k in range(dims))
    widths = [index.shape[1] for index, _ in bins]
    windows = gathered.reshape(split).permute(order).reshape(lead + sizes + (int(np.prod(widths)),))
    valid = bins[0][1] if dims == 1 else (bins[0][1][:, None, :, None] & bins[1][1][None, :, None, :])
    valid = valid.reshape(sizes + (-1,))
    masked = ag.where(Tensor._from_array(valid), windows, float("-inf"))
    values, position = masked.max(dim=-1)
    if not return_indices:
        return values
    # The argmax as a flat index into the input plane, as PyTorch returns it.
    offsets = position.numpy()
    flat = np.zeros(offsets.shape, dtype=np.int64)
    remaining = offsets
    coordinates = []
    for k in reversed(range(dims)):
        coordinates.append(remaining % widths[k])
        remaining = remaining // widths[k]
    coordinates.reverse()
    for k, (index, _) in enumerate(bins):
        shape = [1] * dims
        shape[k] = sizes[k]
        rows = np.arange(sizes[k]).reshape(shape)
        flat = flat * in_size[k] + index[rows, coordinates[k]]
    return values, Tensor._from_array(flat)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Take the maximum over ``output_size`` near-equal bins of the last dim.

    Shape: ``(N, C, L) -> (N, C, output_size)`` (or unbatched ``(C, L)``); with
    ``return_indices`` also the argmax positions (indices into ``L``).

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.adaptive_max_pool1d(ag.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0]]]), 2).tolist()
        [[[5.0, 4.0]]]
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Take the maximum over an ``output_size`` grid of near-equal bins.

    Shape: ``(N, C, H, W) -> (N, C, *output_size)`` (or unbatched ``(C, H, W)``); ``None`` in
    ``output_size`` keeps that input size. With ``return_indices`` also the argmax positions
    (flat indices into ``H * W``).

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.adaptive_max_pool2d(ag.arange(20.0).reshape(1, 1, 4, 5), (2, 3)).tolist()
        [[[[6.0, 8.0, 9.0], [16.0, 18.0, 19.0]]]]
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def _adaptive_max_sample(dims: int) -> Any:
    from hypothesis import strategies as st

    from ._samples import tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        lead: tuple[int, ...] = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        if draw(st.booleans()):
            lead = lead[1:]
        size = tuple(draw(st.integers(1, 5)) for _ in range(dims))
        out = tuple(draw(st.integers(1, 4)) for _ in range(dims))
        x = tensor(draw, lead + size, DISTINCT)  # no ties: the argmax is unique
        return [x], {"output_size": out if dims > 1 else out[0]}

    return draw_inputs()


composite("adaptive_max_pool1d", method=False, sample=lambda: _adaptive_max_sample(1),
          kinks=lambda: on_ties("adaptive_max_pool1d"))(adaptive_max_pool1d)  # fmt: skip
composite("adaptive_max_pool2d", method=False, sample=lambda: _adaptive_max_sample(2),
          kinks=lambda: on_ties("adaptive_max_pool2d"))(adaptive_max_pool2d)  # fmt: skip


class _AdaptiveMaxPoolNd(Module):
    _function: Any = None

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        return type(self)._function(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max over ``output_size`` near-equal bins (see ``F.adaptive_max_pool1d``).

    Shape: ``(N, C, L) -> (N, C, output_size)``.

    Example:
        >>> import nn
        >>> nn.AdaptiveMaxPool1d(3, return_indices=True)
        AdaptiveMaxPool1d(output_size=3)
    """

    _function = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max over an ``output_size`` grid of near-equal bins (see ``F.adaptive_max_pool2d``).

    Shape: ``(N, C, H, W) -> (N, C, *output_size)``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.AdaptiveMaxPool2d((1, 1))(ag.randn(2, 8, 7, 5)).shape
        (2, 8, 1, 1)
    """

    _function = staticmethod(adaptive_max_pool2d)
