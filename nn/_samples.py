"""Hypothesis input strategies for the ``nn`` ops in the registry-wide gradient test.

Imported lazily (inside each ``sample=`` factory), so ``nn`` itself never needs Hypothesis.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.domains import ANY, Domain
from autograd.tensor import Tensor


def tensor(draw: Any, shape: tuple, domain: Domain = ANY, requires_grad: bool = True) -> Tensor:
    """Draw a float64 Tensor of ``shape`` from ``domain``."""
    from autograd.testing import arrays

    return Tensor._from_array(draw(arrays(tuple(shape), domain))).requires_grad_(requires_grad)


def side(draw: Any, low: int = 1, high: int = 3) -> int:
    """Draw one small dimension size."""
    from hypothesis import strategies as st

    return draw(st.integers(low, high))


def integers(draw: Any, shape: tuple, high: int) -> np.ndarray:
    """Draw an int64 array of ``shape`` with values in ``[0, high)``."""
    from hypothesis import strategies as st

    size = int(np.prod(shape, dtype=np.int64))
    values = draw(st.lists(st.integers(0, high - 1), min_size=size, max_size=size))
    return np.asarray(values, dtype=np.int64).reshape(shape)
