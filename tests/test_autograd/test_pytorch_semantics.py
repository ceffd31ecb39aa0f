"""Semantics found by comparing with PyTorch (issue 16, item 2): each case against torch."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

from parity import assert_close, import_torch, op_parity, raises_like_torch

torch = import_torch()


def test_jacobian_with_create_graph_is_differentiable_in_the_inputs():
    from torch.autograd import functional as TF

    x = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    jacobian = ag.functional.jacobian(lambda t: t**3 * t.sum(), x, create_graph=True)
    theirs = TF.jacobian(lambda t: t**3 * t.sum(), tx, create_graph=True)
    assert jacobian.requires_grad
    assert_close(jacobian, theirs)
    assert_close(ag.grad(jacobian.sum(), x)[0], torch.autograd.grad(theirs.sum(), tx)[0])


def test_hessian_vjp_and_jvp_with_create_graph_reach_the_inputs():
    from torch.autograd import functional as TF

    x = ag.tensor([0.5, -1.0], dtype=ag.float64, requires_grad=True)
    tx = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    hessian = ag.functional.hessian(lambda t: (t**4).sum(), x, create_graph=True)
    theirs = TF.hessian(lambda t: (t**4).sum(), tx, create_graph=True)
    assert_close(ag.grad(hessian.sum(), x)[0], torch.autograd.grad(theirs.sum(), tx)[0])
    v, tv = ag.ones(2, dtype=ag.float64), torch.ones(2, dtype=torch.float64)
    for ours_fn, theirs_fn in ((ag.functional.vjp, TF.vjp), (ag.functional.jvp, TF.jvp)):
        _, ours = ours_fn(lambda t: t.sin() * t, x, v, create_graph=True)
        _, expected = theirs_fn(lambda t: t.sin() * t, tx, tv, create_graph=True)
        assert_close(ag.grad(ours.sum(), x)[0], torch.autograd.grad(expected.sum(), tx)[0])


def test_jacobian_without_create_graph_stays_detached():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    assert not ag.functional.jacobian(lambda t: t**2, x).requires_grad


NORMS = [
    (p, values, dim)
    for p in (0, 0.5, 1, 1.5, 2, 3, -1, float("inf"), float("-inf"))
    for values in ([0.0, 0.0, 0.0], [0.0, -2.0, 0.0], [[0.3, -1.2, 2.0], [0.0, 0.7, -0.4]])
    for dim in (None, -1)
]


@pytest.mark.parametrize("p, values, dim", NORMS)
def test_norm_values_and_gradients_at_zeros_follow_torch(p, values, dim):
    op_parity(lambda m, x: x.norm(p=p, dim=dim), [np.array(values)], where=f"norm p={p}")


def test_norm_p0_is_recorded_with_no_gradient():
    x = ag.tensor([1.0, 0.0, -2.0], requires_grad=True)
    out = x.norm(p=0)
    assert out.grad_fn is not None and out.item() == 2.0
    out.backward()
    assert x.grad is None  # as PyTorch: the count has no gradient


def test_norm_p3_at_a_zero_vector_has_a_zero_gradient():
    x = ag.zeros(3, requires_grad=True)
    x.norm(p=3).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))


SHAPES = [
    ("flip_dims_keyword", lambda m, x: x.flip(dims=(0, 2))),
    ("flip_dims_list", lambda m, x: m.flip(x, dims=[1])),
    ("flip_positional", lambda m, x: x.flip(0, 1)),
    ("flip_one_int", lambda m, x: x.flip(2)),
    ("movedim_tuples", lambda m, x: x.movedim((0, 1), (2, 0))),
    ("movedim_lists", lambda m, x: m.movedim(x, [0, 1, 2], [2, 1, 0])),
    ("movedim_negative", lambda m, x: m.movedim(x, (-1, 0), (0, -1))),
    ("movedim_ints", lambda m, x: x.movedim(0, -1)),
]


@pytest.mark.parametrize("name, fn", SHAPES, ids=[s[0] for s in SHAPES])
def test_flip_and_movedim_keyword_and_tuple_forms_follow_torch(name, fn):
    op_parity(fn, [np.random.default_rng(0).standard_normal((2, 3, 4))], where=name)


@pytest.mark.parametrize("exponent", [True, False])
def test_bool_power_with_a_python_bool_stays_bool(exponent):
    ours, _ = op_parity(lambda m, b: b**exponent, [np.array([True, False])])
    assert ours.dtype == ag.bool


def _bools(m):
    return m.tensor([True, False])


def _conv_input(m, dtype):
    return m.zeros(1, 1, 4, 4, dtype=getattr(m, dtype))


ERRORS = [
    ("bool_floordiv", lambda m: _bools(m) // _bools(m), ["floor_divide", "Bool"]),
    ("bool_floordiv_scalar", lambda m: _bools(m) // True, ["floor_divide"]),
    ("bool_mod", lambda m: _bools(m) % _bools(m), ["remainder", "Bool"]),
    ("bool_pow_bool_tensor", lambda m: _bools(m) ** _bools(m), ["pow", "bool"]),
    ("var_of_int", lambda m: m.tensor([1, 2, 3]).var(), ["var", "floating", "int64"]),
    ("std_of_int", lambda m: m.tensor([1, 2, 3]).std(dim=0), ["std", "floating"]),
    ("var_mean_of_int", lambda m: m.var_mean(m.tensor([1, 2])), ["var_mean"]),
    ("var_of_bool", lambda m: _bools(m).var(), ["var"]),
    ("permute_too_few_dims", lambda m: m.zeros(2, 3).permute(0), ["permute", "(2, 3)"]),
    ("permute_too_many_dims", lambda m: m.zeros(2, 3).permute(0, 1, 2), ["permute"]),
    ("float_of_many", lambda m: float(m.zeros(2, 3)), ["one element", "(2, 3)"]),
    ("int_of_many", lambda m: int(m.zeros(2)), ["one element"]),
    ("item_of_many", lambda m: m.zeros(2).item(), ["2 elements"]),
    ("nll_batch_mismatch", lambda m: m.nn.functional.nll_loss(m.zeros(3, 4), m.tensor([0, 1])),
     ["nll_loss", "batch_size (3)", "batch_size (2)"]),
    ("cross_entropy_batch_mismatch",
     lambda m: m.nn.functional.cross_entropy(m.zeros(3, 4), m.tensor([0, 1])), ["cross_entropy"]),
    ("nll_0d_target_for_batch", lambda m: m.nn.functional.nll_loss(m.zeros(3, 4), m.tensor(1)),
     ["batch_size"]),
    ("nll_spatial_mismatch",
     lambda m: m.nn.functional.nll_loss(m.zeros(2, 3, 4), m.zeros(2, 5, dtype=m.long)),
     ["nll_loss", "(2, 5)"]),
    ("tensor_of_strings", lambda m: m.tensor(["a"]), ["str"]),
    ("tensor_of_a_string", lambda m: m.tensor("a"), ["str"]),
    ("tensor_ragged", lambda m: m.tensor([[1, 2], [3]]),
     ["expected sequence of length 2 at dim 1 (got 1)"]),
    ("tensor_ragged_deep", lambda m: m.tensor([[[1, 2], [3, 4]], [[1, 2], [3]]]),
     ["expected sequence of length 2 at dim 2 (got 1)"]),
    ("tensor_scalar_then_list", lambda m: m.tensor([1, [2]]), ["dim 1"]),
    ("tensor_list_then_scalar", lambda m: m.tensor([[1], 2]), ["dim 1"]),
    ("tensor_of_none", lambda m: m.tensor([None]), ["NoneType"]),
    ("tensor_of_objects", lambda m: m.tensor([object()]), ["object"]),
    ("conv2d_float64_input_float32_weight",
     lambda m: m.nn.functional.conv2d(_conv_input(m, "float64"), m.zeros(1, 1, 2, 2)),
     ["conv2d", "Double", "Float"]),
    ("conv2d_float32_input_float64_weight",
     lambda m: m.nn.functional.conv2d(_conv_input(m, "float32"), m.zeros(1, 1, 2, 2, dtype=m.float64)),
     ["conv2d", "Float", "Double"]),
    ("conv2d_float64_bias",
     lambda m: m.nn.functional.conv2d(_conv_input(m, "float32"), m.zeros(1, 1, 2, 2),
                                      m.zeros(1, dtype=m.float64)), ["bias", "Double"]),
    ("conv1d_float64_input",
     lambda m: m.nn.functional.conv1d(m.zeros(1, 1, 4, dtype=m.float64), m.zeros(1, 1, 2)),
     ["conv1d", "Double", "Float"]),
    ("Conv2d_float64_input", lambda m: m.nn.Conv2d(1, 1, 2)(_conv_input(m, "float64")),
     ["Double", "Float"]),
    ("zero_function_on_leaf_requiring_grad", lambda m: m.zero_(m.ones(2, requires_grad=True)),
     ["zero_", "leaf"]),
    ("fill_function_on_leaf_requiring_grad", lambda m: m.fill_(m.ones(2, requires_grad=True), 1),
     ["fill_", "leaf"]),
    ("fill_function_without_value", lambda m: m.fill_(m.ones(2)), []),
    ("zero_function_of_a_list", lambda m: m.zero_([1.0]), ["zero_", "list"]),
    ("fill_with_a_1d_value_tensor", lambda m: m.ones(3).fill_(m.ones(1)), ["fill_", "(1,)"]),
    ("fill_function_with_a_1d_value_tensor", lambda m: m.fill_(m.ones(3), m.ones(2)), ["(2,)"]),
]  # fmt: skip


class _Ours:
    """``ag`` with ``nn`` attached, so one lambda serves both libraries (``m.nn.functional``)."""

    def __getattr__(self, name):
        return nn if name == "nn" else getattr(ag, name)


@pytest.mark.parametrize("name, fn, parts", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch_exception_types(name, fn, parts):
    ours = _Ours()
    raises_like_torch(lambda m: fn(ours if m is ag else m), parts)


def test_int_floordiv_by_bool_still_computes():
    op_parity(lambda m, x, y: x // y, [np.array([3, 4]), np.array([True, True])])


class _WrongGradient(ag.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 3


def test_gradcheck_messages_print_plain_numbers():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=ag.float64, requires_grad=True)
    with pytest.raises(ag.gradcheck.__globals__["GradcheckError"]) as info:
        ag.gradcheck(_WrongGradient.apply, (x,))
    message = str(info.value)
    assert "np." not in message and "int64(" not in message, message
    assert "input element x[0, 0]" in message and "analytic 3 vs numerical 2" in message
    report = ag.testing.check_gradients(_WrongGradient.apply, (x,))
    assert all("np." not in m for m in report.mismatches)


def test_float_and_int_of_one_element_still_work():
    assert float(ag.tensor([[2.5]])) == 2.5 and int(ag.tensor([7])) == 7
    assert isinstance(float(ag.tensor(3)), float)


def test_conv2d_with_matching_float64_weights_computes():
    layer = nn.Conv2d(1, 1, 2).double()
    assert layer(ag.zeros(1, 1, 3, 3, dtype=ag.float64)).dtype == ag.float64


def test_zero_and_fill_functions_fill_in_place_and_bump_the_version():
    for m in (ag, torch):
        t = m.ones(3)
        assert m.zero_(t) is t and t._version == 1
        assert_close(t, np.zeros(3, dtype=np.float32))
        assert m.fill_(t, 2.5) is t and t._version == 2
        assert m.fill_(input=t, value=m.tensor(4.0)) is t and t._version == 3
        assert_close(t, np.full(3, 4.0, dtype=np.float32))
        p = m.ones(2, requires_grad=True)
        with m.no_grad():
            assert m.zero_(p) is p and p._version == 1 and p.requires_grad


def test_fill_function_on_a_non_leaf_records_like_torch():
    def run(m):
        x = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        value = m.tensor(3.0, dtype=m.float64, requires_grad=True)
        y = x * 2
        m.fill_(y, value)
        (y * m.tensor([1.0, 5.0], dtype=m.float64)).sum().backward()
        return y, x.grad, value.grad

    for ours, theirs in zip(run(ag), run(torch)):
        assert_close(ours, theirs)


def test_data_ptr_tells_shared_storage_as_torch():
    def pointers(m):
        x = m.arange(12.0)
        base = x.data_ptr()
        y = x.view(3, 4)
        relative = [
            t.data_ptr() - base
            for t in (x.data, x.detach(), y, y.t(), x.reshape(2, 6), x[3:], y[1], y[:, 2], y[2, 1:])
        ]
        return relative, x.clone().data_ptr() == base, m.zeros(0).data_ptr(), x[12:].data_ptr()

    ours, theirs = pointers(ag), pointers(torch)
    assert ours == theirs
    assert ours[0][:3] == [0, 0, 0] and not ours[1] and ours[2:] == (0, 0)
    array = np.ones(3)
    assert ag.from_numpy(array).data_ptr() == array.ctypes.data
    assert isinstance(ag.ones(1).data_ptr(), int)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # torch's own
@pytest.mark.parametrize("create_graph", [False, True])
def test_a_leaf_hook_runs_once_on_the_summed_gradient(create_graph):
    # A leaf used three times: PyTorch sums the edges into its AccumulateGrad node first, so
    # the hook sees the total once, and what it returns is what .grad accumulates.
    def run(lib, tensor):
        w = tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        seen = []
        w.register_hook(lambda g: seen.append(g.detach().numpy().copy()) or g * 10)
        (w * w + w).sum().backward(create_graph=create_graph)
        (w * 3).sum().backward()  # one edge: the hook runs again, .grad accumulates
        return seen, w.grad.detach().numpy()

    ours = run(ag, ag.tensor)
    theirs = run(torch, torch.tensor)
    assert len(ours[0]) == len(theirs[0]) == 2
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours[1], theirs[1])
