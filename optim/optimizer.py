"""The ``Optimizer`` base: parameter groups, per-parameter state, ``step`` and state dicts.

Subclasses write one per-parameter update on NumPy arrays (``update``); the base class owns the
loop over groups and parameters, grad mode, lazy state creation and the PyTorch-shaped state dict.
"""

from __future__ import annotations

import copy
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import numpy as np

from autograd.grad_mode import enable_grad, enter_quiet_region, exit_quiet_region, no_grad
from autograd.tensor import RemovableHandle, Tensor

Params = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class _RequiredParameter:
    """Marks a hyperparameter that every parameter group must set (PyTorch's ``required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj: Any) -> str:
    return type(obj).__module__ + "." + type(obj).__qualname__


class Optimizer:
    """Base class of all optimizers: holds ``param_groups`` and per-parameter ``state``.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs (``named_parameters()``) or
    of dicts, each a parameter group ``{"params": [...], "lr": ..., ...}`` whose missing options
    are taken from ``defaults``.

    Subclasses implement :meth:`update` (one in-place update of one parameter, on NumPy arrays),
    optionally :meth:`init_state` (create the state of a parameter before its first update) and
    :meth:`check_hyperparameters` (raise ``ValueError`` for invalid options).

    Example:
        >>> import autograd as ag, optim
        >>> w = ag.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step(); opt.zero_grad()
        >>> w
        tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.check_hyperparameters(defaults)
        self._optimizer_step_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._opt_called = False
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {_typename(params)}; wrap it in a list: [tensor]"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs; use a list instead"
            )
        # a defaultdict, as PyTorch's: ``opt.state[p]["key"] = value`` works for any parameter
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(
                "optimizer got an empty parameter list; check that the model has parameters "
                "(list(model.parameters()) is empty) and that the generator was not consumed"
            )
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)  # type: ignore[arg-type]

    # hyperparameters and groups
    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Raise ``ValueError`` if an option of ``group`` is invalid (overridden by subclasses)."""
        lr = group.get("lr")
        if isinstance(lr, (int, float)) and not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. unfrozen layers while fine-tuning).

        Options the group leaves out are taken from ``defaults``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry (the tensors to optimize)")
        param_group = dict(param_group)
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs; use a list instead"
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
        param_group["params"] = tensors
        for index, param in enumerate(tensors):
            if not isinstance(param, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but parameter {index} of the group "
                    f"is a {_typename(param)}"
                )
            if not (param.is_leaf or param.retains_grad):
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (parameter {index}, shape "
                    f"{tuple(param.shape)}, created by {type(param.grad_fn).__name__}); "
                    "optimize the leaf it was computed from, or use .detach().requires_grad_()"
                )
            if not param.is_floating_point():
                raise TypeError(
                    f"optimizer can only optimize floating-point Tensors, but parameter {index} "
                    f"has dtype {param.dtype}; convert it with .float() or .double()"
                )
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)
        self.check_hyperparameters(param_group)

        seen: set[int] = set()
        for index, param in enumerate(tensors):
            if id(param) in seen:
                raise ValueError(
                    f"optimizer got the same parameter twice in one group (parameter {index}, "
                    f"shape {tuple(param.shape)}); pass each parameter once"
                )
            seen.add(id(param))
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
            if any(id(p) in seen for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)
        self._on_add_param_group(param_group)

    def _on_add_param_group(self, group: dict[str, Any]) -> None:
        """Hook for optimizers that create state eagerly (Adagrad)."""

    # gradients and steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (to None by default, else to zeros)."""
        if set_to_none:  # the default, at the start of every training step
            for group in self.param_groups:
                for p in group["params"]:
                    p._grad = None
            return
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                with no_grad():
                    grad.zero_()

    def init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Fill the empty ``state`` of ``param`` before its first update (default: nothing)."""

    def update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Update ``param.data`` in place from ``grad`` (implemented by each optimizer).

        Runs under ``no_grad``. ``state`` holds Tensors (update their ``.data`` in place) and the
        step count; ``group`` is the parameter's group with its hyperparameters. ``grad`` may be
        read-only: never write into it. The base class bumps the version counter afterwards.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement update()")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; returns ``closure()`` if a closure is given.

        The closure (re-evaluate the model, call ``backward``, return the loss) runs with
        gradients enabled; the update itself records no graph.
        """
        if self._optimizer_step_pre_hooks:
            self._call_step_pre_hooks()
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._opt_called = True
        update_group = self._update_whole_group
        # No graph, and nan/inf propagate silently, as in PyTorch (NumPy would warn).
        region = enter_quiet_region(False)
        try:
            for group in self.param_groups:
                if update_group is not None and update_group(group):
                    continue
                for p in group["params"]:
                    if p._grad is not None:
                        self._update_one(p, group)
        finally:
            exit_quiet_region(region)
        if self._optimizer_step_post_hooks:
            self._call_step_post_hooks()
        return loss

    # An optimizer may update a whole group in one loop where its rule allows (plain SGD):
    # ``_update_whole_group(group)`` returns False to leave the group to ``_update_one``.
    _update_whole_group: Callable[[dict[str, Any]], bool] | None = None

    def _update_one(self, p: Tensor, group: dict[str, Any]) -> None:
        """Check ``p``'s gradient, make its state, run ``update`` and bump its version."""
        data = p._data
        g = p._grad._data  # type: ignore[union-attr]  # the caller checked it is set
        if g.shape != data.shape:
            raise RuntimeError(
                f"{type(self).__name__}.step: gradient of shape {tuple(g.shape)} "
                f"for a parameter of shape {tuple(data.shape)}"
            )
        states = self.state
        state = states.get(p)
        if state is None:
            state = {}
        # An optimizer without per-parameter state (plain SGD) skips the no-op.
        if not state and type(self).init_state is not Optimizer.init_state:
            self.init_state(p, state, group)
        if not data.flags.writeable:
            p._data = np.array(data)
        self.update(p, g, state, group)
        p._version_counter[0] += 1
        if state and p not in states:
            states[p] = state

    def _call_step_pre_hooks(self) -> None:
        for pre_hook in list(self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, (), {})
            if result is not None:
                raise RuntimeError(
                    "optimizer step pre-hooks must return None (changing the arguments of "
                    "step() is not supported)"
                )

    def _call_step_post_hooks(self) -> None:
        for post_hook in list(self._optimizer_step_post_hooks.values()):
            post_hook(self, (), {})

    def register_step_pre_hook(self, hook: Callable[..., None]) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before every ``step``; returns a handle."""
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable[..., None]) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after every ``step``; returns a handle."""
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    # state dicts
    def state_dict(self) -> dict[str, Any]:
        """Return ``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are replaced by their position over all groups (PyTorch's layout); the state
        tensors are the optimizer's own (not copies), as in PyTorch.
        """
        index_of: dict[int, int] = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {
            (index_of[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict made by :meth:`state_dict` (possibly after ``ag.save``/``ag.load``).

        Hyperparameters of the saved groups replace the current ones; state tensors are copied
        and cast to their parameter's dtype (except ``step``).
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(
                "load_state_dict: expected a dict with keys 'state' and 'param_groups' (from "
                f"Optimizer.state_dict()), got {_describe(state_dict)}"
            )
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)} saved, {len(groups)} in this optimizer)"
            )
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group (group {i}: {len(saved['params'])} saved parameters, "
                    f"{len(group['params'])} in this optimizer)"
                )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            param = id_map.get(key)
            if param is None:
                state[key] = value
                continue
            state[param] = {k: _cast_state(param, k, v) for k, v in value.items()}
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.state = state
        self.param_groups = new_groups

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict())
        self.__dict__.setdefault("_opt_called", False)

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


def _describe(obj: Any) -> str:
    if isinstance(obj, dict):
        return f"a dict with keys {sorted(map(str, obj))[:6]}"
    return f"a {type(obj).__name__}"


def _cast_state(param: Tensor, key: Any, value: Any) -> Any:
    """Deep-copy one state entry, casting floating tensors to the parameter's dtype."""
    if isinstance(value, np.ndarray):
        value = Tensor._from_array(value)
    if isinstance(value, Tensor):
        array = np.array(value._data, copy=True)
        if key != "step" and array.dtype.kind == "f" and array.dtype != param.dtype:
            array = array.astype(param.dtype)
        return Tensor._from_array(array)
    if isinstance(value, dict):
        return {k: _cast_state(param, k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, None, v) for v in value)
    return copy.deepcopy(value)


def _zeros_like(param: Tensor) -> Tensor:
    return Tensor._from_array(np.zeros_like(param._data))


def _step_tensor() -> Tensor:
    """The step counter as PyTorch keeps it: a 0-d float32 tensor."""
    return Tensor._from_array(np.zeros((), dtype=np.float32))


def _increment_step(state: dict[str, Any]) -> float:
    """Add one to ``state['step']`` in place and return the new count as a Python float."""
    step = state["step"]._data
    np.add(step, 1, out=step)
    return float(step)


def _check_nonnegative(name: str, value: Any, label: str | None = None) -> None:
    if isinstance(value, (int, float)) and not value >= 0.0:
        raise ValueError(f"Invalid {label or name} value: {value}")
