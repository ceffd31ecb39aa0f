"""``replay``: backward step by step, in the order the engine runs it, as frames to step through.

Each frame is one node's rule running: the gradients that arrived at its outputs and the ones
it sent to each input, recorded by the engine's own observers (so the order and the values are
the real ones). ``Replay.save`` writes a self-contained HTML file (inline SVG frames, a slider,
the arrow keys), an animated GIF or a PNG strip.
"""

from __future__ import annotations

import html
import io
import os
import pathlib
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from ..graph import Node
from ..tracing import TRACE
from . import _style as S
from ._render import GraphvizNotFoundError, VizGraph
from ._replay_draw import (
    HTML_TEMPLATE,
    Renderer,
    grad_text,
    grad_total,
    render_all,
    strip_xml_header,
)
from ._trace import GradStats

if TYPE_CHECKING:
    from ..tensor import Tensor

MAX_ELEMENTS = 100_000  # gradients above this many elements are kept as summaries only


def _keep(grad: Any, max_elements: int) -> np.ndarray | GradStats | None:
    """A copy of a gradient (Tensor or array), or its summary when it is large."""
    if grad is None:
        return None
    array = np.asarray(grad._data if hasattr(grad, "_data") else grad)
    if array.size > max_elements:
        return GradStats.of(array)
    return np.array(array, copy=True)


@dataclass
class Frame:
    """One step of backward: a node's rule ran.

    Attributes:
        step: position in the engine's order (0 is the first node backward ran).
        node: the node (``tensor.grad_fn`` of the tensor it produced).
        op: the op's name as drawn (``mul``, ``linear``).
        output_grads: the gradient that arrived at each of the node's outputs (the sum of
            what its consumers sent), a copy; None where none arrived.
        input_grads: the gradient the node sent to each input, reduced to the input's shape
            (None for inputs that need no gradient).
        inputs: a name for each input (``a``, ``fc1.weight``, ``mul's output``).
        leaf_updates: ``(leaf name, gradient delivered)`` for the leaves this step reached, in
            order (a leaf used twice is reached twice).
    Large gradients (above ``max_elements``) are kept as a ``GradStats`` summary.
    """

    step: int
    node: Node
    op: str
    output_grads: tuple[Any, ...]
    input_grads: tuple[Any, ...]
    inputs: tuple[str | None, ...]
    leaf_updates: list[tuple[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        received = ", ".join(grad_text(g) for g in self.output_grads)
        sent = "; ".join(
            f"{grad_text(g)} to {name}"
            for g, name in zip(self.input_grads, self.inputs)
            if g is not None and name is not None
        )
        return (
            f"step {self.step + 1}: {self.op} ({self.node.type_name()}) received {received}; "
            f"sent {sent or 'nothing'}"
        )


class _Recorder:
    """Collects the engine's observer calls during one backward (chained to earlier observers)."""

    def __init__(self, max_elements: int) -> None:
        self.max_elements = max_elements
        self.applied: list[tuple[Node, list, list]] = []
        self.leaf_events: list[tuple[int, Any, Any]] = []  # (after step, leaf, grad)
        self._saved: tuple[Any, Any] | None = None

    def __enter__(self) -> _Recorder:
        self._saved = (TRACE.apply_observer, TRACE.grad_observer)
        previous_apply, previous_grad = self._saved

        def on_apply(node: Any, output_grads: list, input_grads: list) -> None:
            keep = self.max_elements
            self.applied.append(
                (
                    node,
                    [_keep(g, keep) for g in output_grads],
                    [_keep(g, keep) for g in input_grads],
                )
            )
            if previous_apply is not None:
                previous_apply(node, output_grads, input_grads)

        def on_grad(target: Any, grads: list) -> None:
            if not isinstance(target, Node):
                self.leaf_events.append(
                    (len(self.applied) - 1, target, _keep(grads[0], self.max_elements))
                )
            if previous_grad is not None:
                previous_grad(target, grads)

        TRACE.apply_observer = on_apply
        TRACE.grad_observer = on_grad
        return self

    def __exit__(self, *exc_info: Any) -> None:
        assert self._saved is not None, "_Recorder.__exit__ without __enter__"
        TRACE.apply_observer, TRACE.grad_observer = self._saved


def replay(
    output: Tensor,
    path: str | os.PathLike | None = None,
    *,
    gradient: Any = None,
    params: Any = None,
    retain_graph: bool = False,
    max_elements: int = MAX_ELEMENTS,
) -> Replay:
    """Run ``output.backward()`` and record it step by step, in the engine's real order.

    Every node backward runs becomes a ``Frame`` holding the gradient that arrived at its
    outputs and the gradient it sent to each input (reduced to the input's shape): exactly what
    the engine computed, in the order it computed it. Leaves' ``.grad`` fill in as in a normal
    backward (this *is* the backward). The result draws each step: the running node
    highlighted, the incoming gradient, each outgoing gradient on its edge (values for small
    tensors, shape and norm for large ones), contributions adding up where a tensor feeds
    several ops, and leaves' ``.grad`` filling in.

    Args:
        path: also save it there (``.html``: one offline file with a slider and arrow keys;
            ``.gif``: an animation; ``.png``: a strip of frames; GIF/PNG need Pillow).
        gradient: the output's gradient when it is not a scalar (as ``backward(gradient)``).
        params: names for tensors (a Module, a dict or pairs), as in ``draw_graph``;
            parameters of the modules that built the graph are named automatically.
        retain_graph: keep the graph for another backward.
        max_elements: gradients with more elements are kept as a summary (shape, norm).

    Returns:
        A ``Replay``: ``frames`` (a list of ``Frame``), ``draw(step)``, ``save(path)``; it
        shows inline in Jupyter.

    Example:
        >>> import autograd as ag
        >>> a = ag.tensor(2.0, requires_grad=True)
        >>> b = ag.tensor(-3.0, requires_grad=True)
        >>> r = ag.viz.replay(a * b + a, params={"a": a, "b": b})
        >>> [f.op for f in r.frames]
        ['add', 'mul']
        >>> print(r.frames[1])
        step 2: mul (MulBackward) received 1.0; sent -3.0 to a; 2.0 to b
        >>> a.grad
        tensor(-2.)
    """
    from ._graph import _as_roots, _Naming, _Walk

    (root,) = _as_roots(output)
    if not root.requires_grad:
        raise RuntimeError(
            "replay: the output does not require grad, so backward has nothing to run "
            f"(shape {tuple(root.shape)}); was it computed under no_grad() or from detached tensors?"
        )
    if root._grad_fn is not None and root._grad_fn.freed:
        raise RuntimeError(
            "replay: backward already freed this graph; run the forward again (or pass "
            "retain_graph=True to the earlier backward) and replay that"
        )
    walk = _Walk([root], None)
    naming = _Naming(walk, params)
    start = {id(leaf): _keep(leaf._grad, max_elements) for leaf in walk.leaves}
    with _Recorder(max_elements) as recorder:
        root.backward(gradient, retain_graph=retain_graph)
    result = Replay(root, walk, naming, recorder, start)
    if path is not None:
        result.save(path)
    return result


class _Names:
    """Short names for the tensors in captions: user/parameter names, else descriptive ones."""

    def __init__(self, walk: Any, naming: Any) -> None:
        self.walk, self.naming = walk, naming

    def leaf(self, leaf: Any) -> str:
        name = self.naming.leaf_names.get(id(leaf))
        return name if name else f"leaf {self.walk.leaf_index[id(leaf)]}"

    def output(self, node: Node, k: int) -> str:
        name = self.naming.output_names.get((id(node), k))
        if name:
            return name
        suffix = f"[{k}]" if node.num_outputs > 1 else ""
        return f"{S.op_label(node)}'s output{suffix}"

    def edge(self, edge: Any) -> str | None:
        if edge is None:
            return None
        target, k = edge
        return self.output(target, k) if isinstance(target, Node) else self.leaf(target)


class Replay:
    """A recorded backward: ``frames`` in the engine's order, drawn one step at a time.

    ``draw(step)`` returns the Graphviz drawing of a step (``step=-1``: before backward),
    ``save(path)`` writes HTML, GIF or PNG, ``html()`` the self-contained page; in Jupyter the
    replay shows inline with a slider (arrow keys step through it once it has focus).
    """

    def __init__(
        self, root: Tensor, walk: Any, naming: Any, recorder: _Recorder, start: dict
    ) -> None:
        self.output = root
        self._walk = walk
        self._names = _Names(walk, naming)
        self._start = start
        self.frames: list[Frame] = []
        for step, (node, output_grads, input_grads) in enumerate(recorder.applied):
            self.frames.append(
                Frame(
                    step=step,
                    node=node,
                    op=S.op_label(node),
                    output_grads=tuple(output_grads),
                    input_grads=tuple(input_grads),
                    inputs=tuple(self._names.edge(e) for e in node.next_edges),
                )
            )
        self._leaf_events = recorder.leaf_events
        for step, leaf, grad in recorder.leaf_events:
            if step >= 0:
                self.frames[step].leaf_updates.append((self._names.leaf(leaf), grad))
        self._svgs: list[str] | None = None

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[Frame]:
        return iter(self.frames)

    def __getitem__(self, step: int) -> Frame:
        return self.frames[step]

    def __repr__(self) -> str:
        ops = ", ".join(f.op for f in self.frames[:8]) + (", ..." if len(self.frames) > 8 else "")
        return f"<Replay of {len(self.frames)} steps: {ops}>"

    def leaf_grad(self, leaf: Tensor, step: int) -> np.ndarray | GradStats | None:
        """What ``leaf.grad`` held after ``step`` (``-1``: before backward)."""
        parts = [] if self._start.get(id(leaf)) is None else [self._start[id(leaf)]]
        parts += [g for s, t, g in self._leaf_events if t is leaf and s <= step and g is not None]
        return grad_total(parts)

    def draw(self, step: int = -1) -> VizGraph:
        """The drawing of the graph after ``step`` ran (``-1``: before backward)."""
        if not -1 <= step < len(self.frames):
            raise IndexError(f"replay: step {step} is out of range (-1..{len(self.frames) - 1})")
        return Renderer(self).graphs()[step + 1]

    def svgs(self) -> list[str]:
        """Every step rendered as SVG text: before backward, then one per frame."""
        if self._svgs is None:
            sources = [g.source for g in Renderer(self).graphs()]
            self._svgs = render_all(sources, "svg")
        return self._svgs

    def captions(self) -> list[str]:
        """The caption of every step (before backward, then one per frame)."""
        return Renderer(self).captions()

    def html(self, standalone: bool = True) -> str:
        """The replay as HTML: inline SVG frames, a slider, buttons and the arrow keys.

        No network access is needed: everything (SVG, style, script) is in the page.
        """
        uid = "ggr" + uuid.uuid4().hex[:10]
        frames = []
        for i, (svg, caption) in enumerate(zip(self.svgs(), self.captions())):
            svg = strip_xml_header(svg).replace(' id="', f' id="{uid}-{i}-')
            frames.append(
                f'<div class="ggr-frame{" on" if i == 0 else ""}">'
                f'<p class="ggr-caption">{html.escape(caption)}</p>{svg}</div>'
            )
        widget = HTML_TEMPLATE.format(
            uid=uid,
            last=len(frames) - 1,
            count=len(frames),
            frames="\n".join(frames),
            keys_target="document" if standalone else "root",
        )
        if not standalone:
            return widget
        title = html.escape(f"Backward replay: {len(self.frames)} steps")
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}'
            f'</title></head>\n<body>\n<h3 style="font-family:sans-serif">{title}</h3>\n'
            f"{widget}\n</body></html>\n"
        )

    def _repr_html_(self) -> str:
        try:
            return self.html(standalone=False)
        except GraphvizNotFoundError as error:
            return f"<pre>{html.escape(str(error))}</pre><pre>{html.escape(str(self))}</pre>"

    def __str__(self) -> str:
        return "\n".join(str(frame) for frame in self.frames)

    def save(self, path: str | os.PathLike) -> pathlib.Path:
        """Write ``.html`` (offline page), ``.gif`` (animation) or ``.png`` (a strip of frames).

        HTML needs Graphviz's ``dot``; GIF and PNG also need Pillow (``pip install pillow``).
        """
        target = pathlib.Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".html", ".htm", ".gif", ".png"):
            raise ValueError(
                f"replay.save: cannot write {suffix or 'a file without extension'!r}; use .html, "
                ".gif or .png"
            )
        if target.parent and not target.parent.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
        if suffix in (".html", ".htm"):
            target.write_text(self.html(), encoding="utf-8")
            return target
        try:
            from PIL import Image
        except ImportError as error:
            raise ImportError(
                f"replay.save: writing {suffix} needs Pillow (pip install pillow); .html needs "
                "only Graphviz"
            ) from error
        sources = [g.source for g in Renderer(self).graphs()]
        images = [Image.open(io.BytesIO(png)).convert("RGB") for png in render_all(sources, "png")]
        width = max(im.width for im in images)
        height = max(im.height for im in images)
        frames = []
        for im in images:
            canvas = Image.new("RGB", (width, height), "white")
            canvas.paste(im, ((width - im.width) // 2, 0))
            frames.append(canvas)
        if suffix == ".gif":
            frames[0].save(target, save_all=True, append_images=frames[1:], duration=1500, loop=0)
            return target
        columns = min(len(frames), 4)
        rows = (len(frames) + columns - 1) // columns
        strip = Image.new("RGB", (columns * width, rows * height), "white")
        for i, frame in enumerate(frames):
            strip.paste(frame, ((i % columns) * width, (i // columns) * height))
        strip.save(target)
        return target
