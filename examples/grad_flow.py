"""Where does the gradient die? A deep sigmoid MLP next to the same MLP with ReLU and batch norm.

Renders, into ``--out`` (default ``runs/viz``):

- ``grad_flow.svg/.png``: both networks in one picture, one node per layer (``collapse=1``),
  coloured by the gradient norm that reached each layer's parameters (the README image);
- ``sigmoid_graph.svg`` and ``relu_bn_graph.svg``: every op of each network, gradient-coloured;
- ``sigmoid_grad_flow.png`` and ``relu_bn_grad_flow.png``: per-parameter mean/max |grad| bars;
- ``relu_bn_module.svg``: the module tree with parameter and output shapes.

Run: ``.venv/bin/python examples/grad_flow.py --out docs/images`` (needs Graphviz's ``dot``
for SVG/PNG, and matplotlib for the bar charts).
"""

from __future__ import annotations

import argparse
import pathlib

import autograd as ag
import nn


class SigmoidNet(nn.Sequential):
    """``depth`` hidden layers of Linear + Sigmoid: the textbook vanishing-gradient network."""

    def __init__(self, depth: int, width: int = 32) -> None:
        layers: list[nn.Module] = [nn.Linear(16, width)]
        for _ in range(depth):
            layers += [nn.Sigmoid(), nn.Linear(width, width)]
        super().__init__(*layers, nn.Linear(width, 1))


class ReluBNNet(nn.Sequential):
    """The same depth with BatchNorm + ReLU (Linear layers before a norm need no bias)."""

    def __init__(self, depth: int, width: int = 32) -> None:
        layers: list[nn.Module] = [nn.Linear(16, width, bias=False)]
        for _ in range(depth):
            layers += [nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, width, bias=False)]
        super().__init__(*layers, nn.Linear(width, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/viz", help="output folder")
    parser.add_argument("--depth", type=int, default=8, help="hidden layers per network")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    ag.manual_seed(0)
    x, target = ag.randn(64, 16), ag.randn(64, 1)
    losses = {}
    for name, model in (("sigmoid", SigmoidNet(args.depth)), ("relu_bn", ReluBNNet(args.depth))):
        # record() keeps a gradient summary per node; backward still frees the saved arrays.
        with ag.viz.record():
            loss = (model(x) - target).pow(2).mean()
            loss.backward()
        losses[name] = loss
        ag.viz.save(ag.viz.draw_graph(loss, grad_flow=True), out / f"{name}_graph.svg")
        ag.viz.plot_grad_flow(model, title=f"Gradient flow: {name}").savefig(
            out / f"{name}_grad_flow.png", dpi=90
        )
        first = next(iter(model.named_parameters()))
        print(f"{name:8s} |grad| of {first[0]}: {float(first[1].grad.abs().mean()):.2e}")
        if name == "relu_bn":
            ag.viz.save(ag.viz.draw_module(model, x), out / f"{name}_module.svg")

    both = ag.viz.draw_graph(
        [losses["sigmoid"], losses["relu_bn"]],
        grad_flow=True,
        collapse=1,
        show_intermediates=False,
        title="Gradient norm reaching each layer: sigmoid MLP (left) vs ReLU + BatchNorm (right)",
    )
    print("wrote", ag.viz.save(both, out / "grad_flow.svg"))
    small = both.copy()
    small.graph_attr["dpi"] = "60"  # a PNG small enough to commit for the README
    print("wrote", ag.viz.save(small, out / "grad_flow.png"))


if __name__ == "__main__":
    main()
