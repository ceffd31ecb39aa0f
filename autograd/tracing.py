"""Hooks for tools that watch the graph (``autograd.viz``, anomaly mode): what nodes record.

Recording costs nothing unless a tool asks: the module path is one tuple reference per node,
values and gradient observers are off, creation tracebacks are taken only in anomaly mode.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable, Sequence

from ._fperrors import ERRORS, IGNORE


class _Trace:
    """Switches for tools that watch the graph.

    ``keep_values``: nodes keep a reference to their output arrays (for drawing values).
    ``grad_observer``: called by backward as ``observer(node_or_leaf, grads)`` for every node
    (with the gradients of its outputs, before it runs) and every leaf (with ``[grad]``).
    ``apply_observer``: called as ``observer(node, output_grads, input_grads)`` right after a
    node's rule ran, with the gradients it sends to each input, already reduced to each
    input's shape (None where no gradient flows).
    Gradients are NumPy arrays in a first-order backward and Tensors under ``create_graph``.
    """

    keep_values: bool = False
    grad_observer: Callable[[Any, list], None] | None = None
    apply_observer: Callable[[Any, list, list], None] | None = None
    # ``autograd.onnx`` records a run with these: ``node_observer(node, inputs)`` for every
    # node created (with the inputs that have no edge: constants, buffers) and
    # ``call_observer(spec, inputs, options, out)`` for every primitive call, recorded or not
    # (comparisons, ops on tensors that need no gradient).
    node_observer: Callable[[Any, Sequence[Any]], None] | None = None
    call_observer: Callable[[Any, Sequence[Any], dict, Any], None] | None = None
    # Whether a tool watches forward calls (one of the three above is set): the generated
    # common call of a primitive (``autograd.call_compiler``) checks this one flag.
    forward_watched: bool = False

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        watched = (
            self.keep_values or self.node_observer is not None or self.call_observer is not None
        )
        object.__setattr__(self, "forward_watched", bool(watched))


TRACE = _Trace()


class _ModuleScope:
    """The modules whose ``forward`` is running, outermost first, as one immutable tuple.

    Nodes store the tuple itself (one reference, no copy), so recording it costs nothing.
    """

    path: tuple = ()


_scope = _ModuleScope()


def current_module_path() -> tuple | None:
    """The modules running now, outermost first (None outside any module)."""
    return _scope.path or None


def call_in_module_scope(module: Any, forward: Callable[..., Any], args: tuple,
                         kwargs: dict) -> Any:  # fmt: skip
    """``forward(*args, **kwargs)`` with its ops marked as created by ``module``
    (``nn.Module.__call__`` runs every forward through this).

    Every node created inside records the stack of modules it ran in (outermost first), so
    ``autograd.viz`` can group nodes by module and name parameters by their module path. The
    call is also one quiet region for NumPy's floating-point warnings (``_fperrors``). A plain
    function, not a context manager: every layer call passes here, and a context manager's
    object and two method calls would cost as much as the rest of the call.
    """
    previous = _scope.path
    _scope.path = previous + (module,)
    # A module inside another (a Sequential's layers) is quiet already: no second switch.
    token = ERRORS.set(IGNORE) if ERRORS is not None and ERRORS.get() is not IGNORE else None
    try:
        return forward(*args, **kwargs)
    finally:
        _scope.path = previous
        if token is not None:
            ERRORS.reset(token)


def creation_trace() -> str:
    """The user's lines that created a node (anomaly mode), without the engine's own frames."""
    frames = traceback.extract_stack()[:-3]
    keep = [f for f in frames if "/autograd/" not in f.filename.replace("\\", "/")] or frames
    return "".join(traceback.format_list(keep[-4:]))
