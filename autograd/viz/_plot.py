"""``plot_grad_flow``: per-parameter mean and max |grad| bars (matplotlib), the vanishing-gradient check."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from . import _style as S


def _named(source: Any) -> list[tuple[str, Any]]:
    if hasattr(source, "named_parameters"):
        return list(source.named_parameters())
    if isinstance(source, Mapping):
        return list(source.items())
    pairs = []
    for i, item in enumerate(source):
        if isinstance(item, tuple) and len(item) == 2:
            pairs.append((str(item[0]), item[1]))
        else:
            pairs.append((f"param {i}", item))
    return pairs


def plot_grad_flow(
    model_or_named_parameters: Any | Iterable[tuple[str, Any]],
    *,
    vanishing: float = 1e-6,
    exploding: float = 1e3,
    skip_bias: bool = False,
    title: str = "Gradient flow",
    figsize: tuple[float, float] | None = None,
) -> Any:
    """Plot mean and max |grad| of each parameter on a log scale, in forward order.

    The standard diagnostic for vanishing and exploding gradients: call it after
    ``loss.backward()``. Dark bars are the mean |grad|, light bars the max |grad|;
    the band below ``vanishing`` is shaded, parameters with NaN/inf gradients are marked
    red and parameters that got no gradient are marked with a grey ``x``.

    Args:
        model_or_named_parameters: a Module, a dict ``{name: parameter}``, or
            ``(name, parameter)`` pairs (e.g. ``model.named_parameters()``).
        skip_bias: leave out parameters whose name ends in ``bias``.

    Returns:
        A ``matplotlib.figure.Figure`` (shown inline in Jupyter; ``fig.savefig('flow.png')``).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_grad_flow needs matplotlib: pip install 'graphgrad[plot]' (or pip install "
            "matplotlib)"
        ) from error
    entries = [
        (name, p)
        for name, p in _named(model_or_named_parameters)
        if getattr(p, "requires_grad", True) and not (skip_bias and name.endswith("bias"))
    ]
    if not entries:
        raise ValueError("plot_grad_flow: no parameters that require grad")
    names, means, maxes, state = [], [], [], []
    for name, param in entries:
        names.append(name)
        grad = param.grad
        if grad is None:
            means.append(np.nan)
            maxes.append(np.nan)
            state.append("none")
            continue
        values = np.abs(
            np.asarray(grad._data if hasattr(grad, "_data") else grad, dtype=np.float64)
        )
        if not np.isfinite(values).all():
            means.append(np.nan)
            maxes.append(np.nan)
            state.append("nonfinite")
            continue
        means.append(float(values.mean()) if values.size else 0.0)
        maxes.append(float(values.max()) if values.size else 0.0)
        state.append("ok")
    mean_array, max_array = np.array(means), np.array(maxes)
    positive = np.concatenate([mean_array[mean_array > 0], max_array[max_array > 0]])
    low = min(vanishing / 10, float(positive.min()) / 3 if positive.size else vanishing / 10)
    high = max(exploding * 3, float(positive.max()) * 3 if positive.size else exploding * 3)
    # Zero gradients cannot sit on a log axis: draw them at the bottom edge.
    floor = low * 1.5
    shown_max = np.where(max_array > 0, max_array, floor)
    shown_mean = np.where(mean_array > 0, mean_array, floor)

    n = len(names)
    if figsize is None:
        figsize = (min(max(6.0, 0.32 * n + 2.0), 30.0), 4.8)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(n)
    ok = np.array([s == "ok" for s in state])
    ax.bar(x[ok], shown_max[ok], width=0.8, color="#9ecae1", label="max |grad|", zorder=2)
    ax.bar(x[ok], shown_mean[ok], width=0.45, color="#08519c", label="mean |grad|", zorder=3)
    bad = np.array([s == "nonfinite" for s in state])
    if bad.any():
        ax.bar(
            x[bad],
            np.full(bad.sum(), high / 3),
            width=0.8,
            color=S.NONFINITE_COLOR,
            label="NaN/inf",
            zorder=2,
        )
    missing = np.array([s == "none" for s in state])
    if missing.any():
        ax.scatter(
            x[missing],
            np.full(missing.sum(), floor),
            marker="x",
            color="#777777",
            label="no grad",
            zorder=4,
        )
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    ax.axhspan(low, vanishing, color="#dddddd", alpha=0.6, zorder=1, lw=0)
    ax.axhline(
        vanishing, color="#777777", ls="--", lw=1, zorder=1, label=f"vanishing < {vanishing:g}"
    )
    ax.axhline(
        exploding,
        color=S.EXPLODING_COLOR,
        ls="--",
        lw=1,
        zorder=1,
        label=f"exploding > {exploding:g}",
    )
    ax.set_xticks(x)
    ax.set_xticklabels(
        names,
        rotation=90 if n > 8 else 45,
        ha="center" if n > 8 else "right",
        fontsize=8 if n > 20 else 9,
    )
    ax.set_xlim(-0.7, n - 0.3)
    ax.set_ylabel("|grad| (log scale)")
    ax.set_title(title)
    ax.grid(axis="y", which="major", alpha=0.3, zorder=0)
    # Outside the axes, below them: inside, a legend box covers the threshold lines or bars.
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="outside lower center", ncols=min(len(labels), 6))
    return fig
