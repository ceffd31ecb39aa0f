"""Adagrad with learning-rate decay, weight decay and an initial accumulator value."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.tensor import Tensor

from .optimizer import Optimizer, Params, _check_nonnegative, _increment_step, _step_tensor


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), PyTorch's update rule step for step.

    ``clr = lr / (1 + (t - 1) * lr_decay)``, ``s += g * g``, ``p -= clr * g / (sqrt(s) + eps)``.
    As in PyTorch, the state (``step``, ``sum`` filled with ``initial_accumulator_value``) is
    created when a parameter joins the optimizer, not at its first step.

    Example:
        >>> import autograd as ag, optim
        >>> w = ag.tensor([1.0], requires_grad=True)
        >>> opt = optim.Adagrad([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Reject a negative lr, lr_decay, weight_decay, initial_accumulator_value or eps."""
        super().check_hyperparameters(group)
        _check_nonnegative("lr_decay", group.get("lr_decay", 0.0))
        _check_nonnegative("weight_decay", group.get("weight_decay", 0.0))
        _check_nonnegative("initial_accumulator_value", group.get("initial_accumulator_value", 0.0))
        _check_nonnegative("eps", group.get("eps", 0.0), "epsilon")

    def _on_add_param_group(self, group: dict[str, Any]) -> None:
        for param in group["params"]:
            state = self.state.setdefault(param, {})
            if not state:
                self.init_state(param, state, group)

    def init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Create ``step`` and the sum of squared gradients."""
        state["step"] = _step_tensor()
        state["sum"] = Tensor._from_array(
            np.full_like(param._data, group["initial_accumulator_value"])
        )

    def update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply one Adagrad step to ``param.data`` in place."""
        p = param._data
        step = _increment_step(state)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"]._data
        scratch = np.multiply(grad, grad)
        state_sum += scratch
        std = np.sqrt(state_sum, out=scratch)
        std += group["eps"]
        delta = np.multiply(grad, -clr)
        delta /= std
        p += delta
