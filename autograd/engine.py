"""Reverse-mode backward and ``grad``: an iterative walk in dependency order.

The walk never recurses (a chain of a million ops is fine), reduces each
gradient to its input's shape in one place (``sum_to``), accumulates into
leaves' ``.grad`` and frees saved values as it goes unless ``retain_graph``.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np

from . import anomaly
from .function import _FREED_MESSAGE, TRACE, Node
from .grad_mode import set_grad_enabled
from .tensor import Tensor


def _sum_to(grad: Tensor, shape: tuple, node: Node, index: int) -> Tensor:
    """Reduce a broadcast gradient back to ``shape`` (the one place broadcasting is undone)."""
    if grad._data.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise RuntimeError(
            f"{node.type_name()} returned a gradient of shape {tuple(grad.shape)} for input "
            f"{index} of shape {tuple(shape)}"
        )
    dims = tuple(range(extra)) + tuple(
        extra + i
        for i, size in enumerate(shape)
        if size == 1 and grad._data.shape[extra + i] != 1
    )
    for i, size in enumerate(shape):
        if size != 1 and grad._data.shape[extra + i] != size:
            raise RuntimeError(
                f"{node.type_name()} returned a gradient of shape {tuple(grad.shape)} for input "
                f"{index} of shape {tuple(shape)}"
            )
    reduced = grad.sum(dim=dims, keepdim=True) if dims else grad
    return reduced.reshape(shape)


def _to_input(node: Node, index: int, grad: Tensor | None) -> Tensor | None:
    """An input's gradient as a Tensor of the input's shape and dtype (None stays None)."""
    if grad is None:
        return None
    if not isinstance(grad, Tensor):
        grad = Tensor._from_array(np.asarray(grad))
    shape = node.input_shapes[index]
    if shape is not None and grad._data.shape != shape:
        grad = _sum_to(grad, shape, node, index)
    dtype = node.input_dtypes[index]
    if grad._data.dtype != dtype:
        grad = grad.to(dtype)
    return grad


def _accumulate(current: Tensor | None, new: Tensor) -> Tensor:
    return new if current is None else current + new


def _topological_nodes(roots: Sequence[Node]) -> dict[Node, int]:
    """Count, for every node reachable from ``roots``, the edges that point at it."""
    dependencies: dict[Node, int] = {}
    stack = list(roots)
    seen = set(stack)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Node):
                dependencies[target] = dependencies.get(target, 0) + 1
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
    for node in seen:
        dependencies.setdefault(node, 0)
    return dependencies


def _nodes_leading_to(dependencies: dict[Node, int], targets_nodes: set, leaves: set) -> set:
    """The nodes from which one of the wanted inputs can be reached (the rest is skipped)."""
    remaining = dict(dependencies)
    order = [n for n, d in remaining.items() if d == 0]
    topo = []
    while order:
        node = order.pop()
        topo.append(node)
        for edge in node.next_edges:
            if edge is not None and isinstance(edge[0], Node):
                remaining[edge[0]] -= 1
                if remaining[edge[0]] == 0:
                    order.append(edge[0])
    needed: set = set()
    for node in reversed(topo):
        if node in targets_nodes:
            needed.add(node)
            continue
        for edge in node.next_edges:
            if edge is None:
                continue
            target = edge[0]
            if (isinstance(target, Node) and target in needed) or (
                not isinstance(target, Node) and id(target) in leaves
            ):
                needed.add(node)
                break
    return needed


def run_backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
) -> list[Tensor | None] | None:
    """Backpropagate ``grad_outputs`` from ``outputs``.

    With ``inputs=None`` gradients accumulate into leaves' ``.grad`` (``backward``);
    otherwise the gradients of ``inputs`` are returned and ``.grad`` is untouched (``grad``).
    """
    buffers: dict[Node, list[Tensor | None]] = {}
    captured: dict[int, Tensor | None] = {}
    leaf_inputs: set[int] = set()
    capture_points: dict[tuple[int, int], int] = {}
    if inputs is not None:
        for i, t in enumerate(inputs):
            if t._grad_fn is None:
                leaf_inputs.add(id(t))
            else:
                capture_points[(id(t._grad_fn), t._output_nr)] = i

    previous_in_backward = anomaly._state.in_backward
    anomaly._state.in_backward = True
    try:
        return _run(outputs, grad_outputs, retain_graph, create_graph, inputs, buffers, captured,
                    leaf_inputs, capture_points)  # fmt: skip
    finally:
        anomaly._state.in_backward = previous_in_backward


def _run(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None,
    buffers: dict,
    captured: dict,
    leaf_inputs: set,
    capture_points: dict,
) -> list[Tensor | None] | None:
    root_nodes = []
    with set_grad_enabled(create_graph):
        for output, root_grad in zip(outputs, grad_outputs):
            node = output._grad_fn
            if node is None:
                if output.requires_grad:
                    _deliver_to_leaf(output, root_grad, inputs, captured, create_graph)
                continue
            slot = buffers.setdefault(node, [None] * node.num_outputs)
            slot[output._output_nr] = _accumulate(slot[output._output_nr], root_grad)
            root_nodes.append(node)

        dependencies = _topological_nodes(root_nodes)
        needed = None
        if inputs is not None:
            input_nodes = {t._grad_fn for t in inputs if t._grad_fn is not None}
            needed = _nodes_leading_to(dependencies, input_nodes, leaf_inputs)
        ready = [n for n in dict.fromkeys(root_nodes) if dependencies[n] == 0]
        check_nan = anomaly.is_anomaly_enabled()

        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or [None] * node.num_outputs
            if node.tensor_hooks:
                for index, hooks in node.tensor_hooks.items():
                    for hook in list(hooks.values()):
                        if grads[index] is not None:
                            result = hook(grads[index])
                            if result is not None:
                                grads[index] = result
            if node.retain_refs and inputs is None:  # ag.grad leaves every .grad untouched
                for index, ref in node.retain_refs.items():
                    tensor = ref()
                    if tensor is not None and grads[index] is not None:
                        kept = grads[index] if create_graph else grads[index].detach()
                        tensor._grad = _accumulate(tensor._grad, kept)
            if capture_points:
                for index in range(node.num_outputs):
                    position = capture_points.get((id(node), index))
                    if position is not None:
                        captured[position] = _accumulate(captured.get(position), grads[index])

            if TRACE.grad_observer is not None:
                TRACE.grad_observer(node, grads)
            run = any(g is not None for g in grads) and (needed is None or node in needed)
            input_grads: Sequence[Tensor | None] = ()
            if run:
                if node.freed:
                    raise RuntimeError(_FREED_MESSAGE)
                input_grads = node.apply(grads)
                if len(input_grads) != len(node.next_edges):
                    raise RuntimeError(
                        f"{node.type_name()} returned {len(input_grads)} gradients but the op "
                        f"has {len(node.next_edges)} inputs"
                    )
                if check_nan:
                    anomaly.check_backward(node, input_grads, grads)
                if not retain_graph:
                    node.release()
                input_grads = [
                    _to_input(node, index, input_grads[index]) if edge is not None else None
                    for index, edge in enumerate(node.next_edges)
                ]
                if TRACE.apply_observer is not None:
                    TRACE.apply_observer(node, grads, input_grads)
            del grads

            for index, edge in enumerate(node.next_edges):
                if edge is None:
                    continue
                target, slot_index = edge
                grad: Tensor | None = input_grads[index] if run else None
                if isinstance(target, Node):
                    if grad is not None:
                        slot = buffers.setdefault(target, [None] * target.num_outputs)
                        slot[slot_index] = _accumulate(slot[slot_index], grad)
                    dependencies[target] -= 1
                    if dependencies[target] == 0:
                        ready.append(target)
                elif grad is not None:
                    _deliver_to_leaf(target, grad, inputs, captured, create_graph)

    if inputs is None:
        return None
    results: list[Tensor | None] = []
    for i, t in enumerate(inputs):
        results.append(captured.get(i) if t._grad_fn is not None else captured.get(-1 - id(t)))
    return results


def _deliver_to_leaf(
    leaf: Tensor,
    grad: Tensor,
    inputs: Sequence[Tensor] | None,
    captured: dict,
    create_graph: bool,
) -> None:
    if inputs is not None:
        key = -1 - id(leaf)
        if any(t is leaf for t in inputs):
            captured[key] = _accumulate(captured.get(key), grad)
        return
    if leaf._hooks:
        for hook in list(leaf._hooks.values()):
            result = hook(grad)
            if result is not None:
                grad = result
    if TRACE.grad_observer is not None:
        TRACE.grad_observer(leaf, [grad])
    if create_graph:
        leaf._grad = _accumulate(leaf._grad, grad)
    elif leaf._grad is None:
        # A copy: the same gradient tensor may flow to several leaves, and users mutate .grad.
        # It takes the leaf's memory layout (as PyTorch's AccumulateGrad does): a transposed
        # gradient (a linear layer's weight) would otherwise make every optimizer pass strided.
        data = leaf._data
        order: Literal["C", "F"] = "F" if data.flags.f_contiguous and not data.flags.c_contiguous else "C"
        leaf._grad = Tensor._from_array(
            np.array(grad._data, dtype=data.dtype, copy=True, order=order)
        )
    else:
        existing = leaf._grad
        if existing._grad_fn is None and existing._data.flags.writeable:
            existing._data += grad._data
            existing._version_counter[0] += 1
        else:
            leaf._grad = Tensor._from_array(existing._data + grad._data)
