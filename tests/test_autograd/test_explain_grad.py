"""ag.explain_grad: each reason a gradient is None, zero or vanishing is named (op, line, share)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import autograd as ag
import nn

record = ag.viz.record
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


def explain(tensor, output, **names):
    return ag.explain_grad(tensor, output, params=names or None)


def test_no_path_at_all():
    x = ag.randn(3, requires_grad=True)
    w = ag.randn(3, requires_grad=True)
    result = explain(x, (w * 2).sum(), x=x)
    assert result.verdict == "none" and result.reasons[0].kind == "no-path"
    assert str(result).startswith("No path from x to output: x is not used to compute output")


def test_detach_cut_is_named_with_its_line():
    w = ag.randn(3, requires_grad=True)
    v = ag.randn(3, requires_grad=True)
    with record(cuts=True):
        frozen = w.detach() * 2
        loss = (frozen * v).sum()
    result = explain(w, loss, w=w)
    assert result.verdict == "none" and result.reasons[0].kind == "cut"
    text = str(result)
    assert "No path from w to output: the path is cut. w goes through detach() at " in text
    assert "test_explain_grad.py" in text and "(frozen = w.detach() * 2)" in text
    assert "reaches mul at test_explain_grad.py" in text and "(loss = (frozen * v).sum())" in text


def test_detach_without_recording_is_found_through_saved_arrays():
    w = ag.randn(3, requires_grad=True)
    v = ag.randn(3, requires_grad=True)
    loss = (w.detach() * v).sum()  # mul saves both inputs: one is w's own array
    text = str(explain(w, loss, w=w))
    assert "the path is cut" in text and "uses the same array as 'x'" in text
    assert "detach() or .data" in text


def test_no_grad_cut():
    w = ag.randn(3, requires_grad=True)
    v = ag.randn(3, requires_grad=True)
    with record(cuts=True):
        with ag.no_grad():
            h = w * 3
        loss = (h.exp() + v).sum()
    text = str(explain(w, loss, w=w))
    assert "w goes through mul under no_grad() at" in text and "(h = w * 3)" in text
    assert "reaches add at" in text


def test_dot_data_cut():
    w = ag.randn(3, requires_grad=True)
    v = ag.randn(3, requires_grad=True)
    with record(cuts=True):
        loss = (v * w.data).sum()
    text = str(explain(w, loss, w=w))
    assert "w goes through .data at" in text and "(the raw array, outside the graph)" in text
    assert "(loss = (v * w.data).sum())" in text


def test_integer_cast_and_integer_valued_ops():
    w = ag.tensor([0.5, 1.5, 2.5], requires_grad=True)
    v = ag.randn(3, requires_grad=True)
    with record(cuts=True):
        rounded = w.long()
        loss = (v * rounded).sum()
    assert "w goes through a cast to int64 at" in str(explain(w, loss, w=w))
    with record(cuts=True):
        best = w.argmax()
        loss = (v * best).sum()
    assert "w goes through argmax at" in str(explain(w, loss, w=w))
    assert "an integer-valued op with no gradient" in str(explain(w, loss, w=w))
    with record(cuts=True):
        mask = w > 1.0
        loss = (v * mask).sum()
    assert "w goes through gt at" in str(explain(w, loss, w=w))
    count = (w > 1.0).sum()  # the output itself is integer-valued
    result = explain(w, count, w=w)
    assert result.verdict == "none" and "output has dtype int64" in str(result)


def test_non_leaf_without_retain_grad():
    x = ag.randn(4, 3, requires_grad=True)
    layer = nn.Linear(3, 2)
    hidden = layer(x)
    loss = hidden.tanh().sum()
    result = explain(hidden, loss, hidden=hidden)
    assert result.verdict == "none" and result.reasons[0].kind == "non-leaf"
    text = str(result)
    assert "hidden.grad will be None even though its gradient exists (norm " in text
    assert "made by linear in Linear" in text and "hidden.retain_grad()" in text
    expected = 1 - np.tanh(hidden.data) ** 2
    np.testing.assert_allclose(result.gradient, expected, rtol=1e-6)
    hidden.retain_grad()
    assert explain(hidden, loss, hidden=hidden).verdict == "ok"


def test_leaf_with_requires_grad_false():
    x = ag.randn(3)
    w = ag.randn(3, requires_grad=True)
    loss = (x * w).sum()
    result = explain(x, loss, x=x)
    assert result.verdict == "none" and result.reasons[0].kind == "leaf-no-grad"
    assert "x is a leaf with requires_grad=False" in str(result)
    assert "mul uses the same array as 'x'" in str(result)  # where it was used


def test_dead_relus():
    ag.manual_seed(0)
    layer = nn.Linear(4, 8)
    with ag.no_grad():
        layer.bias.fill_(-100.0)  # every unit dead
    x = ag.randn(16, 4, requires_grad=True)
    loss = layer(x).relu().sum()
    result = explain(layer.weight, loss)
    assert result.verdict == "zero"
    assert str(result).startswith(
        "The gradient of output with respect to weight is zero everywhere: dead ReLUs: relu "
        "outputs 0 for 100% of its inputs"
    )
    np.testing.assert_array_equal(result.gradient, 0)


def test_partly_dead_relus_in_a_fine_gradient():
    x = ag.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    result = explain(x, (x.relu() * 3).sum(), x=x)
    assert result.verdict == "ok"
    text = str(result)
    assert "is fine (norm 4.243" in text and "50% of its elements are 0" in text
    assert "dead ReLUs: relu outputs 0 for 50% of its inputs" in text


def test_saturated_sigmoid_and_tanh():
    x = ag.tensor([30.0, -40.0, 50.0], requires_grad=True)
    for op in ("sigmoid", "tanh"):
        result = explain(x, getattr(x, op)().sum(), x=x)
        assert result.verdict == "zero", op
        assert f"a saturated {op}: 100% of its outputs are within a hair of" in str(result)
        assert "100% exactly 0 in float32" in str(result)


def test_clamp_outside_its_range():
    x = ag.tensor([3.0, -5.0, 7.0], requires_grad=True)
    result = explain(x, x.clamp(-1.0, 1.0).sum(), x=x)
    assert result.verdict == "zero"
    assert "clamp to [-1.0, 1.0]: 100% of its inputs are outside the range" in str(result)
    y = ag.tensor([3.0, 0.5], requires_grad=True)
    assert "50% of its inputs are outside" in str(explain(y, y.clamp(max=1.0).sum(), y=y))


def test_max_sends_nothing_to_the_elements_it_did_not_pick():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([5.0, 6.0], requires_grad=True)
    result = explain(a, ag.cat([a, b]).amax(), a=a)
    assert result.verdict == "zero"
    assert str(result).startswith(
        "The gradient of output with respect to a is zero everywhere: amax passes the gradient "
        "only to the maximum it picked, so 75% of its input elements get 0"
    )
    x = ag.tensor([[1.0, 5.0, 5.0], [2.0, 0.0, 1.0]], requires_grad=True)
    result = explain(x, x.amax(dim=1).sum(), x=x)
    assert result.verdict == "ok"  # the tie splits: three of six elements get gradient
    text = str(result)
    assert "50% of its elements are 0" in text
    assert "1 of its slices have a tie (several equal maximums)" in text


def test_a_tie_in_a_full_reduction_is_named():
    x = ag.tensor([1.0, 3.0, 3.0], requires_grad=True)
    for output in (x.amax(), x.max(), x.amax(dim=None)):
        text = str(explain(x, output, x=x))
        assert text.endswith(
            "passes the gradient only to the maximum it picked, so 33% of its input elements "
            "get 0; its maximum is a tie (2 elements equal it): the gradient is split between "
            "them, or goes to one of them, never to the rest"
        ), text
    y = ag.tensor([[4.0, 0.0], [0.0, 2.0]], requires_grad=True)
    assert "its minimum is a tie (2 elements equal it)" in str(explain(y, y.amin(), y=y))


def test_max_along_a_dim_and_sort_are_named_as_called_not_as_gather():
    x = ag.tensor([[1.0, 3.0, 2.0], [0.0, 5.0, 4.0]], requires_grad=True)
    text = str(explain(x, x.max(dim=1).values.sum(), x=x))
    assert text.endswith(
        "  - max passes the gradient only to the maximum it picked, so 67% of its input "
        "elements get 0"
    ), text
    assert "gather" not in text
    low = str(explain(x, x.min(1, keepdim=True).values.sum(), x=x))
    assert "min passes the gradient only to the minimum it picked, so 67%" in low
    top = str(explain(x, x.topk(1, dim=1).values.sum(), x=x))
    assert "topk sends 0 for 67% of the elements of its input 0" in top
    # Only the composite's own node is renamed: a gather the user calls stays a gather.
    index = ag.tensor([[0], [1]])
    assert "gather sends 0" in str(explain(x, x.gather(1, index).sum(), x=x))


def test_vanishing_through_a_deep_sigmoid_network():
    ag.manual_seed(0)
    layers = [nn.Linear(8, 16)]
    for _ in range(12):
        layers += [nn.Sigmoid(), nn.Linear(16, 16)]
    model = nn.Sequential(*layers, nn.Linear(16, 1))
    loss = model(ag.randn(32, 8)).pow(2).mean()
    result = ag.explain_grad(model[0].weight, loss, params=model)
    assert result.verdict == "vanishing"
    text = str(result)
    assert text.startswith("The gradient of output with respect to 0.weight is vanishing: norm ")
    assert "sigmoid ×" in text and "over 12 ops" in text and "sigmoid' ≤ 0.25" in text
    last = ag.explain_grad(model[-1].weight, loss, params=model)
    assert last.verdict == "ok" and "is fine" in str(last)


def test_fine_gradient_says_so():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    result = explain(x, (x * x).sum(), x=x)
    assert result.verdict == "ok" and result.reasons[0].kind == "ok"
    assert str(result) == (
        "The gradient of output with respect to x is fine (norm 4.472, min 2.0, max 4.0)"
    )


def test_after_backward_it_reads_dot_grad_and_says_how_to_see_more():
    x = ag.tensor([-1.0, -2.0], requires_grad=True)
    loss = x.relu().sum()
    loss.backward()
    result = explain(x, loss, x=x)
    assert result.verdict == "zero" and "x.grad is zero everywhere" in str(result)
    assert "backward() already freed output's graph" in str(result)


def test_the_explanation_does_not_touch_dot_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * 3).sum()
    explain(x, loss, x=x)
    assert x.grad is None
    loss.backward()  # the graph is still there
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_bad_arguments():
    with pytest.raises(TypeError, match="tensor must be a Tensor"):
        ag.explain_grad(np.ones(2), ag.tensor(1.0))
    n = ag.tensor([1, 2])
    assert "dtype int64: only floating-point tensors" in str(explain(n, ag.tensor(1.0)))


def test_recording_restores_the_observer_and_methods():
    from autograd.tracing import TRACE

    before = (TRACE.call_observer, ag.Tensor.detach, ag.Tensor.__dict__["data"])
    with record(cuts=True):
        with record(cuts=True):
            pass
        assert TRACE.call_observer is not before[0]
    assert (TRACE.call_observer, ag.Tensor.detach, ag.Tensor.__dict__["data"]) == before


def test_draw_marks_the_path_and_the_cut():
    w = ag.randn(3, requires_grad=True)
    v = ag.randn(3, requires_grad=True)
    with record(cuts=True):
        loss = (w.detach() * v).sum()
    src = explain(w, loss, w=w).draw().source
    assert "✂ detach() at test_explain_grad.py" in src and 'color="#d62728"' in src
    x = ag.tensor([-1.0, 2.0], requires_grad=True)
    src = explain(x, (x.relu() * 2).sum(), x=x).draw().source
    assert "dead ReLUs" in src and 'penwidth="3"' in src


@needs_dot
def test_draw_renders(tmp_path):
    x = ag.tensor([-1.0, -2.0], requires_grad=True)
    path = ag.viz.save(explain(x, x.relu().sum(), x=x).draw(), tmp_path / "why.svg")
    assert "dead ReLUs" in path.read_text()
