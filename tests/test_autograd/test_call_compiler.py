"""The generated common call of a primitive does what the general dispatcher does."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd.dispatch import call_primitive
from autograd.registry import REGISTRY
from autograd.tracing import TRACE


def _node_record(t: ag.Tensor) -> tuple:
    node = t.grad_fn
    if node is None:
        return (None,)
    edges = tuple(e if e is None or isinstance(e, int) else id(e) for e in node._edges)
    return (node.type_name(), edges, node._meta, len(node.saved), node.module_path)


CASES = [
    ("mul", lambda x, y: (x, y)),
    ("mul", lambda x, y: (x, 0.5)),
    ("sub", lambda x, y: (2, y)),
    ("div", lambda x, y: (x, y)),
    ("tanh", lambda x, y: (x,)),
    ("relu", lambda x, y: (x,)),
    ("exp", lambda x, y: (y,)),
]


@pytest.mark.parametrize("name, make_args", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_generated_call_gives_the_general_paths_value_node_and_gradient(name, make_args, dtype):
    spec = REGISTRY[name]
    x = ag.tensor(np.array([[0.5, -1.0, 2.0]], dtype=dtype), requires_grad=True)
    y = ag.tensor(np.array([1.5, 0.25, -3.0], dtype=dtype), requires_grad=True)
    args = make_args(x, y)
    ours = spec.call(spec, args, {})
    assert "common call" in spec.call.__code__.co_filename  # compiled on the first call
    general = call_primitive(spec, args, {})
    np.testing.assert_array_equal(ours.detach().numpy(), general.detach().numpy())
    assert ours.dtype == general.dtype == dtype
    assert _node_record(ours) == _node_record(general)
    for g_ours, g_general in zip(ag.grad(ours.sum(), (x, y), allow_unused=True),
                                 ag.grad(general.sum(), (x, y), allow_unused=True)):  # fmt: skip
        assert (g_ours is None) == (g_general is None)
        if g_ours is not None:
            np.testing.assert_array_equal(g_ours.numpy(), g_general.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_call_with_bound_options_gives_the_general_paths_value_node_and_gradient(dtype):
    import nn.functional as F  # registers cross_entropy, the op F.cross_entropy calls with bound options

    spec = REGISTRY["cross_entropy"]
    logits = ag.tensor(np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], dtype=dtype),
                       requires_grad=True)  # fmt: skip
    target = np.array([2, 0])
    options = {"target": target, "weight": None, "ignore_index": -100, "reduction": "mean",
               "label_smoothing": 0.0}  # fmt: skip
    ours = F.cross_entropy(logits, ag.tensor(target))
    assert "common call" in spec.call.__code__.co_filename  # its first call came with options
    general = call_primitive(spec, (logits,), {}, dict(options))
    np.testing.assert_array_equal(ours.detach().numpy(), general.detach().numpy())
    assert ours.dtype == general.dtype == dtype
    assert _node_record(ours) == _node_record(general)
    kept, expected = ours.grad_fn.options(), general.grad_fn.options()
    np.testing.assert_array_equal(kept.pop("target"), expected.pop("target"))
    assert kept == expected
    (g_ours,) = ag.grad(ours, logits)
    (g_general,) = ag.grad(general, logits)
    np.testing.assert_array_equal(g_ours.numpy(), g_general.numpy())
    # Keywords, and calls without bound options, still take the general path.
    assert F.cross_entropy(logits, ag.tensor(target), reduction="sum").item() == pytest.approx(
        2 * ours.item(), rel=1e-6)
    with pytest.raises((RuntimeError, IndexError, ValueError), match="cross_entropy"):
        F.cross_entropy(logits, ag.tensor([0, 7]))


def test_calls_off_the_common_path_go_to_the_general_dispatcher():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    # Mixed dtypes promote, an int tensor and a number stay ints, keywords bind.
    assert (x * ag.tensor([2, 3])).dtype == ag.float32
    assert (ag.tensor([1, 2]) * 2).dtype == ag.int64
    assert ag.add(x, x, alpha=2).tolist() == [3.0, 6.0]
    assert (x * np.float64(2.0)).tolist() == [2.0, 4.0]


def test_an_error_in_the_forward_is_the_general_paths_translated_error():
    with pytest.raises(RuntimeError, match=r"add: shapes \(2, 3\) and \(4,\) are not broadcastable"):
        ag.ones(2, 3) + ag.ones(4)


def test_anomaly_mode_and_graph_tools_take_the_general_path():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    x * 2  # compile mul's common call first
    with ag.detect_anomaly():
        y = x * 2
    assert y.grad_fn.trace is not None  # the creation trace only the general path records
    seen = []
    previous = TRACE.call_observer
    TRACE.call_observer = lambda spec, inputs, options, out: seen.append(spec.name)
    try:
        assert TRACE.forward_watched
        x * 3
    finally:
        TRACE.call_observer = previous
    assert seen == ["mul"] and not TRACE.forward_watched


def test_no_node_without_grad_mode_or_for_integer_results():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.no_grad():
        assert (x * 2).grad_fn is None
    assert (x > 1).grad_fn is None  # a bool result is not differentiable
    assert (x * 2).grad_fn is not None
