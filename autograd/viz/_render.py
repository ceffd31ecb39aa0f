"""Rendering: the ``Digraph`` subclass the drawings return, ``save`` and the missing-Graphviz error."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import graphviz

INSTALL_HINT = (
    "install Graphviz: Debian/Ubuntu `sudo apt-get install graphviz`, macOS `brew install "
    "graphviz`, conda `conda install -c conda-forge graphviz`, Windows: the installer from "
    "https://graphviz.org/download/ (then add its bin folder to PATH)"
)

FORMATS = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".gif": "gif",
    ".ps": "ps",
    ".eps": "eps",
    ".dot": "dot-source",
    ".gv": "dot-source",
}


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Raised when a drawing is rendered but the Graphviz ``dot`` program is not installed.

    It subclasses ``graphviz.ExecutableNotFound`` (a ``RuntimeError``), so existing handlers
    still catch it; the DOT text stays available as ``graph.source``.
    """

    def __init__(self, action: str) -> None:
        RuntimeError.__init__(
            self,
            f"{action}: the Graphviz `dot` program was not found on PATH; {INSTALL_HINT}. "
            "The DOT text is still available as `graph.source` (save it with "
            "ag.viz.save(graph, 'graph.dot')).",
        )


class VizGraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering explains how to install Graphviz when it is missing.

    It renders inline in Jupyter (SVG), and ``render``, ``pipe`` and ``view`` work as in
    ``graphviz``; ``ag.viz.save(graph, 'out.png')`` picks the format from the extension.
    ``meta`` holds facts about the drawing (counts of nodes per kind, gradient classes), which
    tests and tools can read without parsing DOT.
    """

    meta: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meta = {}

    def pipe(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Return the rendered graph as bytes (or text with ``encoding=``)."""
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            if isinstance(error, GraphvizNotFoundError):
                raise
            raise GraphvizNotFoundError("render") from error

    def render(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Save the DOT source and render it to a file (see ``graphviz.Digraph.render``)."""
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            if isinstance(error, GraphvizNotFoundError):
                raise
            raise GraphvizNotFoundError("render") from error

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict:
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound as error:
            # In a notebook, show the explanation instead of a traceback.
            return {"text/plain": f"{error}\n\n{self.source[:2000]}"}

    def copy(self) -> VizGraph:
        """Return a copy (with its own ``meta``)."""
        duplicate = super().copy()
        duplicate.meta = dict(self.meta)
        return duplicate


def save(
    graph: graphviz.Digraph, path: str | os.PathLike, format: str | None = None
) -> pathlib.Path:
    """Render ``graph`` to ``path``, the format taken from the extension (or ``format``).

    ``.svg``, ``.png``, ``.pdf``, ``.jpg``, ``.gif``, ``.ps``, ``.eps`` need the Graphviz
    ``dot`` program; ``.dot``/``.gv`` write the DOT text and need nothing. Returns the path.

    Example:
        >>> import autograd as ag
        >>> x = ag.tensor(2.0, requires_grad=True)
        >>> path = ag.viz.save(ag.viz.draw_graph(x * x), "/tmp/graphgrad_doctest.dot")
        >>> path.read_text().startswith("digraph")
        True
    """
    target = pathlib.Path(path)
    if format is None:
        suffix = target.suffix.lower()
        if suffix not in FORMATS:
            raise ValueError(
                f"save: cannot tell the format from the extension {suffix or '(none)'!r} of "
                f"{str(target)!r}; use one of {', '.join(sorted(FORMATS))} or pass format="
            )
        format = FORMATS[suffix]
    if not isinstance(graph, graphviz.Digraph | graphviz.Graph):
        raise TypeError(f"save: expected a graphviz graph, got {type(graph).__name__}")
    if target.parent and not target.parent.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    if format in ("dot-source", "dot", "gv"):
        target.write_text(graph.source, encoding="utf-8")
        return target
    try:
        data = graph.pipe(format=format)
    except graphviz.ExecutableNotFound as error:
        if isinstance(error, GraphvizNotFoundError):
            raise
        raise GraphvizNotFoundError(f"save {str(target)!r}") from error
    target.write_bytes(data)
    return target
