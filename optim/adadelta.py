"""Adadelta: per-coordinate step sizes from running averages of squared gradients and updates."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.tensor import Tensor

from .optimizer import (
    Optimizer,
    Params,
    _check_nonnegative,
    _increment_step,
    _step_tensor,
    _zeros_like,
)


class Adadelta(Optimizer):
    """Adadelta (Zeiler), PyTorch's update rule step for step.

    ``v = rho * v + (1 - rho) * g * g``, ``delta = sqrt(u + eps) / sqrt(v + eps) * g``,
    ``u = rho * u + (1 - rho) * delta * delta``, ``p -= lr * delta``. ``weight_decay`` adds
    ``weight_decay * p`` to the gradient; ``maximize`` ascends. State: ``step, square_avg,
    acc_delta``.

    Example:
        >>> import autograd as ag, optim
        >>> w = ag.tensor([1.0], requires_grad=True)
        >>> opt = optim.Adadelta([w], lr=1.0)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([0.9968], requires_grad=True)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Reject a negative lr, eps or weight_decay and rho outside [0, 1]."""
        super().check_hyperparameters(group)
        rho = group.get("rho", 0.9)
        if isinstance(rho, (int, float)) and not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonnegative("eps", group.get("eps", 0.0), "epsilon")
        _check_nonnegative("weight_decay", group.get("weight_decay", 0.0))

    def init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Create ``step`` and the two running averages (zeros)."""
        state["step"] = _step_tensor()
        state["square_avg"] = _zeros_like(param)
        state["acc_delta"] = _zeros_like(param)

    def update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply one Adadelta step to ``param.data`` in place."""
        p = param._data
        lr, rho, eps, weight_decay = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        _increment_step(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * p
        square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
        square_avg *= rho
        square_avg += np.multiply(grad, 1 - rho) * grad
        std = np.add(square_avg, eps)
        np.sqrt(std, out=std)
        delta = np.add(acc_delta, eps)
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= grad
        acc_delta *= rho
        acc_delta += np.multiply(delta, 1 - rho) * delta
        delta *= -lr
        p += delta
