"""RNN, LSTM, GRU and their cells against torch.nn (weights copied): values, gradients, names, repr."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
from nn._scan import gru_layer, lstm_layer, rnn_layer

from parity import assert_close, copy_weights, import_torch, to_ours

torch = import_torch()

RECURRENT = ["RNN", "LSTM", "GRU"]


def _pair(name, *args, **kwargs):
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs, dtype=ag.float64)
    copy_weights(ours, theirs)
    return ours, theirs


def _flat(result):
    """``(output, h_n)`` or ``(output, (h_n, c_n))`` -> a flat list of tensors."""
    out, state = result
    return [out, *state] if isinstance(state, tuple) else [out, state]


def _check_module(name, kwargs, seq_len=4, batch=3, with_state=False, batched=True, seed=0):
    torch.manual_seed(seed)
    ours, theirs = _pair(name, 3, 5, **kwargs)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    if not batched:
        shape = (seq_len, 3)
    else:
        shape = (batch, seq_len, 3) if kwargs.get("batch_first") else (seq_len, batch, 3)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    hx = None
    if with_state:
        state_shape = (layers, batch, 5) if batched else (layers, 5)
        h0 = torch.randn(*state_shape, dtype=torch.float64, requires_grad=True)
        c0 = torch.randn(*state_shape, dtype=torch.float64, requires_grad=True)
        hx = (h0, c0) if name == "LSTM" else h0
    results_t = _flat(theirs(x, hx))
    x_ours = to_ours(x)
    hx_ours = None if hx is None else (tuple(map(to_ours, hx)) if name == "LSTM" else to_ours(hx))
    results_o = _flat(ours(x_ours, hx_ours))
    for o, t in zip(results_o, results_t):
        assert o.shape == tuple(t.shape)
        assert_close(o, t)
    grads = [torch.randn_like(t) for t in results_t]
    torch.autograd.backward(results_t, grads)
    sum((o * ag.tensor(g.numpy())).sum() for o, g in zip(results_o, grads)).backward()
    assert_close(x_ours.grad, x.grad)
    if hx is not None:
        pairs = zip(hx_ours, hx) if name == "LSTM" else [(hx_ours, hx)]
        for o, t in pairs:
            assert_close(o.grad, t.grad)
    for (name_o, p_o), (name_t, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name_o == name_t
        assert_close(p_o.grad, p_t.grad)


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize(
    "num_layers, bidirectional, batch_first, with_state",
    [
        (1, False, False, False),
        (1, False, True, True),
        (1, True, False, True),
        (2, False, False, True),
        (2, True, True, False),
        (2, True, False, True),
    ],
)
def test_matches_torch_values_and_gradients(name, num_layers, bidirectional, batch_first, with_state):
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    _check_module(name, kwargs, with_state=with_state)


@pytest.mark.parametrize("name", RECURRENT)
def test_without_bias_matches_torch(name):
    _check_module(name, dict(bias=False, num_layers=2), with_state=True)


def test_relu_rnn_matches_torch():
    _check_module("RNN", dict(nonlinearity="relu", bidirectional=True), with_state=True)


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("with_state", [False, True])
def test_unbatched_input_matches_torch(name, with_state):
    _check_module(name, dict(num_layers=2, bidirectional=True), batched=False, with_state=with_state)


@pytest.mark.parametrize("name", RECURRENT)
def test_dropout_between_layers_is_identity_in_eval_and_random_in_training(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = _pair(name, 3, 5, num_layers=2, dropout=0.5)
    ours.eval()
    theirs.eval()
    x = torch.randn(4, 2, 3, dtype=torch.float64)
    assert_close(ours(to_ours(x))[0], theirs(x)[0])
    ours.train()
    ag.manual_seed(0)
    first = ours(to_ours(x))[0].detach().numpy()
    ag.manual_seed(0)
    again = ours(to_ours(x))[0].detach().numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, theirs(x)[0].detach().numpy())


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RNN", dict(num_layers=2, nonlinearity="relu", bias=False, batch_first=True, dropout=0.5,
                     bidirectional=True)),
        ("RNN", {}),
        ("LSTM", dict(num_layers=3, bidirectional=True)),
        ("GRU", dict(batch_first=True, bias=False)),
    ],
)  # fmt: skip
def test_repr_and_state_dict_keys_match_torch(name, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = getattr(nn, name)(3, 4, **kwargs), getattr(torch.nn, name)(3, 4, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (n_o, p_o), (n_t, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n_o == n_t and p_o.shape == tuple(p_t.shape)


@pytest.mark.parametrize("name", RECURRENT + ["RNNCell", "LSTMCell", "GRUCell"])
def test_default_init_is_uniform_within_one_over_sqrt_hidden(name):
    ag.manual_seed(0)
    model = getattr(nn, name)(3, 16)
    bound = 1 / np.sqrt(16)
    values = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.std() > 0.8 * bound / np.sqrt(3)  # U(-b, b) has std b / sqrt(3)
    ag.manual_seed(0)
    again = getattr(nn, name)(3, 16)
    np.testing.assert_array_equal(values, np.concatenate([p.detach().numpy().ravel() for p in again.parameters()]))


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias, with_state, batched", list(itertools.product([True, False], repeat=3)))
def test_cells_match_torch(name, bias, with_state, batched):
    torch.manual_seed(1)
    ours, theirs = _pair(name, 3, 4, bias=bias)
    x = torch.randn(*((2, 3) if batched else (3,)), dtype=torch.float64, requires_grad=True)
    hx = None
    if with_state:
        shape = (2, 4) if batched else (4,)
        hx = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
        if name == "LSTMCell":
            hx = (hx, torch.randn(*shape, dtype=torch.float64, requires_grad=True))
    result_t = theirs(x, hx)
    x_o = to_ours(x)
    hx_o = None if hx is None else (tuple(map(to_ours, hx)) if name == "LSTMCell" else to_ours(hx))
    result_o = ours(x_o, hx_o)
    result_t = result_t if isinstance(result_t, tuple) else (result_t,)
    result_o = result_o if isinstance(result_o, tuple) else (result_o,)
    for o, t in zip(result_o, result_t):
        assert_close(o, t)
    sum(t.sum() for t in result_t).backward()
    sum(o.sum() for o in result_o).backward()
    assert_close(x_o.grad, x.grad)
    for (_, p_o), (_, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(p_o.grad, p_t.grad)


def test_cell_reprs_match_torch():
    pairs = [
        (nn.RNNCell(3, 4, nonlinearity="relu", bias=False), torch.nn.RNNCell(3, 4, False, "relu")),
        (nn.LSTMCell(3, 4), torch.nn.LSTMCell(3, 4)),
        (nn.GRUCell(3, 4, bias=False), torch.nn.GRUCell(3, 4, bias=False)),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())


def test_lstm_cell_steps_reproduce_the_lstm_layer():
    ag.manual_seed(0)
    lstm, cell = nn.LSTM(3, 4), nn.LSTMCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = ag.randn(5, 2, 3)
    out, (h_n, c_n) = lstm(x)
    h = c = ag.zeros(2, 4)
    for t in range(5):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(h.detach().numpy(), out[t].detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.detach().numpy(), c_n[0].detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", RECURRENT)
def test_float32_stays_float32(name):
    model = getattr(nn, name)(3, 4, bidirectional=True)
    x = ag.randn(5, 2, 3, requires_grad=True)
    out = _flat(model(x))
    assert all(t.dtype == ag.float32 for t in out)
    out[0].sum().backward()
    assert x.grad.dtype == ag.float32
    assert all(p.grad.dtype == ag.float32 for p in model.parameters())


def _scan_inputs(op, reverse):
    rng = np.random.default_rng(3)
    steps, batch, hidden = 4, 2, 3
    gates = {"rnn_layer": 1, "lstm_layer": 4, "gru_layer": 3}[op.name]
    arrays = [rng.standard_normal((steps, batch, gates * hidden))]
    arrays += [rng.standard_normal((batch, hidden)) for _ in range(2 if op.name == "lstm_layer" else 1)]
    arrays.append(0.5 * rng.standard_normal((gates * hidden, hidden)))
    if op.name == "gru_layer":
        arrays.append(rng.standard_normal(gates * hidden))
    return [ag.tensor(a, requires_grad=True) for a in arrays], {"reverse": reverse}


@pytest.mark.parametrize("op", [rnn_layer, lstm_layer, gru_layer], ids=str)
@pytest.mark.parametrize("reverse", [False, True])
def test_scan_vjp_numpy_path_equals_tensor_path(op, reverse, monkeypatch):
    # Plain backward runs the VJP on arrays; create_graph=True runs it in Tensor ops.
    import nn._scan as scan

    paths = []
    choose = scan._vjp_namespace

    def spy(*tensors):
        namespace, values = choose(*tensors)
        paths.append(namespace)
        return namespace, values

    monkeypatch.setattr(scan, "_vjp_namespace", spy)
    inputs, kwargs = _scan_inputs(op, reverse)
    out = op(*inputs, **kwargs)
    weight = ag.tensor(np.random.default_rng(4).standard_normal(out.shape))
    fast = ag.grad((out * weight).sum(), inputs, retain_graph=True)
    recorded = ag.grad((out * weight).sum(), inputs, create_graph=True)
    assert paths == [scan._NumPyOps, scan._TensorOps]
    for a, b in zip(fast, recorded):
        assert b.requires_grad
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_lstm_second_order_gradient_matches_torch():
    torch.manual_seed(2)
    ours, theirs = _pair("LSTM", 3, 4)
    x = torch.randn(3, 2, 3, dtype=torch.float64, requires_grad=True)
    (gx,) = torch.autograd.grad(theirs(x)[0].pow(2).sum(), x, create_graph=True)
    gx.sum().backward()
    x_o = to_ours(x)
    (gx_o,) = ag.grad(ours(x_o)[0].pow(2).sum(), x_o, create_graph=True)
    gx_o.sum().backward()
    assert_close(gx_o, gx)
    for (_, p_o), (_, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(p_o.grad, p_t.grad, atol=1e-9)


def test_proj_size_errors_as_pytorch():
    for lib in (nn, torch.nn):
        with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
            lib.LSTM(3, 4, proj_size=4)
        with pytest.raises(ValueError, match="proj_size should be a positive integer or zero"):
            lib.LSTM(3, 4, proj_size=-1)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nn.LSTM(3, 4)(ag.randn(2, 2, 2, 3)), ValueError, "Expected input to be 2D or 3D"),
        (lambda: nn.GRU(3, 4)(ag.randn(5, 2, 6)), RuntimeError, "input.size\\(-1\\) must be equal to input_size"),
        (lambda: nn.RNN(3, 4)(ag.randn(5, 2, 3), ag.zeros(1, 3, 4)), RuntimeError, "Expected hidden size \\(1, 2, 4\\), got \\[1, 3, 4\\]"),
        (lambda: nn.RNN(3, 4)(ag.randn(5, 2, 3).double()), ValueError, "does not match weight dtype"),
        (lambda: nn.RNN(3, 4, nonlinearity="gelu"), ValueError, "Unknown nonlinearity 'gelu'"),
        (lambda: nn.LSTM(3, 4, dropout=1.5), ValueError, "dropout should be a number in range"),
        (lambda: nn.GRU(0, 4), ValueError, "input_size must be greater than zero"),
        (lambda: nn.LSTMCell(3, 4)(ag.randn(2, 5)), RuntimeError, "input has inconsistent input_size"),
        (lambda: nn.GRUCell(3, 4)(ag.randn(2, 3), ag.zeros(3, 4)), RuntimeError, "hidden state has shape"),
        (lambda: lstm_layer(ag.randn(2, 1, 8), ag.zeros(1, 2), ag.zeros(1, 3), ag.randn(8, 2)), RuntimeError, "initial state"),
    ],
)  # fmt: skip
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)
