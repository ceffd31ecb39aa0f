"""Graph nodes, the op registry (``primitive``/``composite``) and the user ``Function`` API.

A primitive is a NumPy forward plus a VJP written in Tensor ops, registered
once; the VJP asks by parameter name for what it needs, and exactly that is
saved on the node. A composite is built from other ops and has no rule.
"""

from __future__ import annotations

import inspect
import traceback
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import anomaly
from . import tensor as _tensor_module
from .anomaly import _state as _anomaly_state
from .dtypes import infer_dtype, result_type
from .grad_mode import _state as _grad_state
from .grad_mode import is_grad_enabled, set_grad_enabled
from .tensor import Tensor


@dataclass(frozen=True)
class Domain:
    """Where an op's inputs are drawn from in property tests (kinks and ties avoided here)."""

    low: float = -3.0
    high: float = 3.0
    away_from: tuple[float, ...] = ()
    distinct: bool = False

    def __str__(self) -> str:
        return f"[{self.low}, {self.high}]"


ANY = Domain()
POSITIVE = Domain(0.1, 3.0)
UNIT_INTERVAL = Domain(0.05, 0.95)
AWAY_FROM_KINKS = Domain(away_from=(0.0,))
NONZERO = Domain(away_from=(0.0,))
DISTINCT = Domain(distinct=True)

BROADCAST = "broadcast"
SAME = "same"
MATMUL = "matmul"


class _Frozen:
    """Marker for the forward's non-tensor options in the VJP plan."""


@dataclass(eq=False)
class OpSpec:
    """One registered op: its forward, gradient rule and test hints."""

    name: str
    forward: Callable[..., Any]
    kind: str  # "primitive" or "composite"
    tensor_params: tuple[str, ...]
    option_params: tuple[str, ...]
    option_defaults: dict[str, Any]
    domain: Domain | Sequence[Domain] = ANY
    shapes: Any = BROADCAST
    kwargs: Callable[..., Any] | None = None
    sample: Callable[[], Any] | None = None
    differentiable: bool = True
    twice: bool = True
    promote: bool | tuple[str, ...] = True
    method: bool | str = True
    validate: Callable[..., None] | None = None
    vjp_fn: Callable[..., Any] | None = None
    vjp_plan: tuple[tuple[str, str], ...] = ()
    test: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Cached facts for the dispatch fast path.
        self.is_view = bool(self.extra.get("view"))
        self.variadic = bool(self.tensor_params) and self.tensor_params[0].startswith("*")
        self.simple_arity = (
            -1
            if self.variadic or len(self.option_defaults) != len(self.option_params)
            else len(self.tensor_params)
        )
        # Shape and indexing ops cannot overflow or divide: skip the errstate context for them.
        self.quiet_numpy = not (self.is_view or self.extra.get("exact"))

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.kind == "composite":
            return self.forward(*args, **kwargs)
        return _call_primitive(self, args, kwargs)

    def vjp(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Register ``function`` as this primitive's gradient rule (decorator)."""
        plan = []
        names = tuple(p.lstrip("*") for p in self.tensor_params)
        # A VJP's `grad` is always the incoming gradient (a backward primitive may name its own
        # input `grad`, but its VJP can't ask for that input); `out` must not be ambiguous.
        reserved = {"out", "needs_input_grad"} & set(names + self.option_params)
        if reserved:
            raise TypeError(
                f"{self.name}: forward parameters can't be named {sorted(reserved)}: a VJP asks "
                "for the output and the input flags by those names"
            )
        for param in inspect.signature(function).parameters:
            if param == "grad":
                plan.append((param, "grad"))
            elif param == "out":
                plan.append((param, "out"))
            elif param in names:
                plan.append((param, "input"))
            elif param.endswith("_shape") and param[: -len("_shape")] in names:
                plan.append((param, "shape"))
            elif param in self.option_params:
                plan.append((param, "option"))
            elif param == "needs_input_grad":
                plan.append((param, "needs_input_grad"))
            else:
                raise TypeError(
                    f"{self.name}: the VJP {function.__name__} asks for {param!r}, which is not a "
                    f"forward parameter ({', '.join(self.tensor_params + self.option_params)}), "
                    "'out', '<input>_shape', 'grad' or 'needs_input_grad'"
                )
        self.vjp_fn = function
        self.vjp_plan = tuple(plan)
        return function


REGISTRY: dict[str, OpSpec] = {}
_tensor_module._OPS = REGISTRY  # the operator dunders look ops up here


class _Trace:
    """Switches for tools that watch the graph (``autograd.viz``).

    ``keep_values``: nodes keep a reference to their output arrays (for drawing values).
    ``grad_observer``: called by backward as ``observer(node_or_leaf, grads)`` for every node
    (with the gradients of its outputs) and every leaf (with ``[grad]``) it reaches.
    ``apply_observer``: called by backward as ``observer(node, output_grads, input_grads)``
    right after a node's rule ran: the gradients that arrived at its outputs and the ones it
    sends to each input, already reduced to the input's shape (None where no gradient).
    """

    keep_values: bool = False
    grad_observer: Callable[[Any, list], None] | None = None
    # ``autograd.onnx`` records a run with these: ``node_observer(node, inputs)`` for every
    # node created (with the inputs that have no edge: constants, buffers) and
    # ``call_observer(spec, inputs, options, out)`` for every primitive call, recorded or not
    # (comparisons, ops on tensors that need no gradient).
    node_observer: Callable[[Any, Sequence[Any]], None] | None = None
    call_observer: Callable[[Any, Sequence[Any], dict, Any], None] | None = None
    apply_observer: Callable[[Any, list, list], None] | None = None


TRACE = _Trace()


def _signature_parts(
    function: Callable[..., Any], composite: bool = False
) -> tuple[tuple[str, ...], tuple[str, ...], dict]:
    """Split a signature into tensor inputs and options.

    Primitives: positional parameters are tensors, keyword-only ones options. Composites keep
    PyTorch's calling convention, so their options may be positional: there, a parameter with a
    default value is an option.
    """
    tensor_params, option_params, defaults = [], [], {}
    for param in inspect.signature(function).parameters.values():
        if composite and param.kind == param.POSITIONAL_OR_KEYWORD and param.default is not param.empty:
            option_params.append(param.name)
            defaults[param.name] = param.default
        elif param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            tensor_params.append(param.name)
        elif param.kind == param.KEYWORD_ONLY:
            option_params.append(param.name)
            if param.default is not param.empty:
                defaults[param.name] = param.default
        elif param.kind == param.VAR_POSITIONAL:
            tensor_params.append("*" + param.name)
    return tuple(tensor_params), tuple(option_params), defaults


def _register(spec: OpSpec) -> OpSpec:
    if spec.name in REGISTRY:
        raise ValueError(f"op {spec.name!r} is registered twice")
    REGISTRY[spec.name] = spec
    if spec.method:
        from .tensor import Tensor

        method_name = spec.name if spec.method is True else spec.method
        setattr(Tensor, method_name, _make_method(spec))
    return spec


def _make_method(spec: OpSpec) -> Callable[..., Any]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        return spec(self, *args, **kwargs)

    method.__name__ = spec.name
    method.__doc__ = spec.forward.__doc__
    return method


def primitive(name: str, **hints: Any) -> Callable[[Callable[..., np.ndarray]], OpSpec]:
    """Register a NumPy forward as a differentiable op; add its rule with ``@<op>.vjp``.

    Tensor inputs are the positional parameters, options are keyword-only.
    Hints (``domain``, ``shapes``, ``kwargs``, ``sample``, ``twice``, ``differentiable``,
    ``promote``, ``method``, ``validate``) steer the property tests and the wrapping.
    """

    def decorator(forward: Callable[..., np.ndarray]) -> OpSpec:
        tensor_params, option_params, defaults = _signature_parts(forward)
        spec = OpSpec(
            name=name,
            forward=forward,
            kind="primitive",
            tensor_params=tensor_params,
            option_params=option_params,
            option_defaults=defaults,
            **hints,
        )
        return _register(spec)

    return decorator


def composite(name: str, **hints: Any) -> Callable[[Callable[..., Any]], OpSpec]:
    """Register an op built from other ops (no gradient rule) so tests and methods find it.

    ``tensors=n`` marks only the first ``n`` positional parameters as tensor inputs (for
    PyTorch-style signatures such as ``transpose(x, dim0, dim1)``).
    """

    tensor_count = hints.pop("tensors", None)

    def decorator(function: Callable[..., Any]) -> OpSpec:
        tensor_params, option_params, defaults = _signature_parts(function, composite=True)
        if tensor_count is not None and len(tensor_params) > tensor_count:
            option_params = tensor_params[tensor_count:] + option_params
            tensor_params = tensor_params[:tensor_count]
        spec = OpSpec(
            name=name,
            forward=function,
            kind="composite",
            tensor_params=tensor_params,
            option_params=option_params,
            option_defaults=defaults,
            **hints,
        )
        return _register(spec)

    return decorator


def _to_input(value: Any, op: str) -> tuple[Tensor, int]:
    """Turn an argument into a Tensor and its promotion priority (2 dims, 1 0-d, 0 scalar)."""
    if isinstance(value, Tensor):
        return value, (2 if value._data.ndim else 1)
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return Tensor._from_array(np.asarray(value, dtype=infer_dtype(value))), 0
    if isinstance(value, np.ndarray):
        return Tensor._from_array(value), (2 if value.ndim else 1)
    if isinstance(value, (list, tuple)):
        from .creation import tensor

        converted = tensor(value)
        return converted, (2 if converted.ndim else 1)
    raise TypeError(f"{op}: expected a Tensor, array or number, got {type(value).__name__}")


def _bind_options(spec: OpSpec, args: tuple, kwargs: dict) -> tuple[list, dict]:
    """Split a call's arguments into tensor inputs and a complete options dict."""
    n_tensors = len(spec.tensor_params)
    variadic = n_tensors and spec.tensor_params[-1].startswith("*")
    if variadic:
        tensor_args, option_args = list(args), ()
    else:
        tensor_args, option_args = list(args[:n_tensors]), args[n_tensors:]
        for name in spec.tensor_params[len(tensor_args) :]:
            if name not in kwargs:
                raise TypeError(f"{spec.name}: missing input {name!r}")
            tensor_args.append(kwargs.pop(name))
    if not option_args and not kwargs and len(spec.option_defaults) == len(spec.option_params):
        return tensor_args, spec.option_defaults  # shared, never mutated
    if len(option_args) > len(spec.option_params):
        raise TypeError(
            f"{spec.name}: takes {n_tensors} tensor input(s) and options "
            f"{spec.option_params}, got {len(args)} positional arguments"
        )
    options = dict(spec.option_defaults)
    options.update(zip(spec.option_params, option_args))
    for key, value in kwargs.items():
        if key not in spec.option_params:
            raise TypeError(f"{spec.name}: unexpected keyword argument {key!r}")
        options[key] = value
    missing = [p for p in spec.option_params if p not in options]
    if missing:
        raise TypeError(f"{spec.name}: missing option(s) {missing}")
    return tensor_args, options


def _call_primitive(spec: OpSpec, args: tuple, kwargs: dict) -> Any:
    if not kwargs and len(args) == spec.simple_arity:
        tensor_args, options = list(args), spec.option_defaults
    else:
        tensor_args, options = _bind_options(spec, args, kwargs)
    inputs = []
    converted = None
    for position, value in enumerate(tensor_args):
        if isinstance(value, Tensor):
            inputs.append(value)
        else:
            tensor_value, priority = _to_input(value, spec.name)
            inputs.append(tensor_value)
            if converted is None:
                converted = {}
            converted[position] = priority
    arrays = [t._data for t in inputs]
    if spec.validate is not None:
        # Before promotion, so that a check sees the dtypes the caller passed.
        spec.validate(spec.name, *arrays, **options)
    if spec.promote and len(inputs) > 1:
        which = _promoted_positions(spec, len(inputs))
        first = arrays[which[0]].dtype if which else None
        if any(arrays[i].dtype != first for i in which):
            dtype = result_type(
                *[(arrays[i].dtype, _priority(arrays[i], converted, i)) for i in which]
            )
            for i in which:
                if arrays[i].dtype != dtype:
                    # A Python float converts straight to the result dtype: float64 * 0.3 must
                    # use 0.3, not float32(0.3) widened (a 1e-8 error in float64 results).
                    value = tensor_args[i] if converted and i in converted else None
                    if type(value) is float:
                        arrays[i] = np.asarray(value, dtype=dtype)
                    else:
                        arrays[i] = arrays[i].astype(dtype)
    try:
        if spec.quiet_numpy:
            # inf and nan are values, as in PyTorch: no NumPy warnings (detect_anomaly reports them).
            with np.errstate(all="ignore"):
                out_array = spec.forward(*arrays, **options)
        else:
            out_array = spec.forward(*arrays, **options)
    except (RuntimeError, IndexError, TypeError, ValueError) as error:
        if str(error).startswith(spec.name + ":"):
            raise
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in arrays)
        raise RuntimeError(f"{spec.name}: {error} (inputs: {shapes})") from error
    if type(out_array) is not np.ndarray:
        out_array = np.asarray(out_array)
    out = Tensor._from_array(out_array)
    if spec.is_view and arrays[0] is inputs[0]._data and np.may_share_memory(out_array, arrays[0]):
        out._version_counter = inputs[0]._version_counter  # a view sees its base's in-place changes
        out._view_from = (inputs[0], spec, options)
    if _anomaly_state.enabled:
        anomaly.check_forward(spec.name, out_array, inputs)
    if spec.differentiable and _grad_state.enabled:
        needs = tuple([t._requires_grad or t._grad_fn is not None for t in inputs])
        if True in needs and out_array.dtype.kind == "f":
            out._grad_fn = PrimitiveNode(spec, inputs, arrays, options, out, needs)
    if TRACE.call_observer is not None:
        TRACE.call_observer(spec, inputs, options, out)
    return out


def _priority(array: np.ndarray, converted: dict | None, position: int) -> int:
    """Promotion priority: 2 for tensors with dims, 1 for 0-d tensors, 0 for Python scalars."""
    if converted is not None and position in converted:
        return converted[position]
    return 2 if array.ndim else 1


_PROMOTED: dict[tuple[int, int], list[int]] = {}


def _promoted_positions(spec: OpSpec, count: int) -> list[int]:
    key = (id(spec), count)
    cached = _PROMOTED.get(key)
    if cached is None:
        cached = _PROMOTED[key] = _compute_promoted_positions(spec, count)
    return cached


def _compute_promoted_positions(spec: OpSpec, count: int) -> list[int]:
    if spec.promote is True:
        return list(range(count))
    if spec.tensor_params and spec.tensor_params[0].startswith("*"):
        return []
    promoted = spec.promote if isinstance(spec.promote, tuple) else ()
    return [i for i, name in enumerate(spec.tensor_params[:count]) if name in promoted]


class SavedTensor:
    """A tensor saved for backward with the version it had, so in-place changes are caught."""

    __slots__ = ("tensor", "data", "version_counter", "version", "is_output", "output_nr")

    def __init__(self, tensor: Tensor, is_output: bool = False, array: np.ndarray | None = None):
        self.version_counter = tensor._version_counter
        self.version = tensor._version_counter[0]
        self.data: np.ndarray | None
        self.tensor: Tensor | None
        self.is_output = is_output
        self.output_nr = tensor._output_nr
        if is_output:
            # Keep only the array: holding the output Tensor would make a node <-> output cycle.
            self.tensor = None
            self.data = tensor._data
        elif array is not None and array is not tensor._data:
            # The forward saw a promoted copy; keep the tensor for its graph, the copy for values.
            self.tensor = tensor
            self.data = array
        else:
            self.tensor = tensor
            self.data = None

    def unpack(self, node: Node, index: int) -> Tensor:
        from .tensor import Tensor

        if self.version_counter[0] != self.version:
            raise RuntimeError(
                f"{node.type_name()} needs input {index}"
                f"{' (its output)' if self.is_output else ''} of shape "
                f"{self._shape()}, which was modified in place after it was saved "
                f"(version {self.version} -> {self.version_counter[0]}); call .clone() before "
                "modifying it"
            )
        if self.is_output:
            restored = Tensor._from_array(self.data)  # type: ignore[arg-type]
            restored._version_counter = self.version_counter
            restored._grad_fn = node
            restored._output_nr = self.output_nr
            return restored
        assert self.tensor is not None, "saved tensor was released"
        if self.data is not None:
            if self.tensor._grad_fn is None and not self.tensor._requires_grad:
                # Not in any graph: the promoted array is the value (exact for a Python float).
                return Tensor._from_array(self.data)
            return self.tensor.to(self.data.dtype)
        return self.tensor

    def _shape(self) -> tuple:
        return tuple(self.data.shape if self.data is not None else self.tensor.shape)  # type: ignore[union-attr]

    def array(self) -> np.ndarray:
        """The saved array itself (not a copy)."""
        return self.data if self.data is not None else self.tensor._data  # type: ignore[union-attr]


class Node:
    """A recorded operation: edges to its inputs' nodes (or leaves) and what backward needs."""

    __slots__ = (
        "name",
        "next_edges",
        "input_shapes",
        "input_dtypes",
        "num_outputs",
        "tensor_hooks",
        "retain_refs",
        "freed",
        "trace",
        "module_path",
        "output_meta",
        "values",
        "grad_stats",
        "__weakref__",
    )

    def __init__(self, name: str, inputs: Sequence[Tensor | None], num_outputs: int = 1):
        self.name = name
        edges: list[tuple[Any, int] | None] = []
        shapes: list[tuple | None] = []
        dtypes: list[np.dtype | None] = []
        for t in inputs:
            if t is None:
                edges.append(None)
                shapes.append(None)
                dtypes.append(None)
                continue
            if t._grad_fn is not None:
                edges.append((t._grad_fn, t._output_nr))
            elif t._requires_grad:
                edges.append((t, 0))
            else:
                edges.append(None)
            shapes.append(t._data.shape)
            dtypes.append(t._data.dtype)
        self.next_edges = tuple(edges)
        self.input_shapes = tuple(shapes)
        self.input_dtypes = tuple(dtypes)
        self.num_outputs = num_outputs
        self.tensor_hooks: dict[int, dict[int, Callable]] | None = None
        self.retain_refs: dict[int, weakref.ref] | None = None
        self.freed = False
        self.trace = _creation_trace() if anomaly.is_anomaly_enabled() else None
        self.module_path = _current_module_path()
        self.output_meta: tuple[tuple[tuple, Any], ...] = ()
        self.values: tuple[np.ndarray, ...] | None = None
        self.grad_stats: Any = None
        if TRACE.node_observer is not None:
            TRACE.node_observer(self, inputs)

    def __repr__(self) -> str:
        return f"<{self.type_name()}>"

    def type_name(self) -> str:
        """Return ``<Name>Backward``, the name PyTorch shows in ``grad_fn``."""
        return _backward_name(self.name)

    @property
    def next_functions(self) -> tuple:
        """PyTorch-style view of the edges: ``(node or leaf tensor, index)`` or ``(None, 0)``."""
        return tuple(edge if edge is not None else (None, 0) for edge in self.next_edges)

    def apply(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        raise NotImplementedError(f"{type(self).__name__} must implement apply")

    def release(self) -> None:
        """Drop what was saved for backward (the graph's structure stays)."""
        self.freed = True

    def saved_arrays(self) -> Iterator[np.ndarray]:
        """The arrays this node keeps alive (for memory accounting and viz)."""
        return iter(())

    def saved_items(self) -> list[tuple[str, np.ndarray]]:
        """``(name, array)`` for what the node keeps for backward (empty once freed)."""
        return []

    def options(self) -> dict[str, Any]:
        """The forward's non-tensor options (for viz labels)."""
        return {}


def _backward_name(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_")) + "Backward"


class PrimitiveNode(Node):
    """Node of a registered primitive: runs its VJP on the saved inputs."""

    __slots__ = ("spec", "saved", "needs_input_grad", "_options")

    def __init__(
        self,
        spec: OpSpec,
        inputs: Sequence[Tensor],
        arrays: Sequence[np.ndarray],
        options: dict,
        out: Tensor,
        needs: tuple[bool, ...],
    ):
        super().__init__(spec.name, inputs)
        self.output_meta = ((out._data.shape, out._data.dtype),)
        if TRACE.keep_values:
            self.values = (out._data,)
        self.spec = spec
        self.needs_input_grad = needs
        self._options = options
        saved: dict[str, Any] = {}
        variadic = bool(spec.tensor_params) and spec.tensor_params[0].startswith("*")
        positions = {name: i for i, name in enumerate(spec.tensor_params)}
        for param, kind in spec.vjp_plan:
            if kind == "input":
                if variadic:
                    saved[param] = [SavedTensor(t, array=a) for t, a in zip(inputs, arrays)]
                else:
                    i = positions[param]
                    saved[param] = SavedTensor(inputs[i], array=arrays[i])
            elif kind == "out":
                saved[param] = SavedTensor(out, is_output=True)
            elif kind == "shape":
                if variadic:
                    saved[param] = [a.shape for a in arrays]
                else:
                    saved[param] = arrays[positions[param[: -len("_shape")]]].shape
            elif kind == "option":
                saved[param] = options[param]
        self.saved: dict[str, Any] | None = saved

    def options(self) -> dict[str, Any]:
        return dict(self._options)

    def apply(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        if self.saved is None:
            raise RuntimeError(_FREED_MESSAGE)
        grad = grads[0]
        kwargs: dict[str, Any] = {}
        for param, kind in self.spec.vjp_plan:
            if kind == "grad":
                kwargs[param] = grad
            elif kind == "needs_input_grad":
                kwargs[param] = self.needs_input_grad
            elif kind in ("input", "out"):
                value = self.saved[param]
                if isinstance(value, list):
                    kwargs[param] = [s.unpack(self, i) for i, s in enumerate(value)]
                else:
                    kwargs[param] = value.unpack(self, self._input_position(param))
            else:
                kwargs[param] = self.saved[param]
        assert self.spec.vjp_fn is not None, f"{self.spec.name} has no VJP registered"
        result = self.spec.vjp_fn(**kwargs)
        if not isinstance(result, (tuple, list)):
            result = (result,)
        return result

    def _input_position(self, param: str) -> int:
        return self.spec.tensor_params.index(param) if param in self.spec.tensor_params else 0

    def release(self) -> None:
        self.saved = None
        self.freed = True

    def saved_arrays(self) -> Iterator[np.ndarray]:
        for value in (self.saved or {}).values():
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, SavedTensor):
                    yield item.data if item.data is not None else item.tensor._data  # type: ignore[union-attr]

    def saved_items(self) -> list[tuple[str, np.ndarray]]:
        # Names as the rule asks for them (``x``, ``out``; ``tensors[1]`` for a variadic input);
        # the arrays themselves, not copies, so views stay detectable (``.base``).
        items = []
        for name, value in (self.saved or {}).items():
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, SavedTensor):
                        items.append((f"{name}[{i}]", item.array()))
            elif isinstance(value, SavedTensor):
                items.append((name, value.array()))
        return items


_FREED_MESSAGE = (
    "backward through a graph that was already freed; pass retain_graph=True to the first "
    "backward() if you need to call it twice"
)


def _creation_trace() -> str:
    frames = traceback.extract_stack()[:-3]
    keep = [f for f in frames if "/autograd/" not in f.filename.replace("\\", "/")] or frames
    return "".join(traceback.format_list(keep[-4:]))


_module_stack: list[Any] = []


def _current_module_path() -> tuple | None:
    return tuple(_module_stack) if _module_stack else None


class module_scope:
    """Mark the ops run inside as created by ``module`` (``nn.Module.__call__`` uses this).

    Every node created inside records the stack of modules it ran in (outermost first), so
    ``autograd.viz`` can group nodes by module and name parameters by their module path.
    """

    __slots__ = ("module",)

    def __init__(self, module: Any) -> None:
        self.module = module

    def __enter__(self) -> None:
        _module_stack.append(self.module)

    def __exit__(self, *exc_info: Any) -> None:
        _module_stack.pop()


class FunctionCtx:
    """The ``ctx`` of a custom ``Function``: save tensors and state for backward."""

    def __init__(self) -> None:
        self._saved: tuple[SavedTensor | None, ...] = ()
        self._released = False
        self.needs_input_grad: tuple[bool, ...] = ()
        self._node: Node | None = None
        self._outputs: list[Tensor] = []
        self._non_differentiable: set[int] = set()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Save tensors (inputs or outputs) for backward; checked against in-place changes."""
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Mark outputs (e.g. indices) that get no gradient."""
        self._non_differentiable.update(id(t) for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """The tensors given to ``save_for_backward``, as they were then."""
        if self._released:
            raise RuntimeError(_FREED_MESSAGE)
        return tuple(
            None if s is None else s.unpack(self._node, i)  # type: ignore[arg-type]
            for i, s in enumerate(self._saved)
        )


class FunctionNode(Node):
    """Node of a user ``Function``: calls its ``backward(ctx, *grads)``."""

    __slots__ = ("function", "ctx", "_output_shapes", "_output_dtypes")
    _output_shapes: list[tuple]
    _output_dtypes: list[np.dtype]
    function: Any

    def __init__(self, function: type, ctx: FunctionCtx, inputs: Sequence[Tensor | None], n: int):
        super().__init__(function.__name__, inputs, num_outputs=n)
        self.function = function
        self.ctx = ctx

    def type_name(self) -> str:
        return self.function.__name__ + "Backward"

    def apply(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        if self.ctx._released:
            raise RuntimeError(_FREED_MESSAGE)
        from .creation import zeros

        filled = [
            g if g is not None else zeros(shape, dtype=dtype)
            for g, shape, dtype in zip(grads, self._output_shapes, self._output_dtypes)
        ]
        result = self.function.backward(self.ctx, *filled)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) > len(self.next_edges) and all(r is None for r in result[len(self.next_edges):]):
            result = result[: len(self.next_edges)]
        return result

    def release(self) -> None:
        self.ctx._released = True
        self.ctx._saved = ()
        self.freed = True

    def saved_arrays(self) -> Iterator[np.ndarray]:
        for s in self.ctx._saved:
            if s is not None:
                yield s.data if s.data is not None else s.tensor._data  # type: ignore[union-attr]

    def saved_items(self) -> list[tuple[str, np.ndarray]]:
        return [
            (f"saved_tensors[{i}]", s.array()) for i, s in enumerate(self.ctx._saved) if s is not None
        ]


class Function:
    """Base class for custom differentiable ops, as in PyTorch.

    Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    and call ``MyFunction.apply(...)``. ``forward`` runs without recording a graph;
    ``backward`` returns one gradient (or None) per ``forward`` argument.

    Example:
        >>> import autograd as ag
        >>> class Square(ag.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * grad
        >>> x = ag.tensor(3.0, requires_grad=True)
        >>> Square.apply(x).backward(); x.grad
        tensor(6.)
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function subclasses must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("Function subclasses must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from .tensor import Tensor

        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(
            isinstance(a, Tensor) and a.requires_grad for a in args
        )
        with set_grad_enabled(False):
            result = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(result, tuple)
        outputs = (result,) if single else result
        for i, value in enumerate(outputs):
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"{cls.__name__}.forward must return Tensors, got {type(value).__name__} "
                    f"at output {i}"
                )
        # Outputs that are inputs returned unchanged must become new tensors with the new grad_fn.
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}
        outputs = tuple(o.detach() if id(o) in input_ids else o for o in outputs)
        if is_grad_enabled() and any(ctx.needs_input_grad):
            inputs = [a if isinstance(a, Tensor) else None for a in args]
            node = FunctionNode(cls, ctx, inputs, len(outputs))
            node._output_shapes = [o._data.shape for o in outputs]
            node._output_dtypes = [o._data.dtype for o in outputs]
            node.output_meta = tuple((o._data.shape, o._data.dtype) for o in outputs)
            if TRACE.keep_values:
                node.values = tuple(o._data for o in outputs)
            ctx._node = node
            for i, o in enumerate(outputs):
                if id(o) in ctx._non_differentiable or not np.issubdtype(o._data.dtype, np.floating):
                    continue
                o._grad_fn = node
                o._output_nr = i
            to_save = getattr(ctx, "_to_save", ())
            output_ids = {id(o): o for o in outputs}
            ctx._saved = tuple(
                None
                if t is None
                else SavedTensor(t, is_output=id(t) in output_ids and t._grad_fn is node)
                for t in to_save
            )
        else:
            to_save = getattr(ctx, "_to_save", ())
            ctx._saved = tuple(None if t is None else SavedTensor(t) for t in to_save)
        if hasattr(ctx, "_to_save"):
            del ctx._to_save
        if anomaly.is_anomaly_enabled():
            for o in outputs:
                anomaly.check_forward(cls.__name__, o._data, [a for a in args if isinstance(a, Tensor)])
        return outputs[0] if single else outputs
