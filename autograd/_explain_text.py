"""The words of ``explain_grad``: a node's op, module and line, the names of tensors and modules,
and why an op turns a gradient into zeros (dead ReLUs, saturation, clamp, ties, ...).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import numpy as np

from . import _cuts
from .graph import Node
from .tensor import Tensor

_MODULE_NAMES: ContextVar[dict[int, str] | None] = ContextVar("module_names", default=None)


def _saved(node: Node, *names: str) -> np.ndarray | None:
    items = dict(node.saved_items())
    for name in names:
        if name in items:
            return np.asarray(items[name])
    return None


def _why_zero(node: Node, slot: int, killed: float, g_in: np.ndarray) -> str:
    op = _op(node)
    where = _where(node)
    share = f"{killed:.0%}"
    options = _options(node)
    if op in ("relu", "threshold_backward"):
        out = _saved(node, "out", "relu_out", "result")
        dead = f"{float(np.mean(out <= 0)):.0%}" if out is not None else share
        return (
            f"dead ReLUs: relu{where} outputs 0 for {dead} of its inputs (they are ≤ 0), where "
            f"relu'(x) = 0, so {share} of the gradient elements it passes back are 0"
        )
    if op in ("sigmoid", "tanh"):
        out = _saved(node, "out", "result")
        limit = "0 or 1" if op == "sigmoid" else "-1 or 1"
        if out is not None:
            slope = out * (1 - out) if op == "sigmoid" else 1 - out * out
            flat = f"{float(np.mean(slope < (0.0025 if op == 'sigmoid' else 0.01))):.0%}"
            exact = f"{float(np.mean(slope == 0)):.0%}"
            return (
                f"a saturated {op}{where}: {flat} of its outputs are within a hair of {limit}, "
                f"where its derivative is (nearly) 0 ({exact} exactly 0 in {out.dtype}), so "
                f"{share} of the gradient elements it passes back are 0"
            )
        return f"a saturated {op}{where}: {share} of the gradient elements it passes back are 0"
    if op == "clamp":
        x = _saved(node, "x")
        low, high = options.get("min"), options.get("max")
        rng = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        if x is not None:
            outside = np.zeros(x.shape, dtype=bool)
            if low is not None:
                outside |= x < low
            if high is not None:
                outside |= x > high
            share = f"{float(np.mean(outside)):.0%}"
        return f"clamp{where} to {rng}: {share} of its inputs are outside the range, where clamp's gradient is 0"
    if op in ("amax", "amin", "max", "min", "max_pool", "maximum", "minimum", "norm"):
        picks = "maximum" if "max" in op else "minimum"
        text = (
            f"{op}{where} passes the gradient only to the {picks} it picked, so {share} of its "
            "input elements get 0"
        )
        x, out = _saved(node, "x"), _saved(node, "out")
        if x is not None and out is not None and op in ("amax", "amin", "max", "min"):
            try:
                ties = _tie_count(x, out, options)
            except ValueError:
                ties = 0
            rest = "the gradient is split between them, or goes to one of them, never to the rest"
            if ties and _full_reduction(x, options):
                equal = int(np.count_nonzero(x == out.reshape(-1)[0]))
                text += f"; its {picks} is a tie ({equal} elements equal it): {rest}"
            elif ties:
                text += f"; {ties} of its slices have a tie (several equal {picks}s): {rest}"
        return text
    if op == "mul":
        other = _saved(node, "y" if slot == 0 else "x")
        if other is not None and other.size:
            return (
                f"mul{where} multiplies by 0: {float(np.mean(other == 0)):.0%} of its other "
                f"factor is 0, so {share} of the gradient it passes back is 0"
            )
    if op in ("where", "masked_fill"):
        return f"{op}{where} sends 0 where the condition picks the other branch ({share} of the elements)"
    return f"{op}{where} sends 0 for {share} of the elements of its input {slot}"


def _tie_count(x: np.ndarray, out: np.ndarray, options: dict) -> int:
    """How many of the reduced slices hold their max/min more than once."""
    dim = options.get("dim")
    keep = bool(options.get("keepdim", False))
    if _full_reduction(x, options):  # one slice: all the elements
        return int(np.count_nonzero(x == out.reshape(-1)[0]) > 1)
    axes = (dim,) if isinstance(dim, int) else tuple(dim or ())
    axes = tuple(a % x.ndim for a in axes)
    expanded = out if keep else np.expand_dims(out, axes)
    equal = np.sum(x == expanded, axis=axes)
    return int(np.count_nonzero(equal > 1))


def _full_reduction(x: np.ndarray, options: dict) -> bool:
    """Whether a max/min reduces every dim (``amax()``'s default ``dim=()`` does, as PyTorch)."""
    dim = options.get("dim")
    return dim is None or (isinstance(dim, (tuple, list)) and not dim) or x.ndim == 0


def _options(node: Node) -> dict:
    try:
        return dict(node.options())
    except Exception:  # a custom node without options
        return {}


def _op(node: Node | None) -> str:
    if node is None:
        return "?"
    from .viz._style import op_label

    return op_label(node)


def _where(node: Node | None) -> str:
    """`` in fc1 (Linear) at model.py:12`` -- the module and line of a node, when known."""
    if node is None:
        return ""
    text = ""
    path = node.module_path
    if path:
        from .viz._style import module_title

        module = path[-1]
        name = (_MODULE_NAMES.get() or {}).get(id(module), "")
        text += f" in {module_title(name, type(module).__name__)}"
    line = _cuts.node_line(node)
    if line is None and node.trace:
        last = [
            entry for entry in node.trace.strip().splitlines() if entry.strip().startswith("File")
        ]
        if last:
            line = _cuts.short_line(last[-1])
    if line:
        text += f" at {line}"
    return text


def _module_names(nodes: list[Node]) -> dict[int, str]:
    """Dotted paths of the modules that built the graph (relative to their root module)."""
    names: dict[int, str] = {}
    for node in nodes:
        if node.module_path and id(node.module_path[0]) not in names:
            root = node.module_path[0]
            if hasattr(root, "named_modules"):
                for name, module in root.named_modules():
                    names.setdefault(id(module), name)
    return names


def _names(output: Tensor, params: Any, nodes: list[Node]) -> dict[int, str]:
    names: dict[int, str] = {}
    if params is not None:
        pairs = (
            params.named_parameters()
            if hasattr(params, "named_parameters")
            else (params.items() if hasattr(params, "items") else params)
        )
        for name, value in pairs:
            names[id(value)] = str(name)
    for node in nodes:
        for module in node.module_path or ():
            if hasattr(module, "named_parameters"):
                for name, value in module.named_parameters():
                    names.setdefault(id(value), name)
            break  # the outermost module names its whole tree
    return names


def _describe_tensor(t: Tensor) -> str:
    return f"the tensor {_shape(t.shape)}"


def _shape(shape: Any) -> str:
    from .viz._style import fmt_shape

    return fmt_shape(tuple(shape) if shape is not None else None)


def _num(value: float) -> str:
    from .viz._style import fmt_number

    return fmt_number(value)
