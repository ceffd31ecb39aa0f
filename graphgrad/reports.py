"""What a training run writes besides its checkpoint: metrics (JSON, CSV), loss and accuracy
curves, the computation graph and the gradient flow, and the console wording.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import autograd as ag

__all__ = ["METRIC_FIELDS", "plural", "write_atomic", "jsonable", "write_metrics", "plot_curves",
           "draw_graphs"]  # fmt: skip

METRIC_FIELDS = (
    "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "epoch_time",
    "samples_per_s", "eval_time",
)  # fmt: skip


def plural(count: int, noun: str) -> str:
    """Return ``"1 epoch"``, ``"2 epochs"``, with thousands separators.

    Example:
        >>> plural(1, "epoch"), plural(60000, "image")
        ('1 epoch', '60,000 images')
    """
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def jsonable(config: dict[str, Any]) -> dict[str, Any]:
    """Return ``config`` with paths as strings and private keys (``_given``) left out."""
    return {
        k: str(v) if isinstance(v, Path) else v for k, v in config.items() if not k.startswith("_")
    }


def write_metrics(out: Path, config: dict[str, Any], history: list[dict[str, Any]],
                  extra: dict[str, Any]) -> None:  # fmt: skip
    """Write ``metrics.json`` (config, per-epoch rows, summary) and ``metrics.csv`` (the rows)."""
    summary = {"config": jsonable(config), "epochs": history, **extra}
    if history:
        best = max(history, key=lambda r: r["test_acc"])
        summary.update(final_test_acc=history[-1]["test_acc"], best_test_acc=best["test_acc"],
                       best_epoch=best["epoch"])  # fmt: skip
    write_atomic(out / "metrics.json", (json.dumps(summary, indent=2) + "\n").encode())
    lines = [",".join(METRIC_FIELDS)]
    lines += [",".join(repr(row[k]) if isinstance(row[k], float) else str(row[k])
                       for k in METRIC_FIELDS) for row in history]  # fmt: skip
    write_atomic(out / "metrics.csv", ("\n".join(lines) + "\n").encode())


def plot_curves(history: list[dict[str, Any]], path: Path, title: str) -> None:
    """Draw train/test loss and accuracy per epoch side by side into ``path`` (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    figure, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, [r["train_loss"] for r in history], "o-", label="train")
    ax_loss.plot(epochs, [r["test_loss"] for r in history], "s-", label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.plot(epochs, [100 * r["train_acc"] for r in history], "o-", label="train")
    ax_acc.plot(epochs, [100 * r["test_acc"] for r in history], "s-", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


@contextlib.contextmanager
def _preserved_state(model: Any) -> Iterator[None]:
    """Run a side job (drawing the graph) without touching the training's RNG or BN buffers."""
    rng = ag.get_rng_state()
    buffers = {name: b.numpy().copy() for name, b in model.named_buffers()}
    grads = {id(p): p.grad for p in model.parameters()}
    try:
        yield
    finally:
        ag.set_rng_state(rng)
        named = dict(model.named_buffers())
        with ag.no_grad():
            for name, data in buffers.items():
                named[name].numpy()[...] = data
        for p in model.parameters():
            p.grad = grads[id(p)]


def draw_graphs(
    model: Any, loss_fn: Any, batch: Sequence[Any], out: Path, *, when: str
) -> list[str]:
    """Write graph.svg (``when="start"``) or grad_flow.svg/.png (``"end"``); return warnings.

    The model's random state, buffers and gradients are left as they were.
    """
    from autograd import viz

    problems: list[str] = []
    x, y = batch
    with _preserved_state(model):
        model.train()
        with viz.record():
            loss = loss_fn(model(x), y)
            if when == "end":
                for p in model.parameters():
                    p.grad = None
                loss.backward()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if when == "start":
                    graph = viz.draw_graph(loss, model, title=f"{type(model).__name__}: loss of "
                                           f"a batch of {x.shape[0]}")  # fmt: skip
                    viz.save(graph, out / "graph.svg")
                else:
                    graph = viz.draw_graph(loss, model, grad_flow=True,
                                           title="gradient flow (norms) after training")  # fmt: skip
                    viz.save(graph, out / "grad_flow.svg")
        except Exception as error:
            problems.append(f"could not draw the graph ({type(error).__name__}: {error})")
        if when == "end":
            try:
                figure = viz.plot_grad_flow(model, title="Gradient flow per parameter after "
                                            "training")  # fmt: skip
                figure.savefig(out / "grad_flow.png", dpi=110, bbox_inches="tight")
                import matplotlib.pyplot as plt

                plt.close(figure)
            except Exception as error:
                problems.append(
                    f"could not plot the gradient flow ({type(error).__name__}: {error})"
                )
    model.train()
    return problems
