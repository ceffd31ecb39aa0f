"""``ag.set_num_threads``/``get_num_threads`` and the default thread policy of training scripts."""

from __future__ import annotations

import pytest

import autograd as ag
from autograd import threads


@pytest.fixture(autouse=True)
def restore_threads(monkeypatch):
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = ag.get_num_threads()
    yield
    ag.set_num_threads(before)


def test_set_num_threads_changes_the_blas_pool():
    pytest.importorskip("threadpoolctl")
    ag.set_num_threads(1)
    assert ag.get_num_threads() == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_rejects_non_positive_ints(bad):
    with pytest.raises(ValueError, match="positive int"):
        ag.set_num_threads(bad)


def test_small_products_get_one_thread_whatever_the_load(monkeypatch):
    monkeypatch.setattr(threads, "_busy_cores", lambda: 0.0)
    assert threads.default_num_threads(large_gemms=False) == 1


@pytest.mark.parametrize("cpus, load, expected", [(2, 0.0, 2), (2, 0.6, 1), (2, 3.5, 1),
                                                  (8, 2.2, 6), (8, 0.0, 8)])  # fmt: skip
def test_large_products_get_the_idle_cores(monkeypatch, cpus, load, expected):
    monkeypatch.setattr(threads.os, "cpu_count", lambda: cpus)
    monkeypatch.setattr(threads, "_busy_cores", lambda: load)
    assert threads.default_num_threads(large_gemms=True) == expected


def test_configure_threads_prefers_the_request_then_the_environment(monkeypatch):
    monkeypatch.setattr(threads, "_busy_cores", lambda: 0.0)
    assert threads.configure_threads(1, large_gemms=True) == (1, "--threads")
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.configure_threads(None, large_gemms=False) == (3, "OMP_NUM_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS")
    count, source = threads.configure_threads(None, large_gemms=False)
    assert count == 1 and source.startswith("default: small matrix products")
