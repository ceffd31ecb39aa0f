"""LSTM benchmark: graphgrad vs PyTorch CPU, forward + backward of one LSTM layer.

Batch 32, sequence 64, input 64, hidden 128, float32, the same weights in both; each iteration
runs the LSTM, sums its output and back-propagates into the input and all weights. Timings are
medians over interleaved rounds, so background load affects both alike; both wall-clock and
process CPU time are reported.

Both libraries run on ``--threads`` BLAS/intra-op threads (default 1). A single thread is the
fair and the fast setting here: the per-step GEMMs are small, and OpenBLAS's thread pool makes
them many times slower on a loaded machine. ``OPENBLAS_NUM_THREADS`` must be set before NumPy
is imported, which is why this script sets it first.

Run: ``python benchmarks/bench_lstm.py [--rounds 20] [--threads 1] [--profile]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--profile", action="store_true", help="cProfile graphgrad's step")
    return parser.parse_args()


ARGS = _parse()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import autograd as ag  # noqa: E402
import nn  # noqa: E402


def graphgrad_step(x: np.ndarray, state: dict) -> Callable[[], None]:
    model = nn.LSTM(ARGS.input, ARGS.hidden)
    model.load_state_dict(state)
    inputs = ag.tensor(x, requires_grad=True)

    def step() -> None:
        model.zero_grad()
        inputs.grad = None
        output, _ = model(inputs)
        output.sum().backward()

    return step


def torch_step(x: np.ndarray) -> tuple[Callable[[], None], dict]:
    import torch

    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(0)
    model = torch.nn.LSTM(ARGS.input, ARGS.hidden)
    inputs = torch.tensor(x, requires_grad=True)

    def step() -> None:
        model.zero_grad()
        inputs.grad = None
        output, _ = model(inputs)
        output.sum().backward()

    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return step, state


def timed(step: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    x = (
        np.random.default_rng(0)
        .standard_normal((ARGS.seq, ARGS.batch, ARGS.input))
        .astype(np.float32)
    )
    try:
        run_torch, state = torch_step(x)
    except ImportError:
        sys.exit("bench_lstm.py compares against PyTorch: pip install torch")
    run_ours = graphgrad_step(x, state)
    for _ in range(3):  # warm up caches and BLAS buffers
        run_ours()
        run_torch()
    times: dict[str, list[tuple[float, float]]] = {"graphgrad": [], "pytorch": []}
    for _ in range(ARGS.rounds):
        times["graphgrad"].append(timed(run_ours))
        times["pytorch"].append(timed(run_torch))
    print(f"LSTM forward + backward: batch {ARGS.batch}, sequence {ARGS.seq}, input {ARGS.input}, "
          f"hidden {ARGS.hidden}, float32, {ARGS.threads} thread(s), median of {ARGS.rounds}")  # fmt: skip
    medians = {}
    for name, values in times.items():
        wall = statistics.median(v[0] for v in values) * 1e3
        cpu = statistics.median(v[1] for v in values) * 1e3
        medians[name] = (wall, cpu)
        print(f"  {name:10s} {wall:8.1f} ms wall  {cpu:8.1f} ms CPU")
    ratio_wall = medians["graphgrad"][0] / medians["pytorch"][0]
    ratio_cpu = medians["graphgrad"][1] / medians["pytorch"][1]
    print(
        f"  ratio graphgrad / pytorch: {ratio_wall:.2f}x wall, {ratio_cpu:.2f}x CPU (target <= 2x)"
    )
    if ARGS.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(5):
            run_ours()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
