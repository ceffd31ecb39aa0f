"""Graph nodes are named as PyTorch names them, so ``grad_fn`` walks read like PyTorch's.

Common losses and layers are one node each; the table compares ``grad_fn.type_name()`` with
``type(t.grad_fn).__name__`` (without PyTorch's trailing overload number). Where PyTorch 2
records several nodes and graphgrad fuses them into one, the row says so and pins both names.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

from parity import copy_weights, import_torch

torch = import_torch()
TF = torch.nn.functional

RNG = np.random.default_rng(11)
X = RNG.standard_normal((4, 3))
PROBABILITIES = RNG.uniform(0.05, 0.95, (4, 3))
LABELS = np.array([0, 2, 1, 2])
WEIGHT = np.array([0.5, 1.0, 2.0])
LINEAR_WEIGHT = RNG.standard_normal((2, 3))


def _torch_name(node) -> str:
    return re.sub(r"\d+$", "", type(node).__name__)


def _run(lib, builder):
    """The builder's output in ``lib`` (ag or torch), from the shared arrays."""
    tensor = (lambda a, g=False: ag.tensor(a, requires_grad=g)) if lib is ag else \
        (lambda a, g=False: torch.tensor(a, requires_grad=g))  # fmt: skip
    functional = F if lib is ag else TF
    x = tensor(X, True)
    return builder(functional, x, tensor)


# name, builder(F, x, tensor), and where graphgrad fuses deliberately: (ours, PyTorch 2's name)
NAMES = [
    ("mse_loss", lambda F, x, t: F.mse_loss(x, t(PROBABILITIES)), None),
    ("mse_loss_none", lambda F, x, t: F.mse_loss(x, t(PROBABILITIES), reduction="none"), None),
    ("smooth_l1_loss", lambda F, x, t: F.smooth_l1_loss(x, t(PROBABILITIES), beta=0.5), None),
    ("huber_loss", lambda F, x, t: F.huber_loss(x, t(PROBABILITIES), delta=0.5), None),
    ("nll_loss", lambda F, x, t: F.nll_loss(x, t(LABELS)), None),
    ("nll_loss_weighted", lambda F, x, t: F.nll_loss(x, t(LABELS), weight=t(WEIGHT), reduction="sum"), None),
    ("cross_entropy", lambda F, x, t: F.cross_entropy(x, t(LABELS)), None),
    ("cross_entropy_weighted_ignore", lambda F, x, t: F.cross_entropy(x, t(LABELS), weight=t(WEIGHT), ignore_index=2), None),
    ("cross_entropy_none", lambda F, x, t: F.cross_entropy(x, t(LABELS), reduction="none"), None),
    ("cross_entropy_probabilities", lambda F, x, t: F.cross_entropy(x, t(PROBABILITIES)), None),
    ("binary_cross_entropy", lambda F, x, t: F.binary_cross_entropy(x.sigmoid(), t(PROBABILITIES)), None),
    ("binary_cross_entropy_with_logits", lambda F, x, t: F.binary_cross_entropy_with_logits(x, t(PROBABILITIES)), None),
    ("bce_with_logits_pos_weight", lambda F, x, t: F.binary_cross_entropy_with_logits(x, t(PROBABILITIES), weight=t(WEIGHT), pos_weight=t(WEIGHT)), None),
    ("softmax", lambda F, x, t: F.softmax(x, dim=1), None),
    ("log_softmax", lambda F, x, t: F.log_softmax(x, dim=0), None),
    ("linear", lambda F, x, t: F.linear(x, t(LINEAR_WEIGHT), t(np.zeros(2))), None),
    ("linear_no_bias", lambda F, x, t: F.linear(x, t(LINEAR_WEIGHT)), None),
    # One node here; PyTorch 2 decomposes these (PyTorch 1 had L1LossBackward, KlDivBackward).
    ("l1_loss", lambda F, x, t: F.l1_loss(x, t(PROBABILITIES)), ("L1LossBackward", "MeanBackward")),
    ("kl_div", lambda F, x, t: F.kl_div(x, t(PROBABILITIES), reduction="batchmean"), ("KlDivBackward", "DivBackward")),
    # Label smoothing: PyTorch adds a second, composite term; here it is part of the one node.
    ("cross_entropy_smoothed", lambda F, x, t: F.cross_entropy(x, t(LABELS), label_smoothing=0.1), ("NllLossBackward", "AddBackward")),
]  # fmt: skip


@pytest.mark.parametrize("name, builder, fused", NAMES, ids=[row[0] for row in NAMES])
def test_node_names_match_pytorch(name, builder, fused):
    ours, theirs = _run(ag, builder), _run(torch, builder)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-9)
    if fused is None:
        assert ours.grad_fn.type_name() == _torch_name(theirs.grad_fn)
    else:
        assert (ours.grad_fn.type_name(), _torch_name(theirs.grad_fn)) == fused
    # PyTorch's spelling: grad_fn.name() is a method giving the node type's name.
    assert ours.grad_fn.name() == ours.grad_fn.type_name()
    assert re.sub(r"\d+$", "", theirs.grad_fn.name()) == _torch_name(theirs.grad_fn)


class _Double(ag.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_grad_fn_name_is_a_method_as_in_pytorch_and_op_name_the_registered_op():
    ours, theirs = _run(ag, lambda F, x, t: (x * 3).sum()), _run(torch, lambda F, x, t: (x * 3).sum())
    assert ours.grad_fn.name() == re.sub(r"\d+$", "", theirs.grad_fn.name()) == "SumBackward"
    mul = ours.grad_fn.next_functions[0][0]
    assert (mul.name(), mul.op_name) == ("MulBackward", "mul")
    custom = _Double.apply(ag.tensor([1.0], requires_grad=True))
    # torch.autograd.Function gives "_DoubleBackward" too (its class name + "Backward").
    assert (custom.grad_fn.name(), custom.grad_fn.op_name) == ("_DoubleBackward", "_Double")


def _ours_walk(edge):
    """``(name, children)`` of a node reached through ``next_functions`` (leaves: "leaf")."""
    node = edge[0] if isinstance(edge, tuple) else edge
    if node is None:
        return None
    if node.name() == "AccumulateGrad":
        return "leaf"
    return (node.type_name(), [_ours_walk(e) for e in node.next_functions])


def _torch_walk(edge):
    node = edge[0] if isinstance(edge, tuple) else edge
    if node is None:
        return None
    name = _torch_name(node)
    if name == "AccumulateGrad":
        return "leaf"
    if name == "TBackward" and _torch_name(node.next_functions[0][0]) == "AccumulateGrad":
        # PyTorch transposes a linear layer's weight in a node; graphgrad's addmm takes the
        # (out, in) weight itself, so the edge goes straight to the parameter.
        return "leaf"
    return (name, [_torch_walk(e) for e in node.next_functions])


def _without(walk, fused: str):
    """The walk with every ``fused`` node replaced by its only child."""
    if not isinstance(walk, tuple):
        return walk
    name, children = walk
    children = [_without(c, fused) for c in children]
    if name == fused:
        (child,) = children
        return child
    return (name, children)


def _mlp_pair():
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6),
                                 torch.nn.Tanh(), torch.nn.Linear(6, 3, bias=False))  # fmt: skip
    ours = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 6), nn.Tanh(),
                         nn.Linear(6, 3, bias=False))  # fmt: skip
    copy_weights(ours, theirs)
    x = RNG.standard_normal((4, 5))
    return ours(ag.tensor(x, dtype=ag.float32)), theirs(torch.tensor(x, dtype=torch.float32))


@pytest.mark.parametrize("loss", ["mse", "bce_with_logits", "smooth_l1", "nll_of_log_softmax"])
def test_mlp_and_loss_walk_like_pytorch(loss):
    (ours, theirs), target = _mlp_pair(), RNG.uniform(0, 1, (4, 3)).astype(np.float32)
    losses = {
        "mse": lambda F, y, t: F.mse_loss(y, t(target)),
        "bce_with_logits": lambda F, y, t: F.binary_cross_entropy_with_logits(y, t(target)),
        "smooth_l1": lambda F, y, t: F.smooth_l1_loss(y, t(target)),
        "nll_of_log_softmax": lambda F, y, t: F.nll_loss(F.log_softmax(y, dim=1), t(LABELS)),
    }
    ours_loss = losses[loss](F, ours, ag.tensor)
    theirs_loss = losses[loss](TF, theirs, torch.tensor)
    assert _ours_walk(ours_loss.grad_fn) == _torch_walk(theirs_loss.grad_fn)
    # The tutorial's first steps: the loss, then the last layer (or the log-softmax before it).
    step = ours_loss.grad_fn.next_functions[0][0]
    assert step.type_name() == ("LogSoftmaxBackward" if loss == "nll_of_log_softmax" else "MmBackward")


def test_cross_entropy_walk_is_pytorchs_with_log_softmax_fused_into_the_loss_node():
    ours, theirs = _mlp_pair()
    ours_loss = F.cross_entropy(ours, ag.tensor(LABELS))
    theirs_loss = TF.cross_entropy(theirs, torch.tensor(LABELS))
    theirs_walk = _torch_walk(theirs_loss.grad_fn)
    assert theirs_walk[0] == "NllLossBackward" and theirs_walk[1][0][0] == "LogSoftmaxBackward"
    assert _ours_walk(ours_loss.grad_fn) == _without(theirs_walk, "LogSoftmaxBackward")
    first = ("AddmmBackward", ["leaf", None, "leaf"])  # bias, input (no grad), weight
    second = ("AddmmBackward", ["leaf", ("ReluBackward", [first]), "leaf"])
    last = ("MmBackward", [("TanhBackward", [second]), "leaf"])
    expected = ("NllLossBackward", [last])
    assert _ours_walk(ours_loss.grad_fn) == expected


def test_repr_names_the_node():
    loss = F.mse_loss(ag.randn(3, requires_grad=True), ag.zeros(3))
    assert "grad_fn=<MseLossBackward>" in repr(loss)
    assert repr(loss.grad_fn) == "<MseLossBackward>"


def test_leaves_in_next_functions_are_accumulate_grad_nodes_as_in_pytorch():
    ours_w = ag.tensor([2.0, 3.0], requires_grad=True)
    theirs_w = torch.tensor([2.0, 3.0], requires_grad=True)
    ours_leaf, ours_slot = (ours_w * 3).sum().grad_fn.next_functions[0][0].next_functions[0]
    theirs_leaf, theirs_slot = (theirs_w * 3).sum().grad_fn.next_functions[0][0].next_functions[0]
    assert ours_leaf.name() == _torch_name(theirs_leaf) == "AccumulateGrad"
    assert theirs_leaf.name().endswith("::AccumulateGrad")  # torch::autograd::AccumulateGrad
    assert (ours_slot, theirs_slot) == (0, 0)
    assert ours_leaf.variable is ours_w and theirs_leaf.variable is theirs_w
    assert ours_leaf.next_functions == theirs_leaf.next_functions == ()
    # A constant operand (no gradient) is (None, 0) in both.
    assert (ours_w * 3).grad_fn.next_functions[1] == (None, 0)
    assert (theirs_w * 3).grad_fn.next_functions[1] == (None, 0)
