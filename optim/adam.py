"""Adam (L2 weight decay or decoupled), AdamW, with AMSGrad and maximize."""

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


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start += weight * (end - start)`` in place, rounding as PyTorch's CPU ``lerp_``."""
    diff = np.subtract(end, start)
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1 - weight
        np.subtract(end, diff, out=start)


def _check_betas(betas: Any) -> None:
    """Raise ``ValueError`` unless ``betas`` is a pair of numbers in [0, 1) (Adam's family)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for index, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(
                f"Invalid beta parameter at index {index}: {beta} (expected 0 <= beta < 1)"
            )


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's update rule step for step.

    ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 * v + (1 - beta2) * g * g``,
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``. ``weight_decay`` adds
    ``weight_decay * p`` to the gradient (L2), or with ``decoupled_weight_decay=True`` (AdamW)
    multiplies ``p`` by ``1 - lr * weight_decay`` first. ``amsgrad`` normalises by the running
    maximum of ``v``. State: ``step, exp_avg, exp_avg_sq`` (``max_exp_avg_sq`` with AMSGrad).

    Example:
        >>> import autograd as ag, optim
        >>> w = ag.tensor([1.0, -1.0], requires_grad=True)
        >>> opt = optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=tuple(betas) if isinstance(betas, list) else betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Reject a negative lr, eps or weight_decay and betas outside [0, 1)."""
        super().check_hyperparameters(group)
        _check_nonnegative("eps", group.get("eps", 0.0), "epsilon")
        _check_betas(group.get("betas", (0.9, 0.999)))
        _check_nonnegative("weight_decay", group.get("weight_decay", 0.0))

    def init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Create ``step`` (0-d float32, as PyTorch) and zero moment estimates."""
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(param)
        state["exp_avg_sq"] = _zeros_like(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_like(param)

    def update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply one Adam step to ``param.data`` in place."""
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
        scratch = np.multiply(grad, 1 - beta2)
        scratch *= grad
        exp_avg_sq *= beta2
        exp_avg_sq += scratch

        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        second = exp_avg_sq
        if group.get("amsgrad"):
            if "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = _zeros_like(param)
            second = state["max_exp_avg_sq"]._data
            np.maximum(second, exp_avg_sq, out=second)
        denom = np.sqrt(second, out=scratch)
        denom /= bias_correction2_sqrt
        denom += eps
        # p + (-step_size * m) / denom, PyTorch's addcdiv_ rounding order
        numerator = np.multiply(exp_avg, -step_size)
        numerator /= denom
        p += numerator


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * weight_decay``.

    The same as ``Adam(..., decoupled_weight_decay=True)``, with ``weight_decay=0.01`` by default.

    Example:
        >>> import autograd as ag, optim
        >>> w = ag.tensor([1.0], requires_grad=True)
        >>> opt = optim.AdamW([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([0.8990], requires_grad=True)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict; decay stays decoupled whatever the saved groups say (as PyTorch)."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
