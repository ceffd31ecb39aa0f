"""Translations of the layer ops ``nn`` records: convolution, pooling, normalisation and the
fused recurrent layers (``lstm_layer``, ``gru_layer``, ``rnn_layer`` become ONNX LSTM, GRU,
RNN). The engine does not import ``nn``: these read the recorded nodes' options only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._graph import Ctx, translates


def _conv_attrs(options: dict[str, Any]) -> dict[str, Any]:
    padding = [tuple(p) if isinstance(p, (tuple, list)) else (p, p) for p in options["padding"]]
    return dict(
        strides=[int(s) for s in options["stride"]],
        pads=[int(lo) for lo, _ in padding] + [int(hi) for _, hi in padding],
        dilations=[int(d) for d in options["dilation"]],
        group=int(options["groups"]),
    )


@translates("convolution")
def _convolution(ctx: Ctx) -> None:
    """``nn.functional.conv1d/2d``: the convolution with its bias (zeros when it has none)."""
    inputs = [ctx.input(0), ctx.input(1)]
    bias = ctx.value(2) if ctx.has(2) else None
    if ctx.has(2) and (bias is None or np.any(bias)):
        inputs.append(ctx.input(2))
    ctx.emit1("Conv", inputs, ctx.output(), **_conv_attrs(ctx.options))


def _window_attrs(window: Any) -> dict[str, Any]:
    """Pads that give exactly the recorded output size (PyTorch's ceil mode included)."""
    ends = [
        max(0, (o - 1) * s + d * (k - 1) + 1 - n - p)
        for o, s, d, k, n, p in zip(window.out_size, window.stride, window.dilation,
                                    window.kernel, window.in_size, window.pad)
    ]  # fmt: skip
    return dict(kernel_shape=list(window.kernel), strides=list(window.stride),
                pads=list(window.pad) + ends)  # fmt: skip


@translates("max_pool")
def _max_pool(ctx: Ctx) -> None:
    window = ctx.options["window"]
    attrs = _window_attrs(window)
    if any(d != 1 for d in window.dilation):
        attrs["dilations"] = list(window.dilation)
    ctx.emit1("MaxPool", [ctx.input(0)], ctx.output(), **attrs)


@translates("window_sum")
def _window_sum(ctx: Ctx) -> None:
    """The sum over each window (average pooling before its divisor): AveragePool times the
    window size, zero padding included."""
    window = ctx.options["window"]
    if any(d != 1 for d in window.dilation):
        raise ctx.fail("a dilated window sum has no ONNX mapping")
    mean = ctx.emit1("AveragePool", [ctx.input(0)], count_include_pad=1, **_window_attrs(window))
    size = ctx.const(np.asarray(math.prod(window.kernel), ctx.out_dtype()), "window_size")
    ctx.emit1("Mul", [mean, size], ctx.output())


@translates("native_layer_norm")
def _layer_norm(ctx: Ctx) -> None:
    dims, eps = int(ctx.options["dims"]), float(ctx.options["eps"])
    x, weight, bias = ctx.input(0), ctx.input(1), ctx.input(2)
    if ctx.opset >= 17:
        ctx.emit1("LayerNormalization", [x, weight, bias], ctx.output(), axis=-dims, epsilon=eps)
        return
    ndim = len(ctx.shape(0))
    axes = list(range(ndim - dims, ndim))
    mean = ctx.reduce("ReduceMean", x, axes, True)
    centered = ctx.emit1("Sub", [x, mean])
    var = ctx.reduce("ReduceMean", ctx.emit1("Mul", [centered, centered]), axes, True)
    eps_name = ctx.const(np.asarray(eps, ctx.out_dtype()), "eps")
    std = ctx.emit1("Sqrt", [ctx.emit1("Add", [var, eps_name])])
    normal = ctx.emit1("Div", [centered, std])
    ctx.emit1("Add", [ctx.emit1("Mul", [normal, weight]), bias], ctx.output())


@translates("native_batch_norm")
def _batch_norm(ctx: Ctx) -> None:
    """Fixed statistics (the running ones, equal in both runs) give BatchNormalization;
    batch statistics (training mode) are computed in the graph."""
    eps = float(ctx.options["eps"])
    x, weight, bias = ctx.input(0), ctx.input(1), ctx.input(2)
    mean, var = ctx.options.get("mean"), ctx.options.get("var")
    twin_mean, twin_var = ctx.twin_options.get("mean"), ctx.twin_options.get("var")
    fixed = (
        mean is not None
        and twin_mean is not None
        and np.array_equal(np.asarray(mean), np.asarray(twin_mean))
        and np.array_equal(np.asarray(var), np.asarray(twin_var))
    )
    dtype = ctx.out_dtype()
    if fixed:
        stats = [
            ctx.const(np.asarray(mean, dtype), "mean"),
            ctx.const(np.asarray(var, dtype), "var"),
        ]
        ctx.emit1("BatchNormalization", [x, weight, bias, *stats], ctx.output(), epsilon=eps)
        return
    ndim = len(ctx.shape(0))
    axes = [0] + list(range(2, ndim))
    view = ctx.ints([1, -1] + [1] * (ndim - 2), "channel_view")
    batch_mean = ctx.reduce("ReduceMean", x, axes, True)
    centered = ctx.emit1("Sub", [x, batch_mean])
    batch_var = ctx.reduce("ReduceMean", ctx.emit1("Mul", [centered, centered]), axes, True)
    std = ctx.emit1(
        "Sqrt", [ctx.emit1("Add", [batch_var, ctx.const(np.asarray(eps, dtype), "eps")])]
    )
    scaled = ctx.emit1(
        "Mul", [ctx.emit1("Div", [centered, std]), ctx.emit1("Reshape", [weight, view])]
    )
    ctx.emit1("Add", [scaled, ctx.emit1("Reshape", [bias, view])], ctx.output())


def _projection(ctx: Ctx, gates: int) -> tuple[str, np.ndarray, np.ndarray | None]:
    """The ONNX X, W and the input bias of a recurrent layer whose ``xw = x W_ih^T + b``.

    When ``xw`` was computed by a linear layer (``nn.LSTM``/``GRU``/``RNN`` do), its input and
    weight become X and W and the linear nodes are left unused; otherwise X is ``xw`` itself
    with an identity W.
    """
    graph = ctx.graph
    found = ctx.producer(0)
    if found is not None and found[0].op_name == "reshape":
        found = graph.producer_of(found[0], 0)
    if found is not None and found[0].op_name in ("linear_addmm", "linear_mm"):
        # Inputs as PyTorch's addmm/mm nodes order them: (bias, x, weight) and (x, weight).
        linear = found[0]
        first = 1 if linear.op_name == "linear_addmm" else 0
        weight = graph.const_value(linear, first + 1)
        bias = graph.const_value(linear, 0) if first else None
        x_node = graph.producer_of(linear, first)
        x_name = None
        x_shape = x_node[0].input_shapes[0] if x_node is not None else None
        if x_node is not None and x_node[0].op_name == "reshape" and x_shape is not None:
            if len(x_shape) == 3 and tuple(x_shape[:2]) == ctx.shape(0)[:2]:
                x_name = graph.value_name(x_node[0], 0)
        if weight is not None and (bias is not None or linear.op_name == "linear_mm") and x_name:
            return x_name, weight, bias
    return ctx.input(0), np.eye(gates, dtype=ctx.out_dtype()), None


def _reorder(array: np.ndarray, hidden: int, order: list[int]) -> np.ndarray:
    """Reorder the gate blocks (rows of ``hidden``) of a weight or bias."""
    blocks = [array[g * hidden : (g + 1) * hidden] for g in range(len(order))]
    return np.concatenate([blocks[g] for g in order], axis=0)


def _initial_state(ctx: Ctx, i: int) -> str:
    """The optional initial state: omitted when it is zeros (ONNX's default), else (1, N, H)."""
    values = ctx.values_in_both(i)
    if values is not None and not np.any(values[0]) and not np.any(values[1]):
        return ""
    return ctx.unsqueeze(ctx.input(i), [0])


def _weights(ctx: Ctx, gates: int, order: list[int]) -> tuple[str, str, str, str]:
    """X, W (1, G, I), R (1, G, H) and B (1, 2G) of an ONNX recurrent op, in ONNX gate order."""
    hidden = gates // len(order)
    x, w_ih, b_in = _projection(ctx, gates)
    w_hh = ctx.value(3 if ctx.op == "lstm_layer" else 2)
    if w_hh is None:
        raise ctx.fail("its hidden-to-hidden weight depends on the model's inputs")
    dtype = ctx.out_dtype()
    b_hh = np.zeros(gates, dtype)
    if ctx.op == "gru_layer":
        value = ctx.value(3)
        if value is None:
            raise ctx.fail("its hidden bias depends on the model's inputs")
        b_hh = value
    b_in = np.zeros(gates, dtype) if b_in is None else b_in
    scope = ctx.graph.scope(ctx.node) or ctx.op
    w = ctx.graph.initializer(_reorder(w_ih, hidden, order)[None].astype(dtype), f"{scope}.W")
    r = ctx.graph.initializer(_reorder(w_hh, hidden, order)[None].astype(dtype), f"{scope}.R")
    bias = np.concatenate([_reorder(b_in, hidden, order), _reorder(b_hh, hidden, order)])
    b = ctx.graph.initializer(bias[None].astype(dtype), f"{scope}.B")
    return x, w, r, b


@translates("lstm_layer")
def _lstm(ctx: Ctx) -> None:
    """PyTorch's gates i, f, g, o are ONNX's i, o, f, c. The op's output holds
    ``[h | c | gates]`` per step; ONNX gives every h but only the last c, so the readers of the
    output are checked to read no more than that."""
    steps, _, gates = ctx.shape(0)
    hidden = gates // 4
    reverse = bool(ctx.options.get("reverse", False))
    _check_lstm_readers(ctx, hidden, steps, reverse)
    x, w, r, b = _weights(ctx, gates, [0, 3, 1, 2])
    h0, c0 = _initial_state(ctx, 1), _initial_state(ctx, 2)
    y, _, y_c = ctx.emit("LSTM", [x, w, r, b, "", h0, c0], 3, hidden_size=hidden,
                         direction="reverse" if reverse else "forward")  # fmt: skip
    h_all = ctx.squeeze(y, [1])
    c_all = ctx.emit1("Expand", [y_c, ctx.emit1("Shape", [h_all])])
    zeros = ctx.emit1("Mul", [h_all, ctx.const(np.zeros((), ctx.out_dtype()), "zero")])
    gates_fill = ctx.emit1("Tile", [zeros, ctx.ints([1, 1, 4], "repeats")])
    ctx.emit1("Concat", [h_all, c_all, gates_fill], ctx.output(), axis=-1)


def _check_lstm_readers(ctx: Ctx, hidden: int, steps: int, reverse: bool) -> None:
    last = {0} if reverse else {-1, steps - 1}
    for reader, _ in ctx.graph.consumers(ctx.node, 0):
        index = reader.options().get("index") if reader.op_name == "getitem" else None
        items = list(index) if isinstance(index, tuple) else [index]
        feature = items[-1] if items else None
        if isinstance(feature, slice) and feature.step in (None, 1):
            start, stop = (
                feature.start or 0,
                feature.stop if feature.stop is not None else 6 * hidden,
            )
            if 0 <= start and stop <= hidden:
                continue  # h at any step
            first = items[0] if len(items) == 3 else None
            if hidden <= start and stop <= 2 * hidden and first in last:
                continue  # c at the last step
        raise ctx.fail(
            f"its output is read by {reader.op_name} with index {index!r}: ONNX LSTM gives h at "
            "every step and c at the last step only"
        )


@translates("gru_layer")
def _gru(ctx: Ctx) -> None:
    """PyTorch's gates r, z, n are ONNX's z, r, h; the reset gate multiplies ``h W_hn^T + b_hn``
    (``linear_before_reset=1``)."""
    _, _, gates = ctx.shape(0)
    hidden = gates // 3
    reverse = bool(ctx.options.get("reverse", False))
    x, w, r, b = _weights(ctx, gates, [1, 0, 2])
    direction = "reverse" if reverse else "forward"
    inputs = [x, w, r, b, "", _initial_state(ctx, 1)]
    y = ctx.emit1("GRU", inputs, hidden_size=hidden, linear_before_reset=1, direction=direction)
    ctx.squeeze(y, [1], ctx.output())


@translates("rnn_layer")
def _rnn(ctx: Ctx) -> None:
    _, _, hidden = ctx.shape(0)
    reverse = bool(ctx.options.get("reverse", False))
    activation = {"tanh": "Tanh", "relu": "Relu"}[ctx.options.get("nonlinearity", "tanh")]
    x, w, r, b = _weights(ctx, hidden, [0])
    direction = "reverse" if reverse else "forward"
    inputs = [x, w, r, b, "", _initial_state(ctx, 1)]
    y = ctx.emit1("RNN", inputs, hidden_size=hidden, activations=[activation], direction=direction)
    ctx.squeeze(y, [1], ctx.output())
