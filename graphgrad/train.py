"""``graphgrad-train``: train an MLP or a CNN on Fashion-MNIST / MNIST, the library's main job.

Run ``graphgrad-train --help`` (or ``python -m graphgrad.train --help``). A run folder
(``--out``, default ``runs/<dataset>-<model>``) appears with the first checkpoint and receives,
updated after every epoch:

* ``config.json``: the arguments of the run (the recipe);
* ``metrics.json`` / ``metrics.csv``: per epoch train loss/accuracy, test loss/accuracy,
  learning rate, train time, samples per second, evaluation time;
* ``checkpoint.safetensors``: model, optimizer, scheduler, epoch and batch position, the
  random generator's state and the metrics (``ag.save``), so ``--resume`` continues exactly
  where the run stopped, bit for bit; ``model.safetensors``: the weights alone (a flat state
  dict that ``safetensors.torch.load_file`` reads, with PyTorch's key names);
* ``model.onnx``: the trained model in eval mode as an ONNX graph with a free batch size
  (written with the ``onnx`` package, which the ``train`` extra installs);
* ``curves.png``: loss and accuracy curves (matplotlib);
* ``graph.svg``: the computation graph of one small batch's loss, grouped by module;
* ``grad_flow.svg`` / ``grad_flow.png``: the gradient flow through that graph and per layer.

Ctrl-C (SIGINT) or SIGTERM finishes the current step, writes a resumable checkpoint and exits
with status 130 (143 for SIGTERM); a second Ctrl-C aborts at once. The first files are staged
in a hidden folder that becomes the run folder with the first checkpoint, so a run that fails,
is stopped or is killed (SIGKILL, out of memory) before it leaves no folder behind.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograd.data import TensorDataset
from autograd.threads import configure_threads

from .checkpoint import CHECKPOINT, ONNX_FILE, RunFolder, TrainError, read_for_resume
from .reports import draw_graphs, jsonable, plot_curves, plural, write_atomic, write_metrics

__all__ = ["main", "build_parser", "RECIPES", "NORMALIZE", "TrainError"]

PROG = "graphgrad-train"

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
                        help="folder with the IDX files (default: the system folder "
                        "/usr/share/datasets/fashion-mnist, then the user cache); when given, "
                        "the data must be there")  # fmt: skip
    parser.add_argument("--download", action="store_true",
                        help="download the dataset into the cache (or --data-root) if missing")  # fmt: skip
    parser.add_argument("--check-data", action="store_true",
                        help="only check that the dataset is available locally (exit status 0) "
                        "or say where it was looked for (exit status 1)")  # fmt: skip
    parser.add_argument("--eval-batch-size", type=_positive_int, default=1000)
    parser.add_argument("--threads", type=_positive_int, default=None,
                        help="BLAS threads (default: OPENBLAS_NUM_THREADS if set, else one, or "
                        "the idle cores for the CNN; several threads are much slower on a busy "
                        "machine)")  # fmt: skip
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


def _load_data(config: dict[str, Any]) -> tuple[TensorDataset, TensorDataset, Path]:
    """Load both splits as normalised float32 TensorDatasets (subset applied) and the folder."""
    from . import datasets

    cls = datasets.DATASETS[config["dataset"]]
    splits = []
    for train in (True, False):
        try:
            ds = cls(root=config["data_root"], train=train, download=config["download"])
        except (RuntimeError, FileNotFoundError, OSError) as error:
            message = str(error).replace("pass download=True", "pass --download")
            message = message.replace("pass root=None", "leave out --data-root")
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
    if len(splits[0]) == 0 or len(splits[1]) == 0:
        raise TrainError(f"{config['dataset']}: a split is empty; the data files are too small")
    return splits[0], splits[1], ds.folder


def _export_onnx(model: Any, sample: Any, path: Path) -> str:
    """Write the model (in eval mode) as ONNX with a free batch size; return what happened."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        return f"{path.name} not written: the onnx package is missing (pip install 'graphgrad[onnx]')"
    import autograd as ag

    try:
        ag.onnx.export(model, (sample,), path, input_names=["images"], output_names=["logits"],
                       dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})  # fmt: skip
    except Exception as error:
        return f"warning: could not export {path.name} ({type(error).__name__}: {error})"
    return ""


def _banner(config: dict[str, Any], trainer: Any, folder: Path, resumed: bool) -> str:
    text = (
        f"{PROG}: {config['model']} ({plural(trainer.n_params, 'parameter')}) on "
        f"{config['dataset']} ({folder}): {len(trainer.train_set):,} train / "
        f"{len(trainer.test_set):,} test images, {plural(config['epochs'], 'epoch')} of "
        f"{plural(trainer.steps_per_epoch, 'step')}, {config['optimizer']} lr={config['lr']:g} "
        f"scheduler={config['scheduler']}, seed {config['seed']} -> {config['out']}"
    )
    if resumed:
        text += f" (resumed at epoch {trainer.epoch + 1}, step {trainer.step_in_epoch})"
    threads, source = config["_threads"]
    return text + f"; {plural(threads, 'BLAS thread')} ({source})"


def _warn(problems: list[str]) -> None:
    for problem in problems:
        print(f"{PROG}: warning: {problem}", file=sys.stderr)


def _train(config: dict[str, Any]) -> int:
    """Run (or resume) one training run; return the exit status."""
    from tqdm.auto import tqdm

    from .trainer import StopFlag, Trainer

    run = RunFolder(Path(config["out"]))
    state = read_for_resume(config) if config["resume"] else None
    config["_threads"] = configure_threads(config["threads"], large_gemms=config["model"] == "cnn")
    run.check_writable()
    train_set, test_set, data_folder = _load_data(config)
    trainer = Trainer(config, train_set, test_set, run.path)
    progress: bool = config["progress"]
    with StopFlag() as stop:
        run.create()
        trainer.out = run.work  # the staging folder until the first checkpoint
        try:
            if state is not None:
                trainer.restore(state)
            else:
                public = jsonable(config)
                write_atomic(run.work / "config.json",
                             (json.dumps(public, indent=2) + "\n").encode())  # fmt: skip
                if config["viz"]:
                    sample = train_set.get_batch(np.arange(min(2, len(train_set))))
                    _warn(draw_graphs(trainer.model, trainer.loss_fn, sample, run.work,
                                      when="start"))  # fmt: skip
            # the banner comes once Ctrl-C is handled: from here on it saves a checkpoint
            print(_banner(config, trainer, data_folder, state is not None), file=sys.stderr)
            _fit(trainer, stop, progress, tqdm, run)
        except BaseException:
            run.discard()
            raise
    if trainer.total_steps == 0 and state is None:  # stopped before the first step
        run.discard()
        print(f"{PROG}: {stop.reason} before the first step; nothing saved", file=sys.stderr)
        return 130 if stop.reason == "interrupted" else 143
    return _finish(trainer, stop, run)


def _save(trainer: Any, run: RunFolder) -> None:
    """Write the checkpoint; the first one brings the run folder into place with it."""
    trainer.save()
    run.commit()
    trainer.out = run.path


def _fit(trainer: Any, stop: Any, progress: bool, tqdm: Any, run: RunFolder) -> None:
    """Train epoch after epoch, evaluating and saving after each, until done or stopped."""
    config = trainer.config
    extra = _extra(trainer, "running")
    while not trainer.finished and not stop.requested:
        bar = tqdm(total=trainer.steps_per_epoch, initial=trainer.step_in_epoch, unit="step",
                   leave=True, desc=f"epoch {trainer.epoch + 1}/{config['epochs']}",
                   disable=not progress, dynamic_ncols=True)  # fmt: skip
        with bar:
            complete = trainer.train_epoch(stop, bar)
        if not complete:
            break
        eval_start = time.perf_counter()
        result = trainer.evaluate(stop, progress)
        if result is None:
            break
        row = trainer.end_epoch(*result, eval_time=time.perf_counter() - eval_start)
        message = (
            f"epoch {row['epoch']}/{config['epochs']}: train loss {row['train_loss']:.4f} "
            f"acc {100 * row['train_acc']:.2f}% | test loss {row['test_loss']:.4f} acc "
            f"{100 * row['test_acc']:.2f}% | lr {row['lr']:.2e} | {row['epoch_time']:.1f} s, "
            f"{row['samples_per_s']:,.0f} img/s"
        )
        tqdm.write(message, file=sys.stderr) if progress else print(message, file=sys.stderr)
        _save(trainer, run)
        write_metrics(trainer.out, config, trainer.history, extra)
        try:
            title = (
                f"{config['model']} on {config['dataset']}: {100 * row['test_acc']:.2f}% test "
                f"accuracy after {plural(row['epoch'], 'epoch')} ({config['optimizer']}, "
                f"{config['scheduler']}, lr {config['lr']:g}, batch {trainer.batch_size})"
            )
            plot_curves(trainer.history, trainer.out / "curves.png", title)
        except Exception as error:
            _warn([f"could not plot the curves ({error})"])


def _extra(trainer: Any, status: str) -> dict[str, Any]:
    return {"parameters": trainer.n_params, "train_samples": len(trainer.train_set),
            "test_samples": len(trainer.test_set), "status": status}  # fmt: skip


def _finish(trainer: Any, stop: Any, run: RunFolder) -> int:
    """Save a stopped run for --resume, or write the final reports of a finished one."""
    config, out = trainer.config, run.path
    if not trainer.finished:
        _save(trainer, run)
        write_metrics(out, config, trainer.history, _extra(trainer, "stopped"))
        what = (
            f"stopped after {plural(trainer.total_steps, 'step')}"
            if stop.reason == "max-steps"
            else stop.reason
        )
        print(
            f"{PROG}: {what} at epoch {trainer.epoch + 1}, step "
            f"{trainer.step_in_epoch}/{trainer.steps_per_epoch}; checkpoint saved to "
            f"{run.checkpoint}; continue with: {PROG} --out {out} --resume",
            file=sys.stderr,
        )
        return {"interrupted": 130, "terminated": 143}.get(stop.reason, 0)

    if config["viz"]:
        sample = trainer.train_set.get_batch(np.arange(min(64, len(trainer.train_set))))
        _warn(draw_graphs(trainer.model, trainer.loss_fn, sample, out, when="end"))
    sample_x = trainer.train_set.get_batch(np.arange(min(2, len(trainer.train_set))))[0]
    note = _export_onnx(trainer.model, sample_x, out / ONNX_FILE)
    if note:
        print(f"{PROG}: {note}", file=sys.stderr)
    write_metrics(out, config, trainer.history, _extra(trainer, "finished"))
    if trainer.history:
        last = trainer.history[-1]
        print(
            f"{PROG}: done: test accuracy {100 * last['test_acc']:.2f}% after "
            f"{plural(last['epoch'], 'epoch')}; artifacts in {out}",
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
    if args.data_root is not None and not args.data_root.is_dir() and not args.download:
        what = "is not a folder" if args.data_root.exists() else "does not exist"
        parser.error(f"--data-root {args.data_root} {what} (pass the folder holding the IDX "
                     "files, or add --download to download into it)")  # fmt: skip
    config = _resolve(args)
    config["_given"] = given
    if config["check_data"]:
        try:
            train_set, test_set, folder = _load_data(config)
        except TrainError as error:
            print(f"{PROG}: {error}", file=sys.stderr)
            return 1
        print(f"{PROG}: {config['dataset']} found in {folder}: {len(train_set):,} train / "
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
    except OSError as error:  # a full disk, a folder made read-only meanwhile
        where = f" ({error.filename})" if error.filename else ""
        print(f"{PROG}: error: cannot write the run{where}: {error.strerror or error}",
              file=sys.stderr)  # fmt: skip
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: aborted (no checkpoint written for the current step)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
