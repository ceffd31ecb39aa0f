"""NumPy's floating-point warnings, silenced where ops run: inf and nan are values, as in PyTorch.

NumPy 2 keeps its error state in a context variable; setting it directly costs a fifth of an
``np.errstate`` block. A module's forward, a backward and an optimizer step each run as one
quiet region; an op outside any region silences the warnings for its own call.
"""

from __future__ import annotations

import contextvars
from typing import Any

import numpy as np

try:
    from numpy._core._ufunc_config import _extobj_contextvar as ERRORS  # type: ignore[attr-defined]

    with np.errstate(all="ignore"):
        IGNORE: Any = ERRORS.get()
except (ImportError, AttributeError):  # pragma: no cover - NumPy 1.x
    ERRORS = None
    IGNORE = None


def _quiet_context() -> contextvars.Context | None:
    """A context in which NumPy's floating-point warnings are off, to run single calls in.

    ``Context.run`` costs almost nothing, where setting and resetting the variable costs a
    third of a small ufunc call: this is how an op outside any quiet region runs its forward.
    """
    if ERRORS is None:  # pragma: no cover - NumPy 1.x
        return None
    context = contextvars.copy_context()
    context.run(ERRORS.set, IGNORE)
    return context


QUIET = _quiet_context()


class quiet_numpy:
    """Silence NumPy's floating-point warnings for a region (``detect_anomaly`` reports them)."""

    __slots__ = ("_token", "_errstate")

    def __enter__(self) -> None:
        if ERRORS is not None:
            self._token = ERRORS.set(IGNORE)
        else:  # pragma: no cover - NumPy 1.x
            self._errstate = np.errstate(all="ignore")
            self._errstate.__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        if ERRORS is not None:
            ERRORS.reset(self._token)
        else:  # pragma: no cover - NumPy 1.x
            self._errstate.__exit__(*exc_info)
