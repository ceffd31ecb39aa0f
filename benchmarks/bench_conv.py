"""CNN training-step benchmark: graphgrad vs PyTorch CPU vs a hand-written NumPy im2col.

Two networks, float32, one SGD step (forward, cross-entropy, backward, update) per call:

* ``issue``: input (64, 1, 28, 28); conv 1->16 3x3 pad 1, ReLU, max-pool 2; conv 16->32 3x3
  pad 1, ReLU, max-pool 2; flatten; linear 1568->10 (``cnn_f32`` of shared/bench).
* ``fashion``: input (128, 1, 28, 28); conv 1->32 3x3 pad 1, BatchNorm, ReLU, max-pool 2;
  conv 32->64 3x3 pad 1, BatchNorm, ReLU, max-pool 2; dropout 0.25; linear 3136->10 (the
  main job's CNN).

Each framework runs in its own worker process, pinned to ``--threads`` (default 1) BLAS and
intra-op threads; the driver alternates rounds between them (see ``_harness.py``) and prints
medians of wall and process CPU time per step, the ratios, and each worker's peak RSS. The
NumPy reference is the straightforward approach (im2col through ``sliding_window_view``,
``tensordot``, col2im with ``np.add.at``).

Run: ``python benchmarks/bench_conv.py [--rounds 15] [--net issue|fashion|both] [--threads 1]``
(``--threads default``: every library's own default, meaningful on an idle machine only;
``--profile``: cProfile graphgrad's step in its worker).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness  # noqa: E402

FRAMEWORKS = ("graphgrad", "torch", "numpy")
NETS = {
    "issue": dict(batch=64, channels=(16, 32), batch_norm=False, dropout=0.0),
    "fashion": dict(batch=128, channels=(32, 64), batch_norm=True, dropout=0.25),
}


def graphgrad_step(cfg: dict, x: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    import autograd as ag
    import nn
    import nn.functional as F
    import optim

    ag.manual_seed(0)
    c1, c2 = cfg["channels"]
    layers: list[Any] = [nn.Conv2d(1, c1, 3, padding=1)]
    layers += [nn.BatchNorm2d(c1)] if cfg["batch_norm"] else []
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(c1, c2, 3, padding=1)]
    layers += [nn.BatchNorm2d(c2)] if cfg["batch_norm"] else []
    layers += [nn.ReLU(), nn.MaxPool2d(2)]
    layers += [nn.Dropout(cfg["dropout"])] if cfg["dropout"] else []
    layers += [nn.Flatten(), nn.Linear(c2 * 49, 10)]
    model = nn.Sequential(*layers)
    opt = optim.SGD(model.parameters(), lr=0.01)
    inputs, targets = ag.tensor(x), ag.tensor(y)

    def step() -> float:
        opt.zero_grad()
        loss = F.cross_entropy(model(inputs), targets)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def torch_step(cfg: dict, x: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    import torch

    torch.manual_seed(0)
    tnn = torch.nn
    c1, c2 = cfg["channels"]
    layers: list[Any] = [tnn.Conv2d(1, c1, 3, padding=1)]
    layers += [tnn.BatchNorm2d(c1)] if cfg["batch_norm"] else []
    layers += [tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(c1, c2, 3, padding=1)]
    layers += [tnn.BatchNorm2d(c2)] if cfg["batch_norm"] else []
    layers += [tnn.ReLU(), tnn.MaxPool2d(2)]
    layers += [tnn.Dropout(cfg["dropout"])] if cfg["dropout"] else []
    layers += [tnn.Flatten(), tnn.Linear(c2 * 49, 10)]
    model = tnn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> float:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        opt.step()
        return loss.item()

    return step


class NumpyCNN:
    """The same network written directly in NumPy: the straightforward im2col baseline."""

    def __init__(self, cfg: dict, rng: np.random.Generator) -> None:
        c1, c2 = cfg["channels"]
        self.cfg = cfg
        self.rng = rng

        def uniform(shape: tuple, fan_in: int) -> np.ndarray:
            bound = 1 / np.sqrt(fan_in)
            return rng.uniform(-bound, bound, shape).astype(np.float32)

        self.params = {
            "w1": uniform((c1, 1, 3, 3), 9), "b1": uniform((c1,), 9),
            "w2": uniform((c2, c1, 3, 3), c1 * 9), "b2": uniform((c2,), c1 * 9),
            "w3": uniform((10, c2 * 49), c2 * 49), "b3": uniform((10,), c2 * 49),
        }  # fmt: skip
        if cfg["batch_norm"]:
            for i, c in ((1, c1), (2, c2)):
                self.params[f"g{i}"] = np.ones(c, np.float32)
                self.params[f"be{i}"] = np.zeros(c, np.float32)

    @staticmethod
    def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        cols = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))  # N,C,H,W,3,3
        out = np.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3]))  # N,H,W,O
        return out.transpose(0, 3, 1, 2) + b[None, :, None, None], cols

    @staticmethod
    def conv_backward(g: np.ndarray, cols: np.ndarray, w: np.ndarray, x_shape: tuple) -> tuple:
        gw = np.tensordot(g, cols, axes=([0, 2, 3], [0, 2, 3]))  # O,C,3,3
        gb = g.sum(axis=(0, 2, 3))
        dcols = np.tensordot(g, w, axes=([1], [0]))  # N,H,W,C,3,3
        n, c, h, width = x_shape
        gxp = np.zeros((n, c, h + 2, width + 2), dtype=g.dtype)
        rows = np.arange(h)[:, None, None, None] + np.arange(3)[None, None, :, None]
        columns = np.arange(width)[None, :, None, None] + np.arange(3)[None, None, None, :]
        np.add.at(
            gxp.transpose(0, 2, 3, 1),
            (slice(None), rows, columns),
            dcols.transpose(0, 1, 2, 4, 5, 3),
        )
        return gxp[:, :, 1:-1, 1:-1], gw, gb

    @staticmethod
    def bn_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> tuple:
        mean = x.mean(axis=(0, 2, 3), keepdims=True)
        var = x.var(axis=(0, 2, 3), keepdims=True)
        inv = 1 / np.sqrt(var + 1e-5)
        xhat = (x - mean) * inv
        return xhat * gamma[None, :, None, None] + beta[None, :, None, None], (xhat, inv)

    @staticmethod
    def bn_backward(g: np.ndarray, cache: tuple, gamma: np.ndarray) -> tuple:
        xhat, inv = cache
        gg = (g * xhat).sum(axis=(0, 2, 3))
        gb = g.sum(axis=(0, 2, 3))
        gx_hat = g * gamma[None, :, None, None]
        gx = inv * (gx_hat - gx_hat.mean(axis=(0, 2, 3), keepdims=True)
                    - xhat * (gx_hat * xhat).mean(axis=(0, 2, 3), keepdims=True))  # fmt: skip
        return gx, gg, gb

    @staticmethod
    def pool_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, c, h, w = x.shape
        windows = (
            x.reshape(n, c, h // 2, 2, w // 2, 2)
            .transpose(0, 1, 2, 4, 3, 5)
            .reshape(n, c, h // 2, w // 2, 4)
        )
        arg = windows.argmax(axis=-1)
        return np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0], arg

    @staticmethod
    def pool_backward(g: np.ndarray, arg: np.ndarray) -> np.ndarray:
        n, c, h, w = g.shape
        windows = np.zeros((n, c, h, w, 4), dtype=g.dtype)
        np.put_along_axis(windows, arg[..., None], g[..., None], axis=-1)
        return (
            windows.reshape(n, c, h, w, 2, 2)
            .transpose(0, 1, 2, 4, 3, 5)
            .reshape(n, c, 2 * h, 2 * w)
        )

    def step(self, x: np.ndarray, y: np.ndarray, lr: float = 0.01) -> float:
        p, bn = self.params, self.cfg["batch_norm"]
        caches = []
        h = x
        for i in (1, 2):
            out, cols = self.conv_forward(h, p[f"w{i}"], p[f"b{i}"])
            bn_cache = None
            if bn:
                out, bn_cache = self.bn_forward(out, p[f"g{i}"], p[f"be{i}"])
            relu_mask = out > 0
            pooled, arg = self.pool_forward(out * relu_mask)
            caches.append((h.shape, cols, bn_cache, relu_mask, arg))
            h = pooled
        keep = None
        if self.cfg["dropout"]:
            keep = (self.rng.random(h.shape) >= self.cfg["dropout"]).astype(np.float32) / (
                1 - self.cfg["dropout"]
            )
            h = h * keep
        flat = h.reshape(len(x), -1)
        logits = flat @ p["w3"].T + p["b3"]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(len(y)), y].mean()
        g = np.exp(log_probs)
        g[np.arange(len(y)), y] -= 1
        g /= len(y)
        grads = {"w3": g.T @ flat, "b3": g.sum(axis=0)}
        gh = (g @ p["w3"]).reshape(h.shape)
        if keep is not None:
            gh = gh * keep
        for i in (2, 1):
            x_shape, cols, bn_cache, relu_mask, arg = caches[i - 1]
            gh = self.pool_backward(gh, arg) * relu_mask
            if bn:
                gh, grads[f"g{i}"], grads[f"be{i}"] = self.bn_backward(gh, bn_cache, p[f"g{i}"])
            gh, grads[f"w{i}"], grads[f"b{i}"] = self.conv_backward(gh, cols, p[f"w{i}"], x_shape)
        for name, grad in grads.items():
            p[name] -= lr * grad.astype(np.float32)
        return float(loss)


def worker(framework: str, net: str, profile: bool) -> None:
    """One framework's worker: builds the step, warms up, then serves timed rounds."""
    _harness.setup_worker(framework)
    cfg = NETS[net]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((cfg["batch"], 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, cfg["batch"]).astype(np.int64)
    if framework == "graphgrad":
        step = graphgrad_step(cfg, x, y)
    elif framework == "torch":
        step = torch_step(cfg, x, y)
    else:
        reference = NumpyCNN(cfg, rng)
        step = lambda: reference.step(x, y)  # noqa: E731
    for _ in range(5):  # warm-up: lazy imports, compiled kernels, the allocator's working set
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
        for _ in range(20):
            step()
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(20)
        return {"text": text.getvalue()}

    _harness.serve({"steps": steps, "info": info, "profile": run_profile})


def run(net: str, rounds: int, threads: str, profile: bool) -> dict[str, float]:
    cfg = NETS[net]
    workers = _harness.start_workers(__file__, list(FRAMEWORKS), ["--net", net], threads)
    try:
        count = _harness.calibrate(workers["graphgrad"], 0.3)
        results = _harness.interleave(workers, rounds, "steps", count=count)
        infos = {name: w.ask("info") for name, w in workers.items()}
        profile_text = workers["graphgrad"].ask("profile")["text"] if profile else ""
    finally:
        for w in workers.values():
            w.close()
    summary = _harness.summarize(results, "graphgrad", "torch", scale=1000)
    numpy_summary = _harness.summarize(results, "graphgrad", "numpy", scale=1000)
    print(f"\n[{net}] batch {cfg['batch']}, channels {cfg['channels']}, batch norm "
          f"{cfg['batch_norm']}, dropout {cfg['dropout']}: ms per training step, medians of "
          f"{rounds} interleaved rounds of {count} steps, each framework in its own process")  # fmt: skip
    for name in FRAMEWORKS:
        print(f"  {name:10s} {summary[f'{name}_wall']:8.2f} ms wall {summary[f'{name}_cpu']:8.2f} ms "
              f"CPU   peak RSS {infos[name]['peak_rss_mb']:6.0f} MiB   ({infos[name]['threads']})")  # fmt: skip
    print(f"  graphgrad / torch: {summary['ratio_wall']:.2f}x wall, {summary['ratio_cpu']:.2f}x "
          f"CPU (median of per-round ratios: {summary['paired_ratio_wall']:.2f}x wall, "
          f"{summary['paired_ratio_cpu']:.2f}x CPU)")  # fmt: skip
    print(f"  graphgrad / numpy im2col: {numpy_summary['ratio_wall']:.2f}x wall, "
          f"{numpy_summary['ratio_cpu']:.2f}x CPU")  # fmt: skip
    if profile_text:
        print(profile_text)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--net", choices=["issue", "fashion", "both"], default="both")
    parser.add_argument("--threads", default="1", help="per framework: N or 'default'")
    parser.add_argument("--profile", action="store_true", help="cProfile graphgrad's step")
    parser.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.net, args.profile)
        return
    print(_harness.machine_line(args.threads))
    for net in ["issue", "fashion"] if args.net == "both" else [args.net]:
        run(net, args.rounds, args.threads, args.profile)
    print(_harness.machine_line(args.threads) + " (at the end)")


if __name__ == "__main__":
    main()
