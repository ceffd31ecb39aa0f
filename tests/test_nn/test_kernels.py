"""The optional compiled kernels (``graphgrad[fast]``) against the NumPy reference, in one run.

Each test computes the same op with the kernels on and off (``ag.backends.numba.enabled``) and
asserts the results equal: max pooling (values, argmax, gradient, NaN/inf/ties), col2im (the
convolution's input gradient) and ReLU with its gradient. The last test runs a training step
in a process where Numba cannot be imported.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd.backends import numba as numba_backend
from nn import _conv_columns

pytestmark = pytest.mark.skipif(
    not numba_backend.is_available(), reason="Numba is not installed (pip install 'graphgrad[fast]')"
)

RNG = np.random.default_rng(5)


def both(monkeypatch, fn):
    """``fn()`` with the kernels on, then off (the NumPy reference)."""
    monkeypatch.setattr(numba_backend, "enabled", True)
    fast = fn()
    monkeypatch.setattr(numba_backend, "enabled", False)
    reference = fn()
    return fast, reference


def _pool_run(x, dims, options, g):
    t = ag.tensor(x, requires_grad=True)
    pool = F.max_pool2d if dims == 2 else F.max_pool1d
    out, indices = pool(t, return_indices=True, **options)
    (out * ag.tensor(g)).sum().backward()
    return out.detach().numpy(), indices.numpy(), t.grad.numpy()


POOL_CASES = [
    (2, dict(kernel_size=2)),
    (2, dict(kernel_size=2, ceil_mode=True)),
    (2, dict(kernel_size=3, stride=1, padding=1)),
    (2, dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1))),
    (2, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (1, dict(kernel_size=3, stride=2, padding=1)),
    (1, dict(kernel_size=2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dims, options", POOL_CASES)
@pytest.mark.parametrize("values", ["normal", "ties", "nan_inf"])
def test_max_pool_kernels_equal_numpy(monkeypatch, dims, options, values, dtype):
    shape = (2, 3, 8, 7) if dims == 2 else (2, 3, 9)
    if values == "normal":
        x = RNG.standard_normal(shape)
    elif values == "ties":
        x = RNG.integers(-2, 3, shape).astype(float)
    else:
        x = RNG.standard_normal(shape)
        flat = x.reshape(-1)
        flat[RNG.choice(flat.size, 12, replace=False)] = np.nan
        flat[RNG.choice(flat.size, 6, replace=False)] = np.inf
        flat[RNG.choice(flat.size, 6, replace=False)] = -np.inf
    x = x.astype(dtype)
    out_shape = F.max_pool2d(ag.tensor(x), **options).shape if dims == 2 else \
        F.max_pool1d(ag.tensor(x), **options).shape  # fmt: skip
    g = RNG.standard_normal(out_shape).astype(dtype)
    fast, reference = both(monkeypatch, lambda: _pool_run(x, dims, options, g))
    np.testing.assert_array_equal(fast[0], reference[0])  # values
    np.testing.assert_array_equal(fast[1], reference[1])  # indices
    # Overlapping windows add their gradients in another order.
    tight = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(fast[2], reference[2], rtol=tight, atol=tight)


def _conv_run(x, w, options):
    xt, wt = ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True)
    out = F.conv2d(xt, wt, **options) if x.ndim == 4 else F.conv1d(xt, wt, **options)
    g = np.linspace(-1, 1, out.numel()).reshape(out.shape).astype(x.dtype)
    (out * ag.tensor(g)).sum().backward()
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()


CONV_CASES = [
    ((2, 1, 9, 8), (4, 1, 3, 3), dict(padding=1)),  # batch-first columns
    ((2, 8, 9, 8), (6, 8, 3, 3), dict(padding=1)),  # channels-first columns
    ((2, 8, 9, 8), (6, 4, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)),
    ((2, 8, 10, 9), (6, 8, 2, 2), dict(stride=3)),  # stride skips trailing input
    ((2, 8, 7), (5, 8, 3), dict(padding="same")),
    ((2, 2, 11), (4, 2, 3), dict(stride=2, dilation=2)),
]


@pytest.mark.parametrize("x_shape, w_shape, options", CONV_CASES)
def test_col2im_kernel_gives_numpys_input_gradient(monkeypatch, x_shape, w_shape, options):
    # Off the padded grid, which would otherwise take stride-1 channels-first cases with and
    # without Numba (test_conv checks the grid against col2im): the kernel against NumPy's.
    monkeypatch.setattr(_conv_columns, "_grid_pays", lambda window, rows: False)
    x = RNG.standard_normal(x_shape)
    w = RNG.standard_normal(w_shape)
    fast, reference = both(monkeypatch, lambda: _conv_run(x, w, options))
    for a, b in zip(fast, reference):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernels_equal_numpy(monkeypatch, dtype):
    x = RNG.standard_normal((64, 100)).astype(dtype)
    x[0, :5] = [0.0, -0.0, np.nan, np.inf, -np.inf]
    g = RNG.standard_normal(x.shape).astype(dtype)

    def run():
        t = ag.tensor(x, requires_grad=True)
        out = F.relu(t)
        (out * ag.tensor(g)).sum().backward()
        return out.detach().numpy(), t.grad.numpy()

    fast, reference = both(monkeypatch, run)
    for a, b in zip(fast, reference):
        np.testing.assert_array_equal(a, b)


def test_everything_works_without_numba(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        sys.modules["numba"] = None  # as if it were not installed
        import numpy as np
        import autograd as ag, nn, optim
        import nn.functional as F
        assert not ag.backends.numba.is_available() and not ag.backends.numba.active()
        ag.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
        opt = optim.SGD(model.parameters(), lr=0.1)
        x, y = ag.randn(5, 1, 8, 8), ag.tensor([0, 1, 2, 0, 1])
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < losses[0], losses
        print("ok")
        """
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=root, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 3, 40, 20), (64, 5, 70), (200, 30)])
def test_batch_norm_kernels_equal_numpy(monkeypatch, dtype, shape):
    x = (RNG.standard_normal(shape) * 3 + 1).astype(dtype)
    g = RNG.standard_normal(shape).astype(dtype)
    w0, b0 = RNG.standard_normal(shape[1]).astype(dtype), RNG.standard_normal(shape[1]).astype(dtype)

    def run():
        bn = nn.BatchNorm2d(shape[1]) if len(shape) == 4 else nn.BatchNorm1d(shape[1])
        bn = bn.to(ag.float32 if dtype == np.float32 else ag.float64)
        with ag.no_grad():
            bn.weight.copy_(ag.tensor(w0))
            bn.bias.copy_(ag.tensor(b0))
        t = ag.tensor(x, requires_grad=True)
        out = bn(t)
        (out * ag.tensor(g)).sum().backward()
        return (out.detach().numpy(), t.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy(),
                bn.running_mean.numpy(), bn.running_var.numpy())  # fmt: skip

    fast, reference = both(monkeypatch, run)
    tight = 2e-5 if dtype == np.float32 else 1e-11  # float64 sums vs NumPy's own order
    for a, b in zip(fast, reference):
        np.testing.assert_allclose(a, b, rtol=tight, atol=tight)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("gate_grads", [False, True])
def test_lstm_kernels_equal_numpy(monkeypatch, reverse, gate_grads):
    from nn._scan import lstm_layer

    steps, batch, hidden = 6, 3, 5
    xw = (RNG.standard_normal((steps, batch, 4 * hidden)) * 2).astype(np.float32)
    h0, c0 = (RNG.standard_normal((batch, hidden)).astype(np.float32) for _ in range(2))
    w_hh = RNG.standard_normal((4 * hidden, hidden)).astype(np.float32)
    g = RNG.standard_normal((steps, batch, 6 * hidden)).astype(np.float32)
    if not gate_grads:  # nn.LSTM reads only h and c
        g[..., 2 * hidden :] = 0

    def run():
        leaves = [ag.tensor(a, requires_grad=True) for a in (xw, h0, c0, w_hh)]
        out = lstm_layer(*leaves, reverse=reverse)
        (out * ag.tensor(g)).sum().backward()
        return [out.detach().numpy()] + [t.grad.numpy() for t in leaves]

    fast, reference = both(monkeypatch, run)
    for a, b in zip(fast, reference):  # float32 tanh: the rational form vs NumPy's
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(32, 10), (3, 1), (5, 300)])
def test_cross_entropy_kernels_equal_numpy(monkeypatch, dtype, reduction, shape):
    x = (RNG.standard_normal(shape) * 4).astype(dtype)
    x[0, 0] = 80.0  # a large logit: the shift keeps exp finite
    labels = RNG.integers(0, shape[1], shape[0])

    def run():
        t = ag.tensor(x, requires_grad=True)
        loss = F.cross_entropy(t, ag.tensor(labels), reduction=reduction)
        (loss * 3.0).backward()
        return loss.detach().numpy(), t.grad.numpy()

    fast, reference = both(monkeypatch, run)
    tight = 2e-6 if dtype == np.float32 else 1e-13  # exp/log of the kernel vs NumPy's SIMD ones
    for a, b in zip(fast, reference):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tight, atol=tight)


@pytest.mark.parametrize("labels, error", [([0, 3], "target 3 is out of bounds for 3 classes"),
                                           ([-1, 0], "target -1 is out of bounds")])  # fmt: skip
def test_cross_entropy_kernel_leaves_bad_labels_to_numpy_path(monkeypatch, labels, error):
    x = ag.tensor(RNG.standard_normal((2, 3)))

    def run():
        with pytest.raises(IndexError, match=error):
            F.cross_entropy(x, ag.tensor(labels))
        return ()

    both(monkeypatch, run)


def test_cross_entropy_kernel_leaves_non_finite_rows_to_numpy_path(monkeypatch):
    # An all -inf row gives nan, a -inf target logit inf, a nan logit nan: as PyTorch.
    cases = [([[-np.inf, -np.inf], [1.0, 2.0]], [1, 0]), ([[0.0, -np.inf], [1.0, 2.0]], [1, 0]),
             ([[np.nan, 0.0], [1.0, 2.0]], [1, 0]), ([[np.inf, 0.0], [1.0, 2.0]], [0, 0])]  # fmt: skip

    def run():
        return [F.cross_entropy(ag.tensor(x), ag.tensor(t)).item() for x, t in cases]

    fast, reference = both(monkeypatch, run)
    np.testing.assert_array_equal(fast, reference)
    torch = pytest.importorskip("torch")
    expected = [torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t)).item()
                for x, t in cases]  # fmt: skip
    np.testing.assert_array_equal(fast, expected)
