"""Reverse mode: ``backward`` and ``grad``, one iterative walk over the graph in dependency order.

The walk never recurses (a chain of a million ops is fine). In a first-order backward the
gradients are NumPy arrays from end to end: each node's rule runs on arrays, and Tensors
appear only where the user sees them (``.grad``, hooks, ``ag.grad``'s results). With
``create_graph=True`` the same rules run on Tensors and record themselves. Broadcast
gradients are reduced to their input's shape in one place (``_reduce_to_input``); saved
values are freed as the walk passes each node unless ``retain_graph``.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush
from sys import getrefcount
from typing import Any, Literal, Sequence

import numpy as np

from . import anomaly
from .anomaly import _state as _anomaly_state
from .dispatch import _wrap
from .grad_mode import enter_quiet_region, exit_quiet_region
from .graph import Node, PrimitiveNode
from .tensor import Tensor
from .tracing import TRACE

__all__ = ["backward", "grad"]


class _Capture:
    """What ``ag.grad`` (or ``backward(inputs=...)``) collects instead of filling ``.grad``.

    Non-leaf inputs are caught where their node receives its gradient; leaves where the walk
    delivers to them.
    """

    def __init__(self, inputs: Sequence[Tensor]) -> None:
        self.inputs = list(inputs)
        self.at_nodes: dict[tuple[int, int], list[int]] = {}
        self.at_leaves: dict[int, list[int]] = {}
        for position, t in enumerate(self.inputs):
            if t._grad_fn is None:
                self.at_leaves.setdefault(id(t), []).append(position)
            else:
                self.at_nodes.setdefault((id(t._grad_fn), t._output_nr), []).append(position)
        self.results: list[Any] = [None] * len(self.inputs)

    def node(self, node: Node, grads: list) -> None:
        for index, grad in enumerate(grads):
            for position in self.at_nodes.get((id(node), index), ()):
                self._add(position, grad)

    def leaf(self, leaf: Tensor, grad: Any) -> None:
        for position in self.at_leaves.get(id(leaf), ()):
            self._add(position, grad)

    def _add(self, position: int, grad: Any) -> None:
        if grad is not None:
            current = self.results[position]
            self.results[position] = grad if current is None else current + grad

    def needed_nodes(self, counts: dict[Node, int]) -> set[Node]:
        """The nodes from which a wanted input can be reached (the rest of the graph is skipped)."""
        wanted = {t._grad_fn for t in self.inputs if t._grad_fn is not None}
        remaining = dict(counts)
        ready = [n for n, d in remaining.items() if d == 0]
        order = []
        while ready:
            node = ready.pop()
            order.append(node)
            for target in node._edges[::2]:
                if target is not None and isinstance(target, Node):
                    remaining[target] -= 1
                    if remaining[target] == 0:
                        ready.append(target)
        needed: set[Node] = set()
        for node in reversed(order):
            if node in wanted:
                needed.add(node)
                continue
            for target in node._edges[::2]:
                if target is None:
                    continue
                if target in needed if isinstance(target, Node) else id(target) in self.at_leaves:
                    needed.add(node)
                    break
        return needed


def _dependency_counts(roots: Sequence[Node]) -> dict[Node, int]:
    """For every node reachable from ``roots``, the number of edges that point at it."""
    counts: dict[Node, int] = dict.fromkeys(roots, 0)
    stack = list(counts)
    while stack:
        node = stack.pop()
        for target in node._edges[::2]:
            if target is not None and type(target) is not Tensor and isinstance(target, Node):
                if target in counts:
                    counts[target] += 1
                else:
                    counts[target] = 1
                    stack.append(target)
    return counts


def run_backward(
    outputs: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
) -> list[Any] | None:
    """Backpropagate ``root_grads`` from ``outputs``.

    ``root_grads`` are arrays, or Tensors under ``create_graph`` (what the walk carries). With
    ``inputs=None`` gradients accumulate into leaves' ``.grad`` (``backward``); otherwise the
    gradients of ``inputs`` are returned (arrays, or Tensors under ``create_graph``) and
    ``.grad`` is untouched (``grad``).
    """
    capture = _Capture(inputs) if inputs is not None else None
    buffers: dict[Node, list[Any]] = {}
    # A leaf's gradient is summed over every edge into it and delivered once, after the walk
    # (as PyTorch's AccumulateGrad node: the leaf's hooks see the total once).
    # ``id(leaf) -> [leaf, gradient]``.
    leaf_grads: dict[int, list[Any]] = {}
    roots: list[Node] = []
    # The walk records only under create_graph, keeps NumPy's floating-point warnings quiet
    # (anomaly mode checks the values instead) and is marked as a backward for anomaly mode.
    region = enter_quiet_region(create_graph)
    anomaly_was, _anomaly_state.in_backward = _anomaly_state.in_backward, True
    try:
        for output, start in zip(outputs, root_grads):
            node = output._grad_fn
            if node is None:
                _deliver_to_leaf(output, start, False, capture, create_graph)
            else:
                _add_to_buffer(buffers, node, output._output_nr, start)
                roots.append(node)
        # With ``ag.grad(inputs=...)`` only the nodes that lead to a wanted input run.
        needed = capture.needed_nodes(_dependency_counts(roots)) if capture is not None else None
        # The nodes that received a gradient, newest first: a node runs after every node made
        # after it, so all its gradient has arrived (edges point to older nodes).
        waiting = [(-node._seq, node) for node in dict.fromkeys(roots)]
        heapify(waiting)
        check_values = anomaly.is_anomaly_enabled()
        observe = TRACE.grad_observer
        plain_leaves = capture is None and observe is None and not create_graph
        plain_arrays = not create_graph and not check_values and TRACE.apply_observer is None
        watched = capture is not None or observe is not None or needed is not None
        while waiting:
            node = heappop(waiting)[1]
            grads = buffers.pop(node)
            if node.hooks is not None:  # tensor hooks, retained gradients
                if node.tensor_hooks:
                    grads = _run_tensor_hooks(node, grads, create_graph)
                if node.retain_refs and capture is None:  # ag.grad leaves .grad untouched
                    _retain(node, grads, create_graph)
                for g in grads:
                    if g is not None:
                        break
                else:
                    continue  # a hook returned None for every output (else one arrived)
            if watched:
                if capture is not None:
                    capture.node(node, grads)
                if observe is not None:
                    observe(node, grads)
                if needed is not None and node not in needed:
                    continue
            # One gradient per input, reduced to its shape and dtype (None where none flows).
            if (
                plain_arrays
                and type(node) is PrimitiveNode
                and (array_apply := node.spec.array_apply) is not None
            ):
                input_grads = array_apply(node, grads)  # what apply() would call
                if not retain_graph:
                    node.saved = None  # PrimitiveNode.release()
            else:
                input_grads = _apply(node, grads, create_graph, check_values)
                if not retain_graph:
                    node.release()
            pairs = iter(node._edges)  # (target, slot), (target, slot), ...
            for grad, target, slot in zip(input_grads, pairs, pairs):
                if grad is None:
                    continue
                if isinstance(target, Node):  # else a leaf Tensor
                    pending = buffers.get(target)
                    if pending is None:
                        if target._seq >= node._seq:
                            raise RuntimeError(
                                f"internal error: {node.type_name()} has an edge to "
                                f"{target.type_name()}, a node made after it"
                            )
                        if target.num_outputs == 1:
                            buffers[target] = [grad]
                        else:
                            pending = buffers[target] = [None] * target.num_outputs
                            pending[slot] = grad
                        heappush(waiting, (-target._seq, target))
                    else:
                        current = pending[slot]
                        pending[slot] = grad if current is None else current + grad
                elif capture is not None:
                    capture.leaf(target, grad)
                else:
                    if observe is not None:  # tools see each edge's contribution (viz.replay)
                        observe(target, [grad])
                    entry = leaf_grads.get(id(target))
                    if entry is None:
                        leaf_grads[id(target)] = [target, grad]
                    elif (
                        not create_graph
                        and entry[1].base is None
                        and getrefcount(entry[1]) == _HELD_BY_ENTRY
                    ):
                        entry[1] += grad  # an array of the leaf's shape and dtype, ours alone
                    else:
                        entry[1] = entry[1] + grad
            del grads
        input_grads = None  # the last rule's results: not a holder of any leaf's gradient
        for target, grad in leaf_grads.values():
            owned = not create_graph and grad.base is None and getrefcount(grad) == _HELD_BY_LOOP
            if (
                owned
                and plain_leaves
                and target._grad is None
                and not target._hooks
                and (flags := grad.flags).c_contiguous
                and flags.writeable
                and target._data.flags.c_contiguous
            ):
                # The common delivery: a new array becomes the leaf's first ``.grad``.
                target._grad = _wrap(grad)
            else:
                _deliver_to_leaf(target, grad, owned, None, create_graph, observed=True)
    finally:
        exit_quiet_region(region)
        _anomaly_state.in_backward = anomaly_was
    return capture.results if capture is not None else None


def _held_by_walk() -> tuple[int, int]:
    """What ``getrefcount`` reports for a gradient array only the walk holds: in a leaf's entry
    (``[leaf, gradient]``), and in the final delivery loop over the entries.

    A leaf keeps such an array as its ``.grad`` without a copy, and sums into it in place, as
    PyTorch's AccumulateGrad steals a gradient nobody else uses. Anything else holding it (a
    hook that kept it, an ``add`` that sent it to two inputs, a rule's saved value) adds a
    reference, and the array is copied. Measured here rather than assumed: interpreters
    differ in which references they count.
    """
    entries = {0: [None, np.empty(1)]}
    in_entry = getrefcount(entries[0][1])
    for _, grad in entries.values():
        return in_entry, getrefcount(grad)
    raise AssertionError("unreachable")


_HELD_BY_ENTRY, _HELD_BY_LOOP = _held_by_walk()


def _add_to_buffer(buffers: dict, node: Node, slot: int, grad: Any) -> None:
    grads = buffers.get(node)
    if grads is None:
        grads = buffers[node] = [None] * node.num_outputs
    current = grads[slot]
    grads[slot] = grad if current is None else current + grad


def _apply(node: Node, grads: list, create_graph: bool, check_values: bool) -> list[Any]:
    """Run a node's rule and reduce each gradient to its input's shape and dtype."""
    reduced = _reduced(node, node.apply(grads, create_graph), create_graph)
    if check_values:
        anomaly.check_backward(node, reduced, grads)
    if TRACE.apply_observer is not None:
        TRACE.apply_observer(node, grads, list(reduced))
    return reduced


def _reduced(node: Node, result: Sequence[Any], create_graph: bool) -> list[Any]:
    """A rule's result as one gradient per input, each of its input's shape and dtype (None
    where no gradient flows). Primitives' compiled rule calls do the same, unrolled."""
    edges = node._edges
    if 2 * len(result) != len(edges):
        raise _count_error(node, result)
    meta = node._meta
    reduced: list[Any] = []
    for index, grad in enumerate(result):
        if grad is None or edges[2 * index] is None:
            grad = None
        elif create_graph:
            grad = _reduce_to_input(node, index, grad, True)
        elif type(grad) is not np.ndarray or grad.shape != meta[2 * index]:
            grad = _reduce_to_input(node, index, grad, False)
        elif grad.dtype != meta[2 * index + 1]:
            grad = grad.astype(meta[2 * index + 1])
        reduced.append(grad)
    return reduced


def _count_error(node: Node, result: Sequence[Any]) -> RuntimeError:
    return RuntimeError(
        f"{node.type_name()} returned {len(result)} gradients but the op has "
        f"{len(node._edges) // 2} inputs"
    )


def _reduce_to_input(node: Node, index: int, grad: Any, create_graph: bool) -> Any:
    """Sum a broadcast gradient back to its input's shape and cast it to the input's dtype."""
    shape = node._meta[2 * index]
    dtype = node._meta[2 * index + 1]
    assert shape is not None, "an input with an edge has a recorded shape"
    if create_graph:
        if not isinstance(grad, Tensor):
            grad = Tensor._from_array(np.asarray(grad))
        if grad._data.shape != shape:
            grad = _sum_to(node, index, grad, grad._data.shape, shape)
        return grad if grad._data.dtype == dtype else grad.to(dtype)
    if type(grad) is not np.ndarray:
        grad = np.asarray(grad)
    if grad.shape != shape:
        grad = _sum_to(node, index, grad, grad.shape, shape)
    return grad if grad.dtype == dtype else grad.astype(dtype)


def _sum_to(node: Node, index: int, grad: Any, have: tuple, shape: tuple) -> Any:
    """Undo broadcasting: the one place a gradient is summed back to a smaller shape."""
    extra = len(have) - len(shape)
    if extra < 0 or any(s != 1 and have[extra + i] != s for i, s in enumerate(shape)):
        raise RuntimeError(
            f"{node.type_name()} returned a gradient of shape {tuple(have)} for input "
            f"{index} of shape {tuple(shape)}"
        )
    dims = tuple(range(extra)) + tuple(
        extra + i for i, s in enumerate(shape) if s == 1 and have[extra + i] != 1
    )
    if isinstance(grad, Tensor):
        return grad.sum(dim=dims, keepdim=True).reshape(shape)
    return np.sum(grad, axis=dims, keepdims=True).reshape(shape)


def _deliver_to_leaf(leaf: Tensor, grad: Any, owned: bool, capture: _Capture | None,
                     create_graph: bool, observed: bool = False) -> None:  # fmt: skip
    """Run the leaf's hooks on ``grad`` and add it to ``.grad`` (``observed``: the grad
    observer saw the contributions already)."""
    if capture is not None:
        capture.leaf(leaf, grad)
        return
    if leaf._hooks:
        for hook in list(leaf._hooks.values()):
            result = hook(grad if create_graph else Tensor._from_array(grad))
            if result is not None:
                grad = result if create_graph else np.asarray(result)
                owned = False
    if TRACE.grad_observer is not None and not observed:
        TRACE.grad_observer(leaf, [grad])
    if create_graph:
        leaf._grad = grad if leaf._grad is None else leaf._grad + grad
        return
    existing = leaf._grad
    if existing is None:
        leaf._grad = Tensor._from_array(_own(grad, leaf._data, owned))
    elif existing._grad_fn is None and existing._data.flags.writeable:
        existing._data += grad
        existing._version_counter[0] += 1
    else:
        leaf._grad = Tensor._from_array(existing._data + grad)


def _own(grad: np.ndarray, like: np.ndarray, owned: bool) -> np.ndarray:
    """A gradient array for ``.grad``: kept if new and laid out like the leaf, else copied.

    The copy takes the leaf's memory layout, as PyTorch's AccumulateGrad does: a transposed
    gradient would otherwise make every optimizer pass over it strided.
    """
    fortran = like.flags.f_contiguous and not like.flags.c_contiguous
    if owned and grad.dtype == like.dtype and grad.flags.writeable and (
        grad.flags.f_contiguous if fortran else grad.flags.c_contiguous
    ):
        return grad
    order: Literal["C", "F"] = "F" if fortran else "C"
    return np.array(grad, dtype=like.dtype, copy=True, order=order)


def _run_tensor_hooks(node: Node, grads: list, create_graph: bool) -> list:
    grads = list(grads)
    for index, hooks in (node.tensor_hooks or {}).items():
        for hook in list(hooks.values()):
            if grads[index] is None:
                continue
            given = grads[index] if create_graph else Tensor._from_array(grads[index])
            result = hook(given)
            if result is not None:
                grads[index] = result if create_graph else np.asarray(result)
    return grads


def _retain(node: Node, grads: list, create_graph: bool) -> None:
    """Fill ``.grad`` of non-leaf tensors that called ``retain_grad()``."""
    for index, ref in (node.retain_refs or {}).items():
        tensor = ref()
        grad = grads[index]
        if tensor is None or grad is None:
            continue
        kept = grad if create_graph else Tensor._from_array(np.array(grad, copy=True))
        tensor._grad = kept if tensor._grad is None else tensor._grad + kept


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, Tensor):
        return [value]
    return list(value)


def _root_gradients(outputs: list[Tensor], grad_outputs: list[Any], op: str,
                    create_graph: bool) -> list[Any]:  # fmt: skip
    """The gradient each output starts with, as the walk carries it: an array, or a Tensor under
    ``create_graph``."""
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"{op}: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    grads = []
    for i, output in enumerate(outputs):
        given = grad_outputs[i] if grad_outputs else None
        if given is None:
            if output._data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs, but the "
                    f"output has shape {tuple(output.shape)}; pass gradient= (a tensor of that "
                    "shape), e.g. out.backward(ag.ones_like(out))"
                )
            one = np.ones_like(output._data)
            grads.append(Tensor._from_array(one) if create_graph else one)
            continue
        if not isinstance(given, Tensor):
            given = Tensor._from_array(np.asarray(given, dtype=output.dtype))
        if given.shape != output.shape:
            raise RuntimeError(
                f"{op}: gradient has shape {tuple(given.shape)} but the output has shape "
                f"{tuple(output.shape)}"
            )
        grads.append(given if create_graph else given._data)
    return grads


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of every leaf they depend on.

    Example:
        >>> import autograd as ag
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> ag.backward((x * x).sum()); x.grad
        tensor([2., 4.])
    """
    if (
        grad_tensors is None
        and inputs is None
        and not create_graph
        and isinstance(tensors, Tensor)
        and tensors._grad_fn is not None
        and tensors._data.size == 1
    ):
        # ``loss.backward()``, the commonest call: the walk starts from a one.
        one = np.empty_like(tensors._data)
        one.fill(1)
        run_backward((tensors,), (one,), bool(retain_graph), False)
        return
    outputs = _as_list(tensors)
    for output in outputs:
        if not output.requires_grad:
            raise RuntimeError(
                "backward: element 0 of tensors does not require grad and does not have a "
                "grad_fn; did you create it under no_grad, or forget requires_grad=True?"
            )
    given = _as_list(grad_tensors) if grad_tensors is not None else []
    grads = _root_gradients(outputs, given, "backward", create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        run_backward(outputs, grads, retain_graph, create_graph)
        return
    wanted = _as_list(inputs)
    results = run_backward(outputs, grads, retain_graph, create_graph, inputs=wanted) or []
    for t, g in zip(wanted, results):
        if g is None:
            continue
        g = g if create_graph else Tensor._from_array(np.array(g, copy=True))
        t._grad = g if t._grad is None else t._grad + g


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return the gradients of ``outputs`` with respect to ``inputs`` (``.grad`` is untouched).

    With ``create_graph=True`` the results are differentiable again (higher-order gradients).

    Example:
        >>> import autograd as ag
        >>> x = ag.tensor(2.0, requires_grad=True)
        >>> (dy,) = ag.grad(x ** 3, x, create_graph=True)
        >>> dy.item(), dy.requires_grad, ag.grad(dy, x)[0].item()
        (12.0, True, 12.0)
    """
    output_list = _as_list(outputs)
    input_list = _as_list(inputs)
    for i, t in enumerate(input_list):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    for output in output_list:
        if not output.requires_grad:
            raise RuntimeError("grad: an output does not require grad and does not have a grad_fn")
    given = _as_list(grad_outputs) if grad_outputs is not None else []
    grads = _root_gradients(output_list, given, "grad", create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(output_list, grads, retain_graph, create_graph, inputs=input_list) or []
    final: list[Tensor | None] = []
    for i, (t, g) in enumerate(zip(input_list, results)):
        if g is None:
            if materialize_grads:
                g = Tensor._from_array(np.zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {tuple(t.shape)}) was not used in the graph of the "
                    "outputs; pass allow_unused=True to get None for it"
                )
        elif not create_graph:
            g = Tensor._from_array(g)
        final.append(g)
    return tuple(final)
