"""ag.viz.memory and draw_graph(show_saved=True): what backward keeps, in bytes, counted once."""

from __future__ import annotations

import numpy as np

import autograd as ag
import nn


def mlp_loss():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    x = ag.randn(8, 16)
    target = ag.randn(8, 4)
    return model, nn.functional.mse_loss(model(x), target)


def test_mlp_byte_counts_match_a_hand_count():
    model, loss = mlp_loss()
    report = ag.viz.memory(loss)
    entries = [(i.op, i.name, i.shape, i.nbytes) for i in report.items]
    # every entry is its array's nbytes: float32 is 4 bytes per element
    assert entries == [
        ("mse_loss", "input", (8, 4), 8 * 4 * 4),  # one node: the prediction ...
        ("mse_loss", "target", (8, 4), 8 * 4 * 4),  # ... and the target
        ("linear", "x", (8, 32), 8 * 32 * 4),  # the hidden activations
        ("linear", "weight", (4, 32), 4 * 32 * 4),
        ("relu", "out", (8, 32), 8 * 32 * 4),  # the same hidden activations
        ("linear", "x", (8, 16), 8 * 16 * 4),  # the input
        ("linear", "weight", (32, 16), 32 * 16 * 4),
    ]
    for item in report.items:
        assert item.nbytes == int(np.prod(item.shape, dtype=np.int64)) * item.dtype.itemsize
    assert [(i.op, i.name, i.shared) for i in report.items if i.shared] == [
        ("linear", "weight", "the array of 2.weight"),
        ("relu", "out", "same array as linear.x"),
        ("linear", "weight", "the array of 0.weight"),
    ]
    hand_total = 128 + 128 + 1024 + 512 + 512 + 2048  # each array once
    assert report.total == hand_total == 4352
    assert report.activations == hand_total - 512 - 2048  # not the weights' own arrays
    modules = report.by_module()
    assert modules["0 · Linear"] == 512 + 2048
    assert modules["1 · ReLU"] == 1024
    assert modules["2 · Linear"] == 1024 + 512  # the shared hidden array counts in both
    assert modules["Sequential"] == 512 + 2048 + 1024 + 512  # and once in their parent
    text = str(report)
    assert "total kept for backward: 4.25 KiB (4352 bytes" in text
    assert "freed" not in text.split("total")[0]


def test_after_backward_the_same_report_shows_everything_freed():
    model, loss = mlp_loss()
    report = ag.viz.memory(loss)
    loss.backward()
    assert all(item.freed for item in report.items)
    assert all(list(node.saved_items()) == [] for node in report.nodes)
    # What backward really frees: the target, the prediction and the hidden activations
    # (shared by relu and the second linear), not the weights' own arrays, which the model
    # keeps alive.
    assert report.freed == report.activations == 128 + 128 + 1024 + 512 == 1792
    assert report.total - report.freed == 512 + 2048
    text = str(report)
    assert (
        "backward has freed 1.75 KiB: all the activations and constants; the 2.50 KiB of "
        "parameters' and inputs' own arrays stay alive (their tensors hold them)"
    ) in text
    assert "everything" not in text
    assert text.count("freed") >= len(report.items)
    later = ag.viz.memory(loss)
    assert later.items == [] and "backward() already freed this graph" in str(later)


def test_retain_graph_keeps_it():
    model, loss = mlp_loss()
    report = ag.viz.memory(loss)
    loss.backward(retain_graph=True)
    assert report.freed == 0 and ag.viz.memory(loss).total == report.total


def test_views_of_other_arrays_are_marked_and_counted_once():
    x = ag.randn(4, 6, requires_grad=True)
    h = x.exp()  # exp saves its output
    flat = h.reshape(24)  # a view of that output
    loss = (flat * flat).sum()
    report = ag.viz.memory(loss, {"x": x})
    by_entry = {(i.op, i.name): i for i in report.items}
    assert by_entry[("exp", "out")].shared == ""  # it owns the memory
    assert by_entry[("mul", "x")].shared == "view of exp.out"  # mul saved the flat view
    assert by_entry[("mul", "y")].shared == "view of exp.out"
    assert [i.counted for i in report.items] == [True, False, False]
    assert report.total == 4 * 6 * 4  # one float32 array of 24 elements
    t = x.T  # a view of a leaf's array
    report = ag.viz.memory((t * 2.0 * t).sum(), {"x": x})
    assert [(i.name, i.shape, i.shared) for i in report.items] == [
        ("x", (6, 4), ""),  # t * 2.0, saved by the second mul
        ("y", (6, 4), "view of x"),
        ("x", (6, 4), "view of x"),  # the first mul: t and the 0-d 2.0
        ("y", (), ""),
    ]
    assert report.total == 96 + 96 + 4  # the product, x's array once, the constant
    assert report.activations == 100


def test_custom_functions_are_named_by_saved_tensors():
    class Scale(ag.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return grad * w, grad * x

    x = ag.randn(5, requires_grad=True)
    w = ag.randn(5, requires_grad=True)
    report = ag.viz.memory(Scale.apply(x, w).sum(), {"x": x, "w": w})
    assert [(i.op, i.name, i.nbytes, i.leaf) for i in report.items] == [
        ("Scale", "saved_tensors[0]", 20, "x"),
        ("Scale", "saved_tensors[1]", 20, "w"),
    ]
    assert report.activations == 0


def test_draw_graph_show_saved_lists_each_ops_arrays_and_the_total():
    model, loss = mlp_loss()
    src = ag.viz.draw_graph(loss, show_saved=True).source
    assert "saved for backward: 4.25 KiB (1.75 KiB freed by backward" in src
    assert "out (8, 32) float32 1.00 KiB (same array as linear.x)" in src
    assert "weight (32, 16) float32 2.00 KiB (the array of 0.weight)" in src
    assert "saved 2.50 KiB" in src  # the cluster of the first Linear
    assert "saves nothing" in ag.viz.draw_graph(loss.sum() * 2, show_saved=True).source  # mul
    loss.backward()
    after = ag.viz.draw_graph(loss, show_saved=True).source
    assert after.count("saved: freed by backward") == 4 and "saved for backward: freed" in after
    assert "saved for backward" not in ag.viz.draw_graph(loss).source
