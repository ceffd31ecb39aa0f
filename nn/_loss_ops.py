"""The losses as primitives: one graph node each (``MseLossBackward``, ``NllLossBackward``, ...).

Each is a NumPy forward that reduces in place plus a gradient rule written with operators and
``xp`` calls, so a first-order backward runs on arrays and ``create_graph=True`` gives exact
higher derivatives. Class-index targets, ``weight`` and ``pos_weight`` are options (arrays):
PyTorch does not differentiate a loss with respect to them either. The public functions that
check arguments and call these live in ``nn/loss.py``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from autograd._typing import Operand
from autograd.backends import numba as _numba
from autograd.ops._samples import on_ties
from autograd.ops.softmax import log_softmax_array, row_max, row_sum
from autograd.registry import primitive

from . import _kernels
from ._loss_samples import loss_sample


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    """``'none'`` keeps ``loss`` (a new array); ``'sum'``/``'mean'`` give a 0-d array."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "mean":
        total = total / loss.size if loss.size else np.nan
    return np.asarray(total, dtype=loss.dtype)


def _count(input_shape: tuple, target_shape: tuple) -> int:
    """The number of loss terms (the inputs broadcast, as PyTorch's pointwise losses do)."""
    return math.prod(np.broadcast_shapes(input_shape, target_shape))


def _scaled(grad: Operand, reduction: str, count: int) -> Operand:
    """The gradient reaching each loss term: ``grad`` itself, or spread over the mean."""
    if reduction == "mean":
        return grad / count if count else grad * 0.0
    return grad


@primitive("mse_loss", method=False, sample=lambda: loss_sample("mse_loss"))
def mse_loss(input: np.ndarray, target: np.ndarray, *, reduction: str = "mean") -> np.ndarray:  # noqa: A002
    diff = input - target
    diff *= diff
    return _reduce(diff, reduction)


@mse_loss.vjp
def _mse_loss_vjp(grad: Operand, input: Operand, target: Operand, reduction: str,  # noqa: A002
                  needs_input_grad: tuple) -> tuple:  # fmt: skip
    diff = input - target
    grad_input = diff * (_scaled(grad, reduction, math.prod(diff.shape)) * 2.0)
    return (
        grad_input if needs_input_grad[0] else None,
        -grad_input if needs_input_grad[1] else None,
    )


@primitive("l1_loss", method=False, sample=lambda: loss_sample("l1_loss"),
           kinks=lambda: on_ties("l1_loss"))  # input == target: |d| at 0  # fmt: skip
def l1_loss(input: np.ndarray, target: np.ndarray, *, reduction: str = "mean") -> np.ndarray:  # noqa: A002
    diff = input - target
    np.abs(diff, out=diff)
    return _reduce(diff, reduction)


@l1_loss.vjp
def _l1_loss_vjp(grad: Operand, input: Operand, target: Operand, reduction: str,  # noqa: A002
                 needs_input_grad: tuple, xp: Any) -> tuple:  # fmt: skip
    diff = input - target
    # sign(0) = 0: no gradient where input equals target, as PyTorch.
    grad_input = xp.sign(diff) * _scaled(grad, reduction, math.prod(diff.shape))
    return (
        grad_input if needs_input_grad[0] else None,
        -grad_input if needs_input_grad[1] else None,
    )


@primitive("smooth_l1_loss", method=False, sample=lambda: loss_sample("smooth_l1_loss"),
           kinks=lambda: on_ties("smooth_l1_loss"))  # input == target: |d| at 0  # fmt: skip
def smooth_l1_loss(input: np.ndarray, target: np.ndarray, *, reduction: str = "mean",  # noqa: A002
                   beta: float = 1.0) -> np.ndarray:  # fmt: skip
    diff = input - target
    distance = np.abs(diff)
    if beta == 0:
        return _reduce(distance, reduction)
    diff *= diff
    diff *= 0.5 / beta
    loss = np.where(distance < beta, diff, distance - 0.5 * beta).astype(diff.dtype, copy=False)
    return _reduce(loss, reduction)


@smooth_l1_loss.vjp
def _smooth_l1_loss_vjp(grad: Operand, input: Operand, target: Operand, reduction: str,  # noqa: A002
                        beta: float, needs_input_grad: tuple, xp: Any) -> tuple:  # fmt: skip
    diff = input - target
    scale = _scaled(grad, reduction, math.prod(diff.shape))
    if beta == 0:  # the L1 loss (no division by beta, even in an unused branch)
        grad_input = xp.sign(diff) * scale
    else:
        grad_input = xp.where(xp.abs(diff) < beta, diff / beta, xp.sign(diff)) * scale
    return (
        grad_input if needs_input_grad[0] else None,
        -grad_input if needs_input_grad[1] else None,
    )


@primitive("huber_loss", method=False, sample=lambda: loss_sample("huber_loss"))
def huber_loss(input: np.ndarray, target: np.ndarray, *, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> np.ndarray:  # fmt: skip
    diff = input - target
    distance = np.abs(diff)
    diff *= diff
    diff *= 0.5
    linear = distance - 0.5 * delta
    linear *= delta
    loss = np.where(distance < delta, diff, linear).astype(diff.dtype, copy=False)
    return _reduce(loss, reduction)


@huber_loss.vjp
def _huber_loss_vjp(grad: Operand, input: Operand, target: Operand, reduction: str,  # noqa: A002
                    delta: float, needs_input_grad: tuple, xp: Any) -> tuple:  # fmt: skip
    diff = input - target
    scale = _scaled(grad, reduction, math.prod(diff.shape))
    grad_input = xp.where(xp.abs(diff) < delta, diff, xp.sign(diff) * delta) * scale
    return (
        grad_input if needs_input_grad[0] else None,
        -grad_input if needs_input_grad[1] else None,
    )


def _weight_of(weight: Any, like: Any, xp: Any) -> Any:
    """An option array as a constant of ``like``'s dtype (array, or Tensor under create_graph)."""
    return xp.constant(weight, like)


@primitive("binary_cross_entropy", method=False,
           sample=lambda: loss_sample("binary_cross_entropy"))  # fmt: skip
def binary_cross_entropy(input: np.ndarray, target: np.ndarray, *, weight: Any = None,  # noqa: A002
                         reduction: str = "mean") -> np.ndarray:  # fmt: skip
    # The logs are clamped at -100, as PyTorch: a finite loss at 0 and 1.
    log_x = np.maximum(np.log(input), -100.0)
    log_1mx = np.maximum(np.log1p(-input), -100.0)
    # -(t log x + (1 - t) log(1 - x)) = -(log(1 - x) + t (log x - log(1 - x)))
    log_x -= log_1mx
    log_x *= target
    log_x += log_1mx
    np.negative(log_x, out=log_x)
    if weight is not None:
        log_x *= np.asarray(weight, dtype=log_x.dtype)
    return _reduce(log_x, reduction)


@binary_cross_entropy.vjp
def _binary_cross_entropy_vjp(grad: Operand, input: Operand, target: Operand, weight: Any,  # noqa: A002
                              reduction: str, needs_input_grad: tuple, xp: Any) -> tuple:  # fmt: skip
    scale = _scaled(grad, reduction, math.prod(input.shape))
    if weight is not None:
        scale = scale * _weight_of(weight, input, xp)
    grad_input = grad_target = None
    if needs_input_grad[0]:
        # PyTorch's formula: the 1e-12 floor keeps the gradient finite at x = 0 or 1.
        grad_input = scale * (input - target) / xp.clamp(input * (1 - input), min=1e-12)
    if needs_input_grad[1]:
        log_1mx = xp.clamp(xp.log1p(-input), min=-100.0)
        grad_target = scale * (log_1mx - xp.clamp(xp.log(input), min=-100.0))
    return grad_input, grad_target


def _softplus_of_negative(x: Operand, xp: Any) -> Operand:
    """``log(1 + exp(-x))`` without overflow; its slope at 0 is -1/2 (the |x| uses x >= 0)."""
    magnitude = xp.where(x >= 0, x, -x)
    return xp.relu(-x) + xp.log1p(xp.exp(-magnitude))


@primitive("binary_cross_entropy_with_logits", method=False,
           sample=lambda: loss_sample("binary_cross_entropy_with_logits"))  # fmt: skip
def binary_cross_entropy_with_logits(input: np.ndarray, target: np.ndarray, *,  # noqa: A002
                                     weight: Any = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> np.ndarray:  # fmt: skip
    # (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x), softplus(-x) = max(-x, 0) + log1p(e^-|x|)
    softplus = np.exp(-np.abs(input))
    np.log1p(softplus, out=softplus)
    softplus += np.maximum(-input, 0)
    if pos_weight is not None:
        softplus *= 1 + (np.asarray(pos_weight, dtype=input.dtype) - 1) * target
    loss = (1 - target) * input
    loss += softplus
    if weight is not None:
        loss *= np.asarray(weight, dtype=loss.dtype)
    return _reduce(loss, reduction)


@binary_cross_entropy_with_logits.vjp
def _binary_cross_entropy_with_logits_vjp(
    grad: Operand, input: Operand, target: Operand, weight: Any, reduction: str,  # noqa: A002
    pos_weight: Any, needs_input_grad: tuple, xp: Any,
) -> tuple:  # fmt: skip
    scale = _scaled(grad, reduction, math.prod(input.shape))
    if weight is not None:
        scale = scale * _weight_of(weight, input, xp)
    grad_input = grad_target = None
    if pos_weight is None:
        if needs_input_grad[0]:
            grad_input = scale * (xp.sigmoid(input) - target)
        if needs_input_grad[1]:
            grad_target = -(scale * input)
        return grad_input, grad_target
    extra = _weight_of(pos_weight, input, xp) - 1
    if needs_input_grad[0]:
        # d/dx: (1 - t) - (1 + (p - 1) t) sigmoid(-x)
        grad_input = scale * ((1 + extra * target) * (xp.sigmoid(input) - 1) + (1 - target))
    if needs_input_grad[1]:
        grad_target = scale * (extra * _softplus_of_negative(input, xp) - input)
    return grad_input, grad_target


@primitive("kl_div", method=False, sample=lambda: loss_sample("kl_div"))
def kl_div(input: np.ndarray, target: np.ndarray, *, reduction: str = "mean",  # noqa: A002
           log_target: bool = False) -> np.ndarray:  # fmt: skip
    if log_target:
        loss = target - input
        loss *= np.exp(target)
    else:
        # target (log target - input), with 0 log 0 = 0
        positive = target > 0
        loss = np.log(np.where(positive, target, 1.0)).astype(input.dtype, copy=False) - input
        loss *= target
        if not positive.all():
            loss = np.where(positive, loss, -target * input).astype(loss.dtype, copy=False)
    if reduction == "batchmean":
        batch = input.shape[0] if input.ndim else 1
        return np.asarray(loss.sum() / batch, dtype=loss.dtype)
    return _reduce(loss, reduction)


@kl_div.vjp
def _kl_div_vjp(grad: Operand, input: Operand, target: Operand, reduction: str,  # noqa: A002
                log_target: bool, needs_input_grad: tuple, xp: Any) -> tuple:  # fmt: skip
    if reduction == "batchmean":
        scale = grad / (input.shape[0] if input.ndim else 1)
    else:
        scale = _scaled(grad, reduction, _count(tuple(input.shape), tuple(target.shape)))
    grad_input = grad_target = None
    if log_target:
        p = xp.exp(target)
        if needs_input_grad[0]:
            grad_input = -(scale * p)
        if needs_input_grad[1]:
            grad_target = scale * p * (target - input + 1)
        return grad_input, grad_target
    if needs_input_grad[0]:
        grad_input = -(scale * target)
    if needs_input_grad[1]:
        positive = target > 0
        log_term = xp.where(positive, xp.log(xp.where(positive, target, 1.0)) + 1, 0.0)
        grad_target = scale * (log_term - input)
    return grad_input, grad_target


class Targets(NamedTuple):
    """Checked class-index targets, as the forward and the rule of nll/cross-entropy use them."""

    axis: int  # the class dim of the input
    safe: np.ndarray  # int64 labels, ignored entries set to 0
    keep: np.ndarray | None  # which entries count (None: all of them)
    weights: np.ndarray | None  # each entry's weight, 0 where ignored (None: all 1)
    total: float  # the 'mean' denominator: the entries' total weight
    # Each entry's target as an index into the flattened (N, C) input (the lean path only).
    flat: np.ndarray | None = None


def class_axis(op: str, ndim: int) -> int:
    """The class dim: 0 for an unbatched ``(C,)`` input, else 1."""
    if ndim == 0:
        raise RuntimeError(f"{op}: input must have a class dim: (C,), (N, C) or (N, C, d1, ...); "
                           "got a 0-d tensor")  # fmt: skip
    return 0 if ndim == 1 else 1


def check_targets(op: str, shape: tuple, target: np.ndarray, weight: Any, ignore_index: int,
                  dtype: np.dtype) -> Targets:  # fmt: skip
    """Validate class-index targets against an input of ``shape``; errors as PyTorch's types."""
    axis = class_axis(op, len(shape))
    classes = shape[axis]
    expected = shape[:axis] + shape[axis + 1 :]
    if target.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: class-index targets must be an integer (int64) tensor, got dtype {target.dtype} "
            f"(input {shape}, target {target.shape}); for class probabilities pass a float target "
            "of the input's shape"
        )
    batch = target.shape[0] if target.ndim else 0
    if axis == 1 and batch != shape[0]:
        raise ValueError(  # a ValueError for the batch size, as PyTorch
            f"{op}: expected input batch_size ({shape[0]}) to match target batch_size ({batch}) "
            f"(input {shape}, target {target.shape})"
        )
    if axis == 0 and target.ndim:
        raise ValueError(f"{op}: for an unbatched (C,) input the target must be 0-d, got shape "
                         f"{target.shape}")  # fmt: skip
    if target.shape != expected:
        raise RuntimeError(
            f"{op}: expected target of shape {expected} for input of shape {shape} (the input "
            f"without its class dim {axis}), got target of shape {target.shape}"
        )
    if weight is not None and np.shape(weight) != (classes,):
        raise RuntimeError(f"{op}: weight must have shape ({classes},), one value per class, got "
                           f"{np.shape(weight)}")  # fmt: skip
    labels = target if target.dtype == np.int64 else target.astype(np.int64)
    keep = None
    safe = labels
    # One pass for the common case: every label in [0, C) (negative ones wrap around as
    # unsigned) and an ignore_index outside that range, so that nothing is ignored.
    if not labels.size or labels.view(np.uint64).max() >= classes or 0 <= ignore_index < classes:
        ignored = labels == ignore_index
        if ignored.any():
            keep = ~ignored
            safe = np.where(ignored, 0, labels)
        bad = (labels < 0) | (labels >= classes)
        if keep is not None:
            bad &= keep
        if bad.any():
            raise IndexError(
                f"{op}: target {int(labels[bad].flat[0])} is out of bounds for {classes} classes "
                f"(input {shape}, target {target.shape}); class indices must be in [0, {classes}) "
                f"or equal ignore_index={ignore_index}"
            )
    weights = None
    if weight is not None:
        weights = np.asarray(weight, dtype=dtype)[safe]
        if keep is not None:
            weights *= keep
    elif keep is not None:
        weights = keep.astype(dtype)
    total = float(weights.sum()) if weights is not None else float(safe.size)
    return Targets(axis, safe, keep, weights, total)


def _take(values: np.ndarray, targets: Targets) -> np.ndarray:
    """``values[..., t, ...]`` along the class dim: each entry's target column."""
    safe = targets.safe
    if values.ndim == 2:
        return values[np.arange(values.shape[0]), safe]
    if values.ndim == 1:
        return values[safe]
    return np.take_along_axis(values, np.expand_dims(safe, targets.axis), targets.axis).squeeze(
        targets.axis
    )


def _put(values: np.ndarray, targets: Targets, amount: Any) -> None:
    """``values[..., t, ...] += amount`` along the class dim, in place."""
    safe, axis = targets.safe, targets.axis
    if targets.flat is not None and values.flags.c_contiguous:
        values.reshape(-1)[targets.flat] += amount  # a view: one index, no row numbers
    elif values.ndim == 2:
        values[np.arange(values.shape[0]), safe] += amount
    elif values.ndim == 1:
        values[safe] += amount
    else:
        index = np.expand_dims(safe, axis)
        column = np.take_along_axis(values, index, axis)
        column += np.expand_dims(amount, axis) if np.ndim(amount) else amount
        np.put_along_axis(values, index, column, axis)


def _class_reduce(loss: np.ndarray, targets: Targets, reduction: str) -> np.ndarray:
    """Sum or weighted mean (by the targets' total weight; nan when it is 0, as PyTorch)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "mean":
        total = total / targets.total if targets.total else np.nan
    return np.asarray(total, dtype=loss.dtype)


def _coefficients(shape: tuple, targets: Targets, weight: Any, label_smoothing: float,
                  dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``q`` (how much each log-probability counts: ``dloss/dlogp = -q``) and its class sum.

    ``q[i, c] = (1 - eps) w[t_i] [c = t_i] + eps / C w[c]`` for kept entries, 0 for ignored.
    """
    q = np.zeros(shape, dtype=dtype)
    axis = targets.axis
    kept: Any = 1.0 - label_smoothing
    if targets.weights is not None:
        kept = kept * targets.weights
    _put(q, targets, kept)
    per_entry = np.broadcast_to(np.asarray(kept, dtype=dtype), targets.safe.shape)
    if label_smoothing:
        classes = shape[axis]
        class_weights = np.ones(classes, dtype) if weight is None else np.asarray(weight, dtype)
        view = (classes,) + (1,) * (len(shape) - axis - 1)
        uniform = (label_smoothing / classes) * class_weights.reshape(view)
        if targets.keep is None:
            q += uniform
            per_entry = per_entry + uniform.sum()
        else:
            keep = np.expand_dims(targets.keep, axis)
            q += uniform * keep
            per_entry = per_entry + uniform.sum() * targets.keep
    return q, np.expand_dims(np.asarray(per_entry, dtype=dtype), axis)


def _entry_grad(grad: Operand, targets: Targets, reduction: str, xp: Any) -> Operand:
    """The gradient reaching each entry, with a size-1 class dim to broadcast over classes."""
    if reduction == "none":
        return xp.unsqueeze(grad, targets.axis) if targets.safe.ndim else grad
    if reduction == "mean":
        return grad / targets.total if targets.total else grad * 0.0
    return grad


@primitive("nll_loss", method=False, residuals=True, sample=lambda: loss_sample("nll_loss"))
def nll_loss(input: np.ndarray, *, target: np.ndarray, weight: Any = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> tuple:  # fmt: skip
    targets = check_targets("nll_loss", input.shape, target, weight, ignore_index, input.dtype)
    loss = -_take(input, targets)
    if targets.weights is not None:
        loss *= targets.weights
    return _class_reduce(np.asarray(loss), targets, reduction), targets


@nll_loss.vjp
def _nll_loss_vjp(grad: Operand, input_shape: tuple, weight: Any, reduction: str,
                  residuals: Targets, xp: Any) -> Operand:  # fmt: skip
    # Linear in the input: -q times the gradient of each entry (q is a scattered one-hot).
    q, _ = _coefficients(input_shape, residuals, weight, 0.0, grad.dtype)
    np.negative(q, out=q)
    return _entry_grad(grad, residuals, reduction, xp) * xp.constant(q, grad)


@primitive("cross_entropy", method=False, residuals=True, node_name="NllLoss",
           sample=lambda: loss_sample("cross_entropy"))  # fmt: skip
def cross_entropy(input: np.ndarray, *, target: np.ndarray, weight: Any = None,  # noqa: A002
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> tuple:  # fmt: skip
    """Log-softmax and the negative log-likelihood of class indices, as one node.

    Named ``NllLossBackward`` as PyTorch's last node of ``cross_entropy``; the gradient
    ``(softmax - q) * grad`` comes from the log-softmax the forward keeps.
    """
    if (input.ndim == 2 and target.ndim == 1 and weight is None and not label_smoothing
            and reduction != "none" and target.dtype == np.int64):  # fmt: skip
        lean = _cross_entropy_rows(input, target, ignore_index, reduction)
        if lean is not None:
            return lean
    targets = check_targets("cross_entropy", input.shape, target, weight, ignore_index,
                            input.dtype)  # fmt: skip
    log_probs = log_softmax_array(input, targets.axis)
    loss = -_take(log_probs, targets)
    if targets.weights is not None:
        loss *= targets.weights
    if label_smoothing:
        # PyTorch mixes in the uniform distribution: (1 - eps) nll + eps / C sum_c -w_c log p_c.
        axis, classes = targets.axis, input.shape[targets.axis]
        if weight is None:
            smooth = -log_probs.sum(axis=axis)
        else:
            view = (classes,) + (1,) * (input.ndim - axis - 1)
            smooth = -(log_probs * np.asarray(weight, input.dtype).reshape(view)).sum(axis=axis)
        if targets.keep is not None:
            smooth *= targets.keep
        loss = (1 - label_smoothing) * loss + (label_smoothing / classes) * smooth
        loss = np.asarray(loss, dtype=input.dtype)
    return _class_reduce(np.asarray(loss), targets, reduction), (log_probs, targets)


_ROW_STARTS: dict[tuple[int, int], np.ndarray] = {}


def _cross_entropy_rows(logits: np.ndarray, labels: np.ndarray, ignore_index: int,
                        reduction: str) -> tuple | None:  # fmt: skip
    """The common call, a batch of ``(N, C)`` logits with int64 labels all in ``[0, C)`` and a
    reduced loss; None where the general path must decide (it raises or handles the rest).

    With the ``fast`` extra one compiled pass per row (sums in float64: within a few ulp of
    NumPy's, tested); without it ten NumPy calls doing the general path's arithmetic, so the
    results are identical. A non-finite loss goes back to the general path too: it alone
    shifts a row whose max is not finite as PyTorch does, and the loss is finite exactly when
    every row's max was.
    """
    rows, classes = logits.shape
    if labels.shape[0] != rows or not rows or 0 <= ignore_index < classes:
        return None
    if _numba.active() and _kernels.cross_entropy_supports(logits, labels):
        total, log_probs = _kernels.cross_entropy_rows(logits, labels)  # NaN: a bad label
        if not math.isfinite(total):
            return None
        loss = -total / rows if reduction == "mean" else -total
        targets = Targets(1, labels, None, None, float(rows))
        return np.asarray(loss, dtype=logits.dtype), (log_probs, targets)
    if labels.view(np.uint64).max() >= classes:  # negative labels wrap around
        return None
    log_probs = logits - row_max(logits, 1)
    log_probs -= np.log(row_sum(np.exp(log_probs), 1))
    starts = _ROW_STARTS.get((rows, classes))
    if starts is None:
        if len(_ROW_STARTS) > 64:
            _ROW_STARTS.clear()
        starts = _ROW_STARTS[rows, classes] = np.arange(0, rows * classes, classes)
    flat = labels + starts
    total = log_probs.take(flat).sum()
    if not math.isfinite(total):
        return None
    loss = -total / rows if reduction == "mean" else -total
    targets = Targets(1, labels, None, None, float(rows), flat)
    return np.asarray(loss, dtype=logits.dtype), (log_probs, targets)


@cross_entropy.vjp
def _cross_entropy_vjp(grad: Operand, input: Operand, weight: Any, reduction: str,  # noqa: A002
                       label_smoothing: float, residuals: tuple, xp: Any) -> Operand:  # fmt: skip
    log_probs, targets = residuals
    scale = _entry_grad(grad, targets, reduction, xp)
    simple = targets.weights is None and not label_smoothing
    if not xp.is_tensor and simple:
        if (_numba.active() and np.ndim(scale) == 0 and log_probs.ndim == 2
                and _kernels.cross_entropy_supports(log_probs, targets.safe)):  # fmt: skip
            return _kernels.cross_entropy_grad(log_probs, targets.safe, scale)  # one pass
        # softmax - onehot, times the gradient of each entry: three passes.
        probs = np.exp(log_probs)
        _put(probs, targets, -1.0)
        probs *= scale
        return probs
    q, q_sum = _coefficients(log_probs.shape, targets, weight, label_smoothing, log_probs.dtype)
    if not xp.is_tensor:
        probs = np.exp(log_probs)
        probs *= q_sum
        probs -= q
        probs *= scale
        return probs
    # Under create_graph the softmax is recomputed on the graph: second derivatives go through it.
    probs = xp.softmax(input, dim=targets.axis)
    return (probs * xp.constant(q_sum, probs) - xp.constant(q, probs)) * scale
