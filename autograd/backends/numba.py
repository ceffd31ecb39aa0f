"""``ag.backends.numba``: optional compiled kernels (``pip install 'graphgrad[fast]'``).

A few loops that NumPy can only do in several passes over memory (max pooling and its
gradient, col2im, ReLU's gradient) have a Numba version. The NumPy code stays the reference:
every kernel is tested equal to it, and everything works without Numba. Kernels compile on
first use and are cached on disk (``cache=True``), so only the first run pays the compile
time. ``enabled = False`` (or the environment variable ``GRAPHGRAD_NUMBA=0``) switches them
off.

Example:
    >>> import autograd as ag
    >>> isinstance(ag.backends.numba.is_available(), bool)
    True
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Callable

__all__ = ["is_available", "enabled", "active", "kernel"]

enabled: bool = os.environ.get("GRAPHGRAD_NUMBA", "1").strip().lower() not in ("0", "false", "no")

_available: bool | None = None


def is_available() -> bool:
    """Whether Numba is installed (importing it is left to the first kernel call).

    Example:
        >>> import autograd as ag
        >>> ag.backends.numba.is_available() in (True, False)
        True
    """
    global _available
    if _available is None:
        try:
            _available = importlib.util.find_spec("numba") is not None
        except (ImportError, ValueError):  # e.g. sys.modules["numba"] = None
            _available = False
    return _available


def active() -> bool:
    """Whether ops use the compiled kernels now: Numba is installed and ``enabled`` is true.

    Example:
        >>> import autograd as ag
        >>> ag.backends.numba.active() == (ag.backends.numba.enabled and
        ...                                ag.backends.numba.is_available())
        True
    """
    return enabled and (_available if _available is not None else is_available())


class _Kernel:
    """A Python loop compiled by ``numba.njit(cache=True)`` on its first call."""

    def __init__(self, function: Callable[..., Any], reassociate: bool = False) -> None:
        self.function = function
        self.compiled: Callable[..., Any] | None = None
        # Sums may be reordered (vectorised); NaN and inf keep their meaning.
        self.fastmath: Any = {"reassoc", "contract"} if reassociate else False
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__

    def __call__(self, *args: Any) -> Any:
        compiled = self.compiled
        if compiled is None:
            compiled = self.compile()
        return compiled(*args)

    def compile(self) -> Any:
        """The Numba dispatcher (compiling happens per signature, on its first call).

        Kernels that call other kernels get those as dispatchers in their module's globals
        (Numba resolves them when it compiles the caller).
        """
        if self.compiled is None:
            import numba

            namespace = self.function.__globals__
            for name in self.function.__code__.co_names:
                helper = namespace.get(name)
                if isinstance(helper, _Kernel):
                    namespace[name] = helper.compile()
            # error_model="numpy": x / 0 gives inf or nan as in NumPy, with no Python-style
            # zero check (which would keep the loops from being vectorised).
            self.compiled = numba.njit(cache=True, nogil=True, error_model="numpy",
                                       fastmath=self.fastmath)(self.function)  # fmt: skip
            if namespace.get(self.__name__) is self:
                # Calls from the kernel's own module now reach Numba's dispatcher directly,
                # without this wrapper's frame (it costs as much as a small kernel's work).
                namespace[self.__name__] = self.compiled
        return self.compiled

    def py_func(self, *args: Any) -> Any:
        """Run the loop as plain Python (slow; for tests on tiny inputs)."""
        return self.function(*args)


def kernel(function: Callable[..., Any] | None = None, *, reassociate: bool = False) -> Any:
    """Mark a loop written in Numba's Python subset as a kernel (compiled lazily, cached).

    ``@kernel(reassociate=True)`` lets the compiler reorder sums (so that they vectorise).
    Call it only when ``active()``; the caller keeps a NumPy path for when it is not.
    """
    if function is None:
        return lambda f: _Kernel(f, reassociate)
    return _Kernel(function, reassociate)
