"""Adamax: Adam with the infinity norm of past gradients in place of the second moment."""

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


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, section 7), PyTorch's update rule step for step.

    ``m = lerp(m, g, 1 - beta1)``, ``u = max(beta2 * u, |g| + eps)``,
    ``p -= lr / (1 - beta1^t) * m / u``. ``weight_decay`` adds ``weight_decay * p`` to the
    gradient; ``maximize`` ascends. State: ``step, exp_avg, exp_inf``.

    Example:
        >>> import autograd as ag, optim
        >>> w = ag.tensor([1.0, -1.0], requires_grad=True)
        >>> opt = optim.Adamax([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=tuple(betas) if isinstance(betas, list) else betas,
            eps=eps,
            weight_decay=weight_decay,
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
        """Create ``step``, the first moment and the infinity norm (zeros)."""
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(param)
        state["exp_inf"] = _zeros_like(param)

    def update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply one Adamax step to ``param.data`` in place."""
        p = param._data
        beta1, beta2 = group["betas"]
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        step = _increment_step(state)
        if weight_decay != 0:
            grad = grad + weight_decay * p
        exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_inf *= beta2
        norm = np.abs(grad)
        norm += eps
        np.maximum(exp_inf, norm, out=exp_inf)
        clr = lr / (1 - beta1**step)
        # p + (-clr * m) / u, PyTorch's addcdiv_ rounding order
        delta = np.multiply(exp_avg, -clr)
        delta /= exp_inf
        p += delta
