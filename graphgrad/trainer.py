"""The training loop of ``graphgrad-train`` in four steps: restore, train an epoch, evaluate,
save. A :class:`Trainer` holds everything a checkpoint must bring back, so that a resumed run
continues bit for bit, even in the middle of an epoch.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
import nn
import optim
from autograd.data import DataLoader, Subset, TensorDataset
from autograd.random import default_generator
from optim import lr_scheduler

from .checkpoint import CHECKPOINT, WEIGHTS
from .models import build_model
from .reports import jsonable

__all__ = ["Trainer", "StopFlag", "make_optimizer", "make_scheduler"]

PROG = "graphgrad-train"


def make_optimizer(config: dict[str, Any], params: Any) -> optim.Optimizer:
    """Return the optimizer named by ``config["optimizer"]`` (sgd, adam, adamw)."""
    name, lr, wd = config["optimizer"], config["lr"], config["weight_decay"]
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=config["momentum"], weight_decay=wd,
                         nesterov=config["momentum"] > 0)  # fmt: skip
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    return optim.AdamW(params, lr=lr, weight_decay=wd)


def make_scheduler(config: dict[str, Any], optimizer: Any, steps_per_epoch: int) -> Any:
    """Return the lr scheduler named by ``config["scheduler"]``, or None for ``"none"``."""
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


class StopFlag:
    """SIGINT/SIGTERM handler: the first signal asks the loop to stop after the current step.

    A second Ctrl-C raises KeyboardInterrupt at once (abort without saving).
    """

    def __init__(self) -> None:
        self.requested = False
        self.reason = ""
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopFlag:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.reason = "terminated" if signum == signal.SIGTERM else "interrupted"
        print(
            f"\n{PROG}: {'SIGTERM' if signum == signal.SIGTERM else 'interrupt'} received; "
            "saving a checkpoint after this step (press Ctrl-C again to abort without saving)",
            file=sys.stderr,
            flush=True,
        )


def _fresh_partial() -> dict[str, Any]:
    # the running sums of the epoch in progress (saved in checkpoints: resumable mid-epoch)
    return dict(loss=0.0, correct=0, seen=0, time=0.0, lr=0.0)


def _flip(x: ag.Tensor, rng: np.random.Generator) -> ag.Tensor:
    """Flip a random half of the images left-right (Fashion-MNIST's classes are symmetric)."""
    data = x.numpy().copy()
    flip = rng.random(data.shape[0]) < 0.5
    data[flip] = data[flip][..., ::-1]
    return ag.from_numpy(data)


class Trainer:
    """One run: model, optimizer, scheduler, metrics and the position in the data order.

    The steps: :meth:`restore` (from a checkpoint), :meth:`train_epoch` (until the epoch ends
    or a stop is requested), :meth:`evaluate` (on the test split), :meth:`end_epoch` (record
    the metrics), :meth:`save` (checkpoint and weights).
    """

    def __init__(self, config: dict[str, Any], train_set: TensorDataset,
                 test_set: TensorDataset, out: Path) -> None:  # fmt: skip
        self.config = config
        self.train_set, self.test_set, self.out = train_set, test_set, out
        ag.manual_seed(config["seed"])
        self.model = build_model(config["model"])
        self.optimizer = make_optimizer(config, self.model.parameters())
        self.batch_size: int = config["batch_size"]
        self.steps_per_epoch = math.ceil(len(train_set) / self.batch_size)
        self.scheduler = make_scheduler(config, self.optimizer, self.steps_per_epoch)
        self.per_batch = config["scheduler"] in ("cosine", "onecycle")
        self.loss_fn = nn.CrossEntropyLoss()
        self.n_params = sum(p.numel() for p in self.model.parameters())
        self.history: list[dict[str, Any]] = []
        self.epoch = self.step_in_epoch = self.total_steps = 0
        self.partial = _fresh_partial()
        self.order: np.ndarray | None = None  # this epoch's permutation of the training set

    @property
    def finished(self) -> bool:
        return self.epoch >= self.config["epochs"]

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint written by :meth:`save`."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        ag.set_rng_state(state["rng_state"])
        self.history = list(state["metrics"])
        self.epoch, self.step_in_epoch = state["epoch"], state["step_in_epoch"]
        self.total_steps = state["total_steps"]
        self.partial = dict(state["partial"])
        self.order = None if state["order"] is None else np.asarray(state["order"])

    def state_dict(self) -> dict[str, Any]:
        """Return everything :meth:`restore` needs (what ``checkpoint.safetensors`` holds)."""
        return {
            "config": jsonable(self.config),  # its "out" is the run folder, never the staging one
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "total_steps": self.total_steps,
            "order": self.order,
            "partial": self.partial,
            "rng_state": ag.get_rng_state(),
            "metrics": self.history,
        }

    def save(self) -> None:
        """Write the checkpoint and the weights alone (``model.safetensors``), atomically."""
        ag.save(self.state_dict(), self.out / CHECKPOINT)
        ag.save(self.model.state_dict(), self.out / WEIGHTS)

    def train_epoch(self, stop: StopFlag, bar: Any) -> bool:
        """Train until the epoch ends (True) or a stop is requested (False)."""
        config = self.config
        if self.order is None:
            self.order = default_generator().permutation(len(self.train_set))
            self.step_in_epoch = 0
            self.partial = _fresh_partial()
        partial = self.partial
        remaining = Subset(self.train_set, self.order[self.step_in_epoch * self.batch_size :])
        start = time.perf_counter()
        for x, y in DataLoader(remaining, batch_size=self.batch_size):
            if stop.requested:
                break
            if config["augment"]:
                x = _flip(x, default_generator())
            partial["lr"] = lr = self.optimizer.param_groups[0]["lr"]
            self.optimizer.zero_grad()
            logits = self.model(x)
            loss = self.loss_fn(logits, y)
            loss.backward()
            self.optimizer.step()
            if self.scheduler is not None and self.per_batch:
                self.scheduler.step()
            n = y.shape[0]
            partial["loss"] += float(loss.item()) * n
            partial["correct"] += int((logits.detach().numpy().argmax(axis=1) == y.numpy()).sum())
            partial["seen"] += n
            self.step_in_epoch += 1
            self.total_steps += 1
            elapsed = partial["time"] + time.perf_counter() - start
            bar.set_postfix(loss=f"{partial['loss'] / partial['seen']:.4f}",
                            acc=f"{partial['correct'] / partial['seen']:.4f}",
                            lr=f"{lr:.2e}", refresh=False)  # fmt: skip
            bar.set_description_str(
                f"epoch {self.epoch + 1}/{config['epochs']} {partial['seen'] / elapsed:,.0f} img/s",
                refresh=False,  # bar.update() redraws, at most every 0.1 s
            )
            bar.update(1)
            if config["max_steps"] is not None and self.total_steps >= config["max_steps"]:
                stop.requested, stop.reason = True, "max-steps"
            if stop.requested:
                break
        partial["time"] += time.perf_counter() - start
        return self.step_in_epoch >= self.steps_per_epoch

    def evaluate(self, stop: StopFlag, progress: bool) -> tuple[float, float] | None:
        """Return (mean loss, accuracy) on the test split, or None if a stop was requested."""
        from tqdm.auto import tqdm

        model, dataset = self.model, self.test_set
        model.eval()
        total_loss, correct, seen = 0.0, 0, 0
        loader = DataLoader(dataset, batch_size=self.config["eval_batch_size"])
        try:
            with ag.no_grad(), tqdm(total=len(dataset), desc="  test", unit="img", leave=False,
                                    disable=not progress, dynamic_ncols=True) as bar:  # fmt: skip
                for x, y in loader:
                    logits = model(x)
                    n = y.shape[0]
                    total_loss += float(self.loss_fn(logits, y).item()) * n
                    correct += int((logits.detach().numpy().argmax(axis=1) == y.numpy()).sum())
                    seen += n
                    bar.update(n)
                    if stop.requested:
                        return None
        finally:
            model.train()
        return total_loss / seen, correct / seen

    def end_epoch(self, test_loss: float, test_acc: float, eval_time: float) -> dict[str, Any]:
        """Record the finished epoch's metrics, step a per-epoch scheduler, move to the next."""
        partial, epoch_time = self.partial, self.partial["time"]
        row = dict(
            epoch=self.epoch + 1,
            train_loss=partial["loss"] / partial["seen"],
            train_acc=partial["correct"] / partial["seen"],
            test_loss=test_loss,
            test_acc=test_acc,
            lr=partial["lr"],
            epoch_time=round(epoch_time, 3),
            samples_per_s=round(partial["seen"] / epoch_time, 1),
            eval_time=round(eval_time, 3),
        )
        self.history.append(row)
        if self.scheduler is not None and not self.per_batch:
            self.scheduler.step()
        self.epoch += 1
        self.order = None
        self.step_in_epoch = 0
        self.partial = _fresh_partial()
        return row
