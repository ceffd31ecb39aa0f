"""The graphgrad-train recipe in graphgrad and in PyTorch CPU, side by side in one process.

Run: ``python benchmarks/train_fashion_mnist.py --model cnn`` (needs torch; ``--framework
graphgrad`` runs ours alone). Both frameworks start from the same initial weights (graphgrad's
init copied into the torch model), see the same normalised images in the same order every epoch
and use the same optimizer, lr schedule, batch size and loss; only dropout masks and floating-
point summation order differ. Each framework first runs ``--warmup-steps`` untimed steps on a
throwaway copy of its model (one-time costs stay out of epoch 1). The epochs are interleaved
(ours, then torch, then the next epoch) so that other load on the machine hits both alike. Prints per-epoch test accuracy and
train time (wall and CPU) for both, then the final accuracy difference (target: within 0.5
points) and the wall-time ratio per epoch (target: graphgrad <= 1.3x PyTorch). The CPU-time
ratio is printed too: on a shared machine it is the steadier measure (the wall time of an epoch
depends on what else runs meanwhile).

PyTorch gets ``torch.set_num_threads(T)`` with T the number of threads NumPy's BLAS uses
(``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` if set, else the CPU count, OpenBLAS's default).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import optim  # noqa: E402
from graphgrad.datasets import load_split  # noqa: E402
from graphgrad.models import build_model  # noqa: E402
from graphgrad.train import NORMALIZE, RECIPES  # noqa: E402


def blas_threads() -> int:
    """The thread count NumPy's OpenBLAS runs with (its environment variables, else all CPUs)."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return os.cpu_count() or 1


def load_data(subset: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    mean, std = NORMALIZE["fashion-mnist"]
    splits = []
    for train in (True, False):
        x, y = load_split("fashion-mnist", train=train)
        if subset is not None:
            x, y = x[:subset], y[:subset]
        splits += [np.ascontiguousarray((x - np.float32(mean)) / np.float32(std)), y]
    return splits[0], splits[1], splits[2], splits[3]


def torch_model(ours: Any) -> Any:
    """The same architecture in torch.nn, with the same parameter names and initial values."""
    import torch
    from torch import nn as tnn

    if type(ours).__name__ == "CNN":
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
    state = {k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()}
    model.load_state_dict(state)
    return model


class Runner:
    """One framework's model, optimizer, scheduler and its train/eval loops on NumPy batches."""

    def __init__(self, framework: str, recipe: dict, steps: int, seed: int, initial: Any) -> None:
        self.framework = framework
        self.model: Any
        self.optimizer: Any
        self.scheduler: Any
        self.loss_fn: Any
        self.times: list[float] = []
        self.cpu_times: list[float] = []
        self.accuracies: list[float] = []
        lr, wd = recipe["lr"], recipe["weight_decay"]
        if framework == "graphgrad":
            ag.manual_seed(seed)
            self.model = copy.deepcopy(initial)
            self.optimizer = optim.AdamW(self.model.parameters(), lr=lr, weight_decay=wd)
            self.scheduler = optim.lr_scheduler.OneCycleLR(
                self.optimizer, max_lr=lr, total_steps=steps, cycle_momentum=False
            )
            self.loss_fn = nn.CrossEntropyLoss()
        else:
            import torch

            torch.manual_seed(seed)
            self.model = torch_model(initial)
            self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=wd)
            self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
                self.optimizer, max_lr=lr, total_steps=steps, cycle_momentum=False
            )
            self.loss_fn = torch.nn.CrossEntropyLoss()

    def _tensor(self, array: np.ndarray) -> Any:
        if self.framework == "graphgrad":
            return ag.Tensor._from_array(array)
        import torch

        return torch.from_numpy(array)

    def train_epoch(self, x: np.ndarray, y: np.ndarray, order: np.ndarray, batch: int) -> float:
        self.model.train()
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(0, len(order), batch):
            index = order[i : i + batch]
            xb, yb = self._tensor(x[index]), self._tensor(y[index])
            self.optimizer.zero_grad()
            loss = self.loss_fn(self.model(xb), yb)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()
        elapsed = time.perf_counter() - start
        self.times.append(elapsed)
        self.cpu_times.append(time.process_time() - cpu_start)
        return elapsed

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
            context: Any = ag.no_grad()
        else:
            import torch

            context = torch.no_grad()
        with context:
            for i in range(0, len(x), batch):
                logits = self.model(self._tensor(x[i : i + batch]))
                correct += int((np.asarray(logits.numpy()).argmax(1) == y[i : i + batch]).sum())
        self.accuracies.append(correct / len(x))
        return self.accuracies[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(RECIPES), default="cnn")
    parser.add_argument("--framework", choices=["both", "graphgrad", "torch"], default="both")
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--subset", type=int, default=None, help="first N train/test images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup-steps", type=int, default=20,
                        help="untimed steps on a throwaway copy first, for each framework")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    recipe = dict(RECIPES[args.model])
    if args.epochs is not None:
        recipe["epochs"] = args.epochs
    threads = blas_threads()
    frameworks = ["graphgrad", "torch"] if args.framework == "both" else [args.framework]
    if "torch" in frameworks:
        import torch

        torch.set_num_threads(threads)
        torch_version = torch.__version__
    else:
        torch_version = None
    x_train, y_train, x_test, y_test = load_data(args.subset)
    batch = recipe["batch_size"]
    steps = recipe["epochs"] * math.ceil(len(x_train) / batch)
    print(
        f"{args.model} recipe: {recipe} | {len(x_train):,} train / {len(x_test):,} test images\n"
        f"threads: NumPy/OpenBLAS {threads}, torch.set_num_threads({threads}) | numpy "
        f"{np.__version__}, torch {torch_version}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; timings include any other load on the machine",
        flush=True,
    )
    ag.manual_seed(args.seed)
    initial = build_model(args.model)  # both frameworks start from these weights
    runners = {name: Runner(name, recipe, steps, args.seed, initial) for name in frameworks}
    for runner in runners.values():
        runner.warm_up(x_train, y_train, batch, args.warmup_steps)
    order_rng = np.random.default_rng(args.seed)
    header = f"{'epoch':>5s}" + "".join(
        f" {n + ' acc':>14s} {n + ' s':>12s} {n + ' cpu s':>16s}" for n in runners
    )
    print(
        header + (f" {'wall ratio':>10s} {'cpu ratio':>9s}" if len(runners) == 2 else ""),
        flush=True,
    )
    for epoch in range(1, recipe["epochs"] + 1):
        order = order_rng.permutation(len(x_train))
        line = f"{epoch:5d}"
        for runner in runners.values():
            seconds = runner.train_epoch(x_train, y_train, order, batch)
            accuracy = runner.evaluate(x_test, y_test)
            line += f" {100 * accuracy:13.2f}% {seconds:12.1f} {runner.cpu_times[-1]:16.1f}"
        if len(runners) == 2:
            ours, theirs = runners["graphgrad"], runners["torch"]
            line += f" {ours.times[-1] / theirs.times[-1]:10.2f}x"
            line += f" {ours.cpu_times[-1] / theirs.cpu_times[-1]:8.2f}x"
        print(line, flush=True)

    results: dict[str, Any] = {"model": args.model, "recipe": recipe, "threads": threads,
                               "train_samples": len(x_train)}  # fmt: skip
    for name, runner in runners.items():
        results[name] = {"test_acc": runner.accuracies, "epoch_times": runner.times,
                         "epoch_cpu_times": runner.cpu_times,
                         "mean_epoch_time": float(np.mean(runner.times))}  # fmt: skip
    summary = []
    for name, runner in runners.items():
        summary.append(
            f"{name}: final test accuracy {100 * runner.accuracies[-1]:.2f}%, "
            f"{np.mean(runner.times):.1f} s per epoch"
        )
    if len(runners) == 2:
        ours, theirs = runners["graphgrad"], runners["torch"]
        gap = 100 * (ours.accuracies[-1] - theirs.accuracies[-1])
        ratio = float(np.sum(ours.times) / np.sum(theirs.times))
        cpu_ratio = float(np.sum(ours.cpu_times) / np.sum(theirs.cpu_times))
        results.update(accuracy_gap_points=gap, time_ratio=ratio, cpu_time_ratio=cpu_ratio)
        summary.append(
            f"accuracy difference (graphgrad - torch): {gap:+.2f} points "
            f"({'within' if abs(gap) <= 0.5 else 'OUTSIDE'} 0.5); wall time per epoch "
            f"graphgrad / torch: {ratio:.2f}x (target <= 1.3x); CPU time per epoch: "
            f"{cpu_ratio:.2f}x (steadier than wall time when other jobs share the CPU)"
        )
    print("\n".join(summary))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
