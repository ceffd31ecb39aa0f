"""Finite-difference checks of analytic gradients (first and second order), in float64."""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .engine import grad as autograd_grad
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor

EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-3
KINK_JUMP = 1e-3  # one-sided slopes further apart than this mark a kink (smooth: ~eps * f'')
JUMP = 1e-3  # a step of eps that moves f by more than this (and not two steps out) is a jump


class GradcheckError(RuntimeError):
    """Raised when analytic and numerical gradients disagree."""


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Tensor]:
    out = fn(*inputs)
    items = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in items if isinstance(o, Tensor) and o.dtype.kind == "f"]


def numerical_jacobian(fn: Callable[..., Any], inputs: Sequence[Any], index: int, eps: float = EPS) -> list[np.ndarray]:
    """d(outputs)/d(inputs[index]) by central differences: one (out.size, in.size) matrix per output."""
    return [central for central, _, _ in _differences(fn, inputs, index, eps)]


def _differences(
    fn: Callable[..., Any], inputs: Sequence[Any], index: int, eps: float
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per output: central, right (forward) and left (backward) difference Jacobians."""
    x = inputs[index]
    flat = x._data.reshape(-1)
    with no_grad():
        base = [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
    columns: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = []
    with no_grad():
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            plus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            flat[k] = original - eps
            minus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            flat[k] = original
            columns.append(
                [
                    ((p - m) / (2 * eps), (p - b) / eps, (b - m) / eps)
                    for p, m, b in zip(plus, minus, base)
                ]
            )
    if not columns:
        return [(np.zeros((b.size, 0)),) * 3 for b in base]  # type: ignore[misc]
    return [
        tuple(np.stack([c[j][kind] for c in columns], axis=1) for kind in range(3))  # type: ignore[misc]
        for j in range(len(columns[0]))
    ]


def analytic_jacobian(fn: Callable[..., Any], inputs: Sequence[Any], index: int) -> list[np.ndarray]:
    """d(outputs)/d(inputs[index]) by reverse mode, one backward per output element."""
    x = inputs[index]
    with enable_grad():
        outputs = _outputs(fn, inputs)
    result = []
    for out in outputs:
        rows = np.zeros((out.numel(), x.numel()))
        if out.requires_grad:
            for k in range(out.numel()):
                seed = np.zeros(out.numel(), dtype=out.dtype)
                seed[k] = 1
                (g,) = autograd_grad(out, x, Tensor._from_array(seed.reshape(out.shape)),
                                     retain_graph=True, allow_unused=True)  # fmt: skip
                if g is not None:
                    rows[k] = np.asarray(g._data if hasattr(g, "_data") else g).reshape(-1)
        result.append(rows)
    return result


def _number(value: float) -> str:
    """A slope for a verdict: ``0``, ``1``, ``-0.5`` (finite-difference noise rounded off)."""
    value = round(float(value), 6) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{value:.4g}"


def _element(name: str, shape: tuple, flat_index: int) -> str:
    if not shape:
        return name
    position = np.unravel_index(flat_index, shape)
    return f"{name}[{', '.join(str(int(p)) for p in position)}]"


@dataclass
class Kink:
    """A point where a function is not differentiable, met by a gradient check.

    ``left``/``right`` are the one-sided difference slopes; the analytic value passes when it
    lies between them (it is then a valid one-sided derivative or a convex combination, what
    frameworks pick at kinks: relu'(0) = 0, ties split evenly, ...) and fails otherwise. At a
    jump (``floor``, ``sign``: ``jump`` is its size) the slopes are those of the two pieces,
    read one step further out.
    """

    input: str
    element: str
    value: float
    left: float
    right: float
    analytic: float
    output: int
    output_element: int
    ok: bool
    jump: float | None = None  # how far f jumps there (floor, sign), if it does
    # When f jumps on both sides (sign at 0, mode at a tie): f(x + eps) - f(x) and
    # f(x - eps) - f(x). No one-sided derivative exists there, so any analytic value is a
    # convention and passes (``convention``: it passed only for that reason).
    sides: tuple[float, float] | None = None
    convention: bool = False

    def __str__(self) -> str:
        where = "kink" if self.jump is None else "jump"
        text = (
            f"{where} at {self.element} = {float(self.value)!r}{self._by()}: one-sided slopes "
            f"{_number(self.left)} and {_number(self.right)}, analytic {_number(self.analytic)}"
        )
        if self.convention:
            return text + " (f jumps on both sides: no derivative there, any value is a convention)"
        return text if self.ok else text + " (outside them: a wrong gradient)"

    def _by(self) -> str:
        if self.jump is None:
            return ""
        if self.sides is not None:
            right, left = (_number(side) for side in self.sides)
            if float(right) * float(left) > 0:  # a spike: f(x) stands apart from both sides
                return f" (by {right} on both sides)" if right == left else (
                    f" (by {right} to the right and {left} to the left)"
                )
        return f" (by {_number(self.jump)})"


@dataclass
class Tie:
    """Equal elements that are kinks of the same output element, moved together.

    Each element's gradient may be valid on its own (between its one-sided slopes) while
    their sum is not: a max that gives the full gradient to every tied maximum. Moving the
    whole group by ``t`` changes the output at the one-sided slopes ``left`` and ``right``;
    the analytic directional derivative along that move, ``analytic`` (the sum of the group's
    gradients), must lie between them.
    """

    elements: list[str]
    value: float
    left: float
    right: float
    analytic: float
    output: int
    output_element: str
    ok: bool

    def __str__(self) -> str:
        slopes = (
            f"slope {_number(self.right)} (both sides)"
            if _number(self.left) == _number(self.right)
            else f"one-sided slopes {_number(self.left)} and {_number(self.right)}"
        )
        together = "them" if len(self.elements) == 2 else f"all {len(self.elements)}"
        text = (
            f"tie {' = '.join(self.elements)} = {float(self.value)!r}: moving {together} "
            f"together changes {self.output_element} at {slopes}, analytic total "
            f"{_number(self.analytic)}"
        )
        return text if self.ok else text + " (outside: the tied elements' gradients are miscounted)"


@dataclass
class GradientReport:
    """What a gradient check found: ``kinks`` met (each passed or failed), ``ties`` (equal
    kink elements checked together) and ``mismatches``."""

    kinks: list[Kink] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    ties: list[Tie] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def __str__(self) -> str:
        lines = list(self.mismatches)
        lines += [str(k) for k in self.kinks if not k.ok and str(k) not in " ".join(lines)]
        lines += [str(k) for k in self.kinks if k.ok]
        lines += [str(t) for t in self.ties if t.ok]
        return "\n".join(lines) if lines else "gradients match"


def _input_names(fn: Callable[..., Any], count: int) -> list[str]:
    names = [p.lstrip("*") for p in getattr(fn, "tensor_params", ())]
    owner = getattr(fn, "__self__", None)
    if len(names) != count and isinstance(owner, type) and hasattr(owner, "forward"):
        fn = owner.forward  # ``MyFunction.apply``: name inputs after forward(ctx, ...)
        names = _positional(fn)[1:]
    if len(names) != count:
        names = _positional(fn)
    if len(names) != count:
        names = [f"input{i}" for i in range(count)]
    return names


def _positional(fn: Callable[..., Any]) -> list[str]:
    try:
        return [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return []


def _steep(near: Any, far: Any, eps: float) -> Any:
    """Where a one-sided slope is a jump: f moves by more than ``JUMP`` over the step next to
    the point while the step beyond is not as steep (so a steep smooth function is no jump)."""
    return (np.abs(near) * eps > JUMP) & (np.abs(near - far) > 0.5 * np.abs(near))


def _jumps(
    fn: Callable[..., Any], inputs: Sequence[Any], index: int, eps: float, numeric: list
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None]:
    """Per output, where ``fn`` jumps (``floor`` at an integer, ``sign`` at 0): a mask, the
    right and left slopes of the two pieces, read between one and two steps out, and a mask of
    the jumps on both sides (None: no jump).

    A jump moves f by more than ``JUMP`` over one step while the next step out is not as steep,
    so a steep but smooth function is not taken for one.
    """
    near = [np.maximum(np.abs(right), np.abs(left)) * eps > JUMP for _, right, left in numeric]
    columns = sorted({int(c) for mask in near for c in np.nonzero(mask)[1]})
    if not columns:
        return [None] * len(numeric)
    x = inputs[index]
    flat = x._data.reshape(-1)
    far_right = [right.copy() for _, right, _ in numeric]
    far_left = [left.copy() for _, _, left in numeric]
    with no_grad():
        for k in columns:
            original = flat[k]
            values = []
            for step in (2, 1, -1, -2):
                flat[k] = original + step * eps
                values.append([o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)])
            flat[k] = original
            for j, (p2, p1, m1, m2) in enumerate(zip(*values)):
                far_right[j][:, k] = (p2 - p1) / eps
                far_left[j][:, k] = (m1 - m2) / eps
    result: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None] = []
    for j, (_, right, left) in enumerate(numeric):
        steep_right = _steep(right, far_right[j], eps)
        steep_left = _steep(left, far_left[j], eps)
        mask = steep_right | steep_left
        if not mask.any():
            result.append(None)
            continue
        result.append(
            (
                mask,
                np.where(mask, far_right[j], right),
                np.where(mask, far_left[j], left),
                steep_right & steep_left,
            )
        )
    return result


def check_gradients(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    *,
    kinks: bool = True,
    names: Sequence[str] | None = None,
) -> GradientReport:
    """Compare analytic gradients with finite differences, kink-aware; return a report.

    Where the one-sided differences disagree (by more than ``KINK_JUMP``), ``fn`` has a kink
    at that point: the analytic value passes if it lies between the two one-sided slopes
    (reported as a ``Kink``, e.g. "kink at x[2] = 0.0: one-sided slopes 0 and 1, analytic 0")
    and fails otherwise. Elsewhere the analytic value must match the central difference
    (``atol + rtol * |numerical|``). ``kinks=False`` checks every point like a smooth one.

    Where ``fn`` jumps on both sides of a point (``sign`` at 0, ``mode`` at a tie) no one-sided
    derivative exists, so any analytic value is a convention: reported, never a failure.
    Equal elements at kinks of the same output element (ties) are also moved together: the
    sum of their analytic gradients must lie between the one-sided slopes of that move
    (``report.ties``), which catches a tie's gradient counted once per tied element.

    Example:
        >>> import autograd as ag
        >>> from autograd.gradcheck import check_gradients
        >>> x = ag.tensor([-1.0, 0.0, 2.0], dtype=ag.float64, requires_grad=True)
        >>> print(check_gradients(lambda x: x.relu(), (x,)))
        kink at x[1] = 0.0: one-sided slopes 0 and 1, analytic 0
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    names = list(names) if names is not None else _input_names(fn, len(inputs))
    report = GradientReport()
    analytics: dict[int, list[np.ndarray]] = {}
    # (output, output element) -> the (input, element) pairs at a kink of it, for the tie check
    kinked: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        analytic = analytics[i] = analytic_jacobian(fn, inputs, i)
        numeric = _differences(fn, inputs, i, eps)
        jumps = _jumps(fn, inputs, i, eps, numeric) if kinks else [None] * len(numeric)
        for j, (a, (central, right, left)) in enumerate(zip(analytic, numeric)):
            close = np.isclose(a, central, rtol=rtol, atol=atol, equal_nan=False)
            jumped: np.ndarray | None = None
            both_sides = np.zeros(a.shape, dtype=bool)
            near_right, near_left = right, left
            if kinks:
                found = jumps[j]
                if found is not None:
                    jumped, right, left, both_sides = found
                jump = np.abs(right - left) > KINK_JUMP
                if jumped is not None:
                    jump |= jumped
                low, high = np.minimum(left, right), np.maximum(left, right)
                slack = atol + rtol * np.maximum(np.abs(low), np.abs(high))
                inside = (a >= low - slack) & (a <= high + slack)
                seen: dict[int, Kink] = {}
                for row, col in zip(*np.nonzero(jump)):
                    kinked.setdefault((j, int(row)), []).append((i, int(col)))
                    on_both_sides = bool(both_sides[row, col])
                    kink = Kink(
                        input=names[i],
                        element=_element(names[i], tuple(x.shape), int(col)),
                        value=float(x._data.reshape(-1)[col]),
                        left=float(left[row, col]),
                        right=float(right[row, col]),
                        analytic=float(a[row, col]),
                        output=j,
                        output_element=int(row),
                        ok=bool(inside[row, col]) or on_both_sides,
                        jump=(
                            float(central[row, col] * 2 * eps)
                            if jumped is not None and jumped[row, col]
                            else None
                        ),
                        sides=(
                            (float(near_right[row, col] * eps), float(-near_left[row, col] * eps))
                            if on_both_sides
                            else None
                        ),
                        convention=on_both_sides and not bool(inside[row, col]),
                    )
                    if int(col) not in seen or (seen[int(col)].ok and not kink.ok):
                        seen[int(col)] = kink
                report.kinks.extend(seen.values())
                close = np.where(jump, inside | both_sides, close)
            bad = ~close
            if bad.any():
                error = np.where(bad, np.abs(a - central), -1)
                row, col = np.unravel_index(np.argmax(error), error.shape)
                kink_note = ""
                if kinks and jump[row, col]:
                    kink_note = (
                        f"; {_element(names[i], tuple(x.shape), int(col))} is at a kink where the "
                        f"one-sided slopes are {_number(left[row, col])} and "
                        f"{_number(right[row, col])}: the analytic value is outside them"
                    )
                report.mismatches.append(
                    f"gradcheck: Jacobian mismatch for output {j} with respect to input {i} "
                    f"(input shape {tuple(x.shape)}): at output element {row}, input element "
                    f"{_element(names[i], tuple(x.shape), int(col))} analytic "
                    f"{a[row, col]:.8g} vs numerical {central[row, col]:.8g} "
                    f"({int(bad.sum())} of {bad.size} entries differ; atol={atol}, rtol={rtol})"
                    + kink_note
                )
    if kinks:
        _check_ties(fn, inputs, names, analytics, kinked, eps, atol, rtol, report)
    return report


def _check_ties(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    names: Sequence[str],
    analytics: dict[int, list[np.ndarray]],
    kinked: dict[tuple[int, int], list[tuple[int, int]]],
    eps: float,
    atol: float,
    rtol: float,
    report: GradientReport,
) -> None:
    """Check groups of equal elements at kinks of the same output element, moved together.

    The per-element check cannot see a tie's gradient counted twice: with ``max([1, 3, 3])``
    each tied element may get anything in [0, 1], but the gradients of both must add up to
    the slope of moving both together (1), which a greedy rule giving 1 to each (total 2)
    breaks. Along the group's direction the analytic derivative is the sum of the group's
    gradients; it must lie between the one-sided slopes, as at any kink.
    """
    groups: dict[tuple[tuple[int, int], ...], list[tuple[int, int]]] = {}
    for (j, row), cells in kinked.items():
        by_value: dict[float, list[tuple[int, int]]] = {}
        for i, col in cells:
            by_value.setdefault(float(inputs[i]._data.reshape(-1)[col]), []).append((i, col))
        for tied in by_value.values():
            if len(tied) > 1:
                groups.setdefault(tuple(sorted(set(tied))), []).append((j, row))
    if not groups:
        return
    with no_grad():
        outputs = _outputs(fn, inputs)
    base = [o._data.astype(np.float64).reshape(-1) for o in outputs]
    shapes = [tuple(o.shape) for o in outputs]
    for members, rows in groups.items():
        moved = {step: _moved_outputs(fn, inputs, members, step * eps) for step in (2, 1, -1, -2)}
        first: Tie | None = None
        for j, row in rows:
            right = (moved[1][j][row] - base[j][row]) / eps
            left = (base[j][row] - moved[-1][j][row]) / eps
            far_right = (moved[2][j][row] - moved[1][j][row]) / eps
            far_left = (moved[-1][j][row] - moved[-2][j][row]) / eps
            steep_right, steep_left = _steep(right, far_right, eps), _steep(left, far_left, eps)
            if steep_right and steep_left:
                continue  # f jumps on both sides: no derivative along the group to compare with
            right = far_right if steep_right else right
            left = far_left if steep_left else left
            analytic = float(sum(analytics[i][j][row, col] for i, col in members))
            low, high = min(left, right), max(left, right)
            slack = atol + rtol * max(abs(low), abs(high))
            value = float(inputs[members[0][0]]._data.reshape(-1)[members[0][1]])
            single = len(shapes) == 1 and not shapes[0]
            tie = Tie(
                elements=[_element(names[i], tuple(inputs[i].shape), col) for i, col in members],
                value=value,
                left=float(left),
                right=float(right),
                analytic=analytic,
                output=j,
                output_element="the output" if single else _output_element(j, shapes, row),
                ok=low - slack <= analytic <= high + slack,
            )
            if first is None or (first.ok and not tie.ok):
                first = tie
        if first is None:
            continue
        report.ties.append(first)
        if not first.ok:
            report.mismatches.append(f"gradcheck: {first}")


def _moved_outputs(
    fn: Callable[..., Any], inputs: Sequence[Any], members: Sequence[tuple[int, int]], by: float
) -> list[np.ndarray]:
    """The flat outputs of ``fn`` with every (input, element) in ``members`` moved by ``by``."""
    flats = [inputs[i]._data.reshape(-1) for i, _ in members]
    originals = [flat[col] for flat, (_, col) in zip(flats, members)]
    try:
        for flat, (_, col), original in zip(flats, members, originals):
            flat[col] = original + by
        with no_grad():
            return [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
    finally:
        for flat, (_, col), original in zip(flats, members, originals):
            flat[col] = original


def _output_element(j: int, shapes: Sequence[tuple], row: int) -> str:
    """``output[0, 1]`` (``output 1[0, 1]`` when ``fn`` returns several)."""
    name = "output" if len(shapes) == 1 else f"output {j}"
    return _element(name, shapes[j], row)


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    raise_exception: bool = True,
    *,
    kinks: bool = True,
) -> bool:
    """Compare analytic gradients of ``fn`` at ``inputs`` with central differences.

    Returns True, or raises (``raise_exception=True``) naming the input, the element,
    both values and the shapes for the worst mismatch. Use float64 inputs. At a kink (the
    one-sided differences disagree: relu at 0, a max with a tie) the analytic value passes
    when it lies between the one-sided slopes, and fails as a bug otherwise; see
    ``check_gradients`` for the report of the kinks met, ``kinks=False`` for a plain check.
    Tied elements at a kink are also checked together (their gradients must add up to the
    slope of moving them together).

    Example:
        >>> import autograd as ag
        >>> x = ag.randn(3, dtype=ag.float64, requires_grad=True)
        >>> ag.gradcheck(lambda t: (t.sin() * t).sum(), (x,))
        True
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {i} has dtype {x.dtype}; finite differences need float64 "
                "and will likely fail otherwise",
                stacklevel=2,
            )
    report = check_gradients(fn, inputs, eps, atol, rtol, kinks=kinks)
    if report.ok:
        return True
    if raise_exception:
        raise GradcheckError(report.mismatches[0])
    return False


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    raise_exception: bool = True,
    *,
    kinks: bool = True,
) -> bool:
    """Check second derivatives: gradcheck of ``x -> grad(fn(x), x, v, create_graph=True)``."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    with enable_grad():
        outputs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._from_array(rng.standard_normal(o.shape).astype(o.dtype)) for o in outputs]
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    differentiable = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivatives(*args: Any) -> tuple:
        with enable_grad():
            outs = _outputs(fn, args)
            pairs = [(o, g) for o, g in zip(outs, grad_outputs) if o.requires_grad]
            if not pairs:
                return ()
            grads = autograd_grad(
                [o for o, _ in pairs],
                [args[i] for i in differentiable],
                [g for _, g in pairs],
                create_graph=True,
                allow_unused=True,
            )
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs, eps, atol, rtol, raise_exception, kinks=kinks)
