"""Losses: the ``F.*_loss`` functions and their ``*Loss`` modules, with PyTorch's semantics.

Every loss supports ``reduction='mean'|'sum'|'none'`` and is one graph node, named as PyTorch
names it (``MseLossBackward``, ``NllLossBackward``, ...); the primitives are in
``nn/_loss_ops.py``, these functions check the arguments. ``cross_entropy`` of class indices is
log-softmax and NLL fused into one node; of class probabilities, a composite.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

import autograd as ag
from autograd.grad_mode import is_grad_enabled
from autograd.tensor import Tensor

from . import _loss_ops as ops
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


def _reduction(op: str, size_average: bool | None, reduce: bool | None, reduction: str,
               allowed: tuple = _REDUCTIONS) -> str:  # fmt: skip
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    _check_reduction(op, reduction, allowed)
    return reduction


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


def _constant(op: str, name: str, value: Any) -> np.ndarray | None:
    """A class weight or pos_weight as an array: PyTorch does not differentiate through it."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"{op}: the loss is not differentiable with respect to {name}, which requires "
                f"grad (shape {tuple(value.shape)}); pass {name}.detach(), as in PyTorch"
            )
        return value._data
    return np.asarray(value)


def _pointwise_inputs(op: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:  # noqa: A002
    """Check the pair of a regression loss; warn about broadcasting as PyTorch does."""
    input, target = _as_tensor(op, "input", input), _as_tensor(op, "target", target)
    _check_float(op, "input", input)
    if target.dtype.kind not in "fiub":
        raise RuntimeError(f"{op}: unsupported target dtype {target.dtype}")
    if input.shape != target.shape:
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


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None,  # noqa: A002
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:  # fmt: skip
    """Mean squared error ``(input - target)^2`` (one ``MseLossBackward`` node).

    Shape: input and target ``(*)`` (same shape); output scalar, or ``(*)`` for ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.mse_loss(ag.tensor([1.0, 2.0]), ag.tensor([0.0, 0.0])).item()
        2.5
    """
    reduction = _reduction("mse_loss", size_average, reduce, reduction)
    input, target = _pointwise_inputs("mse_loss", input, target)
    return ops.mse_loss(input, target, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,  # noqa: A002
            reduce: bool | None = None, reduction: str = "mean") -> Tensor:  # fmt: skip
    """Mean absolute error ``|input - target|`` (subgradient 0 where they are equal).

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.l1_loss(ag.tensor([1.0, -2.0]), ag.tensor([0.0, 0.0])).item()
        1.5
    """
    reduction = _reduction("l1_loss", size_average, reduce, reduction)
    input, target = _pointwise_inputs("l1_loss", input, target)
    return ops.l1_loss(input, target, reduction=reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,  # noqa: A002
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:  # fmt: skip
    """Quadratic ``0.5 d^2 / beta`` for ``|d| < beta``, else linear ``|d| - 0.5 beta``.

    ``beta=0`` is the L1 loss, as in PyTorch.

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.smooth_l1_loss(ag.tensor([0.5, 3.0]), ag.tensor([0.0, 0.0]), reduction="sum").item()
        2.625
    """
    reduction = _reduction("smooth_l1_loss", size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target = _pointwise_inputs("smooth_l1_loss", input, target)
    return ops.smooth_l1_loss(input, target, reduction=reduction, beta=float(beta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:  # fmt: skip
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
    return ops.huber_loss(input, target, reduction=reduction, delta=float(delta))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:  # fmt: skip
    """Negative log-likelihood of class indices, given log-probabilities.

    ``loss_i = -weight[t_i] * input[i, t_i]``; ``'mean'`` divides by the sum of the targets'
    weights; targets equal to ``ignore_index`` contribute nothing. One ``NllLossBackward``
    node; ``weight`` gets no gradient, as in PyTorch.

    Shape: input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``; target ``(N,)``, ``()`` or
    ``(N, d1, ...)`` int64; output scalar, or the target's shape for ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.nll_loss(ag.tensor([[-1.0, -2.0], [-3.0, -4.0]]), ag.tensor([1, 0])).item()
        2.5
    """
    op = "nll_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _as_tensor(op, "input", input), _as_tensor(op, "target", target)
    _check_float(op, "input", input)
    return ops.nll_loss(input, target=target._data, weight=_constant(op, "weight", weight),
                        ignore_index=ignore_index, reduction=reduction)  # fmt: skip


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:  # fmt: skip
    """Cross-entropy between logits and class indices or class probabilities.

    Class-index targets (int64, the input's shape without dim 1) support ``weight``,
    ``ignore_index`` and ``label_smoothing``: log-softmax and NLL run fused as one
    ``NllLossBackward`` node (PyTorch shows that node above a ``LogSoftmaxBackward``), with
    the gradient ``(softmax - onehot) * grad / N``. Float targets of the input's shape are
    class probabilities (``'mean'`` then divides by the number of samples). Logits of
    magnitude 1e4 give finite values and gradients.

    Shape: input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``; output scalar, or per sample for
    ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> round(F.cross_entropy(ag.tensor([[2.0, 0.0], [0.0, 2.0]]), ag.tensor([0, 1])).item(), 4)
        0.1269
    """
    if (
        type(input) is Tensor
        and type(target) is Tensor
        and weight is None
        and size_average is None
        and reduce is None
        and not label_smoothing
        and reduction in _REDUCTIONS
        and input._data.dtype.kind == "f"
        and target._data.dtype.kind in "iu"
    ):
        # The common call: nothing to convert here, and the op checks the targets itself.
        options = {"target": target._data, "weight": None, "ignore_index": ignore_index,
                   "reduction": reduction, "label_smoothing": 0.0}  # fmt: skip
        return ops.cross_entropy.call(ops.cross_entropy, (input,), {}, options)
    op = "cross_entropy"
    reduction = _reduction(op, size_average, reduce, reduction)
    if type(input) is not Tensor:
        input = _as_tensor(op, "input", input)
    if type(target) is not Tensor:
        target = _as_tensor(op, "target", target)
    _check_float(op, "input", input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    if target.dtype.kind == "f":
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    return ops.cross_entropy(input, target=target._data, weight=_constant(op, "weight", weight),
                             ignore_index=ignore_index, reduction=reduction,
                             label_smoothing=float(label_smoothing))  # fmt: skip


def _cross_entropy_probabilities(input: Tensor, target: Tensor, weight: Tensor | None,  # noqa: A002
                                 reduction: str, label_smoothing: float) -> Tensor:  # fmt: skip
    """Cross-entropy against class probabilities (a composite, as in PyTorch)."""
    op = "cross_entropy"
    class_dim = ops.class_axis(op, input.ndim)
    classes = input.shape[class_dim]
    if target.shape != input.shape:
        raise RuntimeError(
            f"{op}: float targets are class probabilities and must have the input's shape "
            f"{tuple(input.shape)}, got {tuple(target.shape)}; class indices must be int64"
        )
    if weight is not None and tuple(weight.shape) != (classes,):
        raise RuntimeError(f"{op}: weight must have shape ({classes},), got {tuple(weight.shape)}")
    log_probs = input.log_softmax(dim=class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    terms = log_probs * target
    if weight is not None:
        terms = terms * weight.reshape((classes,) + (1,) * (input.ndim - class_dim - 1))
    per_sample = -terms.sum(dim=class_dim)
    if reduction == "mean":
        return per_sample.sum() / max(1, input.numel() // max(classes, 1))
    return per_sample.sum() if reduction == "sum" else per_sample


def _same_shape(op: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    if input.shape != target.shape:
        raise ValueError(f"{op}: target size {tuple(target.shape)} must be the same as the input "
                         f"size {tuple(input.shape)}")  # fmt: skip


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         size_average: bool | None = None, reduce: bool | None = None,
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
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _as_tensor(op, "input", input), _as_tensor(op, "target", target)
    _check_float(op, "input", input)
    _check_float(op, "target", target)
    _same_shape(op, input, target)
    values = input._data
    if values.size and not ((values >= 0) & (values <= 1)).all():
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1 (input shape "
                           f"{tuple(input.shape)}); apply sigmoid first, or use "
                           "binary_cross_entropy_with_logits")  # fmt: skip
    return ops.binary_cross_entropy(input, target, weight=_constant(op, "weight", weight),
                                    reduction=reduction)  # fmt: skip


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                                     size_average: bool | None = None, reduce: bool | None = None,
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
    reduction = _reduction(op, size_average, reduce, reduction)
    input, target = _as_tensor(op, "input", input), _as_tensor(op, "target", target)
    _check_float(op, "input", input)
    _check_float(op, "target", target)
    _same_shape(op, input, target)
    return ops.binary_cross_entropy_with_logits(
        input, target, weight=_constant(op, "weight", weight), reduction=reduction,
        pos_weight=_constant(op, "pos_weight", pos_weight),
    )  # fmt: skip


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None,  # noqa: A002
           reduce: bool | None = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:  # fmt: skip
    """Kullback-Leibler divergence ``target * (log target - input)``; ``input`` is log-probabilities.

    ``log_target=True`` takes ``target`` as log-probabilities too. ``'batchmean'`` (the true KL
    divergence per sample) divides the sum by the batch size; ``'mean'`` divides by the number
    of elements and warns, as PyTorch. One ``KlDivBackward`` node (PyTorch 2 records the
    formula's ops instead).

    Shape: input and target ``(*)``; output scalar, or ``(*)`` for ``'none'``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> p = ag.tensor([[0.5, 0.5]])
        >>> F.kl_div(p.log(), p, reduction="batchmean").item()
        0.0
    """
    op = "kl_div"
    reduction = _reduction(op, size_average, reduce, reduction, _REDUCTIONS + ("batchmean",))
    input, target = _pointwise_inputs(op, input, target)
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction 'mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size and matches the KL "
            "divergence's definition",
            UserWarning,
            stacklevel=2,
        )
    return ops.kl_div(input, target, reduction=reduction, log_target=bool(log_target))


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
