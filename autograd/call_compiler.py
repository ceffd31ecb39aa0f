"""Code generated once per op: a primitive's common call, what its nodes save, and its
first-order rule call.

**The common call.**
``dispatch.call_primitive`` handles every call: options, PyTorch's keywords, promotion,
checks, views, anomaly mode, tools that watch the graph. Most calls need none of that: one to
three tensors of one dtype (or a float tensor and a Python number), default options, no tool
watching. For those, this module writes the few lines the general path would run (the
forward in NumPy's quiet error state, the output Tensor, the node with its edges, shapes and
saved values) as one function per op, the first time the op is called, as ``dataclasses``
generates ``__init__``. Anything else, and any error, goes to ``call_primitive``, which runs
the call again from the start and raises its usual, translated error: the generated code
has no error paths of its own.

**What a node saves and the first-order rule call** (``compile_save_values``,
``compile_array_apply``): the lines ``PrimitiveNode`` would otherwise interpret from the
rule's argument plan on every node, written out once per op.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ._fperrors import ERRORS, IGNORE, QUIET
from .anomaly import _state as _anomaly_state
from .grad_mode import _state as _grad_state
from .graph import FREED_MESSAGE, PrimitiveNode, SavedTensor, _modified_error, next_sequence_number
from .registry import GRAD, NEEDS, OUT, RESIDUALS, SAVED, SAVED_LIST, VALUE, OpSpec
from .tensor import Tensor
from .tracing import TRACE, _scope
from .xp import ARRAY

# NumPy's float dtypes, commonest first.
_FLOATS = tuple(np.dtype(t) for t in (np.float32, np.float64, np.float16, np.longdouble))

# Option values that read back the same from their ``repr`` (written into the generated call).
_LITERALS = (type(None), bool, int, float, str)


def compile_call(spec: OpSpec, general: Callable[..., Any], bound: bool = False) -> Callable[..., Any]:
    """``spec.call`` for ``spec``: the generated common call, or ``general`` where there is none.

    ``general`` is ``dispatch.call_primitive``: the generated call hands it everything that is
    not the common case, with the original arguments. ``bound``: the op's first call came
    with its options bound (below).
    """
    # A library wrapper that checked its arguments passes one tensor and the complete options
    # (``bound``): ``F.cross_entropy``, whose target is an option. Its common call is generated
    # when its first call is one of those.
    with_bound = bound and not spec.plain and len(spec.tensor_params) == 1 and not spec.variadic
    n = 1 if with_bound else spec.simple_arity
    if (
        not (spec.plain or with_bound)
        or n not in (1, 2, 3)
        or spec.view
        or ERRORS is None
        or QUIET is None
        or any(kind == SAVED_LIST for kind, _ in spec.save_plan)
    ):
        return general
    xs = [f"x{i}" for i in range(n)]
    arrays = [f"a{i}" for i in range(n)]
    fallback = "return general(spec, args, kwargs, bound)"
    unusual = "bound is None" if with_bound else "bound is not None"
    lines = [
        "def call(spec, args, kwargs, bound=None):",
        f"    if kwargs or {unusual} or len(args) != {n} or anomaly.enabled or "
        "TRACE.forward_watched:",
        f"        {fallback}",
        f"    {', '.join(xs)}, = args",
    ]
    lines += _input_lines(n, fallback)
    if with_bound:
        lines.append("    OPTIONS = bound  # the node keeps these options, as the general call")
    options = ", **OPTIONS" if with_bound else _options_text(spec)
    forward_args = ", ".join(arrays) + options
    lines += ["    try:"]
    if spec.exact:
        lines += [f"        out = forward({forward_args})"]
    else:
        lines += [
            "        if ERRORS.get() is IGNORE:",
            f"            out = forward({forward_args})",
            "        else:",
            f"            out = quiet_run(forward, {forward_args})",
        ]
    lines += [
        "    except (RuntimeError, IndexError, TypeError, ValueError):",
        f"        {fallback}",
    ]
    if spec.residuals:
        lines.append("    out, residuals = out")
    lines += [
        "    if type(out) is not ndarray:",
        "        out = asarray(out)",
        "    t = new(Tensor)",
        "    t._data = out",
        "    t._requires_grad = False",
        "    t._grad = None",
        "    t._grad_fn = None",
        "    t._output_nr = 0",
        "    t._version_counter = [0]",
        "    t._hooks = None",
        "    t._retains_grad = False",
        "    t._view_from = None",
    ]
    if spec.differentiable:
        lines += _node_lines(spec, n)
    lines.append("    return t")
    scope: dict[str, Any] = {
        "general": general, "anomaly": _anomaly_state, "TRACE": TRACE, "Tensor": Tensor,
        "forward": spec.forward, "ERRORS": ERRORS, "IGNORE": IGNORE, "quiet_run": QUIET.run,
        "ndarray": np.ndarray, "asarray": np.asarray, "new": object.__new__, "FLOATS": _FLOATS,
        "grad_mode": _grad_state, "PrimitiveNode": PrimitiveNode, "scope": _scope,
        "next_sequence_number": next_sequence_number, "OPTIONS": spec.option_defaults,
    }  # fmt: skip
    for name, value in spec.option_defaults.items():
        scope[f"option_{name}"] = value
    from .dispatch import _constant

    scope["constant"] = _constant
    # Named after this file, so tracebacks (and anomaly mode's creation traces, which skip
    # the engine's frames) place the generated lines in the engine.
    code = compile("\n".join(lines), f"{__file__}:<{spec.name} common call>", "exec")
    exec(code, scope)  # noqa: S102 - code built above from the op's own plan
    return scope["call"]  # type: ignore[no-any-return]


def _input_lines(n: int, fallback: str) -> list[str]:
    """Tensors to arrays; a Python number beside a float tensor takes the tensor's dtype."""
    if n == 1:
        return [
            "    if not isinstance(x0, Tensor):",
            f"        {fallback}",
            "    a0 = x0._data",
        ]
    if n == 3:
        return [
            "    if not (isinstance(x0, Tensor) and isinstance(x1, Tensor) and isinstance(x2, Tensor)):",
            f"        {fallback}",
            "    a0 = x0._data",
            "    a1 = x1._data",
            "    a2 = x2._data",
            "    if not (a0.dtype == a1.dtype == a2.dtype):",
            f"        {fallback}",
        ]
    return [
        "    if isinstance(x0, Tensor):",
        "        a0 = x0._data",
        "        if isinstance(x1, Tensor):",
        "            a1 = x1._data",
        "            if a0.dtype != a1.dtype:",
        f"                {fallback}",
        "        elif (type(x1) is float or type(x1) is int) and ((d := a0.dtype) in FLOATS or "
        "d.kind == 'f'):",
        "            a1 = constant(x1, a0.dtype)",
        "            x1 = None",
        "        else:",
        f"            {fallback}",
        "    elif isinstance(x1, Tensor) and (type(x0) is float or type(x0) is int):",
        "        a1 = x1._data",
        "        if not ((d := a1.dtype) in FLOATS or d.kind == 'f'):",
        f"            {fallback}",
        "        a0 = constant(x0, a1.dtype)",
        "        x0 = None",
        "    else:",
        f"        {fallback}",
    ]


def _options_text(spec: OpSpec) -> str:
    """The forward's default options as keyword arguments (literals inline, others by name)."""
    parts = []
    for name, value in spec.option_defaults.items():
        text = repr(value) if type(value) in _LITERALS else f"option_{name}"
        parts.append(f"{name}={text}")
    return "".join(", " + part for part in parts)


def _node_lines(spec: OpSpec, n: int) -> list[str]:
    """The node: edges, input shapes and dtypes (``_meta``), saved values (``save_plan``)."""
    # ``in FLOATS`` finds NumPy's own float dtypes by identity; ``kind`` (a new string per
    # read) answers for the rest (a byte-swapped float).
    lines = ["    if grad_mode.enabled and ((d := out.dtype) in FLOATS or d.kind == 'f'):"]
    # An input that may be a Python number (None here) in a binary call.
    maybe_number = n == 2
    for i in range(n):
        x, a = f"x{i}", f"a{i}"
        body = [
            f"e{i} = {x}._grad_fn",
            f"if e{i} is None:",
            f"    e{i} = {x} if {x}._requires_grad else None",
            f"    o{i} = 0",
            "else:",
            f"    o{i} = {x}._output_nr",
        ]
        if maybe_number:
            lines += [f"        if {x} is None:", f"            e{i} = None", f"            o{i} = 0",
                      "        else:"]  # fmt: skip
            lines += ["            " + line for line in body]
        else:
            lines += ["        " + line for line in body]
    wanted = " or ".join(f"e{i} is not None" for i in range(n))
    lines += [f"        if {wanted}:"]
    pad = "            "
    meta = []
    lines.append(pad + "shape = out.shape")
    for i in range(n):
        a = f"a{i}"
        if maybe_number:
            lines.append(pad + f"s{i} = None if x{i} is None else {a}.shape")
            lines.append(pad + f"d{i} = None if x{i} is None else {a}.dtype")
        else:
            lines.append(pad + f"s{i} = {a}.shape")
            lines.append(pad + f"d{i} = {a}.dtype")
        if n < 3:  # elementwise ops: the output's own shape where equal, one object fewer
            lines.append(pad + f"if s{i} == shape:")
            lines.append(pad + f"    s{i} = shape")
        meta += [f"s{i}", f"d{i}"]
    meta += ["shape", "out.dtype"]
    edges = ", ".join(f"e{i}, o{i}" for i in range(n))
    lines += [
        pad + "node = new(PrimitiveNode)",
        pad + f"node._edges = ({edges},)",
        pad + f"node._meta = ({', '.join(meta)},)",
        pad + "node._seq = next_sequence_number()",
        pad + "node.module_path = scope.path or None",
        pad + "node.hooks = None",
        pad + "node.spec = spec",
        pad + "node._options = OPTIONS",
        # A tuple, not a list: tuples come from CPython's free lists, which the collector
        # does not count, so a long forward triggers half as many collections (the chain).
        pad + f"node.saved = ({''.join(slot + ', ' for slot in _saved_slots(spec, maybe_number))})",
        pad + "t._grad_fn = node",
    ]
    return lines


def _saved_slots(spec: OpSpec, maybe_number: bool) -> list[str]:
    """The node's saved values, slot by slot (``x<i>``/``a<i>``: input ``i``'s tensor and
    array; ``t``/``out``: the output Tensor and array): one layout for the generated call and
    ``compile_save_values``. ``maybe_number``: an input may be a Python number (None)."""
    slots = []
    for kind, key in spec.save_plan:
        if kind == SAVED:
            x, a = f"x{key}", f"a{key}"
            if maybe_number:
                slots.append(
                    f"{x}, {a}, None if {x} is None else {x}._version_counter, "
                    f"0 if {x} is None else {x}._version_counter[0]"
                )
            else:
                slots.append(f"{x}, {a}, {x}._version_counter, {x}._version_counter[0]")
        elif kind == OUT:
            # A view's output shares its base's counter, which may have moved on already.
            slots.append("None, out, t._version_counter, t._version_counter[0]")
        elif kind == VALUE:
            if key[0] == "option":
                slots.append(f"OPTIONS[{key[1]!r}]")
            else:
                slots.append(f"a{key[1]}.shape")
        elif kind == RESIDUALS:
            slots.append("residuals")
        else:  # pragma: no cover - SAVED_LIST ops are not compiled
            raise AssertionError(kind)
    return slots


def compile_array_apply(spec: OpSpec) -> Any:
    """``PrimitiveNode.apply`` of a first-order backward for ``spec``, as straight-line code.

    The general ``apply`` interprets the rule's argument plan on every call; a first-order
    backward (nearly every backward) runs the same few lines per node, so they are generated
    once per op, as ``dataclasses`` generates ``__init__``: the version checks of the saved
    values, the rule called with the arrays, ``needs_input_grad`` and ``xp``, then each
    gradient checked against its input's shape and dtype (reduced and cast where it differs,
    by ``engine._reduce_to_input``). The result has one gradient (or None) per input.
    """
    from .engine import _count_error, _reduce_to_input, _reduced

    if spec.variadic or any(kind == SAVED_LIST for kind, _, _ in spec.arg_plan):
        return lambda node, grads: _reduced(node, node.apply_by_plan(grads, False), False)
    lines = [
        "def array_apply(node, grads):",
        "    saved = node.saved",
        "    if saved is None:",
        "        raise RuntimeError(FREED_MESSAGE)",
    ]
    args = []
    for kind, at, index in spec.arg_plan:
        if kind == GRAD:
            args.append("grads[0]")
        elif kind == SAVED or kind == OUT:
            lines += [
                f"    counter = saved[{at + 2}]",
                f"    if counter is not None and counter[0] != saved[{at + 3}]:",
                f"        raise modified_error(node, {index}, saved, {at}, {kind == OUT})",
            ]
            args.append(f"saved[{at + 1}]")
        elif kind == VALUE or kind == RESIDUALS:
            args.append(f"saved[{at}]")
        elif kind == NEEDS:
            lines.append("    edges = node._edges")
            flags = "".join(f"edges[{2 * i}] is not None, " for i in range(len(spec.tensor_params)))
            args.append(f"({flags})")
        else:  # XP
            args.append("ARRAY")
    n = len(spec.tensor_params)
    results = [f"r{i}" for i in range(n)]
    lines += [
        f"    result = rule({', '.join(args)})",
        "    if type(result) is not tuple and type(result) is not list:",
        "        result = (result,)",
        "    try:",
        f"        {', '.join(results)}, = result",
        "    except ValueError:",
        "        raise count_error(node, result) from None",
        "    meta = node._meta",
    ]
    if not any(kind == NEEDS for kind, _, _ in spec.arg_plan):
        lines.append("    edges = node._edges")  # else read for needs_input_grad above
    for i, r in enumerate(results):
        lines += [
            f"    if {r} is not None:",
            f"        if edges[{2 * i}] is None:",
            f"            {r} = None",
            f"        elif type({r}) is not ndarray or {r}.shape != meta[{2 * i}]:",
            f"            {r} = reduce_to_input(node, {i}, {r}, False)",
            # Identity first: NumPy's built-in dtypes are single objects, and ``!=`` is a call.
            f"        elif (d := {r}.dtype) is not meta[{2 * i + 1}] and d != meta[{2 * i + 1}]:",
            f"            {r} = {r}.astype(meta[{2 * i + 1}])",
        ]
    lines.append(f"    return ({', '.join(results)},)")
    scope = {"FREED_MESSAGE": FREED_MESSAGE, "modified_error": _modified_error,
             "ARRAY": ARRAY, "rule": spec.vjp_fn, "count_error": _count_error,
             "reduce_to_input": _reduce_to_input, "ndarray": np.ndarray}  # fmt: skip
    exec("\n".join(lines), scope)  # noqa: S102 - code built above from the op's own plan
    return scope["array_apply"]


def _save_values_general(spec: OpSpec, inputs: Sequence[Tensor | None], arrays: Sequence[Any],
                         options: dict, out: Tensor, out_array: np.ndarray,
                         residuals: Any) -> tuple[Any, ...]:  # fmt: skip
    """What a node keeps for its rule, by interpreting ``spec.save_plan`` (any op)."""
    saved: list[Any] = []
    for kind, key in spec.save_plan:
        if kind == SAVED:
            t = inputs[key]
            if t is None:
                saved += (None, arrays[key], None, 0)
            else:
                counter = t._version_counter
                saved += (t, arrays[key], counter, counter[0])
        elif kind == OUT:
            counter = out._version_counter
            saved += (None, out_array, counter, counter[0])
        elif kind == VALUE:
            if key[0] == "option":
                saved.append(options[key[1]])
            elif spec.variadic:
                saved.append([a.shape for a in arrays])
            else:
                saved.append(arrays[key[1]].shape)
        elif kind == SAVED_LIST:
            saved.append([SavedTensor(t, a) for t, a in zip(inputs, arrays)])
        else:  # RESIDUALS
            saved.append(residuals)
    return tuple(saved)


def compile_save_values(spec: OpSpec) -> Any:
    """What a node of ``spec`` keeps, as straight-line code (see ``compile_array_apply``).

    Every node of the op stores the same slots in the same order (``save_plan``); generating
    the few lines once per op saves interpreting the plan on every forward.
    """
    if spec.variadic or any(kind == SAVED_LIST for kind, _ in spec.save_plan):
        return lambda *args: _save_values_general(spec, *args)
    # The generated common call's own slot list, with its names bound from the arguments.
    lines = [
        "def save_values(inputs, arrays, OPTIONS, t, out, residuals):",
        *(f"    x{i}, a{i} = inputs[{i}], arrays[{i}]" for i in range(len(spec.tensor_params))),
        f"    return ({''.join(slot + ', ' for slot in _saved_slots(spec, maybe_number=True))})",
    ]
    scope: dict[str, Any] = {}
    exec("\n".join(lines), scope)  # noqa: S102 - code built above from the op's own plan
    return scope["save_values"]
