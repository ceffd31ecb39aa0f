"""Training-mode batch norm on arrays: the fused ``native_batch_norm`` primitive, its batch
statistics and its VJP (fused passes on arrays, Tensor ops under create_graph).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd._typing import Operand
from autograd.backends import numba as _numba
from autograd.registry import primitive

from . import _kernels


def _channel_axes(ndim: int) -> tuple[int, ...]:
    return (0,) + tuple(range(2, ndim))


def _channel_view(ndim: int, channels: int) -> tuple[int, ...]:
    return (1, channels) + (1,) * (ndim - 2)


@primitive("native_batch_norm", method=False, label="batch_norm", untested="tested through batch_norm, below")
def _native_batch_norm(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, *, eps: float, mean: Any = None,
    var: Any = None,
) -> np.ndarray:  # fmt: skip
    # ``mean``/``var`` (biased) may be passed in when the caller already computed them; the
    # VJP reuses them too.
    view = _channel_view(x.ndim, x.shape[1])
    if mean is None:
        mean, var = _batch_statistics(x)
    invstd = 1.0 / np.sqrt(np.asarray(var, dtype=x.dtype) + x.dtype.type(eps))
    scale = (weight * invstd).astype(x.dtype, copy=False)
    shift = (bias - np.asarray(mean, dtype=x.dtype) * scale).astype(x.dtype, copy=False)
    if _numba.active() and _kernels.batch_norm_supports(x):
        return _kernels.channel_affine(x, scale, shift)  # one pass
    out = x * scale.reshape(view)
    out += shift.reshape(view)  # in place: one array for the output, not two
    return out


def _accumulator(dtype: np.dtype) -> np.dtype:
    """The dtype to sum in: float32 for half precision (float16 sums overflow at 65504)."""
    return np.dtype(np.float32) if dtype.itemsize < 4 else dtype


def _per_channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum(a * b)`` over every dim but dim 1, in one pass without a temporary."""
    letters = "abcdefghij"[: a.ndim]
    return np.einsum(f"{letters},{letters}->b", a, b, dtype=_accumulator(a.dtype))


def _batch_statistics(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and biased variance, in three passes (mean, centre, sum of squares)."""
    if _numba.active() and _kernels.batch_norm_supports(x):
        return _kernels.channel_moments(x)  # two passes, no temporary, float64 sums
    axes = _channel_axes(x.ndim)
    mean = x.mean(axis=axes)
    centered = x - mean.reshape(_channel_view(x.ndim, x.shape[1]))
    var = _per_channel_dot(centered, centered) / (x.size // x.shape[1])
    return mean, var.astype(x.dtype, copy=False)


@_native_batch_norm.vjp
def _native_batch_norm_vjp(
    grad: Operand, x: Operand, weight: Operand, eps: float, mean: Any, var: Any,
    needs_input_grad: tuple, xp: Any,
) -> tuple:  # fmt: skip
    axes = _channel_axes(x.ndim)
    view = _channel_view(x.ndim, x.shape[1])
    count = math.prod(x.shape) // x.shape[1]
    if not xp.is_tensor:
        # On arrays the formula below runs fused, in seven passes, reusing the forward's batch
        # statistics; under create_graph the statistics are recomputed on the graph, since
        # second derivatives go through them.
        return _batch_norm_backward_arrays(grad, x, weight, eps, needs_input_grad, mean, var)  # type: ignore[arg-type]
    centered = x - xp.sum(x, dim=axes, keepdim=True) / count
    invstd = xp.rsqrt(xp.sum(centered * centered, dim=axes, keepdim=True) / count + eps)
    normalized = centered * invstd
    grad_sum = xp.sum(grad, dim=axes, keepdim=True)
    grad_dot = xp.sum(grad * normalized, dim=axes, keepdim=True)
    grad_x = None
    if needs_input_grad[0]:
        # d/dx of (x - mean) * invstd, contracted with grad: the two batch-statistic terms.
        grad_x = (weight.reshape(view) * invstd) * (
            grad - grad_sum / count - normalized * (grad_dot / count)
        )
    grad_weight = grad_dot.reshape(-1) if needs_input_grad[1] else None
    grad_bias = grad_sum.reshape(-1) if needs_input_grad[2] else None
    return grad_x, grad_weight, grad_bias


def _batch_norm_backward_arrays(
    grad: np.ndarray, x: np.ndarray, weight: np.ndarray, eps: float, needs_input_grad: tuple,
    mean: Any = None, var: Any = None,
) -> tuple:  # fmt: skip
    """The batch-norm VJP on arrays: grad_x = a * grad - b * centered - c per channel.

    Seven passes over the data (centre, two sums, four in-place updates); ``mean``/``var``
    are the forward's statistics, recomputed when not given.
    """
    axes = _channel_axes(x.ndim)
    view = _channel_view(x.ndim, x.shape[1])
    count = x.size // x.shape[1]
    dtype = x.dtype
    if mean is None or var is None:
        mean, var = _batch_statistics(x)
    if _numba.active() and _kernels.batch_norm_supports(x):
        return _kernels.batch_norm_backward(grad, x, weight, mean, var, eps, needs_input_grad)
    centered = x - np.asarray(mean, dtype=dtype).reshape(view)
    invstd = 1.0 / np.sqrt(np.asarray(var, dtype=dtype) + dtype.type(eps))
    grad_sum = grad.sum(axis=axes, dtype=_accumulator(dtype))
    grad_dot = _per_channel_dot(grad, centered) * invstd  # sum(grad * normalized)
    grad_x = None
    if needs_input_grad[0]:
        scale = weight * invstd
        grad_x = grad * scale.reshape(view).astype(dtype, copy=False)
        centered *= (scale * invstd * grad_dot / count).reshape(view).astype(dtype, copy=False)
        grad_x -= centered
        grad_x -= (scale * grad_sum / count).reshape(view).astype(dtype, copy=False)
    grad_weight = grad_dot.astype(dtype) if needs_input_grad[1] else None
    grad_bias = grad_sum.astype(dtype) if needs_input_grad[2] else None
    return grad_x, grad_weight, grad_bias
