"""Every op with a ``kinks=`` hint, exactly at its kinks and ties: a valid subgradient, and
PyTorch's choice among them (relu'(0) = 0, abs'(0) = 0, clamp passes at its bounds, max/min
ties split evenly in full reductions, pooling windows with equal values pick the first, ...).

The ordinary registry test draws inputs away from kinks (finite differences mean nothing
there), so without this test a wrong convention at a kink would never be seen.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn  # noqa: F401  (registers the nn ops)
from autograd.registry import REGISTRY
from autograd.testing import assert_gradients_close, kink_inputs

from parity import import_torch

torch = import_torch()


KINKED = [op for op in REGISTRY.values() if op.kinks is not None]

# Where PyTorch spells a call differently from the registered op (same math, same options).
TORCH_CALLS = {
    "clamp": lambda x, min=None, max=None: torch.clamp(x, min=min, max=max),
    "clamp_tensor": lambda x, min, max: torch.clamp(x, min, max),
    "max": lambda x, dim=None, keepdim=False: (
        torch.max(x) if dim is None else torch.max(x, dim=dim, keepdim=keepdim)
    ),
    "min": lambda x, dim=None, keepdim=False: (
        torch.min(x) if dim is None else torch.min(x, dim=dim, keepdim=keepdim)
    ),
    "amax": lambda x, dim=(), keepdim=False: torch.amax(x, dim=() if dim is None else dim, keepdim=keepdim),
    "amin": lambda x, dim=(), keepdim=False: torch.amin(x, dim=() if dim is None else dim, keepdim=keepdim),
    # torch.norm takes 'fro' over more than two dims as a matrix norm; the vector norm is meant.
    "norm": lambda x, p="fro", dim=None, keepdim=False, dtype=None: torch.linalg.vector_norm(
        x, 2 if p in ("fro", None) else p, dim, keepdim
    ),
    "norm2": lambda x, dim=None, keepdim=False: torch.linalg.vector_norm(x, 2, dim, keepdim),
    "norm_p": lambda x, p, dim=None, keepdim=False: torch.linalg.vector_norm(x, p, dim, keepdim),
}


def torch_call(op: Any) -> Any:
    if op.name in TORCH_CALLS:
        return TORCH_CALLS[op.name]
    for space in (torch, torch.nn.functional):
        function = getattr(space, op.name, None)
        if callable(function):
            return function
    raise LookupError(f"{op.name}: no PyTorch counterpart; add it to TORCH_CALLS")


def to_torch(value: Any) -> Any:
    if isinstance(value, ag.Tensor):
        return torch.tensor(value.detach().numpy().copy(), requires_grad=value.requires_grad)
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], ag.Tensor):
        return type(value)(to_torch(v) for v in value)
    return value


def test_the_ops_with_kinks_have_hints() -> None:
    names = {op.name for op in KINKED}
    expected = {
        "relu", "abs", "sign", "clamp", "clamp_tensor", "maximum", "minimum", "floor", "ceil",
        "round", "trunc", "amax", "amin", "max", "min", "norm", "norm2", "norm_p", "leaky_relu",
        "elu",
        "selu", "celu", "hardtanh", "relu6", "prelu", "hardsigmoid", "hardswish", "threshold",
        "max_pool1d", "max_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "l1_loss",
        "smooth_l1_loss", "sort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode",
    }  # fmt: skip
    assert expected <= names, sorted(expected - names)


@pytest.mark.parametrize("op", KINKED, ids=str)
@settings(deadline=None)
@given(data=st.data())
def test_gradients_at_kinks_are_valid_subgradients(op, data) -> None:
    args, kwargs = data.draw(kink_inputs(op), label="inputs on kinks")
    assert_gradients_close(op, args, kwargs)  # kink-aware: between the one-sided slopes


@pytest.mark.parametrize("op", KINKED, ids=str)
@settings(deadline=None)
@given(data=st.data())
def test_gradients_at_kinks_follow_pytorch(op, data) -> None:
    args, kwargs = data.draw(kink_inputs(op), label="inputs on kinks")
    theirs_args = [to_torch(a) for a in args]
    theirs_kwargs = {k: to_torch(v) for k, v in kwargs.items()}
    ours = op(*args, **kwargs)
    theirs = torch_call(op)(*theirs_args, **theirs_kwargs)
    ours = ours[0] if isinstance(ours, tuple) else ours
    theirs = theirs[0] if isinstance(theirs, tuple) else theirs
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy(), atol=1e-12, err_msg=op.name
    )
    upstream = data.draw(
        st.lists(st.floats(-2, 2), min_size=ours.numel(), max_size=ours.numel()), label="upstream"
    )
    upstream = np.asarray(upstream, dtype=np.float64).reshape(ours.shape)
    (ours * ag.tensor(upstream)).sum().backward()
    (theirs * torch.tensor(upstream)).sum().backward()
    flat_ours = [t for a in args for t in (a if isinstance(a, list) else [a])]
    flat_theirs = [t for a in theirs_args for t in (a if isinstance(a, list) else [a])]
    for k, (a, t) in enumerate(zip(flat_ours, flat_theirs)):
        if not (isinstance(a, ag.Tensor) and a.requires_grad):
            continue
        expected = np.zeros(a.shape) if t.grad is None else t.grad.numpy()
        actual = np.zeros(a.shape) if a.grad is None else a.grad.numpy()
        np.testing.assert_allclose(
            actual, expected, atol=1e-12, err_msg=f"{op.name}: gradient of input {k} at {a.detach().numpy()!r}"
        )
