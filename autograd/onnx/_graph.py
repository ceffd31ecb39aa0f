"""Building the ONNX graph from two recorded runs: where each node input comes from (a model
input, a parameter, a constant, another node), and :class:`Ctx`, what a translation sees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..graph import Node
from ..tensor import Tensor
from ._record import OnnxExportError, Recording

Translation = Callable[["Ctx"], None]

# op name -> translation; filled by ``_ops`` (one entry per op)
TRANSLATIONS: dict[str, Translation] = {}


def translates(*names: str) -> Callable[[Translation], Translation]:
    """Register a translation for the graph ops ``names`` (decorator)."""

    def decorator(function: Translation) -> Translation:
        for name in names:
            if name in TRANSLATIONS:
                raise ValueError(f"ag.onnx: op {name!r} has two translations")
            TRANSLATIONS[name] = function
        return function

    return decorator


class Source:
    """Where one input of a node comes from in both runs."""

    __slots__ = ("kind", "index", "node", "tensor", "twin", "const")

    def __init__(self, kind: str, *, index: int = 0, node: Node | None = None,
                 tensor: Any = None, twin: Any = None, const: bool = False) -> None:  # fmt: skip
        self.kind = kind  # "input", "node", "param", "const", "none"
        self.index = index  # the argument, or the node's output number
        self.node = node
        self.tensor = tensor
        self.twin = twin  # the same input in the second run (a tensor, for constants)
        self.const = const  # the value does not depend on the model's inputs


class Graph:
    """The ONNX graph under construction: nodes, initializers, names."""

    def __init__(self, opset: int, run: Recording, twin: Recording,
                 param_names: dict[int, str], module_names: dict[int, str]) -> None:  # fmt: skip
        import onnx  # noqa: F401  (the caller checked it is installed)

        self.opset = opset
        self.run, self.twin = run, twin
        self.param_names = param_names
        self.module_names = module_names
        self.nodes: list[Any] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.values: dict[tuple[int, int], str] = {}  # (id(node), output) -> ONNX name
        self.const_nodes: set[int] = set()
        self.input_names: list[str] = []
        self._by_id: dict[int, str] = {}  # id(tensor) -> initializer name
        self._used: set[str] = set()
        self._consumers: dict[tuple[int, int], list[tuple[Node, int]]] = {}
        self.twins: dict[int, Node] = {}  # id(node of run one) -> the same node in run two
        self._dims: dict[tuple[int, int], str] = {}

    def fresh(self, hint: str) -> str:
        """Return an unused value name built from ``hint``."""
        name, k = hint, 1
        while name in self._used:
            k += 1
            name = f"{hint}_{k}"
        self._used.add(name)
        return name

    def initializer(self, array: np.ndarray, hint: str, key: Any = None) -> str:
        """Add a constant tensor (once per ``key``) and return its name."""
        if key is not None and id(key) in self._by_id:
            return self._by_id[id(key)]
        name = self.fresh(hint)
        array = np.asarray(array)
        self.initializers[name] = array if array.flags.c_contiguous else array.copy(order="C")
        if key is not None:
            self._by_id[id(key)] = name
        return name

    def add_node(self, op_type: str, inputs: Sequence[str], outputs: Sequence[str], name: str,
                 attrs: dict[str, Any]) -> None:  # fmt: skip
        import onnx

        clean = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(onnx.helper.make_node(op_type, list(inputs), list(outputs),
                                                name=self.fresh(name), **clean))  # fmt: skip

    def param_name(self, tensor: Any) -> str | None:
        """The module path of a parameter or buffer (or of a detached alias of one)."""
        return self.param_names.get(id(tensor)) or self.param_names.get(id(tensor._data))

    def dim(self, first: int, second: int) -> str | None:
        """A 1-element int64 tensor holding the size that was ``first`` in run one and
        ``second`` in run two: the matching axis of a model input, read with Shape."""
        key = (first, second)
        if key in self._dims:
            return self._dims[key]
        for i, (a, b) in enumerate(zip(self.run.args, self.twin.args)):
            if not isinstance(a, Tensor) or not self.input_names[i]:
                continue
            for axis, (m, n) in enumerate(zip(a.shape, b.shape)):
                if (m, n) == key:
                    shape = self.fresh(f"{self.input_names[i]}_shape")
                    self.add_node("Shape", [self.input_names[i]], [shape], "Shape", {})
                    index = self.initializer(np.asarray([axis], np.int64), "axis")
                    name = self.fresh(f"{self.input_names[i]}_dim{axis}")
                    self.add_node("Gather", [shape, index], [name], "Gather", {"axis": 0})
                    self._dims[key] = name
                    return name
        return None

    def module_of(self, node: Node) -> str:
        """``'features.1 (BatchNorm2d)'``: the innermost module that created ``node``."""
        if not node.module_path:
            return "the model's forward (no module)"
        module = node.module_path[-1]
        if id(module) in self.module_names:
            where = self.module_names[id(module)] or "(root)"
        else:
            where = ".".join(type(m).__name__ for m in node.module_path)
        return f"{where} ({type(module).__name__})"

    def scope(self, node: Node) -> str:
        if not node.module_path:
            return ""
        return self.module_names.get(id(node.module_path[-1]), "") or ""

    def consumers(self, node: Node, output: int) -> list[tuple[Node, int]]:
        if not self._consumers:
            for user in self.run.nodes:
                for i, edge in enumerate(user.next_edges):
                    edge = edge if edge is not None else self.run.links[id(user)][i]
                    if edge is not None and not isinstance(edge[0], Tensor):
                        self._consumers.setdefault((id(edge[0]), edge[1]), []).append((user, i))
        return self._consumers.get((id(node), output), [])

    def peek(self, node: Node, i: int) -> Source:
        """Where input ``i`` of an already exported ``node`` comes from."""
        return self.source(-1, node, self.twins[id(node)], i)

    def producer_of(self, node: Node, i: int) -> tuple[Node, int] | None:
        source = self.peek(node, i)
        return (source.node, source.index) if source.kind == "node" and source.node else None

    def const_value(self, node: Node, i: int) -> np.ndarray | None:
        """The value of input ``i`` of ``node`` if it does not depend on the model's inputs."""
        if i >= len(node.next_edges):
            return None
        source = self.peek(node, i)
        if not source.const:
            return None
        if source.kind in ("param", "const"):
            return np.asarray(source.tensor._data)
        if source.kind == "node" and source.node is not None and source.node.values is not None:
            return np.asarray(source.node.values[source.index])
        return None

    def value_name(self, node: Node, i: int) -> str | None:
        """The ONNX name of input ``i`` of ``node`` if it is a model input or a node's output."""
        source = self.peek(node, i)
        if source.kind == "input":
            return self.input_names[source.index]
        if source.kind == "node" and source.node is not None:
            return self.values.get((id(source.node), source.index))
        return None

    def source(self, position: int, node: Node, twin: Node, i: int) -> Source:
        """Find where input ``i`` of ``node`` comes from (``twin``: the node in run two)."""
        run = self.run
        edge = node.next_edges[i]
        if edge is not None:
            producer, k = edge
            if not isinstance(producer, Tensor):
                return Source(
                    "node", node=producer, index=k, const=id(producer) in self.const_nodes
                )
            arg = run.arg_index(producer)
            if arg is not None:
                return Source("input", index=arg)
            return Source("param", tensor=producer, const=True)
        tensor = run.loose[id(node)][i]
        if tensor is None:
            return Source("none")
        arg = run.arg_index(tensor)
        if arg is not None:
            return Source("input", index=arg)
        link = run.links[id(node)][i]
        if link is not None:
            return Source(
                "node", node=link[0], index=link[1], const=id(link[0]) in self.const_nodes
            )
        if self.param_name(tensor) is not None:
            return Source("param", tensor=tensor, const=True)
        other = self.twin.loose[id(twin)][i] if i < len(self.twin.loose[id(twin)]) else None
        return Source("const", tensor=tensor, twin=other, const=_same(tensor, other))


def _same(a: Any, b: Any) -> bool:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        return False
    x, y = a._data, b._data
    return (
        x.shape == y.shape
        and x.dtype == y.dtype
        and np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
    )


class Ctx:
    """What a translation sees of one graph node, and how it adds ONNX nodes.

    ``ctx.input(i)`` names input ``i`` in the ONNX graph (an initializer for parameters and
    constants); ``ctx.outputs`` are the names the translation must define; ``ctx.emit(...)``
    adds an ONNX node.
    """

    def __init__(self, graph: Graph, position: int, node: Node, twin: Node) -> None:
        self.graph, self.position, self.node, self.twin = graph, position, node, twin
        self.op = node.op_name
        self.options: dict[str, Any] = node.options()
        self.twin_options: dict[str, Any] = twin.options()
        self.sources = [graph.source(position, node, twin, i) for i in range(len(node.next_edges))]
        prefix = f"{graph.scope(node)}/" if graph.scope(node) else ""
        base = f"{prefix}{self.op}_{position}"
        many = node.num_outputs > 1
        self.outputs = [
            graph.fresh(f"{base}_{k}" if many else base) for k in range(node.num_outputs)
        ]
        self._names: dict[int, str] = {}

    @property
    def opset(self) -> int:
        return self.graph.opset

    def fail(self, problem: str) -> OnnxExportError:
        """Return an error naming this op and its module (raise it)."""
        return OnnxExportError(
            f"ag.onnx.export: {self.op} ({self.node.type_name()}) in module "
            f"{self.graph.module_of(self.node)}: {problem}"
        )

    def has(self, i: int) -> bool:
        """Whether input ``i`` is a tensor (not an empty slot such as a missing bias)."""
        return i < len(self.sources) and self.sources[i].kind != "none"

    def shape(self, i: int) -> tuple[int, ...]:
        return tuple(self.node.input_shapes[i])  # type: ignore[arg-type]

    def dtype(self, i: int) -> np.dtype:
        return np.dtype(self.node.input_dtypes[i])

    def out_shape(self, k: int = 0) -> tuple[int, ...]:
        return tuple(self.node.output_meta[k][0])

    def out_dtype(self, k: int = 0) -> np.dtype:
        return np.dtype(self.node.output_meta[k][1])

    def free_dims(self, k: int = 0) -> list[int]:
        """The output dims whose size changed between the two runs (they follow dynamic axes)."""
        a, b = self.out_shape(k), tuple(self.twin.output_meta[k][0])
        if len(a) != len(b):
            raise self.fail(f"its output rank changes with the input size ({a} vs {b})")
        return [d for d, (x, y) in enumerate(zip(a, b)) if x != y]

    def free_input_dims(self, i: int) -> list[int]:
        a, b = self.shape(i), tuple(self.twin.input_shapes[i])  # type: ignore[arg-type]
        return [d for d, (x, y) in enumerate(zip(a, b)) if x != y]

    def is_const(self, i: int) -> bool:
        """Whether input ``i`` has the same value whatever the model's inputs (weights...)."""
        return self.has(i) and self.sources[i].const

    def value(self, i: int) -> np.ndarray | None:
        """The value of input ``i`` if it does not depend on the model's inputs, else None."""
        source = self.sources[i]
        if not source.const:
            return None
        if source.kind in ("param", "const"):
            return np.asarray(source.tensor._data)
        if source.kind == "node" and source.node is not None and source.node.values is not None:
            return np.asarray(source.node.values[source.index])
        return None

    def producer(self, i: int) -> tuple[Node, int] | None:
        """The graph node (and output number) input ``i`` comes from, if it is a node."""
        source = self.sources[i]
        return (source.node, source.index) if source.kind == "node" and source.node else None

    def input(self, i: int) -> str:
        """The ONNX name of input ``i`` (parameters and constants become initializers)."""
        if i in self._names:
            return self._names[i]
        source, graph = self.sources[i], self.graph
        if source.kind == "none":
            raise self.fail(f"input {i} is missing")
        if source.kind == "input":
            name = graph.input_names[source.index]
        elif source.kind == "node":
            assert source.node is not None
            key = (id(source.node), source.index)
            if key not in graph.values:
                raise self.fail(f"input {i} comes from {source.node.op_name}, which was not exported")
            name = graph.values[key]
        elif source.kind == "param":
            tensor = source.tensor
            hint = graph.param_name(tensor) or f"{graph.scope(self.node) or self.op}.param"
            name = graph.initializer(np.asarray(tensor._data), hint, key=tensor._data)
        else:
            name = self._constant(i)
        self._names[i] = name
        return name

    def _constant(self, i: int) -> str:
        source, graph = self.sources[i], self.graph
        tensor = source.tensor
        if source.const:
            scope = graph.scope(self.node)
            hint = f"{scope}.{self.op}.const" if scope else f"{self.op}.const"
            return graph.initializer(np.asarray(tensor._data), hint, key=tensor)
        fill = self._fill(tensor, source.twin)
        if fill is not None:
            return fill
        raise self.fail(
            f"input {i} (shape {tuple(tensor.shape)}) is a tensor computed without a graph from "
            "the model's inputs (a detached value, a mask or an integer result): it differs "
            "between two runs with other inputs, so it cannot be stored as a constant; compute "
            "it from tensors that require grad, or pass it as an input"
        )

    def _fill(self, tensor: Any, twin: Any) -> str | None:
        """A constant of one value whose shape follows the dynamic axes (``zeros(N, H)``)."""
        if not isinstance(twin, Tensor) or tensor.ndim != twin.ndim or tensor._data.size == 0:
            return None
        a, b = tensor._data, twin._data
        value = a.reshape(-1)[0]
        if a.dtype != b.dtype or not (np.all(a == value) and np.all(b == value)):
            return None
        shape = self.shape_tensor(a.shape, b.shape)
        if shape is None:
            return None
        import onnx

        filler = onnx.numpy_helper.from_array(np.asarray([value], dtype=a.dtype))
        return self.emit1("ConstantOfShape", [shape], value=filler)

    def shape_tensor(self, first: Sequence[int], second: Sequence[int]) -> str | None:
        """An int64 shape tensor with the sizes of run one, the changing ones read from the
        model inputs' shapes; None if a changing size matches no input axis."""
        parts: list[str] = []
        static: list[int] = []
        for m, n in zip(first, second):
            if m == n:
                static.append(int(m))
                continue
            dim = self.graph.dim(int(m), int(n))
            if dim is None:
                return None
            if static:
                parts.append(self.ints(static))
                static = []
            parts.append(dim)
        if static or not parts:
            parts.append(self.ints(static))
        return parts[0] if len(parts) == 1 else self.emit1("Concat", parts, axis=0)

    def values_in_both(self, i: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Input ``i``'s values in run one and run two, when both are known."""
        source = self.sources[i]
        if source.kind in ("param", "const") and isinstance(source.twin, Tensor):
            return np.asarray(source.tensor._data), np.asarray(source.twin._data)
        if source.kind == "param":
            return np.asarray(source.tensor._data), np.asarray(source.tensor._data)
        if source.kind == "node" and source.node is not None:
            twin = self.graph.twins.get(id(source.node))
            if source.node.values is not None and twin is not None and twin.values is not None:
                return (np.asarray(source.node.values[source.index]),
                        np.asarray(twin.values[source.index]))  # fmt: skip
        return None

    def output(self, k: int = 0) -> str:
        return self.outputs[k]

    def const(self, array: Any, hint: str = "const", dtype: Any = None) -> str:
        """Add a constant initializer (a new one each call) and return its name."""
        scope = self.graph.scope(self.node)
        array = np.asarray(array, dtype=dtype)
        return self.graph.initializer(array, f"{scope + '.' if scope else ''}{hint}")

    def ints(self, values: Sequence[int], hint: str = "shape") -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), hint)

    def emit(self, op_type: str, inputs: Sequence[str], outputs: Sequence[str] | int = 1,
             **attrs: Any) -> list[str]:  # fmt: skip
        """Add an ONNX node; return its output names (fresh ones unless ``outputs`` lists them)."""
        if isinstance(outputs, int):
            base = f"{self.graph.scope(self.node) + '/' if self.graph.scope(self.node) else ''}"
            outputs = [self.graph.fresh(f"{base}{op_type}_{self.position}") for _ in range(outputs)]
        scope = self.graph.scope(self.node)
        self.graph.add_node(op_type, inputs, outputs, f"{scope + '/' if scope else ''}{op_type}",
                            attrs)  # fmt: skip
        return list(outputs)

    def emit1(self, op_type: str, inputs: Sequence[str], out: str | None = None,
              **attrs: Any) -> str:  # fmt: skip
        """Add an ONNX node with one output (``out``, or a fresh name) and return its name."""
        return self.emit(op_type, inputs, [out] if out else 1, **attrs)[0]

    def cast(self, name: str, dtype: Any) -> str:
        from ._ops import onnx_type

        return self.emit1("Cast", [name], to=onnx_type(dtype))

    def reduce(self, op_type: str, x: str, axes: Sequence[int] | None, keepdims: bool,
               out: str | None = None) -> str:  # fmt: skip
        """ReduceSum/Max/Min/Mean/Prod/...: axes as an input or an attribute, per opset."""
        as_input = op_type == "ReduceSum" and self.opset >= 13 or self.opset >= 18
        inputs = [x]
        attrs: dict[str, Any] = {"keepdims": int(keepdims)}
        if axes is not None:
            if as_input:
                inputs.append(self.ints(axes, "axes"))
            else:
                attrs["axes"] = list(axes)
        return self.emit1(op_type, inputs, out, **attrs)

    def unsqueeze(self, x: str, axes: Sequence[int], out: str | None = None) -> str:
        return self.emit1("Unsqueeze", [x, self.ints(axes, "axes")], out)

    def squeeze(self, x: str, axes: Sequence[int], out: str | None = None) -> str:
        return self.emit1("Squeeze", [x, self.ints(axes, "axes")], out)
