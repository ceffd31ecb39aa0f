"""Graph nodes and saved tensors: what backward walks and what it keeps alive.

A node holds edges to its inputs' nodes (or leaf tensors), the inputs' shapes and dtypes (to
reduce broadcast gradients and cast them back), and what its gradient rule asked to save. It
never points at its outputs, so a freed graph is returned by reference counting alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from .registry import GRAD, OUT, RESIDUALS, SAVED, SAVED_LIST, VALUE, XP, OpSpec
from .tracing import TRACE, _scope
from .xp import ARRAY, TENSOR

if TYPE_CHECKING:
    from .tensor import Tensor

FREED_MESSAGE = (
    "backward through a graph that was already freed; pass retain_graph=True to the first "
    "backward() if you need to call it twice"
)


def backward_name(name: str) -> str:
    """``linear_addmm`` -> ``LinearAddmmBackward``, the name PyTorch shows in ``grad_fn``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_")) + "Backward"


class SavedTensor:
    """A tensor saved for backward with the version it had, so in-place changes are caught.

    ``array`` is what the forward computed with (a promoted copy when the dtype changed).
    ``tensor`` is kept for ``create_graph`` backward, where the rule needs the graph behind the
    input; it is None for a node's own output (holding it would make a node <-> output cycle)
    and for Python numbers.
    """

    __slots__ = ("tensor", "array", "counter", "version", "output_nr")

    def __init__(self, tensor: Tensor | None, array: np.ndarray, output_nr: int = -1) -> None:
        self.array = array
        self.output_nr = output_nr
        if tensor is None:
            self.tensor = self.counter = None
            self.version = 0
        else:
            self.counter = tensor._version_counter
            self.version = self.counter[0]
            self.tensor = None if output_nr >= 0 else tensor

    def check(self, node: Node, index: int) -> None:
        """Raise if the tensor was modified in place since it was saved."""
        counter = self.counter
        if counter is not None and counter[0] != self.version:
            raise RuntimeError(
                f"{node.type_name()} needs input {index}"
                f"{' (its output)' if self.output_nr >= 0 else ''} of shape "
                f"{tuple(self.array.shape)}, which was modified in place after it was saved "
                f"(version {self.version} -> {counter[0]}); call .clone() before modifying it"
            )

    def as_tensor(self, node: Node, index: int) -> Tensor:
        """The saved value as a Tensor connected to the graph (for ``create_graph``)."""
        from .tensor import Tensor

        self.check(node, index)
        if self.output_nr >= 0:
            restored = Tensor._from_array(self.array)
            restored._version_counter = self.counter if self.counter is not None else [0]
            restored._grad_fn = node
            restored._output_nr = self.output_nr
            return restored
        tensor = self.tensor
        if tensor is None:
            return Tensor._from_array(self.array)
        if self.array is not tensor._data:
            if tensor._grad_fn is None and not tensor._requires_grad:
                # Not in any graph: the promoted array is the value (exact for a Python float).
                return Tensor._from_array(self.array)
            return tensor.to(self.array.dtype)
        return tensor


class NodeHooks:
    """What users attached to a node's outputs: tensor hooks and ``retain_grad`` requests."""

    __slots__ = ("tensor_hooks", "retain_refs")

    def __init__(self) -> None:
        self.tensor_hooks: dict[int, dict[int, Any]] | None = None
        self.retain_refs: dict[int, Any] | None = None


class Node:
    """A recorded operation: edges to its inputs' nodes (or leaves) and what backward needs.

    ``hooks`` is None unless a tensor hook or ``retain_grad()`` was registered on an output
    (backward checks that one slot); rarely set attributes (anomaly traces, viz values and
    gradient statistics) default to None at class level and live in the instance dict.
    """

    __slots__ = ("next_edges", "input_shapes", "input_dtypes", "module_path", "hooks",
                 "__dict__", "__weakref__")  # fmt: skip
    num_outputs = 1
    trace: str | None = None
    values: tuple[np.ndarray, ...] | None = None
    grad_stats: Any = None

    def _connect(self, inputs: Sequence[Tensor | None]) -> None:
        """Record an edge, shape and dtype for every input (None for non-tensor inputs)."""
        edges: list[tuple[Any, int] | None] = []
        shapes: list[tuple | None] = []
        dtypes: list[np.dtype | None] = []
        for t in inputs:
            if t is None:
                edges.append(None)
                shapes.append(None)
                dtypes.append(None)
                continue
            if t._grad_fn is not None:
                edges.append((t._grad_fn, t._output_nr))
            elif t._requires_grad:
                edges.append((t, 0))
            else:
                edges.append(None)
            shapes.append(t._data.shape)
            dtypes.append(t._data.dtype)
        self.next_edges = tuple(edges)
        self.input_shapes = tuple(shapes)
        self.input_dtypes = tuple(dtypes)
        self.module_path = _scope.path or None
        self.hooks: NodeHooks | None = None

    @property
    def tensor_hooks(self) -> dict[int, dict[int, Any]] | None:
        """Hooks registered on this node's outputs: ``{output: {handle id: hook}}``."""
        return self.hooks.tensor_hooks if self.hooks is not None else None

    @tensor_hooks.setter
    def tensor_hooks(self, value: dict[int, dict[int, Any]] | None) -> None:
        self._node_hooks().tensor_hooks = value

    @property
    def retain_refs(self) -> dict[int, Any] | None:
        """Outputs that called ``retain_grad()``: ``{output: weakref to the tensor}``."""
        return self.hooks.retain_refs if self.hooks is not None else None

    @retain_refs.setter
    def retain_refs(self, value: dict[int, Any] | None) -> None:
        self._node_hooks().retain_refs = value

    def _node_hooks(self) -> NodeHooks:
        hooks = self.hooks
        if hooks is None:
            hooks = self.hooks = NodeHooks()
        return hooks

    @property
    def freed(self) -> bool:
        """Whether backward already dropped what this node saved."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The op's name (``mul``), as registered."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.type_name()}>"

    def type_name(self) -> str:
        """Return ``<Name>Backward``, the name PyTorch shows in ``grad_fn``."""
        return backward_name(self.name)

    @property
    def next_functions(self) -> tuple:
        """PyTorch-style view of the edges: ``(node or leaf tensor, index)`` or ``(None, 0)``."""
        return tuple(edge if edge is not None else (None, 0) for edge in self.next_edges)

    @property
    def output_meta(self) -> tuple[tuple[tuple, Any], ...]:
        """``(shape, dtype)`` of each output."""
        raise NotImplementedError

    def apply(self, grads: list, create_graph: bool) -> Sequence[Any]:
        """Run the gradient rule: one gradient (or None) per input.

        ``grads`` (one per output, None where nothing arrived) are NumPy arrays in a
        first-order backward and Tensors under ``create_graph``; the result is of the same kind.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement apply")

    def release(self) -> None:
        """Drop what was saved for backward (the graph's structure stays)."""

    def saved_items(self) -> list[tuple[str, np.ndarray]]:
        """What this node keeps for backward, by the names its rule asks for."""
        return []

    def saved_arrays(self) -> Iterator[np.ndarray]:
        """The arrays this node keeps alive (for memory accounting and viz)."""
        return (array for _, array in self.saved_items())

    def options(self) -> dict[str, Any]:
        """The forward's non-tensor options (for viz labels)."""
        return {}


class PrimitiveNode(Node):
    """Node of a registered primitive: runs its rule on the saved values.

    A saved input or output is a tuple ``(tensor, array, version_counter, version)``:
    ``array`` is what the forward computed with, ``tensor`` the input for ``create_graph``
    (None for the node's own output and for Python numbers).
    """

    __slots__ = ("spec", "saved", "_options", "_out_meta")

    def __init__(
        self,
        spec: OpSpec,
        inputs: Sequence[Tensor | None],
        arrays: Sequence[np.ndarray],
        options: dict,
        out: Tensor,
        residuals: Any = None,
    ) -> None:
        edges: list[tuple[Any, int] | None] = []
        shapes: list[tuple | None] = []
        dtypes: list[np.dtype | None] = []
        for t in inputs:
            if t is None:
                edges.append(None)
                shapes.append(None)
                dtypes.append(None)
                continue
            node = t._grad_fn
            if node is not None:
                edges.append((node, t._output_nr))
            elif t._requires_grad:
                edges.append((t, 0))
            else:
                edges.append(None)
            data = t._data
            shapes.append(data.shape)
            dtypes.append(data.dtype)
        self.next_edges = tuple(edges)
        self.input_shapes = tuple(shapes)
        self.input_dtypes = tuple(dtypes)
        self.module_path = _scope.path or None
        self.hooks = None
        self.spec = spec
        self._options = options
        out_array = out._data
        self._out_meta = (out_array.shape, out_array.dtype)
        if TRACE.keep_values:
            self.values = (out_array,)
        saved: list[Any] = []
        for kind, key in spec.vjp_plan:
            if kind == SAVED:
                t = inputs[key]
                if t is None:
                    saved.append((None, arrays[key], None, 0))
                else:
                    counter = t._version_counter
                    saved.append((t, arrays[key], counter, counter[0]))
            elif kind == OUT:
                counter = out._version_counter
                saved.append((None, out_array, counter, counter[0]))
            elif kind == VALUE:
                if key == "needs_input_grad":
                    saved.append(None)  # read from the edges when the rule runs
                elif key[0] == "option":
                    saved.append(options[key[1]])
                elif spec.variadic:
                    saved.append([a.shape for a in arrays])
                else:
                    saved.append(arrays[key[1]].shape)
            elif kind == SAVED_LIST:
                saved.append([SavedTensor(t, a) if t is not None else SavedTensor(None, a)
                              for t, a in zip(inputs, arrays)])  # fmt: skip
            elif kind == RESIDUALS:
                saved.append(residuals)
            else:
                saved.append(None)
        self.saved: list[Any] | None = saved

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """Which inputs the gradient flows to (as ``ctx.needs_input_grad``)."""
        return tuple(edge is not None for edge in self.next_edges)

    @property
    def freed(self) -> bool:
        return self.saved is None

    @property
    def name(self) -> str:
        return self.spec.name

    def type_name(self) -> str:
        node_name = self.spec.node_name
        return backward_name(self.spec.name) if node_name is None else node_name + "Backward"

    @property
    def output_meta(self) -> tuple[tuple[tuple, Any], ...]:
        return (self._out_meta,)

    def options(self) -> dict[str, Any]:
        return dict(self._options)

    def apply(self, grads: list, create_graph: bool) -> Sequence[Any]:
        saved = self.saved
        if saved is None:
            raise RuntimeError(FREED_MESSAGE)
        args: list[Any] = []
        for (kind, key), value in zip(self.spec.vjp_plan, saved):
            if kind == GRAD:
                args.append(grads[0])
            elif kind == SAVED or kind == OUT:
                counter = value[2]
                if counter is not None and counter[0] != value[3]:
                    raise _modified_error(self, key if kind == SAVED else 0, value, kind == OUT)
                args.append(self._as_tensor(value, kind == OUT) if create_graph else value[1])
            elif kind == VALUE or kind == RESIDUALS:
                if key == "needs_input_grad":
                    value = tuple([edge is not None for edge in self.next_edges])
                args.append(value)
            elif kind == XP:
                args.append(TENSOR if create_graph else ARRAY)
            else:
                args.append(self._unpack_list(value, create_graph))
        result = self.spec.vjp_fn(*args)  # type: ignore[misc]
        return result if type(result) is tuple or type(result) is list else (result,)

    def _as_tensor(self, value: tuple, is_output: bool) -> Tensor:
        """A saved value as a Tensor connected to the graph (for ``create_graph``)."""
        from .tensor import Tensor

        tensor, array, counter, _ = value
        if is_output:
            restored = Tensor._from_array(array)
            restored._version_counter = counter
            restored._grad_fn = self
            return restored
        if tensor is None:
            return Tensor._from_array(array)
        if array is not tensor._data:
            if tensor._grad_fn is None and not tensor._requires_grad:
                # Not in any graph: the promoted array is the value (exact for a Python float).
                return Tensor._from_array(array)
            return tensor.to(array.dtype)
        return tensor

    def _unpack_list(self, values: list[SavedTensor], create_graph: bool) -> list:
        unpacked: list[Any] = []
        for i, value in enumerate(values):
            if create_graph:
                unpacked.append(value.as_tensor(self, i))
            else:
                value.check(self, i)
                unpacked.append(value.array)
        return unpacked

    def release(self) -> None:
        self.saved = None

    def saved_items(self) -> list[tuple[str, np.ndarray]]:
        items: list[tuple[str, np.ndarray]] = []
        names = self.spec.vjp_names
        for name, (kind, _), value in zip(names, self.spec.vjp_plan, self.saved or ()):
            if kind in (SAVED, OUT):
                items.append((name, value[1]))
            elif kind == SAVED_LIST:
                items.extend((f"{name}[{i}]", v.array) for i, v in enumerate(value))
            elif kind == RESIDUALS:
                items.extend(_residual_arrays(name, value))
        return items


def _modified_error(node: Node, index: int, value: tuple, is_output: bool) -> RuntimeError:
    return RuntimeError(
        f"{node.type_name()} needs input {index}{' (its output)' if is_output else ''} of shape "
        f"{tuple(value[1].shape)}, which was modified in place after it was saved (version "
        f"{value[3]} -> {value[2][0]}); call .clone() before modifying it"
    )


def _residual_arrays(name: str, value: Any) -> list[tuple[str, np.ndarray]]:
    """The arrays inside a rule's residuals (an array, or a tuple/list/dict of them)."""
    if isinstance(value, np.ndarray):
        return [(name, value)]
    if isinstance(value, (tuple, list)):
        return [item for i, v in enumerate(value) for item in _residual_arrays(f"{name}[{i}]", v)]
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _residual_arrays(f"{name}[{k!r}]", v)]
    return []
