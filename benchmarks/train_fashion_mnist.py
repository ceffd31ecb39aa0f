"""The graphgrad-train recipe in graphgrad and in PyTorch CPU, each in its own process.

Run: ``python benchmarks/train_fashion_mnist.py --model cnn`` (needs torch). Both frameworks
start from the same initial weights (graphgrad's init, written once by this driver and loaded
by both), see the same normalised images in the same order every epoch and use the same
optimizer, lr schedule, batch size and loss; only dropout masks and floating-point summation
order differ. Each framework trains in its own worker process (never two frameworks timed in
one process: spinning BLAS/OpenMP threads and allocator state distort the second), pinned to
``--threads`` (default 1) BLAS and intra-op threads. Each worker first runs ``--warmup-steps``
untimed steps on a throwaway copy of its model (one-time costs stay out of epoch 1). The epochs
are interleaved (one framework's epoch, then the other's, the order alternating) so that other
load on the machine hits both alike.

Prints per-epoch test accuracy, train time (wall and process CPU) and the ratios, then the final
accuracy difference, the total-time ratios and each worker's peak RSS (the training loop's
process, data included; both hold the same arrays). ``--threads default`` leaves every library
its default thread count (meaningful on an idle machine only).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _harness  # noqa: E402

from graphgrad.datasets import load_split  # noqa: E402
from graphgrad.train import NORMALIZE, RECIPES  # noqa: E402

FRAMEWORKS = ("graphgrad", "torch")


def load_data(subset: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    mean, std = NORMALIZE["fashion-mnist"]
    splits = []
    for train in (True, False):
        x, y = load_split("fashion-mnist", train=train)
        if subset is not None:
            x, y = x[:subset], y[:subset]
        splits += [np.ascontiguousarray((x - np.float32(mean)) / np.float32(std)), y]
    return splits[0], splits[1], splits[2], splits[3]


def torch_model(name: str, state: dict[str, np.ndarray]) -> Any:
    """The same architecture in torch.nn, with the same parameter names and initial values."""
    import torch
    from torch import nn as tnn

    if name == "cnn":
        model = tnn.Module()
        model.features = tnn.Sequential(
            tnn.Conv2d(1, 32, 3, padding=1, bias=False), tnn.BatchNorm2d(32), tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Conv2d(32, 64, 3, padding=1, bias=False), tnn.BatchNorm2d(64), tnn.ReLU(),
            tnn.MaxPool2d(2),
        )  # fmt: skip
        model.classifier = tnn.Sequential(tnn.Flatten(), tnn.Dropout(0.25), tnn.Linear(3136, 10))
        model.forward = lambda x: model.classifier(model.features(x))  # type: ignore
    else:
        model = tnn.Sequential(
            tnn.Flatten(), tnn.Linear(784, 256), tnn.ReLU(), tnn.Dropout(0.2),
            tnn.Linear(256, 128), tnn.ReLU(), tnn.Dropout(0.2), tnn.Linear(128, 10),
        )  # fmt: skip
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    return model


def graphgrad_model(name: str, state: dict[str, np.ndarray]) -> Any:
    import autograd as ag
    from graphgrad.models import build_model

    model = build_model(name)
    model.load_state_dict({k: ag.tensor(np.array(v)) for k, v in state.items()})
    return model


class Runner:
    """One framework's model, optimizer, scheduler and its train/eval loops on NumPy batches."""

    def __init__(self, framework: str, model_name: str, recipe: dict, steps: int, seed: int,
                 state: dict[str, np.ndarray]) -> None:  # fmt: skip
        self.framework = framework
        self.model: Any
        self.optimizer: Any
        self.scheduler: Any
        self.loss_fn: Any
        lr, wd = recipe["lr"], recipe["weight_decay"]
        if framework == "graphgrad":
            import autograd as ag
            import nn
            import optim

            ag.manual_seed(seed)
            self.model = graphgrad_model(model_name, state)
            self.optimizer = optim.AdamW(self.model.parameters(), lr=lr, weight_decay=wd)
            self.scheduler = optim.lr_scheduler.OneCycleLR(
                self.optimizer, max_lr=lr, total_steps=steps, cycle_momentum=False
            )
            self.loss_fn = nn.CrossEntropyLoss()
        else:
            import torch

            torch.manual_seed(seed)
            self.model = torch_model(model_name, state)
            self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=wd)
            self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
                self.optimizer, max_lr=lr, total_steps=steps, cycle_momentum=False
            )
            self.loss_fn = torch.nn.CrossEntropyLoss()

    def _tensor(self, array: np.ndarray) -> Any:
        if self.framework == "graphgrad":
            import autograd as ag

            return ag.Tensor._from_array(array)
        import torch

        return torch.from_numpy(array)

    def train_epoch(self, x: np.ndarray, y: np.ndarray, order: np.ndarray, batch: int) -> float:
        """One epoch of training; returns the mean training loss."""
        self.model.train()
        total, batches = 0.0, 0
        for i in range(0, len(order), batch):
            index = order[i : i + batch]
            xb, yb = self._tensor(x[index]), self._tensor(y[index])
            self.optimizer.zero_grad()
            loss = self.loss_fn(self.model(xb), yb)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()
            total += loss.item()
            batches += 1
        return total / max(batches, 1)

    def warm_up(self, x: np.ndarray, y: np.ndarray, batch: int, steps: int) -> None:
        """Run ``steps`` untimed training steps on throwaway copies of the model and optimizer.

        One-time costs (lazy imports, first-call setup, the memory allocator growing to the
        working set) then stay out of the first timed epoch. The real model, optimizer and
        random stream are untouched, so training is the same with or without a warm-up.
        """
        if steps <= 0:
            return
        model = copy.deepcopy(self.model)
        model.train()
        if self.framework == "graphgrad":
            import autograd as ag
            import optim

            rng_state = ag.get_rng_state()
            optimizer: Any = optim.AdamW(model.parameters(), lr=1e-4)
        else:
            import torch

            rng_state = torch.get_rng_state()
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        for step in range(steps):
            index = np.arange(batch) + (step * batch) % max(1, len(x) - batch)
            xb, yb = self._tensor(x[index]), self._tensor(y[index])  # copies, as in training
            optimizer.zero_grad()
            self.loss_fn(model(xb), yb).backward()
            optimizer.step()
        if self.framework == "graphgrad":
            ag.set_rng_state(rng_state)
        else:
            torch.set_rng_state(rng_state)

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
        self.model.eval()
        correct = 0
        if self.framework == "graphgrad":
            import autograd as ag

            context: Any = ag.no_grad()
        else:
            import torch

            context = torch.no_grad()
        with context:
            for i in range(0, len(x), batch):
                logits = self.model(self._tensor(x[i : i + batch]))
                correct += int((np.asarray(logits.numpy()).argmax(1) == y[i : i + batch]).sum())
        return correct / len(x)


def worker(framework: str, args: argparse.Namespace) -> None:
    """One framework's process: load the shared initial weights, warm up, then train epochs."""
    _harness.setup_worker(framework)
    recipe = _recipe(args)
    x_train, y_train, x_test, y_test = load_data(args.subset)
    batch = recipe["batch_size"]
    steps = recipe["epochs"] * math.ceil(len(x_train) / batch)
    with np.load(args.initial) as saved:
        state = {k: saved[k] for k in saved.files}
    runner = Runner(framework, args.model, recipe, steps, args.seed, state)
    runner.warm_up(x_train, y_train, batch, args.warmup_steps)
    order_rng = np.random.default_rng(args.seed)
    baseline_rss = _harness.current_rss_mb()

    def epoch() -> dict:
        order = order_rng.permutation(len(x_train))
        answer = _harness.timed(lambda: runner.train_epoch(x_train, y_train, order, batch))
        answer["loss"] = answer.pop("value")
        start = time.perf_counter()
        answer["accuracy"] = runner.evaluate(x_test, y_test)
        answer["eval_wall"] = time.perf_counter() - start
        return answer

    def info() -> dict:
        versions = {"numpy": np.__version__}
        if framework == "torch":
            import torch

            versions["torch"] = torch.__version__
        else:
            from autograd.backends import numba as numba_backend

            versions["numba kernels"] = str(numba_backend.active())
        return {"threads": _harness.thread_report(framework), "peak_rss_mb": _harness.peak_rss_mb(),
                "rss_before_training_mb": baseline_rss, "versions": versions}  # fmt: skip

    _harness.serve({"epoch": epoch, "info": info})


def _recipe(args: argparse.Namespace) -> dict:
    recipe = dict(RECIPES[args.model])
    if args.epochs is not None:
        recipe["epochs"] = args.epochs
    return recipe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(RECIPES), default="cnn")
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--subset", type=int, default=None, help="first N train/test images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", default="1", help="per framework: N or 'default'")
    parser.add_argument("--warmup-steps", type=int, default=20,
                        help="untimed steps on a throwaway copy first, for each framework")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    parser.add_argument("--initial", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args)
        return 0

    import autograd as ag
    from graphgrad.models import build_model

    recipe = _recipe(args)
    ag.manual_seed(args.seed)
    initial = build_model(args.model)  # both frameworks start from these weights
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "initial.npz"
        np.savez(path, **{k: v.numpy() for k, v in initial.state_dict().items()})
        passed = [f"--model={args.model}", f"--seed={args.seed}", f"--initial={path}",
                  f"--warmup-steps={args.warmup_steps}"]  # fmt: skip
        passed += [f"--epochs={args.epochs}"] if args.epochs is not None else []
        passed += [f"--subset={args.subset}"] if args.subset is not None else []
        workers = _harness.start_workers(__file__, list(FRAMEWORKS), passed, args.threads)
        try:
            results = _run(args, recipe, workers)
        finally:
            for w in workers.values():
                w.close()
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _run(args: argparse.Namespace, recipe: dict, workers: dict) -> dict:
    images = args.subset if args.subset is not None else "all"
    print(f"{args.model} recipe: {recipe} | train/test images: {images} | Python "
          f"{platform.python_version()}\n{_harness.machine_line(args.threads)}; each framework "
          "in its own process, epochs interleaved", flush=True)  # fmt: skip
    header = f"{'epoch':>5s}" + "".join(
        f" {n + ' acc':>14s} {n + ' s':>12s} {n + ' cpu s':>16s}" for n in FRAMEWORKS
    )
    print(header + f" {'wall ratio':>10s} {'cpu ratio':>9s}", flush=True)

    def on_epoch(index: int, answers: dict) -> None:
        line = f"{index + 1:5d}"
        for name in FRAMEWORKS:
            a = answers[name]
            line += f" {100 * a['accuracy']:13.2f}% {a['wall']:12.1f} {a['cpu']:16.1f}"
        ours, theirs = answers["graphgrad"], answers["torch"]
        line += f" {ours['wall'] / theirs['wall']:10.2f}x {ours['cpu'] / theirs['cpu']:8.2f}x"
        print(line, flush=True)

    epochs = _harness.interleave(workers, recipe["epochs"], "epoch", on_round=on_epoch)
    infos = {name: w.ask("info") for name, w in workers.items()}
    results: dict[str, Any] = {"model": args.model, "recipe": recipe, "threads": args.threads,
                               "subset": args.subset, "load_average_end": os.getloadavg()}  # fmt: skip
    for name in FRAMEWORKS:
        runs = epochs[name]
        results[name] = {
            "test_acc": [r["accuracy"] for r in runs], "train_loss": [r["loss"] for r in runs],
            "epoch_times": [r["wall"] for r in runs], "epoch_cpu_times": [r["cpu"] for r in runs],
            "eval_times": [r["eval_wall"] for r in runs], **infos[name],
        }  # fmt: skip
    ours, theirs = results["graphgrad"], results["torch"]
    gap = 100 * (ours["test_acc"][-1] - theirs["test_acc"][-1])
    ratio = float(np.sum(ours["epoch_times"]) / np.sum(theirs["epoch_times"]))
    cpu_ratio = float(np.sum(ours["epoch_cpu_times"]) / np.sum(theirs["epoch_cpu_times"]))
    per_epoch = [a / b for a, b in zip(ours["epoch_times"], theirs["epoch_times"])]
    results.update(accuracy_gap_points=gap, time_ratio=ratio, cpu_time_ratio=cpu_ratio,
                   median_epoch_ratio=float(np.median(per_epoch)))  # fmt: skip
    for name in FRAMEWORKS:
        r = results[name]
        print(f"{name}: final test accuracy {100 * r['test_acc'][-1]:.2f}%, "
              f"{np.mean(r['epoch_times']):.1f} s wall / {np.mean(r['epoch_cpu_times']):.1f} s CPU "
              f"per epoch, peak RSS {r['peak_rss_mb']:.0f} MiB ({r['rss_before_training_mb']:.0f} "
              f"MiB before training); threads {r['threads']}; {r['versions']}")  # fmt: skip
    print(f"accuracy difference (graphgrad - torch): {gap:+.2f} points; time per epoch graphgrad "
          f"/ torch: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU (totals), median epoch "
          f"{results['median_epoch_ratio']:.2f}x wall (target <= 1.0x); peak RSS graphgrad / "
          f"torch: {ours['peak_rss_mb'] / theirs['peak_rss_mb']:.2f}x")  # fmt: skip
    print(_harness.machine_line(args.threads) + " (at the end)")
    return results


if __name__ == "__main__":
    sys.exit(main())
