"""ONNX export, the way out to deployment engines: ``ag.onnx.export`` writes the graph that
``model(*args)`` records as an ONNX model (the ``onnx`` package: ``pip install 'graphgrad[onnx]'``).

How it works: the model runs with recording on, and the graph its outputs hang from (the
``grad_fn``/``next_edges`` graph backward walks) is translated node by node, by the entry for
the node's op name in a table (``autograd/onnx/_ops.py``, ``_layers.py``: one small function per
op). Parameters become initializers named by their module path (``features.0.weight``).
Tensors that feed the graph without an edge (buffers, constants made inside ``forward``) become
initializers too, after a second run with other input values, and one more entry along each
dynamic axis, has shown that they do not depend on the inputs; that second run also tells which
sizes in reshapes follow the dynamic axes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor
from ._graph import TRANSLATIONS, Ctx, Graph, translates
from ._record import OnnxExportError, Recording, _link, perturbed, record

__all__ = ["export", "OnnxExportError", "TRANSLATIONS", "translates"]

MIN_OPSET = 13


def _require_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "ag.onnx.export needs the onnx package: pip install 'graphgrad[onnx]' (or pip "
            "install onnx onnxruntime)"
        ) from None
    from . import _ops  # noqa: F401  (fills the translation table)

    return onnx


def _names(model: Any) -> tuple[dict[int, str], dict[int, str]]:
    """``id(tensor) -> 'features.0.weight'`` and ``id(module) -> 'features.0'``, if a Module."""
    params: dict[int, str] = {}
    modules: dict[int, str] = {}
    if hasattr(model, "named_modules"):
        for name, module in model.named_modules():
            modules.setdefault(id(module), name)
    for method in ("named_parameters", "named_buffers"):
        if hasattr(model, method):
            for name, tensor in getattr(model, method)():
                params.setdefault(id(tensor), name)
                params.setdefault(id(tensor._data), name)  # detached aliases share the array
    return params, modules


def _dynamic(dynamic_axes: Mapping[str, Any] | None, names: set[str]) -> dict[str, dict[int, str]]:
    """Normalise ``{name: {axis: "dim"}}`` or ``{name: [axes]}``."""
    result: dict[str, dict[int, str]] = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in names:
            raise ValueError(f"ag.onnx.export: dynamic_axes names {name!r}, which is not an input "
                             f"or output name ({sorted(names)})")  # fmt: skip
        if isinstance(axes, Mapping):
            result[name] = {int(a): str(d) for a, d in axes.items()}
        else:
            result[name] = {int(a): f"{name}_dynamic_axes_{k + 1}" for k, a in enumerate(axes)}
    return result


def _value_info(onnx: Any, name: str, array_shape: Sequence[int], dtype: Any,
                dims: dict[int, str]) -> Any:  # fmt: skip
    from ._ops import onnx_type

    ndim = len(array_shape)
    shape = [dims.get(d, dims.get(d - ndim, n)) for d, n in enumerate(array_shape)]
    return onnx.helper.make_tensor_value_info(name, onnx_type(dtype), shape)


def _translate(graph: Graph) -> None:
    run, twin = graph.run, graph.twin
    if [n.op_name for n in run.nodes] != [n.op_name for n in twin.nodes]:
        raise OnnxExportError(
            "ag.onnx.export: the model records different ops for other input values or sizes "
            f"({len(run.nodes)} vs {len(twin.nodes)} ops): its graph depends on the data "
            "(Python control flow on tensor values?), which a static ONNX graph cannot express"
        )
    for node, other in zip(run.nodes, twin.nodes):
        graph.twins[id(node)] = other
    for position, (node, other) in enumerate(zip(run.nodes, twin.nodes)):
        translation = TRANSLATIONS.get(node.op_name)
        if translation is None:
            raise OnnxExportError(
                f"ag.onnx.export: op {node.op_name!r} ({node.type_name()}) in module "
                f"{graph.module_of(node)} has no ONNX translation; add one with "
                f"@ag.onnx.translates({node.op_name!r}) (see autograd/onnx/_ops.py)"
            )
        ctx = Ctx(graph, position, node, other)
        if all(s.const for s in ctx.sources if s.kind != "none"):
            graph.const_nodes.add(id(node))
        translation(ctx)
        for k, name in enumerate(ctx.outputs):
            graph.values[(id(node), k)] = name


def _prune(graph: Graph, outputs: Sequence[str]) -> None:
    """Drop Identity nodes inside the graph, and the nodes and initializers no output needs
    (e.g. the layers fused into an ONNX LSTM)."""
    rename: dict[str, str] = {}
    nodes = []
    for node in graph.nodes:
        node.input[:] = [rename.get(name, name) for name in node.input]
        if node.op_type == "Identity" and node.output[0] not in outputs:
            rename[node.output[0]] = node.input[0]
            continue
        nodes.append(node)
    graph.nodes = nodes
    needed = set(outputs)
    kept = []
    for node in reversed(graph.nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    graph.nodes = kept[::-1]
    graph.initializers = {k: v for k, v in graph.initializers.items() if k in needed}


def export(
    model: Any,
    args: Any,
    f: str | os.PathLike | io.IOBase | Any,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: Mapping[str, Any] | None = None,
    opset_version: int = 17,
) -> Any:
    """Write ``model(*args)`` as an ONNX model to ``f``, as ``torch.onnx.export`` does.

    The model runs in eval mode (restored afterwards). ``args`` is a Tensor or a tuple of
    arguments (Tensors become the graph's inputs, in order, named by ``input_names``; other
    arguments are passed through). Outputs (Tensors, or tuples/lists/dicts of them) are named
    by ``output_names``. ``dynamic_axes`` maps an input or output name to the axes whose size
    is free (``{"x": {0: "batch"}}`` or ``{"x": [0]}``). Parameters and buffers become
    initializers named by their module path. An op without a translation raises
    :class:`OnnxExportError` naming the op and its module.

    Returns:
        The ``onnx.ModelProto`` (checked with ``onnx.checker``), also written to ``f`` (a path
        or a binary file object).

    Example:
        >>> import io, autograd as ag, nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> proto = ag.onnx.export(model, ag.randn(3, 4), io.BytesIO(), input_names=["x"],
        ...                        dynamic_axes={"x": {0: "batch"}})  # doctest: +SKIP
        >>> [n.op_type for n in proto.graph.node]  # doctest: +SKIP
        ['Gemm', 'Relu', 'Gemm']
    """
    onnx = _require_onnx()
    if not isinstance(opset_version, int) or opset_version < MIN_OPSET:
        raise ValueError(f"ag.onnx.export: opset_version must be an int >= {MIN_OPSET}, got "
                         f"{opset_version!r}")  # fmt: skip
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    tensors = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    if not tensors:
        raise ValueError("ag.onnx.export: args holds no Tensor, so the graph would have no input")
    input_names = list(input_names or [f"input_{k}" for k in range(len(tensors))])
    if len(input_names) != len(tensors):
        raise ValueError(f"ag.onnx.export: {len(input_names)} input_names for {len(tensors)} "
                         "tensor arguments")  # fmt: skip
    arg_names = {i: input_names[k] for k, i in enumerate(tensors)}
    params, modules = _names(model)

    was_training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    rng = get_rng_state()
    try:
        run = record(model, args)
        guess_outputs = list(output_names or [f"output_{k}" for k in range(len(run.outputs))])
        axes = _dynamic(dynamic_axes, set(input_names) | set(guess_outputs))
        grow = [set(axes.get(arg_names.get(i, ""), {})) for i in range(len(args))]
        grow = [{a % args[i].ndim for a in g} if g else g for i, g in enumerate(grow)]
        twin = record(model, perturbed(args, grow))
    finally:
        set_rng_state(rng)
        if was_training is not None and hasattr(model, "train"):
            model.train(was_training)

    output_names = guess_outputs
    if len(output_names) != len(run.outputs):
        raise ValueError(f"ag.onnx.export: {len(output_names)} output_names for "
                         f"{len(run.outputs)} outputs")  # fmt: skip
    graph = Graph(opset_version, run, twin, params, modules)
    graph.input_names = [arg_names.get(i, "") for i in range(len(args))]
    for name in input_names + output_names:
        graph.fresh(name)
    _translate(graph)
    outputs = _connect_outputs(graph, run, twin, output_names)
    _prune(graph, output_names)

    inputs = [
        _value_info(onnx, arg_names[i], args[i].shape, args[i].dtype, axes.get(arg_names[i], {}))
        for i in tensors
    ]
    used = {name for node in graph.nodes for name in node.input}
    inputs = [info for info in inputs if info.name in used or info.name in output_names]
    outs = [
        _value_info(onnx, name, tensor.shape, tensor.dtype, {**free, **axes.get(name, {})})
        for name, (tensor, free) in zip(output_names, outputs)
    ]
    initializers = [
        onnx.numpy_helper.from_array(np.asarray(array), name)
        for name, array in graph.initializers.items()
    ]
    onnx_graph = onnx.helper.make_graph(graph.nodes, type(model).__name__, inputs, outs,
                                        initializer=initializers)  # fmt: skip
    proto = onnx.helper.make_model(
        onnx_graph,
        producer_name="graphgrad",
        opset_imports=[onnx.helper.make_opsetid("", opset_version)],
    )
    proto.ir_version = min(proto.ir_version, 10)  # readable by onnxruntime releases of 2024+
    onnx.checker.check_model(proto)
    if hasattr(f, "write"):
        f.write(proto.SerializeToString())
    else:
        onnx.save_model(proto, os.fspath(f))
    return proto


def _connect_outputs(graph: Graph, run: Recording, twin: Recording,
                     names: Sequence[str]) -> list[tuple[Tensor, dict[int, str]]]:  # fmt: skip
    """Give each model output its name; return each output with its size-changing dims."""
    result = []
    for k, (tensor, other, name) in enumerate(zip(run.outputs, twin.outputs, names)):
        source = None
        if tensor._grad_fn is not None:
            source = graph.values.get((id(tensor._grad_fn), tensor._output_nr))
        elif run.arg_index(tensor) is not None:
            source = graph.input_names[run.arg_index(tensor)]  # type: ignore[index]
        else:
            link = _link(run, tensor, 1 << 62)
            if link is not None:
                source = graph.values.get((id(link[0]), link[1]))
        if source is None:
            same = tensor.shape == other.shape and np.array_equal(tensor._data, other._data)
            if not same:
                raise OnnxExportError(
                    f"ag.onnx.export: output {k} ({name}) is computed from the inputs without a "
                    "graph (an integer result such as argmax, or a detached value)"
                )
            source = graph.initializer(np.asarray(tensor._data), f"{name}.const")
        graph.add_node("Identity", [source], [name], f"{name}/Identity", {})
        free = {d: f"{name}_dim_{d}" for d, (a, b) in enumerate(zip(tensor.shape, other.shape))
                if a != b}  # fmt: skip
        result.append((tensor, free))
    return result
