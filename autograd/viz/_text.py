"""``text``: the graph as an indented text tree, for terminals and logs without Graphviz."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..graph import Node
from . import _style as S
from ._builder import _key_options

if TYPE_CHECKING:
    from ..tensor import Tensor


# Deeper than this many levels of indentation, a subtree restarts at the left margin: a chain
# of 10,000 ops indented all the way would print lines of up to 40,000 columns (800 MB in all).
MAX_LEVELS = 16


def text(
    output: Tensor | list[Tensor],
    params: Any = None,
    *,
    max_depth: int | None = None,
    show_grads: bool = False,
    show_modules: bool = True,
) -> str:
    """The graph behind ``output`` as an indented text tree (no Graphviz needed).

    The output comes first and each op's inputs are indented below it: ops with their
    non-default options, the module they ran in and their output's shape and dtype; leaves
    with their names (parameters by module path, or from ``params``), shape and dtype, inputs
    that need no gradient as ``constant``. A subgraph used twice is printed once, marked
    ``#n``, and referred to as ``(#n, above)``; ``max_depth`` stops after that many ops
    (``…``). Every op's inputs are indented under it; past ``MAX_LEVELS`` levels a subtree
    continues at the left margin (marked ``⤷ depth n``), so a deep chain of ops does not print
    lines thousands of columns wide. ``show_grads=True`` adds gradient norms (recorded by ``ag.viz.record()``, or
    computed without touching ``.grad`` while the graph is intact; leaves show their
    ``.grad``). The walk is iterative: deep graphs print without recursion.

    Example:
        >>> import autograd as ag
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x.exp()
        >>> print(ag.viz.text((h * h).sum(), {"x": x}))
        sum → () float32
        └── mul → (2,) float32
            ├── exp → (2,) float32  #1
            │   └── x (2,) float32
            └── (#1, above)
    """
    from ._graph import _as_roots, _gradient_source, _Naming, _Walk

    roots = _as_roots(output)
    if max_depth is not None and max_depth < 1:
        raise ValueError(f"text: max_depth must be >= 1, got {max_depth}")
    walk = _Walk(roots, None)
    naming = _Naming(walk, params)
    leaf_stats = _gradient_source(roots, walk) if show_grads else {}
    uses: dict[Node, int] = {}
    for node in walk.nodes:
        for edge in node.next_edges:
            if edge is not None and isinstance(edge[0], Node):
                uses[edge[0]] = uses.get(edge[0], 0) + 1
    labels: dict[Node, int] = {}
    lines: list[str] = []
    # (what, output index, indentation, connector, depth): the line starts with indent +
    # connector, the node's inputs are indented below it.
    stack: list[tuple[Any, Any, str, str, int]] = []
    for root in reversed(roots):
        target = root._grad_fn if root._grad_fn is not None else root
        stack.append((target, root._output_nr, "", "", 1))
    while stack:
        target, k, indent, connector, depth = stack.pop()
        head = indent + connector
        if len(indent) >= 4 * MAX_LEVELS:
            lines.append(head + f"⤷ depth {depth} continues at the left margin")
            indent, connector, head = "", "", f"⤷ depth {depth}: "
        rest = indent + ("    " if connector == "└── " else "│   " if connector else "")
        if target is None:  # a constant input: its description rides in k
            lines.append(head + str(k))
            continue
        if not isinstance(target, Node):
            lines.append(head + _leaf_text(target, naming, leaf_stats, show_grads))
            continue
        if target in labels:
            lines.append(head + f"(#{labels[target]}, above)")
            continue
        mark = ""
        if uses.get(target, 0) > 1:
            labels[target] = len(labels) + 1
            mark = f"  #{labels[target]}"
        lines.append(head + _node_text(target, k, naming, show_grads, show_modules) + mark)
        children: list[tuple[Any, Any]] = []
        for a, edge in enumerate(target.next_edges):
            if edge is None:
                shape = target.input_shapes[a] if a < len(target.input_shapes) else None
                if shape:
                    dtype = S.fmt_dtype(target.input_dtypes[a])
                    children.append((None, f"constant {S.fmt_shape(shape)} {dtype}"))
                continue
            children.append(edge)
        if not children:
            continue
        if max_depth is not None and depth >= max_depth:
            lines.append(rest + "└── …")
            continue
        for i in reversed(range(len(children))):
            child, index = children[i]
            branch = "└── " if i == len(children) - 1 else "├── "
            stack.append((child, index, rest, branch, depth + 1))
    return "\n".join(lines)


def _node_text(node: Node, k: int, naming: Any, show_grads: bool, show_modules: bool) -> str:
    parts = [S.op_label(node)]
    options = _key_options(node).replace("\n", ", ")
    if options:
        parts.append(f"({options})")
    if show_modules and node.module_path:
        name, type_name = naming.module_title(node.module_path[-1])
        parts.append(f"[{S.module_title(name, type_name)}]")
    name = naming.output_names.get((id(node), k))
    arrow = f"→ {name} " if name else "→ "
    if node.num_outputs > 1:
        arrow += f"[{k}] "
    if k < len(node.output_meta):
        shape, dtype = node.output_meta[k]
        arrow += f"{S.fmt_shape(shape)} {S.fmt_dtype(dtype)}"
    parts.append(arrow.rstrip())
    if show_grads:
        stats = node.grad_stats[k] if node.grad_stats and k < len(node.grad_stats) else None
        parts.append(f"‖grad‖ {S.fmt_number(stats.norm)}" if stats is not None else "‖grad‖ —")
    return " ".join(parts)


def _leaf_text(leaf: Tensor, naming: Any, leaf_stats: dict, show_grads: bool) -> str:
    name = naming.leaf_names.get(id(leaf))
    kind = "parameter" if id(leaf) in naming.param_ids else "input"
    shape = f"{S.fmt_shape(tuple(leaf.shape))} {S.fmt_dtype(leaf.dtype)}"
    text = f"{name} {shape}" if name else f"{kind} {shape}"
    if show_grads:
        stats = leaf_stats.get(id(leaf))
        text += f" ‖grad‖ {S.fmt_number(stats.norm)}" if stats is not None else " ‖grad‖ —"
    return text
