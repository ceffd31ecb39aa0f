"""ag.viz.text: the graph as a text tree (shared subgraphs once, depth limit, names, grads)."""

from __future__ import annotations

import sys

import pytest

import autograd as ag
import nn


def mlp():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    return model, model(ag.randn(8, 16)).pow(2).sum(dim=1, keepdim=True).mean()


def test_a_model_prints_ops_modules_shapes_and_parameter_names():
    _, loss = mlp()
    assert ag.viz.text(loss) == "\n".join(
        [
            "div → () float32",
            "└── sum → () float32",  # each op's inputs indented under it, only children too
            "    └── sum (dim=1, keepdim=True) → (8, 1) float32",
            "        └── pow → (8, 4) float32",
            # A linear layer's inputs in PyTorch's AddmmBackward order: bias, input, weight.
            "            └── linear [2 · Linear] → (8, 4) float32",
            "                ├── 2.bias (4,) float32",
            "                ├── relu [1 · ReLU] → (8, 32) float32",
            "                │   └── linear [0 · Linear] → (8, 32) float32",
            "                │       ├── 0.bias (32,) float32",
            "                │       ├── constant (8, 16) float32",
            "                │       └── 0.weight (32, 16) float32",
            "                └── 2.weight (4, 32) float32",
        ]
    )
    assert "[2 · Linear]" not in ag.viz.text(loss, show_modules=False)


def test_shared_subgraphs_are_printed_once_and_referenced():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    g = h.sin()
    out = (g * h + g).sum()
    text = ag.viz.text(out, {"x": x, "h": h})
    assert text == "\n".join(
        [
            "sum → () float32",
            "└── add → (2,) float32",
            "    ├── mul → (2,) float32",
            "    │   ├── sin → (2,) float32  #1",
            "    │   │   └── exp → h (2,) float32  #2",
            "    │   │       └── x (2,) float32",  # x is exp's input, not sin's
            "    │   └── (#2, above)",
            "    └── (#1, above)",
        ]
    )
    assert text.count("exp") == 1


def test_depth_limit():
    _, loss = mlp()
    text = ag.viz.text(loss, max_depth=5)
    assert text.splitlines()[-2:] == [
        "            └── linear [2 · Linear] → (8, 4) float32",
        "                └── …",
    ]
    assert "relu" not in ag.viz.text(loss, max_depth=4)
    with pytest.raises(ValueError, match="max_depth"):
        ag.viz.text(loss, max_depth=0)


def test_gradient_norms_recorded_or_computed_without_touching_grad():
    x = ag.tensor([3.0, 4.0], requires_grad=True)
    y = (x * 2.0).sum()
    text = ag.viz.text(y, {"x": x}, show_grads=True)
    assert "x (2,) float32 ‖grad‖ 2.828" in text and x.grad is None
    with ag.viz.record():
        z = (x * 2.0).sum()
        z.backward()
    text = ag.viz.text(z, {"x": x}, show_grads=True)
    assert text == "\n".join(
        [
            "sum → () float32 ‖grad‖ 1.0",
            "└── mul → (2,) float32 ‖grad‖ 1.414",
            "    └── x (2,) float32 ‖grad‖ 2.828",
        ]
    )


def test_multiple_outputs_and_leaves_as_roots():
    x = ag.randn(4, 3, requires_grad=True)
    parts = x.split(2, dim=0)
    text = ag.viz.text([parts[0].sum(), x], {"x": x})
    assert text.splitlines()[0] == "sum → () float32" and text.splitlines()[-1] == "x (4, 3) float32"


def test_a_long_chain_prints_without_recursion_or_drifting_right():
    x = ag.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        text = ag.viz.text(y)
    finally:
        sys.setrecursionlimit(limit)
    lines = text.splitlines()
    # Every 17 levels the chain continues at the left margin, with a line saying so.
    wraps = [line for line in lines if line.endswith("continues at the left margin")]
    assert len(wraps) == 20_000 // 17 and len(lines) == 20_001 + len(wraps)
    longest = 64 + len("└── ⤷ depth 19993 continues at the left margin")
    assert max(len(line) for line in lines) == longest
    assert lines[16:19] == [
        " " * 60 + "└── mul → () float32",
        " " * 64 + "└── ⤷ depth 18 continues at the left margin",
        "⤷ depth 18: mul → () float32",
    ]
    assert lines[19] == "└── mul → () float32"
    # The last restart is at depth 18 + 17 * 1175 = 19993; the input is 8 levels below it.
    assert lines[-1] == "    " * 7 + "└── input () float32"


def test_max_and_sort_show_the_op_called_not_the_gather_they_run():
    x = ag.tensor([[1.0, 3.0, 2.0], [0.0, 5.0, 4.0]], requires_grad=True)
    assert ag.viz.text(x.max(dim=1).values.sum(), {"x": x}) == "\n".join(
        [
            "sum → () float32",
            "└── reshape (shape=(2,)) → (2,) float32",
            "    └── max (dim=1) → (2, 1) float32",
            "        ├── x (2, 3) float32",
            "        └── constant (2, 1) int64",
        ]
    )
    assert "sort (dim=1) → (2, 3) float32" in ag.viz.text(ag.sort(x, dim=1).values.sum())
    assert "min (dim=0) → (1, 3) float32" in ag.viz.text(x.min(0, keepdim=True).values.sum())
    assert "gather" not in ag.viz.text(x.topk(2).values.sum())
    graph = ag.viz.draw_graph(x.max(dim=1).values.sum()).source
    assert "max" in graph and "gather" not in graph
