"""Matrix structure and rearranging ops against PyTorch: tril/triu, diagonal, diag, diag_embed,
trace, t, roll, repeat_interleave, Tensor.unfold, meshgrid, tensordot."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag

from parity import import_torch, op_parity, raises_like_torch

torch = import_torch()

_RNG = np.random.default_rng(3)


def R(*shape):  # noqa: N802 - table vocabulary
    return _RNG.standard_normal(shape)


def I(*shape):  # noqa: E743, N802
    return _RNG.integers(0, 9, shape)


CASES = [
    ("tril", lambda m, x: m.tril(x), [R(3, 3)]),
    ("tril_k1_wide", lambda m, x: m.tril(x, 1), [R(2, 4)]),
    ("tril_negative_batched", lambda m, x: x.tril(-1), [R(2, 3, 4)]),
    ("tril_int", lambda m, x: m.tril(x, diagonal=1), [I(3, 3)]),
    ("triu", lambda m, x: m.triu(x), [R(3, 3)]),
    ("triu_k2_tall", lambda m, x: x.triu(diagonal=2), [R(4, 2)]),
    ("triu_negative_batched", lambda m, x: m.triu(x, -2), [R(2, 3, 4)]),
    ("diagonal", lambda m, x: m.diagonal(x), [R(3, 4)]),
    ("diagonal_offset", lambda m, x: x.diagonal(1), [R(3, 4)]),
    ("diagonal_offset_past", lambda m, x: x.diagonal(5), [R(3, 4)]),
    ("diagonal_dims", lambda m, x: m.diagonal(x, offset=-1, dim1=-1, dim2=0), [R(2, 3, 4)]),
    ("diag_vector", lambda m, x: m.diag(x), [R(3)]),
    ("diag_vector_offset", lambda m, x: m.diag(x, -2), [R(3)]),
    ("diag_matrix", lambda m, x: x.diag(), [R(3, 4)]),
    ("diag_matrix_offset", lambda m, x: m.diag(x, 1), [R(3, 4)]),
    ("diag_embed", lambda m, x: m.diag_embed(x), [R(2, 3)]),
    ("diag_embed_offset_dims", lambda m, x: m.diag_embed(x, 1, 0, 2), [R(2, 3)]),
    ("trace", lambda m, x: m.trace(x), [R(3, 4)]),
    ("trace_int", lambda m, x: x.trace(), [I(3, 3)]),
    ("t_matrix", lambda m, x: x.t(), [R(2, 3)]),
    ("t_vector", lambda m, x: m.t(x), [R(3)]),
    ("t_scalar", lambda m, x: x.t(), [np.array(1.5)]),
    ("roll_flat", lambda m, x: m.roll(x, 1), [R(2, 3)]),
    ("roll_negative_flat", lambda m, x: x.roll(-4), [R(2, 3)]),
    ("roll_dims", lambda m, x: m.roll(x, (1, -1), (0, 1)), [R(2, 3)]),
    ("roll_keywords", lambda m, x: m.roll(x, shifts=5, dims=-1), [R(2, 3)]),
    ("roll_int", lambda m, x: x.roll(2, 0), [I(3, 2)]),
    ("repeat_interleave_flat", lambda m, x: x.repeat_interleave(2), [R(2, 3)]),
    ("repeat_interleave_dim", lambda m, x: m.repeat_interleave(x, 3, dim=-1), [R(2, 3)]),
    ("repeat_interleave_zero", lambda m, x: x.repeat_interleave(0, dim=0), [R(2, 3)]),
    ("repeat_interleave_tensor", lambda m, x, r: m.repeat_interleave(x, r, dim=0),
     [R(2, 3), np.array([1, 2])]),
    ("repeat_interleave_one_count", lambda m, x, r: m.repeat_interleave(x, r), [R(2), np.array([3])]),
    ("repeat_interleave_counts_only", lambda m, r: m.repeat_interleave(r), [np.array([2, 0, 1])]),
    ("repeat_interleave_scalar", lambda m, x: m.repeat_interleave(x, 2), [np.array(3.0)]),
    ("unfold", lambda m, x: x.unfold(0, 3, 2), [R(5, 4)]),
    ("unfold_last_dim", lambda m, x: x.unfold(-1, 2, 1), [R(5, 4)]),
    ("unfold_whole_dim", lambda m, x: x.unfold(1, 4, 1), [R(5, 4)]),
    ("unfold_step_past_end", lambda m, x: x.unfold(0, 4, 3), [R(5, 4)]),
    ("unfold_empty_window", lambda m, x: x.unfold(0, 0, 1), [R(5, 4)]),
    ("unfold_scalar", lambda m, x: x.unfold(0, 1, 1), [np.array(5.0)]),
    ("unfold_int", lambda m, x: x.unfold(0, 2, 2), [I(7)]),
    ("meshgrid_ij", lambda m, a, b, c: m.meshgrid(a, b, c, indexing="ij"), [R(2), R(3), R(4)]),
    ("meshgrid_xy", lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy"), [R(2), R(3), R(4)]),
    ("meshgrid_list", lambda m, a, b: m.meshgrid([a, b], indexing="xy"), [R(2), R(3)]),
    ("meshgrid_one", lambda m, a: m.meshgrid(a, indexing="xy"), [R(2)]),
    ("meshgrid_scalar", lambda m, a, b: m.meshgrid(a, b, indexing="ij"), [np.array(1.0), R(3)]),
    ("tensordot_2", lambda m, a, b: m.tensordot(a, b), [R(2, 3, 4), R(3, 4, 5)]),
    ("tensordot_0", lambda m, a, b: m.tensordot(a, b, dims=0), [R(2, 3), R(3, 2)]),
    ("tensordot_lists", lambda m, a, b: m.tensordot(a, b, dims=([1, 2], [1, 0])),
     [R(2, 3, 4), R(4, 3)]),
    ("tensordot_vectors", lambda m, a, b: m.tensordot(a, b, 1), [R(3), R(3)]),
    ("tensordot_int", lambda m, a, b: m.tensordot(a, b, 1), [I(2, 3), I(3)]),
]  # fmt: skip


@pytest.mark.parametrize("name, fn, arrays", CASES, ids=[c[0] for c in CASES])
def test_layout_ops_match_torch(name, fn, arrays):
    op_parity(fn, arrays, where=name)


def test_tensordot_accepts_a_tensor_of_dims():
    op_parity(lambda m, a, b: m.tensordot(a, b, dims=m.tensor([[1], [0]])), [R(2, 3), R(3, 2)])


def test_meshgrid_without_indexing_warns_and_uses_ij():
    with pytest.warns(UserWarning, match="indexing"):
        grids = ag.meshgrid(ag.tensor([1, 2]), ag.tensor([3, 4, 5]))
    assert [g.shape for g in grids] == [(2, 3), (2, 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        op_parity(lambda m, a, b: m.meshgrid(a, b), [R(2), R(3)])


def test_writing_through_a_diagonal_view_changes_the_tensor():
    x = ag.arange(9.0).reshape(3, 3)
    x.diagonal().fill_(0)
    x.diagonal(1).add_(100)
    expected = torch.arange(9.0).reshape(3, 3)
    expected.diagonal().fill_(0)
    expected.diagonal(1).add_(100)
    np.testing.assert_array_equal(x.numpy(), expected.numpy())


INPLACE_THROUGH_VIEWS = [
    ("getitem_zero_", lambda m, y: y[0].zero_()),
    ("getitem_fill_", lambda m, y: y[0].fill_(3.0)),
    ("diagonal_zero_", lambda m, y: y.diagonal().zero_()),
    ("diagonal_mul_", lambda m, y: y.diagonal().mul_(5)),
    ("diagonal_add_tensor", lambda m, y: y.diagonal(1).add_(m.tensor([7.0]))),
    ("fill_whole", lambda m, y: y.fill_(2.0)),
]


@pytest.mark.parametrize("name, change", INPLACE_THROUGH_VIEWS, ids=[c[0] for c in INPLACE_THROUGH_VIEWS])
def test_inplace_through_a_view_of_a_non_leaf_is_recorded_like_torch(name, change):
    def fn(m, w):
        y = w * 1
        change(m, y)
        return y

    op_parity(fn, [np.array([[1.0, 2.0], [3.0, 4.0]])], where=name)


def test_fill_with_a_tensor_value_gets_its_gradient():
    op_parity(lambda m, w, v: (w * 1).fill_(v), [R(2, 2), np.array(5.0)])


ERRORS = [
    ("tril_of_vector", lambda m: m.tril(m.zeros(3)), ["tril", "at least 2 dimensions"]),
    ("triu_of_scalar", lambda m: m.triu(m.tensor(1.0)), ["triu"]),
    ("diag_of_3d", lambda m: m.diag(m.zeros(2, 2, 2)), ["diag", "3D"]),
    ("diagonal_same_dims", lambda m: m.diagonal(m.zeros(2, 3), dim1=0, dim2=0), ["identical"]),
    ("trace_of_3d", lambda m: m.trace(m.zeros(2, 2, 2)), ["trace", "dim 3"]),
    ("trace_of_bool", lambda m: m.trace(m.ones(2, 2, dtype=m.bool)), ["Bool"]),
    ("t_of_3d", lambda m: m.zeros(2, 2, 2).t(), ["t()", "3D"]),
    ("unfold_too_big", lambda m: m.zeros(5).unfold(0, 6, 1), ["maximum size", "6"]),
    ("unfold_zero_step", lambda m: m.zeros(5).unfold(0, 2, 0), ["step"]),
    ("roll_misaligned", lambda m: m.roll(m.zeros(2, 3), (1, 2), (0,)), ["shifts and dimensions"]),
    ("roll_bad_dim", lambda m: m.roll(m.zeros(2, 3), 1, 2), ["roll"]),
    ("repeat_interleave_sizes", lambda m: m.repeat_interleave(m.zeros(3), m.tensor([1, 2])),
     ["repeats must have the same size"]),
    ("repeat_interleave_negative", lambda m: m.repeat_interleave(m.zeros(3), -1), ["non-negative"]),
    ("tensordot_mismatch", lambda m: m.tensordot(m.zeros(2, 3), m.zeros(4, 3), dims=([1], [0])),
     ["contracted dimensions need to match"]),
    ("tensordot_negative", lambda m: m.tensordot(m.zeros(2), m.zeros(2), dims=-1), ["dims"]),
    ("meshgrid_2d", lambda m: m.meshgrid(m.zeros(2, 2), indexing="ij"), ["meshgrid"]),
    ("meshgrid_dtypes", lambda m: m.meshgrid(m.zeros(2), m.zeros(2, dtype=m.int64),
                                             indexing="ij"), ["dtype"]),
]  # fmt: skip


@pytest.mark.parametrize("name, fn, parts", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, parts):
    raises_like_torch(fn, parts)
