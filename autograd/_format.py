"""``repr`` of tensors in PyTorch's format."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

_DEFAULT_SUFFIX_FREE = ("float32", "int64", "bool")


def _float_formatter(array: np.ndarray):  # type: ignore[no-untyped-def]
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return lambda v: f"{v}"
    magnitude = np.abs(finite)
    largest = magnitude.max()
    smallest = magnitude[magnitude > 0].min() if (magnitude > 0).any() else 0.0
    if np.all(finite == np.round(finite)) and largest < 1e8:
        width = max(len(f"{v:.0f}") for v in (finite.min(), finite.max())) + 1
        return lambda v: (f"{v:.0f}." if np.isfinite(v) else f"{v}").rjust(width)
    if largest >= 1e8 or (smallest and smallest < 1e-4) or (smallest and largest / smallest > 1e5):
        return lambda v: f"{v:.4e}"
    width = max(len(f"{v:.4f}") for v in (finite.min(), finite.max()))
    return lambda v: f"{v:.4f}".rjust(width)


def format_tensor(t: Tensor) -> str:
    """Format like ``tensor([1., 2.], requires_grad=True)``."""
    array = t._data
    prefix = "tensor("
    if array.dtype.kind == "f":
        formatter = {"float_kind": _float_formatter(array.astype(np.float64))}
    elif array.dtype.kind == "b":
        formatter = {"bool": lambda v: (" True" if v else "False") if array.size > 1 else str(bool(v))}
    else:
        formatter = None
    if array.size == 0:
        body = "[]"
    else:
        body = np.array2string(
            array,
            separator=", ",
            prefix=prefix,
            formatter=formatter,  # type: ignore[arg-type]
            threshold=1000,
            edgeitems=3,
            max_line_width=80,
        )
    extras = []
    if array.size == 0 and array.ndim > 1:
        extras.append(f"size={tuple(array.shape)}")
    if array.dtype.name not in _DEFAULT_SUFFIX_FREE:
        extras.append(f"dtype={array.dtype.name}")
    if t._grad_fn is not None:
        extras.append(f"grad_fn=<{t._grad_fn.type_name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
