"""Calling a primitive: inputs to arrays, PyTorch's dtype promotion, the forward, the node.

The common call (tensor inputs of one dtype, default options) does the minimum: no argument
binding, no promotion, no pre-checks. NumPy's own errors are caught and translated into
messages that name the op, the shapes and the dtypes; floating-point warnings are silenced
once per region (a module's forward, a backward, an optimizer step: ``_fperrors``) or else
per call.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import _fperrors, _keywords, anomaly
from .anomaly import _state as _anomaly_state
from .dtypes import infer_dtype, result_type
from .grad_mode import _state as _grad_state
from .graph import PrimitiveNode
from .registry import OpSpec
from .tensor import Tensor
from .tracing import TRACE, creation_trace

_new = object.__new__


def _wrap(array: np.ndarray, _tensor: type = Tensor) -> Tensor:
    """A new Tensor around ``array`` (the hot-path twin of ``Tensor._from_array``)."""
    t: Tensor = _new(_tensor)
    t._data = array
    t._requires_grad = False
    t._grad = None
    t._grad_fn = None
    t._output_nr = 0
    t._version_counter = [0]
    t._hooks = None
    t._retains_grad = False
    t._view_from = None
    return t


_ERRORS = _fperrors.ERRORS
_IGNORE = _fperrors.IGNORE
quiet_numpy = _fperrors.quiet_numpy


_QUIET = _fperrors.QUIET


def _quiet_forward(spec: OpSpec, arrays: list, options: dict) -> Any:
    """The forward with NumPy's floating-point warnings silenced by setting NumPy's state for
    the call (where the shared quiet context cannot be entered: NumPy 1.x, another thread)."""
    if _ERRORS is None:  # pragma: no cover - NumPy 1.x
        with np.errstate(all="ignore"):
            return spec.forward(*arrays, **options)
    token = _ERRORS.set(_IGNORE)
    try:
        return spec.forward(*arrays, **options)
    finally:
        _ERRORS.reset(token)


def call_primitive(spec: OpSpec, args: tuple, kwargs: dict, bound: dict | None = None) -> Any:
    """Run ``spec`` on ``args``: the forward on arrays, then a node if a gradient is needed.

    ``bound`` is for library wrappers that checked their arguments already (``F.cross_entropy``):
    ``args`` are then Tensors of one dtype and ``bound`` the complete options, so nothing is
    bound, converted or promoted.
    """
    arrays: list[Any] | None = None
    inputs: Sequence[Tensor | None] = args
    options = spec.option_defaults
    n = len(args)
    if bound is not None:
        options = bound
        arrays = [t._data for t in args]
    elif spec.plain and n == spec.simple_arity and not kwargs:
        # The common call, ``x * y``, ``x * 0.5`` or ``x.tanh()`` on float tensors of one
        # dtype: nothing to bind, convert, promote or check before the forward.
        if n == 2:
            x, y = args
            if isinstance(x, Tensor):
                xa = x._data
                if isinstance(y, Tensor):
                    if xa.dtype == y._data.dtype:
                        arrays = [xa, y._data]
                elif (type(y) is float or type(y) is int) and xa.dtype.kind == "f":
                    arrays = [xa, _constant(y, xa.dtype)]
                    inputs = (x, None)
            elif isinstance(y, Tensor) and (type(x) is float or type(x) is int):
                ya = y._data
                if ya.dtype.kind == "f":
                    arrays = [_constant(x, ya.dtype), ya]
                    inputs = (None, y)
        elif n == 1:
            if isinstance(args[0], Tensor):
                arrays = [args[0]._data]
        elif n == 3:  # a linear layer's bias, input and weight
            x, y, z = args
            if isinstance(x, Tensor) and isinstance(y, Tensor) and isinstance(z, Tensor):
                xa, ya, za = x._data, y._data, z._data
                if xa.dtype == ya.dtype == za.dtype:
                    arrays = [xa, ya, za]
        else:
            arrays = []
            for value in args:
                if not isinstance(value, Tensor):
                    arrays = None
                    break
                arrays.append(value._data)
            if arrays is not None:
                first = arrays[0].dtype
                for array in arrays:
                    if array.dtype != first:
                        arrays = None
                        break
    if arrays is None:
        if kwargs and not spec.torch_keywords.isdisjoint(kwargs):  # out=, alpha=, input=, ...
            return _keywords.call(spec, args, kwargs, call_primitive)
        inputs, arrays, options = _prepare(spec, args, kwargs)
    failure: Exception | None = None
    try:
        if spec.exact or (_ERRORS is not None and _ERRORS.get() is _IGNORE):
            out_array = spec.forward(*arrays, **options) if options else spec.forward(*arrays)
        elif _QUIET is not None:
            # Outside any quiet region (a loss written in the training loop): the forward runs
            # in a context where NumPy's warnings are off; entering it costs almost nothing.
            out_array = _QUIET.run(spec.forward, *arrays, **options)
        else:  # pragma: no cover - NumPy 1.x
            out_array = _quiet_forward(spec, arrays, options)
    except (RuntimeError, IndexError, TypeError, ValueError) as error:
        failure = error
        if type(error) is RuntimeError and str(error).startswith("cannot enter context"):
            # Another thread is running a forward in the quiet context: set the state instead.
            failure = None
            try:
                out_array = _quiet_forward(spec, arrays, options)
            except (RuntimeError, IndexError, TypeError, ValueError) as again:
                failure = again
    if failure is not None:
        translated = _translate(spec, failure, arrays, options)
        if translated is failure:
            raise failure
        raise translated from None
    residuals = None
    if spec.residuals:
        out_array, residuals = out_array
    if type(out_array) is not np.ndarray:
        out_array = np.asarray(out_array)
    out = _wrap(out_array)
    if spec.view:
        base = inputs[0]
        if base is not None and arrays[0] is base._data and np.may_share_memory(out_array, arrays[0]):
            out._version_counter = base._version_counter  # a view sees its base's changes
            out._view_from = (base, spec, options)
    if _anomaly_state.enabled:
        anomaly.check_forward(spec.name, out_array, _observed(inputs, arrays))
    if _grad_state.enabled and spec.differentiable and out_array.dtype.kind == "f":
        for t in inputs:
            if t is not None and (t._grad_fn is not None or t._requires_grad):
                node = out._grad_fn = PrimitiveNode(spec, inputs, arrays, options, out,
                                                    residuals)  # fmt: skip
                if _anomaly_state.enabled:
                    node.trace = creation_trace()
                if TRACE.node_observer is not None:
                    TRACE.node_observer(node, _observed(inputs, arrays))
                break
    if TRACE.call_observer is not None:
        TRACE.call_observer(spec, _observed(inputs, arrays), options, out)
    return out


def _prepare(spec: OpSpec, args: tuple, kwargs: dict) -> tuple[Sequence[Tensor | None], list,
                                                                 dict]:  # fmt: skip
    """The general call: bind arguments, turn inputs into arrays, check, promote."""
    options = spec.option_defaults
    if kwargs or len(args) != spec.simple_arity:
        args, options = _bind(spec, args, kwargs)
    plain = True
    arrays: list[Any] = []
    for value in args:
        if isinstance(value, Tensor):
            arrays.append(value._data)
        else:
            arrays.append(value)
            plain = False
    inputs: Sequence[Tensor | None] = args
    scalars = None
    if not plain:
        inputs = [value if isinstance(value, Tensor) else None for value in args]
        if len(arrays) != 2 or spec.promote is not True or not _scalar_fast_path(arrays):
            scalars = _to_arrays(spec, arrays)
    if spec.validate is not None:
        # Before promotion, so that a check sees the dtypes the caller passed.
        spec.validate(spec.name, *arrays, **options)
    if spec.promote and len(arrays) > 1:
        if spec.promote is not True or scalars is not None:
            _promote(spec, arrays, scalars)
        else:
            first = arrays[0].dtype
            for array in arrays:
                if array.dtype != first:
                    _promote(spec, arrays, None)
                    break
    return inputs, arrays, options


def _observed(inputs: Sequence[Tensor | None], arrays: list) -> list[Tensor]:
    """The inputs as Tensors for an observer (Python numbers as 0-d tensors)."""
    return [t if t is not None else _wrap(np.asarray(a)) for t, a in zip(inputs, arrays)]


def _bind(spec: OpSpec, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Split a call's arguments into tensor inputs and a complete options dict."""
    n_tensors = len(spec.tensor_params)
    if spec.variadic:
        values, option_args = list(args), ()
    else:
        values, option_args = list(args[:n_tensors]), args[n_tensors:]
        for name in spec.tensor_params[len(values) :]:
            if name not in kwargs:
                raise TypeError(f"{spec.name}: missing input {name!r}")
            values.append(kwargs.pop(name))
    if not option_args and not kwargs and len(spec.option_defaults) == len(spec.option_params):
        return tuple(values), spec.option_defaults  # shared, never mutated
    if len(option_args) > len(spec.option_params):
        raise TypeError(
            f"{spec.name}: takes {n_tensors} tensor input(s) and options "
            f"{spec.option_params}, got {len(args)} positional arguments"
        )
    options = dict(spec.option_defaults)
    if option_args:
        options.update(zip(spec.option_params, option_args))
    if kwargs:
        if not spec.option_names.issuperset(kwargs):
            unexpected = next(key for key in kwargs if key not in spec.option_names)
            raise TypeError(f"{spec.name}: unexpected keyword argument {unexpected!r}")
        options.update(kwargs)
    if len(options) != len(spec.option_params):
        missing = [p for p in spec.option_params if p not in options]
        raise TypeError(f"{spec.name}: missing option(s) {missing}")
    return tuple(values), options


_CONSTANTS: dict[tuple[Any, np.dtype], np.ndarray] = {}


def _constant(value: float | int, dtype: np.dtype) -> np.ndarray:
    """A read-only 0-d array of ``value`` (cached: ``x * 0.5`` in a loop converts 0.5 once)."""
    key = (value, dtype)
    array = _CONSTANTS.get(key)
    if array is None:
        if len(_CONSTANTS) >= 1024:
            _CONSTANTS.clear()
        array = np.asarray(value, dtype=dtype)
        array.flags.writeable = False
        _CONSTANTS[key] = array
    return array


def _scalar_fast_path(arrays: list) -> bool:
    """``float_tensor <op> number``: the number takes the tensor's dtype, as in PyTorch."""
    a, b = arrays
    if type(a) is np.ndarray and a.dtype.kind == "f" and type(b) in (float, int):
        arrays[1] = _constant(b, a.dtype)
        return True
    if type(b) is np.ndarray and b.dtype.kind == "f" and type(a) in (float, int):
        arrays[0] = _constant(a, b.dtype)
        return True
    return False


def _to_arrays(spec: OpSpec, arrays: list) -> dict[int, Any]:
    """Turn non-Tensor inputs into arrays; return the Python numbers among them by position
    (they rank lowest in promotion)."""
    scalars: dict[int, Any] = {}
    for i, value in enumerate(arrays):
        if isinstance(value, np.ndarray):
            continue
        if isinstance(value, (bool, int, float, np.number, np.bool_)):
            scalars[i] = value
            arrays[i] = np.asarray(value, dtype=infer_dtype(value))
        elif isinstance(value, (list, tuple)):
            from .creation import tensor

            arrays[i] = tensor(value)._data
        else:
            raise TypeError(
                f"{spec.name}: expected a Tensor, array or number for input {i}, got "
                f"{type(value).__name__}"
            )
    return scalars


_POSITIONS: dict[tuple[int, int], list[int]] = {}


def _promoted_positions(spec: OpSpec, count: int) -> list[int]:
    key = (id(spec), count)
    positions = _POSITIONS.get(key)
    if positions is None:
        if spec.promote is True:
            positions = list(range(count))
        elif spec.variadic:
            positions = []
        else:
            names = spec.promote if isinstance(spec.promote, tuple) else ()
            positions = [i for i, n in enumerate(spec.tensor_params[:count]) if n in names]
        _POSITIONS[key] = positions
    return positions


def _promote(spec: OpSpec, arrays: list, scalars: dict[int, Any] | None) -> None:
    """Cast the promoted inputs to PyTorch's result dtype (in ``arrays``, in place)."""
    which = _promoted_positions(spec, len(arrays))
    if not which:
        return
    ranked = []
    for i in which:
        priority = 0 if scalars and i in scalars else (2 if arrays[i].ndim else 1)
        ranked.append((arrays[i].dtype, priority))
    dtype = result_type(*ranked)
    for i in which:
        if arrays[i].dtype != dtype:
            # A Python number converts straight to the result dtype: float64 * 0.3 must use
            # 0.3, not float32(0.3) widened (a 1e-8 error in float64 results).
            if scalars and i in scalars:
                arrays[i] = np.asarray(scalars[i], dtype=dtype)
            else:
                arrays[i] = arrays[i].astype(dtype)


def _translate(spec: OpSpec, error: Exception, arrays: list, options: dict) -> Exception:
    """The error to raise for a failed forward: the op's own wording, or NumPy's with context."""
    if spec.explain is not None:
        try:
            spec.explain(spec.name, *arrays, **options)
        except (RuntimeError, IndexError, TypeError, ValueError) as explained:
            return explained
    if str(error).startswith(spec.name + ":"):
        return error
    inputs = ", ".join(f"{tuple(a.shape)} {a.dtype}" for a in arrays if hasattr(a, "shape"))
    return RuntimeError(f"{spec.name}: {error} (inputs: {inputs})")
