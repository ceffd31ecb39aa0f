"""One recorded run of a model for export: every graph node its outputs need (in creation order,
which is topological), the inputs of each node that have no edge (constants, buffers, detached
values), every node's output values, and the primitive calls that made no node (comparisons,
ops on tensors that need no gradient), which feed the graph through those edgeless inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..grad_mode import enable_grad
from ..graph import Node
from ..graph import backward_name as _backward_name
from ..tensor import Tensor
from ..tracing import TRACE
from ..tracing import current_module_path as _current_module_path


class OnnxExportError(RuntimeError):
    """The graph cannot be written as ONNX; the message names the op and its module."""


class Call:
    """A primitive call that made no graph node, seen through the same interface as a node."""

    def __init__(self, spec: Any, inputs: Sequence[Tensor], options: dict, out: Tensor) -> None:
        self.op_name: str = spec.name
        self._node_name: str | None = spec.node_name
        self.next_edges: tuple = (None,) * len(inputs)
        self.input_shapes = tuple(t._data.shape for t in inputs)
        self.input_dtypes = tuple(t._data.dtype for t in inputs)
        self.output_meta = ((out._data.shape, out._data.dtype),)
        self.values = (out._data,)
        self.num_outputs = 1
        self.module_path = _current_module_path()
        self._options = options

    def options(self) -> dict[str, Any]:
        return dict(self._options)

    def type_name(self) -> str:
        node_name = self._node_name
        return _backward_name(self.op_name) if node_name is None else node_name + "Backward"


@dataclass
class Recording:
    """What one run of ``model(*args)`` recorded."""

    args: list[Any]  # the arguments as the model saw them (float tensors as fresh leaves)
    outputs: list[Tensor]
    nodes: list[Node] = field(default_factory=list)  # needed by the outputs, topological
    loose: dict[int, list[Any]] = field(default_factory=dict)  # id(node) -> edgeless inputs
    producers: dict[int, list[tuple[int, Any, int]]] = field(default_factory=dict)  # id(array)
    links: dict[int, list[tuple[Any, int] | None]] = field(default_factory=dict)  # per input

    def arg_index(self, tensor: Any) -> int | None:
        """Return which argument ``tensor`` is (or shares its array with), else None."""
        for i, arg in enumerate(self.args):
            if isinstance(arg, Tensor) and (arg is tensor or arg._data is tensor._data):
                return i
        return None

    def arg_of_array(self, array: Any) -> int | None:
        """Return which argument holds exactly ``array`` (an option such as ``indices``)."""
        for i, arg in enumerate(self.args):
            if isinstance(arg, Tensor) and arg._data is array:
                return i
        return None


def _flatten(result: Any, where: str = "output") -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [t for i, item in enumerate(result) for t in _flatten(item, f"{where}[{i}]")]
    if isinstance(result, dict):
        return [t for key, item in result.items() for t in _flatten(item, f"{where}[{key!r}]")]
    raise OnnxExportError(
        f"ag.onnx.export: the model returned {type(result).__name__} at {where}; expected "
        "Tensors (or tuples, lists and dicts of them)"
    )


def _as_leaf(arg: Any) -> Any:
    """Float tensors become fresh leaves that require grad, so the graph records their uses."""
    if isinstance(arg, Tensor) and arg.dtype.kind == "f":
        leaf = arg.detach()
        leaf.requires_grad_(True)
        return leaf
    return arg


def record(model: Any, args: Sequence[Any]) -> Recording:
    """Run ``model(*args)`` with recording on and return what its outputs depend on."""
    created: list[Any] = []  # graph nodes and calls outside the graph, in order
    loose: dict[int, list[Any]] = {}

    def observe_node(node: Node, inputs: Sequence[Any]) -> None:
        created.append(node)
        loose[id(node)] = [t if edge is None else None for t, edge in zip(inputs, node.next_edges)]

    def observe_call(spec: Any, inputs: Sequence[Tensor], options: dict, out: Tensor) -> None:
        if out._grad_fn is None:  # calls that made a node are known through the node
            call = Call(spec, inputs, options, out)
            created.append(call)
            loose[id(call)] = list(inputs)

    leaves = [_as_leaf(a) for a in args]
    saved = (TRACE.keep_values, TRACE.node_observer, TRACE.call_observer)
    TRACE.keep_values, TRACE.node_observer, TRACE.call_observer = True, observe_node, observe_call
    try:
        with enable_grad():
            result = model(*leaves)
    finally:
        TRACE.keep_values, TRACE.node_observer, TRACE.call_observer = saved
    run = Recording(args=leaves, outputs=_flatten(result), loose=loose)
    order = {id(node): i for i, node in enumerate(created)}
    for node in created:
        for k, array in enumerate(node.values or ()):
            run.producers.setdefault(id(array), []).append((order[id(node)], node, k))
    # an edgeless input comes from the latest call or node before its consumer that made its array
    for node in created:
        links = []
        for tensor in loose[id(node)]:
            links.append(_link(run, tensor, order[id(node)]))
        run.links[id(node)] = links
    needed: dict[int, Any] = {}
    stack = [t._grad_fn for t in run.outputs if t._grad_fn is not None]
    for t in run.outputs:
        link = _link(run, t, len(created)) if t._grad_fn is None else None
        if link is not None:
            stack.append(link[0])
    while stack:
        node = stack.pop()
        if id(node) in needed or id(node) not in order:
            continue
        needed[id(node)] = node
        for edge in node.next_edges:
            if edge is not None and isinstance(edge[0], Node):
                stack.append(edge[0])
        for link in run.links[id(node)]:
            if link is not None:
                stack.append(link[0])
    run.nodes = sorted(needed.values(), key=lambda n: order[id(n)])
    return run


def _link(run: Recording, tensor: Any, before: int) -> tuple[Any, int] | None:
    """The node or call output (made before position ``before``) a tensor's array is."""
    if not isinstance(tensor, Tensor) or run.arg_index(tensor) is not None:
        return None
    candidates = [c for c in run.producers.get(id(tensor._data), ()) if c[0] < before]
    if not candidates:
        return None
    _, node, k = max(candidates, key=lambda c: c[0])
    return node, k


def perturbed(args: Sequence[Any], grow: Sequence[set[int]], seed: int = 20240) -> list[Any]:
    """Return other arguments: new values, and one more entry along each axis in ``grow``.

    A second run with these shows which constants depend on the inputs and which sizes follow
    the dynamic axes.
    """
    rng = np.random.default_rng(seed)
    out: list[Any] = []
    for arg, axes in zip(args, grow):
        if not isinstance(arg, Tensor):
            out.append(arg)
            continue
        data = arg._data
        new: np.ndarray
        shape = tuple(n + 1 if axis in axes else n for axis, n in enumerate(data.shape))
        if data.dtype.kind == "f":
            spread = float(np.std(data)) if data.size > 1 and np.isfinite(data).all() else 1.0
            centre = float(np.mean(data)) if data.size and np.isfinite(data).all() else 0.0
            new = rng.standard_normal(shape) * (spread or 1.0) + centre
        elif data.dtype.kind in "iu":
            low, high = (int(data.min()), int(data.max())) if data.size else (0, 1)
            new = rng.integers(low, high + 1, size=shape) if high > low else np.full(shape, low)
            if data.size > 1 and high > low and np.array_equal(new.reshape(-1)[: data.size],
                                                               data.reshape(-1)):  # fmt: skip
                new = low + high - new  # make sure the values differ
        elif data.dtype.kind == "b":
            new = rng.random(shape) < 0.5
        else:
            new = np.resize(data, shape)
        out.append(Tensor._from_array(np.asarray(new, dtype=data.dtype)))
    return out
