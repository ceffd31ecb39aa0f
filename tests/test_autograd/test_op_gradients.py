"""The registry-driven property tests: every differentiable op against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn  # noqa: F401  (registers the nn ops: linear, batch_norm, embedding, pad, ...)
from autograd.registry import REGISTRY
from autograd.testing import assert_gradients_close, op_inputs

DIFFERENTIABLE = [op for op in REGISTRY.values() if op.differentiable and op.untested is None]
SECOND_ORDER = [op for op in DIFFERENTIABLE if op.twice]


def test_registry_is_populated() -> None:
    names = {op.name for op in DIFFERENTIABLE}
    assert {"add", "mul", "exp", "sum", "matmul", "getitem", "softmax", "einsum"} <= names


def test_every_untested_op_says_why() -> None:
    for op in REGISTRY.values():
        assert op.untested is None or len(op.untested) > 10, f"{op}: untested without a reason"


@pytest.mark.parametrize("op", DIFFERENTIABLE, ids=str)
@settings(max_examples=10)
@given(data=st.data())
def test_array_and_tensor_interpreters_agree(op, data) -> None:
    # A rule runs on arrays in a plain backward and on Tensors under create_graph: the same
    # rule must give the same first derivatives both ways.
    args, kwargs = data.draw(op_inputs(op), label="inputs")
    leaves = [t for a in args for t in (a if isinstance(a, list) else [a])
              if isinstance(t, ag.Tensor) and t.requires_grad]
    out = op(*args, **kwargs)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.requires_grad]
    if not outs:
        return
    total = sum((o * o).sum() for o in outs)
    on_tensors = ag.grad(total, leaves, create_graph=True, allow_unused=True)
    on_arrays = ag.grad(total, leaves, allow_unused=True)
    for a, b in zip(on_arrays, on_tensors):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("op", DIFFERENTIABLE, ids=str)
@given(data=st.data())
def test_gradient_matches_finite_differences(op, data) -> None:
    args, kwargs = data.draw(op_inputs(op), label="inputs")
    assert_gradients_close(op, args, kwargs)


@pytest.mark.parametrize("op", SECOND_ORDER, ids=str)
@settings(max_examples=10)
@given(data=st.data())
def test_second_order_gradient(op, data) -> None:
    args, kwargs = data.draw(op_inputs(op), label="inputs")
    assert_gradients_close(op, args, kwargs, order=2)


@pytest.mark.parametrize("op", DIFFERENTIABLE, ids=str)
@given(data=st.data())
def test_float32_inputs_give_float32_gradients(op, data) -> None:
    args, kwargs = data.draw(op_inputs(op), label="inputs")

    def cast(a):
        if isinstance(a, ag.Tensor) and a.dtype == ag.float64:
            return a.detach().float().requires_grad_(True)
        if isinstance(a, list):
            return [cast(t) for t in a]
        return a

    args = [cast(a) for a in args]
    out = op(*args, **kwargs)
    outs = out if isinstance(out, tuple) else (out,)
    outs = [o for o in outs if o.requires_grad]
    for o in outs:
        assert o.dtype == ag.float32, f"{op}: float32 inputs gave a {o.dtype} output"
    if outs:
        sum(o.sum() for o in outs).backward()
    leaves = [t for a in args for t in (a if isinstance(a, list) else [a]) if isinstance(t, ag.Tensor) and t.requires_grad]
    for t in leaves:
        if t.grad is not None:
            assert t.grad.dtype == ag.float32 and t.grad.shape == t.shape
