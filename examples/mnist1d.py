"""Train a GRU and a 1-D CNN on MNIST-1D, generated offline by the ``mnist1d`` package.

MNIST-1D (Greydanus & Kobak, 2020) turns the ten digits into 1-D templates of length 40,
randomly padded, translated, scaled, sheared and noised. ``mnist1d.data.make_dataset`` with the
package's default arguments builds the standard dataset (5,000 samples, seed 42: 4,000 train /
1,000 test) in a second, with no download. The paper reports GRU 91%, CNN 94%, MLP 68% test
accuracy.

    .venv/bin/pip install -e ".[seq]"          # or: .venv/bin/pip install mnist1d
    .venv/bin/python examples/mnist1d.py                 # both models
    .venv/bin/python examples/mnist1d.py --model gru --epochs 40
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Small GEMMs (one per time step) run fastest on one BLAS thread; OpenBLAS's thread pool can make
# them tens of times slower on a busy machine. Override with --threads N or the variable.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

# This file is itself called mnist1d.py: drop its folder from the path so that
# ``import mnist1d`` finds the package, and put the repository root first.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from autograd.data import DataLoader, TensorDataset  # noqa: E402


def load_mnist1d() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Generate the standard MNIST-1D split locally: (x_train, y_train, x_test, y_test)."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        sys.exit("examples/mnist1d.py needs the mnist1d package: .venv/bin/pip install mnist1d")
    data = make_dataset(get_dataset_args())  # default args: 5000 samples, seed 42, 80/20 split
    return (data["x"].astype(np.float32), data["y"].astype(np.int64),
            data["x_test"].astype(np.float32), data["y_test"].astype(np.int64))  # fmt: skip


class GRUClassifier(nn.Module):
    """A bidirectional GRU over the 40 samples; the two final states feed a linear classifier."""

    def __init__(self, hidden_size: int = 64, num_classes: int = 10) -> None:
        super().__init__()
        self.gru = nn.GRU(1, hidden_size, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        _, h_n = self.gru(x.unsqueeze(-1))  # (N, 40) -> (N, 40, 1)
        return self.head(ag.cat([h_n[0], h_n[1]], dim=1))


class CNN(nn.Module):
    """Four 1-D convolutions with batch norm (two of stride 2), dropout and a linear classifier."""

    def __init__(self, channels: int = 32, num_classes: int = 10) -> None:
        super().__init__()
        c = channels
        self.features = nn.Sequential(
            nn.Conv1d(1, c, 5, padding=2), nn.BatchNorm1d(c), nn.ReLU(),
            nn.Conv1d(c, c, 3, stride=2, padding=1), nn.BatchNorm1d(c), nn.ReLU(),
            nn.Conv1d(c, 2 * c, 3, padding=1), nn.BatchNorm1d(2 * c), nn.ReLU(),
            nn.Conv1d(2 * c, 2 * c, 3, stride=2, padding=1), nn.BatchNorm1d(2 * c), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(2 * c * 10, num_classes))

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return self.head(self.features(x.unsqueeze(1)))  # (N, 40) -> (N, 1, 40) -> (N, 10)


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Classification accuracy on ``(x, y)`` in evaluation mode."""
    model.eval()
    with ag.no_grad():
        logits = model(ag.tensor(x))
    model.train()
    return float((logits.numpy().argmax(1) == y).mean())


def train(name: str, model: nn.Module, data: tuple, epochs: int, lr: float, batch_size: int,
          weight_decay: float = 0.0) -> dict:  # fmt: skip
    """Train with AdamW and a cosine schedule; print progress; return the final numbers."""
    x_train, y_train, x_test, y_test = data
    loader = DataLoader(TensorDataset(ag.tensor(x_train), ag.tensor(y_train)),
                        batch_size=batch_size, shuffle=True)  # fmt: skip
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))
    params = sum(p.numel() for p in model.parameters())
    print(f"{name}: {params} parameters, {epochs} epochs of {len(loader)} batches")
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        total = 0.0
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(yb)
        if epoch % 5 == 0 or epoch == epochs:
            print(f"  epoch {epoch:3d}  train loss {total / len(x_train):.4f}  "
                  f"test acc {accuracy(model, x_test, y_test):.3f}  "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
    result = {
        "model": name,
        "test_accuracy": accuracy(model, x_test, y_test),
        "train_accuracy": accuracy(model, x_train, y_train),
        "seconds": time.perf_counter() - start,
    }
    print(f"{name}: test accuracy {result['test_accuracy']:.3f} (train "
          f"{result['train_accuracy']:.3f}) in {result['seconds']:.0f} s")  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["gru", "cnn", "all"], default="all")
    parser.add_argument("--epochs", type=int, default=None, help="default: gru 30, cnn 40")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: OPENBLAS_NUM_THREADS, set to 1 above)")  # fmt: skip
    args = parser.parse_args()
    threads, source = ag.threads.configure_threads(args.threads)
    print(f"BLAS threads: {threads} ({source})")
    data = load_mnist1d()
    print(f"MNIST-1D: {len(data[0])} train / {len(data[2])} test sequences of length "
          f"{data[0].shape[1]}")  # fmt: skip
    results = []
    if args.model in ("gru", "all"):
        ag.manual_seed(args.seed)
        results.append(train("GRU", GRUClassifier(), data, args.epochs or 30, 1e-2, 100))
    if args.model in ("cnn", "all"):
        ag.manual_seed(args.seed)
        results.append(train("CNN", CNN(), data, args.epochs or 40, 3e-3, 100, weight_decay=1e-2))
    for r in results:
        print(f"{r['model']}: {100 * r['test_accuracy']:.1f}% test accuracy, {r['seconds']:.0f} s")


if __name__ == "__main__":
    main()
