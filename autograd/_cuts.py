"""Where a forward leaves the graph: a record kept only inside ``ag.viz.record(cuts=True)``.

Inside the block every primitive call (through ``TRACE.call_observer``), ``detach()`` and
``.data`` is watched. A result that does not
require grad although an input did (``detach()``, ``.data``, ``no_grad()``, a cast to an
integer dtype, ``argmax``/comparisons) gets a ``Cut``: what cut it, the line, and the tensors it
was computed from; a recorded op that reads such a result remembers which input it was. Every
node made inside also remembers its line. ``explain_grad`` reads this to name the cut.
The records are keyed by object id with weak references, so they die with the tensors.
"""

from __future__ import annotations

import linecache
import os
import re
import sys
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .grad_mode import is_grad_enabled
from .graph import Node
from .registry import OpSpec
from .tensor import Tensor
from .tracing import TRACE

_PACKAGE_DIRS = tuple(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + name + os.sep
    for name in ("autograd", "nn", "optim")
)


@dataclass(eq=False)
class Cut:
    """A place where the forward left the graph."""

    kind: str  # "detach", "data", "no_grad", "integer", "non_differentiable"
    op: str
    line: str | None
    sources: list[weakref.ref] = field(default_factory=list)  # inputs that required grad
    parents: list[Cut] = field(default_factory=list)  # earlier cuts its inputs came through
    dtype: Any = None

    def text(self) -> str:
        where = f" at {self.line}" if self.line else ""
        if self.kind == "detach":
            return f"detach(){where}"
        if self.kind == "data":
            return f".data{where} (the raw array, outside the graph)"
        if self.kind == "no_grad":
            return f"{self.op} under no_grad(){where}"
        if self.kind == "integer":
            if self.op in ("to_dtype", "to"):
                return f"a cast to {self.dtype}{where} (integers have no gradient)"
            return f"{self.op}{where}, which returns {self.dtype} values (no gradient)"
        return f"{self.op}{where}, an integer-valued op with no gradient"


_CUTS: dict[int, tuple[weakref.ref, Cut]] = {}
_ARRAY_CUTS: dict[int, tuple[weakref.ref, Cut]] = {}
_NODE_CUTS: dict[int, tuple[weakref.ref, list[tuple[int, Cut]]]] = {}
_NODE_LINES: dict[int, tuple[weakref.ref, str]] = {}
_state = {"depth": 0, "ever": False}


def _remember(table: dict, obj: Any, value: Any) -> None:
    key = id(obj)

    def forget(_ref: weakref.ref, key: int = key) -> None:
        table.pop(key, None)

    table[key] = (weakref.ref(obj, forget), value)


def _lookup(table: dict, obj: Any) -> Any:
    entry = table.get(id(obj))
    if entry is None or entry[0]() is not obj:
        return None
    return entry[1]


def cut_of(value: Any) -> Cut | None:
    """The cut a tensor (that needs no gradient) or a ``.data`` array came through."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            return None
        return _lookup(_CUTS, value)
    if isinstance(value, np.ndarray):
        return _lookup(_ARRAY_CUTS, value)
    return None


def node_cuts(node: Node) -> list[tuple[int, Cut]]:
    """``(input slot, cut)`` for the inputs of ``node`` that came through a cut."""
    return _lookup(_NODE_CUTS, node) or []


def node_line(node: Node) -> str | None:
    """The user line that created ``node`` (recorded inside ``record(cuts=True)``)."""
    return _lookup(_NODE_LINES, node)


def recorded() -> bool:
    """Whether a ``record(cuts=True)`` block ever ran in this process."""
    return bool(_state["ever"])


def hint() -> str:
    """How to get the line of a cut, unless recording was on."""
    if recorded():
        return ""
    return (
        "; to name the op and line that cut it, run the forward inside "
        "`with ag.viz.record(cuts=True):` and ask again"
    )


def short_line(entry: str) -> str:
    """``model.py:12 (y = x.detach())`` from a traceback entry ``File "...", line 12, ...``."""
    match = re.search(r'File "([^"]+)", line (\d+)', entry)
    if not match:
        return entry.strip()
    filename, lineno = match.group(1), int(match.group(2))
    return _format(filename, lineno)


def _format(filename: str, lineno: int) -> str:
    code = linecache.getline(filename, lineno).strip()
    base = os.path.basename(filename)
    return f"{base}:{lineno}" + (f" ({code})" if code else "")


def _user_line() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        name = os.path.abspath(frame.f_code.co_filename)
        if not name.startswith(_PACKAGE_DIRS) and "contextlib" not in name:
            return _format(frame.f_code.co_filename, frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def reaches(cut: Cut, tensor: Tensor) -> bool:
    """Whether ``tensor`` fed this cut (directly, through its graph, or an earlier cut)."""
    stack = [cut]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for ref in current.sources:
            source = ref()
            if source is not None and _depends_on(source, tensor):
                return True
        stack.extend(current.parents)
    return False


def _depends_on(source: Tensor, tensor: Tensor) -> bool:
    if source is tensor:
        return True
    target = tensor.grad_fn
    start = source.grad_fn
    if start is None:
        return False
    stack, seen = [start], {start}
    while stack:
        node = stack.pop()
        if node is target:
            return True
        for edge in node.next_edges:
            if edge is None:
                continue
            if edge[0] is tensor:
                return True
            if isinstance(edge[0], Node) and edge[0] not in seen:
                seen.add(edge[0])
                stack.append(edge[0])
    return False


def describe_chain(cut: Cut, tensor: Tensor, name: str) -> str:
    """The cuts between ``tensor`` and the result, earliest first, in words."""
    chain = [cut]
    current = cut
    while True:
        parent = next((p for p in current.parents if reaches(p, tensor)), None)
        if parent is None:
            break
        chain.append(parent)
        current = parent
    steps = [c.text() for c in reversed(chain)]
    return f"{name} goes through " + ", then ".join(steps)


def _observe_call(spec: OpSpec, inputs: Any, options: dict, out: Any) -> None:
    """``TRACE.call_observer``: note cuts made by this primitive call and cut inputs it reads."""
    from . import anomaly

    if anomaly._state.in_backward:
        return
    carriers = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    tainted = [c for c in (_cut_of_input(t) for t in inputs) if c is not None]
    outputs = out if isinstance(out, (tuple, list)) else (out,)
    line: str | None = None
    for result in outputs:
        if not isinstance(result, Tensor):
            continue
        node = result._grad_fn
        if node is not None:
            if _lookup(_NODE_LINES, node) is None:
                line = line or _user_line()
                if line:
                    _remember(_NODE_LINES, node, line)
            slots = [(slot, cut) for slot, t in enumerate(inputs) if (cut := _cut_of_input(t))]
            if slots:
                _remember(_NODE_CUTS, node, slots)
        elif carriers or tainted:
            if not carriers and len(tainted) == 1:
                _remember(_CUTS, result, tainted[0])  # arithmetic on a cut tensor: the same cut
                continue
            if not carriers:
                kind = "no_grad"
            elif not is_grad_enabled():
                kind = "no_grad"
            elif spec.differentiable and result.dtype.kind != "f":
                kind = "integer"
            else:
                kind = "non_differentiable"
            line = line or _user_line()
            cut = Cut(kind, spec.name, line, [weakref.ref(t) for t in carriers], tainted,
                      dtype=result.dtype)  # fmt: skip
            _remember(_CUTS, result, cut)


def _cut_of_input(value: Any) -> Cut | None:
    """The cut of an op input: a tensor without graph that came through a cut, or one wrapping
    an array handed out by ``.data``."""
    if not isinstance(value, Tensor) or value.requires_grad:
        return None
    return _lookup(_CUTS, value) or _lookup(_ARRAY_CUTS, value._data)


def _watch_detach(original: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    def detach(self: Tensor) -> Tensor:
        out = original(self)
        if self.requires_grad:
            _remember(_CUTS, out, Cut("detach", "detach", _user_line(), [weakref.ref(self)]))
        elif (cut := cut_of(self)) is not None:
            _remember(_CUTS, out, cut)
        return out

    return detach


def _watch_data(original: property) -> property:
    getter = original.fget
    assert getter is not None, "Tensor.data has no getter"

    def data(self: Tensor) -> Tensor:
        out = getter(self)
        if self.requires_grad:
            _remember(_CUTS, out, Cut("data", ".data", _user_line(), [weakref.ref(self)]))
        elif (cut := cut_of(self)) is not None:
            _remember(_CUTS, out, cut)
        return out

    return property(data, original.fset, original.fdel, original.__doc__)


class track:
    """Watch op calls, ``detach()`` and ``.data`` in the block (re-entrant; restores on exit)."""

    def __enter__(self) -> track:
        if _state["depth"] == 0:
            previous = TRACE.call_observer
            self._originals = (previous, Tensor.detach, Tensor.__dict__["data"])

            def observe(spec: Any, inputs: Any, options: dict, out: Any) -> None:
                _observe_call(spec, inputs, options, out)
                if previous is not None:
                    previous(spec, inputs, options, out)

            TRACE.call_observer = observe
            Tensor.detach = _watch_detach(Tensor.detach)  # type: ignore[method-assign,assignment]
            Tensor.data = _watch_data(Tensor.__dict__["data"])  # type: ignore[method-assign,assignment]
        _state["depth"] += 1
        _state["ever"] = True
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _state["depth"] -= 1
        if _state["depth"] == 0:
            observer, detach, data = self._originals
            TRACE.call_observer = observer
            Tensor.detach = detach  # type: ignore[method-assign]
            Tensor.data = data  # type: ignore[method-assign,assignment]
