"""PyTorch's keyword spellings for any op: ``out=``, ``input=``/``other=``, ``alpha=``.

The dispatcher sends a call here only when it has such a keyword (the common call never
does): ``ag.matmul(input=a, other=b)``, ``ag.add(x, y, alpha=2)``, ``ag.mul(x, y, out=z)``.
``out=`` writes the result into the given tensor, as PyTorch does: resized (with PyTorch's
warning) when its shape differs, an error when the result's dtype can't be cast to it, and
an error when an input requires grad (out= is not differentiable).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .dtypes import torch_name
from .grad_mode import is_grad_enabled
from .tensor import Tensor

# PyTorch's names for an op's first and second tensor arguments.
TORCH_NAMES = ("input", "other")


def call(spec: Any, args: tuple, kwargs: dict, call_plain: Any) -> Any:
    """Run ``spec`` with PyTorch's keywords translated; ``call_plain`` runs it without them."""
    kwargs = dict(kwargs)
    out = kwargs.pop("out", None) if "out" in spec.torch_keywords else None
    args, kwargs = _positional(spec, args, kwargs)
    if "alpha" in kwargs and "alpha" in spec.torch_keywords:
        alpha = kwargs.pop("alpha")
        if spec.name not in ("add", "sub") or len(args) < 2:
            raise TypeError(f"{spec.name}: unexpected keyword argument 'alpha'")
        if alpha != 1:
            args = (args[0], args[1] * alpha) + tuple(args[2:])
    result = call_plain(spec, args, kwargs)
    return result if out is None else write_out(spec.name, result, out)


def _positional(spec: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Move ``input=``/``other=`` to their positions when the op names them otherwise."""
    for position, alias in enumerate(TORCH_NAMES):
        if alias not in kwargs or alias not in spec.torch_keywords:
            continue
        if position != len(args) or position >= len(spec.input_names):
            raise TypeError(f"{spec.name}: unexpected keyword argument {alias!r} (with "
                            f"{len(args)} positional arguments)")  # fmt: skip
        args = args + (kwargs.pop(alias),)
    return args, kwargs


def write_out(op: str, result: Any, out: Any) -> Any:
    """Write ``result`` into ``out`` (a tensor, or a tuple of them for tuple results)."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{op}(): out= must be a tuple of {len(result)} tensors")
        written = tuple(write_out(op, r, o) for r, o in zip(result, out))
        return type(result)(*written) if hasattr(result, "_fields") else written
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if not isinstance(result, Tensor):
        result = Tensor._from_array(np.asarray(result))
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{op}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad (call it under ag.no_grad(), or drop out=)"
        )
    array = result._data
    if not np.can_cast(array.dtype, out.dtype, casting="same_kind"):
        raise RuntimeError(f"{op}(): result type {torch_name(array.dtype)} can't be cast to the "
                           f"desired output type {torch_name(out.dtype)}")  # fmt: skip
    if out.shape != array.shape:
        if out.numel():
            warnings.warn(
                f"{op}(): an output with one or more elements was resized since it had shape "
                f"{tuple(out.shape)}, which does not match the required output shape "
                f"{tuple(array.shape)} (as PyTorch, this behaviour is deprecated: pass an empty "
                "tensor or one of the right shape)",
                UserWarning,
                stacklevel=4,
            )
        out._data = array.astype(out.dtype, copy=True)
    else:
        np.copyto(out._data, array, casting="unsafe")
    out._version_counter[0] += 1
    return out
