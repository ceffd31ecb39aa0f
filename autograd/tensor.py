"""The Tensor: an ndarray, its gradient, its place in the graph and the operator table.

Differentiable methods (``exp``, ``sum``, ``reshape``, ...) are attached by the op registry
in ``autograd/ops``; in-place methods (``add_``, ``copy_``, ``t[i] = v``) live in
``autograd/inplace.py``. The operator dunders are the one table kept here: their reflected
and in-place forms need argument swapping, and each looks its op up in the registry.
"""

from __future__ import annotations

import builtins
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from . import dtypes as _dtypes
from .device import CPU as _CPU
from .device import DEVICE_TYPES as _DEVICE_TYPES
from .device import check_device as _check_device
from .device import device as _Device
from .registry import REGISTRY


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    ``Tensor(data, requires_grad=False)`` accepts what ``ag.tensor`` accepts
    (``Tensor(3.0)`` is a 0-d float32 tensor).

    Example:
        >>> import autograd as ag
        >>> x = ag.Tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.])
    """

    __slots__ = (
        "_data",
        "_requires_grad",
        "_grad",
        "_grad_fn",
        "_output_nr",
        "_version_counter",
        "_hooks",
        "_retains_grad",
        "_view_from",
        "__weakref__",
    )
    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__

    if TYPE_CHECKING:
        # Op methods (exp, sum, reshape, ...) are attached by the op registry at import time.
        def __getattr__(self, name: str) -> Any: ...
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __iadd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __isub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __imul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __itruediv__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __lt__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def __eq__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __ne__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __and__(self, other: Any) -> Tensor: ...
        def __or__(self, other: Any) -> Tensor: ...
        def __invert__(self) -> Tensor: ...

    def __init__(self, data: Any, requires_grad: builtins.bool = False, dtype: Any = None) -> None:
        from .creation import _as_array

        self._init(_as_array(data, dtype))
        if requires_grad:
            self.requires_grad_(True)

    def _init(self, array: np.ndarray) -> None:
        """Set every slot: the one initialiser behind ``__init__`` and ``_from_array``."""
        self._data = array
        self._requires_grad = False
        self._grad: Tensor | None = None
        self._grad_fn: Any = None
        self._output_nr = 0
        self._version_counter = [0]
        self._hooks: dict | None = None
        self._retains_grad = False
        self._view_from: tuple | None = None  # (parent, op, options) when this is a view

    @classmethod
    def _from_array(cls, array: np.ndarray) -> Tensor:
        """Wrap an ndarray without copying or checks (internal fast path)."""
        t = object.__new__(cls)
        t._init(array)
        return t

    # attributes
    @property
    def data(self) -> Tensor:
        """A tensor sharing this tensor's storage, outside the graph (as in PyTorch).

        In-place changes through it (``p.data.add_(1)``) change this tensor without being
        recorded or version-checked; ``t.data = other`` swaps the storage. The NumPy array
        is ``t.numpy()`` (or ``numpy.asarray(t)``).
        """
        return Tensor._from_array(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"data: assigned value must be a Tensor, got {type(value).__name__}; "
                "use ag.tensor(...) or ag.from_numpy(...)"
            )
        self._data = value._data
        self._version_counter[0] += 1

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> builtins.int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> _Device:
        """The device holding the data: always ``device(type='cpu')`` in graphgrad."""
        return _CPU

    @property
    def is_cuda(self) -> builtins.bool:
        """Whether the tensor is on a CUDA device: never."""
        return False

    @property
    def requires_grad(self) -> builtins.bool:
        return self._requires_grad or self._grad_fn is not None

    @requires_grad.setter
    def requires_grad(self, flag: builtins.bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: builtins.bool = True) -> Tensor:
        """Set whether this leaf records operations for gradients; returns self."""
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf tensors; use .detach() to "
                    "get a tensor that does not require grad"
                )
            return self
        if requires_grad and not _dtypes.is_floating(self._data.dtype):
            raise RuntimeError(
                f"only floating-point tensors can require gradients (got dtype "
                f"{self._data.dtype}); convert with .float() or .double() first"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (a Tensor), or None before any backward.

        Reading it on a non-leaf that did not call ``retain_grad()`` warns, as in PyTorch.
        """
        if self._grad is None and self._grad_fn is not None and not self._retains_grad:
            import warnings

            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during backward(); call "
                ".retain_grad() on the non-leaf Tensor if you want its gradient, or access "
                "the leaf Tensor instead",
                UserWarning,
                stacklevel=2,
            )
            return None
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad must be a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"assigned grad has shape {tuple(value.shape)} but the tensor has shape "
                    f"{tuple(self.shape)}"
                )
        self._grad = value

    @property
    def grad_fn(self) -> Any:
        """The node that created this tensor (None for leaves)."""
        return self._grad_fn

    @property
    def is_leaf(self) -> builtins.bool:
        return self._grad_fn is None

    @property
    def _version(self) -> builtins.int:
        return self._version_counter[0]

    @property
    def T(self) -> Tensor:
        """All dims reversed (PyTorch's ``T``)."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped (batched matrix transpose)."""
        if self.ndim < 2:
            raise RuntimeError(f"mT: expected a tensor with at least 2 dims, got shape {self.shape}")
        return self.transpose(-2, -1)

    # plain methods
    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of one dim."""
        if dim is None:
            return self._data.shape
        from .ops._shapes import normalize_dim

        return self._data.shape[normalize_dim(dim, self.ndim, op="size")]

    def dim(self) -> builtins.int:
        """The number of dims."""
        return self._data.ndim

    def numel(self) -> builtins.int:
        """The number of elements."""
        return int(self._data.size)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"item: a Tensor with {self._data.size} elements cannot be converted to a Python "
                f"number (shape {tuple(self.shape)})"
            )
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared); an error if the tensor requires grad, as in PyTorch."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a Tensor that requires grad; use "
                "tensor.detach().numpy()"
            )
        return self._data

    def tolist(self) -> Any:
        """The data as nested Python lists (a number for 0-d)."""
        return self._data.tolist()

    def detach(self) -> Tensor:
        """A tensor sharing this data, cut from the graph."""
        t = Tensor._from_array(self._data)
        t._version_counter = self._version_counter
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place."""
        self._grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self._grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad: can't retain_grad on a Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        node = self._grad_fn
        if node.retain_refs is None:
            node.retain_refs = {}
        node.retain_refs[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    @property
    def retains_grad(self) -> builtins.bool:
        return self._retains_grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new grad.

        Example:
            >>> import autograd as ag
            >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
            >>> handle = x.register_hook(lambda g: g * 2)
            >>> x.sum().backward(); x.grad
            tensor([2., 2.])
            >>> handle.remove()
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        else:
            node = self._grad_fn
            if node.tensor_hooks is None:
                node.tensor_hooks = {}
            hooks = node.tensor_hooks.setdefault(self._output_nr, {})
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: builtins.bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        A non-scalar tensor needs ``gradient`` (the vector of the vector-Jacobian product).
        """
        run = _ENGINE_BACKWARD[0] or _engine_backward()
        run(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    # dtype conversion
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """Convert to a dtype and/or device: ``to(ag.float64)``, ``to('cpu')``, ``to(other)``.

        As PyTorch: ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` and the keywords
        ``dtype``, ``device``, ``non_blocking``, ``copy`` (a new tensor even when nothing
        changes). Devices other than the CPU raise a RuntimeError.
        """
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        flags: list[builtins.bool] = []
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, _Device) or (
                isinstance(arg, str) and arg.partition(":")[0] in _DEVICE_TYPES
            ):
                device = arg
            elif isinstance(arg, builtins.bool):
                flags.append(arg)  # to(dtype, non_blocking, copy) positionally
            elif isinstance(arg, builtins.int):
                device = arg  # an accelerator index: refused below
            elif arg is not None:
                dtype = arg
        _check_device(device, "Tensor.to")
        copy = copy or (len(flags) > 1 and flags[1])
        result = self
        if dtype is not None and _dtypes.to_dtype(dtype) != self._data.dtype:
            from .ops.elementwise import to_dtype

            result = to_dtype(self, dtype=_dtypes.to_dtype(dtype))
        if copy and result is self:
            result = self.clone()
        return result

    def astype(self, dtype: Any) -> Tensor:
        """Same as ``to(dtype)``."""
        return self.to(dtype)

    def type(self, dtype: Any = None) -> Any:
        """Convert to ``dtype``, or return the type name when called without one."""
        if dtype is None:
            return f"{self._data.dtype}"
        return self.to(dtype)

    def float(self) -> Tensor:
        """Convert to float32."""
        return self.to(_dtypes.float32)

    def double(self) -> Tensor:
        """Convert to float64."""
        return self.to(_dtypes.float64)

    def long(self) -> Tensor:
        """Convert to int64."""
        return self.to(_dtypes.int64)

    def int(self) -> Tensor:
        """Convert to int32."""
        return self.to(_dtypes.int32)

    def bool(self) -> Tensor:
        """Convert to bool."""
        return self.to(_dtypes.bool)

    def half(self) -> Tensor:
        """Convert to float16."""
        return self.to(_dtypes.float16)

    def cpu(self) -> Tensor:
        """Return self (everything is on the CPU)."""
        return self

    def cuda(self, device: Any = None, non_blocking: builtins.bool = False) -> Tensor:
        """Move to a CUDA device: graphgrad has none, so this raises a RuntimeError."""
        if device is None or isinstance(device, builtins.int):
            device = "cuda" if device is None else f"cuda:{device}"
        _check_device(device, "Tensor.cuda")
        return self

    def is_floating_point(self) -> builtins.bool:
        """Whether the dtype is floating-point."""
        return _dtypes.is_floating(self._data.dtype)

    def element_size(self) -> builtins.int:
        """Bytes per element."""
        return int(self._data.itemsize)

    def data_ptr(self) -> builtins.int:
        """Return the address of the first element (0 for an empty tensor, as in PyTorch).

        Tensors sharing storage at the same offset (``t.data``, ``detach()``, ``view``) have the
        same pointer; a view starting further in (``t[1:]``) has a larger one.
        """
        return int(self._data.ctypes.data) if self._data.size else 0

    def contiguous(self) -> Tensor:
        """Return self (NumPy handles memory layout)."""
        return self

    # Python protocol
    def __getitem__(self, index: Any) -> Tensor:
        return REGISTRY["getitem"](self, index=index)

    def __repr__(self) -> str:
        from ._format import format_tensor

        return format_tensor(self)

    # Identity, as PyTorch (``==`` is elementwise); object's own, so dicts keyed by parameters
    # (optimizer state) hash without a Python call.
    __hash__ = object.__hash__

    def __len__(self) -> builtins.int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> builtins.bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous (shape "
                f"{tuple(self.shape)}); use .any() or .all()"
            )
        return bool(self._data)

    def __float__(self) -> builtins.float:
        self._check_scalar("float")
        return float(self._data.item())

    def __int__(self) -> builtins.int:
        self._check_scalar("int")
        return int(self._data.item())

    def _check_scalar(self, kind: str) -> None:
        if self._data.size != 1:  # a ValueError here, as PyTorch (item() raises RuntimeError)
            raise ValueError(
                f"{kind}(): only one element tensors can be converted to Python scalars (got "
                f"shape {tuple(self.shape)})"
            )

    def __index__(self) -> builtins.int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None:
            return self._data.astype(dtype, copy=False)
        return self._data

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self._data.item(), spec)
        return repr(self)

    def __getstate__(self) -> dict:
        return {"data": self._data, "requires_grad": self._requires_grad, "grad": self._grad}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["data"], requires_grad=state["requires_grad"])  # type: ignore[misc]
        self._grad = state["grad"]

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self._grad_fn is not None:
            raise RuntimeError(
                "deepcopy: only leaf tensors (created by the user) support deepcopy; detach() first"
            )
        copied = type(self).__new__(type(self))
        Tensor.__init__(copied, np.array(self._data, copy=True), requires_grad=self._requires_grad)
        if self._grad is not None:
            copied._grad = Tensor._from_array(np.array(self._grad._data, copy=True))
        if hasattr(self, "__dict__"):
            import copy

            copied.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = copied
        return copied



_NO_OPTIONS: dict = {}

# ``engine.backward``, found on the first ``Tensor.backward`` (the engine imports this module):
# an import statement inside the method would resolve its module name on every call.
_ENGINE_BACKWARD: list[Callable[..., None] | None] = [None]


def _engine_backward() -> Callable[..., None]:
    from .engine import backward

    _ENGINE_BACKWARD[0] = backward
    return backward


def _binary(op_name: str, reflected: bool = False) -> Callable[[Tensor, Any], Tensor]:
    def method(self: Tensor, other: Any) -> Tensor:
        op = REGISTRY[op_name]
        try:
            if reflected:
                return op.call(op, (other, self), _NO_OPTIONS)
            return op.call(op, (self, other), _NO_OPTIONS)
        except TypeError:
            if not isinstance(other, (Tensor, np.ndarray, int, float, bool, list, tuple, np.generic)):
                return NotImplemented
            raise

    method.__name__ = f"__{'r' if reflected else ''}{op_name}__"
    return method


def _inplace_binary(op_name: str, public: str) -> Callable[[Tensor, Any], Tensor]:
    def method(self: Tensor, other: Any) -> Tensor:
        op = REGISTRY[op_name]
        return self._inplace(public, lambda s: op(s, other), other)

    method.__name__ = public
    return method


def _unary(op_name: str) -> Callable[[Tensor], Tensor]:
    def method(self: Tensor) -> Tensor:
        op = REGISTRY[op_name]
        return op.call(op, (self,), _NO_OPTIONS)

    return method


_OPERATORS = {
    "add": ("__add__", "__radd__", "__iadd__"),
    "sub": ("__sub__", "__rsub__", "__isub__"),
    "mul": ("__mul__", "__rmul__", "__imul__"),
    "div": ("__truediv__", "__rtruediv__", "__itruediv__"),
    "pow": ("__pow__", "__rpow__", "__ipow__"),
    "matmul": ("__matmul__", "__rmatmul__", None),
    "floor_divide": ("__floordiv__", "__rfloordiv__", None),
    "remainder": ("__mod__", "__rmod__", None),
    "logical_and": ("__and__", "__rand__", None),
    "logical_or": ("__or__", "__ror__", None),
    "logical_xor": ("__xor__", "__rxor__", None),
}
for _name, (_forward, _reflected, _in_place) in _OPERATORS.items():
    setattr(Tensor, _forward, _binary(_name))
    setattr(Tensor, _reflected, _binary(_name, reflected=True))
    if _in_place:
        setattr(Tensor, _in_place, _inplace_binary(_name, _in_place))
for _name, _dunder in {"lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__",
                       "eq": "__eq__", "ne": "__ne__"}.items():  # fmt: skip
    setattr(Tensor, _dunder, _binary(_name))
Tensor.__neg__ = _unary("neg")  # type: ignore[method-assign]
Tensor.__invert__ = _unary("logical_not")  # type: ignore[method-assign]
Tensor.__abs__ = _unary("abs")  # type: ignore[attr-defined]
Tensor.__pos__ = lambda self: self  # type: ignore[method-assign,assignment,operator]
