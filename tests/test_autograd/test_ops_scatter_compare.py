"""The scatter/index family, comparisons (isclose, allclose, equal, nonzero, unique), tensor
creation methods (new_*, type_as), multinomial and PyTorch's keywords (out=, input=, other=,
alpha=) against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag

from parity import import_torch, op_parity, raises_like_torch

torch = import_torch()

pytestmark = pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")

_RNG = np.random.default_rng(11)


def R(*shape):  # noqa: N802 - table vocabulary
    return _RNG.standard_normal(shape)


_MASK = np.array([[True, False, True], [False, True, False]])
_IDX = np.array([[0, 1, 2, 0]])

SCATTER = [
    ("scatter_src", lambda m, x, i, s: x.scatter(0, i, s), [R(3, 4), _IDX, R(1, 4)]),
    ("scatter_value", lambda m, x, i: m.scatter(x, 0, i, 5.0), [R(3, 4), _IDX]),
    ("scatter_value_keyword", lambda m, x, i: m.scatter(x, 0, i, value=5.0), [R(3, 4), _IDX]),
    ("scatter_dim1", lambda m, x, i, s: m.scatter(x, 1, i, s),
     [R(2, 3), np.array([[2, 0], [1, 2]]), R(2, 2)]),
    ("scatter_add", lambda m, x, i, s: m.scatter_add(x, 0, i, s),
     [R(3, 4), np.array([[0, 0, 2, 0]]), R(1, 4)]),
    ("index_add_alpha", lambda m, x, i, s: m.index_add(x, 0, i, s, alpha=2),
     [R(3, 2), np.array([0, 2, 0]), R(3, 2)]),
    ("index_add_dim1", lambda m, x, i, s: x.index_add(1, i, s), [R(3, 2), np.array([1]), R(3, 1)]),
    ("index_add_0d_index", lambda m, x, i, s: m.index_add(x, 0, i, s), [R(3), np.array(1), R(1)]),
    ("index_fill", lambda m, x, i: m.index_fill(x, 1, i, -1.0), [R(2, 3), np.array([0, 2])]),
    ("index_fill_tensor_value", lambda m, x, i, v: x.index_fill(1, i, v),
     [R(2, 3), np.array(1), np.array(4.0)]),
    ("index_fill_int", lambda m, x, i: m.index_fill(x, 1, i, 2.7),
     [_RNG.integers(0, 5, (2, 3)), np.array([0])]),
    ("index_copy", lambda m, x, i, s: m.index_copy(x, 0, i, s), [R(3, 2), np.array([2, 0]), R(2, 2)]),
    ("masked_scatter", lambda m, x, k, s: x.masked_scatter(k, s), [R(2, 3), _MASK, R(10)]),
    ("masked_scatter_broadcast_mask", lambda m, x, k, s: m.masked_scatter(x, k, s),
     [R(2, 3), np.array([True, False, True]), R(4)]),
    ("masked_scatter_broadcast_input", lambda m, x, k, s: m.masked_scatter(x, k, s),
     [R(3), np.array([[True], [False]]), R(6)]),
    ("take", lambda m, x, i: m.take(x, i), [R(2, 3), np.array([[0, 5], [-1, 2]])]),
    ("take_0d", lambda m, x, i: x.take(i), [R(2, 3), np.array(4)]),
    ("scatter_inplace", lambda m, x, i, s: (x * 1).scatter_(0, i, s), [R(3, 4), _IDX, R(1, 4)]),
    ("scatter_inplace_value", lambda m, x, i: (x * 1).scatter_(0, i, 3.0), [R(3, 4), _IDX]),
    ("scatter_add_inplace", lambda m, x, i, s: (x * 1).scatter_add_(0, i, s), [R(3, 4), _IDX, R(1, 4)]),
    ("index_add_inplace", lambda m, x, i, s: (x * 1).index_add_(0, i, s, alpha=-1),
     [R(3, 2), np.array([0, 2, 0]), R(3, 2)]),
    ("index_fill_inplace", lambda m, x, i: (x * 1).index_fill_(1, i, 9.0), [R(2, 3), np.array([0, 2])]),
    ("index_copy_inplace", lambda m, x, i, s: (x * 1).index_copy_(0, i, s),
     [R(3, 2), np.array([2, 0]), R(2, 2)]),
    ("masked_scatter_inplace", lambda m, x, k, s: (x * 1).masked_scatter_(k, s), [R(2, 3), _MASK, R(10)]),
    ("masked_fill_inplace", lambda m, x, k: (x * 1).masked_fill_(k, 2.0), [R(2, 3), _MASK]),
]  # fmt: skip


@pytest.mark.parametrize("name, fn, arrays", SCATTER, ids=[c[0] for c in SCATTER])
def test_scatter_family_matches_torch(name, fn, arrays):
    op_parity(fn, arrays, where=name)


@pytest.mark.parametrize("name, fn, arrays", [
    ("scatter_larger_src", lambda m, x, i, s: x.scatter(0, i, s), [R(3, 4), _IDX, R(2, 4)]),
    ("scatter_reduce_add", lambda m, x, i, s: x.scatter(0, i, s, reduce="add"),
     [R(3, 4), np.array([[0, 0, 2, 0]]), R(1, 4)]),
    ("scatter_reduce_multiply", lambda m, x, i: x.scatter(1, i, 2.0, reduce="multiply"),
     [R(2, 3), np.array([[0, 1]])]),
    ("index_copy_repeated", lambda m, x, i, s: x.index_copy(1, i, s),
     [R(3, 2), np.array([1, 1]), R(3, 2)]),
])  # fmt: skip
def test_scatter_values_where_torch_has_no_gradient_match(name, fn, arrays):
    # PyTorch can't differentiate these (a src larger than the index, reduce=, repeated
    # positions): compare the values only.
    op_parity(fn, arrays, grad=False, where=name)


def test_scatter_with_a_larger_src_has_the_gradient_of_its_used_part():
    x, src = ag.zeros(2, 2, requires_grad=True), ag.ones(2, 2, requires_grad=True)
    x.scatter(0, ag.tensor([[1, 0]]), src).sum().backward()
    np.testing.assert_array_equal(src.grad.numpy(), [[1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0], [0.0, 1.0]])


def test_inplace_forms_write_into_the_tensor():
    x = ag.zeros(3)
    assert x.index_fill_(0, ag.tensor([1]), 2.0) is x
    x.scatter_(0, ag.tensor([2]), ag.tensor([5.0]))
    x.index_add_(0, ag.tensor([0]), ag.ones(1))
    x.masked_scatter_(ag.tensor([True, False, False]), ag.tensor([7.0]))
    np.testing.assert_array_equal(x.numpy(), [7.0, 2.0, 5.0])


nan, inf = np.nan, np.inf
PAIRS = [
    (np.array([1.0, nan, inf, -inf, 2.0]), np.array([1 + 1e-6, nan, inf, inf, 2.1])),
    (R(2, 3), R(3)),
    (np.array([1, 2]), np.array([1, 3])),
    (np.array([True, False]), np.array([True, True])),
]


@pytest.mark.parametrize("options", [{}, {"equal_nan": True}, {"rtol": 0.1}, {"atol": 1.0}])
@pytest.mark.parametrize("pair", range(len(PAIRS)))
def test_isclose_allclose_and_equal_match_torch(pair, options):
    a, b = PAIRS[pair]
    op_parity(lambda m, x, y: m.isclose(x, y, **options), [a, b], grad=False)
    op_parity(lambda m, x, y: x.allclose(y, **options), [a, b], grad=False)
    op_parity(lambda m, x, y: m.equal(x, y), [a, b], grad=False)
    op_parity(lambda m, x: m.equal(x, x), [a], grad=False)


def test_equal_compares_values_across_dtypes_and_shapes_like_torch():
    op_parity(lambda m, x, y: m.equal(x, y), [np.array([1, 2]), np.array([1.0, 2.0])], grad=False)
    op_parity(lambda m, x, y: x.equal(y), [np.array([1, 2]), np.array([[1, 2]])], grad=False)
    assert ag.equal(ag.tensor([1, 2]), ag.tensor([1, 2])) is True


NONZERO = [np.array([[0, 1], [2, 0]]), np.array(5), np.array(0), np.zeros((2, 0)),
           _RNG.integers(0, 2, (2, 3, 2)).astype(bool), np.array([0.0, -0.0, nan])]  # fmt: skip


@pytest.mark.parametrize("array", range(len(NONZERO)))
def test_nonzero_matches_torch(array):
    op_parity(lambda m, x: m.nonzero(x), [NONZERO[array]], grad=False)
    op_parity(lambda m, x: x.nonzero(as_tuple=True), [NONZERO[array]], grad=False)


UNIQUE = [np.array([3, 1, 2, 1]), np.array([3.0, nan, 1.0, nan]), np.array(3.0),
          np.array([[2, 1], [2, 1], [0, 5]]), np.array([True, False, True]),
          np.array([1, 1, 2, 2, 3, 1, 1, 2])]  # fmt: skip
UNIQUE_OPTIONS = [{}, {"sorted": False}, {"return_inverse": True}, {"return_counts": True},
                  {"return_inverse": True, "return_counts": True}]  # fmt: skip


@pytest.mark.parametrize("options", UNIQUE_OPTIONS, ids=lambda o: ",".join(o) or "plain")
@pytest.mark.parametrize("array", range(len(UNIQUE)))
def test_unique_matches_torch(array, options):
    a = UNIQUE[array]
    op_parity(lambda m, x: m.unique(x, **options), [a], grad=False)
    consecutive = {k: v for k, v in options.items() if k != "sorted"}
    op_parity(lambda m, x: m.unique_consecutive(x, **consecutive), [a], grad=False)
    if a.ndim == 2:
        op_parity(lambda m, x: x.unique(dim=1, **options), [a], grad=False)
        op_parity(lambda m, x: m.unique_consecutive(x, dim=0, **consecutive), [a], grad=False)


CREATION = [
    ("new_zeros_varargs", lambda m, x: x.new_zeros(2, 3)),
    ("new_zeros_tuple", lambda m, x: x.new_zeros((2, 3))),
    ("new_ones_dtype", lambda m, x: x.new_ones([2], dtype=m.int32)),
    ("new_full", lambda m, x: x.new_full((2,), 3)),
    ("new_full_cast", lambda m, x: x.long().new_full((1,), 2.5)),
    ("new_empty_shape", lambda m, x: x.new_empty(0).shape == (0,)),
    ("new_tensor", lambda m, x: x.new_tensor([1, 2])),
    ("new_tensor_dtype", lambda m, x: x.new_tensor([1, 2], dtype=m.long)),
    ("new_tensor_into_int", lambda m, x: x.long().new_tensor([1.5])),
    ("new_zeros_requires_grad", lambda m, x: x.new_zeros(2, requires_grad=True).requires_grad),
    ("type_as", lambda m, x: m.tensor([1, 2]).type_as(x)),
    ("type_as_same", lambda m, x: x.type_as(x)),
]


@pytest.mark.parametrize("name, fn", CREATION, ids=[c[0] for c in CREATION])
def test_creation_methods_match_torch(name, fn):
    op_parity(fn, [np.array([0.5, 1.5])], grad=False, where=name)


def test_new_tensor_from_a_tensor_warns_and_copies_outside_the_graph():
    x = ag.tensor([1.0], dtype=ag.float64)
    source = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="detach"):
        copy = x.new_tensor(source)
    assert not copy.requires_grad and copy.dtype == ag.float64


def test_multinomial_draws_each_category_once_without_replacement():
    ag.manual_seed(0)
    draws = ag.multinomial(ag.tensor([[0.2, 0.5, 0.3], [0.0, 1.0, 0.0]]), 3)
    assert draws.dtype == ag.int64 and draws.shape == (2, 3)
    assert sorted(draws[0].tolist()) == [0, 1, 2] and draws[1, 0].item() == 1
    # Positive probabilities first, then the zero ones, as PyTorch.
    assert ag.tensor([1.0, 0.0, 0.0]).multinomial(2).tolist()[0] == 0


def test_multinomial_frequencies_follow_the_probabilities():
    ag.manual_seed(1)
    draws = ag.multinomial(ag.tensor([1.0, 3.0]), 4000, replacement=True).numpy()
    assert abs((draws == 1).mean() - 0.75) < 0.03
    first = [ag.multinomial(ag.tensor([1.0, 3.0]), 2).tolist()[0] for _ in range(2000)]
    assert abs(np.mean(np.array(first) == 1) - 0.75) < 0.04


KEYWORDS = [
    ("matmul_input_other", lambda m, a, b: m.matmul(input=a, other=b)),
    ("add_alpha", lambda m, a, b: m.add(a, b, alpha=2)),
    ("add_method_alpha", lambda m, a, b: a.add(b, alpha=-1)),
    ("sub_keywords_alpha", lambda m, a, b: m.sub(input=a, other=b, alpha=0.5)),
    ("mul_other", lambda m, a, b: m.mul(a, other=b)),
    ("sum_input", lambda m, a, b: m.sum(input=a, dim=1)),
    ("mean_input", lambda m, a, b: m.mean(input=a)),
    ("max_input_other", lambda m, a, b: m.max(input=a, other=b)),
    ("sort_input", lambda m, a, b: m.sort(input=a, dim=0, stable=True)),
]


@pytest.mark.parametrize("name, fn", KEYWORDS, ids=[c[0] for c in KEYWORDS])
def test_pytorch_keyword_spellings(name, fn):
    op_parity(fn, [R(2, 2), R(2, 2)], where=name)


OUT = [
    ("mul", lambda m, a, b, o: m.mul(a, b, out=o), (2, 2)),
    ("add_alpha", lambda m, a, b, o: m.add(a, b, alpha=3, out=o), (2, 2)),
    ("matmul", lambda m, a, b, o: m.matmul(a, b, out=o), (2, 2)),
    ("matmul_into_empty", lambda m, a, b, o: m.matmul(a, b, out=o), (0,)),
    ("sum", lambda m, a, b, o: m.sum(a, (0, 1), out=o), ()),
    ("mean_dim", lambda m, a, b, o: m.mean(a, 0, out=o), (2,)),
    ("exp", lambda m, a, b, o: m.exp(a, out=o), (2, 2)),
    ("cat", lambda m, a, b, o: m.cat([a, b], out=o), (4, 2)),
    ("stack", lambda m, a, b, o: m.stack([a, b], dim=1, out=o), (2, 2, 2)),
    ("clamp", lambda m, a, b, o: m.clamp(a, -0.5, 0.5, out=o), (2, 2)),
    ("where", lambda m, a, b, o: m.where(a > 0, a, b, out=o), (2, 2)),
    ("into_an_input", lambda m, a, b, o: m.add(a, b, out=a), (2, 2)),
]


@pytest.mark.parametrize("name, fn, shape", OUT, ids=[c[0] for c in OUT])
def test_out_writes_into_the_given_tensor(name, fn, shape):
    results = []
    arrays = R(2, 2), R(2, 2)
    for m in (ag, torch):
        a, b = m.tensor(arrays[0]), m.tensor(arrays[1])
        out = m.zeros(shape, dtype=m.float64)
        returned = fn(m, a, b, out)
        target = a if name == "into_an_input" else out
        assert returned is target
        results.append(target.numpy().copy())
    np.testing.assert_allclose(results[0], results[1])


def test_out_of_the_wrong_size_is_resized_with_pytorchs_warning():
    out = ag.zeros(3)
    with pytest.warns(UserWarning, match="resized"):
        ag.add(ag.ones(2), ag.ones(2), out=out)
    assert out.shape == (2,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ag.add(ag.ones(2), ag.ones(2), out=ag.zeros(0))  # an empty out resizes silently


def test_out_for_tuple_results():
    values, indices = ag.zeros(2), ag.zeros(2, dtype=ag.int64)
    result = ag.sort(ag.tensor([3.0, 1.0]), out=(values, indices))
    assert result.values is values and indices.tolist() == [1, 0]


def _needs_grad(m):
    return m.ones(2, requires_grad=True)


OUT_ERRORS = [
    ("out_with_grad", lambda m: m.mul(_needs_grad(m), 2, out=m.zeros(2)), ["out=", "requires grad"]),
    ("out_dtype", lambda m: m.add(m.ones(2), m.ones(2), out=m.zeros(2, dtype=m.int64)),
     ["can't be cast", "Long"]),
    ("alpha_elsewhere", lambda m: m.mul(m.ones(2), m.ones(2), alpha=2), ["alpha"]),
]  # fmt: skip


@pytest.mark.parametrize("name, fn, parts", OUT_ERRORS, ids=[e[0] for e in OUT_ERRORS])
def test_out_errors_match_torch(name, fn, parts):
    raises_like_torch(fn, parts)


def test_out_under_no_grad_is_allowed():
    with ag.no_grad():
        out = ag.mul(ag.ones(2, requires_grad=True), 2, out=ag.zeros(2))
    assert out.tolist() == [2.0, 2.0]


ERRORS = [
    ("scatter_out_of_bounds", lambda m: m.scatter(m.zeros(3), 0, m.tensor([3]), 1.0), ["scatter"]),
    ("scatter_float_index", lambda m: m.zeros(3).scatter(0, m.tensor([0.0]), 1.0), ["int64"]),
    ("scatter_src_dtype", lambda m: m.zeros(3).scatter(0, m.tensor([0]), m.ones(1, dtype=m.float64)),
     ["scatter", "dtype"]),
    ("scatter_bad_reduce", lambda m: m.zeros(3).scatter(0, m.tensor([0]), m.ones(1), reduce="max"),
     ["add or multiply"]),
    ("index_add_out_of_bounds", lambda m: m.index_add(m.zeros(3), 0, m.tensor([3]), m.ones(1)), ["3"]),
    ("index_add_dtype", lambda m: m.index_add(m.zeros(3), 0, m.tensor([0]), m.ones(1, dtype=m.float64)),
     ["Float", "Double"]),
    ("index_add_matrix_index", lambda m: m.index_add(m.zeros(3), 0, m.tensor([[0]]), m.ones(1)),
     ["vector"]),
    ("index_add_float_index", lambda m: m.index_add(m.zeros(3), 0, m.tensor([0.0]), m.ones(1)),
     ["int32/int64"]),
    ("index_add_source_shape", lambda m: m.index_add(m.zeros(3, 2), 0, m.tensor([0]), m.ones(1, 3)),
     ["source tensor shape"]),
    ("index_fill_vector_value", lambda m: m.index_fill(m.zeros(3), 0, m.tensor([0]), m.ones(2)),
     ["0-dimensional"]),
    ("index_fill_out_of_bounds", lambda m: m.index_fill(m.zeros(3), 0, m.tensor([3]), 1.0), ["3"]),
    ("index_copy_count", lambda m: m.index_copy(m.zeros(3), 0, m.tensor([0, 1]), m.ones(3)),
     ["number of indices"]),
    ("index_copy_out_of_bounds", lambda m: m.index_copy(m.zeros(3), 0, m.tensor([3]), m.ones(1)),
     ["out of bounds"]),
    ("masked_scatter_short_source",
     lambda m: m.zeros(2, 3).masked_scatter(m.tensor([[True, False, True], [False, True, False]]),
                                            m.arange(2.0)), ["source", "mask"]),
    ("masked_scatter_float_mask", lambda m: m.zeros(3).masked_scatter(m.ones(3), m.ones(3)),
     ["boolean"]),
    ("take_out_of_range", lambda m: m.take(m.zeros(6), m.tensor([6])), ["out of range", "6"]),
    ("take_float_index", lambda m: m.take(m.zeros(3), m.tensor([0.0])), ["long"]),
    ("isclose_dtypes", lambda m: m.isclose(m.tensor([1.0]), m.tensor([1])), ["Float", "Long"]),
    ("allclose_dtypes", lambda m: m.allclose(m.ones(1), m.ones(1, dtype=m.float64)), ["Double"]),
    ("isclose_negative_rtol", lambda m: m.isclose(m.ones(1), m.ones(1), rtol=-1), ["rtol"]),
    ("isclose_shapes", lambda m: m.isclose(m.zeros(2), m.zeros(3)), ["isclose"]),
    ("multinomial_too_many", lambda m: m.multinomial(m.tensor([1.0, 1.0]), 3), ["n_sample"]),
    ("multinomial_ints", lambda m: m.multinomial(m.tensor([1, 1]), 1), ["floating"]),
    ("multinomial_zero_samples", lambda m: m.multinomial(m.tensor([1.0]), 0), ["n_sample <= 0"]),
    ("multinomial_3d", lambda m: m.multinomial(m.zeros(2, 2, 2), 1), ["1 or 2 dim"]),
    ("multinomial_negative", lambda m: m.multinomial(m.tensor([-1.0, 1.0]), 1), ["< 0"]),
    ("multinomial_zero_sum", lambda m: m.multinomial(m.tensor([0.0, 0.0]), 1), ["sum"]),
]  # fmt: skip


@pytest.mark.parametrize("name, fn, parts", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, parts):
    raises_like_torch(fn, parts)
