"""Activations against PyTorch in float64: values and gradients (at the kinks too), in-place
forms, reprs and errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd.backends import numba as numba_backend

from parity import import_torch, module_parity

torch = import_torch()
TF = torch.nn.functional

RNG = np.random.default_rng(7)
# Random values plus every kink and saturation point of the activations below.
KINKS = np.array([-20.0, -6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 20.0, 30.0])


def _input(*shape, scale=3.0):
    x = RNG.standard_normal(shape) * scale
    flat = x.reshape(-1)
    flat[: min(flat.size, KINKS.size)] = KINKS[: flat.size]
    return x


FUNCTIONS = [
    ("relu6", {}), ("hardtanh", {}), ("hardtanh", {"min_val": -2.0, "max_val": 0.5}),
    ("mish", {}), ("selu", {}), ("celu", {}), ("celu", {"alpha": 2.5}), ("hardsigmoid", {}),
    ("hardswish", {}), ("logsigmoid", {}), ("softsign", {}), ("tanhshrink", {}),
    ("threshold", {"threshold": 0.5, "value": -2.0}), ("threshold", {"threshold": -1.0, "value": 0.0}),
    ("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.5}), ("silu", {}),
    ("gelu", {}), ("softplus", {"beta": 2.0}),
]  # fmt: skip


@pytest.mark.parametrize("name,kwargs", FUNCTIONS, ids=[f"{n}-{k}" for n, k in FUNCTIONS])
@pytest.mark.parametrize("shape", [(12,), (3, 4, 5)])
def test_functional_activation_matches_pytorch_float64(name, kwargs, shape):
    x = _input(*shape)
    x_t = torch.tensor(x, requires_grad=True)
    x_o = ag.tensor(x, requires_grad=True)
    out_t = getattr(TF, name)(x_t, **kwargs)
    out_o = getattr(F, name)(x_o, **kwargs)
    assert out_o.dtype == ag.float64
    np.testing.assert_allclose(out_o.detach().numpy(), out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    upstream = RNG.standard_normal(shape)
    out_t.backward(torch.from_numpy(upstream))
    out_o.backward(ag.tensor(upstream))
    # PyTorch's hardsigmoid backward multiplies by a float32 1/6 even in float64.
    rtol = 1e-7 if name == "hardsigmoid" else 1e-10
    np.testing.assert_allclose(x_o.grad.numpy(), x_t.grad.numpy(), rtol=rtol, atol=1e-14)


SMOOTH = [row for row in FUNCTIONS if row[0] in {"mish", "selu", "celu", "logsigmoid", "softsign",
                                                  "tanhshrink", "elu", "silu", "gelu", "softplus"}]  # fmt: skip


@pytest.mark.parametrize("name,kwargs", SMOOTH, ids=[f"{n}-{k}" for n, k in SMOOTH])
def test_second_derivative_matches_pytorch(name, kwargs):
    x = RNG.standard_normal(20) * 4  # no exact kinks: second derivatives there are conventions
    x_t = torch.tensor(x, requires_grad=True)
    x_o = ag.tensor(x, requires_grad=True)
    (g_t,) = torch.autograd.grad(getattr(TF, name)(x_t, **kwargs).sum(), x_t, create_graph=True)
    (g_o,) = ag.grad(getattr(F, name)(x_o, **kwargs).sum(), x_o, create_graph=True)
    (gg_t,) = torch.autograd.grad(g_t.sum(), x_t)
    (gg_o,) = ag.grad(g_o.sum(), x_o)
    np.testing.assert_allclose(gg_o.numpy(), gg_t.numpy(), rtol=1e-9, atol=1e-12)


def test_extreme_inputs_stay_finite():
    x = ag.tensor([-1e4, -800.0, 0.0, 800.0, 1e4], dtype=ag.float64, requires_grad=True)
    x_t = torch.tensor(x.detach().numpy(), requires_grad=True)
    for name in ("mish", "selu", "celu", "logsigmoid", "softsign", "tanhshrink", "hardswish"):
        x.grad = None
        x_t.grad = None
        out, out_t = getattr(F, name)(x), getattr(TF, name)(x_t)
        out.sum().backward()
        out_t.sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-12, atol=1e-300)


MODULES = [
    ("ReLU6", lambda lib: lib.ReLU6(), (4, 5)),
    ("ReLU6_inplace", lambda lib: lib.ReLU6(inplace=True), (4, 5)),
    ("Hardtanh", lambda lib: lib.Hardtanh(-0.5, 2.0), (4, 5)),
    ("PReLU", lambda lib: lib.PReLU(), (4, 5)),
    ("PReLU_channels", lambda lib: lib.PReLU(3, init=0.1), (2, 3, 4)),
    ("PReLU_channels_4d", lambda lib: lib.PReLU(3), (2, 3, 2, 2)),
    ("PReLU_channels_2d", lambda lib: lib.PReLU(5), (4, 5)),
    ("PReLU_1d_input", lambda lib: lib.PReLU(), (6,)),
    ("Mish", lambda lib: lib.Mish(), (4, 5)),
    ("SELU", lambda lib: lib.SELU(), (4, 5)),
    ("CELU", lambda lib: lib.CELU(0.5), (4, 5)),
    ("Hardsigmoid", lambda lib: lib.Hardsigmoid(), (4, 5)),
    ("Hardswish", lambda lib: lib.Hardswish(), (4, 5)),
    ("LogSigmoid", lambda lib: lib.LogSigmoid(), (4, 5)),
    ("Softsign", lambda lib: lib.Softsign(), (4, 5)),
    ("Tanhshrink", lambda lib: lib.Tanhshrink(), (4, 5)),
    ("Threshold", lambda lib: lib.Threshold(0.1, 20.0), (4, 5)),
]


@pytest.mark.parametrize("builder,shape", [row[1:] for row in MODULES], ids=[row[0] for row in MODULES])
def test_module_matches_pytorch(builder, shape):
    x = _input(*shape)
    # PyTorch's hardsigmoid backward multiplies by a float32 1/6 even in float64.
    rtol = 1e-8 if isinstance(builder(nn), nn.Hardsigmoid) else 1e-12
    if "inplace=True" in repr(builder(nn)):
        # In place on a leaf is an error in both libraries: go through a non-leaf.
        module_parity(builder, [x], forward=lambda m, t: m(t * 1.0), rtol=rtol, atol=1e-14)
    else:
        module_parity(builder, [x], rtol=rtol, atol=1e-14)


def test_reprs_match_pytorch():
    cases = [
        lambda lib: lib.ReLU6(), lambda lib: lib.ReLU6(inplace=True), lambda lib: lib.PReLU(),
        lambda lib: lib.PReLU(3, 0.1), lambda lib: lib.Hardtanh(), lambda lib: lib.Hardtanh(-2, 2, True),
        lambda lib: lib.Threshold(0.1, 20), lambda lib: lib.Threshold(0.1, 20, inplace=True),
        lambda lib: lib.CELU(), lambda lib: lib.CELU(2.0, True), lambda lib: lib.SELU(),
        lambda lib: lib.SELU(True), lambda lib: lib.Mish(), lambda lib: lib.Mish(inplace=True),
        lambda lib: lib.Hardsigmoid(), lambda lib: lib.Hardswish(True), lambda lib: lib.LogSigmoid(),
        lambda lib: lib.Softsign(), lambda lib: lib.Tanhshrink(),
    ]  # fmt: skip
    for build in cases:
        assert repr(build(nn)) == repr(build(torch.nn))


def test_prelu_initialisation_and_parameters():
    layer = nn.PReLU(4, init=0.1)
    assert layer.weight.shape == (4,) and np.allclose(layer.weight.detach().numpy(), 0.1)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert nn.PReLU().weight.tolist() == [0.25]


def test_inplace_activations_modify_their_input():
    for module, expected in [
        (nn.ReLU6(inplace=True), [0.0, 6.0, 2.0]),
        (nn.Hardtanh(inplace=True), [-1.0, 1.0, 1.0]),
        (nn.Threshold(1.0, -5.0, inplace=True), [-5.0, 7.0, 2.0]),
    ]:
        x = ag.tensor([-1.0, 7.0, 2.0])
        assert module(x) is x and x.tolist() == expected
    x = ag.tensor([-1.0, 2.0])
    assert F.selu(x, inplace=True) is x
    np.testing.assert_allclose(x.numpy(), TF.selu(torch.tensor([-1.0, 2.0])).numpy())
    leaf = ag.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        F.relu6(leaf, inplace=True)


def test_integer_inputs_as_pytorch():
    ints = ag.tensor([-2, 3, 9])
    assert F.relu6(ints).dtype == ag.int64 and F.relu6(ints).tolist() == [0, 3, 6]
    assert F.hardtanh(ints).tolist() == [-1, 1, 1]
    assert F.threshold(ints, 2, 0).tolist() == [0, 3, 9]
    for name in ("mish", "selu", "celu", "hardsigmoid", "hardswish", "logsigmoid"):
        with pytest.raises(NotImplementedError, match="not implemented for"):
            getattr(F, name)(ints)


def test_errors_as_pytorch():
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size. "
                                           "Found parameter numbers = 4 and channel size = 3"):  # fmt: skip
        F.prelu(ag.ones(2, 3), ag.ones(4))
    with pytest.raises(RuntimeError, match="channel size = 1"):
        F.prelu(ag.ones(3), ag.ones(3))
    with pytest.raises(RuntimeError, match="Expected `weight` to be a scalar or 1D tensor"):
        F.prelu(ag.ones(2, 3), ag.ones(1, 3))
    with pytest.raises(RuntimeError, match="Not allow zero-dim input tensor"):
        F.prelu(ag.tensor(1.0), ag.ones(2))
    with pytest.raises(RuntimeError, match="Type promoting not supported. Got Double and Float"):
        F.prelu(ag.ones(3, dtype=ag.float64), ag.ones(1))
    with pytest.raises(RuntimeError, match="Type promoting not supported. Got Double and Float"):
        nn.PReLU()(ag.ones(3, dtype=ag.float64))
    with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val \(2\)"):
        nn.Hardtanh(2, 1)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(ag.ones(3), 2, 1)
    with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
        F.celu(ag.ones(3), 0.0)


@pytest.mark.parametrize("shape", [(3, 4, 50, 50), (5, 300, 300), (2, 70000), (64, 100)])
def test_numpy_relu_rows_equal_the_scalar_maximum(monkeypatch, shape):
    # Without numba relu takes the maximum against a broadcast row of zeros, its width a
    # product of trailing dims (8192+ where it can): same values, signs of zero and NaNs.
    monkeypatch.setattr(numba_backend, "enabled", False)
    x = RNG.standard_normal(shape).astype(np.float32)
    flat = x.reshape(-1)
    flat[[0, 1, 2, 3, 4, -1]] = [0.0, -0.0, np.nan, np.inf, -np.inf, -np.nan]
    out = F.relu(ag.tensor(x)).numpy()
    expected = np.maximum(x, np.float32(0))
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))
    assert out.dtype == np.float32 and out.shape == shape
