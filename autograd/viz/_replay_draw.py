"""Drawing a recorded backward: one Graphviz graph per step with an identical layout, the HTML page.

Every frame is laid out the same way (node sizes fixed from the longest text any frame shows),
so stepping through them only changes colours and numbers, never positions.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..graph import Node
from . import _style as S
from ._render import GraphvizNotFoundError, VizGraph
from ._trace import GradStats

if TYPE_CHECKING:
    from ._replay import Replay

Row = tuple[str | None, str, str | None]  # (text, style, colour)
SMALL = 6  # gradients with at most this many elements are drawn as values


def grad_text(grad: np.ndarray | GradStats | None) -> str:
    """A gradient for a label: values when small, shape and norm when large."""
    if grad is None:
        return "—"
    if isinstance(grad, GradStats):
        return f"{S.fmt_shape(grad.shape)} ‖g‖ {S.fmt_number(grad.norm)}"
    if grad.size <= SMALL and grad.ndim <= 2:
        return S.fmt_array(grad, small=SMALL)
    with np.errstate(over="ignore", invalid="ignore"):
        norm = float(np.sqrt(np.sum(np.square(grad, dtype=np.float64))))
    return f"{S.fmt_shape(grad.shape)} ‖g‖ {S.fmt_number(norm)}"


def grad_total(parts: Sequence[np.ndarray | GradStats]) -> np.ndarray | GradStats | None:
    if not parts:
        return None
    if any(isinstance(p, GradStats) for p in parts):
        return GradStats.combine(
            [p if isinstance(p, GradStats) else GradStats.of(p) for p in parts]
        )
    total = parts[0]
    for part in parts[1:]:
        total = total + part  # type: ignore[operator]
    return total


def strip_xml_header(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def render_all(sources: Sequence[str], fmt: str) -> list[Any]:
    """Render several DOT graphs with one ``dot`` process (SVG text or PNG bytes per graph)."""
    if fmt == "svg":
        data = _run_dot("\n".join(sources).encode("utf-8"), "svg")
        parts = data.decode("utf-8").split("<?xml")
        svgs = ["<?xml" + part for part in parts if part.strip()]
        if len(svgs) != len(sources):
            raise RuntimeError(f"replay: dot rendered {len(svgs)} frames for {len(sources)} graphs")
        return svgs
    return [_run_dot(source.encode("utf-8"), fmt) for source in sources]


def _run_dot(data: bytes, fmt: str) -> bytes:
    try:
        done = subprocess.run(["dot", f"-T{fmt}"], input=data, capture_output=True, check=False)
    except FileNotFoundError as error:
        raise GraphvizNotFoundError("replay") from error
    if done.returncode != 0:
        raise RuntimeError(f"replay: dot failed: {done.stderr.decode(errors='replace')[:500]}")
    return done.stdout


# Sizes for laying every frame out identically: fixed node sizes from the longest text.
_CHAR = {"title": 6.3, "text": 5.3, "caption": 6.6}  # points per character (Helvetica)
_LINE = {"title": 13.0, "text": 11.5, "caption": 14.0}
_CAPTION_CHARS = 90
_HOT = "#e8590c"  # the running node and the gradients it sends
_READ = "#1c7ed6"  # the gradient the running node reads
_DONE_FILL = "#e6f4ea"
_RUN_FILL = "#ffd8a8"


@dataclass
class _Element:
    eid: str
    kind: str  # "op", "tensor", "leaf", "output"
    cluster: tuple = ()
    rows: list[list[Row]] = field(default_factory=list)  # per state


class Renderer:
    """Builds one DOT graph per state (before backward, then after each frame)."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        self.walk = replay._walk
        self.names = replay._names
        self.step_of = {id(f.node): f.step for f in replay.frames}
        self.consumers: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self.leaf_consumers: dict[int, list[tuple[int, int]]] = {}
        for i, node in enumerate(self.walk.nodes):
            for a, edge in enumerate(node.next_edges):
                if edge is None:
                    continue
                target, k = edge
                if isinstance(target, Node):
                    self.consumers.setdefault((self.walk.index[target], k), []).append((i, a))
                else:
                    self.leaf_consumers.setdefault(id(target), []).append((i, a))
        root = replay.output
        self.root_key = (
            (self.walk.index[root._grad_fn], root._output_nr) if root._grad_fn is not None else None
        )

    def _sent(self, i: int, a: int, state: int) -> tuple[Any, bool]:
        """The gradient op ``i`` sent to input ``a`` by ``state`` (and whether just now)."""
        step = self.step_of.get(id(self.walk.nodes[i]))
        if step is None or step >= state:
            return None, False
        return self.replay.frames[step].input_grads[a], step == state - 1

    def captions(self) -> list[str]:
        frames = self.replay.frames
        first = "Before backward: the output's gradient is seeded"
        if frames:
            first += f" with {grad_text(frames[0].output_grads[self.replay.output._output_nr])}"
        result = [first + "; nothing has run yet."]
        for frame in frames:
            where = ""
            path = frame.node.module_path
            if path:
                module = path[-1]
                name, type_name = self.names.naming.module_title(module)
                where = f" in {S.module_title(name, type_name)}"
            received = ", ".join(grad_text(g) for g in frame.output_grads)
            sends = [
                f"{grad_text(g)} → {name}"
                for g, name in zip(frame.input_grads, frame.inputs)
                if g is not None and name is not None
            ]
            text = (
                f"Step {frame.step + 1} of {len(frames)}: {frame.op}{where} runs its rule "
                f"({frame.node.type_name()}). It received {received} at its output"
                f"{'s' if len(frame.output_grads) > 1 else ''} and sends "
                + ("; ".join(sends) if sends else "nothing")
                + "."
            )
            for name, _ in frame.leaf_updates:
                text += f" {name}.grad is now {self._leafgrad_text(name, frame.step)}."
            result.append(text)
        return result

    def _leafgrad_text(self, name: str, step: int) -> str:
        for leaf in self.walk.leaves:
            if self.names.leaf(leaf) == name:
                return grad_text(self.replay.leaf_grad(leaf, step))
        return "—"

    def graphs(self) -> list[VizGraph]:
        states = len(self.replay.frames) + 1
        captions = self.captions()
        elements = self._elements(states)
        edges = self._edges(states)
        sizes = {e.eid: _size(e) for e in elements}
        edge_sizes = {key: _edge_size(texts) for key, texts in edges.items()}
        caption_width = min(max(len(c) for c in captions), _CAPTION_CHARS) * _CHAR["caption"] + 10
        caption_lines = max(_wrap_count(c) for c in captions)
        graphs = []
        for state in range(states):
            body: list[str] = []
            for element in elements:
                body.append(_node_line(element, state, sizes[element.eid]))
            for (src, dst, slot), texts in edges.items():
                text, hot = texts[state]
                body.append(_edge_line(src, dst, text, hot, edge_sizes[(src, dst, slot)]))
            for element in elements:
                if element.kind in ("tensor", "output"):
                    producer = element.eid.split("t")[0]
                    body.append(f"\t{producer} -> {element.eid} [weight=3]\n")
            caption = _caption_label(captions[state], caption_width, caption_lines)
            graph = VizGraph(
                name=f"replay{state}",
                graph_attr={
                    "rankdir": "TB",
                    "fontname": S.FONT,
                    "nodesep": "0.3",
                    "ranksep": "0.35",
                    "label": caption,
                    "labelloc": "t",
                },
                node_attr={"fontname": S.FONT, "fontsize": "9", "margin": "0"},
                edge_attr={"fontname": S.FONT, "fontsize": "9", "arrowsize": "0.6"},
            )
            graph.body.extend(body)
            graphs.append(graph)
        return graphs

    def _elements(self, states: int) -> list[_Element]:
        elements: list[_Element] = []
        frames = self.replay.frames
        for i, node in enumerate(self.walk.nodes):
            op = _Element(f"n{i}", "op")
            step = self.step_of.get(id(node))
            waiting_on = sum(len(self.consumers.get((i, k), ())) for k in range(node.num_outputs))
            for state in range(states):
                rows: list[Row] = [(S.op_label(node), "title", None)]
                if step is not None and step == state - 1:
                    rows.append((f"▶ step {step + 1}: running", "text", _HOT))
                elif step is not None and step < state - 1:
                    rows.append((f"✓ step {step + 1}", "text", "#2b8a3e"))
                else:
                    done = sum(
                        1
                        for k in range(node.num_outputs)
                        for (c, _) in self.consumers.get((i, k), ())
                        if (s := self.step_of.get(id(self.walk.nodes[c]))) is not None and s < state
                    )
                    if waiting_on and done == waiting_on and step is not None:
                        rows.append((f"ready: {done} of {waiting_on} grads in", "text", "#1c7ed6"))
                    elif waiting_on:
                        rows.append(
                            (f"waiting: {done} of {waiting_on} grads in", "text", "#868e96")
                        )
                    else:
                        rows.append(("ready: seeded", "text", "#1c7ed6"))
                op.rows.append(rows)
            elements.append(op)
            for k in range(node.num_outputs):
                if (i, k) not in self.consumers and (i, k) != self.root_key:
                    continue
                kind = "output" if (i, k) == self.root_key else "tensor"
                tensor = _Element(f"n{i}t{k}", kind)
                name = self.names.naming.output_names.get((id(node), k))
                shape, dtype = node.output_meta[k] if k < len(node.output_meta) else (None, None)
                for state in range(states):
                    rows = [(name, "title", None)] if name else []
                    rows.append((f"{S.fmt_shape(shape)} {S.fmt_dtype(dtype)}", "text", "#555555"))
                    value = self.replay.output._data if kind == "output" else None
                    if value is None and node.values is not None and k < len(node.values):
                        value = node.values[k]  # recorded by ag.viz.record(values=True)
                    if value is not None and value.size <= SMALL:
                        rows.append((f"data {S.fmt_array(value)}", "text", None))
                    parts = []
                    if kind == "output" and step is not None:
                        parts.append(frames[step].output_grads[k])
                    else:
                        for c, a in self.consumers.get((i, k), ()):
                            sent, _ = self._sent(c, a, state)
                            if sent is not None:
                                parts.append(sent)
                    hot = step is not None and step == state - 1
                    rows.extend(_grad_rows(parts, "grad", _READ if hot else None))
                    tensor.rows.append(rows)
                elements.append(tensor)
        for j, leaf in enumerate(self.walk.leaves):
            element = _Element(f"l{j}", "leaf")
            name = self.names.naming.leaf_names.get(id(leaf))
            is_param = id(leaf) in self.names.naming.param_ids
            element.kind = "parameter" if is_param else "leaf"
            for state in range(states):
                rows = [(name, "title", None)] if name else []
                rows.append(
                    (
                        f"{S.fmt_shape(leaf._data.shape)} {S.fmt_dtype(leaf._data.dtype)}",
                        "text",
                        "#555555",
                    )
                )
                if leaf._data.size <= SMALL:
                    rows.append((f"data {S.fmt_array(leaf._data)}", "text", None))
                start = self.replay._start.get(id(leaf))
                parts = [] if start is None else [start]
                hot = False
                for s, target, g in self.replay._leaf_events:
                    if target is leaf and s < state and g is not None:
                        parts.append(g)
                        hot = hot or s == state - 1
                rows.extend(_grad_rows(parts, ".grad", _HOT if hot else None))
                element.rows.append(rows)
            elements.append(element)
        return elements

    def _edges(self, states: int) -> dict[tuple[str, str, int], list[tuple[str, bool]]]:
        edges: dict[tuple[str, str, int], list[tuple[str, bool]]] = {}
        for i, node in enumerate(self.walk.nodes):
            for a, edge in enumerate(node.next_edges):
                if edge is None:
                    continue
                target, k = edge
                if isinstance(target, Node):
                    src = f"n{self.walk.index[target]}t{k}"
                else:
                    src = f"l{self.walk.leaf_index[id(target)]}"
                texts = []
                for state in range(states):
                    sent, hot = self._sent(i, a, state)
                    texts.append(("" if sent is None else "◀ " + grad_text(sent), hot))
                edges[(src, f"n{i}", a)] = texts
        return edges


def _grad_rows(parts: list, what: str, color: str | None) -> list[Row]:
    if not parts:
        return [(f"{what} —", "text", "#868e96")]
    total = grad_total(parts)
    if len(parts) == 1:
        return [(f"{what} {grad_text(total)}", "text", color)]
    terms = " + ".join(grad_text(p) for p in parts)
    if len(terms) <= 40:
        return [(f"{what} {terms}", "text", color), (f"= {grad_text(total)}", "text", color)]
    return [(f"{what} {len(parts)} terms", "text", color), (f"= {grad_text(total)}", "text", color)]


def _size(element: _Element) -> tuple[float, float]:
    width = 0.0
    height = 0.0
    for rows in element.rows:
        width = max(width, max(len(text or "") * _CHAR[style] for text, style, _ in rows))
        height = max(height, sum(_LINE[style] for _, style, _ in rows))
    if element.kind == "op":
        return (width + 16) * 1.25 / 72, (height + 8) * 1.3 / 72
    return (width + 14) / 72, (height + 8) / 72


def _edge_size(texts: list[tuple[str, bool]]) -> tuple[float, float]:
    width = max((len(t) for t, _ in texts), default=0) * _CHAR["text"] + 4
    return max(width, 8.0), _LINE["text"] + 2


_KIND_STYLE = {
    "op": 'shape="ellipse" style="filled" color="#888888"',
    "tensor": 'shape="box" style="filled" color="#9e9e9e"',
    "output": 'shape="box" style="filled,bold" color="#c77700" peripheries="2"',
    "leaf": 'shape="box" style="rounded,filled" color="#4a7fb5"',
    "parameter": 'shape="box" style="filled" color="#3f8f3a"',
}
_KIND_FILL = {
    "op": "#eeeeee",
    "tensor": "#ffffff",
    "output": "#ffe2b8",
    "leaf": "#cfe5fb",
    "parameter": "#d4f0d0",
}


def _node_line(element: _Element, state: int, size: tuple[float, float]) -> str:
    rows = element.rows[state]
    parts = []
    for text, style, color in rows:
        body = S.escape(text or "")
        if style == "title":
            body = f'<B><FONT POINT-SIZE="10">{body}</FONT></B>'
        if color:
            body = f'<FONT COLOR="{color}">{body}</FONT>'
        parts.append(body)
    label = "<" + "<BR/>".join(parts) + ">"
    fill = _KIND_FILL[element.kind]
    extra = ""
    if element.kind == "op":
        running = any(color == _HOT for _, _, color in rows)
        done = any((text or "").startswith("✓") for text, _, _ in rows)
        if running:
            fill = _RUN_FILL
            extra = f' penwidth="3" color="{_HOT}"'
        elif done:
            fill = _DONE_FILL
    elif any(color in (_HOT, _READ) for _, _, color in rows):
        color = next(c for _, _, c in rows if c in (_HOT, _READ))
        extra = f' penwidth="3" color="{color}"'
    width, height = size
    return (
        f'\t{element.eid} [label={label} {_KIND_STYLE[element.kind]} fillcolor="{fill}"'
        f' fixedsize="true" width="{width:.3f}" height="{height:.3f}"{extra}]\n'
    )


def _edge_line(src: str, dst: str, text: str, hot: bool, size: tuple[float, float]) -> str:
    width, height = size
    body = S.escape(text) if text else "&#160;"
    if hot:
        body = f'<B><FONT COLOR="{_HOT}">{body}</FONT></B>'
    elif text:
        body = f'<FONT COLOR="#c92a2a">{body}</FONT>'
    label = (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>'
        f'<TD FIXEDSIZE="TRUE" WIDTH="{width:.0f}" HEIGHT="{height:.0f}">{body}</TD>'
        "</TR></TABLE>>"
    )
    style = f' color="{_HOT}" penwidth="2.5"' if hot else ""
    return f"\t{src} -> {dst} [label={label}{style}]\n"


def _wrap(text: str, width: int = _CAPTION_CHARS) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])


def _wrap_count(text: str) -> int:
    return len(_wrap(text))


def _caption_label(text: str, width: float, lines: int) -> str:
    body = '<BR ALIGN="LEFT"/>'.join(S.escape(line) for line in _wrap(text)) + '<BR ALIGN="LEFT"/>'
    body = f'<FONT POINT-SIZE="11">{body}</FONT>'
    height = lines * _LINE["caption"] + 6
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2"><TR>'
        f'<TD FIXEDSIZE="TRUE" WIDTH="{width:.0f}" HEIGHT="{height:.0f}" ALIGN="LEFT" '
        f'BALIGN="LEFT">{body}</TD></TR></TABLE>>'
    )


HTML_TEMPLATE = """<div class="ggr" id="{uid}" tabindex="0">
<style>
#{uid} {{ font-family: Helvetica, Arial, sans-serif; outline: none; }}
#{uid} .ggr-bar {{ display: flex; gap: 8px; align-items: center; margin: 6px 0; font-size: 13px; }}
#{uid} .ggr-bar input {{ flex: 1; max-width: 480px; }}
#{uid} .ggr-frame {{ display: none; }}
#{uid} .ggr-frame.on {{ display: block; }}
#{uid} .ggr-caption {{ font-size: 14px; margin: 4px 0 8px; max-width: 900px; }}
#{uid} svg {{ max-width: 100%; height: auto; }}
</style>
<div class="ggr-bar">
<button type="button" data-step="-1">&#9664; back</button>
<input type="range" min="0" max="{last}" value="0" aria-label="step">
<button type="button" data-step="1">next &#9654;</button>
<button type="button" data-play="1">play</button>
<span class="ggr-count">1 / {count}</span>
<span style="color:#888">(arrow keys step)</span>
</div>
{frames}
<script>
(function () {{
  var root = document.getElementById("{uid}");
  var frames = root.querySelectorAll(".ggr-frame");
  var slider = root.querySelector("input");
  var count = root.querySelector(".ggr-count");
  var current = 0, timer = null;
  function show(i) {{
    current = Math.max(0, Math.min(frames.length - 1, i));
    for (var k = 0; k < frames.length; k++) frames[k].classList.toggle("on", k === current);
    slider.value = current;
    count.textContent = (current + 1) + " / " + frames.length;
  }}
  slider.addEventListener("input", function () {{ show(parseInt(slider.value, 10)); }});
  root.querySelectorAll("button[data-step]").forEach(function (b) {{
    b.addEventListener("click", function () {{ show(current + parseInt(b.dataset.step, 10)); }});
  }});
  root.querySelector("button[data-play]").addEventListener("click", function (e) {{
    if (timer) {{ clearInterval(timer); timer = null; e.target.textContent = "play"; return; }}
    if (current === frames.length - 1) show(0);
    e.target.textContent = "pause";
    timer = setInterval(function () {{
      if (current === frames.length - 1) {{ clearInterval(timer); timer = null; e.target.textContent = "play"; return; }}
      show(current + 1);
    }}, 1200);
  }});
  {keys_target}.addEventListener("keydown", function (e) {{
    if (e.key === "ArrowRight") {{ show(current + 1); e.preventDefault(); }}
    if (e.key === "ArrowLeft") {{ show(current - 1); e.preventDefault(); }}
  }});
  show(0);
}})();
</script>
</div>"""
