"""autograd.testing: the public strategies and the gradient assertion users apply to their code."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd.testing import (
    Domain,
    arrays,
    assert_gradients_close,
    broadcastable_shapes,
    shapes,
    tensors,
)


@given(shapes(min_dims=1, max_dims=3, max_side=4))
def test_shapes_respect_bounds(shape) -> None:
    assert 1 <= len(shape) <= 3 and all(1 <= s <= 4 for s in shape)


@given(broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shape_list) -> None:
    np.broadcast_shapes(*shape_list)


@given(arrays((5,), Domain(0.1, 2.0, away_from=(1.0,))))
def test_arrays_stay_in_domain_and_away_from_kinks(values) -> None:
    assert values.dtype == np.float64
    assert ((values >= 0.05) & (values <= 2.05)).all()
    assert (np.abs(values - 1.0) >= 0.05 - 1e-12).all()


@given(arrays((3, 3), Domain(distinct=True)))
def test_distinct_arrays_have_no_ties(values) -> None:
    flat = np.sort(values.reshape(-1))
    assert (np.diff(flat) > 1e-3).all()


@given(tensors(shapes(max_dims=2)))
def test_tensors_are_float64_leaves_requiring_grad(t) -> None:
    assert t.dtype == ag.float64 and t.requires_grad and t.is_leaf


@given(tensors(shapes(max_dims=2), Domain(0.5, 2.0)))
def test_user_function_passes(x) -> None:
    assert_gradients_close(lambda t: (t.log() * t.sin()).sum(), (x,))


class LeakyCube(ag.Function):
    """x**3 with a deliberately wrong gradient for negative inputs."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        slope = ag.where(x > 0, 3 * x**2, 0.1 * x**2)  # bug: should be 3 x^2 everywhere
        return grad * slope


def test_a_buggy_custom_function_is_caught_and_shrunk() -> None:
    found = []

    @settings(max_examples=50, derandomize=True, database=None)
    @given(tensors(shapes(max_dims=2), Domain(-2.0, 2.0)))
    def check(x):
        try:
            assert_gradients_close(LeakyCube.apply, (x,))
        except AssertionError:
            found.append(x.shape)
            raise

    with pytest.raises(AssertionError, match="order-1 gradient mismatch"):
        check()
    # Hypothesis shrinks the failing input towards the smallest shape.
    assert found and min(np.prod(s) for s in found) == 1


def test_assert_gradients_close_message_names_function_input_and_values() -> None:
    x = ag.tensor([-1.0], dtype=ag.float64, requires_grad=True)
    with pytest.raises(AssertionError) as info:
        assert_gradients_close(LeakyCube.apply, (x,))
    message = str(info.value)
    assert "analytic" in message and "numerical" in message and "(1,)" in message


def test_second_order_assertion() -> None:
    x = ag.tensor([0.3, 0.7], dtype=ag.float64, requires_grad=True)
    assert_gradients_close(lambda t: t.tanh() * t, (x,), order=2)


@given(st.data())
def test_lists_of_tensors_are_checked(data) -> None:
    a = data.draw(tensors((2,)))
    b = data.draw(tensors((3,)))
    assert_gradients_close(lambda items: ag.cat(items).exp(), ([a, b],))
