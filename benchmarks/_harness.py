"""Side-by-side timing with each framework in its own process (shared by the benchmarks here).

Two frameworks timed in one process distort each other: OpenBLAS and OpenMP thread pools keep
spinning after a call, the allocator's state carries over, and whichever runs second looks
slower. So every benchmark script here is both a *driver* and a *worker*: the driver starts one
worker process per framework (``script --worker NAME ...``), pinned to the same thread count,
and asks them in turn to run a timed piece of work (a round), alternating which goes first, so
that other load on a shared machine hits all of them alike. Each round reports wall time and
the process's CPU time (all threads); the driver prints medians, and the median of the
per-round ratios (steadier than a ratio of medians when the load changes during the run).

Threads: ``--threads N`` sets ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS``
in each worker's environment before NumPy or torch is imported and calls
``torch.set_num_threads(N)``; ``--threads default`` removes those variables, leaving every
library its own default (meaningful only on an idle machine).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")  # fmt: skip


def worker_environment(threads: str) -> dict[str, str]:
    """The environment of a worker pinned to ``threads`` (``"default"``: the libraries' own)."""
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env.pop(name, None)
    if threads != "default":
        for name in THREAD_VARIABLES[:3]:
            env[name] = threads
    env["BENCH_THREADS"] = threads
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + env.get("PYTHONPATH", "").split(os.pathsep))
    return env


def setup_worker(framework: str) -> None:
    """In a worker: put the project first on ``sys.path``; pin torch's threads."""
    sys.path.insert(0, str(ROOT))
    if framework == "torch":
        import torch

        threads = os.environ.get("BENCH_THREADS", "1")
        if threads != "default":
            torch.set_num_threads(int(threads))
            torch.set_num_interop_threads(int(threads))


def thread_report(framework: str) -> str:
    """What the worker actually runs with (BLAS pools and torch's threads)."""
    parts = []
    try:
        from threadpoolctl import threadpool_info

        parts += [f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info()]
    except ImportError:
        pass
    if framework == "torch":
        import torch

        parts.append(f"torch={torch.get_num_threads()}")
    return ", ".join(parts) or "unknown"


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (ru_maxrss)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def current_rss_mb() -> float:
    """This process's resident set size now, in MiB (Linux; else the peak)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return peak_rss_mb()


def timed(work: Callable[[], Any]) -> dict[str, Any]:
    """Run ``work()`` and report its wall and CPU seconds (and what it returned)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "value": value}


def serve(handlers: dict[str, Callable[..., Any]]) -> None:
    """The worker loop: one JSON request per stdin line, one JSON answer per stdout line."""
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints must not break the protocol
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        if op == "quit":
            break
        answer = handlers[op](**request)
        out.write(json.dumps(answer) + "\n")
        out.flush()


class Worker:
    """A framework's worker process, driven by requests."""

    def __init__(self, script: str, framework: str, args: list[str], threads: str) -> None:
        self.framework = framework
        self.process = subprocess.Popen(
            [sys.executable, script, "--worker", framework, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=worker_environment(threads), cwd=str(ROOT),
        )  # fmt: skip
        self._read()

    def _read(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.framework} worker died (see its messages above)")
        return json.loads(line)

    def ask(self, op: str, **request: Any) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(dict(request, op=op)) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.flush()
            self.process.wait(timeout=60)


def start_workers(script: str, frameworks: list[str], args: list[str],
                  threads: str) -> dict[str, Worker]:  # fmt: skip
    return {name: Worker(script, name, args, threads) for name in frameworks}


def interleave(workers: dict[str, Worker], rounds: int, op: str, on_round: Callable | None = None,
               **request: Any) -> dict[str, list[dict]]:  # fmt: skip
    """``rounds`` rounds of ``op``, every worker once per round, the order alternating."""
    results: dict[str, list[dict]] = {name: [] for name in workers}
    names = list(workers)
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            results[name].append(workers[name].ask(op, **request))
        if on_round is not None:
            on_round(r, {name: results[name][-1] for name in names})
    return results


def summarize(results: dict[str, list[dict]], ours: str, reference: str,
              scale: float = 1.0) -> dict[str, float]:  # fmt: skip
    """Medians of wall and CPU time (times ``scale``) and the ratios ours / reference."""
    summary: dict[str, float] = {}
    for name, values in results.items():
        summary[f"{name}_wall"] = statistics.median(v["wall"] for v in values) * scale
        summary[f"{name}_cpu"] = statistics.median(v["cpu"] for v in values) * scale
    for kind in ("wall", "cpu"):
        summary[f"ratio_{kind}"] = summary[f"{ours}_{kind}"] / summary[f"{reference}_{kind}"]
        summary[f"paired_ratio_{kind}"] = statistics.median(
            a[kind] / b[kind] for a, b in zip(results[ours], results[reference])
        )
    return summary


def machine_line(threads: str) -> str:
    """Threads, CPUs and load: the setup every printed figure is labelled with."""
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    busy = "idle" if os.getloadavg()[0] < 0.5 else "loaded"
    return (f"threads per framework: {threads}; {os.cpu_count()} CPUs; load average {load} "
            f"({busy} machine)")  # fmt: skip


def calibrate(worker: Worker, target_s: float, op: str = "steps") -> int:
    """How many calls make one round last about ``target_s`` seconds."""
    answer = worker.ask(op, count=1)
    per_call = max(answer["wall"], 1e-6)
    return max(1, int(round(target_s / per_call)))
