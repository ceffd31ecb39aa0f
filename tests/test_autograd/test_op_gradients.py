"""The registry-driven property tests: every differentiable op against finite differences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn  # noqa: F401  (registers the nn ops: linear, batch_norm, embedding, pad, ...)
from autograd.function import REGISTRY
from autograd.testing import assert_gradients_close, op_inputs

DIFFERENTIABLE = [op for op in REGISTRY.values() if op.differentiable and op.test]
SECOND_ORDER = [op for op in DIFFERENTIABLE if op.twice]


def test_registry_is_populated() -> None:
    names = {op.name for op in DIFFERENTIABLE}
    assert {"add", "mul", "exp", "sum", "matmul", "getitem", "softmax", "einsum"} <= names


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
