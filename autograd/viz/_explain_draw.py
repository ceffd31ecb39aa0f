"""The drawing behind ``GradExplanation.draw()``: the path in orange, the cut and the culprits in red."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..graph import Node
from . import _style as S
from ._graph import _named_tensors, _Walk, draw_graph
from ._render import VizGraph

if TYPE_CHECKING:
    from ..explain import GradExplanation
    from ..tensor import Tensor

PATH = "#e8590c"
CUT = "#d62728"


def _element(walk: _Walk, tensor: Tensor) -> str | None:
    """The DOT id ``draw_graph`` gives a tensor (a leaf, or a node's output)."""
    if tensor.grad_fn is None:
        index = walk.leaf_index.get(id(tensor))
        return None if index is None else f"l{index}"
    node_index = walk.index.get(tensor.grad_fn)
    return None if node_index is None else f"n{node_index}t{tensor._output_nr}"


def draw_explanation(explanation: GradExplanation, **kwargs: Any) -> VizGraph:
    """Draw the output's graph (and the tensor, when it is not in it) with the findings marked."""
    output, tensor = explanation.output, explanation.tensor
    in_graph = bool(explanation.path) or tensor is output
    roots = [output] if in_graph else [output, tensor]
    names = dict(_named_tensors(kwargs.pop("params", explanation.params)))
    if not explanation.name.startswith("the tensor"):
        names.setdefault(explanation.name, tensor)
    kwargs.setdefault("title", "\n".join(_shorten(str(explanation).splitlines()[0], 110, 3)))
    graph = draw_graph(roots, names, **kwargs)
    walk = _Walk(roots, kwargs.get("max_depth"))
    extra: list[str] = []
    for node in explanation.path:
        index = walk.index.get(node)
        if index is not None:
            extra.append(f'\tn{index} [color="{PATH}" penwidth="3"]\n')
    target = _element(walk, tensor)
    if target is not None:
        extra.append(f'\t{target} [color="{PATH}" penwidth="3.5"]\n')
    notes = 0
    for reason in explanation.reasons:
        marked: Node | None = reason.node
        if marked is None or marked not in walk.index:
            continue
        index = walk.index[marked]
        if reason.kind == "cut" and reason.slot is not None:
            constant = f"n{index}c{reason.slot}"
            shape = marked.input_shapes[reason.slot]
            label = "cut" if not shape else f"constant {S.fmt_shape(shape)}"
            if f"\t{constant} [" in graph.source:  # drawn already: mark it
                extra.append(f'\t{constant} [color="{CUT}" penwidth="2"]\n')
            else:
                extra.append(
                    f'\t{constant} [label="{label}" shape="box" style="dashed" color="{CUT}"]\n'
                )
                extra.append(f'\t{constant} -> n{index} [color="{CUT}" style="dashed"]\n')
            if target is not None:
                text = S.escape("✂ " + (reason.cut.text() if reason.cut is not None else "cut"))
                extra.append(
                    f'\t{target} -> {constant} [color="{CUT}" style="dashed" penwidth="2" '
                    f'label=<<FONT COLOR="{CUT}">{text}</FONT>> constraint="false"]\n'
                )
        extra.append(f'\tn{index} [color="{CUT}" penwidth="3.5"]\n')
        note = f"why{notes}"
        notes += 1
        text = "<BR/>".join(S.escape(row) for row in _shorten(reason.text))
        extra.append(
            f'\t{note} [label=<<FONT COLOR="{CUT}">{text}</FONT>> shape="note" '
            f'color="{CUT}" fontsize="9"]\n'
        )
        extra.append(f'\t{note} -> n{index} [style="dotted" color="{CUT}" arrowhead="none"]\n')
    graph.body.extend(extra)
    graph.meta["explanation"] = explanation.verdict
    return graph


def _shorten(text: str, width: int = 48, lines: int = 5) -> list[str]:
    words, rows, row = text.split(), [], ""
    for word in words:
        if row and len(row) + 1 + len(word) > width:
            rows.append(row)
            row = word
        else:
            row = f"{row} {word}" if row else word
    rows.append(row)
    if len(rows) > lines:
        rows = rows[:lines]
        rows[-1] += " …"
    return rows
