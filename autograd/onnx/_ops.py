"""The translation table: one small function per graph op, writing it as ONNX nodes.

A new op is one entry: ``@translates("op_name")`` on a function of :class:`Ctx` that reads
``ctx.options`` and ``ctx.input(i)`` and defines ``ctx.outputs``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._graph import Ctx, translates

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def onnx_type(dtype: Any) -> int:
    """The ONNX TensorProto element type of a NumPy (or autograd) dtype."""
    import onnx

    return int(onnx.helper.np_dtype_to_tensor_dtype(np.dtype(getattr(dtype, "np", dtype))))


def _operand(ctx: Ctx, i: int, dtype: np.dtype) -> str:
    """Input ``i`` in ``dtype``: constants are converted once, other values get a Cast."""
    value = ctx.value(i)
    if ctx.sources[i].kind == "const" and value is not None and value.dtype != dtype:
        return ctx.const(value.astype(dtype), "scalar" if value.ndim == 0 else "const")
    name = ctx.input(i)
    return name if ctx.dtype(i) == dtype else ctx.cast(name, dtype)


def _unary(op_type: str, **attrs: Any) -> Any:
    def translation(ctx: Ctx) -> None:
        ctx.emit1(op_type, [_operand(ctx, 0, ctx.out_dtype())], ctx.output(), **attrs)

    return translation


for _name, _op_type in {
    "neg": "Neg", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "sin": "Sin", "cos": "Cos",
    "tan": "Tan", "asin": "Asin", "acos": "Acos", "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh",
    "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "abs": "Abs", "erf": "Erf",
    "sign": "Sign", "floor": "Floor", "ceil": "Ceil", "round": "Round", "clone": "Identity",
}.items():  # fmt: skip
    translates(_name)(_unary(_op_type))


@translates("rsqrt")
def _rsqrt(ctx: Ctx) -> None:
    ctx.emit1("Reciprocal", [ctx.emit1("Sqrt", [_operand(ctx, 0, ctx.out_dtype())])], ctx.output())


@translates("expm1")
def _expm1(ctx: Ctx) -> None:
    dtype = ctx.out_dtype()
    e = ctx.emit1("Exp", [_operand(ctx, 0, dtype)])
    ctx.emit1("Sub", [e, ctx.const(np.ones((), dtype), "one")], ctx.output())


@translates("log1p")
def _log1p(ctx: Ctx) -> None:
    dtype = ctx.out_dtype()
    s = ctx.emit1("Add", [_operand(ctx, 0, dtype), ctx.const(np.ones((), dtype), "one")])
    ctx.emit1("Log", [s], ctx.output())


@translates("leaky_relu")
def _leaky_relu(ctx: Ctx) -> None:
    ctx.emit1("LeakyRelu", [ctx.input(0)], ctx.output(),
              alpha=float(ctx.options.get("negative_slope", 0.01)))  # fmt: skip


def _binary(op_type: str) -> Any:
    def translation(ctx: Ctx) -> None:
        dtype = ctx.out_dtype()
        ctx.emit1(op_type, [_operand(ctx, 0, dtype), _operand(ctx, 1, dtype)], ctx.output())

    return translation


for _name, _op_type in {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div",
                        "maximum": "Max", "minimum": "Min"}.items():  # fmt: skip
    translates(_name)(_binary(_op_type))


@translates("pow")
def _pow(ctx: Ctx) -> None:
    dtype = ctx.out_dtype()
    ctx.emit1("Pow", [_operand(ctx, 0, dtype), _operand(ctx, 1, dtype)], ctx.output())


@translates("clamp")
def _clamp(ctx: Ctx) -> None:
    dtype = ctx.out_dtype()
    low, high = ctx.options.get("min"), ctx.options.get("max")
    inputs = [_operand(ctx, 0, dtype)]
    inputs.append("" if low is None else ctx.const(np.asarray(low, dtype), "min"))
    inputs.append("" if high is None else ctx.const(np.asarray(high, dtype), "max"))
    ctx.emit1("Clip", inputs[:2] if high is None else inputs, ctx.output())


@translates("clamp_tensor")
def _clamp_tensor(ctx: Ctx) -> None:
    dtype = ctx.out_dtype()
    x = _operand(ctx, 0, dtype)
    if ctx.has(1):
        x = ctx.emit1("Max", [x, _operand(ctx, 1, dtype)])
    if ctx.has(2):
        x = ctx.emit1("Min", [x, _operand(ctx, 2, dtype)])
    ctx.emit1("Identity", [x], ctx.output())


@translates("where")
def _where(ctx: Ctx) -> None:
    dtype = ctx.out_dtype()
    condition = ctx.input(0)
    if ctx.dtype(0) != np.bool_:
        condition = ctx.cast(condition, np.bool_)
    ctx.emit1("Where", [condition, _operand(ctx, 1, dtype), _operand(ctx, 2, dtype)], ctx.output())


def _common_dtype(ctx: Ctx) -> np.dtype:
    """The dtype two operands are compared in: a 0-d constant follows the other operand."""
    dtypes = [ctx.dtype(i) for i in range(len(ctx.sources))
              if not (ctx.sources[i].kind == "const" and len(ctx.shape(i)) == 0)]  # fmt: skip
    return np.result_type(*(dtypes or [ctx.dtype(0)]))


def _comparison(op_type: str, negate: bool = False) -> Any:
    def translation(ctx: Ctx) -> None:
        dtype = _common_dtype(ctx)
        inputs = [_operand(ctx, i, dtype) for i in range(len(ctx.sources))]
        if negate:
            ctx.emit1("Not", [ctx.emit1(op_type, inputs)], ctx.output())
        else:
            ctx.emit1(op_type, inputs, ctx.output())

    return translation


for _name, _op_type in {"eq": "Equal", "gt": "Greater", "ge": "GreaterOrEqual", "lt": "Less",
                        "le": "LessOrEqual"}.items():  # fmt: skip
    translates(_name)(_comparison(_op_type))
translates("ne")(_comparison("Equal", negate=True))


def _logical(op_type: str) -> Any:
    def translation(ctx: Ctx) -> None:
        inputs = [_operand(ctx, i, np.dtype(np.bool_)) for i in range(len(ctx.sources))]
        ctx.emit1(op_type, inputs, ctx.output())

    return translation


for _name, _op_type in {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor",
                        "logical_not": "Not"}.items():  # fmt: skip
    translates(_name)(_logical(_op_type))


@translates("isnan")
def _isnan(ctx: Ctx) -> None:
    ctx.emit1("IsNaN", [ctx.input(0)], ctx.output())


@translates("isinf")
def _isinf(ctx: Ctx) -> None:
    ctx.emit1("IsInf", [ctx.input(0)], ctx.output())


@translates("isfinite")
def _isfinite(ctx: Ctx) -> None:
    x = ctx.input(0)
    bad = ctx.emit1("Or", [ctx.emit1("IsNaN", [x]), ctx.emit1("IsInf", [x])])
    ctx.emit1("Not", [bad], ctx.output())


@translates("argmax", "argmin")
def _argmax(ctx: Ctx) -> None:
    op_type = "ArgMax" if ctx.op == "argmax" else "ArgMin"
    dim, keepdim = ctx.options.get("dim"), bool(ctx.options.get("keepdim", False))
    x = ctx.input(0)
    if dim is None:
        x = ctx.emit1("Reshape", [x, ctx.ints([-1])])
        dim = 0
    axis = int(dim) % max(1, len(ctx.shape(0)))
    ctx.emit1(op_type, [x], ctx.output(), axis=axis, keepdims=int(keepdim),
              select_last_index=0)  # fmt: skip


@translates("to_dtype")
def _to_dtype(ctx: Ctx) -> None:
    ctx.emit1("Cast", [ctx.input(0)], ctx.output(), to=onnx_type(ctx.out_dtype()))


@translates("linear_addmm", "linear_mm")
def _linear(ctx: Ctx) -> None:
    """``x @ W^T (+ b)``: Gemm for a 2-D input, else MatMul with the transposed weight."""
    # Inputs as PyTorch's addmm/mm nodes order them: (bias, x, weight) and (x, weight).
    if ctx.op == "linear_addmm":
        bias, x, weight = ctx.input(0), ctx.input(1), ctx.input(2)
    else:
        bias, x, weight = None, ctx.input(0), ctx.input(1)
    first = 1 if bias is not None else 0
    if len(ctx.shape(first)) == 2:
        ctx.emit1("Gemm", [x, weight] + ([bias] if bias else []), ctx.output(), transB=1)
        return
    transposed = ctx.emit1("Transpose", [weight], perm=[1, 0])
    if bias is None:
        ctx.emit1("MatMul", [x, transposed], ctx.output())
        return
    ctx.emit1("Add", [ctx.emit1("MatMul", [x, transposed]), bias], ctx.output())


@translates("matmul")
def _matmul(ctx: Ctx) -> None:
    dtype = ctx.out_dtype()
    ctx.emit1("MatMul", [_operand(ctx, 0, dtype), _operand(ctx, 1, dtype)], ctx.output())


@translates("einsum")
def _einsum(ctx: Ctx) -> None:
    dtype = ctx.out_dtype()
    operands = [_operand(ctx, i, dtype) for i in range(len(ctx.sources))]
    ctx.emit1("Einsum", operands, ctx.output(), equation=str(ctx.options["equation"]))


@translates("reshape")
def _reshape(ctx: Ctx) -> None:
    """Reshape to the recorded output shape; sizes that follow a dynamic axis become 0 or -1."""
    target = list(ctx.out_shape())
    in_shape, twin_in = ctx.shape(0), tuple(ctx.twin.input_shapes[0])  # type: ignore[arg-type]
    twin_out = tuple(ctx.twin.output_meta[0][0])
    free = ctx.free_dims()
    inferred = []
    for d in free:
        if d < len(in_shape) and in_shape[d] == target[d] and twin_in[d] == twin_out[d]:
            target[d] = 0  # copy that size from the input, whatever it is
        else:
            inferred.append(d)
    if len(inferred) > 1:  # read the changing sizes from the inputs' shapes instead
        shape = ctx.shape_tensor(ctx.out_shape(), twin_out)
        if shape is None:
            raise ctx.fail(f"the target shape {tuple(ctx.out_shape())} has {len(inferred)} sizes "
                           "that follow the dynamic axes in a way no input axis shows")  # fmt: skip
        ctx.emit1("Reshape", [ctx.input(0), shape], ctx.output())
        return
    for d in inferred:
        target[d] = -1
    ctx.emit1("Reshape", [ctx.input(0), ctx.ints(target)], ctx.output())


@translates("permute")
def _permute(ctx: Ctx) -> None:
    ndim = len(ctx.shape(0))
    perm = [d % ndim for d in ctx.options["dims"]] if ndim else []
    ctx.emit1("Transpose", [ctx.input(0)], ctx.output(), perm=perm)


@translates("expand")
def _expand(ctx: Ctx) -> None:
    target = list(ctx.out_shape())
    in_shape = ctx.shape(0)
    offset = len(target) - len(in_shape)
    for d in ctx.free_dims():
        if d >= offset and in_shape[d - offset] == target[d]:
            target[d] = 1  # broadcasting keeps the input's (dynamic) size
        else:
            raise ctx.fail(f"expanding to {tuple(ctx.out_shape())} along a dynamic axis")
    ctx.emit1("Expand", [ctx.input(0), ctx.ints(target)], ctx.output())


@translates("repeat")
def _repeat(ctx: Ctx) -> None:
    repeats = [int(r) for r in ctx.options["repeats"]]
    x, ndim = ctx.input(0), len(ctx.shape(0))
    if len(repeats) > ndim:
        x = ctx.unsqueeze(x, list(range(len(repeats) - ndim)))
    ctx.emit1("Tile", [x, ctx.ints(repeats, "repeats")], ctx.output())


@translates("cat")
def _cat(ctx: Ctx) -> None:
    dtype = ctx.out_dtype()
    ndim = len(ctx.out_shape())
    parts = [_operand(ctx, i, dtype) for i in range(len(ctx.sources)) if ctx.shape(i) != (0,)]
    ctx.emit1("Concat", parts, ctx.output(), axis=int(ctx.options.get("dim", 0)) % ndim)


@translates("flip")
def _flip(ctx: Ctx) -> None:
    ndim = len(ctx.shape(0))
    axes = sorted({d % ndim for d in ctx.options["dims"]})
    n = len(axes)
    bounds = [ctx.ints([-1] * n, "starts"), ctx.ints([INT64_MIN] * n, "ends")]
    steps = [ctx.ints(axes, "axes"), ctx.ints([-1] * n, "steps")]
    ctx.emit1("Slice", [ctx.input(0), *bounds, *steps], ctx.output())


def _index_source(ctx: Ctx, array: np.ndarray, twin_array: Any, hint: str) -> str:
    """An index array held in the options: a model input if it is one, else a checked constant."""
    arg = ctx.graph.run.arg_of_array(array)
    if arg is not None:
        name = ctx.graph.input_names[arg]
        return name if array.dtype == np.int64 else ctx.cast(name, np.int64)
    if not isinstance(twin_array, np.ndarray) or not np.array_equal(array, twin_array):
        raise ctx.fail(f"its {hint} are computed from the model's inputs without a graph; "
                       "pass them as an input")  # fmt: skip
    return ctx.const(array.astype(np.int64), hint)


def _index_items(index: Any, ndim: int) -> list[Any]:
    """The index as one item per input axis (slices, ints, arrays) plus Nones for new axes."""
    items = list(index) if isinstance(index, tuple) else [index]
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    fill = [slice(None)] * max(0, ndim - consumed)
    if any(item is Ellipsis for item in items):
        at = next(k for k, item in enumerate(items) if item is Ellipsis)
        return items[:at] + fill + items[at + 1 :]
    return items + fill


def _as_index_array(item: Any) -> np.ndarray:
    return np.asarray(item.numpy() if hasattr(item, "numpy") else item)


@translates("getitem")
def _getitem(ctx: Ctx) -> None:
    """Basic indexing (ints, slices, None, ...) and one integer-array index: Slice/Gather."""
    ndim = len(ctx.shape(0))
    items = _index_items(ctx.options["index"], ndim)
    twin_items = _index_items(ctx.twin_options["index"], len(ctx.twin.input_shapes[0] or ()))
    x = ctx.input(0)
    starts, ends, axes, steps = [], [], [], []
    gathers: list[tuple[int, str]] = []
    news: list[int] = []
    arrays = 0
    axis = out_axis = 0
    for position, item in enumerate(items):
        if item is None:
            news.append(out_axis)
            out_axis += 1
        elif isinstance(item, slice):
            if item != slice(None):
                step = 1 if item.step is None else int(item.step)
                start = (0 if step > 0 else INT64_MAX) if item.start is None else int(item.start)
                stop = (
                    (INT64_MAX if step > 0 else INT64_MIN) if item.stop is None else int(item.stop)
                )
                starts.append(start)
                ends.append(stop)
                axes.append(axis)
                steps.append(step)
            axis += 1
            out_axis += 1
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            gathers.append((axis, ctx.const(np.asarray(int(item), np.int64), "index")))
            axis += 1
        else:
            array = _as_index_array(item)
            if array.dtype.kind not in "iu" or array.ndim != 1:
                raise ctx.fail(f"indexing with {type(item).__name__} of dtype {array.dtype} and "
                               f"shape {array.shape} has no ONNX mapping (use slices, ints or one "
                               "1-D integer index)")  # fmt: skip
            arrays += 1
            twin = _as_index_array(twin_items[position]) if position < len(twin_items) else None
            gathers.append((axis, _index_source(ctx, array, twin, "indices")))
            axis += 1
            out_axis += 1
    if arrays > 1 or (arrays and len(gathers) > arrays):
        raise ctx.fail("indexing with an integer array together with other integer indices has "
                       "no ONNX mapping")  # fmt: skip
    if axes:
        x = ctx.emit1("Slice", [x, ctx.ints(starts, "starts"), ctx.ints(ends, "ends"),
                                ctx.ints(axes, "axes"), ctx.ints(steps, "steps")])  # fmt: skip
    for gather_axis, which in sorted(gathers, key=lambda g: -g[0]):
        x = ctx.emit1("Gather", [x, which], axis=gather_axis)
    if news:
        x = ctx.unsqueeze(x, news)
    ctx.emit1("Identity", [x], ctx.output())


@translates("pad")
def _pad(ctx: Ctx) -> None:
    """``F.pad``: PyTorch lists (before, after) from the last dim; ONNX all befores, then afters."""
    pad = [int(p) for p in ctx.options["pad"]]
    ndim = len(ctx.shape(0))
    before, after = [0] * ndim, [0] * ndim
    for k in range(len(pad) // 2):
        before[ndim - 1 - k], after[ndim - 1 - k] = pad[2 * k], pad[2 * k + 1]
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(
        ctx.options.get("mode", "constant")
    )
    if mode is None:
        raise ctx.fail(f"padding mode {ctx.options.get('mode')!r} has no ONNX mapping")
    inputs = [ctx.input(0), ctx.ints(before + after, "pads")]
    if mode == "constant":
        inputs.append(
            ctx.const(np.asarray(ctx.options.get("value", 0.0), ctx.out_dtype()), "value")
        )
    ctx.emit1("Pad", inputs, ctx.output(), mode=mode)


def _axes(dim: Any, ndim: int) -> list[int] | None:
    if dim is None or dim == ():
        return None
    dims = [dim] if isinstance(dim, (int, np.integer)) else list(dim)
    return sorted(int(d) % ndim for d in dims) if ndim else []


def _reduction(op_type: str) -> Any:
    def translation(ctx: Ctx) -> None:
        ndim = len(ctx.shape(0))
        axes = _axes(ctx.options.get("dim"), ndim)
        keepdim = bool(ctx.options.get("keepdim", False))
        x = ctx.input(0)
        if ctx.dtype(0) != ctx.out_dtype():
            x = ctx.cast(x, ctx.out_dtype())
        if axes is None:
            axes = list(range(ndim))
        ctx.reduce(op_type, x, axes, keepdim, ctx.output())

    return translation


for _name, _op_type in {"sum": "ReduceSum", "amax": "ReduceMax", "amin": "ReduceMin",
                        "prod": "ReduceProd", "norm2": "ReduceL2"}.items():  # fmt: skip
    translates(_name)(_reduction(_op_type))


@translates("cumsum")
def _cumsum(ctx: Ctx) -> None:
    axis = int(ctx.options["dim"]) % max(1, len(ctx.shape(0)))
    ctx.emit1("CumSum", [ctx.input(0), ctx.const(np.asarray(axis, np.int64), "axis")], ctx.output())


@translates("gather")
def _gather(ctx: Ctx) -> None:
    """``torch.gather`` is ONNX GatherElements."""
    axis = int(ctx.options["dim"]) % len(ctx.shape(0))
    index = ctx.input(1)
    if ctx.dtype(1) != np.int64:
        index = ctx.cast(index, np.int64)
    ctx.emit1("GatherElements", [ctx.input(0), index], ctx.output(), axis=axis)


@translates("embedding_lookup")
def _embedding(ctx: Ctx) -> None:
    indices = np.asarray(ctx.options["indices"])
    source = _index_source(ctx, indices, ctx.twin_options.get("indices"), "indices")
    ctx.emit1("Gather", [ctx.input(0), source], ctx.output(), axis=0)


from . import _layers, _losses  # noqa: E402,F401  (these translations register themselves)
