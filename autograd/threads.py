"""BLAS threads: ``ag.set_num_threads``/``ag.get_num_threads`` (as ``torch``) and a default.

NumPy's matrix products run on OpenBLAS (or MKL), whose thread pool spins while it waits for
work. On a shared machine, or with the small matrix products of an MLP or an RNN step, several
threads are much slower than one (5-10x on a busy 2-core machine); only large products (a CNN's
convolutions) on otherwise idle cores gain from more. ``configure_threads`` picks the count a
training script should use: the one asked for, else the one the environment sets
(``OPENBLAS_NUM_THREADS`` and friends), else ``default_num_threads``. Changing the count of a
running process needs ``threadpoolctl`` (installed with ``graphgrad[train]``); without it only
the environment variables, read when NumPy is first imported, take effect.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["set_num_threads", "get_num_threads", "default_num_threads", "configure_threads"]

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_limiter: Any = None  # the threadpoolctl limiter in effect (kept so that it stays applied)


def _threadpoolctl() -> Any:
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def get_num_threads() -> int:
    """The thread count of NumPy's BLAS (the largest pool's, if several are loaded).

    Example:
        >>> import autograd as ag
        >>> ag.get_num_threads() >= 1
        True
    """
    tpc = _threadpoolctl()
    if tpc is not None:
        counts = [p["num_threads"] for p in tpc.threadpool_info() if p["user_api"] == "blas"]
        if counts:
            return max(counts)
    for name in THREAD_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Run NumPy's BLAS (and OpenMP, if loaded) on ``n`` threads from now on.

    Uses ``threadpoolctl`` when installed; otherwise sets the environment variables, which only
    a process that has not imported NumPy yet will follow.

    Example:
        >>> import autograd as ag
        >>> before = ag.get_num_threads()
        >>> ag.set_num_threads(1)
        >>> ag.set_num_threads(before)
    """
    global _limiter
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    for name in THREAD_VARIABLES:
        os.environ[name] = str(n)
    tpc = _threadpoolctl()
    if tpc is not None:
        _limiter = tpc.threadpool_limits(limits=n)


def _busy_cores() -> float:
    """Cores busy with other work: the 1-minute load average (0 where there is none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def default_num_threads(large_gemms: bool = False) -> int:
    """The BLAS thread count to use: one unless the matrix products are large and cores are free.

    With ``large_gemms`` (convolutions over a batch), as many threads as there are idle cores
    (CPU count minus the load average, rounded), at least one; otherwise one.

    Example:
        >>> import autograd as ag
        >>> ag.threads.default_num_threads()
        1
    """
    if not large_gemms:
        return 1
    cpus = os.cpu_count() or 1
    return max(1, min(cpus, round(cpus - _busy_cores())))


def configure_threads(requested: int | None = None, large_gemms: bool = False) -> tuple[int, str]:
    """Apply a thread count for a training script; return it and where it came from.

    ``requested`` (a ``--threads`` option) wins; else an ``OPENBLAS_NUM_THREADS`` /
    ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` already set is kept; else
    ``default_num_threads(large_gemms)``.

    Example:
        >>> import autograd as ag
        >>> ag.threads.configure_threads(1)
        (1, '--threads')
    """
    if requested is not None:
        set_num_threads(requested)
        return requested, "--threads"
    for name in THREAD_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value), name
    n = default_num_threads(large_gemms)
    set_num_threads(n)
    reason = "large matrix products" if large_gemms else "small matrix products"
    return n, f"default: {reason}, load average {_busy_cores():.1f} on {os.cpu_count()} CPUs"
