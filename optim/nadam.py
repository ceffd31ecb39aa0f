"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

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


class NAdam(Optimizer):
    """NAdam (Dozat), PyTorch's update rule step for step.

    ``mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))``; ``m`` and ``v`` as in Adam;
    ``p -= lr * (1 - mu_t) / (1 - prod mu) * g / d + lr * mu_{t+1} / (1 - prod mu * mu_{t+1})
    * m / d`` with ``d = sqrt(v / (1 - beta2^t)) + eps``. ``weight_decay`` is L2 (added to the
    gradient) or, with ``decoupled_weight_decay=True``, multiplies ``p`` by
    ``1 - lr * weight_decay``. State: ``step, mu_product`` (0-d float32, as PyTorch keeps them),
    ``exp_avg, exp_avg_sq``.

    Example:
        >>> import autograd as ag, optim
        >>> w = ag.tensor([1.0], requires_grad=True)
        >>> opt = optim.NAdam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([0.8944], requires_grad=True)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=tuple(betas) if isinstance(betas, list) else betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Reject a negative lr, eps, weight_decay or momentum_decay and betas outside [0, 1)."""
        super().check_hyperparameters(group)
        _check_nonnegative("eps", group.get("eps", 0.0), "epsilon")
        _check_betas(group.get("betas", (0.9, 0.999)))
        _check_nonnegative("weight_decay", group.get("weight_decay", 0.0))
        _check_nonnegative("momentum_decay", group.get("momentum_decay", 0.0))

    def init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Create ``step``, ``mu_product`` (one) and zero moment estimates."""
        state["step"] = _step_tensor()
        state["mu_product"] = Tensor._from_array(np.ones((), dtype=np.float32))
        state["exp_avg"] = _zeros_like(param)
        state["exp_avg_sq"] = _zeros_like(param)

    def update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply one NAdam step to ``param.data`` in place."""
        p = param._data
        beta1, beta2 = group["betas"]
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        momentum_decay = group["momentum_decay"]
        if group["maximize"]:
            grad = -grad
        step = _increment_step(state)
        bias_correction2 = 1 - beta2**step
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * p
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        # the product is a float32 tensor in PyTorch: multiply in float32, as it does
        mu_product_array = state["mu_product"]._data
        mu_product_array *= mu
        mu_product = float(mu_product_array)
        mu_product_next = mu_product * mu_next

        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += np.multiply(grad, 1 - beta2) * grad
        denom = np.divide(exp_avg_sq, bias_correction2)
        np.sqrt(denom, out=denom)
        denom += eps
        # two addcdiv_ calls, in PyTorch's order and rounding
        delta = np.multiply(grad, -lr * (1.0 - mu) / (1.0 - mu_product))
        delta /= denom
        p += delta
        np.multiply(exp_avg, (-lr * mu_next) / (1.0 - mu_product_next), out=delta)
        delta /= denom
        p += delta
