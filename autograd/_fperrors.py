"""NumPy's floating-point warnings, silenced where ops run: inf and nan are values, as in PyTorch.

NumPy 2 keeps its error state in a context variable; setting it directly costs a fifth of an
``np.errstate`` block. A module's forward, a backward and an optimizer step each run as one
quiet region; an op outside any region silences the warnings for its own call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    from numpy._core._ufunc_config import _extobj_contextvar as ERRORS  # type: ignore[attr-defined]

    with np.errstate(all="ignore"):
        IGNORE: Any = ERRORS.get()
except (ImportError, AttributeError):  # pragma: no cover - NumPy 1.x
    ERRORS = None
    IGNORE = None


def is_quiet() -> bool:
    """Whether NumPy's floating-point warnings are off here."""
    return ERRORS is not None and ERRORS.get() is IGNORE


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
