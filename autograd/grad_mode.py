"""Grad-mode switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``."""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar

import numpy as np

from ._fperrors import ERRORS, IGNORE

F = TypeVar("F", bound=Callable[..., Any])

class _State(threading.local):
    enabled = True  # class attribute: the default for every thread, found without a miss


_state = _State()


def is_grad_enabled() -> bool:
    """Whether operations are currently recorded on the graph."""
    return _state.enabled


def _set_enabled(flag: bool) -> None:
    _state.enabled = bool(flag)


def enter_quiet_region(grad_enabled: bool) -> tuple:
    """Set grad mode and silence NumPy's floating-point warnings for a region (a backward walk,
    an optimizer step); ``exit_quiet_region`` restores both. Two plain calls where
    ``set_grad_enabled()`` and ``quiet_numpy()`` cost as much as a small op.
    """
    was = _state.enabled
    _state.enabled = grad_enabled
    if ERRORS is not None:
        return was, ERRORS.set(IGNORE), None
    errstate = np.errstate(all="ignore")  # pragma: no cover - NumPy 1.x
    errstate.__enter__()  # pragma: no cover - NumPy 1.x
    return was, None, errstate  # pragma: no cover - NumPy 1.x


def exit_quiet_region(saved: tuple) -> None:
    """Undo ``enter_quiet_region``."""
    was, token, errstate = saved
    _state.enabled = was
    if token is not None:
        ERRORS.reset(token)
    elif errstate is not None:  # pragma: no cover - NumPy 1.x
        errstate.__exit__(None, None, None)


class _GradMode:
    """Base of the grad-mode context managers; instances also work as decorators."""

    _target: bool

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        _set_enabled(self._target)

    def __exit__(self, *exc_info: Any) -> None:
        _set_enabled(self._previous)

    def __call__(self, function: F) -> F:
        target = self._target
        if isinstance(self, set_grad_enabled):
            _set_enabled(self._previous)  # as a decorator, it must not change the mode now

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = is_grad_enabled()
            _set_enabled(target)
            try:
                return function(*args, **kwargs)
            finally:
                _set_enabled(previous)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Disable graph recording inside a ``with`` block or a decorated function.

    Example:
        >>> import autograd as ag
        >>> x = ag.ones(2, requires_grad=True)
        >>> with ag.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    _target = False


class enable_grad(_GradMode):
    """Re-enable graph recording, e.g. inside a ``no_grad`` block."""

    _target = True


class set_grad_enabled(_GradMode):
    """Set grad mode to ``mode``: immediately, and for a ``with`` block or decorated function."""

    def __init__(self, mode: bool) -> None:
        self._target = bool(mode)
        self._previous = is_grad_enabled()
        _set_enabled(self._target)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: Any) -> None:
        _set_enabled(self._previous)


class inference_mode(no_grad):
    """Alias of ``no_grad`` (there is no separate inference mode here)."""

    def __init__(self, mode: bool = True) -> None:
        self._target = not mode
