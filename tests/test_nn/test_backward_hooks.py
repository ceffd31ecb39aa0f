"""Module full backward hooks and pre-hooks against PyTorch: order, arguments, replacement of
gradients, the no-input-grad case and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

from parity import assert_close, copy_weights, import_torch

torch = import_torch()

RNG = np.random.default_rng(3)


def _describe(grads):
    return [None if g is None else np.asarray(g.detach().numpy() if hasattr(g, "detach") else g) for g in grads]


def _store(table, key, value):
    """Record ``value`` under ``key`` (first call wins); returns None, as a hook must."""
    table.setdefault(key, value)


def _both(build):
    theirs = build(torch.nn)
    ours = copy_weights(build(nn), theirs)
    return ours, theirs


def _assert_same_calls(calls_o, calls_t):
    assert [c[0] for c in calls_o] == [c[0] for c in calls_t]
    for (name, *groups_o), (_, *groups_t) in zip(calls_o, calls_t):
        for group_o, group_t in zip(groups_o, groups_t):
            assert len(group_o) == len(group_t), name
            for a, b in zip(group_o, group_t):
                assert (a is None) == (b is None), name
                if a is not None:
                    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=name)


def _mlp(lib):
    return lib.Sequential(lib.Linear(3, 4), lib.Tanh(), lib.Linear(4, 2))


def test_hooks_fire_in_backward_order_with_pytorchs_arguments():
    ours, theirs = _both(_mlp)
    calls = {"o": [], "t": []}
    for key, model in (("o", ours), ("t", theirs)):
        for name, child in model.named_children():
            child.register_full_backward_pre_hook(
                lambda m, go, name=name, key=key: calls[key].append(("pre" + name, _describe(go))))
            child.register_full_backward_hook(
                lambda m, gi, go, name=name, key=key: calls[key].append((name, _describe(gi), _describe(go))))
        model.register_full_backward_hook(
            lambda m, gi, go, key=key: calls[key].append(("model", _describe(gi), _describe(go))))
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    ours(ag.tensor(x, requires_grad=True)).sum().backward()
    theirs(torch.tensor(x, requires_grad=True)).sum().backward()
    _assert_same_calls(calls["o"], calls["t"])
    assert calls["o"][0][0] == "pre2" and calls["o"][-1][0] == "model"


def test_a_hook_can_replace_grad_input():
    ours, theirs = _both(_mlp)
    results = []
    for model, tensor in ((ours, ag.tensor), (theirs, torch.tensor)):
        model[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
        x = tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
        model(x).sum().backward()
        results.append((x.grad, model[0].weight.grad))
    assert_close(results[0][0], results[1][0], rtol=1e-5)
    assert_close(results[0][1], results[1][1], rtol=1e-5)


def test_a_pre_hook_can_replace_grad_output():
    ours, theirs = _both(_mlp)
    for model in (ours, theirs):
        model[2].register_full_backward_pre_hook(lambda m, go: (go[0] * -2,))
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    ours(ag.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-6, msg=name)


def test_without_input_gradients_the_hook_fires_at_the_outputs():
    ours, theirs = _both(lambda lib: lib.Linear(3, 2))
    seen = {}
    for key, model in (("o", ours), ("t", theirs)):
        model.register_full_backward_hook(lambda m, gi, go, key=key: _store(seen, key, (gi, _describe(go))))
    x = np.ones((4, 3), dtype=np.float32)
    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are computed with respect to module outputs"):
        ours(ag.tensor(x)).sum().backward()
    with pytest.warns(UserWarning):
        theirs(torch.tensor(x)).sum().backward()
    assert seen["o"][0] == seen["t"][0] == (None,)
    assert_close(seen["o"][1][0], seen["t"][1][0])
    assert ours.weight.grad is not None
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (ag.ones(4, 3),))
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="no input requires gradient should always return None"):
        layer(ag.ones(4, 3)).sum().backward()


class TwoInTwoOut:
    @staticmethod
    def build(lib):
        class Net(lib.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.Linear(3, 2)
                self.b = lib.Linear(4, 2)

            def forward(self, x, scale, y, z):
                return self.a(x) * scale + self.b(y) + z.sum(), self.b(y).tanh()

        return Net()


def test_tuples_of_inputs_and_outputs_with_non_tensors_and_frozen_inputs():
    ours, theirs = _both(TwoInTwoOut.build)
    seen = {}
    for key, model in (("o", ours), ("t", theirs)):
        model.register_full_backward_pre_hook(lambda m, go, key=key: _store(seen, key + "pre", _describe(go)))
        model.register_full_backward_hook(lambda m, gi, go, key=key: _store(seen, key, (_describe(gi), _describe(go))))
    x, y, z = (RNG.standard_normal(s).astype(np.float32) for s in ((5, 3), (5, 4), (2,)))
    out_o = ours(ag.tensor(x, requires_grad=True), 2.0, ag.tensor(y, requires_grad=True), ag.tensor(z))
    out_t = theirs(torch.tensor(x, requires_grad=True), 2.0, torch.tensor(y, requires_grad=True), torch.tensor(z))
    (out_o[0].sum() + (out_o[1] * 3).sum()).backward()
    (out_t[0].sum() + (out_t[1] * 3).sum()).backward()
    grad_input_o, grad_output_o = seen["o"]
    grad_input_t, grad_output_t = seen["t"]
    assert [g is None for g in grad_input_o] == [g is None for g in grad_input_t] == [False, True, False, False]
    _assert_same_calls([("net", grad_input_o, grad_output_o, seen["opre"])],
                       [("net", grad_input_t, grad_output_t, seen["tpre"])])  # fmt: skip


def test_lstm_output_tuple_reports_the_output_gradient_only():
    ours, theirs = _both(lambda lib: lib.LSTM(3, 4))
    seen = {}
    for key, model in (("o", ours), ("t", theirs)):
        model.register_full_backward_hook(lambda m, gi, go, key=key: _store(seen, key, (_describe(gi), _describe(go))))
    x = RNG.standard_normal((6, 2, 3)).astype(np.float32)
    ours(ag.tensor(x, requires_grad=True))[0].sum().backward()
    theirs(torch.tensor(x, requires_grad=True))[0].sum().backward()
    assert [g is None for g in seen["o"][1]] == [g is None for g in seen["t"][1]] == [False, True]
    _assert_same_calls([("lstm", *seen["o"])], [("lstm", *seen["t"])])


def test_handles_remove_and_prepend_orders():
    layer = nn.Linear(2, 2)
    order = []
    first = layer.register_full_backward_hook(lambda m, gi, go: order.append("first"))
    layer.register_full_backward_hook(lambda m, gi, go: order.append("second"))
    layer.register_full_backward_hook(lambda m, gi, go: order.append("prepended"), prepend=True)
    pre = layer.register_full_backward_pre_hook(lambda m, go: order.append("pre"))
    layer(ag.ones(1, 2, requires_grad=True)).sum().backward()
    assert order == ["pre", "prepended", "first", "second"]
    first.remove()
    pre.remove()
    order.clear()
    layer(ag.ones(1, 2, requires_grad=True)).sum().backward()
    assert order == ["prepended", "second"]


def test_no_hook_runs_without_a_graph():
    layer = nn.Linear(2, 2)
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    with ag.no_grad():
        out = layer(ag.ones(1, 2, requires_grad=True))
    assert out.grad_fn is None and not calls


def test_wrong_number_of_gradients_returned():
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of grad_input, got 2, but expected 1"):
        layer(ag.ones(1, 2, requires_grad=True)).sum().backward()
    other = nn.Linear(2, 2)
    other.register_full_backward_pre_hook(lambda m, go: ())
    with pytest.raises(RuntimeError, match="Backward pre hook returned an invalid number of grad_output, got 0, but expected 1"):
        other(ag.ones(1, 2, requires_grad=True)).sum().backward()


def test_hooked_module_still_gives_exact_gradients_and_second_order():
    layer = nn.Linear(3, 1).double()
    layer.register_full_backward_hook(lambda m, gi, go: None)
    x = ag.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    (g,) = ag.grad((layer(x).tanh() ** 2).sum(), x, create_graph=True)
    assert g.grad_fn is not None
    g.sum().backward()
    assert layer.weight.grad is not None
