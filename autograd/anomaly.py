"""Anomaly detection: name the forward op (and where it was created) behind a NaN or inf."""

from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np


class _State(threading.local):
    enabled = False
    in_backward = False  # gradient arithmetic is checked by check_backward, not check_forward
    check_inf = False  # forward outputs with inf raise too
    snapshot: str | None = None  # where to save the drawing of the neighbourhood when it fires


class AnomalyError(RuntimeError):
    """The error ``detect_anomaly`` raises: a NaN/inf, the op, where it was created.

    ``graph`` is a drawing of the offending op's neighbourhood (its inputs with their values,
    the gradients it received and returned, the ops around it; NaN/inf in red), a
    ``graphviz.Digraph`` that shows inline in Jupyter (None if it could not be drawn);
    ``snapshot`` is the file it was saved to (``detect_anomaly(snapshot=...)``) or None.
    """

    def __init__(self, message: str, graph: Any = None, snapshot: str | None = None) -> None:
        super().__init__(message)
        self.graph = graph
        self.snapshot = snapshot


_state = _State()


def is_anomaly_enabled() -> bool:
    """Whether ``detect_anomaly`` is active."""
    return _state.enabled


class detect_anomaly:
    """Context manager (and decorator) that checks every op for NaN/inf.

    While it is on, each node records the lines that created it; a backward
    that produces NaN or inf raises an ``AnomalyError`` (a RuntimeError) naming the forward
    op and those lines, and a forward op that produces NaN (or inf, with ``check_inf=True``)
    raises too. The error's ``.graph`` draws the op's neighbourhood (values, gradients,
    shapes, the NaN/inf highlighted); ``snapshot="anomaly.svg"`` also saves that drawing
    when it fires (any extension ``ag.viz.save`` knows; ``.dot`` needs no Graphviz).

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

    def __init__(
        self, check_nan: bool = True, check_inf: bool = False, snapshot: str | None = None
    ) -> None:
        self.check_nan = check_nan
        self.check_inf = check_inf
        self.snapshot = None if snapshot is None else str(snapshot)

    def __enter__(self) -> None:
        self._previous = (_state.enabled, _state.check_inf, _state.snapshot)
        _state.enabled = self.check_nan
        _state.check_inf = self.check_inf
        _state.snapshot = self.snapshot

    def __exit__(self, *exc_info: Any) -> None:
        _state.enabled, _state.check_inf, _state.snapshot = self._previous

    def __call__(self, function: Any) -> Any:
        import functools

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan, self.check_inf, self.snapshot):
                return function(*args, **kwargs)

        return wrapper


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off globally."""
    _state.enabled = bool(mode)


def check_forward(op: str, array: np.ndarray, inputs: Sequence[Any] = ()) -> None:
    """Raise if a forward op produced NaN (or inf with ``check_inf``), while anomaly mode is on.

    ``inputs`` (the op's input tensors) go into the drawing of the neighbourhood.
    """
    if _state.in_backward:
        return
    if array.dtype.kind != "f":
        return
    bad = np.isnan(array).any()
    kind = "nan"
    if not bad and _state.check_inf and np.isinf(array).any():
        bad, kind = True, "inf"
    if bad:
        import traceback

        frames = [
            f
            for f in traceback.extract_stack()[:-1]
            if "/autograd/" not in f.filename.replace("\\", "/")
        ]
        where = "".join(traceback.format_list(frames[-3:]))
        message = (
            f"Function '{op}' produced {kind} values in its forward output of shape "
            f"{tuple(array.shape)}; created at:\n{where}"
        )
        raise _anomaly_error(message, "forward", op=op, out=array, inputs=inputs, where=where)


def check_backward(node: Any, grads: Any, output_grads: Sequence[Any] | None = None) -> None:
    """Raise if a node's backward produced NaN or inf, naming the forward op and its creation.

    ``grads`` are the gradients the node returned for its inputs, ``output_grads`` the ones it
    received (for the drawing); each may be Tensors or arrays.
    """
    for i, grad in enumerate(grads):
        if grad is None:
            continue
        data = np.asarray(grad._data if hasattr(grad, "_data") else grad)
        if data.dtype.kind == "f" and not np.isfinite(data).all():
            kind = "nan" if np.isnan(data).any() else "inf"
            where = node.trace or "(created before detect_anomaly was enabled)\n"
            message = (
                f"Function '{node.type_name()}' returned {kind} values in its {i}th output "
                f"(forward op: {node.op_name})\nThe forward op was created at:\n{where}"
            )
            raise _anomaly_error(
                message, "backward", node=node, input_grads=grads, output_grads=output_grads
            )


def _anomaly_error(message: str, phase: str, **facts: Any) -> AnomalyError:
    """The error with its drawing (and the snapshot saved, when asked for)."""
    graph = None
    try:
        from .viz._anomaly import draw_anomaly

        graph = draw_anomaly(phase, **facts)
    except Exception as error:  # the report must not hide the anomaly itself
        message += f"\n(the drawing of the neighbourhood failed: {error})"
    saved = None
    if graph is not None:
        message += "\nA drawing of the neighbourhood is in error.graph"
        if _state.snapshot:
            try:
                from .viz._render import save

                saved = str(save(graph, _state.snapshot))
                message += f" and was saved to {saved}"
            except Exception as error:
                message += f" (saving it to {_state.snapshot} failed: {error})"
    return AnomalyError(message, graph, saved)
