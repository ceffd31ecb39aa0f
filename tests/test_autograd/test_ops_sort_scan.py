"""Sorting, selection and scans against PyTorch: values, indices (ties), gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd.registry import REGISTRY
from autograd.testing import assert_gradients_close, kink_inputs

from parity import import_torch, op_parity, raises_like_torch

torch = import_torch()

_RNG = np.random.default_rng(7)


def _ties(*shape, high=3):
    return _RNG.integers(0, high, shape).astype(np.float64)


ARRAYS = {
    "random_2d": _RNG.standard_normal((3, 5)),
    "ties_2d": _ties(3, 5),
    "ties_long": _ties(2, 40),  # past 16 elements: libstdc++'s introsort, not insertion sort
    "ties_very_long": _ties(1, 300, high=20),  # topk's partial_sort branch (k * 64 <= n)
    "with_nan": np.array([[1.0, np.nan, 0.0, np.nan, 2.0], [2.0, 2.0, np.nan, 0.0, 0.0]]),
    "random_3d": _RNG.standard_normal((2, 3, 4)),
    "scalar": np.array(1.5),
}

SELECTIONS = [
    ("sort_stable", lambda m, x: m.sort(x, dim=-1, stable=True)),
    ("sort_stable_descending", lambda m, x: m.sort(x, descending=True, stable=True)),
    ("sort_dim0", lambda m, x: x.sort(stable=True, dim=0)),
    ("argsort_descending", lambda m, x: m.argsort(x, dim=-1, descending=True, stable=True)),
    ("topk_1", lambda m, x: m.topk(x, 1)),
    ("topk_3", lambda m, x: m.topk(x, min(3, x.shape[-1] if x.ndim else 1))),
    ("topk_smallest", lambda m, x: x.topk(min(2, x.shape[-1] if x.ndim else 1), largest=False)),
    ("topk_unsorted", lambda m, x: m.topk(x, min(4, x.shape[-1] if x.ndim else 1), sorted=False)),
    ("topk_all", lambda m, x: m.topk(x, x.shape[-1] if x.ndim else 1)),
    ("kthvalue_1", lambda m, x: m.kthvalue(x, 1)),
    ("kthvalue_middle", lambda m, x: m.kthvalue(x, (x.shape[-1] + 1) // 2 if x.ndim else 1)),
    ("kthvalue_keepdim", lambda m, x: x.kthvalue(1, 0, keepdim=True)),
    ("median_all", lambda m, x: m.median(x)),
    ("median_dim", lambda m, x: m.median(x, -1)),
    ("median_dim0_keepdim", lambda m, x: x.median(0, keepdim=True)),
    ("nanmedian_all", lambda m, x: m.nanmedian(x)),
    ("nanmedian_dim", lambda m, x: m.nanmedian(x, -1)),
    ("mode", lambda m, x: m.mode(x)),
    ("mode_dim0", lambda m, x: x.mode(0, keepdim=True)),
]


# Not mode with NaNs: PyTorch's mode sorts them with an invalid comparison (no defined result).
SELECTION_CASES = [(name, fn, array) for name, fn in SELECTIONS for array in ARRAYS
                   if not (name.startswith("mode") and array == "with_nan")]  # fmt: skip


@pytest.mark.parametrize("name, fn, array", SELECTION_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in SELECTION_CASES])  # fmt: skip
def test_selection_values_indices_and_gradients_match_torch(name, fn, array):
    op_parity(fn, [ARRAYS[array]], where=f"{name} on {array}")


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("name, fn", SELECTIONS, ids=[s[0] for s in SELECTIONS])
def test_selection_on_integers_matches_torch(name, fn, dtype):
    op_parity(fn, [_RNG.integers(0, 4, (3, 20)).astype(dtype)], where=name)


def test_default_sort_of_short_slices_matches_torch():
    # PyTorch leaves the order of ties unspecified without stable=True, but up to 16 elements
    # it is stable (insertion sort); graphgrad's sort is always stable.
    op_parity(lambda m, x: m.sort(x, descending=True), [_ties(4, 16)])
    op_parity(lambda m, x: m.msort(x), [_ties(16, 3)])


def test_results_are_named_tuples_like_torch():
    x = ag.tensor([[3.0, 1.0, 2.0]])
    for result, name in ((ag.sort(x), "sort"), (x.topk(2), "topk"), (x.kthvalue(1), "kthvalue"),
                         (x.median(1), "median"), (x.mode(1), "mode"), (x.cummax(1), "cummax"),
                         (ag.cummin(x, 1), "cummin"), (x.max(1), "max"), (x.min(1), "min"),
                         (x.nanmedian(1), "nanmedian")):  # fmt: skip
        values, indices = result
        assert type(result).__name__ == name and result._fields == ("values", "indices")
        assert result.values is values and result[1] is indices and indices.dtype == ag.int64
        assert repr(result).startswith(f"autograd.return_types.{name}(\nvalues=tensor(")


def test_median_without_dim_splits_the_gradient_between_ties():
    ours, theirs = op_parity(lambda m, x: m.median(x), [np.array([1.0, 2.0, 2.0, 3.0])])
    x = ag.tensor([2.0, 2.0, 2.0], requires_grad=True)
    x.median().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3] * 3)


SCANS = [
    ("cumprod", lambda m, x: m.cumprod(x, -1)),
    ("cumprod_dim0", lambda m, x: x.cumprod(dim=0)),
    ("cummax", lambda m, x: m.cummax(x, -1)),
    ("cummin_dim0", lambda m, x: x.cummin(0)),
    ("logcumsumexp", lambda m, x: m.logcumsumexp(x, -1)),
    ("diff", lambda m, x: m.diff(x)),
    ("diff_n2_dim0", lambda m, x: x.diff(n=2, dim=0)),
    ("diff_n5", lambda m, x: m.diff(x, n=5)),
]

SCAN_ARRAYS = {
    "random": _RNG.standard_normal((3, 4)),
    "ties": _ties(3, 6),
    "zeros": np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 0.0, 1.5, 2.0, -1.0]]),
    "wide_range": np.array([[-1e4, 0.0, 1e4], [-50.0, 700.0, 3.0]]),
    "with_nan": np.array([[1.0, np.nan, 0.0, np.nan, 2.0]]),
}


# Not cumprod through a NaN: its gradient depends on the order PyTorch multiplies in.
SCAN_CASES = [(name, fn, array) for name, fn in SCANS for array in SCAN_ARRAYS
              if not (name.startswith("cumprod") and array == "with_nan")]  # fmt: skip


@pytest.mark.parametrize("name, fn, array", SCAN_CASES, ids=[f"{c[0]}-{c[2]}" for c in SCAN_CASES])
def test_scans_match_torch(name, fn, array):
    op_parity(fn, [SCAN_ARRAYS[array]], rtol=1e-7, where=f"{name} on {array}")


@pytest.mark.parametrize("fn", [
    lambda m, x: m.cumprod(x, 0), lambda m, x: m.cummax(x, 0), lambda m, x: m.cummin(x, 0),
    lambda m, x: m.diff(x), lambda m, x: m.cumsum(x, 0),
])  # fmt: skip
@pytest.mark.parametrize("values", [[1, 3, 3, 2], [True, False, True]])
def test_integer_and_bool_scans_match_torch(fn, values):
    op_parity(fn, [np.array(values)])


def test_scans_of_a_0d_tensor_match_torch():
    for fn in (lambda m, x: m.cumprod(x, 0), lambda m, x: m.cummax(x, 0),
               lambda m, x: m.logcumsumexp(x, -1)):  # fmt: skip
        op_parity(fn, [np.array(2.5)])


def test_diff_with_prepend_and_append_matches_torch():
    op_parity(lambda m, x, p, q: m.diff(x, prepend=p, append=q),
              [np.array([1.0, 2.0]), np.array([0.0]), np.array([5.0, 6.0])])  # fmt: skip
    op_parity(lambda m, x, p: m.diff(x, n=2, dim=0, prepend=p),
              [_RNG.standard_normal((3, 2)), _RNG.standard_normal((1, 2))])  # fmt: skip


def _second_derivative(m, grad, values, upstream):
    x = m.tensor(values, requires_grad=True)
    (g,) = grad((m.cumprod(x, 0) * m.tensor(upstream)).sum(), x, create_graph=True)
    (gg,) = grad(g.sum(), x)
    return g.detach().numpy(), gg.numpy()


def test_cumprod_first_and_second_derivatives_with_zeros_match_torch():
    upstream = np.array([1.0, -2.0, 0.5, 3.0])
    for values in ([2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 3.0, 4.0], [1.5, -2.0, 0.5, 3.0]):
        ours = _second_derivative(ag, ag.grad, np.array(values), upstream)
        theirs = _second_derivative(torch, torch.autograd.grad, np.array(values), upstream)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


ERRORS = [
    ("topk_k_too_large", lambda m: m.topk(m.zeros(3), 4), ["topk", "k=4"]),
    ("topk_negative_k", lambda m: m.topk(m.zeros(3), -1), ["topk"]),
    ("kthvalue_zero", lambda m: m.kthvalue(m.zeros(3), 0), ["kthvalue", "k=0"]),
    ("kthvalue_too_large", lambda m: m.kthvalue(m.zeros(3), 4), ["kthvalue"]),
    ("sort_bad_dim", lambda m: m.sort(m.zeros(2), dim=3), ["sort", "dim 3"]),
    ("median_empty_dim", lambda m: m.median(m.zeros(2, 0), 1), ["median", "non-zero size"]),
    ("mode_empty", lambda m: m.mode(m.zeros(0)), ["mode"]),
    ("logcumsumexp_of_ints", lambda m: m.logcumsumexp(m.tensor([1, 2]), 0), ["logcumsumexp"]),
    ("diff_of_0d", lambda m: m.diff(m.tensor(1.0)), ["diff", "one-dimensional"]),
    ("cumprod_bad_dim", lambda m: m.cumprod(m.zeros(2, 3), 2), ["cumprod", "dim 2"]),
]


@pytest.mark.parametrize("name, fn, parts", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, parts):
    raises_like_torch(fn, parts)


KINKED = [op for op in REGISTRY.values()
          if op.kinks is not None and op.name in
          {"sort", "topk", "kthvalue", "median", "nanmedian", "cummax", "cummin"}]  # fmt: skip


def test_the_selection_ops_have_kink_hints():
    assert len(KINKED) == 7  # not mode: its value jumps at ties


@pytest.mark.parametrize("op", KINKED, ids=str)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_gradients_at_ties_are_valid_and_follow_torch(op, data):
    args, kwargs = data.draw(kink_inputs(op), label="inputs with ties")
    assert_gradients_close(op, args, kwargs)  # a valid subgradient at every tie
    ours = op(*args, **kwargs)
    theirs = getattr(torch, op.name)(torch.tensor(args[0].detach().numpy().copy()), **kwargs)
    ours_values = ours[0] if isinstance(ours, tuple) else ours
    theirs_values = theirs[0] if isinstance(theirs, tuple) else theirs
    np.testing.assert_array_equal(ours_values.detach().numpy(), theirs_values.numpy())
    if isinstance(ours, tuple) and (op.name != "sort" or args[0].numel() <= 16):
        np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
