"""Graph nodes and saved tensors: what backward walks and what it keeps alive.

A node holds edges to its inputs' nodes (or leaf tensors), the inputs' shapes and dtypes (to
reduce broadcast gradients and cast them back), and what its gradient rule asked to save. It
never points at its outputs, so a freed graph is returned by reference counting alone.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from .registry import GRAD, NEEDS, OUT, RESIDUALS, SAVED, SAVED_LIST, VALUE, XP, OpSpec
from .tracing import TRACE, _scope
from .xp import ARRAY, TENSOR

if TYPE_CHECKING:
    from .tensor import Tensor

# Nodes are numbered as they are made. A node's inputs existed before it, so every edge points
# to a smaller number, and backward runs the nodes from the largest number down (as PyTorch's
# engine orders ready nodes by sequence number).
next_sequence_number = itertools.count().__next__

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

    Kept compact, because every op makes one and the garbage collector counts every container
    a node holds: ``_edges`` is flat (``target, slot`` per input, target None where no
    gradient flows), ``_meta`` too (``shape, dtype`` per input). ``hooks`` is None unless a
    tensor hook or ``retain_grad()`` was registered on an output; rarely set attributes
    (anomaly traces, viz values and gradient statistics) default to None at class level and
    live in the instance dict.
    """

    __slots__ = ("_edges", "_meta", "_seq", "module_path", "hooks", "__dict__", "__weakref__")
    num_outputs = 1
    trace: str | None = None
    values: tuple[np.ndarray, ...] | None = None
    grad_stats: Any = None
    # The public op a composite ran this node for, when the node's own op would mislead a
    # reader (``max(dim)`` and ``sort`` select with ``gather``): drawings and explain_grad
    # show it. Set by ``shown_as``, on those few nodes only.
    public_name: str | None = None

    def _connect(self, inputs: Sequence[Tensor | None]) -> None:
        """Record an edge, shape and dtype for every input (None for non-tensor inputs)."""
        edges: list[Any] = []
        meta: list[Any] = []
        for t in inputs:
            if t is None:
                edges += (None, 0)
                meta += (None, None)
                continue
            if t._grad_fn is not None:
                edges += (t._grad_fn, t._output_nr)
            elif t._requires_grad:
                edges += (t, 0)
            else:
                edges += (None, 0)
            meta += (t._data.shape, t._data.dtype)
        self._edges = tuple(edges)
        self._meta = tuple(meta)
        self._seq = next_sequence_number()
        self.module_path = _scope.path or None
        self.hooks: NodeHooks | None = None

    @property
    def next_edges(self) -> tuple[tuple[Any, int] | None, ...]:
        """One ``(node or leaf tensor, output index)`` per input, None where no gradient flows."""
        edges = self._edges
        return tuple(
            None if edges[i] is None else (edges[i], edges[i + 1]) for i in range(0, len(edges), 2)
        )

    @property
    def input_shapes(self) -> tuple[tuple | None, ...]:
        """Each input's shape (None for a Python number)."""
        return self._meta[0 : 2 * (len(self._edges) // 2) : 2]

    @property
    def input_dtypes(self) -> tuple[Any, ...]:
        """Each input's dtype (None for a Python number)."""
        return self._meta[1 : 2 * (len(self._edges) // 2) : 2]

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
    def op_name(self) -> str:
        """The op's name (``mul``), as registered: what viz, anomaly and ONNX export key on."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.type_name()}>"

    def name(self) -> str:
        """Return ``<Name>Backward``, as PyTorch's ``grad_fn.name()`` (same as ``type_name()``)."""
        return self.type_name()

    def type_name(self) -> str:
        """Return ``<Name>Backward``, the name PyTorch shows in ``grad_fn``."""
        return backward_name(self.op_name)

    @property
    def next_functions(self) -> tuple:
        """PyTorch's view of the edges: ``(node, index)``, ``(AccumulateGrad, 0)`` for a leaf,
        ``(None, 0)`` where no gradient flows (``next_edges`` has the leaf tensors themselves)."""
        return tuple(
            (None, 0) if edge is None
            else edge if isinstance(edge[0], Node)
            else (AccumulateGrad(edge[0]), 0)
            for edge in self.next_edges
        )  # fmt: skip

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


class AccumulateGrad:
    """A leaf as ``next_functions`` shows it, like PyTorch's ``AccumulateGrad`` node.

    Backward needs no such node (it writes a leaf's ``.grad`` directly); this view lets a
    tutorial's walk over ``grad_fn.next_functions`` read as it does in PyTorch.

    Example:
        >>> import autograd as ag
        >>> w = ag.tensor([2.0], requires_grad=True)
        >>> leaf = (w * 3).grad_fn.next_functions[0][0]
        >>> leaf.name(), leaf.variable is w, leaf.next_functions
        ('AccumulateGrad', True, ())
    """

    __slots__ = ("variable",)
    next_functions: tuple = ()

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        """``'AccumulateGrad'``, as PyTorch's ``grad_fn.name()``."""
        return "AccumulateGrad"

    def type_name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)


class PrimitiveNode(Node):
    """Node of a registered primitive: runs its rule on the saved values.

    ``_meta`` ends with the output's shape and dtype. ``saved`` is flat, laid out by the op's
    ``save_plan``: a saved input or output takes four slots, ``tensor, array, version counter,
    version`` (``array`` is what the forward computed with; ``tensor`` the input, for
    ``create_graph``; None for the node's own output and for Python numbers).
    """

    __slots__ = ("spec", "saved", "_options")

    def __init__(
        self,
        spec: OpSpec,
        inputs: Sequence[Tensor | None],
        arrays: Sequence[np.ndarray],
        options: dict,
        out: Tensor,
        residuals: Any = None,
    ) -> None:
        out_array = out._data
        out_shape = out_array.shape
        out_dtype = out_array.dtype
        if len(inputs) == 1:
            t = inputs[0]
            assert t is not None  # a one-input op always has its tensor
            data = t._data
            node = t._grad_fn
            self._edges = (node, t._output_nr) if node is not None else (t, 0)
            shape = data.shape
            self._meta = (out_shape if shape == out_shape else shape, data.dtype, out_shape,
                          out_dtype)  # fmt: skip
        elif len(inputs) == 2:  # binary ops, the commonest: no lists, no loop
            x, y = inputs
            if x is None:
                x_node, x_nr, x_shape, x_dtype = None, 0, None, None
            else:
                x_node = x._grad_fn
                x_nr = x._output_nr
                if x_node is None:
                    x_node = x if x._requires_grad else None
                    x_nr = 0
                data = x._data
                x_shape = data.shape
                if x_shape == out_shape:
                    x_shape = out_shape
                x_dtype = data.dtype
            if y is None:
                y_node, y_nr, y_shape, y_dtype = None, 0, None, None
            else:
                y_node = y._grad_fn
                y_nr = y._output_nr
                if y_node is None:
                    y_node = y if y._requires_grad else None
                    y_nr = 0
                data = y._data
                y_shape = data.shape
                if y_shape == out_shape:
                    y_shape = out_shape
                y_dtype = data.dtype
            self._edges = (x_node, x_nr, y_node, y_nr)
            self._meta = (x_shape, x_dtype, y_shape, y_dtype, out_shape, out_dtype)
        elif len(inputs) == 3 and inputs[0] is not None and inputs[1] is not None and (
            inputs[2] is not None
        ):
            # Three tensors (a linear layer's bias, input and weight): no lists, no loop.
            a: Tensor
            b: Tensor
            c: Tensor
            a, b, c = inputs  # type: ignore[assignment]  # three Tensors, checked above
            a_node, b_node, c_node = a._grad_fn, b._grad_fn, c._grad_fn
            self._edges = (
                a_node if a_node is not None else (a if a._requires_grad else None),
                a._output_nr if a_node is not None else 0,
                b_node if b_node is not None else (b if b._requires_grad else None),
                b._output_nr if b_node is not None else 0,
                c_node if c_node is not None else (c if c._requires_grad else None),
                c._output_nr if c_node is not None else 0,
            )
            a_data, b_data, c_data = a._data, b._data, c._data
            self._meta = (a_data.shape, a_data.dtype, b_data.shape, b_data.dtype, c_data.shape,
                          c_data.dtype, out_shape, out_dtype)  # fmt: skip
        else:
            edges: list[Any] = []
            meta: list[Any] = []
            for t in inputs:
                if t is None:
                    edges += (None, 0)
                    meta += (None, None)
                    continue
                node = t._grad_fn
                if node is not None:
                    edges += (node, t._output_nr)
                elif t._requires_grad:
                    edges += (t, 0)
                else:
                    edges += (None, 0)
                data = t._data
                shape = data.shape
                # The output's own shape tuple where they are equal: one object fewer per node.
                meta += (out_shape if shape == out_shape else shape, data.dtype)
            meta += (out_shape, out_dtype)
            self._edges = tuple(edges)
            self._meta = tuple(meta)
        self._seq = next_sequence_number()
        self.module_path = _scope.path or None
        self.hooks = None
        self.spec = spec
        self._options = options
        if TRACE.keep_values:
            self.values = (out_array,)
        save = spec.save_values
        if save is None:
            from .call_compiler import compile_save_values

            save = spec.save_values = compile_save_values(spec)
        saved = save(inputs, arrays, options, out, out_array, residuals)
        self.saved: tuple[Any, ...] | None = saved

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """Which inputs the gradient flows to (as ``ctx.needs_input_grad``)."""
        edges = self._edges
        return tuple([edges[i] is not None for i in range(0, len(edges), 2)])

    @property
    def freed(self) -> bool:
        return self.saved is None

    @property
    def op_name(self) -> str:
        return self.spec.name

    def type_name(self) -> str:
        node_name = self.spec.node_name
        return backward_name(self.spec.name) if node_name is None else node_name + "Backward"

    @property
    def output_meta(self) -> tuple[tuple[tuple, Any], ...]:
        return (self._meta[-2:],)

    def options(self) -> dict[str, Any]:
        return dict(self._options)

    def apply(self, grads: list, create_graph: bool) -> Sequence[Any]:
        if create_graph:
            return self.apply_by_plan(grads, True)
        array_apply = self.spec.array_apply
        if array_apply is None:
            from .call_compiler import compile_array_apply

            array_apply = self.spec.array_apply = compile_array_apply(self.spec)
        return array_apply(self, grads)

    def apply_by_plan(self, grads: list, create_graph: bool) -> Sequence[Any]:
        """The rule called by reading its argument plan: under ``create_graph`` (saved values
        as Tensors on the graph) and for variadic ops; other first-order calls are compiled."""
        saved = self.saved
        if saved is None:
            raise RuntimeError(FREED_MESSAGE)
        args: list[Any] = []
        for kind, at, index in self.spec.arg_plan:
            if kind == GRAD:
                args.append(grads[0])
            elif kind == SAVED or kind == OUT:
                counter = saved[at + 2]
                if counter is not None and counter[0] != saved[at + 3]:
                    raise _modified_error(self, index, saved, at, kind == OUT)
                if create_graph:
                    args.append(self._as_tensor(saved, at, kind == OUT))
                else:
                    args.append(saved[at + 1])
            elif kind == VALUE or kind == RESIDUALS:
                args.append(saved[at])
            elif kind == NEEDS:
                args.append(self.needs_input_grad)
            elif kind == XP:
                args.append(TENSOR if create_graph else ARRAY)
            else:
                args.append(self._unpack_list(saved[at], create_graph))
        result = self.spec.vjp_fn(*args)  # type: ignore[misc]
        return result if type(result) is tuple or type(result) is list else (result,)

    def _as_tensor(self, saved: tuple, at: int, is_output: bool) -> Tensor:
        """A saved value as a Tensor connected to the graph (for ``create_graph``)."""
        from .tensor import Tensor

        tensor, array, counter = saved[at], saved[at + 1], saved[at + 2]
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
        saved = self.saved
        if saved is None:
            return items
        for name, (kind, at, _) in zip(self.spec.vjp_names, self.spec.arg_plan):
            if kind in (SAVED, OUT):
                items.append((name, saved[at + 1]))
            elif kind == SAVED_LIST:
                items.extend((f"{name}[{i}]", v.array) for i, v in enumerate(saved[at]))
            elif kind == RESIDUALS:
                items.extend(_residual_arrays(name, saved[at]))
        return items


def _modified_error(node: Node, index: int, saved: tuple, at: int, is_output: bool) -> RuntimeError:
    return RuntimeError(
        f"{node.type_name()} needs input {index}{' (its output)' if is_output else ''} of shape "
        f"{tuple(saved[at + 1].shape)}, which was modified in place after it was saved "
        f"(version {saved[at + 3]} -> {saved[at + 2][0]}); call .clone() before modifying it"
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


def shown_as(t: Tensor, public_name: str) -> Tensor:
    """Name ``t``'s node after the public op that made it (``max`` for the ``gather`` that
    ``max(dim)`` runs), for drawings and ``explain_grad``; returns ``t``."""
    node = t._grad_fn
    if node is not None:
        node.public_name = public_name
    return t
