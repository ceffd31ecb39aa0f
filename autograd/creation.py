"""Tensor construction: ``tensor`` and the factories (zeros, ones, arange, rand, ...)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import dtypes as _dtypes
from .device import check_device
from .random import default_generator
from .tensor import Tensor


def _as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert ``data`` to an ndarray with PyTorch's dtype rules (a copy, as ``torch.tensor``)."""
    if isinstance(data, Tensor):
        array = data._data
        return array.astype(_dtypes.to_dtype(dtype)) if dtype is not None else array.copy()
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flatten(data)):
        data = _unwrap(data)
    try:
        target = _dtypes.to_dtype(dtype) if dtype is not None else _dtypes.infer_dtype(data)
        if target.kind in "OUSV":
            raise TypeError(f"dtype {target}")
        return np.array(data, dtype=target)
    except (ValueError, TypeError) as error:
        _explain_bad_data(data)
        raise TypeError(f"tensor: can't convert {type(data).__name__} data to a tensor ({error})") from None


def _explain_bad_data(data: Any) -> None:
    """Raise PyTorch's error (type and wording) for data that makes no tensor: strings, objects
    and ragged nesting, which NumPy reports as an inhomogeneous shape."""
    if isinstance(data, (str, bytes)):
        raise TypeError(f"tensor: invalid data type '{type(data).__name__}'")
    for leaf in _flatten(data):
        if isinstance(leaf, (str, bytes)):
            raise ValueError(f"tensor: too many dimensions '{type(leaf).__name__}' (strings can't "
                             "be tensor elements)")  # fmt: skip
        if not isinstance(leaf, (int, float, complex, np.generic, np.ndarray)):
            raise RuntimeError(f"tensor: could not infer dtype of {type(leaf).__name__}")
    sizes, item = [], data
    while _is_sequence(item):
        sizes.append(len(item))
        if not len(item):
            break
        item = item[0]
    _check_nesting(data, sizes, 0)


def _is_sequence(item: Any) -> bool:
    return isinstance(item, (list, tuple)) or (isinstance(item, np.ndarray) and item.ndim > 0)


def _check_nesting(item: Any, sizes: list[int], dim: int) -> None:
    if dim == len(sizes):
        if _is_sequence(item):
            raise TypeError(f"tensor: expected a number at dim {dim}, got a sequence of length "
                            f"{len(item)} (ragged nesting)")  # fmt: skip
        return
    if not _is_sequence(item):
        raise TypeError(f"tensor: expected a sequence at dim {dim}, got {type(item).__name__} "
                        "(ragged nesting)")  # fmt: skip
    if len(item) != sizes[dim]:
        raise ValueError(f"tensor: expected sequence of length {sizes[dim]} at dim {dim} (got "
                         f"{len(item)})")  # fmt: skip
    for element in item:
        _check_nesting(element, sizes, dim + 1)


def _flatten(data: Any) -> list:
    out, stack = [], [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            out.append(item)
    return out


def _unwrap(data: Any) -> Any:
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_unwrap(x) for x in data]
    return data


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Create a tensor from data (copied), with PyTorch's dtype rules.

    Example:
        >>> import autograd as ag
        >>> ag.tensor([1.0, 2.0]).dtype, ag.tensor([1, 2]).dtype
        (dtype('float32'), dtype('int64'))
    """
    check_device(device, "tensor")
    return Tensor(_as_array(data, dtype), requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Return ``data`` if it is already a Tensor of ``dtype``, otherwise convert it."""
    check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _dtypes.to_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and dtype is None:
        return Tensor._from_array(data)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap an ndarray without copying: the tensor and the array share memory."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._from_array(array)


def _shape(size: Sequence[Any], op: str) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list, np.ndarray)):
        size = tuple(size[0])
    try:
        shape = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"{op}: size must be ints or a tuple of ints, got {size!r}") from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{op}: negative dimension in size {shape}")
    return shape


def _factory(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._from_array(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype: Any) -> np.dtype:
    return _dtypes.get_default_dtype() if dtype is None else _dtypes.to_dtype(dtype)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    check_device(device, "zeros")
    return _factory(np.zeros(_shape(size, "zeros"), _float_dtype(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ones."""
    check_device(device, "ones")
    return _factory(np.ones(_shape(size, "ones"), _float_dtype(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """An uninitialised tensor (zeros here, so nothing random leaks in)."""
    check_device(device, "empty")
    return _factory(np.zeros(_shape(size, "empty"), _float_dtype(dtype)), requires_grad)


def full(
    size: Sequence[int], fill_value: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype is inferred from the value)."""
    check_device(device, "full")
    target = _dtypes.infer_dtype(fill_value) if dtype is None else _dtypes.to_dtype(dtype)
    return _factory(np.full(_shape((size,), "full"), fill_value, target), requires_grad)


def _like(t: Any, dtype: Any) -> tuple[tuple, np.dtype]:
    source = t if isinstance(t, Tensor) else tensor(t)
    return source.shape, source.dtype if dtype is None else _dtypes.to_dtype(dtype)


def zeros_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Zeros with the shape (and dtype) of ``t``."""
    check_device(device, "zeros_like")
    shape, target = _like(t, dtype)
    return _factory(np.zeros(shape, target), requires_grad)


def ones_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Ones with the shape (and dtype) of ``t``."""
    check_device(device, "ones_like")
    shape, target = _like(t, dtype)
    return _factory(np.ones(shape, target), requires_grad)


def empty_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """An uninitialised tensor (zeros) with the shape of ``t``."""
    check_device(device, "empty_like")
    return zeros_like(t, dtype, requires_grad)


def full_like(
    t: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """``fill_value`` everywhere, with the shape (and dtype) of ``t``."""
    check_device(device, "full_like")
    shape, target = _like(t, dtype)
    return _factory(np.full(shape, fill_value, target), requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive); int64 unless a bound or step is a float."""
    check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = _dtypes.int64 if is_int else _dtypes.get_default_dtype()
    return _factory(np.arange(start, end, step, dtype=_dtypes.to_dtype(dtype)), requires_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    check_device(device, "linspace")
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    return _factory(np.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad)


def eye(
    n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """The identity matrix (n x m)."""
    check_device(device, "eye")
    return _factory(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(
    *size: Any,
    dtype: Any = None,
    requires_grad: bool = False,
    generator: Any = None,
    device: Any = None,
) -> Tensor:
    """Uniform samples in [0, 1)."""
    check_device(device, "rand")
    rng = generator or default_generator()
    array = rng.random(_shape(size, "rand")).astype(_float_dtype(dtype), copy=False)
    return _factory(array, requires_grad)


def randn(
    *size: Any,
    dtype: Any = None,
    requires_grad: bool = False,
    generator: Any = None,
    device: Any = None,
) -> Tensor:
    """Standard normal samples."""
    check_device(device, "randn")
    rng = generator or default_generator()
    array = rng.standard_normal(_shape(size, "randn")).astype(_float_dtype(dtype), copy=False)
    return _factory(array, requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Sequence[int] = (),
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` also works)."""
    check_device(device, "randint")
    if high is None:
        low, high = 0, low
    elif isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    target = _dtypes.int64 if dtype is None else _dtypes.to_dtype(dtype)
    array = default_generator().integers(low, high, tuple(size)).astype(target)
    return _factory(array, requires_grad)


def rand_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Uniform samples with the shape (and dtype) of ``t``."""
    check_device(device, "rand_like")
    shape, target = _like(t, dtype)
    return rand(shape, dtype=target, requires_grad=requires_grad)


def randn_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Standard normal samples with the shape (and dtype) of ``t``."""
    check_device(device, "randn_like")
    shape, target = _like(t, dtype)
    return randn(shape, dtype=target, requires_grad=requires_grad)


def randperm(
    n: int, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A random permutation of ``0..n-1``."""
    check_device(device, "randperm")
    target = _dtypes.int64 if dtype is None else _dtypes.to_dtype(dtype)
    return _factory(default_generator().permutation(n).astype(target), requires_grad)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Any = None) -> Tensor:  # fmt: skip
    """Draw category indices from each row of (unnormalised) probabilities.

    Without replacement every category is drawn at most once, in the order of an exponential
    race (successive sampling, as PyTorch's CPU kernel); once the positive-probability ones
    are used up, zero-probability categories follow. ``generator`` is accepted for PyTorch
    compatibility; draws come from the generator ``manual_seed`` seeds.

    Example:
        >>> import autograd as ag
        >>> ag.multinomial(ag.tensor([0.0, 1.0, 0.0]), 1)
        tensor([1])
    """
    array = input._data if isinstance(input, Tensor) else np.asarray(input)
    if array.dtype.kind != "f":
        raise RuntimeError(f"multinomial: only supports floating-point dtypes for input, got: "
                           f"{_dtypes.torch_name(array.dtype)}")  # fmt: skip
    if array.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {array.shape}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {num_samples})")
    if not replacement and num_samples > array.shape[-1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           f"without replacement ({num_samples} > {array.shape[-1]})")  # fmt: skip
    p = np.atleast_2d(array).astype(np.float64)
    if (p < 0).any() or not np.isfinite(p).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")  # fmt: skip
    if (p.sum(-1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities "
                           "<= 0)")  # fmt: skip
    p = p / p.sum(-1, keepdims=True)
    rng = default_generator()
    if replacement:
        rows = [rng.choice(p.shape[1], size=num_samples, replace=True, p=row) for row in p]
        out = np.array(rows, dtype=np.int64)
    else:
        keys = p / rng.exponential(size=p.shape)
        out = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples].astype(np.int64)
    return Tensor._from_array(out[0] if array.ndim == 1 else out)


def _new_dtype(self: Tensor, dtype: Any) -> np.dtype:
    return self.dtype if dtype is None else _dtypes.to_dtype(dtype)


def new_zeros(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Zeros of ``size``, with this tensor's dtype unless ``dtype`` is given.

    Example:
        >>> import autograd as ag
        >>> ag.tensor([1, 2]).new_zeros(2, 3).dtype
        dtype('int64')
    """
    check_device(device, "new_zeros")
    return _factory(np.zeros(_shape(size, "new_zeros"), _new_dtype(self, dtype)), requires_grad)


def new_ones(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Ones of ``size``, with this tensor's dtype unless ``dtype`` is given."""
    check_device(device, "new_ones")
    return _factory(np.ones(_shape(size, "new_ones"), _new_dtype(self, dtype)), requires_grad)


def new_empty(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:  # fmt: skip
    """An uninitialised (here: zero) tensor of ``size``, with this tensor's dtype."""
    check_device(device, "new_empty")
    return _factory(np.zeros(_shape(size, "new_empty"), _new_dtype(self, dtype)), requires_grad)


def new_full(self: Tensor, size: Sequence[int], fill_value: Any, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``size`` filled with ``fill_value``, with this tensor's dtype unless ``dtype`` is given."""
    check_device(device, "new_full")
    array = np.full(_shape((size,), "new_full"), fill_value).astype(_new_dtype(self, dtype))
    return _factory(array, requires_grad)


def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A copy of ``data`` with this tensor's dtype unless ``dtype`` is given (outside the graph)."""
    check_device(device, "new_tensor")
    if isinstance(data, Tensor):
        import warnings

        warnings.warn("new_tensor: to copy construct from a tensor, use "
                      "sourceTensor.detach().clone() (as PyTorch recommends)", UserWarning,
                      stacklevel=2)  # fmt: skip
        data = data._data
    return _factory(np.array(_as_array(data, _new_dtype(self, dtype)), copy=True), requires_grad)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    """This tensor converted to ``other``'s dtype (itself if it already has it)."""
    return self.to(other.dtype)


def _multinomial_method(self: Tensor, num_samples: int, replacement: bool = False, *,
                        generator: Any = None) -> Tensor:  # fmt: skip
    """``ag.multinomial(self, ...)``."""
    return multinomial(self, num_samples, replacement, generator=generator)


for _method in (new_zeros, new_ones, new_empty, new_full, new_tensor, type_as):
    setattr(Tensor, _method.__name__, _method)
Tensor.multinomial = _multinomial_method  # type: ignore[attr-defined]
