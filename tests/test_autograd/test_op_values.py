"""PyTorch parity: forward values, dtypes, shapes and gradients of every op in the contract.

Each row of a table is ``(id, fn, inputs)``: ``fn(lib, *tensors)`` is called once with
``lib = autograd`` and once with ``lib = torch`` (the APIs share names), on the same float64
inputs. Outputs must agree in value, shape and dtype; then both sides backpropagate the same
random upstream gradient and every input's ``.grad`` must agree.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import autograd as ag

from parity import import_torch, to_numpy

torch = import_torch()

# torch warns where it returns nan for N - correction <= 0; we return the same nan silently.
pytestmark = pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning")

ATOL = 1e-10
RTOL = 1e-8


# input specs: each is a callable ``rng -> ndarray``
def R(*shape):  # noqa: N802 - short table vocabulary
    """Standard normal float64."""
    return lambda rng: rng.standard_normal(shape)


def P(*shape):  # noqa: N802
    """Positive float64 in [0.5, 2)."""
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def U(*shape):  # noqa: N802
    """Float64 in (-0.9, 0.9) (asin/acos domain)."""
    return lambda rng: rng.uniform(-0.9, 0.9, shape)


def A(values, dtype=np.float64):  # noqa: N802
    """An explicit array."""
    return lambda rng: np.array(values, dtype=dtype)


def I(values):  # noqa: E743, N802
    """An explicit int64 array (no gradient)."""
    return A(values, np.int64)


def B(values):  # noqa: N802
    """An explicit bool array (no gradient)."""
    return A(values, np.bool_)


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def _flatten(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _assert_same(ours, theirs, where: str, atol=ATOL, rtol=RTOL) -> None:
    expected = to_numpy(theirs)
    actual = np.asarray(ours.detach().detach().numpy() if isinstance(ours, ag.Tensor) else ours)
    assert actual.shape == expected.shape, (
        f"{where}: shape {actual.shape} vs torch {expected.shape}"
    )
    assert str(actual.dtype) == str(expected.dtype), (
        f"{where}: dtype {actual.dtype} vs torch {expected.dtype}"
    )
    np.testing.assert_allclose(
        actual, expected, atol=atol, rtol=rtol, equal_nan=True, err_msg=where
    )


def run_parity(name, fn, specs, *, grad=True, atol=ATOL, rtol=RTOL, dtype=None):
    """Compare ``fn(ag, ...)`` with ``fn(torch, ...)``: outputs, then input gradients."""
    rng = _rng(name)
    arrays = [spec(rng) for spec in specs]
    arrays = [a.astype(dtype) if dtype and a.dtype.kind == "f" else a for a in arrays]
    ours = [ag.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    out_ours, out_theirs = _flatten(fn(ag, *ours)), _flatten(fn(torch, *theirs))
    assert len(out_ours) == len(out_theirs), f"{name}: {len(out_ours)} outputs vs {len(out_theirs)}"
    for k, (o, t) in enumerate(zip(out_ours, out_theirs)):
        _assert_same(o, t, f"{name}: output {k}", atol, rtol)
    if not grad:
        return
    loss_ours, loss_theirs = 0.0, 0.0
    for o, t in zip(out_ours, out_theirs):
        if t.requires_grad and t.dtype.is_floating_point:
            upstream = rng.standard_normal(tuple(t.shape)).astype(o.dtype)
            loss_ours = loss_ours + (o * ag.tensor(upstream)).sum()
            loss_theirs = loss_theirs + (t * torch.tensor(upstream)).sum()
    if isinstance(loss_theirs, float):
        return
    loss_ours.backward()
    loss_theirs.backward()
    for k, (x, t) in enumerate(zip(ours, theirs)):
        if not t.requires_grad:
            continue
        if t.grad is None:
            assert x.grad is None or not np.any(x.grad.detach().numpy()), f"{name}: input {k} grad should be 0"
            continue
        assert x.grad is not None, f"{name}: input {k} got no gradient"
        _assert_same(x.grad, t.grad, f"{name}: grad of input {k}", atol, rtol)


def rows(*table):
    """``pytest.mark.parametrize`` over ``(id, fn, specs)`` rows, with readable ids."""
    return pytest.mark.parametrize("name,fn,specs", table, ids=[row[0] for row in table])


ELEMENTWISE = [
    ("add", lambda m, x, y: x + y, [R(3, 4), R(4)]),
    ("add_fn", lambda m, x, y: m.add(x, y), [R(3, 1), R(1, 4)]),
    ("sub", lambda m, x, y: x - y, [R(2, 3), R(2, 1)]),
    ("mul", lambda m, x, y: x * y, [R(3, 4), R(3, 4)]),
    ("mul_fn", lambda m, x, y: m.mul(x, y), [R(2, 1, 3), R(4, 1)]),
    ("div", lambda m, x, y: x / y, [R(3, 4), P(4)]),
    ("div_fn", lambda m, x, y: m.div(x, y), [R(3), P(2, 3)]),
    ("pow_tensor", lambda m, x, y: x**y, [P(3, 4), R(4)]),
    ("pow_fn", lambda m, x, y: m.pow(x, y), [P(3), R(2, 3)]),
    ("pow_scalar", lambda m, x: x**3, [R(5)]),
    ("pow_half", lambda m, x: x**0.5, [P(5)]),
    ("pow_neg", lambda m, x: x**-2, [P(5)]),
    ("neg", lambda m, x: -x, [R(2, 3)]),
    ("radd", lambda m, x: 2 + x, [R(3)]),
    ("rsub", lambda m, x: 2 - x, [R(3)]),
    ("rmul", lambda m, x: 2.5 * x, [R(3)]),
    ("rdiv", lambda m, x: 2 / x, [P(3)]),
    ("rpow", lambda m, x: 2**x, [R(3)]),
    ("rpow_float", lambda m, x: 0.5**x, [R(3)]),
    ("sub_scalar", lambda m, x: x - 1.5, [R(3)]),
    ("div_scalar", lambda m, x: x / 4, [R(3)]),
    ("exp", lambda m, x: m.exp(x), [R(3, 4)]),
    ("exp_method", lambda m, x: x.exp(), [R(3)]),
    ("log", lambda m, x: m.log(x), [P(3, 4)]),
    ("log1p", lambda m, x: m.log1p(x), [P(3, 4)]),
    ("log2", lambda m, x: m.log2(x), [P(3)]),
    ("log10", lambda m, x: m.log10(x), [P(3)]),
    ("expm1", lambda m, x: m.expm1(x), [R(3)]),
    ("sqrt", lambda m, x: m.sqrt(x), [P(3, 4)]),
    ("rsqrt", lambda m, x: m.rsqrt(x), [P(3, 4)]),
    ("square", lambda m, x: m.square(x), [R(3)]),
    ("reciprocal", lambda m, x: m.reciprocal(x), [P(3)]),
    ("sin", lambda m, x: m.sin(x), [R(3, 4)]),
    ("cos", lambda m, x: m.cos(x), [R(3, 4)]),
    ("tan", lambda m, x: m.tan(x), [U(5)]),
    ("asin", lambda m, x: m.asin(x), [U(5)]),
    ("acos", lambda m, x: m.acos(x), [U(5)]),
    ("atan", lambda m, x: m.atan(x), [R(5)]),
    ("sinh", lambda m, x: m.sinh(x), [R(5)]),
    ("cosh", lambda m, x: m.cosh(x), [R(5)]),
    ("tanh", lambda m, x: m.tanh(x), [R(3, 4)]),
    ("sigmoid", lambda m, x: m.sigmoid(x), [R(3, 4)]),
    ("sigmoid_large", lambda m, x: m.sigmoid(x), [A([-800.0, -40.0, 0.0, 40.0, 800.0])]),
    ("erf", lambda m, x: m.erf(x), [R(6)]),
    ("erf_0d_tail", lambda m, x: m.erf(x), [A(3.5)]),  # the continued fraction on a 0-d input
    ("relu", lambda m, x: m.relu(x), [R(3, 4)]),
    ("abs", lambda m, x: m.abs(x), [R(3, 4)]),
    ("abs_dunder", lambda m, x: abs(x), [R(3)]),
    ("sign", lambda m, x: m.sign(x), [R(3, 4)]),
    ("floor", lambda m, x: m.floor(3 * x), [R(5)]),
    ("ceil", lambda m, x: m.ceil(3 * x), [R(5)]),
    ("round", lambda m, x: m.round(3 * x), [R(5)]),
    ("trunc", lambda m, x: m.trunc(3 * x), [R(5)]),
    ("clamp", lambda m, x: m.clamp(x, -0.5, 0.5), [R(3, 4)]),
    ("clamp_min", lambda m, x: x.clamp(min=0.1), [R(3, 4)]),
    ("clamp_max", lambda m, x: x.clamp(max=0.1), [R(3, 4)]),
    ("clamp_tensor", lambda m, x, lo, hi: x.clamp(lo, hi), [R(3, 4), A(-0.3), A([0.1, 0.2, 0.3, 0.4])]),
    ("clip", lambda m, x: m.clip(x, -0.2, 0.2), [R(3, 4)]),
    ("maximum", lambda m, x, y: m.maximum(x, y), [R(3, 4), R(4)]),
    ("minimum", lambda m, x, y: m.minimum(x, y), [R(3, 1), R(4)]),
    ("where", lambda m, c, x, y: m.where(c, x, y), [B([True, False, True]), R(2, 3), R(2, 1)]),
    ("where_scalar", lambda m, c, x: m.where(c, x, 0.0), [B([True, False, True]), R(2, 3)]),
    ("where_method", lambda m, c, x, y: x.where(c, y), [B([True, False]), R(2, 2), R(2)]),
    ("masked_fill", lambda m, c, x: x.masked_fill(c, -1.0), [B([[True], [False]]), R(2, 3)]),
    ("lerp", lambda m, x, y: m.lerp(x, y, 0.3), [R(4), R(4)]),
    ("chain", lambda m, x, y: (x.exp() * y).sin().sum(1) / (1 + y.abs().sum(1)), [R(3, 4), R(3, 4)]),
]  # fmt: skip


@rows(*ELEMENTWISE)
def test_elementwise_matches_torch(name, fn, specs):
    run_parity(name, fn, specs)


def _inplace_ops(m, x, y):
    z = x * 1
    z += 1
    z *= y
    z -= 2
    z /= y * y + 1
    z.add_(x, alpha=2)
    z.sub_(y)
    z.mul_(0.5)
    z.div_(3)
    z.pow_(2)
    z.clamp_(max=0.5)
    z.neg_()
    z.exp_()
    return z


def _mul_view(y):
    y[0:2].mul_(2)
    return y


def _add_to(base, make_view, y):
    make_view(base).add_(y)
    return base


def _inplace_setitem(m, x, y):
    z = x * 2
    z[0] = y[1]
    z[:, 1] *= 3
    return z


INPLACE = [
    ("inplace_arithmetic", _inplace_ops, [R(3, 4), R(3, 4)]),
    ("inplace_broadcast", lambda m, x, y: (x * 1).mul_(y).add_(y), [R(3, 4), R(4)]),
    ("inplace_scalar_ops", lambda m, x: (x * 1).add_(2).sqrt_(), [P(3)]),
    ("inplace_masked_fill", lambda m, c, x: (x * 2).masked_fill_(c, 0.5), [B([True, False, True]), R(2, 3)]),
    ("inplace_setitem", _inplace_setitem, [R(3, 4), R(3, 4)]),
    ("inplace_on_slice_view", lambda m, x: _mul_view(x * 1), [R(3)]),
    ("inplace_on_reshape_view", lambda m, x, y: _add_to(x * 1, lambda z: z.view(-1), y), [R(2, 3), R(6)]),
    ("inplace_on_transpose_view", lambda m, x, y: _add_to(x * 1, lambda z: z.T, y), [R(2, 3), R(3, 2)]),
    ("inplace_on_view_of_view", lambda m, x, y: _add_to(x * 1, lambda z: z[1:][:, 0], y), [R(3, 2), R(2)]),
    ("inplace_zero_", lambda m, x: (x * 2).zero_() + x, [R(3)]),
    ("inplace_fill_", lambda m, x: (x * 2).fill_(1.5) * x, [R(3)]),
    ("inplace_copy_", lambda m, x, y: (x * 2).copy_(y) * x, [R(2, 3), R(3)]),
    ("inplace_scatter_add_", lambda m, x, i, s: (x * 1).scatter_add_(1, i, s),
     [R(2, 4), I([[0, 0, 3], [1, 2, 1]]), R(2, 3)]),
]  # fmt: skip


def F32(*shape):  # noqa: N802
    """Standard normal float32."""
    return lambda rng: rng.standard_normal(shape).astype(np.float32)


MIXED = [
    ("f32_times_f64", lambda m, x, y: x * y, [F32(3), R(2, 3)]),
    ("f32_plus_f64_0d", lambda m, x, w: x + w, [F32(2, 3), A(1.5)]),
    ("f64_0d_weight", lambda m, x, w: (x * w).sum(0), [R(2, 3), A(0.7)]),
    ("f32_matmul_f64_cast", lambda m, x, y: x.double() @ y, [F32(2, 3), R(3, 2)]),
    ("f32_to_f64_and_back", lambda m, x: (x.to(m.float64).exp() * 2).float(), [F32(4)]),
    ("f32_where_f64", lambda m, c, x, y: m.where(c, x, y), [B([True, False, True]), F32(3), R(3)]),
    ("f32_cat_after_cast", lambda m, x, y: m.cat([x.double(), y]), [F32(2), R(3)]),
    ("empty_sum", lambda m, x: x.sum(0), [R(0, 3)]),
    ("empty_mul_broadcast", lambda m, x, y: x * y, [R(0, 3), R(3)]),
    ("empty_matmul", lambda m, x, y: x @ y, [R(0, 3), R(3, 2)]),
    ("empty_index", lambda m, x: x[[]], [R(3, 2)]),
    ("size_one_dims", lambda m, x, y: (x * y).sum((0, 2)), [R(1, 3, 1), R(2, 1, 4)]),
]


@rows(*MIXED)
def test_mixed_dtypes_and_empty_tensors_match_torch(name, fn, specs):
    run_parity(name, fn, specs)


@rows(*INPLACE)
def test_inplace_on_non_leaf_matches_torch(name, fn, specs):
    run_parity(name, fn, specs)


@rows(*INPLACE)
def test_inplace_on_non_leaf_in_float32(name, fn, specs):
    run_parity(name, fn, specs, dtype=np.float32, atol=1e-4, rtol=1e-4)


COMPARISONS = [
    ("lt", lambda m, x, y: x < y),
    ("le", lambda m, x, y: x <= y),
    ("gt", lambda m, x, y: x > y),
    ("ge", lambda m, x, y: x >= y),
    ("eq", lambda m, x, y: x == y),
    ("ne", lambda m, x, y: x != y),
    ("lt_scalar", lambda m, x, y: x < 0.5),
    ("eq_scalar_reflected", lambda m, x, y: 0.5 == x),
    ("gt_fn", lambda m, x, y: m.gt(x, y)),
    ("logical_and", lambda m, x, y: (x > 0) & (y > 0)),
    ("logical_or", lambda m, x, y: (x > 0) | (y > 0)),
    ("logical_xor", lambda m, x, y: (x > 0) ^ (y > 0)),
    ("logical_not", lambda m, x, y: ~(x > 0)),
    ("isnan", lambda m, x, y: m.isnan(x / y)),
    ("isinf", lambda m, x, y: m.isinf(x / y)),
    ("isfinite", lambda m, x, y: m.isfinite(x / y)),
]


@pytest.mark.parametrize("name,fn", COMPARISONS, ids=[c[0] for c in COMPARISONS])
def test_comparisons_return_bool(name, fn):
    specs = [A([[0.5, -1.0, 2.0], [0.0, 0.5, 3.0]]), A([0.5, 0.0, -2.0])]
    run_parity(name, fn, specs, grad=False)
    x = ag.tensor([0.5, 1.0], requires_grad=True)
    out = fn(ag, x, ag.tensor([1.0, 1.0]))
    assert out.dtype == ag.bool and out.grad_fn is None and not out.requires_grad


def _t32(values):
    return lambda m: m.tensor(values, dtype=m.float32)


def _t64(values):
    return lambda m: m.tensor(values, dtype=m.float64)


def _ti(values):
    return lambda m: m.tensor(values)


# (id, fn(m) -> tensor): value, dtype and shape against torch, no gradients
DTYPES = [
    ("f32_plus_pyfloat", lambda m: _t32([1.0, 2.0])(m) + 2.5),
    ("f32_times_pyint", lambda m: _t32([1.0, 2.0])(m) * 3),
    ("pyfloat_minus_f32", lambda m: 2.5 - _t32([1.0, 2.0])(m)),
    ("i64_times_pyfloat", lambda m: _ti([1, 2])(m) * 2.5),
    ("i64_plus_pyint", lambda m: _ti([1, 2])(m) + 3),
    ("i64_plus_bool", lambda m: _ti([1, 2])(m) + True),
    ("bool_plus_bool", lambda m: m.tensor([True, False]) + m.tensor([True, True])),
    ("bool_times_pyint", lambda m: m.tensor([True, False]) * 3),
    ("f32_times_f64", lambda m: _t32([1.0, 2.0])(m) * _t64([3.0, 4.0])(m)),
    ("f32_times_f64_from_numpy", lambda m: _t32([1.0, 2.0])(m) * m.tensor(np.array([3.0, 4.0]))),
    ("int_div_int", lambda m: _ti([1, 2, 3])(m) / _ti([2, 2, 2])(m)),
    ("int_div_pyint", lambda m: _ti([1, 2, 3])(m) / 2),
    ("pyint_div_int", lambda m: 6 / _ti([1, 2, 3])(m)),
    ("f64_0d_plus_f32", lambda m: _t64(2.0)(m) + _t32([1.0, 2.0])(m)),
    ("f32_0d_plus_f64_0d", lambda m: _t32(2.0)(m) + _t64(1.0)(m)),
    ("f64_0d_plus_i64", lambda m: _t64(2.5)(m) + _ti([1, 2])(m)),
    ("i64_0d_plus_f32", lambda m: _ti(2)(m) + _t32([1.0, 2.0])(m)),
    ("i64_pow_2", lambda m: _ti([1, 2, 3])(m) ** 2),
    ("i64_pow_half", lambda m: _ti([1, 4, 9])(m) ** 0.5),
    ("pyint_pow_i64", lambda m: 2 ** _ti([1, 2, 3])(m)),
    ("pyfloat_pow_i64", lambda m: 2.0 ** _ti([1, 2, 3])(m)),
    ("f32_pow_f64_0d", lambda m: _t32([1.0, 2.0])(m) ** _t64(2.0)(m)),
    ("neg_i64", lambda m: -_ti([1, -2])(m)),
    ("abs_i64", lambda m: m.abs(_ti([1, -2])(m))),
    ("floordiv_i64", lambda m: _ti([7, -7])(m) // 2),
    ("mod_i64", lambda m: _ti([7, -7])(m) % 3),
    ("floordiv_f32", lambda m: _t32([7.5, -7.5])(m) // 2),
    ("mod_f32", lambda m: _t32([7.5, -7.5])(m) % 2),
    ("exp_i64", lambda m: m.exp(_ti([0, 1, 2])(m))),
    ("log_i64", lambda m: m.log(_ti([1, 2, 3])(m))),
    ("sqrt_i64", lambda m: m.sqrt(_ti([1, 4, 9])(m))),
    ("sin_i64", lambda m: m.sin(_ti([0, 1])(m))),
    ("sigmoid_i64", lambda m: m.sigmoid(_ti([0, 1])(m))),
    ("tanh_bool", lambda m: m.tanh(m.tensor([True, False]))),
    ("relu_i64", lambda m: m.relu(_ti([-1, 2])(m))),
    ("sign_i64", lambda m: m.sign(_ti([-3, 0, 2])(m))),
    ("sign_bool", lambda m: m.sign(m.tensor([True, False]))),
    ("clamp_i64", lambda m: m.clamp(_ti([-3, 0, 5])(m), -1, 2)),
    ("maximum_f32_f64", lambda m: m.maximum(_t32([1.0, 5.0])(m), _t64([2.0, 3.0])(m))),
    ("where_f32_pyfloat", lambda m: m.where(m.tensor([True, False]), _t32([1.0, 2.0])(m), 0.0)),
    ("where_f32_f64", lambda m: m.where(m.tensor([True, False]), _t32([1.0, 2.0])(m), _t64([3.0, 4.0])(m))),
    ("where_i64_pyfloat", lambda m: m.where(m.tensor([True, False]), _ti([1, 2])(m), 0.5)),
    ("masked_fill_i64", lambda m: _ti([1, 2])(m).masked_fill(m.tensor([True, False]), 7)),
    ("sum_i64", lambda m: _ti([[1, 2], [3, 4]])(m).sum(1)),
    ("sum_bool", lambda m: m.tensor([True, False, True]).sum()),
    ("prod_i64", lambda m: _ti([[1, 2], [3, 4]])(m).prod(0)),
    ("sum_f32", lambda m: _t32([[1.0, 2.0]])(m).sum()),
    ("mean_f32", lambda m: _t32([[1.0, 2.0]])(m).mean(0)),
    ("var_f32", lambda m: _t32([[1.0, 2.0, 4.0]])(m).var(1)),
    ("amax_i64", lambda m: _ti([[1, 5], [3, 4]])(m).amax(1)),
    ("max_dim_i64", lambda m: tuple(_ti([[1, 5], [3, 4]])(m).max(1))),
    ("argmax_f32", lambda m: _t32([[1.0, 5.0], [3.0, 4.0]])(m).argmax(1)),
    ("argmin_all", lambda m: _t32([[1.0, 5.0], [-3.0, 4.0]])(m).argmin()),
    ("cumsum_i64", lambda m: _ti([1, 2, 3])(m).cumsum(0)),
    ("softmax_f32", lambda m: m.softmax(_t32([1.0, 2.0, 3.0])(m), 0)),
    ("log_softmax_f32", lambda m: m.log_softmax(_t32([1.0, 2.0, 3.0])(m), 0)),
    ("logsumexp_f32", lambda m: m.logsumexp(_t32([1.0, 2.0, 3.0])(m), 0)),
    ("norm_f32", lambda m: _t32([3.0, 4.0])(m).norm()),
    ("matmul_f32", lambda m: _t32([[1.0, 2.0]])(m) @ _t32([[3.0], [4.0]])(m)),
    ("getitem_i64", lambda m: _ti([[1, 2], [3, 4]])(m)[:, 1]),
    ("cat_i64", lambda m: m.cat([_ti([1, 2])(m), _ti([3])(m)])),
    ("float_cast", lambda m: _ti([1, 2])(m).float()),
    ("double_cast", lambda m: _t32([1.5])(m).double()),
    ("long_cast", lambda m: _t32([1.5, -1.5])(m).long()),
    ("to_f64", lambda m: _t32([1.5])(m).to(m.float64)),
    ("arange_i64", lambda m: m.arange(4) * 1.5),
    ("f32_times_i64_tensor", lambda m: _t32([1.5, 2.0])(m) * _ti([2, 3])(m)),
    ("i64_tensor_plus_f16", lambda m: _ti([2, 3])(m) + m.tensor([1.5, 2.0], dtype=m.float16)),
    ("i64_times_f64_tensor", lambda m: _ti([2, 3])(m) * _t64([1.5, 2.0])(m)),
    ("bool_times_i64", lambda m: m.tensor([True, False]) * _ti([2, 3])(m)),
    ("u8_plus_i8", lambda m: m.tensor([1], dtype=m.uint8) + m.tensor([-1], dtype=m.int8)),
    ("f32_pow_i64_tensor", lambda m: _t32([2.0, 3.0])(m) ** _ti([3, 2])(m)),
    ("where_f32_i64", lambda m: m.where(m.tensor([True, False]), _t32([1.5, 2.0])(m), _ti([3, 4])(m))),
    ("clamp_i64_float_bound", lambda m: _ti([1, 5])(m).clamp(min=2.5)),
    ("floor_i64", lambda m: m.floor(_ti([1, -2])(m))),
    ("round_half_even", lambda m: m.round(_t32([0.5, 1.5, 2.5, -0.5])(m))),
    ("div_by_zero", lambda m: _t32([1.0, 0.0, -1.0])(m) / 0),
    ("int_div_by_zero", lambda m: _ti([1, 0])(m) / 0),
    ("mod_negative_divisor", lambda m: _t32([-3.5, 3.5])(m) % -2),
    ("sum_dtype_arg", lambda m: _t32([1.5, 2.5])(m).sum(dtype=m.float64)),
    ("sum_empty_tuple_dim", lambda m: _t32([[1.0, 2.0]])(m).sum(())),
    ("std_single_is_nan", lambda m: _t32([1.0])(m).std(correction=1)),
    ("argmax_ties_first", lambda m: _t32([[1.0, 3.0, 3.0]])(m).argmax(1)),
    ("max_dim_ties_index", lambda m: _t32([[3.0, 1.0, 3.0]])(m).max(1).indices),
    ("max_nan_propagates", lambda m: _t32([1.0, float("nan"), 2.0])(m).max()),
    ("maximum_nan_propagates", lambda m: m.maximum(_t32([1.0, float("nan")])(m), _t32([float("nan"), 0.0])(m))),
    ("logsumexp_0d", lambda m: _t32(2.0)(m).logsumexp(0)),
    ("logsumexp_empty", lambda m: m.logsumexp(m.zeros(0), 0)),
    ("sum_empty", lambda m: m.zeros(0).sum()),
    ("mean_empty_is_nan", lambda m: m.zeros(0).mean()),
    ("prod_empty", lambda m: m.zeros(0).prod()),
    ("norm_p0", lambda m: _t32([0.0, 1.0, -2.0])(m).norm(0)),
    ("norm_neg_inf", lambda m: _t32([0.5, 1.0, -2.0])(m).norm(float("-inf"))),
    ("softmax_0d", lambda m: m.softmax(_t32(2.0)(m), 0)),
    ("sigmoid_f32_saturates", lambda m: m.sigmoid(_t32([100.0, -100.0])(m))),
    ("squeeze_tuple", lambda m: m.zeros(1, 2, 1).squeeze((0, 2))),
    ("squeeze_0d", lambda m: _t32(1.0)(m).squeeze(0)),
    ("expand_new_leading_dims", lambda m: m.zeros(3, 1).expand(2, -1, 4)),
    ("cat_empty_rows", lambda m: m.cat([m.zeros(0, 3), m.ones(2, 3)])),
    ("cat_legacy_empty_1d", lambda m: m.cat([m.zeros(0), m.ones(2, 3)])),
    ("view_empty", lambda m: m.zeros(0, 3).view(-1, 3)),
    ("repeat_0d", lambda m: _t32(1.0)(m).repeat(2, 3)),
    ("narrow_neg_start", lambda m: m.arange(5).narrow(0, -2, 2)),
    ("index_list_of_bools", lambda m: m.arange(3)[[True, False, True]]),
    ("index_two_lists_apart", lambda m: m.arange(24).reshape(2, 3, 4)[[0, 1], :, [1, 2]]),
    ("index_0d_tensor_and_list", lambda m: m.arange(24).reshape(2, 3, 4)[m.tensor(1), :, [0, 2]]),
    ("index_2d_mask", lambda m: m.arange(6).reshape(2, 3)[m.tensor([[True, False, True], [False, True, False]])]),
    ("index_select_0d_index", lambda m: m.arange(6).reshape(2, 3).index_select(1, m.tensor(2))),
    ("masked_select_broadcast", lambda m: m.arange(6).reshape(2, 3).masked_select(m.tensor([True, False, True]))),
    ("masked_fill_broadcast", lambda m: m.zeros(2, 3).masked_fill(m.tensor([True, False, True]), 2.0)),
    ("where_both_scalars", lambda m: m.where(m.tensor([True, False]), 1.0, 0.0)),
    ("where_condition_only", lambda m: m.where(m.tensor([[True, False], [True, True]]))),
    ("compare_int_float", lambda m: _ti([1, 2])(m) < _t32([1.5, 1.5])(m)),
    ("einsum_middle_ellipsis", lambda m: m.einsum("i...j->j...i", m.arange(24.0).reshape(2, 3, 4))),
    ("einsum_capital_letters", lambda m: m.einsum("Ab,bC->AC", m.ones(2, 3), m.ones(3, 4))),
    ("matmul_i64", lambda m: _ti([[1, 2]])(m) @ _ti([[3], [4]])(m)),
    ("outer_i64", lambda m: m.outer(_ti([1, 2])(m), _ti([3])(m))),
]  # fmt: skip


@pytest.mark.parametrize("name,fn", DTYPES, ids=[d[0] for d in DTYPES])
def test_dtype_promotion_matches_torch(name, fn):
    ours, theirs = _flatten(fn(ag)), _flatten(fn(torch))
    for o, t in zip(ours, theirs):
        _assert_same(o, t, name, atol=1e-6, rtol=1e-6)


@rows(*ELEMENTWISE)
def test_float32_values_and_gradients_stay_float32(name, fn, specs):
    with np.errstate(over="ignore"):
        run_parity(name, fn, specs, dtype=np.float32, atol=1e-5, rtol=1e-5)


KINKS = [
    ("relu_at_0", lambda m, x: m.relu(x), [A([-1.0, 0.0, 1.0])]),
    ("abs_at_0", lambda m, x: m.abs(x), [A([-1.0, 0.0, 1.0])]),
    ("sign_zero_grad", lambda m, x: m.sign(x), [A([-1.0, 0.0, 1.0])]),
    ("clamp_at_bounds", lambda m, x: x.clamp(-0.5, 0.5), [A([-1.0, -0.5, 0.0, 0.5, 1.0])]),
    ("clamp_min_at_bound", lambda m, x: x.clamp(min=0.0), [A([-1.0, 0.0, 1.0])]),
    ("clamp_min_gt_max", lambda m, x: x.clamp(0.5, -0.5), [A([-1.0, 0.0, 1.0])]),
    ("amax_ties", lambda m, x: x.amax(1), [A([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])]),
    ("amax_ties_tuple", lambda m, x: x.amax((0, 1)), [A([[1.0, 3.0, 3.0], [3.0, 2.0, 2.0]])]),
    ("amin_ties_keepdim", lambda m, x: x.amin(0, keepdim=True), [A([[1.0, 3.0], [1.0, 2.0]])]),
    ("max_full_ties", lambda m, x: x.max(), [A([[1.0, 3.0, 3.0], [3.0, 2.0, 0.0]])]),
    ("min_full_ties", lambda m, x: m.min(x), [A([[0.0, 3.0, 0.0], [3.0, 2.0, 0.0]])]),
    ("max_dim_ties", lambda m, x: tuple(x.max(1)), [A([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])]),
    ("min_dim_ties", lambda m, x: tuple(x.min(dim=0)), [A([[1.0, 3.0, 0.0], [1.0, 2.0, 0.0]])]),
    ("maximum_ties", lambda m, x, y: m.maximum(x, y), [A([1.0, 2.0, 3.0]), A([1.0, 0.0, 3.0])]),
    ("minimum_ties", lambda m, x, y: m.minimum(x, y), [A([1.0, 2.0, 3.0]), A([1.0, 5.0, 3.0])]),
    ("max_binary_ties", lambda m, x, y: m.max(x, y), [A([1.0, 2.0]), A([1.0, 0.0])]),
    ("sqrt_at_0", lambda m, x: m.sqrt(x), [A([0.0, 1.0, 4.0])]),
    ("pow_0_base_exp_0", lambda m, x, e: x**e, [A([0.0, 0.0, 2.0]), A([0.0, 0.0, 0.0])]),
    ("pow_0_base_exp_2", lambda m, x, e: x**e, [A([0.0, 1.0, 2.0]), A([2.0, 2.0, 2.0])]),
    ("pow_0_base_scalar_0", lambda m, x: x**0, [A([0.0, 1.0, 2.0])]),
    ("pow_0_base_scalar_2", lambda m, x: x**2, [A([0.0, -1.0, 2.0])]),
    ("pow_neg_base_int_exp", lambda m, x: x**3.0, [A([-2.0, -1.0, 2.0])]),
    ("rpow_0_base", lambda m, e: 0.0**e, [A([0.0, 1.0, 2.0])]),
    ("norm_zero_vector", lambda m, x: x.norm(), [A([0.0, 0.0, 0.0])]),
    ("norm_zero_rows", lambda m, x: x.norm(dim=1), [A([[0.0, 0.0], [3.0, 4.0]])]),
    ("norm_p3_zero_vector", lambda m, x: x.norm(p=3), [A([0.0, 0.0])]),
    ("norm_p3_zero_rows", lambda m, x: x.norm(p=3, dim=1), [A([[0.0, 0.0], [1.0, -2.0]])]),
    ("where_grads", lambda m, c, x, y: m.where(c, x * 2, y.exp()), [B([True, False, True]), R(3), R(3)]),
    ("masked_fill_grad", lambda m, c, x: x.masked_fill(c, 0.0) * x, [B([True, False, True]), R(2, 3)]),
    ("masked_fill_tensor_value", lambda m, c, x, v: x.masked_fill(c, v), [B([True, False]), R(2, 2), A(1.5)]),
    ("prod_one_zero", lambda m, x: x.prod(), [A([2.0, 0.0, 3.0])]),
    ("prod_two_zeros", lambda m, x: x.prod(), [A([2.0, 0.0, 3.0, 0.0])]),
    ("prod_dim_zeros", lambda m, x: x.prod(1), [A([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]])]),
    ("prod_dim_zeros_keepdim", lambda m, x: x.prod(0, keepdim=True), [A([[2.0, 0.0], [0.0, 0.0], [1.0, 2.0]])]),
    ("logsumexp_neg_inf", lambda m, x: m.logsumexp(x, 1), [A([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, 2.0]])]),
    ("logsumexp_all_neg_inf", lambda m, x: m.logsumexp(x, 1), [A([[-np.inf, -np.inf], [0.0, 1.0]])]),
    ("logsumexp_large", lambda m, x: m.logsumexp(x, -1), [A([[1e4, 1e4 - 1.0, 0.0], [-1e4, 1.0, 2.0]])]),
    ("softmax_large", lambda m, x: m.softmax(x, dim=-1), [A([[1e4, 0.0, -1e4], [1e4, 1e4, 1.0]])]),
    ("log_softmax_large", lambda m, x: m.log_softmax(x, dim=1), [A([[1e4, 0.0, -1e4], [1e4, 1e4, 1.0]])]),
    ("softmax_neg_inf", lambda m, x: m.softmax(x, dim=-1), [A([[0.0, -np.inf, 1.0]])]),
]  # fmt: skip


@rows(*KINKS)
def test_kinks_and_ties_follow_torch(name, fn, specs):
    with np.errstate(divide="ignore", invalid="ignore"):
        run_parity(name, fn, specs)


@rows(*KINKS)
def test_kinks_and_ties_in_float32(name, fn, specs):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        run_parity(name, fn, specs, dtype=np.float32, atol=1e-4, rtol=1e-5)


def test_max_dim_returns_named_values_and_indices():
    x = ag.tensor([[1.0, 3.0, 2.0], [4.0, 0.0, 4.0]], requires_grad=True)
    result = x.max(dim=1)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert indices.dtype == ag.int64
    np.testing.assert_array_equal(indices.detach().numpy(), [1, 0])
    result_min = ag.min(x, 0, keepdim=True)
    assert result_min.values.shape == (1, 3) and result_min.indices.shape == (1, 3)


def test_softmax_large_logits_have_finite_values_and_gradients():
    x = ag.tensor([[1e4, 0.0, -1e4], [3e4, 3e4, 3e4]], requires_grad=True)
    for fn in (ag.softmax, ag.log_softmax):
        x.grad = None
        out = fn(x, dim=1)
        (out * ag.tensor([[1.0, 2.0, 3.0], [1.0, -1.0, 0.5]])).sum().backward()
        assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.detach().numpy()).all()


REDUCTIONS = [
    ("sum_all", lambda m, x: x.sum(), [R(3, 4)]),
    ("sum_dim", lambda m, x: x.sum(1), [R(3, 4)]),
    ("sum_neg_dim", lambda m, x: x.sum(dim=-1, keepdim=True), [R(3, 4)]),
    ("sum_tuple", lambda m, x: m.sum(x, (0, 2)), [R(2, 3, 4)]),
    ("sum_tuple_neg_keepdim", lambda m, x: x.sum((-1, 0), keepdim=True), [R(2, 3, 4)]),
    ("sum_0d", lambda m, x: x.sum(0), [A(2.0)]),
    ("max_dim_0d", lambda m, x: tuple(x.max(0)), [A(2.0)]),
    ("min_dim_0d_keepdim", lambda m, x: tuple(x.min(-1, keepdim=True)), [A(2.0)]),
    ("argmax_dim_0d", lambda m, x: x.argmax(0), [A(2.0)]),
    ("softmax_0d", lambda m, x: x.softmax(0), [A(2.0)]),
    ("cumsum_0d", lambda m, x: x.cumsum(0), [A(2.0)]),
    ("mean_all", lambda m, x: x.mean(), [R(3, 4)]),
    ("mean_dim", lambda m, x: m.mean(x, dim=0), [R(3, 4)]),
    ("mean_tuple_keepdim", lambda m, x: x.mean((1, 2), keepdim=True), [R(2, 3, 4)]),
    ("var_all", lambda m, x: x.var(), [R(3, 4)]),
    ("var_dim", lambda m, x: x.var(1), [R(3, 4)]),
    ("var_biased", lambda m, x: x.var(1, unbiased=False), [R(3, 4)]),
    ("var_correction_0", lambda m, x: x.var(dim=0, correction=0), [R(3, 4)]),
    ("var_correction_2", lambda m, x: m.var(x, dim=-1, correction=2, keepdim=True), [R(3, 5)]),
    ("var_tuple", lambda m, x: x.var((0, 2)), [R(2, 3, 4)]),
    ("std_all", lambda m, x: x.std(), [R(3, 4)]),
    ("std_dim", lambda m, x: m.std(x, 1, keepdim=True), [R(3, 4)]),
    ("std_biased", lambda m, x: x.std(0, unbiased=False), [R(3, 4)]),
    ("std_correction", lambda m, x: x.std(dim=(0, 1), correction=0), [R(3, 4)]),
    ("prod_all", lambda m, x: x.prod(), [P(3, 4)]),
    ("prod_dim", lambda m, x: m.prod(x, -1), [R(3, 4)]),
    ("prod_keepdim", lambda m, x: x.prod(0, keepdim=True), [R(3, 4)]),
    ("amax_dim", lambda m, x: x.amax(-1), [R(3, 4)]),
    ("amax_tuple", lambda m, x: m.amax(x, (0, 2), keepdim=True), [R(2, 3, 4)]),
    ("amin_all", lambda m, x: x.amin(), [R(3, 4)]),
    ("max_all", lambda m, x: x.max(), [R(3, 4)]),
    ("max_dim", lambda m, x: tuple(x.max(1)), [R(3, 4)]),
    ("max_dim_keepdim", lambda m, x: tuple(m.max(x, dim=-1, keepdim=True)), [R(3, 4)]),
    ("min_dim", lambda m, x: tuple(x.min(0)), [R(3, 4)]),
    ("argmax_dim", lambda m, x: x.argmax(1), [R(3, 4)]),
    ("argmax_keepdim", lambda m, x: m.argmax(x, dim=0, keepdim=True), [R(3, 4)]),
    ("argmin_all", lambda m, x: x.argmin(), [R(3, 4)]),
    ("logsumexp_dim", lambda m, x: m.logsumexp(x, 1), [R(3, 4)]),
    ("logsumexp_tuple", lambda m, x: x.logsumexp((0, 1), keepdim=True), [R(2, 3, 4)]),
    ("norm_all", lambda m, x: x.norm(), [R(3, 4)]),
    ("norm_dim", lambda m, x: x.norm(dim=1), [R(3, 4)]),
    ("norm_p1", lambda m, x: x.norm(p=1, dim=0), [R(3, 4)]),
    ("norm_p3", lambda m, x: x.norm(3, dim=-1, keepdim=True), [R(3, 4)]),
    ("norm_inf", lambda m, x: x.norm(float("inf")), [R(3, 4)]),
    ("norm_fn", lambda m, x: m.norm(x, dim=(0, 1)), [R(3, 4)]),
    ("softmax", lambda m, x: m.softmax(x, 1), [R(3, 4)]),
    ("softmax_method", lambda m, x: x.softmax(dim=0), [R(3, 4)]),
    ("log_softmax", lambda m, x: m.log_softmax(x, -1), [R(3, 4)]),
    ("log_softmax_method", lambda m, x: x.log_softmax(0), [R(2, 3, 4)]),
    ("cumsum", lambda m, x: x.cumsum(1), [R(3, 4)]),
    ("all_any", lambda m, x: ((x > 0).all(1), (x > 0).any()), [R(3, 4)]),
]


@rows(*REDUCTIONS)
def test_reductions_match_torch(name, fn, specs):
    run_parity(name, fn, specs)


@rows(*REDUCTIONS)
def test_reductions_in_float32(name, fn, specs):
    run_parity(name, fn, specs, dtype=np.float32, atol=1e-4, rtol=1e-4)


def _chunk_sizes(m, x, chunks, dim=0):
    return tuple(x.chunk(chunks, dim))


SHAPES = [
    ("reshape", lambda m, x: x.reshape(4, 3), [R(3, 4)]),
    ("reshape_neg1", lambda m, x: x.reshape(-1, 6), [R(3, 4)]),
    ("reshape_tuple", lambda m, x: m.reshape(x, (2, -1, 2)), [R(3, 4)]),
    ("view_neg1", lambda m, x: x.view(-1), [R(3, 4)]),
    ("view_as", lambda m, x, y: x.view_as(y), [R(3, 4), R(12)]),
    ("flatten", lambda m, x: x.flatten(), [R(2, 3, 4)]),
    ("flatten_range", lambda m, x: x.flatten(1, 2), [R(2, 3, 4, 5)]),
    ("flatten_neg", lambda m, x: m.flatten(x, start_dim=-3, end_dim=-2), [R(2, 3, 4, 5)]),
    ("permute", lambda m, x: x.permute(2, 0, 1), [R(2, 3, 4)]),
    ("permute_tuple_neg", lambda m, x: x.permute((-1, 0, 1)), [R(2, 3, 4)]),
    ("transpose", lambda m, x: x.transpose(0, 2), [R(2, 3, 4)]),
    ("transpose_fn", lambda m, x: m.transpose(x, -1, -2), [R(2, 3, 4)]),
    ("T", lambda m, x: x.T, [R(3, 4)]),
    ("mT", lambda m, x: x.mT, [R(2, 3, 4)]),
    ("squeeze", lambda m, x: x.squeeze(), [R(1, 3, 1, 2)]),
    ("squeeze_dim", lambda m, x: x.squeeze(2), [R(1, 3, 1, 2)]),
    ("squeeze_dim_not_one", lambda m, x: x.squeeze(1), [R(1, 3, 1, 2)]),
    ("squeeze_neg", lambda m, x: m.squeeze(x, -2), [R(1, 3, 1, 2)]),
    ("unsqueeze", lambda m, x: x.unsqueeze(1), [R(3, 4)]),
    ("unsqueeze_neg", lambda m, x: m.unsqueeze(x, -1), [R(3, 4)]),
    ("expand", lambda m, x: x.expand(2, 3, 4), [R(3, 1)]),
    ("expand_neg1", lambda m, x: x.expand(-1, 4), [R(3, 1)]),
    ("expand_as", lambda m, x, y: x.expand_as(y), [R(1, 4), R(3, 4)]),
    ("repeat", lambda m, x: x.repeat(2, 3), [R(2, 3)]),
    ("repeat_new_dims", lambda m, x: x.repeat(2, 1, 2), [R(2, 3)]),
    ("chunk_5_into_3", lambda m, x: tuple(x.chunk(3)), [R(5, 2)]),
    ("chunk_6_into_4", lambda m, x: tuple(x.chunk(4)), [R(6, 2)]),
    ("chunk_dim", lambda m, x: tuple(m.chunk(x, 2, dim=1)), [R(2, 5)]),
    ("chunk_more_than_size", lambda m, x: tuple(x.chunk(5)), [R(3, 2)]),
    ("split_int", lambda m, x: tuple(x.split(2)), [R(5, 2)]),
    ("split_list", lambda m, x: tuple(x.split([1, 3, 1])), [R(5, 2)]),
    ("split_dim", lambda m, x: tuple(m.split(x, [3, 2], dim=-1)), [R(2, 5)]),
    ("cat", lambda m, x, y: m.cat([x, y]), [R(2, 3), R(1, 3)]),
    ("cat_dim", lambda m, x, y, z: m.cat((x, y, z), dim=-1), [R(2, 3), R(2, 1), R(2, 2)]),
    ("stack", lambda m, x, y: m.stack([x, y]), [R(2, 3), R(2, 3)]),
    ("stack_dim", lambda m, x, y: m.stack([x, y], dim=-1), [R(2, 3), R(2, 3)]),
    ("flip", lambda m, x: x.flip(0), [R(3, 4)]),
    ("flip_0d", lambda m, x: x.flip(0), [A(2.0)]),
    ("transpose_0d", lambda m, x: x.transpose(0, -1), [A(2.0)]),
    ("unsqueeze_0d", lambda m, x: x.unsqueeze(0), [A(2.0)]),
    ("squeeze_0d", lambda m, x: x.squeeze(), [A(2.0)]),
    ("reshape_0d", lambda m, x: x.reshape(1, 1), [A(2.0)]),
    ("expand_0d", lambda m, x: x.expand(2, 3), [A(2.0)]),
    ("flip_dims", lambda m, x: m.flip(x, (0, -1)), [R(2, 3, 4)]),
    ("narrow", lambda m, x: x.narrow(1, 1, 2), [R(3, 4)]),
    ("narrow_fn", lambda m, x: m.narrow(x, 0, 0, 1), [R(3, 4)]),
    ("unbind", lambda m, x: tuple(x.unbind(1)), [R(3, 4)]),
    ("unbind_fn", lambda m, x: tuple(m.unbind(x)), [R(3, 4)]),
    ("movedim", lambda m, x: m.movedim(x, 0, -1), [R(2, 3, 4)]),
    ("swapaxes", lambda m, x: x.swapaxes(0, 1), [R(2, 3)]),
    ("unflatten", lambda m, x: x.unflatten(1, (2, -1)), [R(3, 4)]),
    ("tile", lambda m, x: x.tile((2,)), [R(2, 3)]),
    ("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3)), [R(3)]),
]


@rows(*SHAPES)
def test_shape_ops_match_torch(name, fn, specs):
    run_parity(name, fn, specs)


@rows(*SHAPES)
def test_shape_ops_in_float32(name, fn, specs):
    run_parity(name, fn, specs, dtype=np.float32, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("size,chunks,expected", [(5, 3, [2, 2, 1]), (6, 4, [2, 2, 2]), (3, 5, [1, 1, 1]),
                                                  (7, 3, [3, 3, 1]), (10, 4, [3, 3, 3, 1])])  # fmt: skip
def test_chunk_sizes_follow_torch(size, chunks, expected):
    sizes = [c.shape[0] for c in ag.zeros(size).chunk(chunks)]
    assert sizes == expected == [c.shape[0] for c in torch.zeros(size).chunk(chunks)]


INDEXING = [
    ("int", lambda m, x: x[1], [R(3, 4)]),
    ("neg_int", lambda m, x: x[-1, -2], [R(3, 4)]),
    ("slice", lambda m, x: x[1:], [R(3, 4)]),
    ("slice_step", lambda m, x: x[::2, 1::2], [R(5, 4)]),
    ("slice_neg", lambda m, x: x[-2:, :-1], [R(3, 4)]),
    ("none", lambda m, x: x[None, :, None], [R(3, 4)]),
    ("ellipsis", lambda m, x: x[..., 1], [R(2, 3, 4)]),
    ("ellipsis_none", lambda m, x: x[..., None, 0:2], [R(2, 3, 4)]),
    ("int_list", lambda m, x: x[[0, 2, 2]], [R(3, 4)]),
    ("int_tensor_repeats", lambda m, x, i: x[i], [R(3, 4), I([0, 2, 2, 0, 2])]),
    ("int_tensor_2d", lambda m, x, i: x[i], [R(3, 4), I([[0, 1], [1, 1]])]),
    ("int_tensor_neg", lambda m, x, i: x[:, i], [R(3, 4), I([-1, 0, -1])]),
    ("two_int_tensors", lambda m, x, i, j: x[i, j], [R(3, 4), I([0, 2, 2]), I([1, 3, 1])]),
    ("bool_mask", lambda m, x: x[x > 0], [R(3, 4)]),
    ("bool_mask_rows", lambda m, x, b: x[b], [R(3, 4), B([True, False, True])]),
    ("bool_mask_cols", lambda m, x, b: x[:, b], [R(3, 4), B([True, False, True, True])]),
    ("mixed_adv_basic", lambda m, x, i: x[1:, i], [R(3, 4, 2), I([0, 3, 3])]),
    ("mixed_adv_slice_adv", lambda m, x, i, j: x[i, :, j], [R(3, 4, 2), I([0, 2]), I([1, 1])]),
    ("mixed_int_ellipsis_list", lambda m, x: x[0, ..., [1, 0, 1]], [R(2, 3, 4)]),
    ("index_0d_tensor", lambda m, x, i: x[i], [R(3, 4), I(2)]),
    ("int_then_mask", lambda m, x, b: x[2, :, b], [R(3, 2, 2), B([True, True])]),
    ("int_none_list", lambda m, x: x[0, None, [-2, -2]], [R(1, 2)]),
    ("int_slice_list_none", lambda m, x: x[0, :, [-1, -2, -1], None], [R(3, 2, 3)]),
    ("list_empty_ellipsis_mask", lambda m, x, b: x[1:, [-2], ..., b], [R(2, 3, 3), B([True, False, True])]),
    ("ellipsis_int_slice_mask", lambda m, x, b: x[..., 0, :, b], [R(2, 3, 2), B([False, True])]),
    ("gather", lambda m, x, i: x.gather(1, i), [R(3, 4), I([[0, 0], [3, 1], [2, 2]])]),
    ("gather_fn", lambda m, x, i: m.gather(x, 0, i), [R(3, 4), I([[0, 1, 2, 0], [2, 2, 2, 2]])]),
    ("gather_smaller", lambda m, x, i: x.gather(1, i), [R(3, 4), I([[1], [3]])]),
    ("scatter_add", lambda m, x, i, s: x.scatter_add(1, i, s), [R(3, 4), I([[0, 0], [3, 1], [2, 2]]), R(3, 2)]),
    ("scatter_add_fn", lambda m, x, i, s: m.scatter_add(x, 0, i, s), [R(3, 4), I([[0, 1, 2, 0]]), R(1, 4)]),
    ("scatter_add_small_index", lambda m, x, i, s: x.scatter_add(1, i, s), [R(4, 5), I([[1, 1], [0, 4]]), R(2, 2)]),
    ("scatter_add_src_larger", lambda m, x, i, s: x.scatter_add(1, i, s if m is ag else s[:2, :2]),
     [R(4, 5), I([[1, 1], [0, 4]]), R(3, 3)]),
    ("index_select", lambda m, x, i: x.index_select(1, i), [R(3, 4), I([3, 0, 3])]),
    ("index_select_fn", lambda m, x, i: m.index_select(x, 0, i), [R(3, 4), I([2, 2])]),
    ("masked_select", lambda m, x, b: x.masked_select(b), [R(3, 4), B([True, False, True, True])]),
    ("masked_select_fn", lambda m, x: m.masked_select(x, x > 0), [R(3, 4)]),
    ("take_along_dim", lambda m, x, i: m.take_along_dim(x, i, 1), [R(3, 4), I([[0], [3], [2]])]),
]  # fmt: skip


@rows(*INDEXING)
def test_indexing_matches_torch(name, fn, specs):
    run_parity(name, fn, specs)


@rows(*INDEXING)
def test_indexing_in_float32(name, fn, specs):
    run_parity(name, fn, specs, dtype=np.float32, atol=1e-4, rtol=1e-4)


def _setitem(index_fn):
    def fn(m, x, v):
        y = x * 1
        y[index_fn(m)] = v * 2
        return y * x

    return fn


SETITEM = [
    ("setitem_int", _setitem(lambda m: 1), [R(3, 4), R(4)]),
    ("setitem_slice_broadcast", _setitem(lambda m: (slice(None), slice(1, 3))), [R(3, 4), R(1, 2)]),
    ("setitem_int_list", _setitem(lambda m: [0, 2]), [R(3, 4), R(2, 4)]),
    ("setitem_bool", _setitem(lambda m: m.tensor([True, False, True])), [R(3, 4), R(4)]),
    ("setitem_ellipsis", _setitem(lambda m: (Ellipsis, 0)), [R(3, 4), R(3)]),
    ("setitem_scalar_value", lambda m, x: _assign_scalar(x * 2), [R(3, 4)]),
    ("setitem_int_and_list", _setitem(lambda m: (0, slice(None), [1, 3])), [R(2, 3, 4), R(3, 2)]),
    (
        "setitem_int_and_mask",
        _setitem(lambda m: (2, slice(None), m.tensor([True, False]))),
        [R(3, 2, 2), R(2, 1)],
    ),
    (
        "setitem_list_ellipsis_mask",
        _setitem(lambda m: ([0], Ellipsis, m.tensor([True, False, True]))),
        [R(2, 3), R(1, 2)],
    ),
]


def _assign_scalar(y):
    y[1, 1:] = 0.5
    return y


def test_setitem_on_a_saved_output_raises_in_backward_like_torch():
    for m in (ag, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()  # exp saves its output
        y[0] = 0.5
        with pytest.raises(
            RuntimeError, match="modified by an inplace operation|modified in place"
        ):
            y.sum().backward()


@rows(*SETITEM)
def test_setitem_on_non_leaf_matches_torch(name, fn, specs):
    run_parity(name, fn, specs)


def test_setitem_under_no_grad_changes_data_without_recording():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with ag.no_grad():
        x[0, 1] = 5.0
        x[1] = ag.tensor([7.0, 8.0])
    assert x.is_leaf and x.grad_fn is None
    np.testing.assert_array_equal(x.detach().numpy(), [[1.0, 5.0], [7.0, 8.0]])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[2.0, 10.0], [14.0, 16.0]])


def test_setitem_on_leaf_requiring_grad_raises():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 3.0
    with pytest.raises(RuntimeError, match="leaf"):
        torch.tensor([1.0, 2.0], requires_grad=True)[0] = 3.0


LINALG = [
    ("matmul_1d_1d", lambda m, x, y: x @ y, [R(3), R(3)]),
    ("matmul_2d_1d", lambda m, x, y: x @ y, [R(2, 3), R(3)]),
    ("matmul_1d_2d", lambda m, x, y: x @ y, [R(3), R(3, 4)]),
    ("matmul_2d_2d", lambda m, x, y: x @ y, [R(2, 3), R(3, 4)]),
    ("matmul_3d_2d", lambda m, x, y: x @ y, [R(5, 2, 3), R(3, 4)]),
    ("matmul_2d_3d", lambda m, x, y: m.matmul(x, y), [R(2, 3), R(5, 3, 4)]),
    ("matmul_1d_3d", lambda m, x, y: x @ y, [R(3), R(5, 3, 4)]),
    ("matmul_3d_1d", lambda m, x, y: x @ y, [R(5, 2, 3), R(3)]),
    ("matmul_3d_3d", lambda m, x, y: x @ y, [R(5, 2, 3), R(5, 3, 4)]),
    ("matmul_broadcast_batch", lambda m, x, y: x @ y, [R(2, 1, 2, 3), R(5, 3, 4)]),
    ("matmul_broadcast_one", lambda m, x, y: x @ y, [R(5, 2, 3), R(1, 3, 4)]),
    ("matmul_4d_1d", lambda m, x, y: x @ y, [R(2, 2, 2, 3), R(3)]),
    ("mm", lambda m, x, y: m.mm(x, y), [R(2, 3), R(3, 4)]),
    ("mm_method", lambda m, x, y: x.mm(y), [R(2, 3), R(3, 1)]),
    ("bmm", lambda m, x, y: m.bmm(x, y), [R(5, 2, 3), R(5, 3, 4)]),
    ("dot", lambda m, x, y: m.dot(x, y), [R(4), R(4)]),
    ("dot_method", lambda m, x, y: x.dot(y), [R(4), R(4)]),
    ("outer", lambda m, x, y: m.outer(x, y), [R(3), R(4)]),
    ("mv", lambda m, x, y: m.mv(x, y), [R(3, 4), R(4)]),
    ("einsum_mm", lambda m, x, y: m.einsum("ij,jk->ik", x, y), [R(2, 3), R(3, 4)]),
    ("einsum_batch", lambda m, x, y: m.einsum("bij,bjk->bik", x, y), [R(5, 2, 3), R(5, 3, 4)]),
    ("einsum_ellipsis", lambda m, x, y: m.einsum("...ij,...jk->...ik", x, y), [R(5, 2, 3), R(3, 4)]),
    ("einsum_ellipsis_broadcast", lambda m, x, y: m.einsum("...ij,...jk", x, y), [R(2, 1, 2, 3), R(5, 3, 4)]),
    ("einsum_transpose", lambda m, x: m.einsum("ij->ji", x), [R(2, 3)]),
    ("einsum_sum_all", lambda m, x: m.einsum("ij->", x), [R(2, 3)]),
    ("einsum_row_sum", lambda m, x: m.einsum("ij->i", x), [R(2, 3)]),
    ("einsum_implicit", lambda m, x, y: m.einsum("ij,jk", x, y), [R(2, 3), R(3, 4)]),
    ("einsum_implicit_sorted", lambda m, x, y: m.einsum("ba,ac", x, y), [R(2, 3), R(3, 4)]),
    ("einsum_inner", lambda m, x, y: m.einsum("i,i->", x, y), [R(4), R(4)]),
    ("einsum_outer", lambda m, x, y: m.einsum("i,j->ij", x, y), [R(3), R(4)]),
    ("einsum_three", lambda m, x, y, z: m.einsum("ab,bc,cd->ad", x, y, z), [R(2, 3), R(3, 4), R(4, 2)]),
    ("einsum_bilinear", lambda m, x, w, y: m.einsum("bn,anm,bm->ba", x, w, y), [R(2, 3), R(4, 3, 5), R(2, 5)]),
    ("einsum_list", lambda m, x, y: m.einsum("ij,jk->ik", [x, y]), [R(2, 3), R(3, 4)]),
    ("einsum_spaces", lambda m, x, y: m.einsum("i j , j k -> i k", x, y), [R(2, 3), R(3, 4)]),
    ("einsum_broadcast_dim1", lambda m, x, y: m.einsum("ij,ij->i", x, y), [R(2, 1), R(2, 3)]),
    ("einsum_trace", lambda m, x: m.einsum("ii", x), [R(3, 3)]),
    ("einsum_diagonal", lambda m, x: m.einsum("ii->i", x), [R(3, 3)]),
]  # fmt: skip


@rows(*LINALG)
def test_linalg_matches_torch(name, fn, specs):
    run_parity(name, fn, specs)


@rows(*LINALG)
def test_linalg_in_float32(name, fn, specs):
    run_parity(name, fn, specs, dtype=np.float32, atol=1e-4, rtol=1e-4)


# (id, fn(m) raising, exception type, substrings our message must contain)
def _f(*shape):
    return lambda m: m.zeros(*shape)


ERRORS = [
    ("broadcast_mul", lambda m: _f(2, 3)(m) * _f(4)(m), RuntimeError,
     ["mul: shapes (2, 3) and (4,) are not broadcastable (dim -1: 3 vs 4)"]),
    ("broadcast_add_leading", lambda m: _f(2, 3)(m) + _f(4, 3)(m), RuntimeError,
     ["add: shapes (2, 3) and (4, 3) are not broadcastable (dim -2: 2 vs 4)"]),
    ("broadcast_where", lambda m: m.where(m.zeros(3, dtype=m.bool), _f(2)(m), _f(3)(m)), RuntimeError,
     ["where", "(3,)", "(2,)"]),
    ("broadcast_maximum", lambda m: m.maximum(_f(2)(m), _f(3)(m)), RuntimeError, ["maximum", "(2,)", "(3,)"]),
    ("matmul_inner", lambda m: _f(2, 3)(m) @ _f(4, 5)(m), RuntimeError, ["matmul", "(2, 3)", "(4, 5)"]),
    ("matmul_vec", lambda m: _f(2, 3)(m) @ _f(4)(m), RuntimeError, ["matmul", "(2, 3)", "(4,)"]),
    ("matmul_batch", lambda m: _f(2, 2, 3)(m) @ _f(3, 3, 4)(m), RuntimeError, ["matmul", "(2, 2, 3)", "(3, 3, 4)"]),
    ("matmul_0d", lambda m: m.matmul(m.tensor(0.0), _f(3)(m)), RuntimeError, ["matmul", "()", "(3,)"]),
    ("mm_inner", lambda m: m.mm(_f(2, 3)(m), _f(2, 3)(m)), RuntimeError, ["mm", "(2, 3)"]),
    ("mv_inner", lambda m: m.mv(_f(2, 3)(m), _f(2)(m)), RuntimeError, ["mv", "(2, 3)", "(2,)"]),
    ("mm_1d", lambda m: m.mm(_f(3)(m), _f(3, 2)(m)), RuntimeError, ["mm", "(3,)"]),
    ("bmm_batch", lambda m: m.bmm(_f(2, 2, 3)(m), _f(3, 3, 4)(m)), RuntimeError, ["bmm", "(2, 2, 3)", "(3, 3, 4)"]),
    ("dot_length", lambda m: m.dot(_f(3)(m), _f(4)(m)), RuntimeError, ["dot", "(3,)", "(4,)"]),
    ("sum_dim", lambda m: _f(4, 5)(m).sum(2), IndexError,
     ["sum: dim 2 is out of range for a tensor of shape (4, 5) (expected -2..1)"]),
    ("mean_dim_neg", lambda m: _f(4, 5)(m).mean(-3), IndexError, ["mean", "-3", "(4, 5)"]),
    ("softmax_dim", lambda m: m.softmax(_f(4, 5)(m), 2), IndexError, ["softmax", "2", "(4, 5)"]),
    ("amax_dim", lambda m: _f(4)(m).amax(1), IndexError, ["amax", "(4,)"]),
    ("max_dim", lambda m: _f(4)(m).max(1), IndexError, ["max", "(4,)"]),
    ("argmax_dim", lambda m: _f(4)(m).argmax(1), IndexError, ["argmax", "(4,)"]),
    ("var_dim", lambda m: _f(4)(m).var(1), IndexError, ["var", "(4,)"]),
    ("logsumexp_dim", lambda m: _f(4)(m).logsumexp(1), IndexError, ["logsumexp", "(4,)"]),
    ("transpose_dim", lambda m: _f(2, 3)(m).transpose(0, 2), IndexError, ["transpose", "(2, 3)"]),
    ("unsqueeze_dim", lambda m: _f(2, 3)(m).unsqueeze(3), IndexError, ["unsqueeze", "3"]),
    ("squeeze_dim", lambda m: _f(2, 3)(m).squeeze(2), IndexError, ["squeeze", "(2, 3)"]),
    ("flatten_dim", lambda m: _f(2, 3)(m).flatten(0, 2), IndexError, ["flatten", "(2, 3)"]),
    ("cat_dim", lambda m: m.cat([_f(2, 3)(m), _f(2, 3)(m)], dim=2), IndexError, ["cat", "(2, 3)"]),
    ("gather_dim", lambda m: _f(2, 3)(m).gather(2, m.zeros(2, 3, dtype=m.int64)), IndexError,
     ["gather", "(2, 3)"]),
    ("reshape_invalid", lambda m: _f(2, 3)(m).reshape(4, 2), RuntimeError, ["reshape", "(4, 2)", "6"]),
    ("reshape_two_neg1", lambda m: _f(2, 3)(m).reshape(-1, -1), RuntimeError, ["reshape", "-1"]),
    ("view_invalid", lambda m: _f(2, 3)(m).view(5, -1), RuntimeError, ["(5, -1)", "6"]),
    ("cat_mismatch", lambda m: m.cat([_f(2, 3)(m), _f(2, 4)(m)]), RuntimeError, ["cat", "(2, 3)", "(2, 4)"]),
    ("cat_ndim_mismatch", lambda m: m.cat([_f(2, 3)(m), _f(3)(m)]), RuntimeError, ["cat", "(2, 3)", "(3,)"]),
    ("stack_mismatch", lambda m: m.stack([_f(2, 3)(m), _f(3, 2)(m)]), RuntimeError, ["stack", "(2, 3)", "(3, 2)"]),
    ("gather_float_index", lambda m: _f(2, 3)(m).gather(1, m.zeros(2, 3)), RuntimeError, ["gather", "float32"]),
    ("gather_out_of_bounds", lambda m: _f(2, 3)(m).gather(1, m.tensor([[3], [0]])), RuntimeError,
     ["gather", "3", "size 3"]),
    ("scatter_add_float_index", lambda m: _f(2, 3)(m).scatter_add(1, m.zeros(2, 3), _f(2, 3)(m)), RuntimeError,
     ["scatter_add", "float32"]),
    ("expand_invalid", lambda m: _f(2, 3)(m).expand(4, 3), RuntimeError, ["expand", "(2, 3)", "(4, 3)"]),
    ("permute_wrong_len", lambda m: _f(2, 3)(m).permute(0), RuntimeError, ["permute", "(2, 3)"]),
    ("split_sizes", lambda m: _f(5)(m).split([2, 2]), RuntimeError, ["split", "5"]),
    ("index_out_of_range", lambda m: _f(2, 3)(m)[2], IndexError, ["(2, 3)", "2"]),
    ("index_float_tensor", lambda m: _f(2, 3)(m)[m.zeros(1)], IndexError, ["float32"]),
    ("mean_int", lambda m: m.arange(4).mean(), RuntimeError, ["mean", "int64"]),
    ("requires_grad_int", lambda m: m.tensor([1, 2], requires_grad=True), RuntimeError, ["int64"]),
    ("masked_fill_non_bool", lambda m: _f(2)(m).masked_fill(m.tensor([1, 0]), 1.0), RuntimeError,
     ["masked_fill", "int64"]),
    ("where_non_bool", lambda m: m.where(m.tensor([1, 0]), _f(2)(m), _f(2)(m)), RuntimeError,
     ["where", "int64"]),
    ("inplace_leaf", lambda m: m.zeros(2, requires_grad=True).add_(1), RuntimeError, ["leaf"]),
    ("iadd_leaf", lambda m: _iadd(m.zeros(2, requires_grad=True)), RuntimeError, ["leaf"]),
    ("amax_empty_dim", lambda m: m.zeros(0, 3).amax(0), IndexError, ["amax", "(0, 3)"]),
    ("max_empty", lambda m: m.zeros(0).max(), RuntimeError, ["(0,)", "dim"]),
    ("sum_repeated_dim", lambda m: m.ones(2, 3).sum((1, -1)), RuntimeError, ["sum", "multiple times"]),
    ("neg_bool", lambda m: -m.tensor([True]), RuntimeError, ["neg", "bool"]),
    ("pow_int_negative", lambda m: m.tensor([2]) ** -1, RuntimeError, ["pow", "negative"]),
    ("mT_1d", lambda m: m.zeros(3).mT, RuntimeError, ["mT", "(3,)"]),
    ("chunk_0d", lambda m: m.tensor(1.0).chunk(2), RuntimeError, ["chunk", "()"]),
    ("inplace_on_expand_view", lambda m: (m.ones(3, requires_grad=True) * 1).expand(2, 3).add_(1),
     RuntimeError, ["add_"]),
    ("split_0d", lambda m: m.tensor(1.0).split(1), RuntimeError, ["split", "()"]),
    ("unbind_0d", lambda m: m.tensor(1.0).unbind(), IndexError, ["unbind", "()"]),
    ("expand_neg1_new_dim", lambda m: _f(3)(m).expand(-1, 3), RuntimeError, ["expand", "-1", "(3,)"]),
    ("expand_fewer_sizes", lambda m: _f(2, 3)(m).expand(3), RuntimeError, ["expand", "(2, 3)"]),
    ("permute_duplicate", lambda m: _f(2, 3)(m).permute(0, 0), RuntimeError, ["permute"]),
    ("index_0d", lambda m: m.tensor(1.0)[0], IndexError, ["()"]),
    ("too_many_indices", lambda m: _f(2, 3)(m)[0, 0, 0], IndexError, ["(2, 3)"]),
    ("index_list_out_of_range", lambda m: _f(2, 3)(m)[[0, 5]], IndexError, ["5", "(2, 3)"]),
    ("bool_mask_wrong_shape", lambda m: _f(2, 3)(m)[m.tensor([True, False, True])], IndexError, ["(2, 3)"]),
    ("masked_fill_bad_shape", lambda m: _f(2, 3)(m).masked_fill(m.tensor([True, False]), 1.0), RuntimeError,
     ["masked_fill", "(2,)", "(2, 3)"]),
    ("cat_empty_list", lambda m: m.cat([]), ValueError, ["cat"]),
    ("cat_0d", lambda m: m.cat([m.tensor(1.0), m.tensor(2.0)]), RuntimeError, ["cat", "zero-dimensional"]),
    ("stack_empty_list", lambda m: m.stack([]), RuntimeError, ["stack"]),
    ("gather_ndim", lambda m: _f(2, 3)(m).gather(1, m.zeros(2, dtype=m.int64)), RuntimeError,
     ["gather", "(2,)", "(2, 3)"]),
    ("gather_index_too_big", lambda m: _f(2, 3)(m).gather(1, m.zeros(3, 1, dtype=m.int64)), RuntimeError,
     ["gather", "(3, 1)", "(2, 3)"]),
    ("scatter_add_out_of_bounds", lambda m: _f(2, 3)(m).scatter_add(1, m.tensor([[5]]), m.ones(1, 1)),
     RuntimeError, ["scatter_add", "5", "size 3"]),
    ("index_select_2d_index", lambda m: _f(2, 3)(m).index_select(0, m.zeros(1, 1, dtype=m.int64)), IndexError,
     ["index_select", "(1, 1)"]),
    ("index_select_float_index", lambda m: _f(2, 3)(m).index_select(0, m.zeros(1)), RuntimeError,
     ["index_select", "float32"]),
    ("index_select_out_of_range", lambda m: _f(2, 3)(m).index_select(0, m.tensor([2])), IndexError,
     ["index_select", "2", "(2, 3)"]),
    ("masked_select_non_bool", lambda m: _f(2)(m).masked_select(m.tensor([1, 0])), RuntimeError,
     ["masked_select", "int64"]),
    ("split_zero", lambda m: _f(3)(m).split(0), RuntimeError, ["split", "0"]),
    ("chunk_zero", lambda m: _f(3)(m).chunk(0), RuntimeError, ["chunk", "0"]),
    ("narrow_out_of_range", lambda m: _f(3)(m).narrow(0, 2, 2), RuntimeError, ["narrow", "2", "3"]),
    ("flatten_start_after_end", lambda m: _f(2, 3, 4)(m).flatten(2, 1), RuntimeError, ["flatten"]),
    ("unflatten_bad_sizes", lambda m: _f(2, 6)(m).unflatten(1, (4, -1)), RuntimeError, ["unflatten", "6"]),
    ("repeat_too_few", lambda m: _f(2, 3)(m).repeat(2), RuntimeError, ["repeat", "(2, 3)"]),
    ("sum_float_dim", lambda m: _f(2, 3)(m).sum(1.0), TypeError, ["sum", "float"]),
    ("max_tuple_dim", lambda m: _f(2, 3)(m).max(dim=(0, 1)), TypeError, ["max"]),
    ("argmax_tuple_dim", lambda m: _f(2, 3)(m).argmax(dim=(0, 1)), TypeError, ["argmax"]),
    ("prod_tuple_dim", lambda m: _f(2, 3)(m).prod(dim=(0, 1)), TypeError, ["prod"]),
    ("einsum_too_few_operands", lambda m: m.einsum("ij,jk->ik", _f(2, 3)(m)), RuntimeError, ["einsum", "2"]),
    ("einsum_size_mismatch", lambda m: m.einsum("ij,jk->ik", _f(2, 3)(m), _f(4, 5)(m)), RuntimeError,
     ["einsum", "'j'", "(2, 3)", "(4, 5)"]),
    ("einsum_too_many_subscripts", lambda m: m.einsum("ijk->i", _f(2, 3)(m)), RuntimeError,
     ["einsum", "ijk", "(2, 3)"]),
    ("einsum_unknown_output", lambda m: m.einsum("ij->k", _f(2, 3)(m)), RuntimeError, ["einsum", "'k'"]),
    ("mv_matrix_vec", lambda m: m.mv(_f(2, 3)(m), _f(2, 3)(m)), RuntimeError, ["mv", "(2, 3)"]),
    ("outer_2d", lambda m: m.outer(_f(2, 3)(m), _f(3)(m)), RuntimeError, ["outer", "(2, 3)"]),
    ("bmm_2d", lambda m: m.bmm(_f(2, 3)(m), _f(3, 2)(m)), RuntimeError, ["bmm", "(2, 3)"]),
    ("clamp_without_bounds", lambda m: _f(2)(m).clamp(), RuntimeError, ["clamp", "min", "max"]),
    ("item_of_many", lambda m: _f(2)(m).item(), RuntimeError, ["2 elements"]),
    ("backward_non_scalar", lambda m: (m.zeros(2, requires_grad=True) * 2).backward(), RuntimeError,
     ["scalar outputs"]),
    ("sub_two_bools", lambda m: m.tensor([True]) - m.tensor([False]), RuntimeError, ["sub", "bool"]),
    ("sub_bool_and_int", lambda m: m.tensor([True]) - 1, RuntimeError, ["sub", "bool", "int64"]),
    ("rsub_bool", lambda m: 1.5 - m.tensor([True]), RuntimeError, ["sub", "bool", "logical_not"]),
    ("sub_int_and_bool", lambda m: m.tensor([2]) - m.tensor([True]), RuntimeError, ["sub", "bool"]),
    ("pow_two_bools", lambda m: m.tensor([True]) ** m.tensor([True]), RuntimeError, ["pow", "bool"]),
]  # fmt: skip


def test_bool_pow_with_an_integer_exponent_promotes_as_torch():
    for fn in (lambda m: m.tensor([True, False]) ** 2, lambda m: 2 ** m.tensor([True, False])):
        ours, theirs = fn(ag), fn(torch)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("ndim, dim", [(1, 0), (2, 1), (3, 0), (4, 1)])
def test_softmax_without_dim_warns_and_picks_torchs_legacy_dim(ndim, dim):
    import nn.functional as F

    x = np.random.default_rng(ndim).standard_normal((2, 3, 4, 5)[:ndim])
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ours = F.softmax(ag.tensor(x))
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        F.log_softmax(ag.tensor(x))
    with pytest.warns(UserWarning):
        theirs = torch.nn.functional.softmax(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.numpy().sum(dim), 1.0, rtol=1e-12)


def _iadd(x):
    x += 1
    return x


@pytest.mark.parametrize("name,fn,error,parts", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch_type_and_name_the_op_and_shapes(name, fn, error, parts):
    with pytest.raises(error):
        fn(torch)
    with pytest.raises(error) as info:
        fn(ag)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{name}: {part!r} not in {message!r}"


def test_errors_are_raised_before_recording():
    x = ag.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError):
        x * ag.zeros(4)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), np.full((2, 3), 2.0))


def test_python_float_scalars_keep_float64_precision():
    values = np.array([1.0, 3.0])
    x = ag.tensor(values)
    np.testing.assert_array_equal((x * 0.1).detach().numpy(), values * 0.1)
    np.testing.assert_array_equal((0.3 - x).detach().numpy(), 0.3 - values)
    np.testing.assert_array_equal((x**0.3).detach().numpy(), values**0.3)


def test_setitem_mixing_ints_and_arrays_without_grad_follows_torch():
    results = []
    for m in (torch, ag):
        x = m.zeros(2, 3, 4)
        x[0, :, [1, 3]] = m.arange(6.0).reshape(3, 2)
        results.append(np.asarray(x.numpy()))
    np.testing.assert_array_equal(results[1], results[0])


def run_second_order(name, fn, specs):
    """Compare second derivatives: differentiate <grad(loss), v> with respect to the inputs."""
    rng = _rng(name + ":2")
    arrays = [spec(rng) for spec in specs]
    results = []
    for m, grad_fn in ((ag, ag.grad), (torch, torch.autograd.grad)):
        inputs = [m.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
        outputs = [o for o in _flatten(fn(m, *inputs)) if o.requires_grad]
        rng_m = _rng(name + ":upstream")
        loss = sum((o * m.tensor(rng_m.standard_normal(tuple(o.shape)))).sum() for o in outputs)
        wrt = [x for x in inputs if x.requires_grad]
        if not outputs:
            return
        grads = grad_fn(loss, wrt, create_graph=True, allow_unused=True)
        second = 0.0
        for g in grads:
            if g is not None and g.requires_grad:
                second = second + (g * m.tensor(rng_m.standard_normal(tuple(g.shape)))).sum()
        if isinstance(second, float):
            results.append(None)
            continue
        second.backward()
        results.append([x.grad for x in wrt])
    ours, theirs = results
    count = len([a for a in arrays if a.dtype.kind == "f"])
    ours = ours or [None] * count  # no graph: every second derivative is structurally 0
    theirs = theirs or [None] * count
    for k, (o, t) in enumerate(zip(ours, theirs)):
        if t is None or not np.any(to_numpy(t)):
            assert o is None or not np.any(o.detach().numpy()), f"{name}: second-order grad {k} should be 0"
        else:
            assert o is not None, f"{name}: input {k} got no second-order gradient"
            _assert_same(o, t, f"{name}: second-order grad of input {k}")


# Where torch's second derivative is nan from 0 * inf in a masked branch (or drops a term
# by masking), ours is the finite, mathematically right value; checked separately below.
SECOND_ORDER_DIVERGES = {
    "pow_0_base_exp_0",
    "pow_0_base_exp_2",
    "rpow_0_base",
    "norm_zero_vector",
    "norm_zero_rows",
}
SECOND_ORDER = [
    row
    for row in ELEMENTWISE + REDUCTIONS + SHAPES + INDEXING + LINALG + KINKS
    if row[0] not in SECOND_ORDER_DIVERGES
]


@rows(*SECOND_ORDER)
def test_second_order_gradients_match_torch(name, fn, specs):
    with np.errstate(divide="ignore", invalid="ignore"):
        run_second_order(name, fn, specs)


def test_second_order_at_zero_base_and_zero_norm_is_finite():
    x = ag.tensor([0.0, 1.5], dtype=ag.float64, requires_grad=True)
    e = ag.tensor([2.0, 0.0], dtype=ag.float64, requires_grad=True)
    (gx, ge) = ag.grad((x**e).sum(), (x, e), create_graph=True)
    (gx.sum() + ge.sum()).backward()
    # d/dx (e x**(e-1) + x**e log x) = e(e-1) x**(e-2) + e x**(e-1) log x + x**(e-1):
    # 2 at (0, 2) and 1/1.5 at (1.5, 0); d/de of the same is x**(e-1) (1 + e log x) + x**e log(x)**2.
    np.testing.assert_allclose(x.grad.detach().numpy(), [2.0, 1 / 1.5], atol=1e-12)
    np.testing.assert_allclose(e.grad.detach().numpy()[1], 1 / 1.5 + np.log(1.5) ** 2, atol=1e-12)
    v = ag.tensor([0.0, 0.0, 0.0], dtype=ag.float64, requires_grad=True)
    (g,) = ag.grad(v.norm(), v, create_graph=True)
    assert not g.requires_grad or np.isfinite(ag.grad(g.sum(), v, allow_unused=True)[0].detach().numpy()).all()


@pytest.mark.parametrize("requires_grad", [False, True])
def test_inplace_that_would_grow_the_tensor_raises_like_torch(requires_grad):
    y = ag.ones(3, requires_grad=requires_grad) * 1
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2, 3\)|\(2, 3\).*\(3,\)"):
        y += ag.ones(2, 3)


@pytest.mark.parametrize("shape", [(8, 1024), (70, 1000), (3, 5, 4500)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_and_its_gradient_on_large_arrays_equal_the_plain_numpy_expressions(
    monkeypatch, shape, dtype
):
    # Large arrays take other NumPy calls than small ones (a broadcast row of zeros, a mask
    # cast first): the values must be those of the plain expressions, NaN, inf and -0.0 too.
    from autograd.backends import numba as numba_backend
    from autograd.ops.elementwise import _threshold_backward, relu

    monkeypatch.setattr(numba_backend, "enabled", False)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, -np.nan]
    upstream = rng.standard_normal(shape).astype(dtype)
    out = relu.forward(x)
    expected = np.maximum(x, 0)
    assert out.dtype == dtype and out.shape == shape
    np.testing.assert_array_equal(out, expected)
    assert np.array_equal(np.signbit(out), np.signbit(expected))
    grad = _threshold_backward.forward(upstream, out)
    assert grad.dtype == dtype
    np.testing.assert_array_equal(grad, np.multiply(upstream, out > 0, dtype=dtype))
