"""``backward`` and ``grad``: the user-facing entry points to the engine."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, Tensor):
        return [value]
    return list(value)


def _root_gradients(outputs: list[Tensor], grad_outputs: list[Any], op: str) -> list[Tensor]:
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"{op}: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs"
        )
    grads = []
    for i, output in enumerate(outputs):
        given = grad_outputs[i] if grad_outputs else None
        if given is None:
            if output._data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs, but the "
                    f"output has shape {tuple(output.shape)}; pass gradient= (a tensor of that "
                    "shape), e.g. out.backward(ag.ones_like(out))"
                )
            grads.append(Tensor._from_array(np.ones_like(output._data)))
            continue
        grad = given if isinstance(given, Tensor) else Tensor._from_array(np.asarray(given, dtype=output.dtype))
        if grad.shape != output.shape:
            raise RuntimeError(
                f"{op}: gradient has shape {tuple(grad.shape)} but the output has shape "
                f"{tuple(output.shape)}"
            )
        grads.append(grad)
    return grads


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of every leaf they depend on."""
    from .engine import run_backward

    outputs = _as_list(tensors)
    for output in outputs:
        if not output.requires_grad:
            raise RuntimeError(
                "backward: element 0 of tensors does not require grad and does not have a "
                "grad_fn; did you create it under no_grad, or forget requires_grad=True?"
            )
    grads = _root_gradients(outputs, _as_list(grad_tensors) if grad_tensors is not None else [], "backward")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        wanted = _as_list(inputs)
        results = run_backward(outputs, grads, retain_graph, create_graph, inputs=wanted)
        for t, g in zip(wanted, results or []):
            if g is not None:
                g = g if create_graph else g.detach()
                t._grad = g if t._grad is None else t._grad + g
        return
    run_backward(outputs, grads, retain_graph, create_graph)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return the gradients of ``outputs`` with respect to ``inputs`` (``.grad`` is untouched).

    With ``create_graph=True`` the results are differentiable again (higher-order gradients).

    Example:
        >>> import autograd as ag
        >>> x = ag.tensor(2.0, requires_grad=True)
        >>> (dy,) = ag.grad(x ** 3, x, create_graph=True)
        >>> dy.item(), dy.requires_grad, ag.grad(dy, x)[0].item()
        (12.0, True, 12.0)
    """
    from .engine import run_backward

    output_list = _as_list(outputs)
    input_list = _as_list(inputs)
    for i, t in enumerate(input_list):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    for output in output_list:
        if not output.requires_grad:
            raise RuntimeError(
                "grad: an output does not require grad and does not have a grad_fn"
            )
    grads = _root_gradients(output_list, _as_list(grad_outputs) if grad_outputs is not None else [], "grad")
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(output_list, grads, retain_graph, create_graph, inputs=input_list) or []
    final: list[Tensor | None] = []
    for i, (t, g) in enumerate(zip(input_list, results)):
        if g is None:
            if materialize_grads:
                g = Tensor._from_array(np.zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {tuple(t.shape)}) was not used in the graph of the "
                    "outputs; pass allow_unused=True to get None for it"
                )
        elif not create_graph:
            g = g.detach()
        final.append(g)
    return tuple(final)
