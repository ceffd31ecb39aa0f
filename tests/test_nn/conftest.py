"""Shared helpers for the nn tests: a PyTorch parity check for modules with copied weights."""

from __future__ import annotations

import numpy as np
import pytest


def _flat(value):
    """The tensors of a (possibly nested) module output, in order."""
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flat(item)]
    return [value] if value is not None and hasattr(value, "shape") else []


def check_module_parity(builder, inputs, *, training=True, forward=None, perturb=True,
                        rtol=1e-7, atol=1e-9, dtype="float64", seed=0):
    """Run ``builder(torch.nn)`` and ``builder(nn)`` with the same weights and inputs.

    Compares every output, the gradients of the floating inputs and of every parameter, and
    the state dicts afterwards. ``forward(module, *inputs)`` overrides ``module(*inputs)``.
    Returns ``(ours, theirs, outputs_ours, outputs_theirs)`` for extra checks.
    """
    torch = pytest.importorskip("torch")
    import autograd as ag
    import nn

    rng = np.random.default_rng(seed)
    theirs = builder(torch.nn)
    ours = builder(nn)
    if dtype == "float64":
        theirs.double()
        ours.double()
    if perturb:
        with torch.no_grad():
            for tensor in theirs.state_dict().values():
                if tensor.dtype.is_floating_point:
                    tensor.add_(torch.from_numpy(rng.uniform(-0.2, 0.2, tuple(tensor.shape))).to(tensor.dtype))
    ours.load_state_dict(theirs.state_dict())
    theirs.train(training)
    ours.train(training)
    xs_t, xs_o = [], []
    for x in inputs:
        if isinstance(x, np.ndarray):
            floating = x.dtype.kind == "f"
            xs_t.append(torch.tensor(x, requires_grad=floating))
            xs_o.append(ag.tensor(x, requires_grad=floating))
        else:
            xs_t.append(x)
            xs_o.append(x)
    call = forward or (lambda module, *args: module(*args))
    out_t, out_o = call(theirs, *xs_t), call(ours, *xs_o)
    flat_t, flat_o = _flat(out_t), _flat(out_o)
    assert len(flat_t) == len(flat_o), (len(flat_t), len(flat_o))
    total_t = total_o = None
    for k, (a, b) in enumerate(zip(flat_t, flat_o)):
        assert tuple(b.shape) == tuple(a.shape), f"output {k}: {tuple(b.shape)} vs {tuple(a.shape)}"
        assert b.dtype == ag.tensor(a.detach().numpy()).dtype, f"output {k}: {b.dtype} vs {a.dtype}"
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"output {k}")
        if a.requires_grad:
            upstream = rng.standard_normal(tuple(a.shape))
            term_t = (a * torch.from_numpy(upstream).to(a.dtype)).sum()
            term_o = (b * ag.tensor(upstream).to(b.dtype)).sum()
            total_t = term_t if total_t is None else total_t + term_t
            total_o = term_o if total_o is None else total_o + term_o
    if total_t is not None:
        total_t.backward()
        total_o.backward()
        for k, (a, b) in enumerate(zip(xs_t, xs_o)):
            if isinstance(a, torch.Tensor) and a.requires_grad:
                assert (a.grad is None) == (b.grad is None), f"input {k} gradient presence"
                if a.grad is not None:
                    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=rtol * 10,
                                               atol=atol * 10, err_msg=f"input {k} gradient")
        grads_t = {n: p.grad for n, p in theirs.named_parameters()}
        for name, p in ours.named_parameters():
            if grads_t[name] is None:
                assert p.grad is None or not np.any(p.grad.numpy()), name
                continue
            assert p.grad is not None, f"{name}: no gradient"
            np.testing.assert_allclose(p.grad.numpy(), grads_t[name].numpy(), rtol=rtol * 10,
                                       atol=atol * 10, err_msg=f"gradient of {name}")
    state_t = theirs.state_dict()
    state_o = ours.state_dict()
    assert list(state_o) == list(state_t)
    for name, value in state_o.items():
        np.testing.assert_allclose(value.numpy(), state_t[name].numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)
    return ours, theirs, out_o, out_t


@pytest.fixture
def module_parity():
    """``check_module_parity`` as a fixture (test files are not importable from each other)."""
    return check_module_parity
