"""``memory``: what backward will keep alive -- each node's saved arrays, by name, in bytes.

The arrays come from ``node.saved_items()`` (the names the gradient rule asks for: ``x``,
``out``, ``weight``). Memory shared by several entries (the same array saved twice, a view of
another array, a parameter) is counted once: entries are grouped by the array that owns the
memory (following ``ndarray.base``), and each owner counts with its full ``nbytes``, since a
view keeps all of it alive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..graph import Node
from . import _style as S

if TYPE_CHECKING:
    from ..tensor import Tensor
    from ._render import VizGraph


def fmt_bytes(count: int) -> str:
    """``512 B``, ``4.0 KiB``, ``1.50 MiB``."""
    if count < 1024:
        return f"{count} B"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            value = count / size
            return f"{value:.1f} {unit}" if value >= 10 else f"{value:.2f} {unit}"
    return f"{count} B"  # pragma: no cover


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory (the end of its ``.base`` chain)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


@dataclass
class SavedArray:
    """One array a node keeps for backward.

    Attributes:
        node: the node that saved it; ``op`` its name; ``module`` the module path it ran in.
        name: the name its gradient rule asks for (``x``, ``out``, ``weight``, ...).
        nbytes: the array's own ``nbytes``.
        shared: what else holds this memory (``same array as relu.out``, ``view of
            0.weight``), or ``""``.
        counted: whether this entry's memory counts in the total (the first entry of each
            owner does).
        owner_bytes: the bytes of the memory owner it belongs to (what a view keeps alive);
            ``owner_id`` identifies that owner within the report.
        leaf: the name of the graph leaf (parameter or input) whose array this is, or ``""``:
            those stay alive with the model anyway; the rest is what backward frees.
    """

    node: Node
    op: str
    module: str
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    nbytes: int
    shared: str
    counted: bool
    owner_bytes: int
    owner_id: int
    leaf: str

    @property
    def freed(self) -> bool:
        """Whether backward has freed it (the node dropped what it saved)."""
        return bool(self.node.freed)


def saved_arrays(nodes: list[Node], leaves: list[Tensor], naming: Any) -> list[SavedArray]:
    """Every saved array of ``nodes``, with shared memory marked and counted once."""
    leaf_owner: dict[int, str] = {}
    for tensor in leaves:
        name = naming.leaf_names.get(id(tensor)) or f"leaf {S.fmt_shape(tuple(tensor.shape))}"
        leaf_owner.setdefault(id(_owner(tensor._data)), name)
    entries = []
    primary: dict[int, tuple[str, bool]] = {}  # owner -> (entry that stands for it, is a view)
    for node in nodes:
        op = S.op_label(node)
        for name, array in node.saved_items():
            array = np.asarray(array)
            owner = _owner(array)
            is_view = array is not owner
            entries.append((node, op, name, array, owner, is_view))
            known = primary.get(id(owner))
            if known is None or (known[1] and not is_view):
                primary[id(owner)] = (f"{op}.{name}", is_view)  # prefer the owner array itself
    items: list[SavedArray] = []
    counted_owners: set[int] = set()
    for node, op, name, array, owner, is_view in entries:
        key = id(owner)
        where = f"{op}.{name}"
        leaf = leaf_owner.get(key, "")
        stand_in = leaf or primary[key][0]
        if leaf:
            shared = f"view of {leaf}" if is_view else f"the array of {leaf}"
        elif stand_in != where or key in counted_owners:
            relation = "view of" if is_view else "same array as"
            shared = f"{relation} {stand_in}" if stand_in != where else ""
        else:
            shared = "view of an array saved nowhere else" if is_view else ""
        counted = key not in counted_owners
        counted_owners.add(key)
        items.append(
            SavedArray(
                node=node, op=op, module=_module_name(node, naming), name=name,
                shape=tuple(array.shape), dtype=array.dtype, nbytes=int(array.nbytes),
                shared=shared, counted=counted, owner_bytes=int(owner.nbytes), owner_id=key,
                leaf=leaf,
            )
        )  # fmt: skip
    return items


def _module_name(node: Node, naming: Any) -> str:
    if not node.module_path:
        return ""
    name, type_name = naming.module_title(node.module_path[-1])
    return S.module_title(name, type_name)


class MemoryReport:
    """What backward will keep alive for a graph, per node and per module.

    ``str()`` is a table; ``total`` the bytes (shared memory counted once), ``activations``
    the part backward frees (not the arrays of parameters and other leaves, which stay alive
    with the model), ``by_module()`` the totals per module (a module includes its children),
    ``draw()`` the graph with each op's saved arrays. Freed state is read when asked: print
    the same report after ``backward()`` to see what it freed (``freed``: the activations;
    parameters' own arrays stay alive).
    """

    def __init__(self, output: Tensor, items: list[SavedArray], nodes: list[Node], naming: Any):
        self.output = output
        self.items = items
        self.nodes = nodes
        self._naming = naming

    @property
    def total(self) -> int:
        """Bytes kept for backward, each piece of memory counted once."""
        return sum(item.owner_bytes for item in self.items if item.counted)

    @property
    def activations(self) -> int:
        """The part of ``total`` that is not a leaf's array: what backward frees."""
        return sum(item.owner_bytes for item in self.items if item.counted and not item.leaf)

    @property
    def freed(self) -> int:
        """Bytes of ``activations`` that backward has freed by now (its nodes dropped them).

        The arrays of parameters and other leaves are not counted: a node dropping its
        reference frees nothing while the leaf itself holds the array.
        """
        return sum(
            item.owner_bytes for item in self.items if item.counted and item.freed and not item.leaf
        )

    def by_node(self) -> dict[Node, int]:
        """Bytes counted for each node (shared memory goes to the node that saved it first)."""
        totals: dict[Node, int] = {}
        for item in self.items:
            totals[item.node] = totals.get(item.node, 0) + (item.owner_bytes if item.counted else 0)
        return totals

    def by_module(self) -> dict[str, int]:
        """Bytes per module (a module includes its submodules; shared memory counted once)."""
        owners: dict[str, dict[int, int]] = {}
        for item in self.items:
            for module in item.node.module_path or ():
                title = S.module_title(*self._naming.module_title(module))
                owners.setdefault(title, {})[item.owner_id] = item.owner_bytes
        return {title: sum(sizes.values()) for title, sizes in owners.items()}

    def __str__(self) -> str:
        if not self.items:
            if any(node.freed for node in self.nodes):
                return (
                    "Nothing is saved: backward() already freed this graph. Call "
                    "ag.viz.memory(output) before backward() to see what it held (the same "
                    "report, printed again after backward, shows it freed)."
                )
            return "Nothing is saved for backward (no op of this graph needs its inputs)."
        rows = [("op", "module", "saved", "shape", "dtype", "bytes", "note")]
        for item in self.items:
            note = item.shared
            if item.freed:
                note = ("freed; " + note) if note else "freed"
            rows.append(
                (
                    item.op,
                    item.module,
                    item.name,
                    S.fmt_shape(item.shape),
                    S.fmt_dtype(item.dtype),
                    fmt_bytes(item.nbytes),
                    note,
                )
            )
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        lines = [
            "  ".join(text.ljust(width) for text, width in zip(row, widths)).rstrip()
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        total, activations = self.total, self.activations
        lines.append("")
        lines.append(
            f"total kept for backward: {fmt_bytes(total)} ({total} bytes, shared memory counted "
            f"once); {fmt_bytes(activations)} of it is activations and constants that backward "
            f"frees, {fmt_bytes(total - activations)} the arrays of parameters and inputs"
        )
        freed = self.freed
        if freed:
            still = activations - freed
            leaves = total - activations
            lines.append(
                f"backward has freed {fmt_bytes(freed)}"
                + (f"; {fmt_bytes(still)} still held (retain_graph=True)" if still else
                   ": all the activations and constants")
                + (f"; the {fmt_bytes(leaves)} of parameters' and inputs' own arrays stay alive "
                   "(their tensors hold them)" if leaves else "")
            )  # fmt: skip
        modules = self.by_module()
        if modules:
            lines.append("per module: " + ", ".join(f"{k} {fmt_bytes(v)}" for k, v in modules.items()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<MemoryReport: {len(self.items)} saved arrays, {fmt_bytes(self.total)}>"

    def draw(self, **kwargs: Any) -> VizGraph:
        """``draw_graph(output, show_saved=True)``: each op lists what it saved."""
        from ._graph import draw_graph

        return draw_graph(self.output, show_saved=True, **kwargs)


def memory(output: Tensor, params: Any = None) -> MemoryReport:
    """Show what backward will keep alive: each node's saved arrays, by name, in bytes.

    For every node of ``output``'s graph: the arrays its gradient rule saved, by the names the
    rule asks for (``x``, ``out``, ``weight``, ...), with shapes, dtypes and bytes (the arrays'
    ``nbytes``), which ones share memory (the same array saved twice, a view of another array,
    a parameter's own array: counted once), totals per module and overall. Call it before
    ``backward()``; printing the same report after ``backward()`` shows everything freed.

    Example:
        >>> import autograd as ag
        >>> x = ag.randn(4, 3, requires_grad=True)
        >>> y = (x.exp() * x).sum()
        >>> report = ag.viz.memory(y, {"x": x})
        >>> [(i.op, i.name, i.nbytes) for i in report.items]
        [('mul', 'x', 48), ('mul', 'y', 48), ('exp', 'out', 48)]
        >>> report.total, report.activations
        (96, 48)
    """
    from ._graph import _as_roots, _Naming, _Walk

    roots = _as_roots(output)
    walk = _Walk(roots, None)
    naming = _Naming(walk, params)
    items = saved_arrays(walk.nodes, walk.leaves, naming)
    return MemoryReport(roots[0], items, walk.nodes, naming)
