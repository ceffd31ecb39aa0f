"""Optimizer step time on a 1M-parameter MLP's parameters: graphgrad vs PyTorch CPU.

Run: ``python benchmarks/optim_step.py`` (needs torch). Prints ms per ``step()`` for each
optimizer; PyTorch is timed with its CPU default (single-tensor loop) and with ``foreach=True``.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

import autograd as ag  # noqa: E402
import optim  # noqa: E402

SHAPES = [(784, 1024), (1024,), (1024, 256), (256,), (256, 10), (10,)]  # an MLP 784-1024-256-10
CONFIGS = [
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("Adam", dict(lr=1e-3)),
    ("AdamW", dict(lr=1e-3)),
    ("RMSprop", dict(lr=1e-2)),
    ("Adagrad", dict(lr=1e-2)),
]


def time_steps(optimizer, repeats: int = 50) -> float:
    """Median-free mean of ``repeats`` steps after a warm-up, in milliseconds."""
    for _ in range(5):
        optimizer.step()
    start = time.perf_counter()
    for _ in range(repeats):
        optimizer.step()
    return (time.perf_counter() - start) / repeats * 1e3


def main() -> None:
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
    grads = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
    print(f"parameters: {sum(a.size for a in arrays):,}  torch threads: {torch.get_num_threads()}")
    print(f"{'optimizer':10s} {'graphgrad':>10s} {'torch':>10s} {'foreach':>10s} {'ratio':>7s}")
    for name, kwargs in CONFIGS:
        ours = [ag.tensor(a, requires_grad=True) for a in arrays]
        for p, g in zip(ours, grads):
            p.grad = ag.tensor(g)
        ours_ms = time_steps(getattr(optim, name)(ours, **kwargs))
        results = []
        for foreach in (False, True):
            theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
            for p, g in zip(theirs, grads):
                p.grad = torch.tensor(g)
            results.append(time_steps(getattr(torch.optim, name)(theirs, foreach=foreach, **kwargs)))
        best = min(results)
        print(
            f"{name:10s} {ours_ms:8.2f}ms {results[0]:8.2f}ms {results[1]:8.2f}ms "
            f"{ours_ms / best:6.2f}x"
        )


if __name__ == "__main__":
    main()
