"""The optimizers' compiled update (``graphgrad[fast]``) against the NumPy expression, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import optim
from autograd.backends import numba as numba_backend
from optim import _kernels

pytestmark = pytest.mark.skipif(
    not numba_backend.is_available(), reason="Numba is not installed (pip install 'graphgrad[fast]')"
)

RNG = np.random.default_rng(11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha", [-0.01, -1e-3, 0.37, -3.0])
def test_add_scaled_equals_numpy_bit_for_bit(monkeypatch, dtype, alpha):
    p = RNG.standard_normal((97, 131)).astype(dtype)  # above the kernel's size threshold
    g = RNG.standard_normal((97, 131)).astype(dtype)
    g[0, :3] = [np.inf, np.nan, -0.0]
    monkeypatch.setattr(_kernels, "_axpy_by_dtype", {})  # as without SciPy, whose BLAS goes first
    monkeypatch.setattr(numba_backend, "enabled", True)
    fast = p.copy()
    _kernels.add_scaled_(fast, g, alpha)
    reference = p + np.multiply(g, alpha)  # what SGD computed before the kernel
    np.testing.assert_array_equal(fast, reference)
    monkeypatch.setattr(numba_backend, "enabled", False)
    slow = p.copy()
    _kernels.add_scaled_(slow, g, alpha)
    np.testing.assert_array_equal(slow, reference)


def test_add_scaled_falls_back_for_strided_and_small_arrays(monkeypatch):
    monkeypatch.setattr(numba_backend, "enabled", True)
    p = np.ones((80, 100), dtype=np.float32).T  # Fortran order: the NumPy path
    g = np.full((100, 80), 2.0, dtype=np.float32)
    _kernels.add_scaled_(p, g, -0.5)
    np.testing.assert_array_equal(p, np.zeros((100, 80), dtype=np.float32))
    small = np.ones(3)
    _kernels.add_scaled_(small, np.ones(3), 2.0)
    np.testing.assert_array_equal(small, [3.0, 3.0, 3.0])


def test_sgd_training_is_the_same_with_and_without_kernels(monkeypatch):
    monkeypatch.setattr(_kernels, "_axpy_by_dtype", {})  # BLAS axpy rounds once: not compared here

    def train(enabled):
        monkeypatch.setattr(numba_backend, "enabled", enabled)
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 3))
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        x = ag.tensor(np.random.default_rng(1).standard_normal((16, 100)).astype(np.float32))
        # A loss without a kernel of its own (cross-entropy's compiled exp differs in the last bit).
        y = ag.tensor(np.random.default_rng(2).standard_normal((16, 3)).astype(np.float32))
        for _ in range(5):
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()
        return [p.detach().numpy().copy() for p in model.parameters()]

    for fast, reference in zip(train(True), train(False)):
        np.testing.assert_array_equal(fast, reference)
