"""Normalisation: ``F.batch_norm``/``BatchNorm1d``/``BatchNorm2d``, ``F.layer_norm``/``LayerNorm``,
``F.group_norm``/``GroupNorm`` and ``F.normalize``.

Training-mode batch norm (``nn._batch_norm``) and layer norm are fused primitives (one NumPy
pass forward); their VJPs are written in Tensor ops (recomputing the statistics from the
input), so second-order gradients work.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd as ag
from autograd._typing import Operand
from autograd.domains import POSITIVE, Domain
from autograd.grad_mode import no_grad
from autograd.registry import composite, primitive
from autograd.tensor import Tensor

from . import init
from ._batch_norm import _batch_statistics, _channel_view, _native_batch_norm
from ._samples import side, tensor
from .module import Module, Parameter

__all__ = [
    "batch_norm", "layer_norm", "group_norm", "normalize", "BatchNorm1d", "BatchNorm2d",
    "LayerNorm", "GroupNorm",
]  # fmt: skip


def _batch_norm_sample() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        ndim = draw(st.integers(2, 4))
        channels = side(draw)
        shape = (side(draw, 2, 3), channels) + tuple(side(draw) for _ in range(ndim - 2))
        x = tensor(draw, shape)
        training = draw(st.booleans())
        affine = draw(st.booleans())
        weight = tensor(draw, (channels,)) if affine else None
        bias = tensor(draw, (channels,)) if affine else None
        if training and draw(st.booleans()):
            running_mean = running_var = None
        else:
            running_mean = tensor(draw, (channels,), requires_grad=False)
            running_var = tensor(draw, (channels,), POSITIVE, requires_grad=False)
        return [x, running_mean, running_var, weight, bias, training], {"eps": 1e-3}

    return draw_inputs()


def _check_channels(op: str, input: Tensor, channels: int, what: str) -> None:  # noqa: A002
    if input.ndim < 2 or input.shape[1] != channels:
        got = f"{input.shape[1]} channels" if input.ndim >= 2 else "no channel dim"
        raise RuntimeError(
            f"{op}: input has {got} (dim 1) but {what} has {channels} "
            f"(input {tuple(input.shape)})"
        )


@composite("batch_norm", method=False, sample=_batch_norm_sample)
def batch_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dim 1) by batch statistics (training) or running ones (eval).

    In training the batch is normalised with its biased variance, and ``running_mean`` /
    ``running_var`` (if given) are updated in place with ``momentum`` and the unbiased
    variance, as in PyTorch.

    Shape: ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)`` (any trailing dims) ``-> same``.
    """
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected an input with a batch and a channel dim, got shape "
            f"{tuple(input.shape)}"
        )
    channels = input.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):  # fmt: skip
        if value is not None:
            _check_channels("batch_norm", input, value.numel(), name)
    if training:
        count = input.numel() // channels
        if count <= 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input size "
                f"{tuple(input.shape)}"
            )
        mean, var = _batch_statistics(input._data)
        if running_mean is not None or running_var is not None:
            with no_grad():
                if running_mean is not None:
                    updated = (1 - momentum) * running_mean._data + momentum * mean
                    running_mean.copy_(Tensor._from_array(updated))
                if running_var is not None:
                    unbiased = var * (count / (count - 1))
                    updated = (1 - momentum) * running_var._data + momentum * unbiased
                    running_var.copy_(Tensor._from_array(updated))
        ones = weight if weight is not None else Tensor._from_array(np.ones(channels, input.dtype))
        zeros = bias if bias is not None else Tensor._from_array(np.zeros(channels, input.dtype))
        return _native_batch_norm(input, ones, zeros, eps=eps, mean=mean, var=var)
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be given when training=False")
    # Evaluation: a fixed per-channel affine map, x * scale + shift.
    view = _channel_view(input.ndim, channels)
    scale = (running_var.detach() + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean.detach() * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.to(input.dtype).reshape(view) + shift.to(input.dtype).reshape(view)


class _BatchNorm(Module):
    _expected_dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:  # fmt: skip
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(ag.empty(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(ag.empty(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", ag.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ag.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", ag.tensor(0, dtype=ag.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Reset the running mean to 0, the variance to 1 and the batch count to 0."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, and the affine weight/bias to ones/zeros."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.ndim not in self._expected_dims:
            wanted = " or ".join(f"{d}D" for d in self._expected_dims)
            raise ValueError(
                f"{type(self).__name__}: expected {wanted} input (got {input.ndim}D input of "
                f"shape {tuple(input.shape)})"
            )
        if input.shape[1] != self.num_features:
            raise RuntimeError(
                f"{type(self).__name__}({self.num_features}): expected input with "
                f"{self.num_features} channels in dim 1, got input of shape {tuple(input.shape)}"
            )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over a 2-D or 3-D input.

    Shape: ``(N, C) -> (N, C)`` or ``(N, C, L) -> (N, C, L)``.

    Example:
        >>> import autograd as ag, nn
        >>> bn = nn.BatchNorm1d(3)
        >>> y = bn(ag.randn(8, 3)); bn.num_batches_tracked
        tensor(1)
    """

    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over a 4-D input.  Shape: ``(N, C, H, W) -> (N, C, H, W)``."""

    _expected_dims = (4,)


@primitive("native_layer_norm", method=False, label="layer_norm", untested="tested through layer_norm, below")
def _native_layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, *, dims: int,
                       eps: float) -> np.ndarray:  # fmt: skip
    axes = tuple(range(x.ndim - dims, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True)
    out = centered * (1.0 / np.sqrt(var + x.dtype.type(eps))).astype(x.dtype, copy=False)
    return out * weight + bias


@_native_layer_norm.vjp
def _native_layer_norm_vjp(grad: Operand, x: Operand, weight: Operand, dims: int, eps: float,
                           needs_input_grad: tuple, xp: Any) -> tuple:  # fmt: skip
    axes = tuple(range(x.ndim - dims, x.ndim))
    count = math.prod(x.shape[x.ndim - dims :])
    centered = x - xp.sum(x, dim=axes, keepdim=True) / count
    invstd = xp.rsqrt(xp.sum(centered * centered, dim=axes, keepdim=True) / count + eps)
    normalized = centered * invstd
    grad_x = None
    if needs_input_grad[0]:
        grad_normalized = grad * weight
        grad_x = invstd * (
            grad_normalized
            - xp.sum(grad_normalized, dim=axes, keepdim=True) / count
            - normalized * (xp.sum(grad_normalized * normalized, dim=axes, keepdim=True) / count)
        )
    # Full-shape gradients: the engine sums them back to the weight/bias shape.
    grad_weight = grad * normalized if needs_input_grad[1] else None
    grad_bias = grad if needs_input_grad[2] else None
    return grad_x, grad_weight, grad_bias


def _layer_norm_sample() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
        normalized = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
        if int(np.prod(normalized)) == 1:
            normalized = normalized[:-1] + (2,)
        x = tensor(draw, lead + normalized)
        affine = draw(st.booleans())
        weight = tensor(draw, normalized) if affine else None
        bias = tensor(draw, normalized) if affine and draw(st.booleans()) else None
        return [x, normalized, weight, bias], {"eps": 1e-3}

    return draw_inputs()


@composite("layer_norm", method=False, sample=_layer_norm_sample)
def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims, then scale and shift.

    Shape: ``(*, *normalized_shape) -> same``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.layer_norm(ag.tensor([[1.0, 3.0]]), (2,))
        tensor([[-1.0000,  1.0000]])
    """
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(normalized_shape)
    dims = len(normalized_shape)
    if dims == 0 or input.ndim < dims or tuple(input.shape[input.ndim - dims :]) != normalized_shape:
        raise RuntimeError(
            f"layer_norm: expected input with shape (*, {', '.join(map(str, normalized_shape))}) "
            f"for normalized_shape {normalized_shape}, got input of shape {tuple(input.shape)}"
        )
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != normalized_shape:
            raise RuntimeError(
                f"layer_norm: {name} of shape {tuple(value.shape)} does not match "
                f"normalized_shape {normalized_shape}"
            )
    ones = weight if weight is not None else Tensor._from_array(np.ones(normalized_shape, input.dtype))
    zeros = bias if bias is not None else Tensor._from_array(np.zeros(normalized_shape, input.dtype))
    return _native_layer_norm(input, ones, zeros, dims=dims, eps=eps)


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` dims.

    Shape: ``(*, *normalized_shape) -> same``.
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(normalized_shape)  # type: ignore[arg-type]
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ag.empty(*self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(ag.empty(*self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Set the weight to ones and the bias to zeros."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


def _group_norm_sample() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        groups = side(draw, 1, 2)
        channels = groups * side(draw, 1, 2)
        spatial = tuple(side(draw) for _ in range(draw(st.integers(0, 2))))
        if channels // groups * math.prod(spatial) == 1:
            spatial = spatial + (2,)
        x = tensor(draw, (side(draw, 1, 2), channels) + spatial)
        affine = draw(st.booleans())
        weight = tensor(draw, (channels,)) if affine else None
        bias = tensor(draw, (channels,)) if affine and draw(st.booleans()) else None
        return [x, groups, weight, bias], {"eps": 1e-3}

    return draw_inputs()


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:  # fmt: skip
    """Normalise each group of ``C / num_groups`` channels (with all their positions), then
    scale and shift per channel.

    Shape: ``(N, C, *) -> (N, C, *)``; weight and bias ``(C,)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.group_norm(ag.tensor([[1.0, 3.0, 5.0, 9.0]]), 2)
        tensor([[-1.0000,  1.0000, -1.0000,  1.0000]])
    """
    if input.ndim < 2:
        raise RuntimeError(
            f"group_norm: Expected at least 2 dimensions for input tensor but received {input.ndim}"
        )
    batch, channels = input.shape[:2]
    if channels % num_groups:
        raise RuntimeError(
            "group_norm: Expected number of channels in input to be divisible by num_groups, but "
            f"got input of shape {list(input.shape)} and num_groups={num_groups}"
        )
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != (channels,):
            raise RuntimeError(
                f"group_norm: Expected {name} to be a vector of size equal to the number of "
                f"channels in input, but got {name} of shape {list(value.shape)} and input of "
                f"shape {list(input.shape)}"
            )
    spatial = tuple(input.shape[2:])
    per_group = channels // num_groups * math.prod(spatial)
    if per_group == 1:
        size = [batch * channels // num_groups, num_groups, *spatial]
        raise ValueError(
            f"group_norm: Expected more than 1 value per channel when training, got input size {size}"
        )
    # Each (sample, group) is one row: layer norm over it, then the per-channel affine map.
    grouped = input.reshape(batch, num_groups, per_group)
    out = layer_norm(grouped, (per_group,), eps=eps).reshape(tuple(input.shape))
    view = _channel_view(input.ndim, channels)
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return out


composite("group_norm", method=False, sample=_group_norm_sample)(group_norm)


class GroupNorm(Module):
    """Group normalisation: statistics over groups of channels, per sample (batch-independent).

    ``weight`` (ones) and ``bias`` (zeros) are per channel. Shape: ``(N, C, *) -> same``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.GroupNorm(2, 6)
        GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)
        >>> nn.GroupNorm(2, 6)(ag.randn(4, 6, 5)).shape
        (4, 6, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:  # fmt: skip
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(
                f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(ag.empty(num_channels, dtype=dtype))
            if bias:
                self.bias = Parameter(ag.empty(num_channels, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Set the weight to ones and the bias to zeros."""
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


def normalize(input: Tensor, p: float = 2.0, dim: int | tuple[int, ...] = 1,  # noqa: A002
              eps: float = 1e-12, out: Tensor | None = None) -> Tensor:  # fmt: skip
    """Divide by the ``p``-norm along ``dim``, at least ``eps``: ``x / max(||x||_p, eps)``.

    Shape: any; ``dim`` is an int or a tuple of dims.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.normalize(ag.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    norm = input.norm(p=p, dim=dim, keepdim=True).clamp(min=eps)
    result = input / norm
    if out is not None:
        with no_grad():
            out.copy_(result)
        return out
    return result


def _normalize_sample() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        shape = tuple(side(draw) for _ in range(draw(st.integers(1, 3))))
        # Away from 0, where the norm (and so the gradient) has a kink.
        x = tensor(draw, shape, Domain(away_from=(0.0,)))
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        return [x], {"p": draw(st.sampled_from([2.0, 1.0, 3.0])), "dim": dim}

    return draw_inputs()


composite("normalize", method=False, sample=_normalize_sample)(normalize)
