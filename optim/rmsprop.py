"""RMSprop, plain or centered, with momentum and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.tensor import Tensor

from .adam import _lerp_
from .optimizer import (
    Optimizer,
    Params,
    _check_nonnegative,
    _increment_step,
    _step_tensor,
    _zeros_like,
)


class RMSprop(Optimizer):
    """RMSprop (Hinton), PyTorch's update rule step for step.

    ``v = alpha * v + (1 - alpha) * g * g``; ``centered`` also tracks ``a = lerp(a, g, 1 - alpha)``
    and uses ``v - a * a``; ``avg = sqrt(v) + eps``; with ``momentum``,
    ``b = momentum * b + g / avg`` and ``p -= lr * b``, else ``p -= lr * g / avg``.
    State: ``step, square_avg`` (+ ``momentum_buffer``, ``grad_avg``).

    Example:
        >>> import autograd as ag, optim
        >>> w = ag.tensor([1.0], requires_grad=True)
        >>> opt = optim.RMSprop([w], lr=0.01)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Reject a negative lr, eps, momentum, weight_decay or alpha."""
        super().check_hyperparameters(group)
        _check_nonnegative("eps", group.get("eps", 0.0), "epsilon")
        _check_nonnegative("momentum", group.get("momentum", 0.0))
        _check_nonnegative("weight_decay", group.get("weight_decay", 0.0))
        _check_nonnegative("alpha", group.get("alpha", 0.0))

    def init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Create ``step`` and the running averages the options need."""
        state["step"] = _step_tensor()
        state["square_avg"] = _zeros_like(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = _zeros_like(param)

    def update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply one RMSprop step to ``param.data`` in place."""
        p = param._data
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        if group["maximize"]:
            grad = -grad
        _increment_step(state)
        if weight_decay != 0:
            grad = grad + weight_decay * p
        square_avg = state["square_avg"]._data
        scratch = np.multiply(grad, 1 - alpha)
        scratch *= grad
        square_avg *= alpha
        square_avg += scratch
        if group["centered"]:
            if "grad_avg" not in state:
                state["grad_avg"] = _zeros_like(param)
            grad_avg = state["grad_avg"]._data
            _lerp_(grad_avg, grad, 1 - alpha)
            np.multiply(grad_avg, -1.0, out=scratch)
            scratch *= grad_avg
            scratch += square_avg
            avg = np.sqrt(scratch, out=scratch)
        else:
            avg = np.sqrt(square_avg, out=scratch)
        avg += eps
        if momentum > 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = _zeros_like(param)
            buf = state["momentum_buffer"]._data
            buf *= momentum
            buf += grad / avg
            p += np.multiply(buf, -lr)
        else:
            delta = np.multiply(grad, -lr)
            delta /= avg
            p += delta
