"""``graphgrad-train``: train an MLP or a CNN on Fashion-MNIST / MNIST, the library's main job.

Run ``graphgrad-train --help`` (or ``python -m autograd.train --help``). A run folder
(``--out``, default ``runs/<dataset>-<model>``) receives, updated after every epoch:

* ``config.json``: the arguments of the run (the recipe);
* ``metrics.json`` / ``metrics.csv``: per epoch train loss/accuracy, test loss/accuracy,
  learning rate, train time, samples per second, evaluation time;
* ``checkpoint.safetensors``: model, optimizer, scheduler, epoch and batch position, the
  random generator's state and the metrics (``ag.save``), so ``--resume`` continues exactly
  where the run stopped, bit for bit; ``model.safetensors``: the weights alone (a flat state
  dict that ``safetensors.torch.load_file`` reads);
* ``curves.png``: loss and accuracy curves (matplotlib);
* ``graph.svg``: the computation graph of one small batch's loss, grouped by module;
* ``grad_flow.svg`` / ``grad_flow.png``: the gradient flow through that graph and per layer.

Ctrl-C (SIGINT) finishes the current step, writes a resumable checkpoint and exits with
status 130; a second Ctrl-C aborts at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
from autograd.data import DataLoader, Subset, TensorDataset

__all__ = ["main", "build_parser", "RECIPES"]

PROG = "graphgrad-train"
CHECKPOINT = "checkpoint.safetensors"

# The recipes that reach the accuracy targets on Fashion-MNIST's official test split (see the
# README): defaults for every argument the command line leaves out.
RECIPES: dict[str, dict[str, Any]] = {
    "cnn": dict(
        epochs=6,
        batch_size=128,
        lr=3e-3,
        optimizer="adamw",
        weight_decay=1e-4,
        scheduler="onecycle",
    ),  # fmt: skip
    "mlp": dict(
        epochs=20,
        batch_size=128,
        lr=2e-3,
        optimizer="adamw",
        weight_decay=1e-4,
        scheduler="onecycle",
    ),  # fmt: skip
}

# Per-dataset normalisation (mean and std of the training pixels), as torchvision tutorials use.
NORMALIZE = {"fashion-mnist": (0.2860, 0.3530), "mnist": (0.1307, 0.3081)}

# Arguments that define the computation: a resumed run must keep them.
_FIXED_ON_RESUME = (
    "dataset", "model", "batch_size", "lr", "optimizer", "momentum", "weight_decay", "scheduler",
    "seed", "subset", "augment",
)  # fmt: skip

_METRIC_FIELDS = (
    "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "epoch_time",
    "samples_per_s", "eval_time",
)  # fmt: skip


class TrainError(Exception):
    """A problem the user can fix (missing data, a bad checkpoint): printed without traceback."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of ``graphgrad-train``."""
    recipes = "; ".join(
        f"{name}: " + ", ".join(f"{k}={v}" for k, v in recipe.items())
        for name, recipe in RECIPES.items()
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train an MLP or a CNN on Fashion-MNIST or MNIST with graphgrad, writing "
        "metrics, plots, graphs and a resumable checkpoint to a run folder.",
        epilog=f"Defaults left out come from the model's recipe ({recipes}). Ctrl-C saves a "
        "checkpoint; continue with --out <same folder> --resume.",
    )
    parser.add_argument("--dataset", choices=sorted(NORMALIZE), default=None,
                        help="dataset (default: fashion-mnist)")  # fmt: skip
    parser.add_argument(
        "--model", choices=["mlp", "cnn"], default=None, help="model (default: cnn)"
    )
    parser.add_argument("--epochs", type=_positive_int, default=None, help="epochs to train")
    parser.add_argument(
        "--batch-size", type=_positive_int, default=None, help="training batch size"
    )
    parser.add_argument("--lr", type=_positive_float, default=None,
                        help="learning rate (the peak lr with --scheduler onecycle)")  # fmt: skip
    parser.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], default=None)
    parser.add_argument("--momentum", type=_non_negative_float, default=None,
                        help="SGD momentum (default 0.9)")  # fmt: skip
    parser.add_argument("--weight-decay", type=_non_negative_float, default=None)
    parser.add_argument("--scheduler", choices=["none", "cosine", "onecycle", "step"], default=None,
                        help="lr schedule: cosine and onecycle step every batch, step (x0.1 at "
                        "50%% and 75%% of the epochs) every epoch")  # fmt: skip
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                        help="random horizontal flips of training images (default: off)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    parser.add_argument("--subset", type=_positive_int, default=None,
                        help="use only the first N training and N test samples (smoke runs)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None,
                        help="run folder (default: runs/<dataset>-<model>)")  # fmt: skip
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its checkpoint")  # fmt: skip
    parser.add_argument("--max-steps", type=_positive_int, default=None,
                        help="stop after this many training steps in total, saving a resumable "
                        "checkpoint (for time-boxed jobs)")  # fmt: skip
    parser.add_argument("--data-root", type=Path, default=None,
                        help="folder with the IDX files, searched before the system folder "
                        "(/usr/share/datasets/fashion-mnist) and the user cache")  # fmt: skip
    parser.add_argument("--download", action="store_true",
                        help="download the dataset into the cache (or --data-root) if missing")  # fmt: skip
    parser.add_argument("--check-data", action="store_true",
                        help="only check that the dataset is available locally (exit status 0) "
                        "or say where it was looked for (exit status 1)")  # fmt: skip
    parser.add_argument("--eval-batch-size", type=_positive_int, default=1000)
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bars (one line per epoch)")  # fmt: skip
    parser.add_argument("--no-viz", dest="viz", action="store_false",
                        help="skip the computation-graph and gradient-flow drawings")  # fmt: skip
    return parser


def _resolve(args: argparse.Namespace) -> dict[str, Any]:
    """Fill the arguments left out from the defaults and the model's recipe."""
    config = dict(vars(args))
    config["dataset"] = config["dataset"] or "fashion-mnist"
    config["model"] = config["model"] or "cnn"
    for key, value in RECIPES[config["model"]].items():
        if config[key] is None:
            config[key] = value
    defaults = dict(momentum=0.9, weight_decay=0.0, seed=0, augment=False)
    for key, value in defaults.items():
        if config[key] is None:
            config[key] = value
    if config["out"] is None:
        # runs/fashion-mnist-cnn, then runs/fashion-mnist-cnn-2, ...: never clobber a run
        base = Path("runs") / f"{config['dataset']}-{config['model']}"
        out, number = base, 1
        while (out / CHECKPOINT).exists():
            number += 1
            out = base.with_name(f"{base.name}-{number}")
        config["out"] = out
    return config


def _jsonable(config: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in config.items()}


def _load_data(config: dict[str, Any]) -> tuple[TensorDataset, TensorDataset, tuple[str, ...]]:
    """Load both splits as normalised float32 TensorDatasets (subset applied)."""
    from autograd import datasets

    cls = {"fashion-mnist": datasets.FashionMNIST, "mnist": datasets.MNIST}[config["dataset"]]
    splits = []
    for train in (True, False):
        try:
            ds = cls(root=config["data_root"], train=train, download=config["download"])
        except (RuntimeError, FileNotFoundError, OSError) as error:
            message = str(error).replace("pass download=True", "pass --download")
            hint = "" if config["download"] or "--download" in message else " (or pass --download)"
            raise TrainError(f"{message}{hint}") from None
        images, labels = ds.arrays()
        if config["subset"] is not None:
            images, labels = images[: config["subset"]], labels[: config["subset"]]
        mean, std = NORMALIZE[config["dataset"]]
        # One normalised copy per split, made once: batches are then plain slices of it.
        images = np.subtract(images, np.float32(mean))
        np.divide(images, np.float32(std), out=images)
        splits.append(TensorDataset(images, labels))
        classes = tuple(ds.classes)
    if len(splits[0]) == 0 or len(splits[1]) == 0:
        raise TrainError(f"{config['dataset']}: a split is empty; the data files are too small")
    return splits[0], splits[1], classes


def _make_optimizer(config: dict[str, Any], params: Any) -> Any:
    import optim

    name, lr, wd = config["optimizer"], config["lr"], config["weight_decay"]
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=config["momentum"], weight_decay=wd,
                         nesterov=config["momentum"] > 0)  # fmt: skip
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    return optim.AdamW(params, lr=lr, weight_decay=wd)


def _make_scheduler(config: dict[str, Any], optimizer: Any, steps_per_epoch: int) -> Any:
    """Return the scheduler and whether it steps per batch (else per epoch)."""
    from optim import lr_scheduler

    total = config["epochs"] * steps_per_epoch
    name = config["scheduler"]
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if name == "onecycle":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=config["lr"], total_steps=total,
                                       cycle_momentum=config["optimizer"] == "sgd")  # fmt: skip
    if name == "step":
        milestones = sorted({max(1, config["epochs"] // 2), max(1, (3 * config["epochs"]) // 4)})
        return lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1)
    return None


def _per_batch(config: dict[str, Any]) -> bool:
    return config["scheduler"] in ("cosine", "onecycle")


def _loss_fn() -> Any:
    import nn

    return nn.CrossEntropyLoss()


class _StopFlag:
    """SIGINT handler: the first Ctrl-C asks the loop to stop after the current step."""

    def __init__(self) -> None:
        self.requested = False
        self.reason = ""
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _StopFlag:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.reason = "interrupted"
        print(
            f"\n{PROG}: interrupt received; saving a checkpoint after this step "
            "(press Ctrl-C again to abort without saving)",
            file=sys.stderr,
            flush=True,
        )


@contextlib.contextmanager
def _preserved_state(model: Any) -> Iterator[None]:
    """Run a side job (drawing the graph) without touching the training's RNG or BN buffers."""
    rng = ag.get_rng_state()
    buffers = {name: b.data.copy() for name, b in model.named_buffers()}
    grads = {id(p): p.grad for p in model.parameters()}
    try:
        yield
    finally:
        ag.set_rng_state(rng)
        named = dict(model.named_buffers())
        with ag.no_grad():
            for name, data in buffers.items():
                named[name].data[...] = data
        for p in model.parameters():
            p.grad = grads[id(p)]


def _draw_graphs(
    model: Any, loss_fn: Any, batch: Sequence[Any], out: Path, *, when: str
) -> list[str]:
    """Write graph.svg (at the start) or grad_flow.svg/.png (at the end); return warnings."""
    problems: list[str] = []
    try:
        from autograd import viz
    except Exception as error:  # pragma: no cover - viz is part of the package
        return [f"autograd.viz is unavailable ({error})"]
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
                _plot_grad_flow(model, out / "grad_flow.png")
            except Exception as error:
                problems.append(
                    f"could not plot the gradient flow ({type(error).__name__}: {error})"
                )
    model.train()
    return problems


def _plot_grad_flow(model: Any, path: Path) -> None:
    from autograd import viz

    figure = viz.plot_grad_flow(model, title="Gradient flow per parameter after training")
    figure.savefig(path, dpi=110, bbox_inches="tight")


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _plot_curves(history: list[dict[str, Any]], path: Path, title: str) -> None:
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


def _write_metrics(out: Path, config: dict[str, Any], history: list[dict[str, Any]],
                   extra: dict[str, Any]) -> None:  # fmt: skip
    summary = {"config": _jsonable(config), "epochs": history, **extra}
    if history:
        best = max(history, key=lambda r: r["test_acc"])
        summary.update(final_test_acc=history[-1]["test_acc"], best_test_acc=best["test_acc"],
                       best_epoch=best["epoch"])  # fmt: skip
    _write_atomic(out / "metrics.json", (json.dumps(summary, indent=2) + "\n").encode())
    lines = [",".join(_METRIC_FIELDS)]
    lines += [",".join(repr(row[k]) if isinstance(row[k], float) else str(row[k])
                       for k in _METRIC_FIELDS) for row in history]  # fmt: skip
    _write_atomic(out / "metrics.csv", ("\n".join(lines) + "\n").encode())


def _evaluate(model: Any, loss_fn: Any, dataset: TensorDataset, batch_size: int, progress: bool,
              stop: _StopFlag) -> tuple[float, float] | None:  # fmt: skip
    """Return (mean loss, accuracy) on ``dataset``, or None if a stop was requested meanwhile."""
    from tqdm.auto import tqdm

    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    loader = DataLoader(dataset, batch_size=batch_size)
    with ag.no_grad(), tqdm(total=len(dataset), desc="  test", unit="img", leave=False,
                            disable=not progress, dynamic_ncols=True) as bar:  # fmt: skip
        for x, y in loader:
            logits = model(x)
            n = y.shape[0]
            total_loss += float(loss_fn(logits, y).item()) * n
            correct += int((logits.data.argmax(axis=1) == y.data).sum())
            seen += n
            bar.update(n)
            if stop.requested:
                model.train()
                return None
    model.train()
    return total_loss / seen, correct / seen


def _flip(x: ag.Tensor, rng: np.random.Generator) -> ag.Tensor:
    """Flip a random half of the images left-right (Fashion-MNIST's classes are symmetric)."""
    data = x.data.copy()
    flip = rng.random(data.shape[0]) < 0.5
    data[flip] = data[flip][..., ::-1]
    return ag.Tensor._from_array(data)


def _train(config: dict[str, Any]) -> int:
    import nn  # noqa: F401  (registers the layers' ops before anything is traced)
    from autograd.models import build_model
    from autograd.random import default_generator

    out: Path = config["out"]
    progress: bool = config["progress"]
    checkpoint_path = out / CHECKPOINT
    state: dict[str, Any] | None = None
    if config["resume"]:
        if not checkpoint_path.is_file():
            raise TrainError(
                f"--resume: no checkpoint at {checkpoint_path}; start the run without --resume "
                "(or point --out at the run folder)"
            )
        try:
            state = ag.load(checkpoint_path)
        except RuntimeError as error:
            raise TrainError(f"--resume: cannot read the checkpoint: {error}") from None
        saved = state["config"]
        for key in _FIXED_ON_RESUME:
            given = config["_given"].get(key)
            if given is not None and given != saved[key]:
                raise TrainError(
                    f"--resume: --{key.replace('_', '-')} {given} differs from the checkpoint's "
                    f"{saved[key]}; a resumed run keeps its recipe (start a new --out instead)"
                )
            config[key] = saved[key]
        if config["_given"].get("epochs") is None:
            config["epochs"] = saved["epochs"]
    out.mkdir(parents=True, exist_ok=True)
    public = {k: v for k, v in config.items() if not k.startswith("_")}
    if state is None:
        _write_atomic(
            out / "config.json", (json.dumps(_jsonable(public), indent=2) + "\n").encode()
        )

    train_set, test_set, _ = _load_data(config)
    ag.manual_seed(config["seed"])
    model = build_model(config["model"])
    optimizer = _make_optimizer(config, model.parameters())
    batch_size = config["batch_size"]
    steps_per_epoch = math.ceil(len(train_set) / batch_size)
    scheduler = _make_scheduler(config, optimizer, steps_per_epoch)
    loss_fn = _loss_fn()
    n_params = sum(p.numel() for p in model.parameters())

    history: list[dict[str, Any]] = []
    epoch, step_in_epoch, total_steps = 0, 0, 0
    partial = dict(loss=0.0, correct=0, seen=0, time=0.0, lr=0.0)
    order: np.ndarray | None = None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        ag.set_rng_state(state["rng_state"])
        history = list(state["metrics"])
        epoch, step_in_epoch = state["epoch"], state["step_in_epoch"]
        total_steps = state["total_steps"]
        partial = dict(state["partial"])
        order = None if state["order"] is None else np.asarray(state["order"])
    elif config["viz"]:
        sample = train_set.get_batch(np.arange(min(2, len(train_set))))
        for problem in _draw_graphs(model, loss_fn, sample, out, when="start"):
            print(f"{PROG}: warning: {problem}", file=sys.stderr)

    def save_checkpoint() -> None:
        ag.save(
            {
                "config": _jsonable(public) | {"out": str(out)},
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": None if scheduler is None else scheduler.state_dict(),
                "epoch": epoch,
                "step_in_epoch": step_in_epoch,
                "total_steps": total_steps,
                "order": order,
                "partial": partial,
                "rng_state": ag.get_rng_state(),
                "metrics": history,
            },
            checkpoint_path,
        )
        ag.save(model.state_dict(), out / "model.safetensors")

    from tqdm.auto import tqdm

    extra: dict[str, Any] = {"parameters": n_params, "train_samples": len(train_set),
                             "test_samples": len(test_set), "status": "running"}  # fmt: skip
    model.train()
    with _StopFlag() as stop:
        # the banner comes once Ctrl-C is handled: from here on it saves a checkpoint
        print(
            f"{PROG}: {config['model']} ({n_params:,} parameters) on {config['dataset']}: "
            f"{len(train_set):,} train / {len(test_set):,} test images, {config['epochs']} epochs of "
            f"{steps_per_epoch} steps, {config['optimizer']} lr={config['lr']:g} "
            f"scheduler={config['scheduler']}, seed {config['seed']} -> {out}"
            + (
                f" (resumed at epoch {epoch + 1}, step {step_in_epoch})"
                if state is not None
                else ""
            ),
            file=sys.stderr,
        )
        while epoch < config["epochs"]:
            if order is None:
                order = default_generator().permutation(len(train_set))
                step_in_epoch = 0
                partial = dict(loss=0.0, correct=0, seen=0, time=0.0, lr=0.0)
            remaining = Subset(train_set, order[step_in_epoch * batch_size :])
            loader = DataLoader(remaining, batch_size=batch_size)
            bar = tqdm(total=steps_per_epoch, initial=step_in_epoch, unit="step", leave=True,
                       desc=f"epoch {epoch + 1}/{config['epochs']}", disable=not progress,
                       dynamic_ncols=True)  # fmt: skip
            start = time.perf_counter()
            for x, y in loader:
                if config["augment"]:
                    x = _flip(x, default_generator())
                partial["lr"] = lr = optimizer.param_groups[0]["lr"]
                optimizer.zero_grad()
                logits = model(x)
                loss = loss_fn(logits, y)
                loss.backward()
                optimizer.step()
                if scheduler is not None and _per_batch(config):
                    scheduler.step()
                n = y.shape[0]
                partial["loss"] += float(loss.item()) * n
                partial["correct"] += int((logits.data.argmax(axis=1) == y.data).sum())
                partial["seen"] += n
                step_in_epoch += 1
                total_steps += 1
                elapsed = partial["time"] + time.perf_counter() - start
                bar.set_postfix(loss=f"{partial['loss'] / partial['seen']:.4f}",
                                acc=f"{partial['correct'] / partial['seen']:.4f}",
                                lr=f"{lr:.2e}", refresh=False)  # fmt: skip
                bar.set_description_str(
                    f"epoch {epoch + 1}/{config['epochs']} {partial['seen'] / elapsed:,.0f} img/s",
                    refresh=False,  # bar.update() redraws, at most every 0.1 s
                )
                bar.update(1)
                if config["max_steps"] is not None and total_steps >= config["max_steps"]:
                    stop.requested, stop.reason = True, "max-steps"
                if stop.requested:
                    break
            partial["time"] += time.perf_counter() - start
            bar.close()
            if stop.requested and step_in_epoch < steps_per_epoch:
                break
            eval_start = time.perf_counter()
            result = _evaluate(model, loss_fn, test_set, config["eval_batch_size"], progress, stop)
            eval_time = time.perf_counter() - eval_start
            if result is None:
                break
            test_loss, test_acc = result
            epoch_time = partial["time"]
            row = dict(
                epoch=epoch + 1,
                train_loss=partial["loss"] / partial["seen"],
                train_acc=partial["correct"] / partial["seen"],
                test_loss=test_loss,
                test_acc=test_acc,
                lr=partial["lr"],
                epoch_time=round(epoch_time, 3),
                samples_per_s=round(partial["seen"] / epoch_time, 1),
                eval_time=round(eval_time, 3),
            )
            history.append(row)
            if scheduler is not None and not _per_batch(config):
                scheduler.step()
            epoch += 1
            order = None
            step_in_epoch = 0
            partial = dict(loss=0.0, correct=0, seen=0, time=0.0, lr=0.0)
            message = (
                f"epoch {row['epoch']}/{config['epochs']}: train loss {row['train_loss']:.4f} "
                f"acc {100 * row['train_acc']:.2f}% | test loss {test_loss:.4f} acc "
                f"{100 * test_acc:.2f}% | lr {row['lr']:.2e} | {epoch_time:.1f} s, "
                f"{row['samples_per_s']:,.0f} img/s"
            )
            tqdm.write(message, file=sys.stderr) if progress else print(message, file=sys.stderr)
            save_checkpoint()
            _write_metrics(out, public, history, extra)
            try:
                title = (
                    f"{config['model']} on {config['dataset']}: {100 * test_acc:.2f}% test "
                    f"accuracy after {row['epoch']} epoch(s) ({config['optimizer']}, "
                    f"{config['scheduler']}, lr {config['lr']:g}, batch {batch_size})"
                )
                _plot_curves(history, out / "curves.png", title)
            except Exception as error:
                print(f"{PROG}: warning: could not plot the curves ({error})", file=sys.stderr)
            if stop.requested:
                break

    if epoch < config["epochs"]:
        save_checkpoint()
        extra["status"] = "stopped"
        _write_metrics(out, public, history, extra)
        what = (
            "interrupted" if stop.reason == "interrupted" else f"stopped after {total_steps} steps"
        )
        print(
            f"{PROG}: {what} at epoch {epoch + 1}, step {step_in_epoch}/{steps_per_epoch}; "
            f"checkpoint saved to {checkpoint_path}; continue with: {PROG} --out {out} --resume",
            file=sys.stderr,
        )
        return 130 if stop.reason == "interrupted" else 0

    extra["status"] = "finished"
    if config["viz"]:
        sample = train_set.get_batch(np.arange(min(64, len(train_set))))
        for problem in _draw_graphs(model, loss_fn, sample, out, when="end"):
            print(f"{PROG}: warning: {problem}", file=sys.stderr)
    _write_metrics(out, public, history, extra)
    if history:
        last = history[-1]
        print(
            f"{PROG}: done: test accuracy {100 * last['test_acc']:.2f}% after {last['epoch']} "
            f"epochs; artifacts in {out}",
            file=sys.stderr,
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 done, 130 interrupted, 1 error).

    Example (a one-epoch smoke run; it writes a run folder under ``runs/``)::

        main(["--model", "mlp", "--epochs", "1", "--subset", "256"])  # returns 0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    given = {k: v for k, v in vars(args).items() if v is not None}
    if args.resume and args.out is None:
        parser.error("--resume needs --out (the run folder holding checkpoint.safetensors)")
    config = _resolve(args)
    config["_given"] = given
    if config["check_data"]:
        try:
            train_set, test_set, _ = _load_data(config)
        except TrainError as error:
            print(f"{PROG}: {error}", file=sys.stderr)
            return 1
        print(f"{PROG}: {config['dataset']} found: {len(train_set):,} train / "
              f"{len(test_set):,} test images", file=sys.stderr)  # fmt: skip
        return 0
    if config["subset"] is not None and config["subset"] < 2:
        parser.error("--subset must be at least 2")
    out = config["out"]
    if not config["resume"] and (out / CHECKPOINT).exists():
        parser.error(
            f"{out} already holds a run ({CHECKPOINT}); pass --resume to continue it, or choose "
            "another --out (or delete the folder)"
        )
    try:
        return _train(config)
    except TrainError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: aborted (no checkpoint written for the current step)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
