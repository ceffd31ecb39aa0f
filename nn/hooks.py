"""Full module backward hooks (``register_full_backward_hook`` / ``..._pre_hook``), as PyTorch's
``BackwardHook``: identity ``Function``s around a module's tensor inputs and outputs capture the
gradients flowing through them, and call the user's hooks at the right moment."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from autograd.function import Function, FunctionCtx
from autograd.grad_mode import is_grad_enabled
from autograd.tensor import Tensor

__all__ = ["BackwardHook"]


class BackwardHookFunction(Function):
    """Identity on its tensor arguments; ``backward`` hands the gradients to a callback."""

    @staticmethod
    def forward(ctx: FunctionCtx, callback: Callable[[tuple], tuple], *tensors: Tensor) -> tuple:
        ctx.callback = callback  # type: ignore[attr-defined]
        # New tensors sharing the inputs' data (so that the non-differentiable ones are known).
        outputs = tuple(t.detach() for t in tensors)
        ctx.mark_non_differentiable(*[o for o, t in zip(outputs, tensors) if not t.requires_grad])
        return outputs

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Tensor) -> tuple:
        # Tensors that get no gradient (or do not require grad) come as zeros, as in PyTorch.
        return (None,) + tuple(ctx.callback(grads))  # type: ignore[attr-defined]


class BackwardHook:
    """The backward hooks of one module call: wraps its inputs and outputs, calls the hooks.

    ``hook(module, grad_output)`` (pre-hooks) runs when the gradients with respect to the
    outputs are known and may replace them; ``hook(module, grad_input, grad_output)`` runs when
    the gradients with respect to the inputs are known and may replace those. Non-tensor
    positions hold None.
    """

    def __init__(self, module: Any, user_hooks: Sequence[Callable], user_pre_hooks: Sequence[Callable]) -> None:
        self.module = module
        self.user_hooks = list(user_hooks)
        self.user_pre_hooks = list(user_pre_hooks)
        self.grad_outputs: tuple | None = None
        self.n_inputs = -1
        self.n_outputs = -1
        self.input_tensors_index: list[int] | None = None
        self.output_tensors_index: list[int] | None = None

    @staticmethod
    def _pack_with_none(indices: Sequence[int], values: Sequence[Any], size: int) -> tuple:
        packed: list[Any] = [None] * size
        for index, value in zip(indices, values):
            packed[index] = value
        return tuple(packed)

    @staticmethod
    def _apply_on_tensors(callback: Callable[[tuple], tuple], args: tuple) -> tuple[tuple, list[int] | None]:
        indices = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        tensors = [args[i] for i in indices]
        if not (any(t.requires_grad for t in tensors) and is_grad_enabled()):
            return args, None
        wrapped = BackwardHookFunction.apply(callback, *tensors)
        replaced = list(args)
        for index, value in zip(indices, wrapped):
            replaced[index] = value
        return tuple(replaced), indices

    def setup_input_hook(self, args: tuple) -> tuple:
        """Wrap the positional tensor arguments; their gradients trigger the full hooks."""
        result, indices = self._apply_on_tensors(self._input_grads, args)
        self.n_inputs = len(args)
        self.input_tensors_index = indices
        return result

    def setup_output_hook(self, result: Any) -> Any:
        """Wrap the output (a tensor, or the tensors of a tuple); their gradients are kept."""
        is_tuple = isinstance(result, tuple)
        outputs = result if is_tuple else (result,)
        wrapped, indices = self._apply_on_tensors(self._output_grads, outputs)
        self.n_outputs = len(outputs)
        self.output_tensors_index = indices
        return wrapped if is_tuple else wrapped[0]

    def _output_grads(self, grads: tuple) -> tuple:
        assert self.output_tensors_index is not None, "output hook fired without wrapped outputs"
        self.grad_outputs = self._pack_with_none(self.output_tensors_index, grads, self.n_outputs)
        for pre_hook in self.user_pre_hooks:
            replaced = pre_hook(self.module, self.grad_outputs)
            if replaced is None:
                continue
            if len(replaced) != len(self.grad_outputs):
                raise RuntimeError(
                    "Backward pre hook returned an invalid number of grad_output, got "
                    f"{len(replaced)}, but expected {len(self.grad_outputs)}"
                )
            self.grad_outputs = tuple(replaced)
        grad_outputs = self.grad_outputs
        if self.input_tensors_index is None:
            # No input requires grad: call the hooks now, with None for every input.
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module "
                "outputs since no inputs require gradients. See "
                "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                "#torch.nn.Module.register_full_backward_hook for more details.",
                stacklevel=2,
            )
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                returned = hook(self.module, grad_inputs, grad_outputs)
                if returned is not None and not (
                    isinstance(returned, tuple) and all(item is None for item in returned)
                ):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should always "
                        "return None or None for all gradients."
                    )
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_tensors_index)

    def _input_grads(self, grads: tuple) -> tuple:
        assert self.input_tensors_index is not None, "input hook fired without wrapped inputs"
        if self.grad_outputs is None:
            # The gradient reached the inputs without passing through the outputs
            # (e.g. a second backward): nothing to report, as in PyTorch.
            return grads
        grad_inputs = self._pack_with_none(self.input_tensors_index, grads, self.n_inputs)
        for hook in self.user_hooks:
            replaced = hook(self.module, grad_inputs, self.grad_outputs)
            if replaced is None:
                continue
            if len(replaced) != len(grad_inputs):
                raise RuntimeError(
                    "Backward hook returned an invalid number of grad_input, got "
                    f"{len(replaced)}, but expected {len(grad_inputs)}"
                )
            grad_inputs = tuple(replaced)
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_tensors_index)
