"""Kink-aware gradient checks: a valid convention at a kink passes and is reported, a wrong one fails."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd.gradcheck import GradcheckError, check_gradients
from autograd.testing import (
    Domain,
    assert_gradients_close,
    on_kinks,
    shapes,
    with_ties,
)


def leaf(values):
    return ag.tensor(values, dtype=ag.float64, requires_grad=True)


def relu_with(slope_at_zero: float):
    """A custom relu whose gradient at exactly 0 is ``slope_at_zero``."""

    class Relu(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.relu()

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            slope = (x > 0).double() + slope_at_zero * (x == 0).double()
            return grad * slope

    return Relu.apply


def test_relu_at_zero_passes_and_is_reported_as_a_kink():
    x = leaf([-1.0, 2.0, 0.0])
    report = check_gradients(lambda x: x.relu(), (x,))
    assert report.ok
    assert [str(k) for k in report.kinks] == [
        "kink at x[2] = 0.0: one-sided slopes 0 and 1, analytic 0"
    ]
    assert ag.gradcheck(lambda x: x.relu(), (x,))


def test_a_subgradient_inside_the_interval_passes():
    x = leaf([0.0, 1.0])
    report = check_gradients(relu_with(0.5), (x,))
    assert report.ok and str(report.kinks[0]).endswith("analytic 0.5")


@pytest.mark.parametrize("wrong", [2.0, -1.0, 1.5])
def test_a_wrong_subgradient_at_the_kink_fails(wrong):
    x = leaf([1.0, 0.0])
    report = check_gradients(relu_with(wrong), (x,))
    assert not report.ok
    kink = report.kinks[0]
    assert not kink.ok and kink.element == "x[1]"  # named after forward(ctx, x)
    assert str(kink).endswith("(outside them: a wrong gradient)")
    with pytest.raises(GradcheckError, match=r"x\[1\] is at a kink where the one-sided"):
        ag.gradcheck(relu_with(wrong), (x,))


def test_without_kink_awareness_relu_at_zero_fails_like_a_plain_gradcheck():
    x = leaf([0.0])
    with pytest.raises(GradcheckError, match="analytic 0 vs numerical 0.5"):
        ag.gradcheck(lambda x: x.relu(), (x,), kinks=False)


def test_abs_and_two_dimensional_indices():
    x = leaf([[1.0, 0.0], [-2.0, 3.0]])
    report = check_gradients(lambda t: t.abs(), (x,))
    assert [str(k) for k in report.kinks] == [
        "kink at t[0, 1] = 0.0: one-sided slopes -1 and 1, analytic 0"
    ]


def test_max_ties_split_evenly_pass_and_a_double_count_fails():
    x = leaf([1.0, 3.0, 3.0])
    report = check_gradients(lambda x: x.amax(), (x,))
    assert report.ok
    assert [str(k) for k in report.kinks] == [
        "kink at x[1] = 3.0: one-sided slopes 0 and 1, analytic 0.5",
        "kink at x[2] = 3.0: one-sided slopes 0 and 1, analytic 0.5",
    ]

    assert [str(t) for t in report.ties] == [
        "tie x[1] = x[2] = 3.0: moving them together changes the output at slope 1 (both "
        "sides), analytic total 1"
    ]

    def greedy_max(share: float):
        class GreedyMax(ag.Function):  # gives ``share`` of the gradient to every tied maximum
            @staticmethod
            def forward(ctx, x):
                out = x.amax()
                ctx.save_for_backward(x, out)
                return out

            @staticmethod
            def backward(ctx, grad):
                x, out = ctx.saved_tensors
                return grad * (x == out).double() * share

        return GreedyMax.apply

    bad = check_gradients(greedy_max(1.5), (x,))
    assert not bad.ok and all(not k.ok for k in bad.kinks)

    # Each element alone is fine (1 is a one-sided slope), but together they count the tie twice.
    double = check_gradients(greedy_max(1.0), (x,))
    assert not double.ok and all(k.ok for k in double.kinks)
    message = (
        "tie x[1] = x[2] = 3.0: moving them together changes the output at slope 1 (both "
        "sides), analytic total 2 (outside: the tied elements' gradients are miscounted)"
    )
    assert [str(t) for t in double.ties] == [message]
    assert double.mismatches == ["gradcheck: " + message]
    with pytest.raises(GradcheckError, match=r"tie x\[1\] = x\[2\] = 3.0: .* analytic total 2"):
        ag.gradcheck(greedy_max(1.0), (x,))
    # A tie across inputs and per output element: maximum(x, y) where x == y splits evenly.
    y = leaf([0.0, 3.0, 1.0])
    split = check_gradients(lambda x, y: ag.maximum(x, y), (x, y))
    assert split.ok and [str(t) for t in split.ties] == [
        "tie x[1] = y[1] = 3.0: moving them together changes output[1] at slope 1 (both "
        "sides), analytic total 1"
    ]


def test_a_jump_on_both_sides_accepts_any_convention():
    # mode([2, 2, 1, 3]) is 2; moving one of the 2s alone makes every value occur once, so
    # the mode drops to 1 on both sides: no one-sided derivative exists there.
    x = leaf([2.0, 2.0, 1.0, 3.0])
    report = check_gradients(lambda x: ag.mode(x).values, (x,))
    assert report.ok
    assert sorted(str(k) for k in report.kinks) == [
        "jump at x[0] = 2.0 (by -1 on both sides): one-sided slopes 0 and 0, analytic 0",
        "jump at x[1] = 2.0 (by -1 on both sides): one-sided slopes 0 and 0, analytic 1 "
        "(f jumps on both sides: no derivative there, any value is a convention)",
    ]
    # Moving the tied pair together is smooth, and there the total must be right.
    assert [str(t) for t in report.ties] == [
        "tie x[0] = x[1] = 2.0: moving them together changes the output at slope 1 (both "
        "sides), analytic total 1"
    ]

    class ZeroMode(ag.Function):  # sends no gradient at all: the pair's total 0 is wrong
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return ag.mode(x).values

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 0.0 * x

    bad = check_gradients(ZeroMode.apply, (x,))
    assert not bad.ok and all(k.ok for k in bad.kinks)
    assert bad.mismatches[0].startswith("gradcheck: tie x[0] = x[1] = 2.0") and (
        "analytic total 0" in bad.mismatches[0]
    )


def test_smooth_functions_report_no_kinks():
    x = leaf([-2.0, 0.0, 0.5, 3.0])
    assert check_gradients(lambda t: (t.exp() * t.sin()).tanh(), (x,)).kinks == []


class Double(ag.Function):
    """Identity with a wrong (doubled) gradient everywhere."""

    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_a_real_bug_away_from_kinks_still_fails():
    x = leaf([2.0])
    report = check_gradients(Double.apply, (x,))
    assert not report.ok and report.kinks == []
    with pytest.raises(GradcheckError, match="analytic 2 vs numerical 1"):
        ag.gradcheck(Double.apply, (x,))


@given(on_kinks((3, 2), points=(0.0,)))
def test_on_kinks_puts_elements_exactly_on_the_kinks(values):
    assert (values == 0.0).any()
    off = values[values != 0.0]
    assert (np.abs(off) >= 0.05 - 1e-12).all()  # the others keep clear of the kink


@given(with_ties((2, 3), Domain(-1.0, 1.0)))
def test_with_ties_repeats_values_far_apart(values):
    distinct = np.unique(values)
    assert distinct.size < values.size
    assert distinct.size == 1 or np.diff(distinct).min() >= 0.2 - 1e-12


@settings(max_examples=30, derandomize=True)
@given(st.data())
def test_hypothesis_at_kinks_passes_pytorchs_relu_convention(data):
    x = ag.tensor(data.draw(on_kinks((4,), points=(0.0,))), requires_grad=True)
    report = assert_gradients_close(lambda t: t.relu(), (x,))
    zeros = int((x.data == 0).sum())
    assert len(report.kinks) == zeros
    assert all("one-sided slopes 0 and 1, analytic 0" in str(k) for k in report.kinks)


def test_hypothesis_at_kinks_finds_a_wrong_convention_and_shrinks_it():
    found = []

    @settings(max_examples=50, derandomize=True, database=None)
    @given(st.data())
    def check(data):
        x = ag.tensor(data.draw(on_kinks(data.draw(shapes(min_dims=1, max_dims=2)))),
                      requires_grad=True)  # fmt: skip
        try:
            assert_gradients_close(relu_with(2.0), (x,))
        except AssertionError:
            found.append(x.shape)
            raise

    with pytest.raises(AssertionError, match="is at a kink where the one-sided slopes are 0 and 1"):
        check()
    assert min(int(np.prod(s)) for s in found) == 1  # shrunk to a single element at 0


def test_second_order_checks_pass_at_kinks():
    x = leaf([0.0, 1.5])
    assert_gradients_close(lambda t: t.relu() * t, (x,), order=2)


def test_jumps_are_checked_against_the_slopes_of_their_pieces():
    x = leaf([-1.0, 0.0, 0.5])
    report = check_gradients(lambda t: t.sign(), (x,))
    assert report.ok
    assert [str(k) for k in report.kinks] == [
        "jump at t[1] = 0.0 (by 2): one-sided slopes 0 and 0, analytic 0"
    ]
    steps = check_gradients(lambda t: t.floor(), (leaf([2.0, 0.5]),))
    assert [str(k) for k in steps.kinks] == [
        "jump at t[0] = 2.0 (by 1): one-sided slopes 0 and 0, analytic 0"
    ]

    class SlopedFloor(ag.Function):  # a straight-through estimator is not floor's gradient
        @staticmethod
        def forward(ctx, x):
            return x.floor()

        @staticmethod
        def backward(ctx, grad):
            return grad * 1.0

    bad = check_gradients(SlopedFloor.apply, (leaf([2.0]),))
    assert not bad.ok and str(bad.kinks[0]) == (
        "jump at x[0] = 2.0 (by 1): one-sided slopes 0 and 0, analytic 1 "
        "(outside them: a wrong gradient)"
    )


def test_a_steep_smooth_function_is_not_taken_for_a_jump():
    report = check_gradients(lambda t: t * 1e4, (leaf([0.0, 1.0]),))
    assert report.ok and report.kinks == []
