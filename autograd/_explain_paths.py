"""Where the gradient goes, for ``explain_grad``: the nodes reachable from the output, the path
to the tensor, one backward watched node by node, and the ops on the path that zero it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._explain_text import _why_zero
from .graph import Node
from .tensor import Tensor
from .tracing import TRACE


def _reachable(output: Tensor) -> tuple[list[Node], set[int]]:
    """Nodes reachable from ``output`` (iteratively) and the ids of its leaves."""
    nodes: list[Node] = []
    seen: set[Node] = set()
    leaves: set[int] = set()
    stack = [output.grad_fn] if output.grad_fn is not None else []
    seen.update(stack)
    while stack:
        node = stack.pop()
        nodes.append(node)
        for edge in node.next_edges:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Node):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
            else:
                leaves.add(id(target))
    return nodes, leaves


def _path(nodes: list[Node], tensor: Tensor) -> tuple[list[Node], Node | None]:
    """The nodes through which gradient flows from the output to ``tensor``, in backward order."""
    target = tensor.grad_fn
    consumers_left = {n: 0 for n in nodes}
    for node in nodes:
        for edge in node.next_edges:
            if edge is not None and isinstance(edge[0], Node) and edge[0] in consumers_left:
                consumers_left[edge[0]] += 1
    order = []
    ready = [n for n, c in consumers_left.items() if c == 0]
    while ready:
        node = ready.pop()
        order.append(node)
        for edge in node.next_edges:
            if edge is not None and isinstance(edge[0], Node) and edge[0] in consumers_left:
                consumers_left[edge[0]] -= 1
                if consumers_left[edge[0]] == 0:
                    ready.append(edge[0])
    reaches: dict[Node, bool] = {}
    for node in reversed(order):
        if node is target:
            reaches[node] = True
            continue
        reaches[node] = any(
            edge is not None
            and (edge[0] is tensor or (isinstance(edge[0], Node) and reaches.get(edge[0], False)))
            for edge in node.next_edges
        )
    return [n for n in order if reaches.get(n) and n is not target], target


def _toward(node: Node, tensor: Tensor, path: set[Node], target: Node | None) -> list[int]:
    """The input slots of ``node`` through which gradient goes on to ``tensor``."""
    slots = []
    for a, edge in enumerate(node.next_edges):
        if edge is None:
            continue
        source, k = edge
        if source is tensor or (isinstance(source, Node) and source in path):
            slots.append(a)
        elif target is not None and source is target and k == tensor._output_nr:
            slots.append(a)
    return slots


def _watched_gradient(output: Tensor, tensor: Tensor, path: set[Node]) -> tuple[dict, Any]:
    """``ag.grad(output, tensor)`` (graph kept), watching what each path node gets and sends."""
    from .engine import grad

    observed: dict[Node, tuple[list, list, list[int]]] = {}
    previous = TRACE.apply_observer
    target = tensor.grad_fn

    def watch(node: Any, output_grads: list, input_grads: list) -> None:
        if node in path:
            slots = _toward(node, tensor, path, target)
            observed[node] = (
                [None if g is None else np.array(np.asarray(g), copy=True) for g in output_grads],
                [None if g is None else np.array(np.asarray(g), copy=True) for g in input_grads],
                slots,
            )
        if previous is not None:
            previous(node, output_grads, input_grads)

    seed = Tensor._from_array(np.ones_like(output._data))
    TRACE.apply_observer = watch
    try:
        (result,) = grad(output, tensor, seed, retain_graph=True, allow_unused=True)
    finally:
        TRACE.apply_observer = previous
    gradient = (
        None if result is None else np.asarray(result._data if hasattr(result, "_data") else result)
    )
    return observed, gradient


def _zero_culprits(
    path: list[Node], observed: dict, tensor: Tensor, target: Node | None
) -> list[tuple[Node, int, float, str]]:
    """Ops that turn a nonzero incoming gradient into zeros on the way to ``tensor``."""
    found = []
    for node in path:
        seen = observed.get(node)
        if seen is None:
            continue
        outs, ins, slots = seen
        out = next((g for g in outs if g is not None), None)
        for slot in slots:
            g_in = ins[slot]
            if g_in is None or out is None or g_in.size == 0:
                continue
            if g_in.shape == out.shape:
                killed = float(np.mean((out != 0) & (g_in == 0)))
            else:
                killed = max(0.0, float(np.mean(g_in == 0)) - float(np.mean(out == 0)))
            if killed > 0:
                found.append((node, slot, killed, _why_zero(node, slot, killed, g_in)))
    found.sort(key=lambda item: -item[2])
    return found
