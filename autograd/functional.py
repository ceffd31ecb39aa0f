"""Higher-level differentiation of functions of tensors: vjp, jvp, jacobian, hessian."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .engine import grad
from .grad_mode import enable_grad
from .tensor import Tensor


def _as_tuple(value: Any) -> tuple[bool, tuple]:
    if isinstance(value, (tuple, list)):
        return True, tuple(value)
    return False, (value,)


def _prepare(inputs: tuple, create_graph: bool = False) -> tuple:
    # Under create_graph an input that requires grad keeps its history (as PyTorch's
    # view_as), so that the results are differentiable with respect to the caller's tensors.
    return tuple(
        t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(True)
        for t in inputs
    )


def _finish(items: tuple, is_tuple: bool, create_graph: bool) -> Any:
    items = tuple(i if i is None or create_graph else i.detach() for i in items)
    return items if is_tuple else items[0]


def _zeros_for(t: Tensor) -> Tensor:
    return Tensor._from_array(np.zeros_like(t._data))


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """Return ``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``.

    Example:
        >>> import autograd as ag
        >>> out, g = ag.functional.vjp(lambda x: x ** 2, ag.tensor([1.0, 2.0]), ag.ones(2))
        >>> g
        tensor([2., 4.])
    """
    inputs_tuple, inputs = _as_tuple(inputs)
    inputs = _prepare(inputs, create_graph)
    with enable_grad():
        outputs = func(*inputs)
        outputs_tuple, outputs_t = _as_tuple(outputs)
        if v is None:
            if any(o.numel() != 1 for o in outputs_t):
                raise RuntimeError("vjp: v can be omitted only when func returns a single-element tensor")
            v = tuple(Tensor._from_array(np.ones_like(o._data)) for o in outputs_t)
        _, vs = _as_tuple(v)
        used = [(o, g) for o, g in zip(outputs_t, vs) if o.requires_grad]
        if used:
            grads = grad([o for o, _ in used], list(inputs), [g for _, g in used],
                         create_graph=create_graph, allow_unused=True)  # fmt: skip
        else:
            grads = (None,) * len(inputs)
    grads = tuple(_zeros_for(x) if g is None else g for x, g in zip(inputs, grads))
    outputs_out = _finish(outputs_t, outputs_tuple, create_graph)
    return outputs_out, _finish(grads, inputs_tuple, create_graph)


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """Return ``(func(inputs), J v)`` using the double-vjp trick (two reverse passes)."""
    inputs_tuple, inputs = _as_tuple(inputs)
    inputs = _prepare(inputs, create_graph)
    if v is None:
        if any(x.numel() != 1 for x in inputs):
            raise RuntimeError("jvp: v can be omitted only when the inputs are single-element tensors")
        v = tuple(Tensor._from_array(np.ones_like(x._data)) for x in inputs)
    _, vs = _as_tuple(v)
    with enable_grad():
        outputs = func(*inputs)
        outputs_tuple, outputs_t = _as_tuple(outputs)
        # u -> J^T u is linear in u; its vjp with v gives J v.
        dummies = tuple(Tensor._from_array(np.zeros_like(o._data)).requires_grad_(True) for o in outputs_t)
        pairs = [(o, u) for o, u in zip(outputs_t, dummies) if o.requires_grad]
        if not pairs:
            results = tuple(_zeros_for(o) for o in outputs_t)
        else:
            grads = grad([o for o, _ in pairs], list(inputs), [u for _, u in pairs],
                         create_graph=True, allow_unused=True)  # fmt: skip
            terms = [(g, w) for g, w in zip(grads, vs) if g is not None and g.requires_grad]
            if terms:
                second = grad([g for g, _ in terms], list(dummies), [w for _, w in terms],
                              create_graph=create_graph, allow_unused=True)  # fmt: skip
            else:
                second = (None,) * len(dummies)
            results = tuple(_zeros_for(o) if s is None else s for o, s in zip(outputs_t, second))
    return _finish(outputs_t, outputs_tuple, create_graph), _finish(results, outputs_tuple, create_graph)


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False) -> Any:
    """The Jacobian of ``func`` at ``inputs``: shape ``out.shape + in.shape`` for each pair."""
    inputs_tuple, inputs = _as_tuple(inputs)
    inputs = _prepare(inputs, create_graph)
    with enable_grad():
        outputs = func(*inputs)
        outputs_tuple, outputs_t = _as_tuple(outputs)
        table = []
        for out in outputs_t:
            row_blocks: list[list[Tensor]] = [[] for _ in inputs]
            for k in range(out.numel()):
                seed = np.zeros(out.numel(), dtype=out.dtype)
                seed[k] = 1
                if out.requires_grad:
                    grads = grad(out, list(inputs), Tensor._from_array(seed.reshape(out.shape)),
                                 retain_graph=True, create_graph=create_graph, allow_unused=True)  # fmt: skip
                else:
                    grads = (None,) * len(inputs)
                for j, (x, g) in enumerate(zip(inputs, grads)):
                    row_blocks[j].append(_zeros_for(x) if g is None else g)
            from .ops.shape import stack

            blocks = []
            for j, x in enumerate(inputs):
                if row_blocks[j]:
                    stacked = stack(row_blocks[j]).reshape(tuple(out.shape) + tuple(x.shape))
                else:
                    stacked = Tensor._from_array(np.zeros(tuple(out.shape) + tuple(x.shape), x.dtype))
                blocks.append(stacked if create_graph else stacked.detach())
            table.append(tuple(blocks) if inputs_tuple else blocks[0])
    return tuple(table) if outputs_tuple else table[0]


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False) -> Any:
    """The Hessian of a scalar ``func`` at ``inputs`` (the Jacobian of its gradient)."""
    inputs_tuple, inputs_t = _as_tuple(inputs)

    def gradient(*args: Any) -> Any:
        with enable_grad():
            out = func(*args)
            if out.numel() != 1:
                raise RuntimeError(f"hessian: func must return a single-element tensor, got shape {tuple(out.shape)}")
            grads = grad(out, list(args), create_graph=True, allow_unused=True)
        grads = tuple(_zeros_for(x) if g is None else g for x, g in zip(args, grads))
        return grads if inputs_tuple else grads[0]

    return jacobian(gradient, inputs_t if inputs_tuple else inputs_t[0], create_graph=create_graph)
