"""The drawing an anomaly error carries: the offending op's neighbourhood, NaN/inf in red.

Forward: the op's inputs (values, shapes), the ops that made them, and its output with the
NaN/inf counted. Backward: the node's inputs (the values it saved), the gradient it received
and the ones it returned, the ops on either side.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph import Node
from . import _style as S
from ._render import VizGraph

BAD = "#d62728"


def _values(array: Any) -> tuple[str, bool]:
    """A value summary and whether it holds NaN/inf (counted)."""
    data = np.asarray(array._data if hasattr(array, "_data") else array)
    if data.dtype.kind != "f":
        return S.fmt_array(data), False
    nans = int(np.isnan(data).sum())
    infs = int(np.isinf(data).sum())
    finite = data[np.isfinite(data)]
    if data.size <= 8:
        text = S.fmt_array(data)
    elif finite.size:
        text = S.fmt_array(finite)  # min/mean/max of the finite part
    else:
        text = "no finite values"
    if nans or infs:
        parts = [f"{n} {kind}" for n, kind in ((nans, "NaN"), (infs, "inf")) if n]
        text += f" — {', '.join(parts)} of {data.size}"
    return text, bool(nans or infs)


def _rows(title: str | None, lines: list[tuple[str, bool]]) -> str:
    rows = [f"<B>{S.escape(title)}</B>"] if title else []
    for text, bad in lines:
        body = S.escape(text)
        rows.append(
            f'<FONT COLOR="{BAD}"><B>{body}</B></FONT>'
            if bad
            else f'<FONT POINT-SIZE="9">{body}</FONT>'
        )
    return "<" + "<BR/>".join(rows) + ">"


def _where(node: Node | None) -> str | None:
    if node is None:
        return None
    from .._cuts import node_line

    return node_line(node) or _last_line(node.trace)


def _module(node: Node | None) -> str | None:
    if node is None or not node.module_path:
        return None
    return type(node.module_path[-1]).__name__


def _graph(title: str) -> VizGraph:
    return VizGraph(
        name="anomaly",
        graph_attr={"rankdir": "TB", "fontname": S.FONT, "label": title, "labelloc": "t",
                    "fontsize": "12", "nodesep": "0.3", "ranksep": "0.35"},
        node_attr={"fontname": S.FONT, "fontsize": "10", "margin": "0.08,0.04"},
        edge_attr={"fontname": S.FONT, "fontsize": "9", "arrowsize": "0.6", "color": "#555555"},
    )  # fmt: skip


def _last_line(trace: str | None) -> str | None:
    from .._cuts import short_line

    entries = [e for e in (trace or "").strip().splitlines() if e.strip().startswith("File")]
    return short_line(entries[-1]) if entries else None


def _op_node(
    graph: VizGraph, eid: str, node: Node | None, name: str, bad: bool, line: str | None = None
) -> None:
    lines = []
    module = _module(node)
    if module:
        lines.append((f"in {module}", False))
    where = line or _where(node)
    if where:
        lines.append((f"at {where}", False))
    style = {"shape": "ellipse", "style": "filled", "fillcolor": "#eeeeee", "color": "#888888"}
    if bad:
        style.update(fillcolor="#fde0e0", color=BAD, penwidth="3")
    graph.body.append(f"\t{eid}{S.attrs(label=_rows(name, lines), **style)}\n")


def _tensor_node(
    graph: VizGraph, eid: str, title: str | None, lines: list[tuple[str, bool]]
) -> None:
    bad = any(flag for _, flag in lines)
    style = {"shape": "box", "style": "filled", "fillcolor": "#ffffff", "color": "#9e9e9e"}
    if bad:
        style.update(color=BAD, penwidth="2.5")
    graph.body.append(f"\t{eid}{S.attrs(label=_rows(title, lines), **style)}\n")


def _producer(graph: Any, eid: str, tensor: Any) -> None:
    """The op (or leaf) an input came from, one level up."""
    node = getattr(tensor, "_grad_fn", None) if tensor is not None else None
    if isinstance(tensor, tuple):  # an edge (node or leaf, output index)
        node = tensor[0] if isinstance(tensor[0], Node) else None
        if node is None:
            graph.body.append(f'\t{eid} [label="leaf" shape="plaintext" fontcolor="#4a7fb5"]\n')
            return
    if node is None:
        return
    _op_node(graph, eid, node, S.op_label(node), False)


def draw_anomaly(phase: str, **facts: Any) -> VizGraph:
    """Draw the neighbourhood of the op that produced NaN/inf (``phase``: forward/backward)."""
    if phase == "forward":
        return _draw_forward(
            facts["op"], facts["out"], facts.get("inputs") or (), facts.get("where")
        )
    return _draw_backward(facts["node"], facts["input_grads"], facts.get("output_grads"))


def _draw_forward(op: str, out: np.ndarray, inputs: Sequence[Any], where: str | None) -> VizGraph:
    text, _ = _values(out)
    graph = _graph(f"NaN/inf in the forward of {op}: inputs, the op, its output")
    for i, tensor in enumerate(inputs):
        data = tensor._data
        value, bad = _values(data)
        lines = [
            (f"{S.fmt_shape(tuple(data.shape))} {S.fmt_dtype(data.dtype)}", False),
            (value, bad),
        ]
        _tensor_node(graph, f"in{i}", f"input {i}", lines)
        if tensor._grad_fn is not None:
            _producer(graph, f"p{i}", tensor)
            graph.body.append(f"\tp{i} -> in{i}\n")
        graph.body.append(f"\tin{i} -> op\n")
    _op_node(graph, "op", None, op, True, line=_last_line(where))
    lines = [(f"{S.fmt_shape(tuple(out.shape))} {S.fmt_dtype(out.dtype)}", False), (text, True)]
    _tensor_node(graph, "out", "output", lines)
    graph.body.append(f'\top -> out [color="{BAD}" penwidth="2"]\n')
    return graph


def _draw_backward(
    node: Node, input_grads: Sequence[Any], output_grads: Sequence[Any] | None
) -> VizGraph:
    op = S.op_label(node)
    graph = _graph(
        f"NaN/inf in the backward of {op} ({node.type_name()}): what it got and returned"
    )
    saved = dict(node.saved_items())
    names = [p.lstrip("*") for p in getattr(getattr(node, "spec", None), "tensor_params", ())]
    for i, edge in enumerate(node.next_edges):
        shape = node.input_shapes[i] if i < len(node.input_shapes) else None
        dtype = node.input_dtypes[i] if i < len(node.input_dtypes) else None
        lines: list[tuple[str, bool]] = [(f"{S.fmt_shape(shape)} {S.fmt_dtype(dtype)}", False)]
        name = names[i] if i < len(names) else None
        known = saved.get(name) if name else None
        if known is None and edge is not None and not isinstance(edge[0], Node):
            known = edge[0]._data  # a leaf: its value is at hand
        if known is not None:
            value, bad = _values(known)
            lines.append((f"value {value}", bad))
        title = f"input {i}" + (f" ({name})" if name else "")
        _tensor_node(graph, f"in{i}", title, lines)
        if edge is not None:
            _producer(graph, f"p{i}", edge)
            graph.body.append(f"\tp{i} -> in{i}\n")
        grad = input_grads[i] if i < len(input_grads) else None
        label = None
        color = "#555555"
        if grad is not None:
            text, bad = _values(grad)
            label = f"grad returned: {text}"
            color = BAD if bad else "#2b8a3e"
        attrs = S.attrs(
            label=label, color=color, fontcolor=color, penwidth="2" if color == BAD else None
        )
        graph.body.append(f"\tin{i} -> op{attrs}\n")
    _op_node(graph, "op", node, op, True)
    for k, (shape, dtype) in enumerate(node.output_meta):
        lines = [(f"{S.fmt_shape(shape)} {S.fmt_dtype(dtype)}", False)]
        if "out" in saved and k == 0:
            value, bad = _values(saved["out"])
            lines.append((f"value {value}", bad))
        if output_grads is not None and k < len(output_grads) and output_grads[k] is not None:
            text, bad = _values(output_grads[k])
            lines.append((f"grad received: {text}", bad))
        _tensor_node(graph, f"out{k}", f"output {k}" if node.num_outputs > 1 else "output", lines)
        graph.body.append(f"\top -> out{k}\n")
    return graph
