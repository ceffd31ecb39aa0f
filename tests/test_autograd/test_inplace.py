"""In-place operations: version counters, leaf protection, history rebasing."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag


def test_inplace_on_leaf_requiring_grad_raises() -> None:
    w = ag.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Tensor that requires grad .* in-place"):
        w += 1
    with pytest.raises(RuntimeError, match="add_: a leaf Tensor"):
        w.add_(1)


def test_inplace_under_no_grad_updates_data_and_version() -> None:
    w = ag.ones(2, requires_grad=True)
    data = w.detach().numpy()
    with ag.no_grad():
        w.sub_(0.5 * ag.ones(2))
        w.mul_(2)
        w.add_(ag.ones(2), alpha=3)
    assert w.detach().numpy() is data  # really in place
    np.testing.assert_allclose(w.numpy() if not w.requires_grad else w.detach().numpy(), [4.0, 4.0])
    assert w._version == 3 and w.is_leaf and w.requires_grad


def test_inplace_keeps_dtype() -> None:
    w = ag.ones(2)
    w.mul_(0.5)
    assert w.dtype == ag.float32
    i = ag.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.mul_(0.5)


def test_modifying_a_saved_tensor_is_caught_in_backward() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y.exp()  # ExpBackward saves its output
    w = y * y  # MulBackward saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="MulBackward needs input 0.*modified in place.*version 0 -> 1.*clone"):
        w.sum().backward()
    del z


def test_modifying_a_saved_output_is_caught() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="ExpBackward needs input 0 \\(its output\\).*modified in place"):
        y.sum().backward()


def test_inplace_on_non_leaf_records_history() -> None:
    x = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
    y = x * 2
    y += 1
    y *= x
    assert y.grad_fn.op_name == "mul"
    y.sum().backward()
    # y = (2x + 1) * x -> dy/dx = 4x + 1
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 9.0])


def test_setitem_on_non_leaf_propagates_to_both_sides() -> None:
    x = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64, requires_grad=True)
    v = ag.tensor(10.0, dtype=ag.float64, requires_grad=True)
    y = x * 1
    y[1] = v * 2
    (y * ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, 3.0])
    assert v.grad.item() == pytest.approx(4.0)


def test_setitem_under_no_grad_on_parameters() -> None:
    w = ag.zeros(3, requires_grad=True)
    with ag.no_grad():
        w[0] = 5
    assert w.tolist() == [5.0, 0.0, 0.0] and w._version == 1
    with pytest.raises(RuntimeError, match="leaf Tensor"):
        w[1] = 2


def test_fill_zero_copy_and_random_fills() -> None:
    t = ag.empty(2, 2)
    t.fill_(3)
    assert t.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    t.zero_()
    assert t.sum().item() == 0
    t.copy_(ag.tensor([1.0, 2.0]))
    assert t.tolist() == [[1.0, 2.0], [1.0, 2.0]]
    with pytest.raises(RuntimeError, match="copy_: the source of shape \\(3,\\) can't be broadcast"):
        t.copy_(ag.ones(3))
    ag.manual_seed(0)
    t.uniform_(2, 3)
    assert ((t >= 2) & (t < 3)).all().item()
    t.normal_(0, 1)
    assert t.shape == (2, 2)


def test_view_shares_version_counter_with_base() -> None:
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = x * 1
    view = base[0:2]
    out = (view * view).sum()
    base.mul_(2)
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()
