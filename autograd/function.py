"""The user API for custom ops: ``Function`` with ``forward(ctx, ...)`` / ``backward(ctx, ...)``."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import anomaly
from .grad_mode import is_grad_enabled, set_grad_enabled
from .graph import FREED_MESSAGE, Node, SavedTensor
from .tensor import Tensor
from .tracing import TRACE, creation_trace


class FunctionCtx:
    """The ``ctx`` of a custom ``Function``: save tensors and state for backward."""

    def __init__(self) -> None:
        self._saved: tuple[SavedTensor | None, ...] = ()
        self._to_save: tuple[Tensor | None, ...] = ()
        self._released = False
        self.needs_input_grad: tuple[bool, ...] = ()
        self._node: FunctionNode | None = None
        self._non_differentiable: set[int] = set()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Save tensors (inputs or outputs) for backward; checked against in-place changes."""
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Mark outputs (e.g. indices) that get no gradient."""
        self._non_differentiable.update(id(t) for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """The tensors given to ``save_for_backward``, as they were then."""
        if self._released:
            raise RuntimeError(FREED_MESSAGE)
        node = self._node
        return tuple(
            None if s is None else s.as_tensor(node, i)  # type: ignore[arg-type]
            for i, s in enumerate(self._saved)
        )


class FunctionNode(Node):
    """Node of a user ``Function``: calls its ``backward(ctx, *grads)`` on Tensors."""

    __slots__ = ("function", "ctx", "num_outputs", "_output_meta")
    function: Any

    def __init__(self, function: type, ctx: FunctionCtx, inputs: Sequence[Tensor | None],
                 outputs: Sequence[Tensor]) -> None:  # fmt: skip
        self._connect(inputs)
        self.function = function
        self.ctx = ctx
        self.num_outputs = len(outputs)  # type: ignore[misc]
        self._output_meta = tuple((o._data.shape, o._data.dtype) for o in outputs)
        if anomaly.is_anomaly_enabled():
            self.trace = creation_trace()
        if TRACE.node_observer is not None:
            TRACE.node_observer(self, inputs)

    @property
    def op_name(self) -> str:
        return self.function.__name__

    @property
    def output_meta(self) -> tuple[tuple[tuple, Any], ...]:
        return self._output_meta

    def type_name(self) -> str:
        return self.function.__name__ + "Backward"

    def apply(self, grads: list, create_graph: bool) -> Sequence[Any]:
        if self.ctx._released:
            raise RuntimeError(FREED_MESSAGE)
        filled = []
        for g, (shape, dtype) in zip(grads, self._output_meta):
            if g is None:
                g = np.zeros(shape, dtype=dtype)
            filled.append(g if isinstance(g, Tensor) else Tensor._from_array(g))
        result = self.function.backward(self.ctx, *filled)
        if not isinstance(result, tuple):
            result = (result,)
        inputs = len(self.next_edges)
        if len(result) > inputs and all(r is None for r in result[inputs:]):
            result = result[:inputs]
        if len(result) != inputs:
            raise RuntimeError(
                f"{self.type_name()}: backward returned {len(result)} gradients but forward "
                f"had {inputs} inputs"
            )
        return [self._check(i, g, create_graph) for i, g in enumerate(result)]

    def _check(self, index: int, grad: Any, create_graph: bool) -> Any:
        if grad is None or self.next_edges[index] is None:
            return None
        if not isinstance(grad, Tensor):
            grad = Tensor._from_array(np.asarray(grad))
        expected = self.input_shapes[index]
        if grad._data.shape != expected:
            # A Function's backward must reduce broadcasting itself: summing a wrongly shaped
            # gradient silently would hide the bug.
            raise RuntimeError(
                f"{self.type_name()}: backward returned a gradient of shape "
                f"{tuple(grad._data.shape)} for input {index}, which has shape {tuple(expected or ())}"
            )
        return grad if create_graph else grad._data

    @property
    def freed(self) -> bool:
        return self.ctx._released

    def release(self) -> None:
        self.ctx._released = True
        self.ctx._saved = ()

    def saved_items(self) -> list[tuple[str, np.ndarray]]:
        return [(f"saved_tensors[{i}]", s.array) for i, s in enumerate(self.ctx._saved)
                if s is not None]  # fmt: skip


class Function:
    """Base class for custom differentiable ops, as in PyTorch.

    Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    and call ``MyFunction.apply(...)``. ``forward`` runs without recording a graph;
    ``backward`` returns one gradient (or None) per ``forward`` argument, each of that
    argument's shape.

    Example:
        >>> import autograd as ag
        >>> class Square(ag.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * grad
        >>> x = ag.tensor(3.0, requires_grad=True)
        >>> Square.apply(x).backward(); x.grad
        tensor(6.)
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function subclasses must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("Function subclasses must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` and record a node whose backward calls ``backward``."""
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with set_grad_enabled(False):
            result = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(result, tuple)
        outputs = (result,) if single else result
        for i, value in enumerate(outputs):
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"{cls.__name__}.forward must return Tensors, got {type(value).__name__} "
                    f"at output {i}"
                )
        # Inputs returned unchanged must become new tensors that carry the new grad_fn.
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}
        outputs = tuple(o.detach() if id(o) in input_ids else o for o in outputs)
        node = None
        if is_grad_enabled() and any(ctx.needs_input_grad):
            node = FunctionNode(cls, ctx, [a if isinstance(a, Tensor) else None for a in args],
                                outputs)  # fmt: skip
            if TRACE.keep_values:
                node.values = tuple(o._data for o in outputs)
            ctx._node = node
            for i, o in enumerate(outputs):
                if id(o) in ctx._non_differentiable or o._data.dtype.kind != "f":
                    continue
                o._grad_fn = node
                o._output_nr = i
        output_ids = {id(o) for o in outputs}
        ctx._saved = tuple(
            None if t is None else SavedTensor(
                t, t._data, t._output_nr if node is not None and id(t) in output_ids
                and t._grad_fn is node else -1,
            )
            for t in ctx._to_save
        )  # fmt: skip
        ctx._to_save = ()
        if anomaly.is_anomaly_enabled():
            for o in outputs:
                anomaly.check_forward(cls.__name__, o._data, [a for a in args if isinstance(a, Tensor)])
        return outputs[0] if single else outputs
