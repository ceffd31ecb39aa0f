"""Backward, step by step: micrograd's neuron replayed in the engine's own order.

Writes, into ``--out`` (default ``runs/replay``):

- ``replay_neuron.html``: the whole replay, one offline page (inline SVG frames, a slider,
  the arrow keys);
- ``replay_frame.png``: one frame (the README picture): the running node in orange, the
  gradients it just sent on its edges, the leaves' ``.grad`` filling in;
- ``replay_neuron.gif``: the frames as an animation (needs Pillow).

Run: ``.venv/bin/python examples/replay_neuron.py --out docs/images`` (needs Graphviz's ``dot``).
"""

from __future__ import annotations

import argparse
import pathlib

import autograd as ag


def neuron() -> tuple[ag.Tensor, dict[str, ag.Tensor]]:
    """``o = tanh(x1 w1 + x2 w2 + b)`` with micrograd's numbers."""
    x1 = ag.tensor(2.0, requires_grad=True)
    x2 = ag.tensor(0.0, requires_grad=True)
    w1 = ag.tensor(-3.0, requires_grad=True)
    w2 = ag.tensor(1.0, requires_grad=True)
    b = ag.tensor(6.8813735870195432, requires_grad=True)
    with ag.viz.record(values=True):  # intermediate values for the labels
        x1w1 = x1 * w1
        x2w2 = x2 * w2
        n = x1w1 + x2w2 + b
        o = n.tanh()
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "x1w1": x1w1, "x2w2": x2w2,
               "n": n, "o": o}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/replay", help="output folder")
    parser.add_argument("--step", type=int, default=3, help="the frame to write as PNG (0-based)")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    o, names = neuron()
    replay = ag.viz.replay(o, params=names)
    print(replay)
    replay.save(out / "replay_neuron.html")
    ag.viz.save(replay.draw(args.step), out / "replay_frame.png")
    try:
        replay.save(out / "replay_neuron.gif")
    except ImportError as error:
        print(error)
    print(f"wrote {out / 'replay_neuron.html'}, {out / 'replay_frame.png'}")


if __name__ == "__main__":
    main()
