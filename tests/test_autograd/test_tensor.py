"""Tensor construction, dtype rules, factories, attributes, repr and the NumPy bridge."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import autograd as ag


@pytest.mark.parametrize(
    "data, dtype",
    [
        (1.5, ag.float32),
        ([1.0, 2.0], ag.float32),
        ([[1, 2], [3, 4]], ag.int64),
        (3, ag.int64),
        (True, ag.bool),
        ([True, False], ag.bool),
        ([1, 2.5], ag.float32),
        (np.array([1.0, 2.0]), ag.float64),
        (np.array([1, 2], dtype=np.int32), ag.int32),
        (np.float64(2.0), ag.float64),
    ],
)
def test_dtype_rules_follow_pytorch(data, dtype) -> None:
    assert ag.tensor(data).dtype == dtype


def test_tensor_constructor_micrograd_style() -> None:
    t = ag.Tensor(3.0)
    assert t.shape == () and t.dtype == ag.float32 and t.item() == 3.0
    assert ag.Tensor([1.0, 2.0], requires_grad=True).requires_grad


def test_tensor_copies_its_data_but_from_numpy_shares() -> None:
    array = np.zeros(3)
    copied, shared = ag.tensor(array), ag.from_numpy(array)
    array[0] = 5
    assert copied[0].item() == 0 and shared[0].item() == 5


def test_explicit_dtype_and_conversions() -> None:
    t = ag.tensor([1, 2], dtype=ag.float64)
    assert t.dtype == ag.float64
    assert t.float().dtype == ag.float32 and t.long().dtype == ag.int64
    assert t.double().dtype == ag.float64 and t.to(ag.int32).dtype == ag.int32
    assert t.astype("float32").dtype == ag.float32 and t.to("cpu") is t


@pytest.mark.parametrize(
    "factory, args, shape",
    [
        (ag.zeros, (2, 3), (2, 3)),
        (ag.zeros, ((2, 3),), (2, 3)),
        (ag.ones, (4,), (4,)),
        (ag.empty, (1, 2), (1, 2)),
        (ag.rand, (2, 2), (2, 2)),
        (ag.randn, ((3,),), (3,)),
        (ag.eye, (3,), (3, 3)),
    ],
)
def test_factories_shapes_and_default_dtype(factory, args, shape) -> None:
    t = factory(*args)
    assert t.shape == shape and t.dtype == ag.float32


def test_other_factories() -> None:
    assert ag.full((2, 2), 7).dtype == ag.int64
    assert ag.full((2,), 1.5).tolist() == [1.5, 1.5]
    assert ag.arange(5).tolist() == [0, 1, 2, 3, 4] and ag.arange(5).dtype == ag.int64
    assert ag.arange(0, 1, 0.5).dtype == ag.float32
    assert ag.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    base = ag.ones(2, 3, dtype=ag.float64)
    for like in (ag.zeros_like, ag.ones_like, ag.rand_like, ag.randn_like):
        out = like(base)
        assert out.shape == (2, 3) and out.dtype == ag.float64
    assert ag.full_like(base, 2.0).tolist() == [[2.0] * 3] * 2
    r = ag.randint(0, 5, (100,))
    assert r.dtype == ag.int64 and 0 <= r.min().item() and r.max().item() < 5
    assert ag.zeros(2, requires_grad=True).requires_grad


def test_manual_seed_makes_draws_reproducible() -> None:
    ag.manual_seed(123)
    a = (ag.rand(3), ag.randn(2), ag.randint(0, 10, (4,)), ag.empty(3).uniform_(-1, 1))
    ag.manual_seed(123)
    b = (ag.rand(3), ag.randn(2), ag.randint(0, 10, (4,)), ag.empty(3).uniform_(-1, 1))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    ag.manual_seed(124)
    assert not np.array_equal(ag.rand(3).numpy(), a[0].numpy())


def test_attributes() -> None:
    x = ag.ones(2, 3, requires_grad=True)
    y = x * 2
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and x.numel() == 6
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.is_leaf and not y.is_leaf and y.grad_fn is not None and x.grad_fn is None
    assert isinstance(x.detach().numpy(), np.ndarray)
    assert x.T.shape == (3, 2) and ag.ones(4, 2, 3).mT.shape == (4, 3, 2)
    assert np.asarray(x).shape == (2, 3)
    assert ag.tensor([[1, 2]]).tolist() == [[1, 2]]
    with pytest.raises(RuntimeError, match="can't call numpy\\(\\) on a Tensor that requires grad"):
        x.numpy()
    assert x.detach().numpy().shape == (2, 3)


def test_item_needs_one_element() -> None:
    assert ag.tensor([[2.5]]).item() == 2.5
    with pytest.raises(RuntimeError, match="2 elements cannot be converted"):
        ag.tensor([1.0, 2.0]).item()


def test_grad_is_a_tensor() -> None:
    x = ag.tensor([1.0], requires_grad=True)
    (x * 2).sum().backward()
    assert isinstance(x.grad, ag.Tensor)
    with pytest.raises(RuntimeError, match="assigned grad has shape"):
        x.grad = ag.zeros(3)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: ag.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
        (lambda: ag.tensor(3.0, requires_grad=True) * 1, "tensor(3., grad_fn=<MulBackward>)"),
        (lambda: ag.tensor([1.5, 2.25]), "tensor([1.5000, 2.2500])"),
        (lambda: ag.tensor([1, 2, 3]), "tensor([1, 2, 3])"),
        (lambda: ag.tensor([True, False]), "tensor([ True, False])"),
        (lambda: ag.tensor([1.0, 2.0], dtype=ag.float64), "tensor([1., 2.], dtype=float64)"),
        (lambda: ag.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
        (lambda: ag.tensor([1, 2], dtype=ag.int32), "tensor([1, 2], dtype=int32)"),
        (lambda: ag.zeros(0), "tensor([])"),
    ],
)
def test_repr_reads_like_pytorch(make, expected) -> None:
    assert repr(make()) == expected


def test_hash_is_identity_and_eq_is_elementwise() -> None:
    a, b = ag.ones(2), ag.ones(2)
    assert hash(a) != hash(b) or a is b
    assert (a == b).tolist() == [True, True]
    assert len({a, b}) == 2


def test_bool_of_multi_element_tensor_is_ambiguous() -> None:
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ag.ones(2))
    assert bool(ag.tensor(1.0))


def test_deepcopy_of_leaf() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = copy.deepcopy(x)
    assert y.requires_grad and y.tolist() == [1.0, 2.0] and not np.shares_memory(x.detach().numpy(), y.detach().numpy())
    with pytest.raises(RuntimeError, match="only leaf tensors"):
        copy.deepcopy(x * 2)


def test_iteration_and_len() -> None:
    t = ag.tensor([[1, 2], [3, 4]])
    assert len(t) == 2 and [row.tolist() for row in t] == [[1, 2], [3, 4]]


def test_ndarray_on_the_left_uses_tensor_operators() -> None:
    out = np.array([1.0, 2.0]) + ag.tensor([1.0, 1.0], requires_grad=True)
    assert isinstance(out, ag.Tensor) and out.requires_grad


def test_data_is_a_tensor_sharing_storage_outside_the_graph() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert isinstance(d, ag.Tensor) and not d.requires_grad and d.grad_fn is None
    d.add_(1)  # as PyTorch: changes x, unrecorded and without bumping x's version
    assert x.tolist() == [2.0, 3.0] and x._version == 0
    x.data[0] = 5.0
    assert x.tolist() == [5.0, 3.0]
    values, indices = ag.max(x.data.reshape(1, 2), 1)
    assert values.tolist() == [5.0] and indices.tolist() == [0]
    x.data = ag.tensor([7.0, 8.0])
    assert x.tolist() == [7.0, 8.0] and x.requires_grad and x.is_leaf
    assert np.shares_memory(x.numpy() if not x.requires_grad else x.detach().numpy(), x.data.numpy())
    with pytest.raises(TypeError, match="data: assigned value must be a Tensor"):
        x.data = np.zeros(2)


def test_reading_grad_of_a_non_leaf_warns_as_pytorch() -> None:
    x = ag.tensor([1.0], requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None
    y.retain_grad()
    (y * 3).sum().backward()
    assert y.grad.tolist() == [3.0]
