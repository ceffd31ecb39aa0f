"""``ag.set_num_threads``/``get_num_threads`` and the default thread policy of training scripts."""

from __future__ import annotations

import numpy as np
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


def test_ops_in_two_threads_stay_quiet_and_correct():
    # Ops outside any module share one quiet context; a thread that finds it entered by the
    # other sets NumPy's state for its call instead. Neither warns nor fails.
    import threading
    import warnings

    big = ag.tensor(np.full(64, 1e300), requires_grad=True)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                for _ in range(300):
                    out = big * 1e10  # overflows to inf: NumPy would warn
                    assert np.isinf(out.detach().numpy()).all()
                    (out.sum() * 0.0).item()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_an_op_runs_quietly_while_another_thread_holds_the_quiet_context():
    import threading
    import warnings

    from autograd import _fperrors

    if _fperrors.QUIET is None:
        pytest.skip("NumPy 1.x has no shared quiet context")
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        entered.set()
        release.wait(10)

    holder = threading.Thread(target=lambda: _fperrors.QUIET.run(hold))
    holder.start()
    entered.wait(10)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = ag.tensor(np.full(3, 1e300)) * 1e10  # the fallback: NumPy's state set for the call
        assert np.isinf(out.numpy()).all()
    finally:
        release.set()
        holder.join()
