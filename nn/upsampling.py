"""Resampling: ``F.interpolate`` and ``Upsample`` (with ``UpsamplingNearest2d`` and
``UpsamplingBilinear2d``).

Each spatial dim is resampled on its own: ``nearest``/``nearest-exact`` pick source indices
(``index_select``, whose gradient adds back), ``linear``/``bilinear``/``trilinear`` multiply by
a small interpolation matrix along that dim, ``area`` is adaptive average pooling. Source
positions follow PyTorch's kernels exactly (including their float32 index arithmetic for
``nearest``), so the outputs match PyTorch's.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd.registry import composite
from autograd.tensor import Tensor

from .module import Module
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

__all__ = [
    "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "Upsample",
    "UpsamplingNearest2d", "UpsamplingBilinear2d",
]  # fmt: skip

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area", "bicubic")


def _scale(n_in: int, n_out: int, scale: float | None, dtype: Any) -> Any:
    """PyTorch's ``compute_scales_value``: ``1 / scale_factor`` if given, else ``in / out``."""
    if scale is not None and scale > 0:
        return dtype(1.0) / dtype(scale)
    return dtype(n_in) / dtype(n_out)


def _nearest_index(n_in: int, n_out: int, scale: float | None, exact: bool) -> np.ndarray:
    """Source index of each output position, in float32 arithmetic as PyTorch's kernels."""
    dst = np.arange(n_out)
    if not exact and n_out == n_in:
        return dst
    if not exact and n_out == 2 * n_in:
        return dst >> 1
    step = _scale(n_in, n_out, scale, np.float32)
    position = (dst.astype(np.float32) + np.float32(0.5 if exact else 0.0)) * step
    return np.minimum(np.floor(position).astype(np.int64), n_in - 1)


def _linear_matrix(n_in: int, n_out: int, align_corners: bool, scale: float | None,
                   dtype: np.dtype) -> np.ndarray:  # fmt: skip
    """``(n_out, n_in)`` weights of linear interpolation (PyTorch's source positions)."""
    real: Any = np.float64 if dtype == np.float64 else np.float32  # PyTorch's opmath type
    dst: Any = np.arange(n_out).astype(real)
    if align_corners:
        step = real(n_in - 1) / real(n_out - 1) if n_out > 1 else real(0)
        src = dst * step
    else:
        src = np.maximum(_scale(n_in, n_out, scale, real) * (dst + real(0.5)) - real(0.5), 0)
    low = np.minimum(src.astype(np.int64), n_in - 1)
    high = low + (low < n_in - 1)
    weight_high = src - low
    matrix = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(matrix, (rows, low), 1 - weight_high)
    np.add.at(matrix, (rows, high), weight_high)
    return matrix.astype(dtype)


def _output_size(op: str, input: Tensor, size: Any, scale_factor: Any,  # noqa: A002
                 recompute_scale_factor: bool | None) -> tuple[list[int], list | None]:  # fmt: skip
    """The output size and the scales the kernels use (None where they derive them)."""
    dims = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)):
            if len(size) != dims:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {spatial} and output size of {size}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output "
                    "size in (o1, o2, ...,oK) format."
                )
            if not all(isinstance(n, numbers.Integral) for n in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(n) for n in size]}"
                )
            return [int(n) for n in size], None
        return [int(size)] * dims, None
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dims:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {spatial} and scale_factor of shape "
                f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                "and scale_factor in (s1, s2, ...,sK) format."
            )
        factors = [float(s) for s in scale_factor]
    else:
        factors = [float(scale_factor)] * dims
    out = [int(math.floor(n * s)) for n, s in zip(spatial, factors)]
    return out, (None if recompute_scale_factor else factors)


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:  # fmt: skip
    """Resize the spatial dims to ``size`` or by ``scale_factor``.

    Modes: ``'nearest'`` and ``'nearest-exact'`` (any of 1-3 spatial dims), ``'linear'``
    (3-D input), ``'bilinear'`` (4-D), ``'trilinear'`` (5-D), each with ``align_corners``, and
    ``'area'`` (adaptive average pooling, 3-D or 4-D input).

    Shape: ``(N, C, *spatial) -> (N, C, *size)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.interpolate(ag.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
        [[[1.0, 1.0, 2.0, 2.0]]]
        >>> F.interpolate(ag.tensor([[[1.0, 2.0]]]), size=4, mode="linear", align_corners=True)
        tensor([[[1.0000, 1.3333, 1.6667, 2.0000]]])
    """
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: unknown mode {mode!r}; expected one of {_MODES}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the "
            f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if mode in _LINEAR and input.ndim != _LINEAR[mode]:
        wanted = {3: "linear", 4: "bilinear", 5: "trilinear"}[input.ndim]
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR[mode]}D input (use mode "
            f"{wanted!r} for {input.ndim}D input)"
        )
    if mode == "bicubic":
        raise NotImplementedError("interpolate: mode='bicubic' is not supported; use 'bilinear'")
    sizes, scales = _output_size("interpolate", input, size, scale_factor, recompute_scale_factor)
    if any(n < 1 for n in sizes):
        raise RuntimeError(
            f"interpolate: input and output sizes should be greater than 0, but got input "
            f"{tuple(input.shape[2:])} and output {tuple(sizes)}"
        )
    if mode == "area":
        if input.ndim == 3:
            return adaptive_avg_pool1d(input, sizes[0])
        if input.ndim == 4:
            return adaptive_avg_pool2d(input, tuple(sizes))
        raise NotImplementedError("interpolate: mode='area' supports 3-D and 4-D input only")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"interpolate: not implemented for {input.dtype} input")
    out = input
    for k, n_out in enumerate(sizes):
        axis = 2 + k
        n_in = input.shape[axis]
        scale = None if scales is None else scales[k]
        if mode in ("nearest", "nearest-exact"):
            index = _nearest_index(n_in, n_out, scale, exact=mode == "nearest-exact")
            out = out.index_select(axis, Tensor._from_array(index))
        else:
            matrix = Tensor._from_array(_linear_matrix(n_in, n_out, bool(align_corners), scale,
                                                       input.dtype))  # fmt: skip
            out = (out.transpose(axis, -1) @ matrix.T).transpose(axis, -1)
    return out


def _interpolate_sample() -> Any:
    from hypothesis import strategies as st

    from ._samples import tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "trilinear"]))
        dims = {"linear": 1, "bilinear": 2, "trilinear": 3}.get(mode, draw(st.integers(1, 3)))
        spatial = tuple(draw(st.integers(1, 3)) for _ in range(dims))
        x = tensor(draw, (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial)
        kwargs: dict = {"mode": mode}
        if draw(st.booleans()):
            kwargs["size"] = tuple(draw(st.integers(1, 5)) for _ in range(dims))
        else:
            kwargs["scale_factor"] = draw(st.sampled_from([0.5, 1.5, 2.0, 3.0]))
            if min(spatial) * kwargs["scale_factor"] < 1:
                kwargs["scale_factor"] = 2.0
        if mode in _LINEAR:
            kwargs["align_corners"] = draw(st.booleans())
        return [x], kwargs

    return draw_inputs()


composite("interpolate", method=False, sample=_interpolate_sample)(interpolate)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",  # noqa: A002
             align_corners: bool | None = None) -> Tensor:  # fmt: skip
    """Deprecated alias of ``interpolate`` (warns, as PyTorch)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)  # fmt: skip
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """Deprecated: ``interpolate(..., mode='nearest')`` (warns, as PyTorch)."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate "
                  "instead.", stacklevel=2)  # fmt: skip
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)`` (warns)."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate "
                  "instead.", stacklevel=2)  # fmt: skip
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


class Upsample(Module):
    """Resize the spatial dims (see ``F.interpolate``).

    Shape: ``(N, C, *spatial) -> (N, C, *size)`` with ``size`` given or ``floor(spatial *
    scale_factor)``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.Upsample(scale_factor=2, mode="bilinear")
        Upsample(scale_factor=2.0, mode='bilinear')
        >>> nn.Upsample(scale_factor=2)(ag.ones(1, 3, 4, 5)).shape
        (1, 3, 8, 10)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:  # fmt: skip
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor: Any = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)  # fmt: skip

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of ``(N, C, H, W)`` input (``Upsample(mode='nearest')``)."""

    def __init__(self, size: Sequence[int] | int | None = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling with ``align_corners=True`` (``Upsample(mode='bilinear', ...)``)."""

    def __init__(self, size: Sequence[int] | int | None = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
