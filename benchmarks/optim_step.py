"""Optimizer step time on a 1M-parameter MLP's parameters: graphgrad vs PyTorch CPU.

Run: ``python benchmarks/optim_step.py [--threads 1] [--rounds 9]`` (needs torch). Each
framework runs in its own worker process, pinned to ``--threads`` threads, rounds interleaved
(see ``_harness.py``); prints the median ms per ``step()`` for each optimizer, PyTorch with its
CPU default (single-tensor loop) and with ``foreach=True``, and the ratio to PyTorch's faster one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness  # noqa: E402

SHAPES = [(784, 1024), (1024,), (1024, 256), (256,), (256, 10), (10,)]  # an MLP 784-1024-256-10
CONFIGS = [
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("Adam", dict(lr=1e-3)),
    ("AdamW", dict(lr=1e-3)),
    ("RMSprop", dict(lr=1e-2)),
    ("Adagrad", dict(lr=1e-2)),
]
WORKERS = ("graphgrad", "torch", "torch_foreach")


def _optimizers(framework: str) -> dict[str, Callable[[], None]]:
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
    grads = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
    steps: dict[str, Callable[[], None]] = {}
    for name, kwargs in CONFIGS:
        optimizer: Any
        if framework == "graphgrad":
            import autograd as ag
            import optim

            params = [ag.tensor(a, requires_grad=True) for a in arrays]
            for p, g in zip(params, grads):
                p.grad = ag.tensor(g)
            optimizer = getattr(optim, name)(params, **kwargs)
        else:
            import torch

            tparams = [torch.tensor(a, requires_grad=True) for a in arrays]
            for p, g in zip(tparams, grads):
                p.grad = torch.tensor(g)
            foreach = framework == "torch_foreach"
            optimizer = getattr(torch.optim, name)(tparams, foreach=foreach, **kwargs)
        steps[name] = optimizer.step
    return steps


def worker(framework: str) -> None:
    _harness.setup_worker("torch" if framework.startswith("torch") else framework)
    steps = _optimizers(framework)
    for step in steps.values():
        for _ in range(5):
            step()

    def run(name: str, count: int) -> dict:
        step = steps[name]
        answer = _harness.timed(lambda: [step() for _ in range(count)])
        return {"wall": answer["wall"] / count, "cpu": answer["cpu"] / count}

    _harness.serve({"run": run})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--count", type=int, default=20, help="steps per round")
    parser.add_argument("--threads", default="1", help="per framework: N or 'default'")
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    print(_harness.machine_line(args.threads) + "; each framework in its own process")
    workers = _harness.start_workers(__file__, list(WORKERS), [], args.threads)
    try:
        print(f"{'optimizer':10s} {'graphgrad':>10s} {'torch':>10s} {'foreach':>10s} "
              f"{'ratio':>7s} {'cpu ratio':>9s}")  # fmt: skip
        for name, _ in CONFIGS:
            results = _harness.interleave(workers, args.rounds, "run", name=name,
                                          count=args.count)  # fmt: skip
            wall = {k: 1000 * statistics.median(r["wall"] for r in v) for k, v in results.items()}
            cpu = {k: 1000 * statistics.median(r["cpu"] for r in v) for k, v in results.items()}
            best = min(wall["torch"], wall["torch_foreach"])
            best_cpu = min(cpu["torch"], cpu["torch_foreach"])
            print(f"{name:10s} {wall['graphgrad']:8.2f}ms {wall['torch']:8.2f}ms "
                  f"{wall['torch_foreach']:8.2f}ms {wall['graphgrad'] / best:6.2f}x "
                  f"{cpu['graphgrad'] / best_cpu:8.2f}x", flush=True)  # fmt: skip
    finally:
        for w in workers.values():
            w.close()


if __name__ == "__main__":
    main()
