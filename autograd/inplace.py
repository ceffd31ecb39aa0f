"""In-place operations: ``add_``, ``mul_``, ``copy_``, ``fill_``, ``t[i] = v``, ... on Tensors.

Outside the graph (optimizers, init, anything under ``no_grad``) an in-place op is one NumPy
call writing into the tensor's array. When it must be recorded, it is computed out of place
from a snapshot of the tensor, which then takes over the result's data and history; a view
writes its new value into its base. Every in-place change bumps the version counter that
saved tensors check, so backward through a value changed after it was saved raises.
"""

from __future__ import annotations

import builtins
from typing import Any, Callable

import numpy as np

from .dispatch import quiet_numpy
from .grad_mode import is_grad_enabled, no_grad
from .registry import REGISTRY
from .tensor import Tensor

# Everything else is a Tensor method, attached below; these two are also torch functions.
__all__ = ["fill_", "zero_"]


def _check_inplace(self: Tensor, op: str) -> None:
    if not is_grad_enabled():
        return
    if self._grad_fn is None and self._requires_grad:
        raise RuntimeError(
            f"{op}: a leaf Tensor that requires grad is being used in an in-place operation; "
            "wrap it in ag.no_grad() (as optimizers do) or use the out-of-place form"
        )
    base = self._view_from
    while base is not None:
        parent = base[0]
        if parent._grad_fn is None and parent._requires_grad:
            raise RuntimeError(
                f"{op}: a view of a leaf Tensor that requires grad is being used in an in-place "
                f"operation (view of shape {tuple(self.shape)} made by {base[1].name} from a "
                f"leaf of shape {tuple(parent.shape)}); wrap it in ag.no_grad() or clone() first"
            )
        base = parent._view_from


def _writable(self: Tensor, op: str) -> np.ndarray:
    """The array to write into; an expanded tensor can't be written (its elements overlap)."""
    array = self._data
    if not array.flags.writeable:
        if any(stride == 0 and size > 1 for stride, size in zip(array.strides, array.shape)):
            raise RuntimeError(
                f"{op}: unsupported operation: more than one element of the written-to tensor "
                f"(shape {tuple(array.shape)}, an expanded view) refers to a single memory "
                "location; clone() the tensor before performing the operation"
            )
        array = self._data = np.array(array)  # a read-only array the user gave us
    return array


def _records(self: Tensor, others: tuple) -> bool:
    return is_grad_enabled() and (
        self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others)
    )


def _inplace(self: Tensor, op: str, compute: Callable[[Tensor], Tensor], *others: Any) -> Tensor:
    """Run ``compute`` as an in-place update of self, recording it when needed."""
    _check_inplace(self, op)
    if not _records(self, others):
        with no_grad():
            result = compute(self)
        _check_shape(self, op, result._data.shape)
        target = _writable(self, op)
        if not np.can_cast(result._data.dtype, target.dtype, casting="same_kind"):
            raise RuntimeError(
                f"{op}: result type {result._data.dtype} can't be cast to the desired output "
                f"type {target.dtype}"
            )
        np.copyto(target, result._data, casting="unsafe")
        self._version_counter[0] += 1
        return self
    # Recorded: compute from a snapshot of self, then take over the result's history.
    before = Tensor._from_array(self._data)
    before._grad_fn, before._output_nr = self._grad_fn, self._output_nr
    before._requires_grad = self._requires_grad
    before._version_counter = [self._version_counter[0]]
    result = compute(before)
    _check_shape(self, op, result._data.shape)
    if result._data.dtype != self._data.dtype:
        result = result.to(self._data.dtype)
    _take_history(self, op, result)
    return self


def _take_history(self: Tensor, op: str, result: Tensor) -> None:
    """Become ``result`` (data and graph); a view writes its new value into its base first."""
    if self._view_from is not None:
        parent, spec, options = self._view_from
        _take_history(parent, op, _write_into_parent(op, self, parent, spec, options, result))
        result = spec(parent, **options)  # the same view of the updated parent
    self._data = result._data
    self._grad_fn = result._grad_fn
    self._output_nr = result._output_nr
    self._view_from = result._view_from
    # Nodes that saved the old self see the bump; later saves share the result's counter.
    self._version_counter[0] += 1
    self._version_counter = result._version_counter


def _write_into_parent(op: str, view: Tensor, parent: Tensor, spec: Any, options: dict,
                       value: Tensor) -> Tensor:  # fmt: skip
    """The parent's new value after its view (made by ``spec``) was replaced by ``value``."""
    if spec.name == "getitem":
        return REGISTRY["index_put"](parent, value, index=options["index"])
    if spec.name == "reshape":
        return value.reshape(parent.shape)
    if spec.name == "permute":
        return value.permute(*np.argsort(options["dims"]).tolist())
    if spec.name == "diagonal":
        # The base with its diagonal replaced: x.diagonal().zero_(), as PyTorch's CopySlices.
        embed = REGISTRY["diagonal_scatter_zeros"]
        on_diagonal = embed(Tensor._from_array(np.ones(view.shape, bool)), shape=parent.shape,
                            **options)  # fmt: skip
        return REGISTRY["where"](on_diagonal, embed(value, shape=parent.shape, **options), parent)
    # PyTorch's CopySlices covers every view; here the others (expand, ...) are refused rather
    # than leaving the base silently unchanged.
    raise RuntimeError(
        f"{op}: in-place operation on a view made by {spec.name} (shape {tuple(view.shape)} of a "
        f"tensor of shape {tuple(parent.shape)}) while recording gradients is not supported; "
        "use an out-of-place op, or clone() the view first"
    )


def _check_shape(self: Tensor, op: str, shape: tuple) -> None:
    if shape != self._data.shape:
        raise RuntimeError(
            f"{op}: output with shape {tuple(self._data.shape)} doesn't match the broadcast "
            f"shape {tuple(shape)}; an in-place op can't change the shape of its tensor"
        )


def _arithmetic(op: str, ufunc: np.ufunc, name: str) -> Callable[..., Tensor]:
    """An in-place ``self = self <op> alpha * other``: one NumPy call outside the graph."""

    def method(self: Tensor, other: Any, alpha: builtins.float = 1) -> Tensor:
        if _records(self, (other,)):
            spec = REGISTRY[name]
            if alpha == 1:
                return _inplace(self, op, lambda s: spec(s, other), other)
            return _inplace(self, op, lambda s: spec(s, alpha * other), other)
        _check_inplace(self, op)
        value = other._data if isinstance(other, Tensor) else other
        if alpha != 1:
            value = np.multiply(value, alpha)
        target = _writable(self, op)
        try:
            with quiet_numpy():
                ufunc(target, value, out=target, casting="same_kind")
        except TypeError:
            result = np.result_type(target, value)
            raise RuntimeError(
                f"{op}: result type {result} can't be cast to the desired output type "
                f"{target.dtype}"
            ) from None
        except ValueError:
            shape = np.broadcast_shapes(target.shape, np.shape(value))
            _check_shape(self, op, shape)
            raise
        self._version_counter[0] += 1
        return self

    method.__name__ = op
    method.__doc__ = f"In place: ``self = self {ufunc.__name__} alpha * other``."
    return method


def pow_(self: Tensor, exponent: Any) -> Tensor:
    """In place: ``self **= exponent``."""
    return _inplace(self, "pow_", lambda s: s**exponent, exponent)


def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """In place: clamp to ``[min, max]``."""
    return _inplace(self, "clamp_", lambda s: s.clamp(min, max))


def neg_(self: Tensor) -> Tensor:
    """In place: negate."""
    return _inplace(self, "neg_", lambda s: -s)


def sqrt_(self: Tensor) -> Tensor:
    """In place: square root."""
    return _inplace(self, "sqrt_", lambda s: s.sqrt())


def exp_(self: Tensor) -> Tensor:
    """In place: exponential."""
    return _inplace(self, "exp_", lambda s: s.exp())


def zero_(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """Fill with zeros in place and return the tensor, as ``torch.zero_`` / ``Tensor.zero_``.

    Example:
        >>> import autograd as ag
        >>> ag.zero_(ag.ones(2))
        tensor([0., 0.])
    """
    return _fill(input, 0, "zero_")


def fill_(input: Tensor, value: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """Fill with ``value`` in place and return the tensor, as ``torch.fill_`` / ``Tensor.fill_``.

    Example:
        >>> import autograd as ag
        >>> ag.fill_(ag.zeros(2), 3.0)
        tensor([3., 3.])
    """
    return _fill(input, value, "fill_")


def _fill(input: Tensor, value: Any, op: str) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):  # reached only through ag.zero_ / ag.fill_
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            f"{op}: the value must be a 0-dimensional tensor or a number, got a tensor of shape "
            f"{tuple(value.shape)}; pass value.item() or index it"
        )
    _check_inplace(input, op)
    if _records(input, (value,)):
        # Recorded (as PyTorch's FillBackward): the old values get a zero gradient, a value
        # tensor the sum of the gradient, and a view writes into its base's history.
        return _inplace(input, op, lambda s: _filled(s, value), value)
    fill = value._data if isinstance(value, Tensor) else value
    _writable(input, op)[...] = fill
    input._version_counter[0] += 1
    return input


def _filled(s: Tensor, value: Any) -> Tensor:
    everywhere = Tensor._from_array(np.ones(s.shape, dtype=bool))
    if not isinstance(value, Tensor):
        value = Tensor._from_array(np.asarray(value, dtype=s.dtype))
    return REGISTRY["where"](everywhere, value.to(s.dtype), s)


def copy_(self: Tensor, src: Any) -> Tensor:
    """Copy ``src`` into self in place (broadcasting ``src``)."""
    _check_inplace(self, "copy_")
    if is_grad_enabled() and isinstance(src, Tensor) and src.requires_grad:
        return _inplace(self, "copy_", lambda s: s * 0 + src.to(s.dtype), src)
    array = src._data if isinstance(src, Tensor) else np.asarray(src)
    try:
        np.broadcast_to(array, self._data.shape)
    except ValueError:
        raise RuntimeError(
            f"copy_: the source of shape {tuple(array.shape)} can't be broadcast to the "
            f"destination of shape {tuple(self.shape)}"
        ) from None
    np.copyto(_writable(self, "copy_"), array, casting="unsafe")
    self._version_counter[0] += 1
    return self


def uniform_(self: Tensor, a: builtins.float = 0.0, b: builtins.float = 1.0) -> Tensor:
    """Fill in place from U(a, b), drawn from the generator ``manual_seed`` seeds."""
    from .random import default_generator

    return _fill_random(self, "uniform_", default_generator().uniform(a, b, self.shape))


def normal_(self: Tensor, mean: builtins.float = 0.0, std: builtins.float = 1.0) -> Tensor:
    """Fill in place from N(mean, std^2), drawn from the generator ``manual_seed`` seeds."""
    from .random import default_generator

    return _fill_random(self, "normal_", default_generator().normal(mean, std, self.shape))


def bernoulli_(self: Tensor, p: builtins.float = 0.5) -> Tensor:
    """Fill in place with 1 (probability p) or 0."""
    from .random import default_generator

    return _fill_random(self, "bernoulli_", default_generator().random(self.shape) < p)


def _fill_random(self: Tensor, op: str, values: np.ndarray) -> Tensor:
    _check_inplace(self, op)
    _writable(self, op)[...] = values
    self._version_counter[0] += 1
    return self


def setitem(self: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value``, recorded on the graph when ``t`` or ``value`` requires grad."""
    from .ops.index import _indexed, _normalize_index

    _check_inplace(self, "setitem")
    key = _normalize_index(index)
    if _records(self, (value,)):
        index_put = REGISTRY["index_put"]
        _inplace(self, "setitem", lambda s: index_put(s, value, index=key), value)
        return
    array = value._data if isinstance(value, Tensor) else value
    target = _writable(self, "setitem")
    try:
        view, key = _indexed(target, key)  # PyTorch's order for ints mixed with arrays
        view[key] = array
    except IndexError as error:
        raise IndexError(f"setitem: {error} (tensor shape {tuple(self.shape)})") from None
    except ValueError as error:
        raise RuntimeError(f"setitem: {error} (tensor shape {tuple(self.shape)})") from None
    self._version_counter[0] += 1


_METHODS: dict[str, Callable[..., Any]] = {
    "add_": _arithmetic("add_", np.add, "add"),
    "sub_": _arithmetic("sub_", np.subtract, "sub"),
    "mul_": _arithmetic("mul_", np.multiply, "mul"),
    "div_": _arithmetic("div_", np.true_divide, "div"),
    "pow_": pow_, "clamp_": clamp_, "neg_": neg_, "sqrt_": sqrt_, "exp_": exp_,
    "zero_": zero_, "fill_": fill_, "copy_": copy_, "uniform_": uniform_, "normal_": normal_,
    "bernoulli_": bernoulli_, "__setitem__": setitem,
    "_inplace": _inplace,
}  # fmt: skip
for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)
