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
            "└── sum → () float32",
            "└── sum (dim=1, keepdim=True) → (8, 1) float32",
            "└── pow → (8, 4) float32",
            # A linear layer's inputs in PyTorch's AddmmBackward order: bias, input, weight.
            "└── linear [2 · Linear] → (8, 4) float32",
            "    ├── 2.bias (4,) float32",
            "    ├── relu [1 · ReLU] → (8, 32) float32",
            "    │   └── linear [0 · Linear] → (8, 32) float32",
            "    │       ├── 0.bias (32,) float32",
            "    │       ├── constant (8, 16) float32",
            "    │       └── 0.weight (32, 16) float32",
            "    └── 2.weight (4, 32) float32",
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
            "    │   │   └── x (2,) float32",  # a chain continues on the same indentation
            "    │   └── (#2, above)",
            "    └── (#1, above)",
        ]
    )
    assert text.count("exp") == 1


def test_depth_limit():
    _, loss = mlp()
    text = ag.viz.text(loss, max_depth=5)
    assert text.splitlines()[-1] == "    └── …" and "relu" not in text.split("…")[0].split("\n")[-2]
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
            "└── x (2,) float32 ‖grad‖ 2.828",
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
    assert len(lines) == 20_001 and max(len(line) for line in lines) < 40
