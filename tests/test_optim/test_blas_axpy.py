"""Plain SGD's BLAS axpy path (SciPy installed; taken before Numba's loop): one pass, in place,
rounded once (NumPy's ``p + lr * g`` rounds twice); what it cannot take goes through NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import optim
from autograd.backends import numba as numba_backend
from optim import _kernels

pytest.importorskip("scipy.linalg.blas")

RNG = np.random.default_rng(5)


@pytest.fixture
def blas_only(monkeypatch):
    """Numba off, so the BLAS path is the one taken."""
    monkeypatch.setattr(numba_backend, "enabled", False)
    monkeypatch.setattr(_kernels, "_axpy_by_dtype", None)  # loaded afresh


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3,), (97, 131)])
def test_add_scaled_updates_in_place_as_numpy_up_to_rounding(blas_only, dtype, shape):
    p = RNG.standard_normal(shape).astype(dtype)
    g = RNG.standard_normal(shape).astype(dtype)
    g.reshape(-1)[:3] = [np.inf, np.nan, -0.0]
    reference = p + np.multiply(g, -0.013)
    storage = p
    _kernels.add_scaled_(p, g, -0.013)
    assert p is storage
    assert np.array_equal(np.isnan(p), np.isnan(reference))
    assert np.array_equal(np.isinf(p), np.isinf(reference))
    finite = np.isfinite(reference)
    # Rounded once instead of twice: the two differ by at most half an ulp of the product and
    # half an ulp of the sum (many ulps of a sum that nearly cancels, hence not max_ulp).
    bound = np.spacing(np.abs(np.multiply(g, -0.013))) + np.spacing(np.abs(reference))
    assert np.all(np.abs(p[finite] - reference[finite]) <= bound[finite])
    assert np.dtype(dtype) in _kernels.blas_axpy()


@pytest.mark.parametrize("numba_enabled", [False, True])  # BLAS goes first, with Numba too
def test_plain_sgd_steps_through_blas_axpy_in_place(blas_only, monkeypatch, numba_enabled):
    monkeypatch.setattr(numba_backend, "enabled", numba_enabled)
    calls = []
    real = _kernels.axpy_

    def counting_axpy(axpy, p, g, alpha):
        calls.append(p.shape)
        real(axpy, p, g, alpha)

    monkeypatch.setattr("optim.sgd.axpy_", counting_axpy)
    w = ag.tensor(RNG.standard_normal((300, 40)).astype(np.float32), requires_grad=True)
    b = ag.tensor(RNG.standard_normal(40).astype(np.float32), requires_grad=True)
    storage, start = w._data, w.detach().numpy().copy()
    ((w * w).sum() + b.sum()).backward()
    optim.SGD([w, b], lr=0.1).step()
    assert calls == [(300, 40), (40,)]
    assert w._data is storage and w._version == 1 and b._version == 1
    reference = start + np.multiply(2 * start, np.float32(-0.1))
    bound = np.spacing(np.abs(2 * start * np.float32(0.1))) + np.spacing(np.abs(reference))
    assert np.all(np.abs(w.detach().numpy() - reference) <= bound)


def test_plain_sgd_takes_numpy_for_a_parameter_that_is_not_c_contiguous(blas_only, monkeypatch):
    monkeypatch.setattr("optim.sgd.axpy_", lambda *args: pytest.fail("BLAS path taken"))
    storage = np.asfortranarray(RNG.standard_normal((30, 20)))
    p = ag.tensor(storage, requires_grad=True)
    p._data = storage
    expected = storage + np.multiply(2 * storage, -0.1)  # NumPy's update, bit for bit
    (p * p).sum().backward()
    optim.SGD([p], lr=0.1).step()
    assert p._data is storage
    np.testing.assert_array_equal(p.detach().numpy(), expected)


def test_plain_sgd_leaves_read_only_storage_alone_on_the_blas_path(blas_only):
    storage = RNG.standard_normal(50)
    storage.flags.writeable = False
    p = ag.tensor(storage, requires_grad=True)
    p._data = storage
    before = storage.copy()
    (p * p).sum().backward()
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(storage, before)
    assert p._data is not storage and p._version == 1
    np.testing.assert_allclose(p.detach().numpy(), before * 0.8, rtol=1e-15)


def test_without_scipy_the_update_is_numpys(monkeypatch):
    import sys

    monkeypatch.setattr(numba_backend, "enabled", False)
    monkeypatch.setattr(_kernels, "_axpy_by_dtype", None)
    monkeypatch.setitem(sys.modules, "scipy.linalg.blas", None)  # import fails as if absent
    assert _kernels.blas_axpy() == {}
    p = RNG.standard_normal(1000).astype(np.float32)
    g = RNG.standard_normal(1000).astype(np.float32)
    reference = p + np.multiply(g, -0.01)
    _kernels.add_scaled_(p, g, -0.01)
    np.testing.assert_array_equal(p, reference)


def test_scipys_blas_follows_set_num_threads(blas_only):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = ag.get_num_threads()
    try:
        for n in (2, 1):
            ag.set_num_threads(n)
            w = ag.ones(300, requires_grad=True)
            (w * w).sum().backward()
            optim.SGD([w], lr=0.1).step()  # loads SciPy's BLAS on first use
            # NumPy's and SciPy's BLAS (two copies of OpenBLAS with the wheels), alike
            pools = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
            assert {p["num_threads"] for p in pools} == {n}
    finally:
        ag.set_num_threads(before)


def test_a_scipy_that_fails_to_load_leaves_numpys_update(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def broken_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise RuntimeError("built against another NumPy")  # as a mismatched wheel does
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(numba_backend, "enabled", False)
    monkeypatch.setattr(_kernels, "_axpy_by_dtype", None)
    monkeypatch.setattr(builtins, "__import__", broken_scipy)
    w = ag.tensor(RNG.standard_normal(500), requires_grad=True)
    expected = w.detach().numpy() + np.multiply(2 * w.detach().numpy(), -0.1)
    (w * w).sum().backward()
    optim.SGD([w], lr=0.1).step()
    assert _kernels.blas_axpy() == {}
    np.testing.assert_array_equal(w.detach().numpy(), expected)


def test_a_misaligned_parameter_gets_blas_result_copied_in(blas_only):
    # SciPy copies an unaligned array (e.g. np.frombuffer at an odd offset) and returns the
    # copy; the update must still land in the parameter's own storage.
    buffer = np.zeros(4 * 50 + 1, dtype=np.uint8)
    p = buffer[1:].view(np.float32)
    assert not p.flags.aligned
    p[:] = RNG.standard_normal(50).astype(np.float32)
    g = RNG.standard_normal(50).astype(np.float32)
    reference = p + np.multiply(g, np.float32(-0.5))
    _kernels.add_scaled_(p, g, -0.5)
    bound = np.spacing(np.abs(g * np.float32(0.5))) + np.spacing(np.abs(reference))
    assert np.all(np.abs(p - reference) <= bound)  # fails if p kept its old values
