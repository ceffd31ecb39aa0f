"""Colours, gradient classes and label formatting shared by the ``autograd.viz`` drawings."""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np

FONT = "Helvetica"

# Fill colours per kind of drawn element (normal view).
KIND_STYLE: dict[str, dict[str, str]] = {
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#eeeeee", "color": "#888888"},
    "input": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#cfe5fb",
        "color": "#4a7fb5",
    },
    "parameter": {"shape": "box", "style": "filled", "fillcolor": "#d4f0d0", "color": "#3f8f3a"},
    "intermediate": {"shape": "box", "style": "filled", "fillcolor": "#ffffff", "color": "#9e9e9e"},
    "output": {
        "shape": "box",
        "style": "filled,bold",
        "fillcolor": "#ffe2b8",
        "color": "#c77700",
        "peripheries": "2",
    },
    "constant": {
        "shape": "box",
        "style": "dashed,filled",
        "fillcolor": "#f6f6f6",
        "color": "#aaaaaa",
        "fontcolor": "#777777",
    },
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#e6def7", "color": "#6a51a3"},
    "truncated": {"shape": "plaintext", "fontcolor": "#888888"},
}

KIND_ATTRS = {
    kind: " ".join(f'{key}="{value}"' for key, value in style.items())
    for kind, style in KIND_STYLE.items()
}

KIND_DESCRIPTION = {
    "input": "input (leaf)",
    "parameter": "parameter",
    "intermediate": "intermediate",
    "output": "output",
    "op": "op",
    "constant": "constant (no grad)",
    "module": "collapsed module",
}

CLUSTER_FILLS = ("#f8f8fb", "#eef2fa", "#f5f0fa", "#eef7f0")

# Gradient classes: "ok" gradients are coloured on a log scale between the two thresholds.
GRAD_CLASSES = ("grad-ok", "grad-vanishing", "grad-exploding", "grad-nonfinite", "grad-none")
VANISHING_COLOR = "#b0b0b0"
EXPLODING_COLOR = "#f28e2b"
NONFINITE_COLOR = "#d62728"
NONE_COLOR = "#d9d9d9"
# Light blue (weak gradient) -> blue -> green -> dark green (strong gradient).
_RAMP = ((0.0, "#9ecae1"), (0.35, "#3182bd"), (0.7, "#31a354"), (1.0, "#00441b"))


def escape(text: Any) -> str:
    """Escape text for a Graphviz HTML-like label."""
    return html.escape(str(text), quote=True)


def quote(value: Any) -> str:
    """Quote an attribute value for DOT (HTML-like labels ``<...>`` pass through)."""
    text = str(value)
    if text[:1] == "<" and text[-1:] == ">":
        return text
    if "\\" in text or '"' in text or "\n" in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def attrs(**values: Any) -> str:
    """Format ``key=value`` pairs for a DOT statement (``None`` values are dropped)."""
    parts = [
        f"{key.rstrip('_')}={quote(value)}" for key, value in values.items() if value is not None
    ]
    return f" [{' '.join(parts)}]" if parts else ""


def fmt_number(value: float) -> str:
    """Format a number compactly (4 significant digits, NaN/inf spelled out)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.4g}"
    return text if any(c in text for c in ".en") else text + ".0"  # 2.0, not 2: it is a float


def fmt_shape(shape: tuple | None) -> str:
    """``(3, 4)``; a 0-d shape prints as ``()``."""
    if shape is None:
        return "?"
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def fmt_dtype(dtype: Any) -> str:
    """``float32`` (NumPy's name)."""
    try:
        return np.dtype(dtype).name
    except TypeError:
        return str(dtype)


def fmt_array(array: np.ndarray, small: int = 8) -> str:
    """Show a small array in full and a large one as ``min/mean/max``."""
    array = np.asarray(array)
    if array.size == 1:
        return fmt_number(array.reshape(()).item())
    if array.size == 0:
        return "empty"
    if array.size <= small and array.ndim <= 2:
        rows = array.reshape(1, -1) if array.ndim == 1 else array
        inner = "; ".join(", ".join(fmt_number(v) for v in row.tolist()) for row in rows)
        return f"[{inner}]"
    values = array.astype(np.float64) if array.dtype != np.float64 else array
    return (
        f"min {fmt_number(float(values.min()))} · mean {fmt_number(float(values.mean()))} · "
        f"max {fmt_number(float(values.max()))}"
    )


def short_repr(value: Any, limit: int = 32) -> str:
    """A short, readable form of an op option (slices as ``1:3``, arrays as their shape)."""
    text = _option_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _option_text(value: Any) -> str:
    if isinstance(value, slice):
        parts = ["" if v is None else str(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if value.step is not None else "")
    if value is Ellipsis:
        return "..."
    if isinstance(value, np.ndarray):
        return f"array{fmt_shape(value.shape)}"
    if hasattr(value, "_data") and isinstance(value._data, np.ndarray):
        return f"tensor{fmt_shape(value._data.shape)}"
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return fmt_dtype(value)
    if isinstance(value, tuple):
        return (
            "(" + ", ".join(_option_text(v) for v in value) + ("," if len(value) == 1 else "") + ")"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_option_text(v) for v in value) + "]"
    if isinstance(value, float):
        return fmt_number(value)
    return str(value)


def grad_class(value: float | None, nonfinite: bool, vanishing: float, exploding: float) -> str:
    """Classify a gradient magnitude: ok, vanishing, exploding, nonfinite or none."""
    if value is None:
        return "grad-none"
    if nonfinite or not math.isfinite(value):
        return "grad-nonfinite"
    if value < vanishing:
        return "grad-vanishing"
    if value > exploding:
        return "grad-exploding"
    return "grad-ok"


def ramp_color(value: float, vanishing: float, exploding: float) -> str:
    """The colour of a healthy gradient magnitude on the log scale between the thresholds."""
    low, high = math.log10(vanishing), math.log10(exploding)
    position = (math.log10(max(value, vanishing)) - low) / (high - low) if high > low else 0.5
    position = min(max(position, 0.0), 1.0)
    for (p0, c0), (p1, c1) in zip(_RAMP, _RAMP[1:]):
        if position <= p1:
            t = (position - p0) / (p1 - p0)
            return _mix(c0, c1, t)
    return _RAMP[-1][1]


def class_color(klass: str, value: float | None, vanishing: float, exploding: float) -> str:
    """The colour for a gradient of class ``klass`` (and magnitude ``value`` when ok)."""
    if klass == "grad-ok" and value is not None:
        return ramp_color(value, vanishing, exploding)
    return {
        "grad-vanishing": VANISHING_COLOR,
        "grad-exploding": EXPLODING_COLOR,
        "grad-nonfinite": NONFINITE_COLOR,
    }.get(klass, NONE_COLOR)


def edge_width(klass: str, value: float | None, vanishing: float, exploding: float) -> float:
    """Thicker edges for larger gradients (1 to 3.5 points)."""
    if klass in ("grad-nonfinite", "grad-exploding"):
        return 3.5
    if klass != "grad-ok" or value is None:
        return 1.0
    low, high = math.log10(vanishing), math.log10(exploding)
    position = (math.log10(value) - low) / (high - low) if high > low else 0.5
    return round(1.0 + 2.5 * min(max(position, 0.0), 1.0), 2)


def text_color(fill: str) -> str:
    """Black or white text, whichever reads better on ``fill``."""
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "#000000"


def _mix(c0: str, c1: str, t: float) -> str:
    a = [int(c0[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(c1[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))


def decades(vanishing: float, exploding: float) -> list[float]:
    """The powers of ten shown in the colour-scale legend."""
    low, high = math.ceil(math.log10(vanishing) - 1e-9), math.floor(math.log10(exploding) + 1e-9)
    values = [10.0**k for k in range(low, high + 1)]
    if len(values) > 10:
        step = math.ceil(len(values) / 10)
        values = values[::step]
    return values or [vanishing, exploding]


def module_extra(module: Any, limit: int = 60) -> str:
    """A module's ``extra_repr()`` on one line, cut to ``limit`` characters ("" if it fails)."""
    try:
        text = module.extra_repr() if hasattr(module, "extra_repr") else ""
    except Exception:
        return ""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Options that carry precomputed arrays (batch statistics) rather than settings.
_HIDDEN_OPTION_TYPES = (np.ndarray,)


def op_label(node: Any) -> str:
    """The name a drawing shows for a node: the public op (``batch_norm``, ``max_pool``).

    A registration may name it with ``label=...``, a composite the nodes it runs for
    (``shown_as``: ``max(dim)``'s ``gather`` shows as ``max``); the library's own ``Function``
    classes (a ``_MaxPool`` would show as ``max_pool``) show in snake case without
    underscores; user ``Function`` classes keep their name.
    """
    public = getattr(node, "public_name", None)
    if public is not None:  # a composite's own node (max(dim) runs a gather)
        return str(public)
    spec = getattr(node, "spec", None)
    if spec is not None:
        return str(spec.label or spec.name)
    name = node.op_name
    module = getattr(getattr(node, "function", None), "__module__", "") or ""
    if module.split(".")[0] in ("autograd", "nn"):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", name.lstrip("_")).lower()
    return name


def shown_option(key: str, value: Any) -> bool:
    """Whether an op option belongs in a label (not arrays the op computed for itself)."""
    if key.startswith("_"):
        return False
    if isinstance(value, _HIDDEN_OPTION_TYPES) or (
        hasattr(value, "_data") and isinstance(value._data, np.ndarray)
    ):
        return key == "index"  # an indexing op's index says what was picked
    return True


def module_title(name: str, type_name: str) -> str:
    """A module's title as one text run (``features.3 · MaxPool2d``).

    One run, because Graphviz positions each font run of a line at a fixed x computed with
    its own font metrics: a viewer whose font is wider than Graphviz's estimate makes separate
    runs overlap ("features.3MaxPool2d").
    """
    return f"{name} · {type_name}" if name else type_name
