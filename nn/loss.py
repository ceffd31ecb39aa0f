"""Losses: the ``F.*_loss`` functions and their ``*Loss`` modules, with PyTorch's semantics.

Every loss supports ``reduction='mean'|'sum'|'none'``. Class-index losses work on
``log_softmax`` (stable for logits of any size), BCE-with-logits on a softplus form, and
``binary_cross_entropy`` clamps its logs at -100 and uses PyTorch's gradient formula.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

import autograd as ag
from autograd._typing import Operand
from autograd.registry import composite, primitive
from autograd.tensor import Tensor

from ._loss_samples import loss_sample
from .module import Module

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "KLDivLoss",
]  # fmt: skip

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op: str, reduction: str, allowed: tuple = _REDUCTIONS) -> None:
    if reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed)
        raise ValueError(
            f"{op}: {reduction!r} is not a valid value for reduction; use one of {choices}"
        )


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def _as_tensor(op: str, name: str, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, list, tuple, float, int)):
        return ag.tensor(value)
    raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")


def _check_float(op: str, name: str, t: Tensor) -> None:
    if t.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point {name}, got dtype {t.dtype} "
                           f"(shape {tuple(t.shape)})")  # fmt: skip


def _pointwise_inputs(op: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:  # noqa: A002
    """Check the pair of a regression loss; warn about broadcasting as PyTorch does."""
    input, target = _as_tensor(op, "input", input), _as_tensor(op, "target", target)
    _check_float(op, "input", input)
    if target.dtype.kind not in "fiub":
        raise RuntimeError(f"{op}: unsupported target dtype {target.dtype}")
    if tuple(input.shape) != tuple(target.shape):
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise RuntimeError(f"{op}: input {tuple(input.shape)} and target {tuple(target.shape)} "
                               "have different, non-broadcastable shapes") from None  # fmt: skip
        warnings.warn(
            f"{op}: using a target size {tuple(target.shape)} that is different from the input "
            f"size {tuple(input.shape)}; this will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
    if target.dtype.kind != "f":
        target = target.to(input.dtype)
    return input, target


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error ``(input - target)^2``.

    Shape: input and target ``(*)`` (same shape); output scalar, or ``(*)`` for ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.mse_loss(ag.tensor([1.0, 2.0]), ag.tensor([0.0, 0.0])).item()
        2.5
    """
    _check_reduction("mse_loss", reduction)
    input, target = _pointwise_inputs("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean absolute error ``|input - target|`` (subgradient 0 where they are equal).

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.l1_loss(ag.tensor([1.0, -2.0]), ag.tensor([0.0, 0.0])).item()
        1.5
    """
    _check_reduction("l1_loss", reduction)
    input, target = _pointwise_inputs("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0
) -> Tensor:  # noqa: A002
    """Quadratic ``0.5 d^2 / beta`` for ``|d| < beta``, else linear ``|d| - 0.5 beta``.

    ``beta=0`` is the L1 loss, as in PyTorch.

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.smooth_l1_loss(ag.tensor([0.5, 3.0]), ag.tensor([0.0, 0.0]), reduction="sum").item()
        2.625
    """
    _check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target = _pointwise_inputs("smooth_l1_loss", input, target)
    if beta == 0:
        return _reduce((input - target).abs(), reduction)
    distance = (input - target).abs()
    loss = ag.where(distance < beta, 0.5 * distance * distance / beta, distance - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0
) -> Tensor:  # noqa: A002
    """Quadratic ``0.5 d^2`` for ``|d| < delta``, else ``delta (|d| - 0.5 delta)``.

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.huber_loss(ag.tensor([0.5, 3.0]), ag.tensor([0.0, 0.0]), delta=2.0, reduction="none").tolist()
        [0.125, 4.0]
    """
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _pointwise_inputs("huber_loss", input, target)
    distance = (input - target).abs()
    loss = ag.where(distance < delta, 0.5 * distance * distance, delta * (distance - 0.5 * delta))
    return _reduce(loss, reduction)


def _class_dim(op: str, input: Tensor) -> int:
    if input.ndim == 0:
        raise RuntimeError(f"{op}: input must have a class dim: (C,), (N, C) or (N, C, d1, ...); "
                           "got a 0-d tensor")  # fmt: skip
    return 0 if input.ndim == 1 else 1


def _class_targets(op: str, input: Tensor, target: Tensor, weight: Tensor | None,
                   ignore_index: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Validate class-index targets; return them with ignored entries set to 0, and the mask."""
    class_dim = _class_dim(op, input)
    classes = input.shape[class_dim]
    expected = tuple(input.shape[:class_dim]) + tuple(input.shape[class_dim + 1 :])
    if target.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: class-index targets must be an integer (int64) tensor, got dtype {target.dtype} "
            f"(input {tuple(input.shape)}, target {tuple(target.shape)}); for class probabilities "
            f"pass a float target of the input's shape"
        )
    batch = target.shape[0] if target.ndim else 0
    if class_dim == 1 and batch != input.shape[0]:
        raise ValueError(  # a ValueError for the batch size, as PyTorch
            f"{op}: expected input batch_size ({input.shape[0]}) to match target batch_size "
            f"({batch}) (input {tuple(input.shape)}, target {tuple(target.shape)})"
        )
    if class_dim == 0 and target.ndim:
        raise ValueError(f"{op}: for an unbatched (C,) input the target must be 0-d, got "
                         f"shape {tuple(target.shape)}")  # fmt: skip
    if tuple(target.shape) != expected:
        raise RuntimeError(
            f"{op}: expected target of shape {expected} for input of shape {tuple(input.shape)} "
            f"(the input without its class dim {class_dim}), got target of shape "
            f"{tuple(target.shape)}"
        )
    if weight is not None and tuple(weight.shape) != (classes,):
        raise RuntimeError(f"{op}: weight must have shape ({classes},), one value per class, got "
                           f"{tuple(weight.shape)}")  # fmt: skip
    labels = target._data.astype(np.int64, copy=False)
    ignored = labels == ignore_index
    bad = ~ignored & ((labels < 0) | (labels >= classes))
    if bad.any():
        raise IndexError(
            f"{op}: target {int(labels[bad].flat[0])} is out of bounds for {classes} classes "
            f"(input {tuple(input.shape)}, target {tuple(target.shape)}); class indices must be "
            f"in [0, {classes}) or equal ignore_index={ignore_index}"
        )
    return np.where(ignored, 0, labels), ignored


def _target_weights(
    weight: Tensor | None, safe: np.ndarray, ignored: np.ndarray, dtype: Any
) -> Tensor:
    """Each target's class weight (0 where ignored): the numerators' and the mean's weights."""
    keep = Tensor._from_array((~ignored).astype(dtype))
    if weight is None:
        return keep
    return weight[safe] * keep


def _nll(op: str, log_probs: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
         reduction: str) -> Tensor:  # fmt: skip
    safe, ignored = _class_targets(op, log_probs, target, weight, ignore_index)
    class_dim = _class_dim(op, log_probs)
    index = Tensor._from_array(np.expand_dims(safe, class_dim))
    picked = log_probs.gather(class_dim, index).squeeze(class_dim)
    weights = _target_weights(weight, safe, ignored, log_probs.dtype)
    loss = -picked * weights
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    # Weighted mean: divide by the total weight of the (non-ignored) targets, as PyTorch.
    return _weighted_mean(loss.sum(), weights)


def _weighted_mean(total: Tensor, weights: Tensor) -> Tensor:
    """``total / weights.sum()``; with no weight at all (every target ignored) the value is nan
    and the gradient 0, as PyTorch."""
    if not weights._data.any():
        return total * 0.0 + float("nan")
    return total / weights.sum()


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:  # fmt: skip
    """Negative log-likelihood of class indices, given log-probabilities.

    ``loss_i = -weight[t_i] * input[i, t_i]``; ``'mean'`` divides by the sum of the targets'
    weights; targets equal to ``ignore_index`` contribute nothing.

    Shape: input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``; target ``(N,)``, ``()`` or
    ``(N, d1, ...)`` int64; output scalar, or the target's shape for ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.nll_loss(ag.tensor([[-1.0, -2.0], [-3.0, -4.0]]), ag.tensor([1, 0])).item()
        2.5
    """
    _check_reduction("nll_loss", reduction)
    input, target = _as_tensor("nll_loss", "input", input), _as_tensor("nll_loss", "target", target)
    _check_float("nll_loss", "input", input)
    return _nll("nll_loss", input, target, weight, ignore_index, reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:  # fmt: skip
    """Cross-entropy between logits and class indices or class probabilities.

    Class-index targets (int64, the input's shape without dim 1) support ``weight``,
    ``ignore_index`` and ``label_smoothing``; float targets of the input's shape are class
    probabilities (``'mean'`` then divides by the number of samples). Computed from
    ``log_softmax``, so logits of magnitude 1e4 give finite values and gradients.

    Shape: input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``; output scalar, or per sample for
    ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> round(F.cross_entropy(ag.tensor([[2.0, 0.0], [0.0, 2.0]]), ag.tensor([0, 1])).item(), 4)
        0.1269
    """
    op = "cross_entropy"
    _check_reduction(op, reduction)
    input, target = _as_tensor(op, "input", input), _as_tensor(op, "target", target)
    _check_float(op, "input", input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    class_dim = _class_dim(op, input)
    classes = input.shape[class_dim]
    log_probs = input.log_softmax(dim=class_dim)
    weight_shape = (classes,) + (1,) * (input.ndim - class_dim - 1)
    if target.dtype.kind == "f":
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(
                f"{op}: float targets are class probabilities and must have the input's shape "
                f"{tuple(input.shape)}, got {tuple(target.shape)}; class indices must be int64"
            )
        if weight is not None and tuple(weight.shape) != (classes,):
            raise RuntimeError(
                f"{op}: weight must have shape ({classes},), got {tuple(weight.shape)}"
            )
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        terms = log_probs * target
        if weight is not None:
            terms = terms * weight.reshape(weight_shape)
        per_sample = -terms.sum(dim=class_dim)
        if reduction == "mean":
            return per_sample.sum() / max(1, input.numel() // max(classes, 1))
        return _reduce(per_sample, reduction)
    nll = _nll(op, log_probs, target, weight, ignore_index, reduction)
    if label_smoothing == 0:
        return nll
    # PyTorch mixes in the uniform distribution: (1 - eps) * nll + eps / C * sum_c -w_c log p_c.
    safe, ignored = _class_targets(op, log_probs, target, weight, ignore_index)
    scaled = log_probs if weight is None else log_probs * weight.reshape(weight_shape)
    keep = Tensor._from_array((~ignored).astype(input.dtype))
    smooth = -scaled.sum(dim=class_dim) * keep
    if reduction == "mean":
        smooth = _weighted_mean(smooth.sum(), _target_weights(weight, safe, ignored, input.dtype))
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / classes)


@primitive("binary_cross_entropy_terms", method=False,
           untested="tested through binary_cross_entropy, registered below")  # fmt: skip
def _bce_terms(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(x), -100.0)
        log_1mx = np.maximum(np.log1p(-x), -100.0)
    return -(target * log_x + (1 - target) * log_1mx)


@_bce_terms.vjp
def _bce_terms_vjp(grad: Operand, x: Operand, target: Operand, needs_input_grad: tuple,
                   xp: Any) -> tuple:  # fmt: skip
    grad_x = grad_target = None
    if needs_input_grad[0]:
        # PyTorch's formula: the 1e-12 floor keeps the gradient finite at x = 0 or 1.
        grad_x = grad * (x - target) / xp.clamp(x * (1 - x), min=1e-12)
    if needs_input_grad[1]:
        log_1mx = xp.clamp(xp.log1p(-x), min=-100.0)
        grad_target = grad * (log_1mx - xp.clamp(xp.log(x), min=-100.0))
    return grad_x, grad_target


def _same_shape(op: str, input: Tensor, target: Tensor) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: target size {tuple(target.shape)} must be the same as the input "
                         f"size {tuple(input.shape)}")  # fmt: skip


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:  # fmt: skip
    """Binary cross-entropy of probabilities: ``-w (t log x + (1 - t) log(1 - x))``.

    The logs are clamped at -100 (finite loss at 0 and 1), as PyTorch. Prefer
    ``binary_cross_entropy_with_logits`` on logits: it is stable everywhere.

    Shape: input and target ``(*)``, weight broadcastable to them; output scalar, or ``(*)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> round(F.binary_cross_entropy(ag.tensor([0.9, 0.2]), ag.tensor([1.0, 0.0])).item(), 4)
        0.1643
    """
    op = "binary_cross_entropy"
    _check_reduction(op, reduction)
    input, target = _as_tensor(op, "input", input), _as_tensor(op, "target", target)
    _check_float(op, "input", input)
    _check_float(op, "target", target)
    _same_shape(op, input, target)
    values = input._data
    if values.size and not ((values >= 0) & (values <= 1)).all():
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1 (input shape "
                           f"{tuple(input.shape)}); apply sigmoid first, or use "
                           "binary_cross_entropy_with_logits")  # fmt: skip
    loss = _bce_terms(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _softplus(x: Tensor) -> Tensor:
    """``log(1 + exp(x))`` without overflow, with gradient ``sigmoid(x)`` everywhere (also at 0)."""
    positive = x >= 0
    magnitude = ag.where(positive, x, -x)
    return ag.where(positive, x, 0.0) + (-magnitude).exp().log1p()


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:  # fmt: skip
    """Sigmoid plus binary cross-entropy in one stable expression.

    ``loss = (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)``, times ``weight``;
    ``pos_weight`` (broadcast along the last dim, one per class) weighs the positive term.

    Shape: input and target ``(*)``; weight and pos_weight broadcastable; output scalar or ``(*)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.binary_cross_entropy_with_logits(ag.tensor([1e4, -1e4]), ag.tensor([1.0, 0.0])).item()
        0.0
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(op, reduction)
    input, target = _as_tensor(op, "input", input), _as_tensor(op, "target", target)
    _check_float(op, "input", input)
    _check_float(op, "target", target)
    _same_shape(op, input, target)
    softplus = _softplus(-input)
    if pos_weight is not None:
        softplus = (1 + (pos_weight - 1) * target) * softplus
    loss = (1 - target) * input + softplus
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _xlogx(t: Tensor) -> Tensor:
    """``t log t`` with ``0 log 0 = 0`` and a finite gradient there."""
    positive = t > 0
    return ag.where(positive, t * ag.where(positive, t, 1.0).log(), 0.0)


def kl_div(
    input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False
) -> Tensor:  # noqa: A002
    """Kullback-Leibler divergence ``target * (log target - input)``; ``input`` is log-probabilities.

    ``log_target=True`` takes ``target`` as log-probabilities too. ``'batchmean'`` (the true KL
    divergence per sample) divides the sum by the batch size; ``'mean'`` divides by the number
    of elements and warns, as PyTorch.

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> p = ag.tensor([[0.5, 0.5]])
        >>> F.kl_div(p.log(), p, reduction="batchmean").item()
        0.0
    """
    op = "kl_div"
    _check_reduction(op, reduction, _REDUCTIONS + ("batchmean",))
    input, target = _pointwise_inputs(op, input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _xlogx(target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction 'mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size and matches the KL "
            "divergence's definition",
            UserWarning,
            stacklevel=2,
        )
    return _reduce(loss, reduction)


_LOSSES: list[tuple[str, Callable[..., Any]]] = [
    ("mse_loss", mse_loss), ("l1_loss", l1_loss), ("smooth_l1_loss", smooth_l1_loss),
    ("huber_loss", huber_loss), ("cross_entropy", cross_entropy), ("nll_loss", nll_loss),
    ("binary_cross_entropy", binary_cross_entropy),
    ("binary_cross_entropy_with_logits", binary_cross_entropy_with_logits), ("kl_div", kl_div),
]  # fmt: skip
for _name, _function in _LOSSES:
    composite(_name, method=False, sample=lambda kind=_name: loss_sample(kind))(_function)


def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """Map PyTorch's deprecated ``size_average``/``reduce`` flags to a reduction string."""
    warnings.warn("size_average and reduce args will be deprecated, please use reduction instead",
                  UserWarning, stacklevel=4)  # fmt: skip
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


class _Loss(Module):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:  # fmt: skip
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:  # fmt: skip
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error (see ``F.mse_loss``).

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``reduction='none'``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.MSELoss()(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 0.0])).item()
        2.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error (see ``F.l1_loss``).

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``reduction='none'``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.L1Loss(reduction="sum")(ag.tensor([1.0, 2.0]), ag.tensor([0.0, 0.0])).item()
        3.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss with threshold ``beta`` (see ``F.smooth_l1_loss``).

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``reduction='none'``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.SmoothL1Loss()(ag.tensor([0.5]), ag.tensor([0.0])).item()
        0.125
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:  # fmt: skip
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss with threshold ``delta`` (see ``F.huber_loss``).

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``reduction='none'``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.HuberLoss(delta=0.5)(ag.tensor([2.0]), ag.tensor([0.0])).item()
        0.875
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits against class indices or probabilities (see ``F.cross_entropy``).

    ``weight`` is a buffer (in ``state_dict`` when given), as in PyTorch.

    Shape: input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``; target ``(N,)`` int64 (or
    probabilities of the input's shape); output scalar, or per sample for ``'none'``.

    Example:
        >>> import autograd as ag, nn
        >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)
        >>> round(loss(ag.tensor([[2.0, 0.0]]), ag.tensor([0])).item(), 4)
        0.2269
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:  # fmt: skip
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)  # fmt: skip


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices given log-probabilities (see ``F.nll_loss``).

    Shape: input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``; target ``(N,)``, ``()`` or
    ``(N, d1, ...)`` int64; output scalar, or the target's shape for ``'none'``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.NLLLoss()(ag.tensor([[-1.0, -2.0]]), ag.tensor([1])).item()
        2.0
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean") -> None:  # fmt: skip
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)  # fmt: skip


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (see ``F.binary_cross_entropy``).

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``reduction='none'``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.BCELoss()(ag.tensor([1.0, 0.0]), ag.tensor([1.0, 0.0])).item()
        0.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, stable for any logits (see the functional form).

    ``weight`` and ``pos_weight`` are buffers, as in PyTorch.

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``reduction='none'``.

    Example:
        >>> import autograd as ag, nn
        >>> loss = nn.BCEWithLogitsLoss(pos_weight=ag.tensor([2.0]))
        >>> round(loss(ag.tensor([0.0]), ag.tensor([1.0])).item(), 4)
        1.3863
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:  # fmt: skip
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                pos_weight=self.pos_weight)  # fmt: skip


class KLDivLoss(_Loss):
    """KL divergence of log-probability input from a target distribution (see ``F.kl_div``).

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``reduction='none'``.

    Example:
        >>> import autograd as ag, nn
        >>> p = ag.tensor([[0.25, 0.75]])
        >>> nn.KLDivLoss(reduction="batchmean")(p.log(), p).item()
        0.0
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", log_target: bool = False) -> None:  # fmt: skip
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
