"""Anomaly detection: name the forward op (and where it was created) behind a NaN or inf."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


class _State(threading.local):
    enabled = False
    in_backward = False  # gradient arithmetic is checked by check_backward, not check_forward


_state = _State()


def is_anomaly_enabled() -> bool:
    """Whether ``detect_anomaly`` is active."""
    return _state.enabled


class detect_anomaly:
    """Context manager (and decorator) that checks every op for NaN/inf.

    While it is on, each node records the lines that created it; a backward
    that produces NaN or inf raises a RuntimeError naming the forward op and
    those lines, and a forward op that produces NaN raises too.

    Example:
        >>> import autograd as ag
        >>> x = ag.tensor([0.0], requires_grad=True)
        >>> with ag.detect_anomaly():
        ...     y = x.sqrt()
        ...     try:
        ...         (y * 0).sum().backward()
        ...     except RuntimeError as error:
        ...         print(str(error).splitlines()[0])
        Function 'SqrtBackward' returned nan values in its 0th output (forward op: sqrt)
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._previous = is_anomaly_enabled()
        _state.enabled = self.check_nan

    def __exit__(self, *exc_info: Any) -> None:
        _state.enabled = self._previous

    def __call__(self, function: Any) -> Any:
        import functools

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return function(*args, **kwargs)

        return wrapper


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off globally."""
    _state.enabled = bool(mode)


def check_forward(op: str, array: np.ndarray) -> None:
    """Raise if a forward op produced NaN (called only while anomaly detection is on)."""
    if _state.in_backward:
        return
    if array.dtype.kind == "f" and np.isnan(array).any():
        import traceback

        frames = [
            f
            for f in traceback.extract_stack()[:-1]
            if "/autograd/" not in f.filename.replace("\\", "/")
        ]
        where = "".join(traceback.format_list(frames[-3:]))
        raise RuntimeError(
            f"Function '{op}' produced nan values in its forward output of shape "
            f"{tuple(array.shape)}; created at:\n{where}"
        )


def check_backward(node: Any, grads: Any) -> None:
    """Raise if a node's backward produced NaN or inf, naming the forward op and its creation."""
    for i, grad in enumerate(grads):
        if grad is None:
            continue
        data = grad._data
        if data.dtype.kind == "f" and not np.isfinite(data).all():
            kind = "nan" if np.isnan(data).any() else "inf"
            where = node.trace or "(created before detect_anomaly was enabled)\n"
            raise RuntimeError(
                f"Function '{node.type_name()}' returned {kind} values in its {i}th output "
                f"(forward op: {node.name})\nThe forward op was created at:\n{where}"
            )
