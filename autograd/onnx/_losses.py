"""Translations of the loss nodes (``nn.functional``'s losses, one graph node each) to ONNX.

The class-index losses use ONNX's NegativeLogLikelihoodLoss (same weighted mean and
ignore_index as PyTorch); the pointwise ones are written out from their formulas.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._graph import Ctx, translates
from ._ops import _index_source, _operand


def _reduced(ctx: Ctx, loss: str) -> None:
    """Apply the node's ``reduction`` to the per-element ``loss`` and write the output."""
    reduction = ctx.options.get("reduction", "mean")
    if reduction == "none":
        ctx.emit1("Identity", [loss], ctx.output())
    elif reduction == "sum":
        ctx.reduce("ReduceSum", loss, None, False, ctx.output())
    elif reduction == "batchmean":
        # sum / batch size: sum every dim but the first, then average over the first.
        rank = len(ctx.shape(0))
        if rank == 0:
            ctx.emit1("Identity", [loss], ctx.output())
            return
        if rank > 1:
            loss = ctx.reduce("ReduceSum", loss, list(range(1, rank)), False)
        ctx.reduce("ReduceMean", loss, None, False, ctx.output())
    else:
        ctx.reduce("ReduceMean", loss, None, False, ctx.output())


def _pair(ctx: Ctx) -> tuple[str, str, np.dtype]:
    dtype = ctx.out_dtype()
    return _operand(ctx, 0, dtype), _operand(ctx, 1, dtype), dtype


def _scalar(ctx: Ctx, value: float, dtype: np.dtype, hint: str = "scalar") -> str:
    return ctx.const(np.asarray(value, dtype), hint)


def _weight(ctx: Ctx, name: str, dtype: np.dtype) -> str | None:
    value = ctx.options.get(name)
    return None if value is None else ctx.const(np.asarray(value, dtype), name)


@translates("mse_loss")
def _mse_loss(ctx: Ctx) -> None:
    x, t, _ = _pair(ctx)
    diff = ctx.emit1("Sub", [x, t])
    _reduced(ctx, ctx.emit1("Mul", [diff, diff]))


@translates("l1_loss")
def _l1_loss(ctx: Ctx) -> None:
    x, t, _ = _pair(ctx)
    _reduced(ctx, ctx.emit1("Abs", [ctx.emit1("Sub", [x, t])]))


def _piecewise(ctx: Ctx, threshold: float, quadratic_scale: float, linear_scale: float) -> None:
    """``q d^2`` where ``|d| < threshold``, else ``s (|d| - threshold / 2)``."""
    x, t, dtype = _pair(ctx)
    diff = ctx.emit1("Sub", [x, t])
    distance = ctx.emit1("Abs", [diff])
    if threshold == 0:
        _reduced(ctx, distance)
        return
    square = ctx.emit1("Mul", [ctx.emit1("Mul", [diff, diff]), _scalar(ctx, quadratic_scale, dtype)])
    shifted = ctx.emit1("Sub", [distance, _scalar(ctx, 0.5 * threshold, dtype)])
    linear = ctx.emit1("Mul", [shifted, _scalar(ctx, linear_scale, dtype)])
    inside = ctx.emit1("Less", [distance, _scalar(ctx, threshold, dtype)])
    _reduced(ctx, ctx.emit1("Where", [inside, square, linear]))


@translates("smooth_l1_loss")
def _smooth_l1_loss(ctx: Ctx) -> None:
    beta = float(ctx.options.get("beta", 1.0))
    _piecewise(ctx, beta, 0.5 / beta if beta else 0.0, 1.0)


@translates("huber_loss")
def _huber_loss(ctx: Ctx) -> None:
    delta = float(ctx.options.get("delta", 1.0))
    _piecewise(ctx, delta, 0.5, delta)


@translates("binary_cross_entropy")
def _binary_cross_entropy(ctx: Ctx) -> None:
    x, t, dtype = _pair(ctx)
    floor = _scalar(ctx, -100.0, dtype, "log_floor")
    one = _scalar(ctx, 1.0, dtype, "one")
    log_x = ctx.emit1("Max", [ctx.emit1("Log", [x]), floor])
    log_1mx = ctx.emit1("Max", [ctx.emit1("Log", [ctx.emit1("Sub", [one, x])]), floor])
    mixed = ctx.emit1("Add", [log_1mx, ctx.emit1("Mul", [t, ctx.emit1("Sub", [log_x, log_1mx])])])
    loss = ctx.emit1("Neg", [mixed])
    weight = _weight(ctx, "weight", dtype)
    _reduced(ctx, loss if weight is None else ctx.emit1("Mul", [loss, weight]))


@translates("binary_cross_entropy_with_logits")
def _binary_cross_entropy_with_logits(ctx: Ctx) -> None:
    x, t, dtype = _pair(ctx)
    one = _scalar(ctx, 1.0, dtype, "one")
    # softplus(-x) = max(-x, 0) + log(1 + exp(-|x|)), finite for any x
    decay = ctx.emit1("Exp", [ctx.emit1("Neg", [ctx.emit1("Abs", [x])])])
    tail = ctx.emit1("Log", [ctx.emit1("Add", [one, decay])])
    softplus = ctx.emit1("Add", [ctx.emit1("Relu", [ctx.emit1("Neg", [x])]), tail])
    pos_weight = _weight(ctx, "pos_weight", dtype)
    if pos_weight is not None:
        extra = ctx.emit1("Mul", [ctx.emit1("Sub", [pos_weight, one]), t])
        softplus = ctx.emit1("Mul", [softplus, ctx.emit1("Add", [one, extra])])
    loss = ctx.emit1("Add", [ctx.emit1("Mul", [ctx.emit1("Sub", [one, t]), x]), softplus])
    weight = _weight(ctx, "weight", dtype)
    _reduced(ctx, loss if weight is None else ctx.emit1("Mul", [loss, weight]))


@translates("kl_div")
def _kl_div(ctx: Ctx) -> None:
    x, t, dtype = _pair(ctx)
    if ctx.options.get("log_target"):
        loss = ctx.emit1("Mul", [ctx.emit1("Exp", [t]), ctx.emit1("Sub", [t, x])])
    else:
        # t (log t - x), and -t x where t <= 0 (0 log 0 = 0)
        zero = _scalar(ctx, 0.0, dtype, "zero")
        positive = ctx.emit1("Greater", [t, zero])
        safe = ctx.emit1("Where", [positive, t, _scalar(ctx, 1.0, dtype, "one")])
        log_term = ctx.emit1("Where", [positive, ctx.emit1("Log", [safe]), zero])
        loss = ctx.emit1("Mul", [t, ctx.emit1("Sub", [log_term, x])])
    _reduced(ctx, loss)


def _class_index_loss(ctx: Ctx, log_probs: str) -> None:
    """NLL of ``log_probs`` (the node's input layout) against the ``target`` option, plus
    cross-entropy's label smoothing term."""
    options, dtype = ctx.options, ctx.out_dtype()
    target = _index_source(ctx, np.asarray(options["target"]), ctx.twin_options.get("target"),
                           "target")  # fmt: skip
    reduction, ignore_index = options.get("reduction", "mean"), int(options.get("ignore_index", -100))
    unbatched = len(ctx.shape(0)) == 1
    if unbatched:  # ONNX wants (N, C): add a batch of one
        log_probs, target = ctx.unsqueeze(log_probs, [0]), ctx.unsqueeze(target, [0])
    weight = _weight(ctx, "weight", dtype)
    inputs = [log_probs, target] + ([weight] if weight is not None else [])
    smoothing = float(options.get("label_smoothing", 0.0) or 0.0)
    nll = ctx.emit1("NegativeLogLikelihoodLoss", inputs, reduction=reduction,
                    ignore_index=ignore_index)  # fmt: skip
    if smoothing:
        nll = ctx.emit1("Mul", [nll, _scalar(ctx, 1.0 - smoothing, dtype)])
        nll = ctx.emit1("Add", [nll, _smoothing_term(ctx, log_probs, target, weight, reduction,
                                                     ignore_index, smoothing)])  # fmt: skip
    if unbatched and reduction == "none":
        nll = ctx.squeeze(nll, [0])
    ctx.emit1("Identity", [nll], ctx.output())


def _smoothing_term(ctx: Ctx, log_probs: str, target: str, weight: str | None, reduction: str,
                    ignore_index: int, smoothing: float) -> str:  # fmt: skip
    """``eps / C * sum_c -w_c log p_c`` per kept entry, reduced like the NLL term."""
    dtype = ctx.out_dtype()
    shape = ctx.shape(0)
    rank = max(len(shape), 2)
    classes = shape[0] if len(shape) == 1 else shape[1]
    terms = log_probs
    if weight is not None:
        view = ctx.ints([classes] + [1] * (rank - 2))
        terms = ctx.emit1("Mul", [terms, ctx.emit1("Reshape", [weight, view])])
    smooth = ctx.emit1("Neg", [ctx.reduce("ReduceSum", terms, [1], False)])
    ignored = ctx.emit1("Equal", [target, ctx.const(np.asarray(ignore_index, np.int64), "ignore")])
    keep = ctx.cast(ctx.emit1("Not", [ignored]), dtype)
    smooth = ctx.emit1("Mul", [smooth, keep])
    if reduction == "sum":
        smooth = ctx.reduce("ReduceSum", smooth, None, False)
    elif reduction == "mean":
        total = keep
        if weight is not None:
            safe = ctx.emit1("Where", [ignored, ctx.const(np.asarray(0, np.int64), "zero"), target])
            total = ctx.emit1("Mul", [ctx.emit1("Gather", [weight, safe], axis=0), keep])
        smooth = ctx.emit1("Div", [ctx.reduce("ReduceSum", smooth, None, False),
                                   ctx.reduce("ReduceSum", total, None, False)])  # fmt: skip
    return ctx.emit1("Mul", [smooth, _scalar(ctx, smoothing / classes, dtype)])


@translates("nll_loss")
def _nll_loss(ctx: Ctx) -> None:
    _class_index_loss(ctx, ctx.input(0))


@translates("cross_entropy")
def _cross_entropy(ctx: Ctx) -> None:
    axis = 0 if len(ctx.shape(0)) == 1 else 1
    _class_index_loss(ctx, ctx.emit1("LogSoftmax", [ctx.input(0)], axis=axis))


def _softmax(op_type: str) -> Any:
    def translation(ctx: Ctx) -> None:
        x = ctx.input(0)
        if ctx.dtype(0) != ctx.out_dtype():
            x = ctx.cast(x, ctx.out_dtype())
        rank = len(ctx.shape(0))
        if rank == 0:  # a single value: softmax 1, log_softmax 0
            ones = ctx.emit1(op_type, [ctx.unsqueeze(x, [0])], axis=0)
            ctx.squeeze(ones, [0], ctx.output())
            return
        ctx.emit1(op_type, [x], ctx.output(), axis=int(ctx.options["dim"]) % rank)

    return translation


translates("softmax")(_softmax("Softmax"))
translates("log_softmax")(_softmax("LogSoftmax"))
