"""nn.utils: gradient clipping and parameter vectors against torch.nn.utils."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn.utils as utils

from parity import import_torch

torch = import_torch()

SHAPES = [(3, 4), (5,), (2, 1, 3)]


def make_pair(dtype=np.float64, scale=1.0, with_none=False):
    rng = np.random.default_rng(7)
    grads = [rng.normal(scale=scale, size=s).astype(dtype) for s in SHAPES]
    ours = [ag.zeros(*s, dtype=dtype, requires_grad=True) for s in SHAPES]
    theirs = [
        torch.zeros(*s, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
        for s in SHAPES
    ]
    for i, (p, q, g) in enumerate(zip(ours, theirs, grads)):
        if with_none and i == 1:
            continue
        p.grad = ag.tensor(g.copy())
        q.grad = torch.from_numpy(g.copy())
    return ours, theirs


NORM_CASES = [
    (2.0, 1.0),
    (2.0, 100.0),  # no clipping: the coefficient is clamped to 1
    (1.0, 0.5),
    (3.0, 2.0),
    (float("inf"), 0.3),
    ("inf", 0.3),
    (0.5, 1.0),
]


@pytest.mark.parametrize(("norm_type", "max_norm"), NORM_CASES, ids=[str(c) for c in NORM_CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    ours, theirs = make_pair(dtype)
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, ag.Tensor) and total.shape == () and total.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(total.item(), expected.item(), rtol=tol)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.detach().numpy(), q.grad.numpy(), rtol=tol, atol=tol)


def test_clip_grad_norm_skips_missing_grads_and_accepts_a_single_tensor_and_generators():
    ours, theirs = make_pair(with_none=True)
    total = utils.clip_grad_norm_((p for p in ours), 0.5)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    assert ours[1].grad is None
    single = ag.tensor([3.0, 4.0], requires_grad=True)
    single.grad = ag.tensor([3.0, 4.0])
    assert utils.clip_grad_norm_(single, 1.0).item() == 5.0
    np.testing.assert_allclose(single.grad.detach().numpy(), np.array([3.0, 4.0]) / (5.0 + 1e-6))
    assert utils.clip_grad_norm_([ag.zeros(2, requires_grad=True)], 1.0).item() == 0.0


def test_clip_grad_norm_modifies_grads_in_place():
    p = ag.tensor([30.0, 40.0], requires_grad=True)
    (p * p).sum().backward()
    grad, version = p.grad, p.grad._version
    utils.clip_grad_norm_([p], 1.0)
    assert p.grad is grad and grad._version == version + 1


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_clip_grad_norm_nonfinite(bad):
    ours, theirs = make_pair()
    ours[0].grad.detach().numpy()[0, 0] = bad
    theirs[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    total = utils.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert math.isnan(total.item()) == math.isnan(expected.item())
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(np.isnan(p.grad.detach().numpy()), np.isnan(q.grad.numpy()))


def test_get_total_norm_and_clip_grads_with_norm_match_torch():
    ours, theirs = make_pair()
    total = utils.get_total_norm([p.grad for p in ours], 3.0)
    expected = torch.nn.utils.get_total_norm([q.grad for q in theirs], 3.0)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    utils.clip_grads_with_norm_(ours, 0.1, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.1, expected)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.detach().numpy(), q.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("clip_value", [0.1, 1.0, 5.0])
def test_clip_grad_value_matches_torch(clip_value):
    ours, theirs = make_pair(scale=2.0, with_none=True)
    assert utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_array_equal(p.grad.detach().numpy(), q.grad.numpy())


def test_parameters_to_vector_and_back_match_torch():
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=s) for s in SHAPES]
    ours = [ag.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    vec = utils.parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs)
    assert vec.shape == (sum(a.size for a in arrays),)
    np.testing.assert_array_equal(vec.detach().numpy(), expected.detach().numpy())
    # differentiable, as in PyTorch
    (vec * ag.arange(vec.shape[0], dtype=ag.float64)).sum().backward()
    np.testing.assert_array_equal(ours[1].grad.detach().numpy(), np.arange(12, 17, dtype=np.float64))

    new = rng.normal(size=vec.shape[0])
    versions = [p._version for p in ours]
    with ag.no_grad():
        utils.vector_to_parameters(ag.tensor(new), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    for p, q, v in zip(ours, theirs, versions):
        assert p._version > v and p.requires_grad and p.is_leaf
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_vector_to_parameters_errors():
    params = [ag.zeros(2), ag.zeros(3)]
    with pytest.raises(TypeError, match="expected a Tensor for vec"):
        utils.vector_to_parameters(np.zeros(5), params)
    with pytest.raises(RuntimeError, match=r"vec of shape \(4,\) does not match the parameters' 5"):
        utils.vector_to_parameters(ag.zeros(4), params)
