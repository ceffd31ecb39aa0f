"""``draw_graph``: the computation graph behind tensors as a Graphviz drawing.

The graph is walked breadth first with an explicit queue (no recursion, so a graph of a
million ops is fine) and the DOT text is written directly, one line per node or edge.
"""

from __future__ import annotations

import warnings
from collections import Counter, deque
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from ..graph import Node
from . import _style as S
from ._builder import METRIC_LABEL, _Builder
from ._legend import LEGEND_KEY, add_legend
from ._render import VizGraph
from ._trace import METRICS, GradStats, compute_gradients, stats_of

if TYPE_CHECKING:
    from ..tensor import Tensor

RANKDIRS = ("TB", "LR", "BT", "RL")
NA = object()  # "no gradient applies" (constants, placeholders), unlike None: "no gradient came"
LARGE_GRAPH = 5000  # drawn nodes above which a layout takes long: suggest collapse/max_depth
Collapse = int | str | type | Sequence[str | type] | None


class _Walk:
    """The nodes reachable from the roots (breadth first, explicit queue) and their leaves."""

    def __init__(self, roots: Sequence[Tensor], max_depth: int | None) -> None:
        self.nodes: list[Node] = []
        self.index: dict[Node, int] = {}
        self.leaves: list[Tensor] = []
        self.leaf_index: dict[int, int] = {}
        self.truncated: set[int] = set()
        queue: deque[tuple[Node, int]] = deque()
        for root in roots:
            if root._grad_fn is None:
                self.add_leaf(root)
            elif root._grad_fn not in self.index:
                self.add_node(root._grad_fn)
                queue.append((root._grad_fn, 0))
        while queue:
            node, depth = queue.popleft()
            expand = max_depth is None or depth + 1 < max_depth
            for edge in node.next_edges:
                if edge is None:
                    continue
                target = edge[0]
                if not isinstance(target, Node):
                    self.add_leaf(target)
                elif target not in self.index:
                    if expand:
                        self.add_node(target)
                        queue.append((target, depth + 1))
                    else:
                        self.truncated.add(self.index[node])

    def add_node(self, node: Node) -> None:
        self.index[node] = len(self.nodes)
        self.nodes.append(node)

    def add_leaf(self, leaf: Tensor) -> None:
        if id(leaf) not in self.leaf_index:
            self.leaf_index[id(leaf)] = len(self.leaves)
            self.leaves.append(leaf)


class _Naming:
    """Names of tensors (user-given, or parameters found through the modules) and modules."""

    def __init__(self, walk: _Walk, params: Any) -> None:
        self.leaf_names: dict[int, str] = {}
        self.output_names: dict[tuple[int, int], str] = {}
        self.param_ids: set[int] = set()
        self.param_owner: dict[int, Any] = {}
        self.module_names: dict[int, str] = {}
        for name, tensor in _named_tensors(params):
            if tensor._grad_fn is None:
                self.leaf_names[id(tensor)] = str(name)
            else:
                self.output_names[(id(tensor._grad_fn), tensor._output_nr)] = str(name)
        if hasattr(params, "named_parameters"):
            self._add_module_tree(params, "")
        roots: dict[int, Any] = {}
        for node in walk.nodes:
            if node.module_path:
                roots.setdefault(id(node.module_path[0]), node.module_path[0])
        unprefixed_taken = False
        for module in roots.values():
            has_params = bool(getattr(module, "_parameters", None)) or any(
                True for _ in _safe_named_parameters(module)
            )
            prefix = type(module).__name__ if (has_params and unprefixed_taken) else ""
            unprefixed_taken = unprefixed_taken or has_params
            self._add_module_tree(module, prefix)
        for leaf in walk.leaves:
            if any(cls.__name__ == "Parameter" for cls in type(leaf).__mro__):
                self.param_ids.add(id(leaf))

    def _add_module_tree(self, root: Any, prefix: str) -> None:
        named = root.named_modules() if hasattr(root, "named_modules") else [("", root)]
        for name, module in named:
            # Module titles stay relative to their root (drawn inside the root's cluster);
            # parameter names of a second model get its type as prefix, to stay unique.
            self.module_names.setdefault(id(module), name)
            path = ".".join(p for p in (prefix, name) if p)
            for pname, param in (getattr(module, "_parameters", None) or {}).items():
                if param is None:
                    continue
                self.leaf_names.setdefault(id(param), ".".join(p for p in (path, pname) if p))
                self.param_ids.add(id(param))
                self.param_owner.setdefault(id(param), module)

    def module_title(self, module: Any) -> tuple[str, str]:
        """``(dotted path, type name)`` of a module (the path of a root module is ``''``)."""
        return self.module_names.get(id(module), ""), type(module).__name__


def _named_tensors(params: Any) -> list[tuple[str, Tensor]]:
    if params is None:
        return []
    if hasattr(params, "named_parameters"):
        pairs = list(params.named_parameters())
    elif isinstance(params, Mapping):
        pairs = list(params.items())
    else:
        pairs = list(params)
    for name, tensor in pairs:
        if not hasattr(tensor, "_data"):
            raise TypeError(
                f"draw_graph: params must map names to Tensors, got {type(tensor).__name__} for "
                f"{name!r}"
            )
    return pairs


def _safe_named_parameters(module: Any) -> Iterable:
    return module.named_parameters() if hasattr(module, "named_parameters") else ()


def _as_roots(root: Any) -> list[Tensor]:
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    for i, r in enumerate(roots):
        if not hasattr(r, "_grad_fn") or not hasattr(r, "_data"):
            raise TypeError(
                f"draw_graph: expected a Tensor (or a list of Tensors), got {type(r).__name__}"
                + (f" at position {i}" if len(roots) > 1 else "")
            )
    if not roots:
        raise ValueError("draw_graph: no tensors given")
    return roots


def _collapse_matcher(collapse: Collapse, naming: _Naming, nodes: Sequence[Node]) -> Any:
    """Return ``path -> index of the outermost collapsed module in path`` (or None)."""
    if collapse is None or collapse is False:
        return lambda path: None
    if isinstance(collapse, bool) or isinstance(collapse, int):
        depth = int(collapse)
        if depth < 0:
            raise ValueError(f"draw_graph: collapse depth must be >= 0, got {depth}")
        return lambda path: depth if len(path) > depth else None
    items = [collapse] if isinstance(collapse, (str, type)) else list(collapse)
    for item in items:
        if not isinstance(item, (str, type)):
            raise TypeError(
                "draw_graph: collapse= takes an int depth, module paths or type names (str) or "
                f"Module classes, got {type(item).__name__}"
            )

    def matches(module: Any) -> bool:
        name, type_name = naming.module_title(module)
        for item in items:
            if isinstance(item, str) and item in (name, type_name):
                return True
            if isinstance(item, type) and isinstance(module, item):
                return True
        return False

    seen = {id(m): m for n in nodes for m in (n.module_path or ())}
    if seen and not any(matches(m) for m in seen.values()):
        known = sorted(
            {f"{naming.module_title(m)[0] or '(root)'} ({type(m).__name__})" for m in seen.values()}
        )
        raise ValueError(
            f"draw_graph: collapse={collapse!r} matches no module in the graph; modules: "
            + ", ".join(known[:20])
            + (" ..." if len(known) > 20 else "")
        )

    def index(path: tuple) -> int | None:
        for j, module in enumerate(path):
            if matches(module):
                return j
        return None

    return index


class _Drawing:
    """Accumulates DOT lines per cluster, edges and facts about the drawing."""

    def __init__(self, *, grad_flow: bool, vanishing: float, exploding: float, metric: str) -> None:
        self.lines: dict[tuple, list[str]] = {(): []}
        self.cluster_order: list[tuple] = []
        self.edges: list[str] = []
        self.edge_set: set[tuple[str, str, int | None]] = set()
        self.hidden_edges = 0
        self.kinds: Counter[str] = Counter()
        self.classes: dict[str, str] = {}
        self.grad_flow = grad_flow
        self.vanishing = vanishing
        self.exploding = exploding
        self.metric = metric

    def grad_class(self, stats: GradStats | None) -> tuple[str, float | None]:
        value = None if stats is None else stats.metric(self.metric)
        nonfinite = stats is not None and stats.nonfinite
        return S.grad_class(value, nonfinite, self.vanishing, self.exploding), value

    def node(
        self, key: tuple, eid: str, kind: str, label: str, stats: Any = NA, **extra: Any
    ) -> None:
        """Add a node; in grad-flow view ``stats`` (a GradStats or None) colours it."""
        if key not in self.lines:
            self.lines[key] = []
            self.cluster_order.append(key)
        self.kinds[kind] += 1
        if not extra and not (self.grad_flow and stats is not NA):
            # The common case, kept fast for graphs of 10^5 nodes: the style text is fixed.
            self.lines[key].append(f"\t{eid} [label={S.quote(label)} {S.KIND_ATTRS[kind]}]\n")
            return
        style = dict(S.KIND_STYLE[kind])
        klass = None
        if self.grad_flow and stats is not NA:
            klass, value = self.grad_class(stats)
            color = S.class_color(klass, value, self.vanishing, self.exploding)
            if kind == "op":
                style.update(color=color, penwidth="2.5")
            else:
                # The fill shows the gradient, so the kind shows in a thick border.
                style.update(fillcolor=color, fontcolor=S.text_color(color), penwidth="2.5")
                if klass == "grad-vanishing":
                    style["style"] = style["style"].replace("filled", "filled,dashed")
            self.classes[eid] = klass
        style.update(extra)
        self.lines[key].append(f"\t{eid}{S.attrs(label=label, class_=klass, **style)}\n")

    def edge(self, src: str, dst: str, stats: Any = NA, slot: int | None = None, **extra: Any) -> None:
        """Add an edge once per input slot (``x * x`` has two); in grad-flow view coloured by
        the gradient of the tensor it carries."""
        if (src, dst, slot) in self.edge_set:
            return
        self.edge_set.add((src, dst, slot))
        if not extra and not (self.grad_flow and stats is not NA):
            self.edges.append(f"\t{src} -> {dst}\n")
            return
        style: dict[str, Any] = {}
        if self.grad_flow and stats is not NA:
            klass, value = self.grad_class(stats)
            style.update(
                color=S.class_color(klass, value, self.vanishing, self.exploding),
                penwidth=S.edge_width(klass, value, self.vanishing, self.exploding),
                class_=klass,
            )
            if klass in ("grad-vanishing", "grad-none"):
                style["style"] = "dashed"
        style.update(extra)
        if style.get("style") == "invis":
            self.hidden_edges += 1
        self.edges.append(f"\t{src} -> {dst}{S.attrs(**style)}\n")

    def body(self, cluster_labels: dict[tuple, str]) -> list[str]:
        """Nest the clusters (iteratively) and append the edges."""
        children: dict[tuple, list[tuple]] = {}
        known = {()}
        for key in self.cluster_order:
            for size in range(1, len(key) + 1):
                prefix = key[:size]
                if prefix not in known:
                    known.add(prefix)
                    children.setdefault(prefix[:-1], []).append(prefix)
        out: list[str] = []
        numbers: dict[tuple, int] = {}
        stack: list[tuple[tuple, bool]] = [((), False)]
        while stack:
            key, closing = stack.pop()
            if closing:
                out.append("\t}\n")
                continue
            if key:
                number = numbers.setdefault(key, len(numbers))
                fill = S.CLUSTER_FILLS[(len(key) - 1) % len(S.CLUSTER_FILLS)]
                if key == LEGEND_KEY:
                    fill = "#ffffff"
                name = "cluster_legend" if key == LEGEND_KEY else f"cluster_m{number}"
                out.append(f"\tsubgraph {name} {{\n")
                out.append(
                    "\t\tgraph"
                    + S.attrs(
                        label=cluster_labels.get(key, ""),
                        style="rounded,filled",
                        fillcolor=fill,
                        color="#b8b8c8",
                        fontsize="10",
                        labeljust="l",
                        fontname=S.FONT,
                    )
                    + "\n"
                )
                stack.append((key, True))
            out.extend(self.lines.get(key, ()))
            for child in reversed(children.get(key, ())):
                stack.append((child, False))
        return out + self.edges


def draw_graph(
    root: Tensor | Sequence[Tensor],
    params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | Any = None,
    *,
    show_values: bool = False,
    show_grads: bool = False,
    grad_flow: bool = False,
    collapse: Collapse = None,
    group_modules: bool = True,
    show_intermediates: bool = True,
    show_constants: bool = True,
    max_depth: int | None = None,
    rankdir: str = "TB",
    vanishing: float = 1e-6,
    exploding: float = 1e3,
    grad_metric: str = "norm",
    legend: bool = True,
    title: str | None = None,
    show_saved: bool = False,
) -> VizGraph:
    """Draw the graph that produced ``root`` (a Tensor or a list of them) with Graphviz.

    Ops are grey ellipses labelled with the op name and its non-default options (``dim=1``,
    ``stride=(2, 2)``); tensors are boxes with shape and dtype: inputs blue, parameters green
    (named by their module path, e.g. ``features.0.weight``), intermediates white, the output
    orange with a double border, constants (inputs that need no grad) dashed. Nodes created
    inside an ``nn.Module``'s forward sit in a cluster labelled with the module's path and type.

    Gradients (``show_grads`` / ``grad_flow``) come from, in order: statistics recorded by a
    backward run inside ``with ag.viz.record():``; else, while the graph still holds its saved
    tensors (no backward yet, or ``retain_graph=True``), a side-effect-free backward that
    ``draw_graph`` runs itself (``.grad`` untouched); leaves always show their ``.grad``.
    Intermediate values (``show_values``) need the forward run inside
    ``ag.viz.record(values=True)``; leaves and the output always have theirs.

    Args:
        params: names for tensors: a Module (its ``named_parameters()``), a dict or pairs. Any
            tensor can be named (inputs and intermediates too); parameters of the modules that
            created the graph are named automatically.
        show_values: print values (small tensors in full, large ones as min/mean/max).
        show_grads: print gradients (same format).
        grad_flow: colour tensors and edges by gradient magnitude on a log scale between
            ``vanishing`` and ``exploding``; below/above are flagged, NaN/inf is red.
        collapse: modules drawn as one node each: an int (every module at that depth of the
            module tree; 0 is the outermost module), or module paths / type names / classes.
        group_modules: draw clusters for modules.
        show_intermediates: draw a box for every intermediate tensor (else edges go op to op
            and each op shows its output shape).
        show_constants: draw inputs that need no gradient (0-d constants are never drawn).
        max_depth: draw only ops at most this many steps from the output (the rest is ``⋯``).
        rankdir: ``'TB'`` (top to bottom), ``'LR'``, ``'BT'`` or ``'RL'``.
        grad_metric: the magnitude coloured: ``'norm'`` (L2), ``'rms'``, ``'absmax'`` or
            ``'absmean'``.
        show_saved: list under each op what it keeps for backward (names, shapes, dtypes,
            bytes; memory shared with another entry or a parameter is marked and counted once),
            or that backward freed it; the total goes in the title (see ``ag.viz.memory``).

    Returns:
        A ``graphviz.Digraph`` subclass: shown inline in Jupyter, ``.source`` is the DOT text,
        ``ag.viz.save(graph, 'graph.svg')`` renders SVG, PNG or PDF.

    Example:
        >>> import autograd as ag
        >>> a = ag.tensor(2.0, requires_grad=True)
        >>> b = ag.tensor(-3.0, requires_grad=True)
        >>> dot = ag.viz.draw_graph(a * b + a, {"a": a, "b": b}, show_grads=True)
        >>> "mul" in dot.source and "grad -2.0" in dot.source  # d(ab + a)/da = b + 1
        True
    """
    roots = _as_roots(root)
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    if grad_metric not in METRICS:
        raise ValueError(f"draw_graph: grad_metric must be one of {METRICS}, got {grad_metric!r}")
    if not 0 < vanishing < exploding:
        raise ValueError(
            f"draw_graph: need 0 < vanishing < exploding, got vanishing={vanishing}, "
            f"exploding={exploding}"
        )
    if max_depth is not None and max_depth < 1:
        raise ValueError(f"draw_graph: max_depth must be >= 1, got {max_depth}")

    walk = _Walk(roots, max_depth)
    naming = _Naming(walk, params)
    leaf_stats: dict[int, GradStats] = {}
    if show_grads or grad_flow:
        leaf_stats = _gradient_source(roots, walk)
    drawing = _Drawing(
        grad_flow=grad_flow, vanishing=vanishing, exploding=exploding, metric=grad_metric
    )
    saved: dict[Any, Any] | None = None
    if show_saved:
        from ._memory import MemoryReport, fmt_bytes, saved_arrays

        items = saved_arrays(walk.nodes, walk.leaves, naming)
        by_node: dict[Any, Any] = {}
        for item in items:
            by_node.setdefault(item.node, []).append(item)
        report = MemoryReport(roots[0], items, walk.nodes, naming)
        module_bytes: dict[int, dict[int, int]] = {}
        for item in items:
            for module in item.node.module_path or ():
                module_bytes.setdefault(id(module), {})[item.owner_id] = item.owner_bytes
        by_node["modules"] = {key: sum(v.values()) for key, v in module_bytes.items()}
        saved = by_node
        if items:
            line = (
                f"saved for backward: {fmt_bytes(report.total)} ({fmt_bytes(report.activations)} "
                "freed by backward, the rest parameters' and inputs' arrays)"
            )
        else:
            freed = any(node.freed for node in walk.nodes)
            line = "saved for backward: " + ("freed by backward" if freed else "nothing")
        title = f"{title}\n{line}" if title else line
    builder = _Builder(
        walk, naming, drawing, roots, leaf_stats,
        show_values=show_values, show_grads=show_grads, show_intermediates=show_intermediates,
        show_constants=show_constants, group_modules=group_modules,
        collapse_at=_collapse_matcher(collapse, naming, walk.nodes), max_depth=max_depth,
        saved=saved,
    )  # fmt: skip
    builder.build()

    graph = VizGraph(
        name="graph",
        graph_attr={
            "rankdir": rankdir,
            "fontname": S.FONT,
            "fontsize": "11",
            "nodesep": "0.25",
            "ranksep": "0.35",
            "newrank": "true",
            **({"label": title, "labelloc": "t", "fontsize": "14"} if title else {}),
        },
        node_attr={"fontname": S.FONT, "fontsize": "10", "height": "0.3", "margin": "0.08,0.04"},
        edge_attr={"color": "#555555", "arrowsize": "0.6", "fontname": S.FONT, "fontsize": "9"},
    )
    if legend:
        add_legend(
            drawing, set(drawing.kinds), grad_flow, vanishing, exploding, METRIC_LABEL[grad_metric]
        )
    graph.body.extend(drawing.body({**builder.cluster_labels, LEGEND_KEY: "<<B>legend</B>>"}))
    graph.meta = {
        "nodes": sum(drawing.kinds.values()) - drawing.kinds.get("legend", 0),
        "kinds": dict(drawing.kinds),
        "edges": len(drawing.edges) - drawing.hidden_edges,
        "clusters": dict(builder.cluster_labels_text),
        "grad_classes": dict(builder.tensor_classes) if grad_flow else {},
        "names": dict(builder.drawn_names),
    }
    if graph.meta["nodes"] > LARGE_GRAPH:
        warnings.warn(
            f"draw_graph: {graph.meta['nodes']} nodes will take Graphviz long to lay out; pass "
            "collapse= (e.g. collapse=1), max_depth= or show_intermediates=False",
            stacklevel=2,
        )
    return graph


def _gradient_source(roots: Sequence[Tensor], walk: _Walk) -> dict[int, GradStats]:
    """Make sure gradient statistics exist; return the leaves' (by id)."""
    recorded = any(node.grad_stats is not None for node in walk.nodes)
    if walk.nodes and not recorded:
        if any(node.freed for node in walk.nodes):
            raise RuntimeError(
                "draw_graph: gradients were requested, but backward() already freed this graph "
                "without recording them; run the backward inside `with ag.viz.record():` (it "
                "keeps gradient norms, not arrays), or pass retain_graph=True, then draw"
            )
        with_fn = [r for r in roots if r._grad_fn is not None]
        return compute_gradients(with_fn, walk.leaves)
    stats = {}
    for leaf in walk.leaves:
        found = stats_of(leaf._grad)
        if found is not None:
            stats[id(leaf)] = found
    return stats
