"""Turn a walked graph into DOT nodes and edges: placement in module clusters, collapsing, labels."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..graph import Node
from . import _style as S
from ._trace import GradStats

if TYPE_CHECKING:
    from ..tensor import Tensor
    from ._graph import _Drawing, _Naming, _Walk

METRIC_LABEL = {
    "norm": "grad norm",
    "rms": "grad rms",
    "absmax": "max |grad|",
    "absmean": "mean |grad|",
}
FLAG_TEXT = {
    "grad-vanishing": "vanishing",
    "grad-exploding": "EXPLODING",
    "grad-nonfinite": "NaN/inf",
}


def _small(text: str) -> str:
    return f'<FONT POINT-SIZE="9">{S.escape(text)}</FONT>'


def _html(rows: list[str]) -> str:
    return "<" + "<BR/>".join(rows) + ">"


class _Group:
    """A collapsed module: one drawn node standing for all the ops created inside it."""

    def __init__(self, eid: str, module: Any, cluster: tuple) -> None:
        self.eid = eid
        self.module = module
        self.cluster = cluster
        self.nodes: list[int] = []
        self.params: dict[int, Tensor] = {}
        self._inside: set[int] | None = None

    def contains(self, module: Any) -> bool:
        if self._inside is None:
            modules = self.module.modules() if hasattr(self.module, "modules") else [self.module]
            self._inside = {id(m) for m in modules}
        return id(module) in self._inside


class _Builder:
    """Writes the drawing of a walked graph into a ``_Drawing``."""

    def __init__(
        self,
        walk: _Walk,
        naming: _Naming,
        drawing: _Drawing,
        roots: Sequence[Tensor],
        leaf_stats: dict[int, GradStats],
        *,
        show_values: bool,
        show_grads: bool,
        show_intermediates: bool,
        show_constants: bool,
        group_modules: bool,
        collapse_at: Callable[[tuple], int | None],
        max_depth: int | None,
        saved: dict | None = None,
    ) -> None:
        self.walk, self.naming, self.drawing = walk, naming, drawing
        self.leaf_stats = leaf_stats
        self.show_values, self.show_grads = show_values, show_grads
        self.show_intermediates, self.show_constants = show_intermediates, show_constants
        self.group_modules, self.collapse_at, self.max_depth = group_modules, collapse_at, max_depth
        self.saved = saved  # node -> [SavedArray] when drawing what backward keeps
        self.root_outputs = {
            (id(r._grad_fn), r._output_nr): r for r in roots if r._grad_fn is not None
        }
        self.root_leaves = {id(r) for r in roots if r._grad_fn is None}
        self.cluster_labels: dict[tuple, str] = {}
        self.cluster_labels_text: dict[str, str] = {}
        self.tensor_classes: dict[str, str] = {}
        self.drawn_names: dict[str, str] = {}
        self.elem_of: list[str] = []
        self.key_of: dict[str, tuple] = {}
        self.groups: dict[tuple, _Group] = {}
        self.group_of: dict[str, _Group] = {}
        self.owner_key: dict[int, tuple] = {}
        self.drawn: set[str] = set()
        self.values_missing = False
        self.entries: dict[tuple, str] = {}
        self.leaf_uses: dict[str, int] = {}

    def build(self) -> None:
        """Place every node, then draw edges (creating tensors on first use), roots, ops, groups."""
        self._place_nodes()
        self._draw_edges()
        self._anchor_parameters()
        for root in self.root_outputs.values():
            self._tensor(self.walk.index[root._grad_fn], root._output_nr)
        for leaf in self.walk.leaves:
            if id(leaf) in self.root_leaves:
                self._leaf(leaf)
        self._draw_ops()
        self._draw_groups()
        if self.values_missing:
            warnings.warn(
                "draw_graph: values of intermediate tensors were not recorded; run the forward "
                "inside `with ag.viz.record(values=True):` to show them",
                stacklevel=3,
            )

    def _cluster(self, path: tuple) -> tuple:
        if not self.group_modules or not path:
            return ()
        key = tuple(id(m) for m in path)
        for size in range(1, len(path) + 1):
            prefix = key[:size]
            if prefix in self.cluster_labels:
                continue
            module = path[size - 1]
            name, type_name = self.naming.module_title(module)
            self.owner_key.setdefault(id(module), prefix)
            self.cluster_labels_text.setdefault(name or type_name, type_name)
            title = f"<B>{S.escape(S.module_title(name, type_name))}</B>"
            if self.saved is not None and id(module) in self.saved["modules"]:
                from ._memory import fmt_bytes

                amount = fmt_bytes(self.saved["modules"][id(module)])
                title += f'<BR ALIGN="LEFT"/><FONT POINT-SIZE="9">saved {amount}</FONT>'
            self.cluster_labels[prefix] = f"<{title}>"
        return key

    def _place_nodes(self) -> None:
        for i, node in enumerate(self.walk.nodes):
            path = node.module_path or ()
            j = self.collapse_at(path) if path else None
            if j is None:
                eid = f"n{i}"
                self.key_of[eid] = self._cluster(path)
            else:
                gkey = tuple(id(m) for m in path[: j + 1])
                group = self.groups.get(gkey)
                if group is None:
                    group = _Group(f"m{len(self.groups)}", path[j], self._cluster(path[:j]))
                    self.groups[gkey] = group
                    self.group_of[group.eid] = group
                    self.key_of[group.eid] = group.cluster
                group.nodes.append(i)
                eid = group.eid
            self.elem_of.append(eid)

    def _draw_edges(self) -> None:
        drawing, index = self.drawing, self.walk.index
        for i, node in enumerate(self.walk.nodes):
            consumer = self.elem_of[i]
            key = self.key_of[consumer]
            group = self.group_of.get(consumer)
            for a, edge in enumerate(node.next_edges):
                if edge is None:
                    shape = node.input_shapes[a] if a < len(node.input_shapes) else None
                    if self.show_constants and group is None and shape:
                        cid = f"n{i}c{a}"
                        dtype = S.fmt_dtype(node.input_dtypes[a])
                        label = _html(["constant", _small(f"{S.fmt_shape(shape)} {dtype}")])
                        drawing.node(key, cid, "constant", label)
                        drawing.edge(cid, consumer, style="dashed", color="#aaaaaa")
                    continue
                target, k = edge
                if isinstance(target, Node):
                    p = index.get(target)
                    if p is None:
                        self._truncated(i, key, consumer)
                    elif self.elem_of[p] != consumer:
                        stats = self._output_stats(target, k)
                        if self.show_intermediates or (id(target), k) in self.root_outputs:
                            src = self._tensor(p, k)
                        else:
                            src = self.elem_of[p]
                        drawing.edge(src, consumer, stats, slot=a if group is None else None, weight="3")
                        self._entry(src, key)
                elif group is not None and self._absorbed(target, group):
                    group.params[id(target)] = target
                else:
                    lid = self._leaf(target)
                    drawing.edge(lid, consumer, self.leaf_stats.get(id(target)),
                                 slot=a if group is None else None)  # fmt: skip
                    self.leaf_uses[lid] = self.leaf_uses.get(lid, 0) + 1
                    self._entry(lid, key)

    def _entry(self, src: str, key: tuple) -> None:
        if key and self.key_of.get(src) != key:
            self.entries.setdefault(key, src)

    def _anchor_parameters(self) -> None:
        """Rank each module's parameters below the module's input (invisible edges).

        Without this, Graphviz ranks a weight beside the previous layers, the clusters overlap
        in height and are laid out as a staircase. Shared parameters (several uses, e.g. an
        RNN cell) are left alone: anchoring them to a later step's input would make a cycle.
        """
        for lid, uses in self.leaf_uses.items():
            key = self.key_of.get(lid, ())
            entry = self.entries.get(key)
            if uses == 1 and key and entry is not None and entry != lid:
                self.drawing.edge(entry, lid, style="invis")

    def _absorbed(self, leaf: Tensor, group: _Group) -> bool:
        owner = self.naming.param_owner.get(id(leaf))
        return owner is not None and group.contains(owner)

    def _truncated(self, i: int, key: tuple, consumer: str) -> None:
        tid = f"n{i}x"
        if tid not in self.drawn:
            self.drawn.add(tid)
            label = _html(["⋯", _small(f"earlier ops (max_depth={self.max_depth})")])
            self.drawing.node(key, tid, "truncated", label)
        self.drawing.edge(tid, consumer, style="dotted")

    def _output_stats(self, node: Node, k: int) -> GradStats | None:
        stats = node.grad_stats
        if stats is None or k >= len(stats):
            return None
        return stats[k]

    def _rows(self, name: str | None, shape: Any, dtype: Any, value: Any, stats: Any) -> list[str]:
        rows = [f"<B>{S.escape(name)}</B>"] if name else []
        rows.append(_small(f"{S.fmt_shape(shape)} {S.fmt_dtype(dtype)}"))
        if self.show_values:
            if value is None:
                rows.append(_small("data: not recorded"))
            else:
                rows.append(S.escape(f"data {S.fmt_array(value)}"))
        if self.show_grads:
            rows.append(S.escape(f"grad {self._grad_text(stats)}"))
        if self.drawing.grad_flow:
            klass, value_ = self.drawing.grad_class(stats)
            if value_ is not None:
                rows.append(_small(f"{METRIC_LABEL[self.drawing.metric]} {S.fmt_number(value_)}"))
            if klass in FLAG_TEXT:
                rows.append(f"<B>{FLAG_TEXT[klass]}</B>")
        return rows

    def _grad_text(self, stats: GradStats | None) -> str:
        if stats is None:
            return "none"
        if stats.values is not None:
            return S.fmt_array(stats.values)
        return (
            f"min {S.fmt_number(stats.min)} · mean {S.fmt_number(stats.mean)} · "
            f"max {S.fmt_number(stats.max)}"
        )

    def _note(self, eid: str, name: str | None, stats: GradStats | None) -> None:
        if name:
            self.drawn_names[name] = eid
        if self.drawing.grad_flow:
            self.tensor_classes[name or eid] = self.drawing.grad_class(stats)[0]

    def _tensor(self, p: int, k: int) -> str:
        eid = f"n{p}t{k}"
        if eid in self.drawn:
            return eid
        self.drawn.add(eid)
        node = self.walk.nodes[p]
        root = self.root_outputs.get((id(node), k))
        shape, dtype = node.output_meta[k] if k < len(node.output_meta) else (None, None)
        value = None
        if node.values is not None and k < len(node.values):
            value = node.values[k]
        elif root is not None:
            value = root._data
        elif self.show_values:
            self.values_missing = True
        name = self.naming.output_names.get((id(node), k))
        stats = self._output_stats(node, k)
        label = _html(self._rows(name, shape, dtype, value, stats))
        producer = self.elem_of[p]
        kind = "output" if root is not None else "intermediate"
        self.key_of[eid] = self.key_of[producer]
        self.drawing.node(self.key_of[producer], eid, kind, label, stats)
        self.drawing.edge(producer, eid, stats, weight="3")
        self._note(eid, name, stats)
        return eid

    def _leaf(self, leaf: Tensor) -> str:
        eid = f"l{self.walk.leaf_index[id(leaf)]}"
        if eid in self.drawn:
            return eid
        self.drawn.add(eid)
        is_param = id(leaf) in self.naming.param_ids
        if id(leaf) in self.root_leaves:
            kind = "output"
        else:
            kind = "parameter" if is_param else "input"
        key: tuple = ()
        owner = self.naming.param_owner.get(id(leaf))
        if is_param and owner is not None:
            key = self.owner_key.get(id(owner), ())
        name = self.naming.leaf_names.get(id(leaf))
        stats = self.leaf_stats.get(id(leaf))
        label = _html(self._rows(name, leaf._data.shape, leaf._data.dtype, leaf._data, stats))
        self.key_of[eid] = key
        self.drawing.node(key, eid, kind, label, stats)
        self._note(eid, name, stats)
        return eid

    def _draw_ops(self) -> None:
        for i, node in enumerate(self.walk.nodes):
            eid = self.elem_of[i]
            if eid in self.group_of:
                continue
            rows = [f"<B>{S.escape(S.op_label(node))}</B>"]
            options = _key_options(node)
            rows.extend(_small(line) for line in options.split("\n") if line)
            if not self.show_intermediates and node.output_meta:
                rows.append(_small("→ " + ", ".join(S.fmt_shape(s) for s, _ in node.output_meta)))
            if self.saved is not None:
                rows.extend(_saved_rows(node, self.saved.get(node, [])))
            stats = next((s for s in (node.grad_stats or ()) if s is not None), None)
            self.drawing.node(self.key_of[eid], eid, "op", _html(rows), stats)

    def _draw_groups(self) -> None:
        for group in self.groups.values():
            name, type_name = self.naming.module_title(group.module)
            rows = [f"<B>{S.escape(S.module_title(name, type_name))}</B>"]
            extra = S.module_extra(group.module, limit=48)
            if extra:
                rows.append(_small(extra))
            count = sum(int(p._data.size) for p in group.params.values())
            counts = f"{len(group.nodes)} op" + ("s" if len(group.nodes) != 1 else "")
            rows.append(_small(counts + (f" · {count:,} params" if count else "")))
            parts = [self.leaf_stats[i] for i in group.params if i in self.leaf_stats]
            if not parts:
                parts = [
                    s
                    for n in group.nodes
                    for s in (self.walk.nodes[n].grad_stats or ())
                    if s is not None
                ]
            stats = GradStats.combine(parts) if parts else None
            if self.drawing.grad_flow and stats is not None:
                klass, _ = self.drawing.grad_class(stats)
                value = stats.metric(self.drawing.metric)
                rows.append(_small(f"{METRIC_LABEL[self.drawing.metric]} {S.fmt_number(value)}"))
                if klass in FLAG_TEXT:
                    rows.append(f"<B>{FLAG_TEXT[klass]}</B>")
                self.tensor_classes[name or type_name] = klass
            self.drawing.node(group.cluster, group.eid, "module", _html(rows), stats)


def _saved_rows(node: Node, items: list) -> list[str]:
    """Label rows for what an op keeps for backward (``show_saved=True``)."""
    from ._memory import fmt_bytes

    if node.freed:
        return ['<FONT POINT-SIZE="9" COLOR="#2b8a3e">saved: freed by backward</FONT>']
    if not items:
        return [_small("saves nothing")]
    rows = []
    for item in items:
        text = (
            f"{item.name} {S.fmt_shape(item.shape)} {S.fmt_dtype(item.dtype)} "
            f"{fmt_bytes(item.nbytes)}"
        )
        if item.shared:
            text += f" ({item.shared})"
        color = "#1c7ed6" if item.counted and not item.leaf else "#777777"
        rows.append(f'<FONT POINT-SIZE="9" COLOR="{color}">{S.escape(text)}</FONT>')
    return rows


def _key_options(node: Node) -> str:
    """The op's options that differ from their defaults, as ``dim=1, keepdim=True``."""
    try:
        options = node.options()
    except Exception:  # a broken custom node must not break the drawing
        return ""
    spec = getattr(node, "spec", None)
    defaults = spec.option_defaults if spec is not None else {}
    shown = []
    for key, value in options.items():
        if (key in defaults and _same(value, defaults[key])) or not S.shown_option(key, value):
            continue
        shown.append(f"{key}={S.short_repr(value)}")
    return "\n".join(", ".join(shown[i : i + 2]) for i in range(0, len(shown), 2))


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        result = a == b
    except Exception:
        return False
    return bool(result) if isinstance(result, (bool, np.bool_)) else False
