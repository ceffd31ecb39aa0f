"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.backends import numba as _numba
from autograd.tensor import Tensor

from ._kernels import _MIN_SIZE, add_scaled_, axpy_, blas_axpy
from .optimizer import Optimizer, Params, _check_nonnegative


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's update rule step for step.

    With ``g = grad + weight_decay * p`` (negated first if ``maximize``):
    ``b = momentum * b + (1 - dampening) * g`` (``b = g`` on the first step),
    ``g = g + momentum * b`` if ``nesterov`` else ``g = b``, then ``p -= lr * g``.

    Example:
        >>> import autograd as ag, optim
        >>> w = ag.tensor([1.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
        >>> w
        tensor([0.4600], requires_grad=True)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Reject a negative lr, momentum or weight_decay, and Nesterov without momentum."""
        super().check_hyperparameters(group)
        _check_nonnegative("momentum", group.get("momentum", 0.0))
        _check_nonnegative("weight_decay", group.get("weight_decay", 0.0))
        if group.get("nesterov") and (
            group.get("momentum", 0.0) <= 0 or group.get("dampening", 0.0) != 0
        ):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening (got momentum="
                f"{group.get('momentum')}, dampening={group.get('dampening')})"
            )

    def _update_whole_group(self, group: dict[str, Any]) -> bool:  # type: ignore[override]
        """Plain SGD (no momentum, weight decay or maximize), the commonest: ``p -= lr * g``
        for the whole group in one loop. Anything unusual goes through ``_update_one``."""
        if (
            group["momentum"]
            or group["weight_decay"]
            or group["maximize"]
            or type(self).update is not SGD.update  # a subclass's own rule runs per parameter
        ):
            return False
        alpha = -group["lr"]
        # Asked once per group, not per parameter: BLAS axpy (SciPy), else the Numba loop.
        axpy_for = blas_axpy()
        compiled = _numba.active()
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            data = p._data
            g = grad._data
            if g.shape != data.shape:
                self._update_one(p, group)  # its error
                continue
            if (
                (axpy := axpy_for.get(data.dtype)) is not None
                and g.dtype is data.dtype
                and data.flags.c_contiguous
                and data.flags.writeable
            ):
                axpy_(axpy, data, g, alpha)
            elif compiled and data.size >= _MIN_SIZE and data.flags.writeable:
                add_scaled_(data, g, alpha)
            else:
                # NumPy's two calls inline: a training step's last loop runs with the caches
                # cold from backward's products, where every Python line shows in the time.
                try:
                    data += np.multiply(g, alpha)
                except ValueError:  # a read-only array: _update_one writes to a copy
                    self._update_one(p, group)
                    continue
            p._version_counter[0] += 1
        return True

    def update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply one SGD step to ``param.data`` in place."""
        p = param._data
        lr, momentum = group["lr"], group["momentum"]
        if not momentum and not group["weight_decay"] and not group["maximize"]:
            add_scaled_(p, grad, -lr)  # plain SGD, the commonest
            return
        weight_decay, dampening = group["weight_decay"], group["dampening"]
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * p
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buf = np.array(grad, copy=True)
                state["momentum_buffer"] = Tensor._from_array(buf)
            else:
                buf = buffer._data
                buf *= momentum
                if dampening == 0:
                    buf += grad
                else:
                    buf += (1 - dampening) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        add_scaled_(p, grad, -lr)
