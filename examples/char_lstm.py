"""Train a character-level LSTM language model on Genesis 1-16 (King James Version) and sample.

The text (48 KB, public domain) ships in examples/data/genesis_kjv.txt; its header says where it
comes from. The last 10% is held out for validation. The script prints the training and
validation loss (nats per character) as they fall, saves the curve to runs/char_lstm_loss.png
and the numbers to runs/char_lstm_loss.csv, and ends by sampling text from the model.

    .venv/bin/python examples/char_lstm.py                    # about 600 steps
    .venv/bin/python examples/char_lstm.py --steps 200 --hidden 128
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

# One GEMM per time step of a small batch: one BLAS thread is fastest (see examples/mnist1d.py);
# --threads N overrides it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402

TEXT = Path(__file__).resolve().parent / "data" / "genesis_kjv.txt"


def load_text(path: Path = TEXT) -> str:
    """Return the text without its '#' header lines."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return "\n".join(line for line in lines if not line.startswith("#"))


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear over the vocabulary.

    Shape: ``(N, L)`` character ids -> ``(N, L, vocab)`` logits.
    """

    def __init__(self, vocab: int, embed: int = 48, hidden: int = 256, num_layers: int = 1) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids: ag.Tensor, state: tuple | None = None) -> tuple:
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


def batches(data: np.ndarray, batch_size: int, seq_len: int, rng: np.random.Generator) -> tuple:
    """Draw ``batch_size`` random windows: inputs and the next-character targets."""
    starts = rng.integers(0, len(data) - seq_len - 1, size=batch_size)
    windows = data[starts[:, None] + np.arange(seq_len + 1)]
    return ag.tensor(windows[:, :-1]), ag.tensor(windows[:, 1:])


def evaluate(model: CharLSTM, data: np.ndarray, seq_len: int) -> float:
    """Mean cross-entropy (nats per character) over consecutive windows of ``data``."""
    count = (len(data) - 1) // seq_len
    windows = data[: count * seq_len + 1]
    x = ag.tensor(windows[:-1].reshape(count, seq_len))
    y = ag.tensor(windows[1:].reshape(count, seq_len))
    model.eval()
    with ag.no_grad():
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    model.train()
    return loss.item()


def sample(model: CharLSTM, chars: list[str], prompt: str, length: int, temperature: float,
           rng: np.random.Generator) -> str:  # fmt: skip
    """Continue ``prompt`` one character at a time, carrying the LSTM state."""
    index = {c: i for i, c in enumerate(chars)}
    model.eval()
    out = list(prompt)
    with ag.no_grad():
        logits, state = model(ag.tensor([[index[c] for c in prompt]]))
        for _ in range(length):
            z = logits.numpy()[0, -1].astype(np.float64) / temperature
            p = np.exp(z - z.max())
            nxt = int(rng.choice(len(chars), p=p / p.sum()))
            out.append(chars[nxt])
            logits, state = model(ag.tensor([[nxt]]), state)
    model.train()
    return "".join(out)


def plot(history: list[tuple[int, float, float]], path: Path) -> None:
    """Save the loss curve (matplotlib, if installed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the plot")
        return
    steps, train, val = zip(*history)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, train, label="train (running mean)")
    ax.plot(steps, val, label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats / char)")
    ax.set_title("Character LSTM on Genesis 1-16 (KJV)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "runs")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: OPENBLAS_NUM_THREADS, set to 1 above)")  # fmt: skip
    args = parser.parse_args()
    threads, source = ag.threads.configure_threads(args.threads)
    print(f"BLAS threads: {threads} ({source})")

    ag.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    text = load_text()
    chars = sorted(set(text))
    data = np.array([chars.index(c) for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    model = CharLSTM(len(chars), hidden=args.hidden)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps, eta_min=args.lr / 10)
    print(f"{len(text)} characters ({len(chars)} distinct), {len(train_data)} for training; "
          f"{sum(p.numel() for p in model.parameters())} parameters; uniform loss "
          f"{math.log(len(chars)):.3f}")  # fmt: skip

    history: list[tuple[int, float, float]] = []
    running = None
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        x, y = batches(train_data, args.batch_size, args.seq_len, rng)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running = loss.item() if running is None else 0.9 * running + 0.1 * loss.item()
        if step == 1 or step % 50 == 0 or step == args.steps:
            val = evaluate(model, val_data, args.seq_len)
            history.append((step, running, val))
            print(f"step {step:4d}  train {running:.3f}  val {val:.3f}  "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip

    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "char_lstm_loss.csv", "w") as f:
        f.write("step,train_loss,val_loss\n")
        f.writelines(f"{s},{t:.4f},{v:.4f}\n" for s, t, v in history)
    plot(history, args.out / "char_lstm_loss.png")
    print(
        f"trained in {time.perf_counter() - start:.0f} s; loss curve in {args.out}/char_lstm_loss.png"
    )
    print("\n--- sample (temperature 0.8) ---")
    print(sample(model, chars, "And God said", 400, 0.8, rng))


if __name__ == "__main__":
    main()
