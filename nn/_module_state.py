"""``Module``'s state dicts: ``state_dict`` and ``load_state_dict``, as a mixin ``Module`` inherits.

Keys, dtypes, error messages and the all-or-nothing load follow PyTorch, so state dicts move
between this library and PyTorch unchanged. Layers may override the per-module halves,
``_save_to_state_dict`` and ``_load_from_state_dict``.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd.grad_mode import no_grad
from autograd.tensor import Tensor

if TYPE_CHECKING:
    from .module import Module


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the missing and the unexpected keys."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _as_array(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # e.g. a torch.Tensor
        return np.asarray(value.detach().numpy())
    return np.asarray(value)


class _StateDictMixin:
    """The state-dict methods of ``nn.Module`` (which sets up the registries they read).

    Example:
        >>> import nn
        >>> layer = nn.Linear(2, 1)
        >>> list(layer.state_dict())
        ['weight', 'bias']
        >>> nn.Linear(2, 1).load_state_dict(layer.state_dict())
        <All keys matched successfully>
    """

    # Declared for the type checker only (``Module.__init__`` creates them). Values are ``Any``
    # because ``Module`` and the containers read these dicts untyped (entries may be None).
    _parameters: dict[str, Any]  # name -> Parameter | None
    _buffers: dict[str, Any]  # name -> Tensor | None
    _non_persistent_buffers_set: set[str]
    _modules: dict[str, Any]  # name -> Module | None

    if TYPE_CHECKING:

        def named_modules(
            self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
        ) -> Iterator[tuple[str, Module]]: ...

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()

    def state_dict(
        self, *args: Any, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict[str, Tensor]:
        """Return the parameters and persistent buffers by dotted name, in registration order.

        Values share memory with the module (detached unless ``keep_vars``); keys and dtypes are
        PyTorch's (``num_batches_tracked`` is int64).
        """
        if args:  # PyTorch's deprecated positional form: (destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        return destination  # type: ignore[return-value]

    def _local_state(self) -> dict[str, Tensor]:
        state = {k: v for k, v in self._parameters.items() if v is not None}
        state.update(
            (k, v)
            for k, v in self._buffers.items()
            if v is not None and k not in self._non_persistent_buffers_set
        )
        return state  # type: ignore[return-value]

    def _load_from_state_dict(
        self,
        state_dict: Mapping[str, Any],
        prefix: str,
        strict: bool,
        missing_keys: list[str],
        error_msgs: list[str],
        pending: list[tuple[Tensor, np.ndarray]],
    ) -> None:
        """Check this module's own entries; queue the copies (nothing is written here)."""
        for name, target in self._local_state().items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            try:
                array = _as_array(value)
            except Exception:  # noqa: BLE001 - any unconvertible object is a user error
                array = None
            if array is None or array.dtype == object:
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected Tensor or Tensor-like '
                    f"object from checkpoint but received {type(value)}"
                )
                continue
            if target.ndim == 0 and array.shape == (1,):
                array = array.reshape(())
            if tuple(array.shape) != tuple(target.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} "
                    f"from checkpoint, the shape in current model is {tuple(target.shape)}."
                )
                continue
            pending.append((target, array))

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> _IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Values may be Tensors, NumPy arrays or PyTorch tensors, and are cast to each target's
        dtype. With ``strict=True`` every missing and unexpected key is an error. Every problem
        (keys, shape mismatches) is reported at once, and nothing is loaded if there is one.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list[str] = []
        errors: list[str] = []
        pending: list[tuple[Tensor, np.ndarray]] = []
        expected: set[str] = set()
        for prefix, module in self.named_modules(remove_duplicate=False):
            prefix = prefix + "." if prefix else ""
            expected.update(prefix + k for k in module._local_state())
            module._load_from_state_dict(state_dict, prefix, strict, missing, errors, pending)
        # A module reachable under two names reports its keys twice: keep the first.
        missing = list(dict.fromkeys(missing))
        unexpected = [k for k in state_dict if k not in expected]
        if strict:
            if unexpected:
                errors.insert(
                    0,
                    "Unexpected key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in unexpected)
                    ),
                )
            if missing:
                errors.insert(
                    0,
                    "Missing key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in missing)
                    ),
                )
        if errors:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(
                    type(self).__name__, "\n\t".join(errors)
                )
            )
        with no_grad():
            for target, array in pending:
                target.copy_(Tensor._from_array(array))
        return _IncompatibleKeys(missing, unexpected)
