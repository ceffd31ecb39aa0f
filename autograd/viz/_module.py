"""``draw_module``: a Module's tree with layer types, parameter shapes/counts and output shapes."""

from __future__ import annotations

from typing import Any

from . import _style as S
from ._render import VizGraph

# Fill colours by layer family (matched on the class name, so user layers get them too).
_FAMILIES = (
    (("Conv", "Linear", "Bilinear", "Embedding", "Attention", "RNN", "LSTM", "GRU"), "#cfe5fb"),
    (("Norm",), "#d4f0d0"),
    (("ReLU", "GELU", "SiLU", "ELU", "Tanh", "Sigmoid", "Softplus", "Softmax", "Mish"), "#fff3c4"),
    (("Pool",), "#ffe2c6"),
    (("Dropout",), "#eeeeee"),
    (("Loss",), "#f9d3d9"),
)
_CONTAINER_FILL = "#e6def7"
_OTHER_FILL = "#ffffff"


def _fill(module: Any, has_children: bool) -> str:
    name = type(module).__name__
    for keys, color in _FAMILIES:
        if any(key in name for key in keys):
            return color
    return _CONTAINER_FILL if has_children else _OTHER_FILL


def _shapes(value: Any) -> str:
    """Shapes of the tensors in a forward's output (tuples and lists flattened, first 3)."""
    found: list[str] = []
    stack = [value]
    while stack and len(found) < 4:
        item = stack.pop(0)
        if hasattr(item, "_data") and hasattr(item._data, "shape"):
            found.append(S.fmt_shape(tuple(item._data.shape)))
        elif isinstance(item, (tuple, list)):
            stack[:0] = list(item)
        elif isinstance(item, dict):
            stack[:0] = list(item.values())
    text = ", ".join(found[:3]) + (", …" if len(found) > 3 else "")
    return text


def _record_shapes(model: Any, example_input: Any) -> dict[int, list[tuple[str, str]]]:
    """Run ``model`` on ``example_input`` (eval mode, no grad) and collect each module's shapes."""
    from ..grad_mode import no_grad

    if not hasattr(model, "register_forward_hook"):
        raise TypeError(
            f"draw_module: example_input needs a Module with register_forward_hook, got "
            f"{type(model).__name__}"
        )
    shapes: dict[int, list[tuple[str, str]]] = {}

    def hook(module: Any, args: Any, output: Any) -> None:
        shapes.setdefault(id(module), []).append((_shapes(args), _shapes(output)))

    modules = [m for _, m in model.named_modules()]
    handles = [m.register_forward_hook(hook) for m in modules]
    modes = [(m, getattr(m, "training", None)) for m in modules]
    try:
        if hasattr(model, "eval"):
            model.eval()  # so the example does not update batch-norm statistics
        with no_grad():
            if isinstance(example_input, tuple):
                model(*example_input)
            elif isinstance(example_input, dict):
                model(**example_input)
            else:
                model(example_input)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes:
            if mode is not None:
                object.__setattr__(module, "training", mode)
    return shapes


def _numel(tensor: Any) -> int:
    return int(tensor._data.size)


def draw_module(
    model: Any,
    example_input: Any = None,
    *,
    max_depth: int | None = None,
    show_params: bool = True,
    rankdir: str = "LR",
) -> VizGraph:
    """Draw a Module's tree: layer types and settings, parameter shapes and counts.

    Each module is a box with its path and type, its ``extra_repr`` (e.g. ``in_features=784,
    out_features=128``), its own parameters' shapes and its parameter count (containers show
    the total of their subtree). With ``example_input`` (a Tensor, a tuple of positional
    arguments or a dict of keyword arguments) the model runs once in eval mode without
    gradients, and every module also shows its input and output shapes.

    Args:
        max_depth: draw modules at most this deep (the root is depth 0); deeper ones are
            summarised in their ancestor's box.
        show_params: list each module's own parameters with their shapes.
        rankdir: ``'LR'`` (the tree grows to the right, best for deep models) or ``'TB'``.

    Example:
        >>> import autograd as ag, nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> dot = ag.viz.draw_module(model, ag.randn(3, 4))
        >>> "(3, 8)" in dot.source and "58 params" in dot.source
        True
    """
    if not hasattr(model, "named_modules"):
        raise TypeError(f"draw_module: expected an nn.Module, got {type(model).__name__}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"draw_module: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    shapes = _record_shapes(model, example_input) if example_input is not None else {}
    named = list(model.named_modules())
    ids = {id(m): f"mod{i}" for i, (_, m) in enumerate(named)}
    graph = VizGraph(
        name="module",
        graph_attr={"rankdir": rankdir, "fontname": S.FONT, "nodesep": "0.15", "ranksep": "0.3"},
        node_attr={"fontname": S.FONT, "fontsize": "10", "shape": "box", "style": "rounded,filled"},
        edge_attr={"color": "#888888", "arrowsize": "0.6"},
    )
    total = 0
    trainable = 0
    for _, param in model.named_parameters():
        total += _numel(param)
        trainable += _numel(param) if param.requires_grad else 0
    for name, module in named:
        depth = name.count(".") + 1 if name else 0
        if max_depth is not None and depth > max_depth:
            continue
        children = list(module.named_children()) if hasattr(module, "named_children") else []
        rows = [_title(name, module)]
        extra = S.module_extra(module)
        if extra:
            rows.append(_row(extra, color="#555555"))
        own = [
            (n, p) for n, p in (getattr(module, "_parameters", None) or {}).items() if p is not None
        ]
        if show_params:
            for pname, param in own:
                frozen = "" if param.requires_grad else "  (frozen)"
                rows.append(_row(f"{pname} {S.fmt_shape(tuple(param._data.shape))}{frozen}"))
        if children:
            count = sum(_numel(p) for _, p in module.named_parameters())
            rows.append(_row(f"{count:,} params in total" if count else "no parameters"))
        elif own:
            count = sum(_numel(p) for _, p in own)
            rows.append(_row(f"{count:,} params"))
        if max_depth is not None and depth == max_depth and children:
            hidden = sum(1 for _ in module.named_modules()) - 1
            rows.append(_row(f"+ {hidden} submodules not drawn", color="#888888"))
        calls = shapes.get(id(module))
        if calls:
            args, out = calls[0]
            suffix = f"  (×{len(calls)} calls)" if len(calls) > 1 else ""
            rows.append(_row(f"in {args}  →  out {out}{suffix}", color="#1f5fa8"))
        elif shapes:
            rows.append(_row("not called by forward", color="#aa0000"))
        if not name:
            note = f"{total:,} parameters" + (
                f" ({trainable:,} trainable)" if trainable != total else ""
            )
            rows.append(_row(note, bold=True))
        label = (
            '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            + "".join(f'<TR><TD ALIGN="LEFT">{row}</TD></TR>' for row in rows)
            + "</TABLE>>"
        )
        graph.body.append(
            f"\t{ids[id(module)]}{S.attrs(label=label, fillcolor=_fill(module, bool(children)))}\n"
        )
        for _, child in children:
            if id(child) in ids and (max_depth is None or depth + 1 <= max_depth):
                graph.body.append(f"\t{ids[id(module)]} -> {ids[id(child)]}\n")
    graph.meta = {"modules": len(named), "parameters": total, "trainable": trainable}
    return graph


def _title(name: str, module: Any) -> str:
    return f"<B>{S.escape(S.module_title(name, type(module).__name__))}</B>"


def _row(text: str, color: str | None = None, bold: bool = False) -> str:
    body = S.escape(text)
    if bold:
        body = f"<B>{body}</B>"
    font_color = f' COLOR="{color}"' if color else ""
    return f'<FONT POINT-SIZE="9"{font_color}>{body}</FONT>'
