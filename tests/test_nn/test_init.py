"""nn.init and default layer initialisation: PyTorch's gains, fans, bounds and distributions."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn import init

from parity import import_torch

torch = import_torch()

SHAPES = [(30, 20), (16, 3, 5), (8, 4, 3, 3), (200, 1)]


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None),
])  # fmt: skip
def test_calculate_gain_matches_pytorch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_pytorch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(ag.empty(*shape)) == expected


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ag.empty(5))


def _std_tolerance(n):
    return 4 / math.sqrt(2 * n)  # ~4 standard errors of a sample std


@pytest.mark.parametrize("shape", [(400, 300), (64, 32, 3, 3)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("a,nonlinearity", [(0, "relu"), (math.sqrt(5), "leaky_relu"), (0, "tanh")])
def test_kaiming(shape, mode, a, nonlinearity):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    fan = fan_in if mode == "fan_in" else fan_out
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    w = init.kaiming_uniform_(ag.empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity).numpy()
    bound = math.sqrt(3) * std
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert w.std() == pytest.approx(std, rel=_std_tolerance(w.size))
    w = init.kaiming_normal_(ag.empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity).numpy()
    assert w.std() == pytest.approx(std, rel=_std_tolerance(w.size))
    assert abs(w.mean()) < 4 * std / math.sqrt(w.size)


@pytest.mark.parametrize("shape", [(400, 300), (64, 32, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(shape, gain):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    w = init.xavier_uniform_(ag.empty(*shape), gain=gain).numpy()
    assert np.abs(w).max() <= math.sqrt(3) * std
    assert w.std() == pytest.approx(std, rel=_std_tolerance(w.size))
    w = init.xavier_normal_(ag.empty(*shape), gain=gain).numpy()
    assert w.std() == pytest.approx(std, rel=_std_tolerance(w.size))


def test_simple_fills_and_distributions():
    t = ag.empty(100_000)
    init.uniform_(t, -2.0, 3.0)
    assert t.numpy().min() >= -2 and t.numpy().max() < 3 and t.numpy().mean() == pytest.approx(0.5, abs=0.02)
    init.normal_(t, 1.0, 0.5)
    assert t.numpy().mean() == pytest.approx(1.0, abs=0.01) and t.numpy().std() == pytest.approx(0.5, rel=0.01)
    init.trunc_normal_(t, mean=0.0, std=1.0, a=-1.0, b=1.5)
    values = t.numpy()
    assert values.min() >= -1 and values.max() <= 1.5
    # Mean of N(0,1) truncated to [a, b]: (phi(a) - phi(b)) / (Phi(b) - Phi(a)).
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    assert values.mean() == pytest.approx((phi(-1) - phi(1.5)) / (cdf(1.5) - cdf(-1)), abs=0.01)
    init.constant_(t, 0.25)
    assert (t.numpy() == 0.25).all()
    init.zeros_(t), init.ones_(t)
    assert (t.numpy() == 1).all()
    e = init.eye_(ag.empty(2, 3))
    np.testing.assert_array_equal(e.numpy(), np.eye(2, 3))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 2, 3)])
def test_orthogonal(shape):
    w = init.orthogonal_(ag.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 4 * np.eye(min(rows, cols)), atol=1e-5)


def test_initialisers_work_on_parameters_and_follow_manual_seed():
    p = nn.Parameter(ag.empty(4, 5))
    ag.manual_seed(11)
    init.kaiming_uniform_(p, a=math.sqrt(5))
    first = p.detach().numpy().copy()
    assert p.requires_grad and p.grad_fn is None
    ag.manual_seed(11)
    init.kaiming_uniform_(p, a=math.sqrt(5))
    np.testing.assert_array_equal(p.detach().numpy(), first)
    ag.manual_seed(11)
    np.testing.assert_array_equal(nn.Linear(5, 4).weight.detach().numpy(), first)


def test_linear_default_initialisation_matches_pytorch_bounds():
    layer = nn.Linear(500, 300)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    # kaiming_uniform_(a=sqrt(5)): bound = gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in).
    bound = 1 / math.sqrt(500)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=_std_tolerance(w.size))
    assert np.abs(b).max() <= bound and b.std() == pytest.approx(bound / math.sqrt(3), rel=0.15)
    reference = torch.nn.Linear(500, 300)
    t_w = reference.weight.detach().numpy()
    assert w.std() == pytest.approx(t_w.std(), rel=0.02)


def test_other_layers_default_initialisation():
    emb = nn.Embedding(1000, 50, padding_idx=3).weight.detach().numpy()
    assert emb.std() == pytest.approx(1.0, rel=0.02) and not emb[3].any()
    bn = nn.BatchNorm2d(4)
    assert bn.weight.detach().numpy().tolist() == [1.0] * 4
    assert bn.bias.detach().numpy().tolist() == [0.0] * 4
    ln = nn.LayerNorm((2, 3))
    assert (ln.weight.detach().numpy() == 1).all() and not ln.bias.detach().numpy().any()


def test_zero_element_kaiming_warns():
    with pytest.warns(UserWarning, match="no-op"):
        init.kaiming_uniform_(ag.empty(0, 3))
