"""RAdam: Adam with a rectified adaptive learning rate (plain momentum while variance is high)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.tensor import Tensor

from .adam import _check_betas, _lerp_
from .optimizer import (
    Optimizer,
    Params,
    _check_nonnegative,
    _increment_step,
    _step_tensor,
    _zeros_like,
)


class RAdam(Optimizer):
    """RAdam (Liu et al.), PyTorch's update rule step for step.

    ``m`` and ``v`` as in Adam; ``rho_inf = 2 / (1 - beta2) - 1``,
    ``rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)``. While ``rho_t <= 5`` the step is
    ``p -= lr * m / (1 - beta1^t)``; afterwards it is multiplied by the adaptive rate
    ``sqrt(1 - beta2^t) / (sqrt(v) + eps)`` and the rectification
    ``sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``.
    ``weight_decay`` is L2, or decoupled with ``decoupled_weight_decay=True``.
    State: ``step, exp_avg, exp_avg_sq``.

    Example:
        >>> import autograd as ag, optim
        >>> w = ag.tensor([1.0], requires_grad=True)
        >>> opt = optim.RAdam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([0.8000], requires_grad=True)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=tuple(betas) if isinstance(betas, list) else betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Reject a negative lr, eps or weight_decay and betas outside [0, 1)."""
        super().check_hyperparameters(group)
        _check_nonnegative("eps", group.get("eps", 0.0), "epsilon")
        _check_betas(group.get("betas", (0.9, 0.999)))
        _check_nonnegative("weight_decay", group.get("weight_decay", 0.0))

    def init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Create ``step`` and zero moment estimates."""
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(param)
        state["exp_avg_sq"] = _zeros_like(param)

    def update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply one RAdam step to ``param.data`` in place."""
        p = param._data
        beta1, beta2 = group["betas"]
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        step = _increment_step(state)
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * p
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += np.multiply(grad, 1 - beta2) * grad

        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        update = np.divide(exp_avg, bias_correction1)
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            adaptive = np.sqrt(exp_avg_sq)
            adaptive += eps
            np.divide(bias_correction2**0.5, adaptive, out=adaptive)
            rect = (
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            ) ** 0.5
            update *= adaptive
            update *= rect
        p -= update
