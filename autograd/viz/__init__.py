"""Drawings of computation graphs and modules with Graphviz, with a gradient-flow view.

``draw_graph(tensor)`` draws the graph behind a tensor; ``draw_module(model)`` a module
tree; ``plot_grad_flow(model)`` the per-layer gradient bar chart (matplotlib); ``save``
renders to SVG, PNG or PDF by extension. See ``draw_graph`` for the picture's conventions.

Drawing after backward. ``backward()`` frees what ops saved for backward, and ``viz``
never changes that. The structure survives: a node keeps its edges, shapes, dtypes, op
options and module, so a graph can be drawn after backward as long as the output tensor
is held. Gradients of intermediate tensors are not kept by backward; to draw them, run
the backward inside ``with ag.viz.record():`` -- each node then keeps a small summary of
its output's gradient (norm, min/mean/max, NaN/inf flag; the array itself only when it
has at most 16 elements). Values of intermediates are likewise dropped unless the forward
ran inside ``ag.viz.record(values=True)``, which keeps references to the output arrays
(memory grows with the graph: meant for small graphs and debugging). Leaves and the output
always show their own values and ``.grad`` (so draw before ``zero_grad()``). If nothing
was recorded but the graph was not freed yet (no backward, or ``retain_graph=True``),
``draw_graph(..., grad_flow=True)`` runs its own backward with ``ag.grad`` (``.grad`` is
not touched).

Example:
    >>> import autograd as ag
    >>> x = ag.tensor([[1.0, -2.0]], requires_grad=True)
    >>> w = ag.tensor([[0.5], [0.25]], requires_grad=True)
    >>> with ag.viz.record():
    ...     loss = (x @ w).sigmoid().sum()
    ...     loss.backward()
    >>> dot = ag.viz.draw_graph(loss, {"x": x, "w": w}, grad_flow=True)
    >>> "sigmoid" in dot.source
    True
"""

from __future__ import annotations

from ._graph import draw_graph
from ._memory import MemoryReport, SavedArray, memory
from ._module import draw_module
from ._plot import plot_grad_flow
from ._render import GraphvizNotFoundError, VizGraph, save
from ._replay import Frame, Replay, replay
from ._text import text
from ._trace import GradStats, record

__all__ = [
    "draw_graph",
    "draw_module",
    "memory",
    "MemoryReport",
    "SavedArray",
    "plot_grad_flow",
    "record",
    "replay",
    "text",
    "Replay",
    "Frame",
    "save",
    "GradStats",
    "GraphvizNotFoundError",
    "VizGraph",
]
