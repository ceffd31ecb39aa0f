"""The op registry: ``primitive`` / ``composite`` registration and each op's ``OpSpec``.

A primitive is a NumPy forward plus a gradient rule (its VJP), registered once; the rule asks
by parameter name for what it needs, and exactly that is saved on the graph node. A composite
is built from other ops and has no rule. Registration is the single source of truth: it gives
``Tensor.<name>``, the ``<Name>Backward`` node name, viz labels and the property tests.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .domains import ANY, Domain

# What a rule parameter receives, decided once per rule from its name.
GRAD = 0  # the gradient arriving at the op's output
SAVED = 1  # a saved input (array in first-order backward, Tensor under create_graph)
SAVED_LIST = 2  # every input of a variadic op
OUT = 3  # the op's output
VALUE = 4  # a value fixed at forward time: an option, an input's shape, needs_input_grad
XP = 5  # the namespace of array or Tensor functions the rule computes with
RESIDUALS = 6  # what the forward computed for backward besides its output (arrays)
NEEDS = 7  # which inputs need a gradient (``needs_input_grad``)

# A rule's ``grad`` is always the incoming gradient (a backward primitive may name its own
# input ``grad``, but its rule can't ask for that input); these must not be ambiguous.
_RESERVED = ("out", "needs_input_grad", "xp")


@dataclass(eq=False)
class OpSpec:
    """One registered op: its forward, gradient rule, dispatch flags and test hints."""

    name: str
    forward: Callable[..., Any]
    kind: str  # "primitive" or "composite"
    tensor_params: tuple[str, ...]
    option_params: tuple[str, ...]
    option_defaults: dict[str, Any]
    # Test hints (see autograd.testing.op_inputs): value ranges, shapes, options, or a sampler
    # of whole (args, kwargs) pairs. Strategy factories import Hypothesis only when called.
    domain: Domain | Sequence[Domain] = ANY
    shapes: Callable[[int], Any] | None = None
    kwargs: Callable[..., Any] | None = None
    sample: Callable[[], Any] | None = None
    kinks: Callable[[], Any] | None = None  # a sampler of inputs on the op's kinks and ties
    differentiable: bool = True
    twice: bool = True
    untested: str | None = None  # why the registry property test skips this op
    label: str | None = None  # the name drawings show, if not the op's own (viz)
    # PyTorch's name for the node, if not the op's own: ``node_name="Addmm"`` makes ``grad_fn``
    # an ``AddmmBackward`` (``linear_addmm`` would give ``LinearAddmmBackward``).
    node_name: str | None = None
    # Dispatch.
    promote: bool | tuple[str, ...] = True
    method: bool | str = True
    validate: Callable[..., None] | None = None  # cheap checks NumPy would not make
    # Whether ``validate`` has something to say when all inputs share one dtype (False: the
    # common call skips it, and NumPy's own error for that case goes through ``explain``).
    validate_same_dtype: bool = True
    explain: Callable[..., None] | None = None  # raises a clear error after NumPy failed
    view: bool = False  # the output may share memory with input 0
    exact: bool = False  # no floating-point errors possible: no errstate needed
    # The forward returns ``(out, residuals)``: values it computed anyway that the rule reuses
    # (argmax positions, im2col columns, gate activations), asked for as ``residuals``.
    residuals: bool = False
    # The gradient rule and what it asks for, one (kind, key) per rule parameter.
    vjp_fn: Callable[..., Any] | None = None
    vjp_plan: tuple[tuple[int, Any], ...] = ()
    vjp_names: tuple[str, ...] = ()
    # The same plan compiled for the node: what the forward stores, flat (a saved input or
    # output takes four slots: tensor, array, version counter, version), and for each rule
    # argument ``(kind, offset into the stored values, input index)``.
    save_plan: tuple[tuple[int, Any], ...] = ()
    arg_plan: tuple[tuple[int, int, int], ...] = ()
    variadic: bool = field(init=False)
    simple_arity: int = field(init=False)
    plain: bool = field(init=False)
    # PyTorch's keywords (out=, alpha=, input=, other=) this op does not take itself: a call
    # with one of them goes through autograd._keywords, which translates it.
    torch_keywords: frozenset = field(init=False)
    option_names: frozenset = field(init=False)  # what a keyword argument may name
    # ``call(spec, args, kwargs)``, or with ``bound`` options last (``dispatch.call_primitive``).
    call: Callable[..., Any] = field(init=False, repr=False)
    # The first-order rule call compiled from ``arg_plan`` (autograd.graph builds it on first use).
    array_apply: Callable[..., Any] | None = field(default=None, init=False, repr=False)
    # What a node keeps, compiled from ``save_plan`` (autograd.graph builds it on first use).
    save_values: Callable[..., Any] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.variadic = bool(self.tensor_params) and self.tensor_params[0].startswith("*")
        # Calls with exactly the tensor inputs and no options skip argument binding.
        complete = len(self.option_defaults) == len(self.option_params)
        self.simple_arity = len(self.tensor_params) if complete and not self.variadic else -1
        # Ops whose common call needs nothing but the arrays (dispatch's fast path).
        self.plain = (
            self.simple_arity >= 1
            and self.promote is True
            and (self.validate is None or not self.validate_same_dtype)
        )
        own = set(self.option_params) | {p.lstrip("*") for p in self.tensor_params}
        self.torch_keywords = frozenset(("out", "alpha", "input", "other")) - own
        self.option_names = frozenset(self.option_params)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.call(self, args, kwargs)

    @property
    def input_names(self) -> tuple[str, ...]:
        """The tensor parameters' names (without the ``*`` of a variadic one)."""
        return tuple(p.lstrip("*") for p in self.tensor_params)

    def vjp(self, rule: Callable[..., Any]) -> Callable[..., Any]:
        """Register ``rule`` as this primitive's gradient rule (decorator).

        The rule's parameters are looked up by name: ``grad`` (the incoming gradient), a
        forward input (``x``), ``out``, ``<input>_shape``, a forward option, ``needs_input_grad``
        and ``xp`` (``autograd.xp.ARRAY`` or ``TENSOR``: functions such as ``xp.exp`` that
        work on whatever the rule receives) and, for ``residuals=True`` primitives,
        ``residuals`` (what the forward returned besides its output: NumPy values, not on the
        graph). It runs on NumPy arrays in a first-order backward and on Tensors under
        ``create_graph=True``, so write it with operators and ``xp`` functions only. Return
        new arrays or pass ``grad`` through: a new array goes to a leaf's ``.grad`` uncopied.
        """
        names = self.input_names
        clash = set(_RESERVED) & set(names + self.option_params)
        if clash:
            raise TypeError(
                f"{self.name}: forward parameters can't be named {sorted(clash)}: a rule asks "
                "for the output, the input flags and the namespace by those names"
            )
        plan: list[tuple[int, Any]] = []
        for param in inspect.signature(rule).parameters:
            if param == "grad":
                plan.append((GRAD, None))
            elif param == "out":
                plan.append((OUT, None))
            elif param == "xp":
                plan.append((XP, None))
            elif param == "residuals" and self.residuals:
                plan.append((RESIDUALS, None))
            elif param == "needs_input_grad":
                plan.append((VALUE, "needs_input_grad"))
            elif param in names:
                plan.append((SAVED_LIST if self.variadic else SAVED, names.index(param)))
            elif param.endswith("_shape") and param[: -len("_shape")] in names:
                plan.append((VALUE, ("shape", names.index(param[: -len("_shape")]))))
            elif param in self.option_params:
                plan.append((VALUE, ("option", param)))
            else:
                raise TypeError(
                    f"{self.name}: the rule {rule.__name__} asks for {param!r}, which is not a "
                    f"forward parameter ({', '.join(self.tensor_params + self.option_params)}), "
                    "'grad', 'out', '<input>_shape', 'needs_input_grad' or 'xp'"
                )
        self.vjp_fn = rule
        self.vjp_plan = tuple(plan)
        self.vjp_names = tuple(inspect.signature(rule).parameters)
        save_plan: list[tuple[int, Any]] = []
        arg_plan: list[tuple[int, int, int]] = []
        offset = 0
        for kind, key in plan:
            if kind in (GRAD, XP):
                arg_plan.append((kind, 0, 0))
            elif kind == VALUE and key == "needs_input_grad":
                arg_plan.append((NEEDS, 0, 0))
            else:
                save_plan.append((kind, key))
                arg_plan.append((kind, offset, key if kind == SAVED else 0))
                offset += 4 if kind in (SAVED, OUT) else 1
        self.save_plan = tuple(save_plan)
        self.arg_plan = tuple(arg_plan)
        self.array_apply = None
        self.save_values = None
        if self.kind == "primitive":
            self.call = _compile_and_call  # the generated call saves by the new plan
        return rule


REGISTRY: dict[str, OpSpec] = {}


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
        positional = param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
        if composite and positional and param.default is not param.empty:
            option_params.append(param.name)
            defaults[param.name] = param.default
        elif positional:
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
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return spec.call(spec, (self, *args), kwargs)

    method.__name__ = spec.name
    method.__doc__ = spec.forward.__doc__
    return method


def primitive(name: str, **hints: Any) -> Callable[[Callable[..., Any]], OpSpec]:
    """Register a NumPy forward as a differentiable op; add its rule with ``@<op>.vjp``.

    Tensor inputs are the positional parameters, options are keyword-only. ``hints`` are
    ``OpSpec`` fields: test hints (``domain``, ``shapes``, ``kwargs``, ``sample``, ``twice``,
    ``untested``), dispatch flags (``differentiable``, ``promote``, ``method``, ``validate``,
    ``explain``, ``view``, ``exact``, ``residuals``) and names (``label``, ``node_name``).
    """
    def decorator(forward: Callable[..., Any]) -> OpSpec:
        tensor_params, option_params, defaults = _signature_parts(forward)
        spec = OpSpec(name, forward, "primitive", tensor_params, option_params, defaults, **hints)
        spec.call = _compile_and_call
        return _register(spec)

    return decorator


def _compile_and_call(spec: OpSpec, args: tuple, kwargs: dict, bound: dict | None = None) -> Any:
    """A primitive's first call: generate its common call (``autograd.call_compiler``), then
    make it. Compiled on first use, once the rule is registered and the save plan known."""
    from .call_compiler import compile_call
    from .dispatch import call_primitive

    spec.call = compile_call(spec, call_primitive, bound is not None)
    return spec.call(spec, args, kwargs, bound)


def _call_composite(spec: OpSpec, args: tuple, kwargs: dict) -> Any:
    if kwargs and not spec.torch_keywords.isdisjoint(kwargs):  # out=, input=, ... (PyTorch's)
        from . import _keywords

        return _keywords.call(spec, args, kwargs, _call_forward)
    return spec.forward(*args, **kwargs)


def _call_forward(spec: OpSpec, args: tuple, kwargs: dict) -> Any:
    return spec.forward(*args, **kwargs)


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
            name, function, "composite", tensor_params, option_params, defaults, **hints
        )
        spec.call = _call_composite
        return _register(spec)

    return decorator
