"""LSTM benchmark: graphgrad vs PyTorch CPU, forward + backward of one LSTM layer.

Batch 32, sequence 64, input 64, hidden 128, float32, the same weights in both; each call runs
the LSTM, sums its output and back-propagates into the input and all weights.

Each framework runs in its own worker process, pinned to ``--threads`` (default 1) BLAS and
intra-op threads; the driver alternates rounds between them (see ``_harness.py``) and prints
medians of wall and process CPU time, and the ratios. One thread is the fair and the fast
setting here: the per-step GEMMs are small, and a thread pool makes them many times slower on
a loaded machine.

Run: ``python benchmarks/bench_lstm.py [--rounds 15] [--threads 1] [--profile]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness  # noqa: E402

FRAMEWORKS = ("graphgrad", "torch")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", default="1", help="per framework: N or 'default'")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--profile", action="store_true", help="cProfile graphgrad's step")
    parser.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    return parser


def _weights(args: argparse.Namespace) -> dict[str, np.ndarray]:
    """PyTorch's LSTM initialisation, U(-1/sqrt(H), 1/sqrt(H)), from a fixed seed."""
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(args.hidden)
    shapes = {"weight_ih_l0": (4 * args.hidden, args.input),
              "weight_hh_l0": (4 * args.hidden, args.hidden),
              "bias_ih_l0": (4 * args.hidden,), "bias_hh_l0": (4 * args.hidden,)}  # fmt: skip
    return {k: rng.uniform(-bound, bound, s).astype(np.float32) for k, s in shapes.items()}


def graphgrad_step(x: np.ndarray, args: argparse.Namespace) -> Callable[[], None]:
    import autograd as ag
    import nn

    model = nn.LSTM(args.input, args.hidden)
    model.load_state_dict({k: ag.tensor(v) for k, v in _weights(args).items()})
    inputs = ag.tensor(x, requires_grad=True)

    def step() -> None:
        model.zero_grad()
        inputs.grad = None
        output, _ = model(inputs)
        output.sum().backward()

    return step


def torch_step(x: np.ndarray, args: argparse.Namespace) -> Callable[[], None]:
    import torch

    model = torch.nn.LSTM(args.input, args.hidden)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in _weights(args).items()})
    inputs = torch.tensor(x, requires_grad=True)

    def step() -> None:
        model.zero_grad()
        inputs.grad = None
        output, _ = model(inputs)
        output.sum().backward()

    return step


def worker(framework: str, args: argparse.Namespace) -> None:
    _harness.setup_worker(framework)
    x = np.random.default_rng(1).standard_normal((args.seq, args.batch, args.input))
    x = x.astype(np.float32)
    step = graphgrad_step(x, args) if framework == "graphgrad" else torch_step(x, args)
    for _ in range(3):
        step()

    def steps(count: int) -> dict:
        answer = _harness.timed(lambda: [step() for _ in range(count)])
        return {"wall": answer["wall"] / count, "cpu": answer["cpu"] / count}

    def info() -> dict:
        return {"threads": _harness.thread_report(framework), "peak_rss_mb": _harness.peak_rss_mb()}

    def run_profile() -> dict:
        import cProfile
        import io
        import pstats
        import time

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(10):
            step()
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(15)
        return {"text": text.getvalue()}

    _harness.serve({"steps": steps, "info": info, "profile": run_profile})


def main() -> None:
    args = _parser().parse_args()
    if args.worker:
        worker(args.worker, args)
        return
    print(_harness.machine_line(args.threads))
    passed = [f"--{k}={getattr(args, k)}" for k in ("batch", "seq", "input", "hidden")]
    workers = _harness.start_workers(__file__, list(FRAMEWORKS), passed, args.threads)
    try:
        count = _harness.calibrate(workers["graphgrad"], 0.3)
        results = _harness.interleave(workers, args.rounds, "steps", count=count)
        infos = {name: w.ask("info") for name, w in workers.items()}
        profile = workers["graphgrad"].ask("profile")["text"] if args.profile else ""
    finally:
        for w in workers.values():
            w.close()
    s = _harness.summarize(results, "graphgrad", "torch", scale=1000)
    print(f"LSTM forward + backward: batch {args.batch}, sequence {args.seq}, input {args.input}, "
          f"hidden {args.hidden}, float32; medians of {args.rounds} interleaved rounds of {count} "
          "calls, each framework in its own process")  # fmt: skip
    for name in FRAMEWORKS:
        print(f"  {name:10s} {s[f'{name}_wall']:8.2f} ms wall {s[f'{name}_cpu']:8.2f} ms CPU   "
              f"({infos[name]['threads']})")  # fmt: skip
    print(f"  graphgrad / torch: {s['ratio_wall']:.2f}x wall, {s['ratio_cpu']:.2f}x CPU (median "
          f"of per-round ratios: {s['paired_ratio_wall']:.2f}x wall, "
          f"{s['paired_ratio_cpu']:.2f}x CPU; target <= 1.5x)")  # fmt: skip
    print(_harness.machine_line(args.threads) + " (at the end)")
    if profile:
        print(profile)


if __name__ == "__main__":
    main()
