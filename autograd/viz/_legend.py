"""The legend drawn beside a graph: the kinds of nodes and, in gradient-flow view, the colour scale."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _style as S

if TYPE_CHECKING:
    from ._graph import _Drawing

LEGEND_KEY = ("legend",)
_ORDER = ("input", "parameter", "op", "intermediate", "output", "constant", "module")


def add_legend(
    drawing: _Drawing,
    kinds: set[str],
    grad_flow: bool,
    vanishing: float,
    exploding: float,
    metric_label: str,
) -> None:
    """Add a ``cluster_legend`` with one sample node per kind present (and the colour scale)."""
    lines = drawing.lines.setdefault(LEGEND_KEY, [])
    if LEGEND_KEY not in drawing.cluster_order:
        drawing.cluster_order.append(LEGEND_KEY)
    for kind in _ORDER:
        if kind not in kinds:
            continue
        style = dict(S.KIND_STYLE[kind])
        if grad_flow and kind not in ("op", "constant"):
            # In this view the fill is the gradient's colour and the border tells the kind.
            style.update(fillcolor="#ffffff", penwidth="2.5")
        label = S.KIND_DESCRIPTION[kind]
        lines.append(f"\tlegend_{kind}{S.attrs(label=label, fontsize='9', **style)}\n")
    if grad_flow:
        lines.append(
            f"\tlegend_scale{S.attrs(label=_scale_table(vanishing, exploding, metric_label), shape='plaintext', margin='0')}\n"
        )


def _scale_table(vanishing: float, exploding: float, metric_label: str) -> str:
    cells = [_cell(S.VANISHING_COLOR, f"&lt; {_power(vanishing)}<BR/>vanishing")]
    for value in S.decades(vanishing, exploding):
        cells.append(_cell(S.ramp_color(value, vanishing, exploding), _power(value)))
    cells.append(_cell(S.EXPLODING_COLOR, f"&gt; {_power(exploding)}<BR/>exploding"))
    cells.append(_cell(S.NONFINITE_COLOR, "NaN / inf"))
    cells.append(_cell(S.NONE_COLOR, "no grad"))
    title = f"{S.escape(metric_label)} (log scale)"
    return (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
        f'<TR><TD COLSPAN="{len(cells)}" BORDER="0"><B>{title}</B></TD></TR>'
        f"<TR>{''.join(cells)}</TR></TABLE>>"
    )


def _cell(color: str, text: str) -> str:
    font = S.text_color(color)
    return f'<TD BGCOLOR="{color}"><FONT COLOR="{font}" POINT-SIZE="8">{text}</FONT></TD>'


def _power(value: float) -> str:
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e+")
