"""graphgrad's engine: tensors that record a dynamic graph, and reverse-mode differentiation.

>>> import autograd as ag
>>> x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from __future__ import annotations

import importlib
from typing import Any

from . import _allocator, return_types
from . import inplace as _inplace  # noqa: F401  (attaches the in-place methods to Tensor)
from . import ops as _ops  # noqa: F401  (registers every op)
from ._format import set_printoptions
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    multinomial,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .device import device, get_default_device, set_default_device
from .dtypes import (
    bool,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)
from .engine import backward, grad
from .explain import explain_grad
from .function import Function, FunctionCtx
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from .inplace import fill_, zero_
from .ops.compare import *  # noqa: F403  (each family's __all__ is its public names)
from .ops.elementwise import *  # noqa: F403
from .ops.index import *  # noqa: F403
from .ops.linalg import *  # noqa: F403
from .ops.matrix import *  # noqa: F403
from .ops.rearrange import *  # noqa: F403
from .ops.reduce import *  # noqa: F403
from .ops.scan import *  # noqa: F403
from .ops.scatter import *  # noqa: F403
from .ops.shape import *  # noqa: F403
from .ops.softmax import *  # noqa: F403
from .ops.sort import *  # noqa: F403
from .ops.special import *  # noqa: F403
from .random import get_rng_state, initial_seed, manual_seed, set_rng_state
from .registry import REGISTRY
from .tensor import RemovableHandle, Tensor
from .threads import get_num_threads, set_num_threads

__version__ = "0.1.0"

_LAZY = {
    "functional",
    "testing",
    "viz",
    "data",
    "serialization",
    "onnx",
    "cuda",
    "accelerator",
    "backends",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".serialization", __name__), name)
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")

# Large arrays freed by one training step serve the next (glibc; see ``_allocator``).
_allocator.keep_freed_memory()
