"""``Parameter``: the Tensor subclass a ``Module`` registers as learnable (``torch.nn.parameter``).

``nn.module`` re-exports it, so ``nn.Parameter`` and ``nn.module.Parameter`` (the path older
pickles and ``ag.save`` files record) name this same class.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
from autograd import dtypes as _dtypes
from autograd.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that a ``Module`` registers as learnable when assigned as an attribute.

    ``Parameter(data)`` shares ``data``'s array (as PyTorch shares storage) and requires
    grad by default.

    Example:
        >>> import autograd as ag, nn
        >>> nn.Parameter(ag.zeros(2))
        Parameter containing:
        tensor([0., 0.], requires_grad=True)
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.empty((0,), dtype=_dtypes.get_default_dtype())
        elif isinstance(data, Tensor):
            array = data._data  # shared, as PyTorch shares the storage
        else:
            array = ag.tensor(data)._data
        Tensor.__init__(self, np.empty((0,), dtype=array.dtype))
        self._data = array
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (Parameter, (Tensor._from_array(self._data), self._requires_grad))
