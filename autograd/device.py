"""Devices, so that PyTorch code runs unchanged: ``ag.device``, the default device, device checks.

graphgrad computes on the CPU with NumPy. ``ag.device("cuda")`` can be built (as in PyTorch,
where building one does not need a GPU), but asking for a tensor or module on any device other
than the CPU raises a ``RuntimeError`` that says so.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

__all__ = ["device", "set_default_device", "get_default_device"]

# PyTorch's device types (the ones its parser accepts)
DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip


class device:
    """A device, as ``torch.device``: ``type`` (``'cpu'``, ``'cuda'``, ...) and ``index``.

    Built from ``'cpu'``, ``'cuda:1'``, ``('cuda', 1)`` or another device. It compares equal to
    a device of the same type and index, and to the string naming it (``device('cpu') ==
    'cpu'``). Only ``'cpu'`` can hold tensors in graphgrad.

    Example:
        >>> import autograd as ag
        >>> ag.device("cpu"), ag.tensor([1.0]).device == "cpu"
        (device(type='cpu'), True)
        >>> ag.device("cuda", 1)
        device(type='cuda', index=1)
    """

    __slots__ = ("_type", "_index")
    _type: str
    _index: int | None

    def __init__(self, type: str | device, index: int | None = None) -> None:
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): an index can't be given together with a device")
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, (builtins.int, np.integer)) and not isinstance(type, builtins.bool):
            raise RuntimeError(
                f"device({type}): an index alone names an accelerator device ('cuda:{type}'); "
                "graphgrad computes on the CPU only, so use device('cpu')"
            )
        if not isinstance(type, str):
            raise TypeError(
                "device() received an invalid argument: expected a device string such as 'cpu' "
                f"or a device, got {builtins.type(type).__name__}"
            )
        name, colon, number = type.partition(":")
        if name not in DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device "
                f"string: {type}"
            )
        if colon:
            if not number.isdigit() or (len(number) > 1 and number.startswith("0")):
                raise RuntimeError(f"Invalid device string: {type!r}")
            if index is not None:
                raise RuntimeError(
                    "type (string) must not include an index because index was passed "
                    f"explicitly: {type}"
                )
            index = builtins.int(number)
        if index is not None:
            if not isinstance(index, (builtins.int, np.integer)) or isinstance(
                index, builtins.bool
            ):
                raise TypeError(f"device(): index must be an int, got {index!r}")
            if index < 0:
                raise RuntimeError(f"Device index must not be negative, got {index}")
            index = builtins.int(index)
        self._type, self._index = name, index

    @property
    def type(self) -> str:
        """The device type: ``'cpu'``, ``'cuda'``, ``'mps'``, ..."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device index (None when not given)."""
        return self._index

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type={self._type!r})"
        return f"device(type={self._type!r}, index={self._index})"

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (device, (str(self),))


CPU = device("cpu")


def check_device(value: Any, op: str) -> device:
    """Return ``value`` (None, a string or a device) as a CPU device, or raise a clear error.

    ``op`` names the call in the message (``zeros``, ``Tensor.to``, ...).
    """
    if value is None:
        return CPU
    parsed = value if isinstance(value, device) else device(value)
    if parsed.type != "cpu":
        raise RuntimeError(
            f"{op}: device {str(parsed)!r} is not available: graphgrad computes on the CPU "
            "only (ag.cuda.is_available() is False). Use device='cpu' or leave the device out; "
            "PyTorch-style code can pick it with "
            "`device = 'cuda' if ag.cuda.is_available() else 'cpu'`"
        )
    return CPU


def set_default_device(device: Any) -> None:
    """Set the device factories use by default; only ``'cpu'`` (or None) exists in graphgrad.

    Example:
        >>> import autograd as ag
        >>> ag.set_default_device("cpu"); ag.get_default_device()
        device(type='cpu')
    """
    check_device(device, "set_default_device")


def get_default_device() -> device:
    """The device factories create tensors on: always ``device(type='cpu')``.

    Example:
        >>> import autograd as ag
        >>> ag.get_default_device()
        device(type='cpu')
    """
    return CPU
